/* fetch.h - fetching GitHub Actions runs into the cache and the index.
 *
 * The fetcher lists runs newest first, then for each run it wants downloads
 * the jobs (every attempt), the logs it needs and the artifacts matching the
 * globs, in parallel (libcurl multi, at most opts.jobs transfers at once),
 * into a run folder of the cache:
 *
 *   <cache root>/<owner>/<repo>/runs/<run id>/     run.json, jobs.json,
 *       logs/<job id>.txt, logs.zip, attempts/<n>/run.json,
 *       artifacts/<name>.zip or artifacts/<name> (a non-zipped artifact),
 *       logs/<job id>.expired, artifacts/<name>.expired (410: expired)
 *   <cache root>/<owner>/<repo>/index.json         ETags per URL, what a
 *       finished fetch covered (0600)
 *   <cache root>/<owner>/<repo>/http/              bodies of conditional
 *       answers (run listing pages, jobs pages)
 *   <cache root>/<owner>/<repo>/tmp/               downloads in progress
 *
 * Files are written under tmp/ and renamed into place; files are 0600 and
 * folders 0700. As soon as a run folder is complete it is imported (one
 * transaction per run, core/import.h), so an interrupted fetch keeps every
 * run it finished and the next fetch goes on from there.
 *
 * Which runs: the first fetch (of a given workflow/branch/since selection)
 * takes the newest opts.limit runs; later fetches take only runs that are
 * new or not completed when last seen, and stop paging at the first page
 * holding a completed run the index already has. A run listing page that did
 * not change costs one conditional request (304). Runs the index holds as
 * not completed are asked for again.
 *
 * Which logs: every job of a failed run, failed jobs of any run, and the
 * latest attempt of the newest successful run of each workflow and branch
 * (the baseline later comparisons use); all with opts.all_logs. The run's
 * log archive only when per-job logs are unavailable.
 *
 * Two ways to drive it:
 *  - fetch_run(): blocking, until done or *interrupted (the CLI);
 *  - incremental, for an event loop (the TUI): fetch_start(), then wait on
 *    fetch_fds() (descriptors plus a timeout), call fetch_perform() with the
 *    descriptors that are ready (or none when the timeout expired), until
 *    fetch_done(); fetch_cancel() stops it (runs finished so far are still
 *    imported, by the following fetch_perform calls); fetch_finish() says
 *    how it ended and frees it. fetch_run() is this loop.
 *
 * In the TUI (the `r` key): fetch_start() with on_run/on_progress/on_message
 * callbacks that mark views dirty and set the status bar; then, after
 * fetch_start and after every fetch_perform, ask fetch_fds() and bring the
 * loop's watches in line (tui_watch_fd for each descriptor, tui_unwatch_fd
 * for those gone) and arm tui_timer with the timeout; both callbacks call
 * fetch_perform (the fd's revents, or nothing for the timer). The callbacks
 * run inside fetch_perform, on the loop's thread. When fetch_done(), call
 * fetch_finish(). Esc calls fetch_cancel(). An import takes the time one
 * run's import takes (tens of ms; fetch_perform imports for at most ~50 ms
 * per call). `X` and `D` build their request with gh_build_rerun_failed() /
 * gh_build_dispatch() (github.h), show gh_post_describe() in the
 * confirmation, and send it with gh_call_start() (gh_request's policy,
 * driven by the loop the same way).
 */
#ifndef CS_FETCH_H
#define CS_FETCH_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "github.h"
#include "import.h"
#include "store.h"
#include "util.h"

#define FETCH_DEFAULT_LIMIT 200
#define FETCH_DEFAULT_JOBS 8
#define FETCH_DEFAULT_ARTIFACT_MAX (100ll << 20)
/* The artifact globs when none are given: a pattern without * ? [ matches
 * names containing it (case-insensitive); with them, the whole name. */
#define FETCH_DEFAULT_ARTIFACTS "parity,junit,test-results,bench,coverage"

enum fetch_msg { FETCH_INFO, FETCH_WARN, FETCH_ERROR };

struct fetch_progress {
	int runs_listed;      /* runs the listing showed (within the limit) */
	int runs_wanted;      /* of those, runs to download */
	int runs_done;        /* imported, or failed */
	int runs_imported;
	int runs_failed;
	int pages;            /* listing pages read */
	int jobs;             /* jobs seen */
	int logs_wanted, logs_done;
	int artifacts_wanted, artifacts_done;
	int requests;         /* HTTP requests made (retries and redirects included) */
	int not_modified;     /* answered 304 */
	int retries;
	uint64_t bytes;       /* bytes received */
	int in_flight;
	long rate_remaining;  /* -1 unknown */
	long rate_limit;
	int64_t rate_reset;   /* epoch seconds, 0 unknown */
	int64_t paused_until; /* a rate-limit pause: epoch ms, 0 none */
	int64_t started_ms;   /* monotonic */
	bool listing_done;
};

struct fetch_opts {
	const struct gh_client *client; /* target, token, retry policy; not copied */
	const char *cache_root;   /* <root>: the repository folder goes below it */
	const char *workflow;     /* id, file name or name (resolved: one request) */
	const char *branch;
	const char *since;        /* YYYY-MM-DD or RFC 3339 */
	int limit;                /* runs per fetch (0: FETCH_DEFAULT_LIMIT) */
	bool all_logs;
	const char *artifacts;    /* comma-separated globs; NULL: the default; "": none */
	int64_t artifact_max;     /* bytes (0: the default) */
	int jobs;                 /* parallel transfers (0: the default) */
	bool no_wait;             /* exhausted rate limit: stop instead of waiting */

	/* messages (waits, warnings, per-run errors): one sentence, raw text
	 * that may quote CI data - the caller sanitises it */
	void (*on_message)(void *ctx, enum fetch_msg level, const char *msg);
	/* each imported run */
	void (*on_run)(void *ctx, const struct import_event *ev);
	/* the counters, at most every 100 ms (and once at the end) */
	void (*on_progress)(void *ctx, const struct fetch_progress *p);
	void *ctx;
};


enum fetch_result {
	FETCH_OK = 0,
	FETCH_PARTIAL,       /* some runs failed (reported); the others imported */
	FETCH_FAILED,        /* nothing more could be done (401, no such repository, ...) */
	FETCH_INTERRUPTED,   /* fetch_cancel() */
	FETCH_RATE_LIMITED,  /* opts.no_wait and the primary limit exhausted */
};

struct fetcher;

/* Resolve the workflow, open the cache, prepare the first request. The
 * store is used for the "do we hold it" questions and the imports. NULL
 * with err set when it cannot start. */
struct fetcher *fetch_start(struct store *st, const struct fetch_opts *opts, struct cs_err *err);
/* The descriptors to wait on (up to max; returns how many there are, which
 * may exceed max) and *timeout_ms: how long the caller may wait before
 * calling fetch_perform anyway (-1: no limit, 0: call now). */
int fetch_fds(struct fetcher *f, struct pollfd *fds, int max, int *timeout_ms);
/* Do what is ready, without blocking on the network: the ready descriptors
 * (revents set; fds may be NULL), expired timers, finished transfers, new
 * requests, and imports of complete runs (these take the time an import
 * takes). */
void fetch_perform(struct fetcher *f, const struct pollfd *fds, int n);
bool fetch_done(const struct fetcher *f);
/* Stop: no new requests, transfers in flight dropped, their partial files
 * removed; complete runs are still imported by fetch_perform. */
void fetch_cancel(struct fetcher *f);
const struct fetch_progress *fetch_get_progress(const struct fetcher *f);
/* Bytes as the progress lines of fetch and the TUI show them: "12 MB",
 * "1.5 MB", "300 kB". */
void fetch_format_bytes(uint64_t n, char *out, size_t len);
/* The repository's cache folder (<root>/<owner>/<repo>). */
const char *fetch_cache_dir(const struct fetcher *f);
/* How it ended (err: the fatal error, for FETCH_FAILED and
 * FETCH_RATE_LIMITED); frees f and writes the cache index. */
enum fetch_result fetch_finish(struct fetcher *f, struct cs_err *err);

/* The blocking fetch: fetch_start ... fetch_finish, cancelling when
 * *interrupted becomes non-zero (a signal handler sets it). */
enum fetch_result fetch_run(struct store *st, const struct fetch_opts *opts,
			    volatile sig_atomic_t *interrupted, struct fetch_progress *last,
			    struct cs_err *err);

/* The cache root: $CISCOPE_CACHE, else $XDG_CACHE_HOME/ciscope, else
 * ~/.cache/ciscope. Caller frees. */
char *fetch_default_cache_root(void);

/* --- pieces exposed for tests ------------------------------------------------------------ */
/* Does artifact name match one of the comma-separated globs? */
bool fetch_artifact_matches(const char *globs, const char *name);
/* A name that is safe as one path component (artifact names become file
 * names): not empty, not . or .., no '/', NUL or control characters. */
bool fetch_safe_component(const char *name);
/* The marker written for an expired log or artifact (its whole content). */
#define FETCH_EXPIRED_MARKER IMPORT_EXPIRED_MARKER

#endif
