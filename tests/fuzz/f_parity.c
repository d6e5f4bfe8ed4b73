/* f_parity.c - the parity configuration (.ciscope/parity.conf;
 * core/parityconf.c): its reader, the channel pairing and the tolerance
 * resolution, and one step judged with what it resolves.
 *
 * The input is a parity.conf, added above the built-in layer (as the
 * repository's file is). Properties:
 *  - an error names the file (and, unless the file holds a NUL, a line in
 *    range: "fuzz.conf:N: ...") and adds nothing (the digest is unchanged);
 *  - reading is deterministic: two configurations from the same text have
 *    the same digest and resolve every channel alike;
 *  - a resolved tolerance is usable: atol, rtol >= 0 and finite, sustained
 *    >= 1, settings in their enums, a source;
 *  - a series name on a side yields a channel name that is part of it;
 *  - a judged step: abs_err is a number only when both sides are, a
 *    violation is a compared step, the tolerance is >= 0.
 */
#include <math.h>

#include "fuzz.h"

#include "core/parity.h"
#include "core/util.h"

extern const char parity_conf[]; /* data/parity.conf, compiled in */

static const char *const series[] = {"energy_ref", "energy_cand", "energy_delta", "energy",
				     "pos_x_reference", "pos_x_candidate", "loss", "_ref",
				     "a_b_cand", "x.ref", "tolerance.atol", ""};
enum { N_SERIES = sizeof(series) / sizeof(series[0]) };

static void check_tol(const struct parity_tol *t)
{
	FUZZ_CHECK(isfinite(t->atol) && t->atol >= 0);
	FUZZ_CHECK(isfinite(t->rtol) && t->rtol >= 0);
	FUZZ_CHECK(t->sustained >= 1);
	FUZZ_CHECK(t->nan == PARITY_NAN_EQUAL || t->nan == PARITY_NAN_DIFFER);
	FUZZ_CHECK(t->missing == PARITY_MISSING_VIOLATION || t->missing == PARITY_MISSING_SKIP);
	FUZZ_CHECK(t->verdict == PARITY_VERDICT_ANY || t->verdict == PARITY_VERDICT_SUSTAINED);
	FUZZ_CHECK(memchr(t->source, '\0', sizeof(t->source)) && t->source[0]);
}

static void judge(const struct parity_tol *t)
{
	static const double v[][2] = {{1, 1}, {1, 1.0000001}, {0, 1e-300}, {NAN, NAN},
				      {INFINITY, INFINITY}, {-0.0, 0.0}, {1e308, -1e308}, {3, NAN}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (int delta = 0; delta < 2; delta++)
			for (int miss = 0; miss < 3; miss++) {
				struct parity_step s;
				parity_judge(t, v[i][0], miss == 1 ? PV_MISSING : PV_OK, v[i][1],
					     miss == 2 ? PV_MISSING : PV_OK, delta, &s);
				if (s.violation)
					FUZZ_CHECK(s.compared);
				if (!delta && (!isfinite(v[i][0]) || !isfinite(v[i][1]) || miss))
					FUZZ_CHECK(isnan(s.abs_err));
				if (!isnan(s.abs_err))
					FUZZ_CHECK(s.abs_err >= 0);
				if (!isnan(s.tol))
					FUZZ_CHECK(s.tol >= 0);
			}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int lines = fuzz_lines(data, size);

	struct parity_conf *a = parity_conf_new(), *b = parity_conf_new();
	struct cs_err err;
	FUZZ_CHECK(parity_conf_add_text(a, "builtin", parity_conf, strlen(parity_conf), true, &err) == 0);
	FUZZ_CHECK(parity_conf_add_text(b, "builtin", parity_conf, strlen(parity_conf), true, &err) == 0);
	uint64_t d0 = parity_conf_digest(a);

	struct cs_err e1, e2;
	err_clear(&e1);
	err_clear(&e2);
	int r1 = parity_conf_add_text(a, "fuzz.conf", text, size, false, &e1);
	int r2 = parity_conf_add_text(b, "fuzz.conf", text, size, false, &e2);
	FUZZ_CHECK(r1 == r2);
	if (r1 < 0) {
		FUZZ_CHECK(!strcmp(e1.msg, e2.msg));
		FUZZ_CHECK(!strncmp(e1.msg, "fuzz.conf:", 10));
		if (!memchr(data, 0, size)) {
			int line = 0;
			FUZZ_CHECK(sscanf(e1.msg, "fuzz.conf:%d:", &line) == 1);
			FUZZ_CHECK(line >= 1 && line <= lines);
		}
		FUZZ_CHECK(parity_conf_digest(a) == d0);
	} else {
		FUZZ_CHECK(parity_conf_digest(a) == parity_conf_digest(b));
	}

	/* channels: the fixed names, and the input's first word */
	char word[64];
	size_t w = 0;
	while (w < size && w < sizeof(word) - 1 && data[w] > ' ' && data[w] < 0x7f)
		w++;
	memcpy(word, data, w);
	word[w] = '\0';
	for (int i = 0; i <= N_SERIES; i++) {
		const char *s = i < N_SERIES ? series[i] : word;
		struct buf name = BUF_INIT;
		enum parity_side side = parity_conf_side(a, s, &name);
		FUZZ_CHECK(side >= PARITY_NONE && side <= PARITY_DELTA);
		if (side != PARITY_NONE)
			FUZZ_CHECK(strstr(s, buf_cstr(&name)) != NULL);
		const char *ch = side != PARITY_NONE ? buf_cstr(&name) : s;
		struct parity_tol ta, tb;
		parity_conf_resolve(a, ch, NULL, 0, &ta);
		parity_conf_resolve(b, ch, NULL, 0, &tb);
		check_tol(&ta);
		if (r1 == 0)
			FUZZ_CHECK(!memcmp(&ta, &tb, sizeof(ta)) ||
				   (ta.atol == tb.atol && ta.rtol == tb.rtol &&
				    ta.max_ulps == tb.max_ulps && ta.sustained == tb.sustained));
		if (i < 3)
			judge(&ta);
		buf_release(&name);
	}
	parity_conf_free(a);
	parity_conf_free(b);
	return 0;
}
