/* logstore.h - lossless, compressed, seekable storage of logs in the index.
 *
 * A log's bytes are cut into chunks of LOG_CHUNK_RAW raw bytes (the last one
 * shorter), each compressed on its own with zstd and stored as one row of
 * log_chunks. Chunks cut through lines; the line index says, per chunk, the
 * number of the first line that starts in it and the offsets (within the
 * chunk) of every line start, as a varint-delta blob. So:
 *  - writing keeps one raw chunk and one compressed chunk in memory: import
 *    memory does not grow with log size;
 *  - reading line N looks up the chunk where it starts (an index seek), then
 *    decompresses that chunk, and the following ones only while the line goes
 *    on: no read from the start of the log;
 *  - concatenating the chunks gives back exactly the imported bytes.
 * Tables (data/schema.sql): logs(id, job_id, raw_size, line_count, ...),
 * log_chunks(log_id, seq, raw_off, raw_len, first_line, n_lines, data, line_index).
 */
#ifndef CS_LOGSTORE_H
#define CS_LOGSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "logparse.h"
#include "util.h"

struct sqlite3;

#define LOG_CHUNK_RAW (256 * 1024)

/* --- writing ------------------------------------------------------------- */
struct logw;

/* Start a log for job_id (an existing jobs.id) inside the caller's open
 * transaction. Replaces nothing: the caller deletes an old log first if it
 * wants to. line_cb, if not NULL, is called for every line as it completes
 * (with the splitter's view of it), so the importer can classify lines in
 * the same pass. */
struct logw *logw_begin(struct sqlite3 *db, int64_t job_id, split_cb line_cb, void *ctx,
			struct cs_err *err);
int logw_write(struct logw *w, const void *data, size_t n, struct cs_err *err);
/* Flush the last chunk, fill logs.raw_size/line_count; returns logs.id or -1. */
int64_t logw_finish(struct logw *w, struct cs_err *err);
/* Free a writer (after finish, or to abandon it; the caller rolls back). */
void logw_free(struct logw *w);

/* --- reading ------------------------------------------------------------- */
struct logr;

struct logr *logr_open(struct sqlite3 *db, int64_t log_id, struct cs_err *err);
void logr_close(struct logr *r);
uint64_t logr_line_count(const struct logr *r);
uint64_t logr_raw_size(const struct logr *r);
/* Line n (1-based) without its terminator into out (replacing its content).
 * Lines longer than max (0 = no limit) are cut at max bytes and *truncated
 * set. Returns 0, or -1 with err set (n out of range, database error). */
int logr_line(struct logr *r, uint64_t n, size_t max, struct buf *out, bool *truncated,
	      struct cs_err *err);
/* Byte range [off, off+len) of line n, terminator excluded. */
int logr_line_span(struct logr *r, uint64_t n, uint64_t *off, uint64_t *len, struct cs_err *err);
/* Raw bytes [off, off+n) appended to out. */
int logr_read(struct logr *r, uint64_t off, size_t n, struct buf *out, struct cs_err *err);
/* Write the raw bytes of lines [first, last] (terminators included) to f;
 * first=1, last=line_count writes the whole log exactly as imported. */
int logr_write_lines(struct logr *r, uint64_t first, uint64_t last, FILE *f, struct cs_err *err);
/* Write the whole log's bytes to f. */
int logr_write_all(struct logr *r, FILE *f, struct cs_err *err);

/* Iterate lines [first, last] in order, streaming chunk by chunk (memory
 * bounded by the chunk size and the longest line head kept): cb gets each
 * line with lineno, off, len and head (at most SPLIT_HEAD_MAX bytes when the
 * line is longer; head_len < len then). Returns cb's non-zero value to stop. */
int logr_scan(struct logr *r, uint64_t first, uint64_t last, split_cb cb, void *ctx,
	      struct cs_err *err);

#endif
