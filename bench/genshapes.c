/* genshapes.c - the other shapes of job log the benchmark measures
 * (bench/shapes.sh), next to bench/gencorpus.c's usual one.
 *
 *   genshapes SHAPE SEED SIZE_MB OUTDIR
 *
 * SHAPE is one of
 *   entropy  a dozen large logs whose lines nearly all carry high-entropy
 *            tokens: 8-hex request ids, 40-hex commit shas, uuids, base64
 *            and sha256 digests, with "warning"/"failed" words here and there;
 *   small    many small logs (about 10 KB each, SIZE_MB * 100 of them),
 *            ordinary build and test output with a few ids;
 *   warn     a dozen large logs of compiler output, a warning on every other
 *            line;
 *   huge     one log of SIZE_MB (bench/shapes.sh: BENCH_HUGE_MB, 1 GiB), the
 *            ordinary build and test output of small's logs with groups
 *            (steps) as rare as in the usual corpus.
 * Every line carries a GitHub timestamp. Each shape plants the same rare
 * tokens (PLANT_*) a known number of times, printed on stdout, so the
 * search rows have rare tokens to find; the phrase rows use text that the
 * shape repeats on most lines.
 *
 * Same arguments give the same bytes (own PRNG, no clock).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PLANT_SHA "9f3c2a7e41b0d6c58e2f1a9b7d4c3e6f0a1b2c3d"
#define PLANT_ID "c0ffee42"
#define PLANT_UUID "5b8e0d2a-7c41-4f9e-b3a6-1d2c3e4f5a6b"
#define PLANT_TEST "test_import_rejects_symlink_loop"
#define PLANTS 7 /* of each, per corpus */

static uint64_t st[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(void)
{
	uint64_t out = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return out;
}

static void seed(uint64_t x)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		st[i] = z ^ (z >> 31);
	}
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

#define PICK(a) ((a)[below((uint32_t)(sizeof(a) / sizeof((a)[0])))])

static char *out;
static size_t olen, ocap;

static void putn(const char *s, size_t n)
{
	if (olen + n > ocap) {
		ocap = (olen + n) * 2;
		if (!(out = realloc(out, ocap)))
			exit(1);
	}
	memcpy(out + olen, s, n);
	olen += n;
}

static void put(const char *s)
{
	putn(s, strlen(s));
}

static void put_u(uint64_t v)
{
	char t[24];
	int i = 24;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	putn(t + i, (size_t)(24 - i));
}

static void hex(int n)
{
	static const char h[] = "0123456789abcdef";
	char t[64];
	uint64_t w = 0;
	for (int i = 0; i < n; i++) {
		if (i % 16 == 0)
			w = rnd();
		t[i] = h[w & 15];
		w >>= 4;
	}
	putn(t, (size_t)n);
}

static void b64(int n)
{
	static const char b[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char t[96];
	uint64_t w = 0;
	for (int i = 0; i < n; i++) {
		if (i % 10 == 0)
			w = rnd();
		t[i] = b[w & 63];
		w >>= 6;
	}
	putn(t, (size_t)n);
}

static void uuid(void)
{
	hex(8), put("-"), hex(4), put("-4"), hex(3), put("-a"), hex(3), put("-"), hex(12);
}

static uint64_t clock_ms; /* of the log, from 2026-10-01T00:00:00Z */

static void stamp(void)
{
	clock_ms += below(40);
	uint64_t s = clock_ms / 1000, ms = clock_ms % 1000;
	char t[40];
	snprintf(t, sizeof(t), "2026-10-%02u T%02u:%02u:%02u.%03u0000Z ", (unsigned)(1 + s / 86400 % 28),
		 (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), (unsigned)(s % 60), (unsigned)ms);
	/* no space before the T: snprintf widths above keep every field fixed */
	memmove(t + 10, t + 11, strlen(t + 11) + 1);
	put(t);
}

static const char *const words[] = {"build", "resolve", "fetch", "compile", "link", "upload",
				    "cache", "restore", "verify", "deploy", "index", "shard"};
static const char *const paths[] = {"src/core/store.c", "src/net/http.c", "lib/parse/json.c",
				    "src/ui/pager.c", "vendor/zstd/lib/compress.c",
				    "src/import/zip.c", "tests/unit/t_log.c"};
static const char *const warns[] = {
	"unused variable 'rc' [-Wunused-variable]",
	"comparison of integer expressions of different signedness [-Wsign-compare]",
	"implicit conversion loses integer precision [-Wshorten-64-to-32]",
	"'strncpy' output may be truncated [-Wstringop-truncation]",
	"this statement may fall through [-Wimplicit-fallthrough=]",
	"unused parameter 'ctx' [-Wunused-parameter]"};

/* one line of the shape, terminator included */
static void line_entropy(void)
{
	stamp();
	switch (below(8)) {
	case 0:
		put("[req "), hex(8), put("] GET /api/v1/builds/"), uuid(), put(" status=200 took "),
			put_u(below(900)), put("ms\n");
		break;
	case 1:
		put("commit "), hex(40), put(" ("), hex(8), put(") "), put(PICK(words)), put(" ok\n");
		break;
	case 2:
		put("Digest: sha256:"), hex(64), put(" layer "), hex(12), put(" Pull complete\n");
		break;
	case 3:
		put("artifact id="), hex(8), put(" integrity=sha512-"), b64(86), put("==\n");
		break;
	case 4:
		put("##[warning]retry "), put_u(below(5)), put(" of job "), hex(8), put(": "),
			put(PICK(words)), put(" failed, upstream "), hex(40), put("\n");
		break;
	case 5:
		put("trace_id="), hex(32), put(" span_id="), hex(16), put(" "), put(PICK(words)),
			put(" finished\n");
		break;
	case 6:
		put("test_"), put(PICK(words)), put("_"), put(PICK(words)), put("["), hex(8),
			put("] PASSED in "), put_u(below(90)), put(".0"), put_u(below(9)), put("s\n");
		break;
	default:
		put("Resolved "), uuid(), put(" -> "), hex(40), put(" warning: cache miss, failed lookup "),
			hex(8), put("\n");
	}
}

/* huge: a group (a step) every 5,000 lines or so, as in the usual corpus,
 * not every 10 (a million steps in one log) */
static int rare_groups;

static void line_plain(void)
{
	stamp();
	unsigned k = below(10);
	if (k == 0 && rare_groups && below(500))
		k = 9;
	switch (k) {
	case 0:
		put("##[group]Run "), put(PICK(words)), put(" --profile release\n");
		break;
	case 1:
		put("   Compiling "), put(PICK(words)), put("-"), put(PICK(words)), put(" v0."), put_u(below(30)),
			put(".") , put_u(below(10)), put("\n");
		break;
	case 2:
		put("test "), put(PICK(words)), put("::"), put(PICK(words)), put("_works ... ok\n");
		break;
	case 3:
		put("HEAD is now at "), hex(7), put(" Merge pull request #"), put_u(below(9000)), put("\n");
		break;
	case 4:
		put("Downloading "), put(PICK(words)), put(" ("), put_u(below(900)), put(" kB)\n");
		break;
	default:
		put(PICK(paths)), put(": "), put(PICK(words)), put(" step "), put_u(below(100)),
			put(" done in "), put_u(below(1000)), put(" ms\n");
	}
}

static void line_warn(void)
{
	stamp();
	if (below(2)) {
		put(PICK(paths)), put(":"), put_u(1 + below(3000)), put(":"), put_u(1 + below(80)),
			put(": warning: "), put(PICK(warns)), put("\n");
	} else if (below(4)) {
		put("  "), put_u(1 + below(3000)), put(" |     int rc = "), put(PICK(words)), put("_"),
			put(PICK(words)), put("(ctx, "), put_u(below(64)), put(");\n");
	} else {
		put("cc -O2 -Wall -Wextra -c "), put(PICK(paths)), put(" -o build/"), put(PICK(words)),
			put(".o\n");
	}
}

static void plant(int which)
{
	stamp();
	switch (which) {
	case 0: put("checking out "), put(PICK(words)), put(" at "), put(PLANT_SHA), put("\n"); break;
	case 1: put("[req "), put(PLANT_ID), put("] POST /api/v1/retry status=503\n"); break;
	case 2: put("job uuid "), put(PLANT_UUID), put(" reassigned\n"); break;
	default: put("FAILED tests/test_import.py::"), put(PLANT_TEST), put(" - OSError: loop\n");
	}
}

static void write_file(const char *dir, unsigned n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/job-%05u.txt", dir, n);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(out, 1, olen, f) != olen || fclose(f)) {
		fprintf(stderr, "genshapes: cannot write '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	olen = 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: genshapes entropy|small|warn|huge SEED SIZE_MB OUTDIR\n");
		return 2;
	}
	const char *shape = argv[1], *dir = argv[4];
	uint64_t total = strtoull(argv[3], NULL, 10) << 20;
	void (*line)(void);
	uint64_t per_file;
	if (!strcmp(shape, "entropy"))
		line = line_entropy, per_file = total / 12;
	else if (!strcmp(shape, "small"))
		line = line_plain, per_file = 10240;
	else if (!strcmp(shape, "warn"))
		line = line_warn, per_file = total / 12;
	else if (!strcmp(shape, "huge"))
		line = line_plain, per_file = total, rare_groups = 1;
	else {
		fprintf(stderr, "genshapes: unknown shape '%s'\n", shape);
		return 2;
	}
	seed(strtoull(argv[2], NULL, 10) ^ (uint64_t)shape[0] << 56);
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "genshapes: cannot create '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	unsigned files = (unsigned)((total + per_file - 1) / per_file);
	/* where the plants go: file and a line-count trigger per plant */
	unsigned pfile[4 * PLANTS];
	for (int i = 0; i < 4 * PLANTS; i++)
		pfile[i] = below(files);
	uint64_t lines = 0, bytes = 0;
	for (unsigned n = 0; n < files; n++) {
		clock_ms = (uint64_t)below(86400) * 1000;
		/* (one log: its size exactly; else +-1/8 around per_file) */
		uint64_t want = files == 1 ? per_file
					   : per_file - per_file / 8 + below((uint32_t)(per_file / 4 + 1));
		int todo[4 * PLANTS], ntodo = 0;
		for (int i = 0; i < 4 * PLANTS; i++)
			if (pfile[i] == n)
				todo[ntodo++] = i / PLANTS;
		/* one log: the plants at offsets spread over all of it (ats[]
		 * largest first, the next one last), not all in its first lines */
		uint64_t ats[4 * PLANTS];
		for (int i = 0; files == 1 && i < ntodo; i++) {
			uint64_t a = (uint64_t)below(1u << 30) * want >> 30;
			int j = i;
			for (; j > 0 && ats[j - 1] < a; j--)
				ats[j] = ats[j - 1];
			ats[j] = a;
		}
		while (olen < want) {
			if (ntodo && (files == 1 ? olen >= ats[ntodo - 1] : below(200) == 0))
				plant(todo[--ntodo]);
			else
				line();
			lines++;
		}
		while (ntodo)
			plant(todo[--ntodo]), lines++;
		bytes += olen;
		write_file(dir, n);
	}
	printf("shape=%s files=%u bytes=%llu lines=%llu plants=%d\n", shape, files,
	       (unsigned long long)bytes, (unsigned long long)lines, PLANTS);
	return 0;
}
