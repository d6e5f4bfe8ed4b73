/* test_main.c - runs the TEST()s linked into one unit-test program. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

struct t_entry {
	const char *name;
	test_fn fn;
};

static struct t_entry tests[512];
static int n_tests;
static int cur_failed;
static char tmpdir[4096];

void t_register(const char *name, test_fn fn)
{
	if (n_tests < (int)(sizeof(tests) / sizeof(tests[0])))
		tests[n_tests++] = (struct t_entry){name, fn};
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	cur_failed = 1;
}

static void rm_tmpdir(void)
{
	if (!tmpdir[0] || getenv("CISCOPE_KEEP_TMP"))
		return;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

const char *t_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/ciscope-test-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(rm_tmpdir);
	}
	return tmpdir;
}

const char *t_fixture(const char *rel)
{
	static char path[4096];
	const char *base = getenv("FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", base ? base : "tests/fixtures", rel);
	return path;
}

const char *t_write_file(const char *name, const void *data, size_t n)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return path;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *prog = strrchr(argv[0], '/');
	prog = prog ? prog + 1 : argv[0];

	for (int i = 0; i < n_tests; i++) {
		if (argc > 1) {
			int want = 0;
			for (int a = 1; a < argc; a++)
				if (strcmp(argv[a], tests[i].name) == 0)
					want = 1;
			if (!want)
				continue;
		}
		cur_failed = 0;
		tests[i].fn();
		fflush(stdout);
		printf("%s %s/%s\n", cur_failed ? "FAIL" : "ok  ", prog, tests[i].name);
		if (cur_failed)
			failed++;
		else
			passed++;
	}
	printf("%s: %d passed, %d failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}
