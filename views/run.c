/* run.c - one run: its jobs and their steps as a tree, then what else it
 * brought: its artifacts and their files, the tests that did not pass and
 * its metric series (core/runitems.h; `ciscope show` counts them).
 *
 * A job row shows its conclusion, name, error and warning counts, log state
 * and duration; its steps follow, indented. Enter opens the log pager at the
 * job (or at the step), o opens the job's page (or the run's) in a browser.
 * Enter on an artifact file, a test or a series opens it in place (and
 * closes it again): what was read from the file, the test's failure message
 * and output, the series' values.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runitems.h"
#include "core/store.h"
#include "views/common.h"
#include "views/views.h"

#define DETAIL_LINES 40   /* lines of a test's message and output shown */
#define SERIES_POINTS 200 /* values of a series shown */
#define FILE_LINES 200    /* lines of an artifact file shown */
#define FILE_BYTES 65536  /* bytes of it read */

enum row_kind {
	R_JOB,      /* jobs[job] */
	R_STEP,     /* jobs[job].steps[step] */
	R_SECTION,  /* the heading of artifacts (item 0), tests (1), series (2) */
	R_ARTIFACT, /* items.artifacts[item] */
	R_FILE,     /* items.artifacts[item].files[sub] */
	R_TEST,     /* items.tests[item] */
	R_SERIES,   /* items.series[item] */
	R_DETAIL,   /* details[item]: a line of what an open item shows */
};

struct tree_row {
	enum row_kind kind;
	int job;  /* index into jobs (R_JOB, R_STEP) */
	int step; /* index into the job's steps, -1 for the job itself */
	int item, sub;
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
	struct run_items items;
	bool have_items;
	char items_error[1024];
	bool *open_file, *open_test, *open_series; /* opened in place */
	int n_open_file;
	char **details; /* the lines of R_DETAIL rows */
	size_t n_details, details_alloc;
};

static void free_data(struct run_priv *p)
{
	view_run_jobs_free(&p->run, &p->have_run, &p->jobs, &p->n_jobs);
	free(p->rows);
	p->rows = NULL;
	p->n_rows = p->rows_alloc = 0;
	if (p->have_items)
		run_items_release(&p->items);
	p->have_items = false;
	p->items_error[0] = '\0';
	free(p->open_file);
	free(p->open_test);
	free(p->open_series);
	p->open_file = p->open_test = p->open_series = NULL;
	p->n_open_file = 0;
	for (size_t i = 0; i < p->n_details; i++)
		free(p->details[i]);
	free(p->details);
	p->details = NULL;
	p->n_details = p->details_alloc = 0;
}

/* --- the rows ------------------------------------------------------------------------ */
static void add_row(struct run_priv *p, enum row_kind kind, int job, int step, int item, int sub)
{
	XGROW(p->rows, p->rows_alloc, p->n_rows + 1);
	p->rows[p->n_rows++] = (struct tree_row){
		.kind = kind, .job = job, .step = step, .item = item, .sub = sub};
}

static void add_detail(struct run_priv *p, const char *text, size_t n)
{
	XGROW(p->details, p->details_alloc, p->n_details + 1);
	char *d = xmalloc(n + 1);
	memcpy(d, text, n);
	d[n] = '\0';
	p->details[p->n_details] = d;
	add_row(p, R_DETAIL, -1, -1, (int)p->n_details++, 0);
}

static void add_detailf(struct run_priv *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void add_detailf(struct run_priv *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add_detail(p, buf, strlen(buf));
}

/* Text as detail rows, one a line, at most *left of them. */
static void add_text(struct run_priv *p, const char *text, int *left)
{
	const char *s = text;
	while (s && *s && *left > 0) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n && s[n - 1] == '\r')
			n--;
		add_detail(p, s, n);
		(*left)--;
		s = e ? e + 1 : NULL;
	}
	if (s && *s && *left <= 0) {
		long more = 0;
		for (const char *q = s; *q; q++)
			more += *q == '\n';
		add_detailf(p, "\u2026 %ld more line%s", more + 1, more ? "s" : "");
	}
}

static void test_details(struct run_priv *p, const struct run_test *t)
{
	int left = DETAIL_LINES;
	if (t->file)
		add_detailf(p, "%s%s%.0ld", t->file, t->line ? ":" : "", t->line);
	if (t->message && *t->message)
		add_text(p, t->message, &left);
	if (t->details && *t->details)
		add_text(p, t->details, &left);
	if (!(t->message && *t->message) && !(t->details && *t->details))
		add_detailf(p, "the report gives no message for this test");
	if (t->reruns)
		add_detailf(p, "re-run %d time%s", t->reruns, t->reruns == 1 ? "" : "s");
}

static void fmt_value(double v, char *out, size_t n)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.6g", v);
}

static void series_details(struct run_priv *p, const struct run_series *r)
{
	double *x, *v;
	long total;
	struct cs_err err;
	err_clear(&err);
	long n = run_series_points(app.st, r->id, SERIES_POINTS, &x, &v, &total, &err);
	if (n < 0) {
		add_detailf(p, "%s", err.msg);
		return;
	}
	for (long i = 0; i < n; i++) {
		char xs[32], vs[32];
		fmt_value(x[i], xs, sizeof(xs));
		fmt_value(v[i], vs, sizeof(vs));
		add_detailf(p, "%s %s: %s", r->x_name ? r->x_name : "row", xs, vs);
	}
	if (total > n)
		add_detailf(p, "\u2026 %ld more values (%ld in all)", total - n, total);
	free(x);
	free(v);
}

static void file_details(struct run_priv *p, const struct run_artifact *ar,
			 const struct run_item_file *f)
{
	const char *k = f->kind ? f->kind : "other";
	if (!strcmp(k, "junit"))
		add_detailf(p, "JUnit report: %d test%s read (the tests that did not pass are "
			       "listed under tests)", f->n_tests, f->n_tests == 1 ? "" : "s");
	else if (!strcmp(k, "metrics"))
		add_detailf(p, "metric file: %d series read (listed under metric series)",
			    f->n_series);
	else if (!strcmp(k, "rejected"))
		add_detailf(p, "not read: %s", f->note ? f->note : "rejected");
	else
		add_detailf(p, "not read: neither a JUnit report nor a metric file%s%s",
			    f->note ? ": " : "", f->note ? f->note : "");
	if (f->note && strcmp(k, "rejected") && strcmp(k, "other"))
		add_detailf(p, "note: %s", f->note);
	/* its text, read again from the run folder (the index keeps what was
	 * read from a file, not its bytes) */
	struct buf text = BUF_INIT;
	bool cut = false;
	struct cs_err err;
	err_clear(&err);
	if (run_artifact_read(app.st, p->run.id, ar->name, f->path, FILE_BYTES, &text, &cut,
			      &err) < 0) {
		add_detailf(p, "%s", err.msg);
	} else if (memchr(buf_cstr(&text), '\0', text.len)) {
		add_detailf(p, "a binary file: not shown");
	} else {
		int left = FILE_LINES;
		add_text(p, buf_cstr(&text), &left);
		if (cut)
			add_detailf(p, "\u2026 the file goes on past %d KiB", FILE_BYTES / 1024);
		else if (!text.len)
			add_detailf(p, "(an empty file)");
	}
	buf_release(&text);
}

static void build_rows(struct run_priv *p)
{
	p->n_rows = 0;
	for (size_t i = 0; i < p->n_details; i++)
		free(p->details[i]);
	p->n_details = 0;
	for (int j = 0; j < p->n_jobs; j++) {
		for (int s = -1; s < p->jobs[j].n_steps; s++)
			add_row(p, s < 0 ? R_JOB : R_STEP, j, s, 0, 0);
		/* a log given alone: say so rather than name a step (as show does) */
		if (!p->jobs[j].n_steps && p->jobs[j].log_id)
			add_detailf(p, "no steps known (the log does not mark them)");
	}
	if (!p->have_items) {
		if (p->items_error[0])
			add_detail(p, p->items_error, strlen(p->items_error));
		return;
	}
	const struct run_items *it = &p->items;
	if (it->n_artifacts) {
		add_row(p, R_SECTION, -1, -1, 0, 0);
		int fi = 0;
		for (int a = 0; a < it->n_artifacts; a++) {
			add_row(p, R_ARTIFACT, -1, -1, a, 0);
			for (int f = 0; f < it->artifacts[a].n_files; f++, fi++) {
				add_row(p, R_FILE, -1, -1, a, f);
				if (fi < p->n_open_file && p->open_file[fi])
					file_details(p, &it->artifacts[a],
						     &it->artifacts[a].files[f]);
			}
		}
	}
	if (it->passed + it->failed + it->errors + it->skipped + it->flaky) {
		add_row(p, R_SECTION, -1, -1, 1, 0);
		for (int t = 0; t < it->n_tests; t++) {
			add_row(p, R_TEST, -1, -1, t, 0);
			if (p->open_test[t])
				test_details(p, &it->tests[t]);
		}
	}
	if (it->n_series) {
		add_row(p, R_SECTION, -1, -1, 2, 0);
		for (int r = 0; r < it->n_series; r++) {
			add_row(p, R_SERIES, -1, -1, r, 0);
			if (p->open_series[r])
				series_details(p, &it->series[r]);
		}
	}
}

/* The index of file f of artifact a among all files (the open flags). */
static int file_index(const struct run_priv *p, int a, int f)
{
	int k = 0;
	for (int i = 0; i < a; i++)
		k += p->items.artifacts[i].n_files;
	return k + f;
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
	/* what else the run brought; a failure here still shows the jobs */
	if (run_items_load(app.st, p->run.id, &p->items, &err) == 0) {
		p->have_items = true;
		p->n_open_file = p->items.n_files;
		p->open_file = xcalloc((size_t)p->items.n_files + 1, sizeof(bool));
		p->open_test = xcalloc((size_t)p->items.n_tests + 1, sizeof(bool));
		p->open_series = xcalloc((size_t)p->items.n_series + 1, sizeof(bool));
	} else {
		snprintf(p->items_error, sizeof(p->items_error), "%s", err.msg);
	}
	build_rows(p);
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
		if (!view_env_parent(v, &env, false, "view-run"))
			return -1;
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
	const char *state = view_state_of(j->status, j->conclusion);
	tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);

	/* right side: findings, log, duration */
	char findings[64] = "", logs[64] = "", dur[32] = "";
	if (j->n_errors || j->n_warnings) {
		char e[24], w[24];
		view_fmt_count(j->n_errors, e, sizeof(e));
		view_fmt_count(j->n_warnings, w, sizeof(w));
		snprintf(findings, sizeof(findings), "%s error%s %s warning%s", e,
			 j->n_errors == 1 ? "" : "s", w, j->n_warnings == 1 ? "" : "s");
	}
	if (j->log_id) {
		char n[24];
		view_fmt_count(j->line_count, n, sizeof(n));
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
	const char *state = view_state_of(s->status, s->conclusion);
	tui_text(c, "  ", 2, ROLE_DEFAULT, 2, 0);
	tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 1, TEXT_PAD);
	char num[16];
	snprintf(num, sizeof(num), " %3d ", s->number);
	tui_text(c, num, (size_t)-1, ROLE_DIM, 0, 0);
	char lines[64] = "", dur[32] = "";
	if (s->first_line > 0 && j->log_id) {
		char a[24], b[24];
		view_fmt_count(s->first_line, a, sizeof(a));
		view_fmt_count(s->last_line, b, sizeof(b));
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

static void draw_section(struct tui_canvas *c, const struct run_items *it, int which)
{
	char buf[256];
	if (which == 0) {
		snprintf(buf, sizeof(buf), "artifacts \u00b7 %d (%d file%s)", it->n_artifacts,
			 it->n_files, it->n_files == 1 ? "" : "s");
	} else if (which == 1) {
		snprintf(buf, sizeof(buf),
			 "tests \u00b7 %d passed, %d failed, %d errors, %d skipped, %d flaky",
			 it->passed, it->failed, it->errors, it->skipped, it->flaky);
	} else {
		snprintf(buf, sizeof(buf), "metric series \u00b7 %d", it->n_series);
	}
	tui_text(c, buf, (size_t)-1, ROLE_HEADER, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

/* name on the left, up to three fields on the right (those that fit) */
static void draw_item(struct tui_canvas *c, int indent, const char *glyph, enum role grole,
		      const char *name, const char *f1, enum role r1, const char *f2, const char *f3)
{
	int width = tui_canvas_width(c);
	tui_text(c, "", 0, ROLE_DEFAULT, indent, TEXT_PAD);
	if (glyph) {
		tui_text(c, glyph, (size_t)-1, grole, 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	int w1 = f1 && *f1 && width >= 50 ? MIN(tui_width(f1, (size_t)-1) + 2, 40) : 0;
	int w2 = f2 && *f2 && width >= 70 ? MIN(tui_width(f2, (size_t)-1) + 2, 30) : 0;
	int w3 = f3 && *f3 && width >= 36 ? 10 : 0;
	int name_w = width - tui_canvas_col(c) - w1 - w2 - w3;
	if (name_w < 8) {
		w1 = w2 = 0;
		name_w = width - tui_canvas_col(c) - w3;
	}
	tui_text(c, name ? name : "", (size_t)-1, ROLE_DEFAULT, name_w > 0 ? name_w : 1, TEXT_PAD);
	/* each field after a blank of its own, so a cut one does not touch
	 * the one before */
	const char *fs[] = {f1, f2, f3};
	int ws[] = {w1, w2, w3};
	enum role rs[] = {r1, ROLE_DIM, ROLE_DIM};
	for (int i = 0; i < 3; i++) {
		if (!ws[i])
			continue;
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
		draw_right(c, fs[i], rs[i], ws[i] - 1);
	}
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void draw_extra(struct run_priv *p, struct tui_canvas *c, const struct tree_row *t)
{
	const struct run_items *it = &p->items;
	char a[128] = "", b[96] = "", sz[32] = "";
	switch (t->kind) {
	case R_SECTION:
		draw_section(c, it, t->item);
		break;
	case R_ARTIFACT: {
		const struct run_artifact *ar = &it->artifacts[t->item];
		snprintf(a, sizeof(a), "%d file%s", ar->n_files, ar->n_files == 1 ? "" : "s");
		run_item_size(ar->size > 0 ? ar->size : -1, sz, sizeof(sz)); /* 0: not known */
		draw_item(c, 2, NULL, ROLE_DEFAULT, ar->name, ar->expired ? "expired" : a,
			  ar->expired ? ROLE_SKIPPED : ROLE_DIM, NULL, sz);
		break;
	}
	case R_FILE: {
		const struct run_item_file *f = &it->artifacts[t->item].files[t->sub];
		const char *k = f->kind ? f->kind : "other";
		if (!strcmp(k, "junit"))
			snprintf(a, sizeof(a), "junit \u00b7 %d test%s", f->n_tests,
				 f->n_tests == 1 ? "" : "s");
		else if (!strcmp(k, "metrics"))
			snprintf(a, sizeof(a), "metrics \u00b7 %d series", f->n_series);
		else
			snprintf(a, sizeof(a), "%s", k);
		run_item_size(f->size, sz, sizeof(sz));
		bool open = p->open_file[file_index(p, t->item, t->sub)];
		draw_item(c, 4, open ? tui_glyph("\u25be", "v") : tui_glyph("\u25b8", ">"), ROLE_DIM,
			  f->path, a, !strcmp(k, "rejected") ? ROLE_WARNING_LINE : ROLE_DIM, NULL, sz);
		break;
	}
	case R_TEST: {
		const struct run_test *tt = &it->tests[t->item];
		struct buf name = BUF_INIT;
		if (tt->classname && *tt->classname) {
			buf_adds(&name, tt->classname);
			buf_adds(&name, " \u203a ");
		}
		buf_adds(&name, tt->name);
		char dur[32] = "";
		if (tt->duration_ms >= 0)
			time_format_duration(tt->duration_ms, dur, sizeof(dur));
		const char *state = !strcmp(tt->outcome ? tt->outcome : "", "flaky") ? "neutral"
											  : "failure";
		snprintf(a, sizeof(a), "%s", tt->outcome ? tt->outcome : "");
		snprintf(b, sizeof(b), "%s", tt->artifact ? tt->artifact : "");
		draw_item(c, 2, view_state_glyph(state),
			  !strcmp(state, "failure") ? ROLE_FAILURE : ROLE_WARNING_LINE,
			  buf_cstr(&name), a, !strcmp(state, "failure") ? ROLE_FAILURE : ROLE_WARNING_LINE,
			  b, dur);
		buf_release(&name);
		break;
	}
	case R_SERIES: {
		const struct run_series *r = &it->series[t->item];
		char last[32], lo[32], hi[32];
		fmt_value(r->last, last, sizeof(last));
		fmt_value(r->min, lo, sizeof(lo));
		fmt_value(r->max, hi, sizeof(hi));
		if (r->n_values == 0)
			snprintf(a, sizeof(a), "no values");
		else if (r->n_values == 1)
			snprintf(a, sizeof(a), "%s", last);
		else
			snprintf(a, sizeof(a), "last %s \u00b7 %s..%s", last, lo, hi);
		snprintf(b, sizeof(b), "%s", r->artifact ? r->artifact : "");
		char pts[32];
		snprintf(pts, sizeof(pts), "%ld pt%s", r->n_points, r->n_points == 1 ? "" : "s");
		draw_item(c, 2, NULL, ROLE_DEFAULT, r->name, a, ROLE_DEFAULT, b, pts);
		break;
	}
	case R_DETAIL:
		tui_text(c, "", 0, ROLE_DEFAULT, 6, TEXT_PAD);
		tui_text(c, p->details[t->item], (size_t)-1, ROLE_DIM, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		break;
	default:
		break;
	}
}

static void run_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct run_priv *p = v->priv;
	if (p->error[0] || !p->n_rows) {
		/* a local run that failed by its checks: why, as show says it */
		char why[320] = "this run has no jobs in the index";
		if (!p->error[0] && p->run.conclusion_why && *p->run.conclusion_why)
			snprintf(why, sizeof(why), "this run has no jobs in the index; %s: %s",
				 p->run.conclusion ? p->run.conclusion : "not completed",
				 p->run.conclusion_why);
		if (row == 0)
			tui_text(c, p->error[0] ? p->error : why, (size_t)-1,
				 p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	if (row < 0 || (size_t)row >= p->n_rows)
		return;
	const struct tree_row *t = &p->rows[row];
	if (t->kind != R_JOB && t->kind != R_STEP) {
		draw_extra(p, c, t);
		return;
	}
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
	if (t->kind != R_JOB && t->kind != R_STEP)
		return false;
	const struct job *j = &p->jobs[t->job];
	if (t->step < 0)
		return ci_conclusion_is_failure(j->conclusion) || j->n_errors > 0;
	return ci_conclusion_is_failure(j->steps[t->step].conclusion);
}

/* Where the cursor starts: on the first failed job (what a user opened a
 * red run for), else on the first job with errors, else on the first row. */
static long first_failed_job(const struct run_priv *p)
{
	long with_errors = -1;
	for (size_t r = 0; r < p->n_rows; r++) {
		const struct tree_row *t = &p->rows[r];
		if (t->kind != R_JOB)
			continue;
		const struct job *j = &p->jobs[t->job];
		if (ci_conclusion_is_failure(j->conclusion))
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

/* Enter on an artifact file, a test or a series: open it in place, or
 * close it (from any of its detail rows too). */
static void toggle_item(struct view *v, struct run_priv *p, const struct tree_row *t)
{
	long at = v->cursor;
	if (t->kind == R_DETAIL) {
		/* the item the detail row belongs to */
		while (at > 0 && p->rows[at].kind == R_DETAIL)
			at--;
		t = &p->rows[at];
	}
	bool *flag = NULL;
	if (t->kind == R_FILE)
		flag = &p->open_file[file_index(p, t->item, t->sub)];
	else if (t->kind == R_TEST)
		flag = &p->open_test[t->item];
	else if (t->kind == R_SERIES)
		flag = &p->open_series[t->item];
	if (!flag) {
		tui_message(t->kind == R_ARTIFACT ? "Enter on one of its files shows what was read from it"
						  : "Enter on a row below opens it");
		return;
	}
	*flag = !*flag;
	/* t points into the rows build_rows replaces */
	enum row_kind kind = t->kind;
	int item = t->item;
	t = NULL;
	build_rows(p);
	tui_view_set_rows(v, p->n_rows ? (long)p->n_rows : 1);
	/* show what opened: its last row first, then back on the item */
	long last = at;
	while ((size_t)last + 1 < p->n_rows && p->rows[last + 1].kind == R_DETAIL)
		last++;
	tui_view_goto(v, last);
	tui_view_goto(v, at);
	if (*flag && kind == R_SERIES && p->items.series[item].n_points > SERIES_POINTS)
		tui_message("the first %d values of %ld", SERIES_POINTS,
			    p->items.series[item].n_points);
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
		if (t && t->kind != R_JOB && t->kind != R_STEP) {
			toggle_item(v, p, t);
		} else if (t) {
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
		if (t && t->job >= 0 && p->jobs[t->job].html_url)
			url = p->jobs[t->job].html_url;
		if (view_open_url(url, msg, sizeof(msg)) < 0)
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
	view_env_set_run(env, &p->run);
	if (p->n_rows && v->cursor >= 0 && (size_t)v->cursor < p->n_rows &&
	    p->rows[v->cursor].job >= 0)
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
	/* the same facts, in the same order, as `ciscope show`'s header;
	 * the head commit's subject (what the runs view shows) when the
	 * run's title is another */
	bool subj = r->commit_subject && *r->commit_subject &&
		    (!r->title || strcmp(r->title, r->commit_subject));
	snprintf(out, n,
		 "run %lld%s \u00b7 %s \u00b7 %s \u00b7 %.7s \u00b7 %s \u00b7 %s \u00b7 %s%s%s",
		 (long long)r->provider_id, att, r->workflow ? r->workflow : "-",
		 r->branch ? r->branch : "-", r->sha ? r->sha : "-", r->event ? r->event : "-",
		 run_state(r), r->title ? r->title : "", subj ? " \u00b7 commit: " : "",
		 subj ? r->commit_subject : "");
}

static void run_status(struct view *v, char *out, size_t n)
{
	struct run_priv *p = v->priv;
	int failed = 0;
	for (int j = 0; j < p->n_jobs; j++)
		failed += ci_conclusion_is_failure(p->jobs[j].conclusion);
	snprintf(out, n, "%d job%s \u00b7 %d failed", p->n_jobs, p->n_jobs == 1 ? "" : "s", failed);
}

static bool run_match(struct view *v, long row, const char *query)
{
	struct run_priv *p = v->priv;
	if (!query || row < 0 || (size_t)row >= p->n_rows)
		return false;
	const struct tree_row *t = &p->rows[row];
	const char *name = NULL;
	switch (t->kind) {
	case R_JOB:
	case R_STEP: {
		const struct job *j = &p->jobs[t->job];
		name = t->step < 0 ? j->name : j->steps[t->step].name;
		break;
	}
	case R_ARTIFACT: name = p->items.artifacts[t->item].name; break;
	case R_FILE: name = p->items.artifacts[t->item].files[t->sub].path; break;
	case R_TEST:
		return strcasestr(p->items.tests[t->item].name, query) ||
		       (p->items.tests[t->item].classname &&
			strcasestr(p->items.tests[t->item].classname, query));
	case R_SERIES: name = p->items.series[t->item].name; break;
	case R_DETAIL: name = p->details[t->item]; break;
	default: break;
	}
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
