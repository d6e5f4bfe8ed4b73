/* commits.c - the first-parent history of a branch with one CI verdict per
 * workflow (core/commits.h): `C` from the runs view, `:commits [BRANCH]`.
 *
 * A row: short sha, a glyph per workflow (columns in the order of the
 * header in the title), where the metrics exist the parity verdict of its
 * runs (✓ ✗ ·) and the thresholds judged at them (✓ pass, △ warn, ▲ fail,
 * as the runs view marks a breach), age, author, subject. Enter opens the runs of the
 * commit (the runs view filtered by its sha); b bisects from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/commits.h"
#include "views/common.h"
#include "views/views.h"

#define COMMITS_MAX 1000

struct commits_priv {
	char *branch; /* NULL: the default */
	struct commit_list l;
	bool loaded;
	char error[1024];
};

static int load(struct view *v)
{
	struct commits_priv *p = v->priv;
	if (p->loaded)
		commit_list_release(&p->l);
	p->loaded = false;
	p->error[0] = '\0';
	struct cs_err err;
	err_clear(&err);
	if (!app.repo) {
		snprintf(p->error, sizeof(p->error),
			 "no git checkout here: start ciscope inside the repository's checkout to see its commits");
	} else if (commits_list(app.st, app.repo, p->branch, COMMITS_MAX, &p->l, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
	} else {
		p->loaded = true;
		/* the parity/threshold state where the metrics exist */
		if (commits_judge(app.st, NULL, &p->l, &err) < 0)
			tui_error("%s (commits are not judged against parity and thresholds)", err.msg);
	}
	tui_view_set_rows(v, p->loaded && p->l.n ? p->l.n : 1);
	return 0;
}

static int commits_open(struct view *v, void *arg)
{
	struct commits_priv *p = v->priv;
	const struct commits_view_arg *a = arg;
	if (a && a->branch && *a->branch) {
		p->branch = xstrdup(a->branch);
	} else {
		struct view_env env;
		view_env_of(v->parent, &env);
		if (env.branch && *env.branch)
			p->branch = xstrdup(env.branch);
	}
	return load(v);
}

static enum role verdict_role(enum commit_verdict cv)
{
	switch (cv) {
	case CV_GREEN: return ROLE_SUCCESS;
	case CV_RED: return ROLE_FAILURE;
	case CV_FLAKY: return ROLE_FLAKY;
	case CV_RUNNING: return ROLE_RUNNING;
	case CV_OTHER: return ROLE_SKIPPED;
	default: return ROLE_DIM;
	}
}

static void commits_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct commits_priv *p = v->priv;
	if (!p->loaded || !p->l.n) {
		if (row == 0)
			tui_text(c, p->error[0] ? p->error : "no commits on this branch", (size_t)-1,
				 p->error[0] ? ROLE_STATUS_ERROR : ROLE_DIM, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	if (row < 0 || row >= p->l.n)
		return;
	const struct commit_row *r = &p->l.rows[row];
	int width = tui_canvas_width(c);
	char sha7[8];
	snprintf(sha7, sizeof(sha7), "%.7s", r->c.sha);
	tui_column(c, sha7, ROLE_SHA, 7, 0);
	for (int w = 0; w < p->l.n_workflows; w++) {
		const char *g = tui_glyph(commit_verdict_glyph(r->wf[w].v, true),
					  commit_verdict_glyph(r->wf[w].v, false));
		tui_text(c, g, (size_t)-1, verdict_role(r->wf[w].v), 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (p->l.n_parity) {
		enum commit_verdict pv = r->parity == CP_PASS ? CV_GREEN : r->parity == CP_FAIL ? CV_RED : CV_NONE;
		tui_text(c, tui_glyph(commit_verdict_glyph(pv, true), commit_verdict_glyph(pv, false)),
			 (size_t)-1, verdict_role(pv), 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	if (p->l.n_th) {
		/* as the runs view marks a breach: fail ▲, warn △, pass ✓ */
		const char *g = r->th == TH_BREACH_FAIL ? tui_glyph("\u25b2", "!")
			      : r->th == TH_BREACH_WARN ? tui_glyph("\u25b3", "^")
			      : r->th == TH_PASS ? tui_glyph("\u2713", "+") : tui_glyph("\u00b7", ".");
		enum role role = r->th == TH_BREACH_FAIL ? ROLE_FAILURE
			       : r->th == TH_BREACH_WARN ? ROLE_WARNING_LINE
			       : r->th == TH_PASS ? ROLE_SUCCESS : ROLE_DIM;
		tui_text(c, g, (size_t)-1, role, 1, TEXT_PAD);
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	}
	char age[32] = "";
	time_format_age(r->c.time_ms, time_now_ms(), age, sizeof(age));
	if (width >= 60)
		tui_column(c, age, ROLE_DIM, 8, TEXT_RIGHT);
	if (width >= 80)
		tui_column(c, r->c.author, ROLE_DIM, 16, 0);
	if (r->c.n_parents > 1)
		tui_text(c, "merge: ", (size_t)-1, ROLE_DIM, 0, 0);
	tui_text(c, r->c.subject, (size_t)-1, ROLE_DEFAULT, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

/* The column names, laid out as commits_draw lays out the rows: each
 * workflow's one-cell column under its initial (the title names them in
 * order), P the parity verdict, T the thresholds. */
static void commits_header(struct view *v, struct tui_canvas *c)
{
	struct commits_priv *p = v->priv;
	if (!p->loaded || !p->l.n)
		return;
	int width = tui_canvas_width(c);
	tui_column(c, "SHA", ROLE_HEADER, 7, 0);
	for (int w = 0; w < p->l.n_workflows; w++) {
		const char *name = p->l.workflows[w];
		char initial[2] = {name && (unsigned char)name[0] >= 0x20 && (unsigned char)name[0] < 0x7f
					   ? name[0]
					   : '?',
				   0};
		tui_column(c, initial, ROLE_HEADER, 1, 0);
	}
	if (p->l.n_parity)
		tui_column(c, "P", ROLE_HEADER, 1, 0);
	if (p->l.n_th)
		tui_column(c, "T", ROLE_HEADER, 1, 0);
	if (width >= 60)
		tui_column(c, "AGE", ROLE_HEADER, 8, TEXT_RIGHT);
	if (width >= 80)
		tui_column(c, "AUTHOR", ROLE_HEADER, 16, 0);
	tui_text(c, "SUBJECT", (size_t)-1, ROLE_HEADER, 0, 0);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static enum action commits_request(struct view *v, enum action a, unsigned *eff)
{
	struct commits_priv *p = v->priv;
	switch (a) {
	case ACT_ENTER:
		if (p->loaded && v->cursor >= 0 && v->cursor < p->l.n) {
			struct runs_view_arg arg = {.filter = p->l.rows[v->cursor].c.sha};
			tui_open(&runs_view_ops, &arg, OPEN_PUSH);
		}
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	case ACT_REFRESH:
		load(v);
		tui_message("reloaded");
		*eff |= EFF_REDRAW;
		return ACT_NONE;
	default:
		return a;
	}
}

static bool commits_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	return views_command(v, cmd, arg, eff);
}

static void commits_env(struct view *v, void *out)
{
	struct commits_priv *p = v->priv;
	struct view_env *env = out;
	if (!p->loaded || v->cursor < 0 || v->cursor >= p->l.n)
		return;
	snprintf(env->commit, sizeof(env->commit), "%s", p->l.rows[v->cursor].c.sha);
	env->branch = p->l.branch;
}

static void commits_title(struct view *v, char *out, size_t n)
{
	struct commits_priv *p = v->priv;
	struct buf b = BUF_INIT;
	buf_addf(&b, "commits \u00b7 %s", p->loaded ? p->l.branch : p->branch ? p->branch : "-");
	if (p->loaded && p->l.n_workflows) {
		buf_adds(&b, " \u00b7 ");
		for (int w = 0; w < p->l.n_workflows; w++)
			buf_addf(&b, "%s%s", w ? " " : "", p->l.workflows[w]);
	}
	if (p->loaded && (p->l.n_parity || p->l.n_th))
		buf_addf(&b, " +%s%s", p->l.n_parity ? " parity-verdict" : "", p->l.n_th ? " thresholds" : "");
	snprintf(out, n, "%s", buf_cstr(&b));
	buf_release(&b);
}

static void commits_status(struct view *v, char *out, size_t n)
{
	struct commits_priv *p = v->priv;
	int red = 0;
	for (int i = 0; p->loaded && i < p->l.n; i++)
		red += p->l.rows[i].overall == CV_RED;
	int pfail = 0, thfail = 0;
	for (int i = 0; p->loaded && i < p->l.n; i++) {
		pfail += p->l.rows[i].parity == CP_FAIL;
		thfail += p->l.rows[i].th == TH_BREACH_FAIL;
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "%d commit%s \u00b7 %d red", p->loaded ? p->l.n : 0,
		 p->loaded && p->l.n == 1 ? "" : "s", red);
	if (p->loaded && p->l.n_parity)
		buf_addf(&b, " \u00b7 %d parity fail", pfail);
	if (p->loaded && p->l.n_th)
		buf_addf(&b, " \u00b7 %d over a fail bound", thfail);
	snprintf(out, n, "%s", buf_cstr(&b));
	buf_release(&b);
}

static bool commits_match(struct view *v, long row, const char *query)
{
	struct commits_priv *p = v->priv;
	if (!p->loaded || !query || row < 0 || row >= p->l.n)
		return false;
	const struct commit_row *r = &p->l.rows[row];
	return strcasestr(r->c.subject, query) || strcasestr(r->c.author, query) ||
	       strcasestr(r->c.sha, query);
}

static void commits_done(struct view *v)
{
	struct commits_priv *p = v->priv;
	if (p->loaded)
		commit_list_release(&p->l);
	free(p->branch);
}

const struct view_ops commits_view_ops = {
	.name = "commits",
	.private_size = sizeof(struct commits_priv),
	.open = commits_open,
	.load = load,
	.draw = commits_draw,
	.request = commits_request,
	.command = commits_command,
	.title = commits_title,
	.header = commits_header,
	.status = commits_status,
	.match = commits_match,
	.done = commits_done,
	.env = commits_env,
};
