/* t_triage.c - triage over an index: the demo data set's planted failures
 * (generated once into the tmpdir by tools/demo-gen.py and imported, which
 * triages them), fingerprints across runs, flakiness, history, states,
 * retriage, and scenarios built as run folders here: a result flipping
 * without a commit, conclusions without logs, JUnit failures, the fallback,
 * and hostile logs (a million warnings, 10 MB lines, escape sequences).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/import.h"
#include "core/rules.h"
#include "core/store.h"
#include "core/triage.h"
#include "core/util.h"
#include "test.h"
#include "testdemo.h"

extern char **environ;

/* --- helpers ------------------------------------------------------------------------- */
static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", t_tmpdir(), name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static void mkdirs(const char *path)
{
	struct cs_err err;
	if (mkdir_p(path, 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
}

static void import_ok(struct store *st, const char *path)
{
	struct cs_err err;
	struct importer *im = importer_new(st, NULL);
	err_clear(&err);
	if (import_path(im, path, &err) < 0)
		t_fail(__FILE__, __LINE__, "import '%s': %s", path, err.msg);
	importer_free(im);
}

/* The findings of a job (by name) of a run (spec); *n = -1 when not found. */
static struct triage_finding *findings(struct store *st, const char *spec, const char *job,
				       bool shown_only, int *n)
{
	*n = -1;
	struct cs_err err;
	struct job *jobs;
	int nj;
	int64_t row = t_run_row(st, spec);
	if (!row || store_jobs(st, row, &jobs, &nj, &err) < 0)
		return NULL;
	int k = store_find_job(jobs, nj, job, &err);
	struct triage_finding *f = NULL;
	if (k >= 0 && triage_job_findings(st, jobs[k].id, shown_only, &f, n, &err) < 0)
		t_fail(__FILE__, __LINE__, "%s", err.msg);
	if (k < 0)
		t_fail(__FILE__, __LINE__, "run %s has no job %s", spec, job);
	store_jobs_free(jobs, nj);
	return f;
}

static const struct ruleset *rules(void)
{
	struct cs_err err;
	const struct ruleset *rs = triage_rules(&err);
	if (!rs) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	return rs;
}

/* --- the demo data set ------------------------------------------------------------------ */
static const cJSON *manifest;

static struct store *demo(void)
{
	manifest = t_demo_manifest();
	return t_demo();
}

static const cJSON *planted(const char *kind)
{
	demo();
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(manifest, "planted");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, kind);
	if (!k) {
		fprintf(stderr, "t_triage: the demo manifest has no planted %s\n", kind);
		exit(2);
	}
	return k;
}

static const char *mstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Where a planted failure shows: "RUN:ATTEMPT" and job of shows_in[i]. */
static bool shows_in(const char *kind, int i, char spec[64], const char **job)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(planted(kind), "shows_in");
	const cJSON *e = cJSON_GetArrayItem(s, i);
	if (!e)
		return false;
	snprintf(spec, 64, "%.0f:%.0f", cJSON_GetObjectItemCaseSensitive(e, "run_id")->valuedouble,
		 cJSON_GetObjectItemCaseSensitive(e, "attempt")->valuedouble);
	*job = mstr(e, "job");
	return true;
}

/* The top finding of the first job a planted failure shows in. */
static void check_planted(const char *kind, const char *rule, const char *category,
			  const char *decision, const char *in_text, int line)
{
	char spec[64];
	const char *job;
	if (!shows_in(kind, 0, spec, &job)) {
		t_fail(__FILE__, line, "%s: nowhere in the manifest", kind);
		return;
	}
	int n;
	struct triage_finding *f = findings(demo(), spec, job, true, &n);
	if (n <= 0) {
		t_fail(__FILE__, line, "%s (%s/%s): no finding", kind, spec, job);
	} else {
		if (strcmp(f[0].rule, rule) || strcmp(f[0].category, category) ||
		    strcmp(decision_name(f[0].decision), decision))
			t_fail(__FILE__, line, "%s: top finding %s %s %s, expected %s %s %s", kind,
			       f[0].rule, f[0].category, decision_name(f[0].decision), rule, category,
			       decision);
		bool found = false;
		for (int i = 0; i < f[0].n_excerpt; i++)
			found |= strstr(f[0].excerpt[i].text, in_text) != NULL;
		if (!found)
			t_fail(__FILE__, line, "%s: the excerpt does not show '%s'", kind, in_text);
	}
	triage_findings_free(f, n);
}

TEST(demo_every_failed_job_is_triaged_at_import)
{
	struct store *st = demo();
	int64_t failed = t_count(st, "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id "
				   "WHERE j.conclusion IN ('failure', 'timed_out', 'startup_failure') "
				   "OR (j.conclusion = 'cancelled' AND r.conclusion = 'failure')");
	CHECK(failed >= 20);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs"), failed);
	char version[64];
	triage_version(rules(), version, sizeof(version));
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM triage_jobs WHERE version = '%s'", version);
	CHECK_INT(t_count(st, sql), failed);
	/* nothing to do for ensure: the import did it */
	struct cs_err err;
	int n = -1;
	CHECK_OK(triage_ensure(st, rules(), &n, &err));
	CHECK_INT(n, 0);
	/* every failed job has something to read, within the cap */
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs t WHERE NOT EXISTS (SELECT 1 FROM "
			    "triage_findings f WHERE f.job_id = t.job_id AND f.shown)"), 0);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs WHERE n_lines > 40"), 0);
	/* successful jobs are not triaged */
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings f JOIN jobs j ON j.id = f.job_id "
			    "WHERE j.conclusion = 'success'"), 0);
}

TEST(demo_planted_failures_are_classified)
{
	check_planted("rustc_error", "rustc-error", "compile", "fix", "error[E0308]: mismatched types",
		      __LINE__);
	check_planted("jest_failure", "jest-failure", "test", "fix", "integrator \xe2\x80\xba conserves energy",
		      __LINE__);
	check_planted("python_traceback", "python-traceback", "crash", "fix",
		      "KeyError: 'wasm_size_kb'", __LINE__);
	check_planted("timeout", "gha-timeout", "timeout", "retry", "exceeded the maximum execution time",
		      __LINE__);
	check_planted("oom_kill", "oom-kill", "oom", "retry", "Killed", __LINE__);
	check_planted("parity_regression", "parity", "parity", "fix", "diverged at step", __LINE__);
	check_planted("feature_branch_test_failure", "nextest-fail", "test", "fix",
		      "adaptive::tests::respects_min_dt", __LINE__);
	check_planted("flaky_network", "npm-network", "network", "retry", "ECONNRESET", __LINE__);
	/* a multi-line finding is one: the rustc error with its notes */
	char spec[64];
	const char *job;
	shows_in("rustc_error", 0, spec, &job);
	int n;
	struct triage_finding *f = findings(demo(), spec, job, true, &n);
	CHECK(n >= 1);
	if (n >= 1) {
		CHECK(f[0].end_line - f[0].line >= 10);
		CHECK(strstr(f[0].key_text, "--> engine-rs/src/integrator.rs:88:17") != NULL);
		CHECK(f[0].step_number > 0 && f[0].step_name != NULL);
		CHECK_STR(f[0].source, "rule");
	}
	triage_findings_free(f, n);
	/* the JUnit report names the Jest test: the log finding carries it */
	shows_in("jest_failure", 0, spec, &job);
	f = findings(demo(), spec, job, true, &n);
	CHECK(n >= 1 && f[0].test_name && strstr(f[0].test_name, "conserves energy"));
	triage_findings_free(f, n);
}

static void fingerprints_of(const char *kind, char fps[][FP_HEX_LEN + 1], int *n)
{
	*n = 0;
	char spec[64];
	const char *job;
	for (int i = 0; shows_in(kind, i, spec, &job) && *n < 16; i++) {
		int nf;
		struct triage_finding *f = findings(demo(), spec, job, true, &nf);
		if (nf > 0)
			memcpy(fps[(*n)++], f[0].fingerprint, FP_HEX_LEN + 1);
		triage_findings_free(f, nf);
	}
}

TEST(demo_fingerprints_are_stable_across_runs)
{
	static const char *const kinds[] = {"rustc_error", "python_traceback", "timeout", "oom_kill",
					     "parity_regression", "jest_failure"};
	char first[ARRAY_SIZE(kinds)][FP_HEX_LEN + 1];
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		char fps[16][FP_HEX_LEN + 1];
		int n;
		fingerprints_of(kinds[k], fps, &n);
		CHECK(n >= 2); /* every one of these shows in several jobs or runs */
		for (int i = 1; i < n; i++)
			if (strcmp(fps[0], fps[i]))
				t_fail(__FILE__, __LINE__, "%s: fingerprint %s in one run, %s in another",
				       kinds[k], fps[0], fps[i]);
		memcpy(first[k], fps[0], sizeof(first[k]));
		/* and each kind is its own group */
		for (size_t o = 0; o < k; o++)
			CHECK(strcmp(first[o], first[k]) != 0);
	}
}

static bool fp_flaky(const char *fp, struct triage_history *h)
{
	struct cs_err err;
	if (triage_history(demo(), fp, h, &err) < 0) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return false;
	}
	return h->flaky;
}

TEST(demo_flaky_network_failure_is_flaky)
{
	const cJSON *p = planted("flaky_network");
	char spec[64];
	const char *job;
	shows_in("flaky_network", 0, spec, &job);
	int n;
	struct triage_finding *f = findings(demo(), spec, job, true, &n);
	CHECK(n >= 1);
	if (n < 1)
		return;
	struct triage_history h;
	CHECK(fp_flaky(f[0].fingerprint, &h));
	CHECK(h.n_evidence >= 1);
	if (h.n_evidence >= 1) {
		const struct triage_flaky_ev *e = &h.evidence[0];
		CHECK_INT(e->kind, FLAKY_SAME_COMMIT);
		CHECK_INT(e->failed_run, (int64_t)cJSON_GetObjectItemCaseSensitive(p, "run_id")->valuedouble);
		CHECK_INT(e->failed_attempt, cJSON_GetObjectItemCaseSensitive(p, "failed_attempt")->valueint);
		CHECK_INT(e->passed_run, e->failed_run);
		CHECK_INT(e->passed_attempt, cJSON_GetObjectItemCaseSensitive(p, "passed_attempt")->valueint);
		CHECK_STR(e->failed_sha, mstr(p, "head_sha"));
		CHECK_STR(e->job, job);
	}
	triage_history_free(&h);
	triage_findings_free(f, n);
	/* failures that were real are not flaky, re-run or not */
	static const char *const real[] = {"rustc_error", "python_traceback", "timeout", "oom_kill",
					    "parity_regression", "jest_failure",
					    "feature_branch_test_failure"};
	for (size_t k = 0; k < ARRAY_SIZE(real); k++) {
		char fps[16][FP_HEX_LEN + 1];
		int nf;
		fingerprints_of(real[k], fps, &nf);
		if (nf && fp_flaky(fps[0], &h))
			t_fail(__FILE__, __LINE__, "%s is called flaky", real[k]);
		triage_history_free(&h);
	}
}

TEST(demo_history_says_since_when_and_what_is_new)
{
	const cJSON *p = planted("parity_regression");
	char fps[16][FP_HEX_LEN + 1];
	int n;
	fingerprints_of("parity_regression", fps, &n);
	CHECK(n >= 2);
	if (n < 2)
		return;
	struct triage_history h;
	struct cs_err err;
	CHECK_OK(triage_history(demo(), fps[0], &h, &err));
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(p, "runs");
	CHECK_INT(h.n_runs, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "shows_in")));
	CHECK(h.n_commits >= cJSON_GetArraySize(runs) - 1);
	CHECK_STR(h.first_sha, mstr(p, "introduced_by"));
	CHECK_INT(h.first_run, (int64_t)cJSON_GetArrayItem(runs, 0)->valuedouble);
	CHECK(h.first_at != CS_TIME_NONE && h.last_at >= h.first_at);
	bool main_seen = false;
	for (int i = 0; i < h.n_branches; i++)
		main_seen |= !strcmp(h.branches[i], "main");
	CHECK(main_seen);
	CHECK_STR(h.state, "new");
	CHECK(h.set_at == CS_TIME_NONE);
	/* new in the run that introduced it, not in the ones after */
	struct run r;
	char spec[64];
	snprintf(spec, sizeof(spec), "%lld:1", (long long)h.first_run);
	CHECK_OK(store_find_run(demo(), spec, &r, &err));
	CHECK(triage_is_new(&h, &r));
	run_free(&r);
	snprintf(spec, sizeof(spec), "%lld", (long long)h.last_run);
	CHECK_OK(store_find_run(demo(), spec, &r, &err));
	if (strcmp(r.sha, h.first_sha))
		CHECK(!triage_is_new(&h, &r));
	run_free(&r);
	triage_history_free(&h);
}

TEST(demo_default_branch_and_newest_failure)
{
	struct cs_err err;
	char *b = store_default_branch(demo(), &err);
	CHECK_STR(b, "main");
	struct run r;
	CHECK_OK(store_newest_failed_run(demo(), b, &r, &err));
	CHECK_STR(r.branch, "main");
	CHECK(ci_conclusion_is_failure(r.conclusion));
	char sql[300];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM runs WHERE head_branch = 'main' AND conclusion = 'failure' "
		 "AND created_at > %lld",
		 (long long)r.created_at);
	CHECK_INT(t_count(demo(), sql), 0);
	run_free(&r);
	CHECK_INT(store_newest_failed_run(demo(), "no-such-branch", &r, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	free(b);
}

TEST(demo_states_are_set_kept_and_carried)
{
	struct store *st = demo();
	struct cs_err err;
	char fps[16][FP_HEX_LEN + 1];
	int n;
	fingerprints_of("oom_kill", fps, &n);
	CHECK(n >= 1);
	if (n < 1)
		return;
	char full[FP_HEX_LEN + 1], prefix[9];
	snprintf(prefix, sizeof(prefix), "%.8s", fps[0]);
	CHECK_OK(triage_set_state(st, prefix, "acknowledged", "LTO eats the runner", "Tess Ter", full,
				  &err));
	CHECK_STR(full, fps[0]);
	/* no note: the note stays */
	CHECK_OK(triage_set_state(st, fps[0], "known-flaky", NULL, "Sam", full, &err));
	struct triage_history h;
	CHECK_OK(triage_history(st, fps[0], &h, &err));
	CHECK_STR(h.state, "known-flaky");
	CHECK_STR(h.note, "LTO eats the runner");
	CHECK_STR(h.set_by, "Sam");
	CHECK(h.set_at != CS_TIME_NONE);
	triage_history_free(&h);
	/* refusals */
	CHECK_INT(triage_set_state(st, fps[0], "closed", NULL, "x", full, &err), -1);
	CHECK_INT(err.code, CS_EUSAGE);
	CHECK_INT(triage_set_state(st, "ffffffffffffff00", "fixed", NULL, "x", full, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_INT(triage_set_state(st, "xyz!", "fixed", NULL, "x", full, &err), -1);
	CHECK_INT(err.code, CS_EUSAGE);
	CHECK_INT(triage_resolve_fingerprint(st, "abc", full, &err), -1); /* too short */

	/* the run the OOM killed is all known flaky now */
	char spec[64];
	const char *job;
	shows_in("oom_kill", 0, spec, &job);
	struct triage_run_summary sum;
	CHECK_OK(triage_run_summary(st, t_run_row(st, spec), &sum, &err));
	CHECK(sum.n_findings >= 1);
	CHECK(sum.all_known_flaky);
	CHECK(strstr(sum.categories, "oom") != NULL);

	/* retriage: the findings come back with the same fingerprints and states;
	 * a finding whose fingerprint changes keeps the state of its old one */
	CHECK(sqlite3_exec(st->db,
			   "INSERT INTO triage_states (fingerprint, state, note, set_by, set_at) "
			   "SELECT 'feedfacefeedface', state, 'carried', set_by, set_at FROM "
			   "triage_states WHERE fingerprint = (SELECT fingerprint FROM triage_states "
			   "LIMIT 1);",
			   NULL, NULL, NULL) == SQLITE_OK);
	char parity[16][FP_HEX_LEN + 1];
	fingerprints_of("parity_regression", parity, &n);
	char sql[300];
	snprintf(sql, sizeof(sql), "UPDATE triage_findings SET fingerprint = 'feedfacefeedface' "
				   "WHERE fingerprint = '%s'", parity[0]);
	CHECK(sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK);
	int64_t before = t_count(st, "SELECT count(*) FROM triage_findings");
	struct retriage_stats rs;
	CHECK_OK(triage_retriage(st, rules(), &rs, NULL, &err));
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings"), before);
	CHECK_INT(rs.findings, before);
	CHECK(rs.states_carried >= 1);
	CHECK_OK(triage_history(st, parity[0], &h, &err));
	CHECK_STR(h.note, "carried");
	triage_history_free(&h);
	CHECK_OK(triage_history(st, fps[0], &h, &err));
	CHECK_STR(h.state, "known-flaky");
	triage_history_free(&h);
	/* put the parity state back to new for the other tests */
	CHECK_OK(triage_set_state(st, parity[0], "new", NULL, "t", full, &err));
}

TEST(demo_ensure_recomputes_what_is_stale)
{
	struct store *st = demo();
	struct cs_err err;
	CHECK(sqlite3_exec(st->db, "UPDATE triage_jobs SET version = 'old' WHERE job_id IN "
				   "(SELECT job_id FROM triage_jobs LIMIT 3)",
			   NULL, NULL, NULL) == SQLITE_OK);
	int stale_runs = (int)t_count(st, "SELECT count(DISTINCT j.run_id) FROM triage_jobs t JOIN "
					"jobs j ON j.id = t.job_id WHERE t.version = 'old'");
	int64_t before = t_count(st, "SELECT count(*) FROM triage_findings");
	int n = 0;
	CHECK_OK(triage_ensure(st, rules(), &n, &err));
	CHECK(n >= 3 && stale_runs >= 1);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_jobs WHERE version = 'old'"), 0);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings"), before);
	CHECK_OK(triage_ensure(st, rules(), &n, &err));
	CHECK_INT(n, 0);
}

struct run_list {
	int n;
	int64_t last_created;
	bool ordered;
	bool only_oom;
};

static int on_failed_run(void *ctx, const struct run *r, const struct triage_run_summary *s)
{
	struct run_list *l = ctx;
	if (l->n && r->created_at > l->last_created)
		l->ordered = false;
	l->last_created = r->created_at;
	if (!strstr(s->categories, "oom"))
		l->only_oom = false;
	CHECK(s->n_failed_jobs >= 1);
	l->n++;
	return 0;
}

struct group_list {
	int n;
	int parity_runs;
	char parity_fp[FP_HEX_LEN + 1];
};

static int on_group(void *ctx, const struct triage_group *g)
{
	struct group_list *l = ctx;
	if (!strcmp(g->fingerprint, l->parity_fp))
		l->parity_runs = g->n_runs;
	l->n++;
	return 0;
}

TEST(demo_failed_runs_and_groups_for_the_triage_view)
{
	struct store *st = demo();
	struct cs_err err;
	struct run_list l = {.ordered = true, .only_oom = true};
	struct triage_filter f = {0};
	CHECK_OK(triage_failed_runs(st, &f, on_failed_run, &l, &err));
	CHECK_INT(l.n, t_count(st, "SELECT count(*) FROM runs WHERE conclusion = 'failure'"));
	CHECK(l.ordered);
	struct run_list oom = {.ordered = true, .only_oom = true};
	f.category = "oom";
	CHECK_OK(triage_failed_runs(st, &f, on_failed_run, &oom, &err));
	CHECK(oom.n >= 1 && oom.only_oom && oom.n < l.n);
	struct run_list page = {.ordered = true, .only_oom = true};
	struct triage_filter pf = {.branch = "main", .limit = 3, .offset = 1};
	CHECK_OK(triage_failed_runs(st, &pf, on_failed_run, &page, &err));
	CHECK_INT(page.n, 3);
	struct group_list g = {0};
	char fps[16][FP_HEX_LEN + 1];
	int n;
	fingerprints_of("parity_regression", fps, &n);
	memcpy(g.parity_fp, fps[0], sizeof(g.parity_fp));
	struct triage_filter gf = {.category = "parity"};
	CHECK_OK(triage_groups(st, &gf, on_group, &g, &err));
	CHECK(g.n >= 1);
	CHECK_INT(g.parity_runs, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
					planted("parity_regression"), "shows_in")));
}

TEST(demo_rules_test_counts_failed_and_successful_runs)
{
	struct store *st = demo();
	struct cs_err err;
	struct rule_test *t = NULL;
	struct rule_test_totals tot;
	CHECK_OK(triage_test_rules(st, rules(), &t, &tot, NULL, &err));
	CHECK(tot.failed_runs >= 20 && tot.successful_runs >= 50);
	CHECK(tot.logs > 100 && tot.lines > 10000);
	const struct rule_test *rustc = NULL, *parity = NULL;
	int broad = 0;
	for (int i = 0; i < ruleset_count(rules()); i++) {
		if (!strcmp(t[i].rule->id, "rustc-error"))
			rustc = &t[i];
		if (!strcmp(t[i].rule->id, "parity"))
			parity = &t[i];
		broad += rule_test_too_broad(&t[i], &tot);
	}
	CHECK(rustc && rustc->failed_runs >= 2 && rustc->successful_runs == 0);
	CHECK(parity && parity->failed_runs >= 7 && parity->successful_runs == 0);
	CHECK_INT(broad, 0);
	/* a rule that hits every successful run is flagged */
	struct rule fake = {.id = "x", .category = CAT_UNKNOWN};
	struct rule_test ft = {.rule = &fake, .successful_runs = tot.successful_runs};
	CHECK(rule_test_too_broad(&ft, &tot));
	fake.warning = true; /* warnings are expected to be everywhere */
	CHECK(!rule_test_too_broad(&ft, &tot));
	free(t);
}

/* --- scenarios as run folders ------------------------------------------------------------- */
/* A run folder under root: one job "build" per run. */
static void make_run(const char *root, int64_t id, const char *branch, const char *sha,
		     const char *conclusion, int minute, const char *job_conclusion,
		     const char *log)
{
	char *dir = xasprintf("%s/%lld", root, (long long)id);
	char *logs = xasprintf("%s/logs", dir);
	mkdirs(logs);
	char t[32];
	snprintf(t, sizeof(t), "2026-10-01T10:%02d:00Z", minute);
	char *run = xasprintf("{\"id\":%lld,\"name\":\"ci\",\"run_attempt\":1,\"run_number\":%d,"
			      "\"head_branch\":\"%s\",\"head_sha\":\"%s\",\"event\":\"push\","
			      "\"status\":\"completed\",\"conclusion\":\"%s\",\"created_at\":\"%s\","
			      "\"updated_at\":\"%s\",\"repository\":{\"full_name\":\"t/scenario\"}}",
			      (long long)id, minute, branch, sha, conclusion, t, t);
	char *jobs = xasprintf("{\"total_count\":1,\"jobs\":[{\"id\":%lld,\"run_id\":%lld,"
			       "\"name\":\"build\",\"status\":\"completed\",\"conclusion\":\"%s\","
			       "\"started_at\":\"%s\",\"completed_at\":\"%s\",\"steps\":[]}]}",
			       (long long)(id * 10), (long long)id, job_conclusion, t, t);
	char *p = xasprintf("%s/run.json", dir);
	write_text(p, run);
	free(p);
	p = xasprintf("%s/jobs.json", dir);
	write_text(p, jobs);
	free(p);
	if (log) {
		p = xasprintf("%s/%lld.txt", logs, (long long)(id * 10));
		write_text(p, log);
		free(p);
	}
	free(run);
	free(jobs);
	free(logs);
	free(dir);
}

#define TS "2026-10-01T10:00:00.0000000Z "

TEST(flip_without_a_commit_is_flaky)
{
	char *root = tmp_path("flip");
	const char *bad = TS "running\n" TS "error: connection to cache lost: try again\n" TS
			  "##[error]Process completed with exit code 1.\n";
	const char *good = TS "running\n" TS "done\n";
	make_run(root, 501, "main", "aaaaaaa1", "failure", 1, "failure", bad);
	make_run(root, 502, "main", "aaaaaaa2", "success", 2, "success", good);
	make_run(root, 503, "main", "aaaaaaa3", "failure", 3, "failure", bad);
	/* the same on another branch does not make a flip on main */
	make_run(root, 504, "other", "bbbbbbb1", "failure", 4, "failure", bad);
	struct store *st = t_fresh_store("flip");
	import_ok(st, root);
	int n;
	struct triage_finding *f = findings(st, "501", "build", true, &n);
	CHECK(n >= 1);
	if (n >= 1) {
		struct triage_history h;
		struct cs_err err;
		CHECK_OK(triage_history(st, f[0].fingerprint, &h, &err));
		CHECK(h.flaky);
		CHECK_INT(h.n_runs, 3);
		CHECK_INT(h.n_branches, 2);
		bool flip = false;
		for (int i = 0; i < h.n_evidence; i++) {
			const struct triage_flaky_ev *e = &h.evidence[i];
			if (e->kind != FLAKY_FLIP)
				continue;
			flip = true;
			CHECK_INT(e->failed_run, 501);
			CHECK_INT(e->passed_run, 502);
			CHECK_INT(e->again_run, 503);
			CHECK_STR(e->branch, "main");
			CHECK_STR(e->passed_sha, "aaaaaaa2");
		}
		CHECK(flip);
		triage_history_free(&h);
	}
	triage_findings_free(f, n);
	store_close(st);
	free(root);
}

TEST(a_fixed_failure_is_not_flaky)
{
	char *root = tmp_path("fixed");
	const char *bad = TS "error: widget.c broke the build\n" TS
			  "##[error]Process completed with exit code 1.\n";
	make_run(root, 601, "main", "ccccccc1", "success", 1, "success", TS "ok\n");
	make_run(root, 602, "main", "ccccccc2", "failure", 2, "failure", bad);
	make_run(root, 603, "main", "ccccccc3", "failure", 3, "failure", bad);
	make_run(root, 604, "main", "ccccccc4", "success", 4, "success", TS "ok\n");
	struct store *st = t_fresh_store("fixed");
	import_ok(st, root);
	int n;
	struct triage_finding *f = findings(st, "602", "build", true, &n);
	CHECK(n >= 1);
	if (n >= 1) {
		struct triage_history h;
		struct cs_err err;
		CHECK_OK(triage_history(st, f[0].fingerprint, &h, &err));
		CHECK(!h.flaky);
		CHECK_INT(h.n_runs, 2);
		CHECK_INT(h.first_run, 602);
		CHECK_INT(h.last_run, 603);
		triage_history_free(&h);
	}
	triage_findings_free(f, n);
	store_close(st);
	free(root);
}

TEST(conclusions_and_missing_logs_are_findings)
{
	char *root = tmp_path("concl");
	make_run(root, 701, "main", "d1", "timed_out", 1, "timed_out", NULL);
	make_run(root, 702, "main", "d2", "failure", 2, "failure", NULL);
	make_run(root, 703, "main", "d3", "failure", 3, "cancelled", TS "step 1\n" TS "step 2\n");
	struct store *st = t_fresh_store("concl");
	import_ok(st, root);
	int n;
	struct triage_finding *f = findings(st, "701", "build", true, &n);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(f[0].rule, "job-timed-out");
		CHECK_STR(f[0].category, "timeout");
		CHECK_STR(f[0].source, "conclusion");
		CHECK_INT(f[0].line, 0);
		CHECK_INT(f[0].n_excerpt, 1);
		CHECK(f[0].n_excerpt && f[0].excerpt[0].line == 0 &&
		      !strcmp(f[0].excerpt[0].text, "job conclusion: timed_out"));
	}
	triage_findings_free(f, n);
	f = findings(st, "702", "build", true, &n);
	CHECK_INT(n, 1);
	CHECK(n == 1 && !strcmp(f[0].rule, "no-log") && f[0].decision == DECIDE_INVESTIGATE);
	triage_findings_free(f, n);
	/* a cancelled job of a failed run: its conclusion, and its log's end */
	f = findings(st, "703", "build", true, &n);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(f[0].rule, "job-cancelled");
		CHECK(f[1].fallback);
		CHECK_INT(f[1].line, 1);
		CHECK_INT(f[1].end_line, 2);
	}
	triage_findings_free(f, n);
	store_close(st);
	free(root);
}

TEST(fallback_when_no_rule_knows_the_failure)
{
	char *root = tmp_path("fallback");
	struct buf log = BUF_INIT;
	for (int i = 1; i <= 60; i++)
		buf_addf(&log, TS "step output %d of the frobnicator\n", i);
	buf_adds(&log, TS "frobnicator says: nope\n");
	buf_adds(&log, TS "##[error]Process completed with exit code 3.\n");
	buf_adds(&log, TS "Post job cleanup.\n");
	make_run(root, 801, "main", "e1", "failure", 1, "failure", buf_cstr(&log));
	struct store *st = t_fresh_store("fallback");
	import_ok(st, root);
	int n;
	struct triage_finding *f = findings(st, "801", "build", true, &n);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK(f[0].fallback);
		CHECK_STR(f[0].rule, "fallback");
		CHECK_STR(f[0].category, "unknown");
		CHECK_INT(f[0].end_line, 62); /* the ##[error] line closes the failing part */
		CHECK_INT(f[0].line, 62 - TRIAGE_FALLBACK_LINES + 1);
		CHECK_INT(f[0].n_excerpt, TRIAGE_FALLBACK_LINES);
		CHECK_STR(f[0].title, "frobnicator says: nope");
	}
	triage_findings_free(f, n);
	buf_release(&log);
	store_close(st);
	free(root);
}

TEST(junit_failures_the_log_does_not_name)
{
	char *root = tmp_path("junit");
	make_run(root, 901, "main", "f1", "failure", 1, "failure",
		 TS "npx jest --ci\n" TS "##[error]Process completed with exit code 1.\n");
	char *art = xasprintf("%s/901/artifacts/jest-report", root);
	mkdirs(art);
	struct buf xml = BUF_INIT;
	struct cs_err err;
	if (file_read_all(t_fixture("dorny-test-reporter/__tests__/fixtures/jest-junit.xml"),
			  1u << 20, &xml, &err) < 0)
		t_fail(__FILE__, __LINE__, "%s", err.msg);
	char *p = xasprintf("%s/jest-junit.xml", art);
	write_text(p, buf_cstr(&xml));
	struct store *st = t_fresh_store("junit");
	import_ok(st, root);
	int n;
	struct triage_finding *f = findings(st, "901", "build", true, &n);
	int junit = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(f[i].source, "junit"))
			continue;
		junit++;
		CHECK_STR(f[i].category, "test");
		CHECK_INT(f[i].line, 0);
		CHECK(f[i].test_name != NULL);
		CHECK(f[i].n_excerpt >= 1 && f[i].excerpt[0].line == 0 &&
		      str_starts(f[i].excerpt[0].text, "FAILED "));
	}
	CHECK(junit >= 3); /* the report has four failures; the cap may hide one */
	int64_t all = t_count(st, "SELECT count(*) FROM triage_findings WHERE source = 'junit'");
	CHECK_INT(all, 4);
	triage_findings_free(f, n);
	buf_release(&xml);
	free(p);
	free(art);
	store_close(st);
	free(root);
}

/* --- hostile logs ------------------------------------------------------------------------------ */
TEST(hostile_a_million_warnings)
{
	char *path = tmp_path("warnings.log");
	FILE *fp = fopen(path, "wb");
	CHECK(fp != NULL);
	if (!fp)
		return;
	for (int i = 0; i < 1000000; i++)
		fprintf(fp, "w%d.c:%d:1: warning: unused x%d [-Wunused]\n", i % 97, i, i);
	fputs("main.c:12:5: error: expected ';' before '}' token\n", fp);
	fputs("##[error]Process completed with exit code 2.\n", fp);
	fclose(fp);
	struct store *st = t_fresh_store("warnings");
	import_ok(st, path);
	CHECK(t_count(st, "SELECT count(*) FROM triage_findings") <= TRIAGE_MAX_STORED);
	CHECK(t_count(st, "SELECT max(n_lines) FROM triage_jobs") <= TRIAGE_MAX_LINES);
	/* the error leads; the warnings are counted, not listed */
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings WHERE rank = 0 AND "
			    "rule = 'gcc-error' AND line = 1000001"), 1);
	CHECK_INT(t_count(st, "SELECT count(*) FROM triage_findings WHERE severity = 'warning' AND "
			    "shown"), 0);
	CHECK(t_count(st, "SELECT sum(repeats) FROM triage_findings WHERE severity = 'warning'") +
		      t_count(st, "SELECT n_dropped FROM triage_jobs") >= 900000);
	store_close(st);
	free(path);
}

TEST(hostile_long_lines_and_escapes)
{
	char *path = tmp_path("hostile.log");
	FILE *fp = fopen(path, "wb");
	CHECK(fp != NULL);
	if (!fp)
		return;
	fputs(TS "error: ", fp);
	for (int i = 0; i < (10 << 20); i++)
		fputc('z', fp);
	fputs("\n", fp);
	for (int i = 0; i < (10 << 20); i++)
		fputc(i % 64 ? 'q' : '\t', fp);
	fputs("\n" TS "\x1b]0;pwned\x07\x1b[31merror:\x1b[0m \x1b[2Jclear \x1bP1;2q\x1b\\ \x9b" "31m x\n",
	      fp);
	fputs(TS "##[error]Process completed with exit code 1.\n", fp);
	fclose(fp);
	struct store *st = t_fresh_store("hostile");
	import_ok(st, path);
	int64_t job = t_count(st, "SELECT max(id) FROM jobs");
	struct triage_finding *f;
	int n;
	struct cs_err err;
	CHECK_OK(triage_job_findings(st, job, false, &f, &n, &err));
	CHECK(n >= 1);
	int lines = 0;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < f[i].n_excerpt; k++) {
			const char *t = f[i].excerpt[k].text;
			lines++;
			CHECK(strlen(t) <= TRIAGE_EXCERPT_LINE_MAX + 3);
			CHECK(strchr(t, '\x1b') == NULL);
			CHECK(strchr(t, '\n') == NULL && strchr(t, '\r') == NULL);
		}
		CHECK(strlen(f[i].title) <= 303);
	}
	CHECK(lines >= 1 && lines <= TRIAGE_MAX_LINES);
	triage_findings_free(f, n);
	store_close(st);
	free(path);
}

/* TRIAGE_JOB_FAILED_SQL (its list spelled as comparisons) picks the jobs
 * triage_job_failed() does, for every pair of a job's and its run's
 * conclusions, none included. */
TEST(failed_job_sql_equals_the_c_test)
{
	static const char *const c[] = {"failure", "timed_out", "startup_failure",
					"action_required", "cancelled", "success",
					"skipped", "neutral", "Failure", "", NULL};
	sqlite3 *db;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	sqlite3_stmt *s;
	CHECK(sqlite3_prepare_v2(db,
				 "SELECT coalesce(" TRIAGE_JOB_FAILED_SQL ", 0) FROM (SELECT ?1 AS "
				 "conclusion) j, (SELECT ?2 AS conclusion) r",
				 -1, &s, NULL) == SQLITE_OK);
	int n_failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		for (size_t k = 0; k < ARRAY_SIZE(c); k++) {
			struct job j = {.conclusion = (char *)c[i]};
			struct run r = {.conclusion = (char *)c[k]};
			sqlite3_reset(s);
			sqlite3_bind_text(s, 1, c[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, c[k], -1, SQLITE_STATIC);
			CHECK(sqlite3_step(s) == SQLITE_ROW);
			bool sql = sqlite3_column_int(s, 0) != 0;
			CHECK_INT(sql, triage_job_failed(&r, &j));
			n_failed += sql;
		}
	/* 4 failed conclusions whatever the run's, and cancelled in a failed run */
	CHECK_INT(n_failed, 4 * (int)ARRAY_SIZE(c) + 4);
	sqlite3_finalize(s);
	sqlite3_close(db);
}
