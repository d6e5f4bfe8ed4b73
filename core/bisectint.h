/* bisectint.h - what the two parts of bisect share: a target's verdict on
 * each stored run, sorted by commit. Internal to core/bisectverdict.c
 * (targets and verdicts) and core/bisect.c (sessions, the search, the
 * public calls, bisect run); everyone else uses bisect.h. */
#ifndef CISCOPE_BISECTINT_H
#define CISCOPE_BISECTINT_H

#include <stddef.h>
#include <stdint.h>

#include "bisect.h"

/* --- the target's verdict on each run -------------------------------------------- */
struct tv {
	char sha[41];
	int64_t row, provider, created_at;
	int attempt;
	char *conclusion, *branch;
	char *value; /* metric targets: the value compared */
	enum bisect_verdict v;
};
struct tvs {
	struct tv *v;
	int n;
	size_t alloc;
};

void bisect_tvs_release(struct tvs *t);
/* Every stored run the target judges, with its verdict, sorted by commit
 * sha, then time. */
int bisect_target_verdicts(struct store *st, const struct bisect_target *t, struct tvs *out,
		    struct cs_err *err);
/* The runs on commit sha: how many, the first at *first. */
int bisect_tvs_find(const struct tvs *t, const char *sha, int *first);
/* How often the target's verdict disagrees with itself on one commit: the
 * minority share of the runs on commits with two or more, smoothed toward
 * 5% (20 pseudo-runs) so a short history does not claim certainty. */
double bisect_flake_rate(const struct tvs *t);

#endif
