/* cistate.h - what a CI state means and how it looks, in one place.
 *
 * A state is a run's, job's or step's conclusion, else its status, as GitHub
 * spells them. Two things about states are needed all over the tree and
 * must not drift apart:
 *
 *  - which conclusions are a failure (gh's definition: failure, timed_out,
 *    startup_failure, action_required; cancelled is not one), both as a C
 *    test and as an SQL list for queries over runs and jobs;
 *  - the glyph of each state (UTF-8 and ASCII) and its kind, which the
 *    views turn into a colour role and the CLI into an SGR colour.
 *
 * Owned here; store.h re-exports ci_conclusion_is_failure for its callers.
 */
#ifndef CS_CISTATE_H
#define CS_CISTATE_H

#include <stdbool.h>

/* The failed conclusions, once: FIRST(s) for the first, NEXT(s) for the
 * others (an X-macro, so the C test and the SQL list are one list). */
#define CI_FAILED_CONCLUSIONS(FIRST, NEXT) \
	FIRST("failure") NEXT("timed_out") NEXT("startup_failure") NEXT("action_required")
#define CI_SQL_FIRST_(s) "'" s "'"
#define CI_SQL_NEXT_(s) ", '" s "'"
/* "('failure', 'timed_out', ...)": for `conclusion IN ` CI_FAILED_SQL. */
#define CI_FAILED_SQL "(" CI_FAILED_CONCLUSIONS(CI_SQL_FIRST_, CI_SQL_NEXT_) ")"

/* Is conclusion c (NULL: none) a failure? */
bool ci_conclusion_is_failure(const char *c);
/* Did a step with conclusion c stop its job? A failure, or cancelled: the
 * step running when a job timed out ends "cancelled". */
bool ci_step_conclusion_failing(const char *c);

enum ci_state_kind {
	CI_STATE_SUCCESS,
	CI_STATE_FAILURE,
	CI_STATE_SKIPPED, /* cancelled, skipped, neutral, stale */
	CI_STATE_RUNNING, /* not completed yet */
	CI_STATE_OTHER,   /* completed without a conclusion; states ciscope does not know */
};

struct ci_state_look {
	const char *state;
	const char *utf8, *ascii; /* one column wide each */
	enum ci_state_kind kind;
};

/* The look of state; NULL for NULL or a state not in the table. */
const struct ci_state_look *ci_state_look(const char *state);
/* The values a run list's status filter takes (store.h run_filter.status):
 * every state above, "completed", and the groups "failed" (any failed
 * conclusion) and "running" (not completed). CI_STATUS_VALUES lists them. */
bool ci_status_filter_valid(const char *s);
#define CI_STATUS_VALUES                                                                   \
	"failed, running, success, failure, timed_out, startup_failure, action_required, "   \
	"cancelled, skipped, neutral, stale, completed, in_progress, queued, waiting, pending, " \
	"requested"
/* The glyph of state in UTF-8 or ASCII; "?" for an unknown state. */
const char *ci_state_glyph(const char *state, bool utf8);
/* The kind of state; CI_STATE_OTHER for an unknown one. */
enum ci_state_kind ci_state_kind(const char *state);

#endif
