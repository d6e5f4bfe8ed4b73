/* loggrams.c - the log store's search filters: the searchable text of a
 * line (log_search_text), the per-chunk trigram filters (log_chunk_grams)
 * and word 6-gram filters (log_chunk_words) the writer builds, and the
 * queries the reader tests them with (log_grams). The blob formats are in
 * logstoreint.h; core/logwrite.c stores the filters, core/logstore.c reads
 * them. */
#include "logstoreint.h"

#include <stdlib.h>
#include <string.h>

/* --- searchable text ------------------------------------------------------- */
static bool is_bom(const unsigned char *s, size_t n)
{
	return n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF;
}

/* (inline: log_search_text() is on every line of a search) */
static inline size_t search_skip(const char *line, size_t n)
{
	const unsigned char *s = (const unsigned char *)line, *s0 = s;
	while (is_bom(s, n))
		s += 3, n -= 3;
	if (n >= 28 && (n == 28 || s[28] == ' ') && logts_valid((const char *)s)) {
		size_t k = n == 28 ? 28 : 29;
		s += k;
		n -= k;
		while (is_bom(s, n))
			s += 3, n -= 3;
	}
	return (size_t)(s - s0);
}

size_t log_search_skip(const char *line, size_t n)
{
	return search_skip(line, n);
}

void log_search_text(const char *line, size_t n, const char **text, size_t *len,
		     struct buf *scratch)
{
	const unsigned char *s = (const unsigned char *)(line ? line : "");
	if (!line)
		n = 0;
	size_t k = search_skip((const char *)s, n);
	s += k;
	n -= k;
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
 * once to give six trigrams with no chain from one to the next. With list
 * (a constant where this is inlined) each hash is stored there instead,
 * one after the other; the count stored is returned. */
static inline __attribute__((always_inline)) size_t grams_put(unsigned char *set, uint16_t *list,
							     const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, k = 0;
#define GRAM_PUT(h)                                  \
	do {                                         \
		if (list)                            \
			list[k++] = (uint16_t)(h);   \
		else                                 \
			set[h] = 1;                  \
	} while (0)
	for (; i + 8 <= n; i += 6) {
		uint64_t w = fold8(load_le64(s + i));
		GRAM_PUT(gram_hash((uint32_t)w & 0xFFFFFFu));
		GRAM_PUT(gram_hash((uint32_t)(w >> 8) & 0xFFFFFFu));
		GRAM_PUT(gram_hash((uint32_t)(w >> 16) & 0xFFFFFFu));
		GRAM_PUT(gram_hash((uint32_t)(w >> 24) & 0xFFFFFFu));
		GRAM_PUT(gram_hash((uint32_t)(w >> 32) & 0xFFFFFFu));
		GRAM_PUT(gram_hash((uint32_t)(w >> 40) & 0xFFFFFFu));
	}
	for (; i + 3 <= n; i++)
		GRAM_PUT(gram_hash(gram_of(s + i)));
#undef GRAM_PUT
	return k;
}

void loggrams_set(unsigned char *set, const char *text, size_t n)
{
	grams_put(set, NULL, text, n);
}

size_t loggrams_list(uint16_t *list, const char *text, size_t n)
{
	return grams_put(NULL, list, text, n);
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

/* Without -mpopcnt __builtin_popcountll() is a call into libgcc: this is
 * a dozen instructions in line (the filter of every small log counts 8 KiB
 * of bits a few times) */
static inline unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

size_t loggrams_popcount(const unsigned char *a, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x;
		memcpy(&x, a + i, 8);
		c += popcount64(x);
	}
	return c;
}

static size_t popcount_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x, y = 0;
		memcpy(&x, a + i, 8);
		if (b)
			memcpy(&y, b + i, 8);
		c += popcount64(x | y);
	}
	return c;
}

/* Pack a set and shrink it by OR-ing its halves while it stays at most a
 * quarter full (a query of t missing trigrams then gets through a chunk
 * with odds of about 4^-t). Writes the blob into out; returns its length. */
static size_t grams_fold(unsigned char *out);

size_t loggrams_blob(const unsigned char *set, unsigned char *out)
{
	grams_pack(set, out + 1);
	return grams_fold(out);
}

size_t loggrams_blob_list(const uint16_t *list, size_t n, unsigned char *out)
{
	unsigned char *bits = out + 1;
	memset(bits, 0, GRAMS_BYTES);
	for (size_t i = 0; i < n; i++)
		bits[list[i] >> 3] |= (unsigned char)(1u << (list[i] & 7));
	return grams_fold(out);
}

/* out + 1 holds the packed set: shrunk, and the version put before it */
static size_t grams_fold(unsigned char *out)
{
	size_t nb = GRAMS_BYTES;
	unsigned char *bits = out + 1;
	out[0] = GRAMS_VERSION;
	if (popcount_bytes(bits, NULL, nb) == 0)
		return 1;
	while (nb > GRAMS_MIN) {
		size_t half = nb / 2;
		if (popcount_bytes(bits, bits + half, half) * 4 > half * 8)
			break;
		for (size_t i = 0; i < half; i += 8) { /* half: GRAMS_MIN at least */
			uint64_t x, y;
			memcpy(&x, bits + i, 8);
			memcpy(&y, bits + half + i, 8);
			x |= y;
			memcpy(bits + i, &x, 8);
		}
		nb = half;
	}
	return 1 + nb;
}


static inline bool word_char(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_';
}

static inline uint32_t words_hash(uint64_t g)
{
	return (uint32_t)((g * 0x9E3779B97F4A7C15ull) >> 32);
}

unsigned loggrams_words_parts(uint64_t raw_len)
{
	unsigned p = 1;
	while (p < WORDS_PARTS_MAX && (uint64_t)p * 2 * WORDS_PART_RAW <= raw_len)
		p *= 2;
	return p;
}

unsigned loggrams_log2u(uint64_t v)
{
	unsigned k = 0;
	while (v > 1)
		v >>= 1, k++;
	return k;
}

/* ASCII-folded word characters; 0 for the others */
static unsigned char word_tab[256];

void loggrams_word_tab_init(void)
{
	if (word_tab['a'])
		return;
	for (unsigned c = 0; c < 256; c++)
		word_tab[c] = word_char((unsigned char)c) ? (unsigned char)fold_ascii((unsigned char)c) : 0;
}

/* The word 6-grams of text: each hash appended to list (counted in k),
 * or with set (a constant where this is inlined) its bit h mod
 * 2^WORDS_LOG2 set there instead; the count returned. Import runs this
 * on every byte: a table lookup and no test of room per 6-gram. */
static inline __attribute__((always_inline)) size_t words_put(unsigned char *set, uint32_t *list,
							     const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint64_t g = 0;
	unsigned run = 0;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = word_tab[s[i]];
		g = g << 8 | c;
		run = c ? run + 1 : 0;
		if (run < LOG_WORDS_GRAM)
			continue;
		uint32_t h = words_hash(g & 0xFFFFFFFFFFFFull);
		if (set) {
			h &= ((uint32_t)1 << WORDS_LOG2) - 1;
			set[h >> 3] |= (unsigned char)(1u << (h & 7));
			k++;
		} else {
			list[k++] = h;
		}
	}
	return k;
}

/* The set is built from them when the chunk is done, sized by their count. */
void loggrams_words_collect(uint32_t **h, size_t *n, size_t *alloc, const char *text, size_t len)
{
	if (*n + len > *alloc) {
		*alloc = MAX(*alloc * 2, *n + len + 4096);
		*h = xrealloc(*h, *alloc * sizeof(**h));
	}
	*n += words_put(NULL, *h + *n, text, len);
}

size_t loggrams_words_set(unsigned char *set, const char *text, size_t len)
{
	return words_put(set, NULL, text, len);
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

bool loggrams_words_admit_part(const unsigned char *b, size_t n, uint32_t h)
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

