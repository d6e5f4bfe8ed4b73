/* help.c - the help view: the keys of the view it was opened from, grouped
 * as in the action table, then the ':' commands and the options. Nothing
 * here is written by hand: it is generated from the action table, the
 * keymaps (built-in and the user's) and the command and option tables, the
 * same sources as `ciscope keys` and the man page.
 */
#include <stdlib.h>
#include <string.h>

#include "views/views.h"

enum help_kind { HL_BLANK, HL_TITLE, HL_GROUP, HL_KEY, HL_TEXT };

struct help_line {
	enum help_kind kind;
	char *col1, *col2, *col3; /* keys, action, help */
};

struct help {
	struct help_line *lines;
	size_t n, alloc;
	char keymap[64];
	const char *group; /* the last group written */
	int w1, w2;        /* column widths */
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void add(struct help *h, enum help_kind kind, const char *a, const char *b, const char *c)
{
	XGROW(h->lines, h->alloc, h->n + 1);
	struct help_line *l = &h->lines[h->n++];
	l->kind = kind;
	l->col1 = dup_or_null(a);
	l->col2 = dup_or_null(b);
	l->col3 = dup_or_null(c);
	if (kind == HL_KEY) {
		int w1 = tui_width(a, (size_t)-1), w2 = tui_width(b, (size_t)-1);
		if (w1 > h->w1)
			h->w1 = w1 > 24 ? 24 : w1;
		if (w2 > h->w2)
			h->w2 = w2 > 24 ? 24 : w2;
	}
}

static void add_binding(void *ctx, const char *group, const char *keys, enum action a)
{
	struct help *h = ctx;

	if (!keys[0])
		return; /* not reachable from this view */
	if (!h->group || strcmp(h->group, group)) {
		add(h, HL_BLANK, NULL, NULL, NULL);
		add(h, HL_GROUP, group, NULL, NULL);
		h->group = group;
	}
	add(h, HL_KEY, keys, action_name(a), action_help_in(h->keymap, a));
}

static void add_command(void *ctx, const char *name, const char *args, const char *help)
{
	struct help *h = ctx;
	char *both = xasprintf(":%s%s%s", name, *args ? " " : "", args);
	add(h, HL_KEY, both, "", help);
	free(both);
}

static void add_option(void *ctx, const char *name, const char *values, const char *value,
		       const char *help)
{
	struct help *h = ctx;
	char *text = xasprintf("%s (now %s)", help, value);
	add(h, HL_KEY, name, values, text);
	free(text);
}

static int help_open(struct view *v, void *arg)
{
	struct help *h = v->priv;
	struct view *from = arg;
	const char *name = from && from->ops->name ? from->ops->name : "generic";
	char title[128];

	snprintf(h->keymap, sizeof(h->keymap), "%s", name);
	snprintf(title, sizeof(title), "Keys of the %s view", name);
	add(h, HL_TITLE, title, NULL, NULL);
	tui_foreach_binding(h->keymap, add_binding, h);
	add(h, HL_BLANK, NULL, NULL, NULL);
	add(h, HL_GROUP, "Commands (press : and type one, then Enter)", NULL, NULL);
	tui_foreach_command(add_command, h);
	add(h, HL_BLANK, NULL, NULL, NULL);
	add(h, HL_GROUP, "Options (:set OPTION VALUE, or `set` in the config)", NULL, NULL);
	tui_foreach_option(add_option, h);
	add(h, HL_BLANK, NULL, NULL, NULL);
	/* ? is two things, as in less and tig: say which, wherever help is */
	add(h, HL_TEXT,
	    strcmp(name, "log") ? "? shows this help here; in the log pager ? searches backward "
				  "(as in less), and h or F1 shows the help."
				: "? searches backward here (as in less); h or F1 shows this help.",
	    NULL, NULL);
	add(h, HL_BLANK, NULL, NULL, NULL);
	add(h, HL_TEXT,
	    "Keys and colours can be changed in ~/.config/ciscope/config "
	    "(`ciscope keys` lists every view's keys).",
	    NULL, NULL);
	tui_view_set_rows(v, (long)h->n);
	return 0;
}

/* The help text with the search query highlighted (case-insensitively, as
 * help_match finds it). */
static void draw_hl(struct view *v, struct tui_canvas *c, const char *s, enum role role)
{
	const char *q = tui_search_query(v);
	const char *hit = q && *q ? strcasestr(s, q) : NULL;

	if (hit)
		tui_text_hl(c, s, (size_t)-1, role, (size_t)(hit - s), (size_t)(hit - s) + strlen(q),
			    0);
	else
		tui_text(c, s, (size_t)-1, role, 0, 0);
}

static void help_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct help *h = v->priv;
	const struct help_line *l = &h->lines[row];

	switch (l->kind) {
	case HL_BLANK:
		break;
	case HL_TITLE:
		tui_text(c, " ", 1, ROLE_DEFAULT, 0, 0);
		draw_hl(v, c, l->col1, ROLE_HEADER);
		break;
	case HL_GROUP:
		tui_text(c, " ", 1, ROLE_DEFAULT, 0, 0);
		draw_hl(v, c, l->col1, ROLE_HEADER);
		break;
	case HL_TEXT:
		tui_text(c, " ", 1, ROLE_DEFAULT, 0, 0);
		draw_hl(v, c, l->col1, ROLE_DIM);
		break;
	case HL_KEY: {
		/* narrow screens give the help text the room */
		int w = tui_canvas_width(c);
		int w1 = h->w1 < w / 3 ? h->w1 : w / 3;
		int w2 = h->w2 < w / 4 ? h->w2 : w / 4;
		tui_text(c, "   ", 3, ROLE_DEFAULT, 0, 0);
		tui_text(c, l->col1, (size_t)-1, ROLE_DEFAULT, w1 > 1 ? w1 : 1, TEXT_PAD);
		tui_text(c, "  ", 2, ROLE_DEFAULT, 0, 0);
		tui_text(c, l->col2, (size_t)-1, ROLE_DIM, w2 > 1 ? w2 : 1, TEXT_PAD);
		tui_text(c, "  ", 2, ROLE_DEFAULT, 0, 0);
		draw_hl(v, c, l->col3, ROLE_DEFAULT);
		break;
	}
	}
}

static bool field_has(const char *s, const char *q)
{
	return s && strcasestr(s, q);
}

static bool help_match(struct view *v, long row, const char *query)
{
	struct help *h = v->priv;
	const struct help_line *l = &h->lines[row];

	return field_has(l->col1, query) || field_has(l->col2, query) ||
	       field_has(l->col3, query);
}

static void help_title(struct view *v, char *out, size_t n)
{
	struct help *h = v->priv;
	snprintf(out, n, "help: %s", h->keymap);
}

static void help_status(struct view *v, char *out, size_t n)
{
	struct help *h = v->priv;
	long keys = 0;
	for (size_t i = 0; i < h->n; i++)
		keys += h->lines[i].kind == HL_KEY;
	snprintf(out, n, "%ld entries", keys);
}

static void help_done(struct view *v)
{
	struct help *h = v->priv;
	for (size_t i = 0; i < h->n; i++) {
		free(h->lines[i].col1);
		free(h->lines[i].col2);
		free(h->lines[i].col3);
	}
	free(h->lines);
}

const struct view_ops help_view_ops = {
	.name = "help",
	.private_size = sizeof(struct help),
	.open = help_open,
	.draw = help_draw,
	.match = help_match,
	.title = help_title,
	.status = help_status,
	.done = help_done,
};
