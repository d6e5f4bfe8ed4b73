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

/* The values v[base..n) are at vals[0..n-base); a window or test that needs
 * one before base cannot be computed (need_full): the incremental update
 * falls back to the whole series. */
struct cp_work {
	const double *vals;
	long base, n;
	const struct cp_conf *c;
	double *tmp, *S;
	long *cand;
	size_t n_cand, alloc;
	struct cp_memo *memo;   /* sorted by (prev, c, next) */
	size_t n_memo, memo_alloc;
	bool need_full;
};

/* p-value of qobs against permutations of v[a..b): fixed_t < 0 tests the
 * best split (segmentation), else the split at fixed_t. Stops early once
 * the p-value cannot reach max_pvalue: only significant values are exact. */
static double perm_p(struct cp_work *w, long a, long b, long fixed_t, double qobs)
{
	long n = b - a;
	memcpy(w->tmp, w->vals + (a - w->base), (size_t)n * sizeof(double));
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
	long t = best_split(w->vals + (a - w->base), b - a, w->S, &q);
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

static int memo_cmp(long p, long c, long n, const struct cp_memo *m)
{
	if (p != m->prev)
		return p < m->prev ? -1 : 1;
	if (c != m->c)
		return c < m->c ? -1 : 1;
	return n < m->next ? -1 : n > m->next;
}

/* The memo's entry of (prev, c, next), or where it goes (*found false). */
static size_t memo_find(const struct cp_work *w, long p, long c, long n, bool *found)
{
	size_t lo = 0, hi = w->n_memo;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = memo_cmp(p, c, n, &w->memo[mid]);
		if (!r) {
			*found = true;
			return mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

/* Test candidate i of k against its neighbours (windows capped). The
 * result depends on v[prev..next) alone: it is kept in the memo under
 * (prev, c, next), so the values before an appended tail need not be read
 * again. */
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
	bool found;
	size_t at = memo_find(w, prev, c[i], next, &found);
	if (found) {
		w->memo[at].used = true;
		*p = w->memo[at].p;
		*mag = w->memo[at].mag;
		return;
	}
	if (prev < w->base) {
		w->need_full = true;
		*p = 1;
		*mag = 0;
		return;
	}
	const double *v = w->vals;
	long o = w->base;
	w->S[0] = 0;
	for (long j = prev; j < next; j++)
		w->S[j - prev + 1] = w->S[j - prev] + v[j - o];
	double q = split_q(w->S, next - prev, c[i] - prev);
	*mag = rel_change(mean_of(v + (prev - o), 0, c[i] - prev),
			  mean_of(v + (c[i] - o), 0, next - c[i]));
	*p = q > 0 ? perm_p(w, prev, next, c[i] - prev, q) : 1;
	XGROW(w->memo, w->memo_alloc, w->n_memo + 1);
	memmove(&w->memo[at + 1], &w->memo[at], (w->n_memo - at) * sizeof(*w->memo));
	w->memo[at] = (struct cp_memo){.prev = prev, .c = c[i], .next = next, .p = *p,
				       .mag = *mag, .used = true};
	w->n_memo++;
}

void cp_state_release(struct cp_state *s)
{
	free(s->cand);
	free(s->cand_S);
	free(s->cand_run);
	free(s->tail);
	free(s->tail_run);
	free(s->memo);
	memset(s, 0, sizeof(*s));
}

static int cmp_cand_rec(const void *a, const void *b)
{
	const long *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The prefix sum v[0..i) where it is known: 0, a candidate of in, or
 * from base on (L the prefix sums from base). */
static bool prefix_at(const struct cp_state *in, const double *L, long base, long i, double *out)
{
	if (i >= base) {
		*out = L[i - base];
		return true;
	}
	if (i == 0) {
		*out = 0;
		return true;
	}
	for (size_t j = 0; in && j < in->n_cand; j++)
		if (in->cand[j] == i) {
			*out = in->cand_S[j];
			return true;
		}
	return false;
}

int cp_run(const double *vals, const int64_t *runs, long base, double S_base, long n,
	   const struct cp_conf *conf, const struct cp_state *in, struct cp_state *out,
	   struct metric_cp **cps_out)
{
	*cps_out = NULL;
	if (out)
		memset(out, 0, sizeof(*out));
	struct cp_conf c = *conf;
	if (c.window < 2 * MINSEG)
		c.window = 50;
	long W = c.window, step = MAX(1, W / 2);
	long a0 = in ? in->a_next : 0;
	if (in && (in->n > n || base > a0 || base < in->T))
		return -2;
	struct cp_work w = {.vals = vals, .base = base, .n = n, .c = &c};
	w.tmp = xmalloc((size_t)(n - base + 1) * sizeof(double));
	w.S = xmalloc((size_t)(n - base + 2) * sizeof(double));
	double *L = xmalloc((size_t)(n - base + 1) * sizeof(double));
	L[0] = S_base;
	for (long i = base; i < n; i++)
		L[i - base + 1] = L[i - base] + vals[i - base];
	if (in && in->n_memo) {
		w.memo = xmalloc(in->n_memo * sizeof(*w.memo));
		memcpy(w.memo, in->memo, in->n_memo * sizeof(*w.memo));
		w.n_memo = w.memo_alloc = in->n_memo;
		for (size_t i = 0; i < w.n_memo; i++)
			w.memo[i].used = false;
	}
	/* the windows: those that end by n_old are the state's candidates */
	long a_next = a0;
	size_t n_stable_new = 0;
	/* (no point appended: the last window of the state reached n) */
	if (n >= 2 * MINSEG && !(a0 > 0 && a0 - step + W >= n)) {
		for (long a = a0;; a += step) {
			long b = MIN(n, a + W);
			segment(&w, a, b, 0);
			if (a + W <= n) {
				n_stable_new = w.n_cand;
				a_next = a + step;
			}
			if (b >= n)
				break;
		}
	}
	/* every candidate: the state's and the windows' (sorted, unique) */
	size_t n_in = in ? in->n_cand : 0;
	long *all = xmalloc((w.n_cand + n_in + 1) * sizeof(long));
	for (size_t i = 0; i < n_in; i++)
		all[i] = in->cand[i];
	if (w.n_cand)
		memcpy(all + n_in, w.cand, w.n_cand * sizeof(long));
	size_t tot = n_in + w.n_cand;
	if (tot)
		qsort(all, tot, sizeof(long), cmp_long);
	long k = 0;
	for (size_t i = 0; i < tot; i++)
		if (!k || all[k - 1] != all[i])
			all[k++] = all[i];
	/* merge: drop the weakest point until all hold; neighbours retested */
	double *p = xmalloc((size_t)(k + 1) * sizeof(double));
	double *mag = xmalloc((size_t)(k + 1) * sizeof(double));
	for (long i = 0; i < k && !w.need_full; i++)
		test_cand(&w, all, k, i, &p[i], &mag[i]);
	while (!w.need_full) {
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
		memmove(&all[weak], &all[weak + 1], (size_t)(k - weak - 1) * sizeof(long));
		memmove(&p[weak], &p[weak + 1], (size_t)(k - weak - 1) * sizeof(double));
		memmove(&mag[weak], &mag[weak + 1], (size_t)(k - weak - 1) * sizeof(double));
		k--;
		if (weak > 0)
			test_cand(&w, all, k, weak - 1, &p[weak - 1], &mag[weak - 1]);
		if (weak < k)
			test_cand(&w, all, k, weak, &p[weak], &mag[weak]);
	}
	struct metric_cp *cps = NULL;
	int rc = -2;
	if (w.need_full)
		goto out;
	/* the levels' means from prefix sums: the same bits whether the sums
	 * before base came from the state or were added up again */
	cps = k ? xcalloc((size_t)k, sizeof(*cps)) : NULL;
	for (long i = 0; i < k; i++) {
		long a = i ? all[i - 1] : 0, b = i + 1 < k ? all[i + 1] : n;
		double Pa, Pc, Pb;
		if (!prefix_at(in, L, base, a, &Pa) || !prefix_at(in, L, base, all[i], &Pc) ||
		    !prefix_at(in, L, base, b, &Pb)) {
			free(cps);
			cps = NULL;
			goto out;
		}
		cps[i].idx = all[i];
		cps[i].before = (Pc - Pa) / (double)(all[i] - a);
		cps[i].after = (Pb - Pc) / (double)(b - all[i]);
		cps[i].change = rel_change(cps[i].before, cps[i].after);
		cps[i].pvalue = p[i];
	}
	rc = (int)k;
	if (!out)
		goto out;
	/* the state for the next append */
	out->n = n;
	out->a_next = a_next;
	size_t ns = n_in + n_stable_new;
	long *rec = xmalloc((ns + 1) * 3 * sizeof(long));
	size_t m = 0;
	for (size_t i = 0; i < n_in; i++, m++) {
		rec[3 * m] = in->cand[i];
		rec[3 * m + 1] = (long)i;   /* from the state */
		rec[3 * m + 2] = 0;
	}
	for (size_t i = 0; i < n_stable_new; i++, m++) {
		rec[3 * m] = w.cand[i];
		rec[3 * m + 1] = -1;
		rec[3 * m + 2] = 0;
	}
	qsort(rec, m, 3 * sizeof(long), cmp_cand_rec);
	out->cand = xmalloc((m + 1) * sizeof(long));
	out->cand_S = xmalloc((m + 1) * sizeof(double));
	out->cand_run = xmalloc((m + 1) * sizeof(int64_t));
	for (size_t i = 0; i < m; i++) {
		long ci = rec[3 * i];
		if (out->n_cand && out->cand[out->n_cand - 1] == ci)
			continue;
		size_t j = out->n_cand++;
		out->cand[j] = ci;
		if (rec[3 * i + 1] >= 0) {
			out->cand_S[j] = in->cand_S[rec[3 * i + 1]];
			out->cand_run[j] = in->cand_run[rec[3 * i + 1]];
		} else {
			out->cand_S[j] = L[ci - base];
			out->cand_run[j] = runs ? runs[ci - base] : 0;
		}
	}
	free(rec);
	long T = MAX(base, MIN(a_next, n - 4 * W));
	out->T = T;
	out->S_T = L[T - base];
	out->tail = xmalloc((size_t)(n - T + 1) * sizeof(double));
	out->tail_run = xmalloc((size_t)(n - T + 1) * sizeof(int64_t));
	for (long i = T; i < n; i++) {
		out->tail[i - T] = vals[i - base];
		out->tail_run[i - T] = runs ? runs[i - base] : 0;
	}
	out->memo = xmalloc((w.n_memo + 1) * sizeof(*out->memo));
	for (size_t i = 0; i < w.n_memo; i++)
		if (w.memo[i].used)
			out->memo[out->n_memo++] = w.memo[i];
out:
	free(w.tmp);
	free(w.S);
	free(L);
	free(w.cand);
	free(w.memo);
	free(all);
	free(p);
	free(mag);
	if (rc < 0 && out)
		cp_state_release(out);
	*cps_out = cps;
	return rc;
}

int cp_detect(const double *v, long n, const struct cp_conf *conf, long **idx, double **pvalue)
{
	*idx = NULL;
	if (pvalue)
		*pvalue = NULL;
	struct metric_cp *cps;
	int k = cp_run(v, NULL, 0, 0, n, conf, NULL, NULL, &cps);
	if (k <= 0) {
		free(cps);
		return 0;
	}
	*idx = xmalloc((size_t)k * sizeof(long));
	if (pvalue)
		*pvalue = xmalloc((size_t)k * sizeof(double));
	for (int i = 0; i < k; i++) {
		(*idx)[i] = cps[i].idx;
		if (pvalue)
			(*pvalue)[i] = cps[i].pvalue;
	}
	free(cps);
	return k;
}

int metrics_changepoints_state(struct metric_hist *h, const struct cp_conf *c, struct cp_state *out)
{
	double *v = xmalloc((size_t)(h->n + 1) * sizeof(double));
	int64_t *runs = xmalloc((size_t)(h->n + 1) * sizeof(int64_t));
	for (long i = 0; i < h->n; i++) {
		v[i] = h->pts[i].value;
		runs[i] = h->pts[i].run;
	}
	struct metric_cp *cps;
	int k = cp_run(v, runs, 0, 0, h->n, c, NULL, out, &cps);
	free(v);
	free(runs);
	if (k < 0)
		return -1;
	h->cps = cps;
	h->n_cps = k;
	h->cps_done = true;
	return 0;
}

int metrics_changepoints(struct store *st, struct metric_hist *h, const struct cp_conf *c,
			 struct cs_err *err)
{
	if (h->cps_done)
		return 0;
	if (metrics_changepoints_state(h, c, NULL) < 0)
		return -1;
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

/* --- the state as a blob: a version, counts, then the arrays (host byte
 * order: the index is not moved between machines of another order) ------ */
#define CP_STATE_VERSION 1

void cp_state_encode(const struct cp_state *s, struct buf *out)
{
	int64_t hdr[8] = {CP_STATE_VERSION, s->n, s->a_next, (int64_t)s->n_cand, s->T,
			  (int64_t)s->n_memo, 0, 0};
	buf_add(out, hdr, sizeof(hdr));
	buf_add(out, &s->S_T, sizeof(double));
	for (size_t i = 0; i < s->n_cand; i++) {
		int64_t c = s->cand[i];
		buf_add(out, &c, sizeof(c));
		buf_add(out, &s->cand_S[i], sizeof(double));
		buf_add(out, &s->cand_run[i], sizeof(int64_t));
	}
	for (long i = 0; i < s->n - s->T; i++) {
		buf_add(out, &s->tail[i], sizeof(double));
		buf_add(out, &s->tail_run[i], sizeof(int64_t));
	}
	for (size_t i = 0; i < s->n_memo; i++) {
		int64_t k[3] = {s->memo[i].prev, s->memo[i].c, s->memo[i].next};
		buf_add(out, k, sizeof(k));
		buf_add(out, &s->memo[i].p, sizeof(double));
		buf_add(out, &s->memo[i].mag, sizeof(double));
	}
}

bool cp_state_decode(const void *blob, size_t n, struct cp_state *out)
{
	memset(out, 0, sizeof(*out));
	const unsigned char *b = blob;
	int64_t hdr[8];
	if (!blob || n < sizeof(hdr) + sizeof(double))
		return false;
	memcpy(hdr, b, sizeof(hdr));
	if (hdr[0] != CP_STATE_VERSION || hdr[1] < 0 || hdr[4] < 0 || hdr[4] > hdr[1] ||
	    hdr[2] < 0 || hdr[3] < 0 || hdr[5] < 0 || hdr[3] > (int64_t)n || hdr[5] > (int64_t)n ||
	    hdr[1] - hdr[4] > (int64_t)n)
		return false;
	size_t need = sizeof(hdr) + sizeof(double) + (size_t)hdr[3] * 24 +
		      (size_t)(hdr[1] - hdr[4]) * 16 + (size_t)hdr[5] * 40;
	if (need != n)
		return false;
	out->n = (long)hdr[1];
	out->a_next = (long)hdr[2];
	out->n_cand = (size_t)hdr[3];
	out->T = (long)hdr[4];
	out->n_memo = (size_t)hdr[5];
	size_t o = sizeof(hdr);
	memcpy(&out->S_T, b + o, sizeof(double));
	o += sizeof(double);
	out->cand = xmalloc((out->n_cand + 1) * sizeof(long));
	out->cand_S = xmalloc((out->n_cand + 1) * sizeof(double));
	out->cand_run = xmalloc((out->n_cand + 1) * sizeof(int64_t));
	for (size_t i = 0; i < out->n_cand; i++, o += 24) {
		int64_t c;
		memcpy(&c, b + o, 8);
		out->cand[i] = (long)c;
		memcpy(&out->cand_S[i], b + o + 8, 8);
		memcpy(&out->cand_run[i], b + o + 16, 8);
	}
	long nt = out->n - out->T;
	out->tail = xmalloc((size_t)(nt + 1) * sizeof(double));
	out->tail_run = xmalloc((size_t)(nt + 1) * sizeof(int64_t));
	for (long i = 0; i < nt; i++, o += 16) {
		memcpy(&out->tail[i], b + o, 8);
		memcpy(&out->tail_run[i], b + o + 8, 8);
	}
	out->memo = xmalloc((out->n_memo + 1) * sizeof(*out->memo));
	for (size_t i = 0; i < out->n_memo; i++, o += 40) {
		int64_t k[3];
		memcpy(k, b + o, sizeof(k));
		out->memo[i].prev = (long)k[0];
		out->memo[i].c = (long)k[1];
		out->memo[i].next = (long)k[2];
		memcpy(&out->memo[i].p, b + o + 24, 8);
		memcpy(&out->memo[i].mag, b + o + 32, 8);
		out->memo[i].used = false;
	}
	return true;
}
