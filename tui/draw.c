/* draw.c - tui_text(), the one function through which text reaches the
 * screen, and the colours behind the roles.
 *
 * tui_text() walks its bytes once, turning them into cells: printable
 * characters (with their combining marks), tabs, and the visible forms of
 * everything else. Nothing but printable characters is ever handed to
 * ncurses, so no byte of a log or of the API can move the cursor, set the
 * title, write the clipboard or reorder the text on the terminal.
 *
 * What becomes what:
 *  - SGR (ESC [ ... m) with TEXT_ANSI: colours and attributes of the cells
 *    that follow, until the end of the string (rows are independent);
 *  - other well-formed CSI sequences with TEXT_ANSI (erase line, cursor
 *    moves, mode switches: CI logs are full of them from progress bars):
 *    dropped; OSC 8 hyperlink brackets: dropped, the link text stays;
 *  - every other escape sequence (OSC, DCS, APC, PM, SOS, ESC x, and CSI
 *    without TEXT_ANSI): shown whole in the CONTROL role, ESC as ^[;
 *  - C0 controls and DEL: ^@ .. ^_, ^?; C1 code points and bidi controls,
 *    line/paragraph separators, non-characters: <U+202E>; bytes that are not
 *    valid UTF-8: \x9b; invisible format characters (ZWSP, ZWJ, ...): dropped;
 *  - in a locale that is not UTF-8, every non-ASCII character becomes '?'
 *    (the separators and marks of titles have ASCII look-alikes: · - … >)
 *    ('??' for a wide one, so the layout is the same in both modes).
 */
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "tui/internal.h"

bool tui_utf8 = true;

/* --- roles and colours ------------------------------------------------------ */

/* Role names and letters: keys.c (the framework's and the application's). */

static struct {
	int ncolors;      /* 0: attributes only */
	bool default_bg;  /* use_default_colors() worked: -1 is allowed */
	attr_t attr[ROLE_MAX];
	int pair[ROLE_MAX];
	short fg[ROLE_MAX], bg[ROLE_MAX]; /* as mapped to the terminal */
} col;

/* The xterm palette: the 16 system colours, then the 6x6x6 cube and the
 * grey ramp. Used to map 256 colours and truecolour down. */
static void palette_rgb(int c, int *r, int *g, int *b)
{
	static const unsigned char sys[16][3] = {
		{0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
		{0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
		{127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
		{92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
	};
	static const unsigned char steps[6] = {0, 95, 135, 175, 215, 255};

	if (c < 16) {
		*r = sys[c][0];
		*g = sys[c][1];
		*b = sys[c][2];
	} else if (c < 232) {
		c -= 16;
		*r = steps[c / 36];
		*g = steps[(c / 6) % 6];
		*b = steps[c % 6];
	} else {
		*r = *g = *b = 8 + (c - 232) * 10;
	}
}

static int nearest(int r, int g, int b, int from, int to)
{
	int best = from;
	long bestd = LONG_MAX;

	for (int c = from; c < to; c++) {
		int pr, pg, pb;
		palette_rgb(c, &pr, &pg, &pb);
		long d = (long)(pr - r) * (pr - r) + (long)(pg - g) * (pg - g) +
			 (long)(pb - b) * (pb - b);
		if (d < bestd) {
			bestd = d;
			best = c;
		}
	}
	return best;
}

static int rgb_to_256(int r, int g, int b)
{
	return nearest(r, g, b, 16, 256);
}

/* A colour of the 256 palette (or -1) as the terminal can show it. */
static short map_color(int c, bool fg, attr_t *extra)
{
	if (c < 0)
		return col.default_bg ? -1 : (fg ? COLOR_WHITE : COLOR_BLACK);
	if (col.ncolors >= 256 || c < col.ncolors)
		return (short)c;
	if (c >= 16) {
		int r, g, b;
		palette_rgb(c, &r, &g, &b);
		c = nearest(r, g, b, 0, 16);
	}
	if (c >= col.ncolors) { /* bright on an 8-colour terminal */
		if (fg && extra)
			*extra |= A_BOLD;
		c -= 8;
	}
	return (short)c;
}

static int pair_for(short fg, short bg)
{
	if (col.ncolors == 0 || (fg == -1 && bg == -1))
		return 0;
	int p = alloc_pair(fg, bg);
	return p < 0 ? 0 : p;
}

void tui_colors_init(bool no_color)
{
	const char *nc = getenv("NO_COLOR");

	memset(&col, 0, sizeof(col));
	if (!no_color && !(nc && *nc) && has_colors() && start_color() == OK && COLORS >= 8) {
		col.ncolors = COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : 8;
		col.default_bg = use_default_colors() == OK;
	}
	for (int r = 0, nroles = tui_role_count(); r < nroles; r++) {
		const struct tui_theme_entry *t = &tui_theme[r];
		attr_t a = t->attr;
		if (col.ncolors == 0) {
			/* Without colours a role keeps its attributes, and a role
			 * drawn on a background (cursor, title, match) is reversed
			 * so it stays visible. */
			if (t->bg >= 0)
				a |= A_REVERSE;
			col.attr[r] = a;
			col.fg[r] = col.bg[r] = -1;
			continue;
		}
		col.fg[r] = map_color(t->fg, true, &a);
		col.bg[r] = map_color(t->bg, false, NULL);
		col.attr[r] = a;
		col.pair[r] = pair_for(col.fg[r], col.bg[r]);
	}
}

/* --- the role grid ------------------------------------------------------------- */

static struct {
	char *cells;
	int rows, cols;
} grid;

void tui_grid_resize(int rows, int cols)
{
	free(grid.cells);
	grid.rows = rows > 0 ? rows : 0;
	grid.cols = cols > 0 ? cols : 0;
	grid.cells = tui_xmalloc((size_t)grid.rows * (size_t)grid.cols + 1);
	memset(grid.cells, tui_role_letter(ROLE_DEFAULT), (size_t)grid.rows * (size_t)grid.cols);
}

void tui_grid_free(void)
{
	free(grid.cells);
	memset(&grid, 0, sizeof(grid));
}

const char *tui_grid_row(int y)
{
	if (y < 0 || y >= grid.rows)
		return NULL;
	return grid.cells + (size_t)y * (size_t)grid.cols;
}

void tui_grid_fill(int y, int x, int n, char letter)
{
	if (y < 0 || y >= grid.rows)
		return;
	if (x < 0) {
		n += x;
		x = 0;
	}
	if (x + n > grid.cols)
		n = grid.cols - x;
	if (n > 0)
		memset(grid.cells + (size_t)y * (size_t)grid.cols + (size_t)x, letter, (size_t)n);
}

/* --- locale ---------------------------------------------------------------------- */

void tui_detect_locale(void)
{
	const char *cs = nl_langinfo(CODESET);
	tui_utf8 = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}

const char *tui_glyph(const char *utf8, const char *ascii)
{
	return tui_utf8 ? utf8 : ascii;
}

/* --- the canvas ---------------------------------------------------------------------- */

void tui_canvas_init(struct tui_canvas *c, WINDOW *win, int y, int width, int hscroll,
		     int selected)
{
	int by = 0, bx = 0;

	memset(c, 0, sizeof(*c));
	if (win)
		getbegyx(win, by, bx);
	c->win = win;
	c->y = y;
	c->absy = by + y;
	c->absx = bx;
	c->width = width > 0 ? width : 0;
	c->skip = hscroll > 0 ? hscroll : 0;
	c->selected = selected;
}

int tui_canvas_col(const struct tui_canvas *c)
{
	return c->col;
}

int tui_canvas_width(const struct tui_canvas *c)
{
	return c->width;
}

bool tui_canvas_selected(const struct tui_canvas *c)
{
	return c->selected != 0;
}

/* The look of one cell: attributes, pair and the letter for the grid. */
struct style {
	attr_t attr;
	int pair;
	char letter;
};

/* The cell as the C library sees it: marks it would not combine dropped;
 * NULL when it gives the base another width than ours. */
static const wchar_t *libc_agrees(const wchar_t *wc, int width, wchar_t *out)
{
	int n = 0;

	if (wc[0] >= 0x80 && wcwidth(wc[0]) != width)
		return NULL;
	out[n++] = wc[0];
	for (int i = 1; wc[i] && i < CCHARW_MAX; i++)
		if (wcwidth(wc[i]) == 0)
			out[n++] = wc[i];
	out[n] = 0;
	return out;
}

static void put_cell(struct tui_canvas *c, const wchar_t *wc, int width, const struct style *st,
		     bool scrolls)
{
	static const wchar_t space[] = {L' ', 0};
	wchar_t agreed[CCHARW_MAX + 1];
	cchar_t cc;
	int pair = st->pair;

	if (scrolls && c->skip > 0) {
		if (width <= c->skip) {
			c->skip -= width;
			return;
		}
		/* half of a wide character scrolled away: a blank stands in */
		width -= c->skip;
		c->skip = 0;
		wc = space;
	}
	if (c->col + width > c->width)
		return;
	if (wc[0] >= 0x80 || wc[1]) {
		/* ncurses lays cells out by the C library's wcwidth(): where it
		 * disagrees with our table, draw what both agree on, so no
		 * stale or shifted cell is left behind */
		static const wchar_t q1[] = {L'?', 0};
		wc = libc_agrees(wc, width, agreed);
		if (!wc) {
			setcchar(&cc, q1, st->attr, (short)(pair > SHRT_MAX ? 0 : pair), &pair);
			for (int i = 0; i < width; i++)
				if (c->win)
					mvwadd_wch(c->win, c->y, c->col + i, &cc);
			tui_grid_fill(c->absy, c->absx + c->col, width, st->letter);
			c->col += width;
			return;
		}
	}
	setcchar(&cc, wc, st->attr, (short)(pair > SHRT_MAX ? 0 : pair), &pair);
	if (c->win)
		mvwadd_wch(c->win, c->y, c->col, &cc);
	tui_grid_fill(c->absy, c->absx + c->col, width, st->letter);
	c->col += width;
}

/* --- SGR state ------------------------------------------------------------------------- */

#define SGR_UNSET (-2)

struct sgr {
	short fg, bg; /* SGR_UNSET: the role's; -1 default; 0..255 */
	attr_t attr;
};

static void sgr_reset(struct sgr *g)
{
	g->fg = g->bg = SGR_UNSET;
	g->attr = 0;
}

static bool sgr_active(const struct sgr *g)
{
	return g->fg != SGR_UNSET || g->bg != SGR_UNSET || g->attr != 0;
}

/* Extended colour after 38/48: "5;n" or "2;r;g;b" (semicolons or colons).
 * Returns how many parameters were used after the 38/48. */
static int sgr_ext_color(const int *p, int np, short *out)
{
	if (np >= 2 && p[0] == 5) {
		if (p[1] >= 0 && p[1] <= 255)
			*out = (short)p[1];
		return 2;
	}
	if (np >= 4 && p[0] == 2) {
		if (p[1] >= 0 && p[1] <= 255 && p[2] >= 0 && p[2] <= 255 && p[3] >= 0 &&
		    p[3] <= 255)
			*out = (short)rgb_to_256(p[1], p[2], p[3]);
		return 4;
	}
	return np; /* malformed: ignore the rest */
}

static void sgr_apply(struct sgr *g, const char *s, size_t n)
{
	/* "1;38;5;196" is three groups; "38:2::255:0:0" one group of six
	 * colon-separated values; an empty value is 0. */
	int v[32][6], nv[32], ng = 0;
	size_t i = 0;

	while (ng < 32) {
		nv[ng] = 0;
		for (;;) {
			long x = 0;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (x < 100000)
					x = x * 10 + (s[i] - '0');
				i++;
			}
			if (nv[ng] < 6)
				v[ng][nv[ng]++] = (int)x;
			if (i < n && s[i] == ':') {
				i++;
				continue;
			}
			break;
		}
		ng++;
		if (i < n && s[i] == ';') {
			i++;
			continue;
		}
		break;
	}
	for (int k = 0; k < ng; k++) {
		int code = v[k][0];
		short c = SGR_UNSET;
		if (nv[k] > 1) {
			if (code == 38 || code == 48) {
				int sub[4], ns = 0;
				/* 38:2::r:g:b carries an empty colour-space id */
				int from = (v[k][1] == 2 && nv[k] == 6) ? 3 : 2;
				sub[ns++] = v[k][1];
				for (int j = from; j < nv[k] && ns < 4; j++)
					sub[ns++] = v[k][j];
				sgr_ext_color(sub, ns, &c);
			} else if (code == 4) {
				if (v[k][1] == 0)
					g->attr &= ~A_UNDERLINE;
				else
					g->attr |= A_UNDERLINE;
			}
		} else if (code == 38 || code == 48) {
			int sub[4], ns = 0;
			for (int j = k + 1; j < ng && ns < 4; j++)
				sub[ns++] = v[j][0];
			k += sgr_ext_color(sub, ns, &c);
		} else {
			switch (code) {
			case 0:
				sgr_reset(g);
				break;
			case 1:
				g->attr |= A_BOLD;
				break;
			case 2:
				g->attr |= A_DIM;
				break;
			case 3:
				g->attr |= A_ITALIC;
				break;
			case 4:
				g->attr |= A_UNDERLINE;
				break;
			case 7:
				g->attr |= A_REVERSE;
				break;
			case 21:
			case 22:
				g->attr &= ~(A_BOLD | A_DIM);
				break;
			case 23:
				g->attr &= ~A_ITALIC;
				break;
			case 24:
				g->attr &= ~A_UNDERLINE;
				break;
			case 27:
				g->attr &= ~A_REVERSE;
				break;
			case 39:
				g->fg = SGR_UNSET;
				break;
			case 49:
				g->bg = SGR_UNSET;
				break;
			default:
				if (code >= 30 && code <= 37)
					g->fg = (short)(code - 30);
				else if (code >= 40 && code <= 47)
					g->bg = (short)(code - 40);
				else if (code >= 90 && code <= 97)
					g->fg = (short)(code - 90 + 8);
				else if (code >= 100 && code <= 107)
					g->bg = (short)(code - 100 + 8);
				/* blink, conceal, strike, fonts: ignored (conceal
				 * would hide text from the reader) */
				break;
			}
			continue;
		}
		if (c != SGR_UNSET) {
			if (code == 38)
				g->fg = c;
			else
				g->bg = c;
		}
	}
}

/* --- the cell iterator -------------------------------------------------------------------- */

enum item_kind { IT_GLYPH, IT_TAB };

struct item {
	enum item_kind kind;
	wchar_t wc[CCHARW_MAX + 1];
	int width;
	bool control;  /* draw in the CONTROL role */
	size_t off;    /* byte offset in the text (search highlight) */
	struct sgr sgr;
};

struct iter {
	const unsigned char *s;
	size_t n, i;
	unsigned flags;
	struct sgr sgr;
	size_t ctl_end;   /* bytes before this belong to a visible escape sequence */
	char pend[16];    /* visible form being emitted, one cell at a time */
	int npend, ipend;
	bool pend_control;
	size_t pend_off;
};

static void iter_init(struct iter *it, const char *s, size_t n, unsigned flags)
{
	memset(it, 0, sizeof(*it));
	it->s = (const unsigned char *)s;
	it->n = n;
	it->flags = flags;
	sgr_reset(&it->sgr);
}

static void pend_set(struct iter *it, const char *txt, size_t off)
{
	size_t len = strlen(txt);
	if (len > sizeof(it->pend))
		len = sizeof(it->pend);
	memcpy(it->pend, txt, len);
	it->npend = (int)len;
	it->ipend = 0;
	it->pend_control = true;
	it->pend_off = off;
}

/* The extent of the escape sequence at s[i] == ESC; sets *sgr_len to the
 * length of the SGR parameters when it is SGR, *kind to what it is. */
enum esc_kind { ESC_SHOW, ESC_SGR, ESC_DROP };

static size_t esc_extent(const unsigned char *s, size_t n, size_t i, enum esc_kind *kind)
{
	size_t j = i + 1;

	*kind = ESC_SHOW;
	if (j >= n)
		return j;
	if (s[j] == '[') {
		j++;
		bool sgr_params = true;
		while (j < n && s[j] >= 0x30 && s[j] <= 0x3f) {
			if (!((s[j] >= '0' && s[j] <= '9') || s[j] == ';' || s[j] == ':'))
				sgr_params = false;
			j++;
		}
		bool inter = false;
		while (j < n && s[j] >= 0x20 && s[j] <= 0x2f) {
			inter = true;
			j++;
		}
		if (j < n && s[j] >= 0x40 && s[j] <= 0x7e) {
			if (s[j] == 'm' && sgr_params && !inter)
				*kind = ESC_SGR;
			else
				*kind = ESC_DROP;
			return j + 1;
		}
		return j; /* malformed: shown as far as it went */
	}
	if (s[j] == ']' || s[j] == 'P' || s[j] == '_' || s[j] == '^' || s[j] == 'X') {
		bool osc8 = s[j] == ']' && j + 2 < n && s[j + 1] == '8' && s[j + 2] == ';';
		j++;
		while (j < n) {
			if (s[j] == 0x07 && s[i + 1] == ']') {
				j++;
				break;
			}
			if (s[j] == 0x1b && j + 1 < n && s[j + 1] == '\\') {
				j += 2;
				break;
			}
			if (s[j] == 0x1b) /* a new sequence starts: this one was cut */
				break;
			j++;
		}
		if (osc8)
			*kind = ESC_DROP;
		return j;
	}
	while (j < n && s[j] >= 0x20 && s[j] <= 0x2f)
		j++;
	if (j < n && s[j] >= 0x30 && s[j] <= 0x7e)
		j++;
	return j;
}

/* Next cell of the text; false at the end. */
static bool iter_next(struct iter *it, struct item *out)
{
	char buf[16];

	for (;;) {
		if (it->ipend < it->npend) {
			out->kind = IT_GLYPH;
			out->wc[0] = (wchar_t)(unsigned char)it->pend[it->ipend++];
			out->wc[1] = 0;
			out->width = 1;
			out->control = it->pend_control;
			out->off = it->pend_off;
			out->sgr = it->sgr;
			return true;
		}
		if (it->i >= it->n)
			return false;

		size_t off = it->i;
		unsigned char b = it->s[off];
		bool in_ctl = off < it->ctl_end;

		if (b == 0x1b && !in_ctl) {
			enum esc_kind kind;
			size_t end = esc_extent(it->s, it->n, off, &kind);
			if ((it->flags & TEXT_ANSI) && kind == ESC_SGR) {
				sgr_apply(&it->sgr, (const char *)it->s + off + 2, end - off - 3);
				it->i = end;
				continue;
			}
			if ((it->flags & TEXT_ANSI) && kind == ESC_DROP) {
				it->i = end;
				continue;
			}
			it->ctl_end = end;
			in_ctl = true;
		}
		if (b == '\t') {
			it->i++;
			out->kind = IT_TAB;
			out->wc[0] = L' ';
			out->wc[1] = 0;
			out->width = 0; /* set by the caller from the position */
			out->control = in_ctl;
			out->off = off;
			out->sgr = it->sgr;
			return true;
		}
		if (b < 0x20 || b == 0x7f) {
			buf[0] = '^';
			buf[1] = b == 0x7f ? '?' : (char)(b + 0x40);
			buf[2] = 0;
			it->i++;
			pend_set(it, buf, off);
			continue;
		}
		uint32_t cp;
		int len = tw_decode(it->s + off, it->n - off, &cp);
		if (len == 0) {
			tui_fmt(buf, sizeof(buf), "\\x%02x", b);
			it->i++;
			pend_set(it, buf, off);
			continue;
		}
		it->i += (size_t)len;
		enum cp_class cls = tw_class(cp);
		switch (cls) {
		case CP_CONTROL:
		case CP_SHOW:
			tui_fmt(buf, sizeof(buf), "<U+%04X>", (unsigned)cp);
			pend_set(it, buf, off);
			continue;
		case CP_FORMAT:
			continue;
		case CP_COMBINING:
			if (!tui_utf8)
				continue;
			/* a mark with nothing to sit on gets a dotted circle */
			cp = 0x25cc;
			cls = CP_NORMAL;
			it->i = off; /* the mark itself joins below */
			break;
		case CP_NORMAL:
		case CP_WIDE:
			break;
		}
		out->kind = IT_GLYPH;
		out->control = in_ctl;
		out->off = off;
		out->sgr = it->sgr;
		out->width = cls == CP_WIDE ? 2 : 1;
		if (!tui_utf8 && cp >= 0x80) {
			/* the punctuation of titles and status lines has an ASCII
			 * look-alike ("run 1 - ci - main"); other characters are '?' */
			out->wc[0] = cp == 0xb7 || cp == 0x2013 || cp == 0x2014 || cp == 0x2500 ? L'-'
				     : cp == 0x2026					? L'>'
				     : cp == 0x2192 || cp == 0x25b8			? L'>'
				     : cp == 0x25be					? L'v'
											: L'?';
			out->wc[1] = 0;
			if (out->width == 2) {
				pend_set(it, "?", off);
				it->pend_control = in_ctl;
			}
			out->width = 1;
			return true;
		}
		out->wc[0] = (wchar_t)cp;
		int nwc = 1;
		/* Gather the combining marks that follow (ncurses holds a few per
		 * cell; further ones are dropped), and drop format characters
		 * between them. */
		while (it->i < it->n) {
			uint32_t mc;
			int ml = tw_decode(it->s + it->i, it->n - it->i, &mc);
			if (ml == 0)
				break;
			enum cp_class mcls = tw_class(mc);
			if (mcls == CP_FORMAT) {
				it->i += (size_t)ml;
				continue;
			}
			if (mcls != CP_COMBINING)
				break;
			it->i += (size_t)ml;
			if (nwc < CCHARW_MAX - 1)
				out->wc[nwc++] = (wchar_t)mc;
		}
		out->wc[nwc] = 0;
		return true;
	}
}

static int item_width(const struct item *itm, int pos)
{
	if (itm->kind == IT_TAB)
		return 8 - (pos % 8);
	return itm->width;
}

/* Width of what remains of the text from this iterator state, measured
 * from pos; stops counting beyond limit. */
static int measure_rest(const struct iter *from, int pos, int limit)
{
	struct iter it = *from;
	struct item itm;
	int start = pos;

	while (pos - start <= limit && iter_next(&it, &itm))
		pos += item_width(&itm, pos);
	return pos - start;
}

int tui_text_width(const char *s, size_t n, unsigned flags)
{
	struct iter it;

	if (!s)
		return 0;
	if (n == (size_t)-1)
		n = strlen(s);
	iter_init(&it, s, n, flags);
	return measure_rest(&it, 0, INT_MAX - 16);
}

int tui_width(const char *s, size_t n)
{
	return tui_text_width(s, n, 0);
}

/* --- drawing text ---------------------------------------------------------------------------- */

static enum role row_role(const struct tui_canvas *c, enum role r)
{
	if (c->selected && r != ROLE_MATCH)
		return c->selected == SEL_BLUR ? ROLE_CURSOR_BLUR : ROLE_CURSOR;
	return r;
}

static void role_style(enum role r, struct style *st)
{
	st->attr = col.attr[r];
	st->pair = col.pair[r];
	st->letter = tui_role_letter(r);
}

static void item_style(const struct tui_canvas *c, const struct item *itm, enum role base,
		       bool hl, struct style *st)
{
	enum role r = itm->control ? ROLE_CONTROL : base;
	if (hl)
		r = ROLE_MATCH;
	r = row_role(c, r);
	role_style(r, st);
	if (r != base || !sgr_active(&itm->sgr) || c->selected)
		return;
	/* SGR colours on top of the role */
	const struct sgr *g = &itm->sgr;
	attr_t a = st->attr | g->attr;
	if (col.ncolors) {
		short fg = g->fg == SGR_UNSET ? col.fg[r] : map_color(g->fg, true, &a);
		short bg = g->bg == SGR_UNSET ? col.bg[r] : map_color(g->bg, false, NULL);
		st->pair = pair_for(fg, bg);
	}
	st->attr = a;
	st->letter = g->fg >= 0 && g->fg < 16 ? (char)('0' + g->fg % 8) : '*';
}

static void pad(struct tui_canvas *c, int n, const struct style *st, bool scrolls)
{
	static const wchar_t space[] = {L' ', 0};
	while (n-- > 0)
		put_cell(c, space, 1, st, scrolls);
}

static int draw_text(struct tui_canvas *c, const char *s, size_t n, enum role role, int width,
		     unsigned flags, size_t hl_start, size_t hl_end)
{
	static const wchar_t ell[] = {0x2026, 0};
	/* not '~': the lists mark known-flaky failures with it */
	static const wchar_t cut_mark[] = {L'>', 0};
	bool scrolls = !(flags & TEXT_NO_HSCROLL);
	int start_col = c->col;
	struct style base;
	struct iter it;
	struct item itm;
	int pos = 0, lead = 0;

	if ((int)role < 0 || (int)role >= tui_role_count())
		role = ROLE_DEFAULT;
	if (!s) {
		s = "";
		n = 0;
	}
	if (n == (size_t)-1)
		n = strlen(s);
	if (c->col >= c->width)
		return 0;

	role_style(row_role(c, role), &base);
	int room = c->width - c->col + (scrolls ? c->skip : 0); /* logical columns left */
	int field = width > 0 ? width : room;
	int limit = field < room ? field : room;

	iter_init(&it, s, n, flags);
	if ((flags & TEXT_RIGHT) && width > 0) {
		int total = measure_rest(&it, 0, field);
		if (total < field)
			lead = field - total;
		if (lead > limit)
			lead = limit;
		pad(c, lead, &base, scrolls);
		pos = lead;
	}
	while (iter_next(&it, &itm)) {
		int w = item_width(&itm, pos - lead);
		if (pos + w > limit - 1) {
			/* Near the end: does everything left fit exactly? */
			int rest = w + measure_rest(&it, pos - lead + w, limit);
			if (pos + rest > limit) {
				put_cell(c, tui_utf8 ? ell : cut_mark, 1, &base, scrolls);
				pos++;
				break;
			}
		}
		struct style st;
		bool hl = hl_end > hl_start && itm.off >= hl_start && itm.off < hl_end;
		item_style(c, &itm, role, hl, &st);
		if (itm.kind == IT_TAB)
			pad(c, w, &st, scrolls);
		else
			put_cell(c, itm.wc, w, &st, scrolls);
		pos += w;
	}
	if ((flags & TEXT_PAD) && pos < limit)
		pad(c, limit - pos, &base, scrolls);
	return c->col - start_col;
}

int tui_text(struct tui_canvas *c, const char *s, size_t n, enum role role, int width,
	     unsigned flags)
{
	return draw_text(c, s, n, role, width, flags, 0, 0);
}

int tui_text_hl(struct tui_canvas *c, const char *s, size_t n, enum role role, size_t hl_start,
		size_t hl_end, unsigned flags)
{
	return draw_text(c, s, n, role, 0, flags, hl_start, hl_end);
}

int tui_column(struct tui_canvas *c, const char *s, enum role role, int width, unsigned flags)
{
	if (width <= 0)
		return 0;
	tui_text(c, s ? s : "", (size_t)-1, role, width, TEXT_PAD | flags);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	return width + 1;
}

void tui_canvas_fill(struct tui_canvas *c, enum role role)
{
	struct style st;

	if ((int)role < 0 || (int)role >= tui_role_count())
		role = ROLE_DEFAULT;
	role_style(row_role(c, role), &st);
	pad(c, c->width - c->col, &st, false);
}
