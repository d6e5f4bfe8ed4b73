/* diff.c - `ciscope diff`: a run against its baseline (core/diff.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/diff.h"
#include "core/gitrepo.h"
#include "core/sanitize.h"
#include "core/triage.h"

static void json_ms_or_null(struct buf *b, int64_t ms)
{
	cli_json_ms(b, ms);
}

static void json_line_no(struct buf *b, uint64_t n)
{
	if (n)
		buf_addf(b, "%llu", (unsigned long long)n);
	else
		buf_adds(b, "null");
}

static const char *parity_verdict(const struct run_diff *d, bool json)
{
	if (!d->has_parity || !d->parity.n_channels)
		return json ? "null" : NULL;
	if (json)
		return d->parity.fail ? "\"fail\"" : "\"pass\"";
	return d->parity.fail ? "fail" : "pass";
}

/* --- JSON ----------------------------------------------------------------------------- */
static void json_log(struct buf *b, const struct logdiff *l)
{
	buf_addf(b, "{\"run_lines\":%llu,\"base_lines\":%llu,\"shown\":%ld,\"added\":%llu,"
		    "\"updated\":%llu,\"removed\":%llu,\"moved\":%llu,\"truncated\":%s,\"hunks\":[",
		 (unsigned long long)l->run_lines, (unsigned long long)l->base_lines, l->shown,
		 (unsigned long long)l->added, (unsigned long long)l->updated,
		 (unsigned long long)l->removed, (unsigned long long)l->moved,
		 l->truncated ? "true" : "false");
	for (int h = 0; h < l->n_hunks; h++) {
		const struct ld_hunk *hk = &l->hunks[h];
		if (h)
			buf_addc(b, ',');
		if (hk->step)
			buf_addf(b, "{\"step\":%d,\"step_name\":", hk->step);
		else
			buf_adds(b, "{\"step\":null,\"step_name\":");
		cli_json_str(b, hk->step_name);
		buf_adds(b, ",\"lines\":[");
		for (int i = 0; i < hk->n_lines; i++) {
			const struct ld_line *ln = &hk->lines[i];
			if (i)
				buf_addc(b, ',');
			buf_addf(b, "{\"op\":\"%c\",\"run_line\":", ln->op);
			json_line_no(b, ln->run_line);
			buf_adds(b, ",\"base_line\":");
			json_line_no(b, ln->base_line);
			buf_adds(b, ",\"text\":");
			cli_json_str(b, ln->text);
			if (ln->repeat > 1)
				buf_addf(b, ",\"repeat\":%u", ln->repeat);
			if (ln->finding)
				buf_adds(b, ",\"finding\":true");
			if (ln->moved)
				buf_adds(b, ",\"moved\":true");
			if (ln->cut)
				buf_adds(b, ",\"cut\":true");
			buf_addc(b, '}');
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "]}");
}

static void json_test(struct buf *b, const struct diff_test *t)
{
	buf_adds(b, "{\"classname\":");
	cli_json_str(b, t->classname);
	buf_adds(b, ",\"name\":");
	cli_json_str(b, t->name);
	buf_addf(b, ",\"outcome\":\"%s\",\"base_outcome\":\"%s\",\"duration_ms\":",
		 diff_test_state_name(t->state), diff_test_state_name(t->base_state));
	json_ms_or_null(b, t->ms);
	buf_adds(b, ",\"base_duration_ms\":");
	json_ms_or_null(b, t->base_ms);
	if (t->ms != CS_TIME_NONE && t->base_ms != CS_TIME_NONE && t->base_ms > 0)
		buf_addf(b, ",\"ratio\":%.3f", (double)t->ms / (double)t->base_ms);
	buf_adds(b, ",\"message\":");
	cli_json_str(b, t->message);
	buf_addc(b, '}');
}

static const char *change_name(enum step_change c)
{
	switch (c) {
	case STEP_ADDED: return "added";
	case STEP_REMOVED: return "removed";
	case STEP_CHANGED: return "conclusion";
	default: return "same";
	}
}

static void json_delta(struct buf *b, int64_t ms, int64_t base_ms)
{
	buf_adds(b, ",\"duration_ms\":");
	cli_json_ms(b, ms);
	buf_adds(b, ",\"base_duration_ms\":");
	cli_json_ms(b, base_ms);
	if (ms != CS_TIME_NONE && base_ms != CS_TIME_NONE) {
		buf_addf(b, ",\"delta_ms\":%lld", (long long)(ms - base_ms));
		if (base_ms > 0)
			buf_addf(b, ",\"ratio\":%.3f", (double)ms / (double)base_ms);
	}
}

static void json_steps(struct buf *b, const struct run_diff *d, const struct diff_opts *k)
{
	buf_adds(b, "[");
	for (int s = 0; s < d->n_steps; s++) {
		const struct diff_jobstep *js = &d->steps[s];
		const struct job *rj = js->run_job >= 0 ? &d->jobs[js->run_job] : NULL;
		const struct job *bj = js->base_job >= 0 ? &d->base_jobs[js->base_job] : NULL;
		if (s)
			buf_addc(b, ',');
		buf_adds(b, "{\"job\":");
		cli_json_str(b, rj ? rj->name : NULL);
		buf_adds(b, ",\"base_job\":");
		cli_json_str(b, bj ? bj->name : NULL);
		buf_adds(b, ",\"conclusion\":");
		cli_json_str(b, rj ? rj->conclusion : NULL);
		buf_adds(b, ",\"base_conclusion\":");
		cli_json_str(b, bj ? bj->conclusion : NULL);
		json_delta(b, run_diff_job_ms(rj), run_diff_job_ms(bj));
		buf_adds(b, ",\"runner\":");
		cli_json_str(b, rj ? rj->runner_name : NULL);
		buf_adds(b, ",\"base_runner\":");
		cli_json_str(b, bj ? bj->runner_name : NULL);
		buf_adds(b, ",\"steps\":[");
		for (int i = 0; i < js->n_steps; i++) {
			const struct diff_step *st = &js->steps[i];
			if (i)
				buf_addc(b, ',');
			buf_adds(b, "{\"name\":");
			cli_json_str(b, st->name);
			buf_adds(b, ",\"number\":");
			if (st->number)
				buf_addf(b, "%d", st->number);
			else
				buf_adds(b, "null");
			buf_adds(b, ",\"base_number\":");
			if (st->base_number)
				buf_addf(b, "%d", st->base_number);
			else
				buf_adds(b, "null");
			buf_addf(b, ",\"change\":\"%s\",\"conclusion\":", change_name(st->change));
			cli_json_str(b, st->conclusion);
			buf_adds(b, ",\"base_conclusion\":");
			cli_json_str(b, st->base_conclusion);
			json_delta(b, st->ms, st->base_ms);
			buf_addf(b, ",\"slower\":%s}",
				 run_diff_slower(k, st->ms, st->base_ms) ? "true" : "false");
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "]");
}

static void json_diff(struct buf *b, const struct run_diff *d, const struct diff_opts *k)
{
	buf_adds(b, "{\"run\":");
	cli_json_run(b, &d->run);
	buf_adds(b, ",\"base\":");
	if (d->has_base)
		cli_json_run(b, &d->base);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"baseline_reason\":");
	cli_json_str(b, d->reason);
	buf_adds(b, ",\"attempts_note\":");
	cli_json_str(b, d->note[0] ? d->note : NULL);
	buf_addf(b, ",\"summary\":{\"new_lines\":%llu,\"new_failures\":%d,\"slower_steps\":%d,"
		    "\"metrics_moved\":%d,\"parity_verdict\":%s,"
		    "\"jobs_paired\":%d,\"jobs_only_in_run\":%d,\"jobs_only_in_base\":%d}",
		 (unsigned long long)d->new_lines, d->tests.n[DT_NEW_FAILURES],
		 run_diff_slower_steps(d, k), run_diff_metrics_moved(d), parity_verdict(d, true), d->n_pairs,
		 d->n_unpaired, d->n_base_unpaired);
	buf_adds(b, ",\"jobs\":[");
	for (int p = 0; p < d->n_pairs; p++) {
		const struct diff_job *dj = &d->pairs[p];
		const struct job *rj = &d->jobs[dj->run_job], *bj = &d->base_jobs[dj->base_job];
		if (p)
			buf_addc(b, ',');
		buf_adds(b, "{\"job\":");
		cli_json_str(b, rj->name);
		buf_adds(b, ",\"base_job\":");
		cli_json_str(b, bj->name);
		buf_addf(b, ",\"job_id\":%lld,\"base_job_id\":%lld,\"conclusion\":",
			 (long long)rj->provider_id, (long long)bj->provider_id);
		cli_json_str(b, rj->conclusion);
		buf_adds(b, ",\"base_conclusion\":");
		cli_json_str(b, bj->conclusion);
		buf_adds(b, ",\"note\":");
		cli_json_str(b, dj->note);
		buf_adds(b, ",\"first_new\":");
		if (dj->first_new) {
			buf_addf(b, "{\"run_line\":%llu,\"step\":", (unsigned long long)dj->first_new);
			if (dj->first_new_step)
				buf_addf(b, "%d}", dj->first_new_step);
			else
				buf_adds(b, "null}");
		} else {
			buf_adds(b, "null");
		}
		buf_adds(b, ",\"log\":");
		if (dj->has_log)
			json_log(b, &dj->log);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"unpaired\":{\"run\":[");
	for (int i = 0; i < d->n_unpaired; i++) {
		if (i)
			buf_addc(b, ',');
		cli_json_str(b, d->jobs[d->unpaired[i]].name);
	}
	buf_adds(b, "],\"base\":[");
	for (int i = 0; i < d->n_base_unpaired; i++) {
		if (i)
			buf_addc(b, ',');
		cli_json_str(b, d->base_jobs[d->base_unpaired[i]].name);
	}
	buf_addf(b, "]},\"tests\":{\"run_total\":%d,\"base_total\":%d,\"counts\":{",
		 d->tests.run_total, d->tests.base_total);
	for (int l = 0; l < DT_COUNT; l++)
		buf_addf(b, "%s\"%s\":%d", l ? "," : "", diff_test_list_name(l), d->tests.n[l]);
	buf_addc(b, '}');
	for (int l = 0; l < DT_COUNT; l++) {
		buf_addf(b, ",\"%s\":[", diff_test_list_name(l));
		for (int i = 0; i < d->tests.n[l]; i++) {
			if (i)
				buf_addc(b, ',');
			json_test(b, &d->tests.list[l][i]);
		}
		buf_addc(b, ']');
	}
	buf_adds(b, "},\"steps\":");
	json_steps(b, d, k);
	buf_adds(b, ",\"metrics\":");
	if (d->has_metrics)
		metric_compare_json(b, &d->metrics);
	else
		buf_adds(b, "[]");
	buf_adds(b, ",\"parity\":");
	if (d->has_parity)
		parity_report_json(b, &d->parity);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"parity_vs_base\":");
	if (d->has_parity_vs_base)
		parity_report_json(b, &d->parity_vs_base);
	else
		buf_adds(b, "null");
	buf_adds(b, "}\n");
}

/* --- text ------------------------------------------------------------------------------ */
static void run_line(struct cli *c, struct buf *b, const char *label, const struct run *r)
{
	const char *state = run_state(r);
	buf_addf(b, "%s: run %lld", label, (long long)r->provider_id);
	if (r->attempt > 1)
		buf_addf(b, ":%d", r->attempt);
	buf_adds(b, cli_sep(c));
	cli_put_text(b, r->workflow);
	buf_adds(b, cli_sep(c));
	cli_put_text(b, r->branch);
	buf_addf(b, "%s%.7s%s%s%s%s", cli_sep(c), r->sha ? r->sha : "-", cli_sep(c), cli_color(c, state),
		 state, cli_reset(c));
}

static void text_log(struct cli *c, struct buf *b, const struct logdiff *l)
{
	const char *red = c->color ? "\033[31m" : "", *yel = c->color ? "\033[33m" : "";
	const char *dim = c->color ? "\033[2m" : "", *bold = c->color ? "\033[1m" : "";
	const char *off = cli_reset(c);
	int w = 1;
	uint64_t mx = MAX(l->run_lines, l->base_lines);
	for (uint64_t v = mx; v >= 10; v /= 10)
		w++;
	for (int h = 0; h < l->n_hunks; h++) {
		const struct ld_hunk *hk = &l->hunks[h];
		buf_addf(b, "  %s@@", dim);
		if (hk->step) {
			buf_addf(b, " step %d ", hk->step);
			cli_put_text(b, hk->step_name);
		}
		buf_addf(b, "%s\n", off);
		for (int i = 0; i < hk->n_lines; i++) {
			const struct ld_line *ln = &hk->lines[i];
			const char *col = ln->op == '+' ? red : ln->op == '~' ? yel : ln->op == '-' ? dim : "";
			char rl[24] = "", bl[24] = "";
			if (ln->run_line)
				snprintf(rl, sizeof(rl), "%llu", (unsigned long long)ln->run_line);
			if (ln->base_line)
				snprintf(bl, sizeof(bl), "%llu", (unsigned long long)ln->base_line);
			buf_addf(b, "  %s%c%s%s %*s %*s  ", col, ln->moved ? 'm' : ln->op,
				 ln->finding ? ">" : " ", off, w, rl, w, bl);
			if (ln->op != '=')
				buf_adds(b, bold);
			cli_put_text(b, ln->text);
			if (ln->op != '=')
				buf_adds(b, off);
			if (ln->cut)
				buf_adds(b, c->utf8 ? " \xe2\x80\xa6" : " ...");
			if (ln->repeat > 1)
				buf_addf(b, "  %s(%s%u)%s", dim, c->utf8 ? "\xc3\x97" : "x", ln->repeat, off);
			buf_addc(b, '\n');
		}
	}
	if (l->truncated)
		buf_addf(b, "  %s%s more lines differ than are shown (--all-lines with "
			    "--json lists them all)%s\n",
			 dim, c->utf8 ? "\xe2\x80\xa6" : "...", off);
}

static void text_tests(struct cli *c, struct buf *b, const struct run_diff *d)
{
	static const char *const labels[DT_COUNT] = {
		"new failure", "still failing", "fixed", "new", "removed", "flaky", "slower", "failing",
	};
	const struct diff_tests *t = &d->tests;
	buf_adds(b, "\ntests: ");
	if (!t->run_total && !t->base_total) {
		buf_adds(b, "no test results in either run\n");
		return;
	}
	bool any = false;
	for (int l = 0; l < DT_COUNT; l++) {
		if (!t->n[l] && (l == DT_FAILING || !d->has_base))
			continue;
		static const char *const many[DT_COUNT] = {
			"new failures", "still failing", "fixed", "new", "removed", "flaky", "slower",
			"failing",
		};
		buf_addf(b, "%s%d %s", any ? cli_sep(c) : "", t->n[l],
			 t->n[l] == 1 ? labels[l] : many[l]);
		any = true;
	}
	if (!any)
		buf_addf(b, "%d in the run, none failing", t->run_total);
	buf_addc(b, '\n');
	for (int l = 0; l < DT_COUNT; l++) {
		int shown = 0;
		for (int i = 0; i < t->n[l]; i++) {
			const struct diff_test *x = &t->list[l][i];
			if (l == DT_NEW || l == DT_REMOVED) {
				if (shown++ >= 10) {
					buf_addf(b, "  %s %d more %s\n", c->utf8 ? "\xe2\x80\xa6" : "...", t->n[l] - 10, labels[l]);
					break;
				}
			}
			buf_addf(b, "  %-13s ", labels[l]);
			if (x->classname && *x->classname) {
				cli_put_text(b, x->classname);
				buf_adds(b, c->utf8 ? " \xe2\x80\xba " : " > ");
			}
			cli_put_text(b, x->name);
			run_diff_test_note(b, (enum diff_test_list)l, x);
			buf_addc(b, '\n');
			if (x->message && (l == DT_NEW_FAILURES || l == DT_FAILING)) {
				const char *m = x->message;
				size_t n = strcspn(m, "\n");
				buf_adds(b, "                ");
				sanitize_append(b, m, MIN(n, 200), SAN_KEEP_TAB);
				buf_addc(b, '\n');
			}
		}
	}
	(void)c;
}

static void text_steps(struct cli *c, struct buf *b, const struct run_diff *d,
		       const struct diff_opts *k)
{
	struct buf s = BUF_INIT;
	for (int x = 0; x < d->n_steps; x++) {
		const struct diff_jobstep *js = &d->steps[x];
		const struct job *rj, *bj;
		if (!run_diff_step_jobs(d, x, &rj, &bj))
			continue; /* listed as unpaired */
		struct buf lines = BUF_INIT;
		for (int i = 0; i < js->n_steps; i++) {
			const struct diff_step *st = &js->steps[i];
			bool slow = run_diff_slower(k, st->ms, st->base_ms);
			if (st->change == STEP_SAME && !slow)
				continue;
			buf_addf(&lines, "    %c ", st->change == STEP_ADDED ? '+' : st->change == STEP_REMOVED ? '-' : '~');
			cli_put_text(&lines, st->name);
			if (st->change == STEP_ADDED)
				buf_adds(&lines, " (only in this run)");
			else if (st->change == STEP_REMOVED)
				buf_adds(&lines, " (only in the baseline)");
			else {
				if (st->change == STEP_CHANGED) {
					buf_adds(&lines, ": ");
					cli_put_text(&lines, st->conclusion);
					buf_adds(&lines, " (was ");
					cli_put_text(&lines, st->base_conclusion);
					buf_addc(&lines, ')');
				}
				if (slow) {
					buf_addf(&lines, "%sslower ", cli_sep(c));
					run_diff_duration_text(&lines, st->ms, st->base_ms);
				}
			}
			buf_addc(&lines, '\n');
		}
		bool concl = strcmp(rj->conclusion ? rj->conclusion : "", bj->conclusion ? bj->conclusion : "");
		bool slow = run_diff_slower(k, run_diff_job_ms(rj), run_diff_job_ms(bj));
		bool runner = rj->runner_name && bj->runner_name && strcmp(rj->runner_name, bj->runner_name);
		if (!lines.len && !concl && !slow)
			continue;
		buf_adds(&s, "  ");
		cli_put_text(&s, rj->name);
		if (concl) {
			buf_adds(&s, ": ");
			cli_put_text(&s, rj->conclusion);
			buf_adds(&s, " (was ");
			cli_put_text(&s, bj->conclusion);
			buf_addc(&s, ')');
		}
		buf_adds(&s, cli_sep(c));
		run_diff_duration_text(&s, run_diff_job_ms(rj), run_diff_job_ms(bj));
		if (runner) {
			buf_addf(&s, "%srunner ", cli_sep(c));
			cli_put_text(&s, rj->runner_name);
			buf_adds(&s, " (was ");
			cli_put_text(&s, bj->runner_name);
			buf_addc(&s, ')');
		}
		buf_addc(&s, '\n');
		buf_add(&s, lines.data ? lines.data : "", lines.len);
		buf_release(&lines);
	}
	if (s.len) {
		buf_adds(b, "\nsteps:\n");
		buf_add(b, s.data, s.len);
	}
	buf_release(&s);
	(void)c;
}

static void text_metrics(struct cli *c, struct buf *b, const struct run_diff *d)
{
	if (!d->has_metrics || !d->metrics.n)
		return;
	int moved = run_diff_metrics_moved(d), shown = 0;
	buf_addf(b, "\nmetrics: %d of %d moved\n", moved, d->metrics.n);
	for (int i = 0; i < d->metrics.n && shown < 15; i++) {
		const struct metric_change *m = &d->metrics.items[i];
		if (!m->changed)
			continue;
		shown++;
		buf_adds(b, "  ");
		cli_put_text(b, m->name);
		metric_change_text(b, m);
		buf_addc(b, '\n');
	}
	if (moved > shown)
		buf_addf(b, "  %s %d more (--json lists them all)\n", c->utf8 ? "\xe2\x80\xa6" : "...",
			 moved - shown);
}

static void text_parity(struct buf *b, const char *label, const struct parity_report *p)
{
	if (!p->n_channels)
		return;
	buf_addf(b, "\n%s: %s", label, p->fail ? "fail" : "pass");
	if (p->deciding >= 0) {
		buf_adds(b, p->fail ? " (decided by " : " (closest: ");
		cli_put_text(b, p->channels[p->deciding].name);
		buf_addc(b, ')');
	}
	buf_addc(b, '\n');
	for (int i = 0; i < p->n_channels; i++) {
		const struct parity_channel *ch = &p->channels[i];
		buf_adds(b, "  ");
		cli_put_text(b, ch->name);
		parity_channel_text(b, ch);
		buf_addc(b, '\n');
	}
}

static void text_diff(struct cli *c, struct buf *b, const struct run_diff *d, const struct diff_opts *k)
{
	run_line(c, b, "run", &d->run);
	buf_addc(b, '\n');
	if (d->has_base) {
		run_line(c, b, "baseline", &d->base);
		buf_adds(b, ", ");
		cli_put_text(b, d->reason);
	} else {
		buf_addf(b, "baseline: none %s ", c->utf8 ? "\xe2\x80\x94" : "-");
		cli_put_text(b, d->reason);
	}
	buf_addc(b, '\n');
	if (d->note[0]) {
		buf_adds(b, "note: ");
		cli_put_text(b, d->note);
		buf_addc(b, '\n');
	}
	if (d->has_base) {
		/* core joins the counts with a middle dot: ASCII when the locale is not UTF-8 */
		struct buf sum = BUF_INIT;
		run_diff_summary_text(&sum, d, k);
		for (const char *p = buf_cstr(&sum); *p;) {
			if (!c->utf8 && !strncmp(p, " \xc2\xb7 ", 4)) {
				buf_adds(b, cli_sep(c));
				p += 4;
			} else {
				buf_addc(b, *p++);
			}
		}
		buf_release(&sum);
		if (parity_verdict(d, false))
			buf_addf(b, "%sparity %s", cli_sep(c), parity_verdict(d, false));
		buf_addc(b, '\n');
	}
	for (int p = 0; p < d->n_pairs; p++) {
		const struct diff_job *dj = &d->pairs[p];
		const struct job *rj = &d->jobs[dj->run_job], *bj = &d->base_jobs[dj->base_job];
		if ((dj->has_log && dj->log.shown == 0) || (!rj->log_id && !bj->log_id))
			continue; /* nothing to say (the JSON has the note) */
		buf_addf(b, "\n%s ", c->utf8 ? "\xe2\x94\x80\xe2\x94\x80" : "--");
		cli_put_text(b, rj->name);
		if (strcmp(rj->name, bj->name)) {
			buf_adds(b, " vs ");
			cli_put_text(b, bj->name);
		}
		if (!dj->has_log) {
			buf_addf(b, " %s ", c->utf8 ? "\xe2\x94\x80\xe2\x94\x80" : "--");
			cli_put_text(b, dj->note);
			buf_addc(b, '\n');
			continue;
		}
		const struct logdiff *l = &dj->log;
		buf_addf(b, " %s %llu lines vs %llu%s%llu new, %llu updated",
			 c->utf8 ? "\xe2\x94\x80\xe2\x94\x80" : "--", (unsigned long long)l->run_lines,
			 (unsigned long long)l->base_lines, cli_sep(c), (unsigned long long)l->added, (unsigned long long)l->updated);
		if (l->removed)
			buf_addf(b, ", %llu gone", (unsigned long long)l->removed);
		buf_addc(b, '\n');
		if (dj->first_new) {
			buf_addf(b, "  start reading at line %llu", (unsigned long long)dj->first_new);
			if (dj->first_new_step)
				buf_addf(b, " (step %d)", dj->first_new_step);
			buf_addc(b, '\n');
		}
		text_log(c, b, l);
	}
	if (d->n_unpaired || d->n_base_unpaired) {
		buf_addc(b, '\n');
		for (int i = 0; i < d->n_unpaired; i++) {
			buf_adds(b, "only in this run: job ");
			cli_put_text(b, d->jobs[d->unpaired[i]].name);
			buf_addc(b, '\n');
		}
		for (int i = 0; i < d->n_base_unpaired; i++) {
			buf_adds(b, "only in the baseline: job ");
			cli_put_text(b, d->base_jobs[d->base_unpaired[i]].name);
			buf_addc(b, '\n');
		}
	}
	text_tests(c, b, d);
	text_steps(c, b, d, k);
	text_metrics(c, b, d);
	if (d->has_parity)
		text_parity(b, "parity", &d->parity);
	if (d->has_parity_vs_base)
		text_parity(b, "parity against the baseline", &d->parity_vs_base);
}

/* --- the command ------------------------------------------------------------------------- */
/* "RUN" or "RUN/JOB": the run into *r, the job name (or NULL) into *job. */
static int find_side(struct cli *c, const char *spec, struct run *r, char **job,
		     struct cs_err *err)
{
	char *s = xstrdup(spec);
	char *slash = strchr(s, '/');
	*job = NULL;
	if (slash) {
		*slash = '\0';
		*job = xstrdup(slash + 1);
	}
	int rc = store_find_run(c->st, s, r, err);
	free(s);
	if (rc < 0) {
		free(*job);
		*job = NULL;
	}
	return rc;
}

int cmd_diff(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"all-lines", no_argument, NULL, 'a'},
					     {"context", required_argument, NULL, 'C'},
					     {"base", required_argument, NULL, 'b'},
					     {"base-branch", required_argument, NULL, 'B'},
					     {"git-dir", required_argument, NULL, 'g'},
					     {"max-lines", required_argument, NULL, 'm'},
					     {"slower-ratio", required_argument, NULL, 'r'},
					     {"slower-floor", required_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool json = false;
	const char *base_opt = NULL, *git_dir = NULL;
	struct diff_opts o;
	memset(&o, 0, sizeof(o));
	o.log.context = 3;
	o.slower_floor_ms = -1;
	int opt;
	char *end;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "ahC:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'a': o.log.all_lines = true; break;
		case 'C':
			o.log.context = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || o.log.context < 0 || o.log.context > 1000) {
				cli_error("diff: --context wants a number of lines from 0 to 1000, not '%s'",
					  optarg);
				return cli_bad_usage("diff");
			}
			break;
		case 'm':
			o.log.max_shown = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.log.max_shown < 0) {
				cli_error("diff: --max-lines wants a number (0: no limit), not '%s'", optarg);
				return cli_bad_usage("diff");
			}
			if (o.log.max_shown == 0)
				o.log.max_shown = -1;
			break;
		case 'r':
			o.slower_ratio = strtod(optarg, &end);
			if (*end || end == optarg || !(o.slower_ratio >= 1.0)) {
				cli_error("diff: --slower-ratio wants a ratio of at least 1, not '%s'", optarg);
				return cli_bad_usage("diff");
			}
			break;
		case 'f':
			o.slower_floor_ms = strtoll(optarg, &end, 10);
			if (*end || end == optarg || o.slower_floor_ms < 0) {
				cli_error("diff: --slower-floor wants milliseconds, not '%s'", optarg);
				return cli_bad_usage("diff");
			}
			break;
		case 'b': base_opt = optarg; break;
		case 'B': o.base_branch = optarg; break;
		case 'g': git_dir = optarg; break;
		case 'h': cli_command_usage("diff", stdout); return EXIT_OK;
		default: return cli_bad_usage("diff");
		}
	}
	int npos = argc - optind;
	if (npos > 2 || (npos == 2 && base_opt)) {
		cli_error("diff: name at most a RUN and a BASE (or --base)");
		return cli_bad_usage("diff");
	}
	if (npos == 2)
		base_opt = argv[optind + 1];
	if (!cli_open(c, false))
		return EXIT_ERROR;

	struct cs_err err;
	err_clear(&err);
	struct run r, base;
	char *run_job = NULL, *base_job = NULL;
	bool have_base = false;
	if (npos >= 1) {
		if (find_side(c, argv[optind], &r, &run_job, &err) < 0) {
			cli_error("%s", err.msg);
			return cli_exit_for(&err, EXIT_INTR);
		}
	} else {
		char *branch = store_default_branch(c->st, &err);
		if (store_newest_failed_run(c->st, branch, &r, &err) < 0) {
			if (err.code != CS_ENOTFOUND || !branch ||
			    store_newest_failed_run(c->st, NULL, &r, &err) < 0) {
				cli_error("%s", err.msg);
				free(branch);
				return cli_exit_for(&err, EXIT_INTR);
			}
			fprintf(stderr, "ciscope: no failed run on the default branch '%s': comparing "
					"the newest failed run\n", branch);
		}
		free(branch);
	}
	if (base_opt) {
		if (find_side(c, base_opt, &base, &base_job, &err) < 0) {
			cli_error("%s", err.msg);
			run_free(&r);
			free(run_job);
			return cli_exit_for(&err, EXIT_INTR);
		}
		have_base = true;
	}
	struct parity_conf *pc = parity_conf_load(NULL, &err);
	if (!pc) {
		cli_error("%s: comparing without parity", err.msg);
		err_clear(&err);
	}
	o.parity = pc;
	struct gitrepo *g = gitrepo_open(git_dir);
	if (git_dir && !g)
		fprintf(stderr, "ciscope: '%s' is not a git checkout: choosing the baseline by time\n",
			git_dir);
	struct run_diff d;
	int rc = EXIT_OK;
	if (run_diff_compute(c->st, g, &r, run_job, have_base ? &base : NULL, base_job, &o, &d,
			     &err) < 0) {
		cli_error("%s", err.msg);
		rc = cli_exit_for(&err, EXIT_INTR);
	} else {
		struct buf b = BUF_INIT;
		if (json)
			json_diff(&b, &d, &o);
		else
			text_diff(c, &b, &d, &o);
		fwrite(b.data ? b.data : "", 1, b.len, stdout);
		buf_release(&b);
		if (!d.has_base && !json)
			fprintf(stderr, "ciscope: no baseline: %s (name one with --base RUN)\n", d.reason);
		run_diff_release(&d);
	}
	gitrepo_close(g);
	parity_conf_free(pc);
	run_free(&r);
	if (have_base)
		run_free(&base);
	free(run_job);
	free(base_job);
	return rc;
}
