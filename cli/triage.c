/* triage.c - triage, rules, retriage, triage-state (core/triage.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/diff.h"
#include "core/gitrepo.h"
#include "core/rules.h"
#include "core/gitrepo.h"
#include "core/sanitize.h"
#include "core/triage.h"

/* The rules to use: a rules file named on the command line alone, else the
 * repository's and the built-in ones. Prints the error. */
static const struct ruleset *load_rules(const char *file, struct ruleset **owned)
{
	struct cs_err err;
	err_clear(&err);
	*owned = NULL;
	if (file) {
		*owned = ruleset_new();
		if (ruleset_add_file(*owned, file, &err) < 0) {
			cli_error("%s", err.msg);
			ruleset_free(*owned);
			*owned = NULL;
			return NULL;
		}
		return *owned;
	}
	const struct ruleset *rs = triage_rules(&err);
	if (!rs)
		cli_error("%s", err.msg);
	return rs;
}

/* Bring the cached triage up to date; a failure (a read-only index) only
 * warns: what is cached is still shown. */
static void ensure(struct cli *c, const struct ruleset *rs)
{
	struct cs_err err;
	err_clear(&err);
	int n;
	if (triage_ensure(c->st, rs, &n, &err) < 0)
		cli_error("cannot bring the triage up to date (%s): showing what the index holds",
			  err.msg);
}

/* --- triage ----------------------------------------------------------------------- */
struct hist_cache {
	struct triage_history *h;
	int n;
	size_t alloc;
};

static const struct triage_history *history(struct cli *c, struct hist_cache *hc,
					    const char *fp)
{
	for (int i = 0; i < hc->n; i++)
		if (!strcmp(hc->h[i].fingerprint, fp))
			return &hc->h[i];
	XGROW(hc->h, hc->alloc, (size_t)hc->n + 1);
	struct triage_history *h = &hc->h[hc->n];
	struct cs_err err;
	err_clear(&err);
	if (triage_history(c->st, fp, h, &err) < 0) {
		cli_error("%s", err.msg);
		triage_history_free(h);
		memset(h, 0, sizeof(*h));
		snprintf(h->fingerprint, sizeof(h->fingerprint), "%s", fp);
		h->state = xstrdup("new");
		h->set_at = h->first_at = h->last_at = CS_TIME_NONE;
	}
	hc->n++;
	return h;
}

static void json_seen(struct buf *b, int64_t run, int attempt, const char *sha, int64_t at)
{
	if (!run) {
		buf_adds(b, "null");
		return;
	}
	buf_addf(b, "{\"run\":%lld,\"attempt\":%d,\"sha\":", (long long)run, attempt);
	cli_json_str(b, sha);
	buf_adds(b, ",\"at\":");
	cli_json_time(b, at);
	buf_addc(b, '}');
}

static void json_evidence(struct buf *b, const struct triage_flaky_ev *e)
{
	buf_addf(b, "{\"kind\":\"%s\",\"workflow\":",
		 e->kind == FLAKY_SAME_COMMIT ? "same-commit" : "flip");
	cli_json_str(b, e->workflow);
	buf_adds(b, ",\"job\":");
	cli_json_str(b, e->job);
	buf_adds(b, ",\"branch\":");
	cli_json_str(b, e->branch);
	buf_adds(b, ",\"failed\":");
	json_seen(b, e->failed_run, e->failed_attempt, e->failed_sha, CS_TIME_NONE);
	buf_adds(b, ",\"passed\":");
	json_seen(b, e->passed_run, e->passed_attempt, e->passed_sha, CS_TIME_NONE);
	buf_adds(b, ",\"failed_again\":");
	json_seen(b, e->again_run, e->again_attempt, e->again_sha, CS_TIME_NONE);
	buf_addc(b, '}');
}

static void json_finding(struct buf *b, const struct triage_finding *f,
			 const struct triage_history *h, const struct run *r)
{
	buf_adds(b, "{\"job\":");
	cli_json_str(b, f->job_name);
	buf_addf(b, ",\"job_id\":%lld,\"step\":", (long long)f->job_provider_id);
	if (f->step_number)
		buf_addf(b, "%d", f->step_number);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"step_name\":");
	cli_json_str(b, f->step_name);
	if (f->line)
		buf_addf(b, ",\"line\":%lld,\"end_line\":%lld", (long long)f->line,
			 (long long)f->end_line);
	else
		buf_adds(b, ",\"line\":null,\"end_line\":null");
	buf_adds(b, ",\"category\":");
	cli_json_str(b, f->category);
	buf_addf(b, ",\"decision\":\"%s\",\"rule\":",
		 decision_name(history_decision(f->decision, h)));
	cli_json_str(b, f->rule);
	buf_adds(b, ",\"explain\":");
	cli_json_str(b, f->explain);
	buf_adds(b, ",\"severity\":");
	cli_json_str(b, f->severity);
	buf_adds(b, ",\"source\":");
	cli_json_str(b, f->source);
	buf_addf(b, ",\"fallback\":%s,\"weak\":%s,\"shown\":%s,\"title\":", f->fallback ? "true" : "false",
		 f->weak ? "true" : "false", f->shown ? "true" : "false");
	cli_json_str(b, f->title);
	buf_adds(b, ",\"test\":");
	cli_json_str(b, f->test_name);
	buf_addf(b, ",\"repeats\":%d,\"fingerprint\":\"%s\",\"excerpt\":[", f->repeats,
		 f->fingerprint);
	for (int i = 0; i < f->n_excerpt; i++) {
		if (i)
			buf_addc(b, ',');
		if (f->excerpt[i].line)
			buf_addf(b, "{\"line\":%lld,\"text\":", (long long)f->excerpt[i].line);
		else
			buf_adds(b, "{\"line\":null,\"text\":");
		cli_json_str(b, f->excerpt[i].text);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"first_seen\":");
	json_seen(b, h->first_run, h->first_attempt, h->first_sha, h->first_at);
	buf_adds(b, ",\"last_seen\":");
	json_seen(b, h->last_run, h->last_attempt, h->last_sha, h->last_at);
	buf_addf(b, ",\"occurrences\":%d,\"commits\":%d,\"branches\":[", h->n_runs, h->n_commits);
	for (int i = 0; i < h->n_branches; i++) {
		if (i)
			buf_addc(b, ',');
		cli_json_str(b, h->branches[i]);
	}
	buf_addf(b, "],\"new\":%s,\"flaky\":%s,\"deterministic\":%s,\"passed_since\":",
		 triage_is_new(h, r) ? "true" : "false", h->flaky ? "true" : "false",
		 h->deterministic ? "true" : "false");
	json_seen(b, h->passed_run, h->passed_attempt, h->passed_sha, CS_TIME_NONE);
	buf_adds(b, ",\"flaky_evidence\":[");
	for (int i = 0; i < h->n_evidence; i++) {
		if (i)
			buf_addc(b, ',');
		json_evidence(b, &h->evidence[i]);
	}
	buf_adds(b, "],\"state\":");
	cli_json_str(b, triage_state_word(h->state));
	buf_adds(b, ",\"note\":");
	cli_json_str(b, h->note);
	buf_adds(b, ",\"state_by\":");
	cli_json_str(b, h->set_by);
	buf_adds(b, ",\"state_at\":");
	cli_json_time(b, h->set_at);
	buf_addc(b, '}');
}

static void add_run_ref(struct buf *b, int64_t run, int attempt)
{
	char ref[RUN_REF_MAX];
	buf_adds(b, run_ref(ref, sizeof(ref), run, attempt));
}
static void text_finding(struct cli *c, struct buf *b, const struct triage_finding *f,
			 const struct triage_history *h, const struct run *r)
{
	const char *red = c->color ? "\033[31m" : "", *bold = c->color ? "\033[1m" : "";
	const char *dim = c->color ? "\033[2m" : "", *off = cli_reset(c);
	buf_addf(b, "  %s[", bold);
	cli_put_text(b, f->category);
	buf_adds(b, "]");
	buf_adds(b, off);
	buf_addc(b, ' ');
	cli_put_text(b, f->title);
	buf_addc(b, '\n');
	buf_adds(b, "    ");
	cli_put_text(b, f->rule);
	if (f->explain) {
		buf_adds(b, ": ");
		cli_put_text(b, f->explain);
	}
	buf_addc(b, '\n');
	enum decision d = history_decision(f->decision, h);
	if (d != f->decision)
		buf_adds(b, "    next: fix / investigate (it failed on every attempt: retrying will "
			    "not help)");
	else
		buf_addf(b, "    next: %s", decision_text(d));
	if (f->test_name) {
		buf_addf(b, "%stest ", cli_sep(c));
		cli_put_text(b, f->test_name);
	}
	buf_addc(b, '\n');
	buf_adds(b, "    ");
	if (f->step_number) {
		buf_addf(b, "step %d ", f->step_number);
		cli_put_text(b, f->step_name);
		buf_adds(b, cli_sep(c));
	}
	if (f->line == f->end_line && f->line)
		buf_addf(b, "line %lld%s", (long long)f->line, cli_sep(c));
	else if (f->line)
		buf_addf(b, "lines %lld-%lld%s", (long long)f->line, (long long)f->end_line, cli_sep(c));
	buf_addf(b, "fingerprint %s", f->fingerprint);
	if (f->repeats)
		buf_addf(b, "%s%d more like it", cli_sep(c), f->repeats);
	buf_addc(b, '\n');
	buf_addf(b, "    seen in %d run%s (%d commit%s)", h->n_runs, h->n_runs == 1 ? "" : "s",
		 h->n_commits, h->n_commits == 1 ? "" : "s");
	if (h->first_run) {
		buf_adds(b, " since ");
		buf_addf(b, "%.7s (run ", h->first_sha ? h->first_sha : "-");
		add_run_ref(b, h->first_run, h->first_attempt);
		buf_addc(b, ')');
	}
	if (h->last_run && (h->last_run != h->first_run || h->last_attempt != h->first_attempt)) {
		char age[32];
		time_format_age(h->last_at, time_now_ms(), age, sizeof(age));
		buf_addf(b, ", last %s (run ", age);
		add_run_ref(b, h->last_run, h->last_attempt);
		buf_addc(b, ')');
	}
	if (h->passed_run) {
		buf_addf(b, "%spassed since in %.7s (run ", cli_sep(c),
			 h->passed_sha ? h->passed_sha : "-");
		add_run_ref(b, h->passed_run, h->passed_attempt);
		buf_addf(b, "): fixed in %.7s?", h->passed_sha ? h->passed_sha : "-");
	}
	if (triage_is_new(h, r))
		buf_addf(b, "%s%snew%s", cli_sep(c), bold, off);
	buf_addf(b, "%sstate ", cli_sep(c));
	cli_put_text(b, triage_state_word(h->state));
	if (h->set_by) {
		buf_adds(b, " (");
		cli_put_text(b, h->set_by);
		buf_addc(b, ')');
	}
	buf_addc(b, '\n');
	if (h->note) {
		buf_adds(b, "    note: ");
		cli_put_text(b, h->note);
		buf_addc(b, '\n');
	}
	for (int i = 0; i < h->n_evidence && i < 3; i++) {
		const struct triage_flaky_ev *e = &h->evidence[i];
		buf_addf(b, "    %sflaky%s: ", red, off);
		cli_put_text(b, e->job);
		buf_adds(b, " failed in run ");
		add_run_ref(b, e->failed_run, e->failed_attempt);
		if (e->kind == FLAKY_SAME_COMMIT) {
			buf_adds(b, " and passed in run ");
			add_run_ref(b, e->passed_run, e->passed_attempt);
			buf_addf(b, " on the same commit %.7s\n", e->failed_sha ? e->failed_sha : "-");
		} else {
			buf_adds(b, ", passed in run ");
			add_run_ref(b, e->passed_run, e->passed_attempt);
			buf_adds(b, ", failed the same way in run ");
			add_run_ref(b, e->again_run, e->again_attempt);
			buf_adds(b, " on ");
			cli_put_text(b, e->branch);
			buf_addc(b, '\n');
		}
	}
	int w = 1;
	for (int i = 0; i < f->n_excerpt; i++) {
		char num[24];
		int l = snprintf(num, sizeof(num), "%lld", (long long)f->excerpt[i].line);
		w = MAX(w, l);
	}
	for (int i = 0; i < f->n_excerpt; i++) {
		const struct triage_line *tl = &f->excerpt[i];
		bool in = tl->line && tl->line >= f->line && tl->line <= f->end_line;
		if (i && tl->line && f->excerpt[i - 1].line && tl->line > f->excerpt[i - 1].line + 1)
			buf_addf(b, "      %*s  %s%s%s\n", w, "", dim, c->utf8 ? "\xe2\x8b\xae" : ":", off);
		if (tl->line)
			buf_addf(b, "    %s%s%s %*lld  ", in ? red : dim, in ? ">" : " ", off, w,
				 (long long)tl->line);
		else
			buf_addf(b, "      %*s  ", w, "");
		cli_put_text(b, tl->text);
		buf_addc(b, '\n');
	}
}

/* Triage points at the diff: how many lines of the failed jobs are new
 * against the run's baseline (issue 10). JSON: "diff": {base, new_lines,
 * text} or null; text: one line under the run. */
static void diff_pointer(struct cli *c, struct buf *b, const struct run *r, bool json)
{
	struct cs_err err;
	err_clear(&err);
	bool found = false;
	struct run base;
	uint64_t n = 0;
	struct gitrepo *g = gitrepo_open(NULL);
	int rc = ci_conclusion_is_failure(r->conclusion)
			 ? run_diff_new_lines(c->st, g, r, &found, &base, &n, &err)
			 : 0;
	gitrepo_close(g);
	if (rc < 0)
		cli_error("cannot compare with the baseline: %s", err.msg);
	char text[160] = "";
	if (found) {
		snprintf(text, sizeof(text), "%llu new line%s vs baseline run %lld",
			 (unsigned long long)n, n == 1 ? "" : "s", (long long)base.provider_id);
		if (base.attempt > 1)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), ":%d", base.attempt);
	}
	if (json) {
		if (!found) {
			buf_adds(b, ",\"diff\":null");
		} else {
			buf_addf(b, ",\"diff\":{\"base\":{\"id\":%lld,\"attempt\":%d},\"new_lines\":%llu,"
				    "\"text\":",
				 (long long)base.provider_id, base.attempt, (unsigned long long)n);
			cli_json_str(b, text);
			buf_addc(b, '}');
		}
	} else if (found) {
		buf_addf(b, "  diff: %s (ciscope diff %lld", text, (long long)r->provider_id);
		if (r->attempt > 1)
			buf_addf(b, ":%d", r->attempt);
		buf_adds(b, ")\n");
	}
	if (found)
		run_free(&base);
}

int cmd_triage(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"all", no_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool json = false, all = false;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'h': cli_command_usage("triage", stdout); return EXIT_OK;
		default: return cli_bad_usage("triage");
		}
	}
	if (argc - optind > 1) {
		cli_error("triage: name at most one RUN or RUN/JOB");
		return cli_bad_usage("triage");
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct ruleset *owned;
	const struct ruleset *rs = load_rules(NULL, &owned);
	if (!rs)
		return EXIT_ERROR;
	ensure(c, rs);

	struct cs_err err;
	err_clear(&err);
	struct run r, green;
	bool have_green = false;
	char *branch = store_default_branch(c->st, &err);
	char *job_spec = NULL;
	char *spec = optind < argc ? xstrdup(argv[optind]) : NULL;
	int rc = EXIT_OK;
	if (spec) {
		job_spec = strchr(spec, '/');
		if (job_spec)
			*job_spec++ = '\0';
		if (store_find_run(c->st, spec, &r, &err) < 0) {
			cli_error("%s", err.msg);
			free(spec);
			free(branch);
			return cli_exit_for(&err, EXIT_INTR);
		}
	} else if (store_newest_failed_run(c->st, branch, &r, &err) < 0) {
		if (err.code != CS_ENOTFOUND || !branch ||
		    store_newest_failed_run(c->st, NULL, &r, &err) < 0) {
			cli_error("%s", err.msg);
			free(branch);
			return cli_exit_for(&err, EXIT_INTR);
		}
		fprintf(stderr, "ciscope: no failed run on the default branch '%s': showing the newest "
				"failed run\n", branch);
	} else if (branch) {
		/* the newest failure of main is old news when main passed since */
		if (store_first_success_after(c->st, branch, r.created_at, &green, &err) == 0)
			have_green = true;
		else if (err.code != CS_ENOTFOUND)
			cli_error("%s", err.msg);
		err_clear(&err);
	}
	struct job *jobs;
	int n;
	if (store_jobs(c->st, r.id, &jobs, &n, &err) < 0) {
		cli_error("%s", err.msg);
		run_free(&r);
		if (have_green)
			run_free(&green);
		free(spec);
		free(branch);
		return EXIT_ERROR;
	}
	int only = -1;
	if (job_spec) {
		only = store_find_job(jobs, n, job_spec, &err);
		if (only < 0) {
			cli_error("run %lld: %s", (long long)r.provider_id, err.msg);
			rc = cli_exit_for(&err, EXIT_INTR);
			goto out;
		}
	}
	char version[64];
	triage_version(rs, version, sizeof(version));
	struct hist_cache hc = {0};
	struct buf b = BUF_INIT;
	if (json) {
		buf_adds(&b, "{\"run\":");
		cli_json_run(&b, &r);
		buf_adds(&b, ",\"default_branch\":");
		cli_json_str(&b, branch);
		buf_adds(&b, ",\"green_since\":");
		if (have_green)
			cli_json_run(&b, &green);
		else
			buf_adds(&b, "null");
		buf_addf(&b, ",\"version\":\"%s\"", version);
		diff_pointer(c, &b, &r, true);
		buf_adds(&b, ",\"jobs\":[");
	} else {
		const char *state = run_state(&r);
		char age[32];
		if (have_green) {
			time_format_age(green.created_at, time_now_ms(), age, sizeof(age));
			cli_put_text(&b, branch);
			buf_addf(&b, " is green since %.7s (run ", green.sha ? green.sha : "-");
			add_run_ref(&b, green.provider_id, green.attempt);
			buf_addf(&b, ", %s); newest failure:\n", age);
		}
		time_format_age(r.created_at, time_now_ms(), age, sizeof(age));
		buf_addf(&b, "%s%s %s%s ", cli_color(c, state), cli_glyph(c, state), state,
			 cli_reset(c));
		cli_put_text(&b, r.workflow);
		buf_adds(&b, cli_sep(c));
		cli_put_text(&b, r.branch);
		buf_addf(&b, "%s%.7s%srun ", cli_sep(c), r.sha ? r.sha : "-", cli_sep(c));
		add_run_ref(&b, r.provider_id, r.attempt);
		buf_addf(&b, "%s%s\n", cli_sep(c), age);
		if (r.title) {
			buf_adds(&b, "  ");
			cli_put_text(&b, r.title);
			buf_addc(&b, '\n');
		}
		diff_pointer(c, &b, &r, false);
	}
	int shown_jobs = 0;
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		if (only >= 0 && i != only)
			continue;
		bool failed = triage_job_failed(&r, j);
		if (!failed && only < 0)
			continue;
		struct triage_finding *fs = NULL;
		int nf = 0;
		struct triage_job_info info;
		if (triage_job_findings(c->st, j->id, !all, &fs, &nf, &err) < 0 ||
		    triage_job_info(c->st, j->id, &info, &err) < 0) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
			break;
		}
		if (json) {
			if (shown_jobs)
				buf_addc(&b, ',');
			buf_addf(&b, "{\"id\":%lld,\"name\":", (long long)j->provider_id);
			cli_json_str(&b, j->name);
			buf_adds(&b, ",\"conclusion\":");
			cli_json_str(&b, j->conclusion);
			buf_adds(&b, ",\"url\":");
			cli_json_str(&b, j->html_url);
			buf_addf(&b, ",\"log_lines\":%lld,\"triaged\":%s,\"lines_shown\":%d,"
				     "\"fallback\":%s,\"findings\":[",
				 (long long)j->line_count, info.triaged ? "true" : "false", info.n_lines,
				 info.fallback ? "true" : "false");
			for (int k = 0; k < nf; k++) {
				if (k)
					buf_addc(&b, ',');
				json_finding(&b, &fs[k], history(c, &hc, fs[k].fingerprint), &r);
			}
			buf_adds(&b, "]}");
		} else {
			const char *js = j->conclusion ? j->conclusion : j->status;
			buf_addf(&b, "\n%s%s%s ", cli_color(c, js), cli_glyph(c, js), cli_reset(c));
			cli_put_text(&b, j->name);
			if (!run_job_ids_synthetic(&r))
				buf_addf(&b, " (%lld)", (long long)j->provider_id);
			buf_addf(&b, " %s", js ? js : "-");
			if (!failed)
				buf_addf(&b, "%sdid not fail", cli_sep(c));
			buf_addc(&b, '\n');
			if (nf == 0 && failed)
				buf_adds(&b, info.triaged ? "  no finding\n" : "  not triaged\n");
			for (int k = 0; k < nf; k++) {
				if (k)
					buf_addc(&b, '\n');
				text_finding(c, &b, &fs[k], history(c, &hc, fs[k].fingerprint), &r);
			}
		}
		shown_jobs++;
		triage_findings_free(fs, nf);
		fwrite(b.data, 1, b.len, stdout);
		buf_reset(&b);
	}
	if (json) {
		buf_adds(&b, "]}\n");
	} else if (shown_jobs == 0) {
		buf_addf(&b, "\nno failed job (the run's conclusion is %s",
			 r.conclusion ? r.conclusion : "not known yet");
		if (r.conclusion_why && *r.conclusion_why) {
			buf_adds(&b, ": ");
			cli_put_text(&b, r.conclusion_why);
		}
		buf_adds(&b, ")\n");
	}
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	for (int i = 0; i < hc.n; i++)
		triage_history_free(&hc.h[i]);
	free(hc.h);
out:
	store_jobs_free(jobs, n);
	run_free(&r);
	if (have_green)
		run_free(&green);
	free(spec);
	free(branch);
	return rc;
}

/* --- rules ------------------------------------------------------------------------- */
static int rules_list(struct cli *c, const struct ruleset *rs, bool json)
{
	struct buf b = BUF_INIT;
	if (json)
		buf_addc(&b, '[');
	for (int i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);
		if (json) {
			if (i)
				buf_addc(&b, ',');
			buf_adds(&b, "{\"id\":");
			cli_json_str(&b, r->id);
			buf_addf(&b, ",\"category\":\"%s\",\"decision\":\"%s\",\"severity\":\"%s\","
				     "\"weak\":%s,\"explain\":",
				 rule_category_name(r->category),
				 decision_name(rule_category_decision(r->category)),
				 r->warning ? "warning" : "error", r->weak ? "true" : "false");
			cli_json_str(&b, r->explain);
			buf_adds(&b, ",\"origin\":");
			cli_json_str(&b, r->origin);
			buf_addf(&b, ",\"line\":%d}", r->line);
		} else {
			buf_addf(&b, "%-26s %-14s %-8s", r->id, rule_category_name(r->category),
				 r->warning ? "warning" : r->weak ? "weak" : "error");
			cli_put_text(&b, r->explain);
			buf_addc(&b, '\n');
		}
	}
	if (json)
		buf_adds(&b, "]\n");
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	(void)c;
	return EXIT_OK;
}

static int rules_test(struct cli *c, const struct ruleset *rs, bool json)
{
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct rule_test *t = NULL;
	struct rule_test_totals tot;
	if (triage_test_rules(c->st, rs, &t, &tot, &cli_interrupted, &err) < 0) {
		cli_error("%s", err.msg);
		free(t);
		return cli_exit_for(&err, EXIT_INTR);
	}
	struct buf b = BUF_INIT;
	int broad = 0;
	int nr = ruleset_count(rs);
	if (json) {
		buf_addf(&b, "{\"failed_runs\":%d,\"successful_runs\":%d,\"logs\":%ld,\"lines\":%llu,"
			     "\"too_broad_share\":%.2f,\"rules\":[",
			 tot.failed_runs, tot.successful_runs, tot.logs, (unsigned long long)tot.lines,
			 TRIAGE_TOO_BROAD);
		for (int i = 0; i < nr; i++) {
			const struct rule_test *x = &t[i];
			bool tb = rule_test_too_broad(x, &tot);
			broad += tb;
			if (i)
				buf_addc(&b, ',');
			buf_adds(&b, "{\"id\":");
			cli_json_str(&b, x->rule->id);
			buf_addf(&b, ",\"category\":\"%s\",\"failed_runs\":%d,\"successful_runs\":%d,"
				     "\"hits\":%ld,\"too_broad\":%s}",
				 rule_category_name(x->rule->category), x->failed_runs,
				 x->successful_runs, x->hits, tb ? "true" : "false");
		}
		buf_adds(&b, "]}\n");
	} else {
		buf_addf(&b, "%d failed and %d successful runs, %ld logs, %llu lines\n\n",
			 tot.failed_runs, tot.successful_runs, tot.logs, (unsigned long long)tot.lines);
		buf_addf(&b, "%-26s %-14s %11s %11s %8s\n", "RULE", "CATEGORY", "FAILED RUNS",
			 "SUCCESSFUL", "HITS");
		for (int i = 0; i < nr; i++) {
			const struct rule_test *x = &t[i];
			bool tb = rule_test_too_broad(x, &tot);
			broad += tb;
			char pct[32] = "";
			if (tot.successful_runs && x->successful_runs)
				snprintf(pct, sizeof(pct), " (%.0f%%)",
					 100.0 * x->successful_runs / tot.successful_runs);
			char sr[48];
			snprintf(sr, sizeof(sr), "%d%s", x->successful_runs, pct);
			buf_addf(&b, "%-26s %-14s %11d %11s %8ld%s\n", x->rule->id,
				 rule_category_name(x->rule->category), x->failed_runs, sr, x->hits,
				 tb ? "  too broad" : "");
		}
		buf_addf(&b, "\n%d rule%s too broad (a finding in more than %.0f%% of the successful "
			     "runs)\n",
			 broad, broad == 1 ? "" : "s", TRIAGE_TOO_BROAD * 100);
	}
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	free(t);
	return cli_interrupted ? EXIT_INTR : EXIT_OK;
}

int cmd_rules(struct cli *c, int argc, char **argv)
{
	bool json;
	int orc = cli_json_opts("rules", argc, argv, &json);
	if (orc >= 0)
		return orc;
	const char *sub = optind < argc ? argv[optind++] : "list";
	if (strcmp(sub, "list") && strcmp(sub, "test")) {
		cli_error("rules: '%s' is not 'list' or 'test'", sub);
		return cli_bad_usage("rules");
	}
	if (argc - optind > 1) {
		cli_error("rules: at most one RULES_FILE");
		return cli_bad_usage("rules");
	}
	struct ruleset *owned;
	const struct ruleset *rs = load_rules(optind < argc ? argv[optind] : NULL, &owned);
	if (!rs)
		return EXIT_ERROR;
	int rc = !strcmp(sub, "list") ? rules_list(c, rs, json) : rules_test(c, rs, json);
	ruleset_free(owned);
	return rc;
}

/* --- retriage ------------------------------------------------------------------------ */
int cmd_retriage(struct cli *c, int argc, char **argv)
{
	bool json;
	int orc = cli_json_opts("retriage", argc, argv, &json);
	if (orc >= 0)
		return orc;
	if (optind < argc) {
		cli_error("retriage: unexpected argument '%s'", argv[optind]);
		return cli_bad_usage("retriage");
	}
	if (!cli_open_mode(c, STORE_UPGRADE_EXISTING))
		return EXIT_ERROR;
	struct ruleset *owned;
	const struct ruleset *rs = load_rules(NULL, &owned);
	if (!rs)
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct retriage_stats s;
	if (triage_retriage(c->st, rs, &s, &cli_interrupted, &err) < 0) {
		cli_error("%s", err.msg);
		return cli_exit_for(&err, EXIT_INTR);
	}
	char version[64];
	triage_version(rs, version, sizeof(version));
	if (json)
		printf("{\"version\":\"%s\",\"runs\":%d,\"jobs\":%d,\"findings\":%d,"
		       "\"fingerprints_before\":%d,\"fingerprints_after\":%d,\"states_carried\":%d}\n",
		       version, s.runs, s.jobs, s.findings, s.fingerprints_before,
		       s.fingerprints_after, s.states_carried);
	else
		printf("retriaged %d failed job%s of %d run%s: %d findings, %d fingerprints (%d "
		       "before); %d triage state%s carried to new fingerprints (%s)\n",
		       s.jobs, s.jobs == 1 ? "" : "s", s.runs, s.runs == 1 ? "" : "s", s.findings,
		       s.fingerprints_after, s.fingerprints_before, s.states_carried,
		       s.states_carried == 1 ? "" : "s", version);
	return EXIT_OK;
}

/* --- triage-state ---------------------------------------------------------------------- */
int cmd_triage_state(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *note = NULL;
	bool json = false;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': note = optarg; break;
		case 'j': json = true; break;
		case 'h': cli_command_usage("triage-state", stdout); return EXIT_OK;
		default: return cli_bad_usage("triage-state");
		}
	}
	if (argc - optind != 2) {
		cli_error("triage-state: give a FINGERPRINT and a STATE (untriaged, acknowledged, "
			  "known-flaky, fixed)");
		return cli_bad_usage("triage-state");
	}
	const char *fp = argv[optind], *state = argv[optind + 1];
	if (!triage_state_valid(state)) {
		cli_error("'%s' is not a triage state (untriaged, acknowledged, known-flaky, fixed)",
			  state);
		return EXIT_USAGE;
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct buf who = BUF_INIT;
	gitrepo_user_name(&who);
	struct cs_err err;
	err_clear(&err);
	char full[FP_HEX_LEN + 1];
	int rc = triage_set_state(c->st, fp, state, note, buf_cstr(&who), full, &err);
	if (rc < 0) {
		cli_error("%s", err.msg);
		buf_release(&who);
		return cli_exit_for(&err, EXIT_INTR);
	}
	struct triage_history h;
	if (triage_history(c->st, full, &h, &err) < 0) {
		cli_error("%s", err.msg);
		buf_release(&who);
		return EXIT_ERROR;
	}
	struct buf b = BUF_INIT;
	if (json) {
		buf_addf(&b, "{\"fingerprint\":\"%s\",\"state\":", full);
		cli_json_str(&b, triage_state_word(h.state));
		buf_adds(&b, ",\"note\":");
		cli_json_str(&b, h.note);
		buf_adds(&b, ",\"state_by\":");
		cli_json_str(&b, h.set_by);
		buf_adds(&b, ",\"state_at\":");
		cli_json_time(&b, h.set_at);
		buf_addf(&b, ",\"occurrences\":%d}\n", h.n_runs);
	} else {
		buf_addf(&b, "%s: ", full);
		cli_put_text(&b, triage_state_word(h.state));
		buf_adds(&b, " (set by ");
		cli_put_text(&b, h.set_by);
		buf_addf(&b, "; seen in %d run%s)", h.n_runs, h.n_runs == 1 ? "" : "s");
		if (h.note) {
			buf_adds(&b, "\n  note: ");
			cli_put_text(&b, h.note);
		}
		buf_addc(&b, '\n');
	}
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	triage_history_free(&h);
	buf_release(&who);
	return EXIT_OK;
}
