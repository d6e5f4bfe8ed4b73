/* run.c - one run: its jobs and their steps as a tree.
 *
 * A job row shows its conclusion, name, error and warning counts, log state
 * and duration; its steps follow, indented. Enter opens the log pager at the
 * job (or at the step), o opens the job's page (or the run's) in a browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "views/common.h"
#include "views/views.h"

struct tree_row {
	int job;  /* index into jobs */
	int step; /* index into the job's steps, -1 for the job itself */
};

struct run_priv {
	struct run run;
	bool have_run;
	struct job *jobs;
	int n_jobs;
	struct tree_row *rows;
	size_t n_rows, rows_alloc;
	int64_t provider_id; /* what identifies the run across re-imports */
	int attempt;
	int64_t version;     /* of the index when loaded */
	char error[1024];
};

static void free_data(struct run_priv *p)
{
	if (p->have_run)
		run_free(&p->run);
	p->have_run = false;
	store_jobs_free(p->jobs, p->n_jobs);
	p->jobs = NULL;
	p->n_jobs = 0;
	free(p->rows);
	p->rows = NULL;
	p->n_rows = p->rows_alloc = 0;
}

/* spec: "#ROWID" or "ID:ATTEMPT" (a reload finds the run again after a
 * re-import gave it a new row id). */
static int load(struct view *v, const char *spec)
{
	struct run_priv *p = v->priv;
	struct cs_err err;
	err_clear(&err);
	free_data(p);
	p->error[0] = '\0';
	p->version = store_data_version(app.st);
	if (store_find_run(app.st, spec, &p->run, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		tui_view_set_rows(v, 1);
		return -1;
	}
	p->have_run = true;
	p->provider_id = p->run.provider_id;
	p->attempt = p->run.attempt;
	if (store_jobs(app.st, p->run.id, &p->jobs, &p->n_jobs, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		tui_view_set_rows(v, 1);
		return -1;
	}
	for (int j = 0; j < p->n_jobs; j++) {
		for (int s = -1; s < p->jobs[j].n_steps; s++) {
			XGROW(p->rows, p->rows_alloc, p->n_rows + 1);
			p->rows[p->n_rows++] = (struct tree_row){.job = j, .step = s};
		}
	}
	tui_view_set_rows(v, p->n_rows ? (long)p->n_rows : 1);
	return 0;
}

static int run_load(struct view *v);
static long first_failed_job(const struct run_priv *p);

/* Another process changed the index (an import of a newer state of this
 * run): show the run as it is now. */
static void live_tick(struct view *v)
{
	struct run_priv *p = v->priv;
	if (store_data_version(app.st) != p->version) {
		run_load(v);
		tui_view_dirty(v);
	}
	view_timer(v, 2000, live_tick);
}

static int run_open(struct view *v, void *arg)
{
	const struct run_view_arg *a = arg;
	char spec[32];
	int64_t id = a ? a->run_row_id : 0;
	if (!a) {
		/* view-run: the run selected where it was opened from */
		struct view_env env;
		view_env_of(v->parent, &env);
		if (!env.run) {
			tui_error("view-run: no run is selected here");
			return -1;
		}
		id = env.run;
	}
	snprintf(spec, sizeof(spec), "#%lld", (long long)id);
	/* set, not tui_view_goto(): the view scrolls as little as it must to
	 * show the cursor, as after a resize */
	if (load(v, spec) == 0)
		v->cursor = first_failed_job(v->priv);
	view_timer(v, 2000, live_tick);
	return 0;
}

static int run_load(struct view *v)
{
	struct run_priv *p = v->priv;
	char spec[48];
	if (!p->provider_id)
		return 0;
	snprintf(spec, sizeof(spec), "%lld:%d", (long long)p->provider_id, p->attempt);
	long cur = v->cursor;
	load(v, spec);
	tui_view_goto(v, cur < v->rows ? cur : v->rows - 1);
	return 0;
}

static int64_t span(int64_t start, int64_t end)
{
	return start != CS_TIME_NONE && end != CS_TIME_NONE && end >= start ? end - start
									   : CS_TIME_NONE;
}

static void draw_right(struct tui_canvas *c, const char *s, enum role role, int width)
{
	tui_text(c, s, (size_t)-1, role, width, TEXT_PAD | TEXT_RIGHT);
}

static void draw_job(struct view *v, struct tui_canvas *c, const struct job *j)
{
	int width = tui_canvas_width(c);
	const char *state = state_of(j->status, j->conclusion);
	tui_text(c, state_glyph(state), (size_t)-1, state_role(state), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);

	/* right side: findings, log, duration */
	char findings[64] = "", logs[64] = "", dur[32] = "";
	if (j->n_errors || j->n_warnings) {
		char e[24], w[24];
		fmt_count(j->n_errors, e, sizeof(e));
		fmt_count(j->n_warnings, w, sizeof(w));
		snprintf(findings, sizeof(findings), "%s error%s %s warning%s", e,
			 j->n_errors == 1 ? "" : "s", w, j->n_warnings == 1 ? "" : "s");
	}
	if (j->log_id) {
		char n[24];
		fmt_count(j->line_count, n, sizeof(n));
		snprintf(logs, sizeof(logs), "%s line%s", n, j->line_count == 1 ? "" : "s");
	} else {
		snprintf(logs, sizeof(logs), "log %s", j->log_state ? j->log_state : "missing");
	}
	time_format_duration(span(j->started_at, j->completed_at), dur, sizeof(dur));
	int fw = width >= 100 ? 24 : width >= 70 ? 20 : 0;
	int lw = width >= 50 ? 15 : 0;
	int dw = width >= 36 ? 8 : 0;
	int name_w = width - tui_canvas_col(c) - fw - lw - dw;
	if (name_w < 8) {
		fw = lw = 0;
		name_w = width - tui_canvas_col(c) - dw;
	}
	tui_text(c, j->name ? j->name : "", (size_t)-1, ROLE_DEFAULT, name_w > 0 ? name_w : 1,
		 TEXT_PAD);
	if (fw)
		draw_right(c, findings, j->n_errors ? ROLE_FAILURE : ROLE_WARNING_LINE, fw);
	if (lw)
		draw_right(c, logs, j->log_id ? ROLE_DIM : ROLE_SKIPPED, lw);
	if (dw)
		draw_right(c, dur, ROLE_DEFAULT, dw);
	tui_canvas_fill(c, ROLE_DEFAULT);
	(void)v;
}

static void draw_step(struct tui_canvas *c, const struct job *j, const struct step *s)
{
	int width = tui_canvas_width(c);
	const char *state = state_of(s->status, s->conclusion);
	tui_text(c, "  ", 2, ROLE_DEFAULT, 2, 0);
	tui_text(c, state_glyph(state), (size_t)-1, state_role(state), 1, TEXT_PAD);
	char num[16];
	snprintf(num, sizeof(num), " %3d ", s->number);
	tui_text(c, num, (size_t)-1, ROLE_DIM, 0, 0);
	char lines[64] = "", dur[32] = "";
	if (s->first_line > 0 && j->log_id) {
		char a[24], b[24];
		fmt_count(s->first_line, a, sizeof(a));
		fmt_count(s->last_line, b, sizeof(b));
		snprintf(lines, sizeof(lines), "lines %s-%s", a, b);
	}
	time_format_duration(span(s->started_at, s->completed_at), dur, sizeof(dur));
	int lw = width >= 70 ? 24 : 0;
	int dw = width >= 36 ? 8 : 0;
	int name_w = width - tui_canvas_col(c) - lw - dw;
	if (name_w < 6) {
		lw = 0;
		name_w = width - tui_canvas_col(c) - dw;
	}
	tui_text(c, s->name ? s->name : "", (size_t)-1, ROLE_DEFAULT, name_w > 0 ? name_w : 1,
		 TEXT_PAD);
	if (lw)
		draw_right(c, lines, ROLE_DIM, lw);
	if (dw)
		draw_right(c, dur, ROLE_DEFAULT, dw);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void run_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct run_priv *p = v->priv;
	if (p->error[0] || !p->n_rows) {
		if (row == 0)
			tui_text(c, p->error[0] ? p->error : "this run has no jobs in the index",
				 (size_t)-1, p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	if (row < 0 || (size_t)row >= p->n_rows)
		return;
	const struct tree_row *t = &p->rows[row];
	const struct job *j = &p->jobs[t->job];
	if (t->step < 0)
		draw_job(v, c, j);
	else
		draw_step(c, j, &j->steps[t->step]);
}

/* A row worth stopping at with e/E: a failed job or step, or a job whose
 * log has errors. */
static bool failing_row(const struct run_priv *p, size_t row)
{
	const struct tree_row *t = &p->rows[row];
	const struct job *j = &p->jobs[t->job];
	if (t->step < 0)
		return conclusion_is_failure(j->conclusion) || j->n_errors > 0;
	return conclusion_is_failure(j->steps[t->step].conclusion);
}

/* Where the cursor starts: on the first failed job (what a user opened a
 * red run for), else on the first job with errors, else on the first row. */
static long first_failed_job(const struct run_priv *p)
{
	long with_errors = -1;
	for (size_t r = 0; r < p->n_rows; r++) {
		const struct tree_row *t = &p->rows[r];
		if (t->step >= 0)
			continue;
		const struct job *j = &p->jobs[t->job];
		if (conclusion_is_failure(j->conclusion))
			return (long)r;
		if (with_errors < 0 && j->n_errors > 0)
			with_errors = (long)r;
	}
	return with_errors > 0 ? with_errors : 0;
}

static void jump_failure(struct view *v, struct run_priv *p, int dir)
{
	for (long r = v->cursor + dir; r >= 0 && (size_t)r < p->n_rows; r += dir) {
		if (failing_row(p, (size_t)r)) {
			tui_view_goto(v, r);
			return;
		}
	}
	tui_message("no failed job or step %s", dir > 0 ? "below" : "above");
}

static enum action run_request(struct view *v, enum action a, unsigned *eff)
{
	struct run_priv *p = v->priv;
	const struct tree_row *t =
		p->n_rows && v->cursor >= 0 && (size_t)v->cursor < p->n_rows ? &p->rows[v->cursor]
									     : NULL;
	char msg[512];
	switch (a) {
	case ACT_ENTER:
		if (t && store_data_version(app.st) != p->version) {
			/* the rows' ids may be gone: find the run again first */
			run_load(v);
			t = p->n_rows && (size_t)v->cursor < p->n_rows ? &p->rows[v->cursor] : NULL;
		}
		if (t) {
			const struct job *j = &p->jobs[t->job];
			struct log_view_arg arg = {.run_row_id = p->run.id, .job_row_id = j->id};
			if (t->step >= 0)
				arg.step_number = j->steps[t->step].number;
			tui_open(&log_view_ops, &arg, OPEN_PUSH);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_OPEN_URL: {
		const char *url = p->have_run ? p->run.html_url : NULL;
		if (t && p->jobs[t->job].html_url)
			url = p->jobs[t->job].html_url;
		if (open_url(url, msg, sizeof(msg)) < 0)
			tui_error("%s", msg);
		else
			tui_message("%s", msg);
		return ACT_NONE;
	}
	case ACT_NEXT_ERROR:
	case ACT_PREV_ERROR:
		if (p->n_rows)
			jump_failure(v, p, a == ACT_NEXT_ERROR ? 1 : -1);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_REFRESH:
		run_load(v);
		tui_message("reloaded");
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	default:
		return a;
	}
}

/* This run (views opened from here stay within it: view-triage shows its
 * failures only) and the job at the cursor. */
static void run_env(struct view *v, void *out)
{
	struct run_priv *p = v->priv;
	struct view_env *env = out;
	if (!p->have_run)
		return;
	env->run = p->run.id;
	env->run_rec = &p->run;
	env->run_failed = conclusion_is_failure(p->run.conclusion);
	env->in_run = true;
	snprintf(env->commit, sizeof(env->commit), "%s", p->run.sha ? p->run.sha : "");
	if (p->n_rows && v->cursor >= 0 && (size_t)v->cursor < p->n_rows)
		env->job = p->jobs[p->rows[v->cursor].job].id;
}

static void run_title(struct view *v, char *out, size_t n)
{
	struct run_priv *p = v->priv;
	if (!p->have_run) {
		snprintf(out, n, "run");
		return;
	}
	const struct run *r = &p->run;
	char att[24] = "";
	if (r->attempt > 1)
		snprintf(att, sizeof(att), " attempt %d", r->attempt);
	/* the same facts, in the same order, as `ciscope show`'s header */
	snprintf(out, n, "run %lld%s \u00b7 %s \u00b7 %s \u00b7 %.7s \u00b7 %s \u00b7 %s \u00b7 %s",
		 (long long)r->provider_id, att, r->workflow ? r->workflow : "-",
		 r->branch ? r->branch : "-", r->sha ? r->sha : "-", r->event ? r->event : "-",
		 run_state(r), r->title ? r->title : "");
}

static void run_status(struct view *v, char *out, size_t n)
{
	struct run_priv *p = v->priv;
	int failed = 0;
	for (int j = 0; j < p->n_jobs; j++)
		failed += conclusion_is_failure(p->jobs[j].conclusion);
	snprintf(out, n, "%d job%s \u00b7 %d failed", p->n_jobs, p->n_jobs == 1 ? "" : "s", failed);
}

static bool run_match(struct view *v, long row, const char *query)
{
	struct run_priv *p = v->priv;
	if (!query || row < 0 || (size_t)row >= p->n_rows)
		return false;
	const struct tree_row *t = &p->rows[row];
	const struct job *j = &p->jobs[t->job];
	const char *name = t->step < 0 ? j->name : j->steps[t->step].name;
	return name && strcasestr(name, query);
}

static void run_done(struct view *v)
{
	view_timers_cancel(v);
	free_data(v->priv);
}

const struct view_ops run_view_ops = {
	.name = "run",
	.private_size = sizeof(struct run_priv),
	.open = run_open,
	.load = run_load,
	.draw = run_draw,
	.request = run_request,
	.command = views_command,
	.title = run_title,
	.status = run_status,
	.match = run_match,
	.done = run_done,
	.env = run_env,
};
