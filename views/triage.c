/* triage.c - the triage view: why runs failed.
 *
 * Two lists over the same findings (core/triage.h), v switches:
 *  - by run: failed runs, newest first -> their failed jobs -> the findings
 *    of each job, every finding with its category coloured by the decision
 *    it calls for (fix the code, investigate, retry), its triage state and
 *    its fingerprint's history ("new · 4 runs since fd235b8 · flaky");
 *  - by fingerprint: the same failure across runs as one row ("12 runs · 5
 *    commits · since abc1234 · flaky"), its occurrences under it.
 * z unfolds a finding (or a fingerprint) into its details: the history,
 * the flaky evidence, the state with its note and who set it, the rule and
 * where it matched, and the excerpt with line numbers. Enter opens the log
 * pager at the finding's first line (at an excerpt line: that line).
 * a, F, x, u set the state (acknowledged, known flaky, fixed, new) of the
 * fingerprint under the cursor, c writes a note; both are kept in the index
 * with git's user.name. f filters: category:, state:, workflow:, branch:.
 *
 * The model (loading, histories, rows, folds) is core/triagetree.h; this
 * file draws it and maps keys to it.
 *
 * Loading never blocks the screen: it runs as background work, a few runs
 * (or fingerprints) per slice, with their histories; before it, runs whose
 * cached triage is missing or stale (an index from before triage, edited
 * rules) are triaged again, a couple per slice. Both show their progress in
 * the status bar and stop on Esc, leaving what is loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gitrepo.h"
#include "core/rules.h"
#include "core/store.h"
#include "core/triage.h"
#include "core/triagequery.h"
#include "core/triagetree.h"
#include "views/common.h"
#include "views/views.h"

/* pages and caps of loading: core/triagetree.h (TT_*) */
#define ENSURE_RUNS 2    /* runs triaged per step when the cache is stale */
#define OPEN_ALL_MAX 200 /* fingerprints Z unfolds at once */

#define STR_(x) #x
#define STR(x) STR_(x)

struct work_ctx {
	struct view *v;
};

struct triage_priv {
	struct view *v;
	struct triage_tree t; /* the model: runs, fingerprints, histories, rows */
	int64_t select_run; /* put the cursor on this run once loaded */
	char *filter_text;
	/* background work */
	struct work_ctx ctx;
	bool working, stopped;
	struct triage_ensure_job *ensure;
	int ensured_jobs;
	char who[256];
	int64_t version; /* of the index when loaded */
};

/* --- small helpers -------------------------------------------------------------------- */
static const char *sep(void)
{
	return tui_glyph(" \u00b7 ", " - ");
}

static enum role decision_role(enum decision d)
{
	switch (d) {
	case DECIDE_FIX: return ROLE_FIX;
	case DECIDE_RETRY: return ROLE_RETRY;
	case DECIDE_INVESTIGATE: break;
	}
	return ROLE_INVESTIGATE;
}

/* The word shown for a triage state, and its role. */
/* The state column shows a state someone set: untriaged is the blank, so
 * that "new" in this view means one thing, first seen here. */
static const char *state_word(const char *s)
{
	if (!s || !strcmp(s, "new"))
		return "";
	if (!strcmp(s, "acknowledged"))
		return "ack";
	if (!strcmp(s, "known-flaky"))
		return "flaky";
	return s; /* fixed */
}

static enum role state_role_of(const char *s)
{
	if (!s || !strcmp(s, "new"))
		return ROLE_DIM;
	if (!strcmp(s, "known-flaky"))
		return ROLE_FLAKY;
	if (!strcmp(s, "fixed"))
		return ROLE_SUCCESS;
	return ROLE_DEFAULT;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int left(const struct tui_canvas *c)
{
	return tui_canvas_width(c) - tui_canvas_col(c);
}

/* --- rows ------------------------------------------------------------------------------------ */
/* Rebuild the rows, keeping the cursor on what it was on (or what holds
 * it: its finding, job, run). */
static void rebuild(struct view *v)
{
	struct triage_priv *p = v->priv;
	struct tt_row cur = {.kind = TT_MSG};
	bool had = p->t.nrows && v->cursor >= 0 && (size_t)v->cursor < p->t.nrows;
	if (had)
		cur = p->t.rows[v->cursor];
	long top_off = v->cursor - v->top;
	tt_build_rows(&p->t);
	tui_view_set_rows(v, (long)p->t.nrows);
	long at = had ? tt_locate(&p->t, &cur) : -1;
	if (at >= 0 && at != v->cursor) {
		v->cursor = at;
		v->top = at - top_off;
		if (v->top < 0)
			v->top = 0;
		tui_view_set_rows(v, (long)p->t.nrows); /* clamps top and cursor */
	}
	tui_view_dirty(v);
}

static void load_occurrences(struct triage_priv *p, struct tt_group *g)
{
	struct cs_err err;
	err_clear(&err);
	if (tt_load_occurrences(&p->t, g, &err) < 0)
		tui_error("%s", err.msg);
}

/* --- background work ----------------------------------------------------------------------------- */
static void place_selected(struct view *v)
{
	struct triage_priv *p = v->priv;
	if (!p->select_run || p->t.mode != TT_BY_RUN)
		return;
	for (size_t i = 0; i < p->t.nrows; i++) {
		const struct tt_row *t = &p->t.rows[i];
		if (t->kind == TT_RUN && p->t.runs[t->a].r.id == p->select_run) {
			/* at the top, its jobs and findings below it */
			p->select_run = 0;
			v->cursor = v->top = (long)i;
			tui_view_set_rows(v, (long)p->t.nrows);
			return;
		}
	}
}

/* filter_text: the filter of the triage's query, as the user would type it. */
static void set_filter_text(struct triage_priv *p)
{
	struct buf b = BUF_INIT;
	triage_query_format(&p->t.q, &b);
	free(p->filter_text);
	p->filter_text = buf_detach(&b, NULL);
	if (!p->filter_text)
		p->filter_text = xstrdup("");
}

/* One slice of the triage loaded and shown (errors said); whether more is
 * to come. */
static bool load_slice(struct view *v)
{
	struct triage_priv *p = v->priv;
	bool more = tt_load_step(&p->t);
	rebuild(v);
	place_selected(v);
	if (p->t.error[0])
		tui_error("%s", p->t.error);
	return more;
}

static bool work_step(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct triage_priv *p = v->priv;
	if (p->ensure) {
		struct cs_err err;
		err_clear(&err);
		int rc = triage_ensure_step(p->ensure, ENSURE_RUNS, &err);
		if (rc == 1)
			return true;
		int done, total;
		triage_ensure_progress(p->ensure, &done, &total, &p->ensured_jobs);
		if (rc < 0)
			tui_error("cannot bring the triage up to date (%s): showing what the index holds",
				  err.msg);
		else
			tui_message("triaged %d job%s of %d run%s with the current rules", p->ensured_jobs,
				    p->ensured_jobs == 1 ? "" : "s", total, total == 1 ? "" : "s");
		triage_ensure_free(p->ensure);
		p->ensure = NULL;
		return true;
	}
	bool more = load_slice(v);
	if (!more)
		p->working = false;
	return more;
}

static void work_progress(void *ctx, char *out, size_t n)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct triage_priv *p = v->priv;
	if (p->ensure) {
		int done, total;
		triage_ensure_progress(p->ensure, &done, &total, NULL);
		snprintf(out, n, "triaging with the current rules: run %d of %d (Esc stops)",
			 done < total ? done + 1 : total, total);
	} else if (p->t.mode == TT_BY_RUN) {
		snprintf(out, n, "loading failed runs: %d (Esc stops)", p->t.nruns);
	} else {
		snprintf(out, n, "loading fingerprints: %d (Esc stops)", p->t.ngroups);
	}
}

static void start_work(struct view *v);

/* After Esc stopped the triage: load what the index holds, the work
 * started from the loop (not from inside the cancelling). */
static void resume_loading(struct view *v)
{
	start_work(v);
}

static void work_cancel(void *ctx)
{
	struct view *v = ((struct work_ctx *)ctx)->v;
	struct triage_priv *p = v->priv;
	if (!p->working)
		return;
	p->working = false;
	if (p->ensure) {
		int done, total;
		triage_ensure_progress(p->ensure, &done, &total, NULL);
		triage_ensure_free(p->ensure);
		p->ensure = NULL;
		tui_message("stopped triaging: %d of %d run%s left as they were (refresh starts again)",
			    total - done, total, total == 1 ? "" : "s");
		if (tt_load_step(&p->t))
			view_timer(v, 0, resume_loading);
	} else {
		p->stopped = true;
		if (p->t.mode == TT_BY_RUN)
			p->t.runs_done = true;
		else
			p->t.groups_done = true;
		tui_message("loading stopped (refresh loads the rest)");
	}
	rebuild(v);
}

static void start_work(struct view *v)
{
	struct triage_priv *p = v->priv;
	if (p->working)
		return;
	if (!p->ensure && (p->t.mode == TT_BY_RUN ? p->t.runs_done : p->t.groups_done))
		return;
	p->working = true;
	struct tui_work w = {.step = work_step, .progress = work_progress, .cancel = work_cancel,
			     .ctx = &p->ctx, .owner = v};
	tui_work_start(&w);
}

/* Load again from the start: the triage brought up to date first. */
static void reload(struct view *v)
{
	struct triage_priv *p = v->priv;
	if (p->working) {
		tui_work_stop(&p->ctx);
		p->working = false;
	}
	triage_ensure_free(p->ensure);
	p->ensure = NULL;
	/* come back to the run the cursor is on, wherever it is now */
	if (p->t.mode == TT_BY_RUN && p->t.nrows && (size_t)v->cursor < p->t.nrows &&
	    p->t.rows[v->cursor].kind != TT_MSG)
		p->select_run = p->t.runs[p->t.rows[v->cursor].a].r.id;
	p->t.nrows = 0;
	p->version = store_data_version(app.st);
	tt_drop_runs(&p->t);
	tt_drop_groups(&p->t);
	tt_hist_free_all(&p->t);
	p->t.error[0] = '\0';
	p->stopped = false;
	struct cs_err err;
	err_clear(&err);
	const struct ruleset *rs = triage_rules(&err);
	if (!rs) {
		tui_error("%s: showing the triage the index holds", err.msg);
	} else {
		p->ensure = triage_ensure_begin(app.st, rs, &err);
		if (!p->ensure) {
			tui_error("cannot check the triage is up to date: %s", err.msg);
		} else {
			int total;
			triage_ensure_progress(p->ensure, NULL, &total, NULL);
			if (!total) {
				triage_ensure_free(p->ensure);
				p->ensure = NULL;
			}
		}
	}
	if (!p->ensure) {
		/* the first slice now: the first frame has rows */
		if (!load_slice(v))
			return;
	} else {
		rebuild(v);
	}
	start_work(v);
}

/* --- drawing --------------------------------------------------------------------------------------- */
static void draw_msg(struct view *v, struct tui_canvas *c)
{
	struct triage_priv *p = v->priv;
	const char *msg;
	if (p->t.error[0])
		msg = p->t.error;
	else if (p->working || p->ensure)
		msg = "loading...";
	else if (!triage_query_empty(&p->t.q))
		msg = "no failure matches the filter (f changes it; an empty filter shows every one)";
	else if (p->t.only_run)
		msg = "this run has no failed job: nothing to triage";
	else
		msg = "no failed run in the index: nothing to triage";
	tui_text(c, msg, (size_t)-1, p->t.error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
}

static void draw_run(struct view *v, struct tui_canvas *c, const struct tt_run *t)
{
	struct triage_priv *p = v->priv;
	int w = tui_canvas_width(c);
	const struct run *r = &t->r;
	const char *state = run_state(r);
	if (t->sum.all_known_flaky)
		tui_text(c, "~", 1, ROLE_FLAKY, 1, TEXT_PAD);
	else
		tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	/* right side: attempt, jobs and findings, age */
	char counts[160] = "", age[32] = "", att[16] = "";
	int nf = 0;
	for (int k = 0; k < t->nj; k++)
		for (int m = 0; m < t->jobs[k].nf; m++)
			nf += tt_finding_shown(&p->t, &t->jobs[k].f[m]);
	bool why = t->nj == 0 && r->conclusion_why && *r->conclusion_why;
	if (why && w >= 60)
		/* no failed job (a local run's checks): say why it failed, as
		 * ciscope triage does, not "0 jobs · 0 findings" */
		snprintf(counts, sizeof(counts), "%s", r->conclusion_why);
	else if (w >= 100)
		snprintf(counts, sizeof(counts), "%d job%s%s%d finding%s", t->nj, t->nj == 1 ? "" : "s",
			 sep(), nf, nf == 1 ? "" : "s");
	else if (w >= 60)
		snprintf(counts, sizeof(counts), "%d finding%s", nf, nf == 1 ? "" : "s");
	if (r->created_at != CS_TIME_NONE)
		time_format_age(r->created_at, time_now_ms(), age, sizeof(age));
	if (r->attempt > 1)
		snprintf(att, sizeof(att), "#%d", r->attempt);
	int age_w = w >= 50 ? 8 : 0, att_w = w >= 70 ? 3 : 0;
	int cnt_w = counts[0] ? tui_width(counts, (size_t)-1) : 0;
	if (why && cnt_w > w / 3)
		cnt_w = w / 3;
	int wf_w = clampi(p->t.wf_w, 2, w >= 120 ? 20 : 10);
	int br_w = clampi(p->t.br_w, 4, w >= 160 ? 32 : w >= 100 ? 22 : 16);
	int sha_w = w >= 60 ? 7 : 0;
	int id_w = w >= 140 ? 12 : 0;
	if (w < 60)
		br_w = w >= 40 ? MIN(br_w, 10) : 0;
	int fixed = 2 + wf_w + 1 + (br_w ? br_w + 1 : 0) + (sha_w ? sha_w + 1 : 0) +
		    (id_w ? id_w + 1 : 0) + (att_w ? att_w + 1 : 0) + (cnt_w ? cnt_w + 1 : 0) +
		    (age_w ? age_w + 1 : 0);
	if (w - fixed < 12 && cnt_w) {
		fixed -= cnt_w + 1;
		cnt_w = 0;
	}
	tui_column(c, r->workflow ? r->workflow : "-", ROLE_DEFAULT, wf_w, 0);
	tui_column(c, r->branch ? r->branch : "-", ROLE_BRANCH, br_w, 0);
	char sha[8] = "-";
	if (r->sha && *r->sha)
		snprintf(sha, sizeof(sha), "%.7s", r->sha);
	tui_column(c, sha, ROLE_SHA, sha_w, 0);
	char id[32];
	run_ref(id, sizeof(id), r->provider_id, 1);
	tui_column(c, id, ROLE_DIM, id_w, 0);
	int subj_w = w - fixed;
	const char *subject = r->commit_subject && *r->commit_subject ? r->commit_subject
			      : r->title				 ? r->title
									 : "";
	if (subj_w > 1)
		tui_column(c, subject, ROLE_DEFAULT, subj_w - 1, 0);
	tui_column(c, att, ROLE_DIM, att_w, TEXT_RIGHT);
	tui_column(c, counts, ROLE_DIM, cnt_w, TEXT_RIGHT);
	if (age_w && left(c) > 0)
		tui_text(c, age, (size_t)-1, ROLE_DIM, MIN(age_w, left(c)), TEXT_PAD | TEXT_RIGHT);
}

static void draw_job(struct view *v, struct tui_canvas *c, const struct tt_job *j)
{
	struct triage_priv *p = v->priv;
	int w = tui_canvas_width(c);
	tui_text(c, "  ", 2, ROLE_DEFAULT, 2, 0);
	tui_text(c, view_state_glyph(j->conclusion), (size_t)-1, view_state_role(j->conclusion), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	char right[96] = "";
	int nf = 0;
	for (int m = 0; m < j->nf; m++)
		nf += tt_finding_shown(&p->t, &j->f[m]);
	const char *what = !j->triaged ? "not triaged" : nf ? NULL : "no finding";
	if (what)
		snprintf(right, sizeof(right), "%s", what);
	else
		snprintf(right, sizeof(right), "%d finding%s", nf, nf == 1 ? "" : "s");
	if (strcmp(j->conclusion, "failure") && w >= 60) {
		size_t l = strlen(right);
		snprintf(right + l, sizeof(right) - l, "%s%s", sep(), j->conclusion);
	}
	int rw = w >= 40 ? tui_width(right, (size_t)-1) : 0;
	int name_w = left(c) - (rw ? rw + 1 : 0);
	if (name_w < 4) {
		rw = 0;
		name_w = left(c);
	}
	if (name_w > 0)
		tui_text(c, j->name, (size_t)-1, ROLE_DEFAULT, name_w, TEXT_PAD);
	if (rw) {
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
		tui_text(c, right, (size_t)-1, what ? ROLE_SKIPPED : ROLE_DIM, rw, TEXT_PAD | TEXT_RIGHT);
	}
}

/* The history in a few words: "new · 4 runs since fd235b8 · 2 commits ·
 * flaky", what matters least left out first when it does not fit. */
static void draw_summary(struct tui_canvas *c, const struct tt_hist *e, bool is_new, int n_runs,
			 int n_commits, int width)
{
	if (width <= 0)
		return;
	struct piece {
		char text[48];
		enum role role;
		bool on;
	} pc[7];
	int nr = e ? e->h.n_runs : n_runs;
	int ncm = e ? e->h.n_commits : n_commits;
	const char *s = sep();
	memset(pc, 0, sizeof(pc));
	/* 0 new, 1 sep, 2 runs, 3 " since ", 4 sha, 5 commits, 6 flaky */
	snprintf(pc[0].text, sizeof(pc[0].text), "new%s", s);
	pc[0].role = ROLE_FAILURE;
	pc[0].on = is_new;
	snprintf(pc[2].text, sizeof(pc[2].text), "%d run%s", nr, nr == 1 ? "" : "s");
	pc[2].role = ROLE_DIM;
	pc[2].on = true;
	snprintf(pc[3].text, sizeof(pc[3].text), " since ");
	pc[3].role = ROLE_DIM;
	pc[3].on = pc[4].on = e && e->h.first_sha;
	if (pc[4].on)
		snprintf(pc[4].text, sizeof(pc[4].text), "%.7s", e->h.first_sha);
	pc[4].role = ROLE_SHA;
	snprintf(pc[5].text, sizeof(pc[5].text), "%s%d commit%s", s, ncm, ncm == 1 ? "" : "s");
	pc[5].role = ROLE_DIM;
	pc[5].on = ncm > 1;
	snprintf(pc[6].text, sizeof(pc[6].text), "%sflaky", s);
	pc[6].role = ROLE_FLAKY;
	pc[6].on = e && e->h.flaky;
	/* leave out the commits, then since when */
	static const int drop[][2] = {{5, 5}, {3, 4}};
	int total = 0;
	for (size_t k = 0;; k++) {
		total = 0;
		for (int i = 0; i < 7; i++)
			if (pc[i].on)
				total += tui_width(pc[i].text, (size_t)-1);
		if (total <= width || k >= ARRAY_SIZE(drop))
			break;
		for (int i = drop[k][0]; i <= drop[k][1]; i++)
			pc[i].on = false;
	}
	int end = tui_canvas_col(c) + width;
	if (total < width)
		tui_text(c, "", 0, ROLE_DEFAULT, width - total, TEXT_PAD);
	for (int i = 0; i < 7; i++) {
		if (!pc[i].on || end - tui_canvas_col(c) <= 0)
			continue;
		/* "new · " in two roles: the word, then the separator */
		if (i == 0) {
			tui_text(c, "new", 3, pc[0].role, end - tui_canvas_col(c), 0);
			if (end - tui_canvas_col(c) > 0)
				tui_text(c, s, (size_t)-1, ROLE_DIM, end - tui_canvas_col(c), 0);
			continue;
		}
		if (i == 6) {
			tui_text(c, s, (size_t)-1, ROLE_DIM, end - tui_canvas_col(c), 0);
			if (end - tui_canvas_col(c) > 0)
				tui_text(c, "flaky", 5, pc[6].role, end - tui_canvas_col(c), 0);
			continue;
		}
		tui_text(c, pc[i].text, (size_t)-1, pc[i].role, end - tui_canvas_col(c), 0);
	}
}

/* A finding's or fingerprint's row: state, category, decision, title,
 * history in a few words, rule. */
static void draw_finding(struct view *v, struct tui_canvas *c, int indent, const char *fp,
			 const char *category, const char *title, const char *rule, bool is_new,
			 int n_runs, int n_commits)
{
	struct triage_priv *p = v->priv;
	struct tt_hist *e = tt_hist_find(&p->t, fp);
	const char *state = e && e->h.state ? e->h.state : "new";
	enum decision d = history_decision(decision_of_category(category), e ? &e->h : NULL);
	int w = tui_canvas_width(c);
	if (indent)
		tui_text(c, "    ", (size_t)indent, ROLE_DEFAULT, indent, 0);
	int state_w = w >= 60 ? 5 : 0;
	int cat_w = w >= 36 ? p->t.cat_w : 0;
	int dec_w = w >= 150 ? 16 : w >= 64 ? 11 : w >= 50 ? 5 : 0;
	int rule_w = w >= 160 ? 22 : 0;
	int sum_w = w >= 160 ? 44 : w >= 110 ? 36 : w >= 70 ? 26 : 0;
	tui_column(c, state_word(state), state_role_of(state), state_w, 0);
	if (cat_w) {
		tui_column(c, category, decision_role(d), cat_w, 0);
	} else {
		/* no room for columns: the category's colour says the decision */
		tui_text(c, category, (size_t)-1, decision_role(d), MAX(left(c), 0), 0);
		tui_text(c, ": ", 2, ROLE_DEFAULT, MAX(left(c), 0), 0);
	}
	tui_column(c, dec_w >= 16 ? decision_label(d) : dec_w >= 11 ? decision_name(d)
		   : d == DECIDE_INVESTIGATE ? "inv"
		   : decision_name(d),
		   decision_role(d), dec_w, 0);
	int title_w = left(c) - (sum_w ? sum_w + 1 : 0) - (rule_w ? rule_w + 1 : 0);
	if (title_w < 12) {
		sum_w = rule_w = 0;
		title_w = left(c);
	}
	/* the line's indentation means nothing in a list */
	const char *t = title ? title : "";
	t += strspn(t, " \t");
	if (title_w > 0)
		tui_text(c, t, (size_t)-1, ROLE_DEFAULT, title_w, TEXT_PAD | TEXT_ANSI);
	if (sum_w) {
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
		draw_summary(c, e, is_new, n_runs, n_commits, sum_w);
	}
	if (rule_w) {
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
		tui_text(c, rule ? rule : "", (size_t)-1, ROLE_DIM, rule_w, TEXT_PAD);
	}
}

static void draw_hist(struct tui_canvas *c, const struct tt_hist *e)
{
	const struct triage_history *h = &e->h;
	char buf[256];
	snprintf(buf, sizeof(buf), "seen in %d run%s (%d commit%s", h->n_runs, h->n_runs == 1 ? "" : "s",
		 h->n_commits, h->n_commits == 1 ? "" : "s");
	tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	if (h->n_jobs > h->n_runs) {
		snprintf(buf, sizeof(buf), ", %d jobs", h->n_jobs);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	}
	tui_text(c, ")", 1, ROLE_DIM, 0, 0);
	if (h->first_run) {
		tui_text(c, " since ", (size_t)-1, ROLE_DIM, 0, 0);
		snprintf(buf, sizeof(buf), "%.7s", h->first_sha ? h->first_sha : "-");
		tui_text(c, buf, (size_t)-1, ROLE_SHA, 0, 0);
		char ref[48];
		run_ref(ref, sizeof(ref), h->first_run, h->first_attempt);
		snprintf(buf, sizeof(buf), " (run %s)", ref);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	}
	if (h->last_at != CS_TIME_NONE) {
		char age[32];
		time_format_age(h->last_at, time_now_ms(), age, sizeof(age));
		snprintf(buf, sizeof(buf), "%slast %s", sep(), age);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	}
	for (int i = 0; i < h->n_branches; i++) {
		tui_text(c, i ? ", " : sep(), (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, h->branches[i], (size_t)-1, ROLE_BRANCH, 0, 0);
	}
	if (h->flaky) {
		tui_text(c, sep(), (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, "flaky", (size_t)-1, ROLE_FLAKY, 0, 0);
	}
}

static void draw_evidence(struct tui_canvas *c, const struct triage_flaky_ev *e)
{
	char a[48], b[48], x[48], buf[256];
	tui_text(c, "flaky: ", (size_t)-1, ROLE_FLAKY, 0, 0);
	tui_text(c, e->job ? e->job : "-", (size_t)-1, ROLE_DEFAULT, 0, 0);
	run_ref(a, sizeof(a), e->failed_run, e->failed_attempt);
	run_ref(b, sizeof(b), e->passed_run, e->passed_attempt);
	if (e->kind == FLAKY_SAME_COMMIT) {
		snprintf(buf, sizeof(buf), " failed in run %s and passed in run %s on the same commit ",
			 a, b);
		tui_text(c, buf, (size_t)-1, ROLE_DEFAULT, 0, 0);
		snprintf(buf, sizeof(buf), "%.7s", e->failed_sha ? e->failed_sha : "-");
		tui_text(c, buf, (size_t)-1, ROLE_SHA, 0, 0);
	} else {
		run_ref(x, sizeof(x), e->again_run, e->again_attempt);
		snprintf(buf, sizeof(buf),
			 " failed in run %s, passed in run %s, failed the same way in run %s on ", a, b, x);
		tui_text(c, buf, (size_t)-1, ROLE_DEFAULT, 0, 0);
		tui_text(c, e->branch ? e->branch : "-", (size_t)-1, ROLE_BRANCH, 0, 0);
	}
}

static void draw_note(struct tui_canvas *c, const struct tt_hist *e)
{
	const struct triage_history *h = &e->h;
	tui_text(c, "state ", (size_t)-1, ROLE_DIM, 0, 0);
	tui_text(c, h->state, (size_t)-1, state_role_of(h->state), 0, 0);
	if (h->set_by) {
		tui_text(c, " by ", (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, h->set_by, (size_t)-1, ROLE_DEFAULT, 0, 0);
	}
	if (h->set_at != CS_TIME_NONE) {
		char age[32], buf[48];
		time_format_age(h->set_at, time_now_ms(), age, sizeof(age));
		snprintf(buf, sizeof(buf), " %s", age);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	}
	if (h->note && *h->note) {
		tui_text(c, ": ", 2, ROLE_DIM, 0, 0);
		tui_text(c, h->note, (size_t)-1, ROLE_DEFAULT, 0, 0);
	}
}

static void draw_rule(struct tui_canvas *c, const struct triage_finding *f,
		      const struct triage_history *h)
{
	char buf[128];
	tui_text(c, "rule ", (size_t)-1, ROLE_DIM, 0, 0);
	tui_text(c, f->rule ? f->rule : "-", (size_t)-1, ROLE_DEFAULT, 0, 0);
	if (f->explain && *f->explain) {
		tui_text(c, ": ", 2, ROLE_DIM, 0, 0);
		tui_text(c, f->explain, (size_t)-1, ROLE_DIM, 0, 0);
	}
	tui_text(c, sep(), (size_t)-1, ROLE_DIM, 0, 0);
	/* what the finding's row says: its history may overrule the rule */
	enum decision d = history_decision(f->decision, h);
	tui_text(c, d != f->decision ? "fix / investigate" : decision_text(d), (size_t)-1,
		 decision_role(d), 0, 0);
	if (d != f->decision)
		tui_text(c, " (it failed on every attempt: retrying will not help)", (size_t)-1,
			 ROLE_DIM, 0, 0);
	if (f->step_number) {
		snprintf(buf, sizeof(buf), "%sstep %d ", sep(), f->step_number);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, f->step_name ? f->step_name : "", (size_t)-1, ROLE_DIM, 0, 0);
	}
	if (f->line && f->end_line > f->line)
		snprintf(buf, sizeof(buf), "%slines %lld-%lld", sep(), (long long)f->line,
			 (long long)f->end_line);
	else if (f->line)
		snprintf(buf, sizeof(buf), "%sline %lld", sep(), (long long)f->line);
	else
		buf[0] = '\0';
	tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	if (f->test_name) {
		tui_text(c, sep(), (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, "test ", (size_t)-1, ROLE_DIM, 0, 0);
		tui_text(c, f->test_name, (size_t)-1, ROLE_DEFAULT, 0, 0);
	}
	snprintf(buf, sizeof(buf), "%sfingerprint %.8s", sep(), f->fingerprint);
	tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	if (f->repeats) {
		snprintf(buf, sizeof(buf), "%s%d more like it", sep(), f->repeats);
		tui_text(c, buf, (size_t)-1, ROLE_DIM, 0, 0);
	}
	if (f->fallback)
		tui_text(c, " (fallback: the end of the failing step)", (size_t)-1, ROLE_DIM, 0, 0);
}

static void draw_excerpt(struct tui_canvas *c, const struct triage_finding *f, int x)
{
	const struct triage_line *tl = &f->excerpt[x];
	int nw = 1;
	for (int i = 0; i < f->n_excerpt; i++) {
		char n[24];
		nw = MAX(nw, snprintf(n, sizeof(n), "%lld", (long long)f->excerpt[i].line));
	}
	bool in = tl->line && tl->line >= f->line && tl->line <= f->end_line;
	if (!f->line)
		in = true; /* a JUnit message, a conclusion: all of it says it */
	tui_text(c, in ? ">" : " ", 1, ROLE_ERROR_LINE, 1, 0);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	char n[24] = "";
	if (tl->line)
		snprintf(n, sizeof(n), "%lld", (long long)tl->line);
	tui_text(c, n, (size_t)-1, ROLE_LINENO, nw, TEXT_PAD | TEXT_RIGHT);
	tui_text(c, "  ", 2, ROLE_DEFAULT, 2, 0);
	tui_text(c, tl->text ? tl->text : "", (size_t)-1, in ? ROLE_DEFAULT : ROLE_DIM, 0, TEXT_ANSI);
}

static void draw_occ(struct tui_canvas *c, const struct triage_finding *f, const struct run *r)
{
	int w = tui_canvas_width(c);
	tui_text(c, "    ", 4, ROLE_DEFAULT, 4, 0);
	char ref[48] = "-", sha[8] = "-", line[32] = "", age[32] = "";
	if (r->provider_id)
		run_ref(ref, sizeof(ref), r->provider_id, r->attempt);
	if (r->sha)
		snprintf(sha, sizeof(sha), "%.7s", r->sha);
	if (f->line)
		snprintf(line, sizeof(line), "line %lld", (long long)f->line);
	if (r->created_at != CS_TIME_NONE)
		time_format_age(r->created_at, time_now_ms(), age, sizeof(age));
	const char *state = r->conclusion ? r->conclusion : "failure";
	tui_text(c, view_state_glyph(state), (size_t)-1, view_state_role(state), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	tui_column(c, ref, ROLE_DEFAULT, w >= 50 ? 14 : 0, 0);
	tui_column(c, r->workflow ? r->workflow : "-", ROLE_DEFAULT, w >= 90 ? 10 : 0, 0);
	tui_column(c, r->branch ? r->branch : "-", ROLE_BRANCH, w >= 70 ? 18 : 0, 0);
	tui_column(c, sha, ROLE_SHA, w >= 60 ? 7 : 0, 0);
	int lw = w >= 40 ? 10 : 0, aw = w >= 80 ? 8 : 0;
	int jw = left(c) - (lw ? lw + 1 : 0) - (aw ? aw + 1 : 0);
	if (jw > 0)
		tui_column(c, f->job_name ? f->job_name : "", ROLE_DEFAULT, jw - 1, 0);
	tui_column(c, line, ROLE_LINENO, lw, TEXT_RIGHT);
	if (aw && left(c) > 0)
		tui_text(c, age, (size_t)-1, ROLE_DIM, MIN(aw, left(c)), TEXT_PAD | TEXT_RIGHT);
}

static void triage_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct triage_priv *p = v->priv;
	if (row < 0 || (size_t)row >= p->t.nrows)
		return;
	const struct tt_row *t = &p->t.rows[row];
	const struct triage_finding *f = NULL;
	struct tt_hist *e = NULL;
	if (t->kind >= TT_HIST) {
		f = tt_row_finding(&p->t, row);
		e = tt_hist_find(&p->t, p->t.mode == TT_BY_FP ? p->t.groups[t->a].fp : f ? f->fingerprint : "");
		tui_text(c, "      ", 6, ROLE_DEFAULT, 6, 0);
	}
	switch ((enum tt_kind)t->kind) {
	case TT_MSG:
		draw_msg(v, c);
		break;
	case TT_RUN:
		draw_run(v, c, &p->t.runs[t->a]);
		break;
	case TT_JOB:
		draw_job(v, c, &p->t.runs[t->a].jobs[t->b]);
		break;
	case TT_FIND: {
		const struct tt_run *tr = &p->t.runs[t->a];
		const struct triage_finding *ff = &tr->jobs[t->b].f[t->c];
		struct tt_hist *he = tt_hist_find(&p->t, ff->fingerprint);
		draw_finding(v, c, 4, ff->fingerprint, ff->category, ff->title, ff->rule,
			     he && triage_is_new(&he->h, &tr->r), 0, he ? he->h.n_commits : 0);
		break;
	}
	case TT_GROUP: {
		const struct tt_group *g = &p->t.groups[t->a];
		draw_finding(v, c, 0, g->fp, g->category, g->title, g->rule, false, g->n_runs,
			     g->n_commits);
		break;
	}
	case TT_OCC:
		draw_occ(c, &p->t.groups[t->a].occ[t->b], &p->t.groups[t->a].occ_run[t->b]);
		break;
	case TT_OCCHEAD: {
		const struct tt_group *g = &p->t.groups[t->a];
		char buf[96];
		snprintf(buf, sizeof(buf), "%s%d job%s showing it, newest first:",
			 g->nocc >= TT_OCC_MAX ? "the last " : "", g->nocc, g->nocc == 1 ? "" : "s");
		tui_text(c, buf, (size_t)-1, ROLE_HEADER, 0, 0);
		break;
	}
	case TT_HIST:
		if (e)
			draw_hist(c, e);
		break;
	case TT_EVID:
		if (e && t->d < e->h.n_evidence)
			draw_evidence(c, &e->h.evidence[t->d]);
		break;
	case TT_NOTE:
		if (e)
			draw_note(c, e);
		break;
	case TT_RULE:
		if (f)
			draw_rule(c, f, e ? &e->h : NULL);
		break;
	case TT_EXC:
		if (f && t->d < f->n_excerpt)
			draw_excerpt(c, f, t->d);
		break;
	case TT_GAP:
		tui_text(c, tui_glyph("  \u22ee", "  :"), (size_t)-1, ROLE_DIM, 0, 0);
		break;
	}
	tui_canvas_fill(c, ROLE_DEFAULT);
}

/* --- actions ------------------------------------------------------------------------------------------ */
static void refresh_state(struct view *v, const char *fp)
{
	struct triage_priv *p = v->priv;
	struct cs_err err;
	err_clear(&err);
	if (tt_refresh_state(&p->t, fp, &err) < 0)
		tui_error("%s", err.msg);
	app.triage_gen++;
	rebuild(v);
}

static void set_state(struct view *v, const char *state, const char *note)
{
	struct triage_priv *p = v->priv;
	const char *fp = tt_row_fp(&p->t, v->cursor);
	if (!fp) {
		tui_error("move to a finding to set its state (e and E go from one to the next)");
		return;
	}
	char full[FP_HEX_LEN + 1], keep[FP_HEX_LEN + 1];
	snprintf(keep, sizeof(keep), "%s", fp);
	struct cs_err err;
	err_clear(&err);
	if (!state)
		state = tt_state_of(&p->t, keep);
	char *st = xstrdup(state);
	if (triage_set_state(app.st, keep, st, note, p->who, full, &err) < 0) {
		tui_error("cannot set the triage state: %s", err.msg);
		free(st);
		return;
	}
	refresh_state(v, full);
	if (note)
		tui_message("%.8s: note %s (%s)", full, *note ? "saved" : "cleared", p->who);
	else
		tui_message("%.8s: %s (%s)", full, st, p->who);
	free(st);
}

static void on_note(void *ctx, const char *text)
{
	struct view *v = ctx;
	if (text)
		set_state(v, NULL, text);
}

static void note_prompt(struct view *v)
{
	struct triage_priv *p = v->priv;
	const char *fp = tt_row_fp(&p->t, v->cursor);
	if (!fp) {
		tui_error("move to a finding to write a note on it (e and E go from one to the next)");
		return;
	}
	struct tt_hist *e = tt_hist_find(&p->t, fp);
	tui_prompt("note: ", e && e->h.note ? e->h.note : "", on_note, v);
}

static void open_log(struct view *v, long row)
{
	struct triage_priv *p = v->priv;
	const struct tt_row *t = &p->t.rows[row];
	const struct triage_finding *f = tt_row_finding(&p->t, row);
	struct log_view_arg arg = {0};
	if (t->kind == TT_RUN) {
		struct run_view_arg ra = {.run_row_id = p->t.runs[t->a].r.id};
		tui_open(&run_view_ops, &ra, OPEN_PUSH);
		return;
	}
	if (t->kind == TT_JOB) {
		const struct tt_job *j = &p->t.runs[t->a].jobs[t->b];
		arg.run_row_id = p->t.runs[t->a].r.id;
		arg.job_row_id = j->id;
		for (int m = 0; m < j->nf && !arg.line; m++)
			if (tt_finding_shown(&p->t, &j->f[m]))
				arg.line = j->f[m].line;
		tui_open(&log_view_ops, &arg, OPEN_PUSH);
		return;
	}
	if (t->kind == TT_GROUP && !p->t.groups[t->a].open) {
		/* unfold first: the occurrences say which log */
		return;
	}
	if (!f) {
		tui_error("no log to open here");
		return;
	}
	arg.run_row_id = f->run_row_id;
	arg.job_row_id = f->job_row_id;
	arg.line = f->line;
	if (t->kind == TT_EXC && f->excerpt[t->d].line)
		arg.line = f->excerpt[t->d].line;
	if (!arg.line)
		arg.step_number = f->step_number;
	tui_open(&log_view_ops, &arg, OPEN_PUSH);
}

/* z: fold or unfold what the cursor is on. */
static void fold(struct view *v)
{
	struct triage_priv *p = v->priv;
	if (!p->t.nrows || v->cursor < 0 || (size_t)v->cursor >= p->t.nrows)
		return;
	struct tt_row t = p->t.rows[v->cursor];
	struct tt_row to = t;
	switch ((enum tt_kind)t.kind) {
	case TT_MSG:
		return;
	case TT_RUN:
		p->t.runs[t.a].folded = !p->t.runs[t.a].folded;
		break;
	case TT_JOB:
		p->t.runs[t.a].jobs[t.b].folded = !p->t.runs[t.a].jobs[t.b].folded;
		break;
	case TT_GROUP:
	case TT_OCC:
	case TT_OCCHEAD:
		if (p->t.mode != TT_BY_FP)
			return;
		p->t.groups[t.a].open = !p->t.groups[t.a].open;
		if (p->t.groups[t.a].open)
			load_occurrences(p, &p->t.groups[t.a]);
		to = (struct tt_row){.kind = TT_GROUP, .a = t.a, .b = -1, .c = -1};
		break;
	default:
		if (p->t.mode == TT_BY_FP) {
			p->t.groups[t.a].open = !p->t.groups[t.a].open;
			to = (struct tt_row){.kind = TT_GROUP, .a = t.a, .b = -1, .c = -1};
		} else {
			bool *o = &p->t.runs[t.a].jobs[t.b].open[t.c];
			*o = !*o;
			to = (struct tt_row){.kind = TT_FIND, .a = t.a, .b = t.b, .c = t.c};
		}
		break;
	}
	rebuild(v);
	long at = tt_find_row(&p->t, &to);
	if (at < 0)
		return;
	tui_view_goto(v, at);
	/* show what was unfolded: as much of it as the screen holds */
	long last = at;
	while ((size_t)last + 1 < p->t.nrows && p->t.rows[last + 1].kind >= TT_OCC &&
	       p->t.rows[last + 1].a == to.a &&
	       (p->t.mode == TT_BY_FP ||
		(p->t.rows[last + 1].b == to.b && p->t.rows[last + 1].c == to.c)))
		last++;
	if (v->height > 0 && last >= v->top + v->height) {
		v->top = MIN(at, last - v->height + 1);
		tui_view_set_rows(v, (long)p->t.nrows);
	}
}

/* Z: unfold every finding (fingerprint) when one is folded, else fold them. */
static void fold_all(struct view *v)
{
	struct triage_priv *p = v->priv;
	bool any_closed = false;
	if (p->t.mode == TT_BY_RUN) {
		for (int i = 0; i < p->t.nruns; i++)
			for (int k = 0; k < p->t.runs[i].nj; k++)
				for (int m = 0; m < p->t.runs[i].jobs[k].nf; m++)
					any_closed |= !p->t.runs[i].jobs[k].open[m];
		for (int i = 0; i < p->t.nruns; i++)
			for (int k = 0; k < p->t.runs[i].nj; k++)
				for (int m = 0; m < p->t.runs[i].jobs[k].nf; m++)
					p->t.runs[i].jobs[k].open[m] = any_closed;
		p->t.open_default = any_closed;
	} else {
		for (int i = 0; i < p->t.ngroups && i < OPEN_ALL_MAX; i++)
			any_closed |= !p->t.groups[i].open;
		for (int i = 0; i < p->t.ngroups; i++) {
			p->t.groups[i].open = any_closed && i < OPEN_ALL_MAX;
			if (p->t.groups[i].open)
				load_occurrences(p, &p->t.groups[i]);
		}
		if (any_closed && p->t.ngroups > OPEN_ALL_MAX)
			tui_message("unfolded the first %d fingerprints", OPEN_ALL_MAX);
	}
	rebuild(v);
}

static void jump_finding(struct view *v, int dir)
{
	struct triage_priv *p = v->priv;
	enum tt_kind want = p->t.mode == TT_BY_RUN ? TT_FIND : TT_GROUP;
	for (long r = v->cursor + dir; r >= 0 && (size_t)r < p->t.nrows; r += dir) {
		if (p->t.rows[r].kind == want) {
			tui_view_goto(v, r);
			return;
		}
	}
	tui_message("no %s %s", p->t.mode == TT_BY_RUN ? "finding" : "fingerprint",
		    dir > 0 ? "below" : "above");
}

static void switch_mode(struct view *v)
{
	struct triage_priv *p = v->priv;
	char fp[FP_HEX_LEN + 1] = "";
	const char *cur = tt_row_fp(&p->t, v->cursor);
	if (cur)
		snprintf(fp, sizeof(fp), "%s", cur);
	p->t.mode = p->t.mode == TT_BY_RUN ? TT_BY_FP : TT_BY_RUN;
	if (p->t.mode == TT_BY_FP && p->t.only_run) {
		/* a run's failures by fingerprint: the same list, every run */
		tui_message("grouped by fingerprint across every run");
	}
	if (!p->ensure &&
	    (p->t.mode == TT_BY_RUN ? !p->t.runs_done && !p->t.nruns : !p->t.groups_done && !p->t.ngroups))
		tt_load_step(&p->t);
	p->t.nrows = 0; /* the old rows mean nothing in the other mode */
	tt_build_rows(&p->t);
	tui_view_set_rows(v, (long)p->t.nrows);
	long at = 0;
	for (size_t i = 0; fp[0] && i < p->t.nrows; i++) {
		const struct tt_row *t = &p->t.rows[i];
		if ((t->kind == TT_FIND || t->kind == TT_GROUP) && !strcmp(tt_row_fp(&p->t, (long)i), fp)) {
			at = (long)i;
			break;
		}
	}
	v->top = 0;
	tui_view_goto(v, at);
	tui_view_dirty(v);
	start_work(v);
}

static void apply_filter(struct view *v, const char *text)
{
	struct triage_priv *p = v->priv;
	struct triage_query q;
	struct cs_err err;
	err_clear(&err);
	if (triage_query_parse(text, &q, &err) < 0) {
		triage_query_free(&q);
		tui_error("%s", err.msg);
		return;
	}
	triage_query_free(&p->t.q);
	p->t.q = q;
	set_filter_text(p);
	if (p->working) {
		tui_work_stop(&p->ctx);
		p->working = false;
	}
	tt_drop_runs(&p->t);
	tt_drop_groups(&p->t);
	p->t.error[0] = '\0';
	p->t.nrows = 0;
	v->cursor = v->top = 0;
	bool more = tt_load_step(&p->t);
	rebuild(v);
	if (more || p->ensure)
		start_work(v);
	if (p->t.error[0])
		tui_error("%s", p->t.error);
	else if (triage_query_empty(&p->t.q))
		tui_message("filter cleared");
	else
		tui_message("filter: %s", p->filter_text);
}

static void on_filter(void *ctx, const char *text)
{
	if (text)
		apply_filter(ctx, text);
}

static enum action triage_request(struct view *v, enum action a, unsigned *eff)
{
	struct triage_priv *p = v->priv;
	bool on_row = p->t.nrows && v->cursor >= 0 && (size_t)v->cursor < p->t.nrows &&
		      p->t.rows[v->cursor].kind != TT_MSG;
	char msg[512];
	/* (int): the application's actions are not enumerators of enum action */
	switch ((int)a) {
	case ACT_ENTER:
		if (!on_row)
			return ACT_NONE;
		if (p->t.rows[v->cursor].kind == TT_GROUP && !p->t.groups[p->t.rows[v->cursor].a].open)
			fold(v);
		else
			open_log(v, v->cursor);
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_FOLD:
		if (on_row)
			fold(v);
		return ACT_NONE;
	case ACT_FOLD_ALL:
		fold_all(v);
		return ACT_NONE;
	case ACT_NEXT_ERROR:
	case ACT_PREV_ERROR:
		jump_finding(v, a == ACT_NEXT_ERROR ? 1 : -1);
		return ACT_NONE;
	case ACT_TRIAGE_GROUPING:
		switch_mode(v);
		return ACT_NONE;
	case ACT_TRIAGE_ACK:
	case ACT_TRIAGE_FLAKY:
	case ACT_TRIAGE_FIXED:
	case ACT_TRIAGE_NEW:
		set_state(v, (int)a == ACT_TRIAGE_ACK     ? "acknowledged"
			     : (int)a == ACT_TRIAGE_FLAKY ? "known-flaky"
			     : (int)a == ACT_TRIAGE_FIXED ? "fixed"
						     : "new",
			  NULL);
		return ACT_NONE;
	case ACT_TRIAGE_NOTE:
		note_prompt(v);
		return ACT_NONE;
	case ACT_FILTER:
		tui_prompt("filter: ", p->filter_text, on_filter, v);
		return ACT_NONE;
	case ACT_REFRESH:
		reload(v);
		if (!p->working)
			tui_message("reloaded");
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_CANCEL:
		if (p->working) {
			tui_work_stop(&p->ctx);
			work_cancel(&p->ctx);
			return ACT_NONE;
		}
		return a;
	case ACT_OPEN_URL: {
		if (!on_row)
			return ACT_NONE;
		const struct tt_row *t = &p->t.rows[v->cursor];
		const char *url = NULL;
		if (p->t.mode == TT_BY_RUN) {
			url = p->t.runs[t->a].r.html_url;
			if (t->b >= 0 && p->t.runs[t->a].jobs[t->b].url)
				url = p->t.runs[t->a].jobs[t->b].url;
		} else if (t->kind == TT_OCC) {
			url = p->t.groups[t->a].occ_run[t->b].html_url;
		}
		if (view_open_url(url, msg, sizeof(msg)) < 0)
			tui_error("%s", msg);
		else
			tui_message("%s", msg);
		return ACT_NONE;
	}
	default:
		return a;
	}
}

static bool triage_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	if (!strcmp(cmd, "filter") || !strcmp(cmd, "triage")) {
		apply_filter(v, arg ? arg : "");
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "state")) {
		if (!arg || !*arg)
			tui_error("usage: :state new|acknowledged|known-flaky|fixed");
		else
			set_state(v, arg, NULL);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "note")) {
		set_state(v, NULL, arg ? arg : "");
		*eff |= EFF_REDRAW;
		return true;
	}
	return views_command(v, cmd, arg, eff);
}

static void triage_title(struct view *v, char *out, size_t n)
{
	struct triage_priv *p = v->priv;
	const char *d = tui_glyph("\u00b7", "-");
	char what[256];
	if (p->t.mode == TT_BY_FP) {
		snprintf(what, sizeof(what), "triage %s by fingerprint, last seen first%s", d,
			 p->t.groups_capped ? " (the first " STR(TT_MAX_GROUPS) ")" : "");
	} else if (p->t.only_run && p->t.nruns) {
		const struct run *r = &p->t.runs[0].r;
		char ref[48];
		run_ref(ref, sizeof(ref), r->provider_id, r->attempt);
		snprintf(what, sizeof(what), "triage %s run %s %s %s %s %s", d, ref, d,
			 r->workflow ? r->workflow : "-", d, r->branch ? r->branch : "-");
	} else {
		snprintf(what, sizeof(what), "triage %s failed runs, newest first%s", d,
			 p->t.runs_capped ? " (the newest " STR(TT_MAX_RUNS) ")" : "");
	}
	if (p->filter_text && *p->filter_text)
		snprintf(out, n, "%s %s filter: %s", what, d, p->filter_text);
	else
		snprintf(out, n, "%s", what);
}

static void triage_status(struct view *v, char *out, size_t n)
{
	struct triage_priv *p = v->priv;
	const char *d = tui_glyph("\u00b7", "-");
	const char *more = p->working ? "+" : "";
	/* another process imported runs: say so, reloading is the user's call */
	char changed[64] = "";
	if (!p->working && store_data_version(app.st) != p->version)
		snprintf(changed, sizeof(changed), "index changed: refresh %s ", d);
	size_t cl = strlen(changed);
	if (cl && cl < n) {
		memcpy(out, changed, cl);
		out += cl;
		n -= cl;
	}
	if (p->t.mode == TT_BY_FP) {
		if (v->width < 60)
			snprintf(out, n, "%d%s %s %d flaky", p->t.n_failures, more, d, p->t.n_flaky);
		else if (v->width < 100)
			snprintf(out, n, "%d untriaged %s %d flaky", p->t.n_untriaged, d, p->t.n_flaky);
		else
			snprintf(out, n, "%d%s fingerprint%s %s %d untriaged %s %d flaky",
				 p->t.n_failures, more, p->t.n_failures == 1 ? "" : "s", d, p->t.n_untriaged,
				 d, p->t.n_flaky);
		return;
	}
	int runs = 0;
	for (size_t i = 0; i < p->t.nrows; i++)
		runs += p->t.rows[i].kind == TT_RUN;
	if (v->width < 45)
		snprintf(out, n, "%d%s %s %d new", p->t.n_failures, more, d, p->t.n_new);
	else if (v->width < 100)
		snprintf(out, n, "%d%s failure%s %s %d new %s %d flaky", p->t.n_failures, more,
			 p->t.n_failures == 1 ? "" : "s", d, p->t.n_new, d, p->t.n_flaky);
	else
		snprintf(out, n, "%d%s run%s %s %d failure%s %s %d new %s %d flaky", runs, more,
			 runs == 1 ? "" : "s", d, p->t.n_failures, p->t.n_failures == 1 ? "" : "s", d,
			 p->t.n_new, d, p->t.n_flaky);
}

/* The history column's words ("flaky", "4 runs since fd235b8", a set
 * state): / finds what the row shows there too. */
static bool hist_matches(struct triage_priv *p, const char *fp, const char *query)
{
	struct tt_hist *e = tt_hist_find(&p->t, fp);
	if (!e)
		return false;
	char text[160];
	snprintf(text, sizeof(text), "%d run%s since %s %d commit%s%s %s", e->h.n_runs,
		 e->h.n_runs == 1 ? "" : "s", e->h.first_sha ? e->h.first_sha : "", e->h.n_commits,
		 e->h.n_commits == 1 ? "" : "s", tt_is_flaky(e) ? " flaky" : "",
		 state_word(e->h.state));
	return strcasestr(text, query) != NULL;
}

static bool triage_match(struct view *v, long row, const char *query)
{
	struct triage_priv *p = v->priv;
	if (!query || row < 0 || (size_t)row >= p->t.nrows)
		return false;
	const struct tt_row *t = &p->t.rows[row];
	const struct triage_finding *f = tt_row_finding(&p->t, row);
	switch ((enum tt_kind)t->kind) {
	case TT_RUN: {
		const struct run *r = &p->t.runs[t->a].r;
		const char *fields[] = {r->workflow, r->branch, r->sha, r->title, r->commit_subject};
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (fields[i] && strcasestr(fields[i], query))
				return true;
		return false;
	}
	case TT_JOB:
		return strcasestr(p->t.runs[t->a].jobs[t->b].name, query) != NULL;
	case TT_GROUP: {
		const struct tt_group *g = &p->t.groups[t->a];
		return strcasestr(g->title, query) || strcasestr(g->category, query) ||
		       strcasestr(g->rule, query) || !strncmp(g->fp, query, strlen(query)) ||
		       hist_matches(p, g->fp, query);
	}
	case TT_FIND:
		return f && ((f->title && strcasestr(f->title, query)) ||
			     (f->category && strcasestr(f->category, query)) ||
			     (f->rule && strcasestr(f->rule, query)) ||
			     !strncmp(f->fingerprint, query, strlen(query)) ||
			     hist_matches(p, f->fingerprint, query));
	case TT_EXC:
		return f && f->excerpt[t->d].text && strcasestr(f->excerpt[t->d].text, query);
	case TT_OCC: {
		const struct run *r = &p->t.groups[t->a].occ_run[t->b];
		char id[32];
		snprintf(id, sizeof(id), "%lld", (long long)r->provider_id);
		return (f && f->job_name && strcasestr(f->job_name, query)) ||
		       (r->branch && strcasestr(r->branch, query)) ||
		       (r->sha && !strncmp(r->sha, query, strlen(query))) || strstr(id, query);
	}
	default:
		return false;
	}
}

/* view-triage opens on the selection of the view it was opened from: the
 * failures of that run when the view shows one run, else every failed run
 * of the list's workflow and branch, the cursor on the selected run. */
static const struct triage_view_arg *arg_from_env(struct view *v, struct triage_view_arg *a,
						  struct buf *filter)
{
	struct view_env env;
	view_env_of(v->parent, &env);
	memset(a, 0, sizeof(*a));
	if (env.in_run) {
		a->run_row_id = env.run;
		return a;
	}
	a->select_run = env.run_failed ? env.run : 0;
	struct triage_query tq = {.workflow = (char *)env.workflow, .branch = (char *)env.branch};
	triage_query_format(&tq, filter);
	a->filter = buf_cstr(filter);
	return a;
}

static int triage_open(struct view *v, void *arg)
{
	struct triage_priv *p = v->priv;
	struct triage_view_arg from_env;
	struct buf env_filter = BUF_INIT;
	const struct triage_view_arg *a = arg ? arg : arg_from_env(v, &from_env, &env_filter);
	p->v = v;
	p->ctx.v = v;
	tt_init(&p->t, app.st);
	p->t.width = tui_width;
	p->t.only_run = a ? a->run_row_id : 0;
	p->select_run = a ? a->select_run : 0;
	p->t.open_default = p->t.only_run != 0;
	p->filter_text = xstrdup("");
	struct buf who = BUF_INIT;
	gitrepo_user_name(&who);
	snprintf(p->who, sizeof(p->who), "%s", buf_cstr(&who));
	buf_release(&who);
	if (a && a->filter && *a->filter) {
		struct cs_err err;
		err_clear(&err);
		if (triage_query_parse(a->filter, &p->t.q, &err) < 0) {
			triage_query_free(&p->t.q);
			tui_error("%s", err.msg);
		} else {
			set_filter_text(p);
		}
	}
	buf_release(&env_filter);
	reload(v);
	return 0;
}

static int triage_load(struct view *v)
{
	rebuild(v);
	return 0;
}

static void triage_done(struct view *v)
{
	struct triage_priv *p = v->priv;
	view_timers_cancel(v);
	tui_work_stop(&p->ctx);
	triage_ensure_free(p->ensure);
	tt_release(&p->t);
	free(p->filter_text);
}

/* The selection (view_env) for the actions that open other views from
 * here (d: the diff of the selected run, or of its selected job): the run
 * and job of the row, the failure's fingerprint. */
static void triage_env(struct view *v, void *out)
{
	struct triage_priv *p = v->priv;
	struct view_env *env = out;
	if (!p->t.nrows || v->cursor < 0 || (size_t)v->cursor >= p->t.nrows)
		return;
	const struct tt_row *t = &p->t.rows[v->cursor];
	const struct run *r = NULL;
	if (t->kind == TT_MSG)
		return;
	if (p->t.mode == TT_BY_RUN && t->a >= 0) {
		r = &p->t.runs[t->a].r;
		if (t->b >= 0)
			env->job = p->t.runs[t->a].jobs[t->b].id;
	} else if (t->kind == TT_OCC && t->b >= 0) {
		r = &p->t.groups[t->a].occ_run[t->b];
		env->job = p->t.groups[t->a].occ[t->b].job_row_id;
	}
	if (r) {
		env->run = r->id;
		env->run_rec = r;
		env->run_failed = ci_conclusion_is_failure(r->conclusion);
		env->in_run = p->t.only_run != 0;
		snprintf(env->commit, sizeof(env->commit), "%s", r->sha ? r->sha : "");
	}
	const char *fp = tt_row_fp(&p->t, v->cursor);
	if (fp)
		snprintf(env->fingerprint, sizeof(env->fingerprint), "%s", fp);
}

const struct view_ops triage_view_ops = {
	.name = "triage",
	.private_size = sizeof(struct triage_priv),
	.open = triage_open,
	.load = triage_load,
	.draw = triage_draw,
	.request = triage_request,
	.command = triage_command,
	.title = triage_title,
	.status = triage_status,
	.match = triage_match,
	.done = triage_done,
	.env = triage_env,
};
