/* triagequery.c - parsing and printing the triage view's filter language. */
#include "triagequery.h"

#include <stdlib.h>
#include <string.h>

#include "rules.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool key_is(const char *key, size_t n, const char *name)
{
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(key[i]) != name[i])
			return false;
	return true;
}

/* One token at *pp into tok (quotes removed); *key_len: the length of the
 * key before an unquoted ':' (0: none). */
static int next_token(const char *text, const char **pp, struct buf *tok, size_t *key_len,
		      struct cs_err *err)
{
	const char *p = *pp;
	bool quoted = false;
	buf_reset(tok);
	*key_len = 0;
	while (*p && !is_space(*p)) {
		if (*p == '"') {
			const char *open = p++;
			quoted = true;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				buf_addc(tok, *p++);
			}
			if (!*p)
				return err_set(err, CS_EUSAGE,
					       "unterminated quote at column %zu of the filter",
					       (size_t)(open - text) + 1);
			p++;
			continue;
		}
		if (*p == ':' && !*key_len && !quoted && tok->len > 0)
			*key_len = tok->len;
		buf_addc(tok, *p++);
	}
	buf_cstr(tok);
	*pp = p;
	return 0;
}

static const char *const state_alias[][2] = {
	{"flaky", "known-flaky"},
	{"ack", "acknowledged"},
};

static int set_value(char **field, const char *key, size_t kn, const char *val, size_t vn,
		     struct cs_err *err)
{
	if (*field)
		return err_set(err, CS_EUSAGE, "'%.*s:' is given twice in the filter", (int)kn, key);
	if (!vn)
		return err_set(err, CS_EUSAGE, "'%.*s:' needs a value", (int)kn, key);
	if (memchr(val, '\0', vn))
		return err_set(err, CS_EUSAGE, "the filter holds a NUL byte");
	*field = xstrndup(val, vn);
	return 0;
}

int triage_query_parse(const char *text, struct triage_query *q, struct cs_err *err)
{
	memset(q, 0, sizeof(*q));
	if (!text)
		return 0;
	struct buf tok = BUF_INIT;
	const char *p = text;
	int rc = 0;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		size_t kn;
		if ((rc = next_token(text, &p, &tok, &kn, err)) < 0)
			break;
		if (!kn) {
			if (!tok.len) /* "" says nothing */
				continue;
			rc = err_set(err, CS_EUSAGE,
				     "'%.40s': say which field (category:, state:, workflow:, branch:)",
				     tok.data);
			break;
		}
		const char *key = tok.data, *val = tok.data + kn + 1;
		size_t vn = tok.len - kn - 1;
		char **field = key_is(key, kn, "category")   ? &q->category
			       : key_is(key, kn, "state")    ? &q->state
			       : key_is(key, kn, "workflow") ? &q->workflow
			       : key_is(key, kn, "branch")   ? &q->branch
							     : NULL;
		if (!field) {
			rc = err_set(err, CS_EUSAGE,
				     "unknown filter '%.*s:' (filters are category:, state:, workflow:, "
				     "branch:; put a value holding a colon in double quotes)",
				     (int)MIN(kn, (size_t)40), key);
			break;
		}
		if ((rc = set_value(field, key, kn, val, vn, err)) < 0)
			break;
		if (field == &q->category || field == &q->state) {
			for (char *c = *field; *c; c++)
				*c = lower(*c);
		}
		int cat = field == &q->category ? rule_category_parse(q->category) : 0;
		if (cat < 0 || cat == CAT_IGNORE) { /* (ignored lines are never findings) */
			rc = err_set(err, CS_EUSAGE,
				     "unknown category '%.40s' (compile, test, lint, parity, crash, "
				     "dependency, config, unknown, cancelled, network, runner, disk, "
				     "oom, timeout, infrastructure)",
				     q->category);
			break;
		}
		if (field == &q->state) {
			for (size_t i = 0; i < ARRAY_SIZE(state_alias); i++) {
				if (!strcmp(q->state, state_alias[i][0])) {
					free(q->state);
					q->state = xstrdup(state_alias[i][1]);
				}
			}
			if (!triage_state_valid(q->state)) {
				rc = err_set(err, CS_EUSAGE,
					     "unknown state '%.40s' (new, acknowledged, known-flaky, "
					     "fixed)",
					     q->state);
				break;
			}
		}
	}
	buf_release(&tok);
	return rc;
}

void triage_query_free(struct triage_query *q)
{
	free(q->category);
	free(q->state);
	free(q->workflow);
	free(q->branch);
	memset(q, 0, sizeof(*q));
}

void triage_query_apply(const struct triage_query *q, struct triage_filter *f)
{
	f->category = q->category;
	f->state = q->state;
	f->workflow = q->workflow;
	f->branch = q->branch;
}

static void add_value(struct buf *out, const char *key, const char *v)
{
	if (!v)
		return;
	if (out->len)
		buf_addc(out, ' ');
	buf_adds(out, key);
	buf_addc(out, ':');
	bool quote = !*v || strpbrk(v, " \t\n\r\f\v\"\\") != NULL;
	if (!quote) {
		buf_adds(out, v);
		return;
	}
	buf_addc(out, '"');
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *c);
	}
	buf_addc(out, '"');
}

void triage_query_format(const struct triage_query *q, struct buf *out)
{
	buf_reset(out);
	add_value(out, "category", q->category);
	add_value(out, "state", q->state);
	add_value(out, "workflow", q->workflow);
	add_value(out, "branch", q->branch);
	buf_cstr(out);
}

bool triage_query_empty(const struct triage_query *q)
{
	return !q->category && !q->state && !q->workflow && !q->branch;
}
