/* logwrite.c - the log store's writer (logw_*): splits a log into lines,
 * stores it as zstd chunks with their line index and search filters, the
 * compression on a second thread. The layout it writes is described in
 * core/logstore.c, which reads it.
 *
 * Trigram filters (log_chunk_grams): a line's trigrams go to the filter of
 * the chunk its first byte is in. The last line starting in a chunk usually
 * runs on into the next one, so when a chunk is flushed its filter may still
 * miss that line: it waits in a second bitset (`open`) until the line
 * completes, and is inserted then. Only one line is unfinished at a time, so
 * two sets are enough however long the line: the writer holds 2 x 64 KiB
 * more (a byte per bit while building), whatever the log size.
 */
#include "logstoreint.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static unsigned term_bytes(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

/* --- writing ------------------------------------------------------------- */
/* The compression pipeline. Splitting, triage (the line callback) and the
 * per-line filter work stay on the caller's thread; a worker compresses each
 * full chunk while the next one is filled. The SQLite connection is never
 * touched by the worker: the caller inserts each chunk row when it takes the
 * chunk back, in chunk order, inside its own transaction, so the rows, their
 * order within the log and the bytes of every blob are those the
 * single-threaded writer produces (zstd is deterministic for one level).
 * At most LOGW_INFLIGHT chunks are in flight, so memory stays flat: a full
 * queue makes the caller wait for the oldest chunk. The first chunk of a log
 * is compressed and stored on the caller's thread: a log of one or two
 * chunks never starts the worker (many small logs pay no thread), and a
 * database that refuses chunk rows fails the write that filled chunk 0.
 * Later failures (the worker's, or a chunk row's) come out of the write or
 * finish that takes the chunk back, as the same errors. */
#define LOGW_INFLIGHT 3

int64_t logw_test_fail_seq = -1;

enum zstate { Z_FREE, Z_QUEUED, Z_DONE };

struct zjob {
	enum zstate state;
	unsigned char *raw;
	size_t raw_len;
	void *zbuf;
	size_t zlen;
	int64_t seq;
	uint64_t off, first_line;
	uint32_t n_lines;
	struct buf idx;
	char why[200]; /* non-empty: the worker failed on this chunk */
};

struct zpipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	unsigned head, tail, count, next; /* next to take back, to fill, in flight, for the worker */
	struct zjob job[LOGW_INFLIGHT];
	ZSTD_CCtx *cctx; /* the worker's alone once the pipeline runs */
	size_t zcap;
};

struct logw {
	struct store *store;
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
	/* the frame and filters of its only chunk, made ahead (logw_use_prep()) */
	const struct log_prep *prep;
	const void *prep_raw;
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
	/* trigram sets (GRAMS_BITS bytes of 0/1): of the chunk being filled, and
	 * of the last flushed chunk while the line that started last in it goes
	 * on (open_seq >= 0) */
	unsigned char *grams_cur, *grams_open;
	unsigned char *gblob;  /* 1 + GRAMS_BYTES */
	uint32_t cur_done;     /* lines starting in this chunk that completed */
	int64_t open_seq;
	sqlite3_stmt *ins_grams;
	/* word 6-gram hashes of the chunk being filled and of the open one
	 * (they follow grams_cur and grams_open), the set built from them,
	 * and the blob of one part */
	uint32_t *wh_cur, *wh_open;
	size_t wn_cur, wn_open, wa_cur, wa_open;
	unsigned char *wset, *wblob;
	size_t wblob_alloc;
	uint64_t open_len;     /* raw bytes of the open chunk */
	sqlite3_stmt *ins_words;
	struct buf scratch;    /* searchable text of a line with escapes */
	struct cs_err cb_err;  /* why w_on_line stopped the splitter */
	bool threaded;         /* may start the pipeline (CISCOPE_LOG_THREADS != 1) */
	struct zpipe *pipe;    /* NULL until the first full chunk */
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

static int put_grams_blob(struct logw *w, int64_t seq, const void *blob, size_t n,
			  struct cs_err *err)
{
	sqlite3_stmt *st = w->ins_grams;
	sqlite3_bind_int64(st, 1, w->log_id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_blob(st, 3, blob, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		w->failed = true;
		return err_set(err, CS_EDB, "cannot store the log of job %lld: inserting the filter of chunk %lld: %s%s",
			       (long long)w->job_id, (long long)seq, sqlite3_errmsg(w->db),
			       store_hint(w->db));
	}
	return 0;
}

static int put_grams(struct logw *w, int64_t seq, unsigned char *bits, struct cs_err *err)
{
	size_t n = loggrams_blob(bits, w->gblob);
	memset(bits, 0, GRAMS_BITS);
	return put_grams_blob(w, seq, w->gblob, n, err);
}

/* Build the word filter of chunk seq (raw_len bytes) from the n hashes
 * of its 6-grams and store it, a row per part. */
static int put_words(struct logw *w, int64_t seq, const uint32_t *h, size_t n,
		     uint64_t raw_len, struct cs_err *err)
{
	unsigned parts = loggrams_words_parts(raw_len);
	unsigned shift = WORDS_LOG2 - loggrams_log2u(parts);
	size_t pmax = (size_t)1 << shift; /* bits of a part at most */
	/* four bits per 6-gram (repeats included) to start with, which keeps
	 * the set small for the cache; then shrunk while at most 3/8 full */
	size_t per = n / parts + 1, sbits = WORDS_MIN_BYTES * 8;
	while (sbits < pmax && sbits < per * 4)
		sbits *= 2;
	size_t sbytes = sbits / 8;
	if (!w->wset)
		w->wset = xmalloc(((size_t)1 << WORDS_LOG2) / 8);
	memset(w->wset, 0, parts * sbytes);
	/* bits set per part, counted as they are set: the shrinking below goes
	 * by them, with no pass over the sets */
	uint32_t set[WORDS_PARTS_MAX] = {0};
	for (size_t i = 0; i < n; i++) {
		uint32_t j = (h[i] >> shift) & (parts - 1), o = h[i] & (uint32_t)(sbits - 1);
		unsigned char *byte = &w->wset[j * sbytes + (o >> 3)], bit = (unsigned char)(1u << (o & 7));
		set[j] += !(*byte & bit);
		*byte |= bit;
	}
	if (w->wblob_alloc < 1 + sbytes) {
		w->wblob_alloc = 1 + sbytes;
		w->wblob = xrealloc(w->wblob, w->wblob_alloc);
	}
	sqlite3_stmt *st = w->ins_words;
	for (unsigned j = 0; j < parts; j++) {
		unsigned char *b = w->wset + j * sbytes;
		size_t nb = set[j] ? sbytes : 0;
		/* halving a set with a share d of its bits set leaves about
		 * 1 - (1 - d)^2 of them set: halve while that stays <= 3/8 */
		double d = (double)set[j] / (double)(sbytes * 8);
		while (nb > WORDS_MIN_BYTES && 1.0 - (1.0 - d) * (1.0 - d) <= 0.375) {
			size_t half = nb / 2;
			for (size_t i = 0; i < half; i += 8) {
				uint64_t x, y;
				memcpy(&x, b + i, 8);
				memcpy(&y, b + half + i, 8);
				x |= y;
				memcpy(b + i, &x, 8);
			}
			nb = half;
			d = 1.0 - (1.0 - d) * (1.0 - d);
		}
		w->wblob[0] = WORDS_VERSION;
		memcpy(w->wblob + 1, b, nb);
		sqlite3_bind_int64(st, 1, w->log_id);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, j);
		sqlite3_bind_blob(st, 4, w->wblob, (int)(1 + nb), SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE) {
			w->failed = true;
			return err_set(err, CS_EDB,
				       "cannot store the log of job %lld: inserting the word filter of chunk %lld: %s%s",
				       (long long)w->job_id, (long long)seq, sqlite3_errmsg(w->db),
				       store_hint(w->db));
		}
	}
	return 0;
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
	/* the filter of the chunk the line starts in */
	int64_t seq = (int64_t)(l->off / LOG_CHUNK_RAW);
	unsigned char *bits;
	if (seq == w->seq) {
		bits = w->grams_cur;
		w->cur_done++;
	} else if (seq == w->open_seq) {
		bits = w->grams_open;
	} else {
		err_set(&w->cb_err, CS_EINVAL,
			"cannot store the log of job %lld: internal error: line %llu starts in "
			"chunk %lld, whose filter is already stored",
			(long long)w->job_id, (ull)l->lineno, (long long)seq);
		return -1;
	}
	if (w->prep) /* its filters are made already (every line is in chunk 0) */
		return w->line_cb ? w->line_cb(w->ctx, l) : 0;
	const char *text;
	size_t len;
	log_search_text(l->head, l->head_len, &text, &len, &w->scratch);
	loggrams_set(bits, text, len);
	if (bits == w->grams_cur) {
		loggrams_words_collect(&w->wh_cur, &w->wn_cur, &w->wa_cur, text, len);
	} else {
		loggrams_words_collect(&w->wh_open, &w->wn_open, &w->wa_open, text, len);
		w->open_seq = -1;
		if (put_grams(w, seq, bits, &w->cb_err) < 0 ||
		    put_words(w, seq, w->wh_open, w->wn_open, w->open_len, &w->cb_err) < 0)
			return -1;
		w->wn_open = 0;
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
	return err_set(err, CS_EDB, "cannot store the log of job %lld: %s: %s%s",
		       (long long)w->job_id, doing, sqlite3_errmsg(w->db), store_hint(w->db));
}

/* Compress raw into zbuf (capacity zcap); 0, or -1 with why filled. The
 * chunk logw_test_fail_seq gets a buffer too small, a real zstd error. */
static int compress_chunk(ZSTD_CCtx *cctx, void *zbuf, size_t zcap, const unsigned char *raw,
			  size_t raw_len, int64_t seq, uint64_t off, size_t *zlen, char *why,
			  size_t why_size)
{
	if (seq == logw_test_fail_seq)
		zcap = 1;
	size_t z = ZSTD_compressCCtx(cctx, zbuf, zcap, raw, raw_len, LOGW_ZSTD_LEVEL);
	if (ZSTD_isError(z)) {
		snprintf(why, why_size, "compressing chunk %lld (bytes %llu..): %s", (long long)seq,
			 (ull)off, ZSTD_getErrorName(z));
		return -1;
	}
	*zlen = z;
	return 0;
}

static int insert_chunk(struct logw *w, int64_t seq, uint64_t off, size_t raw_len,
			uint64_t first_line, uint32_t n_lines, const void *z, size_t zlen,
			const struct buf *idx, struct cs_err *err)
{
	sqlite3_stmt *st = w->ins;
	sqlite3_bind_int64(st, 1, w->log_id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)off);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)raw_len);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)first_line);
	sqlite3_bind_int64(st, 6, n_lines);
	sqlite3_bind_blob(st, 7, z, (int)zlen, SQLITE_STATIC);
	/* a NULL pointer would bind SQL NULL, and line_index is NOT NULL */
	sqlite3_bind_blob(st, 8, idx->len ? idx->data : "", (int)idx->len, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		char what[128];
		snprintf(what, sizeof(what), "inserting chunk %lld", (long long)seq);
		return w_dberr(w, err, what);
	}
	return 0;
}

static void *zpipe_main(void *arg)
{
	struct zpipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->job[p->next].state != Z_QUEUED)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct zjob *j = &p->job[p->next];
		pthread_mutex_unlock(&p->mu);
		j->why[0] = 0;
		compress_chunk(p->cctx, j->zbuf, p->zcap, j->raw, j->raw_len, j->seq, j->off,
			       &j->zlen, j->why, sizeof(j->why));
		pthread_mutex_lock(&p->mu);
		j->state = Z_DONE;
		p->next = (p->next + 1) % LOGW_INFLIGHT;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The pipeline's locks and buffers, once its worker is gone (or never
 * started). */
static void zpipe_release(struct zpipe *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	for (unsigned i = 0; i < LOGW_INFLIGHT; i++) {
		free(p->job[i].raw);
		free(p->job[i].zbuf);
		buf_release(&p->job[i].idx);
	}
	free(p);
}

static void zpipe_free(struct zpipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	zpipe_release(p);
}

/* Start the worker; false (and the writer goes on alone) when the system
 * refuses a thread. */
static bool zpipe_start(struct logw *w)
{
	struct zpipe *p = xcalloc(1, sizeof(*p));
	p->cctx = w->cctx;
	p->zcap = w->zcap;
	for (unsigned i = 0; i < LOGW_INFLIGHT; i++) {
		p->job[i].raw = xmalloc(LOG_CHUNK_RAW);
		p->job[i].zbuf = xmalloc(p->zcap);
		buf_init(&p->job[i].idx);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	/* the worker takes no signal: a SIGINT (Ctrl-C) or SIGWINCH must reach
	 * the thread that handles it */
	if (thread_start_quiet(&p->th, zpipe_main, p) != 0) {
		zpipe_release(p);
		w->threaded = false;
		return false;
	}
	w->pipe = p;
	return true;
}

/* Take back the oldest chunk in flight (waiting for the worker) and insert
 * its row; a failure of the worker becomes the writer's error. */
static int zpipe_reap(struct logw *w, struct cs_err *err)
{
	struct zpipe *p = w->pipe;
	struct zjob *j = &p->job[p->head];
	pthread_mutex_lock(&p->mu);
	while (j->state != Z_DONE)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (j->why[0])
		return w_fail(w, err, CS_EINVAL, j->why);
	if (insert_chunk(w, j->seq, j->off, j->raw_len, j->first_line, j->n_lines, j->zbuf,
			 j->zlen, &j->idx, err) < 0)
		return -1;
	pthread_mutex_lock(&p->mu);
	j->state = Z_FREE;
	pthread_mutex_unlock(&p->mu);
	p->head = (p->head + 1) % LOGW_INFLIGHT;
	p->count--;
	return 0;
}

/* Hand the chunk being filled to the worker: its bytes and line index
 * change places with the free slot's (no copy). */
static int zpipe_submit(struct logw *w, uint64_t first_line, struct cs_err *err)
{
	struct zpipe *p = w->pipe;
	if (p->count == LOGW_INFLIGHT && zpipe_reap(w, err) < 0)
		return -1;
	struct zjob *j = &p->job[p->tail];
	unsigned char *t = j->raw;
	j->raw = w->raw;
	w->raw = t;
	struct buf b = j->idx;
	j->idx = w->idx;
	w->idx = b;
	j->raw_len = w->raw_len;
	j->seq = w->seq;
	j->off = w->chunk_off;
	j->first_line = first_line;
	j->n_lines = w->chunk_lines;
	pthread_mutex_lock(&p->mu);
	j->state = Z_QUEUED;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	p->tail = (p->tail + 1) % LOGW_INFLIGHT;
	p->count++;
	return 0;
}

static int zpipe_drain(struct logw *w, struct cs_err *err)
{
	while (w->pipe && w->pipe->count > 0)
		if (zpipe_reap(w, err) < 0)
			return -1;
	return 0;
}

/* last: the log's final chunk (logw_finish), which the worker takes only
 * when it already runs */
static int flush_chunk(struct logw *w, bool last, struct cs_err *err)
{
	uint64_t first_line = w->chunk_lines ? w->chunk_first : w->starts + 1;
	if (!w->pipe && w->threaded && !last && w->seq > 0)
		zpipe_start(w);
	if (w->pipe) {
		if (zpipe_submit(w, first_line, err) < 0)
			return -1;
	} else {
		/* what was made ahead is of these bytes, or nothing is stored */
		if (w->prep && (w->seq != 0 || !last || w->raw_len != w->prep->raw_len ||
				memcmp(w->raw, w->prep_raw, w->raw_len) ||
				w->cur_done != w->chunk_lines))
			return w_fail(w, err, CS_EINVAL,
				      "internal error: the log's bytes are not those prepared ahead");
		const void *zdata = w->zbuf;
		size_t z;
		char why[200];
		if (w->prep && w->seq != logw_test_fail_seq) {
			zdata = w->prep->z.data;
			z = w->prep->z.len;
		} else if (compress_chunk(w->cctx, w->zbuf, w->zcap, w->raw, w->raw_len, w->seq,
					  w->chunk_off, &z, why, sizeof(why)) < 0) {
			return w_fail(w, err, CS_EINVAL, why);
		}
		if (insert_chunk(w, w->seq, w->chunk_off, w->raw_len, first_line, w->chunk_lines,
				 zdata, z, &w->idx, err) < 0)
			return -1;
	}
	if (w->prep) { /* its filters made ahead (every line ended: checked above) */
		if (put_grams_blob(w, w->seq, w->prep->grams.data, w->prep->grams.len, err) < 0 ||
		    put_words(w, w->seq, w->prep->wh, w->prep->wn, w->raw_len, err) < 0)
			return -1;
	} else if (w->cur_done == w->chunk_lines) {
		if (put_grams(w, w->seq, w->grams_cur, err) < 0 ||
		    put_words(w, w->seq, w->wh_cur, w->wn_cur, w->raw_len, err) < 0)
			return -1;
		w->wn_cur = 0;
	} else if (w->cur_done + 1 == w->chunk_lines && w->open_seq < 0) {
		/* its last line goes on: its filters wait for the line's end */
		unsigned char *t = w->grams_open;
		w->grams_open = w->grams_cur;
		w->grams_cur = t;
		uint32_t *th = w->wh_open;
		size_t ta = w->wa_open;
		w->wh_open = w->wh_cur;
		w->wa_open = w->wa_cur;
		w->wn_open = w->wn_cur;
		w->wh_cur = th;
		w->wa_cur = ta;
		w->wn_cur = 0;
		w->open_len = w->raw_len;
		w->open_seq = w->seq;
	} else {
		char what[160];
		snprintf(what, sizeof(what),
			 "internal error: chunk %lld has %u line starts, %u ended, chunk %lld open",
			 (long long)w->seq, w->chunk_lines, w->cur_done, (long long)w->open_seq);
		return w_fail(w, err, CS_EINVAL, what);
	}
	w->cur_done = 0;
	w->chunk_off += w->raw_len;
	w->raw_len = 0;
	w->seq++;
	buf_reset(&w->idx);
	w->chunk_lines = 0;
	w->last_rel = 0;
	return 0;
}

/* The workspace of log_prep_make(): a zstd context, a splitter, a trigram
 * set and the scratch of log_search_text(). */
struct log_prep_ws {
	ZSTD_CCtx *cctx;
	struct splitter sp;
	unsigned char *set; /* GRAMS_BITS, all 0 between two logs */
	struct buf scratch;
	struct log_prep *p;
	int (*also)(void *ctx, const struct split_line *l);
	void *also_ctx;
};

/* w_on_line()'s filter work, every line starting in the only chunk */
static int prep_on_line(void *ctx, const struct split_line *l)
{
	struct log_prep_ws *ws = ctx;
	const char *text;
	size_t len;
	log_search_text(l->head, l->head_len, &text, &len, &ws->scratch);
	loggrams_set(ws->set, text, len);
	loggrams_words_collect(&ws->p->wh, &ws->p->wn, &ws->p->wa, text, len);
	return ws->also ? ws->also(ws->also_ctx, l) : 0;
}

struct log_prep_ws *log_prep_ws_new(void)
{
	struct log_prep_ws *ws = xcalloc(1, sizeof(*ws));
	ws->cctx = ZSTD_createCCtx();
	ws->set = xcalloc(1, GRAMS_BITS);
	buf_init(&ws->scratch);
	loggrams_word_tab_init(); /* here, before another thread reads the table */
	return ws;
}

void log_prep_make(struct log_prep_ws *ws, const void *raw, size_t n, struct log_prep *p)
{
	log_prep_make_also(ws, raw, n, p, NULL, NULL);
}

void log_prep_make_also(struct log_prep_ws *ws, const void *raw, size_t n, struct log_prep *p,
			int (*also)(void *ctx, const struct split_line *l), void *ctx)
{
	log_prep_clear(p);
	ws->also = also;
	ws->also_ctx = ctx;
	if (n == 0 || n >= LOG_CHUNK_RAW || !ws->cctx)
		return;
	size_t cap = ZSTD_compressBound(n);
	buf_reserve(&p->z, cap);
	size_t z = ZSTD_compressCCtx(ws->cctx, p->z.data, cap, raw, n, LOGW_ZSTD_LEVEL);
	if (ZSTD_isError(z))
		return;
	p->z.len = z;
	ws->p = p;
	splitter_init(&ws->sp, prep_on_line, ws);
	int rc = splitter_feed(&ws->sp, raw, n);
	if (rc == 0)
		rc = splitter_finish(&ws->sp);
	buf_reserve(&p->grams, 1 + GRAMS_BYTES);
	p->grams.len = loggrams_blob(ws->set, (unsigned char *)p->grams.data);
	memset(ws->set, 0, GRAMS_BITS);
	if (rc != 0) {
		log_prep_clear(p);
		return;
	}
	p->raw_len = n;
	p->n_lines = ws->sp.lineno;
	p->ok = true;
}

void log_prep_ws_free(struct log_prep_ws *ws)
{
	if (!ws)
		return;
	ZSTD_freeCCtx(ws->cctx);
	free(ws->set);
	buf_release(&ws->scratch);
	free(ws);
}

void log_prep_clear(struct log_prep *p)
{
	p->ok = false;
	p->raw_len = 0;
	p->n_lines = 0;
	buf_reset(&p->z);
	buf_reset(&p->grams);
	p->wn = 0;
}

void log_prep_release(struct log_prep *p)
{
	buf_release(&p->z);
	buf_release(&p->grams);
	free(p->wh);
	memset(p, 0, sizeof(*p));
}

void logw_use_prep(struct logw *w, const struct log_prep *p, const void *raw, size_t n)
{
	if (!p->ok || p->raw_len != n || w->raw_len || w->fed_end)
		return;
	w->prep = p;
	w->prep_raw = raw;
}

/* One zstd context kept from a log to the next: creating one costs more than
 * compressing a small log's chunk. logw_begin() takes it (or makes one when
 * another writer holds it), logw_free() gives it back (or frees its own when
 * the place is taken). Its parameters are set again by each
 * ZSTD_compressCCtx(), so the bytes it makes are those of a new context. */
static ZSTD_CCtx *spare_cctx;

static ZSTD_CCtx *cctx_get(void)
{
	ZSTD_CCtx *c = __atomic_exchange_n(&spare_cctx, NULL, __ATOMIC_ACQ_REL);
	return c ? c : ZSTD_createCCtx();
}

static void cctx_put(ZSTD_CCtx *c)
{
	ZSTD_CCtx *none = NULL;
	if (!c)
		return;
	if (ZSTD_isError(ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters)) ||
	    !__atomic_compare_exchange_n(&spare_cctx, &none, c, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		ZSTD_freeCCtx(c);
}

/* The writer of a log that finished, kept with its buffers and zstd context
 * for the next log (logw_begin() clears all the rest): many small logs pay no
 * allocation and zeroing of the chunk buffer, the compressed buffer and the
 * two trigram sets for each. A writer that finished stored the filters of
 * its every chunk, which cleared its sets (put_grams()). */
static struct logw *spare_w;

static void logw_release(struct logw *w)
{
	/* the statements are the store's (store_cached()), each reset after
	 * its every step */
	free(w->wh_cur);
	free(w->wh_open);
	free(w->wset);
	free(w->wblob);
	cctx_put(w->cctx);
	free(w->raw);
	free(w->zbuf);
	free(w->grams_cur);
	free(w->grams_open);
	free(w->gblob);
	buf_release(&w->idx);
	buf_release(&w->scratch);
	free(w);
}

void logw_free(struct logw *w)
{
	if (!w)
		return;
	zpipe_free(w->pipe); /* before the zstd context the worker uses */
	w->pipe = NULL;
	struct logw *none = NULL;
	if (w->finished && !w->failed &&
	    __atomic_compare_exchange_n(&spare_w, &none, w, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return;
	logw_release(w);
}

/* A writer with nothing of a log in it: the spare one's buffers, else new. */
static struct logw *logw_new(void)
{
	struct logw *w = __atomic_exchange_n(&spare_w, NULL, __ATOMIC_ACQ_REL);
	if (!w) {
		w = xcalloc(1, sizeof(*w));
		buf_init(&w->idx);
		buf_init(&w->scratch);
		return w;
	}
	struct logw k = *w;
	memset(w, 0, sizeof(*w));
	w->raw = k.raw;
	w->zbuf = k.zbuf;
	w->zcap = k.zcap;
	w->cctx = k.cctx;
	w->grams_cur = k.grams_cur;
	w->grams_open = k.grams_open;
	w->gblob = k.gblob;
	w->wh_cur = k.wh_cur;
	w->wa_cur = k.wa_cur;
	w->wh_open = k.wh_open;
	w->wa_open = k.wa_open;
	w->wset = k.wset;
	w->wblob = k.wblob;
	w->wblob_alloc = k.wblob_alloc;
	w->idx = k.idx;
	w->scratch = k.scratch;
	buf_reset(&w->idx);
	buf_reset(&w->scratch);
	return w;
}

struct logw *logw_begin(struct store *store, int64_t job_id, split_cb line_cb, void *ctx,
			struct cs_err *err)
{
	struct logw *w = logw_new();
	sqlite3 *db = store->db;
	sqlite3_stmt *st = NULL;
	w->store = store;
	w->db = db;
	w->job_id = job_id;
	w->line_cb = line_cb;
	w->ctx = ctx;
	splitter_init(&w->sp, w_on_line, w);
	err_clear(&w->cb_err);
	w->has_pending = true; /* line 1 starts at byte 0, if there is one */
	w->pending = 0;
	w->open_seq = -1;
	const char *th = getenv("CISCOPE_LOG_THREADS");
	w->threaded = !(th && strcmp(th, "1") == 0);

	/* statements from the store's cache (store_cached()): preparing them
	 * for every log cost more than a small log's inserts */
	if (store_cached(store, "INSERT INTO logs (job_id) VALUES (?1)", &st) != SQLITE_OK) {
		w_dberr(w, err, "preparing the logs row");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		w_dberr(w, err, "inserting the logs row");
		goto fail;
	}
	store_cached_done(st);
	st = NULL;
	w->log_id = sqlite3_last_insert_rowid(db);
	if (store_cached(store,
			 "INSERT INTO log_chunks (log_id, seq, raw_off, raw_len, first_line,"
			 " n_lines, data, line_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			 &w->ins) != SQLITE_OK) {
		w_dberr(w, err, "preparing the chunk insert");
		goto fail;
	}
	if (store_cached(store, "INSERT INTO log_chunk_grams (log_id, seq, bits) VALUES (?1, ?2, ?3)",
			 &w->ins_grams) != SQLITE_OK) {
		w_dberr(w, err, "preparing the filter insert");
		goto fail;
	}
	if (store_cached(store, "INSERT INTO log_chunk_words (log_id, seq, part, bits)"
			 " VALUES (?1, ?2, ?3, ?4)",
			 &w->ins_words) != SQLITE_OK) {
		w_dberr(w, err, "preparing the word filter insert");
		goto fail;
	}
	loggrams_word_tab_init();
	if (!w->grams_cur) {
		w->grams_cur = xcalloc(1, GRAMS_BITS);
		w->grams_open = xcalloc(1, GRAMS_BITS);
		w->gblob = xmalloc(1 + GRAMS_BYTES);
	}
	if (!w->cctx)
		w->cctx = cctx_get();
	if (!w->cctx) {
		w_fail(w, err, CS_ENOMEM, "cannot create a zstd context");
		goto fail;
	}
	if (!w->raw) {
		w->raw = xmalloc(LOG_CHUNK_RAW);
		w->zcap = ZSTD_compressBound(LOG_CHUNK_RAW);
		w->zbuf = xmalloc(w->zcap);
	}
	return w;
fail:
	store_cached_done(st);
	logw_free(w);
	return NULL;
}

static int w_stopped(struct logw *w, struct cs_err *err)
{
	w->failed = true;
	if (w->cb_err.code) {
		if (err)
			*err = w->cb_err;
		return -1;
	}
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
		if (w->raw_len == LOG_CHUNK_RAW && flush_chunk(w, false, err) < 0)
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
	if (w->raw_len > 0 && flush_chunk(w, true, err) < 0)
		return -1;
	if (zpipe_drain(w, err) < 0)
		return -1;
	if (w->starts != w->sp.lineno || w->open_seq >= 0) {
		char what[128];
		snprintf(what, sizeof(what), "internal error: %llu line starts for %llu lines, chunk %lld open",
			 (ull)w->starts, (ull)w->sp.lineno, (long long)w->open_seq);
		return w_fail(w, err, CS_EINVAL, what);
	}
	sqlite3_stmt *st = NULL;
	if (store_cached(w->store,
			 "UPDATE logs SET raw_size = ?1, line_count = ?2, chunk_count = ?3"
			 " WHERE id = ?4",
			 &st) != SQLITE_OK)
		return w_dberr(w, err, "preparing the logs update");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)w->fed_end);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)w->starts);
	sqlite3_bind_int64(st, 3, w->seq);
	sqlite3_bind_int64(st, 4, w->log_id);
	int rc = sqlite3_step(st);
	/* the error is read before the reset (which would report it again) */
	if (rc != SQLITE_DONE) {
		w_dberr(w, err, "updating the logs row");
		store_cached_done(st);
		return -1;
	}
	store_cached_done(st);
	w->finished = true;
	return w->log_id;
}

