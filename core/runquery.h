/* runquery.h - the run list's filter language (the runs view's `f`).
 *
 *   word            each word must appear (case-insensitive) in the run's
 *                   workflow, branch, sha, title, event, run id or commit
 *                   message
 *   "two words"     a phrase: one word with spaces
 *   branch:X  workflow:Y  status:Z  event:E
 *                   exact fields; a value with spaces in double quotes
 *                   (workflow:"CI tests"); status is a status or conclusion,
 *                   or "failed" (any failure) or "running" (not completed)
 *
 * Tokens come from filterlang.h (shared with the triage filter).
 * Keys are case-insensitive; each key may be given once. Inside quotes, \"
 * and \\ stand for " and \. A word that looks like key:value with another
 * key is an error (a typo would otherwise silently match nothing); quote it
 * to search for the text.
 */
#ifndef CS_RUNQUERY_H
#define CS_RUNQUERY_H

#include "store.h"
#include "util.h"

struct run_query {
	char *workflow, *branch, *status, *event; /* NULL when not given */
	char **words;
	int n_words;
};

/* Parse text into q (zeroed first; free with run_query_free even on error).
 * An empty or blank text is the empty query. */
int run_query_parse(const char *text, struct run_query *q, struct cs_err *err);
void run_query_free(struct run_query *q);
/* Point f's filter fields at q's strings (q must outlive the use of f);
 * limit, offset and sort are left alone. */
void run_query_apply(const struct run_query *q, struct run_filter *f);
/* The canonical text of q, which parses back to the same query. */
void run_query_format(const struct run_query *q, struct buf *out);
bool run_query_empty(const struct run_query *q);

#endif
