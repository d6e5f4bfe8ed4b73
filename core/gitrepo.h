/* gitrepo.h - what ciscope learns from the git checkout it runs in (libgit2).
 *
 * Every use of libgit2 lives in gitrepo.c (make check-layering keeps it so):
 * other modules ask here for what they need of the checkout. */
#ifndef CS_GITREPO_H
#define CS_GITREPO_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* "owner/name" from a GitHub-style remote URL: https://host/o/r(.git),
 * ssh://git@host[:port]/o/r.git, git@host:o/r.git; host into *host when not
 * NULL. Returns false for anything else. */
bool gitrepo_parse_remote(const char *url, struct buf *slug, struct buf *host);

/* The slug of the origin remote of the repository containing dir (NULL: the
 * current directory). Returns false outside a repository or without origin. */
bool gitrepo_origin_slug(const char *dir, struct buf *slug, struct buf *host);

/* gitrepo_origin_slug(NULL, ...) for the current directory, remembered in
 * cache_root/origin/ so that a later command in the same place needs no
 * libgit2. An answer (a slug, or "none") is kept with the state (device,
 * inode, size, mtime, ctime, or absence) of every file discovery and the
 * configuration read: .git and HEAD of each directory from here up to /
 * (taken before discovery, so a .git made meanwhile is noticed; a linked
 * work tree's .git file is one of them), the repository's config, config.worktree and
 * commondir, the common directory's config, and the global and system
 * configurations (taken before libgit2 reads them); any change there makes
 * libgit2 answer again. Nothing is
 * cached when a GIT_* variable steers discovery or configuration, when a
 * configuration has [include]s, or in a bare repository. Only the slug is
 * stored, never a URL (which may carry a token). */
bool gitrepo_origin_slug_cached(const char *cache_root, struct buf *slug);

/* The top of the work tree of the repository containing dir (NULL: the
 * current directory), with a trailing '/'. False outside a repository or in
 * a bare one. (Repository files such as .ciscope/parity.conf live there.) */
bool gitrepo_workdir(const char *dir, struct buf *out);

/* The repository containing dir (NULL: the current directory), held open to
 * read commits; NULL outside a repository. */
struct gitrepo;
struct gitrepo *gitrepo_open(const char *dir);
void gitrepo_close(struct gitrepo *g);
/* The subject of commit sha (40 hex digits, or an unambiguous prefix of at
 * least 7): its summary line, into out. False when g is NULL, sha is not hex
 * or the commit is not in the repository. Answers, found or not, are cached
 * (GITREPO_CACHE entries, direct-mapped), so a list redrawing its rows asks
 * libgit2 once per commit. */
#define GITREPO_CACHE 512
bool gitrepo_subject(struct gitrepo *g, const char *sha, struct buf *out);

/* One commit of a history walk. */
struct gitrepo_commit {
	char sha[41];
	char *subject;    /* summary line */
	char *author;     /* author name */
	int64_t time_ms;  /* committer time */
	int n_parents;    /* > 1: a merge */
};
void gitrepo_commit_release(struct gitrepo_commit *c); /* members, not c */
void gitrepo_commits_free(struct gitrepo_commit *c, int n);

/* rev (a full or abbreviated sha, a branch, refs/..., HEAD~2, anything
 * git rev-parse takes) peeled to a commit, its 40-hex sha into out. A bare
 * branch name is looked up as refs/heads/B, then refs/remotes/origin/B.
 * False when it names no commit of the repository. */
bool gitrepo_resolve(struct gitrepo *g, const char *rev, char out[41]);

/* The first-parent history from commit `from` (a resolved sha), newest
 * first, leaving out `stop` and what it reaches (NULL: to the root), at most
 * limit commits (0: all). *out is allocated (gitrepo_commits_free); returns
 * the count or -1 with err set. */
int gitrepo_first_parent(struct gitrepo *g, const char *from, const char *stop, int limit,
			 struct gitrepo_commit **out, struct cs_err *err);

/* The same, ids only (subject and author NULL, time 0, n_parents -1):
 * what a long walk can afford; fill the commits it shows with
 * gitrepo_commit_fill(). */
int gitrepo_first_parent_ids(struct gitrepo *g, const char *from, const char *stop, int limit,
			     struct gitrepo_commit **out, struct cs_err *err);
/* Subject, author, time and parents of c->sha (already filled: nothing). */
bool gitrepo_commit_fill(struct gitrepo *g, struct gitrepo_commit *c);

/* Is ancestor reachable from (or equal to) descendant? Both resolved shas. */
bool gitrepo_is_ancestor(struct gitrepo *g, const char *ancestor, const char *descendant);

/* The diff stat of commit sha against its first parent (the empty tree for
 * a root): one line per file " path | +A -D" and a summary line, at most
 * max_files file lines. Into out (reset first). */
int gitrepo_diffstat(struct gitrepo *g, const char *sha, int max_files, struct buf *out,
		     struct cs_err *err);

/* The top (work tree) of the git checkout holding dir (NULL: the current
 * directory), with a trailing '/'; NULL outside a checkout or in a bare
 * repository. Caller frees. */
char *gitrepo_top(const char *dir);
/* The same top found without libgit2: the nearest folder from dir (NULL:
 * the current directory) upward with a .git (a folder holding HEAD, or a
 * "gitdir:" file), not crossing into another file system; the path is
 * dir's real path. Loading and starting libgit2 costs ~68 M instructions
 * (~15 ms: it reads the system's CA certificates), and triage asks at
 * every import where the checkout's .ciscope/rules.conf is. */
char *gitrepo_find_top(const char *dir);
/* Walk the first-parent history of ref (a branch, also tried as
 * origin/ref, or any revision), newest first, at most max commits, calling
 * cb with each full sha until it returns non-zero. The count walked, or -1
 * when ref does not resolve. */
long gitrepo_walk_first_parents(struct gitrepo *g, const char *ref, long max,
				int (*cb)(void *ctx, const char *sha), void *ctx);

/* Who the user is to git: user.name from the configuration of the checkout
 * holding the current directory (else the user's own configuration), else
 * $USER, else "unknown". Into out (reset first). */
void gitrepo_user_name(struct buf *out);

/* History for the diff's baseline (baseline.h). */
#define GITREPO_SHA_LEN 40
/* The first-parent ancestors of commit sha (a full id or a unique prefix),
 * nearest first, sha itself first when with_self: up to max 40-hex ids into
 * *out (allocated, caller frees). Returns how many, or -1 when g is NULL or
 * the commit is not in the repository. */
int gitrepo_first_parents(struct gitrepo *g, const char *sha, bool with_self, int max,
			  char (**out)[GITREPO_SHA_LEN + 1]);
/* Where commit sha left branch (refs/heads/BRANCH, else
 * refs/remotes/origin/BRANCH): its nearest first-parent ancestor (itself
 * included) on the branch's first-parent history, so a pull request merged
 * since still forks where it forked; else (the branch's history is longer
 * than GITREPO_FORK_WALK commits) their merge base. False when either is
 * missing or they share no history. */
#define GITREPO_FORK_WALK 20000
bool gitrepo_fork_point(struct gitrepo *g, const char *sha, const char *branch,
			char out[GITREPO_SHA_LEN + 1]);

/* The checkout containing dir (NULL: the current directory): the top of
 * its work tree into top (empty for a bare repository) and the commit
 * HEAD points at into head (empty on an unborn branch); either may be
 * NULL. False outside a repository. */
bool gitrepo_checkout(const char *dir, struct buf *top, struct buf *head);

#endif
