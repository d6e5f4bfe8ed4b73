/* tui.h - the terminal framework: screen, event loop, actions and keymaps,
 * views and the view stack, the one text-drawing function, status bar,
 * prompt, background work. It knows nothing of CI: views/ glue core/ to it.
 *
 * The model is tig's. A view is a list of rows (a run, a log line, a search
 * hit); the framework owns the cursor, scrolling, the title and status bars
 * and generic actions, and asks the view to draw a row and to handle the
 * actions it wants. Keys never reach a view: they are mapped to actions
 * through keymaps (the view's own, then "generic"), whose defaults are
 * written in the config language (data/default.conf, compiled in) and may be
 * overridden in ~/.config/ciscope/config.
 *
 * Ownership: the framework allocates each view's private state
 * (ops->private_size bytes, zeroed) and frees it after ops->done. The
 * application's tables (struct tui_app: actions, colour roles, views) stay
 * the application's: the framework keeps pointers to them, never copies.
 *
 * Adding a view (the application's side, views/views.h; 3 steps):
 *   1. views/NAME.c with its static functions and, at the end, a
 *      `const struct view_ops NAME_view_ops = {...}` with designated
 *      initialisers; its open(v, NULL) opens it from the selection of the
 *      view it was opened from (v->parent, through ops->env);
 *   2. one line VIEW(NAME, ENUM, "group", "help") in VIEW_LIST in
 *      views/views.h: it declares the ops, registers the view (its keymap
 *      "NAME" for `bind NAME ...`) and generates the `view-NAME` action
 *      (numbered after ACT_APP_FIRST, listed in the help and the man
 *      page once bound);
 *   3. bindings in data/default.conf (`bind NAME KEY ACTION`, or a generic
 *      key for view-NAME), a screen test in tests/tui/, and the man page's
 *      key tables regenerated (make doc).
 * Its own actions, if any, go in APP_ACTION_INFO (views/views.h) and its
 * colours in APP_ROLE_INFO; the framework learns both from
 * tui_register_app().
 */
#ifndef CS_TUI_H
#define CS_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- actions ---------------------------------------------------------------- */
/* The framework's own actions: _(ENUM, "config-name", "help text");
 * GROUP("title") starts a help section. The application adds its actions
 * (numbered from ACT_APP_FIRST) and their groups with tui_register_app();
 * the help view and the man page's key table are generated from both
 * tables and the keymaps: a group's rows are the framework's, then the
 * application's, and groups come in order of first appearance. */
#define ACTION_INFO(_, GROUP)                                                           \
	GROUP("Moving")                                                                  \
	_(MOVE_DOWN, "move-down", "Move the cursor down one row")                        \
	_(MOVE_UP, "move-up", "Move the cursor up one row")                              \
	_(PAGE_DOWN, "move-page-down", "Move down one page")                             \
	_(PAGE_UP, "move-page-up", "Move up one page")                                   \
	_(HALF_PAGE_DOWN, "move-half-page-down", "Move down half a page")                \
	_(HALF_PAGE_UP, "move-half-page-up", "Move up half a page")                      \
	_(MOVE_FIRST, "move-first-line", "Move to the first row")                        \
	_(MOVE_LAST, "move-last-line", "Move to the last row")                           \
	_(SCROLL_LEFT, "scroll-left", "Scroll left")                                     \
	_(SCROLL_RIGHT, "scroll-right", "Scroll right")                                  \
	_(GOTO, "goto", "Go to a row or line number (:goto N)")                          \
	GROUP("Views")                                                                   \
	_(ENTER, "enter", "Open the selected row")                                       \
	_(CLOSE, "view-close", "Close the view (quit when it is the last)")              \
	_(QUIT, "quit", "Quit ciscope")                                                  \
	_(NEXT_PANE, "view-next", "Move to the other pane of a split")                   \
	_(HELP, "view-help", "Show the keys of this view")                               \
	_(REFRESH, "refresh", "Reload the view")                                         \
	_(REDRAW, "screen-redraw", "Redraw the screen")                                  \
	_(PROMPT, "prompt", "Open the command prompt")                                   \
	_(OPEN_URL, "open-url", "Open the selected item in a browser")                   \
	GROUP("Searching and filtering")                                                 \
	_(SEARCH, "search", "Search forward")                                            \
	_(SEARCH_BACK, "search-back", "Search backward")                                 \
	_(FIND_NEXT, "find-next", "Next match")                                          \
	_(FIND_PREV, "find-prev", "Previous match")                                      \
	_(FILTER, "filter", "Filter the rows")                                           \
	_(SORT, "sort", "Change the sort order")                                         \
	_(CANCEL, "cancel", "Cancel the running search or load")                         \
	GROUP("Logs")                                                                    \
	_(NEXT_ERROR, "next-error", "Next error or warning")                             \
	_(PREV_ERROR, "prev-error", "Previous error or warning")                         \
	_(FOLD, "fold", "Fold or unfold the group (on a step header: the step)")                        \
	_(FOLD_ALL, "fold-all", "Fold or unfold every group")                            \
	_(TIMESTAMPS, "toggle-timestamps", "Timestamps: hidden, absolute, relative")      \
	_(WRAP, "toggle-wrap", "Wrap long lines")                                        \
	_(LINE_NUMBERS, "toggle-line-numbers", "Show or hide line numbers")              \
	_(FOLLOW, "follow", "Follow a growing log")

enum action {
	ACT_NONE = 0,
#define ACTION_ENUM(e, name, help) ACT_##e,
#define ACTION_NOGROUP(title)
	ACTION_INFO(ACTION_ENUM, ACTION_NOGROUP)
#undef ACTION_ENUM
#undef ACTION_NOGROUP
	ACT_GENERIC_COUNT,
	/* the application's actions: ACT_APP_FIRST, ACT_APP_FIRST + 1, ...
	 * (its own enum, starting here) */
	ACT_APP_FIRST = 256,
	ACT_LIMIT = 0x7fff /* the enum's range covers the application's */
};

/* One row of the application's action table: an action, or (action ==
 * ACT_NONE) the title of the group the following rows belong to. */
struct tui_action_info {
	enum action action;
	const char *name; /* "triage-fixed" (config and help), or the group title */
	const char *help;
};

const char *action_name(enum action a);      /* "move-down"; "none" when unknown */
const char *action_help(enum action a);
/* What a does in the view of keymap: the application's words for it there
 * (struct tui_app help_in), else action_help(a). */
const char *action_help_in(const char *keymap, enum action a);
enum action action_lookup(const char *name); /* ACT_NONE when unknown */

/* --- colours ------------------------------------------------------------------ */
/* Roles, not colours: a theme (data/default.conf `color ROLE FG BG [ATTR]`)
 * maps them to colour pairs; NO_COLOR / --no-color keeps only attributes.
 * _(ENUM, "config-name", 'letter'): the letter stands for the role in
 * :save-display-attrs dumps. The application adds its roles (numbered
 * from ROLE_APP_FIRST) with tui_register_app(). */
#define ROLE_INFO(_)                                                               \
	_(DEFAULT, "default", '.')                                                 \
	_(TITLE, "title", 'T')               /* a view's title bar, focused */      \
	_(TITLE_BLUR, "title-blur", 't')     /* ... not focused */                 \
	_(STATUS, "status", 'S')             /* the status bar */                  \
	_(STATUS_ERROR, "status-error", 'E')                                       \
	_(CURSOR, "cursor", 'C')             /* the selected row */                \
	_(CURSOR_BLUR, "cursor-blur", 'c')   /* ... in the pane without focus */   \
	_(HEADER, "header", 'H')             /* column headers, step headers */     \
	_(LINENO, "line-number", 'L')                                              \
	_(DIM, "dim", 'd')                   /* timestamps, secondary text */      \
	_(MATCH, "search-match", 'M')                                              \
	_(SUCCESS, "success", 'g')                                                 \
	_(FAILURE, "failure", 'f')                                                 \
	_(RUNNING, "running", 'r')                                                 \
	_(SKIPPED, "skipped", 's')                                                 \
	_(ERROR_LINE, "error", 'e')          /* ##[error] */                       \
	_(WARNING_LINE, "warning", 'w')                                            \
	_(NOTICE_LINE, "notice", 'n')                                              \
	_(GROUP_LINE, "group", 'G')          /* ##[group] */                       \
	_(COMMAND_LINE, "command", 'm')      /* ##[command], [command] */          \
	_(FOLDED, "folded", 'F')             /* a folded group's summary row */     \
	_(CONTROL, "control", 'x')           /* a visible control character */     \
	_(PROMPT_ROLE, "prompt", 'p')

enum role {
#define ROLE_ENUM(e, name, letter) ROLE_##e,
	ROLE_INFO(ROLE_ENUM)
#undef ROLE_ENUM
	ROLE_APP_FIRST, /* the application's roles: its own enum, starting here */
	ROLE_MAX = 64   /* framework and application roles together */
};

/* One of the application's roles, in the order of its enum. */
struct tui_role_info {
	const char *name; /* "sha" (config) */
	char letter;      /* in :save-display-attrs; unique */
};

/* --- the application ------------------------------------------------------------ */
struct view;
struct view_ops;

/* What the application brings to the framework: its actions and roles
 * (on top of the framework's), its views (the keymap names the config may
 * use; the "help" view opens on view-help) and the handler of the actions
 * no view consumed. Register before tui_init() and before
 * tui_print_keys_*(); the tables must outlive the framework. */
struct tui_app {
	const struct tui_action_info *actions;
	size_t nactions;
	const struct tui_role_info *roles; /* role ROLE_APP_FIRST + i */
	size_t nroles;
	const struct view_ops *const *views; /* NULL-terminated */
	/* offered the actions a view did not consume, before the generic
	 * handling; returns true when it handled a. May be NULL. */
	bool (*action)(struct view *v, enum action a);
	/* What an action does in one view where the generic words would
	 * mislead (h/l move a chart's point cursor, they scroll nothing):
	 * the text, or NULL for action_help(). Read by the help view, `ciscope
	 * keys` and the man page. May be NULL. */
	const char *(*help_in)(const char *keymap, enum action a);
};
/* Returns 0, or -1 when a table is invalid (a duplicate name or letter,
 * too many roles, an action number out of range): a bug, said on stderr. */
int tui_register_app(const struct tui_app *app);

/* --- drawing ------------------------------------------------------------------ */
/* A canvas is one row of one view being drawn, with a column cursor. Every
 * string drawn anywhere goes through tui_text(), which
 *  - measures display width (wide CJK = 2, combining marks = 0) with the
 *    framework's own width table, so results do not depend on libc;
 *  - skips the first `hscroll` columns (horizontal scroll) and truncates on a
 *    character boundary, marking a cut with "…" (or "~" in ASCII mode);
 *  - with TEXT_ANSI, turns SGR colour sequences into attributes;
 *  - shows every other control or escape sequence (OSC, DCS, CSI other than
 *    SGR, C0 and C1 bytes, invalid UTF-8, bidi overrides) visibly in the
 *    CONTROL role (^[, \x9b, <U+202E>) or drops it: nothing from a log or the
 *    API is ever written raw to the terminal;
 *  - expands tabs to the next multiple of 8 columns.
 */
struct tui_canvas;

enum text_flags {
	TEXT_ANSI = 1 << 0,    /* interpret SGR colours in s */
	TEXT_PAD = 1 << 1,     /* pad with spaces to `width` */
	TEXT_RIGHT = 1 << 2,   /* right-align within `width` */
	TEXT_NO_HSCROLL = 1 << 3, /* fixed columns (line numbers) ignore hscroll */
};

/* Draw n bytes of s (n == (size_t)-1: strlen) in role, in at most width
 * columns (0: to the end of the row). Returns the columns drawn on screen
 * (columns scrolled away by hscroll are not counted).
 *
 * Details: width counts columns before horizontal scrolling, so fields of
 * a row stay aligned while it scrolls; tabs stop at multiples of 8 from the
 * start of s; on the cursor row every role but MATCH becomes CURSOR (or
 * CURSOR_BLUR) and SGR colours are dropped; the framework fills the rest of
 * each row after ops->draw. With TEXT_ANSI, SGR sets colours and attributes
 * (8/16/256 colours, truecolour mapped to 256, mapped down to what the
 * terminal has; attributes only under NO_COLOR), other well-formed CSI
 * sequences and OSC 8 link brackets are dropped, and everything else is
 * shown; without it every escape is shown. */
int tui_text(struct tui_canvas *c, const char *s, size_t n, enum role role, int width,
	     unsigned flags);
/* Draw s with bytes [hl_start, hl_end) in the MATCH role (search hits). */
int tui_text_hl(struct tui_canvas *c, const char *s, size_t n, enum role role, size_t hl_start,
		size_t hl_end, unsigned flags);
int tui_canvas_col(const struct tui_canvas *c);       /* columns drawn so far */
int tui_canvas_width(const struct tui_canvas *c);     /* columns available */
bool tui_canvas_selected(const struct tui_canvas *c); /* the cursor row */
void tui_canvas_fill(struct tui_canvas *c, enum role role); /* rest of the row */
/* One column of a list row (tig's view_column_draw): s (NULL: "") in
 * role, cut to width columns with the cut marker and padded (TEXT_PAD is
 * implied; TEXT_RIGHT right-aligns), then one blank before the next
 * column. width 0 hides the column: nothing is drawn, so a layout can drop
 * columns on narrow screens by zeroing their widths. Returns the columns
 * the column took on the row (width + 1, or 0), as a layout counts them. */
int tui_column(struct tui_canvas *c, const char *s, enum role role, int width, unsigned flags);
/* Glyphs with an ASCII fallback when the locale is not UTF-8. */
const char *tui_glyph(const char *utf8, const char *ascii);
/* Display width of UTF-8 text by the framework's table (wide = 2), as
 * tui_text() would draw it without TEXT_ANSI (escapes in their visible form). */
int tui_width(const char *s, size_t n);
/* The same with tui_text()'s flags (TEXT_ANSI: SGR takes no room). */
int tui_text_width(const char *s, size_t n, unsigned flags);

/* --- views ---------------------------------------------------------------------- */
struct view;

/* What a handler did: the loop applies it (htop/NeoMutt style). */
enum effect {
	EFF_NONE = 0,
	EFF_REDRAW = 1 << 0,  /* repaint this view */
	EFF_RELOAD = 1 << 1,  /* rows changed: call ops->load again */
	EFF_CLOSE = 1 << 2,   /* close this view */
	EFF_QUIT = 1 << 3,
};

struct view_ops {
	const char *name;        /* also the keymap's name */
	size_t private_size;
	/* Fill the view: set its row count (tui_view_set_rows); arg is what the
	 * opener passed. Returns 0, or -1 with a message already reported. */
	int (*open)(struct view *v, void *arg);
	/* Row count may change later (filters, folds): called on EFF_RELOAD. */
	int (*load)(struct view *v);
	/* Draw row `row` (0-based) into the canvas. */
	void (*draw)(struct view *v, struct tui_canvas *c, long row);
	/* Handle an action. Return ACT_NONE when consumed (setting *eff), or
	 * the action for the generic handling. */
	enum action (*request)(struct view *v, enum action a, unsigned *eff);
	/* ":" commands the framework does not know ("filter x"); return true
	 * if handled. */
	bool (*command)(struct view *v, const char *cmd, const char *arg, unsigned *eff);
	/* Text of the title bar (e.g. "run 8812345 attempt 2 - ci"). */
	void (*title)(struct view *v, char *out, size_t n);
	/* Column header of a list (may be NULL): drawn in one line between the
	 * title bar and the rows, fixed while the rows scroll up and down and
	 * scrolled sideways with them; v->height counts the rows without it.
	 * Draw it with tui_column() and the widths the rows use, so it drops
	 * the columns they drop. */
	void (*header)(struct view *v, struct tui_canvas *c);
	/* Extra status text on the right of the status bar ("37 runs, 5 failed"). */
	void (*status)(struct view *v, char *out, size_t n);
	/* Search support: does row match? The framework drives /, ?, n, N over
	 * rows with this (incrementally, in background slices). */
	bool (*match)(struct view *v, long row, const char *query);
	/* The cursor moved to row (a split's detail pane may follow it: call
	 * tui_open(..., OPEN_REPLACE)). Not called by open itself. */
	void (*select)(struct view *v, long row);
	void (*done)(struct view *v);
	/* The application's environment of the selected row (tig's argv_env:
	 * which run, job, commit... the cursor is on), written into env, an
	 * application-defined struct. The framework never calls it: the
	 * application asks the focused view through it when an action opens
	 * another view from the selection. May be NULL (nothing selected). */
	void (*env)(struct view *v, void *env);
	/* Smallest content area the view can use (0: 20 columns, 3 rows);
	 * below it the screen says "terminal too small" instead. */
	int min_width, min_height;
	/* The view's status text says where the cursor is, in its own terms
	 * (the log pager's "line 169 of 220"): the status bar shows no "row N
	 * of M" of its own, so there is one position counter, not two (while
	 * that text is empty, the row counter stands). */
	bool own_position;
};

struct view {
	const struct view_ops *ops;
	void *priv;
	long rows;       /* number of rows */
	long cursor;     /* selected row */
	long top;        /* first visible row */
	int hscroll;     /* columns scrolled right */
	int height, width;
	struct view *parent; /* the view it was opened from */
};

enum open_flags {
	OPEN_PUSH = 0,     /* full screen, on top of the stack; gets the focus */
	OPEN_SPLIT = 1,    /* beside the current view (list | detail); gets the
			    * focus; from the list of a split it replaces the
			    * detail */
	OPEN_REPLACE = 2,  /* replace the detail pane of the split on screen,
			    * the focus staying where it is; nothing (NULL)
			    * when the screen is not split */
};

/* Open a view of the given ops; the framework allocates and zeroes priv,
 * sets parent (the focused view) and the size, then calls ops->open. NULL
 * when open fails (the view is gone, done was called). Closing a view
 * (q, EFF_CLOSE) closes the views above it on the stack too; its
 * background work is cancelled (cancel() called) before its done(). The
 * last view closed ends tui_run(). */
struct view *tui_open(const struct view_ops *ops, void *arg, enum open_flags flags);
/* The detail (right or lower) pane of the split on screen, or NULL. */
struct view *tui_split_detail(void);
void tui_view_set_rows(struct view *v, long rows);
/* Move the cursor (an off-screen row lands mid-screen); ops->select is
 * called when the row changed. */
void tui_view_goto(struct view *v, long row);
void tui_view_dirty(struct view *v);
/* Close v and the views above it, as q would (its work cancelled, done
 * called); nothing when v is already gone. For views that end themselves
 * outside a handler (a dialog answered through tui_confirm); handlers
 * return EFF_CLOSE instead. */
void tui_view_close(struct view *v);
struct view *tui_current(void);
/* The active search query of a view (NULL when none), for highlighting. */
const char *tui_search_query(const struct view *v);
/* Run a framework search from a view, as if the query had been typed
 * after / (or ?). A view with a faster search of its own handles
 * ACT_SEARCH, ACT_FIND_NEXT... itself instead. */
void tui_search(struct view *v, const char *query, bool backward);

/* --- options ---------------------------------------------------------------------- */
/* `set OPTION VALUE` in the config and at the ':' prompt. Options:
 *   line-numbers on|off, timestamps hidden|absolute|relative, wrap on|off,
 *   split-view vertical|horizontal, mouse on|off.
 * The generic handling of ACT_LINE_NUMBERS, ACT_TIMESTAMPS and ACT_WRAP
 * changes these options; after any change every view's ops->load is called
 * and every view redrawn, so views read options in load/draw. */
const char *tui_option(const char *name);   /* NULL: no such option */
bool tui_option_on(const char *name);       /* the value is "on" */
int tui_option_set(const char *name, const char *value, char *err, size_t errlen);
void tui_foreach_option(void (*cb)(void *ctx, const char *name, const char *values,
				   const char *value, const char *help),
			void *ctx);

/* --- messages ---------------------------------------------------------------------- */
/* In the status bar until the next key; drawn through tui_text(). */
void tui_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- prompt -------------------------------------------------------------------------- */
/* Ask for a line of text (filter, search); done(ctx, text) gets NULL on Esc. */
void tui_prompt(const char *label, const char *initial, void (*done)(void *ctx, const char *text),
		void *ctx);
/* Ask a yes/no question in the status bar: the next key answers it, y or Y
 * yes, any other key no (tig's prompt_yesno). A line prompt opened while
 * it waits (a script's ':' line) runs over it; the question stays. */
void tui_confirm(const char *question, void (*done)(void *ctx, bool yes), void *ctx);

/* --- background work ------------------------------------------------------------------ */
/* Long work runs in slices from the event loop so the screen never blocks:
 * step() does a bounded amount of work and returns true while more remains;
 * progress() describes it for the status bar ("searching: 42%"); Esc
 * (ACT_CANCEL, before the view sees it) calls cancel() of every pending
 * work and removes it. A step() returning false ends the work without
 * cancel(); tui_work_stop(ctx) removes the work of ctx without cancel().
 * Each loop turn runs one step of each work. Scripted tests wait until no
 * work is pending before reading the next key.
 *
 * Work driven by file descriptors and timers (a transfer: tui_watch_fd,
 * tui_timer) has no step (NULL): it is pending, shown and cancelled like
 * any work, but the loop waits for its fds and timers instead of turning,
 * and it ends with tui_work_stop(ctx). Scripts then wait for those fds and
 * timers too, until it ends. */
struct tui_work {
	bool (*step)(void *ctx);
	void (*progress)(void *ctx, char *out, size_t n);
	void (*cancel)(void *ctx);
	void *ctx;
	struct view *owner;      /* work dies with its view */
};
void tui_work_start(const struct tui_work *w);
void tui_work_stop(void *ctx);
bool tui_work_pending(void);

/* File descriptors and timers join the same wait (libcurl's multi handle:
 * its sockets and timeout plug in here, views/remote.c). Callbacks run from
 * the loop, never from a signal. Scripted tests do not wait for timers: one
 * fires only when it is due as the loop passes (fds are polled each turn),
 * unless work without a step is pending (see above). One fd has one watch:
 * watching it again replaces the callback. */
typedef void (*tui_fd_cb)(void *ctx, int fd, short revents);
void tui_watch_fd(int fd, short events, tui_fd_cb cb, void *ctx);
void tui_unwatch_fd(int fd);
void tui_timer(int ms, void (*cb)(void *ctx), void *ctx); /* one-shot */

/* --- start and stop ------------------------------------------------------------------- */
struct tui_opts {
	bool no_color;
	const char *config_path;    /* NULL: $XDG_CONFIG_HOME/ciscope/config */
	const char *script_path;    /* keys from a file (tests); NULL: the tty */
	const char *default_config; /* NULL: the compiled-in data/default.conf */
	int exit_after_first_frame; /* benchmarks: draw once and quit */
	/* With script_path: write the bytes ncurses sends to the terminal to
	 * this file instead of /dev/null (the escape-injection test reads
	 * them). NULL: /dev/null. */
	const char *script_output;
};

/* Returns 0, or -1 with a message in err (before the screen starts).
 * Reads the config (errors in the user's file go to the status bar), and
 * with script_path reads keys from that file and draws on ncurses' virtual
 * screen only (output to /dev/null; LINES and COLUMNS give the size; TERM,
 * else xterm-256color): no terminal is needed. Installs handlers for
 * SIGINT, SIGTERM, SIGHUP (quit, status 128+sig), SIGTSTP/SIGCONT
 * (suspend, redraw) and SIGWINCH (resize). Open the first view after it. */
int tui_init(const struct tui_opts *opts, char *err, size_t errlen);
/* Runs until quit; closes every view (done) before returning the process
 * exit status: 0, 128+signal, 2 for a broken script, 1 when no view could
 * be opened (the reason is printed on stderr by tui_shutdown()). */
int tui_run(void);
/* Restores the terminal and frees the framework; safe to call twice and
 * from an OOM or die() hook (util_set_oom_hook(tui_shutdown)): it never
 * calls into views then. */
void tui_shutdown(void);

/* Key bindings of a view for the help view and the man page: calls cb for
 * every action in action-table order with its group title and the keys
 * that reach it from keymap ("<Down>, j": the keymap's own, then the
 * generic ones it does not override; "" when none). */
void tui_foreach_binding(const char *keymap,
			 void (*cb)(void *ctx, const char *group, const char *keys, enum action a),
			 void *ctx);
/* The ':' commands, for the help view. */
void tui_foreach_command(void (*cb)(void *ctx, const char *name, const char *args,
				    const char *help),
			 void *ctx);
/* `ciscope keys`: every keymap's bindings, the commands and the options,
 * as text (built-in config plus the user's) or as roff tables for the man
 * page (built-in config only). Need no terminal and no tui_init(). */
void tui_print_keys_text(FILE *f);
void tui_print_keys_man(FILE *f);

#endif
