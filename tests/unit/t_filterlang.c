/* t_filterlang.c - filterlang.c, the tokenizer the filter languages share:
 * words, phrases, key:value, quotes and escapes, and hostile input
 * (unterminated quotes, lone backslashes, control bytes, huge filters). */
#include <stdlib.h>
#include <string.h>

#include "core/filterlang.h"
#include "core/runquery.h"
#include "core/triagequery.h"
#include "core/util.h"
#include "test.h"

/* Tokens of text as "key=value" or "word", joined by '|'; "ERR:<msg>" when
 * the lexer fails. */
static char *lex(const char *text, unsigned flags)
{
	struct fl_lexer lx;
	struct fl_token t;
	struct cs_err err;
	struct buf out = BUF_INIT;
	int rc;
	err_clear(&err);
	fl_lexer_init(&lx, text, flags);
	while ((rc = fl_next(&lx, &t, &err)) > 0) {
		if (out.len)
			buf_addc(&out, '|');
		CHECK_INT(strlen(t.text), t.len);
		if (t.key_len) {
			buf_add(&out, t.key, t.key_len);
			buf_addc(&out, '=');
			buf_add(&out, t.value, t.value_len);
		} else {
			CHECK(t.value == t.text && t.value_len == t.len);
			buf_add(&out, t.text, t.len);
		}
	}
	if (rc < 0) {
		buf_reset(&out);
		buf_addf(&out, "ERR:%s", err.msg);
	}
	fl_lexer_release(&lx);
	buf_cstr(&out);
	return buf_detach(&out, NULL);
}

#define LEX(text, flags, want)                   \
	do {                                     \
		char *got_ = lex(text, flags);   \
		CHECK_STR(got_, want);           \
		free(got_);                      \
	} while (0)

TEST(words_and_keys)
{
	LEX("", 0, "");
	LEX(NULL, 0, "");
	LEX(" \t\r\n\f\v ", 0, "");
	LEX("a b  c", 0, "a|b|c");
	LEX("branch:main fix", 0, "branch=main|fix");
	LEX("Branch:Main", 0, "Branch=Main");
	LEX("workflow:\"CI tests\" x", 0, "workflow=CI tests|x");
	LEX("\"two words\"", 0, "two words");
	LEX("a:b:c", 0, "a=b:c");           /* the first colon splits */
	LEX(":x", 0, ":x");                  /* no key before it */
	LEX("k:", 0, "k=");                  /* a key with an empty value */
	LEX("k:\"\"", 0, "k=");
	LEX("\"\"", 0, "");                  /* an empty token is still a token */
	LEX("\"a:b\"", 0, "a:b");            /* a quoted colon is text */
	LEX("\"a\":b", 0, "a:b");            /* a quote before the colon: no key */
	LEX("a\"b c\"d", 0, "ab cd");        /* quotes may sit inside a token */
}

TEST(key_letters)
{
	LEX("a-b:c", 0, "a-b=c");
	LEX("a-b:c", FL_KEY_LETTERS, "a-b:c");
	LEX("http://x.y/z", FL_KEY_LETTERS, "http=//x.y/z");
	LEX("12:30", FL_KEY_LETTERS, "12:30");
	LEX("12:30", 0, "12=30");
	LEX("st\xc3\xa4tus:x", FL_KEY_LETTERS, "st\xc3\xa4tus:x");
}

TEST(escapes)
{
	LEX("\"a\\\"b\"", 0, "a\"b");
	LEX("\"a\\\\b\"", 0, "a\\b");
	LEX("\"a\\nb\"", 0, "a\\nb");        /* other escapes are kept */
	LEX("a\\b", 0, "a\\b");              /* outside quotes nothing is an escape */
	LEX("\"\\\\\"", 0, "\\");
}

TEST(hostile)
{
	LEX("\"", 0, "ERR:unterminated quote at column 1 of the filter");
	LEX("ok \"open", 0, "ERR:unterminated quote at column 4 of the filter");
	LEX("x:\"a\\\"", 0, "ERR:unterminated quote at column 3 of the filter");
	LEX("\"\\", 0, "ERR:unterminated quote at column 1 of the filter");
	/* control bytes and escape sequences are text, not separators */
	LEX("\x1b[31m:x \x7f", 0, "\x1b[31m=x|\x7f");
	LEX("a\x01" "b", 0, "a\x01" "b");
	/* a huge filter: one token, bytes kept, no recursion or quadratic cost */
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, 'q', n);
	big[n] = '\0';
	big[3] = ':';
	char *got = lex(big, 0);
	CHECK_INT(strlen(got), n);
	CHECK(got[3] == '=');
	free(got);
	/* many quoted tokens */
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(big + i, "\"x\" ", 4);
	big[n - n % 4] = '\0';
	got = lex(big, 0);
	CHECK_INT(strlen(got), 2 * (n / 4) - 1); /* x|x|...|x */
	free(got);
	free(big);
	struct fl_token t;
	struct fl_lexer lx;
	struct cs_err err;
	fl_lexer_init(&lx, "a   b", 0);
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_INT(t.column, 1);
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_INT(t.column, 5);
	CHECK_INT(fl_next(&lx, &t, &err), 0);
	CHECK_INT(fl_next(&lx, &t, &err), 0); /* the end stays the end */
	fl_lexer_release(&lx);
}

/* Binary input (every byte but NUL, in a fixed pseudo-random order): the
 * lexer either ends with an unterminated quote or, with no quote at all,
 * gives exactly the blank-separated runs, split at their first ':'; both
 * languages parse or fail with a message, never crash. */
TEST(binary_bytes)
{
	unsigned seed = 12345;
	char text[257], want[600];
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % 256) + 1;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned c = (seed >> 16) % 255 + 1;
			if (round % 2 && c == '"') /* half the rounds without quotes */
				c = 'q';
			text[i] = (char)c;
		}
		text[n] = '\0';
		char *got = lex(text, 0);
		if (!strchr(text, '"')) {
			size_t w = 0;
			bool in_tok = false, keyed = false;
			for (size_t i = 0; i < n; i++) {
				if (fl_is_blank(text[i])) {
					in_tok = false;
					continue;
				}
				if (!in_tok) {
					if (w)
						want[w++] = '|';
					in_tok = true;
					keyed = false;
					want[w++] = text[i]; /* a token's first byte is never its key's end */
					continue;
				}
				want[w++] = text[i] == ':' && !keyed ? (keyed = true, '=') : text[i];
			}
			want[w] = '\0';
			CHECK_STR(got, want);
		} else if (!strncmp(got, "ERR:", 4)) {
			CHECK(!strncmp(got, "ERR:unterminated quote at column ", 33));
		}
		free(got);
		struct cs_err err;
		struct run_query rq;
		err_clear(&err);
		if (run_query_parse(text, &rq, &err) < 0)
			CHECK(err.msg[0] != '\0');
		run_query_free(&rq);
		struct triage_query tq;
		err_clear(&err);
		if (triage_query_parse(text, &tq, &err) < 0)
			CHECK(err.msg[0] != '\0');
		triage_query_free(&tq);
	}
}

/* fl_parse: every token to the callback in order; its error stops the
 * loop and is the result; an unterminated quote is one too. */
static int count_token(const struct fl_token *t, void *ctx, struct cs_err *err)
{
	int *n = ctx;
	if (fl_key_is(t, "stop"))
		return err_set(err, CS_EUSAGE, "stop at %zu", t->column);
	(*n)++;
	return 0;
}

TEST(parse_loop)
{
	struct cs_err err;
	int n = 0;
	err_clear(&err);
	CHECK_OK(fl_parse(NULL, 0, count_token, &n, &err));
	CHECK_INT(n, 0);
	CHECK_OK(fl_parse(" a b:c \"d e\" ", 0, count_token, &n, &err));
	CHECK_INT(n, 3);
	n = 0;
	CHECK_INT(fl_parse("a stop:x b", 0, count_token, &n, &err), -1);
	CHECK_INT(n, 1);
	CHECK_STR(err.msg, "stop at 3");
	n = 0;
	CHECK_INT(fl_parse("a b \"c", 0, count_token, &n, &err), -1);
	CHECK_INT(n, 2);
	CHECK_STR(err.msg, "unterminated quote at column 5 of the filter");
}

TEST(key_is)
{
	struct fl_lexer lx;
	struct fl_token t;
	struct cs_err err;
	fl_lexer_init(&lx, "BrAnCh:x branchy:y branch", 0);
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK(fl_key_is(&t, "branch"));
	CHECK(!fl_key_is(&t, "bran"));
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK(!fl_key_is(&t, "branch"));
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK(!fl_key_is(&t, "branch")); /* a word has no key */
	fl_lexer_release(&lx);
}

/* What fl_add_value writes reads back as one token with the same value. */
TEST(add_value_round_trip)
{
	const char *vals[] = {"main", "", "a b", "say \"hi\"", "back\\slash", "a:b",
			      "tab\there", "\"", "\\", "x:\"y z\"", "\xe2\x9c\x93 ok"};
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		for (int colon = 0; colon < 2; colon++) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "k:");
			fl_add_value(&b, vals[i], false);
			buf_adds(&b, " ");
			fl_add_value(&b, vals[i], colon);
			struct fl_lexer lx;
			struct fl_token t;
			struct cs_err err;
			fl_lexer_init(&lx, buf_cstr(&b), 0);
			CHECK_INT(fl_next(&lx, &t, &err), 1);
			CHECK(fl_key_is(&t, "k"));
			CHECK_STR(t.value, vals[i]);
			CHECK_INT(fl_next(&lx, &t, &err), 1);
			if (colon) { /* a word: no key may appear */
				CHECK_INT(t.key_len, 0);
				CHECK_STR(t.text, vals[i]);
			}
			CHECK_INT(fl_next(&lx, &t, &err), 0);
			fl_lexer_release(&lx);
			buf_release(&b);
		}
	}
	struct buf b = BUF_INIT;
	fl_add_value(&b, "plain", true);
	CHECK_STR(buf_cstr(&b), "plain");
	buf_reset(&b);
	fl_add_value(&b, "a:b", true);
	CHECK_STR(buf_cstr(&b), "\"a:b\"");
	buf_reset(&b);
	fl_add_value(&b, "a:b", false);
	CHECK_STR(buf_cstr(&b), "a:b");
	buf_release(&b);
}

TEST(set_once)
{
	struct fl_lexer lx;
	struct fl_token t;
	struct cs_err err;
	char *field = NULL;
	fl_lexer_init(&lx, "Branch:main branch:dev k: k:\"\"", 0);
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_OK(fl_set_once(&field, &t, "main", &err));
	CHECK_STR(field, "main");
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_INT(fl_set_once(&field, &t, "main", &err), -1);
	CHECK_INT(err.code, CS_EUSAGE);
	CHECK_STR(err.msg, "'branch:' is given twice in the filter");
	CHECK_STR(field, "main"); /* the first one stays */
	char *other = NULL;
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_INT(fl_set_once(&other, &t, "x", &err), -1);
	CHECK_STR(err.msg, "'k:' needs a value (e.g. k:x)");
	CHECK(other == NULL);
	CHECK_INT(fl_next(&lx, &t, &err), 1);
	CHECK_INT(fl_set_once(&other, &t, NULL, &err), -1);
	CHECK_STR(err.msg, "'k:' needs a value");
	CHECK(other == NULL);
	fl_lexer_release(&lx);
	free(field);
}
