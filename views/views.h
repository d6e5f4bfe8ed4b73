/* views.h - the application's registry: its views, actions and colour
 * roles, the selection views publish for the actions that open other
 * views, and what every view may use. One line per view in VIEW_LIST
 * declares its ops, registers it with the framework and generates its
 * `view-NAME` action (tig's VIEW_INFO). See tui/tui.h "Adding a view".
 *
 * Ownership: the tables here are the application's; the framework (tui/)
 * takes them at start-up (app_register(), views/actions.c) and knows
 * nothing of CI.
 */
#ifndef CS_VIEWS_H
#define CS_VIEWS_H

#include "core/store.h"
#include "tui/tui.h"

/* VIEW(name, ENUM, "help group", "help of view-NAME"): a view with an
 * open action; PLAIN(name): a view without one (help opens on the
 * framework's view-help). view-NAME opens NAME on top, calling its
 * open(v, NULL): the view takes what it opens on from the selection of
 * the view it was opened from (view_env_of(v->parent)). */
#define VIEW_LIST(VIEW, PLAIN)                                                                    \
	VIEW(runs, RUNS, "Views", "Open the list of runs")                                        \
	VIEW(run, RUN, "Views", "Open the selected run: its jobs and steps")                      \
	VIEW(log, LOG, "Views", "Open the log of the selected job")                               \
	VIEW(search, SEARCH, "Views", "Search every stored log (asks for the text)")              \
	VIEW(triage, TRIAGE, "Triage", "Open the triage view: failed runs, jobs, findings")       \
	VIEW(commits, COMMITS, "Views", "Open the branch's first-parent history with CI verdicts") \
	VIEW(bisect, BISECT, "Bisect", "Bisect from the selected run or finding (or show the bisection)") \
	VIEW(diff, DIFF, "Diff", "Diff the selected run (or job) against its baseline")          \
	VIEW(runbook, RUNBOOK, "Runbooks", "Choose a runbook to run (bound to the selected run) or a past one") \
	VIEW(metrics, METRICS, "Views", "Open the metrics over history: values, trends, thresholds, change points") \
	PLAIN(chart)                                                                              \
	PLAIN(help)

#define VIEW_OPS_DECL(name, ...) extern const struct view_ops name##_view_ops;
VIEW_LIST(VIEW_OPS_DECL, VIEW_OPS_DECL)
#undef VIEW_OPS_DECL

/* The application's actions besides view-NAME: _(ENUM, "name", "help");
 * GROUP("title") starts a help section (a title the framework uses, such
 * as "Views", adds rows to its section). */
#define APP_ACTION_INFO(_, GROUP)                                                                 \
	GROUP("Triage")                                                                           \
	_(TRIAGE_GROUPING, "toggle-grouping", "Findings by run, or grouped by fingerprint")       \
	_(TRIAGE_ACK, "triage-acknowledged", "Mark the failure acknowledged")                     \
	_(TRIAGE_FLAKY, "triage-known-flaky", "Mark the failure known flaky")                     \
	_(TRIAGE_FIXED, "triage-fixed", "Mark the failure fixed")                                 \
	_(TRIAGE_NEW, "triage-new", "Mark the failure untriaged again")                     \
	_(TRIAGE_NOTE, "triage-note", "Write a note on the failure")                              \
	GROUP("Bisect")                                                                           \
	_(BISECT_GOOD, "bisect-good", "Mark the commit at the cursor good")                       \
	_(BISECT_BAD, "bisect-bad", "Mark the commit at the cursor bad")                          \
	_(BISECT_SKIP, "bisect-skip", "Skip the commit at the cursor (cannot be tested)")         \
	_(BISECT_RUN, "bisect-run", "Run a command on each next commit until the first bad one")  \
	_(BISECT_DISPATCH, "bisect-dispatch", "Run the workflow at the next commit on CI (temporary branch)") \
	GROUP("Metrics")                                                                          \
	_(METRIC_ACK, "metric-acknowledge", "Acknowledge the change point (asks for a note): it stops alerting") \
	GROUP("Diff")                                                                             \
	_(DIFF_ALL_LINES, "toggle-all-lines", "Diff: added lines only, or both sides")            \
	GROUP("GitHub")                                                                           \
	_(FETCH, "fetch", "Fetch new and unfinished runs from GitHub in the background")          \
	_(RERUN_FAILED, "rerun-failed", "Re-run the failed jobs of the selected run (asks first)") \
	_(DISPATCH, "dispatch", "Run a workflow on a branch or tag (asks first)")             \
	GROUP("Runbooks")                                                                         \
	_(RUNBOOK_RUN, "runbook-run", "Run the selected step (asks first when it says so)")      \
	_(RUNBOOK_RETRY, "runbook-retry", "Run the selected step again")                          \
	_(RUNBOOK_SKIP, "runbook-skip", "Skip the selected step (recorded)")                      \
	_(RUNBOOK_NOTE, "runbook-note", "Write a note into the runbook's log")                    \
	_(RUNBOOK_SET_VAR, "runbook-set-var", "Give a variable a value (NAME=VALUE), as --var does") \
	_(RUNBOOK_ABORT, "runbook-abort", "Abort the runbook (asks first; recorded)")             \
	_(RUNBOOK_DRY_RUN, "runbook-dry-run", "Open the selected runbook as a dry run: commands shown, nothing run")

enum app_action {
	APP_ACT_BEFORE_ = ACT_APP_FIRST - 1,
#define APP_VIEW_ACT(name, e, group, help) ACT_VIEW_##e,
#define APP_NO_ACT(name)
	VIEW_LIST(APP_VIEW_ACT, APP_NO_ACT)
#undef APP_VIEW_ACT
#undef APP_NO_ACT
#define APP_ACT_ENUM(e, name, help) ACT_##e,
#define APP_ACT_NOGROUP(title)
	APP_ACTION_INFO(APP_ACT_ENUM, APP_ACT_NOGROUP)
#undef APP_ACT_ENUM
#undef APP_ACT_NOGROUP
	APP_ACT_END_
};

/* The application's colour roles: _(ENUM, "config-name", 'letter') (the
 * letter stands for the role in :save-display-attrs dumps). */
#define APP_ROLE_INFO(_)                                                                          \
	_(BRANCH, "branch", 'b')                                                                  \
	_(SHA, "sha", 'h')                                                                        \
	_(FIX, "decision-fix", 'X')           /* triage: fix the code */                          \
	_(INVESTIGATE, "decision-investigate", 'I')                                               \
	_(RETRY, "decision-retry", 'R')       /* ... retry or escalate (infrastructure) */        \
	_(FLAKY, "flaky", 'k')                /* a flaky failure, a run failed by flakes */      \
	_(DIFF_ADDED, "diff-added", '+')      /* a log line only in the run */                   \
	_(DIFF_UPDATED, "diff-updated", '~')  /* ... changed from a similar baseline line */     \
	_(DIFF_REMOVED, "diff-removed", '-')  /* ... only in the baseline */

enum app_role_index {
#define APP_ROLE_IDX(e, name, letter) APP_ROLE_IDX_##e,
	APP_ROLE_INFO(APP_ROLE_IDX)
#undef APP_ROLE_IDX
	APP_ROLE_COUNT
};
/* A role of the table as the framework's type (an enum cannot be
 * extended, and mixing enum types is a warning): views draw with these. */
#define APP_ROLE(e) ((enum role)(ROLE_APP_FIRST + APP_ROLE_IDX_##e))
#define ROLE_BRANCH APP_ROLE(BRANCH)
#define ROLE_SHA APP_ROLE(SHA)
#define ROLE_FIX APP_ROLE(FIX)
#define ROLE_INVESTIGATE APP_ROLE(INVESTIGATE)
#define ROLE_RETRY APP_ROLE(RETRY)
#define ROLE_FLAKY APP_ROLE(FLAKY)
#define ROLE_DIFF_ADDED APP_ROLE(DIFF_ADDED)
#define ROLE_DIFF_UPDATED APP_ROLE(DIFF_UPDATED)
#define ROLE_DIFF_REMOVED APP_ROLE(DIFF_REMOVED)

/* Register the tables above with the framework (before tui_init() and
 * before `ciscope keys`). */
void app_register(void);

/* --- the selection (tig's argv_env) -------------------------------------------- */
/* What the cursor of a view is on, published by the view's ops->env; the
 * actions that open other views from the selection (view-NAME, rerun,
 * dispatch; next diff, bisect, runbook) read it here, once. Zero/empty
 * fields: nothing of that kind is selected. Pointers stay valid while the
 * publishing view is unchanged: use them at once. */
struct view_env {
	int64_t run;            /* row id of the selected run */
	const struct run *run_rec; /* ... its record, when the view holds one */
	bool run_failed;        /* ... whose conclusion is a failure */
	bool in_run;            /* the view shows that one run (its jobs, its
				 * log): views opened from it stay within it */
	int64_t job;            /* row id of the selected job */
	char commit[41];        /* head sha of the selected run */
	char fingerprint[17];   /* the selected failure's fingerprint */
	/* what a list is narrowed to (its filter), so that a view opened from
	 * it keeps the scope; NULL: everything */
	const char *workflow, *branch;
	/* what b bisects from here (core/bisect.h text form: "test:NAME",
	 * "job:W/J", "parity:W"), when the view knows better than the run's
	 * workflow; NULL: nothing more */
	const char *bisect_target;
};
/* The selection of v (NULL or a view without ops->env: nothing). */
void view_env_of(struct view *v, struct view_env *env);
/* The selection of the view v was opened from, for the command cmd; false,
 * and an error saying so, when it has no job (job) or no run (!job). */
bool view_env_parent(struct view *v, struct view_env *env, bool job, const char *cmd);
/* env's run set to r: its id, record, failure, commit, and in_run. */
void view_env_set_run(struct view_env *env, const struct run *r);
/* Read the run of env (by its row id) into r (run_free it); false when
 * none is selected or it cannot be read (then err says why). */
bool view_env_run(const struct view_env *env, struct run *r, struct cs_err *err);

/* What every view may use: the index, the git checkout (may be NULL). */
struct app {
	struct store *st;
	struct gitrepo *repo;
	const char *db_path;
	/* bumped when a triage state changes: views showing states redraw
	 * what they cached (the run list's flaky marks) */
	unsigned triage_gen;
};
extern struct app app;

/* Arguments of views that open on something. */
struct log_view_arg {
	int64_t run_row_id;
	int64_t job_row_id;
	int64_t line;        /* 0: the top; else open at this line */
	int step_number;     /* 0: none; else open at this step's first line */
	const char *query;   /* NULL: none; else highlight (and n/N) this search */
};
struct run_view_arg {
	int64_t run_row_id;
};
struct triage_view_arg {
	int64_t run_row_id;  /* 0: every failed run; else this run's failures */
	int64_t select_run;  /* 0: none; else put the cursor on this run */
	const char *filter;  /* NULL: none; else the filter (core/triagequery.h) */
};
struct runs_view_arg {
	const char *filter;  /* NULL: none; else the run filter (core/runquery.h) */
};
struct commits_view_arg {
	const char *branch;  /* NULL: the selection's branch, else the default */
};
struct bisect_view_arg {
	const char *target;  /* core/bisect.h text form: start it (none active) */
	const char *bad;     /* REV or RUN; NULL: the newest bad run */
};
/* :diff RUN[/JOB] [BASE[/JOB]]: runs as `ciscope diff` names them. */
struct diff_view_arg {
	const char *run;
	const char *base;    /* NULL: the baseline the diff chooses */
};
/* :diff [RUN [BASE]] from any view's command hook (views_command). */
bool diff_command(struct view *v, const char *cmd, const char *arg, unsigned *eff);
struct runbook_view_arg {
	const char *name;    /* a runbook: its name or file; NULL: the chooser */
	int64_t resume_id;   /* 0: none; else reopen this instance */
	bool dry_run;        /* resolve and show, run and record nothing */
};
/* :metrics [FILTER]: PATTERN, workflow:W, branch:B (or --workflow W,
 * --branch B) as `ciscope metrics` takes them; NULL: the scope of the
 * view it was opened from. */
struct metrics_view_arg {
	const char *filter;
};
struct search_view_arg {
	const char *query;
	int flags;           /* MATCH_* from core/search.h */
};

/* Start the TUI on the runs view; returns the exit status. */
int app_main(struct store *st, const char *db_path, bool no_color);

#endif
