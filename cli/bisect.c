/* bisect.c - `ciscope commits` and `ciscope bisect` (core/commits.h,
 * core/bisect.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "core/bisect.h"
#include "core/commits.h"
#include "core/gitrepo.h"
#include "core/sanitize.h"

static int fail(const struct cs_err *err)
{
	cli_error("%s", err->msg);
	return cli_exit_for(err, EXIT_INTR);
}

static long count_arg(const char *opt, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end || n < 0 || n > 10000000) {
		cli_error("%s: '%s' is not a number", opt, v);
		return -1;
	}
	return n;
}

static void put(struct buf *b, const char *s)
{
	s = s ? s : "-";
	sanitize_append(b, s, strlen(s), 0);
}

/* Multi-line text: each line sanitised on its own, the line ends kept. */
static void put_lines(struct buf *b, const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		sanitize_append(b, s, n, 0);
		if (!s[n])
			break;
		buf_addc(b, '\n');
		s += n + 1;
	}
}

/* --- commits ---------------------------------------------------------------------- */
static void json_commit_head(struct buf *b, const struct gitrepo_commit *c)
{
	buf_adds(b, "{\"sha\":");
	cli_json_str(b, c->sha);
	buf_adds(b, ",\"subject\":");
	cli_json_str(b, c->subject);
	buf_adds(b, ",\"author\":");
	cli_json_str(b, c->author);
	buf_adds(b, ",\"time\":");
	cli_json_time(b, c->time_ms);
	buf_addf(b, ",\"merge\":%s", c->n_parents > 1 ? "true" : "false");
}

static int last_green(struct cli *c, struct gitrepo *g, const char *branch, const char *workflow,
		      bool json)
{
	struct cs_err err;
	err_clear(&err);
	struct gitrepo_commit gc;
	if (commits_last_green(c->st, g, branch, workflow, 0, &gc, &err) < 0)
		return fail(&err);
	struct buf b = BUF_INIT;
	if (json) {
		json_commit_head(&b, &gc);
		buf_adds(&b, ",\"workflow\":");
		cli_json_str(&b, workflow);
		buf_adds(&b, "}\n");
	} else {
		buf_addf(&b, "%s  ", gc.sha);
		put(&b, gc.subject);
		buf_addc(&b, '\n');
	}
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	gitrepo_commit_release(&gc);
	return EXIT_OK;
}

int cmd_commits(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"branch", required_argument, NULL, 'b'}, {"limit", required_argument, NULL, 'L'},
		{"json", no_argument, NULL, 'j'},	  {"repo", required_argument, NULL, 'r'},
		{"last-green", no_argument, NULL, 'g'},   {"workflow", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0}};
	const char *branch = NULL, *repo = NULL, *workflow = NULL;
	long limit = 50;
	bool json = false, green = false;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "b:L:h", opts, NULL)) != -1) {
		switch (o) {
		case 'b': branch = optarg; break;
		case 'L':
			if ((limit = count_arg("--limit", optarg)) < 0)
				return EXIT_USAGE;
			break;
		case 'j': json = true; break;
		case 'r': repo = optarg; break;
		case 'g': green = true; break;
		case 'w': workflow = optarg; break;
		case 'h': cli_command_usage("commits", stdout); return EXIT_OK;
		default: return cli_bad_usage("commits");
		}
	}
	if (optind < argc) {
		cli_error("commits: unexpected argument '%s'", argv[optind]);
		return cli_bad_usage("commits");
	}
	if (workflow && !green) {
		cli_error("commits: --workflow goes with --last-green");
		return cli_bad_usage("commits");
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct gitrepo *g = commits_open_repo(repo, &err);
	if (!g)
		return fail(&err);
	if (green) {
		int rc = last_green(c, g, branch, workflow, json);
		gitrepo_close(g);
		return rc;
	}
	struct commit_list l;
	if (commits_list(c->st, g, branch, (int)(limit ? limit : 50), &l, &err) < 0) {
		gitrepo_close(g);
		return fail(&err);
	}
	/* the parity/threshold state where the metrics exist */
	char *top = gitrepo_top(repo);
	if (commits_judge(c->st, top, &l, &err) < 0)
		cli_error("%s (commits are not judged against parity and thresholds)", err.msg);
	free(top);
	struct buf b = BUF_INIT;
	if (json) {
		buf_adds(&b, "{\"branch\":");
		cli_json_str(&b, l.branch);
		buf_adds(&b, ",\"workflows\":[");
		for (int w = 0; w < l.n_workflows; w++) {
			if (w)
				buf_addc(&b, ',');
			cli_json_str(&b, l.workflows[w]);
		}
		buf_adds(&b, "],\"commits\":[");
		for (int i = 0; i < l.n; i++) {
			const struct commit_row *r = &l.rows[i];
			if (i)
				buf_addc(&b, ',');
			json_commit_head(&b, &r->c);
			buf_addf(&b, ",\"runs\":%d,\"verdict\":\"%s\",\"workflows\":{", r->n_runs,
				 commit_verdict_name(r->overall));
			for (int w = 0, k = 0; w < l.n_workflows; w++) {
				if (!r->wf[w].n_runs)
					continue;
				if (k++)
					buf_addc(&b, ',');
				cli_json_str(&b, l.workflows[w]);
				buf_addf(&b, ":{\"verdict\":\"%s\",\"runs\":%d}", commit_verdict_name(r->wf[w].v),
					 r->wf[w].n_runs);
			}
			buf_addf(&b, "},\"thresholds\":{\"state\":\"%s\",\"breaches\":%d},\"parity\":",
				 th_state_name(r->th), r->th_breaches);
			if (r->parity == CP_NONE) {
				buf_adds(&b, "null");
			} else {
				buf_addf(&b, "{\"verdict\":\"%s\",\"runs\":%d,\"channel\":",
					 commit_parity_name(r->parity), r->parity_runs);
				cli_json_str(&b, r->parity_channel);
				buf_addc(&b, '}');
			}
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]}\n");
	} else {
		int64_t now = time_now_ms();
		buf_adds(&b, "SHA      AGE      ");
		for (int w = 0; w < l.n_workflows; w++)
			table_cell(&b, l.workflows[w], 8, false, c->utf8);
		if (l.n_parity)
			table_cell(&b, "PARITY", 8, false, c->utf8);
		if (l.n_th)
			table_cell(&b, "THRESH", 8, false, c->utf8);
		table_cell(&b, "AUTHOR", 16, false, c->utf8);
		buf_adds(&b, "SUBJECT\n");
		for (int i = 0; i < l.n; i++) {
			const struct commit_row *r = &l.rows[i];
			char age[32];
			time_format_age(r->c.time_ms, now, age, sizeof(age));
			buf_addf(&b, "%.7s  ", r->c.sha);
			table_cell(&b, age, 7, false, c->utf8);
			for (int w = 0; w < l.n_workflows; w++) {
				enum commit_verdict v = r->wf[w].v;
				const char *col = v == CV_GREEN ? cli_color(c, "success")
						: v == CV_RED ? cli_color(c, "failure")
						: v == CV_RUNNING || v == CV_FLAKY ? cli_color(c, "in_progress") : "";
				buf_adds(&b, col);
				table_cell(&b, commit_verdict_glyph(v, c->utf8), 8, false, c->utf8);
				if (*col)
					buf_adds(&b, cli_reset(c));
			}
			if (l.n_parity) {
				enum commit_verdict pv = r->parity == CP_PASS ? CV_GREEN
						       : r->parity == CP_FAIL ? CV_RED : CV_NONE;
				const char *col = pv == CV_GREEN ? cli_color(c, "success")
						: pv == CV_RED ? cli_color(c, "failure") : "";
				buf_adds(&b, col);
				table_cell(&b, commit_verdict_glyph(pv, c->utf8), 8, false, c->utf8);
				if (*col)
					buf_adds(&b, cli_reset(c));
			}
			if (l.n_th) {
				char th[16];
				if (r->th == TH_NONE)
					snprintf(th, sizeof(th), "%s", commit_verdict_glyph(CV_NONE, c->utf8));
				else if (r->th_breaches)
					snprintf(th, sizeof(th), "%s %d", th_state_name(r->th), r->th_breaches);
				else
					snprintf(th, sizeof(th), "%s", th_state_name(r->th));
				const char *col = r->th == TH_BREACH_FAIL ? cli_color(c, "failure")
						: r->th == TH_BREACH_WARN ? cli_color(c, "in_progress") : "";
				buf_adds(&b, col);
				table_cell(&b, th, 8, false, c->utf8);
				if (*col)
					buf_adds(&b, cli_reset(c));
			}
			table_cell(&b, r->c.author, 16, false, c->utf8);
			if (r->c.n_parents > 1)
				buf_adds(&b, "(merge) ");
			put(&b, r->c.subject);
			buf_addc(&b, '\n');
		}
	}
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	commit_list_release(&l);
	gitrepo_close(g);
	return EXIT_OK;
}

/* --- bisect ------------------------------------------------------------------------- */
static void json_obs_runs(struct buf *b, const struct bisect_commit *k)
{
	buf_addc(b, '[');
	int n = 0;
	for (int i = 0; i < k->n_obs; i++) {
		const struct bisect_obs *o = &k->obs[i];
		if (!o->run)
			continue;
		if (n++)
			buf_addc(b, ',');
		buf_addf(b, "{\"id\":%lld,\"attempt\":%d,\"conclusion\":", (long long)o->run, o->attempt);
		cli_json_str(b, o->conclusion);
		buf_addf(b, ",\"verdict\":\"%s\"", bisect_verdict_name(o->v));
		if (o->dispatch_ref) {
			buf_adds(b, ",\"dispatch\":{\"ref\":");
			cli_json_str(b, o->dispatch_ref);
			buf_adds(b, ",\"at\":");
			cli_json_time(b, o->dispatched_at);
			buf_addc(b, '}');
		}
		if (o->detail) {
			buf_adds(b, ",\"value\":");
			cli_json_str(b, o->detail);
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* Where a commit's verdicts came from: "runs", "manual", "bisect run", ...
 * joined with '+' in order of appearance. */
static void sources(struct buf *b, const struct bisect_commit *k)
{
	const char *seen[8];
	int n = 0;
	for (int i = 0; i < k->n_obs; i++) {
		const char *s = k->obs[i].source;
		if (!strcmp(s, "run"))
			s = "runs";
		bool dup = false;
		for (int j = 0; j < n; j++)
			dup |= !strcmp(seen[j], s);
		if (!dup && n < 8)
			seen[n++] = s;
	}
	for (int j = 0; j < n; j++) {
		if (j)
			buf_addc(b, '+');
		buf_adds(b, seen[j]);
	}
}

static void json_evidence(struct buf *b, const struct bisect_commit *k, bool *first)
{
	if (!k->n_obs)
		return;
	if (!*first)
		buf_addc(b, ',');
	*first = false;
	buf_adds(b, "{\"sha\":");
	cli_json_str(b, k->c.sha);
	buf_addf(b, ",\"verdict\":\"%s\",\"runs\":",
		 k->verdict == BV_NONE && k->skipped ? "skip" : bisect_verdict_name(k->verdict));
	json_obs_runs(b, k);
	buf_adds(b, ",\"source\":\"");
	sources(b, k);
	buf_adds(b, "\"}");
}

static void status_json(struct buf *b, const struct bisect_status *s)
{
	buf_adds(b, "{\"target\":");
	cli_json_str(b, s->target);
	buf_adds(b, ",\"branch\":");
	cli_json_str(b, s->branch);
	const char *good = s->good_idx >= 0 ? s->commits[s->good_idx].c.sha : s->start_good;
	buf_adds(b, ",\"good\":");
	cli_json_str(b, good);
	buf_adds(b, ",\"bad\":");
	cli_json_str(b, s->n ? s->commits[s->bad_idx].c.sha : s->start_bad);
	buf_adds(b, ",\"suspects\":[");
	for (int i = s->good_idx + 1, k = 0; s->n && i <= s->bad_idx; i++, k++) {
		if (k)
			buf_addc(b, ',');
		cli_json_str(b, s->commits[i].c.sha);
	}
	buf_adds(b, "],\"first_bad\":");
	cli_json_str(b, s->first_bad >= 0 ? s->commits[s->first_bad].c.sha : NULL);
	buf_adds(b, ",\"next\":");
	cli_json_str(b, s->next >= 0 ? s->commits[s->next].c.sha : NULL);
	buf_addf(b, ",\"steps_left\":%d,\"evidence\":[", s->steps_left);
	bool first = true;
	json_evidence(b, &s->good_commit, &first);
	for (int i = 0; i < s->n; i++)
		json_evidence(b, &s->commits[i], &first);
	buf_adds(b, "],\"probabilities\":[");
	if (s->bayes) {
		int k = 0;
		for (int i = 0; i < s->n; i++) {
			if (s->commits[i].p < 0.001)
				continue;
			if (k++)
				buf_addc(b, ',');
			buf_adds(b, "{\"sha\":");
			cli_json_str(b, s->commits[i].c.sha);
			buf_addf(b, ",\"p\":%.4f}", s->commits[i].p);
		}
	}
	buf_adds(b, "],\"skipped\":[");
	for (int i = 0, k = 0; i < s->n; i++) {
		if (!s->commits[i].skipped)
			continue;
		if (k++)
			buf_addc(b, ',');
		cli_json_str(b, s->commits[i].c.sha);
	}
	buf_adds(b, "],\"state\":");
	cli_json_str(b, s->state);
	buf_addf(b, ",\"commits\":%d,\"bayesian\":%s,\"flake_rate\":%.4f,\"not_bisectable\":%s,"
		    "\"only_skipped\":%s,\"first_bad_is_merge\":%s,\"next_has_run\":%s,\"message\":",
		 s->n, s->bayes ? "true" : "false", s->flake_rate, s->not_bisectable ? "true" : "false",
		 s->only_skipped ? "true" : "false",
		 s->first_bad >= 0 && s->commits[s->first_bad].c.n_parents > 1 ? "true" : "false",
		 s->next_has_run ? "true" : "false");
	cli_json_str(b, s->message);
	buf_adds(b, "}\n");
}

static const char *verdict_glyph(const struct bisect_commit *k, bool utf8)
{
	if (k->skipped && k->verdict == BV_NONE)
		return utf8 ? "⊘" : "s";
	switch (k->verdict) {
	case BV_GOOD: return utf8 ? "✓" : "+";
	case BV_BAD: return utf8 ? "✗" : "x";
	case BV_MIXED: return "~";
	default: return utf8 ? "·" : ".";
	}
}

static void status_line(struct cli *c, struct buf *b, const struct bisect_status *s, int i,
			const struct bisect_commit *k)
{
	bool next = i >= 0 && i == s->next, fb = i >= 0 && i == s->first_bad;
	buf_addf(b, "%s %s %.12s ", next ? ">" : fb ? "!" : " ", verdict_glyph(k, c->utf8), k->c.sha);
	if (s->bayes && i >= 0)
		buf_addf(b, "p=%.3f ", k->p);
	if (k->c.n_parents > 1)
		buf_adds(b, "(merge) ");
	put(b, k->c.subject);
	int nr = 0;
	for (int j = 0; j < k->n_obs; j++) {
		const struct bisect_obs *o = &k->obs[j];
		char ref[RUN_REF_MAX];
		if (o->run) {
			buf_adds(b, nr++ ? ", " : "  [");
			buf_addf(b, "run %s ", run_ref(ref, sizeof(ref), o->run, o->attempt));
			put(b, o->conclusion);
			if (o->detail) {
				buf_adds(b, " ");
				put(b, o->detail);
			}
		} else if (strcmp(o->source, "start") != 0) {
			buf_adds(b, nr++ ? ", " : "  [");
			buf_addf(b, "%s: %s", o->source, bisect_verdict_name(o->v));
		}
	}
	if (nr)
		buf_addc(b, ']');
	buf_addc(b, '\n');
}

static void status_text(struct cli *c, struct buf *b, const struct bisect_status *s, struct gitrepo *g)
{
	buf_adds(b, "bisect ");
	put(b, s->target);
	buf_adds(b, " on ");
	put(b, s->branch);
	buf_addf(b, " (%s): ", s->state);
	put(b, s->message);
	buf_addc(b, '\n');
	int lo = s->good_idx + 1, hi = s->bad_idx;
	if (s->n == 0)
		return;
	/* newest first, like git log; long ranges show the ends and the next */
	status_line(c, b, s, -1, s->good_idx >= 0 ? &s->commits[s->good_idx] : &s->good_commit);
	int shown = 0;
	for (int i = lo; i <= hi; i++) {
		bool near = i - lo < 5 || hi - i < 5 || (s->next >= 0 && abs(i - s->next) <= 2) ||
			    s->commits[i].n_obs || (s->bayes && s->commits[i].p >= 0.01);
		if (!near) {
			if (shown >= 0)
				buf_adds(b, "  ...\n");
			shown = -1;
			continue;
		}
		shown = 1;
		status_line(c, b, s, i, &s->commits[i]);
	}
	if (s->not_bisectable)
		status_line(c, b, s, s->good_after_bad, &s->commits[s->good_after_bad]);
	if (s->first_bad >= 0) {
		const struct bisect_commit *k = &s->commits[s->first_bad];
		buf_addf(b, "\nfirst bad commit %s\nAuthor: ", k->c.sha);
		put(b, k->c.author);
		buf_adds(b, "\n    ");
		put(b, k->c.subject);
		buf_addc(b, '\n');
		if (k->c.n_parents > 1)
			buf_adds(b, "    (a merge on the first-parent line: the change came with the merged branch)\n");
		struct buf st = BUF_INIT;
		struct cs_err err;
		err_clear(&err);
		if (gitrepo_diffstat(g, k->c.sha, 20, &st, &err) == 0)
			put_lines(b, buf_cstr(&st));
		buf_release(&st);
	} else if (s->next >= 0) {
		const struct bisect_commit *k = &s->commits[s->next];
		buf_addf(b, "\nnext: %s ", k->c.sha);
		put(b, k->c.subject);
		buf_addf(b, "\n%d suspects, roughly %d step%s left%s\n", hi - lo + 1, s->steps_left,
			 s->steps_left == 1 ? "" : "s", s->next_has_run ? " (a run exists there)" : "");
	}
}

/* bisect log --json: the record, marks and dispatches in the order they came. */
static void log_json(struct buf *b, const struct bisect_log_rec *r)
{
	buf_addf(b, "{\"id\":%lld,\"state\":", (long long)r->id);
	cli_json_str(b, r->state);
	buf_adds(b, ",\"target\":");
	cli_json_str(b, r->target);
	buf_adds(b, ",\"branch\":");
	cli_json_str(b, r->branch);
	buf_adds(b, ",\"start_good\":");
	cli_json_str(b, r->good);
	buf_adds(b, ",\"start_bad\":");
	cli_json_str(b, r->bad);
	buf_adds(b, ",\"started_at\":");
	cli_json_time(b, r->started_at);
	buf_adds(b, ",\"ended_at\":");
	cli_json_time(b, r->ended_at);
	buf_adds(b, ",\"first_bad\":");
	cli_json_str(b, r->first_bad);
	buf_adds(b, ",\"entries\":[");
	for (int i = 0; i < r->n; i++) {
		const struct bisect_log_entry *e = &r->e[i];
		buf_adds(b, i ? ",{\"kind\":" : "{\"kind\":");
		cli_json_str(b, e->dispatch ? "dispatch" : "verdict");
		buf_adds(b, ",\"sha\":");
		cli_json_str(b, e->sha);
		buf_adds(b, ",\"at\":");
		cli_json_time(b, e->at);
		if (e->dispatch) {
			buf_adds(b, ",\"workflow\":");
			cli_json_str(b, e->workflow);
			buf_adds(b, ",\"repo\":");
			cli_json_str(b, e->repo);
			buf_adds(b, ",\"ref\":");
			cli_json_str(b, e->ref);
			if (e->run)
				buf_addf(b, ",\"run\":%lld", (long long)e->run);
			else
				buf_adds(b, ",\"run\":null");
			buf_adds(b, ",\"run_status\":");
			cli_json_str(b, e->run_status);
			buf_adds(b, ",\"conclusion\":");
			cli_json_str(b, e->conclusion);
		} else {
			buf_adds(b, ",\"verdict\":");
			cli_json_str(b, bisect_verdict_name(e->v));
			buf_adds(b, ",\"source\":");
			cli_json_str(b, e->source);
			buf_adds(b, ",\"detail\":");
			cli_json_str(b, e->detail);
		}
		buf_addc(b, '}');
	}
	buf_adds(b, "]}\n");
}

static int show_status(struct cli *c, const struct bisect_status *s, struct gitrepo *g, bool json)
{
	struct buf b = BUF_INIT;
	if (json)
		status_json(&b, s);
	else
		status_text(c, &b, s, g);
	fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_release(&b);
	return EXIT_OK;
}

static void run_progress(void *ctx, const char *sha, const char *what)
{
	(void)ctx;
	fprintf(stderr, "bisect run: %.12s %s\n", sha, what);
}

int cmd_bisect(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"job", required_argument, NULL, 'J'},	    {"workflow", required_argument, NULL, 'w'},
		{"test", required_argument, NULL, 't'},	    {"finding", required_argument, NULL, 'f'},
		{"metric", required_argument, NULL, 'm'},   {"above", required_argument, NULL, 'A'},
		{"below", required_argument, NULL, 'B'},    {"parity", required_argument, NULL, 'P'},
		{"good", required_argument, NULL, 'g'},	    {"bad", required_argument, NULL, 'x'},
		{"branch", required_argument, NULL, 'b'},   {"repo", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},	    {"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0}};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_command_usage("bisect", argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	/* getopt names argv[0] in its errors: "ciscope: bisect start: ..." */
	static char prog[64];
	snprintf(prog, sizeof(prog), "ciscope: bisect %.40s", sub);
	argv[1] = prog;
	if (!strcmp(sub, "dispatch"))
		return cmd_bisect_dispatch(c, argc - 1, argv + 1);
	struct buf target = BUF_INIT;
	const char *good = NULL, *bad = NULL, *branch = NULL, *repo = NULL, *metric = NULL, *bound = NULL;
	bool json = false, above = false;
	int ntargets = 0;
	long timeout = 0;
	int o;
	optind = 0;
	/* "+": bisect run stops at its command, whose options are its own */
	const char *optstr = strcmp(sub, "run") ? "h" : "+h";
	while ((o = getopt_long(argc - 1, argv + 1, optstr, opts, NULL)) != -1) {
		switch (o) {
		case 'J': buf_reset(&target); buf_addf(&target, "job:%s", optarg); ntargets++; break;
		case 'w': buf_reset(&target); buf_addf(&target, "workflow:%s", optarg); ntargets++; break;
		case 't': buf_reset(&target); buf_addf(&target, "test:%s", optarg); ntargets++; break;
		case 'f': buf_reset(&target); buf_addf(&target, "finding:%s", optarg); ntargets++; break;
		case 'm': metric = optarg; ntargets++; break;
		case 'A': bound = optarg; above = true; break;
		case 'B': bound = optarg; above = false; break;
		case 'P': buf_reset(&target); buf_addf(&target, "parity:%s", optarg); ntargets++; break;
		case 'g': good = optarg; break;
		case 'x': bad = optarg; break;
		case 'b': branch = optarg; break;
		case 'r': repo = optarg; break;
		case 'j': json = true; break;
		case 'T':
			if ((timeout = count_arg("--timeout", optarg)) < 0) {
				buf_release(&target);
				return EXIT_USAGE;
			}
			break;
		case 'h': cli_command_usage("bisect", stdout); buf_release(&target); return EXIT_OK;
		default: buf_release(&target); return cli_bad_usage("bisect");
		}
	}
	int rest = optind + 1; /* index into argv of the first operand after the options */
	if (metric) {
		if (!bound) {
			cli_error("bisect: --metric needs --above X or --below X");
			buf_release(&target);
			return EXIT_USAGE;
		}
		buf_reset(&target);
		buf_addf(&target, "metric:%s%c%s", metric, above ? '>' : '<', bound);
	}
	bool is_start = !strcmp(sub, "start");
	if (!is_start && (ntargets || good || bad || branch)) {
		cli_error("bisect %s: targets, --good, --bad and --branch go with bisect start", sub);
		buf_release(&target);
		return EXIT_USAGE;
	}
	if (is_start && ntargets != 1) {
		cli_error("bisect start: give exactly one target (--job, --workflow, --test, --finding, --metric, --parity)");
		buf_release(&target);
		return EXIT_USAGE;
	}
	struct cs_err err;
	err_clear(&err);
	bool write = strcmp(sub, "status") != 0 && strcmp(sub, "log") != 0;
	if (!cli_open(c, write)) {
		buf_release(&target);
		return EXIT_ERROR;
	}
	/* the checkout: --repo, else the one the bisection was started in, else here */
	char *stored = repo ? NULL : bisect_repo_path(c->st);
	const char *where = repo ? repo : stored;
	char *top = gitrepo_top(where);
	struct gitrepo *g = NULL;
	if (!strcmp(sub, "log") || !strcmp(sub, "reset")) {
		/* need no checkout */
	} else if (!(g = commits_open_repo(where, &err))) {
		free(stored);
		free(top);
		buf_release(&target);
		return fail(&err);
	}
	struct bisect_status s;
	memset(&s, 0, sizeof(s));
	int rc = EXIT_OK, nargs = argc - rest;
	if (is_start) {
		if (nargs) {
			cli_error("bisect start: unexpected argument '%s'", argv[rest]);
			rc = EXIT_USAGE;
		} else {
			struct bisect_start_opts so = {.target = buf_cstr(&target), .good = good, .bad = bad,
						       .branch = branch, .repo_path = top};
			rc = bisect_start(c->st, g, &so, &s, &err) < 0 ? fail(&err) : show_status(c, &s, g, json);
		}
	} else if (!strcmp(sub, "good") || !strcmp(sub, "bad") || !strcmp(sub, "skip")) {
		if (nargs > 1) {
			cli_error("bisect %s: one REV at most", sub);
			rc = EXIT_USAGE;
		} else {
			enum bisect_verdict v = sub[0] == 'g' ? BV_GOOD : sub[0] == 'b' ? BV_BAD : BV_SKIP;
			rc = bisect_mark(c->st, g, nargs ? argv[rest] : NULL, v, "manual", NULL, &s, &err) < 0
				? fail(&err) : show_status(c, &s, g, json);
		}
	} else if (!strcmp(sub, "status")) {
		rc = nargs ? cli_bad_usage("bisect")
			   : bisect_status(c->st, g, &s, &err) < 0 ? fail(&err) : show_status(c, &s, g, json);
	} else if (!strcmp(sub, "log")) {
		struct buf b = BUF_INIT;
		struct bisect_log_rec r;
		if (nargs)
			rc = cli_bad_usage("bisect");
		else if (json) {
			if (bisect_log_read(c->st, &r, &err) < 0)
				rc = fail(&err);
			else {
				log_json(&b, &r);
				fwrite(b.data, 1, b.len, stdout);
				bisect_log_rec_release(&r);
			}
		} else if (bisect_log(c->st, &b, &err) < 0)
			rc = fail(&err);
		else {
			struct buf safe = BUF_INIT;
			put_lines(&safe, buf_cstr(&b));
			fwrite(buf_cstr(&safe), 1, safe.len, stdout);
			buf_release(&safe);
		}
		buf_release(&b);
	} else if (!strcmp(sub, "replay")) {
		struct buf text = BUF_INIT;
		if (nargs != 1)
			rc = cli_bad_usage("bisect");
		else if (file_read_all(argv[rest], 1 << 20, &text, &err) < 0 ||
			 bisect_replay(c->st, g, buf_cstr(&text), &s, &err) < 0)
			rc = fail(&err);
		else
			rc = show_status(c, &s, g, json);
		buf_release(&text);
	} else if (!strcmp(sub, "reset")) {
		rc = nargs ? cli_bad_usage("bisect") : bisect_reset(c->st, &err) < 0 ? fail(&err) : EXIT_OK;
	} else if (!strcmp(sub, "run")) {
		if (!nargs) {
			cli_error("bisect run: give the command to run");
			rc = EXIT_USAGE;
		} else if (!top) {
			cli_error("bisect run needs a checkout with a work tree (--repo PATH)");
			rc = EXIT_ERROR;
		} else {
			struct bisect_run_opts ro = {.argv = argv + rest, .timeout_s = (int)timeout,
						     .stop = &cli_interrupted, .progress = run_progress};
			int r = bisect_run(c->st, g, top, &ro, &s, &err);
			if (r < 0)
				rc = fail(&err);
			if (s.target)
				show_status(c, &s, g, json);
		}
	} else {
		cli_error("bisect: unknown subcommand '%s'", sub);
		rc = cli_bad_usage("bisect");
	}
	bisect_status_release(&s);
	gitrepo_close(g);
	free(stored);
	free(top);
	buf_release(&target);
	return rc;
}
