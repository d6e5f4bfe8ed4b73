/* t_diff.c - the run diff over a real index: the test diff (new failures,
 * still failing, fixed, new, removed, flaky, slower with its ratio and
 * floor, a test reported twice), jobs paired by name with the unpaired
 * listed, steps side by side, no baseline, and the demo data set's planted
 * failures (generated into the tmpdir by tools/demo-gen.py with its git
 * repository): the rustc error and the Jest assertion are where the diff
 * says to start reading, and the Jest test is the new failing test. */
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/diff.h"
#include "core/gitrepo.h"
#include "core/import.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

extern char **environ;

static struct store *st;

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "t_diff: %s: %s\n", sql, msg);
		exit(2);
	}
}

/* Two runs of one workflow: 1 (green, the baseline) and 2 (red). */
static void setup(void)
{
	if (st)
		return;
	st = t_fresh_store("diff");
	exec("INSERT INTO repos (id, slug) VALUES (1, 't/diff');"
	     "INSERT INTO runs (id, repo_id, provider_id, workflow_name, event, head_branch, head_sha,"
	     " status, conclusion, created_at, imported_at) VALUES"
	     " (1, 1, 1, 'ci', 'push', 'main', 'aaaaaaa', 'completed', 'success', 1000, 0),"
	     " (2, 1, 2, 'ci', 'push', 'main', 'bbbbbbb', 'completed', 'failure', 2000, 0);"
	     "INSERT INTO jobs (id, run_id, provider_id, name, conclusion, started_at, completed_at,"
	     " ordinal) VALUES"
	     " (11, 1, 11, 'build', 'success', 0, 40000, 1),"
	     " (12, 1, 12, 'test (ubuntu, 18)', 'success', 0, 1000, 2),"
	     " (13, 1, 13, 'only-old', 'success', 0, 1000, 3),"
	     " (21, 2, 21, 'build', 'failure', 0, 80000, 1),"
	     " (22, 2, 22, 'test (ubuntu, 18)', 'success', 0, 1000, 2),"
	     " (23, 2, 23, 'only-new', 'success', 0, 1000, 3);"
	     "INSERT INTO steps (job_id, number, name, conclusion, started_at, completed_at) VALUES"
	     " (11, 1, 'Set up', 'success', 0, 10000), (11, 2, 'Compile', 'success', 10000, 30000),"
	     " (11, 3, 'Cache', 'success', 30000, 40000),"
	     " (21, 1, 'Set up', 'success', 0, 10000), (21, 2, 'Compile', 'failure', 10000, 70000),"
	     " (21, 3, 'Upload', 'success', 70000, 80000);"
	     "INSERT INTO artifacts (id, run_id, name) VALUES (1, 1, 'junit'), (2, 2, 'junit');"
	     "INSERT INTO artifact_files (id, artifact_id, path, size, kind) VALUES"
	     " (1, 1, 'a.xml', 1, 'junit'), (2, 2, 'a.xml', 1, 'junit'), (3, 2, 'b.xml', 1, 'junit');"
	     "INSERT INTO test_results (run_id, file_id, classname, name, duration_ms, outcome,"
	     " message) VALUES"
	     " (1, 1, 'a', 't1', 10, 'passed', NULL), (2, 2, 'a', 't1', 10, 'failed', 'boom'),"
	     " (1, 1, 'a', 't2', 10, 'failed', 'x'), (2, 2, 'a', 't2', 10, 'error', 'x'),"
	     " (1, 1, 'a', 't3', 10, 'failed', 'x'), (2, 2, 'a', 't3', 10, 'passed', NULL),"
	     " (2, 2, 'a', 't4', 10, 'passed', NULL),"
	     " (1, 1, 'a', 't5', 10, 'passed', NULL),"
	     " (1, 1, 'a', 't6', 10, 'passed', NULL), (2, 2, 'a', 't6', 10, 'flaky', NULL),"
	     " (1, 1, 'a', 't7', 1000, 'passed', NULL), (2, 2, 'a', 't7', 5000, 'passed', NULL),"
	     " (1, 1, 'a', 't8', 100, 'passed', NULL), (2, 2, 'a', 't8', 1000, 'passed', NULL),"
	     " (1, 1, 'a', 't9', 10, 'passed', NULL), (2, 2, 'a', 't9', 10, 'passed', NULL),"
	     " (2, 3, 'a', 't9', 12, 'failed', 'only on one matrix leg');");
}

static void compute(const struct diff_opts *o, bool with_base, struct run_diff *d)
{
	struct cs_err err;
	struct run r, b;
	CHECK_OK(store_find_run(st, "2", &r, &err));
	CHECK_OK(store_find_run(st, "1", &b, &err));
	CHECK_OK(run_diff_compute(st, NULL, &r, NULL, with_base ? &b : NULL, NULL, o, d, &err));
	run_free(&r);
	run_free(&b);
}

static char *names(const struct run_diff *d, enum diff_test_list l)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < d->tests.n[l]; i++)
		buf_addf(&b, "%s%s", i ? "," : "", d->tests.list[l][i].name);
	return buf_detach(&b, NULL);
}

#define CHECK_LIST(d, l, want)                   \
	do {                                     \
		char *got_ = names(d, l);        \
		CHECK_STR(got_ ? got_ : "", want); \
		free(got_);                      \
	} while (0)

TEST(diff_tests_by_kind)
{
	setup();
	struct run_diff d;
	compute(NULL, true, &d);
	CHECK_LIST(&d, DT_NEW_FAILURES, "t1,t9");
	CHECK_LIST(&d, DT_STILL_FAILING, "t2");
	CHECK_LIST(&d, DT_FIXED, "t3");
	CHECK_LIST(&d, DT_NEW, "t4");
	CHECK_LIST(&d, DT_REMOVED, "t5");
	CHECK_LIST(&d, DT_FLAKY, "t6");
	CHECK_LIST(&d, DT_SLOWER, "t7");
	CHECK_LIST(&d, DT_FAILING, "");
	CHECK_INT(d.tests.run_total, 8);
	CHECK_INT(d.tests.base_total, 8);
	if (d.tests.n[DT_NEW_FAILURES] == 2) {
		const struct diff_test *t9 = &d.tests.list[DT_NEW_FAILURES][1];
		CHECK_STR(t9->message, "only on one matrix leg");
		CHECK_INT(t9->ms, 12);
		CHECK_INT(t9->base_state, TEST_PASSED);
	}
	run_diff_release(&d);

	/* a lower floor and ratio: t8 (100 ms -> 1 s) is slower too, and first
	 * comes the one that lost the most time */
	struct diff_opts o;
	memset(&o, 0, sizeof(o));
	o.log.context = 3;
	o.slower_ratio = 2;
	o.slower_floor_ms = 500;
	compute(&o, true, &d);
	CHECK_LIST(&d, DT_SLOWER, "t7,t8");
	run_diff_release(&d);
	o.slower_ratio = 6; /* t7 is 5x, t8 10x */
	compute(&o, true, &d);
	CHECK_LIST(&d, DT_SLOWER, "t8");
	run_diff_release(&d);
}

TEST(diff_jobs_pair_by_name_and_steps_side_by_side)
{
	setup();
	struct run_diff d;
	compute(NULL, true, &d);
	CHECK(d.has_base);
	CHECK_INT(d.n_pairs, 2);
	CHECK_INT(d.n_unpaired, 1);
	CHECK_INT(d.n_base_unpaired, 1);
	if (d.n_unpaired == 1 && d.n_base_unpaired == 1) {
		CHECK_STR(d.jobs[d.unpaired[0]].name, "only-new");
		CHECK_STR(d.base_jobs[d.base_unpaired[0]].name, "only-old");
	}
	if (d.n_pairs == 2) {
		CHECK_STR(d.base_jobs[d.pairs[1].base_job].name, "test (ubuntu, 18)");
		CHECK(!d.pairs[0].has_log);
		CHECK_STR(d.pairs[0].note, "no log stored for either job");
	}
	/* build: Set up same, Compile failed (was success), Upload added, Cache removed */
	CHECK(d.n_steps >= 1);
	const struct diff_jobstep *js = &d.steps[0];
	CHECK_INT(js->n_steps, 4);
	if (js->n_steps == 4) {
		CHECK_STR(js->steps[0].name, "Set up");
		CHECK_INT(js->steps[0].change, STEP_SAME);
		CHECK_STR(js->steps[1].name, "Compile");
		CHECK_INT(js->steps[1].change, STEP_CHANGED);
		CHECK_INT(js->steps[1].ms, 60000);
		CHECK_INT(js->steps[1].base_ms, 20000);
		CHECK_STR(js->steps[2].name, "Upload");
		CHECK_INT(js->steps[2].change, STEP_ADDED);
		CHECK_STR(js->steps[3].name, "Cache");
		CHECK_INT(js->steps[3].change, STEP_REMOVED);
		CHECK_INT(js->steps[3].base_number, 3);
	}
	run_diff_release(&d);

	/* one job on each side, named: they pair whatever their names */
	struct cs_err err;
	struct run r, b;
	CHECK_OK(store_find_run(st, "2", &r, &err));
	CHECK_OK(store_find_run(st, "1", &b, &err));
	CHECK_OK(run_diff_compute(st, NULL, &r, "only-new", &b, "only-old", NULL, &d, &err));
	CHECK_INT(d.n_pairs, 1);
	CHECK_INT(d.n_unpaired + d.n_base_unpaired, 0);
	run_diff_release(&d);
	CHECK(run_diff_compute(st, NULL, &r, "no-such-job", &b, NULL, NULL, &d, &err) < 0);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK(strstr(err.msg, "run 2") != NULL);
	run_free(&r);
	run_free(&b);
}

TEST(diff_without_a_baseline_still_lists_the_run)
{
	setup();
	struct run_diff d;
	/* run 1 is the oldest: nothing to compare it with */
	struct cs_err err;
	struct run r;
	CHECK_OK(store_find_run(st, "1", &r, &err));
	CHECK_OK(run_diff_compute(st, NULL, &r, NULL, NULL, NULL, NULL, &d, &err));
	CHECK(!d.has_base);
	CHECK_STR(d.reason, "no successful run of ci on main at an earlier commit to compare with");
	CHECK_LIST(&d, DT_FAILING, "t2,t3");
	CHECK_LIST(&d, DT_NEW_FAILURES, "");
	CHECK_LIST(&d, DT_REMOVED, "");
	CHECK_INT(d.n_pairs, 0);
	CHECK_INT(d.n_unpaired, 3);
	run_diff_release(&d);
	run_free(&r);
	/* run 2 finds run 1 itself */
	CHECK_OK(store_find_run(st, "2", &r, &err));
	CHECK_OK(run_diff_compute(st, NULL, &r, NULL, NULL, NULL, NULL, &d, &err));
	CHECK(d.has_base);
	CHECK_INT(d.base.provider_id, 1);
	CHECK(strstr(d.reason, "newest green run on main before this one") == d.reason);
	run_diff_release(&d);
	run_free(&r);
}

/* The diff in parts (the TUI's work queue): begin does no log work, each
 * step one part, and the result is the one-call diff's. */
TEST(diff_in_parts_equals_the_whole)
{
	setup();
	struct cs_err err;
	struct run r, b;
	struct run_diff whole, parts;
	CHECK_OK(store_find_run(st, "2", &r, &err));
	CHECK_OK(store_find_run(st, "1", &b, &err));
	CHECK_OK(run_diff_compute(st, NULL, &r, NULL, &b, NULL, NULL, &whole, &err));
	CHECK_OK(run_diff_begin(st, NULL, &r, NULL, &b, NULL, NULL, &parts, &err));
	CHECK_INT(parts.work_done, 0);
	CHECK_INT(parts.work_total, parts.n_pairs + 2);
	CHECK_INT(parts.tests.run_total, 0); /* not yet */
	int steps = 0, rc;
	while ((rc = run_diff_step(st, NULL, &parts, &err)) > 0) {
		steps++;
		CHECK_INT(parts.work_done, steps);
	}
	CHECK_INT(rc, 0);
	CHECK_INT(steps + 1, parts.work_total);
	CHECK_INT(parts.work_done, parts.work_total);
	/* a step after the end changes nothing */
	CHECK_INT(run_diff_step(st, NULL, &parts, &err), 0);
	CHECK_INT(parts.work_done, parts.work_total);
	CHECK_INT(parts.n_pairs, whole.n_pairs);
	CHECK(parts.new_lines == whole.new_lines);
	for (int l = 0; l < DT_COUNT; l++)
		CHECK_INT(parts.tests.n[l], whole.tests.n[l]);
	for (int p = 0; p < parts.n_pairs && p < whole.n_pairs; p++) {
		CHECK(parts.pairs[p].first_new == whole.pairs[p].first_new);
		CHECK_INT(parts.pairs[p].log.n_hunks, whole.pairs[p].log.n_hunks);
	}
	run_diff_release(&whole);
	/* released half way (a cancelled view): nothing leaks (ASan) */
	run_diff_release(&parts);
	CHECK_OK(run_diff_begin(st, NULL, &r, NULL, &b, NULL, NULL, &parts, &err));
	CHECK_INT(run_diff_step(st, NULL, &parts, &err), 1);
	run_diff_release(&parts);
	run_free(&r);
	run_free(&b);
}

/* --- the demo data set ------------------------------------------------------------------ */
static struct gitrepo *demo_git;
static const cJSON *manifest;

static struct store *demo(void)
{
	if (demo_git)
		return t_demo();
	manifest = t_demo_manifest();
	char *repo = xasprintf("%s/repo", t_demo_dir());
	demo_git = gitrepo_open(repo);
	if (!demo_git) {
		fprintf(stderr, "t_diff: the demo has no git repository at %s\n", repo);
		exit(2);
	}
	free(repo);
	return t_demo();
}

/* Where planted failure kind shows first: "RUN:ATTEMPT" and its job. */
static void shows_in(const char *kind, char spec[64], const char **job)
{
	demo();
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(manifest, "planted");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, kind);
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k, "shows_in"), 0);
	if (!e) {
		fprintf(stderr, "t_diff: the demo manifest has no planted %s\n", kind);
		exit(2);
	}
	snprintf(spec, 64, "%.0f:%.0f", cJSON_GetObjectItemCaseSensitive(e, "run_id")->valuedouble,
		 cJSON_GetObjectItemCaseSensitive(e, "attempt")->valuedouble);
	*job = cJSON_GetObjectItemCaseSensitive(e, "job")->valuestring;
}

/* The diff of the job a planted failure shows in, against the chosen baseline. */
static bool demo_diff_at(const char *kind, const char *spec, const char *job,
			 const struct diff_opts *o, struct run_diff *d);

static bool demo_diff(const char *kind, struct run_diff *d)
{
	char spec[64];
	const char *job;
	shows_in(kind, spec, &job);
	return demo_diff_at(kind, spec, job, NULL, d);
}

static bool demo_diff_at(const char *kind, const char *spec, const char *job,
			 const struct diff_opts *o, struct run_diff *d)
{
	struct cs_err err;
	struct run r;
	if (store_find_run(demo(), spec, &r, &err) < 0) {
		t_fail(__FILE__, __LINE__, "%s: %s", kind, err.msg);
		return false;
	}
	int rc = run_diff_compute(demo(), demo_git, &r, job, NULL, NULL, o, d, &err);
	run_free(&r);
	if (rc < 0) {
		t_fail(__FILE__, __LINE__, "%s: %s", kind, err.msg);
		return false;
	}
	if (!d->has_base || d->n_pairs != 1 || !d->pairs[0].has_log) {
		t_fail(__FILE__, __LINE__, "%s: no baseline or no log diff (%s)", kind, d->reason);
		run_diff_release(d);
		return false;
	}
	return true;
}

/* The text of run line n in the job's hunks. */
static const struct ld_line *line_at(const struct diff_job *dj, uint64_t n)
{
	for (int h = 0; h < dj->log.n_hunks; h++)
		for (int i = 0; i < dj->log.hunks[h].n_lines; i++)
			if (dj->log.hunks[h].lines[i].run_line == n)
				return &dj->log.hunks[h].lines[i];
	return NULL;
}

TEST(diff_demo_rustc_error_is_where_to_start_reading)
{
	struct run_diff d;
	if (!demo_diff("rustc_error", &d))
		return;
	/* a pull request: the baseline is main where the branch forked */
	CHECK(strstr(d.reason, "pull request base: main") == d.reason);
	const struct diff_job *dj = &d.pairs[0];
	const struct ld_line *l = line_at(dj, dj->first_new);
	CHECK(l != NULL);
	if (l) {
		CHECK_STR(l->text, "error[E0308]: mismatched types");
		CHECK_INT(l->op, '+');
		CHECK(l->finding);
	}
	const struct ld_line *at = line_at(dj, dj->first_new + 1);
	CHECK(at && strstr(at->text, "engine-rs/src/integrator.rs:88:17"));
	run_diff_release(&d);
}

TEST(diff_demo_jest_assertion_is_the_new_failing_test)
{
	struct run_diff d;
	if (!demo_diff("jest_failure", &d))
		return;
	CHECK(d.tests.n[DT_NEW_FAILURES] == 1);
	if (d.tests.n[DT_NEW_FAILURES] == 1) {
		CHECK_STR(d.tests.list[DT_NEW_FAILURES][0].name, "conserves energy");
		CHECK_INT(d.tests.list[DT_NEW_FAILURES][0].base_state, TEST_PASSED);
	}
	const struct diff_job *dj = &d.pairs[0];
	const struct ld_line *l = line_at(dj, dj->first_new);
	CHECK(l && strstr(l->text, "FAIL") && strstr(l->text, "engine-ts/test/integrator.test.ts"));
	/* the assertion and where it failed are among the first new lines */
	bool assertion = false, where = false;
	int seen = 0;
	for (int h = 0; h < dj->log.n_hunks && seen < 30; h++)
		for (int i = 0; i < dj->log.hunks[h].n_lines && seen < 30; i++) {
			const struct ld_line *x = &dj->log.hunks[h].lines[i];
			if (x->run_line < dj->first_new || x->op != '+')
				continue;
			seen++;
			assertion |= strstr(x->text, "integrator \xe2\x80\xba conserves energy") != NULL;
			where |= strstr(x->text, "engine-ts/test/integrator.test.ts:42:31") != NULL;
		}
	CHECK(assertion);
	CHECK(where);
	run_diff_release(&d);
}

TEST(diff_demo_parity_regression_first_violation)
{
	demo();
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "planted"), "parity_regression");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(p, "divergence_step");
	struct cs_err err;
	struct parity_conf *pc = parity_conf_load(NULL, &err);
	CHECK(pc != NULL);
	if (!pc || !steps)
		return;
	struct diff_opts o;
	memset(&o, 0, sizeof(o));
	o.log.context = 3;
	o.slower_floor_ms = -1;
	o.parity = pc;
	int checked = 0;
	/* every run that shows the regression and uploaded its series */
	for (const cJSON *e = steps->child; e; e = e->next) {
		struct run_diff d;
		char spec[64];
		snprintf(spec, sizeof(spec), "%s", e->string);
		if (!demo_diff_at("parity_regression", spec, "parity", &o, &d))
			continue;
		if (d.has_parity && d.parity.n_channels) {
			const struct parity_channel *ch = parity_report_find(&d.parity, "energy");
			CHECK(ch != NULL);
			CHECK(d.parity.fail);
			if (ch) {
				CHECK(ch->first_violation.set);
				CHECK_INT((long)ch->first_violation.x, (long)e->valuedouble);
			}
			CHECK(d.has_metrics && d.metrics.n > 0);
			checked++;
		}
		run_diff_release(&d);
	}
	CHECK(checked >= 3);
	parity_conf_free(pc);
}
