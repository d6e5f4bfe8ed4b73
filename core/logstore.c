/* logstore.c - lossless, compressed, seekable storage of logs in the index.
 *
 * Layout invariants the reader relies on (and checks):
 *  - chunk seq covers raw bytes [seq * LOG_CHUNK_RAW, +raw_len); every chunk
 *    but the last is exactly LOG_CHUNK_RAW long, so the chunk holding a byte
 *    offset is found by division, without a query;
 *  - line_index lists, as LEB128 varint deltas, the offsets within the chunk
 *    where lines start; the first start is stored as is;
 *  - first_line is the number of the first line starting in the chunk, or,
 *    when none starts there (the middle of a long line), the number of the
 *    next line to start.
 * A line's terminator is not stored: it is read back from the bytes just
 * before the next line's start (CRLF, LF or CR), which the splitter makes
 * unambiguous since line content never holds a CR or LF.
 */
#include "logstore.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define LOGW_ZSTD_LEVEL 1 /* import speed matters more than the last few percent */
#define LOGR_CACHE 4      /* decompressed chunks kept by a reader */

typedef unsigned long long ull;

static unsigned term_bytes(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

/* --- writing ------------------------------------------------------------- */
struct logw {
	sqlite3 *db;
	int64_t job_id, log_id;
	split_cb line_cb;
	void *ctx;
	struct splitter sp;
	unsigned char *raw; /* the chunk being filled: stream bytes [chunk_off, chunk_off + raw_len) */
	size_t raw_len;
	uint64_t chunk_off;
	void *zbuf;
	size_t zcap;
	ZSTD_CCtx *cctx;
	sqlite3_stmt *ins;
	struct buf idx;       /* line_index of the chunk being filled */
	uint32_t chunk_lines;
	uint32_t last_rel;    /* previous start in this chunk, for the delta */
	uint64_t chunk_first; /* number of the first line starting in this chunk */
	uint64_t starts;      /* line starts recorded so far = lines so far */
	/* A terminator at the very end of the bytes seen so far: the next line
	 * exists only if another byte comes. */
	uint64_t pending;
	bool has_pending;
	uint64_t fed_end; /* stream offset just after the piece being split */
	int64_t seq;
	bool failed, finished;
};

static void record_start(struct logw *w, uint64_t off)
{
	uint32_t rel = (uint32_t)(off - w->chunk_off);
	uint32_t delta = w->chunk_lines ? rel - w->last_rel : rel;
	unsigned char tmp[5];
	size_t k = 0;
	do {
		unsigned char b = delta & 0x7f;
		delta >>= 7;
		tmp[k++] = (unsigned char)(b | (delta ? 0x80 : 0));
	} while (delta);
	buf_add(&w->idx, tmp, k);
	if (w->chunk_lines == 0)
		w->chunk_first = w->starts + 1;
	w->chunk_lines++;
	w->starts++;
	w->last_rel = rel;
}

static int w_on_line(void *ctx, const struct split_line *l)
{
	struct logw *w = ctx;
	if (l->term != TERM_NONE) {
		uint64_t next = l->off + l->len + term_bytes(l->term);
		if (next < w->fed_end) {
			record_start(w, next);
		} else {
			w->pending = next;
			w->has_pending = true;
		}
	}
	return w->line_cb ? w->line_cb(w->ctx, l) : 0;
}

static int w_fail(struct logw *w, struct cs_err *err, int code, const char *what)
{
	w->failed = true;
	return err_set(err, code, "cannot store the log of job %lld: %s", (long long)w->job_id,
		       what);
}

static int w_dberr(struct logw *w, struct cs_err *err, const char *doing)
{
	w->failed = true;
	return err_set(err, CS_EDB, "cannot store the log of job %lld: %s: %s",
		       (long long)w->job_id, doing, sqlite3_errmsg(w->db));
}

static int flush_chunk(struct logw *w, struct cs_err *err)
{
	size_t z = ZSTD_compressCCtx(w->cctx, w->zbuf, w->zcap, w->raw, w->raw_len, LOGW_ZSTD_LEVEL);
	if (ZSTD_isError(z)) {
		char what[256];
		snprintf(what, sizeof(what), "compressing chunk %lld (bytes %llu..): %s",
			 (long long)w->seq, (ull)w->chunk_off, ZSTD_getErrorName(z));
		return w_fail(w, err, CS_EINVAL, what);
	}
	sqlite3_stmt *st = w->ins;
	sqlite3_bind_int64(st, 1, w->log_id);
	sqlite3_bind_int64(st, 2, w->seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)w->chunk_off);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)w->raw_len);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)(w->chunk_lines ? w->chunk_first : w->starts + 1));
	sqlite3_bind_int64(st, 6, w->chunk_lines);
	sqlite3_bind_blob(st, 7, w->zbuf, (int)z, SQLITE_STATIC);
	/* a NULL pointer would bind SQL NULL, and line_index is NOT NULL */
	sqlite3_bind_blob(st, 8, w->idx.len ? w->idx.data : "", (int)w->idx.len, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		char what[128];
		snprintf(what, sizeof(what), "inserting chunk %lld", (long long)w->seq);
		return w_dberr(w, err, what);
	}
	w->chunk_off += w->raw_len;
	w->raw_len = 0;
	w->seq++;
	buf_reset(&w->idx);
	w->chunk_lines = 0;
	w->last_rel = 0;
	return 0;
}

void logw_free(struct logw *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	ZSTD_freeCCtx(w->cctx);
	free(w->raw);
	free(w->zbuf);
	buf_release(&w->idx);
	free(w);
}

struct logw *logw_begin(struct sqlite3 *db, int64_t job_id, split_cb line_cb, void *ctx,
			struct cs_err *err)
{
	struct logw *w = xcalloc(1, sizeof(*w));
	sqlite3_stmt *st = NULL;
	w->db = db;
	w->job_id = job_id;
	w->line_cb = line_cb;
	w->ctx = ctx;
	splitter_init(&w->sp, w_on_line, w);
	buf_init(&w->idx);
	w->has_pending = true; /* line 1 starts at byte 0, if there is one */
	w->pending = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO logs (job_id) VALUES (?1)", -1, &st, NULL) !=
	    SQLITE_OK) {
		w_dberr(w, err, "preparing the logs row");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		w_dberr(w, err, "inserting the logs row");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	w->log_id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO log_chunks (log_id, seq, raw_off, raw_len, first_line,"
			       " n_lines, data, line_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &w->ins, NULL) != SQLITE_OK) {
		w_dberr(w, err, "preparing the chunk insert");
		goto fail;
	}
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		w_fail(w, err, CS_ENOMEM, "cannot create a zstd context");
		goto fail;
	}
	w->raw = xmalloc(LOG_CHUNK_RAW);
	w->zcap = ZSTD_compressBound(LOG_CHUNK_RAW);
	w->zbuf = xmalloc(w->zcap);
	return w;
fail:
	sqlite3_finalize(st);
	logw_free(w);
	return NULL;
}

static int w_stopped(struct logw *w, struct cs_err *err)
{
	w->failed = true;
	if (err && err->code) /* the callback explained itself through a shared err */
		return -1;
	return err_set(err, CS_EINTR,
		       "cannot store the log of job %lld: the line handler stopped at line %llu",
		       (long long)w->job_id, (ull)w->sp.lineno);
}

int logw_write(struct logw *w, const void *data, size_t n, struct cs_err *err)
{
	const unsigned char *p = data;
	if (w->failed || w->finished)
		return err_set(err, CS_EUSAGE, "cannot store the log of job %lld: writer is %s",
			       (long long)w->job_id, w->failed ? "in error" : "finished");
	err_clear(err);
	while (n > 0) {
		size_t take = MIN(n, (size_t)LOG_CHUNK_RAW - w->raw_len);
		if (w->has_pending) {
			/* its first byte is arriving now */
			w->has_pending = false;
			record_start(w, w->pending);
		}
		memcpy(w->raw + w->raw_len, p, take);
		w->raw_len += take;
		w->fed_end += take;
		if (splitter_feed(&w->sp, p, take))
			return w_stopped(w, err);
		p += take;
		n -= take;
		if (w->raw_len == LOG_CHUNK_RAW && flush_chunk(w, err) < 0)
			return -1;
	}
	return 0;
}

int64_t logw_finish(struct logw *w, struct cs_err *err)
{
	if (w->failed || w->finished)
		return err_set(err, CS_EUSAGE, "cannot store the log of job %lld: writer is %s",
			       (long long)w->job_id, w->failed ? "in error" : "finished");
	err_clear(err);
	if (splitter_finish(&w->sp))
		return w_stopped(w, err);
	if (w->raw_len > 0 && flush_chunk(w, err) < 0)
		return -1;
	if (w->starts != w->sp.lineno) {
		char what[128];
		snprintf(what, sizeof(what), "internal error: %llu line starts for %llu lines",
			 (ull)w->starts, (ull)w->sp.lineno);
		return w_fail(w, err, CS_EINVAL, what);
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(w->db,
			       "UPDATE logs SET raw_size = ?1, line_count = ?2, chunk_count = ?3"
			       " WHERE id = ?4",
			       -1, &st, NULL) != SQLITE_OK)
		return w_dberr(w, err, "preparing the logs update");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)w->fed_end);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)w->starts);
	sqlite3_bind_int64(st, 3, w->seq);
	sqlite3_bind_int64(st, 4, w->log_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return w_dberr(w, err, "updating the logs row");
	w->finished = true;
	return w->log_id;
}

/* --- reading ------------------------------------------------------------- */
struct chunk {
	int64_t seq; /* -1: slot empty */
	uint64_t raw_off;
	uint32_t raw_len;
	uint64_t first_line;
	uint32_t n_lines;
	unsigned char *data;
	uint32_t *starts;
	size_t starts_alloc;
	uint64_t used;
};

struct logr {
	sqlite3 *db;
	int64_t id;
	uint64_t raw_size, line_count, chunk_count;
	sqlite3_stmt *by_seq, *by_line;
	ZSTD_DCtx *dctx;
	struct chunk cache[LOGR_CACHE];
	uint64_t tick;
};

static int r_dberr(struct logr *r, struct cs_err *err, const char *doing)
{
	return err_set(err, CS_EDB, "cannot read log %lld: %s: %s", (long long)r->id, doing,
		       sqlite3_errmsg(r->db));
}

static int r_corrupt(struct logr *r, struct cs_err *err, int64_t seq, const char *what)
{
	return err_set(err, CS_EDB, "log %lld is corrupt: chunk %lld: %s", (long long)r->id,
		       (long long)seq, what);
}

void logr_close(struct logr *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->by_seq);
	sqlite3_finalize(r->by_line);
	ZSTD_freeDCtx(r->dctx);
	for (int i = 0; i < LOGR_CACHE; i++) {
		free(r->cache[i].data);
		free(r->cache[i].starts);
	}
	free(r);
}

struct logr *logr_open(struct sqlite3 *db, int64_t log_id, struct cs_err *err)
{
	struct logr *r = xcalloc(1, sizeof(*r));
	sqlite3_stmt *st = NULL;
	r->db = db;
	r->id = log_id;
	for (int i = 0; i < LOGR_CACHE; i++)
		r->cache[i].seq = -1;
	if (sqlite3_prepare_v2(db, "SELECT raw_size, line_count, chunk_count FROM logs WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		r_dberr(r, err, "reading the logs row");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, log_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		err_set(err, CS_ENOTFOUND, "cannot read log %lld: no such log", (long long)log_id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		r_dberr(r, err, "reading the logs row");
		goto fail;
	}
	sqlite3_int64 size = sqlite3_column_int64(st, 0), lines = sqlite3_column_int64(st, 1),
		      chunks = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (size < 0 || lines < 0 || lines > size ||
	    chunks != (size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW || (size > 0 && lines == 0)) {
		err_set(err, CS_EDB,
			"log %lld is corrupt: %lld bytes, %lld lines and %lld chunks do not agree",
			(long long)log_id, (long long)size, (long long)lines, (long long)chunks);
		goto fail;
	}
	r->raw_size = (uint64_t)size;
	r->line_count = (uint64_t)lines;
	r->chunk_count = (uint64_t)chunks;
	if (sqlite3_prepare_v2(db,
			       "SELECT raw_off, raw_len, first_line, n_lines, data, line_index"
			       " FROM log_chunks WHERE log_id = ?1 AND seq = ?2",
			       -1, &r->by_seq, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT seq FROM log_chunks WHERE log_id = ?1 AND first_line <= ?2"
			       " AND n_lines > 0 ORDER BY first_line DESC LIMIT 1",
			       -1, &r->by_line, NULL) != SQLITE_OK) {
		r_dberr(r, err, "preparing chunk queries");
		goto fail;
	}
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		err_set(err, CS_ENOMEM, "cannot read log %lld: cannot create a zstd context",
			(long long)log_id);
		goto fail;
	}
	return r;
fail:
	sqlite3_finalize(st);
	logr_close(r);
	return NULL;
}

uint64_t logr_line_count(const struct logr *r)
{
	return r->line_count;
}

uint64_t logr_raw_size(const struct logr *r)
{
	return r->raw_size;
}

/* Decode and check one fetched row into c; the blobs die at the next reset. */
static int fill_chunk(struct logr *r, struct chunk *c, int64_t seq, sqlite3_stmt *st,
		      struct cs_err *err)
{
	char what[160];
	sqlite3_int64 raw_off = sqlite3_column_int64(st, 0), raw_len = sqlite3_column_int64(st, 1),
		      first = sqlite3_column_int64(st, 2), n_lines = sqlite3_column_int64(st, 3);
	uint64_t want_off = (uint64_t)seq * LOG_CHUNK_RAW;
	uint64_t want_len = MIN((uint64_t)LOG_CHUNK_RAW, r->raw_size - want_off);
	if (raw_off < 0 || (uint64_t)raw_off != want_off || raw_len < 0 ||
	    (uint64_t)raw_len != want_len) {
		snprintf(what, sizeof(what), "covers bytes %lld+%lld, expected %llu+%llu",
			 (long long)raw_off, (long long)raw_len, (ull)want_off, (ull)want_len);
		return r_corrupt(r, err, seq, what);
	}
	if (n_lines < 0 || n_lines > raw_len || first < 1 ||
	    (uint64_t)first + (uint64_t)n_lines > r->line_count + 1) {
		snprintf(what, sizeof(what), "line numbers %lld+%lld do not fit %llu lines",
			 (long long)first, (long long)n_lines, (ull)r->line_count);
		return r_corrupt(r, err, seq, what);
	}
	const void *z = sqlite3_column_blob(st, 4);
	int zn = sqlite3_column_bytes(st, 4);
	if (!c->data)
		c->data = xmalloc(LOG_CHUNK_RAW);
	size_t got = ZSTD_decompressDCtx(r->dctx, c->data, LOG_CHUNK_RAW, z ? z : "", (size_t)zn);
	if (ZSTD_isError(got) || got != (size_t)raw_len) {
		snprintf(what, sizeof(what), "cannot decompress %d bytes: %s", zn,
			 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
		return r_corrupt(r, err, seq, what);
	}
	const unsigned char *ix = sqlite3_column_blob(st, 5), *ixe;
	int ixn = sqlite3_column_bytes(st, 5);
	if (!ix) /* an empty blob comes back as NULL */
		ix = (const unsigned char *)"", ixn = 0;
	ixe = ix + ixn;
	XGROW(c->starts, c->starts_alloc, (size_t)n_lines);
	uint64_t pos = 0;
	for (sqlite3_int64 i = 0; i < n_lines; i++) {
		uint64_t d = 0;
		unsigned shift = 0;
		for (;;) {
			if (ix >= ixe || shift > 28)
				return r_corrupt(r, err, seq, "line index is truncated or malformed");
			d |= (uint64_t)(*ix & 0x7f) << shift;
			shift += 7;
			if (!(*ix++ & 0x80))
				break;
		}
		if (i > 0 && d == 0)
			return r_corrupt(r, err, seq, "line index is not increasing");
		pos += d;
		if (pos >= (uint64_t)raw_len)
			return r_corrupt(r, err, seq, "line index points past the chunk");
		c->starts[i] = (uint32_t)pos;
	}
	if (ix != ixe)
		return r_corrupt(r, err, seq, "line index is longer than its line count");
	c->seq = seq;
	c->raw_off = (uint64_t)raw_off;
	c->raw_len = (uint32_t)raw_len;
	c->first_line = (uint64_t)first;
	c->n_lines = (uint32_t)n_lines;
	return 0;
}

static struct chunk *load_chunk(struct logr *r, int64_t seq, struct cs_err *err)
{
	struct chunk *victim = &r->cache[0];
	if (seq < 0 || (uint64_t)seq >= r->chunk_count) {
		r_corrupt(r, err, seq, "no such chunk");
		return NULL;
	}
	for (int i = 0; i < LOGR_CACHE; i++) {
		struct chunk *c = &r->cache[i];
		if (c->seq == seq) {
			c->used = ++r->tick;
			return c;
		}
		if (victim->seq >= 0 && (c->seq < 0 || c->used < victim->used))
			victim = c;
	}
	victim->seq = -1;
	sqlite3_stmt *st = r->by_seq;
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	int ok = -1;
	if (rc == SQLITE_ROW)
		ok = fill_chunk(r, victim, seq, st, err);
	else if (rc == SQLITE_DONE)
		r_corrupt(r, err, seq, "missing");
	else
		r_dberr(r, err, "reading a chunk");
	sqlite3_reset(st);
	if (ok < 0) {
		victim->seq = -1;
		return NULL;
	}
	victim->used = ++r->tick;
	return victim;
}

static bool holds_start(const struct chunk *c, uint64_t n)
{
	return c->seq >= 0 && c->n_lines > 0 && c->first_line <= n && n - c->first_line < c->n_lines;
}

/* The stream offset where line n (1..line_count) starts. */
static int line_start(struct logr *r, uint64_t n, uint64_t *off, struct cs_err *err)
{
	struct chunk *c = NULL;
	for (int i = 0; i < LOGR_CACHE && !c; i++)
		if (holds_start(&r->cache[i], n))
			c = &r->cache[i];
	if (c) {
		c->used = ++r->tick;
	} else {
		sqlite3_stmt *st = r->by_line;
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
		int rc = sqlite3_step(st);
		int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return r_dberr(r, err, "looking up a line");
		if (seq < 0)
			return err_set(err, CS_EDB, "log %lld is corrupt: no chunk holds line %llu",
				       (long long)r->id, (ull)n);
		c = load_chunk(r, seq, err);
		if (!c)
			return -1;
		if (!holds_start(c, n))
			return err_set(err, CS_EDB,
				       "log %lld is corrupt: chunk %lld does not hold line %llu",
				       (long long)r->id, (long long)seq, (ull)n);
	}
	*off = c->raw_off + c->starts[n - c->first_line];
	return 0;
}

/* Where line n starts and where the line after it starts (raw_size after the
 * last line). */
static int line_bounds(struct logr *r, uint64_t n, uint64_t *start, uint64_t *next,
		       struct cs_err *err)
{
	if (line_start(r, n, start, err) < 0)
		return -1;
	if (n == r->line_count) {
		*next = r->raw_size;
		return 0;
	}
	return line_start(r, n + 1, next, err);
}

typedef int (*sink_fn)(void *ctx, const unsigned char *p, size_t n, struct cs_err *err);

/* Feed raw bytes [off, off+n) to sink chunk by chunk. Returns 0, -1 on error,
 * or 1 when the sink asked to stop. */
static int read_range(struct logr *r, uint64_t off, uint64_t n, sink_fn sink, void *ctx,
		      struct cs_err *err)
{
	while (n > 0) {
		int64_t seq = (int64_t)(off / LOG_CHUNK_RAW);
		struct chunk *c = load_chunk(r, seq, err);
		if (!c)
			return -1;
		uint64_t rel = off - c->raw_off;
		if (rel >= c->raw_len)
			return r_corrupt(r, err, seq, "shorter than expected");
		size_t take = (size_t)MIN(n, (uint64_t)c->raw_len - rel);
		int rc = sink(ctx, c->data + rel, take, err);
		if (rc)
			return rc < 0 ? -1 : 1;
		off += take;
		n -= take;
	}
	return 0;
}

static int sink_buf(void *ctx, const unsigned char *p, size_t n, struct cs_err *err)
{
	buf_add(ctx, p, n);
	return 0;
}

static int sink_file(void *ctx, const unsigned char *p, size_t n, struct cs_err *err)
{
	if (fwrite(p, 1, n, ctx) != n)
		return err_set(err, CS_EIO, "cannot write log: %s", strerror(errno));
	return 0;
}

static int check_line(struct logr *r, uint64_t n, struct cs_err *err)
{
	if (n < 1 || n > r->line_count)
		return err_set(err, CS_EINVAL, "line %llu is out of range: log %lld has %llu lines",
			       (ull)n, (long long)r->id, (ull)r->line_count);
	return 0;
}

int logr_line_span(struct logr *r, uint64_t n, uint64_t *off, uint64_t *len, struct cs_err *err)
{
	uint64_t start, next;
	if (check_line(r, n, err) < 0 || line_bounds(r, n, &start, &next, err) < 0)
		return -1;
	if (next < start || next > r->raw_size)
		return err_set(err, CS_EDB, "log %lld is corrupt: line %llu spans %llu..%llu",
			       (long long)r->id, (ull)n, (ull)start, (ull)next);
	struct buf tail = BUF_INIT;
	uint64_t k = MIN(next - start, 2);
	if (read_range(r, next - k, k, sink_buf, &tail, err) < 0) {
		buf_release(&tail);
		return -1;
	}
	unsigned t = 0;
	if (k >= 1 && tail.data[k - 1] == '\n')
		t = (k == 2 && tail.data[0] == '\r') ? 2 : 1;
	else if (k >= 1 && tail.data[k - 1] == '\r')
		t = 1;
	buf_release(&tail);
	if (t == 0 && n != r->line_count)
		return err_set(err, CS_EDB, "log %lld is corrupt: line %llu has no line end",
			       (long long)r->id, (ull)n);
	*off = start;
	*len = next - start - t;
	return 0;
}

int logr_line(struct logr *r, uint64_t n, size_t max, struct buf *out, bool *truncated,
	      struct cs_err *err)
{
	uint64_t off, len;
	buf_reset(out);
	if (truncated)
		*truncated = false;
	if (logr_line_span(r, n, &off, &len, err) < 0)
		return -1;
	if (max && len > max) {
		len = max;
		if (truncated)
			*truncated = true;
	}
	if (len > SIZE_MAX / 2)
		return err_set(err, CS_ENOMEM, "line %llu of log %lld is too long to read (%llu bytes)",
			       (ull)n, (long long)r->id, (ull)len);
	buf_reserve(out, (size_t)len);
	if (read_range(r, off, len, sink_buf, out, err) < 0)
		return -1;
	buf_cstr(out);
	return 0;
}

int logr_read(struct logr *r, uint64_t off, size_t n, struct buf *out, struct cs_err *err)
{
	if (off > r->raw_size || n > r->raw_size - off)
		return err_set(err, CS_EINVAL,
			       "bytes %llu..%llu are out of range: log %lld has %llu bytes", (ull)off,
			       (ull)off + n, (long long)r->id, (ull)r->raw_size);
	return read_range(r, off, n, sink_buf, out, err) < 0 ? -1 : 0;
}

/* [first, last] must be lines of the log; first = last + 1 is the empty range. */
static int check_range(struct logr *r, uint64_t first, uint64_t last, struct cs_err *err)
{
	if (first < 1 || last > r->line_count || (last < first && last + 1 != first))
		return err_set(err, CS_EINVAL,
			       "lines %llu..%llu are out of range: log %lld has %llu lines",
			       (ull)first, (ull)last, (long long)r->id, (ull)r->line_count);
	return 0;
}

static int range_bytes(struct logr *r, uint64_t first, uint64_t last, uint64_t *start,
		       uint64_t *end, struct cs_err *err)
{
	if (line_start(r, first, start, err) < 0)
		return -1;
	if (last == r->line_count)
		*end = r->raw_size;
	else if (line_start(r, last + 1, end, err) < 0)
		return -1;
	if (*end < *start)
		return err_set(err, CS_EDB, "log %lld is corrupt: lines %llu..%llu end before they start",
			       (long long)r->id, (ull)first, (ull)last);
	return 0;
}

static int flush_file(FILE *f, struct cs_err *err)
{
	if (fflush(f) != 0 || ferror(f))
		return err_set(err, CS_EIO, "cannot write log: %s", strerror(errno));
	return 0;
}

int logr_write_lines(struct logr *r, uint64_t first, uint64_t last, FILE *f, struct cs_err *err)
{
	uint64_t start, end;
	if (check_range(r, first, last, err) < 0)
		return -1;
	if (last < first)
		return 0;
	if (range_bytes(r, first, last, &start, &end, err) < 0)
		return -1;
	if (read_range(r, start, end - start, sink_file, f, err) < 0)
		return -1;
	return flush_file(f, err);
}

int logr_write_all(struct logr *r, FILE *f, struct cs_err *err)
{
	if (read_range(r, 0, r->raw_size, sink_file, f, err) < 0)
		return -1;
	return flush_file(f, err);
}

struct scan_ctx {
	struct splitter sp;
	uint64_t base_off, base_line;
	split_cb cb;
	void *ctx;
	int cb_rc;
};

static int scan_on_line(void *ctx, const struct split_line *l)
{
	struct scan_ctx *s = ctx;
	struct split_line abs = *l;
	abs.lineno += s->base_line;
	abs.off += s->base_off;
	s->cb_rc = s->cb(s->ctx, &abs);
	return s->cb_rc;
}

static int sink_split(void *ctx, const unsigned char *p, size_t n, struct cs_err *err)
{
	struct scan_ctx *s = ctx;
	return splitter_feed(&s->sp, p, n) ? 1 : 0;
}

/* Splitting from a line start yields the same lines as splitting the whole
 * log (a line start is a clean splitter state), so the stored index only has
 * to find where to begin and end. */
int logr_scan(struct logr *r, uint64_t first, uint64_t last, split_cb cb, void *ctx,
	      struct cs_err *err)
{
	uint64_t start, end;
	if (check_range(r, first, last, err) < 0)
		return -1;
	if (last < first)
		return 0;
	if (range_bytes(r, first, last, &start, &end, err) < 0)
		return -1;
	struct scan_ctx *s = xmalloc(sizeof(*s)); /* the splitter holds an 8 KB head */
	splitter_init(&s->sp, scan_on_line, s);
	s->base_off = start;
	s->base_line = first - 1;
	s->cb = cb;
	s->ctx = ctx;
	s->cb_rc = 0;
	int rc = read_range(r, start, end - start, sink_split, s, err);
	if (rc == 0 && splitter_finish(&s->sp))
		rc = 1;
	if (rc == 0 && s->sp.lineno != last - first + 1) {
		err_set(err, CS_EDB, "log %lld is corrupt: lines %llu..%llu hold %llu lines",
			(long long)r->id, (ull)first, (ull)last, (ull)s->sp.lineno);
		rc = -1;
	}
	int cb_rc = s->cb_rc;
	free(s);
	if (rc < 0)
		return -1;
	return rc ? cb_rc : 0;
}
