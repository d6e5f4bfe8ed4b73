/* triagetree.c - the triage view's runs -> jobs -> findings tree, its
 * fingerprint list, histories, rows and folds (see triagetree.h). */
#include "triagetree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int byte_width(const char *s, size_t n)
{
	size_t len = n == (size_t)-1 ? strlen(s) : strnlen(s, n);
	return len > 1000000 ? 1000000 : (int)len;
}

void tt_init(struct triage_tree *p, struct store *st)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->mode = TT_BY_RUN;
	p->width = byte_width;
}

/* --- histories ------------------------------------------------------------------------- */
static size_t hash_fp(const char *fp)
{
	size_t h = 1469598103934665603u;
	for (; *fp; fp++)
		h = (h ^ (unsigned char)*fp) * 1099511628211u;
	return h;
}

struct tt_hist *tt_hist_find(struct triage_tree *p, const char *fp)
{
	if (!p->ht_cap)
		return NULL;
	for (size_t i = hash_fp(fp) & (p->ht_cap - 1);; i = (i + 1) & (p->ht_cap - 1)) {
		if (!p->ht[i])
			return NULL;
		if (!strcmp(p->ht[i]->fp, fp))
			return p->ht[i];
	}
}

static void hist_insert(struct triage_tree *p, struct tt_hist *e)
{
	if ((p->ht_n + 1) * 2 > p->ht_cap) {
		size_t cap = p->ht_cap ? p->ht_cap * 2 : 64;
		struct tt_hist **t = xcalloc(cap, sizeof(*t));
		for (size_t i = 0; i < p->ht_cap; i++) {
			if (!p->ht[i])
				continue;
			size_t k = hash_fp(p->ht[i]->fp) & (cap - 1);
			while (t[k])
				k = (k + 1) & (cap - 1);
			t[k] = p->ht[i];
		}
		free(p->ht);
		p->ht = t;
		p->ht_cap = cap;
	}
	size_t k = hash_fp(e->fp) & (p->ht_cap - 1);
	while (p->ht[k])
		k = (k + 1) & (p->ht_cap - 1);
	p->ht[k] = e;
	p->ht_n++;
}

void tt_hist_compute(struct triage_tree *p, struct tt_hist *e)
{
	struct cs_err err;
	err_clear(&err);
	if (triage_history(p->st, e->fp, &e->h, &err) < 0) {
		triage_history_free(&e->h);
		memset(&e->h, 0, sizeof(e->h));
		snprintf(e->h.fingerprint, sizeof(e->h.fingerprint), "%s", e->fp);
		e->h.state = xstrdup("new");
		e->h.first_at = e->h.last_at = e->h.set_at = CS_TIME_NONE;
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
	}
}

struct tt_hist *tt_hist(struct triage_tree *p, const char *fp)
{
	struct tt_hist *e = tt_hist_find(p, fp);
	if (e)
		return e;
	e = xcalloc(1, sizeof(*e));
	snprintf(e->fp, sizeof(e->fp), "%s", fp);
	tt_hist_compute(p, e);
	hist_insert(p, e);
	return e;
}

void tt_hist_free_all(struct triage_tree *p)
{
	for (size_t i = 0; i < p->ht_cap; i++) {
		if (p->ht[i]) {
			triage_history_free(&p->ht[i]->h);
			free(p->ht[i]);
		}
	}
	free(p->ht);
	p->ht = NULL;
	p->ht_cap = p->ht_n = 0;
}

const char *tt_state_of(struct triage_tree *p, const char *fp)
{
	struct tt_hist *e = tt_hist_find(p, fp);
	return e && e->h.state ? e->h.state : "new";
}

bool tt_is_flaky(const struct tt_hist *e)
{
	return e && (e->h.flaky || (e->h.state && !strcmp(e->h.state, "known-flaky")));
}

/* --- data ---------------------------------------------------------------------------------- */
static void job_release(struct tt_job *j)
{
	free(j->name);
	free(j->conclusion);
	free(j->url);
	triage_findings_free(j->f, j->nf);
	free(j->open);
}

static void run_release(struct tt_run *t)
{
	run_free(&t->r);
	for (int k = 0; k < t->nj; k++)
		job_release(&t->jobs[k]);
	free(t->jobs);
}

static void group_release(struct tt_group *g)
{
	free(g->category);
	free(g->rule);
	free(g->title);
	free(g->state);
	triage_findings_free(g->occ, g->nocc);
	for (int i = 0; i < g->nocc; i++)
		run_free(&g->occ_run[i]);
	free(g->occ_run);
}

void tt_drop_runs(struct triage_tree *p)
{
	for (int i = 0; i < p->nruns; i++)
		run_release(&p->runs[i]);
	free(p->runs);
	p->runs = NULL;
	p->nruns = 0;
	p->runs_alloc = 0;
	p->runs_offset = 0;
	p->runs_done = p->runs_capped = false;
}

void tt_drop_groups(struct triage_tree *p)
{
	for (int i = 0; i < p->ngroups; i++)
		group_release(&p->groups[i]);
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
	p->groups_alloc = 0;
	p->groups_offset = 0;
	p->groups_done = p->groups_capped = false;
}

/* Does finding f pass the filter's category and state? (workflow and
 * branch were applied by the query) */
bool tt_finding_shown(struct triage_tree *p, const struct triage_finding *f)
{
	if (p->q.category && (!f->category || strcmp(f->category, p->q.category)))
		return false;
	if (p->q.state && strcmp(tt_state_of(p, f->fingerprint), p->q.state))
		return false;
	if (p->q.flaky && tt_is_flaky(tt_hist_find(p, f->fingerprint)) != (p->q.flaky == 1))
		return false;
	return true;
}

/* Add run r with its failed jobs, their shown findings and the histories
 * of those. */
static int add_run(struct triage_tree *p, const struct run *r, const struct triage_run_summary *s,
		   struct cs_err *err)
{
	struct job *jobs;
	int nj;
	if (store_jobs(p->st, r->id, &jobs, &nj, err) < 0)
		return -1;
	XGROW(p->runs, p->runs_alloc, (size_t)p->nruns + 1);
	struct tt_run *t = &p->runs[p->nruns++];
	memset(t, 0, sizeof(*t));
	run_copy(&t->r, r);
	t->sum = *s;
	int ret = 0;
	for (int k = 0; k < nj && ret == 0; k++) {
		const struct job *j = &jobs[k];
		if (!triage_job_failed(r, j))
			continue;
		t->jobs = xrealloc(t->jobs, sizeof(*t->jobs) * (size_t)(t->nj + 1));
		struct tt_job *tj = &t->jobs[t->nj++];
		memset(tj, 0, sizeof(*tj));
		tj->id = j->id;
		tj->name = xstrdup(j->name ? j->name : "");
		tj->conclusion = xstrdup(j->conclusion ? j->conclusion : "failure");
		tj->url = j->html_url ? xstrdup(j->html_url) : NULL;
		struct triage_job_info info;
		if (triage_job_findings(p->st, j->id, true, &tj->f, &tj->nf, err) < 0 ||
		    triage_job_info(p->st, j->id, &info, err) < 0) {
			ret = -1;
			break;
		}
		tj->triaged = info.triaged;
		tj->open = xcalloc((size_t)(tj->nf ? tj->nf : 1), sizeof(bool));
		for (int m = 0; m < tj->nf; m++) {
			tj->open[m] = p->open_default;
			tt_hist(p, tj->f[m].fingerprint);
		}
	}
	store_jobs_free(jobs, nj);
	return ret;
}

static int on_failed_run(void *ctx, const struct run *r, const struct triage_run_summary *s)
{
	struct triage_tree *p = ctx;
	struct cs_err err;
	err_clear(&err);
	if (add_run(p, r, s, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		return 1;
	}
	return 0;
}

static int on_group(void *ctx, const struct triage_group *g)
{
	struct triage_tree *p = ctx;
	XGROW(p->groups, p->groups_alloc, (size_t)p->ngroups + 1);
	struct tt_group *t = &p->groups[p->ngroups++];
	memset(t, 0, sizeof(*t));
	snprintf(t->fp, sizeof(t->fp), "%s", g->fingerprint);
	t->category = xstrdup(g->category ? g->category : "unknown");
	t->rule = xstrdup(g->rule ? g->rule : "");
	t->title = xstrdup(g->title ? g->title : "");
	t->state = xstrdup(g->state ? g->state : "new");
	t->n_runs = g->n_runs;
	t->n_commits = g->n_commits;
	t->first_at = g->first_at;
	t->last_at = g->last_at;
	tt_hist(p, t->fp);
	return 0;
}

/* The occurrences of a fingerprint, with their runs. */
int tt_load_occurrences(struct triage_tree *p, struct tt_group *g, struct cs_err *err)
{
	if (g->occ_loaded)
		return 0;
	g->occ_loaded = true;
	if (triage_fingerprint_findings(p->st, g->fp, TT_OCC_MAX, &g->occ, &g->nocc, err) < 0)
		return -1;
	g->occ_run = xcalloc((size_t)(g->nocc ? g->nocc : 1), sizeof(*g->occ_run));
	for (int i = 0; i < g->nocc; i++) {
		int k = 0;
		while (k < i && g->occ[k].run_row_id != g->occ[i].run_row_id)
			k++;
		if (k < i) {
			run_copy(&g->occ_run[i], &g->occ_run[k]);
			continue;
		}
		char spec[32];
		snprintf(spec, sizeof(spec), "#%lld", (long long)g->occ[i].run_row_id);
		struct cs_err ignored; /* a run gone since: the occurrence is shown without it */
		if (store_find_run(p->st, spec, &g->occ_run[i], &ignored) < 0) {
			memset(&g->occ_run[i], 0, sizeof(g->occ_run[i]));
			g->occ_run[i].created_at = CS_TIME_NONE;
		}
	}
	return 0;
}

/* One slice of loading in the current mode; false when all is loaded. */
bool tt_load_step(struct triage_tree *p)
{
	struct cs_err err;
	err_clear(&err);
	struct triage_filter f = {0};
	triage_query_apply(&p->q, &f);
	if (p->mode == TT_BY_RUN) {
		if (p->runs_done)
			return false;
		if (p->only_run) {
			char spec[32];
			struct run r;
			struct triage_run_summary s;
			snprintf(spec, sizeof(spec), "#%lld", (long long)p->only_run);
			if (store_find_run(p->st, spec, &r, &err) < 0 ||
			    triage_run_summary(p->st, p->only_run, &s, &err) < 0) {
				snprintf(p->error, sizeof(p->error), "%s", err.msg);
			} else {
				if (add_run(p, &r, &s, &err) < 0)
					snprintf(p->error, sizeof(p->error), "%s", err.msg);
				run_free(&r);
			}
			p->runs_done = true;
			return false;
		}
		int before = p->nruns;
		f.limit = TT_PAGE_RUNS;
		f.offset = p->runs_offset;
		if (triage_failed_runs(p->st, &f, on_failed_run, p, &err) < 0 && !p->error[0])
			snprintf(p->error, sizeof(p->error), "%s", err.msg);
		p->runs_offset += p->nruns - before;
		if (p->nruns - before < TT_PAGE_RUNS || p->error[0])
			p->runs_done = true;
		if (!p->runs_done && p->nruns >= TT_MAX_RUNS)
			p->runs_done = p->runs_capped = true;
		return !p->runs_done;
	}
	if (p->groups_done)
		return false;
	int before = p->ngroups;
	f.limit = TT_PAGE_GROUPS;
	f.offset = p->groups_offset;
	if (triage_groups(p->st, &f, on_group, p, &err) < 0)
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
	p->groups_offset += p->ngroups - before;
	if (p->ngroups - before < TT_PAGE_GROUPS || p->error[0])
		p->groups_done = true;
	if (!p->groups_done && p->ngroups >= TT_MAX_GROUPS)
		p->groups_done = p->groups_capped = true;
	return !p->groups_done;
}

/* --- rows ------------------------------------------------------------------------------------ */
static void push(struct triage_tree *p, enum tt_kind k, int a, int b, int c, int d)
{
	XGROW(p->rows, p->rows_alloc, p->nrows + 1);
	p->rows[p->nrows++] = (struct tt_row){.kind = (unsigned char)k, .a = a, .b = b, .c = c, .d = d};
}

/* The details of a finding f (history he): rows of kinds TT_HIST... */
static void push_details(struct triage_tree *p, const struct triage_finding *f,
			 const struct tt_hist *he, int a, int b, int c)
{
	if (he) {
		push(p, TT_HIST, a, b, c, 0);
		for (int e = 0; e < he->h.n_evidence && e < TT_EVIDENCE_SHOWN; e++)
			push(p, TT_EVID, a, b, c, e);
		if (he->h.set_by || (he->h.note && *he->h.note))
			push(p, TT_NOTE, a, b, c, 0);
	}
	if (!f)
		return;
	push(p, TT_RULE, a, b, c, 0);
	for (int x = 0; x < f->n_excerpt; x++) {
		if (x && f->excerpt[x].line && f->excerpt[x - 1].line &&
		    f->excerpt[x].line > f->excerpt[x - 1].line + 1)
			push(p, TT_GAP, a, b, c, x);
		push(p, TT_EXC, a, b, c, x);
	}
}

static void count_finding(struct triage_tree *p, const struct triage_finding *f,
			  const struct run *r)
{
	struct tt_hist *e = tt_hist_find(p, f->fingerprint);
	p->n_failures++;
	if (e && triage_is_new(&e->h, r))
		p->n_new++;
	if (tt_is_flaky(e))
		p->n_flaky++;
	if (!e || !e->h.state || !strcmp(e->h.state, "new"))
		p->n_untriaged++;
	if (f->category)
		p->cat_w = MAX(p->cat_w, p->width(f->category, (size_t)-1));
}

void tt_build_rows(struct triage_tree *p)
{
	p->nrows = 0;
	p->n_failures = p->n_new = p->n_flaky = p->n_untriaged = 0;
	p->cat_w = 4;
	p->wf_w = p->br_w = 0;
	if (p->mode == TT_BY_RUN) {
		for (int i = 0; i < p->nruns; i++) {
			struct tt_run *t = &p->runs[i];
			size_t at = p->nrows;
			int shown_jobs = 0;
			push(p, TT_RUN, i, -1, -1, 0);
			for (int k = 0; k < t->nj; k++) {
				struct tt_job *j = &t->jobs[k];
				int shown = 0;
				for (int m = 0; m < j->nf; m++)
					shown += tt_finding_shown(p, &j->f[m]);
				if (!shown && (p->q.category || p->q.state || p->q.flaky))
					continue;
				shown_jobs++;
				for (int m = 0; m < j->nf; m++)
					if (tt_finding_shown(p, &j->f[m]))
						count_finding(p, &j->f[m], &t->r);
				if (t->folded)
					continue;
				push(p, TT_JOB, i, k, -1, 0);
				if (j->folded)
					continue;
				for (int m = 0; m < j->nf; m++) {
					if (!tt_finding_shown(p, &j->f[m]))
						continue;
					push(p, TT_FIND, i, k, m, 0);
					if (j->open[m])
						push_details(p, &j->f[m], tt_hist_find(p, j->f[m].fingerprint),
							     i, k, m);
				}
			}
			if (!shown_jobs && (p->q.category || p->q.state || p->q.flaky) &&
			    !p->only_run) {
				p->nrows = at; /* the state filter hides its findings */
				continue;
			}
			p->wf_w = MAX(p->wf_w, p->width(t->r.workflow ? t->r.workflow : "-", (size_t)-1));
			p->br_w = MAX(p->br_w, p->width(t->r.branch ? t->r.branch : "-", (size_t)-1));
		}
	} else {
		for (int i = 0; i < p->ngroups; i++) {
			struct tt_group *g = &p->groups[i];
			struct tt_hist *e = tt_hist_find(p, g->fp);
			/* a state changed here since the list was loaded */
			if (p->q.state && e && strcmp(e->h.state, p->q.state))
				continue;
			if (p->q.flaky && tt_is_flaky(e) != (p->q.flaky == 1))
				continue;
			push(p, TT_GROUP, i, -1, -1, 0);
			p->n_failures++;
			if (tt_is_flaky(e))
				p->n_flaky++;
			if (!e || !strcmp(e->h.state, "new"))
				p->n_untriaged++;
			p->cat_w = MAX(p->cat_w, p->width(g->category, (size_t)-1));
			if (!g->open)
				continue;
			push_details(p, g->nocc ? &g->occ[0] : NULL, e, i, -1, -1);
			if (g->nocc)
				push(p, TT_OCCHEAD, i, -1, -1, 0);
			for (int o = 0; o < g->nocc; o++)
				push(p, TT_OCC, i, o, -1, 0);
		}
	}
	p->cat_w = MIN(p->cat_w, 14);
	if (!p->nrows)
		push(p, TT_MSG, 0, 0, 0, 0);
}

bool tt_row_eq(const struct tt_row *x, const struct tt_row *y)
{
	return x->kind == y->kind && x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d;
}

long tt_find_row(struct triage_tree *p, const struct tt_row *want)
{
	for (size_t i = 0; i < p->nrows; i++)
		if (tt_row_eq(&p->rows[i], want))
			return (long)i;
	return -1;
}

long tt_locate(struct triage_tree *p, const struct tt_row *cur)
{
	if (cur->kind == TT_MSG)
		return -1;
	long at = tt_find_row(p, cur);
	struct tt_row up[3];
	int nu = 0;
	if (cur->kind != TT_RUN && cur->kind != TT_GROUP && cur->kind != TT_JOB &&
	    cur->kind != TT_FIND && cur->kind != TT_OCC)
		up[nu++] = (struct tt_row){.kind = p->mode == TT_BY_RUN ? TT_FIND : TT_GROUP,
					   .a = cur->a, .b = cur->b, .c = cur->c};
	if (cur->kind == TT_OCC)
		up[nu++] = (struct tt_row){.kind = TT_GROUP, .a = cur->a, .b = -1, .c = -1};
	if (p->mode == TT_BY_RUN && cur->kind != TT_RUN && cur->kind != TT_JOB)
		up[nu++] = (struct tt_row){.kind = TT_JOB, .a = cur->a, .b = cur->b, .c = -1};
	if (p->mode == TT_BY_RUN && cur->kind != TT_RUN)
		up[nu++] = (struct tt_row){.kind = TT_RUN, .a = cur->a, .b = -1, .c = -1};
	for (int i = 0; i < nu && at < 0; i++)
		at = tt_find_row(p, &up[i]);
	return at;
}

const struct triage_finding *tt_row_finding(struct triage_tree *p, long row)
{
	if (row < 0 || (size_t)row >= p->nrows)
		return NULL;
	const struct tt_row *t = &p->rows[row];
	switch ((enum tt_kind)t->kind) {
	case TT_MSG:
	case TT_RUN:
	case TT_JOB:
		return NULL;
	case TT_GROUP:
	case TT_OCCHEAD:
		if (p->mode == TT_BY_FP)
			return p->groups[t->a].nocc ? &p->groups[t->a].occ[0] : NULL;
		return NULL;
	case TT_OCC:
		return &p->groups[t->a].occ[t->b];
	case TT_FIND:
	case TT_HIST:
	case TT_EVID:
	case TT_NOTE:
	case TT_RULE:
	case TT_EXC:
	case TT_GAP:
		if (p->mode == TT_BY_FP)
			return p->groups[t->a].nocc ? &p->groups[t->a].occ[0] : NULL;
		return &p->runs[t->a].jobs[t->b].f[t->c];
	}
	return NULL;
}

const char *tt_row_fp(struct triage_tree *p, long row)
{
	if (row < 0 || (size_t)row >= p->nrows)
		return NULL;
	const struct tt_row *t = &p->rows[row];
	if (p->mode == TT_BY_FP && t->kind != TT_MSG)
		return p->groups[t->a].fp;
	const struct triage_finding *f = tt_row_finding(p, row);
	return f ? f->fingerprint : NULL;
}

int tt_refresh_state(struct triage_tree *p, const char *fp, struct cs_err *err)
{
	int rc = 0;
	struct tt_hist *e = tt_hist_find(p, fp);
	if (e) {
		triage_history_free(&e->h);
		tt_hist_compute(p, e);
	}
	/* the runs that show it: their "all known flaky" may have changed */
	for (int i = 0; i < p->nruns; i++) {
		struct tt_run *t = &p->runs[i];
		bool has = false;
		for (int k = 0; k < t->nj && !has; k++)
			for (int m = 0; m < t->jobs[k].nf && !has; m++)
				has = !strcmp(t->jobs[k].f[m].fingerprint, fp);
		if (has && triage_run_summary(p->st, t->r.id, &t->sum, err) < 0)
			rc = -1;
	}
	for (int i = 0; i < p->ngroups; i++) {
		if (!strcmp(p->groups[i].fp, fp) && e) {
			free(p->groups[i].state);
			p->groups[i].state = xstrdup(e->h.state);
		}
	}
	return rc;
}

void tt_release(struct triage_tree *p)
{
	tt_drop_runs(p);
	tt_drop_groups(p);
	tt_hist_free_all(p);
	triage_query_free(&p->q);
	free(p->rows);
	memset(p, 0, sizeof(*p));
}
