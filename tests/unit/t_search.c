/* t_search.c - matching (literal, regex, smart case), the searchable text of
 * a log line, and searching imported logs: line numbers, steps, limits,
 * literals split by escape sequences. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/import.h"
#include "core/logparse.h"
#include "core/logstore.h"
#include "core/memfind.h"
#include "core/search.h"
#include "core/store.h"
#include "core/util.h"
#include "test.h"
#include "testdemo.h"

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


/* --- the searchable text, against its definition ------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* What search_text() is defined as (search.h): logline_parse() then
 * ansi_strip(). The fast version in loggrams.c (log_search_text) must
 * agree byte for byte. */
static void ref_text(const char *line, size_t n, struct buf *out)
{
	struct logline l;
	logline_parse(line, n, &l);
	buf_reset(out);
	ansi_strip(l.text, l.text_len, out);
	buf_cstr(out);
}

/* A timestamp, valid or broken in one of the ways a fast check could miss. */
static void add_stamp(struct buf *b)
{
	char ts[40];
	unsigned y = 1965 + rnd() % 140, mo = rnd() % 14, d = rnd() % 33, h = rnd() % 26,
		 mi = rnd() % 62, se = rnd() % 62, f = rnd() % 10000000;
	if (rnd() % 3 == 0) /* mostly plausible */
		y = 2020 + rnd() % 8, mo = 1 + rnd() % 12, d = 1 + rnd() % 28, h = rnd() % 24,
		mi = rnd() % 60, se = rnd() % 60;
	if (rnd() % 8 == 0)
		mo = 2, d = 29;
	snprintf(ts, sizeof(ts), "%04u-%02u-%02uT%02u:%02u:%02u.%07uZ", y % 10000, mo, d, h, mi, se, f);
	if (rnd() % 6 == 0) /* one byte off: a digit's neighbours, a separator, high bytes */
		ts[rnd() % 28] = "/:0-9ZT. \x80\xff"[rnd() % 12];
	buf_add(b, ts, 28);
}

static void add_noise(struct buf *b)
{
	static const char *const bits[] = {"\x1b[31m", "\x1b[0m", "\x1b]8;;u\x07", "\x1b]0;x\x1b\\",
					   "\x1b", "\x1b[", "\x1b(B", "\xef\xbb\xbf", "\xef\xbb",
					   "err", "or", " ", "##[error]", "\x9b", "caf\xc3\xa9", "\t"};
	buf_adds(b, bits[rnd() % ARRAY_SIZE(bits)]);
}

TEST(searchable_text_as_defined)
{
	struct buf line = BUF_INIT, want = BUF_INIT, got = BUF_INIT, scratch = BUF_INIT;
	int with_ts = 0;
	for (int i = 0; i < 200000; i++) {
		buf_reset(&line);
		for (int k = rnd() % 3; k > 0; k--)
			buf_adds(&line, "\xef\xbb\xbf");
		if (rnd() % 4)
			add_stamp(&line);
		switch (rnd() % 4) {
		case 0: break;                        /* exactly the stamp */
		case 1: buf_addc(&line, ' '); break;
		default: buf_addc(&line, rnd() % 2 ? ' ' : 'x'); break;
		}
		for (int k = rnd() % 6; k > 0; k--)
			add_noise(&line);
		ref_text(line.data, line.len, &want);
		search_text(line.data, line.len, &got);
		if (got.len != want.len || memcmp(buf_cstr(&got), buf_cstr(&want), want.len) != 0) {
			t_fail(__FILE__, __LINE__, "search_text('%s') = '%s', want '%s'", line.data,
			       buf_cstr(&got), buf_cstr(&want));
			break;
		}
		const char *t;
		size_t n;
		log_search_text(line.data, line.len, &t, &n, &scratch);
		if (n != want.len || memcmp(t, buf_cstr(&want), n) != 0) {
			t_fail(__FILE__, __LINE__, "log_search_text('%s') differs", line.data);
			break;
		}
		struct logline l;
		logline_parse(line.data, line.len, &l);
		with_ts += l.has_ts;
	}
	CHECK(with_ts > 20000); /* the generator does make real timestamps */
	/* truncated input: every prefix of a full line */
	static const char full[] = "\xef\xbb\xbf" "2024-02-29T10:48:36.8101331Z \xef\xbb\xbf\x1b[1mok";
	for (size_t k = 0; k <= sizeof(full) - 1; k++) {
		ref_text(full, k, &want);
		search_text(full, k, &got);
		CHECK(got.len == want.len && memcmp(buf_cstr(&got), buf_cstr(&want), want.len) == 0);
	}
	buf_release(&line);
	buf_release(&want);
	buf_release(&got);
	buf_release(&scratch);
}

/* --- what a query requires of a chunk -------------------------------------------------- */

/* q's hashes as a set equals the trigrams of the given strings */
static bool same_grams(const struct log_grams *q, const char *const *want)
{
	struct log_grams w = {0};
	for (; *want; want++)
		log_grams_add(&w, *want, strlen(*want));
	if (w.n != q->n)
		return false;
	for (size_t i = 0; i < w.n; i++) {
		size_t j = 0;
		while (j < q->n && q->h[j] != w.h[i])
			j++;
		if (j == q->n)
			return false;
	}
	return true;
}

TEST(query_requirements)
{
	static const struct {
		const char *q;
		int flags;
		const char *need[4]; /* NULL-terminated; none: every chunk is read */
	} cases[] = {
		{"error\\[E0308\\]", MATCH_REGEX, {"error[E0308]"}},
		{"exit code [0-9]+", MATCH_REGEX, {"exit code "}},
		{"SIGSEGV in worker", MATCH_REGEX, {"SIGSEGV in worker"}},
		/* caseless: k and s match the Kelvin sign and the long s */
		{"sigsegv in worker", MATCH_REGEX, {"egv in wor"}},
		{"sigsegv in worker", 0, {"sigsegv in worker"}},
		{"a|b", MATCH_REGEX, {NULL}},
		{"foo|barbaz", MATCH_REGEX, {NULL}},
		{"(foo|bar)baz", MATCH_REGEX, {"baz"}},
		{"(?:foo|bar)baz", MATCH_REGEX, {"baz"}},
		{"(?<n>foo)baz", MATCH_REGEX, {"baz"}},
		{"(?=foo)bazooba", MATCH_REGEX, {"bazooba"}},
		{"(?=foo)bazooka", MATCH_REGEX, {"bazoo"}},
		{"(?i)abcdef", MATCH_REGEX, {NULL}},
		{"abc(?i)def", MATCH_REGEX, {NULL}},
		{"(?x)abc def", MATCH_REGEX, {NULL}},
		{"abc(?#)def", MATCH_REGEX, {NULL}},
		{"(*UTF)abcdef", MATCH_REGEX, {NULL}},
		{"\\Qa.bcd\\E", MATCH_REGEX, {NULL}},
		{"abc\\x41def", MATCH_REGEX, {NULL}},
		{"abc\\101def", MATCH_REGEX, {NULL}},
		{"abc\\p{L}def", MATCH_REGEX, {NULL}},
		{"abcd?efg", MATCH_REGEX, {"abc", "efg"}},
		{"abc*", MATCH_REGEX, {NULL}},
		{"abcd*", MATCH_REGEX, {"abc"}},
		{"abc+def", MATCH_REGEX, {"abc", "def"}},
		{"abc+?def", MATCH_REGEX, {"abc", "def"}},
		{"abcd{0,3}efg", MATCH_REGEX, {"abc", "efg"}},
		{"abcd{,3}efg", MATCH_REGEX, {"abc", "efg"}},
		{"abcd{2}efg", MATCH_REGEX, {"abcd", "efg"}},
		{"abc{def", MATCH_REGEX, {"abc", "def"}},
		{"abc[x]def", MATCH_REGEX, {"abc", "def"}},
		{"[]abc]def", MATCH_REGEX, {"def"}},
		{"[^]a\\]bc]def", MATCH_REGEX, {"def"}},
		{"[[:alpha:]]abcdef", MATCH_REGEX, {NULL}},
		{"abc.def", MATCH_REGEX, {"abc", "def"}},
		{"^abc$", MATCH_REGEX, {"abc"}},
		{"abc\\.def", MATCH_REGEX, {"abc.def"}},
		{"abc\\d+def", MATCH_REGEX, {"abc", "def"}},
		{"abc\\d?def", MATCH_REGEX, {"abc", "def"}},
		{"ab\\bcd", MATCH_REGEX, {NULL}},
		{"(abc)?defg", MATCH_REGEX, {"defg"}},
		{"x(a(b)c)+yzw", MATCH_REGEX, {"yzw"}},
		/* a quantifier takes a whole character, not its last byte */
		{"abc\xc3\xa9?def", MATCH_REGEX | MATCH_CASE, {"abc", "def"}},
		{"caf\xc3\xa9s", MATCH_REGEX | MATCH_CASE, {"caf\xc3\xa9s"}},
		{"caf\xc3\xa9 bar", MATCH_REGEX, {"caf", " bar"}},
		{"a.b*(c)", 0, {"a.b*(c)"}},
		{"Error", MATCH_IGNORE_CASE, {"error"}},
		{"ab", 0, {NULL}},
	};
	struct cs_err err;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct matcher *m = matcher_new(cases[i].q, cases[i].flags, &err);
		if (!m) {
			t_fail(__FILE__, __LINE__, "'%s': %s", cases[i].q, err.msg);
			continue;
		}
		struct log_grams q;
		matcher_grams(m, &q);
		if (!same_grams(&q, cases[i].need))
			t_fail(__FILE__, __LINE__, "'%s' (flags %d): %zu trigrams, not those of '%s'...",
			       cases[i].q, cases[i].flags, q.n, cases[i].need[0] ? cases[i].need[0] : "");
		matcher_free(m);
	}
}

/* The regex rule above leans on this: with the options matcher_new() uses,
 * caseless PCRE2 matches an ASCII letter with no other character than its
 * other case, except k (U+212A KELVIN SIGN) and s (U+017F LONG S). */
TEST(caseless_letters_match_ascii_only)
{
	for (char c = 'a'; c <= 'z'; c++) {
		int ec;
		PCRE2_SIZE eo;
		char pat[2] = {c, 0};
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, 1,
					       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_CASELESS,
					       &ec, &eo, NULL);
		CHECK(re != NULL);
		if (!re)
			continue;
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		for (uint32_t cp = 0x80; cp < 0x30000; cp++) {
			if (cp >= 0xD800 && cp < 0xE000)
				continue;
			unsigned char u[4];
			size_t n;
			if (cp < 0x800) {
				u[0] = (unsigned char)(0xC0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
			} else if (cp < 0x10000) {
				u[0] = (unsigned char)(0xE0 | cp >> 12), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
				u[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
			} else {
				u[0] = (unsigned char)(0xF0 | cp >> 18), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
				u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (unsigned char)(0x80 | (cp & 0x3F)), n = 4;
			}
			if (pcre2_match(re, u, n, 0, 0, md, NULL) >= 0 &&
			    !((c == 'k' && cp == 0x212A) || (c == 's' && cp == 0x17F)))
				t_fail(__FILE__, __LINE__, "caseless '%c' matches U+%04X", c, (unsigned)cp);
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
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

static void exec_sql(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
		sqlite3_free(msg);
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
	st_shared = t_fresh_store("search");
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
	/* a log that marks no steps has none (issue 9: not a fake "Set up job") */
	CHECK_INT(hs.h[0].step, 0);
	CHECK_STR(hs.h[0].step_name, "");
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
	struct store *st = t_fresh_store("long");
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
	store_close(st);
}

TEST(search_empty_index)
{
	struct cs_err err;
	err_clear(&err);
	struct store *st = t_fresh_store("empty");
	struct matcher *m = matcher_new("x", 0, &err);
	struct hits hs = {0};
	long n = -1;
	CHECK_OK(search_logs(st, m, 0, on_hit, &hs, &n, NULL, &err));
	CHECK_INT(n, 0);
	matcher_free(m);
	store_close(st);
}

/* --- the filters never lose a hit ---------------------------------------------------------- */

/* Text-like lines: words in every case (with the Kelvin sign and the long s
 * standing in for k and s now and then), escape sequences inside words,
 * BOMs, timestamps good and bad, CRLF, LF and CR, and lines long enough to
 * run over the 8 KiB head and over whole chunks. */
static const char *const odd_words[] = {
	/* only in the tiny log: the other-case forms alone */
	("\xe2\x84\xaa" "elvin"), ("\xc5\xbf" "igsegv"), "CAF\xc3\x89", "ok", "zz"};

static char *gen_corpus(size_t target, bool odd, size_t *len)
{
	static const char *const words[] = {
		"error", "Error", "ERROR", "warning", "SIGSEGV", "worker", "Q7X9Z", "test", "ok",
		"caf\xc3\xa9", "CAF\xc3\x89", "kelvin", ("\xe2\x84\xaa" "elvin"), ("\xc5\xbf" "egv"),
		"##[group]Run", "exit", "code", "137.", "E0308", "error[E0308]", "a", "zz",
		"needle", "Needle", "hay", "stack", "\xef\xbb\xbf", "\t", "[0-9]", "a|b", "(x)"};
	static const char *const escs[] = {"\x1b[0m", "\x1b[36;1m", "\x1b]8;;http://x\x07",
					   "\x1b]0;t\x1b\\", "\x1b(B", "\x1b", "\x1b[3"};
	static const char *const terms[] = {"\n", "\n", "\n", "\r\n", "\r"};
	struct buf b = BUF_INIT;
	while (b.len < target) {
		uint32_t k = rnd() % 1000;
		size_t n = k < 920 ? rnd() % 14 : k < 995 ? 1000 + rnd() % 3000 : 40000 + rnd() % 300000;
		if (rnd() % 20 == 0)
			buf_adds(&b, "\xef\xbb\xbf");
		if (rnd() % 3)
			buf_adds(&b, rnd() % 8 ? "2024-05-01T10:48:36.8101331Z " : "2023-02-29T10:48:36.8101331Z ");
		for (size_t i = 0; i < n; i++) {
			const char *w = odd ? odd_words[rnd() % ARRAY_SIZE(odd_words)]
					    : words[rnd() % ARRAY_SIZE(words)];
			t_add_word(&b, w, escs, ARRAY_SIZE(escs), rnd);
		}
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	return buf_detach(&b, len);
}

struct ref_line {
	const char *job;
	uint64_t line;
	char *text;
	size_t len;
};

struct ref_corpus {
	struct ref_line *l;
	size_t n, alloc;
};

/* Lines by the splitting rules, written again here, each with its text. */
static void ref_add_file(struct ref_corpus *rc, const char *job, const char *s, size_t n)
{
	struct buf t = BUF_INIT;
	uint64_t lineno = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		bool end = i == n ? i > start : s[i] == '\n' || s[i] == '\r';
		if (!end)
			continue;
		size_t len = i - start;
		ref_text(s + start, MIN(len, (size_t)SPLIT_HEAD_MAX), &t);
		XGROW(rc->l, rc->alloc, rc->n + 1);
		rc->l[rc->n++] = (struct ref_line){job, ++lineno, xstrndup(buf_cstr(&t), t.len), t.len};
		if (i < n && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	buf_release(&t);
}

struct rhit {
	char job[16];
	uint64_t line;
	size_t a, b;
	char *text;
};

struct rhits {
	struct rhit *h;
	size_t n, alloc;
};

static void rhits_add(struct rhits *r, const char *job, uint64_t line, size_t a, size_t b,
		      const char *text, size_t len)
{
	XGROW(r->h, r->alloc, r->n + 1);
	struct rhit *x = &r->h[r->n++];
	snprintf(x->job, sizeof(x->job), "%s", job);
	x->line = line;
	x->a = a;
	x->b = b;
	x->text = xstrndup(text, len);
}

static void rhits_free(struct rhits *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->h[i].text);
	free(r->h);
	memset(r, 0, sizeof(*r));
}

static int rhit_cb(void *ctx, const struct search_hit *h)
{
	rhits_add(ctx, h->ref->job_name, h->line, h->match_start, h->match_end, h->text, h->text_len);
	return 0;
}

static int rhit_cmp(const void *a, const void *b)
{
	const struct rhit *x = a, *y = b;
	int c = strcmp(x->job, y->job);
	return c ? c : x->line < y->line ? -1 : x->line > y->line;
}

static bool rhits_equal(const struct rhits *x, const struct rhits *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->h[i].job, y->h[i].job) || x->h[i].line != y->h[i].line ||
		    x->h[i].a != y->h[i].a || x->h[i].b != y->h[i].b ||
		    strcmp(x->h[i].text, y->h[i].text))
			return false;
	return true;
}

struct fnf {
	struct store *st;
	struct ref_corpus ref;
	uint64_t searches, hits, read, skipped;
};

/* Search q three ways: with the filters, without them, and line by line
 * over the reference; all three must agree. */
/* search_count(): per log with matches, its count */
struct counts {
	char job[64][16];
	uint64_t n[64];
	size_t logs;
	uint64_t total;
};

static int count_cb(void *ctx, const struct search_hit *h)
{
	struct counts *c = ctx;
	CHECK(h->count > 0 && h->text == NULL);
	if (c->logs < 64) {
		snprintf(c->job[c->logs], sizeof(c->job[0]), "%s", h->ref->job_name);
		c->n[c->logs] = h->count;
	}
	c->logs++;
	c->total += h->count;
	return 0;
}

/* The count-only path gives each log's number of hits of search_logs(), on
 * one thread and (split) on two, in the order of the search. */
static void same_count_on(struct fnf *f, const struct rhits *a, const char *q, int flags,
			  bool split)
{
	struct cs_err err;
	err_clear(&err);
	struct matcher *m = matcher_new(q, flags, &err);
	struct counts c = {0};
	long n = -1;
	uint64_t was = search_count_split_bytes;
	search_count_split_bytes = split ? 0 : UINT64_MAX;
	int rc = m ? search_count(f->st, m, count_cb, &c, &n, NULL, &err) : -1;
	search_count_split_bytes = was;
	if (rc < 0) {
		t_fail(__FILE__, __LINE__, "'%s': %s", q, err.msg);
		matcher_free(m);
		return;
	}
	if ((uint64_t)n != a->n || c.total != a->n)
		t_fail(__FILE__, __LINE__, "'%s' (flags %d): %zu hits, counted %ld (%llu by log)", q,
		       flags, a->n, n, (unsigned long long)c.total);
	for (size_t i = 0; i < c.logs && i < 64; i++) {
		uint64_t k = 0;
		for (size_t j = 0; j < a->n; j++)
			k += strcmp(a->h[j].job, c.job[i]) == 0;
		if (k != c.n[i])
			t_fail(__FILE__, __LINE__, "'%s' (flags %d): %llu hits in %s, counted %llu", q,
			       flags, (unsigned long long)k, c.job[i], (unsigned long long)c.n[i]);
		/* in the order of the search: the log's first hit comes after
		 * those of the log before */
		if (i > 0 && i < 64) {
			size_t first = SIZE_MAX, prev = SIZE_MAX;
			for (size_t j = 0; j < a->n; j++) {
				if (first == SIZE_MAX && strcmp(a->h[j].job, c.job[i]) == 0)
					first = j;
				if (prev == SIZE_MAX && strcmp(a->h[j].job, c.job[i - 1]) == 0)
					prev = j;
			}
			if (first < prev)
				t_fail(__FILE__, __LINE__, "'%s': %s counted after %s", q, c.job[i],
				       c.job[i - 1]);
		}
	}
	matcher_free(m);
}

static void same_count(struct fnf *f, const struct rhits *a, const char *q, int flags)
{
	same_count_on(f, a, q, flags, false);
	same_count_on(f, a, q, flags, true);
}

static void same_three_ways(struct fnf *f, const char *q, int flags)
{
	struct cs_err err;
	err_clear(&err);
	struct matcher *m = matcher_new(q, flags, &err);
	if (!m) {
		if (!(flags & MATCH_REGEX))
			t_fail(__FILE__, __LINE__, "'%s': %s", q, err.msg);
		return;
	}
	struct matcher *all = matcher_new(q, flags | MATCH_NO_FILTER, &err);
	struct matcher *ref = matcher_new(q, flags, &err);
	struct rhits a = {0}, b = {0}, c = {0};
	long na, nb;
	if (search_logs(f->st, m, 0, rhit_cb, &a, &na, NULL, &err) < 0 ||
	    search_logs(f->st, all, 0, rhit_cb, &b, &nb, NULL, &err) < 0)
		t_fail(__FILE__, __LINE__, "'%s': %s", q, err.msg);
	for (size_t i = 0; i < f->ref.n; i++) {
		const struct ref_line *l = &f->ref.l[i];
		size_t s, e;
		if (matcher_find(ref, l->text, l->len, 0, &s, &e))
			rhits_add(&c, l->job, l->line, s, e, l->text, l->len);
	}
	if (!rhits_equal(&a, &b))
		t_fail(__FILE__, __LINE__, "'%s' (flags %d): %zu hits with the filters, %zu without",
		       q, flags, a.n, b.n);
	same_count(f, &a, q, flags);
	if (a.n)
		qsort(a.h, a.n, sizeof(*a.h), rhit_cmp);
	if (c.n)
		qsort(c.h, c.n, sizeof(*c.h), rhit_cmp);
	if (!rhits_equal(&a, &c))
		t_fail(__FILE__, __LINE__, "'%s' (flags %d): %zu hits, %zu line by line", q, flags,
		       a.n, c.n);
	uint64_t read, skipped;
	matcher_stats(m, &read, &skipped);
	f->read += read;
	f->skipped += skipped;
	matcher_stats(all, &read, &skipped);
	CHECK_INT(skipped, 0);
	f->searches++;
	f->hits += a.n;
	rhits_free(&a);
	rhits_free(&b);
	rhits_free(&c);
	matcher_free(m);
	matcher_free(all);
	matcher_free(ref);
}

/* q with every PCRE2 metacharacter escaped: a regex matching q literally */
static void regex_quote(const char *q, size_t n, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (strchr("\\^$.|?*+()[]{}", q[i]))
			buf_addc(out, '\\');
		buf_addc(out, q[i]);
	}
	buf_cstr(out);
}

static const int modes[] = {0, MATCH_IGNORE_CASE, MATCH_CASE};

/* A piece of some line's text, with its case changed now and then. */
static void pick_piece(struct fnf *f, struct buf *out)
{
	const struct ref_line *l;
	do
		l = &f->ref.l[rnd() % f->ref.n];
	while (l->len < 3);
	size_t at = rnd() % (l->len - 2), n = 3 + rnd() % 22;
	n = MIN(n, l->len - at);
	buf_reset(out);
	buf_add(out, l->text + at, n);
	if (rnd() % 3 == 0)
		for (size_t i = 0; i < out->len; i++)
			if (rnd() % 2 && (unsigned char)out->data[i] < 0x80)
				out->data[i] ^= (char)((out->data[i] | 0x20) >= 'a' &&
						       (out->data[i] | 0x20) <= 'z' ? 0x20 : 0);
	buf_cstr(out);
}

static void fnf_queries(struct fnf *f, bool fixed_ones, int literals, int regexes)
{
	static const char *const fixed[] = {
		"error", "ERROR", "Error", "SIGSEGV in worker", "sigsegv", "caf\xc3\xa9",
		"CAF\xc3\xa9", "kelvin", "KELVIN", ("\xe2\x84\xaa" "elvin"), "needle", "Q7X9Z",
		"error[E0308]", "not in there at all", "zz zz", "[0-9]", "a|b"};
	static const char *const fixed_re[] = {
		"error\\[E0308\\]", "exit code [0-9]+", "kelvin", "KELVIN", "sigsegv", "s?egv",
		"CAF\xc3\x89", "elvin ok", "igsegv ok", "w.rker", "(?i)needle", "needle|hay", "^ok",
		"ok$", "caf\xc3\xa9", "\\bzz\\b",
		"[0-9]\\]", "a\\|b", "(x)|\\(x\\)", "Q7X9Z{1,2}", "erro(r)?\\[E",
		"(?:warning|error) test", "hay\\s+stack"};
	struct buf q = BUF_INIT, re = BUF_INIT;
	for (size_t i = 0; fixed_ones && i < ARRAY_SIZE(fixed); i++)
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(f, fixed[i], modes[k]);
	for (size_t i = 0; fixed_ones && i < ARRAY_SIZE(fixed_re); i++)
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(f, fixed_re[i], MATCH_REGEX | modes[k]);
	for (int i = 0; i < literals; i++) {
		pick_piece(f, &q);
		if (memchr(q.data, '\0', q.len))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(f, q.data, modes[k]);
	}
	for (int i = 0; i < regexes; i++) {
		pick_piece(f, &q);
		if (memchr(q.data, '\0', q.len))
			continue;
		regex_quote(q.data, q.len, &re);
		size_t cut = re.len / 2;
		while (cut > 0 && re.data[cut - 1] == '\\')
			cut--;
		struct buf v = BUF_INIT;
		switch (rnd() % 9) {
		case 0: buf_add(&v, re.data, re.len); break;
		/* an optional character that no line has */
		case 5: buf_addf(&v, "%.*s~?%s", (int)cut, re.data, re.data + cut); break;
		case 6: buf_addf(&v, "%.*s~*%s", (int)cut, re.data, re.data + cut); break;
		case 7: buf_addf(&v, "%.*s~{0,3}%s", (int)cut, re.data, re.data + cut); break;
		case 8: buf_addf(&v, "%.*s\xe2\x84\xa2?%s", (int)cut, re.data, re.data + cut); break;
		case 1: buf_addf(&v, "%.*s.*%s", (int)cut, re.data, re.data + cut); break;
		case 2: buf_addf(&v, "%.*s\\w?%s", (int)cut, re.data, re.data + cut); break;
		case 3: buf_addf(&v, "(?:zz|%s)", re.data); break;
		default: buf_addf(&v, "%s+", re.data); break;
		}
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(f, v.data, MATCH_REGEX | modes[k]);
		buf_release(&v);
	}
	buf_release(&q);
	buf_release(&re);
}

/* Writes s (freed) as t_tmpdir()/JOB.log, imports it and adds it to the
 * reference corpus. */
static void fnf_import(struct fnf *f, struct importer *im, const char *job, char *s, size_t n)
{
	struct cs_err err;
	err_clear(&err);
	char *path = xasprintf("%s/%s.log", t_tmpdir(), job);
	FILE *fp = fopen(path, "wb");
	CHECK(fp && fwrite(s, 1, n, fp) == n);
	if (fp)
		fclose(fp);
	CHECK_OK(import_path(im, path, &err));
	ref_add_file(&f->ref, job, s, n);
	free(path);
	free(s);
}

TEST(filters_lose_no_hit)
{
	struct cs_err err;
	err_clear(&err);
	struct fnf f = {0};
	f.st = t_fresh_store("filters");
	static const char *const jobs[] = {"big", "mid", "tiny"};
	static const size_t sizes[] = {1000000, 300000, 3000}; /* 4, 2 and 1 chunks */
	struct importer *im = importer_new(f.st, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		size_t n;
		char *s = gen_corpus(sizes[i], i == 2, &n);
		fnf_import(&f, im, jobs[i], s, n);
	}
	importer_free(im);
	fnf_queries(&f, true, 30, 20);
	/* the filters did their job: chunks were passed over, and hits found */
	CHECK(f.skipped > f.read / 4);
	CHECK(f.hits > 1000);

	/* logs stored before the filters (no rows), and filters of another
	 * version or shape: read whole, same hits */
	exec_sql(f.st, "DELETE FROM log_chunk_grams WHERE seq % 3 = 0;"
		       "UPDATE log_chunk_grams SET bits = x'07' || bits WHERE seq % 3 = 1");
	uint64_t skipped = f.skipped;
	fnf_queries(&f, false, 10, 6);
	CHECK(f.skipped > skipped); /* the chunks still filtered are still skipped */
	exec_sql(f.st, "DELETE FROM log_chunk_grams; DELETE FROM log_chunk_words");
	skipped = f.skipped;
	fnf_queries(&f, false, 4, 4);
	CHECK_INT(f.skipped, skipped);
	for (size_t i = 0; i < f.ref.n; i++)
		free(f.ref.l[i].text);
	free(f.ref.l);
	store_close(f.st);
}

/* Logs whose lines nearly all carry high-entropy tokens (hex ids, shas,
 * uuids, digests in mixed case, some split by escape sequences, every line
 * end): trigram filters are full on them, the word 6-gram filters are not.
 * Every query gives the same hits with the filters, without them and line
 * by line; a 40-hex sha or an id reads only the chunks that hold it. */
static void put_hex(struct buf *b, int n, bool upper)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	for (int i = 0; i < n; i++)
		buf_addc(b, (upper ? up : lo)[rnd() & 15]);
}

static char *gen_entropy(size_t target, struct buf *shas, size_t *len)
{
	static const char *const terms[] = {"\n", "\n", "\r\n", "\r"};
	struct buf b = BUF_INIT;
	while (b.len < target) {
		buf_adds(&b, "2024-05-01T10:48:36.8101331Z ");
		switch (rnd() % 6) {
		case 0:
			buf_adds(&b, "commit ");
			size_t at = b.len;
			put_hex(&b, 40, false);
			if (rnd() % 50 == 0) /* remembered: a rare token to look for */
				buf_add(shas, b.data + at, 40);
			buf_adds(&b, " ok");
			break;
		case 1:
			buf_adds(&b, "[req ");
			put_hex(&b, 8, rnd() % 4 == 0);
			buf_adds(&b, "] uuid ");
			put_hex(&b, 8, false), buf_addc(&b, '-'), put_hex(&b, 4, false);
			buf_addc(&b, '-'), put_hex(&b, 4, false), buf_addc(&b, '-');
			put_hex(&b, 12, false);
			break;
		case 2:
			buf_adds(&b, "sha256:");
			put_hex(&b, 20, false);
			buf_adds(&b, "\x1b[0m");
			put_hex(&b, 20, false);
			break;
		case 3:
			buf_adds(&b, "layer_");
			put_hex(&b, 12, rnd() % 2);
			buf_adds(&b, "_done warning failed");
			break;
		default:
			buf_adds(&b, "id=");
			put_hex(&b, 8, false);
			buf_adds(&b, " test_");
			put_hex(&b, 6, false);
			break;
		}
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	*len = b.len;
	return b.data;
}

TEST(word_filters_lose_no_hit)
{
	struct cs_err err;
	err_clear(&err);
	struct fnf f = {0};
	f.st = t_fresh_store("words");
	static const char *const jobs[] = {"hexbig", "hexmid", "hextiny"};
	static const size_t sizes[] = {1500000, 300000, 5000}; /* 6, 2 and 1 chunks */
	struct buf shas = BUF_INIT;
	struct importer *im = importer_new(f.st, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		size_t n;
		char *s = gen_entropy(sizes[i], &shas, &n);
		fnf_import(&f, im, jobs[i], s, n);
	}
	importer_free(im);
	fnf_queries(&f, false, 40, 15);
	/* ordinary words, 1-2 byte queries (no filter applies), non-ASCII */
	static const char *const fixed[] = {"warning failed", "layer_", "_done", "sha256:",
					    "0m", "test_", "ok\r", "commit 0", "-4", "f", "F",
					    "4-", "] ", "\xc3\xa9", "caf\xc3\xa9 0", "\xe2\x9c\x93"};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(&f, fixed[i], modes[k]);
	/* the bytes around each chunk boundary, within their line: a token cut
	 * in two by the chunks (the read-ahead of the next chunk on the second
	 * thread is on for these multi-chunk logs) */
	sqlite3_stmt *ls;
	CHECK(sqlite3_prepare_v2(f.st->db, "SELECT id, raw_size FROM logs", -1, &ls, NULL) ==
	      SQLITE_OK);
	int crossing = 0;
	while (sqlite3_step(ls) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(ls, 0);
		uint64_t size = (uint64_t)sqlite3_column_int64(ls, 1);
		struct logr *r = logr_open(f.st, id, &err);
		CHECK(r != NULL);
		for (uint64_t at = LOG_CHUNK_RAW; r && at + 12 < size; at += LOG_CHUNK_RAW) {
			struct buf b = BUF_INIT;
			CHECK_OK(logr_read(r, at - 12, 24, &b, &err));
			size_t lo = 12, hi = 12;
			while (lo > 0 && !strchr("\r\n\x1b", b.data[lo - 1]))
				lo--;
			while (hi < b.len && !strchr("\r\n\x1b", b.data[hi]))
				hi++;
			if (hi - lo >= 3 && lo < 12 && hi > 12) {
				char *q = xstrndup(b.data + lo, hi - lo);
				for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
					same_three_ways(&f, q, modes[k]);
				free(q);
				crossing++;
			}
			buf_release(&b);
		}
		logr_close(r);
	}
	sqlite3_finalize(ls);
	CHECK(crossing >= 4);
	/* rare tokens: a whole sha, its first 8 and its last 12 digits, in
	 * either case; each is in one chunk (two when its line crosses) */
	CHECK(shas.len >= 40 * 10);
	uint64_t read = 0, skipped = 0;
	size_t n = 0;
	for (size_t at = 0; at + 40 <= shas.len && n < 12; at += 40, n++) {
		char tok[41];
		memcpy(tok, shas.data + at, 40);
		tok[40] = 0;
		char pre[9], suf[13];
		memcpy(pre, tok, 8), pre[8] = 0;
		memcpy(suf, tok + 28, 12), suf[12] = 0;
		const char *qs[] = {tok, pre, suf};
		for (size_t k = 0; k < ARRAY_SIZE(qs); k++) {
			uint64_t r0 = f.read, s0 = f.skipped;
			same_three_ways(&f, qs[k], 0);
			read += f.read - r0;
			skipped += f.skipped - s0;
		}
		for (char *p = tok; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 0x20 : *p);
		same_three_ways(&f, tok, 0); /* upper case: case-sensitive, no hit */
	}
	/* 36 searches over 9 chunks: 36 chunks hold them (a few more when a
	 * line crosses a chunk or an 8-digit prefix recurs); trigram filters
	 * alone read nearly every chunk */
	CHECK(read <= 36 + 12);
	CHECK(skipped >= 36 * 9 - 48);
	/* logs stored before the word filters: read whole, same hits */
	exec_sql(f.st, "DELETE FROM log_chunk_words WHERE seq % 2 = 0;"
		       "UPDATE log_chunk_words SET bits = x'09' || bits WHERE part % 3 = 1");
	fnf_queries(&f, false, 10, 4);
	for (size_t at = 0; at + 40 <= shas.len && at < 40 * 6; at += 40) {
		char tok[41];
		memcpy(tok, shas.data + at, 40);
		tok[40] = 0;
		same_three_ways(&f, tok, 0);
		tok[8] = 0;
		same_three_ways(&f, tok, 0);
	}
	buf_release(&shas);
	for (size_t i = 0; i < f.ref.n; i++)
		free(f.ref.l[i].text);
	free(f.ref.l);
	store_close(f.st);
}

/* Many small logs: their word filters are read in one pass and the logs
 * they rule out whole are passed over (logsearch.c rule_out_logs); the same
 * hits as without filters and line by line, also when some logs have no
 * word filter rows (stored before them) or rows of an unknown version. */
TEST(many_small_logs_lose_no_hit)
{
	struct cs_err err;
	err_clear(&err);
	struct fnf f = {0};
	f.st = t_fresh_store("smalllogs");
	struct buf shas = BUF_INIT;
	struct importer *im = importer_new(f.st, NULL);
	static char jobs[90][24]; /* the reference keeps the names */
	for (int i = 0; i < 90; i++) {
		char *job = jobs[i];
		snprintf(job, sizeof(jobs[i]), "small%02d", i);
		size_t n;
		char *s = gen_entropy(i % 10 == 9 ? 300000 : 1500 + (size_t)(rnd() % 4000), &shas, &n);
		fnf_import(&f, im, job, s, n);
	}
	importer_free(im);
	CHECK(shas.len >= 40 * 8);
	for (int round = 0; round < 2; round++) {
		uint64_t read = 0;
		size_t n = 0;
		for (size_t at = 0; at + 40 <= shas.len && n < 8; at += 40, n++) {
			char tok[41];
			memcpy(tok, shas.data + at, 40);
			tok[40] = 0;
			uint64_t r0 = f.read;
			same_three_ways(&f, tok, 0);
			read += f.read - r0;
			tok[8] = 0;
			same_three_ways(&f, tok, MATCH_IGNORE_CASE);
			same_three_ways(&f, tok + 2, 0);
		}
		/* a whole sha is in one chunk, two when its line crosses one */
		if (round == 0)
			CHECK(read <= 8 * 2);
		static const char *const fixed[] = {"layer_", "warning failed", "_done warning",
						    "f", "\xc3\xa9", "zzzzzz not there"};
		for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
			for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
				same_three_ways(&f, fixed[i], modes[k]);
		fnf_queries(&f, false, 8, 3);
		/* as if a third of the logs were stored before the word filters,
		 * and some rows were of a version this reader does not know */
		exec_sql(f.st, "DELETE FROM log_chunk_words WHERE log_id % 3 = 0;"
			       "UPDATE log_chunk_words SET bits = x'09' || bits WHERE log_id % 5 = 1");
	}
	buf_release(&shas);
	for (size_t i = 0; i < f.ref.n; i++)
		free(f.ref.l[i].text);
	free(f.ref.l);
	store_close(f.st);
}

/* Counting, the filters of the first logs judged may pass nearly every
 * chunk: the rest are admitted unread but for a sample, which brings the
 * filters back where they stop passing. Half the logs hold a phrase (with
 * a word 6-gram, and without one: trigrams alone), in whatever order the
 * search takes them, and a word is on every line: the counts are
 * search_logs()'s, on one thread and on two. */
TEST(count_phrase_in_half_the_logs)
{
	for (int round = 0; round < 2; round++) {
		struct fnf f = {0};
		f.st = t_fresh_store(round ? "phrase1" : "phrase0");
		struct importer *im = importer_new(f.st, NULL);
		static char jobs[2][600][32];
		for (int i = 0; i < 600; i++) {
			char *job = jobs[round][i];
			snprintf(job, sizeof(jobs[0][0]), "p%d_%03d", round, i);
			bool has = (i < 300) == (round == 0);
			char *text = xasprintf("line one\n%s in %d ms\nlast line\n",
					       has ? "zebra phrase, zeb phr done" : "nothing here", i);
			fnf_import(&f, im, job, text, strlen(text));
		}
		importer_free(im);
		same_three_ways(&f, "zebra phrase", 0);
		same_three_ways(&f, "zeb phr done", 0);
		same_three_ways(&f, "line", 0);
		for (size_t i = 0; i < f.ref.n; i++)
			free(f.ref.l[i].text);
		free(f.ref.l);
		store_close(f.st);
	}
}

/* Logs without escape sequences, where a count goes from one place of the
 * phrase to the next (count_lines()): the phrase ending at a chunk's last
 * byte, across the bound by one byte and by all but one, at a chunk's first
 * byte, before a CRLF whose CR ends the chunk, twice on a line, on lines
 * with NUL bytes, cut by a line end, in a timestamp (not counted) and past
 * an 8 KiB head (not counted). Counted as search_logs() and line by line
 * find them, on one thread and on two. */
static char *gen_plain(size_t target, long delta, const char *put, const char *term, size_t *len)
{
	static const char *const terms[] = {"\n", "\n", "\r\n", "\r"};
	static const char *const bits[] = {"zebra phrase", "zebra phras", "ebra phrase", "fill",
					   "ZEBRA Phrase", "x", "2024-05-01", " "};
	struct buf b = BUF_INIT;
	size_t at = (size_t)((long)LOG_CHUNK_RAW + delta); /* the phrase placed there */
	bool placed = false;
	while (b.len < target) {
		if (!placed && b.len + 300 >= at) {
			while (b.len < at)
				buf_addc(&b, 'x');
			buf_adds(&b, put);
			buf_adds(&b, term);
			placed = true;
			continue;
		}
		uint32_t k = rnd() % 100;
		if (k < 30)
			buf_adds(&b, rnd() % 8 ? "2024-05-01T10:48:36.8101331Z " : "2024-05-01T10:48:36.81");
		if (k == 99 && (placed || b.len + 9000 < at)) {
			/* over the head: the phrase at its end and past it */
			for (size_t i = 0; i < SPLIT_HEAD_MAX - 12 - (rnd() % 2); i++)
				buf_addc(&b, 'y');
			buf_adds(&b, "zebra phrase zebra phrase");
		}
		for (uint32_t n = rnd() % 12; n > 0; n--) {
			buf_adds(&b, bits[rnd() % ARRAY_SIZE(bits)]);
			if (rnd() % 16 == 0)
				buf_addc(&b, '\0');
		}
		buf_adds(&b, k % 7 == 0 ? "zebra phrase zebra phrase" : "");
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	*len = b.len;
	return b.data;
}

TEST(count_plain_chunks)
{
	struct fnf f = {0};
	f.st = t_fresh_store("plain");
	struct importer *im = importer_new(f.st, NULL);
	/* the last, a line without the phrase before a CRLF ending the chunk */
	static const long deltas[] = {-12, -11, -1, 0, 1, -13, -13, -13};
	static const char *const terms[] = {"\n", "\r\n", "\n", "\r", "\n", "\r\n", "\r", "\r\n"};
	static char jobs[ARRAY_SIZE(deltas)][16];
	for (size_t i = 0; i < ARRAY_SIZE(deltas); i++) {
		size_t n;
		char *s = gen_plain(LOG_CHUNK_RAW + 60000 + rnd() % 200000, deltas[i],
				    i + 1 < ARRAY_SIZE(deltas) ? "zebra phrase" : "zebra phras.", terms[i], &n);
		snprintf(jobs[i], sizeof(jobs[i]), "plain%zu", i);
		fnf_import(&f, im, jobs[i], s, n);
	}
	importer_free(im);
	static const char *const qs[] = {"zebra phrase", "ZEBRA PHRASE", "zebra", "phrase",
					 "2024-05-01", "e zebra", "x", "fill"};
	for (size_t i = 0; i < ARRAY_SIZE(qs); i++)
		for (size_t k = 0; k < ARRAY_SIZE(modes); k++)
			same_three_ways(&f, qs[i], modes[k]);
	CHECK(f.hits > 1000);
	for (size_t i = 0; i < f.ref.n; i++)
		free(f.ref.l[i].text);
	free(f.ref.l);
	store_close(f.st);
}

extern const char schema_sql[];

TEST(migration_adds_filters)
{
	/* a version 1 index holding a log: migrated on opening for writing;
	 * the old log has no filters and is searched whole */
	struct cs_err err;
	err_clear(&err);
	char *db = xasprintf("%s/v1.db", t_tmpdir());
	sqlite3 *raw;
	CHECK_INT(sqlite3_open(db, &raw), SQLITE_OK);
	struct store tmp = {.db = raw, .path = db};
	exec_sql(&tmp, schema_sql);
	/* the writer of today needs the table for a moment */
	exec_sql(&tmp, "CREATE TABLE log_chunk_grams (log_id, seq, bits);"
		       "CREATE TABLE log_chunk_words (log_id, seq, part, bits);"
		       "INSERT INTO repos (id, slug) VALUES (1, 'o/r');"
		       "INSERT INTO runs (id, repo_id, provider_id, imported_at) VALUES (1, 1, 7, 0);"
		       "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (1, 1, 8, 'old', 0);"
		       "BEGIN");
	struct logw *w = logw_begin(&tmp, 1, NULL, NULL, &err);
	CHECK(w != NULL);
	static const char text[] = "2024-05-01T10:48:36.8101331Z one\nan old needle\n";
	if (w) {
		CHECK_OK(logw_write(w, text, sizeof(text) - 1, &err));
		CHECK(logw_finish(w, &err) > 0);
		logw_free(w);
	}
	exec_sql(&tmp, "COMMIT; DROP TABLE log_chunk_grams; DROP TABLE log_chunk_words;"
		       " PRAGMA user_version = 1");
	for (int i = 0; i < tmp.n_stmt_cache; i++) /* what the writer cached */
		sqlite3_finalize(tmp.stmt_cache[i].s);
	sqlite3_close(raw);

	struct store *st = store_open(db, STORE_RO_EXISTING, &err);
	CHECK(st == NULL); /* reading needs the upgrade first */
	store_close(st);
	st = store_open(db, STORE_RW, &err);
	if (!st) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		free(db);
		return;
	}
	sqlite3_stmt *s;
	CHECK_INT(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM log_chunk_grams", -1, &s, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(s, 0), 0);
	sqlite3_finalize(s);
	struct matcher *m = matcher_new("needle", 0, &err);
	struct hits hs = {0};
	long n;
	CHECK_OK(search_logs(st, m, 0, on_hit, &hs, &n, NULL, &err));
	CHECK_INT(hs.n, 1);
	CHECK_INT(hs.h[0].line, 2);
	CHECK_STR(hs.h[0].text, "an old needle");
	uint64_t read, skipped;
	matcher_stats(m, &read, &skipped);
	CHECK_INT(read, 1);
	CHECK_INT(skipped, 0);
	matcher_free(m);
	store_close(st);
	free(db);
}

__attribute__((destructor)) static void close_shared(void)
{
	store_close(st_shared);
}

/* memfind() answers as memmem(3): random texts over small alphabets (so
 * first and last bytes agree often), needles cut from them or not, every
 * alignment, every length around the 16-byte steps, and text built to
 * defeat its filter (the fallback to memmem). */
TEST(memfind_same_as_memmem)
{
	unsigned char hay[600], nd[80];
	for (int round = 0; round < 20000; round++) {
		unsigned alpha = 1 + rnd() % (round % 3 == 0 ? 2 : 6);
		size_t n = rnd() % sizeof(hay);
		for (size_t i = 0; i < n; i++)
			hay[i] = (unsigned char)(round % 5 == 0 ? rnd() : 'a' + rnd() % alpha);
		size_t k = rnd() % 40;
		if (n && rnd() % 2) {
			size_t at = rnd() % n;
			k = MIN(k, n - at);
			memcpy(nd, hay + at, k);
			if (k && rnd() % 4 == 0)
				nd[rnd() % k] ^= 1; /* near misses */
		} else {
			for (size_t i = 0; i < k; i++)
				nd[i] = (unsigned char)('a' + rnd() % alpha);
		}
		size_t from = n ? rnd() % (n + 1) : 0;
		const void *want = memmem(hay + from, n - from, nd, k);
		const void *got = memfind(hay + from, n - from, nd, k);
		if (got != want) {
			t_fail(__FILE__, __LINE__, "round %d: n %zu k %zu from %zu: %td vs %td", round, n, k,
			       from, got ? (const unsigned char *)got - hay : -1,
			       want ? (const unsigned char *)want - hay : -1);
			break;
		}
	}
	/* a long run of one letter and a needle of it ending in another: every
	 * position a candidate, the rest handed to memmem */
	static unsigned char big[1 << 20];
	memset(big, 'a', sizeof(big));
	memset(nd, 'a', 64);
	nd[40] = 'b';
	CHECK(memfind(big, sizeof(big), nd, 64) == NULL);
	big[sizeof(big) - 100] = 'b';
	CHECK(memfind(big, sizeof(big), nd, 64) == big + sizeof(big) - 140);
	nd[0] = 'b';
	CHECK(memfind(big, sizeof(big), nd, 1) == big + sizeof(big) - 100);
	CHECK(memfind(big, 0, nd, 0) == big);
	CHECK(memfind(big, 3, nd, 4) == NULL);
}
