/* runitems.h - what a run brought besides its logs, for the run view: its
 * artifacts and their files, the test results that did not pass (with the
 * counts of every outcome) and its metric series with a summary of their
 * values; and the values of one series. The same facts `ciscope show
 * --json` counts (artifacts {count, files}, tests, metric_series).
 */
#ifndef CS_RUNITEMS_H
#define CS_RUNITEMS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

struct run_item_file {
	char *path;
	int64_t size;
	char *kind;   /* junit, metrics, other, rejected */
	char *note;   /* why rejected, a parse error; may be NULL */
	int n_tests, n_series; /* what was read from it */
};

struct run_artifact {
	char *name;
	int64_t size; /* -1: unknown */
	bool expired;
	struct run_item_file *files;
	int n_files;
};

struct run_test {
	char *suite, *classname, *name, *file; /* name never NULL */
	long line;                             /* 0: unknown */
	int64_t duration_ms;                   /* -1: unknown */
	char *outcome;                         /* failed, error, flaky */
	char *message, *details;               /* may be NULL */
	int reruns;
	char *artifact;                        /* the artifact it came in */
};

struct run_series {
	int64_t id;
	char *name, *x_name;       /* x_name NULL: row order */
	char *artifact, *path;     /* where it came from */
	long n_points, n_values;   /* points, and those with a value */
	double first, last, min, max; /* over the values (meaningless when n_values == 0) */
};

struct run_items {
	struct run_artifact *artifacts;
	int n_artifacts, n_files;
	struct run_test *tests; /* failed, then error, then flaky; by suite and name */
	int n_tests;
	int passed, failed, errors, skipped, flaky;
	struct run_series *series; /* by artifact, file and name */
	int n_series;
};

/* Load them for a run (runs.id). Returns 0, or -1 with err set (out empty). */
int run_items_load(struct store *st, int64_t run_row_id, struct run_items *out,
		   struct cs_err *err);
void run_items_release(struct run_items *it);

/* A size as the run view and `ciscope show` print it: "812 B", "12.3 KiB",
 * "4.0 MiB"; "" when n < 0 (not known). */
void run_item_size(int64_t n, char *out, size_t len);

/* The first max points of series_id in order: x[i] and v[i] (NaN for a
 * missing value), allocated (caller frees); *total gets the series' point
 * count. Returns the points read, or -1 with err set. */
long run_series_points(struct store *st, int64_t series_id, long max, double **x, double **v,
		       long *total, struct cs_err *err);

/* The bytes of an artifact file, at most max of them (*truncated when there
 * are more), read again from where the run was imported (the index keeps
 * what was read from a file, not its bytes): <source>/artifacts/<artifact>/
 * <path>, the entry <path> of <source>/artifacts/<artifact>.zip, or the file
 * <source>/artifacts/<artifact> itself (a relative <source>, kept by an
 * older import, is looked for from here, then from the index's folder and
 * each folder above it). Names with a ".." component, an
 * absolute path or (the artifact) a slash are refused. Returns 0, or -1 with
 * err saying what is missing (a run folder moved away, an expired
 * artifact). */
int run_artifact_read(struct store *st, int64_t run_row_id, const char *artifact,
		      const char *path, size_t max, struct buf *out, bool *truncated,
		      struct cs_err *err);

#endif
