/* t_rules.c - the rules engine and the built-in rules, per rule family, on
 * real log excerpts (tests/fixtures: pytorch's log-classifier windows,
 * CiDiff logs, go-junit-report's go test outputs), plus loading errors,
 * the prefilter and hostile lines.
 *
 * The pytorch windows mark, in band, the line upstream's classifier lands
 * on ("#=MATCH=# " before it, captures between U+2039 and U+203A, and a
 * leading "#=SOURCE=#" metadata line); the helper removes the marks as
 * upstream's harness does and reports the marked line's number.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logparse.h"
#include "core/rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "core/util.h"
#include "test.h"

#define CLASSIFY "pytorch-test-infra/aws/lambda/log-classifier/fixtures/classify/"
#define JSTEMMER "jstemmer-go-junit-report/testdata/"
#define CIDIFF "cidiff/data/"

struct hit {
	char rule[72];
	char category[24];
	char refined_by[72];
	uint64_t first, last, trigger;
	int marker;
	char title[RSCAN_KEY_MAX];
	char keys[RSCAN_KEYS][RSCAN_KEY_MAX];
	int n_keys;
};

struct hits {
	struct hit *h;
	int n;
	size_t alloc;
};

static struct ruleset *builtin(void)
{
	static struct ruleset *rs;
	if (!rs) {
		struct cs_err err;
		rs = ruleset_builtin(&err);
		if (!rs) {
			fprintf(stderr, "the built-in rules do not load: %s\n", err.msg);
			exit(2);
		}
	}
	return rs;
}

static int on_hit(void *ctx, const struct rule_hit *h)
{
	struct hits *hs = ctx;
	XGROW(hs->h, hs->alloc, (size_t)hs->n + 1);
	struct hit *x = &hs->h[hs->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->rule, sizeof(x->rule), "%s", h->rule->id);
	snprintf(x->category, sizeof(x->category), "%s", rule_category_name(h->category));
	snprintf(x->refined_by, sizeof(x->refined_by), "%s",
		 h->refined_by ? h->refined_by->id : "");
	x->first = h->first;
	x->last = h->last;
	x->trigger = h->trigger;
	x->marker = h->marker;
	snprintf(x->title, sizeof(x->title), "%s", h->title);
	x->n_keys = h->n_keys;
	for (int i = 0; i < h->n_keys; i++)
		snprintf(x->keys[i], sizeof(x->keys[i]), "%s", h->keys[i]);
	return 0;
}

struct feed {
	struct rscan *s;
};

static int feed_line(void *ctx, const struct split_line *l)
{
	struct feed *f = ctx;
	return rscan_line(f->s, l->lineno, l->head, l->head_len);
}

static void scan_text(const struct ruleset *rs, const char *text, size_t n, struct hits *out)
{
	memset(out, 0, sizeof(*out));
	struct feed f = {rscan_new(rs, on_hit, out)};
	struct splitter sp;
	splitter_init(&sp, feed_line, &f);
	splitter_feed(&sp, text, n);
	splitter_finish(&sp);
	rscan_finish(f.s);
	rscan_free(f.s);
}

static void scan_str(const struct ruleset *rs, const char *text, struct hits *out)
{
	scan_text(rs, text, strlen(text), out);
}

/* Read a fixture; pytorch windows lose their marks (*marked: the marked
 * line, 0 when none). */
static void read_fixture(const char *rel, struct buf *out, uint64_t *marked)
{
	struct buf raw = BUF_INIT;
	struct cs_err err;
	buf_init(out);
	if (marked)
		*marked = 0;
	if (file_read_all(t_fixture(rel), 64u << 20, &raw, &err) < 0) {
		t_fail(__FILE__, __LINE__, "cannot read %s: %s", rel, err.msg);
		return;
	}
	const char *p = raw.data ? raw.data : "", *end = p + raw.len;
	uint64_t lineno = 0;
	bool first = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;
		size_t n = (size_t)(le - p);
		if (first && n >= 10 && !memcmp(p, "#=SOURCE=#", 10)) {
			p = le;
			first = false;
			continue;
		}
		first = false;
		lineno++;
		if (n >= 10 && !memcmp(p, "#=MATCH=# ", 10)) {
			p += 10;
			n -= 10;
			if (marked)
				*marked = lineno;
		}
		for (size_t i = 0; i < n; i++) {
			if (i + 2 < n && (unsigned char)p[i] == 0xe2 && (unsigned char)p[i + 1] == 0x80 &&
			    ((unsigned char)p[i + 2] == 0xb9 || (unsigned char)p[i + 2] == 0xba)) {
				i += 2;
				continue;
			}
			buf_addc(out, p[i]);
		}
		p = le;
	}
	buf_release(&raw);
}

static void scan_fixture(const char *rel, struct hits *out, uint64_t *marked)
{
	struct buf b;
	read_fixture(rel, &b, marked);
	scan_text(builtin(), b.data ? b.data : "", b.len, out);
	buf_release(&b);
}

/* The finding whose lines hold line, or NULL. */
static const struct hit *covering(const struct hits *hs, uint64_t line)
{
	for (int i = 0; i < hs->n; i++)
		if (hs->h[i].first <= line && line <= hs->h[i].last)
			return &hs->h[i];
	return NULL;
}

static const struct hit *by_rule(const struct hits *hs, const char *rule, int nth)
{
	for (int i = 0; i < hs->n; i++)
		if (!strcmp(hs->h[i].rule, rule) && nth-- == 0)
			return &hs->h[i];
	return NULL;
}

static void hits_free(struct hits *hs)
{
	free(hs->h);
	memset(hs, 0, sizeof(*hs));
}

/* A pytorch window: the marked line is in a finding of rule/category. */
static void check_window(const char *file, const char *rule, const char *category, int line)
{
	struct hits hs;
	uint64_t marked;
	char rel[256];
	snprintf(rel, sizeof(rel), CLASSIFY "%s", file);
	scan_fixture(rel, &hs, &marked);
	if (!marked) {
		t_fail(__FILE__, line, "%s has no #=MATCH=# line", file);
		hits_free(&hs);
		return;
	}
	const struct hit *h = covering(&hs, marked);
	if (!h)
		t_fail(__FILE__, line, "%s: no finding covers the marked line %llu", file,
		       (unsigned long long)marked);
	else if (strcmp(h->rule, rule) || strcmp(h->category, category))
		t_fail(__FILE__, line, "%s: line %llu found by %s (%s), expected %s (%s)", file,
		       (unsigned long long)marked, h->rule, h->category, rule, category);
	hits_free(&hs);
}

#define CHECK_WINDOW(f, r, c) check_window(f, r, c, __LINE__)

/* --- the built-in rules ---------------------------------------------------------- */
TEST(builtin_rules_load_and_are_complete)
{
	struct ruleset *rs = builtin();
	CHECK(ruleset_count(rs) >= 60);
	CHECK(ruleset_hash(rs) != 0);
	for (int i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);
		CHECK(r->explain && *r->explain);
		CHECK(r->n_match > 0);
		CHECK(r->category >= 0 && r->category < CAT_COUNT);
		CHECK(ruleset_find(rs, r->id) == r);
		CHECK_STR(r->origin, "rules.conf (built in)");
	}
	CHECK(ruleset_find(rs, "no-such-rule") == NULL);
	int pats, gated;
	ruleset_prefilter_stats(rs, &pats, &gated);
	CHECK(pats > 100);
	CHECK(gated >= pats - 5); /* nearly every pattern has literals */
}

TEST(categories_map_to_decisions)
{
	static const struct {
		const char *cat;
		enum decision d;
	} t[] = {
		{"compile", DECIDE_FIX},	{"test", DECIDE_FIX},
		{"lint", DECIDE_FIX},		{"parity", DECIDE_FIX},
		{"crash", DECIDE_FIX},		{"dependency", DECIDE_INVESTIGATE},
		{"unknown", DECIDE_INVESTIGATE}, {"config", DECIDE_INVESTIGATE},
		{"network", DECIDE_RETRY},	{"runner", DECIDE_RETRY},
		{"disk", DECIDE_RETRY},		{"oom", DECIDE_RETRY},
		{"timeout", DECIDE_RETRY},	{"infrastructure", DECIDE_RETRY},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int c = rule_category_parse(t[i].cat);
		CHECK(c >= 0);
		CHECK_STR(rule_category_name(c), t[i].cat);
		CHECK_INT(rule_category_decision(c), t[i].d);
	}
	CHECK_INT(rule_category_parse("nonsense"), -1);
	CHECK_STR(decision_name(DECIDE_FIX), "fix");
	CHECK_STR(decision_name(DECIDE_RETRY), "retry");
	CHECK_STR(decision_name(DECIDE_INVESTIGATE), "investigate");
	CHECK(rule_category_is_infra(rule_category_parse("oom")));
	CHECK(!rule_category_is_infra(rule_category_parse("test")));
}

/* --- loading errors ----------------------------------------------------------------- */
TEST(loading_errors_name_file_line_and_rule)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{"rule a\n  category test\n  explain x\n  match foo(bar\n",
		 "t.conf:4: rule 'a': bad regular expression in 'match': missing closing parenthesis"},
		{"rule a\n  category test\n  explain x\n  match ok\n  continue [z-a]\n",
		 "t.conf:5: rule 'a': bad regular expression in 'continue'"},
		{"rule a\n  category test\n  explain x\n  match ok\n  colour red\n",
		 "t.conf:5: rule 'a': unknown keyword 'colour'"},
		{"# a comment\n  match x\n", "t.conf:2: 'match' outside a rule"},
		{"rule a\n category test\n explain x\n match y\nrule a\n", "t.conf:5: rule 'a' is defined twice"},
		{"rule a\n explain x\n match y\n", "t.conf:1: rule 'a': no 'category'"},
		{"rule a\n category test\n match y\n", "t.conf:1: rule 'a': no 'explain' line"},
		{"rule a\n category test\n explain x\n", "t.conf:1: rule 'a': no 'match' pattern"},
		{"rule a\n category weather\n", "t.conf:2: rule 'a': unknown category 'weather'"},
		{"rule a\n severity fatal\n", "t.conf:2: rule 'a': severity is 'error' or 'warning'"},
		{"rule a\n max lots\n", "t.conf:2: rule 'a': 'max' needs a number from 1 to 1000"},
		{"rule a\n max 0\n", "t.conf:2: rule 'a': 'max' needs a number"},
		{"rule a\n context 2\n", "t.conf:2: rule 'a': 'context' needs two numbers"},
		{"rule a\n refine weather x\n", "t.conf:2: rule 'a': 'refine': unknown category 'weather'"},
		{"rule a\n refine test\n", "t.conf:2: rule 'a': 'refine' needs a category and a pattern"},
		{"rule a b\n", "t.conf:1: 'a b' is not a rule id"},
		{"rule a\n weak yes\n", "t.conf:2: rule 'a': 'weak' takes no value"},
		{"rule a\n explain\n", "t.conf:2: rule 'a': 'explain' needs a value"},
		{"rule a\n show middle\n", "t.conf:2: rule 'a': 'show' is 'head' or 'tail'"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct ruleset *rs = ruleset_new();
		struct cs_err err;
		err_clear(&err);
		CHECK_INT(ruleset_add_text(rs, "t.conf", t[i].text, strlen(t[i].text), &err), -1);
		if (!strstr(err.msg, t[i].want))
			t_fail(__FILE__, __LINE__, "case %zu: '%s' does not say '%s'", i, err.msg,
			       t[i].want);
		CHECK_INT(err.code, CS_EINVAL);
		CHECK_INT(ruleset_count(rs), 0); /* nothing of a bad text is added */
		ruleset_free(rs);
	}
}

TEST(loading_errors_keep_what_was_loaded)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	const char *good = "rule one\n category test\n explain x\n match one\n";
	const char *bad = "rule two\n category test\n explain x\n match (\n";
	CHECK_OK(ruleset_add_text(rs, "a.conf", good, strlen(good), &err));
	uint64_t h = ruleset_hash(rs);
	CHECK_INT(ruleset_add_text(rs, "b.conf", bad, strlen(bad), &err), -1);
	CHECK(strstr(err.msg, "b.conf:4: rule 'two'") != NULL);
	CHECK_INT(ruleset_count(rs), 1);
	CHECK(ruleset_hash(rs) == h);
	/* an id already in the set is refused across files too */
	CHECK_INT(ruleset_add_text(rs, "c.conf", good, strlen(good), &err), -1);
	CHECK(strstr(err.msg, "c.conf:1: rule 'one' is defined twice") != NULL);
	/* a NUL byte means it is not a rules file */
	CHECK_INT(ruleset_add_text(rs, "d.conf", "rule x\0y", 8, &err), -1);
	CHECK(strstr(err.msg, "d.conf") && strstr(err.msg, "NUL"));
	ruleset_free(rs);
}

TEST(rules_file_errors_name_the_file)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	err_clear(&err);
	CHECK_INT(ruleset_add_file(rs, "/nonexistent/rules.conf", &err), -1);
	CHECK(strstr(err.msg, "/nonexistent/rules.conf") != NULL);
	const char *text = "rule mine\n\tcategory lint\n\texplain ours\n\tmatch ^boom\\s*(\n";
	const char *path = t_write_file("bad-rules.conf", text, strlen(text));
	CHECK_INT(ruleset_add_file(rs, path, &err), -1);
	char want[4200];
	snprintf(want, sizeof(want), "%s:4: rule 'mine': bad regular expression in 'match'", path);
	CHECK(strstr(err.msg, want) != NULL);
	ruleset_free(rs);
}

TEST(repository_rules_come_first)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	const char *mine = "rule our-flaky-download\n category network\n explain our mirror\n"
			   " match ^error: could not compile\n";
	extern const char rules_conf[];
	CHECK_OK(ruleset_add_text(rs, "repo.conf", mine, strlen(mine), &err));
	CHECK_OK(ruleset_add_text(rs, "built in", rules_conf, strlen(rules_conf), &err));
	struct hits hs;
	scan_str(rs, "error: could not compile `x` due to 2 previous errors\n", &hs);
	CHECK_INT(hs.n, 1);
	if (hs.n) {
		CHECK_STR(hs.h[0].rule, "our-flaky-download");
		CHECK_STR(hs.h[0].category, "network");
	}
	hits_free(&hs);
	ruleset_free(rs);
}

/* --- rule families on real excerpts ---------------------------------------------------- */
TEST(pytorch_windows_land_on_the_marked_line)
{
	CHECK_WINDOW("compile_error.txt", "gcc-error", "compile");
	CHECK_WINDOW("msvc_compiler_error.txt", "msvc-error", "compile");
	CHECK_WINDOW("ninja_build_failed.txt", "ninja-failed", "compile");
	/* "Process 0 terminated or timed out": the test timed out */
	CHECK_WINDOW("pytest_failure.txt", "pytest-failed", "timeout");
	CHECK_WINDOW("python_importerror_missing_so.txt", "python-traceback", "crash");
	/* a traceback ending in "CUDA out of memory" is an out-of-memory failure */
	CHECK_WINDOW("cuda_oom_class.txt", "python-traceback", "oom");
	CHECK_WINDOW("gha_timeout.txt", "gha-timeout", "timeout");
	CHECK_WINDOW("uv_python_download_failed.txt", "network", "network");
	CHECK_WINDOW("pip_wheel_build_failure.txt", "pip-dependency", "dependency");
	CHECK_WINDOW("lintrunner_general_failure.txt", "lintrunner", "lint");
	CHECK_WINDOW("docker_manifest_unknown.txt", "docker-infra", "infrastructure");
	CHECK_WINDOW("gha_cancellation_shutdown.txt", "gha-runner-lost", "runner");
	CHECK_WINDOW("aws_credentials_load_failure.txt", "cloud-credentials", "config");
}

TEST(compiler_error_with_its_notes_is_one_finding)
{
	struct hits hs;
	uint64_t marked;
	scan_fixture(CLASSIFY "compile_error.txt", &hs, &marked);
	const struct hit *h = covering(&hs, marked);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->trigger, marked);
		CHECK(h->last >= marked + 5); /* the candidates and notes below it */
		CHECK(strstr(h->title, "kineto_metadata.cpp:128:26: error: no matching function"));
	}
	hits_free(&hs);
}

TEST(python_traceback_is_one_finding_keyed_by_its_exception)
{
	struct hits hs;
	uint64_t marked;
	scan_fixture(CLASSIFY "python_importerror_missing_so.txt", &hs, &marked);
	const struct hit *h = by_rule(&hs, "python-traceback", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->last, marked); /* the exception line ends it */
		CHECK(h->first < marked);
		CHECK_INT(h->n_keys, 1);
		CHECK(strstr(h->keys[0], "ImportError: librocm_smi64.so.1") == h->keys[0]);
		/* the headline is the exception (the most telling line), the
		 * trigger stays the "Traceback" line where the finding starts */
		CHECK(strstr(h->title, "ImportError: librocm_smi64.so.1") == h->title);
		CHECK(h->trigger == h->first);
	}
	hits_free(&hs);
}

TEST(go_test_failure_takes_its_log_lines_and_subtests)
{
	struct hits hs;
	/* go test -v: the t.Error lines come before the verdict */
	scan_fixture(JSTEMMER "001-pass-fail-skip.txt", &hs, NULL);
	const struct hit *h = by_rule(&hs, "go-test-fail", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->trigger, 16); /* --- FAIL: TestOne */
		CHECK_INT(h->first, 12);   /* fail_test.go:6: Error message */
		CHECK_STR(h->category, "test");
	}
	CHECK(by_rule(&hs, "go-fail-package", 0) != NULL);
	hits_free(&hs);
	/* subtests are indented under their parent: one finding */
	scan_fixture(CIDIFF "breakages_dump/Quick Checks_/run104/fail.log", &hs, NULL);
	h = by_rule(&hs, "go-test-fail", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->first, 639);
		CHECK(h->last >= 657);
		CHECK(strstr(h->title, "--- FAIL: TestCloud_configWithEnvVars") != NULL);
	}
	hits_free(&hs);
}

TEST(go_compile_errors_take_their_package_line)
{
	struct hits hs;
	scan_fixture(JSTEMMER "013-syntax-error.txt", &hs, NULL);
	const struct hit *h = by_rule(&hs, "go-compile", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->first, 1); /* # package/name/failing1 */
		CHECK_INT(h->trigger, 2);
		CHECK_STR(h->category, "compile");
	}
	h = by_rule(&hs, "go-compile", 2);
	CHECK(h && h->last == 9); /* the "cannot find package" search path lines */
	h = by_rule(&hs, "go-fail-package", 0);
	CHECK(h && !strcmp(h->category, "compile")); /* [build failed] refines it */
	h = by_rule(&hs, "go-fail-package", 2);
	CHECK(h && !strcmp(h->category, "dependency")); /* [setup failed] */
	hits_free(&hs);
	/* the ##[error] form of a problem matcher, CRLF lines */
	scan_fixture(CIDIFF "breakages_dump/Quick Checks_/run118/fail.log", &hs, NULL);
	h = by_rule(&hs, "go-compile", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->first, 638);
		CHECK(h->last >= 644);
		CHECK_INT(h->marker, 1);
	}
	hits_free(&hs);
}

TEST(go_panics_and_linters)
{
	struct hits hs;
	scan_fixture(JSTEMMER "014-panic.txt", &hs, NULL);
	const struct hit *h = by_rule(&hs, "go-panic", 0);
	CHECK(h && h->trigger == 1 && !strcmp(h->category, "crash"));
	hits_free(&hs);
	scan_fixture(CIDIFF "breakages_dump/Quick Checks_/run418/fail.log", &hs, NULL);
	h = by_rule(&hs, "go-panic", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK(h->trigger >= 643 && h->trigger <= 644);
		CHECK(h->last > h->trigger + 5); /* goroutine and its frames */
	}
	hits_free(&hs);
	scan_fixture(CIDIFF "breakages_dump/Quick Checks_/run201/fail.log", &hs, NULL);
	h = by_rule(&hs, "go-lint", 0);
	CHECK(h && h->trigger == 715 && !strcmp(h->category, "lint"));
	/* what follows only says the check failed: weak */
	CHECK(by_rule(&hs, "make-error", 0) != NULL);
	CHECK(by_rule(&hs, "exit-code", 0) != NULL);
	hits_free(&hs);
}

TEST(maven_and_java)
{
	struct hits hs;
	scan_fixture(CIDIFF "breakages/astor_1260/fail.log", &hs, NULL);
	const struct hit *h = by_rule(&hs, "java-compile-error", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->first, 355);
		CHECK_INT(h->last, 357); /* symbol: and location: belong to it */
	}
	h = by_rule(&hs, "maven-goal-compile", 0);
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->first, 373);
		CHECK_INT(h->last, 390); /* every [ERROR] line of the goal's report */
	}
	h = covering(&hs, 391); /* Build step 'Execute shell' marked build as failure */
	CHECK(h && !strcmp(h->rule, "failed-summary"));
	hits_free(&hs);
	scan_fixture(CIDIFF "breakages/commonscodec_2463/fail.log", &hs, NULL);
	h = by_rule(&hs, "maven-goal-lint", 0);
	CHECK(h && h->first == 160 && !strcmp(h->category, "lint"));
	hits_free(&hs);
	/* a Jenkins git clone failure: the 503 in the stderr line is network */
	scan_fixture(CIDIFF "breakages/assertfixer_1320/fail.log", &hs, NULL);
	h = covering(&hs, 21);
	CHECK(h && !strcmp(h->category, "network"));
	h = by_rule(&hs, "java-exception", 0);
	CHECK(h && h->trigger == 19);
	hits_free(&hs);
}

TEST(gh_run_view_log_prefix_is_looked_through)
{
	/* `gh run view --log`: job<TAB>step<TAB>timestamp text */
	struct hits hs;
	scan_fixture(CIDIFF "breakages/cidiff_11/fail.log", &hs, NULL);
	const struct hit *h = by_rule(&hs, "gradle-test", 0);
	CHECK(h && h->trigger == 242 && !strcmp(h->category, "test"));
	CHECK(strstr(h ? h->title : "", "LogDifferTest > testGithubParsing() FAILED") ==
	      (h ? h->title : NULL));
	h = by_rule(&hs, "gradle-task-test", 0);
	CHECK(h && h->trigger == 248);
	hits_free(&hs);
}

/* Toolchains without a real excerpt in the fixtures: their documented output
 * formats. */
TEST(formats_of_other_toolchains)
{
	static const struct {
		const char *log, *rule, *category;
		int first, last;
	} t[] = {
		{"error[E0308]: mismatched types\n  --> src/a.rs:88:17\n   |\n88 |     kick(b, h);\n"
		 "   |             ^ expected `f64`, found `f32`\n\nnote: function defined here\n"
		 "  --> src/a.rs:41:4\nFor more information about this error\n",
		 "rustc-error", "compile", 1, 8},
		{"thread 'tests::x' panicked at src/lib.rs:4:5:\nassertion failed: a < b\n"
		 "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
		 "rust-panic", "crash", 1, 3},
		{"        FAIL [   0.006s] crate tests::x\n", "nextest-fail", "test", 1, 1},
		{"test tests::y ... FAILED\n", "cargo-test-failed", "test", 1, 1},
		{"  ● integrator › conserves energy\n\n    expect(received).toBeLessThan(expected)\n\n"
		 "      at Object.<anonymous> (test/a.test.ts:42:31)\n\n PASS  test/b.test.ts\n",
		 "jest-failure", "test", 1, 5},
		{"src/a.ts(12,5): error TS2322: Type 'string' is not assignable to type 'number'.\n",
		 "tsc-error", "compile", 1, 1},
		{"/home/u/p/src/a.js\n  12:5  error  'x' is not defined  no-undef\n"
		 "  14:1  error  Missing semicolon  semi\n\n",
		 "eslint", "lint", 1, 3},
		{"npm ERR! code ECONNRESET\nnpm ERR! network aborted\nnpm ERR! network This is a "
		 "problem related to network connectivity.\n\n",
		 "npm-network", "network", 1, 3},
		{"npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree\n",
		 "npm-dependency", "dependency", 1, 2},
		{"=================================================================\n"
		 "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n"
		 "READ of size 4 at 0x602000000010 thread T0\n"
		 "    #0 0x4f5 in main /src/a.c:7:10\n    #1 0x7f in __libc_start_main\n\n"
		 "SUMMARY: AddressSanitizer: heap-use-after-free /src/a.c:7:10 in main\n",
		 "sanitizer", "crash", 2, 7},
		{"Exception in thread \"main\" java.lang.IllegalStateException: boom\n"
		 "\tat a.B.c(B.java:12)\n\tat a.B.main(B.java:3)\nCaused by: java.io.IOException: x\n"
		 "\t... 2 more\ndone\n",
		 "java-exception", "crash", 1, 5},
		{"/src/run.sh: line 12:  4242 Killed                  ./big-job\n", "oom-kill", "oom", 1,
		 1},
		{"cp: cannot create regular file 'x': No space left on device\n", "disk-full", "disk", 1,
		 1},
		{"bash: line 3: shellcheck: command not found\n", "command-not-found", "config", 1, 1},
		{"ERROR: go.mod/go.sum are not up-to-date. Run 'go mod tidy'\n", "error-prefix", "unknown",
		 1, 1},
		{"parity: energy diverged at step 607: |d|=1.2e-12 > tol 1.1e-12\n", "parity", "parity", 1,
		 1},
		{"##[error]The runner has received a shutdown signal.\n", "gha-runner-lost", "runner", 1,
		 1},
		{"##[error]Process completed with exit code 137.\n", "gha-exit-137", "oom", 1, 1},
		{"##[error]Process completed with exit code 1.\n", "exit-code", "unknown", 1, 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct hits hs;
		scan_str(builtin(), t[i].log, &hs);
		const struct hit *h = hs.n ? &hs.h[0] : NULL;
		if (!h || strcmp(h->rule, t[i].rule) || strcmp(h->category, t[i].category) ||
		    h->first != (uint64_t)t[i].first || h->last != (uint64_t)t[i].last)
			t_fail(__FILE__, __LINE__, "case %zu (%s): got %s %s %llu-%llu", i, t[i].rule,
			       h ? h->rule : "nothing", h ? h->category : "",
			       h ? (unsigned long long)h->first : 0ull,
			       h ? (unsigned long long)h->last : 0ull);
		hits_free(&hs);
	}
}

/* --- the engine ------------------------------------------------------------------------- */
TEST(script_echo_and_markers_are_not_matched)
{
	const char *log = "2024-01-01T00:00:00.0000000Z ##[group]Run make check\n"
			  "2024-01-01T00:00:00.0000000Z \x1b[36;1mecho \"error: not yet\"\x1b[0m\n"
			  "2024-01-01T00:00:00.0000000Z shell: /usr/bin/bash -e {0}\n"
			  "2024-01-01T00:00:00.0000000Z ##[endgroup]\n"
			  "2024-01-01T00:00:00.0000000Z ##[command]/usr/bin/false error: x\n"
			  "2024-01-01T00:00:00.0000000Z \x1b[31merror: \x1b[0mreal failure\n";
	struct hits hs;
	scan_str(builtin(), log, &hs);
	CHECK_INT(hs.n, 1);
	if (hs.n) {
		CHECK_INT(hs.h[0].trigger, 6);
		CHECK_STR(hs.h[0].title, "error: real failure"); /* timestamp and colours gone */
	}
	hits_free(&hs);
}

TEST(extents_continue_until_back_max_and_keys)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	const char *rules = "rule tb\n category crash\n explain x\n match ^Trace\n"
			    " continue ^\\s\n until ^\\w+Error\n key end\n show tail\n max 6\n"
			    "rule verdict\n category test\n explain v\n match ^VERDICT\n back ^  out\n"
			    "rule note\n category test\n explain n\n match ^NOTE\n continue ^  \n"
			    " key ^  K\n";
	CHECK_OK(ruleset_add_text(rs, "t.conf", rules, strlen(rules), &err));
	struct hits hs;
	/* continue, then the until line belongs to it and is the key */
	scan_str(rs, "Trace\n  a\n  b\nKeyError: 1\nafter\n", &hs);
	CHECK_INT(hs.n, 1);
	CHECK(hs.n && hs.h[0].first == 1 && hs.h[0].last == 4);
	CHECK(hs.n && !strcmp(hs.h[0].keys[0], "KeyError: 1"));
	hits_free(&hs);
	/* max: a finding ends after 6 lines; blank lines at its end are dropped */
	scan_str(rs, "Trace\n  1\n  2\n  3\n  4\n  5\n  6\n  7\n", &hs);
	CHECK(hs.n >= 1 && hs.h[0].last == 6);
	hits_free(&hs);
	scan_str(rs, "Trace\n  1\n \n \nnext\n", &hs);
	CHECK(hs.n == 1 && hs.h[0].last == 2);
	hits_free(&hs);
	/* back takes the lines before the verdict, not those of an earlier finding */
	scan_str(rs, "x\n  out 1\n  out 2\nVERDICT\n", &hs);
	CHECK(hs.n == 1 && hs.h[0].first == 2 && hs.h[0].trigger == 4);
	hits_free(&hs);
	scan_str(rs, "Trace\n  out 1\nKeyError: 2\n  out 2\nVERDICT\n", &hs);
	CHECK_INT(hs.n, 2);
	CHECK(hs.n == 2 && hs.h[1].first == 4);
	hits_free(&hs);
	/* key patterns: the first two and the last two matching lines, in order */
	scan_str(rs, "NOTE\n  K1\n  K2\n  x\n  K3\n  K4\n  K5\n", &hs);
	CHECK(hs.n == 1 && hs.h[0].n_keys == 4);
	if (hs.n == 1) {
		CHECK_STR(hs.h[0].keys[0], "  K1");
		CHECK_STR(hs.h[0].keys[1], "  K2");
		CHECK_STR(hs.h[0].keys[2], "  K4");
		CHECK_STR(hs.h[0].keys[3], "  K5");
	}
	hits_free(&hs);
	ruleset_free(rs);
}

TEST(infrastructure_lines_refine_a_finding)
{
	struct hits hs;
	/* the toolchain rule keeps its extent, the category says what happened */
	scan_str(builtin(),
		 "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.7.0:"
		 "testCompile (default-testCompile) on project p: No space left on device\n"
		 "[ERROR] -> [Help 1]\n",
		 &hs);
	CHECK(hs.n >= 1);
	if (hs.n) {
		CHECK_STR(hs.h[0].rule, "maven-goal-compile");
		CHECK_STR(hs.h[0].category, "disk");
		CHECK_STR(hs.h[0].refined_by, "disk-full");
		CHECK_INT(hs.h[0].last, 2);
	}
	hits_free(&hs);
	scan_str(builtin(),
		 "Traceback (most recent call last):\n  File \"a.py\", line 3, in <module>\n"
		 "    urlopen(u)\nurllib.error.URLError: <urlopen error [Errno 111] Connection refused>\n",
		 &hs);
	CHECK(hs.n == 1 && !strcmp(hs.h[0].category, "network"));
	hits_free(&hs);
}

TEST(prefilter_literals_are_conservative)
{
	static const struct {
		const char *re;
		const char *lits; /* '|'-separated, "" for none */
	} t[] = {
		{"connection (?:reset|refused)", "connection "},
		{"^error\\[E\\d{4}\\]: ", "error[e"},
		{"x(?:abcd|efgh)y", "abcd|efgh"},
		{"(?:abc)?defg", "defg"},
		{"(?=abcdef)x", ""},
		{"[abc]defg", "defg"},
		{"(?x)abc def", ""},
		{"abcd?e", "abc"},
		{"(?i)Killed Process", "killed process"},
		{"a\\.b\\.c\\.d", "a.b.c.d"},
		{"foo|ba", ""},
		{"ab{0,3}cdef", "cdef"},
		{"(?<name>abcd)x", "abcd"},
		{"\\bECONN(?:RESET|REFUSED)\\b", "econn"},
		{"(?i)caf\xc3\xa9 ol\xc3\xa9", ""},
		{"caf\xc3\xa9?xyz", "caf"}, /* the optional é goes, "caf" stays */
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct ruleset *rs = ruleset_new();
		struct cs_err err;
		struct buf text = BUF_INIT;
		buf_addf(&text, "rule r\n category test\n explain x\n match %s\n", t[i].re);
		CHECK_OK(ruleset_add_text(rs, "t.conf", text.data, text.len, &err));
		const struct rule *r = ruleset_rule(rs, 0);
		const char *const *lits;
		int n = r ? rule_pat_literals(rule_match_pat(r, 0), &lits) : 0;
		struct buf got = BUF_INIT;
		for (int k = 0; k < n; k++) {
			if (k)
				buf_addc(&got, '|');
			buf_adds(&got, lits[k]);
		}
		if (strcmp(buf_cstr(&got), t[i].lits))
			t_fail(__FILE__, __LINE__, "'%s': literals '%s', expected '%s'", t[i].re,
			       buf_cstr(&got), t[i].lits);
		buf_release(&got);
		buf_release(&text);
		ruleset_free(rs);
	}
}

/* With and without the prefilter, the same findings, on every excerpt. */
TEST(prefilter_changes_no_finding)
{
	static const char *const files[] = {
		CLASSIFY "compile_error.txt", CLASSIFY "msvc_compiler_error.txt",
		CLASSIFY "pytest_failure.txt", CLASSIFY "cuda_oom_class.txt",
		CLASSIFY "docker_manifest_unknown.txt", CLASSIFY "lintrunner_general_failure.txt",
		JSTEMMER "001-pass-fail-skip.txt", JSTEMMER "013-syntax-error.txt",
		CIDIFF "breakages/astor_1260/fail.log", CIDIFF "breakages/cidiff_11/fail.log",
		CIDIFF "breakages_dump/Quick Checks_/run418/fail.log",
		"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt",
	};
	struct ruleset *rs = builtin();
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf b;
		read_fixture(files[i], &b, NULL);
		struct hits on, off;
		ruleset_use_prefilter(rs, true);
		scan_text(rs, b.data ? b.data : "", b.len, &on);
		ruleset_use_prefilter(rs, false);
		scan_text(rs, b.data ? b.data : "", b.len, &off);
		ruleset_use_prefilter(rs, true);
		CHECK(on.n > 0);
		if (on.n != off.n) {
			t_fail(__FILE__, __LINE__, "%s: %d findings with the prefilter, %d without",
			       files[i], on.n, off.n);
		} else {
			for (int k = 0; k < on.n; k++)
				if (strcmp(on.h[k].rule, off.h[k].rule) || on.h[k].first != off.h[k].first ||
				    on.h[k].last != off.h[k].last ||
				    strcmp(on.h[k].category, off.h[k].category))
					t_fail(__FILE__, __LINE__, "%s: finding %d differs (%s/%s)",
					       files[i], k, on.h[k].rule, off.h[k].rule);
		}
		hits_free(&on);
		hits_free(&off);
		buf_release(&b);
	}
}

static bool same_hits(const struct hits *a, const struct hits *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->h, b->h, sizeof(*a->h) * (size_t)a->n));
}

struct scan_job {
	const struct ruleset *rs;
	const struct buf *text;
	pthread_barrier_t *go;
	struct hits out;
};

static void *scan_thread(void *arg)
{
	struct scan_job *j = arg;
	pthread_barrier_wait(j->go);
	scan_text(j->rs, j->text->data, j->text->len, &j->out);
	return NULL;
}

/* The import's read-ahead thread and the log writer's worker scan with
 * triage's one ruleset at once: two scanners of one ruleset on two threads
 * find what one finds alone. With the interpreter (no JIT), which keeps its
 * backtracking frames in the match data, and every pattern tried on every
 * line (no prefilter), scanners sharing one would overwrite each other's
 * and find otherwise; then as imports match. */
TEST(scanners_of_one_ruleset_on_two_threads)
{
	static const char *const files[] = {
		CLASSIFY "compile_error.txt", CLASSIFY "pytest_failure.txt",
		CLASSIFY "cuda_oom_class.txt", JSTEMMER "001-pass-fail-skip.txt",
		JSTEMMER "013-syntax-error.txt", CIDIFF "breakages/astor_1260/fail.log",
		CIDIFF "breakages/cidiff_11/fail.log",
		"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt",
	};
	struct buf text = BUF_INIT;
	for (int rep = 0; rep < 4; rep++)
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			struct buf b;
			read_fixture(files[i], &b, NULL);
			buf_add(&text, b.data ? b.data : "", b.len);
			buf_release(&b);
		}
	struct cs_err err;
	struct ruleset *rs = ruleset_builtin(&err);
	CHECK(rs != NULL);
	if (!rs) {
		buf_release(&text);
		return;
	}
	for (int jit = 0; jit < 2; jit++) {
		ruleset_use_jit(rs, jit);
		ruleset_use_prefilter(rs, jit);
		struct hits alone;
		scan_text(rs, text.data, text.len, &alone);
		CHECK(alone.n > 20);
		for (int round = 0; round < (jit ? 1 : 3); round++) {
			pthread_barrier_t go;
			pthread_barrier_init(&go, NULL, 2);
			struct scan_job j[2] = {{rs, &text, &go, {0}}, {rs, &text, &go, {0}}};
			pthread_t th[2];
			for (int t = 0; t < 2; t++)
				CHECK_INT(pthread_create(&th[t], NULL, scan_thread, &j[t]), 0);
			for (int t = 0; t < 2; t++) {
				pthread_join(th[t], NULL);
				if (!same_hits(&alone, &j[t].out))
					t_fail(__FILE__, __LINE__,
					       "jit %d round %d thread %d: %d findings, %d alone",
					       jit, round, t, j[t].out.n, alone.n);
				hits_free(&j[t].out);
			}
			pthread_barrier_destroy(&go);
		}
		hits_free(&alone);
	}
	ruleset_free(rs);
	buf_release(&text);
}

/* The prefilter's DFA knows a literal by its first bytes only, and reads a
 * long line as two halves side by side: a literal at any place of a line of
 * any length is still found, one that is only begun is not a finding. */
TEST(prefilter_finds_literals_across_the_split)
{
	static const char lit[] = "abcdefghijklmnopqrstuvwxyz0123456789"; /* 36 bytes */
	const size_t ln = sizeof(lit) - 1;
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	const char *rules = "rule long\n category test\n explain x\n match abcdefghijklmnopqrstuvwxyz0123456789\n"
			    "rule short\n category test\n explain y\n match (?i)Zq9\n";
	CHECK_OK(ruleset_add_text(rs, "t.conf", rules, strlen(rules), &err));
	struct buf b = BUF_INIT;
	int want_long = 0, want_short = 0;
	for (size_t len = 1; len <= 160; len++) {
		for (size_t p = 0; p + ln <= len; p++) {
			for (size_t k = 0; k < len; k++)
				buf_addc(&b, k >= p && k < p + ln ? lit[k - p] : '.');
			buf_addc(&b, '\n');
			want_long++;
			/* only the literal's first 20 bytes: tried, no finding */
			for (size_t k = 0; k < len; k++)
				buf_addc(&b, k >= p && k < p + 20 ? lit[k - p] : '.');
			buf_addc(&b, '\n');
		}
		for (size_t p = 0; p + 3 <= len; p += 7) {
			for (size_t k = 0; k < len; k++)
				buf_addc(&b, k >= p && k < p + 3 ? "zQ9"[k - p] : '-');
			buf_addc(&b, '\n');
			want_short++;
		}
	}
	struct hits on, off;
	scan_text(rs, b.data, b.len, &on);
	ruleset_use_prefilter(rs, false);
	scan_text(rs, b.data, b.len, &off);
	CHECK_INT(on.n, want_long + want_short);
	CHECK_INT(off.n, want_long + want_short);
	int n_long = 0, n_differ = 0;
	for (int k = 0; k < on.n && k < off.n; k++) {
		n_differ += strcmp(on.h[k].rule, off.h[k].rule) || on.h[k].first != off.h[k].first;
		n_long += !strcmp(on.h[k].rule, "long");
	}
	CHECK_INT(n_differ, 0);
	CHECK_INT(n_long, want_long);
	hits_free(&on);
	hits_free(&off);
	buf_release(&b);
	ruleset_free(rs);
}

/* A DFA state can have outputs only through its failure state: "abcd",
 * on the way to "abcde", holds "bcd". The scan tells the states with
 * outputs by their number, so those must be all found. */
TEST(prefilter_outputs_through_failure_links)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	const char *rules = "rule long\n category test\n explain x\n match abcde\n"
			    "rule inner\n category test\n explain y\n match bcd\n"
			    "rule end\n category test\n explain z\n match (?i)CDE$\n";
	CHECK_OK(ruleset_add_text(rs, "t.conf", rules, strlen(rules), &err));
	static const char text[] = "xxabcdxx\nabcde\nABCD\nbcd\nab\nabcd\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzabcd\n"
				   "abcdecde\nqqcde\n\xff\x00" "bcd\n";
	struct hits on, off;
	scan_text(rs, text, sizeof(text) - 1, &on);
	ruleset_use_prefilter(rs, false);
	scan_text(rs, text, sizeof(text) - 1, &off);
	static const char *const want[] = {"inner", "long", "inner", "inner",
					   "inner", "long", "end", "inner"};
	CHECK_INT(on.n, (int)ARRAY_SIZE(want));
	CHECK_INT(off.n, on.n);
	for (int k = 0; k < on.n && k < off.n; k++)
		CHECK(!strcmp(on.h[k].rule, off.h[k].rule) && on.h[k].first == off.h[k].first);
	for (int k = 0; k < on.n && k < (int)ARRAY_SIZE(want); k++)
		CHECK_STR(on.h[k].rule, want[k]);
	hits_free(&on);
	hits_free(&off);
	ruleset_free(rs);
}

/* rule_pat_match() rejects some lines before PCRE2 sees them (a line too
 * short, an anchored pattern's first byte): never one PCRE2 would match.
 * Every pattern of the built-in rules and some written for the checks, on
 * the lines of real logs and hostile ones, against pcre2_match() itself. */
static void quick_checks_agree(const struct rule *r, const char *const *lines, const size_t *lens,
			       int n_lines, int *n_tried)
{
	for (int i = 0; i < r->n_match; i++) {
		const struct rule_pat *p = rule_match_pat(r, i);
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)rule_pat_source(p), PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* as the rules are */
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		for (int k = 0; k < n_lines; k++) {
			bool want = pcre2_match(re, (PCRE2_SPTR)lines[k], lens[k], 0, 0, md, NULL) >= 0;
			if (rule_pat_match(p, lines[k], lens[k]) != want)
				t_fail(__FILE__, __LINE__, "'%s' on line %d (%zu bytes): %s",
				       rule_pat_source(p), k, lens[k], want ? "missed" : "a false match");
			(*n_tried)++;
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
}

TEST(quick_checks_change_no_match)
{
	static const char own[] =
		"rule a\n category test\n explain x\n"
		" match (?i)^kelvin\n match ^\\s*FAIL\\b\n match \\Aabc\n match ^(?:a|b)c\n"
		" match ^\xc3\xa9t\xc3\xa9\n match (?i)^\xc3\xa9t\xc3\xa9\n match ^$\n match ^\n"
		" match (?s).*x\n match ^.{3}$\n match (?i)^s\n match ^[^:]+:\\d+\n"
		" match ^(?:##\\[error\\])?x\n match (?i)^(?:\xe2\x9c\x96 |ok)\n match ^\\x00z\n"
		" match ^(?=a)\n match (?m)^b\n match ^a|^B|^\\d\n match (?i)^[a-c]\n";
	static const char *const hostile[] = {
		"", "a", "ab", "abc", "ABC", "x", "\n", "kelvin", "KELVIN", "\xe2\x84\xaa" "elvin",
		"\xc5\xbf", "S", "s", "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89", "\xff\xfe", "\xc3",
		"\xc3(", "  FAIL x", "\tFAIL", "FAIL", "FAILED x", "fail", "bc", "Bc", "cc",
		"a.c:1:2: warning: x", "##[error]x", "x##[error]", "\xe2\x9c\x96 2 problems", "OK",
		"b", "B", "7", "\x80" "abc", "z", "\x00z", "x\nb", "C", "d",
	};
	const char *lines[4096];
	size_t lens[4096];
	int n_lines = 0;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		lines[n_lines] = hostile[i];
		lens[n_lines++] = strlen(hostile[i]);
	}
	lines[n_lines] = "\0z"; /* a NUL byte first */
	lens[n_lines++] = 2;
	lines[n_lines] = "a\0b";
	lens[n_lines++] = 3;
	static const char *const files[] = {
		CIDIFF "breakages/astor_1260/fail.log", CLASSIFY "compile_error.txt",
		CLASSIFY "pytest_failure.txt", JSTEMMER "001-pass-fail-skip.txt",
		"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt",
	};
	struct buf fx[ARRAY_SIZE(files)];
	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		read_fixture(files[f], &fx[f], NULL);
		for (const char *s = fx[f].data, *end = s + fx[f].len; s < end && n_lines < 4000;) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *le = nl ? nl : end;
			lines[n_lines] = s;
			lens[n_lines++] = (size_t)(le - s);
			s = nl ? nl + 1 : end;
		}
	}
	struct ruleset *own_rs = ruleset_new();
	struct cs_err err;
	CHECK_OK(ruleset_add_text(own_rs, "own.conf", own, strlen(own), &err));
	int n_tried = 0;
	const struct ruleset *sets[] = {builtin(), own_rs};
	for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
		for (int i = 0; i < ruleset_count(sets[k]); i++) {
			quick_checks_agree(ruleset_rule(sets[k], i), lines, lens, n_lines, &n_tried);
		}
	}
	CHECK(n_tried > 50000);
	ruleset_free(own_rs);
	for (size_t f = 0; f < ARRAY_SIZE(files); f++)
		buf_release(&fx[f]);
}

/* --- hostile lines ------------------------------------------------------------------------ */
TEST(hostile_lines)
{
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	/* a pattern that backtracks without end gives up on the line */
	const char *rules = "rule slow\n category test\n explain x\n match ^(a+)+$\n";
	CHECK_OK(ruleset_add_text(rs, "t.conf", rules, strlen(rules), &err));
	struct buf b = BUF_INIT;
	for (int i = 0; i < 4000; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "b\naaa\n");
	struct hits hs;
	scan_text(rs, b.data, b.len, &hs);
	CHECK_INT(hs.n, 1); /* only "aaa" */
	hits_free(&hs);
	ruleset_free(rs);
	/* a 10 MB line: the rules see its head, the scanner keeps nothing of it */
	buf_reset(&b);
	buf_adds(&b, "error: ");
	for (int i = 0; i < (10 << 20); i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\n\x1b]0;title\x07\x1b[2J\x1bP1;2q\x1b\\error: after escapes\n\xff\xfe\x00 error: x\n");
	scan_text(builtin(), b.data, b.len, &hs);
	CHECK_INT(hs.n, 2);
	if (hs.n == 2) {
		CHECK(strlen(hs.h[0].title) < RSCAN_KEY_MAX);
		CHECK_STR(hs.h[1].title, "error: after escapes");
	}
	hits_free(&hs);
	buf_release(&b);
}

/* A '{' that starts like a quantifier but is none ("_{3,$}": PCRE2 reads it
 * as literal text) once sent the prefilter's literal reader round forever
 * (tests/fuzz/f_rules found it). The alarm turns a hang into a failure. */
TEST(brace_that_is_no_quantifier)
{
	alarm(20);
	static const char text[] = "rule brace\n\tcategory test\n\texplain  e\n"
				   "\tmatch    ^_{3,} x _{3,$}\n"
				   "rule brace2\n\tcategory test\n\texplain  e\n"
				   "\tmatch    a{,b{1,x}c{2\n";
	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(ruleset_add_text(rs, "brace.conf", text, strlen(text), &err));
	CHECK_INT(ruleset_count(rs), 2);
	/* braces that open no quantifier are literal text for PCRE2 too */
	const struct rule *r = ruleset_count(rs) > 1 ? ruleset_rule(rs, 1) : NULL;
	CHECK(r != NULL);
	if (r) {
		static const char hit[] = "xx a{,b{1,x}c{2 yy";
		CHECK_STR(r->id, "brace2");
		const struct rule_pat *p = rule_match_pat(r, 0);
		CHECK(rule_pat_match(p, hit, strlen(hit)));
		CHECK(!rule_pat_match(p, "a{,b{1,x}c", 10));
		/* the literals read from it must be in every match */
		const char *const *lits;
		int n = rule_pat_literals(p, &lits);
		for (int i = 0; i < n; i++)
			CHECK(strstr(hit, lits[i]) != NULL);
	}
	ruleset_free(rs);
	alarm(0);
}
