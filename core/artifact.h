/* artifact.h - parsers for what CI uploads: JUnit XML test reports and metric
 * files (CSV, TSV, JSONL, JSON documents). Pure parsers: they read bytes and
 * call back; the importer stores what they report. None of them keeps more
 * than one row / one test case in memory beyond the input buffer itself.
 *
 * Files: artifact.c artifact_sniff and the shared helpers (artifact_int.h,
 * private); junit.c junit_parse; metricfile.c metrics_parse.
 */
#ifndef CS_ARTIFACT_H
#define CS_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* --- classification ------------------------------------------------------- */
enum artifact_kind {
	ART_OTHER = 0,
	ART_JUNIT,     /* XML whose root is <testsuites> or <testsuite> */
	ART_METRICS,   /* .csv .tsv .jsonl .ndjson .json with numbers */
};
/* Guess from the file name and the first bytes (head, up to 4 KB). */
enum artifact_kind artifact_sniff(const char *name, const char *head, size_t n);

/* --- JUnit ------------------------------------------------------------------ */
enum test_outcome { TEST_PASSED = 0, TEST_FAILED, TEST_ERROR, TEST_SKIPPED, TEST_FLAKY };
const char *test_outcome_name(enum test_outcome o);

struct test_case {
	const char *suite;      /* enclosing <testsuite name>, may be NULL */
	const char *classname;  /* may be NULL */
	const char *name;       /* never NULL ("" if absent) */
	const char *file;       /* file attribute, or from the failure text, may be NULL */
	long line;              /* 0 when unknown */
	int64_t duration_ms;    /* -1 when unknown */
	enum test_outcome outcome;
	const char *message;    /* failure/error/skipped message attribute, may be NULL */
	const char *details;    /* element text (stack trace), capped at 16 KB, may be NULL */
	int reruns;             /* rerunFailure/rerunError/flakyFailure/flakyError count */
};

typedef int (*junit_cb)(void *ctx, const struct test_case *tc);

/* Parse a JUnit XML document (pytest, Surefire, Jest, go-junit-report,
 * cargo-nextest dialects). Outcome rules: <failure> -> failed, <error> ->
 * error, <skipped> -> skipped; flaky when the final result passed but
 * <flakyFailure>/<flakyError> or <rerunFailure> elements show earlier failed
 * attempts (Surefire); a case with <rerunFailure> and a <failure> stays failed.
 * Returns the number of cases, or -1 with err naming the byte/line problem.
 * DTDs and entity declarations are refused (billion laughs). */
long junit_parse(const char *data, size_t n, junit_cb cb, void *ctx, struct cs_err *err);

/* --- metrics ------------------------------------------------------------------ */
enum metrics_format { MET_AUTO = 0, MET_CSV, MET_TSV, MET_JSONL, MET_JSON };

/* One value of one series. Series are named by column (CSV/TSV/JSONL keys,
 * nested objects flattened with dots) or by dotted path (JSON documents,
 * array elements as name.N). For row formats the x axis is the first column
 * named step, frame, tick, iteration or index (case-insensitive), reported in
 * x_name; without one x is the 0-based row number and x_name is NULL. */
struct metric_point {
	const char *name;
	const char *x_name;
	long idx;         /* row number, 0-based (JSON documents: 0) */
	double x;
	double value;
	bool missing;     /* empty cell, null, NaN text: value is meaningless */
};

typedef int (*metrics_cb)(void *ctx, const struct metric_point *p);

/* Parse a metric file; the format comes from fmt or, for MET_AUTO, from the
 * name's extension and the content. Non-numeric columns are skipped (a column
 * is numeric when its non-empty cells parse as numbers). Returns the number
 * of points reported, or -1 with err naming the line/byte problem. */
long metrics_parse(const char *name, const char *data, size_t n, enum metrics_format fmt,
		   metrics_cb cb, void *ctx, struct cs_err *err);

#endif
