/* filterlang.h - the one tokenizer of ciscope's filter languages.
 *
 * The run list (runquery.h), the triage view (triagequery.h) and the views
 * to come (metrics, bisect) share one syntax and differ only in their keys:
 *
 *   word  "a phrase"  key:value  key:"value with blanks"
 *
 * Tokens are separated by blanks (space, \t, \n, \r, \f, \v). A double
 * quote opens a quoted part that runs to the next unescaped quote (\" and \\
 * inside stand for " and \; any other backslash is kept) and may sit
 * anywhere in a token (key:"a b", "a"b); the quotes are removed. A token
 * has a key when an unquoted ':' follows at least one character before any
 * quote: the key is what precedes the first such ':', the value what
 * follows. With FL_KEY_LETTERS the key must be ASCII letters only (then
 * "http://x" or "a-b:c" are plain words). Quoting the colon ("a:b") makes a
 * plain word. An unterminated quote is an error naming its column.
 *
 * Meaning (which keys exist, repeats, values) belongs to the languages.
 */
#ifndef CS_FILTERLANG_H
#define CS_FILTERLANG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum {
	FL_KEY_LETTERS = 1 << 0, /* a key is ASCII letters only */
};

struct fl_token {
	const char *text;  /* the token, quotes removed, NUL-terminated */
	size_t len;
	const char *key;   /* == text; key_len 0: no key */
	size_t key_len;
	const char *value; /* after the ':' (the whole text when no key) */
	size_t value_len;
	size_t column;     /* 1-based column of the token in the filter */
};

struct fl_lexer {
	const char *text, *p;
	unsigned flags;
	struct buf tok;
};

/* Tokens of text (not copied: it must outlive the lexer). */
void fl_lexer_init(struct fl_lexer *lx, const char *text, unsigned flags);
/* The next token into *t (valid until the next call): 1, or 0 at the end,
 * or -1 with err set (an unterminated quote). */
int fl_next(struct fl_lexer *lx, struct fl_token *t, struct cs_err *err);
void fl_lexer_release(struct fl_lexer *lx);

/* A language's meaning of one token: 0 to go on, or -1 with err set. */
typedef int (*fl_token_fn)(const struct fl_token *t, void *ctx, struct cs_err *err);
/* Each token of text (NULL: none) to fn in order, until the end, an
 * unterminated quote or fn's error: 0, or -1 with err set. The loop every
 * language's parse function would otherwise write again. */
int fl_parse(const char *text, unsigned flags, fl_token_fn fn, void *ctx, struct cs_err *err);

/* Is t's key name (lower-case), compared case-insensitively? */
bool fl_key_is(const struct fl_token *t, const char *name);
bool fl_is_blank(char c);

/* The value of t into *field (a copy), for a key given at most once: an
 * error when *field is set already, when the value is empty ("needs a
 * value", with "e.g. KEY:example" when example is not NULL) or holds a NUL. */
int fl_set_once(char **field, const struct fl_token *t, const char *example, struct cs_err *err);

/* Append v so that it reads back as one token with this value: bare when
 * it can be, else in double quotes with " and \ escaped. quote_colon: a ':'
 * forces quotes too (a plain word that would read back as key:value). */
void fl_add_value(struct buf *out, const char *v, bool quote_colon);

#endif
