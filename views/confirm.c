/* confirm.c - a dialog: a text shown whole (the request that will be sent)
 * over the views, with a yes/no question in the status bar (tui_confirm).
 * The answer closes it and is handed on. It takes no keys of its own: the
 * question has them all (y yes, anything else no), so it is not in
 * VIEW_LIST and has no keymap.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "views/common.h"
#include "views/views.h"

struct confirm_arg {
	const char *title, *text;
};

struct confirm_priv {
	char **lines;
	size_t n;
	char *title;
	void (*done)(void *ctx, bool yes);
	void *ctx;
};

/* The dialog waiting for its answer (one at a time). */
static struct view *waiting;

static int confirm_open_view(struct view *v, void *arg)
{
	const struct confirm_arg *a = arg;
	struct confirm_priv *p = v->priv;
	size_t alloc = 0;
	p->title = xstrdup(a->title ? a->title : "confirm");
	for (const char *s = a->text ? a->text : ""; *s;) {
		size_t k = strcspn(s, "\n");
		XGROW(p->lines, alloc, p->n + 1);
		p->lines[p->n++] = xstrndup(s, k);
		s += k;
		if (*s == '\n')
			s++;
	}
	tui_view_set_rows(v, p->n ? (long)p->n : 1);
	return 0;
}

static void confirm_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct confirm_priv *p = v->priv;
	if (row < 0 || (size_t)row >= p->n)
		return;
	const char *s = p->lines[row];
	/* the request line stands out; the rest is plain text */
	enum role role = !strncmp(s, "POST ", 5) ? ROLE_HEADER : ROLE_DEFAULT;
	tui_text(c, s, (size_t)-1, role, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static void confirm_title(struct view *v, char *out, size_t n)
{
	struct confirm_priv *p = v->priv;
	snprintf(out, n, "%s", p->title);
}

static void confirm_done(struct view *v)
{
	struct confirm_priv *p = v->priv;
	void (*done)(void *, bool) = p->done;
	void *ctx = p->ctx;
	if (waiting == v) {
		/* closed before an answer (the program quits): that is a no */
		waiting = NULL;
		if (done)
			done(ctx, false);
	}
	for (size_t i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->title);
}

static const struct view_ops confirm_view_ops = {
	.name = "confirm",
	.private_size = sizeof(struct confirm_priv),
	.open = confirm_open_view,
	.draw = confirm_draw,
	.title = confirm_title,
	.done = confirm_done,
};

static void answered(void *ctx, bool yes)
{
	struct view *v = ctx;
	if (!v || v != waiting)
		return;
	struct confirm_priv *p = v->priv;
	void (*done)(void *, bool) = p->done;
	void *dctx = p->ctx;
	waiting = NULL;
	tui_view_close(v);
	if (done)
		done(dctx, yes);
}

int confirm_open(const char *title, const char *text, const char *question,
		 void (*done)(void *ctx, bool yes), void *ctx)
{
	if (waiting) {
		tui_error("another question is waiting for its answer");
		return -1;
	}
	struct confirm_arg a = {.title = title, .text = text};
	struct view *v = tui_open(&confirm_view_ops, &a, OPEN_PUSH);
	if (!v)
		return -1;
	struct confirm_priv *p = v->priv;
	p->done = done;
	p->ctx = ctx;
	waiting = v;
	tui_confirm(question, answered, v);
	return 0;
}
