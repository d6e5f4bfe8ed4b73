/* rbreport.c - `ciscope runbook report`: the incident report of a runbook
 * instance as Markdown, from its journal (core/rbstore.h).
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

int rbc_report(struct cli *c, int argc, char **argv)
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
	int64_t id = ids ? rbc_parse_id(ids) : -1;
	if (id < 0) {
		cli_error("runbook report: name an instance id (ciscope runbook log)");
		return EXIT_USAGE;
	}
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	int got = rbc_open_get(c, false, id, &inst, &evs, &n);
	if (got != EXIT_OK)
		return got;
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
	rbc_out_flush(&b);
	buf_release(&b);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	return EXIT_OK;
}
