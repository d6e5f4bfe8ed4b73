/* remote.h - GitHub from the terminal UI: fetching in the background (r,
 * :fetch), refreshing unfinished runs on a timer, re-running the failed
 * jobs of a run (X) and dispatching a workflow (D) after a confirmation
 * that shows exactly what will be sent. See remote.c for what still blocks.
 */
#ifndef CS_VIEWS_REMOTE_H
#define CS_VIEWS_REMOTE_H

#include <stdbool.h>

#include "core/store.h"
#include "tui/tui.h"

/* After the first view opened: arms the refresh timer. */
void remote_init(void);
/* After tui_run(): stops what is under way (runs fetched so far stay
 * imported), frees the clients. */
void remote_shutdown(void);
/* tui_opts.app_action: r (fetch) in any view; X and D where the view did
 * not take them (no run selected there). */
bool remote_action(struct view *v, enum action a);

/* Fetch repo ("OWNER/REPO"; NULL: the repository of the newest run in the
 * index, else the origin remote's) in the background. */
void remote_fetch(const char *repo);
/* X: re-run the failed jobs of r (NULL: none selected), after asking. */
void remote_rerun(const struct run *r);
/* D: prompt for a workflow and a ref (defaults: r's, when r is not NULL),
 * then dispatch it, after asking. */
void remote_dispatch(const struct run *r);

#endif
