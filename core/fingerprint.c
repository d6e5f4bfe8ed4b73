/* fingerprint.c - normalising failure text and hashing it (see fingerprint.h).
 *
 * A hand-written scanner rather than a chain of regex substitutions: one
 * pass, no allocation beyond the output, and the order of the cases below is
 * the order of precedence (a UUID is not five numbers, a date is not a
 * subtraction).
 */
#include "fingerprint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Byte classes, one load instead of a chain of compares (ASCII only: the
 * normaliser is byte-wise and locale-independent). */
enum { CL_DIGIT = 1, CL_HEX = 2, CL_ALPHA = 4, CL_WORD = 8, CL_BLANK = 16 };
static const unsigned char byte_class[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0, 16, 16, 16, 16, 16,  0,  0, /* 0x00 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x10 */
	16,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x20 */
	11, 11, 11, 11, 11, 11, 11, 11, 11, 11,  0,  0,  0,  0,  0,  0, /* 0x30 */
	 0, 14, 14, 14, 14, 14, 14, 12, 12, 12, 12, 12, 12, 12, 12, 12, /* 0x40 */
	12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  0,  0,  0,  0,  8, /* 0x50 */
	 0, 14, 14, 14, 14, 14, 14, 12, 12, 12, 12, 12, 12, 12, 12, 12, /* 0x60 */
	12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  0,  0,  0,  0,  0, /* 0x70 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x80 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x90 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xa0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xb0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xc0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xd0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xe0 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0xf0 */
};

static bool is_digit(unsigned char c) { return byte_class[c] & CL_DIGIT; }
static bool is_alpha(unsigned char c) { return byte_class[c] & CL_ALPHA; }
static bool is_word(unsigned char c) { return byte_class[c] & CL_WORD; }
static bool is_hex(unsigned char c) { return byte_class[c] & CL_HEX; }
static bool is_blank(unsigned char c) { return byte_class[c] & CL_BLANK; }

#define U(i) ((unsigned char)s[i])

/* Length of a run of chars of a class in mask from i (at most max): a mask,
 * not a predicate function, so the loop is one table load and test a byte
 * (the warning-dense shape normalises every other line). */
static size_t run(const char *s, size_t n, size_t i, unsigned mask, size_t max)
{
	if (i >= n)
		return 0;
	size_t k = 0, end = n - i < max ? n - i : max;
	const unsigned char *p = (const unsigned char *)s + i;
	while (k < end && (byte_class[p[k]] & mask))
		k++;
	return k;
}

static bool lit_n(const char *s, size_t n, size_t i, const char *w, size_t l)
{
	return i + l <= n && !memcmp(s + i, w, l);
}

static bool lit(const char *s, size_t n, size_t i, const char *w)
{
	return lit_n(s, n, i, w, strlen(w));
}

/* A literal and its length, for the tables tried at every candidate
 * position (no strlen per try). */
struct word_lit {
	const char *s;
	size_t n;
};
#define WL(x) {x, sizeof(x) - 1}

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
	static const struct word_lit unix_tmp[] = {
		WL("/tmp/"), WL("/var/tmp/"), WL("/var/folders/"), WL("/private/var/folders/"),
		WL("/dev/shm/"), WL("/home/runner/work/_temp/"), WL("/__w/_temp/"),
		WL("/Users/runner/work/_temp/"),
	};
	/* each starts "/x": only those whose second byte is there are tried */
	if (s[i] == '/' && i + 1 < n) {
		for (size_t k = 0; k < ARRAY_SIZE(unix_tmp); k++)
			if (unix_tmp[k].s[1] == s[i + 1] &&
			    lit_n(s, n, i, unix_tmp[k].s, unix_tmp[k].n))
				return path_end(s, n, i + unix_tmp[k].n) - i;
	}
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
	/* the unix roots all start "/h", "/_", "/U" or "/g" */
	bool unix_root = s[i] == '/' && i + 1 < n &&
			 (s[i + 1] == 'h' || s[i + 1] == '_' || s[i + 1] == 'U' || s[i + 1] == 'g');
	for (size_t k = 0; unix_root && k < ARRAY_SIZE(roots); k++) {
		if (!lit(s, n, i, roots[k]))
			continue;
		size_t j = i + strlen(roots[k]);
		size_t a = component(s, n, j, '/');
		size_t b = a ? component(s, n, j + a, '/') : 0;
		if (a && b)
			return j + a + b - i;
	}
	if (unix_root && lit(s, n, i, "/github/workspace/"))
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
		if (run(s, n, j, CL_HEX, 13) != (size_t)groups[g])
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
	return run(s, n, i, CL_DIGIT, k) == k;
}

/* hh:mm:ss(.frac)? */
static size_t match_time(const char *s, size_t n, size_t i)
{
	size_t h = run(s, n, i, CL_DIGIT, 3);
	if (h < 1 || h > 2)
		return 0;
	size_t j = i + h;
	if (j + 6 > n || s[j] != ':' || !digits(s, n, j + 1, 2) || s[j + 3] != ':' ||
	    !digits(s, n, j + 4, 2))
		return 0;
	j += 6;
	if (j + 1 < n && (s[j] == '.' || s[j] == ',') && is_digit(U(j + 1)))
		j += 1 + run(s, n, j + 1, CL_DIGIT, 12);
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
	size_t k = 2 + run(s, n, i + 2, CL_HEX, 64);
	return i + k < n && is_word(U(i + k)) ? 0 : k;
}

static size_t match_ip(const char *s, size_t n, size_t i)
{
	size_t j = i;
	for (int g = 0; g < 4; g++) {
		size_t d = run(s, n, j, CL_DIGIT, 4);
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
		j += 1 + run(s, n, j + 1, CL_DIGIT, 5);
	return j - i;
}

/* A hex word of 7+ digits mixing digits and letters: commit ids, digests. */
static size_t match_hexword(const char *s, size_t n, size_t i)
{
	size_t k = run(s, n, i, CL_HEX, SIZE_MAX);
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
	size_t k = run(s, n, i, CL_DIGIT | CL_ALPHA, SIZE_MAX);
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
	size_t j = i + run(s, n, i, CL_DIGIT, SIZE_MAX);
	while (j + 1 < n && s[j] == '.' && is_digit(U(j + 1)))
		j += 1 + run(s, n, j + 1, CL_DIGIT, SIZE_MAX);
	if (j + 1 < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t e = j + 1;
		if (e < n && (s[e] == '+' || s[e] == '-'))
			e++;
		size_t d = run(s, n, e, CL_DIGIT, 6);
		if (d && !(e + d < n && is_word(U(e + d))))
			j = e + d;
	}
	return j - i;
}

/* A unit of time after a number: its length, or 0. */
static size_t time_unit(const char *s, size_t n, size_t i)
{
	static const struct word_lit units[] = {
		WL("milliseconds"), WL("millisecond"), WL("microseconds"), WL("seconds"),
		WL("second"), WL("minutes"), WL("minute"), WL("hours"), WL("hour"), WL("msecs"),
		WL("msec"), WL("secs"), WL("sec"), WL("mins"), WL("min"), WL("hrs"), WL("hr"),
		WL("ms"), WL("us"), WL("\xc2\xb5s"), WL("ns"), WL("s"), WL("m"), WL("h"),
	};
	/* tried after every number: most are followed by none of their first bytes */
	if (i >= n)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(units); k++) {
		size_t l = units[k].n;
		if (units[k].s[0] == s[i] && lit_n(s, n, i, units[k].s, l) &&
		    !(i + l < n && is_alpha(U(i + l))))
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

/* The output never grows more than 3 bytes per input byte ("7" -> "<N>"),
 * so the room is made once and bytes are put without a check each. */
#define FP_GROWTH 3

static void put(struct buf *out, const char *p, size_t k)
{
	memcpy(out->data + out->len, p, k);
	out->len += k;
}
#define PUT_LIT(out, x) put(out, x, sizeof(x) - 1)

void fp_normalise(const char *s, size_t n, struct buf *out)
{
	if (n == 0) {
		buf_cstr(out);
		return;
	}
	if (n > (SIZE_MAX - 2) / FP_GROWTH)
		die("fp_normalise: %zu bytes of text", n);
	buf_reserve(out, FP_GROWTH * n + 1);
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
			out->data[out->len++] = ' ';
		space = false;
		unsigned char prev = i ? U(i - 1) : ' ';
		size_t k;
		if (c == '/' || c == '\\' || (is_alpha(c) && i + 1 < n && s[i + 1] == ':')) {
			if ((k = match_tmp(s, n, i))) {
				PUT_LIT(out, "<TMP>");
				i += k;
				continue;
			}
			if ((k = match_workspace(s, n, i))) {
				PUT_LIT(out, "<WS>/");
				i += k;
				continue;
			}
		}
		if (is_word(c) && !is_word(prev)) {
			/* the word's leading runs of digits, hex digits, letters and
			 * digits, and its length, in one pass: each matcher below
			 * needs one of them long enough, so most are not tried */
			size_t d = run(s, n, i, CL_DIGIT, SIZE_MAX);
			size_t x = d + run(s, n, i + d, CL_HEX, SIZE_MAX);
			size_t a = x + run(s, n, i + x, CL_DIGIT | CL_ALPHA, SIZE_MAX);
			size_t w = a + run(s, n, i + a, CL_WORD, SIZE_MAX);
			if (x == 8 && (k = match_uuid(s, n, i))) {
				PUT_LIT(out, "<UUID>");
			} else if (((d == 4 && (k = match_timestamp(s, n, i))) ||
				    ((d == 1 || d == 2) && (k = match_time(s, n, i))))) {
				PUT_LIT(out, "<TS>");
			} else if (d == 1 && c == '0' && (k = match_0x(s, n, i))) {
				PUT_LIT(out, "<HEX>");
			} else if (d >= 1 && d <= 3 && (k = match_ip(s, n, i))) {
				PUT_LIT(out, "<IP>");
			} else if (x >= 7 && (k = match_hexword(s, n, i))) {
				PUT_LIT(out, "<HASH>");
			} else if (a >= 20 && (k = match_token(s, n, i))) {
				PUT_LIT(out, "<ID>");
			} else if (w >= 9 && c == 't' && lit_n(s, n, i, "tmp", 3)) {
				k = MIN(w, (size_t)256);
				PUT_LIT(out, "<TMP>");
			} else if (d && (k = match_duration(s, n, i))) {
				PUT_LIT(out, "<DUR>");
			} else if (d) {
				k = number_len(s, n, i);
				PUT_LIT(out, "<N>");
			} else {
				/* a word: copied whole, so digits inside it stay */
				k = w;
				put(out, s + i, k);
			}
			i += k;
			continue;
		}
		out->data[out->len++] = (char)c;
		i++;
	}
	out->data[out->len] = '\0';
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

#define FP_STR_(x) #x
#define FP_STR(x) FP_STR_(x)

/* "fp<version>\0<category>\0" then each key normalised and a newline: the
 * bytes a fingerprint hashes, into b (emptied first); the room for all of
 * it is made at once (see FP_GROWTH) */
static void fp_text(const char *category, const char *const *keys, const size_t *lens, int n,
		    struct buf *b)
{
	static const char head[] = "fp" FP_STR(FP_NORMALISER_VERSION);
	if (!category)
		category = "";
	size_t cl = strlen(category), room = sizeof(head) + cl + 1;
	for (int i = 0; i < n; i++) {
		if (lens[i] > (SIZE_MAX - room) / (FP_GROWTH + 1))
			die("fp_fingerprint: %zu bytes of text", lens[i]);
		room += FP_GROWTH * lens[i] + 2;
	}
	buf_reset(b);
	buf_reserve(b, room);
	buf_add(b, head, sizeof(head)); /* with its NUL */
	buf_add(b, category, cl + 1);
	for (int i = 0; i < n; i++) {
		fp_normalise(keys[i], lens[i], b);
		buf_addc(b, '\n');
	}
}

uint64_t fp_fingerprint_hash(const char *category, const char *const *keys, const size_t *lens,
			     int n)
{
	struct buf b = BUF_INIT;
	fp_text(category, keys, lens, n, &b);
	uint64_t h = fp_hash(b.data, b.len, FP_SEED);
	buf_release(&b);
	return h;
}

/* --- the memo --------------------------------------------------------------------- */
/* Many findings of one log normalise to the same text (a compiler warning
 * at another line): the text's FNV hash, a byte at a time, is looked up
 * by a cheaper one, 8 bytes at a time, in a direct-mapped table. */
#define FP_MEMO_SLOTS 256        /* a power of two */
#define FP_MEMO_TEXT_MAX 2048    /* longer texts are hashed each time */

struct fp_memo_slot {
	uint64_t key;  /* memo_key() of text; 0 with text NULL: empty */
	uint64_t fp;   /* fp_hash() of text */
	char *text;
	size_t len, alloc;
};

struct fp_memo {
	struct buf b; /* the text being fingerprinted */
	struct fp_memo_slot slot[FP_MEMO_SLOTS];
	uint64_t hits, misses;
};

static uint64_t memo_key(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	uint64_t w = 0;
	memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return h;
}

struct fp_memo *fp_memo_new(void)
{
	return xcalloc(1, sizeof(struct fp_memo));
}

void fp_memo_free(struct fp_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < FP_MEMO_SLOTS; i++)
		free(m->slot[i].text);
	buf_release(&m->b);
	free(m);
}

void fp_memo_stats(const struct fp_memo *m, uint64_t *hits, uint64_t *misses)
{
	*hits = m ? m->hits : 0;
	*misses = m ? m->misses : 0;
}

uint64_t fp_fingerprint_memo(struct fp_memo *m, const char *category, const char *const *keys,
			     const size_t *lens, int n)
{
	if (!m)
		return fp_fingerprint_hash(category, keys, lens, n);
	fp_text(category, keys, lens, n, &m->b);
	const char *t = m->b.data;
	size_t len = m->b.len;
	if (len > FP_MEMO_TEXT_MAX) {
		m->misses++;
		return fp_hash(t, len, FP_SEED);
	}
	uint64_t key = memo_key(t, len);
	struct fp_memo_slot *sl = &m->slot[key & (FP_MEMO_SLOTS - 1)];
	if (sl->text && sl->key == key && sl->len == len && !memcmp(sl->text, t, len)) {
		m->hits++;
		return sl->fp;
	}
	m->misses++;
	uint64_t fp = fp_hash(t, len, FP_SEED);
	if (sl->alloc < len + 1) {
		sl->alloc = MAX(len + 1, (size_t)64);
		free(sl->text);
		sl->text = xmalloc(sl->alloc);
	}
	memcpy(sl->text, t, len);
	sl->len = len;
	sl->key = key;
	sl->fp = fp;
	return fp;
}

void fp_hex(uint64_t h, char out[FP_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = FP_HEX_LEN - 1; i >= 0; i--, h >>= 4)
		out[i] = digits[h & 15];
	out[FP_HEX_LEN] = '\0';
}

void fp_fingerprint(const char *category, const char *const *keys, const size_t *lens, int n,
		    char out[FP_HEX_LEN + 1])
{
	fp_hex(fp_fingerprint_hash(category, keys, lens, n), out);
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
