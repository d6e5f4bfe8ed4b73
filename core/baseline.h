/* baseline.h - which run a run is compared with (issue 10 §1).
 *
 * The baseline of run R is the newest successful run of R's workflow on R's
 * branch at an earlier commit:
 *  - with the git checkout (gitrepo.h) holding R's commit: the nearest
 *    first-parent ancestor that has such a run ("last green ancestor, 3
 *    commits back"), looking back at most BASELINE_MAX_WALK commits;
 *  - else the newest one created before R ("newest green run of ci on main
 *    before this one, 2h 5m earlier");
 *  - a pull-request run (event pull_request or pull_request_target), and a
 *    push to a branch with no green run of its own, take the base branch's
 *    run (the default branch, unless named) at the merge base of R's commit
 *    with that branch (where R's first-parent history meets the branch's,
 *    so a pull request merged since still has its fork point), or the
 *    nearest first-parent ancestor of it with one; without the checkout,
 *    the base branch's newest green run before R.
 * A run with several attempts says so: "attempt 2 of this run passed on the
 * same commit" when R failed and a later attempt passed (then the failure
 * may be flaky), "attempt 1 of this run failed" when R passed after one.
 * No candidate: found is false and reason says what was looked for.
 */
#ifndef CS_BASELINE_H
#define CS_BASELINE_H

#include <stdbool.h>

#include "gitrepo.h"
#include "store.h"
#include "util.h"

#define BASELINE_MAX_WALK 2000

struct baseline {
	bool found;
	struct run base;   /* when found (owned) */
	char reason[320];  /* why this baseline, or why there is none */
	char note[320];    /* what the run's other attempts say, or "" */
};

/* base_branch: the branch a pull-request run is compared against (NULL:
 * the index's default branch). g may be NULL (no checkout). */
int baseline_choose(struct store *st, struct gitrepo *g, const struct run *r,
		    const char *base_branch, struct baseline *out, struct cs_err *err);
void baseline_release(struct baseline *b);

#endif
