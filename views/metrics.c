/* metrics.c - metrics over history (core/metrics.h): the metrics view, `M`
 * from the runs view and `:metrics [FILTER]`, and the chart of one metric.
 *
 * The table: one row per series (name, workflow) under a column header: the
 * newest value with its unit, the change against the baseline, a sparkline
 * of the last points (as wide as the column), the threshold state and the
 * newest change point ("+14.2 % since 4dd7aca"); `ciscope metrics` prints
 * the same rows (metric_summarize). Narrow screens drop columns from the
 * right of the importance order (change point, trend, workflow, change,
 * state). f filters (PATTERN, workflow:W, branch:B, or --workflow/--branch
 * as the CLI takes them), s sorts (name, state, change, change point), /
 * finds. Enter opens the chart; d, b and a act on the selected metric's
 * newest point and change point. Change points are found in the
 * background after the first frame (10 ms of series a step).
 *
 * The chart: core/chart.h lines (braille, ASCII when the screen is not
 * UTF-8) with the threshold lines and change points metric_plot_init()
 * draws, a caret on the x axis under the point at the cursor, and a last
 * row saying which run, commit, date and value that point is (the status
 * bar says which point: "point 28 of 31"). Left/Right (h/l) move along the
 * points, Home/End to the first and last, :N to point N, Up/Down (k/j) to
 * the previous/next change point; Enter opens the point's run, d
 * diffs it with the previous point's run, b bisects the change point at or
 * before the cursor (a metric target at the bound between its levels), a
 * acknowledges it with a note.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bisect.h"
#include "core/chart.h"
#include "core/gitrepo.h"
#include "core/metrics.h"
#include "views/common.h"
#include "views/views.h"

/* A metric to chart: its series, within the table's scope. */
struct chart_view_arg {
	const char *name, *workflow, *branch;
	const struct metric_hist *h; /* the series as the table holds it (copied),
				      * or NULL: read it from the index */
};

static bool utf8_screen(void)
{
	return strcmp(tui_glyph("\xe2\x80\xa6", "~"), "~") != 0;
}

/* Load the series of q, judged: thresholds read as `ciscope metrics` reads
 * them, derived metrics refreshed first. LOAD_TABLE: the table's rows, from
 * the index's summary cache (metrics_load_table: each series only the
 * points its row needs, change points found); LOAD_JUDGED: whole series.
 * err says what failed. */
enum load_how { LOAD_JUDGED, LOAD_TABLE };
static int load_series(const struct metrics_query *q0, enum load_how how, struct th_conf *tc,
		       struct metric_set *set, struct cs_err *err)
{
	memset(set, 0, sizeof(*set));
	memset(tc, 0, sizeof(*tc));
	err_clear(err);
	/* derive what the importer leaves for later (parity summaries, cache
	 * lines) as `ciscope metrics` does: the TUI's own connection is meant
	 * for reading, so through a writable one of its own (remote.c's way),
	 * which also rebuilds the summary cache when it is out of date */
	struct store *rw = app.st->readonly ? store_open(app.db_path, STORE_RW, err) : app.st;
	if (!rw || metrics_refresh(rw, err) < 0)
		tui_message("metrics derived from logs and parity data not refreshed: %s", err->msg);
	err_clear(err);
	int rc = th_conf_load(tc, NULL, err);
	struct metrics_query q = *q0;
	struct buf top = BUF_INIT;
	if (q.branch && gitrepo_workdir(NULL, &top))
		q.checkout = buf_cstr(&top);
	if (rc == 0)
		rc = how == LOAD_TABLE ? metrics_load_table(app.st, rw, tc, &q, set, err)
				       : metrics_load_judged(app.st, tc, &q, set, err);
	buf_release(&top);
	if (rw && rw != app.st)
		store_close(rw);
	if (rc < 0) {
		th_conf_release(tc);
		memset(tc, 0, sizeof(*tc));
		return -1;
	}
	return 0;
}

static enum role state_role_of(enum th_state s)
{
	switch (s) {
	case TH_BREACH_FAIL: return ROLE_FAILURE;
	case TH_BREACH_WARN: return ROLE_WARNING_LINE;
	case TH_PASS: return ROLE_SUCCESS;
	default: return ROLE_DIM;
	}
}

static void value_text(const struct metric_hist *h, double v, char *out, size_t n)
{
	chart_format_num(v, out, n);
	size_t l = strlen(out);
	if (h->unit && l + 2 < n)
		snprintf(out + l, n - l, " %s", h->unit);
}

/* "+14.2 % since 4dd7aca" */
static void cp_text(const struct metric_hist *h, const struct metric_cp *cp, bool compact,
		    char *out, size_t n)
{
	char t[48];
	if (!cp) {
		snprintf(out, n, "-");
		return;
	}
	metric_format_change(cp->change, cp->before, cp->after, h->unit, t, sizeof(t));
	const char *sha = h->pts[cp->idx].sha;
	if (compact) /* "+41.2 % 535b441" */
		snprintf(out, n, "%s %.7s", t, sha ? sha : "?");
	else
		snprintf(out, n, "%s since %.7s%s", t, sha ? sha : "?", cp->acked ? " (ack)" : "");
}

/* b: bisect the change point cp of h (the view's bisect opens on it). */
static void bisect_cp(const struct metric_hist *h, const struct metric_cp *cp)
{
	if (!cp) {
		tui_error("%s has no change point to bisect", h->name);
		return;
	}
	struct bisect_target t = {.kind = BT_METRIC, .name = h->name};
	t.bound = metric_cp_bound(cp, &t.above);
	struct buf text = BUF_INIT;
	bisect_target_text(&t, &text);
	const struct metric_point *p = &h->pts[cp->idx];
	char bad[RUN_REF_MAX];
	run_ref(bad, sizeof(bad), p->provider_id, p->attempt);
	struct bisect_view_arg a = {.target = buf_cstr(&text), .bad = bad};
	tui_open(&bisect_view_ops, &a, OPEN_PUSH);
	buf_release(&text);
}

/* d: diff the run of point i with the run of the point before it. */
static void diff_points(const struct metric_hist *h, long i)
{
	if (i <= 0 || i >= h->n) {
		tui_error("the first point has no point before it to diff with");
		return;
	}
	char run[32], base[32];
	snprintf(run, sizeof(run), "#%lld", (long long)h->pts[i].run);
	snprintf(base, sizeof(base), "#%lld", (long long)h->pts[i - 1].run);
	struct diff_view_arg a = {.run = run, .base = base};
	tui_open(&diff_view_ops, &a, OPEN_PUSH);
}

/* a: acknowledge a change point (metrics ack): the note is asked for, an
 * empty one is none. */
struct ack_req {
	struct view *v;
	char *name, *workflow, *sha;
	void (*after)(struct view *v);
};
static struct ack_req ack_pending;

static void ack_clear(void)
{
	free(ack_pending.name);
	free(ack_pending.workflow);
	free(ack_pending.sha);
	memset(&ack_pending, 0, sizeof(ack_pending));
}

static void on_ack_note(void *ctx, const char *text)
{
	(void)ctx;
	if (text && ack_pending.v) {
		struct cs_err err;
		err_clear(&err);
		if (metrics_ack(app.st, ack_pending.name, ack_pending.workflow, ack_pending.sha,
				*text ? text : NULL, &err) < 0) {
			tui_error("%s", err.msg);
		} else {
			tui_message("acknowledged the change point of %s at %.7s", ack_pending.name,
				    ack_pending.sha);
			ack_pending.after(ack_pending.v);
		}
	}
	ack_clear();
}

static void ack_cp(struct view *v, const struct metric_hist *h, const struct metric_cp *cp,
		   void (*after)(struct view *v))
{
	if (!cp || !h->pts[cp->idx].sha) {
		tui_error("%s has no change point to acknowledge", h->name);
		return;
	}
	ack_clear();
	ack_pending = (struct ack_req){v, xstrdup(h->name), xstrdup(h->workflow),
				       xstrdup(h->pts[cp->idx].sha), after};
	char t[48], q[160];
	metric_format_change(cp->change, cp->before, cp->after, h->unit, t, sizeof(t));
	snprintf(q, sizeof(q), "note on %s since %.7s (acknowledged): ", t, ack_pending.sha);
	tui_prompt(q, cp->note ? cp->note : "", on_ack_note, NULL);
}

/* === the table ============================================================== */
enum msort { MS_NAME = 0, MS_STATE, MS_CHANGE, MS_CP, MS_COUNT };
static const char *const msort_names[MS_COUNT] = {"name", "state", "change", "change-point"};

struct metrics_priv {
	char *workflow, *branch, *pattern; /* the filter's parts, NULL: none */
	char *filter_text;                 /* canonical, "" when none */
	struct th_conf tc;
	struct metric_set set;
	struct metric_summary *sum;        /* per set item */
	int *order;                        /* rows -> set item */
	bool loaded;
	enum msort sort;
	char error[1024];
	/* change points are found in the background, one series a step, so
	 * that the first frame does not wait for them */
	struct view *v;
	int cp_next;            /* the next series to look at; set.n: all done */
	bool cp_working;
};

static struct metric_hist *item_at(struct view *v, long row, const struct metric_summary **s)
{
	struct metrics_priv *p = v->priv;
	if (!p->loaded || row < 0 || row >= p->set.n)
		return NULL;
	int k = p->order[row];
	if (s)
		*s = &p->sum[k];
	return &p->set.items[k];
}

static int state_rank(enum th_state s)
{
	return s == TH_BREACH_FAIL ? 0 : s == TH_BREACH_WARN ? 1 : s == TH_PASS ? 2 : 3;
}

static struct metrics_priv *sort_ctx;
static int cmp_rows(const void *a, const void *b)
{
	const struct metrics_priv *p = sort_ctx;
	int i = *(const int *)a, j = *(const int *)b;
	const struct metric_summary *si = &p->sum[i], *sj = &p->sum[j];
	const struct metric_hist *hi = &p->set.items[i], *hj = &p->set.items[j];
	int d = 0;
	switch (p->sort) {
	case MS_STATE:
		d = state_rank(si->state) - state_rank(sj->state);
		break;
	case MS_CHANGE: {
		double ci = isfinite(si->change) ? fabs(si->change) : -1;
		double cj = isfinite(sj->change) ? fabs(sj->change) : -1;
		d = ci > cj ? -1 : ci < cj ? 1 : 0;
		break;
	}
	case MS_CP: {
		int64_t ti = si->cp ? hi->pts[si->cp->idx].at : INT64_MIN;
		int64_t tj = sj->cp ? hj->pts[sj->cp->idx].at : INT64_MIN;
		d = ti > tj ? -1 : ti < tj ? 1 : 0;
		break;
	}
	default:
		break;
	}
	if (!d)
		d = strcmp(hi->name, hj->name);
	if (!d)
		d = strcmp(hi->workflow, hj->workflow);
	return d ? d : i - j;
}

static void sort_rows(struct metrics_priv *p)
{
	for (int i = 0; i < p->set.n; i++)
		p->order[i] = i;
	sort_ctx = p;
	if (p->set.n > 1)
		qsort(p->order, (size_t)p->set.n, sizeof(int), cmp_rows);
	sort_ctx = NULL;
}

static void release_data(struct metrics_priv *p)
{
	if (p->cp_working) {
		tui_work_stop(p);
		p->cp_working = false;
	}
	if (p->loaded) {
		metric_set_release(&p->set);
		th_conf_release(&p->tc);
	}
	free(p->sum);
	free(p->order);
	p->sum = NULL;
	p->order = NULL;
	p->loaded = false;
}

/* The change points of the next series, a step of the background work:
 * of as many series as 10 ms allow (at least one), so the screen is
 * drawn again every 10 ms or so, not after each of 50 series of a few
 * points (bench/metrics.sh: those frames were a third of :metrics). */
static bool cp_step(void *ctx)
{
	struct metrics_priv *p = ctx;
	if (!p->loaded || p->cp_next >= p->set.n) {
		p->cp_working = false;
		return false;
	}
	int64_t t0 = mono_ms();
	do {
		int k = p->cp_next++;
		struct cs_err err;
		err_clear(&err);
		if (metrics_changepoints(app.st, &p->set.items[k], &p->tc.cp, &err) < 0 &&
		    !p->error[0])
			snprintf(p->error, sizeof(p->error), "%s", err.msg);
		metric_summarize(&p->tc, &p->set.items[k], &p->sum[k]);
	} while (p->cp_next < p->set.n && mono_ms() - t0 < 10);
	tui_view_dirty(p->v);
	if (p->cp_next < p->set.n)
		return true;
	p->cp_working = false;
	if (p->error[0])
		tui_error("change points: %s", p->error);
	if (p->sort == MS_CP || p->sort == MS_STATE) {
		const struct metric_hist *cur = item_at(p->v, p->v->cursor, NULL);
		sort_rows(p);
		for (int i = 0; cur && i < p->set.n; i++)
			if (&p->set.items[p->order[i]] == cur)
				tui_view_goto(p->v, i);
	}
	return false;
}

static void cp_progress(void *ctx, char *out, size_t n)
{
	struct metrics_priv *p = ctx;
	snprintf(out, n, "change points: %d of %d series", p->cp_next, p->loaded ? p->set.n : 0);
}

static void cp_cancel(void *ctx)
{
	struct metrics_priv *p = ctx;
	p->cp_working = false;
}

/* Query the index again (open, a new filter, refresh). */
static void reload(struct view *v)
{
	struct metrics_priv *p = v->priv;
	release_data(p);
	p->v = v;
	p->error[0] = '\0';
	struct cs_err err;
	struct metrics_query q = {.workflow = p->workflow, .branch = p->branch,
				  .pattern = p->pattern};
	if (load_series(&q, LOAD_TABLE, &p->tc, &p->set, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
	} else {
		p->loaded = true;
		p->sum = xcalloc((size_t)p->set.n + 1, sizeof(*p->sum));
		p->order = xcalloc((size_t)p->set.n + 1, sizeof(int));
		for (int i = 0; i < p->set.n; i++)
			metric_summarize(&p->tc, &p->set.items[i], &p->sum[i]);
		sort_rows(p);
		p->cp_next = 0;
		if (p->set.n) {
			struct tui_work w = {.step = cp_step, .progress = cp_progress,
					     .cancel = cp_cancel, .ctx = p, .owner = v};
			p->cp_working = true;
			tui_work_start(&w);
		}
	}
	/* nothing: no rows, the header says why */
	tui_view_set_rows(v, p->loaded ? p->set.n : 0);
}

static int metrics_load_rows(struct view *v)
{
	struct metrics_priv *p = v->priv;
	tui_view_set_rows(v, p->loaded ? p->set.n : 0);
	return 0;
}

/* The filter: PATTERN, workflow:W, branch:B, --workflow W, --branch B
 * (-w, -b), as `ciscope metrics` takes them; false with a message when a
 * value is missing. */
static bool set_filter(struct metrics_priv *p, const char *text)
{
	char *wf = NULL, *br = NULL, *pat = NULL;
	char *s = xstrdup(text ? text : ""), *save = NULL;
	bool ok = true;
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **slot = NULL;
		const char *val = NULL;
		if (!strcmp(tok, "--workflow") || !strcmp(tok, "-w")) {
			slot = &wf;
			val = strtok_r(NULL, " \t", &save);
		} else if (!strcmp(tok, "--branch") || !strcmp(tok, "-b")) {
			slot = &br;
			val = strtok_r(NULL, " \t", &save);
		} else if (!strncmp(tok, "workflow:", 9)) {
			slot = &wf;
			val = tok + 9;
		} else if (!strncmp(tok, "branch:", 7)) {
			slot = &br;
			val = tok + 7;
		} else {
			slot = &pat;
			val = tok;
		}
		if (!val || !*val) {
			tui_error("filter: %s needs a value (PATTERN, workflow:W, branch:B)", tok);
			ok = false;
			break;
		}
		free(*slot);
		*slot = xstrdup(val);
	}
	free(s);
	if (!ok) {
		free(wf);
		free(br);
		free(pat);
		return false;
	}
	free(p->workflow);
	free(p->branch);
	free(p->pattern);
	p->workflow = wf;
	p->branch = br;
	p->pattern = pat;
	struct buf b = BUF_INIT;
	if (pat)
		buf_adds(&b, pat);
	if (wf)
		buf_addf(&b, "%sworkflow:%s", b.len ? " " : "", wf);
	if (br)
		buf_addf(&b, "%sbranch:%s", b.len ? " " : "", br);
	free(p->filter_text);
	p->filter_text = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return true;
}

static int metrics_open(struct view *v, void *arg)
{
	struct metrics_priv *p = v->priv;
	const struct metrics_view_arg *a = arg;
	p->filter_text = xstrdup("");
	if (a && a->filter && *a->filter) {
		if (!set_filter(p, a->filter))
			return -1;
	} else if (!a) {
		/* M: the scope of the list it was opened from */
		struct view_env env;
		view_env_of(v->parent, &env);
		struct buf b = BUF_INIT;
		if (env.workflow && *env.workflow)
			buf_addf(&b, "workflow:%s", env.workflow);
		if (env.branch && *env.branch)
			buf_addf(&b, "%sbranch:%s", b.len ? " " : "", env.branch);
		set_filter(p, buf_cstr(&b));
		buf_release(&b);
	}
	reload(v);
	return 0;
}

/* Column widths for a row width: 0 hides a column. */
struct mcols {
	int name, wf, last, change, trend, state, cp;
};

static void layout(int w, struct mcols *c)
{
	/* wide, medium, narrow: the widths of the fixed columns; name and the
	 * change point share the rest */
	memset(c, 0, sizeof(*c));
	int name_max = 60;
	if (w >= 160) {
		*c = (struct mcols){0, 12, 12, 9, 32, 5, 0};
		name_max = 48;
	} else if (w >= 100) {
		*c = (struct mcols){0, 9, 11, 9, 16, 5, 0};
		name_max = 36;
	} else if (w >= 72) {
		*c = (struct mcols){0, 8, 10, 8, 8, 5, 16};
	} else if (w >= 50) {
		*c = (struct mcols){0, 0, 10, 8, 0, 5, 16};
	} else if (w >= 40) {
		*c = (struct mcols){0, 0, 10, 0, 0, 5, 0};
	} else {
		*c = (struct mcols){0, 0, 10, 0, 0, 0, 0};
	}
	int fixed = 0;
	const int cols[] = {c->wf, c->last, c->change, c->trend, c->state, c->cp};
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		fixed += cols[i] ? cols[i] + 1 : 0;
	c->name = w - fixed - 1;
	if (w >= 100) {
		/* the change point column takes what the name does not need */
		c->name = MIN(c->name - 22, name_max);
		c->cp = w - fixed - c->name - 2;
	}
	if (c->name < 1)
		c->name = 1;
}

static void metrics_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct mcols w;
	layout(tui_canvas_width(c), &w);
	const struct metric_summary *s;
	const struct metric_hist *h = item_at(v, row, &s);
	if (!h)
		return;
	char last[48], ch[32] = "-", cp[96];
	value_text(h, s->last, last, sizeof(last));
	if (isfinite(s->change))
		metric_format_pct(s->change, ch, sizeof(ch));
	if (h->cps_done)
		cp_text(h, s->cp, w.cp < 21, cp, sizeof(cp));
	else
		snprintf(cp, sizeof(cp), "%s", tui_glyph("\xe2\x80\xa6", "..."));
	tui_column(c, h->name, ROLE_DEFAULT, w.name, 0);
	tui_column(c, h->workflow, ROLE_DIM, w.wf, 0);
	tui_column(c, last, ROLE_DEFAULT, w.last, TEXT_RIGHT);
	tui_column(c, ch, ROLE_DEFAULT, w.change, TEXT_RIGHT);
	if (w.trend) {
		struct buf b = BUF_INIT;
		metric_sparkline(h, w.trend, utf8_screen(), &b);
		tui_column(c, buf_cstr(&b), ROLE_NOTICE_LINE, w.trend, 0);
		buf_release(&b);
	}
	tui_column(c, th_state_name(s->state), state_role_of(s->state), w.state, 0);
	tui_column(c, cp, s->cp && !s->cp->acked ? ROLE_GROUP_LINE : ROLE_DIM, w.cp, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

/* The column names, laid out as the rows are (the columns they drop go);
 * without rows, why there are none. */
static void metrics_header(struct view *v, struct tui_canvas *c)
{
	struct metrics_priv *p = v->priv;
	if (!p->loaded || !p->set.n) {
		const char *msg = p->error[0] ? p->error
				  : p->filter_text[0] ? "no metrics match the filter (f changes it)"
						      : "no metrics in the index";
		tui_text(c, msg, (size_t)-1, p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
		return;
	}
	struct mcols w;
	layout(tui_canvas_width(c), &w);
	tui_column(c, "METRIC", ROLE_HEADER, w.name, 0);
	tui_column(c, "WORKFLOW", ROLE_HEADER, w.wf, 0);
	tui_column(c, "LAST", ROLE_HEADER, w.last, TEXT_RIGHT);
	tui_column(c, "CHANGE", ROLE_HEADER, w.change, TEXT_RIGHT);
	tui_column(c, "TREND", ROLE_HEADER, w.trend, 0);
	tui_column(c, "STATE", ROLE_HEADER, w.state, 0);
	tui_column(c, "CHANGE POINT", ROLE_HEADER, w.cp, 0);
	tui_canvas_fill(c, ROLE_HEADER);
}

static void open_chart(struct view *v, struct metrics_priv *p)
{
	const struct metric_hist *h = item_at(v, v->cursor, NULL);
	if (!h)
		return;
	/* a row from the summary cache holds only some points: the chart
	 * reads its one series */
	struct chart_view_arg a = {.name = h->name, .workflow = h->workflow, .branch = p->branch,
				   .h = h->total ? NULL : h};
	tui_open(&chart_view_ops, &a, OPEN_PUSH);
}

static void set_sort(struct view *v, enum msort s)
{
	struct metrics_priv *p = v->priv;
	const struct metric_hist *cur = item_at(v, v->cursor, NULL);
	p->sort = s;
	if (!p->loaded)
		return;
	sort_rows(p);
	for (int i = 0; cur && i < p->set.n; i++)
		if (&p->set.items[p->order[i]] == cur)
			tui_view_goto(v, i);
	tui_message("sorted by %s", msort_names[s]);
}

static void on_filter(void *ctx, const char *text)
{
	struct view *v = ctx;
	struct metrics_priv *p = v->priv;
	if (!text || !set_filter(p, text))
		return;
	reload(v);
	tui_view_goto(v, 0);
	tui_message("%d metric%s%s%s", p->loaded ? p->set.n : 0,
		    p->loaded && p->set.n == 1 ? "" : "s", p->filter_text[0] ? " match " : "",
		    p->filter_text);
}

static enum action metrics_request(struct view *v, enum action a, unsigned *eff)
{
	struct metrics_priv *p = v->priv;
	const struct metric_summary *s;
	const struct metric_hist *h;
	switch ((int)a) {
	case ACT_ENTER:
		open_chart(v, p);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FILTER:
		tui_prompt("filter (PATTERN workflow:W branch:B): ", p->filter_text, on_filter, v);
		return ACT_NONE;
	case ACT_SORT:
		set_sort(v, (enum msort)((p->sort + 1) % MS_COUNT));
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_REFRESH:
		reload(v);
		tui_message("reloaded");
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_VIEW_BISECT:
		h = item_at(v, v->cursor, &s);
		if (h)
			bisect_cp(h, s->cp);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_VIEW_DIFF:
		h = item_at(v, v->cursor, NULL);
		if (h)
			diff_points(h, h->n - 1);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_METRIC_ACK:
		h = item_at(v, v->cursor, &s);
		if (h && !h->cps_done)
			tui_error("change points are still being found: a moment");
		else if (h)
			ack_cp(v, h, s->cp, reload);
		return ACT_NONE;
	default:
		return a;
	}
}

static bool metrics_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	struct metrics_priv *p = v->priv;
	if (!strcmp(cmd, "filter")) {
		on_filter(v, arg ? arg : "");
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "sort")) {
		for (int s = 0; s < MS_COUNT; s++)
			if (arg && !strcmp(arg, msort_names[s])) {
				set_sort(v, (enum msort)s);
				*eff |= EFF_REDRAW;
				return true;
			}
		tui_error("usage: :sort name|state|change|change-point");
		(void)p;
		return true;
	}
	return views_command(v, cmd, arg, eff);
}

static void metrics_title(struct view *v, char *out, size_t n)
{
	struct metrics_priv *p = v->priv;
	snprintf(out, n, "metrics \u00b7 %s%s%s%s", p->sort == MS_NAME ? "" : "by ",
		 p->sort == MS_NAME ? "name" : msort_names[p->sort],
		 p->filter_text[0] ? " \u00b7 filter: " : "", p->filter_text);
}

static void metrics_status(struct view *v, char *out, size_t n)
{
	struct metrics_priv *p = v->priv;
	int fail = 0, warn = 0, cps = 0;
	for (int i = 0; p->loaded && i < p->set.n; i++) {
		fail += p->sum[i].state == TH_BREACH_FAIL;
		warn += p->sum[i].state == TH_BREACH_WARN;
		cps += p->sum[i].cp && !p->sum[i].cp->acked;
	}
	int total = p->loaded ? p->set.n : 0;
	snprintf(out, n, "%d metric%s \u00b7 %d fail \u00b7 %d warn \u00b7 %d changed", total,
		 total == 1 ? "" : "s", fail, warn, cps);
}

static bool metrics_match(struct view *v, long row, const char *query)
{
	const struct metric_hist *h = item_at(v, row, NULL);
	return h && query && (strcasestr(h->name, query) || strcasestr(h->workflow, query));
}

static void metrics_env(struct view *v, void *out)
{
	struct metrics_priv *p = v->priv;
	struct view_env *env = out;
	env->workflow = p->workflow;
	env->branch = p->branch;
	const struct metric_hist *h = item_at(v, v->cursor, NULL);
	if (!h || h->n <= 0)
		return;
	const struct metric_point *pt = &h->pts[h->n - 1];
	env->run = pt->run;
	snprintf(env->commit, sizeof(env->commit), "%s", pt->sha ? pt->sha : "");
}

static void metrics_done(struct view *v)
{
	struct metrics_priv *p = v->priv;
	release_data(p);
	free(p->workflow);
	free(p->branch);
	free(p->pattern);
	free(p->filter_text);
}

const struct view_ops metrics_view_ops = {
	.name = "metrics",
	.private_size = sizeof(struct metrics_priv),
	.open = metrics_open,
	.load = metrics_load_rows,
	.draw = metrics_draw,
	.header = metrics_header,
	.request = metrics_request,
	.command = metrics_command,
	.title = metrics_title,
	.status = metrics_status,
	.match = metrics_match,
	.done = metrics_done,
	.env = metrics_env,
};

/* === the chart ================================================================= */
struct chart_priv {
	char *name, *workflow, *branch;
	struct th_conf tc;
	struct metric_set set;
	struct metric_hist *h;  /* the series, in set */
	struct th_eval *evals;  /* at the newest point: the threshold lines */
	int n_evals;
	long cur;               /* the point at the cursor */
	struct chart_text text;
	bool rendered;
	int text_w, text_h;
	long text_cur;
	bool utf8;
	char x_title[160];
	char error[1024];
};

/* The chart's rows: all but the point's row, or all of them where the
 * chart would not fit else (the status bar names the point then). */
static bool point_row(const struct view *v)
{
	return v->height >= 7;
}

static int chart_height(const struct view *v)
{
	return point_row(v) ? v->height - 1 : v->height;
}

static void chart_render_now(struct view *v, int width)
{
	struct chart_priv *p = v->priv;
	int height = chart_height(v);
	if (p->rendered && p->text_w == width && p->text_h == height && p->text_cur == p->cur)
		return;
	if (p->rendered)
		chart_text_release(&p->text);
	struct metric_plot mp;
	metric_plot_init(&mp, p->h, p->evals, p->n_evals);
	/* the title bar names the metric: the legend keeps its room for the
	 * lines and the change points */
	mp.chart.title = NULL;
	mp.chart.has_cursor = true;
	mp.chart.cursor_x = (double)p->cur;
	/* the dates under the axis where there is room for them */
	mp.chart.x_title = height >= 12 ? p->x_title : NULL;
	chart_render(&mp.chart, width, height < 1 ? 1 : height, p->utf8, &p->text);
	metric_plot_release(&mp);
	p->rendered = true;
	p->text_w = width;
	p->text_h = height;
	p->text_cur = p->cur;
}

static int chart_rows(struct view *v)
{
	struct chart_priv *p = v->priv;
	if (!p->h) {
		tui_view_set_rows(v, 1);
		return 0;
	}
	chart_render_now(v, v->width);
	tui_view_set_rows(v, p->text.n + (point_row(v) ? 1 : 0));
	tui_view_goto(v, v->rows - 1);
	return 0;
}

static void chart_release_data(struct chart_priv *p)
{
	if (p->rendered)
		chart_text_release(&p->text);
	p->rendered = false;
	free(p->evals);
	p->evals = NULL;
	p->n_evals = 0;
	metric_set_release(&p->set);
	th_conf_release(&p->tc);
	p->h = NULL;
}

/* Read the series (open, refresh); the cursor stays on its point when it
 * is still there, else goes to the newest. */
static int chart_load_data(struct view *v, const struct metric_hist *from)
{
	struct chart_priv *p = v->priv;
	long keep = p->h ? p->cur : -1;
	chart_release_data(p);
	p->error[0] = '\0';
	struct cs_err err;
	struct metrics_query q = {.name = p->name, .branch = p->branch};
	if (from) {
		/* the table's series: no second query */
		memset(&p->set, 0, sizeof(p->set));
		p->set.items = xcalloc(1, sizeof(*p->set.items));
		p->set.n = 1;
		metric_hist_copy(&p->set.items[0], from);
		if (th_conf_load(&p->tc, NULL, &err) < 0 ||
		    metrics_changepoints(app.st, &p->set.items[0], &p->tc.cp, &err) < 0) {
			snprintf(p->error, sizeof(p->error), "%s", err.msg);
			return chart_rows(v);
		}
	} else if (load_series(&q, LOAD_JUDGED, &p->tc, &p->set, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return chart_rows(v);
	}
	for (int i = 0; i < p->set.n; i++)
		if (!strcmp(p->set.items[i].workflow, p->workflow))
			p->h = &p->set.items[i];
	if (!p->h || p->h->n <= 0) {
		p->h = NULL;
		snprintf(p->error, sizeof(p->error), "%s%s%s%s has no points", p->name,
			 *p->workflow ? " (" : "", p->workflow, *p->workflow ? ")" : "");
		return chart_rows(v);
	}
	p->n_evals = th_evaluate(&p->tc, p->h, p->h->n - 1, &p->evals);
	p->cur = keep >= 0 && keep < p->h->n ? keep : p->h->n - 1;
	char a0[40], a1[40];
	time_format_iso(p->h->pts[0].at, a0, sizeof(a0));
	time_format_iso(p->h->pts[p->h->n - 1].at, a1, sizeof(a1));
	snprintf(p->x_title, sizeof(p->x_title), "commits, oldest first: %.10s .. %.10s", a0, a1);
	return chart_rows(v);
}

static int chart_open(struct view *v, void *arg)
{
	struct chart_priv *p = v->priv;
	const struct chart_view_arg *a = arg;
	if (!a || !a->name) {
		tui_error("the chart opens on a metric: Enter in the metrics view");
		return -1;
	}
	p->name = xstrdup(a->name);
	p->workflow = xstrdup(a->workflow ? a->workflow : "");
	p->branch = a->branch ? xstrdup(a->branch) : NULL;
	p->utf8 = utf8_screen();
	return chart_load_data(v, a->h);
}

static enum role chart_role_to(enum chart_role r)
{
	switch (r) {
	case CHART_AXIS: return ROLE_DIM;
	case CHART_REF: return ROLE_NOTICE_LINE;
	case CHART_CAND: return ROLE_NOTICE_LINE;
	case CHART_DELTA: return ROLE_DIFF_UPDATED;
	case CHART_THRESHOLD: return ROLE_WARNING_LINE;
	case CHART_FAIL: return ROLE_ERROR_LINE;
	case CHART_MARK: return ROLE_GROUP_LINE;
	default: return ROLE_DEFAULT;
	}
}

/* "run 9809254290 · f60058c · 2026-10-05 14:03 · 241 MB": the point at
 * the cursor (the status bar says which of the points it is) */
static void point_text(struct chart_priv *p, struct buf *b)
{
	const struct metric_hist *h = p->h;
	const struct metric_point *pt = &h->pts[p->cur];
	char ref[RUN_REF_MAX], t[40], val[48];
	time_format_iso(pt->at, t, sizeof(t));
	value_text(h, pt->value, val, sizeof(val));
	buf_addf(b, "run %s \u00b7 %.7s \u00b7 %.10s %.5s \u00b7 %s",
		 run_ref(ref, sizeof(ref), pt->provider_id, pt->attempt),
		 pt->sha ? pt->sha : "-", t, strlen(t) > 11 ? t + 11 : "", val);
	for (int k = 0; k < h->n_cps; k++)
		if (h->cps[k].idx == p->cur) {
			char cp[96];
			cp_text(h, &h->cps[k], false, cp, sizeof(cp));
			buf_addf(b, " \u00b7 change point %s", cp);
		}
}

static void chart_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct chart_priv *p = v->priv;
	if (!p->h) {
		if (row == 0)
			tui_text(c, p->error, (size_t)-1, ROLE_STATUS_ERROR, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	chart_render_now(v, tui_canvas_width(c));
	if (row < p->text.n) {
		const struct chart_line *l = &p->text.lines[row];
		for (int s = 0; s < l->n_spans; s++)
			tui_text(c, l->text + l->spans[s].off, l->spans[s].len,
				 chart_role_to(l->spans[s].role), 0, 0);
	} else if (row == p->text.n && point_row(v)) {
		struct buf b = BUF_INIT;
		point_text(p, &b);
		tui_text(c, buf_cstr(&b), b.len, ROLE_DEFAULT, 0, 0);
		buf_release(&b);
	}
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void move_to(struct view *v, long i)
{
	struct chart_priv *p = v->priv;
	if (i < 0)
		i = 0;
	if (i >= p->h->n)
		i = p->h->n - 1;
	p->cur = i;
	tui_view_goto(v, v->rows - 1);
}

/* The change point at or before the cursor (else the first after it). */
static const struct metric_cp *cp_at(const struct chart_priv *p)
{
	const struct metric_cp *best = NULL;
	for (int k = 0; k < p->h->n_cps; k++)
		if (p->h->cps[k].idx <= p->cur || !best)
			best = &p->h->cps[k];
	return best;
}

/* After an acknowledgement: the chart from the index, and the table under
 * it (its change point column and counts). */
static void chart_acked(struct view *v)
{
	chart_load_data(v, NULL);
	if (v->parent && v->parent->ops == &metrics_view_ops)
		reload(v->parent);
}

static enum action chart_request(struct view *v, enum action a, unsigned *eff)
{
	struct chart_priv *p = v->priv;
	if (!p->h && a == ACT_REFRESH) {
		chart_load_data(v, NULL);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	}
	if (!p->h)
		return a;
	long page = p->h->n / 10 > 1 ? p->h->n / 10 : 1;
	switch ((int)a) {
	case ACT_SCROLL_LEFT: move_to(v, p->cur - 1); break;
	case ACT_SCROLL_RIGHT: move_to(v, p->cur + 1); break;
	case ACT_MOVE_FIRST: move_to(v, 0); break;
	case ACT_MOVE_LAST: move_to(v, p->h->n - 1); break;
	case ACT_PAGE_UP:
	case ACT_HALF_PAGE_UP: move_to(v, p->cur - page); break;
	case ACT_PAGE_DOWN:
	case ACT_HALF_PAGE_DOWN: move_to(v, p->cur + page); break;
	case ACT_MOVE_UP: { /* the previous change point */
		long to = -1;
		for (int k = 0; k < p->h->n_cps; k++)
			if (p->h->cps[k].idx < p->cur)
				to = p->h->cps[k].idx;
		if (to < 0)
			tui_message("no change point before this point");
		else
			move_to(v, to);
		break;
	}
	case ACT_MOVE_DOWN: {
		long to = -1;
		for (int k = p->h->n_cps - 1; k >= 0; k--)
			if (p->h->cps[k].idx > p->cur)
				to = p->h->cps[k].idx;
		if (to < 0)
			tui_message("no change point after this point");
		else
			move_to(v, to);
		break;
	}
	case ACT_ENTER: {
		struct run_view_arg ra = {.run_row_id = p->h->pts[p->cur].run};
		tui_open(&run_view_ops, &ra, OPEN_PUSH);
		break;
	}
	case ACT_VIEW_DIFF: diff_points(p->h, p->cur); break;
	case ACT_VIEW_BISECT: bisect_cp(p->h, cp_at(p)); break;
	case ACT_METRIC_ACK: ack_cp(v, p->h, cp_at(p), chart_acked); break;
	case ACT_REFRESH:
		chart_load_data(v, NULL);
		tui_message("reloaded");
		break;
	default:
		return a;
	}
	*eff |= EFF_REDRAW;
	return ACT_NONE;
}

static bool chart_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	struct chart_priv *p = v->priv;
	if (!strcmp(cmd, "goto") && p->h) {
		/* :goto N (:N) counts points, as the status bar does */
		char *end;
		long n = strtol(arg ? arg : "", &end, 10);
		if (!arg || !*arg || *end || n < 1)
			tui_error("goto: '%s' is not a point number (1 to %ld)", arg ? arg : "", p->h->n);
		else
			move_to(v, n - 1);
		*eff |= EFF_REDRAW;
		return true;
	}
	return views_command(v, cmd, arg, eff);
}

static void chart_title(struct view *v, char *out, size_t n)
{
	struct chart_priv *p = v->priv;
	/* the title is drawn before the rows: a resized screen gets the rows
	 * of the chart at its new size here (resizing calls no load) */
	if (p->h) {
		chart_render_now(v, v->width);
		long want = p->text.n + (point_row(v) ? 1 : 0);
		if (v->rows != want) {
			tui_view_set_rows(v, want);
			tui_view_goto(v, want - 1);
		}
	}
	const char *unit = p->h ? p->h->unit : NULL;
	snprintf(out, n, "chart \u00b7 %s%s%s%s%s%s", p->name ? p->name : "-",
		 p->workflow && *p->workflow ? " (" : "", p->workflow ? p->workflow : "",
		 p->workflow && *p->workflow ? ")" : "", unit ? " \u00b7 " : "", unit ? unit : "");
}

/* Where the cursor is, in points ("point 28 of 31"), once: the chart's
 * last row names the point's run, commit, date and value, and where the
 * chart leaves no room for that row, the status bar names them instead. */
static void chart_status(struct view *v, char *out, size_t n)
{
	struct chart_priv *p = v->priv;
	if (!p->h) {
		snprintf(out, n, "no points");
		return;
	}
	int len = snprintf(out, n, "point %ld of %ld", p->cur + 1, p->h->n);
	if (point_row(v) || len < 0 || (size_t)len >= n)
		return;
	const struct metric_point *pt = &p->h->pts[p->cur];
	char ref[RUN_REF_MAX], t[40], val[48];
	time_format_iso(pt->at, t, sizeof(t));
	value_text(p->h, pt->value, val, sizeof(val));
	snprintf(out + len, n - (size_t)len, " \u00b7 run %s \u00b7 %.7s \u00b7 %.10s \u00b7 %s",
		 run_ref(ref, sizeof(ref), pt->provider_id, pt->attempt), pt->sha ? pt->sha : "-", t,
		 val);
}

static void chart_env(struct view *v, void *out)
{
	struct chart_priv *p = v->priv;
	struct view_env *env = out;
	if (!p->h)
		return;
	const struct metric_point *pt = &p->h->pts[p->cur];
	env->run = pt->run;
	env->in_run = false;
	snprintf(env->commit, sizeof(env->commit), "%s", pt->sha ? pt->sha : "");
	env->workflow = *p->workflow ? p->workflow : NULL;
	env->branch = p->branch;
}

static void chart_done(struct view *v)
{
	struct chart_priv *p = v->priv;
	chart_release_data(p);
	free(p->name);
	free(p->workflow);
	free(p->branch);
}

const struct view_ops chart_view_ops = {
	.name = "chart",
	.private_size = sizeof(struct chart_priv),
	.open = chart_open,
	.load = chart_rows,
	.draw = chart_draw,
	.request = chart_request,
	.command = chart_command,
	.title = chart_title,
	.status = chart_status,
	.done = chart_done,
	.env = chart_env,
	/* "point 28 of 31", not the rows of the drawing */
	.own_position = true,
};
