/* t_fingerprint.c - the normaliser and the fingerprint of a finding. */
#include <stdlib.h>
#include <string.h>

#include "core/fingerprint.h"
#include "core/util.h"
#include "test.h"

static const char *norm(const char *s)
{
	static struct buf b;
	buf_reset(&b);
	fp_normalise(s, strlen(s), &b);
	return buf_cstr(&b);
}

static void fp1(const char *cat, const char *key, char out[FP_HEX_LEN + 1])
{
	const char *keys[1] = {key};
	size_t lens[1] = {strlen(key)};
	fp_fingerprint(cat, keys, lens, 1, out);
}

TEST(normaliser_replaces_what_varies)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		/* timestamps, dates, times of day */
		{"at 2024-05-01T10:48:36.8101331Z done", "at <TS> done"},
		{"Finished at: 2022-04-04T12:28:14+02:00", "Finished at: <TS>"},
		{"on 2024-05-01 at 10:48:36.123", "on <TS> at <TS>"},
		/* ids */
		{"run 123e4567-e89b-12d3-a456-426614174000 failed", "run <UUID> failed"},
		{"pc=0x7ffd5c3a in main", "pc=<HEX> in main"},
		{"\t/usr/lib/go/src/testing/testing.go:1389 +0x24e", "/usr/lib/go/src/testing/testing.go:<N> +<HEX>"},
		{"checkout 4dd7aca0ed1e97e760de536c13d3b5eb99936e9b", "checkout <HASH>"},
		{"sha256:df9b9388f04ad6279a7410b85cedfdcb2208c0a003da7ab5613af71079148139", "sha256:<HASH>"},
		{"connect to 10.1.2.3:8080 refused", "connect to <IP> refused"},
		{"token aB3dE5fG7hJ9kL1mN3pQ5rS7", "token <ID>"},
		/* paths */
		{"/tmp/pytest-of-runner/x.py:12: boom", "<TMP>:<N>: boom"},
		{"/home/runner/work/_temp/dab57b45-c809.sh: line 1: 2723 Killed", "<TMP>: line <N>: <N> Killed"},
		{"C:\\Users\\runneradmin\\AppData\\Local\\Temp\\tmp1.txt missing", "<TMP> missing"},
		{"open tmpa8f3k2_x9 failed", "open <TMP> failed"},
		{"/home/runner/work/orrery/orrery/engine-rs/src/a.rs", "<WS>/engine-rs/src/a.rs"},
		{"/__w/pytorch/pytorch/torch/x.cpp:128:26: error", "<WS>/torch/x.cpp:<N>:<N>: error"},
		{"D:\\a\\proj\\proj\\src\\x.cs(12,5)", "<WS>/src\\x.cs(<N>,<N>)"},
		/* durations and numbers */
		{"--- FAIL: TestX (0.00s)", "--- FAIL: TestX (<DUR>)"},
		{"took 1m 12s and 41 ms", "took <DUR> and <DUR>"},
		{"elapsed 3h2m", "elapsed <DUR>"},
		{"|d|=1.216e-12 > tol 1.169e-12 at step 607", "|d|=<N> > tol <N> at step <N>"},
		{"src/a.rs:88:17", "src/a.rs:<N>:<N>"},
		{"Killed process 4242 (cc1plus)", "Killed process <N> (cc1plus)"},
		/* numbers inside words stay: they name things */
		{"error[E0308]: expected `f64`, found `f32` in utf8", "error[E0308]: expected `f64`, found `f32` in utf8"},
		{"python3.10 x86_64 sha256", "python3.<N> x86_64 sha256"},
		/* blanks */
		{"  a \t  b   ", "a b"},
		{"", ""},
		{"deadbeef", "deadbeef"}, /* letters only: a word, not a hash */
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(norm(t[i].in), t[i].out))
			t_fail(__FILE__, __LINE__, "'%s' -> '%s', expected '%s'", t[i].in, norm(t[i].in),
			       t[i].out);
}

TEST(normaliser_keeps_bytes_it_does_not_know)
{
	/* invalid UTF-8, NUL and control bytes pass through; multi-byte text too */
	const char in[] = "caf\xc3\xa9 \xff\xfe x\x01y";
	struct buf b = BUF_INIT;
	fp_normalise(in, sizeof(in) - 1, &b);
	CHECK_INT(b.len, sizeof(in) - 1);
	CHECK(memcmp(b.data, in, b.len) == 0);
	buf_reset(&b);
	const char nul[] = "a\0b 12";
	fp_normalise(nul, sizeof(nul) - 1, &b);
	CHECK_INT(b.len, 7);
	CHECK(memcmp(b.data, "a\0b <N>", 7) == 0);
	buf_release(&b);
}

TEST(fingerprints_ignore_what_varies_between_runs)
{
	char a[FP_HEX_LEN + 1], b[FP_HEX_LEN + 1], c[FP_HEX_LEN + 1];
	/* the same compile error a few lines further down, another day */
	fp1("compile", "src/main.c:12:5: error: expected ';' before '}' token", a);
	fp1("compile", "src/main.c:14:9: error: expected ';' before '}' token", b);
	CHECK_STR(a, b);
	/* an OOM kill in another temp script with another pid */
	fp1("oom", "/home/runner/work/_temp/7b37f4bd-0eb0-44f5-a863-1dcf79fed67d.sh: line 1:  2432 Killed  wasm-pack build", a);
	fp1("oom", "/home/runner/work/_temp/dab57b45-c809-410b-ae9a-9a046e8540bc.sh: line 1:  2723 Killed                  wasm-pack build", b);
	CHECK_STR(a, b);
	/* the same test on another runner and with another duration */
	fp1("test", "--- FAIL: TestCloud_applyBasic (0.01s)", a);
	fp1("test", "--- FAIL: TestCloud_applyBasic (1.52s)", b);
	CHECK_STR(a, b);
	/* another message, another test, another category: another fingerprint */
	fp1("test", "--- FAIL: TestCloud_applyNoApprove (0.01s)", c);
	CHECK(strcmp(a, c) != 0);
	fp1("compile", "--- FAIL: TestCloud_applyBasic (0.01s)", c);
	CHECK(strcmp(a, c) != 0);
	fp1("test", "--- PASS: TestCloud_applyBasic (0.01s)", c);
	CHECK(strcmp(a, c) != 0);
}

TEST(fingerprint_of_several_key_lines)
{
	const char *k1[] = {"error[E0308]: mismatched types", "  --> src/a.rs:88:17"};
	const char *k2[] = {"error[E0308]: mismatched types", "  --> src/a.rs:90:3"};
	const char *k3[] = {"error[E0308]: mismatched types", "  --> src/b.rs:88:17"};
	const char *k4[] = {"  --> src/a.rs:88:17", "error[E0308]: mismatched types"};
	size_t l1[] = {strlen(k1[0]), strlen(k1[1])}, l2[] = {strlen(k2[0]), strlen(k2[1])};
	size_t l3[] = {strlen(k3[0]), strlen(k3[1])}, l4[] = {strlen(k4[0]), strlen(k4[1])};
	char a[FP_HEX_LEN + 1], b[FP_HEX_LEN + 1], c[FP_HEX_LEN + 1], d[FP_HEX_LEN + 1];
	fp_fingerprint("compile", k1, l1, 2, a);
	fp_fingerprint("compile", k2, l2, 2, b);
	fp_fingerprint("compile", k3, l3, 2, c);
	fp_fingerprint("compile", k4, l4, 2, d);
	CHECK_STR(a, b);          /* line and column vary */
	CHECK(strcmp(a, c) != 0); /* another file */
	CHECK(strcmp(a, d) != 0); /* order counts */
	CHECK_INT(strlen(a), FP_HEX_LEN);
	for (const char *p = a; *p; p++)
		CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	/* stable across builds and platforms: a known value */
	char e[FP_HEX_LEN + 1];
	fp1("unknown", "fallback", e);
	char again[FP_HEX_LEN + 1];
	fp1("unknown", "fallback", again);
	CHECK_STR(e, again);
	CHECK(fp_hash("", 0, FP_SEED) == fp_hash("", 0, FP_SEED));
	CHECK(fp_hash("a", 1, FP_SEED) != fp_hash("b", 1, FP_SEED));
}

TEST(fingerprint_prefixes)
{
	CHECK(fp_is_prefix("9d1d"));
	CHECK(fp_is_prefix("9d1d13bf880cadf9"));
	CHECK(!fp_is_prefix("9d1"));              /* too short to mean one */
	CHECK(!fp_is_prefix("9d1d13bf880cadf90")); /* too long */
	CHECK(!fp_is_prefix("9D1D"));             /* lower case only */
	CHECK(!fp_is_prefix("xyz1"));
	CHECK(!fp_is_prefix(""));
}

TEST(hostile_input_is_normalised_in_one_pass)
{
	/* 10 MB of numbers, hex, paths and blanks: one pass, bounded output */
	size_t n = 10u << 20;
	char *s = xmalloc(n);
	static const char pat[] = "1 0x1f /tmp/a 2024-01-01 tmpabcdefgh  \t a1b2c3d ";
	for (size_t i = 0; i < n; i++)
		s[i] = pat[i % (sizeof(pat) - 1)];
	struct buf b = BUF_INIT;
	fp_normalise(s, n, &b);
	CHECK(b.len > 0);
	CHECK(b.len <= 3 * n);
	/* a single 10 MB token */
	memset(s, '7', n);
	buf_reset(&b);
	fp_normalise(s, n, &b);
	CHECK_INT(b.len, 3); /* "<N>" (not printed whole when wrong: 10 MB) */
	CHECK(b.len == 3 && !memcmp(b.data, "<N>", 3));
	memset(s, 'z', n); /* 'a' would make it a hex word */
	s[n / 2] = '9';
	buf_reset(&b);
	fp_normalise(s, n, &b);
	CHECK_INT(b.len, n); /* a word: kept */
	buf_release(&b);
	free(s);
}

TEST(fingerprint_number_and_text_agree)
{
	/* pinned: the values the printf-based fingerprint gave, so a faster
	 * one cannot regroup stored findings */
	const char *k[2] = {
		"src/core/store.c:1493:22: warning: unused parameter 'ctx' [-Wunused-parameter]",
		"  41 ms after /tmp/x and /__w/r/r/src/a.c"};
	size_t l[2] = {strlen(k[0]), strlen(k[1])};
	char out[FP_HEX_LEN + 1];
	fp_fingerprint("compiler", k, l, 2, out);
	CHECK_STR(out, "5c11106d6a549db6");
	fp_fingerprint(NULL, k, l, 0, out);
	CHECK_STR(out, "7ecab69bcd45bc6b");
	char hex[FP_HEX_LEN + 1];
	fp_hex(fp_fingerprint_hash("compiler", k, l, 2), hex);
	CHECK_STR(hex, "5c11106d6a549db6");
	/* leading zeros kept, every digit lower case */
	fp_hex(0, hex);
	CHECK_STR(hex, "0000000000000000");
	fp_hex(0xabcull, hex);
	CHECK_STR(hex, "0000000000000abc");
	fp_hex(UINT64_MAX, hex);
	CHECK_STR(hex, "ffffffffffffffff");
	fp_hex(0x0123456789abcdefull, hex);
	CHECK_STR(hex, "0123456789abcdef");
}

TEST(normaliser_shortcuts_keep_the_placeholders)
{
	/* words starting with g-z or '_' skip the (hex) digit matchers, but
	 * are still ids and temporary names; units are found by their first
	 * byte; paths by their second */
	static const struct {
		const char *in, *out;
	} t[] = {
		{"key gB3dE5fG7hJ9kL1mN3pQ5rS7", "key <ID>"},
		{"key zzzzzzzzzzzzzzzzzzzzzzz", "key zzzzzzzzzzzzzzzzzzzzzzz"},
		{"_B3dE5fG7hJ9kL1mN3pQ5rS7", "_B3dE5fG7hJ9kL1mN3pQ5rS7"},
		{"in tmpa8f3k2_x now", "in <TMP> now"},
		{"in tmpa8f3k now", "in tmpa8f3k now"},
		{"took 41\xc2\xb5s", "took <DUR>"},
		{"took 41\xc2 s", "took <N>\xc2 s"},
		{"took 3 hours 2 min", "took <DUR>"},
		{"took 3 h", "took <N> h"},
		{"took 12x", "took <N>x"},
		{"9", "<N>"},
		{"/", "/"},
		{"/t", "/t"},
		{"/tmp", "/tmp"},
		{"/tmp/", "<TMP>"},
		{"/__w/_temp/x y", "<TMP> y"},
		{"/__w/r/r/a.c", "<WS>/a.c"},
		{"/github/workspace/a", "<WS>/a"},
		{"/gitlab/workspace/a", "/gitlab/workspace/a"},
		{"/h", "/h"},
		{"D:\\a\\r\\r\\x", "<WS>/x"},
		{"deadbee", "deadbee"},
		{"deadbe1", "<HASH>"},
		{"  ", ""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_STR(norm(t[i].in), t[i].out);
	/* the most a byte grows: "7" -> "<N>", three times, all in place */
	struct buf b = BUF_INIT;
	buf_adds(&b, "pre");
	fp_normalise("7,7,7,7", 7, &b);
	CHECK_STR(buf_cstr(&b), "pre<N>,<N>,<N>,<N>");
	buf_reset(&b);
	fp_normalise("", 0, &b);
	CHECK_INT(b.len, 0);
	buf_release(&b);
}

/* The memo gives the number fp_fingerprint_hash() gives, whatever it has
 * seen before: same texts, texts that share a slot, texts too long to keep,
 * empty and NUL-holding keys, no category, no memo. */
TEST(fingerprint_memo_is_the_same_number)
{
	struct fp_memo *m = fp_memo_new();
	unsigned long long rs = 0x243f6a8885a308d3ull;
	static const char *const pieces[] = {
		"src/a.c:", "12", ":", "7", ": warning: unused ", "'x'", " ", "\t", "0x1f",
		"/tmp/q", "2024-01-01T10:00:00Z", "\0", "deadbe1", "error", "\xff\xfe", "tmpabcdefghij",
	};
	char *big = xmalloc(5000);
	memset(big, 'q', 5000);
	int n_diff = 0;
	for (int it = 0; it < 20000; it++) {
		char text[2][160];
		size_t len[2] = {0, 0};
		for (int k = 0; k < 2; k++) {
			int np = (int)(rs % 9);
			for (int p = 0; p < np; p++) {
				rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
				const char *q = pieces[rs % ARRAY_SIZE(pieces)];
				size_t l = q[0] ? strlen(q) : 1;
				memcpy(text[k] + len[k], q, l);
				len[k] += l;
			}
			rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
		}
		const char *keys[2] = {text[0], text[1]};
		int nk = (int)(rs % 3);
		const char *cat = rs & 8 ? "compiler" : rs & 16 ? NULL : "";
		if (it % 97 == 0) { /* past what the memo keeps */
			keys[0] = big;
			len[0] = 5000 - (size_t)(it % 13);
			nk = MAX(nk, 1);
		}
		uint64_t want = fp_fingerprint_hash(cat, keys, len, nk);
		n_diff += fp_fingerprint_memo(m, cat, keys, len, nk) != want;
		n_diff += fp_fingerprint_memo(m, cat, keys, len, nk) != want; /* a hit */
		n_diff += fp_fingerprint_memo(NULL, cat, keys, len, nk) != want;
	}
	CHECK_INT(n_diff, 0);
	uint64_t hits, misses;
	fp_memo_stats(m, &hits, &misses);
	CHECK(hits >= 20000 - 20000 / 97 - 1); /* every second look-up at least */
	CHECK(misses > 0);
	/* texts that differ in their last byte only, or in length only */
	const char *k1[1] = {"abcdefgh12345678x"}, *k2[1] = {"abcdefgh12345678y"};
	size_t l1[1] = {17};
	CHECK(fp_fingerprint_memo(m, "c", k1, l1, 1) == fp_fingerprint_hash("c", k1, l1, 1));
	CHECK(fp_fingerprint_memo(m, "c", k2, l1, 1) == fp_fingerprint_hash("c", k2, l1, 1));
	CHECK(fp_fingerprint_memo(m, "c", k1, l1, 1) != fp_fingerprint_memo(m, "c", k2, l1, 1));
	size_t l0[1] = {16};
	CHECK(fp_fingerprint_memo(m, "c", k1, l0, 1) == fp_fingerprint_hash("c", k1, l0, 1));
	CHECK(fp_fingerprint_memo(m, "c", k1, l0, 1) != fp_fingerprint_memo(m, "c", k1, l1, 1));
	free(big);
	fp_memo_free(m);
	fp_memo_free(NULL);
}
