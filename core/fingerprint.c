/* fingerprint.c - normalising failure text and hashing it (see fingerprint.h).
 *
 * A hand-written scanner rather than a chain of regex substitutions: one
 * pass, no allocation beyond the output, and the order of the cases below is
 * the order of precedence (a UUID is not five numbers, a date is not a
 * subtraction).
 */
#include "fingerprint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum(unsigned char c) { return is_digit(c) || is_alpha(c); }
static bool is_word(unsigned char c) { return is_alnum(c) || c == '_'; }
static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

#define U(i) ((unsigned char)s[i])

/* Length of a run of chars satisfying pred from i (at most max). */
static size_t run(const char *s, size_t n, size_t i, bool (*pred)(unsigned char), size_t max)
{
	size_t k = 0;
	while (i + k < n && k < max && pred(U(i + k)))
		k++;
	return k;
}

static bool lit(const char *s, size_t n, size_t i, const char *w)
{
	size_t l = strlen(w);
	return i + l <= n && !memcmp(s + i, w, l);
}

/* The end of a path: blanks, quotes and the punctuation that follows paths
 * in messages. A ':' ends it too, so "/tmp/x.py:12" keeps its line number. */
static size_t path_end(const char *s, size_t n, size_t i)
{
	while (i < n) {
		unsigned char c = U(i);
		if (is_blank(c) || c == '"' || c == '\'' || c == '`' || c == ')' || c == ']' ||
		    c == ',' || c == ';' || c == ':' || c == '>' || c == '}')
			break;
		i++;
	}
	return i;
}

/* One path component ending in sep: its length including sep, or 0. */
static size_t component(const char *s, size_t n, size_t i, char sep)
{
	size_t k = 0;
	while (i + k < n && s[i + k] != sep && !is_blank(U(i + k)) && s[i + k] != '/' &&
	       s[i + k] != '\\')
		k++;
	if (k == 0 || i + k >= n || s[i + k] != sep)
		return 0;
	return k + 1;
}

static size_t match_tmp(const char *s, size_t n, size_t i)
{
	static const char *const unix_tmp[] = {
		"/tmp/", "/var/tmp/", "/var/folders/", "/private/var/folders/", "/dev/shm/",
		"/home/runner/work/_temp/", "/__w/_temp/", "/Users/runner/work/_temp/",
	};
	for (size_t k = 0; k < ARRAY_SIZE(unix_tmp); k++)
		if (lit(s, n, i, unix_tmp[k]))
			return path_end(s, n, i + strlen(unix_tmp[k])) - i;
	/* X:\Users\name\AppData\Local\Temp\... and X:\a\_temp\... */
	if (i + 3 < n && is_alpha(U(i)) && s[i + 1] == ':' && s[i + 2] == '\\') {
		size_t j = i + 3;
		if (lit(s, n, j, "Users\\")) {
			j += 6;
			size_t c = component(s, n, j, '\\');
			if (c && lit(s, n, j + c, "AppData\\Local\\Temp\\"))
				return path_end(s, n, j + c + 19) - i;
		} else if (lit(s, n, j, "a\\_temp\\")) {
			return path_end(s, n, j + 8) - i;
		}
	}
	return 0;
}

/* The GitHub Actions workspace: /home/runner/work/R/R/, /__w/R/R/,
 * /Users/runner/work/R/R/, /github/workspace/, X:\a\R\R\ -> "<WS>/". */
static size_t match_workspace(const char *s, size_t n, size_t i)
{
	static const char *const roots[] = {"/home/runner/work/", "/__w/", "/Users/runner/work/"};
	for (size_t k = 0; k < ARRAY_SIZE(roots); k++) {
		if (!lit(s, n, i, roots[k]))
			continue;
		size_t j = i + strlen(roots[k]);
		size_t a = component(s, n, j, '/');
		size_t b = a ? component(s, n, j + a, '/') : 0;
		if (a && b)
			return j + a + b - i;
	}
	if (lit(s, n, i, "/github/workspace/"))
		return 18;
	if (i + 3 < n && is_alpha(U(i)) && s[i + 1] == ':' && s[i + 2] == '\\' && s[i + 3] == 'a' &&
	    i + 4 < n && s[i + 4] == '\\') {
		size_t j = i + 5;
		size_t a = component(s, n, j, '\\');
		size_t b = a ? component(s, n, j + a, '\\') : 0;
		if (a && b)
			return j + a + b - i;
	}
	return 0;
}

static size_t match_uuid(const char *s, size_t n, size_t i)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	size_t j = i;
	for (int g = 0; g < 5; g++) {
		if (run(s, n, j, is_hex, 13) != (size_t)groups[g])
			return 0;
		j += (size_t)groups[g];
		if (g < 4) {
			if (j >= n || s[j] != '-')
				return 0;
			j++;
		}
	}
	return j < n && is_word(U(j)) ? 0 : j - i;
}

static bool digits(const char *s, size_t n, size_t i, size_t k)
{
	return run(s, n, i, is_digit, k) == k;
}

/* hh:mm:ss(.frac)? */
static size_t match_time(const char *s, size_t n, size_t i)
{
	size_t h = run(s, n, i, is_digit, 3);
	if (h < 1 || h > 2)
		return 0;
	size_t j = i + h;
	if (j + 6 > n || s[j] != ':' || !digits(s, n, j + 1, 2) || s[j + 3] != ':' ||
	    !digits(s, n, j + 4, 2))
		return 0;
	j += 6;
	if (j + 1 < n && (s[j] == '.' || s[j] == ',') && is_digit(U(j + 1)))
		j += 1 + run(s, n, j + 1, is_digit, 12);
	return j - i;
}

/* yyyy-mm-dd, then optionally [T ]hh:mm(:ss(.frac)?)? and a zone. */
static size_t match_timestamp(const char *s, size_t n, size_t i)
{
	if (!(digits(s, n, i, 4) && i + 10 <= n && s[i + 4] == '-' && digits(s, n, i + 5, 2) &&
	      s[i + 7] == '-' && digits(s, n, i + 8, 2)))
		return 0;
	size_t j = i + 10;
	if (j < n && is_digit(U(j)))
		return 0;
	if (j + 1 < n && (s[j] == 'T' || s[j] == ' ') && is_digit(U(j + 1))) {
		size_t t = match_time(s, n, j + 1);
		if (t)
			j += 1 + t;
		else if (j + 6 <= n && digits(s, n, j + 1, 2) && s[j + 3] == ':' &&
			 digits(s, n, j + 4, 2))
			j += 6;
	}
	if (j < n && s[j] == 'Z') {
		j++;
	} else if (j > i + 10 && j + 5 <= n && (s[j] == '+' || s[j] == '-') &&
		   digits(s, n, j + 1, 2)) {
		/* a zone after a time of day: +hh:mm or +hhmm */
		if (j + 6 <= n && s[j + 3] == ':' && digits(s, n, j + 4, 2))
			j += 6;
		else if (digits(s, n, j + 3, 2))
			j += 5;
	}
	return j - i;
}

static size_t match_0x(const char *s, size_t n, size_t i)
{
	if (!(i + 2 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && is_hex(U(i + 2))))
		return 0;
	size_t k = 2 + run(s, n, i + 2, is_hex, 64);
	return i + k < n && is_word(U(i + k)) ? 0 : k;
}

static size_t match_ip(const char *s, size_t n, size_t i)
{
	size_t j = i;
	for (int g = 0; g < 4; g++) {
		size_t d = run(s, n, j, is_digit, 4);
		if (d < 1 || d > 3)
			return 0;
		j += d;
		if (g < 3) {
			if (j >= n || s[j] != '.')
				return 0;
			j++;
		}
	}
	if (j < n && (is_word(U(j)) || (s[j] == '.' && j + 1 < n && is_digit(U(j + 1)))))
		return 0;
	if (j + 1 < n && s[j] == ':' && is_digit(U(j + 1)))
		j += 1 + run(s, n, j + 1, is_digit, 5);
	return j - i;
}

/* A hex word of 7+ digits mixing digits and letters: commit ids, digests. */
static size_t match_hexword(const char *s, size_t n, size_t i)
{
	size_t k = run(s, n, i, is_hex, SIZE_MAX);
	if (k < 7 || (i + k < n && is_word(U(i + k))))
		return 0;
	bool d = false, a = false;
	for (size_t j = i; j < i + k; j++) {
		if (is_digit(U(j)))
			d = true;
		else
			a = true;
	}
	return d && a ? k : 0;
}

/* A long token mixing digits, upper and lower case: ids, keys, nonces. */
static size_t match_token(const char *s, size_t n, size_t i)
{
	size_t k = run(s, n, i, is_alnum, SIZE_MAX);
	if (k < 20 || (i + k < n && s[i + k] == '_'))
		return 0;
	int d = 0, up = 0, lo = 0;
	for (size_t j = i; j < i + k; j++) {
		unsigned char c = U(j);
		if (is_digit(c))
			d++;
		else if (c >= 'A' && c <= 'Z')
			up++;
		else
			lo++;
	}
	return d >= 2 && up && lo ? k : 0;
}

/* A number: digits, decimals, an exponent. */
static size_t number_len(const char *s, size_t n, size_t i)
{
	size_t j = i + run(s, n, i, is_digit, SIZE_MAX);
	while (j + 1 < n && s[j] == '.' && is_digit(U(j + 1)))
		j += 1 + run(s, n, j + 1, is_digit, SIZE_MAX);
	if (j + 1 < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t e = j + 1;
		if (e < n && (s[e] == '+' || s[e] == '-'))
			e++;
		size_t d = run(s, n, e, is_digit, 6);
		if (d && !(e + d < n && is_word(U(e + d))))
			j = e + d;
	}
	return j - i;
}

/* A unit of time after a number: its length, or 0. */
static size_t time_unit(const char *s, size_t n, size_t i)
{
	static const char *const units[] = {
		"milliseconds", "millisecond", "microseconds", "seconds", "second", "minutes",
		"minute", "hours", "hour", "msecs", "msec", "secs", "sec", "mins", "min", "hrs",
		"hr", "ms", "us", "\xc2\xb5s", "ns", "s", "m", "h",
	};
	for (size_t k = 0; k < ARRAY_SIZE(units); k++) {
		size_t l = strlen(units[k]);
		if (lit(s, n, i, units[k]) && !(i + l < n && is_alpha(U(i + l))))
			return l;
	}
	return 0;
}

/* 1m 12s, 41ms, 0.36s, 3h2m, "41 ms": one or more number+unit groups. */
static size_t match_duration(const char *s, size_t n, size_t i)
{
	size_t j = i, groups = 0;
	for (;;) {
		if (j >= n || !is_digit(U(j)))
			break;
		size_t num = number_len(s, n, j);
		size_t u = j + num;
		size_t sp = u < n && s[u] == ' ' ? 1 : 0;
		size_t ul = time_unit(s, n, u + sp);
		if (!ul)
			break;
		/* a bare "m"/"s" after a space reads as a word, not a unit */
		if (sp && ul == 1)
			break;
		j = u + sp + ul;
		groups++;
		if (j + 1 < n && s[j] == ' ' && is_digit(U(j + 1)))
			j++;
		else if (!(j < n && is_digit(U(j))))
			break;
	}
	if (!groups)
		return 0;
	while (j > i && s[j - 1] == ' ')
		j--;
	return j - i;
}

void fp_normalise(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;
	bool space = false;
	size_t start_len = out->len;
	while (i < n) {
		unsigned char c = U(i);
		if (is_blank(c)) {
			space = true;
			i++;
			continue;
		}
		if (space && out->len > start_len)
			buf_addc(out, ' ');
		space = false;
		unsigned char prev = i ? U(i - 1) : ' ';
		size_t k;
		if (c == '/' || c == '\\' || (is_alpha(c) && i + 1 < n && s[i + 1] == ':')) {
			if ((k = match_tmp(s, n, i))) {
				buf_adds(out, "<TMP>");
				i += k;
				continue;
			}
			if ((k = match_workspace(s, n, i))) {
				buf_adds(out, "<WS>/");
				i += k;
				continue;
			}
		}
		if (is_word(c) && !is_word(prev)) {
			if ((k = match_uuid(s, n, i))) {
				buf_adds(out, "<UUID>");
			} else if ((k = match_timestamp(s, n, i)) || (k = match_time(s, n, i))) {
				buf_adds(out, "<TS>");
			} else if ((k = match_0x(s, n, i))) {
				buf_adds(out, "<HEX>");
			} else if ((k = match_ip(s, n, i))) {
				buf_adds(out, "<IP>");
			} else if ((k = match_hexword(s, n, i))) {
				buf_adds(out, "<HASH>");
			} else if ((k = match_token(s, n, i))) {
				buf_adds(out, "<ID>");
			} else if (lit(s, n, i, "tmp") && (k = run(s, n, i, is_word, 256)) >= 9) {
				buf_adds(out, "<TMP>");
			} else if (is_digit(c) && (k = match_duration(s, n, i))) {
				buf_adds(out, "<DUR>");
			} else if (is_digit(c)) {
				k = number_len(s, n, i);
				buf_adds(out, "<N>");
			} else {
				/* a word: copied whole, so digits inside it stay */
				k = run(s, n, i, is_word, SIZE_MAX);
				buf_add(out, s + i, k);
			}
			i += k;
			continue;
		}
		buf_addc(out, (char)c);
		i++;
	}
	buf_cstr(out);
}

uint64_t fp_hash(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	/* murmur3's finaliser: FNV alone mixes its last bytes poorly */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void fp_fingerprint(const char *category, const char *const *keys, const size_t *lens, int n,
		    char out[FP_HEX_LEN + 1])
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "fp%d", FP_NORMALISER_VERSION);
	buf_addc(&b, '\0');
	buf_adds(&b, category ? category : "");
	buf_addc(&b, '\0');
	for (int i = 0; i < n; i++) {
		fp_normalise(keys[i], lens[i], &b);
		buf_addc(&b, '\n');
	}
	uint64_t h = fp_hash(b.data, b.len, FP_SEED);
	snprintf(out, FP_HEX_LEN + 1, "%016llx", (unsigned long long)h);
	buf_release(&b);
}

int fp_is_prefix(const char *s)
{
	size_t n = strlen(s);
	if (n < 4 || n > FP_HEX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
