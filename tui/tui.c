/* tui.c - start and stop, signals, the event loop, the view stack and its
 * layout, the title and status bars, and the generic actions.
 *
 * One loop turn: lay out if needed, draw what is dirty (wnoutrefresh per
 * window, one doupdate), wait for the terminal, watched fds, signals or the
 * next timer (not at all while background work is pending), then handle
 * keys, fds, timers and one step of each piece of work. What is waited on
 * (work, fds, timers, signals) lives in loop.c. Handlers return
 * effects and the loop applies them (tig's view_driver, htop's
 * HandlerResult).
 *
 * The stack: views are pushed on top of each other; a view opened with
 * OPEN_SPLIT is shown beside the one below it (list left, detail right), so
 * at most two are on screen. Closing a view closes the views above it too:
 * a detail never outlives its list.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tui/internal.h"
#include <term.h>

#define DEFAULT_MIN_WIDTH 20
#define DEFAULT_MIN_HEIGHT 3 /* content rows: with title and status, 5 lines */
#define KEYS_PER_TURN 64

/* --- memory -------------------------------------------------------------------- */

static void oom(void)
{
	tui_shutdown();
	fputs("out of memory\n", stderr);
	abort();
}

void *tui_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *tui_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *tui_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *tui_xstrdup(const char *s)
{
	return tui_xstrndup(s, strlen(s));
}

char *tui_xstrndup(const char *s, size_t n)
{
	char *p = tui_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void tui_xgrow(void **arr, size_t *alloc, size_t need, size_t elem)
{
	size_t n = *alloc;
	if (need <= n)
		return;
	if (n < 8)
		n = 8;
	while (n < need) {
		if (n > ((size_t)-1 / 2) / elem)
			oom();
		n *= 2;
	}
	*arr = tui_xrealloc(*arr, n * elem);
	*alloc = n;
}

void tui_fmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	if (!n)
		return;
	va_start(ap, fmt);
	if (vsnprintf(out, n, fmt, ap) < 0)
		out[0] = 0;
	va_end(ap);
}

/* --- state ----------------------------------------------------------------------- */

static struct {
	bool inited, quit, script, too_small;
	int exit_status;
	struct tui_opts opts;
	SCREEN *screen;
	FILE *in, *out;
	bool own_in, own_out;
	int tty_fd;

	struct vnode **stack;
	size_t n, alloc;
	size_t focus; /* index of the focused view: the top, or the one below in a split */
	struct vnode *shown[2];
	int nshown;
	bool vertical; /* the split on screen is side by side */

	WINDOW *status, *sep, *small;
	bool layout_dirty;
	int rows, cols;
	int cursor_hint, cursor_vis;

	char msg[512];
	bool msg_error;
	char *fatal; /* printed on stderr after the screen is gone */
} S = {.tty_fd = -1, .cursor_vis = -1};


bool tui_script_mode(void)
{
	return S.script;
}

/* --- messages ------------------------------------------------------------------------ */

static void set_message(bool error, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void set_message(bool error, const char *fmt, va_list ap)
{
	if (vsnprintf(S.msg, sizeof(S.msg), fmt, ap) < 0)
		S.msg[0] = 0;
	S.msg_error = error;
}

void tui_message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(false, fmt, ap);
	va_end(ap);
}

void tui_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(true, fmt, ap);
	va_end(ap);
}

void tui_message_clear(void)
{
	S.msg[0] = 0;
	S.msg_error = false;
}

static void set_fatal(const char *msg)
{
	if (!S.fatal && msg && *msg)
		S.fatal = tui_xstrdup(msg);
}

/* --- the view stack ---------------------------------------------------------------------- */

static struct vnode *focused(void)
{
	if (S.n == 0)
		return NULL;
	if (S.focus >= S.n)
		S.focus = S.n - 1;
	return S.stack[S.focus];
}

struct view *tui_current(void)
{
	struct vnode *vn = focused();
	return vn ? &vn->v : NULL;
}

static bool is_split(void)
{
	return S.n >= 2 && S.stack[S.n - 1]->split;
}

struct view *tui_split_detail(void)
{
	return is_split() ? &S.stack[S.n - 1]->v : NULL;
}

static long index_of(const struct view *v)
{
	for (size_t i = 0; i < S.n; i++)
		if (&S.stack[i]->v == v)
			return (long)i;
	return -1;
}

bool tui_view_alive(const struct view *v)
{
	return v && index_of(v) >= 0;
}

const char *tui_search_query(const struct view *v)
{
	return v ? VNODE(v)->query : NULL;
}

static void view_min(const struct vnode *vn, int *w, int *h)
{
	*w = vn->v.ops->min_width > 0 ? vn->v.ops->min_width : DEFAULT_MIN_WIDTH;
	*h = vn->v.ops->min_height > 0 ? vn->v.ops->min_height : DEFAULT_MIN_HEIGHT;
}

static void clamp_view(struct view *v)
{
	long h = v->height > 0 ? v->height : 1;

	if (v->rows < 0)
		v->rows = 0;
	if (v->cursor >= v->rows)
		v->cursor = v->rows > 0 ? v->rows - 1 : 0;
	if (v->cursor < 0)
		v->cursor = 0;
	if (v->top > v->rows - h)
		v->top = v->rows - h;
	if (v->top < 0)
		v->top = 0;
	if (v->cursor < v->top)
		v->top = v->cursor;
	if (v->cursor >= v->top + h)
		v->top = v->cursor - h + 1;
	if (v->hscroll < 0)
		v->hscroll = 0;
}

void tui_view_dirty(struct view *v)
{
	if (v)
		VNODE(v)->dirty = true;
}

void tui_view_set_rows(struct view *v, long rows)
{
	if (!v)
		return;
	v->rows = rows < 0 ? 0 : rows;
	clamp_view(v);
	tui_view_dirty(v);
}

/* Move the cursor; center: an off-screen target lands mid-screen (search
 * hits, goto) rather than on the edge. */
static void move_to(struct view *v, long row, bool center)
{
	long h = v->height > 0 ? v->height : 1;
	long old = v->cursor;

	if (v->rows <= 0) {
		v->cursor = v->top = 0;
		tui_view_dirty(v);
		return;
	}
	if (row >= v->rows)
		row = v->rows - 1;
	if (row < 0)
		row = 0;
	v->cursor = row;
	if (row < v->top || row >= v->top + h) {
		if (center)
			v->top = row - h / 2;
		else if (row < v->top)
			v->top = row;
		else
			v->top = row - h + 1;
	}
	clamp_view(v);
	tui_view_dirty(v);
	if (old != row && v->ops->select)
		v->ops->select(v, row);
}

void tui_view_goto(struct view *v, long row)
{
	if (v)
		move_to(v, row, true);
}

/* The view's top row after scrolling by n rows, kept within the rows. */
static long scrolled_top(const struct view *v, long n)
{
	long h = v->height > 0 ? v->height : 1;
	long maxtop = v->rows - h > 0 ? v->rows - h : 0;
	long top = v->top + n;

	if (top > maxtop)
		top = maxtop;
	if (top < 0)
		top = 0;
	return top;
}

/* Scroll by n rows with the cursor, like less's page keys. */
static void scroll_by(struct view *v, long n)
{
	long top = scrolled_top(v, n);
	long moved = top - v->top;
	long cursor = v->cursor + (moved ? moved : n);
	v->top = top;
	move_to(v, cursor, false);
}

/* Close the view at index i and every view above it. */
static void close_from(size_t i)
{
	while (S.n > i) {
		struct vnode *vn = S.stack[--S.n];
		struct view *v = &vn->v;

		tui_find_free(v);
		tui_work_cancel_owner(v);
		if (v->ops->done)
			v->ops->done(v);
		if (vn->win)
			delwin(vn->win);
		if (vn->title)
			delwin(vn->title);
		free(vn->query);
		free(v->priv);
		free(vn);
	}
	S.focus = S.n ? S.n - 1 : 0;
	S.layout_dirty = true;
}

static void close_view(struct view *v)
{
	long i = index_of(v);
	if (i >= 0)
		close_from((size_t)i);
}

void tui_view_close(struct view *v)
{
	close_view(v);
}

static void layout(void);

struct view *tui_open(const struct view_ops *ops, void *arg, enum open_flags flags)
{
	struct vnode *cur = focused();
	struct vnode *vn;
	size_t old_focus = S.focus;
	bool keep_left = false;

	if (!ops)
		return NULL;
	if (flags == OPEN_REPLACE) {
		if (!is_split())
			return NULL;
		keep_left = S.focus == S.n - 2;
		cur = S.stack[S.n - 2];
		close_from(S.n - 1);
	} else if (flags == OPEN_SPLIT && cur && is_split() && S.focus == S.n - 2) {
		/* a new detail from the list replaces the old one */
		close_from(S.n - 1);
	}
	vn = tui_xcalloc(1, sizeof(*vn));
	vn->v.ops = ops;
	vn->v.priv = ops->private_size ? tui_xcalloc(1, ops->private_size) : NULL;
	vn->v.parent = cur ? &cur->v : NULL;
	vn->split = flags != OPEN_PUSH && cur;
	vn->dirty = true;
	TUI_GROW(S.stack, S.alloc, S.n + 1);
	S.stack[S.n++] = vn;
	S.focus = keep_left ? S.n - 2 : S.n - 1;
	S.layout_dirty = true;
	if (S.screen)
		layout();
	if (ops->open && ops->open(&vn->v, arg) < 0) {
		close_view(&vn->v);
		if (S.n)
			S.focus = old_focus < S.n ? old_focus : S.n - 1;
		return NULL;
	}
	if (!tui_view_alive(&vn->v))
		return NULL;
	clamp_view(&vn->v);
	return &vn->v;
}

void tui_open_help(struct view *from)
{
	const struct view_ops *help = tui_find_view_ops("help");

	if (!help) {
		tui_error("no help view in this build");
		return;
	}
	if (from && from->ops == help) {
		close_view(from);
		return;
	}
	tui_open(help, from, OPEN_PUSH);
}

void tui_help_key(char *out, size_t n)
{
	struct vnode *vn = focused();
	tui_action_key(vn ? vn->v.ops->name : "generic", ACT_HELP, out, n);
	if (!out[0])
		tui_fmt(out, n, ":help");
}

void tui_quit(int status)
{
	S.quit = true;
	S.exit_status = status;
}

void tui_apply_effects(struct view *v, unsigned eff)
{
	if (tui_view_alive(v)) {
		if ((eff & EFF_RELOAD) && v->ops->load) {
			v->ops->load(v);
			if (tui_view_alive(v))
				clamp_view(v);
		}
		if (tui_view_alive(v) && (eff & (EFF_RELOAD | EFF_REDRAW)))
			tui_view_dirty(v);
		if (tui_view_alive(v) && (eff & EFF_CLOSE))
			close_view(v);
	}
	if (eff & EFF_QUIT)
		tui_quit(0);
}

void tui_views_reload_all(void)
{
	for (size_t i = 0; i < S.n; i++) {
		struct view *v = &S.stack[i]->v;
		if (v->ops->load) {
			v->ops->load(v);
			if (i >= S.n || &S.stack[i]->v != v)
				break; /* load() closed views: stop here */
		}
		clamp_view(v);
		tui_view_dirty(v);
	}
	if (S.screen)
		mousemask(tui_option_on("mouse") ? (BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED)
						 : 0,
			  NULL);
	S.layout_dirty = true;
}


void tui_update_size(void)
{
	struct winsize ws;

	if (S.script || S.tty_fd < 0)
		return;
	if (ioctl(S.tty_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
	    (ws.ws_row != LINES || ws.ws_col != COLS))
		resizeterm(ws.ws_row, ws.ws_col);
	S.layout_dirty = true;
}
/* --- layout -------------------------------------------------------------------------------------- */

static void free_window(WINDOW **w)
{
	if (*w) {
		delwin(*w);
		*w = NULL;
	}
}

/* Screen lines above a view's rows: its column header, when it has one. */
static int header_lines(const struct view *v)
{
	return v->ops->header ? 1 : 0;
}

static void place(struct vnode *vn, int y, int x, int h, int w)
{
	struct view *v = &vn->v;

	free_window(&vn->title);
	free_window(&vn->win);
	v->height = h - 1 - header_lines(v) > 0 ? h - 1 - header_lines(v) : 1;
	v->width = w > 0 ? w : 1;
	if (h >= 2 && w >= 1) {
		vn->title = newwin(1, w, y, x);
		vn->win = newwin(h - 1, w, y + 1, x);
		if (vn->title)
			leaveok(vn->title, TRUE);
		if (vn->win)
			leaveok(vn->win, TRUE);
	}
	clamp_view(v);
	vn->dirty = true;
}

static void layout(void)
{
	int rows = LINES, cols = COLS;
	int area = rows - 1; /* above the status bar */
	struct vnode *left = NULL, *right = NULL, *one = NULL;
	int lw, lh, rw, rh;

	S.layout_dirty = false;
	if (rows != S.rows || cols != S.cols) {
		S.rows = rows;
		S.cols = cols;
		tui_grid_resize(rows, cols);
	}
	free_window(&S.status);
	free_window(&S.sep);
	free_window(&S.small);
	for (size_t i = 0; i < S.n; i++) {
		free_window(&S.stack[i]->title);
		free_window(&S.stack[i]->win);
	}
	S.nshown = 0;
	S.too_small = false;

	if (rows >= 1 && cols >= 1) {
		S.status = newwin(1, cols, rows - 1, 0);
		if (S.status) {
			keypad(S.status, TRUE);
			nodelay(S.status, TRUE);
			leaveok(S.status, TRUE);
		}
	}
	if (S.n == 0)
		return;
	if (is_split()) {
		left = S.stack[S.n - 2];
		right = S.stack[S.n - 1];
		view_min(left, &lw, &lh);
		view_min(right, &rw, &rh);
		/* side by side when both fit, else one above the other */
		bool want_vertical = true;
		int maxh = lh > rh ? lh : rh;
		int maxw = lw > rw ? lw : rw;
		if (want_vertical && cols >= lw + 1 + rw && area >= maxh + 1) {
			int w = cols / 2;
			if (w < lw)
				w = lw;
			if (cols - w - 1 < rw)
				w = cols - 1 - rw;
			place(left, 0, 0, area, w);
			place(right, 0, w + 1, area, cols - w - 1);
			S.sep = newwin(area, 1, 0, w);
			S.vertical = true;
			S.shown[0] = left;
			S.shown[1] = right;
			S.nshown = 2;
			return;
		}
		if (area >= lh + 1 + rh + 1 && cols >= maxw) {
			int h = area / 2;
			if (h < lh + 1)
				h = lh + 1;
			if (area - h < rh + 1)
				h = area - rh - 1;
			place(left, 0, 0, h, cols);
			place(right, h, 0, area - h, cols);
			S.vertical = false;
			S.shown[0] = left;
			S.shown[1] = right;
			S.nshown = 2;
			return;
		}
	}
	/* one pane: the focused view */
	one = focused();
	view_min(one, &lw, &lh);
	if (area >= lh + 1 && cols >= lw) {
		place(one, 0, 0, area, cols);
		S.shown[0] = one;
		S.nshown = 1;
		return;
	}
	/* too small: keep the views' sizes sane and show a message instead */
	for (size_t i = 0; i < S.n; i++) {
		struct view *v = &S.stack[i]->v;
		v->height = area - 1 - header_lines(v) > 0 ? area - 1 - header_lines(v) : 1;
		v->width = cols > 0 ? cols : 1;
		clamp_view(v);
	}
	free_window(&S.status);
	S.too_small = true;
	S.small = newwin(rows > 0 ? rows : 1, cols > 0 ? cols : 1, 0, 0);
	if (S.small) {
		keypad(S.small, TRUE);
		nodelay(S.small, TRUE);
		leaveok(S.small, TRUE);
	}
}

void tui_redraw_all(void)
{
	if (S.screen)
		clearok(curscr, TRUE);
	S.layout_dirty = true;
}

void tui_resize_screen(int rows, int cols)
{
	if (S.screen)
		resizeterm(rows, cols);
	S.layout_dirty = true;
}

void tui_set_cursor_hint(int x)
{
	S.cursor_hint = x;
}

/* --- drawing --------------------------------------------------------------------------------------- */

static void draw_rows(struct vnode *vn, bool focus)
{
	struct view *v = &vn->v;
	struct tui_canvas c;
	int hl = header_lines(v);

	if (hl) {
		/* the column header: fixed above the rows, scrolled sideways with them */
		tui_canvas_init(&c, vn->win, 0, v->width, v->hscroll, 0);
		v->ops->header(v, &c);
		tui_canvas_fill(&c, ROLE_DEFAULT);
	}
	for (int r = 0; r < v->height; r++) {
		long row = v->top + r;
		int sel = 0;
		if (row == v->cursor && row < v->rows)
			sel = focus || S.nshown < 2 ? SEL_FOCUS : SEL_BLUR;
		tui_canvas_init(&c, vn->win, r + hl, v->width, v->hscroll, sel);
		if (row < v->rows && v->ops->draw)
			v->ops->draw(v, &c, row);
		tui_canvas_fill(&c, ROLE_DEFAULT);
	}
	vn->dirty = false;
}

static void draw_title(struct vnode *vn, bool focus)
{
	struct view *v = &vn->v;
	struct tui_canvas c;
	char title[256];
	enum role role = focus ? ROLE_TITLE : ROLE_TITLE_BLUR;

	title[0] = 0;
	if (v->ops->title)
		v->ops->title(v, title, sizeof(title));
	if (!title[0])
		tui_fmt(title, sizeof(title), "%s", v->ops->name ? v->ops->name : "");
	tui_canvas_init(&c, vn->title, 0, v->width, 0, 0);
	tui_text(&c, " ", 1, role, 0, 0);
	tui_text(&c, title, (size_t)-1, role, 0, 0);
	tui_canvas_fill(&c, role);
}

static void draw_status(void)
{
	struct vnode *vn = focused();
	struct tui_canvas c;
	char left[600], right[400], status[256], progress[128];

	if (!S.status)
		return;
	tui_canvas_init(&c, S.status, 0, S.cols, 0, 0);
	if (tui_prompt_active()) {
		tui_prompt_draw(&c);
		return;
	}
	tui_set_cursor_hint(-1);
	status[0] = 0;
	if (vn && vn->v.ops->status)
		vn->v.ops->status(&vn->v, status, sizeof(status));
	/* a view counting in its own terms (when it has something to count) */
	bool own = vn && vn->v.ops->own_position && status[0];
	if (S.msg[0]) {
		tui_fmt(left, sizeof(left), "%s", S.msg);
	} else if (vn) {
		struct view *v = &vn->v;
		if (own)
			tui_fmt(left, sizeof(left), "[%s]", v->ops->name ? v->ops->name : "");
		else
			tui_fmt(left, sizeof(left), "[%s] row %ld of %ld",
				v->ops->name ? v->ops->name : "", v->rows ? v->cursor + 1 : 0,
				v->rows);
	} else {
		left[0] = 0;
	}
	tui_work_progress(progress, sizeof(progress));
	tui_fmt(right, sizeof(right), "%s%s%s", progress, progress[0] && status[0] ? "  " : "",
		status);

	enum role role = S.msg[0] && S.msg_error ? ROLE_STATUS_ERROR : ROLE_STATUS;
	int rw = tui_width(right, (size_t)-1);
	int lw = S.cols - rw - 3; /* a blank before, between and after */
	if (S.msg[0]) {
		/* a message (an error above all) matters more than the counts */
		int mw = tui_width(left, (size_t)-1);
		if (mw > lw)
			lw = mw < S.cols - 2 ? mw : S.cols - 2;
	}
	if (lw < S.cols / 2) {
		/* the row counter keeps half the bar; a view that counts on the
		 * right (own_position) leaves the room to its counter */
		int want = S.cols / 2;
		if (own && !S.msg[0])
			want = tui_width(left, (size_t)-1);
		if (lw < want)
			lw = want;
	}
	tui_text(&c, " ", 1, ROLE_STATUS, 0, 0);
	tui_text(&c, left, (size_t)-1, role, lw, TEXT_PAD);
	/* never let the two sides touch: "row 1 of 51" + "38 entries" must
	 * not read "row 1 of 5138 entries" */
	if (S.cols - tui_canvas_col(&c) - 2 > 0) {
		tui_text(&c, " ", 1, ROLE_STATUS, 0, 0);
		tui_text(&c, right, (size_t)-1, ROLE_STATUS, S.cols - tui_canvas_col(&c) - 1,
			 TEXT_RIGHT);
	}
	tui_canvas_fill(&c, ROLE_STATUS);
}

static void draw_small(void)
{
	char msg[2][64];
	int need_w = DEFAULT_MIN_WIDTH, need_h = DEFAULT_MIN_HEIGHT;
	struct vnode *vn = focused();

	if (!S.small)
		return;
	if (vn)
		view_min(vn, &need_w, &need_h);
	werase(S.small);
	tui_grid_resize(S.rows, S.cols);
	tui_fmt(msg[0], sizeof(msg[0]), "%s", S.cols >= 18 ? "Terminal too small" : "Too small");
	tui_fmt(msg[1], sizeof(msg[1]), "%dx%d, needs %dx%d", S.cols, S.rows, need_w, need_h + 2);
	if (tui_width(msg[1], (size_t)-1) > S.cols)
		tui_fmt(msg[1], sizeof(msg[1]), "need %dx%d", need_w, need_h + 2);
	for (int i = 0; i < 2; i++) {
		struct tui_canvas c;
		int w = tui_width(msg[i], (size_t)-1);
		int y = S.rows / 2 - 1 + i;
		if (y < 0 || y >= S.rows)
			continue;
		tui_canvas_init(&c, S.small, y, S.cols, 0, 0);
		/* (a width of 0 would pad the whole row) */
		if ((S.cols - w) / 2 > 0)
			tui_text(&c, "", 0, ROLE_DEFAULT, (S.cols - w) / 2, TEXT_PAD);
		tui_text(&c, msg[i], (size_t)-1, ROLE_STATUS_ERROR, 0, 0);
	}
	wnoutrefresh(S.small);
}

void tui_render(void)
{
	struct vnode *vn = focused();

	if (!S.screen)
		return;
	if (S.layout_dirty)
		layout();
	if (S.too_small) {
		draw_small();
	} else {
		for (int i = 0; i < S.nshown; i++) {
			struct vnode *p = S.shown[i];
			bool focus = p == vn;
			if (p->title) {
				draw_title(p, focus);
				wnoutrefresh(p->title);
			}
			if (p->win && p->dirty) {
				draw_rows(p, focus);
				wnoutrefresh(p->win);
			}
		}
		if (S.sep) {
			int h = getmaxy(S.sep);
			for (int y = 0; y < h; y++) {
				struct tui_canvas c;
				tui_canvas_init(&c, S.sep, y, 1, 0, 0);
				tui_text(&c, tui_glyph("\xe2\x94\x82", "|"), (size_t)-1, ROLE_DIM, 1, 0);
			}
			wnoutrefresh(S.sep);
		}
		draw_status();
	}
	if (S.status) {
		int vis = S.cursor_hint >= 0 && tui_prompt_active();
		leaveok(S.status, vis ? FALSE : TRUE);
		if (vis)
			wmove(S.status, 0, S.cursor_hint < S.cols ? S.cursor_hint : S.cols - 1);
		wnoutrefresh(S.status);
		if (vis != S.cursor_vis) {
			curs_set(vis);
			S.cursor_vis = vis;
		}
	}
	doupdate();
}

/* --- generic actions --------------------------------------------------------------------------------- */

static void toggle_option(const char *name, const char *a, const char *b, const char *c)
{
	const char *cur = tui_option(name);
	const char *next = !strcmp(cur, a) ? b : (c && !strcmp(cur, b)) ? c : a;
	char err[128];

	if (tui_option_set(name, next, err, sizeof(err)) == 0) {
		tui_views_reload_all();
		tui_message("%s: %s", name, next);
	}
}

static void generic_action(struct view *v, enum action a)
{
	long h = v->height > 1 ? v->height : 1;
	int step = v->width / 4 > 4 ? v->width / 4 : 4;

	switch (a) {
	case ACT_NONE:
		break;
	case ACT_MOVE_DOWN:
		move_to(v, v->cursor + 1, false);
		break;
	case ACT_MOVE_UP:
		move_to(v, v->cursor - 1, false);
		break;
	case ACT_PAGE_DOWN:
		scroll_by(v, h);
		break;
	case ACT_PAGE_UP:
		scroll_by(v, -h);
		break;
	case ACT_HALF_PAGE_DOWN:
		scroll_by(v, h / 2 > 0 ? h / 2 : 1);
		break;
	case ACT_HALF_PAGE_UP:
		scroll_by(v, -(h / 2 > 0 ? h / 2 : 1));
		break;
	case ACT_MOVE_FIRST:
		move_to(v, 0, false);
		break;
	case ACT_MOVE_LAST:
		move_to(v, v->rows - 1, false);
		break;
	case ACT_SCROLL_LEFT:
		v->hscroll = v->hscroll > step ? v->hscroll - step : 0;
		tui_view_dirty(v);
		break;
	case ACT_SCROLL_RIGHT:
		if (v->hscroll < (1 << 20))
			v->hscroll += step;
		tui_view_dirty(v);
		break;
	case ACT_GOTO:
		tui_command_prompt("goto ");
		break;
	case ACT_ENTER:
		break;
	case ACT_CLOSE:
		close_view(v);
		break;
	case ACT_QUIT:
		tui_quit(0);
		break;
	case ACT_NEXT_PANE:
		if (is_split()) {
			S.focus = S.focus == S.n - 1 ? S.n - 2 : S.n - 1;
			S.stack[S.n - 1]->dirty = S.stack[S.n - 2]->dirty = true;
		}
		break;
	case ACT_HELP:
		tui_open_help(v);
		break;
	case ACT_REFRESH:
		tui_apply_effects(v, EFF_RELOAD);
		break;
	case ACT_REDRAW:
		tui_redraw_all();
		break;
	case ACT_PROMPT:
		tui_command_prompt("");
		break;
	case ACT_OPEN_URL:
		tui_error("nothing to open in a browser here");
		break;
	case ACT_SEARCH:
	case ACT_SEARCH_BACK:
		tui_search_prompt(v, a == ACT_SEARCH_BACK);
		break;
	case ACT_FIND_NEXT:
	case ACT_FIND_PREV:
		tui_find_next(v, a == ACT_FIND_PREV);
		break;
	case ACT_FILTER:
		if (v->ops->command)
			tui_command_prompt("filter ");
		else
			tui_error("this view cannot be filtered");
		break;
	case ACT_SORT:
		tui_error("this view cannot be sorted");
		break;
	case ACT_CANCEL:
		break;
	case ACT_TIMESTAMPS:
		toggle_option("timestamps", "hidden", "absolute", "relative");
		break;
	case ACT_WRAP:
		toggle_option("wrap", "off", "on", NULL);
		break;
	case ACT_LINE_NUMBERS:
		toggle_option("line-numbers", "off", "on", NULL);
		break;
	default:
		/* the pager's actions elsewhere, and the application's actions
		 * that neither the view nor the application took */
		tui_error("%s: not available in this view", action_name(a));
		break;
	}
}

static void dispatch_action(struct view *v, enum action a)
{
	if (a == ACT_CANCEL && tui_work_cancel_all())
		return;
	if (!v)
		return;
	if (v->ops->request) {
		unsigned eff = 0;
		enum action r = v->ops->request(v, a, &eff);
		tui_apply_effects(v, eff);
		if (r == ACT_NONE || !tui_view_alive(v))
			return;
		a = r;
	}
	const struct tui_app *app = tui_app();
	if (app && app->action && app->action(v, a))
		return;
	generic_action(v, a);
}

static struct vnode *pane_at(int y, int x, int *row)
{
	for (int i = 0; i < S.nshown; i++) {
		struct vnode *vn = S.shown[i];
		int by, bx, h, w;
		if (!vn->win || !vn->title)
			continue;
		getbegyx(vn->win, by, bx);
		getmaxyx(vn->win, h, w);
		if (x >= bx && x < bx + w && y >= by - 1 && y < by + h) {
			/* -1: the title bar (or the column header) */
			*row = y - by - header_lines(&vn->v);
			if (*row < -1)
				*row = -1;
			return vn;
		}
	}
	return NULL;
}

static void handle_mouse(const struct tui_key *k)
{
	int row;
	struct vnode *vn = pane_at(k->y, k->x, &row);

	if (!vn || !tui_option_on("mouse"))
		return;
	if (S.nshown == 2) {
		size_t idx = (size_t)index_of(&vn->v);
		if (idx != S.focus) {
			S.focus = idx;
			S.shown[0]->dirty = S.shown[1]->dirty = true;
		}
	}
	struct view *v = &vn->v;
	switch (k->mouse) {
	case MOUSE_CLICK:
		if (row >= 0 && v->top + row < v->rows)
			move_to(v, v->top + row, false);
		break;
	case MOUSE_WHEEL_UP:
	case MOUSE_WHEEL_DOWN: {
		long h = v->height > 0 ? v->height : 1;
		long top = scrolled_top(v, k->mouse == MOUSE_WHEEL_UP ? -3 : 3);
		v->top = top;
		long cur = v->cursor;
		if (cur < top)
			cur = top;
		if (cur >= top + h)
			cur = top + h - 1;
		tui_view_dirty(v);
		if (cur != v->cursor)
			move_to(v, cur, false);
		break;
	}
	}
}

static void dispatch_key(const struct tui_key *k)
{
	struct vnode *vn;
	enum action a;

	if (k->key == TK_RESIZE) {
		tui_update_size();
		return;
	}
	/* A message stays until the next key. Keys typed into the prompt do
	 * not count (the prompt hides the message anyway), nor does a
	 * script's ':' line: a test can dump the screen with the message of
	 * the key before. */
	if (k->key == TK_CMDLINE) {
		tui_command_prompt("");
		return;
	}
	if (tui_prompt_active()) {
		tui_prompt_key(k);
		return;
	}
	tui_message_clear();
	if (k->key == TK_MOUSE) {
		handle_mouse(k);
		return;
	}
	vn = focused();
	if (!vn)
		return;
	a = tui_keymap_lookup(vn->v.ops->name, k->key);
	if (a == ACT_NONE) {
		char name[32], help[32];
		tui_key_name(k->key, name, sizeof(name));
		tui_help_key(help, sizeof(help));
		tui_error("Unknown key %s, press %s for help", name, help);
		return;
	}
	dispatch_action(&vn->v, a);
}

/* Keys the terminal has for us now (nodelay). */
void tui_read_tty_keys(void)
{
	WINDOW *w = S.status ? S.status : S.small;

	for (int i = 0; w && i < KEYS_PER_TURN && !S.quit; i++) {
		wint_t wch;
		int r = wget_wch(w, &wch);
		struct tui_key k;
		if (r == ERR)
			return;
		memset(&k, 0, sizeof(k));
		k.key = tui_key_from_curses(r, wch);
		if (k.key == TK_MOUSE) {
			MEVENT ev;
			if (getmouse(&ev) != OK)
				continue;
			k.y = ev.y;
			k.x = ev.x;
			if (ev.bstate & BUTTON4_PRESSED)
				k.mouse = MOUSE_WHEEL_UP;
			else if (ev.bstate & BUTTON5_PRESSED)
				k.mouse = MOUSE_WHEEL_DOWN;
			else if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
				k.mouse = MOUSE_CLICK;
			else
				continue;
		}
		dispatch_key(&k);
		/* the layout may have changed windows under us */
		if (S.layout_dirty)
			return;
		w = S.status ? S.status : S.small;
	}
}

int tui_run(void)
{
	if (!S.inited)
		return 1;
	if (S.n == 0) {
		/* the first view did not open: say why after the screen is gone */
		set_fatal(S.msg[0] ? S.msg : "nothing to show");
		return 1;
	}
	while (!S.quit && S.n > 0) {
		tui_render();
		if (S.opts.exit_after_first_frame && !tui_work_pending())
			break;
		if (S.script) {
			tui_handle_signals();
			tui_watches_poll_now();
			tui_timers_fire();
			if (tui_work_active()) {
				tui_work_step_all();
				continue;
			}
			if (tui_work_pending()) {
				/* a transfer: wait for its fds and timers */
				tui_wait_watches(tui_timer_timeout());
				continue;
			}
			struct tui_key k;
			if (!tui_script_next(&k)) {
				if (S.msg[0] && S.msg_error && S.exit_status)
					set_fatal(S.msg);
				break;
			}
			dispatch_key(&k);
			continue;
		}
		int timeout = tui_work_active() ? 0 : tui_timer_timeout();
		tui_wait_events(S.tty_fd, timeout);
		if (S.quit)
			break;
		tui_timers_fire();
		if (tui_work_active())
			tui_work_step_all();
	}
	/* close every view while the program's state is still there */
	close_from(0);
	return S.exit_status;
}

/* A script error ends the run with status 2 and the message on stderr. */
void tui_script_failed(const char *msg)
{
	set_fatal(msg);
	tui_quit(2);
}

/* --- start and stop ----------------------------------------------------------------------------------- */

static void at_exit(void)
{
	/* exit() from anywhere (die()) must not leave the terminal raw */
	if (S.screen)
		endwin();
}

static FILE *open_dev(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);
	if (f)
		fcntl(fileno(f), F_SETFD, FD_CLOEXEC);
	return f;
}

/* Is there a terminfo entry? (newterm() on an unknown one leaks.) */
static bool term_known(const char *term)
{
	int e = 0;
	TERMINAL *saved = cur_term;
	bool ok = setupterm(term, -1, &e) == OK;

	if (ok)
		del_curterm(cur_term);
	set_curterm(saved);
	return ok;
}

/* Signals back to their defaults and the terminal's files closed (those
 * tui_init opened itself). */
static void close_terminal_files(void)
{
	tui_signals_stop();
	if (S.own_out && S.out && S.out != S.in)
		fclose(S.out);
	if (S.own_in && S.in)
		fclose(S.in);
	S.in = S.out = NULL;
	S.own_in = S.own_out = false;
}

int tui_init(const struct tui_opts *opts, char *err, size_t errlen)
{
	static bool atexit_done;
	struct tui_errors errs = {{0}, 0};
	const char *term = NULL;

	if (S.inited) {
		tui_fmt(err, errlen, "the terminal is already started");
		return -1;
	}
	S.opts = *opts;
	S.script = opts->script_path != NULL;
	S.exit_status = 0;
	S.quit = false;
	S.cursor_hint = -1;
	S.cursor_vis = -1;

	setlocale(LC_CTYPE, "");
	tui_detect_locale();
	if (tui_config_load(opts->default_config, opts->config_path, opts->config_path != NULL,
			    &errs, err, errlen) < 0)
		return -1;
	if (S.script && tui_script_open(opts->script_path, err, errlen) < 0) {
		tui_config_free();
		return -1;
	}

	if (S.script) {
		/* tests: the virtual screen only; no tty needed (CI has none) */
		const char *t = getenv("TERM");
		term = t && *t ? t : "xterm-256color";
		if (!term_known(term))
			term = "dumb";
		S.out = open_dev(opts->script_output ? opts->script_output : "/dev/null", "w");
		S.in = open_dev("/dev/null", "r");
		S.own_in = S.own_out = true;
	} else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		S.in = stdin;
		S.out = stdout;
	} else {
		/* output or input redirected: talk to the terminal itself */
		S.in = S.out = open_dev("/dev/tty", "r+");
		S.own_in = S.in != NULL;
	}
	if (!S.in || !S.out) {
		tui_fmt(err, errlen, "cannot open the terminal: %s",
			!S.script ? "not a terminal and no /dev/tty"
			: S.out ? "/dev/null"
				: opts->script_output ? opts->script_output : "/dev/null");
		goto fail;
	}
	S.tty_fd = fileno(S.in);

	/* ours before newterm(), so ncurses installs none of its own */
	if (tui_signals_start(err, errlen) < 0)
		goto fail;
	tui_crash_save_modes(S.script ? -1 : S.tty_fd);

	/* newterm() on a TERM without a terminfo entry fails but leaks (and
	 * LeakSanitizer makes that an abort): ask first */
	if (!S.script) {
		const char *t = getenv("TERM");
		if (!t || !*t || !term_known(t)) {
			tui_fmt(err, errlen, "cannot start the terminal (TERM=%s): no terminfo entry",
				t && *t ? t : "unset");
			goto fail;
		}
	}
	S.screen = newterm(term, S.out, S.in);
	if (!S.screen) {
		const char *t = getenv("TERM");
		tui_fmt(err, errlen, "cannot start the terminal (TERM=%s)", t && *t ? t : "unset");
		goto fail;
	}
	set_term(S.screen);
	if (!S.script)
		tui_crash_prepare(fileno(S.out));
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	if (!getenv("ESCDELAY"))
		set_escdelay(25);
	curs_set(0);
	S.cursor_vis = 0;
	tui_colors_init(opts->no_color);
	mouseinterval(0);
	if (tui_option_on("mouse"))
		mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	if (!atexit_done) {
		atexit(at_exit);
		atexit_done = true;
	}
	S.layout_dirty = true;
	S.inited = true;
	if (errs.count > 1)
		tui_error("%s (and %d more errors)", errs.first, errs.count - 1);
	else if (errs.count)
		tui_error("%s", errs.first);
	return 0;

fail:
	close_terminal_files();
	tui_script_close();
	tui_config_free();
	return -1;
}

void tui_shutdown(void)
{
	static bool busy;

	if (busy)
		return; /* called again from an OOM hook while shutting down */
	busy = true;
	if (S.screen) {
		endwin();
		tui_signals_stop();
		tui_crash_release();
		/* views still open means an abnormal exit (OOM, die()): leave
		 * them, calling into view code now is not safe */
		if (S.n == 0) {
			for (int i = 0; i < S.nshown; i++)
				S.shown[i] = NULL;
			free_window(&S.status);
			free_window(&S.sep);
			free_window(&S.small);
			delscreen(S.screen);
		}
		S.screen = NULL;
	}
	close_terminal_files();
	if (S.n == 0) {
		free(S.stack);
		S.stack = NULL;
		S.alloc = 0;
	}
	tui_loop_free();
	tui_script_close();
	tui_prompt_free();
	tui_config_free();
	tui_grid_free();
	if (S.fatal) {
		fprintf(stderr, "%s%s\n", strncmp(S.fatal, "ciscope: ", 9) ? "ciscope: " : "", S.fatal);
		free(S.fatal);
		S.fatal = NULL;
	}
	S.inited = false;
	busy = false;
}
