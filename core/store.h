/* store.h - the index: one SQLite database per repository.
 *
 * store_open() creates or migrates the schema (data/schema.sql and the
 * forward migrations data/migrations/NNN-name.sql, compiled in, versioned
 * with PRAGMA user_version), turns on WAL and foreign keys, and
 * sets a busy timeout so a reader and a fetch can share the file. Every
 * query the CLI and the views need lives here or in another core module:
 * views never write SQL.
 *
 * Opening is safe against other processes: the schema version is read again
 * under the write lock, so of two processes opening a fresh or older index
 * one migrates and the other finds it done; an open for reading that finds
 * an older schema waits for a concurrent upgrade to commit.
 *
 * Core modules that write their own SQL use the helpers of storesql.h; the
 * connection (st->db) is never touched outside core/ (make check-layering).
 *
 * Model structs returned by queries own their strings (store_*_free). Times
 * are milliseconds since the epoch or CS_TIME_NONE.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cistate.h"
#include "util.h"

struct sqlite3;

/* The schema version this ciscope brings an index to: the number of the
 * last file in data/migrations/ (generated, see tools/embed-schema.sh). */
extern const int store_schema_version;
#define STORE_SCHEMA_VERSION store_schema_version

/* Waiting for another writer. SQLite lets one connection write at a time;
 * the others get SQLITE_BUSY. Each store has a busy handler that waits for
 * the lock instead, as long as its policy says: max_ms (< 0: as long as it
 * takes), until *interrupted (Ctrl-C) becomes non-zero. Once the wait passes
 * STORE_WAIT_NOTICE_MS, notice() is called once with a sentence saying what
 * it waits for, so a second `ciscope import` says why it sits still rather
 * than failing with "database is locked" (a first import of a 3 GB log holds
 * its transaction for minutes). */
#define STORE_WAIT_NOTICE_MS 1000
#define STORE_WAIT_DEFAULT_MS 5000

struct store_wait {
	int64_t max_ms;
	void (*notice)(void *ctx, const char *msg);
	void *ctx;
	volatile sig_atomic_t *interrupted;
};

struct store {
	struct sqlite3 *db;
	char *path;
	bool readonly;
	/* opened with SQLite's immutable flag: the file or its folder cannot be
	 * written (a read-only mount, an archived index), and no -wal/-shm could
	 * be made for a shared read: reads see the file as it is */
	bool immutable;
	struct store_wait wait;
	int64_t wait_start_ms;  /* monotonic start of the current wait */
	bool wait_noticed;
	/* statements prepared once for the connection's life (store_cached()) */
	struct { const char *sql; struct sqlite3_stmt *s; } stmt_cache[64];
	int n_stmt_cache;
	struct store_ckpt *ckpt; /* store_ckpt_start() */
	int scans;               /* store_scan_begin()s not ended */
	bool scan_restore;       /* scan_cache is the cache size to restore */
	int scan_cache;
};

enum store_mode {
	STORE_RW = 0,       /* create if missing */
	STORE_RO_EXISTING,  /* must exist; read only (still migrates nothing) */
	/* must exist; as STORE_RO_EXISTING, but an index of an older schema
	 * that can be written is migrated first (under the write lock, as
	 * STORE_RW does) instead of refused: for the TUI and retriage, which
	 * write anyway. One that cannot be written is still refused. */
	STORE_UPGRADE_EXISTING,
};

/* The policy given to stores opened from now on (the waits of store_open's
 * own migration included); the default waits STORE_WAIT_DEFAULT_MS without a
 * notice. The CLI sets a patient one at start; the TUI keeps the default. */
void store_wait_default(const struct store_wait *w);
void store_set_wait(struct store *st, const struct store_wait *w);

/* The default database path: $CISCOPE_DB, else
 * $XDG_DATA_HOME/ciscope/<slug with / as _>.db (~/.local/share when unset),
 * slug NULL meaning "default". Caller frees. */
char *store_default_path(const char *slug);

struct store *store_open(const char *path, enum store_mode mode, struct cs_err *err);
void store_close(struct store *st);

/* A statement prepared once and kept until store_close(): for SQL run again
 * and again (per run of an import, per run of a triage), where preparing it
 * each time costs more than running it. sql is a string literal (its text is
 * the key). Call store_cached_done() after each use: it resets the statement
 * and clears its bindings, so none is left running at a commit. */
int store_cached(struct store *st, const char *sql, struct sqlite3_stmt **s);
void store_cached_done(struct sqlite3_stmt *s);

/* A savepoint's or a statement's undo pages stay in memory up to this many
 * bytes, then go to a temporary file (core/store.c). */
#define STORE_JOURNAL_SPILL (8 << 20)
/* Transactions: BEGIN IMMEDIATE so writers queue instead of failing late. */
int store_begin(struct store *st, struct cs_err *err);
int store_commit(struct store *st, struct cs_err *err);
void store_rollback(struct store *st);
/* A long write (an import of a folder): the WAL is copied back into the
 * index (checkpointed) by a second connection on a thread of its own while
 * this one goes on writing, instead of by the writer after its commits
 * (SQLite's automatic checkpoint). The writer still checkpoints itself when
 * the WAL passes STORE_CKPT_SYNC_BYTES (the thread lags behind), so the WAL
 * stays bounded. false (and the writer checkpoints as before) for an index
 * in memory or read-only, or when no thread or connection can be had.
 * store_ckpt_stop() (store_close() too) ends it.
 * The bound is the WAL's size limit (64 MiB, core/store.c): each time the
 * writer checkpoints, the pipeline that feeds it (core/logwrite.c) stands
 * idle, and at 16 MiB that was four times in a 100 MiB import of big logs
 * (~120 ms each, a third of the import's wall time). Tests lower it through
 * store_ckpt_sync_bytes. */
#define STORE_CKPT_SYNC_BYTES (64 << 20)
extern long store_ckpt_sync_bytes;
bool store_ckpt_start(struct store *st);
void store_ckpt_stop(struct store *st);
/* Run one statement without results (name it in errors). */
int store_exec(struct store *st, const char *sql, struct cs_err *err);
/* A number that changes whenever another connection commits a change to the
 * database (PRAGMA data_version): a view polls it to know when to reload.
 * -1 on error. */
int64_t store_data_version(struct store *st);
/* Between these, the connection keeps a small page cache (SQLite's
 * cache_size; store.c, STORE_SCAN_CACHE_KIB): for a search, which reads
 * its list and filters once each. Every page a bigger cache keeps is fresh
 * memory first touched by the read (a page fault each, and the allocator's
 * growth): for a rare token in a 1 GiB log, a quarter of the search. The
 * size before comes back when the last store_scan_begin() is ended. */
void store_scan_begin(struct store *st);
void store_scan_end(struct store *st);
/* Fill err from the connection's last error, prefixed with what. */
int store_err(struct store *st, struct cs_err *err, const char *what);
/* What to tell the user about the connection's last error, with a leading
 * space ("" when nothing useful): " (the disk is full)", ... Every module
 * that reports an SQLite error on its own appends it. */
const char *store_hint(struct sqlite3 *db);

/* --- model ---------------------------------------------------------------- */
struct run {
	int64_t id;          /* row id */
	int64_t provider_id; /* GitHub run id */
	int attempt;
	int64_t run_number;
	char *repo;          /* owner/name */
	char *workflow;
	char *title;
	char *event;
	char *branch;
	char *sha;
	char *status;
	char *conclusion;    /* NULL while not completed */
	int64_t created_at, updated_at, started_at;
	char *html_url;
	char *actor;
	int64_t duration_ms; /* updated_at - started_at for completed runs, else (and for
	                      * local CI results: one time, no duration) CS_TIME_NONE */
	int n_jobs, n_failed_jobs;
	char *commit_subject; /* first line of the head commit's message, or NULL */
	/* a log imported alone: why its conclusion is what it is (the evidence,
	 * or "given with --conclusion"); NULL for runs that came with one */
	char *conclusion_why;
};

/* a run imported from a log file or a bare log archive (event "import"):
 * its jobs' ids are positions ciscope made up, not GitHub's, so they are
 * not printed as if they identified anything */
static inline bool run_job_ids_synthetic(const struct run *r)
{
	return r && r->event && strcmp(r->event, "import") == 0;
}

struct step {
	int number;
	char *name;
	char *status;
	char *conclusion;
	int64_t started_at, completed_at;
	int64_t first_line, last_line; /* 0 when unknown */
};

struct job {
	int64_t id;          /* row id */
	int64_t provider_id;
	int64_t run_id;      /* runs.id */
	char *name;
	char *status;
	char *conclusion;
	int64_t started_at, completed_at;
	char *runner_name;
	char *html_url;
	int64_t log_id;      /* 0 when no log is stored */
	char *log_state;     /* missing, stored, expired */
	/* logs.source: 'gh-log' when each raw line was job<TAB>step<TAB>line and
	 * the store keeps the lines without the prefix (raw output puts it back) */
	char *log_source;
	int64_t line_count;
	int64_t raw_size;
	struct step *steps;
	int n_steps;
	int n_errors, n_warnings;
};

void run_free(struct run *r);       /* frees members, not r */
void run_copy(struct run *dst, const struct run *src); /* deep copy */
void job_free(struct job *j);

/* "failure" | "success" | ... for display: conclusion, else status. */
const char *run_state(const struct run *r);
/* Failure states (ci_conclusion_is_failure, CI_FAILED_SQL): cistate.h. */

/* --- queries ---------------------------------------------------------------- */
/* Orders of the run list. Every order ends with the newest-first keys and the
 * row id, so it is total: pages fetched with limit/offset never overlap. */
enum run_sort {
	RUN_SORT_NEWEST = 0, /* created_at, newest first */
	RUN_SORT_DURATION,   /* longest first; unfinished runs last */
	RUN_SORT_WORKFLOW,   /* workflow name (case-insensitive) */
	RUN_SORT_BRANCH,     /* branch name (case-insensitive) */
	RUN_SORT_STATUS,     /* failed, in progress, cancelled, other, succeeded */
	RUN_SORT_COUNT
};
const char *run_sort_name(enum run_sort s); /* "newest", "duration", ... */

struct run_filter {
	const char *workflow;
	const char *branch;
	/* matches status or conclusion; also "failed" (any failure conclusion)
	 * and "running" (not completed) */
	const char *status;
	const char *text;     /* substring of workflow, branch, sha, title, event */
	int limit;            /* 0: no limit */
	int offset;
	const char *event;
	/* each word a substring (case-insensitive) of workflow, branch, sha,
	 * title, event, run id or commit subject */
	const char *const *words;
	int n_words;
	enum run_sort sort;
};

typedef int (*run_cb)(void *ctx, const struct run *r);
/* Runs in f->sort order: newest first by default (created_at, then provider
 * id and attempt). A page (limit/offset) costs one query that sorts only the
 * keys; the columns are read for the page's rows alone. */
int store_runs(struct store *st, const struct run_filter *f, run_cb cb, void *ctx,
	       struct cs_err *err);
long store_count_runs(struct store *st, const struct run_filter *f, struct cs_err *err);
/* Where run row id sits in the list f describes (its sort and filter; limit
 * and offset ignored): 0-based, or -1 when it is not in the list. Costs a
 * pass over the matching runs: for keeping a cursor on its run when the list
 * changes, not for every frame. -2 on error. */
long store_run_index(struct store *st, const struct run_filter *f, int64_t run_row_id,
		     struct cs_err *err);
/* Counts for a status bar, in one query: runs matching f, how many of them
 * failed (ci_conclusion_is_failure), how many are not completed. */
struct run_counts {
	long total, failed, in_progress; /* rows: every attempt is one */
	long runs;                       /* distinct runs (an attempt re-runs one) */
};
int store_run_counts(struct store *st, const struct run_filter *f, struct run_counts *out,
		     struct cs_err *err);

/* The longest workflow, branch and event names (in characters) among the
 * runs matching f: a list sizes its columns with them. */
struct run_widths {
	int workflow, branch, event;
};
int store_run_widths(struct store *st, const struct run_filter *f, struct run_widths *out,
		     struct cs_err *err);
/* Both of one reading of the runs (a list's counts and widths). */
int store_run_counts_widths(struct store *st, const struct run_filter *f,
			    struct run_counts *counts, struct run_widths *widths,
			    struct cs_err *err);

/* Find a run by "ID" or "ID:ATTEMPT" (no attempt: the latest one), also by
 * row id when spec is "#ROWID". Fills *out. */
int store_find_run(struct store *st, const char *spec, struct run *out, struct cs_err *err);
/* How a run is named to a user, as store_find_run reads it back: "ID",
 * or "ID:ATTEMPT" for a later attempt. Returns out. */
#define RUN_REF_MAX 32
char *run_ref(char *out, size_t n, int64_t run, int attempt);
/* The branch pushes go to most (main or master on a tie); NULL (err
 * cleared) when the index has no branch at all. Caller frees. */
char *store_default_branch(struct store *st, struct cs_err *err);
/* The newest failed run (ci_conclusion_is_failure) of branch (NULL: any
 * branch) that has jobs: a run of local CI results alone (core/metrics.h)
 * has nothing to triage or diff. CS_ENOTFOUND when there is none. */
int store_newest_failed_run(struct store *st, const char *branch, struct run *out,
			    struct cs_err *err);
/* The first successful run on branch created after `after` (ms): the run
 * since which the branch is green when `after` is its newest failure.
 * CS_ENOTFOUND when none. */
int store_first_success_after(struct store *st, const char *branch, int64_t after,
			      struct run *out, struct cs_err *err);
/* The workflow of run row id as the API names it in a URL: the base name of
 * its file ("ci.yml") when the index has it, else its id ("118203344");
 * out stays empty when it has neither (a run imported from a log file). */
int store_run_workflow_ref(struct store *st, int64_t run_row_id, struct buf *out,
			   struct cs_err *err);
/* Jobs of a run in jobs.json order, with their steps. *jobs is allocated. */
int store_jobs(struct store *st, int64_t run_row_id, struct job **jobs, int *n,
	       struct cs_err *err);
void store_jobs_free(struct job *jobs, int n);
/* Steps of one job (jobs.id), by number. */
int store_steps(struct store *st, int64_t job_row_id, struct step **steps, int *n,
		struct cs_err *err);
void store_steps_free(struct step *steps, int n);
/* Where a job is now, by what identifies it across re-imports (which give
 * the run and its jobs new row ids): repo slug, run id, attempt, job id.
 * Fills *run_row_id and *job_row_id (both 0 when the job is gone). */
int store_locate_job(struct store *st, const char *repo, int64_t run_provider_id, int attempt,
		     int64_t job_provider_id, int64_t *run_row_id, int64_t *job_row_id,
		     struct cs_err *err);
/* Does the index hold GitHub run provider_id (that attempt) of repository
 * slug (compared case-insensitively, as GitHub does), and is it completed?
 * One of enum store_held, or -1 with err set. The fetcher asks this to know
 * where new runs end. */
enum store_held { STORE_RUN_ABSENT = 0, STORE_RUN_INCOMPLETE = 1, STORE_RUN_COMPLETED = 2 };
int store_run_held(struct store *st, const char *slug, int64_t provider_id, int attempt,
		   struct cs_err *err);
/* The GitHub runs of slug whose latest attempt is held as not completed,
 * newest first (at most 1000): *ids is allocated, the caller frees it. */
int store_runs_incomplete(struct store *st, const char *slug, int64_t **ids, int *n,
			  struct cs_err *err);
/* Find a job of a run by provider id or exact name (then unique prefix). */
int store_find_job(struct job *jobs, int n, const char *spec, struct cs_err *err);

struct finding {
	int64_t job_id;
	int step_number;   /* 0 when unknown */
	int64_t line, end_line;
	char *severity;
	char *message;
};
int store_findings(struct store *st, int64_t job_row_id, struct finding **out, int *n,
		   struct cs_err *err);
void store_findings_free(struct finding *f, int n);
/* Where the log pager stops on e/E: triage's findings of the job (those it
 * shows, by their first line; message "[category] headline") and the
 * markers (##[error], ##[warning], ##[notice]), one per line (triage's
 * where both fall on one), in line order. A Maven log's [ERROR] lines or
 * a rustc error[E0308] are stops though no marker names them. */
int store_log_stops(struct store *st, int64_t job_row_id, struct finding **out, int *n,
		    struct cs_err *err);

struct log_group {
	int64_t first_line, last_line;
	int depth;
	char *title;
};
int store_log_groups(struct store *st, int64_t log_id, struct log_group **out, int *n,
		     struct cs_err *err);
void store_log_groups_free(struct log_group *g, int n);

/* Every stored log, for search: cb gets run, job and log ids. */
struct log_ref {
	int64_t run_row_id;
	int64_t run_provider_id;
	int attempt;
	const char *workflow;
	int64_t job_row_id;
	int64_t job_provider_id;
	const char *job_name;
	int64_t log_id;
};
typedef int (*log_ref_cb)(void *ctx, const struct log_ref *ref);
int store_logs(struct store *st, log_ref_cb cb, void *ctx, struct cs_err *err);

/* Artifacts, tests and metrics of a run, for `show`. */
struct run_summary {
	int n_artifacts, n_artifact_files;
	int tests_passed, tests_failed, tests_error, tests_skipped, tests_flaky;
	int n_series;
};
int store_run_summary(struct store *st, int64_t run_row_id, struct run_summary *out,
		      struct cs_err *err);

#endif
