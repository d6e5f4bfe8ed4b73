/* t_fetch.c - the fetcher's pieces that need no server: the store questions
 * it asks (do we hold run X completed? which runs are in progress?), the
 * importer reading its expired markers, artifact globs and names, and the
 * fetcher's behaviour when the API cannot be reached or it is cancelled.
 * The HTTP conversation itself is tested end to end in tests/cli/fetch.sh
 * against tests/server/ghserver.py. */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fetch.h"
#include "core/import.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

#define HUB "hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock"
#define HUB_JOBS HUB "/testJobs/__files/11-r_h_g_actions_runs_719643947_jobs.json"
#define HUB_LOG_JOB1 HUB "/testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt"
#define HUB_RUN "runs/hub4j-719643947/run.json"
#define SLUG "hub4j-test-org/GHWorkflowRunTest"
#define JOB1 2270858630LL
#define JOB2 2270858576LL

static void put(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

static void copy(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	struct cs_err err;
	if (file_read_all(from, 64u << 20, &b, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	put(to, b.data ? b.data : "", b.len);
	buf_release(&b);
}

static char *dir_in_tmp(const char *name)
{
	char *d = xasprintf("%s/%s", t_tmpdir(), name);
	struct cs_err err;
	if (mkdir_p(d, 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	return d;
}

/* A run folder from the recorded hub4j run with changes to run.json. */
static char *run_folder(const char *name, int64_t id, const char *status, int attempt,
			bool with_jobs)
{
	char *d = dir_in_tmp(name);
	struct buf b = BUF_INIT;
	struct cs_err err;
	if (file_read_all(t_fixture(HUB_RUN), 1 << 20, &b, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	cJSON *j = cJSON_ParseWithLength(b.data, b.len);
	cJSON_ReplaceItemInObject(j, "id", cJSON_CreateNumber((double)id));
	cJSON_ReplaceItemInObject(j, "status", cJSON_CreateString(status));
	if (strcmp(status, "completed"))
		cJSON_ReplaceItemInObject(j, "conclusion", cJSON_CreateNull());
	cJSON_DeleteItemFromObject(j, "run_attempt");
	cJSON_AddNumberToObject(j, "run_attempt", attempt);
	char *s = cJSON_Print(j);
	char *p = xasprintf("%s/run.json", d);
	put(p, s, strlen(s));
	free(p);
	free(s);
	cJSON_Delete(j);
	buf_release(&b);
	if (with_jobs) {
		p = xasprintf("%s/jobs.json", d);
		copy(t_fixture(HUB_JOBS), p);
		free(p);
	}
	return d;
}

static int import_one(struct store *st, const char *path, enum import_state *state)
{
	struct cs_err err;
	err_clear(&err);
	struct importer *im = importer_new(st, NULL);
	int rc = import_path(im, path, &err);
	if (rc < 0)
		t_fail(__FILE__, __LINE__, "import %s: %s", path, err.msg);
	importer_free(im);
	(void)state;
	return rc;
}

static long long query_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char *query_text(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	char *v = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

TEST(store_held_and_incomplete)
{
	struct store *st = t_fresh_store("held");
	if (!st)
		return;
	char *a = run_folder("held/a", 719643947, "completed", 1, true);
	char *b = run_folder("held/b", 5000, "in_progress", 1, false);
	char *c = run_folder("held/c", 6000, "completed", 2, false);
	char *d = run_folder("held/d", 7000, "queued", 1, false);
	import_one(st, a, NULL);
	import_one(st, b, NULL);
	import_one(st, c, NULL);
	import_one(st, d, NULL);
	struct cs_err err;
	err_clear(&err);
	CHECK_INT(store_run_held(st, SLUG, 719643947, 1, &err), STORE_RUN_COMPLETED);
	CHECK_INT(store_run_held(st, "HUB4J-test-org/ghworkflowruntest", 719643947, 1, &err),
		  STORE_RUN_COMPLETED);
	CHECK_INT(store_run_held(st, SLUG, 5000, 1, &err), STORE_RUN_INCOMPLETE);
	CHECK_INT(store_run_held(st, SLUG, 6000, 2, &err), STORE_RUN_COMPLETED);
	/* a re-run's new attempt is not held until fetched */
	CHECK_INT(store_run_held(st, SLUG, 6000, 3, &err), STORE_RUN_ABSENT);
	CHECK_INT(store_run_held(st, SLUG, 123, 1, &err), STORE_RUN_ABSENT);
	CHECK_INT(store_run_held(st, "other/repo", 719643947, 1, &err), STORE_RUN_ABSENT);
	CHECK_INT(store_run_held(st, NULL, 719643947, 1, &err), STORE_RUN_ABSENT);
	int64_t *ids;
	int n;
	CHECK_OK(store_runs_incomplete(st, SLUG, &ids, &n, &err));
	CHECK_INT(n, 2);
	if (n == 2) {
		/* same created_at: the larger id first */
		CHECK_INT(ids[0], 7000);
		CHECK_INT(ids[1], 5000);
	}
	free(ids);
	CHECK_OK(store_runs_incomplete(st, "nobody/none", &ids, &n, &err));
	CHECK_INT(n, 0);
	free(ids);
	/* the in-progress run completes: no longer listed */
	char *b2 = run_folder("held/b", 5000, "completed", 1, false);
	import_one(st, b2, NULL);
	CHECK_INT(store_run_held(st, SLUG, 5000, 1, &err), STORE_RUN_COMPLETED);
	CHECK_OK(store_runs_incomplete(st, SLUG, &ids, &n, &err));
	CHECK_INT(n, 1);
	free(ids);
	free(a);
	free(b);
	free(b2);
	free(c);
	free(d);
	store_close(st);
}

TEST(import_reads_expired_markers)
{
	struct store *st = t_fresh_store("expired");
	if (!st)
		return;
	char *r = run_folder("exp/run", 719643947, "completed", 1, true);
	char *logs = dir_in_tmp("exp/run/logs");
	char *arts = dir_in_tmp("exp/run/artifacts");
	char *p = xasprintf("%s/%lld.txt", logs, JOB1);
	copy(t_fixture(HUB_LOG_JOB1), p);
	free(p);
	const char *m = IMPORT_EXPIRED_MARKER;
	p = xasprintf("%s/%lld.expired", logs, JOB2);
	put(p, m, strlen(m));
	free(p);
	p = xasprintf("%s/old.expired", arts);
	put(p, m, strlen(m));
	free(p);
	/* not a marker (other content): a raw artifact of that name */
	p = xasprintf("%s/notes.expired", arts);
	put(p, "hello\n", 6);
	free(p);
	/* a marker beside the artifact's content: the content wins */
	char *both = dir_in_tmp("exp/run/artifacts/both");
	p = xasprintf("%s/data.csv", both);
	put(p, "step,x\n1,2\n", 11);
	free(p);
	p = xasprintf("%s/both.expired", arts);
	put(p, m, strlen(m));
	free(p);
	import_one(st, r, NULL);
	char *state = query_text(st, "SELECT log_state FROM jobs WHERE provider_id = 2270858630");
	CHECK_STR(state, "stored");
	free(state);
	state = query_text(st, "SELECT log_state FROM jobs WHERE provider_id = 2270858576");
	CHECK_STR(state, "expired");
	free(state);
	CHECK_INT(query_int(st, "SELECT expired FROM artifacts WHERE name = 'old'"), 1);
	CHECK_INT(query_int(st, "SELECT expired FROM artifacts WHERE name = 'notes.expired'"), 0);
	CHECK_INT(query_int(st, "SELECT expired FROM artifacts WHERE name = 'both'"), 0);
	CHECK_INT(query_int(st, "SELECT count(*) FROM artifacts WHERE name = 'both.expired'"), 0);
	CHECK_INT(query_int(st, "SELECT count(*) FROM artifacts"), 3);
	long long rows = query_int(st, "SELECT count(*) FROM runs");
	/* again: unchanged */
	import_one(st, r, NULL);
	CHECK_INT(query_int(st, "SELECT count(*) FROM runs"), rows);
	/* the log arrives after all: stored */
	p = xasprintf("%s/%lld.expired", logs, JOB2);
	unlink(p);
	free(p);
	p = xasprintf("%s/%lld.txt", logs, JOB2);
	copy(t_fixture(HUB_LOG_JOB1), p);
	free(p);
	import_one(st, r, NULL);
	state = query_text(st, "SELECT log_state FROM jobs WHERE provider_id = 2270858576");
	CHECK_STR(state, "stored");
	free(state);
	free(r);
	free(logs);
	free(arts);
	free(both);
	store_close(st);
}

TEST(artifact_globs_and_names)
{
	const char *def = FETCH_DEFAULT_ARTIFACTS;
	CHECK(fetch_artifact_matches(def, "parity"));
	CHECK(fetch_artifact_matches(def, "junit-rust"));
	CHECK(fetch_artifact_matches(def, "JUnit-TS"));
	CHECK(fetch_artifact_matches(def, "bench"));
	CHECK(fetch_artifact_matches(def, "coverage-report"));
	CHECK(fetch_artifact_matches(def, "unit-test-results"));
	CHECK(!fetch_artifact_matches(def, "wasm-build"));
	CHECK(!fetch_artifact_matches(def, "artifact1"));
	CHECK(fetch_artifact_matches("artifact*", "artifact1"));
	CHECK(!fetch_artifact_matches("artifact*", "my-artifact1"));
	CHECK(fetch_artifact_matches(" a , *.xml ", "report.XML"));
	CHECK(fetch_artifact_matches("a,b", "b"));
	CHECK(!fetch_artifact_matches("", "anything"));
	CHECK(!fetch_artifact_matches(",,", "anything"));
	CHECK(!fetch_artifact_matches(NULL, "x"));
	CHECK(fetch_artifact_matches("*", "x"));
	CHECK(fetch_safe_component("junit-ts"));
	CHECK(fetch_safe_component("report.xml"));
	CHECK(fetch_safe_component("a b (1)"));
	CHECK(!fetch_safe_component(""));
	CHECK(!fetch_safe_component("."));
	CHECK(!fetch_safe_component(".."));
	CHECK(!fetch_safe_component("../x"));
	CHECK(!fetch_safe_component("a/b"));
	CHECK(!fetch_safe_component("a\\b"));
	CHECK(!fetch_safe_component("a\nb"));
	CHECK(!fetch_safe_component("a\x1b[2Jb"));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(!fetch_safe_component(longname));
}

static void collect_msg(void *ctx, enum fetch_msg level, const char *msg)
{
	struct buf *b = ctx;
	buf_addf(b, "%d:%s\n", (int)level, msg);
}

/* Nothing listens on 127.0.0.1:1: connection refused, retried, given up. */
TEST(fetch_unreachable_api)
{
	struct store *st = t_fresh_store("unreach");
	if (!st)
		return;
	setenv("CISCOPE_TEST_MIN_WAIT_MS", "5", 1);
	setenv("GH_TOKEN", "tok-unit-secret", 1);
	struct gh_client c;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(gh_client_init(&c, "owner/repo", "http://127.0.0.1:1", &err));
	char *root = dir_in_tmp("cache-unreach");
	struct buf msgs = BUF_INIT;
	struct fetch_opts o = {.client = &c, .cache_root = root, .on_message = collect_msg,
			       .ctx = &msgs};
	struct fetch_progress p;
	enum fetch_result res = fetch_run(st, &o, NULL, &p, &err);
	CHECK_INT(res, FETCH_FAILED);
	CHECK(strstr(err.msg, "the runs of owner/repo") != NULL);
	CHECK(strstr(err.msg, "gave up after 5 attempts") != NULL);
	CHECK(strstr(err.msg, "tok-unit-secret") == NULL);
	CHECK_INT(p.requests, 5);
	CHECK_INT(p.retries, 4);
	/* the cache folder is the user's alone */
	char *repo = xasprintf("%s/owner/repo", root);
	struct stat sb;
	CHECK(stat(repo, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	char *idx = xasprintf("%s/index.json", repo);
	CHECK(stat(idx, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	struct buf b = BUF_INIT;
	CHECK_OK(file_read_all(idx, 1 << 20, &b, &err));
	CHECK(b.data && strstr(b.data, "tok-unit-secret") == NULL);
	buf_release(&b);
	free(idx);
	free(repo);
	gh_client_release(&c);
	unsetenv("GH_TOKEN");
	unsetenv("CISCOPE_TEST_MIN_WAIT_MS");
	buf_release(&msgs);
	free(root);
	store_close(st);
}

TEST(fetch_cancelled_at_once)
{
	struct store *st = t_fresh_store("cancel");
	if (!st)
		return;
	struct gh_client c;
	struct cs_err err;
	err_clear(&err);
	unsetenv("GH_TOKEN");
	unsetenv("GITHUB_TOKEN");
	char *old_path = xstrdup(getenv("PATH") ? getenv("PATH") : "");
	setenv("PATH", "/nonexistent", 1); /* no gh */
	CHECK_OK(gh_client_init(&c, "owner/repo", "http://127.0.0.1:1", &err));
	setenv("PATH", old_path, 1);
	free(old_path);
	CHECK(c.token == NULL);
	char *root = dir_in_tmp("cache-cancel");
	struct fetch_opts o = {.client = &c, .cache_root = root, .since = "2024-01-01"};
	struct fetcher *f = fetch_start(st, &o, &err);
	CHECK(f != NULL);
	if (f) {
		fetch_cancel(f);
		CHECK(fetch_done(f));
		CHECK_INT(fetch_finish(f, &err), FETCH_INTERRUPTED);
	}
	/* a bad --since never starts */
	o.since = "last week";
	CHECK(fetch_start(st, &o, &err) == NULL);
	CHECK(strstr(err.msg, "--since") != NULL);
	/* nor a slug that is not two path components */
	free(c.t.slug);
	c.t.slug = xstrdup("../x");
	o.since = NULL;
	CHECK(fetch_start(st, &o, &err) == NULL);
	gh_client_release(&c);
	free(root);
	store_close(st);
}
