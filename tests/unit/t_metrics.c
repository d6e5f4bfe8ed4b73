/* t_metrics.c - metrics over history: E-divisive change points, thresholds,
 * the regression baseline, local-CI results, cache lines. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/store.h"
#include "core/storesql.h"
#include "test.h"

/* deterministic noise in [-1, 1] */
static double noise(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(*s >> 11) / (double)(1ULL << 53)) * 2 - 1;
}

/* c from a thresholds file's text (as "t.conf"), the change points' defaults
 * where it says nothing of them */
static int conf_from_text(struct th_conf *c, const char *text, struct cs_err *err)
{
	memset(c, 0, sizeof(*c));
	cp_conf_default(&c->cp);
	return th_conf_add_text(c, "t.conf", text, strlen(text), err);
}

/* Every metric's last change point acknowledged ("known") */
static void ack_last_cps(struct store *st, const struct th_conf *c, const struct metrics_query *q)
{
	struct cs_err err;
	struct metric_set set;
	CHECK_OK(metrics_load_judged(st, c, q, &set, &err));
	for (int i = 0; i < set.n; i++)
		if (set.items[i].n_cps)
			CHECK_OK(metrics_ack(st, set.items[i].name, set.items[i].workflow,
					     set.items[i].pts[set.items[i].cps[set.items[i].n_cps - 1].idx].sha,
					     "known", &err));
	metric_set_release(&set);
}

TEST(cp_step_by_hand)
{
	double v[60];
	uint64_t s = 7;
	for (int i = 0; i < 60; i++)
		v[i] = (i < 30 ? 100 : 110) + noise(&s);
	struct cp_conf c;
	cp_conf_default(&c);
	long *idx;
	double *p;
	int k = cp_detect(v, 60, &c, &idx, &p);
	CHECK_INT(k, 1);
	if (k == 1) {
		CHECK_INT(idx[0], 30);
		CHECK(p[0] <= 0.001);
	}
	free(idx);
	free(p);
	/* the same series gives the same answer (fixed seed) */
	k = cp_detect(v, 60, &c, &idx, NULL);
	CHECK_INT(k, 1);
	free(idx);
}

TEST(cp_none_in_noise_or_constant)
{
	double v[300];
	uint64_t s = 11;
	for (int i = 0; i < 300; i++)
		v[i] = 100 + 2 * noise(&s);
	struct cp_conf c;
	cp_conf_default(&c);
	long *idx;
	CHECK_INT(cp_detect(v, 300, &c, &idx, NULL), 0);
	free(idx);
	for (int i = 0; i < 300; i++)
		v[i] = 5;
	CHECK_INT(cp_detect(v, 300, &c, &idx, NULL), 0);
	free(idx);
	CHECK_INT(cp_detect(v, 5, &c, &idx, NULL), 0); /* too short */
	free(idx);
}

TEST(cp_level_that_comes_and_goes)
{
	/* the demo's parity regression: 22 good, 7 bad, 13 good again */
	double v[42];
	for (int i = 0; i < 42; i++)
		v[i] = i >= 22 && i < 29 ? 30 + (i % 3) : 8.6e-7;
	struct cp_conf c;
	cp_conf_default(&c);
	long *idx;
	int k = cp_detect(v, 42, &c, &idx, NULL);
	CHECK_INT(k, 2);
	if (k == 2) {
		CHECK_INT(idx[0], 22);
		CHECK_INT(idx[1], 29);
	}
	free(idx);
}

TEST(cp_min_magnitude_drops_small_shifts)
{
	double v[80];
	uint64_t s = 3;
	for (int i = 0; i < 80; i++)
		v[i] = (i < 40 ? 100 : 101) + 0.05 * noise(&s);
	struct cp_conf c;
	cp_conf_default(&c);
	long *idx;
	CHECK_INT(cp_detect(v, 80, &c, &idx, NULL), 1);
	free(idx);
	c.min_magnitude = 0.02; /* 1 % is below it */
	CHECK_INT(cp_detect(v, 80, &c, &idx, NULL), 0);
	free(idx);
}

/* Change-point quality on generated series: steps of 2-20 % under +-2 %
 * noise, outliers, missing points. Prints the figures; holds them to
 * bounds a user would accept. */
TEST(cp_quality_generated)
{
	static const double steps[] = {0.02, 0.05, 0.10, 0.20};
	struct cp_conf c;
	cp_conf_default(&c);
	for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
		int planted = 0, found = 0, false_pos = 0;
		long off_sum = 0, points = 0;
		for (int trial = 0; trial < 20; trial++) {
			uint64_t s = 1000 + trial * 31 + si;
			double v[400];
			long n = 0, planted_at[4];
			int np = 0;
			double level = 100;
			for (int i = 0; i < 400; i++) {
				if (i > 0 && i % 100 == 0) {
					level *= 1 + steps[si] * ((i / 100) % 2 ? 1 : -1);
					planted_at[np++] = n;
				}
				if (noise(&s) > 0.9) /* ~5 % of the runs missing */
					continue;
				double x = level * (1 + 0.02 * noise(&s));
				if (noise(&s) > 0.99) /* outliers */
					x *= 1.5;
				v[n++] = x;
			}
			points += n;
			long *idx;
			int k = cp_detect(v, n, &c, &idx, NULL);
			planted += np;
			for (int i = 0; i < k; i++) {
				int best = -1;
				for (int j = 0; j < np; j++)
					if (labs(idx[i] - planted_at[j]) <= 5 &&
					    (best < 0 || labs(idx[i] - planted_at[j]) <
							 labs(idx[i] - planted_at[best])))
						best = j;
				if (best < 0) {
					false_pos++;
				} else {
					found++;
					off_sum += labs(idx[i] - planted_at[best]);
				}
			}
			free(idx);
		}
		printf("  step %4.0f %%: detected %d/%d, mean off-by %.2f commits, %.2f false "
		       "positives per 1000 points\n", steps[si] * 100, found, planted,
		       found ? (double)off_sum / found : 0.0, 1000.0 * false_pos / points);
		if (steps[si] >= 0.05)
			CHECK(found >= planted * 9 / 10);
		CHECK(1000.0 * false_pos / points < 5);
	}
}

TEST(thresholds_parse_errors_name_file_line)
{
	struct cs_err err;
	struct th_conf c;
	const char *ok = "# comment\nthreshold memory.*\n\tworkflow bench\n\twarn <= 300 KiB\n"
			 "\tfail +10 %\n\nchangepoints\n\twindow 30\n";
	CHECK_OK(conf_from_text(&c, ok, &err));
	CHECK_INT(c.n, 1);
	CHECK_INT(c.cp.window, 30);
	if (c.n == 1) {
		CHECK_STR(c.rules[0].workflow, "bench");
		CHECK_INT(c.rules[0].n_bounds, 2);
		CHECK_STR(c.rules[0].bounds[0].unit, "KiB");
		CHECK_INT(c.rules[0].bounds[1].kind, TH_REGRESS);
		CHECK_STR(c.rules[0].origin, "t.conf:2");
	}
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"threshold x\n\twarn <= 3 parsecs\n", "t.conf:2: unknown unit \"parsecs\""},
		{"threshold x\n\twarn 3\n", "t.conf:2: a bound is"},
		{"threshold x\n\twarn <= abc\n", "t.conf:2: \"<= abc\": expected a number"},
		{"\n\nthreshold x\n\tcolour red\n", "t.conf:4: unknown setting \"colour\""},
		{"threshold x\n\tworkflow ci\n", "t.conf:1: threshold x has no warn or fail bound"},
		{"limits\n", "t.conf:1: unknown block \"limits\""},
		{"\twarn <= 3\n", "t.conf:1: an indented setting outside a block"},
		{"changepoints\n\tpvalue 2\n", "t.conf:2: pvalue 2: not a changepoints setting"},
		{"threshold x\n\tbaseline 0\n\tfail +1 %\n", "t.conf:2: baseline"},
		{"threshold\n", "t.conf:1: threshold names one metric"},
		{"threshold x\n\tfail +-3 %\n", "t.conf:2: \"+-3 %\": expected a number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int before = c.n;
		CHECK(th_conf_add_text(&c, "t.conf", bad[i].text, strlen(bad[i].text), &err) < 0);
		if (!strstr(err.msg, bad[i].want))
			t_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
			       bad[i].want);
		CHECK_INT(c.n, before); /* nothing of a bad file is kept */
	}
	/* a NUL byte is refused, not taken as the end of the file (found by
	 * tests/fuzz/f_thresholds.c: the block after it was ignored) */
	static const char nul[] = "threshold x\n\twarn <= 3\n\0\nthreshold y\n\tfrobnicate\n";
	int before = c.n;
	CHECK(th_conf_add_text(&c, "t.conf", nul, sizeof(nul) - 1, &err) < 0);
	CHECK(strstr(err.msg, "t.conf:3: a NUL byte") != NULL);
	CHECK_INT(c.n, before);
	th_conf_release(&c);
}

static void add_point(struct metric_hist *h, double v, bool green, const char *branch,
		      const char *sha)
{
	h->pts = realloc(h->pts, (size_t)(h->n + 1) * sizeof(*h->pts));
	struct metric_point *p = &h->pts[h->n];
	memset(p, 0, sizeof(*p));
	p->value = v;
	p->green = green;
	p->branch = (char *)branch;
	p->sha = (char *)sha;
	p->run = h->n + 1;
	p->passed = -1;
	h->n++;
}

TEST(baseline_and_evaluation)
{
	struct metric_hist h = {.name = (char *)"bench.peak_rss_mb", .workflow = (char *)"bench",
				.unit = "MB"};
	/* green main: 10 12 11 (a red 50 and a feature 99 do not count) 13 */
	add_point(&h, 10, true, "main", "a1");
	add_point(&h, 12, true, "main", "a2");
	add_point(&h, 50, false, "main", "a3");
	add_point(&h, 11, true, "main", "a4");
	add_point(&h, 99, true, "feature", "a5");
	add_point(&h, 13, true, "main", "a6");
	add_point(&h, 15, true, "main", "a7");
	add_point(&h, 16, true, "main", "a8");
	int used;
	CHECK(metric_baseline(&h, 6, "main", 10, &used) == 11.5); /* 10 11 12 13 */
	CHECK_INT(used, 4);
	CHECK(metric_baseline(&h, 6, "main", 3, &used) == 12); /* 11 12 13 */
	CHECK(isnan(metric_baseline(&h, 0, "main", 3, &used)));

	struct cs_err err;
	struct th_conf c;
	const char *t = "threshold bench.*\n\tbranch main\n\tbaseline 3\n\twarn +10 %\n"
			"\tfail +25 %\n\tfail <= 15000 KB\n";
	CHECK_OK(conf_from_text(&c, t, &err));
	struct th_eval *e;
	int n = th_evaluate(&c, &h, 7, &e); /* 16 vs baseline 13 (13 15 ... median of 12 13 15 = 13) */
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK(e[0].baseline == 13);
		CHECK_INT(e[0].state, TH_BREACH_WARN); /* 16 > 14.3 */
		CHECK_INT(e[1].state, TH_PASS);        /* 16 <= 16.25 */
		CHECK(e[2].limit == 15);               /* 15000 KB in MB */
		CHECK_INT(e[2].state, TH_BREACH_FAIL);
		CHECK_INT(e[2].since, 7);              /* 15 at a7 is within */
		CHECK_INT(th_worst(e, n), TH_BREACH_FAIL);
	}
	free(e);
	/* a feature-branch point is not judged by a main-only rule */
	CHECK_INT(th_evaluate(&c, &h, 4, &e), 0);
	free(e);
	/* a bound in another kind of unit is not applicable */
	const char *t2 = "threshold bench.*\n\tfail <= 3 ms\n";
	struct th_conf c2;
	memset(&c2, 0, sizeof(c2));
	CHECK_OK(th_conf_add_text(&c2, "u.conf", t2, strlen(t2), &err));
	n = th_evaluate(&c2, &h, 7, &e);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(e[0].state, TH_NONE);
	free(e);
	th_conf_release(&c2);
	th_conf_release(&c);
	free(h.pts);
}

static struct store *open_tmp(const char *name)
{
	struct cs_err err;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), name);
	struct store *st = store_open(path, STORE_RW, &err);
	if (!st)
		t_fail(__FILE__, __LINE__, "store_open: %s", err.msg);
	return st;
}

static const char good_results[] =
	"{\"version\": \"1.0\", \"timestamp\": \"2026-11-02T10:00:00Z\",\n"
	" \"commit_sha\": \"e190050aa1b2c3d4e5f60718293a4b5c6d7e8f90\", \"branch\": \"main\",\n"
	" \"runner\": \"laptop\", \"checks\": {\n"
	"  \"coverage\": {\"passed\": false, \"percentage\": 84.1, \"threshold\": 85},\n"
	"  \"tests\": {\"passed\": true, \"total\": 212, \"failed\": 0, \"skipped\": 3,\n"
	"            \"by_suite\": {\"unit\": 200, \"e2e\": 12}, \"note\": \"text is ignored\"}}}";

TEST(local_results_import)
{
	struct store *st = open_tmp("local.db");
	if (!st)
		return;
	struct cs_err err;
	int64_t run;
	int created;
	CHECK(metrics_is_local_results(good_results, strlen(good_results)));
	CHECK_OK(metrics_import_local(st, "r.json", good_results, strlen(good_results), &run,
				      &created, &err));
	CHECK_INT(created, 0);
	struct metric_set set;
	struct metrics_query q = {.name = "checks.coverage.percentage"};
	CHECK_OK(metrics_load(st, &q, &set, &err));
	CHECK_INT(set.n, 1);
	if (set.n == 1) {
		CHECK_STR(set.items[0].workflow, "local");
		CHECK_STR(set.items[0].unit, "%");
		CHECK_INT(set.items[0].n, 1);
		CHECK(set.items[0].pts[0].value == 84.1);
		CHECK_INT(set.items[0].pts[0].passed, 0);
		CHECK(set.items[0].pts[0].threshold == 85);
		CHECK_STR(set.items[0].pts[0].branch, "main");
		CHECK(!set.items[0].pts[0].green); /* a check did not pass */
	}
	metric_set_release(&set);
	struct metrics_query all = {.pattern = "checks.tests.*"};
	CHECK_OK(metrics_load(st, &all, &set, &err));
	CHECK_INT(set.n, 6); /* by_suite.e2e by_suite.unit failed passed skipped total */
	metric_set_release(&set);
	/* the same file again: the same run, unchanged */
	int64_t run2;
	CHECK_OK(metrics_import_local(st, "r.json", good_results, strlen(good_results), &run2,
				      &created, &err));
	CHECK_INT(run2, run);
	CHECK_INT(created, 2);
	/* changed content at the same commit, time and runner: replaced */
	char changed[sizeof(good_results)];
	memcpy(changed, good_results, sizeof(good_results));
	char *pct = strstr(changed, "84.1");
	if (pct)
		pct[3] = '9';
	int64_t run3;
	CHECK_OK(metrics_import_local(st, "r.json", changed, strlen(changed), &run3, &created,
				      &err));
	CHECK_INT(created, 1);
	struct metrics_query q2 = {.name = "checks.coverage.percentage"};
	CHECK_OK(metrics_load(st, &q2, &set, &err));
	CHECK_INT(set.n, 1);
	if (set.n == 1) {
		CHECK_INT(set.items[0].n, 1);
		CHECK(set.items[0].pts[0].value == 84.9);
	}
	metric_set_release(&set);
	store_close(st);
}

TEST(local_results_hostile)
{
	struct store *st = open_tmp("hostile.db");
	if (!st)
		return;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"{\"version\":1,", "malformed JSON"},
		{"[1,2]", "not a JSON object"},
		{"{\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\",\"checks\":{\"a\":{}}}",
		 "version: missing"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"checks\":{\"a\":{}}}",
		 "commit_sha: missing"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"; rm -rf /\","
		 "\"checks\":{\"a\":{}}}", "commit_sha: not a commit id"},
		{"{\"version\":1,\"timestamp\":\"yesterday\",\"commit_sha\":\"abcdef1\",\"checks\":{\"a\":{}}}",
		 "timestamp: not an RFC 3339 time"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"branch\":\"main\\u001b[2J\",\"checks\":{\"a\":{}}}", "branch: control characters"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":[]}", "checks: expected an object"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":{\"a\":{\"passed\":\"yes\"}}}", "checks.a.passed: expected true or false"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":{\"a\":{\"v\":1e999}}}", "not a finite number"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":{\"a b\":{}}}", "check name"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":{\"a\":{\"x\":{\"y\":{\"z\":{\"w\":{\"v\":1}}}}}}}", "nested deeper"},
		{"{\"version\":1,\"timestamp\":\"2026-01-01T00:00:00Z\",\"commit_sha\":\"abcdef1\","
		 "\"checks\":{\"a\":{\"threshold\":\"high\"}}}", "checks.a.threshold: expected a number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cs_err err;
		int64_t run;
		int created;
		CHECK(metrics_import_local(st, "bad.json", bad[i].text, strlen(bad[i].text), &run,
					   &created, &err) < 0);
		if (!strstr(err.msg, bad[i].want) || !strstr(err.msg, "bad.json"))
			t_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
			       bad[i].want);
	}
	/* invalid UTF-8 and a deep nesting bomb */
	char bomb[5000];
	size_t k = 0;
	for (; k < 2400; k++)
		bomb[k] = '[';
	bomb[k] = 0;
	struct cs_err err;
	int64_t run;
	int created;
	CHECK(metrics_import_local(st, "bomb.json", bomb, k, &run, &created, &err) < 0);
	CHECK(metrics_import_local(st, "u.json", "{\"version\":\"\xff\"}", 15, &run, &created,
				   &err) < 0);
	CHECK(strstr(err.msg, "not UTF-8") != NULL);
	/* nothing was written */
	struct metric_set set;
	struct metrics_query q = {0};
	CHECK_OK(metrics_load(st, &q, &set, &err));
	CHECK_INT(set.n, 0);
	metric_set_release(&set);
	store_close(st);
}

TEST(cache_lines_from_real_logs)
{
	CHECK_INT(metric_cache_line("Cache restored from key: go-mod-eca0", 36), 1);
	const char *miss = "Cache not found for input keys: cargo-Linux-abc, cargo-Linux-";
	CHECK_INT(metric_cache_line(miss, strlen(miss)), -1);
	CHECK_INT(metric_cache_line("Cache saved with key: x", 23), 0);
	/* a real actions/setup-go log */
	const char *path = t_fixture("cidiff/data/breakages_dump/Quick Checks_/run118/fail.log");
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char line[8192];
	int hits = 0, misses = 0;
	while (fgets(line, sizeof(line), f)) {
		int k = metric_cache_line(line, strlen(line));
		hits += k > 0;
		misses += k < 0;
	}
	fclose(f);
	CHECK(hits >= 1);
	CHECK_INT(misses, 0);
}

TEST(units_from_names)
{
	CHECK_STR(metric_unit_of("memory.peak_rss_mb"), "MB");
	CHECK_STR(metric_unit_of("startup_ms"), "ms");
	CHECK_STR(metric_unit_of("wasm_size_kb"), "KiB");
	CHECK_STR(metric_unit_of("checks.coverage.percentage"), "%");
	CHECK(metric_unit_of("tests.total") == NULL);
}

TEST(change_near_zero_has_no_sign)
{
	char t[40];
	metric_format_pct(-0.0004, t, sizeof(t)); /* -0.04 %: once "-0.0 %" */
	CHECK_STR(t, "0.0 %");
	metric_format_pct(0.0004, t, sizeof(t));
	CHECK_STR(t, "0.0 %");
	metric_format_pct(-0.0, t, sizeof(t));
	CHECK_STR(t, "0.0 %");
	metric_format_pct(-0.0006, t, sizeof(t));
	CHECK_STR(t, "-0.1 %");
	metric_format_pct(0.142, t, sizeof(t));
	CHECK_STR(t, "+14.2 %");
	metric_format_pct(2.5, t, sizeof(t));
	CHECK_STR(t, "+250 %");
	metric_format_change(-0.0003, 100, 99.97, "MB", t, sizeof(t));
	CHECK_STR(t, "0.0 %");
	metric_format_change(INFINITY, 0, 3, "ms", t, sizeof(t));
	CHECK_STR(t, "+3 ms");
}

/* The table's row (metric_summarize: the CLI and the metrics view), the
 * sparkline and the bisection bound of a change point. */
TEST(summary_sparkline_and_cp_bound)
{
	struct metric_hist h = {.name = (char *)"bench.peak_rss_mb", .workflow = (char *)"bench",
				.unit = "MB"};
	const double v[] = {10, 12, 11, 13, 20};
	for (int i = 0; i < 5; i++)
		add_point(&h, v[i], true, "main", "a");
	struct cs_err err;
	struct th_conf c;
	const char *t = "threshold bench.*\n\tbaseline 3\n\twarn +10 %\n\tfail <= 15 MB\n";
	CHECK_OK(conf_from_text(&c, t, &err));
	struct metric_summary s;
	metric_summarize(&c, &h, &s);
	CHECK(s.last == 20);
	CHECK(s.baseline == 12); /* the rule's baseline 3: median of 12 11 13 */
	CHECK(fabs(s.change - 8.0 / 12) < 1e-12);
	CHECK_INT(s.state, TH_BREACH_FAIL);
	CHECK(s.cp == NULL);
	/* no rule: the default baseline (10 green runs), state none */
	struct th_conf none;
	memset(&none, 0, sizeof(none));
	metric_summarize(&none, &h, &s);
	CHECK(s.baseline == 11.5); /* 10 11 12 13 */
	CHECK_INT(s.state, TH_NONE);
	/* a change point: the newest one is the row's */
	struct metric_cp cps[2] = {{.idx = 1, .before = 10, .after = 12},
				   {.idx = 4, .before = 12, .after = 20}};
	h.cps = cps;
	h.n_cps = 2;
	metric_summarize(&none, &h, &s);
	CHECK(s.cp == &cps[1]);
	/* a deep copy (the chart takes the table's series): its own strings */
	cps[1].note = (char *)"known";
	struct metric_hist cp;
	metric_hist_copy(&cp, &h);
	CHECK_INT(cp.n, 5);
	CHECK_INT(cp.n_cps, 2);
	CHECK(cp.name != h.name && !strcmp(cp.name, h.name));
	CHECK(cp.pts[4].sha != h.pts[4].sha && !strcmp(cp.pts[4].sha, "a"));
	CHECK(cp.pts[4].value == 20 && cp.cps[1].idx == 4);
	CHECK(cp.cps[1].note != cps[1].note && !strcmp(cp.cps[1].note, "known"));
	metric_hist_release(&cp);
	CHECK(cp.pts == NULL && cp.n == 0);
	cps[1].note = NULL;
	bool above = false;
	CHECK(metric_cp_bound(&cps[1], &above) == 16);
	CHECK(above);
	struct metric_cp down = {.idx = 2, .before = 20, .after = 10};
	CHECK(metric_cp_bound(&down, &above) == 15);
	CHECK(!above);
	h.cps = NULL;
	h.n_cps = 0;

	/* sparklines: the last n points scaled to 8 levels; ASCII fallback */
	struct buf b = BUF_INIT;
	CHECK_INT(metric_sparkline(&h, 3, false, &b), 3);
	CHECK_STR(buf_cstr(&b), "_.@"); /* 11 13 20 */
	buf_release(&b);
	CHECK_INT(metric_sparkline(&h, 8, true, &b), 5);
	CHECK_STR(buf_cstr(&b), "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x81\xe2\x96\x83\xe2\x96\x88");
	buf_release(&b);
	CHECK_INT(metric_sparkline(&h, 0, true, &b), 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
	/* a flat series sits mid-height */
	struct metric_hist flat;
	memset(&flat, 0, sizeof(flat));
	add_point(&flat, 5, true, "main", "a");
	add_point(&flat, 5, true, "main", "a");
	CHECK_INT(metric_sparkline(&flat, 4, false, &b), 2);
	CHECK_STR(buf_cstr(&b), "==");
	buf_release(&b);
	/* an empty series: nothing, and the summary says so */
	struct metric_hist empty;
	memset(&empty, 0, sizeof(empty));
	metric_summarize(&c, &empty, &s);
	CHECK(isnan(s.last) && isnan(s.baseline) && isnan(s.change));
	CHECK_INT(metric_sparkline(&empty, 4, true, &b), 0);
	buf_release(&b);
	free(flat.pts);
	th_conf_release(&c);
	free(h.pts);
}

/* --- the table from the summary cache equals the computation ----------------------- */
static void add_runs(struct store *st, int from, int to)
{
	struct cs_err err;
	struct buf b = BUF_INIT;
	uint64_t seed = 77 + (uint64_t)from;
	buf_adds(&b, "BEGIN;");
	for (int r = from; r < to; r++) {
		const char *wf = r % 3 ? "bench" : "parity";
		const char *br = r % 5 ? "main" : "topic";
		const char *concl = r % 7 ? "success" : "failure";
		buf_addf(&b, "INSERT INTO runs (id, repo_id, provider_id, workflow_name, head_branch,"
			     " head_sha, status, conclusion, created_at, started_at, updated_at,"
			     " imported_at) VALUES (%d, 1, %d, '%s', '%s', '%040x', 'completed', '%s',"
			     " %d, %d, %d, 0);",
			 r, 9000 + r, wf, br, r * 2654435761u, concl, 1000000 + r * 1000 - (r % 10 == 3 ? 1500 : 0),
			 2000000 + r * 1000, 2000500 + r * 1000 + r % 11 * 10);
		buf_addf(&b, "INSERT INTO artifacts (id, run_id, name) VALUES (%d, %d, 'a');"
			     "INSERT INTO artifact_files (id, artifact_id, path, size, kind)"
			     " VALUES (%d, %d, 'm.json', 1, 'metrics');", r, r, r, r);
		for (int m = 0; m < 3; m++) {
			double v = 100 * (1 + 0.02 * noise(&seed));
			if (m == 0 && r >= 100)
				v *= 1.2;
			if (m == 2 && r % 4 == 0)
				continue; /* a missing point */
			/* as the importer stores them: the count once the point is in */
			buf_addf(&b, "INSERT INTO metric_series (id, run_id, file_id, name, n_points)"
				     " VALUES (%d, %d, %d, '%s', 0);"
				     "INSERT INTO metric_points (series_id, idx, x, value)"
				     " VALUES (%d, 0, 0, %.17g);"
				     "UPDATE metric_series SET n_points = 1 WHERE id = %d;",
				 r * 3 + m, r, r, m == 0 ? "peak_rss_mb" : m == 1 ? "startup_ms" : "size",
				 r * 3 + m, v, r * 3 + m);
		}
	}
	buf_adds(&b, "COMMIT;");
	CHECK_OK(store_exec(st, buf_cstr(&b), &err));
	buf_release(&b);
}

static void same_tables(struct store *st, const struct th_conf *c, const struct metrics_query *q)
{
	struct cs_err err;
	struct metric_set full, tab, judged;
	/* a fresh computation: not metrics_load_judged, which takes change
	 * points from the cache while it is current */
	CHECK_OK(metrics_load(st, q, &full, &err));
	for (int i = 0; i < full.n; i++)
		CHECK_OK(metrics_changepoints(st, &full.items[i], &c->cp, &err));
	CHECK_OK(metrics_load_table(st, st, c, q, &tab, &err));
	/* the change points metrics show and the chart get: all of them */
	CHECK_OK(metrics_load_judged(st, c, q, &judged, &err));
	CHECK_INT(judged.n, full.n);
	for (int i = 0; i < full.n && i < judged.n; i++) {
		const struct metric_hist *f = &full.items[i], *j = &judged.items[i];
		CHECK_INT(j->n, f->n);
		CHECK_INT(j->n_cps, f->n_cps);
		for (int k = 0; k < f->n_cps && k < j->n_cps; k++) {
			CHECK_INT(j->cps[k].idx, f->cps[k].idx);
			CHECK(j->cps[k].before == f->cps[k].before && j->cps[k].after == f->cps[k].after);
			CHECK(j->cps[k].pvalue == f->cps[k].pvalue);
			CHECK(j->cps[k].change == f->cps[k].change || (isinf(j->cps[k].change) &&
								       isinf(f->cps[k].change)));
			CHECK(j->cps[k].acked == f->cps[k].acked);
		}
	}
	metric_set_release(&judged);
	CHECK_INT(tab.n, full.n);
	for (int i = 0; i < full.n && i < tab.n; i++) {
		const struct metric_hist *f = &full.items[i], *t = &tab.items[i];
		CHECK_STR(t->name, f->name);
		CHECK_STR(t->workflow, f->workflow);
		CHECK((t->unit == NULL) == (f->unit == NULL));
		CHECK(!t->unit || (f->unit && !strcmp(t->unit, f->unit)));
		CHECK_INT(metric_hist_total(t), f->n);
		CHECK(t->n <= f->n);
		struct metric_summary a, b;
		metric_summarize(c, f, &a);
		metric_summarize(c, t, &b);
		CHECK(a.last == b.last);
		CHECK((isnan(a.baseline) && isnan(b.baseline)) || a.baseline == b.baseline);
		CHECK((isnan(a.change) && isnan(b.change)) || a.change == b.change);
		CHECK_INT(b.state, a.state);
		CHECK((a.cp == NULL) == (b.cp == NULL));
		if (a.cp && b.cp) {
			CHECK_STR(t->pts[b.cp->idx].sha, f->pts[a.cp->idx].sha);
			CHECK_INT(t->pts[b.cp->idx].provider_id, f->pts[a.cp->idx].provider_id);
			CHECK(b.cp->before == a.cp->before && b.cp->after == a.cp->after);
			CHECK(b.cp->change == a.cp->change && b.cp->acked == a.cp->acked);
			CHECK((a.cp->note == NULL) == (b.cp->note == NULL));
			CHECK(!a.cp->note || (b.cp->note && !strcmp(a.cp->note, b.cp->note)));
			CHECK(b.cp->idx > 0);
			CHECK_STR(t->pts[b.cp->idx - 1].sha, f->pts[a.cp->idx - 1].sha);
		}
		for (int w = 1; w <= METRIC_TABLE_TAIL; w += 21) {
			struct buf x = BUF_INIT, y = BUF_INIT;
			CHECK_INT(metric_sparkline(t, w, true, &y), metric_sparkline(f, w, true, &x));
			CHECK_STR(buf_cstr(&y), buf_cstr(&x));
			buf_release(&x);
			buf_release(&y);
		}
		/* one series loaded by its name (the chart's way) is the same */
		struct metrics_query nq = {.name = f->name, .workflow = f->workflow,
					   .branch = q->branch};
		struct metric_set one;
		CHECK_OK(metrics_load(st, &nq, &one, &err));
		if (*f->workflow) {
			CHECK_INT(one.n, 1);
			CHECK_INT(one.n ? one.items[0].n : -1, f->n);
			for (long j = 0; one.n && j < f->n && j < one.items[0].n; j++) {
				CHECK_INT(one.items[0].pts[j].run, f->pts[j].run);
				CHECK(one.items[0].pts[j].value == f->pts[j].value);
				CHECK_INT(one.items[0].pts[j].passed, f->pts[j].passed);
			}
		}
		metric_set_release(&one);
		CHECK_INT(t->pts[t->n - 1].run, f->pts[f->n - 1].run);
		CHECK_INT(t->n >= 2, f->n >= 2);
		if (f->n >= 2 && t->n >= 2)
			CHECK_STR(t->pts[t->n - 2].sha, f->pts[f->n - 2].sha);
	}
	metric_set_release(&full);
	metric_set_release(&tab);
}

/* An index of runs 1..199 (add_runs) and the default settings in c. */
static struct store *cache_db(const char *file, struct th_conf *c)
{
	struct store *st = open_tmp(file);
	struct cs_err err;
	CHECK_OK(store_exec(st, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b')",
			    &err));
	add_runs(st, 1, 200);
	memset(c, 0, sizeof(*c));
	cp_conf_default(&c->cp);
	return st;
}

TEST(table_cache_equals_computation)
{
	struct th_conf c;
	struct store *st = cache_db("cache.db", &c);
	struct cs_err err;
	/* baseline 60: the green runs of main reach back past the last 64 points */
	const char *t = "threshold peak_rss_mb\n\tbaseline 7\n\twarn +10 %\n\tfail +15 %\n"
			"threshold size\n\tbaseline 60\n\twarn +1 %\n"
			"threshold startup_ms\n\tbranch main\n\tfail >= 101 ms\n";
	CHECK_OK(th_conf_add_text(&c, "t.conf", t, strlen(t), &err));
	struct metrics_query all = {0}, wf = {.workflow = "parity"}, pat = {.pattern = "run.*"};
	struct metrics_query only = {.only = &c};
	same_tables(st, &c, &all); /* builds the cache */
	same_tables(st, &c, &all); /* reads it */
	same_tables(st, &c, &wf);
	same_tables(st, &c, &pat);
	same_tables(st, &c, &only);
	struct metrics_query topic = {.branch = "topic"}, topic_wf = {.branch = "topic",
								    .workflow = "bench"};
	same_tables(st, &c, &topic); /* a cache of its own */
	same_tables(st, &c, &topic_wf);
	same_tables(st, &c, &all);
	/* the cache is what the table reads: a row there shows */
	CHECK_OK(store_exec(st, "UPDATE metric_summary SET total = 12345 WHERE name = 'size'"
				" AND workflow = 'bench' AND branch = ''", &err));
	struct metric_set set;
	CHECK_OK(metrics_load_table(st, st, &c, &all, &set, &err));
	bool seen = false;
	for (int i = 0; i < set.n; i++)
		seen |= set.items[i].total == 12345;
	CHECK(seen);
	metric_set_release(&set);
	/* metrics_refresh: every run derived, then nothing to look at until a
	 * run comes (metric_refresh_mark) */
	CHECK_INT(metrics_refresh(st, &err), 199);
	CHECK_INT(metrics_refresh(st, &err), 0);
	CHECK_INT(metrics_refresh(st, &err), 0);
	/* more runs imported: rebuilt (the runs' triggers moved metric_gen on) */
	add_runs(st, 200, 260);
	CHECK_INT(metrics_refresh(st, &err), 60);
	CHECK_INT(metrics_refresh(st, &err), 0);
	same_tables(st, &c, &all);
	/* a point's value changed, an acknowledgement, other settings */
	CHECK_OK(store_exec(st, "UPDATE metric_points SET value = 500 WHERE series_id = 259 * 3 + 1",
			    &err));
	same_tables(st, &c, &all);
	ack_last_cps(st, &c, &wf);
	same_tables(st, &c, &all);
	/* the acknowledgement went into the cache's row itself (no rebuild) */
	CHECK_OK(store_exec(st, "UPDATE metric_summary SET total = 54321 WHERE cp_acked = 1"
				" AND cp_note = 'known' AND name = 'peak_rss_mb'"
				" AND workflow = 'parity'", &err));
	CHECK_OK(metrics_load_table(st, st, &c, &wf, &set, &err));
	seen = false;
	for (int i = 0; i < set.n; i++)
		seen |= set.items[i].total == 54321 && set.items[i].cps[0].acked;
	CHECK(seen);
	metric_set_release(&set);
	c.cp.window = 30;
	same_tables(st, &c, &all);
	th_conf_release(&c);
	store_close(st);
}

/* A run of workflow 'nightly' (id r): a job with a step, two tests, one
 * metric series. */
static void add_nightly(struct store *st, int r)
{
	struct cs_err err;
	struct buf b = BUF_INIT;
	uint64_t seed = 991 + (uint64_t)r;
	buf_addf(&b, "BEGIN;"
		     "INSERT INTO runs (id, repo_id, provider_id, workflow_name, head_branch, head_sha,"
		     " status, conclusion, created_at, started_at, updated_at, imported_at) VALUES"
		     " (%d, 1, %d, 'nightly', 'main', '%040x', 'completed', 'success', %d, %d, %d, 0);"
		     "INSERT INTO artifacts (id, run_id, name) VALUES (%d, %d, 'a');"
		     "INSERT INTO artifact_files (id, artifact_id, path, size, kind)"
		     " VALUES (%d, %d, 'm.json', 1, 'metrics');"
		     "INSERT INTO metric_series (id, run_id, file_id, name, n_points)"
		     " VALUES (%d, %d, %d, 'startup_ms', 0);"
		     "INSERT INTO metric_points (series_id, idx, x, value) VALUES (%d, 0, 0, %.17g);"
		     "UPDATE metric_series SET n_points = 1 WHERE id = %d;"
		     "INSERT INTO jobs (id, run_id, provider_id, name, started_at, completed_at, ordinal)"
		     " VALUES (%d, %d, %d, 'build', %d, %d, 0);"
		     "INSERT INTO steps (id, job_id, number, name, started_at, completed_at)"
		     " VALUES (%d, %d, 1, 'compile', %d, %d);"
		     "INSERT INTO test_results (id, run_id, file_id, name, outcome) VALUES"
		     " (%d, %d, %d, 'a', 'passed'), (%d, %d, %d, 'b', '%s');"
		     "COMMIT;",
		 r, 9000 + r, r * 2654435761u, 1000000 + r * 1000, 2000000 + r * 1000,
		 2000500 + r * 1000, r, r, r, r, r * 3, r, r, r * 3, 50 + noise(&seed), r * 3, r, r, r,
		 2000000 + r * 1000, 2000300 + r * 1000 + r % 7, r, r, 2000010 + r * 1000,
		 2000200 + r * 1000 + r % 5, 2 * r, r, r, 2 * r + 1, r, r, r % 3 ? "passed" : "failed");
	CHECK_OK(store_exec(st, buf_cstr(&b), &err));
	buf_release(&b);
}

/* The total the cache holds for (name, workflow), -1 when no row. */
static long cached_total(struct store *st, const char *name, const char *wf)
{
	struct cs_err err;
	struct th_conf none;
	memset(&none, 0, sizeof(none));
	cp_conf_default(&none.cp);
	struct metrics_query all = {0};
	struct metric_set set;
	CHECK_OK(metrics_load_table(st, st, &none, &all, &set, &err));
	long t = -1;
	for (int i = 0; i < set.n; i++)
		if (!strcmp(set.items[i].name, name) && !strcmp(set.items[i].workflow, wf))
			t = set.items[i].total;
	metric_set_release(&set);
	return t;
}

static long dirty_count(struct store *st)
{
	long n = -1;
	struct cs_err err;
	sqlite3_stmt *s;
	CHECK_OK(store_prepare(st, "SELECT (SELECT count(*) FROM metric_dirty_runs) +"
			       " (SELECT count(*) FROM metric_dirty_pairs)", &s, "counting", &err));
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The table of every branch and that of main (a cache of its own), each
 * equal to a fresh computation. */
static void same_both(struct store *st, const struct th_conf *c)
{
	struct metrics_query all = {0}, mainq = {.branch = "main"};
	same_tables(st, c, &all);
	same_tables(st, c, &mainq);
}

/* Imports that touch some rows recompute those rows only (a row of
 * another workflow, made wrong on purpose, stays wrong), and the cache
 * equals a fresh computation after each: new runs of one workflow, then of
 * another, a retriaged run, a run moved to another workflow, deleted jobs,
 * tests, series, derived metrics and acknowledgements, a deleted run. */
TEST(table_cache_incremental)
{
	struct store *st = open_tmp("cache-inc.db");
	struct cs_err err;
	CHECK_OK(store_exec(st, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b')",
			    &err));
	add_runs(st, 1, 150);
	for (int r = 500; r < 520; r++)
		add_nightly(st, r);
	struct th_conf c;
	const char *t = "threshold peak_rss_mb\n\tbaseline 7\n\twarn +10 %\n\tfail +15 %\n"
			"threshold tests.*\n\tfail >= 1\n";
	CHECK_OK(conf_from_text(&c, t, &err));
	struct metrics_query all = {0};
	same_both(st, &c); /* builds the caches of every branch and of main */
	CHECK_INT(dirty_count(st), 0);
	long size_bench = cached_total(st, "size", "bench");
	CHECK(size_bench > 0);
	const char *poison = "UPDATE metric_summary SET total = total + 1000 WHERE name = 'size'"
			     " AND workflow = 'bench' AND branch = ''";
	const char *cure = "UPDATE metric_summary SET total = total - 1000 WHERE name = 'size'"
			   " AND workflow = 'bench' AND branch = ''";

	/* one more nightly run: bench's rows are not recomputed */
	CHECK_OK(store_exec(st, poison, &err));
	add_nightly(st, 520);
	CHECK(dirty_count(st) > 0);
	CHECK_INT(cached_total(st, "size", "bench"), size_bench + 1000);
	CHECK_INT(dirty_count(st), 0);
	CHECK_INT(cached_total(st, "tests.total", "nightly"), 21);
	CHECK_OK(store_exec(st, cure, &err));
	same_both(st, &c);

	/* runs of parity (r % 3 == 0) only, twice */
	for (int k = 0; k < 2; k++) {
		CHECK_OK(store_exec(st, poison, &err));
		add_runs(st, 150 + 3 * k, 151 + 3 * k);
		CHECK_INT(cached_total(st, "size", "bench"), size_bench + 1000);
		CHECK_OK(store_exec(st, cure, &err));
		same_both(st, &c);
	}
	/* derived metrics (run_metrics) of every run */
	CHECK(metrics_refresh(st, &err) >= 0);
	same_both(st, &c);
	/* each change, then the cache checked against a recomputation */
	static const char *const changes[] = {
		/* retriaged: a green run of bench turns red (the baseline moves) */
		"UPDATE runs SET conclusion = 'failure' WHERE id = 148",
		/* a run moved from bench to parity */
		"UPDATE runs SET workflow_name = 'parity' WHERE id = 149",
		/* a job (and its step), tests, a series, a derived metric deleted */
		"DELETE FROM jobs WHERE run_id = 519",
		"DELETE FROM test_results WHERE run_id = 520",
		"DELETE FROM steps WHERE job_id = 518",
		"DELETE FROM metric_series WHERE run_id = 147",
		"INSERT INTO run_metrics (run_id, name, value, origin)"
		" VALUES (146, 'coverage', 80, 'local'), (143, 'coverage', 81, 'local'),"
		" (145, 'coverage', 82, 'local')",
		"DELETE FROM run_metrics WHERE run_id = 146 AND name = 'coverage'",
	};
	for (size_t k = 0; k < ARRAY_SIZE(changes); k++) {
		CHECK_OK(store_exec(st, changes[k], &err));
		same_both(st, &c);
	}
	/* an acknowledgement, then taken back */
	struct metric_set set;
	ack_last_cps(st, &c, &all);
	same_both(st, &c);
	CHECK_OK(store_exec(st, "DELETE FROM metric_acks", &err));
	same_both(st, &c);
	/* a run deleted: everything recomputed (the poisoned row too) */
	CHECK_OK(store_exec(st, poison, &err));
	CHECK_OK(store_exec(st, "DELETE FROM runs WHERE id = 140", &err));
	same_both(st, &c);
	CHECK_INT(dirty_count(st), 0);
	/* metrics show and the chart take the change points from the cache */
	CHECK_OK(store_exec(st, "UPDATE metric_summary_cps SET pvalue = 0.25 WHERE branch = ''", &err));
	CHECK_OK(metrics_load_judged(st, &c, &all, &set, &err));
	bool cached = false;
	for (int i = 0; i < set.n; i++)
		for (int k = 0; k < set.items[i].n_cps; k++)
			cached |= set.items[i].cps[k].pvalue == 0.25;
	CHECK(cached);
	metric_set_release(&set);
	th_conf_release(&c);
	store_close(st);
}

/* A full rebuild is computed outside the write transaction: what happens
 * between its snapshot and its write (runs imported, a run deleted, a
 * change point acknowledged) leaves a cache that a fresh computation
 * equals on the next read. */
struct between {
	struct store *st;
	int what, calls;
};

/* Runs added one at a time: the rows they append to are brought up to date
 * from the state each kept (not read whole), and equal a fresh computation
 * after every run; a run older than the newest point, or of another branch
 * than the newest point's (its baseline's greens), reads the row whole. */
TEST(table_cache_appends)
{
	struct store *st = open_tmp("cache-app.db");
	struct cs_err err;
	CHECK_OK(store_exec(st, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b')",
			    &err));
	add_runs(st, 1, 80);
	struct th_conf c;
	CHECK_OK(conf_from_text(&c, "threshold peak_rss_mb\n\tbaseline 7\n\twarn +10 %\n", &err));
	same_both(st, &c);
	long appended = 0;
	for (int r = 80; r < 170; r++) {
		long w0 = metric_cache_rows_whole, a0 = metric_cache_rows_appended;
		add_runs(st, r, r + 1);
		same_both(st, &c);
		long whole = metric_cache_rows_whole - w0;
		appended += metric_cache_rows_appended - a0;
		/* a run of bench on main after one of bench on main (r % 3 and
		 * r % 5 both not 0, nor for r - 1), newest by time (r % 10 != 3):
		 * every row it touches, in every cache, an append */
		if (r % 15 == 14)
			CHECK_INT(whole, 0);
	}
	CHECK(appended > 100);
	/* the merge step's tests read from the state kept: a row appended to
	 * twice agrees with the whole series (checked above) and the state
	 * holds a bounded tail */
	sqlite3_stmt *s;
	CHECK_OK(store_prepare(st, "SELECT max(length(state)) FROM metric_summary_state", &s, "q", &err));
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) < 16000);
	sqlite3_finalize(s);
	th_conf_release(&c);
	store_close(st);
}

/* The incremental update computes outside the write transaction: the
 * hook, between its computation and its write, writes through the same
 * connection (a run added, then a change point acknowledged); the update
 * computes again and the caches still equal a fresh computation. */
struct inc_between {
	struct store *st;
	const struct th_conf *c;
	int calls;
};

static void inc_hook(void *ctx)
{
	struct inc_between *b = ctx;
	struct cs_err err;
	b->calls++;
	if (b->calls == 1)
		add_runs(b->st, 95, 96); /* bench on main, appended */
	if (b->calls == 2) {
		struct metrics_query all = {0};
		ack_last_cps(b->st, b->c, &all);
	}
	(void)err;
}

TEST(table_cache_incremental_outside_lock)
{
	struct store *st = open_tmp("cache-incl.db");
	struct cs_err err;
	CHECK_OK(store_exec(st, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b')",
			    &err));
	add_runs(st, 1, 94);
	struct th_conf c;
	CHECK_OK(conf_from_text(&c, "threshold peak_rss_mb\n\twarn +10 %\n", &err));
	struct metrics_query all = {0};
	same_tables(st, &c, &all);
	add_runs(st, 94, 95);
	struct inc_between b = {.st = st, .c = &c};
	long r0 = metric_cache_rebuilds, a0 = metric_cache_rows_appended;
	metric_cache_between = inc_hook;
	metric_cache_between_ctx = &b;
	struct metric_set set;
	CHECK_OK(metrics_load_table(st, st, &c, &all, &set, &err));
	metric_set_release(&set);
	metric_cache_between = NULL;
	metric_cache_between_ctx = NULL;
	/* computed twice: the first found the index moved; the second wrote,
	 * with the acknowledgement made meanwhile (no count moves for it) */
	CHECK_INT(b.calls, 2);
	CHECK_INT(metric_cache_rebuilds, r0);
	CHECK(metric_cache_rows_appended > a0);
	CHECK_INT(dirty_count(st), 0);
	same_tables(st, &c, &all);
	th_conf_release(&c);
	store_close(st);
}

/* Two processes read the table of an index whose cache is to be built:
 * the second waits for the first's rebuild (its claim) and reads what it
 * wrote, instead of rebuilding too (and one of the two ending stale). */
static void slow_hook(void *ctx)
{
	(void)ctx;
	struct timespec ts = {0, 400 * 1000000L};
	nanosleep(&ts, NULL);
}

static int child_reads(const char *path, bool slow)
{
	struct cs_err err;
	struct store *st = store_open(path, STORE_RW, &err);
	if (!st)
		_exit(20);
	struct th_conf c;
	memset(&c, 0, sizeof(c));
	cp_conf_default(&c.cp);
	struct metrics_query all = {0};
	struct metric_set set;
	metric_cache_between = slow ? slow_hook : NULL;
	long r0 = metric_cache_rebuilds;
	int rc = metrics_load_table(st, st, &c, &all, &set, &err);
	int n = set.n;
	metric_set_release(&set);
	store_close(st);
	_exit(rc < 0 ? 21 : n == 0 ? 22 : (int)(metric_cache_rebuilds - r0));
}

TEST(table_cache_concurrent_rebuild)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), "cache-conc.db");
	struct store *st = open_tmp("cache-conc.db");
	struct cs_err err;
	CHECK_OK(store_exec(st, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b')",
			    &err));
	add_runs(st, 1, 150);
	store_close(st);
	pid_t a = fork();
	if (a == 0)
		child_reads(path, true);
	/* the second starts once the first claimed the rebuild */
	st = open_tmp("cache-conc.db");
	bool claimed = false;
	for (int i = 0; i < 400 && !claimed; i++) {
		sqlite3_stmt *s;
		CHECK_OK(store_prepare(st, "SELECT count(*) FROM metric_summary_claims", &s, "q", &err));
		claimed = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
		sqlite3_finalize(s);
		struct timespec ts = {0, 10 * 1000000L};
		if (!claimed)
			nanosleep(&ts, NULL);
	}
	CHECK(claimed);
	pid_t b = fork();
	if (b == 0)
		child_reads(path, false);
	int sa = -1, sb = -1;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	CHECK(WIFEXITED(sa) && WIFEXITED(sb));
	CHECK_INT(WEXITSTATUS(sa), 1); /* the first rebuilt */
	CHECK_INT(WEXITSTATUS(sb), 0); /* the second read what it wrote */
	/* current, equal to a fresh computation, nothing claimed or dirty */
	struct th_conf c;
	memset(&c, 0, sizeof(c));
	cp_conf_default(&c.cp);
	struct metrics_query all = {0};
	long r0 = metric_cache_rebuilds;
	same_tables(st, &c, &all);
	CHECK_INT(metric_cache_rebuilds, r0);
	CHECK_INT(dirty_count(st), 0);
	sqlite3_stmt *s;
	CHECK_OK(store_prepare(st, "SELECT count(*) FROM metric_summary_claims", &s, "q", &err));
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 0);
	sqlite3_finalize(s);
	store_close(st);
}

static void between_hook(void *ctx)
{
	struct between *b = ctx;
	struct cs_err err;
	b->calls++;
	if (b->what == 0) {
		add_runs(b->st, 300, 303); /* the count moves on, rows turn dirty */
	} else if (b->what == 1) {
		CHECK_OK(store_exec(b->st, "DELETE FROM runs WHERE id = 120", &err));
	} else {
		struct metric_set set;
		struct th_conf none;
		memset(&none, 0, sizeof(none));
		cp_conf_default(&none.cp);
		struct metrics_query all = {0};
		CHECK_OK(metrics_load(b->st, &all, &set, &err));
		for (int i = 0; i < set.n; i++) {
			CHECK_OK(metrics_changepoints(NULL, &set.items[i], &none.cp, &err));
			if (set.items[i].n_cps)
				CHECK_OK(metrics_ack(b->st, set.items[i].name, set.items[i].workflow,
						     set.items[i].pts[set.items[i].cps[set.items[i].n_cps - 1].idx].sha,
						     "meanwhile", &err));
		}
		metric_set_release(&set);
	}
}

TEST(table_cache_rebuild_outside_lock)
{
	struct th_conf c;
	struct store *st = cache_db("cache-between.db", &c);
	struct cs_err err;
	struct metrics_query all = {0};
	struct between b = {.st = st};
	metric_cache_between = between_hook;
	metric_cache_between_ctx = &b;
	for (b.what = 0; b.what < 3; b.what++) {
		int before = b.calls;
		/* stale: the next read rebuilds, and the hook runs in between */
		CHECK_OK(store_exec(st, "UPDATE metric_summary_meta SET gen = -1", &err));
		struct metric_set set;
		CHECK_OK(metrics_load_table(st, st, &c, &all, &set, &err));
		metric_set_release(&set);
		CHECK_INT(b.calls, before + 1);
		if (b.what == 0) /* written at the snapshot's count: dirty rows remain */
			CHECK(dirty_count(st) > 0);
		metric_cache_between = NULL;
		same_tables(st, &c, &all);
		CHECK_INT(dirty_count(st), 0);
		metric_cache_between = between_hook;
	}
	/* the acknowledgement made meanwhile reached the rows written */
	struct metric_set set;
	metric_cache_between = NULL;
	CHECK_OK(metrics_load_table(st, st, &c, &all, &set, &err));
	bool acked = false;
	for (int i = 0; i < set.n; i++)
		acked |= set.items[i].n_cps && set.items[i].cps[0].acked &&
			 set.items[i].cps[0].note && !strcmp(set.items[i].cps[0].note, "meanwhile");
	CHECK(acked);
	metric_set_release(&set);
	metric_cache_between_ctx = NULL;
	th_conf_release(&c);
	store_close(st);
}

/* metric_scalars (migration 014) holds exactly the points of the scalar
 * series for writers that write a series' points before its count, as the
 * importer does: a file stored (series, points, counts), one stored again
 * (points replaced, by a NULL too, counts written again), a series of its
 * count first and its point already there, a value or a name changed, a
 * count that moves off 1 and back, a series and a run deleted. */
static long scalars_q(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long v = -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#define SCALARS_DEF \
	"SELECT s.name, s.run_id, s.id, p.idx, p.value FROM metric_series s" \
	" JOIN metric_points p ON p.series_id = s.id WHERE s.n_points = 1 AND p.value IS NOT NULL"
#define SCALARS_ROWS "SELECT name, run_id, series_id, idx, value FROM metric_scalars"

static void scalars_step(struct store *st, const char *sql, long want, int line)
{
	struct cs_err err;
	if (store_exec(st, sql, &err) < 0)
		t_fail(__FILE__, line, "%s: %s", sql, err.msg);
	long off = scalars_q(st, "SELECT count(*) FROM (" SCALARS_ROWS " EXCEPT " SCALARS_DEF ")") +
		   scalars_q(st, "SELECT count(*) FROM (" SCALARS_DEF " EXCEPT " SCALARS_ROWS ")");
	if (off != 0)
		t_fail(__FILE__, line, "after %s: %ld rows differ", sql, off);
	long n = scalars_q(st, "SELECT count(*) FROM metric_scalars");
	if (n != want)
		t_fail(__FILE__, line, "after %s: %ld rows, expected %ld", sql, n, want);
}

TEST(scalar_points_kept_by_name)
{
	struct store *st = open_tmp("scalars.db");
	struct cs_err err;
	struct buf b = BUF_INIT;
	buf_adds(&b, "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'a/b');");
	for (int r = 1; r <= 3; r++)
		buf_addf(&b, "INSERT INTO runs (id, repo_id, provider_id, workflow_name, head_branch,"
			     " head_sha, status, conclusion, created_at, started_at, updated_at,"
			     " imported_at) VALUES (%d, 1, %d, 'w', 'main', '%040d', 'completed',"
			     " 'success', %d, %d, %d, 0);"
			     "INSERT INTO artifacts (id, run_id, name) VALUES (%d, %d, 'a');"
			     "INSERT INTO artifact_files (id, artifact_id, path, size, kind)"
			     " VALUES (%d, %d, 'm.json', 1, 'metrics');",
			 r, 100 + r, r, r * 1000, r * 1000, r * 1000 + 10, r, r, r, r);
	CHECK_OK(store_exec(st, buf_cstr(&b), &err));
	buf_release(&b);
#define STEP(sql, want) scalars_step(st, sql, want, __LINE__)
	/* the importer's way: the count set once the file's points are in */
	STEP("INSERT INTO metric_series (id, run_id, file_id, name) VALUES (10, 1, 1, 'a');"
	     "INSERT INTO metric_series (id, run_id, file_id, name) VALUES (11, 1, 1, 'b');"
	     "INSERT INTO metric_points VALUES (10, 0, 0, 5);"
	     "INSERT INTO metric_points VALUES (11, 0, 0, 1), (11, 1, 1, 2), (11, 2, 2, 3);",
	     0);
	STEP("UPDATE metric_series SET n_points = (SELECT count(*) FROM metric_points p"
	     " WHERE p.series_id = metric_series.id) WHERE file_id = 1", 1);
	/* a series stored with its count, its point already there (the index
	 * as a script with no foreign keys wrote it: bench/metrics.sh) */
	STEP("PRAGMA foreign_keys = OFF;"
	     "INSERT INTO metric_points VALUES (20, 0, 0, 6);"
	     "INSERT INTO metric_series (id, run_id, file_id, name, n_points) VALUES (20, 2, 2, 'a', 1);"
	     "PRAGMA foreign_keys = ON", 2);
	STEP("INSERT INTO metric_series (id, run_id, file_id, name) VALUES (21, 2, 2, 'b');"
	     "INSERT INTO metric_points VALUES (21, 0, 0, NULL);"
	     "UPDATE metric_series SET n_points = 1 WHERE id = 21", 2);
	/* the file stored again: its points replaced, then its counts */
	STEP("INSERT OR REPLACE INTO metric_points VALUES (20, 0, 0, NULL);"
	     "UPDATE metric_series SET n_points = 1 WHERE file_id = 2", 1);
	STEP("INSERT OR REPLACE INTO metric_points VALUES (20, 0, 0, 7);"
	     "UPDATE metric_series SET n_points = 1 WHERE file_id = 2", 2);
	STEP("INSERT OR REPLACE INTO metric_points VALUES (20, 0, 0, 7.5);"
	     "UPDATE metric_series SET n_points = 1 WHERE file_id = 2", 2);
	STEP("UPDATE metric_points SET value = 8 WHERE series_id = 10", 2);
	STEP("UPDATE metric_points SET value = NULL WHERE series_id = 10", 1);
	STEP("UPDATE metric_points SET value = 9 WHERE series_id IN (10, 21)", 3);
	STEP("UPDATE metric_series SET name = 'c' WHERE id = 10", 3);
	STEP("UPDATE metric_series SET run_id = 3 WHERE id = 21", 3);
	STEP("UPDATE metric_series SET n_points = 2 WHERE id = 20", 2);
	STEP("UPDATE metric_series SET n_points = 1 WHERE id = 20", 3);
	STEP("UPDATE metric_series SET n_points = 1 WHERE id = 11", 6);
	STEP("UPDATE metric_series SET n_points = 3 WHERE id = 11", 3);
	STEP("DELETE FROM metric_points WHERE series_id = 20;"
	     "UPDATE metric_series SET n_points = 0 WHERE id = 20", 2);
	STEP("DELETE FROM metric_series WHERE id = 21", 1);
	STEP("DELETE FROM runs WHERE id = 1", 0);
#undef STEP
	store_close(st);
}
