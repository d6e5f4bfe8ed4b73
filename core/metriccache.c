/* metriccache.c - the metrics table from the summary cache (see metrics.h):
 * each series' tail and newest change point kept in metric_summary, rebuilt
 * when the index or the change-point settings changed since. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitrepo.h"
#include "metrics.h"
#include "metricsint.h"
#include "storesql.h"

/* --- the table from the summary cache ------------------------------------------------ */
static int64_t metric_gen_now(struct store *st, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT gen FROM metric_gen WHERE id = 1", &s, "reading the metrics cache",
			  err) < 0)
		return -1;
	int64_t g = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return g;
}

/* The newest run of the index (a dirty run above what a row was computed
 * at is one it never saw: appended, not changed). */
static int64_t max_run_now(struct store *st, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT coalesce(max(id), 0) FROM runs", &s, "reading the metrics cache",
			  err) < 0)
		return -1;
	int64_t m = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	if (m < 0)
		store_err(st, err, "reading the metrics cache");
	return m;
}

static void cache_conf_sig(const struct cp_conf *c, char *out, size_t n)
{
	snprintf(out, n, "v1 tail %d greens %d window %d pvalue %.17g magnitude %.17g perm %d",
		 METRIC_TABLE_TAIL, METRIC_TABLE_GREENS, c->window, c->max_pvalue, c->min_magnitude,
		 c->permutations);
}

/* Is the cache of branch cb ("": every branch) at gen with settings sig? */
static int cache_valid(struct store *st, const char *cb, int64_t gen, const char *sig,
		       struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT gen = ?1 AND conf = ?2 FROM metric_summary_meta WHERE branch = ?3",
			  &s, "reading the metrics cache", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, gen);
	sql_bind_text(s, 2, sig);
	sql_bind_text(s, 3, cb);
	int ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return ok;
}

/* Which points of h a table row needs (keep[i]); returns their count. */
static long cache_pick(const struct metric_hist *h, bool *keep, long cpos)
{
	long n = h->n;
	if (!n)
		return 0;
	const char *br = h->pts[n - 1].branch;
	int greens = 0;
	for (long i = n - 1; i >= 0; i--) {
		const struct metric_point *p = &h->pts[i];
		bool g = i < n - 1 && p->green && (!br || (p->branch && !strcmp(p->branch, br)));
		keep[i] = i >= n - METRIC_TABLE_TAIL || (g && greens < METRIC_TABLE_GREENS);
		if (g)
			greens++;
	}
	if (cpos >= 0) {
		long c = cpos;
		keep[c] = true;
		if (c > 0)
			keep[c - 1] = true;
	}
	long k = 0;
	for (long i = 0; i < n; i++)
		k += keep[i];
	return k;
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isfinite(v) || isinf(v))
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

struct cache_writer {
	sqlite3_stmt *hs, *ps, *cs, *ss, *del_h, *del_p, *del_c, *del_s;
	const char *cb;     /* the cache's branch, "" for every branch */
};

static int cache_writer_open(struct store *rw, struct cache_writer *w, struct cs_err *err)
{
	memset(w, 0, sizeof(*w));
	if (store_prepare(rw, "INSERT INTO metric_summary (name, workflow, unit, total, cp_idx,"
			      " cp_before, cp_after, cp_change, cp_pvalue, cp_acked, cp_note, branch)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
			  &w->hs, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT INTO metric_summary_points (name, workflow, seq, run,"
			      " provider_id, attempt, sha, branch_of, at, value, green, passed,"
			      " threshold, branch)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
			  &w->ps, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "DELETE FROM metric_summary WHERE name = ?1 AND workflow = ?2"
			      " AND branch = ?3", &w->del_h, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "DELETE FROM metric_summary_points WHERE name = ?1 AND workflow = ?2"
			      " AND branch = ?3", &w->del_p, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT INTO metric_summary_cps (name, workflow, k, idx, run, before,"
			      " after, change, pvalue, branch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
			      " ?9, ?10)", &w->cs, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "DELETE FROM metric_summary_cps WHERE name = ?1 AND workflow = ?2"
			      " AND branch = ?3", &w->del_c, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_state (name, workflow, branch,"
			      " max_run, last_run, last_at, state, seq_idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
			      " ?7, ?8)",
			  &w->ss, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "DELETE FROM metric_summary_state WHERE name = ?1 AND workflow = ?2"
			      " AND branch = ?3", &w->del_s, "writing the metrics cache", err) < 0)
		return -1;
	return 0;
}

static void cache_writer_close(struct cache_writer *w)
{
	sqlite3_finalize(w->hs);
	sqlite3_finalize(w->ps);
	sqlite3_finalize(w->del_h);
	sqlite3_finalize(w->del_p);
	sqlite3_finalize(w->cs);
	sqlite3_finalize(w->del_c);
	sqlite3_finalize(w->ss);
	sqlite3_finalize(w->del_s);
}

/* Drop the cache's row of (name, workflow) and its points. */
static int cache_forget(struct store *rw, struct cache_writer *w, const char *name, const char *wf,
			struct cs_err *err)
{
	sqlite3_stmt *d[4] = {w->del_h, w->del_p, w->del_c, w->del_s};
	for (int i = 0; i < 4; i++) {
		sqlite3_reset(d[i]);
		sql_bind_text(d[i], 1, name);
		sql_bind_text(d[i], 2, wf);
		sql_bind_text(d[i], 3, w->cb);
		if (sqlite3_step(d[i]) != SQLITE_DONE)
			return store_err(rw, err, "writing the metrics cache");
	}
	return 0;
}

/* What a row is written from besides h: its points' positions in the
 * whole series (gidx; NULL: h holds the whole series, total NULL too), the
 * change points' runs (cprun; NULL: h's points at their idx), the state
 * an append starts from (NULL: none kept) and the newest run of the index
 * it was computed at. */
struct row_src {
	const long *gidx;
	long total;
	const int64_t *cprun;
	const struct cp_state *state;
	int64_t max_run;
};

/* Write the row of series h (change points found) and the points it needs. */
static int cache_put(struct store *rw, struct cache_writer *w, const struct metric_hist *h,
		     const struct row_src *rs, struct cs_err *err)
{
	sqlite3_stmt *hs = w->hs, *ps = w->ps;
	bool *keep = xcalloc((size_t)h->n + 1, sizeof(bool));
	long seq = 0, cp_seq = -1;
	long cpi = h->n_cps ? h->cps[h->n_cps - 1].idx : -1;
	if (cpi >= 0 && rs->gidx) {
		long g = cpi;
		cpi = -1;
		for (long j = 0; j < h->n; j++)
			if (rs->gidx[j] == g)
				cpi = j;
	}
	long nk = cache_pick(h, keep, cpi);
	int64_t *kidx = xmalloc((size_t)(nk + 1) * sizeof(int64_t));
	for (long j = 0; j < h->n; j++) {
		if (!keep[j])
			continue;
		const struct metric_point *p = &h->pts[j];
		if (j == cpi)
			cp_seq = seq;
		sqlite3_reset(ps);
		sql_bind_text(ps, 1, h->name);
		sql_bind_text(ps, 2, h->workflow);
		sqlite3_bind_int64(ps, 3, seq++);
		sqlite3_bind_int64(ps, 4, p->run);
		sqlite3_bind_int64(ps, 5, p->provider_id);
		sqlite3_bind_int(ps, 6, p->attempt);
		sql_bind_text(ps, 7, p->sha);
		sql_bind_text(ps, 8, p->branch);
		sqlite3_bind_int64(ps, 9, p->at);
		sqlite3_bind_double(ps, 10, p->value);
		sqlite3_bind_int(ps, 11, p->green);
		if (p->passed < 0)
			sqlite3_bind_null(ps, 12);
		else
			sqlite3_bind_int(ps, 12, p->passed);
		bind_real(ps, 13, p->threshold);
		sql_bind_text(ps, 14, w->cb);
		kidx[seq - 1] = rs->gidx ? rs->gidx[j] : j;
		if (sqlite3_step(ps) != SQLITE_DONE) {
			free(keep);
			free(kidx);
			return store_err(rw, err, "writing the metrics cache");
		}
	}
	free(keep);
	for (int k = 0; k < h->n_cps; k++) {
		const struct metric_cp *c = &h->cps[k];
		sqlite3_reset(w->cs);
		sql_bind_text(w->cs, 1, h->name);
		sql_bind_text(w->cs, 2, h->workflow);
		sqlite3_bind_int(w->cs, 3, k);
		sqlite3_bind_int64(w->cs, 4, c->idx);
		sqlite3_bind_int64(w->cs, 5, rs->cprun ? rs->cprun[k] : h->pts[c->idx].run);
		bind_real(w->cs, 6, c->before);
		bind_real(w->cs, 7, c->after);
		bind_real(w->cs, 8, c->change);
		bind_real(w->cs, 9, c->pvalue);
		sql_bind_text(w->cs, 10, w->cb);
		if (sqlite3_step(w->cs) != SQLITE_DONE) {
			free(kidx);
			return store_err(rw, err, "writing the metrics cache");
		}
	}
	sqlite3_reset(hs);
	sqlite3_clear_bindings(hs);
	sql_bind_text(hs, 1, h->name);
	sql_bind_text(hs, 2, h->workflow);
	sql_bind_text(hs, 3, h->unit);
	sqlite3_bind_int64(hs, 4, rs->gidx ? rs->total : h->n);
	sql_bind_text(hs, 12, w->cb);
	if (cp_seq >= 0) {
		const struct metric_cp *c = &h->cps[h->n_cps - 1];
		sqlite3_bind_int64(hs, 5, cp_seq);
		bind_real(hs, 6, c->before);
		bind_real(hs, 7, c->after);
		bind_real(hs, 8, c->change);
		bind_real(hs, 9, c->pvalue);
		sqlite3_bind_int(hs, 10, c->acked);
		sql_bind_text(hs, 11, c->note);
	}
	if (sqlite3_step(hs) != SQLITE_DONE) {
		free(kidx);
		return store_err(rw, err, "writing the metrics cache");
	}
	if (!rs->state || !h->n) {
		free(kidx);
		return 0;
	}
	struct buf b = BUF_INIT;
	cp_state_encode(rs->state, &b);
	sqlite3_stmt *ss = w->ss;
	sqlite3_reset(ss);
	sql_bind_text(ss, 1, h->name);
	sql_bind_text(ss, 2, h->workflow);
	sql_bind_text(ss, 3, w->cb);
	sqlite3_bind_int64(ss, 4, rs->max_run);
	sqlite3_bind_int64(ss, 5, h->pts[h->n - 1].run);
	sqlite3_bind_int64(ss, 6, h->pts[h->n - 1].at);
	sqlite3_bind_blob(ss, 7, b.data, (int)b.len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(ss, 8, kidx, (int)((size_t)seq * sizeof(int64_t)), SQLITE_TRANSIENT);
	free(kidx);
	int rc = sqlite3_step(ss) == SQLITE_DONE ? 0 : store_err(rw, err, "writing the metrics cache");
	buf_release(&b);
	return rc;
}

/* The cache of branch cb (every cache kept: all) is now of count gen
 * with settings sig. What is dirty is forgotten once no cache misses it:
 * all, or cb's the only cache. */
static int cache_mark(struct store *rw, const char *cb, int64_t gen, const char *sig, bool all,
		      struct cs_err *err)
{
	sqlite3_stmt *ms;
	if (store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_meta (branch, gen, conf)"
			      " VALUES (?3, ?1, ?2)", &ms, "writing the metrics cache", err) < 0)
		return -1;
	sqlite3_bind_int64(ms, 1, gen);
	sql_bind_text(ms, 2, sig);
	sql_bind_text(ms, 3, cb);
	if (store_collect(rw, ms, NULL, NULL, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "UPDATE metric_summary_meta SET gen = ?1 WHERE ?2", &ms,
			  "writing the metrics cache", err) < 0)
		return -1;
	sqlite3_bind_int64(ms, 1, gen);
	sqlite3_bind_int(ms, 2, all);
	if (store_collect(rw, ms, NULL, NULL, "writing the metrics cache", err) < 0)
		return -1;
	static const char *const forget[] = {
		"DELETE FROM metric_dirty_runs WHERE ?1 OR NOT EXISTS (SELECT 1 FROM"
		" metric_summary_meta WHERE branch IS NOT ?2)",
		"DELETE FROM metric_dirty_pairs WHERE ?1 OR NOT EXISTS (SELECT 1 FROM"
		" metric_summary_meta WHERE branch IS NOT ?2)"};
	for (size_t i = 0; i < ARRAY_SIZE(forget); i++) {
		if (store_prepare(rw, forget[i], &ms, "writing the metrics cache", err) < 0)
			return -1;
		sqlite3_bind_int(ms, 1, all);
		sql_bind_text(ms, 2, cb);
		if (store_collect(rw, ms, NULL, NULL, "writing the metrics cache", err) < 0)
			return -1;
	}
	return 0;
}

/* Forget the caches of every branch but cb (or all of them, cb NULL) that
 * are not of settings sig or are stale (keep NULL: whatever they are). */
static int cache_drop_others(struct store *rw, const char *cb, const char *keep_sig,
			     struct cs_err *err)
{
	static const char *const sql[] = {
		"DELETE FROM metric_summary WHERE branch IN (SELECT branch FROM metric_summary_meta"
		" WHERE branch IS NOT ?1 AND (?2 IS NULL OR conf IS NOT ?2 OR gen < 0))",
		"DELETE FROM metric_summary_points WHERE branch IN (SELECT branch FROM"
		" metric_summary_meta WHERE branch IS NOT ?1 AND (?2 IS NULL OR conf IS NOT ?2"
		" OR gen < 0))",
		"DELETE FROM metric_summary_cps WHERE branch IN (SELECT branch FROM"
		" metric_summary_meta WHERE branch IS NOT ?1 AND (?2 IS NULL OR conf IS NOT ?2"
		" OR gen < 0))",
		"DELETE FROM metric_summary_state WHERE branch IN (SELECT branch FROM"
		" metric_summary_meta WHERE branch IS NOT ?1 AND (?2 IS NULL OR conf IS NOT ?2"
		" OR gen < 0))",
		"DELETE FROM metric_summary_meta WHERE branch IS NOT ?1 AND (?2 IS NULL OR"
		" conf IS NOT ?2 OR gen < 0)",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *s;
		if (store_prepare(rw, sql[i], &s, "writing the metrics cache", err) < 0)
			return -1;
		sql_bind_text(s, 1, cb);
		sql_bind_text(s, 2, keep_sig);
		if (store_collect(rw, s, NULL, NULL, "writing the metrics cache", err) < 0)
			return -1;
	}
	return 0;
}

/* A full rebuild of branch cb's cache is computed outside the write
 * transaction (imports are not held up for it): cb's row of
 * metric_summary_meta is first claimed (gen CACHE_BUILDING) under the
 * lock, the series read in a snapshot and computed, then written under
 * the lock again. A run deleted meanwhile turns the claim stale (the
 * triggers of migration 010 set gen -1), another branch's update drops it
 * (cache_drop_others): either way what is written is marked stale. What
 * was marked dirty after the snapshot stays marked. */
#define CACHE_BUILDING (-2)

void (*metric_cache_between)(void *ctx);
void *metric_cache_between_ctx;
long metric_cache_rows_whole, metric_cache_rows_appended, metric_cache_rebuilds;

static int cache_claim(struct store *rw, const char *cb, const char *sig, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_meta (branch, gen, conf)"
			      " VALUES (?1, ?2, ?3)", &s, "writing the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	sqlite3_bind_int64(s, 2, CACHE_BUILDING);
	sql_bind_text(s, 3, sig);
	if (store_collect(rw, s, NULL, NULL, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_claims (branch, pid, at)"
			      " VALUES (?1, ?2, ?3)", &s, "writing the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	sqlite3_bind_int64(s, 2, (int64_t)getpid());
	sqlite3_bind_int64(s, 3, time_now_ms());
	return store_collect(rw, s, NULL, NULL, "writing the metrics cache", err);
}

/* Is another live process rebuilding cb's cache (claimed less than ten
 * minutes ago)? 1 yes, 0 no, -1 error. */
static int claim_of_other(struct store *st, const char *cb, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT pid, at FROM metric_summary_claims WHERE branch = ?1", &s,
			  "reading the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	int other = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(s, 0), at = sqlite3_column_int64(s, 1);
		other = pid > 0 && pid != (int64_t)getpid() && time_now_ms() - at < 600000 &&
			(kill((pid_t)pid, 0) == 0 || errno == EPERM);
	}
	sqlite3_finalize(s);
	return other;
}

/* An acknowledgement inserted since the snapshot moves no count: the rows
 * of cache cb written from it say so. */
static int cache_acks_since(struct store *rw, const char *cb, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(rw, "UPDATE metric_summary SET cp_acked = 1, cp_note = a.note"
			      " FROM metric_acks a, metric_summary_points p"
			      " WHERE metric_summary.branch = ?1 AND p.branch = ?1"
			      " AND p.name = metric_summary.name AND p.workflow = metric_summary.workflow"
			      " AND p.seq = metric_summary.cp_idx AND a.name = metric_summary.name"
			      " AND a.workflow = metric_summary.workflow AND a.sha = p.sha", &s,
			  "writing the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	return store_collect(rw, s, NULL, NULL, "writing the metrics cache", err);
}

/* A rebuild that failed gives its claim up (best effort: the error told
 * is the rebuild's). */
static void claim_drop(struct store *rw, const char *cb)
{
	struct cs_err e2;
	sqlite3_stmt *s;
	if (store_begin(rw, &e2) < 0)
		return;
	if (store_prepare(rw, "DELETE FROM metric_summary_claims WHERE branch = ?1 AND pid = ?2", &s,
			  "writing the metrics cache", &e2) == 0) {
		sql_bind_text(s, 1, cb);
		sqlite3_bind_int64(s, 2, (int64_t)getpid());
		if (store_collect(rw, s, NULL, NULL, "writing the metrics cache", &e2) == 0) {
			store_commit(rw, &e2);
			return;
		}
	}
	store_rollback(rw);
}

/* Write the computed set as cb's cache (inside rw's write transaction):
 * current at gen when nothing moved since the snapshot of gen, else at
 * gen with what is dirty since kept, or stale when the claim was lost. */
static int cache_write_all(struct store *rw, const char *cb, int64_t gen, const char *sig,
			   const struct metric_set *set, const struct cp_state *states,
			   int64_t max_run, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(rw, "SELECT gen FROM metric_summary_meta WHERE branch = ?1", &s,
			  "reading the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	bool claimed = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == CACHE_BUILDING;
	sqlite3_finalize(s);
	int64_t now = metric_gen_now(rw, err);
	if (now < 0)
		return -1;
	/* another process rebuilt it meanwhile, current: what it wrote stays */
	int cur = claimed ? 0 : cache_valid(rw, cb, now, sig, err);
	if (cur)
		return cur < 0 ? -1 : 0;
	if (store_prepare(rw, "DELETE FROM metric_summary_claims WHERE branch = ?1", &s,
			  "writing the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, cb);
	if (store_collect(rw, s, NULL, NULL, "writing the metrics cache", err) < 0 ||
	    cache_drop_others(rw, cb, sig, err) < 0)
		return -1;
	static const char *const del[] = {
		"DELETE FROM metric_summary WHERE branch = ?1",
		"DELETE FROM metric_summary_points WHERE branch = ?1",
		"DELETE FROM metric_summary_cps WHERE branch = ?1",
		"DELETE FROM metric_summary_state WHERE branch = ?1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(del); i++) {
		if (store_prepare(rw, del[i], &s, "writing the metrics cache", err) < 0)
			return -1;
		sql_bind_text(s, 1, cb);
		if (store_collect(rw, s, NULL, NULL, "writing the metrics cache", err) < 0)
			return -1;
	}
	struct cache_writer w = {0};
	int rc = -1;
	if (cache_writer_open(rw, &w, err) < 0)
		goto out;
	w.cb = cb;
	for (int i = 0; i < set->n; i++) {
		struct row_src rs = {.state = states ? &states[i] : NULL, .max_run = max_run};
		if (cache_put(rw, &w, &set->items[i], &rs, err) < 0)
			goto out;
	}
	if (cache_acks_since(rw, cb, err) < 0)
		goto out;
	if (claimed && now == gen) {
		rc = cache_mark(rw, cb, gen, sig, false, err);
		goto out;
	}
	if (store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_meta (branch, gen, conf)"
			      " VALUES (?1, ?2, ?3)", &s, "writing the metrics cache", err) < 0)
		goto out;
	sql_bind_text(s, 1, cb);
	sqlite3_bind_int64(s, 2, claimed ? gen : -1);
	sql_bind_text(s, 3, sig);
	rc = store_collect(rw, s, NULL, NULL, "writing the metrics cache", err);
out:
	cache_writer_close(&w);
	return rc;
}

/* Compute every series of branch cb ("": every branch) in a read snapshot
 * of st (claimed before, see above), then write cb's cache through rw. The
 * caches of other branches stay as they were, and so does what is dirty
 * for them. */
static int cache_rebuild(struct store *st, struct store *rw, const char *cb,
			 const struct metrics_query *bq, const struct cp_conf *cp, const char *sig,
			 struct cs_err *err)
{
	struct cs_err e2;
	metric_cache_rebuilds++;
	/* a snapshot: the count and the series read together (st already
	 * inside a transaction reads in that one) */
	bool snap = store_exec(st, "BEGIN", &e2) == 0;
	int64_t gen = metric_gen_now(st, err);
	int64_t max_run = gen < 0 ? -1 : max_run_now(st, err);
	struct metric_set set = {0};
	struct metrics_query all = {.branch = bq->branch, .checkout = bq->checkout};
	struct cp_state *states = NULL;
	int rc = -1;
	if (gen < 0 || max_run < 0 || metrics_load(st, &all, &set, err) < 0) {
		if (snap)
			store_exec(st, "COMMIT", &e2);
		claim_drop(rw, cb);
		return -1;
	}
	if (snap && store_exec(st, "COMMIT", err) < 0)
		goto out;
	/* a state for later appends: only of series in time order */
	if (!bq->checkout)
		states = xcalloc((size_t)set.n + 1, sizeof(*states));
	for (int i = 0; i < set.n; i++)
		if (metrics_changepoints_state(&set.items[i], cp, states ? &states[i] : NULL) < 0)
			goto out;
	if (metric_cache_between)
		metric_cache_between(metric_cache_between_ctx);
	if (store_begin(rw, err) < 0)
		goto out;
	if (cache_write_all(rw, cb, gen, sig, &set, states, max_run, err) < 0) {
		store_rollback(rw);
		goto out;
	}
	rc = store_commit(rw, err);
out:
	if (rc < 0)
		claim_drop(rw, cb);
	for (int i = 0; states && i < set.n; i++)
		cp_state_release(&states[i]);
	free(states);
	metric_set_release(&set);
	return rc;
}

struct pair_list {
	char **name, **wf;
	int n;
	size_t alloc, alloc2;
};

static int collect_pair(void *ctx, sqlite3_stmt *s)
{
	struct pair_list *l = ctx;
	XGROW(l->name, l->alloc, (size_t)l->n + 1);
	XGROW(l->wf, l->alloc2, (size_t)l->n + 1);
	l->name[l->n] = sql_col_str(s, 0);
	l->wf[l->n] = sql_col_str(s, 1);
	l->n++;
	return 0;
}

static void pair_list_release(struct pair_list *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->name[i]);
		if (l->wf)
			free(l->wf[i]);
	}
	free(l->name);
	free(l->wf);
}

/* The runs marked dirty (migration 010) as the rows they touch: every
 * metric name the run has now, in each workflow it had. Over-approximates
 * (a row of no point is dropped when recomputed). */
static const char dirty_pairs_sql[] =
	"SELECT name, workflow FROM metric_dirty_pairs"
	" UNION SELECT s.name, d.workflow FROM metric_dirty_runs d JOIN metric_series s ON s.run_id = d.run_id"
	" UNION SELECT m.name, d.workflow FROM metric_dirty_runs d JOIN run_metrics m ON m.run_id = d.run_id"
	" UNION SELECT 'run.duration_ms', workflow FROM metric_dirty_runs"
	" UNION SELECT 'run.queue_ms', workflow FROM metric_dirty_runs"
	" UNION SELECT 'job.' || j.name || '.duration_ms', d.workflow FROM metric_dirty_runs d"
	"  JOIN jobs j ON j.run_id = d.run_id"
	" UNION SELECT 'step.' || j.name || '/' || s.name || '.duration_ms', d.workflow"
	"  FROM metric_dirty_runs d JOIN jobs j ON j.run_id = d.run_id JOIN steps s ON s.job_id = j.id"
	" UNION SELECT t.n, d.workflow FROM metric_dirty_runs d,"
	"  (SELECT 'tests.total' AS n UNION ALL SELECT 'tests.failed' UNION ALL SELECT 'tests.skipped'"
	"   UNION ALL SELECT 'tests.pass_rate') t"
	"  WHERE EXISTS (SELECT 1 FROM test_results r WHERE r.run_id = d.run_id)";

static int collect_str(void *ctx, sqlite3_stmt *s)
{
	struct pair_list *l = ctx;
	XGROW(l->name, l->alloc, (size_t)l->n + 1);
	l->name[l->n++] = sql_col_str(s, 0);
	return 0;
}

static double col_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/* --- a row brought up to date by appending points ------------------------------------ */
/* A row computed (in a read snapshot), to be written under the lock: h
 * with what row_src needs (owned), or none (has false: the row dropped). */
struct pending_row {
	char *cb, *name, *wf;
	bool has, has_state;
	struct metric_hist h;
	long *gidx;
	long total;
	int64_t *cprun;
	struct cp_state state;
	int64_t max_run;
};
struct pending {
	struct pending_row *v;
	size_t n, alloc;
};

static struct pending_row *pending_add(struct pending *pd, const char *cb, const char *name,
				       const char *wf)
{
	XGROW(pd->v, pd->alloc, pd->n + 1);
	struct pending_row *r = &pd->v[pd->n++];
	memset(r, 0, sizeof(*r));
	r->cb = xstrdup(cb);
	r->name = xstrdup(name);
	r->wf = xstrdup(wf);
	return r;
}

static void pending_release(struct pending *pd)
{
	for (size_t i = 0; i < pd->n; i++) {
		struct pending_row *r = &pd->v[i];
		free(r->cb);
		free(r->name);
		free(r->wf);
		metric_hist_release(&r->h);
		free(r->gidx);
		free(r->cprun);
		cp_state_release(&r->state);
	}
	free(pd->v);
	memset(pd, 0, sizeof(*pd));
}

struct appender {
	struct store *rd;
	sqlite3_stmt *state, *head, *pts, *ack;
	int64_t min_dirty;             /* the oldest dirty run (INT64_MAX: none) */
	int64_t max_run;               /* the newest run of the index */
	const struct metric_set *np;   /* the dirty runs' points */
	const struct pair_list *hard;  /* rows named dirty apart from their runs */
	const struct cp_conf *cp;
};

static int appender_open(struct store *rw, struct appender *a, struct cs_err *err)
{
	if (store_prepare(rw, "SELECT max_run, last_run, last_at, state, seq_idx FROM"
			      " metric_summary_state"
			      " WHERE branch = ?1 AND name = ?2 AND workflow = ?3", &a->state,
			  "reading the metrics cache", err) < 0 ||
	    store_prepare(rw, "SELECT unit, total FROM metric_summary WHERE branch = ?1 AND name = ?2"
			      " AND workflow = ?3", &a->head, "reading the metrics cache", err) < 0 ||
	    store_prepare(rw, "SELECT run, provider_id, attempt, sha, branch_of, at, value, green,"
			      " passed, threshold FROM metric_summary_points WHERE branch = ?1"
			      " AND name = ?2 AND workflow = ?3 ORDER BY seq", &a->pts,
			  "reading the metrics cache", err) < 0 ||
	    store_prepare(rw, "SELECT note FROM metric_acks WHERE name = ?1 AND workflow = ?2"
			      " AND sha = ?3", &a->ack, "reading the metrics cache", err) < 0)
		return -1;
	return 0;
}

static void appender_close(struct appender *a)
{
	sqlite3_finalize(a->state);
	sqlite3_finalize(a->head);
	sqlite3_finalize(a->pts);
	sqlite3_finalize(a->ack);
}

static void bind3(sqlite3_stmt *s, const char *cb, const char *name, const char *wf)
{
	sqlite3_reset(s);
	sql_bind_text(s, 1, cb);
	sql_bind_text(s, 2, name);
	sql_bind_text(s, 3, wf);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void point_copy(struct metric_point *d, const struct metric_point *p)
{
	*d = *p;
	d->sha = p->sha ? xstrdup(p->sha) : NULL;
	d->branch = p->branch ? xstrdup(p->branch) : NULL;
}

/* The run of the series' point i, from the state (a candidate or the tail). */
static bool state_run(const struct cp_state *s, long i, int64_t *run)
{
	if (i >= s->T && i < s->n) {
		*run = s->tail_run[i - s->T];
		return true;
	}
	for (size_t j = 0; j < s->n_cand; j++)
		if (s->cand[j] == i) {
			*run = s->cand_run[j];
			return true;
		}
	return false;
}

/* Bring row (name, wf) of cache w->cb (branch: its runs' branch, NULL for
 * every branch) up to date when what is new in it is appended: 1 done,
 * 0 not an append (or no state kept: the caller reads the whole series),
 * -1 error. Equal to what the whole series gives (cp_run's contract; the
 * points a row keeps are the tail, greens and change point it kept before
 * plus the new ones). */
static int row_append(struct appender *a, const char *cb, const char *name, const char *wf,
		      const char *branch, struct pending *pd, struct cs_err *err)
{
	for (int i = 0; i < a->hard->n; i++)
		if (same_str(a->hard->name[i], name) && same_str(a->hard->wf[i], wf))
			return 0;
	bind3(a->state, cb, name, wf);
	if (sqlite3_step(a->state) != SQLITE_ROW)
		return 0;
	int64_t max_run = sqlite3_column_int64(a->state, 0);
	int64_t last_run = sqlite3_column_int64(a->state, 1);
	int64_t last_at = sqlite3_column_int64(a->state, 2);
	struct cp_state in, out = {0};
	if (a->min_dirty <= max_run ||
	    !cp_state_decode(sqlite3_column_blob(a->state, 3),
			     (size_t)sqlite3_column_bytes(a->state, 3), &in))
		return 0;
	long nk = sqlite3_column_bytes(a->state, 4) / (long)sizeof(int64_t);
	int64_t *kidx = xmalloc((size_t)(nk + 1) * sizeof(int64_t));
	if (nk)
		memcpy(kidx, sqlite3_column_blob(a->state, 4), (size_t)nk * sizeof(int64_t));
	sqlite3_reset(a->state);
	/* the new points: the dirty runs' in this series (and branch) */
	const struct metric_hist *nh = NULL;
	for (int i = 0; i < a->np->n && !nh; i++)
		if (!strcmp(a->np->items[i].name, name) && !strcmp(a->np->items[i].workflow, wf))
			nh = &a->np->items[i];
	long nn = 0;
	for (long i = 0; nh && i < nh->n; i++)
		nn += !branch || same_str(nh->pts[i].branch, branch);
	if (!nn) { /* a new run with no point here: the row is as it was */
		cp_state_release(&in);
		free(kidx);
		return 1;
	}
	struct metric_hist h = {0};
	long *gidx = NULL;
	int64_t *runs = NULL, *cprun = NULL;
	double *vals = NULL;
	struct metric_cp *cps = NULL;
	int rc = 0, k = -2;
	bind3(a->head, cb, name, wf);
	if (sqlite3_step(a->head) != SQLITE_ROW || sqlite3_column_int64(a->head, 1) != in.n)
		goto out;
	const struct unit_def *ud = metric_unit_find((const char *)sqlite3_column_text(a->head, 0));
	h.name = xstrdup(name);
	h.workflow = xstrdup(wf);
	h.unit = ud ? ud->name : NULL;
	/* the points the row kept */
	bind3(a->pts, cb, name, wf);
	size_t galloc = 0;
	int r;
	while ((r = sqlite3_step(a->pts)) == SQLITE_ROW) {
		sqlite3_stmt *s = a->pts;
		if (h.n >= nk)
			goto out;
		XGROW(h.pts, h.alloc, (size_t)h.n + 1);
		XGROW(gidx, galloc, (size_t)h.n + 1);
		struct metric_point *p = &h.pts[h.n];
		memset(p, 0, sizeof(*p));
		p->run = sqlite3_column_int64(s, 0);
		p->provider_id = sqlite3_column_int64(s, 1);
		p->attempt = sqlite3_column_int(s, 2);
		p->sha = sql_col_str(s, 3);
		p->branch = sql_col_str(s, 4);
		p->at = sqlite3_column_int64(s, 5);
		p->value = sqlite3_column_double(s, 6);
		p->green = sqlite3_column_int(s, 7) != 0;
		p->passed = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 8);
		p->threshold = col_real(s, 9);
		gidx[h.n] = (long)kidx[h.n];
		h.n++;
	}
	if (r != SQLITE_DONE) {
		rc = store_err(a->rd, err, "reading the metrics cache");
		goto out;
	}
	/* appended: after the newest point, in order, no two of one moment and
	 * run; the newest point's branch (its baseline's greens) unchanged */
	if (!h.n || h.n != nk || gidx[h.n - 1] != in.n - 1 || h.pts[h.n - 1].run != last_run ||
	    h.pts[h.n - 1].at != last_at)
		goto out;
	struct metric_point prev = h.pts[h.n - 1];
	const struct metric_point *newest = NULL;
	for (long i = 0; i < nh->n; i++) {
		const struct metric_point *p = &nh->pts[i];
		if (branch && !same_str(p->branch, branch))
			continue;
		if (p->at < prev.at || (p->at == prev.at && p->run <= prev.run))
			goto out;
		prev = *p;
		newest = p;
	}
	if (!same_str(h.pts[h.n - 1].branch, newest->branch))
		goto out;
	long n = in.n + nn, nt = in.n - in.T;
	vals = xmalloc((size_t)(nt + nn) * sizeof(double));
	runs = xmalloc((size_t)(nt + nn) * sizeof(int64_t));
	memcpy(vals, in.tail, (size_t)nt * sizeof(double));
	memcpy(runs, in.tail_run, (size_t)nt * sizeof(int64_t));
	long j = nt;
	for (long i = 0; i < nh->n; i++) {
		const struct metric_point *p = &nh->pts[i];
		if (branch && !same_str(p->branch, branch))
			continue;
		vals[j] = p->value;
		runs[j++] = p->run;
		XGROW(h.pts, h.alloc, (size_t)h.n + 1);
		XGROW(gidx, galloc, (size_t)h.n + 1);
		point_copy(&h.pts[h.n], p);
		gidx[h.n++] = in.n + (j - nt) - 1;
	}
	k = cp_run(vals, runs, in.T, in.S_T, n, a->cp, &in, &out, &cps);
	if (k < 0)
		goto out;
	/* the runs of the change points; the newest one's point and the one
	 * before it are among the points kept */
	cprun = xmalloc((size_t)(k + 1) * sizeof(int64_t));
	for (int i = 0; i < k; i++)
		if (!state_run(&out, cps[i].idx, &cprun[i]))
			goto out;
	if (k) {
		long c = cps[k - 1].idx, at = -1;
		for (long i = 0; i < h.n; i++)
			if (gidx[i] == c)
				at = i;
		if (at < 0 || (c > 0 && (at == 0 || gidx[at - 1] != c - 1)))
			goto out;
		bind3(a->ack, name, wf, h.pts[at].sha);
		if (h.pts[at].sha && sqlite3_step(a->ack) == SQLITE_ROW) {
			cps[k - 1].acked = true;
			cps[k - 1].note = sql_col_str(a->ack, 0);
		}
		sqlite3_reset(a->ack);
	}
	h.cps = cps;
	h.n_cps = k;
	h.cps_done = true;
	cps = NULL;
	struct pending_row *pr = pending_add(pd, cb, name, wf);
	pr->has = pr->has_state = true;
	pr->h = h;
	pr->gidx = gidx;
	pr->total = n;
	pr->cprun = cprun;
	pr->state = out;
	pr->max_run = a->max_run;
	memset(&h, 0, sizeof(h));
	memset(&out, 0, sizeof(out));
	gidx = NULL;
	cprun = NULL;
	rc = 1;
	metric_cache_rows_appended++;
out:
	sqlite3_reset(a->head);
	sqlite3_reset(a->pts);
	sqlite3_reset(a->state);
	if (cps) {
		for (int i = 0; i < k; i++)
			free(cps[i].note);
		free(cps);
	}
	metric_hist_release(&h);
	cp_state_release(&in);
	cp_state_release(&out);
	free(gidx);
	free(kidx);
	free(runs);
	free(vals);
	free(cprun);
	return rc;
}

/* Row (name, wf) of cache cb computed from its whole series (q). */
static int row_full(struct store *rd, const char *cb, const struct metrics_query *q,
		    const struct cp_conf *cp, int64_t max_run, struct pending *pd, struct cs_err *err)
{
	struct metric_set set;
	if (metrics_load(rd, q, &set, err) < 0)
		return -1;
	metric_cache_rows_whole++;
	int bad = 0;
	if (!set.n)
		pending_add(pd, cb, q->name, q->workflow);
	for (int j = 0; !bad && j < set.n; j++) {
		struct metric_hist *h = &set.items[j];
		struct pending_row *pr = pending_add(pd, cb, q->name, q->workflow);
		pr->has_state = !q->checkout;
		pr->max_run = max_run;
		bad = metrics_changepoints_state(h, cp, pr->has_state ? &pr->state : NULL) < 0 ||
		      metric_cps_read_acks(rd, h, err) < 0;
		pr->has = true;
		pr->h = *h;
		memset(h, 0, sizeof(*h));
	}
	metric_set_release(&set);
	return bad ? -1 : 0;
}

static int collect_min(void *ctx, sqlite3_stmt *s)
{
	int64_t *m = ctx;
	if (sqlite3_column_type(s, 0) != SQLITE_NULL)
		*m = sqlite3_column_int64(s, 0);
	return 0;
}

/* The caches' rows of metric_summary_meta as one string: the write that
 * follows a computation checks nothing moved them meanwhile. */
static char *meta_seen(struct store *st, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT coalesce(group_concat(branch || char(31) || gen || char(31)"
			      " || conf, char(30)), '') FROM (SELECT * FROM metric_summary_meta"
			      " ORDER BY branch)", &s, "reading the metrics cache", err) < 0)
		return NULL;
	char *m = sqlite3_step(s) == SQLITE_ROW ? sql_col_str(s, 0) : NULL;
	sqlite3_finalize(s);
	if (!m)
		store_err(st, err, "reading the metrics cache");
	return m;
}

/* What the incremental update computed, and at which count and caches. */
struct incr {
	int64_t gen;
	char *meta;
	struct pair_list br;   /* the caches brought up to date, cb's first */
	struct pending rows;
};

static void incr_release(struct incr *in)
{
	free(in->meta);
	pair_list_release(&in->br);
	pending_release(&in->rows);
	memset(in, 0, sizeof(*in));
}

/* Compute the rows what changed since the caches were computed touched,
 * in the cache of every branch kept, reading rd (a snapshot, or inside
 * the write transaction): a row its new runs only append to from the
 * state it kept (row_append), another from its whole series. 1: done;
 * 0: a full rebuild of cb's cache is due (none of these settings, one
 * made stale by a deletion, a row of no workflow, or more than about half
 * its rows to read whole); -1: error. Writes nothing. */
static int incr_compute(struct store *rd, const char *cb, const struct metrics_query *bq,
			const struct cp_conf *cp, const char *sig, struct incr *out,
			struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (store_prepare(rd, "SELECT gen >= 0 AND conf = ?1, (SELECT count(*) FROM metric_summary"
			      " WHERE branch = ?2) FROM metric_summary_meta WHERE branch = ?2", &s,
			  "reading the metrics cache", err) < 0)
		return -1;
	sql_bind_text(s, 1, sig);
	sql_bind_text(s, 2, cb);
	int usable = 0;
	long rows = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		usable = sqlite3_column_int(s, 0);
		rows = (long)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (!usable)
		return 0;
	out->gen = metric_gen_now(rd, err);
	int64_t max_run = out->gen < 0 ? -1 : max_run_now(rd, err);
	out->meta = max_run < 0 ? NULL : meta_seen(rd, err);
	/* the oldest dirty run, the runs (their points are what an append
	 * adds), the rows named apart from a run, and every row touched */
	int64_t min_dirty = INT64_MAX;
	struct pair_list pl = {0}, js = {0}, hard = {0};
	struct metric_set np = {0};
	struct appender ap = {0};
	int rc = -1;
	if (!out->meta ||
	    store_prepare(rd, "SELECT min(run_id) FROM metric_dirty_runs", &s,
			  "reading the metrics cache", err) < 0 ||
	    store_collect(rd, s, collect_min, &min_dirty, "reading the metrics cache", err) < 0 ||
	    store_prepare(rd, "SELECT json_group_array(run_id) FROM (SELECT DISTINCT run_id FROM"
			      " metric_dirty_runs)", &s, "reading the metrics cache", err) < 0 ||
	    store_collect(rd, s, collect_str, &js, "reading the metrics cache", err) < 0 ||
	    store_prepare(rd, "SELECT name, workflow FROM metric_dirty_pairs", &s,
			  "reading the metrics cache", err) < 0 ||
	    store_collect(rd, s, collect_pair, &hard, "reading the metrics cache", err) < 0 ||
	    store_prepare(rd, dirty_pairs_sql, &s, "reading the metrics cache", err) < 0 ||
	    store_collect(rd, s, collect_pair, &pl, "reading the metrics cache", err) < 0 ||
	    /* the caches kept: cb's, and those of these settings, current, not
	     * of first-parent order (of other tips or checkouts: dropped) */
	    store_prepare(rd, "SELECT branch FROM metric_summary_meta WHERE branch = ?1 OR"
			      " (conf = ?2 AND gen >= 0 AND instr(branch, ':') = 0)"
			      " ORDER BY branch IS NOT ?1, branch", &s, "reading the metrics cache",
			  err) < 0)
		goto close;
	sql_bind_text(s, 1, cb);
	sql_bind_text(s, 2, sig);
	if (store_collect(rd, s, collect_str, &out->br, "reading the metrics cache", err) < 0)
		goto close;
	for (int i = 0; i < pl.n; i++)
		if (!pl.wf[i] || !*pl.wf[i] || !pl.name[i]) {
			rc = 0;
			goto close;
		}
	struct metrics_query nq = {.runs = js.n && js.name[0] ? js.name[0] : "[]"};
	if (metrics_load(rd, &nq, &np, err) < 0 || appender_open(rd, &ap, err) < 0)
		goto close;
	ap.rd = rd;
	ap.min_dirty = min_dirty;
	ap.max_run = max_run;
	ap.np = &np;
	ap.hard = &hard;
	ap.cp = cp;
	/* cb's cache first: when most of its rows need their whole series it
	 * is rebuilt whole instead */
	for (int k = 0; k < out->br.n; k++) {
		const char *kb = out->br.name[k] ? out->br.name[k] : "";
		/* the branch a key names (up to a ':' and its first-parent tip:
		 * only cb's, bq's checkout's) */
		char bn[512];
		snprintf(bn, sizeof(bn), "%s", kb);
		bool fp = strchr(bn, ':') != NULL;
		if (fp)
			*strrchr(bn, ':') = 0;
		long whole = 0;
		for (int i = 0; i < pl.n; i++) {
			int r = fp ? 0 : row_append(&ap, kb, pl.name[i], pl.wf[i], *kb ? bn : NULL,
						    &out->rows, err);
			if (r < 0)
				goto close;
			if (r)
				continue;
			if (!strcmp(kb, cb) && ++whole * 2 > rows + 8) {
				rc = 0;
				goto close;
			}
			struct metrics_query q = {.name = pl.name[i], .workflow = pl.wf[i],
						  .branch = *kb ? bn : NULL,
						  .checkout = fp ? bq->checkout : NULL};
			if (row_full(rd, kb, &q, cp, max_run, &out->rows, err) < 0)
				goto close;
		}
	}
	rc = 1;
close:
	appender_close(&ap);
	metric_set_release(&np);
	pair_list_release(&pl);
	pair_list_release(&js);
	pair_list_release(&hard);
	if (rc != 1)
		incr_release(out);
	return rc;
}

/* Write what incr_compute computed (inside rw's write transaction) and
 * mark every cache current at its count: 1; 0 when the index or the caches
 * moved since it read them (computed again); -1 error. */
static int incr_write(struct store *rw, const char *cb, const char *sig, const struct incr *in,
		      struct cs_err *err)
{
	int64_t now = metric_gen_now(rw, err);
	char *meta = now < 0 ? NULL : meta_seen(rw, err);
	if (!meta)
		return -1;
	bool same = now == in->gen && !strcmp(meta, in->meta);
	free(meta);
	if (!same)
		return 0;
	/* the caches not kept: of other settings, stale, first-parent ones of
	 * other tips or checkouts */
	sqlite3_stmt *dfp;
	if (cache_drop_others(rw, cb, sig, err) < 0 ||
	    store_prepare(rw, "DELETE FROM metric_summary_meta WHERE branch IS NOT ?1"
			      " AND instr(branch, ':') > 0", &dfp, "writing the metrics cache", err) < 0)
		return -1;
	sql_bind_text(dfp, 1, cb);
	if (store_collect(rw, dfp, NULL, NULL, "writing the metrics cache", err) < 0 ||
	    store_exec(rw, "DELETE FROM metric_summary WHERE branch NOT IN (SELECT branch FROM"
			   " metric_summary_meta); DELETE FROM metric_summary_points WHERE branch"
			   " NOT IN (SELECT branch FROM metric_summary_meta); DELETE FROM"
			   " metric_summary_cps WHERE branch NOT IN (SELECT branch FROM"
			   " metric_summary_meta); DELETE FROM metric_summary_state WHERE branch"
			   " NOT IN (SELECT branch FROM metric_summary_meta)", err) < 0)
		return -1;
	struct cache_writer w = {0};
	int rc = -1;
	if (cache_writer_open(rw, &w, err) < 0)
		goto close;
	for (size_t i = 0; i < in->rows.n; i++) {
		const struct pending_row *r = &in->rows.v[i];
		w.cb = r->cb;
		struct row_src rs = {.gidx = r->gidx, .total = r->total, .cprun = r->cprun,
				     .state = r->has_state ? &r->state : NULL, .max_run = r->max_run};
		if (cache_forget(rw, &w, r->name, r->wf, err) < 0 ||
		    (r->has && cache_put(rw, &w, &r->h, &rs, err) < 0))
			goto close;
	}
	for (int k = 0; k < in->br.n; k++)
		if (cache_acks_since(rw, in->br.name[k] ? in->br.name[k] : "", err) < 0)
			goto close;
	rc = cache_mark(rw, cb, in->gen, sig, true, err) < 0 ? -1 : 1;
close:
	cache_writer_close(&w);
	return rc;
}

/* Bring the cache of branch cb up to date: the dirty rows, else all of it.
 * Either is computed outside the write transaction (imports are not held
 * up for it) and written under it; an incremental update that finds the
 * index moved meanwhile computes again, the third time under the lock. */
static int cache_update(struct store *st, struct store *rw, const char *cb,
			const struct metrics_query *bq, const struct cp_conf *cp, const char *sig,
			struct cs_err *err)
{
	struct cs_err e2;
	for (int attempt = 0;; attempt++) {
		bool locked = attempt >= 2;
		struct incr in;
		int rc;
		if (locked) {
			if (store_begin(rw, err) < 0)
				return -1;
			rc = incr_compute(rw, cb, bq, cp, sig, &in, err);
		} else {
			/* a snapshot (st already inside a transaction reads in that one) */
			bool snap = store_exec(st, "BEGIN", &e2) == 0;
			rc = incr_compute(st, cb, bq, cp, sig, &in, err);
			if (snap)
				store_exec(st, "COMMIT", &e2);
			if (rc < 0)
				return -1;
			if (rc == 1 && metric_cache_between)
				metric_cache_between(metric_cache_between_ctx);
			if (store_begin(rw, err) < 0) {
				if (rc == 1)
					incr_release(&in);
				return -1;
			}
		}
		if (rc == 1) {
			rc = incr_write(rw, cb, sig, &in, err);
			incr_release(&in);
			if (rc == 1)
				return store_commit(rw, err);
			store_rollback(rw);
			if (rc < 0)
				return -1;
			/* moved meanwhile: current now (another update), or again */
			int64_t g = metric_gen_now(st, err);
			int ok = g < 0 ? -1 : cache_valid(st, cb, g, sig, err);
			if (ok)
				return ok < 0 ? -1 : 0;
			continue;
		}
		if (rc == 0) {
			/* another process rebuilds it: wait for what it writes */
			int other = claim_of_other(rw, cb, err);
			if (other > 0) {
				store_rollback(rw);
				struct timespec ts = {0, 50 * 1000000L};
				nanosleep(&ts, NULL);
				int64_t g = metric_gen_now(st, err);
				int ok = g < 0 ? -1 : cache_valid(st, cb, g, sig, err);
				if (ok)
					return ok < 0 ? -1 : 0;
				attempt = 0;
				continue;
			}
			/* or did so since this process looked: current now */
			int64_t g = other < 0 ? -1 : metric_gen_now(rw, err);
			int ok = g < 0 ? -1 : cache_valid(rw, cb, g, sig, err);
			if (ok > 0) {
				store_rollback(rw);
				return 0;
			}
			rc = ok < 0 ? -1 : cache_claim(rw, cb, sig, err);
		}
		if (rc < 0) {
			store_rollback(rw);
			return -1;
		}
		if (store_commit(rw, err) < 0)
			return -1;
		return cache_rebuild(st, rw, cb, bq, cp, sig, err);
	}
}

struct cache_read {
	struct metric_set *set;
	const struct metrics_query *q;
	int cur;            /* the series rows go to, -1: one the query leaves out */
	long *cp_seq;       /* per series */
};

static int cache_head_row(void *ctx, sqlite3_stmt *s)
{
	struct cache_read *cr = ctx;
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *wf = (const char *)sqlite3_column_text(s, 1);
	if (!name || !wf)
		return 0;
	if ((cr->q->workflow && strcmp(cr->q->workflow, wf)) || !metric_name_matches(cr->q->pattern, name) ||
	    (cr->q->only && !th_conf_names(cr->q->only, name, wf)))
		return 0;
	struct metric_set *set = cr->set;
	XGROW(set->items, set->alloc, (size_t)set->n + 1);
	cr->cp_seq = xrealloc(cr->cp_seq, set->alloc * sizeof(long));
	struct metric_hist *h = &set->items[set->n];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->workflow = xstrdup(wf);
	const struct unit_def *ud = metric_unit_find((const char *)sqlite3_column_text(s, 2));
	h->unit = ud ? ud->name : NULL;
	h->total = sqlite3_column_int64(s, 3);
	h->cps_done = true;
	cr->cp_seq[set->n] = -1;
	if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
		cr->cp_seq[set->n] = sqlite3_column_int64(s, 4);
		h->cps = xcalloc(1, sizeof(*h->cps));
		h->n_cps = 1;
		h->cps[0].before = col_real(s, 5);
		h->cps[0].after = col_real(s, 6);
		h->cps[0].change = col_real(s, 7);
		h->cps[0].pvalue = col_real(s, 8);
		h->cps[0].acked = sqlite3_column_int(s, 9) != 0;
		h->cps[0].note = sql_col_str(s, 10);
	}
	set->n++;
	return 0;
}

static int cache_point_row(void *ctx, sqlite3_stmt *s)
{
	struct cache_read *cr = ctx;
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *wf = (const char *)sqlite3_column_text(s, 1);
	struct metric_set *set = cr->set;
	/* both queries read in (name, workflow) order */
	while (cr->cur < set->n && name && wf &&
	       (strcmp(set->items[cr->cur].name, name) < 0 ||
		(!strcmp(set->items[cr->cur].name, name) &&
		 strcmp(set->items[cr->cur].workflow, wf) < 0)))
		cr->cur++;
	if (cr->cur >= set->n || !name || !wf || strcmp(set->items[cr->cur].name, name) ||
	    strcmp(set->items[cr->cur].workflow, wf))
		return 0;
	struct metric_hist *h = &set->items[cr->cur];
	if (cr->cp_seq[cr->cur] == sqlite3_column_int64(s, 2))
		h->cps[0].idx = h->n;
	XGROW(h->pts, h->alloc, (size_t)h->n + 1);
	struct metric_point *p = &h->pts[h->n++];
	memset(p, 0, sizeof(*p));
	p->run = sqlite3_column_int64(s, 3);
	p->provider_id = sqlite3_column_int64(s, 4);
	p->attempt = sqlite3_column_int(s, 5);
	p->sha = sql_col_str(s, 6);
	p->branch = sql_col_str(s, 7);
	p->at = sqlite3_column_int64(s, 8);
	p->value = sqlite3_column_double(s, 9);
	p->green = sqlite3_column_int(s, 10) != 0;
	p->passed = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 11);
	p->threshold = col_real(s, 12);
	return 0;
}

static int cache_read(struct store *st, const char *cb, const struct metrics_query *q,
		      struct metric_set *out, struct cs_err *err)
{
	struct cache_read cr = {.set = out, .q = q};
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT name, workflow, unit, total, cp_idx, cp_before, cp_after,"
			      " cp_change, cp_pvalue, cp_acked, cp_note FROM metric_summary"
			      " WHERE branch = ?1 ORDER BY name, workflow", &s,
			  "reading the metrics cache", err) < 0)
		goto fail;
	sql_bind_text(s, 1, cb);
	if (store_collect(st, s, cache_head_row, &cr, "reading the metrics cache", err) < 0)
		goto fail;
	if (store_prepare(st, "SELECT name, workflow, seq, run, provider_id, attempt, sha, branch_of,"
			      " at, value, green, passed, threshold FROM metric_summary_points"
			      " WHERE branch = ?1 ORDER BY name, workflow, seq", &s,
			  "reading the metrics cache", err) < 0)
		goto fail;
	sql_bind_text(s, 1, cb);
	if (store_collect(st, s, cache_point_row, &cr, "reading the metrics cache", err) < 0)
		goto fail;
	free(cr.cp_seq);
	return 0;
fail:
	free(cr.cp_seq);
	metric_set_release(out);
	return -1;
}

int metrics_load_table(struct store *st, struct store *rw, const struct th_conf *c,
		       const struct metrics_query *q, struct metric_set *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	err_clear(err);
	/* a branch's table is a cache of its own (every branch: ''); in
	 * first-parent order (a checkout that has the branch) one keyed
	 * "BRANCH:TIP", dropped when another tip's is brought up to date */
	bool usable = (!q->branch || (*q->branch && !strchr(q->branch, ':') &&
				      strlen(q->branch) < 400)) && !q->name && rw;
	char cb[512];
	snprintf(cb, sizeof(cb), "%s", q->branch ? q->branch : "");
	struct metrics_query bq = {.branch = q->branch};
	if (usable && q->branch && q->checkout) {
		struct gitrepo *g = gitrepo_open(q->checkout);
		char tip[41];
		if (g && gitrepo_resolve(g, q->branch, tip)) {
			snprintf(cb, sizeof(cb), "%s:%s", q->branch, tip);
			bq.checkout = q->checkout;
		}
		if (g)
			gitrepo_close(g);
	}
	for (int i = 0; usable && i < c->n; i++)
		if (c->rules[i].baseline_n > METRIC_TABLE_GREENS)
			usable = false;
	if (!usable)
		return metrics_load_judged(st, c, q, out, err);
	char sig[200];
	cache_conf_sig(&c->cp, sig, sizeof(sig));
	int64_t gen = metric_gen_now(st, err);
	if (gen < 0)
		return -1;
	int ok = cache_valid(st, cb, gen, sig, err);
	if (ok < 0)
		return -1;
	if (!ok && cache_update(st, rw, cb, &bq, &c->cp, sig, err) < 0)
		return -1;
	return cache_read(st, cb, q, out, err);
}

/* --- change points for `metrics show` and the chart ---------------------------------- */
int metrics_cached_cps(struct store *st, const struct th_conf *c, const struct metrics_query *q,
		       struct metric_set *set, struct cs_err *err)
{
	/* the cache's points are in time order; a series read in first-parent
	 * order finds its own */
	if (q->checkout || !set->n || (q->branch && (!*q->branch || strchr(q->branch, ':'))))
		return 0;
	char sig[200];
	cache_conf_sig(&c->cp, sig, sizeof(sig));
	const char *cb = q->branch ? q->branch : "";
	int64_t gen = metric_gen_now(st, err);
	if (gen < 0)
		return -1;
	int ok = cache_valid(st, cb, gen, sig, err);
	if (ok <= 0)
		return ok;
	sqlite3_stmt *hs, *cs;
	if (store_prepare(st, "SELECT total FROM metric_summary WHERE branch = ?1 AND name = ?2"
			      " AND workflow = ?3", &hs, "reading the metrics cache", err) < 0)
		return -1;
	if (store_prepare(st, "SELECT idx, run, before, after, change, pvalue FROM metric_summary_cps"
			      " WHERE branch = ?1 AND name = ?2 AND workflow = ?3 ORDER BY k", &cs,
			  "reading the metrics cache", err) < 0) {
		sqlite3_finalize(hs);
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < set->n && !rc; i++) {
		struct metric_hist *h = &set->items[i];
		if (h->cps_done)
			continue;
		sqlite3_reset(hs);
		sql_bind_text(hs, 1, cb);
		sql_bind_text(hs, 2, h->name);
		sql_bind_text(hs, 3, h->workflow);
		if (sqlite3_step(hs) != SQLITE_ROW || sqlite3_column_int64(hs, 0) != h->n)
			continue;
		sqlite3_reset(cs);
		sql_bind_text(cs, 1, cb);
		sql_bind_text(cs, 2, h->name);
		sql_bind_text(cs, 3, h->workflow);
		struct metric_cp *cps = NULL;
		size_t alloc = 0;
		int n = 0;
		bool good = true;
		int r;
		while ((r = sqlite3_step(cs)) == SQLITE_ROW) {
			long idx = (long)sqlite3_column_int64(cs, 0);
			if (idx <= 0 || idx >= h->n || h->pts[idx].run != sqlite3_column_int64(cs, 1)) {
				good = false;
				break;
			}
			XGROW(cps, alloc, (size_t)n + 1);
			struct metric_cp *cp = &cps[n++];
			memset(cp, 0, sizeof(*cp));
			cp->idx = idx;
			cp->before = col_real(cs, 2);
			cp->after = col_real(cs, 3);
			cp->change = col_real(cs, 4);
			cp->pvalue = col_real(cs, 5);
		}
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			free(cps);
			rc = store_err(st, err, "reading the metrics cache");
			break;
		}
		if (!good) {
			free(cps);
			continue;
		}
		h->cps = cps;
		h->n_cps = n;
		h->cps_done = true;
		if (metric_cps_read_acks(st, h, err) < 0)
			rc = -1;
	}
	sqlite3_finalize(hs);
	sqlite3_finalize(cs);
	return rc;
}
