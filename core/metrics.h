/* metrics.h - metrics over history: series, change points, thresholds.
 *
 * Owner: issue 11. `ciscope metrics`, `ciscope check`, the metrics view and
 * the runs view's breach mark read these; views never see SQL.
 *
 * --- A metric --------------------------------------------------------------------
 * A name plus one value per run, grouped into series by (name, workflow):
 *   scalars      every one-point series the importer stored (JSON leaves by
 *                dotted path, single-row CSV columns), named as stored;
 *   local        the checks of a local-CI results file: checks.NAME.FIELD,
 *                with the check's passed flag and threshold kept;
 *   parity       per parity channel (core/parity.h, computed there):
 *                parity.CH.max_abs, parity.CH.max_excess, parity.CH.violations,
 *                parity.CH.first_violation (only when there is one);
 *   built in     run.duration_ms, run.queue_ms, job.JOB.duration_ms,
 *                step.JOB/STEP.duration_ms, tests.total/failed/skipped,
 *                tests.pass_rate (%), cache.hits, cache.misses (from the
 *                actions/cache and setup-* log lines).
 * Parity summaries and cache counts are derived lazily by metrics_refresh()
 * (never on the import path) and kept in run_metrics.
 * A point knows its run, commit, branch and time. A series is ordered by the
 * first-parent history of the branch when a checkout is given (points whose
 * commit is not on it follow by time), else by the run's creation time.
 *
 * --- Change points ------------------------------------------------------------------
 * E-divisive means, as Apache Otava runs it: binary segmentation inside
 * overlapping windows (window points, step window/2), each split tested by a
 * permutation test (fixed seed: the same series gives the same answer),
 * then a merge pass that drops the weakest point (p above max_pvalue, or
 * |relative change| below min_magnitude) and retests its neighbours until
 * every point holds. A change point names the first point of the new level;
 * the point before it bounds the range where the change happened.
 *
 * --- Thresholds (.ciscope/thresholds.conf; the config language of rules.conf)
 *   changepoints                  detector settings (Otava's defaults)
 *       window 50 / pvalue 0.001 / magnitude 0 / permutations 999
 *   threshold GLOB                a metric name pattern (fnmatch)
 *       workflow W                optional: only that workflow's series
 *       branch B                  optional: only runs of that branch
 *       baseline N                regression bounds: median of the last N
 *                                 green runs of the run's branch (default 10)
 *       warn <= 300 KiB           absolute bound (<=, <, >=, >)
 *       fail >= 85 %
 *       warn +10 %                regression bound: above baseline by more
 *       fail +5 ms                than that (-10 %: below it by more)
 * Units: ms s min, B KiB MiB GiB KB MB GB, %; a bound in another unit of the
 * same kind as the metric's is converted. Every `threshold` block applies
 * (not only the first). Files: path given, else $CISCOPE_THRESHOLDS, else
 * .ciscope/thresholds.conf at the top of the checkout, then the built-in
 * data/thresholds.conf (its blocks after the repository's). Errors name
 * file:line.
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chart.h"
#include "store.h"
#include "util.h"

/* --- series -------------------------------------------------------------------- */
struct metric_point {
	int64_t run;          /* run row id */
	int64_t provider_id;  /* how the run is named (with attempt) */
	int attempt;
	char *sha, *branch;
	int64_t at;           /* the run's creation time */
	double value;
	bool green;           /* the run concluded success */
	int passed;           /* local checks: 1/0; -1 when not stated */
	double threshold;     /* local checks: as stated; NAN when not */
};

struct metric_cp {
	long idx;             /* first point of the new level */
	double before, after; /* means of the levels either side */
	double change;        /* (after - before) / |before|; INFINITY for before 0 */
	double pvalue;
	bool acked;
	char *note;           /* the acknowledgement's note, or NULL */
};

struct metric_hist {
	char *name, *workflow;  /* workflow "" when the run has none */
	const char *unit;       /* "ms", "KiB", "%", ... or NULL */
	struct metric_point *pts;
	long n;
	size_t alloc;
	struct metric_cp *cps;  /* oldest first; set by metrics_changepoints() */
	int n_cps;
	bool cps_done;
	long total;             /* a table row (metrics_load_table): the points of the
				 * whole series, pts only those the row needs; else 0 */
};
/* The points of the whole series (h->n unless h is a table row). */
static inline long metric_hist_total(const struct metric_hist *h)
{
	return h->total ? h->total : h->n;
}

struct metric_set {
	struct metric_hist *items;  /* by name, then workflow */
	int n;
	size_t alloc;
};

struct th_conf;
struct metrics_query {
	const char *workflow;   /* NULL: all */
	const char *branch;     /* NULL: all */
	const char *pattern;    /* fnmatch glob or substring; NULL: all */
	const char *name;       /* exact name; NULL: all */
	const char *checkout;   /* a git checkout for first-parent order, or NULL */
	const struct th_conf *only; /* keep only series a rule of it names; NULL: all */
	const char *runs;       /* a JSON array of run row ids: only their points (name
				 * and checkout ignored); NULL: every run's */
};

/* Derive what is kept in run_metrics for runs not yet looked at (parity
 * summaries with conf, may be NULL for the built-in settings; cache lines).
 * Needs a writable store; returns the runs derived or -1. */
long metrics_refresh(struct store *st, struct cs_err *err);
int metrics_load(struct store *st, const struct metrics_query *q, struct metric_set *out,
		 struct cs_err *err);
void metric_set_release(struct metric_set *s);
/* The unit a metric's name implies ("peak_rss_mb" -> "MB"), or NULL. */
const char *metric_unit_of(const char *name);

/* Cache lines of actions/cache and setup-*: +1 hit, -1 miss, 0 neither. */
int metric_cache_line(const char *text, size_t n);

/* --- local CI results -------------------------------------------------------------- */
/* Is text a local-CI results document (an object with commit_sha and checks)? */
bool metrics_is_local_results(const char *text, size_t n);
/* Import it as a run of the repository `local` at commit_sha from the
 * `local` source (the same commit, timestamp and runner are the same run:
 * imported again, it is replaced, or left alone when the file is the same);
 * *run_row_id gets the run, *state 0 created, 1 updated, 2 unchanged.
 * Malformed or hostile documents are rejected with err naming the file and
 * the field, nothing written. */
int metrics_import_local(struct store *st, const char *origin, const char *text, size_t n,
			 int64_t *run_row_id, int *state, struct cs_err *err);

/* --- change points -------------------------------------------------------------------- */
struct cp_conf {
	int window;           /* 50 */
	double max_pvalue;    /* 0.001 */
	double min_magnitude; /* 0: relative */
	int permutations;     /* 999 */
};
void cp_conf_default(struct cp_conf *c);
/* Change points of v[0..n) (oldest first): indexes of the first point of
 * each new level into idx (caller frees), with the p-values. */
int cp_detect(const double *v, long n, const struct cp_conf *c, long **idx, double **pvalue);
/* Fill h->cps (acks read from st when not NULL). */
int metrics_changepoints(struct store *st, struct metric_hist *h, const struct cp_conf *c,
			 struct cs_err *err);
int metrics_ack(struct store *st, const char *name, const char *workflow, const char *sha,
		const char *note, struct cs_err *err);

/* --- change points brought up to date as points are appended ---------------
 * cp_run is E-divisive (cp_detect) over v[0..n), of which it reads only
 * v[base..n) (vals; S_base the sum of v[0..base)): the windows that ended
 * by in->n (the state of the same series at its first in->n points) keep
 * their candidates, the merge's tests their results (memo, by the window
 * they read), the levels' means come from prefix sums. The answer is the
 * one cp_run gives on the whole series (bit for bit); -2 when it needed a
 * value before base (the caller computes the whole series again). out
 * (may be NULL) gets the state of the n points; runs (may be NULL) the run
 * of each value, kept for the candidates. */
struct cp_memo {
	long prev, c, next;
	double p, mag;
	bool used;
};
struct cp_state {
	long n;                 /* the points it is of */
	long a_next;            /* the first window that reaches past n */
	long *cand;             /* candidates of the windows before it, sorted */
	double *cand_S;         /* sum of v[0..cand) */
	int64_t *cand_run;
	size_t n_cand;
	long T;                 /* the tail kept: v[T..n) */
	double S_T;
	double *tail;
	int64_t *tail_run;
	struct cp_memo *memo;   /* sorted by (prev, c, next) */
	size_t n_memo;
};
int cp_run(const double *vals, const int64_t *runs, long base, double S_base, long n,
	   const struct cp_conf *c, const struct cp_state *in, struct cp_state *out,
	   struct metric_cp **cps);
void cp_state_release(struct cp_state *s);
/* h's change points (no acks) and, out not NULL, its state. */
int metrics_changepoints_state(struct metric_hist *h, const struct cp_conf *c, struct cp_state *out);
/* The state as a blob and back (false: not one, or of another version). */
void cp_state_encode(const struct cp_state *s, struct buf *out);
bool cp_state_decode(const void *blob, size_t n, struct cp_state *out);

/* --- thresholds ---------------------------------------------------------------------- */
enum th_level { TH_WARN = 0, TH_FAIL };
enum th_kind { TH_ABS = 0, TH_REGRESS };
enum th_state { TH_NONE = 0, TH_PASS, TH_BREACH_WARN, TH_BREACH_FAIL };

struct th_bound {
	enum th_kind kind;
	enum th_level level;
	int op;               /* absolute: '<' '>' 'l' (<=) 'g' (>=); regression: '+' '-' */
	double value;         /* in unit */
	char unit[8];         /* "" when none */
	char text[64];        /* as written: "<= 300 KiB" */
};

struct th_rule {
	char *glob, *workflow, *branch;
	int baseline_n;
	struct th_bound *bounds;
	int n_bounds;
	char origin[200];     /* file:line */
};

struct th_conf {
	struct th_rule *rules;
	int n;
	size_t alloc;
	struct cp_conf cp;
	char *repo_file;      /* the repository file read, or NULL */
};

int th_conf_add_text(struct th_conf *c, const char *origin, const char *text, size_t n,
		     struct cs_err *err);
/* path, else $CISCOPE_THRESHOLDS, else .ciscope/thresholds.conf of the
 * checkout of the current directory; then the built-in file. */
int th_conf_load(struct th_conf *c, const char *path, struct cs_err *err);
void th_conf_release(struct th_conf *c);

/* One bound judged at one point of a series. */
struct th_eval {
	const struct th_rule *rule;
	const struct th_bound *bound;
	enum th_state state;  /* TH_NONE: not applicable (no baseline, unit mismatch) */
	double value;         /* the point's value (metric unit) */
	double limit;         /* the bound in the metric's unit */
	double baseline;      /* regression: the median; NAN otherwise */
	int baseline_runs;
	long since;           /* index of the first point of the current breach */
};
/* Median of the last n green points of branch before index at. NAN when none. */
double metric_baseline(const struct metric_hist *h, long at, const char *branch, int n,
		       int *used);
/* Evaluate every bound of conf that applies to h at point at; returns the
 * count written to out (caller frees *out). */
int th_evaluate(const struct th_conf *conf, const struct metric_hist *h, long at,
		struct th_eval **out);
/* The worst state of evals. */
enum th_state th_worst(const struct th_eval *e, int n);
const char *th_state_name(enum th_state s); /* "none" "pass" "warn" "fail" */

/* The thresholds judged at each run's own points, for runs (row ids, in
 * any order; out[i] is runs[i]'s): the worst state over every bound that
 * applies and how many bounds breach (warn or fail). Loads only the series
 * conf names. */
struct th_run_state {
	enum th_state state;
	int breaches;
};
/* Does any bound of c have the fail level? (nothing can breach fail else) */
bool th_conf_can_fail(const struct th_conf *c);
int metrics_run_thresholds(struct store *st, const struct th_conf *conf, const int64_t *runs,
			   int n, struct th_run_state *out, struct cs_err *err);

/* --- the table: a series at its newest point ------------------------------------------- */
/* Load the series q asks for and find their change points with c's
 * detector settings (acks read from st): what `ciscope metrics` and the
 * metrics view show. */
int metrics_load_judged(struct store *st, const struct th_conf *c, const struct metrics_query *q,
			struct metric_set *out, struct cs_err *err);
/* The same rows from the index's summary cache (metric_summary, schema 9):
 * each series holds only the points its row needs (the last
 * METRIC_TABLE_TAIL for the sparkline and a diff with the previous point,
 * the last METRIC_TABLE_GREENS green ones of the newest point's branch for
 * the baseline, the newest change point's and the one before it), total
 * the count of the whole series, n_cps 0 or 1 (the newest), cps_done set:
 * metric_summarize and metric_sparkline (up to the tail) give what they
 * give on the whole series. The cache is rebuilt through rw (a writable
 * store, may be st; NULL: not rebuilt) when the index changed since
 * (metric_gen) or the change-point settings differ; a query by branch or
 * name, a baseline longer than METRIC_TABLE_GREENS, or no way to rebuild
 * reads the whole series (metrics_load_judged) instead. The chart loads
 * its one series with metrics_load. */
#define METRIC_TABLE_TAIL 64
#define METRIC_TABLE_GREENS 64
int metrics_load_table(struct store *st, struct store *rw, const struct th_conf *c,
		       const struct metrics_query *q, struct metric_set *out, struct cs_err *err);

/* One row of the table: the newest value, its baseline (the median of the
 * green runs a regression bound names, else 10) and the change from it,
 * the worst threshold state there, the newest change point. */
struct metric_summary {
	double last;
	double baseline;      /* NAN when none */
	double change;        /* (last - baseline) / |baseline|; NAN when none or 0 */
	enum th_state state;
	const struct metric_cp *cp; /* the newest change point, or NULL */
};
void metric_summarize(const struct th_conf *c, const struct metric_hist *h,
		      struct metric_summary *out);
/* Sparkline of the last n points (at most n cells, block glyphs; ASCII
 * "_.-=+*#@" when !utf8) appended to out; returns the cells written. */
int metric_sparkline(const struct metric_hist *h, int n, bool utf8, struct buf *out);
/* A deep copy of src into dst (points, change points and their notes):
 * release it as one item of a set (metric_set_release on a set holding it)
 * or with metric_hist_release. */
void metric_hist_copy(struct metric_hist *dst, const struct metric_hist *src);
void metric_hist_release(struct metric_hist *h);
/* The bound between the two levels of a change point (their midpoint) and
 * its side: *above when the new level is higher. A bisection target
 * "metric:NAME>X" (or <X) is bad on the new level's side. */
double metric_cp_bound(const struct metric_cp *cp, bool *above);

/* --- the chart of a series (chart.h): the points by position, threshold
 * lines (absolute bounds; regression bounds at the newest point's
 * baseline), change points marked, x labels the short commit ----------------- */
struct metric_plot {
	struct chart chart;
	struct chart_series series;
	struct chart_hline *hlines;
	struct chart_mark *marks;
	double *y;
	char title[300], (*hlabel)[80], (*mlabel)[80];
	const struct metric_hist *h;
};
void metric_plot_init(struct metric_plot *p, const struct metric_hist *h,
		      const struct th_eval *evals, int n_evals);
void metric_plot_release(struct metric_plot *p);
/* A relative change as a percentage: "+14.2 %", "-3.1 %", "+250 %"; one
 * that rounds to zero is "0.0 %" (never "-0.0 %"). */
void metric_format_pct(double frac, char *out, size_t n);
/* "+14.2 %" (or "+3 ms" when the level was 0) */
void metric_format_change(double change, double before, double after, const char *unit,
			  char *out, size_t n);

/* Called (when set) between a full rebuild of the summary cache's
 * computation and its write, outside any transaction (metrics_load_table):
 * the unit tests change the index there. */
extern void (*metric_cache_between)(void *ctx);
extern void *metric_cache_between_ctx;
/* Rows of the summary cache brought up to date from their whole series
 * and by an append of their new points, and full rebuilds of a cache
 * (counts since the process started: the unit tests read them). The hook
 * above also runs between an incremental update's computation and its
 * write. */
extern long metric_cache_rows_whole, metric_cache_rows_appended, metric_cache_rebuilds;

#endif
