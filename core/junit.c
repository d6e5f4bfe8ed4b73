/* junit.c - the JUnit XML parser (see artifact.h): test cases streamed
 * through expat in chunks, DTDs and entities refused, the file:line of a
 * failure read from its text. */
#include "artifact.h"
#include "artifact_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

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
	return xstrndup(s, art_utf8_cut(s, n, TEXT_CAP));
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
	if (art_classify_number(tmp, k, &v) != CELL_NUMBER || v < 0 || v > 1e12)
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
	while (art_is_space((unsigned char)*end))
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
		while (i > 0 && art_is_digit(s[i - 1]))
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
		if (!alpha && !art_is_digit(p[i]) && p[i] != '_' && p[i] != '-')
			return false; /* "foo.go:42" is not a name */
		letter |= alpha;
	}
	return letter;
}

static bool loc_in_line(const char *s, size_t n, const char *classname, struct buf *file,
			long *line)
{
	while (n && art_is_space((unsigned char)*s))
		s++, n--;
	while (n && art_is_space((unsigned char)s[n - 1]))
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
		while (t + tn < s + n && !art_is_space((unsigned char)t[tn]))
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
	while (tn < n && !art_is_space((unsigned char)s[tn]))
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
	while (i < b->len && art_is_space((unsigned char)b->data[i])) {
		if (b->data[i] == '\n')
			start = i + 1;
		i++;
	}
	if (i == b->len)
		return NULL;
	size_t end = b->len;
	while (end > start && art_is_space((unsigned char)b->data[end - 1]))
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
	buf_add(b, s, art_utf8_cut(s, n, room));
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
	while (b->len > j->cap_start && art_is_space((unsigned char)b->data[b->len - 1]))
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
	while (i < n && art_is_space((unsigned char)data[i]))
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

