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

int run_query_parse(const char *text, struct run_query *q, struct cs_err *err)
{
	memset(q, 0, sizeof(*q));
	if (!text)
		return 0;
	struct fl_lexer lx;
	struct fl_token t;
	int rc;
	size_t words_alloc = 0;
	fl_lexer_init(&lx, text, FL_KEY_LETTERS);
	while ((rc = fl_next(&lx, &t, err)) > 0) {
		if (!t.key_len) {
			if (!t.len) /* "" says nothing */
				continue;
			XGROW(q->words, words_alloc, (size_t)q->n_words + 1);
			q->words[q->n_words++] = xstrndup(t.text, t.len);
			continue;
		}
		const char *key = t.key, *val = t.value;
		size_t kn = t.key_len;
		char **field = fl_key_is(&t, "branch")     ? &q->branch
			       : fl_key_is(&t, "workflow") ? &q->workflow
			       : fl_key_is(&t, "status")   ? &q->status
			       : fl_key_is(&t, "event")    ? &q->event
							   : NULL;
		if (!field) {
			rc = err_set(err, CS_EUSAGE,
				     "unknown filter '%.*s:' (filters are branch:, workflow:, status:, "
				     "event:; put text holding a colon in double quotes)",
				     (int)MIN(kn, (size_t)64), key);
			break;
		}
		if ((rc = fl_set_once(field, &t, "main", err)) < 0)
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
	fl_lexer_release(&lx);
	return rc < 0 ? -1 : 0;
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
