/* main.c - ciscope's entry point: global options, the command table, help. */
#include <langinfo.h>
#include <locale.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/cistate.h"
#include "core/fetch.h"
#include "core/gitrepo.h"
#include "core/sanitize.h"
#include "views/views.h"

#define CISCOPE_VERSION "0.1.0"

volatile sig_atomic_t cli_interrupted;

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{"fetch", cmd_fetch,
	 "fetch [OWNER/REPO] [--workflow W] [--branch B] [--since DATE] [--limit N] [--all-logs]\n"
	 "        [--artifacts GLOB,...] [--artifact-max SIZE] [--jobs N] [--api-url URL]\n"
	 "        [--cache-dir DIR] [--no-wait] [--quiet] [--json]",
	 "fetch runs, jobs, logs and artifacts from GitHub Actions and import them"},
	{"import", cmd_import, "import [--conclusion failure|success] [--json] [--quiet] PATH...",
	 "import run folders, log archives and log files into the index"},
	{"runs", cmd_runs,
	 "runs [--workflow W] [--branch B] [--status S] [--limit N] [--json]\n"
	 "        S: " CI_STATUS_VALUES,
	 "list runs, newest first"},
	{"show", cmd_show, "show [--json] RUN", "a run's jobs and steps"},
	{"log", cmd_log, "log [--failed] [--raw] [--step N] [--json] RUN[/JOB]",
	 "print stored logs (all jobs, one job, failed steps, one step)"},
	{"search", cmd_search,
	 "search [--regex] [-i|--ignore-case|--case-sensitive] [--limit N] [--count] [--json] QUERY",
	 "search every indexed log"},
	{"triage", cmd_triage, "triage [--json] [--all] [RUN[/JOB]]",
	 "why a run failed: findings, category, history, flakiness (default: newest failure)"},
	{"diff", cmd_diff,
	 "diff [--json] [--all-lines] [--context N] [--base RUN[/JOB]] [--base-branch B]\n"
	 "        [--git-dir DIR] [--max-lines N] [--slower-ratio R] [--slower-floor MS]\n"
	 "        [RUN[/JOB]] [BASE[/JOB]]",
	 "what differs from the last good run: new log lines, tests, steps (default: newest failure)"},
	{"triage-state", cmd_triage_state,
	 "triage-state [--note TEXT] [--json] FINGERPRINT STATE",
	 "mark a failure untriaged, acknowledged, known-flaky or fixed (\"new\" = untriaged)"},
	{"parity", cmd_parity,
	 "parity [--channel C] [--base RUN] [--json] [--plot[=delta|sides]] [--svg FILE]\n"
	 "        [--log] [--width N] [--height N] [--config FILE] RUN",
	 "where a run's candidate stopped agreeing with its reference, channel by channel"},
	{"metrics", cmd_metrics,
	 "metrics [--workflow W] [--branch B] [--thresholds FILE] [--json] [PATTERN]\n"
	 "        metrics show [--workflow W] [--branch B] [--json] [--plot] [--svg FILE]\n"
	 "                     [--width N] [--height N] NAME\n"
	 "        metrics ack [--workflow W] [--note TEXT] NAME COMMIT",
	 "metrics over history: last value, baseline, trend, thresholds, change points"},
	{"check", cmd_check, "check [--thresholds FILE] [--json] [RUN]",
	 "evaluate thresholds for a run (default: each workflow's newest on the default branch)"},
	{"rules", cmd_rules, "rules [list|test] [--json] [RULES_FILE]",
	 "list the triage rules, or test them against every run in the index"},
	{"retriage", cmd_retriage, "retriage [--json]",
	 "recompute the triage of every failed job (after changing rules)"},
	{"rerun", cmd_rerun, "rerun [--repo OWNER/REPO] [--api-url URL] [--yes] RUN",
	 "re-run the failed jobs of a run on GitHub (shows the request, asks first)"},
	{"dispatch", cmd_dispatch,
	 "dispatch [--repo OWNER/REPO] [--api-url URL] [--input KEY=VALUE]... [--yes]\n"
	 "        WORKFLOW --ref REF",
	 "run a workflow on a branch or tag on GitHub (shows the request, asks first)"},
	{"commits", cmd_commits,
	 "commits [--branch B] [--limit N] [--repo PATH] [--json]\n"
	 "        | commits --last-green [--workflow W] [--branch B] [--repo PATH] [--json]",
	 "first-parent history of a branch with one CI verdict per workflow; the last green commit"},
	{"bisect", cmd_bisect,
	 "bisect start (--job WORKFLOW/JOB | --workflow W | --test NAME | --finding FP\n"
	 "        | --metric NAME --above X|--below X | --parity WORKFLOW) [--good REV|RUN] [--bad REV|RUN]\n"
	 "        [--branch B] [--repo PATH] [--json]\n"
	 "        | bisect good|bad|skip [REV] | bisect status [--json] | bisect log [--json]\n"
	 "        | bisect replay FILE | bisect reset | bisect run [--timeout S] CMD [ARGS...]\n"
	 "        | bisect dispatch [REV] [--workflow W] [--ref-prefix P] [--timeout S] [--poll S]\n"
	 "        [--no-wait] [--gh-repo OWNER/REPO] [--api-url URL] [--cache-dir DIR] [--repo PATH]\n"
	 "        [--yes] [--quiet] [--json]",
	 "find the commit that broke a job, test, finding, metric or parity, stored runs as evidence"},
	{"runbook", cmd_runbook,
	 "runbook list [--json] | show NAME|FILE [--json]\n"
	 "        | run NAME|FILE [--var K=V]... [--auto|--dry-run] [--bind RUN]\n"
	 "        | resume ID [--auto] [--var K=V]... [--yes-to-changes]\n"
	 "        | note ID TEXT | log [ID] [--json] | report ID [--format md]",
	 "step through a runbook bound to the index, with its event log and incident report"},
	{"keys", cmd_keys, "keys [--man]",
	 "the key bindings of every view (--man: as roff for the man page)"},
};

void cli_error(const char *fmt, ...)
{
	struct buf raw = BUF_INIT, safe = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	/* messages quote file names and CI text: sanitise them too */
	sanitize_append(&safe, raw.data ? raw.data : "", raw.len, 0);
	fprintf(stderr, "ciscope: %s\n", buf_cstr(&safe));
	buf_release(&raw);
	buf_release(&safe);
}

int cli_term_width(const struct cli *c)
{
	if (!c->tty_out)
		return 0;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *e = getenv("COLUMNS");
	long n = e ? strtol(e, NULL, 10) : 0;
	return n > 0 && n < 10000 ? (int)n : 80;
}

struct store *cli_open_mode(struct cli *c, enum store_mode mode)
{
	struct cs_err err;
	err_clear(&err);
	c->st = store_open(c->db_path, mode, &err);
	if (!c->st)
		cli_error("%s", err.msg);
	return c->st;
}

struct store *cli_open(struct cli *c, bool write)
{
	return cli_open_mode(c, write ? STORE_RW : STORE_RO_EXISTING);
}

void cli_put(struct cli *c, const char *s, bool keep_sgr)
{
	struct buf b = BUF_INIT;
	sanitize_append(&b, s, strlen(s), SAN_KEEP_TAB | (keep_sgr && c->color ? SAN_KEEP_SGR : 0));
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
}

const char *cli_glyph(struct cli *c, const char *state)
{
	return ci_state_glyph(state, c->utf8);
}

/* By the state's kind (cistate.h), as the views colour it. */
const char *cli_color(struct cli *c, const char *state)
{
	if (!c->color || !state)
		return "";
	switch (ci_state_kind(state)) {
	case CI_STATE_SUCCESS:
		return "\033[32m";
	case CI_STATE_FAILURE:
		return "\033[31m";
	case CI_STATE_RUNNING:
		return "\033[33m";
	default:
		return "\033[2m";
	}
}

const char *cli_reset(struct cli *c)
{
	return c->color ? "\033[0m" : "";
}

void cli_json_str(struct buf *b, const char *s)
{
	if (!s)
		buf_adds(b, "null");
	else
		buf_add_json_str(b, s, strlen(s));
}

void cli_json_time(struct buf *b, int64_t ms)
{
	if (ms == CS_TIME_NONE) {
		buf_adds(b, "null");
		return;
	}
	char t[40];
	time_format_iso(ms, t, sizeof(t));
	buf_addf(b, "\"%s\"", t);
}

void cli_json_ms(struct buf *b, int64_t ms)
{
	if (ms == CS_TIME_NONE)
		buf_adds(b, "null");
	else
		buf_addf(b, "%lld", (long long)ms);
}

void cli_json_run(struct buf *b, const struct run *r)
{
	buf_addf(b, "{\"id\":%lld,\"attempt\":%d,\"run_number\":%lld,\"repo\":",
		 (long long)r->provider_id, r->attempt, (long long)r->run_number);
	cli_json_str(b, r->repo);
	buf_adds(b, ",\"workflow\":");
	cli_json_str(b, r->workflow);
	buf_adds(b, ",\"title\":");
	cli_json_str(b, r->title);
	buf_adds(b, ",\"event\":");
	cli_json_str(b, r->event);
	buf_adds(b, ",\"branch\":");
	cli_json_str(b, r->branch);
	buf_adds(b, ",\"sha\":");
	cli_json_str(b, r->sha);
	buf_adds(b, ",\"status\":");
	cli_json_str(b, r->status);
	buf_adds(b, ",\"conclusion\":");
	cli_json_str(b, r->conclusion);
	buf_adds(b, ",\"created_at\":");
	cli_json_time(b, r->created_at);
	buf_adds(b, ",\"started_at\":");
	cli_json_time(b, r->started_at);
	buf_adds(b, ",\"updated_at\":");
	cli_json_time(b, r->updated_at);
	buf_adds(b, ",\"duration_ms\":");
	cli_json_ms(b, r->duration_ms);
	buf_adds(b, ",\"url\":");
	cli_json_str(b, r->html_url);
	buf_addf(b, ",\"jobs\":%d,\"failed_jobs\":%d}", r->n_jobs, r->n_failed_jobs);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ciscope [--db PATH] [--no-color] [COMMAND [ARGS]]\n\n");
	fprintf(f, "ciscope is a terminal workbench for investigating CI runs: it indexes\n"
		   "GitHub Actions runs, logs and artifacts into SQLite and lets you read,\n"
		   "search and compare them offline.\n\n");
	fprintf(f, "Commands:\n");
	int w = 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		w = MAX(w, (int)strlen(commands[i].name));
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-*s  %s\n", w, commands[i].name, commands[i].help);
	fprintf(f, "\nWith no command, ciscope opens its terminal UI on the index (press h or ?\n"
		   "for the keys); when standard output is not a terminal it lists the newest runs.\n\n");
	fprintf(f, "Options:\n"
		   "  --db PATH     the index to use (default: $CISCOPE_DB, else\n"
		   "                $XDG_DATA_HOME/ciscope/<owner_repo>.db for the git checkout\n"
		   "                you are in, else .../ciscope/default.db)\n"
		   "  --no-color    no colours (also NO_COLOR=1)\n"
		   "  --version     print the version\n"
		   "  -h, --help    this help; `ciscope COMMAND --help` for a command\n\n"
		   "RUN is a run id, optionally with :ATTEMPT (12345:2); JOB is a job id or name.\n"
		   "See ciscope(1) for output formats and exit codes.\n");
}

int cli_bad_usage(const char *name)
{
	cli_command_usage(name, stderr);
	return EXIT_USAGE;
}

void cli_command_usage(const char *name, FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			fprintf(f, "usage: ciscope %s\n  %s\n", commands[i].usage, commands[i].help);
}

static void on_sigint(int sig)
{
	(void)sig;
	if (cli_interrupted) /* a second Ctrl-C: leave now */
		_exit(EXIT_INTR);
	cli_interrupted = 1;
}

static void on_wait(void *ctx, const char *msg)
{
	(void)ctx;
	cli_error("%s", msg);
}

/* The origin's slug of the checkout we run in, remembered in the cache so
 * that later commands here need not load libgit2 (core/gitrepo.h). */
static bool origin_slug(struct buf *slug)
{
	char *root = fetch_default_cache_root();
	bool ok = gitrepo_origin_slug_cached(root, slug);
	free(root);
	return ok;
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	setlocale(LC_ALL, "");
	const char *cs = nl_langinfo(CODESET);
	c.utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	c.tty_out = isatty(STDOUT_FILENO);
	c.tty_err = isatty(STDERR_FILENO);
	const char *nc = getenv("NO_COLOR");
	/* colour is wanted unless NO_COLOR or --no-color; the CLI also needs a
	 * terminal on stdout, the TUI draws on its own (or a test's) screen */
	bool want_color = !(nc && *nc);
	c.color = c.tty_out && want_color;

	/* --db and --no-color may also follow the command (ciscope runs --db x) */
	int w = 1;
	for (int r = 1; r < argc; r++) {
		if (!strcmp(argv[r], "--")) {
			while (r < argc)
				argv[w++] = argv[r++];
			break;
		}
		if (r > 1 && argv[1][0] != '-' && !strcmp(argv[r], "--db") && r + 1 < argc) {
			c.db_path = argv[++r];
			continue;
		}
		if (r > 1 && argv[1][0] != '-' && !strncmp(argv[r], "--db=", 5)) {
			c.db_path = argv[r] + 5;
			continue;
		}
		if (r > 1 && argv[1][0] != '-' &&
		    (!strcmp(argv[r], "--no-color") || !strcmp(argv[r], "--no-colour"))) {
			c.color = want_color = false;
			continue;
		}
		argv[w++] = argv[r];
	}
	argc = w;
	argv[argc] = NULL;

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--db")) {
			if (++i >= argc) {
				cli_error("--db needs a path");
				return EXIT_USAGE;
			}
			c.db_path = argv[i];
		} else if (!strncmp(argv[i], "--db=", 5)) {
			c.db_path = argv[i] + 5;
		} else if (!strcmp(argv[i], "--no-color") || !strcmp(argv[i], "--no-colour")) {
			c.color = want_color = false;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("ciscope %s\n", CISCOPE_VERSION);
			return EXIT_OK;
		} else {
			cli_error("unknown option '%s' (see ciscope --help)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!c.db_path) {
		struct buf slug = BUF_INIT;
		const char *env = getenv("CISCOPE_DB");
		c.db_owned = store_default_path(env && *env ? NULL
				: origin_slug(&slug) ? slug.data : NULL);
		c.db_path = c.db_owned;
		buf_release(&slug);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* SIGPIPE keeps its default: `ciscope log ... | head` ends quietly */

	/* A command waits for another writer (a long import, a fetch) as long
	 * as it takes, saying what it waits for, rather than failing with
	 * "database is locked"; Ctrl-C stops the wait. The TUI keeps the
	 * bounded default: its screen must not freeze. */
	struct store_wait patient = {-1, on_wait, NULL, &cli_interrupted};
	int rc;
	const char *script = getenv("CISCOPE_SCRIPT");
	if (i < argc || !(c.tty_out || (script && *script)))
		store_wait_default(&patient);
	if (i >= argc) {
		/* the TUI on a terminal (or a test script); piped, the run list */
		if (c.tty_out || (script && *script)) {
			/* the TUI writes (states, fetches): it upgrades an older index */
			rc = cli_open_mode(&c, STORE_UPGRADE_EXISTING)
				     ? app_main(c.st, c.db_path, !want_color)
				     : EXIT_ERROR;
		} else {
			char *args[] = {"runs", NULL};
			rc = cmd_runs(&c, 1, args);
		}
	} else if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc)
			cli_command_usage(argv[i + 1], stdout);
		else
			usage(stdout);
		rc = EXIT_OK;
	} else {
		rc = -1;
		for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
			if (!strcmp(argv[i], commands[k].name)) {
				/* getopt names argv[0] in its errors, and every
				 * error starts with "ciscope:" */
				static char prog[64];
				snprintf(prog, sizeof(prog), "ciscope: %s", commands[k].name);
				argv[i] = prog;
				rc = commands[k].fn(&c, argc - i, argv + i);
				break;
			}
		if (rc == -1) {
			cli_error("'%s' is not a ciscope command (see ciscope --help)", argv[i]);
			rc = EXIT_USAGE;
		}
	}
	store_close(c.st);
	free(c.db_owned);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_ERROR;
	return rc;
}
