/* t_cistate.c - cistate.c: the one list of failed conclusions (C and SQL
 * agree, and SQLite reads the SQL list as those strings) and the one table
 * of state glyphs that the views and the CLI share. */
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "core/cistate.h"
#include "core/util.h"
#include "test.h"

static const char *const all_states[] = {
	"success",     "failure", "timed_out", "startup_failure", "action_required",
	"cancelled",   "skipped", "neutral",   "stale",           "in_progress",
	"queued",      "waiting", "pending",   "requested",       "completed",
};

TEST(failed_conclusions)
{
	static const struct {
		const char *c;
		bool failed, step_failing;
	} cases[] = {
		{"failure", true, true},          {"timed_out", true, true},
		{"startup_failure", true, true},  {"action_required", true, true},
		{"cancelled", false, true},       {"success", false, false},
		{"skipped", false, false},        {NULL, false, false},
		{"", false, false},               {"Failure", false, false},
		{"failure ", false, false},       {"fail", false, false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (ci_conclusion_is_failure(cases[i].c) != cases[i].failed)
			t_fail(__FILE__, __LINE__, "ci_conclusion_is_failure(%s)", cases[i].c);
		if (ci_step_conclusion_failing(cases[i].c) != cases[i].step_failing)
			t_fail(__FILE__, __LINE__, "ci_step_conclusion_failing(%s)", cases[i].c);
	}
	CHECK_STR(CI_FAILED_SQL, "('failure', 'timed_out', 'startup_failure', 'action_required')");
}

/* The SQL list and the C test answer alike for every state and for
 * strings that are not states. */
TEST(failed_sql_matches_c)
{
	sqlite3 *db;
	CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	sqlite3_stmt *s;
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT ?1 IN " CI_FAILED_SQL, -1, &s, NULL), SQLITE_OK);
	const char *extra[] = {"", "FAILURE", "failure'", "'failure'", "timed_out, 'x"};
	for (size_t i = 0; i < ARRAY_SIZE(all_states) + ARRAY_SIZE(extra); i++) {
		const char *st = i < ARRAY_SIZE(all_states) ? all_states[i]
							     : extra[i - ARRAY_SIZE(all_states)];
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, st, -1, SQLITE_STATIC);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		if ((sqlite3_column_int(s, 0) != 0) != ci_conclusion_is_failure(st))
			t_fail(__FILE__, __LINE__, "SQL and C disagree on '%s'", st);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
}

TEST(state_glyphs)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_states); i++) {
		const struct ci_state_look *l = ci_state_look(all_states[i]);
		CHECK(l != NULL);
		if (!l)
			continue;
		CHECK_STR(l->state, all_states[i]);
		CHECK_INT(strlen(l->ascii), 1);
		CHECK_INT(utf8_seq_len((const unsigned char *)l->utf8, strlen(l->utf8)), (int)strlen(l->utf8));
		/* a failed conclusion looks like one, and nothing else does */
		CHECK_INT(l->kind == CI_STATE_FAILURE, ci_conclusion_is_failure(all_states[i]));
	}
	CHECK_STR(ci_state_glyph("success", true), "\u2713");
	CHECK_STR(ci_state_glyph("success", false), "+");
	CHECK_STR(ci_state_glyph("failure", false), "X");
	CHECK_STR(ci_state_glyph("cancelled", false), "-");
	CHECK_STR(ci_state_glyph("in_progress", false), "*");
	CHECK_STR(ci_state_glyph("requested", false), ".");
	CHECK_STR(ci_state_glyph("completed", true), "\u00b7");
	CHECK_INT(ci_state_kind("waiting"), CI_STATE_RUNNING);
	CHECK_INT(ci_state_kind("stale"), CI_STATE_SKIPPED);
	/* unknown states: a visible question mark, never NULL */
	CHECK(ci_state_look(NULL) == NULL);
	CHECK(ci_state_look("\x1b]0;x\x07") == NULL);
	CHECK_STR(ci_state_glyph(NULL, true), "?");
	CHECK_STR(ci_state_glyph("nonsense", false), "?");
	CHECK_INT(ci_state_kind("nonsense"), CI_STATE_OTHER);
}
