/* artifact.c - JUnit XML and metric-file parsers (see artifact.h).
 *
 * Memory: the caller owns the input buffer; we keep only the current test
 * case or row. JUnit goes through expat in chunks; CSV/TSV is scanned twice
 * in place (once to learn which columns are numeric and to validate the
 * shape, so that a malformed file reports nothing, once to report); JSONL is
 * parsed one line at a time and a top-level JSON array one element at a time.
 * A JSON document whose root is an object is a single "row" and is parsed
 * whole by cJSON.
 *
 * Numbers are parsed in the C locale: the TUI calls setlocale(LC_ALL, ""),
 * and a German LC_NUMERIC must not turn "0.5" into a text cell.
 */
#include "artifact.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <expat.h>

#define TEXT_CAP (16 * 1024)     /* message / details, bytes */
#define NAME_CAP 1024            /* metric names, bytes */
#define JSON_DEPTH_CAP 64
#define MAX_COLUMNS 65536
#define MAX_SUITE_DEPTH 256
#define XML_CHUNK (1 << 20)

/* --- small helpers ------------------------------------------------------------ */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static double c_strtod(const char *s, char **end)
{
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale)
		return strtod_l(s, end, c_locale);
	return strtod(s, end);
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool ascii_ieq(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Extension test on the base name, case-insensitive (".CSV" from Windows). */
static bool name_has_ext(const char *name, const char *ext)
{
	if (!name)
		return false;
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	size_t n = strlen(base), e = strlen(ext);
	return n > e && ascii_ieq(base + n - e, e, ext);
}

/* Append s to b as a name fit for a database and a terminal: invalid UTF-8
 * and control bytes become U+FFFD, so hostile headers cannot smuggle escape
 * sequences or break later UTF-8 handling. */
static void add_clean(struct buf *b, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		int len = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (len == 0 || c < 0x20 || c == 0x7f) {
			buf_add(b, repl, 3);
			i++;
			continue;
		}
		buf_add(b, s + i, (size_t)len);
		i += (size_t)len;
	}
}

/* Largest k <= max such that s[0..k) does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

static void line_col_of(const char *d, size_t off, long *line, long *col)
{
	long l = 1;
	size_t last = 0;
	for (size_t i = 0; i < off; i++)
		if (d[i] == '\n')
			l++, last = i + 1;
	*line = l;
	*col = (long)(off - last) + 1;
}

/* Cell / value classification for metrics. Tokens that mean "no value"
 * (pandas "nan", R "NA", JSON-ish "null", infinities) make a point missing
 * rather than turning a whole column into text. */
enum cell_kind { CELL_MISSING, CELL_NUMBER, CELL_TEXT };

static bool missing_token(const char *s, size_t n)
{
	static const char *const toks[] = {
		"nan", "-nan", "+nan", "null", "none", "na", "n/a",
		"inf", "-inf", "+inf", "infinity", "-infinity", "+infinity",
	};
	for (size_t i = 0; i < ARRAY_SIZE(toks); i++)
		if (ascii_ieq(s, n, toks[i]))
			return true;
	return false;
}

static enum cell_kind classify_number(const char *s, size_t n, double *out)
{
	while (n && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || missing_token(s, n))
		return CELL_MISSING;
	char tmp[128];
	if (n >= sizeof(tmp))
		return CELL_TEXT;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		/* strtod also takes hex floats and "nan(...)": hashes are not numbers */
		if (!(is_digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
			return CELL_TEXT;
		tmp[i] = c;
	}
	tmp[n] = '\0';
	char *end;
	double v = c_strtod(tmp, &end);
	if (end != tmp + n)
		return CELL_TEXT;
	if (!isfinite(v))
		return CELL_MISSING; /* "1e999" */
	*out = v;
	return CELL_NUMBER;
}

static bool is_x_name(const char *s, size_t n)
{
	static const char *const xs[] = {"step", "frame", "tick", "iteration", "index"};
	for (size_t i = 0; i < ARRAY_SIZE(xs); i++)
		if (ascii_ieq(s, n, xs[i]))
			return true;
	return false;
}

/* --- classification ------------------------------------------------------------ */

/* Skip the XML prolog (BOM, declaration, comments, PIs, DOCTYPE) and test the
 * root element's name. Works on at most 4 KB of head. */
static bool head_is_junit(const char *h, size_t n)
{
	size_t i = 0;
	if (n >= 3 && memcmp(h, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (;;) {
		while (i < n && is_space((unsigned char)h[i]))
			i++;
		if (i >= n || h[i] != '<')
			return false;
		if (i + 1 < n && h[i + 1] == '?') {
			const char *e = memmem(h + i, n - i, "?>", 2);
			if (!e)
				return false;
			i = (size_t)(e - h) + 2;
		} else if (n - i >= 4 && memcmp(h + i, "<!--", 4) == 0) {
			const char *e = memmem(h + i + 4, n - i - 4, "-->", 3);
			if (!e)
				return false;
			i = (size_t)(e - h) + 3;
		} else if (i + 1 < n && h[i + 1] == '!') {
			/* DOCTYPE, maybe with an internal subset: the parser refuses
			 * it later with a clear message, so classify past it */
			int bracket = 0;
			for (i += 2; i < n; i++) {
				if (h[i] == '[')
					bracket++;
				else if (h[i] == ']' && bracket > 0)
					bracket--;
				else if (h[i] == '>' && bracket == 0)
					break;
			}
			if (i >= n)
				return false;
			i++;
		} else {
			i++;
			size_t s = i;
			while (i < n && !is_space((unsigned char)h[i]) && h[i] != '>' && h[i] != '/')
				i++;
			if (i >= n)
				return false;
			size_t len = i - s;
			return (len == 9 && memcmp(h + s, "testsuite", 9) == 0) ||
			       (len == 10 && memcmp(h + s, "testsuites", 10) == 0);
		}
	}
}

enum artifact_kind artifact_sniff(const char *name, const char *head, size_t n)
{
	if (!head)
		n = 0;
	if (name_has_ext(name, ".xml")) {
		char narrow[2048];
		if (n >= 2 && ((unsigned char)head[0] == 0xff || (unsigned char)head[0] == 0xfe) &&
		    ((unsigned char)head[1] ^ (unsigned char)head[0]) == 0x01) {
			/* UTF-16 (expat decodes it): look at the ASCII subset */
			bool le = (unsigned char)head[0] == 0xff;
			size_t k = 0;
			for (size_t i = 2; i + 1 < n && k < sizeof(narrow); i += 2) {
				unsigned char lo = (unsigned char)head[i + (le ? 0 : 1)];
				unsigned char hi = (unsigned char)head[i + (le ? 1 : 0)];
				narrow[k++] = (char)(hi == 0 && lo < 0x80 ? lo : '?');
			}
			return head_is_junit(narrow, k) ? ART_JUNIT : ART_OTHER;
		}
		return head_is_junit(head, n) ? ART_JUNIT : ART_OTHER;
	}
	if (name_has_ext(name, ".csv") || name_has_ext(name, ".tsv"))
		return ART_METRICS;
	bool json = name_has_ext(name, ".json");
	if (json || name_has_ext(name, ".jsonl") || name_has_ext(name, ".ndjson")) {
		size_t i = 0;
		if (n >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
			i = 3;
		while (i < n && is_space((unsigned char)head[i]))
			i++;
		if (i >= n)
			return ART_METRICS; /* empty: let the parser say so */
		if (head[i] == '{' || (json && head[i] == '['))
			return ART_METRICS;
		return ART_OTHER;
	}
	return ART_OTHER;
}

/* --- JUnit --------------------------------------------------------------------- */

const char *test_outcome_name(enum test_outcome o)
{
	switch (o) {
	case TEST_PASSED: return "passed";
	case TEST_FAILED: return "failed";
	case TEST_ERROR: return "error";
	case TEST_SKIPPED: return "skipped";
	case TEST_FLAKY: return "flaky";
	}
	return "unknown";
}

enum res_kind {
	RES_NONE, RES_FAILURE, RES_ERROR, RES_SKIPPED,
	RES_FLAKY_FAILURE, RES_FLAKY_ERROR, RES_RERUN_FAILURE, RES_RERUN_ERROR,
};

/* Text of <failure>/<error>/<skipped> and of the first flaky/rerun element
 * is kept apart: a case that failed in the end reports its final failure,
 * a flaky one the failure of its earlier attempt. Each is capped, so a case
 * costs at most two TEXT_CAP buffers whatever the report's size. */
enum capture { CAP_NONE, CAP_RESULT, CAP_RERUN };

struct junit {
	XML_Parser xp;
	junit_cb cb;
	void *ctx;
	struct cs_err *err;
	bool stopped;           /* err is set; ignore further events */
	long count;
	int depth;

	char **suites;          /* enclosing testsuite names (NULL: unnamed) */
	size_t nsuites, suites_alloc;

	bool in_case;
	int case_depth;
	struct buf name, classname, file, details, rr_details;
	char *fail_msg, *skip_msg, *rr_msg;
	long line;
	int64_t duration_ms;
	enum res_kind first_fail;   /* RES_FAILURE or RES_ERROR, the first seen */
	bool skipped;
	int n_flaky, n_rerun;

	enum capture capture;
	int cap_depth;
	size_t cap_start;           /* target buffer length when this element began */
	int mute_depth;             /* inside system-out/err under a result: not details */
	bool rr_taken;              /* rerun text comes from the first such element */
};

static void junit_fail(struct junit *j, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void junit_fail(struct junit *j, const char *fmt, ...)
{
	if (j->stopped)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(j->err, CS_EINVAL, "%s (line %lu, column %lu)", msg,
		(unsigned long)XML_GetCurrentLineNumber(j->xp),
		(unsigned long)XML_GetCurrentColumnNumber(j->xp) + 1);
	j->stopped = true;
	XML_StopParser(j->xp, XML_FALSE);
}

static const char *attr(const XML_Char **atts, const char *key)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], key) == 0)
			return atts[i + 1];
	return NULL;
}

static char *dup_capped(const char *s)
{
	if (!s || !*s)
		return NULL;
	size_t n = strlen(s);
	return xstrndup(s, utf8_cut(s, n, TEXT_CAP));
}

/* Seconds as a float; some producers format with thousands separators
 * ("1,234.5"). Anything else unparseable ("<<computed>>") is unknown. */
static int64_t parse_seconds(const char *s)
{
	if (!s)
		return -1;
	char tmp[64];
	size_t k = 0;
	for (; *s; s++) {
		if (*s == ',' || *s == ' ' || *s == '\t')
			continue;
		if (k + 1 >= sizeof(tmp))
			return -1;
		tmp[k++] = *s;
	}
	tmp[k] = '\0';
	double v;
	if (classify_number(tmp, k, &v) != CELL_NUMBER || v < 0 || v > 1e12)
		return -1;
	return (int64_t)llround(v * 1000.0);
}

static long parse_line_attr(const char *s)
{
	if (!s)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || errno || v <= 0)
		return 0;
	while (is_space((unsigned char)*end))
		end++;
	return *end ? 0 : v;
}

static enum res_kind res_kind_of(const char *name)
{
	static const struct { const char *name; enum res_kind kind; } tab[] = {
		{"failure", RES_FAILURE},
		{"error", RES_ERROR},
		{"skipped", RES_SKIPPED},
		{"flakyFailure", RES_FLAKY_FAILURE},
		{"flakyError", RES_FLAKY_ERROR},
		{"rerunFailure", RES_RERUN_FAILURE},
		{"rerunError", RES_RERUN_ERROR},
	};
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (strcmp(name, tab[i].name) == 0)
			return tab[i].kind;
	return RES_NONE;
}

static void case_reset(struct junit *j)
{
	buf_reset(&j->name);
	buf_reset(&j->classname);
	buf_reset(&j->file);
	buf_reset(&j->details);
	buf_reset(&j->rr_details);
	free(j->fail_msg);
	free(j->skip_msg);
	free(j->rr_msg);
	j->fail_msg = j->skip_msg = j->rr_msg = NULL;
	j->line = 0;
	j->duration_ms = -1;
	j->first_fail = RES_NONE;
	j->skipped = false;
	j->n_flaky = j->n_rerun = 0;
	j->capture = CAP_NONE;
	j->cap_depth = j->mute_depth = 0;
	j->rr_taken = false;
}

/* --- file:line from failure text ---
 * Only a few unambiguous shapes, first match wins:
 *   at com.x.FooTest.method(FooTest.java:58)   Java frame of the test's own class
 *   at Foo (src/foo.test.ts:12:5)               JS frame outside node_modules
 *   panicked at tests/x.rs:154:5:               Rust (nextest)
 *   path/to/file.py:123: AssertionError         pytest, go test ("x_test.go:42: msg")
 */

/* "path:LINE" or "path:LINE:COL" at the end of s[0..n): fills *path_n, *line. */
static bool split_loc(const char *s, size_t n, bool need_col, size_t *path_n, long *line)
{
	size_t nums[2], cnt = 0, end = n;
	while (cnt < 2) {
		size_t i = end;
		while (i > 0 && is_digit(s[i - 1]))
			i--;
		if (i == end || end - i > 9 || i == 0 || s[i - 1] != ':')
			break;
		nums[cnt++] = i;
		end = i - 1;
		if (!need_col)
			break;
	}
	if (cnt == 0 || (need_col && cnt != 2))
		return false;
	size_t ln = nums[cnt - 1];
	long v = strtol(s + ln, NULL, 10);
	if (v <= 0 || end == 0 || end > NAME_CAP)
		return false;
	*path_n = end;
	*line = v;
	return true;
}

static bool plausible_path(const char *p, size_t n)
{
	if (n == 0 || memmem(p, n, "://", 3))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == ' ' || p[i] == '(' || p[i] == ')')
			return false;
	/* needs an extension with a letter: "10:48" or "1.5" are not files */
	size_t dot = n;
	for (size_t i = n; i > 0; i--) {
		if (p[i - 1] == '/' || p[i - 1] == '\\')
			break;
		if (p[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot == n || dot + 1 >= n)
		return false;
	bool letter = false;
	for (size_t i = dot + 1; i < n; i++) {
		bool alpha = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z');
		if (!alpha && !is_digit(p[i]) && p[i] != '_' && p[i] != '-')
			return false; /* "foo.go:42" is not a name */
		letter |= alpha;
	}
	return letter;
}

static bool loc_in_line(const char *s, size_t n, const char *classname, struct buf *file,
			long *line)
{
	while (n && is_space((unsigned char)*s))
		s++, n--;
	while (n && is_space((unsigned char)s[n - 1]))
		n--;
	size_t pn;
	long ln;

	if (n > 3 && memcmp(s, "at ", 3) == 0) {
		const char *f = s + 3;
		size_t fn = n - 3;
		size_t cn = classname ? strlen(classname) : 0;
		const char *open = memchr(f, '(', fn);
		if (cn && open && s[n - 1] == ')' && (size_t)(open - f) > cn &&
		    memcmp(f, classname, cn) == 0 && f[cn] == '.') {
			const char *in = open + 1;
			size_t inn = (size_t)(s + n - 1 - in);
			if (split_loc(in, inn, false, &pn, &ln) && plausible_path(in, pn)) {
				buf_add(file, in, pn);
				*line = ln;
				return true;
			}
		}
		/* JS: "at fn (loc)" or "at loc" */
		const char *in = f;
		size_t inn = fn;
		if (s[n - 1] == ')') {
			const char *o = NULL;
			for (size_t i = n - 1; i > 3; i--)
				if (s[i - 1] == '(') {
					o = s + i;
					break;
				}
			if (!o)
				return false;
			in = o;
			inn = (size_t)(s + n - 1 - o);
		}
		if (split_loc(in, inn, true, &pn, &ln) && plausible_path(in, pn) &&
		    !memmem(in, pn, "node_modules", 12) && !(pn >= 9 && memcmp(in, "internal/", 9) == 0) &&
		    !(pn >= 5 && memcmp(in, "node:", 5) == 0)) {
			buf_add(file, in, pn);
			*line = ln;
			return true;
		}
		return false;
	}

	const char *pa = memmem(s, n, "panicked at ", 12);
	if (pa) {
		const char *t = pa + 12;
		size_t tn = 0;
		while (t + tn < s + n && !is_space((unsigned char)t[tn]))
			tn++;
		while (tn && (t[tn - 1] == ':' || t[tn - 1] == ','))
			tn--;
		if (split_loc(t, tn, true, &pn, &ln) && plausible_path(t, pn)) {
			buf_add(file, t, pn);
			*line = ln;
			return true;
		}
	}

	size_t tn = 0;
	while (tn < n && !is_space((unsigned char)s[tn]))
		tn++;
	if (tn >= 4 && s[tn - 1] == ':' &&
	    ((split_loc(s, tn - 1, true, &pn, &ln) && plausible_path(s, pn)) ||
	     (split_loc(s, tn - 1, false, &pn, &ln) && plausible_path(s, pn)))) {
		buf_add(file, s, pn);
		*line = ln;
		return true;
	}
	return false;
}

static bool loc_from_text(const char *s, const char *classname, struct buf *file, long *line)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t ln = nl ? (size_t)(nl - s) : n;
		if (ln <= 4096 && loc_in_line(s, ln, classname, file, line))
			return true;
		if (!nl)
			break;
		n -= ln + 1;
		s = nl + 1;
	}
	return false;
}

/* Drop leading blank lines (keeping the indentation of the first text line,
 * which go test output relies on) and trailing white space. */
static const char *trim_text(struct buf *b)
{
	if (!b->len)
		return NULL;
	size_t start = 0, i = 0;
	while (i < b->len && is_space((unsigned char)b->data[i])) {
		if (b->data[i] == '\n')
			start = i + 1;
		i++;
	}
	if (i == b->len)
		return NULL;
	size_t end = b->len;
	while (end > start && is_space((unsigned char)b->data[end - 1]))
		end--;
	b->data[end] = '\0';
	return b->data + start;
}

static void case_finish(struct junit *j)
{
	struct test_case tc;
	memset(&tc, 0, sizeof(tc));
	tc.suite = j->nsuites ? j->suites[j->nsuites - 1] : NULL;
	tc.classname = j->classname.len ? j->classname.data : NULL;
	tc.name = buf_cstr(&j->name);
	tc.line = j->line;
	tc.duration_ms = j->duration_ms;
	tc.reruns = j->n_flaky + j->n_rerun;

	const char *res_text = trim_text(&j->details);
	const char *rr_text = trim_text(&j->rr_details);
	if (j->first_fail != RES_NONE) {
		tc.outcome = j->first_fail == RES_FAILURE ? TEST_FAILED : TEST_ERROR;
		tc.message = j->fail_msg;
		tc.details = res_text;
	} else if (j->skipped) {
		tc.outcome = TEST_SKIPPED;
		tc.message = j->skip_msg;
		tc.details = res_text;
	} else if (tc.reruns > 0) {
		tc.outcome = TEST_FLAKY;
		tc.message = j->rr_msg;
		tc.details = rr_text;
	} else {
		tc.outcome = TEST_PASSED;
	}

	if (!j->file.len && tc.outcome != TEST_PASSED && tc.outcome != TEST_SKIPPED) {
		long ln = 0;
		if (loc_from_text(tc.details, tc.classname, &j->file, &ln) ||
		    loc_from_text(tc.message, tc.classname, &j->file, &ln)) {
			if (!tc.line)
				tc.line = ln;
		}
	}
	tc.file = j->file.len ? j->file.data : NULL;

	j->count++;
	if (j->cb && j->cb(j->ctx, &tc) != 0) {
		if (j->err && j->err->code) {
			j->stopped = true;
			XML_StopParser(j->xp, XML_FALSE);
		} else {
			junit_fail(j, "stopped by the test-case callback (test '%s')", tc.name);
		}
	}
}

static void append_capped(struct buf *b, const char *s, size_t n)
{
	if (b->len >= TEXT_CAP)
		return;
	size_t room = TEXT_CAP - b->len;
	buf_add(b, s, utf8_cut(s, n, room));
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **atts)
{
	struct junit *j = ud;
	j->depth++;
	if (j->stopped)
		return;
	if (j->depth == 1 && strcmp(el, "testsuites") != 0 && strcmp(el, "testsuite") != 0) {
		char shown[64];
		snprintf(shown, sizeof(shown), "%s", el);
		junit_fail(j, "not a JUnit report: root element <%s> is not <testsuites> or <testsuite>",
			   shown);
		return;
	}
	if (!j->in_case) {
		if (strcmp(el, "testsuite") == 0) {
			if (j->nsuites >= MAX_SUITE_DEPTH) {
				junit_fail(j, "<testsuite> nested deeper than %d levels", MAX_SUITE_DEPTH);
				return;
			}
			XGROW(j->suites, j->suites_alloc, j->nsuites + 1);
			j->suites[j->nsuites++] = dup_capped(attr(atts, "name"));
		} else if (strcmp(el, "testcase") == 0) {
			case_reset(j);
			j->in_case = true;
			j->case_depth = j->depth;
			const char *v;
			if ((v = attr(atts, "name")))
				append_capped(&j->name, v, strlen(v));
			if ((v = attr(atts, "classname")))
				append_capped(&j->classname, v, strlen(v));
			if ((v = attr(atts, "file")))
				append_capped(&j->file, v, strlen(v));
			j->line = parse_line_attr(attr(atts, "line"));
			j->duration_ms = parse_seconds(attr(atts, "time"));
		}
		return;
	}

	if (j->depth == j->case_depth + 1) {
		enum res_kind k = res_kind_of(el);
		const char *msg = attr(atts, "message");
		switch (k) {
		case RES_NONE:
			return;
		case RES_FAILURE:
		case RES_ERROR:
			if (j->first_fail == RES_NONE) {
				j->first_fail = k;
				j->fail_msg = dup_capped(msg);
			}
			j->capture = CAP_RESULT;
			break;
		case RES_SKIPPED:
			if (!j->skipped)
				j->skip_msg = dup_capped(msg);
			j->skipped = true;
			j->capture = CAP_RESULT;
			break;
		case RES_FLAKY_FAILURE:
		case RES_FLAKY_ERROR:
		case RES_RERUN_FAILURE:
		case RES_RERUN_ERROR:
			if (k == RES_FLAKY_FAILURE || k == RES_FLAKY_ERROR)
				j->n_flaky++;
			else
				j->n_rerun++;
			if (!j->rr_taken) {
				j->rr_taken = true;
				j->rr_msg = dup_capped(msg);
				j->capture = CAP_RERUN;
			}
			break;
		}
		if (j->capture != CAP_NONE) {
			j->cap_depth = j->depth;
			struct buf *b = j->capture == CAP_RESULT ? &j->details : &j->rr_details;
			if (b->len)
				append_capped(b, "\n", 1);
			j->cap_start = b->len;
		}
		return;
	}
	if (j->capture == CAP_NONE || j->mute_depth)
		return;
	/* white space before a child (<stackTrace>, <system-err>) is the
	 * report's indentation, not part of the trace */
	struct buf *b = j->capture == CAP_RESULT ? &j->details : &j->rr_details;
	while (b->len > j->cap_start && is_space((unsigned char)b->data[b->len - 1]))
		b->data[--b->len] = '\0';
	if (strcmp(el, "system-out") == 0 || strcmp(el, "system-err") == 0)
		j->mute_depth = j->depth;
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
	struct junit *j = ud;
	int depth = j->depth--;
	if (j->stopped)
		return;
	if (j->in_case) {
		if (depth == j->mute_depth)
			j->mute_depth = 0;
		if (depth == j->cap_depth) {
			j->capture = CAP_NONE;
			j->cap_depth = 0;
		}
		if (depth == j->case_depth) {
			j->in_case = false;
			case_finish(j);
		}
		return;
	}
	if (strcmp(el, "testsuite") == 0 && j->nsuites > 0)
		free(j->suites[--j->nsuites]);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct junit *j = ud;
	if (j->stopped || j->capture == CAP_NONE || j->mute_depth || len <= 0)
		return;
	append_capped(j->capture == CAP_RESULT ? &j->details : &j->rr_details, s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	junit_fail(ud, "refusing a DTD (<!DOCTYPE>): JUnit reports have none, and DTD entities "
		       "allow entity-expansion attacks");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	junit_fail(ud, "refusing an entity declaration");
}

long junit_parse(const char *data, size_t n, junit_cb cb, void *ctx, struct cs_err *err)
{
	err_clear(err);
	if (!data)
		n = 0;
	size_t i = 0;
	if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && is_space((unsigned char)data[i]))
		i++;
	if (i == n)
		return err_set(err, CS_EINVAL, "not a JUnit report: the file is empty");

	struct junit j;
	memset(&j, 0, sizeof(j));
	j.cb = cb;
	j.ctx = ctx;
	j.err = err;
	j.xp = XML_ParserCreate(NULL);
	if (!j.xp)
		die("out of memory creating an XML parser");
	XML_SetUserData(j.xp, &j);
	XML_SetElementHandler(j.xp, on_start, on_end);
	XML_SetCharacterDataHandler(j.xp, on_text);
	XML_SetStartDoctypeDeclHandler(j.xp, on_doctype);
	XML_SetEntityDeclHandler(j.xp, on_entity);
	XML_SetParamEntityParsing(j.xp, XML_PARAM_ENTITY_PARSING_NEVER);

	long ret = 0;
	size_t off = 0;
	do {
		size_t len = MIN(n - off, (size_t)XML_CHUNK);
		bool final = off + len == n;
		if (XML_Parse(j.xp, data + off, (int)len, final) != XML_STATUS_OK) {
			if (!j.stopped)
				err_set(err, CS_EINVAL, "invalid XML at line %lu, column %lu: %s",
					(unsigned long)XML_GetCurrentLineNumber(j.xp),
					(unsigned long)XML_GetCurrentColumnNumber(j.xp) + 1,
					XML_ErrorString(XML_GetErrorCode(j.xp)));
			else if (!err || !err->code)
				err_set(err, CS_EINVAL, "JUnit parsing stopped");
			ret = -1;
			break;
		}
		off += len;
	} while (off < n);
	if (ret == 0)
		ret = j.count;

	XML_ParserFree(j.xp);
	case_reset(&j);
	buf_release(&j.name);
	buf_release(&j.classname);
	buf_release(&j.file);
	buf_release(&j.details);
	buf_release(&j.rr_details);
	while (j.nsuites)
		free(j.suites[--j.nsuites]);
	free(j.suites);
	return ret;
}

/* --- metrics: common -------------------------------------------------------------- */

struct metrics {
	const char *data;       /* whole input, for error positions */
	size_t n;
	metrics_cb cb;
	void *ctx;
	struct cs_err *err;
	long count;
	struct buf path;        /* current metric name while flattening JSON */
	struct buf xname;       /* current row's x column name (JSON rows) */
	struct buf scratch;     /* sanitised copy of a JSON slice */
};

static int met_emit(struct metrics *m, const char *name, const char *x_name, long idx, double x,
		    double v, bool missing, size_t off)
{
	struct metric_point p = {name, x_name, idx, x, missing ? NAN : v, missing};
	if (m->cb && m->cb(m->ctx, &p) != 0) {
		if (m->err && m->err->code)
			return -1;
		long line, col;
		line_col_of(m->data, off, &line, &col);
		return err_set(m->err, CS_EINVAL, "stopped by the metrics callback at line %ld", line);
	}
	m->count++;
	return 0;
}

static int met_fail_at(struct metrics *m, size_t off, const char *what)
{
	long line, col;
	line_col_of(m->data, off, &line, &col);
	return err_set(m->err, CS_EINVAL, "%s at line %ld, column %ld (byte %zu)", what, line, col,
		       off);
}

/* --- CSV / TSV ----------------------------------------------------------------------- */

struct csv {
	const char *d;
	size_t n, pos;
	char sep;
	long line;              /* line of pos, 1-based */
	bool row_start;
	long row_line;          /* line where the current row began */
	/* the cell just read */
	const char *cell;
	size_t cell_len;
	bool quoted;            /* cell is the raw inside of quotes, "" still doubled */
	size_t cell_off;
};

/* csv_next() results; errors return -1 */
enum { CSV_CELL, CSV_LAST, CSV_EOF };

static void csv_eol(struct csv *c)
{
	if (c->pos < c->n && c->d[c->pos] == '\r')
		c->pos++;
	if (c->pos < c->n && c->d[c->pos] == '\n')
		c->pos++;
	c->line++;
}

static int csv_next(struct csv *c, struct cs_err *err)
{
	if (c->row_start) {
		for (;;) {
			size_t p = c->pos;
			while (p < c->n && (c->d[p] == ' ' || (c->d[p] == '\t' && c->sep != '\t')))
				p++;
			if (p >= c->n)
				return CSV_EOF;
			if (c->d[p] != '\r' && c->d[p] != '\n')
				break;
			c->pos = p;
			csv_eol(c);
		}
		c->row_start = false;
		c->row_line = c->line;
	}
	const char *d = c->d;
	size_t p = c->pos;
	c->cell_off = p;
	if (p < c->n && d[p] == '"') {
		long start_line = c->line;
		size_t s = ++p;
		for (;;) {
			const char *q = memchr(d + p, '"', c->n - p);
			if (!q)
				return err_set(err, CS_EINVAL,
					       "unterminated quoted field starting at line %ld", start_line);
			for (const char *t = d + p; t < q; t++)
				if (*t == '\n')
					c->line++;
			p = (size_t)(q - d) + 1;
			if (p < c->n && d[p] == '"') {
				p++;
				continue;
			}
			break;
		}
		c->cell = d + s;
		c->cell_len = p - 1 - s;
		c->quoted = true;
		while (p < c->n && d[p] == ' ')
			p++;
		if (p < c->n && d[p] != c->sep && d[p] != '\r' && d[p] != '\n')
			return err_set(err, CS_EINVAL,
				       "unexpected character after a closing quote at line %ld", c->line);
	} else {
		size_t s = p;
		while (p < c->n && d[p] != c->sep && d[p] != '\n' && d[p] != '\r')
			p++;
		c->cell = d + s;
		c->cell_len = p - s;
		c->quoted = false;
	}
	if (p < c->n && d[p] == c->sep) {
		c->pos = p + 1;
		return CSV_CELL;
	}
	c->pos = p;
	csv_eol(c);
	c->row_start = true;
	return CSV_LAST;
}

/* The cell's text with "" undoubled, at most max bytes (then *truncated). */
static void csv_cell_text(const struct csv *c, struct buf *out, size_t max, bool *truncated)
{
	*truncated = false;
	if (!c->quoted) {
		if (c->cell_len > max) {
			*truncated = true;
			return;
		}
		buf_add(out, c->cell, c->cell_len);
		return;
	}
	for (size_t i = 0; i < c->cell_len; i++) {
		if (out->len >= max) {
			*truncated = true;
			return;
		}
		buf_addc(out, c->cell[i]);
		if (c->cell[i] == '"')
			i++;
	}
}

static enum cell_kind csv_classify(const struct csv *c, struct buf *tmp, double *v)
{
	bool trunc;
	buf_reset(tmp);
	csv_cell_text(c, tmp, 127, &trunc);
	if (trunc)
		return CELL_TEXT;
	return classify_number(buf_cstr(tmp), tmp->len, v);
}

struct col {
	char *name;
	bool text, number, missing;
};

struct name_ref {
	const char *name;
	size_t idx;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Duplicate names get "#2", "#3"... in column order: a CSV written by a
 * careless script should still import, and the suffix makes the clash visible. */
static void dedup_names(struct col *cols, size_t ncols)
{
	struct name_ref *refs = xcalloc(ncols, sizeof(*refs));
	for (size_t i = 0; i < ncols; i++)
		refs[i] = (struct name_ref){cols[i].name, i};
	qsort(refs, ncols, sizeof(*refs), name_ref_cmp);
	int dup = 1;
	for (size_t i = 1; i < ncols; i++) {
		if (strcmp(refs[i].name, refs[i - 1].name) != 0) {
			dup = 1;
			continue;
		}
		dup++;
		size_t k = refs[i].idx;
		char *renamed = xasprintf("%s#%d", cols[k].name, dup);
		/* refs[i].name must stay valid for the next comparison */
		refs[i].name = cols[refs[i - 1].idx].name;
		free(cols[k].name);
		cols[k].name = renamed;
	}
	free(refs);
}

static long csv_parse(struct metrics *m, size_t start, char sep)
{
	struct csv c = {m->data, m->n, start, sep, 1, true, 0, NULL, 0, false, 0};
	struct cs_err *err = m->err;
	struct col *cols = NULL;
	size_t ncols = 0, alloc = 0;
	struct buf tmp = BUF_INIT;
	long ret = -1;
	const char *fmt = sep == '\t' ? "TSV" : "CSV";

	/* header */
	int r;
	for (;;) {
		r = csv_next(&c, err);
		if (r < 0)
			goto out;
		if (r == CSV_EOF) {
			if (ncols == 0) {
				err_set(err, CS_EINVAL, "empty %s file: no header line", fmt);
				goto out;
			}
			break;
		}
		if (ncols >= MAX_COLUMNS) {
			err_set(err, CS_EINVAL, "%s header at line %ld has more than %d columns", fmt,
				c.row_line, MAX_COLUMNS);
			goto out;
		}
		bool trunc;
		buf_reset(&tmp);
		csv_cell_text(&c, &tmp, NAME_CAP, &trunc);
		if (trunc) {
			err_set(err, CS_EINVAL, "%s header at line %ld: column %zu has a name longer than %d bytes",
				fmt, c.row_line, ncols + 1, NAME_CAP);
			goto out;
		}
		const char *s = buf_cstr(&tmp);
		size_t len = tmp.len;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		XGROW(cols, alloc, ncols + 1);
		memset(&cols[ncols], 0, sizeof(cols[ncols]));
		if (len == 0) {
			cols[ncols].name = xasprintf("column%zu", ncols + 1);
		} else {
			struct buf nb = BUF_INIT;
			add_clean(&nb, s, len);
			cols[ncols].name = buf_detach(&nb, NULL);
		}
		ncols++;
		if (r == CSV_LAST)
			break;
	}
	dedup_names(cols, ncols);
	size_t data_start = c.pos;
	long data_line = c.line;

	/* pass 1: shape and column types */
	size_t cell = 0;
	for (;;) {
		r = csv_next(&c, err);
		if (r < 0)
			goto out;
		if (r == CSV_EOF)
			break;
		if (cell < ncols) {
			double v;
			switch (csv_classify(&c, &tmp, &v)) {
			case CELL_TEXT: cols[cell].text = true; break;
			case CELL_NUMBER: cols[cell].number = true; break;
			case CELL_MISSING: cols[cell].missing = true; break;
			}
		}
		cell++;
		if (r == CSV_LAST) {
			if (cell != ncols) {
				err_set(err, CS_EINVAL, "%s line %ld has %zu cell%s, the header has %zu",
					fmt, c.row_line, cell, cell == 1 ? "" : "s", ncols);
				goto out;
			}
			cell = 0;
		}
	}

	size_t xcol = ncols;
	for (size_t i = 0; i < ncols; i++) {
		if (is_x_name(cols[i].name, strlen(cols[i].name))) {
			/* an x axis with holes or words is no axis: fall back to row order */
			if (cols[i].number && !cols[i].text && !cols[i].missing)
				xcol = i;
			break;
		}
	}

	/* pass 2: report */
	c.pos = data_start;
	c.line = data_line;
	c.row_start = true;
	long idx = 0;
	for (;;) {
		struct csv at_row = c;
		double x = (double)idx;
		if (xcol < ncols) {
			for (size_t i = 0; i <= xcol; i++) {
				r = csv_next(&c, err);
				if (r < 0)
					goto out;
				if (r == CSV_EOF)
					break;
			}
			if (r == CSV_EOF)
				break;
			csv_classify(&c, &tmp, &x);
			c = at_row;
		}
		size_t i = 0;
		do {
			r = csv_next(&c, err);
			if (r < 0)
				goto out;
			if (r == CSV_EOF)
				break;
			if (i != xcol && cols[i].number && !cols[i].text) {
				double v = 0;
				enum cell_kind k = csv_classify(&c, &tmp, &v);
				if (met_emit(m, cols[i].name, xcol < ncols ? cols[xcol].name : NULL, idx, x,
					     v, k != CELL_NUMBER, c.cell_off) < 0)
					goto out;
			}
			i++;
		} while (r == CSV_CELL);
		if (r == CSV_EOF)
			break;
		idx++;
	}
	ret = m->count;
out:
	for (size_t i = 0; i < ncols; i++)
		free(cols[i].name);
	free(cols);
	buf_release(&tmp);
	return ret;
}

/* --- JSON ------------------------------------------------------------------------------ */

/* Sentinel left by json_prescan() where Python wrote NaN/Infinity: a string
 * holding one 0x01 byte, which valid JSON cannot contain unescaped. Same
 * length as the original token, so cJSON's error offsets stay true. */
static const char MISSING_MARK[] = "\x01";

/* Check what cJSON does not: nesting depth (cJSON's own limit is 1000 and
 * recursive), raw control bytes in strings, NUL bytes. Finds the bare NaN,
 * Infinity and -Infinity that Python's json module writes; with out != NULL
 * copies the slice with those replaced by the sentinel string. */
static int json_prescan(struct metrics *m, size_t start, size_t end, bool *nonfinite,
			int *open, struct buf *out)
{
	const char *d = m->data;
	int depth = 0;
	*nonfinite = false;
	*open = 0;
	if (out) {
		buf_reset(out);
		buf_add(out, d + start, end - start);
	}
	for (size_t i = start; i < end;) {
		unsigned char c = (unsigned char)d[i];
		if (c == '"') {
			size_t s = i++;
			for (;;) {
				if (i >= end)
					return met_fail_at(m, s, "unterminated JSON string");
				unsigned char ch = (unsigned char)d[i];
				if (ch == '\\') {
					i += 2;
					continue;
				}
				if (ch == '"')
					break;
				if (ch < 0x20)
					return met_fail_at(m, i, ch ? "control character in a JSON string"
								    : "NUL byte in JSON");
				i++;
			}
			i++;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_DEPTH_CAP) {
				char what[80];
				snprintf(what, sizeof(what), "JSON nested deeper than %d levels",
					 JSON_DEPTH_CAP);
				return met_fail_at(m, i, what);
			}
			i++;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
			i++;
		} else if (c == 0) {
			return met_fail_at(m, i, "NUL byte in JSON");
		} else if (c == 'N' || c == 'I' || (c == '-' && i + 1 < end && d[i + 1] == 'I')) {
			static const char *const toks[] = {"NaN", "Infinity", "-Infinity"};
			size_t tl = 0;
			for (size_t t = 0; t < ARRAY_SIZE(toks); t++) {
				size_t l = strlen(toks[t]);
				if (end - i >= l && memcmp(d + i, toks[t], l) == 0 &&
				    (i + l == end || !((d[i + l] >= 'a' && d[i + l] <= 'z') ||
						       (d[i + l] >= 'A' && d[i + l] <= 'Z') ||
						       is_digit(d[i + l])))) {
					tl = l;
					break;
				}
			}
			if (!tl) {
				i++;
				continue;
			}
			*nonfinite = true;
			if (out) {
				char *o = out->data + (i - start);
				memset(o, ' ', tl);
				o[0] = '"';
				o[1] = MISSING_MARK[0];
				o[2] = '"';
			}
			i += tl;
		} else {
			i++;
		}
	}
	*open = depth;
	return 0;
}

static int json_emit_leaves(struct metrics *m, const cJSON *it, const char *x_name, long idx,
			    double x, size_t off)
{
	if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
		size_t keep = m->path.len;
		long k = 0;
		for (const cJSON *ch = it->child; ch; ch = ch->next, k++) {
			if (keep)
				buf_addc(&m->path, '.');
			if (cJSON_IsObject(it)) {
				const char *key = ch->string ? ch->string : "";
				add_clean(&m->path, key, strlen(key));
			} else {
				buf_addf(&m->path, "%ld", k);
			}
			if (m->path.len > NAME_CAP) {
				char what[128];
				snprintf(what, sizeof(what), "metric name longer than %d bytes (\"%.40s...\")",
					 NAME_CAP, m->path.data);
				return met_fail_at(m, off, what);
			}
			int r = json_emit_leaves(m, ch, x_name, idx, x, off);
			m->path.len = keep;
			if (m->path.data)
				m->path.data[keep] = '\0';
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!m->path.len)
		return 0; /* a bare scalar has no name */
	const char *name = m->path.data;
	if (cJSON_IsNumber(it)) {
		double v = it->valuedouble;
		return met_emit(m, name, x_name, idx, x, v, !isfinite(v), off);
	}
	if (cJSON_IsNull(it) || (cJSON_IsString(it) && it->valuestring &&
				 strcmp(it->valuestring, MISSING_MARK) == 0))
		return met_emit(m, name, x_name, idx, x, 0, true, off);
	return 0; /* strings and booleans are not metrics */
}

/* One row: an object whose keys are columns; the first key named like an x
 * axis with a number is the row's x. */
static int json_emit_row(struct metrics *m, const cJSON *obj, long idx, size_t off)
{
	const cJSON *xit = NULL;
	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		if (ch->string && is_x_name(ch->string, strlen(ch->string))) {
			if (cJSON_IsNumber(ch) && isfinite(ch->valuedouble))
				xit = ch;
			break;
		}
	}
	const char *x_name = NULL;
	double x = (double)idx;
	if (xit) {
		buf_reset(&m->xname);
		add_clean(&m->xname, xit->string, strlen(xit->string));
		x_name = m->xname.data;
		x = xit->valuedouble;
	}
	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		if (ch == xit)
			continue;
		buf_reset(&m->path);
		const char *key = ch->string ? ch->string : "";
		add_clean(&m->path, key, strlen(key));
		if (m->path.len > NAME_CAP) {
			char what[64];
			snprintf(what, sizeof(what), "JSON key longer than %d bytes", NAME_CAP);
			return met_fail_at(m, off, what);
		}
		if (!m->path.len)
			buf_adds(&m->path, "(empty)");
		int r = json_emit_leaves(m, ch, x_name, idx, x, off);
		if (r < 0)
			return r;
	}
	return 0;
}

static size_t skip_ws(const char *d, size_t i, size_t end)
{
	while (i < end && is_space((unsigned char)d[i]))
		i++;
	return i;
}

/* Parse d[start, end) as one JSON value (after json_prescan passed). */
static cJSON *json_parse_slice(struct metrics *m, size_t start, size_t end)
{
	bool nonfinite;
	int open;
	if (json_prescan(m, start, end, &nonfinite, &open, NULL) < 0)
		return NULL;
	const char *base = m->data + start;
	if (nonfinite) {
		if (json_prescan(m, start, end, &nonfinite, &open, &m->scratch) < 0)
			return NULL;
		base = m->scratch.data;
	}
	const char *stop = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(base, end - start, &stop, false);
	size_t at = stop ? (size_t)(stop - base) : 0;
	if (!v) {
		/* cJSON clamps an error at the end of input to the last byte */
		if (open > 0 && start + at + 1 >= end)
			met_fail_at(m, end, "unexpected end of JSON (unclosed object or array)");
		else
			met_fail_at(m, start + at, "invalid JSON");
		return NULL;
	}
	at = skip_ws(base, at, end - start);
	if (at != end - start) {
		cJSON_Delete(v);
		met_fail_at(m, start + at, "unexpected data after a JSON value");
		return NULL;
	}
	return v;
}

static long jsonl_parse(struct metrics *m, size_t start)
{
	const char *d = m->data;
	size_t pos = start;
	long idx = 0;
	bool any = false;
	while (pos < m->n) {
		const char *nl = memchr(d + pos, '\n', m->n - pos);
		size_t end = nl ? (size_t)(nl - d) : m->n;
		size_t s = skip_ws(d, pos, end);
		size_t next = nl ? end + 1 : end;
		if (s == end) {
			pos = next;
			continue;
		}
		any = true;
		cJSON *row = json_parse_slice(m, s, end);
		if (!row)
			return -1;
		if (!cJSON_IsObject(row)) {
			cJSON_Delete(row);
			met_fail_at(m, s, "expected a JSON object (one per line)");
			return -1;
		}
		int r = json_emit_row(m, row, idx, s);
		cJSON_Delete(row);
		if (r < 0)
			return -1;
		idx++;
		pos = next;
	}
	if (!any)
		return err_set(m->err, CS_EINVAL, "empty JSONL file");
	return m->count;
}

/* End of the value starting at d[i] (string/bracket aware, not validating:
 * cJSON validates each slice afterwards). */
static size_t json_skip_value(const char *d, size_t i, size_t end)
{
	int depth = 0;
	while (i < end) {
		char c = d[i];
		if (c == '"') {
			for (i++; i < end && d[i] != '"'; i++)
				if (d[i] == '\\')
					i++;
			i++;
			if (depth == 0)
				return MIN(i, end);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || is_space((unsigned char)c))) {
			return i;
		}
		i++;
	}
	return end;
}

static long json_doc_parse(struct metrics *m, size_t start)
{
	const char *d = m->data;
	size_t end = m->n;
	size_t i = skip_ws(d, start, end);
	if (i == end)
		return err_set(m->err, CS_EINVAL, "empty JSON file");

	if (d[i] != '[') {
		cJSON *root = json_parse_slice(m, i, end);
		if (!root)
			return -1;
		buf_reset(&m->path);
		int r = json_emit_leaves(m, root, NULL, 0, 0, i);
		cJSON_Delete(root);
		return r < 0 ? -1 : m->count;
	}

	/* top-level array: one element at a time, so a big array of rows costs
	 * one row of cJSON tree. Rows when the first element is an object. */
	bool nonfinite;
	int open;
	if (json_prescan(m, i, end, &nonfinite, &open, NULL) < 0)
		return -1;
	i = skip_ws(d, i + 1, end);
	if (i < end && d[i] == ']') {
		i = skip_ws(d, i + 1, end);
		if (i != end)
			return met_fail_at(m, i, "unexpected data after the JSON document");
		return 0;
	}
	bool rows = false;
	for (long k = 0;; k++) {
		if (i >= end)
			return met_fail_at(m, end, "unexpected end of JSON");
		size_t ve = json_skip_value(d, i, end);
		if (ve == i)
			return met_fail_at(m, i, "invalid JSON");
		cJSON *el = json_parse_slice(m, i, ve);
		if (!el)
			return -1;
		if (k == 0)
			rows = cJSON_IsObject(el);
		int r;
		if (rows) {
			if (!cJSON_IsObject(el)) {
				cJSON_Delete(el);
				return met_fail_at(m, i, "expected an object like the first element of the array");
			}
			r = json_emit_row(m, el, k, i);
		} else {
			buf_reset(&m->path);
			buf_addf(&m->path, "%ld", k);
			r = json_emit_leaves(m, el, NULL, 0, 0, i);
		}
		cJSON_Delete(el);
		if (r < 0)
			return -1;
		i = skip_ws(d, ve, end);
		if (i < end && d[i] == ',') {
			i = skip_ws(d, i + 1, end);
			continue;
		}
		if (i < end && d[i] == ']')
			break;
		if (i >= end)
			return met_fail_at(m, end, "unexpected end of JSON");
		return met_fail_at(m, i, "expected ',' or ']' in the JSON array");
	}
	i = skip_ws(d, i + 1, end);
	if (i != end)
		return met_fail_at(m, i, "unexpected data after the JSON document");
	return m->count;
}

static enum metrics_format guess_format(const char *name, const char *d, size_t n)
{
	if (name_has_ext(name, ".csv"))
		return MET_CSV;
	if (name_has_ext(name, ".tsv") || name_has_ext(name, ".tab"))
		return MET_TSV;
	if (name_has_ext(name, ".jsonl") || name_has_ext(name, ".ndjson"))
		return MET_JSONL;
	bool json = name_has_ext(name, ".json");
	size_t i = skip_ws(d, 0, n);
	if (i < n && d[i] == '{') {
		/* JSON Lines saved as .json: the first object ends on its line and
		 * another follows */
		size_t e = json_skip_value(d, i, n);
		const char *nl = memchr(d + i, '\n', e - i);
		size_t j = skip_ws(d, e, n);
		if (!nl && j < n && d[j] == '{')
			return MET_JSONL;
		return MET_JSON;
	}
	if (json || (i < n && d[i] == '['))
		return MET_JSON;
	const char *nl = memchr(d + i, '\n', n - i);
	size_t le = nl ? (size_t)(nl - d) : n;
	if (memchr(d + i, '\t', le - i) && !memchr(d + i, ',', le - i))
		return MET_TSV;
	return MET_CSV;
}

long metrics_parse(const char *name, const char *data, size_t n, enum metrics_format fmt,
		   metrics_cb cb, void *ctx, struct cs_err *err)
{
	err_clear(err);
	if (!data)
		n = 0;
	size_t start = 0;
	if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	if (fmt == MET_AUTO)
		fmt = guess_format(name, data + start, n - start);

	struct metrics m;
	memset(&m, 0, sizeof(m));
	m.data = data ? data : "";
	m.n = n;
	m.cb = cb;
	m.ctx = ctx;
	m.err = err;

	long r;
	switch (fmt) {
	case MET_CSV: r = csv_parse(&m, start, ','); break;
	case MET_TSV: r = csv_parse(&m, start, '\t'); break;
	case MET_JSONL: r = jsonl_parse(&m, start); break;
	case MET_JSON: r = json_doc_parse(&m, start); break;
	default: r = err_set(err, CS_EUSAGE, "unknown metrics format %d", (int)fmt); break;
	}
	buf_release(&m.path);
	buf_release(&m.xname);
	buf_release(&m.scratch);
	return r;
}
