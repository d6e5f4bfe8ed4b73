/* logwrite.c - the log store's writer (logw_*): splits a log into lines,
 * stores it as zstd chunks with their line index and search filters, the
 * compression on a second thread. The layout it writes is described in
 * core/logstore.c, which reads it.
 *
 * Search filters (log_chunk_grams, log_chunk_words): a line's trigrams and
 * word 6-grams go to the filters of the chunk its first byte is in. They are
 * built by a filter builder (struct filb) from the log's bytes, fed chunk by
 * chunk to a splitter of its own: lines come in order, so a chunk's filters
 * are complete once a line starting in a later chunk comes, or the log ends,
 * whatever the length of the line that ran on. One set of each kind is
 * enough: the builder holds 64 KiB of trigram bytes and a chunk's 6-gram
 * hashes, whatever the log size. The builder runs on the compression
 * worker for a log of several chunks, so the writer's thread never does
 * this per-line work; on the writer's thread otherwise.
 */
#include "logstoreint.h"
#include "store.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static unsigned term_bytes(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

/* --- search filters ------------------------------------------------------ */
/* A chunk's filters become a record of the builder's output buffer: the
 * chunk's seq (int64), the trigram blob (u32 length, bytes), the number of
 * word filter parts (u32), each part's blob (u32 length, bytes);
 * store_filters() inserts the records on the writer's thread. */
struct filb {
	struct splitter sp;
	int64_t seq;          /* the chunk whose lines are being collected */
	uint64_t fed;         /* bytes fed */
	unsigned char *grams; /* GRAMS_BITS bytes of 0/1, all 0 between chunks */
	/* a log of one small chunk (listed: at most GRAMS_LIST_MAX bytes, made
	 * ahead): its trigram hashes, in glist instead of grams */
	bool listed;
	uint16_t *glist;
	size_t gn;
	unsigned char *gblob; /* 1 + GRAMS_BYTES */
	uint32_t *wh;         /* the hashes of the chunk's word 6-grams */
	size_t wn, wa;        /* wn: their number, also once in wall */
	unsigned char *wset;  /* 2^WORDS_LOG2 bits */
	/* a chunk of many 6-grams (WORDS_DIRECT): each sets its bit h mod
	 * 2^WORDS_LOG2 here as it comes (its parts side by side at their
	 * largest), folded to the parts' size when the chunk is done */
	bool wdirect;
	unsigned char *wall;  /* 2^WORDS_LOG2 bits, all 0 unless wdirect */
	struct buf scratch;   /* searchable text of a line with escapes */
	struct buf *out;      /* where finished chunks' records go */
	split_cb also;        /* and every line given to also(also_ctx, line) */
	void *also_ctx;
	bool also_stops;      /* also()'s refusal stops the split (else: also_failed) */
	bool also_failed;
};

static struct filb *filb_new(void)
{
	struct filb *b = xcalloc(1, sizeof(*b));
	b->grams = xcalloc(1, GRAMS_BITS);
	b->gblob = xmalloc(1 + GRAMS_BYTES);
	b->wset = xmalloc(((size_t)1 << WORDS_LOG2) / 8);
	b->wall = xcalloc(1, ((size_t)1 << WORDS_LOG2) / 8);
	buf_init(&b->scratch);
	loggrams_word_tab_init(); /* here, before another thread reads the table */
	return b;
}

static void filb_free(struct filb *b)
{
	if (!b)
		return;
	free(b->grams);
	free(b->glist);
	free(b->gblob);
	free(b->wh);
	free(b->wset);
	free(b->wall);
	buf_release(&b->scratch);
	free(b);
}

static void out_u32(struct buf *o, size_t v)
{
	uint32_t x = (uint32_t)v;
	buf_add(o, &x, sizeof(x));
}

/* dst[i] |= src[i] for i < n, n a multiple of 8, eight bytes at a time */
static void or_bytes(unsigned char *dst, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x, y;
		memcpy(&x, dst + i, 8);
		memcpy(&y, src + i, 8);
		x |= y;
		memcpy(dst + i, &x, 8);
	}
}

/* The word filter of a chunk (raw_len bytes) from the n hashes of its
 * 6-grams, appended to b->out as its parts' blobs. */
static void filb_words(struct filb *b, const uint32_t *h, size_t n, uint64_t raw_len)
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
	unsigned char *ws = b->wset;
	if (b->wdirect) {
		/* bit o of part j is h mod pmax in wall, h mod sbits here: the
		 * OR of its slices of sbits */
		size_t pbytes = pmax / 8;
		for (unsigned j = 0; j < parts; j++) {
			unsigned char *dst = ws + j * sbytes;
			const unsigned char *src = b->wall + j * pbytes;
			memcpy(dst, src, sbytes);
			for (size_t at = sbytes; at < pbytes; at += sbytes)
				or_bytes(dst, src + at, sbytes);
		}
		memset(b->wall, 0, parts * pbytes);
		b->wdirect = false;
	} else {
		/* the parts side by side: part j (bits shift.. of h), bit o
		 * (its low bits) is bit j * sbits + o of wset, one shift and two
		 * masks away from h */
		memset(ws, 0, parts * sbytes);
		unsigned lb = loggrams_log2u(sbits), down = shift - lb;
		uint32_t omask = (uint32_t)(sbits - 1), pmask = (parts - 1) << lb;
		for (size_t i = 0; i < n; i++) {
			uint32_t k = (h[i] & omask) | ((h[i] >> down) & pmask);
			ws[k >> 3] |= (unsigned char)(1u << (k & 7));
		}
	}
	/* bits set per part, which the shrinking below goes by: a pass over
	 * the sets costs less than counting them as they are set */
	uint32_t set[WORDS_PARTS_MAX];
	for (unsigned j = 0; j < parts; j++)
		set[j] = (uint32_t)loggrams_popcount(ws + j * sbytes, sbytes);
	out_u32(b->out, parts);
	for (unsigned j = 0; j < parts; j++) {
		unsigned char *p = b->wset + j * sbytes;
		size_t nb = set[j] ? sbytes : 0;
		/* halving a set with a share d of its bits set leaves about
		 * 1 - (1 - d)^2 of them set: halve while that stays <= 3/8 */
		double d = (double)set[j] / (double)(sbytes * 8);
		while (nb > WORDS_MIN_BYTES && 1.0 - (1.0 - d) * (1.0 - d) <= 0.375) {
			size_t half = nb / 2;
			or_bytes(p, p + half, half);
			nb = half;
			d = 1.0 - (1.0 - d) * (1.0 - d);
		}
		unsigned char v = WORDS_VERSION;
		out_u32(b->out, 1 + nb);
		buf_add(b->out, &v, 1);
		buf_add(b->out, p, nb);
	}
}

/* The record of chunk b->seq (raw_len bytes), which is complete; the sets
 * are emptied for the next chunk. */
static void filb_emit(struct filb *b, uint64_t raw_len)
{
	int64_t seq = b->seq++;
	buf_add(b->out, &seq, sizeof(seq));
	size_t g;
	if (b->listed) {
		g = loggrams_blob_list(b->glist, b->gn, b->gblob);
		b->gn = 0;
	} else {
		g = loggrams_blob(b->grams, b->gblob);
		memset(b->grams, 0, GRAMS_BITS);
	}
	out_u32(b->out, g);
	buf_add(b->out, b->gblob, g);
	filb_words(b, b->wh, b->wn, raw_len);
	b->wn = 0;
}

/* From its 49152nd 6-gram (a chunk of hex ids has about 100,000) a chunk's
 * 6-grams set their bits in wall as they come, those listed first: a
 * 6-gram then costs a bit set instead of a hash stored, read back and set.
 * Clearing and folding the 256 KiB of wall costs about what 40,000 6-grams
 * save (a chunk of compiler output has that many: from 16384 on, it was
 * 3 % slower): below the mark (small logs, most chunks of plain text) the
 * list stays. */
#define WORDS_DIRECT 49152

static void filb_words_direct(struct filb *b)
{
	const uint32_t mask = ((uint32_t)1 << WORDS_LOG2) - 1;
	for (size_t i = 0; i < b->wn; i++) {
		uint32_t k = b->wh[i] & mask;
		b->wall[k >> 3] |= (unsigned char)(1u << (k & 7));
	}
	b->wdirect = true;
}

static int filb_line(void *ctx, const struct split_line *l)
{
	struct filb *b = ctx;
	int64_t seq = (int64_t)(l->off / LOG_CHUNK_RAW);
	while (b->seq < seq) /* those before are full chunks */
		filb_emit(b, LOG_CHUNK_RAW);
	const char *text;
	size_t len;
	log_search_text(l->head, l->head_len, &text, &len, &b->scratch);
	if (b->listed)
		b->gn += loggrams_list(b->glist + b->gn, text, len);
	else
		loggrams_set(b->grams, text, len);
	if (b->wdirect) {
		b->wn += loggrams_words_set(b->wall, text, len);
	} else {
		loggrams_words_collect(&b->wh, &b->wn, &b->wa, text, len);
		if (b->wn >= WORDS_DIRECT)
			filb_words_direct(b);
	}
	if (!b->also || b->also_failed)
		return 0;
	int rc = b->also(b->also_ctx, l);
	if (rc && !b->also_stops) {
		b->also_failed = true;
		return 0;
	}
	return rc;
}

/* A new log's bytes come next, its records to out. */
static void filb_begin(struct filb *b, struct buf *out, split_cb also, void *also_ctx)
{
	splitter_init(&b->sp, filb_line, b);
	b->seq = 0;
	b->fed = 0;
	b->wn = 0;
	b->out = out;
	b->also = also;
	b->also_ctx = also_ctx;
	b->also_stops = true;
	b->also_failed = false;
	b->listed = false;
	b->gn = 0;
}

static int filb_feed(struct filb *b, const void *raw, size_t n)
{
	b->fed += n;
	return splitter_feed(&b->sp, raw, n);
}

/* The sets emptied, for the next log, after a line given to also() stopped
 * the split. */
static void filb_abandon(struct filb *b)
{
	memset(b->grams, 0, GRAMS_BITS);
	b->gn = 0;
	b->wn = 0;
	if (b->wdirect)
		memset(b->wall, 0, ((size_t)1 << WORDS_LOG2) / 8);
	b->wdirect = false;
}

/* The log ended: the records of its chunks still open. */
static int filb_end(struct filb *b)
{
	int rc = splitter_finish(&b->sp);
	uint64_t chunks = (b->fed + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW;
	while ((uint64_t)b->seq < chunks)
		filb_emit(b, MIN((uint64_t)LOG_CHUNK_RAW, b->fed - (uint64_t)b->seq * LOG_CHUNK_RAW));
	return rc;
}

/* --- writing ------------------------------------------------------------- */
/* The compression pipeline. Splitting, triage (the line callback) and the
 * line index stay on the caller's thread; a worker compresses each full
 * chunk and builds the filters of the chunks its bytes complete
 * (struct filb) while the next one is filled. The SQLite connection is never
 * touched by the worker: the caller inserts each chunk's rows when it takes
 * the chunk back, in chunk order, inside its own transaction, so the rows,
 * their order within each table and the bytes of every blob are those the
 * single-threaded writer produces (zstd is deterministic for one level).
 * At most LOGW_INFLIGHT chunks are in flight, so memory stays flat: a full
 * queue makes the caller wait for the oldest chunk. A log of one chunk never
 * uses the worker. The first chunk of a longer one is compressed and stored
 * on the caller's thread (a database that refuses chunk rows fails the
 * write that filled chunk 0), the worker only builds its filters. Later
 * failures (the worker's, or a row's) come out of the write or finish that
 * takes the chunk back, as the same errors. The worker outlives its log: a
 * writer kept for the next log (logw_free()) keeps it, so an import of many
 * logs starts one thread. */
#define LOGW_INFLIGHT 6 /* 3 did, before the writer compressed too */

int64_t logw_test_fail_seq = -1;
bool logw_test_writer_zstd;

enum zstate { Z_FREE, Z_QUEUED, Z_DONE };

struct zjob {
	enum zstate state;
	bool chunk;     /* compress it and store its row (not chunk 0: stored already) */
	bool zclaimed;  /* its compression is taken, by the worker or the writer */
	bool first;     /* the log's first bytes */
	bool last;      /* the log's last bytes (raw_len may be 0) */
	unsigned char *raw;
	size_t raw_len;
	void *zbuf;
	size_t zlen;
	int64_t seq;
	uint64_t off, first_line;
	uint32_t n_lines;
	uint64_t log_lines; /* last: the lines the worker's split found */
	split_cb also;      /* first: logw_also()'s */
	void *also_ctx;
	bool also_failed;   /* last: also() refused a line */
	struct buf idx;
	struct buf filters; /* the records of the chunks these bytes completed */
	char why[200]; /* non-empty: the worker failed on this chunk */
};

struct zpipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	unsigned head, tail, count, next; /* next to take back, to fill, in flight, for the worker */
	struct zjob job[LOGW_INFLIGHT];
	ZSTD_CCtx *cctx; /* the worker's alone */
	size_t zcap;
	struct filb *fb; /* the worker's alone */
};

struct logw {
	const char *source; /* logs.source to store at finish, or NULL (logw_set_source) */
	struct store *store;
	sqlite3 *db;
	int64_t job_id, log_id;
	split_cb line_cb;
	void *ctx;
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
	sqlite3_stmt *ins_grams, *ins_words;
	/* word filter records not inserted yet (store_filters()): each the
	 * chunk's seq (int64), its number of parts (u32), each part's blob (u32
	 * length, bytes); flush_words() inserts them part by part */
	struct buf wpend;
	unsigned wpend_chunks;
	struct filb *fb;       /* the filters built on this thread (no worker) */
	bool fb_begun;
	struct buf fout;       /* fb's records */
	bool threaded;         /* may start the pipeline (CISCOPE_LOG_THREADS != 1) */
	bool piped;            /* this log's bytes go through the pipeline */
	split_cb also;         /* logw_also()'s */
	void *also_ctx;
	bool also_done;        /* the worker gave also() every line */
	struct zpipe *pipe;    /* NULL until a log of several chunks */
	/* last: logw_new() clears what comes before it, and splitter_init()
	 * what of it is read (its head is 8 KiB, zeroed for every small log) */
	struct splitter sp;
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

static int put_blob(struct logw *w, sqlite3_stmt *st, int64_t seq, int part, const void *blob,
		    size_t n, struct cs_err *err)
{
	int k = 1;
	sqlite3_bind_int64(st, k++, w->log_id);
	sqlite3_bind_int64(st, k++, seq);
	if (part >= 0)
		sqlite3_bind_int64(st, k++, part);
	sqlite3_bind_blob(st, k, blob, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		w->failed = true;
		return err_set(err, CS_EDB, "cannot store the log of job %lld: inserting the %sfilter of chunk %lld: %s%s",
			       (long long)w->job_id, part >= 0 ? "word " : "", (long long)seq,
			       sqlite3_errmsg(w->db), store_hint(w->db));
	}
	return 0;
}

static uint32_t in_u32(const unsigned char **p)
{
	uint32_t x;
	memcpy(&x, *p, sizeof(x));
	*p += sizeof(x);
	return x;
}

/* Word filter rows are inserted part by part for up to this many chunks,
 * or this many bytes of rows, at a time (flush_words()). */
#define WORDS_BATCH_CHUNKS 64
#define WORDS_BATCH_BYTES (2u << 20)

/* Insert the word filter rows held in w->wpend: all the chunks' part 0,
 * then part 1, and so on. A search for a token reads one part of every
 * chunk of a log (core/logstore.c, words_rule_out) through the key's index;
 * each row then comes from the table by its rowid, in the order the rows
 * were inserted. Inserted chunk by chunk, the rows of a part were 32 rows
 * apart: a page read per chunk (4,096 pages for the part of a 1 GiB log,
 * whose rows fill 33). Inserted part by part a batch at a time, the rows of
 * a part of up to 64 chunks are neighbours. The rows are the same. */
static int flush_words(struct logw *w, struct cs_err *err)
{
	unsigned nc = w->wpend_chunks;
	if (!nc)
		return 0;
	/* per chunk: its seq, its parts, where its next part's blob starts */
	int64_t seqs[WORDS_BATCH_CHUNKS];
	uint32_t parts[WORDS_BATCH_CHUNKS], maxparts = 0;
	const unsigned char *next[WORDS_BATCH_CHUNKS];
	const unsigned char *p = (const unsigned char *)w->wpend.data;
	for (unsigned c = 0; c < nc; c++) {
		memcpy(&seqs[c], p, sizeof(seqs[c]));
		p += sizeof(seqs[c]);
		parts[c] = in_u32(&p);
		next[c] = p;
		maxparts = MAX(maxparts, parts[c]);
		for (uint32_t j = 0; j < parts[c]; j++) {
			uint32_t len = in_u32(&p);
			p += len;
		}
	}
	w->wpend_chunks = 0;
	buf_reset(&w->wpend);
	for (uint32_t j = 0; j < maxparts; j++)
		for (unsigned c = 0; c < nc; c++) {
			if (j >= parts[c])
				continue;
			uint32_t n = in_u32(&next[c]);
			if (put_blob(w, w->ins_words, seqs[c], (int)j, next[c], n, err) < 0)
				return -1;
			next[c] += n;
		}
	return 0;
}

/* Insert the filter rows of the records in out (struct filb's), in order;
 * the word filter rows go through w->wpend (flush_words()), whose rows
 * logw_finish() inserts at the latest. */
static int store_filters(struct logw *w, const struct buf *out, struct cs_err *err)
{
	const unsigned char *p = (const unsigned char *)out->data, *end = p + out->len;
	while (p < end) {
		int64_t seq;
		memcpy(&seq, p, sizeof(seq));
		p += sizeof(seq);
		uint32_t n = in_u32(&p);
		if (put_blob(w, w->ins_grams, seq, -1, p, n, err) < 0)
			return -1;
		p += n;
		const unsigned char *words = p;
		uint32_t parts = in_u32(&p);
		for (uint32_t j = 0; j < parts; j++) {
			uint32_t len = in_u32(&p);
			p += len;
		}
		buf_add(&w->wpend, &seq, sizeof(seq));
		buf_add(&w->wpend, words, (size_t)(p - words));
		if ((++w->wpend_chunks == WORDS_BATCH_CHUNKS || w->wpend.len >= WORDS_BATCH_BYTES) &&
		    flush_words(w, err) < 0)
			return -1;
	}
	return 0;
}

/* The filters of the chunk just filled, made on this thread; last: the
 * log's last bytes. */
static int filters_here(struct logw *w, bool last, struct cs_err *err)
{
	if (!w->fb)
		w->fb = filb_new();
	if (!w->fb_begun) {
		filb_begin(w->fb, &w->fout, NULL, NULL);
		w->fb_begun = true;
	}
	filb_feed(w->fb, w->raw, w->raw_len);
	if (last) {
		filb_end(w->fb);
		w->fb_begun = false;
	}
	int rc = store_filters(w, &w->fout, err);
	buf_reset(&w->fout);
	return rc;
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
		bool compress = j->chunk && !j->zclaimed;
		j->zclaimed = true;
		pthread_mutex_unlock(&p->mu);
		if (compress)
			compress_chunk(p->cctx, j->zbuf, p->zcap, j->raw, j->raw_len, j->seq, j->off,
				       &j->zlen, j->why, sizeof(j->why));
		buf_reset(&j->filters);
		if (j->first) {
			filb_begin(p->fb, &j->filters, j->also, j->also_ctx);
			p->fb->also_stops = false; /* the filters are made all the same */
		}
		p->fb->out = &j->filters;
		filb_feed(p->fb, j->raw, j->raw_len);
		if (j->last) {
			filb_end(p->fb);
			j->log_lines = p->fb->sp.lineno;
			j->also_failed = p->fb->also_failed;
		}
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
		buf_release(&p->job[i].filters);
	}
	ZSTD_freeCCtx(p->cctx);
	filb_free(p->fb);
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
 * refuses a thread or a zstd context. */
static bool zpipe_start(struct logw *w)
{
	struct zpipe *p = xcalloc(1, sizeof(*p));
	p->cctx = ZSTD_createCCtx();
	p->zcap = w->zcap;
	p->fb = filb_new();
	for (unsigned i = 0; i < LOGW_INFLIGHT; i++) {
		p->job[i].raw = xmalloc(LOG_CHUNK_RAW);
		p->job[i].zbuf = xmalloc(p->zcap);
		buf_init(&p->job[i].idx);
		buf_init(&p->job[i].filters);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	/* the worker takes no signal: a SIGINT (Ctrl-C) or SIGWINCH must reach
	 * the thread that handles it */
	if (!p->cctx || thread_start_quiet(&p->th, zpipe_main, p) != 0) {
		zpipe_release(p);
		w->threaded = false;
		return false;
	}
	w->pipe = p;
	return true;
}

/* A queued chunk's compression on the writer's thread, once claimed; the
 * bytes are those the worker would make (the same level, each call a fresh
 * start), and a failure is reported as the worker's would be. */
static void writer_compress(struct logw *w, struct zjob *j)
{
	compress_chunk(w->cctx, j->zbuf, w->pipe->zcap, j->raw, j->raw_len, j->seq, j->off, &j->zlen,
		       j->why, sizeof(j->why));
}

/* Rather than wait for the worker, the writer compresses the chunks it has
 * not started, the newest first (the worker takes them oldest first): on
 * the entropy shape the worker's filters and rules scan alone take longer
 * than the writer's rows, and the writer waited for it 0.9 s of a 2.1 s
 * import. The oldest two are left to the worker, so on a machine busy with
 * other work it still has whole chunks queued while the writer compresses
 * (taking every chunk, the worker ran dry and waited for a core to come
 * back: import wall 1.11x). */
static void zpipe_help(struct logw *w)
{
	struct zpipe *p = w->pipe;
	for (unsigned k = p->count; k-- > 2;) {
		struct zjob *j = &p->job[(p->head + k) % LOGW_INFLIGHT];
		pthread_mutex_lock(&p->mu);
		bool mine = j->state == Z_QUEUED && j->chunk && !j->zclaimed;
		if (mine)
			j->zclaimed = true;
		pthread_mutex_unlock(&p->mu);
		if (mine)
			writer_compress(w, j);
	}
}

/* Take back the oldest chunk in flight (waiting for the worker) and insert
 * its rows; a failure of the worker becomes the writer's error. */
static int zpipe_reap(struct logw *w, struct cs_err *err)
{
	struct zpipe *p = w->pipe;
	struct zjob *j = &p->job[p->head];
	pthread_mutex_lock(&p->mu);
	bool ready = j->state == Z_DONE;
	pthread_mutex_unlock(&p->mu);
	if (!ready && w->cctx)
		zpipe_help(w);
	pthread_mutex_lock(&p->mu);
	while (j->state != Z_DONE)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (j->why[0])
		return w_fail(w, err, CS_EINVAL, j->why);
	if (j->chunk && insert_chunk(w, j->seq, j->off, j->raw_len, j->first_line, j->n_lines,
				     j->zbuf, j->zlen, &j->idx, err) < 0)
		return -1;
	if (store_filters(w, &j->filters, err) < 0)
		return -1;
	if (j->last)
		w->also_done = !j->also_failed;
	if (j->last && j->log_lines != w->sp.lineno) {
		char what[128];
		snprintf(what, sizeof(what), "internal error: the worker split %llu lines, the writer %llu",
			 (ull)j->log_lines, (ull)w->sp.lineno);
		return w_fail(w, err, CS_EINVAL, what);
	}
	pthread_mutex_lock(&p->mu);
	j->state = Z_FREE;
	pthread_mutex_unlock(&p->mu);
	p->head = (p->head + 1) % LOGW_INFLIGHT;
	p->count--;
	return 0;
}

/* Hand the chunk just filled to the worker: its bytes and line index
 * change places with the free slot's (no copy). chunk: compress and store
 * it (else its row is stored already); last: the log's last bytes. */
static int zpipe_submit(struct logw *w, uint64_t first_line, bool chunk, bool last,
			struct cs_err *err)
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
	j->chunk = chunk;
	j->first = w->chunk_off == 0;
	j->last = last;
	j->also = w->also;
	j->also_ctx = w->also_ctx;
	j->why[0] = 0;
	bool mine = logw_test_writer_zstd && chunk && w->cctx;
	if (mine)
		writer_compress(w, j);
	pthread_mutex_lock(&p->mu);
	j->zclaimed = mine;
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

/* Store the chunk just filled, or hand it to the worker; last: the log's
 * final chunk (logw_finish). */
static int flush_store(struct logw *w, bool last, struct cs_err *err)
{
	uint64_t first_line = w->chunk_lines ? w->chunk_first : w->starts + 1;
	/* a log of several chunks goes through the worker, from its first byte */
	if (w->seq == 0 && !last && w->threaded && !w->prep && (w->pipe || zpipe_start(w)))
		w->piped = true;
	if (w->piped && w->seq > 0)
		return zpipe_submit(w, first_line, true, last, err) < 0 ? -1 : 0;
	/* what was made ahead is of these bytes, or nothing is stored */
	if (w->prep && (w->seq != 0 || !last || w->raw_len != w->prep->raw_len ||
			memcmp(w->raw, w->prep_raw, w->raw_len) || w->prep->n_lines != w->sp.lineno))
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
	if (insert_chunk(w, w->seq, w->chunk_off, w->raw_len, first_line, w->chunk_lines, zdata,
			 z, &w->idx, err) < 0)
		return -1;
	if (w->piped) /* chunk 0: its filters are the worker's */
		return zpipe_submit(w, first_line, false, false, err);
	if (w->prep) /* its filters made ahead */
		return store_filters(w, &w->prep->filters, err);
	return filters_here(w, last, err);
}

static int flush_chunk(struct logw *w, bool last, struct cs_err *err)
{
	if (flush_store(w, last, err) < 0)
		return -1;
	w->chunk_off += w->raw_len;
	w->raw_len = 0;
	w->seq++;
	buf_reset(&w->idx);
	w->chunk_lines = 0;
	w->last_rel = 0;
	return 0;
}

/* The workspace of log_prep_make(): a zstd context and a filter builder. */
struct log_prep_ws {
	ZSTD_CCtx *cctx;
	struct filb *fb;
};

struct log_prep_ws *log_prep_ws_new(void)
{
	struct log_prep_ws *ws = xcalloc(1, sizeof(*ws));
	ws->cctx = ZSTD_createCCtx();
	ws->fb = filb_new();
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
	if (n == 0 || n >= LOG_CHUNK_RAW || !ws->cctx)
		return;
	size_t cap = ZSTD_compressBound(n);
	buf_reserve(&p->z, cap);
	size_t z = ZSTD_compressCCtx(ws->cctx, p->z.data, cap, raw, n, LOGW_ZSTD_LEVEL);
	if (ZSTD_isError(z))
		return;
	p->z.len = z;
	/* the filters as the writer makes them of its only chunk */
	filb_begin(ws->fb, &p->filters, also, ctx);
	if (n <= GRAMS_LIST_MAX) {
		/* a trigram per byte at most */
		if (!ws->fb->glist)
			ws->fb->glist = xmalloc(GRAMS_LIST_MAX * sizeof(*ws->fb->glist));
		ws->fb->listed = true;
	}
	int rc = filb_feed(ws->fb, raw, n);
	if (rc == 0)
		rc = filb_end(ws->fb);
	if (rc != 0) {
		filb_abandon(ws->fb);
		log_prep_clear(p);
		return;
	}
	p->raw_len = n;
	p->n_lines = ws->fb->sp.lineno;
	p->ok = true;
}

void log_prep_ws_free(struct log_prep_ws *ws)
{
	if (!ws)
		return;
	ZSTD_freeCCtx(ws->cctx);
	filb_free(ws->fb);
	free(ws);
}

void log_prep_clear(struct log_prep *p)
{
	p->ok = false;
	p->raw_len = 0;
	p->n_lines = 0;
	buf_reset(&p->z);
	buf_reset(&p->filters);
}

void log_prep_release(struct log_prep *p)
{
	buf_release(&p->z);
	buf_release(&p->filters);
	memset(p, 0, sizeof(*p));
}

void logw_also(struct logw *w, split_cb also, void *ctx)
{
	w->also = also;
	w->also_ctx = ctx;
}

bool logw_also_done(const struct logw *w, uint64_t *n_lines)
{
	*n_lines = w->sp.lineno;
	return w->finished && w->piped && w->also && w->also_done;
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

/* The writer of a log that finished, kept with its buffers, zstd context,
 * filter builder and worker for the next log (logw_begin() clears all the
 * rest): many small logs pay no allocation and zeroing of the chunk buffer,
 * the compressed buffer and the trigram set for each, and a big import
 * starts one worker. A writer that finished stored the filters of its every
 * chunk, which emptied the sets (filb_emit()), and took back every chunk
 * from its worker, which waits for the next log's. */
static struct logw *spare_w;

static void logw_release(struct logw *w)
{
	/* the statements are the store's (store_cached()), each reset after
	 * its every step */
	zpipe_free(w->pipe); /* its worker stopped */
	filb_free(w->fb);
	buf_release(&w->fout);
	buf_release(&w->wpend);
	cctx_put(w->cctx);
	free(w->raw);
	free(w->zbuf);
	buf_release(&w->idx);
	free(w);
}

void logw_free(struct logw *w)
{
	if (!w)
		return;
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
		buf_init(&w->fout);
		buf_init(&w->wpend);
		return w;
	}
	unsigned char *raw = w->raw;
	void *zbuf = w->zbuf;
	size_t zcap = w->zcap;
	ZSTD_CCtx *cctx = w->cctx;
	struct filb *fb = w->fb;
	struct zpipe *pipe = w->pipe; /* its worker idle, every chunk taken back */
	struct buf idx = w->idx, fout = w->fout, wpend = w->wpend;
	memset(w, 0, offsetof(struct logw, sp)); /* logw_begin() inits sp */
	w->raw = raw;
	w->zbuf = zbuf;
	w->zcap = zcap;
	w->cctx = cctx;
	w->fb = fb;
	w->pipe = pipe;
	w->idx = idx;
	w->fout = fout;
	w->wpend = wpend;
	buf_reset(&w->idx);
	buf_reset(&w->fout);
	buf_reset(&w->wpend);
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
	w->has_pending = true; /* line 1 starts at byte 0, if there is one */
	w->pending = 0;
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
	int rc = 0;
	if (w->raw_len > 0)
		rc = flush_chunk(w, true, err);
	else if (w->piped) /* the worker's split ends */
		rc = zpipe_submit(w, w->starts + 1, false, true, err);
	else if (w->fb_begun) /* this thread's */
		rc = filters_here(w, true, err);
	if (rc < 0 || zpipe_drain(w, err) < 0 || flush_words(w, err) < 0)
		return -1;
	if (w->starts != w->sp.lineno) {
		char what[128];
		snprintf(what, sizeof(what), "internal error: %llu line starts for %llu lines",
			 (ull)w->starts, (ull)w->sp.lineno);
		return w_fail(w, err, CS_EINVAL, what);
	}
	sqlite3_stmt *st = NULL;
	if (store_cached(w->store,
			 "UPDATE logs SET raw_size = ?1, line_count = ?2, chunk_count = ?3,"
			 " source = coalesce(?5, source) WHERE id = ?4",
			 &st) != SQLITE_OK)
		return w_dberr(w, err, "preparing the logs update");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)w->fed_end);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)w->starts);
	sqlite3_bind_int64(st, 3, w->seq);
	sqlite3_bind_int64(st, 4, w->log_id);
	if (w->source)
		sqlite3_bind_text(st, 5, w->source, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
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

void logw_set_source(struct logw *w, const char *source)
{
	w->source = source;
}

int64_t logw_log_id(const struct logw *w)
{
	return w->log_id;
}

int64_t logw_line_count(const struct logw *w)
{
	return (int64_t)w->starts;
}

