/* chart.c - line charts as braille/ASCII text lines and as SVG (chart.h). */
#include "chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sanitize.h"

const char *chart_role_name(enum chart_role r)
{
	static const char *const names[CHART_ROLE_COUNT] = {
		"text", "axis", "ref", "cand", "delta", "threshold", "fail", "mark"};
	return (unsigned)r < CHART_ROLE_COUNT ? names[r] : "text";
}

/* u in decimal at o, NUL-terminated; returns its digits */
static int put_uint(unsigned long long u, char *o)
{
	char t[24];
	int k = 0;
	do {
		t[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	for (int i = 0; i < k; i++)
		o[i] = t[k - 1 - i];
	o[k] = 0;
	return k;
}

/* %.<prec>g of v (0 < |v|, finite) without printf when the rounding is
 * certain: v * 10^k is computed with one rounding (10^k exact), so within
 * 2^-52 relative of the exact product; a fraction within 1e-6 of a half
 * (a tie or nearly) is left to snprintf, which rounds the exact binary
 * value. Returns false when snprintf must answer. Byte-identical to
 * snprintf's %.<prec>g otherwise (tests/unit/t_chart.c compares them). */
static bool fmt_g_fast(double v, int prec, char *out, size_t n)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
				     1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
				     1e21, 1e22};
	double a = fabs(v);
	if (!(a >= 1e-12 && a < 1e12) || n < 16)
		return false;
	int x = (int)floor(log10(a)); /* a guess; corrected below */
	long lo = 1, hi;
	for (int i = 1; i < prec; i++)
		lo *= 10;
	hi = lo * 10; /* prec significant digits: lo <= N < hi */
	long N = 0;
	for (int tries = 0; tries < 3; tries++) {
		int k = prec - 1 - x;
		if (k > 22 || k < -22)
			return false;
		double t = k >= 0 ? a * p10[k] : a / p10[-k];
		double f = floor(t);
		double fr = t - f;
		if (fabs(fr - 0.5) < 1e-6)
			return false;
		N = (long)f + (fr > 0.5);
		if (N >= hi) {
			x++;
			continue;
		}
		if (N < lo) {
			/* t near lo - 0.5 rounding up is N == lo, handled above */
			x--;
			continue;
		}
		break;
	}
	if (N < lo || N >= hi)
		return false;
	char dig[24];
	int nd = put_uint((unsigned long long)N, dig);
	while (nd > 1 && dig[nd - 1] == '0')
		dig[--nd] = 0; /* %g drops trailing zeros */
	char *o = out;
	if (v < 0)
		*o++ = '-';
	if (x < -4 || x >= prec) {
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		int e = x < 0 ? -x : x;
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		if (e < 10)
			*o++ = '0';
		o += sprintf(o, "%d", e);
	} else if (x < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > x; i--)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	} else {
		/* x + 1 digits before the point */
		for (int i = 0; i <= x; i++)
			*o++ = i < nd ? dig[i] : '0';
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	}
	*o = 0;
	return true;
}

void chart_format_num(double v, char *out, size_t n)
{
	if (isnan(v)) {
		snprintf(out, n, "nan");
	} else if (isinf(v)) {
		snprintf(out, n, v > 0 ? "inf" : "-inf");
	} else if (v == 0) {
		snprintf(out, n, "0");
	} else if (fabs(v) < 1e9 && v == floor(v)) {
		if (n >= 16) { /* %.0f of an integer below 1e9 */
			char *o = out;
			if (v < 0)
				*o++ = '-';
			put_uint((unsigned long long)fabs(v), o);
		} else {
			snprintf(out, n, "%.0f", v);
		}
	} else if (fabs(v) >= 1e-3 && fabs(v) < 1e6) {
		if (!fmt_g_fast(v, 4, out, n))
			snprintf(out, n, "%.4g", v);
	} else {
		if (!fmt_g_fast(v, 3, out, n))
			snprintf(out, n, "%.3g", v);
	}
}

/* --- ranges ------------------------------------------------------------------------ */
struct frame {
	double x0, x1, y0, y1; /* y in drawing units (log10 when log_y) */
	bool log_y;
};

static double ymap(const struct frame *f, double y, bool *ok)
{
	*ok = isfinite(y);
	if (f->log_y) {
		*ok = *ok && y > 0;
		return *ok ? log10(y) : 0;
	}
	return y;
}

static double series_x(const struct chart_series *s, size_t i)
{
	return s->x ? s->x[i] : (double)i;
}

static void compute_frame(const struct chart *c, struct frame *f)
{
	f->log_y = c->log_y;
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
	for (int k = 0; k < c->n_series; k++) {
		const struct chart_series *s = &c->series[k];
		for (size_t i = 0; i < s->n; i++) {
			double x = series_x(s, i);
			bool ok;
			double y = ymap(f, s->y[i], &ok);
			if (!isfinite(x) || !ok)
				continue;
			x0 = fmin(x0, x);
			x1 = fmax(x1, x);
			y0 = fmin(y0, y);
			y1 = fmax(y1, y);
		}
	}
	for (int k = 0; k < c->n_hlines; k++) {
		bool ok;
		double y = ymap(f, c->hlines[k].y, &ok);
		if (ok) {
			y0 = fmin(y0, y);
			y1 = fmax(y1, y);
		}
	}
	for (int k = 0; k < c->n_marks; k++)
		if (isfinite(c->marks[k].x)) {
			x0 = fmin(x0, c->marks[k].x);
			x1 = fmax(x1, c->marks[k].x);
		}
	if (c->has_x_range && c->x_max > c->x_min) {
		x0 = c->x_min;
		x1 = c->x_max;
	}
	if (!(x0 <= x1)) {
		x0 = 0;
		x1 = 1;
	}
	if (x0 == x1) {
		x0 -= 0.5;
		x1 += 0.5;
	}
	if (!(y0 <= y1)) {
		y0 = 0;
		y1 = 1;
	}
	if (y0 == y1) {
		double d = fabs(y0) > 0 ? fabs(y0) * 0.1 : 1;
		y0 -= d;
		y1 += d;
	}
	/* a little room so a line at the extreme does not merge with the frame */
	double pad = (y1 - y0) * 0.04;
	f->x0 = x0;
	f->x1 = x1;
	/* magnitudes (|d|, durations) start at 0, not below it */
	f->y0 = !f->log_y && y0 >= 0 && y0 - pad < 0 ? 0 : y0 - pad;
	f->y1 = y1 + pad;
}

static double y_value(const struct frame *f, double yd)
{
	return f->log_y ? pow(10, yd) : yd;
}

/* --- dot grid ----------------------------------------------------------------------- */
struct grid {
	int cols, rows;     /* cells */
	int dw, dh;         /* dots per cell: 2x4 braille, 1x1 ASCII */
	unsigned char *bits;
	signed char *role;  /* -1: empty */
	char *glyph;        /* ASCII */
};

static void grid_set(struct grid *g, int px, int py, enum chart_role role, char glyph)
{
	int W = g->cols * g->dw, H = g->rows * g->dh;
	if (px < 0 || py < 0 || px >= W || py >= H)
		return;
	int cx = px / g->dw, cy = py / g->dh;
	size_t k = (size_t)cy * (size_t)g->cols + (size_t)cx;
	if (g->dw == 2) {
		static const unsigned char bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
		g->bits[k] |= bit[px % 2][py % 4];
	} else {
		g->bits[k] = 1;
		g->glyph[k] = glyph;
	}
	g->role[k] = (signed char)role;
}

static void grid_line(struct grid *g, int x0, int y0, int x1, int y1, enum chart_role role, char glyph)
{
	int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
	int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
	int e = dx + dy;
	for (;;) {
		grid_set(g, x0, y0, role, glyph);
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * e;
		if (e2 >= dy) {
			e += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			e += dx;
			y0 += sy;
		}
	}
}

static int px_of(const struct frame *f, double x, int W)
{
	double t = (x - f->x0) / (f->x1 - f->x0);
	return (int)lround(t * (W - 1));
}

static int py_of(const struct frame *f, double yd, int H)
{
	double t = (f->y1 - yd) / (f->y1 - f->y0);
	return (int)lround(t * (H - 1));
}

static char role_glyph(enum chart_role r)
{
	switch (r) {
	case CHART_REF: return 'o';
	case CHART_CAND: return '*';
	case CHART_DELTA: return '*';
	case CHART_THRESHOLD: return '-';
	case CHART_FAIL: return '!';
	case CHART_MARK: return '|';
	default: return '.';
	}
}

/* Points are reduced per dot column (first, min, max, last) so a series of
 * any length costs one pass plus the grid. join: the column continues the
 * line of the previous one (no gap, a NaN, in between). */
typedef void (*col_fn)(void *ctx, bool join, int col, int first, int ymin, int ymax, int last);

static void reduce_series(const struct frame *f, const struct chart_series *s, int W, int H,
			  col_fn fn, void *ctx)
{
	bool have = false, join = false, gap = true;
	int col = 0, first = 0, ymin = 0, ymax = 0, last = 0;
	for (size_t i = 0; i <= s->n; i++) {
		bool ok = false;
		int px = 0, py = 0;
		if (i < s->n) {
			double x = series_x(s, i);
			double yd = ymap(f, s->y[i], &ok);
			ok = ok && isfinite(x);
			if (ok) {
				px = px_of(f, x, W);
				py = py_of(f, yd, H);
			}
		}
		if (have && (i == s->n || !ok || px != col)) {
			fn(ctx, join, col, first, ymin, ymax, last);
			have = false;
			gap = false;
		}
		if (i == s->n)
			break;
		if (!ok) {
			gap = true;
			continue;
		}
		if (!have) {
			join = !gap;
			have = true;
			col = px;
			first = ymin = ymax = py;
		}
		ymin = py < ymin ? py : ymin;
		ymax = py > ymax ? py : ymax;
		last = py;
	}
}

struct grid_plot {
	struct grid *g;
	enum chart_role role;
	char glyph;
	int pcol, plast;
};

static void grid_col_fn(void *ctx, bool join, int col, int first, int ymin, int ymax, int last)
{
	struct grid_plot *p = ctx;
	if (join)
		grid_line(p->g, p->pcol, p->plast, col, first, p->role, p->glyph);
	grid_line(p->g, col, ymin, col, ymax, p->role, p->glyph);
	p->pcol = col;
	p->plast = last;
}

/* --- text --------------------------------------------------------------------------- */
struct tline {
	struct buf b;
	struct chart_span *spans;
	int n, alloc;
	int width;
};

static void tl_add(struct tline *t, const char *s, size_t n, int cells, enum chart_role role)
{
	if (!n)
		return;
	if (t->n && t->spans[t->n - 1].role == role &&
	    t->spans[t->n - 1].off + t->spans[t->n - 1].len == t->b.len) {
		t->spans[t->n - 1].len += n;
	} else {
		if (t->n == t->alloc) {
			t->alloc = t->alloc ? t->alloc * 2 : 8;
			t->spans = xrealloc(t->spans, sizeof(*t->spans) * (size_t)t->alloc);
		}
		t->spans[t->n++] = (struct chart_span){t->b.len, n, role};
	}
	buf_add(&t->b, s, n);
	t->width += cells;
}

/* Label text: sanitised; in ASCII mode, non-ASCII bytes become '?'. Cut
 * to max cells (one per code point). Returns the cells used. */
static int tl_label(struct tline *t, const char *s, int max, bool utf8, enum chart_role role)
{
	if (!s || max <= 0)
		return 0;
	struct buf safe = BUF_INIT;
	sanitize_append(&safe, s, strlen(s), 0);
	const char *p = buf_cstr(&safe);
	size_t n = safe.len, i = 0;
	int cells = 0;
	struct buf out = BUF_INIT;
	while (i < n && cells < max) {
		int l = utf8_seq_len((const unsigned char *)p + i, n - i);
		if (l <= 0)
			l = 1;
		if (!utf8 && (unsigned char)p[i] >= 0x80)
			buf_addc(&out, '?');
		else
			buf_add(&out, p + i, (size_t)l);
		i += (size_t)l;
		cells++;
	}
	tl_add(t, out.data ? out.data : "", out.len, cells, role);
	buf_release(&out);
	buf_release(&safe);
	return cells;
}

static void tl_spaces(struct tline *t, int n)
{
	for (int i = 0; i < n; i++)
		tl_add(t, " ", 1, 1, CHART_TEXT);
}

static void tl_finish(struct tline *t, struct chart_line *out)
{
	out->len = t->b.len;
	out->text = buf_detach(&t->b, NULL);
	if (!out->text)
		out->text = xstrdup("");
	out->width = t->width;
	out->spans = t->spans;
	out->n_spans = t->n;
	memset(t, 0, sizeof(*t));
}

static void push_line(struct chart_text *out, struct tline *t)
{
	out->lines = xrealloc(out->lines, sizeof(*out->lines) * (size_t)(out->n + 1));
	tl_finish(t, &out->lines[out->n++]);
}

static void x_tick_label(const struct chart *c, double x, char *out, size_t n)
{
	if (c->x_label_fn) {
		out[0] = '\0';
		c->x_label_fn(c->x_label_ctx, x, out, n);
	} else {
		chart_format_num(x, out, n);
	}
}

/* x of tick k of nt: integral ranges get integral ticks (steps, runs). */
static double tick_x(const struct frame *f, int k, int nt)
{
	double x = f->x0 + (f->x1 - f->x0) * k / (nt - 1);
	if (f->x1 - f->x0 >= nt && f->x0 == floor(f->x0))
		x = round(x);
	return x;
}

void chart_render(const struct chart *c, int width, int height, bool utf8, struct chart_text *out)
{
	memset(out, 0, sizeof(*out));
	struct tline t;
	memset(&t, 0, sizeof(t));
	int extra = c->x_title ? 1 : 0;
	int rows = height - 3 - extra;
	if (width < 20 || height < 6 || rows < 2) {
		tl_label(&t, "chart needs 20x6 cells", width > 0 ? width : 0, utf8, CHART_TEXT);
		push_line(out, &t);
		return;
	}
	struct frame f;
	compute_frame(c, &f);
	/* y labels at the top, middle and bottom rows */
	char yl[3][32];
	int ylw = 0;
	int lrow[3] = {0, (rows - 1) / 2, rows - 1};
	for (int k = 0; k < 3; k++) {
		double yd = k == 0 ? f.y1 : k == 2 ? f.y0 : f.y1 - (f.y1 - f.y0) * lrow[k] / (rows - 1);
		if (fabs(yd) < (f.y1 - f.y0) * 1e-9)
			yd = 0; /* rounding must not print -1.7e-18 for zero */
		chart_format_num(y_value(&f, yd), yl[k], sizeof(yl[k]));
		int l = (int)strlen(yl[k]);
		ylw = l > ylw ? l : ylw;
	}
	int cols = width - ylw - 1;
	if (cols < 8) {
		tl_label(&t, "chart needs 20x6 cells", width, utf8, CHART_TEXT);
		push_line(out, &t);
		return;
	}
	struct grid g = {cols, rows, utf8 ? 2 : 1, utf8 ? 4 : 1, NULL, NULL, NULL};
	size_t ncell = (size_t)cols * (size_t)rows;
	g.bits = xcalloc(ncell, 1);
	g.role = xmalloc(ncell);
	memset(g.role, -1, ncell);
	g.glyph = xcalloc(ncell, 1);
	int W = cols * g.dw, H = rows * g.dh;
	/* marks, then thresholds, then the data on top (ASCII cells hold one
	 * glyph: the data must not disappear under a line) */
	for (int k = 0; k < c->n_marks; k++) {
		if (!isfinite(c->marks[k].x))
			continue;
		int px = px_of(&f, c->marks[k].x, W);
		for (int py = 0; py < H; py += utf8 ? 2 : 1)
			grid_set(&g, px, py, c->marks[k].role, utf8 ? 0 : '|');
	}
	for (int k = 0; k < c->n_hlines; k++) {
		bool ok;
		double yd = ymap(&f, c->hlines[k].y, &ok);
		if (!ok)
			continue;
		int py = py_of(&f, yd, H);
		for (int px = 0; px < W; px += utf8 ? 2 : 1)
			grid_set(&g, px, py, c->hlines[k].role, '-');
	}
	for (int k = 0; k < c->n_series; k++) {
		const struct chart_series *s = &c->series[k];
		struct grid_plot gp = {&g, s->role, s->ascii ? s->ascii : role_glyph(s->role), 0, 0};
		reduce_series(&f, s, W, H, grid_col_fn, &gp);
	}

	/* legend */
	int room = width;
	if (c->title) {
		room -= tl_label(&t, c->title, room, utf8, CHART_TEXT);
		if (room > 2) {
			tl_spaces(&t, 2);
			room -= 2;
		}
	}
	for (int k = 0; k < c->n_series + c->n_hlines + c->n_marks && room > 4; k++) {
		const char *label;
		enum chart_role role;
		char sym[8];
		if (k < c->n_series) {
			label = c->series[k].label;
			role = c->series[k].role;
			char gl = c->series[k].ascii ? c->series[k].ascii : role_glyph(role);
			if (utf8)
				snprintf(sym, sizeof(sym), "%s", c->series[k].dashed ? "\u2504" : "\u2500");
			else
				snprintf(sym, sizeof(sym), "%c", gl);
		} else if (k < c->n_series + c->n_hlines) {
			label = c->hlines[k - c->n_series].label;
			role = c->hlines[k - c->n_series].role;
			snprintf(sym, sizeof(sym), "%s", utf8 ? "\u2504" : "-");
		} else {
			label = c->marks[k - c->n_series - c->n_hlines].label;
			role = c->marks[k - c->n_series - c->n_hlines].role;
			snprintf(sym, sizeof(sym), "%s", utf8 ? "\u2502" : "|");
		}
		if (!label)
			continue;
		tl_add(&t, sym, strlen(sym), 1, role);
		tl_spaces(&t, 1);
		room -= 2;
		room -= tl_label(&t, label, room, utf8, CHART_TEXT);
		if (room > 2) {
			tl_spaces(&t, 2);
			room -= 2;
		}
	}
	push_line(out, &t);

	/* plot rows */
	const char *vbar = utf8 ? "\u2502" : "|";
	for (int r = 0; r < rows; r++) {
		int which = r == 0 ? 0 : r == rows - 1 ? 2 : r == lrow[1] ? 1 : -1;
		if (which >= 0) {
			tl_spaces(&t, ylw - (int)strlen(yl[which]));
			tl_add(&t, yl[which], strlen(yl[which]), (int)strlen(yl[which]), CHART_TEXT);
		} else {
			tl_spaces(&t, ylw);
		}
		tl_add(&t, vbar, strlen(vbar), 1, CHART_AXIS);
		for (int x = 0; x < cols; x++) {
			size_t k = (size_t)r * (size_t)cols + (size_t)x;
			if (g.role[k] < 0) {
				tl_add(&t, " ", 1, 1, CHART_TEXT);
			} else if (utf8) {
				char u[4];
				unsigned cp = 0x2800u + g.bits[k];
				u[0] = (char)(0xE0 | (cp >> 12));
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
				u[2] = (char)(0x80 | (cp & 0x3F));
				tl_add(&t, u, 3, 1, (enum chart_role)g.role[k]);
			} else {
				tl_add(&t, &g.glyph[k], 1, 1, (enum chart_role)g.role[k]);
			}
		}
		push_line(out, &t);
	}

	/* x axis with ticks, then their labels */
	int nt = cols >= 56 ? 5 : cols >= 28 ? 3 : 2;
	int tick_col[5];
	for (int k = 0; k < nt; k++)
		tick_col[k] = px_of(&f, tick_x(&f, k, nt), cols);
	tl_spaces(&t, ylw);
	tl_add(&t, utf8 ? "\u2514" : "+", utf8 ? 3 : 1, 1, CHART_AXIS);
	int cursor_col = c->has_cursor && isfinite(c->cursor_x) ? px_of(&f, c->cursor_x, W) / g.dw : -1;
	for (int x = 0; x < cols; x++) {
		if (x == cursor_col) {
			const char *s = utf8 ? "\u25b2" : "^";
			tl_add(&t, s, strlen(s), 1, CHART_CAND);
			continue;
		}
		bool tick = false;
		for (int k = 0; k < nt; k++)
			tick |= tick_col[k] == x;
		const char *s = tick ? (utf8 ? "\u252c" : "+") : (utf8 ? "\u2500" : "-");
		tl_add(&t, s, strlen(s), 1, CHART_AXIS);
	}
	push_line(out, &t);
	int at = 0; /* cells written after the y label column */
	tl_spaces(&t, ylw + 1);
	for (int k = 0; k < nt; k++) {
		char lab[64];
		x_tick_label(c, tick_x(&f, k, nt), lab, sizeof(lab));
		int l = (int)strlen(lab);
		int start = tick_col[k] - l / 2;
		if (k == 0)
			start = 0;
		if (k == nt - 1)
			start = cols - l;
		if (start < at + (k ? 1 : 0) || start < 0 || start + l > cols)
			continue;
		tl_spaces(&t, start - at);
		at = start + tl_label(&t, lab, cols - start, utf8, CHART_TEXT);
	}
	push_line(out, &t);
	if (c->x_title) {
		int l = (int)strlen(c->x_title);
		tl_spaces(&t, ylw + 1 + (cols > l ? (cols - l) / 2 : 0));
		tl_label(&t, c->x_title, cols, utf8, CHART_TEXT);
		push_line(out, &t);
	}
	free(g.bits);
	free(g.role);
	free(g.glyph);
}

void chart_text_release(struct chart_text *t)
{
	for (int i = 0; i < t->n; i++) {
		free(t->lines[i].text);
		free(t->lines[i].spans);
	}
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

void chart_text_join(const struct chart_text *t, struct buf *out)
{
	for (int i = 0; i < t->n; i++) {
		buf_add(out, t->lines[i].text, t->lines[i].len);
		buf_addc(out, '\n');
	}
}

/* --- SVG ------------------------------------------------------------------------------ */
/* Text as XML character data: markup escaped, control bytes dropped (XML
 * 1.0 forbids them), invalid UTF-8 as U+FFFD. */
static void xml_text(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x80) {
			switch (ch) {
			case '&': buf_adds(b, "&amp;"); break;
			case '<': buf_adds(b, "&lt;"); break;
			case '>': buf_adds(b, "&gt;"); break;
			case '"': buf_adds(b, "&quot;"); break;
			case '\'': buf_adds(b, "&apos;"); break;
			default:
				if (ch >= 0x20 && ch != 0x7f)
					buf_addc(b, (char)ch);
			}
			i++;
			continue;
		}
		int l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (l <= 0) {
			buf_adds(b, "\xEF\xBF\xBD");
			i++;
			continue;
		}
		/* C1 controls (U+0080..U+009F) are discouraged in XML: drop them */
		if (!(l == 2 && ch == 0xC2 && (unsigned char)s[i + 1] < 0xA0))
			buf_add(b, s + i, (size_t)l);
		i += (size_t)l;
	}
}

static const char *role_color(enum chart_role r)
{
	switch (r) {
	case CHART_AXIS: return "#555555";
	case CHART_REF: return "#1f77b4";
	case CHART_CAND: return "#d62728";
	case CHART_DELTA: return "#ff7f0e";
	case CHART_THRESHOLD: return "#2ca02c";
	case CHART_FAIL: return "#c00000";
	case CHART_MARK: return "#9467bd";
	default: return "#222222";
	}
}

struct svg_plot {
	struct buf *b;
	double left, top, pw, ph;
	int W, H;
	bool open;
	int last_x, last_y;
	const char *color;
	bool dashed;
};

static void svg_point(struct svg_plot *p, int x, int y)
{
	if (p->last_x == x && p->last_y == y)
		return;
	double sx = p->left + p->pw * x / (p->W - 1), sy = p->top + p->ph * y / (p->H - 1);
	buf_addf(p->b, " %.1f,%.1f", sx, sy);
	p->last_x = x;
	p->last_y = y;
}

static void svg_col_fn(void *ctx, bool join, int col, int first, int ymin, int ymax, int last)
{
	struct svg_plot *p = ctx;
	if (p->open && !join) {
		buf_adds(p->b, "\"/>\n");
		p->open = false;
	}
	if (!p->open) {
		buf_addf(p->b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
			 p->color, p->dashed ? " stroke-dasharray=\"5,3\"" : "");
		p->open = true;
		p->last_x = p->last_y = -1;
	}
	/* the column's extremes in the order that keeps the line honest */
	svg_point(p, col, first);
	if (first - ymin < ymax - first) {
		svg_point(p, col, ymin);
		svg_point(p, col, ymax);
	} else {
		svg_point(p, col, ymax);
		svg_point(p, col, ymin);
	}
	svg_point(p, col, last);
}

void chart_svg(const struct chart *c, int width, int height, struct buf *b)
{
	if (width < 200)
		width = 200;
	if (height < 120)
		height = 120;
	struct frame f;
	compute_frame(c, &f);
	double left = 78, right = 20, top = c->title ? 48 : 30, bottom = c->x_title ? 52 : 36;
	double pw = width - left - right, ph = height - top - bottom;
	buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		 width, height, width, height);
	buf_adds(b, "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	if (c->title) {
		buf_addf(b, "<text x=\"%.1f\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", left);
		xml_text(b, c->title);
		buf_adds(b, "</text>\n");
	}
	/* legend, one row above the plot */
	double lx = left;
	for (int k = 0; k < c->n_series + c->n_hlines + c->n_marks; k++) {
		const char *label, *color;
		bool dashed = false;
		if (k < c->n_series) {
			label = c->series[k].label;
			color = role_color(c->series[k].role);
			dashed = c->series[k].dashed;
		} else if (k < c->n_series + c->n_hlines) {
			label = c->hlines[k - c->n_series].label;
			color = role_color(c->hlines[k - c->n_series].role);
			dashed = true;
		} else {
			label = c->marks[k - c->n_series - c->n_hlines].label;
			color = role_color(c->marks[k - c->n_series - c->n_hlines].role);
		}
		if (!label)
			continue;
		double ly = top - 10;
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-width=\"2\"%s/>\n",
			 lx, ly - 4, lx + 18, ly - 4, color, dashed ? " stroke-dasharray=\"4,2\"" : "");
		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\">", lx + 22, ly);
		xml_text(b, label);
		buf_adds(b, "</text>\n");
		lx += 34 + 7.0 * (double)strlen(label);
	}
	/* frame and ticks */
	buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		    "stroke=\"%s\"/>\n", left, top, pw, ph, role_color(CHART_AXIS));
	for (int k = 0; k < 5; k++) {
		double yd = f.y1 - (f.y1 - f.y0) * k / 4.0;
		if (fabs(yd) < (f.y1 - f.y0) * 1e-9)
			yd = 0;
		double sy = top + ph * k / 4.0;
		char lab[32];
		chart_format_num(y_value(&f, yd), lab, sizeof(lab));
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
			 left, sy, left + pw, sy);
		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left - 6,
			 sy + 4, lab);
	}
	int nt = 5;
	for (int k = 0; k < nt; k++) {
		double x = tick_x(&f, k, nt);
		double sx = left + pw * (x - f.x0) / (f.x1 - f.x0);
		char lab[64];
		x_tick_label(c, x, lab, sizeof(lab));
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", sx,
			 top + ph, sx, top + ph + 5, role_color(CHART_AXIS));
		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", sx, top + ph + 18);
		xml_text(b, lab);
		buf_adds(b, "</text>\n");
	}
	if (c->x_title) {
		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + pw / 2,
			 top + ph + 38);
		xml_text(b, c->x_title);
		buf_adds(b, "</text>\n");
	}
	if (c->y_title) {
		buf_addf(b, "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\">",
			 top + ph / 2);
		xml_text(b, c->y_title);
		buf_adds(b, "</text>\n");
	}
	/* data: one dot column per pixel at most */
	int W = (int)pw, H = (int)ph * 4;
	for (int k = 0; k < c->n_marks; k++) {
		if (!isfinite(c->marks[k].x))
			continue;
		double sx = left + pw * (c->marks[k].x - f.x0) / (f.x1 - f.x0);
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-width=\"1\"/>\n", sx, top, sx, top + ph, role_color(c->marks[k].role));
		if (c->marks[k].label) {
			buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", sx + 4, top + 14 + 14.0 * k,
				 role_color(c->marks[k].role));
			xml_text(b, c->marks[k].label);
			buf_adds(b, "</text>\n");
		}
	}
	for (int k = 0; k < c->n_series; k++) {
		struct svg_plot p = {b, left, top, pw, ph, W, H, false, -1, -1,
				     role_color(c->series[k].role), c->series[k].dashed};
		reduce_series(&f, &c->series[k], W, H, svg_col_fn, &p);
		if (p.open)
			buf_adds(b, "\"/>\n");
	}
	for (int k = 0; k < c->n_hlines; k++) {
		bool ok;
		double yd = ymap(&f, c->hlines[k].y, &ok);
		if (!ok)
			continue;
		double sy = top + ph * (f.y1 - yd) / (f.y1 - f.y0);
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-dasharray=\"6,3\"/>\n", left, sy, left + pw, sy,
			 role_color(c->hlines[k].role));
	}
	buf_adds(b, "</svg>\n");
}

int chart_svg_write(const struct chart *c, int width, int height, const char *path,
		    struct cs_err *err)
{
	struct buf b = BUF_INIT;
	chart_svg(c, width, height, &b);
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int rc = 0;
	if (!f) {
		rc = err_set(err, CS_EIO, "cannot write '%s': %s", path, strerror(errno));
	} else {
		bool ok = fwrite(b.data, 1, b.len, f) == b.len;
		ok = (fclose(f) == 0) && ok;
		if (!ok || rename(tmp, path) != 0) {
			rc = err_set(err, CS_EIO, "cannot write '%s': %s", path, strerror(errno));
			unlink(tmp);
		}
	}
	free(tmp);
	buf_release(&b);
	return rc;
}
