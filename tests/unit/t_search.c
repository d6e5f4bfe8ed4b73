/* t_search.c - matching (literal, regex, smart case), the searchable text of
 * a log line, and searching imported logs: line numbers, steps, limits,
 * literals split by escape sequences. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/import.h"
#include "core/logparse.h"
#include "core/search.h"
#include "core/store.h"
#include "core/util.h"
#include "test.h"

#define HUB "hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock"
#define PYTORCH_LOG "pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt"

/* --- matcher -------------------------------------------------------------------- */

static bool find(struct matcher *m, const char *s, size_t from, size_t *a, size_t *b)
{
	return matcher_find(m, s, strlen(s), from, a, b);
}

TEST(literal_smart_case)
{
	struct cs_err err;
	err_clear(&err);
	size_t a = 99, b = 99;
	struct matcher *m = matcher_new("error", 0, &err);
	CHECK(m != NULL);
	CHECK(find(m, "An ERROR here", 0, &a, &b));
	CHECK_INT(a, 3);
	CHECK_INT(b, 8);
	CHECK(find(m, "error error", 1, &a, &b));
	CHECK_INT(a, 6);
	CHECK(!find(m, "error", 1, &a, &b));
	CHECK(!find(m, "err or", 0, &a, &b));
	CHECK(!find(m, "error", 6, &a, &b)); /* from past the end */
	CHECK(find(m, "error", 0, &a, &b));
	matcher_free(m);

	/* an upper-case letter makes the query case-sensitive */
	m = matcher_new("Error", 0, &err);
	CHECK(!find(m, "an error", 0, &a, &b));
	CHECK(!find(m, "an ERROR", 0, &a, &b));
	CHECK(find(m, "an Error", 0, &a, &b));
	CHECK_INT(a, 3);
	matcher_free(m);
	m = matcher_new("Error", MATCH_IGNORE_CASE, &err);
	CHECK(find(m, "an eRRoR", 0, &a, &b));
	matcher_free(m);
	m = matcher_new("error", MATCH_CASE, &err);
	CHECK(!find(m, "an ERROR", 0, &a, &b));
	CHECK(find(m, "an error", 0, &a, &b));
	matcher_free(m);

	/* regex metacharacters are literal without --regex */
	m = matcher_new("a.b*(c)", 0, &err);
	CHECK(!find(m, "axbbc", 0, &a, &b));
	CHECK(find(m, "x a.b*(c) y", 0, &a, &b));
	CHECK_INT(a, 2);
	CHECK_INT(b, 9);
	matcher_free(m);

	/* bytes after a NUL and invalid UTF-8 are searched like any others */
	m = matcher_new("needle", 0, &err);
	static const char bin[] = "\xff\xfe\0 NEEDLE";
	CHECK(matcher_find(m, bin, sizeof(bin) - 1, 0, &a, &b));
	CHECK_INT(a, 4);
	matcher_free(m);

	err_clear(&err);
	CHECK(matcher_new("", 0, &err) == NULL);
	CHECK_INT(err.code, CS_EUSAGE);
	CHECK(strstr(err.msg, "empty") != NULL);
	err_clear(&err);
	CHECK(matcher_new(NULL, 0, &err) == NULL);
	CHECK_INT(err.code, CS_EUSAGE);
}

TEST(regex)
{
	struct cs_err err;
	err_clear(&err);
	size_t a, b;
	struct matcher *m = matcher_new("exit code [0-9]+", MATCH_REGEX, &err);
	CHECK(m != NULL);
	CHECK(find(m, "Process completed with exit code 137.", 0, &a, &b));
	CHECK_INT(a, 23);
	CHECK_INT(b, 36);
	CHECK(find(m, "EXIT CODE 1", 0, &a, &b)); /* smart case: lower-case pattern */
	CHECK(!find(m, "exit code x", 0, &a, &b));
	matcher_free(m);

	m = matcher_new("^FAIL(ED)?:", MATCH_REGEX, &err);
	CHECK(find(m, "FAILED: test_x", 0, &a, &b));
	CHECK_INT(b, 7);
	CHECK(!find(m, "failed: test_x", 0, &a, &b));
	CHECK(!find(m, " FAIL: x", 0, &a, &b));
	matcher_free(m);

	/* invalid UTF-8 in the subject does not stop the search */
	m = matcher_new("caf\xc3\xa9", MATCH_REGEX, &err);
	static const char subj[] = "\xff\xc3 caf\xc3\xa9";
	CHECK(matcher_find(m, subj, sizeof(subj) - 1, 0, &a, &b));
	CHECK_INT(a, 3);
	CHECK_INT(b, 8);
	matcher_free(m);

	/* from: the next match */
	m = matcher_new("o+", MATCH_REGEX, &err);
	CHECK(find(m, "foo boo", 3, &a, &b));
	CHECK_INT(a, 5);
	CHECK_INT(b, 7);
	matcher_free(m);

	static const char *const bad[] = {"(unclosed", "a[b", "*x", "x{2,1}", "(?<n>a)(?<n>b)"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&err);
		m = matcher_new(bad[i], MATCH_REGEX, &err);
		CHECK(m == NULL);
		matcher_free(m);
		CHECK_INT(err.code, CS_EUSAGE);
		char want[64];
		snprintf(want, sizeof(want), "bad regular expression '%s': ", bad[i]);
		if (!str_starts(err.msg, want) || !strstr(err.msg, " at offset "))
			t_fail(__FILE__, __LINE__, "message \"%s\"", err.msg);
	}
	/* the same text is fine as a literal */
	m = matcher_new("(unclosed", 0, &err);
	CHECK(m != NULL);
	matcher_free(m);
}

TEST(searchable_text)
{
	struct buf out = BUF_INIT;
	static const char l1[] = "2024-05-01T10:48:36.8101331Z \x1b[36;1mecho Hello\x1b[0m";
	search_text(l1, sizeof(l1) - 1, &out);
	CHECK_STR(out.data, "echo Hello");
	/* BOM before and after the timestamp */
	static const char l2[] = "\xef\xbb\xbf" "2024-05-01T10:48:36.8101331Z \xef\xbb\xbf" "done";
	search_text(l2, sizeof(l2) - 1, &out);
	CHECK_STR(out.data, "done");
	/* no timestamp: the whole line */
	search_text("plain line", 10, &out);
	CHECK_STR(out.data, "plain line");
	/* a literal split by an escape sequence becomes whole */
	static const char l3[] = "2024-05-01T10:48:36.8101331Z err\x1b[0mor: \x1b]8;;http://x\x07link\x1b]8;;\x07!";
	search_text(l3, sizeof(l3) - 1, &out);
	CHECK_STR(out.data, "error: link!");
	/* an almost-timestamp stays */
	search_text("2024-05-01 10:48:36 x", 21, &out);
	CHECK_STR(out.data, "2024-05-01 10:48:36 x");
	/* markers are part of the searchable text */
	static const char l4[] = "2024-05-01T10:48:36.8101331Z ##[error]boom";
	search_text(l4, sizeof(l4) - 1, &out);
	CHECK_STR(out.data, "##[error]boom");
	search_text("", 0, &out);
	CHECK_STR(buf_cstr(&out), "");
	/* reuse: the previous content is replaced, never appended to */
	search_text("ab", 2, &out);
	CHECK_STR(out.data, "ab");
	CHECK_INT(out.len, 2);
	buf_release(&out);
}

/* --- searching imported logs ---------------------------------------------------------- */

static void copy_fixture(const char *rel, const char *dst)
{
	struct cs_err err;
	struct buf b = BUF_INIT;
	if (file_read_all(t_fixture(rel), 1 << 26, &b, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	FILE *f = fopen(dst, "wb");
	if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", dst, strerror(errno));
		exit(2);
	}
	buf_release(&b);
}

static void write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s, 1, strlen(s), f) != strlen(s) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

static struct store *st_shared;

/* One index for the search tests: the hub4j run (two jobs, steps from the
 * API), the pytorch log (synthetic steps) and a small hand-made log. */
static struct store *search_store(void)
{
	if (st_shared)
		return st_shared;
	struct cs_err err;
	err_clear(&err);
	char *db = xasprintf("%s/search.db", t_tmpdir());
	st_shared = store_open(db, STORE_RW, &err);
	free(db);
	if (!st_shared) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	char *run = xasprintf("%s/hub4j", t_tmpdir());
	char *logs = xasprintf("%s/logs", run);
	if (mkdir_p(logs, 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	char *p = xasprintf("%s/run.json", run);
	copy_fixture("runs/hub4j-719643947/run.json", p);
	free(p);
	p = xasprintf("%s/jobs.json", run);
	copy_fixture(HUB "/testJobs/__files/11-r_h_g_actions_runs_719643947_jobs.json", p);
	free(p);
	p = xasprintf("%s/2270858630.txt", logs);
	copy_fixture(HUB "/testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt", p);
	free(p);
	p = xasprintf("%s/2270858576.txt", logs);
	copy_fixture(HUB "/testJobs_actions-user-content/__files/2-u_a_p_1_runs_139_signedlogcontent_4.txt", p);
	free(p);
	char *small = xasprintf("%s/split.log", t_tmpdir());
	write_str(small, "2024-05-01T10:48:36.8101331Z first\n"
			 "2024-05-01T10:48:36.8101331Z an err\x1b[0mor split by a reset\n"
			 "2024-05-01T10:48:36.8101331Z \x1b[31mERROR\x1b[0m in red\n");
	struct importer *im = importer_new(st_shared, NULL);
	if (import_path(im, run, &err) < 0 || import_path(im, t_fixture(PYTORCH_LOG), &err) < 0 ||
	    import_path(im, small, &err) < 0) {
		fprintf(stderr, "import: %s\n", err.msg);
		exit(2);
	}
	importer_free(im);
	free(small);
	free(logs);
	free(run);
	return st_shared;
}

struct hit {
	long long run;
	char job[64];
	int step;
	char step_name[128];
	uint64_t line;
	char text[256];
	size_t a, b;
};

struct hits {
	int n;
	struct hit h[64];
	int stop_at; /* return 5 from the callback at this hit (1-based) */
};

static int on_hit(void *ctx, const struct search_hit *h)
{
	struct hits *hs = ctx;
	if (hs->n < 64) {
		struct hit *x = &hs->h[hs->n];
		x->run = h->ref->run_provider_id;
		snprintf(x->job, sizeof(x->job), "%s", h->ref->job_name);
		x->step = h->step_number;
		snprintf(x->step_name, sizeof(x->step_name), "%s", h->step_name ? h->step_name : "");
		x->line = h->line;
		snprintf(x->text, sizeof(x->text), "%.*s", (int)h->text_len, h->text);
		x->a = h->match_start;
		x->b = h->match_end;
		/* the offsets are into the searchable text */
		CHECK(h->match_end <= h->text_len && h->match_start < h->match_end);
	}
	hs->n++;
	if (hs->stop_at && hs->n == hs->stop_at)
		return 5;
	return 0;
}

static struct hits search(const char *q, int flags, long limit, long *n_hits, int *rc)
{
	struct cs_err err;
	err_clear(&err);
	struct hits hs = {0};
	struct matcher *m = matcher_new(q, flags, &err);
	CHECK(m != NULL);
	*rc = search_logs(search_store(), m, limit, on_hit, &hs, n_hits, NULL, &err);
	if (*rc < 0)
		t_fail(__FILE__, __LINE__, "search '%s': %s", q, err.msg);
	matcher_free(m);
	return hs;
}

TEST(search_lines_and_steps)
{
	long n = -1;
	int rc;
	struct hits hs = search("Hello from job2!", 0, 0, &n, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(n, 3);
	CHECK_INT(hs.n, 3);
	static const uint64_t lines[] = {34, 35, 38};
	for (int i = 0; i < 3 && i < hs.n; i++) {
		CHECK_INT(hs.h[i].run, 719643947);
		CHECK_STR(hs.h[i].job, "job2");
		CHECK_INT(hs.h[i].line, lines[i]);
		CHECK_INT(hs.h[i].step, 2);
		CHECK_STR(hs.h[i].step_name, "Run a one-line script");
	}
	if (hs.n >= 2) {
		/* line 35 is "\e[36;1mecho Hello from job2!\e[0m" */
		CHECK_STR(hs.h[1].text, "echo Hello from job2!");
		CHECK_INT(hs.h[1].a, 5);
		CHECK_INT(hs.h[1].b, 21);
		CHECK_STR(hs.h[0].text, "##[group]Run echo Hello from job2!");
	}

	/* newest run first (the ad-hoc pytorch log was imported "now"), then
	 * both hub4j jobs in jobs.json order, each in its last step */
	hs = search("Cleaning up orphan processes", 0, 0, &n, &rc);
	CHECK_INT(hs.n, 3);
	if (hs.n == 3) {
		CHECK_STR(hs.h[0].job, "error_log1");
		CHECK_INT(hs.h[0].line, 4768);
		CHECK_STR(hs.h[1].job, "job2");
		CHECK_STR(hs.h[2].job, "job1");
		for (int i = 1; i < 3; i++) {
			CHECK_INT(hs.h[i].line, 39);
			CHECK_INT(hs.h[i].step, 3);
			CHECK_STR(hs.h[i].step_name, "Complete job");
		}
	}

	/* the pytorch log: synthetic steps from its "##[group]Run" headers */
	hs = search("Process completed with exit code", 0, 0, &n, &rc);
	CHECK_INT(hs.n, 2);
	if (hs.n == 2) {
		CHECK_STR(hs.h[0].job, "error_log1");
		CHECK_INT(hs.h[0].line, 3194);
		CHECK_INT(hs.h[0].step, 32);
		CHECK_STR(hs.h[0].step_name, "Run mkdir -p .additional_ci_files");
		CHECK_INT(hs.h[1].line, 4047);
		CHECK_INT(hs.h[1].step, 42);
		CHECK_STR(hs.h[1].step_name, "Run set -x");
		CHECK_STR(hs.h[0].text, "##[error]Process completed with exit code 1.");
		CHECK_INT(hs.h[0].a, 9);
	}
	hs = search("exit code [0-9]+\\.$", MATCH_REGEX, 0, &n, &rc);
	CHECK_INT(hs.n, 2);
	hs = search("no such text anywhere", 0, 0, &n, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(n, 0);
	CHECK_INT(hs.n, 0);
}

TEST(search_split_by_escape)
{
	long n;
	int rc;
	struct hits hs = search("error", 0, 0, &n, &rc);
	/* "err\e[0mor" and "\e[31mERROR\e[0m" (smart case), and the two
	 * pytorch ##[error] lines */
	int split = 0, red = 0;
	for (int i = 0; i < hs.n; i++) {
		if (!strcmp(hs.h[i].job, "split")) {
			if (hs.h[i].line == 2) {
				split++;
				CHECK_STR(hs.h[i].text, "an error split by a reset");
				CHECK_INT(hs.h[i].a, 3);
				CHECK_INT(hs.h[i].b, 8);
			} else if (hs.h[i].line == 3) {
				red++;
				CHECK_STR(hs.h[i].text, "ERROR in red");
			} else {
				t_fail(__FILE__, __LINE__, "unexpected hit on line %llu",
				       (unsigned long long)hs.h[i].line);
			}
		}
	}
	CHECK_INT(split, 1);
	CHECK_INT(red, 1);
	/* case-sensitive: only the red one */
	hs = search("ERROR", 0, 0, &n, &rc);
	red = 0;
	for (int i = 0; i < hs.n; i++)
		if (!strcmp(hs.h[i].job, "split"))
			red += hs.h[i].line == 3;
	CHECK_INT(red, 1);
	hs = search("split by a reset", 0, 0, &n, &rc);
	CHECK_INT(hs.n, 1);
	CHECK_INT(hs.h[0].step, 1);
	CHECK_STR(hs.h[0].step_name, "Set up job");
}

TEST(search_limit_and_stop)
{
	long n;
	int rc;
	/* timestamps are not part of the searchable text */
	struct hits all = search("16:48:09.3750041", 0, 0, &n, &rc);
	CHECK_INT(all.n, 0);
	all = search("e", 0, 0, &n, &rc);
	CHECK(all.n > 100);
	struct hits some = search("e", 0, 5, &n, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(n, 5);
	CHECK_INT(some.n, 5);
	for (int i = 0; i < 5; i++) {
		CHECK_INT(some.h[i].line, all.h[i].line);
		CHECK_STR(some.h[i].job, all.h[i].job);
	}
	/* a limit that ends in the middle of a later log */
	some = search("e", 0, 60, &n, &rc);
	CHECK_INT(some.n, 60);
	CHECK_INT(some.h[59].line, all.h[59].line);

	/* the callback stops the search */
	struct cs_err err;
	err_clear(&err);
	struct matcher *m = matcher_new("e", 0, &err);
	struct hits hs = {.stop_at = 3};
	rc = search_logs(search_store(), m, 0, on_hit, &hs, &n, NULL, &err);
	CHECK_INT(hs.n, 3);
	CHECK_INT(n, 3);
	CHECK(rc >= 0);

	/* a cancelled search reports nothing */
	volatile int cancel = 1;
	struct hits hc = {0};
	rc = search_logs(search_store(), m, 0, on_hit, &hc, &n, &cancel, &err);
	CHECK(rc >= 0);
	CHECK_INT(hc.n, 0);
	CHECK_INT(n, 0);
	matcher_free(m);
}

TEST(search_long_lines)
{
	/* a line longer than the splitter keeps is searched in its head */
	struct cs_err err;
	err_clear(&err);
	char *db = xasprintf("%s/long.db", t_tmpdir());
	struct store *st = store_open(db, STORE_RW, &err);
	CHECK(st != NULL);
	char *p = xasprintf("%s/long.log", t_tmpdir());
	struct buf b = BUF_INIT;
	buf_adds(&b, "short\n");
	for (int i = 0; i < 3 * SPLIT_HEAD_MAX; i++)
		buf_addc(&b, i == 100 ? 'N' : i == 2 * SPLIT_HEAD_MAX ? 'Z' : 'x');
	buf_adds(&b, "\nlast needle\n");
	FILE *f = fopen(p, "wb");
	CHECK(f && fwrite(b.data, 1, b.len, f) == b.len);
	if (f)
		fclose(f);
	struct importer *im = importer_new(st, NULL);
	CHECK_OK(import_path(im, p, &err));
	importer_free(im);
	struct matcher *m = matcher_new("xNx", MATCH_CASE, &err);
	struct hits hs = {0};
	long n;
	CHECK_OK(search_logs(st, m, 0, on_hit, &hs, &n, NULL, &err));
	CHECK_INT(hs.n, 1);
	CHECK_INT(hs.h[0].line, 2);
	matcher_free(m);
	m = matcher_new("needle", 0, &err);
	hs = (struct hits){0};
	CHECK_OK(search_logs(st, m, 0, on_hit, &hs, &n, NULL, &err));
	CHECK_INT(hs.n, 1);
	CHECK_INT(hs.h[0].line, 3);
	matcher_free(m);
	buf_release(&b);
	free(p);
	free(db);
	store_close(st);
}

TEST(search_empty_index)
{
	struct cs_err err;
	err_clear(&err);
	char *db = xasprintf("%s/empty.db", t_tmpdir());
	struct store *st = store_open(db, STORE_RW, &err);
	struct matcher *m = matcher_new("x", 0, &err);
	struct hits hs = {0};
	long n = -1;
	CHECK_OK(search_logs(st, m, 0, on_hit, &hs, &n, NULL, &err));
	CHECK_INT(n, 0);
	matcher_free(m);
	store_close(st);
	free(db);
}

__attribute__((destructor)) static void close_shared(void)
{
	store_close(st_shared);
}
