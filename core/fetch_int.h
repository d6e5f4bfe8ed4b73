/* fetch_int.h - what the parts of the fetcher share; private to core/fetch.c
 * (the transfer queue, the scheduler and the fetcher's life) and
 * core/fetchrun.c (the runs being fetched and what is done with each answer).
 * The interface is fetch.h; the cache on disk is fetchcache.h.
 */
#ifndef CS_FETCH_INT_H
#define CS_FETCH_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "curlpoll.h"
#include "fetch.h"
#include "fetchcache.h"
#include "github.h"
#include "import.h"
#include "store.h"

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


/* --- fetch.c ---------------------------------------------------------------------------------- */
/* The real clock: rate-limit resets are real times. */
int64_t fetch_wall_ms(void);
/* The fetcher's own pseudo-random numbers (backoff jitter). */
uint32_t fetch_rnd(struct fetcher *f);
/* A message to opts.on_message. */
void fetch_say(struct fetcher *f, enum fetch_msg level, const char *fmt, ...) PRINTF_LIKE(3, 4);
int fetch_ensure_dir(const char *path, struct cs_err *err);
/* A transfer of url (taken over) for run r (NULL: the listing), not queued. */
struct xfer *fetch_xfer_new(struct fetcher *f, enum xkind kind, struct frun *r, char *url);
void fetch_xfer_free(struct xfer *x);
/* Queue x: started by the scheduler when its time comes. */
void fetch_enqueue(struct fetcher *f, struct xfer *x);
/* Is x a request to the API host (not a download of signed storage)? */
bool fetch_on_api(const struct xfer *x);
/* Scheduling order: should a start before b? */
bool fetch_before(const struct xfer *a, const struct xfer *b);
/* Stop the whole fetch with err (the first fatal error is kept). */
void fetch_fatal(struct fetcher *f, enum fetch_result kind, const struct cs_err *err);
/* Take x's handle out of the multi handle and free it and its headers. */
void fetch_xfer_detach(struct fetcher *f, struct xfer *x);

/* --- fetchrun.c -------------------------------------------------------------------------------- */
void fetch_frun_release(struct frun *r);
/* x is over (used, failed or dropped): its run counts one transfer less. */
void fetch_xfer_done_with(struct fetcher *f, struct xfer *x);
/* The listing has no more pages: runs held as in progress are asked again. */
void fetch_listing_finished(struct fetcher *f);
/* Judge and use every transfer libcurl has finished. */
void fetch_check_done_transfers(struct fetcher *f);

#endif
