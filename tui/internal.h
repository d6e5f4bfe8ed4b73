/* internal.h - what the framework's files share with each other. Views never
 * include this: their contract is tui.h.
 *
 * Files: tui.c (start/stop, the loop's turn, the view stack and layout,
 * bars, generic actions), loop.c (the work queue, watched fds, timers,
 * signals and the crash hook: what a turn waits on and runs), draw.c
 * (tui_text, list columns, colours, the role grid), width.c (character
 * classes from libutf8proc, UTF-8 decoding), keys.c (the action and role
 * registry, the framework's and the application's; key names, keymaps,
 * options, the config language, key tables for help and man), prompt.c
 * (the line editor and ':' commands), find.c (the incremental row search),
 * script.c (scripted tests: keys from a file, :save-display).
 */
#ifndef CS_TUI_INTERNAL_H
#define CS_TUI_INTERNAL_H

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>

#include "tui/tui.h"

/* --- memory: like core's xmalloc, but tui/ may not include core/ ----------- */
void *tui_xmalloc(size_t n);
void *tui_xcalloc(size_t n, size_t size);
void *tui_xrealloc(void *p, size_t n);
char *tui_xstrdup(const char *s);
char *tui_xstrndup(const char *s, size_t n);
/* Grow *arr to hold need elements of size elem (doubling). */
void tui_xgrow(void **arr, size_t *alloc, size_t need, size_t elem);
#define TUI_GROW(arr, alloc, need) tui_xgrow((void **)&(arr), &(alloc), (need), sizeof(*(arr)))

/* snprintf into a fixed buffer, truncating (never fails). */
void tui_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- keys ------------------------------------------------------------------ */
/* A key is a Unicode code point (control keys are their C0 value: <C-d> is 4,
 * <Enter> is '\r', <Tab> '\t', <Esc> 27) or TK_FN | an ncurses KEY_* code. */
#define TK_FN 0x200000
#define TK_ENTER '\r'
#define TK_ESC 27
#define TK_BACKSPACE (TK_FN | KEY_BACKSPACE)
#define TK_RESIZE (TK_FN | KEY_RESIZE)
#define TK_MOUSE (TK_FN | KEY_MOUSE)
/* Script-only pseudo keys: open the ':' prompt whatever the bindings. */
#define TK_CMDLINE (TK_FN | 0x10000)

struct tui_key {
	int key;
	/* TK_MOUSE: screen position and what happened */
	int y, x;
	enum { MOUSE_CLICK = 1, MOUSE_WHEEL_UP, MOUSE_WHEEL_DOWN } mouse;
};

/* Parse one key at *p (config syntax: j, <Down>, <C-d>, ...), advancing *p.
 * Returns 0, or -1 with a message. A '<' that starts no known name is the
 * key '<'. */
int tui_key_parse(const char **p, struct tui_key *k, char *err, size_t errlen);
/* The config-syntax name of a key. */
void tui_key_name(int key, char *out, size_t n);
/* Normalise what ncurses returned (wget_wch) into a key. */
int tui_key_from_curses(int ret, wint_t wch);

/* --- keymaps, options, theme (keys.c) ---------------------------------------- */
enum action tui_keymap_lookup(const char *keymap, int key);
/* Name of the first key bound to a in keymap (or generic), "" if none. */
void tui_action_key(const char *keymap, enum action a, char *out, size_t n);

struct tui_theme_entry {
	short fg, bg;  /* -1: default, 0..255 */
	attr_t attr;
};
extern struct tui_theme_entry tui_theme[ROLE_MAX];

/* Errors of config files: "file:line: message", first few kept. */
struct tui_errors {
	char first[512];
	int count;
};
/* Load the built-in config (once) and then the user's file. */
int tui_config_load(const char *default_conf, const char *user_path, bool user_explicit,
		    struct tui_errors *errs, char *err, size_t errlen);
void tui_config_free(void);
/* The registered application (tui_register_app), NULL before. */
const struct tui_app *tui_app(void);
/* Roles: the framework's, then the application's. */
int tui_role_count(void);
const char *tui_role_name(enum role r);
const struct view_ops *tui_find_view_ops(const char *name); /* a registered view */

/* --- drawing (draw.c) ------------------------------------------------------- */
struct tui_canvas {
	WINDOW *win;
	int y;          /* row in win */
	int absy, absx; /* screen position of the row's first column */
	int width;      /* columns available */
	int col;        /* columns drawn */
	int skip;       /* hscroll columns still to skip */
	int selected;   /* 0, SEL_FOCUS, SEL_BLUR */
};
#define SEL_FOCUS 1
#define SEL_BLUR 2

void tui_canvas_init(struct tui_canvas *c, WINDOW *win, int y, int width, int hscroll,
		     int selected);
extern bool tui_utf8; /* the locale is UTF-8: glyphs and non-ASCII text */
void tui_detect_locale(void);
/* After the screen starts: pairs for the roles (mono when no_color). */
void tui_colors_init(bool no_color);
char tui_role_letter(enum role r);
/* The grid of role letters behind :save-display-attrs, screen-sized. */
void tui_grid_resize(int rows, int cols);
void tui_grid_free(void);
const char *tui_grid_row(int y);
void tui_grid_fill(int y, int x, int n, char letter);

/* --- width.c ------------------------------------------------------------------ */
enum cp_class {
	CP_NORMAL,    /* printable, width 1 */
	CP_WIDE,      /* printable, width 2 */
	CP_COMBINING, /* width 0, joins the previous cell */
	CP_FORMAT,    /* invisible format character: dropped */
	CP_CONTROL,   /* C0, DEL, C1 */
	CP_SHOW,      /* shown as <U+XXXX>: bidi controls, separators, non-characters */
};
enum cp_class tw_class(uint32_t cp);
/* Length (1..4) of the valid UTF-8 sequence at s, storing the code point;
 * 0 when invalid or truncated. */
int tw_decode(const unsigned char *s, size_t n, uint32_t *cp);
int tw_encode(uint32_t cp, char out[4]);

/* --- the core loop (tui.c) ------------------------------------------------------ */
/* The framework's side of a view; views see only the first member. */
struct vnode {
	struct view v;
	WINDOW *title, *win; /* NULL while not on screen */
	bool dirty;
	bool split;          /* shown beside the view below it on the stack */
	char *query;         /* the last search (highlighting, n/N) */
	bool query_back;
	struct tui_find *find;
};
#define VNODE(view) ((struct vnode *)(view))

void tui_apply_effects(struct view *v, unsigned eff);
/* "h" or whatever key opens the help of the current view. */
void tui_help_key(char *out, size_t n);
void tui_render(void);          /* lay out, draw what is dirty, doupdate */
void tui_redraw_all(void);      /* everything dirty (and clearok) */
void tui_quit(int status);
void tui_open_help(struct view *from);
bool tui_script_mode(void);
bool tui_view_alive(const struct view *v);
void tui_views_reload_all(void);  /* after :set: load() + redraw every view */
void tui_message_clear(void);
void tui_resize_screen(int rows, int cols);
void tui_set_cursor_hint(int x); /* prompt caret column, -1: hidden */

/* --- loop.c: what a turn waits on and runs ----------------------------------------- */
bool tui_work_active(void);        /* work with a step: the loop must not block */
void tui_work_step_all(void);      /* one step of each work present now */
bool tui_work_cancel_all(void);    /* Esc: cancel() all; true if there was any */
void tui_work_cancel_owner(const struct view *v);
void tui_work_progress(char *out, size_t n);
int tui_timer_timeout(void);       /* ms to the next timer (-1: none; 60 s at most) */
void tui_timers_fire(void);
void tui_watches_poll_now(void);   /* dispatch watched fds that are ready */
void tui_wait_watches(int timeout); /* scripts: fds and signals only */
/* Wait for the terminal (then tui_read_tty_keys), signals and watched fds. */
void tui_wait_events(int tty_fd, int timeout);
void tui_handle_signals(void);     /* what the self-pipe holds */
int tui_signals_start(char *err, size_t errlen); /* the pipe and the handlers */
void tui_signals_stop(void);
void tui_crash_save_modes(int tty_fd);  /* before newterm() */
void tui_crash_prepare(int out_fd);     /* after it */
void tui_crash_release(void);
void tui_loop_free(void);
/* tui.c's side, called from the loop */
void tui_read_tty_keys(void);
void tui_update_size(void);

/* --- prompt.c ----------------------------------------------------------------------- */
bool tui_prompt_active(void);
void tui_prompt_key(const struct tui_key *k);
void tui_prompt_draw(struct tui_canvas *c);
void tui_prompt_free(void);
void tui_command_prompt(const char *initial); /* the ':' prompt */
void tui_command_exec(const char *line);

/* --- find.c --------------------------------------------------------------------------- */
struct tui_find; /* per view */
void tui_find_start(struct view *v, const char *query, bool backward);
void tui_find_next(struct view *v, bool reverse);
void tui_find_free(struct view *v);
void tui_search_prompt(struct view *v, bool backward);

/* --- script.c --------------------------------------------------------------------------- */
int tui_script_open(const char *path, char *err, size_t errlen);
/* Next scripted key; false at the end of the script. */
bool tui_script_next(struct tui_key *k);
/* End the run: status 2, msg on stderr after the screen is gone. */
void tui_script_failed(const char *msg);
void tui_script_close(void);
int tui_save_display(const char *path, bool attrs, char *err, size_t errlen);

#endif
