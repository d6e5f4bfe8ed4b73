/* metrics.c - metrics over history (see metrics.h). */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gitrepo.h"
#include "logparse.h"
#include "logstore.h"
#include "metrics.h"
#include "parity.h"
#include "storesql.h"

/* bump when what metrics_refresh() derives changes: runs are derived again */
#define DERIVE_VERSION 1

/* --- units ------------------------------------------------------------------------ */
struct unit_def {
	const char *name;
	int kind;        /* 1 time (ms), 2 size (bytes), 3 percent */
	double factor;   /* to the kind's base */
};
static const struct unit_def units[] = {
	{"ms", 1, 1}, {"s", 1, 1000}, {"min", 1, 60000},
	{"B", 2, 1}, {"KiB", 2, 1024}, {"MiB", 2, 1048576}, {"GiB", 2, 1073741824.0},
	{"KB", 2, 1000}, {"MB", 2, 1e6}, {"GB", 2, 1e9}, {"%", 3, 1},
};

static const struct unit_def *unit_find(const char *u)
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
 * ?3 alone is judged once, before the scan). */
#define LOAD_SQL(SERIES_NAME) \
	"WITH src(run_id, name, value, passed, threshold, unit) AS (" \
	" SELECT s.run_id, s.name, p.value, NULL, NULL, NULL FROM metric_series s" \
	"  JOIN metric_points p ON p.series_id = s.id WHERE s.n_points = 1 AND p.value IS NOT NULL" \
	SERIES_NAME \
	" UNION ALL SELECT run_id, name, value, passed, threshold, unit FROM run_metrics" \
	"  WHERE value IS NOT NULL" \
	" UNION ALL SELECT id, 'run.duration_ms', updated_at - started_at, NULL, NULL, 'ms'" \
	"  FROM runs WHERE conclusion IS NOT NULL AND updated_at >= started_at AND source IS NOT 'local'" \
	"  AND (?3 IS NULL OR ?3 = 'run.duration_ms')" \
	" UNION ALL SELECT id, 'run.queue_ms', started_at - created_at, NULL, NULL, 'ms'" \
	"  FROM runs WHERE started_at >= created_at AND source IS NOT 'local'" \
	"  AND (?3 IS NULL OR ?3 = 'run.queue_ms')" \
	" UNION ALL SELECT run_id, 'job.' || name || '.duration_ms', completed_at - started_at," \
	"  NULL, NULL, 'ms' FROM jobs WHERE completed_at >= started_at" \
	"  AND (?3 IS NULL OR ?3 GLOB 'job.*')" \
	" UNION ALL SELECT j.run_id, 'step.' || j.name || '/' || s.name || '.duration_ms'," \
	"  s.completed_at - s.started_at, NULL, NULL, 'ms' FROM steps s JOIN jobs j ON j.id = s.job_id" \
	"  WHERE s.completed_at >= s.started_at AND (?3 IS NULL OR ?3 GLOB 'step.*')" \
	" UNION ALL SELECT run_id, 'tests.total', count(*), NULL, NULL, NULL FROM test_results" \
	"  WHERE ?3 IS NULL OR ?3 GLOB 'tests.*' GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.failed', sum(outcome IN ('failed','error')), NULL, NULL, NULL" \
	"  FROM test_results WHERE ?3 IS NULL OR ?3 GLOB 'tests.*' GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.skipped', sum(outcome = 'skipped'), NULL, NULL, NULL" \
	"  FROM test_results WHERE ?3 IS NULL OR ?3 GLOB 'tests.*' GROUP BY run_id" \
	" UNION ALL SELECT run_id, 'tests.pass_rate', 100.0 * sum(outcome IN ('passed','flaky'))" \
	"  / max(1, sum(outcome != 'skipped')), NULL, NULL, '%' FROM test_results" \
	"  WHERE ?3 IS NULL OR ?3 GLOB 'tests.*' GROUP BY run_id)" \
	" SELECT src.name, coalesce(r.workflow_name, ''), r.id, r.provider_id, r.attempt, r.head_sha," \
	"  r.head_branch, r.created_at, r.conclusion, src.value, src.passed, src.threshold, src.unit" \
	" FROM src JOIN runs r ON r.id = src.run_id" \
	" WHERE r.id > 0 AND (?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2)" \
	"  AND (?3 IS NULL OR src.name = ?3)" \
	"  AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(?4) g WHERE src.name GLOB g.value))"
static const char load_sql[] = LOAD_SQL("");
static const char load_name_sql[] = LOAD_SQL(" AND s.name = ?3");
/* No ORDER BY: SQLite's sort of every row (wide, with the run's columns)
 * was most of the load (bench/metrics.sh); load_row groups rows into
 * series with a hash of (name, workflow) and sort_series orders points by
 * (created_at, run id) within each series (mostly in order already) and
 * the series by (name, workflow), the order the ORDER BY gave. */

struct th_conf;
static bool conf_names(const struct th_conf *c, const char *name, const char *wf);

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

static bool name_matches(const char *pat, const char *name)
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
	if (!name || !name_matches(lc->q->pattern, name))
		return 0;
	if (lc->q->only && !conf_names(lc->q->only, name, wf ? wf : ""))
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
		const struct unit_def *ud = unit_find(u);
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
	if (store_prepare(st, q->name ? load_name_sql : load_sql, &s, "reading metrics", err) < 0)
		return -1;
	sql_bind_text(s, 1, q->workflow);
	sql_bind_text(s, 2, q->branch);
	sql_bind_text(s, 3, q->name);
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

/* --- change points: E-divisive means ------------------------------------------------- */
#define MINSEG 3 /* points each side of a split (a t-test needs 3) */

void cp_conf_default(struct cp_conf *c)
{
	c->window = 50;
	c->max_pvalue = 0.001;
	c->min_magnitude = 0;
	c->permutations = 999;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void shuffle(double *v, long n, uint64_t *s)
{
	for (long i = n - 1; i > 0; i--) {
		long j = (long)(rng_next(s) % (uint64_t)(i + 1));
		double t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/* The divergence of splitting v[0..n) at t: for the means version of
 * E-divisive, m*k/n times the squared difference of the means. */
static double split_q(const double *S, long n, long t)
{
	double m = (double)t, k = (double)(n - t);
	double d = S[t] / m - (S[n] - S[t]) / k;
	return m * k / (double)n * d * d;
}

/* E-divisive's split (Matteson and James): the left part is v[0..t), the
 * right part v[t..kappa) for the best kappa, so a level that comes and goes
 * inside the window (a regression, then its fix) is found too. */
static long best_split(const double *v, long n, double *S, double *q)
{
	S[0] = 0;
	for (long i = 0; i < n; i++)
		S[i + 1] = S[i] + v[i];
	long best = -1;
	double bq = -1;
	for (long t = MINSEG; t <= n - MINSEG; t++) {
		double ml = S[t] / (double)t;
		for (long kap = t + MINSEG; kap <= n; kap++) {
			double k = (double)(kap - t);
			double d = ml - (S[kap] - S[t]) / k;
			double x = (double)t * k / ((double)t + k) * d * d;
			if (x > bq) {
				bq = x;
				best = t;
			}
		}
	}
	*q = bq;
	return best;
}

struct cp_work {
	const double *v;
	long n;
	const struct cp_conf *c;
	double *tmp, *S;
	long *cand;
	size_t n_cand, alloc;
};

/* p-value of qobs against permutations of v[a..b): fixed_t < 0 tests the
 * best split (segmentation), else the split at fixed_t. Stops early once
 * the p-value cannot reach max_pvalue: only significant values are exact. */
static double perm_p(struct cp_work *w, long a, long b, long fixed_t, double qobs)
{
	long n = b - a;
	memcpy(w->tmp, w->v + a, (size_t)n * sizeof(double));
	uint64_t seed = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)a * 1000003u + (uint64_t)b * 7919u +
						  (uint64_t)(fixed_t + 1));
	if (!seed)
		seed = 1;
	int P = w->c->permutations > 0 ? w->c->permutations : 999;
	double stop = w->c->max_pvalue * (P + 1);
	long count = 0;
	double tol = qobs * 1e-12;
	for (int i = 0; i < P; i++) {
		shuffle(w->tmp, n, &seed);
		double q;
		if (fixed_t < 0) {
			best_split(w->tmp, n, w->S, &q);
		} else {
			w->S[0] = 0;
			for (long j = 0; j < n; j++)
				w->S[j + 1] = w->S[j] + w->tmp[j];
			q = split_q(w->S, n, fixed_t);
		}
		if (q >= qobs - tol) {
			count++;
			if ((double)(count + 1) > stop + 1e-9)
				return (double)(count + 1) / (P + 1);
		}
	}
	return (double)(count + 1) / (P + 1);
}

static void segment(struct cp_work *w, long a, long b, int depth)
{
	if (b - a < 2 * MINSEG || depth > 64)
		return;
	double q;
	long t = best_split(w->v + a, b - a, w->S, &q);
	if (t < 0 || !(q > 0))
		return;
	if (perm_p(w, a, b, -1, q) > w->c->max_pvalue)
		return;
	XGROW(w->cand, w->alloc, w->n_cand + 1);
	w->cand[w->n_cand++] = a + t;
	segment(w, a, a + t, depth + 1);
	segment(w, a + t, b, depth + 1);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static double mean_of(const double *v, long a, long b)
{
	double s = 0;
	for (long i = a; i < b; i++)
		s += v[i];
	return b > a ? s / (double)(b - a) : NAN;
}

static double rel_change(double before, double after)
{
	if (before == 0)
		return after == 0 ? 0 : INFINITY;
	return (after - before) / fabs(before);
}

/* Test candidate i of k against its neighbours (windows capped). */
static void test_cand(struct cp_work *w, const long *c, long k, long i, double *p, double *mag)
{
	long W = w->c->window > 2 * MINSEG ? w->c->window : 50;
	long prev = i ? c[i - 1] : 0, next = i + 1 < k ? c[i + 1] : w->n;
	prev = MAX(prev, c[i] - W);
	next = MIN(next, c[i] + W);
	if (c[i] - prev < MINSEG || next - c[i] < MINSEG) {
		*p = 1;
		*mag = 0;
		return;
	}
	w->S[0] = 0;
	for (long j = prev; j < next; j++)
		w->S[j - prev + 1] = w->S[j - prev] + w->v[j];
	double q = split_q(w->S, next - prev, c[i] - prev);
	*mag = rel_change(mean_of(w->v, prev, c[i]), mean_of(w->v, c[i], next));
	*p = q > 0 ? perm_p(w, prev, next, c[i] - prev, q) : 1;
}

int cp_detect(const double *v, long n, const struct cp_conf *conf, long **idx, double **pvalue)
{
	*idx = NULL;
	if (pvalue)
		*pvalue = NULL;
	if (n < 2 * MINSEG)
		return 0;
	struct cp_conf c = *conf;
	if (c.window < 2 * MINSEG)
		c.window = 50;
	struct cp_work w = {.v = v, .n = n, .c = &c};
	w.tmp = xmalloc((size_t)(n + 1) * sizeof(double));
	w.S = xmalloc((size_t)(n + 2) * sizeof(double));
	long W = c.window, step = MAX(1, W / 2);
	for (long a = 0;; a += step) {
		long b = MIN(n, a + W);
		segment(&w, a, b, 0);
		if (b >= n)
			break;
	}
	if (w.n_cand)
		qsort(w.cand, w.n_cand, sizeof(long), cmp_long);
	long k = 0;
	for (size_t i = 0; i < w.n_cand; i++)
		if (!k || w.cand[k - 1] != w.cand[i])
			w.cand[k++] = w.cand[i];
	/* merge: drop the weakest point until all hold; neighbours retested */
	double *p = xmalloc((size_t)(k + 1) * sizeof(double));
	double *mag = xmalloc((size_t)(k + 1) * sizeof(double));
	for (long i = 0; i < k; i++)
		test_cand(&w, w.cand, k, i, &p[i], &mag[i]);
	for (;;) {
		long weak = -1;
		for (long i = 0; i < k; i++)
			if (p[i] > c.max_pvalue && (weak < 0 || p[i] > p[weak]))
				weak = i;
		if (weak < 0)
			for (long i = 0; i < k; i++)
				if (fabs(mag[i]) < c.min_magnitude &&
				    (weak < 0 || fabs(mag[i]) < fabs(mag[weak])))
					weak = i;
		if (weak < 0)
			break;
		memmove(&w.cand[weak], &w.cand[weak + 1], (size_t)(k - weak - 1) * sizeof(long));
		memmove(&p[weak], &p[weak + 1], (size_t)(k - weak - 1) * sizeof(double));
		memmove(&mag[weak], &mag[weak + 1], (size_t)(k - weak - 1) * sizeof(double));
		k--;
		if (weak > 0)
			test_cand(&w, w.cand, k, weak - 1, &p[weak - 1], &mag[weak - 1]);
		if (weak < k)
			test_cand(&w, w.cand, k, weak, &p[weak], &mag[weak]);
	}
	free(w.tmp);
	free(w.S);
	free(mag);
	*idx = w.cand;
	if (pvalue)
		*pvalue = p;
	else
		free(p);
	if (!k) {
		free(w.cand);
		*idx = NULL;
		if (pvalue) {
			free(p);
			*pvalue = NULL;
		}
	}
	return (int)k;
}

int metrics_changepoints(struct store *st, struct metric_hist *h, const struct cp_conf *c,
			 struct cs_err *err)
{
	if (h->cps_done)
		return 0;
	double *v = xmalloc((size_t)(h->n + 1) * sizeof(double));
	for (long i = 0; i < h->n; i++)
		v[i] = h->pts[i].value;
	long *idx;
	double *pv;
	int k = cp_detect(v, h->n, c, &idx, &pv);
	h->cps = k ? xcalloc((size_t)k, sizeof(*h->cps)) : NULL;
	h->n_cps = k;
	for (int i = 0; i < k; i++) {
		struct metric_cp *cp = &h->cps[i];
		long a = i ? idx[i - 1] : 0, b = i + 1 < k ? idx[i + 1] : h->n;
		cp->idx = idx[i];
		cp->before = mean_of(v, a, idx[i]);
		cp->after = mean_of(v, idx[i], b);
		cp->change = rel_change(cp->before, cp->after);
		cp->pvalue = pv[i];
	}
	free(idx);
	free(pv);
	free(v);
	h->cps_done = true;
	if (!st || !k)
		return 0;
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT note FROM metric_acks WHERE name = ?1 AND workflow = ?2 "
			      "AND sha = ?3", &s, "reading acknowledgements", err) < 0)
		return -1;
	for (int i = 0; i < k; i++) {
		const char *sha = h->pts[h->cps[i].idx].sha;
		if (!sha)
			continue;
		sqlite3_reset(s);
		sql_bind_text(s, 1, h->name);
		sql_bind_text(s, 2, h->workflow);
		sql_bind_text(s, 3, sha);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			h->cps[i].acked = true;
			h->cps[i].note = sql_col_str(s, 0);
		} else if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_err(st, err, "reading acknowledgements");
		}
	}
	sqlite3_finalize(s);
	return 0;
}

int metrics_ack(struct store *st, const char *name, const char *workflow, const char *sha,
		const char *note, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "INSERT OR REPLACE INTO metric_acks (name, workflow, sha, note, "
			      "acked_at) VALUES (?1, ?2, ?3, ?4, ?5)", &s, "acknowledging", err) < 0)
		return -1;
	sql_bind_text(s, 1, name);
	sql_bind_text(s, 2, workflow ? workflow : "");
	sql_bind_text(s, 3, sha);
	sql_bind_text(s, 4, note);
	sqlite3_bind_int64(s, 5, time_now_ms());
	return store_collect(st, s, NULL, NULL, "acknowledging", err);
}

/* --- thresholds ------------------------------------------------------------------------- */
extern const char thresholds_conf[];

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static int parse_bound(const char *origin, int line, enum th_level level, char *t,
		       struct th_bound *b, struct cs_err *err)
{
	memset(b, 0, sizeof(*b));
	b->level = level;
	snprintf(b->text, sizeof(b->text), "%s", t);
	char *p = t;
	if (p[0] == '<' && p[1] == '=') {
		b->op = 'l';
		p += 2;
	} else if (p[0] == '>' && p[1] == '=') {
		b->op = 'g';
		p += 2;
	} else if (*p == '<' || *p == '>') {
		b->op = *p++;
	} else if (*p == '+' || *p == '-') {
		b->op = *p++;
		b->kind = TH_REGRESS;
	} else {
		return err_set(err, CS_EINVAL, "%s:%d: a bound is <=, <, >=, > VALUE [UNIT] or "
					       "+VALUE [UNIT] / -VALUE [UNIT], not \"%s\"",
			       origin, line, t);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	char *end;
	errno = 0;
	double v = strtod(p, &end);
	if (end == p || errno || !isfinite(v) || (b->kind == TH_REGRESS && v < 0))
		return err_set(err, CS_EINVAL, "%s:%d: \"%s\": expected a number", origin, line, t);
	b->value = v;
	char *u = trim(end);
	if (*u) {
		if (!unit_find(u))
			return err_set(err, CS_EINVAL, "%s:%d: unknown unit \"%s\" (ms s min B KiB MiB "
						       "GiB KB MB GB %%)", origin, line, u);
		snprintf(b->unit, sizeof(b->unit), "%s", u);
	}
	return 0;
}

static void rule_free(struct th_rule *r)
{
	free(r->glob);
	free(r->workflow);
	free(r->branch);
	free(r->bounds);
}

int th_conf_add_text(struct th_conf *c, const char *origin, const char *text, size_t n,
		     struct cs_err *err)
{
	err_clear(err);
	char *copy = xstrndup(text, n);
	int first_new = c->n;
	bool in_cp = false, in_rule = false;
	struct cp_conf cp = c->cp;
	int line = 0;
	char *save = NULL;
	for (char *ln = copy, *next; ln; ln = next) {
		next = strchr(ln, '\n');
		if (next)
			*next++ = 0;
		line++;
		if (memchr(ln, 0, 0) || !utf8_valid(ln, strlen(ln))) {
			err_set(err, CS_EINVAL, "%s:%d: not UTF-8 text", origin, line);
			goto fail;
		}
		bool indented = *ln == ' ' || *ln == '\t';
		char *hash = strchr(ln, '#');
		if (hash)
			*hash = 0;
		char *t = trim(ln);
		if (!*t)
			continue;
		char *kw = t, *arg = t;
		while (*arg && *arg != ' ' && *arg != '\t')
			arg++;
		if (*arg)
			*arg++ = 0;
		arg = trim(arg);
		if (!indented) {
			in_cp = in_rule = false;
			if (!strcmp(kw, "changepoints")) {
				if (*arg) {
					err_set(err, CS_EINVAL, "%s:%d: changepoints takes no argument",
						origin, line);
					goto fail;
				}
				in_cp = true;
			} else if (!strcmp(kw, "threshold")) {
				if (!*arg || strchr(arg, ' ') || strchr(arg, '\t')) {
					err_set(err, CS_EINVAL, "%s:%d: threshold names one metric "
								"(a glob)", origin, line);
					goto fail;
				}
				XGROW(c->rules, c->alloc, (size_t)c->n + 1);
				struct th_rule *r = &c->rules[c->n++];
				memset(r, 0, sizeof(*r));
				r->glob = xstrdup(arg);
				r->baseline_n = 10;
				snprintf(r->origin, sizeof(r->origin), "%s:%d", origin, line);
				in_rule = true;
			} else {
				err_set(err, CS_EINVAL, "%s:%d: unknown block \"%s\" (threshold, "
							"changepoints)", origin, line, kw);
				goto fail;
			}
			continue;
		}
		if (in_cp) {
			char *end;
			double v = strtod(arg, &end);
			if (!*arg || *trim(end) || !isfinite(v) || v < 0) {
				err_set(err, CS_EINVAL, "%s:%d: %s: expected a number", origin, line, kw);
				goto fail;
			}
			if (!strcmp(kw, "window") && v >= 2 * MINSEG && v <= 100000)
				cp.window = (int)v;
			else if (!strcmp(kw, "pvalue") && v > 0 && v < 1)
				cp.max_pvalue = v;
			else if (!strcmp(kw, "magnitude"))
				cp.min_magnitude = v;
			else if (!strcmp(kw, "permutations") && v >= 19 && v <= 100000)
				cp.permutations = (int)v;
			else {
				err_set(err, CS_EINVAL, "%s:%d: %s %s: not a changepoints setting (window "
							">= 6, pvalue in (0,1), magnitude, "
							"permutations 19..100000)", origin, line, kw, arg);
				goto fail;
			}
			continue;
		}
		if (!in_rule) {
			err_set(err, CS_EINVAL, "%s:%d: an indented setting outside a block", origin,
				line);
			goto fail;
		}
		struct th_rule *r = &c->rules[c->n - 1];
		if (!strcmp(kw, "workflow") || !strcmp(kw, "branch")) {
			if (!*arg) {
				err_set(err, CS_EINVAL, "%s:%d: %s needs a name", origin, line, kw);
				goto fail;
			}
			char **dst = kw[0] == 'w' ? &r->workflow : &r->branch;
			free(*dst);
			*dst = xstrdup(arg);
		} else if (!strcmp(kw, "baseline")) {
			char *end;
			long v = strtol(arg, &end, 10);
			if (!*arg || *end || v < 1 || v > 1000) {
				err_set(err, CS_EINVAL, "%s:%d: baseline: a count of runs, 1..1000",
					origin, line);
				goto fail;
			}
			r->baseline_n = (int)v;
		} else if (!strcmp(kw, "warn") || !strcmp(kw, "fail")) {
			struct th_bound b;
			if (parse_bound(origin, line, kw[0] == 'w' ? TH_WARN : TH_FAIL, arg, &b, err) < 0)
				goto fail;
			r->bounds = xrealloc(r->bounds, (size_t)(r->n_bounds + 1) * sizeof(b));
			r->bounds[r->n_bounds++] = b;
		} else {
			err_set(err, CS_EINVAL, "%s:%d: unknown setting \"%s\" (workflow, branch, "
						"baseline, warn, fail)", origin, line, kw);
			goto fail;
		}
	}
	for (int i = first_new; i < c->n; i++)
		if (!c->rules[i].n_bounds) {
			err_set(err, CS_EINVAL, "%s: threshold %s has no warn or fail bound",
				c->rules[i].origin, c->rules[i].glob);
			goto fail;
		}
	c->cp = cp;
	(void)save;
	free(copy);
	return 0;
fail:
	while (c->n > first_new)
		rule_free(&c->rules[--c->n]);
	free(copy);
	return -1;
}

int th_conf_load(struct th_conf *c, const char *path, struct cs_err *err)
{
	memset(c, 0, sizeof(*c));
	cp_conf_default(&c->cp);
	/* the built-in file first for its changepoints defaults; its rules are
	 * moved after the repository's below */
	if (th_conf_add_text(c, "thresholds.conf (built in)", thresholds_conf,
			     strlen(thresholds_conf), err) < 0)
		return -1;
	int n_builtin = c->n;
	char *repo = NULL;
	if (path) {
		repo = xstrdup(path);
	} else {
		const char *env = getenv("CISCOPE_THRESHOLDS");
		if (env && *env) {
			repo = xstrdup(env);
		} else {
			struct buf top = BUF_INIT;
			if (gitrepo_workdir(NULL, &top)) {
				char *p = path_join(buf_cstr(&top), ".ciscope/thresholds.conf");
				if (path_is_file(p))
					repo = p;
				else
					free(p);
			}
			buf_release(&top);
		}
	}
	if (repo) {
		struct buf text = BUF_INIT;
		/* found in the checkout: named as the repository knows it */
		const char *shown = !path && !getenv("CISCOPE_THRESHOLDS") ? ".ciscope/thresholds.conf"
									   : repo;
		if (file_read_all(repo, 4u << 20, &text, err) < 0 ||
		    th_conf_add_text(c, shown, text.data ? text.data : "", text.len, err) < 0) {
			if (err->code && !strstr(err->msg, repo))
				err_prefix(err, "cannot read %s", repo);
			buf_release(&text);
			free(repo);
			th_conf_release(c);
			return -1;
		}
		buf_release(&text);
		c->repo_file = repo;
		/* repository rules first */
		struct th_rule *r = xmalloc((size_t)c->n * sizeof(*r) + 1);
		memcpy(r, c->rules + n_builtin, (size_t)(c->n - n_builtin) * sizeof(*r));
		memcpy(r + (c->n - n_builtin), c->rules, (size_t)n_builtin * sizeof(*r));
		memcpy(c->rules, r, (size_t)c->n * sizeof(*r));
		free(r);
	}
	return 0;
}

void th_conf_release(struct th_conf *c)
{
	for (int i = 0; i < c->n; i++)
		rule_free(&c->rules[i]);
	free(c->rules);
	free(c->repo_file);
	memset(c, 0, sizeof(*c));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double metric_baseline(const struct metric_hist *h, long at, const char *branch, int n, int *used)
{
	double vals[1000];
	int k = 0;
	for (long i = at - 1; i >= 0 && k < n && k < (int)ARRAY_SIZE(vals); i--) {
		const struct metric_point *p = &h->pts[i];
		if (!p->green)
			continue;
		if (branch && (!p->branch || strcmp(p->branch, branch)))
			continue;
		vals[k++] = p->value;
	}
	if (used)
		*used = k;
	if (!k)
		return NAN;
	qsort(vals, (size_t)k, sizeof(double), cmp_double);
	return k % 2 ? vals[k / 2] : (vals[k / 2 - 1] + vals[k / 2]) / 2;
}

/* The bound's value in the metric's unit; NAN when the kinds differ. */
static double convert(double v, const char *from, const char *to)
{
	const struct unit_def *f = unit_find(from), *t = unit_find(to);
	if (!f || !t)
		return v;
	if (f->kind != t->kind)
		return NAN;
	return v * f->factor / t->factor;
}

static bool breaches(const struct th_bound *b, double v, double limit)
{
	switch (b->op) {
	case 'l': return v > limit;
	case '<': return v >= limit;
	case 'g': return v < limit;
	case '>': return v <= limit;
	case '+': return v > limit;
	case '-': return v < limit;
	}
	return false;
}

static bool rule_applies(const struct th_rule *r, const struct metric_hist *h,
			 const struct metric_point *p)
{
	if (fnmatch(r->glob, h->name, 0) != 0)
		return false;
	if (r->workflow && strcmp(r->workflow, h->workflow))
		return false;
	if (r->branch && (!p->branch || strcmp(r->branch, p->branch)))
		return false;
	return true;
}

int th_evaluate(const struct th_conf *conf, const struct metric_hist *h, long at,
		struct th_eval **out)
{
	*out = NULL;
	if (at < 0 || at >= h->n)
		return 0;
	const struct metric_point *p = &h->pts[at];
	int n = 0;
	for (int i = 0; i < conf->n; i++) {
		const struct th_rule *r = &conf->rules[i];
		if (!rule_applies(r, h, p))
			continue;
		for (int j = 0; j < r->n_bounds; j++) {
			const struct th_bound *b = &r->bounds[j];
			*out = xrealloc(*out, (size_t)(n + 1) * sizeof(**out));
			struct th_eval *e = &(*out)[n++];
			memset(e, 0, sizeof(*e));
			e->rule = r;
			e->bound = b;
			e->value = p->value;
			e->baseline = NAN;
			e->since = -1;
			double lim;
			if (b->kind == TH_ABS) {
				lim = convert(b->value, b->unit, h->unit);
			} else {
				e->baseline = metric_baseline(h, at, p->branch, r->baseline_n,
							      &e->baseline_runs);
				double d = !strcmp(b->unit, "%") ? fabs(e->baseline) * b->value / 100
								 : convert(b->value, b->unit, h->unit);
				lim = b->op == '+' ? e->baseline + d : e->baseline - d;
			}
			e->limit = lim;
			if (isnan(lim)) {
				e->state = TH_NONE;
				continue;
			}
			if (!breaches(b, p->value, lim)) {
				e->state = TH_PASS;
				continue;
			}
			e->state = b->level == TH_FAIL ? TH_BREACH_FAIL : TH_BREACH_WARN;
			long s = at;
			while (s > 0 && rule_applies(r, h, &h->pts[s - 1]) &&
			       breaches(b, h->pts[s - 1].value, lim))
				s--;
			e->since = s;
		}
	}
	return n;
}

enum th_state th_worst(const struct th_eval *e, int n)
{
	enum th_state w = TH_NONE;
	for (int i = 0; i < n; i++)
		if (e[i].state > w)
			w = e[i].state;
	return w;
}

const char *th_state_name(enum th_state s)
{
	switch (s) {
	case TH_PASS: return "pass";
	case TH_BREACH_WARN: return "warn";
	case TH_BREACH_FAIL: return "fail";
	default: return "none";
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Does any rule of conf name this series? (load filter: series no rule
 * names are never kept, so judging shown runs does not hold the index) */
static bool conf_names(const struct th_conf *c, const char *name, const char *wf)
{
	for (int i = 0; i < c->n; i++)
		if (fnmatch(c->rules[i].glob, name, 0) == 0 &&
		    (!c->rules[i].workflow || !strcmp(c->rules[i].workflow, wf)))
			return true;
	return false;
}

bool th_conf_can_fail(const struct th_conf *c)
{
	for (int i = 0; i < c->n; i++)
		for (int j = 0; j < c->rules[i].n_bounds; j++)
			if (c->rules[i].bounds[j].level == TH_FAIL)
				return true;
	return false;
}

int metrics_run_thresholds(struct store *st, const struct th_conf *conf, const int64_t *runs,
			   int n, struct th_run_state *out, struct cs_err *err)
{
	memset(out, 0, (size_t)n * sizeof(*out));
	if (!n || !conf->n)
		return 0;
	struct metric_set set;
	struct metrics_query q = {.only = conf};
	if (metrics_load(st, &q, &set, err) < 0)
		return -1;
	/* the runs by id, each with its place in runs (id first: cmp_i64 sorts) */
	struct id_at {
		int64_t id;
		int at;
	} *by_id = xmalloc((size_t)n * sizeof(*by_id));
	for (int i = 0; i < n; i++)
		by_id[i] = (struct id_at){runs[i], i};
	qsort(by_id, (size_t)n, sizeof(*by_id), cmp_i64);
	for (int i = 0; i < set.n; i++) {
		struct metric_hist *h = &set.items[i];
		for (long j = 0; j < h->n; j++) {
			const struct id_at *hit = bsearch(&h->pts[j].run, by_id, (size_t)n,
							  sizeof(*by_id), cmp_i64);
			if (!hit)
				continue;
			struct th_run_state *o = &out[hit->at];
			struct th_eval *e;
			int k = th_evaluate(conf, h, j, &e);
			for (int x = 0; x < k; x++) {
				if (e[x].state == TH_BREACH_WARN || e[x].state == TH_BREACH_FAIL)
					o->breaches++;
				if (e[x].state > o->state)
					o->state = e[x].state;
			}
			free(e);
		}
	}
	free(by_id);
	metric_set_release(&set);
	return 0;
}

/* --- local CI results ----------------------------------------------------------------- */
#define LOCAL_MAX (4u << 20)

bool metrics_is_local_results(const char *text, size_t n)
{
	if (!text || n > LOCAL_MAX)
		return false;
	size_t i = 0;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	if (i >= n || text[i] != '{')
		return false;
	return memmem(text, n, "\"commit_sha\"", 12) && memmem(text, n, "\"checks\"", 8);
}

static bool is_hex(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool safe_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-", s[i]))
			return false;
	return true;
}

static int text_field(const cJSON *doc, const char *key, bool required, size_t max,
		      const char **out, struct cs_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, key);
	*out = NULL;
	if (!it || cJSON_IsNull(it)) {
		if (required)
			return err_set(err, CS_EINVAL, "%s: missing", key);
		return 0;
	}
	if (!cJSON_IsString(it))
		return err_set(err, CS_EINVAL, "%s: expected a string", key);
	const char *s = it->valuestring;
	size_t n = strlen(s);
	if (n > max || !utf8_valid(s, n))
		return err_set(err, CS_EINVAL, "%s: not a UTF-8 string of at most %zu bytes", key, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(err, CS_EINVAL, "%s: control characters", key);
	*out = s;
	return 0;
}

struct local_metric {
	char name[200];
	double value;
	int passed;
	double threshold;
};

static int flatten(const cJSON *it, char *path, size_t plen, int depth, int passed,
		   double threshold, struct local_metric **m, int *n, struct cs_err *err)
{
	if (depth > 4)
		return err_set(err, CS_EINVAL, "%s: nested deeper than 4 levels", path);
	if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
		double v = cJSON_IsBool(it) ? (cJSON_IsTrue(it) ? 1 : 0) : it->valuedouble;
		if (!isfinite(v))
			return err_set(err, CS_EINVAL, "%s: not a finite number", path);
		if (*n >= 10000)
			return err_set(err, CS_EINVAL, "more than 10000 values in checks");
		*m = xrealloc(*m, (size_t)(*n + 1) * sizeof(**m));
		struct local_metric *x = &(*m)[(*n)++];
		snprintf(x->name, sizeof(x->name), "%s", path);
		x->value = v;
		x->passed = passed;
		x->threshold = threshold;
		return 0;
	}
	if (!cJSON_IsObject(it))
		return 0; /* strings, arrays, null: not metrics */
	for (const cJSON *c = it->child; c; c = c->next) {
		if (!c->string || !safe_name(c->string))
			return err_set(err, CS_EINVAL, "%s: a key is not a name of 1-64 letters, "
						       "digits, '_' or '-'", path);
		size_t l = strlen(path);
		if (l + 1 + strlen(c->string) >= plen)
			return err_set(err, CS_EINVAL, "%s: names too long", path);
		snprintf(path + l, plen - l, ".%s", c->string);
		int rc = flatten(c, path, plen, depth + 1, passed, threshold, m, n, err);
		path[l] = 0;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

int metrics_import_local(struct store *st, const char *origin, const char *text, size_t n,
			 int64_t *run_row_id, int *state, struct cs_err *err)
{
	err_clear(err);
	*run_row_id = 0;
	*state = 2;
	if (n > LOCAL_MAX)
		return err_set(err, CS_EINVAL, "%s: larger than %u MiB", origin, LOCAL_MAX >> 20);
	if (!utf8_valid(text, n))
		return err_set(err, CS_EINVAL, "%s: not UTF-8", origin);
	const char *endp = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, n, &endp, false);
	if (!doc)
		return err_set(err, CS_EINVAL, "%s: malformed JSON near byte %zu", origin,
			       endp && endp >= text ? (size_t)(endp - text) : 0);
	struct local_metric *m = NULL;
	int nm = 0;
	const char *sha, *branch, *ts, *runner;
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	int rc = -1;
	if (!cJSON_IsObject(doc)) {
		err_set(err, CS_EINVAL, "not a JSON object");
		goto out;
	}
	if (!ver || !(cJSON_IsString(ver) || cJSON_IsNumber(ver))) {
		err_set(err, CS_EINVAL, "version: missing (a string or number)");
		goto out;
	}
	if (text_field(doc, "commit_sha", true, 40, &sha, err) < 0 ||
	    text_field(doc, "branch", false, 255, &branch, err) < 0 ||
	    text_field(doc, "timestamp", true, 64, &ts, err) < 0 ||
	    text_field(doc, "runner", false, 255, &runner, err) < 0)
		goto out;
	if (!is_hex(sha, 7, 40)) {
		err_set(err, CS_EINVAL, "commit_sha: not a commit id (7-40 hex digits)");
		goto out;
	}
	int64_t at = time_parse_rfc3339(ts, strlen(ts));
	if (at == CS_TIME_NONE) {
		err_set(err, CS_EINVAL, "timestamp: not an RFC 3339 time");
		goto out;
	}
	if (!cJSON_IsObject(checks) || !checks->child) {
		err_set(err, CS_EINVAL, "checks: expected an object with at least one check");
		goto out;
	}
	bool all_passed = true;
	int n_checks = 0;
	for (const cJSON *c = checks->child; c; c = c->next) {
		if (!c->string || !safe_name(c->string)) {
			err_set(err, CS_EINVAL, "checks: a check name is not 1-64 letters, digits, "
						"'_' or '-'");
			goto out;
		}
		if (!cJSON_IsObject(c)) {
			err_set(err, CS_EINVAL, "checks.%s: expected an object", c->string);
			goto out;
		}
		if (++n_checks > 1000) {
			err_set(err, CS_EINVAL, "checks: more than 1000 checks");
			goto out;
		}
		const cJSON *pj = cJSON_GetObjectItemCaseSensitive(c, "passed");
		const cJSON *tj = cJSON_GetObjectItemCaseSensitive(c, "threshold");
		if (pj && !cJSON_IsBool(pj)) {
			err_set(err, CS_EINVAL, "checks.%s.passed: expected true or false", c->string);
			goto out;
		}
		if (tj && !cJSON_IsNull(tj) && !(cJSON_IsNumber(tj) && isfinite(tj->valuedouble))) {
			err_set(err, CS_EINVAL, "checks.%s.threshold: expected a number", c->string);
			goto out;
		}
		int passed = pj ? cJSON_IsTrue(pj) : -1;
		if (passed == 0)
			all_passed = false;
		char path[80];
		snprintf(path, sizeof(path), "checks.%s", c->string);
		for (const cJSON *f = c->child; f; f = f->next) {
			if (!f->string || !safe_name(f->string)) {
				err_set(err, CS_EINVAL, "checks.%s: a field name is not 1-64 letters, "
							"digits, '_' or '-'", c->string);
				goto out;
			}
			if (!strcmp(f->string, "threshold"))
				continue;
			char fp[200];
			snprintf(fp, sizeof(fp), "%s.%s", path, f->string);
			if (flatten(f, fp, sizeof(fp), 2, passed,
				    cJSON_IsNumber(tj) ? tj->valuedouble : NAN, &m, &nm, err) < 0)
				goto out;
		}
	}
	/* the run: same commit, time and runner = the same run (re-import replaces) */
	uint64_t h = fnv(0xcbf29ce484222325ULL, sha, strlen(sha));
	h = fnv(h, ts, strlen(ts));
	if (runner)
		h = fnv(h, runner, strlen(runner));
	int64_t pid = (int64_t)(h & 0x1FFFFFFFFFFFFFULL);
	char sig[40];
	snprintf(sig, sizeof(sig), "local-results:%016llx",
		 (unsigned long long)fnv(0xcbf29ce484222325ULL, text, n));
	if (store_begin(st, err) < 0)
		goto out;
	sqlite3_stmt *s;
	if (store_prepare(st, "INSERT INTO repos (provider, slug) VALUES ('local', 'local') "
			      "ON CONFLICT DO NOTHING", &s, "importing local results", err) < 0 ||
	    store_collect(st, s, NULL, NULL, "importing local results", err) < 0)
		goto rollback;
	int64_t repo_id = 0, old = 0;
	char *old_sig = NULL;
	if (store_prepare(st, "SELECT r.id, r.import_sig, p.id FROM repos p LEFT JOIN runs r ON "
			      "r.repo_id = p.id AND r.provider_id = ?1 AND r.attempt = 1 "
			      "WHERE p.provider = 'local' AND p.slug = 'local'", &s,
			  "importing local results", err) < 0)
		goto rollback;
	sqlite3_bind_int64(s, 1, pid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		old = sqlite3_column_int64(s, 0);
		old_sig = sql_col_str(s, 1);
		repo_id = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (old && old_sig && !strcmp(old_sig, sig)) {
		free(old_sig);
		store_rollback(st);
		*run_row_id = old;
		rc = 0;
		goto out;
	}
	free(old_sig);
	if (old && store_exec_ids(st, "DELETE FROM runs WHERE id = ?1", old, 0,
				  "importing local results", err) < 0)
		goto rollback;
	if (store_prepare(st, "INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, "
			      "title, event, head_branch, head_sha, status, conclusion, created_at, "
			      "updated_at, started_at, actor, source, import_sig, imported_at) VALUES "
			      "(?1, ?2, 1, 'local', 'local CI results', 'local', ?3, ?4, 'completed', "
			      "?5, ?6, ?6, ?6, ?7, 'local', ?8, ?9)", &s, "importing local results",
			  err) < 0)
		goto rollback;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, pid);
	sql_bind_text(s, 3, branch);
	sql_bind_text(s, 4, sha);
	sql_bind_text(s, 5, all_passed ? "success" : "failure");
	sqlite3_bind_int64(s, 6, at);
	sql_bind_text(s, 7, runner);
	sql_bind_text(s, 8, sig);
	sqlite3_bind_int64(s, 9, time_now_ms());
	if (store_collect(st, s, NULL, NULL, "importing local results", err) < 0)
		goto rollback;
	int64_t run = sqlite3_last_insert_rowid(st->db);
	if (store_prepare(st, "INSERT OR REPLACE INTO run_metrics (run_id, name, value, unit, passed, "
			      "threshold, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'local')", &s,
			  "importing local results", err) < 0)
		goto rollback;
	for (int i = 0; i < nm; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, run);
		sql_bind_text(s, 2, m[i].name);
		sqlite3_bind_double(s, 3, m[i].value);
		sql_bind_text(s, 4, metric_unit_of(m[i].name));
		if (m[i].passed < 0)
			sqlite3_bind_null(s, 5);
		else
			sqlite3_bind_int(s, 5, m[i].passed);
		if (isnan(m[i].threshold))
			sqlite3_bind_null(s, 6);
		else
			sqlite3_bind_double(s, 6, m[i].threshold);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			store_err(st, err, "importing local results");
			goto rollback;
		}
	}
	sqlite3_finalize(s);
	if (store_exec_ids(st, "INSERT OR REPLACE INTO run_metrics_done (run_id, version) "
			       "VALUES (?1, ?2)", run, DERIVE_VERSION, "importing local results",
			   err) < 0)
		goto rollback;
	if (store_commit(st, err) < 0)
		goto out;
	*run_row_id = run;
	*state = old ? 1 : 0;
	rc = 0;
	goto out;
rollback:
	store_rollback(st);
out:
	if (rc < 0 && !strstr(err->msg, origin))
		err_prefix(err, "%s", origin);
	free(m);
	cJSON_Delete(doc);
	return rc;
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

static void cache_conf_sig(const struct cp_conf *c, char *out, size_t n)
{
	snprintf(out, n, "v1 tail %d greens %d window %d pvalue %.17g magnitude %.17g perm %d",
		 METRIC_TABLE_TAIL, METRIC_TABLE_GREENS, c->window, c->max_pvalue, c->min_magnitude,
		 c->permutations);
}

/* Is the cache at gen with settings sig? */
static int cache_valid(struct store *st, int64_t gen, const char *sig, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT gen = ?1 AND conf = ?2 FROM metric_summary_meta WHERE id = 1", &s,
			  "reading the metrics cache", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, gen);
	sql_bind_text(s, 2, sig);
	int ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return ok;
}

/* Which points of h a table row needs (keep[i]); returns their count. */
static long cache_pick(const struct metric_hist *h, bool *keep)
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
	if (h->n_cps) {
		long c = h->cps[h->n_cps - 1].idx;
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

/* Compute every series (no filter) and write the cache through rw. */
static int cache_rebuild(struct store *st, struct store *rw, const struct cp_conf *cp,
			 const char *sig, struct cs_err *err)
{
	int64_t gen = metric_gen_now(rw, err);
	if (gen < 0)
		return -1;
	struct metrics_query all = {0};
	struct metric_set set;
	if (metrics_load(st, &all, &set, err) < 0)
		return -1;
	for (int i = 0; i < set.n; i++)
		if (metrics_changepoints(st, &set.items[i], cp, err) < 0) {
			metric_set_release(&set);
			return -1;
		}
	sqlite3_stmt *hs = NULL, *ps = NULL, *ms = NULL;
	if (store_begin(rw, err) < 0) {
		metric_set_release(&set);
		return -1;
	}
	int rc = -1;
	if (store_exec(rw, "DELETE FROM metric_summary; DELETE FROM metric_summary_points", err) < 0 ||
	    store_prepare(rw, "INSERT INTO metric_summary (name, workflow, unit, total, cp_idx,"
			      " cp_before, cp_after, cp_change, cp_pvalue, cp_acked, cp_note)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			  &hs, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT INTO metric_summary_points (name, workflow, seq, run,"
			      " provider_id, attempt, sha, branch, at, value, green, passed, threshold)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
			  &ps, "writing the metrics cache", err) < 0 ||
	    store_prepare(rw, "INSERT OR REPLACE INTO metric_summary_meta (id, gen, conf)"
			      " VALUES (1, ?1, ?2)", &ms, "writing the metrics cache", err) < 0)
		goto out;
	for (int i = 0; i < set.n; i++) {
		const struct metric_hist *h = &set.items[i];
		bool *keep = xcalloc((size_t)h->n + 1, sizeof(bool));
		cache_pick(h, keep);
		long seq = 0, cp_seq = -1;
		long cpi = h->n_cps ? h->cps[h->n_cps - 1].idx : -1;
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
			if (sqlite3_step(ps) != SQLITE_DONE) {
				free(keep);
				store_err(rw, err, "writing the metrics cache");
				goto out;
			}
		}
		free(keep);
		sqlite3_reset(hs);
		sqlite3_clear_bindings(hs);
		sql_bind_text(hs, 1, h->name);
		sql_bind_text(hs, 2, h->workflow);
		sql_bind_text(hs, 3, h->unit);
		sqlite3_bind_int64(hs, 4, h->n);
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
			store_err(rw, err, "writing the metrics cache");
			goto out;
		}
	}
	sqlite3_bind_int64(ms, 1, gen);
	sql_bind_text(ms, 2, sig);
	if (sqlite3_step(ms) != SQLITE_DONE) {
		store_err(rw, err, "writing the metrics cache");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(hs);
	sqlite3_finalize(ps);
	sqlite3_finalize(ms);
	metric_set_release(&set);
	if (rc < 0) {
		store_rollback(rw);
		return -1;
	}
	return store_commit(rw, err);
}

static double col_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
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
	if ((cr->q->workflow && strcmp(cr->q->workflow, wf)) || !name_matches(cr->q->pattern, name) ||
	    (cr->q->only && !conf_names(cr->q->only, name, wf)))
		return 0;
	struct metric_set *set = cr->set;
	XGROW(set->items, set->alloc, (size_t)set->n + 1);
	cr->cp_seq = xrealloc(cr->cp_seq, set->alloc * sizeof(long));
	struct metric_hist *h = &set->items[set->n];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->workflow = xstrdup(wf);
	const struct unit_def *ud = unit_find((const char *)sqlite3_column_text(s, 2));
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

static int cache_read(struct store *st, const struct metrics_query *q, struct metric_set *out,
		      struct cs_err *err)
{
	struct cache_read cr = {.set = out, .q = q};
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT name, workflow, unit, total, cp_idx, cp_before, cp_after,"
			      " cp_change, cp_pvalue, cp_acked, cp_note FROM metric_summary"
			      " ORDER BY name, workflow", &s, "reading the metrics cache", err) < 0 ||
	    store_collect(st, s, cache_head_row, &cr, "reading the metrics cache", err) < 0)
		goto fail;
	if (store_prepare(st, "SELECT name, workflow, seq, run, provider_id, attempt, sha, branch,"
			      " at, value, green, passed, threshold FROM metric_summary_points"
			      " ORDER BY name, workflow, seq", &s, "reading the metrics cache", err) < 0 ||
	    store_collect(st, s, cache_point_row, &cr, "reading the metrics cache", err) < 0)
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
	bool usable = !q->branch && !q->name && !q->checkout && rw;
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
	int ok = cache_valid(st, gen, sig, err);
	if (ok < 0)
		return -1;
	if (!ok && cache_rebuild(st, rw, &c->cp, sig, err) < 0)
		return -1;
	return cache_read(st, q, out, err);
}
