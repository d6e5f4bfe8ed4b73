/* triagequery.c - the triage view's filter language: its keys and values
 * over the shared tokens of filterlang.h. */
#include "triagequery.h"

#include <stdlib.h>
#include <string.h>

#include "filterlang.h"
#include "rules.h"

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *const state_alias[][2] = {
	{"flaky", "known-flaky"},
	{"ack", "acknowledged"},
	{"untriaged", "new"}, /* the index keeps the state's old name */
};

/* flaky:yes / flaky:no (1, 2; -1 when neither) */
static int yes_no(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "y") || !strcmp(v, "true"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "n") || !strcmp(v, "false"))
		return 2;
	return -1;
}

static int triage_token(const struct fl_token *t, void *ctx, struct cs_err *err)
{
	struct triage_query *q = ctx;
	size_t kn = t->key_len;
	int rc = 0;
	if (!kn) {
		if (!t->len) /* "" says nothing */
			return 0;
		return err_set(err, CS_EUSAGE,
			       "'%.40s': say which field (category:, state:, flaky:, "
			       "workflow:, branch:)",
			       t->text);
	}
	if (fl_key_is(t, "flaky")) {
		char *v = NULL;
		if (fl_set_once(&v, t, NULL, err) < 0)
			return -1;
		for (char *c = v; *c; c++)
			*c = lower(*c);
		int x = yes_no(v);
		if (x < 0)
			rc = err_set(err, CS_EUSAGE, "flaky:%.40s: say flaky:yes or flaky:no", v);
		else if (q->flaky)
			rc = err_set(err, CS_EUSAGE, "flaky: is given twice");
		else
			q->flaky = x;
		free(v);
		return rc;
	}
	char **field = fl_key_is(t, "category")   ? &q->category
		       : fl_key_is(t, "state")    ? &q->state
		       : fl_key_is(t, "workflow") ? &q->workflow
		       : fl_key_is(t, "branch")   ? &q->branch
						  : NULL;
	if (!field)
		return err_set(err, CS_EUSAGE,
			       "unknown filter '%.*s:' (filters are category:, state:, flaky:, "
			       "workflow:, branch:; put a value holding a colon in double quotes)",
			       (int)MIN(kn, (size_t)40), t->key);
	if (fl_set_once(field, t, NULL, err) < 0)
		return -1;
	if (field == &q->category || field == &q->state) {
		for (char *c = *field; *c; c++)
			*c = lower(*c);
	}
	int cat = field == &q->category ? rule_category_parse(q->category) : 0;
	if (cat < 0 || cat == CAT_IGNORE) /* (ignored lines are never findings) */
		return err_set(err, CS_EUSAGE,
			       "unknown category '%.40s' (compile, test, lint, parity, crash, "
			       "dependency, config, unknown, cancelled, network, runner, disk, "
			       "oom, timeout, infrastructure)",
			       q->category);
	if (field == &q->state) {
		for (size_t i = 0; i < ARRAY_SIZE(state_alias); i++) {
			if (!strcmp(q->state, state_alias[i][0])) {
				free(q->state);
				q->state = xstrdup(state_alias[i][1]);
			}
		}
		if (!triage_state_valid(q->state))
			return err_set(err, CS_EUSAGE,
				       "unknown state '%.40s' (untriaged, acknowledged, "
				       "known-flaky, fixed)",
				       q->state);
	}
	return 0;
}

int triage_query_parse(const char *text, struct triage_query *q, struct cs_err *err)
{
	memset(q, 0, sizeof(*q));
	return fl_parse(text, 0, triage_token, q, err);
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
	fl_add_value(out, v, false);
}

void triage_query_format(const struct triage_query *q, struct buf *out)
{
	buf_reset(out);
	add_value(out, "category", q->category);
	add_value(out, "state", q->state);
	add_value(out, "workflow", q->workflow);
	add_value(out, "branch", q->branch);
	if (q->flaky)
		add_value(out, "flaky", q->flaky == 1 ? "yes" : "no");
	buf_cstr(out);
}

bool triage_query_empty(const struct triage_query *q)
{
	return !q->category && !q->state && !q->workflow && !q->branch && !q->flaky;
}
