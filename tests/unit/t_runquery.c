/* t_runquery.c - the run filter language: words, key:value tokens, quoting,
 * errors, and the canonical form reading back as the same query. */
#include <stdlib.h>
#include <string.h>

#include "core/runquery.h"
#include "test.h"

static int parse(const char *text, struct run_query *q, struct cs_err *err)
{
	err_clear(err);
	return run_query_parse(text, q, err);
}

static void check_roundtrip(const struct run_query *q)
{
	struct buf b = BUF_INIT;
	struct run_query q2;
	struct cs_err err;
	run_query_format(q, &b);
	CHECK_OK(parse(buf_cstr(&b), &q2, &err));
	struct buf b2 = BUF_INIT;
	run_query_format(&q2, &b2);
	CHECK_STR(buf_cstr(&b2), buf_cstr(&b));
	CHECK_INT(q2.n_words, q->n_words);
	for (int i = 0; i < q->n_words && i < q2.n_words; i++)
		CHECK_STR(q2.words[i], q->words[i]);
	run_query_free(&q2);
	buf_release(&b);
	buf_release(&b2);
}

TEST(runquery_words_and_keys)
{
	struct run_query q;
	struct cs_err err;
	CHECK_OK(parse("  flaky   branch:main  Status:failed event:push workflow:CI  npm ", &q,
		       &err));
	CHECK_STR(q.branch, "main");
	CHECK_STR(q.status, "failed");
	CHECK_STR(q.event, "push");
	CHECK_STR(q.workflow, "CI");
	CHECK_INT(q.n_words, 2);
	CHECK_STR(q.words[0], "flaky");
	CHECK_STR(q.words[1], "npm");
	CHECK(!run_query_empty(&q));
	struct buf b = BUF_INIT;
	run_query_format(&q, &b);
	CHECK_STR(buf_cstr(&b), "workflow:CI branch:main status:failed event:push flaky npm");
	buf_release(&b);
	check_roundtrip(&q);

	struct run_filter f = {.limit = 7, .sort = RUN_SORT_BRANCH};
	run_query_apply(&q, &f);
	CHECK_STR(f.branch, "main");
	CHECK_INT(f.n_words, 2);
	CHECK_STR(f.words[1], "npm");
	CHECK_INT(f.limit, 7);
	CHECK_INT(f.sort, RUN_SORT_BRANCH);
	run_query_free(&q);
	CHECK(q.words == NULL && q.branch == NULL);
}

TEST(runquery_quotes)
{
	struct run_query q;
	struct cs_err err;
	CHECK_OK(parse("workflow:\"CI tests\" \"two words\" \"fix: a\\\"b\\\\c\" 12:30 \"\"", &q,
		       &err));
	CHECK_STR(q.workflow, "CI tests");
	CHECK_INT(q.n_words, 3);
	CHECK_STR(q.words[0], "two words");
	CHECK_STR(q.words[1], "fix: a\"b\\c");
	CHECK_STR(q.words[2], "12:30"); /* digits are no key */
	check_roundtrip(&q);
	run_query_free(&q);

	/* a quoted key is text */
	CHECK_OK(parse("\"branch\":main", &q, &err));
	CHECK(q.branch == NULL);
	CHECK_INT(q.n_words, 1);
	CHECK_STR(q.words[0], "branch:main");
	check_roundtrip(&q);
	run_query_free(&q);

	/* a colon inside the value is kept */
	CHECK_OK(parse("branch:release:v2 workflow:a\"b c\"d", &q, &err));
	CHECK_STR(q.branch, "release:v2");
	CHECK_STR(q.workflow, "ab cd");
	check_roundtrip(&q);
	run_query_free(&q);
}

TEST(runquery_empty)
{
	struct run_query q;
	struct cs_err err;
	CHECK_OK(parse("", &q, &err));
	CHECK(run_query_empty(&q));
	run_query_free(&q);
	CHECK_OK(parse(" \t\n ", &q, &err));
	CHECK(run_query_empty(&q));
	run_query_free(&q);
	CHECK_OK(parse(NULL, &q, &err));
	CHECK(run_query_empty(&q));
	struct buf b = BUF_INIT;
	run_query_format(&q, &b);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
	run_query_free(&q);
}

TEST(runquery_errors)
{
	struct run_query q;
	struct cs_err err;
	CHECK(parse("branch:main \"open", &q, &err) < 0);
	CHECK(strstr(err.msg, "unterminated quote at column 13") != NULL);
	run_query_free(&q);

	CHECK(parse("brnch:main", &q, &err) < 0);
	CHECK(strstr(err.msg, "unknown filter 'brnch:'") != NULL);
	run_query_free(&q);

	CHECK(parse("branch:", &q, &err) < 0);
	CHECK(strstr(err.msg, "'branch:' needs a value") != NULL);
	run_query_free(&q);

	CHECK(parse("branch:a BRANCH:b", &q, &err) < 0);
	CHECK(strstr(err.msg, "given twice") != NULL);
	run_query_free(&q);

	CHECK(parse("status:broken", &q, &err) < 0);
	CHECK(strstr(err.msg, "unknown status 'broken'") != NULL);
	run_query_free(&q);

	/* a backslash at the very end escapes nothing: still unterminated */
	CHECK(parse("\"a\\", &q, &err) < 0);
	CHECK(strstr(err.msg, "unterminated quote at column 1") != NULL);
	run_query_free(&q);
}

TEST(runquery_hostile)
{
	struct run_query q;
	struct cs_err err;
	/* a huge value and many words parse without limits of their own */
	size_t n = 1 << 20;
	char *big = malloc(n + 16);
	memcpy(big, "branch:", 7);
	memset(big + 7, 'x', n);
	big[7 + n] = '\0';
	CHECK_OK(parse(big, &q, &err));
	CHECK_INT(strlen(q.branch), n);
	run_query_free(&q);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 2 ? ' ' : 'w';
	big[n] = '\0';
	CHECK_OK(parse(big, &q, &err));
	CHECK_INT(q.n_words, n / 2);
	run_query_free(&q);
	free(big);

	/* invalid UTF-8 and control bytes are just bytes of a word */
	CHECK_OK(parse("\xff\xfe \x01\x1b[2J branch:\xc3", &q, &err));
	CHECK_INT(q.n_words, 2);
	CHECK_STR(q.words[0], "\xff\xfe");
	CHECK_STR(q.branch, "\xc3");
	check_roundtrip(&q);
	run_query_free(&q);

	/* an unknown key's name is cut in the message */
	char key[300];
	memset(key, 'k', 200);
	memcpy(key + 200, ":v", 3);
	CHECK(parse(key, &q, &err) < 0);
	CHECK(strlen(err.msg) < 300);
	run_query_free(&q);
}
