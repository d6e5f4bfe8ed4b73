/* f_thresholds.c - the thresholds file (.ciscope/thresholds.conf;
 * core/thresholds.c) and the judging of its bounds.
 *
 * The input is a thresholds file, added to a configuration that already
 * holds a block (as the repository's file sits with the built-in one).
 * Properties:
 *  - an error names the file and a line in range ("fuzz.conf:N: ...") and
 *    leaves the configuration as it was (its blocks and change-point
 *    settings); a file holding a NUL byte is an error (it is no text);
 *  - parsing is deterministic (the same blocks, bounds and settings twice);
 *  - every block has at least one bound, a finite value, a known operator
 *    and unit, its origin "fuzz.conf:N"; the change-point settings are in
 *    their documented ranges;
 *  - judging a series each block names gives states in range, a breach's
 *    start at or before the point judged, a limit that is a number unless
 *    the state is "none".
 */
#include <math.h>

#include "fuzz.h"

#include "core/metrics.h"
#include "core/util.h"

/* the units metrics.h documents */
static bool known_unit(const char *u)
{
	static const char *const units[] = {"ms", "s", "min", "B", "KiB", "MiB", "GiB",
					    "KB", "MB", "GB", "%"};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(units[i], u))
			return true;
	return false;
}

static const char BASE[] = "threshold base.metric\n\twarn <= 10 s\n";

static void same(const struct th_conf *a, const struct th_conf *b)
{
	FUZZ_CHECK(a->n == b->n);
	FUZZ_CHECK(a->cp.window == b->cp.window && a->cp.permutations == b->cp.permutations);
	FUZZ_CHECK(a->cp.max_pvalue == b->cp.max_pvalue &&
		   a->cp.min_magnitude == b->cp.min_magnitude);
	for (int i = 0; i < a->n; i++) {
		const struct th_rule *x = &a->rules[i], *y = &b->rules[i];
		FUZZ_CHECK(!strcmp(x->glob, y->glob) && !strcmp(x->origin, y->origin));
		FUZZ_CHECK(x->baseline_n == y->baseline_n && x->n_bounds == y->n_bounds);
		FUZZ_CHECK((x->workflow == NULL) == (y->workflow == NULL));
		FUZZ_CHECK((x->branch == NULL) == (y->branch == NULL));
		for (int j = 0; j < x->n_bounds; j++)
			FUZZ_CHECK(!memcmp(&x->bounds[j], &y->bounds[j], sizeof(x->bounds[j])));
	}
}

static void judge(const struct th_conf *c)
{
	static const double vals[] = {1, 2, 1.5, 300, 0, -4, 1e9, 2.5};
	enum { N = sizeof(vals) / sizeof(vals[0]) };
	struct metric_point pts[N];
	memset(pts, 0, sizeof(pts));
	for (int i = 0; i < N; i++) {
		pts[i].run = i + 1;
		pts[i].value = vals[i];
		pts[i].green = i % 3 != 2;
		pts[i].branch = (char *)(i % 2 ? "main" : "dev");
		pts[i].passed = -1;
		pts[i].threshold = NAN;
	}
	static const char *const units[] = {"ms", "KiB", "%", NULL};
	for (int i = 0; i < c->n && i < 8; i++) {
		struct metric_hist h;
		memset(&h, 0, sizeof(h));
		/* the glob's own text: a literal name it matches when it has no wildcards */
		h.name = c->rules[i].glob;
		h.workflow = c->rules[i].workflow ? c->rules[i].workflow : (char *)"";
		h.unit = units[i % 4];
		h.pts = pts;
		h.n = N;
		for (long at = 0; at < N; at += 3) {
			struct th_eval *ev = NULL;
			int n = th_evaluate(c, &h, at, &ev);
			FUZZ_CHECK(n >= 0);
			for (int k = 0; k < n; k++) {
				FUZZ_CHECK(ev[k].state >= TH_NONE && ev[k].state <= TH_BREACH_FAIL);
				if (ev[k].state != TH_NONE)
					FUZZ_CHECK(!isnan(ev[k].limit));
				if (ev[k].state == TH_BREACH_WARN || ev[k].state == TH_BREACH_FAIL)
					FUZZ_CHECK(ev[k].since >= 0 && ev[k].since <= at);
				if (ev[k].state == TH_BREACH_FAIL)
					FUZZ_CHECK(ev[k].bound->level == TH_FAIL && th_conf_can_fail(c));
			}
			enum th_state w = th_worst(ev, n);
			FUZZ_CHECK(w >= TH_NONE && w <= TH_BREACH_FAIL);
			(void)th_state_name(w);
			free(ev);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int lines = fuzz_lines(data, size);

	struct th_conf a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cp_conf_default(&a.cp);
	cp_conf_default(&b.cp);
	struct cs_err err;
	FUZZ_CHECK(th_conf_add_text(&a, "base.conf", BASE, strlen(BASE), &err) == 0);
	FUZZ_CHECK(th_conf_add_text(&b, "base.conf", BASE, strlen(BASE), &err) == 0);
	struct cp_conf cp0 = a.cp;

	struct cs_err e1, e2;
	int r1 = th_conf_add_text(&a, "fuzz.conf", text, size, &e1);
	int r2 = th_conf_add_text(&b, "fuzz.conf", text, size, &e2);
	FUZZ_CHECK(r1 == r2);
	if (r1 < 0) {
		FUZZ_CHECK(!strcmp(e1.msg, e2.msg));
		int line = 0;
		FUZZ_CHECK(sscanf(e1.msg, "fuzz.conf:%d", &line) == 1);
		FUZZ_CHECK(line >= 1 && line <= lines);
		/* nothing of the file was kept */
		FUZZ_CHECK(a.n == 1 && !memcmp(&a.cp, &cp0, sizeof(cp0)));
	} else {
		FUZZ_CHECK(memchr(data, 0, size) == NULL);
		same(&a, &b);
		FUZZ_CHECK(a.cp.window >= 6 && a.cp.window <= 100000);
		FUZZ_CHECK(a.cp.max_pvalue > 0 && a.cp.max_pvalue < 1);
		FUZZ_CHECK(a.cp.min_magnitude >= 0 && isfinite(a.cp.min_magnitude));
		FUZZ_CHECK(a.cp.permutations >= 19 && a.cp.permutations <= 100000);
		for (int i = 1; i < a.n; i++) {
			const struct th_rule *r = &a.rules[i];
			int line = 0;
			FUZZ_CHECK(sscanf(r->origin, "fuzz.conf:%d", &line) == 1);
			FUZZ_CHECK(line >= 1 && line <= lines);
			FUZZ_CHECK(r->n_bounds >= 1 && *r->glob);
			FUZZ_CHECK(r->baseline_n >= 1 && r->baseline_n <= 1000);
			for (int j = 0; j < r->n_bounds; j++) {
				const struct th_bound *bd = &r->bounds[j];
				FUZZ_CHECK(isfinite(bd->value));
				FUZZ_CHECK(strchr(bd->kind == TH_ABS ? "<>lg" : "+-", bd->op) && bd->op);
				FUZZ_CHECK(!bd->unit[0] || known_unit(bd->unit));
				if (bd->kind == TH_REGRESS)
					FUZZ_CHECK(bd->value >= 0);
			}
		}
		judge(&a);
	}
	th_conf_release(&a);
	th_conf_release(&b);
	return 0;
}
