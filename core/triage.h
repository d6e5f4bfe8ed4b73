/* triage.h - why did this run fail: findings, fingerprints, triage states.
 *
 * For every failed job (conclusion failure, timed_out, startup_failure,
 * action_required; cancelled jobs of a failed run too) triage finds the
 * lines that explain the failure, most precise source first:
 *
 *  1. structured sources: the job's conclusion (timed_out, cancelled,
 *     startup_failure), the run's JUnit failures (test name, message,
 *     file:line; joined to the log finding that names the test, else shown
 *     on their own), ##[error] lines;
 *  2. the rules (rules.h: data/rules.conf, then a repository's own rules)
 *     over the job's log, streamed through the log store: memory stays
 *     bounded whatever the log (a ring of recent lines, at most
 *     TRIAGE_MAX_CANDIDATES findings kept, repeats of a fingerprint counted);
 *     a traceback, a panic with its backtrace, a compiler error with its
 *     notes is one finding;
 *  3. when no rule found anything telling in the failing step (or the last
 *     finding ends more than TRIAGE_FALLBACK_FAR lines before the step's
 *     end), the lines closest to the end of the failing step, marked as a
 *     fallback: a failed job always has something to read.
 *
 * Each finding keeps its job, step, first and last line (1-based lines of
 * the job's log; 0 for findings not from the log), an excerpt with context,
 * the rule, category and decision (rules.h), and a fingerprint
 * (fingerprint.h). A repeat of a fingerprint in the job is counted, not
 * kept; a finding directly followed by more of its kind (or by lines that
 * only say the command failed) grows to take them in.
 *
 * Ranking: conclusion findings; rule findings in the failing step (steps
 * unknown: anywhere); JUnit failures no log line names; the fallback;
 * findings in other steps; weak findings (only when nothing else is
 * found). Within a class, the last cluster of findings (no gap of more than
 * TRIAGE_CLUSTER_GAP lines) comes first, its latest finding leading: what
 * ran last is what stopped the job, errors followed by pages of work were
 * survived. The excerpts of a job's shown findings total at most
 * TRIAGE_MAX_LINES lines: each finding in rank order gets up to
 * TRIAGE_FIRST_SHARE lines, then what is left makes the best ones whole.
 *
 * Results are computed when a run is imported (import.c calls
 * triage_after_import inside the run's transaction) and cached with the
 * version of the algorithm, the normaliser and the rules that produced them
 * (triage_version); triage_ensure recomputes what is missing or stale (a
 * rules file edited, an index from an older ciscope) and
 * triage_retriage recomputes everything, carrying triage states over to the
 * new fingerprints of the same findings.
 *
 * Implemented by triage.c (computing), triageread.c (reading findings,
 * states, failed-run lists and groups back) and ruletest.c (testing rules
 * against the index). Fingerprint history and flakiness live in history.h; choosing a run
 * (the default branch, the newest failed run) in store.h; the checkout's
 * rules file and user name come from gitrepo.h.
 *
 * Tables (migration 2 in store.c): triage_jobs (job_id, version, counts),
 * triage_findings (one row per finding), triage_states (fingerprint, state,
 * note, set_by, set_at).
 */
#ifndef CS_TRIAGE_H
#define CS_TRIAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "fingerprint.h"
#include "history.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define TRIAGE_ALGO_VERSION 3 /* 3: a `key end` finding is headed by its last line */
/* A finding that stands for its failure, over triage_findings f: a weak
 * line ("##[error]Process completed with exit code 1.") kept but hidden
 * behind a telling finding of its job is no failure of its own; counting it
 * would merge every job that exits non-zero into one "flaky" group. History,
 * flakiness and the fingerprint groups count telling findings only. */
#define TRIAGE_TELLING_SQL "(f.shown OR NOT f.weak)"
#define TRIAGE_MAX_LINES 40       /* excerpt lines shown per failing job */
#define TRIAGE_FIRST_SHARE 12     /* lines each finding gets before any gets more */
#define TRIAGE_FALLBACK_LINES 20  /* lines before the failing step's end */
#define TRIAGE_FALLBACK_FAR 100   /* ... also shown when the last finding ends this far before it */
#define TRIAGE_CLUSTER_GAP 100    /* lines between findings that start an earlier cluster */
#define TRIAGE_MAX_CANDIDATES 64  /* distinct findings kept while scanning a job */
#define TRIAGE_MAX_STORED 50      /* findings stored per job */
#define TRIAGE_MAX_JUNIT 20       /* JUnit failures considered per run */
#define TRIAGE_EXCERPT_LINE_MAX 500 /* bytes of a line kept in an excerpt */

/* --- rules --------------------------------------------------------------------- */
/* The rules triage uses: a repository's own first ($CISCOPE_RULES when set,
 * else .ciscope/rules.conf at the top of the git checkout holding the
 * current directory, when it exists), then the built-in ones. Loaded once;
 * NULL (err set, naming file:line:rule) when a rules file is bad. */
const struct ruleset *triage_rules(struct cs_err *err);
/* Use rs from now on (the caller keeps it alive); NULL: the default again. */
void triage_use_rules(const struct ruleset *rs);
/* "t1.n1.r<rules hash>": what a cached result must carry to be current. */
void triage_version(const struct ruleset *rs, char *out, size_t n);

/* --- computing ----------------------------------------------------------------- */
/* Triage the failed jobs of a run (runs.id), replacing earlier results,
 * inside the caller's transaction. */
int triage_run(struct store *st, const struct ruleset *rs, int64_t run_row_id,
	       struct cs_err *err);
/* The import's hook (inside its transaction): triage_run with
 * triage_rules(). A bad rules file does not fail the import: the run is
 * left for triage_ensure, which reports the problem. */
int triage_after_import(struct store *st, int64_t run_row_id, struct cs_err *err);
/* The same for a run of logs imported alone, whose jobs are taken as failed
 * until judged: a job without an error finding of a rule or a marker passed,
 * and is left untriaged (import.c's conclude_log). */
/* mem: the bytes of some of its jobs' logs as they were stored (n_mem of
 * them, or none): those are scanned from memory, the index is read only for
 * the excerpts of a job that failed. */
struct triage_prescan;
struct triage_log_mem {
	int64_t job_row_id;
	const char *data; /* NULL: not kept (read back unless pre fits) */
	size_t len;
	/* the rules scan of these bytes made ahead (triage_prescan_make()),
	 * or NULL: triage scans them itself */
	const struct triage_prescan *pre;
	/* steps_known: the job's steps as stored (steps, n_steps), not read back */
	const struct step *steps;
	int n_steps;
	bool steps_known;
};

/* The rules scan of a log made on another thread (the import's read-ahead):
 * its findings as the rules report them, replayed by triage when it judges
 * the log instead of scanning it again. A workspace scans with triage's
 * own rules (triage_rules(), loaded once whichever thread asks first, and
 * kept: compiling them is most of a small import's work) through a scanner
 * of its own (a scanner's match data is not shared between threads): NULL
 * when triage's rules are not the loaded ones (triage_use_rules()) or the
 * files cannot be read. */
struct triage_prescan_ws;
struct split_line;
struct triage_prescan_ws *triage_prescan_ws_new(void);
void triage_prescan_ws_free(struct triage_prescan_ws *ws);
struct triage_prescan *triage_prescan_new(void);
void triage_prescan_free(struct triage_prescan *p);
/* Scan a log of n bytes into p: begin, each line of its split in order
 * (triage_prescan_line(ws, line)), end (ok: every line was given, n_lines
 * of them); p is left not ok on any failure. */
void triage_prescan_begin(struct triage_prescan_ws *ws, struct triage_prescan *p);
int triage_prescan_line(void *ws, const struct split_line *l);
void triage_prescan_end(struct triage_prescan_ws *ws, bool ok, uint64_t n_lines, size_t n);
void triage_prescan_clear(struct triage_prescan *p);
/* The findings p holds so far (each kept until triage replays them). */
int triage_prescan_hits(const struct triage_prescan *p);
/* Is p a scan of those n bytes (ok, made with the rules triage uses)? */
bool triage_prescan_ok(const struct triage_prescan *p, size_t n);
/* Judge the jobs of run_row_id, a run this import has just inserted (its
 * jobs' ids are new, so they have no triage rows yet, and the run no test
 * results: neither is looked for). *n_judged_failed: the jobs judged failed
 * (their triage stored); 0 says the run's jobs have no triage rows at all;
 * -1 when no triage was made (the rules could not be had). */
int triage_judge_after_import(struct store *st, int64_t run_row_id,
			      const struct triage_log_mem *mem, int n_mem, int *n_judged_failed,
			      struct cs_err *err);
/* Triage every failed job whose cached result is missing or was made by
 * another version, in transactions of a few runs. *n_jobs: jobs triaged. */
int triage_ensure(struct store *st, const struct ruleset *rs, int *n_jobs, struct cs_err *err);

struct retriage_stats {
	int runs, jobs, findings;
	int fingerprints_before, fingerprints_after;
	int states_carried; /* triage states copied to a finding's new fingerprint */
};
/* Recompute everything in one transaction (interrupted: rolled back). */
int triage_retriage(struct store *st, const struct ruleset *rs, struct retriage_stats *out,
		    volatile sig_atomic_t *interrupted, struct cs_err *err);

/* Does triage look at job j of run r? (failure, timed_out, startup_failure,
 * action_required; cancelled when the run failed) */
bool triage_job_failed(const struct run *r, const struct job *j);
/* The same as SQL, for a row j of jobs joined to its run r: the list as
 * comparisons, not `IN (...)`, which SQLite makes into a temporary b-tree
 * each time the statement runs (two a small log's triage, 9,000
 * instructions each, for a row or two). */
#define TRIAGE_FAILED_J_(s) "j.conclusion = '" s "'"
#define TRIAGE_FAILED_J_NEXT_(s) " OR j.conclusion = '" s "'"
#define TRIAGE_FAILED_R_(s) "r.conclusion = '" s "'"
#define TRIAGE_FAILED_R_NEXT_(s) " OR r.conclusion = '" s "'"
#define TRIAGE_JOB_FAILED_SQL                                                          \
	"(" CI_FAILED_CONCLUSIONS(TRIAGE_FAILED_J_, TRIAGE_FAILED_J_NEXT_)             \
	" OR (j.conclusion = 'cancelled' AND ("                                        \
	CI_FAILED_CONCLUSIONS(TRIAGE_FAILED_R_, TRIAGE_FAILED_R_NEXT_) ")))"

/* --- findings ------------------------------------------------------------------ */
struct triage_line {
	int64_t line; /* 0: not a log line (a JUnit message, a conclusion) */
	char *text;   /* timestamp and escape sequences removed; capped */
};

struct triage_finding {
	int64_t id;
	int64_t job_row_id, job_provider_id;
	char *job_name;
	int64_t run_row_id;
	int rank;            /* 0: the most telling finding of its job */
	bool shown;          /* part of the job's capped excerpt */
	int step_number;     /* 0 when unknown */
	char *step_name;     /* NULL when unknown */
	int64_t line, end_line; /* 0 when not from the log */
	char *source;        /* rule, marker, junit, conclusion, fallback, no-log */
	char *rule;          /* rule id ("fallback", "junit", "job-timed-out", ...) */
	char *category;
	enum decision decision;
	char *severity;      /* error, warning */
	bool weak;
	bool fallback;
	char *title;         /* the line that says it, capped */
	char *explain;       /* the rule's one-line explanation */
	char *test_name;     /* the JUnit test it is about, or NULL */
	int repeats;         /* more findings of the same fingerprint in the job */
	char fingerprint[FP_HEX_LEN + 1];
	char *key_text;      /* the raw lines the fingerprint was made from */
	struct triage_line *excerpt;
	int n_excerpt;
};

/* Findings of a job (jobs.id), best first; only the shown ones when
 * shown_only. */
int triage_job_findings(struct store *st, int64_t job_row_id, bool shown_only,
			struct triage_finding **out, int *n, struct cs_err *err);
void triage_findings_free(struct triage_finding *f, int n);

/* A job's triage summary: 0 with *triaged false when it was never triaged. */
struct triage_job_info {
	bool triaged;
	char version[64];
	int n_findings, n_lines, n_dropped;
	bool fallback;
};
int triage_job_info(struct store *st, int64_t job_row_id, struct triage_job_info *out,
		    struct cs_err *err);

/* --- triage states ----------------------------------------------------------------- */
extern const char *const triage_state_names[]; /* NULL-terminated */
/* One of the names, or "new" (the old name of "untriaged"). */
bool triage_state_valid(const char *state);
/* The name a state is shown by: the index's 'new' (or none) is "untriaged". */
const char *triage_state_word(const char *state);
/* A fingerprint from a unique prefix (4+ hex digits) of one in the index. */
int triage_resolve_fingerprint(struct store *st, const char *prefix, char out[FP_HEX_LEN + 1],
			       struct cs_err *err);
/* Set the state of a fingerprint (a unique prefix will do); note NULL keeps
 * the note there is; who is recorded with the time. */
int triage_set_state(struct store *st, const char *fingerprint, const char *state,
		     const char *note, const char *who, char out[FP_HEX_LEN + 1],
		     struct cs_err *err);

/* --- failed runs ------------------------------------------------------------------- */
/* What the triage view lists: failed runs, newest first, each with a
 * summary of its findings. Filters are exact; NULL means any. */
struct triage_filter {
	const char *workflow, *branch;
	const char *category; /* runs with a shown finding of this category */
	const char *state;    /* runs with a shown finding whose fingerprint has this state */
	int limit, offset;    /* limit 0: no limit */
};

struct triage_run_summary {
	int64_t run_row_id;
	int n_failed_jobs;
	int n_findings;      /* shown findings */
	int n_fallback;
	int n_known_flaky;   /* shown findings whose fingerprint is known-flaky */
	bool all_known_flaky; /* every shown finding is (and there is one) */
	char categories[128]; /* distinct categories of shown findings, "compile,test" */
};
int triage_run_summary(struct store *st, int64_t run_row_id, struct triage_run_summary *out,
		       struct cs_err *err);

typedef int (*triage_run_cb)(void *ctx, const struct run *r,
			     const struct triage_run_summary *s);
int triage_failed_runs(struct store *st, const struct triage_filter *f, triage_run_cb cb,
		       void *ctx, struct cs_err *err);

/* Fingerprints across the index, most recently seen first: the grouped
 * list ("seen in 7 runs since abc1234"). */
struct triage_group {
	char fingerprint[FP_HEX_LEN + 1];
	char *category, *rule, *title; /* of its latest finding */
	char *state;
	int n_runs, n_commits;
	int64_t first_at, last_at;
	int64_t last_run_row_id;
};
typedef int (*triage_group_cb)(void *ctx, const struct triage_group *g);
int triage_groups(struct store *st, const struct triage_filter *f, triage_group_cb cb,
		  void *ctx, struct cs_err *err);

/* --- for the terminal UI -------------------------------------------------------------- */
/* For each of n runs (runs.id), out[i]: are all its failures known flaky
 * (triage_run_summary's all_known_flaky), with one query per 500 runs: the
 * run list marks a window of rows at once. */
int triage_runs_known_flaky(struct store *st, const int64_t *run_row_ids, int n, bool *out,
			    struct cs_err *err);

/* The findings with a fingerprint across the index (every job that shows
 * it), newest run first, at most limit (0: no limit). */
int triage_fingerprint_findings(struct store *st, const char *fingerprint, int limit,
				struct triage_finding **out, int *n, struct cs_err *err);

/* triage_ensure in slices, for a UI that must not block: begin lists the
 * runs whose triage is missing or stale (the latest imported first, as a
 * list of recent failures wants them); each step triages up to max_runs
 * of them in one transaction and returns 1 while some remain, 0 when all
 * are done, -1 on an error (that slice rolled back; the job may be freed
 * or stepped again). */
struct triage_ensure_job;
struct triage_ensure_job *triage_ensure_begin(struct store *st, const struct ruleset *rs,
					      struct cs_err *err);
int triage_ensure_step(struct triage_ensure_job *job, int max_runs, struct cs_err *err);
/* Runs done and to do, jobs triaged so far. */
void triage_ensure_progress(const struct triage_ensure_job *job, int *runs_done,
			    int *runs_total, int *jobs);
void triage_ensure_free(struct triage_ensure_job *job);

/* --- testing rules against the index ----------------------------------------------- */
/* Per rule of rs: in how many failed and successful runs (by the run's
 * conclusion; others are not counted) it finds something in any stored
 * log, as triage would (first match wins, multi-line findings whole), and
 * how many findings. A rule that hits more than TRIAGE_TOO_BROAD of the
 * successful runs is too broad (openstack's elastic-recheck rule). */
#define TRIAGE_TOO_BROAD 0.10
struct rule_test {
	const struct rule *rule;
	int failed_runs, successful_runs;
	long hits;
	int64_t last_run; /* internal: the run counted last */
};
struct rule_test_totals {
	int failed_runs, successful_runs; /* runs with a stored log */
	long logs;
	uint64_t lines;
};
/* out gets one entry per rule, in rule order (caller frees it). */
int triage_test_rules(struct store *st, const struct ruleset *rs, struct rule_test **out,
		      struct rule_test_totals *tot, volatile sig_atomic_t *interrupted,
		      struct cs_err *err);
bool rule_test_too_broad(const struct rule_test *t, const struct rule_test_totals *tot);

#endif
