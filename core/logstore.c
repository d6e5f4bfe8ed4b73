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
 * Trigram filters (log_chunk_grams): a line's trigrams go to the filter of
 * the chunk its first byte is in. The last line starting in a chunk usually
 * runs on into the next one, so when a chunk is flushed its filter may still
 * miss that line: it waits in a second bitset (`open`) until the line
 * completes, and is inserted then. Only one line is unfinished at a time, so
 * two sets are enough however long the line: the writer holds 2 x 64 KiB
 * more (a byte per bit while building), whatever the log size.
 */
#include "logstore.h"
#include "store.h"

#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define LOGW_ZSTD_LEVEL 1 /* import speed matters more than the last few percent */
#define LOGR_CACHE 4      /* decompressed chunks kept by a reader */

/* Filter blobs: one version byte, then nothing (no trigram at all) or a
 * bitset of GRAMS_MIN..GRAMS_BYTES bytes, a power of two; bit i is bit i%8
 * of byte i/8. Version 1: trigrams of log_search_text() of each line's
 * first SPLIT_HEAD_MAX bytes, ASCII letters lower-cased, gram_hash(). Any
 * change to those makes a new version: old filters are then ignored. */
#define GRAMS_VERSION 1
#define GRAMS_BITS 65536 /* bits of the set while a chunk is written */
#define GRAMS_BYTES (GRAMS_BITS / 8)
#define GRAMS_MIN 64
_Static_assert(SPLIT_HEAD_MAX == 8192, "filter version 1 indexes 8192-byte heads");

typedef unsigned long long ull;

static unsigned term_bytes(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

/* --- searchable text ------------------------------------------------------- */
static bool is_bom(const unsigned char *s, size_t n)
{
	return n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF;
}

/* What logts_parse() accepts, without computing the time: the shape by
 * eight bytes at a time (every byte of a digit position is 0x30..0x39, every
 * other one its separator), then the field ranges. */
static const unsigned char ts_mask[32] = {
	0xF0, 0xF0, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF,
	0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xFF};
static const unsigned char ts_want[32] = "0000-00-00T00:00:00.0000000Z";
static const unsigned char ts_add[32] = {6, 6, 6, 6, 0, 6, 6, 0, 6, 6, 0, 6, 6, 0,
					 6, 6, 0, 6, 6, 0, 6, 6, 6, 6, 6, 6, 6, 0};

static bool ts_word_ok(const unsigned char *s, int at)
{
	uint64_t w, m, want, add;
	memcpy(&w, s + at, 8);
	memcpy(&m, ts_mask + at, 8);
	memcpy(&want, ts_want + at, 8);
	memcpy(&add, ts_add + at, 8);
	/* high nibbles (and separators) first; then adding 6 to a digit byte
	 * 0x3N keeps its high nibble 3 only when N <= 9, and cannot carry into
	 * the next byte */
	return (w & m) == want && ((w + add) & m) == want;
}

#define D2(s) (((s)[0] - '0') * 10 + ((s)[1] - '0'))

static bool ts_valid(const unsigned char *s)
{
	if (!ts_word_ok(s, 0) || !ts_word_ok(s, 8) || !ts_word_ok(s, 16) || !ts_word_ok(s, 20))
		return false;
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year = D2(s) * 100 + D2(s + 2), mon = D2(s + 5), day = D2(s + 8);
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    D2(s + 11) > 23 || D2(s + 14) > 59 || D2(s + 17) > 59)
		return false;
	return !(mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)));
}

void log_search_text(const char *line, size_t n, const char **text, size_t *len,
		     struct buf *scratch)
{
	const unsigned char *s = (const unsigned char *)(line ? line : "");
	if (!line)
		n = 0;
	while (is_bom(s, n))
		s += 3, n -= 3;
	if (n >= 28 && (n == 28 || s[28] == ' ') && ts_valid(s)) {
		size_t k = n == 28 ? 28 : 29;
		s += k;
		n -= k;
		while (is_bom(s, n))
			s += 3, n -= 3;
	}
	if (n && memchr(s, 0x1b, n)) {
		buf_reset(scratch);
		ansi_strip((const char *)s, n, scratch);
		*text = buf_cstr(scratch);
		*len = scratch->len;
		return;
	}
	*text = (const char *)s;
	*len = n;
}

/* --- trigram filters --------------------------------------------------------- */
static inline unsigned fold_ascii(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? c | 0x20u : c;
}

/* 16 bits from the top of a 64-bit product: every bit of the trigram
 * reaches them, so the low k of them index a 2^k-bit set well too. */
static inline uint32_t gram_hash(uint32_t t)
{
	return (uint32_t)(((uint64_t)t * 0x9E3779B97F4A7C15ull) >> 48);
}

/* A trigram as a number: its bytes, first lowest. */
static inline uint32_t gram_of(const unsigned char *s)
{
	return fold_ascii(s[0]) | fold_ascii(s[1]) << 8 | (uint32_t)fold_ascii(s[2]) << 16;
}

static inline uint64_t load_le64(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* fold_ascii() on eight bytes at once: a byte gets 0x20 when it is in
 * 'A'..'Z' (bit 7 of b + 0x3F says b >= 'A', of b + 0x25 says b > 'Z';
 * neither sum carries out of its byte). */
static inline uint64_t fold8(uint64_t w)
{
	const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, top = 0x8080808080808080ull;
	uint64_t b = w & low7;
	uint64_t upper = ((b + 0x3F3F3F3F3F3F3F3Full) ^ (b + 0x2525252525252525ull)) & ~w & top;
	return w | upper >> 2;
}

/* Import runs this on every byte of every log, so the set being built has
 * a byte per bit (a plain store, no read-modify-write: 64 KiB, packed into
 * bits when the chunk is done), and eight bytes are loaded and folded at
 * once to give six trigrams with no chain from one to the next. */
static void grams_set(unsigned char *set, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	for (; i + 8 <= n; i += 6) {
		uint64_t w = fold8(load_le64(s + i));
		set[gram_hash((uint32_t)w & 0xFFFFFFu)] = 1;
		set[gram_hash((uint32_t)(w >> 8) & 0xFFFFFFu)] = 1;
		set[gram_hash((uint32_t)(w >> 16) & 0xFFFFFFu)] = 1;
		set[gram_hash((uint32_t)(w >> 24) & 0xFFFFFFu)] = 1;
		set[gram_hash((uint32_t)(w >> 32) & 0xFFFFFFu)] = 1;
		set[gram_hash((uint32_t)(w >> 40) & 0xFFFFFFu)] = 1;
	}
	for (; i + 3 <= n; i++)
		set[gram_hash(gram_of(s + i))] = 1;
}

/* Bytes of 0/1 to bits: bit j of bits[i] is set[8i + j]. The multiply
 * gathers bit 0 of each of eight bytes into the top byte (the other
 * products land above bit 63 or, all apart, below bit 56). */
static void grams_pack(const unsigned char *set, unsigned char *bits)
{
	for (size_t i = 0; i < GRAMS_BYTES; i++)
		bits[i] = (unsigned char)((load_le64(set + 8 * i) * 0x0102040810204080ull) >> 56);
}

static void words_query(struct log_grams *q, const char *text, size_t n);

void log_grams_add(struct log_grams *q, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i + 3 <= n && q->n < LOG_GRAMS_MAX; i++) {
		uint16_t h = (uint16_t)gram_hash(gram_of(s + i));
		size_t k = 0;
		while (k < q->n && q->h[k] != h)
			k++;
		if (k == q->n)
			q->h[q->n++] = h;
	}
	words_query(q, text, n);
}

bool log_grams_admit(const void *blob, size_t n, const struct log_grams *q)
{
	const unsigned char *b = blob;
	if (!q || q->n == 0)
		return true;
	if (!b || n < 1 || b[0] != GRAMS_VERSION)
		return true;
	size_t nb = n - 1;
	if (nb == 0)
		return false; /* no trigram in the chunk at all */
	if (nb < GRAMS_MIN || nb > GRAMS_BYTES || (nb & (nb - 1)))
		return true;
	uint32_t mask = (uint32_t)(nb * 8 - 1);
	for (size_t i = 0; i < q->n; i++) {
		uint32_t h = q->h[i] & mask;
		if (!(b[1 + (h >> 3)] & (1u << (h & 7))))
			return false;
	}
	return true;
}

static size_t popcount_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x, y = 0;
		memcpy(&x, a + i, 8);
		if (b)
			memcpy(&y, b + i, 8);
		c += (size_t)__builtin_popcountll(x | y);
	}
	return c;
}

/* Pack a set and shrink it by OR-ing its halves while it stays at most a
 * quarter full (a query of t missing trigrams then gets through a chunk
 * with odds of about 4^-t). Writes the blob into out; returns its length. */
static size_t grams_blob(const unsigned char *set, unsigned char *out)
{
	size_t nb = GRAMS_BYTES;
	unsigned char *bits = out + 1;
	out[0] = GRAMS_VERSION;
	grams_pack(set, bits);
	if (popcount_bytes(bits, NULL, nb) == 0)
		return 1;
	while (nb > GRAMS_MIN) {
		size_t half = nb / 2;
		if (popcount_bytes(bits, bits + half, half) * 4 > half * 8)
			break;
		for (size_t i = 0; i < half; i++)
			bits[i] |= bits[i + half];
		nb = half;
	}
	return 1 + nb;
}

/* --- word 6-gram filters ------------------------------------------------------ */
/* Rows of log_chunk_words: (log_id, seq, part, bits). bits: one version
 * byte, then nothing (no word 6-gram in the part) or a bitset of 2^k bytes,
 * k >= 5. A chunk of L raw bytes has words_parts(L) parts; a 6-gram of hash
 * h goes to part (h >> (WORDS_LOG2 - log2 parts)) & (parts - 1), bit h mod
 * (bits of the part). Version 1: 6-grams of ASCII letters, digits and '_'
 * (letters lower-cased) of log_search_text() of each line's first
 * SPLIT_HEAD_MAX bytes, words_hash(). */
#define WORDS_VERSION 1
#define WORDS_LOG2 21               /* a chunk's whole set at most 2^21 bits */
#define WORDS_PARTS_MAX 32
#define WORDS_PART_RAW (8 * 1024)   /* a part per 8 KiB of chunk: 1 KB rows, three to a page, on dense chunks */
#define WORDS_MIN_BYTES 32
_Static_assert(LOG_WORDS_GRAM == 6, "filter version 1 indexes 6-grams");

static inline bool word_char(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_';
}

static inline uint32_t words_hash(uint64_t g)
{
	return (uint32_t)((g * 0x9E3779B97F4A7C15ull) >> 32);
}

static unsigned words_parts(uint64_t raw_len)
{
	unsigned p = 1;
	while (p < WORDS_PARTS_MAX && (uint64_t)p * 2 * WORDS_PART_RAW <= raw_len)
		p *= 2;
	return p;
}

static unsigned log2u(uint64_t v)
{
	unsigned k = 0;
	while (v > 1)
		v >>= 1, k++;
	return k;
}

/* ASCII-folded word characters; 0 for the others */
static unsigned char word_tab[256];

static void word_tab_init(void)
{
	if (word_tab['a'])
		return;
	for (unsigned c = 0; c < 256; c++)
		word_tab[c] = word_char((unsigned char)c) ? (unsigned char)fold_ascii((unsigned char)c) : 0;
}

/* The word 6-grams of text: each hash appended to *h (grown as needed).
 * The set is built from them when the chunk is done, sized by their count.
 * Import runs this on every byte: a table lookup and no test of room per
 * 6-gram. */
static void words_collect(uint32_t **h, size_t *n, size_t *alloc, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	if (*n + len > *alloc) {
		*alloc = MAX(*alloc * 2, *n + len + 4096);
		*h = xrealloc(*h, *alloc * sizeof(**h));
	}
	uint32_t *out = *h + *n;
	uint64_t g = 0;
	unsigned run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = word_tab[s[i]];
		g = g << 8 | c;
		run = c ? run + 1 : 0;
		if (run >= LOG_WORDS_GRAM)
			*out++ = words_hash(g & 0xFFFFFFFFFFFFull);
	}
	*n = (size_t)(out - *h);
}

static void words_query(struct log_grams *q, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	uint64_t g = 0;
	unsigned run = 0;
	for (size_t i = 0; i < n && q->nw < LOG_WORDS_MAX; i++) {
		if (!word_char(s[i])) {
			run = 0;
			continue;
		}
		g = (g << 8 | fold_ascii(s[i])) & 0xFFFFFFFFFFFFull;
		if (++run < LOG_WORDS_GRAM)
			continue;
		uint32_t h = words_hash(g);
		size_t k = 0;
		while (k < q->nw && q->w[k] != h)
			k++;
		if (k == q->nw)
			q->w[q->nw++] = h;
	}
}

static bool words_admit_part(const unsigned char *b, size_t n, uint32_t h)
{
	if (!b || n < 1 || b[0] != WORDS_VERSION)
		return true;
	size_t nb = n - 1;
	if (nb == 0)
		return false; /* no word 6-gram in the part */
	if (nb < WORDS_MIN_BYTES || (nb & (nb - 1)) ||
	    nb * 8 > ((size_t)1 << WORDS_LOG2))
		return true;
	uint32_t i = h & (uint32_t)(nb * 8 - 1);
	return b[1 + (i >> 3)] & (1u << (i & 7));
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

static int put_grams(struct logw *w, int64_t seq, unsigned char *bits, struct cs_err *err)
{
	size_t n = grams_blob(bits, w->gblob);
	memset(bits, 0, GRAMS_BITS);
	sqlite3_stmt *st = w->ins_grams;
	sqlite3_bind_int64(st, 1, w->log_id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_blob(st, 3, w->gblob, (int)n, SQLITE_STATIC);
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

/* Build the word filter of chunk seq (raw_len bytes) from the n hashes
 * of its 6-grams and store it, a row per part. */
static int put_words(struct logw *w, int64_t seq, const uint32_t *h, size_t n,
		     uint64_t raw_len, struct cs_err *err)
{
	unsigned parts = words_parts(raw_len);
	unsigned shift = WORDS_LOG2 - log2u(parts);
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
	const char *text;
	size_t len;
	log_search_text(l->head, l->head_len, &text, &len, &w->scratch);
	grams_set(bits, text, len);
	if (bits == w->grams_cur) {
		words_collect(&w->wh_cur, &w->wn_cur, &w->wa_cur, text, len);
	} else {
		words_collect(&w->wh_open, &w->wn_open, &w->wa_open, text, len);
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

static void zpipe_free(struct zpipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
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
	if (pthread_create(&p->th, NULL, zpipe_main, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		for (unsigned i = 0; i < LOGW_INFLIGHT; i++) {
			free(p->job[i].raw);
			free(p->job[i].zbuf);
			buf_release(&p->job[i].idx);
		}
		free(p);
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
		size_t z;
		char why[200];
		if (compress_chunk(w->cctx, w->zbuf, w->zcap, w->raw, w->raw_len, w->seq,
				   w->chunk_off, &z, why, sizeof(why)) < 0)
			return w_fail(w, err, CS_EINVAL, why);
		if (insert_chunk(w, w->seq, w->chunk_off, w->raw_len, first_line, w->chunk_lines,
				 w->zbuf, z, &w->idx, err) < 0)
			return -1;
	}
	if (w->cur_done == w->chunk_lines) {
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

void logw_free(struct logw *w)
{
	if (!w)
		return;
	zpipe_free(w->pipe); /* before the zstd context the worker uses */
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->ins_grams);
	sqlite3_finalize(w->ins_words);
	free(w->wh_cur);
	free(w->wh_open);
	free(w->wset);
	free(w->wblob);
	ZSTD_freeCCtx(w->cctx);
	free(w->raw);
	free(w->zbuf);
	free(w->grams_cur);
	free(w->grams_open);
	free(w->gblob);
	buf_release(&w->idx);
	buf_release(&w->scratch);
	free(w);
}

struct logw *logw_begin(struct store *store, int64_t job_id, split_cb line_cb, void *ctx,
			struct cs_err *err)
{
	struct logw *w = xcalloc(1, sizeof(*w));
	sqlite3 *db = store->db;
	sqlite3_stmt *st = NULL;
	w->db = db;
	w->job_id = job_id;
	w->line_cb = line_cb;
	w->ctx = ctx;
	splitter_init(&w->sp, w_on_line, w);
	buf_init(&w->idx);
	buf_init(&w->scratch);
	err_clear(&w->cb_err);
	w->has_pending = true; /* line 1 starts at byte 0, if there is one */
	w->pending = 0;
	w->open_seq = -1;
	const char *th = getenv("CISCOPE_LOG_THREADS");
	w->threaded = !(th && strcmp(th, "1") == 0);

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
	if (sqlite3_prepare_v2(db, "INSERT INTO log_chunk_grams (log_id, seq, bits) VALUES (?1, ?2, ?3)",
			       -1, &w->ins_grams, NULL) != SQLITE_OK) {
		w_dberr(w, err, "preparing the filter insert");
		goto fail;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO log_chunk_words (log_id, seq, part, bits)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       -1, &w->ins_words, NULL) != SQLITE_OK) {
		w_dberr(w, err, "preparing the word filter insert");
		goto fail;
	}
	word_tab_init();
	w->grams_cur = xcalloc(1, GRAMS_BITS);
	w->grams_open = xcalloc(1, GRAMS_BITS);
	w->gblob = xmalloc(1 + GRAMS_BYTES);
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
	sqlite3_stmt *by_seq, *by_line, *grams;
	ZSTD_DCtx *dctx;
	struct chunk cache[LOGR_CACHE];
	uint64_t tick;
	struct buf head;           /* head of a line that runs past its chunk */
	uint64_t scanned, skipped; /* chunks, by logr_scan_grams() */
};

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

void logr_close(struct logr *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->by_seq);
	sqlite3_finalize(r->by_line);
	sqlite3_finalize(r->grams);
	buf_release(&r->head);
	ZSTD_freeDCtx(r->dctx);
	for (int i = 0; i < LOGR_CACHE; i++) {
		free(r->cache[i].data);
		free(r->cache[i].starts);
	}
	free(r);
}

static struct logr *reader_open(struct sqlite3 *db, int64_t log_id, struct cs_err *err)
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

struct logr *logr_open(struct store *st, int64_t log_id, struct cs_err *err)
{
	return reader_open(st->db, log_id, err);
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

int logr_chunk_data(struct logr *r, uint64_t seq, const unsigned char **data, size_t *len,
		    uint64_t *off, struct cs_err *err)
{
	if (seq >= r->chunk_count)
		return err_set(err, CS_EINVAL, "chunk %llu is out of range: log %lld has %llu chunks",
			       (ull)seq, (long long)r->id, (ull)r->chunk_count);
	struct chunk *c = load_chunk(r, (int64_t)seq, err);
	if (!c)
		return -1;
	*data = c->data;
	*len = c->raw_len;
	*off = c->raw_off;
	return 0;
}

int logr_chunk_lines(struct logr *r, uint64_t seq, split_cb cb, void *ctx, struct cs_err *err)
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

struct logfilter {
	sqlite3 *db;
	const struct log_grams *q;
	sqlite3_stmt *grams, *words_range, *words_one;
	unsigned char *seen; /* per chunk: a row was read */
	size_t seen_alloc;
};

struct logfilter *logfilter_new(struct store *st, const struct log_grams *q,
				struct cs_err *err)
{
	struct sqlite3 *db = st->db;
	struct logfilter *f = xcalloc(1, sizeof(*f));
	f->db = db;
	f->q = q;
	if ((q && q->n > 0 &&
	     sqlite3_prepare_v2(db, "SELECT seq, bits FROM log_chunk_grams WHERE log_id = ?1",
				-1, &f->grams, NULL) != SQLITE_OK) ||
	    (q && q->nw > 0 &&
	     (sqlite3_prepare_v2(db, "SELECT seq, bits FROM log_chunk_words WHERE log_id = ?1"
				 " AND part = ?2",
				 -1, &f->words_range, NULL) != SQLITE_OK ||
	      sqlite3_prepare_v2(db, "SELECT bits FROM log_chunk_words WHERE log_id = ?1"
				 " AND part = ?2 AND seq = ?3",
				 -1, &f->words_one, NULL) != SQLITE_OK))) {
		sqlite3_finalize(f->grams);
		sqlite3_finalize(f->words_range);
		err_set(err, CS_EDB, "cannot read the search filters: %s", sqlite3_errmsg(db));
		free(f);
		return NULL;
	}
	return f;
}

/* Rule out, in admit[], the chunks of log_id whose word filters lack one
 * of the query's 6-grams. Chunks without rows (stored before the word
 * filters) are left admitted. Per 6-gram, the rows of the part it falls in
 * are read in one range, or one by one once few chunks are left. Returns
 * the number still admitted, or -1. */
static long words_rule_out(struct logfilter *f, int64_t log_id, uint64_t raw_size,
			   uint64_t n_chunks, unsigned char *admit, long n)
{
	unsigned full = words_parts(LOG_CHUNK_RAW);
	/* eight 6-grams spread over the query rule out nearly every chunk that
	 * lacks the string (a third of the bits set: 1 in 6,500 gets through);
	 * more only cost reads */
	size_t tests = MIN(f->q->nw, (size_t)8);
	for (size_t i = 0; i < tests; i++) {
		uint32_t h = f->q->w[tests < f->q->nw ? i * (f->q->nw - 1) / (tests - 1) : i];
		/* chunks still admitted (1) that have a filter: those the 6-gram
		 * is tested on; a chunk without rows (2) is found on the first */
		long live = 0;
		for (uint64_t seq = 0; seq < n_chunks; seq++)
			live += admit[seq] == 1;
		if (!live)
			break;
		bool range = i == 0 || live > 8;
		if (range) {
			sqlite3_stmt *st = f->words_range;
			unsigned char *seen = f->seen;
			memset(seen, 0, n_chunks);
			sqlite3_bind_int64(st, 1, log_id);
			sqlite3_bind_int64(st, 2, (h >> (WORDS_LOG2 - log2u(full))) & (full - 1));
			int rc;
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				sqlite3_int64 seq = sqlite3_column_int64(st, 0);
				if (seq < 0 || (uint64_t)seq >= n_chunks)
					continue;
				uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - (uint64_t)seq * LOG_CHUNK_RAW);
				if (words_parts(len) != full)
					continue; /* a short chunk: its part is another */
				seen[seq] = 1;
				if (admit[seq] == 1 &&
				    !words_admit_part(sqlite3_column_blob(st, 1),
						      (size_t)sqlite3_column_bytes(st, 1), h)) {
					admit[seq] = 0;
					n--;
				}
			}
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return -1;
			if (i == 0)
				for (uint64_t seq = 0; seq < n_chunks; seq++) {
					uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - seq * LOG_CHUNK_RAW);
					if (!seen[seq] && words_parts(len) == full && admit[seq])
						admit[seq] = 2; /* no word filter */
				}
		}
		for (uint64_t seq = 0; seq < n_chunks && n > 0; seq++) {
			if (admit[seq] != 1)
				continue;
			uint64_t len = MIN((uint64_t)LOG_CHUNK_RAW, raw_size - seq * LOG_CHUNK_RAW);
			unsigned parts = words_parts(len);
			if (range && parts == full)
				continue; /* done above */
			sqlite3_stmt *st = f->words_one;
			sqlite3_bind_int64(st, 1, log_id);
			sqlite3_bind_int64(st, 2, (h >> (WORDS_LOG2 - log2u(parts))) & (parts - 1));
			sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				if (!words_admit_part(sqlite3_column_blob(st, 0),
						      (size_t)sqlite3_column_bytes(st, 0), h)) {
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
	for (uint64_t seq = 0; seq < n_chunks; seq++)
		admit[seq] = admit[seq] != 0;
	return n;
}

long logfilter_admit(struct logfilter *f, int64_t log_id, uint64_t raw_size,
		     unsigned char *admit, struct cs_err *err)
{
	uint64_t n_chunks = (raw_size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW;
	memset(admit, 1, n_chunks);
	long n = (long)n_chunks;
	if (f->words_range) {
		/* the more selective filter first: it rules out most chunks */
		XGROW(f->seen, f->seen_alloc, (size_t)n_chunks + 1);
		n = words_rule_out(f, log_id, raw_size, n_chunks, admit, n);
		if (n < 0)
			return err_set(err, CS_EDB, "cannot read the search filters of log %lld: %s",
				       (long long)log_id, sqlite3_errmsg(f->db));
	}
	if (!f->grams || n == 0)
		return n;
	sqlite3_stmt *st = f->grams;
	sqlite3_bind_int64(st, 1, log_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(st, 0);
		if (seq < 0 || (uint64_t)seq >= n_chunks || !admit[seq])
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

void logfilter_free(struct logfilter *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->grams);
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
