/* import.h - bringing runs into the index.
 *
 * import_path() accepts:
 *  - a run folder (run.json, jobs.json, logs.zip, logs/<job_id>.txt,
 *    artifacts/...; DESIGN.md section 3), with earlier attempts' run objects
 *    in attempts/<n>/run.json;
 *  - a folder holding run folders at any depth;
 *  - a run's log archive (logs.zip / logs_<run id>.zip as GitHub serves it);
 *  - a single plain log file: an ad-hoc run with one job named after the file.
 *
 * Each run is imported in one transaction: on any error the run is rolled
 * back, the error is reported through on_error naming the file and the
 * problem, and the import goes on with the next run; nothing imported before
 * is changed. Importing the same data again changes nothing (the run's
 * import signature is compared); a run that changed (a newer state of an
 * in-progress run, logs fetched later) replaces its earlier import; a newer
 * attempt is a new row beside the older ones.
 */
#ifndef CS_IMPORT_H
#define CS_IMPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* A run folder may hold logs/<job id>.expired and artifacts/<name>.expired
 * with exactly this content: the fetcher's record that GitHub answered 410
 * (expired). The job's log_state becomes 'expired', the artifact is listed
 * with expired = 1. */
#define IMPORT_EXPIRED_MARKER "ciscope: expired (HTTP 410)\n"

enum import_state { IMPORT_CREATED, IMPORT_UPDATED, IMPORT_UNCHANGED };
const char *import_state_name(enum import_state s);

struct import_event {
	enum import_state state;
	int64_t run_row_id;
	int64_t provider_id;
	int attempt;
	const char *repo;
	const char *workflow;
	const char *path;
	int n_jobs, n_logs, n_findings, n_tests, n_series, n_artifact_files;
	bool triaged; /* already triaged inside the import (a log given alone) */
};

struct import_progress {
	uint64_t files;      /* logs and artifact files read */
	uint64_t bytes;      /* their uncompressed bytes */
	uint64_t runs;       /* runs done (any state) */
	const char *current; /* path being imported */
};

struct import_opts {
	void (*on_run)(void *ctx, const struct import_event *ev);
	void (*on_error)(void *ctx, const char *msg);
	/* called at most every few MB of input: progress display */
	void (*on_progress)(void *ctx, const struct import_progress *p);
	void *ctx;
	/* set to non-zero (from a signal handler) to stop: the run in progress is
	 * rolled back, the runs before it stay. */
	volatile sig_atomic_t *interrupted;
	/* "failure" or "success": the conclusion of a log imported alone (a
	 * log file has none of its own; without this it is decided from the
	 * evidence in the log and runs.conclusion_why says which). NULL: decide. */
	const char *conclusion;
};

struct importer;

/* Never fails: what can (preparing statements against the index) happens at
 * the first import_path(), which reports it like any other import error. */
struct importer *importer_new(struct store *st, const struct import_opts *opts);
/* Commits what import_add() left open (a failure goes to on_error). */
void importer_free(struct importer *im);
/* Import whatever path is. Returns 0 when every run imported, -1 when any
 * failed (each failure went to on_error; err holds the last one). Its runs
 * are committed when it returns. */
int import_path(struct importer *im, const char *path, struct cs_err *err);
/* The same for one path of many (the files and folders of one command, the
 * runs a fetch made ready): its runs join the importer's open transaction,
 * committed every few hundred runs or a quarter second, and by
 * import_flush(). Each run stays all-or-nothing; a crash loses at most the
 * open batch, never a part of a run. Nothing else may write through the
 * store until import_flush(). */
int import_add(struct importer *im, const char *path, struct cs_err *err);
/* Commits the runs of import_add() not yet committed. -1 when that fails:
 * those runs are counted as failed and reported to on_error. */
int import_flush(struct importer *im, struct cs_err *err);
/* Totals so far. */
void importer_totals(const struct importer *im, int *ok, int *failed);

#endif
