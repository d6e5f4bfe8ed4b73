/* parityjson.c - the JSON writers of the parity report and of the metric
 * comparison (`ciscope parity --json`, and the diff's metrics[]/parity{}).
 * The field names are a contract (see parity.h). */
#include "parity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- JSON ---------------------------------------------------------------------------- */
void parity_json_num(struct buf *b, double v)
{
	if (isnan(v)) {
		buf_adds(b, "\"NaN\"");
	} else if (isinf(v)) {
		buf_adds(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	} else {
		/* the shortest of %.15g/%.17g that reads back exactly */
		char t[40];
		snprintf(t, sizeof(t), "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof(t), "%.17g", v);
		buf_adds(b, t);
	}
}

static void json_at_x(struct buf *b, const struct parity_at *a)
{
	if (a->set)
		parity_json_num(b, a->x);
	else
		buf_adds(b, "null");
}

static void json_at(struct buf *b, const struct parity_at *a)
{
	if (!a->set) {
		buf_adds(b, "null");
		return;
	}
	buf_adds(b, "{\"step\":");
	parity_json_num(b, a->x);
	buf_adds(b, ",\"value\":");
	parity_json_num(b, a->value);
	buf_addc(b, '}');
}

static void json_s(struct buf *b, const char *s)
{
	if (s)
		buf_add_json_str(b, s, strlen(s));
	else
		buf_adds(b, "null");
}

void parity_report_json(struct buf *b, const struct parity_report *rep)
{
	const char *verdict = rep->n_channels == 0 ? "none" : rep->fail ? "fail" : "pass";
	buf_addf(b, "{\"verdict\":\"%s\",\"deciding\":", verdict);
	json_s(b, rep->deciding >= 0 ? rep->channels[rep->deciding].name : NULL);
	buf_addf(b, ",\"kind\":\"%s\",\"config\":", rep->kind == PARITY_IN_RUN ? "run" : "run-vs-run");
	json_s(b, rep->conf_origin);
	buf_adds(b, ",\"channels\":[");
	for (int i = 0; i < rep->n_channels; i++) {
		const struct parity_channel *c = &rep->channels[i];
		if (i)
			buf_addc(b, ',');
		buf_adds(b, "{\"name\":");
		json_s(b, c->name);
		buf_adds(b, ",\"first_violation\":");
		json_at_x(b, &c->first_violation);
		buf_adds(b, ",\"first_sustained\":");
		json_at_x(b, &c->first_sustained);
		buf_adds(b, ",\"worst\":");
		if (c->worst.set) {
			buf_adds(b, "{\"step\":");
			parity_json_num(b, c->worst.x);
			buf_adds(b, ",\"excess\":");
			parity_json_num(b, c->worst.excess);
			buf_adds(b, ",\"ref\":");
			parity_json_num(b, c->worst.ref);
			buf_adds(b, ",\"cand\":");
			parity_json_num(b, c->worst.cand);
			buf_addc(b, '}');
		} else {
			buf_adds(b, "null");
		}
		buf_adds(b, ",\"max_abs\":");
		json_at(b, &c->max_abs);
		buf_adds(b, ",\"max_rel\":");
		json_at(b, &c->max_rel);
		buf_adds(b, ",\"norm1\":");
		parity_json_num(b, c->norm1);
		buf_adds(b, ",\"norm2\":");
		parity_json_num(b, c->norm2);
		buf_addf(b, ",\"violations\":%ld,\"steps\":%ld,\"missing\":%ld,\"fail\":%s,"
			    "\"informational\":%s,\"delta_only\":%s,\"series\":{\"ref\":",
			 c->violations, c->steps, c->missing, c->fail ? "true" : "false",
			 c->tol.informational ? "true" : "false", c->delta_only ? "true" : "false");
		json_s(b, c->ref_series);
		buf_adds(b, ",\"cand\":");
		json_s(b, c->cand_series);
		buf_adds(b, ",\"delta\":");
		json_s(b, c->delta_series);
		buf_adds(b, "},\"file\":");
		json_s(b, c->file);
		buf_adds(b, ",\"tolerance\":{\"atol\":");
		parity_json_num(b, c->tol.atol);
		buf_adds(b, ",\"rtol\":");
		parity_json_num(b, c->tol.rtol);
		buf_addf(b, ",\"max_ulps\":%llu,\"sustained\":%d,\"nan\":\"%s\",\"missing\":\"%s\","
			    "\"verdict\":\"%s\",\"source\":",
			 (unsigned long long)c->tol.max_ulps, c->tol.sustained,
			 c->tol.nan == PARITY_NAN_EQUAL ? "equal" : "differ",
			 c->tol.missing == PARITY_MISSING_SKIP ? "skip" : "violation",
			 c->tol.verdict == PARITY_VERDICT_SUSTAINED ? "sustained" : "any");
		json_s(b, c->tol.source);
		buf_adds(b, "},\"max_ulps\":");
		json_at(b, &c->max_ulps);
		buf_adds(b, ",\"first_steps\":[");
		for (int k = 0; k < c->n_first_steps; k++) {
			const struct parity_worst *w = &c->first_steps[k];
			buf_adds(b, k ? ",{\"step\":" : "{\"step\":");
			parity_json_num(b, w->x);
			buf_adds(b, ",\"excess\":");
			parity_json_num(b, w->excess);
			buf_adds(b, ",\"ref\":");
			parity_json_num(b, w->ref);
			buf_adds(b, ",\"cand\":");
			parity_json_num(b, w->cand);
			buf_addc(b, '}');
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "],\"unpaired\":[");
	for (int i = 0; i < rep->n_unpaired; i++) {
		if (i)
			buf_addc(b, ',');
		json_s(b, rep->unpaired[i]);
	}
	buf_adds(b, "]}");
}

void metric_compare_json(struct buf *b, const struct metric_compare *mc)
{
	buf_addc(b, '[');
	for (int i = 0; i < mc->n; i++) {
		const struct metric_change *m = &mc->items[i];
		if (i)
			buf_addc(b, ',');
		buf_adds(b, "{\"name\":");
		json_s(b, m->name);
		buf_adds(b, ",\"file\":");
		json_s(b, m->file);
		buf_addf(b, ",\"kind\":\"%s\",\"changed\":%s", m->series ? "series" : "scalar",
			 m->changed ? "true" : "false");
		if (!m->series) {
			buf_adds(b, ",\"run\":");
			if (isnan(m->run))
				buf_adds(b, "null");
			else
				parity_json_num(b, m->run);
			buf_adds(b, ",\"base\":");
			if (isnan(m->base))
				buf_adds(b, "null");
			else
				parity_json_num(b, m->base);
			buf_adds(b, ",\"change\":");
			if (isnan(m->abs_change))
				buf_adds(b, "null");
			else
				parity_json_num(b, m->abs_change);
			buf_adds(b, ",\"rel_change\":");
			if (isnan(m->rel_change))
				buf_adds(b, "null");
			else
				parity_json_num(b, m->rel_change);
		} else {
			buf_addf(b, ",\"points\":%ld,\"base_points\":%ld,\"differing\":%ld,"
				    "\"only_run\":%ld,\"only_base\":%ld,\"max_diff\":",
				 m->n_run, m->n_base, m->differing, m->only_run, m->only_base);
			if (m->max_diff.set) {
				buf_adds(b, "{\"step\":");
				parity_json_num(b, m->max_diff.x);
				buf_adds(b, ",\"run\":");
				parity_json_num(b, m->max_diff_run);
				buf_adds(b, ",\"base\":");
				parity_json_num(b, m->max_diff_base);
				buf_adds(b, ",\"diff\":");
				parity_json_num(b, m->max_diff.value);
				buf_addc(b, '}');
			} else {
				buf_adds(b, "null");
			}
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

