/* history.c - a fingerprint's sightings and flaky evidence (see history.h). */
#include "history.h"
#include "storesql.h"
#include "triage.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct occ {
	int64_t run_row_id;
	int64_t run;
	int attempt;
	char *sha, *branch, *workflow, *job;
	int64_t at;
};

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void add_branch(struct triage_history *h, const char *b)
{
	if (!b)
		return;
	for (int i = 0; i < h->n_branches; i++)
		if (!strcmp(h->branches[i], b))
			return;
	h->branches = xrealloc(h->branches, sizeof(char *) * (size_t)(h->n_branches + 1));
	h->branches[h->n_branches++] = xstrdup(b);
}

static struct triage_flaky_ev *new_ev(struct triage_history *h, enum flaky_kind k,
				      const struct occ *o)
{
	h->evidence = xrealloc(h->evidence, sizeof(*h->evidence) * (size_t)(h->n_evidence + 1));
	struct triage_flaky_ev *e = &h->evidence[h->n_evidence++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->workflow = o->workflow ? xstrdup(o->workflow) : NULL;
	e->job = xstrdup(o->job ? o->job : "");
	e->branch = o->branch ? xstrdup(o->branch) : NULL;
	e->failed_run = o->run;
	e->failed_attempt = o->attempt;
	e->failed_sha = o->sha ? xstrdup(o->sha) : NULL;
	return e;
}

/* Same commit: the job passed on the commit where it failed this way. */
static int same_commit(struct store *st, struct triage_history *h, const struct occ *o, int n,
		       struct cs_err *err)
{
	sqlite3_stmt *s;
	/* (+: the commit's few runs, not every run of the workflow; without
	 * ANALYZE statistics SQLite would take the workflow's index) */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.provider_id, r.attempt FROM jobs j JOIN runs r ON "
			       "r.id = j.run_id WHERE r.head_sha = ?1 AND +r.workflow_name IS ?2 AND "
			       "j.name = ?3 AND j.conclusion = 'success' ORDER BY r.created_at, "
			       "r.provider_id, r.attempt LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look for flaky evidence");
	for (int i = 0; i < n && h->n_evidence < 8; i++) {
		if (!o[i].sha)
			continue;
		bool done = false; /* one check per (workflow, job, commit) */
		for (int k = 0; k < i && !done; k++)
			done = str_eq(o[k].sha, o[i].sha) && str_eq(o[k].workflow, o[i].workflow) &&
			       str_eq(o[k].job, o[i].job);
		if (done)
			continue;
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, o[i].sha, -1, SQLITE_TRANSIENT);
		if (o[i].workflow)
			sqlite3_bind_text(s, 2, o[i].workflow, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 2);
		sqlite3_bind_text(s, 3, o[i].job ? o[i].job : "", -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			struct triage_flaky_ev *e = new_ev(h, FLAKY_SAME_COMMIT, &o[i]);
			e->passed_run = sqlite3_column_int64(s, 0);
			e->passed_attempt = sqlite3_column_int(s, 1);
			e->passed_sha = xstrdup(o[i].sha);
		} else if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_err(st, err, "cannot look for flaky evidence");
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/* A flip: on one branch the job failed this way, then passed, then failed
 * this way again, with no commit of its own to explain the return. */
static int flips(struct store *st, struct triage_history *h, const struct occ *o, int n,
		 struct cs_err *err)
{
	sqlite3_stmt *s;
	/* (+: a job's few findings, not the fingerprint's thousand occurrences
	 * for every job looked at) */
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT * FROM (SELECT r.provider_id, r.attempt, r.head_sha, j.conclusion, "
		    "EXISTS (SELECT 1 FROM triage_findings f WHERE f.job_id = j.id AND "
		    "+f.fingerprint = ?4 AND " TRIAGE_TELLING_SQL "), r.created_at FROM jobs j JOIN runs r ON r.id = j.run_id "
		    "WHERE r.workflow_name IS ?1 AND j.name = ?2 AND r.head_branch IS ?3 AND "
		    "j.status = 'completed' ORDER BY r.created_at DESC, r.provider_id DESC, "
		    "r.attempt DESC LIMIT ?5) ORDER BY 6, 1, 2",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look for flaky evidence");
	int checked = 0;
	for (int i = 0; i < n && checked < 20 && h->n_evidence < 8; i++) {
		bool done = false;
		for (int k = 0; k < i && !done; k++)
			done = str_eq(o[k].branch, o[i].branch) && str_eq(o[k].workflow, o[i].workflow) &&
			       str_eq(o[k].job, o[i].job);
		if (done)
			continue;
		checked++;
		sqlite3_reset(s);
		if (o[i].workflow)
			sqlite3_bind_text(s, 1, o[i].workflow, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 1);
		sqlite3_bind_text(s, 2, o[i].job ? o[i].job : "", -1, SQLITE_TRANSIENT);
		if (o[i].branch)
			sqlite3_bind_text(s, 3, o[i].branch, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 3);
		sqlite3_bind_text(s, 4, h->fingerprint, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 5, FLIP_WINDOW);
		/* 0: looking for the failure, 1: for a pass after it, 2: for it again */
		int phase = 0, rc;
		struct occ fail = {0}, pass = {0};
		char fsha[48] = "", psha[48] = "";
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *sha = (const char *)sqlite3_column_text(s, 2);
			const char *concl = (const char *)sqlite3_column_text(s, 3);
			bool has = sqlite3_column_int(s, 4);
			if (has && phase != 1) {
				if (phase == 2) {
					struct occ first = o[i];
					first.run = fail.run;
					first.attempt = fail.attempt;
					first.sha = fsha;
					struct triage_flaky_ev *e = new_ev(h, FLAKY_FLIP, &first);
					e->passed_run = pass.run;
					e->passed_attempt = pass.attempt;
					e->passed_sha = xstrdup(psha);
					e->again_run = sqlite3_column_int64(s, 0);
					e->again_attempt = sqlite3_column_int(s, 1);
					e->again_sha = sha ? xstrdup(sha) : NULL;
					break;
				}
				fail.run = sqlite3_column_int64(s, 0);
				fail.attempt = sqlite3_column_int(s, 1);
				snprintf(fsha, sizeof(fsha), "%s", sha ? sha : "");
				phase = 1;
			} else if (has && phase == 1) {
				fail.run = sqlite3_column_int64(s, 0);
				fail.attempt = sqlite3_column_int(s, 1);
				snprintf(fsha, sizeof(fsha), "%s", sha ? sha : "");
			} else if (phase == 1 && concl && !strcmp(concl, "success")) {
				pass.run = sqlite3_column_int64(s, 0);
				pass.attempt = sqlite3_column_int(s, 1);
				snprintf(psha, sizeof(psha), "%s", sha ? sha : "");
				phase = 2;
			}
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_err(st, err, "cannot look for flaky evidence");
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/* The first pass of o's job on its branch after o, the last failure. */
static int passed_since(struct store *st, struct triage_history *h, const struct occ *o,
			struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.provider_id, r.attempt, r.head_sha FROM jobs j JOIN runs r "
			       "ON r.id = j.run_id WHERE r.workflow_name IS ?1 AND j.name = ?2 AND "
			       "r.head_branch IS ?3 AND j.conclusion = 'success' AND r.created_at > ?4 "
			       "ORDER BY r.created_at, r.provider_id, r.attempt LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look for a pass since");
	if (o->workflow)
		sqlite3_bind_text(s, 1, o->workflow, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, o->job ? o->job : "", -1, SQLITE_TRANSIENT);
	if (o->branch)
		sqlite3_bind_text(s, 3, o->branch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, o->at);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h->passed_run = sqlite3_column_int64(s, 0);
		h->passed_attempt = sqlite3_column_int(s, 1);
		h->passed_sha = sql_col_str(s, 2);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_err(st, err, "cannot look for a pass since");
}

int triage_history(struct store *st, const char *fingerprint, struct triage_history *h,
		   struct cs_err *err)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->fingerprint, sizeof(h->fingerprint), "%s", fingerprint);
	h->first_at = h->last_at = h->set_at = CS_TIME_NONE;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.id, r.provider_id, r.attempt, r.head_sha, r.head_branch, "
			       "r.workflow_name, j.name, r.created_at FROM triage_findings f "
			       "JOIN jobs j ON j.id = f.job_id JOIN runs r ON r.id = j.run_id "
			       "WHERE f.fingerprint = ?1 AND f.severity = 'error' AND "
			       TRIAGE_TELLING_SQL " GROUP BY j.id "
			       "ORDER BY r.created_at, r.provider_id, r.attempt LIMIT ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read the history of a fingerprint");
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, HISTORY_MAX);
	struct occ *o = NULL;
	int n = 0, rc;
	size_t alloc = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(o, alloc, (size_t)n + 1);
		struct occ *x = &o[n++];
		x->run_row_id = sqlite3_column_int64(s, 0);
		x->run = sqlite3_column_int64(s, 1);
		x->attempt = sqlite3_column_int(s, 2);
		x->sha = sql_col_str(s, 3);
		x->branch = sql_col_str(s, 4);
		x->workflow = sql_col_str(s, 5);
		x->job = sql_col_str(s, 6);
		x->at = sql_col_time(s, 7);
	}
	sqlite3_finalize(s);
	int ret = rc == SQLITE_DONE ? 0 : store_err(st, err, "cannot read the history of a fingerprint");
	if (ret == 0 && n) {
		h->n_jobs = n;
		h->first_run = o[0].run;
		h->first_attempt = o[0].attempt;
		h->first_sha = o[0].sha ? xstrdup(o[0].sha) : NULL;
		h->first_at = o[0].at;
		h->last_run = o[n - 1].run;
		h->last_attempt = o[n - 1].attempt;
		h->last_sha = o[n - 1].sha ? xstrdup(o[n - 1].sha) : NULL;
		h->last_at = o[n - 1].at;
		for (int i = 0; i < n; i++) {
			bool run_seen = false, sha_seen = false;
			for (int k = 0; k < i; k++) {
				run_seen |= o[k].run_row_id == o[i].run_row_id;
				sha_seen |= str_eq(o[k].sha, o[i].sha);
			}
			h->n_runs += !run_seen;
			h->n_commits += !sha_seen && o[i].sha;
			add_branch(h, o[i].branch);
		}
		ret = same_commit(st, h, o, n, err);
		if (ret == 0)
			ret = flips(st, h, o, n, err);
		h->flaky = h->n_evidence > 0;
		bool retried = false;
		for (int i = 0; i < n && !retried; i++)
			for (int k = 0; k < i && !retried; k++)
				retried = o[k].sha && str_eq(o[k].sha, o[i].sha) &&
					  str_eq(o[k].workflow, o[i].workflow) &&
					  str_eq(o[k].job, o[i].job);
		h->deterministic = !h->flaky && (retried || h->n_commits >= 2);
		if (ret == 0)
			ret = passed_since(st, h, &o[n - 1], err);
	}
	for (int i = 0; i < n; i++) {
		free(o[i].sha);
		free(o[i].branch);
		free(o[i].workflow);
		free(o[i].job);
	}
	free(o);
	if (ret == 0) {
		if (sqlite3_prepare_v2(st->db,
				       "SELECT state, note, set_by, set_at FROM triage_states WHERE "
				       "fingerprint = ?",
				       -1, &s, NULL) != SQLITE_OK)
			return store_err(st, err, "cannot read a triage state");
		sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW) {
			h->state = sql_col_str(s, 0);
			h->note = sql_col_str(s, 1);
			h->set_by = sql_col_str(s, 2);
			h->set_at = sql_col_time(s, 3);
		}
		sqlite3_finalize(s);
	}
	if (!h->state)
		h->state = xstrdup("new");
	return ret;
}

void triage_history_free(struct triage_history *h)
{
	free(h->first_sha);
	free(h->last_sha);
	free(h->passed_sha);
	for (int i = 0; i < h->n_branches; i++)
		free(h->branches[i]);
	free(h->branches);
	for (int i = 0; i < h->n_evidence; i++) {
		struct triage_flaky_ev *e = &h->evidence[i];
		free(e->workflow);
		free(e->job);
		free(e->branch);
		free(e->failed_sha);
		free(e->passed_sha);
		free(e->again_sha);
	}
	free(h->evidence);
	free(h->state);
	free(h->note);
	free(h->set_by);
	memset(h, 0, sizeof(*h));
}

bool triage_is_new(const struct triage_history *h, const struct run *r)
{
	if (h->n_jobs == 0)
		return true;
	if (h->first_run == r->provider_id)
		return true;
	return h->first_sha && r->sha && !strcmp(h->first_sha, r->sha);
}

enum decision history_decision(int d, const struct triage_history *h)
{
	if (d == DECIDE_RETRY && h && h->deterministic)
		return DECIDE_INVESTIGATE;
	return (enum decision)d;
}
