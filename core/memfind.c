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
