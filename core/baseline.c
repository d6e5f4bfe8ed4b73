/* baseline.c - choosing the run a run is compared with (see baseline.h). */
#include "baseline.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triage.h"

struct cand {
	int64_t id;
	char sha[GITREPO_SHA_LEN + 1];
	int64_t created_at;
	int order; /* 0: the newest */
};

struct cands {
	struct cand *c;
	int n;
	size_t alloc;
};

static int dberr(struct store *st, struct cs_err *err)
{
	return store_err(st, err, "cannot choose a baseline");
}

/* Green runs of r's workflow on branch, other than r and not at r's commit,
 * newest first. */
static int candidates(struct store *st, const struct run *r, const char *branch,
		      struct cands *out, struct cs_err *err)
{
	sqlite3_stmt *s;
	out->n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, head_sha, created_at FROM runs WHERE repo_id = "
			       "(SELECT repo_id FROM runs WHERE id = ?1) AND workflow_name IS ?2 AND "
			       "head_branch = ?3 AND conclusion = 'success' AND id != ?1 AND "
			       "head_sha IS NOT NULL AND head_sha IS NOT ?4 "
			       "ORDER BY created_at DESC, provider_id DESC, attempt DESC",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(st, err);
	sqlite3_bind_int64(s, 1, r->id);
	if (r->workflow)
		sqlite3_bind_text(s, 2, r->workflow, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, branch, -1, SQLITE_STATIC);
	if (r->sha)
		sqlite3_bind_text(s, 4, r->sha, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(out->c, out->alloc, (size_t)out->n + 1);
		struct cand *c = &out->c[out->n];
		c->id = sqlite3_column_int64(s, 0);
		snprintf(c->sha, sizeof(c->sha), "%s", (const char *)sqlite3_column_text(s, 1));
		c->created_at = sqlite3_column_type(s, 2) == SQLITE_NULL ? CS_TIME_NONE
									  : sqlite3_column_int64(s, 2);
		c->order = out->n++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, err);
}

static int by_sha(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	int c = strcmp(a->sha, b->sha);
	return c ? c : a->order - b->order;
}

/* The newest candidate at an ancestor of sha (sha itself when with_self):
 * its index in cs (sorted by sha here) and how far back, or -1. */
static int walk(struct gitrepo *g, const char *sha, bool with_self, struct cands *cs, int *back,
		bool *in_repo)
{
	char(*ids)[GITREPO_SHA_LEN + 1];
	int n = gitrepo_first_parents(g, sha, with_self, BASELINE_MAX_WALK, &ids);
	*in_repo = n >= 0;
	if (n <= 0)
		return -1;
	qsort(cs->c, (size_t)cs->n, sizeof(*cs->c), by_sha);
	int found = -1;
	for (int k = 0; k < n && found < 0; k++) {
		int lo = 0, hi = cs->n;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (strcmp(cs->c[mid].sha, ids[k]) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < cs->n && !strcmp(cs->c[lo].sha, ids[k])) {
			found = lo; /* the first of its sha is the newest */
			*back = with_self ? k : k + 1;
		}
	}
	free(ids);
	return found;
}

/* The newest candidate created before r (any, when times are unknown). */
static int newest_before(const struct run *r, const struct cands *cs)
{
	int best = -1;
	for (int k = 0; k < cs->n; k++) {
		const struct cand *c = &cs->c[k];
		if (r->created_at != CS_TIME_NONE && c->created_at != CS_TIME_NONE &&
		    c->created_at >= r->created_at)
			continue;
		if (best < 0 || c->order < cs->c[best].order)
			best = k;
	}
	return best;
}

static void earlier(const struct run *r, const struct cand *c, char *out, size_t n)
{
	if (r->created_at == CS_TIME_NONE || c->created_at == CS_TIME_NONE) {
		out[0] = '\0';
		return;
	}
	char d[32];
	time_format_duration(r->created_at - c->created_at, d, sizeof(d));
	snprintf(out, n, ", %s earlier", d);
}

static int attempts_note(struct store *st, const struct run *r, struct baseline *out,
			 struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT attempt, conclusion FROM runs WHERE repo_id = "
			       "(SELECT repo_id FROM runs WHERE id = ?1) AND provider_id = ?2 AND "
			       "attempt != ?3 ORDER BY attempt",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(st, err);
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_int64(s, 2, r->provider_id);
	sqlite3_bind_int(s, 3, r->attempt);
	bool failed = ci_conclusion_is_failure(r->conclusion);
	bool passed = r->conclusion && !strcmp(r->conclusion, "success");
	int later_pass = 0, earlier_fail = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int a = sqlite3_column_int(s, 0);
		const char *c = (const char *)sqlite3_column_text(s, 1);
		if (failed && a > r->attempt && c && !strcmp(c, "success") && !later_pass)
			later_pass = a;
		if (passed && a < r->attempt && ci_conclusion_is_failure(c))
			earlier_fail = a;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dberr(st, err);
	if (later_pass)
		snprintf(out->note, sizeof(out->note),
			 "attempt %d of this run passed on the same commit: the failure may be flaky",
			 later_pass);
	else if (earlier_fail)
		snprintf(out->note, sizeof(out->note), "attempt %d of this run failed", earlier_fail);
	return 0;
}

static int take(struct store *st, int64_t id, struct baseline *out, struct cs_err *err)
{
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)id);
	if (store_find_run(st, spec, &out->base, err) < 0)
		return -1;
	out->found = true;
	return 0;
}

static const char *commits(int n)
{
	return n == 1 ? "commit" : "commits";
}

/* Against another branch (a pull request's base): at the merge base. */
static int against_branch(struct store *st, struct gitrepo *g, const struct run *r,
			  const char *branch, const char *why, struct baseline *out,
			  struct cs_err *err)
{
	struct cands cs = {0};
	int rc = candidates(st, r, branch, &cs, err);
	if (rc < 0 || cs.n == 0) {
		free(cs.c);
		return rc;
	}
	char mb[GITREPO_SHA_LEN + 1];
	int back = 0, k = -1;
	bool in_repo = false;
	if (gitrepo_fork_point(g, r->sha, branch, mb))
		k = walk(g, mb, true, &cs, &back, &in_repo);
	if (k >= 0) {
		if (back == 0)
			snprintf(out->reason, sizeof(out->reason), "%s: %s where this branch forked, %.7s", why,
				 branch, mb);
		else
			snprintf(out->reason, sizeof(out->reason),
				 "%s: %s, last green %d %s before this branch forked at %.7s", why, branch, back,
				 commits(back), mb);
		rc = take(st, cs.c[k].id, out, err);
	} else if ((k = newest_before(r, &cs)) >= 0) {
		char e[64];
		earlier(r, &cs.c[k], e, sizeof(e));
		snprintf(out->reason, sizeof(out->reason), "%s: newest green run of %s before this one%s%s",
			 why, branch, e, g ? " (the checkout does not say where this branch forked)" : "");
		rc = take(st, cs.c[k].id, out, err);
	}
	free(cs.c);
	return rc;
}

int baseline_choose(struct store *st, struct gitrepo *g, const struct run *r,
		    const char *base_branch, struct baseline *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (attempts_note(st, r, out, err) < 0)
		return -1;
	char *def = NULL;
	const char *target = base_branch;
	if (!target) {
		def = store_default_branch(st, err);
		if (!def && err->code)
			return -1;
		target = def;
	}
	bool pr = r->event && (!strcmp(r->event, "pull_request") ||
			       !strcmp(r->event, "pull_request_target"));
	int rc = 0;
	if (pr) {
		if (target)
			rc = against_branch(st, g, r, target, "pull request base", out, err);
	} else if (r->branch) {
		struct cands cs = {0};
		rc = candidates(st, r, r->branch, &cs, err);
		if (rc == 0 && cs.n) {
			int back = 0;
			bool in_repo = false;
			int k = walk(g, r->sha, false, &cs, &back, &in_repo);
			if (k >= 0) {
				snprintf(out->reason, sizeof(out->reason),
					 "last green ancestor, %d %s back", back, commits(back));
				rc = take(st, cs.c[k].id, out, err);
			} else if ((k = newest_before(r, &cs)) >= 0) {
				char e[64];
				earlier(r, &cs.c[k], e, sizeof(e));
				const char *why = !g ? " (no git checkout)"
					: !in_repo ? " (its commit is not in the checkout)"
						   : " (no green ancestor)";
				snprintf(out->reason, sizeof(out->reason),
					 "newest green run on %s before this one%s%s", r->branch, e, why);
				rc = take(st, cs.c[k].id, out, err);
			}
		}
		free(cs.c);
		if (rc == 0 && !out->found && target && strcmp(target, r->branch))
			rc = against_branch(st, g, r, target, "no green run on this branch", out, err);
	}
	if (rc == 0 && !out->found) {
		if (pr)
			snprintf(out->reason, sizeof(out->reason),
				 "no successful run of %s on the base branch %s to compare with",
				 r->workflow ? r->workflow : "this workflow", target ? target : "(unknown)");
		else
			snprintf(out->reason, sizeof(out->reason),
				 "no successful run of %s on %s at an earlier commit to compare with",
				 r->workflow ? r->workflow : "this workflow",
				 r->branch ? r->branch : "this branch");
	}
	free(def);
	return rc < 0 ? -1 : 0;
}

void baseline_release(struct baseline *b)
{
	if (b->found)
		run_free(&b->base);
	memset(b, 0, sizeof(*b));
}
