/* runquery.c - parsing and printing the run list's filter language. */
#include "runquery.h"

#include <stdlib.h>
#include <string.h>

static const char *const known_status[] = {
	"failed",   "running",         "success",   "failure",   "cancelled",
	"skipped",  "neutral",         "timed_out", "stale",     "action_required",
	"startup_failure", "completed", "in_progress", "queued", "waiting",
	"requested", "pending",
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool key_is(const char *key, size_t n, const char *name)
{
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return false;
	}
	return true;
}

/* Read one token at *pp into tok; *key_len is the length of its key (the
 * letters before an unquoted ':') or 0 when it has none. */
static int next_token(const char *text, const char **pp, struct buf *tok, size_t *key_len,
		      struct cs_err *err)
{
	const char *p = *pp;
	bool quoted = false, letters = true;
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
		if (*p == ':' && !*key_len && !quoted && letters && tok->len > 0)
			*key_len = tok->len;
		else if (!is_alpha(*p))
			letters = false;
		buf_addc(tok, *p++);
	}
	buf_cstr(tok);
	*pp = p;
	return 0;
}

static int set_field(char **field, const char *key, size_t key_len, const char *val,
		     struct cs_err *err)
{
	if (*field)
		return err_set(err, CS_EUSAGE, "'%.*s:' is given twice in the filter", (int)key_len,
			       key);
	if (!*val)
		return err_set(err, CS_EUSAGE, "'%.*s:' needs a value (e.g. %.*s:main)",
			       (int)key_len, key, (int)key_len, key);
	*field = xstrdup(val);
	return 0;
}

int run_query_parse(const char *text, struct run_query *q, struct cs_err *err)
{
	memset(q, 0, sizeof(*q));
	if (!text)
		return 0;
	struct buf tok = BUF_INIT;
	const char *p = text;
	int rc = 0;
	size_t words_alloc = 0;
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
			XGROW(q->words, words_alloc, (size_t)q->n_words + 1);
			q->words[q->n_words++] = xstrndup(tok.data, tok.len);
			continue;
		}
		const char *key = tok.data, *val = tok.data + kn + 1;
		if (strlen(val) != tok.len - kn - 1) {
			rc = err_set(err, CS_EUSAGE, "the filter holds a NUL byte");
			break;
		}
		char **field = key_is(key, kn, "branch")     ? &q->branch
			       : key_is(key, kn, "workflow") ? &q->workflow
			       : key_is(key, kn, "status")   ? &q->status
			       : key_is(key, kn, "event")    ? &q->event
							     : NULL;
		if (!field) {
			rc = err_set(err, CS_EUSAGE,
				     "unknown filter '%.*s:' (filters are branch:, workflow:, status:, "
				     "event:; put text holding a colon in double quotes)",
				     (int)MIN(kn, (size_t)64), key);
			break;
		}
		if ((rc = set_field(field, key, kn, val, err)) < 0)
			break;
		if (field == &q->status) {
			bool ok = false;
			for (size_t i = 0; i < ARRAY_SIZE(known_status) && !ok; i++)
				ok = !strcmp(val, known_status[i]);
			if (!ok) {
				rc = err_set(err, CS_EUSAGE,
					     "unknown status '%.64s' (try failed, running, success, "
					     "failure, cancelled, skipped, queued, in_progress)",
					     val);
				break;
			}
		}
	}
	buf_release(&tok);
	return rc;
}

void run_query_free(struct run_query *q)
{
	free(q->workflow);
	free(q->branch);
	free(q->status);
	free(q->event);
	for (int i = 0; i < q->n_words; i++)
		free(q->words[i]);
	free(q->words);
	memset(q, 0, sizeof(*q));
}

void run_query_apply(const struct run_query *q, struct run_filter *f)
{
	f->workflow = q->workflow;
	f->branch = q->branch;
	f->status = q->status;
	f->event = q->event;
	f->text = NULL;
	f->words = (const char *const *)q->words;
	f->n_words = q->n_words;
}

bool run_query_empty(const struct run_query *q)
{
	return !q->workflow && !q->branch && !q->status && !q->event && q->n_words == 0;
}

/* A value that would not read back as itself bare is quoted. */
static void add_value(struct buf *out, const char *s, bool is_word)
{
	bool quote = !*s;
	for (const char *p = s; *p && !quote; p++)
		quote = is_space(*p) || *p == '"' || *p == '\\' || (is_word && *p == ':');
	if (!quote) {
		buf_adds(out, s);
		return;
	}
	buf_addc(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *p);
	}
	buf_addc(out, '"');
}

void run_query_format(const struct run_query *q, struct buf *out)
{
	const struct {
		const char *key, *val;
	} fields[] = {{"workflow", q->workflow},
		      {"branch", q->branch},
		      {"status", q->status},
		      {"event", q->event}};
	buf_reset(out);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!fields[i].val)
			continue;
		if (out->len)
			buf_addc(out, ' ');
		buf_addf(out, "%s:", fields[i].key);
		add_value(out, fields[i].val, false);
	}
	for (int i = 0; i < q->n_words; i++) {
		if (out->len)
			buf_addc(out, ' ');
		add_value(out, q->words[i], true);
	}
	buf_cstr(out);
}
