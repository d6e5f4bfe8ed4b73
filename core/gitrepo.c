/* gitrepo.c - remote URLs, the checkout's origin, top and user name, commit
 * subjects: all of ciscope's libgit2 (see gitrepo.h). */
#include "gitrepo.h"

#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dynlib.h"

/* libgit2 is loaded by the first command that opens a repository (dynlib.h),
 * not by every process: lg holds exactly the functions called here, with
 * their own names and types; every call goes through it (lg.git_...). */
#define LG_FUNCS(X) X(git_commit_author) X(git_commit_free) X(git_commit_id) \
	X(git_commit_lookup) X(git_commit_lookup_prefix) X(git_commit_parent) X(git_commit_parent_id) \
	X(git_commit_parentcount) X(git_commit_summary) X(git_commit_time) X(git_commit_tree) \
	X(git_config_free) X(git_config_get_string) X(git_config_open_default) X(git_config_snapshot) \
	X(git_diff_free) X(git_diff_num_deltas) X(git_diff_tree_to_tree) X(git_error_last) \
	X(git_graph_descendant_of) X(git_libgit2_init) X(git_libgit2_shutdown) X(git_merge_base) \
	X(git_object_free) X(git_object_id) X(git_object_peel) X(git_odb_free) X(git_odb_object_data) \
	X(git_odb_object_free) X(git_odb_object_size) X(git_odb_object_type) X(git_odb_read) \
	X(git_oid_cmp) X(git_oid_cpy) X(git_oid_equal) X(git_oid_fromraw) X(git_oid_fromstr) \
	X(git_oid_fromstrn) X(git_oid_tostr) X(git_patch_free) X(git_patch_from_diff) \
	X(git_patch_get_delta) X(git_patch_get_hunk) X(git_patch_get_line_in_hunk) \
	X(git_patch_num_hunks) X(git_reference_name_to_id) \
	X(git_repository_config) X(git_repository_free) X(git_repository_is_shallow) \
	X(git_repository_odb) X(git_repository_open_ext) X(git_repository_path) \
	X(git_repository_workdir) X(git_revparse_single) X(git_revwalk_free) X(git_revwalk_hide) \
	X(git_revwalk_new) X(git_revwalk_next) X(git_revwalk_push) \
	X(git_revwalk_simplify_first_parent) X(git_revwalk_sorting) X(git_tree_free)
static struct {
	LG_FUNCS(DYNLIB_MEMBER)
} lg;
DYNLIB_LOADER(lg, LG_FUNCS, GIT2_SONAME, GIT2_PACKAGE)


/* "owner/name", "owner/name.git", "owner/name/" -> owner/name; GHE paths may
 * not have more components than that. */
static bool take_slug(const char *path, struct buf *slug)
{
	while (*path == '/')
		path++;
	size_t n = strcspn(path, "?#");
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n > 4 && !memcmp(path + n - 4, ".git", 4))
		n -= 4;
	const char *slash = memchr(path, '/', n);
	if (!slash || slash == path || slash + 1 == path + n || memchr(slash + 1, '/', (size_t)(path + n - slash - 1)))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = path[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '/'))
			return false;
	}
	/* "." and ".." are not names: the slug becomes a file name and a URL path */
	size_t owner = (size_t)(slash - path), name = n - owner - 1;
	if ((owner == 1 && path[0] == '.') || (owner == 2 && !memcmp(path, "..", 2)) ||
	    (name == 1 && slash[1] == '.') || (name == 2 && !memcmp(slash + 1, "..", 2)))
		return false;
	buf_reset(slug);
	buf_add(slug, path, n);
	return true;
}

/* libgit2 initialised once for the process and shut down at its exit,
 * each function's own init/shutdown pair then only counting: an init from
 * nothing reads and parses the system's CA certificates (libgit2 1.5 with
 * mbedTLS), ~55M instructions, and the metrics view paid it on every
 * thresholds lookup (valgrind, bench/metrics.sh's index). */
static void git_shutdown_at_exit(void)
{
	lg.git_libgit2_shutdown();
}

/* Load libgit2 (dynlib.h): without the library ciscope cannot read the
 * checkout, and saying so beats answering "not a git repository". */
static void git_first_init(void)
{
	if (!DYNLIB_LOAD(lg))
		die("%s", lg_lib.error);
	lg.git_libgit2_init();
	atexit(git_shutdown_at_exit);
}

/* Load libgit2 if not yet and initialise it (paired with
 * lg.git_libgit2_shutdown()) */
static void git_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, git_first_init);
	lg.git_libgit2_init();
}

bool gitrepo_parse_remote(const char *url, struct buf *slug, struct buf *host)
{
	const char *p = strstr(url, "://");
	const char *h, *path;
	if (p) {
		/* network schemes only: file:// and local paths name no owner */
		size_t scheme = (size_t)(p - url);
		if (!((scheme == 5 && !strncmp(url, "https", 5)) || (scheme == 4 && !strncmp(url, "http", 4)) ||
		      (scheme == 3 && !strncmp(url, "ssh", 3)) || (scheme == 3 && !strncmp(url, "git", 3)) ||
		      (scheme == 7 && !strncmp(url, "git+ssh", 7))))
			return false;
		h = p + 3;
		const char *at = strchr(h, '@');
		const char *sl = strchr(h, '/');
		if (at && (!sl || at < sl))
			h = at + 1;
		if (!sl || sl == h)
			return false;
		path = sl;
		if (host) {
			size_t hn = (size_t)(sl - h);
			const char *colon = memchr(h, ':', hn);
			buf_reset(host);
			buf_add(host, h, colon ? (size_t)(colon - h) : hn);
		}
	} else {
		/* scp-like: [user@]host:owner/name.git */
		const char *colon = strchr(url, ':');
		if (!colon || strchr(url, '/') < colon)
			return false;
		h = url;
		const char *at = strchr(url, '@');
		if (at && at < colon)
			h = at + 1;
		if (h == colon)
			return false;
		if (host) {
			buf_reset(host);
			buf_add(host, h, (size_t)(colon - h));
		}
		path = colon + 1;
	}
	return take_slug(path, slug);
}

bool gitrepo_origin_slug(const char *dir, struct buf *slug, struct buf *host)
{
	/* remote.origin.url read from the configuration, not through
	 * git_remote_lookup(): libgit2 1.5 leaks pcre2 match data there (seen
	 * by LeakSanitizer in every command that names the repository) */
	git_init();
	git_repository *repo = NULL;
	git_config *cfg = NULL, *snap = NULL;
	bool ok = false;
	const char *url = NULL;
	if (lg.git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) == 0 &&
	    lg.git_repository_config(&cfg, repo) == 0 && lg.git_config_snapshot(&snap, cfg) == 0 &&
	    lg.git_config_get_string(&url, snap, "remote.origin.url") == 0 && url)
		ok = gitrepo_parse_remote(url, slug, host);
	lg.git_config_free(snap);
	lg.git_config_free(cfg);
	lg.git_repository_free(repo);
	lg.git_libgit2_shutdown();
	return ok;
}

/* --- the origin's slug, remembered ----------------------------------------------- */
#define ORIGIN_CACHE_MAGIC "ciscope-origin 1"

/* One line of state for path: "s dev ino size mtime ctime path" or "a path". */
static void origin_state(struct buf *b, const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) == 0)
		buf_addf(b, "s %llu %llu %lld %lld.%09ld %lld.%09ld %s\n", (unsigned long long)sb.st_dev,
			 (unsigned long long)sb.st_ino, (long long)sb.st_size,
			 (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
			 (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec, path);
	else
		buf_addf(b, "a %s\n", path);
}

static bool origin_env_steers(void)
{
	static const char *const vars[] = {
		"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
		"GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG", "GIT_CONFIG_GLOBAL",
		"GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_COUNT",
		"GIT_CONFIG_PARAMETERS", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]))
			return true;
	return false;
}

/* The configuration files libgit2 reads besides the repository's own. */
static void origin_global_states(struct buf *b)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct buf p = BUF_INIT;
	if (home && *home) {
		buf_addf(&p, "%s/.gitconfig", home);
		origin_state(b, p.data);
	}
	buf_reset(&p);
	if (xdg && *xdg)
		buf_addf(&p, "%s/git/config", xdg);
	else if (home && *home)
		buf_addf(&p, "%s/.config/git/config", home);
	if (p.len)
		origin_state(b, p.data);
	origin_state(b, "/etc/gitconfig");
	buf_release(&p);
}

/* The state of .git and HEAD in every directory from cwd up to /. */
static void origin_walk_states(struct buf *b, const char *cwd)
{
	struct buf d = BUF_INIT, p = BUF_INIT;
	buf_adds(&d, cwd);
	for (;;) {
		while (d.len > 1 && d.data[d.len - 1] == '/')
			d.data[--d.len] = '\0';
		const char *sep = d.len > 1 ? "/" : "";
		buf_reset(&p);
		buf_addf(&p, "%s%s.git", d.data, sep);
		origin_state(b, p.data);
		buf_reset(&p);
		buf_addf(&p, "%s%sHEAD", d.data, sep);
		origin_state(b, p.data);
		if (d.len <= 1)
			break;
		char *slash = strrchr(d.data, '/');
		d.len = slash && slash != d.data ? (size_t)(slash - d.data) : 1;
		d.data[d.len] = '\0';
	}
	buf_release(&d);
	buf_release(&p);
}

/* Does a configuration file pull in others? (then its answer is not kept) */
static bool origin_config_includes(const char *path)
{
	struct buf t = BUF_INIT;
	struct cs_err e;
	bool inc = false;
	if (file_read_all(path, 1 << 20, &t, &e) == 0) {
		for (size_t i = 0; i < t.len; i++)
			if (t.data[i] == '[' && !strncasecmp(t.data + i + 1, "include", 7))
				inc = true;
	} else if (path_is_file(path)) {
		inc = true; /* unreadable or too large: do not trust it */
	}
	buf_release(&t);
	return inc;
}

static char *origin_cache_path(const char *cache_root, const char *cwd)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *c = (const unsigned char *)cwd; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return xasprintf("%s/origin/%016llx", cache_root, (unsigned long long)h);
}

/* The slug libgit2 gives, and the states it depends on into *deps (left
 * empty when the answer must not be kept). */
static bool origin_probe(const char *cwd, struct buf *slug, struct buf *deps)
{
	git_init();
	git_repository *repo = NULL;
	git_config *cfg = NULL, *snap = NULL;
	bool ok = false, keep = true;
	const char *url = NULL;
	buf_reset(deps);
	/* up to / whatever discovery finds, and before it: a .git made
	 * meanwhile leaves a state that no longer matches */
	origin_walk_states(deps, cwd);
	int orc = lg.git_repository_open_ext(&repo, ".", 0, NULL);
	if (orc == 0) {
		const char *wd = lg.git_repository_workdir(repo);
		const char *gd = lg.git_repository_path(repo);
		if (!wd || !gd) {
			keep = false; /* bare: discovery rules this walk does not mirror */
		} else {
			struct buf top = BUF_INIT, p = BUF_INIT, common = BUF_INIT;
			buf_adds(&top, wd);
			while (top.len > 1 && top.data[top.len - 1] == '/')
				top.data[--top.len] = '\0';
			if (strncmp(cwd, top.data, top.len) ||
			    (cwd[top.len] && cwd[top.len] != '/' && top.len > 1))
				keep = false; /* the work tree is not above us (symlinks) */
			static const char *const own[] = {"config", "config.worktree", "commondir"};
			for (size_t i = 0; i < 3; i++) {
				buf_reset(&p);
				buf_addf(&p, "%s%s", gd, own[i]);
				origin_state(deps, p.data);
				if (i == 0 && origin_config_includes(p.data))
					keep = false;
				if (i == 1 && origin_config_includes(p.data))
					keep = false;
			}
			/* a linked work tree shares the main repository's config */
			struct cs_err e;
			if (file_read_all(p.data, 4096, &common, &e) == 0) {
				while (common.len && (common.data[common.len - 1] == '\n' ||
						      common.data[common.len - 1] == '\r'))
					common.data[--common.len] = '\0';
				buf_reset(&p);
				if (common.len && common.data[0] == '/')
					buf_addf(&p, "%s/config", common.data);
				else
					buf_addf(&p, "%s%s/config", gd, common.data);
				origin_state(deps, p.data);
				if (origin_config_includes(p.data))
					keep = false;
			}
			buf_release(&top);
			buf_release(&p);
			buf_release(&common);
		}
		/* every state is taken before the configuration is read: a change
		 * in between leaves a state that no longer matches, never a stale
		 * answer kept as fresh */
		origin_global_states(deps);
		if (lg.git_repository_config(&cfg, repo) == 0 &&
		    lg.git_config_snapshot(&snap, cfg) == 0 &&
		    lg.git_config_get_string(&url, snap, "remote.origin.url") == 0 && url)
			ok = gitrepo_parse_remote(url, slug, NULL);
	} else {
		/* "none" is kept only when there is no repository, not when one
		 * could not be opened (its owner, damage) */
		keep = orc == GIT_ENOTFOUND;
	}
	lg.git_config_free(snap);
	lg.git_config_free(cfg);
	lg.git_repository_free(repo);
	lg.git_libgit2_shutdown();
	if (!keep)
		buf_reset(deps);
	return ok;
}

bool gitrepo_origin_slug_cached(const char *cache_root, struct buf *slug)
{
	char cwd[4096];
	if (!cache_root || !*cache_root || origin_env_steers() || !getcwd(cwd, sizeof(cwd)) ||
	    strchr(cwd, '\n'))
		return gitrepo_origin_slug(NULL, slug, NULL);
	char *path = origin_cache_path(cache_root, cwd);
	struct buf old = BUF_INIT, deps = BUF_INIT;
	struct cs_err e;
	bool ok = false;
	/* the kept file: magic, cwd, slug or "-", then the states */
	if (file_read_all(path, 1 << 20, &old, &e) == 0 && old.len) {
		char *nl1 = strchr(old.data, '\n');
		char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
		char *nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL;
		if (nl3 && (size_t)(nl1 - old.data) == strlen(ORIGIN_CACHE_MAGIC) &&
		    !strncmp(old.data, ORIGIN_CACHE_MAGIC, strlen(ORIGIN_CACHE_MAGIC)) &&
		    (size_t)(nl2 - nl1 - 1) == strlen(cwd) && !strncmp(nl1 + 1, cwd, strlen(cwd))) {
			/* recompute the states of the same paths and compare */
			struct buf now = BUF_INIT;
			for (char *l = nl3 + 1; *l;) {
				char *end = strchr(l, '\n');
				if (!end)
					break;
				*end = '\0';
				const char *p = l[0] == 'a' ? l + 2 : NULL;
				if (l[0] == 's') { /* the path follows the sixth space */
					p = l;
					for (int k = 0; k < 6 && p; k++)
						p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
				}
				if (p && *p)
					origin_state(&now, p);
				*end = '\n';
				l = end + 1;
			}
			if (now.len && now.len == strlen(nl3 + 1) && !memcmp(now.data, nl3 + 1, now.len)) {
				*nl3 = '\0';
				const char *s = nl2 + 1;
				if (strcmp(s, "-")) {
					buf_reset(slug);
					buf_adds(slug, s);
					ok = true;
				}
				buf_release(&now);
				goto out;
			}
			buf_release(&now);
		}
	}
	ok = origin_probe(cwd, slug, &deps);
	if (deps.len && (!ok || !strchr(slug->data, '\n'))) {
		struct buf t = BUF_INIT, dir = BUF_INIT, tmp = BUF_INIT;
		buf_addf(&t, "%s\n%s\n%s\n", ORIGIN_CACHE_MAGIC, cwd, ok ? slug->data : "-");
		buf_add(&t, deps.data, deps.len);
		buf_addf(&dir, "%s/origin", cache_root);
		buf_addf(&tmp, "%s.%ld", path, (long)getpid());
		int fd = -1;
		if (mkdir_p(dir.data, 0700, &e) == 0 &&
		    (fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
			bool w = write(fd, t.data, t.len) == (ssize_t)t.len;
			if (close(fd) == 0 && w && rename(tmp.data, path) == 0)
				fd = -1;
			else
				unlink(tmp.data);
		}
		buf_release(&t);
		buf_release(&dir);
		buf_release(&tmp);
	}
out:
	free(path);
	buf_release(&old);
	buf_release(&deps);
	return ok;
}

bool gitrepo_workdir(const char *dir, struct buf *out)
{
	git_init();
	git_repository *repo = NULL;
	bool ok = false;
	if (lg.git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) == 0) {
		const char *wd = lg.git_repository_workdir(repo);
		if (wd) {
			buf_reset(out);
			buf_adds(out, wd);
			ok = true;
		}
	}
	lg.git_repository_free(repo);
	lg.git_libgit2_shutdown();
	return ok;
}

/* --- commits ------------------------------------------------------------------ */
struct subject_entry {
	char sha[41];   /* "" when the slot is empty */
	char *subject;  /* NULL: not in the repository */
};

struct gitrepo {
	git_repository *repo;
	struct subject_entry cache[GITREPO_CACHE];
};

struct gitrepo *gitrepo_open(const char *dir)
{
	git_init();
	git_repository *repo = NULL;
	if (lg.git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) != 0) {
		lg.git_libgit2_shutdown();
		return NULL;
	}
	struct gitrepo *g = xcalloc(1, sizeof(*g));
	g->repo = repo;
	return g;
}

void gitrepo_close(struct gitrepo *g)
{
	if (!g)
		return;
	for (int i = 0; i < GITREPO_CACHE; i++)
		free(g->cache[i].subject);
	lg.git_repository_free(g->repo);
	free(g);
	lg.git_libgit2_shutdown();
}

static char *lookup_subject(git_repository *repo, const char *sha, size_t n)
{
	git_oid oid;
	git_commit *commit = NULL;
	if (lg.git_oid_fromstrn(&oid, sha, n) != 0)
		return NULL;
	int rc = n == GIT_OID_HEXSZ ? lg.git_commit_lookup(&commit, repo, &oid)
				    : lg.git_commit_lookup_prefix(&commit, repo, &oid, n);
	if (rc != 0)
		return NULL;
	const char *summary = lg.git_commit_summary(commit);
	char *s = summary ? xstrdup(summary) : xstrdup("");
	lg.git_commit_free(commit);
	return s;
}

bool gitrepo_subject(struct gitrepo *g, const char *sha, struct buf *out)
{
	if (!g || !sha)
		return false;
	size_t n = strlen(sha);
	if (n < 7 || n > GIT_OID_HEXSZ)
		return false;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		char c = sha[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
		h = (h ^ (unsigned char)c) * 16777619u;
	}
	struct subject_entry *e = &g->cache[h % GITREPO_CACHE];
	if (strcmp(e->sha, sha) != 0) {
		free(e->subject);
		e->subject = lookup_subject(g->repo, sha, n);
		memcpy(e->sha, sha, n + 1);
	}
	if (!e->subject)
		return false;
	buf_reset(out);
	buf_adds(out, e->subject);
	buf_cstr(out);
	return true;
}

/* --- the checkout -------------------------------------------------------------- */
char *gitrepo_top(const char *dir)
{
	char *top = NULL;
	git_init();
	git_repository *repo = NULL;
	if (lg.git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) == 0) {
		const char *wd = lg.git_repository_workdir(repo);
		if (wd)
			top = xstrdup(wd);
		lg.git_repository_free(repo);
	}
	lg.git_libgit2_shutdown();
	return top;
}

/* A .git in folder d that makes it a checkout's top: a folder holding HEAD,
 * or a file naming one ("gitdir: ...", a linked worktree or submodule). */
static bool has_dot_git(const char *d)
{
	char *g = path_join(d, ".git");
	bool yes = false;
	struct stat sb;
	if (stat(g, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			char *head = path_join(g, "HEAD");
			yes = path_is_file(head);
			free(head);
		} else if (S_ISREG(sb.st_mode)) {
			char head[8] = {0};
			FILE *f = fopen(g, "rb");
			yes = f && fread(head, 1, 7, f) == 7 && !memcmp(head, "gitdir:", 7);
			if (f)
				fclose(f);
		}
	}
	free(g);
	return yes;
}

char *gitrepo_find_top(const char *dir)
{
	char *d = realpath(dir ? dir : ".", NULL);
	struct stat start;
	if (!d || stat(d, &start) < 0) {
		free(d);
		return NULL;
	}
	for (;;) {
		if (has_dot_git(d)) {
			char *top = xasprintf("%s%s", d, str_ends(d, "/") ? "" : "/");
			free(d);
			return top;
		}
		char *slash = strrchr(d, '/');
		struct stat up;
		if (!slash || slash[1] == 0)
			break; /* "/" looked at */
		if (slash == d)
			slash[1] = 0; /* the root */
		else
			*slash = 0;
		/* as libgit2 by default, not into another file system */
		if (stat(d, &up) < 0 || up.st_dev != start.st_dev)
			break;
	}
	free(d);
	return NULL;
}

void gitrepo_user_name(struct buf *out)
{
	buf_reset(out);
	git_init();
	git_repository *repo = NULL;
	git_config *cfg = NULL, *snap = NULL;
	if (lg.git_repository_open_ext(&repo, ".", 0, NULL) == 0) {
		if (lg.git_repository_config(&cfg, repo) != 0)
			cfg = NULL;
	} else if (lg.git_config_open_default(&cfg) != 0) {
		cfg = NULL;
	}
	const char *v = NULL;
	if (cfg && lg.git_config_snapshot(&snap, cfg) == 0 &&
	    lg.git_config_get_string(&v, snap, "user.name") == 0 && v && *v)
		buf_adds(out, v);
	lg.git_config_free(snap);
	lg.git_config_free(cfg);
	lg.git_repository_free(repo);
	lg.git_libgit2_shutdown();
	if (!out->len) {
		const char *u = getenv("USER");
		buf_adds(out, u && *u ? u : "unknown");
	}
	buf_cstr(out);
}

/* --- history ------------------------------------------------------------------ */
static bool resolve_commit(git_repository *repo, const char *sha, git_oid *oid)
{
	size_t n = sha ? strlen(sha) : 0;
	if (n < 4 || n > GIT_OID_HEXSZ || lg.git_oid_fromstrn(oid, sha, n) != 0)
		return false;
	git_commit *c = NULL;
	int rc = n == GIT_OID_HEXSZ ? lg.git_commit_lookup(&c, repo, oid)
				    : lg.git_commit_lookup_prefix(&c, repo, oid, n);
	if (rc != 0)
		return false;
	lg.git_oid_cpy(oid, lg.git_commit_id(c));
	lg.git_commit_free(c);
	return true;
}

int gitrepo_first_parents(struct gitrepo *g, const char *sha, bool with_self, int max,
			  char (**out)[GITREPO_SHA_LEN + 1])
{
	*out = NULL;
	git_oid oid;
	if (!g || !resolve_commit(g->repo, sha, &oid))
		return -1;
	git_commit *c = NULL;
	if (lg.git_commit_lookup(&c, g->repo, &oid) != 0)
		return -1;
	char(*ids)[GITREPO_SHA_LEN + 1] = xcalloc((size_t)MAX(max, 1), sizeof(*ids));
	int n = 0;
	if (with_self && n < max)
		lg.git_oid_tostr(ids[n++], GITREPO_SHA_LEN + 1, lg.git_commit_id(c));
	while (n < max && lg.git_commit_parentcount(c) > 0) {
		git_commit *p = NULL;
		if (lg.git_commit_parent(&p, c, 0) != 0)
			break; /* a shallow clone ends here */
		lg.git_commit_free(c);
		c = p;
		lg.git_oid_tostr(ids[n++], GITREPO_SHA_LEN + 1, lg.git_commit_id(c));
	}
	lg.git_commit_free(c);
	*out = ids;
	return n;
}

static int cmp_oid(const void *a, const void *b)
{
	return lg.git_oid_cmp(a, b);
}

bool gitrepo_fork_point(struct gitrepo *g, const char *sha, const char *branch,
			char out[GITREPO_SHA_LEN + 1])
{
	git_oid a, b, base;
	if (!g || !branch || !resolve_commit(g->repo, sha, &a))
		return false;
	const char *prefixes[] = {"refs/heads/", "refs/remotes/origin/"};
	bool have = false;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes) && !have; i++) {
		char *ref = xasprintf("%s%s", prefixes[i], branch);
		have = lg.git_reference_name_to_id(&b, g->repo, ref) == 0;
		free(ref);
	}
	if (!have)
		return false;
	/* the branch's first-parent history, sorted for lookups */
	git_oid *chain = xmalloc(GITREPO_FORK_WALK * sizeof(*chain));
	size_t n = 0;
	git_commit *c = NULL;
	if (lg.git_commit_lookup(&c, g->repo, &b) == 0) {
		chain[n++] = *lg.git_commit_id(c);
		while (n < GITREPO_FORK_WALK && lg.git_commit_parentcount(c) > 0) {
			git_commit *p = NULL;
			if (lg.git_commit_parent(&p, c, 0) != 0)
				break;
			lg.git_commit_free(c);
			c = p;
			chain[n++] = *lg.git_commit_id(c);
		}
	}
	bool complete = c && lg.git_commit_parentcount(c) == 0;
	lg.git_commit_free(c);
	qsort(chain, n, sizeof(*chain), cmp_oid);
	bool found = false;
	c = NULL;
	if (lg.git_commit_lookup(&c, g->repo, &a) == 0) {
		for (int k = 0; k < GITREPO_FORK_WALK; k++) {
			if (bsearch(lg.git_commit_id(c), chain, n, sizeof(*chain), cmp_oid)) {
				lg.git_oid_tostr(out, GITREPO_SHA_LEN + 1, lg.git_commit_id(c));
				found = true;
				break;
			}
			git_commit *p = NULL;
			if (lg.git_commit_parentcount(c) == 0 || lg.git_commit_parent(&p, c, 0) != 0)
				break;
			lg.git_commit_free(c);
			c = p;
		}
	}
	lg.git_commit_free(c);
	free(chain);
	if (found)
		return true;
	if (complete || lg.git_merge_base(&base, g->repo, &a, &b) != 0)
		return false;
	lg.git_oid_tostr(out, GITREPO_SHA_LEN + 1, &base);
	return true;
}

/* --- history ------------------------------------------------------------------- */
void gitrepo_commit_release(struct gitrepo_commit *c)
{
	free(c->subject);
	free(c->author);
	c->subject = c->author = NULL;
}

void gitrepo_commits_free(struct gitrepo_commit *c, int n)
{
	for (int i = 0; i < n; i++)
		gitrepo_commit_release(&c[i]);
	free(c);
}

static bool peel_commit(git_object *obj, git_oid *out)
{
	git_object *peeled = NULL;
	if (lg.git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0)
		return false;
	lg.git_oid_cpy(out, lg.git_object_id(peeled));
	lg.git_object_free(peeled);
	return true;
}

bool gitrepo_resolve(struct gitrepo *g, const char *rev, char out[41])
{
	if (!g || !rev || !*rev || rev[0] == '-')
		return false;
	git_oid oid;
	bool ok = false;
	/* a branch name first: "abc1234" may be both, and a branch the user
	 * names wins, as with git */
	const char *prefixes[] = {"refs/heads/", "refs/remotes/origin/", ""};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes) && !ok; i++) {
		char *name = xasprintf("%s%s", prefixes[i], rev);
		git_object *obj = NULL;
		if (lg.git_revparse_single(&obj, g->repo, name) == 0) {
			ok = peel_commit(obj, &oid);
			lg.git_object_free(obj);
		}
		free(name);
	}
	if (ok)
		lg.git_oid_tostr(out, 41, &oid);
	return ok;
}

static void fill_commit(struct gitrepo_commit *c, git_commit *commit)
{
	lg.git_oid_tostr(c->sha, sizeof(c->sha), lg.git_commit_id(commit));
	const char *s = lg.git_commit_summary(commit);
	c->subject = xstrdup(s ? s : "");
	const git_signature *a = lg.git_commit_author(commit);
	c->author = xstrdup(a && a->name ? a->name : "");
	c->time_ms = (int64_t)lg.git_commit_time(commit) * 1000;
	c->n_parents = (int)lg.git_commit_parentcount(commit);
}

/* --- the first-parent chain cache ---------------------------------------------------
 * The first-parent history of a commit never changes (ids are hashes), so
 * the walks are kept: $GIT_DIR/ciscope-first-parent.cache holds one chain,
 * a tip and its first parents, newest first, as raw 20-byte ids after a
 * magic line and a flag byte ('R': the chain reaches the root, '-': it ends
 * at a commit whose parents were not walked yet). It is built lazily: a walk
 * goes only as far as it needs (from bad back to good, not to the root),
 * and a later walk that needs more extends the chain from its end. A walk
 * whose start is on the chain reads it instead of the objects; one that is
 * not walks until it joins the chain, reaches its stop or the root, and the
 * chain becomes the new one. Shallow clones (whose history grows when
 * deepened) are never cached; a file that is not a whole chain is ignored,
 * one whose spot-checked links (nine per read) do not hold in the object
 * database is dropped; writing is best effort (temp file, rename). */
#define FP_MAGIC "ciscope first-parent 2\n"
#define FP_MAX_BYTES (256u << 20)

struct fp_chain {
	git_oid *v;
	size_t n, alloc;
	bool complete;  /* the last id is the root */
	uint32_t *slot; /* open addressing: index + 1, 0 empty */
	size_t mask;
};

static uint32_t fp_hash(const git_oid *id)
{
	uint32_t h;
	memcpy(&h, id->id, sizeof(h));
	return h;
}

static void fp_index(struct fp_chain *c)
{
	free(c->slot);
	size_t size = 16;
	while (size < c->n * 2)
		size *= 2;
	c->mask = size - 1;
	c->slot = xcalloc(size, sizeof(*c->slot));
	for (size_t i = 0; i < c->n; i++) {
		size_t k = fp_hash(&c->v[i]) & c->mask;
		while (c->slot[k])
			k = (k + 1) & c->mask;
		c->slot[k] = (uint32_t)(i + 1);
	}
}

static long fp_find(const struct fp_chain *c, const git_oid *id)
{
	if (!c->n)
		return -1;
	for (size_t k = fp_hash(id) & c->mask; c->slot[k]; k = (k + 1) & c->mask)
		if (lg.git_oid_equal(&c->v[c->slot[k] - 1], id))
			return (long)c->slot[k] - 1;
	return -1;
}

static void fp_release(struct fp_chain *c)
{
	free(c->v);
	free(c->slot);
	memset(c, 0, sizeof(*c));
}

static char *fp_path(struct gitrepo *g)
{
	const char *gd = lg.git_repository_path(g->repo); /* ends with '/' */
	return gd ? xasprintf("%sciscope-first-parent.cache", gd) : NULL;
}

static void fp_load(struct gitrepo *g, struct fp_chain *c)
{
	memset(c, 0, sizeof(*c));
	char *path = fp_path(g);
	struct buf b = BUF_INIT;
	struct cs_err err;
	err_clear(&err);
	size_t m = sizeof(FP_MAGIC) - 1 + 1;
	if (path && path_is_file(path) && file_read_all(path, FP_MAX_BYTES, &b, &err) == 0 &&
	    b.len > m && !memcmp(b.data, FP_MAGIC, m - 1) && (b.data[m - 1] == 'R' || b.data[m - 1] == '-') &&
	    (b.len - m) % GIT_OID_RAWSZ == 0 && (b.len - m) / GIT_OID_RAWSZ < UINT32_MAX / 2) {
		c->complete = b.data[m - 1] == 'R';
		c->n = c->alloc = (b.len - m) / GIT_OID_RAWSZ;
		c->v = xmalloc(c->n * sizeof(*c->v));
		for (size_t i = 0; i < c->n; i++)
			lg.git_oid_fromraw(&c->v[i], (const unsigned char *)b.data + m + i * GIT_OID_RAWSZ);
		fp_index(c);
	}
	buf_release(&b);
	free(path);
}

static void fp_save(struct gitrepo *g, const struct fp_chain *c)
{
	char *path = fp_path(g);
	if (!path)
		return;
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	bool ok = f && fwrite(FP_MAGIC, 1, sizeof(FP_MAGIC) - 1, f) == sizeof(FP_MAGIC) - 1 &&
		  fputc(c->complete ? 'R' : '-', f) != EOF;
	for (size_t i = 0; ok && i < c->n; i++)
		ok = fwrite(c->v[i].id, 1, GIT_OID_RAWSZ, f) == GIT_OID_RAWSZ;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0)
		unlink(tmp);
	free(tmp);
	free(path);
}

/* Spot checks of the chain over [lo, hi): the first link, the last, and a
 * few between hold in the object database (each id's first parent is the
 * next id; the root, when the chain reaches it, has none). */
static bool fp_links_hold(struct gitrepo *g, const struct fp_chain *c, size_t lo, size_t hi)
{
	if (hi <= lo)
		return true;
	size_t span = hi - lo;
	for (int k = 0; k <= 8; k++) {
		size_t i = lo + (span - 1) * (size_t)k / 8;
		git_commit *commit = NULL;
		if (lg.git_commit_lookup(&commit, g->repo, &c->v[i]) != 0)
			return false;
		bool ok = i + 1 < c->n ? lg.git_commit_parentcount(commit) > 0 &&
						 lg.git_oid_equal(lg.git_commit_parent_id(commit, 0), &c->v[i + 1])
				       : !c->complete || lg.git_commit_parentcount(commit) == 0;
		lg.git_commit_free(commit);
		if (!ok)
			return false;
	}
	return true;
}

/* Walk the first parents from start (with_start: start itself first, else
 * from its first parent) onto the end of v, until stop (kept, the walk
 * ends there), an id of join (the walk ends before it; *joined its index),
 * want ids in all, or the root (*root). -1 when libgit2 fails. */
static int fp_extend(struct gitrepo *g, const git_oid *start, bool with_start, const git_oid *stop,
		     const struct fp_chain *join, size_t want, struct fp_chain *v, long *joined, bool *root)
{
	*root = false;
	if (joined)
		*joined = -1;
	git_oid id = *start;
	if (!with_start) {
		git_commit *commit = NULL;
		if (lg.git_commit_lookup(&commit, g->repo, &id) != 0)
			return -1;
		if (lg.git_commit_parentcount(commit) == 0) {
			lg.git_commit_free(commit);
			*root = true;
			return 0;
		}
		id = *lg.git_commit_parent_id(commit, 0);
		lg.git_commit_free(commit);
	}
	/* the commits' raw text, first parent only: no revwalk bookkeeping */
	git_odb *odb = NULL;
	if (lg.git_repository_odb(&odb, g->repo) != 0)
		return -1;
	int rc = 0;
	for (;;) {
		if (join && (*joined = fp_find(join, &id)) >= 0)
			break;
		XGROW(v->v, v->alloc, v->n + 1);
		v->v[v->n++] = id;
		if ((stop && lg.git_oid_equal(&id, stop)) || (want && v->n >= want))
			break;
		git_odb_object *o = NULL;
		if (lg.git_odb_read(&o, odb, &id) != 0 || lg.git_odb_object_type(o) != GIT_OBJECT_COMMIT) {
			lg.git_odb_object_free(o);
			rc = -1;
			break;
		}
		/* "tree <hex>\n" then "parent <hex>\n" lines */
		const char *t = lg.git_odb_object_data(o);
		size_t len = lg.git_odb_object_size(o);
		const char *nl = memchr(t, '\n', len);
		size_t off = nl ? (size_t)(nl - t) + 1 : len;
		bool has = off + 7 + GIT_OID_HEXSZ <= len && !memcmp(t + off, "parent ", 7) &&
			   lg.git_oid_fromstrn(&id, t + off + 7, GIT_OID_HEXSZ) == 0;
		lg.git_odb_object_free(o);
		if (!has) {
			*root = true;
			break;
		}
	}
	lg.git_odb_free(odb);
	return rc;
}

/* The first-parent ids from `from` to (excluding) stop, at most limit (0:
 * all), from the chain (made or extended first as far as needed). -2: not
 * answerable so (a limited walk off the chain, a stop not on the line: the
 * caller walks), -1 with err. */
static int fp_walk(struct gitrepo *g, const git_oid *from, const git_oid *stop, int limit,
		   struct gitrepo_commit **out, struct cs_err *err)
{
	struct fp_chain c;
	fp_load(g, &c);
	long pos = fp_find(&c, from);
	if (pos < 0 && limit > 0) { /* a short walk is not worth a chain */
		fp_release(&c);
		return -2;
	}
	bool changed = false, root = false;
	if (pos < 0) {
		/* walk until the chain, the stop or the root; the chain becomes
		 * what was walked (and the old chain below the join) */
		struct fp_chain nc = {0};
		long join = -1;
		if (fp_extend(g, from, true, stop, &c, 0, &nc, &join, &root) < 0) {
			fp_release(&nc);
			fp_release(&c);
			return -2;
		}
		size_t rest = join >= 0 ? c.n - (size_t)join : 0;
		XGROW(nc.v, nc.alloc, nc.n + rest + 1);
		if (rest)
			memcpy(nc.v + nc.n, c.v + join, rest * sizeof(*nc.v));
		nc.n += rest;
		nc.complete = join >= 0 ? c.complete : root;
		fp_release(&c);
		c = nc;
		fp_index(&c);
		changed = true;
		pos = 0;
	}
	/* the chain ends above what is asked: extend it from its end */
	long s = stop ? fp_find(&c, stop) : -1;
	bool short_of = stop ? s < 0 : limit > 0 ? c.n - (size_t)pos < (size_t)limit : true;
	if (!c.complete && short_of) {
		size_t want = !stop && limit > 0 ? (size_t)pos + (size_t)limit : 0;
		if (fp_extend(g, &c.v[c.n - 1], false, stop, NULL, want, &c, NULL, &root) < 0) {
			fp_release(&c);
			return -2;
		}
		c.complete = root;
		fp_index(&c);
		changed = true;
		s = stop ? fp_find(&c, stop) : -1;
	}
	if (changed)
		fp_save(g, &c);
	size_t end = c.n;
	if (stop) {
		if (s < pos) { /* not on the line below from: hide semantics need the walk */
			fp_release(&c);
			return -2;
		}
		end = (size_t)s;
	}
	size_t n = end - (size_t)pos;
	if (limit > 0 && n > (size_t)limit)
		n = (size_t)limit;
	if (!fp_links_hold(g, &c, (size_t)pos, (size_t)pos + n)) {
		/* not this repository's chain (damaged, copied): dropped, walked */
		char *path = fp_path(g);
		if (path)
			unlink(path);
		free(path);
		fp_release(&c);
		return -2;
	}
	struct gitrepo_commit *v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		lg.git_oid_tostr(v[i].sha, sizeof(v[i].sha), &c.v[(size_t)pos + i]);
		v[i].n_parents = -1;
	}
	fp_release(&c);
	*out = v;
	(void)err;
	return (int)n;
}

static int walk(struct gitrepo *g, const char *from, const char *stop, int limit, bool ids_only,
		struct gitrepo_commit **out, struct cs_err *err)
{
	*out = NULL;
	git_oid oid;
	git_revwalk *walk = NULL;
	if (lg.git_oid_fromstr(&oid, from) != 0)
		return err_set(err, CS_EINVAL, "'%s' is not a commit id", from);
	if (ids_only && !lg.git_repository_is_shallow(g->repo) && !getenv("CISCOPE_NO_FP_CACHE")) {
		git_oid hide;
		if (!stop || lg.git_oid_fromstr(&hide, stop) == 0) {
			int n = fp_walk(g, &oid, stop ? &hide : NULL, limit, out, err);
			if (n != -2)
				return n;
		}
	}
	if (lg.git_revwalk_new(&walk, g->repo) != 0)
		goto fail;
	lg.git_revwalk_sorting(walk, GIT_SORT_NONE);
	lg.git_revwalk_simplify_first_parent(walk);
	if (lg.git_revwalk_push(walk, &oid) != 0)
		goto fail;
	if (stop) {
		git_oid hide;
		if (lg.git_oid_fromstr(&hide, stop) != 0 || lg.git_revwalk_hide(walk, &hide) != 0)
			goto fail;
	}
	struct gitrepo_commit *v = NULL;
	size_t alloc = 0;
	int n = 0;
	git_oid next;
	while ((limit <= 0 || n < limit) && lg.git_revwalk_next(&next, walk) == 0) {
		if (ids_only) {
			XGROW(v, alloc, (size_t)n + 1);
			memset(&v[n], 0, sizeof(v[n]));
			lg.git_oid_tostr(v[n].sha, sizeof(v[n].sha), &next);
			v[n++].n_parents = -1;
			continue;
		}
		git_commit *commit = NULL;
		if (lg.git_commit_lookup(&commit, g->repo, &next) != 0) {
			gitrepo_commits_free(v, n);
			goto fail;
		}
		XGROW(v, alloc, (size_t)n + 1);
		memset(&v[n], 0, sizeof(v[n]));
		fill_commit(&v[n++], commit);
		lg.git_commit_free(commit);
	}
	lg.git_revwalk_free(walk);
	*out = v;
	return n;
fail:;
	const git_error *e = lg.git_error_last();
	lg.git_revwalk_free(walk);
	return err_set(err, CS_EIO, "cannot walk the history from %.12s: %s", from,
		       e && e->message ? e->message : "libgit2 error");
}

int gitrepo_first_parent(struct gitrepo *g, const char *from, const char *stop, int limit,
			 struct gitrepo_commit **out, struct cs_err *err)
{
	return walk(g, from, stop, limit, false, out, err);
}

int gitrepo_first_parent_ids(struct gitrepo *g, const char *from, const char *stop, int limit,
			     struct gitrepo_commit **out, struct cs_err *err)
{
	return walk(g, from, stop, limit, true, out, err);
}

bool gitrepo_commit_fill(struct gitrepo *g, struct gitrepo_commit *c)
{
	if (c->subject)
		return true;
	git_oid oid;
	git_commit *commit = NULL;
	if (!g || lg.git_oid_fromstr(&oid, c->sha) != 0 || lg.git_commit_lookup(&commit, g->repo, &oid) != 0)
		return false;
	char sha[41];
	memcpy(sha, c->sha, 41);
	fill_commit(c, commit);
	memcpy(c->sha, sha, 41);
	lg.git_commit_free(commit);
	return true;
}

bool gitrepo_is_ancestor(struct gitrepo *g, const char *ancestor, const char *descendant)
{
	git_oid a, d;
	if (!g || lg.git_oid_fromstr(&a, ancestor) != 0 || lg.git_oid_fromstr(&d, descendant) != 0)
		return false;
	if (lg.git_oid_equal(&a, &d))
		return true;
	/* on the cached first-parent chain below the descendant: no walk */
	if (!lg.git_repository_is_shallow(g->repo) && !getenv("CISCOPE_NO_FP_CACHE")) {
		struct fp_chain c;
		fp_load(g, &c);
		long pa = fp_find(&c, &a), pd = fp_find(&c, &d);
		fp_release(&c);
		if (pa >= 0 && pd >= 0 && pa > pd)
			return true;
	}
	return lg.git_graph_descendant_of(g->repo, &d, &a) == 1;
}

struct stat_ctx {
	struct buf *out;
	int files, max, ins, del;
};

static int stat_line(const git_diff_delta *delta, const git_diff_hunk *hunk,
		     const git_diff_line *line, void *payload)
{
	(void)delta;
	(void)hunk;
	struct stat_ctx *sc = payload;
	if (line->origin == GIT_DIFF_LINE_ADDITION)
		sc->ins++;
	else if (line->origin == GIT_DIFF_LINE_DELETION)
		sc->del++;
	return 0;
}

int gitrepo_diffstat(struct gitrepo *g, const char *sha, int max_files, struct buf *out,
		     struct cs_err *err)
{
	buf_reset(out);
	git_oid oid;
	git_commit *commit = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	int rc = -1;
	if (!g || lg.git_oid_fromstr(&oid, sha) != 0 || lg.git_commit_lookup(&commit, g->repo, &oid) != 0) {
		err_set(err, CS_ENOTFOUND, "commit %.12s is not in the repository", sha ? sha : "");
		goto done;
	}
	if (lg.git_commit_tree(&tree, commit) != 0 ||
	    (lg.git_commit_parentcount(commit) > 0 &&
	     (lg.git_commit_parent(&parent, commit, 0) != 0 || lg.git_commit_tree(&ptree, parent) != 0)) ||
	    lg.git_diff_tree_to_tree(&diff, g->repo, ptree, tree, NULL) != 0) {
		const git_error *e = lg.git_error_last();
		err_set(err, CS_EIO, "cannot diff commit %.12s: %s", sha,
			e && e->message ? e->message : "libgit2 error");
		goto done;
	}
	struct stat_ctx total = {out, 0, max_files, 0, 0};
	size_t nd = lg.git_diff_num_deltas(diff);
	for (size_t i = 0; i < nd; i++) {
		git_patch *patch = NULL;
		if (lg.git_patch_from_diff(&patch, diff, i) != 0)
			continue;
		struct stat_ctx one = {out, 0, 0, 0, 0};
		size_t nh = lg.git_patch_num_hunks(patch);
		for (size_t h = 0; h < nh; h++) {
			size_t nl = 0;
			const git_diff_hunk *hk = NULL;
			if (lg.git_patch_get_hunk(&hk, &nl, patch, h) != 0)
				continue;
			for (size_t l = 0; l < nl; l++) {
				const git_diff_line *ln = NULL;
				if (lg.git_patch_get_line_in_hunk(&ln, patch, h, l) == 0)
					stat_line(NULL, hk, ln, &one);
			}
		}
		const git_diff_delta *d = lg.git_patch_get_delta(patch);
		if (total.files < max_files)
			buf_addf(out, " %s | +%d -%d\n",
				 d->new_file.path ? d->new_file.path : d->old_file.path, one.ins, one.del);
		total.files++;
		total.ins += one.ins;
		total.del += one.del;
		lg.git_patch_free(patch);
	}
	if (total.files > max_files)
		buf_addf(out, " ... %d more files\n", total.files - max_files);
	buf_addf(out, " %d file%s changed, %d insertion%s(+), %d deletion%s(-)\n", total.files,
		 total.files == 1 ? "" : "s", total.ins, total.ins == 1 ? "" : "s", total.del,
		 total.del == 1 ? "" : "s");
	buf_cstr(out);
	rc = 0;
done:
	lg.git_diff_free(diff);
	lg.git_tree_free(tree);
	lg.git_tree_free(ptree);
	lg.git_commit_free(parent);
	lg.git_commit_free(commit);
	return rc;
}

/* --- first-parent history --------------------------------------------------------- */
long gitrepo_walk_first_parents(struct gitrepo *g, const char *ref, long max,
			   int (*cb)(void *ctx, const char *sha), void *ctx)
{
	if (!g || !ref)
		return -1;
	git_object *obj = NULL;
	char full[300];
	snprintf(full, sizeof(full), "refs/remotes/origin/%s", ref);
	if (lg.git_revparse_single(&obj, g->repo, ref) != 0 &&
	    lg.git_revparse_single(&obj, g->repo, full) != 0)
		return -1;
	git_commit *c = NULL;
	if (lg.git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT) != 0) {
		lg.git_object_free(obj);
		return -1;
	}
	lg.git_object_free(obj);
	long n = 0;
	while (c && n < max) {
		char hex[GIT_OID_HEXSZ + 1];
		lg.git_oid_tostr(hex, sizeof(hex), lg.git_commit_id(c));
		n++;
		if (cb(ctx, hex))
			break;
		git_commit *p = NULL;
		if (lg.git_commit_parentcount(c) == 0 || lg.git_commit_parent(&p, c, 0) != 0)
			p = NULL;
		lg.git_commit_free(c);
		c = p;
	}
	lg.git_commit_free(c);
	return n;
}

/* --- the checkout ---------------------------------------------------------------- */
bool gitrepo_checkout(const char *dir, struct buf *top, struct buf *head)
{
	git_init();
	git_repository *repo = NULL;
	bool ok = false;
	if (lg.git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) != 0)
		goto out;
	ok = true;
	if (top) {
		buf_reset(top);
		const char *wd = lg.git_repository_workdir(repo);
		if (wd) {
			buf_adds(top, wd);
			if (top->len > 1 && top->data[top->len - 1] == '/')
				top->len--;
		}
		buf_cstr(top);
	}
	if (head) {
		buf_reset(head);
		git_oid oid;
		if (lg.git_reference_name_to_id(&oid, repo, "HEAD") == 0) {
			char hex[GIT_OID_HEXSZ + 1];
			lg.git_oid_tostr(hex, sizeof(hex), &oid);
			buf_adds(head, hex);
		}
		buf_cstr(head);
	}
out:
	lg.git_repository_free(repo);
	lg.git_libgit2_shutdown();
	return ok;
}
