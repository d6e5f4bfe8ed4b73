/* prompt.c - the one-line editor of the status bar and the ':' commands.
 *
 * While the prompt is open it gets raw keys, not actions: typing "q" into
 * a search must not close the view. Editing keys are fixed (readline's):
 * Left/Right, Home/End (C-a/C-e), Backspace, Delete (C-d), C-u (to the
 * start), C-k (to the end), C-w (word), Up/Down (history, kept per label),
 * Enter, Esc.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/internal.h"

#define PROMPT_MAX 4096
#define HISTORY_MAX 100

struct history {
	char label[16];
	char **items;
	size_t n, alloc;
};

static struct {
	bool active;
	char label[32];
	char *text;
	size_t len, alloc, caret;
	void (*done)(void *ctx, const char *text);
	void *ctx;
	size_t hpos;   /* == the history's n: the line being edited */
	char *draft;   /* the edited line while browsing history */
} P;

/* A yes/no question (tui_confirm): under the line prompt when both are open. */
static struct {
	bool active;
	char *question;
	void (*done)(void *ctx, bool yes);
	void *ctx;
} Q;

static struct history *histories;
static size_t nhist, ahist;

static struct history *history_for(const char *label)
{
	for (size_t i = 0; i < nhist; i++)
		if (!strcmp(histories[i].label, label))
			return &histories[i];
	TUI_GROW(histories, ahist, nhist + 1);
	struct history *h = &histories[nhist++];
	memset(h, 0, sizeof(*h));
	tui_fmt(h->label, sizeof(h->label), "%s", label);
	return h;
}

static void history_add(struct history *h, const char *s)
{
	if (!*s || (h->n && !strcmp(h->items[h->n - 1], s)))
		return;
	if (h->n == HISTORY_MAX) {
		free(h->items[0]);
		memmove(h->items, h->items + 1, (h->n - 1) * sizeof(*h->items));
		h->n--;
	}
	TUI_GROW(h->items, h->alloc, h->n + 1);
	h->items[h->n++] = tui_xstrdup(s);
}

static void set_text(const char *s)
{
	size_t n = strlen(s);
	if (n > PROMPT_MAX)
		n = PROMPT_MAX;
	TUI_GROW(P.text, P.alloc, n + 1);
	memcpy(P.text, s, n);
	P.text[n] = 0;
	P.len = P.caret = n;
}

bool tui_prompt_active(void)
{
	return P.active || Q.active;
}

static void confirm_finish(bool yes)
{
	void (*done)(void *, bool) = Q.done;
	void *ctx = Q.ctx;

	Q.active = false;
	Q.done = NULL;
	free(Q.question);
	Q.question = NULL;
	tui_set_cursor_hint(-1);
	if (done)
		done(ctx, yes);
}

void tui_confirm(const char *question, void (*done)(void *ctx, bool yes), void *ctx)
{
	if (Q.active)
		confirm_finish(false); /* a question replacing another: no to the first */
	Q.active = true;
	Q.question = tui_xstrdup(question ? question : "");
	Q.done = done;
	Q.ctx = ctx;
}

void tui_prompt(const char *label, const char *initial, void (*done)(void *ctx, const char *text),
		void *ctx)
{
	if (P.active) {
		/* a prompt replacing another: the first one is cancelled */
		void (*old)(void *, const char *) = P.done;
		void *oldctx = P.ctx;
		P.active = false;
		if (old)
			old(oldctx, NULL);
	}
	P.active = true;
	tui_fmt(P.label, sizeof(P.label), "%s", label ? label : "");
	set_text(initial ? initial : "");
	P.done = done;
	P.ctx = ctx;
	P.hpos = history_for(P.label)->n;
	free(P.draft);
	P.draft = NULL;
}

static void finish(bool accept)
{
	void (*done)(void *, const char *) = P.done;
	void *ctx = P.ctx;
	char *text = accept ? tui_xstrdup(P.text) : NULL;

	P.active = false;
	P.done = NULL;
	free(P.draft);
	P.draft = NULL;
	if (text)
		history_add(history_for(P.label), text);
	tui_set_cursor_hint(-1);
	if (done)
		done(ctx, text);
	free(text);
}

static size_t prev_char(size_t i)
{
	while (i > 0) {
		i--;
		if (((unsigned char)P.text[i] & 0xc0) != 0x80)
			break;
	}
	return i;
}

static size_t next_char(size_t i)
{
	if (i < P.len)
		i++;
	while (i < P.len && ((unsigned char)P.text[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static void delete_range(size_t from, size_t to)
{
	if (to <= from)
		return;
	memmove(P.text + from, P.text + to, P.len - to + 1);
	P.len -= to - from;
	P.caret = from;
}

static void insert(int key)
{
	char u[4];
	int n;

	if (key & TK_FN || key < 0x20 || key > 0x10ffff)
		return;
	enum cp_class cls = tw_class((uint32_t)key);
	if (cls != CP_NORMAL && cls != CP_WIDE && cls != CP_COMBINING)
		return;
	n = tw_encode((uint32_t)key, u);
	if (P.len + (size_t)n > PROMPT_MAX)
		return;
	TUI_GROW(P.text, P.alloc, P.len + (size_t)n + 1);
	memmove(P.text + P.caret + n, P.text + P.caret, P.len - P.caret + 1);
	memcpy(P.text + P.caret, u, (size_t)n);
	P.len += (size_t)n;
	P.caret += (size_t)n;
}

static void history_move(int dir)
{
	/* looked up each time: another label's history may have moved them */
	struct history *h = history_for(P.label);

	if (dir < 0 && P.hpos == 0)
		return;
	if (dir > 0 && P.hpos >= h->n)
		return;
	if (P.hpos == h->n) {
		free(P.draft);
		P.draft = tui_xstrdup(P.text);
	}
	P.hpos = dir < 0 ? P.hpos - 1 : P.hpos + 1;
	set_text(P.hpos == h->n ? (P.draft ? P.draft : "") : h->items[P.hpos]);
}

void tui_prompt_key(const struct tui_key *k)
{
	if (!P.active) {
		if (Q.active)
			confirm_finish(k->key == 'y' || k->key == 'Y');
		return;
	}
	switch (k->key) {
	case TK_ENTER:
		finish(true);
		return;
	case TK_ESC:
	case 3: /* C-c */
	case 7: /* C-g */
		finish(false);
		return;
	case TK_FN | KEY_LEFT:
	case 2: /* C-b */
		P.caret = prev_char(P.caret);
		break;
	case TK_FN | KEY_RIGHT:
	case 6: /* C-f */
		P.caret = next_char(P.caret);
		break;
	case TK_FN | KEY_HOME:
	case 1: /* C-a */
		P.caret = 0;
		break;
	case TK_FN | KEY_END:
	case 5: /* C-e */
		P.caret = P.len;
		break;
	case TK_BACKSPACE:
		if (P.len == 0) {
			/* backspace on an empty prompt leaves it (vi, tig) */
			finish(false);
			return;
		}
		delete_range(prev_char(P.caret), P.caret);
		break;
	case TK_FN | KEY_DC:
	case 4: /* C-d */
		delete_range(P.caret, next_char(P.caret));
		break;
	case 21: /* C-u */
		delete_range(0, P.caret);
		break;
	case 11: /* C-k */
		P.text[P.caret] = 0;
		P.len = P.caret;
		break;
	case 23: { /* C-w */
		size_t i = P.caret;
		while (i > 0 && P.text[i - 1] == ' ')
			i--;
		while (i > 0 && P.text[i - 1] != ' ')
			i--;
		delete_range(i, P.caret);
		break;
	}
	case TK_FN | KEY_UP:
	case 16: /* C-p */
		history_move(-1);
		break;
	case TK_FN | KEY_DOWN:
	case 14: /* C-n */
		history_move(1);
		break;
	default:
		insert(k->key);
		break;
	}
}

void tui_prompt_draw(struct tui_canvas *c)
{
	int labelw, avail, caretcol, skip = 0;

	if (!P.active) {
		tui_text(c, Q.question ? Q.question : "", (size_t)-1, ROLE_PROMPT_ROLE, 0,
			 TEXT_NO_HSCROLL);
		tui_set_cursor_hint(tui_canvas_col(c) < tui_canvas_width(c) ? tui_canvas_col(c) : -1);
		tui_canvas_fill(c, ROLE_PROMPT_ROLE);
		return;
	}

	tui_text(c, P.label, (size_t)-1, ROLE_PROMPT_ROLE, 0, TEXT_NO_HSCROLL);
	labelw = tui_canvas_col(c);
	avail = tui_canvas_width(c) - labelw;
	caretcol = tui_width(P.text, P.caret);
	if (avail > 0 && caretcol >= avail)
		skip = caretcol - avail + 1;
	c->skip = skip;
	tui_text(c, P.text, P.len, ROLE_PROMPT_ROLE, 0, 0);
	tui_canvas_fill(c, ROLE_PROMPT_ROLE);
	tui_set_cursor_hint(labelw + caretcol - skip);
}

void tui_prompt_free(void)
{
	for (size_t i = 0; i < nhist; i++) {
		for (size_t j = 0; j < histories[i].n; j++)
			free(histories[i].items[j]);
		free(histories[i].items);
	}
	free(histories);
	histories = NULL;
	nhist = ahist = 0;
	free(P.text);
	free(P.draft);
	memset(&P, 0, sizeof(P));
	free(Q.question);
	memset(&Q, 0, sizeof(Q));
}

/* --- ':' commands --------------------------------------------------------------------- */

struct command {
	const char *name, *args, *help;
	void (*run)(struct view *v, const char *arg);
	bool view_first; /* offered to the view's command() before ours */
	bool hidden;     /* not listed (tests only) */
};

static void cmd_goto(struct view *v, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (!v)
		return;
	if (!*arg || *end || n < 1) {
		tui_error("goto: '%s' is not a row number", arg);
		return;
	}
	if (n > v->rows)
		n = v->rows;
	tui_view_goto(v, n - 1);
}

static void cmd_search(struct view *v, const char *arg)
{
	if (v)
		tui_find_start(v, arg, false);
}

static void cmd_filter(struct view *v, const char *arg)
{
	tui_error("this view cannot be filtered");
}

static void cmd_set(struct view *v, const char *arg)
{
	char name[64], err[160];
	const char *value;
	size_t n = strcspn(arg, " \t=");

	if (n == 0 || n >= sizeof(name)) {
		tui_error("usage: set OPTION VALUE");
		return;
	}
	memcpy(name, arg, n);
	name[n] = 0;
	value = arg + n;
	value += strspn(value, " \t");
	if (*value == '=')
		value++;
	value += strspn(value, " \t");
	if (tui_option_set(name, value, err, sizeof(err)) < 0) {
		tui_error("%s", err);
		return;
	}
	tui_views_reload_all();
}

static void cmd_save(struct view *v, const char *arg)
{
	char err[300];
	if (!*arg) {
		tui_error("usage: save-display FILE");
		return;
	}
	if (tui_save_display(arg, false, err, sizeof(err)) < 0)
		tui_error("%s", err);
}

static void cmd_save_attrs(struct view *v, const char *arg)
{
	char err[300];
	if (!*arg) {
		tui_error("usage: save-display-attrs FILE");
		return;
	}
	if (tui_save_display(arg, true, err, sizeof(err)) < 0)
		tui_error("%s", err);
}

static void cmd_help(struct view *v, const char *arg)
{
	tui_open_help(v);
}

static void cmd_quit(struct view *v, const char *arg)
{
	tui_quit(0);
}

static void cmd_resize(struct view *v, const char *arg)
{
	int cols, rows;
	char x;

	if (!tui_script_mode()) {
		tui_error("resize: only in scripted tests (resize the terminal instead)");
		return;
	}
	if (sscanf(arg, "%d%c%d", &cols, &x, &rows) != 3 || x != 'x' || cols < 1 || rows < 1 ||
	    cols > 1000 || rows > 1000) {
		tui_error("usage: resize COLSxLINES");
		return;
	}
	tui_resize_screen(rows, cols);
}

static const struct command commands[] = {
	{"goto", "N", "Go to row (or, in a log, line) N", cmd_goto, true, false},
	{"search", "TEXT", "Search forward for TEXT", cmd_search, true, false},
	{"filter", "TEXT", "Show only the rows matching TEXT (empty: all)", cmd_filter, true, false},
	{"set", "OPTION VALUE", "Change an option (see the options below)", cmd_set, false, false},
	{"save-display", "FILE", "Write the screen to FILE as text", cmd_save, false, false},
	{"save-display-attrs", "FILE", "Write the colour roles of the screen to FILE", cmd_save_attrs,
	 false, false},
	{"help", "", "Show the keys of this view", cmd_help, false, false},
	{"quit", "", "Quit (also :q)", cmd_quit, false, false},
	{"q", "", "Quit", cmd_quit, false, true},
	{"resize", "COLSxLINES", "Resize the virtual screen (scripted tests)", cmd_resize, false,
	 true},
};

void tui_foreach_command(void (*cb)(void *ctx, const char *name, const char *args, const char *help),
			 void *ctx)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!commands[i].hidden)
			cb(ctx, commands[i].name, commands[i].args, commands[i].help);
}

static bool offer_to_view(struct view *v, const char *name, const char *arg)
{
	unsigned eff = 0;

	if (!v || !v->ops->command)
		return false;
	if (!v->ops->command(v, name, arg, &eff))
		return false;
	tui_apply_effects(v, eff);
	return true;
}

void tui_command_exec(const char *line)
{
	char name[64];
	const char *arg;
	const struct command *cmd = NULL;
	struct view *v = tui_current();
	size_t n;

	line += strspn(line, " \t");
	n = strcspn(line, " \t");
	if (n == 0)
		return;
	if (n >= sizeof(name)) {
		tui_error("unknown command");
		return;
	}
	memcpy(name, line, n);
	name[n] = 0;
	arg = line + n;
	arg += strspn(arg, " \t");

	/* trailing blanks are not part of an argument */
	char *targ = tui_xstrdup(arg);
	size_t al = strlen(targ);
	while (al > 0 && (targ[al - 1] == ' ' || targ[al - 1] == '\t'))
		targ[--al] = 0;

	if (strspn(name, "0123456789") == n) { /* ":42" is ":goto 42" */
		if (!offer_to_view(v, "goto", name))
			cmd_goto(v, name);
		free(targ);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if ((!cmd || cmd->view_first) && offer_to_view(v, name, targ)) {
		free(targ);
		return;
	}
	if (cmd)
		cmd->run(v, targ);
	else {
		char help[32];
		tui_help_key(help, sizeof(help));
		tui_error("unknown command '%s', press %s for help", name, help);
	}
	free(targ);
}

static void command_done(void *ctx, const char *text)
{
	if (text)
		tui_command_exec(text);
}

void tui_command_prompt(const char *initial)
{
	tui_prompt(":", initial, command_done, NULL);
}
