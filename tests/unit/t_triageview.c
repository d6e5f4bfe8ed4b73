/* t_triageview.c - what core gives the triage view and the run list: the
 * filter language (core/triagequery.h), the batched "failed only by known
 * flakes" mark, the findings of a fingerprint across runs, and triage_ensure
 * in slices, and the view's model (core/triagetree.h: pages of runs and
 * fingerprints, rows, folds, the cursor's place, filters, states). Over
 * the demo data set (tools/demo-gen.py, generated into the
 * tmpdir and imported once) where an index is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/import.h"
#include "core/store.h"
#include "core/triage.h"
#include "core/triagequery.h"
#include "core/triagetree.h"
#include "core/util.h"
#include "test.h"
#include "testdemo.h"

extern char **environ;

/* --- the filter language ------------------------------------------------------------- */
static void parses_to(const char *text, const char *canonical)
{
	struct triage_query q;
	struct cs_err err;
	err_clear(&err);
	if (triage_query_parse(text, &q, &err) < 0) {
		t_fail(__FILE__, __LINE__, "'%s' does not parse: %s", text, err.msg);
		triage_query_free(&q);
		return;
	}
	struct buf b = BUF_INIT;
	triage_query_format(&q, &b);
	CHECK_STR(buf_cstr(&b), canonical);
	/* the canonical text parses back to the same query */
	struct triage_query q2;
	CHECK_OK(triage_query_parse(buf_cstr(&b), &q2, &err));
	struct buf b2 = BUF_INIT;
	triage_query_format(&q2, &b2);
	CHECK_STR(buf_cstr(&b2), canonical);
	triage_query_free(&q);
	triage_query_free(&q2);
	buf_release(&b);
	buf_release(&b2);
}

static void refused(const char *text, const char *says)
{
	struct triage_query q;
	struct cs_err err;
	err_clear(&err);
	int rc = triage_query_parse(text, &q, &err);
	triage_query_free(&q);
	if (rc == 0) {
		t_fail(__FILE__, __LINE__, "'%s' parsed; expected an error", text);
		return;
	}
	CHECK_INT(err.code, CS_EUSAGE);
	if (!strstr(err.msg, says))
		t_fail(__FILE__, __LINE__, "'%s': '%s' does not say '%s'", text, err.msg, says);
}

TEST(query_parses_and_prints_back)
{
	parses_to("", "");
	parses_to("   \t ", "");
	parses_to("category:test", "category:test");
	parses_to("branch:main state:new workflow:ci category:compile",
		  "category:compile state:new workflow:ci branch:main");
	/* keys are case-insensitive, categories and states too; values of
	 * workflow and branch are exact */
	parses_to("CATEGORY:Network State:Known-Flaky Workflow:CI", "category:network "
									"state:known-flaky workflow:CI");
	parses_to("state:flaky", "state:known-flaky");
	parses_to("state:ack", "state:acknowledged");
	parses_to("state:fixed", "state:fixed");
	/* the state nobody set is called untriaged; the index keeps 'new' */
	parses_to("state:untriaged", "state:new");
	/* flaky: filters by the history column */
	parses_to("flaky:yes", "flaky:yes");
	parses_to("FLAKY:No category:oom", "category:oom flaky:no");
	refused("flaky:maybe", "say flaky:yes or flaky:no");
	refused("flaky:yes flaky:no", "given twice");
	parses_to("workflow:\"CI tests\" branch:feat:x", "workflow:\"CI tests\" branch:feat:x");
	parses_to("branch:\"a\\\"b\\\\c\"", "branch:\"a\\\"b\\\\c\"");
	parses_to("\"\" category:oom", "category:oom");

	struct triage_query q;
	struct cs_err err;
	CHECK_OK(triage_query_parse("workflow:ci branch:dev state:new category:lint", &q, &err));
	struct triage_filter f = {.limit = 7, .offset = 3};
	triage_query_apply(&q, &f);
	CHECK_STR(f.workflow, "ci");
	CHECK_STR(f.branch, "dev");
	CHECK_STR(f.state, "new");
	CHECK_STR(f.category, "lint");
	CHECK_INT(f.limit, 7);
	CHECK_INT(f.offset, 3);
	CHECK(!triage_query_empty(&q));
	triage_query_free(&q);
	CHECK(triage_query_empty(&q));
	CHECK_OK(triage_query_parse(NULL, &q, &err));
	CHECK(triage_query_empty(&q));
}

TEST(query_refuses_what_it_cannot_mean)
{
	refused("test", "say which field");
	refused("category:test oops", "say which field");
	refused("colour:red", "unknown filter 'colour:'");
	refused("category:tests", "unknown category 'tests'");
	refused("category:ignore state:x", "unknown category");
	refused("state:closed", "unknown state 'closed'");
	refused("branch:", "needs a value");
	refused("branch:\"\"", "needs a value");
	refused("branch:a branch:b", "given twice");
	refused("workflow:\"CI", "unterminated quote at column 10");
	refused(":x", "say which field");
	/* hostile: long, control characters, invalid UTF-8: an error, never a crash */
	char big[5000];
	memset(big, 'k', sizeof(big) - 3);
	big[sizeof(big) - 3] = ':';
	big[sizeof(big) - 2] = 'v';
	big[sizeof(big) - 1] = '\0';
	refused(big, "unknown filter");
	refused("branch:x\x1b]52;c;AAAA\x07 \xff\xfe", "say which field");
}

/* --- over the demo data set ------------------------------------------------------------ */
static const cJSON *manifest;

static struct store *demo(void)
{
	manifest = t_demo_manifest();
	return t_demo();
}

/* Every run of the index, by row id. */
static int64_t *all_runs(struct store *st, int *n)
{
	sqlite3_stmt *s;
	int64_t *ids = NULL;
	size_t alloc = 0;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM runs ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		XGROW(ids, alloc, (size_t)*n + 1);
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return ids;
}

/* The fingerprint of the planted flaky network failure (its only finding). */
static void flaky_fp(char fp[FP_HEX_LEN + 1], int64_t *failed_run, int64_t *passed_run)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "planted"), "flaky_network");
	double id = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pl, "run_id"));
	char spec[64];
	snprintf(spec, sizeof(spec), "%.0f:1", id);
	*failed_run = t_run_row(t_demo(), spec);
	snprintf(spec, sizeof(spec), "%.0f:2", id);
	*passed_run = t_run_row(t_demo(), spec);
	fp[0] = '\0';
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT f.fingerprint FROM triage_findings f JOIN jobs j ON j.id = f.job_id "
		 "WHERE j.run_id = %lld AND f.shown ORDER BY f.rank LIMIT 1",
		 (long long)*failed_run);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(t_demo()->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		snprintf(fp, FP_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* triage_runs_known_flaky agrees with triage_run_summary for every run. */
static void marks_agree(struct store *st, int *n_marked)
{
	int n;
	int64_t *ids = all_runs(st, &n);
	bool *out = xcalloc((size_t)n + 1, sizeof(bool));
	struct cs_err err;
	CHECK_OK(triage_runs_known_flaky(st, ids, n, out, &err));
	*n_marked = 0;
	for (int i = 0; i < n; i++) {
		struct triage_run_summary s;
		CHECK_OK(triage_run_summary(st, ids[i], &s, &err));
		if (s.all_known_flaky != out[i])
			t_fail(__FILE__, __LINE__, "run #%lld: batched %d, summary %d",
			       (long long)ids[i], out[i], s.all_known_flaky);
		*n_marked += out[i];
	}
	free(out);
	free(ids);
}

TEST(demo_runs_failed_only_by_known_flakes)
{
	struct store *st = demo();
	struct cs_err err;
	char fp[FP_HEX_LEN + 1], full[FP_HEX_LEN + 1];
	int64_t failed, passed;
	flaky_fp(fp, &failed, &passed);
	CHECK(fp[0] != '\0');
	int marked;
	marks_agree(st, &marked);
	CHECK_INT(marked, 0); /* nothing is known flaky in a fresh index */

	CHECK_OK(triage_set_state(st, fp, "known-flaky", "registry blips", "Tess Ter", full, &err));
	marks_agree(st, &marked);
	CHECK_INT(marked, 1);
	int64_t ids[3] = {passed, failed, failed};
	bool out[3] = {true, false, false};
	CHECK_OK(triage_runs_known_flaky(st, ids, 3, out, &err));
	CHECK(!out[0]); /* the green attempt failed by nothing */
	CHECK(out[1] && out[2]);

	/* more ids than one query takes: every one answered, in order */
	int n = 1234;
	int64_t *many = xcalloc((size_t)n, sizeof(int64_t));
	bool *res = xcalloc((size_t)n, sizeof(bool));
	for (int i = 0; i < n; i++)
		many[i] = i % 3 == 0 ? failed : i % 3 == 1 ? passed : -(int64_t)i;
	CHECK_OK(triage_runs_known_flaky(st, many, n, res, &err));
	int wrong = 0;
	for (int i = 0; i < n; i++)
		wrong += res[i] != (i % 3 == 0);
	CHECK_INT(wrong, 0);
	free(many);
	free(res);
	CHECK_OK(triage_runs_known_flaky(st, NULL, 0, NULL, &err));

	/* a run with one known-flaky and one other failure is not marked */
	CHECK_OK(triage_set_state(st, fp, "acknowledged", NULL, "Tess Ter", full, &err));
	marks_agree(st, &marked);
	CHECK_INT(marked, 0);
	CHECK_OK(triage_set_state(st, fp, "new", NULL, "Tess Ter", full, &err));
}

TEST(demo_findings_of_a_fingerprint_across_runs)
{
	struct store *st = demo();
	struct cs_err err;
	sqlite3_stmt *s;
	/* the fingerprint seen in the most jobs */
	char fp[FP_HEX_LEN + 1] = "";
	if (sqlite3_prepare_v2(st->db,
			       "SELECT fingerprint FROM triage_findings GROUP BY fingerprint "
			       "ORDER BY count(*) DESC, fingerprint LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		snprintf(fp, sizeof(fp), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	CHECK(fp[0]);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM triage_findings WHERE fingerprint = '%s'", fp);
	int64_t want = t_count(st, sql);
	CHECK(want >= 3);

	struct triage_finding *f;
	int n;
	CHECK_OK(triage_fingerprint_findings(st, fp, 0, &f, &n, &err));
	CHECK_INT(n, want);
	int64_t last_created = INT64_MAX;
	for (int i = 0; i < n; i++) {
		CHECK_STR(f[i].fingerprint, fp);
		CHECK(f[i].job_name != NULL && f[i].run_row_id > 0 && f[i].job_row_id > 0);
		char spec[32];
		snprintf(spec, sizeof(spec), "#%lld", (long long)f[i].run_row_id);
		struct run r;
		CHECK_OK(store_find_run(st, spec, &r, &err));
		CHECK(r.created_at <= last_created); /* newest first */
		last_created = r.created_at;
		run_free(&r);
		/* the same finding as the job's own list gives */
		struct triage_finding *jf;
		int jn;
		CHECK_OK(triage_job_findings(st, f[i].job_row_id, false, &jf, &jn, &err));
		bool found = false;
		for (int k = 0; k < jn; k++) {
			if (jf[k].id != f[i].id)
				continue;
			found = true;
			CHECK_INT(jf[k].line, f[i].line);
			CHECK_INT(jf[k].n_excerpt, f[i].n_excerpt);
			CHECK_STR(jf[k].rule, f[i].rule);
			CHECK_INT(jf[k].decision, f[i].decision);
		}
		CHECK(found);
		triage_findings_free(jf, jn);
	}
	triage_findings_free(f, n);
	CHECK_OK(triage_fingerprint_findings(st, fp, 2, &f, &n, &err));
	CHECK_INT(n, 2);
	triage_findings_free(f, n);
	CHECK_OK(triage_fingerprint_findings(st, "0000000000000000", 0, &f, &n, &err));
	CHECK_INT(n, 0);
	CHECK(f == NULL);
}

TEST(demo_ensure_in_slices)
{
	struct store *st = demo();
	struct cs_err err;
	const struct ruleset *rs = triage_rules(&err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	/* an index from before triage for some runs, stale rules for others */
	int64_t findings = t_count(st, "SELECT count(*) FROM triage_findings");
	int64_t jobs = t_count(st, "SELECT count(*) FROM triage_jobs");
	CHECK(sqlite3_exec(st->db,
			   "DELETE FROM triage_findings WHERE job_id IN (SELECT job_id FROM "
			   "triage_jobs ORDER BY job_id LIMIT 4);"
			   "DELETE FROM triage_jobs WHERE job_id IN (SELECT job_id FROM triage_jobs "
			   "ORDER BY job_id LIMIT 4);"
			   "UPDATE triage_jobs SET version = 'old' WHERE job_id IN (SELECT job_id "
			   "FROM triage_jobs ORDER BY job_id DESC LIMIT 3);",
			   NULL, NULL, NULL) == SQLITE_OK);
	int64_t stale = t_count(st, "SELECT count(DISTINCT j.run_id) FROM jobs j JOIN runs r ON "
				  "r.id = j.run_id LEFT JOIN triage_jobs t ON t.job_id = j.id WHERE "
				  "r.conclusion = 'failure' AND j.conclusion = 'failure' AND "
				  "(t.job_id IS NULL OR t.version = 'old')");
	CHECK(stale >= 2);

	struct triage_ensure_job *job = triage_ensure_begin(st, rs, &err);
	CHECK(job != NULL);
	if (!job)
		return;
	int done, total, nj;
	triage_ensure_progress(job, &done, &total, &nj);
	CHECK_INT(done, 0);
	CHECK_INT(total, stale);
	int steps = 0, rc;
	while ((rc = triage_ensure_step(job, 1, &err)) == 1) {
		steps++;
		triage_ensure_progress(job, &done, &total, NULL);
		CHECK_INT(done, steps);
		/* each slice is committed: nothing is left open between them */
		CHECK(sqlite3_get_autocommit(st->db));
	}
	CHECK_INT(rc, 0);
	CHECK_INT(steps + 1, stale);
	triage_ensure_progress(job, &done, &total, &nj);
	CHECK_INT(done, total);
	CHECK(nj >= 7);
	CHECK_INT(triage_ensure_step(job, 1, &err), 0); /* done stays done */
	triage_ensure_free(job);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings"), findings);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs"), jobs);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs WHERE version = 'old'"), 0);

	/* up to date: nothing to do */
	job = triage_ensure_begin(st, rs, &err);
	CHECK(job != NULL);
	triage_ensure_progress(job, &done, &total, NULL);
	CHECK_INT(total, 0);
	CHECK_INT(triage_ensure_step(job, 5, &err), 0);
	triage_ensure_free(job);
	triage_ensure_free(NULL);

	/* another writer holds the index: the slice fails with a message, rolls
	 * back, and a later step does the work */
	CHECK(sqlite3_exec(st->db, "UPDATE triage_jobs SET version = 'old'", NULL, NULL, NULL) ==
	      SQLITE_OK);
	struct store *other = store_open(t_demo_db(), STORE_RW, &err);
	CHECK(other != NULL);
	if (other) {
		sqlite3_busy_timeout(other->db, 0); /* fail now, not in 5 s */
		job = triage_ensure_begin(other, rs, &err);
		CHECK(job != NULL);
		CHECK_OK(store_begin(st, &err));
		if (job) {
			err_clear(&err);
			CHECK_INT(triage_ensure_step(job, 2, &err), -1);
			CHECK(strstr(err.msg, "locked") != NULL);
			CHECK(sqlite3_get_autocommit(other->db));
			triage_ensure_progress(job, &done, &total, NULL);
			CHECK_INT(done, 0);
		}
		store_rollback(st);
		if (job) {
			while ((rc = triage_ensure_step(job, 50, &err)) == 1)
				;
			CHECK_INT(rc, 0);
			triage_ensure_free(job);
		}
		store_close(other);
	}
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs WHERE version = 'old'"), 0);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings"), findings);
	int n;
	CHECK_OK(triage_ensure(st, rs, &n, &err));
}

/* --- the model (triagetree.h) --------------------------------------------------------- */
/* A tree over the demo index, everything loaded in mode m. */
static void load_all(struct triage_tree *t, enum tt_mode m)
{
	tt_init(t, demo());
	t->mode = m;
	int steps = 0;
	while (tt_load_step(t) && steps < 100000)
		steps++;
	CHECK_STR(t->error, "");
	tt_build_rows(t);
}

static int rows_of(const struct triage_tree *t, enum tt_kind k)
{
	int n = 0;
	for (size_t i = 0; i < t->nrows; i++)
		n += t->rows[i].kind == k;
	return n;
}

TEST(by_run_rows)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	CHECK(t.nruns > TT_PAGE_RUNS); /* more than one page was loaded */
	CHECK(t.runs_done);
	CHECK(!t.runs_capped);
	/* every failed run of the index, newest first */
	struct cs_err err;
	struct run newest;
	CHECK_OK(store_newest_failed_run(demo(), NULL, &newest, &err));
	CHECK_INT(t.runs[0].r.id, newest.id);
	run_free(&newest);
	int jobs = 0, findings = 0;
	for (int i = 0; i < t.nruns; i++) {
		CHECK(ci_conclusion_is_failure(t.runs[i].r.conclusion));
		if (i)
			CHECK(t.runs[i - 1].r.created_at >= t.runs[i].r.created_at);
		for (int k = 0; k < t.runs[i].nj; k++) {
			jobs++;
			findings += t.runs[i].jobs[k].nf;
		}
	}
	/* nothing folded, no finding open: a run, its jobs, their findings */
	CHECK_INT(rows_of(&t, TT_RUN), t.nruns);
	CHECK_INT(rows_of(&t, TT_JOB), jobs);
	CHECK_INT(rows_of(&t, TT_FIND), findings);
	CHECK_INT(t.nrows, (size_t)(t.nruns + jobs + findings));
	CHECK_INT(t.n_failures, findings);
	CHECK(t.n_untriaged <= t.n_failures && t.n_new <= t.n_failures);
	CHECK(t.cat_w >= 4 && t.cat_w <= 14);
	CHECK_INT(t.rows[0].kind, TT_RUN);
	/* every finding's history is cached, and rows name their findings */
	for (size_t i = 0; i < t.nrows; i++) {
		const struct tt_row *r = &t.rows[i];
		if (r->kind != TT_FIND) {
			CHECK(r->kind == TT_RUN || tt_row_finding(&t, (long)i) == NULL);
			continue;
		}
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		CHECK(f == &t.runs[r->a].jobs[r->b].f[r->c]);
		CHECK(tt_hist_find(&t, f->fingerprint) != NULL);
		CHECK_STR(tt_row_fp(&t, (long)i), f->fingerprint);
	}
	CHECK(tt_row_finding(&t, -1) == NULL);
	CHECK(tt_row_finding(&t, (long)t.nrows) == NULL);
	CHECK(tt_row_fp(&t, (long)t.nrows + 5) == NULL);
	tt_release(&t);
}

TEST(folds_and_the_cursor)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	/* a finding of the first run that has one */
	long at = -1;
	for (size_t i = 0; i < t.nrows && at < 0; i++)
		if (t.rows[i].kind == TT_FIND)
			at = (long)i;
	CHECK(at >= 0);
	if (at < 0) {
		tt_release(&t);
		return;
	}
	struct tt_row fr = t.rows[at];
	const struct triage_finding *f = tt_row_finding(&t, at);
	/* unfolding it shows its details right under it */
	t.runs[fr.a].jobs[fr.b].open[fr.c] = true;
	size_t before = t.nrows;
	tt_build_rows(&t);
	int exc = rows_of(&t, TT_EXC);
	CHECK_INT(exc, f->n_excerpt);
	CHECK_INT(rows_of(&t, TT_RULE), 1);
	CHECK_INT(rows_of(&t, TT_HIST), 1);
	CHECK(t.nrows > before);
	CHECK_INT(tt_find_row(&t, &fr), at);
	CHECK_INT(t.rows[at + 1].kind, TT_HIST);
	/* an excerpt row: its finding, and the finding holds it */
	long ex = -1;
	for (size_t i = 0; i < t.nrows && ex < 0; i++)
		if (t.rows[i].kind == TT_EXC)
			ex = (long)i;
	CHECK(ex > at);
	struct tt_row er = t.rows[ex];
	CHECK(tt_row_finding(&t, ex) == f);
	/* folding the job: the excerpt row is gone, the cursor goes to its job */
	t.runs[fr.a].jobs[fr.b].folded = true;
	tt_build_rows(&t);
	CHECK_INT(tt_find_row(&t, &er), -1);
	long j = tt_locate(&t, &er);
	CHECK(j >= 0);
	if (j >= 0) {
		CHECK_INT(t.rows[j].kind, TT_JOB);
		CHECK_INT(t.rows[j].a, fr.a);
		CHECK_INT(t.rows[j].b, fr.b);
	}
	/* folding the run: to the run */
	t.runs[fr.a].folded = true;
	tt_build_rows(&t);
	long r = tt_locate(&t, &er);
	CHECK(r >= 0);
	if (r >= 0) {
		CHECK_INT(t.rows[r].kind, TT_RUN);
		CHECK_INT(t.rows[r].a, fr.a);
	}
	struct tt_row msg = {.kind = TT_MSG};
	CHECK_INT(tt_locate(&t, &msg), -1);
	tt_release(&t);
}

TEST(by_fingerprint_rows)
{
	struct triage_tree t;
	load_all(&t, TT_BY_FP);
	CHECK(t.ngroups > 0);
	CHECK_INT(rows_of(&t, TT_GROUP), t.ngroups);
	CHECK_INT(t.n_failures, t.ngroups);
	for (size_t i = 0; i < t.nrows; i++)
		CHECK_STR(tt_row_fp(&t, (long)i), t.groups[t.rows[i].a].fp);
	/* unfolding a fingerprint lists where it was seen */
	struct tt_group *g = &t.groups[0];
	struct cs_err err;
	g->open = true;
	CHECK_OK(tt_load_occurrences(&t, g, &err));
	CHECK(g->occ_loaded);
	CHECK(g->nocc > 0 && g->nocc <= TT_OCC_MAX);
	CHECK_OK(tt_load_occurrences(&t, g, &err)); /* once */
	tt_build_rows(&t);
	CHECK_INT(rows_of(&t, TT_OCC), g->nocc);
	CHECK_INT(rows_of(&t, TT_OCCHEAD), 1);
	for (size_t i = 0; i < t.nrows; i++) {
		if (t.rows[i].kind != TT_OCC)
			continue;
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		CHECK(f == &g->occ[t.rows[i].b]);
		CHECK_STR(f->fingerprint, g->fp);
		CHECK_INT(g->occ_run[t.rows[i].b].id, f->run_row_id);
	}
	tt_release(&t);
}

TEST(filters_and_states)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	/* the category of some finding: only findings of it remain */
	const char *cat = NULL;
	char fp[FP_HEX_LEN + 1] = "";
	for (size_t i = 0; i < t.nrows && !cat; i++) {
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		if (f && f->category) {
			cat = f->category;
			snprintf(fp, sizeof(fp), "%s", f->fingerprint);
		}
	}
	CHECK(cat != NULL);
	if (!cat) {
		tt_release(&t);
		return;
	}
	char *want = xstrdup(cat);
	int all = t.n_failures;
	t.q.category = xstrdup(want);
	tt_build_rows(&t);
	CHECK(t.n_failures > 0 && t.n_failures <= all);
	for (size_t i = 0; i < t.nrows; i++) {
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		if (t.rows[i].kind == TT_FIND)
			CHECK_STR(f->category, want);
	}
	triage_query_free(&t.q);

	/* a state nobody has set: nothing listed, one row says so */
	CHECK_STR(tt_state_of(&t, fp), "new");
	t.q.state = xstrdup("fixed");
	tt_build_rows(&t);
	CHECK_INT(t.nrows, 1);
	CHECK_INT(t.rows[0].kind, TT_MSG);
	CHECK_INT(t.n_failures, 0);
	CHECK(tt_row_fp(&t, 0) == NULL);

	/* set it: the tree learns it on refresh, and the filter shows it */
	struct cs_err err;
	char full[FP_HEX_LEN + 1];
	CHECK_OK(triage_set_state(demo(), fp, "fixed", "by the unit test", "tester", full, &err));
	CHECK_STR(tt_state_of(&t, fp), "new"); /* cached */
	CHECK_OK(tt_refresh_state(&t, full, &err));
	CHECK_STR(tt_state_of(&t, fp), "fixed");
	tt_build_rows(&t);
	CHECK(t.n_failures > 0);
	for (size_t i = 0; i < t.nrows; i++)
		if (t.rows[i].kind == TT_FIND)
			CHECK_STR(tt_state_of(&t, tt_row_fp(&t, (long)i)), "fixed");
	const struct tt_hist *h = tt_hist_find(&t, fp);
	CHECK(h && h->h.note && !strcmp(h->h.note, "by the unit test"));
	CHECK_OK(triage_set_state(demo(), fp, "new", NULL, "tester", full, &err));
	CHECK_OK(tt_refresh_state(&t, full, &err));
	CHECK_STR(tt_state_of(&t, fp), "new");
	/* an unknown fingerprint: new, not flaky */
	CHECK_STR(tt_state_of(&t, "0123456789abcdef"), "new");
	CHECK(!tt_is_flaky(NULL));
	free(want);
	tt_release(&t);
}

/* One run's failures (the run view's "triage this run"). */
TEST(only_one_run)
{
	struct triage_tree all;
	load_all(&all, TT_BY_RUN);
	CHECK(all.nruns > 1);
	int64_t id = all.runs[1].r.id;
	int nj = all.runs[1].nj;
	tt_release(&all);
	struct triage_tree t;
	tt_init(&t, demo());
	t.only_run = id;
	CHECK(!tt_load_step(&t));
	CHECK(t.runs_done);
	CHECK_INT(t.nruns, 1);
	CHECK_INT(t.runs[0].r.id, id);
	CHECK_INT(t.runs[0].nj, nj);
	tt_build_rows(&t);
	CHECK_INT(rows_of(&t, TT_RUN), 1);
	tt_release(&t);
	/* a run that is not there: an error in the tree, a message row */
	tt_init(&t, demo());
	t.only_run = 987654321;
	CHECK(!tt_load_step(&t));
	CHECK(t.error[0] != '\0');
	tt_build_rows(&t);
	CHECK_INT(t.nrows, 1);
	CHECK_INT(t.rows[0].kind, TT_MSG);
	tt_release(&t);
}
