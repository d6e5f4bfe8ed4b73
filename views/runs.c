/* runs.c - the run list: newest first, paged from the index.
 *
 * Only a window of rows (WIN runs around the visible ones) is held; a row
 * outside it refills the window with one query (store_runs with limit and
 * offset), so 100,000 runs scroll without being loaded. The row count and
 * the status-bar counts come from one counting query, redone when another
 * process commits to the index (a poll of its data version every LIVE_MS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gitrepo.h"
#include "core/metrics.h"
#include "core/runquery.h"
#include "core/store.h"
#include "core/triage.h"
#include "views/common.h"
#include "views/views.h"

#define WIN 200
#define LIVE_MS 2000

struct runs_priv {
	struct run_query q;
	char *filter_text;   /* canonical text of q, "" when none */
	enum run_sort sort;
	struct run_counts counts;
	bool counts_ok;
	struct run_widths widths; /* longest names, for the column widths */
	struct run win[WIN];
	bool flaky[WIN];      /* failed only by known flaky failures (triage) */
	unsigned flaky_gen;   /* app.triage_gen when flaky[] was filled */
	bool breach[WIN];     /* breaches a fail threshold (core/metrics.h) */
	struct th_conf th;    /* read once, when the view opens */
	bool th_ok;           /* th read and has a fail bound */
	int win_n;
	long win_off;
	bool win_valid;
	int64_t version;
	char error[1024];     /* why the list is empty (a database error) */
	struct buf subj;
};

/* --- data ------------------------------------------------------------------------- */
static void make_filter(const struct runs_priv *p, struct run_filter *f)
{
	memset(f, 0, sizeof(*f));
	run_query_apply(&p->q, f);
	f->sort = p->sort;
}

static void drop_window(struct runs_priv *p)
{
	for (int i = 0; i < p->win_n; i++)
		run_free(&p->win[i]);
	p->win_n = 0;
	p->win_valid = false;
}

static int collect(void *ctx, const struct run *r)
{
	struct runs_priv *p = ctx;
	if (p->win_n >= WIN)
		return 1;
	run_copy(&p->win[p->win_n++], r);
	return 0;
}

/* Which runs of the window failed only by known flaky failures: one query
 * per window, again after a triage state changed. */
static void mark_flaky(struct runs_priv *p)
{
	int64_t ids[WIN];
	struct cs_err err;
	for (int i = 0; i < p->win_n; i++)
		ids[i] = p->win[i].id;
	if (triage_runs_known_flaky(app.st, ids, p->win_n, p->flaky, &err) < 0)
		memset(p->flaky, 0, sizeof(p->flaky));
	p->flaky_gen = app.triage_gen;
}

/* Which runs of the window breach a fail threshold at their own points:
 * judged once per window, by the code `ciscope check` uses. */
static void mark_breaches(struct runs_priv *p)
{
	memset(p->breach, 0, sizeof(p->breach));
	if (!p->th_ok || !p->win_n)
		return;
	int64_t ids[WIN];
	struct th_run_state out[WIN];
	struct cs_err err;
	for (int i = 0; i < p->win_n; i++)
		ids[i] = p->win[i].id;
	if (metrics_run_thresholds(app.st, &p->th, ids, p->win_n, out, &err) < 0)
		return;
	for (int i = 0; i < p->win_n; i++)
		p->breach[i] = out[i].state == TH_BREACH_FAIL;
}

/* The run at row, refilling the window around the visible rows if needed. */
static const struct run *run_at(struct view *v, long row)
{
	struct runs_priv *p = v->priv;
	if (p->win_valid && p->flaky_gen != app.triage_gen)
		mark_flaky(p);
	if (p->win_valid && row >= p->win_off && row < p->win_off + p->win_n)
		return &p->win[row - p->win_off];
	if (p->win_valid && row >= p->win_off && p->win_n < WIN)
		return NULL; /* past the end of the list */
	drop_window(p);
	/* centre the window on the screen, so scrolling either way stays in it */
	long off = (row >= v->top && row < v->top + v->height ? v->top : row) -
		   (WIN - (v->height > 0 ? v->height : 0)) / 2;
	if (off > row)
		off = row;
	if (off < 0)
		off = 0;
	struct run_filter f;
	make_filter(p, &f);
	f.limit = WIN;
	f.offset = (int)off;
	struct cs_err err;
	err_clear(&err);
	if (store_runs(app.st, &f, collect, p, &err) < 0) {
		drop_window(p);
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return NULL;
	}
	p->win_off = off;
	p->win_valid = true;
	mark_flaky(p);
	mark_breaches(p);
	if (row >= off && row < off + p->win_n)
		return &p->win[row - off];
	return NULL;
}

static void recount(struct view *v)
{
	struct runs_priv *p = v->priv;
	struct run_filter f;
	struct cs_err err;
	err_clear(&err);
	make_filter(p, &f);
	p->version = store_data_version(app.st);
	if (store_run_counts_widths(app.st, &f, &p->counts, &p->widths, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		memset(&p->counts, 0, sizeof(p->counts));
		memset(&p->widths, 0, sizeof(p->widths));
		p->counts_ok = false;
	} else {
		p->error[0] = '\0';
		p->counts_ok = true;
	}
	drop_window(p);
	/* an empty list still has a row: the message saying why */
	tui_view_set_rows(v, p->counts.total > 0 ? p->counts.total : 1);
}

static void live_tick(struct view *v)
{
	struct runs_priv *p = v->priv;
	int64_t ver = store_data_version(app.st);
	if (ver != p->version) {
		/* keep the cursor on its run, wherever the change moved it */
		long cur = v->cursor;
		const struct run *r = p->counts.total > 0 ? run_at(v, cur) : NULL;
		int64_t id = r ? r->id : 0;
		recount(v);
		if (id) {
			struct run_filter f;
			struct cs_err err;
			make_filter(p, &f);
			long at = store_run_index(app.st, &f, id, &err);
			if (at >= 0)
				cur = at;
		}
		tui_view_goto(v, cur < v->rows ? cur : v->rows - 1);
		tui_view_dirty(v);
	} else if (p->counts.in_progress > 0) {
		tui_view_dirty(v); /* elapsed times move on */
	}
	view_timer(v, LIVE_MS, live_tick);
}

/* --- layout ------------------------------------------------------------------------- */
struct cols {
	int wf, br, sha, ev, att, dur, age; /* widths without the separating space; 0: hidden */
};

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void layout(int width, const struct run_widths *rw, struct cols *c)
{
	c->wf = clamp(rw->workflow, 4, width >= 160 ? 30 : 20);
	c->br = clamp(rw->branch, 6, width >= 160 ? 32 : 20);
	c->sha = 7;
	c->ev = clamp(rw->event, 4, 12);
	c->att = 2;
	c->dur = 7;
	c->age = 10;
	/* what goes first when the subject gets too narrow */
	struct {
		int *col, to;
	} steps[] = {
		{&c->br, 16}, {&c->ev, 0},  {&c->br, 12}, {&c->wf, 12}, {&c->sha, 0}, {&c->age, 0},
		{&c->att, 0}, {&c->br, 8},  {&c->dur, 0}, {&c->br, 0},  {&c->wf, 6},
	};
	int subject_min = width / 4 > 16 ? width / 4 : 16;
	for (size_t k = 0;; k++) {
		int fixed = 2; /* glyph and space */
		int *all[] = {&c->wf, &c->br, &c->sha, &c->ev, &c->att, &c->dur, &c->age};
		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			if (*all[i])
				fixed += *all[i] + 1;
		if (fixed + subject_min <= width || k >= ARRAY_SIZE(steps))
			break;
		if (*steps[k].col > steps[k].to)
			*steps[k].col = steps[k].to;
	}
}

/* The subject takes what the fixed columns leave (from the canvas column
 * it starts at), its separating blank included. */
static int subject_width(const struct tui_canvas *c, const struct cols *w)
{
	int right = 0;
	int rights[] = {w->ev, w->att, w->dur, w->age};
	for (size_t i = 0; i < ARRAY_SIZE(rights); i++)
		if (rights[i])
			right += rights[i] + 1;
	return tui_canvas_width(c) - tui_canvas_col(c) - right;
}

/* Long event names, shortened to fit the column. */
static const char *short_event(const char *e)
{
	static const char *const names[][2] = {
		{"workflow_dispatch", "dispatch"},
		{"pull_request_target", "pr_target"},
		{"repository_dispatch", "repo_dispatch"},
		{"pull_request_review", "pr_review"},
		{"pull_request_review_comment", "pr_comment"},
	};
	for (size_t i = 0; e && i < ARRAY_SIZE(names); i++)
		if (!strcmp(e, names[i][0]))
			return names[i][1];
	return e;
}

/* --- ops ------------------------------------------------------------------------------ */
static void apply_filter(struct view *v, const char *text);

static int runs_open(struct view *v, void *arg)
{
	struct runs_priv *p = v->priv;
	const struct runs_view_arg *a = arg;
	buf_init(&p->subj);
	p->filter_text = xstrdup("");
	struct cs_err err;
	/* no thresholds file (or a bad one: `ciscope check` names it) marks nothing */
	p->th_ok = th_conf_load(&p->th, NULL, &err) == 0;
	if (p->th_ok && !th_conf_can_fail(&p->th)) {
		th_conf_release(&p->th);
		p->th_ok = false;
	}
	recount(v);
	/* opened on a filter (the runs of one commit, from commits or bisect) */
	if (a && a->filter && *a->filter)
		apply_filter(v, a->filter);
	view_timer(v, LIVE_MS, live_tick);
	return 0;
}

static int runs_load(struct view *v)
{
	recount(v);
	return 0;
}

static void draw_message(struct view *v, struct tui_canvas *c)
{
	struct runs_priv *p = v->priv;
	const char *msg;
	if (p->error[0])
		msg = p->error;
	else if (!run_query_empty(&p->q))
		msg = "no runs match the filter (f changes it; an empty filter shows every run)";
	else
		msg = "the index holds no runs: import run folders with `ciscope import PATH`";
	tui_text(c, msg, (size_t)-1, p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void runs_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct runs_priv *p = v->priv;
	if (p->counts.total <= 0) {
		if (row == 0)
			draw_message(v, c);
		return;
	}
	const struct run *r = run_at(v, row);
	if (!r) {
		if (p->error[0] && row == v->top)
			draw_message(v, c);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	struct cols w;
	layout(tui_canvas_width(c), &p->widths, &w);
	const char *state = run_state(r);
	if (p->flaky[r - p->win] && ci_conclusion_is_failure(r->conclusion))
		tui_text(c, "~", 1, ROLE_FLAKY, 1, TEXT_PAD); /* every failure known flaky */
	else
		tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 1, TEXT_PAD);
	if (p->breach[r - p->win]) /* a fail threshold breached: the gap marks it */
		tui_text(c, tui_glyph("\u25b2", "!"), (size_t)-1, view_state_role("failure"), 1, TEXT_PAD);
	else
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	tui_column(c, r->workflow ? r->workflow : "-", ROLE_DEFAULT, w.wf, 0);
	tui_column(c, r->branch ? r->branch : "-", ROLE_BRANCH, w.br, 0);
	char sha[8] = "-";
	if (r->sha && *r->sha)
		snprintf(sha, sizeof(sha), "%.7s", r->sha);
	tui_column(c, sha, ROLE_SHA, w.sha, 0);

	int subj_w = subject_width(c, &w);
	const char *subject = NULL;
	if (gitrepo_subject(app.repo, r->sha, &p->subj))
		subject = p->subj.data;
	else if (r->commit_subject && *r->commit_subject)
		subject = r->commit_subject;
	else
		subject = r->title ? r->title : "";
	if (subj_w > 1)
		tui_column(c, subject, ROLE_DEFAULT, subj_w - 1, 0);
	tui_column(c, short_event(r->event), ROLE_DIM, w.ev, 0);
	char att[24] = "";
	if (r->attempt > 1)
		snprintf(att, sizeof(att), "#%d", r->attempt);
	tui_column(c, att, ROLE_DIM, w.att, TEXT_RIGHT);
	char dur[32] = "";
	int64_t now = time_now_ms();
	enum role dur_role = ROLE_DEFAULT;
	if (r->duration_ms != CS_TIME_NONE) {
		time_format_duration(r->duration_ms, dur, sizeof(dur));
	} else if (r->status && strcmp(r->status, "completed") != 0) {
		int64_t start = r->started_at != CS_TIME_NONE ? r->started_at : r->created_at;
		/* a live elapsed time; a day or more means the index is older
		 * than the run's end, not a run that long */
		if (start != CS_TIME_NONE && now >= start && now - start < 86400000)
			time_format_duration(now - start, dur, sizeof(dur));
		else
			snprintf(dur, sizeof(dur), "%s",
				 !strcmp(r->status, "in_progress") ? "running" : r->status);
		dur_role = ROLE_RUNNING;
	} else {
		/* completed with no known duration (local CI results): a dash, not 0s */
		snprintf(dur, sizeof(dur), "-");
		dur_role = ROLE_DIM;
	}
	tui_column(c, dur, dur_role, w.dur, TEXT_RIGHT);
	char age[32] = "";
	if (r->created_at != CS_TIME_NONE)
		time_format_age(r->created_at, now, age, sizeof(age));
	tui_column(c, age, ROLE_DIM, w.age, TEXT_RIGHT);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

/* A column's name, or its short name when the long one does not fit (a
 * still narrower column cuts it, as it cuts the values). */
static void head_column(struct tui_canvas *c, const char *name, const char *short_name, int width,
			unsigned flags)
{
	if (!width)
		return;
	const char *s = tui_width(name, (size_t)-1) <= width ? name : short_name;
	tui_column(c, s, ROLE_HEADER, width, flags);
}

/* The column names, laid out as the rows are (the columns they drop go). */
static void runs_header(struct view *v, struct tui_canvas *c)
{
	struct runs_priv *p = v->priv;
	if (p->counts.total <= 0)
		return;
	struct cols w;
	layout(tui_canvas_width(c), &p->widths, &w);
	tui_text(c, "", 0, ROLE_HEADER, 2, TEXT_PAD); /* state glyph and mark */
	head_column(c, "WORKFLOW", "FLOW", w.wf, 0);
	head_column(c, "BRANCH", "BR", w.br, 0);
	head_column(c, "SHA", "SHA", w.sha, 0);
	int subj_w = subject_width(c, &w);
	if (subj_w > 1)
		head_column(c, "TITLE", "TITLE", subj_w - 1, 0);
	head_column(c, "EVENT", "EV", w.ev, 0);
	head_column(c, "#", "#", w.att, TEXT_RIGHT);
	head_column(c, "DURATION", "TIME", w.dur, TEXT_RIGHT);
	head_column(c, "AGE", "AGE", w.age, TEXT_RIGHT);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void apply_filter(struct view *v, const char *text)
{
	struct runs_priv *p = v->priv;
	struct run_query q;
	struct cs_err err;
	err_clear(&err);
	if (run_query_parse(text, &q, &err) < 0) {
		run_query_free(&q);
		tui_error("%s", err.msg);
		return;
	}
	run_query_free(&p->q);
	p->q = q;
	struct buf b = BUF_INIT;
	run_query_format(&p->q, &b);
	free(p->filter_text);
	p->filter_text = buf_detach(&b, NULL);
	if (!p->filter_text)
		p->filter_text = xstrdup("");
	recount(v);
	tui_view_goto(v, 0);
	tui_view_dirty(v);
	char n[32];
	view_fmt_count(p->counts.total, n, sizeof(n));
	if (run_query_empty(&p->q))
		tui_message("filter cleared: %s runs", n);
	else
		tui_message("%s runs match %s", n, p->filter_text);
}

static void on_filter(void *ctx, const char *text)
{
	if (text)
		apply_filter(ctx, text);
}

static void on_search(void *ctx, const char *text)
{
	(void)ctx;
	if (text && *text)
		view_open_log_search(text);
}

static void set_sort(struct view *v, enum run_sort s)
{
	struct runs_priv *p = v->priv;
	p->sort = s;
	recount(v);
	tui_view_goto(v, 0);
	tui_view_dirty(v);
	tui_message("sorted by %s", s == RUN_SORT_NEWEST ? "newest first" : run_sort_name(s));
}

static enum action runs_request(struct view *v, enum action a, unsigned *eff)
{
	struct runs_priv *p = v->priv;
	const struct run *r;
	char msg[512];
	switch (a) {
	case ACT_ENTER:
		r = p->counts.total > 0 ? run_at(v, v->cursor) : NULL;
		if (r) {
			struct run_view_arg arg = {.run_row_id = r->id};
			tui_open(&run_view_ops, &arg, OPEN_PUSH);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FILTER:
		tui_prompt("filter: ", p->filter_text, on_filter, v);
		return ACT_NONE;
	case ACT_SORT:
		set_sort(v, (enum run_sort)((p->sort + 1) % RUN_SORT_COUNT));
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_SEARCH:
	case ACT_SEARCH_BACK:
		tui_prompt("search all logs: ", NULL, on_search, v);
		return ACT_NONE;
	case ACT_OPEN_URL:
		r = p->counts.total > 0 ? run_at(v, v->cursor) : NULL;
		if (!r)
			return ACT_NONE;
		if (view_open_url(r->html_url, msg, sizeof(msg)) < 0)
			tui_error("%s", msg);
		else
			tui_message("%s", msg);
		return ACT_NONE;
	case ACT_REFRESH:
		recount(v);
		tui_message("reloaded");
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	default:
		return a;
	}
}

/* The selected run, and the workflow and branch the list is filtered to
 * (views opened from here keep them: view-triage). */
static void runs_env(struct view *v, void *out)
{
	struct runs_priv *p = v->priv;
	struct view_env *env = out;
	const struct run *r = p->counts.total > 0 ? run_at(v, v->cursor) : NULL;
	env->workflow = p->q.workflow;
	env->branch = p->q.branch;
	if (!r)
		return;
	env->run = r->id;
	env->run_rec = r;
	env->run_failed = ci_conclusion_is_failure(r->conclusion);
	snprintf(env->commit, sizeof(env->commit), "%s", r->sha ? r->sha : "");
}

static bool runs_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	if (!strcmp(cmd, "filter")) {
		apply_filter(v, arg ? arg : "");
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "sort")) {
		for (int s = 0; s < RUN_SORT_COUNT; s++) {
			if (arg && !strcmp(arg, run_sort_name((enum run_sort)s))) {
				set_sort(v, (enum run_sort)s);
				*eff |= EFF_REDRAW;
				return true;
			}
		}
		tui_error("usage: :sort newest|duration|workflow|branch|status");
		return true;
	}
	return views_command(v, cmd, arg, eff);
}

static void runs_title(struct view *v, char *out, size_t n)
{
	struct runs_priv *p = v->priv;
	const char *sort = p->sort == RUN_SORT_NEWEST ? "newest first" : run_sort_name(p->sort);
	if (p->filter_text && *p->filter_text)
		snprintf(out, n, "runs \u00b7 %s%s \u00b7 filter: %s",
			 p->sort == RUN_SORT_NEWEST ? "" : "by ", sort, p->filter_text);
	else
		snprintf(out, n, "runs \u00b7 %s%s", p->sort == RUN_SORT_NEWEST ? "" : "by ", sort);
}

static void runs_status(struct view *v, char *out, size_t n)
{
	struct runs_priv *p = v->priv;
	if (!p->counts_ok) {
		snprintf(out, n, "no runs");
		return;
	}
	/* a row is an attempt: "141 runs, 147 attempts" when some were re-run */
	char total[96], runs[32], failed[32], running[32];
	view_fmt_count(p->counts.runs, runs, sizeof(runs));
	if (p->counts.total != p->counts.runs) {
		char att[32];
		view_fmt_count(p->counts.total, att, sizeof(att));
		snprintf(total, sizeof(total), "%s run%s, %s attempts", runs,
			 p->counts.runs == 1 ? "" : "s", att);
	} else {
		snprintf(total, sizeof(total), "%s run%s", runs, p->counts.runs == 1 ? "" : "s");
	}
	view_fmt_count(p->counts.failed, failed, sizeof(failed));
	view_fmt_count(p->counts.in_progress, running, sizeof(running));
	if (v->width < 45)
		snprintf(out, n, "%s \u00b7 %s failed", runs, failed);
	else if (v->width < 100)
		snprintf(out, n, "%s \u00b7 %s failed", total, failed);
	else
		snprintf(out, n, "%s \u00b7 %s failed \u00b7 %s in progress", total, failed, running);
}

static bool runs_match(struct view *v, long row, const char *query)
{
	struct runs_priv *p = v->priv;
	const struct run *r = p->counts.total > 0 ? run_at(v, row) : NULL;
	if (!r || !query)
		return false;
	const char *fields[] = {r->workflow, r->branch, r->sha, r->title, r->commit_subject, r->event};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i] && strcasestr(fields[i], query))
			return true;
	return false;
}

static void runs_done(struct view *v)
{
	struct runs_priv *p = v->priv;
	view_timers_cancel(v);
	drop_window(p);
	if (p->th_ok)
		th_conf_release(&p->th);
	run_query_free(&p->q);
	free(p->filter_text);
	buf_release(&p->subj);
}

const struct view_ops runs_view_ops = {
	.name = "runs",
	.private_size = sizeof(struct runs_priv),
	.open = runs_open,
	.load = runs_load,
	.draw = runs_draw,
	.request = runs_request,
	.command = runs_command,
	.title = runs_title,
	.status = runs_status,
	.header = runs_header,
	.match = runs_match,
	.done = runs_done,
	.env = runs_env,
};
