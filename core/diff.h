/* diff.h - a run against its baseline: jobs, logs, tests, steps (issue 10).
 *
 * run_diff_compute() does all the work once: it chooses the baseline
 * (baseline.h) unless one is given, pairs the jobs by name (matrix names
 * included; a job named on either side pairs with the one named on the
 * other, or with the job of the same name), diffs the log of every paired
 * job (logdiff.h), compares the JUnit results of the two runs and the jobs'
 * and steps' conclusions and durations. The result owns everything it
 * holds: a view pages through its arrays without touching the index again
 * (Enter on a log line needs only the job's row id and the line number,
 * both in the result).
 *
 * Tests are identified by classname and name; a test reported several times
 * in a run (matrix jobs, several report files) fails when any report fails,
 * is flaky when any report is (or passed after reruns), and takes its
 * longest duration. "Slower" needs both runs to have passed it, a ratio of
 * at least slower_ratio and at least slower_floor_ms more.
 *
 * Metrics and parity (issue 10 §5) are computed by parity.h and kept here:
 * every metric both runs have (metric_compare_runs), the run's own parity
 * report (parity_run: its verdict and channels) and, when the baseline has
 * the same series, the run's candidates against the baseline's
 * (parity_runs). Parity needs the caller's configuration (diff_opts.parity).
 */
#ifndef CS_DIFF_H
#define CS_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "baseline.h"
#include "logdiff.h"
#include "parity.h"
#include "store.h"
#include "util.h"

#define DIFF_SLOWER_RATIO 1.5
#define DIFF_SLOWER_FLOOR_MS 2000

struct diff_opts {
	struct logdiff_opts log;
	double slower_ratio;      /* 0: DIFF_SLOWER_RATIO */
	int64_t slower_floor_ms;  /* <0: DIFF_SLOWER_FLOOR_MS */
	const char *base_branch;  /* a pull request's base (NULL: the default branch) */
	const struct parity_conf *parity; /* NULL: no parity report */
	int parity_flags;         /* PARITY_KEEP_DATA: keep the run's channel data (charts) */
};

/* One paired job and its log diff. */
struct diff_job {
	int run_job, base_job;    /* indices into run_diff.jobs / base_jobs */
	bool has_log;             /* both sides had a stored log: log is filled */
	char *note;               /* why there is no log diff, or NULL */
	struct logdiff log;
	/* Where to start reading: the first new ('+' or '~') line of the job's
	 * failed step, else the first new line inside a triage finding, else
	 * the first new line; 0 when nothing is new. */
	uint64_t first_new;
	int first_new_step;       /* its step number, 0 when unknown */
};

enum test_state { TEST_PASSED, TEST_FAILED, TEST_SKIPPED, TEST_FLAKY, TEST_ABSENT };

struct diff_test {
	char *classname;          /* may be NULL */
	char *name;
	enum test_state state, base_state;
	int64_t ms, base_ms;      /* CS_TIME_NONE when unknown */
	char *message;            /* the run's failure message (capped), or NULL */
};

enum diff_test_list {
	DT_NEW_FAILURES, DT_STILL_FAILING, DT_FIXED, DT_NEW, DT_REMOVED, DT_FLAKY, DT_SLOWER,
	DT_FAILING, /* without a baseline: the run's failing tests (the others stay empty) */
	DT_COUNT
};

struct diff_tests {
	struct diff_test *list[DT_COUNT];
	int n[DT_COUNT];
	size_t alloc[DT_COUNT];
	int run_total, base_total; /* distinct tests in each run */
};

/* The JSON name of a test list ("new_failures", ...) and of a state. */
const char *diff_test_list_name(enum diff_test_list l);
const char *diff_test_state_name(enum test_state s);

enum step_change { STEP_SAME, STEP_CHANGED, STEP_ADDED, STEP_REMOVED };

struct diff_step {
	char *name;
	int number, base_number;  /* 0 on the side without the step */
	char *conclusion, *base_conclusion;
	int64_t ms, base_ms;      /* CS_TIME_NONE when unknown */
	enum step_change change;  /* CHANGED: conclusion differs */
};

/* Jobs side by side (a paired job, or one side alone). */
struct diff_jobstep {
	int run_job, base_job;    /* -1 on the side without the job */
	struct diff_step *steps;
	int n_steps;
};

struct run_diff {
	struct run run;
	bool has_base;
	struct run base;
	bool base_given;          /* named by the caller, not chosen */
	char reason[320];         /* why this baseline (or why none) */
	char note[320];           /* the run's attempts, or "" */
	struct job *jobs, *base_jobs;
	int n_jobs, n_base_jobs;
	struct diff_job *pairs;
	int n_pairs;
	int *unpaired, *base_unpaired; /* job indices without a partner */
	int n_unpaired, n_base_unpaired;
	struct diff_tests tests;
	struct diff_jobstep *steps;
	int n_steps;
	uint64_t new_lines;       /* '+' and '~' lines over every paired job */
	bool has_metrics;         /* with a baseline: metrics is filled */
	struct metric_compare metrics;
	bool has_parity;          /* opts.parity given: parity is filled (maybe no channel) */
	struct parity_report parity;          /* inside the run */
	bool has_parity_vs_base;  /* the baseline has series of the run's channels */
	struct parity_report parity_vs_base;  /* the run's candidates against the baseline's */
	/* run_diff_step(): parts done and in all (each paired job's log, the
	 * tests, metrics and parity) */
	int work_done, work_total;
};

/* Compare run r (its job run_job only, when not NULL) with base (its job
 * base_job only, when not NULL), or with the baseline chosen for r when
 * base is NULL (g: the checkout, may be NULL). Errors: CS_ENOTFOUND when a
 * named job is not in its run. */
int run_diff_compute(struct store *st, struct gitrepo *g, const struct run *r,
		     const char *run_job, const struct run *base, const char *base_job,
		     const struct diff_opts *o, struct run_diff *out, struct cs_err *err);
void run_diff_release(struct run_diff *d);

/* For the text forms (ciscope diff and the diff view): how many metrics
 * moved; a job's duration (CS_TIME_NONE when j is NULL or not timed); a
 * duration against the baseline's, "1m 2s (was 50s, +12s, +24%)". */
int run_diff_metrics_moved(const struct run_diff *d);
int64_t run_diff_job_ms(const struct job *j);
void run_diff_duration_text(struct buf *b, int64_t ms, int64_t base_ms);
/* What follows a test's name in list l: " (failed before)" on a new
 * failure, "  " and its duration text on a slower test, else nothing. */
void run_diff_test_note(struct buf *b, enum diff_test_list l, const struct diff_test *x);
/* The run's and the baseline's job of d->steps[x]; false when the job is
 * on one side only (listed as unpaired). */
bool run_diff_step_jobs(const struct run_diff *d, int x, const struct job **rj,
			const struct job **bj);
/* Whether ms is slower than base_ms by o's rule (slower_ratio and
 * slower_floor_ms, their defaults when unset; neither may be CS_TIME_NONE);
 * how many paired steps are; the text forms' summary of a diff with a
 * baseline: "N new log lines in N jobs · N new failing tests · N slower
 * steps · N metrics moved". */
bool run_diff_slower(const struct diff_opts *o, int64_t ms, int64_t base_ms);
int run_diff_slower_steps(const struct run_diff *d, const struct diff_opts *o);
void run_diff_summary_text(struct buf *b, const struct run_diff *d, const struct diff_opts *o);

/* The same in parts, for a caller that must stay responsive (the TUI's
 * work queue): run_diff_begin() chooses the baseline and pairs jobs and
 * steps (fast); each run_diff_step() then does one part (one paired job's
 * log diff, then the tests, then metrics and parity) and returns 1 while
 * parts remain, 0 when the diff is complete, -1 on error (out released).
 * o must stay valid until the last step; progress is work_done of
 * work_total. A diff begun and not finished is released as usual. */
int run_diff_begin(struct store *st, struct gitrepo *g, const struct run *r, const char *run_job,
		   const struct run *base, const char *base_job, const struct diff_opts *o,
		   struct run_diff *out, struct cs_err *err);
int run_diff_step(struct store *st, const struct diff_opts *o, struct run_diff *out,
		  struct cs_err *err);

/* For triage's pointer to the diff: the baseline of r and how many lines
 * of its failed jobs are new ('+' and '~'); *found false when r has no
 * baseline. */
int run_diff_new_lines(struct store *st, struct gitrepo *g, const struct run *r,
		       bool *found, struct run *base, uint64_t *new_lines, struct cs_err *err);

#endif
