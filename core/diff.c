/* diff.c - a run against its baseline (see diff.h). */
#include "diff.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triage.h"

#define DIFF_MESSAGE_MAX 500

/* --- tests ---------------------------------------------------------------------------- */
static const char *const list_names[DT_COUNT] = {
	"new_failures", "still_failing", "fixed", "new", "removed", "flaky", "slower", "failing",
};

const char *diff_test_list_name(enum diff_test_list l)
{
	return (unsigned)l < DT_COUNT ? list_names[l] : "?";
}

const char *diff_test_state_name(enum test_state s)
{
	switch (s) {
	case TEST_PASSED: return "passed";
	case TEST_FAILED: return "failed";
	case TEST_SKIPPED: return "skipped";
	case TEST_FLAKY: return "flaky";
	default: return "absent";
	}
}

/* One test of one run, its reports merged. */
struct trow {
	char *classname, *name;
	enum test_state state;
	int64_t ms;
	char *message;
};

struct tset {
	struct trow *r;
	int n;
	size_t alloc;
};

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_trow(const void *x, const void *y)
{
	const struct trow *a = x, *b = y;
	int c = cmp_str(a->classname, b->classname);
	return c ? c : cmp_str(a->name, b->name);
}

static enum test_state state_of(const char *outcome, int reruns)
{
	if (!strcmp(outcome, "failed") || !strcmp(outcome, "error"))
		return TEST_FAILED;
	if (!strcmp(outcome, "skipped"))
		return TEST_SKIPPED;
	if (!strcmp(outcome, "flaky") || reruns > 0)
		return TEST_FLAKY;
	return TEST_PASSED;
}

/* Merging reports of one test: failed wins, then flaky, then passed. */
static int state_rank(enum test_state s)
{
	switch (s) {
	case TEST_FAILED: return 3;
	case TEST_FLAKY: return 2;
	case TEST_PASSED: return 1;
	default: return 0;
	}
}

static char *col_dup(sqlite3_stmt *s, int i, size_t max)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	if (!t)
		return NULL;
	size_t n = strlen(t);
	return xstrndup(t, n > max ? utf8_complete_prefix(t, max) : n);
}

static int load_tests(struct store *st, int64_t run_row_id, struct tset *out, struct cs_err *err)
{
	sqlite3_stmt *s;
	out->n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT classname, name, outcome, duration_ms, reruns, message "
			       "FROM test_results WHERE run_id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read test results");
	sqlite3_bind_int64(s, 1, run_row_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(out->r, out->alloc, (size_t)out->n + 1);
		struct trow *t = &out->r[out->n++];
		t->classname = col_dup(s, 0, 4096);
		t->name = col_dup(s, 1, 4096);
		if (!t->name)
			t->name = xstrdup("");
		const char *oc = (const char *)sqlite3_column_text(s, 2);
		t->state = state_of(oc ? oc : "", sqlite3_column_int(s, 4));
		t->ms = sqlite3_column_type(s, 3) == SQLITE_NULL ? CS_TIME_NONE
								 : sqlite3_column_int64(s, 3);
		t->message = t->state == TEST_FAILED ? col_dup(s, 5, DIFF_MESSAGE_MAX) : NULL;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot read test results");
	if (out->n)
		qsort(out->r, (size_t)out->n, sizeof(*out->r), cmp_trow);
	/* merge the reports of one test */
	int w = 0;
	for (int i = 0; i < out->n; i++) {
		if (w && !cmp_trow(&out->r[w - 1], &out->r[i])) {
			struct trow *k = &out->r[w - 1], *t = &out->r[i];
			if (state_rank(t->state) > state_rank(k->state)) {
				k->state = t->state;
				if (t->message) {
					free(k->message);
					k->message = t->message;
					t->message = NULL;
				}
			}
			if (t->ms != CS_TIME_NONE && (k->ms == CS_TIME_NONE || t->ms > k->ms))
				k->ms = t->ms;
			free(t->classname);
			free(t->name);
			free(t->message);
			continue;
		}
		out->r[w++] = out->r[i];
	}
	out->n = w;
	return 0;
}

static void tset_free(struct tset *t)
{
	for (int i = 0; i < t->n; i++) {
		free(t->r[i].classname);
		free(t->r[i].name);
		free(t->r[i].message);
	}
	free(t->r);
}

static void add_test(struct diff_tests *dt, enum diff_test_list l, const struct trow *run,
		     const struct trow *base)
{
	const struct trow *any = run ? run : base;
	XGROW(dt->list[l], dt->alloc[l], (size_t)dt->n[l] + 1);
	struct diff_test *t = &dt->list[l][dt->n[l]++];
	t->classname = any->classname ? xstrdup(any->classname) : NULL;
	t->name = xstrdup(any->name);
	t->state = run ? run->state : TEST_ABSENT;
	t->base_state = base ? base->state : TEST_ABSENT;
	t->ms = run ? run->ms : CS_TIME_NONE;
	t->base_ms = base ? base->ms : CS_TIME_NONE;
	t->message = run && run->message ? xstrdup(run->message) : NULL;
}

static int cmp_slower(const void *x, const void *y)
{
	const struct diff_test *a = x, *b = y;
	int64_t da = a->ms - a->base_ms, db = b->ms - b->base_ms;
	if (da != db)
		return da > db ? -1 : 1;
	int c = cmp_str(a->classname, b->classname);
	return c ? c : cmp_str(a->name, b->name);
}

static void compare_tests(const struct tset *run, const struct tset *base, double ratio,
			  int64_t floor_ms, struct diff_tests *dt)
{
	dt->run_total = run->n;
	dt->base_total = base ? base->n : 0;
	int i = 0, j = 0, nb = base ? base->n : 0;
	while (i < run->n || j < nb) {
		int c = i >= run->n ? 1 : j >= nb ? -1 : cmp_trow(&run->r[i], &base->r[j]);
		const struct trow *r = c <= 0 ? &run->r[i] : NULL;
		const struct trow *b = c >= 0 ? &base->r[j] : NULL;
		if (r)
			i++;
		if (b)
			j++;
		if (!r) {
			add_test(dt, DT_REMOVED, NULL, b);
			continue;
		}
		if (!base) {
			/* alone: the run's failures and flaky tests, nothing relative */
			if (r->state == TEST_FAILED)
				add_test(dt, DT_FAILING, r, NULL);
			if (r->state == TEST_FLAKY)
				add_test(dt, DT_FLAKY, r, NULL);
			continue;
		}
		bool rf = r->state == TEST_FAILED;
		bool bf = b && b->state == TEST_FAILED;
		bool rp = r->state == TEST_PASSED || r->state == TEST_FLAKY;
		bool bp = b && (b->state == TEST_PASSED || b->state == TEST_FLAKY);
		if (rf && !bf)
			add_test(dt, DT_NEW_FAILURES, r, b);
		if (rf && bf)
			add_test(dt, DT_STILL_FAILING, r, b);
		if (bf && rp)
			add_test(dt, DT_FIXED, r, b);
		if (!b)
			add_test(dt, DT_NEW, r, NULL);
		if (r->state == TEST_FLAKY)
			add_test(dt, DT_FLAKY, r, b);
		if (rp && bp && r->ms != CS_TIME_NONE && b->ms != CS_TIME_NONE &&
		    (double)r->ms >= ratio * (double)b->ms && r->ms - b->ms >= floor_ms)
			add_test(dt, DT_SLOWER, r, b);
	}
	if (dt->n[DT_SLOWER])
		qsort(dt->list[DT_SLOWER], (size_t)dt->n[DT_SLOWER], sizeof(struct diff_test),
		      cmp_slower);
}

/* --- steps ------------------------------------------------------------------------------- */
static int64_t span(int64_t a, int64_t b)
{
	return a == CS_TIME_NONE || b == CS_TIME_NONE || b < a ? CS_TIME_NONE : b - a;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void add_step(struct diff_jobstep *js, size_t *alloc, const struct step *r,
		     const struct step *b)
{
	XGROW(js->steps, *alloc, (size_t)js->n_steps + 1);
	struct diff_step *s = &js->steps[js->n_steps++];
	s->name = xstrdup(r ? r->name : b->name);
	s->number = r ? r->number : 0;
	s->base_number = b ? b->number : 0;
	s->conclusion = r ? dup_or_null(r->conclusion) : NULL;
	s->base_conclusion = b ? dup_or_null(b->conclusion) : NULL;
	s->ms = r ? span(r->started_at, r->completed_at) : CS_TIME_NONE;
	s->base_ms = b ? span(b->started_at, b->completed_at) : CS_TIME_NONE;
	s->change = !b ? STEP_ADDED : !r ? STEP_REMOVED
		    : cmp_str(r->conclusion, b->conclusion) ? STEP_CHANGED : STEP_SAME;
}

/* Steps pair by name, in the run's order; the baseline's unpaired steps
 * follow where they stood. */
static void compare_steps(const struct job *rj, const struct job *bj, struct diff_jobstep *js)
{
	size_t alloc = 0;
	int nb = bj ? bj->n_steps : 0;
	bool *used = xcalloc((size_t)MAX(nb, 1), sizeof(bool));
	int next_base = 0;
	for (int i = 0; rj && i < rj->n_steps; i++) {
		int k = -1;
		for (int x = 0; x < nb && k < 0; x++)
			if (!used[x] && !strcmp(bj->steps[x].name, rj->steps[i].name))
				k = x;
		if (k >= 0) {
			for (; next_base < k; next_base++)
				if (!used[next_base]) {
					used[next_base] = true;
					add_step(js, &alloc, NULL, &bj->steps[next_base]);
				}
			used[k] = true;
			next_base = MAX(next_base, k + 1);
		}
		add_step(js, &alloc, &rj->steps[i], k >= 0 ? &bj->steps[k] : NULL);
	}
	for (int x = 0; x < nb; x++)
		if (!used[x])
			add_step(js, &alloc, NULL, &bj->steps[x]);
	free(used);
}

/* --- the whole diff -------------------------------------------------------------------- */
static int log_marks(struct store *st, const struct job *j, struct ld_mark **marks, int *n,
		     struct cs_err *err)
{
	struct triage_finding *f;
	int nf;
	*marks = NULL;
	*n = 0;
	if (triage_job_findings(st, j->id, false, &f, &nf, err) < 0)
		return -1;
	*marks = xcalloc((size_t)MAX(nf, 1), sizeof(**marks));
	for (int i = 0; i < nf; i++)
		if (f[i].line > 0)
			(*marks)[(*n)++] = (struct ld_mark){f[i].line, f[i].end_line};
	triage_findings_free(f, nf);
	return 0;
}

/* Where to start reading: the first new line of the failed step, else the
 * first new line triage marked, else the first new line. */
static void first_new(const struct job *rj, struct diff_job *dj)
{
	const struct step *failed = NULL;
	for (int k = 0; k < rj->n_steps && !failed; k++)
		if (ci_conclusion_is_failure(rj->steps[k].conclusion) && rj->steps[k].first_line)
			failed = &rj->steps[k];
	for (int pass = failed ? 0 : 1; pass < 3 && !dj->first_new; pass++)
		for (int h = 0; h < dj->log.n_hunks && !dj->first_new; h++) {
			const struct ld_hunk *hk = &dj->log.hunks[h];
			for (int i = 0; i < hk->n_lines; i++) {
				const struct ld_line *l = &hk->lines[i];
				if (l->op != '+' && l->op != '~')
					continue;
				if (pass == 0 && ((int64_t)l->run_line < failed->first_line ||
						  (int64_t)l->run_line > failed->last_line))
					continue;
				if (pass == 1 && !l->finding)
					continue;
				dj->first_new = l->run_line;
				dj->first_new_step = pass == 0 ? failed->number : hk->step;
				break;
			}
		}
}

static const struct diff_opts *opts_or_default(const struct diff_opts *o)
{
	static const struct diff_opts def = {.log = {.context = 3}, .slower_floor_ms = -1};
	return o ? o : &def;
}

int run_diff_begin(struct store *st, struct gitrepo *g, const struct run *r, const char *run_job,
		   const struct run *base, const char *base_job, const struct diff_opts *o,
		   struct run_diff *out, struct cs_err *err)
{
	o = opts_or_default(o);
	memset(out, 0, sizeof(*out));
	run_copy(&out->run, r);
	if (base) {
		run_copy(&out->base, base);
		out->has_base = true;
		out->base_given = true;
		snprintf(out->reason, sizeof(out->reason), "named on the command line");
	} else {
		struct baseline bl;
		if (baseline_choose(st, g, r, o->base_branch, &bl, err) < 0)
			return -1;
		snprintf(out->reason, sizeof(out->reason), "%s", bl.reason);
		snprintf(out->note, sizeof(out->note), "%s", bl.note);
		if (bl.found) {
			out->base = bl.base;
			out->has_base = true;
			bl.found = false;
		}
		baseline_release(&bl);
	}
	if (store_jobs(st, r->id, &out->jobs, &out->n_jobs, err) < 0)
		goto fail;
	if (out->has_base && store_jobs(st, out->base.id, &out->base_jobs, &out->n_base_jobs, err) < 0)
		goto fail;

	/* which jobs take part */
	int only = -1, base_only = -1;
	if (run_job && (only = store_find_job(out->jobs, out->n_jobs, run_job, err)) < 0) {
		err_prefix(err, "run %lld", (long long)r->provider_id);
		goto fail;
	}
	if (base_job && out->has_base &&
	    (base_only = store_find_job(out->base_jobs, out->n_base_jobs, base_job, err)) < 0) {
		err_prefix(err, "run %lld", (long long)out->base.provider_id);
		goto fail;
	}
	bool *used = xcalloc((size_t)MAX(out->n_base_jobs, 1), sizeof(bool));
	size_t pa = 0, ua = 0, ba = 0, sa = 0;
	for (int i = 0; i < out->n_jobs; i++) {
		if (only >= 0 && i != only)
			continue;
		int k = -1;
		if (base_only >= 0)
			k = base_only;
		else
			for (int x = 0; x < out->n_base_jobs && k < 0; x++)
				if (!used[x] && !strcmp(out->base_jobs[x].name, out->jobs[i].name))
					k = x;
		if (k < 0) {
			XGROW(out->unpaired, ua, (size_t)out->n_unpaired + 1);
			out->unpaired[out->n_unpaired++] = i;
		} else {
			used[k] = true;
			XGROW(out->pairs, pa, (size_t)out->n_pairs + 1);
			struct diff_job *p = &out->pairs[out->n_pairs++];
			memset(p, 0, sizeof(*p));
			p->run_job = i;
			p->base_job = k;
			logdiff_init(&p->log);
		}
		XGROW(out->steps, sa, (size_t)out->n_steps + 1);
		struct diff_jobstep *js = &out->steps[out->n_steps++];
		memset(js, 0, sizeof(*js));
		js->run_job = i;
		js->base_job = k;
		compare_steps(&out->jobs[i], k >= 0 ? &out->base_jobs[k] : NULL, js);
	}
	for (int x = 0; x < out->n_base_jobs; x++) {
		if (used[x] || base_only >= 0 || only >= 0)
			continue;
		XGROW(out->base_unpaired, ba, (size_t)out->n_base_unpaired + 1);
		out->base_unpaired[out->n_base_unpaired++] = x;
		XGROW(out->steps, sa, (size_t)out->n_steps + 1);
		struct diff_jobstep *js = &out->steps[out->n_steps++];
		memset(js, 0, sizeof(*js));
		js->run_job = -1;
		js->base_job = x;
		compare_steps(NULL, &out->base_jobs[x], js);
	}
	free(used);
	out->work_total = out->n_pairs + 2;
	return 0;
fail:
	run_diff_release(out);
	return -1;
}

/* One paired job's log diff. */
static int diff_pair(struct store *st, const struct diff_opts *o, struct run_diff *out, int p,
		     struct cs_err *err)
{
	{
		struct diff_job *dj = &out->pairs[p];
		const struct job *rj = &out->jobs[dj->run_job], *bj = &out->base_jobs[dj->base_job];
		if (!rj->log_id || !bj->log_id) {
			dj->note = xasprintf("no log stored for %s",
					     !rj->log_id && !bj->log_id ? "either job"
					     : !rj->log_id		 ? "the run's job"
									 : "the baseline's job");
			return 0;
		}
		struct ld_mark *marks;
		int nm;
		if (log_marks(st, rj, &marks, &nm, err) < 0)
			return -1;
		int rc = logdiff_logs(st, rj->log_id, bj->log_id, &o->log, rj->steps, rj->n_steps,
				      marks, nm, &dj->log, err);
		free(marks);
		if (rc < 0) {
			err_prefix(err, "cannot diff the logs of job '%s'", rj->name);
			return -1;
		}
		dj->has_log = true;
		out->new_lines += dj->log.added + dj->log.updated;
		first_new(rj, dj);
	}
	return 0;
}

static int diff_tests(struct store *st, const struct diff_opts *o, struct run_diff *out,
		      struct cs_err *err)
{
	double ratio = o->slower_ratio > 0 ? o->slower_ratio : DIFF_SLOWER_RATIO;
	int64_t floor_ms = o->slower_floor_ms >= 0 ? o->slower_floor_ms : DIFF_SLOWER_FLOOR_MS;
	struct tset rt = {0}, bt = {0};
	if (load_tests(st, out->run.id, &rt, err) < 0 ||
	    (out->has_base && load_tests(st, out->base.id, &bt, err) < 0)) {
		tset_free(&rt);
		tset_free(&bt);
		return -1;
	}
	compare_tests(&rt, out->has_base ? &bt : NULL, ratio, floor_ms, &out->tests);
	tset_free(&rt);
	tset_free(&bt);
	return 0;
}

static int diff_metrics(struct store *st, const struct diff_opts *o, struct run_diff *out,
			struct cs_err *err)
{
	int64_t run_id = out->run.id;
	if (out->has_base) {
		if (metric_compare_runs(st, run_id, out->base.id, &out->metrics, err) < 0)
			return -1;
		out->has_metrics = true;
	}
	if (o->parity) {
		if (parity_run(st, o->parity, run_id, NULL, o->parity_flags, &out->parity, err) < 0)
			return -1;
		out->has_parity = true;
		if (out->has_base && out->parity.n_channels) {
			if (parity_runs(st, o->parity, run_id, out->base.id, NULL, 0,
					&out->parity_vs_base, err) < 0)
				return -1;
			out->has_parity_vs_base = out->parity_vs_base.n_channels > 0;
			if (!out->has_parity_vs_base)
				parity_report_release(&out->parity_vs_base);
		}
	}
	return 0;
}

int run_diff_step(struct store *st, const struct diff_opts *o, struct run_diff *out,
		  struct cs_err *err)
{
	o = opts_or_default(o);
	int k = out->work_done;
	int rc = k < out->n_pairs	 ? diff_pair(st, o, out, k, err)
		 : k == out->n_pairs	 ? diff_tests(st, o, out, err)
		 : k == out->n_pairs + 1 ? diff_metrics(st, o, out, err)
					 : 0;
	if (rc < 0) {
		run_diff_release(out);
		return -1;
	}
	if (out->work_done < out->work_total)
		out->work_done++;
	return out->work_done < out->work_total;
}

int run_diff_compute(struct store *st, struct gitrepo *g, const struct run *r,
		     const char *run_job, const struct run *base, const char *base_job,
		     const struct diff_opts *o, struct run_diff *out, struct cs_err *err)
{
	if (run_diff_begin(st, g, r, run_job, base, base_job, o, out, err) < 0)
		return -1;
	int rc;
	while ((rc = run_diff_step(st, o, out, err)) > 0)
		;
	return rc;
}

int run_diff_metrics_moved(const struct run_diff *d)
{
	int n = 0;
	for (int i = 0; d->has_metrics && i < d->metrics.n; i++)
		n += d->metrics.items[i].changed;
	return n;
}

bool run_diff_slower(const struct diff_opts *o, int64_t ms, int64_t base_ms)
{
	double ratio = o->slower_ratio > 0 ? o->slower_ratio : DIFF_SLOWER_RATIO;
	int64_t floor_ms = o->slower_floor_ms >= 0 ? o->slower_floor_ms : DIFF_SLOWER_FLOOR_MS;
	return ms != CS_TIME_NONE && base_ms != CS_TIME_NONE && ms - base_ms >= floor_ms &&
	       (double)ms >= ratio * (double)base_ms;
}

int run_diff_slower_steps(const struct run_diff *d, const struct diff_opts *o)
{
	int n = 0;
	for (int s = 0; s < d->n_steps; s++)
		for (int i = 0; i < d->steps[s].n_steps; i++)
			n += run_diff_slower(o, d->steps[s].steps[i].ms, d->steps[s].steps[i].base_ms);
	return n;
}

static void plural(struct buf *b, long n, const char *one, const char *many)
{
	buf_addf(b, "%ld %s", n, n == 1 ? one : many);
}

void run_diff_summary_text(struct buf *b, const struct run_diff *d, const struct diff_opts *o)
{
	int jobs_with = 0;
	for (int i = 0; i < d->n_pairs; i++)
		jobs_with += d->pairs[i].has_log && d->pairs[i].log.shown > 0;
	plural(b, (long)d->new_lines, "new log line", "new log lines");
	buf_adds(b, " in ");
	plural(b, jobs_with, "job", "jobs");
	buf_adds(b, " \xc2\xb7 ");
	plural(b, d->tests.n[DT_NEW_FAILURES], "new failing test", "new failing tests");
	buf_adds(b, " \xc2\xb7 ");
	plural(b, run_diff_slower_steps(d, o), "slower step", "slower steps");
	buf_adds(b, " \xc2\xb7 ");
	plural(b, run_diff_metrics_moved(d), "metric moved", "metrics moved");
}

int64_t run_diff_job_ms(const struct job *j)
{
	if (!j || j->started_at == CS_TIME_NONE || j->completed_at == CS_TIME_NONE ||
	    j->completed_at < j->started_at)
		return CS_TIME_NONE;
	return j->completed_at - j->started_at;
}

void run_diff_duration_text(struct buf *b, int64_t ms, int64_t base_ms)
{
	char t[32], u[32];
	time_format_duration(ms, t, sizeof(t));
	time_format_duration(base_ms, u, sizeof(u));
	buf_addf(b, "%s (was %s", t, u);
	if (ms != CS_TIME_NONE && base_ms != CS_TIME_NONE) {
		int64_t dms = ms - base_ms;
		time_format_duration(dms < 0 ? -dms : dms, t, sizeof(t));
		buf_addf(b, ", %c%s", dms < 0 ? '-' : '+', t);
		if (base_ms > 0)
			buf_addf(b, ", %+.0f%%", 100.0 * (double)dms / (double)base_ms);
	}
	buf_addc(b, ')');
}

void run_diff_test_note(struct buf *b, enum diff_test_list l, const struct diff_test *x)
{
	if (l == DT_NEW_FAILURES)
		buf_addf(b, " (%s before)", diff_test_state_name(x->base_state));
	if (l == DT_SLOWER) {
		buf_adds(b, "  ");
		run_diff_duration_text(b, x->ms, x->base_ms);
	}
}

bool run_diff_step_jobs(const struct run_diff *d, int x, const struct job **rj,
			const struct job **bj)
{
	const struct diff_jobstep *js = &d->steps[x];
	*rj = js->run_job >= 0 ? &d->jobs[js->run_job] : NULL;
	*bj = js->base_job >= 0 ? &d->base_jobs[js->base_job] : NULL;
	return *rj && *bj;
}

void run_diff_release(struct run_diff *d)
{
	run_free(&d->run);
	if (d->has_base)
		run_free(&d->base);
	store_jobs_free(d->jobs, d->n_jobs);
	store_jobs_free(d->base_jobs, d->n_base_jobs);
	for (int p = 0; p < d->n_pairs; p++) {
		logdiff_release(&d->pairs[p].log);
		free(d->pairs[p].note);
	}
	free(d->pairs);
	free(d->unpaired);
	free(d->base_unpaired);
	for (int l = 0; l < DT_COUNT; l++) {
		for (int i = 0; i < d->tests.n[l]; i++) {
			free(d->tests.list[l][i].classname);
			free(d->tests.list[l][i].name);
			free(d->tests.list[l][i].message);
		}
		free(d->tests.list[l]);
	}
	for (int s = 0; s < d->n_steps; s++) {
		for (int i = 0; i < d->steps[s].n_steps; i++) {
			free(d->steps[s].steps[i].name);
			free(d->steps[s].steps[i].conclusion);
			free(d->steps[s].steps[i].base_conclusion);
		}
		free(d->steps[s].steps);
	}
	free(d->steps);
	if (d->has_metrics)
		metric_compare_release(&d->metrics);
	if (d->has_parity)
		parity_report_release(&d->parity);
	if (d->has_parity_vs_base)
		parity_report_release(&d->parity_vs_base);
	memset(d, 0, sizeof(*d));
}

int run_diff_new_lines(struct store *st, struct gitrepo *g, const struct run *r, bool *found,
		       struct run *base, uint64_t *new_lines, struct cs_err *err)
{
	*found = false;
	*new_lines = 0;
	struct baseline bl;
	if (baseline_choose(st, g, r, NULL, &bl, err) < 0)
		return -1;
	if (!bl.found) {
		baseline_release(&bl);
		return 0;
	}
	struct job *jobs = NULL, *bjobs = NULL;
	int n = 0, nb = 0, rc = -1;
	if (store_jobs(st, r->id, &jobs, &n, err) < 0 ||
	    store_jobs(st, bl.base.id, &bjobs, &nb, err) < 0)
		goto out;
	struct logdiff_opts lo = {0, false, 1};
	for (int i = 0; i < n; i++) {
		if (!triage_job_failed(r, &jobs[i]) || !jobs[i].log_id)
			continue;
		int k = store_find_job(bjobs, nb, jobs[i].name, err);
		if (k < 0 || strcmp(bjobs[k].name, jobs[i].name) || !bjobs[k].log_id) {
			err_clear(err);
			continue;
		}
		struct logdiff d;
		logdiff_init(&d);
		if (logdiff_logs(st, jobs[i].log_id, bjobs[k].log_id, &lo, NULL, 0, NULL, 0, &d,
				 err) < 0)
			goto out;
		*new_lines += d.added + d.updated;
		logdiff_release(&d);
	}
	*found = true;
	run_copy(base, &bl.base);
	rc = 0;
out:
	store_jobs_free(jobs, n);
	store_jobs_free(bjobs, nb);
	baseline_release(&bl);
	return rc;
}
