/* logstoreint.h - what the three parts of the log store share: the filter
 * blob formats (trigram and word 6-gram versions, sizes) and the filter
 * helpers the writer builds them with and the reader tests them with.
 * Internal to core/loggrams.c (the filters), core/logwrite.c (the writer)
 * and core/logstore.c (the reader); everyone else uses logstore.h. */
#ifndef CISCOPE_LOGSTOREINT_H
#define CISCOPE_LOGSTOREINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logstore.h"

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

/* --- word 6-gram filters ------------------------------------------------------ */
/* Rows of log_chunk_words: (log_id, seq, part, bits). bits: one version
 * byte, then nothing (no word 6-gram in the part) or a bitset of 2^k bytes,
 * k >= 5. A chunk of L raw bytes has loggrams_words_parts(L) parts; a 6-gram of hash
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

/* loggrams.c: building filters (the writer) */
/* Sets the bits of a line's trigrams in set (a byte per bit, GRAMS_BITS). */
void loggrams_set(unsigned char *set, const char *text, size_t n);
/* The filter blob of set in out (1 + GRAMS_BYTES at most); its length. */
size_t loggrams_blob(const unsigned char *set, unsigned char *out);
/* For a chunk known to be small (at most GRAMS_LIST_MAX bytes, logstore.h,
 * so at most as many trigrams): the hashes of a line's trigrams appended to
 * list (their count returned), and the blob made of the n in list, the same
 * bytes as loggrams_blob() of a set given the same lines (the 64 KiB set's
 * packing and clearing cost a 10 KB chunk more than its trigrams did). */
size_t loggrams_list(uint16_t *list, const char *text, size_t n);
size_t loggrams_blob_list(const uint16_t *list, size_t n, unsigned char *out);
/* Once, before loggrams_words_collect. */
void loggrams_word_tab_init(void);
/* Appends the hashes of the word 6-grams of text to *h (*n of *alloc). */
void loggrams_words_collect(uint32_t **h, size_t *n, size_t *alloc, const char *text, size_t len);
/* Sets bit h mod 2^WORDS_LOG2 of set for the hash h of each word 6-gram of
 * text; their number. */
size_t loggrams_words_set(unsigned char *set, const char *text, size_t len);
/* The number of parts of a chunk of raw_len bytes's word filter. */
unsigned loggrams_words_parts(uint64_t raw_len);
/* floor(log2(v)), v > 0. */
unsigned loggrams_log2u(uint64_t v);

/* The bits set in a[0..n), n a multiple of 8. */
size_t loggrams_popcount(const unsigned char *a, size_t n);

/* loggrams.c: testing filters (the reader) */
/* Whether the word filter part b[0..n) may hold the 6-gram of hash h. */
bool loggrams_words_admit_part(const unsigned char *b, size_t n, uint32_t h);

#endif
