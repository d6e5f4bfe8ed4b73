/* f_query.c - the filter languages: the run list's (core/runquery.h) and the
 * triage view's (core/triagequery.h).
 *
 * Property (both headers promise it): a query that parses formats to the
 * canonical text, which parses back to the same query, whose format is the
 * same text again. A text that does not parse gets a message.
 */
#include "fuzz.h"

#include "core/runquery.h"
#include "core/triagequery.h"
#include "core/util.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void run_query(const char *text)
{
	struct run_query q, q2;
	struct cs_err err;
	err_clear(&err);
	if (run_query_parse(text, &q, &err) < 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		run_query_free(&q);
		return;
	}
	struct buf f1 = BUF_INIT, f2 = BUF_INIT;
	run_query_format(&q, &f1);
	FUZZ_CHECK(run_query_parse(buf_cstr(&f1), &q2, &err) == 0);
	FUZZ_CHECK(same(q.workflow, q2.workflow) && same(q.branch, q2.branch) &&
		   same(q.status, q2.status) && same(q.event, q2.event));
	FUZZ_CHECK(q.n_words == q2.n_words);
	for (int i = 0; i < q.n_words; i++)
		FUZZ_CHECK(strcmp(q.words[i], q2.words[i]) == 0);
	FUZZ_CHECK(run_query_empty(&q) == run_query_empty(&q2));
	run_query_format(&q2, &f2);
	FUZZ_CHECK(strcmp(buf_cstr(&f1), buf_cstr(&f2)) == 0);
	struct run_filter rf;
	memset(&rf, 0, sizeof(rf));
	run_query_apply(&q, &rf);
	FUZZ_CHECK(rf.n_words == q.n_words);
	buf_release(&f1);
	buf_release(&f2);
	run_query_free(&q);
	run_query_free(&q2);
}

static void triage_query(const char *text)
{
	struct triage_query q, q2;
	struct cs_err err;
	err_clear(&err);
	if (triage_query_parse(text, &q, &err) < 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		triage_query_free(&q);
		return;
	}
	struct buf f1 = BUF_INIT, f2 = BUF_INIT;
	triage_query_format(&q, &f1);
	FUZZ_CHECK(triage_query_parse(buf_cstr(&f1), &q2, &err) == 0);
	FUZZ_CHECK(same(q.category, q2.category) && same(q.state, q2.state) &&
		   same(q.workflow, q2.workflow) && same(q.branch, q2.branch));
	FUZZ_CHECK(triage_query_empty(&q) == triage_query_empty(&q2));
	triage_query_format(&q2, &f2);
	FUZZ_CHECK(strcmp(buf_cstr(&f1), buf_cstr(&f2)) == 0);
	buf_release(&f1);
	buf_release(&f2);
	triage_query_free(&q);
	triage_query_free(&q2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	run_query(text);
	triage_query(text);
	free(text);
	return 0;
}
