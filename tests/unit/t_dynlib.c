/* t_dynlib.c - loading a library when first needed (core/dynlib.h): the
 * table filled from the X-macro list, and the messages when the library or
 * one of its functions is missing. libz stands in: every build has it (libzip
 * needs it) and nothing in the core loads it. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/dynlib.h"
#include "core/util.h"
#include "test.h"

#define Z_FUNCS(X) X(zlibVersion) X(crc32)
static struct {
	Z_FUNCS(DYNLIB_MEMBER)
} zt;
DYNLIB_LOADER(zt, Z_FUNCS, "libz.so.1", "zlib1g")
static int fills;

TEST(loads_once_and_calls_through_the_table)
{
	CHECK(DYNLIB_LOAD(zt));
	CHECK_STR(zt_lib.error, "");
	CHECK_STR(zt.zlibVersion(), ZLIB_VERSION);
	const unsigned char abc[] = "abc";
	CHECK_INT(zt.crc32(0, abc, 3), 0x352441c2);
	/* loaded once: a second load does not fill the table again */
	__typeof__(zt.crc32) keep = zt.crc32;
	zt.crc32 = NULL;
	CHECK(DYNLIB_LOAD(zt));
	CHECK(zt.crc32 == NULL);
	zt.crc32 = keep;
}

static void never_fill(void *const *syms)
{
	(void)syms;
	fills = -100;
}

TEST(a_missing_library_is_named_with_its_package)
{
	struct dynlib lib = DYNLIB_INIT("libciscope-absent.so.7", "libciscope-absent7");
	const char *const names[] = {"absent_fn"};
	fills = 0;
	CHECK(!dynlib_load(&lib, names, 1, never_fill));
	CHECK_INT(fills, 0);
	CHECK(!strncmp(lib.error, "cannot load libciscope-absent.so.7: ", 36));
	/* dlerror() names the file again: said once */
	CHECK(strstr(lib.error + 36, "libciscope-absent.so.7") == NULL);
	CHECK(strstr(lib.error, "No such file") != NULL);
	const char *tail = "; install libciscope-absent7";
	CHECK(strlen(lib.error) > strlen(tail) &&
	      !strcmp(lib.error + strlen(lib.error) - strlen(tail), tail));
	/* the answer is kept: no second try, same sentence */
	char first[sizeof(lib.error)];
	strcpy(first, lib.error);
	CHECK(!dynlib_load(&lib, names, 1, never_fill));
	CHECK_STR(lib.error, first);
}

TEST(a_missing_function_is_named)
{
	struct dynlib lib = DYNLIB_INIT("libz.so.1", "");
	const char *const names[] = {"zlibVersion", "ciscope_no_such_function"};
	fills = 0;
	CHECK(!dynlib_load(&lib, names, 2, never_fill));
	CHECK_INT(fills, 0);
	CHECK(!strncmp(lib.error, "cannot load libz.so.1: no function ciscope_no_such_function: ", 61));
	/* no package known: the message says what to look for */
	CHECK(strstr(lib.error, "; install the package that holds libz.so.1") != NULL);
}
