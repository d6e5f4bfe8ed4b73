/* triagetree.h - the triage view's model, without curses: what views/triage.c
 * lists and folds, as core/logview.h is the log pager's.
 *
 * Two lists over the same findings (triage.h):
 *  - by run (TT_BY_RUN): failed runs, newest first -> their failed jobs ->
 *    the shown findings of each job;
 *  - by fingerprint (TT_BY_FP): the same failure across runs as one row,
 *    its occurrences (TT_OCC_MAX, newest first) under it once unfolded.
 * A finding or fingerprint unfolds into its details: history, flaky
 * evidence (at most TT_EVIDENCE_SHOWN), note, rule, excerpt lines with a
 * gap row where lines are skipped.
 *
 * Loading is incremental: tt_load_step adds a page (TT_PAGE_RUNS runs or
 * TT_PAGE_GROUPS fingerprints) with the histories of their fingerprints,
 * computed once per tree (histories are cached by fingerprint) and kept
 * until tt_hist_free_all. tt_build_rows turns what is loaded, the filter
 * (q: workflow and branch are applied by the queries, category and state
 * here) and the folds into rows; a row names what it shows by indexes
 * (a, b, c, d: see enum tt_kind), so rows stay valid until the next build.
 *
 * Errors while loading go into error (the view shows them); the tree
 * stays usable with what was loaded. Owned by the caller: tt_init, then
 * tt_release. The store is borrowed.
 */
#ifndef CS_TRIAGETREE_H
#define CS_TRIAGETREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "store.h"
#include "triage.h"
#include "triagequery.h"
#include "util.h"

#define TT_PAGE_RUNS 6      /* failed runs loaded per step */
#define TT_PAGE_GROUPS 30   /* fingerprints per step */
#define TT_OCC_MAX 50       /* occurrences listed under a fingerprint */
#define TT_EVIDENCE_SHOWN 3 /* flaky evidence rows per finding */
/* what one tree holds at most (a run with its excerpts is a few kB): a
 * filter narrows the list to what matters */
#define TT_MAX_RUNS 5000
#define TT_MAX_GROUPS 20000

enum tt_mode { TT_BY_RUN, TT_BY_FP };

enum tt_kind {
	TT_MSG,   /* the one row saying why the list is empty */
	TT_RUN,   /* a failed run (a: run) */
	TT_JOB,   /* a failed job (a: run, b: job) */
	TT_FIND,  /* a finding (a, b, c: finding) */
	TT_GROUP, /* a fingerprint (a: group) */
	TT_OCC,   /* an occurrence of a fingerprint (a: group, b: occurrence) */
	/* a finding's or fingerprint's details; d: the index of the piece */
	TT_HIST, TT_EVID, TT_NOTE, TT_RULE, TT_EXC, TT_GAP, TT_OCCHEAD,
};

struct tt_row {
	unsigned char kind;
	int a, b, c, d;
};

struct tt_job {
	int64_t id;
	char *name, *conclusion, *url;
	struct triage_finding *f;
	int nf;
	bool *open; /* per finding: details shown */
	bool triaged, folded;
};

struct tt_run {
	struct run r;
	struct triage_run_summary sum;
	struct tt_job *jobs;
	int nj;
	bool folded;
};

struct tt_group {
	char fp[FP_HEX_LEN + 1];
	char *category, *rule, *title, *state;
	int n_runs, n_commits;
	int64_t first_at, last_at;
	bool open, occ_loaded;
	struct triage_finding *occ; /* newest first */
	int nocc;
	struct run *occ_run;        /* the run of each occurrence */
};

/* A fingerprint's history, computed once per view (and again after its
 * state changes). */
struct tt_hist {
	char fp[FP_HEX_LEN + 1];
	struct triage_history h;
};

struct triage_tree {
	struct store *st;
	enum tt_mode mode;
	int64_t only_run;   /* one run's failures (runs.id); 0: every failed run */
	struct triage_query q; /* owned: the view replaces it (triage_query_free first) */
	bool open_default;  /* findings start unfolded */
	/* display width of a string, for the column widths below (the view
	 * passes the terminal's; tt_init sets a byte count) */
	int (*width)(const char *s, size_t n);
	/* by run */
	struct tt_run *runs;
	int nruns;
	size_t runs_alloc;
	int runs_offset;
	bool runs_done, runs_capped;
	/* by fingerprint */
	struct tt_group *groups;
	int ngroups;
	size_t groups_alloc;
	int groups_offset;
	bool groups_done, groups_capped;
	/* histories: open addressing on the fingerprint */
	struct tt_hist **ht;
	size_t ht_cap, ht_n;
	/* rows */
	struct tt_row *rows;
	size_t nrows, rows_alloc;
	char error[1024];   /* the last loading error ("" when none) */
	/* counts of what is listed, for a status bar */
	int n_failures, n_new, n_flaky, n_untriaged;
	/* widest category (4..14), workflow and branch among the listed rows */
	int cat_w, wf_w, br_w;
};

void tt_init(struct triage_tree *p, struct store *st);
void tt_release(struct triage_tree *p);

/* --- histories --- */
/* The history of fp, computed the first time it is asked for. */
struct tt_hist *tt_hist(struct triage_tree *p, const char *fp);
struct tt_hist *tt_hist_find(struct triage_tree *p, const char *fp); /* NULL: not computed */
/* (Re)compute e's history into e->h (released by the caller before); on an
 * error: an empty history in state "new", the message in p->error. */
void tt_hist_compute(struct triage_tree *p, struct tt_hist *e);
void tt_hist_free_all(struct triage_tree *p);
const char *tt_state_of(struct triage_tree *p, const char *fp); /* "new" when unknown */
bool tt_is_flaky(const struct tt_hist *e); /* flaky evidence or marked known-flaky */
/* After fp's triage state changed: its history again, the summaries of the
 * loaded runs that show it, the state of its group. */
int tt_refresh_state(struct triage_tree *p, const char *fp, struct cs_err *err);

/* --- loading --- */
void tt_drop_runs(struct triage_tree *p);
void tt_drop_groups(struct triage_tree *p);
/* One page in the current mode; false when all is loaded. */
bool tt_load_step(struct triage_tree *p);
/* The occurrences of g with their runs, once. */
int tt_load_occurrences(struct triage_tree *p, struct tt_group *g, struct cs_err *err);

/* --- rows --- */
/* Does f pass the filter's category and state? (workflow and branch were
 * applied by the queries) */
bool tt_finding_shown(struct triage_tree *p, const struct triage_finding *f);
void tt_build_rows(struct triage_tree *p); /* always at least one row (TT_MSG) */
bool tt_row_eq(const struct tt_row *x, const struct tt_row *y);
long tt_find_row(struct triage_tree *p, const struct tt_row *want); /* -1: none */
/* Where row cur is after a build, else the row that holds it (its finding,
 * job, run, fingerprint); -1 when none is left. */
long tt_locate(struct triage_tree *p, const struct tt_row *cur);
/* The finding a row is about (NULL: none), and its fingerprint. */
const struct triage_finding *tt_row_finding(struct triage_tree *p, long row);
const char *tt_row_fp(struct triage_tree *p, long row);

#endif
