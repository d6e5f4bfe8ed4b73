/* fuzz.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * A harness is one f_NAME.c defining LLVMFuzzerTestOneInput; `make fuzz`
 * builds it with clang -fsanitize=fuzzer,address,undefined against the core
 * objects (built with the same sanitizers) and tests/fuzz/run.sh runs it:
 * first over tests/fuzz/regress/NAME/ (crash reproducers, which must stay
 * fixed) and the seeds, then fuzzing for FUZZ_SECONDS.
 *
 * Harnesses check properties, not only the absence of crashes: where a
 * parser documents an invariant (a query formats to text that parses back to
 * it, lines tile the input, the prefilter changes no finding), a violation
 * aborts with FUZZ_CHECK so libFuzzer saves the input.
 */
#ifndef CS_FUZZ_H
#define CS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* data as a NUL-terminated string (cut at its first NUL): caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The lines of data (1 + its newlines): the range a "file:N:" error names. */
static inline int fuzz_lines(const uint8_t *data, size_t size)
{
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

#ifdef CS_STORE_H
/* A fresh in-memory index in place of st (closed): harnesses that import
 * take one now and then, so memory stays flat over a long run. */
static inline struct store *fuzz_mem_store(struct store *st)
{
	struct cs_err err;
	store_close(st);
	st = store_open(":memory:", STORE_RW, &err);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	return st;
}
#endif

#endif
