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
 * libcurl is driven through curl_multi_socket_action: the socket callback
 * keeps the table of descriptors fetch_fds() hands out, the timer callback
 * its deadline, so an event loop (the TUI's) can wait on them with its own
 * descriptors.
 */
#include "fetch.h"

#include "curlpoll.h"
#include "fetchcache.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
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

#define JSON_BODY_MAX (64u << 20)
#define ERR_BODY_MAX (64u << 10)
#define LOG_FILE_MAX (8ull << 30)
#define MAX_REISSUES 2    /* re-requests of an expired signed URL */
#define MAX_HOPS 5        /* redirects in a row */
#define PROGRESS_EVERY_MS 100
#define IMPORT_BUDGET_MS 50

enum xkind { X_PAGE, X_RUN, X_JOBS, X_ATTEMPT, X_JOBLOG, X_RUNLOG, X_ARTLIST, X_ARTDL };

enum run_state { R_ACTIVE, R_READY, R_DONE };

struct frun {
	int64_t id;
	int attempt;
	int seq;
	cJSON *obj;           /* the run object (run.json) */
	char *dir;
	char *slug;           /* repository.full_name, else the target's */
	bool completed;       /* status == completed */
	bool failed;          /* its conclusion is a failure state */
	bool baseline;        /* the newest success of its workflow and branch */
	int pending;          /* transfers queued or in flight */
	bool error;           /* a transfer failed: not imported */
	bool jobs_done;
	bool archive_asked;
	cJSON *jobs;          /* the "jobs" array of every page */
	enum run_state state;
	struct frun *next;
};

struct xfer {
	struct fetcher *f;
	enum xkind kind;
	struct frun *run;
	char *api_url;
	char *blob_url;       /* following a redirect */
	int tries, rate_waits, reissues, hops;
	int64_t not_before;   /* monotonic ms */
	int64_t job_id;
	int job_attempt;
	int attempt_n;
	char *name;           /* artifact name */
	bool to_file;
	int64_t max_bytes;
	bool too_big;
	int fd;
	char *tmp;
	uint64_t got;
	struct buf body;
	bool cond;            /* sent If-None-Match */
	bool cacheable;
	/* the answer */
	long status;
	bool status_known;
	char etag[256];
	char retry_after[128];
	struct buf link;
	long rl_remaining, rl_limit;
	int64_t rl_reset;
	int write_errno;
	CURL *h;
	struct curl_slist *hdrs;
	uint64_t order;
	char errbuf[CURL_ERROR_SIZE];
};

struct fetcher {
	struct store *st;
	struct fetch_opts o;
	const struct gh_client *c;
	char *globs;
	char *repo_dir, *runs_dir, *tmp_dir;
	char *workflow;       /* resolved */
	char *filter_key;
	int limit;
	CURLM *multi;
	struct xfer **q;
	size_t nq, aq;
	int in_flight, max_in_flight;
	int jobs;             /* the configured maximum */
	int ok_streak;        /* answers since the last secondary limit */
	int lock_fd;
	struct xfer **live;   /* in flight */
	size_t nlive, alive;
	struct curl_poll cp;  /* the multi handle's sockets and timer */
	int64_t api_pause_until;
	bool pause_told;
	struct frun *runs, *runs_tail;
	int next_seq;
	/* listing */
	bool listing_done, full_mode, refresh_done;
	int listed;
	char **keys;          /* workflow+branch seen with a success */
	size_t nkeys, akeys;
	int64_t *seen_ids;    /* every run id the listing showed */
	size_t nseen, aseen;
	int64_t *incomplete;  /* held, not completed */
	int n_incomplete;
	struct fetch_cache cache; /* index.json, http/, atomic writes through tmp/ */
	/* how it goes */
	bool cancelled, fatal, any_failed;
	enum fetch_result fatal_kind;
	struct cs_err fatal_err;
	struct importer *im;
	struct fetch_progress p;
	int64_t last_progress;
	uint64_t order;
	uint32_t rng;
};

/* --- time, files --------------------------------------------------------------------------- */
/* The real clock: rate-limit resets are real times (CISCOPE_TIME_NOW, which
 * freezes time_now_ms for tests, must not stretch a wait). */
static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t rnd(struct fetcher *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 17;
	f->rng ^= f->rng << 5;
	return f->rng;
}

static void say(struct fetcher *f, enum fetch_msg level, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void say(struct fetcher *f, enum fetch_msg level, const char *fmt, ...)
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

static int ensure_dir(const char *path, struct cs_err *err)
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
static struct xfer *xfer_new(struct fetcher *f, enum xkind kind, struct frun *r, char *url)
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

static void xfer_free(struct xfer *x)
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

static void enqueue(struct fetcher *f, struct xfer *x)
{
	XGROW(f->q, f->aq, f->nq + 1);
	f->q[f->nq++] = x;
}

static bool on_api(const struct xfer *x)
{
	return x->blob_url == NULL;
}

static int64_t ready_at(const struct fetcher *f, const struct xfer *x)
{
	int64_t t = x->not_before;
	if (on_api(x) && f->api_pause_until > t)
		t = f->api_pause_until;
	return t;
}

/* listing pages first; then the newest runs' work, in the order asked */
static bool before(const struct xfer *a, const struct xfer *b)
{
	int ca = a->kind == X_PAGE ? 0 : 1, cb = b->kind == X_PAGE ? 0 : 1;
	if (ca != cb)
		return ca < cb;
	int sa = a->run ? a->run->seq : 0, sb = b->run ? b->run->seq : 0;
	if (sa != sb)
		return sa < sb;
	return a->order < b->order;
}

static size_t hdr_value(const char *line, size_t n, const char *name, char *out, size_t outn)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || strncasecmp(line, name, k))
		return 0;
	const char *v = line + k + 1;
	size_t vn = n - k - 1;
	while (vn && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	if (out) {
		size_t c = MIN(vn, outn - 1);
		memcpy(out, v, c);
		out[c] = '\0';
	}
	return vn + 1;
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
	} else if (hdr_value(p, len, "etag", x->etag, sizeof(x->etag))) {
	} else if (hdr_value(p, len, "retry-after", x->retry_after, sizeof(x->retry_after))) {
	} else if (hdr_value(p, len, "x-ratelimit-remaining", v, sizeof(v))) {
		x->rl_remaining = strtol(v, NULL, 10);
	} else if (hdr_value(p, len, "x-ratelimit-limit", v, sizeof(v))) {
		x->rl_limit = strtol(v, NULL, 10);
	} else if (hdr_value(p, len, "x-ratelimit-reset", v, sizeof(v))) {
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
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
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
		if (fd_write_all(x->fd, p, len) < 0) {
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
	x->h = curl_easy_init();
	if (!x->h)
		die("cannot start a transfer: out of memory");
	x->hdrs = NULL;
	x->cond = false;
	if (on_api(x) && x->cacheable) {
		char *file = NULL;
		const char *etag = fcache_etag(&f->cache, x->api_url, &file);
		if (etag) {
			struct buf h = BUF_INIT;
			buf_addf(&h, "If-None-Match: %s", etag);
			x->hdrs = curl_slist_append(x->hdrs, h.data);
			buf_release(&h);
			x->cond = true;
			free(file);
		}
	}
	void *hv = x->hdrs;
	gh_easy_setup(x->h, f->c, url, on_api(x), &hv);
	x->hdrs = hv;
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	if (x->to_file && x->max_bytes > 0)
		curl_easy_setopt(x->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
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
	curl_multi_add_handle(f->multi, x->h);
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
			if (best == (size_t)-1 || before(f->q[i], f->q[best]))
				best = i;
		}
		if (best == (size_t)-1)
			break;
		struct xfer *x = f->q[best];
		f->q[best] = f->q[--f->nq];
		xfer_start(f, x);
	}
}

/* --- runs ------------------------------------------------------------------------------------------ */
static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jint(const cJSON *o, const char *k, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

static void frun_release(struct frun *r)
{
	cJSON_Delete(r->obj);
	cJSON_Delete(r->jobs);
	r->obj = r->jobs = NULL;
}

static void run_fail(struct fetcher *f, struct frun *r)
{
	r->error = true;
	f->any_failed = true;
}

static void run_finalize(struct fetcher *f, struct frun *r)
{
	if (r->state != R_ACTIVE || r->pending > 0)
		return;
	if (r->error || f->cancelled) {
		r->state = R_DONE;
		if (r->error) {
			f->p.runs_failed++;
			f->p.runs_done++;
		}
		frun_release(r);
		return;
	}
	struct cs_err err;
	err_clear(&err);
	char *p = path_join(r->dir, "run.json");
	int rc = fcache_put_json(&f->cache, p, r->obj, &err);
	free(p);
	if (rc < 0) {
		say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
		run_fail(f, r);
		r->state = R_DONE;
		f->p.runs_failed++;
		f->p.runs_done++;
		frun_release(r);
		return;
	}
	r->state = R_READY;
	frun_release(r);
}

static void xfer_done_with(struct fetcher *f, struct xfer *x)
{
	struct frun *r = x->run;
	xfer_free(x);
	if (r) {
		r->pending--;
		run_finalize(f, r);
	}
}

static bool key_seen(struct fetcher *f, const char *key)
{
	for (size_t i = 0; i < f->nkeys; i++)
		if (!strcmp(f->keys[i], key))
			return true;
	XGROW(f->keys, f->akeys, f->nkeys + 1);
	f->keys[f->nkeys++] = xstrdup(key);
	return false;
}

static bool id_seen(struct fetcher *f, int64_t id)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen_ids[i] == id)
			return true;
	return false;
}

static void add_seen(struct fetcher *f, int64_t id)
{
	XGROW(f->seen_ids, f->aseen, f->nseen + 1);
	f->seen_ids[f->nseen++] = id;
}

static struct frun *find_run(struct fetcher *f, int64_t id)
{
	for (struct frun *r = f->runs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static void fatal(struct fetcher *f, enum fetch_result kind, const struct cs_err *err);

/* Earlier attempts' run objects: from the run.json a previous fetch wrote
 * (it was the latest then), else one request each. */
static void plan_attempts(struct fetcher *f, struct frun *r)
{
	if (r->attempt <= 1 || r->attempt > 100)
		return;
	char *cur = path_join(r->dir, "run.json");
	int64_t cur_att = 0;
	struct buf b = BUF_INIT;
	struct cs_err e;
	err_clear(&e);
	if (file_read_all(cur, JSON_BODY_MAX, &b, &e) == 0) {
		cJSON *o = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
		if (!jint(o, "run_attempt", &cur_att))
			cur_att = 1;
		cJSON_Delete(o);
	}
	buf_release(&b);
	for (int n = 1; n < r->attempt; n++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "attempts/%d", n);
		char *d = path_join(r->dir, rel);
		char *p = path_join(d, "run.json");
		if (!path_is_file(p)) {
			if (cur_att == n && ensure_dir(d, &e) == 0 && rename(cur, p) == 0) {
				/* moved */
			} else {
				struct xfer *x = xfer_new(f, X_ATTEMPT, r,
							  gh_repo_url(&f->c->t, "/actions/runs/%lld/attempts/%d",
								      (long long)r->id, n));
				x->attempt_n = n;
				enqueue(f, x);
			}
		}
		free(p);
		free(d);
	}
	free(cur);
}

/* A run to download: its folder, its jobs, earlier attempts, artifacts. */
static void want_run(struct fetcher *f, cJSON *obj, bool baseline)
{
	int64_t id = 0, att = 1;
	jint(obj, "id", &id);
	jint(obj, "run_attempt", &att);
	if (att < 1)
		att = 1;
	struct frun *r = xcalloc(1, sizeof(*r));
	r->id = id;
	r->attempt = (int)att;
	r->seq = ++f->next_seq;
	r->obj = obj;
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(obj, "repository");
	const char *full = jstr(repo, "full_name");
	r->slug = xstrdup(full ? full : f->c->t.slug);
	const char *status = jstr(obj, "status");
	r->completed = status && !strcmp(status, "completed");
	r->failed = conclusion_is_failure(jstr(obj, "conclusion"));
	r->baseline = baseline;
	r->jobs = cJSON_CreateArray();
	char rel[64];
	snprintf(rel, sizeof(rel), "%lld", (long long)id);
	r->dir = path_join(f->runs_dir, rel);
	if (f->runs_tail)
		f->runs_tail->next = r;
	else
		f->runs = r;
	f->runs_tail = r;
	f->p.runs_wanted++;
	struct cs_err err;
	err_clear(&err);
	if (ensure_dir(r->dir, &err) < 0) {
		say(f, FETCH_ERROR, "run %lld: %s", (long long)id, err.msg);
		run_fail(f, r);
		r->state = R_DONE;
		f->p.runs_failed++;
		f->p.runs_done++;
		frun_release(r);
		return;
	}
	r->pending++; /* held while the work is planned */
	enqueue(f, xfer_new(f, X_JOBS, r,
			    gh_repo_url(&f->c->t, "/actions/runs/%lld/jobs?filter=all&per_page=%d",
					(long long)id, GH_PER_PAGE)));
	plan_attempts(f, r);
	if (r->completed && f->globs && *f->globs)
		enqueue(f, xfer_new(f, X_ARTLIST, r,
				    gh_repo_url(&f->c->t, "/actions/runs/%lld/artifacts?per_page=%d",
						(long long)id, GH_PER_PAGE)));
	r->pending--;
}

/* One page of the run listing. Returns true when paging should go on. */
static bool take_page(struct fetcher *f, cJSON *doc)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "workflow_runs");
	if (!cJSON_IsArray(arr)) {
		say(f, FETCH_ERROR, "the run listing of %s has no \"workflow_runs\" list",
		    f->c->t.slug);
		f->any_failed = true;
		return false;
	}
	bool go_on = true, saw_held = false;
	f->p.pages++;
	cJSON *obj;
	while ((obj = arr->child)) {
		cJSON_DetachItemViaPointer(arr, obj);
		if (f->listed >= f->limit) {
			go_on = false;
			cJSON_Delete(obj);
			break;
		}
		int64_t id = 0, att = 1;
		if (!cJSON_IsObject(obj) || !jint(obj, "id", &id) || id <= 0) {
			say(f, FETCH_WARN, "the run listing of %s holds a run without an id: skipped",
			    f->c->t.slug);
			cJSON_Delete(obj);
			continue;
		}
		if (id_seen(f, id)) { /* pages shifted under us: seen already */
			cJSON_Delete(obj);
			continue;
		}
		add_seen(f, id);
		jint(obj, "run_attempt", &att);
		f->listed++;
		f->p.runs_listed++;
		const char *concl = jstr(obj, "conclusion");
		struct buf key = BUF_INIT;
		int64_t wf = 0;
		jint(obj, "workflow_id", &wf);
		const char *wname = jstr(obj, "name"), *br = jstr(obj, "head_branch");
		buf_addf(&key, "%lld|%s|%s", (long long)wf, wname ? wname : "", br ? br : "");
		bool baseline = concl && !strcmp(concl, "success") && !key_seen(f, key.data);
		buf_release(&key);
		const cJSON *repo = cJSON_GetObjectItemCaseSensitive(obj, "repository");
		const char *slug = jstr(repo, "full_name");
		struct cs_err err;
		err_clear(&err);
		int held = store_run_held(f->st, slug ? slug : f->c->t.slug, id, (int)MAX(att, 1),
					  &err);
		if (held == STORE_RUN_COMPLETED) {
			saw_held = true;
			cJSON_Delete(obj);
			continue;
		}
		want_run(f, obj, baseline);
	}
	if (saw_held && !f->full_mode)
		go_on = false;
	return go_on;
}

static void listing_finished(struct fetcher *f)
{
	if (f->listing_done)
		return;
	f->listing_done = true;
	f->p.listing_done = true;
	if (f->cancelled || f->fatal)
		return;
	/* runs the index holds as not completed that the listing did not show */
	for (int i = 0; i < f->n_incomplete; i++) {
		int64_t id = f->incomplete[i];
		if (id_seen(f, id))
			continue;
		add_seen(f, id);
		enqueue(f, xfer_new(f, X_RUN, NULL,
				    gh_repo_url(&f->c->t, "/actions/runs/%lld", (long long)id)));
	}
}

/* Which jobs' logs: see fetch.h. */
static bool want_log(struct fetcher *f, struct frun *r, const cJSON *job, int job_att)
{
	const char *status = jstr(job, "status"), *concl = jstr(job, "conclusion");
	if (!r->completed || !status || strcmp(status, "completed"))
		return false;
	if (concl && !strcmp(concl, "skipped"))
		return false;
	if (f->o.all_logs || r->failed || conclusion_is_failure(concl))
		return true;
	return r->baseline && job_att == r->attempt;
}

static void ask_archive(struct fetcher *f, struct frun *r)
{
	if (r->archive_asked)
		return;
	r->archive_asked = true;
	f->p.logs_wanted++;
	struct xfer *x = xfer_new(f, X_RUNLOG, r,
				  gh_repo_url(&f->c->t, "/actions/runs/%lld/logs", (long long)r->id));
	enqueue(f, x);
}

static void write_jobs(struct fetcher *f, struct frun *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "total_count", cJSON_GetArraySize(r->jobs));
	cJSON_AddItemReferenceToObject(doc, "jobs", r->jobs);
	char *p = path_join(r->dir, "jobs.json");
	struct cs_err err;
	err_clear(&err);
	if (fcache_put_json(&f->cache, p, doc, &err) < 0) {
		say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
		run_fail(f, r);
	}
	free(p);
	cJSON_Delete(doc);
}

static void jobs_complete(struct fetcher *f, struct frun *r)
{
	r->jobs_done = true;
	/* no jobs: no jobs.json either, so the importer takes the jobs from
	 * the log archive when there is one */
	if (cJSON_GetArraySize(r->jobs) > 0)
		write_jobs(f, r);
	if (r->error)
		return;
	int n = 0;
	const cJSON *j;
	cJSON_ArrayForEach(j, r->jobs)
	{
		n++;
		int64_t jid = 0, att = r->attempt;
		if (!jint(j, "id", &jid) || jid <= 0)
			continue;
		jint(j, "run_attempt", &att);
		if (!want_log(f, r, j, (int)att))
			continue;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)jid);
		char *dest = path_join(r->dir, rel);
		bool have = path_is_file(dest);
		free(dest);
		if (have)
			continue;
		f->p.logs_wanted++;
		struct xfer *x = xfer_new(f, X_JOBLOG, r,
					  gh_repo_url(&f->c->t, "/actions/jobs/%lld/logs", (long long)jid));
		x->job_id = jid;
		x->job_attempt = (int)att;
		enqueue(f, x);
	}
	f->p.jobs += n;
	/* no jobs to take logs from (a run from an old recording, a startup
	 * failure): the archive is what there is */
	if (n == 0 && r->completed && (f->o.all_logs || r->failed || r->baseline)) {
		char *zp = path_join(r->dir, "logs.zip");
		if (!path_is_file(zp))
			ask_archive(f, r);
		free(zp);
	}
}

static void write_marker(struct fetcher *f, struct frun *r, const char *rel)
{
	char *p = path_join(r->dir, rel);
	char *d = xstrdup(p);
	char *slash = strrchr(d, '/');
	if (slash)
		*slash = '\0';
	struct cs_err err;
	err_clear(&err);
	if (ensure_dir(d, &err) < 0 ||
	    fcache_put_file(&f->cache, p, FETCH_EXPIRED_MARKER, strlen(FETCH_EXPIRED_MARKER), &err) < 0) {
		say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
		run_fail(f, r);
	}
	free(d);
	free(p);
}

/* The archive answered 410: every job of the latest attempt without a log
 * has expired. */
static void archive_expired(struct fetcher *f, struct frun *r)
{
	const cJSON *j;
	cJSON_ArrayForEach(j, r->jobs)
	{
		int64_t jid = 0, att = r->attempt;
		if (!jint(j, "id", &jid) || jid <= 0)
			continue;
		jint(j, "run_attempt", &att);
		if (att != r->attempt)
			continue;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)jid);
		char *p = path_join(r->dir, rel);
		bool have = path_is_file(p);
		free(p);
		if (!have) {
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)jid);
			write_marker(f, r, rel);
		}
	}
}

static void take_artifacts(struct fetcher *f, struct frun *r, cJSON *doc)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "artifacts");
	const cJSON *a;
	cJSON_ArrayForEach(a, arr)
	{
		const char *name = jstr(a, "name");
		int64_t aid = 0, size = 0;
		if (!name || !jint(a, "id", &aid) || aid <= 0)
			continue;
		jint(a, "size_in_bytes", &size);
		if (!fetch_artifact_matches(f->globs, name))
			continue;
		if (!fetch_safe_component(name) || str_ends(name, ".expired")) {
			say(f, FETCH_WARN, "run %lld: artifact '%s': the name cannot be a file name: "
					   "skipped",
			    (long long)r->id, name);
			continue;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "expired"))) {
			struct buf rel = BUF_INIT;
			buf_addf(&rel, "artifacts/%s.expired", name);
			write_marker(f, r, rel.data);
			buf_release(&rel);
			continue;
		}
		if (size > f->o.artifact_max) {
			say(f, FETCH_WARN,
			    "run %lld: artifact '%s' is %.1f MB, over the cap of %.1f MB "
			    "(--artifact-max): skipped",
			    (long long)r->id, name, (double)size / 1e6, (double)f->o.artifact_max / 1e6);
			continue;
		}
		/* downloaded already (a run fetched again) */
		struct buf rel = BUF_INIT;
		buf_addf(&rel, "artifacts/%s", name);
		char *p = path_join(r->dir, rel.data);
		buf_adds(&rel, ".zip");
		char *pz = path_join(r->dir, rel.data);
		bool have = path_is_file(p) || path_is_file(pz);
		free(p);
		free(pz);
		buf_release(&rel);
		if (have)
			continue;
		f->p.artifacts_wanted++;
		struct xfer *x = xfer_new(f, X_ARTDL, r,
					  gh_repo_url(&f->c->t, "/actions/artifacts/%lld/zip", (long long)aid));
		x->name = xstrdup(name);
		enqueue(f, x);
	}
}

/* --- answers ------------------------------------------------------------------------------------------ */
static cJSON *answer_json(struct fetcher *f, struct xfer *x, bool not_modified)
{
	struct buf cached = BUF_INIT;
	const char *data = x->body.data;
	size_t n = x->body.len;
	if (not_modified) {
		char *file = NULL;
		struct cs_err e;
		err_clear(&e);
		if (!fcache_etag(&f->cache, x->api_url, &file) ||
		    file_read_all(file, JSON_BODY_MAX, &cached, &e) < 0) {
			free(file);
			buf_release(&cached);
			return NULL;
		}
		free(file);
		data = cached.data;
		n = cached.len;
		fcache_mark_used(&f->cache, x->api_url);
	} else {
		if (x->etag[0] && x->cacheable)
			fcache_store(&f->cache, x->api_url, x->etag, x->kind == X_PAGE, x->body.data,
				     x->body.len);
	}
	cJSON *doc = cJSON_ParseWithLength(data ? data : "", n);
	buf_release(&cached);
	return doc;
}

/* The next page's URL from the Link header; a relative link is taken
 * against the API origin. */
static char *next_link(struct fetcher *f, struct xfer *x)
{
	struct buf u = BUF_INIT;
	if (!gh_link_find(x->link.data, "next", &u)) {
		buf_release(&u);
		return NULL;
	}
	if (u.data[0] == '/') {
		struct buf abs = BUF_INIT;
		gh_api_host(f->c->t.api_base, &abs);
		struct buf full = BUF_INIT;
		buf_addf(&full, "%s://%s%s", strncasecmp(f->c->t.api_base, "https:", 6) ? "http" : "https",
			 abs.data, u.data);
		buf_release(&abs);
		buf_release(&u);
		return buf_detach(&full, NULL);
	}
	/* the token goes only to the API's origin, and so do we: a next page
	 * elsewhere is not GitHub's */
	if (!gh_same_origin(u.data, f->c->t.api_base)) {
		say(f, FETCH_WARN, "a next page outside the API (%s): not followed", u.data);
		buf_release(&u);
		return NULL;
	}
	return buf_detach(&u, NULL);
}

static void what_of(struct fetcher *f, struct xfer *x, struct buf *b)
{
	buf_reset(b);
	switch (x->kind) {
	case X_PAGE: buf_addf(b, "the runs of %s", f->c->t.slug); break;
	case X_RUN: buf_addf(b, "a run of %s", f->c->t.slug); break;
	case X_JOBS: buf_addf(b, "the jobs of run %lld", (long long)x->run->id); break;
	case X_ATTEMPT:
		buf_addf(b, "attempt %d of run %lld", x->attempt_n, (long long)x->run->id);
		break;
	case X_JOBLOG:
		buf_addf(b, "the log of job %lld (run %lld)", (long long)x->job_id,
			 (long long)x->run->id);
		break;
	case X_RUNLOG: buf_addf(b, "the log archive of run %lld", (long long)x->run->id); break;
	case X_ARTLIST: buf_addf(b, "the artifacts of run %lld", (long long)x->run->id); break;
	case X_ARTDL:
		buf_addf(b, "artifact '%s' of run %lld", x->name, (long long)x->run->id);
		break;
	}
	if (x->blob_url)
		buf_adds(b, " (from blob storage)");
}

/* A download finished: its temporary file becomes dest. */
static int settle_file(struct fetcher *f, struct xfer *x, const char *dest, struct cs_err *err)
{
	if (x->fd < 0) { /* an empty body */
		x->fd = open(x->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (x->fd < 0)
			return err_set(err, CS_EIO, "cannot write '%s': %s", x->tmp, strerror(errno));
	}
	int rc = close(x->fd);
	x->fd = -1;
	char *d = xstrdup(dest);
	char *slash = strrchr(d, '/');
	if (slash)
		*slash = '\0';
	if (rc < 0) {
		err_set(err, CS_EIO, "cannot write '%s': %s", x->tmp, strerror(errno));
	} else if (ensure_dir(d, err) < 0) {
		rc = -1;
	} else if (rename(x->tmp, dest) < 0) {
		err_set(err, CS_EIO, "cannot write '%s': %s", dest, strerror(errno));
		rc = -1;
	}
	free(d);
	if (rc == 0) {
		free(x->tmp);
		x->tmp = NULL;
	}
	(void)f;
	return rc;
}

static bool file_is_zip(const char *path)
{
	unsigned char m[4] = {0};
	FILE *fp = fopen(path, "rb");
	size_t got = fp ? fread(m, 1, 4, fp) : 0;
	if (fp)
		fclose(fp);
	return got == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
}

static void on_success(struct fetcher *f, struct xfer *x, bool not_modified)
{
	struct frun *r = x->run;
	struct cs_err err;
	err_clear(&err);
	switch (x->kind) {
	case X_PAGE: {
		cJSON *doc = answer_json(f, x, not_modified);
		if (!doc) {
			say(f, FETCH_ERROR, "the run listing of %s is not JSON", f->c->t.slug);
			f->any_failed = true;
			listing_finished(f);
			break;
		}
		bool go_on = take_page(f, doc);
		cJSON_Delete(doc);
		char *next = go_on && !f->cancelled ? next_link(f, x) : NULL;
		if (next)
			enqueue(f, xfer_new(f, X_PAGE, NULL, next));
		else
			listing_finished(f);
		break;
	}
	case X_RUN: {
		cJSON *doc = answer_json(f, x, not_modified);
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			say(f, FETCH_ERROR, "%s: the answer is not a run object", x->api_url);
			f->any_failed = true;
			break;
		}
		int64_t id = 0;
		jint(doc, "id", &id);
		if (find_run(f, id))
			cJSON_Delete(doc);
		else
			want_run(f, doc, false);
		break;
	}
	case X_JOBS: {
		cJSON *doc = answer_json(f, x, not_modified);
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "jobs");
		if (!cJSON_IsArray(arr)) {
			say(f, FETCH_ERROR, "the jobs of run %lld: the answer has no \"jobs\" list",
			    (long long)r->id);
			run_fail(f, r);
			cJSON_Delete(doc);
			break;
		}
		cJSON *j;
		while ((j = arr->child))
			cJSON_AddItemToArray(r->jobs, cJSON_DetachItemViaPointer(arr, j));
		cJSON_Delete(doc);
		char *next = next_link(f, x);
		if (next && !f->cancelled) {
			struct xfer *nx = xfer_new(f, X_JOBS, r, next);
			enqueue(f, nx);
		} else {
			free(next);
			jobs_complete(f, r);
		}
		break;
	}
	case X_ATTEMPT: {
		cJSON *doc = cJSON_ParseWithLength(x->body.data ? x->body.data : "", x->body.len);
		if (cJSON_IsObject(doc)) {
			char rel[64];
			snprintf(rel, sizeof(rel), "attempts/%d", x->attempt_n);
			char *d = path_join(r->dir, rel);
			char *p = path_join(d, "run.json");
			if (ensure_dir(d, &err) < 0 || fcache_put_json(&f->cache, p, doc, &err) < 0) {
				say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
				run_fail(f, r);
			}
			free(p);
			free(d);
		}
		cJSON_Delete(doc);
		break;
	}
	case X_JOBLOG:
	case X_RUNLOG:
	case X_ARTDL: {
		struct buf rel = BUF_INIT;
		if (x->kind == X_JOBLOG) {
			buf_addf(&rel, "logs/%lld.txt", (long long)x->job_id);
		} else if (x->kind == X_RUNLOG) {
			buf_adds(&rel, "logs.zip");
		} else {
			/* a zip is recognised by its signature: non-zipped
			 * artifacts (archive: false) are served as the file */
			bool zip = x->tmp && x->fd >= 0 && file_is_zip(x->tmp);
			buf_addf(&rel, "artifacts/%s%s", x->name,
				 zip ? ".zip" : str_ends(x->name, ".zip") ? ".raw" : "");
		}
		char *dest = path_join(r->dir, rel.data);
		if (settle_file(f, x, dest, &err) < 0) {
			say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
			run_fail(f, r);
		} else if (x->kind == X_ARTDL) {
			f->p.artifacts_done++;
		} else {
			f->p.logs_done++;
		}
		free(dest);
		buf_release(&rel);
		break;
	}
	case X_ARTLIST: {
		cJSON *doc = cJSON_ParseWithLength(x->body.data ? x->body.data : "", x->body.len);
		if (!cJSON_IsObject(doc)) {
			say(f, FETCH_ERROR, "the artifacts of run %lld: the answer is not JSON",
			    (long long)r->id);
			run_fail(f, r);
		} else {
			take_artifacts(f, r, doc);
			char *next = next_link(f, x);
			if (next && !f->cancelled)
				enqueue(f, xfer_new(f, X_ARTLIST, r, next));
			else
				free(next);
		}
		cJSON_Delete(doc);
		break;
	}
	}
}

/* A request that will not succeed. */
static void on_failure(struct fetcher *f, struct xfer *x, CURLcode cc)
{
	struct frun *r = x->run;
	struct cs_err err;
	err_clear(&err);
	struct buf what = BUF_INIT;
	what_of(f, x, &what);
	long s = x->status;
	bool net = cc != CURLE_OK && !x->too_big;
	if (x->too_big) {
		if (x->kind == X_ARTDL) {
			say(f, FETCH_WARN, "%s is over the cap of %.1f MB (--artifact-max): skipped",
			    what.data, (double)f->o.artifact_max / 1e6);
		} else {
			say(f, FETCH_ERROR, "%s: the answer is too large", what.data);
			if (r)
				run_fail(f, r);
		}
		buf_release(&what);
		return;
	}
	if (net) {
		err_set(&err, CS_EIO, "%s: %s%s%s (gave up after %d attempts)", what.data,
			curl_easy_strerror(cc), x->errbuf[0] ? ": " : "", x->errbuf, x->tries);
		if (x->write_errno)
			err_set(&err, CS_EIO, "%s: cannot write the download: %s", what.data,
				strerror(x->write_errno));
	} else {
		gh_http_error(&err, s, x->body.data, x->body.len, what.data, f->c->t.slug,
			      f->c->token == NULL);
		if (s != 401 && s != 403 && s != 404 && s != 410 && x->tries > 1)
			err_prefix(&err, "gave up after %d attempts", x->tries);
	}
	buf_release(&what);
	if (!net && s == 401) {
		fatal(f, FETCH_FAILED, &err);
		if (r)
			run_fail(f, r);
		return;
	}
	switch (x->kind) {
	case X_PAGE:
		if (f->p.pages == 0 || (!net && (s == 403 || s == 404))) {
			fatal(f, FETCH_FAILED, &err);
		} else {
			say(f, FETCH_ERROR, "%s", err.msg);
			f->any_failed = true;
			listing_finished(f);
		}
		return;
	case X_RUN:
		if (!net && (s == 404 || s == 410)) {
			say(f, FETCH_WARN, "%s (deleted on GitHub?)", err.msg);
			return;
		}
		break;
	case X_ATTEMPT:
		if (!net && s == 404)
			return; /* the importer derives it from the jobs */
		break;
	case X_JOBLOG:
		if (!net && s == 410) {
			char rel[64];
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)x->job_id);
			write_marker(f, r, rel);
			f->p.logs_done++;
			return;
		}
		if (!net && s == 404 && !x->blob_url) {
			/* per-job logs unavailable: the archive has them, for the
			 * latest attempt */
			f->p.logs_done++;
			if (x->job_attempt == r->attempt) {
				char *zp = path_join(r->dir, "logs.zip");
				if (!path_is_file(zp))
					ask_archive(f, r);
				free(zp);
			}
			return;
		}
		break;
	case X_RUNLOG:
		f->p.logs_done++;
		if (!net && s == 410) {
			archive_expired(f, r);
			return;
		}
		if (!net && s == 404 && !x->blob_url) {
			say(f, FETCH_WARN, "run %lld: no logs on GitHub (404)", (long long)r->id);
			return;
		}
		break;
	case X_ARTLIST:
		if (!net && s == 404) {
			say(f, FETCH_WARN, "%s", err.msg);
			return;
		}
		break;
	case X_ARTDL:
		f->p.artifacts_done++;
		if (!net && s == 410) {
			struct buf rel = BUF_INIT;
			buf_addf(&rel, "artifacts/%s.expired", x->name);
			write_marker(f, r, rel.data);
			buf_release(&rel);
			return;
		}
		if (!net && s == 404) {
			say(f, FETCH_WARN, "%s", err.msg);
			return;
		}
		break;
	case X_JOBS:
		break;
	}
	say(f, FETCH_ERROR, "%s", err.msg);
	if (r)
		run_fail(f, r);
	else
		f->any_failed = true;
}

static enum gh_net classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK: return GH_NET_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return GH_NET_RETRY;
	default:
		return GH_NET_FATAL;
	}
}

static void requeue(struct fetcher *f, struct xfer *x, int64_t wait_ms)
{
	x->not_before = mono_ms() + wait_ms;
	enqueue(f, x);
}

static void rate_message(struct fetcher *f, struct xfer *x, int64_t wait_ms, bool primary)
{
	if (f->pause_told)
		return;
	f->pause_told = true;
	char dur[32];
	time_format_duration(wait_ms, dur, sizeof(dur));
	if (primary) {
		char at[40];
		time_format_iso(x->rl_reset > 0 ? x->rl_reset * 1000 : wall_ms() + wait_ms, at,
				sizeof(at));
		say(f, FETCH_WARN,
		    "the GitHub API rate limit is exhausted (%ld requests an hour); it resets at %s "
		    "(in %s): waiting (Ctrl-C stops; --no-wait exits instead)",
		    x->rl_limit > 0 ? x->rl_limit : f->p.rate_limit, at, dur);
	} else {
		say(f, FETCH_WARN,
		    "GitHub's secondary rate limit: waiting %s before going on, with fewer requests "
		    "at once",
		    dur);
	}
}

/* Pause every API request for wait_ms (rate limits are per user, not per
 * request), saying so once per pause. */
static void pause_api(struct fetcher *f, struct xfer *x, int64_t wait_ms, bool primary)
{
	int64_t now = mono_ms();
	if (f->api_pause_until <= now)
		f->pause_told = false;
	if (now + wait_ms > f->api_pause_until) {
		f->api_pause_until = now + wait_ms;
		f->p.paused_until = wall_ms() + wait_ms;
	}
	rate_message(f, x, wait_ms, primary);
}

static void xfer_finished(struct fetcher *f, struct xfer *x, CURLcode cc)
{
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	char *loc = NULL;
	if (x->status >= 300 && x->status < 400) {
		char *l = NULL;
		curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &l);
		if (l)
			loc = xstrdup(l);
	}
	curl_multi_remove_handle(f->multi, x->h);
	curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	f->in_flight--;
	for (size_t i = 0; i < f->nlive; i++)
		if (f->live[i] == x) {
			f->live[i] = f->live[--f->nlive];
			break;
		}
	x->tries++;
	if (cc == CURLE_FILESIZE_EXCEEDED)
		x->too_big = true;
	bool api = on_api(x);
	if (api && x->rl_remaining >= 0) {
		f->p.rate_remaining = x->rl_remaining;
		if (x->rl_limit >= 0)
			f->p.rate_limit = x->rl_limit;
		if (x->rl_reset > 0)
			f->p.rate_reset = x->rl_reset;
	}
	if (f->cancelled) {
		free(loc);
		xfer_done_with(f, x);
		return;
	}
	struct gh_answer a = {.net = x->too_big || x->write_errno ? GH_NET_FATAL : classify(cc),
			      .status = x->status, .api = api,
			      .retry_after = x->retry_after[0] ? x->retry_after : NULL,
			      .rl_remaining = x->rl_remaining, .rl_reset = x->rl_reset,
			      .body = x->body.data, .body_len = x->body.len};
	struct gh_decision d;
	gh_decide(&a, x->tries, x->rate_waits, &f->c->pol, wall_ms(), rnd(f), &d);
	if (x->status == 304 && !x->cond)
		d.v = GH_FAIL; /* not asked for */
	if (d.v == GH_NOT_MODIFIED)
		f->p.not_modified++;
	switch (d.v) {
	case GH_DONE:
	case GH_NOT_MODIFIED:
		free(loc);
		if (d.v == GH_NOT_MODIFIED && x->kind != X_PAGE && x->kind != X_RUN &&
		    x->kind != X_JOBS) {
			d.v = GH_FAIL;
			break;
		}
		if (d.v == GH_NOT_MODIFIED) {
			/* the cached body must still be there */
			char *file = NULL;
			bool have = fcache_etag(&f->cache, x->api_url, &file) != NULL;
			free(file);
			if (!have) {
				cJSON_DeleteItemFromObjectCaseSensitive(f->cache.etags, x->api_url);
				x->tries = 0;
				requeue(f, x, 0);
				return;
			}
		}
		if (f->max_in_flight < f->jobs && ++f->ok_streak >= 20) {
			f->max_in_flight++;
			f->ok_streak = 0;
		}
		on_success(f, x, d.v == GH_NOT_MODIFIED);
		xfer_done_with(f, x);
		return;
	case GH_FOLLOW: {
		bool ok = loc && x->hops < MAX_HOPS &&
			  (!strncasecmp(loc, "https://", 8) ||
			   (!strncasecmp(loc, "http://", 7) &&
			    strncasecmp(f->c->t.api_base, "https://", 8)));
		if (!ok) {
			struct buf what = BUF_INIT;
			what_of(f, x, &what);
			say(f, FETCH_ERROR, "%s: %s", what.data,
			    !loc ? "a redirect without a location"
			    : x->hops >= MAX_HOPS ? "too many redirects"
						  : "a redirect from https to plain http: refused");
			buf_release(&what);
			free(loc);
			if (x->run)
				run_fail(f, x->run);
			xfer_done_with(f, x);
			return;
		}
		/* a fresh request to the signed URL, without the token */
		free(x->blob_url);
		x->blob_url = loc;
		x->hops++;
		x->tries = 0;
		requeue(f, x, 0);
		return;
	}
	case GH_RETRY:
		free(loc);
		f->p.retries++;
		requeue(f, x, d.wait_ms);
		return;
	case GH_WAIT_SECONDARY:
		free(loc);
		f->p.retries++;
		x->rate_waits++;
		x->tries = MAX(x->tries - 1, 0);
		/* fewer at once for a while: the limit counts concurrency too */
		f->max_in_flight = MAX(1, f->max_in_flight / 2);
		f->ok_streak = 0;
		pause_api(f, x, d.wait_ms, false);
		requeue(f, x, 0);
		return;
	case GH_WAIT_PRIMARY:
		free(loc);
		if (f->o.no_wait) {
			struct cs_err err;
			char at[40];
			time_format_iso(x->rl_reset > 0 ? x->rl_reset * 1000 : wall_ms() + d.wait_ms, at,
					sizeof(at));
			err_set(&err, CS_EIO,
				"the GitHub API rate limit is exhausted; it resets at %s: stopped "
				"(--no-wait)",
				at);
			xfer_done_with(f, x);
			fatal(f, FETCH_RATE_LIMITED, &err);
			return;
		}
		f->p.retries++;
		x->tries = MAX(x->tries - 1, 0);
		pause_api(f, x, d.wait_ms, true);
		requeue(f, x, 0);
		return;
	case GH_FAIL:
		break;
	}
	free(loc);
	/* blob storage refusing an old signed URL: ask GitHub for a new one */
	if (x->blob_url && cc == CURLE_OK && (x->status == 400 || x->status == 403 || x->status == 404) &&
	    x->reissues < MAX_REISSUES) {
		free(x->blob_url);
		x->blob_url = NULL;
		x->reissues++;
		x->tries = 0;
		f->p.retries++;
		requeue(f, x, 0);
		return;
	}
	on_failure(f, x, cc);
	xfer_done_with(f, x);
}

static void check_done_transfers(struct fetcher *f)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(f->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_finished(f, x, m->data.result);
	}
}

/* --- the fetcher ----------------------------------------------------------------------------------- */
static void fatal(struct fetcher *f, enum fetch_result kind, const struct cs_err *err)
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
	say(f, FETCH_ERROR, "%s", msg);
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
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(err, CS_EIO, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = true;
	}
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
	f->rng = (uint32_t)(wall_ms() ^ (int64_t)getpid() << 16) | 1u;
	f->repo_dir = xasprintf("%s/%s/%s", opts->cache_root, owner, slash + 1);
	free(owner);
	f->runs_dir = path_join(f->repo_dir, "runs");
	f->tmp_dir = path_join(f->repo_dir, "tmp");
	f->cache.tmp_dir = f->tmp_dir;
	f->cache.http_dir = path_join(f->repo_dir, "http");
	f->cache.index_path = path_join(f->repo_dir, "index.json");
	if (ensure_dir(f->runs_dir, err) < 0 || ensure_dir(f->tmp_dir, err) < 0 ||
	    ensure_dir(f->cache.http_dir, err) < 0)
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
	f->multi = curl_multi_init();
	if (!f->multi) {
		err_set(err, CS_ENOMEM, "cannot initialise libcurl");
		goto fail;
	}
	curl_poll_init(&f->cp, f->multi);
	curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->max_in_flight);
	struct import_opts io = {.on_run = imp_on_run, .on_error = imp_on_error, .ctx = f};
	f->im = importer_new(st, &io);
	enqueue(f, xfer_new(f, X_PAGE, NULL,
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

static void import_ready(struct fetcher *f)
{
	int64_t t0 = mono_ms();
	for (struct frun *r = f->runs; r; r = r->next) {
		if (r->state != R_READY)
			continue;
		struct cs_err err;
		err_clear(&err);
		int ok0, failed0, ok1, failed1;
		importer_totals(f->im, &ok0, &failed0);
		import_path(f->im, r->dir, &err);
		importer_totals(f->im, &ok1, &failed1);
		r->state = R_DONE;
		f->p.runs_done++;
		if (failed1 > failed0) {
			f->p.runs_failed++;
			f->any_failed = true;
		} else {
			f->p.runs_imported++;
		}
		if (mono_ms() - t0 >= IMPORT_BUDGET_MS)
			break;
	}
}

void fetch_perform(struct fetcher *f, const struct pollfd *fds, int n)
{
	curl_poll_sockets(&f->cp, fds, n);
	for (int round = 0; round < 4; round++) {
		curl_poll_timer(&f->cp, mono_ms());
		check_done_transfers(f);
		start_ready(f);
		if (!curl_poll_due(&f->cp, mono_ms()))
			break;
	}
	if (!f->listing_done && f->nq == 0 && f->in_flight == 0 && !f->cancelled)
		listing_finished(f);
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

void fetch_cancel(struct fetcher *f)
{
	if (f->cancelled)
		return;
	f->cancelled = true;
	/* what is queued or in flight is dropped (partial files removed); its
	 * run will not be imported */
	for (size_t i = 0; i < f->nq; i++)
		xfer_done_with(f, f->q[i]);
	f->nq = 0;
	while (f->nlive) {
		struct xfer *x = f->live[--f->nlive];
		curl_multi_remove_handle(f->multi, x->h);
		curl_easy_cleanup(x->h);
		x->h = NULL;
		curl_slist_free_all(x->hdrs);
		x->hdrs = NULL;
		f->in_flight--;
		xfer_done_with(f, x);
	}
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
		say(f, FETCH_WARN, "%s", serr.msg);
	for (struct frun *r = f->runs, *next; r; r = next) {
		next = r->next;
		frun_release(r);
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
	curl_multi_cleanup(f->multi);
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
