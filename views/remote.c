/* remote.c - GitHub from the terminal UI (see remote.h).
 *
 * Nothing here waits on the network. The fetcher (core/fetch.h) and the
 * one-request call of X and D (gh_call, core/github.h) are driven by the
 * event loop through a pump: after every step it brings the loop's fd
 * watches (tui_watch_fd) and one timer (tui_timer) in line with what the
 * transfer waits for, and the transfer is background work without a step
 * (tui_work): the status bar shows its progress, Esc cancels it, scripted
 * tests wait for it. There are two pumps, the fetch's and the request's.
 *
 * Timers cannot be taken back, so each carries a generation in its context
 * (no memory behind it): a timer armed before the pump's latest is stale
 * and does nothing when it fires.
 *
 * What still blocks: `gh auth token`, run once per repository and session
 * when neither GH_TOKEN nor GITHUB_TOKEN is set (10 s at most); importing a
 * finished run (tens of ms; the fetcher imports for about 50 ms a step);
 * Esc, which imports the runs already complete before it returns; and a
 * workflow typed by a name that no run of the index carries, which costs
 * one GET listing the workflows (a file name or an id costs nothing).
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fetch.h"
#include "core/github.h"
#include "core/store.h"
#include "views/common.h"
#include "views/remote.h"
#include "views/views.h"

#define REFRESH_MS 30000               /* unfinished runs are asked again this often */
#define REFRESH_MAX_MS (10 * 60 * 1000) /* ... or, after failures, at most this seldom */
#define VIEWS_POLL_MS 500              /* views follow the imports at most this often */

/* --- pumps: a transfer driven by the event loop -------------------------------------------- */
struct pump {
	void *obj; /* the fetcher or the call; NULL when idle */
	int (*fds)(void *obj, struct pollfd *fds, int max, int *timeout_ms);
	void (*perform)(void *obj, const struct pollfd *fds, int n);
	bool (*done)(void *obj);
	void (*finished)(void); /* obj is done: finish it (and pump_stop) */
	int *watched;
	size_t nwatched, awatched;
	struct pollfd *pfd;
	size_t apfd;
	uintptr_t timer_gen; /* the armed timer; 0: none */
	int64_t timer_due;
};

static int fetch_fds_cb(void *o, struct pollfd *fds, int max, int *t)
{
	return fetch_fds(o, fds, max, t);
}
static void fetch_perform_cb(void *o, const struct pollfd *fds, int n)
{
	fetch_perform(o, fds, n);
}
static bool fetch_done_cb(void *o)
{
	return fetch_done(o);
}
static int call_fds_cb(void *o, struct pollfd *fds, int max, int *t)
{
	return gh_call_fds(o, fds, max, t);
}
static void call_perform_cb(void *o, const struct pollfd *fds, int n)
{
	gh_call_perform(o, fds, n);
}
static bool call_done_cb(void *o)
{
	return gh_call_done(o);
}

static void fetch_finished(void);
static void post_finished(void);

static struct pump fetch_pump = {.fds = fetch_fds_cb, .perform = fetch_perform_cb,
				 .done = fetch_done_cb, .finished = fetch_finished};
static struct pump post_pump = {.fds = call_fds_cb, .perform = call_perform_cb,
				.done = call_done_cb, .finished = post_finished};
static uintptr_t timer_seq;

static void pump_sync(struct pump *p);

static void pump_fd_cb(void *ctx, int fd, short revents)
{
	struct pump *p = ctx;
	if (!p->obj) {
		tui_unwatch_fd(fd);
		return;
	}
	struct pollfd pf = {.fd = fd, .events = 0, .revents = revents};
	p->perform(p->obj, &pf, 1);
	pump_sync(p);
}

/* ctx: the generation, shifted, and which pump (the low bit) */
static void pump_timer_cb(void *ctx)
{
	uintptr_t v = (uintptr_t)ctx;
	struct pump *p = v & 1 ? &post_pump : &fetch_pump;
	if (!p->obj || v >> 1 != p->timer_gen)
		return; /* stale: a later timer replaced it */
	p->timer_gen = 0;
	p->perform(p->obj, NULL, 0);
	pump_sync(p);
}

static void pump_unwatch_all(struct pump *p)
{
	for (size_t i = 0; i < p->nwatched; i++)
		tui_unwatch_fd(p->watched[i]);
	p->nwatched = 0;
}

static void pump_stop(struct pump *p)
{
	pump_unwatch_all(p);
	p->obj = NULL;
	p->timer_gen = 0;
}

static void pump_free(struct pump *p)
{
	pump_stop(p);
	free(p->watched);
	free(p->pfd);
	p->watched = NULL;
	p->pfd = NULL;
	p->awatched = p->apfd = 0;
}

/* After a step: done (finish it), or watch what it waits for now. */
static void pump_sync(struct pump *p)
{
	if (!p->obj)
		return;
	if (p->done(p->obj)) {
		pump_unwatch_all(p);
		p->timer_gen = 0;
		p->finished();
		return;
	}
	int timeout;
	int n = p->fds(p->obj, p->pfd, (int)p->apfd, &timeout);
	if (n > (int)p->apfd) {
		XGROW(p->pfd, p->apfd, (size_t)n + 8);
		n = p->fds(p->obj, p->pfd, (int)p->apfd, &timeout);
	}
	/* descriptors it no longer waits on (curl closed them) */
	for (size_t i = 0; i < p->nwatched; i++) {
		bool kept = false;
		for (int k = 0; k < n && !kept; k++)
			kept = p->pfd[k].fd == p->watched[i];
		if (!kept)
			tui_unwatch_fd(p->watched[i]);
	}
	p->nwatched = 0;
	for (int k = 0; k < n; k++) {
		tui_watch_fd(p->pfd[k].fd, p->pfd[k].events, pump_fd_cb, p);
		XGROW(p->watched, p->awatched, p->nwatched + 1);
		p->watched[p->nwatched++] = p->pfd[k].fd;
	}
	/* nothing to wait for and no timeout would be a hang: look again soon */
	if (timeout < 0 && n == 0)
		timeout = 1000;
	if (timeout >= 0) {
		int64_t due = mono_ms() + timeout;
		if (!p->timer_gen || due < p->timer_due) {
			p->timer_gen = ++timer_seq;
			p->timer_due = due;
			uintptr_t ctx = p->timer_gen << 1 | (p == &post_pump ? 1u : 0u);
			tui_timer(timeout, pump_timer_cb, (void *)ctx);
		}
	}
}

static void pump_start(struct pump *p, void *obj)
{
	p->obj = obj;
	p->timer_gen = 0;
	pump_sync(p);
}

/* --- clients (a target and a token, kept for the session) ------------------------------------- */
struct client_slot {
	struct gh_client c;
	bool ok;
	char *key; /* the repository asked for ("" for the origin remote's) */
};

static int client_get(struct client_slot *s, const char *repo, struct cs_err *err)
{
	if (s->ok && !strcmp(s->key, repo ? repo : ""))
		return 0;
	if (s->ok)
		gh_client_release(&s->c);
	free(s->key);
	s->key = NULL;
	s->ok = false;
	if (gh_client_init(&s->c, repo, NULL, err) < 0)
		return -1;
	s->ok = true;
	s->key = xstrdup(repo ? repo : "");
	return 0;
}

static void client_free(struct client_slot *s)
{
	if (s->ok)
		gh_client_release(&s->c);
	free(s->key);
	memset(s, 0, sizeof(*s));
}

/* The repository of the newest GitHub run in the index, or NULL. */
static int first_repo(void *ctx, const struct run *r)
{
	char **out = ctx;
	if (!*out && r->repo && strchr(r->repo, '/') && r->provider_id > 0)
		*out = xstrdup(r->repo);
	return *out ? 1 : 0;
}

static char *index_repo(void)
{
	char *slug = NULL;
	struct run_filter f = {.limit = 50};
	struct cs_err err;
	err_clear(&err);
	if (app.st)
		store_runs(app.st, &f, first_repo, &slug, &err);
	return slug;
}

/* --- fetching -------------------------------------------------------------------------------------- */
static struct {
	struct client_slot client;
	struct store *st;      /* a writing connection, for the fetch's life */
	struct fetcher *f;
	char *root;            /* the cache */
	char slug[256];
	bool automatic;        /* the refresh timer's: quiet unless something changed */
	int created, updated, unchanged, errors;
	char first_error[600];
	bool error_shown;
	struct fetch_progress prog;
	bool have_prog;
	int64_t last_views_poll;
	int refresh_ms, refresh_base_ms;
	bool refresh_armed;
} F;

static void on_message(void *ctx, enum fetch_msg level, const char *msg)
{
	(void)ctx;
	if (level == FETCH_ERROR) {
		if (!F.errors++)
			snprintf(F.first_error, sizeof(F.first_error), "%s", msg);
		tui_error("%s", msg);
		F.error_shown = true;
	} else if (!F.automatic && !F.error_shown) {
		tui_message("%s%s", level == FETCH_WARN ? "warning: " : "", msg);
	}
}

static void on_run(void *ctx, const struct import_event *ev)
{
	(void)ctx;
	switch (ev->state) {
	case IMPORT_CREATED: F.created++; break;
	case IMPORT_UPDATED: F.updated++; break;
	case IMPORT_UNCHANGED: F.unchanged++; break;
	}
	/* the views follow as runs arrive, not after every one */
	int64_t now = mono_ms();
	if (ev->state != IMPORT_UNCHANGED && now - F.last_views_poll >= VIEWS_POLL_MS) {
		F.last_views_poll = now;
		views_data_changed();
	}
}

static void on_progress(void *ctx, const struct fetch_progress *p)
{
	(void)ctx;
	F.prog = *p;
	F.have_prog = true;
}

/* The status bar, right side: what matters first (it is cut on the right). */
static void fetch_progress_text(void *ctx, char *out, size_t n)
{
	const struct fetch_progress *p = &F.prog;
	const char *verb = F.automatic ? "refresh" : "fetch";
	(void)ctx;
	char bytes[32], api[48] = "", wait[48] = "";
	if (!F.have_prog || !p->listing_done) {
		snprintf(out, n, "%s %s: listing runs%s", verb, F.slug,
			 F.have_prog && p->pages > 0 ? "..." : "");
		return;
	}
	fetch_format_bytes(p->bytes, bytes, sizeof(bytes));
	if (p->rate_remaining >= 0)
		snprintf(api, sizeof(api), " \u00b7 API %ld left", p->rate_remaining);
	if (p->paused_until)
		snprintf(wait, sizeof(wait), " \u00b7 waiting for the rate limit");
	snprintf(out, n, "%s %d/%d runs \u00b7 %d/%d logs \u00b7 %s%s%s", verb, p->runs_done,
		 p->runs_wanted, p->logs_done, p->logs_wanted, bytes, api, wait);
}

static void refresh_arm(void);

static void fetch_report(enum fetch_result res, const struct fetch_progress *p,
			 const struct cs_err *err)
{
	char bytes[32], api[64] = "";
	fetch_format_bytes(p->bytes, bytes, sizeof(bytes));
	if (p->rate_remaining >= 0)
		snprintf(api, sizeof(api), "; API: %ld of %ld left", p->rate_remaining, p->rate_limit);
	int total = F.created + F.updated + F.unchanged;
	switch (res) {
	case FETCH_OK:
		if (F.created + F.updated == 0) {
			if (!F.automatic)
				tui_message("%s is up to date: %d request%s (%d not modified)%s", F.slug,
					    p->requests, p->requests == 1 ? "" : "s", p->not_modified, api);
		} else if (F.automatic) {
			tui_message("refreshed %s: %d new run%s, %d updated", F.slug, F.created,
				    F.created == 1 ? "" : "s", F.updated);
		} else {
			/* a re-run run brings one import per attempt (as the CLI says) */
			char attempts[48] = "";
			if (total != p->runs_imported)
				snprintf(attempts, sizeof(attempts), "%d attempts: ", total);
			tui_message("fetched %d run%s of %s (%s%d new, %d updated, %d unchanged): "
				    "%d request%s (%d not modified), %s%s",
				    p->runs_imported, p->runs_imported == 1 ? "" : "s", F.slug,
				    attempts, F.created, F.updated, F.unchanged, p->requests,
				    p->requests == 1 ? "" : "s", p->not_modified, bytes, api);
		}
		break;
	case FETCH_PARTIAL:
		tui_error("fetched %d run%s of %s with %d error%s: %s", p->runs_imported,
			  p->runs_imported == 1 ? "" : "s", F.slug, MAX(F.errors, 1),
			  F.errors > 1 ? "s, the first" : "",
			  F.first_error[0] ? F.first_error : err->msg);
		break;
	case FETCH_INTERRUPTED:
		tui_message("fetch of %s stopped: %d run%s imported so far; r goes on from there",
			    F.slug, p->runs_imported, p->runs_imported == 1 ? "" : "s");
		break;
	case FETCH_FAILED:
	case FETCH_RATE_LIMITED:
		tui_error("%s", err->msg);
		break;
	}
}

static void fetch_end(bool report)
{
	struct cs_err err;
	err_clear(&err);
	struct fetch_progress p = *fetch_get_progress(F.f);
	tui_work_stop(&F);
	pump_stop(&fetch_pump);
	enum fetch_result res = fetch_finish(F.f, &err);
	F.f = NULL;
	store_close(F.st);
	F.st = NULL;
	if (!report)
		return;
	views_data_changed();
	fetch_report(res, &p, &err);
	/* a refresh that keeps failing asks less and less often */
	if (F.automatic && (res == FETCH_FAILED || res == FETCH_RATE_LIMITED))
		F.refresh_ms = MIN(F.refresh_ms * 2, REFRESH_MAX_MS);
	else if (res == FETCH_OK)
		F.refresh_ms = F.refresh_base_ms;
}

static void fetch_finished(void)
{
	fetch_end(true);
}

/* Esc: stop now; runs already complete are imported before it returns. */
static void fetch_cancel_cb(void *ctx)
{
	(void)ctx;
	if (!F.f)
		return;
	fetch_cancel(F.f);
	for (int guard = 0; !fetch_done(F.f) && guard < 100000; guard++)
		fetch_perform(F.f, NULL, 0);
	fetch_end(true);
}

static int fetch_begin(const char *repo, bool automatic)
{
	struct cs_err err;
	err_clear(&err);
	if (F.f) {
		if (!automatic && F.automatic) {
			/* r during the timer's refresh: it becomes the user's (and says
			 * how it ended) */
			F.automatic = false;
			tui_message("fetching %s (Esc stops it)", F.slug);
		} else if (!automatic) {
			tui_message("already fetching %s (Esc stops it)", F.slug);
		}
		return -1;
	}
	if (!app.db_path) {
		tui_error("no index to fetch into");
		return -1;
	}
	char *from_index = repo ? NULL : index_repo();
	int rc = client_get(&F.client, repo ? repo : from_index, &err);
	free(from_index);
	if (rc < 0) {
		tui_error("%s", err.msg);
		return -1;
	}
	if (!F.root)
		F.root = fetch_default_cache_root();
	F.st = store_open(app.db_path, STORE_RW, &err);
	if (!F.st) {
		tui_error("cannot fetch into the index: %s", err.msg);
		return -1;
	}
	F.created = F.updated = F.unchanged = F.errors = 0;
	F.first_error[0] = '\0';
	F.error_shown = false;
	F.have_prog = false;
	F.automatic = automatic;
	F.last_views_poll = mono_ms();
	snprintf(F.slug, sizeof(F.slug), "%s", F.client.c.t.slug);
	struct fetch_opts fo = {
		.client = &F.client.c,
		.cache_root = F.root,
		/* the timer's fetch never sits out a rate limit */
		.no_wait = automatic,
		.on_message = on_message,
		.on_run = on_run,
		.on_progress = on_progress,
		.ctx = &F,
	};
	F.f = fetch_start(F.st, &fo, &err);
	if (!F.f) {
		store_close(F.st);
		F.st = NULL;
		tui_error("%s", err.msg);
		return -1;
	}
	if (!F.client.c.token && !automatic)
		tui_message("fetching %s without a token (GH_TOKEN, GITHUB_TOKEN or gh auth login): "
			    "60 requests an hour, public repositories only", F.slug);
	struct tui_work w = {.progress = fetch_progress_text, .cancel = fetch_cancel_cb, .ctx = &F};
	tui_work_start(&w);
	pump_start(&fetch_pump, F.f);
	return 0;
}

void remote_fetch(const char *repo)
{
	fetch_begin(repo, false);
}

/* --- refreshing unfinished runs ------------------------------------------------------------------ */
/* Did this repository's runs come from a fetch (its cache has an index)? An
 * index of imported run folders (the demo) is never fetched on its own. */
static bool fetched_before(const char *slug)
{
	const char *slash = strchr(slug, '/');
	if (!slash)
		return false;
	char *owner = xstrndup(slug, (size_t)(slash - slug));
	bool ok = false;
	if (fetch_safe_component(owner) && fetch_safe_component(slash + 1)) {
		if (!F.root)
			F.root = fetch_default_cache_root();
		char *p = xasprintf("%s/%s/%s/index.json", F.root, owner, slash + 1);
		ok = path_is_file(p);
		free(p);
	}
	free(owner);
	return ok;
}

static bool has_unfinished(const char *slug)
{
	int64_t *ids = NULL;
	int n = 0;
	struct cs_err err;
	err_clear(&err);
	if (store_runs_incomplete(app.st, slug, &ids, &n, &err) < 0)
		n = 0;
	free(ids);
	return n > 0;
}

static void refresh_tick(void *ctx)
{
	(void)ctx;
	F.refresh_armed = false;
	refresh_arm();
	if (F.f || !app.st)
		return;
	char *slug = index_repo();
	if (slug && fetched_before(slug) && has_unfinished(slug))
		fetch_begin(slug, true);
	free(slug);
}

static void refresh_arm(void)
{
	if (F.refresh_armed || F.refresh_ms <= 0)
		return;
	F.refresh_armed = true;
	tui_timer(F.refresh_ms, refresh_tick, NULL);
}

/* --- X and D: one request, shown and confirmed --------------------------------------------------- */
static struct {
	struct client_slot client;
	struct gh_post post;
	bool have_post;
	struct gh_call *call;
	char *what, *done_msg;
	bool busy;            /* between the key and the answer (or the cancel) */
	/* D's prompts */
	char *repo, *workflow, *ref_default;
} P;

static void post_clear(void)
{
	if (P.have_post)
		gh_post_free(&P.post);
	P.have_post = false;
	free(P.what);
	free(P.done_msg);
	free(P.repo);
	free(P.workflow);
	free(P.ref_default);
	P.what = P.done_msg = P.repo = P.workflow = P.ref_default = NULL;
	P.busy = false;
}

static void post_progress(void *ctx, char *out, size_t n)
{
	(void)ctx;
	snprintf(out, n, "sending: %s", P.what ? P.what : "a request");
}

static void post_end(void)
{
	long status = 0;
	struct cs_err err;
	err_clear(&err);
	tui_work_stop(&P);
	pump_stop(&post_pump);
	int rc = gh_call_finish(P.call, &status, NULL, &err);
	P.call = NULL;
	if (rc < 0)
		tui_error("%s", err.msg);
	else
		tui_message("%s (HTTP %ld)", P.done_msg, status);
	post_clear();
}

static void post_finished(void)
{
	post_end();
}

static void post_cancel(void *ctx)
{
	(void)ctx;
	if (P.call)
		post_end();
}

static void answered(void *ctx, bool yes)
{
	(void)ctx;
	if (!yes) {
		tui_message("not sent");
		post_clear();
		return;
	}
	struct cs_err err;
	err_clear(&err);
	P.call = gh_call_start(&P.client.c, "POST", P.post.url, P.post.body, P.what, &err);
	if (!P.call) {
		tui_error("%s", err.msg);
		post_clear();
		return;
	}
	struct tui_work w = {.progress = post_progress, .cancel = post_cancel, .ctx = &P};
	tui_work_start(&w);
	pump_start(&post_pump, P.call);
}

/* Show the request (method, URL, headers with the token named by its
 * source, body) and ask. */
static void ask(const char *title, const char *question)
{
	struct buf text = BUF_INIT;
	buf_addf(&text, "%s\n\nciscope will send:\n\n", question);
	gh_post_describe(&P.post, P.client.c.token_src, &text);
	if (confirm_open(title, buf_cstr(&text), "Send it? y sends the request, any other key cancels",
			 answered, NULL) < 0)
		post_clear();
	buf_release(&text);
}

static bool post_busy(void)
{
	if (!P.busy)
		return false;
	tui_error("a request to GitHub is waiting for its answer or being sent");
	return true;
}

void remote_rerun(const struct run *r)
{
	struct cs_err err;
	err_clear(&err);
	if (post_busy())
		return;
	if (!r) {
		tui_error("select a run (in the runs or run view) to re-run its failed jobs");
		return;
	}
	long long id = (long long)r->provider_id;
	if (r->provider_id <= 0) {
		tui_error("this run did not come from GitHub: there is nothing to re-run");
		return;
	}
	if (r->status && strcmp(r->status, "completed") != 0) {
		tui_error("run %lld is still %s: its failed jobs can be re-run once it completes", id,
			  r->status);
		return;
	}
	if (r->conclusion && !strcmp(r->conclusion, "success")) {
		tui_error("run %lld succeeded: it has no failed jobs to re-run", id);
		return;
	}
	if (client_get(&P.client, r->repo && strchr(r->repo, '/') ? r->repo : NULL, &err) < 0) {
		tui_error("%s", err.msg);
		return;
	}
	P.busy = true;
	gh_build_rerun_failed(&P.client.c.t, r->provider_id, &P.post);
	P.have_post = true;
	const char *slug = P.client.c.t.slug;
	P.what = xasprintf("re-running run %lld of %s", id, slug);
	P.done_msg = xasprintf("re-run of the failed jobs of run %lld requested", id);
	struct buf q = BUF_INIT, title = BUF_INIT;
	buf_addf(&q, "Re-run the failed jobs (and the jobs that depend on them) of run %lld of %s?",
		 id, slug);
	buf_addf(&title, "confirm \u00b7 re-run the failed jobs of run %lld", id);
	ask(buf_cstr(&title), buf_cstr(&q));
	buf_release(&q);
	buf_release(&title);
}

static int runs_of_workflow(void *ctx, const struct run *r)
{
	struct buf *out = ctx;
	struct cs_err err;
	err_clear(&err);
	if (!out->len)
		store_run_workflow_ref(app.st, r->id, out, &err);
	return out->len ? 1 : 0;
}

/* A workflow as the API names it in a URL: an id or a file name as it is;
 * a name through a run of the index that carries it; else one request. */
static int workflow_ref(const char *workflow, struct buf *out, struct cs_err *err)
{
	buf_reset(out);
	bool digits = strspn(workflow, "0123456789") == strlen(workflow);
	if (digits || str_ends(workflow, ".yml") || str_ends(workflow, ".yaml")) {
		buf_adds(out, path_basename(workflow));
		return 0;
	}
	struct run_filter f = {.workflow = workflow, .limit = 20};
	store_runs(app.st, &f, runs_of_workflow, out, err);
	err_clear(err);
	if (out->len)
		return 0;
	return gh_resolve_workflow(&P.client.c, workflow, out, err);
}

static void on_ref(void *ctx, const char *text)
{
	(void)ctx;
	struct cs_err err;
	err_clear(&err);
	if (!text || !*text) {
		tui_message("not sent");
		post_clear();
		return;
	}
	if (client_get(&P.client, P.repo, &err) < 0) {
		tui_error("%s", err.msg);
		post_clear();
		return;
	}
	struct buf wf = BUF_INIT;
	if (workflow_ref(P.workflow, &wf, &err) < 0) {
		tui_error("%s", err.msg);
		buf_release(&wf);
		post_clear();
		return;
	}
	gh_build_dispatch(&P.client.c.t, buf_cstr(&wf), text, NULL, NULL, 0, &P.post);
	P.have_post = true;
	const char *slug = P.client.c.t.slug;
	P.what = xasprintf("dispatching workflow '%s' of %s", P.workflow, slug);
	P.done_msg = xasprintf("workflow '%s' dispatched on '%s'", P.workflow, text);
	struct buf q = BUF_INIT, title = BUF_INIT;
	buf_addf(&q, "Run workflow '%s' of %s on '%s'?", P.workflow, slug, text);
	buf_addf(&title, "confirm \u00b7 run workflow %s on %s", P.workflow, text);
	ask(buf_cstr(&title), buf_cstr(&q));
	buf_release(&q);
	buf_release(&title);
	buf_release(&wf);
}

static void on_workflow(void *ctx, const char *text)
{
	(void)ctx;
	if (!text || !*text) {
		tui_message("not sent");
		post_clear();
		return;
	}
	P.workflow = xstrdup(text);
	tui_prompt("on branch or tag: ", P.ref_default, on_ref, NULL);
}

void remote_dispatch(const struct run *r)
{
	struct cs_err err;
	err_clear(&err);
	if (post_busy())
		return;
	P.busy = true;
	P.repo = r && r->repo && strchr(r->repo, '/') ? xstrdup(r->repo) : index_repo();
	struct buf wf = BUF_INIT;
	if (r)
		store_run_workflow_ref(app.st, r->id, &wf, &err);
	if (!wf.len && r && r->workflow)
		buf_adds(&wf, r->workflow);
	P.ref_default = r && r->branch ? xstrdup(r->branch) : NULL;
	tui_prompt("dispatch workflow: ", buf_cstr(&wf), on_workflow, NULL);
	buf_release(&wf);
}

void remote_init(void)
{
	/* tests only: the interval in ms (0: no refresh) */
	const char *t = getenv("CISCOPE_TEST_REFRESH_MS");
	long ms = t && *t ? strtol(t, NULL, 10) : -1;
	F.refresh_base_ms = ms == 0 ? 0 : ms >= 100 && ms <= 3600000 ? (int)ms : REFRESH_MS;
	F.refresh_ms = F.refresh_base_ms;
	refresh_arm();
}

void remote_shutdown(void)
{
	if (P.call) {
		struct cs_err err;
		gh_call_finish(P.call, NULL, NULL, &err);
		P.call = NULL;
	}
	post_clear();
	if (F.f) {
		fetch_cancel(F.f);
		for (int guard = 0; !fetch_done(F.f) && guard < 100000; guard++)
			fetch_perform(F.f, NULL, 0);
		fetch_end(false);
	}
	pump_free(&fetch_pump);
	pump_free(&post_pump);
	client_free(&F.client);
	client_free(&P.client);
	free(F.root);
	F.root = NULL;
	F.refresh_armed = false;
}
