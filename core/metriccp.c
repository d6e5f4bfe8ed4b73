/* metriccp.c - change points in a metric's history (see metrics.h): E-divisive
 * means with a permutation test, and the stored change points and their
 * acknowledgements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metricsint.h"
#include "storesql.h"

/* --- change points: E-divisive means ------------------------------------------------- */
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
	return st ? metric_cps_read_acks(st, h, err) : 0;
}

int metric_cps_read_acks(struct store *st, struct metric_hist *h, struct cs_err *err)
{
	int k = h->n_cps;
	if (!k)
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
