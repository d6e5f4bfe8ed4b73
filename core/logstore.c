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
 *
 * This file is the reader (logr_*): lines, ranges and chunks read back,
 * and scans that skip chunks by their filters. The writer is
 * core/logwrite.c, the filters core/loggrams.c.
 */
#include "logstoreint.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

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
	sqlite3_stmt *meta, *by_seq, *by_line, *grams;
	ZSTD_DCtx *dctx;
	struct chunk cache[LOGR_CACHE];
	uint64_t tick;
	struct buf head;           /* head of a line that runs past its chunk */
	uint64_t scanned, skipped; /* chunks, by logr_scan_grams() */
	struct prefetch *pf;       /* logr_prefetch(): NULL until first used */
};

/* A chunk decompressed ahead on a second thread (logr_prefetch): the row is
 * read on the caller's thread (the connection stays on one thread), its
 * compressed bytes copied, and the worker decompresses them while the
 * caller scans the chunk before. load_chunk() takes the result. */
struct prefetch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool quit;
	bool busy;          /* the worker has a job not yet finished */
	int64_t seq;        /* the chunk held (or being made), -1: none */
	int64_t log_id;     /* of this log (logr_prefetch_log: another one) */
	sqlite3_int64 raw_off, raw_len, first, n_lines;
	struct buf z, ix;   /* copies of the row's data and line_index */
	unsigned char *out; /* LOG_CHUNK_RAW */
	size_t got;         /* ZSTD_decompressDCtx()'s result */
	ZSTD_DCtx *dctx;
};

static void *prefetch_main(void *arg)
{
	struct prefetch *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->busy && !p->quit)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		pthread_mutex_unlock(&p->mu);
		size_t got = ZSTD_decompressDCtx(p->dctx, p->out, LOG_CHUNK_RAW,
						 p->z.data ? p->z.data : "", p->z.len);
		pthread_mutex_lock(&p->mu);
		p->got = got;
		p->busy = false;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Wait until the worker is idle (its result, if any, is then in p). */
static void prefetch_wait(struct prefetch *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->busy)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void prefetch_free(struct prefetch *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	ZSTD_freeDCtx(p->dctx);
	buf_release(&p->z);
	buf_release(&p->ix);
	free(p->out);
	free(p);
}

static struct prefetch *prefetch_new(void)
{
	struct prefetch *p = xcalloc(1, sizeof(*p));
	p->seq = -1;
	buf_init(&p->z);
	buf_init(&p->ix);
	p->out = xmalloc(LOG_CHUNK_RAW);
	if (!(p->dctx = ZSTD_createDCtx()))
		goto fail;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	/* the worker takes no signal: a SIGWINCH or SIGINT must still reach (and
	 * interrupt the wait of) the thread that handles it */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&p->th, NULL, prefetch_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		goto fail;
	}
	return p;
fail:
	ZSTD_freeDCtx(p->dctx);
	free(p->out);
	free(p);
	return NULL;
}

static int r_dberr(struct logr *r, struct cs_err *err, const char *doing)
{
	return err_set(err, CS_EDB, "cannot read log %lld: %s: %s%s", (long long)r->id, doing,
		       sqlite3_errmsg(r->db), store_hint(r->db));
}

static int r_corrupt(struct logr *r, struct cs_err *err, int64_t seq, const char *what)
{
	return err_set(err, CS_EDB, "log %lld is corrupt: chunk %lld: %s", (long long)r->id,
		       (long long)seq, what);
}

/* One zstd context kept from a reader to the next (as the writer keeps its
 * own): logr_open() takes it or makes one, logr_close() gives it back. */
static ZSTD_DCtx *spare_dctx;

static ZSTD_DCtx *dctx_get(void)
{
	ZSTD_DCtx *d = __atomic_exchange_n(&spare_dctx, NULL, __ATOMIC_ACQ_REL);
	return d ? d : ZSTD_createDCtx();
}

static void dctx_put(ZSTD_DCtx *d)
{
	ZSTD_DCtx *none = NULL;
	if (!d)
		return;
	if (ZSTD_isError(ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters)) ||
	    !__atomic_compare_exchange_n(&spare_dctx, &none, d, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		ZSTD_freeDCtx(d);
}

void logr_close(struct logr *r)
{
	if (!r)
		return;
	prefetch_free(r->pf);
	sqlite3_finalize(r->meta);
	sqlite3_finalize(r->by_seq);
	sqlite3_finalize(r->by_line);
	sqlite3_finalize(r->grams);
	buf_release(&r->head);
	dctx_put(r->dctx);
	for (int i = 0; i < LOGR_CACHE; i++) {
		free(r->cache[i].data);
		free(r->cache[i].starts);
	}
	free(r);
}

/* Point r at log log_id: its logs row read and checked, the chunk cache
 * emptied; statements, the zstd context and buffers kept. */
static int reader_target(struct logr *r, int64_t log_id, struct cs_err *err)
{
	r->id = log_id;
	r->raw_size = r->line_count = r->chunk_count = 0;
	r->scanned = r->skipped = 0;
	for (int i = 0; i < LOGR_CACHE; i++)
		r->cache[i].seq = -1;
	if (r->pf) {
		prefetch_wait(r->pf);
		if (r->pf->log_id != log_id)
			r->pf->seq = -1; /* (one of this log made ahead stays) */
	}
	sqlite3_stmt *st = r->meta;
	sqlite3_bind_int64(st, 1, log_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return err_set(err, CS_ENOTFOUND, "cannot read log %lld: no such log", (long long)log_id);
	}
	if (rc != SQLITE_ROW) {
		r_dberr(r, err, "reading the logs row");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_int64 size = sqlite3_column_int64(st, 0), lines = sqlite3_column_int64(st, 1),
		      chunks = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (size < 0 || lines < 0 || lines > size ||
	    chunks != (size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW || (size > 0 && lines == 0))
		return err_set(err, CS_EDB,
			       "log %lld is corrupt: %lld bytes, %lld lines and %lld chunks do not agree",
			       (long long)log_id, (long long)size, (long long)lines, (long long)chunks);
	r->raw_size = (uint64_t)size;
	r->line_count = (uint64_t)lines;
	r->chunk_count = (uint64_t)chunks;
	return 0;
}

static struct logr *reader_open(struct sqlite3 *db, int64_t log_id, struct cs_err *err)
{
	struct logr *r = xcalloc(1, sizeof(*r));
	r->db = db;
	r->id = log_id;
	if (sqlite3_prepare_v2(db, "SELECT raw_size, line_count, chunk_count FROM logs WHERE id = ?1",
			       -1, &r->meta, NULL) != SQLITE_OK) {
		r_dberr(r, err, "reading the logs row");
		goto fail;
	}
	if (reader_target(r, log_id, err) < 0)
		goto fail;
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
	r->dctx = dctx_get();
	if (!r->dctx) {
		err_set(err, CS_ENOMEM, "cannot read log %lld: cannot create a zstd context",
			(long long)log_id);
		goto fail;
	}
	return r;
fail:
	logr_close(r);
	return NULL;
}

struct logr *logr_open(struct store *st, int64_t log_id, struct cs_err *err)
{
	return reader_open(st->db, log_id, err);
}

int logr_reopen(struct logr *r, int64_t log_id, struct cs_err *err)
{
	buf_reset(&r->head);
	return reader_target(r, log_id, err);
}

uint64_t logr_line_count(const struct logr *r)
{
	return r->line_count;
}

uint64_t logr_raw_size(const struct logr *r)
{
	return r->raw_size;
}

/* One row of log_chunks, as fetched (or copied by a prefetch). */
struct chunk_row {
	sqlite3_int64 raw_off, raw_len, first, n_lines;
	const void *z;
	size_t zn;
	const unsigned char *ix;
	size_t ixn;
	/* a prefetch: the data already decompressed into *pre, got its result */
	unsigned char **pre;
	size_t got;
};

/* Decode and check one row into c. */
static int fill_chunk(struct logr *r, struct chunk *c, int64_t seq, const struct chunk_row *row,
		      struct cs_err *err)
{
	char what[160];
	sqlite3_int64 raw_off = row->raw_off, raw_len = row->raw_len, first = row->first,
		      n_lines = row->n_lines;
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
	if (!c->data)
		c->data = xmalloc(LOG_CHUNK_RAW);
	size_t got;
	if (row->pre) {
		/* the prefetch's buffer becomes the chunk's, the chunk's the next prefetch's */
		unsigned char *t = c->data;
		c->data = *row->pre;
		*row->pre = t;
		got = row->got;
	} else {
		got = ZSTD_decompressDCtx(r->dctx, c->data, LOG_CHUNK_RAW, row->z ? row->z : "",
					  row->zn);
	}
	if (ZSTD_isError(got) || got != (size_t)raw_len) {
		snprintf(what, sizeof(what), "cannot decompress %zu bytes: %s", row->zn,
			 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
		return r_corrupt(r, err, seq, what);
	}
	const unsigned char *ix = row->ix, *ixe;
	size_t ixn = row->ixn;
	if (!ix) /* an empty blob comes back as NULL */
		ix = (const unsigned char *)"", ixn = 0;
	ixe = ix + ixn;
	XGROW(c->starts, c->starts_alloc, (size_t)n_lines);
	uint64_t pos = 0;
	for (sqlite3_int64 i = 0; i < n_lines; i++) {
		/* Lines under 16 KiB, nearly all, take one or two bytes each:
		 * those decoded without the general loop's checks (a search
		 * decodes every start of every chunk it reads) */
		while (i > 0 && ixe - ix >= 2) {
			/* (no branch on the length: it goes either way) */
			uint64_t b0 = ix[0], b1 = ix[1], two = b0 >> 7;
			if (two & b1 >> 7)
				break; /* longer */
			uint64_t v = (b0 & 0x7f) | (b1 << 7 & (0 - two));
			ix += 1 + two;
			if (v == 0)
				return r_corrupt(r, err, seq, "line index is not increasing");
			pos += v;
			c->starts[i++] = (uint32_t)pos;
			if (i >= n_lines)
				break;
		}
		if (pos >= (uint64_t)raw_len)
			return r_corrupt(r, err, seq, "line index points past the chunk");
		if (i >= n_lines)
			break;
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

static void row_of(sqlite3_stmt *st, struct chunk_row *row)
{
	memset(row, 0, sizeof(*row));
	row->raw_off = sqlite3_column_int64(st, 0);
	row->raw_len = sqlite3_column_int64(st, 1);
	row->first = sqlite3_column_int64(st, 2);
	row->n_lines = sqlite3_column_int64(st, 3);
	row->z = sqlite3_column_blob(st, 4);
	row->zn = (size_t)sqlite3_column_bytes(st, 4);
	row->ix = sqlite3_column_blob(st, 5);
	row->ixn = (size_t)sqlite3_column_bytes(st, 5);
}

static void prefetch_start(struct logr *r, int64_t log_id, uint64_t seq)
{
	if (!r->pf && !(r->pf = prefetch_new()))
		return; /* no thread: load_chunk() decompresses as before */
	struct prefetch *p = r->pf;
	prefetch_wait(p);
	if (p->seq == (int64_t)seq && p->log_id == log_id)
		return;
	p->seq = -1;
	p->log_id = log_id;
	sqlite3_stmt *st = r->by_seq;
	sqlite3_bind_int64(st, 1, log_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct chunk_row row;
		row_of(st, &row);
		p->raw_off = row.raw_off;
		p->raw_len = row.raw_len;
		p->first = row.first;
		p->n_lines = row.n_lines;
		buf_reset(&p->z);
		buf_add(&p->z, row.z ? row.z : "", row.zn);
		buf_reset(&p->ix);
		buf_add(&p->ix, row.ix ? (const void *)row.ix : "", row.ixn);
		p->seq = (int64_t)seq;
		pthread_mutex_lock(&p->mu);
		p->busy = true;
		pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	/* (a missing row or an error: load_chunk() reports it) */
	sqlite3_reset(st);
}

void logr_prefetch(struct logr *r, uint64_t seq)
{
	if (seq >= r->chunk_count)
		return;
	for (int i = 0; i < LOGR_CACHE; i++)
		if (r->cache[i].seq == (int64_t)seq)
			return;
	prefetch_start(r, r->id, seq);
}

void logr_prefetch_log(struct logr *r, int64_t log_id, uint64_t seq)
{
	if (log_id != r->id)
		prefetch_start(r, log_id, seq);
}

void logr_prefetch_forget(struct logr *r)
{
	if (r && r->pf) {
		prefetch_wait(r->pf);
		r->pf->seq = -1;
	}
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
	int ok = -1;
	struct prefetch *p = r->pf;
	if (p && p->seq == seq && p->log_id == r->id) {
		prefetch_wait(p);
		struct chunk_row row = {.raw_off = p->raw_off, .raw_len = p->raw_len,
					.first = p->first, .n_lines = p->n_lines, .zn = p->z.len,
					.ix = (const unsigned char *)p->ix.data, .ixn = p->ix.len,
					.pre = &p->out, .got = p->got};
		p->seq = -1;
		ok = fill_chunk(r, victim, seq, &row, err);
		if (ok < 0)
			victim->seq = -1;
		else
			victim->used = ++r->tick;
		return ok < 0 ? NULL : victim;
	}
	sqlite3_stmt *st = r->by_seq;
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct chunk_row row;
		row_of(st, &row);
		ok = fill_chunk(r, victim, seq, &row, err);
	} else if (rc == SQLITE_DONE) {
		r_corrupt(r, err, seq, "missing");
	} else {
		r_dberr(r, err, "reading a chunk");
	}
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
		if (n > take)
			logr_prefetch(r, (uint64_t)seq + 1); /* made while this one is used */
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

/* Line n's span and terminator, from the index and the bytes before the
 * next line's start. */
static int span_term(struct logr *r, uint64_t n, uint64_t *off, uint64_t *len,
		     enum line_term *term, struct cs_err *err)
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
	enum line_term tt = TERM_NONE;
	if (k >= 1 && tail.data[k - 1] == '\n') {
		t = (k == 2 && tail.data[0] == '\r') ? 2 : 1;
		tt = t == 2 ? TERM_CRLF : TERM_LF;
	} else if (k >= 1 && tail.data[k - 1] == '\r') {
		t = 1;
		tt = TERM_CR;
	}
	buf_release(&tail);
	if (t == 0 && n != r->line_count)
		return err_set(err, CS_EDB, "log %lld is corrupt: line %llu has no line end",
			       (long long)r->id, (ull)n);
	*off = start;
	*len = next - start - t;
	*term = tt;
	return 0;
}

int logr_line_span(struct logr *r, uint64_t n, uint64_t *off, uint64_t *len, struct cs_err *err)
{
	enum line_term term;
	return span_term(r, n, off, len, &term, err);
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

/* --- chunk by chunk ---------------------------------------------------------- */
uint64_t logr_chunk_count(const struct logr *r)
{
	return r->chunk_count;
}

void logr_grams_stats(const struct logr *r, uint64_t *scanned, uint64_t *skipped)
{
	*scanned = r->scanned;
	*skipped = r->skipped;
}

/* The first CR or LF in p[0..n), or NULL. */
static const unsigned char *find_eol(const unsigned char *p, size_t n)
{
	const unsigned char *lf = memchr(p, '\n', n);
	const unsigned char *cr = memchr(p, '\r', lf ? (size_t)(lf - p) : n);
	return cr ? cr : lf;
}

/* The terminator of a line [start, next) of one chunk: its last bytes. */
static unsigned term_before(const unsigned char *d, uint32_t start, uint32_t next,
			    enum line_term *t)
{
	if (d[next - 1] == '\n') {
		if (next - 1 > start && d[next - 2] == '\r') {
			*t = TERM_CRLF;
			return 2;
		}
		*t = TERM_LF;
		return 1;
	}
	if (d[next - 1] == '\r') {
		*t = TERM_CR;
		return 1;
	}
	return 0;
}

/* The last line starting in chunk c, at start: it ends in the chunk or
 * runs on into the next ones. l->lineno and l->off are set. */
static int last_line(struct logr *r, struct chunk *c, uint32_t start, struct split_line *l,
		     struct cs_err *err)
{
	int64_t seq = c->seq;
	const unsigned char *p = c->data + start;
	size_t avail = c->raw_len - start;
	const unsigned char *e = find_eol(p, avail);
	if (e) {
		l->len = (uint64_t)(e - p);
		if (*e == '\n') {
			l->term = TERM_LF;
		} else if ((size_t)(e - p) + 1 < avail) {
			l->term = e[1] == '\n' ? TERM_CRLF : TERM_CR;
		} else if (l->off + l->len + 1 >= r->raw_size) {
			l->term = TERM_CR;
		} else {
			/* a CR ends the chunk: is it half of a CRLF? */
			struct chunk *d = load_chunk(r, seq + 1, err);
			if (!d)
				return -1;
			l->term = d->data[0] == '\n' ? TERM_CRLF : TERM_CR;
			if (!(c = load_chunk(r, seq, err)))
				return -1;
			p = c->data + start;
		}
		l->head = (const char *)p;
		l->head_len = (size_t)MIN(l->len, (uint64_t)SPLIT_HEAD_MAX);
		return 0;
	}
	/* it runs past the chunk: gather its head, then take its length from
	 * the index (a 10 MB line is not read to its end) */
	buf_reset(&r->head);
	buf_add(&r->head, p, MIN(avail, (size_t)SPLIT_HEAD_MAX));
	uint64_t pos = c->raw_off + c->raw_len;
	while (r->head.len < SPLIT_HEAD_MAX && pos < r->raw_size) {
		struct chunk *d = load_chunk(r, (int64_t)(pos / LOG_CHUNK_RAW), err);
		if (!d)
			return -1;
		size_t take = MIN((size_t)SPLIT_HEAD_MAX - r->head.len, (size_t)d->raw_len);
		const unsigned char *q = find_eol(d->data, take);
		if (q) {
			buf_add(&r->head, d->data, (size_t)(q - d->data));
			break;
		}
		buf_add(&r->head, d->data, take);
		pos += d->raw_len;
	}
	uint64_t off, len;
	if (span_term(r, l->lineno, &off, &len, &l->term, err) < 0)
		return -1;
	if (off != l->off || MIN(len, (uint64_t)SPLIT_HEAD_MAX) != r->head.len)
		return r_corrupt(r, err, seq, "a line's index and bytes disagree");
	l->len = len;
	l->head = r->head.data;
	l->head_len = r->head.len;
	return 0;
}

int logr_chunk_starts(struct logr *r, uint64_t *first, struct cs_err *err)
{
	sqlite3_stmt *st;
	memset(first, 0, r->chunk_count * sizeof(*first));
	if (sqlite3_prepare_v2(r->db,
			       "SELECT seq, first_line, n_lines FROM log_chunks WHERE log_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return r_dberr(r, err, "preparing the chunk list");
	sqlite3_bind_int64(st, 1, r->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(st, 0), fl = sqlite3_column_int64(st, 1),
			      nl = sqlite3_column_int64(st, 2);
		if (seq < 0 || (uint64_t)seq >= r->chunk_count || fl < 1 ||
		    (uint64_t)fl > r->line_count || nl < 0) {
			sqlite3_finalize(st);
			return r_corrupt(r, err, seq, "line numbers out of range");
		}
		first[seq] = nl > 0 ? (uint64_t)fl : 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return r_dberr(r, err, "reading the chunk list");
	return 0;
}

/* Chunk seq of r, loaded; NULL on error (one out of range included). */
static struct chunk *chunk_at(struct logr *r, uint64_t seq, struct cs_err *err)
{
	if (seq >= r->chunk_count) {
		err_set(err, CS_EINVAL, "chunk %llu is out of range: log %lld has %llu chunks",
			(ull)seq, (long long)r->id, (ull)r->chunk_count);
		return NULL;
	}
	return load_chunk(r, (int64_t)seq, err);
}

int logr_chunk_data(struct logr *r, uint64_t seq, const unsigned char **data, size_t *len,
		    uint64_t *off, struct cs_err *err)
{
	struct chunk *c = chunk_at(r, seq, err);
	if (!c)
		return -1;
	*data = c->data;
	*len = c->raw_len;
	*off = c->raw_off;
	return 0;
}

int logr_chunk_index(struct logr *r, uint64_t seq, const uint32_t **starts, uint32_t *n,
		     uint64_t *first, struct cs_err *err)
{
	struct chunk *c = chunk_at(r, seq, err);
	if (!c)
		return -1;
	*starts = c->starts;
	*n = c->n_lines;
	*first = c->first_line;
	return 0;
}

/* The line of c at or after i whose bytes (with its terminator) hold raw
 * offset to; the chunk's last line when none but it does. */
static uint32_t line_holding(const struct chunk *c, uint32_t i, uint64_t to)
{
	uint32_t lo = i + 1, hi = c->n_lines; /* the first start past to is in [lo, hi] */
	if (to < c->raw_off + c->starts[lo])
		return i;
	uint64_t rel = MIN(to - c->raw_off, (uint64_t)UINT32_MAX);
	/* the next candidate is usually a few lines on: gallop there first */
	uint32_t step = 1;
	for (; lo + step < hi && c->starts[lo + step] <= rel; step *= 2)
		lo += step;
	if (lo + step < hi)
		hi = lo + step;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->starts[mid] > rel)
			hi = mid;
		else
			lo = mid + 1;
	}
	return MIN(lo - 1, c->n_lines - 1);
}

int logr_chunk_lines(struct logr *r, uint64_t seq, split_cb cb, void *ctx, struct cs_err *err)
{
	return logr_chunk_lines_from(r, seq, NULL, cb, ctx, err);
}

int logr_chunk_lines_from(struct logr *r, uint64_t seq, const uint64_t *skip_to, split_cb cb,
			  void *ctx, struct cs_err *err)
{
	if (seq >= r->chunk_count)
		return err_set(err, CS_EINVAL, "chunk %llu is out of range: log %lld has %llu chunks",
			       (ull)seq, (long long)r->id, (ull)r->chunk_count);
	struct chunk *c = load_chunk(r, (int64_t)seq, err);
	if (!c)
		return -1;
	uint32_t n = c->n_lines;
	for (uint32_t i = 0; i < n; i++) {
		struct split_line l;
		if (skip_to && i + 1 < n)
			i = line_holding(c, i, *skip_to);
		uint32_t start = c->starts[i];
		l.lineno = c->first_line + i;
		l.off = c->raw_off + start;
		if (i + 1 < n) {
			uint32_t next = c->starts[i + 1];
			unsigned t = term_before(c->data, start, next, &l.term);
			if (!t)
				return r_corrupt(r, err, (int64_t)seq, "a line has no line end");
			l.len = next - start - t;
			l.head = (const char *)c->data + start;
			l.head_len = (size_t)MIN(l.len, (uint64_t)SPLIT_HEAD_MAX);
		} else if (last_line(r, c, start, &l, err) < 0) {
			return -1;
		}
		int rc = cb(ctx, &l);
		if (rc)
			return rc;
		if (c->seq != (int64_t)seq && !(c = load_chunk(r, (int64_t)seq, err)))
			return -1; /* the callback read elsewhere in the log */
	}
	return 0;
}

static int scan_chunk(struct logr *r, uint64_t seq, split_cb cb, void *ctx, struct cs_err *err)
{
	r->scanned++;
	return logr_chunk_lines(r, seq, cb, ctx, err);
}

/* The query's 6-grams in groups by the part of a full chunk they fall in
 * (a chunk with fewer parts puts a group in one part too: its part is a
 * prefix of the hash's bits), the biggest groups first. */
struct wgroups {
	uint32_t h[LOG_WORDS_MAX];
	size_t start[LOG_WORDS_MAX + 1], n;
};

struct logfilter {
	sqlite3 *db;
	const struct log_grams *q;
	sqlite3_stmt *grams, *grams_one, *words_range, *words_one;
	unsigned char *seen; /* per chunk: a row was read */
	size_t seen_alloc;
	struct wgroups groups; /* the query's 6-grams by part (words_rule_out) */
	bool grouped;
};

struct logfilter *logfilter_new(struct store *st, const struct log_grams *q,
				struct cs_err *err)
{
	struct sqlite3 *db = st->db;
	struct logfilter *f = xcalloc(1, sizeof(*f));
	f->db = db;
	f->q = q;
	if ((q && q->n > 0 &&
	     (sqlite3_prepare_v2(db, "SELECT seq, bits FROM log_chunk_grams WHERE log_id = ?1"
				 " AND seq >= ?2 AND seq < ?3",
				 -1, &f->grams, NULL) != SQLITE_OK ||
	      sqlite3_prepare_v2(db, "SELECT bits FROM log_chunk_grams WHERE log_id = ?1 AND seq = ?2",
				 -1, &f->grams_one, NULL) != SQLITE_OK)) ||
	    (q && q->nw > 0 &&
	     (sqlite3_prepare_v2(db, "SELECT seq, bits FROM log_chunk_words WHERE log_id = ?1"
				 " AND part = ?2 AND seq >= ?3 AND seq < ?4",
				 -1, &f->words_range, NULL) != SQLITE_OK ||
	      sqlite3_prepare_v2(db, "SELECT bits FROM log_chunk_words WHERE log_id = ?1"
				 " AND part = ?2 AND seq = ?3",
				 -1, &f->words_one, NULL) != SQLITE_OK))) {
		sqlite3_finalize(f->grams);
		sqlite3_finalize(f->grams_one);
		sqlite3_finalize(f->words_range);
		err_set(err, CS_EDB, "cannot read the search filters: %s", sqlite3_errmsg(db));
		free(f);
		return NULL;
	}
	return f;
}

static void word_groups(const struct log_grams *q, unsigned full, struct wgroups *g)
{
	unsigned sh = WORDS_LOG2 - loggrams_log2u(full);
	size_t nw = MIN(q->nw, (size_t)LOG_WORDS_MAX);
	/* by part (insertion: a few dozen at most) */
	for (size_t i = 0; i < nw; i++) {
		size_t j = i;
		for (; j > 0 && (g->h[j - 1] >> sh & (full - 1)) > (q->w[i] >> sh & (full - 1)); j--)
			g->h[j] = g->h[j - 1];
		g->h[j] = q->w[i];
	}
	/* runs of one part, then the runs ordered by size (a stable pass:
	 * few runs) */
	size_t run[LOG_WORDS_MAX], len[LOG_WORDS_MAX], nr = 0;
	for (size_t i = 0; i < nw; i++) {
		if (i == 0 || (g->h[i] >> sh & (full - 1)) != (g->h[i - 1] >> sh & (full - 1)))
			run[nr] = i, len[nr++] = 0;
		len[nr - 1]++;
	}
	uint32_t sorted[LOG_WORDS_MAX];
	size_t k = 0;
	g->n = 0;
	for (size_t want = nw; want > 0 && k < nw; want--)
		for (size_t r = 0; r < nr; r++)
			if (len[r] == want) {
				g->start[g->n++] = k;
				memcpy(sorted + k, g->h + run[r], want * sizeof(*sorted));
				k += want;
			}
	g->start[g->n] = k;
	memcpy(g->h, sorted, k * sizeof(*g->h));
}

/* Whether a word filter part may hold every 6-gram of hs[0..n). */
static bool part_admits(const void *bits, size_t nb, const uint32_t *hs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!loggrams_words_admit_part(bits, nb, hs[i]))
			return false;
	return true;
}

/* Rule out, in admit[c0..c1), the chunks of log_id whose word filters lack one
 * of the query's 6-grams. Chunks without rows (stored before the word
 * filters) are left admitted. Per part, the biggest group of the query's
 * 6-grams in it first, its rows are read in one range, or one by one once
 * half the chunks are out; a row read tests every 6-gram of its group (a
 * third of a high-entropy filter's bits are set: each 6-gram lets a third
 * of the chunks through, so a group of three in the first part read leaves
 * a 27th for the rows read one by one). Returns the number still admitted,
 * or -1. */
static long words_rule_out(struct logfilter *f, int64_t log_id, uint64_t raw_size,
			   uint64_t c0, uint64_t c1, unsigned char *admit, long n)
{
	unsigned full = loggrams_words_parts(LOG_CHUNK_RAW);
	struct wgroups *g = &f->groups;
	if (!f->grouped) {
		word_groups(f->q, full, g);
		f->grouped = true;
	}
	/* eight parts rule out nearly every chunk that lacks the string; more
	 * only cost reads */
	size_t tests = MIN(g->n, (size_t)8);
	for (size_t i = 0; i < tests; i++) {
		const uint32_t *hs = g->h + g->start[i];
		size_t nh = g->start[i + 1] - g->start[i];
		uint32_t h = hs[0];
		/* chunks still admitted (1) that have a filter: those the group
		 * is tested on; a chunk without rows (2) is found on the first */
		long live = 0;
		for (uint64_t seq = c0; seq < c1; seq++)
			live += admit[seq] == 1;
		if (!live)
			break;
		/* a range reads every chunk's row of the part (a seek into the
		 * table each; the writer puts the rows of a part of 64 chunks
		 * side by side: core/logwrite.c, flush_words()): once half are
		 * out, only theirs */
		bool range = i == 0 || (uint64_t)live * 2 > c1 - c0;
		if (range) {
			sqlite3_stmt *st = f->words_range;
			unsigned char *seen = f->seen;
			memset(seen + c0, 0, c1 - c0);
			sqlite3_bind_int64(st, 1, log_id);
			sqlite3_bind_int64(st, 2, (h >> (WORDS_LOG2 - loggrams_log2u(full))) & (full - 1));
			sqlite3_bind_int64(st, 3, (sqlite3_int64)c0);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)c1);
			int rc;
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				sqlite3_int64 seq = sqlite3_column_int64(st, 0);
				if (seq < (sqlite3_int64)c0 || (uint64_t)seq >= c1)
					continue;
				uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - (uint64_t)seq * LOG_CHUNK_RAW);
				if (loggrams_words_parts(len) != full)
					continue; /* a short chunk: its part is another */
				seen[seq] = 1;
				if (admit[seq] == 1 &&
				    !part_admits(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
						 hs, nh)) {
					admit[seq] = 0;
					n--;
				}
			}
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return -1;
			if (i == 0)
				for (uint64_t seq = c0; seq < c1; seq++) {
					uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - seq * LOG_CHUNK_RAW);
					if (!seen[seq] && loggrams_words_parts(len) == full && admit[seq])
						admit[seq] = 2; /* no word filter */
				}
		}
		for (uint64_t seq = c0; seq < c1 && n > 0; seq++) {
			if (admit[seq] != 1)
				continue;
			uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - seq * LOG_CHUNK_RAW);
			unsigned parts = loggrams_words_parts(len);
			if (range && parts == full)
				continue; /* done above */
			sqlite3_stmt *st = f->words_one;
			sqlite3_bind_int64(st, 1, log_id);
			sqlite3_bind_int64(st, 2, (h >> (WORDS_LOG2 - loggrams_log2u(parts))) & (parts - 1));
			sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				if (!part_admits(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
						 hs, nh)) {
					admit[seq] = 0;
					n--;
				}
			} else if (rc == SQLITE_DONE) {
				admit[seq] = 2; /* no word filter */
			} else {
				sqlite3_reset(st);
				return -1;
			}
			sqlite3_reset(st);
		}
	}
	for (uint64_t seq = c0; seq < c1; seq++)
		admit[seq] = admit[seq] != 0;
	return n;
}

long logfilter_admit(struct logfilter *f, int64_t log_id, uint64_t raw_size,
		     unsigned char *admit, struct cs_err *err)
{
	return logfilter_admit_range(f, log_id, raw_size, 0, UINT64_MAX, admit, err);
}

long logfilter_admit_range(struct logfilter *f, int64_t log_id, uint64_t raw_size, uint64_t c0,
			   uint64_t c1, unsigned char *admit, struct cs_err *err)
{
	uint64_t n_chunks = (raw_size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW;
	c1 = MIN(c1, n_chunks);
	if (c0 >= c1)
		return 0;
	memset(admit + c0, 1, c1 - c0);
	long n = (long)(c1 - c0);
	if (f->words_range) {
		/* the more selective filter first: it rules out most chunks */
		XGROW(f->seen, f->seen_alloc, (size_t)n_chunks + 1);
		n = words_rule_out(f, log_id, raw_size, c0, c1, admit, n);
		if (n < 0)
			return err_set(err, CS_EDB, "cannot read the search filters of log %lld: %s",
				       (long long)log_id, sqlite3_errmsg(f->db));
	}
	if (!f->grams || n == 0)
		return n;
	if ((uint64_t)n * 4 <= c1 - c0) {
		/* the word filters left a few: their trigram filters alone, not
		 * every chunk's (on high-entropy logs 8 KiB each, all full) */
		sqlite3_stmt *one = f->grams_one;
		for (uint64_t seq = c0; seq < c1 && n > 0; seq++) {
			if (!admit[seq])
				continue;
			sqlite3_bind_int64(one, 1, log_id);
			sqlite3_bind_int64(one, 2, (sqlite3_int64)seq);
			int rc = sqlite3_step(one);
			if (rc == SQLITE_ROW &&
			    !log_grams_admit(sqlite3_column_blob(one, 0),
					     (size_t)sqlite3_column_bytes(one, 0), f->q)) {
				admit[seq] = 0;
				n--;
			}
			sqlite3_reset(one);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return err_set(err, CS_EDB,
					       "cannot read the search filters of log %lld: %s",
					       (long long)log_id, sqlite3_errmsg(f->db));
		}
		return n;
	}
	sqlite3_stmt *st = f->grams;
	sqlite3_bind_int64(st, 1, log_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c0);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(st, 0);
		if (seq < (sqlite3_int64)c0 || (uint64_t)seq >= c1 || !admit[seq])
			continue;
		if (!log_grams_admit(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
				     f->q)) {
			admit[seq] = 0;
			n--;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return err_set(err, CS_EDB, "cannot read the search filters of log %lld: %s",
			       (long long)log_id, sqlite3_errmsg(f->db));
	return n;
}

struct log_pos {
	int64_t id;
	size_t i;
};

static int log_pos_cmp(const void *a, const void *b)
{
	const struct log_pos *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

long logfilter_rule_out_logs(struct logfilter *f, const int64_t *ids, const uint64_t *sizes,
			     size_t n, unsigned char *out, struct cs_err *err)
{
	memset(out, 0, n);
	if (!f->words_range || n == 0)
		return 0;
	struct log_pos *pos = xmalloc(n * sizeof(*pos));
	size_t *base = xmalloc((n + 1) * sizeof(*base));
	base[0] = 0;
	for (size_t i = 0; i < n; i++) {
		pos[i].id = ids[i];
		pos[i].i = i;
		base[i + 1] = base[i] + (size_t)((sizes[i] + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW);
	}
	qsort(pos, n, sizeof(*pos), log_pos_cmp);
	/* per chunk: 1 once a filter part lacks one of the tested 6-grams; a
	 * chunk without rows (stored before the word filters) stays 0 */
	unsigned char *ruled = xcalloc(base[n] + 1, 1);
	size_t tests = MIN(f->q->nw, (size_t)8);
	uint32_t h[8];
	for (size_t i = 0; i < tests; i++)
		h[i] = f->q->w[tests < f->q->nw ? i * (f->q->nw - 1) / (tests - 1) : i];
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(f->db, "SELECT log_id, seq, part, bits FROM log_chunk_words", -1,
				    &st, NULL);
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct log_pos key = {.id = sqlite3_column_int64(st, 0)};
		const struct log_pos *at = bsearch(&key, pos, n, sizeof(*pos), log_pos_cmp);
		sqlite3_int64 seq = sqlite3_column_int64(st, 1), part = sqlite3_column_int64(st, 2);
		if (!at || seq < 0 || (uint64_t)seq >= base[at->i + 1] - base[at->i])
			continue;
		size_t c = base[at->i] + (size_t)seq;
		if (ruled[c])
			continue;
		uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, sizes[at->i] - (uint64_t)seq * LOG_CHUNK_RAW);
		unsigned parts = loggrams_words_parts(len);
		const unsigned char *bits = sqlite3_column_blob(st, 3);
		size_t nb = (size_t)sqlite3_column_bytes(st, 3);
		for (size_t k = 0; k < tests; k++)
			if (((h[k] >> (WORDS_LOG2 - loggrams_log2u(parts))) & (parts - 1)) == (uint64_t)part &&
			    !loggrams_words_admit_part(bits, nb, h[k])) {
				ruled[c] = 1;
				break;
			}
	}
	sqlite3_finalize(st);
	long count = 0;
	if (rc == SQLITE_DONE) {
		for (size_t i = 0; i < n; i++) {
			bool all = base[i + 1] > base[i];
			for (size_t c = base[i]; all && c < base[i + 1]; c++)
				all = ruled[c];
			out[i] = all;
			count += all;
		}
	}
	free(ruled);
	free(base);
	free(pos);
	if (rc != SQLITE_DONE) {
		memset(out, 0, n);
		return err_set(err, CS_EDB, "cannot read the search filters: %s", sqlite3_errmsg(f->db));
	}
	return count;
}

void logfilter_free(struct logfilter *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->grams);
	sqlite3_finalize(f->grams_one);
	sqlite3_finalize(f->words_range);
	sqlite3_finalize(f->words_one);
	free(f->seen);
	free(f);
}

int logr_scan_grams(struct logr *r, const struct log_grams *q, split_cb cb, void *ctx,
		    struct cs_err *err)
{
	uint64_t next = 0;
	int rc = 0;
	if (q && q->n > 0) {
		if (!r->grams &&
		    sqlite3_prepare_v2(r->db,
				       "SELECT seq, bits FROM log_chunk_grams WHERE log_id = ?1 ORDER BY seq",
				       -1, &r->grams, NULL) != SQLITE_OK)
			return r_dberr(r, err, "preparing the filter query");
		sqlite3_stmt *st = r->grams;
		sqlite3_bind_int64(st, 1, r->id);
		int src = SQLITE_DONE;
		while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
			sqlite3_int64 seq = sqlite3_column_int64(st, 0);
			if (seq < (sqlite3_int64)next || (uint64_t)seq >= r->chunk_count)
				continue; /* not ours to judge: those chunks get scanned */
			bool admit = log_grams_admit(sqlite3_column_blob(st, 1),
						     (size_t)sqlite3_column_bytes(st, 1), q);
			/* chunks without a filter, then this one */
			while (!rc && next < (uint64_t)seq)
				rc = scan_chunk(r, next++, cb, ctx, err);
			if (rc)
				break;
			if (admit)
				rc = scan_chunk(r, next, cb, ctx, err);
			else
				r->skipped++;
			next = (uint64_t)seq + 1;
		}
		if (!rc && src != SQLITE_DONE)
			rc = r_dberr(r, err, "reading chunk filters");
		sqlite3_reset(st);
	}
	while (!rc && next < r->chunk_count)
		rc = scan_chunk(r, next++, cb, ctx, err);
	return rc;
}
