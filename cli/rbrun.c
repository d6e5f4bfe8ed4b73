/* rbrun.c - `ciscope runbook run` and `resume`: the steps of a runbook run
 * from the terminal (core/rbsession.h).
 *
 * Modes of run/resume: --dry-run prints every step with its variables
 * resolved and runs nothing; the default (paranoid) shows each step and
 * asks run / skip / edit / note / quit / abort on the terminal; --auto runs
 * the steps in order, still asking before confirm= and sensitive steps, and
 * stops at the first failure. Without a terminal the default mode refuses
 * at once rather than wait for an answer that cannot come.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/rbcli.h"
#include "core/gitrepo.h"
#include "core/rbsession.h"
#include "core/rbstore.h"
#include "core/runbook.h"
#include "core/runner.h"
#include "core/sanitize.h"
#include "core/triage.h"

/* --- running ---------------------------------------------------------------------------------- */
struct out_ctx {
	struct buf line; /* a partial line: sanitised whole, so a UTF-8 sequence is never split */
};

static void on_output(void *vctx, const char *d, size_t n)
{
	struct out_ctx *o = vctx;
	buf_add(&o->line, d, n);
	size_t last = 0;
	for (size_t i = 0; i < o->line.len; i++)
		if (o->line.data[i] == '\n')
			last = i + 1;
	if (!last && o->line.len < 4096)
		return;
	if (!last)
		last = utf8_complete_prefix(o->line.data, o->line.len);
	struct buf safe = BUF_INIT;
	rbc_put_lines(&safe, o->line.data, last);
	fwrite(safe.data ? safe.data : "", 1, safe.len, stdout);
	fflush(stdout);
	buf_release(&safe);
	memmove(o->line.data, o->line.data + last, o->line.len - last);
	o->line.len -= last;
}

static void out_end(struct out_ctx *o)
{
	if (o->line.len) {
		struct buf safe = BUF_INIT;
		rbc_put_lines(&safe, o->line.data, o->line.len);
		buf_addc(&safe, '\n');
		fwrite(safe.data, 1, safe.len, stdout);
		buf_release(&safe);
	}
	buf_reset(&o->line);
	fflush(stdout);
}

/* A line from the terminal; NULL at EOF or Ctrl-C. */
static char *ask(const char *prompt, char *line, size_t n)
{
	struct buf q = BUF_INIT, safe = BUF_INIT;
	buf_adds(&q, prompt);
	sanitize_append(&safe, q.data, q.len, 0);
	fputs(buf_cstr(&safe), stderr);
	fflush(stderr);
	buf_release(&q);
	buf_release(&safe);
	cli_interrupted = 0;
	if (!fgets(line, (int)n, stdin)) {
		cli_interrupted = 0;
		fputc('\n', stderr);
		return NULL;
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void show_step(struct cli *c, struct rb_session *s, int k, bool with_prose)
{
	const struct rb_step *st = &s->rb.steps[k - 1];
	struct buf b = BUF_INIT, t = BUF_INIT;
	buf_addf(&b, "\n%s step %d/%d: ", c->utf8 ? "\xe2\x96\xb6" : ">", k, s->rb.n_steps);
	runbook_render_text(st->title, &s->vars, &t);
	cli_put_text(&b, t.data);
	buf_adds(&b, " [");
	cli_put_text(&b, st->name);
	rbc_step_attrs(&b, st);
	buf_adds(&b, "]\n");
	if (with_prose && st->prose && *st->prose) {
		buf_reset(&t);
		runbook_render_text(st->prose, &s->vars, &t);
		rbc_indent(&b, buf_cstr(&t), "  ");
	}
	buf_release(&t);
	rbc_out_flush(&b);
	buf_release(&b);
}

/* The resolved command and where its values came from. */
static void show_command(struct rb_session *s, int k, const char *pfx)
{
	const struct rb_step *st = &s->rb.steps[k - 1];
	struct buf b = BUF_INIT;
	rbc_indent(&b, s->shown.data ? s->shown.data : "", pfx);
	char **names = NULL;
	int nn = 0;
	struct cs_err e2;
	err_clear(&e2);
	runbook_check_command(st->command, &names, &nn, &e2);
	for (int i = 0; i < nn; i++) {
		const struct rb_value *v = rb_vars_get(&s->vars, names[i]);
		if (!v)
			continue;
		buf_adds(&b, "      {{");
		cli_put_text(&b, names[i]);
		buf_addf(&b, "}} from %s%s\n", rb_var_source_name(v->source),
			 v->sensitive ? " (secret)" : "");
	}
	runbook_names_free(names, nn);
	rbc_out_flush(&b);
	buf_release(&b);
}

enum mode { MODE_PARANOID, MODE_AUTO, MODE_DRY };

static int dry_run(struct cli *c, struct rb_session *s)
{
	struct buf b = BUF_INIT;
	cli_put_text(&b, s->rb.title);
	buf_adds(&b, " (");
	cli_put_text(&b, s->rb.path);
	buf_addf(&b, ") - dry run: nothing is run or recorded\n");
	if (s->rb.when) {
		buf_adds(&b, "When: ");
		cli_put_text(&b, s->rb.when);
		buf_addc(&b, '\n');
	}
	rbc_out_flush(&b);
	buf_release(&b);
	if (!rb_vars_get(&s->vars, "runbook_id"))
		rb_vars_set(&s->vars, "runbook_id", "<instance id>", RBV_DEFAULT, false);
	int stops = 0;
	for (int k = 1; k <= s->rb.n_steps; k++) {
		const struct rb_step *st = &s->rb.steps[k - 1];
		show_step(c, s, k, false);
		struct cs_err err;
		err_clear(&err);
		if (rb_session_resolve(s, k, &err) < 0) {
			rbc_say("  would stop: %s\n", err.msg);
			stops++;
		} else if (st->command) {
			show_command(s, k, st->manual ? "  to do by hand> " : "  would run$ ");
		} else {
			rbc_say("  to do by hand, then tick off\n");
		}
		/* later steps see what this one would capture */
		char **names;
		int nn;
		rb_capture_names(st, &names, &nn);
		for (int i = 0; i < nn; i++) {
			if (!rb_vars_get(&s->vars, names[i])) {
				char *v = xasprintf("<captured by step %d>", k);
				rb_vars_set(&s->vars, names[i], v, RBV_CAPTURE, st->sensitive);
				free(v);
			}
		}
		runbook_names_free(names, nn);
	}
	if (stops)
		rbc_say("\n%d step%s would stop: give the missing values with --var NAME=VALUE\n", stops,
		    stops == 1 ? "" : "s");
	return stops ? EXIT_ERROR : EXIT_OK;
}

/* Ask y/N (a confirm= or sensitive step in --auto). */
static bool confirm_step(const struct rb_step *st)
{
	char q[512], line[64];
	snprintf(q, sizeof(q), "%s [y/N] ",
		 st->confirm_text ? st->confirm_text
		 : st->sensitive ? "This step is sensitive. Run it?"
				 : "Run this step?");
	return ask(q, line, sizeof(line)) && (line[0] == 'y' || line[0] == 'Y');
}

/* How a run of the steps ends: finished, stopped or aborted, and why. */
struct ending {
	const char *kind;
	char why[256];
	int rc;
};

static void end_as(struct ending *e, const char *kind, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void end_as(struct ending *e, const char *kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	e->kind = kind;
	e->rc = EXIT_ERROR;
}

/* Asks for a note and records it: -1 when the journal refuses it. */
static int ask_note(struct rb_session *s, struct cs_err *err)
{
	char note[4096];
	if (ask("  note: ", note, sizeof(note)) && *note && rb_session_note(s, note, err) < 0)
		return -1;
	return 0;
}

static int run_steps(struct cli *c, struct rb_session *s, enum mode mode, int from)
{
	struct cs_err err;
	err_clear(&err);
	bool tty = isatty(STDIN_FILENO);
	int k = from;
	struct ending e = {"finished", "", EXIT_OK};
	struct out_ctx oc = {BUF_INIT};
	while (k <= s->rb.n_steps) {
		const struct rb_step *st = &s->rb.steps[k - 1];
		show_step(c, s, k, true);
		char line[4096];
		char *edited = NULL;
		/* resolve first: a hole stops the step before anything is asked */
		err_clear(&err);
		if (rb_session_resolve(s, k, &err) < 0) {
			rbc_say("  cannot run: %s\n", err.msg);
			if (mode == MODE_AUTO || !tty) {
				end_as(&e, "stopped", "step %d: a variable has no value", k);
				break;
			}
			if (!ask("  [v]ar NAME=VALUE, [s]kip, [q]uit? ", line, sizeof(line)) || line[0] == 'q') {
				end_as(&e, "stopped", "quit at step %d", k);
				break;
			}
			if (line[0] == 's') {
				if (rb_session_skip(s, k, "skipped: a variable had no value", &err) < 0)
					goto dberr;
				k++;
				continue;
			}
			if (line[0] == 'v') {
				char val[4096];
				if (ask("  NAME=VALUE: ", val, sizeof(val))) {
					char *eq = strchr(val, '=');
					if (eq) {
						*eq = '\0';
						if (rb_var_name_valid(val))
							rb_vars_set(&s->vars, val, eq + 1, RBV_PROMPT, false);
						else
							rbc_say("  '%s' is not a variable name\n", val);
					}
				}
			}
			continue;
		}
		if (st->command)
			show_command(s, k, st->manual ? "  to do> " : "  $ ");
		if (st->manual) {
			if (!tty) {
				rbc_say("  step %d is manual: it needs someone at a terminal\n", k);
				end_as(&e, "stopped", "step %d is manual and no one was at a terminal", k);
				break;
			}
			if (!ask("  [d]one, [s]kip, [n]ote, [q]uit? ", line, sizeof(line)) || line[0] == 'q') {
				end_as(&e, "stopped", "quit at step %d", k);
				break;
			}
			if (line[0] == 'd') {
				if (rb_session_manual_done(s, k, &err) < 0)
					goto dberr;
				k++;
			} else if (line[0] == 's') {
				if (rb_session_skip(s, k, "skipped by the operator", &err) < 0)
					goto dberr;
				k++;
			} else if (line[0] == 'n') {
				if (ask_note(s, &err) < 0)
					goto dberr;
			}
			continue;
		}
		if (mode == MODE_AUTO) {
			if (st->confirm) {
				if (!tty) {
					rbc_say("  step %d asks for a confirmation: resume on a terminal "
					    "(ciscope runbook resume %lld)\n",
					    k, (long long)s->id);
					end_as(&e, "stopped", "step %d needs a confirmation and no one was at a terminal", k);
					break;
				}
				if (!confirm_step(st)) {
					end_as(&e, "stopped", "step %d not confirmed", k);
					break;
				}
			}
		} else {
			if (st->confirm_text)
				rbc_say("  %s\n", st->confirm_text);
			else if (st->sensitive)
				rbc_say("  a sensitive step: its output is not stored\n");
			if (!ask("  [r]un, [s]kip, [e]dit, [n]ote, [q]uit, [a]bort? ", line, sizeof(line)) ||
			    line[0] == 'q') {
				end_as(&e, "stopped", "quit at step %d", k);
				break;
			}
			if (line[0] == 'a') {
				end_as(&e, "aborted", "aborted at step %d", k);
				break;
			}
			if (line[0] == 's') {
				if (rb_session_skip(s, k, "skipped by the operator", &err) < 0)
					goto dberr;
				k++;
				continue;
			}
			if (line[0] == 'n') {
				if (ask_note(s, &err) < 0)
					goto dberr;
				continue;
			}
			if (line[0] == 'e') {
				if (!ask("  command (placeholders allowed): ", line, sizeof(line)) || !*line)
					continue;
				edited = line;
			} else if (line[0] != 'r') {
				continue;
			}
		}
		err_clear(&err);
		if (rb_session_start(s, k, edited, &err) < 0) {
			rbc_say("  cannot run: %s\n", err.msg);
			if (err.code == CS_EDB)
				goto dberr;
			if (mode == MODE_AUTO) {
				end_as(&e, "stopped", "step %d could not start", k);
				break;
			}
			continue;
		}
		int attempt_seen = s->attempt;
		int r;
		/* the blocking loop, with each retry announced */
		for (;;) {
			r = rb_session_pump(s, on_output, &oc, &err);
			if (r <= 0)
				break;
			if (s->attempt != attempt_seen) {
				out_end(&oc);
				rbc_say("  attempt %d of %d\n", s->attempt, st->retry);
				attempt_seen = s->attempt;
			}
			if (cli_interrupted) {
				cli_interrupted = 0;
				out_end(&oc);
				rbc_say("  stopping the step (its process group)\n");
				rb_session_stop(s);
				continue;
			}
			rb_session_poll(s);
		}
		out_end(&oc);
		if (r < 0)
			goto dberr;
		const char *status = s->last_status;
		if (!strcmp(status, "ok") || !strcmp(status, "background")) {
			rbc_say("  %s %s (exit %d)\n", c->utf8 ? "\xe2\x9c\x93" : "+", status, s->last_exit);
			k++;
			continue;
		}
		rbc_say("  %s step %d %s (exit %d)\n", c->utf8 ? "\xe2\x9c\x97" : "X", k,
		    !strcmp(status, "timeout") ? "timed out" : status, s->last_exit);
		if (mode == MODE_AUTO || !tty) {
			end_as(&e, "stopped", "step %d %s", k, status);
			break;
		}
		/* paranoid: the same step is offered again (run = retry) */
	}
	buf_release(&oc.line);
	err_clear(&err);
	if (rb_session_end(s, e.kind, *e.why ? e.why : NULL, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (!strcmp(e.kind, "finished"))
		rbc_say("\nrunbook %lld finished: ciscope runbook report %lld\n", (long long)s->id,
		    (long long)s->id);
	else if (!strcmp(e.kind, "stopped"))
		rbc_say("\nrunbook %lld stopped (%s): continue with ciscope runbook resume %lld\n",
		    (long long)s->id, e.why, (long long)s->id);
	else
		rbc_say("\nrunbook %lld aborted\n", (long long)s->id);
	return e.rc;
dberr:
	buf_release(&oc.line);
	cli_error("%s", err.msg);
	return EXIT_ERROR;
}

static int parse_var(struct rb_vars *vs, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq) {
		cli_error("runbook: --var %s: expected NAME=VALUE", kv);
		return -1;
	}
	char *name = xstrndup(kv, (size_t)(eq - kv));
	if (!rb_var_name_valid(name)) {
		cli_error("runbook: --var: '%s' is not a variable name (letters, digits, _)", name);
		free(name);
		return -1;
	}
	rb_vars_set(vs, name, eq + 1, RBV_OPTION, false);
	free(name);
	return 0;
}

int rbc_run(struct cli *c, int argc, char **argv, bool resume)
{
	static const struct option opts[] = {
		{"var", required_argument, NULL, 'v'},	 {"auto", no_argument, NULL, 'a'},
		{"dry-run", no_argument, NULL, 'n'},	 {"bind", required_argument, NULL, 'b'},
		{"yes-to-changes", no_argument, NULL, 'Y'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct rb_vars vars = {0};
	enum mode mode = MODE_PARANOID;
	const char *bind = NULL;
	bool accept_changes = false;
	int o, rc = EXIT_OK;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'v':
			if (parse_var(&vars, optarg) < 0) {
				rb_vars_release(&vars);
				return EXIT_USAGE;
			}
			break;
		case 'a': mode = mode == MODE_DRY ? MODE_DRY : MODE_AUTO; break;
		case 'n': mode = MODE_DRY; break;
		case 'b': bind = optarg; break;
		case 'Y': accept_changes = true; break;
		case 'h':
			cli_command_usage("runbook", stdout);
			rb_vars_release(&vars);
			return EXIT_OK;
		default: rb_vars_release(&vars); return cli_bad_usage("runbook");
		}
	}
	if (optind != argc - 1) {
		cli_error(resume ? "runbook resume: name one instance id"
				 : "runbook run: name one runbook (a name or a file)");
		rb_vars_release(&vars);
		return cli_bad_usage("runbook");
	}
	if (resume && (mode == MODE_DRY || bind)) {
		cli_error("runbook resume: --dry-run and --bind are for a new run");
		rb_vars_release(&vars);
		return EXIT_USAGE;
	}
	if (mode == MODE_PARANOID && !isatty(STDIN_FILENO)) {
		cli_error("runbook: the default mode asks before every step and needs a terminal on "
			  "its input: use --auto (still stops at steps that ask) or --dry-run");
		rb_vars_release(&vars);
		return EXIT_USAGE;
	}
	const char *modename = mode == MODE_AUTO ? "auto" : mode == MODE_DRY ? "dry-run" : "paranoid";
	struct cs_err err;
	err_clear(&err);
	/* a dry run reads the index when there is one; the others write events */
	if (mode == MODE_DRY) {
		/* writable: an older index is migrated (nothing else is written) */
		if (access(c->db_path, F_OK) == 0 && !cli_open(c, access(c->db_path, W_OK) == 0)) {
			rb_vars_release(&vars);
			return EXIT_ERROR;
		}
	} else if (!cli_open(c, true)) {
		rb_vars_release(&vars);
		return EXIT_ERROR;
	}
	char *top = gitrepo_top(NULL);
	struct rb_session s;
	memset(&s, 0, sizeof(s));
	struct runbook rb;
	char *text = NULL;
	size_t tn = 0;
	if (!resume) {
		if (rb_load(top, argv[optind], &rb, &text, &tn, &err) < 0) {
			cli_error("%s", err.msg);
			rc = cli_exit_for(&err, EXIT_ERROR);
			goto out;
		}
		if (c->st) {
			/* the triage the index variables read must be current */
			int nj;
			const struct ruleset *rs = triage_rules(&err);
			if (rs && !c->st->readonly && triage_ensure(c->st, rs, &nj, &err) < 0)
				cli_error("cannot bring the triage up to date (%s)", err.msg);
			err_clear(&err);
		}
		if (rb_session_begin(&s, c->st, &rb, text, tn, &vars, bind,
				     modename, &err) < 0) {
			cli_error("%s", err.msg);
			rc = cli_exit_for(&err, EXIT_ERROR);
			goto out;
		}
		if (mode == MODE_DRY) {
			rc = dry_run(c, &s);
			goto out;
		}
		rbc_say("runbook %lld: ", (long long)s.id);
		rbc_say("%s", s.rb.title);
		rbc_say(" (%s, %s)\n", s.rb.path, modename);
		rc = run_steps(c, &s, mode, 1);
		goto out;
	}
	int64_t id = rbc_parse_id(argv[optind]);
	if (id < 0) {
		cli_error("runbook resume: '%s' is not an instance id", argv[optind]);
		rc = EXIT_USAGE;
		goto out;
	}
	struct rb_instance inst;
	if (rbstore_get(c->st, id, &inst, NULL, NULL, &err) < 0) {
		cli_error("%s", err.msg);
		rc = cli_exit_for(&err, EXIT_ERROR);
		goto out;
	}
	if (!strcmp(inst.state, "finished") || !strcmp(inst.state, "aborted") ||
	    !strcmp(inst.state, "running")) {
		cli_error("runbook %lld is %s: nothing to resume%s", (long long)id, inst.state,
			  !strcmp(inst.state, "running") ? " (another ciscope runs it)" : "");
		rb_instance_free(&inst);
		rc = EXIT_ERROR;
		goto out;
	}
	/* the runbook as it is now; the recorded text when the file is gone */
	struct cs_err e2;
	err_clear(&e2);
	if (rb_load(top, inst.path, &rb, &text, &tn, &e2) < 0) {
		if (runbook_parse(inst.path, inst.source, inst.source_len, &rb, &err) < 0) {
			cli_error("%s", err.msg);
			rb_instance_free(&inst);
			rc = EXIT_ERROR;
			goto out;
		}
		rbc_say("(%s; using the text recorded when the runbook started)\n", e2.msg);
		text = xstrndup(inst.source, inst.source_len);
		tn = inst.source_len;
	}
	struct buf now = BUF_INIT;
	rbstore_step_list(&rb, &now);
	if (strcmp(buf_cstr(&now), inst.steps)) {
		rbc_say("the runbook's steps changed since runbook %lld started (added, removed, renamed "
		    "or reordered): step numbers in its log may not mean the same steps now.\n",
		    (long long)id);
		bool go = accept_changes;
		char line[16];
		if (!go && isatty(STDIN_FILENO))
			go = ask("continue with the new steps? [y/N] ", line, sizeof(line)) &&
			     (line[0] == 'y' || line[0] == 'Y');
		if (!go) {
			cli_error("not resumed (--yes-to-changes resumes anyway)");
			buf_release(&now);
			rb_instance_free(&inst);
			runbook_free(&rb);
			free(text);
			rc = EXIT_ERROR;
			goto out;
		}
	} else if (strcmp(rb.hash, inst.hash)) {
		rbc_say("(the runbook was edited inside its steps since it started: running the new text)\n");
	}
	buf_release(&now);
	rb_instance_free(&inst);
	int from;
	if (rb_session_resume(&s, c->st, id, &rb, text, tn, &vars, modename, &from, &err) < 0) {
		cli_error("%s", err.msg);
		rc = cli_exit_for(&err, EXIT_ERROR);
		goto out;
	}
	if (from > s.rb.n_steps) {
		rbc_say("runbook %lld: every step is done\n", (long long)id);
		err_clear(&err);
		rb_session_end(&s, "finished", NULL, &err);
		goto out;
	}
	if (s.orphan_pgid) {
		rbc_say("warning: the interrupted step %d's processes (group %d) are still running: let "
		    "them finish or stop them (kill -- -%d) before running the step again\n",
		    from, s.orphan_pgid, s.orphan_pgid);
		if (mode == MODE_AUTO) {
			char why[128];
			snprintf(why, sizeof(why), "the interrupted step still runs (process group %d)",
				 s.orphan_pgid);
			err_clear(&err);
			rb_session_end(&s, "stopped", why, &err);
			cli_error("runbook %lld: not resumed with --auto while step %d still runs",
				  (long long)id, from);
			rc = EXIT_ERROR;
			goto out;
		}
	}
	rbc_say("runbook %lld: resuming ", (long long)id);
	rbc_say("%s", s.rb.title);
	rbc_say(" at step %d of %d\n", from, s.rb.n_steps);
	rc = run_steps(c, &s, mode, from);
out:
	rb_session_release(&s);
	rb_vars_release(&vars);
	free(top);
	return rc;
}
