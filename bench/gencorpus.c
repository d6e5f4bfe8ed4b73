/* gencorpus.c - a deterministic corpus of GitHub Actions job logs for the
 * benchmark (bench/run.sh).
 *
 *   gencorpus SEED SIZE_MB OUTDIR
 *
 * writes OUTDIR/job-NNNN.txt, about SIZE_MB MiB in all: one log of ~29% of the
 * total (~300 MB for 1 GiB: the reopen-and-seek target), the rest log-uniform
 * from 4 KB up, in the shapes the runner writes (docs: real-data-and-api.md
 * 1.8): a BOM, a 28-character timestamp and a space on every record, runner
 * preamble, ##[group]/##[endgroup] steps, cargo/jest/pytest/gcc output with
 * their ANSI colours, ##[warning]/##[error] lines, multi-line records whose
 * continuation lines carry no timestamp, and a few 100-400 KB lines.
 * NEEDLE occurs a known, small number of times (printed on stdout with the
 * file count) so the search comparison has a rare literal to find.
 *
 * Same SEED and SIZE_MB give the same bytes: the generator uses its own PRNG
 * (splitmix64 seeding xoshiro256**), one stream per file, and never the clock.
 * Speed matters (1 GiB must take seconds, not minutes), so text is assembled
 * by hand into one large output buffer: no printf on the per-line path.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NEEDLE "SIGSEGV in worker Q7X9Z"
#define MIB (1024.0 * 1024.0)
#define OBUF_SIZE (4u << 20)

/* --- PRNG ------------------------------------------------------------------ */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* uniform in [0, n) */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static uint32_t range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static double unif(struct rng *r)
{
	return (double)(rnd(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int chance(struct rng *r, uint32_t per_million)
{
	return below(r, 1000000) < per_million;
}

#define PICK(r, arr) ((arr)[below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* --- output ---------------------------------------------------------------- */
static char *obuf;
static size_t olen;
static FILE *ofile;
static const char *opath;
static uint64_t log_bytes; /* bytes of the current file so far */

static void flush_out(void)
{
	if (olen && fwrite(obuf, 1, olen, ofile) != olen) {
		fprintf(stderr, "gencorpus: cannot write '%s': %s\n", opath, strerror(errno));
		exit(1);
	}
	olen = 0;
}

static void putn(const char *s, size_t n)
{
	log_bytes += n;
	while (n) {
		if (olen == OBUF_SIZE)
			flush_out();
		size_t k = OBUF_SIZE - olen < n ? OBUF_SIZE - olen : n;
		memcpy(obuf + olen, s, k);
		olen += k;
		s += k;
		n -= k;
	}
}

static void put(const char *s)
{
	putn(s, strlen(s));
}

static void putch(char c)
{
	if (olen == OBUF_SIZE)
		flush_out();
	obuf[olen++] = c;
	log_bytes++;
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

/* v with at least w digits */
static void put_u0(uint64_t v, int w)
{
	char t[24];
	int i = 24;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
		w--;
	} while (v || w > 0);
	putn(t + i, (size_t)(24 - i));
}

static void put_hex(struct rng *r, int n)
{
	static const char hx[] = "0123456789abcdef";
	uint64_t x = rnd(r);
	for (int i = 0; i < n; i++) {
		if (i % 16 == 15)
			x = rnd(r);
		putch(hx[x & 15]);
		x >>= 4;
	}
}

static void nl(void)
{
	putch('\n');
}

/* --- timestamps -------------------------------------------------------------- */
/* Time in 100 ns ticks since the epoch, as .NET's "O" format has 7 digits. */
struct clock {
	uint64_t ticks;
	uint64_t sec; /* second the prefix was made for */
	char prefix[20]; /* "2026-10-03T09:14:07." */
};

static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	/* Howard Hinnant's days_from_civil inverse */
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static void two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

static void ts(struct clock *c)
{
	uint64_t sec = c->ticks / 10000000;
	if (sec != c->sec || c->prefix[0] == 0) {
		int y;
		unsigned m, d;
		civil((int64_t)(sec / 86400), &y, &m, &d);
		unsigned s = (unsigned)(sec % 86400);
		char *p = c->prefix;
		two(p, (unsigned)y / 100);
		two(p + 2, (unsigned)y % 100);
		p[4] = '-';
		two(p + 5, m);
		p[7] = '-';
		two(p + 8, d);
		p[10] = 'T';
		two(p + 11, s / 3600);
		p[13] = ':';
		two(p + 14, s / 60 % 60);
		p[16] = ':';
		two(p + 17, s % 60);
		p[19] = '.';
		c->sec = sec;
	}
	char out[29];
	memcpy(out, c->prefix, 20);
	unsigned f = (unsigned)(c->ticks % 10000000);
	for (int i = 26; i >= 20; i--) {
		out[i] = (char)('0' + f % 10);
		f /= 10;
	}
	out[27] = 'Z';
	out[28] = ' ';
	putn(out, 29);
}

/* --- vocabulary -------------------------------------------------------------- */
static const char *const crates[] = {
	"serde", "serde_json", "tokio", "syn", "quote", "proc-macro2", "libc", "regex",
	"regex-syntax", "rand", "rand_core", "clap", "clap_derive", "anyhow", "thiserror",
	"hyper", "futures-util", "bytes", "memchr", "log", "tracing", "tracing-core", "itoa",
	"once_cell", "hashbrown", "indexmap", "smallvec", "parking_lot", "crossbeam-utils",
	"rayon", "rayon-core", "unicode-ident", "cc", "autocfg", "bitflags", "ryu", "zstd-sys",
	"aho-corasick", "getrandom", "cfg-if", "mio", "socket2", "pin-project-lite", "http",
	"url", "percent-encoding", "form_urlencoded", "idna", "time", "chrono", "num-traits"};
static const char *const modules[] = {
	"parser", "lexer", "codegen", "runtime", "storage::btree", "net::http", "util",
	"config", "cli::args", "index::chunk", "index::query", "fmt::json", "sync::mpsc",
	"cache::lru", "io::reader", "io::writer", "auth::token", "db::migrate", "plan::cost"};
static const char *const rsfiles[] = {
	"lib", "main", "parser/mod", "lexer", "codegen/emit", "runtime/task", "storage/btree",
	"net/http", "config", "cli/args", "index/chunk", "fmt/json"};
static const char *const tests[] = {
	"handles_empty_input", "roundtrip", "parses_nested_groups", "rejects_invalid_utf8",
	"large_file", "concurrent_writes", "reopen_after_crash", "seek_to_last_line",
	"unicode_widths", "timeout_is_respected", "retries_on_429", "merges_overlapping",
	"sorts_stably", "keeps_insertion_order", "escapes_control_bytes", "truncated_header",
	"zero_length_chunk", "max_depth_exceeded", "default_config", "env_overrides"};
static const char *const jsdirs[] = {
	"src/components/", "src/hooks/", "src/utils/", "src/api/", "src/store/",
	"src/pages/", "packages/core/src/", "packages/ui/src/", "src/lib/"};
static const char *const jsfiles[] = {
	"Button", "useFetch", "date", "client", "reducer", "Dashboard", "Modal", "router",
	"formatBytes", "Table", "useDebounce", "session", "i18n", "Chart", "validators"};
static const char *const jstests[] = {
	"renders without crashing", "calls onClick when clicked", "formats dates in UTC",
	"retries failed requests", "debounces input", "shows an error state",
	"matches snapshot", "handles empty lists", "sorts by column", "closes on escape",
	"paginates results", "keeps focus inside the dialog", "parses query strings"};
static const char *const cfiles[] = {
	"src/main.c", "src/parse.c", "src/lexer.c", "lib/hash.c", "lib/arena.c", "src/net.c",
	"src/io/buffer.c", "src/io/file.c", "src/util/str.c", "src/db/btree.c", "src/db/pager.c"};
static const char *const cwarn[] = {
	"unused variable 'tmp' [-Wunused-variable]",
	"comparison of integer expressions of different signedness: 'int' and 'size_t' [-Wsign-compare]",
	"'len' may be used uninitialized [-Wmaybe-uninitialized]",
	"implicit conversion loses integer precision: 'long' to 'int' [-Wshorten-64-to-32]",
	"unused parameter 'ctx' [-Wunused-parameter]"};
static const char *const pypkgs[] = {
	"numpy", "pandas", "requests", "urllib3", "certifi", "idna", "charset-normalizer",
	"pytest", "pluggy", "iniconfig", "packaging", "python-dateutil", "six", "pytz",
	"tzdata", "attrs", "hypothesis", "coverage", "pytest-cov", "mypy", "typing-extensions"};
static const char *const pytests[] = {
	"tests/test_api.py", "tests/test_models.py", "tests/unit/test_parser.py",
	"tests/unit/test_io.py", "tests/integration/test_db.py", "tests/test_cli.py"};
static const char *const projects[] = {"acme/widget", "octo-org/engine", "example/tracer",
				       "kitchen/sink", "nimbus/cloud-sdk"};
static const char *const runs_on[] = {"ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04"};

/* --- the log ----------------------------------------------------------------- */
enum kind { K_RUST, K_NODE, K_C, K_PY, K_COUNT };

struct gen {
	struct rng r;
	struct clock c;
	enum kind kind;
	const char *project;
	uint64_t target;     /* bytes wanted for this file */
	uint64_t needle_at[4];
	int n_needles, needles_done;
	int long_lines;      /* 100-400 KB lines still to place */
	uint64_t next_long;  /* offset at which to place the next one */
	int failed;          /* the job fails */
	uint64_t line_no;
};

static void tick(struct gen *g)
{
	/* mostly sub-millisecond steps, sometimes a pause of seconds */
	if (chance(&g->r, 2000))
		g->c.ticks += (uint64_t)range(&g->r, 10000000, 300000000);
	else
		g->c.ticks += (uint64_t)below(&g->r, 20000);
}

static void line(struct gen *g)
{
	tick(g);
	ts(&g->c);
	g->line_no++;
}

static void tline(struct gen *g, const char *s)
{
	line(g);
	put(s);
	nl();
}

/* continuation line of a multi-line record: no timestamp */
static void cline(struct gen *g, const char *s)
{
	g->line_no++;
	put(s);
	nl();
}

static void long_line(struct gen *g)
{
	uint32_t want = range(&g->r, 100 * 1024, 400 * 1024);
	uint64_t start = log_bytes;
	line(g);
	put("{\"hash\":\"");
	put_hex(&g->r, 20);
	put("\",\"version\":\"5.94.0\",\"time\":");
	put_u(range(&g->r, 1000, 90000));
	put(",\"modules\":[");
	uint32_t id = 0;
	while (log_bytes - start < want) {
		if (id)
			putch(',');
		put("{\"id\":");
		put_u(id++);
		put(",\"name\":\"./");
		put(PICK(&g->r, jsdirs));
		put(PICK(&g->r, jsfiles));
		put(".tsx\",\"size\":");
		put_u(range(&g->r, 80, 90000));
		put(",\"chunks\":[");
		put_u(below(&g->r, 40));
		put("],\"issuer\":\"");
		put_hex(&g->r, 8);
		put("\"}");
	}
	put("]}");
	nl();
}

static void needle_line(struct gen *g)
{
	line(g);
	put("##[error]" NEEDLE " (signal 11, core dumped) at pc=0x");
	put_hex(&g->r, 12);
	nl();
	cline(g, "Stack trace of thread 4242:");
	cline(g, "#0  0x00007f3a1c2b4e10 in memcpy () from /lib/x86_64-linux-gnu/libc.so.6");
}

/* checks between lines: needles and long lines land at planned offsets */
static void specials(struct gen *g)
{
	if (g->needles_done < g->n_needles && log_bytes >= g->needle_at[g->needles_done]) {
		needle_line(g);
		g->needles_done++;
	}
	if (g->long_lines > 0 && log_bytes >= g->next_long) {
		long_line(g);
		g->long_lines--;
		g->next_long = log_bytes + (g->target - log_bytes) / (uint64_t)(g->long_lines + 1);
	}
}

static void group_run(struct gen *g, const char *cmd, const char *const *script, int n_script)
{
	line(g);
	put("##[group]Run ");
	put(cmd);
	nl();
	for (int i = 0; i < n_script; i++) {
		line(g);
		put("\x1b[36;1m");
		put(script[i]);
		put("\x1b[0m");
		nl();
	}
	tline(g, "shell: /usr/bin/bash -e {0}");
	tline(g, "env:");
	switch (g->kind) {
	case K_RUST:
		tline(g, "  CARGO_TERM_COLOR: always");
		tline(g, "  RUST_BACKTRACE: 1");
		break;
	case K_NODE:
		tline(g, "  NODE_OPTIONS: --max-old-space-size=4096");
		tline(g, "  CI: true");
		break;
	case K_PY:
		tline(g, "  pythonLocation: /opt/hostedtoolcache/Python/3.12.7/x64");
		tline(g, "  PKG_CONFIG_PATH: /opt/hostedtoolcache/Python/3.12.7/x64/lib/pkgconfig");
		tline(g, "  LD_LIBRARY_PATH: /opt/hostedtoolcache/Python/3.12.7/x64/lib");
		break;
	default:
		tline(g, "  CFLAGS: -O2 -g -Wall -Wextra");
		break;
	}
	tline(g, "##[endgroup]");
}

static void error_record(struct gen *g, const char *msg, int n_cont)
{
	line(g);
	put("##[error]");
	put(msg);
	nl();
	for (int i = 0; i < n_cont; i++) {
		g->line_no++;
		put("    at ");
		put(PICK(&g->r, modules));
		put(" (");
		put(PICK(&g->r, cfiles));
		putch(':');
		put_u(range(&g->r, 1, 2400));
		put(")\n");
	}
}

static void warning_line(struct gen *g)
{
	line(g);
	put("##[warning]");
	switch (below(&g->r, 3)) {
	case 0:
		put("Node.js 16 actions are deprecated. Please update the following actions to use Node.js 20: actions/cache@v3");
		break;
	case 1:
		put("The `set-output` command is deprecated and will be disabled soon.");
		break;
	default:
		put("Cache not found for input keys: ");
		put(PICK(&g->r, runs_on));
		put("-cargo-");
		put_hex(&g->r, 64);
		break;
	}
	nl();
}

/* --- step bodies: one output line each --------------------------------------- */
static void rust_line(struct gen *g, int phase)
{
	line(g);
	if (phase == 0) {
		uint32_t w = below(&g->r, 100);
		if (w < 85) {
			put("\x1b[1m\x1b[92m   Compiling\x1b[0m ");
			put(PICK(&g->r, crates));
			put(" v");
			put_u(below(&g->r, 3));
			putch('.');
			put_u(below(&g->r, 40));
			putch('.');
			put_u(below(&g->r, 220));
		} else if (w < 95) {
			put("\x1b[1m\x1b[33mwarning\x1b[0m\x1b[1m: unused variable: `");
			put(PICK(&g->r, tests));
			put("`\x1b[0m");
		} else {
			put("\x1b[0m\x1b[1m\x1b[38;5;12m   --> \x1b[0m\x1b[0msrc/");
			put(PICK(&g->r, rsfiles));
			put(".rs:");
			put_u(range(&g->r, 1, 3000));
			putch(':');
			put_u(range(&g->r, 1, 80));
		}
	} else {
		uint32_t w = below(&g->r, 1000);
		put("test ");
		put(PICK(&g->r, modules));
		put("::tests::");
		put(PICK(&g->r, tests));
		putch('_');
		put_u(below(&g->r, 500));
		if (w < 990 || !g->failed)
			put(" ... \x1b[32mok\x1b[0m");
		else if (w < 995)
			put(" ... \x1b[33mignored\x1b[0m");
		else
			put(" ... \x1b[31mFAILED\x1b[0m");
	}
	nl();
}

static void node_line(struct gen *g, int phase)
{
	line(g);
	if (phase == 0) {
		put("npm \x1b[33mWARN\x1b[39m \x1b[94mdeprecated\x1b[39m ");
		put(PICK(&g->r, jsfiles));
		put("@");
		put_u(below(&g->r, 9));
		put(".");
		put_u(below(&g->r, 30));
		put(".0: This package is no longer supported.");
		nl();
		return;
	}
	uint32_t w = below(&g->r, 100);
	if (w < 8) {
		int fail = g->failed && below(&g->r, 20) == 0;
		put(fail ? "\x1b[0m\x1b[7m\x1b[1m\x1b[31m FAIL \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2m"
			 : "\x1b[0m\x1b[7m\x1b[1m\x1b[32m PASS \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2m");
		put(PICK(&g->r, jsdirs));
		put("\x1b[22m\x1b[1m");
		put(PICK(&g->r, jsfiles));
		put(".test.tsx\x1b[22m (\x1b[0m\x1b[1m\x1b[41m");
		put_u(below(&g->r, 9));
		putch('.');
		put_u0(below(&g->r, 1000), 3);
		put(" s\x1b[49m\x1b[0m)");
		nl();
		if (fail) {
			tline(g, "\x1b[1m\x1b[31m  \x1b[1m\xe2\x97\x8f \x1b[22m\x1b[1m\x1b[39m\x1b[22m");
			line(g);
			put("    expect(received).toBe(expected) // Object.is equality");
			nl();
			line(g);
			put("    Expected: \x1b[32m");
			put_u(below(&g->r, 100));
			put("\x1b[39m");
			nl();
			line(g);
			put("    Received: \x1b[31m");
			put_u(below(&g->r, 100));
			put("\x1b[39m");
			nl();
		}
	} else {
		put("      \x1b[32m\xe2\x9c\x93\x1b[39m \x1b[2m");
		put(PICK(&g->r, jstests));
		put(" (");
		put_u(below(&g->r, 400));
		put(" ms)\x1b[22m");
		nl();
	}
}

static void c_line(struct gen *g, int phase)
{
	line(g);
	const char *f = PICK(&g->r, cfiles);
	if (phase == 0 || below(&g->r, 4)) {
		if (below(&g->r, 30) == 0) {
			put(f);
			putch(':');
			put_u(range(&g->r, 1, 4000));
			putch(':');
			put_u(range(&g->r, 1, 80));
			put(": \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[K");
			put(PICK(&g->r, cwarn));
		} else {
			put("gcc -std=c11 -O2 -g -Wall -Wextra -Iinclude -Ibuild/gen -DNDEBUG -c -o build/");
			put(f);
			put(".o ");
			put(f);
		}
	} else {
		put("[ ");
		put_u(below(&g->r, 100));
		put("%] \x1b[32mBuilding C object CMakeFiles/core.dir/");
		put(f);
		put(".o\x1b[0m");
	}
	nl();
}

static void py_line(struct gen *g, int phase)
{
	line(g);
	if (phase == 0) {
		const char *p = PICK(&g->r, pypkgs);
		if (below(&g->r, 2)) {
			put("Collecting ");
			put(p);
			put("==");
			put_u(below(&g->r, 3));
			putch('.');
			put_u(below(&g->r, 30));
			put(".");
			put_u(below(&g->r, 10));
		} else {
			put("  Downloading ");
			put(p);
			put("-1.");
			put_u(below(&g->r, 30));
			put(".0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (");
			put_u(below(&g->r, 30));
			putch('.');
			put_u(below(&g->r, 10));
			put(" MB)");
		}
		nl();
		return;
	}
	put(PICK(&g->r, pytests));
	put("::test_");
	put(PICK(&g->r, tests));
	putch('[');
	put_u(below(&g->r, 64));
	put("] ");
	if (!g->failed || below(&g->r, 400))
		put("\x1b[32mPASSED\x1b[0m");
	else
		put("\x1b[31mFAILED\x1b[0m");
	put("\x1b[32m                                  [ ");
	put_u(below(&g->r, 100));
	put("%]\x1b[0m");
	nl();
}

static void body_line(struct gen *g, int phase)
{
	if (chance(&g->r, 800)) {
		warning_line(g);
		return;
	}
	switch (g->kind) {
	case K_RUST: rust_line(g, phase); break;
	case K_NODE: node_line(g, phase); break;
	case K_C: c_line(g, phase); break;
	default: py_line(g, phase); break;
	}
}

static const char *const rust_build[] = {"cargo build --workspace --all-targets --locked"};
static const char *const rust_test[] = {"cargo test --workspace --locked -- --test-threads=2"};
static const char *const node_build[] = {"npm ci", "npm run build --if-present"};
static const char *const node_test[] = {"npx jest --ci --colors --maxWorkers=2"};
static const char *const c_build[] = {"cmake -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo",
				     "cmake --build build -j2"};
static const char *const c_test[] = {"ctest --test-dir build --output-on-failure"};
static const char *const py_build[] = {"python -m pip install --upgrade pip",
				      "pip install -e '.[test]'"};
static const char *const py_test[] = {"pytest -n 2 --color=yes -v"};

/* A run step: header group, then body lines until n lines or the file's
 * target size is reached. */
static void step(struct gen *g, int phase, uint64_t n, uint64_t stop_at)
{
	const char *const *sc;
	int ns;
	switch (g->kind) {
	case K_RUST: sc = phase ? rust_test : rust_build, ns = 1; break;
	case K_NODE: sc = phase ? node_test : node_build, ns = phase ? 1 : 2; break;
	case K_C: sc = phase ? c_test : c_build, ns = phase ? 1 : 2; break;
	default: sc = phase ? py_test : py_build, ns = phase ? 1 : 2; break;
	}
	group_run(g, sc[0], sc, ns);
	for (uint64_t i = 0; i < n && log_bytes < stop_at; i++) {
		specials(g);
		body_line(g, phase);
	}
	if (g->failed && phase && below(&g->r, 3) == 0)
		error_record(g, "Test failed: assertion `left == right` failed%0A  left: 3%0A right: 4",
			     (int)range(&g->r, 1, 5));
}

static void preamble(struct gen *g, uint32_t job_no)
{
	line(g);
	put("Current runner version: '2.3");
	put_u(range(&g->r, 17, 21));
	put(".0'");
	nl();
	line(g);
	put("Runner name: 'GitHub Actions ");
	put_u(1000000000ull + rnd(&g->r) % 100000000);
	put("'");
	nl();
	tline(g, "Runner group name: 'GitHub Actions'");
	line(g);
	put("Machine name: 'fv-az");
	put_u(range(&g->r, 100, 2000));
	putch('-');
	put_u(range(&g->r, 100, 999));
	put("'");
	nl();
	tline(g, "##[group]Operating System");
	tline(g, "Ubuntu");
	tline(g, "24.04.1");
	tline(g, "LTS");
	tline(g, "##[endgroup]");
	tline(g, "##[group]Runner Image");
	tline(g, "Image: ubuntu-24.04");
	tline(g, "Version: 20260928.1.0");
	tline(g, "Included Software: https://github.com/actions/runner-images/blob/ubuntu24/20260928.1/images/ubuntu/Ubuntu2404-Readme.md");
	tline(g, "Image Release: https://github.com/actions/runner-images/releases/tag/ubuntu24%2F20260928.1");
	tline(g, "##[endgroup]");
	tline(g, "##[group]Runner Image Provisioner");
	tline(g, "2.0.384.1");
	tline(g, "##[endgroup]");
	tline(g, "##[group]GITHUB_TOKEN Permissions");
	tline(g, "Actions: read");
	tline(g, "Contents: read");
	tline(g, "Metadata: read");
	tline(g, "Packages: read");
	tline(g, "##[endgroup]");
	tline(g, "Secret source: Actions");
	tline(g, "Prepare workflow directory");
	tline(g, "Prepare all required actions");
	tline(g, "Getting action download info");
	line(g);
	put("Download action repository 'actions/checkout@v4' (SHA:");
	put_hex(&g->r, 40);
	put(")");
	nl();
	line(g);
	put("Complete job name: test (");
	put(PICK(&g->r, runs_on));
	put(", ");
	put_u(job_no);
	put(")");
	nl();
	tline(g, "##[group]Run actions/checkout@v4");
	tline(g, "with:");
	line(g);
	put("  repository: ");
	put(g->project);
	nl();
	tline(g, "  token: ***");
	tline(g, "  ssh-strict: true");
	tline(g, "  persist-credentials: true");
	tline(g, "  clean: true");
	tline(g, "  fetch-depth: 1");
	tline(g, "##[endgroup]");
	line(g);
	put("Syncing repository: ");
	put(g->project);
	nl();
	tline(g, "##[group]Getting Git version info");
	tline(g, "[command]/usr/bin/git version");
	tline(g, "git version 2.46.2");
	tline(g, "##[endgroup]");
	line(g);
	put("[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +");
	put_hex(&g->r, 40);
	put(":refs/remotes/origin/main");
	nl();
	line(g);
	put("HEAD is now at ");
	put_hex(&g->r, 7);
	put(" Merge pull request #");
	put_u(range(&g->r, 100, 9999));
	put(" from contributor/fix-flaky-test");
	nl();
	/* a uses: step whose multi-line input gives timestamp-less lines */
	tline(g, "##[group]Run actions/github-script@v7");
	tline(g, "with:");
	tline(g, "  script: const { owner, repo } = context.repo");
	cline(g, "  const pr = context.payload.pull_request");
	cline(g, "  core.info(`checking ${owner}/${repo}#${pr ? pr.number : 'push'}`)");
	cline(g, "");
	tline(g, "  github-token: ***");
	tline(g, "  debug: false");
	tline(g, "##[endgroup]");
}

static void epilogue(struct gen *g)
{
	if (g->failed) {
		line(g);
		put("##[error]Process completed with exit code ");
		put_u(g->kind == K_RUST ? 101 : 1);
		put(".");
		nl();
	}
	tline(g, "Post job cleanup.");
	tline(g, "[command]/usr/bin/git version");
	tline(g, "git version 2.46.2");
	tline(g, "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand");
	tline(g, "Cleaning up orphan processes");
}

static void write_log(const char *dir, uint32_t idx, uint64_t seed, uint64_t target,
		      int n_needles, int long_lines)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/job-%04u.txt", dir, idx);
	ofile = fopen(path, "wb");
	if (!ofile) {
		fprintf(stderr, "gencorpus: cannot create '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	opath = path;
	log_bytes = 0;
	struct gen g;
	memset(&g, 0, sizeof(g));
	rng_seed(&g.r, seed, idx + 1);
	g.kind = (enum kind)below(&g.r, K_COUNT);
	g.project = PICK(&g.r, projects);
	g.target = target;
	g.failed = below(&g.r, 4) == 0;
	/* 2026-10-03T09:14:07.1234567Z, then a few minutes per job */
	g.c.ticks = 17910188470000000ull + 1234567ull + (uint64_t)idx * 1800000000ull +
		    (uint64_t)below(&g.r, 1000000000);
	g.n_needles = n_needles;
	for (int i = 0; i < n_needles; i++)
		g.needle_at[i] = target * (uint64_t)(2 * i + 1) / (uint64_t)(2 * n_needles);
	g.long_lines = long_lines;
	g.next_long = long_lines ? target / (uint64_t)(long_lines + 1) : 0;

	putn("\xef\xbb\xbf", 3); /* the runner's StreamWriter writes a BOM */
	preamble(&g, idx);
	/* the end is planned so the file lands close to its target */
	uint64_t stop_at = target > 1024 ? target - 1024 : target;
	int phase = 0;
	while (log_bytes < stop_at) {
		uint64_t n = phase ? range(&g.r, 200, 20000) : range(&g.r, 20, 2000);
		step(&g, phase, n, stop_at);
		phase = below(&g.r, 3) != 0;
		specials(&g);
	}
	while (g.needles_done < g.n_needles) {
		needle_line(&g);
		g.needles_done++;
	}
	epilogue(&g);
	flush_out();
	if (fclose(ofile) != 0) {
		fprintf(stderr, "gencorpus: cannot write '%s': %s\n", path, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: gencorpus SEED SIZE_MB OUTDIR\n");
		return 2;
	}
	char *end;
	uint64_t seed = strtoull(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end) {
		fprintf(stderr, "gencorpus: SEED '%s' is not a number\n", argv[1]);
		return 2;
	}
	double size_mb = strtod(argv[2], &end);
	if (*argv[2] == '\0' || *end || size_mb < 1 || size_mb > 1e6) {
		fprintf(stderr, "gencorpus: SIZE_MB '%s' must be a number from 1 up\n", argv[2]);
		return 2;
	}
	const char *dir = argv[3];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gencorpus: cannot create '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	obuf = malloc(OBUF_SIZE);
	if (!obuf) {
		fprintf(stderr, "gencorpus: out of memory\n");
		return 1;
	}
	uint64_t total = (uint64_t)(size_mb * MIB);
	struct rng plan;
	rng_seed(&plan, seed, 0);

	/* Plan the sizes first: the largest file, then log-uniform sizes from 4 KB
	 * to max_other until the total is reached. */
	uint64_t largest = total * 29 / 100;
	uint64_t max_other = total / 20 < (40u << 20) ? total / 20 : (40u << 20);
	if (max_other < 8192)
		max_other = 8192;
	uint64_t *sizes = NULL;
	size_t n = 0, cap = 0;
	uint64_t sum = largest;
	while (sum + 4096 <= total) {
		double lo = 4096.0, hi = (double)max_other;
		uint64_t s = (uint64_t)(lo * exp(unif(&plan) * log(hi / lo)));
		if (s > total - sum)
			s = total - sum;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			sizes = realloc(sizes, cap * sizeof(*sizes));
			if (!sizes) {
				fprintf(stderr, "gencorpus: out of memory\n");
				return 1;
			}
		}
		sizes[n++] = s;
		sum += s;
	}
	size_t n_files = n + 1;
	uint32_t big = below(&plan, (uint32_t)n_files); /* index of the largest */
	/* needles: two in the largest, one in a small file, one in a middle one */
	uint32_t small_i = UINT32_MAX, mid_i = UINT32_MAX;
	for (size_t i = 0, k = 0; i < n_files; i++) {
		if (i == big)
			continue;
		uint64_t s = sizes[k++];
		if (small_i == UINT32_MAX && s < 64 * 1024)
			small_i = (uint32_t)i;
		if (mid_i == UINT32_MAX && s > max_other / 4)
			mid_i = (uint32_t)i;
	}
	int needles = 0;
	for (size_t i = 0, k = 0; i < n_files; i++) {
		uint64_t s = i == big ? largest : sizes[k++];
		int nn = i == big ? 2 : (i == small_i || i == mid_i) ? 1 : 0;
		/* a few 100-400 KB lines: three in the largest, some in big ones */
		int ll = i == big ? 3 : (s > (4u << 20) && below(&plan, 100) < 15) ? 1 : 0;
		write_log(dir, (uint32_t)i, seed, s, nn, ll);
		needles += nn;
	}
	printf("files=%zu needle_lines=%d needle=%s\n", n_files, needles, NEEDLE);
	free(sizes);
	free(obuf);
	return 0;
}
