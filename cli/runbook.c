/* runbook.c - `ciscope runbook`: list, show, run, resume, note, log, report
 * (core/runbook.h, core/rbsession.h, core/rbstore.h).
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
#include "core/gitrepo.h"
#include "core/rbsession.h"
#include "core/rbstore.h"
#include "core/runbook.h"
#include "core/runner.h"
#include "core/sanitize.h"
#include "core/triage.h"

/* Sanitised text with its newlines kept. */
static void put_lines(struct buf *b, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sanitize_append(b, p, k, SAN_KEEP_TAB);
		if (nl)
			buf_addc(b, '\n');
		p += k + (nl ? 1 : 0);
	}
}

static void fmt_ms(struct buf *b, int64_t ms)
{
	if (ms % 1000)
		buf_addf(b, "%lldms", (long long)ms);
	else
		buf_addf(b, "%llds", (long long)(ms / 1000));
}

static void out_flush(struct buf *b)
{
	fwrite(b->data ? b->data : "", 1, b->len, stdout);
	buf_reset(b);
	fflush(stdout);
}

static int exit_for(const struct cs_err *err)
{
	switch (err->code) {
	case CS_EUSAGE: return EXIT_USAGE;
	case CS_ENOTFOUND: return EXIT_NOTFOUND;
	default: return EXIT_ERROR;
	}
}

static void short_sha(struct buf *b, const char *sha)
{
	if (!sha || !*sha)
		buf_adds(b, "-");
	else
		buf_addf(b, "%.7s", sha);
}

/* --- list, show ---------------------------------------------------------------------------- */
static int rb_list(struct cli *c, bool json)
{
	char *top = gitrepo_top(NULL);
	struct rb_source *src;
	int n;
	struct cs_err err;
	err_clear(&err);
	rb_sources(top, &src, &n, &err);
	free(top);
	struct buf b = BUF_INIT;
	if (json) {
		buf_addc(&b, '[');
		for (int i = 0; i < n; i++) {
			buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
			json_str(&b, src[i].name);
			buf_adds(&b, ",\"title\":");
			json_str(&b, src[i].title);
			buf_adds(&b, ",\"path\":");
			json_str(&b, src[i].path);
			buf_addf(&b, ",\"builtin\":%s,\"overrides_builtin\":%s,\"error\":",
				 src[i].builtin ? "true" : "false", src[i].overrides ? "true" : "false");
			json_str(&b, src[i].error);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]\n");
	} else {
		int w = 4;
		for (int i = 0; i < n; i++)
			w = MAX(w, (int)strlen(src[i].name));
		for (int i = 0; i < n; i++) {
			struct buf name = BUF_INIT;
			cli_put_text(&name, src[i].name);
			buf_addf(&b, "%-*s  %-10s  ", w, buf_cstr(&name),
				 src[i].builtin ? "bundled" : src[i].overrides ? "repo (hides bundled)" : "repo");
			cli_put_text(&b, src[i].title);
			buf_addc(&b, '\n');
			if (src[i].error) {
				buf_adds(&b, "    error: ");
				cli_put_text(&b, src[i].error);
				buf_addc(&b, '\n');
			}
			buf_release(&name);
		}
	}
	out_flush(&b);
	buf_release(&b);
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += src[i].error != NULL;
	rb_sources_free(src, n);
	return bad ? EXIT_ERROR : EXIT_OK;
}

static void step_attrs(struct buf *b, const struct rb_step *s)
{
	if (s->manual)
		buf_adds(b, " manual");
	if (s->cwd) {
		buf_adds(b, " cwd=");
		cli_put_text(b, s->cwd);
	}
	if (s->background)
		buf_adds(b, " background");
	if (s->sensitive)
		buf_adds(b, " sensitive");
	else if (s->confirm)
		buf_adds(b, " confirm");
	if (s->timeout_ms) {
		buf_adds(b, " timeout=");
		fmt_ms(b, s->timeout_ms);
	}
	if (s->retry > 1) {
		buf_addf(b, " retry=%d interval=", s->retry);
		fmt_ms(b, s->interval_ms);
		buf_addf(b, " until-exit=%d", s->until_exit);
	}
	if (s->capture) {
		buf_adds(b, " capture=");
		cli_put_text(b, s->capture);
	}
}

static void indent(struct buf *b, const char *text, const char *pfx)
{
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		buf_adds(b, pfx);
		sanitize_append(b, p, n, SAN_KEEP_TAB);
		buf_addc(b, '\n');
		p += n + (e ? 1 : 0);
	}
}

static void json_step(struct buf *b, const struct rb_step *s)
{
	buf_addf(b, "{\"number\":%d,\"name\":", s->number);
	json_str(b, s->name);
	buf_adds(b, ",\"title\":");
	json_str(b, s->title);
	buf_adds(b, ",\"prose\":");
	json_str(b, s->prose);
	buf_adds(b, ",\"command\":");
	json_str(b, s->command);
	buf_addf(b, ",\"manual\":%s,\"cwd\":", s->manual ? "true" : "false");
	json_str(b, s->cwd);
	buf_addf(b, ",\"background\":%s,\"confirm\":%s,\"confirm_text\":",
		 s->background ? "true" : "false", s->confirm ? "true" : "false");
	json_str(b, s->confirm_text);
	buf_addf(b, ",\"sensitive\":%s,\"timeout_ms\":%lld,\"retry\":%d,\"interval_ms\":%lld,"
		    "\"until_exit\":%d,\"capture\":",
		 s->sensitive ? "true" : "false", (long long)s->timeout_ms, s->retry,
		 (long long)s->interval_ms, s->until_exit);
	json_str(b, s->capture);
	buf_addf(b, ",\"line\":%d}", s->line);
}

static int rb_show(struct cli *c, const char *spec, bool json)
{
	char *top = gitrepo_top(NULL);
	struct runbook rb;
	char *text;
	size_t tn;
	struct cs_err err;
	err_clear(&err);
	int rc = rb_load(top, spec, &rb, &text, &tn, &err);
	free(top);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return exit_for(&err);
	}
	free(text);
	struct buf b = BUF_INIT;
	if (json) {
		buf_adds(&b, "{\"name\":");
		json_str(&b, rb.name);
		buf_adds(&b, ",\"path\":");
		json_str(&b, rb.path);
		buf_addf(&b, ",\"hash\":\"%s\",\"title\":", rb.hash);
		json_str(&b, rb.title);
		buf_adds(&b, ",\"when\":");
		json_str(&b, rb.when);
		buf_adds(&b, ",\"variables\":[");
		for (int i = 0; i < rb.n_vars; i++) {
			buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
			json_str(&b, rb.vars[i].name);
			buf_adds(&b, ",\"description\":");
			json_str(&b, rb.vars[i].description);
			buf_adds(&b, ",\"default\":");
			json_str(&b, rb.vars[i].def);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "],\"report\":[");
		for (int i = 0; i < rb.n_report_sections; i++) {
			if (i)
				buf_addc(&b, ',');
			json_str(&b, rb.report_sections[i]);
		}
		buf_adds(&b, "],\"steps\":[");
		for (int i = 0; i < rb.n_steps; i++) {
			if (i)
				buf_addc(&b, ',');
			json_step(&b, &rb.steps[i]);
		}
		buf_adds(&b, "]}\n");
	} else {
		cli_put_text(&b, rb.title);
		buf_adds(&b, " (");
		cli_put_text(&b, rb.path);
		buf_addf(&b, ", %d steps)\n", rb.n_steps);
		if (rb.when) {
			buf_adds(&b, "When: ");
			cli_put_text(&b, rb.when);
			buf_addc(&b, '\n');
		}
		if (rb.n_vars) {
			buf_adds(&b, "\nVariables (--var NAME=VALUE):\n");
			for (int i = 0; i < rb.n_vars; i++) {
				buf_adds(&b, "  ");
				cli_put_text(&b, rb.vars[i].name);
				if (rb.vars[i].def) {
					buf_adds(&b, " = ");
					cli_put_text(&b, rb.vars[i].def);
				}
				if (rb.vars[i].description) {
					buf_adds(&b, "  ");
					cli_put_text(&b, rb.vars[i].description);
				}
				buf_addc(&b, '\n');
			}
		}
		buf_adds(&b, "\nFrom the index and the checkout:");
		for (int i = 0; rb_index_names[i]; i++)
			buf_addf(&b, "%s%s", i ? ", " : " ", rb_index_names[i]);
		buf_adds(&b, "\n");
		for (int i = 0; i < rb.n_steps; i++) {
			const struct rb_step *s = &rb.steps[i];
			buf_addf(&b, "\n%d. ", s->number);
			cli_put_text(&b, s->title);
			buf_adds(&b, " [");
			cli_put_text(&b, s->name);
			step_attrs(&b, s);
			buf_adds(&b, "]\n");
			if (s->command)
				indent(&b, s->command, s->manual ? "    > " : "    $ ");
		}
	}
	out_flush(&b);
	buf_release(&b);
	runbook_free(&rb);
	return EXIT_OK;
}

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
	put_lines(&safe, o->line.data, last);
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
		put_lines(&safe, o->line.data, o->line.len);
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
	step_attrs(&b, st);
	buf_adds(&b, "]\n");
	if (with_prose && st->prose && *st->prose) {
		buf_reset(&t);
		runbook_render_text(st->prose, &s->vars, &t);
		indent(&b, buf_cstr(&t), "  ");
	}
	buf_release(&t);
	out_flush(&b);
	buf_release(&b);
}

/* The resolved command and where its values came from. */
static void show_command(struct rb_session *s, int k, const char *pfx)
{
	const struct rb_step *st = &s->rb.steps[k - 1];
	struct buf b = BUF_INIT;
	indent(&b, s->shown.data ? s->shown.data : "", pfx);
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
	out_flush(&b);
	buf_release(&b);
}

static void say(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void say(const char *fmt, ...)
{
	struct buf raw = BUF_INIT, safe = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	/* line by line: the newlines are ours, the text between may not be */
	const char *p = raw.data ? raw.data : "";
	const char *end = p + raw.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sanitize_append(&safe, p, n, SAN_KEEP_TAB);
		if (nl)
			buf_addc(&safe, '\n');
		p += n + (nl ? 1 : 0);
	}
	fwrite(safe.data ? safe.data : "", 1, safe.len, stdout);
	fflush(stdout);
	buf_release(&raw);
	buf_release(&safe);
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
	out_flush(&b);
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
			say("  would stop: %s\n", err.msg);
			stops++;
		} else if (st->command) {
			show_command(s, k, st->manual ? "  to do by hand> " : "  would run$ ");
		} else {
			say("  to do by hand, then tick off\n");
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
		say("\n%d step%s would stop: give the missing values with --var NAME=VALUE\n", stops,
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
			say("  cannot run: %s\n", err.msg);
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
							say("  '%s' is not a variable name\n", val);
					}
				}
			}
			continue;
		}
		if (st->command)
			show_command(s, k, st->manual ? "  to do> " : "  $ ");
		if (st->manual) {
			if (!tty) {
				say("  step %d is manual: it needs someone at a terminal\n", k);
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
					say("  step %d asks for a confirmation: resume on a terminal "
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
				say("  %s\n", st->confirm_text);
			else if (st->sensitive)
				say("  a sensitive step: its output is not stored\n");
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
			say("  cannot run: %s\n", err.msg);
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
				say("  attempt %d of %d\n", s->attempt, st->retry);
				attempt_seen = s->attempt;
			}
			if (cli_interrupted) {
				cli_interrupted = 0;
				out_end(&oc);
				say("  stopping the step (its process group)\n");
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
			say("  %s %s (exit %d)\n", c->utf8 ? "\xe2\x9c\x93" : "+", status, s->last_exit);
			k++;
			continue;
		}
		say("  %s step %d %s (exit %d)\n", c->utf8 ? "\xe2\x9c\x97" : "X", k,
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
		say("\nrunbook %lld finished: ciscope runbook report %lld\n", (long long)s->id,
		    (long long)s->id);
	else if (!strcmp(e.kind, "stopped"))
		say("\nrunbook %lld stopped (%s): continue with ciscope runbook resume %lld\n",
		    (long long)s->id, e.why, (long long)s->id);
	else
		say("\nrunbook %lld aborted\n", (long long)s->id);
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

static int64_t parse_id(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	return *s && !*end && v > 0 ? v : -1;
}

static int rb_run(struct cli *c, int argc, char **argv, bool resume)
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
			rc = exit_for(&err);
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
			rc = exit_for(&err);
			goto out;
		}
		if (mode == MODE_DRY) {
			rc = dry_run(c, &s);
			goto out;
		}
		say("runbook %lld: ", (long long)s.id);
		say("%s", s.rb.title);
		say(" (%s, %s)\n", s.rb.path, modename);
		rc = run_steps(c, &s, mode, 1);
		goto out;
	}
	int64_t id = parse_id(argv[optind]);
	if (id < 0) {
		cli_error("runbook resume: '%s' is not an instance id", argv[optind]);
		rc = EXIT_USAGE;
		goto out;
	}
	struct rb_instance inst;
	if (rbstore_get(c->st, id, &inst, NULL, NULL, &err) < 0) {
		cli_error("%s", err.msg);
		rc = exit_for(&err);
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
		say("(%s; using the text recorded when the runbook started)\n", e2.msg);
		text = xstrndup(inst.source, inst.source_len);
		tn = inst.source_len;
	}
	struct buf now = BUF_INIT;
	rbstore_step_list(&rb, &now);
	if (strcmp(buf_cstr(&now), inst.steps)) {
		say("the runbook's steps changed since runbook %lld started (added, removed, renamed "
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
		say("(the runbook was edited inside its steps since it started: running the new text)\n");
	}
	buf_release(&now);
	rb_instance_free(&inst);
	int from;
	if (rb_session_resume(&s, c->st, id, &rb, text, tn, &vars, modename, &from, &err) < 0) {
		cli_error("%s", err.msg);
		rc = exit_for(&err);
		goto out;
	}
	if (from > s.rb.n_steps) {
		say("runbook %lld: every step is done\n", (long long)id);
		err_clear(&err);
		rb_session_end(&s, "finished", NULL, &err);
		goto out;
	}
	if (s.orphan_pgid) {
		say("warning: the interrupted step %d's processes (group %d) are still running: let "
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
	say("runbook %lld: resuming ", (long long)id);
	say("%s", s.rb.title);
	say(" at step %d of %d\n", from, s.rb.n_steps);
	rc = run_steps(c, &s, mode, from);
out:
	rb_session_release(&s);
	rb_vars_release(&vars);
	free(top);
	return rc;
}

/* --- note, log, report --------------------------------------------------------------------------- */
static int rb_note_cmd(struct cli *c, int argc, char **argv)
{
	if (argc != 3) {
		cli_error("runbook note: give an instance id and the text");
		return cli_bad_usage("runbook");
	}
	int64_t id = parse_id(argv[1]);
	if (id < 0) {
		cli_error("runbook note: '%s' is not an instance id", argv[1]);
		return EXIT_USAGE;
	}
	if (!*argv[2]) {
		cli_error("runbook note: the note is empty");
		return EXIT_USAGE;
	}
	if (!cli_open(c, true))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct rb_instance inst;
	if (rbstore_get(c->st, id, &inst, NULL, NULL, &err) < 0) {
		cli_error("%s", err.msg);
		return exit_for(&err);
	}
	rb_instance_free(&inst);
	struct buf who = BUF_INIT;
	gitrepo_user_name(&who);
	int rc = rb_note(c->st, id, argv[2], who.data, &err);
	buf_release(&who);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	say("note added to runbook %lld\n", (long long)id);
	return EXIT_OK;
}

static void time_hms(int64_t ms, char *out, size_t n)
{
	char iso[40];
	time_format_iso(ms, iso, sizeof(iso));
	/* 2026-11-21T12:00:00Z -> 12:00:00 */
	snprintf(out, n, "%.8s", strlen(iso) >= 19 ? iso + 11 : iso);
}

struct list_ctx {
	struct cli *c;
	struct buf b;
	bool json;
	int n;
};

static int list_one(void *vctx, const struct rb_instance *inst, int n_events, int64_t last_at)
{
	struct list_ctx *x = vctx;
	struct buf *b = &x->b;
	if (x->json) {
		buf_adds(b, x->n++ ? ",{" : "{");
		buf_addf(b, "\"id\":%lld,\"runbook\":", (long long)inst->id);
		json_str(b, inst->runbook);
		buf_adds(b, ",\"title\":");
		json_str(b, inst->title);
		buf_adds(b, ",\"hash\":");
		json_str(b, inst->hash);
		buf_adds(b, ",\"started_at\":");
		json_time(b, inst->started_at);
		buf_adds(b, ",\"by\":");
		json_str(b, inst->started_by);
		buf_adds(b, ",\"bound\":{\"run\":");
		if (inst->bound_run)
			buf_addf(b, "%lld", (long long)inst->bound_run);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"sha\":");
		json_str(b, inst->bound_sha);
		buf_adds(b, "},\"state\":");
		json_str(b, inst->state);
		buf_addf(b, ",\"events\":%d,\"last_at\":", n_events);
		json_time(b, last_at);
		buf_adds(b, "}");
		return 0;
	}
	char when[40];
	time_format_age(inst->started_at, time_now_ms(), when, sizeof(when));
	if (!x->n++)
		buf_adds(b, "    ID  STATE        RUNBOOK               STARTED     BY              BOUND\n");
	buf_addf(b, "%6lld  %-11s  ", (long long)inst->id, inst->state);
	struct buf t = BUF_INIT;
	cli_put_text(&t, inst->runbook);
	buf_addf(b, "%-20.20s  %-10s  ", buf_cstr(&t), when);
	buf_reset(&t);
	cli_put_text(&t, inst->started_by);
	buf_addf(b, "%-14.14s  ", buf_cstr(&t));
	buf_release(&t);
	if (inst->bound_run) {
		buf_addf(b, "run %lld ", (long long)inst->bound_run);
		short_sha(b, inst->bound_sha);
	} else {
		buf_adds(b, "-");
	}
	buf_addc(b, '\n');
	return 0;
}

static void json_event(struct buf *b, const struct rb_event *e)
{
	buf_adds(b, "{\"at\":");
	json_time(b, e->at);
	buf_addf(b, ",\"seq\":%lld,\"kind\":", (long long)e->seq);
	json_str(b, e->kind);
	buf_adds(b, ",\"step\":");
	if (e->step)
		buf_addf(b, "%d", e->step);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"step_name\":");
	json_str(b, e->step_name);
	buf_adds(b, ",\"attempt\":");
	if (e->attempt)
		buf_addf(b, "%d", e->attempt);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"command\":");
	json_str(b, e->command);
	buf_adds(b, ",\"exit\":");
	if (e->exit != RB_NO_EXIT)
		buf_addf(b, "%d", e->exit);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"duration_ms\":");
	json_ms(b, e->duration_ms);
	buf_adds(b, ",\"status\":");
	json_str(b, e->status);
	buf_adds(b, ",\"output\":");
	if (e->output)
		buf_add_json_str(b, e->output, e->output_len);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"output_size\":");
	if (e->output_size >= 0)
		buf_addf(b, "%lld", (long long)e->output_size);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"vars\":");
	buf_adds(b, e->vars ? e->vars : "{}");
	buf_adds(b, ",\"text\":");
	json_str(b, e->text);
	buf_adds(b, ",\"by\":");
	json_str(b, e->by);
	buf_adds(b, "}");
}

static void text_event(struct buf *b, const struct rb_event *e, int max_lines)
{
	char t[16];
	time_hms(e->at, t, sizeof(t));
	buf_addf(b, "  %s  ", t);
	if (e->step)
		buf_addf(b, "step %d ", e->step);
	if (e->step_name) {
		cli_put_text(b, e->step_name);
		buf_addc(b, ' ');
	}
	cli_put_text(b, e->kind);
	if (e->attempt)
		buf_addf(b, " %d", e->attempt);
	if (e->status) {
		buf_addc(b, ' ');
		cli_put_text(b, e->status);
	}
	if (e->exit != RB_NO_EXIT)
		buf_addf(b, " exit %d", e->exit);
	if (e->duration_ms != CS_TIME_NONE) {
		char d[32];
		time_format_duration(e->duration_ms, d, sizeof(d));
		buf_addf(b, " (%s)", e->duration_ms < 1000 ? "<1s" : d);
	}
	if (e->by && (!strcmp(e->kind, "note") || !strcmp(e->kind, "started") ||
		      !strcmp(e->kind, "resumed"))) {
		buf_adds(b, " by ");
		cli_put_text(b, e->by);
	}
	if (e->text) {
		buf_adds(b, ": ");
		cli_put_text(b, e->text);
	}
	buf_addc(b, '\n');
	if (e->command)
		indent(b, e->command, "            $ ");
	if (e->vars && strcmp(e->kind, "step-start")) {
		buf_adds(b, "            vars ");
		cli_put_text(b, e->vars);
		buf_addc(b, '\n');
	}
	if (e->output && e->output_len) {
		int lines = 0;
		const char *p = e->output;
		const char *end = e->output + e->output_len;
		while (p < end && lines < max_lines) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			buf_adds(b, "            | ");
			sanitize_append(b, p, n, SAN_KEEP_TAB);
			buf_addc(b, '\n');
			p += n + (nl ? 1 : 0);
			lines++;
		}
		if (p < end) {
			int more = 0;
			for (const char *q = p; q < end; q++)
				more += *q == '\n';
			buf_addf(b, "            | ... %d more line%s (--json has all)\n", more + 1,
				 more ? "s" : "");
		}
	}
}

static int rb_log(struct cli *c, int argc, char **argv)
{
	bool json = false;
	const char *ids = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!ids && argv[i][0] != '-')
			ids = argv[i];
		else {
			cli_error("runbook log: unexpected '%s'", argv[i]);
			return cli_bad_usage("runbook");
		}
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	if (!ids) {
		struct list_ctx x = {c, BUF_INIT, json, 0};
		if (json)
			buf_addc(&x.b, '[');
		if (rbstore_list(c->st, 0, list_one, &x, &err) < 0) {
			buf_release(&x.b);
			cli_error("%s", err.msg);
			return EXIT_ERROR;
		}
		if (json)
			buf_adds(&x.b, "]\n");
		else if (!x.n)
			buf_adds(&x.b, "no runbook has run with this index (ciscope runbook list)\n");
		out_flush(&x.b);
		buf_release(&x.b);
		return EXIT_OK;
	}
	int64_t id = parse_id(ids);
	if (id < 0) {
		cli_error("runbook log: '%s' is not an instance id", ids);
		return EXIT_USAGE;
	}
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	if (rbstore_get(c->st, id, &inst, &evs, &n, &err) < 0) {
		cli_error("%s", err.msg);
		return exit_for(&err);
	}
	struct buf b = BUF_INIT;
	if (json) {
		buf_addf(&b, "{\"id\":%lld,\"runbook\":", (long long)inst.id);
		json_str(&b, inst.runbook);
		buf_adds(&b, ",\"title\":");
		json_str(&b, inst.title);
		buf_adds(&b, ",\"path\":");
		json_str(&b, inst.path);
		buf_adds(&b, ",\"hash\":");
		json_str(&b, inst.hash);
		buf_adds(&b, ",\"started_at\":");
		json_time(&b, inst.started_at);
		buf_adds(&b, ",\"by\":");
		json_str(&b, inst.started_by);
		buf_adds(&b, ",\"bound\":{\"run\":");
		if (inst.bound_run)
			buf_addf(&b, "%lld", (long long)inst.bound_run);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"sha\":");
		json_str(&b, inst.bound_sha);
		buf_adds(&b, ",\"url\":");
		json_str(&b, inst.bound_url);
		buf_adds(&b, "},\"head_sha\":");
		json_str(&b, inst.head_sha);
		buf_adds(&b, ",\"repo\":");
		json_str(&b, inst.repo);
		buf_adds(&b, ",\"mode\":");
		json_str(&b, inst.mode);
		buf_adds(&b, ",\"state\":");
		json_str(&b, inst.state);
		buf_adds(&b, ",\"events\":[");
		for (int i = 0; i < n; i++) {
			if (i)
				buf_addc(&b, ',');
			json_event(&b, &evs[i]);
		}
		buf_adds(&b, "]}\n");
	} else {
		buf_addf(&b, "runbook %lld: ", (long long)inst.id);
		cli_put_text(&b, inst.title);
		buf_adds(&b, " (");
		cli_put_text(&b, inst.path);
		buf_addf(&b, ") \xc2\xb7 %s\n", inst.state);
		char iso[40];
		time_format_iso(inst.started_at, iso, sizeof(iso));
		buf_addf(&b, "started %s by ", iso);
		cli_put_text(&b, inst.started_by);
		buf_adds(&b, " \xc2\xb7 HEAD ");
		short_sha(&b, inst.head_sha);
		if (inst.bound_run) {
			buf_addf(&b, " \xc2\xb7 bound to run %lld at ", (long long)inst.bound_run);
			short_sha(&b, inst.bound_sha);
		}
		buf_addc(&b, '\n');
		for (int i = 0; i < n; i++)
			text_event(&b, &evs[i], 20);
	}
	out_flush(&b);
	buf_release(&b);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	return EXIT_OK;
}

/* --- the incident report ------------------------------------------------------------------------- */
/* Text for a Markdown document: no escape sequences or controls. */
static void md_text(struct buf *b, const char *s, size_t n)
{
	sanitize_append(b, s, n, SAN_KEEP_TAB);
}

static void md_inline(struct buf *b, const char *s)
{
	/* characters that would turn a title into markup */
	struct buf t = BUF_INIT;
	md_text(&t, s ? s : "", s ? strlen(s) : 0);
	for (size_t i = 0; i < t.len; i++) {
		char ch = t.data[i];
		if (strchr("\\`*_[]<>|#", ch))
			buf_addc(b, '\\');
		buf_addc(b, ch);
	}
	buf_release(&t);
}

static void md_fence(struct buf *b, const char *s, size_t n, const char *lang, const char *pfx)
{
	/* a fence longer than any run of backticks inside */
	int run = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		longest = MAX(longest, run);
	}
	int f = MAX(3, longest + 1);
	buf_adds(b, pfx);
	for (int i = 0; i < f; i++)
		buf_addc(b, '`');
	buf_adds(b, lang);
	buf_addc(b, '\n');
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		buf_adds(b, pfx);
		md_text(b, p, ln);
		buf_addc(b, '\n');
		p += ln + (nl ? 1 : 0);
	}
	buf_adds(b, pfx);
	for (int i = 0; i < f; i++)
		buf_addc(b, '`');
	buf_addc(b, '\n');
}

static void commit_link(struct buf *b, const char *repo, const char *sha)
{
	if (!sha || !*sha) {
		buf_adds(b, "-");
		return;
	}
	bool hex = strspn(sha, "0123456789abcdef") == strlen(sha);
	if (repo && strchr(repo, '/') && hex)
		buf_addf(b, "[`%.7s`](https://github.com/%s/commit/%s)", sha, repo, sha);
	else if (hex)
		buf_addf(b, "`%.7s`", sha);
	else
		md_inline(b, sha);
}

static int count_lines(const char *s, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k + (n && s[n - 1] != '\n');
}

static int rb_report(struct cli *c, int argc, char **argv)
{
	const char *ids = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format")) {
			if (i + 1 >= argc || strcmp(argv[i + 1], "md")) {
				cli_error("runbook report: --format md is the format there is");
				return EXIT_USAGE;
			}
			i++;
		} else if (!strcmp(argv[i], "--format=md")) {
			/* the default */
		} else if (!ids && argv[i][0] != '-') {
			ids = argv[i];
		} else {
			cli_error("runbook report: unexpected '%s'", argv[i]);
			return cli_bad_usage("runbook");
		}
	}
	int64_t id = ids ? parse_id(ids) : -1;
	if (id < 0) {
		cli_error("runbook report: name an instance id (ciscope runbook log)");
		return EXIT_USAGE;
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	if (rbstore_get(c->st, id, &inst, &evs, &n, &err) < 0) {
		cli_error("%s", err.msg);
		return exit_for(&err);
	}
	struct runbook rb;
	struct cs_err e2;
	err_clear(&e2);
	bool have_rb = runbook_parse(inst.path, inst.source, inst.source_len, &rb, &e2) == 0;
	struct buf b = BUF_INIT;
	char iso[40];
	buf_adds(&b, "# Incident report: ");
	md_inline(&b, inst.title);
	buf_addc(&b, '\n');
	buf_addc(&b, '\n');
	time_format_iso(inst.started_at, iso, sizeof(iso));
	buf_addf(&b, "- Runbook: `%s` (", inst.runbook);
	md_inline(&b, inst.path);
	buf_addf(&b, ", version %s), instance %lld\n", inst.hash, (long long)inst.id);
	buf_addf(&b, "- Started: %s by ", iso);
	md_inline(&b, inst.started_by);
	buf_addf(&b, " (%s mode)\n", inst.mode);
	if (n) {
		time_format_iso(evs[n - 1].at, iso, sizeof(iso));
		buf_addf(&b, "- State: %s (last event %s)\n", inst.state, iso);
	}
	buf_adds(&b, "- Repository: ");
	md_inline(&b, inst.repo ? inst.repo : "-");
	buf_adds(&b, "\n\n## Commits\n\n");
	buf_adds(&b, "- Checkout HEAD when it started: ");
	commit_link(&b, inst.repo, inst.head_sha);
	buf_addc(&b, '\n');
	if (inst.bound_run) {
		buf_addf(&b, "- Bound run: ");
		if (inst.bound_url)
			buf_addf(&b, "[%lld](%s)", (long long)inst.bound_run, inst.bound_url);
		else
			buf_addf(&b, "%lld", (long long)inst.bound_run);
		buf_adds(&b, " at ");
		commit_link(&b, inst.repo, inst.bound_sha);
		buf_addc(&b, '\n');
	}
	/* every commit and run the steps used: last good, failing, baseline */
	struct rb_vars seen = {0};
	for (int i = 0; i < n; i++) {
		if (!evs[i].vars)
			continue;
		const char *p = evs[i].vars;
		/* a tiny walk over {"k":"v",...}: our own JSON, keys are names */
		while ((p = strchr(p, '"'))) {
			const char *ke = strchr(p + 1, '"');
			if (!ke || ke[1] != ':' || ke[2] != '"')
				break;
			char *key = xstrndup(p + 1, (size_t)(ke - p - 1));
			const char *vs = ke + 3;
			struct buf v = BUF_INIT;
			for (; *vs && *vs != '"'; vs++) {
				if (*vs == '\\' && vs[1])
					vs++;
				buf_addc(&v, *vs);
			}
			if ((str_ends(key, "_sha") || str_ends(key, "_run")) && !rb_vars_get(&seen, key))
				rb_vars_set(&seen, key, buf_cstr(&v), RBV_RECORDED, false);
			buf_release(&v);
			free(key);
			p = *vs ? vs + 1 : vs;
		}
	}
	for (int i = 0; i < seen.n; i++) {
		buf_adds(&b, "- ");
		md_inline(&b, seen.v[i].name);
		buf_adds(&b, ": ");
		if (str_ends(seen.v[i].name, "_sha")) {
			commit_link(&b, inst.repo, seen.v[i].value);
		} else if (inst.repo && strchr(inst.repo, '/') &&
			   strspn(seen.v[i].value, "0123456789:") == strlen(seen.v[i].value)) {
			buf_addf(&b, "[%s](https://github.com/%s/actions/runs/%.*s)", seen.v[i].value,
				 inst.repo, (int)strcspn(seen.v[i].value, ":"), seen.v[i].value);
		} else {
			md_inline(&b, seen.v[i].value);
		}
		buf_addc(&b, '\n');
	}
	rb_vars_release(&seen);

	/* the failing run: the bound one */
	if (inst.bound_run) {
		char spec[48];
		snprintf(spec, sizeof(spec), "%lld:%d", (long long)inst.bound_run, inst.bound_attempt);
		struct run r;
		err_clear(&e2);
		if (store_find_run(c->st, spec, &r, &e2) == 0) {
			buf_adds(&b, "\n## The bound run\n\n");
			buf_addf(&b, "Run %lld", (long long)r.provider_id);
			if (r.attempt > 1)
				buf_addf(&b, " (attempt %d)", r.attempt);
			buf_adds(&b, " of ");
			md_inline(&b, r.workflow);
			buf_adds(&b, " on ");
			md_inline(&b, r.branch);
			buf_addf(&b, ": %s. ", run_state(&r));
			md_inline(&b, r.title);
			buf_addc(&b, '\n');
			struct rb_index_ctx ic = {0};
			ic.st = c->st;
			run_copy(&ic.bound, &r);
			ic.have_bound = true;
			struct buf sum = BUF_INIT;
			err_clear(&e2);
			if (rb_index_resolve(&ic, "triage_summary", &sum, &e2) > 0) {
				buf_adds(&b, "\nTriage:\n\n");
				const char *p = sum.data;
				while (p && *p) {
					const char *nl = strchr(p, '\n');
					size_t ln = nl ? (size_t)(nl - p) : strlen(p);
					char *line = xstrndup(p, ln);
					buf_adds(&b, "- ");
					md_inline(&b, line);
					buf_addc(&b, '\n');
					free(line);
					p += ln + (nl ? 1 : 0);
				}
			}
			buf_release(&sum);
			rb_index_ctx_release(&ic);
			run_free(&r);
		}
	}

	buf_adds(&b, "\n## Timeline\n\n");
	for (int i = 0; i < n; i++) {
		const struct rb_event *e = &evs[i];
		time_format_iso(e->at, iso, sizeof(iso));
		buf_addf(&b, "- **%s** ", iso);
		const char *title = have_rb && e->step >= 1 && e->step <= rb.n_steps
					    ? rb.steps[e->step - 1].title
					    : e->step_name;
		if (!strcmp(e->kind, "started") || !strcmp(e->kind, "resumed")) {
			buf_addf(&b, "%s by ", e->kind);
			md_inline(&b, e->by);
			if (e->text)
				buf_addf(&b, " (%s)", e->text);
		} else if (!strcmp(e->kind, "note")) {
			buf_adds(&b, "note by ");
			md_inline(&b, e->by);
			buf_adds(&b, ": ");
			md_inline(&b, e->text);
		} else if (e->step) {
			buf_addf(&b, "step %d, ", e->step);
			md_inline(&b, title);
			buf_adds(&b, ": ");
			if (!strcmp(e->kind, "step-start"))
				buf_adds(&b, "started");
			else if (!strcmp(e->kind, "attempt"))
				buf_addf(&b, "attempt %d %s", e->attempt, e->status ? e->status : "");
			else if (!strcmp(e->kind, "step-end"))
				buf_addf(&b, "%s", e->status ? e->status : "ended");
			else
				md_inline(&b, e->kind);
			if (e->exit != RB_NO_EXIT)
				buf_addf(&b, ", exit %d", e->exit);
			if (e->duration_ms != CS_TIME_NONE) {
				char d[32];
				time_format_duration(e->duration_ms, d, sizeof(d));
				buf_addf(&b, ", %s", e->duration_ms < 1000 ? "<1s" : d);
			}
			if (e->text && strcmp(e->kind, "note")) {
				buf_adds(&b, " (");
				md_inline(&b, e->text);
				buf_adds(&b, ")");
			}
		} else {
			md_inline(&b, e->kind);
			if (e->text) {
				buf_adds(&b, ": ");
				md_inline(&b, e->text);
			}
		}
		buf_addc(&b, '\n');
		if (e->command) {
			buf_addc(&b, '\n');
			md_fence(&b, e->command, strlen(e->command), "sh", "  ");
		}
		if (e->output && e->output_len) {
			int lines = count_lines(e->output, e->output_len);
			buf_addf(&b, "\n  <details><summary>output: %d line%s", lines, lines == 1 ? "" : "s");
			if (e->output_size > (int64_t)(RB_PROC_KEEP_HEAD + RB_PROC_KEEP_TAIL))
				buf_addf(&b, " (of %lld bytes, capped)", (long long)e->output_size);
			buf_adds(&b, "</summary>\n\n");
			md_fence(&b, e->output, e->output_len, "", "  ");
			buf_adds(&b, "\n  </details>\n");
		}
		if (e->command || (e->output && e->output_len))
			buf_addc(&b, '\n');
	}
	buf_adds(&b, "\n## Operator notes\n\n");
	int notes = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(evs[i].kind, "note")) {
			time_format_iso(evs[i].at, iso, sizeof(iso));
			buf_addf(&b, "- %s, ", iso);
			md_inline(&b, evs[i].by);
			buf_adds(&b, ": ");
			md_inline(&b, evs[i].text);
			buf_addc(&b, '\n');
			notes++;
		}
	if (!notes)
		buf_adds(&b, "None.\n");
	if (have_rb) {
		for (int i = 0; i < rb.n_report_sections; i++) {
			buf_adds(&b, "\n## ");
			md_inline(&b, rb.report_sections[i]);
			bool items = strcasestr(rb.report_sections[i], "action") != NULL;
			buf_adds(&b, items ? "\n\n- [ ] \n" : "\n\n_To be written._\n");
		}
		runbook_free(&rb);
	}
	out_flush(&b);
	buf_release(&b);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	return EXIT_OK;
}

int cmd_runbook(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_command_usage("runbook", argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	bool json = false;
	if (!strcmp(sub, "list") || !strcmp(sub, "show")) {
		const char *name = NULL;
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				json = true;
			else if (!name && argv[i][0] != '-')
				name = argv[i];
			else {
				cli_error("runbook %s: unexpected '%s'", sub, argv[i]);
				return cli_bad_usage("runbook");
			}
		}
		if (!strcmp(sub, "list")) {
			if (name) {
				cli_error("runbook list: takes no name");
				return cli_bad_usage("runbook");
			}
			return rb_list(c, json);
		}
		if (!name) {
			cli_error("runbook show: name a runbook (ciscope runbook list)");
			return cli_bad_usage("runbook");
		}
		return rb_show(c, name, json);
	}
	if (!strcmp(sub, "run"))
		return rb_run(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "resume"))
		return rb_run(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "note"))
		return rb_note_cmd(c, argc - 1, argv + 1);
	if (!strcmp(sub, "log"))
		return rb_log(c, argc - 1, argv + 1);
	if (!strcmp(sub, "report"))
		return rb_report(c, argc - 1, argv + 1);
	cli_error("runbook: '%s' is not a runbook command (list, show, run, resume, note, log, report)",
		  sub);
	return cli_bad_usage("runbook");
}
