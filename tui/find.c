/* find.c - the generic search over a view's rows: / ? n N.
 *
 * It asks ops->match() row by row, a slice of rows per loop turn as
 * background work, so a search through a million rows never freezes the
 * screen: the status bar shows how far it got and Esc cancels. It starts
 * next to the cursor and wraps around the end once, saying so.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/internal.h"

#define FIND_SLICE 4096

struct tui_find {
	struct view *v;
	char *query;
	bool backward;
	bool wrapped;
	long pos, scanned;
};

static void find_stop(struct tui_find *f)
{
	tui_work_stop(f);
}

static bool find_step(void *ctx)
{
	struct tui_find *f = ctx;
	struct view *v = f->v;

	for (int i = 0; i < FIND_SLICE; i++) {
		long rows = v->rows;
		if (f->scanned >= rows) {
			tui_error("no match for '%s'", f->query);
			return false;
		}
		if (f->pos >= rows) {
			f->pos = 0;
			f->wrapped = true;
		} else if (f->pos < 0) {
			f->pos = rows - 1;
			f->wrapped = true;
		}
		if (v->ops->match(v, f->pos, f->query)) {
			tui_view_goto(v, f->pos);
			if (f->wrapped)
				tui_message(f->backward ? "search wrapped to the bottom"
							: "search wrapped to the top");
			return false;
		}
		f->pos += f->backward ? -1 : 1;
		f->scanned++;
	}
	return true;
}

static void find_progress(void *ctx, char *out, size_t n)
{
	struct tui_find *f = ctx;
	long rows = f->v->rows > 0 ? f->v->rows : 1;
	tui_fmt(out, n, "searching '%s': %ld%%", f->query, f->scanned * 100 / rows);
}

static void find_cancel(void *ctx)
{
	tui_message("search cancelled");
}

static void run(struct view *v, bool backward)
{
	struct vnode *vn = VNODE(v);
	struct tui_find *f = vn->find;

	if (!f) {
		f = vn->find = tui_xcalloc(1, sizeof(*f));
		f->v = v;
	}
	find_stop(f);
	free(f->query);
	f->query = tui_xstrdup(vn->query);
	f->backward = backward;
	f->wrapped = false;
	f->scanned = 0;
	f->pos = v->cursor + (backward ? -1 : 1);
	tui_view_dirty(v); /* the highlight changed */
	if (v->rows <= 0) {
		tui_error("no match for '%s'", f->query);
		return;
	}
	struct tui_work w = {
		.step = find_step,
		.progress = find_progress,
		.cancel = find_cancel,
		.ctx = f,
		.owner = v,
	};
	/* a small view is searched at once; the loop takes the rest */
	if (find_step(f))
		tui_work_start(&w);
}

void tui_find_start(struct view *v, const char *query, bool backward)
{
	struct vnode *vn = VNODE(v);

	if (!v->ops->match) {
		tui_error("this view cannot be searched");
		return;
	}
	if (query && *query) {
		free(vn->query);
		vn->query = tui_xstrdup(query);
	} else if (!vn->query) {
		return;
	}
	vn->query_back = backward;
	run(v, backward);
}

void tui_search(struct view *v, const char *query, bool backward)
{
	if (v)
		tui_find_start(v, query, backward);
}

void tui_find_next(struct view *v, bool reverse)
{
	struct vnode *vn = VNODE(v);

	if (!v->ops->match) {
		tui_error("this view cannot be searched");
		return;
	}
	if (!vn->query) {
		char key[32];
		tui_action_key(v->ops->name, ACT_SEARCH, key, sizeof(key));
		tui_error("no search yet: press %s to search", key[0] ? key : "/");
		return;
	}
	run(v, vn->query_back != reverse);
}

struct prompt_ctx {
	struct view *v;
	bool backward;
};

static void search_done(void *ctx, const char *text)
{
	struct prompt_ctx *p = ctx;

	if (text && tui_view_alive(p->v))
		tui_find_start(p->v, text, p->backward);
}

void tui_search_prompt(struct view *v, bool backward)
{
	/* one prompt at a time: a static context is enough */
	static struct prompt_ctx pc;

	if (!v->ops->match) {
		tui_error("this view cannot be searched");
		return;
	}
	pc.v = v;
	pc.backward = backward;
	tui_prompt(backward ? "?" : "/", "", search_done, &pc);
}

void tui_find_free(struct view *v)
{
	struct vnode *vn = VNODE(v);

	if (!vn->find)
		return;
	find_stop(vn->find);
	free(vn->find->query);
	free(vn->find);
	vn->find = NULL;
}
