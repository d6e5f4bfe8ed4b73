/* memfind.h - finding a string in a block of bytes, fast: what the log
 * search does on every byte of every chunk it reads. */
#ifndef CS_MEMFIND_H
#define CS_MEMFIND_H

#include <stddef.h>

/* The first occurrence of needle[0..k) in hay[0..n), as memmem(3) (hay
 * when k is 0; NULL when there is none). Sixteen positions at a time are
 * ruled out by their first and last bytes (SSE2), and the rest of the
 * needle is compared only where both agree; a needle whose first and last
 * bytes agree too often (repetitive text) hands the rest of the block to
 * memmem(3), so the time stays linear. */
const void *memfind(const void *hay, size_t n, const void *needle, size_t k);

#endif
