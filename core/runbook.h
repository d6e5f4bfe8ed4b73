/* runbook.h - runbooks: the Markdown format, its variables and their quoting.
 *
 * A runbook is Markdown that reads well on GitHub as it is:
 *
 *   ---
 *   title: Emergency rollback
 *   when: production is unhealthy after a deploy
 *   variables:
 *     health_url:
 *       description: a URL that answers 2xx when the service is healthy
 *       default: https://example.com/healthz
 *     deploy_workflow: the workflow that deploys (short form: a description)
 *   report: Root cause, Action items
 *   ---
 *   # Title (used when the front matter has none)
 *   Prose before the first step: the introduction.
 *   ## Confirm the outage
 *   Prose of the step.
 *   ```sh {name=health retry=5 interval=10 until-exit=0 timeout=30}
 *   curl -fsS {{health_url}}
 *   ```
 *
 * Steps are the level-2 headings; a document without any is split at its
 * top-level numbered items ("1. Do this"), whose indented lines belong to
 * the item. A step holds at most one fenced `sh` (or `shell`) block: its
 * command. A step without one is a manual step (an instruction to do and
 * tick off), and so is a block with manual=true (its text is shown, never
 * run). Blocks in other languages are prose.
 *
 * Attributes go in the info string, bare (```sh name=x) or in braces as
 * Runme writes them (```sh {name=x}); values are bare words or "quoted"
 * (\" and \\ inside):
 *   name=       the step's name (default: a slug of its heading)
 *   cwd=        directory to run in (relative to the checkout's top, else
 *               to where ciscope runs)
 *   background= true: start it and go on; its exit is not waited for
 *   confirm=    true or a question: ask before running, even with --auto
 *   sensitive=  true: always confirm; output not stored; values it
 *               captures are shown and stored as ***
 *   timeout=    seconds (or 500ms, 2m, 1h) before the command is killed
 *   retry=N interval=S until-exit=E
 *               run up to N times, S seconds apart, until it exits with E
 *               (default 0): a health check
 *   capture=    a regex (PCRE2) over the output: a named group (?<var>..)
 *               sets that variable; else group 1, or the whole match, sets
 *               the step's name (- as _) as a variable. The last match wins.
 *   manual=true nothing to run: the block is an instruction
 * Runme's other attributes (interactive, promptEnv, category, ...) are
 * accepted and ignored; anything else is an error.
 *
 * Placeholders {{name}} in a command are replaced at the time the step
 * runs, each value single-quoted for the shell ('it'\''s'): a branch name
 * or a commit subject is text from strangers. So a placeholder must stand
 * where a quoted word means what it says: not inside quotes, backticks, a
 * comment or a here-document, not after a backslash; the parser refuses
 * those with file:line. Placeholders in prose are shown as text.
 *
 * Errors name the file and line: "rollback.md:12: unknown attribute 'tmeout'".
 */
#ifndef CS_RUNBOOK_H
#define CS_RUNBOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define RUNBOOK_MAX_SIZE (4u << 20)  /* a runbook file bigger than this is refused */
#define RUNBOOK_MAX_STEPS 500

struct rb_var_decl {
	char *name;
	char *description; /* may be NULL */
	char *def;         /* default value, or NULL */
	int line;
};

struct rb_step {
	int number;        /* 1-based, in file order */
	char *title;       /* the heading or item text */
	char *name;        /* name= or a slug of the title */
	char *prose;       /* the step's Markdown other than its command block */
	char *command;     /* the sh block's text; NULL when manual without a block */
	bool manual;
	char *cwd;
	bool background;
	bool confirm;
	char *confirm_text; /* the question of confirm="...", else NULL */
	bool sensitive;
	int64_t timeout_ms;  /* 0: none */
	int retry;           /* attempts (1 when not given) */
	int64_t interval_ms;
	int until_exit;
	char *capture;       /* regex, or NULL */
	int line;            /* of the heading or item */
	int block_line;      /* of the opening fence, 0 without a block */
	/* What the step is, for telling a renumbering from an edit: a hash of
	 * its name alone (16 hex digits). */
	char ident[17];
};

struct runbook {
	char *name;        /* file name without .md ("rollback") */
	char *path;        /* as given, or "builtin:NAME" */
	char *title;
	char *when;        /* may be NULL */
	char *intro;       /* prose before the first step, may be empty */
	char **report_sections; /* headings the incident report leaves to fill */
	int n_report_sections;
	struct rb_var_decl *vars;
	int n_vars;
	struct rb_step *steps;
	int n_steps;
	char hash[17];     /* of the file's bytes, 16 hex digits */
};

/* Parse n bytes (a whole file; may hold NULs, which are an error) named
 * path in messages. On error returns -1 with err "path:line: message" and
 * rb zeroed; else rb owns what it holds (runbook_free). */
int runbook_parse(const char *path, const char *text, size_t n, struct runbook *rb,
		  struct cs_err *err);
int runbook_load_file(const char *path, struct runbook *rb, struct cs_err *err);
void runbook_free(struct runbook *rb);

/* A step by number ("3") or name; NULL when there is none. */
const struct rb_step *runbook_find_step(const struct runbook *rb, const char *spec);

/* --- placeholders ------------------------------------------------------------------ */
/* Check that every {{name}} of cmd stands where a quoted word is safe (see
 * above). Returns -1 with err "line N: ..." (N relative to cmd). The names
 * found, in order and without repeats, go to *names when not NULL (caller
 * frees each and the array). */
int runbook_check_command(const char *cmd, char ***names, int *n_names, struct cs_err *err);
void runbook_names_free(char **names, int n);

/* Where a variable's value came from: shown with the resolved command and
 * recorded with it. */
enum rb_var_source {
	RBV_OPTION,   /* --var K=V */
	RBV_CAPTURE,  /* captured by an earlier step */
	RBV_INDEX,    /* the index (runs, triage) or the checkout */
	RBV_DEFAULT,  /* the runbook's default */
	RBV_PROMPT,   /* typed by the operator */
	RBV_RECORDED, /* read back from the event log on resume */
};
const char *rb_var_source_name(enum rb_var_source s);

/* Values of the variables of one instance. The resolver is asked for names
 * the set does not hold (the index variables, computed when a step needs
 * them); it returns 1 with the value in out, 0 when it does not know the
 * name, -1 with err when it knows it but has no value ("no failed run in
 * the index"). */
typedef int (*rb_resolver)(void *ctx, const char *name, struct buf *out, struct cs_err *err);

struct rb_value {
	char *name, *value;
	enum rb_var_source source;
	bool sensitive;
};
struct rb_vars {
	struct rb_value *v;
	int n;
	size_t alloc;
};
void rb_vars_set(struct rb_vars *vs, const char *name, const char *value,
		 enum rb_var_source source, bool sensitive);
const struct rb_value *rb_vars_get(const struct rb_vars *vs, const char *name);
void rb_vars_release(struct rb_vars *vs);

/* Valid variable name: [A-Za-z_][A-Za-z0-9_]* up to 64 bytes. */
bool rb_var_name_valid(const char *s);

/* The command of a step with every placeholder replaced by its quoted
 * value: from vs first (--var and captures), then the resolver, then the
 * runbook's default. A name nobody knows, an empty value or a value with a
 * NUL-free but invalid source stops it: -1 with err naming the variable and
 * why. *shown gets the same command with the values of sensitive variables
 * as *** (what is displayed and stored); either may be NULL. Values
 * resolved from the index or defaults are added to vs (so later steps and
 * the log see the same value). */
int runbook_resolve(const struct runbook *rb, const char *cmd, struct rb_vars *vs,
		    rb_resolver resolve, void *ctx, struct buf *cmd_out, struct buf *shown,
		    struct cs_err *err);

/* Text (prose, a title) with placeholders replaced by values known now,
 * unquoted, unknown ones left as {{name}}: for showing, never for running. */
void runbook_render_text(const char *text, const struct rb_vars *vs, struct buf *out);

/* --- capture and redaction ------------------------------------------------------------ */
/* Apply a step's capture= regex to its output: sets variables in vs
 * (source RBV_CAPTURE, sensitive as given). Returns the number set, or -1
 * with err (a bad regex: also caught by the parser). */
int runbook_capture(const struct rb_step *s, const char *out, size_t n, struct rb_vars *vs,
		    bool sensitive, struct cs_err *err);

/* The variable a capture without named groups sets: the step's name with
 * - and . as _ (NULL when that is no variable name). Caller frees. */
char *runbook_capture_var(const struct rb_step *s);

/* Copy text to out with secrets replaced by ***: the value of every
 * sensitive variable of vs (when at least 4 bytes long) and anything that
 * looks like a token (ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_ tokens,
 * "Bearer X", "Authorization: token X"). */
void runbook_redact(const char *text, size_t n, const struct rb_vars *vs, struct buf *out);

#endif
