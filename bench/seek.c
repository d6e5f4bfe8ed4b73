/* seek.c - the reopen-and-seek measurement of bench/run.sh.
 *
 *   seek DB [LOG_ID]
 *
 * opens the index, finds the largest stored log (or LOG_ID), and writes its
 * last line to stdout; on stderr, one line of key=value pairs:
 *   ms=<open to line written, in milliseconds> log=<id> lines=<n> bytes=<raw size>
 * The clock starts before store_open() and stops after the line is written,
 * so it holds everything a viewer does to show the end of a log: open the
 * database, look the log up, locate the last chunk, decompress it. One
 * process per measurement (run.sh runs it several times), so no reader
 * cache survives between runs; only the kernel's page cache does.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/logstore.h"
#include "core/store.h"
#include "core/util.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int64_t largest_log(struct store *st, struct cs_err *err)
{
	sqlite3_stmt *s;
	int64_t id = -1;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM logs ORDER BY raw_size DESC LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK) {
		store_err(st, err, "cannot look up the largest log");
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		err_set(err, CS_ENOTFOUND, "the index holds no log");
	sqlite3_finalize(s);
	return id;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: seek DB [LOG_ID]\n");
		return 2;
	}
	struct cs_err err;
	err_clear(&err);
	double t0 = now_ms();
	struct store *st = store_open(argv[1], STORE_RO_EXISTING, &err);
	if (!st) {
		fprintf(stderr, "seek: %s\n", err.msg);
		return 1;
	}
	int64_t id = argc == 3 ? strtoll(argv[2], NULL, 10) : largest_log(st, &err);
	struct logr *r = id > 0 ? logr_open(st, id, &err) : NULL;
	if (!r) {
		fprintf(stderr, "seek: %s\n", err.msg);
		store_close(st);
		return 1;
	}
	uint64_t n = logr_line_count(r);
	struct buf line = BUF_INIT;
	bool cut = false;
	if (n == 0 || logr_line(r, n, 0, &line, &cut, &err) < 0) {
		fprintf(stderr, "seek: %s\n", n ? err.msg : "the largest log is empty");
		logr_close(r);
		store_close(st);
		return 1;
	}
	fwrite(line.data ? line.data : "", 1, line.len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	double t1 = now_ms();
	fprintf(stderr, "ms=%.3f log=%lld lines=%llu bytes=%llu\n", t1 - t0, (long long)id,
		(unsigned long long)n, (unsigned long long)logr_raw_size(r));
	buf_release(&line);
	logr_close(r);
	store_close(st);
	return 0;
}
