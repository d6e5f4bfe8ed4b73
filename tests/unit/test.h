/* test.h - the unit-test harness: a test is a function registered by TEST();
 * tests/unit/test_main.c runs them all (or those named on the command line)
 * and ends with "<program>: N passed, N failed". Each CHECK failure is
 * reported with file:line and marks the test failed; the test goes on.
 *
 * Helpers: t_tmpdir() gives a fresh directory per test run (removed at exit
 * unless CISCOPE_KEEP_TMP is set); t_fixture(rel) gives the path of
 * tests/fixtures/rel (FIXTURES env var, else relative to the source tree).
 */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void t_register(const char *name, test_fn fn);
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *t_tmpdir(void);
const char *t_fixture(const char *rel);   /* static buffer, copy it if kept */
/* Write n bytes to a new file dir/name; returns its path (static buffer). */
const char *t_write_file(const char *name, const void *data, size_t n);

#define TEST(fn)                                                           \
	static void fn(void);                                              \
	__attribute__((constructor)) static void reg_##fn(void)            \
	{                                                                  \
		t_register(#fn, fn);                                       \
	}                                                                  \
	static void fn(void)

#define CHECK(c)                                                           \
	do {                                                               \
		if (!(c))                                                  \
			t_fail(__FILE__, __LINE__, "CHECK(%s)", #c);       \
	} while (0)

#define CHECK_INT(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_)                                              \
			t_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
			       #a, a_, #b, b_);                            \
	} while (0)

#define CHECK_STR(a, b)                                                    \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                     \
			t_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
			       #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

/* a function returning 0 on success with a struct cs_err named err */
#define CHECK_OK(call)                                                     \
	do {                                                               \
		if ((call) < 0)                                            \
			t_fail(__FILE__, __LINE__, "%s failed: %s", #call, err.msg); \
	} while (0)

#endif
