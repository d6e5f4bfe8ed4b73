/* bisect.h - which commit broke it: bisection over the first-parent history
 * with the CI runs of the index as free evidence.
 *
 * A bisection has a target (what "bad" means for one run), a branch, and the
 * good and bad commits it started from. Its commit universe is the
 * first-parent history from bad back to (excluding) good (gitrepo.h). Every
 * stored run on those commits is evidence, read afresh each time (runs
 * fetched later count); verdicts given by hand, by `bisect run` or by a
 * dispatched run are stored as marks (migration 005). A commit whose
 * observations disagree is *mixed*, never simply bad.
 *
 * The search:
 *  - suspects: after the newest good commit, up to and including the oldest
 *    bad one (a good commit after that bad one: not a bisectable regression);
 *  - next commit: git's weight rule on the first-parent line (maximise
 *    min(w, N-w)), but a commit within N/8 of that split that already has a
 *    run of any kind is preferred (mozregression's approximate builds);
 *    skipped commits as git does (sqrt-biased skip-away, a deterministic
 *    generator); steps left as git's estimate_bisect_steps;
 *  - mixed evidence among the suspects: a Bayesian bisection (bayesect): the
 *    posterior of each commit being the first bad, with a flake rate
 *    estimated from the target's own history; the next commit splits the
 *    posterior mass in half; the culprit is named once one commit holds 95%.
 *
 * Every call opens nothing itself: the caller gives the store and the
 * checkout (commits_open_repo()).
 */
#ifndef CS_BISECT_H
#define CS_BISECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "gitrepo.h"
#include "store.h"
#include "util.h"

enum bisect_kind {
	BT_WORKFLOW, /* workflow:W - the run failed */
	BT_JOB,      /* job:W/J - that job of the run failed */
	BT_TEST,     /* test:NAME - the JUnit test failed */
	BT_FINDING,  /* finding:FP - the triage fingerprint shows in a failed job */
	BT_METRIC,   /* metric:NAME>X or metric:NAME<X - beyond the bound */
	BT_PARITY,   /* parity:W - the run's parity verdict (parity.h, the configured
		      * tolerances) fails; runs without parity channels say nothing */
};

struct bisect_target {
	enum bisect_kind kind;
	char *workflow, *job; /* BT_WORKFLOW, BT_JOB */
	char *name;           /* BT_TEST, BT_FINDING, BT_METRIC */
	bool above;           /* BT_METRIC: bad when > bound (else < bound) */
	double bound;
};
/* The stored text form (above) to a target and back. */
int bisect_target_parse(const char *text, struct bisect_target *t, struct cs_err *err);
void bisect_target_text(const struct bisect_target *t, struct buf *out);
void bisect_target_release(struct bisect_target *t);

enum bisect_verdict { BV_NONE = 0, BV_GOOD, BV_BAD, BV_MIXED, BV_SKIP };
const char *bisect_verdict_name(enum bisect_verdict v); /* none good bad mixed skip */

/* One observation of a commit: a stored run (run != 0) or a mark. */
struct bisect_obs {
	int64_t run, run_row; /* provider run id and row id; 0 for a mark */
	int attempt;
	char *conclusion;     /* the run's (or job's) conclusion; NULL for a mark */
	enum bisect_verdict v;
	char *source;         /* "run", "manual", "bisect run", "dispatch", "replay", "start";
			       * a stored run a dispatch of this bisection made: "dispatch" */
	char *detail;
	char *dispatch_ref;   /* that dispatch's temporary branch, else NULL */
	int64_t dispatched_at; /* and when it was sent (ms) */
};

struct bisect_commit {
	struct gitrepo_commit c;
	enum bisect_verdict verdict; /* from obs: good, bad, mixed; none */
	int n_good, n_bad;
	struct bisect_obs *obs;
	int n_obs;
	bool skipped;
	bool has_run;   /* some run of any workflow exists at this commit */
	double p;       /* posterior of being the first bad (bayes) */
};

struct bisect_status {
	int64_t id;
	char *state;      /* active, finished, reset */
	char *target;     /* text form */
	char *branch;
	char start_good[41], start_bad[41];
	struct bisect_commit good_commit; /* the start good (outside the universe) */
	struct bisect_commit *commits;    /* the universe, oldest first; the last is start_bad */
	int n;
	int good_idx;     /* newest good in commits[], -1: the start good */
	int bad_idx;      /* oldest bad */
	int first_bad;    /* index, or -1 while unknown */
	int next;         /* index, or -1 */
	bool next_has_run; /* chosen because a run exists there */
	int steps_left;
	bool bayes;
	double flake_rate;
	bool not_bisectable; /* a good commit after the oldest bad one */
	int good_after_bad;  /* its index */
	bool only_skipped;
	char *message;       /* one line saying where the bisection stands */
};
void bisect_status_release(struct bisect_status *s);

struct bisect_start_opts {
	const char *target;   /* text form (bisect_target_parse) */
	const char *good;     /* REV or RUN (run id, id:attempt); NULL: default */
	const char *bad;      /* REV or RUN; NULL: the newest run where the target is bad */
	const char *branch;   /* NULL: the bad run's branch */
	const char *repo_path; /* stored with the bisection; NULL: unknown */
};

/* Start a bisection (none may be active). Fills *out. */
int bisect_start(struct store *st, struct gitrepo *g, const struct bisect_start_opts *o,
		 struct bisect_status *out, struct cs_err *err);
/* The active bisection, else the newest one kept. CS_ENOTFOUND when none. */
int bisect_status(struct store *st, struct gitrepo *g, struct bisect_status *out,
		  struct cs_err *err);
/* The checkout path a bisection recorded (caller frees), NULL when none. */
char *bisect_repo_path(struct store *st);
/* Record a verdict for rev (NULL: the proposed next) in the active
 * bisection; source/detail say where it came from. Refreshes *out (which may
 * be NULL). A bisection whose first bad commit becomes known is finished. */
int bisect_mark(struct store *st, struct gitrepo *g, const char *rev, enum bisect_verdict v,
		const char *source, const char *detail, struct bisect_status *out,
		struct cs_err *err);
/* End the active bisection (kept as 'reset'). CS_ENOTFOUND when none. */
int bisect_reset(struct store *st, struct cs_err *err);
/* The replayable log of the active (else newest) bisection. */
int bisect_log(struct store *st, struct buf *out, struct cs_err *err);
/* The record of the active (else newest) bisection, for `bisect log
 * --json`: its marks and the dispatches it made, in the order they came. */
struct bisect_log_entry {
	char sha[41];
	int64_t at;              /* ms */
	bool dispatch;           /* a dispatch (below), else a mark */
	enum bisect_verdict v;   /* a mark's verdict */
	char *source, *detail;   /* a mark's */
	char *workflow, *repo, *ref; /* a dispatch's */
	int64_t run;             /* its GitHub run id, 0 while none appeared */
	char *run_status, *conclusion;
};
struct bisect_log_rec {
	int64_t id;
	char *state, *target, *branch, *first_bad;
	char good[41], bad[41];
	int64_t started_at, ended_at; /* ended_at 0 while active */
	struct bisect_log_entry *e;
	int n;
};
int bisect_log_read(struct store *st, struct bisect_log_rec *out, struct cs_err *err);
void bisect_log_rec_release(struct bisect_log_rec *r);

/* A dispatch of the active bisection (bisect dispatch, D in the view):
 * recorded when sent (*id set), its run id and status as they are seen. */
int bisect_dispatch_record(struct store *st, const char *sha, const char *workflow,
			   const char *repo, const char *ref, int64_t *id, struct cs_err *err);
int bisect_dispatch_update(struct store *st, int64_t id, int64_t run, const char *run_status,
			   const char *conclusion, struct cs_err *err);

/* Replay a log (resets an active bisection first). */
int bisect_replay(struct store *st, struct gitrepo *g, const char *text,
		  struct bisect_status *out, struct cs_err *err);

/* bisect run: check the next commit out in a worktree of its own (never the
 * user's), run argv there with CISCOPE_BISECT_SHA and CISCOPE_BISECT_TARGET,
 * record exit 0 good, 125 skip, 1-127 bad; any other status, a signal,
 * *stop becoming non-zero or timeout_s passing (0: none) ends the loop with
 * the log kept. progress (may be NULL) is told each step. Returns 0 when the
 * first bad commit is known or nothing is left to test, CS_EINTR when
 * stopped, -1 with err set otherwise. */
struct bisect_run_opts {
	char *const *argv;
	int timeout_s;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const char *sha, const char *what);
	void *ctx;
};
int bisect_run(struct store *st, struct gitrepo *g, const char *repo_dir,
	       const struct bisect_run_opts *o, struct bisect_status *out, struct cs_err *err);

/* git's estimate_bisect_steps(all), and our "steps left" from n suspects. */
int bisect_estimate_steps(int all);

#endif
