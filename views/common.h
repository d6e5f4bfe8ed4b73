/* common.h - what the views share: how a CI state looks (glyph and role),
 * number formats, opening a URL in a browser, timers that die with their
 * view, and the ':' commands every view accepts. Not a view: no ops here.
 */
#ifndef CS_VIEWS_COMMON_H
#define CS_VIEWS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui/tui.h"

/* A run, job or step state (conclusion, else status): its glyph (with an
 * ASCII fallback; the table is core/cistate.h, shared with the CLI) and the
 * role its kind is drawn in. */
const char *view_state_glyph(const char *state);
enum role view_state_role(const char *state);
/* The state of something with a status and a conclusion. */
const char *view_state_of(const char *status, const char *conclusion);

/* A view's run (where *have_run) and its jobs freed, and marked gone. */
struct run;
struct job;
void view_run_jobs_free(struct run *run, bool *have_run, struct job **jobs, int *n_jobs);

/* 1234567 -> "1,234,567" */
void view_fmt_count(long long n, char *out, size_t len);

/* Open url in a browser with xdg-open (posix_spawnp, argv, no shell). Only
 * https:// URLs without control characters or spaces are opened. Returns 0,
 * or -1 with a message for the status bar in msg. */
int view_open_url(const char *url, char *msg, size_t len);

/* A one-shot timer for view v: cb(v) runs after ms unless v closed first
 * (call view_timers_cancel(v) from the view's done). */
void view_timer(struct view *v, int ms, void (*cb)(struct view *v));
void view_timers_cancel(struct view *v);
/* Free what is left (at exit). */
void view_timers_free_all(void);
/* The index changed under the views (a fetch imported runs): run their
 * pending timers now rather than at their next tick, so that their live
 * polls reload them (keeping each cursor on its run) at once. */
void views_data_changed(void);

/* A matcher for what a user typed: a regular expression when it holds
 * regex characters, a (faster) literal otherwise; an invalid expression is
 * searched as text, with a note saying so in note ("" otherwise). NULL only
 * for an empty query. */
struct matcher;
struct matcher *view_user_matcher(const char *query, char *note, size_t len);

/* ':' commands every view accepts (search TEXT); true when handled. */
bool views_command(struct view *v, const char *cmd, const char *arg, unsigned *eff);
/* Open the search view on query (across every log). */
void view_open_log_search(const char *query);

/* A dialog (views/confirm.c): text shown whole over the views, the
 * question in the status bar; the next key answers it (y yes, anything
 * else no), closes the dialog and calls done. -1 (done not called) when
 * another question is waiting. */
int confirm_open(const char *title, const char *text, const char *question,
		 void (*done)(void *ctx, bool yes), void *ctx);

#endif
