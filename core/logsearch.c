/* logsearch.c - the search of every stored log, resumable in slices. */
#include "logsearch.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logstore.h"

struct log_entry {
	int64_t log_id;
	uint64_t raw_size, lines;
};

struct logsearch {
	struct store *st;
	struct matcher *m;
	struct log_entry *logs;
	size_t n_logs, alloc;
	size_t cur;           /* the log being searched */
	uint64_t next_line;   /* its next line; 0: not opened yet */
	struct logr *r;
	struct log_ref ref;   /* strings below */
	char *workflow, *job_name;
	struct step *steps;
	int n_steps, step_i;
	uint64_t bytes_done, bytes_total;
	long hits;
	struct buf text;
	/* during a scan */
	search_cb cb;
	void *ctx;
	int stop;
	uint64_t last_seen;
};

struct logsearch *logsearch_new(struct store *st, struct matcher *m, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT l.id, l.raw_size, l.line_count FROM logs l "
			       "JOIN jobs j ON j.id = l.job_id JOIN runs r ON r.id = j.run_id "
			       "ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC, "
			       "j.ordinal",
			       -1, &s, NULL) != SQLITE_OK) {
		store_err(st, err, "cannot list logs");
		return NULL;
	}
	struct logsearch *ls = xcalloc(1, sizeof(*ls));
	ls->st = st;
	ls->m = m;
	buf_init(&ls->text);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(ls->logs, ls->alloc, ls->n_logs + 1);
		struct log_entry *e = &ls->logs[ls->n_logs++];
		e->log_id = sqlite3_column_int64(s, 0);
		sqlite3_int64 size = sqlite3_column_int64(s, 1), lines = sqlite3_column_int64(s, 2);
		e->raw_size = size > 0 ? (uint64_t)size : 0;
		e->lines = lines > 0 ? (uint64_t)lines : 0;
		ls->bytes_total += e->raw_size;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_err(st, err, "cannot list logs");
		logsearch_free(ls);
		return NULL;
	}
	return ls;
}

static void close_log(struct logsearch *ls)
{
	logr_close(ls->r);
	ls->r = NULL;
	free(ls->workflow);
	free(ls->job_name);
	ls->workflow = ls->job_name = NULL;
	store_steps_free(ls->steps, ls->n_steps);
	ls->steps = NULL;
	ls->n_steps = 0;
	ls->step_i = 0;
	ls->next_line = 0;
}

void logsearch_free(struct logsearch *ls)
{
	if (!ls)
		return;
	close_log(ls);
	free(ls->logs);
	buf_release(&ls->text);
	free(ls);
}

/* Open the current log with what a hit reports. Returns 1 when opened, 0
 * when the log is gone (re-imported meanwhile), -1 on error. */
static int open_log(struct logsearch *ls, struct cs_err *err)
{
	const struct log_entry *e = &ls->logs[ls->cur];
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(ls->st->db,
			       "SELECT r.id, r.provider_id, r.attempt, r.workflow_name, j.id, "
			       "j.provider_id, j.name FROM logs l JOIN jobs j ON j.id = l.job_id "
			       "JOIN runs r ON r.id = j.run_id WHERE l.id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(ls->st, err, "cannot read a log's job");
	sqlite3_bind_int64(s, 1, e->log_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? 0 : store_err(ls->st, err, "cannot read a log's job");
	}
	memset(&ls->ref, 0, sizeof(ls->ref));
	ls->ref.run_row_id = sqlite3_column_int64(s, 0);
	ls->ref.run_provider_id = sqlite3_column_int64(s, 1);
	ls->ref.attempt = sqlite3_column_int(s, 2);
	const unsigned char *w = sqlite3_column_text(s, 3), *jn = sqlite3_column_text(s, 6);
	ls->workflow = w ? xstrdup((const char *)w) : NULL;
	ls->job_name = jn ? xstrdup((const char *)jn) : NULL;
	ls->ref.job_row_id = sqlite3_column_int64(s, 4);
	ls->ref.job_provider_id = sqlite3_column_int64(s, 5);
	ls->ref.log_id = e->log_id;
	ls->ref.workflow = ls->workflow;
	ls->ref.job_name = ls->job_name;
	sqlite3_finalize(s);
	struct cs_err ignored;
	ls->r = logr_open(ls->st, e->log_id, &ignored);
	if (!ls->r)
		return 0;
	if (store_steps(ls->st, ls->ref.job_row_id, &ls->steps, &ls->n_steps, err) < 0)
		return -1;
	ls->next_line = 1;
	return 1;
}

static int scan_line(void *ctx, const struct split_line *l)
{
	struct logsearch *ls = ctx;
	ls->last_seen = l->lineno;
	search_text(l->head, l->head_len, &ls->text);
	size_t a, b;
	if (!matcher_find(ls->m, ls->text.data ? ls->text.data : "", ls->text.len, 0, &a, &b))
		return 0;
	struct search_hit h = {.ref = &ls->ref, .line = l->lineno, .text = ls->text.data,
			       .text_len = ls->text.len, .match_start = a, .match_end = b};
	while (ls->step_i < ls->n_steps && ls->steps[ls->step_i].last_line &&
	       (uint64_t)ls->steps[ls->step_i].last_line < l->lineno)
		ls->step_i++;
	for (int i = ls->step_i; i < ls->n_steps; i++) {
		const struct step *s = &ls->steps[i];
		if (s->first_line && (uint64_t)s->first_line <= l->lineno &&
		    (uint64_t)s->last_line >= l->lineno) {
			h.step_number = s->number;
			h.step_name = s->name;
			break;
		}
		if (s->first_line && (uint64_t)s->first_line > l->lineno)
			break;
	}
	ls->hits++;
	int rc = ls->cb(ls->ctx, &h);
	if (rc)
		ls->stop = rc;
	return rc;
}

int logsearch_step(struct logsearch *ls, uint64_t budget, search_cb cb, void *ctx,
		   struct cs_err *err)
{
	if (budget == 0)
		budget = 1;
	ls->cb = cb;
	ls->ctx = ctx;
	ls->stop = 0;
	while (budget > 0 && ls->cur < ls->n_logs) {
		if (!ls->r) {
			int rc = open_log(ls, err);
			if (rc < 0) {
				close_log(ls);
				return -1;
			}
			if (rc == 0) {
				close_log(ls);
				ls->bytes_done += ls->logs[ls->cur].raw_size;
				ls->cur++;
				continue;
			}
		}
		uint64_t count = logr_line_count(ls->r);
		if (ls->next_line <= count) {
			uint64_t last = MIN(count, ls->next_line + budget - 1);
			ls->last_seen = ls->next_line - 1;
			int rc = logr_scan(ls->r, ls->next_line, last, scan_line, ls, err);
			if (rc < 0 && !ls->stop) {
				close_log(ls);
				return -1;
			}
			if (ls->last_seen < ls->next_line) {
				/* nothing read and no error: do not spin on it */
				ls->last_seen = count;
			}
			budget -= MIN(budget, ls->last_seen - ls->next_line + 1);
			ls->next_line = ls->last_seen + 1;
		}
		if (ls->next_line > count) {
			close_log(ls);
			ls->bytes_done += ls->logs[ls->cur].raw_size;
			ls->cur++;
		}
		if (ls->stop)
			break;
	}
	return ls->cur < ls->n_logs ? 1 : 0;
}

void logsearch_progress(const struct logsearch *ls, struct logsearch_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->logs_total = (long)ls->n_logs;
	p->logs_done = (long)ls->cur;
	p->bytes_total = ls->bytes_total;
	p->bytes_done = ls->bytes_done;
	if (ls->r && ls->cur < ls->n_logs && ls->logs[ls->cur].lines) {
		const struct log_entry *e = &ls->logs[ls->cur];
		uint64_t seen = ls->next_line ? ls->next_line - 1 : 0;
		/* a share of the current log by lines: close enough for a percentage */
		p->bytes_done += (uint64_t)((double)e->raw_size * (double)seen / (double)e->lines);
	}
	p->hits = ls->hits;
}
