/* triagequery.h - the triage view's filter language (its `f`), in the
 * style of the run list's (runquery.h):
 *
 *   category:test state:new workflow:ci branch:main
 *
 * Each key at most once, in any order, keys case-insensitive; a value with
 * blanks goes in double quotes (workflow:"CI tests"; \" and \\ inside). A
 * category is a rule category (rules.h: compile, test, network, ...), a
 * state one of triage_state_names (new, acknowledged, known-flaky, fixed;
 * "flaky" and "ack" are accepted for the long names). A word without a key
 * is an error naming the keys: the filter says which field it means.
 * Tokens come from filterlang.h.
 */
#ifndef CS_TRIAGEQUERY_H
#define CS_TRIAGEQUERY_H

#include <stdbool.h>

#include "triage.h"
#include "util.h"

struct triage_query {
	char *category, *state, *workflow, *branch; /* NULL when not given */
	/* flaky:yes|no - by the history (history.h: flaky evidence, or marked
	 * known-flaky), which the view holds: it filters its rows, the SQL
	 * filter knows nothing of it. 0: not given, 1: yes, 2: no */
	int flaky;
};

/* Parse text into q (zeroed first; free with triage_query_free even on
 * error). An empty or blank text is the empty query. */
int triage_query_parse(const char *text, struct triage_query *q, struct cs_err *err);
void triage_query_free(struct triage_query *q);
/* Point f's fields at q's strings (q must outlive the use of f); limit and
 * offset are left alone. */
void triage_query_apply(const struct triage_query *q, struct triage_filter *f);
/* The canonical text of q ("" when empty), which parses back to q. */
void triage_query_format(const struct triage_query *q, struct buf *out);
bool triage_query_empty(const struct triage_query *q);

#endif
