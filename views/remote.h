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
/* Fetch repo ("OWNER/REPO"; NULL: the repository of the newest run in the
 * index, else the origin remote's) in the background. */
void remote_fetch(const char *repo);
/* The actions fetch, rerun-failed and dispatch reach these through
 * views/actions.c, which gives them the selected run. */
/* X: re-run the failed jobs of r (NULL: none selected), after asking. */
void remote_rerun(const struct run *r);
/* D: prompt for a workflow and a ref (defaults: r's, when r is not NULL),
 * then dispatch it, after asking. */
void remote_dispatch(const struct run *r);

#endif
