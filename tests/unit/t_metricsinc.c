/* t_metricsinc.c - change points brought up to date as points are appended
 * (core/metrics.h, cp_run with a state): after every append the answer
 * must be the one the whole series gives, bit for bit, and most appends
 * must not need the values before the kept tail (the memo of the merge's
 * tests does its work). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "test.h"

static double noise(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(*s >> 11) / (double)(1ULL << 53)) * 2 - 1;
}

static bool same_bits(double a, double b)
{
	return !memcmp(&a, &b, sizeof(a));
}

/* series kind: planted steps of 2-20 % under 2 % noise with outliers and
 * missing points; a level that comes and goes; pure noise */
static long gen(int kind, uint64_t seed, double *v, long max)
{
	uint64_t s = seed;
	long n = 0;
	double level = 100;
	for (long i = 0; n < max; i++) {
		if (kind == 0 && i > 0 && i % 70 == 0)
			level *= 1 + (0.02 + 0.18 * (noise(&s) + 1) / 2) * (noise(&s) > 0 ? 1 : -1);
		if (kind == 1)
			level = (i / 40) % 3 == 1 ? 115 : 100;
		if (noise(&s) > 0.9)
			continue; /* a missing run */
		double x = level * (1 + 0.02 * noise(&s));
		if (noise(&s) > 0.98)
			x *= 1.5; /* an outlier */
		v[n++] = x;
	}
	return n;
}

/* Append the points of v one at a time from the state; compare with the
 * whole series every time. Returns how many appends fell back. */
static long append_all(const double *v, long n, const struct cp_conf *c)
{
	int64_t *runs = xmalloc((size_t)n * sizeof(int64_t));
	for (long i = 0; i < n; i++)
		runs[i] = 1000 + i;
	struct cp_state st = {0};
	struct metric_cp *cps;
	CHECK(cp_run(v, runs, 0, 0, 1, c, NULL, &st, &cps) == 0);
	free(cps);
	long fallbacks = 0;
	double *buf = xmalloc((size_t)(n + 1) * sizeof(double));
	int64_t *rbuf = xmalloc((size_t)(n + 1) * sizeof(int64_t));
	for (long m = 2; m <= n; m++) {
		/* what the cache has: the state's tail, then the new point */
		long nt = st.n - st.T;
		memcpy(buf, st.tail, (size_t)nt * sizeof(double));
		memcpy(rbuf, st.tail_run, (size_t)nt * sizeof(int64_t));
		buf[nt] = v[m - 1];
		rbuf[nt] = runs[m - 1];
		struct cp_state next;
		struct metric_cp *inc;
		int k = cp_run(buf, rbuf, st.T, st.S_T, m, c, &st, &next, &inc);
		struct cp_state fst;
		struct metric_cp *full;
		int kf = cp_run(v, runs, 0, 0, m, c, NULL, &fst, &full);
		CHECK(kf >= 0);
		if (k == -2) {
			fallbacks++;
			cp_state_release(&st);
			st = fst;
			free(full);
			continue;
		}
		CHECK_INT(k, kf);
		for (int i = 0; i < k && i < kf; i++) {
			CHECK_INT(inc[i].idx, full[i].idx);
			CHECK(same_bits(inc[i].before, full[i].before));
			CHECK(same_bits(inc[i].after, full[i].after));
			CHECK(same_bits(inc[i].change, full[i].change));
			CHECK(same_bits(inc[i].pvalue, full[i].pvalue));
		}
		/* and the states agree on what later appends read */
		CHECK_INT(next.n, fst.n);
		CHECK_INT(next.a_next, fst.a_next);
		CHECK_INT((long)next.n_cand, (long)fst.n_cand);
		for (size_t i = 0; i < next.n_cand && i < fst.n_cand; i++) {
			CHECK_INT(next.cand[i], fst.cand[i]);
			CHECK(same_bits(next.cand_S[i], fst.cand_S[i]));
			CHECK_INT(next.cand_run[i], fst.cand_run[i]);
		}
		/* through the blob, as the cache keeps it */
		struct buf b = BUF_INIT;
		cp_state_encode(&next, &b);
		struct cp_state back;
		CHECK(cp_state_decode(b.data, b.len, &back));
		CHECK_INT(back.n, next.n);
		CHECK_INT((long)back.n_memo, (long)next.n_memo);
		CHECK(same_bits(back.S_T, next.S_T));
		struct cp_state cut;
		CHECK(!cp_state_decode(b.data, b.len - 1, &cut) || (cp_state_release(&cut), 0));
		buf_release(&b);
		cp_state_release(&next);
		cp_state_release(&st);
		st = back;
		cp_state_release(&fst);
		free(inc);
		free(full);
	}
	cp_state_release(&st);
	free(buf);
	free(rbuf);
	free(runs);
	return fallbacks;
}

TEST(cp_incremental_equals_full)
{
	struct cp_conf c;
	cp_conf_default(&c);
	static double v[700];
	long total = 0, fb = 0;
	for (int kind = 0; kind < 3; kind++) {
		long n = gen(kind, 40 + (uint64_t)kind * 7, v, kind == 0 ? 450 : 300);
		long f = append_all(v, n, &c);
		fb += f;
		total += n;
		printf("  kind %d: %ld appends, %ld fell back to the whole series\n", kind, n, f);
	}
	/* the memo keeps the merge's tests: a fallback is rare */
	CHECK(fb * 20 < total);
	/* other settings: a narrow window, a magnitude floor */
	c.window = 20;
	c.min_magnitude = 0.05;
	long n = gen(0, 99, v, 300);
	CHECK(append_all(v, n, &c) * 20 < n);
}

TEST(cp_state_decode_hostile)
{
	struct cp_state s;
	unsigned char junk[200];
	memset(junk, 0xff, sizeof(junk));
	CHECK(!cp_state_decode(junk, sizeof(junk), &s));
	CHECK(!cp_state_decode(NULL, 0, &s));
	int64_t hdr[8] = {1, 10, 0, 1000000000000LL, 0, 0, 0, 0};
	memcpy(junk, hdr, sizeof(hdr));
	CHECK(!cp_state_decode(junk, sizeof(junk), &s));
}
