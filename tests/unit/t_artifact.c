/* t_artifact.c - JUnit and metrics parsers: real reports from pytest, jest,
 * Surefire (flaky reruns), nextest, go-junit-report, TestNG (Apache Pulsar),
 * nested suites; hand-written CSV/TSV/JSONL/JSON samples; hostile input.
 * Expected counts and names of the real reports were taken independently
 * from the XML (python ElementTree, grep), not from this parser. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/artifact.h"
#include "core/util.h"
#include "test.h"

/* --- helpers ------------------------------------------------------------------ */

struct tcase {
	char *suite, *classname, *name, *file, *message, *details;
	long line;
	int64_t duration_ms;
	enum test_outcome outcome;
	int reruns;
};

struct cases {
	struct tcase *v;
	size_t n, alloc;
	int stop_after; /* >0: callback fails on that case */
	int by_outcome[5];
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int collect_case(void *ctx, const struct test_case *tc)
{
	struct cases *c = ctx;
	XGROW(c->v, c->alloc, c->n + 1);
	struct tcase *t = &c->v[c->n++];
	t->suite = dup_or_null(tc->suite);
	t->classname = dup_or_null(tc->classname);
	t->name = xstrdup(tc->name);
	t->file = dup_or_null(tc->file);
	t->message = dup_or_null(tc->message);
	t->details = dup_or_null(tc->details);
	t->line = tc->line;
	t->duration_ms = tc->duration_ms;
	t->outcome = tc->outcome;
	t->reruns = tc->reruns;
	c->by_outcome[tc->outcome]++;
	if (c->stop_after && (int)c->n == c->stop_after)
		return -1;
	return 0;
}

static void cases_free(struct cases *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct tcase *t = &c->v[i];
		free(t->suite), free(t->classname), free(t->name);
		free(t->file), free(t->message), free(t->details);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static const struct tcase *find_case(const struct cases *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

static const struct tcase *find_case_as(const struct cases *c, const char *name,
					enum test_outcome o)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0 && c->v[i].outcome == o)
			return &c->v[i];
	return NULL;
}

/* str_starts/str_ends that accept NULL (a missing field is a failed check) */
static bool starts(const char *s, const char *prefix)
{
	return s && str_starts(s, prefix);
}

static bool ends(const char *s, const char *suffix)
{
	return s && str_ends(s, suffix);
}

static long parse_fixture(const char *rel, struct cases *c, struct cs_err *err)
{
	struct buf b = BUF_INIT;
	if (file_read_all(t_fixture(rel), 64u << 20, &b, err) < 0) {
		t_fail(__FILE__, __LINE__, "cannot read fixture %s: %s", rel, err->msg);
		return -2;
	}
	long n = junit_parse(b.data, b.len, collect_case, c, err);
	buf_release(&b);
	return n;
}

static long parse_str(const char *xml, struct cases *c, struct cs_err *err)
{
	return junit_parse(xml, strlen(xml), collect_case, c, err);
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define CHECK_NULL(p) CHECK((p) == NULL)

/* metrics */
struct point {
	char *name, *x_name;
	long idx;
	double x, value;
	bool missing;
};

struct points {
	struct point *v;
	size_t n, alloc;
};

static int collect_point(void *ctx, const struct metric_point *p)
{
	struct points *ps = ctx;
	XGROW(ps->v, ps->alloc, ps->n + 1);
	ps->v[ps->n++] = (struct point){xstrdup(p->name), dup_or_null(p->x_name), p->idx, p->x,
					p->value, p->missing};
	return 0;
}

static int refuse_point(void *ctx, const struct metric_point *p)
{
	int *seen = ctx;
	return ++*seen >= 3 ? 1 : 0;
}

static void points_free(struct points *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].name), free(ps->v[i].x_name);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

static const struct point *find_point(const struct points *ps, const char *name, long idx)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0 && ps->v[i].idx == idx)
			return &ps->v[i];
	return NULL;
}

static size_t count_named(const struct points *ps, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < ps->n; i++)
		k += strcmp(ps->v[i].name, name) == 0;
	return k;
}

static long met(const char *name, const char *s, enum metrics_format fmt, struct points *ps,
		struct cs_err *err)
{
	return metrics_parse(name, s, strlen(s), fmt, collect_point, ps, err);
}

#define CHECK_DBL(a, b) CHECK(fabs((double)(a) - (double)(b)) < 1e-12)

/* --- sniff ------------------------------------------------------------------------- */

TEST(sniff_by_name_and_head)
{
	const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"x\">";
	CHECK_INT(artifact_sniff("report.xml", decl, strlen(decl)), ART_JUNIT);
	const char *bom = "\xef\xbb\xbf<!-- generated --><?pi x?>\r\n <testsuite>";
	CHECK_INT(artifact_sniff("dir/TEST-x.XML", bom, strlen(bom)), ART_JUNIT);
	const char *pom = "<?xml version=\"1.0\"?><project><testsuite/></project>";
	CHECK_INT(artifact_sniff("pom.xml", pom, strlen(pom)), ART_OTHER);
	const char *prefix = "<testsuitesX>";
	CHECK_INT(artifact_sniff("a.xml", prefix, strlen(prefix)), ART_OTHER);
	const char *dtd = "<!DOCTYPE testsuites [<!ENTITY a \"b\">]><testsuites/>";
	CHECK_INT(artifact_sniff("a.xml", dtd, strlen(dtd)), ART_JUNIT); /* parse refuses it */
	CHECK_INT(artifact_sniff("a.xml", "<testsu", 7), ART_OTHER);      /* cut head */
	CHECK_INT(artifact_sniff("a.xml", "", 0), ART_OTHER);
	/* UTF-16LE with BOM: "<testsuite>" */
	const char u16[] = "\xff\xfe<\0t\0e\0s\0t\0s\0u\0i\0t\0e\0>\0";
	CHECK_INT(artifact_sniff("u.xml", u16, sizeof(u16) - 1), ART_JUNIT);
	CHECK_INT(artifact_sniff("a.txt", decl, strlen(decl)), ART_OTHER);

	CHECK_INT(artifact_sniff("parity.csv", "step,a\n0,1\n", 11), ART_METRICS);
	CHECK_INT(artifact_sniff("x/perf.TSV", "a\tb\n", 4), ART_METRICS);
	CHECK_INT(artifact_sniff("m.jsonl", "{\"a\":1}\n", 8), ART_METRICS);
	CHECK_INT(artifact_sniff("m.ndjson", "\n{\"a\":1}", 8), ART_METRICS);
	CHECK_INT(artifact_sniff("bench.json", " [1]", 4), ART_METRICS);
	CHECK_INT(artifact_sniff("bench.json", "\xef\xbb\xbf{}", 5), ART_METRICS);
	CHECK_INT(artifact_sniff("notes.json", "hello", 5), ART_OTHER);
	CHECK_INT(artifact_sniff("m.jsonl", "[1]", 3), ART_OTHER);
	CHECK_INT(artifact_sniff("log.txt", "step,a\n", 7), ART_OTHER);
	CHECK_INT(artifact_sniff(NULL, "x", 1), ART_OTHER);
	CHECK_STR(test_outcome_name(TEST_FLAKY), "flaky");
	CHECK_STR(test_outcome_name(TEST_ERROR), "error");
}

/* --- JUnit: real reports ------------------------------------------------------------- */

TEST(junit_pytest)
{
	struct cs_err err;
	struct cases c = {0};
	long n = parse_fixture("dorny-test-reporter/__tests__/fixtures/python-xunit-pytest.xml", &c, &err);
	CHECK_INT(n, 10);
	CHECK_INT(c.by_outcome[TEST_PASSED], 6);
	CHECK_INT(c.by_outcome[TEST_FAILED], 2);
	CHECK_INT(c.by_outcome[TEST_SKIPPED], 2);
	const struct tcase *t = find_case(&c, "test_always_fail");
	CHECK(t != NULL);
	if (t) {
		CHECK_INT(t->outcome, TEST_FAILED);
		CHECK_STR(t->suite, "pytest");
		CHECK_STR(t->classname, "tests.test_lib");
		CHECK_STR(t->message, "assert False");
		CHECK_STR(t->file, "tests/test_lib.py"); /* from "tests/test_lib.py:25: AssertionError" */
		CHECK_INT(t->line, 25);
		CHECK(starts(t->details, "def test_always_fail():"));
		CHECK(ends(t->details, "AssertionError"));
		CHECK_INT(t->duration_ms, 0);
	}
	t = find_case(&c, "test_error");
	CHECK(t && t->outcome == TEST_FAILED && t->line == 32);
	t = find_case(&c, "test_always_skip");
	CHECK(t && t->outcome == TEST_SKIPPED);
	if (t) {
		CHECK_STR(t->message, "skipped");
		CHECK_NULL(t->file); /* only failures are searched for a location */
	}
	t = find_case(&c, "test_with_subtests");
	CHECK(t && t->outcome == TEST_PASSED && t->duration_ms == 5 && !t->message && !t->details);
	t = find_case(&c, "test_with_record_xml_attribute");
	CHECK(t && t->classname && strcmp(t->classname, "custom_classname") == 0);
	cases_free(&c);
}

TEST(junit_jest)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("dorny-test-reporter/__tests__/fixtures/jest-junit.xml", &c, &err), 6);
	CHECK_INT(c.by_outcome[TEST_PASSED], 1);
	CHECK_INT(c.by_outcome[TEST_FAILED], 4);
	CHECK_INT(c.by_outcome[TEST_SKIPPED], 1);
	const struct tcase *t = find_case(&c, "Failing test");
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->suite, "__tests__\\main.test.js");
		CHECK_STR(t->classname, "Test 1 \xe2\x80\xba Test 1.1");
		CHECK_NULL(t->message);
		CHECK(starts(t->details, "Error: expect(received).toBeTruthy()"));
		CHECK_STR(t->file, "C:\\Users\\Michal\\Workspace\\dorny\\test-check\\reports\\jest\\__tests__\\main.test.js");
		CHECK_INT(t->line, 10);
		CHECK_INT(t->duration_ms, 2);
	}
	t = find_case(&c, "Exception in target unit"); /* first frame is library code */
	CHECK(t && contains(t->file, "\\lib\\main.js") && t->line == 2);
	t = find_case(&c, "Timeout test"); /* node_modules frames are skipped */
	CHECK(t && contains(t->file, "__tests__\\second.test.js") && t->line == 1);
	if (t)
		CHECK_NULL(t->classname); /* classname="" */
	cases_free(&c);
}

TEST(junit_surefire_flaky)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/maven_surefire_flaky/surefire-report.xml",
				&c, &err), 1);
	CHECK_INT(c.by_outcome[TEST_FLAKY], 1);
	const struct tcase *t = find_case(&c, "createWebhook");
	CHECK(t != NULL);
	if (t) {
		CHECK_INT(t->outcome, TEST_FLAKY);
		CHECK_INT(t->reruns, 1);
		CHECK_STR(t->message, "\nExpected: <false>\n     but: was <true>");
		CHECK(starts(t->details, "java.lang.AssertionError:"));
		CHECK(contains(t->details, "MicrosoftTeamsCrudTest.java:58"));
		CHECK(!contains(t->details, "Some error output here")); /* <system-err> is not the trace */
		CHECK_STR(t->file, "MicrosoftTeamsCrudTest.java");
		CHECK_INT(t->line, 58);
		CHECK_INT(t->duration_ms, 683);
		CHECK_STR(t->suite, "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest");
	}
	cases_free(&c);

	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/junit_flaky_failure/mixed_flaky_and_passed.xml",
				&c, &err), 3);
	CHECK_INT(c.by_outcome[TEST_FLAKY], 1);
	CHECK_INT(c.by_outcome[TEST_PASSED], 2);
	t = find_case(&c, "testFlaky");
	CHECK(t && t->outcome == TEST_FLAKY && t->reruns == 1 && !t->message);
	if (t)
		CHECK_STR(t->details, "java.lang.AssertionError: Flaky failure");
	t = find_case(&c, "testPassed");
	CHECK(t && t->outcome == TEST_PASSED && t->reruns == 0 && t->duration_ms == 2000);
	cases_free(&c);
}

TEST(junit_nextest)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/nextest/basic.xml", &c, &err), 3);
	CHECK_INT(c.by_outcome[TEST_FAILED], 1);
	CHECK_INT(c.by_outcome[TEST_PASSED], 2);
	const struct tcase *t = find_case(&c, "test_failure");
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->suite, "oxidized_navigation::parry3d");
		CHECK_STR(t->file, "tests/parry3d.rs");
		CHECK_INT(t->line, 154);
		CHECK_INT(t->duration_ms, 774);
		CHECK(starts(t->details, "thread 'test_failure' panicked at tests/parry3d.rs:154:5:"));
		CHECK(!contains(t->details, "running 1 test")); /* system-out of the case */
	}
	cases_free(&c);
}

TEST(junit_go)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("jstemmer-go-junit-report/testdata/001-report.xml", &c, &err), 5);
	CHECK_INT(c.by_outcome[TEST_PASSED], 2);
	CHECK_INT(c.by_outcome[TEST_FAILED], 1);
	CHECK_INT(c.by_outcome[TEST_SKIPPED], 2);
	const struct tcase *t = find_case(&c, "TestOne");
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->suite, "package/fail");
		CHECK_STR(t->classname, "package/fail");
		CHECK_STR(t->message, "Failed");
		CHECK_STR(t->file, "fail_test.go");
		CHECK_INT(t->line, 6);
		CHECK_INT(t->duration_ms, 151);
		CHECK(starts(t->details, "    fail_test.go:6: Error message")); /* indentation kept */
	}
	t = find_case(&c, "TestSkipNow");
	CHECK(t && t->outcome == TEST_SKIPPED && t->duration_ms == 130);
	t = find_case(&c, "TestPassLog"); /* system-out of a passing case is not details */
	CHECK(t && t->outcome == TEST_PASSED && !t->details);
	cases_free(&c);

	CHECK_INT(parse_fixture("jstemmer-go-junit-report/testdata/012-report.xml", &c, &err), 11);
	CHECK_INT(c.by_outcome[TEST_FAILED], 4);
	CHECK_INT(c.by_outcome[TEST_PASSED], 6);
	CHECK_INT(c.by_outcome[TEST_SKIPPED], 1);
	t = find_case(&c, "TestSubtests/Subtest#01");
	CHECK(t && t->outcome == TEST_FAILED && t->line == 10);
	if (t)
		CHECK_STR(t->file, "subtests_test.go");
	t = find_case(&c, "TestSubtests"); /* <failure message="Failed"></failure> */
	CHECK(t && t->outcome == TEST_FAILED && !t->file && t->line == 0 && !t->details);
	cases_free(&c);
}

TEST(junit_nested_suites)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/nested/junit.xml", &c, &err), 5);
	CHECK_INT(c.by_outcome[TEST_FAILED], 3);
	CHECK_INT(c.by_outcome[TEST_PASSED], 2);
	/* document order; each case names its innermost suite */
	static const char *const suites[] = {"TestA", "TestA", "TestB", "TestB", "packet"};
	static const char *const names[] = {"A", "B", "A", "B", "A"};
	static const enum test_outcome outs[] = {TEST_FAILED, TEST_PASSED, TEST_PASSED, TEST_FAILED,
						  TEST_FAILED};
	for (size_t i = 0; i < c.n && i < 5; i++) {
		CHECK_STR(c.v[i].suite, suites[i]);
		CHECK_STR(c.v[i].name, names[i]);
		CHECK_INT(c.v[i].outcome, outs[i]);
		CHECK_NULL(c.v[i].classname);
	}
	if (c.n == 5) {
		CHECK_STR(c.v[4].message, "failure");
		CHECK_INT(c.v[4].duration_ms, 50000);
	}
	cases_free(&c);
}

TEST(junit_surefire_errors_and_java_frames)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/tests/email/target/surefire-reports/"
				"TEST-action.surefire.report.email.EmailAddressTest.xml", &c, &err), 9);
	CHECK_INT(c.by_outcome[TEST_ERROR], 5);
	CHECK_INT(c.by_outcome[TEST_FAILED], 2);
	CHECK_INT(c.by_outcome[TEST_PASSED], 2);
	const struct tcase *t = find_case(&c, "shouldBeStricterThanRfc2822");
	CHECK(t && t->outcome == TEST_FAILED);
	if (t) {
		/* the first frame of the test's own class */
		CHECK_STR(t->file, "EmailAddressTest.java");
		CHECK_INT(t->line, 75);
		CHECK_STR(t->message, "Address aba@bab.com should have thrown InvalidEmailAddressException");
	}
	t = find_case(&c, "shouldBeStricterThanRfc2821");
	CHECK(t && t->outcome == TEST_ERROR && t->line == 74);
	if (t)
		CHECK_STR(t->message, "Invalid email address \xf0\x9f\x98\x8b 'Abc\\@def@example.com'");
	t = find_case(&c, "shouldNotContainInternationalizedHostNames");
	CHECK(t && contains(t->message, "user@\xc3\xb1\x61nd\xc3\xba.com.ar"));
	cases_free(&c);

	CHECK_INT(parse_fixture("dorny-test-reporter/__tests__/fixtures/external/java/pulsar-test-report.xml",
				&c, &err), 808);
	CHECK_INT(c.by_outcome[TEST_PASSED], 793);
	CHECK_INT(c.by_outcome[TEST_FAILED], 1);
	CHECK_INT(c.by_outcome[TEST_SKIPPED], 14);
	t = find_case_as(&c, "testVersionStrings", TEST_FAILED); /* it also passed once */
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->suite, "org.apache.pulsar.AddMissingPatchVersionTest");
		CHECK_STR(t->message, "expected [1.2.1] but found [1.2.0]");
		CHECK_STR(t->file, "AddMissingPatchVersionTest.java");
		CHECK_INT(t->line, 29);
		CHECK_INT(t->duration_ms, 17);
		CHECK(starts(t->details, "      java.lang.AssertionError: expected [1.2.1]"));
	}
	cases_free(&c);
}

TEST(junit_multiple_failures)
{
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/multiple_failures/test_multiple_failures.xml",
				&c, &err), 4);
	const struct tcase *t = find_case(&c, "testWithMultipleFailures");
	CHECK(t && t->outcome == TEST_FAILED);
	if (t) {
		CHECK_STR(t->message, "First assertion failed");
		CHECK(contains(t->details, "First failure stack trace details"));
		CHECK(contains(t->details, "Third failure stack trace details"));
		CHECK_STR(t->file, "MultipleFailuresTest.java");
		CHECK_INT(t->line, 15);
	}
	t = find_case(&c, "testSkipped");
	CHECK(t && t->outcome == TEST_SKIPPED);
	if (t)
		CHECK_STR(t->message, "Test was skipped");
	cases_free(&c);
}

/* --- JUnit: dialect details written by hand ------------------------------------------ */

TEST(junit_rerun_elements)
{
	/* Surefire rerunFailingTestsCount and cargo-nextest retries (quick-junit
	 * writes the same element names, with <stackTrace> inside). */
	const char *xml =
		"<?xml version=\"1.0\"?>\n"
		"<testsuites name=\"nextest-run\">\n"
		" <testsuite name=\"crate::mod\">\n"
		"  <testcase name=\"retried_then_failed\" classname=\"C\" time=\"1,234.5\">\n"
		"   <failure message=\"final\" type=\"test failure\">final text</failure>\n"
		"   <rerunFailure message=\"again\" type=\"test failure\"><stackTrace>rerun trace</stackTrace></rerunFailure>\n"
		"   <rerunError message=\"again2\"><stackTrace>t2</stackTrace></rerunError>\n"
		"  </testcase>\n"
		"  <testcase name=\"flaky_nextest\" classname=\"C\" time=\"0.5\">\n"
		"   <flakyFailure type=\"test failure\" timestamp=\"2024-12-02T20:06:10Z\" time=\"0.1\">\n"
		"    <stackTrace>thread 'flaky_nextest' panicked at src/lib.rs:10:5:\nboom</stackTrace>\n"
		"    <system-out>noise.rs:99: not this</system-out>\n"
		"    <system-err>more noise</system-err>\n"
		"   </flakyFailure>\n"
		"   <flakyFailure type=\"test failure\"><stackTrace>second attempt</stackTrace></flakyFailure>\n"
		"  </testcase>\n"
		"  <testcase name=\"rerun_then_passed\" classname=\"C\" file=\"src/a.rs\" line=\"7\">\n"
		"   <rerunFailure message=\"m\">x</rerunFailure>\n"
		"  </testcase>\n"
		"  <testcase name=\"flaky_error\"><flakyError message=\"boom\"/></testcase>\n"
		"  <testcase name=\"skipped_wins_over_flaky\"><flakyFailure/><skipped/></testcase>\n"
		"  <testcase name=\"error_first\"><error message=\"e\"/><failure message=\"f\"/></testcase>\n"
		" </testsuite>\n"
		"</testsuites>\n";
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_str(xml, &c, &err), 6);
	const struct tcase *t = find_case(&c, "retried_then_failed");
	CHECK(t && t->outcome == TEST_FAILED && t->reruns == 2);
	if (t) {
		CHECK_STR(t->message, "final");
		CHECK_STR(t->details, "final text");
		CHECK_INT(t->duration_ms, 1234500);
		CHECK_STR(t->suite, "crate::mod");
	}
	t = find_case(&c, "flaky_nextest");
	CHECK(t && t->outcome == TEST_FLAKY && t->reruns == 2);
	if (t) {
		CHECK_STR(t->details, "thread 'flaky_nextest' panicked at src/lib.rs:10:5:\nboom");
		CHECK_STR(t->file, "src/lib.rs");
		CHECK_INT(t->line, 10);
		CHECK_INT(t->duration_ms, 500);
	}
	t = find_case(&c, "rerun_then_passed");
	CHECK(t && t->outcome == TEST_FLAKY && t->reruns == 1);
	if (t) {
		CHECK_STR(t->file, "src/a.rs");
		CHECK_INT(t->line, 7);
		CHECK_STR(t->message, "m");
		CHECK_INT(t->duration_ms, -1);
	}
	t = find_case(&c, "flaky_error");
	CHECK(t && t->outcome == TEST_FLAKY && t->reruns == 1);
	if (t) {
		CHECK_STR(t->message, "boom");
		CHECK_NULL(t->classname);
	}
	t = find_case(&c, "skipped_wins_over_flaky");
	CHECK(t && t->outcome == TEST_SKIPPED);
	t = find_case(&c, "error_first");
	CHECK(t && t->outcome == TEST_ERROR);
	if (t)
		CHECK_STR(t->message, "e");
	cases_free(&c);
}

TEST(junit_attributes_and_time)
{
	const char *xml =
		"<testsuite name=\"s\">"
		"<testcase name=\"a\" time=\"0.0015\"/>"
		"<testcase name=\"b\" time=\"  2.5 \"/>"
		"<testcase name=\"c\" time=\"abc\"/>"
		"<testcase name=\"d\" time=\"-1\"/>"
		"<testcase name=\"e\" time=\"1e300\"/>"
		"<testcase name=\"f\" time=\"nan\"/>"
		"<testcase time=\"1\" line=\"x12\" file=\"\"/>"
		"<testcase name=\"g\" line=\"42\"><failure>at Foo (src/foo.test.ts:12:5)</failure></testcase>"
		"<testsuite><testcase name=\"h\"/></testsuite>"
		"<testcase name=\"i\"/>"
		"</testsuite>";
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_str(xml, &c, &err), 10);
	if (c.n == 10) {
		CHECK_INT(c.v[0].duration_ms, 2);   /* rounded */
		CHECK_INT(c.v[1].duration_ms, 2500);
		CHECK_INT(c.v[2].duration_ms, -1);
		CHECK_INT(c.v[3].duration_ms, -1);
		CHECK_INT(c.v[4].duration_ms, -1);
		CHECK_INT(c.v[5].duration_ms, -1);
		CHECK_STR(c.v[6].name, "");        /* never NULL */
		CHECK_INT(c.v[6].line, 0);
		CHECK_NULL(c.v[6].file);
		CHECK_STR(c.v[7].file, "src/foo.test.ts");
		CHECK_INT(c.v[7].line, 42); /* the attribute wins over the text */
		CHECK_NULL(c.v[8].suite);   /* unnamed inner suite */
		CHECK_STR(c.v[9].suite, "s"); /* popped back to the outer one */
	}
	cases_free(&c);
}

static const struct tcase *loc_of(const char *text, struct cases *c)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<testsuite><testcase name=\"t\" classname=\"pkg.FooTest\"><failure><![CDATA[");
	buf_adds(&b, text);
	buf_adds(&b, "]]></failure></testcase></testsuite>");
	struct cs_err err;
	cases_free(c);
	long n = junit_parse(b.data, b.len, collect_case, c, &err);
	buf_release(&b);
	return n == 1 ? &c->v[0] : NULL;
}

TEST(junit_utf16)
{
	/* .NET tools write UTF-16; expat decodes it and reports UTF-8 */
	const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<testsuite name=\"u\">"
			    "<testcase name=\"t\"><failure message=\"m\">x_test.go:3: boom</failure>"
			    "</testcase></testsuite>";
	struct buf b = BUF_INIT;
	buf_add(&b, "\xff\xfe", 2);
	for (const char *p = ascii; *p; p++) {
		buf_addc(&b, *p);
		buf_addc(&b, '\0');
	}
	CHECK_INT(artifact_sniff("r.xml", b.data, b.len), ART_JUNIT);
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(junit_parse(b.data, b.len, collect_case, &c, &err), 1);
	if (c.n == 1) {
		CHECK_STR(c.v[0].suite, "u");
		CHECK_STR(c.v[0].details, "x_test.go:3: boom");
		CHECK_STR(c.v[0].file, "x_test.go");
		CHECK_INT(c.v[0].line, 3);
	}
	cases_free(&c);
	buf_release(&b);
}

TEST(junit_location_from_text)
{
	struct cases c = {0};
	const struct tcase *t;
	t = loc_of("def test_x():\n>  assert 1 == 2\nE  assert 1 == 2\n\npath/to/file.py:123: AssertionError", &c);
	CHECK(t && t->line == 123 && t->file && strcmp(t->file, "path/to/file.py") == 0);
	t = loc_of("Error: boom\n    at Foo (src/foo.test.ts:12:5)", &c);
	CHECK(t && t->line == 12 && t->file && strcmp(t->file, "src/foo.test.ts") == 0);
	t = loc_of("Error\n    at node_modules/x/y.js:1:2\n    at src/a.spec.js:7:3", &c);
	CHECK(t && t->line == 7 && t->file && strcmp(t->file, "src/a.spec.js") == 0);
	t = loc_of("    foo_test.go:42: want 1, got 2", &c);
	CHECK(t && t->line == 42 && t->file && strcmp(t->file, "foo_test.go") == 0);
	t = loc_of("./pkg/x.go:42:7: undefined: y", &c);
	CHECK(t && t->line == 42 && t->file && strcmp(t->file, "./pkg/x.go") == 0);
	t = loc_of("java.lang.AssertionError\n\tat org.junit.Assert.fail(Assert.java:88)\n"
		   "\tat pkg.FooTest.testBar(FooTest.java:31)", &c);
	CHECK(t && t->line == 31 && t->file && strcmp(t->file, "FooTest.java") == 0);
	/* not locations */
	static const char *const nots[] = {
		"at 10:48:36: timeout",
		"10:48:36: timeout",
		"http://example.com:80: refused",
		"v1.2:3: odd",
		"at new Promise (<anonymous>)",
		"\tat org.junit.Assert.fail(Assert.java:88)",
		"file.py:0: zero",
		"file.py:99999999999: too big",
		"(file.py:12)",
		"",
	};
	for (size_t i = 0; i < ARRAY_SIZE(nots); i++) {
		t = loc_of(nots[i], &c);
		CHECK(t != NULL);
		if (t && (t->file || t->line))
			t_fail(__FILE__, __LINE__, "'%s' gave %s:%ld", nots[i], t->file ? t->file : "-",
			       t->line);
	}
	cases_free(&c);
}

TEST(junit_caps_text_on_utf8_boundary)
{
	/* 100 KB of "é" (2 bytes) after one ASCII byte: a byte cap at 16384
	 * would split a character */
	struct buf b = BUF_INIT;
	struct buf big = BUF_INIT;
	buf_addc(&big, 'x');
	for (int i = 0; i < 50000; i++)
		buf_adds(&big, "\xc3\xa9");
	buf_adds(&b, "<testsuite><testcase name=\"t\"><failure message=\"");
	buf_add(&b, big.data, big.len);
	buf_adds(&b, "\">");
	buf_add(&b, big.data, big.len);
	buf_adds(&b, "</failure></testcase></testsuite>");
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(junit_parse(b.data, b.len, collect_case, &c, &err), 1);
	if (c.n == 1) {
		size_t ml = strlen(c.v[0].message), dl = strlen(c.v[0].details);
		CHECK(ml <= 16384 && ml >= 16380);
		CHECK(dl <= 16384 && dl >= 16380);
		CHECK(utf8_valid(c.v[0].message, ml));
		CHECK(utf8_valid(c.v[0].details, dl));
	}
	cases_free(&c);
	buf_release(&b);
	buf_release(&big);
}

TEST(junit_streams_across_chunks)
{
	/* > 1 MB so expat sees several chunks; a 10 MB failure text is capped */
	struct buf b = BUF_INIT;
	buf_adds(&b, "<?xml version=\"1.0\"?>\n<testsuites>\n<testsuite name=\"big\">\n");
	for (int i = 0; i < 30000; i++)
		buf_addf(&b, "<testcase classname=\"pkg.Class%d\" name=\"test_number_%d\" time=\"0.%03d\"/>\n",
			 i, i, i % 1000);
	buf_adds(&b, "<testcase name=\"huge\"><failure message=\"m\">");
	size_t at = b.len;
	buf_reserve(&b, 10u << 20);
	memset(b.data + at, 'a', 10u << 20);
	b.len += 10u << 20;
	b.data[b.len] = '\0';
	buf_adds(&b, "\nx.py:3: E</failure></testcase>\n</testsuite></testsuites>\n");
	CHECK(b.len > 3u << 20);
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(junit_parse(b.data, b.len, collect_case, &c, &err), 30001);
	CHECK_INT(c.by_outcome[TEST_PASSED], 30000);
	const struct tcase *t = find_case(&c, "test_number_29999");
	CHECK(t && t->duration_ms == 999 && t->classname && strcmp(t->classname, "pkg.Class29999") == 0);
	t = find_case(&c, "huge");
	CHECK(t && t->outcome == TEST_FAILED && strlen(t->details) == 16384 && !t->file);
	cases_free(&c);
	buf_release(&b);
}

/* --- JUnit: hostile -------------------------------------------------------------------- */

TEST(junit_refuses_dtds)
{
	const char *laughs =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		"]>\n"
		"<testsuites><testcase name=\"&lol9;\"/></testsuites>\n";
	struct cs_err err;
	struct cases c = {0};
	CHECK_INT(parse_str(laughs, &c, &err), -1);
	CHECK_INT(c.n, 0);
	CHECK(contains(err.msg, "DOCTYPE"));
	CHECK(contains(err.msg, "line 2"));
	CHECK_INT(err.code, CS_EINVAL);

	const char *xxe = "<!DOCTYPE t SYSTEM \"file:///etc/passwd\"><testsuites>&xxe;</testsuites>";
	CHECK_INT(parse_str(xxe, &c, &err), -1);
	CHECK(contains(err.msg, "DTD"));

	/* an undeclared entity is an error, not an empty string */
	CHECK_INT(parse_str("<testsuites><testcase name=\"&x;\"/></testsuites>", &c, &err), -1);
	CHECK(contains(err.msg, "line 1"));
	CHECK_INT(c.n, 0);
	cases_free(&c);
}

TEST(junit_truncated_and_garbage)
{
	struct cs_err err;
	struct cases c = {0};
	/* upstream's deliberately cut Surefire report: the case before the cut
	 * never completes, so nothing is reported */
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/corrupt-junit/e2e-tests/corrupt/"
				"target/sf-reports/TEST-test.CorruptTest.xml", &c, &err), -1);
	CHECK(contains(err.msg, "line 18"));
	CHECK(contains(err.msg, "invalid XML"));
	/* upstream's not-well-formed time="<<computed>>" */
	CHECK_INT(parse_fixture("mikepenz-action-junit-report/test_results/junit-web-test/expectedRetries.xml",
				&c, &err), -1);
	CHECK(contains(err.msg, "line 9"));
	cases_free(&c);

	CHECK_INT(parse_str("<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\">", &c, &err), -1);
	CHECK(contains(err.msg, "line 3"));
	CHECK_INT(parse_str("hello, world\n", &c, &err), -1);
	CHECK(contains(err.msg, "line 1"));
	CHECK_INT(parse_str("", &c, &err), -1);
	CHECK(contains(err.msg, "empty"));
	CHECK_INT(parse_str("\xef\xbb\xbf  \n", &c, &err), -1);
	CHECK(contains(err.msg, "empty"));
	CHECK_INT(parse_str("<html><body/></html>", &c, &err), -1);
	CHECK(contains(err.msg, "<html>"));
	CHECK_INT(parse_str("<testsuites><testcase name=\"a\"/></testsuites><x/>", &c, &err), -1);
	CHECK_INT(parse_str("<testsuites><testcase name=\"\xff\xfe\"/></testsuites>", &c, &err), -1);
	CHECK(contains(err.msg, "line 1"));
	CHECK_INT(parse_str("<testsuites><testcase name=\"&#1;\"/></testsuites>", &c, &err), -1);
	cases_free(&c);
	const char nul[] = "<testsuites><testcase name=\"a\0b\"/></testsuites>";
	CHECK_INT(junit_parse(nul, sizeof(nul) - 1, collect_case, &c, &err), -1);
	CHECK(c.n == 0);
	/* pieces of a good report at many cut points never crash */
	struct buf b = BUF_INIT;
	if (file_read_all(t_fixture("mikepenz-action-junit-report/test_results/nextest/basic.xml"), 1u << 20,
			  &b, &err) == 0) {
		for (size_t cut = 0; cut + 16 < b.len; cut += 7) {
			long r = junit_parse(b.data, cut, collect_case, &c, &err);
			CHECK(r == -1 && err.msg[0]);
		}
	}
	buf_release(&b);
	/* deep nesting of suites */
	struct buf deep = BUF_INIT;
	buf_adds(&deep, "<testsuites>");
	for (int i = 0; i < 300; i++)
		buf_adds(&deep, "<testsuite name=\"s\">");
	CHECK_INT(junit_parse(deep.data, deep.len, collect_case, &c, &err), -1);
	CHECK(contains(err.msg, "nested"));
	buf_release(&deep);
	cases_free(&c);
}

TEST(junit_callback_stops)
{
	struct cs_err err;
	struct cases c = {0};
	c.stop_after = 2;
	CHECK_INT(parse_fixture("jstemmer-go-junit-report/testdata/001-report.xml", &c, &err), -1);
	CHECK_INT(c.n, 2);
	CHECK(contains(err.msg, "callback"));
	cases_free(&c);
}

/* --- metrics: CSV / TSV ------------------------------------------------------------------ */

TEST(metrics_csv_parity)
{
	const char *csv =
		"step,pos_x_ref,pos_x_cand,energy_ref,energy_cand,note\r\n"
		"0,0.0,0.0,100.0,100.0,start\r\n"
		"10,1.5,1.5000001,99.5,99.5,\"quoted, with comma\"\r\n"
		"20,3.0,3.1,,98.75,\"multi\r\nline \"\"note\"\"\"\r\n"
		"30, 4.5 ,nan,97.0,-1e-3,x\r\n";
	struct cs_err err;
	struct points ps = {0};
	CHECK_INT(met("parity.csv", csv, MET_AUTO, &ps, &err), 16);
	CHECK_INT(count_named(&ps, "step"), 0); /* the x axis is not a series */
	CHECK_INT(count_named(&ps, "note"), 0); /* text column skipped */
	CHECK_INT(count_named(&ps, "energy_cand"), 4);
	const struct point *p = find_point(&ps, "pos_x_cand", 2);
	CHECK(p && !p->missing);
	if (p) {
		CHECK_DBL(p->value, 3.1);
		CHECK_DBL(p->x, 20);
		CHECK_STR(p->x_name, "step");
	}
	p = find_point(&ps, "energy_ref", 2);
	CHECK(p && p->missing);
	p = find_point(&ps, "pos_x_ref", 3);
	CHECK(p && !p->missing && p->value == 4.5 && p->x == 30);
	p = find_point(&ps, "pos_x_cand", 3);
	CHECK(p && p->missing);
	p = find_point(&ps, "energy_cand", 3);
	CHECK(p && p->value == -1e-3);
	/* row order: row by row, columns left to right */
	if (ps.n == 16) {
		CHECK_STR(ps.v[0].name, "pos_x_ref");
		CHECK_STR(ps.v[3].name, "energy_cand");
		CHECK_INT(ps.v[4].idx, 1);
	}
	points_free(&ps);
}

TEST(metrics_tsv_and_row_numbers)
{
	const char *tsv = "loss\tacc\tname\n0.9\t0.1\ta\n0.5\tNaN\tb\n\n0.25\t0.75\tc\n";
	struct cs_err err;
	struct points ps = {0};
	CHECK_INT(met("train.tsv", tsv, MET_AUTO, &ps, &err), 6);
	const struct point *p = find_point(&ps, "loss", 2); /* blank line is not a row */
	CHECK(p && p->value == 0.25 && p->x == 2 && p->x_name == NULL);
	p = find_point(&ps, "acc", 1);
	CHECK(p && p->missing);
	points_free(&ps);
	/* content sniffing without a known extension */
	CHECK_INT(met("out.txt", tsv, MET_AUTO, &ps, &err), 6);
	points_free(&ps);
	CHECK_INT(met(NULL, "a,b\n1,2\n", MET_AUTO, &ps, &err), 2);
	points_free(&ps);
}

TEST(metrics_csv_columns)
{
	const char *csv =
		"Frame,loss,loss,,hash,mixed,empty,big\n"
		"5,1,2,3,0x10,1,,1e999\n"
		"6,4,5,6,0x11,abc,,2\n";
	struct cs_err err;
	struct points ps = {0};
	CHECK_INT(met("a.csv", csv, MET_CSV, &ps, &err), 8);
	CHECK_INT(count_named(&ps, "loss"), 2);
	CHECK_INT(count_named(&ps, "loss#2"), 2); /* duplicate header name */
	CHECK_INT(count_named(&ps, "column4"), 2); /* empty header name */
	CHECK_INT(count_named(&ps, "hash"), 0);    /* hex is text */
	CHECK_INT(count_named(&ps, "mixed"), 0);
	CHECK_INT(count_named(&ps, "empty"), 0);   /* no number at all */
	CHECK_INT(count_named(&ps, "big"), 2);
	const struct point *p = find_point(&ps, "loss#2", 1);
	CHECK(p && p->value == 5 && p->x == 6);
	if (p)
		CHECK_STR(p->x_name, "Frame"); /* case-insensitive, reported as written */
	p = find_point(&ps, "big", 0);
	CHECK(p && p->missing); /* overflow: not a finite value */
	points_free(&ps);

	/* an x column with a hole is no axis: row numbers, and it is a series */
	CHECK_INT(met("a.csv", "step,v\n0,1\n,2\n5,3\n", MET_CSV, &ps, &err), 6);
	p = find_point(&ps, "v", 2);
	CHECK(p && p->x == 2 && p->x_name == NULL);
	p = find_point(&ps, "step", 1);
	CHECK(p && p->missing);
	points_free(&ps);

	/* only the first x-named column is the axis */
	CHECK_INT(met("a.csv", "iteration,index,v\n1,7,2\n", MET_CSV, &ps, &err), 2);
	p = find_point(&ps, "index", 0);
	CHECK(p && p->value == 7 && p->x == 1);
	points_free(&ps);

	/* header only: no rows, no error */
	CHECK_INT(met("a.csv", "a,b\r\n", MET_CSV, &ps, &err), 0);
	points_free(&ps);
}

TEST(metrics_csv_hostile)
{
	struct cs_err err;
	struct points ps = {0};
	/* shape errors name the line and come before any point is reported */
	CHECK_INT(met("a.csv", "a,b\n1,2\n3\n4,5\n", MET_CSV, &ps, &err), -1);
	CHECK(contains(err.msg, "line 3"));
	CHECK(contains(err.msg, "has 1 cell,"));
	CHECK_INT(ps.n, 0);
	CHECK_INT(met("a.csv", "a,b\n1,2\n\"x\ny\",2\n1,2,3\n", MET_CSV, &ps, &err), -1);
	CHECK(contains(err.msg, "line 5"));
	CHECK_INT(met("a.csv", "a,b\n1,\"2\n3,4\n", MET_CSV, &ps, &err), -1);
	CHECK(contains(err.msg, "unterminated"));
	CHECK(contains(err.msg, "line 2"));
	CHECK_INT(met("a.csv", "a,b\n\"1\"x,2\n", MET_CSV, &ps, &err), -1);
	CHECK(contains(err.msg, "line 2"));
	CHECK_INT(met("a.csv", "", MET_CSV, &ps, &err), -1);
	CHECK(contains(err.msg, "empty"));
	CHECK_INT(met("a.csv", "\n\n  \n", MET_CSV, &ps, &err), -1);
	CHECK_INT(ps.n, 0);

	/* NUL bytes: in a cell the column is text; in a name it is replaced */
	const char nul[] = "a\0b,c\n1\0,2\n3,4\n";
	CHECK_INT(metrics_parse("n.csv", nul, sizeof(nul) - 1, MET_CSV, collect_point, &ps, &err), 2);
	CHECK_INT(count_named(&ps, "c"), 2);
	points_free(&ps);
	const char nul2[] = "a\0b,c\n1,2\n";
	CHECK_INT(metrics_parse("n.csv", nul2, sizeof(nul2) - 1, MET_CSV, collect_point, &ps, &err), 2);
	CHECK_INT(count_named(&ps, "a\xef\xbf\xbd" "b"), 1);
	points_free(&ps);

	/* invalid UTF-8 and escape sequences in names */
	CHECK_INT(met("u.csv", "\xff\x1b[31mred,ok\n1,2\n", MET_CSV, &ps, &err), 2);
	if (ps.n == 2) {
		CHECK(utf8_valid(ps.v[0].name, strlen(ps.v[0].name)));
		CHECK(strchr(ps.v[0].name, '\x1b') == NULL);
		CHECK_STR(ps.v[0].name, "\xef\xbf\xbd\xef\xbf\xbd[31mred");
	}
	points_free(&ps);

	/* a 10 MB line: as a text cell it is skipped, as a name refused */
	size_t big = 10u << 20;
	struct buf b = BUF_INIT;
	buf_adds(&b, "v,blob\n1,");
	size_t at = b.len;
	buf_reserve(&b, big);
	memset(b.data + at, 'z', big);
	b.len += big;
	buf_adds(&b, "\n2,\"");
	at = b.len;
	buf_reserve(&b, big);
	memset(b.data + at, '9', big); /* 10 MB of digits: not a believable number */
	b.len += big;
	buf_adds(&b, "\"\n");
	CHECK_INT(metrics_parse("big.csv", b.data, b.len, MET_CSV, collect_point, &ps, &err), 2);
	CHECK_INT(count_named(&ps, "v"), 2);
	points_free(&ps);
	buf_reset(&b);
	buf_reserve(&b, big);
	memset(b.data, 'n', big);
	b.len = big;
	buf_adds(&b, "\n1\n");
	CHECK_INT(metrics_parse("big.csv", b.data, b.len, MET_CSV, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "longer than"));
	buf_release(&b);

	/* the callback can stop the parse */
	int seen = 0;
	CHECK_INT(metrics_parse("a.csv", "a,b\n1,2\n3,4\n", 12, MET_CSV, refuse_point, &seen, &err), -1);
	CHECK_INT(seen, 3);
	CHECK(contains(err.msg, "callback"));
	CHECK(contains(err.msg, "line 3"));
}

/* --- metrics: JSON ---------------------------------------------------------------------- */

TEST(metrics_jsonl)
{
	const char *jl =
		"{\"step\": 100, \"loss\": {\"train\": 0.5, \"val\": 0.7}, \"lr\": 1e-3, \"tag\": \"a\", \"ok\": true}\r\n"
		"\n"
		"{\"loss\": {\"train\": NaN, \"val\": null}, \"step\": 200, \"lr\": -Infinity}\n"
		"  {\"lr\": 2, \"hist\": [1, 2]}  \n";
	struct cs_err err;
	struct points ps = {0};
	CHECK_INT(met("train.jsonl", jl, MET_AUTO, &ps, &err), 9);
	CHECK_INT(count_named(&ps, "step"), 0);
	CHECK_INT(count_named(&ps, "tag"), 0); /* strings are not metrics */
	CHECK_INT(count_named(&ps, "ok"), 0);  /* booleans are not numbers */
	const struct point *p = find_point(&ps, "loss.val", 0);
	CHECK(p && p->value == 0.7 && p->x == 100 && p->x_name && strcmp(p->x_name, "step") == 0);
	p = find_point(&ps, "loss.train", 1);
	CHECK(p && p->missing && p->x == 200);
	p = find_point(&ps, "loss.val", 1);
	CHECK(p && p->missing);
	p = find_point(&ps, "lr", 1);
	CHECK(p && p->missing);
	p = find_point(&ps, "lr", 2); /* no step: the row number */
	CHECK(p && p->value == 2 && p->x == 2 && p->x_name == NULL);
	p = find_point(&ps, "hist.1", 2);
	CHECK(p && p->value == 2);
	points_free(&ps);

	CHECK_INT(met("m.jsonl", "{\"a\":1}\n{\"a\":\n", MET_JSONL, &ps, &err), -1);
	CHECK(contains(err.msg, "line 2"));
	CHECK_INT(met("m.jsonl", "{\"a\":1}\n{\"a\":2}\n[3]\n", MET_JSONL, &ps, &err), -1);
	CHECK(contains(err.msg, "line 3"));
	CHECK(contains(err.msg, "object"));
	CHECK_INT(met("m.jsonl", "{\"a\":1} {\"a\":2}\n", MET_JSONL, &ps, &err), -1);
	CHECK(contains(err.msg, "byte 8"));
	CHECK_INT(met("m.jsonl", " \n\n", MET_JSONL, &ps, &err), -1);
	CHECK(contains(err.msg, "empty"));
	/* sniffed from content, also when JSON Lines hide behind .json */
	points_free(&ps);
	CHECK_INT(met("metrics", "{\"a\":1}\n{\"a\":2}\n", MET_AUTO, &ps, &err), 2);
	points_free(&ps);
	CHECK_INT(met("m.json", "{\"step\": 3, \"a\": {\"b\": 1}}\n{\"step\": 4, \"a\": {\"b\": 2}}\n", MET_AUTO,
		      &ps, &err), 2);
	const struct point *q = find_point(&ps, "a.b", 1);
	CHECK(q && q->x == 4 && q->value == 2);
	points_free(&ps);
	/* a pretty-printed document is not mistaken for lines */
	CHECK_INT(met("m.json", "{\n \"a\": {\"b\": 1}\n}\n", MET_AUTO, &ps, &err), 1);
	points_free(&ps);
}

TEST(metrics_json_document)
{
	const char *doc =
		"\xef\xbb\xbf{\n"
		"  \"name\": \"nightly\",\n"
		"  \"checks\": {\"coverage\": {\"percentage\": 87.5, \"passed\": true}},\n"
		"  \"bench\": {\"parse\": {\"mean_ms\": 12.25, \"p99_ms\": 30}, \"import\": {\"mean_ms\": 200}},\n"
		"  \"samples\": [1.5, 2.5, {\"x\": 3}],\n"
		"  \"empty\": {}, \"none\": null, \"index\": 4\n"
		"}\n";
	struct cs_err err;
	struct points ps = {0};
	CHECK_INT(met("summary.json", doc, MET_AUTO, &ps, &err), 9);
	const struct point *p = find_point(&ps, "checks.coverage.percentage", 0);
	CHECK(p && p->value == 87.5 && p->x == 0 && p->x_name == NULL);
	CHECK(find_point(&ps, "bench.parse.mean_ms", 0) != NULL);
	CHECK(find_point(&ps, "bench.parse.p99_ms", 0) != NULL);
	CHECK(find_point(&ps, "bench.import.mean_ms", 0) != NULL);
	p = find_point(&ps, "samples.1", 0);
	CHECK(p && p->value == 2.5);
	CHECK(find_point(&ps, "samples.2.x", 0) != NULL);
	p = find_point(&ps, "none", 0);
	CHECK(p && p->missing);
	p = find_point(&ps, "index", 0); /* documents have no x axis */
	CHECK(p && p->value == 4);
	CHECK_INT(count_named(&ps, "checks.coverage.passed"), 0);
	points_free(&ps);

	/* a top-level array of objects is rows */
	const char *rows = "[{\"tick\": 1, \"e\": 5}, {\"tick\": 2, \"e\": 6},\n {\"e\": 7}]";
	CHECK_INT(met("r.json", rows, MET_JSON, &ps, &err), 3);
	p = find_point(&ps, "e", 1);
	CHECK(p && p->value == 6 && p->x == 2 && p->x_name && strcmp(p->x_name, "tick") == 0);
	p = find_point(&ps, "e", 2);
	CHECK(p && p->value == 7 && p->x == 2 && !p->x_name);
	points_free(&ps);
	/* an array of numbers is a document */
	CHECK_INT(met("r.json", "[1, [2, 3], \"s\"]", MET_JSON, &ps, &err), 3);
	CHECK(find_point(&ps, "1.1", 0) != NULL);
	points_free(&ps);
	CHECK_INT(met("r.json", "[]", MET_JSON, &ps, &err), 0);
	CHECK_INT(met("r.json", "42", MET_JSON, &ps, &err), 0); /* nothing to name it by */
	CHECK_INT(met("r.json", "[{\"a\":1}, 2]", MET_JSON, &ps, &err), -1);
	CHECK(contains(err.msg, "byte 10"));
	points_free(&ps);
}

TEST(metrics_json_malformed)
{
	static const struct {
		const char *doc;
		const char *want; /* in the message */
	} bad[] = {
		{"", "empty"},
		{"{", "end of JSON"},
		{"{\"a\": [1, 2", "end of JSON"},
		{"{\"a\": {\"b\": tru}}", "byte 12"},
		{"{\"a\": {\"b\": {\"c\": [1,,2]}}}", "byte 21"},
		{"{\"a\":1} x", "byte 8"},
		{"[{\"a\":1},]", "byte 9"},
		{"[{\"a\":1} {\"a\":2}]", "byte 9"},
		{"[1, 2", "end of JSON"},
		{"{\"a\n\":1}", "control character"},
		{"\n\n  {\"a\": 1,\n   \"b\": x}", "line 4"},
		{"{\"a\": \"unterminated}", "unterminated"},
	};
	struct cs_err err;
	struct points ps = {0};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		long r = met("m.json", bad[i].doc, MET_JSON, &ps, &err);
		if (r != -1 || !contains(err.msg, bad[i].want))
			t_fail(__FILE__, __LINE__, "'%s': %ld, \"%s\" (want \"%s\")", bad[i].doc, r, err.msg,
			       bad[i].want);
	}
	const char nul[] = "{\"a\": 1, \0 \"b\": 2}";
	CHECK_INT(metrics_parse("n.json", nul, sizeof(nul) - 1, MET_JSON, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "NUL"));
	CHECK(contains(err.msg, "byte 9"));
	points_free(&ps);
}

TEST(metrics_json_depth)
{
	struct cs_err err;
	struct points ps = {0};
	struct buf b = BUF_INIT;
	/* 64 levels: fine */
	for (int i = 0; i < 63; i++)
		buf_adds(&b, "{\"k\":");
	buf_adds(&b, "{\"v\": 1}");
	for (int i = 0; i < 63; i++)
		buf_addc(&b, '}');
	CHECK_INT(metrics_parse("d.json", b.data, b.len, MET_JSON, collect_point, &ps, &err), 1);
	if (ps.n == 1)
		CHECK_INT(strlen(ps.v[0].name), 63 * 2 + 1);
	points_free(&ps);
	/* 65: refused, at the offending bracket */
	buf_reset(&b);
	for (int i = 0; i < 65; i++)
		buf_adds(&b, "[");
	CHECK_INT(metrics_parse("d.json", b.data, b.len, MET_JSON, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "deeper than 64"));
	CHECK(contains(err.msg, "byte 64"));
	/* a million: no recursion, same error */
	buf_reset(&b);
	for (int i = 0; i < 1000000; i++)
		buf_addc(&b, i % 2 ? '[' : '{');
	CHECK_INT(metrics_parse("d.json", b.data, b.len, MET_JSON, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "deeper than 64"));
	CHECK_INT(metrics_parse("d.jsonl", b.data, b.len, MET_JSONL, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "deeper than 64"));
	/* a long key path is refused, not truncated into a clash */
	buf_reset(&b);
	buf_adds(&b, "{\"");
	for (int i = 0; i < 2000; i++)
		buf_addc(&b, 'k');
	buf_adds(&b, "\": 1}");
	CHECK_INT(metrics_parse("d.json", b.data, b.len, MET_JSON, collect_point, &ps, &err), -1);
	CHECK(contains(err.msg, "longer than"));
	CHECK_INT(ps.n, 0);
	buf_release(&b);
	/* invalid UTF-8 in a key is replaced */
	CHECK_INT(met("u.json", "{\"a\xc3(\": 1}", MET_JSON, &ps, &err), 1);
	if (ps.n == 1)
		CHECK_STR(ps.v[0].name, "a\xef\xbf\xbd(");
	points_free(&ps);
}
