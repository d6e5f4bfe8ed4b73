/* metricsint.h - what the parts of the metrics module share: the derive
 * version, the units, the series-name and rule-name filters and the
 * change-point segment size. Internal to core/metrics.c (refresh and
 * loading), core/metriccp.c (change points), core/thresholds.c (the
 * thresholds file and judging), core/metriclocal.c (local CI results) and
 * core/metriccache.c (the summary cache); everyone else uses metrics.h. */
#ifndef CISCOPE_METRICSINT_H
#define CISCOPE_METRICSINT_H

#include <stdbool.h>

#include "metrics.h"

/* bump when what metrics_refresh() derives changes: runs are derived again */
#define DERIVE_VERSION 1

#define MINSEG 3 /* points each side of a split (a t-test needs 3) */

struct unit_def {
	const char *name;
	int kind;        /* 1 time (ms), 2 size (bytes), 3 percent */
	double factor;   /* to the kind's base */
};
/* The unit named u (ms, s, KiB, %...), or NULL. */
const struct unit_def *metric_unit_find(const char *u);
/* Does a series name match a --name pattern (glob, else substring; none: all)? */
bool metric_name_matches(const char *pat, const char *name);
/* Does any rule of c name this series? */
bool th_conf_names(const struct th_conf *c, const char *name, const char *wf);

/* Mark h's change points acknowledged (with their notes) as metric_acks says. */
int metric_cps_read_acks(struct store *st, struct metric_hist *h, struct cs_err *err);
/* Set the change points of the series of set (loaded by q) that the
 * summary cache holds, current, for q's branch (core/metriccache.c);
 * the others are left to metrics_changepoints. */
int metrics_cached_cps(struct store *st, const struct th_conf *c, const struct metrics_query *q,
		       struct metric_set *set, struct cs_err *err);

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

#endif
