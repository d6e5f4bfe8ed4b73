/* parity.h - numeric parity of metric series, and metric comparison of runs.
 *
 * Owner: the parity report (issue 10 §5). `ciscope parity`, the diff
 * (core/diff.c embeds metrics[] and parity{} with the JSON writers below) and
 * the metric trends (issue 11: per-channel summaries over history) all read
 * these structs; compute them here, once.
 * Files: parity.c the arithmetic, channels, reports, metric comparison and
 * chart; parityconf.c the settings (parity.conf layers, pairing, tolerance
 * resolution); parityjson.c the JSON writers.
 *
 * --- Channels ------------------------------------------------------------------
 * A parity workflow uploads, per step, the value of a reference
 * implementation and of a candidate port. Inside one run, series (as the
 * importer stores them: one per CSV/TSV/JSONL column or JSON leaf, see
 * artifact.h) of one artifact file pair by name into a channel:
 *   NAME_ref / NAME_reference      the reference side
 *   NAME_cand / NAME_candidate     the candidate side
 *   NAME_delta                     a precomputed difference (candidate - reference)
 * The patterns are configurable (`pairing`, below). A channel needs a
 * candidate or a delta and a reference, or a delta alone (then the
 * tolerance is absolute: rtol has no reference to scale and ULPs need both
 * values). With all three, the delta is not used. A reference or candidate
 * without a partner is listed in `unpaired`, never judged.
 * Leaves of JSON documents (a summary.json) are scalars, never channel
 * sides. Points pair by row; series of different lengths (run against run) pair by
 * x value (the step), and a step one side lacks counts as missing there.
 *
 * --- Tolerance (numpy.isclose / assert_allclose semantics) ----------------------
 * A step passes when  |cand - ref| <= atol + rtol * |ref|  (relative to the
 * reference side, not symmetric), or, when max_ulps > 0, when the two
 * doubles are at most max_ulps units in the last place apart (numpy's
 * sign-magnitude trick: -0.0 and +0.0 are 0 ULPs apart). The ULP bound is an
 * allowance beside atol/rtol, so `atol 0, rtol 0, ulps 4` means "within 4
 * ULPs". excess = |d| / tol (with ULPs: the smaller of that and
 * ulps/max_ulps), so a step violates exactly when excess > 1; tol 0 and
 * d != 0 give an infinite excess.
 * NaN and infinity, as numpy.testing.assert_allclose does it:
 *   NaN on both sides        equal (`nan equal`, the default) or a violation
 *                            (`nan differ`);
 *   NaN on one side          a violation, excess infinite;
 *   +inf/+inf, -inf/-inf     equal; any other pairing with an infinity is a
 *                            violation with infinite excess.
 * Missing values (an empty cell; the importer also stores NaN and infinity
 * cells as missing, SQLite having no NaN): missing on both sides skips the
 * step (it is not counted in `steps`); missing on one side is a violation
 * (`missing violation`, the default: a port that printed NaN shows up so)
 * or skipped (`missing skip`). Errors (abs, rel, norms) count only steps
 * where both values are finite.
 *
 * --- Per channel ------------------------------------------------------------------
 * first_violation   x of the first step beyond tolerance
 * first_sustained   x of the first step of the first run of K consecutive
 *                   violations (K = `sustained`, default 5; steps skipped
 *                   for missing values on both sides neither break nor
 *                   extend a run)
 * worst             the largest excess: its step, excess and both values
 *                   (ties: the earliest)
 * max_abs, max_rel  the largest |d| and |d|/|ref| (ref 0: infinite unless d
 *                   is 0; a delta without its reference has no max_rel),
 *                   each with its step
 * norm1, norm2      sum |d| and sqrt(sum d^2) over the finite steps
 * violations/steps  k of n compared steps beyond tolerance
 * A channel fails when it has a violation (`verdict any`, the default) or a
 * sustained divergence (`verdict sustained`); an `informational` channel is
 * reported and never fails. The run fails when a channel fails; the
 * deciding channel is then the one that diverged first (earliest first
 * violation, then larger worst excess, then name); on a pass it is the
 * channel closest to its tolerance (largest worst excess).
 *
 * --- Configuration (parity.conf; the config language of rules.conf) ---------------
 *   pairing                        patterns: * stands for the channel name
 *     ref    *_ref *_reference
 *     cand   *_cand *_candidate
 *     delta  *_delta
 *   defaults                       settings of every channel
 *     atol 0 / rtol 1e-7 / ulps 0 (off) / sustained 5 / nan equal|differ /
 *     missing violation|skip / verdict any|sustained
 *   channel GLOB                   a channel's own settings (first match wins),
 *     atol 1e-12                   the same keywords, and
 *     informational                reported, never decides a failure
 * Files are layered: $CISCOPE_PARITY or .ciscope/parity.conf at the top of
 * the checkout (tried first), then data/parity.conf (compiled in). A
 * channel's tolerance (atol, rtol, ulps together) comes from the first of:
 * the repository file's matching `channel` block, its `defaults`, the
 * artifact's own summary (scalars of the run named tolerance.NAME.atol,
 * NAME.tolerance.atol, tolerance.atol, tolerances.atol, atol; the same with
 * rtol and ulps/max_ulps), the built-in file's blocks. Keywords a layer
 * leaves out of the triple are 0. Other settings come from the first layer
 * that states them. Errors name file:line.
 */
#ifndef CS_PARITY_H
#define CS_PARITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chart.h"
#include "store.h"
#include "util.h"

/* --- configuration ------------------------------------------------------------ */
enum parity_nan { PARITY_NAN_EQUAL = 0, PARITY_NAN_DIFFER };
enum parity_missing { PARITY_MISSING_VIOLATION = 0, PARITY_MISSING_SKIP };
enum parity_verdict_rule { PARITY_VERDICT_ANY = 0, PARITY_VERDICT_SUSTAINED };

/* The settings a channel is judged with, resolved through the layers. */
struct parity_tol {
	double atol, rtol;
	uint64_t max_ulps;     /* 0: ULPs not used */
	int sustained;         /* K consecutive violations, >= 1 */
	enum parity_nan nan;
	enum parity_missing missing;
	enum parity_verdict_rule verdict;
	bool informational;
	char source[160];      /* where atol/rtol/ulps came from: "parity.conf:12",
				  "summary parity/summary.json", "built in" */
};

struct parity_conf;

struct parity_conf *parity_conf_new(void);
void parity_conf_free(struct parity_conf *c);
/* Add a file's text (named origin in errors) below the layers already
 * there. builtin marks the compiled-in layer (it ranks below the artifact
 * summary). On error nothing of text is added. */
int parity_conf_add_text(struct parity_conf *c, const char *origin, const char *text, size_t n,
			 bool builtin, struct cs_err *err);
int parity_conf_add_file(struct parity_conf *c, const char *path, struct cs_err *err);
/* The configuration the CLI and the views use: path when not NULL, else
 * $CISCOPE_PARITY when set, else .ciscope/parity.conf at the top of the git
 * checkout holding the current directory when it exists; then the built-in
 * data/parity.conf. NULL with err on a bad file. */
struct parity_conf *parity_conf_load(const char *path, struct cs_err *err);
/* The repository file that load() read, or NULL. */
const char *parity_conf_origin(const struct parity_conf *c);
/* A hash of what the configuration says (its layers' texts, in order):
 * two configurations with the same digest judge alike. Keys the stored
 * verdicts (parity_verdicts). */
uint64_t parity_conf_digest(const struct parity_conf *c);

/* What the artifact's own summary states: scalars of a run, by name. */
struct parity_scalar {
	const char *name;     /* "tolerance.atol" */
	double value;
	const char *file;     /* the artifact file, for the source line */
};
/* Resolve the settings of channel name (see the layers above). */
void parity_conf_resolve(const struct parity_conf *c, const char *name,
			 const struct parity_scalar *scalars, size_t n_scalars,
			 struct parity_tol *out);
/* Which side a series name is on, and the channel name (into name). */
enum parity_side { PARITY_NONE = 0, PARITY_REF, PARITY_CAND, PARITY_DELTA };
enum parity_side parity_conf_side(const struct parity_conf *c, const char *series,
				   struct buf *name);

/* --- the arithmetic (pure; unit-tested by hand) ------------------------------------ */
/* Units in the last place between two finite doubles (numpy nulp_diff):
 * UINT64_MAX when either is not finite. */
uint64_t parity_ulps(double a, double b);

/* A point's state on one side. */
enum parity_val { PV_OK = 0, PV_MISSING };

struct parity_step {
	bool compared;       /* false: skipped (missing on both sides, or missing skip) */
	bool violation;
	double abs_err;      /* |cand - ref|: NAN unless both finite (delta: |delta|) */
	double rel_err;      /* abs_err / |ref|; INFINITY for ref 0 and d != 0; NAN
				with no reference */
	double tol;          /* atol + rtol * |ref| */
	double excess;       /* see above; 0 when equal */
	uint64_t ulps;       /* UINT64_MAX unless both finite */
};
/* Judge one step. delta_only: ref (may be missing) scales rtol, cand is
 * the delta. */
void parity_judge(const struct parity_tol *t, double ref, enum parity_val ref_state, double cand,
		  enum parity_val cand_state, bool delta_only, struct parity_step *out);

/* --- the report ------------------------------------------------------------------- */
struct parity_at {
	bool set;
	double x;            /* the step's x value */
	long idx;            /* its 0-based position in the aligned series */
	double value;
};

struct parity_worst {
	bool set;
	double x;
	long idx;
	double excess, ref, cand;   /* delta channels: ref may be NAN, cand is the delta */
};

/* The aligned data of a channel, kept when asked (charts, run vs run). */
struct parity_data {
	size_t n;
	double *x, *ref, *cand;          /* cand: the delta for a delta channel */
	unsigned char *ref_missing, *cand_missing; /* 1 = missing */
};

#define PARITY_FIRST_STEPS 5 /* violating steps listed, as pytest.approx and numpy list them */

struct parity_channel {
	char *name;              /* "energy"; run vs run: the series, "energy_cand" */
	char *ref_series, *cand_series, *delta_series; /* series names, NULL when absent */
	char *file;              /* "artifact/path" the series came from */
	bool delta_only;
	struct parity_tol tol;
	long steps;              /* compared */
	long violations;
	long missing;            /* steps with a value on one side only */
	struct parity_at first_violation, first_sustained;
	struct parity_worst worst;
	/* the first violating steps with their values and excess */
	struct parity_worst first_steps[PARITY_FIRST_STEPS];
	int n_first_steps;
	struct parity_at max_abs, max_rel, max_ulps; /* max_ulps: set when tol.max_ulps */
	double norm1, norm2;
	bool fail;               /* judged by tol.verdict; never for informational */
	struct parity_data *data; /* NULL unless PARITY_KEEP_DATA */
};

enum parity_kind { PARITY_IN_RUN = 0, PARITY_RUN_VS_RUN };

struct parity_report {
	enum parity_kind kind;
	int64_t run_row_id, base_row_id;   /* base: run vs run only, else 0 */
	struct parity_channel *channels;   /* by name */
	int n_channels;
	char **unpaired;                   /* series with no partner */
	int n_unpaired;
	bool fail;
	int deciding;                      /* index into channels, -1 without channels */
	char *conf_origin;                 /* the repository file used, or NULL */
};

enum { PARITY_KEEP_DATA = 1 };

/* Accumulate one channel over aligned steps (no store involved): for the
 * unit tests and for callers with their own data. ch->name etc. are left
 * alone; the counters, positions, norms and ch->fail are set. With
 * keep_data the arrays are copied into ch->data. */
void parity_channel_compute(struct parity_channel *ch, const struct parity_tol *tol,
			    const struct parity_data *d, bool keep_data);
/* Free what a channel owns (names, file, data) and clear it. */
void parity_channel_release(struct parity_channel *ch);
/* Fill rep->fail and rep->deciding from the channels. */
void parity_report_decide(struct parity_report *rep);

/* Parity inside run_row_id. only: one channel by name (NULL: all). A run
 * without channels gives a report with n_channels 0 (not an error). */
int parity_run(struct store *st, const struct parity_conf *conf, int64_t run_row_id,
	       const char *only, int flags, struct parity_report *out, struct cs_err *err);
/* Run against run: every candidate and delta series of the parity channels
 * of run (or, with only, that series, or that channel's candidate/delta)
 * against the same series of base, base being the reference side. */
int parity_runs(struct store *st, const struct parity_conf *conf, int64_t run_row_id,
		int64_t base_row_id, const char *only, int flags, struct parity_report *out,
		struct cs_err *err);
void parity_report_release(struct parity_report *rep);

/* The verdict of parity_run over all channels, as the commits view and
 * bisect show it. */
struct parity_verdict {
	bool channels;   /* the run has parity channels (else no verdict) */
	bool fail;
	char *channel;   /* the deciding channel, or NULL */
};
/* The verdicts of runs[0..n) (parity_run with conf, all channels) into
 * out[0..n): taken from the index's table parity_verdicts when stored for
 * this configuration (parity_conf_digest), else computed and stored there
 * (when the index can be written: st's own connection, else one opened for
 * it; a store that cannot be written is still answered). Importing,
 * changing or deleting a run's series drops its stored verdicts
 * (migration 012's triggers). Release with parity_verdicts_release. */
int parity_run_verdicts(struct store *st, const struct parity_conf *conf, const int64_t *runs,
		    int n, struct parity_verdict *out, struct cs_err *err);
void parity_verdicts_release(struct parity_verdict *v, int n);
const struct parity_channel *parity_report_find(const struct parity_report *rep,
						const char *name);

/* --- the chart of a channel (chart.h) ------------------------------------------------ */
enum parity_plot_mode {
	PARITY_PLOT_DELTA = 0, /* |cand - ref| per step against the tolerance, violations marked */
	PARITY_PLOT_SIDES,     /* the reference and the candidate over the steps */
};

/* A chart ready for chart_render()/chart_svg(); owns its arrays. */
struct parity_plot {
	struct chart chart;
	struct chart_series series[2];
	struct chart_mark marks[2];
	double *y0, *y1;
	char title[200], label[2][200], mark_label[2][80];
};
/* ch must have its data (PARITY_KEEP_DATA). -1 with err when it has none. */
int parity_plot_init(struct parity_plot *p, const struct parity_channel *ch,
		     enum parity_plot_mode mode, struct cs_err *err);
void parity_plot_release(struct parity_plot *p);

/* --- run vs baseline: every metric both runs have ----------------------------------- */
struct metric_change {
	char *name;               /* series name */
	char *file;               /* "artifact/path" in the run */
	bool series;              /* false: a scalar (one point on each side) */
	long n_run, n_base;       /* points */
	double run, base;         /* scalars: the values (NAN when missing) */
	double abs_change, rel_change; /* scalars: run - base, (run - base)/|base| (INFINITY for base 0) */
	/* series: the largest |run - base| over steps both have, where */
	struct parity_at max_diff;     /* value = run - base at that step */
	double max_diff_run, max_diff_base;
	long differing;           /* series: steps whose values differ */
	long only_run, only_base; /* series: steps on one side only */
	bool changed;             /* any difference at all */
};

struct metric_compare {
	struct metric_change *items;   /* changed first (scalars, then series by |rel|), then unchanged */
	int n;
	char **only_run, **only_base;  /* series names present on one side */
	int n_only_run, n_only_base;
};

int metric_compare_runs(struct store *st, int64_t run_row_id, int64_t base_row_id,
			struct metric_compare *out, struct cs_err *err);
void metric_compare_release(struct metric_compare *mc);
/* What changed, for text after the metric's name: ": 3 (was 2, +1, +50.0%)"
 * for a scalar, ": N of M steps differ, most at step X (a vs b)" for a series. */
void metric_change_text(struct buf *b, const struct metric_change *m);
/* A channel's result, for text after its name: ": V/N steps beyond
 * tolerance, first at step X, sustained from Y, worst Kx at step Z". */
void parity_channel_text(struct buf *b, const struct parity_channel *ch);

/* --- JSON (the names are the contract of `ciscope diff --json` and `parity --json`) --- */
/* {"verdict":"pass"|"fail"|"none","deciding":NAME|null,"kind":"run"|"run-vs-run",
 *  "config":FILE|null,"channels":[{"name","first_violation","first_sustained",
 *  "worst":{"step","excess","ref","cand"},"max_abs":{"step","value"},
 *  "max_rel":{"step","value"},"norm1","norm2","violations","steps",
 *  "missing","fail","informational","delta_only",
 *  "series":{"ref","cand","delta"},"file",
 *  "tolerance":{"atol","rtol","max_ulps","sustained","nan","missing","verdict","source"},
 *  "max_ulps":{"step","value"}|null,
 *  "first_steps":[{"step","excess","ref","cand"}...]}],"unpaired":[NAME...]}
 * Steps are x values; null where there is none (worst, max_abs, max_rel
 * are null when no step was compared). Non-finite numbers are written as
 * the strings "NaN", "Infinity", "-Infinity". */
void parity_report_json(struct buf *b, const struct parity_report *rep);
/* [{"name","file","kind":"scalar"|"series","changed",
 *   scalars: "run","base","change","rel_change";
 *   series: "points","base_points","differing","only_run","only_base",
 *   "max_diff":{"step","run","base","diff"}|null}] */
void metric_compare_json(struct buf *b, const struct metric_compare *mc);
/* A number as JSON (finite: %.17g shortest round trip; else a string). */
void parity_json_num(struct buf *b, double v);

#endif
