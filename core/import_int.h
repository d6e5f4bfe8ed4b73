/* import_int.h - what the parts of the importer share; private to
 * core/import.c (reading run folders and archives, dispatch),
 * core/importfile.c (single log files), core/importrun.c (writing runs,
 * batches), core/importlog.c (storing one job's log with its steps,
 * groups and findings) and core/importart.c (artifacts: test results, metric
 * series, file lists). Nothing else includes it: the interface is import.h.
 */
#ifndef CS_IMPORT_INT_H
#define CS_IMPORT_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "import.h"
#include "logstore.h"
#include "storesql.h"
#include "triage.h"
#include "util.h"
#include "ziparc.h"

#define JSON_MAX (64u << 20)       /* run.json / jobs.json */
#define ARTIFACT_FILE_MAX (64u << 20) /* parsed in memory; larger ones are listed only */
#define LOG_MAX (16ull << 30)      /* one log entry inside an archive */
#define FINDING_MSG_MAX 1000
#define GROUP_TITLE_MAX 500
#define MAX_DEPTH 32               /* folder recursion */

/* read ahead: at most this many log files, and no new read once this many
 * bytes are waiting (so at most about IMPORT_AHEAD_BYTES + IMPORT_FILE_MEM);
 * a buffer larger than IMPORT_AHEAD_KEEP is freed once taken */
#define IMPORT_AHEAD_FILES 8
#define IMPORT_AHEAD_BYTES (1u << 20)
#define IMPORT_AHEAD_KEEP (256u << 10)

struct importer {
	/* the changes to jobs rows made at their insert instead of by an
	 * UPDATE (log_state, a log's conclusion before it is judged): the
	 * metric_gen steps the UPDATE's trigger would have made, added by
	 * mark_steps() for the run (importrun.c) */
	int64_t gen_extra;
	struct store *st;
	struct import_opts opts;
	struct import_progress prog;
	uint64_t prog_last;
	int ok, failed;
	int64_t now;
	/* prepared statements, valid for the importer's life */
	sqlite3_stmt *ins_point, *ins_test;
	/* the open batch (core/import.c): runs done in it, since when */
	bool in_batch;
	int batch_runs;
	int64_t batch_t0;
	/* the repository row the open batch's runs upserted last, with no
	 * html_url to give it (a local log's): a next run of it takes its id
	 * without the upsert, which would change nothing. Only while that row
	 * is certain to be there: forgotten when a run fails (its savepoint
	 * may have inserted it) and when the batch ends. repo_key owned. */
	char *repo_key;
	int64_t repo_key_id;
	/* the run being imported, when it is a log given alone: the bytes of
	 * its jobs' logs as stored, while they total at most LOG_MEM_MAX, for
	 * triage to judge them without reading them back (conclude_log) */
	struct log_mem *mem;
	int n_mem;
	size_t mem_alloc;
	size_t mem_total;
	/* the log files a folder's walk imports next, in order (import_dir
	 * sets them, owned; at most IMPORT_AHEAD_FILES) and the thread that
	 * reads them ahead while this one is stored (core/importfile.c) */
	char *next_logs[IMPORT_AHEAD_FILES];
	int n_next_logs;
	struct file_ahead *ahead;
	/* the rules scan the log writer's worker makes of a big log given
	 * alone (triage.h), made when first wanted; NULL: no such scan */
	struct triage_prescan_ws *scan_ws;
	bool scan_ws_tried;
};
/* Stop the read-ahead thread and free what it holds (core/importfile.c). */
void import_ahead_free(struct importer *im);
/* Forget the log files a folder's walk imports next (core/importfile.c). */
void import_next_logs_clear(struct importer *im);

#define LOG_MEM_MAX (1u << 20)
#define LOG_TAIL_MAX 512
struct log_mem {
	int64_t job_row_id;
	struct buf data;
	bool over; /* went past LOG_MEM_MAX: not kept */
	/* its last bytes, kept even when over: the verdict a log ends in */
	char tail[LOG_TAIL_MAX];
	size_t tail_len;
	/* its steps as stored (steps_known: the steps made from its groups,
	 * the only ones its job has), handed to triage instead of read back */
	struct step *steps;
	int n_steps;
	bool steps_known;
	/* when over: the rules scan of its len bytes made by the log writer's
	 * worker (ok, or NULL), handed to triage instead of reading it back */
	struct triage_prescan *pre;
	size_t len;
};
/* The last bytes of a log kept in memory (data, or tail when over). */
void import_mem_tail(const struct log_mem *m, const char **s, size_t *n);
/* Forget the logs kept in memory (core/importlog.c). */
void import_mem_reset(struct importer *im);

/* --- the description of one run to import --------------------------------------- */
struct job_src {
	const cJSON *json;     /* jobs.json element, NULL for archive-only jobs */
	int64_t provider_id;
	const char *name;
	int attempt;
	int ordinal;
	int64_t row_id;
	/* where its log comes from */
	char *log_file;        /* logs/<id>.txt */
	long zip_entry;        /* top-level archive entry, -1 */
	long *step_entries;    /* archive step files, by step order */
	int *step_numbers;
	int n_step_entries;
	int n_findings;
	bool log_expired;      /* logs/<id>.expired: GitHub answered 410 */
	/* a job of a `gh run view --log` file (job<TAB>step<TAB>line): its
	 * lines are bytes [gh_off, gh_off + gh_len) of log_file, stored without
	 * the prefix; gh_steps[i] spans the lines of prefix step i (1-based
	 * lines of the job); raw output puts the prefix back (logs.source
	 * 'gh-log') */
	bool gh;
	uint64_t gh_off, gh_len;
	struct gh_step *gh_steps;
	int n_gh_steps;
	/* the job's last "##[error]Process completed with exit code N." line
	 * (N > 0): the step it is in failed; 0 when there is none */
	int64_t gh_exit_line;
};

struct gh_step {
	char *name;
	int64_t first_line, last_line;
};

struct run_src {
	const char *path;      /* folder, zip or log file */
	/* what the folder walk already knows of a file in it (import_dir()):
	 * its realpath() (owned; NULL: not known, resolve path) and its stat
	 * (NULL: not known). A realpath() per file walked each component of
	 * the path again, twice per log: a tenth of many small logs' time. */
	char *real;
	const struct stat *st;
	char *label;           /* for messages */
	cJSON *run;            /* run.json (may be NULL: archive/log only) */
	cJSON *jobs_doc;
	struct job_src *jobs;
	int n_jobs;
	int64_t provider_id;
	int latest_attempt;
	struct ziparc *zip;
	int zip_attempt;       /* the attempt the archive holds */
	char *slug;
	struct buf sig;        /* import signature */
	bool has_artifacts;    /* the folder has an artifacts/ folder */
	bool log_alone;        /* a single log file: its conclusion is decided */
	/* a single log file of at most IMPORT_FILE_MEM bytes, read whole once:
	 * its fingerprint, the gh-log scan and the store all read these bytes
	 * (file_in_mem), so the file is opened and read once, not three times */
	struct buf file;
	bool file_in_mem;
	/* its chunk's zstd frame and filters, made by the read-ahead thread
	 * (logw_use_prep()); file_prep.ok false when it has none */
	struct log_prep file_prep;
	/* its rules scan, made by the read-ahead thread too (triage.h), or
	 * NULL / not ok */
	struct triage_prescan *file_pre;
};

/* The largest log file read whole into memory (run_src.file); a larger one
 * is streamed from the file, its memory one piece at a time. */
#define IMPORT_FILE_MEM (1u << 20)

struct art_totals {
	int files, tests, series;
};

/* --- shared by the parts (import.c) ------------------------------------------------ */
/* A JSON file read whole (at most JSON_MAX); label names it in errors. */
cJSON *import_json_parse_file(const char *path, const char *label, struct cs_err *err);
/* Add a file's size and time to an import signature. */
void import_sig_add_file(struct buf *sig, const char *path);
/* The same from the file's stat already taken (st NULL: stat it). */
void import_sig_add_stat(struct buf *sig, const char *path, const struct stat *st);
/* Where a run or file was imported from, whole (runs.source): rs->real,
 * else path resolved, else path as given. Allocated; NULL for NULL. */
char *import_source_path(const struct run_src *rs);
/* FNV-1a over n bytes, from h. */
uint64_t import_fnv1a(uint64_t h, const void *data, size_t n);
/* A stable identity for a file that has no id of its own: its size and its
 * first and last 64 KiB. */
int import_file_fingerprint(const char *path, uint64_t *h, struct cs_err *err);
/* The same fingerprint of a file's n bytes held in memory. */
uint64_t import_mem_fingerprint(const void *data, size_t n);
/* An id for data that has none: a positive 53-bit hash, stable across imports. */
int64_t import_content_id(uint64_t h);
/* A new job at the end of rs: zeroed, no archive entry (zip_entry -1), its
 * ordinal its position. */
struct job_src *import_add_job(struct run_src *rs, size_t *alloc);
/* Has the caller asked to stop (opts.interrupted)? */
bool import_interrupted(struct importer *im);
/* Count input read, and report progress every few MB. */
void import_progress_add(struct importer *im, uint64_t bytes, uint64_t files);
/* The entries of a folder, sorted (so imports are deterministic), without
 * "." and ".." and, unless all, without hidden ones. Free with
 * import_free_names(). */
int import_list_dir(const char *dir, bool all, char ***names, size_t *count, struct cs_err *err);
void import_free_names(char **names, size_t n);
/* Members of a JSON object: a string (or NULL), an exact integer, an
 * RFC 3339 time (CS_TIME_NONE when absent or bad). */
const char *import_jstr(const cJSON *o, const char *key);
bool import_jint(const cJSON *o, const char *key, int64_t *out);
int64_t import_jtime(const cJSON *o, const char *key);
/* One statement on ids ?1, ?2 while replacing a run ("cannot replace the run"). */
int import_exec_ids(struct importer *im, const char *sql, int64_t a, int64_t b,
		    struct cs_err *err);

/* --- a single log file (importfile.c) ---------------------------------------------- */
/* A log file as a run: a `gh run view --log` file split into its jobs and
 * steps, any other as one job. */
int import_load_log_file(struct importer *im, const char *path, struct run_src *rs,
			 struct cs_err *err);

/* --- writing a run, batches (importrun.c) ------------------------------------------ */
/* Import one run (rs, read from folder or NULL) inside the open batch. */
int import_run_src(struct importer *im, struct run_src *rs, const char *folder,
		   struct cs_err *err);
/* Commit the open batch, if any. */
int import_batch_commit(struct importer *im, struct cs_err *err);
/* The open batch is gone: its runs completed runs are failures (why). */
void import_batch_lost(struct importer *im, int runs, const struct cs_err *why);

/* --- one job's log (importlog.c) --------------------------------------------------- */
/* Store js's log (its file, archive entry or step files), attributing lines
 * to steps and recording groups and findings, inside the run's transaction. */
int import_job_log(struct importer *im, struct run_src *rs, struct job_src *js,
		   struct cs_err *err);

/* --- artifacts (importart.c) ------------------------------------------------------- */
/* A marker the fetcher leaves for a log or artifact GitHub has expired
 * (410): a small file holding exactly IMPORT_EXPIRED_MARKER. */
bool import_is_expired_marker(const char *path);
/* The artifacts/ folder of a run folder: each artifact (a zip or a folder)
 * listed, its JUnit reports and metric files parsed; totals in *tot. */
int import_artifacts(struct importer *im, const char *folder, int64_t run_row_id,
		     struct art_totals *tot, struct cs_err *err);

#endif
