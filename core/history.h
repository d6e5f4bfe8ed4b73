/* history.h - where a failure fingerprint was seen, and is it flaky.
 *
 * A fingerprint's history is read from triage's findings (triage.h) joined
 * to their jobs and runs: the failed runs, commits and branches that show
 * it, the first and last sighting, its triage state, and evidence that it
 * is flaky, of two kinds:
 *
 *  - same commit: the job that failed this way passed on the very commit
 *    (a re-run, or another run of the workflow);
 *  - a flip: on one branch the job failed this way, then passed, then failed
 *    this way again, with no commit of its own to explain the return.
 *
 * Triage, the diff's "is this new" and bisect's "is this the same failure"
 * all ask these questions. Reads only; the store is not changed.
 */
#ifndef CS_HISTORY_H
#define CS_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "fingerprint.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define HISTORY_MAX 20000 /* occurrences of a fingerprint looked at */
#define FLIP_WINDOW 500   /* runs of a job on a branch looked at for flips */

enum flaky_kind {
	FLAKY_SAME_COMMIT, /* the job failed and passed on one commit (re-run or another run) */
	FLAKY_FLIP,        /* failed, then passed, then failed again the same way on a branch */
};

struct triage_flaky_ev {
	enum flaky_kind kind;
	char *workflow, *job, *branch;
	int64_t failed_run;  /* run id (provider) and attempt where it failed */
	int failed_attempt;
	char *failed_sha;
	int64_t passed_run;  /* where the same job passed */
	int passed_attempt;
	char *passed_sha;
	int64_t again_run;   /* FLIP: where it failed again */
	int again_attempt;
	char *again_sha;
};

struct triage_history {
	char fingerprint[FP_HEX_LEN + 1];
	int n_runs, n_commits, n_jobs;   /* failed runs (attempts count), commits, jobs */
	int64_t first_run;  int first_attempt;  char *first_sha;  int64_t first_at;
	int64_t last_run;   int last_attempt;   char *last_sha;   int64_t last_at;
	char **branches;
	int n_branches;
	bool flaky;
	/* not flaky, and failed this way on every attempt of a commit it was
	 * retried on, or on two commits or more: retrying will not help */
	bool deterministic;
	/* the first pass of the last failing job (same workflow, job, branch)
	 * after its last failure this way: "fixed in <sha>?"; 0 when none */
	int64_t passed_run;
	int passed_attempt;
	char *passed_sha;
	struct triage_flaky_ev *evidence; /* at most 8 */
	int n_evidence;
	char *state;  /* new, acknowledged, known-flaky, fixed ("new" when never set) */
	char *note, *set_by;
	int64_t set_at; /* CS_TIME_NONE when never set */
};

/* The history of fingerprint (full length) into out, which the caller
 * releases with triage_history_free (also after an error). */
int triage_history(struct store *st, const char *fingerprint, struct triage_history *out,
		   struct cs_err *err);
void triage_history_free(struct triage_history *h);
/* What to do about a finding whose category calls for d, given its
 * history: a failure that is not flaky but deterministic is no reason to
 * retry (DECIDE_RETRY becomes DECIDE_INVESTIGATE: "fix / investigate"). */
enum decision history_decision(int d, const struct triage_history *h);
/* New: first seen in this run (any attempt) or on its commit. */
bool triage_is_new(const struct triage_history *h, const struct run *r);

#endif
