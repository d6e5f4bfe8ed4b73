/* artifact.c - what an artifact file is (artifact_sniff), and the small
 * helpers the artifact parsers share (artifact_int.h): junit.c parses JUnit
 * XML, metricfile.c metric files (CSV/TSV, JSONL, JSON documents).
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
#include "artifact_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

bool art_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool art_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Extension test on the base name, case-insensitive (".CSV" from Windows). */
bool art_name_has_ext(const char *name, const char *ext)
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
void art_add_clean(struct buf *b, const char *s, size_t n)
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
size_t art_utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

void art_line_col(const char *d, size_t off, long *line, long *col)
{
	long l = 1;
	size_t last = 0;
	for (size_t i = 0; i < off; i++)
		if (d[i] == '\n')
			l++, last = i + 1;
	*line = l;
	*col = (long)(off - last) + 1;
}

/* Tokens that mean "no value" (pandas "nan", R "NA", JSON-ish "null",
 * infinities) make a point missing rather than turning a whole column into text. */

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

enum cell_kind art_classify_number(const char *s, size_t n, double *out)
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
		if (!(art_is_digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
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

bool art_is_x_name(const char *s, size_t n)
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
		while (i < n && art_is_space((unsigned char)h[i]))
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
			while (i < n && !art_is_space((unsigned char)h[i]) && h[i] != '>' && h[i] != '/')
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
	if (art_name_has_ext(name, ".xml")) {
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
	if (art_name_has_ext(name, ".csv") || art_name_has_ext(name, ".tsv"))
		return ART_METRICS;
	bool json = art_name_has_ext(name, ".json");
	if (json || art_name_has_ext(name, ".jsonl") || art_name_has_ext(name, ".ndjson")) {
		size_t i = 0;
		if (n >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
			i = 3;
		while (i < n && art_is_space((unsigned char)head[i]))
			i++;
		if (i >= n)
			return ART_METRICS; /* empty: let the parser say so */
		if (head[i] == '{' || (json && head[i] == '['))
			return ART_METRICS;
		return ART_OTHER;
	}
	return ART_OTHER;
}

