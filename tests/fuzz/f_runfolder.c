/* f_runfolder.c - importing into a real index (core/import.h): a run
 * folder (run.json, jobs.json and logs.zip as the fetcher writes them), or a
 * single log file.
 *
 * An input starting with '{' holds the files of a run folder separated by
 * lines "--ciscope-fuzz--": run.json, then optionally jobs.json, logs.zip
 * and an artifact (artifacts/a.zip: JUnit reports, metric files);
 * any other input is a log file. They are written to /dev/shm (else
 * $TMPDIR) and imported into an in-memory index.
 *
 * Properties: a failed import leaves the index as it was (same runs, jobs
 * and logs); a successful one, repeated, changes nothing (every run
 * reported unchanged); the foreign keys hold; a log file imported reads
 * back byte for byte (`log --raw`) unless it is a `gh run view --log` file
 * (tests/fuzz/seeds/runfolder/gh-run-view.log), split into its jobs.
 */
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/import.h"
#include "core/logstore.h"
#include "core/store.h"
#include "core/util.h"

#include "fuzz.h" /* after core/store.h: fuzz_mem_store */

#define SEP "\n--ciscope-fuzz--\n"

static struct store *st;
static char folder[256], logfile[300];
static unsigned execs;

struct tally {
	int created, updated, unchanged;
};

static void on_run(void *ctx, const struct import_event *ev)
{
	struct tally *t = ctx;
	if (ev->state == IMPORT_CREATED)
		t->created++;
	else if (ev->state == IMPORT_UPDATED)
		t->updated++;
	else
		t->unchanged++;
}

static void on_error(void *ctx, const char *msg)
{
	(void)ctx;
	FUZZ_CHECK(msg && *msg);
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *s;
	FUZZ_CHECK(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_step(s) == SQLITE_ROW);
	int64_t n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int64_t state(void)
{
	return count("SELECT (SELECT count(*) FROM runs) * 1000000 + (SELECT count(*) FROM jobs) "
		     "* 1000 + (SELECT count(*) FROM logs)");
}

/* The log just created reads back as the bytes imported. */
static void check_raw(const uint8_t *data, size_t size)
{
	int64_t id = count("SELECT max(id) FROM logs");
	struct cs_err err;
	struct logr *r = logr_open(st, id, &err);
	FUZZ_CHECK(r != NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(logr_write_all(r, f, &err) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(len == size && memcmp(buf, data, size) == 0);
	FUZZ_CHECK(logr_raw_size(r) == size);
	free(buf);
	logr_close(r);
}

static void put(const char *name, const char *data, size_t n, bool present)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/%s", folder, name);
	if (!present) {
		unlink(path);
		return;
	}
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	if (n)
		FUZZ_CHECK(fwrite(data, 1, n, f) == n);
	FUZZ_CHECK(fclose(f) == 0);
}

/* the scratch folder goes when the fuzzer exits */
static void cleanup(void)
{
	static const char *const names[] = {"run.json", "jobs.json", "logs.zip", "fuzz.log",
					    "artifacts/a.zip", "artifacts"};
	char path[400];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, names[i]);
		remove(path);
	}
	rmdir(folder);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(folder, sizeof(folder), "%s/ciscope-fuzz-%d", base ? base : "/tmp", (int)getpid());
	mkdir(folder, 0700);
	snprintf(logfile, sizeof(logfile), "%s/fuzz.log", folder);
	char art[300];
	snprintf(art, sizeof(art), "%s/artifacts", folder);
	mkdir(art, 0700);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!folder[0])
		setup();
	/* a fresh index now and then: memory stays flat over a long run */
	if (!st || ++execs % 256 == 0)
		st = fuzz_mem_store(st);

	bool as_log = size == 0 || data[0] != '{';
	const char *target = as_log ? logfile : folder;
	if (as_log) {
		put("run.json", NULL, 0, false);
		put("fuzz.log", (const char *)data, size, true);
	} else {
		put("fuzz.log", NULL, 0, false);
		const char *p = (const char *)data, *end = p + size;
		const char *part[4] = {NULL, NULL, NULL, NULL};
		size_t len[4] = {0, 0, 0, 0};
		for (int i = 0; i < 4 && p; i++) {
			const char *sep = i < 3 ? memmem(p, (size_t)(end - p), SEP, strlen(SEP)) : NULL;
			part[i] = p;
			len[i] = sep ? (size_t)(sep - p) : (size_t)(end - p);
			p = sep ? sep + strlen(SEP) : NULL;
		}
		put("run.json", part[0], len[0], true);
		put("jobs.json", part[1], len[1], part[1] != NULL);
		put("logs.zip", part[2], len[2], part[2] != NULL);
		put("artifacts/a.zip", part[3], len[3], part[3] != NULL);
	}

	struct tally t = {0, 0, 0};
	struct import_opts o = {.on_run = on_run, .on_error = on_error, .ctx = &t};
	struct importer *im = importer_new(st, &o);
	struct cs_err err;
	err_clear(&err);
	int64_t before = state();
	int rc = import_path(im, target, &err);
	importer_free(im);
	if (rc < 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(t.created + t.updated + t.unchanged == 0);
		FUZZ_CHECK(state() == before);
	} else {
		FUZZ_CHECK(t.created + t.updated + t.unchanged == 1);
		int64_t after = state();
		struct tally again = {0, 0, 0};
		o.ctx = &again;
		im = importer_new(st, &o);
		FUZZ_CHECK(import_path(im, target, &err) == 0);
		importer_free(im);
		FUZZ_CHECK(again.unchanged == 1 && again.created + again.updated == 0);
		FUZZ_CHECK(state() == after);
		/* one log per file; a `gh run view --log` file is split into its
		 * jobs (each log its job's lines, the prefix stripped: `log --raw`
		 * of the run puts them back, tests/cli/plainlog.sh) */
		if (as_log && t.created == 1 && size > 0 &&
		    count("SELECT count(*) FROM logs WHERE id = (SELECT max(id) FROM logs) "
			  "AND source = 'gh-log'") == 0)
			check_raw(data, size);
	}
	FUZZ_CHECK(count("SELECT count(*) FROM pragma_foreign_key_check") == 0);
	return 0;
}
