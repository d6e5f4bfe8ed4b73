/* runquery.c - the run list's filter language: its keys and values over the
 * shared tokens of filterlang.h. */
#include "runquery.h"

#include <stdlib.h>
#include <string.h>

#include "filterlang.h"

static const char *const known_status[] = {
	"failed",   "running",         "success",   "failure",   "cancelled",
	"skipped",  "neutral",         "timed_out", "stale",     "action_required",
	"startup_failure", "completed", "in_progress", "queued", "waiting",
	"requested", "pending",
};

struct run_parse {
	struct run_query *q;
	size_t words_alloc;
};

static int run_token(const struct fl_token *t, void *ctx, struct cs_err *err)
{
	struct run_parse *rp = ctx;
	struct run_query *q = rp->q;
	if (!t->key_len) {
		if (!t->len) /* "" says nothing */
			return 0;
		XGROW(q->words, rp->words_alloc, (size_t)q->n_words + 1);
		q->words[q->n_words++] = xstrndup(t->text, t->len);
		return 0;
	}
	const char *val = t->value;
	char **field = fl_key_is(t, "branch")     ? &q->branch
		       : fl_key_is(t, "workflow") ? &q->workflow
		       : fl_key_is(t, "status")   ? &q->status
		       : fl_key_is(t, "event")    ? &q->event
						  : NULL;
	if (!field)
		return err_set(err, CS_EUSAGE,
			       "unknown filter '%.*s:' (filters are branch:, workflow:, status:, "
			       "event:; put text holding a colon in double quotes)",
			       (int)MIN(t->key_len, (size_t)64), t->key);
	if (fl_set_once(field, t, "main", err) < 0)
		return -1;
	if (field == &q->status) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(known_status) && !ok; i++)
			ok = !strcmp(val, known_status[i]);
		if (!ok)
			return err_set(err, CS_EUSAGE,
				       "unknown status '%.64s' (try failed, running, success, "
				       "failure, cancelled, skipped, queued, in_progress)",
				       val);
	}
	return 0;
}

int run_query_parse(const char *text, struct run_query *q, struct cs_err *err)
{
	memset(q, 0, sizeof(*q));
	struct run_parse rp = {q, 0};
	return fl_parse(text, FL_KEY_LETTERS, run_token, &rp, err);
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
		fl_add_value(out, fields[i].val, false);
	}
	for (int i = 0; i < q->n_words; i++) {
		if (out->len)
			buf_addc(out, ' ');
		fl_add_value(out, q->words[i], true);
	}
	buf_cstr(out);
}
