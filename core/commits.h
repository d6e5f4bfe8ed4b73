/* commits.h - the first-parent history of a branch with the CI verdicts the
 * index holds for each commit (the commits view, `ciscope commits`, the
 * runbooks' "last green commit").
 *
 * The history comes from the git checkout (gitrepo.h); the verdicts from the
 * runs whose head_sha is the commit. One verdict per workflow and commit:
 * every completed attempt green -> green, every one failed -> red, both ->
 * flaky (a re-run or another run disagreed, as triage's flaky detection sees
 * it), any still running -> running, only cancelled/skipped -> other.
 */
#ifndef CS_COMMITS_H
#define CS_COMMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "gitrepo.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

enum commit_verdict {
	CV_NONE = 0, /* no run */
	CV_GREEN,
	CV_RED,
	CV_FLAKY,
	CV_RUNNING,
	CV_OTHER,    /* cancelled, skipped, neutral */
};
const char *commit_verdict_name(enum commit_verdict v); /* "none", "green", ... */
/* ✓ ✗ ~ ● - · ; ASCII + x ~ * - . */
const char *commit_verdict_glyph(enum commit_verdict v, bool utf8);

struct commit_wf {
	enum commit_verdict v;
	int n_runs; /* attempts */
};

/* The parity verdict of a commit's runs that have parity series. */
enum commit_parity { CP_NONE = 0, CP_PASS, CP_FAIL };
const char *commit_parity_name(enum commit_parity p); /* "none" "pass" "fail" */

struct commit_row {
	struct gitrepo_commit c;
	struct commit_wf *wf; /* one per commit_list.workflows entry */
	enum commit_verdict overall; /* the worst of wf[] (red > flaky > running > other > green) */
	int n_runs;
	int64_t *run_ids;     /* the row ids of those n_runs runs */
	/* set by commits_judge(): */
	enum th_state th;     /* the worst threshold state over its runs (TH_NONE: no bound applies) */
	int th_breaches;      /* bounds breached (warn or fail), summed over its runs */
	enum commit_parity parity; /* fail when a run's parity fails, pass when some pass */
	int parity_runs;      /* runs with parity channels */
	char *parity_channel; /* the deciding channel of the (first) failing run, or NULL */
};

struct commit_list {
	char *branch;
	char **workflows; /* the workflows with runs on the listed commits, by name */
	int n_workflows;
	struct commit_row *rows; /* newest first */
	int n;
	int n_th, n_parity; /* rows with a threshold state / a parity verdict (commits_judge) */
};

/* The checkout: repo_path (NULL: the one holding the current directory).
 * CS_ENOTFOUND with a message that says what to do when there is none. */
struct gitrepo *commits_open_repo(const char *repo_path, struct cs_err *err);

/* The first-parent history of branch (NULL: the index's default branch,
 * else the checkout's HEAD), newest first, at most limit commits (0: 50). */
int commits_list(struct store *st, struct gitrepo *g, const char *branch, int limit,
		 struct commit_list *out, struct cs_err *err);
void commit_list_release(struct commit_list *l);

/* The parity/threshold state of each row where the metrics exist: the
 * thresholds judged at its runs (metrics_run_thresholds, as `check` judges
 * them) and the parity verdict of its runs with parity series (parity_run
 * with the configured tolerances). The files are those of the checkout at
 * repo_top (.ciscope/thresholds.conf, .ciscope/parity.conf; NULL: the
 * checkout of the current directory), $CISCOPE_THRESHOLDS/$CISCOPE_PARITY
 * first. -1 with err: a bad file (the rows stay unjudged) or a read error
 * (judged up to it). */
int commits_judge(struct store *st, const char *repo_top, struct commit_list *l,
		  struct cs_err *err);

/* The newest commit of branch's first-parent history on which everything
 * ran green (workflow NULL: every workflow with a run on it green, at least
 * one; else that workflow green), looking back at most limit commits (0:
 * 10000). Fills *out (gitrepo_commit_release); CS_ENOTFOUND when none. */
int commits_last_green(struct store *st, struct gitrepo *g, const char *branch,
		       const char *workflow, int limit, struct gitrepo_commit *out,
		       struct cs_err *err);

/* --- the runs of a commit (shared with bisect.c) ---------------------------- */
struct sha_run {
	char sha[41];
	int64_t row_id, provider_id;
	int attempt;
	char *workflow, *branch, *status, *conclusion;
	int64_t created_at;
};
struct sha_runs {
	struct sha_run *v; /* sorted by sha, then created_at */
	int n;
};
/* Every run of the index, sorted by head sha (one query). */
int sha_runs_load(struct store *st, struct sha_runs *out, struct cs_err *err);
void sha_runs_release(struct sha_runs *r);
/* The runs of sha: index of the first in r->v and their count (0: none). */
int sha_runs_find(const struct sha_runs *r, const char *sha, int *first);

#endif
