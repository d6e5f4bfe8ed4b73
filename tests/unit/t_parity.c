/* t_parity.c - the parity report against hand-computed values: the
 * tolerance rule (numpy semantics, relative to the reference), ULPs,
 * NaN/infinity/missing rules, first and sustained violations, worst excess,
 * norms, the verdict; the configuration language and its layers; channels
 * formed from real imported run folders (CSV, JSONL, a summary.json),
 * run against run, metric comparison; hostile input. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/artifact.h"
#include "core/import.h"
#include "core/parity.h"
#include "core/store.h"
#include "core/util.h"
#include "test.h"
#include "testdemo.h"

#define CHECK_NEAR(a, b, eps)                                                          \
	do {                                                                           \
		double a_ = (a), b_ = (b);                                             \
		if (!(fabs(a_ - b_) <= (eps)))                                         \
			t_fail(__FILE__, __LINE__, "%s == %.17g, expected %.17g", #a, a_, b_); \
	} while (0)

static struct parity_tol tol_of(double atol, double rtol, uint64_t ulps, int k)
{
	struct parity_tol t;
	memset(&t, 0, sizeof(t));
	t.atol = atol;
	t.rtol = rtol;
	t.max_ulps = ulps;
	t.sustained = k;
	return t;
}

/* --- ULPs and one step --------------------------------------------------------------- */
TEST(ulps_by_hand)
{
	CHECK_INT(parity_ulps(1.0, 1.0), 0);
	CHECK_INT(parity_ulps(1.0, nextafter(1.0, 2.0)), 1);
	CHECK_INT(parity_ulps(nextafter(1.0, 0.0), nextafter(1.0, 2.0)), 2);
	/* -0 and +0 are the same number */
	CHECK_INT(parity_ulps(-0.0, 0.0), 0);
	/* the smallest subnormals on both sides of zero: two steps apart */
	CHECK_INT(parity_ulps(-4.9406564584124654e-324, 4.9406564584124654e-324), 2);
	CHECK_INT(parity_ulps(-1.0, nextafter(-1.0, -2.0)), 1);
	CHECK(parity_ulps(1.0, INFINITY) == UINT64_MAX);
	CHECK(parity_ulps(NAN, 1.0) == UINT64_MAX);
	/* symmetric */
	CHECK_INT(parity_ulps(2.0, 1.0), parity_ulps(1.0, 2.0));
	/* 1.0 to 2.0: 2^52 doubles */
	CHECK(parity_ulps(1.0, 2.0) == (uint64_t)1 << 52);
}

TEST(judge_numpy_rule_is_relative_to_the_reference)
{
	struct parity_tol t = tol_of(1e-3, 0.1, 0, 1);
	struct parity_step s;
	/* ref 10: tol = 0.001 + 1.0 */
	parity_judge(&t, 10, PV_OK, 11, PV_OK, false, &s);
	CHECK(s.compared && !s.violation);
	CHECK_NEAR(s.tol, 1.001, 1e-12);
	CHECK_NEAR(s.excess, 1.0 / 1.001, 1e-12);
	parity_judge(&t, 10, PV_OK, 11.01, PV_OK, false, &s);
	CHECK(s.violation);
	CHECK_NEAR(s.excess, 1.01 / 1.001, 1e-9);
	/* swapped: ref 11 makes the tolerance larger, so the pair passes the
	 * other way round (numpy.isclose is not symmetric) */
	parity_judge(&t, 11.01, PV_OK, 10, PV_OK, false, &s);
	CHECK(!s.violation);
	/* exactly on the bound passes (<=) */
	t = tol_of(0.5, 0, 0, 1);
	parity_judge(&t, 1, PV_OK, 1.5, PV_OK, false, &s);
	CHECK(!s.violation);
	CHECK_NEAR(s.excess, 1.0, 0);
	/* tolerance 0: any difference is an infinite excess */
	t = tol_of(0, 0, 0, 1);
	parity_judge(&t, 0, PV_OK, 1e-300, PV_OK, false, &s);
	CHECK(s.violation && isinf(s.excess));
	CHECK(isinf(s.rel_err));
	parity_judge(&t, 3, PV_OK, 3, PV_OK, false, &s);
	CHECK(!s.violation && s.excess == 0);
}

TEST(judge_ulps_allowance)
{
	struct parity_tol t = tol_of(0, 0, 2, 1);
	struct parity_step s;
	double two = nextafter(nextafter(1.0, 2.0), 2.0), three = nextafter(two, 2.0);
	parity_judge(&t, 1.0, PV_OK, two, PV_OK, false, &s);
	CHECK(!s.violation);
	CHECK_INT(s.ulps, 2);
	CHECK_NEAR(s.excess, 1.0, 0);
	parity_judge(&t, 1.0, PV_OK, three, PV_OK, false, &s);
	CHECK(s.violation);
	CHECK_NEAR(s.excess, 1.5, 0);
	/* the ULP bound is an allowance beside atol: a difference within atol
	 * passes even when it is many ULPs */
	t = tol_of(1e-9, 0, 2, 1);
	parity_judge(&t, 1.0, PV_OK, 1.0 + 1e-10, PV_OK, false, &s);
	CHECK(!s.violation);
	CHECK(s.ulps > 2);
	CHECK_NEAR(s.excess, 0.1, 1e-6);
}

TEST(judge_nan_inf_missing)
{
	struct parity_tol t = tol_of(1e-6, 1e-6, 0, 1);
	struct parity_step s;
	/* NaN on both sides: equal by default (assert_allclose equal_nan) */
	parity_judge(&t, NAN, PV_OK, NAN, PV_OK, false, &s);
	CHECK(s.compared && !s.violation);
	CHECK(isnan(s.abs_err));
	t.nan = PARITY_NAN_DIFFER;
	parity_judge(&t, NAN, PV_OK, NAN, PV_OK, false, &s);
	CHECK(s.violation && isinf(s.excess));
	t.nan = PARITY_NAN_EQUAL;
	/* NaN on one side: always a violation */
	parity_judge(&t, 1, PV_OK, NAN, PV_OK, false, &s);
	CHECK(s.violation && isinf(s.excess));
	parity_judge(&t, NAN, PV_OK, 1, PV_OK, false, &s);
	CHECK(s.violation);
	/* infinities: equal only to themselves */
	parity_judge(&t, INFINITY, PV_OK, INFINITY, PV_OK, false, &s);
	CHECK(s.compared && !s.violation);
	parity_judge(&t, -INFINITY, PV_OK, -INFINITY, PV_OK, false, &s);
	CHECK(!s.violation);
	parity_judge(&t, INFINITY, PV_OK, -INFINITY, PV_OK, false, &s);
	CHECK(s.violation);
	parity_judge(&t, INFINITY, PV_OK, 1e308, PV_OK, false, &s);
	CHECK(s.violation && isinf(s.excess));
	parity_judge(&t, 1e308, PV_OK, INFINITY, PV_OK, false, &s);
	CHECK(s.violation);
	/* missing: both sides skip, one side is a violation unless `missing skip` */
	parity_judge(&t, 0, PV_MISSING, 0, PV_MISSING, false, &s);
	CHECK(!s.compared);
	parity_judge(&t, 1, PV_OK, 0, PV_MISSING, false, &s);
	CHECK(s.compared && s.violation && isinf(s.excess));
	t.missing = PARITY_MISSING_SKIP;
	parity_judge(&t, 1, PV_OK, 0, PV_MISSING, false, &s);
	CHECK(!s.compared);
}

TEST(judge_delta_channel)
{
	struct parity_tol t = tol_of(0.01, 0.1, 5, 1);
	struct parity_step s;
	/* a delta with its reference: |delta| <= atol + rtol*|ref| */
	parity_judge(&t, 2.0, PV_OK, 0.2, PV_OK, true, &s);
	CHECK(!s.violation);
	CHECK_NEAR(s.excess, 0.2 / 0.21, 1e-12);
	/* without the reference: atol alone (ULPs need both values) */
	parity_judge(&t, 0, PV_MISSING, 0.02, PV_OK, true, &s);
	CHECK(s.compared && s.violation);
	CHECK_NEAR(s.excess, 2.0, 1e-12);
	CHECK(isnan(s.rel_err)); /* no reference, no relative error */
	/* a missing delta is one-sided missing */
	parity_judge(&t, 0, PV_MISSING, 0, PV_MISSING, true, &s);
	CHECK(s.compared && s.violation);
	parity_judge(&t, 0, PV_MISSING, NAN, PV_OK, true, &s);
	CHECK(s.violation && isinf(s.excess));
}

/* --- a channel by hand --------------------------------------------------------------- */
/* steps 10..19, ref 1, cand 1 + d with atol 0.1 (rtol 0):
 *   d     0  .05  .2   0  .15  .3  .12  0   0   0
 *   viol  -   -   x    -   x    x   x   -   -   -
 * first violation 12; with K = 3 the run 14,15,16 is sustained from 14;
 * worst excess 3 at 15; max |d| .3 at 15; norm1 .82; norm2 sqrt(.1694). */
static const double hand_d[10] = {0, 0.05, 0.2, 0, 0.15, 0.3, 0.12, 0, 0, 0};

static void hand_data(struct parity_data *d, double *x, double *ref, double *cand)
{
	for (int i = 0; i < 10; i++) {
		x[i] = 10 + i;
		ref[i] = 1;
		cand[i] = 1 + hand_d[i];
	}
	memset(d, 0, sizeof(*d));
	d->n = 10;
	d->x = x;
	d->ref = ref;
	d->cand = cand;
}

TEST(channel_by_hand)
{
	double x[10], ref[10], cand[10];
	struct parity_data d;
	hand_data(&d, x, ref, cand);
	struct parity_tol t = tol_of(0.1, 0, 0, 3);
	struct parity_channel ch;
	memset(&ch, 0, sizeof(ch));
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_INT(ch.steps, 10);
	CHECK_INT(ch.violations, 4);
	CHECK(ch.first_violation.set);
	CHECK_NEAR(ch.first_violation.x, 12, 0);
	CHECK(ch.first_sustained.set);
	CHECK_NEAR(ch.first_sustained.x, 14, 0);
	CHECK(ch.worst.set);
	CHECK_NEAR(ch.worst.x, 15, 0);
	CHECK_NEAR(ch.worst.excess, 3.0, 1e-9);
	CHECK_NEAR(ch.worst.ref, 1.0, 0);
	CHECK_NEAR(ch.worst.cand, 1.3, 1e-15);
	CHECK_NEAR(ch.max_abs.x, 15, 0);
	CHECK_NEAR(ch.max_abs.value, 0.3, 1e-12);
	CHECK_NEAR(ch.max_rel.x, 15, 0);
	CHECK_NEAR(ch.max_rel.value, 0.3, 1e-12);
	CHECK_NEAR(ch.norm1, 0.82, 1e-12);
	CHECK_NEAR(ch.norm2, sqrt(0.1694), 1e-12);
	CHECK(ch.fail);
	/* the violating steps in order: 12, 14, 15, 16 */
	CHECK_INT(ch.n_first_steps, 4);
	CHECK_NEAR(ch.first_steps[0].x, 12, 0);
	CHECK_NEAR(ch.first_steps[0].excess, 2.0, 1e-9);
	CHECK_NEAR(ch.first_steps[0].cand, 1.2, 1e-15);
	CHECK_NEAR(ch.first_steps[3].x, 16, 0);
	CHECK(!ch.max_ulps.set); /* ULPs off */
	CHECK(ch.data == NULL);

	/* K = 4: never four in a row */
	t.sustained = 4;
	parity_channel_compute(&ch, &t, &d, true);
	CHECK(!ch.first_sustained.set);
	CHECK(ch.fail);
	CHECK(ch.data && ch.data->n == 10 && ch.data->cand[5] == cand[5]);
	/* verdict sustained: isolated violations do not fail */
	t.verdict = PARITY_VERDICT_SUSTAINED;
	parity_channel_compute(&ch, &t, &d, false);
	CHECK(!ch.fail);
	CHECK_INT(ch.violations, 4);
	/* K = 1: the first violation is sustained */
	t.sustained = 1;
	t.verdict = PARITY_VERDICT_ANY;
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_NEAR(ch.first_sustained.x, 12, 0);
	/* informational never fails */
	t.informational = true;
	parity_channel_compute(&ch, &t, &d, false);
	CHECK(!ch.fail);
	CHECK_INT(ch.violations, 4);
	/* a wide tolerance: nothing */
	t = tol_of(1, 0, 0, 3);
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_INT(ch.violations, 0);
	CHECK(!ch.first_violation.set && !ch.first_sustained.set && !ch.fail);
	CHECK_NEAR(ch.worst.excess, 0.3, 1e-12);
	CHECK(ch.data == NULL); /* compute without keep_data let the kept copy go */
}

TEST(channel_skipped_steps_neither_break_nor_extend_a_run)
{
	double x[10], ref[10], cand[10];
	struct parity_data d;
	hand_data(&d, x, ref, cand);
	/* violations at 14,15,16; make 15 missing on both sides */
	unsigned char rm[10] = {0}, cm[10] = {0};
	rm[5] = cm[5] = 1;
	d.ref_missing = rm;
	d.cand_missing = cm;
	struct parity_tol t = tol_of(0.1, 0, 0, 3);
	struct parity_channel ch;
	memset(&ch, 0, sizeof(ch));
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_INT(ch.steps, 9);
	CHECK_INT(ch.violations, 3);
	CHECK(!ch.first_sustained.set); /* 14 and 16: two, not three */
	t.sustained = 2;
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_NEAR(ch.first_sustained.x, 14, 0);
	/* without 15 the worst is .2 at 12 */
	CHECK_NEAR(ch.worst.x, 12, 0);
	CHECK_NEAR(ch.worst.excess, 2.0, 1e-9);
	/* one side missing at 18: a violation with infinite excess, not in the norms */
	cm[8] = 1;
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_INT(ch.violations, 4);
	CHECK_INT(ch.missing, 1);
	CHECK(isinf(ch.worst.excess));
	CHECK_NEAR(ch.worst.x, 18, 0);
	CHECK(isnan(ch.worst.cand));
	CHECK_NEAR(ch.norm1, 0.05 + 0.2 + 0.15 + 0.12, 1e-12);
}

TEST(channel_nan_and_ulps_by_hand)
{
	double x[5] = {1, 2, 3, 4, 5};
	double ref[5] = {1, NAN, INFINITY, 1, 0};
	double cand[5] = {1, NAN, INFINITY, 0, 0};
	cand[0] = nextafter(nextafter(nextafter(1.0, 2.0), 2.0), 2.0); /* 3 ULPs */
	cand[3] = nextafter(1.0, 0.0);                                  /* 1 ULP */
	struct parity_data d = {5, x, ref, cand, NULL, NULL};
	struct parity_tol t = tol_of(0, 0, 2, 1);
	struct parity_channel ch;
	memset(&ch, 0, sizeof(ch));
	parity_channel_compute(&ch, &t, &d, false);
	CHECK_INT(ch.steps, 5);
	CHECK_INT(ch.violations, 1);
	CHECK_NEAR(ch.first_violation.x, 1, 0);
	CHECK_NEAR(ch.worst.excess, 1.5, 0);
	CHECK(ch.max_ulps.set);
	CHECK_NEAR(ch.max_ulps.value, 3, 0);
	CHECK_NEAR(ch.max_ulps.x, 1, 0);
	/* the norms count the finite steps only: 1, 4 and 5 */
	CHECK_NEAR(ch.norm1, (cand[0] - 1) + (1 - cand[3]), 1e-30);
}

TEST(verdict_and_deciding_channel)
{
	struct parity_report rep;
	memset(&rep, 0, sizeof(rep));
	struct parity_channel chs[3];
	memset(chs, 0, sizeof(chs));
	chs[0].name = "energy";
	chs[0].fail = true;
	chs[0].first_violation = (struct parity_at){true, 607, 606, 2};
	chs[0].worst = (struct parity_worst){true, 1000, 999, 37.7, 0, 0};
	chs[1].name = "pos_x";
	chs[1].fail = true;
	chs[1].first_violation = (struct parity_at){true, 650, 649, 2};
	chs[1].worst = (struct parity_worst){true, 1000, 999, 90, 0, 0};
	chs[2].name = "resources";
	chs[2].tol.informational = true;
	chs[2].first_violation = (struct parity_at){true, 1, 0, 2};
	chs[2].worst = (struct parity_worst){true, 37, 36, 8e8, 0, 0};
	rep.channels = chs;
	rep.n_channels = 3;
	parity_report_decide(&rep);
	CHECK(rep.fail);
	/* the first to diverge decides, not the worst, not the informational one */
	CHECK_INT(rep.deciding, 0);
	chs[0].fail = chs[1].fail = false;
	chs[0].first_violation.set = chs[1].first_violation.set = false;
	chs[0].worst.excess = 0.93;
	chs[1].worst.excess = 0.5;
	parity_report_decide(&rep);
	CHECK(!rep.fail);
	CHECK_INT(rep.deciding, 0); /* closest to its tolerance, informational aside */
	rep.n_channels = 0;
	parity_report_decide(&rep);
	CHECK_INT(rep.deciding, -1);
	CHECK(!rep.fail);
}

/* --- configuration ------------------------------------------------------------------ */
TEST(conf_layers)
{
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	const char *repo = "# repo\n"
			   "defaults\n"
			   "\tsustained 3\n"
			   "channel pos_*\n"
			   "\tatol 1e-9\n"
			   "\tulps 4\n"
			   "channel resources\n"
			   "\tinformational\n";
	const char *builtin = "defaults   # every channel\n\trtol 1e-7\n\tsustained 5 # in a row\n"
			      "\tmissing skip\n"
			      "channel energy\n\trtol 1e-3\n";
	CHECK_OK(parity_conf_add_text(c, "repo.conf", repo, strlen(repo), false, &err));
	CHECK_OK(parity_conf_add_text(c, "builtin", builtin, strlen(builtin), true, &err));
	struct parity_scalar sc[] = {{"tolerance.atol", 1e-12, "p/summary.json"},
				     {"tolerance.rtol", 1e-9, "p/summary.json"},
				     {"tolerance.energy.rtol", 5e-9, "p/summary.json"}};
	struct parity_tol t;
	/* the repository's channel block */
	parity_conf_resolve(c, "pos_x", sc, 3, &t);
	CHECK_NEAR(t.atol, 1e-9, 0);
	CHECK_NEAR(t.rtol, 0, 0);
	CHECK_INT(t.max_ulps, 4);
	CHECK_INT(t.sustained, 3);
	CHECK_INT(t.missing, PARITY_MISSING_SKIP); /* from the built-in defaults */
	CHECK_STR(t.source, "repo.conf:4");
	/* no repository tolerance: the summary's own key for the channel */
	parity_conf_resolve(c, "energy", sc, 3, &t);
	CHECK_NEAR(t.atol, 0, 0);
	CHECK_NEAR(t.rtol, 5e-9, 0);
	CHECK_STR(t.source, "summary p/summary.json");
	/* the summary's run-wide keys */
	parity_conf_resolve(c, "resources", sc, 3, &t);
	CHECK_NEAR(t.atol, 1e-12, 0);
	CHECK_NEAR(t.rtol, 1e-9, 0);
	CHECK(t.informational);
	/* no summary: the built-in channel block, then its defaults */
	parity_conf_resolve(c, "energy", NULL, 0, &t);
	CHECK_NEAR(t.rtol, 1e-3, 0);
	CHECK_STR(t.source, "builtin:5");
	parity_conf_resolve(c, "other", NULL, 0, &t);
	CHECK_NEAR(t.rtol, 1e-7, 0);
	CHECK_INT(t.sustained, 3);
	CHECK(!t.informational);
	/* a prefixed run-wide key (parity.tolerance.atol) counts; a bare
	 * "energy.atol" is the channel's own */
	struct parity_scalar sc2[] = {{"parity.tolerance.atol", 2e-12, "s.json"},
				      {"energy.atol", 3e-12, "s.json"}};
	parity_conf_resolve(c, "other", sc2, 2, &t);
	CHECK_NEAR(t.atol, 2e-12, 0);
	parity_conf_resolve(c, "energy", sc2, 2, &t);
	CHECK_NEAR(t.atol, 3e-12, 0);
	parity_conf_free(c);
}

TEST(conf_builtin_and_pairing)
{
	struct cs_err err;
	err_clear(&err);
	unsetenv("CISCOPE_PARITY");
	struct parity_conf *c = parity_conf_load(NULL, &err);
	CHECK(c != NULL);
	if (!c)
		return;
	struct parity_tol t;
	parity_conf_resolve(c, "x", NULL, 0, &t);
	CHECK_NEAR(t.rtol, 1e-7, 0);
	CHECK_NEAR(t.atol, 0, 0);
	CHECK_INT(t.sustained, 5);
	struct buf name = BUF_INIT;
	CHECK_INT(parity_conf_side(c, "energy_ref", &name), PARITY_REF);
	CHECK_STR(name.data, "energy");
	CHECK_INT(parity_conf_side(c, "energy_reference", &name), PARITY_REF);
	CHECK_INT(parity_conf_side(c, "pos.x_candidate", &name), PARITY_CAND);
	CHECK_STR(name.data, "pos.x");
	CHECK_INT(parity_conf_side(c, "energy_delta", &name), PARITY_DELTA);
	CHECK_INT(parity_conf_side(c, "_ref", &name), PARITY_NONE); /* no name */
	CHECK_INT(parity_conf_side(c, "energy", &name), PARITY_NONE);
	parity_conf_free(c);
	/* a repository's own pairing replaces the built-in one per side */
	c = parity_conf_new();
	const char *txt = "pairing\n\tref ts.*\n\tcand rs.* *_port\n";
	CHECK_OK(parity_conf_add_text(c, "p.conf", txt, strlen(txt), false, &err));
	CHECK_INT(parity_conf_side(c, "ts.energy", &name), PARITY_REF);
	CHECK_STR(name.data, "energy");
	CHECK_INT(parity_conf_side(c, "energy_port", &name), PARITY_CAND);
	CHECK_INT(parity_conf_side(c, "energy_ref", &name), PARITY_NONE);
	CHECK_INT(parity_conf_side(c, "energy_delta", &name), PARITY_DELTA); /* default */
	parity_conf_free(c);
	buf_release(&name);
}

TEST(conf_errors_name_file_and_line)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"atol 1\n", "p.conf:1: 'atol' outside a block"},
		{"defaults\n\tatol -1\n", "p.conf:2: 'atol' needs a number >= 0, not '-1'"},
		{"defaults\n\trtol x\n", "p.conf:2: 'rtol' needs a number >= 0, not 'x'"},
		{"defaults\n\tatol nan\n", "p.conf:2: 'atol' needs a number"},
		{"defaults\n\tsustained 0\n", "p.conf:2: 'sustained' needs a number from 1"},
		{"defaults\n\tulps -3\n", "p.conf:2: 'ulps' needs a whole number"},
		{"defaults\n\tnan maybe\n", "p.conf:2: 'nan' is 'equal' or 'differ'"},
		{"defaults\n\tmissing x\n", "p.conf:2: 'missing' is 'violation' or 'skip'"},
		{"defaults\n\tverdict x\n", "p.conf:2: 'verdict' is 'any' or 'sustained'"},
		{"defaults\n\tfoo 1\n", "p.conf:2: unknown keyword 'foo'"},
		{"defaults\ndefaults\n", "p.conf:2: 'defaults' is given twice"},
		{"channel\n", "p.conf:1: 'channel' needs one name"},
		{"channel a b\n", "p.conf:1: 'channel' needs one name"},
		{"pairing\n\tref _ref\n", "p.conf:2: 'ref': pattern '_ref' needs exactly one '*'"},
		{"pairing\n\tref *a*\n", "p.conf:2: 'ref': pattern '*a*' needs exactly one '*'"},
		{"pairing\n\tref\n", "p.conf:2: 'ref' needs patterns"},
		{"pairing\n\tatol 1\n", "p.conf:2: unknown keyword 'atol' in 'pairing'"},
		{"defaults\n\tinformational yes\n", "p.conf:2: 'informational' takes no value"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cs_err err;
		err_clear(&err);
		struct parity_conf *c = parity_conf_new();
		int rc = parity_conf_add_text(c, "p.conf", bad[i].text, strlen(bad[i].text), false, &err);
		CHECK_INT(rc, -1);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			t_fail(__FILE__, __LINE__, "case %zu: '%s', expected '%s...'", i, err.msg,
			       bad[i].msg);
		parity_conf_free(c);
	}
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	CHECK_INT(parity_conf_add_text(c, "n.conf", "defaults\0x", 10, false, &err), -1);
	CHECK(strstr(err.msg, "NUL") != NULL);
	CHECK_INT(parity_conf_add_file(c, "/nonexistent/parity.conf", &err), -1);
	CHECK(strstr(err.msg, "cannot read the parity configuration '/nonexistent/parity.conf'"));
	parity_conf_free(c);
	/* a bad file named by the environment stops load() */
	const char *p = t_write_file("bad-parity.conf", "channel\n", 8);
	setenv("CISCOPE_PARITY", p, 1);
	CHECK(parity_conf_load(NULL, &err) == NULL);
	CHECK(strstr(err.msg, "bad-parity.conf:1: 'channel' needs one name") != NULL);
	unsetenv("CISCOPE_PARITY");
}

/* --- the index -------------------------------------------------------------------- */
static char *tmp_file(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *tmp_file(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, t_tmpdir());
	buf_addc(&b, '/');
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

/* A run folder: run.json, jobs.json and artifacts/<art>/<file> = text. */
static char *run_folder(const char *dir, long id, const char *sha, const char *art,
			const char *file, const char *text)
{
	char *root = tmp_file("%s", dir);
	char *adir = tmp_file("%s/artifacts/%s", dir, art);
	struct cs_err err;
	if (mkdir_p(adir, 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	char *p = tmp_file("%s/run.json", dir);
	char *j = xasprintf("{\"id\":%ld,\"name\":\"parity\",\"run_attempt\":1,\"run_number\":%ld,"
			    "\"head_branch\":\"main\",\"head_sha\":\"%s\",\"event\":\"push\","
			    "\"status\":\"completed\",\"conclusion\":\"success\","
			    "\"created_at\":\"2026-10-01T10:%02ld:00Z\","
			    "\"updated_at\":\"2026-10-01T10:%02ld:30Z\","
			    "\"repository\":{\"full_name\":\"t/parity\"}}",
			    id, id, sha, id % 60, id % 60);
	write_text(p, j);
	free(p);
	free(j);
	p = tmp_file("%s/jobs.json", dir);
	j = xasprintf("{\"total_count\":1,\"jobs\":[{\"id\":%ld,\"run_id\":%ld,\"name\":\"parity\","
		      "\"status\":\"completed\",\"conclusion\":\"success\","
		      "\"started_at\":\"2026-10-01T10:00:00Z\",\"completed_at\":\"2026-10-01T10:00:30Z\","
		      "\"steps\":[]}]}", id * 10, id);
	write_text(p, j);
	free(p);
	free(j);
	p = tmp_file("%s/artifacts/%s/%s", dir, art, file);
	write_text(p, text);
	free(p);
	free(adir);
	return root;
}

static void add_file(const char *dir, const char *art, const char *file, const char *text)
{
	char *p = tmp_file("%s/artifacts/%s/%s", dir, art, file);
	write_text(p, text);
	free(p);
}

static int64_t import_run(struct store *st, const char *path, long id)
{
	struct cs_err err;
	err_clear(&err);
	struct import_opts o = {0};
	struct importer *im = importer_new(st, &o);
	if (import_path(im, path, &err) < 0)
		t_fail(__FILE__, __LINE__, "import %s: %s", path, err.msg);
	importer_free(im);
	struct run r;
	char spec[32];
	snprintf(spec, sizeof(spec), "%ld", id);
	if (store_find_run(st, spec, &r, &err) < 0) {
		t_fail(__FILE__, __LINE__, "run %ld: %s", id, err.msg);
		return 0;
	}
	int64_t row = r.id;
	run_free(&r);
	return row;
}

/* steps 1..8; energy exceeds atol 1e-3 from step 5 on; pos within; a
 * column with text is no series; lonely_ref has no partner. */
static const char CSV[] =
	"step,energy_ref,energy_cand,pos_reference,pos_candidate,lonely_ref,label,spin_delta\n"
	"1,10,10,0.5,0.5,1,a,0\n"
	"2,10,10.0005,0.5,0.5,1,b,0.0001\n"
	"3,10,10.0009,0.5,0.5005,1,c,-0.0002\n"
	"4,10,10.001,0.5,0.5,1,d,0\n"
	"5,10,10.002,0.5,0.5,1,e,0\n"
	"6,10,10.004,0.5,0.5,1,f,0\n"
	"7,10,10.003,0.5,0.5,1,g,0.003\n"
	"8,10,10.01,0.5,0.5,1,h,0\n";

static const char SUMMARY[] = "{\"steps\": 8, \"tolerance\": {\"atol\": 0.001, \"rtol\": 0},"
			      " \"max_abs_delta\": {\"energy\": 0.01}, \"first_divergence\": "
			      "{\"step\": 5, \"abs_delta\": 0.002}}\n";

TEST(run_channels_from_the_index)
{
	struct store *st = t_fresh_store("run");
	char *dir = run_folder("r1", 501, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "parity", "parity.csv", CSV);
	add_file("r1", "parity", "summary.json", SUMMARY);
	int64_t row = import_run(st, dir, 501);
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	struct parity_report rep;
	CHECK_OK(parity_run(st, c, row, NULL, 0, &rep, &err));
	/* energy, pos, spin (delta only); summary leaves are no channels */
	CHECK_INT(rep.n_channels, 3);
	if (rep.n_channels == 3) {
		const struct parity_channel *e = parity_report_find(&rep, "energy");
		CHECK(e != NULL);
		if (e) {
			CHECK_STR(e->tol.source, "summary parity/summary.json");
			CHECK_INT(e->steps, 8);
			CHECK_INT(e->violations, 4);
			CHECK_NEAR(e->first_violation.x, 5, 0);
			CHECK(!e->first_sustained.set);
			CHECK_NEAR(e->worst.x, 8, 0);
			CHECK_NEAR(e->worst.excess, 10, 1e-6);
			CHECK_NEAR(e->worst.cand, 10.01, 0);
			CHECK(e->fail);
			CHECK_STR(e->file, "parity/parity.csv");
		}
		const struct parity_channel *p = parity_report_find(&rep, "pos_candidate");
		CHECK(p != NULL && !p->fail && p->violations == 0);
		if (p)
			CHECK_NEAR(p->max_abs.x, 3, 0);
		const struct parity_channel *s = parity_report_find(&rep, "spin");
		CHECK(s != NULL && s->delta_only);
		if (s) {
			CHECK_INT(s->violations, 1);
			CHECK_NEAR(s->first_violation.x, 7, 0);
			CHECK(!s->max_rel.set);
		}
		CHECK(rep.fail);
		CHECK_STR(rep.channels[rep.deciding].name, "energy");
	}
	CHECK_INT(rep.n_unpaired, 1);
	if (rep.n_unpaired)
		CHECK_STR(rep.unpaired[0], "lonely_ref");
	struct buf j = BUF_INIT;
	parity_report_json(&j, &rep);
	CHECK(strstr(j.data, "\"verdict\":\"fail\",\"deciding\":\"energy\"") != NULL);
	CHECK(strstr(j.data, "{\"name\":\"energy\",\"first_violation\":5,\"first_sustained\":null,"
			     "\"worst\":{\"step\":8,\"excess\":") != NULL);
	CHECK(strstr(j.data, "\"unpaired\":[\"lonely_ref\"]") != NULL);
	buf_release(&j);
	parity_report_release(&rep);

	/* one channel, with its data for a chart */
	CHECK_OK(parity_run(st, c, row, "energy", PARITY_KEEP_DATA, &rep, &err));
	CHECK_INT(rep.n_channels, 1);
	if (rep.n_channels == 1) {
		CHECK(rep.channels[0].data && rep.channels[0].data->n == 8);
		struct parity_plot pp;
		CHECK_OK(parity_plot_init(&pp, &rep.channels[0], PARITY_PLOT_DELTA, &err));
		CHECK_INT(pp.chart.n_marks, 1);
		CHECK_STR(pp.mark_label[0], "first violation 5");
		CHECK_NEAR(pp.y1[0], 1e-3, 0);
		CHECK_NEAR(pp.y0[7], 0.01, 1e-12);
		parity_plot_release(&pp);
	}
	parity_report_release(&rep);
	/* a repository file: sustained 2 and `verdict sustained` */
	const char *conf = "channel energy\n\tatol 0.0015\n\tsustained 2\n\tverdict sustained\n";
	CHECK_OK(parity_conf_add_text(c, "repo", conf, strlen(conf), false, &err));
	CHECK_OK(parity_run(st, c, row, "energy", 0, &rep, &err));
	if (rep.n_channels == 1) {
		CHECK_INT(rep.channels[0].violations, 4);
		CHECK_NEAR(rep.channels[0].first_sustained.x, 5, 0);
		CHECK(rep.channels[0].fail);
	}
	parity_report_release(&rep);
	/* no such channel: an empty report */
	CHECK_OK(parity_run(st, c, row, "nothing", 0, &rep, &err));
	CHECK_INT(rep.n_channels, 0);
	CHECK_INT(rep.deciding, -1);
	parity_report_release(&rep);
	parity_conf_free(c);
	free(dir);
	store_close(st);
}

/* The stored verdict (parity_run_verdicts) is the one a fresh parity_run
 * gives, for each configuration; a run whose series change is derived again. */
static void check_fresh(struct store *st, const struct parity_conf *c, const int64_t *rows, int n)
{
	struct cs_err err;
	err_clear(&err);
	struct parity_verdict v[4];
	CHECK_OK(parity_run_verdicts(st, c, rows, n, v, &err));
	for (int i = 0; i < n; i++) {
		struct parity_report rep;
		CHECK_OK(parity_run(st, c, rows[i], NULL, 0, &rep, &err));
		CHECK_INT(v[i].channels, rep.n_channels > 0);
		CHECK_INT(v[i].fail, rep.fail);
		if (rep.deciding >= 0)
			CHECK_STR(v[i].channel ? v[i].channel : "(null)", rep.channels[rep.deciding].name);
		else
			CHECK(v[i].channel == NULL);
		parity_report_release(&rep);
	}
	parity_verdicts_release(v, n);
}

TEST(stored_verdicts_are_fresh_ones)
{
	struct store *st = t_fresh_store("verdicts");
	char *d1 = run_folder("v1", 701, "dddddddddddddddddddddddddddddddddddddddd", "parity", "parity.csv", CSV);
	add_file("v1", "parity", "summary.json", SUMMARY);
	char *d2 = run_folder("v2", 702, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "parity", "parity.csv",
			      "step,energy_ref,energy_cand\n1,1,1\n2,1,1\n3,1,1\n");
	char *d3 = run_folder("v3", 703, "ffffffffffffffffffffffffffffffffffffffff", "other", "notes.txt",
			      "nothing here\n");
	int64_t rows[3] = {import_run(st, d1, 701), import_run(st, d2, 702), import_run(st, d3, 703)};
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	check_fresh(st, c, rows, 3); /* derived and stored */
	CHECK_INT((int)t_count(st, "SELECT count(*) FROM parity_verdicts"), 3);
	check_fresh(st, c, rows, 3); /* from the table */
	struct parity_verdict v[3];
	CHECK_OK(parity_run_verdicts(st, c, rows, 3, v, &err));
	CHECK(v[0].channels && v[0].fail);
	CHECK_STR(v[0].channel ? v[0].channel : "", "energy");
	CHECK(v[1].channels && !v[1].fail);
	CHECK(!v[2].channels && !v[2].fail && !v[2].channel);
	parity_verdicts_release(v, 3);
	/* the table answers: a row altered by hand is what comes back */
	CHECK_OK(store_exec(st, "UPDATE parity_verdicts SET fail = 0, channel = 'x'", &err));
	CHECK_OK(parity_run_verdicts(st, c, rows, 1, v, &err));
	CHECK(!v[0].fail);
	CHECK_STR(v[0].channel ? v[0].channel : "", "x");
	parity_verdicts_release(v, 1);
	CHECK_OK(store_exec(st, "DELETE FROM parity_verdicts", &err));
	check_fresh(st, c, rows, 3);
	/* another configuration: its own rows, its own verdict */
	struct parity_conf *loose = parity_conf_new();
	const char *lc = "channel *\n\tatol 1\n";
	CHECK_OK(parity_conf_add_text(loose, "repo", lc, strlen(lc), false, &err));
	CHECK(parity_conf_digest(loose) != parity_conf_digest(c));
	check_fresh(st, loose, rows, 3);
	CHECK_OK(parity_run_verdicts(st, loose, rows, 1, v, &err));
	CHECK(v[0].channels && !v[0].fail);
	parity_verdicts_release(v, 1);
	CHECK_INT((int)t_count(st, "SELECT count(*) FROM parity_verdicts"), 6);
	/* the same text elsewhere judges alike: same digest */
	struct parity_conf *same = parity_conf_new();
	CHECK_OK(parity_conf_add_text(same, "elsewhere", lc, strlen(lc), false, &err));
	CHECK(parity_conf_digest(same) == parity_conf_digest(loose));
	parity_conf_free(same);
	/* run 2's candidate moves: its rows are dropped, and it now fails */
	CHECK_OK(store_exec(st, "UPDATE metric_points SET value = 5 WHERE idx = 2 AND series_id IN "
				"(SELECT id FROM metric_series WHERE name = 'energy_cand' AND run_id = "
				"(SELECT id FROM runs WHERE provider_id = 702))", &err));
	CHECK_INT((int)t_count(st, "SELECT count(*) FROM parity_verdicts"), 4);
	check_fresh(st, c, rows, 3);
	CHECK_OK(parity_run_verdicts(st, c, rows + 1, 1, v, &err));
	CHECK(v[0].channels && v[0].fail);
	parity_verdicts_release(v, 1);
	/* a stored row whose series no longer match is not used */
	CHECK_OK(store_exec(st, "UPDATE parity_verdicts SET series = '0:0:0', fail = 0", &err));
	check_fresh(st, c, rows, 3);
	/* a deleted run takes its rows along */
	CHECK_OK(store_exec(st, "DELETE FROM runs WHERE provider_id = 701", &err));
	CHECK_INT((int)t_count(st, "SELECT count(*) FROM parity_verdicts WHERE run_id NOT IN "
				 "(SELECT id FROM runs)"), 0);
	parity_conf_free(loose);
	parity_conf_free(c);
	free(d1);
	free(d2);
	free(d3);
	store_close(st);
}

TEST(run_against_run_and_metric_changes)
{
	struct store *st = t_fresh_store("rvr");
	char *d1 = run_folder("base", 601, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "parity", "parity.csv",
			      "step,energy_ref,energy_cand\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n");
	add_file("base", "parity", "summary.json", "{\"rss_mb\": 100, \"steps\": 4}");
	/* the new run: one more step, the candidate moved from step 3 on */
	char *d2 = run_folder("new", 602, "cccccccccccccccccccccccccccccccccccccccc", "parity", "parity.csv",
			      "step,energy_ref,energy_cand\n1,1,1\n2,1,1\n3,1,1.5\n4,1,2\n5,1,2\n");
	add_file("new", "parity", "summary.json", "{\"rss_mb\": 140, \"steps\": 4}");
	int64_t base = import_run(st, d1, 601), run = import_run(st, d2, 602);
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	struct parity_report rep;
	CHECK_OK(parity_runs(st, c, run, base, NULL, 0, &rep, &err));
	CHECK_INT(rep.kind, PARITY_RUN_VS_RUN);
	CHECK_INT(rep.n_channels, 1);
	if (rep.n_channels == 1) {
		const struct parity_channel *e = &rep.channels[0];
		CHECK_STR(e->name, "energy_cand");
		CHECK_INT(e->steps, 5);
		CHECK_INT(e->missing, 1);  /* step 5: the base has none */
		CHECK_INT(e->violations, 3);
		CHECK_NEAR(e->first_violation.x, 3, 0);
		CHECK_NEAR(e->max_abs.value, 1, 0);
		CHECK_NEAR(e->max_abs.x, 4, 0);
	}
	parity_report_release(&rep);
	/* by channel name */
	CHECK_OK(parity_runs(st, c, run, base, "energy", 0, &rep, &err));
	CHECK_INT(rep.n_channels, 1);
	parity_report_release(&rep);

	struct metric_compare mc;
	CHECK_OK(metric_compare_runs(st, run, base, &mc, &err));
	/* changed first: the scalar rss_mb, then the series energy_cand; then
	 * the unchanged ones */
	CHECK(mc.n >= 4);
	if (mc.n >= 2) {
		CHECK_STR(mc.items[0].name, "rss_mb");
		CHECK(!mc.items[0].series && mc.items[0].changed);
		CHECK_NEAR(mc.items[0].abs_change, 40, 0);
		CHECK_NEAR(mc.items[0].rel_change, 0.4, 1e-12);
		CHECK_STR(mc.items[1].name, "energy_cand");
		CHECK(mc.items[1].series);
		CHECK_INT(mc.items[1].differing, 2);
		CHECK_INT(mc.items[1].only_run, 1);
		CHECK_NEAR(mc.items[1].max_diff.x, 4, 0);
		CHECK_NEAR(mc.items[1].max_diff.value, 1, 0);
	}
	for (int i = 0; i < mc.n; i++)
		if (!strcmp(mc.items[i].name, "steps"))
			CHECK(!mc.items[i].changed);
	struct buf j = BUF_INIT;
	metric_compare_json(&j, &mc);
	CHECK(strstr(j.data, "{\"name\":\"rss_mb\",\"file\":\"parity/summary.json\",\"kind\":\"scalar\","
			     "\"changed\":true,\"run\":140,\"base\":100,\"change\":40,\"rel_change\":0.4}"));
	CHECK(strstr(j.data, "\"max_diff\":{\"step\":4,\"run\":2,\"base\":1,\"diff\":1}"));
	buf_release(&j);
	metric_compare_release(&mc);
	parity_conf_free(c);
	free(d1);
	free(d2);
	store_close(st);
}

TEST(change_text_near_zero)
{
	/* a change that rounds to zero prints no sign: never "-0.0%" or "-0" */
	struct metric_change m = {0};
	m.run = 99.99;
	m.base = 100;
	m.abs_change = -0.01;
	m.rel_change = -0.0001;
	struct buf b = BUF_INIT;
	metric_change_text(&b, &m);
	CHECK_STR(b.data, ": 99.99 (was 100, -0.01, 0.0%)");
	buf_release(&b);
	m.run = 100;
	m.abs_change = -0.0;
	m.rel_change = -0.0;
	metric_change_text(&b, &m);
	CHECK_STR(b.data, ": 100 (was 100, +0, 0.0%)");
	buf_release(&b);
	m.run = 114.2;
	m.abs_change = 14.2;
	m.rel_change = 0.142;
	metric_change_text(&b, &m);
	CHECK_STR(b.data, ": 114.2 (was 100, +14.2, +14.2%)");
	buf_release(&b);
}

TEST(hostile_series)
{
	struct store *st = t_fresh_store("hostile");
	/* JSONL rows where the candidate is missing or text; NaN and inf cells;
	 * a ref with nothing beside it */
	const char *jl = "{\"step\": 1, \"e_ref\": 1, \"e_cand\": 1, \"only_ref\": 3}\n"
			 "{\"step\": 2, \"e_ref\": 1}\n"
			 "{\"step\": 3, \"e_ref\": 1, \"e_cand\": null}\n"
			 "{\"step\": 4, \"e_ref\": 1, \"e_cand\": 1}\n";
	char *d = run_folder("h", 701, "dddddddddddddddddddddddddddddddddddddddd", "p", "rows.jsonl", jl);
	add_file("h", "p", "cells.csv", "step,v_ref,v_cand,w_ref,w_cand\n1,1,nan,1,x\n2,1,inf,2,y\n3,1,1,3,z\n");
	/* the same channel in a second file: both kept, named by file */
	add_file("h", "p", "more.csv", "e_ref,e_cand\n1,2\n");
	int64_t row = import_run(st, d, 701);
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *c = parity_conf_new();
	struct parity_report rep;
	CHECK_OK(parity_run(st, c, row, NULL, 0, &rep, &err));
	const struct parity_channel *e = parity_report_find(&rep, "p/rows.jsonl:e");
	const struct parity_channel *e2 = parity_report_find(&rep, "p/more.csv:e");
	CHECK(e2 != NULL && e2->violations == 1 && e2->steps == 1);
	CHECK(e2 && e2->first_violation.x == 0); /* no x column: the row */
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->steps, 4);
		CHECK_INT(e->missing, 2);
		CHECK_INT(e->violations, 2);
		CHECK_NEAR(e->first_violation.x, 2, 0);
	}
	/* NaN and inf cells are stored as missing: one-sided violations */
	const struct parity_channel *v = parity_report_find(&rep, "v");
	CHECK(v != NULL);
	if (v) {
		CHECK_INT(v->violations, 2);
		CHECK_NEAR(v->first_violation.x, 1, 0);
	}
	/* w_cand is text: no series, so w_ref has no partner */
	CHECK(parity_report_find(&rep, "w") == NULL);
	bool w = false, o = false;
	for (int i = 0; i < rep.n_unpaired; i++) {
		w |= !strcmp(rep.unpaired[i], "w_ref");
		o |= !strcmp(rep.unpaired[i], "only_ref");
	}
	CHECK(w && o);
	parity_report_release(&rep);
	parity_conf_free(c);
	free(d);
	store_close(st);
}

TEST(json_numbers)
{
	struct buf b = BUF_INIT;
	parity_json_num(&b, 0.1);
	buf_addc(&b, ' ');
	parity_json_num(&b, 1.0 / 3);
	buf_addc(&b, ' ');
	parity_json_num(&b, NAN);
	buf_addc(&b, ' ');
	parity_json_num(&b, -INFINITY);
	buf_addc(&b, ' ');
	parity_json_num(&b, 607);
	CHECK_STR(b.data, "0.1 0.33333333333333331 \"NaN\" \"-Infinity\" 607");
	buf_release(&b);
}

/* --- a million rows through the metrics parser ------------------------------------------ */
struct cols {
	double *x, *ref, *cand;
	unsigned char *rm, *cm;
	size_t n, alloc;
};

static int on_metric(void *ctx, const struct metric_point *p)
{
	struct cols *c = ctx;
	size_t i = (size_t)p->idx;
	if (i >= c->alloc)
		return -1;
	if (i >= c->n)
		c->n = i + 1;
	c->x[i] = p->x;
	if (!strcmp(p->name, "x_ref")) {
		c->ref[i] = p->value;
		c->rm[i] = p->missing;
	} else if (!strcmp(p->name, "x_cand")) {
		c->cand[i] = p->value;
		c->cm[i] = p->missing;
	}
	return 0;
}

TEST(million_rows)
{
	size_t rows = 1000000;
	struct buf csv = BUF_INIT;
	buf_adds(&csv, "step,x_ref,x_cand\n");
	for (size_t i = 1; i <= rows; i++) {
		double r = (double)i * 0.001, c = i >= 765432 ? r + 1e-3 : r;
		if (i == 900000)
			buf_addf(&csv, "%zu,%.17g,\n", i, r);       /* an empty cell */
		else
			buf_addf(&csv, "%zu,%.17g,%.17g\n", i, r, c);
	}
	struct cols c = {0};
	c.alloc = rows;
	c.x = xmalloc(rows * sizeof(double));
	c.ref = xmalloc(rows * sizeof(double));
	c.cand = xmalloc(rows * sizeof(double));
	c.rm = xcalloc(rows, 1);
	c.cm = xcalloc(rows, 1);
	struct cs_err err;
	err_clear(&err);
	long got = metrics_parse("big.csv", csv.data, csv.len, MET_AUTO, on_metric, &c, &err);
	CHECK(got == 2 * (long)rows);
	CHECK(c.n == rows);
	struct parity_data d = {c.n, c.x, c.ref, c.cand, c.rm, c.cm};
	struct parity_tol t = tol_of(0, 1e-7, 0, 5);
	struct parity_channel ch;
	memset(&ch, 0, sizeof(ch));
	parity_channel_compute(&ch, &t, &d, true);
	CHECK_INT(ch.steps, 1000000);
	CHECK_INT(ch.violations, 1000000 - 765432 + 1);
	CHECK_INT(ch.n_first_steps, PARITY_FIRST_STEPS);
	CHECK_NEAR(ch.first_steps[4].x, 765436, 0);
	CHECK_INT(ch.missing, 1);
	CHECK_NEAR(ch.first_violation.x, 765432, 0);
	CHECK_NEAR(ch.first_sustained.x, 765432, 0);
	CHECK(isinf(ch.worst.excess));
	CHECK_NEAR(ch.worst.x, 900000, 0);
	CHECK_NEAR(ch.max_abs.value, 1e-3, 1e-9);
	/* and its chart: one pass, bounded output */
	struct parity_plot pp;
	CHECK_OK(parity_plot_init(&pp, &ch, PARITY_PLOT_DELTA, &err));
	struct chart_text tx;
	chart_render(&pp.chart, 80, 16, true, &tx);
	CHECK_INT(tx.n, 16);
	bool mark = false;
	for (int i = 0; i < tx.n; i++)
		mark |= strstr(tx.lines[i].text, "first violation 765432") != NULL;
	CHECK(mark);
	chart_text_release(&tx);
	struct buf svg = BUF_INIT;
	chart_svg(&pp.chart, 900, 400, &svg);
	CHECK(svg.len < 200000);
	buf_release(&svg);
	parity_plot_release(&pp);
	parity_channel_release(&ch);
	CHECK(ch.data == NULL);
	free(c.x);
	free(c.ref);
	free(c.cand);
	free(c.rm);
	free(c.cm);
	buf_release(&csv);
}

TEST(metric_compare_many_leaves)
{
	struct store *st = t_fresh_store("leaves");
	struct buf a = BUF_INIT, b = BUF_INIT;
	buf_adds(&a, "{");
	buf_adds(&b, "{");
	for (int i = 0; i < 5000; i++) {
		buf_addf(&a, "%s\"m%04d\": %d", i ? "," : "", i, i);
		buf_addf(&b, "%s\"m%04d\": %d", i ? "," : "", i, i == 4321 ? 4330 : i);
	}
	buf_adds(&a, ", \"gone\": 1}");
	buf_adds(&b, ", \"new\": 2}");
	char *d1 = run_folder("la", 801, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "m", "summary.json", a.data);
	char *d2 = run_folder("lb", 802, "ffffffffffffffffffffffffffffffffffffffff", "m", "summary.json", b.data);
	int64_t base = import_run(st, d1, 801), run = import_run(st, d2, 802);
	struct cs_err err;
	err_clear(&err);
	struct metric_compare mc;
	CHECK_OK(metric_compare_runs(st, run, base, &mc, &err));
	CHECK_INT(mc.n, 5000);
	if (mc.n) {
		CHECK_STR(mc.items[0].name, "m4321");
		CHECK(mc.items[0].changed);
		CHECK_NEAR(mc.items[0].abs_change, 9, 0);
		CHECK(!mc.items[1].changed);
	}
	CHECK_INT(mc.n_only_run, 1);
	CHECK_INT(mc.n_only_base, 1);
	if (mc.n_only_run == 1 && mc.n_only_base == 1) {
		CHECK_STR(mc.only_run[0], "new");
		CHECK_STR(mc.only_base[0], "gone");
	}
	metric_compare_release(&mc);
	buf_release(&a);
	buf_release(&b);
	free(d1);
	free(d2);
	store_close(st);
}
