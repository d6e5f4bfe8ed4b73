/* logparse.c - GitHub Actions log lines: splitting, timestamps, markers, ANSI.
 *
 * Everything here runs once per line of logs that can reach 1 GB, so nothing
 * allocates per line and the scanning loops lean on memchr().
 */
#include "logparse.h"

#include <stdlib.h>
#include <string.h>

/* --- splitter --------------------------------------------------------------- */
void splitter_init(struct splitter *sp, split_cb cb, void *ctx)
{
	sp->cb = cb;
	sp->ctx = ctx;
	sp->off = 0;
	sp->lineno = 0;
	sp->line_off = 0;
	sp->line_len = 0;
	sp->head_len = 0;
	sp->pending_cr = false;
}

static unsigned term_len(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

static void head_append(struct splitter *sp, const char *p, size_t n)
{
	size_t room = SPLIT_HEAD_MAX - sp->head_len;
	if (n > room)
		n = room;
	if (n) {
		memcpy(sp->head + sp->head_len, p, n);
		sp->head_len += n;
	}
}

/* The state is advanced before the callback runs, so a callback that stops
 * the feed leaves the splitter describing the line after the reported one. */
static int emit(struct splitter *sp, const char *head, size_t head_len, enum line_term term)
{
	struct split_line l;
	l.lineno = ++sp->lineno;
	l.off = sp->line_off;
	l.len = sp->line_len;
	l.term = term;
	l.head = head;
	l.head_len = head_len;
	sp->line_off = l.off + l.len + term_len(term);
	sp->line_len = 0;
	sp->head_len = 0;
	return sp->cb ? sp->cb(sp->ctx, &l) : 0;
}

int splitter_feed(struct splitter *sp, const void *data, size_t n)
{
	const char *p = data, *end = p + n;
	const char *nl = NULL; /* next LF at or after p (end if none): CR-heavy lines rescan nothing */
	int rc;

	if (n == 0)
		return 0;
	if (sp->pending_cr) {
		sp->pending_cr = false;
		if (*p == '\n') {
			p++;
			sp->off++;
			rc = emit(sp, sp->head, sp->head_len, TERM_CRLF);
		} else {
			rc = emit(sp, sp->head, sp->head_len, TERM_CR);
		}
		if (rc)
			return rc;
	}
	while (p < end) {
		if (!nl || nl < p) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				nl = end;
		}
		const char *stop = memchr(p, '\r', (size_t)(nl - p));
		if (!stop)
			stop = nl;
		size_t seg = (size_t)(stop - p);
		if (stop == end) {
			head_append(sp, p, seg);
			sp->line_len += seg;
			sp->off += seg;
			return 0;
		}
		enum line_term term;
		const char *next;
		if (*stop == '\n') {
			term = TERM_LF;
			next = stop + 1;
		} else if (stop + 1 == end) {
			/* a CR ending the piece may be the first half of a CRLF */
			head_append(sp, p, seg);
			sp->line_len += seg;
			sp->off += seg + 1;
			sp->pending_cr = true;
			return 0;
		} else if (stop[1] == '\n') {
			term = TERM_CRLF;
			next = stop + 2;
		} else {
			term = TERM_CR;
			next = stop + 1;
		}
		const char *head;
		size_t head_len;
		if (sp->line_len == 0) {
			/* the whole line is in this piece: no copy */
			head = p;
			head_len = MIN(seg, (size_t)SPLIT_HEAD_MAX);
		} else {
			head_append(sp, p, seg);
			head = sp->head;
			head_len = sp->head_len;
		}
		sp->line_len += seg;
		sp->off += (uint64_t)(next - p);
		p = next;
		rc = emit(sp, head, head_len, term);
		if (rc)
			return rc;
	}
	return 0;
}

int splitter_finish(struct splitter *sp)
{
	if (sp->pending_cr) {
		sp->pending_cr = false;
		return emit(sp, sp->head, sp->head_len, TERM_CR);
	}
	if (sp->line_len > 0)
		return emit(sp, sp->head, sp->head_len, TERM_NONE);
	return 0;
}

/* --- one line ------------------------------------------------------------- */
static const char *const kind_names[LINE_KIND_COUNT] = {
	[LINE_PLAIN] = "plain",     [LINE_GROUP] = "group",     [LINE_ENDGROUP] = "endgroup",
	[LINE_ERROR] = "error",     [LINE_WARNING] = "warning", [LINE_NOTICE] = "notice",
	[LINE_DEBUG] = "debug",     [LINE_COMMAND] = "command", [LINE_SECTION] = "section",
};

const char *line_kind_name(enum line_kind k)
{
	if ((unsigned)k >= LINE_KIND_COUNT)
		return "unknown";
	return kind_names[k];
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

#define D2(s) (((s)[0] - '0') * 10 + ((s)[1] - '0'))

/* The shape by eight bytes at a time (every byte of a digit position is
 * 0x30..0x39, every other one its separator), then the field ranges: a byte
 * at a time, the shape was a tenth of a small log's import on each of its
 * two threads (every line's timestamp is checked by the importer and by the
 * rules scan). */
static const unsigned char ts_mask[32] = {
	0xF0, 0xF0, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF,
	0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xFF, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xFF};
static const unsigned char ts_want[32] = "0000-00-00T00:00:00.0000000Z";
static const unsigned char ts_add[32] = {6, 6, 6, 6, 0, 6, 6, 0, 6, 6, 0, 6, 6, 0,
					 6, 6, 0, 6, 6, 0, 6, 6, 6, 6, 6, 6, 6, 0};

static bool ts_word_ok(const char *s, int at)
{
	uint64_t w, m, want, add;
	memcpy(&w, s + at, 8);
	memcpy(&m, ts_mask + at, 8);
	memcpy(&want, ts_want + at, 8);
	memcpy(&add, ts_add + at, 8);
	/* high nibbles (and separators) first; then adding 6 to a digit byte
	 * 0x3N keeps its high nibble 3 only when N <= 9, and cannot carry into
	 * the next byte */
	return (w & m) == want && ((w + add) & m) == want;
}

/* Years before 1970 are refused so that -1 stays an unambiguous error. */
bool logts_valid(const char *s)
{
	if (!ts_word_ok(s, 0) || !ts_word_ok(s, 8) || !ts_word_ok(s, 16) || !ts_word_ok(s, 20))
		return false;
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year = D2(s) * 100 + D2(s + 2), mon = D2(s + 5), day = D2(s + 8);
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    D2(s + 11) > 23 || D2(s + 14) > 59 || D2(s + 17) > 59)
		return false;
	return !(mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)));
}

int64_t logts_parse(const char *s, size_t n)
{
	if (n != 28 || !s || !logts_valid(s))
		return -1;
	int year = D2(s) * 100 + D2(s + 2);
	int mon = D2(s + 5), day = D2(s + 8);
	int hh = D2(s + 11), mm = D2(s + 14), ss = D2(s + 17);
	int64_t frac = 0;
	for (int i = 20; i < 26; i++) /* the 7th digit is 100 ns: below our resolution */
		frac = frac * 10 + (s[i] - '0');
	int64_t secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 +
		       mm * 60 + ss;
	return secs * 1000000 + frac;
}

static bool skip_bom(const char **s, size_t *n)
{
	if (*n >= 3 && (unsigned char)(*s)[0] == 0xEF && (unsigned char)(*s)[1] == 0xBB &&
	    (unsigned char)(*s)[2] == 0xBF) {
		*s += 3;
		*n -= 3;
		return true;
	}
	return false;
}

struct marker {
	const char *name;
	unsigned char len;
	unsigned char kind;
	/* also accepted as [name]: only [command], which @actions/exec prints
	 * itself; "[error] ..." at a line start is too common in tool output to
	 * be a runner marker */
	bool single;
};

static const struct marker markers[] = {
	{"group", 5, LINE_GROUP, false},     {"endgroup", 8, LINE_ENDGROUP, false},
	{"error", 5, LINE_ERROR, false},     {"warning", 7, LINE_WARNING, false},
	{"notice", 6, LINE_NOTICE, false},   {"debug", 5, LINE_DEBUG, false},
	{"command", 7, LINE_COMMAND, true}, {"section", 7, LINE_SECTION, false},
};

/* s points after the opening bracket; returns the marker or NULL. */
static const struct marker *match_marker(const char *s, size_t n, bool single)
{
	if (n < 6) /* shortest: "error]" */
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(markers); i++) {
		const struct marker *m = &markers[i];
		if (m->name[0] != s[0] || n <= m->len || s[m->len] != ']')
			continue;
		if (memcmp(s, m->name, m->len) == 0)
			return (single && !m->single) ? NULL : m;
	}
	return NULL;
}

static inline void line_parse(const char *s, size_t n, struct logline *out, bool timed)
{
	if (!s) {
		s = "";
		n = 0;
	}
	out->has_bom = false;
	out->has_ts = false;
	out->ts_us = 0;
	out->ts = NULL;
	out->kind = LINE_PLAIN;

	while (skip_bom(&s, &n))
		out->has_bom = true;
	/* cheap shape check first: most continuation lines fail here */
	if (n >= 28 && s[4] == '-' && s[10] == 'T' && s[27] == 'Z' && (n == 28 || s[28] == ' ')) {
		/* logts_parse() is -1 exactly when logts_valid() is false */
		int64_t us = timed ? logts_parse(s, 28) : logts_valid(s) ? 0 : -1;
		if (us >= 0) {
			out->has_ts = true;
			out->ts_us = us;
			out->ts = s;
			s += n == 28 ? 28 : 29;
			n -= n == 28 ? 28 : 29;
			while (skip_bom(&s, &n))
				out->has_bom = true;
		}
	}
	out->text = s;
	out->text_len = n;
	out->msg = s;
	out->msg_len = n;
	if (n < 7 || (s[0] != '#' && s[0] != '['))
		return;
	size_t skip;
	bool single;
	if (s[0] == '#') {
		if (s[1] != '#' || s[2] != '[')
			return;
		skip = 3;
		single = false;
	} else {
		skip = 1;
		single = true;
	}
	const struct marker *m = match_marker(s + skip, n - skip, single);
	if (!m)
		return;
	out->kind = (enum line_kind)m->kind;
	skip += m->len + 1u;
	out->msg = s + skip;
	out->msg_len = n - skip;
}

void logline_parse(const char *s, size_t n, struct logline *out)
{
	line_parse(s, n, out, true);
}

void logline_parse_untimed(const char *s, size_t n, struct logline *out)
{
	line_parse(s, n, out, false);
}

bool logline_text_may_start(const char *s, size_t n, const char *firsts)
{
	if (!s)
		return false;
	while (skip_bom(&s, &n))
		;
	if (n && s[0] && strchr(firsts, s[0]))
		return true;
	/* logline_parse()'s shape test: the text is after the prefix only
	 * when it passes */
	if (n >= 28 && s[4] == '-' && s[10] == 'T' && s[27] == 'Z' && (n == 28 || s[28] == ' ')) {
		size_t k = n == 28 ? 28 : 29;
		s += k;
		n -= k;
		while (skip_bom(&s, &n))
			;
		return n && s[0] && strchr(firsts, s[0]);
	}
	return false;
}

/* --- ANSI ------------------------------------------------------------------- */
#define ESC 0x1b

size_t ansi_esc_len(const unsigned char *s, size_t n)
{
	size_t i = 1;
	if (n < 2)
		return n;
	unsigned char c = s[1];
	if (c == '[') {
		for (i = 2; i < n; i++) {
			if (s[i] >= 0x40 && s[i] <= 0x7E)
				return i + 1;
			if (s[i] < 0x20 || s[i] > 0x3F)
				return i; /* broken CSI: drop what came so far, keep this byte */
		}
		return n;
	}
	if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
		for (i = 2; i < n; i++) {
			if (c == ']' && s[i] == 0x07)
				return i + 1;
			if (s[i] == ESC && i + 1 < n && s[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	/* nF: intermediates then a final byte (ESC ( B); Fp/Fe/Fs: one byte */
	while (i < n && s[i] >= 0x20 && s[i] <= 0x2F)
		i++;
	if (i < n && s[i] >= 0x30 && s[i] <= 0x7E)
		return i + 1;
	return i; /* lone or broken ESC: drop it and its intermediates */
}

void ansi_strip(const char *s, size_t n, struct buf *out)
{
	if (!s)
		return;
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *e = memchr(p, ESC, (size_t)(end - p));
		if (!e) {
			buf_add(out, p, (size_t)(end - p));
			return;
		}
		if (e > p)
			buf_add(out, p, (size_t)(e - p));
		p = e + ansi_esc_len(e, (size_t)(end - e));
	}
}

void ansi_attr_reset(struct ansi_attr *a)
{
	a->fg = a->bg = ANSI_DEFAULT;
	a->bold = a->dim = a->italic = a->underline = a->reverse = false;
}

static int clamp255(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Nearest colour of the 6x6x6 cube or the grey ramp; the first 16 are left
 * out because themes redefine them. */
static int rgb_to_256(int r, int g, int b)
{
	static const int lv[6] = {0, 95, 135, 175, 215, 255};
	int rgb[3] = {clamp255(r), clamp255(g), clamp255(b)}, idx[3];
	long cube_d = 0;
	for (int c = 0; c < 3; c++) {
		int best = 0;
		for (int k = 1; k < 6; k++)
			if (abs(rgb[c] - lv[k]) < abs(rgb[c] - lv[best]))
				best = k;
		idx[c] = best;
		long d = rgb[c] - lv[best];
		cube_d += d * d;
	}
	int grey = 0;
	long grey_d = -1;
	for (int k = 0; k < 24; k++) {
		int v = 8 + 10 * k;
		long d = 0;
		for (int c = 0; c < 3; c++)
			d += (long)(rgb[c] - v) * (rgb[c] - v);
		if (grey_d < 0 || d < grey_d) {
			grey_d = d;
			grey = k;
		}
	}
	if (grey_d < cube_d)
		return 232 + grey;
	return 16 + 36 * idx[0] + 6 * idx[1] + idx[2];
}

#define SGR_MAX_PARAMS 64

static void set_colour(struct ansi_attr *a, int which, int colour)
{
	if (colour < 0 || colour > 255)
		return;
	if (which == 38)
		a->fg = colour;
	else if (which == 48)
		a->bg = colour;
	/* 58 (underline colour) is parsed only to skip its arguments */
}

static void apply_code(struct ansi_attr *a, int c)
{
	if (c == 0)
		ansi_attr_reset(a);
	else if (c == 1)
		a->bold = true;
	else if (c == 2)
		a->dim = true;
	else if (c == 3)
		a->italic = true;
	else if (c == 4)
		a->underline = true;
	else if (c == 7)
		a->reverse = true;
	else if (c == 22)
		a->bold = a->dim = false;
	else if (c == 23)
		a->italic = false;
	else if (c == 24)
		a->underline = false;
	else if (c == 27)
		a->reverse = false;
	else if (c >= 30 && c <= 37)
		a->fg = c - 30;
	else if (c == 39)
		a->fg = ANSI_DEFAULT;
	else if (c >= 40 && c <= 47)
		a->bg = c - 40;
	else if (c == 49)
		a->bg = ANSI_DEFAULT;
	else if (c >= 90 && c <= 97)
		a->fg = 8 + c - 90;
	else if (c >= 100 && c <= 107)
		a->bg = 8 + c - 100;
}

void ansi_apply_sgr(struct ansi_attr *a, const char *params, size_t n)
{
	int v[SGR_MAX_PARAMS];
	bool sub[SGR_MAX_PARAMS]; /* v[i] came after a ':' (ITU T.416 sub-parameter) */
	int cnt = 0, cur = -1;
	bool cur_sub = false;

	if (!params)
		n = 0;
	for (size_t i = 0; i <= n && cnt < SGR_MAX_PARAMS; i++) {
		char c = i < n ? params[i] : ';';
		if (c >= '0' && c <= '9') {
			cur = cur < 0 ? c - '0' : cur * 10 + (c - '0');
			if (cur > 65535)
				cur = 65535;
		} else if (c == ';' || c == ':') {
			v[cnt] = cur;
			sub[cnt] = cur_sub;
			cnt++;
			cur = -1;
			cur_sub = c == ':';
		} else {
			return; /* not an SGR parameter string: ignore it whole */
		}
	}
	for (int i = 0; i < cnt;) {
		int code = v[i] < 0 ? 0 : v[i];
		int j = i + 1;
		while (j < cnt && sub[j])
			j++;
		if (j > i + 1) {
			/* colon form: 38:5:n, 38:2:r:g:b, 38:2:cs:r:g:b, 4:x */
			int *s = &v[i + 1], ns = j - i - 1;
			if (code == 38 || code == 48 || code == 58) {
				if (s[0] == 5 && ns >= 2)
					set_colour(a, code, s[1]);
				else if (s[0] == 2 && ns >= 4) {
					int *c = ns == 4 ? &s[1] : &s[2];
					set_colour(a, code, rgb_to_256(c[0] < 0 ? 0 : c[0], c[1] < 0 ? 0 : c[1],
								      c[2] < 0 ? 0 : c[2]));
				}
			} else if (code == 4) {
				a->underline = s[0] != 0;
			} else {
				apply_code(a, code);
			}
			i = j;
			continue;
		}
		if (code == 38 || code == 48 || code == 58) {
			int mode = i + 1 < cnt ? v[i + 1] : -1;
			if (mode == 5 && i + 2 < cnt) {
				set_colour(a, code, v[i + 2]);
				i += 3;
			} else if (mode == 2 && i + 4 < cnt) {
				set_colour(a, code,
					   rgb_to_256(v[i + 2] < 0 ? 0 : v[i + 2], v[i + 3] < 0 ? 0 : v[i + 3],
						      v[i + 4] < 0 ? 0 : v[i + 4]));
				i += 5;
			} else {
				return; /* malformed extended colour: the rest is unreliable */
			}
			continue;
		}
		apply_code(a, code);
		i++;
	}
}
