/* searchstat.c - what one search costs, from inside the process
 * (bench/shapes.sh).
 *
 *   searchstat DB QUERY [FIRST]
 *
 * opens the index and runs the search of `ciscope search -s -L 0 QUERY`
 * (search_logs(), literal, smart case); on stdout one line of key=value:
 *   hits=<n> ms=<open to last hit> first_ms=<open to hit number FIRST, or to
 *   the end when there are fewer; FIRST defaults to 40, the TUI's first page>
 *   cpu_ms=<user+system CPU> read=<chunks read> skipped=<chunks passed over>
 * The clocks start before store_open(); a process per measurement, so only
 * the kernel's page cache survives between runs. CPU time is shown because
 * wall time on a shared machine also counts the wait for a core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "core/search.h"
#include "core/store.h"
#include "core/util.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
	       (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

struct count {
	long n, first;
	double t0, first_ms;
};

static int on_hit(void *ctx, const struct search_hit *h)
{
	struct count *c = ctx;
	(void)h;
	if (++c->n == c->first)
		c->first_ms = now_ms() - c->t0;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: searchstat DB QUERY [FIRST]\n");
		return 2;
	}
	struct cs_err err;
	err_clear(&err);
	struct count c = {.first = argc > 3 ? atol(argv[3]) : 40, .t0 = now_ms()};
	struct store *st = store_open(argv[1], STORE_RO_EXISTING, &err);
	if (!st) {
		fprintf(stderr, "searchstat: %s\n", err.msg);
		return 1;
	}
	struct matcher *m = matcher_new(argv[2], 0, &err);
	long n = 0;
	if (!m || search_logs(st, m, 0, on_hit, &c, &n, NULL, &err) < 0) {
		fprintf(stderr, "searchstat: %s\n", err.msg);
		return 1;
	}
	double ms = now_ms() - c.t0;
	uint64_t read, skipped;
	matcher_stats(m, &read, &skipped);
	printf("hits=%ld ms=%.1f first_ms=%.1f cpu_ms=%.1f read=%llu skipped=%llu\n", n, ms,
	       c.n >= c.first ? c.first_ms : ms, cpu_ms(), (unsigned long long)read,
	       (unsigned long long)skipped);
	matcher_free(m);
	store_close(st);
	return 0;
}
