/* views.h - the registry of views: one line per view generates its ops
 * declaration and its entry in the view table (tig's VIEW_INFO).
 * See tui/tui.h "Adding a view" for the steps. */
#ifndef CS_VIEWS_H
#define CS_VIEWS_H

#include "core/store.h"
#include "tui/tui.h"

#define VIEW_LIST(_)   \
	_(runs)        \
	_(run)         \
	_(log)         \
	_(search)      \
	_(triage)      \
	_(help)

#define VIEW_OPS_DECL(name) extern const struct view_ops name##_view_ops;
VIEW_LIST(VIEW_OPS_DECL)
#undef VIEW_OPS_DECL

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
struct search_view_arg {
	const char *query;
	int flags;           /* MATCH_* from core/search.h */
};

/* Start the TUI on the runs view; returns the exit status. */
int app_main(struct store *st, const char *db_path, bool no_color);

#endif
