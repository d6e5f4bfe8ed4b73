/* util.c - allocation, buffers, errors, files, time, UTF-8 helpers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*oom_hook)(void);

void util_set_oom_hook(void (*hook)(void))
{
	oom_hook = hook;
}

NORETURN static void oom(size_t n)
{
	if (oom_hook)
		oom_hook();
	fprintf(stderr, "ciscope: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

void xgrow(void **array, size_t *alloc, size_t need, size_t elem)
{
	if (need <= *alloc)
		return;
	size_t n = *alloc ? *alloc : 8;
	while (n < need)
		n = n * 3 / 2 + 8;
	*array = xrealloc(*array, n * elem);
	*alloc = n;
}

void die(const char *fmt, ...)
{
	va_list ap;
	fputs("ciscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- buffers ---------------------------------------------------------------- */
static char empty_str[1];

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->alloc = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->alloc)
		return;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < b->len + extra + 1)
		n *= 2;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

const char *buf_cstr(struct buf *b)
{
	return b->data ? b->data : empty_str;
}

char *buf_detach(struct buf *b, size_t *len)
{
	if (!b->data)
		buf_reserve(b, 0), b->data[0] = '\0';
	char *p = b->data;
	if (len)
		*len = b->len;
	buf_init(b);
	return p;
}

void buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_addc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			switch (c) {
			case '"': buf_add(b, "\\\"", 2); break;
			case '\\': buf_add(b, "\\\\", 2); break;
			case '\n': buf_add(b, "\\n", 2); break;
			case '\r': buf_add(b, "\\r", 2); break;
			case '\t': buf_add(b, "\\t", 2); break;
			default:
				if (c < 0x20 || c == 0x7f) {
					char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
					buf_add(b, e, 6);
				} else {
					buf_addc(b, (char)c);
				}
			}
			i++;
			continue;
		}
		int l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (l == 0) {
			buf_adds(b, "\xef\xbf\xbd");
			i++;
		} else {
			buf_add(b, s + i, (size_t)l);
			i += (size_t)l;
		}
	}
	buf_addc(b, '"');
}

/* --- errors ------------------------------------------------------------------- */
void err_clear(struct cs_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int err_set(struct cs_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(err->msg)) /* cut on a character boundary */
		err->msg[utf8_complete_prefix(err->msg, sizeof(err->msg) - 1)] = '\0';
	err->code = code ? code : CS_EINVAL;
	return -1;
}

int err_prefix(struct cs_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_adds(&b, ": ");
	buf_adds(&b, err->msg);
	size_t n = MIN(b.len, sizeof(err->msg) - 1);
	/* do not cut a UTF-8 sequence in half */
	while (n > 0 && n < b.len && ((unsigned char)b.data[n] & 0xc0) == 0x80)
		n--;
	memcpy(err->msg, b.data, n);
	err->msg[n] = '\0';
	buf_release(&b);
	if (!err->code)
		err->code = CS_EINVAL;
	return -1;
}

/* --- files ---------------------------------------------------------------------- */
int file_read_head(const char *path, size_t max, struct buf *out, bool *more,
		   struct cs_err *err)
{
	*more = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? CS_ENOTFOUND : CS_EIO, "cannot read '%s': %s",
			       path, strerror(errno));
	char tmp[65536];
	size_t start = out->len;
	for (;;) {
		/* one byte past max tells a longer file from one of max bytes */
		size_t room = max - (out->len - start);
		ssize_t r = read(fd, tmp, room < sizeof(tmp) ? room + 1 : sizeof(tmp));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(e));
		}
		if (r == 0)
			break;
		if ((size_t)r > room) {
			buf_add(out, tmp, room);
			*more = true;
			break;
		}
		buf_add(out, tmp, (size_t)r);
	}
	close(fd);
	buf_reserve(out, 0);
	out->data[out->len] = '\0';
	return 0;
}

int file_read_all(const char *path, size_t max, struct buf *out, struct cs_err *err)
{
	bool more;
	if (file_read_head(path, max, out, &more, err) < 0)
		return -1;
	if (more)
		return err_set(err, CS_EINVAL, "cannot read '%s': larger than %zu bytes", path, max);
	return 0;
}

bool path_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *path_basename(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *p = path + n;
	while (p > path && p[-1] != '/')
		p--;
	return p;
}

/* By copies, not a format: the folder walk joins the next 8 names a log
 * (read ahead), 2,000 instructions each through xasprintf's two passes. */
char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t slash = !(n && a[n - 1] == '/');
	char *p = xmalloc(n + slash + m + 1);
	memcpy(p, a, n);
	p[n] = '/';
	memcpy(p + n + slash, b, m + 1);
	return p;
}

int mkdir_p(const char *path, unsigned mode, struct cs_err *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;
			err_set(err, CS_EIO, "cannot create directory '%s': %s", p, strerror(e));
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		int e = errno;
		err_set(err, CS_EIO, "cannot create directory '%s': %s", p, strerror(e));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

/* --- time ----------------------------------------------------------------------- */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
	int v = 0;
	if (at + count > n)
		return -1;
	for (size_t i = 0; i < count; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return 0;
}

int64_t time_parse_rfc3339(const char *s, size_t n)
{
	int Y, M, D, h, m, sec;
	if (!s)
		return CS_TIME_NONE;
	if (digits(s, n, 0, 4, &Y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &M) ||
	    s[7] != '-' || digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &m) || s[16] != ':' ||
	    digits(s, n, 17, 2, &sec))
		return CS_TIME_NONE;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return CS_TIME_NONE;
	size_t i = 19;
	int64_t ms = 0;
	if (i < n && s[i] == '.') {
		i++;
		int scale = 100, any = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			ms += (s[i] - '0') * scale;
			scale /= 10;
			i++;
			any = 1;
		}
		if (!any)
			return CS_TIME_NONE;
	}
	int64_t off = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int oh, om;
		if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
		    digits(s, n, i + 4, 2, &om))
			return CS_TIME_NONE;
		off = (oh * 60 + om) * 60;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return CS_TIME_NONE;
	}
	if (i != n)
		return CS_TIME_NONE;
	int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
	int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - off;
	return secs * 1000 + ms;
}

/* days_from_civil's inverse: the date of a day count from 1970-01-01 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *o, unsigned v, int w)
{
	for (int i = w - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + w;
}

/* By arithmetic, not gmtime_r and strftime (the same text, a fraction of
 * the time: `metrics show` writes one per point, 100,000 of them in
 * bench/metrics.sh); years outside 1000..9999 by strftime (its %Y has
 * no padding). */
void time_format_iso(int64_t ms, char *out, size_t n)
{
	if (ms == CS_TIME_NONE) {
		snprintf(out, n, "-");
		return;
	}
	int64_t t = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	unsigned sec = (unsigned)(t - days * 86400), mo, d;
	int64_t y;
	civil_from_days(days, &y, &mo, &d);
	if (y < 1000 || y > 9999 || n < 21) {
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	char *o = put_digits(out, (unsigned)y, 4);
	*o++ = '-';
	o = put_digits(o, mo, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, sec / 3600, 2);
	*o++ = ':';
	o = put_digits(o, sec / 60 % 60, 2);
	*o++ = ':';
	o = put_digits(o, sec % 60, 2);
	*o++ = 'Z';
	*o = '\0';
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_ms(void)
{
	const char *fixed = getenv("CISCOPE_TIME_NOW");
	if (fixed && *fixed) {
		int64_t t = time_parse_rfc3339(fixed, strlen(fixed));
		if (t != CS_TIME_NONE)
			return t;
		char *end;
		long long v = strtoll(fixed, &end, 10);
		if (*end == '\0')
			return (int64_t)v * 1000;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_format_duration(int64_t ms, char *out, size_t n)
{
	if (ms == CS_TIME_NONE || ms < 0) {
		snprintf(out, n, "-");
		return;
	}
	int64_t s = ms / 1000;
	if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, n, "%lldh %02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
}

void time_format_age(int64_t ms, int64_t now, char *out, size_t n)
{
	if (ms == CS_TIME_NONE) {
		snprintf(out, n, "-");
		return;
	}
	int64_t d = (now - ms) / 1000;
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(out, n, "%llds ago", (long long)d);
	else if (d < 3600)
		snprintf(out, n, "%lldm ago", (long long)(d / 60));
	else if (d < 86400)
		snprintf(out, n, "%lldh ago", (long long)(d / 3600));
	else if (d < 86400 * 60)
		snprintf(out, n, "%lldd ago", (long long)(d / 86400));
	else {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(out, n, "%Y-%m-%d", &tm);
	}
}

/* --- UTF-8 ---------------------------------------------------------------------- */
int utf8_seq_len(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	int len;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t utf8_complete_prefix(const char *s, size_t n)
{
	/* the last sequence's lead byte is at most 3 bytes back */
	size_t k = n;
	while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (k == 0)
		return n;
	unsigned char lead = (unsigned char)s[k - 1];
	size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return n - (k - 1) < want ? k - 1 : n;
}

bool utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += (size_t)l;
	}
	return true;
}

/* --- strings -------------------------------------------------------------------- */
bool str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

void buf_add_shell_quoted(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

int thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
