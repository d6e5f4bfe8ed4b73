/* filterlang.c - tokens of the filter languages (see filterlang.h). */
#include "filterlang.h"

#include <string.h>

bool fl_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

void fl_lexer_init(struct fl_lexer *lx, const char *text, unsigned flags)
{
	lx->text = lx->p = text ? text : "";
	lx->flags = flags;
	buf_init(&lx->tok);
}

void fl_lexer_release(struct fl_lexer *lx)
{
	buf_release(&lx->tok);
}

int fl_next(struct fl_lexer *lx, struct fl_token *t, struct cs_err *err)
{
	const char *p = lx->p;
	while (fl_is_blank(*p))
		p++;
	memset(t, 0, sizeof(*t));
	if (!*p) {
		lx->p = p;
		return 0;
	}
	struct buf *tok = &lx->tok;
	bool quoted = false, letters = true;
	size_t key_len = 0;
	buf_reset(tok);
	t->column = (size_t)(p - lx->text) + 1;
	while (*p && !fl_is_blank(*p)) {
		if (*p == '"') {
			const char *open = p++;
			quoted = true;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				buf_addc(tok, *p++);
			}
			if (!*p) {
				lx->p = p;
				return err_set(err, CS_EUSAGE,
					       "unterminated quote at column %zu of the filter",
					       (size_t)(open - lx->text) + 1);
			}
			p++;
			continue;
		}
		if (*p == ':' && !key_len && !quoted && tok->len > 0 &&
		    (letters || !(lx->flags & FL_KEY_LETTERS)))
			key_len = tok->len;
		else if (!is_alpha(*p))
			letters = false;
		buf_addc(tok, *p++);
	}
	lx->p = p;
	t->text = buf_cstr(tok);
	t->len = tok->len;
	t->key = t->text;
	t->key_len = key_len;
	t->value = key_len ? t->text + key_len + 1 : t->text;
	t->value_len = key_len ? t->len - key_len - 1 : t->len;
	return 1;
}

int fl_parse(const char *text, unsigned flags, fl_token_fn fn, void *ctx, struct cs_err *err)
{
	struct fl_lexer lx;
	struct fl_token t;
	int rc;
	fl_lexer_init(&lx, text, flags);
	while ((rc = fl_next(&lx, &t, err)) > 0 && (rc = fn(&t, ctx, err)) >= 0)
		;
	fl_lexer_release(&lx);
	return rc < 0 ? -1 : 0;
}

bool fl_key_is(const struct fl_token *t, const char *name)
{
	if (!t->key_len || strlen(name) != t->key_len)
		return false;
	for (size_t i = 0; i < t->key_len; i++)
		if (lower(t->key[i]) != name[i])
			return false;
	return true;
}

int fl_set_once(char **field, const struct fl_token *t, const char *example, struct cs_err *err)
{
	int kn = (int)t->key_len;
	if (*field)
		return err_set(err, CS_EUSAGE, "'%.*s:' is given twice in the filter", kn, t->key);
	if (!t->value_len) {
		if (example)
			return err_set(err, CS_EUSAGE, "'%.*s:' needs a value (e.g. %.*s:%s)", kn,
				       t->key, kn, t->key, example);
		return err_set(err, CS_EUSAGE, "'%.*s:' needs a value", kn, t->key);
	}
	if (memchr(t->value, '\0', t->value_len))
		return err_set(err, CS_EUSAGE, "the filter holds a NUL byte");
	*field = xstrndup(t->value, t->value_len);
	return 0;
}

void fl_add_value(struct buf *out, const char *v, bool quote_colon)
{
	bool quote = !*v;
	for (const char *p = v; *p && !quote; p++)
		quote = fl_is_blank(*p) || *p == '"' || *p == '\\' || (quote_colon && *p == ':');
	if (!quote) {
		buf_adds(out, v);
		return;
	}
	buf_addc(out, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *p);
	}
	buf_addc(out, '"');
}
