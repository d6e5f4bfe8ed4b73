/* triageint.h - what the two parts of computing triage share: the
 * candidate findings of a job and the failed JUnit tests of a run. Internal
 * to core/triage.c (extraction, ranking, storing) and core/triagejunit.c
 * (findings that are not log lines, JUnit); everyone else uses triage.h. */
#ifndef CISCOPE_TRIAGEINT_H
#define CISCOPE_TRIAGEINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "logstore.h"
#include "triage.h"

#define SYNTH_MAX 6       /* lines of a finding that is not from the log */
#define KEY_TEXT_MAX 2048

/* --- candidates ------------------------------------------------------------------- */
enum cls {
	CLS_CONCLUSION = 0, /* timed_out, cancelled, startup_failure */
	CLS_FAILING_STEP,   /* a rule finding in the failing step */
	CLS_JUNIT,          /* a JUnit failure the log does not show */
	CLS_FALLBACK,       /* only when the failing step has no finding */
	CLS_OTHER_STEP,     /* a rule finding elsewhere */
	CLS_WEAK,
	CLS_WARNING,
	CLS_HIDDEN,         /* kept, never shown (a weak line the fallback covers) */
};

struct cand {
	enum cls cls;
	const char *rule_id; /* a rule's id or a static name */
	const char *explain;
	int category;
	bool warning, weak;
	const char *source;
	uint64_t first, last, trigger; /* 0 when not from the log */
	int before, after;
	bool show_tail;
	char fp[FP_HEX_LEN + 1];
	uint64_t fph; /* fp as a number, when has_fph (a rule hit's) */
	bool has_fph;
	char *title;
	char *key;
	char *test_name;
	int repeats;
	int step;
	char *synth; /* lines of a finding not from the log, '\n'-separated */
	int n_synth;
	/* what it shows */
	uint64_t took[TRIAGE_MAX_LINES];
	int n_took;
	int n_synth_shown;
	int next; /* the next position in its line order */
	bool shown;
	bool tail; /* in the last cluster of findings of its class */
	bool latest; /* the last finding of that cluster */
};

struct job_tri {
	int64_t job_row_id;
	char *name;
	char *conclusion;
	char *log_state;
	int64_t log_id;
	uint64_t n_log_lines;
	struct step *steps;
	int n_steps;
	bool any_failing_step;
	uint64_t fail_first, fail_last; /* the failing step's lines, when known */
	uint64_t last_marker;           /* the last ##[error] line */
	struct cand c[TRIAGE_MAX_CANDIDATES];
	int n;
	int n_dropped;
	bool fallback;
	int n_lines_shown;
	int last_hit; /* the candidate the previous rule hit made, or -1 */
	struct logr *r; /* the scan's reader, kept for the excerpts (one job per run) */
};

/* Copy at most max bytes of s, not cutting a UTF-8 sequence, "…" when cut. */
char *triage_capped(const char *s, size_t n, size_t max);
/* Make room for a candidate of class cls: its slot, or NULL (counted as
 * dropped) when every kept one is better. */
struct cand *triage_new_cand(struct job_tri *j, enum cls cls);

/* --- findings that are not log lines (triagejunit.c) ------------------------------ */
/* A finding for a job that timed out, could not start or was cancelled;
 * other conclusions add none. */
void triage_add_conclusion(struct job_tri *j);
/* A fallback finding for a failed job whose log is not stored. */
void triage_add_no_log(struct job_tri *j);

/* --- JUnit (triagejunit.c) -------------------------------------------------------- */
struct junit_fail {
	char *classname, *name, *file, *message, *details, *artifact;
	int64_t line;
	bool attached;
};
void triage_junit_free(struct junit_fail *t, int n);
/* The failed tests of a run (test_results, at most TRIAGE_MAX_JUNIT). */
int triage_load_junit(struct store *st, int64_t run_row_id, struct junit_fail **out, int *n,
	       struct cs_err *err);
/* Each failed test: named by a log finding, it becomes that finding's test;
 * else a JUnit finding of the job whose name best matches its artifact. */
void triage_attach_junit(struct job_tri *jobs, int n_jobs, struct junit_fail *t, int n_t);

#endif
