/* memfind.c - a memmem for the log search (see memfind.h). */
#include "memfind.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Candidates compared in full before the rest goes to memmem(3): a few per
 * 64 bytes is far above what real text gives for all but one-byte-ish
 * needles, and bounds the work on text made to defeat the filter. */
#define MEMFIND_SLACK 256

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MEMFIND_AVX2 1

/* The same filter 32 positions at a time, on processors with AVX2 (asked
 * at run time); returns the position reached in *at when it gives up. */
__attribute__((target("avx2"))) static const unsigned char *
find_avx2(const unsigned char *h, size_t n, const unsigned char *nd, size_t k, size_t *at,
	  size_t *budget)
{
	const __m256i first = _mm256_set1_epi8((char)nd[0]), last = _mm256_set1_epi8((char)nd[k - 1]);
	size_t i = 0;
	for (; i + k - 1 + 32 <= n; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(h + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(h + i + k - 1));
		unsigned mask = (unsigned)_mm256_movemask_epi8(
			_mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last)));
		while (mask) {
			unsigned bit = (unsigned)__builtin_ctz(mask);
			if (memcmp(h + i + bit + 1, nd + 1, k - 2) == 0)
				return h + i + bit;
			mask &= mask - 1;
			if (--*budget == 0) {
				*at = i + bit + 1;
				return NULL;
			}
		}
	}
	*at = i;
	return NULL;
}
#endif

const void *memfind(const void *hay, size_t n, const void *needle, size_t k)
{
	const unsigned char *h = hay, *nd = needle;
	if (k == 0)
		return hay;
	if (k > n)
		return NULL;
	if (k == 1)
		return memchr(hay, nd[0], n);
	size_t i = 0, budget = MEMFIND_SLACK + n / 16;
#if defined(MEMFIND_AVX2)
	if (n >= 64 && __builtin_cpu_supports("avx2")) {
		const unsigned char *hit = find_avx2(h, n, nd, k, &i, &budget);
		if (hit)
			return hit;
		if (budget == 0)
			return memmem(h + i, n - i, nd, k);
	}
#endif
#if defined(__SSE2__)
	const __m128i first = _mm_set1_epi8((char)nd[0]), last = _mm_set1_epi8((char)nd[k - 1]);
	for (; i + k - 1 + 16 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + k - 1));
		unsigned mask = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
		while (mask) {
			unsigned bit = (unsigned)__builtin_ctz(mask);
			if (memcmp(h + i + bit + 1, nd + 1, k - 2) == 0)
				return h + i + bit;
			mask &= mask - 1;
			if (--budget == 0)
				return memmem(h + i + bit + 1, n - i - bit - 1, nd, k);
		}
	}
#endif
	for (; i + k <= n; i++) {
		if (h[i] != nd[0] || h[i + k - 1] != nd[k - 1])
			continue;
		if (memcmp(h + i + 1, nd + 1, k - 2) == 0)
			return h + i;
		if (--budget == 0)
			return memmem(h + i + 1, n - i - 1, nd, k);
	}
	return NULL;
}
