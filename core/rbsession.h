/* rbsession.h - driving one runbook instance, step by step, without blocking.
 *
 * A session holds a parsed runbook, its variables, the index resolver and
 * the instance's id, and records everything it does as events
 * (rbstore.h). The CLI and the runbook view drive it the same way:
 *
 *   rb_session_begin() or rb_session_resume()
 *   for each step the operator (or --auto) decides on:
 *       rb_session_resolve(k)            the command, shown before it runs
 *       rb_session_start(k, edited)      step-start event, first attempt
 *       while rb_session_pump(cb) > 0:   poll rb_session_fd() and
 *                                        rb_session_timer() in an event loop
 *                                        (the CLI's rb_session_wait does it)
 *       ... or rb_session_skip / rb_session_manual_done for the step
 *   rb_session_end("finished" | "stopped" | "aborted", why)
 *
 * Retries: after a failed attempt with attempts left the session waits the
 * step's interval (no child running, rb_session_timer() says how long),
 * then starts the next attempt, each recorded as an "attempt" event.
 * rb_session_stop() stops the running step only (its process group).
 *
 * Stored output is capped (runner.h), redacted (runbook_redact) and not
 * stored at all for a sensitive step.
 */
#ifndef CS_RBSESSION_H
#define CS_RBSESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "rbstore.h"
#include "runbook.h"
#include "runner.h"
#include "store.h"

struct rb_session {
	struct store *st;        /* NULL for a dry run: nothing is recorded */
	struct runbook rb;
	char *text;
	size_t text_len;
	int64_t id;              /* the instance; 0 in a dry run */
	struct rb_vars vars;
	struct rb_index_ctx ictx;
	char *by;
	char *checkout;          /* top of the git checkout, or NULL */
	char *self_dir;          /* directory of the ciscope binary, put first on PATH */
	/* the step under way */
	int step;                /* 0: none */
	int attempt;
	bool running;            /* a child is running */
	bool waiting;            /* between attempts */
	int64_t wait_until;      /* monotonic ms */
	int64_t step_started;    /* wall ms */
	int64_t step_mono;
	struct rb_proc proc;
	struct buf cmd, shown;
	/* the step's outcome, once it ended */
	int last_exit;
	char last_status[16];    /* ok failed timeout stopped background */
	char *env[4];
	struct rb_event *pending_start; /* internal: recorded once the process exists */
	/* after a resume: the process group of the interrupted step when it
	 * is still alive (ciscope died, the step did not), else 0 */
	int orphan_pgid;
};

/* A new instance of rb (owned by the session from now on; text its bytes,
 * also owned): records "started" with the options' variables. bind: a run
 * spec to bind (NULL: none); mode: "paranoid", "auto". For a dry run pass
 * st NULL. */
int rb_session_begin(struct rb_session *s, struct store *st, struct runbook *rb, char *text,
		     size_t text_len, const struct rb_vars *options, const char *bind,
		     const char *mode, struct cs_err *err);
/* Reopen instance id with rb (the runbook as it is now; owned from now on);
 * restores the recorded variables, records "interrupted" for a step whose
 * end was never recorded and "resumed". *from: the step to continue at. */
int rb_session_resume(struct rb_session *s, struct store *st, int64_t id, struct runbook *rb,
		      char *text, size_t text_len, const struct rb_vars *options, const char *mode,
		      int *from, struct cs_err *err);
void rb_session_release(struct rb_session *s);

/* Resolve step k's command into s->cmd (to run) and s->shown (to show and
 * record: sensitive values as ***). -1 with err when a variable is
 * unknown or empty. */
int rb_session_resolve(struct rb_session *s, int k, struct cs_err *err);
/* Start step k: the resolved command, or edited (typed by the operator,
 * checked like a runbook's command and resolved). */
int rb_session_start(struct rb_session *s, int k, const char *edited, struct cs_err *err);
int rb_session_fd(const struct rb_session *s);
/* ms until the session has work without input, -1 none. */
int rb_session_timer(const struct rb_session *s);
/* Non-blocking: 1 while the step is under way, 0 once it ended (its
 * step-end is recorded and s->last_status says how), -1 on an error. */
int rb_session_pump(struct rb_session *s, rb_output_cb cb, void *ctx, struct cs_err *err);
/* Blocking convenience (the CLI): pump until the step ended; Ctrl-C
 * (*interrupted) stops the step, not the session. */
int rb_session_wait(struct rb_session *s, rb_output_cb cb, void *ctx,
		    volatile sig_atomic_t *interrupted, struct cs_err *err);
/* Blocks until the step's output or timer has work, at most 100 ms: one
 * turn of a blocking caller's loop around rb_session_pump. */
void rb_session_poll(struct rb_session *s);
void rb_session_stop(struct rb_session *s);

int rb_session_skip(struct rb_session *s, int k, const char *why, struct cs_err *err);
int rb_session_manual_done(struct rb_session *s, int k, struct cs_err *err);
int rb_session_note(struct rb_session *s, const char *text, struct cs_err *err);
/* kind: finished, stopped, aborted. */
int rb_session_end(struct rb_session *s, const char *kind, const char *why, struct cs_err *err);

/* A note on any instance (ciscope runbook note). */
int rb_note(struct store *st, int64_t id, const char *text, const char *by, struct cs_err *err);

/* The variables a step's capture= can set (named groups, else the step's
 * name), for a dry run to show them as placeholders. */
int rb_capture_names(const struct rb_step *step, char ***names, int *n);

#endif
