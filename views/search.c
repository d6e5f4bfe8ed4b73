/* search.c - a search across every stored log.
 *
 * The search runs as background work, SLICE lines per step, so results
 * appear as they are found, the status bar shows how far it got and Esc
 * stops it. Each hit keeps a piece of its line around the match (at most
 * TEXT_MAX bytes) and the ids to open the pager there; the first HIT_MAX
 * hits are kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logsearch.h"
#include "core/search.h"
#include "views/common.h"
#include "views/views.h"

#define SLICE 50000
#define HIT_MAX 10000
#define TEXT_MAX 400
#define LEAD 60 /* bytes kept before a match that is far into its line */

struct hit {
	int64_t run_row_id, job_row_id, run_id;
	int attempt;
	char *job;
	int step;
	uint64_t line;
	char *text;
	size_t a, b;    /* the match in text */
	bool cut_left;  /* text starts inside the line */
};

struct work_ctx {
	struct view *v;
};

struct search_priv {
	char *query;
	struct matcher *m;
	struct logsearch *ls;
	struct hit *hits;
	size_t n, alloc;
	bool running, capped, stopped;
	int id_w;     /* the widest run id so far */
	int step_w, line_w; /* ... step number ("s12") and line number */
	struct work_ctx ctx;
	char error[1024];
	char note[1100];
};

static void free_hits(struct search_priv *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->hits[i].job);
		free(p->hits[i].text);
	}
	free(p->hits);
	p->hits = NULL;
	p->n = p->alloc = 0;
}

/* Back to the start of a UTF-8 character. */
static size_t char_start(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static int on_hit(void *ctx, const struct search_hit *h)
{
	struct search_priv *p = ctx;
	if (p->n >= HIT_MAX) {
		p->capped = true;
		return 1;
	}
	XGROW(p->hits, p->alloc, p->n + 1);
	struct hit *d = &p->hits[p->n++];
	memset(d, 0, sizeof(*d));
	d->run_row_id = h->ref->run_row_id;
	d->job_row_id = h->ref->job_row_id;
	d->run_id = h->ref->run_provider_id;
	d->attempt = h->ref->attempt;
	d->job = xstrdup(h->ref->job_name ? h->ref->job_name : "?");
	d->step = h->step_number;
	d->line = h->line;
	char id[40];
	int idn = snprintf(id, sizeof(id), "%lld%s%d", (long long)d->run_id, d->attempt > 1 ? "#" : "",
			   d->attempt > 1 ? d->attempt : 0);
	if (d->attempt <= 1)
		idn = snprintf(id, sizeof(id), "%lld", (long long)d->run_id);
	if (idn > p->id_w)
		p->id_w = idn > 20 ? 20 : idn;
	char num[32];
	int sn = d->step ? snprintf(num, sizeof(num), "s%d", d->step) : 0;
	int ln = snprintf(num, sizeof(num), "%llu", (unsigned long long)d->line);
	if (sn > p->step_w)
		p->step_w = sn > 8 ? 8 : sn;
	if (ln > p->line_w)
		p->line_w = ln > 12 ? 12 : ln;
	size_t from = 0;
	if (h->match_start > LEAD) {
		from = char_start(h->text, h->match_start - LEAD / 2);
		d->cut_left = true;
	}
	size_t to = MIN(h->text_len, from + TEXT_MAX);
	if (to < h->text_len)
		to = char_start(h->text, to);
	if (to < from)
		to = from;
	d->text = xstrndup(h->text + from, to - from);
	d->a = h->match_start - from;
	d->b = MIN(h->match_end, to) - from;
	if (d->b < d->a)
		d->b = d->a;
	return 0;
}

static long rows_of(const struct search_priv *p)
{
	return p->n ? (long)p->n : 1;
}

static bool work_step(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct search_priv *p = v->priv;
	struct cs_err err;
	err_clear(&err);
	int rc = logsearch_step(p->ls, SLICE, on_hit, p, &err);
	tui_view_set_rows(v, rows_of(p));
	tui_view_dirty(v);
	if (rc == 1 && !p->capped)
		return true;
	p->running = false;
	struct logsearch_progress pr;
	logsearch_progress(p->ls, &pr);
	char hits[32], logs[32];
	view_fmt_count((long long)p->n, hits, sizeof(hits));
	view_fmt_count(pr.logs_total, logs, sizeof(logs));
	if (rc < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		tui_error("%s", err.msg);
	} else if (p->capped) {
		tui_message("stopped at the first %s matches", hits);
	} else if (p->n) {
		tui_message("%s match%s in %s log%s", hits, p->n == 1 ? "" : "es", logs,
			    pr.logs_total == 1 ? "" : "s");
	} else {
		tui_message("no match in %s log%s", logs, pr.logs_total == 1 ? "" : "s");
	}
	return false;
}

static void work_progress(void *ctx, char *out, size_t n)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct search_priv *p = v->priv;
	struct logsearch_progress pr;
	logsearch_progress(p->ls, &pr);
	char hits[32];
	view_fmt_count((long long)p->n, hits, sizeof(hits));
	int pct = pr.bytes_total ? (int)(100.0 * (double)pr.bytes_done / (double)pr.bytes_total) : 0;
	snprintf(out, n, "searching: %d%% \u00b7 log %ld of %ld \u00b7 %s match%s (Esc stops)", pct,
		 pr.logs_done + (pr.logs_done < pr.logs_total), pr.logs_total, hits,
		 p->n == 1 ? "" : "es");
}

static void work_cancel(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct search_priv *p = v->priv;
	if (p->running) {
		p->running = false;
		p->stopped = true;
		tui_message("search stopped");
		tui_view_dirty(v);
	}
}

static void on_query(void *ctx, const char *text)
{
	(void)ctx;
	if (text && *text)
		view_open_log_search(text);
}

static int search_open(struct view *v, void *arg)
{
	struct search_priv *p = v->priv;
	const struct search_view_arg *a = arg;
	struct cs_err err;
	err_clear(&err);
	p->ctx.v = v;
	if (!a) {
		/* view-search: ask for the text, then open on it */
		tui_prompt("search logs: ", NULL, on_query, NULL);
		return -1;
	}
	p->query = xstrdup(a->query ? a->query : "");
	p->m = view_user_matcher(p->query, p->note, sizeof(p->note));
	tui_view_set_rows(v, 1);
	if (!p->m) {
		snprintf(p->error, sizeof(p->error), "nothing to search for");
		return 0;
	}
	if (p->note[0])
		tui_message("%s", p->note);
	p->ls = logsearch_new(app.st, p->m, &err);
	if (!p->ls) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return 0;
	}
	p->running = true;
	struct tui_work w = {.step = work_step, .progress = work_progress, .cancel = work_cancel,
			     .ctx = &p->ctx, .owner = v};
	tui_work_start(&w);
	return 0;
}

static int search_load(struct view *v)
{
	tui_view_set_rows(v, rows_of(v->priv));
	return 0;
}

/* Column widths with their separating blank (0: dropped on a narrow screen). */
struct search_cols {
	int run, job, step, line;
};

static void layout(const struct search_priv *p, int width, struct search_cols *w)
{
	w->run = width >= 60 ? p->id_w + 1 : 0;
	w->job = width >= 50 ? (width >= 120 ? 24 : 16) : 0;
	w->step = width >= 80 && p->step_w ? p->step_w + 1 : 0;
	w->line = width >= 40 ? (p->line_w > 3 ? p->line_w : 3) + 1 : 0;
}

/* The column names over the hits, laid out as the rows are. */
static void search_header(struct view *v, struct tui_canvas *c)
{
	struct search_priv *p = v->priv;
	if (!p->n)
		return;
	struct search_cols w;
	layout(p, tui_canvas_width(c), &w);
	if (w.run)
		tui_column(c, "RUN", ROLE_HEADER, w.run - 1, 0);
	if (w.job)
		tui_column(c, "JOB", ROLE_HEADER, w.job - 1, 0);
	if (w.step)
		tui_column(c, w.step > 4 ? "STEP" : "S", ROLE_HEADER, w.step - 1, TEXT_RIGHT);
	if (w.line)
		tui_column(c, w.line > 4 ? "LINE" : "LN", ROLE_HEADER, w.line - 1, TEXT_RIGHT);
	tui_text(c, "TEXT", (size_t)-1, ROLE_HEADER, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void search_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct search_priv *p = v->priv;
	if (!p->n) {
		if (row != 0)
			return;
		const char *msg = p->error[0] ? p->error
				  : p->running    ? "searching..."
				  : p->stopped    ? "stopped before any match"
						  : "no match";
		tui_text(c, msg, (size_t)-1, p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	if (row < 0 || (size_t)row >= p->n)
		return;
	const struct hit *h = &p->hits[row];
	struct search_cols w;
	layout(p, tui_canvas_width(c), &w);
	int run_w = w.run, job_w = w.job, step_w = w.step, line_w = w.line;
	if (run_w) {
		char id[40];
		if (h->attempt > 1)
			snprintf(id, sizeof(id), "%lld#%d", (long long)h->run_id, h->attempt);
		else
			snprintf(id, sizeof(id), "%lld", (long long)h->run_id);
		tui_text(c, id, (size_t)-1, ROLE_SHA, run_w - 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (job_w) {
		tui_text(c, h->job, (size_t)-1, ROLE_DEFAULT, job_w - 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (step_w) {
		char st[16] = "";
		if (h->step)
			snprintf(st, sizeof(st), "s%d", h->step);
		tui_text(c, st, (size_t)-1, ROLE_DIM, step_w - 1, TEXT_PAD | TEXT_RIGHT);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (line_w) {
		char ln[32];
		snprintf(ln, sizeof(ln), "%llu", (unsigned long long)h->line);
		tui_text(c, ln, (size_t)-1, ROLE_LINENO, line_w - 1, TEXT_PAD | TEXT_RIGHT);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (h->cut_left)
		tui_text(c, tui_glyph("\u2026", ">"), (size_t)-1, ROLE_DIM, 0, 0);
	tui_text_hl(c, h->text, strlen(h->text), ROLE_DEFAULT, h->a, h->b, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static enum action search_request(struct view *v, enum action a, unsigned *eff)
{
	struct search_priv *p = v->priv;
	switch (a) {
	case ACT_ENTER:
		if (p->n && v->cursor >= 0 && (size_t)v->cursor < p->n) {
			const struct hit *h = &p->hits[v->cursor];
			struct log_view_arg arg = {.run_row_id = h->run_row_id,
						   .job_row_id = h->job_row_id,
						   .line = (int64_t)h->line,
						   .query = p->query};
			tui_open(&log_view_ops, &arg, OPEN_PUSH);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_CANCEL:
		if (p->running) {
			tui_work_stop(&p->ctx);
			work_cancel(&p->ctx);
			return ACT_NONE;
		}
		return a;
	default:
		return a;
	}
}

static void search_title(struct view *v, char *out, size_t n)
{
	struct search_priv *p = v->priv;
	char hits[32];
	view_fmt_count((long long)p->n, hits, sizeof(hits));
	snprintf(out, n, "search %s \u00b7 %s%s match%s%s", p->query, p->capped ? "first " : "", hits,
		 p->n == 1 ? "" : "es", p->running ? " so far" : "");
}

static bool search_match(struct view *v, long row, const char *query)
{
	struct search_priv *p = v->priv;
	if (!query || row < 0 || (size_t)row >= p->n)
		return false;
	return strcasestr(p->hits[row].text, query) || strcasestr(p->hits[row].job, query);
}

static void search_done(struct view *v)
{
	struct search_priv *p = v->priv;
	tui_work_stop(&p->ctx);
	logsearch_free(p->ls);
	matcher_free(p->m);
	free(p->query);
	free_hits(p);
}

const struct view_ops search_view_ops = {
	.name = "search",
	.private_size = sizeof(struct search_priv),
	.open = search_open,
	.load = search_load,
	.draw = search_draw,
	.request = search_request,
	.command = views_command,
	.title = search_title,
	.header = search_header,
	.match = search_match,
	.done = search_done,
};
