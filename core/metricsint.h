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

#endif
