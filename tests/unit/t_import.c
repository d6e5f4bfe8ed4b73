/* t_import.c - the importer against real GitHub data and hostile input.
 *
 * Run folders are assembled at test time in the tmpdir from the recorded
 * hub4j/github-api responses (run object, jobs, per-job logs, the run-log
 * zip), the GitHub CLI's zip fixtures, pytorch and CiDiff job logs, and the
 * JUnit reports the artifact parser's tests use. Every hostile case checks
 * both the message (it names the file and the problem) and that the index is
 * exactly as it was before (row counts of every table and checksums of their
 * contents).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <zip.h>

#include "core/github.h"
#include "core/import.h"
#include "core/logstore.h"
#include "core/store.h"
#include "core/util.h"
#include "core/ziparc.h"
#include "test.h"
#include "testdemo.h"

#define MIB (1024u * 1024u)
#define HUB "hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock"
#define HUB_RUNS HUB "/testJobs/__files/6-r_h_g_actions_runs.json"
#define HUB_JOBS HUB "/testJobs/__files/11-r_h_g_actions_runs_719643947_jobs.json"
#define HUB_LOG_JOB1 HUB "/testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt"
#define HUB_LOG_JOB2 HUB "/testJobs_actions-user-content/__files/2-u_a_p_1_runs_139_signedlogcontent_4.txt"
#define HUB_RUNLOG_ZIP HUB "/testLogs_actions-user-content/__files/1-u_a_p_1_runs_101_signedlogcontent.txt"
#define HUB_LOGS_RUNS HUB "/testLogs/__files/6-r_h_g_actions_runs.json"
#define CLI_RUN_LOG "cli-cli/pkg/cmd/run/view/fixtures/run_log.zip"
#define CLI_MYPROJECT "cli-cli/pkg/cmd/run/download/fixtures/myproject.zip"
#define PYTORCH "pytorch-test-infra/aws/lambda/log-classifier/fixtures/"
#define CIDIFF_RUN118 "cidiff/data/breakages_dump/Quick Checks_/run118/fail.log"
#define CIDIFF_ASTOR "cidiff/data/breakages/astor_1260/fail.log"
#define PYTEST_XML "dorny-test-reporter/__tests__/fixtures/python-xunit-pytest.xml"
#define CORRUPT_XML \
	"mikepenz-action-junit-report/test_results/corrupt-junit/e2e-tests/corrupt/target/" \
	"sf-reports/TEST-test.CorruptTest.xml"

#define HUB_RUN_ID 719643947
#define HUB_JOB1 2270858630LL
#define HUB_JOB2 2270858576LL

/* --- files ---------------------------------------------------------------------- */

/* A fresh path under the tmpdir; caller frees. */
static char *tmp_path(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *tmp_path(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/", t_tmpdir());
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

static void must_mkdir(const char *path)
{
	struct cs_err err;
	if (mkdir_p(path, 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
}

/* A new empty folder under the tmpdir (unique name per call); caller frees. */
static char *fresh_dir(const char *name)
{
	static int n;
	char *p = tmp_path("%s-%d", name, ++n);
	must_mkdir(p);
	return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

/* dir/rel = the bytes of src; intermediate folders are created. */
static void put_file(const char *dir, const char *rel, const char *src)
{
	struct buf b = BUF_INIT;
	t_slurp(src, &b);
	char *dst = path_join(dir, rel);
	char *parent = xstrdup(dst);
	*strrchr(parent, '/') = '\0';
	must_mkdir(parent);
	write_file(dst, b.data, b.len);
	free(parent);
	free(dst);
	buf_release(&b);
}

static void put_str(const char *dir, const char *rel, const char *s)
{
	char *dst = path_join(dir, rel);
	char *parent = xstrdup(dst);
	*strrchr(parent, '/') = '\0';
	must_mkdir(parent);
	write_str(dst, s);
	free(parent);
	free(dst);
}

static void put_fixture(const char *dir, const char *rel, const char *fixture)
{
	char *src = xstrdup(t_fixture(fixture));
	put_file(dir, rel, src);
	free(src);
}

static cJSON *load_json(const char *path)
{
	struct buf b = BUF_INIT;
	t_slurp(path, &b);
	cJSON *j = cJSON_ParseWithLength(b.data, b.len);
	buf_release(&b);
	if (!j) {
		fprintf(stderr, "cannot parse %s\n", path);
		exit(2);
	}
	return j;
}

static void save_json(const char *path, const cJSON *j)
{
	char *s = cJSON_Print(j);
	write_str(path, s);
	free(s);
}

/* obj[key] = item, replacing or adding */
static void json_set(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

/* The run object as GET .../runs/{id} returns it: workflow_runs[0] of the
 * recorded run listing. */
static cJSON *hub4j_run_object(const char *listing)
{
	cJSON *all = load_json(t_fixture(listing));
	cJSON *runs = cJSON_GetObjectItemCaseSensitive(all, "workflow_runs");
	cJSON *r = cJSON_DetachItemFromArray(runs, 0);
	cJSON_Delete(all);
	if (!r) {
		fprintf(stderr, "%s: no workflow_runs[0]\n", listing);
		exit(2);
	}
	return r;
}

/* A run folder for run 719643947: run.json, jobs.json, logs/<job id>.txt. */
static char *make_hub4j_run(const char *name)
{
	char *dir = fresh_dir(name);
	cJSON *r = hub4j_run_object(HUB_RUNS);
	char *p = path_join(dir, "run.json");
	save_json(p, r);
	free(p);
	cJSON_Delete(r);
	put_fixture(dir, "jobs.json", HUB_JOBS);
	put_fixture(dir, "logs/2270858630.txt", HUB_LOG_JOB1);
	put_fixture(dir, "logs/2270858576.txt", HUB_LOG_JOB2);
	return dir;
}

/* --- zips ---------------------------------------------------------------------- */
struct zent {
	const char *name;
	const void *data;
	size_t len;
};

static void make_zip(const char *path, const struct zent *e, size_t n)
{
	int zerr = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!za) {
		fprintf(stderr, "make_zip %s: error %d\n", path, zerr);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		zip_source_t *src = zip_source_buffer(za, e[i].data, e[i].len, 0);
		if (!src || zip_file_add(za, e[i].name, src, ZIP_FL_ENC_UTF_8) < 0) {
			fprintf(stderr, "make_zip %s: cannot add %s: %s\n", path, e[i].name,
				zip_strerror(za));
			exit(2);
		}
	}
	if (zip_close(za) < 0) {
		fprintf(stderr, "make_zip %s: %s\n", path, zip_strerror(za));
		exit(2);
	}
}

/* --- the index -------------------------------------------------------------------- */
static struct store *new_store(const char *name)
{
	struct cs_err err;
	err_clear(&err);
	char *p = tmp_path("%s.db", name);
	unlink(p);
	struct store *st = store_open(p, STORE_RW, &err);
	if (!st) {
		fprintf(stderr, "cannot open %s: %s\n", p, err.msg);
		exit(2);
	}
	free(p);
	return st;
}

static int64_t q_int(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	sqlite3_stmt *s;
	int64_t v = -12345;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(st->db));
	} else {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_free(sql);
	return v;
}

/* First column of the first row as text ("(null)" for NULL, "(none)" for no row). */
static const char *q_str(struct store *st, const char *fmt, ...)
{
	static char out[4096];
	va_list ap;
	va_start(ap, fmt);
	char *sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	sqlite3_stmt *s;
	snprintf(out, sizeof(out), "(none)");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(st->db));
	} else {
		if (sqlite3_step(s) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			snprintf(out, sizeof(out), "%s", t ? (const char *)t : "(null)");
		}
		sqlite3_finalize(s);
	}
	sqlite3_free(sql);
	return out;
}

static const char *const all_tables[] = {
	"repos",     "runs",	       "jobs",		"steps",	 "logs",
	"log_chunks", "log_groups",    "findings",	"artifacts",	 "artifact_files",
	"metric_series", "metric_points", "test_results", "meta",
};
#define N_TABLES (sizeof(all_tables) / sizeof(all_tables[0]))

struct snap {
	int64_t count[N_TABLES];
	uint64_t sum[N_TABLES];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Row counts and a content checksum of every table. */
static void snapshot(struct store *st, struct snap *s)
{
	for (size_t t = 0; t < N_TABLES; t++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2", all_tables[t]);
		sqlite3_stmt *q;
		s->count[t] = 0;
		s->sum[t] = 0xcbf29ce484222325ull;
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
			t_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(st->db));
			continue;
		}
		while (sqlite3_step(q) == SQLITE_ROW) {
			s->count[t]++;
			for (int c = 0; c < sqlite3_column_count(q); c++) {
				int type = sqlite3_column_type(q, c);
				s->sum[t] = fnv(s->sum[t], &type, sizeof(type));
				const void *b = sqlite3_column_blob(q, c);
				s->sum[t] = fnv(s->sum[t], b ? b : "", (size_t)sqlite3_column_bytes(q, c));
			}
		}
		sqlite3_finalize(q);
	}
}

#define CHECK_SNAP_EQ(a, b)                                                                \
	do {                                                                               \
		for (size_t t_ = 0; t_ < N_TABLES; t_++) {                                 \
			if ((a).count[t_] != (b).count[t_] || (a).sum[t_] != (b).sum[t_])  \
				t_fail(__FILE__, __LINE__,                                 \
				       "table %s changed: %lld rows -> %lld rows%s",       \
				       all_tables[t_], (long long)(a).count[t_],           \
				       (long long)(b).count[t_],                           \
				       (a).sum[t_] != (b).sum[t_] ? " (content differs)" : ""); \
		}                                                                          \
	} while (0)

static int64_t table_count(const struct snap *s, const char *table)
{
	for (size_t t = 0; t < N_TABLES; t++)
		if (!strcmp(all_tables[t], table))
			return s->count[t];
	return -1;
}

/* --- importing ----------------------------------------------------------------------- */
struct ev {
	enum import_state state;
	int64_t row, pid;
	int attempt;
	int n_jobs, n_logs, n_findings, n_tests, n_series, n_files;
	char repo[128];
};

struct rec {
	int n_runs, n_errors, n_progress;
	struct ev ev[64];
	char last_error[2048];
	volatile sig_atomic_t flag;
	int interrupt_after_runs;   /* set flag once this many runs are reported */
	bool interrupt_on_progress; /* set flag at the first progress report */
};

static void rec_run(void *ctx, const struct import_event *e)
{
	struct rec *r = ctx;
	if (r->n_runs < (int)ARRAY_SIZE(r->ev)) {
		struct ev *v = &r->ev[r->n_runs];
		v->state = e->state;
		v->row = e->run_row_id;
		v->pid = e->provider_id;
		v->attempt = e->attempt;
		v->n_jobs = e->n_jobs;
		v->n_logs = e->n_logs;
		v->n_findings = e->n_findings;
		v->n_tests = e->n_tests;
		v->n_series = e->n_series;
		v->n_files = e->n_artifact_files;
		snprintf(v->repo, sizeof(v->repo), "%s", e->repo ? e->repo : "");
	}
	r->n_runs++;
	if (r->interrupt_after_runs && r->n_runs >= r->interrupt_after_runs)
		r->flag = 1;
}

static void rec_error(void *ctx, const char *msg)
{
	struct rec *r = ctx;
	r->n_errors++;
	snprintf(r->last_error, sizeof(r->last_error), "%s", msg);
}

static void rec_progress(void *ctx, const struct import_progress *p)
{
	struct rec *r = ctx;
	r->n_progress++;
	CHECK(p->bytes > 0);
	if (r->interrupt_on_progress)
		r->flag = 1;
}

static int import_rec(struct store *st, const char *path, struct rec *r, struct cs_err *err)
{
	struct import_opts o = {.on_run = rec_run, .on_error = rec_error,
				.on_progress = rec_progress, .ctx = r, .interrupted = &r->flag};
	struct importer *im = importer_new(st, &o);
	err_clear(err);
	int rc = import_path(im, path, err);
	importer_free(im);
	return rc;
}

/* Import and expect success. */
static void import_ok(struct store *st, const char *path, struct rec *r)
{
	struct cs_err err;
	int rc = import_rec(st, path, r, &err);
	if (rc != 0)
		t_fail(__FILE__, __LINE__, "import '%s' failed: %s", path, err.msg);
	CHECK_INT(r->n_errors, 0);
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define CHECK_HAS(msg, needle)                                                               \
	do {                                                                                 \
		if (!contains((msg), (needle)))                                              \
			t_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (msg), (needle)); \
	} while (0)

/* --- reading back ---------------------------------------------------------------------- */
static int64_t run_row(struct store *st, int64_t pid, int attempt)
{
	return q_int(st, "SELECT coalesce(max(id), 0) FROM runs WHERE provider_id = %lld AND attempt = %d",
		     (long long)pid, attempt);
}

/* The stored bytes of a log, written out by logr_write_all to a file. */
static void log_bytes(struct store *st, int64_t log_id, struct buf *out)
{
	struct cs_err err;
	err_clear(&err);
	buf_reset(out);
	struct logr *r = logr_open(st, log_id, &err);
	CHECK(r != NULL);
	if (!r) {
		t_fail(__FILE__, __LINE__, "logr_open %lld: %s", (long long)log_id, err.msg);
		return;
	}
	char *p = tmp_path("raw-%lld.out", (long long)log_id);
	FILE *f = fopen(p, "wb");
	CHECK(f != NULL);
	CHECK_OK(logr_write_all(r, f, &err));
	CHECK_INT(fclose(f), 0);
	logr_close(r);
	t_slurp(p, out);
	unlink(p);
	free(p);
}

static bool same_bytes(const struct buf *a, const char *b, size_t n)
{
	return a->len == n && (n == 0 || memcmp(a->data, b, n) == 0);
}

/* Lines the way the splitter counts them, written independently: CRLF, LF and
 * a lone CR each end one line; unterminated trailing bytes are a last line. */
static uint64_t count_lines(const char *s, size_t n)
{
	uint64_t lines = 0;
	size_t i = 0, start = 0;
	while (i < n) {
		if (s[i] == '\n') {
			lines++;
			start = ++i;
		} else if (s[i] == '\r') {
			i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
			lines++;
			start = i;
		} else {
			i++;
		}
	}
	return lines + (start < n ? 1 : 0);
}

/* Lines that carry an ##[error] marker: optional BOM, optional 28-character
 * timestamp and space, optional BOM, then the marker. */
static int count_error_lines(const char *s, size_t n)
{
	int errors = 0;
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != '\n' && s[e] != '\r')
			e++;
		const char *p = s + i;
		size_t len = e - i;
		if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			p += 3, len -= 3;
		if (len >= 29 && p[4] == '-' && p[10] == 'T' && p[27] == 'Z' && p[28] == ' ')
			p += 29, len -= 29;
		if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			p += 3, len -= 3;
		if (len >= 9 && !memcmp(p, "##[error]", 9))
			errors++;
		if (e < n && s[e] == '\r' && e + 1 < n && s[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	return errors;
}

struct jobinfo {
	int64_t row, log_id, lines, raw_size;
	char state[32];
};

/* A job of run (pid, attempt) by name. */
static struct jobinfo job_by_name(struct store *st, int64_t pid, int attempt, const char *name)
{
	struct jobinfo j = {0};
	sqlite3_stmt *s;
	const char *sql =
		"SELECT j.id, coalesce(l.id, 0), coalesce(l.line_count, -1), coalesce(l.raw_size, -1), "
		"j.log_state FROM jobs j JOIN runs r ON r.id = j.run_id LEFT JOIN logs l ON "
		"l.job_id = j.id WHERE r.provider_id = ? AND r.attempt = ? AND j.name = ?";
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s", sqlite3_errmsg(st->db));
		return j;
	}
	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_int(s, 2, attempt);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		j.row = sqlite3_column_int64(s, 0);
		j.log_id = sqlite3_column_int64(s, 1);
		j.lines = sqlite3_column_int64(s, 2);
		j.raw_size = sqlite3_column_int64(s, 3);
		snprintf(j.state, sizeof(j.state), "%s", (const char *)sqlite3_column_text(s, 4));
	}
	sqlite3_finalize(s);
	return j;
}

static void check_step(struct store *st, int64_t job_row, int num, const char *name,
		       int64_t first, int64_t last, int line)
{
	char want[64], *sql;
	sql = sqlite3_mprintf("SELECT name || ' ' || coalesce(first_line, 0) || '-' || "
			      "coalesce(last_line, 0) FROM steps WHERE job_id = %lld AND number = %d",
			      (long long)job_row, num);
	const char *got = q_str(st, "%s", sql);
	sqlite3_free(sql);
	snprintf(want, sizeof(want), " %lld-%lld", (long long)first, (long long)last);
	if (!str_starts(got, name) || strcmp(got + strlen(name), want) != 0)
		t_fail(__FILE__, line, "step %d: \"%s\", expected \"%s%s\"", num, got, name, want);
}
#define CHECK_STEP(st, job_row, num, name, first, last) \
	check_step((st), (job_row), (num), (name), (first), (last), __LINE__)

/* ==================================================================================== */
/* the hub4j run: run.json + jobs.json + per-job logs                                    */
/* ==================================================================================== */

TEST(prepared_run_json_is_workflow_runs_0)
{
	/* tests/cli uses the committed copies; they must be exactly the recorded
	 * run objects */
	cJSON *want = hub4j_run_object(HUB_RUNS);
	cJSON *got = load_json(t_fixture("runs/hub4j-719643947/run.json"));
	CHECK(cJSON_Compare(want, got, 1));
	cJSON_Delete(want);
	cJSON_Delete(got);
	want = hub4j_run_object(HUB_LOGS_RUNS);
	got = load_json(t_fixture("runs/hub4j-711446981/run.json"));
	CHECK(cJSON_Compare(want, got, 1));
	cJSON_Delete(want);
	cJSON_Delete(got);
}

TEST(hub4j_run_folder)
{
	struct store *st = new_store("hub4j");
	char *dir = make_hub4j_run("hub4j");
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(r.ev[0].state, IMPORT_CREATED);
	CHECK_INT(r.ev[0].pid, HUB_RUN_ID);
	CHECK_INT(r.ev[0].attempt, 1);
	CHECK_INT(r.ev[0].n_jobs, 2);
	CHECK_INT(r.ev[0].n_logs, 2);
	CHECK_INT(r.ev[0].n_findings, 0);
	CHECK_STR(r.ev[0].repo, "hub4j-test-org/GHWorkflowRunTest");

	struct cs_err err;
	err_clear(&err);
	struct run run;
	CHECK_OK(store_find_run(st, "719643947", &run, &err));
	CHECK_INT(run.provider_id, HUB_RUN_ID);
	CHECK_INT(run.attempt, 1);
	CHECK_INT(run.run_number, 15);
	CHECK_STR(run.repo, "hub4j-test-org/GHWorkflowRunTest");
	CHECK_STR(run.workflow, "Multi jobs workflow");
	CHECK_STR(run.branch, "main");
	CHECK_STR(run.event, "workflow_dispatch");
	CHECK_STR(run.status, "completed");
	CHECK_STR(run.conclusion, "success");
	CHECK_STR(run.title, "Create multi-jobs-workflow.yml");
	CHECK_STR(run_state(&run), "success");
	CHECK_INT(run.created_at, time_parse_rfc3339("2021-04-05T15:42:47Z", 20));
	CHECK_INT(run.updated_at, time_parse_rfc3339("2021-04-05T15:43:07Z", 20));
	CHECK_INT(run.duration_ms, 20000);
	CHECK_INT(run.n_jobs, 2);
	CHECK_INT(run.n_failed_jobs, 0);
	CHECK(run.sha && strlen(run.sha) == 40);

	struct job *jobs = NULL;
	int n = 0;
	CHECK_OK(store_jobs(st, run.id, &jobs, &n, &err));
	CHECK_INT(n, 2);
	if (n == 2) {
		/* jobs.json order: job2 first */
		CHECK_STR(jobs[0].name, "job2");
		CHECK_INT(jobs[0].provider_id, HUB_JOB2);
		CHECK_STR(jobs[1].name, "job1");
		CHECK_INT(jobs[1].provider_id, HUB_JOB1);
		for (int i = 0; i < 2; i++) {
			const struct job *j = &jobs[i];
			CHECK_STR(j->log_state, "stored");
			CHECK(j->log_id > 0);
			CHECK_INT(j->line_count, 39);
			CHECK_INT(j->raw_size, 2560);
			CHECK_STR(j->conclusion, "success");
			CHECK_INT(j->n_steps, 3);
			CHECK_INT(j->n_errors, 0);
			if (j->n_steps == 3) {
				CHECK_STR(j->steps[0].name, "Set up job");
				CHECK_INT(j->steps[0].first_line, 1);
				CHECK_INT(j->steps[0].last_line, 33);
				CHECK_STR(j->steps[1].name, "Run a one-line script");
				CHECK_INT(j->steps[1].first_line, 34);
				CHECK_INT(j->steps[1].last_line, 38);
				CHECK_STR(j->steps[2].name, "Complete job");
				CHECK_INT(j->steps[2].first_line, 39);
				CHECK_INT(j->steps[2].last_line, 39);
				/* step times carry +02:00 offsets */
				CHECK_INT(j->steps[0].started_at,
					  time_parse_rfc3339(i == 0 ? "2021-04-05T15:42:56Z"
								    : "2021-04-05T15:42:57Z",
							     20));
			}
		}
		/* groups of job2: three set-up groups and the step's own */
		struct log_group *g = NULL;
		int ng = 0;
		CHECK_OK(store_log_groups(st, jobs[0].log_id, &g, &ng, &err));
		CHECK_INT(ng, 4);
		if (ng == 4) {
			CHECK_STR(g[0].title, "Operating System");
			CHECK_INT(g[0].first_line, 7);
			CHECK_INT(g[0].last_line, 11);
			CHECK_STR(g[1].title, "Virtual Environment");
			CHECK_INT(g[1].first_line, 12);
			CHECK_INT(g[1].last_line, 17);
			CHECK_STR(g[2].title, "GITHUB_TOKEN Permissions");
			CHECK_INT(g[2].first_line, 18);
			CHECK_INT(g[2].last_line, 31);
			CHECK_STR(g[3].title, "Run echo Hello from job2!");
			CHECK_INT(g[3].first_line, 34);
			CHECK_INT(g[3].last_line, 37);
		}
		store_log_groups_free(g, ng);

		/* --raw gives back the served bytes, CRLF included */
		struct buf got = BUF_INIT, want = BUF_INIT;
		log_bytes(st, jobs[0].log_id, &got);
		t_slurp(t_fixture(HUB_LOG_JOB2), &want);
		CHECK(memchr(want.data, '\r', want.len) != NULL);
		CHECK(same_bytes(&got, want.data, want.len));
		log_bytes(st, jobs[1].log_id, &got);
		t_slurp(t_fixture(HUB_LOG_JOB1), &want);
		CHECK(same_bytes(&got, want.data, want.len));
		CHECK_INT(count_lines(want.data, want.len), 39);
		buf_release(&got);
		buf_release(&want);
	}
	store_jobs_free(jobs, n);
	CHECK_STR(q_str(st, "SELECT source FROM logs WHERE job_id = (SELECT id FROM jobs WHERE "
			    "provider_id = %lld)", HUB_JOB1), "file");
	CHECK_STR(q_str(st, "SELECT group_concat(DISTINCT attribution) FROM steps"), "times");
	CHECK_STR(q_str(st, "SELECT provider FROM repos"), "github");
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings"), 0);
	run_free(&run);
	free(dir);
	store_close(st);
}

/* ==================================================================================== */
/* log archives                                                                          */
/* ==================================================================================== */

/* The run-log zip of run 711446981 as GitHub served it: 1_build.txt (the
 * job), 1_build (1).txt (its "Prepare job" log, a second file of the same
 * name) and build/<n>_<step>.txt. */
static void check_hub4j_archive_jobs(struct store *st, int64_t pid)
{
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE "
			    "r.provider_id = %lld", (long long)pid), 2);
	CHECK_INT(q_int(st, "SELECT count(DISTINCT j.provider_id) FROM jobs j JOIN runs r ON "
			    "r.id = j.run_id WHERE r.provider_id = %lld", (long long)pid), 2);
	int64_t big = q_int(st, "SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id JOIN logs l "
				"ON l.job_id = j.id WHERE r.provider_id = %lld AND l.line_count = 130",
			    (long long)pid);
	int64_t small = q_int(st, "SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id JOIN logs "
				  "l ON l.job_id = j.id WHERE r.provider_id = %lld AND "
				  "l.line_count = 8", (long long)pid);
	CHECK(big > 0);
	CHECK(small > 0);
	if (big <= 0 || small <= 0)
		return;
	CHECK_STR(q_str(st, "SELECT name FROM jobs WHERE id = %lld", (long long)big), "build");
	CHECK(str_starts(q_str(st, "SELECT name FROM jobs WHERE id = %lld", (long long)small),
			 "build"));
	/* 1_build.txt comes first in the archive's job order */
	CHECK(q_int(st, "SELECT ordinal FROM jobs WHERE id = %lld", (long long)big) <
	      q_int(st, "SELECT ordinal FROM jobs WHERE id = %lld", (long long)small));
	/* the step files' first lines found in the whole-job file */
	CHECK_INT(q_int(st, "SELECT count(*) FROM steps WHERE job_id = %lld", (long long)big), 6);
	CHECK_STEP(st, big, 1, "Set up job", 1, 35);
	CHECK_STEP(st, big, 2, "Run actionscheckout@v2", 36, 108);
	CHECK_STEP(st, big, 3, "Run a one-line script", 109, 113);
	CHECK_STEP(st, big, 4, "Run a multi-line script", 114, 120);
	CHECK_STEP(st, big, 8, "Post Run actionscheckout@v2", 121, 129);
	CHECK_STEP(st, big, 9, "Complete job", 130, 130);
	CHECK_STR(q_str(st, "SELECT source FROM logs WHERE job_id = %lld", (long long)big),
		  "job-file");
	CHECK_STR(q_str(st, "SELECT source FROM logs WHERE job_id = %lld", (long long)small),
		  "job-file");

	/* the whole-job files come back byte for byte */
	struct ziparc *z;
	struct cs_err err;
	err_clear(&err);
	z = ziparc_open(t_fixture(HUB_RUNLOG_ZIP), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct buf want = BUF_INIT, got = BUF_INIT;
	for (uint64_t i = 0; i < ziparc_count(z); i++) {
		struct zip_entry e;
		CHECK_OK(ziparc_entry(z, i, &e, &err));
		int64_t job = !strcmp(e.name, "1_build.txt")       ? big
			      : !strcmp(e.name, "1_build (1).txt") ? small
								  : 0;
		if (!job)
			continue;
		buf_reset(&want);
		CHECK_OK(ziparc_read(z, i, 1 << 20, &want, &err));
		log_bytes(st, q_int(st, "SELECT id FROM logs WHERE job_id = %lld", (long long)job),
			  &got);
		CHECK(same_bytes(&got, want.data, want.len));
		CHECK_INT(count_lines(want.data, want.len), job == big ? 130 : 8);
	}
	ziparc_close(z);
	buf_release(&want);
	buf_release(&got);
}

TEST(hub4j_run_log_zip_as_archive)
{
	struct store *st = new_store("hub4j-zip");
	char *zp = tmp_path("hub4j-run-log.zip");
	put_fixture(t_tmpdir(), "hub4j-run-log.zip", HUB_RUNLOG_ZIP);
	struct rec r = {0};
	struct cs_err err;
	int rc = import_rec(st, zp, &r, &err);
	CHECK_INT(rc, 0);
	if (rc)
		t_fail(__FILE__, __LINE__, "import: %s", err.msg);
	CHECK_INT(r.n_runs, 1);
	int64_t pid = r.ev[0].pid;
	CHECK(pid > 0);
	CHECK_STR(q_str(st, "SELECT provider FROM repos"), "local");
	CHECK_STR(q_str(st, "SELECT title FROM runs"), "hub4j-run-log.zip");
	CHECK_STR(q_str(st, "SELECT conclusion FROM runs"), "success");
	check_hub4j_archive_jobs(st, pid);

	/* a name of the form logs_<run id>.zip gives the run its id */
	char *named = tmp_path("logs_711446981.zip");
	put_fixture(t_tmpdir(), "logs_711446981.zip", HUB_RUNLOG_ZIP);
	struct rec r2 = {0};
	rc = import_rec(st, named, &r2, &err);
	CHECK_INT(rc, 0);
	CHECK_INT(r2.ev[0].pid, 711446981);
	check_hub4j_archive_jobs(st, 711446981);
	free(named);
	free(zp);
	store_close(st);
}

TEST(hub4j_run_folder_with_logs_zip_no_jobs_json)
{
	/* run.json + logs.zip: the jobs come from the archive */
	struct store *st = new_store("hub4j-folder-zip");
	char *dir = fresh_dir("hub4j-711446981");
	put_fixture(dir, "run.json", "runs/hub4j-711446981/run.json");
	put_fixture(dir, "logs.zip", HUB_RUNLOG_ZIP);
	struct rec r = {0};
	struct cs_err err;
	int rc = import_rec(st, dir, &r, &err);
	CHECK_INT(rc, 0);
	if (rc)
		t_fail(__FILE__, __LINE__, "import: %s", err.msg);
	CHECK_INT(r.ev[0].pid, 711446981);
	CHECK_STR(q_str(st, "SELECT workflow_name FROM runs"), "Fast workflow");
	check_hub4j_archive_jobs(st, 711446981);
	free(dir);
	store_close(st);
}

/* The GitHub CLI's run_log.zip: only step files, a 90-character cut job name,
 * an emoji name cut into U+FFFD, names whose '/' and ':' were dropped,
 * __MACOSX and .DS_Store junk. */
static const char EMOJI[] = "\xf0\x9f\x98\x85";
static const char LONG_DIR[] =
	"thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_thisisnine";

static char *emoji_name(int n_emoji, bool cut)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "Emoji Test ");
	for (int i = 0; i < n_emoji; i++)
		buf_adds(&b, EMOJI);
	if (cut)
		buf_adds(&b, "\xef\xbf\xbd");
	return buf_detach(&b, NULL);
}

struct cli_job {
	const char *name;
	int lines;
	const char *step1, *step2; /* step names from the archive */
};

TEST(cli_run_log_zip_as_archive)
{
	struct store *st = new_store("cli-archive");
	struct rec r = {0};
	import_ok(st, t_fixture(CLI_RUN_LOG), &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(r.ev[0].n_jobs, 7);
	CHECK_INT(r.ev[0].n_logs, 7);
	int64_t pid = r.ev[0].pid;
	char *emoji_dir = emoji_name(39, true);
	const struct cli_job want[] = {
		{LONG_DIR, 3, "Long Name Job", NULL},
		{"ad job", 1, "barf the quux", NULL},
		{"cool job", 6, "fob the barz", "barz the fob"},
		{"cool job  with slash", 3, "fob the barz", NULL},
		{emoji_dir, 3, "Emoji Job", NULL},
		{"sad job", 6, "barf the quux", "quux the barf"},
		{"cool job  with colon", 3, "fob the barz", NULL},
	};
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 7);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name LIKE '%%MACOSX%%' OR name LIKE "
			    "'%%DS_Store%%'"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM steps WHERE name LIKE '%%DS_Store%%' OR name "
			    "LIKE '._%%'"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct jobinfo j = job_by_name(st, pid, 1, want[i].name);
		if (!j.row) {
			t_fail(__FILE__, __LINE__, "no job '%s'", want[i].name);
			continue;
		}
		CHECK_INT(j.lines, want[i].lines);
		CHECK_STR(j.state, "stored");
		CHECK_INT(q_int(st, "SELECT ordinal FROM jobs WHERE id = %lld", (long long)j.row),
			  (int)i);
		if (want[i].step2) {
			CHECK_STEP(st, j.row, 1, want[i].step1, 1, 3);
			CHECK_STEP(st, j.row, 2, want[i].step2, 4, 6);
		} else {
			CHECK_INT(q_int(st, "SELECT count(*) FROM steps WHERE job_id = %lld",
					(long long)j.row), 1);
			CHECK_STR(q_str(st, "SELECT name FROM steps WHERE job_id = %lld AND number = 1",
					(long long)j.row), want[i].step1);
		}
		CHECK_STR(q_str(st, "SELECT source FROM logs WHERE job_id = %lld", (long long)j.row),
			  "step-files");
	}
	/* the emoji name stays valid UTF-8 with its U+FFFD */
	const char *en = q_str(st, "SELECT name FROM jobs WHERE name LIKE 'Emoji%%'");
	CHECK(utf8_valid(en, strlen(en)));
	CHECK(str_ends(en, "\xef\xbf\xbd"));
	/* sad job's step files come 2 then 1 in the archive: the log is in step order */
	struct jobinfo sad = job_by_name(st, pid, 1, "sad job");
	struct buf got = BUF_INIT;
	log_bytes(st, sad.log_id, &got);
	CHECK(same_bytes(&got, "log line 1\nlog line 2\nlog line 3\nlog line 1\nlog line 2\nlog line 3\n",
			 66));
	struct jobinfo ad = job_by_name(st, pid, 1, "ad job");
	log_bytes(st, ad.log_id, &got);
	CHECK(same_bytes(&got, "whatever\n", 9));
	buf_release(&got);
	free(emoji_dir);
	store_close(st);
}

/* A run folder whose jobs.json names the jobs in full: the archive's cut
 * names must be matched by name, whatever the order of the jobs. */
TEST(cli_run_log_zip_in_run_folder_matched_by_name)
{
	struct store *st = new_store("cli-folder");
	char *dir = fresh_dir("cli-run");
	put_fixture(dir, "logs.zip", CLI_RUN_LOG);
	put_str(dir, "run.json",
		"{\"id\": 4242, \"run_attempt\": 1, \"name\": \"CI\", \"status\": \"completed\","
		" \"conclusion\": \"failure\", \"created_at\": \"2024-05-06T09:00:00Z\","
		" \"updated_at\": \"2024-05-06T09:10:00Z\", \"head_branch\": \"trunk\","
		" \"event\": \"push\", \"repository\": {\"full_name\": \"cli/cli\"}}");
	char *long_name = xstrdup("thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_"
				  "thisisnineteenchars_thisisnineteenchars_");
	char *emoji = emoji_name(50, false);
	/* jobs.json order is the reverse of the archive's, with a job the
	 * archive lacks in the middle */
	struct {
		long long id;
		const char *name;
		const char *s1, *s2;
		int lines;
	} jobs[] = {
		{901, "cool job : with colon", "fob the barz", NULL, 3},
		{902, "sad job", "barf the quux", "quux the barf", 6},
		{903, emoji, "Emoji Job", NULL, 3},
		{904, "no logs job", "nothing", NULL, -1},
		{905, "cool job / with slash", "fob the barz", NULL, 3},
		{906, "cool job", "fob the barz", "barz the fob", 6},
		{907, "ad job", "barf the quux", NULL, 1},
		{908, long_name, "Long Name Job", NULL, 3},
	};
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "total_count", (double)ARRAY_SIZE(jobs));
	cJSON *arr = cJSON_AddArrayToObject(doc, "jobs");
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "id", (double)jobs[i].id);
		cJSON_AddNumberToObject(j, "run_attempt", 1);
		cJSON_AddStringToObject(j, "name", jobs[i].name);
		cJSON_AddStringToObject(j, "status", "completed");
		cJSON_AddStringToObject(j, "conclusion", i == 1 ? "failure" : "success");
		cJSON *steps = cJSON_AddArrayToObject(j, "steps");
		for (int k = 0; k < (jobs[i].s2 ? 2 : 1); k++) {
			cJSON *s = cJSON_CreateObject();
			cJSON_AddNumberToObject(s, "number", k + 1);
			cJSON_AddStringToObject(s, "name", k ? jobs[i].s2 : jobs[i].s1);
			cJSON_AddStringToObject(s, "status", "completed");
			cJSON_AddStringToObject(s, "conclusion", "success");
			cJSON_AddItemToArray(steps, s);
		}
		cJSON_AddItemToArray(arr, j);
	}
	char *jp = path_join(dir, "jobs.json");
	save_json(jp, doc);
	free(jp);
	cJSON_Delete(doc);

	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(r.ev[0].n_jobs, 8);
	CHECK_INT(r.ev[0].n_logs, 7);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 8);
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		struct jobinfo j = job_by_name(st, 4242, 1, jobs[i].name);
		if (!j.row) {
			t_fail(__FILE__, __LINE__, "no job '%s'", jobs[i].name);
			continue;
		}
		CHECK_INT(q_int(st, "SELECT provider_id FROM jobs WHERE id = %lld", (long long)j.row),
			  jobs[i].id);
		CHECK_INT(q_int(st, "SELECT ordinal FROM jobs WHERE id = %lld", (long long)j.row),
			  (int)i);
		if (jobs[i].lines < 0) {
			CHECK_INT(j.log_id, 0);
			CHECK_STR(j.state, "missing");
			continue;
		}
		if (j.lines != jobs[i].lines)
			t_fail(__FILE__, __LINE__, "job '%s': %lld lines, expected %d", jobs[i].name,
			       (long long)j.lines, jobs[i].lines);
		CHECK_STR(j.state, "stored");
		if (jobs[i].s2) {
			CHECK_STEP(st, j.row, 1, jobs[i].s1, 1, 3);
			CHECK_STEP(st, j.row, 2, jobs[i].s2, 4, 6);
		} else {
			CHECK_STEP(st, j.row, 1, jobs[i].s1, 1, jobs[i].lines == 1 ? 1 : 3);
		}
		CHECK_STR(q_str(st, "SELECT attribution FROM steps WHERE job_id = %lld AND number = 1",
				(long long)j.row), "step-files");
	}
	/* the names stay the API's, not the archive's */
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name = %Q", long_name), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name = %Q", LONG_DIR), 0);
	CHECK_STR(q_str(st, "SELECT conclusion FROM runs"), "failure");
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE conclusion = 'failure'"), 1);
	free(long_name);
	free(emoji);
	free(dir);
	store_close(st);
}

TEST(archive_without_job_logs_is_refused)
{
	struct store *st = new_store("nojobs");
	char *zp = tmp_path("not-logs.zip");
	const struct zent e[] = {{"readme.md", "hello\n", 6}, {"a/b/c.txt", "x\n", 2}};
	make_zip(zp, e, 2);
	struct snap before, after;
	snapshot(st, &before);
	struct rec r = {0};
	struct cs_err err;
	CHECK_INT(import_rec(st, zp, &r, &err), -1);
	CHECK_HAS(err.msg, "not-logs.zip");
	CHECK_HAS(err.msg, "no job logs in the archive");
	CHECK_INT(r.n_errors, 1);
	snapshot(st, &after);
	CHECK_SNAP_EQ(before, after);
	free(zp);
	store_close(st);
}

/* ==================================================================================== */
/* artifacts                                                                             */
/* ==================================================================================== */

TEST(artifact_zip_with_path_traversal)
{
	struct store *st = new_store("myproject");
	char *dir = make_hub4j_run("myproject-run");
	put_fixture(dir, "artifacts/myproject.zip", CLI_MYPROJECT);
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.ev[0].n_files, 5);
	CHECK_INT(q_int(st, "SELECT count(*) FROM artifacts WHERE name = 'myproject' AND source = 'zip'"),
		  1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM artifact_files"), 5);
	CHECK_STR(q_str(st, "SELECT group_concat(path, ',') FROM (SELECT path FROM artifact_files "
			    "WHERE kind = 'other' ORDER BY path)"),
		  "bin/myexe,readme.md,src/main.go,src/util.go");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = '../LICENSE'"), "rejected");
	CHECK_HAS(q_str(st, "SELECT note FROM artifact_files WHERE path = '../LICENSE'"), "unsafe");
	CHECK_INT(q_int(st, "SELECT size FROM artifact_files WHERE path = 'readme.md'"), 8);
	/* nothing was written next to the run folder or inside it */
	char *outside = tmp_path("LICENSE");
	CHECK(access(outside, F_OK) != 0);
	free(outside);
	char *inside = path_join(dir, "artifacts/LICENSE");
	CHECK(access(inside, F_OK) != 0);
	free(inside);
	struct cs_err err;
	err_clear(&err);
	struct run_summary sum;
	CHECK_OK(store_run_summary(st, run_row(st, HUB_RUN_ID, 1), &sum, &err));
	CHECK_INT(sum.n_artifacts, 1);
	CHECK_INT(sum.n_artifact_files, 5);
	free(dir);
	store_close(st);
}

TEST(artifacts_junit_metrics_broken_unknown)
{
	struct store *st = new_store("artifacts");
	char *dir = make_hub4j_run("artifacts-run");
	struct buf xml = BUF_INIT;
	t_slurp(t_fixture(PYTEST_XML), &xml);
	char *zp = path_join(dir, "artifacts/junit-ts.zip");
	char *ad = path_join(dir, "artifacts");
	must_mkdir(ad);
	const struct zent e[] = {{"reports/pytest.xml", xml.data, xml.len},
				 {"reports/notes.txt", "free text\n", 10}};
	make_zip(zp, e, 2);
	put_str(dir, "artifacts/parity/parity.csv",
		"step,energy_ref,energy_cand\n"
		"0,1.0,1.0\n"
		"10,0.5,0.51\n"
		"20,0.25,0.26\n"
		"30,0.125,\n");
	put_fixture(dir, "artifacts/parity/broken.xml", CORRUPT_XML);
	put_str(dir, "artifacts/parity/blob.bin", "\x01\x02\x03");
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.ev[0].n_tests, 10);
	CHECK_INT(r.ev[0].n_series, 2);
	CHECK_INT(r.ev[0].n_files, 5);
	int64_t run = run_row(st, HUB_RUN_ID, 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM artifacts WHERE run_id = %lld", (long long)run), 2);
	CHECK_STR(q_str(st, "SELECT source FROM artifacts WHERE name = 'junit-ts'"), "zip");
	CHECK_STR(q_str(st, "SELECT source FROM artifacts WHERE name = 'parity'"), "folder");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = 'reports/pytest.xml'"),
		  "junit");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = 'reports/notes.txt'"),
		  "other");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = 'parity.csv'"), "metrics");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = 'broken.xml'"), "other");
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files WHERE path = 'blob.bin'"), "other");
	const char *note = q_str(st, "SELECT coalesce(note, '') FROM artifact_files WHERE path = "
				     "'broken.xml'");
	CHECK(strlen(note) > 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM test_results WHERE file_id = (SELECT id FROM "
			    "artifact_files WHERE path = 'broken.xml')"), 0);
	/* tests */
	CHECK_INT(q_int(st, "SELECT count(*) FROM test_results WHERE run_id = %lld", (long long)run),
		  10);
	CHECK_INT(q_int(st, "SELECT count(*) FROM test_results WHERE outcome = 'passed'"), 6);
	CHECK_INT(q_int(st, "SELECT count(*) FROM test_results WHERE outcome = 'failed'"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM test_results WHERE outcome = 'skipped'"), 2);
	CHECK_STR(q_str(st, "SELECT message FROM test_results WHERE name = 'test_always_fail'"),
		  "assert False");
	/* metrics: x from the step column, the empty cell kept as NULL */
	CHECK_INT(q_int(st, "SELECT count(*) FROM metric_series WHERE run_id = %lld", (long long)run),
		  2);
	CHECK_STR(q_str(st, "SELECT group_concat(name || ':' || x_name || ':' || n_points, ' ') FROM "
			    "(SELECT * FROM metric_series ORDER BY name)"),
		  "energy_cand:step:4 energy_ref:step:4");
	CHECK_STR(q_str(st, "SELECT group_concat(CAST(x AS INTEGER), ',') FROM (SELECT p.x FROM "
			    "metric_points p JOIN metric_series s ON s.id = p.series_id WHERE s.name "
			    "= 'energy_ref' ORDER BY p.idx)"),
		  "0,10,20,30");
	CHECK_STR(q_str(st, "SELECT group_concat(coalesce(value, 'null'), ',') FROM (SELECT p.value "
			    "FROM metric_points p JOIN metric_series s ON s.id = p.series_id WHERE "
			    "s.name = 'energy_cand' ORDER BY p.idx)"),
		  "1.0,0.51,0.26,null");
	struct cs_err err;
	err_clear(&err);
	struct run_summary sum;
	CHECK_OK(store_run_summary(st, run, &sum, &err));
	CHECK_INT(sum.tests_passed, 6);
	CHECK_INT(sum.tests_failed, 2);
	CHECK_INT(sum.tests_skipped, 2);
	CHECK_INT(sum.n_series, 2);
	CHECK_INT(sum.n_artifacts, 2);
	CHECK_INT(sum.n_artifact_files, 5);

	/* importing again changes nothing */
	struct snap a, b;
	snapshot(st, &a);
	struct rec r2 = {0};
	import_ok(st, dir, &r2);
	CHECK_INT(r2.ev[0].state, IMPORT_UNCHANGED);
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);
	buf_release(&xml);
	free(zp);
	free(ad);
	free(dir);
	store_close(st);
}

TEST(broken_artifact_zip_is_listed_not_fatal)
{
	struct store *st = new_store("badart");
	char *dir = make_hub4j_run("badart-run");
	put_str(dir, "artifacts/truncated.zip", "PK\x03\x04 this is not the rest of a zip");
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_STR(q_str(st, "SELECT kind FROM artifact_files"), "rejected");
	CHECK_HAS(q_str(st, "SELECT note FROM artifact_files"), "truncated.zip");
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 2);
	free(dir);
	store_close(st);
}

/* ==================================================================================== */
/* single log files                                                                      */
/* ==================================================================================== */

/* want_concl: a log alone gets its conclusion from the evidence in it
 * (issue 9): a Maven log without ##[error] markers still failed. steps: the
 * log has "##[group]Run" headers (a log without them has no steps). */
static void check_adhoc_log(const char *fixture, const char *job_name, uint64_t want_lines,
			    int want_errors, const char *want_concl, bool steps)
{
	struct store *st = new_store("adhoc");
	struct buf data = BUF_INIT, got = BUF_INIT;
	const char *path = t_fixture(fixture);
	char *p = xstrdup(path);
	t_slurp(p, &data);
	struct rec r = {0};
	import_ok(st, p, &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(r.ev[0].n_jobs, 1);
	CHECK_INT(r.ev[0].n_logs, 1);
	CHECK_INT(r.ev[0].n_findings, q_int(st, "SELECT count(*) FROM findings"));
	/* independent counts agree with the importer's and with the expectation */
	CHECK_INT(count_lines(data.data, data.len), want_lines);
	CHECK_INT(count_error_lines(data.data, data.len), want_errors);
	struct jobinfo j = job_by_name(st, r.ev[0].pid, 1, job_name);
	CHECK(j.row > 0);
	if (j.lines != (int64_t)want_lines)
		t_fail(__FILE__, __LINE__, "%s: %lld lines stored, %llu counted", fixture,
		       (long long)j.lines, (unsigned long long)want_lines);
	CHECK_INT(j.raw_size, data.len);
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings WHERE severity = 'error'"), want_errors);
	CHECK_STR(q_str(st, "SELECT conclusion FROM runs"), want_concl);
	CHECK_STR(q_str(st, "SELECT conclusion FROM jobs"), want_concl);
	CHECK_STR(q_str(st, "SELECT provider || ':' || slug FROM repos"), "local:local");
	CHECK_STR(q_str(st, "SELECT event FROM runs"), "import");
	/* every finding points at a line that has the marker */
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT line, message FROM findings WHERE severity = 'error'",
			       -1, &s, NULL) == SQLITE_OK) {
		struct cs_err err;
		err_clear(&err);
		struct logr *lr = logr_open(st, j.log_id, &err);
		struct buf line = BUF_INIT;
		while (lr && sqlite3_step(s) == SQLITE_ROW) {
			bool trunc;
			CHECK_OK(logr_line(lr, (uint64_t)sqlite3_column_int64(s, 0), 0, &line, &trunc,
					   &err));
			CHECK(contains(buf_cstr(&line), "##[error]"));
			CHECK(contains(buf_cstr(&line), (const char *)sqlite3_column_text(s, 1)));
		}
		buf_release(&line);
		logr_close(lr);
		sqlite3_finalize(s);
	}
	/* steps are synthesised from the "##[group]Run ..." headers and cover the log */
	if (!steps)
		CHECK_INT(q_int(st, "SELECT count(*) FROM steps"), 0);
	if (want_lines && steps) {
		CHECK_INT(q_int(st, "SELECT min(first_line) FROM steps"), 1);
		CHECK_INT(q_int(st, "SELECT max(last_line) FROM steps"), want_lines);
		CHECK_INT(q_int(st, "SELECT count(*) FROM steps a JOIN steps b ON a.job_id = b.job_id "
				    "AND a.number + 1 = b.number WHERE a.last_line + 1 != b.first_line"),
			  0);
	}
	log_bytes(st, j.log_id, &got);
	CHECK(same_bytes(&got, data.data, data.len));

	/* the same file again: unchanged, nothing added */
	struct snap a, b;
	snapshot(st, &a);
	struct rec r2 = {0};
	import_ok(st, p, &r2);
	CHECK_INT(r2.ev[0].state, IMPORT_UNCHANGED);
	CHECK_INT(r2.ev[0].pid, r.ev[0].pid);
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);
	buf_release(&data);
	buf_release(&got);
	free(p);
	store_close(st);
}

TEST(pytorch_error_log1)
{
	check_adhoc_log(PYTORCH "error_log1.txt", "error_log1", 4768, 2, "failure", true);
}

TEST(pytorch_error_log_multiple_matches)
{
	/* starts mid-line, a BOM at the start of its second line */
	check_adhoc_log(PYTORCH "error_log_multiple_matches.txt", "error_log_multiple_matches", 875,
			1, "failure", true);
}

TEST(cidiff_terraform_failure)
{
	check_adhoc_log(CIDIFF_RUN118, "fail", 748, 7, "failure", true);
}

TEST(cidiff_jenkins_lone_cr)
{
	/* 387 LF and 9 lone CR: 396 lines (cidiff/README.md) */
	/* no ##[error] marker, but Maven's compile errors: it failed; no
	 * "##[group]Run" header: no steps */
	check_adhoc_log(CIDIFF_ASTOR, "fail", 396, 0, "failure", false);
}

TEST(pytorch_findings_have_steps)
{
	struct store *st = new_store("pt-steps");
	struct rec r = {0};
	import_ok(st, t_fixture(PYTORCH "error_log1.txt"), &r);
	/* the findings are attributed to the synthetic step they are in */
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings f WHERE step_number IS NULL OR NOT EXISTS "
			    "(SELECT 1 FROM steps s WHERE s.job_id = f.job_id AND s.number = "
			    "f.step_number AND f.line BETWEEN s.first_line AND s.last_line)"),
		  0);
	CHECK_STR(q_str(st, "SELECT name FROM steps WHERE number = 1"), "Set up job");
	store_close(st);
}

/* ==================================================================================== */
/* idempotence, updates, attempts                                                        */
/* ==================================================================================== */

TEST(reimport_unchanged_then_updated)
{
	struct store *st = new_store("idem");
	char *dir = make_hub4j_run("idem-run");
	struct rec r1 = {0}, r2 = {0}, r3 = {0};
	import_ok(st, dir, &r1);
	CHECK_INT(r1.ev[0].state, IMPORT_CREATED);
	struct snap a, b, c;
	snapshot(st, &a);
	import_ok(st, dir, &r2);
	CHECK_INT(r2.n_runs, 1);
	CHECK_INT(r2.ev[0].state, IMPORT_UNCHANGED);
	CHECK_INT(r2.ev[0].row, r1.ev[0].row);
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);

	/* a newer state of the run: updated_at moved */
	char *rp = path_join(dir, "run.json");
	cJSON *run = load_json(rp);
	json_set(run, "updated_at", cJSON_CreateString("2021-04-05T15:44:00Z"));
	save_json(rp, run);
	cJSON_Delete(run);
	import_ok(st, dir, &r3);
	CHECK_INT(r3.ev[0].state, IMPORT_UPDATED);
	snapshot(st, &c);
	for (size_t t = 0; t < N_TABLES; t++)
		if (a.count[t] != c.count[t])
			t_fail(__FILE__, __LINE__, "table %s: %lld rows, then %lld", all_tables[t],
			       (long long)a.count[t], (long long)c.count[t]);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = %d", HUB_RUN_ID), 1);
	CHECK_INT(q_int(st, "SELECT updated_at FROM runs"),
		  time_parse_rfc3339("2021-04-05T15:44:00Z", 20));
	/* the replaced run's jobs, logs and chunks went with it */
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE run_id NOT IN (SELECT id FROM runs)"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_chunks WHERE log_id NOT IN (SELECT id FROM logs)"),
		  0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs WHERE job_id NOT IN (SELECT id FROM jobs)"), 0);
	struct cs_err err;
	err_clear(&err);
	struct run rr;
	CHECK_OK(store_find_run(st, "719643947", &rr, &err));
	CHECK_INT(rr.n_jobs, 2);
	run_free(&rr);

	/* and once more: unchanged again */
	struct rec r4 = {0};
	import_ok(st, dir, &r4);
	CHECK_INT(r4.ev[0].state, IMPORT_UNCHANGED);
	free(rp);
	free(dir);
	store_close(st);
}

static void add_job_json(cJSON *arr, long long id, int attempt, const char *name,
			 const char *conclusion, const char *start, const char *end)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "id", (double)id);
	cJSON_AddNumberToObject(j, "run_attempt", attempt);
	cJSON_AddStringToObject(j, "name", name);
	cJSON_AddStringToObject(j, "status", "completed");
	cJSON_AddStringToObject(j, "conclusion", conclusion);
	cJSON_AddStringToObject(j, "started_at", start);
	cJSON_AddStringToObject(j, "completed_at", end);
	cJSON_AddItemToArray(arr, j);
}

/* run.json of attempt 2, jobs of attempts 1 and 2, logs for some of them. */
static char *make_attempts_run(const char *name, bool with_attempt1_json)
{
	char *dir = fresh_dir(name);
	cJSON *run = hub4j_run_object(HUB_RUNS);
	json_set(run, "run_attempt", cJSON_CreateNumber(2));
	json_set(run, "updated_at", cJSON_CreateString("2021-04-05T16:00:00Z"));
	char *p = path_join(dir, "run.json");
	save_json(p, run);
	free(p);
	if (with_attempt1_json) {
		json_set(run, "run_attempt", cJSON_CreateNumber(1));
		json_set(run, "conclusion", cJSON_CreateString("failure"));
		json_set(run, "updated_at", cJSON_CreateString("2021-04-05T15:43:07Z"));
		char *a1 = path_join(dir, "attempts/1");
		must_mkdir(a1);
		char *ap = path_join(a1, "run.json");
		save_json(ap, run);
		free(ap);
		free(a1);
	}
	cJSON_Delete(run);
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "jobs");
	add_job_json(arr, 1001, 1, "job2", "success", "2021-04-05T15:42:56Z", "2021-04-05T15:42:57Z");
	add_job_json(arr, 1002, 1, "job1", "failure", "2021-04-05T15:42:57Z", "2021-04-05T15:42:59Z");
	add_job_json(arr, 2001, 2, "job2", "success", "2021-04-05T15:58:00Z", "2021-04-05T15:58:30Z");
	add_job_json(arr, 2002, 2, "job1", "success", "2021-04-05T15:58:10Z", "2021-04-05T15:59:00Z");
	cJSON_AddNumberToObject(doc, "total_count", 4);
	p = path_join(dir, "jobs.json");
	save_json(p, doc);
	free(p);
	cJSON_Delete(doc);
	put_fixture(dir, "logs/1002.txt", HUB_LOG_JOB1);
	put_fixture(dir, "logs/2001.txt", HUB_LOG_JOB2);
	put_fixture(dir, "logs/2002.txt", HUB_LOG_JOB1);
	return dir;
}

static void check_attempt_rows(struct store *st, const char *attempt1_conclusion)
{
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = %d", HUB_RUN_ID), 2);
	int64_t a1 = run_row(st, HUB_RUN_ID, 1), a2 = run_row(st, HUB_RUN_ID, 2);
	CHECK(a1 > 0 && a2 > 0 && a1 != a2);
	CHECK_STR(q_str(st, "SELECT group_concat(provider_id, ',') FROM (SELECT provider_id FROM "
			    "jobs WHERE run_id = %lld ORDER BY ordinal)", (long long)a1),
		  "1001,1002");
	CHECK_STR(q_str(st, "SELECT group_concat(provider_id, ',') FROM (SELECT provider_id FROM "
			    "jobs WHERE run_id = %lld ORDER BY ordinal)", (long long)a2),
		  "2001,2002");
	CHECK_STR(q_str(st, "SELECT conclusion FROM runs WHERE id = %lld", (long long)a1),
		  attempt1_conclusion);
	CHECK_STR(q_str(st, "SELECT conclusion FROM runs WHERE id = %lld", (long long)a2), "success");
	CHECK_STR(q_str(st, "SELECT log_state FROM jobs WHERE provider_id = 1001"), "missing");
	CHECK_STR(q_str(st, "SELECT log_state FROM jobs WHERE provider_id = 1002"), "stored");
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), 3);

	struct cs_err err;
	err_clear(&err);
	struct run r;
	CHECK_OK(store_find_run(st, "719643947", &r, &err));
	CHECK_INT(r.attempt, 2);
	run_free(&r);
	CHECK_OK(store_find_run(st, "719643947:1", &r, &err));
	CHECK_INT(r.attempt, 1);
	CHECK_INT(r.n_jobs, 2);
	CHECK_INT(r.n_failed_jobs, 1);
	run_free(&r);
	CHECK_OK(store_find_run(st, "719643947:2", &r, &err));
	CHECK_INT(r.attempt, 2);
	CHECK_INT(r.n_failed_jobs, 0);
	run_free(&r);
	CHECK_INT(store_find_run(st, "719643947:3", &r, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
}

TEST(attempts_with_their_own_run_json)
{
	struct store *st = new_store("attempts");
	char *dir = make_attempts_run("attempts", true);
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 2);
	CHECK_INT(r.ev[0].attempt, 1);
	CHECK_INT(r.ev[1].attempt, 2);
	CHECK_INT(r.ev[0].state, IMPORT_CREATED);
	CHECK_INT(r.ev[1].state, IMPORT_CREATED);
	CHECK_INT(r.ev[0].n_jobs, 2);
	CHECK_INT(r.ev[1].n_jobs, 2);
	check_attempt_rows(st, "failure");
	/* attempt 1's own object: its updated_at, not attempt 2's */
	CHECK_INT(q_int(st, "SELECT updated_at FROM runs WHERE attempt = 1"),
		  time_parse_rfc3339("2021-04-05T15:43:07Z", 20));
	CHECK_INT(q_int(st, "SELECT updated_at FROM runs WHERE attempt = 2"),
		  time_parse_rfc3339("2021-04-05T16:00:00Z", 20));
	/* again: both unchanged */
	struct snap a, b;
	snapshot(st, &a);
	struct rec r2 = {0};
	import_ok(st, dir, &r2);
	CHECK_INT(r2.n_runs, 2);
	CHECK_INT(r2.ev[0].state, IMPORT_UNCHANGED);
	CHECK_INT(r2.ev[1].state, IMPORT_UNCHANGED);
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);
	free(dir);
	store_close(st);
}

TEST(attempts_derived_from_jobs)
{
	struct store *st = new_store("attempts-derived");
	char *dir = make_attempts_run("attempts-derived", false);
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 2);
	/* attempt 1 has no run object: its state comes from its jobs */
	check_attempt_rows(st, "failure");
	CHECK_STR(q_str(st, "SELECT status FROM runs WHERE attempt = 1"), "completed");
	CHECK_INT(q_int(st, "SELECT started_at FROM runs WHERE attempt = 1"),
		  time_parse_rfc3339("2021-04-05T15:42:56Z", 20));
	CHECK_INT(q_int(st, "SELECT updated_at FROM runs WHERE attempt = 1"),
		  time_parse_rfc3339("2021-04-05T15:42:59Z", 20));
	free(dir);
	store_close(st);
}

TEST(attempt_run_json_malformed_rolls_back)
{
	struct store *st = new_store("attempts-bad");
	char *dir = make_attempts_run("attempts-bad", true);
	put_str(dir, "attempts/1/run.json", "{\"id\": 719643947, \"run_attempt\": 1,");
	struct snap a, b;
	snapshot(st, &a);
	struct rec r = {0};
	struct cs_err err;
	CHECK_INT(import_rec(st, dir, &r, &err), -1);
	CHECK_HAS(err.msg, "attempts/1/run.json");
	CHECK_HAS(err.msg, dir);
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);
	free(dir);
	store_close(st);
}

/* ==================================================================================== */
/* hostile input                                                                         */
/* ==================================================================================== */

/* An index that already holds the hub4j run, so "unchanged" means something. */
static struct store *seeded_store(const char *name)
{
	struct store *st = new_store(name);
	char *dir = make_hub4j_run(name);
	struct rec r = {0};
	import_ok(st, dir, &r);
	free(dir);
	return st;
}

/* Import path, expect failure with a message naming the path and every
 * needle, and an index identical to before. */
static void expect_refused(struct store *st, const char *path, const char *const *needles,
			   int line)
{
	struct snap a, b;
	snapshot(st, &a);
	struct rec r = {0};
	struct cs_err err;
	int rc = import_rec(st, path, &r, &err);
	if (rc != -1)
		t_fail(__FILE__, line, "import of '%s' did not fail", path);
	if (!contains(err.msg, path))
		t_fail(__FILE__, line, "message \"%s\" does not name '%s'", err.msg, path);
	for (const char *const *n = needles; *n; n++)
		if (!contains(err.msg, *n))
			t_fail(__FILE__, line, "message \"%s\" lacks \"%s\"", err.msg, *n);
	if (r.n_errors != 1 || strcmp(r.last_error, err.msg) != 0)
		t_fail(__FILE__, line, "on_error got %d messages, last \"%s\"", r.n_errors,
		       r.last_error);
	if (r.n_runs != 0)
		t_fail(__FILE__, line, "%d runs reported", r.n_runs);
	if (err.code == CS_OK)
		t_fail(__FILE__, line, "no error code");
	snapshot(st, &b);
	for (size_t t = 0; t < N_TABLES; t++)
		if (a.count[t] != b.count[t] || a.sum[t] != b.sum[t])
			t_fail(__FILE__, line, "table %s changed (%lld -> %lld rows)", all_tables[t],
			       (long long)a.count[t], (long long)b.count[t]);
}

/* A run folder of run 77 with the given run.json and jobs.json (NULL: none). */
static char *small_run(const char *name, const char *run_json, const char *jobs_json)
{
	char *dir = fresh_dir(name);
	if (run_json)
		put_str(dir, "run.json", run_json);
	if (jobs_json)
		put_str(dir, "jobs.json", jobs_json);
	return dir;
}

#define RUN77 "{\"id\": 77, \"status\": \"completed\", \"conclusion\": \"success\"}"
#define JOBS77 "{\"jobs\": [{\"id\": 1, \"name\": \"a\", \"steps\": []}]}"
#define REFUSE(st, path, ...)                                                             \
	do {                                                                              \
		const char *const needles_[] = {__VA_ARGS__, NULL};                       \
		expect_refused((st), (path), needles_, __LINE__);                         \
	} while (0)

TEST(hostile_run_json)
{
	struct store *st = seeded_store("hostile-run");
	struct buf real = BUF_INIT;
	char *dir;

	/* truncated in the middle of the real run object */
	char *rp = tmp_path("real-run.json");
	cJSON *ro = hub4j_run_object(HUB_RUNS);
	save_json(rp, ro);
	cJSON_Delete(ro);
	t_slurp(rp, &real);
	for (size_t cut = 1; cut < real.len; cut += real.len / 7) {
		char *s = xstrndup(real.data, cut);
		dir = small_run("trunc", s, NULL);
		REFUSE(st, dir, "run.json: ", "byte");
		free(s);
		free(dir);
	}

	dir = small_run("empty", "", NULL);
	REFUSE(st, dir, "run.json: empty file");
	free(dir);

	dir = small_run("garbage-head", "\x89PNG\r\n\x1a\n", NULL);
	REFUSE(st, dir, "run.json: unexpected token at byte 0");
	free(dir);

	dir = small_run("bad-token", "{\"id\": 77, \"status\": ?}", NULL);
	REFUSE(st, dir, "run.json: unexpected token at byte 21");
	free(dir);

	dir = small_run("id-string", "{\"id\": \"77\"}", NULL);
	REFUSE(st, dir, "run.json: no numeric \"id\"");
	free(dir);

	dir = small_run("id-float-huge", "{\"id\": 1e300}", NULL);
	REFUSE(st, dir, "run.json: no numeric \"id\"");
	free(dir);

	dir = small_run("not-object", "[1, 2, 3]", NULL);
	REFUSE(st, dir, "run.json", "\"id\"");
	free(dir);

	dir = small_run("attempt-0", "{\"id\": 77, \"run_attempt\": 0}", NULL);
	REFUSE(st, dir, "run.json: bad run_attempt 0");
	free(dir);

	buf_release(&real);
	free(rp);
	store_close(st);
}

TEST(hostile_run_json_truncated_says_end)
{
	/* a download cut short is reported as such, not as a bad token at
	 * the last byte that did arrive */
	struct store *st = seeded_store("hostile-end");
	static const char *const cut[] = {
		"{",
		"{\"id\": 77",
		"{\"id\": 77, \"status\": \"comp",
		"{\"id\": 77, \"status\": \"completed\"",
		"{\"id\": 77, \"repository\": {\"full_name\": \"o/r\"}, ",
	};
	for (size_t i = 0; i < ARRAY_SIZE(cut); i++) {
		char *dir = small_run("cut", cut[i], NULL);
		char want[64];
		snprintf(want, sizeof(want), "run.json: unexpected end of JSON at byte %zu",
			 strlen(cut[i]));
		REFUSE(st, dir, want);
		free(dir);
	}
	store_close(st);
}

TEST(logs_fetched_later_update_the_run)
{
	struct store *st = new_store("later");
	char *dir = make_hub4j_run("later-run");
	char *logs = path_join(dir, "logs");
	char *moved = path_join(dir, "logs-later");
	CHECK_INT(rename(logs, moved), 0);
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.ev[0].n_logs, 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE log_state = 'missing'"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), 0);
	CHECK_INT(rename(moved, logs), 0);
	struct rec r2 = {0};
	import_ok(st, dir, &r2);
	CHECK_INT(r2.ev[0].state, IMPORT_UPDATED);
	CHECK_INT(r2.ev[0].n_logs, 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE log_state = 'stored'"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 2);
	free(moved);
	free(logs);
	free(dir);
	store_close(st);
}

TEST(hostile_run_json_nul_byte)
{
	struct store *st = seeded_store("hostile-nul");
	char *dir;
	/* a raw NUL inside a string is not JSON (control characters must be
	 * escaped): it must not silently cut the value */
	dir = small_run("nul-inside", NULL, NULL);
	{
		static const char nul_json[] = "{\"id\": 77, \"name\": \"CI\0 and more\"}";
		char *p = path_join(dir, "run.json");
		write_file(p, nul_json, sizeof(nul_json) - 1);
		free(p);
	}
	REFUSE(st, dir, "run.json: ", "byte 22");
	free(dir);
	store_close(st);
}

TEST(hostile_run_json_trailing_garbage)
{
	/* a complete object followed by more bytes is not a run object */
	struct store *st = seeded_store("hostile-trailing");
	char *dir = small_run("trailing", RUN77 " {\"id\": 78}", NULL);
	REFUSE(st, dir, "run.json: ", "byte 59");
	free(dir);
	dir = small_run("trailing2", RUN77 "xyz", NULL);
	REFUSE(st, dir, "run.json: ", "byte 58");
	free(dir);
	store_close(st);
}

TEST(hostile_jobs_json)
{
	struct store *st = seeded_store("hostile-jobs");
	char *dir;

	dir = small_run("jobs-token", RUN77, "{\"jobs\": [ @ ]}");
	REFUSE(st, dir, "jobs.json: unexpected token at byte 11");
	free(dir);

	dir = small_run("jobs-trunc", RUN77, "{\"jobs\": [{\"id\": 1, \"name\": \"a\"}");
	REFUSE(st, dir, "jobs.json: ", "byte");
	free(dir);

	dir = small_run("jobs-empty", RUN77, "");
	REFUSE(st, dir, "jobs.json: empty file");
	free(dir);

	dir = small_run("jobs-obj", RUN77, "{\"jobs\": {\"id\": 1}}");
	REFUSE(st, dir, "jobs.json: no \"jobs\" array");
	free(dir);

	dir = small_run("jobs-missing", RUN77, "{\"total_count\": 0}");
	REFUSE(st, dir, "jobs.json: no \"jobs\" array");
	free(dir);

	dir = small_run("job-no-id", RUN77, "{\"jobs\": [{\"id\": 1, \"name\": \"a\"}, {\"name\": \"b\"}]}");
	REFUSE(st, dir, "jobs.json: jobs[1] lacks a numeric \"id\"");
	free(dir);

	dir = small_run("job-id-string", RUN77, "{\"jobs\": [{\"id\": \"1\", \"name\": \"a\"}]}");
	REFUSE(st, dir, "jobs.json: jobs[0]");
	free(dir);

	dir = small_run("job-no-name", RUN77, "{\"jobs\": [{\"id\": 1, \"name\": 5}]}");
	REFUSE(st, dir, "jobs.json: jobs[0]", "\"name\"");
	free(dir);

	dir = small_run("job-not-object", RUN77, "{\"jobs\": [17]}");
	REFUSE(st, dir, "jobs.json: jobs[0]");
	free(dir);

	dir = small_run("steps-obj", RUN77, "{\"jobs\": [{\"id\": 1, \"name\": \"a\", \"steps\": {}}]}");
	REFUSE(st, dir, "jobs.json: jobs[0].steps is not an array");
	free(dir);

	dir = small_run("steps-str", RUN77,
			"{\"jobs\": [{\"id\": 1, \"name\": \"a\", \"steps\": []}, "
			"{\"id\": 2, \"name\": \"b\", \"steps\": \"x\"}]}");
	REFUSE(st, dir, "jobs.json: jobs[1].steps is not an array");
	free(dir);

	dir = small_run("job-dup", RUN77,
			"{\"jobs\": [{\"id\": 1, \"name\": \"a\"}, {\"id\": 1, \"name\": \"b\"}]}");
	REFUSE(st, dir, "jobs.json: job id 1 appears twice");
	free(dir);

	dir = small_run("job-attempt", RUN77, "{\"jobs\": [{\"id\": 1, \"name\": \"a\", \"run_attempt\": -4}]}");
	REFUSE(st, dir, "jobs.json: jobs[0]: bad run_attempt -4");
	free(dir);

	/* a good folder still imports after all that */
	dir = small_run("good", RUN77, JOBS77);
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.ev[0].state, IMPORT_CREATED);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 77"), 1);
	free(dir);
	store_close(st);
}

TEST(hostile_logs_zip)
{
	struct store *st = seeded_store("hostile-zip");
	struct buf real = BUF_INIT;
	t_slurp(t_fixture(HUB_RUNLOG_ZIP), &real);
	char *dir;

	/* truncated download */
	dir = small_run("zip-trunc", RUN77, NULL);
	{
		char *p = path_join(dir, "logs.zip");
		write_file(p, real.data, real.len / 2);
		free(p);
	}
	REFUSE(st, dir, "logs.zip");
	free(dir);

	/* random bytes */
	dir = small_run("zip-random", RUN77, NULL);
	{
		unsigned char junk[4096];
		uint32_t x = 2463534242u;
		for (size_t i = 0; i < sizeof(junk); i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			junk[i] = (unsigned char)(x >> 24);
		}
		char *p = path_join(dir, "logs.zip");
		write_file(p, junk, sizeof(junk));
		free(p);
	}
	REFUSE(st, dir, "logs.zip", "not a zip");
	free(dir);

	/* a zip of zero bytes */
	dir = small_run("zip-empty", RUN77, NULL);
	put_str(dir, "logs.zip", "");
	REFUSE(st, dir, "logs.zip");
	free(dir);

	/* a bomb: 16 MB of zeros in a job file */
	dir = small_run("zip-bomb", RUN77, NULL);
	{
		size_t n = 16 * MIB;
		char *zeros = xcalloc(n, 1);
		const struct zent e[] = {{"1_build.txt", "2024-01-01T00:00:00.0000000Z hi\n", 33},
					 {"2_bomb.txt", zeros, n}};
		char *p = path_join(dir, "logs.zip");
		make_zip(p, e, 2);
		free(p);
		free(zeros);
	}
	REFUSE(st, dir, "logs.zip", "2_bomb.txt");
	free(dir);

	/* ../evil and /abs entries are skipped, the rest imports */
	dir = small_run("zip-evil", RUN77, NULL);
	{
		const struct zent e[] = {{"../evil.txt", "evil\n", 5},
					 {"/abs.txt", "abs\n", 4},
					 {"1_../x.txt", "x\n", 2},
					 {"../2_evil.txt", "evil\n", 5},
					 {"3_good.txt", "good line\n", 10}};
		char *p = path_join(dir, "logs.zip");
		make_zip(p, e, ARRAY_SIZE(e));
		free(p);
	}
	struct rec r = {0};
	import_ok(st, dir, &r);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE "
			    "r.provider_id = 77"), 1);
	CHECK_STR(q_str(st, "SELECT j.name FROM jobs j JOIN runs r ON r.id = j.run_id WHERE "
			    "r.provider_id = 77"), "good");
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name LIKE '%%evil%%' OR name LIKE "
			    "'%%abs%%'"), 0);
	char *evil = tmp_path("evil.txt");
	CHECK(access(evil, F_OK) != 0);
	CHECK(access("/abs.txt", F_OK) != 0);
	free(evil);
	free(dir);
	buf_release(&real);
	store_close(st);
}

TEST(hostile_bomb_as_archive_argument)
{
	struct store *st = seeded_store("hostile-bomb2");
	char *p = tmp_path("bomb-archive.zip");
	size_t n = 16 * MIB;
	char *zeros = xcalloc(n, 1);
	const struct zent e[] = {{"job/1_step.txt", zeros, n}};
	make_zip(p, e, 1);
	free(zeros);
	REFUSE(st, p, "job/1_step.txt");
	free(p);
	store_close(st);
}

static void adhoc_roundtrip(struct store *st, const char *name, const void *data, size_t n,
			    uint64_t want_lines)
{
	char *p = tmp_path("%s", name);
	write_file(p, data, n);
	struct rec r = {0};
	import_ok(st, p, &r);
	CHECK_INT(r.n_runs, 1);
	int64_t pid = r.ev[0].pid;
	char *job = xstrdup(name);
	if (str_ends(job, ".txt") || str_ends(job, ".log"))
		job[strlen(job) - 4] = '\0';
	struct jobinfo j = job_by_name(st, pid, 1, job);
	CHECK(j.row > 0);
	CHECK_INT(count_lines(data, n), want_lines);
	if (j.lines != (int64_t)want_lines)
		t_fail(__FILE__, __LINE__, "%s: %lld lines, expected %llu", name, (long long)j.lines,
		       (unsigned long long)want_lines);
	CHECK_INT(j.raw_size, n);
	if (j.log_id) {
		struct buf got = BUF_INIT;
		log_bytes(st, j.log_id, &got);
		if (!same_bytes(&got, data, n))
			t_fail(__FILE__, __LINE__, "%s: raw bytes differ (%zu vs %zu)", name, got.len, n);
		buf_release(&got);
	}
	free(job);
	free(p);
}

TEST(hostile_log_files)
{
	struct store *st = seeded_store("hostile-logs");
	static const char nul[] = "2024-01-01T00:00:00.0000000Z a\0b\n\0\0\0\n##[error]x\0y\n";
	adhoc_roundtrip(st, "nul.log", nul, sizeof(nul) - 1, 3);
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings WHERE message LIKE 'x%%'"), 1);

	static const char bad_utf8[] = "ok\n\xff\xfe\xc3(\xe2\x82\n##[error]\xed\xa0\x80 surrogate\r\n\xf8\x88\x80\x80\x80";
	adhoc_roundtrip(st, "bad-utf8.txt", bad_utf8, sizeof(bad_utf8) - 1, 4);

	static const char crs[] = "a\rb\r\nc\n\rd\r";
	adhoc_roundtrip(st, "crs.log", crs, sizeof(crs) - 1, 5);

	adhoc_roundtrip(st, "empty.log", "", 0, 0);
	CHECK_INT(q_int(st, "SELECT line_count FROM logs l JOIN jobs j ON j.id = l.job_id WHERE "
			    "j.name = 'empty'"), 0);

	size_t big = 10 * MIB;
	char *line = xmalloc(big + 2);
	memset(line, 'x', big);
	adhoc_roundtrip(st, "one-line.log", line, big, 1);
	line[big] = '\n';
	adhoc_roundtrip(st, "one-line-nl.log", line, big + 1, 1);
	line[0] = '\n';
	adhoc_roundtrip(st, "nl-then-line.log", line, big + 1, 2);
	/* a 10 MB error line: stored whole, its finding capped */
	memcpy(line, "##[error]", 9);
	line[big] = '\n';
	adhoc_roundtrip(st, "huge-error.log", line, big + 1, 1);
	int64_t len = q_int(st, "SELECT length(CAST(f.message AS BLOB)) FROM findings f JOIN jobs j "
				"ON j.id = f.job_id WHERE j.name = 'huge-error'");
	CHECK(len > 0 && len <= 1000);
	free(line);

	/* a finding message cut at the cap never splits a UTF-8 sequence */
	struct buf b = BUF_INIT;
	buf_adds(&b, "##[error]");
	for (int i = 0; i < 600; i++)
		buf_adds(&b, "\xc3\xa9");
	buf_addc(&b, '\n');
	adhoc_roundtrip(st, "utf8-error.log", b.data, b.len, 1);
	const char *msg = q_str(st, "SELECT f.message FROM findings f JOIN jobs j ON j.id = f.job_id "
				    "WHERE j.name = 'utf8-error'");
	CHECK(utf8_valid(msg, strlen(msg)));
	CHECK(strlen(msg) <= 1000 && strlen(msg) >= 990);
	buf_release(&b);
	store_close(st);
}

/* Marker findings are stored several rows a statement: every one is there,
 * in line order with its ids, severity, step and message, whatever the
 * count (45: 32 queued, then 8 + 4 + 1 rows). */
TEST(marker_findings_stored_in_order)
{
	struct store *st = seeded_store("marker-findings");
	struct buf b = BUF_INIT;
	static const char *const kinds[] = {"error", "warning", "notice"};
	buf_adds(&b, "##[group]Run make\n");
	for (int i = 0; i < 45; i++) {
		char l[80];
		snprintf(l, sizeof(l), "plain %d\n##[%s]m%d %s\n", i, kinds[i % 3], i,
			 i == 7 ? "" : "tail");
		buf_adds(&b, l);
	}
	adhoc_roundtrip(st, "markers.log", b.data, b.len, 91);
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings"), 45);
	/* ids one after the other, lines 3, 5, ..., in the group's step */
	CHECK_INT(q_int(st, "SELECT count(*) FROM findings f, (SELECT min(id) AS m FROM findings) "
			    "WHERE f.line = 3 + 2 * (f.id - m) AND f.end_line = f.line "
			    "AND f.step_number = 1 AND f.source = 'marker'"), 45);
	for (int i = 0; i < 45; i++) {
		char want[40];
		snprintf(want, sizeof(want), "%s m%d %s", kinds[i % 3], i, i == 7 ? "" : "tail");
		CHECK_STR(q_str(st, "SELECT severity || ' ' || message FROM findings WHERE line = %d",
				3 + 2 * i),
			  want);
	}
	buf_release(&b);
	store_close(st);
}

/* A log's plain lines are told from its markers and step openers by their
 * first bytes, without their timestamps parsed: markers behind BOMs and a
 * timestamp, a timestamp out of range (its line plain: the text is the
 * whole line), the runner's closing lines */
TEST(plain_log_steps_groups_and_markers)
{
	struct store *st = seeded_store("plain-steps");
	static const char log[] =
		"2024-05-01T10:48:36.8101331Z setup\n"
		"\xef\xbb\xbf" "2024-05-01T10:48:37.0000000Z \xef\xbb\xbf" "##[group]Run make\n"
		"2024-05-01T10:48:38.0000000Z ##[warning]w1\n"
		"2024-13-01T10:48:38.0000000Z ##[error]not a marker\n"
		"##[endgroup]\n"
		"2024-05-01T10:48:39.0000000Z Post job cleanup.\n"
		"2024-05-01T10:48:39.1000000Z Cleaning up orphan processes\n"
		"2024-05-01T10:48:39.2000000Z Post-it\n"
		"Complete\n";
	adhoc_roundtrip(st, "steps.log", log, sizeof(log) - 1, 9);
	CHECK_STR(q_str(st, "SELECT group_concat(number || ':' || name || ':' || first_line || '-' "
			    "|| last_line, ',') FROM (SELECT * FROM steps WHERE job_id = (SELECT id FROM jobs WHERE name = 'steps') "
			    "ORDER BY number)"),
		  "1:Set up job:1-1,2:Run make:2-5,3:Post job cleanup:6-6,4:Complete job:7-9");
	CHECK_STR(q_str(st, "SELECT group_concat(first_line || '-' || last_line || ':' || title, ',') "
			    "FROM log_groups WHERE log_id = (SELECT l.id FROM logs l JOIN jobs j ON "
			    "j.id = l.job_id WHERE j.name = 'steps')"),
		  "2-5:Run make");
	CHECK_STR(q_str(st, "SELECT group_concat(line || ':' || step_number || ':' || severity || ':' "
			    "|| message, ',') FROM findings WHERE job_id = (SELECT id FROM jobs WHERE "
			    "name = 'steps')"),
		  "3:2:warning:w1");
	store_close(st);
}

TEST(missing_path_and_special_files)
{
	struct store *st = seeded_store("hostile-missing");
	char *p = tmp_path("does-not-exist");
	REFUSE(st, p, "No such file");
	free(p);
	struct snap a, b;
	snapshot(st, &a);
	struct rec r = {0};
	struct cs_err err;
	CHECK_INT(import_rec(st, "/dev/null", &r, &err), -1);
	CHECK_HAS(err.msg, "/dev/null");
	CHECK_HAS(err.msg, "not a file or folder");
	snapshot(st, &b);
	CHECK_SNAP_EQ(a, b);
	store_close(st);
}

TEST(locked_database)
{
	struct store *st = seeded_store("locked");
	char *dir = small_run("locked-run", RUN77, JOBS77);
	sqlite3 *other = NULL;
	CHECK_INT(sqlite3_open(st->path, &other), SQLITE_OK);
	char *msg = NULL;
	CHECK_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_busy_timeout(st->db, 50);
	struct rec r = {0};
	struct cs_err err;
	CHECK_INT(import_rec(st, dir, &r, &err), -1);
	CHECK_INT(err.code, CS_EDB);
	CHECK_HAS(err.msg, dir);
	CHECK_HAS(err.msg, "locked");
	CHECK_HAS(err.msg, "another ciscope is writing");
	CHECK_INT(r.n_errors, 1);
	CHECK_INT(sqlite3_exec(other, "ROLLBACK", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_close(other);
	/* nothing half-written; the same folder imports once the lock is gone */
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 77"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 1);
	struct rec r2 = {0};
	import_ok(st, dir, &r2);
	CHECK_INT(r2.ev[0].state, IMPORT_CREATED);
	free(dir);
	store_close(st);
}

TEST(interrupted_between_runs)
{
	struct store *st = new_store("intr");
	char *root = fresh_dir("intr-root");
	char *a = path_join(root, "a"), *b = path_join(root, "b");
	must_mkdir(a);
	must_mkdir(b);
	put_str(a, "run.json", "{\"id\": 1, \"status\": \"completed\"}");
	put_str(a, "jobs.json", JOBS77);
	put_str(b, "run.json", "{\"id\": 2, \"status\": \"completed\"}");
	put_str(b, "jobs.json", JOBS77);
	struct rec r = {.interrupt_after_runs = 1};
	struct cs_err err;
	CHECK_INT(import_rec(st, root, &r, &err), -1);
	CHECK_INT(err.code, CS_EINTR);
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 1"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 2"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 1);
	free(a);
	free(b);
	free(root);
	store_close(st);
}

TEST(interrupted_inside_a_log)
{
	struct store *st = seeded_store("intr-log");
	char *root = fresh_dir("intr-log-root");
	char *a = path_join(root, "a"), *b = path_join(root, "b");
	must_mkdir(a);
	must_mkdir(b);
	put_str(a, "run.json", "{\"id\": 1, \"status\": \"completed\"}");
	put_str(a, "jobs.json", JOBS77);
	put_str(a, "logs/1.txt", "small\n");
	put_str(b, "run.json", "{\"id\": 2, \"status\": \"completed\"}");
	put_str(b, "jobs.json", JOBS77);
	/* 12 MB: the first progress report comes inside it */
	size_t n = 12 * MIB;
	char *big = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 100 == 99) ? '\n' : 'a';
	char *lp = path_join(b, "logs");
	must_mkdir(lp);
	char *bp = path_join(lp, "1.txt");
	write_file(bp, big, n);
	free(big);
	struct snap before;
	snapshot(st, &before);
	struct rec r = {.interrupt_on_progress = true};
	struct cs_err err;
	CHECK_INT(import_rec(st, root, &r, &err), -1);
	CHECK_INT(err.code, CS_EINTR);
	CHECK(r.n_progress >= 1);
	/* run a (small, before any progress report) is in; b is not, at all */
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 1"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 2"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), table_count(&before, "logs") + 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_chunks"), table_count(&before, "log_chunks") + 1);
	free(bp);
	free(lp);
	free(a);
	free(b);
	free(root);
	store_close(st);
}

/* ==================================================================================== */
/* folders                                                                               */
/* ==================================================================================== */

TEST(folders_of_run_folders)
{
	struct store *st = new_store("tree");
	char *root = fresh_dir("tree");
	char *deep = path_join(root, "x/y/z");
	must_mkdir(deep);
	put_str(deep, "r1/run.json", "{\"id\": 101, \"status\": \"completed\"}");
	put_str(deep, "r1/jobs.json", JOBS77);
	put_str(deep, "r1/logs/1.txt", "line\n");
	put_str(root, "x/r2/run.json", "{\"id\": 102, \"status\": \"completed\"}");
	put_fixture(root, "x/stray.log", PYTORCH "error_log1.txt");
	put_str(root, "x/README.md", "not a log\n");
	put_str(root, ".hidden/r3/run.json", "{\"id\": 103}");
	put_str(root, "x/.hidden.log", "hidden\n");
	struct rec r = {0};
	import_ok(st, root, &r);
	CHECK_INT(r.n_runs, 3);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 3);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id IN (101, 102)"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 103"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name = 'stray'"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE name IN ('hidden', '.hidden', 'README')"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), 2);

	/* one bad run folder among good ones: the others still go in */
	struct store *st2 = new_store("tree2");
	put_str(root, "x/y/bad/run.json", "{\"id\": ");
	struct rec r2 = {0};
	struct cs_err err;
	CHECK_INT(import_rec(st2, root, &r2, &err), -1);
	CHECK_INT(r2.n_errors, 1);
	CHECK_HAS(r2.last_error, "x/y/bad");
	CHECK_INT(r2.n_runs, 3);
	CHECK_INT(q_int(st2, "SELECT count(*) FROM runs"), 3);
	store_close(st2);
	free(deep);
	free(root);
	store_close(st);
}

TEST(importer_totals_count_runs)
{
	struct store *st = new_store("totals");
	char *root = fresh_dir("totals");
	put_str(root, "a/run.json", "{\"id\": 1}");
	put_str(root, "b/run.json", "{\"id\": \"x\"}");
	put_str(root, "c/run.json", "{\"id\": 3}");
	struct importer *im = importer_new(st, NULL);
	struct cs_err err;
	err_clear(&err);
	CHECK_INT(import_path(im, root, &err), -1);
	int ok = -1, failed = -1;
	importer_totals(im, &ok, &failed);
	CHECK_INT(ok, 2);
	CHECK_INT(failed, 1);
	CHECK_HAS(err.msg, "run.json: no numeric \"id\"");
	importer_free(im);
	free(root);
	store_close(st);
}

/* An index whose tables are not what the importer expects (damaged, or
 * changed by hand) used to end the process from importer_new; a fetch in the
 * TUI reaches it, so it is now the import's error and the process goes on. */
TEST(importer_on_damaged_schema_fails_without_exiting)
{
	struct store *st = new_store("damaged");
	char *root = fresh_dir("damaged");
	put_str(root, "a/run.json", "{\"id\": 1}");
	char *msg = NULL;
	CHECK_INT(sqlite3_exec(st->db, "DROP TABLE test_results", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_free(msg);
	struct rec r;
	memset(&r, 0, sizeof(r));
	struct cs_err err;
	CHECK_INT(import_rec(st, root, &r, &err), -1);
	CHECK_HAS(err.msg, "cannot prepare the import statements");
	CHECK_HAS(err.msg, "test_results");
	CHECK_INT(r.n_errors, 1);
	CHECK_HAS(r.last_error, root);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 0);
	free(root);
	store_close(st);
}

/* ==================================================================================== */
/* exposed pieces                                                                        */
/* ==================================================================================== */

TEST(archive_names)
{
	struct buf b = BUF_INIT;
	gh_archive_name("cool job / with slash", &b);
	CHECK_STR(b.data, "cool job  with slash");
	gh_archive_name("cool job : with colon", &b);
	CHECK_STR(b.data, "cool job  with colon");
	gh_archive_name("a\"b<c>d|e*f?g\\h\ti", &b);
	CHECK_STR(b.data, "abcdefghi");
	gh_archive_name("thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_"
			"thisisnineteenchars_thisisnineteenchars_", &b);
	CHECK_STR(b.data, LONG_DIR);
	char *e50 = emoji_name(50, false), *e39 = emoji_name(39, true);
	gh_archive_name(e50, &b);
	CHECK_STR(b.data, e39);
	free(e50);
	free(e39);
	/* 89 ASCII then an emoji: the pair does not fit */
	char name[200];
	memset(name, 'a', 89);
	strcpy(name + 89, EMOJI);
	gh_archive_name(name, &b);
	CHECK_INT(b.len, 92);
	CHECK(str_ends(b.data, "\xef\xbf\xbd"));
	/* 88 ASCII then an emoji: fits exactly */
	memset(name, 'a', 88);
	strcpy(name + 88, EMOJI);
	gh_archive_name(name, &b);
	CHECK_INT(b.len, 92);
	CHECK(str_ends(b.data, EMOJI));
	/* three-byte characters count one unit each */
	struct buf in = BUF_INIT;
	for (int i = 0; i < 95; i++)
		buf_adds(&in, "\xe2\x82\xac");
	gh_archive_name(in.data, &b);
	CHECK_INT(b.len, 270);
	buf_release(&in);
	gh_archive_name("", &b);
	CHECK_STR(buf_cstr(&b), "");
	gh_archive_name("bad \xff utf8", &b);
	CHECK(utf8_valid(b.data, b.len));
	buf_release(&b);
}

TEST(state_names)
{
	CHECK_STR(import_state_name(IMPORT_CREATED), "created");
	CHECK_STR(import_state_name(IMPORT_UPDATED), "updated");
	CHECK_STR(import_state_name(IMPORT_UNCHANGED), "unchanged");
}

/* A later import of the same run that brings less (no logs, no artifacts:
 * say, run.json and jobs.json fetched again after the run was updated) keeps
 * what the earlier import stored. */
TEST(reimport_with_less_keeps_logs_and_artifacts)
{
	struct store *st = new_store("carry");
	char *dir = make_hub4j_run("carry-full");
	put_str(dir, "artifacts/parity/parity.csv", "step,energy_ref,energy_cand\n0,1.0,1.0\n1,2.0,2.5\n");
	struct rec r = {0};
	import_ok(st, dir, &r);
	int64_t logs = q_int(st, "SELECT count(*) FROM logs");
	int64_t chunks = q_int(st, "SELECT count(*) FROM log_chunks");
	int64_t groups = q_int(st, "SELECT count(*) FROM log_groups");
	int64_t lined = q_int(st, "SELECT count(*) FROM steps WHERE first_line IS NOT NULL");
	CHECK_INT(logs, 2);
	CHECK(lined > 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM metric_series"), 2);

	/* the same run, updated, without logs or artifacts */
	char *thin = fresh_dir("carry-thin");
	char *full_run = path_join(dir, "run.json");
	cJSON *run = load_json(full_run);
	free(full_run);
	json_set(run, "updated_at", cJSON_CreateString("2021-04-05T15:50:00Z"));
	char *p = path_join(thin, "run.json");
	save_json(p, run);
	free(p);
	cJSON_Delete(run);
	put_fixture(thin, "jobs.json", HUB_JOBS);
	struct rec r2 = {0};
	import_ok(st, thin, &r2);
	CHECK_INT(r2.n_runs, 1);
	CHECK_INT(r2.ev[0].state, IMPORT_UPDATED);
	CHECK_INT(r2.ev[0].n_logs, 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), logs);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_chunks"), chunks);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_groups"), groups);
	CHECK_INT(q_int(st, "SELECT count(*) FROM steps WHERE first_line IS NOT NULL"), lined);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs WHERE log_state = 'stored'"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM metric_series"), 2);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE provider_id < 0"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE updated_at = %lld",
			(long long)time_parse_rfc3339("2021-04-05T15:50:00Z", 20)),
		  1);
	/* the carried log reads back as it was */
	struct buf a = BUF_INIT, want = BUF_INIT;
	log_bytes(st, q_int(st, "SELECT l.id FROM logs l JOIN jobs j ON j.id = l.job_id "
				"WHERE j.provider_id = %lld", (long long)HUB_JOB2),
		  &a);
	t_slurp(t_fixture(HUB_LOG_JOB2), &want);
	CHECK(a.len == want.len && same_bytes(&a, want.data, want.len));
	buf_release(&a);
	buf_release(&want);
	free(thin);
	free(dir);
	store_close(st);
}

/* --- symbolic links in an import tree ------------------------------------------------------- */
/* Links are followed (a tree of linked run folders imports), a link back to
 * a folder above is a loop: reported by name, not followed, the rest of the
 * tree imported; a link to itself or to nothing is reported too. */
TEST(symlink_loop_in_tree)
{
	char *tree = fresh_dir("symlink-tree");
	char *run = make_hub4j_run("symlink-target-run");
	char *sub = path_join(tree, "sub");
	must_mkdir(sub);
	char *linked = path_join(sub, "linked-run");
	CHECK(symlink(run, linked) == 0);
	char *up = path_join(sub, "up");
	CHECK(symlink("..", up) == 0);
	char *self = path_join(tree, "self");
	CHECK(symlink("self", self) == 0);
	/* an empty folder (a fetch cache's tmp/) is walked without a fuss
	 * (list_dir once passed qsort a NULL array: UBSan stops there) */
	char *empty = path_join(tree, "empty");
	must_mkdir(empty);
	free(empty);
	struct store *st = new_store("symlink");
	struct rec r;
	memset(&r, 0, sizeof(r));
	struct cs_err err;
	CHECK_INT(import_rec(st, tree, &r, &err), -1);
	CHECK_INT(r.n_runs, 1); /* the linked run folder, once */
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 1);
	CHECK_INT(r.n_errors, 2);
	/* names are walked in order: self, then sub/up (the last error) */
	CHECK(contains(err.msg, up));
	CHECK(contains(err.msg, "a symbolic link loop: it leads back to"));
	memset(&r, 0, sizeof(r));
	CHECK(unlink(up) == 0);
	CHECK_INT(import_rec(st, tree, &r, &err), -1);
	CHECK_INT(r.n_errors, 1);
	CHECK(contains(err.msg, self));
	CHECK(contains(err.msg, "cannot follow the symbolic link"));
	CHECK_INT(r.n_runs, 1);
	CHECK_INT(r.ev[0].state, IMPORT_UNCHANGED);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 1);
	CHECK_STR(q_str(st, "PRAGMA integrity_check"), "ok");
	store_close(st);
	free(self);
	free(up);
	free(linked);
	free(sub);
	free(run);
	free(tree);
}

/* Runs share a transaction (a batch), each in its own savepoint: a run that
 * fails halfway leaves the runs before and after it in the same batch, and
 * none of its own rows. */
TEST(failed_run_inside_a_batch)
{
	struct store *st = new_store("batch");
	char *root = fresh_dir("batch-root");
	static const char *const names[] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		char *d = path_join(root, names[i]);
		char run[80];
		must_mkdir(d);
		snprintf(run, sizeof(run), "{\"id\": %d, \"status\": \"completed\"}", i + 1);
		put_str(d, "run.json", run);
		put_str(d, "jobs.json", JOBS77);
		free(d);
	}
	char *msg = NULL;
	/* run 2 fails after its run row went in: at its first job */
	CHECK_INT(sqlite3_exec(st->db,
			       "CREATE TEMP TRIGGER no_run_2 BEFORE INSERT ON main.jobs WHEN "
			       "(SELECT provider_id FROM main.runs WHERE id = NEW.run_id) = 2 "
			       "BEGIN SELECT RAISE(ABORT, 'refused, say'); END",
			       NULL, NULL, &msg), SQLITE_OK);
	struct rec r = {0};
	struct cs_err err;
	int rc = import_rec(st, root, &r, &err);
	int64_t runs2 = q_int(st, "SELECT count(*) FROM runs WHERE provider_id = 2");
	int64_t others = q_int(st, "SELECT count(*) FROM runs WHERE provider_id IN (1, 3)");
	int64_t jobs = q_int(st, "SELECT count(*) FROM jobs");
	CHECK_INT(sqlite3_exec(st->db, "DROP TRIGGER no_run_2", NULL, NULL, &msg), SQLITE_OK);
	CHECK_INT(rc, -1);
	CHECK_INT(r.n_errors, 1);
	CHECK_HAS(r.last_error, "batch-root");
	CHECK_HAS(r.last_error, "/b'");
	CHECK_INT(r.n_runs, 2);
	CHECK_INT(runs2, 0);
	CHECK_INT(others, 2);
	CHECK_INT(jobs, 2);
	/* the re-import completes it */
	struct rec r2 = {0};
	CHECK_INT(import_rec(st, root, &r2, &err), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), 3);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), 3);
	free(root);
	store_close(st);
}

static int count_commit(void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

/* Many small logs share a transaction: a log whose import fails in the
 * middle of a batch (here at one of its groups, after its run, job and log
 * rows went in) is reported by its name and rolled back alone; the logs
 * before and after it in the same batch are imported whole, and the index
 * file passes integrity_check. */
TEST(bad_log_mid_batch_rolls_back_alone)
{
	struct store *st = new_store("midbatch");
	char *root = fresh_dir("midbatch-logs");
	enum { N = 41, BAD = 20 };
	for (int i = 0; i < N; i++) {
		char name[32], text[512];
		snprintf(name, sizeof(name), "job-%02d.log", i);
		snprintf(text, sizeof(text),
			 "2024-05-01T10:48:36.0000000Z start %d\n"
			 "2024-05-01T10:48:36.1000000Z ##[group]%s\n"
			 "2024-05-01T10:48:36.2000000Z inside %d\n"
			 "2024-05-01T10:48:36.3000000Z ##[endgroup]\n"
			 "2024-05-01T10:48:37.0000000Z done %d\n",
			 i, i == BAD ? "poison" : "Run make", i, i);
		put_str(root, name, text);
	}
	char *msg = NULL;
	CHECK_INT(sqlite3_exec(st->db,
			       "CREATE TEMP TRIGGER no_poison BEFORE INSERT ON main.log_groups WHEN "
			       "NEW.title = 'poison' BEGIN SELECT RAISE(ABORT, 'refused, say'); END",
			       NULL, NULL, &msg), SQLITE_OK);
	int commits = 0;
	sqlite3_commit_hook(st->db, count_commit, &commits);
	struct rec r = {0};
	struct cs_err err;
	int rc = import_rec(st, root, &r, &err);
	sqlite3_commit_hook(st->db, NULL, NULL);
	CHECK_INT(sqlite3_exec(st->db, "DROP TRIGGER no_poison", NULL, NULL, &msg), SQLITE_OK);
	CHECK_INT(rc, -1);
	CHECK_INT(r.n_errors, 1);
	CHECK_HAS(r.last_error, "job-20.log");
	CHECK_HAS(r.last_error, "refused, say");
	CHECK_INT(r.n_runs, N - 1);
	/* batched: far fewer commits than runs (one, unless the machine is so
	 * slow that the batch's time limit cut it) */
	CHECK(commits >= 1 && commits < N / 2);
	CHECK_STR(q_str(st, "PRAGMA integrity_check"), "ok");
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), N - 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM jobs"), N - 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs"), N - 1);
	/* nothing of the bad log: no row, no group, no chunk */
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_groups WHERE title = 'poison'"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE title LIKE '%%job-20%%'"), 0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE title LIKE '%%job-19%%'"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs WHERE title LIKE '%%job-21%%'"), 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_chunks WHERE log_id NOT IN (SELECT id FROM logs)"),
		  0);
	/* whole runs: every run has its job, every job its complete log */
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM jobs j "
			    "WHERE j.run_id = r.id)"),
		  0);
	CHECK_INT(q_int(st, "SELECT count(*) FROM logs l WHERE l.raw_size IS NULL OR l.raw_size != "
			    "(SELECT coalesce(sum(raw_len), 0) FROM log_chunks c WHERE c.log_id = l.id)"),
		  0);
	/* the logs right before and after the bad one are there */
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_chunks WHERE log_id IN (SELECT id FROM logs)"),
		  N - 1);
	/* the re-import adds the bad log and leaves the others unchanged */
	struct rec r2 = {0};
	CHECK_INT(import_rec(st, root, &r2, &err), 0);
	CHECK_INT(r2.n_runs, N);
	int unchanged = 0;
	for (int i = 0; i < r2.n_runs && i < (int)ARRAY_SIZE(r2.ev); i++)
		unchanged += r2.ev[i].state == IMPORT_UNCHANGED;
	CHECK_INT(unchanged, N - 1);
	CHECK_INT(q_int(st, "SELECT count(*) FROM runs"), N);
	CHECK_INT(q_int(st, "SELECT count(*) FROM log_groups WHERE title = 'poison'"), 1);
	CHECK_STR(q_str(st, "PRAGMA integrity_check"), "ok");
	free(root);
	store_close(st);
}

/* import_add: the runs of several paths share the open batch, which
 * another connection does not see until import_flush() (or importer_free)
 * commits it. */
TEST(import_add_shares_a_batch_until_flush)
{
	struct store *st = new_store("addflush");
	char *root = fresh_dir("addflush-logs");
	char *paths[3];
	for (int i = 0; i < 3; i++) {
		char name[32], text[128];
		snprintf(name, sizeof(name), "job-%d.log", i);
		snprintf(text, sizeof(text), "2024-05-01T10:48:36.0000000Z log %d\n", i);
		put_str(root, name, text);
		paths[i] = path_join(root, name);
	}
	char *db = tmp_path("addflush.db");
	sqlite3 *other = NULL;
	CHECK_INT(sqlite3_open_v2(db, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	struct rec r = {0};
	struct import_opts o = {.on_run = rec_run, .on_error = rec_error, .ctx = &r};
	struct importer *im = importer_new(st, &o);
	struct cs_err err;
	CHECK_INT(import_add(im, paths[0], &err), 0);
	CHECK_INT(import_add(im, paths[1], &err), 0);
	sqlite3_stmt *s = NULL;
	CHECK_INT(sqlite3_prepare_v2(other, "SELECT count(*) FROM runs", -1, &s, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(s, 0), 0); /* not committed yet */
	sqlite3_reset(s);
	CHECK_INT(import_flush(im, &err), 0);
	CHECK_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(s, 0), 2);
	sqlite3_reset(s);
	/* what import_add leaves open, importer_free commits */
	CHECK_INT(import_add(im, paths[2], &err), 0);
	importer_free(im);
	CHECK_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(s, 0), 3);
	sqlite3_finalize(s);
	sqlite3_close(other);
	CHECK_INT(r.n_runs, 3);
	CHECK_INT(r.n_errors, 0);
	CHECK_STR(q_str(st, "PRAGMA integrity_check"), "ok");
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	free(db);
	free(root);
	store_close(st);
}
