/* cli.h - the command line: shared state and output helpers of the commands.
 *
 * Adding a command: write `int cmd_NAME(struct cli *, int argc, char **argv)`
 * in a cli/ file, declare it here, and add a row to the commands[] table in
 * cli/main.c (name, usage, one-line help). `ciscope help` and the man page's
 * command list come from that table.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/store.h"
#include "core/util.h"

/* Exit codes (documented in doc/ciscope.1). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,     /* bad input, database or I/O error */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_NOMATCH = 3,   /* search: no match */
	EXIT_NOTFOUND = 4,  /* no such run / job / log */
	EXIT_RATELIMIT = 5, /* fetch --no-wait: the GitHub API rate limit is exhausted */
	EXIT_INTR = 130,    /* interrupted (Ctrl-C) */
};

struct cli {
	const char *db_path;   /* --db, CISCOPE_DB, or the default */
	char *db_owned;
	bool color;            /* stdout is a tty and colour is allowed */
	bool utf8;             /* the locale can show UTF-8 glyphs */
	bool tty_out, tty_err;
	struct store *st;
};

extern volatile sig_atomic_t cli_interrupted;

/* Open the index (read-write when write; else it must exist). Prints the
 * error and returns NULL. */
struct store *cli_open(struct cli *c, bool write);
/* The same with a store_mode: STORE_UPGRADE_EXISTING for the TUI and
 * retriage, which migrate an older index instead of refusing it. */
struct store *cli_open_mode(struct cli *c, enum store_mode mode);

void cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* The columns of the terminal on stdout (its size, else $COLUMNS, else 80);
 * 0 when stdout is not a terminal: tables then print whole values. */
int cli_term_width(const struct cli *c);
/* Sanitised text to stdout (keep_sgr: pass colours through when c->color). */
void cli_put(struct cli *c, const char *s, bool keep_sgr);
/* A state's glyph and colour, from the table the views use (core/cistate.h). */
const char *cli_glyph(struct cli *c, const char *state);
const char *cli_color(struct cli *c, const char *state); /* SGR prefix or "" */
const char *cli_reset(struct cli *c);
/* The separator of text output's fields: " \u00b7 " (a middle dot) when the
 * locale shows UTF-8, else " - " (LC_ALL=C prints ASCII only). */
const char *cli_sep(const struct cli *c);
/* JSON: a value, or null for NULL / CS_TIME_NONE */
void cli_json_str(struct buf *b, const char *s);
void cli_json_time(struct buf *b, int64_t ms);
void cli_json_ms(struct buf *b, int64_t ms);
void cli_json_run(struct buf *b, const struct run *r);

void cli_command_usage(const char *name, FILE *f);
/* The command's usage on stderr; returns EXIT_USAGE. */
int cli_bad_usage(const char *name);

/* cli/common.c: helpers the commands share. */
/* The exit code for an error: usage, not found, else error; an
 * interruption (CS_EINTR) exits with on_intr. Commands pass EXIT_INTR;
 * the runbook commands pass EXIT_ERROR, their exit code for it from the
 * start (a step a Ctrl-C stops is handled by runbook run itself). */
int cli_exit_for(const struct cs_err *err, int on_intr);
/* Sanitised CI text into b, tabs kept ("-" for NULL). */
void cli_put_text(struct buf *b, const char *s);
/* b to stdout through cli_put() line by line (cli_put() shows a newline as
 * ^J), colours kept; b's newlines are overwritten. */
void cli_put_lines(struct cli *c, struct buf *b);
/* Options of a command that takes only --json and --help: sets *json and
 * returns -1 to go on (optind at the operands), else the exit code. */
int cli_json_opts(const char *name, int argc, char **argv, bool *json);

/* cli/fetch.c: the confirmation of a write to GitHub (rerun, dispatch,
 * bisect dispatch): "ciscope will send:" and the requests (as
 * gh_post_describe writes them), then, unless yes, the question on a
 * terminal. EXIT_OK: go on; else the exit code (refused, or no terminal). */
int cli_confirm(struct cli *c, const char *requests, const char *question, bool yes);

/* The plot options of metrics and parity. cli_opt_range: v as a number
 * from lo to hi, or -1 after saying "CMD: OPT needs a number from LO to
 * HI, not 'V'". cli_chart_width: width when given, else the terminal's
 * (ioctl, then $COLUMNS, else 80) up to 100. cli_chart_lines: a rendered
 * chart's lines into b, each span in sgr(role) when the output is in
 * colour (the command's own mapping). */
struct chart_text;
long cli_opt_range(const char *cmd, const char *opt, const char *v, long lo, long hi);
int cli_chart_width(long width);
void cli_chart_lines(const struct cli *c, const struct chart_text *t, struct buf *b,
		     const char *(*sgr)(int role));

int cmd_import(struct cli *c, int argc, char **argv);
int cmd_runs(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_search(struct cli *c, int argc, char **argv);
int cmd_fetch(struct cli *c, int argc, char **argv);
int cmd_rerun(struct cli *c, int argc, char **argv);
int cmd_dispatch(struct cli *c, int argc, char **argv);
int cmd_keys(struct cli *c, int argc, char **argv);
int cmd_triage(struct cli *c, int argc, char **argv);
int cmd_rules(struct cli *c, int argc, char **argv);
int cmd_retriage(struct cli *c, int argc, char **argv);
int cmd_triage_state(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_commits(struct cli *c, int argc, char **argv);
int cmd_bisect(struct cli *c, int argc, char **argv);
int cmd_bisect_dispatch(struct cli *c, int argc, char **argv);
int cmd_parity(struct cli *c, int argc, char **argv);
int cmd_metrics(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_runbook(struct cli *c, int argc, char **argv);

#endif
