/* metrics.c - metrics over history (see metrics.h): the units, the derived
 * metrics refresh keeps in run_metrics, loading series, the chart and the
 * table of a series. Change points are in metriccp.c, thresholds in
 * thresholds.c, local CI results in metriclocal.c, the summary cache in
 * metriccache.c. */
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gitrepo.h"
#include "logparse.h"
#include "logstore.h"
#include "metrics.h"
#include "metricsint.h"
#include "parity.h"
#include "storesql.h"

/* --- units ------------------------------------------------------------------------ */
static const struct unit_def units[] = {
	{"ms", 1, 1}, {"s", 1, 1000}, {"min", 1, 60000},
	{"B", 2, 1}, {"KiB", 2, 1024}, {"MiB", 2, 1048576}, {"GiB", 2, 1073741824.0},
	{"KB", 2, 1000}, {"MB", 2, 1e6}, {"GB", 2, 1e9}, {"%", 3, 1},
};

const struct unit_def *metric_unit_find(const char *u)
{
	if (!u || !*u)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(units[i].name, u))
			return &units[i];
	return NULL;
}

const char *metric_unit_of(const char *name)
{
	static const struct {
		const char *suffix, *unit;
	} sfx[] = {
		{"_ms", "ms"}, {"duration_ms", "ms"}, {"queue_ms", "ms"}, {"_seconds", "s"},
		{"_s", "s"}, {"_sec", "s"}, {"_kib", "KiB"}, {"_kb", "KiB"}, {"_mib", "MiB"},
		{"_mb", "MB"}, {"_gb", "GB"}, {"_bytes", "B"}, {"_pct", "%"}, {"_percent", "%"},
		{"percentage", "%"}, {"pass_rate", "%"}, {"coverage", "%"},
	};
	size_t n = strlen(name);
	char low[256];
	if (n >= sizeof(low))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++)
		if (str_ends(low, sfx[i].suffix))
			return sfx[i].unit;
	return NULL;
}

/* --- cache lines ----------------------------------------------------------------- */
int metric_cache_line(const char *text, size_t n)
{
	/* actions/cache, actions/setup-node/-python/-go/-java print these */
	static const char *const hit[] = {"Cache restored from key:", "Cache restored from key ",
					  "Cache hit for:", "Cache hit for restore-key:"};
	static const char *const miss[] = {"Cache not found for input keys:",
					   "Cache not found for input keys ",
					   "Cache not found for keys:"};
	for (size_t i = 0; i < ARRAY_SIZE(hit); i++)
		if (memmem(text, n, hit[i], strlen(hit[i])))
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(miss); i++)
		if (memmem(text, n, miss[i], strlen(miss[i])))
			return -1;
	return 0;
}

/* --- refresh: derived metrics kept in run_metrics ------------------------------------- */
struct cache_count {
	long hits, misses;
	struct buf scratch;
};

static int cache_cb(void *ctx, const struct split_line *l)
{
	struct cache_count *cc = ctx;
	if (l->head_len < 15 || !memmem(l->head, l->head_len, "Cache ", 6))
		return 0;
	const char *t;
	size_t tn;
	log_search_text(l->head, l->head_len, &t, &tn, &cc->scratch);
	int k = metric_cache_line(t, tn);
	if (k > 0)
		cc->hits++;
	else if (k < 0)
		cc->misses++;
	return 0;
}

static int put_metric(struct store *st, sqlite3_stmt *ins, int64_t run, const char *name,
		      double v, const char *unit, const char *origin, struct cs_err *err)
{
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, run);
	sql_bind_text(ins, 2, name);
	if (isfinite(v))
		sqlite3_bind_double(ins, 3, v);
	else
		sqlite3_bind_null(ins, 3);
	sql_bind_text(ins, 4, unit);
	sqlite3_bind_null(ins, 5);
	sqlite3_bind_null(ins, 6);
	sql_bind_text(ins, 7, origin);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return store_err(st, err, "storing a metric");
	return 0;
}

struct id_list {
	int64_t *v;
	size_t n, alloc;
};

static int collect_id(void *ctx, sqlite3_stmt *s)
{
	struct id_list *l = ctx;
	XGROW(l->v, l->alloc, l->n + 1);
	l->v[l->n++] = sqlite3_column_int64(s, 0);
	return 0;
}

static int ids_of(struct store *st, const char *sql, int64_t arg, struct id_list *out,
		  struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, sql, &s, "reading the index", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, arg);
	return store_collect(st, s, collect_id, out, "reading the index", err);
}

static int derive_run(struct store *st, const struct parity_conf *pc, sqlite3_stmt *ins,
		      int64_t run, struct cs_err *err)
{
	/* parity channels: only runs that have step series */
	struct id_list multi = {0};
	if (ids_of(st, "SELECT 1 FROM metric_series WHERE run_id = ?1 AND n_points > 1 LIMIT 1",
		   run, &multi, err) < 0)
		return -1;
	if (multi.n) {
		struct parity_report rep;
		if (parity_run(st, pc, run, NULL, 0, &rep, err) < 0) {
			free(multi.v);
			return -1;
		}
		for (int i = 0; i < rep.n_channels; i++) {
			const struct parity_channel *ch = &rep.channels[i];
			if (!ch->steps)
				continue;
			char name[300];
			snprintf(name, sizeof(name), "parity.%s.max_abs", ch->name);
			int rc = put_metric(st, ins, run, name, ch->max_abs.set ? ch->max_abs.value : 0,
					    NULL, "parity", err);
			snprintf(name, sizeof(name), "parity.%s.max_excess", ch->name);
			if (!rc)
				rc = put_metric(st, ins, run, name,
						ch->worst.set ? ch->worst.excess : 0, NULL, "parity", err);
			snprintf(name, sizeof(name), "parity.%s.violations", ch->name);
			if (!rc)
				rc = put_metric(st, ins, run, name, (double)ch->violations, NULL,
						"parity", err);
			snprintf(name, sizeof(name), "parity.%s.first_violation", ch->name);
			if (!rc && ch->first_violation.set)
				rc = put_metric(st, ins, run, name, ch->first_violation.x, NULL,
						"parity", err);
			if (rc) {
				parity_report_release(&rep);
				free(multi.v);
				return -1;
			}
		}
		parity_report_release(&rep);
	}
	free(multi.v);

	/* cache lines in the job logs */
	struct id_list logs = {0};
	if (ids_of(st, "SELECT l.id FROM logs l JOIN jobs j ON j.id = l.job_id WHERE j.run_id = ?1",
		   run, &logs, err) < 0)
		return -1;
	struct cache_count cc = {0};
	for (size_t i = 0; i < logs.n; i++) {
		struct logr *r = logr_open(st, logs.v[i], err);
		if (!r) {
			free(logs.v);
			buf_release(&cc.scratch);
			return -1;
		}
		uint64_t nl = logr_line_count(r);
		int rc = nl ? logr_scan(r, 1, nl, cache_cb, &cc, err) : 0;
		logr_close(r);
		if (rc < 0) {
			free(logs.v);
			buf_release(&cc.scratch);
			return -1;
		}
	}
	free(logs.v);
	buf_release(&cc.scratch);
	if (cc.hits + cc.misses) {
		if (put_metric(st, ins, run, "cache.hits", (double)cc.hits, NULL, "cache", err) < 0 ||
		    put_metric(st, ins, run, "cache.misses", (double)cc.misses, NULL, "cache", err) < 0)
			return -1;
	}
	return 0;
}

long metrics_refresh(struct store *st, struct cs_err *err)
{
	err_clear(err);
	if (st->readonly)
		return 0;
	/* nothing a run is read from changed (metric_gen) since a refresh with
	 * this derivation found every run done: no need to look (a scan of
	 * every run otherwise; the table's first frame waits for it) */
	int64_t gen = -1;
	sqlite3_stmt *mk;
	if (store_prepare(st, "SELECT g.gen, m.gen = g.gen AND m.version = ?1 FROM metric_gen g"
			      " LEFT JOIN metric_refresh_mark m ON m.id = 1 WHERE g.id = 1", &mk,
			  "reading metrics", err) < 0)
		return -1;
	sqlite3_bind_int(mk, 1, DERIVE_VERSION);
	if (sqlite3_step(mk) == SQLITE_ROW) {
		gen = sqlite3_column_int64(mk, 0);
		if (sqlite3_column_int(mk, 1)) {
			sqlite3_finalize(mk);
			return 0;
		}
	}
	sqlite3_finalize(mk);
	struct id_list todo = {0};
	if (ids_of(st, "SELECT r.id FROM runs r LEFT JOIN run_metrics_done d ON d.run_id = r.id "
		       "WHERE r.id > 0 AND (d.version IS NULL OR d.version < ?1) ORDER BY r.id",
		   DERIVE_VERSION, &todo, err) < 0)
		return -1;
	if (!todo.n) {
		/* at the count read before the scan: a change since means a look */
		sqlite3_stmt *w;
		if (gen < 0 ||
		    store_prepare(st, "INSERT OR REPLACE INTO metric_refresh_mark (id, gen, version)"
				      " VALUES (1, ?1, ?2)", &w, "storing metrics", err) < 0)
			return gen < 0 ? 0 : -1;
		sqlite3_bind_int64(w, 1, gen);
		sqlite3_bind_int(w, 2, DERIVE_VERSION);
		return store_collect(st, w, NULL, NULL, "storing metrics", err) < 0 ? -1 : 0;
	}
	struct parity_conf *pc = parity_conf_load(NULL, err);
	if (!pc) {
		free(todo.v);
		return -1;
	}
	sqlite3_stmt *ins = NULL, *done = NULL, *del = NULL;
	long n = 0;
	if (store_begin(st, err) < 0)
		goto out;
	if (store_prepare(st, "INSERT OR REPLACE INTO run_metrics (run_id, name, value, unit, "
			      "passed, threshold, origin) VALUES (?1,?2,?3,?4,?5,?6,?7)",
			  &ins, "storing metrics", err) < 0 ||
	    store_prepare(st, "INSERT OR REPLACE INTO run_metrics_done (run_id, version) "
			      "VALUES (?1, ?2)", &done, "storing metrics", err) < 0 ||
	    store_prepare(st, "DELETE FROM run_metrics WHERE run_id = ?1 AND origin IN "
			      "('parity', 'cache')", &del, "storing metrics", err) < 0) {
		store_rollback(st);
		goto out;
	}
	for (size_t i = 0; i < todo.n; i++) {
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, todo.v[i]);
		if (sqlite3_step(del) != SQLITE_DONE) {
			store_err(st, err, "storing metrics");
			store_rollback(st);
			goto out;
		}
		if (derive_run(st, pc, ins, todo.v[i], err) < 0) {
			err_prefix(err, "deriving metrics of run #%lld", (long long)todo.v[i]);
			store_rollback(st);
			goto out;
		}
		sqlite3_reset(done);
		sqlite3_bind_int64(done, 1, todo.v[i]);
		sqlite3_bind_int(done, 2, DERIVE_VERSION);
		if (sqlite3_step(done) != SQLITE_DONE) {
			store_err(st, err, "storing metrics");
			store_rollback(st);
			goto out;
		}
		n++;
	}
	if (store_commit(st, err) < 0)
		n = -1;
out:
	if (err->code)
		n = -1;
	sqlite3_finalize(ins);
	sqlite3_finalize(done);
	sqlite3_finalize(del);
	parity_conf_free(pc);
	free(todo.v);
	return n;
}

/* --- loading series --------------------------------------------------------------------- */
/* Every source as (run_id, name, value, passed, threshold, unit). */
/* With a name: the series arm reads only that name's scalar series
 * (metric_series_by_name, migration 009) instead of every point, and the
 * built-in arms that cannot give it stop before reading a row (a term on
 * ?3 alone is judged once, before the scan). The runs arms keep only the
 * workflow's and branch's runs themselves: a small workflow's run.* series
 * (the summary cache recomputing it after an import) does not carry every
 * run through the union's materialised table. */
#define LOAD_SQL(SERIES_NAME, R) \
	"WITH src(run_id, name, value, passed, threshold, unit) AS (" \
	" SELECT s.run_id, s.name, p.value, NULL, NULL, NULL FROM metric_series s" \
	"  CROSS JOIN metric_points p ON p.series_id = s.id WHERE s.n_points = 1 AND p.value IS NOT NULL" \
	SERIES_NAME R("s.run_id") \
	" UNION ALL SELECT run_id, name, value, passed, threshold, unit FROM run_metrics" \
	"  WHERE value IS NOT NULL" R("run_id") \
	" UNION ALL SELECT id, 'run.duration_ms', updated_at - started_at, NULL, NULL, 'ms'" \
	"  FROM runs WHERE conclusion IS NOT NULL AND updated_at >= started_at AND source IS NOT 'local'" \
	"  AND (?3 IS NULL OR ?3 = 'run.duration_ms') AND (?1 IS NULL OR workflow_name = ?1)" \
	"  AND (?2 IS NULL OR head_branch = ?2)" R("id") \
	" UNION ALL SELECT id, 'run.queue_ms', started_at - created_at, NULL, NULL, 'ms'" \
	"  FROM runs WHERE started_at >= created_at AND source IS NOT 'local'" \
	"  AND (?3 IS NULL OR ?3 = 'run.queue_ms') AND (?1 IS NULL OR workflow_name = ?1)" \
	"  AND (?2 IS NULL OR head_branch = ?2)" R("id") \
	" UNION ALL SELECT run_id, 'job.' || name || '.duration_ms', completed_at - started_at," \
	"  NULL, NULL, 'ms' FROM jobs WHERE completed_at >= started_at" \
	"  AND (?3 IS NULL OR ?3 GLOB 'job.*')" R("run_id") \
	" UNION ALL SELECT j.run_id, 'step.' || j.name || '/' || s.name || '.duration_ms'," \
	"  s.completed_at - s.started_at, NULL, NULL, 'ms' FROM steps s JOIN jobs j ON j.id = s.job_id" \
	"  WHERE s.completed_at >= s.started_at AND (?3 IS NULL OR ?3 GLOB 'step.*')" R("j.run_id") \
	" UNION ALL SELECT run_id, 'tests.total', count(*), NULL, NULL, NULL FROM test_results" \
	"  WHERE (?3 IS NULL OR ?3 GLOB 'tests.*')" R("run_id") " GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.failed', sum(outcome IN ('failed','error')), NULL, NULL, NULL" \
	"  FROM test_results WHERE (?3 IS NULL OR ?3 GLOB 'tests.*')" R("run_id") " GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.skipped', sum(outcome = 'skipped'), NULL, NULL, NULL" \
	"  FROM test_results WHERE (?3 IS NULL OR ?3 GLOB 'tests.*')" R("run_id") " GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.pass_rate', 100.0 * sum(outcome IN ('passed','flaky'))" \
	"  / max(1, sum(outcome != 'skipped')), NULL, NULL, '%' FROM test_results" \
	"  WHERE (?3 IS NULL OR ?3 GLOB 'tests.*')" R("run_id") " GROUP BY run_id)" \
	" SELECT src.name, coalesce(r.workflow_name, ''), r.id, r.provider_id, r.attempt, r.head_sha," \
	"  r.head_branch, r.created_at, r.conclusion, src.value, src.passed, src.threshold, src.unit" \
	" FROM src JOIN runs r ON r.id = src.run_id" \
	" WHERE r.id > 0 AND (?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2)" \
	"  AND (?3 IS NULL OR src.name = ?3)" \
	"  AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(?4) g WHERE src.name GLOB g.value))"
/* (CROSS JOIN: the series first, then their one point by its key; left to
 * itself the planner scanned every point of every step series - 0.9 s of
 * `ciscope commits` on 4M points, bench/commits.sh) */
#define ALL_RUNS(col) ""
#define ONLY_RUNS(col) " AND " col " IN (SELECT value FROM json_each(?5))"
static const char load_sql[] = LOAD_SQL("", ALL_RUNS);
static const char load_name_sql[] = LOAD_SQL(" AND s.name = ?3", ALL_RUNS);
/* the points of some runs alone (q->runs): each arm reads those runs by
 * its index on the run */
static const char load_runs_sql[] = LOAD_SQL("", ONLY_RUNS);
/* A name no built-in metric can have: only the series and run_metrics
 * arms can give it, read by name without the union's materialised table
 * (the chart of a 100,000-point series: bench/metrics.sh). The same
 * columns, the same rows in the same order (the series arm first, in
 * metric_series_by_name's order: run, series, point). The series arm
 * reads metric_scalars (migration 014: the scalar series' points kept by
 * name), one range of the table, not one metric_points row per run
 * scattered among every other metric's. */
static const char load_stored_sql[] =
	"SELECT s.name, coalesce(r.workflow_name, ''), r.id, r.provider_id, r.attempt, r.head_sha,"
	" r.head_branch, r.created_at, r.conclusion, s.value, NULL, NULL, NULL"
	" FROM metric_scalars s CROSS JOIN runs r ON r.id = s.run_id"
	" WHERE s.name = ?3 AND r.id > 0"
	"  AND (?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2)"
	"  AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(?4) g WHERE s.name GLOB g.value))"
	" UNION ALL SELECT m.name, coalesce(r.workflow_name, ''), r.id, r.provider_id, r.attempt,"
	" r.head_sha, r.head_branch, r.created_at, r.conclusion, m.value, m.passed, m.threshold, m.unit"
	" FROM run_metrics m JOIN runs r ON r.id = m.run_id"
	" WHERE m.name = ?3 AND m.value IS NOT NULL AND r.id > 0"
	"  AND (?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2)"
	"  AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(?4) g WHERE m.name GLOB g.value))";

/* Could a built-in arm of LOAD_SQL give a metric of this name? */
static bool builtin_name(const char *n)
{
	return !strcmp(n, "run.duration_ms") || !strcmp(n, "run.queue_ms") ||
	       ((str_starts(n, "job.") || str_starts(n, "step.")) && str_ends(n, ".duration_ms")) ||
	       !strcmp(n, "tests.total") || !strcmp(n, "tests.failed") ||
	       !strcmp(n, "tests.skipped") || !strcmp(n, "tests.pass_rate");
}
/* No ORDER BY: SQLite's sort of every row (wide, with the run's columns)
 * was most of the load (bench/metrics.sh); load_row groups rows into
 * series with a hash of (name, workflow) and sort_series orders points by
 * (created_at, run id) within each series (mostly in order already) and
 * the series by (name, workflow), the order the ORDER BY gave. */

struct load_ctx {
	struct metric_set *set;
	const struct metrics_query *q;
	int *slot;      /* open addressing: series index + 1, 0 empty */
	size_t nslot;   /* a power of two */
	int last;       /* the series of the previous row, or -1 */
};

static uint64_t hash_nw(const char *name, const char *wf)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *c = wf; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	return h;
}

static void slot_put(struct load_ctx *lc, int idx)
{
	const struct metric_hist *h = &lc->set->items[idx];
	size_t m = lc->nslot - 1, k = hash_nw(h->name, h->workflow) & m;
	while (lc->slot[k])
		k = (k + 1) & m;
	lc->slot[k] = idx + 1;
}

/* The series of (name, wf), or -1; grows the table as the set grows. */
static int slot_find(struct load_ctx *lc, const char *name, const char *wf)
{
	if (!lc->nslot)
		return -1;
	size_t m = lc->nslot - 1, k = hash_nw(name, wf) & m;
	for (; lc->slot[k]; k = (k + 1) & m) {
		const struct metric_hist *h = &lc->set->items[lc->slot[k] - 1];
		if (!strcmp(h->name, name) && !strcmp(h->workflow, wf))
			return lc->slot[k] - 1;
	}
	return -1;
}

bool metric_name_matches(const char *pat, const char *name)
{
	if (!pat || !*pat)
		return true;
	if (strpbrk(pat, "*?["))
		return fnmatch(pat, name, 0) == 0;
	return strstr(name, pat) != NULL;
}

static int load_row(void *ctx, sqlite3_stmt *s)
{
	struct load_ctx *lc = ctx;
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *wf = (const char *)sqlite3_column_text(s, 1);
	if (!name || !metric_name_matches(lc->q->pattern, name))
		return 0;
	if (lc->q->only && !th_conf_names(lc->q->only, name, wf ? wf : ""))
		return 0;
	struct metric_set *set = lc->set;
	if (!wf)
		wf = "";
	int at = lc->last;
	if (at < 0 || strcmp(set->items[at].name, name) || strcmp(set->items[at].workflow, wf))
		at = slot_find(lc, name, wf);
	struct metric_hist *h;
	if (at >= 0) {
		h = &set->items[at];
	} else {
		XGROW(set->items, set->alloc, (size_t)set->n + 1);
		at = set->n;
		h = &set->items[set->n++];
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		h->workflow = xstrdup(wf ? wf : "");
		const char *u = (const char *)sqlite3_column_text(s, 12);
		const struct unit_def *ud = metric_unit_find(u);
		h->unit = ud ? ud->name : metric_unit_of(name);
		if ((size_t)set->n * 2 > lc->nslot) {
			free(lc->slot);
			lc->nslot = lc->nslot ? lc->nslot * 2 : 256;
			lc->slot = xcalloc(lc->nslot, sizeof(*lc->slot));
			for (int i = 0; i < set->n; i++)
				slot_put(lc, i);
		} else {
			slot_put(lc, at);
		}
	}
	lc->last = at;
	XGROW(h->pts, h->alloc, (size_t)h->n + 1);
	struct metric_point *p = &h->pts[h->n++];
	memset(p, 0, sizeof(*p));
	p->run = sqlite3_column_int64(s, 2);
	p->provider_id = sqlite3_column_int64(s, 3);
	p->attempt = sqlite3_column_int(s, 4);
	p->sha = sql_col_str(s, 5);
	p->branch = sql_col_str(s, 6);
	p->at = sql_col_time(s, 7);
	const char *c = (const char *)sqlite3_column_text(s, 8);
	p->green = c && !strcmp(c, "success");
	p->value = sqlite3_column_double(s, 9);
	p->passed = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10);
	p->threshold = sqlite3_column_type(s, 11) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 11);
	return 0;
}

/* first-parent order: position of each commit on the branch, newest 0 */
struct fp_map {
	char **sha;
	long n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static long fp_pos(const struct fp_map *m, const char *sha)
{
	if (!sha || !m->n)
		return -1;
	long lo = 0, hi = m->n - 1;
	while (lo <= hi) {
		long mid = (lo + hi) / 2;
		int c = strcmp(m->sha[mid] + 12, sha);
		if (!c)
			return strtol(m->sha[mid], NULL, 10);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int fp_collect(void *ctx, const char *sha)
{
	struct fp_map *m = ctx;
	if (m->n % 1024 == 0)
		m->sha = xrealloc(m->sha, (size_t)(m->n + 1024) * sizeof(char *));
	m->sha[m->n] = xasprintf("%011ld %s", m->n, sha);
	m->n++;
	return 0;
}

static int cmp_fpsort(const void *a, const void *b)
{
	/* "%011ld " prefix: compare the sha part */
	return strcmp(*(char *const *)a + 12, *(char *const *)b + 12);
}

struct fp_key {
	long pos;   /* distance from the tip; -1: not on the branch */
	struct metric_point p;
};

static int cmp_fpkey(const void *a, const void *b)
{
	const struct fp_key *x = a, *y = b;
	/* on the branch: oldest (largest distance) first; then by time */
	if (x->pos >= 0 && y->pos >= 0 && x->pos != y->pos)
		return x->pos > y->pos ? -1 : 1;
	if (x->p.at != y->p.at)
		return x->p.at < y->p.at ? -1 : 1;
	return x->p.run < y->p.run ? -1 : x->p.run > y->p.run;
}

static void order_first_parent(struct metric_set *set, const struct metrics_query *q)
{
	if (!q->checkout || !q->branch)
		return;
	struct gitrepo *g = gitrepo_open(q->checkout);
	if (!g)
		return;
	struct fp_map m = {0};
	gitrepo_walk_first_parents(g, q->branch, 200000, fp_collect, &m);
	gitrepo_close(g);
	if (!m.n)
		return;
	(void)cmp_str;
	qsort(m.sha, (size_t)m.n, sizeof(char *), cmp_fpsort);
	for (int i = 0; i < set->n; i++) {
		struct metric_hist *h = &set->items[i];
		struct fp_key *k = xmalloc((size_t)h->n * sizeof(*k) + 1);
		for (long j = 0; j < h->n; j++) {
			k[j].p = h->pts[j];
			k[j].pos = fp_pos(&m, h->pts[j].sha);
		}
		qsort(k, (size_t)h->n, sizeof(*k), cmp_fpkey);
		for (long j = 0; j < h->n; j++)
			h->pts[j] = k[j].p;
		free(k);
	}
	for (long j = 0; j < m.n; j++)
		free(m.sha[j]);
	free(m.sha);
}

static int cmp_point(const struct metric_point *x, const struct metric_point *y)
{
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->run < y->run ? -1 : x->run > y->run;
}

struct seq_point {
	struct metric_point p;
	long seq;
};

static int cmp_seq_point(const void *a, const void *b)
{
	const struct seq_point *x = a, *y = b;
	int c = cmp_point(&x->p, &y->p);
	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_hist(const void *a, const void *b)
{
	const struct metric_hist *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->workflow, y->workflow);
}

/* The order ORDER BY name, workflow, created_at, run id gave (ties kept
 * in the order the rows came). */
static void sort_series(struct metric_set *set)
{
	for (int i = 0; i < set->n; i++) {
		struct metric_hist *h = &set->items[i];
		long j = 1;
		while (j < h->n && cmp_point(&h->pts[j - 1], &h->pts[j]) <= 0)
			j++;
		if (j >= h->n)
			continue;
		struct seq_point *k = xmalloc((size_t)h->n * sizeof(*k));
		for (j = 0; j < h->n; j++) {
			k[j].p = h->pts[j];
			k[j].seq = j;
		}
		qsort(k, (size_t)h->n, sizeof(*k), cmp_seq_point);
		for (j = 0; j < h->n; j++)
			h->pts[j] = k[j].p;
		free(k);
	}
	if (set->n > 1)
		qsort(set->items, (size_t)set->n, sizeof(*set->items), cmp_hist);
}

int metrics_load(struct store *st, const struct metrics_query *q, struct metric_set *out,
		 struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	err_clear(err);
	sqlite3_stmt *s;
	const char *sql = q->runs ? load_runs_sql : !q->name ? load_sql
		: builtin_name(q->name) ? load_name_sql : load_stored_sql;
	if (store_prepare(st, sql, &s, "reading metrics", err) < 0)
		return -1;
	sql_bind_text(s, 1, q->workflow);
	sql_bind_text(s, 2, q->branch);
	sql_bind_text(s, 3, q->runs ? NULL : q->name);
	if (q->runs)
		sql_bind_text(s, 5, q->runs);
	/* q->only: the rules' globs as a first sieve in SQL (before the sort);
	 * one SQL GLOB would read differently from fnmatch ('[', '\\') takes
	 * everything, and load_row judges each name exactly */
	struct buf globs = BUF_INIT;
	if (q->only) {
		buf_addc(&globs, '[');
		for (int i = 0; i < q->only->n; i++) {
			const char *g = q->only->rules[i].glob;
			buf_adds(&globs, i ? ",\"" : "\"");
			if (strpbrk(g, "[\\\"") || !utf8_valid(g, strlen(g)))
				g = "*";
			for (; *g; g++)
				if ((unsigned char)*g < 0x20)
					buf_addf(&globs, "\\u%04x", (unsigned char)*g);
				else
					buf_addc(&globs, *g);
			buf_addc(&globs, '"');
		}
		buf_addc(&globs, ']');
		sql_bind_text(s, 4, buf_cstr(&globs));
	}
	struct load_ctx lc = {.set = out, .q = q, .last = -1};
	int rc = store_collect(st, s, load_row, &lc, "reading metrics", err);
	buf_release(&globs);
	free(lc.slot);
	if (rc < 0) {
		metric_set_release(out);
		return -1;
	}
	sort_series(out);
	order_first_parent(out, q);
	return 0;
}

void metric_hist_release(struct metric_hist *h)
{
	for (long j = 0; j < h->n; j++) {
		free(h->pts[j].sha);
		free(h->pts[j].branch);
	}
	for (int j = 0; j < h->n_cps; j++)
		free(h->cps[j].note);
	free(h->cps);
	free(h->pts);
	free(h->name);
	free(h->workflow);
	memset(h, 0, sizeof(*h));
}

void metric_hist_copy(struct metric_hist *dst, const struct metric_hist *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->workflow = xstrdup(src->workflow);
	dst->pts = xmalloc((size_t)(src->n + 1) * sizeof(*dst->pts));
	dst->alloc = (size_t)src->n + 1;
	for (long j = 0; j < src->n; j++) {
		dst->pts[j] = src->pts[j];
		dst->pts[j].sha = src->pts[j].sha ? xstrdup(src->pts[j].sha) : NULL;
		dst->pts[j].branch = src->pts[j].branch ? xstrdup(src->pts[j].branch) : NULL;
	}
	dst->cps = src->n_cps ? xmalloc((size_t)src->n_cps * sizeof(*dst->cps)) : NULL;
	for (int j = 0; j < src->n_cps; j++) {
		dst->cps[j] = src->cps[j];
		dst->cps[j].note = src->cps[j].note ? xstrdup(src->cps[j].note) : NULL;
	}
}

void metric_set_release(struct metric_set *s)
{
	for (int i = 0; i < s->n; i++)
		metric_hist_release(&s->items[i]);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* --- the chart ------------------------------------------------------------------------ */
static void plot_xlabel(void *ctx, double x, char *out, size_t n)
{
	const struct metric_hist *h = ctx;
	long i = (long)llround(x);
	if (i < 0 || i >= h->n || !h->pts[i].sha) {
		snprintf(out, n, "%s", "");
		return;
	}
	snprintf(out, n, "%.7s", h->pts[i].sha);
}

void metric_plot_init(struct metric_plot *p, const struct metric_hist *h,
		      const struct th_eval *evals, int n_evals)
{
	memset(p, 0, sizeof(*p));
	p->h = h;
	p->y = xmalloc((size_t)(h->n + 1) * sizeof(double));
	for (long i = 0; i < h->n; i++)
		p->y[i] = h->pts[i].value;
	snprintf(p->title, sizeof(p->title), "%s%s%s%s%s%s", h->name, *h->workflow ? " (" : "",
		 h->workflow, *h->workflow ? ")" : "", h->unit ? " " : "", h->unit ? h->unit : "");
	p->series = (struct chart_series){.label = h->name, .y = p->y, .n = (size_t)h->n,
					  .role = CHART_CAND};
	p->hlines = xcalloc((size_t)n_evals + 1, sizeof(*p->hlines));
	p->hlabel = xcalloc((size_t)n_evals + 1, sizeof(*p->hlabel));
	int nh = 0;
	for (int i = 0; i < n_evals; i++) {
		if (!isfinite(evals[i].limit))
			continue;
		snprintf(p->hlabel[nh], sizeof(p->hlabel[nh]), "%s %s",
			 evals[i].bound->level == TH_FAIL ? "fail" : "warn", evals[i].bound->text);
		p->hlines[nh] = (struct chart_hline){.label = p->hlabel[nh], .y = evals[i].limit,
						     .role = evals[i].bound->level == TH_FAIL
								     ? CHART_FAIL : CHART_THRESHOLD};
		nh++;
	}
	p->marks = xcalloc((size_t)h->n_cps + 1, sizeof(*p->marks));
	p->mlabel = xcalloc((size_t)h->n_cps + 1, sizeof(*p->mlabel));
	for (int i = 0; i < h->n_cps; i++) {
		char ch[40];
		metric_format_change(h->cps[i].change, h->cps[i].before, h->cps[i].after, h->unit, ch,
				     sizeof(ch));
		const char *sha = h->pts[h->cps[i].idx].sha;
		snprintf(p->mlabel[i], sizeof(p->mlabel[i]), "%s at %.7s%s", ch, sha ? sha : "?",
			 h->cps[i].acked ? " (ack)" : "");
		p->marks[i] = (struct chart_mark){.label = p->mlabel[i], .x = (double)h->cps[i].idx,
						  .role = CHART_MARK};
	}
	p->chart = (struct chart){.title = p->title, .x_title = "commits (oldest first)",
				  .series = &p->series, .n_series = 1, .hlines = p->hlines,
				  .n_hlines = nh, .marks = p->marks, .n_marks = h->n_cps,
				  .x_label_fn = plot_xlabel, .x_label_ctx = (void *)h};
}

void metric_plot_release(struct metric_plot *p)
{
	free(p->y);
	free(p->hlines);
	free(p->hlabel);
	free(p->marks);
	free(p->mlabel);
	memset(p, 0, sizeof(*p));
}

void metric_format_pct(double frac, char *out, size_t n)
{
	double p = frac * 100;
	if (!isfinite(p))
		snprintf(out, n, "%s", isnan(p) ? "-" : p > 0 ? "+inf %" : "-inf %");
	else if (fabs(p) >= 100)
		snprintf(out, n, "%+.3g %%", p);
	else if (fabs(round(p * 10)) < 1) /* shows as 0.0: no sign (never "-0.0 %") */
		snprintf(out, n, "0.0 %%");
	else
		snprintf(out, n, "%+.1f %%", p);
}

void metric_format_change(double change, double before, double after, const char *unit,
			  char *out, size_t n)
{
	if (isfinite(change)) {
		metric_format_pct(change, out, n);
	} else {
		double d = after - before;
		snprintf(out, n, "%+g%s%s", d == 0 ? 0.0 : d, unit ? " " : "", unit ? unit : "");
	}
}

/* --- the table ------------------------------------------------------------------------ */
int metrics_load_judged(struct store *st, const struct th_conf *c, const struct metrics_query *q,
			struct metric_set *out, struct cs_err *err)
{
	if (metrics_load(st, q, out, err) < 0)
		return -1;
	if (metrics_cached_cps(st, c, q, out, err) < 0) {
		metric_set_release(out);
		return -1;
	}
	for (int i = 0; i < out->n; i++)
		if (metrics_changepoints(st, &out->items[i], &c->cp, err) < 0) {
			metric_set_release(out);
			return -1;
		}
	return 0;
}

void metric_summarize(const struct th_conf *c, const struct metric_hist *h,
		      struct metric_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->baseline = out->change = out->last = NAN;
	if (h->n <= 0)
		return;
	long last = h->n - 1;
	struct th_eval *e;
	int ne = th_evaluate(c, h, last, &e);
	int bn = 10, used;
	for (int i = 0; i < ne; i++)
		if (e[i].bound->kind == TH_REGRESS) {
			bn = e[i].rule->baseline_n;
			break;
		}
	out->last = h->pts[last].value;
	out->baseline = metric_baseline(h, last, h->pts[last].branch, bn, &used);
	if (isfinite(out->baseline) && out->baseline != 0)
		out->change = (out->last - out->baseline) / fabs(out->baseline);
	out->state = th_worst(e, ne);
	out->cp = h->n_cps ? &h->cps[h->n_cps - 1] : NULL;
	free(e);
}

int metric_sparkline(const struct metric_hist *h, int n, bool utf8, struct buf *out)
{
	static const char *const blocks[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
					     "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
					     "\xe2\x96\x87", "\xe2\x96\x88"};
	static const char ascii[] = "_.-=+*#@";
	if (n <= 0)
		return 0;
	long a = h->n > n ? h->n - n : 0;
	double lo = INFINITY, hi = -INFINITY;
	for (long i = a; i < h->n; i++) {
		lo = fmin(lo, h->pts[i].value);
		hi = fmax(hi, h->pts[i].value);
	}
	for (long i = a; i < h->n; i++) {
		int k = hi > lo ? (int)((h->pts[i].value - lo) / (hi - lo) * 7.999) : 3;
		k = k < 0 ? 0 : k > 7 ? 7 : k;
		if (utf8)
			buf_adds(out, blocks[k]);
		else
			buf_addc(out, ascii[k]);
	}
	return (int)(h->n - a);
}

double metric_cp_bound(const struct metric_cp *cp, bool *above)
{
	*above = cp->after > cp->before;
	return (cp->before + cp->after) / 2;
}
