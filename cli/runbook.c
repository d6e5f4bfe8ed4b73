/* runbook.c - `ciscope runbook`: list, show, note, log and the command's
 * dispatch, with the helpers its parts share (cli/rbcli.h); run and resume
 * are cli/rbrun.c, report cli/rbreport.c (core/runbook.h,
 * core/rbsession.h, core/rbstore.h).
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

/* Sanitised text with its newlines kept. */
void rbc_put_lines(struct buf *b, const char *s, size_t n)
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

void rbc_fmt_ms(struct buf *b, int64_t ms)
{
	if (ms % 1000)
		buf_addf(b, "%lldms", (long long)ms);
	else
		buf_addf(b, "%llds", (long long)(ms / 1000));
}

void rbc_out_flush(struct buf *b)
{
	fwrite(b->data ? b->data : "", 1, b->len, stdout);
	buf_reset(b);
	fflush(stdout);
}

void rbc_short_sha(struct buf *b, const char *sha)
{
	if (!sha || !*sha)
		buf_adds(b, "-");
	else
		buf_addf(b, "%.7s", sha);
}

int64_t rbc_parse_id(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	return *s && !*end && v > 0 ? v : -1;
}

int rbc_open_get(struct cli *c, bool write, int64_t id, struct rb_instance *inst,
		 struct rb_event **evs, int *n)
{
	if (!cli_open(c, write))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	if (rbstore_get(c->st, id, inst, evs, n, &err) < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(&err, EXIT_ERROR);
	}
	return EXIT_OK;
}

void rbc_say(const char *fmt, ...)
{
	struct buf raw = BUF_INIT, safe = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	/* line by line: the newlines are ours, the text between may not be */
	rbc_put_lines(&safe, raw.data, raw.len);
	fwrite(safe.data ? safe.data : "", 1, safe.len, stdout);
	fflush(stdout);
	buf_release(&raw);
	buf_release(&safe);
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
			cli_json_str(&b, src[i].name);
			buf_adds(&b, ",\"title\":");
			cli_json_str(&b, src[i].title);
			buf_adds(&b, ",\"path\":");
			cli_json_str(&b, src[i].path);
			buf_addf(&b, ",\"builtin\":%s,\"overrides_builtin\":%s,\"error\":",
				 src[i].builtin ? "true" : "false", src[i].overrides ? "true" : "false");
			cli_json_str(&b, src[i].error);
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
	rbc_out_flush(&b);
	buf_release(&b);
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += src[i].error != NULL;
	rb_sources_free(src, n);
	return bad ? EXIT_ERROR : EXIT_OK;
}

void rbc_step_attrs(struct buf *b, const struct rb_step *s)
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
		rbc_fmt_ms(b, s->timeout_ms);
	}
	if (s->retry > 1) {
		buf_addf(b, " retry=%d interval=", s->retry);
		rbc_fmt_ms(b, s->interval_ms);
		buf_addf(b, " until-exit=%d", s->until_exit);
	}
	if (s->capture) {
		buf_adds(b, " capture=");
		cli_put_text(b, s->capture);
	}
}

void rbc_indent(struct buf *b, const char *text, const char *pfx)
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
	cli_json_str(b, s->name);
	buf_adds(b, ",\"title\":");
	cli_json_str(b, s->title);
	buf_adds(b, ",\"prose\":");
	cli_json_str(b, s->prose);
	buf_adds(b, ",\"command\":");
	cli_json_str(b, s->command);
	buf_addf(b, ",\"manual\":%s,\"cwd\":", s->manual ? "true" : "false");
	cli_json_str(b, s->cwd);
	buf_addf(b, ",\"background\":%s,\"confirm\":%s,\"confirm_text\":",
		 s->background ? "true" : "false", s->confirm ? "true" : "false");
	cli_json_str(b, s->confirm_text);
	buf_addf(b, ",\"sensitive\":%s,\"timeout_ms\":%lld,\"retry\":%d,\"interval_ms\":%lld,"
		    "\"until_exit\":%d,\"capture\":",
		 s->sensitive ? "true" : "false", (long long)s->timeout_ms, s->retry,
		 (long long)s->interval_ms, s->until_exit);
	cli_json_str(b, s->capture);
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
		return cli_exit_for(&err, EXIT_ERROR);
	}
	free(text);
	struct buf b = BUF_INIT;
	if (json) {
		buf_adds(&b, "{\"name\":");
		cli_json_str(&b, rb.name);
		buf_adds(&b, ",\"path\":");
		cli_json_str(&b, rb.path);
		buf_addf(&b, ",\"hash\":\"%s\",\"title\":", rb.hash);
		cli_json_str(&b, rb.title);
		buf_adds(&b, ",\"when\":");
		cli_json_str(&b, rb.when);
		buf_adds(&b, ",\"variables\":[");
		for (int i = 0; i < rb.n_vars; i++) {
			buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
			cli_json_str(&b, rb.vars[i].name);
			buf_adds(&b, ",\"description\":");
			cli_json_str(&b, rb.vars[i].description);
			buf_adds(&b, ",\"default\":");
			cli_json_str(&b, rb.vars[i].def);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "],\"report\":[");
		for (int i = 0; i < rb.n_report_sections; i++) {
			if (i)
				buf_addc(&b, ',');
			cli_json_str(&b, rb.report_sections[i]);
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
			rbc_step_attrs(&b, s);
			buf_adds(&b, "]\n");
			if (s->command)
				rbc_indent(&b, s->command, s->manual ? "    > " : "    $ ");
		}
	}
	rbc_out_flush(&b);
	buf_release(&b);
	runbook_free(&rb);
	return EXIT_OK;
}

/* --- note, log, report --------------------------------------------------------------------------- */
static int rb_note_cmd(struct cli *c, int argc, char **argv)
{
	if (argc != 3) {
		cli_error("runbook note: give an instance id and the text");
		return cli_bad_usage("runbook");
	}
	int64_t id = rbc_parse_id(argv[1]);
	if (id < 0) {
		cli_error("runbook note: '%s' is not an instance id", argv[1]);
		return EXIT_USAGE;
	}
	if (!*argv[2]) {
		cli_error("runbook note: the note is empty");
		return EXIT_USAGE;
	}
	struct rb_instance inst;
	int got = rbc_open_get(c, true, id, &inst, NULL, NULL);
	if (got != EXIT_OK)
		return got;
	rb_instance_free(&inst);
	struct cs_err err;
	err_clear(&err);
	struct buf who = BUF_INIT;
	gitrepo_user_name(&who);
	int rc = rb_note(c->st, id, argv[2], who.data, &err);
	buf_release(&who);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	rbc_say("note added to runbook %lld\n", (long long)id);
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
		cli_json_str(b, inst->runbook);
		buf_adds(b, ",\"title\":");
		cli_json_str(b, inst->title);
		buf_adds(b, ",\"hash\":");
		cli_json_str(b, inst->hash);
		buf_adds(b, ",\"started_at\":");
		cli_json_time(b, inst->started_at);
		buf_adds(b, ",\"by\":");
		cli_json_str(b, inst->started_by);
		buf_adds(b, ",\"bound\":{\"run\":");
		if (inst->bound_run)
			buf_addf(b, "%lld", (long long)inst->bound_run);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"sha\":");
		cli_json_str(b, inst->bound_sha);
		buf_adds(b, "},\"state\":");
		cli_json_str(b, inst->state);
		buf_addf(b, ",\"events\":%d,\"last_at\":", n_events);
		cli_json_time(b, last_at);
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
		rbc_short_sha(b, inst->bound_sha);
	} else {
		buf_adds(b, "-");
	}
	buf_addc(b, '\n');
	return 0;
}

static void json_event(struct buf *b, const struct rb_event *e)
{
	buf_adds(b, "{\"at\":");
	cli_json_time(b, e->at);
	buf_addf(b, ",\"seq\":%lld,\"kind\":", (long long)e->seq);
	cli_json_str(b, e->kind);
	buf_adds(b, ",\"step\":");
	if (e->step)
		buf_addf(b, "%d", e->step);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"step_name\":");
	cli_json_str(b, e->step_name);
	buf_adds(b, ",\"attempt\":");
	if (e->attempt)
		buf_addf(b, "%d", e->attempt);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"command\":");
	cli_json_str(b, e->command);
	buf_adds(b, ",\"exit\":");
	if (e->exit != RB_NO_EXIT)
		buf_addf(b, "%d", e->exit);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"duration_ms\":");
	cli_json_ms(b, e->duration_ms);
	buf_adds(b, ",\"status\":");
	cli_json_str(b, e->status);
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
	cli_json_str(b, e->text);
	buf_adds(b, ",\"by\":");
	cli_json_str(b, e->by);
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
		rbc_indent(b, e->command, "            $ ");
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
		rbc_out_flush(&x.b);
		buf_release(&x.b);
		return EXIT_OK;
	}
	int64_t id = rbc_parse_id(ids);
	if (id < 0) {
		cli_error("runbook log: '%s' is not an instance id", ids);
		return EXIT_USAGE;
	}
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	if (rbstore_get(c->st, id, &inst, &evs, &n, &err) < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(&err, EXIT_ERROR);
	}
	struct buf b = BUF_INIT;
	if (json) {
		buf_addf(&b, "{\"id\":%lld,\"runbook\":", (long long)inst.id);
		cli_json_str(&b, inst.runbook);
		buf_adds(&b, ",\"title\":");
		cli_json_str(&b, inst.title);
		buf_adds(&b, ",\"path\":");
		cli_json_str(&b, inst.path);
		buf_adds(&b, ",\"hash\":");
		cli_json_str(&b, inst.hash);
		buf_adds(&b, ",\"started_at\":");
		cli_json_time(&b, inst.started_at);
		buf_adds(&b, ",\"by\":");
		cli_json_str(&b, inst.started_by);
		buf_adds(&b, ",\"bound\":{\"run\":");
		if (inst.bound_run)
			buf_addf(&b, "%lld", (long long)inst.bound_run);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"sha\":");
		cli_json_str(&b, inst.bound_sha);
		buf_adds(&b, ",\"url\":");
		cli_json_str(&b, inst.bound_url);
		buf_adds(&b, "},\"head_sha\":");
		cli_json_str(&b, inst.head_sha);
		buf_adds(&b, ",\"repo\":");
		cli_json_str(&b, inst.repo);
		buf_adds(&b, ",\"mode\":");
		cli_json_str(&b, inst.mode);
		buf_adds(&b, ",\"state\":");
		cli_json_str(&b, inst.state);
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
		buf_addf(&b, ")%s%s\n", cli_sep(c), inst.state);
		char iso[40];
		time_format_iso(inst.started_at, iso, sizeof(iso));
		buf_addf(&b, "started %s by ", iso);
		cli_put_text(&b, inst.started_by);
		buf_addf(&b, "%sHEAD ", cli_sep(c));
		rbc_short_sha(&b, inst.head_sha);
		if (inst.bound_run) {
			buf_addf(&b, "%sbound to run %lld at ", cli_sep(c), (long long)inst.bound_run);
			rbc_short_sha(&b, inst.bound_sha);
		}
		buf_addc(&b, '\n');
		for (int i = 0; i < n; i++)
			text_event(&b, &evs[i], 20);
	}
	rbc_out_flush(&b);
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
	/* getopt names argv[0] in its errors: "ciscope: runbook run: ..." */
	static char prog[64];
	snprintf(prog, sizeof(prog), "ciscope: runbook %.40s", sub);
	argv[1] = prog;
	if (!strcmp(sub, "run"))
		return rbc_run(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "resume"))
		return rbc_run(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "note"))
		return rb_note_cmd(c, argc - 1, argv + 1);
	if (!strcmp(sub, "log"))
		return rb_log(c, argc - 1, argv + 1);
	if (!strcmp(sub, "report"))
		return rbc_report(c, argc - 1, argv + 1);
	cli_error("runbook: '%s' is not a runbook command (list, show, run, resume, note, log, report)",
		  sub);
	return cli_bad_usage("runbook");
}
