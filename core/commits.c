/* commits.c - first-parent history joined with the runs (see commits.h). */
#include "commits.h"
#include "parity.h"
#include "storesql.h"

#include <stdlib.h>
#include <string.h>

const char *commit_verdict_name(enum commit_verdict v)
{
	static const char *const names[] = {"none", "green", "red", "flaky", "running", "other"};
	return (unsigned)v < sizeof(names) / sizeof(*names) ? names[v] : "none";
}

const char *commit_parity_name(enum commit_parity p)
{
	return p == CP_PASS ? "pass" : p == CP_FAIL ? "fail" : "none";
}

const char *commit_verdict_glyph(enum commit_verdict v, bool utf8)
{
	static const char *const u[] = {"·", "✓", "✗", "~", "●", "-"};
	static const char *const a[] = {".", "+", "x", "~", "*", "-"};
	if ((unsigned)v >= sizeof(u) / sizeof(*u))
		v = CV_NONE;
	return utf8 ? u[v] : a[v];
}

struct gitrepo *commits_open_repo(const char *repo_path, struct cs_err *err)
{
	struct gitrepo *g = gitrepo_open(repo_path);
	if (!g)
		err_set(err, CS_ENOTFOUND,
			"%s%s%s is not in a git checkout: run ciscope inside the repository's checkout "
			"or name it with --repo PATH",
			repo_path ? "'" : "", repo_path ? repo_path : "the current directory",
			repo_path ? "'" : "");
	return g;
}

/* --- runs by sha ------------------------------------------------------------- */
static int take_run(void *ctx, sqlite3_stmt *s)
{
	struct { struct sha_runs *r; size_t alloc; } *c = ctx;
	const unsigned char *sha = sqlite3_column_text(s, 0);
	if (!sha || strlen((const char *)sha) != 40)
		return 0;
	XGROW(c->r->v, c->alloc, (size_t)c->r->n + 1);
	struct sha_run *x = &c->r->v[c->r->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->sha, sha, 41);
	for (int i = 0; i < 40; i++)
		if (x->sha[i] >= 'A' && x->sha[i] <= 'F')
			x->sha[i] = (char)(x->sha[i] - 'A' + 'a');
	x->row_id = sqlite3_column_int64(s, 1);
	x->provider_id = sqlite3_column_int64(s, 2);
	x->attempt = sqlite3_column_int(s, 3);
	x->workflow = sql_col_str(s, 4);
	x->branch = sql_col_str(s, 5);
	x->status = sql_col_str(s, 6);
	x->conclusion = sql_col_str(s, 7);
	x->created_at = sql_col_time(s, 8);
	return 0;
}

static int cmp_sha_run(const void *a, const void *b)
{
	const struct sha_run *x = a, *y = b;
	int c = strcmp(x->sha, y->sha);
	if (c)
		return c;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	if (x->provider_id != y->provider_id)
		return x->provider_id < y->provider_id ? -1 : 1;
	return x->attempt - y->attempt;
}

int sha_runs_load(struct store *st, struct sha_runs *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (store_prepare(st,
			  "SELECT lower(head_sha), id, provider_id, attempt, workflow_name, head_branch, "
			  "status, conclusion, created_at FROM runs WHERE head_sha IS NOT NULL",
			  &s, "reading the runs of commits", err) < 0)
		return -1;
	struct { struct sha_runs *r; size_t alloc; } c = {out, 0};
	if (store_collect(st, s, take_run, &c, "reading the runs of commits", err) < 0) {
		sha_runs_release(out);
		return -1;
	}
	if (out->n)
		qsort(out->v, (size_t)out->n, sizeof(*out->v), cmp_sha_run);
	return 0;
}

void sha_runs_release(struct sha_runs *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->v[i].workflow);
		free(r->v[i].branch);
		free(r->v[i].status);
		free(r->v[i].conclusion);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int sha_runs_find(const struct sha_runs *r, const char *sha, int *first)
{
	int lo = 0, hi = r->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (strcmp(r->v[mid].sha, sha) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	int n = 0;
	while (lo + n < r->n && !strcmp(r->v[lo + n].sha, sha))
		n++;
	return n;
}

/* --- verdicts ---------------------------------------------------------------- */
struct tally {
	int green, red, running, other;
};

static void tally_run(struct tally *t, const struct sha_run *x)
{
	if (!x->status || strcmp(x->status, "completed") != 0)
		t->running++;
	else if (x->conclusion && !strcmp(x->conclusion, "success"))
		t->green++;
	else if (ci_conclusion_is_failure(x->conclusion))
		t->red++;
	else
		t->other++;
}

static enum commit_verdict tally_verdict(const struct tally *t)
{
	if (t->red && t->green)
		return CV_FLAKY;
	if (t->red)
		return CV_RED;
	if (t->running)
		return CV_RUNNING;
	if (t->green)
		return CV_GREEN;
	if (t->other)
		return CV_OTHER;
	return CV_NONE;
}

static int severity(enum commit_verdict v)
{
	static const int rank[] = {[CV_NONE] = 0, [CV_GREEN] = 1, [CV_OTHER] = 2, [CV_RUNNING] = 3,
				   [CV_FLAKY] = 4, [CV_RED] = 5};
	return rank[v];
}

static int find_wf(char ***wfs, int *n, const char *name, bool add)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*wfs)[i], name))
			return i;
	if (!add)
		return -1;
	*wfs = xrealloc(*wfs, sizeof(**wfs) * (size_t)(*n + 1));
	(*wfs)[*n] = xstrdup(name);
	return (*n)++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The branch to walk, resolved: the given one, the index's default branch,
 * else HEAD. */
static int resolve_branch(struct store *st, struct gitrepo *g, const char *branch,
			  char **name, char sha[41], struct cs_err *err)
{
	char *b = branch ? xstrdup(branch) : NULL;
	if (!b) {
		struct cs_err ignored;
		err_clear(&ignored);
		b = st ? store_default_branch(st, &ignored) : NULL;
		if (b && !gitrepo_resolve(g, b, sha)) {
			free(b);
			b = NULL;
		}
		if (!b)
			b = xstrdup("HEAD");
	}
	if (!gitrepo_resolve(g, b, sha)) {
		err_set(err, CS_ENOTFOUND, "no branch or commit '%s' in the checkout", b);
		free(b);
		return -1;
	}
	*name = b;
	return 0;
}

int commits_list(struct store *st, struct gitrepo *g, const char *branch, int limit,
		 struct commit_list *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	char tip[41];
	if (resolve_branch(st, g, branch, &out->branch, tip, err) < 0)
		return -1;
	struct gitrepo_commit *cs = NULL;
	int n = gitrepo_first_parent(g, tip, NULL, limit > 0 ? limit : 50, &cs, err);
	if (n < 0)
		return -1;
	struct sha_runs runs;
	if (sha_runs_load(st, &runs, err) < 0) {
		gitrepo_commits_free(cs, n);
		return -1;
	}
	/* the workflows first, so every row gets the same columns, by name */
	for (int i = 0; i < n; i++) {
		int first, k = sha_runs_find(&runs, cs[i].sha, &first);
		for (int j = 0; j < k; j++)
			if (runs.v[first + j].workflow)
				find_wf(&out->workflows, &out->n_workflows, runs.v[first + j].workflow, true);
	}
	if (out->n_workflows)
		qsort(out->workflows, (size_t)out->n_workflows, sizeof(char *), cmp_str);
	out->rows = xcalloc((size_t)(n ? n : 1), sizeof(*out->rows));
	out->n = n;
	for (int i = 0; i < n; i++) {
		struct commit_row *r = &out->rows[i];
		r->c = cs[i];
		r->wf = xcalloc((size_t)(out->n_workflows ? out->n_workflows : 1), sizeof(*r->wf));
		int first, k = sha_runs_find(&runs, cs[i].sha, &first);
		r->run_ids = xcalloc((size_t)(k ? k : 1), sizeof(*r->run_ids));
		struct tally *t = xcalloc((size_t)(out->n_workflows ? out->n_workflows : 1), sizeof(*t));
		for (int j = 0; j < k; j++) {
			const struct sha_run *x = &runs.v[first + j];
			int w = x->workflow ? find_wf(&out->workflows, &out->n_workflows, x->workflow, false) : -1;
			if (w < 0)
				continue;
			tally_run(&t[w], x);
			r->wf[w].n_runs++;
			r->run_ids[r->n_runs++] = x->row_id;
		}
		for (int w = 0; w < out->n_workflows; w++) {
			r->wf[w].v = tally_verdict(&t[w]);
			if (severity(r->wf[w].v) > severity(r->overall))
				r->overall = r->wf[w].v;
		}
		free(t);
	}
	free(cs); /* the strings moved into the rows */
	sha_runs_release(&runs);
	return 0;
}

void commit_list_release(struct commit_list *l)
{
	for (int i = 0; i < l->n; i++) {
		gitrepo_commit_release(&l->rows[i].c);
		free(l->rows[i].wf);
		free(l->rows[i].run_ids);
		free(l->rows[i].parity_channel);
	}
	free(l->rows);
	for (int i = 0; i < l->n_workflows; i++)
		free(l->workflows[i]);
	free(l->workflows);
	free(l->branch);
	memset(l, 0, sizeof(*l));
}

/* The repository's own file of name at repo_top, unless env names one (the
 * loaders read env themselves) or there is none: NULL then. */
static char *repo_conf(const char *repo_top, const char *name, const char *env)
{
	const char *e = getenv(env);
	if (!repo_top || (e && *e))
		return NULL;
	char *dir = path_join(repo_top, ".ciscope");
	char *p = path_join(dir, name);
	free(dir);
	if (path_is_file(p))
		return p;
	free(p);
	return NULL;
}

int commits_judge(struct store *st, const char *repo_top, struct commit_list *l,
		  struct cs_err *err)
{
	l->n_th = l->n_parity = 0;
	int total = 0;
	for (int i = 0; i < l->n; i++)
		total += l->rows[i].n_runs;
	if (!total)
		return 0;
	char *thp = repo_conf(repo_top, "thresholds.conf", "CISCOPE_THRESHOLDS");
	char *pp = repo_conf(repo_top, "parity.conf", "CISCOPE_PARITY");
	struct th_conf tc;
	struct parity_conf *pc = NULL;
	int rc = th_conf_load(&tc, thp, err);
	if (rc == 0 && !(pc = parity_conf_load(pp, err))) {
		th_conf_release(&tc);
		rc = -1;
	}
	free(thp);
	free(pp);
	if (rc < 0)
		return -1;
	/* thresholds: every run of the list at once */
	int64_t *ids = xmalloc((size_t)total * sizeof(*ids));
	struct th_run_state *ts = xcalloc((size_t)total, sizeof(*ts));
	for (int i = 0, k = 0; i < l->n; i++)
		for (int j = 0; j < l->rows[i].n_runs; j++)
			ids[k++] = l->rows[i].run_ids[j];
	rc = metrics_run_thresholds(st, &tc, ids, total, ts, err);
	for (int i = 0, k = 0; rc == 0 && i < l->n; i++) {
		struct commit_row *r = &l->rows[i];
		for (int j = 0; j < r->n_runs; j++, k++) {
			if (ts[k].state > r->th)
				r->th = ts[k].state;
			r->th_breaches += ts[k].breaches;
		}
		l->n_th += r->th != TH_NONE;
	}
	/* parity: each run's channels judged with the configured tolerances,
	 * the verdicts stored once derived (parity_verdicts) */
	struct parity_verdict *pv = xcalloc((size_t)total, sizeof(*pv));
	if (rc == 0)
		rc = parity_run_verdicts(st, pc, ids, total, pv, err);
	for (int i = 0, k = 0; rc == 0 && i < l->n; i++) {
		struct commit_row *r = &l->rows[i];
		for (int j = 0; j < r->n_runs; j++, k++) {
			if (!pv[k].channels)
				continue;
			r->parity_runs++;
			if (pv[k].fail && r->parity != CP_FAIL) {
				r->parity = CP_FAIL;
				if (pv[k].channel)
					r->parity_channel = xstrdup(pv[k].channel);
			} else if (!pv[k].fail && r->parity == CP_NONE) {
				r->parity = CP_PASS;
			}
		}
		l->n_parity += r->parity != CP_NONE;
	}
	parity_verdicts_release(pv, total);
	free(pv);
	free(ids);
	free(ts);
	th_conf_release(&tc);
	parity_conf_free(pc);
	return rc;
}

int commits_last_green(struct store *st, struct gitrepo *g, const char *branch,
		       const char *workflow, int limit, struct gitrepo_commit *out,
		       struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	char tip[41];
	char *name = NULL;
	if (resolve_branch(st, g, branch, &name, tip, err) < 0)
		return -1;
	struct gitrepo_commit *cs = NULL;
	int n = gitrepo_first_parent_ids(g, tip, NULL, limit > 0 ? limit : 10000, &cs, err);
	if (n < 0) {
		free(name);
		return -1;
	}
	struct sha_runs runs;
	if (sha_runs_load(st, &runs, err) < 0) {
		gitrepo_commits_free(cs, n);
		free(name);
		return -1;
	}
	int found = -1;
	for (int i = 0; i < n && found < 0; i++) {
		int first, k = sha_runs_find(&runs, cs[i].sha, &first);
		/* per workflow: every one that ran here must be green */
		char **wfs = NULL;
		int nw = 0;
		struct tally t[64];
		memset(t, 0, sizeof(t));
		for (int j = 0; j < k; j++) {
			const struct sha_run *x = &runs.v[first + j];
			if (!x->workflow || (workflow && strcmp(x->workflow, workflow) != 0))
				continue;
			int w = find_wf(&wfs, &nw, x->workflow, nw < 64);
			if (w >= 0)
				tally_run(&t[w], x);
		}
		bool green = nw > 0;
		for (int w = 0; w < nw; w++)
			if (tally_verdict(&t[w]) != CV_GREEN)
				green = false;
		for (int w = 0; w < nw; w++)
			free(wfs[w]);
		free(wfs);
		if (green)
			found = i;
	}
	int rc = 0;
	if (found >= 0) {
		gitrepo_commit_fill(g, &cs[found]);
		*out = cs[found];
		memset(&cs[found], 0, sizeof(cs[found]));
	} else {
		rc = err_set(err, CS_ENOTFOUND, "no commit of '%s' in the last %d has %s green", name, n,
			     workflow ? workflow : "every workflow");
	}
	gitrepo_commits_free(cs, n);
	sha_runs_release(&runs);
	free(name);
	return rc;
}
