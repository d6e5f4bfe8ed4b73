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
 * log_chunks(log_id, seq, raw_off, raw_len, first_line, n_lines, data, line_index),
 * and (schema version 2) log_chunk_grams(log_id, seq, bits): per chunk, a
 * filter of the trigrams of the searchable text of the lines that start in
 * it, so a search can pass over the chunks that cannot hold a match.
 */
#ifndef CS_LOGSTORE_H
#define CS_LOGSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "logparse.h"
#include "util.h"

struct sqlite3;
struct store;

#define LOG_CHUNK_RAW (256 * 1024)

/* --- searchable text and trigram filters ----------------------------------- */

/* The searchable text of a line (usually its splitter head): the line without
 * its BOMs, its timestamp and every escape sequence, exactly as
 * logline_parse() and ansi_strip() would have it. *text points into line when
 * nothing inside it has to go (no copy), else into scratch (replaced). Both
 * the filters and search (search_text()) use this one definition. */
void log_search_text(const char *line, size_t n, const char **text, size_t *len,
		     struct buf *scratch);
/* How many bytes log_search_text() takes off the front of line[0..n): its
 * BOMs and its timestamp (escape sequences aside). */
size_t log_search_skip(const char *line, size_t n);

/* Trigram filters. For each chunk the writer hashes every trigram (3 bytes)
 * of the searchable text of every line that starts in the chunk, its head
 * included where it runs into the next chunk, ASCII letters folded to lower
 * case, into a bitset of 2^k bits (one bit per trigram; k from 9 to 16, the
 * smallest that keeps it sparse). A line whose text holds a string holds all
 * of the string's trigrams, whatever the case mode: a chunk whose filter
 * lacks one of them has no line containing the string. A chunk without a
 * filter (a log stored before schema version 2, or a filter of another
 * version) is assumed to hold anything. */
#define LOG_GRAMS_MAX 48

/* Word-gram filters (schema version 4, table log_chunk_words): trigrams
 * stay selective for words but not for high-entropy tokens (hex ids, shas,
 * digests, uuids: 4,096 hex trigrams fill any chunk's set). So each chunk
 * also gets a Bloom filter (one hash function) of its 6-grams made only of
 * word characters (ASCII letters, digits, '_'; letters folded): a string
 * holding such a 6-gram can only match a line that holds it too, and a
 * random 6-gram of hex digits is in few chunks (16M of them). The filter of
 * a chunk is cut by hash into up to 32 parts, one row each, each shrunk
 * until about a quarter full, so a query reads one small row per chunk per
 * 6-gram it tests. Chunks without rows (stored before version 4) hold
 * anything. */
#define LOG_WORDS_GRAM 6
#define LOG_WORDS_MAX 32

struct log_grams {
	size_t n;
	uint16_t h[LOG_GRAMS_MAX]; /* hashes of required trigrams, distinct */
	size_t nw;
	uint32_t w[LOG_WORDS_MAX]; /* hashes of required word 6-grams, distinct */
};

/* Require the trigrams and word 6-grams of s[0..n) (ASCII-folded); those
 * past the maxima are left out, which only makes the filters let more
 * chunks through. */
void log_grams_add(struct log_grams *q, const char *s, size_t n);
/* Whether a stored filter blob may hold every trigram of q (true when the
 * blob is of an unknown version or malformed: never skip on doubt). */
bool log_grams_admit(const void *blob, size_t n, const struct log_grams *q);

/* The chunk filters of any log, for a search across many logs: the filters
 * are read without opening a reader, so a log none of whose chunks can hold
 * a match costs one indexed query. q belongs to the caller and must outlive
 * the logfilter. */
struct logfilter;
struct logfilter *logfilter_new(struct store *st, const struct log_grams *q,
				struct cs_err *err);
/* admit[seq] = 1 when chunk seq of log_id (raw_size bytes, so
 * ceil(raw_size / LOG_CHUNK_RAW) chunks) may hold a match,
 * else 0; chunks without a filter of a known version are admitted. Returns
 * the number admitted, or -1 with err set. */
long logfilter_admit(struct logfilter *f, int64_t log_id, uint64_t raw_size,
		     unsigned char *admit, struct cs_err *err);
/* The same for chunks [c0, c1) of the log only (c1 past its last: to the
 * end): admit[c0..c1) set, the rest of admit left alone; only their filter
 * rows are read. Returns the number of them admitted, or -1. */
long logfilter_admit_range(struct logfilter *f, int64_t log_id, uint64_t raw_size, uint64_t c0,
			   uint64_t c1, unsigned char *admit, struct cs_err *err);
/* For a search over many small logs, where a query per log costs more
 * than the search: in one pass over every word filter, out[i] = 1 for the
 * logs (ids[i], of sizes[i] raw bytes) every one of whose chunks the word
 * filters rule out, 0 for the others (logfilter_admit() then judges them
 * chunk by chunk). Returns how many are ruled out, or -1 (out all 0). */
long logfilter_rule_out_logs(struct logfilter *f, const int64_t *ids, const uint64_t *sizes,
			     size_t n, unsigned char *out, struct cs_err *err);
void logfilter_free(struct logfilter *f);

/* --- writing ------------------------------------------------------------- */
/* A writer compresses full chunks on a second thread while the caller goes
 * on splitting (the caller's thread alone touches the database; rows and
 * blobs are the same as without the thread). CISCOPE_LOG_THREADS=1 in the
 * environment keeps everything on the caller's thread. */
struct logw;

/* For tests only: compressing chunk seq fails with a real zstd error (-1:
 * none), whichever thread compresses it. Set before logw_begin(). */
extern int64_t logw_test_fail_seq;
/* For tests only: the writer compresses every chunk it hands to the worker
 * itself, as it does those the worker has not started when it would wait
 * for it (the worker then only builds their filters). */
extern bool logw_test_writer_zstd;

/* Start a log for job_id (an existing jobs.id) inside the caller's open
 * transaction. Replaces nothing: the caller deletes an old log first if it
 * wants to. line_cb, if not NULL, is called for every line as it completes
 * (with the splitter's view of it), so the importer can classify lines in
 * the same pass. */
struct logw *logw_begin(struct store *st, int64_t job_id, split_cb line_cb, void *ctx,
			struct cs_err *err);
int logw_write(struct logw *w, const void *data, size_t n, struct cs_err *err);
/* log_prep_make() of at most this many bytes lists the chunk's trigrams
 * instead of setting them in the writer's 64 KiB set (the same filter) */
#define GRAMS_LIST_MAX (32u << 10)
/* A small log prepared ahead of its writer, on another thread (the
 * importer's read-ahead): the zstd frame and the search filters a writer
 * makes of raw[0..n) as its only chunk (n < LOG_CHUNK_RAW), made with the
 * same code over the same bytes, so the same bytes (zstd makes the same
 * frame of the same input at one level). log_prep_make() fills p (p->ok)
 * with a workspace of log_prep_ws_new(), made on the writing thread before
 * the other one starts (log_prep_ws_free() frees it); p->ok false: nothing
 * prepared. logw_use_prep() lends p to a writer
 * about to be given exactly raw[0..n) (raw and p stay valid until
 * logw_finish()): it stores them instead of making them again, and fails
 * with an internal error if its chunk is not those bytes after all. */
struct log_prep {
	bool ok;
	size_t raw_len;
	struct buf z;        /* the chunk's zstd frame */
	struct buf filters;  /* its filters, as the writer's builder makes them */
	uint64_t n_lines;    /* its lines */
};
struct log_prep_ws;
struct split_line;
struct log_prep_ws *log_prep_ws_new(void);
void log_prep_make(struct log_prep_ws *ws, const void *raw, size_t n, struct log_prep *p);
/* The same, giving each line of the split it makes to also(ctx, line) too
 * (non-zero: nothing prepared); p->ok says whether every line was given. */
void log_prep_make_also(struct log_prep_ws *ws, const void *raw, size_t n, struct log_prep *p,
			int (*also)(void *ctx, const struct split_line *l), void *ctx);
void log_prep_ws_free(struct log_prep_ws *ws);
void log_prep_clear(struct log_prep *p);   /* p->ok false, its buffers kept */
void log_prep_release(struct log_prep *p); /* its buffers freed */
void logw_use_prep(struct logw *w, const struct log_prep *p, const void *raw, size_t n);
/* Before the first write: when the log goes through the writer's worker (a
 * log of several chunks, threads allowed), the worker gives every line of
 * its own split to also(ctx, line) too, in order, with the line numbers
 * and heads the line callback sees; a non-zero return stops those calls
 * (not the writing). ctx is the worker's from the first write until the
 * writer is finished or freed. logw_also_done(): after logw_finish(), were
 * they all given (else none, or not all)? *n_lines: the log's lines. */
void logw_also(struct logw *w, split_cb also, void *ctx);
bool logw_also_done(const struct logw *w, uint64_t *n_lines);
/* Flush the last chunk, fill logs.raw_size/line_count; returns logs.id or -1. */
int64_t logw_finish(struct logw *w, struct cs_err *err);
/* The logs row the writer fills (its id, from its begin) and, once
 * finished, the line_count stored in it: what the importer would otherwise
 * read back with a statement per log. */
int64_t logw_log_id(const struct logw *w);
/* logs.source for logw_finish() to store with the sizes (a string that
 * outlives the writer), one UPDATE of the row, not two. */
void logw_set_source(struct logw *w, const char *source);
int64_t logw_line_count(const struct logw *w);
/* Free a writer (after finish, or to abandon it; the caller rolls back). */
void logw_free(struct logw *w);

/* --- reading ------------------------------------------------------------- */
struct logr;

/* A reader of log log_id (logs.id) of the index st; it reads through st's
 * connection, so it is closed before st is. */
struct logr *logr_open(struct store *st, int64_t log_id, struct cs_err *err);
/* The same reader pointed at another log of the same index, keeping its
 * prepared statements, zstd context and buffers (a search reads many small
 * logs): as logr_open() but in place. On error (CS_ENOTFOUND: no such log)
 * the reader holds no log: reopen it or close it. */
int logr_reopen(struct logr *r, int64_t log_id, struct cs_err *err);
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

/* Chunks: seq 0 .. logr_chunk_count() - 1. */
uint64_t logr_chunk_count(const struct logr *r);
/* Start decompressing chunk seq on a second thread, for a read of it that
 * follows (a scan: the next chunk is made while this one is looked at). The
 * row is read here, on the caller's thread; errors are reported by the read.
 * One chunk ahead at most: a new call drops an unread one. */
void logr_prefetch(struct logr *r, uint64_t seq);
/* The same for chunk seq of another log, log_id, that a logr_reopen() to it
 * then reads (many small logs: the next log's chunk is made while this one
 * is scanned). A chunk made ahead is of the snapshot it was read in: after
 * a read transaction ends, logr_prefetch_forget() drops it. */
void logr_prefetch_log(struct logr *r, int64_t log_id, uint64_t seq);
void logr_prefetch_forget(struct logr *r);
/* The lines that start in chunk seq, in order, as logr_scan() reports them
 * (lineno, off, len, term, head), from the stored line index: no splitting.
 * head is valid until cb returns. Returns 0, -1 with err set, or cb's
 * non-zero value. */
int logr_chunk_lines(struct logr *r, uint64_t seq, split_cb cb, void *ctx,
		     struct cs_err *err);
/* The same, but the lines before the one whose bytes hold raw offset
 * *skip_to (read again before each line: cb may move it on) are passed over
 * without a call; the chunk's last line is always called. For a search
 * that knows where in the chunk the next candidate is: the lines between
 * two are not made at all. */
int logr_chunk_lines_from(struct logr *r, uint64_t seq, const uint64_t *skip_to, split_cb cb,
			  void *ctx, struct cs_err *err);
/* first[seq] = the number of the first line starting in chunk seq, 0 when
 * none starts there (the middle of a long line), for every chunk (first
 * holds logr_chunk_count() entries). From the chunk rows, without reading
 * their bytes. */
int logr_chunk_starts(struct logr *r, uint64_t *first, struct cs_err *err);
/* The raw bytes of chunk seq (valid until the reader reads another chunk
 * or closes): for a search to look for a string in the whole chunk before
 * it looks line by line. */
int logr_chunk_data(struct logr *r, uint64_t seq, const unsigned char **data, size_t *len,
		    uint64_t *off, struct cs_err *err);
/* The line index of chunk seq: the offsets in it where its *n lines start
 * (valid as logr_chunk_data()'s bytes are), the first of them line *first:
 * for a count to go from one candidate to the next without the lines
 * between. */
int logr_chunk_index(struct logr *r, uint64_t seq, const uint32_t **starts, uint32_t *n,
		     uint64_t *first, struct cs_err *err);
/* Every line of every chunk whose filter admits q (all of them when q is
 * NULL or empty), in order: the lines that may contain a string whose
 * trigrams q holds. Returns like logr_chunk_lines(). */
int logr_scan_grams(struct logr *r, const struct log_grams *q, split_cb cb, void *ctx,
		    struct cs_err *err);
/* Chunks read and passed over by logr_scan_grams() since logr_open(). */
void logr_grams_stats(const struct logr *r, uint64_t *scanned, uint64_t *skipped);

#endif
