/* bisectverdict.c - what a bisect target says of each stored run (see
 * bisect.h): targets parsed and written back, and the verdict (good, bad,
 * mixed, skip) of every run of the target's workflow, job, check or metric,
 * with the flake rate the search allows for. Shared with bisect.c through
 * bisectint.h. */
#include "bisect.h"
#include "bisectint.h"
#include "cistate.h"
#include "parity.h"
#include "storesql.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* --- targets ------------------------------------------------------------------ */
void bisect_target_release(struct bisect_target *t)
{
	free(t->workflow);
	free(t->job);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

int bisect_target_parse(const char *text, struct bisect_target *t, struct cs_err *err)
{
	memset(t, 0, sizeof(*t));
	const char *colon = text ? strchr(text, ':') : NULL;
	if (!colon || !colon[1])
		return err_set(err, CS_EUSAGE, "bad bisect target '%s': expected KIND:VALUE", text ? text : "");
	size_t k = (size_t)(colon - text);
	const char *v = colon + 1;
	if (k == 8 && !strncmp(text, "workflow", k)) {
		t->kind = BT_WORKFLOW;
		t->workflow = xstrdup(v);
	} else if (k == 3 && !strncmp(text, "job", k)) {
		const char *slash = strchr(v, '/');
		if (!slash || slash == v || !slash[1])
			return err_set(err, CS_EUSAGE, "bad job '%s': expected WORKFLOW/JOB", v);
		t->kind = BT_JOB;
		t->workflow = xstrndup(v, (size_t)(slash - v));
		t->job = xstrdup(slash + 1);
	} else if (k == 6 && !strncmp(text, "parity", k)) {
		t->kind = BT_PARITY;
		t->workflow = xstrdup(v);
	} else if (k == 4 && !strncmp(text, "test", k)) {
		t->kind = BT_TEST;
		t->name = xstrdup(v);
	} else if (k == 7 && !strncmp(text, "finding", k)) {
		t->kind = BT_FINDING;
		t->name = xstrdup(v);
	} else if (k == 6 && !strncmp(text, "metric", k)) {
		const char *gt = strrchr(v, '>'), *lt = strrchr(v, '<');
		const char *op = gt > lt ? gt : lt;
		char *end = NULL;
		if (!op || op == v || !op[1])
			return err_set(err, CS_EUSAGE, "bad metric target '%s': expected NAME>X or NAME<X", v);
		errno = 0;
		double b = strtod(op + 1, &end);
		if (errno || *end || !isfinite(b))
			return err_set(err, CS_EUSAGE, "bad metric bound '%s': not a number", op + 1);
		t->kind = BT_METRIC;
		t->name = xstrndup(v, (size_t)(op - v));
		t->above = *op == '>';
		t->bound = b;
	} else {
		return err_set(err, CS_EUSAGE,
			       "unknown bisect target kind '%.*s' (workflow, job, test, finding, metric, parity)",
			       (int)k, text);
	}
	return 0;
}

void bisect_target_text(const struct bisect_target *t, struct buf *out)
{
	buf_reset(out);
	switch (t->kind) {
	case BT_WORKFLOW: buf_addf(out, "workflow:%s", t->workflow); break;
	case BT_PARITY: buf_addf(out, "parity:%s", t->workflow); break;
	case BT_JOB: buf_addf(out, "job:%s/%s", t->workflow, t->job); break;
	case BT_TEST: buf_addf(out, "test:%s", t->name); break;
	case BT_FINDING: buf_addf(out, "finding:%s", t->name); break;
	case BT_METRIC: {
		/* the shortest form that reads back as the same number */
		char num[40];
		if (t->bound == (double)(long long)t->bound && fabs(t->bound) < 1e15)
			snprintf(num, sizeof(num), "%lld", (long long)t->bound);
		else
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, t->bound);
			if (strtod(num, NULL) == t->bound)
				break;
		}
		buf_addf(out, "metric:%s%c%s", t->name, t->above ? '>' : '<', num);
		break;
	}
	}
	buf_cstr(out);
}

const char *bisect_verdict_name(enum bisect_verdict v)
{
	static const char *const n[] = {"none", "good", "bad", "mixed", "skip"};
	return (unsigned)v < 5 ? n[v] : "none";
}

/* --- the target's verdict on each run -------------------------------------------- */
void bisect_tvs_release(struct tvs *t)
{
	for (int i = 0; i < t->n; i++) {
		free(t->v[i].conclusion);
		free(t->v[i].branch);
		free(t->v[i].value);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The run of a row (columns: sha, row id, provider id, attempt, conclusion,
 * branch, created_at) added to t, its verdict BV_NONE; NULL, nothing added,
 * where the sha is not a full one. */
static struct tv *push_run(struct tvs *t, sqlite3_stmt *s)
{
	const unsigned char *sha = sqlite3_column_text(s, 0);
	if (!sha || strlen((const char *)sha) != 40)
		return NULL;
	XGROW(t->v, t->alloc, (size_t)t->n + 1);
	struct tv *x = &t->v[t->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->sha, sha, 41);
	x->row = sqlite3_column_int64(s, 1);
	x->provider = sqlite3_column_int64(s, 2);
	x->attempt = sqlite3_column_int(s, 3);
	x->conclusion = sql_col_str(s, 4);
	x->branch = sql_col_str(s, 5);
	x->created_at = sql_col_time(s, 6);
	x->v = BV_NONE;
	return x;
}

/* columns: push_run's, then verdict (0/1/2) and, for metrics, the value */
static int take_tv(void *ctx, sqlite3_stmt *s)
{
	int verdict = sqlite3_column_int(s, 7);
	if (verdict == 0)
		return 0;
	struct tv *x = push_run(ctx, s);
	if (!x)
		return 0;
	x->v = verdict == 2 ? BV_BAD : BV_GOOD;
	x->value = sqlite3_column_count(s) > 8 ? sql_col_str(s, 8) : NULL;
	return 0;
}

static int cmp_tv(const void *a, const void *b)
{
	const struct tv *x = a, *y = b;
	int c = strcmp(x->sha, y->sha);
	if (c)
		return c;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return x->provider != y->provider ? (x->provider < y->provider ? -1 : 1) : x->attempt - y->attempt;
}

#define RUN_COLS "lower(r.head_sha), r.id, r.provider_id, r.attempt, "
#define FAILED "IN " CI_FAILED_SQL

/* col equal to ?1, or (prefix) beginning with it */
static void add_match(struct buf *sql, const char *col, bool prefix)
{
	if (prefix)
		buf_addf(sql, "substr(%s, 1, length(?1)) = ?1", col);
	else
		buf_addf(sql, "%s = ?1", col);
}

/* A name in column col of table (or, where alt is not NULL, in alt: a
 * shorter form of it) given exactly, else by a unique prefix: col's value
 * into out. */
static int resolve_name(struct store *st, const char *table, const char *col, const char *alt,
			const char *name, const char *what, struct buf *out, struct cs_err *err)
{
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *s;
		struct buf sql = BUF_INIT;
		buf_addf(&sql, "SELECT DISTINCT %s FROM %s WHERE ", col, table);
		if (alt) {
			add_match(&sql, alt, pass);
			buf_adds(&sql, " OR ");
		}
		add_match(&sql, col, pass);
		int prc = store_prepare(st, buf_cstr(&sql), &s, what, err);
		buf_release(&sql);
		if (prc < 0)
			return -1;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		char *found[2] = {NULL, NULL};
		int n = 0;
		while (sqlite3_step(s) == SQLITE_ROW && n < 2)
			found[n++] = sql_col_str(s, 0);
		sqlite3_finalize(s);
		if (n == 1) {
			buf_reset(out);
			buf_adds(out, found[0]);
			buf_cstr(out);
			free(found[0]);
			return 0;
		}
		if (n == 2) {
			err_set(err, CS_EUSAGE, "%s '%s' is ambiguous: %s, %s, ...", what, name, found[0],
				found[1]);
			free(found[0]);
			free(found[1]);
			return -1;
		}
	}
	return err_set(err, CS_ENOTFOUND, "no %s '%s' in the index", what, name);
}

/* columns as take_tv's, verdict 0 for now: parity judges each run below */
static int take_parity_run(void *ctx, sqlite3_stmt *s)
{
	push_run(ctx, s);
	return 0;
}

/* The parity verdict of every completed run of the workflow, with the
 * configured tolerances (parity_conf_load: the repository's file, else
 * the defaults); runs without parity channels are dropped. */
static int parity_verdicts(struct store *st, const struct bisect_target *t, struct tvs *out,
			   struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT " RUN_COLS "r.conclusion, r.head_branch, r.created_at FROM runs r "
			  "WHERE r.workflow_name = ?1 AND r.status = 'completed' AND r.head_sha IS NOT NULL",
			  &s, "reading the parity runs", err) < 0)
		return -1;
	sql_bind_text(s, 1, t->workflow);
	if (store_collect(st, s, take_parity_run, out, "reading the parity runs", err) < 0)
		return -1;
	struct parity_conf *conf = parity_conf_load(NULL, err);
	if (!conf)
		return -1;
	/* stored once derived (parity_run_verdicts), as the commits view does */
	int64_t *rows = xmalloc((size_t)(out->n ? out->n : 1) * sizeof(*rows));
	struct parity_verdict *pv = xcalloc((size_t)(out->n ? out->n : 1), sizeof(*pv));
	for (int i = 0; i < out->n; i++)
		rows[i] = out->v[i].row;
	if (parity_run_verdicts(st, conf, rows, out->n, pv, err) < 0) {
		free(rows);
		free(pv);
		parity_conf_free(conf);
		return -1;
	}
	int kept = 0;
	for (int i = 0; i < out->n; i++) {
		struct tv *x = &out->v[i];
		enum bisect_verdict v = pv[i].channels ? (pv[i].fail ? BV_BAD : BV_GOOD) : BV_NONE;
		if (v != BV_NONE && pv[i].fail && pv[i].channel) {
			free(x->value);
			x->value = xstrdup(pv[i].channel);
		}
		if (v == BV_NONE) {
			free(x->conclusion);
			free(x->branch);
			free(x->value);
			continue;
		}
		x->v = v;
		out->v[kept++] = *x;
	}
	parity_verdicts_release(pv, out->n);
	free(pv);
	free(rows);
	out->n = kept;
	parity_conf_free(conf);
	return 0;
}

int bisect_target_verdicts(struct store *st, const struct bisect_target *t, struct tvs *out,
		    struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (t->kind == BT_PARITY) {
		if (parity_verdicts(st, t, out, err) < 0) {
			bisect_tvs_release(out);
			return -1;
		}
		if (out->n)
			qsort(out->v, (size_t)out->n, sizeof(*out->v), cmp_tv);
		return 0;
	}
	struct buf name = BUF_INIT;
	const char *sql = NULL;
	switch (t->kind) {
	case BT_WORKFLOW:
		sql = "SELECT " RUN_COLS "r.conclusion, r.head_branch, r.created_at, "
		      "CASE WHEN r.status IS NOT 'completed' THEN 0 WHEN r.conclusion = 'success' THEN 1 "
		      "WHEN r.conclusion " FAILED " THEN 2 ELSE 0 END "
		      "FROM runs r WHERE r.workflow_name = ?1 AND r.head_sha IS NOT NULL";
		break;
	case BT_JOB:
		sql = "SELECT " RUN_COLS "j.conclusion, r.head_branch, r.created_at, "
		      "CASE WHEN j.status IS NOT 'completed' THEN 0 WHEN j.conclusion = 'success' THEN 1 "
		      "WHEN j.conclusion " FAILED " THEN 2 ELSE 0 END "
		      "FROM runs r JOIN jobs j ON j.run_id = r.id AND j.name = ?2 "
		      "WHERE r.workflow_name = ?1 AND r.head_sha IS NOT NULL";
		break;
	case BT_TEST:
		if (resolve_name(st, "test_results", "coalesce(classname || '.', '') || name", "name",
				 t->name, "test", &name, err) < 0)
			return -1;
		sql = "SELECT " RUN_COLS "CASE WHEN sum(x.outcome IN ('failed', 'error')) > 0 THEN 'failed' "
		      "ELSE 'passed' END, r.head_branch, r.created_at, "
		      "CASE WHEN sum(x.outcome IN ('failed', 'error')) > 0 THEN 2 "
		      "WHEN sum(x.outcome IN ('passed', 'flaky')) > 0 THEN 1 ELSE 0 END "
		      "FROM runs r JOIN test_results x ON x.run_id = r.id "
		      "WHERE (coalesce(x.classname || '.', '') || x.name = ?1) AND r.head_sha IS NOT NULL "
		      "GROUP BY r.id";
		break;
	case BT_FINDING:
		if (resolve_name(st, "triage_findings", "fingerprint", NULL, t->name, "finding", &name,
				 err) < 0)
			return -1;
		/* bad: the fingerprint shows in a failed job; good: the run passed, or
		 * it failed and every failed job was triaged without it (a failure of
		 * another kind says nothing against this one) */
		sql = "SELECT " RUN_COLS "r.conclusion, r.head_branch, r.created_at, "
		      "CASE WHEN EXISTS (SELECT 1 FROM jobs j JOIN triage_findings f ON f.job_id = j.id "
		      "  WHERE j.run_id = r.id AND f.fingerprint = ?1) THEN 2 "
		      "WHEN r.status IS NOT 'completed' THEN 0 WHEN r.conclusion = 'success' THEN 1 "
		      "WHEN r.conclusion " FAILED " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id "
		      "  AND j.conclusion " FAILED " AND j.id NOT IN (SELECT job_id FROM triage_jobs)) THEN 1 "
		      "ELSE 0 END "
		      "FROM runs r WHERE r.head_sha IS NOT NULL AND r.workflow_name IN ("
		      "  SELECT DISTINCT r2.workflow_name FROM triage_findings f JOIN jobs j ON j.id = f.job_id "
		      "  JOIN runs r2 ON r2.id = j.run_id WHERE f.fingerprint = ?1)";
		break;
	case BT_METRIC:
		sql = t->above
			? "SELECT " RUN_COLS "r.conclusion, r.head_branch, r.created_at, "
			  "CASE WHEN max(p.value) > ?2 THEN 2 ELSE 1 END, printf('%g', max(p.value)) "
			  "FROM runs r JOIN metric_series s ON s.run_id = r.id AND s.name = ?1 "
			  "JOIN metric_points p ON p.series_id = s.id "
			  "WHERE p.value IS NOT NULL AND r.head_sha IS NOT NULL GROUP BY r.id"
			: "SELECT " RUN_COLS "r.conclusion, r.head_branch, r.created_at, "
			  "CASE WHEN min(p.value) < ?2 THEN 2 ELSE 1 END, printf('%g', min(p.value)) "
			  "FROM runs r JOIN metric_series s ON s.run_id = r.id AND s.name = ?1 "
			  "JOIN metric_points p ON p.series_id = s.id "
			  "WHERE p.value IS NOT NULL AND r.head_sha IS NOT NULL GROUP BY r.id";
		break;
	case BT_PARITY:
		break;
	}
	sqlite3_stmt *s;
	if (store_prepare(st, sql, &s, "reading the target's runs", err) < 0) {
		buf_release(&name);
		return -1;
	}
	switch (t->kind) {
	case BT_WORKFLOW: sql_bind_text(s, 1, t->workflow); break;
	case BT_JOB: sql_bind_text(s, 1, t->workflow); sql_bind_text(s, 2, t->job); break;
	case BT_TEST: case BT_FINDING: sql_bind_text(s, 1, buf_cstr(&name)); break;
	case BT_METRIC: sql_bind_text(s, 1, t->name); sqlite3_bind_double(s, 2, t->bound); break;
	case BT_PARITY: break;
	}
	buf_release(&name);
	if (store_collect(st, s, take_tv, out, "reading the target's runs", err) < 0) {
		bisect_tvs_release(out);
		return -1;
	}
	if (out->n)
		qsort(out->v, (size_t)out->n, sizeof(*out->v), cmp_tv);
	return 0;
}

int bisect_tvs_find(const struct tvs *t, const char *sha, int *first)
{
	int lo = 0, hi = t->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].sha, sha) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	int n = 0;
	while (lo + n < t->n && !strcmp(t->v[lo + n].sha, sha))
		n++;
	return n;
}

/* How often the target's verdict disagrees with itself on one commit: the
 * minority share of the runs on commits with two or more, smoothed toward
 * 5% (20 pseudo-runs) so a short history does not claim certainty. */
double bisect_flake_rate(const struct tvs *t)
{
	double minority = 0, total = 0;
	for (int i = 0; i < t->n;) {
		int j = i, g = 0, b = 0;
		while (j < t->n && !strcmp(t->v[j].sha, t->v[i].sha)) {
			if (t->v[j].v == BV_GOOD)
				g++;
			else
				b++;
			j++;
		}
		if (g + b >= 2) {
			minority += g < b ? g : b;
			total += g + b;
		}
		i = j;
	}
	double e = (minority + 1.0) / (total + 20.0);
	return e < 0.005 ? 0.005 : e > 0.45 ? 0.45 : e;
}
