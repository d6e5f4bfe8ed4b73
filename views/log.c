/* log.c - the log pager: one job's stored log, virtualised.
 *
 * The rows come from core/logview (step headers, folded groups, lines, and
 * the pieces of wrapped lines); a row is read from the store when it is
 * drawn. Search, wrapping and following run as background work or timers,
 * so a 1 GB log never blocks the screen: search and the wrap measurement go
 * in slices with progress in the status bar, and Esc stops them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/logview.h"
#include "core/search.h"
#include "core/store.h"
#include "views/common.h"
#include "views/views.h"

#define SEARCH_SLICE 50000 /* lines per background step */
#define WRAP_SLICE 20000
#define FOLLOW_MS 1000
#define MAX_SPANS 64

enum ts_mode { TS_HIDDEN, TS_ABSOLUTE, TS_RELATIVE, TS_MODES };

struct work_ctx {
	struct view *v;
};

struct log_priv {
	struct view *v;
	/* what is shown */
	struct run run;
	bool have_run;
	struct job *jobs;
	int n_jobs, job;
	struct logview *lv;
	char msg[1024]; /* the one row shown when there is no log to show */
	/* how */
	bool numbers;
	enum ts_mode ts;
	bool wrap;
	struct lv_line line;
	struct buf tmp, seg;
	/* search */
	struct matcher *m;
	char *query;
	bool backward;      /* of the last / or ? */
	bool search_back;   /* of the search running */
	struct lv_search *search;
	struct work_ctx search_ctx, wrap_ctx, hide_ctx;
	bool wrap_running, hide_running;
	/* follow */
	bool follow;
	bool rewrap_pending;
};

/* --- data ---------------------------------------------------------------------------- */
static const struct job *cur_job(const struct log_priv *p)
{
	return p->job >= 0 && p->job < p->n_jobs ? &p->jobs[p->job] : NULL;
}

static void free_data(struct log_priv *p)
{
	logview_close(p->lv);
	p->lv = NULL;
	view_run_jobs_free(&p->run, &p->have_run, &p->jobs, &p->n_jobs);
	p->job = -1;
}

/* Load the run and its jobs, and find the job; the logview is the caller's. */
static int load_job(struct log_priv *p, int64_t run_row_id, int64_t job_row_id, struct cs_err *err)
{
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)run_row_id);
	if (store_find_run(app.st, spec, &p->run, err) < 0)
		return -1;
	p->have_run = true;
	if (store_jobs(app.st, run_row_id, &p->jobs, &p->n_jobs, err) < 0)
		return -1;
	p->job = -1;
	for (int i = 0; i < p->n_jobs; i++)
		if (p->jobs[i].id == job_row_id)
			p->job = i;
	if (p->job < 0)
		return err_set(err, CS_ENOTFOUND, "the job is no longer in the index (re-imported?)");
	return 0;
}

static void no_log_message(struct log_priv *p)
{
	const struct job *j = cur_job(p);
	const char *state = j && j->log_state ? j->log_state : "missing";
	if (!strcmp(state, "expired"))
		snprintf(p->msg, sizeof(p->msg),
			 "GitHub no longer keeps the log of this job (expired)");
	else
		snprintf(p->msg, sizeof(p->msg),
			 "no log stored for this job (%s): import its run folder with "
			 "`ciscope import PATH` to add it",
			 state);
}

static long rows_of(const struct log_priv *p)
{
	if (!p->lv || p->msg[0])
		return 1;
	long n = logview_rows(p->lv);
	return n > 0 ? n : 1;
}

/* --- layout ------------------------------------------------------------------------- */
static int digits(uint64_t n)
{
	int d = 1;
	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static int gutter_width(const struct log_priv *p)
{
	if (!p->numbers || !p->lv)
		return 0;
	int d = digits(logview_line_count(p->lv));
	return (d < 3 ? 3 : d) + 1;
}

static int ts_width(const struct log_priv *p)
{
	return p->ts == TS_ABSOLUTE ? 13 : p->ts == TS_RELATIVE ? 11 : 0;
}

static int text_cols(const struct view *v, const struct log_priv *p)
{
	int w = v->width - gutter_width(p) - ts_width(p);
	return w > 4 ? w : 4;
}

/* How a line is shown: a prefix, the part of its text shown, a role. */
struct parts {
	const char *pre;
	const char *body;
	size_t body_len;
	enum role role;
};

/* Per kind: the prefix (the group's is a glyph), whether the text shown is
 * the marker's message, the role. */
static const struct {
	const char *pre;
	bool msg;
	enum role role;
} kind_parts[LINE_KIND_COUNT] = {
	[LINE_PLAIN] = {"", false, ROLE_DEFAULT},
	[LINE_GROUP] = {NULL, true, ROLE_GROUP_LINE},
	[LINE_ENDGROUP] = {"", false, ROLE_DIM},
	[LINE_ERROR] = {"Error: ", true, ROLE_ERROR_LINE},
	[LINE_WARNING] = {"Warning: ", true, ROLE_WARNING_LINE},
	[LINE_NOTICE] = {"Notice: ", true, ROLE_NOTICE_LINE},
	[LINE_DEBUG] = {"Debug: ", true, ROLE_DIM},
	[LINE_COMMAND] = {"", true, ROLE_COMMAND_LINE},
	[LINE_SECTION] = {"", true, ROLE_HEADER},
};

static void parts_of(const struct logline *ll, struct parts *o)
{
	enum line_kind k = ll->kind < LINE_KIND_COUNT ? ll->kind : LINE_PLAIN;
	o->pre = kind_parts[k].pre ? kind_parts[k].pre : tui_glyph("\u25be ", "v ");
	o->body = kind_parts[k].msg ? ll->msg : ll->text;
	o->body_len = kind_parts[k].msg ? ll->msg_len : ll->text_len;
	o->role = kind_parts[k].role;
	if (!o->body) {
		o->body = "";
		o->body_len = 0;
	}
}

/* --- widths and wrapping -------------------------------------------------------------- */
/* The escape sequence at s[0] == ESC: its length, and whether it is SGR. */
static size_t esc_seq(const char *s, size_t n, bool *sgr)
{
	*sgr = false;
	if (n >= 2 && s[1] == '[') {
		for (size_t i = 2; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x40 && c <= 0x7e) {
				*sgr = c == 'm';
				return i + 1;
			}
			if (c < 0x20 || c > 0x3f)
				return i;
		}
		return n;
	}
	return 1;
}

/* One display unit at s: its length in bytes and columns at column col. */
static size_t unit_at(const char *s, size_t n, int col, int *w)
{
	unsigned char c = (unsigned char)*s;
	if (c == 0x1b) {
		bool sgr;
		size_t k = esc_seq(s, n, &sgr);
		*w = sgr ? 0 : tui_width(s, k);
		return k;
	}
	if (c == '\t') {
		*w = 8 - col % 8;
		return 1;
	}
	if (c >= 0x20 && c < 0x7f) {
		*w = 1;
		return 1;
	}
	int k = utf8_seq_len((const unsigned char *)s, n);
	if (k <= 0)
		k = 1;
	*w = tui_width(s, (size_t)k);
	return (size_t)k;
}

static bool plain_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/* Break body into rows: the first row has first columns, the others cols.
 * A row ends at the last space in its second half when the next unit does
 * not fit (word wrap), else at the unit that does not fit. Returns the
 * number of rows; the byte range [*a, *b) of row k when k >= 0 (empty past
 * the last row). */
static int wrap_walk(const char *body, size_t n, int first, int cols, int k, size_t *a, size_t *b)
{
	size_t i = 0, start = 0, brk = 0;
	int row = 0, col = 0, room = first > 0 ? first : 1;
	bool have_brk = false;
	if (cols < 1)
		cols = 1;
	if (k >= 0)
		*a = *b = n;
	while (i < n) {
		int w;
		size_t len = unit_at(body + i, n - i, col, &w);
		if (col + w > room && col > 0) {
			size_t end = have_brk ? brk : i;
			if (row == k) {
				*a = start;
				*b = end;
				return row + 1;
			}
			row++;
			start = i = end;
			col = 0;
			room = cols;
			have_brk = false;
			continue;
		}
		col += w;
		i += len;
		if (body[i - len] == ' ' && col >= room / 2) {
			brk = i;
			have_brk = true;
		}
	}
	if (row == k) {
		*a = start;
		*b = n;
	}
	return row + 1;
}

static long measure(void *ctx, const char *text, size_t n, int cols)
{
	(void)ctx;
	struct logline ll;
	struct parts pa;
	logline_parse(text, n, &ll);
	parts_of(&ll, &pa);
	int pw = tui_width(pa.pre, strlen(pa.pre));
	/* most lines are short plain ASCII: no walk */
	if ((long)pw + (long)pa.body_len <= cols && plain_ascii(pa.body, pa.body_len))
		return 1;
	size_t a, b;
	return wrap_walk(pa.body, pa.body_len, cols - pw, cols, -1, &a, &b);
}

/* --- drawing -------------------------------------------------------------------------- */
/* The SGR sequences of s[0..n), so a piece drawn alone keeps its colours. */
static void sgr_state(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		const char *e = memchr(s + i, 0x1b, n - i);
		if (!e)
			break;
		i = (size_t)(e - s);
		bool sgr;
		size_t k = esc_seq(e, n - i, &sgr);
		if (sgr)
			buf_add(out, e, k);
		i += k;
	}
}

/* Draw s[0..n) (with SGR colours) in role with spans [start, end) of s as
 * matches: one tui_text_hl per span, each piece preceded by the colour state
 * the pieces before it left. */
static void draw_spans(struct log_priv *p, struct tui_canvas *c, const char *s, size_t n,
		       enum role role, const struct lv_span *spans, int n_spans)
{
	size_t pos = 0;
	for (int i = 0; i <= n_spans; i++) {
		size_t end = i < n_spans ? spans[i].end : n;
		if (end <= pos && i < n_spans)
			continue;
		buf_reset(&p->seg);
		sgr_state(s, pos, &p->seg);
		size_t shift = p->seg.len;
		buf_add(&p->seg, s + pos, end - pos);
		buf_cstr(&p->seg);
		if (i < n_spans) {
			size_t hs = spans[i].start > pos ? spans[i].start - pos : 0;
			tui_text_hl(c, p->seg.data, p->seg.len, role, hs + shift, end - pos + shift,
				    TEXT_ANSI);
		} else if (end > pos) {
			tui_text(c, p->seg.data, p->seg.len, role, 0, TEXT_ANSI);
		}
		pos = end;
	}
}

static void draw_gutter(struct log_priv *p, struct tui_canvas *c, uint64_t line,
			const struct lv_line *l, bool first)
{
	int gw = gutter_width(p), tw = ts_width(p);
	if (gw) {
		char num[32] = "";
		if (first)
			snprintf(num, sizeof(num), "%llu", (unsigned long long)line);
		tui_text(c, num, (size_t)-1, ROLE_LINENO, gw - 1, TEXT_PAD | TEXT_RIGHT | TEXT_NO_HSCROLL);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, TEXT_NO_HSCROLL);
	}
	if (tw) {
		char ts[32] = "";
		if (first && l && l->ll.has_ts) {
			if (p->ts == TS_ABSOLUTE)
				lv_format_ts(l->ll.ts_us, ts, sizeof(ts));
			else
				lv_format_rel(l->rel_ms, ts, sizeof(ts));
		}
		tui_text(c, ts, (size_t)-1, ROLE_DIM, tw - 1, TEXT_PAD | TEXT_NO_HSCROLL);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, TEXT_NO_HSCROLL);
	}
}

static void draw_step_header(struct log_priv *p, struct tui_canvas *c, int si)
{
	const struct step *s = logview_step(p->lv, si);
	const char *rule = tui_glyph("\u2500", "-");
	char head[64], dur[32] = "";
	bool folded = logview_step_folded(p->lv, si);
	/* a folded step: its marker in place of the rule, its lines counted */
	snprintf(head, sizeof(head), "%s%s step %d: ", folded ? tui_glyph("\u25b8", ">") : rule, rule,
		 s->number);
	tui_text(c, head, (size_t)-1, folded ? ROLE_FOLDED : ROLE_HEADER, 0, TEXT_NO_HSCROLL);
	tui_text(c, s->name ? s->name : "", (size_t)-1, ROLE_HEADER, 0, TEXT_NO_HSCROLL);
	tui_text(c, " ", 1, ROLE_HEADER, 0, TEXT_NO_HSCROLL);
	if (folded) {
		char info[64], n[32];
		view_fmt_count(s->last_line - s->first_line + 1, n, sizeof(n));
		snprintf(info, sizeof(info), "(%s lines) ", n);
		tui_text(c, info, (size_t)-1, ROLE_DIM, 0, TEXT_NO_HSCROLL);
	}
	if (s->started_at != CS_TIME_NONE && s->completed_at != CS_TIME_NONE &&
	    s->completed_at >= s->started_at)
		time_format_duration(s->completed_at - s->started_at, dur, sizeof(dur));
	const char *state = view_state_of(s->status, s->conclusion);
	bool glyph = strcmp(state, "unknown") != 0 && strcmp(state, "completed") != 0;
	if (dur[0] || glyph) {
		char tail[96];
		snprintf(tail, sizeof(tail), "%s%s %s%s", rule, rule, dur, dur[0] ? " " : "");
		tui_text(c, tail, (size_t)-1, ROLE_HEADER, 0, TEXT_NO_HSCROLL);
	}
	if (glyph) {
		tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 0, TEXT_NO_HSCROLL);
		tui_text(c, " ", 1, ROLE_HEADER, 0, TEXT_NO_HSCROLL);
	}
	while (tui_canvas_col(c) < tui_canvas_width(c))
		if (!tui_text(c, rule, (size_t)-1, ROLE_HEADER, 1, TEXT_NO_HSCROLL))
			break;
}

static void draw_fold(struct log_priv *p, struct tui_canvas *c, const struct lv_row *r)
{
	const struct log_group *g = logview_group(p->lv, r->group);
	draw_gutter(p, c, r->line, NULL, true);
	char info[64], n[32];
	view_fmt_count(g->last_line - g->first_line + 1, n, sizeof(n));
	snprintf(info, sizeof(info), " (%s lines)", n);
	tui_text(c, tui_glyph("\u25b8 ", "> "), (size_t)-1, ROLE_FOLDED, 0, 0);
	tui_text(c, g->title ? g->title : "", (size_t)-1, ROLE_FOLDED, 0, 0);
	tui_text(c, info, (size_t)-1, ROLE_DIM, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void draw_line(struct view *v, struct log_priv *p, struct tui_canvas *c,
		      const struct lv_row *r)
{
	struct cs_err err;
	err_clear(&err);
	if (logview_line(p->lv, r->line, &p->line, &err) < 0) {
		draw_gutter(p, c, r->line, NULL, true);
		tui_text(c, err.msg, (size_t)-1, ROLE_STATUS_ERROR, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	draw_gutter(p, c, r->line, &p->line, r->sub == 0);
	struct parts pa;
	parts_of(&p->line.ll, &pa);
	size_t a = 0, b = pa.body_len;
	bool first = true;
	if (p->wrap && logview_wrapping(p->lv)) {
		int cols = text_cols(v, p);
		int pw = tui_width(pa.pre, strlen(pa.pre));
		wrap_walk(pa.body, pa.body_len, cols - pw, cols, r->sub, &a, &b);
		first = r->sub == 0;
	}
	if (first && *pa.pre)
		tui_text(c, pa.pre, (size_t)-1, pa.role, 0, 0);
	/* matches in the text, as ranges of the piece shown */
	struct lv_span spans[MAX_SPANS];
	int n = p->m ? lv_highlights(p->m, p->line.ll.text, p->line.ll.text_len, spans, MAX_SPANS)
		     : 0;
	size_t body_off = (size_t)(pa.body - p->line.ll.text);
	int k = 0;
	buf_reset(&p->tmp);
	sgr_state(pa.body, a, &p->tmp);
	size_t shift = p->tmp.len;
	buf_add(&p->tmp, pa.body + a, b - a);
	buf_cstr(&p->tmp);
	for (int i = 0; i < n; i++) {
		size_t s = spans[i].start, e = spans[i].end;
		if (e <= body_off + a || s >= body_off + b)
			continue;
		s = s < body_off + a ? 0 : s - body_off - a;
		e = e - body_off - a > b - a ? b - a : e - body_off - a;
		spans[k].start = s + shift;
		spans[k].end = e + shift;
		k++;
	}
	draw_spans(p, c, p->tmp.data, p->tmp.len, pa.role, spans, k);
	if (p->line.truncated && b == pa.body_len)
		tui_text(c, " [line cut at 64 KiB]", (size_t)-1, ROLE_DIM, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void rewrap_later(struct view *v);

static void log_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct log_priv *p = v->priv;
	if (!p->lv || p->msg[0]) {
		if (row == 0) {
			tui_text(c, p->msg[0] ? p->msg : "no log", (size_t)-1, ROLE_DIM, 0, 0);
			tui_canvas_fill(c, ROLE_DEFAULT);
		}
		return;
	}
	if (logview_line_count(p->lv) == 0) {
		if (row == 0)
			tui_text(c, "this log is empty", (size_t)-1, ROLE_DIM, 0, 0);
		return;
	}
	if (p->wrap && !p->rewrap_pending && logview_wrap_cols(p->lv) != text_cols(v, p)) {
		/* resized: measure again, after this frame */
		p->rewrap_pending = true;
		view_timer(v, 0, rewrap_later);
	}
	struct lv_row r;
	if (!logview_row(p->lv, row, &r))
		return;
	if (r.kind == LV_ROW_STEP)
		draw_step_header(p, c, r.step);
	else if (r.kind == LV_ROW_FOLD)
		draw_fold(p, c, &r);
	else
		draw_line(v, p, c, &r);
}

/* --- moving --------------------------------------------------------------------------- */
static uint64_t cursor_line(const struct view *v, const struct log_priv *p)
{
	if (!p->lv)
		return 0;
	return logview_line_of_row(p->lv, v->cursor);
}

/* Put the cursor on line (opening folds that hide it). */
static void go_line(struct view *v, struct log_priv *p, uint64_t line)
{
	if (!p->lv)
		return;
	if (logview_reveal(p->lv, line))
		tui_view_set_rows(v, rows_of(p));
	long r = logview_row_of_line(p->lv, line);
	if (r >= 0)
		tui_view_goto(v, r); /* off screen, it comes to the middle */
	tui_view_dirty(v);
}

/* The rows changed under the cursor: keep it on the same line. */
static void keep_line(struct view *v, struct log_priv *p, uint64_t line)
{
	tui_view_set_rows(v, rows_of(p));
	if (line) {
		long r = logview_row_of_line(p->lv, line);
		if (r >= 0)
			tui_view_goto(v, r);
	}
	tui_view_dirty(v);
}

/* Where the screen is, in lines: the rows of the cursor and of the top, so
 * both can be put back on the same lines when rows change above them
 * (wrapping measured in the background, folds): the text does not jump. */
struct anchor {
	struct lv_row cur, top;
	bool ok;
};

static void anchor_take(struct view *v, struct log_priv *p, struct anchor *a)
{
	a->ok = p->lv && logview_row(p->lv, v->cursor, &a->cur) && logview_row(p->lv, v->top, &a->top);
}

static long anchor_row(struct log_priv *p, const struct lv_row *r)
{
	long row = logview_row_of_line(p->lv, r->line);
	struct lv_row x;
	if (row < 0)
		return -1;
	if (r->kind == LV_ROW_STEP && row > 0 && logview_row(p->lv, row - 1, &x) &&
	    x.kind == LV_ROW_STEP)
		return row - 1;
	if (r->kind == LV_ROW_LINE && r->sub > 0 && logview_row(p->lv, row, &x) &&
	    x.kind == LV_ROW_LINE) {
		int n = logview_line_rows(p->lv, r->line);
		row += r->sub < n ? r->sub : n - 1;
	}
	return row;
}

static void anchor_restore(struct view *v, struct log_priv *p, const struct anchor *a)
{
	tui_view_set_rows(v, rows_of(p));
	if (a->ok && p->lv) {
		long cur = anchor_row(p, &a->cur), top = anchor_row(p, &a->top);
		if (cur >= 0)
			tui_view_goto(v, cur);
		long maxtop = v->rows - v->height > 0 ? v->rows - v->height : 0;
		if (cur >= 0 && top >= 0 && top <= cur && cur < top + v->height && top <= maxtop)
			v->top = top;
	}
	tui_view_dirty(v);
}

/* --- wrapping ---------------------------------------------------------------------------- */
static bool wrap_step(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	struct cs_err err;
	struct anchor a;
	err_clear(&err);
	anchor_take(v, p, &a);
	bool more = logview_wrap_step(p->lv, WRAP_SLICE, &err);
	if (err.code)
		tui_error("%s", err.msg);
	anchor_restore(v, p, &a);
	p->wrap_running = more;
	return more;
}

static void wrap_progress(void *ctx, char *out, size_t n)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	uint64_t total = logview_line_count(p->lv);
	snprintf(out, n, "wrapping lines: %d%%",
		 total ? (int)(100.0 * (double)logview_wrap_measured(p->lv) / (double)total) : 100);
}

static void wrap_cancel(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	p->wrap_running = false;
	/* what is measured stays wrapped; the rest shows one row per line */
}

/* Before wrapping starts or ends: where the view is (at whole lines), and
 * no wrapping work left running. False when no log is shown. */
static bool wrap_reset(struct view *v, struct log_priv *p, struct anchor *a)
{
	if (!p->lv)
		return false;
	anchor_take(v, p, a);
	a->cur.sub = a->top.sub = 0;
	if (p->wrap_running)
		tui_work_stop(&p->wrap_ctx);
	p->wrap_running = false;
	return true;
}

static void start_wrap(struct view *v, struct log_priv *p)
{
	struct anchor a;
	if (!wrap_reset(v, p, &a))
		return;
	logview_wrap_begin(p->lv, text_cols(v, p), measure, NULL);
	v->hscroll = 0;
	anchor_restore(v, p, &a);
	p->wrap_running = true;
	struct tui_work w = {.step = wrap_step, .progress = wrap_progress, .cancel = wrap_cancel,
			     .ctx = &p->wrap_ctx, .owner = v};
	tui_work_start(&w);
}

static void stop_wrap(struct view *v, struct log_priv *p)
{
	struct anchor a;
	if (!wrap_reset(v, p, &a))
		return;
	logview_wrap_end(p->lv);
	anchor_restore(v, p, &a);
}

/* --- hiding ##[endgroup] lines of a log with many groups --------------------------------- */
#define HIDE_SLICE 512

static bool hide_step(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	struct anchor a;
	anchor_take(v, p, &a);
	bool more = logview_hide_step(p->lv, HIDE_SLICE);
	anchor_restore(v, p, &a);
	p->hide_running = more;
	return more;
}

static void hide_progress(void *ctx, char *out, size_t n)
{
	(void)ctx;
	snprintf(out, n, "reading groups");
}

static void hide_cancel(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	p->hide_running = false; /* the groups not read keep their ##[endgroup] line */
}

/* Open reads the ends of the first groups; the rest, in the background. */
static void start_hide(struct view *v, struct log_priv *p)
{
	if (p->hide_running)
		tui_work_stop(&p->hide_ctx);
	p->hide_running = false;
	if (!p->lv || !logview_hiding(p->lv))
		return;
	p->hide_running = true;
	struct tui_work w = {.step = hide_step, .progress = hide_progress, .cancel = hide_cancel,
			     .ctx = &p->hide_ctx, .owner = v};
	tui_work_start(&w);
}

/* Wrapped lines depend on the text's columns: the terminal's width, line
 * numbers and timestamps. */
static void rewrap_later(struct view *v)
{
	struct log_priv *p = v->priv;
	p->rewrap_pending = false;
	if (p->wrap && p->lv && logview_wrap_cols(p->lv) != text_cols(v, p))
		start_wrap(v, p);
}

/* --- search ------------------------------------------------------------------------------- */
static void end_search(struct log_priv *p)
{
	lv_search_free(p->search);
	p->search = NULL;
}

static bool search_step(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	struct cs_err err;
	err_clear(&err);
	if (!p->search)
		return false;
	enum lv_search_state st = lv_search_step(p->search, SEARCH_SLICE, &err);
	switch (st) {
	case LV_SEARCH_MORE:
		return true;
	case LV_SEARCH_FOUND: {
		uint64_t line = lv_search_found(p->search);
		bool wrapped = lv_search_wrapped(p->search);
		end_search(p);
		go_line(v, p, line);
		if (wrapped)
			tui_message("search hit %s, continuing at %s", p->search_back ? "TOP" : "BOTTOM",
				    p->search_back ? "BOTTOM" : "TOP");
		return false;
	}
	case LV_SEARCH_NONE:
		end_search(p);
		tui_error("not found: %s", p->query);
		return false;
	case LV_SEARCH_ERROR:
		end_search(p);
		tui_error("%s", err.msg);
		return false;
	}
	return false;
}

static void search_progress(void *ctx, char *out, size_t n)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	uint64_t done = 0, total = 1;
	if (p->search)
		lv_search_progress(p->search, &done, &total);
	snprintf(out, n, "searching %s%s: %d%% (Esc stops)", p->search_back ? "?" : "/",
		 p->query ? p->query : "", total ? (int)(100.0 * (double)done / (double)total) : 100);
}

static void search_cancel(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct log_priv *p = v->priv;
	if (p->search) {
		end_search(p);
		tui_message("search stopped");
	}
}

/* Search from the cursor in the direction given (reverse flips the one of
 * the last search, for N). */
static void run_search(struct view *v, struct log_priv *p, bool backward)
{
	if (!p->m || !p->lv || p->msg[0])
		return;
	if (p->search) {
		tui_work_stop(&p->search_ctx);
		end_search(p);
	}
	struct lv_row r;
	uint64_t from = 0;
	if (logview_row(p->lv, v->cursor, &r)) {
		from = r.line;
		/* from a fold, forward searches start inside it; from a step
		 * header, at the step's first line */
		if (r.kind != LV_ROW_LINE && !backward)
			from = r.line - 1;
	}
	p->search = lv_search_new(p->lv, p->m, backward, from);
	p->search_back = backward;
	/* The first slice now: most logs are searched before the next key is
	 * read, so n n N typed quickly act one after the other. */
	if (!search_step(&p->search_ctx))
		return;
	struct tui_work w = {.step = search_step, .progress = search_progress,
			     .cancel = search_cancel, .ctx = &p->search_ctx, .owner = v};
	tui_work_start(&w);
}

static void set_query(struct view *v, struct log_priv *p, const char *text)
{
	char note[1100];
	struct matcher *m = view_user_matcher(text, note, sizeof(note));
	if (!m)
		return;
	matcher_free(p->m);
	p->m = m;
	free(p->query);
	p->query = xstrdup(text);
	if (note[0])
		tui_message("%s", note);
	tui_view_dirty(v);
}

static void on_search(void *ctx, const char *text, bool backward)
{
	struct view *v = ctx;
	struct log_priv *p = v->priv;
	if (!text || !*text)
		return;
	set_query(v, p, text);
	p->backward = backward;
	run_search(v, p, backward);
}

static void on_search_fwd(void *ctx, const char *text)
{
	on_search(ctx, text, false);
}

static void on_search_back(void *ctx, const char *text)
{
	on_search(ctx, text, true);
}

/* --- following ------------------------------------------------------------------------------ */
static bool run_completed(const struct log_priv *p)
{
	return p->have_run && p->run.status && !strcmp(p->run.status, "completed");
}

/* Find the job again (a re-import gives it new row ids), and show its log
 * as it is now; at the end of the log, stay at the end. */
static void stop_work(struct log_priv *p)
{
	if (p->search) {
		tui_work_stop(&p->search_ctx);
		end_search(p);
	}
	if (p->wrap_running) {
		tui_work_stop(&p->wrap_ctx);
		p->wrap_running = false;
	}
	if (p->hide_running) {
		tui_work_stop(&p->hide_ctx);
		p->hide_running = false;
	}
}

static void reload(struct view *v, struct log_priv *p, bool quiet)
{
	const struct job *j = cur_job(p);
	if (!j || !p->have_run)
		return;
	struct cs_err err;
	err_clear(&err);
	int64_t run_row, job_row;
	if (store_locate_job(app.st, p->run.repo, p->run.provider_id, p->run.attempt, j->provider_id,
			     &run_row, &job_row, &err) < 0 ||
	    !job_row) {
		if (!quiet)
			tui_error("%s", err.code ? err.msg : "the job is no longer in the index");
		return;
	}
	/* the run and jobs as they are now, beside the ones shown */
	struct log_priv fresh = {.job = -1};
	if (load_job(&fresh, run_row, job_row, &err) < 0) {
		free_data(&fresh);
		if (!quiet)
			tui_error("%s", err.msg);
		return;
	}
	const struct job *nj = cur_job(&fresh);
	uint64_t old_lines = p->lv ? logview_line_count(p->lv) : 0;
	int64_t old_log = p->lv ? logview_log_id(p->lv) : 0;
	bool same = p->lv && !p->msg[0] && nj->log_id == old_log &&
		    (uint64_t)nj->line_count == old_lines;
	struct logview *lv = p->lv;
	p->lv = NULL;
	free_data(p);
	p->run = fresh.run;
	p->have_run = fresh.have_run;
	p->jobs = fresh.jobs;
	p->n_jobs = fresh.n_jobs;
	p->job = fresh.job;
	if (same) {
		/* the log did not change: keep it, with its folds and wrapping */
		p->lv = lv;
		if (!quiet)
			tui_message("reloaded: no change");
		tui_view_dirty(v);
		return;
	}
	/* the logview is about to change under the search and the wrapping */
	uint64_t line = lv ? logview_line_of_row(lv, v->cursor) : 0;
	bool at_end = lv && v->cursor >= logview_rows(lv) - 1;
	p->lv = lv;
	stop_work(p);
	p->lv = NULL;
	p->msg[0] = '\0';
	if (!nj->log_id) {
		logview_close(lv);
		no_log_message(p);
		keep_line(v, p, 0);
		return;
	}
	if (lv && logview_reopen(lv, nj->id, nj->log_id, &err) == 0) {
		p->lv = lv;
	} else {
		logview_close(lv);
		p->lv = logview_open(app.st, nj->id, nj->log_id, &err);
		if (!p->lv) {
			snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
			keep_line(v, p, 0);
			return;
		}
	}
	start_hide(v, p);
	if (p->wrap)
		start_wrap(v, p);
	uint64_t n = logview_line_count(p->lv);
	keep_line(v, p, at_end && n ? n : line);
	if (at_end)
		tui_view_goto(v, logview_rows(p->lv) - 1);
	if (!quiet)
		tui_message("reloaded: %llu lines (was %llu)", (unsigned long long)n,
			    (unsigned long long)old_lines);
}

static void follow_tick(struct view *v)
{
	struct log_priv *p = v->priv;
	if (!p->follow)
		return;
	reload(v, p, true);
	if (run_completed(p)) {
		p->follow = false;
		tui_message("the run completed: stopped following");
		tui_view_dirty(v);
		return;
	}
	view_timer(v, FOLLOW_MS, follow_tick);
}

/* --- ops ------------------------------------------------------------------------------------- */
static void read_options(struct view *v, struct log_priv *p);

static int log_open(struct view *v, void *arg)
{
	struct log_priv *p = v->priv;
	const struct log_view_arg *a = arg;
	struct cs_err err;
	err_clear(&err);
	p->v = v;
	p->search_ctx.v = v;
	p->wrap_ctx.v = v;
	p->hide_ctx.v = v;
	p->numbers = tui_option_on("line-numbers");
	p->job = -1;
	lv_line_init(&p->line);
	buf_init(&p->tmp);
	buf_init(&p->seg);
	struct log_view_arg from_env = {0};
	if (!a) {
		/* view-log: the job selected where it was opened from */
		struct view_env env;
		if (!view_env_parent(v, &env, true, "view-log"))
			return -1;
		from_env.run_row_id = env.run;
		from_env.job_row_id = env.job;
		a = &from_env;
	}
	if (load_job(p, a->run_row_id, a->job_row_id, &err) < 0) {
		snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
		tui_view_set_rows(v, 1);
		return 0;
	}
	const struct job *j = cur_job(p);
	if (!j->log_id) {
		no_log_message(p);
		tui_view_set_rows(v, 1);
		return 0;
	}
	p->lv = logview_open(app.st, j->id, j->log_id, &err);
	if (!p->lv) {
		snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
		tui_view_set_rows(v, 1);
		return 0;
	}
	tui_view_set_rows(v, rows_of(p));
	start_hide(v, p);
	read_options(v, p);
	if (a->query && *a->query)
		set_query(v, p, a->query);
	if (a->line > 0) {
		go_line(v, p, (uint64_t)a->line);
	} else if (a->step_number > 0) {
		for (int i = 0; i < logview_n_steps(p->lv); i++) {
			const struct step *s = logview_step(p->lv, i);
			if (s->number != a->step_number)
				continue;
			if (s->first_line > 0 && (uint64_t)s->first_line <= logview_line_count(p->lv)) {
				long r = logview_row_of_line(p->lv, (uint64_t)s->first_line);
				/* the step's header row, right above its first line, at
				 * the top of the screen: the step reads from there */
				long h = r > 0 ? r - 1 : 0;
				long maxtop = v->rows - v->height;
				tui_view_goto(v, h);
				v->top = h < maxtop ? h : maxtop > 0 ? maxtop : 0;
			} else {
				tui_message("step %d has no lines in this log", a->step_number);
			}
			break;
		}
	}
	return 0;
}

/* Line numbers, timestamps and wrapping are options (the framework turns
 * them with #, t, w and :set, then reloads every view). */
static void read_options(struct view *v, struct log_priv *p)
{
	const char *ts = tui_option("timestamps");
	p->numbers = tui_option_on("line-numbers");
	p->ts = ts && !strcmp(ts, "absolute")	? TS_ABSOLUTE
		: ts && !strcmp(ts, "relative") ? TS_RELATIVE
						: TS_HIDDEN;
	bool wrap = tui_option_on("wrap") && p->lv && !p->msg[0];
	if (wrap != p->wrap) {
		p->wrap = wrap;
		if (wrap)
			start_wrap(v, p);
		else
			stop_wrap(v, p);
	} else if (wrap) {
		rewrap_later(v);
	}
}

static int log_load(struct view *v)
{
	struct log_priv *p = v->priv;
	read_options(v, p);
	tui_view_set_rows(v, rows_of(p));
	return 0;
}

static void goto_line(struct view *v, struct log_priv *p, const char *text)
{
	char *end;
	if (!p->lv || p->msg[0])
		return;
	while (text && (*text == ' ' || *text == '\t'))
		text++;
	unsigned long long n = text ? strtoull(text, &end, 10) : 0;
	if (!text || end == text || *end || n < 1 || n > logview_line_count(p->lv)) {
		char max[32];
		view_fmt_count((long long)logview_line_count(p->lv), max, sizeof(max));
		tui_error("no line '%s': this log has lines 1 to %s", text ? text : "", max);
		return;
	}
	go_line(v, p, n);
}

static void jump_finding(struct view *v, struct log_priv *p, int dir)
{
	if (!p->lv || p->msg[0])
		return;
	struct lv_row r;
	uint64_t from = logview_row(p->lv, v->cursor, &r) ? r.line : 0;
	if (r.kind == LV_ROW_FOLD && dir > 0)
		from = r.line; /* into the folded group */
	else if (r.kind == LV_ROW_STEP && dir > 0)
		from = r.line - 1;
	int i = logview_next_finding(p->lv, from, dir);
	if (i < 0) {
		tui_message("no %s error or warning %s", dir > 0 ? "later" : "earlier",
			    dir > 0 ? "below" : "above");
		return;
	}
	const struct finding *f = logview_finding(p->lv, i);
	go_line(v, p, (uint64_t)f->line);
	int k = 0, total = 0;
	for (int x = 0; x < logview_n_findings(p->lv); x++) {
		const struct finding *g = logview_finding(p->lv, x);
		bool stop = g->line >= 1 && g->severity &&
			    (!strcmp(g->severity, "error") || !strcmp(g->severity, "warning"));
		total += stop;
		if (x <= i)
			k += stop;
	}
	tui_message("%s %d of %d, line %lld: %.200s", f->severity, k, total, (long long)f->line,
		    f->message ? f->message : "");
}

static void toggle_fold(struct view *v, struct log_priv *p)
{
	struct lv_row r;
	if (!p->lv || !logview_row(p->lv, v->cursor, &r))
		return;
	if (r.kind == LV_ROW_STEP) {
		/* on a step's header: the whole step */
		bool fold = !logview_step_folded(p->lv, r.step);
		logview_set_step_fold(p->lv, r.step, fold);
		tui_view_set_rows(v, rows_of(p));
		/* the cursor stays on the header: the row of the step's first
		 * line when folded, the row above it when not */
		long at = logview_row_of_line(p->lv, r.line);
		struct lv_row h;
		if (!fold && at > 0 && logview_row(p->lv, at - 1, &h) && h.kind == LV_ROW_STEP)
			at--;
		if (at >= 0)
			tui_view_goto(v, at);
		tui_view_dirty(v);
		return;
	}
	int g = r.kind == LV_ROW_FOLD ? r.group : logview_group_of_line(p->lv, r.line);
	if (g < 0) {
		tui_message("no group at line %llu", (unsigned long long)r.line);
		return;
	}
	bool fold = !logview_group_folded(p->lv, g);
	logview_set_fold(p->lv, g, fold);
	const struct log_group *grp = logview_group(p->lv, g);
	keep_line(v, p, fold ? (uint64_t)grp->first_line : r.line);
}

static enum action log_request(struct view *v, enum action a, unsigned *eff)
{
	struct log_priv *p = v->priv;
	bool have = p->lv && !p->msg[0];
	uint64_t line;
	switch (a) {
	case ACT_SEARCH:
	case ACT_SEARCH_BACK:
		if (have)
			tui_prompt(a == ACT_SEARCH ? "/" : "?", NULL,
				   a == ACT_SEARCH ? on_search_fwd : on_search_back, v);
		else
			tui_message("no log to search here");
		return ACT_NONE;
	case ACT_ENTER: {
		/* on a fold, a step header or a group's first line, Enter
		 * opens or closes it */
		struct lv_row r;
		if (have && logview_row(p->lv, v->cursor, &r) &&
		    (r.kind == LV_ROW_FOLD || r.kind == LV_ROW_STEP ||
		     (r.kind == LV_ROW_LINE && logview_group_of_line(p->lv, r.line) >= 0 &&
		      (uint64_t)logview_group(p->lv, logview_group_of_line(p->lv, r.line))->first_line ==
			      r.line)))
			toggle_fold(v, p);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	}
	case ACT_FIND_NEXT:
	case ACT_FIND_PREV:
		if (!p->m)
			tui_message("no search yet: / searches forward, ? backward");
		else
			run_search(v, p, (a == ACT_FIND_PREV) != p->backward);
		return ACT_NONE;
	case ACT_CANCEL:
		if (p->search) {
			tui_work_stop(&p->search_ctx);
			end_search(p);
			tui_message("search stopped");
			return ACT_NONE;
		}
		return a;
	case ACT_NEXT_ERROR:
	case ACT_PREV_ERROR:
		jump_finding(v, p, a == ACT_NEXT_ERROR ? 1 : -1);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FOLD:
		if (have)
			toggle_fold(v, p);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FOLD_ALL:
		if (have) {
			line = cursor_line(v, p);
			if (logview_n_groups(p->lv) == 0) {
				tui_message("this log has no groups to fold");
				return ACT_NONE;
			}
			bool folded = logview_fold_all(p->lv);
			int g = logview_group_of_line(p->lv, line);
			if (folded && g >= 0)
				line = (uint64_t)logview_group(p->lv, g)->first_line;
			keep_line(v, p, line);
			tui_message(folded ? "every group folded" : "every group unfolded");
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_SCROLL_LEFT:
	case ACT_SCROLL_RIGHT:
		if (p->wrap) {
			tui_message("lines are wrapped: nothing to scroll (w stops wrapping)");
			return ACT_NONE;
		}
		return a;
	case ACT_FOLLOW:
		if (p->follow) {
			p->follow = false;
			tui_message("stopped following");
		} else if (!p->have_run || run_completed(p)) {
			tui_message("the run is completed: its log will not grow");
		} else {
			p->follow = true;
			if (p->lv)
				tui_view_goto(v, logview_rows(p->lv) - 1);
			tui_message("following the log (F stops)");
			view_timer(v, FOLLOW_MS, follow_tick);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_REFRESH:
		reload(v, p, false);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_OPEN_URL: {
		char msg[512];
		const struct job *j = cur_job(p);
		const char *url = j && j->html_url ? j->html_url : p->have_run ? p->run.html_url : NULL;
		if (view_open_url(url, msg, sizeof(msg)) < 0)
			tui_error("%s", msg);
		else
			tui_message("%s", msg);
		return ACT_NONE;
	}
	default:
		return a;
	}
}

static bool log_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	struct log_priv *p = v->priv;
	if (!strcmp(cmd, "goto")) {
		goto_line(v, p, arg);
		*eff |= EFF_REDRAW;
		return true;
	}
	return views_command(v, cmd, arg, eff);
}

static void log_title(struct view *v, char *out, size_t n)
{
	struct log_priv *p = v->priv;
	const struct job *j = cur_job(p);
	char lines[32] = "";
	if (p->lv)
		view_fmt_count((long long)logview_line_count(p->lv), lines, sizeof(lines));
	snprintf(out, n, "run %lld / job %s%s%s%s%s%s", p->have_run ? (long long)p->run.provider_id : 0LL,
		 j && j->name ? j->name : "?", p->lv ? " \u00b7 " : "", lines,
		 p->lv ? (logview_line_count(p->lv) == 1 ? " line" : " lines") : "",
		 p->follow ? " \u00b7 following" : "", p->wrap ? " \u00b7 wrapped" : "");
	/* absolute times are times of day: their date and zone, once, here */
	int64_t ts = p->lv && p->ts == TS_ABSOLUTE ? logview_ts_near(p->lv, cursor_line(v, p))
						  : CS_TIME_NONE;
	if (ts != CS_TIME_NONE) {
		char date[32];
		time_t secs = (time_t)(ts / 1000000 - (ts % 1000000 < 0));
		struct tm tm;
		if (gmtime_r(&secs, &tm) && strftime(date, sizeof(date), "%Y-%m-%d UTC", &tm)) {
			size_t len = strlen(out);
			if (len + 1 < n)
				snprintf(out + len, n - len, " \u00b7 %s", date);
		}
	}
}

/* The one position counter: lines of the log, not rows of the screen
 * (own_position: the status bar has no row counter of its own here). */
static void log_status(struct view *v, char *out, size_t n)
{
	struct log_priv *p = v->priv;
	if (!p->lv || p->msg[0] || !logview_line_count(p->lv)) {
		out[0] = '\0';
		return;
	}
	char a[32], b[32];
	uint64_t line = cursor_line(v, p), total = logview_line_count(p->lv);
	view_fmt_count((long long)line, a, sizeof(a));
	view_fmt_count((long long)total, b, sizeof(b));
	snprintf(out, n, "line %s of %s (%d%%)", a, b, total ? (int)(100 * line / total) : 0);
}

static void log_done(struct view *v)
{
	struct log_priv *p = v->priv;
	view_timers_cancel(v);
	tui_work_stop(&p->search_ctx);
	tui_work_stop(&p->wrap_ctx);
	tui_work_stop(&p->hide_ctx);
	end_search(p);
	matcher_free(p->m);
	free(p->query);
	free_data(p);
	lv_line_release(&p->line);
	buf_release(&p->tmp);
	buf_release(&p->seg);
}

/* The selection (view_env): this log's run and job (d: their diff). */
static void log_env(struct view *v, void *out)
{
	struct log_priv *p = v->priv;
	struct view_env *env = out;
	const struct job *j = cur_job(p);
	if (!p->have_run)
		return;
	view_env_set_run(env, &p->run);
	if (j)
		env->job = j->id;
}

const struct view_ops log_view_ops = {
	.name = "log",
	.private_size = sizeof(struct log_priv),
	.open = log_open,
	.load = log_load,
	.draw = log_draw,
	.request = log_request,
	.command = log_command,
	.title = log_title,
	.status = log_status,
	.own_position = true,
	.done = log_done,
	.env = log_env,
};
