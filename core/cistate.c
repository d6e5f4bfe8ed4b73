/* cistate.c - the failed conclusions and the state glyph table (see cistate.h). */
#include "cistate.h"

#include <string.h>

#include "util.h"

#define CI_C_ITEM_(s) s,
static const char *const failed[] = {CI_FAILED_CONCLUSIONS(CI_C_ITEM_, CI_C_ITEM_)};

bool ci_conclusion_is_failure(const char *c)
{
	if (!c)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(failed); i++)
		if (!strcmp(c, failed[i]))
			return true;
	return false;
}

bool ci_step_conclusion_failing(const char *c)
{
	return ci_conclusion_is_failure(c) || (c && !strcmp(c, "cancelled"));
}

static const struct ci_state_look looks[] = {
	{"success", "\u2713", "+", CI_STATE_SUCCESS},
	{"failure", "\u2717", "X", CI_STATE_FAILURE},
	{"timed_out", "\u2717", "X", CI_STATE_FAILURE},
	{"startup_failure", "\u2717", "X", CI_STATE_FAILURE},
	{"action_required", "!", "!", CI_STATE_FAILURE},
	{"cancelled", "\u2298", "-", CI_STATE_SKIPPED},
	{"skipped", "\u2192", ">", CI_STATE_SKIPPED},
	{"neutral", "\u25cb", "o", CI_STATE_SKIPPED},
	{"stale", "\u25cb", "o", CI_STATE_SKIPPED},
	{"in_progress", "\u25cf", "*", CI_STATE_RUNNING},
	{"queued", "\u25cc", ".", CI_STATE_RUNNING},
	{"waiting", "\u25cc", ".", CI_STATE_RUNNING},
	{"pending", "\u25cc", ".", CI_STATE_RUNNING},
	{"requested", "\u25cc", ".", CI_STATE_RUNNING},
	/* completed without a conclusion: steps found in a log without the API */
	{"completed", "\u00b7", ".", CI_STATE_OTHER},
};

const struct ci_state_look *ci_state_look(const char *state)
{
	if (!state)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(looks); i++)
		if (!strcmp(state, looks[i].state))
			return &looks[i];
	return NULL;
}

const char *ci_state_glyph(const char *state, bool utf8)
{
	const struct ci_state_look *l = ci_state_look(state);
	if (!l)
		return "?";
	return utf8 ? l->utf8 : l->ascii;
}

enum ci_state_kind ci_state_kind(const char *state)
{
	const struct ci_state_look *l = ci_state_look(state);
	return l ? l->kind : CI_STATE_OTHER;
}

bool ci_status_filter_valid(const char *s)
{
	if (!s)
		return false;
	if (!strcmp(s, "failed") || !strcmp(s, "running") || !strcmp(s, "completed"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(looks); i++)
		if (!strcmp(s, looks[i].state))
			return true;
	return false;
}
