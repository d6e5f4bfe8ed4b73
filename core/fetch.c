/* fetch.c - runs, jobs, logs and artifacts from the GitHub API into the
 * cache (run folders) and the index, with libcurl's multi interface.
 *
 * Every request is a struct xfer in one queue. The scheduler starts the
 * queued transfers whose time has come (backoff, rate-limit pauses) while
 * fewer than opts.jobs are in flight, the listing pages first, then the
 * work of the newest runs first, so runs complete (and are imported) in
 * order. A finished transfer is judged by gh_decide() (github.c): use it,
 * follow its redirect with a fresh handle and no token, retry it later, pause
 * the API host, or give up. Each run counts its transfers in flight or
 * queued; when that reaches zero its folder is complete, run.json is
 * written last, and the run is imported.
 *
 * This file holds the transfer queue, the scheduler and the fetcher's life;
 * fetchrun.c the runs and what is done with each answer (fetch_int.h);
 * fetchcache.c the cache index and atomic writes.
 *
 * libcurl is driven through curl_multi_socket_action (curlpoll.h keeps the
 * descriptors fetch_fds() hands out and libcurl's deadline), so an event loop
 * (the TUI's) can wait on them with its own descriptors.
 */
#include "fetch_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* --- time, files --------------------------------------------------------------------------- */
/* The real clock: rate-limit resets are real times (CISCOPE_TIME_NOW, which
 * freezes time_now_ms for tests, must not stretch a wait). */
int64_t fetch_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t fetch_rnd(struct fetcher *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 17;
	f->rng ^= f->rng << 5;
	return f->rng;
}

void fetch_say(struct fetcher *f, enum fetch_msg level, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (f->o.on_message)
		f->o.on_message(f->o.ctx, level, buf_cstr(&b));
	buf_release(&b);
}

int fetch_ensure_dir(const char *path, struct cs_err *err)
{
	if (path_is_dir(path))
		return 0;
	return mkdir_p(path, 0700, err);
}

bool fetch_safe_component(const char *name)
{
	if (!name || !*name || !strcmp(name, ".") || !strcmp(name, "..") || strlen(name) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

bool fetch_artifact_matches(const char *globs, const char *name)
{
	if (!globs || !name)
		return false;
	const char *p = globs;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *g = xstrndup(p, n);
		char *s = g;
		while (*s == ' ')
			s++;
		size_t k = strlen(s);
		while (k && s[k - 1] == ' ')
			s[--k] = '\0';
		bool hit = false;
		if (*s) {
			if (strpbrk(s, "*?[")) {
				hit = fnmatch(s, name, FNM_CASEFOLD) == 0;
			} else {
				size_t nl = strlen(name);
				for (size_t i = 0; i + k <= nl && !hit; i++)
					hit = !strncasecmp(name + i, s, k);
			}
		}
		free(g);
		if (hit)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

char *fetch_default_cache_root(void)
{
	const char *env = getenv("CISCOPE_CACHE");
	if (env && *env)
		return xstrdup(env);
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/ciscope", xdg);
	const char *home = getenv("HOME");
	return xasprintf("%s/.cache/ciscope", home && *home ? home : ".");
}

/* --- transfers ----------------------------------------------------------------------------------- */
struct xfer *fetch_xfer_new(struct fetcher *f, enum xkind kind, struct frun *r, char *url)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	x->f = f;
	x->kind = kind;
	x->run = r;
	x->api_url = url;
	x->fd = -1;
	x->rl_remaining = -1;
	x->rl_limit = -1;
	buf_init(&x->body);
	buf_init(&x->link);
	x->order = ++f->order;
	/* conditional requests pay off for what is asked again: listing pages
	 * and runs in progress (a completed run is never asked again) */
	x->cacheable = kind == X_PAGE || kind == X_RUN || (kind == X_JOBS && r && !r->completed);
	x->to_file = kind == X_JOBLOG || kind == X_RUNLOG || kind == X_ARTDL;
	x->max_bytes = kind == X_ARTDL ? f->o.artifact_max : (int64_t)LOG_FILE_MAX;
	if (r)
		r->pending++;
	return x;
}

static void xfer_close_file(struct xfer *x, bool remove)
{
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	if (remove && x->tmp) {
		unlink(x->tmp);
		free(x->tmp);
		x->tmp = NULL;
	}
}

void fetch_xfer_free(struct xfer *x)
{
	xfer_close_file(x, true);
	free(x->tmp);
	free(x->api_url);
	free(x->blob_url);
	free(x->name);
	buf_release(&x->body);
	buf_release(&x->link);
	free(x);
}

void fetch_enqueue(struct fetcher *f, struct xfer *x)
{
	XGROW(f->q, f->aq, f->nq + 1);
	f->q[f->nq++] = x;
}

bool fetch_on_api(const struct xfer *x)
{
	return x->blob_url == NULL;
}

static int64_t ready_at(const struct fetcher *f, const struct xfer *x)
{
	int64_t t = x->not_before;
	if (fetch_on_api(x) && f->api_pause_until > t)
		t = f->api_pause_until;
	return t;
}

/* listing pages first; then the newest runs' work, in the order asked */
bool fetch_before(const struct xfer *a, const struct xfer *b)
{
	int ca = a->kind == X_PAGE ? 0 : 1, cb = b->kind == X_PAGE ? 0 : 1;
	if (ca != cb)
		return ca < cb;
	int sa = a->run ? a->run->seq : 0, sb = b->run ? b->run->seq : 0;
	if (sa != sb)
		return sa < sb;
	return a->order < b->order;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	char v[256];
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
		x->etag[0] = x->retry_after[0] = '\0';
		buf_reset(&x->link);
		x->rl_remaining = x->rl_limit = -1;
		x->rl_reset = 0;
	} else if (gh_header_value(p, len, "etag", x->etag, sizeof(x->etag))) {
	} else if (gh_header_value(p, len, "retry-after", x->retry_after, sizeof(x->retry_after))) {
	} else if (gh_header_value(p, len, "x-ratelimit-remaining", v, sizeof(v))) {
		x->rl_remaining = strtol(v, NULL, 10);
	} else if (gh_header_value(p, len, "x-ratelimit-limit", v, sizeof(v))) {
		x->rl_limit = strtol(v, NULL, 10);
	} else if (gh_header_value(p, len, "x-ratelimit-reset", v, sizeof(v))) {
		x->rl_reset = strtoll(v, NULL, 10);
	} else if (len > 5 && !strncasecmp(p, "link:", 5) && len < 65536) {
		const char *s = p + 5;
		size_t k = len - 5;
		while (k && (*s == ' ' || *s == '\t')) {
			s++;
			k--;
		}
		while (k && (s[k - 1] == '\r' || s[k - 1] == '\n'))
			k--;
		buf_reset(&x->link);
		buf_add(&x->link, s, k);
		buf_cstr(&x->link);
	}
	return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	x->f->p.bytes += len;
	if (!x->status_known) {
		lc.curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
		x->status_known = true;
	}
	if (x->to_file && x->status == 200) {
		if (x->fd < 0) {
			x->fd = open(x->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (x->fd < 0) {
				x->write_errno = errno;
				return 0;
			}
		}
		if (x->max_bytes > 0 && (int64_t)(x->got + len) > x->max_bytes) {
			x->too_big = true;
			return 0;
		}
		if (fcache_fd_write_all(x->fd, p, len) < 0) {
			x->write_errno = errno;
			return 0;
		}
		x->got += len;
		return len;
	}
	size_t cap = x->status == 200 ? JSON_BODY_MAX : ERR_BODY_MAX;
	if (x->body.len + len > cap) {
		if (x->status != 200)
			return len; /* an error page: its start is enough */
		x->too_big = true;
		return 0;
	}
	buf_add(&x->body, p, len);
	x->got += len;
	return len;
}

static void xfer_start(struct fetcher *f, struct xfer *x)
{
	const char *url = x->blob_url ? x->blob_url : x->api_url;
	x->h = lc.curl_easy_init();
	if (!x->h)
		die("cannot start a transfer: out of memory");
	x->hdrs = NULL;
	x->cond = false;
	if (fetch_on_api(x) && x->cacheable) {
		char *file = NULL;
		const char *etag = fcache_etag(&f->cache, x->api_url, &file);
		if (etag) {
			struct buf h = BUF_INIT;
			buf_addf(&h, "If-None-Match: %s", etag);
			x->hdrs = lc.curl_slist_append(x->hdrs, h.data);
			buf_release(&h);
			x->cond = true;
			free(file);
		}
	}
	void *hv = x->hdrs;
	gh_easy_setup(x->h, f->c, url, fetch_on_api(x), &hv);
	x->hdrs = hv;
	lc.curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	lc.curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	lc.curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	lc.curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	lc.curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
	lc.curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	if (x->to_file && x->max_bytes > 0)
		lc.curl_easy_setopt(x->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
	x->errbuf[0] = '\0';
	x->status = 0;
	x->status_known = false;
	x->got = 0;
	x->too_big = false;
	x->write_errno = 0;
	buf_reset(&x->body);
	if (x->to_file) {
		xfer_close_file(x, true);
		x->tmp = fcache_tmp_name(&f->cache, "d");
	}
	f->in_flight++;
	f->p.requests++;
	XGROW(f->live, f->alive, f->nlive + 1);
	f->live[f->nlive++] = x;
	lc.curl_multi_add_handle(f->multi, x->h);
}

static void start_ready(struct fetcher *f)
{
	if (f->cancelled)
		return;
	int64_t now = mono_ms();
	while (f->in_flight < f->max_in_flight && f->nq) {
		size_t best = (size_t)-1;
		for (size_t i = 0; i < f->nq; i++) {
			if (ready_at(f, f->q[i]) > now)
				continue;
			if (best == (size_t)-1 || fetch_before(f->q[i], f->q[best]))
				best = i;
		}
		if (best == (size_t)-1)
			break;
		struct xfer *x = f->q[best];
		f->q[best] = f->q[--f->nq];
		xfer_start(f, x);
	}
}

/* --- the fetcher ----------------------------------------------------------------------------------- */
void fetch_fatal(struct fetcher *f, enum fetch_result kind, const struct cs_err *err)
{
	if (!f->fatal) {
		f->fatal = true;
		f->fatal_kind = kind;
		f->fatal_err = *err;
	}
	fetch_cancel(f);
}

static void imp_on_run(void *ctx, const struct import_event *ev)
{
	struct fetcher *f = ctx;
	if (f->o.on_run)
		f->o.on_run(f->o.ctx, ev);
}

static void imp_on_error(void *ctx, const char *msg)
{
	struct fetcher *f = ctx;
	f->any_failed = true;
	fetch_say(f, FETCH_ERROR, "%s", msg);
}

/* Leftovers of a fetch that died (a second Ctrl-C, a crash): files whose
 * writer (the pid in their name) is gone. */
static void clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		long pid = strtol(de->d_name + 1, NULL, 10);
		if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
			continue;
		char *p = path_join(dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

/* One fetch per repository cache at a time (the CLI and the TUI may both
 * try): an advisory lock held for the fetcher's life. */
static int take_lock(struct fetcher *f, struct cs_err *err)
{
	char *p = path_join(f->repo_dir, "lock");
	f->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (f->lock_fd < 0)
		return err_set(err, CS_EIO, "cannot lock the cache '%s': %s", f->repo_dir,
			       strerror(errno));
	if (flock(f->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return err_set(err, CS_EIO,
			       "another ciscope is fetching %s into '%s': wait for it to finish",
			       f->c->t.slug, f->repo_dir);
	return 0;
}

struct fetcher *fetch_start(struct store *st, const struct fetch_opts *opts, struct cs_err *err)
{
	if (curl_lib_init(NULL, err) < 0)
		return NULL;
	const struct gh_client *c = opts->client;
	if (opts->since && *opts->since && !gh_since_valid(opts->since)) {
		err_set(err, CS_EUSAGE, "--since '%s' is not a date (YYYY-MM-DD) or an RFC 3339 time",
			opts->since);
		return NULL;
	}
	const char *slash = strchr(c->t.slug, '/');
	char *owner = slash ? xstrndup(c->t.slug, (size_t)(slash - c->t.slug)) : NULL;
	if (!owner || !fetch_safe_component(owner) || !fetch_safe_component(slash + 1) ||
	    !opts->cache_root || !*opts->cache_root) {
		free(owner);
		err_set(err, CS_EUSAGE, "cannot fetch '%s': not OWNER/REPO, or no cache folder",
			c->t.slug);
		return NULL;
	}
	struct fetcher *f = xcalloc(1, sizeof(*f));
	f->st = st;
	f->o = *opts;
	f->c = c;
	f->limit = opts->limit > 0 ? opts->limit : FETCH_DEFAULT_LIMIT;
	f->max_in_flight = opts->jobs > 0 ? MIN(opts->jobs, 64) : FETCH_DEFAULT_JOBS;
	f->jobs = f->max_in_flight;
	f->lock_fd = -1;
	if (f->o.artifact_max <= 0)
		f->o.artifact_max = FETCH_DEFAULT_ARTIFACT_MAX;
	f->globs = xstrdup(opts->artifacts ? opts->artifacts : FETCH_DEFAULT_ARTIFACTS);
	f->p.rate_remaining = -1;
	f->p.rate_limit = -1;
	f->p.started_ms = mono_ms();
	f->rng = (uint32_t)(fetch_wall_ms() ^ (int64_t)getpid() << 16) | 1u;
	f->repo_dir = xasprintf("%s/%s/%s", opts->cache_root, owner, slash + 1);
	free(owner);
	f->runs_dir = path_join(f->repo_dir, "runs");
	f->tmp_dir = path_join(f->repo_dir, "tmp");
	f->cache.tmp_dir = f->tmp_dir;
	f->cache.http_dir = path_join(f->repo_dir, "http");
	f->cache.index_path = path_join(f->repo_dir, "index.json");
	if (fetch_ensure_dir(f->runs_dir, err) < 0 || fetch_ensure_dir(f->tmp_dir, err) < 0 ||
	    fetch_ensure_dir(f->cache.http_dir, err) < 0)
		goto fail;
	/* the cache holds what the token could read: keep it the user's */
	chmod(f->repo_dir, 0700);
	if (take_lock(f, err) < 0)
		goto fail;
	clean_tmp(f->tmp_dir);
	if (opts->workflow && *opts->workflow) {
		struct buf wf = BUF_INIT;
		if (gh_resolve_workflow(c, opts->workflow, &wf, err) < 0) {
			buf_release(&wf);
			goto fail;
		}
		f->workflow = buf_detach(&wf, NULL);
	}
	fcache_load(&f->cache);
	f->filter_key = xasprintf("workflow=%s branch=%s since=%s", f->workflow ? f->workflow : "",
				  opts->branch ? opts->branch : "", opts->since ? opts->since : "");
	const cJSON *done = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(f->cache.index, "complete"), f->filter_key);
	f->full_mode = !cJSON_IsNumber(done) || done->valuedouble < f->limit;
	if (store_runs_incomplete(st, c->t.slug, &f->incomplete, &f->n_incomplete, err) < 0)
		goto fail;
	f->multi = lc.curl_multi_init();
	if (!f->multi) {
		err_set(err, CS_ENOMEM, "cannot initialise libcurl");
		goto fail;
	}
	curl_poll_init(&f->cp, f->multi);
	lc.curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	lc.curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->max_in_flight);
	struct import_opts io = {.on_run = imp_on_run, .on_error = imp_on_error, .ctx = f};
	f->im = importer_new(st, &io);
	fetch_enqueue(f, fetch_xfer_new(f, X_PAGE, NULL,
			    gh_runs_url(&c->t, f->workflow, opts->branch, opts->since, GH_PER_PAGE)));
	return f;
fail:
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	free(f->repo_dir);
	free(f->runs_dir);
	free(f->tmp_dir);
	fcache_release(&f->cache);
	free(f->globs);
	free(f->workflow);
	free(f->filter_key);
	free(f->incomplete);
	free(f);
	return NULL;
}

static bool imports_pending(const struct fetcher *f)
{
	for (struct frun *r = f->runs; r; r = r->next)
		if (r->state == R_READY)
			return true;
	return false;
}

int fetch_fds(struct fetcher *f, struct pollfd *fds, int max, int *timeout_ms)
{
	int n = curl_poll_fds(&f->cp, fds, max);
	int64_t now = mono_ms();
	int64_t t = -1;
	if (fetch_done(f) || imports_pending(f))
		t = 0;
	int64_t cw = curl_poll_wait(&f->cp, now);
	if (cw >= 0)
		t = t < 0 ? cw : MIN(t, cw);
	if (!f->cancelled && f->in_flight < f->max_in_flight) {
		for (size_t i = 0; i < f->nq; i++) {
			int64_t w = MAX(ready_at(f, f->q[i]) - now, (int64_t)0);
			t = t < 0 ? w : MIN(t, w);
		}
	}
	if (t > INT32_MAX)
		t = INT32_MAX;
	*timeout_ms = (int)t;
	return n;
}

static void report_progress(struct fetcher *f, bool force)
{
	int64_t now = mono_ms();
	if (!force && now - f->last_progress < PROGRESS_EVERY_MS)
		return;
	f->last_progress = now;
	f->p.in_flight = f->in_flight;
	if (f->api_pause_until <= now)
		f->p.paused_until = 0;
	if (f->o.on_progress)
		f->o.on_progress(f->o.ctx, &f->p);
}

/* The runs ready now share one transaction (each run all-or-nothing in it),
 * committed before returning: a fetch of many runs commits once per turn,
 * not once per run. */
static void import_ready(struct fetcher *f)
{
	int64_t t0 = mono_ms();
	int imported = 0;
	for (struct frun *r = f->runs; r; r = r->next) {
		if (r->state != R_READY)
			continue;
		struct cs_err err;
		err_clear(&err);
		int ok0, failed0, ok1, failed1;
		importer_totals(f->im, &ok0, &failed0);
		import_add(f->im, r->dir, &err);
		importer_totals(f->im, &ok1, &failed1);
		r->state = R_DONE;
		f->p.runs_done++;
		if (failed1 > failed0) {
			f->p.runs_failed++;
			f->any_failed = true;
		} else {
			f->p.runs_imported++;
			imported++;
		}
		if (mono_ms() - t0 >= IMPORT_BUDGET_MS)
			break;
	}
	struct cs_err err;
	int ok0, failed0, ok1, failed1;
	importer_totals(f->im, &ok0, &failed0);
	if (import_flush(f->im, &err) < 0) {
		/* the commit failed: the runs counted as imported were not */
		importer_totals(f->im, &ok1, &failed1);
		int lost = MIN(failed1 - failed0, imported);
		f->p.runs_imported -= lost;
		f->p.runs_failed += lost;
		f->any_failed = true;
	}
}

void fetch_perform(struct fetcher *f, const struct pollfd *fds, int n)
{
	curl_poll_sockets(&f->cp, fds, n);
	for (int round = 0; round < 4; round++) {
		curl_poll_timer(&f->cp, mono_ms());
		fetch_check_done_transfers(f);
		start_ready(f);
		if (!curl_poll_due(&f->cp, mono_ms()))
			break;
	}
	if (!f->listing_done && f->nq == 0 && f->in_flight == 0 && !f->cancelled)
		fetch_listing_finished(f);
	import_ready(f);
	report_progress(f, fetch_done(f));
}

bool fetch_done(const struct fetcher *f)
{
	if (f->nq || f->in_flight)
		return false;
	if (!f->listing_done && !f->cancelled)
		return false;
	for (struct frun *r = f->runs; r; r = r->next)
		if (r->state == R_READY || (r->state == R_ACTIVE && !f->cancelled))
			return false;
	return true;
}

void fetch_xfer_detach(struct fetcher *f, struct xfer *x)
{
	lc.curl_multi_remove_handle(f->multi, x->h);
	lc.curl_easy_cleanup(x->h);
	x->h = NULL;
	lc.curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	f->in_flight--;
}

void fetch_cancel(struct fetcher *f)
{
	if (f->cancelled)
		return;
	f->cancelled = true;
	/* what is queued or in flight is dropped (partial files removed); its
	 * run will not be imported */
	for (size_t i = 0; i < f->nq; i++)
		fetch_xfer_done_with(f, f->q[i]);
	f->nq = 0;
	while (f->nlive) {
		struct xfer *x = f->live[--f->nlive];
		fetch_xfer_detach(f, x);
		fetch_xfer_done_with(f, x);
	}
}

void fetch_format_bytes(uint64_t n, char *out, size_t len)
{
	if (n >= 10u << 20)
		snprintf(out, len, "%.0f MB", (double)n / (1 << 20));
	else if (n >= 1u << 20)
		snprintf(out, len, "%.1f MB", (double)n / (1 << 20));
	else
		snprintf(out, len, "%.0f kB", (double)n / 1024);
}

const struct fetch_progress *fetch_get_progress(const struct fetcher *f)
{
	return &f->p;
}

const char *fetch_cache_dir(const struct fetcher *f)
{
	return f->repo_dir;
}

enum fetch_result fetch_finish(struct fetcher *f, struct cs_err *err)
{
	bool stopped = f->cancelled || !fetch_done(f);
	fetch_cancel(f); /* frees what an early finish leaves */
	enum fetch_result res;
	if (f->fatal) {
		res = f->fatal_kind;
		*err = f->fatal_err;
	} else if (stopped) {
		res = FETCH_INTERRUPTED;
		err_set(err, CS_EINTR, "interrupted");
	} else if (f->any_failed) {
		res = FETCH_PARTIAL;
		err_set(err, CS_EIO, "some runs could not be fetched (see above)");
	} else {
		res = FETCH_OK;
		err_clear(err);
	}
	/* the next fetch may stop at runs we hold only if this one saw the
	 * whole of what it was asked */
	cJSON *complete = cJSON_GetObjectItemCaseSensitive(f->cache.index, "complete");
	cJSON_DeleteItemFromObjectCaseSensitive(complete, f->filter_key);
	if (res == FETCH_OK)
		cJSON_AddNumberToObject(complete, f->filter_key, f->limit);
	struct cs_err serr;
	err_clear(&serr);
	if (fcache_save(&f->cache, &serr) < 0)
		fetch_say(f, FETCH_WARN, "%s", serr.msg);
	for (struct frun *r = f->runs, *next; r; r = next) {
		next = r->next;
		fetch_frun_release(r);
		free(r->dir);
		free(r->slug);
		free(r);
	}
	for (size_t i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	free(f->keys);
	free(f->seen_ids);
	free(f->incomplete);
	free(f->q);
	free(f->live);
	curl_poll_release(&f->cp);
	importer_free(f->im);
	lc.curl_multi_cleanup(f->multi);
	if (f->lock_fd >= 0)
		close(f->lock_fd); /* the lock goes with it */
	fcache_release(&f->cache);
	free(f->repo_dir);
	free(f->runs_dir);
	free(f->tmp_dir);
	free(f->globs);
	free(f->workflow);
	free(f->filter_key);
	free(f);
	return res;
}

enum fetch_result fetch_run(struct store *st, const struct fetch_opts *opts,
			    volatile sig_atomic_t *interrupted, struct fetch_progress *last,
			    struct cs_err *err)
{
	struct fetcher *f = fetch_start(st, opts, err);
	if (!f)
		return FETCH_FAILED;
	struct pollfd *pfd = NULL;
	int apfd = 0;
	while (!fetch_done(f)) {
		if (interrupted && *interrupted && !f->cancelled)
			fetch_cancel(f);
		int timeout;
		int n = fetch_fds(f, pfd, apfd, &timeout);
		if (n > apfd) {
			apfd = n + 16;
			pfd = xrealloc(pfd, sizeof(*pfd) * (size_t)apfd);
			n = fetch_fds(f, pfd, apfd, &timeout);
		}
		/* wake up now and then: a signal may have come between the check
		 * and the wait */
		if (timeout < 0 || timeout > 250)
			timeout = 250;
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			for (int i = 0; i < n; i++)
				pfd[i].revents = 0;
		}
		fetch_perform(f, pfd, n);
	}
	free(pfd);
	if (last)
		*last = f->p;
	return fetch_finish(f, err);
}

