/* diff.c - the diff view: a run against its baseline (issue 10 §6).
 *
 * d opens it on the selection of the view it came from (a run, or a job of
 * it: then that job only), :diff RUN[/JOB] [BASE[/JOB]] on runs named at
 * the prompt. The diff itself is core's (core/diff.h); it is computed in
 * parts from the loop's work queue (run_diff_begin, then one run_diff_step
 * per turn: a paired job's log, the tests, metrics and parity), so a big
 * diff shows its progress and never holds the keys.
 *
 * The rows: a summary (the run, its baseline and why, the counts), then
 * sections, each foldable with z: log (a row per paired job, foldable too,
 * and its hunks as pager rows through logdiff_row(): no row is copied),
 * tests, steps, metrics, parity (with a chart of each channel that went
 * wrong, core/chart lines drawn span by span in their roles). Enter on a
 * log line opens the log pager at that line: of the run, or of the
 * baseline for a '-' line. a shows the baseline's side too (computes the
 * diff again with removed lines). "Start reading here" (the job's
 * first_new) is marked, and the cursor starts on it.
 *
 * All text (job names, log lines, test names, messages) is drawn through
 * tui_text(), which shows escape sequences visibly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chart.h"
#include "core/diff.h"
#include "core/parity.h"
#include "core/util.h"
#include "views/common.h"
#include "views/views.h"

enum { SEC_LOG, SEC_TESTS, SEC_STEPS, SEC_METRICS, SEC_PARITY, SEC_COUNT };

enum drow_kind {
	DR_TEXT,    /* a line of text */
	DR_SECTION, /* a section's title (a: section) */
	DR_JOB,     /* a paired job (a: pair) */
	DR_LOG,     /* a row of a job's log diff (a: pair, b: logdiff row) */
	DR_CHART,   /* a line of a parity chart (a: chart, b: line) */
};

struct drow {
	unsigned char kind;
	unsigned char sec;  /* the section the row belongs to */
	enum role role;
	int indent;
	int a;
	long b;
	char *text;         /* DR_TEXT, DR_SECTION, DR_JOB (owned) */
};

enum diff_state { DS_BEGIN, DS_STEPS, DS_DONE, DS_FAILED, DS_CANCELLED };

#define DIFF_CHARTS_MAX 4
#define DIFF_METRICS_SHOWN 50

struct diff_priv {
	struct view *v;
	struct run run, base;
	bool have_base;       /* the baseline was named (:diff RUN BASE) */
	char *run_job, *base_job;
	struct diff_opts o;
	struct parity_conf *pc;
	struct run_diff d;
	bool have_d;          /* d is begun (released on done) */
	enum diff_state state;
	char msg[1024];       /* why there is no diff (DS_FAILED) */
	struct drow *rows;
	size_t nrows, alloc;
	bool fold[SEC_COUNT];
	bool *job_fold;       /* per pair */
	struct chart_text charts[DIFF_CHARTS_MAX];
	int ncharts, chart_width;
	int lineno_w;         /* digits of the longest line number */
	long start_row;       /* the first "start reading here" row, -1: none */
	char bisect_target[600]; /* what b bisects from here (diff_env) */
};

/* --- rows ------------------------------------------------------------------------------ */
static void rows_clear(struct diff_priv *p)
{
	for (size_t i = 0; i < p->nrows; i++)
		free(p->rows[i].text);
	p->nrows = 0;
	for (int i = 0; i < p->ncharts; i++)
		chart_text_release(&p->charts[i]);
	p->ncharts = 0;
}

static struct drow *add_row(struct diff_priv *p, enum drow_kind k, int sec, enum role role,
			    int indent)
{
	XGROW(p->rows, p->alloc, p->nrows + 1);
	struct drow *r = &p->rows[p->nrows++];
	memset(r, 0, sizeof(*r));
	r->kind = (unsigned char)k;
	r->sec = (unsigned char)sec;
	r->role = role;
	r->indent = indent;
	return r;
}

static void add_text(struct diff_priv *p, int sec, enum role role, int indent, struct buf *b)
{
	struct drow *r = add_row(p, DR_TEXT, sec, role, indent);
	r->text = xstrdup(buf_cstr(b));
	buf_reset(b);
}

static const char *run_state_word(const struct run *r)
{
	return view_state_of(r->status, r->conclusion);
}

static void run_label(struct buf *b, const char *label, const struct run *r)
{
	buf_addf(b, "%s: run %lld", label, (long long)r->provider_id);
	if (r->attempt > 1)
		buf_addf(b, ":%d", r->attempt);
	buf_addf(b, " \xc2\xb7 %s \xc2\xb7 %s \xc2\xb7 %.7s \xc2\xb7 %s", r->workflow ? r->workflow : "-",
		 r->branch ? r->branch : "-", r->sha ? r->sha : "-", run_state_word(r));
}

static void plural(struct buf *b, long n, const char *one, const char *many)
{
	buf_addf(b, "%ld %s", n, n == 1 ? one : many);
}

static void build_summary(struct diff_priv *p, struct buf *b)
{
	const struct run_diff *d = &p->d;
	run_label(b, "run", &d->run);
	add_text(p, -1, ROLE_DEFAULT, 0, b);
	if (d->has_base) {
		run_label(b, "baseline", &d->base);
		add_text(p, -1, ROLE_DEFAULT, 0, b);
		buf_addf(b, "  why: %s", d->reason);
		add_text(p, -1, ROLE_DIM, 0, b);
	} else {
		buf_addf(b, "no baseline: %s", d->reason);
		add_text(p, -1, ROLE_WARNING_LINE, 0, b);
		buf_adds(b, "showing this run's tests and parity alone (:diff RUN BASE names one)");
		add_text(p, -1, ROLE_DIM, 0, b);
	}
	if (d->note[0]) {
		buf_addf(b, "note: %s", d->note);
		add_text(p, -1, ROLE_WARNING_LINE, 0, b);
	}
	if (d->has_base) {
		run_diff_summary_text(b, d, &p->o);
	} else {
		plural(b, d->tests.n[DT_FAILING], "failing test", "failing tests");
	}
	if (d->has_parity && d->parity.n_channels)
		buf_addf(b, " \xc2\xb7 parity %s", d->parity.fail ? "fail" : "pass");
	add_text(p, -1, ROLE_HEADER, 0, b);
}

static void section(struct diff_priv *p, int sec, struct buf *b)
{
	struct drow *r = add_row(p, DR_SECTION, sec, ROLE_GROUP_LINE, 0);
	r->a = sec;
	r->text = xstrdup(buf_cstr(b));
	buf_reset(b);
}

static void build_log(struct diff_priv *p, struct buf *b)
{
	struct run_diff *d = &p->d;
	if (!d->has_base)
		return;
	int with = 0;
	for (int i = 0; i < d->n_pairs; i++)
		with += d->pairs[i].has_log && d->pairs[i].log.shown > 0;
	buf_adds(b, "log: ");
	plural(b, (long)d->new_lines, "new line", "new lines");
	buf_adds(b, " in ");
	plural(b, with, "job", "jobs");
	buf_addf(b, " of %d paired", d->n_pairs);
	buf_adds(b, p->o.log.all_lines ? " \xc2\xb7 both sides" : " \xc2\xb7 added only");
	section(p, SEC_LOG, b);
	bool start_failed = false;
	if (p->fold[SEC_LOG])
		return;
	for (int i = 0; i < d->n_pairs; i++) {
		struct diff_job *dj = &d->pairs[i];
		const struct job *rj = &d->jobs[dj->run_job], *bj = &d->base_jobs[dj->base_job];
		buf_adds(b, rj->name);
		if (strcmp(rj->name, bj->name))
			buf_addf(b, " vs %s", bj->name);
		if (!dj->has_log) {
			buf_addf(b, " \xc2\xb7 %s", dj->note ? dj->note : "no log");
		} else {
			const struct logdiff *l = &dj->log;
			buf_addf(b, " \xc2\xb7 %llu lines vs %llu \xc2\xb7 %llu new, %llu updated",
				 (unsigned long long)l->run_lines, (unsigned long long)l->base_lines,
				 (unsigned long long)l->added, (unsigned long long)l->updated);
			if (l->removed)
				buf_addf(b, ", %llu gone", (unsigned long long)l->removed);
			if (dj->first_new) {
				buf_addf(b, " \xc2\xb7 start reading at line %llu",
					 (unsigned long long)dj->first_new);
				if (dj->first_new_step)
					buf_addf(b, " (step %d)", dj->first_new_step);
			}
		}
		struct drow *r = add_row(p, DR_JOB, SEC_LOG,
					 dj->has_log && dj->log.shown ? ROLE_HEADER : ROLE_DIM, 2);
		r->a = i;
		r->text = xstrdup(buf_cstr(b));
		buf_reset(b);
		if (!dj->has_log || p->job_fold[i])
			continue;
		long n = logdiff_rows(&dj->log), start_of_pair = -1;
		bool failed = ci_conclusion_is_failure(rj->conclusion);
		for (long k = 0; k < n; k++) {
			int h, ln;
			struct drow *lr = add_row(p, DR_LOG, SEC_LOG, ROLE_DEFAULT, 4);
			lr->a = i;
			lr->b = k;
			if (start_of_pair < 0 && dj->first_new && logdiff_row(&dj->log, k, &h, &ln) &&
			    ln >= 0 && dj->log.hunks[h].lines[ln].run_line == dj->first_new &&
			    dj->log.hunks[h].lines[ln].op != '=' && dj->log.hunks[h].lines[ln].op != '-')
				start_of_pair = (long)p->nrows - 1;
		}
		/* start reading at the first failed job's first new line */
		if (start_of_pair >= 0 && (p->start_row < 0 || (!start_failed && failed))) {
			p->start_row = start_of_pair;
			start_failed = failed;
		}
		if (dj->log.truncated) {
			buf_adds(b, "\xe2\x80\xa6 more lines differ than are shown (ciscope diff --json "
				    "--max-lines 0 lists them all)");
			add_text(p, SEC_LOG, ROLE_DIM, 4, b);
		}
	}
	for (int i = 0; i < d->n_unpaired; i++) {
		buf_addf(b, "only in this run: job %s", d->jobs[d->unpaired[i]].name);
		add_text(p, SEC_LOG, ROLE_DIM, 2, b);
	}
	for (int i = 0; i < d->n_base_unpaired; i++) {
		buf_addf(b, "only in the baseline: job %s", d->base_jobs[d->base_unpaired[i]].name);
		add_text(p, SEC_LOG, ROLE_DIM, 2, b);
	}
}

static void build_tests(struct diff_priv *p, struct buf *b)
{
	static const char *const one[DT_COUNT] = {
		"new failure", "still failing", "fixed", "new", "removed", "flaky", "slower", "failing",
	};
	static const char *const many[DT_COUNT] = {
		"new failures", "still failing", "fixed", "new", "removed", "flaky", "slower", "failing",
	};
	static const enum role roles[DT_COUNT] = {
		ROLE_FAILURE, ROLE_FAILURE, ROLE_SUCCESS, ROLE_DEFAULT,
		ROLE_DIM,     ROLE_FLAKY,   ROLE_WARNING_LINE, ROLE_FAILURE,
	};
	const struct run_diff *d = &p->d;
	const struct diff_tests *t = &d->tests;
	buf_adds(b, "tests: ");
	bool any = false;
	if (!t->run_total && !t->base_total) {
		buf_adds(b, "no test results in either run");
		any = true;
	}
	for (int l = 0; l < DT_COUNT && t->run_total + t->base_total; l++) {
		if (!t->n[l] && (l == DT_FAILING || !d->has_base))
			continue;
		buf_addf(b, "%s%d %s", any ? " \xc2\xb7 " : "", t->n[l], t->n[l] == 1 ? one[l] : many[l]);
		any = true;
	}
	if (!any)
		buf_addf(b, "%d in the run, none failing", t->run_total);
	section(p, SEC_TESTS, b);
	if (p->fold[SEC_TESTS])
		return;
	for (int l = 0; l < DT_COUNT; l++) {
		for (int i = 0; i < t->n[l]; i++) {
			const struct diff_test *x = &t->list[l][i];
			if ((l == DT_NEW || l == DT_REMOVED) && i >= 10) {
				buf_addf(b, "\xe2\x80\xa6 %d more %s", t->n[l] - 10, one[l]);
				add_text(p, SEC_TESTS, ROLE_DIM, 2, b);
				break;
			}
			buf_addf(b, "%-13s ", one[l]);
			if (x->classname && *x->classname)
				buf_addf(b, "%s \xe2\x80\xba ", x->classname);
			buf_adds(b, x->name);
			run_diff_test_note(b, (enum diff_test_list)l, x);
			add_text(p, SEC_TESTS, roles[l], 2, b);
			/* b on it bisects this test: which list and which one */
			p->rows[p->nrows - 1].a = l + 1;
			p->rows[p->nrows - 1].b = i;
			if (x->message && (l == DT_NEW_FAILURES || l == DT_FAILING)) {
				buf_add(b, x->message, strcspn(x->message, "\n"));
				add_text(p, SEC_TESTS, ROLE_DIM, 16, b);
			}
		}
	}
}

static void build_steps(struct diff_priv *p, struct buf *b)
{
	const struct run_diff *d = &p->d;
	if (!d->has_base)
		return;
	size_t first = p->nrows;
	int changed = 0;
	buf_adds(b, "steps");
	section(p, SEC_STEPS, b);
	for (int x = 0; x < d->n_steps; x++) {
		const struct diff_jobstep *js = &d->steps[x];
		const struct job *rj, *bj;
		if (!run_diff_step_jobs(d, x, &rj, &bj))
			continue; /* listed as unpaired */
		bool concl = strcmp(rj->conclusion ? rj->conclusion : "",
				    bj->conclusion ? bj->conclusion : "");
		bool slow = run_diff_slower(&p->o, run_diff_job_ms(rj), run_diff_job_ms(bj));
		size_t job_row = p->nrows;
		buf_adds(b, rj->name);
		if (concl)
			buf_addf(b, ": %s (was %s)", rj->conclusion ? rj->conclusion : "-",
				 bj->conclusion ? bj->conclusion : "-");
		buf_adds(b, " \xc2\xb7 ");
		run_diff_duration_text(b, run_diff_job_ms(rj), run_diff_job_ms(bj));
		if (rj->runner_name && bj->runner_name && strcmp(rj->runner_name, bj->runner_name))
			buf_addf(b, " \xc2\xb7 runner %s (was %s)", rj->runner_name, bj->runner_name);
		add_text(p, SEC_STEPS, concl ? ROLE_FAILURE : ROLE_DEFAULT, 2, b);
		int lines = 0;
		for (int i = 0; i < js->n_steps; i++) {
			const struct diff_step *st = &js->steps[i];
			bool s_slow = run_diff_slower(&p->o, st->ms, st->base_ms);
			if (st->change == STEP_SAME && !s_slow)
				continue;
			lines++;
			buf_addf(b, "%c %s", st->change == STEP_ADDED	  ? '+'
					     : st->change == STEP_REMOVED ? '-'
									  : '~',
				 st->name);
			if (st->change == STEP_ADDED)
				buf_adds(b, " (only in this run)");
			else if (st->change == STEP_REMOVED)
				buf_adds(b, " (only in the baseline)");
			if (st->change == STEP_CHANGED)
				buf_addf(b, ": %s (was %s)", st->conclusion ? st->conclusion : "-",
					 st->base_conclusion ? st->base_conclusion : "-");
			if (s_slow) {
				buf_adds(b, " \xc2\xb7 slower ");
				run_diff_duration_text(b, st->ms, st->base_ms);
			}
			add_text(p, SEC_STEPS,
				 st->change == STEP_CHANGED ? ROLE_FAILURE
				 : s_slow		    ? ROLE_WARNING_LINE
							    : ROLE_DIM,
				 4, b);
		}
		if (!lines && !concl && !slow) {
			free(p->rows[job_row].text);
			p->nrows = job_row;
		} else {
			changed++;
		}
	}
	/* the title counts what follows; folded, the rows go */
	struct drow *t = &p->rows[first];
	free(t->text);
	buf_addf(b, "steps: %d %s changed or slower", changed, changed == 1 ? "job" : "jobs");
	t->text = xstrdup(buf_cstr(b));
	buf_reset(b);
	if (p->fold[SEC_STEPS]) {
		for (size_t i = first + 1; i < p->nrows; i++)
			free(p->rows[i].text);
		p->nrows = first + 1;
	}
}

static void build_metrics(struct diff_priv *p, struct buf *b)
{
	const struct run_diff *d = &p->d;
	if (!d->has_metrics) {
		if (!d->has_base)
			return;
		buf_adds(b, "metrics: none in either run");
		section(p, SEC_METRICS, b);
		return;
	}
	int moved = run_diff_metrics_moved(d), shown = 0;
	if (!d->metrics.n) {
		buf_adds(b, "metrics: none in both runs");
		section(p, SEC_METRICS, b);
		return;
	}
	buf_addf(b, "metrics: %d of %d moved", moved, d->metrics.n);
	section(p, SEC_METRICS, b);
	if (p->fold[SEC_METRICS])
		return;
	for (int i = 0; i < d->metrics.n && shown < DIFF_METRICS_SHOWN; i++) {
		const struct metric_change *m = &d->metrics.items[i];
		if (!m->changed)
			continue;
		shown++;
		buf_adds(b, m->name);
		metric_change_text(b, m);
		add_text(p, SEC_METRICS, ROLE_DEFAULT, 2, b);
	}
	if (moved > shown) {
		buf_addf(b, "\xe2\x80\xa6 %d more (ciscope diff --json lists them all)", moved - shown);
		add_text(p, SEC_METRICS, ROLE_DIM, 2, b);
	}
}

static bool utf8_screen(void)
{
	return strcmp(tui_glyph("\xe2\x80\xa6", "~"), "~") != 0;
}

static void add_chart(struct diff_priv *p, const struct parity_channel *ch, int width)
{
	struct parity_plot pp;
	struct cs_err err;
	if (p->ncharts >= DIFF_CHARTS_MAX || !ch->data || width < 20)
		return;
	if (parity_plot_init(&pp, ch, PARITY_PLOT_DELTA, &err) < 0)
		return;
	int h = p->v->height - 2;
	h = h > 12 ? 12 : h < 6 ? 6 : h;
	struct chart_text *ct = &p->charts[p->ncharts];
	chart_render(&pp.chart, width, h, utf8_screen(), ct);
	parity_plot_release(&pp);
	for (int l = 0; l < ct->n; l++) {
		struct drow *r = add_row(p, DR_CHART, SEC_PARITY, ROLE_DEFAULT, 4);
		r->a = p->ncharts;
		r->b = l;
	}
	p->ncharts++;
}

static void build_parity_report(struct diff_priv *p, struct buf *b, const char *label,
				const struct parity_report *rep, bool charts)
{
	buf_addf(b, "%s: %s", label, rep->fail ? "fail" : "pass");
	if (rep->deciding >= 0)
		buf_addf(b, rep->fail ? " (decided by %s)" : " (closest: %s)",
			 rep->channels[rep->deciding].name);
	add_text(p, SEC_PARITY, rep->fail ? ROLE_FAILURE : ROLE_SUCCESS, 2, b);
	for (int i = 0; i < rep->n_channels; i++) {
		const struct parity_channel *ch = &rep->channels[i];
		buf_adds(b, ch->name);
		parity_channel_text(b, ch);
		add_text(p, SEC_PARITY, ch->fail ? ROLE_FAILURE : ROLE_DEFAULT, 4, b);
		if (charts && (ch->violations || i == rep->deciding))
			add_chart(p, ch, p->v->width - 4);
	}
}

static void build_parity(struct diff_priv *p, struct buf *b)
{
	const struct run_diff *d = &p->d;
	if (!d->has_parity || !d->parity.n_channels)
		return;
	buf_addf(b, "parity: %s \xc2\xb7 %d %s", d->parity.fail ? "fail" : "pass", d->parity.n_channels,
		 d->parity.n_channels == 1 ? "channel" : "channels");
	section(p, SEC_PARITY, b);
	if (p->fold[SEC_PARITY])
		return;
	build_parity_report(p, b, "in this run", &d->parity, true);
	if (d->has_parity_vs_base)
		build_parity_report(p, b, "against the baseline", &d->parity_vs_base, false);
}

static void rebuild(struct view *v)
{
	struct diff_priv *p = v->priv;
	struct buf b = BUF_INIT;
	rows_clear(p);
	p->start_row = -1;
	if (p->state == DS_DONE) {
		build_summary(p, &b);
		build_log(p, &b);
		build_tests(p, &b);
		build_steps(p, &b);
		build_metrics(p, &b);
		build_parity(p, &b);
		uint64_t mx = 1;
		for (int i = 0; i < p->d.n_pairs; i++)
			mx = MAX(mx, MAX(p->d.pairs[i].log.run_lines, p->d.pairs[i].log.base_lines));
		p->lineno_w = 1;
		for (; mx >= 10; mx /= 10)
			p->lineno_w++;
	} else {
		run_label(&b, "run", &p->run);
		add_text(p, -1, ROLE_DEFAULT, 0, &b);
		if (p->state == DS_FAILED)
			buf_addf(&b, "cannot diff: %s", p->msg);
		else if (p->state == DS_CANCELLED)
			buf_adds(&b, "the diff was cancelled (Ctrl-R computes it again)");
		else
			buf_adds(&b, "computing the diff\xe2\x80\xa6 (Esc cancels)");
		add_text(p, -1, p->state == DS_FAILED ? ROLE_STATUS_ERROR : ROLE_DIM, 0, &b);
	}
	p->chart_width = v->width;
	buf_release(&b);
	tui_view_set_rows(v, (long)p->nrows);
}

/* --- the work ------------------------------------------------------------------------- */
static void diff_progress(void *ctx, char *out, size_t n)
{
	struct diff_priv *p = ctx;
	if (p->state == DS_BEGIN)
		snprintf(out, n, "diff: choosing the baseline");
	else if (p->d.work_done < p->d.n_pairs)
		snprintf(out, n, "diff: log of job %d of %d", p->d.work_done + 1, p->d.n_pairs);
	else
		snprintf(out, n, "diff: tests, metrics and parity");
}

static void diff_cancel(void *ctx)
{
	struct diff_priv *p = ctx;
	if (p->have_d)
		run_diff_release(&p->d);
	p->have_d = false;
	p->state = DS_CANCELLED;
	rebuild(p->v);
	tui_view_dirty(p->v);
}

static void finish(struct diff_priv *p)
{
	struct view *v = p->v;
	rebuild(v);
	if (p->start_row >= 0) {
		tui_view_goto(v, p->start_row);
		/* the job's row above it in sight: what is being read */
		long top = p->start_row - 3;
		v->top = p->start_row < v->height - 1 || top < 0 ? 0 : top;
	}
	if (!p->d.has_base)
		tui_message("no baseline: %s", p->d.reason);
	tui_view_dirty(v);
}

static bool diff_step(void *ctx)
{
	struct diff_priv *p = ctx;
	struct cs_err err;
	err_clear(&err);
	if (p->state == DS_BEGIN) {
		if (run_diff_begin(app.st, app.repo, &p->run, p->run_job, p->have_base ? &p->base : NULL,
				   p->base_job, &p->o, &p->d, &err) < 0) {
			p->state = DS_FAILED;
			snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
			rebuild(p->v);
			tui_view_dirty(p->v);
			return false;
		}
		p->have_d = true;
		p->state = DS_STEPS;
		free(p->job_fold);
		p->job_fold = xcalloc((size_t)MAX(p->d.n_pairs, 1), sizeof(bool));
		return true;
	}
	int rc = run_diff_step(app.st, &p->o, &p->d, &err);
	if (rc > 0)
		return true;
	if (rc < 0) {
		p->have_d = false; /* released by core */
		p->state = DS_FAILED;
		snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
		rebuild(p->v);
		tui_view_dirty(p->v);
		return false;
	}
	p->state = DS_DONE;
	finish(p);
	return false;
}

static void start(struct view *v)
{
	struct diff_priv *p = v->priv;
	tui_work_stop(p);
	if (p->have_d)
		run_diff_release(&p->d);
	p->have_d = false;
	p->state = DS_BEGIN;
	rebuild(v);
	struct tui_work w = {
		.step = diff_step, .progress = diff_progress, .cancel = diff_cancel, .ctx = p, .owner = v};
	tui_work_start(&w);
}

/* --- drawing ------------------------------------------------------------------------- */
static enum role op_role(char op)
{
	return op == '+' ? ROLE_DIFF_ADDED : op == '~' ? ROLE_DIFF_UPDATED
		 : op == '-' ? ROLE_DIFF_REMOVED : ROLE_DEFAULT;
}

static enum role chart_role_to(enum chart_role r)
{
	switch (r) {
	case CHART_AXIS: return ROLE_DIM;
	case CHART_REF: return ROLE_NOTICE_LINE;
	case CHART_CAND: return ROLE_WARNING_LINE;
	case CHART_DELTA: return ROLE_DIFF_UPDATED;
	case CHART_THRESHOLD: return ROLE_SUCCESS;
	case CHART_FAIL: return ROLE_ERROR_LINE;
	case CHART_MARK: return ROLE_GROUP_LINE;
	default: return ROLE_DEFAULT;
	}
}

static void draw_log(struct diff_priv *p, struct tui_canvas *c, const struct drow *r)
{
	struct diff_job *dj = &p->d.pairs[r->a];
	int h, i;
	char num_run[24] = "", num_base[24] = "";
	if (!logdiff_row(&dj->log, r->b, &h, &i))
		return;
	const struct ld_hunk *hk = &dj->log.hunks[h];
	if (i < 0) {
		char t[64];
		tui_text(c, "@@", 2, ROLE_DIM, 0, 0);
		if (hk->step) {
			snprintf(t, sizeof(t), " step %d ", hk->step);
			tui_text(c, t, (size_t)-1, ROLE_DIM, 0, 0);
			if (hk->step_name)
				tui_text(c, hk->step_name, (size_t)-1, ROLE_DIM, 0, 0);
		}
		return;
	}
	const struct ld_line *ln = &hk->lines[i];
	bool start = dj->first_new && ln->run_line == dj->first_new && ln->op != '=' && ln->op != '-';
	tui_text(c, start ? tui_glyph("\xe2\x96\xb6", ">") : " ", (size_t)-1, ROLE_HEADER, 1,
		 TEXT_NO_HSCROLL);
	char op[2] = {ln->moved ? 'm' : ln->op, 0};
	tui_text(c, op, 1, op_role(ln->op), 1, TEXT_NO_HSCROLL);
	tui_text(c, ln->finding ? ">" : " ", 1, ROLE_ERROR_LINE, 1, TEXT_NO_HSCROLL);
	if (ln->run_line)
		snprintf(num_run, sizeof(num_run), "%llu", (unsigned long long)ln->run_line);
	if (ln->base_line)
		snprintf(num_base, sizeof(num_base), "%llu", (unsigned long long)ln->base_line);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, TEXT_NO_HSCROLL);
	tui_text(c, num_run, (size_t)-1, ROLE_LINENO, p->lineno_w, TEXT_PAD | TEXT_RIGHT | TEXT_NO_HSCROLL);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, TEXT_NO_HSCROLL);
	tui_text(c, num_base, (size_t)-1, ROLE_LINENO, p->lineno_w,
		 TEXT_PAD | TEXT_RIGHT | TEXT_NO_HSCROLL);
	tui_text(c, "  ", 2, ROLE_DEFAULT, 2, TEXT_NO_HSCROLL);
	tui_text(c, ln->text, (size_t)-1, op_role(ln->op), 0, 0);
	if (ln->cut)
		tui_text(c, " \xe2\x80\xa6", (size_t)-1, ROLE_DIM, 0, 0);
	if (ln->repeat > 1) {
		char t[32];
		snprintf(t, sizeof(t), "  (\xc3\x97%u)", ln->repeat);
		tui_text(c, t, (size_t)-1, ROLE_DIM, 0, 0);
	}
}

static void diff_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct diff_priv *p = v->priv;
	if (row < 0 || (size_t)row >= p->nrows)
		return;
	const struct drow *r = &p->rows[row];
	if (r->indent)
		tui_text(c, "                ", (size_t)r->indent, ROLE_DEFAULT, r->indent, TEXT_NO_HSCROLL);
	switch (r->kind) {
	case DR_SECTION:
	case DR_JOB: {
		bool folded = r->kind == DR_SECTION ? p->fold[r->a] : p->job_fold[r->a];
		bool foldable = r->kind == DR_SECTION || p->d.pairs[r->a].has_log;
		const char *g = !foldable ? " "
				: folded  ? tui_glyph("\xe2\x96\xb8", "+")
					  : tui_glyph("\xe2\x96\xbe", "-");
		tui_text(c, g, (size_t)-1, r->role, 1, TEXT_NO_HSCROLL);
		tui_text(c, " ", 1, r->role, 1, TEXT_NO_HSCROLL);
		tui_text(c, r->text, (size_t)-1, r->role, 0, 0);
		break;
	}
	case DR_LOG:
		draw_log(p, c, r);
		break;
	case DR_CHART: {
		const struct chart_line *l = &p->charts[r->a].lines[r->b];
		for (int s = 0; s < l->n_spans; s++)
			tui_text(c, l->text + l->spans[s].off, l->spans[s].len,
				 chart_role_to(l->spans[s].role), 0, 0);
		break;
	}
	default:
		tui_text(c, r->text, (size_t)-1, r->role, 0, 0);
	}
}

/* --- actions ------------------------------------------------------------------------- */
static void open_log_at(struct diff_priv *p, int pair, bool base_side, uint64_t line)
{
	const struct diff_job *dj = &p->d.pairs[pair];
	struct log_view_arg a = {0};
	if (base_side) {
		a.run_row_id = p->d.base.id;
		a.job_row_id = p->d.base_jobs[dj->base_job].id;
	} else {
		a.run_row_id = p->d.run.id;
		a.job_row_id = p->d.jobs[dj->run_job].id;
	}
	a.line = (int64_t)line;
	tui_open(&log_view_ops, &a, OPEN_PUSH);
}

/* The section or job a row folds with: its own, else the one it is in. */
static void fold_at(struct view *v, long row)
{
	struct diff_priv *p = v->priv;
	const struct drow *r = &p->rows[row];
	long target = row;
	if (r->kind == DR_LOG) {
		int pair = r->a;
		while (target > 0 && !(p->rows[target].kind == DR_JOB && p->rows[target].a == pair))
			target--;
		p->job_fold[pair] = !p->job_fold[pair];
	} else if (r->kind == DR_JOB) {
		if (p->d.pairs[r->a].has_log)
			p->job_fold[r->a] = !p->job_fold[r->a];
	} else if (r->sec < SEC_COUNT) {
		int sec = r->sec;
		while (target > 0 && !(p->rows[target].kind == DR_SECTION && p->rows[target].a == sec))
			target--;
		p->fold[sec] = !p->fold[sec];
	} else {
		return;
	}
	rebuild(v);
	tui_view_goto(v, target < (long)p->nrows ? target : (long)p->nrows - 1);
}

static enum action diff_request(struct view *v, enum action a, unsigned *eff)
{
	struct diff_priv *p = v->priv;
	bool on_row = p->state == DS_DONE && v->cursor >= 0 && (size_t)v->cursor < p->nrows;
	const struct drow *r = on_row ? &p->rows[v->cursor] : NULL;
	switch ((int)a) {
	case ACT_ENTER:
		if (!r)
			return ACT_NONE;
		if (r->kind == DR_LOG) {
			struct diff_job *dj = &p->d.pairs[r->a];
			int h, i;
			if (!logdiff_row(&dj->log, r->b, &h, &i))
				return ACT_NONE;
			if (i < 0)
				i = 0; /* a hunk's header: its first line */
			const struct ld_line *ln = &dj->log.hunks[h].lines[i];
			if (ln->run_line)
				open_log_at(p, r->a, false, ln->run_line);
			else
				open_log_at(p, r->a, true, ln->base_line);
		} else if (r->kind == DR_JOB) {
			open_log_at(p, r->a, false, p->d.pairs[r->a].first_new);
		} else if (r->kind == DR_SECTION) {
			fold_at(v, v->cursor);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FOLD:
		if (r)
			fold_at(v, v->cursor);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FOLD_ALL: {
		if (p->state != DS_DONE)
			return ACT_NONE;
		bool any_open = false;
		for (int s = 0; s < SEC_COUNT; s++)
			any_open |= !p->fold[s];
		for (int s = 0; s < SEC_COUNT; s++)
			p->fold[s] = any_open;
		rebuild(v);
		tui_view_goto(v, 0);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	}
	case ACT_DIFF_ALL_LINES:
		p->o.log.all_lines = !p->o.log.all_lines;
		tui_message(p->o.log.all_lines ? "both sides: the baseline's lines too"
					       : "added lines only");
		start(v);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_OPEN_URL: {
		char msg[512];
		const char *url = p->run.html_url;
		if (r && (r->kind == DR_LOG || r->kind == DR_JOB) &&
		    p->d.jobs[p->d.pairs[r->a].run_job].html_url)
			url = p->d.jobs[p->d.pairs[r->a].run_job].html_url;
		if (view_open_url(url, msg, sizeof(msg)) < 0)
			tui_error("%s", msg);
		else
			tui_message("%s", msg);
		return ACT_NONE;
	}
	case ACT_REFRESH:
		start(v);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_NEXT_ERROR:
	case ACT_PREV_ERROR: {
		/* the next (previous) hunk of new lines */
		long step = a == ACT_NEXT_ERROR ? 1 : -1;
		for (long k = v->cursor + step; k >= 0 && (size_t)k < p->nrows; k += step) {
			const struct drow *x = &p->rows[k];
			int h, i;
			/* backwards: past the hunk the cursor is in */
			if (step < 0 && k + 1 >= v->cursor)
				continue;
			if (x->kind == DR_LOG && logdiff_row(&p->d.pairs[x->a].log, x->b, &h, &i) && i < 0) {
				tui_view_goto(v, k + 1 < (long)p->nrows ? k + 1 : k);
				*eff |= EFF_REDRAW;
				return ACT_NONE;
			}
		}
		tui_message("no more hunks");
		return ACT_NONE;
	}
	default:
		return a;
	}
}

static bool diff_match(struct view *v, long row, const char *query)
{
	struct diff_priv *p = v->priv;
	const struct drow *r = &p->rows[row];
	if (r->text)
		return strcasestr(r->text, query) != NULL;
	if (r->kind == DR_LOG) {
		int h, i;
		if (logdiff_row(&p->d.pairs[r->a].log, r->b, &h, &i) && i >= 0)
			return strcasestr(p->d.pairs[r->a].log.hunks[h].lines[i].text, query) != NULL;
	}
	return false;
}

static void diff_title(struct view *v, char *out, size_t n)
{
	struct diff_priv *p = v->priv;
	int k = snprintf(out, n, "diff \xc2\xb7 run %lld", (long long)p->run.provider_id);
	if (k < 0 || (size_t)k >= n)
		return;
	if (p->run_job)
		k += snprintf(out + k, n - (size_t)k, "/%s", p->run_job);
	if (k < 0 || (size_t)k >= n)
		return;
	if (p->state == DS_DONE && p->d.has_base)
		snprintf(out + k, n - (size_t)k, " vs %lld", (long long)p->d.base.provider_id);
	else if (p->have_base)
		snprintf(out + k, n - (size_t)k, " vs %lld", (long long)p->base.provider_id);
}

static void diff_status(struct view *v, char *out, size_t n)
{
	struct diff_priv *p = v->priv;
	if (p->state != DS_DONE) {
		snprintf(out, n, "%s", p->state == DS_FAILED ? "no diff" : "");
		return;
	}
	if (!p->d.has_base) {
		snprintf(out, n, "no baseline");
		return;
	}
	snprintf(out, n, "%llu new \xc2\xb7 %s", (unsigned long long)p->d.new_lines,
		 p->o.log.all_lines ? "both sides" : "added only");
}

static bool bisect_target_of(struct diff_priv *p, long cursor);

static void diff_env(struct view *v, void *out)
{
	struct diff_priv *p = v->priv;
	struct view_env *env = out;
	env->run = p->run.id;
	env->run_rec = &p->run;
	env->run_failed = ci_conclusion_is_failure(p->run.conclusion);
	env->in_run = true;
	snprintf(env->commit, sizeof(env->commit), "%s", p->run.sha ? p->run.sha : "");
	if (p->state == DS_DONE && v->cursor >= 0 && (size_t)v->cursor < p->nrows) {
		const struct drow *r = &p->rows[v->cursor];
		if (r->kind == DR_LOG || r->kind == DR_JOB)
			env->job = p->d.jobs[p->d.pairs[r->a].run_job].id;
	}
	if (p->state == DS_DONE && bisect_target_of(p, v->cursor))
		env->bisect_target = p->bisect_target;
}

/* What b bisects from the diff (into p->bisect_target): the failing test
 * at the cursor; the job at the cursor when it failed; else the diff's
 * divergence: the parity workflow when the run's parity fails, else its
 * first failing job. False: nothing more than the run's workflow. */
static bool bisect_target_of(struct diff_priv *p, long cursor)
{
	const struct run_diff *d = &p->d;
	const char *wf = p->run.workflow;
	if (!wf || !*wf)
		return false;
	struct buf b = BUF_INIT;
	const struct drow *r = cursor >= 0 && (size_t)cursor < p->nrows ? &p->rows[cursor] : NULL;
	if (r && r->kind == DR_TEXT && r->sec == SEC_TESTS && r->a > 0) {
		int l = r->a - 1;
		const struct diff_test *x = &d->tests.list[l][r->b];
		if (x->state == TEST_FAILED || x->state == TEST_FLAKY) {
			buf_addf(&b, "test:%s%s%s", x->classname && *x->classname ? x->classname : "",
				 x->classname && *x->classname ? "." : "", x->name);
		}
	}
	if (!b.len && r && (r->kind == DR_LOG || r->kind == DR_JOB)) {
		const struct job *j = &d->jobs[d->pairs[r->a].run_job];
		if (ci_conclusion_is_failure(j->conclusion))
			buf_addf(&b, "job:%s/%s", wf, j->name);
	}
	if (!b.len && d->has_parity && d->parity.n_channels && d->parity.fail)
		buf_addf(&b, "parity:%s", wf);
	for (int i = 0; !b.len && i < d->n_jobs; i++)
		if (ci_conclusion_is_failure(d->jobs[i].conclusion) && d->jobs[i].name)
			buf_addf(&b, "job:%s/%s", wf, d->jobs[i].name);
	snprintf(p->bisect_target, sizeof(p->bisect_target), "%s", buf_cstr(&b));
	bool any = b.len > 0 && b.len < sizeof(p->bisect_target);
	buf_release(&b);
	return any;
}

/* --- open ---------------------------------------------------------------------------- */
/* "RUN" or "RUN/JOB" (as `ciscope diff` takes them). */
static int find_side(const char *spec, struct run *r, char **job, struct cs_err *err)
{
	char *s = xstrdup(spec);
	char *slash = strchr(s, '/');
	*job = NULL;
	if (slash) {
		*slash = '\0';
		*job = xstrdup(slash + 1);
	}
	int rc = store_find_run(app.st, s, r, err);
	free(s);
	if (rc < 0) {
		free(*job);
		*job = NULL;
	}
	return rc;
}

static int diff_open(struct view *v, void *arg)
{
	struct diff_priv *p = v->priv;
	const struct diff_view_arg *a = arg;
	struct cs_err err;
	err_clear(&err);
	p->v = v;
	p->start_row = -1;
	p->o.log.context = 3;
	p->o.slower_floor_ms = -1;
	p->o.parity_flags = PARITY_KEEP_DATA;
	if (a) {
		if (find_side(a->run, &p->run, &p->run_job, &err) < 0) {
			tui_error("diff: %s", err.msg);
			return -1;
		}
		if (a->base && *a->base) {
			if (find_side(a->base, &p->base, &p->base_job, &err) < 0) {
				tui_error("diff: %s", err.msg);
				run_free(&p->run);
				free(p->run_job);
				p->run_job = NULL;
				return -1;
			}
			p->have_base = true;
		}
	} else {
		struct view_env env;
		view_env_of(v->parent, &env);
		if (!view_env_run(&env, &p->run, &err)) {
			tui_error("view-diff: %s", env.run ? err.msg : "no run is selected here");
			return -1;
		}
		if (env.job) {
			/* the selected job only: named by its provider id, unique in its run */
			struct job *jobs;
			int n;
			if (store_jobs(app.st, p->run.id, &jobs, &n, &err) == 0) {
				for (int i = 0; i < n; i++)
					if (jobs[i].id == env.job)
						p->run_job = xstrdup(jobs[i].name);
				store_jobs_free(jobs, n);
			}
		}
	}
	p->pc = parity_conf_load(NULL, &err);
	if (!p->pc)
		tui_error("%s: comparing without parity", err.msg);
	p->o.parity = p->pc;
	start(v);
	return 0;
}

/* Options or the screen changed: the rows again (charts at the new width). */
static int diff_load(struct view *v)
{
	rebuild(v);
	return 0;
}

static void diff_done(struct view *v)
{
	struct diff_priv *p = v->priv;
	tui_work_stop(p);
	rows_clear(p);
	free(p->rows);
	if (p->have_d)
		run_diff_release(&p->d);
	free(p->job_fold);
	run_free(&p->run);
	if (p->have_base)
		run_free(&p->base);
	free(p->run_job);
	free(p->base_job);
	parity_conf_free(p->pc);
}

bool diff_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	(void)v;
	if (strcmp(cmd, "diff"))
		return false;
	char run[200] = "", base[200] = "";
	int n = sscanf(arg ? arg : "", "%199s %199s", run, base);
	if (n < 1) {
		/* bare :diff: the selection, as d */
		tui_open(&diff_view_ops, NULL, OPEN_PUSH);
	} else {
		struct diff_view_arg a = {run, n > 1 ? base : NULL};
		tui_open(&diff_view_ops, &a, OPEN_PUSH);
	}
	*eff |= EFF_REDRAW;
	return true;
}

const struct view_ops diff_view_ops = {
	.name = "diff",
	.private_size = sizeof(struct diff_priv),
	.open = diff_open,
	.load = diff_load,
	.draw = diff_draw,
	.request = diff_request,
	.command = views_command,
	.title = diff_title,
	.status = diff_status,
	.match = diff_match,
	.done = diff_done,
	.env = diff_env,
	.min_width = 20,
	.min_height = 3,
};
