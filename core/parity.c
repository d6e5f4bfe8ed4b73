/* parity.c - parity channels: the arithmetic of a tolerance, one channel's
 * summary, the report of a run (and of a run against another), the metric
 * comparison of two runs, the chart of a channel. The settings are read in
 * parityconf.c, the JSON written in parityjson.c. See parity.h for the
 * semantics; the comments here say why. */
#include "parity.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the arithmetic --------------------------------------------------------------- */
/* Doubles as integers ordered like the reals: the sign-magnitude bits of a
 * negative number are mirrored below zero, so -0.0 and +0.0 meet at 0. */
static int64_t ordered_bits(double v)
{
	int64_t i;
	memcpy(&i, &v, sizeof(i));
	return i < 0 ? INT64_MIN - i : i;
}

uint64_t parity_ulps(double a, double b)
{
	if (!isfinite(a) || !isfinite(b))
		return UINT64_MAX;
	int64_t x = ordered_bits(a), y = ordered_bits(b);
	return x >= y ? (uint64_t)x - (uint64_t)y : (uint64_t)y - (uint64_t)x;
}

void parity_judge(const struct parity_tol *t, double ref, enum parity_val ref_state, double cand,
		  enum parity_val cand_state, bool delta_only, struct parity_step *out)
{
	memset(out, 0, sizeof(*out));
	out->abs_err = out->rel_err = NAN;
	out->ulps = UINT64_MAX;
	bool rm = ref_state == PV_MISSING, cm = cand_state == PV_MISSING;
	if (delta_only)
		rm = false; /* the reference only scales rtol; a delta alone is judged */
	double rscale = (ref_state == PV_MISSING || !isfinite(ref)) ? 0 : fabs(ref);
	out->tol = t->atol + t->rtol * rscale;
	if (rm && cm)
		return; /* nothing to compare */
	if (rm || cm) {
		if (t->missing == PARITY_MISSING_SKIP)
			return;
		out->compared = out->violation = true;
		out->excess = INFINITY;
		return;
	}
	out->compared = true;
	if (delta_only) {
		if (isnan(cand)) {
			out->violation = true;
			out->excess = INFINITY;
			return;
		}
		double d = fabs(cand);
		if (isinf(d)) {
			out->violation = true;
			out->excess = INFINITY;
			return;
		}
		out->abs_err = d;
		/* without a reference there is no relative error */
		out->rel_err = ref_state == PV_MISSING || !isfinite(ref) ? NAN
			     : rscale > 0 ? d / rscale : (d == 0 ? 0 : INFINITY);
		out->excess = out->tol > 0 ? d / out->tol : (d == 0 ? 0 : INFINITY);
		out->violation = out->excess > 1;
		return;
	}
	if (isnan(ref) || isnan(cand)) {
		bool both = isnan(ref) && isnan(cand);
		if (both && t->nan == PARITY_NAN_EQUAL)
			return; /* equal: compared, no error */
		out->violation = true;
		out->excess = INFINITY;
		return;
	}
	if (isinf(ref) || isinf(cand)) {
		if (ref == cand) {
			out->ulps = 0;
			return;
		}
		out->violation = true;
		out->excess = INFINITY;
		return;
	}
	double d = fabs(cand - ref);
	out->abs_err = d;
	out->rel_err = rscale > 0 ? d / rscale : (d == 0 ? 0 : INFINITY);
	out->ulps = parity_ulps(ref, cand);
	double ex = out->tol > 0 ? d / out->tol : (d == 0 ? 0 : INFINITY);
	if (t->max_ulps > 0) {
		double eu = (double)out->ulps / (double)t->max_ulps;
		if (eu < ex)
			ex = eu;
	}
	out->excess = ex;
	out->violation = ex > 1;
}

/* --- one channel -------------------------------------------------------------------- */
static void at_set(struct parity_at *a, double x, long idx, double v)
{
	a->set = true;
	a->x = x;
	a->idx = idx;
	a->value = v;
}

static struct parity_data *data_copy(const struct parity_data *d)
{
	struct parity_data *c = xcalloc(1, sizeof(*c));
	c->n = d->n;
	size_t n = d->n ? d->n : 1;
	c->x = xmalloc(n * sizeof(double));
	c->ref = xmalloc(n * sizeof(double));
	c->cand = xmalloc(n * sizeof(double));
	c->ref_missing = xcalloc(n, 1);
	c->cand_missing = xcalloc(n, 1);
	if (d->n) {
		memcpy(c->x, d->x, d->n * sizeof(double));
		memcpy(c->ref, d->ref, d->n * sizeof(double));
		memcpy(c->cand, d->cand, d->n * sizeof(double));
		if (d->ref_missing)
			memcpy(c->ref_missing, d->ref_missing, d->n);
		if (d->cand_missing)
			memcpy(c->cand_missing, d->cand_missing, d->n);
	}
	return c;
}

static void data_free(struct parity_data *d)
{
	if (!d)
		return;
	free(d->x);
	free(d->ref);
	free(d->cand);
	free(d->ref_missing);
	free(d->cand_missing);
	free(d);
}

void parity_channel_compute(struct parity_channel *ch, const struct parity_tol *tol,
			    const struct parity_data *d, bool keep_data)
{
	ch->tol = *tol;
	if (ch->tol.sustained < 1)
		ch->tol.sustained = 1;
	ch->steps = ch->violations = ch->missing = 0;
	memset(&ch->first_violation, 0, sizeof(ch->first_violation));
	memset(&ch->first_sustained, 0, sizeof(ch->first_sustained));
	memset(&ch->worst, 0, sizeof(ch->worst));
	memset(&ch->max_abs, 0, sizeof(ch->max_abs));
	memset(&ch->max_rel, 0, sizeof(ch->max_rel));
	memset(&ch->max_ulps, 0, sizeof(ch->max_ulps));
	ch->n_first_steps = 0;
	double sum1 = 0, sum2 = 0;
	long run = 0, run_start = 0;
	uint64_t best_ulps = 0;
	for (size_t i = 0; i < d->n; i++) {
		enum parity_val rs = d->ref_missing && d->ref_missing[i] ? PV_MISSING : PV_OK;
		enum parity_val cs = d->cand_missing && d->cand_missing[i] ? PV_MISSING : PV_OK;
		struct parity_step st;
		parity_judge(&ch->tol, d->ref[i], rs, d->cand[i], cs, ch->delta_only, &st);
		if (!st.compared)
			continue;
		ch->steps++;
		bool one_sided = ch->delta_only ? cs == PV_MISSING : (rs != cs);
		if (one_sided)
			ch->missing++;
		double x = d->x[i];
		if (st.violation) {
			ch->violations++;
			if (!ch->first_violation.set)
				at_set(&ch->first_violation, x, (long)i, st.excess);
			if (ch->n_first_steps < PARITY_FIRST_STEPS)
				ch->first_steps[ch->n_first_steps++] = (struct parity_worst){
					true, x, (long)i, st.excess, rs == PV_MISSING ? NAN : d->ref[i],
					cs == PV_MISSING ? NAN : d->cand[i]};
			if (run++ == 0)
				run_start = (long)i;
			if (run == ch->tol.sustained && !ch->first_sustained.set)
				at_set(&ch->first_sustained, d->x[run_start], run_start, 0);
		} else {
			run = 0;
		}
		if (!ch->worst.set || st.excess > ch->worst.excess) {
			ch->worst.set = true;
			ch->worst.x = x;
			ch->worst.idx = (long)i;
			ch->worst.excess = st.excess;
			ch->worst.ref = rs == PV_MISSING ? NAN : d->ref[i];
			ch->worst.cand = cs == PV_MISSING ? NAN : d->cand[i];
		}
		if (!isnan(st.abs_err)) {
			sum1 += st.abs_err;
			sum2 += st.abs_err * st.abs_err;
			if (!ch->max_abs.set || st.abs_err > ch->max_abs.value)
				at_set(&ch->max_abs, x, (long)i, st.abs_err);
			if (!isnan(st.rel_err) && (!ch->max_rel.set || st.rel_err > ch->max_rel.value))
				at_set(&ch->max_rel, x, (long)i, st.rel_err);
		}
		if (ch->tol.max_ulps > 0 && st.ulps != UINT64_MAX &&
		    (!ch->max_ulps.set || st.ulps > best_ulps)) {
			best_ulps = st.ulps;
			at_set(&ch->max_ulps, x, (long)i, (double)st.ulps);
		}
	}
	ch->norm1 = sum1;
	ch->norm2 = sqrt(sum2);
	if (ch->tol.informational)
		ch->fail = false;
	else if (ch->tol.verdict == PARITY_VERDICT_SUSTAINED)
		ch->fail = ch->first_sustained.set;
	else
		ch->fail = ch->violations > 0;
	data_free(ch->data);
	ch->data = keep_data ? data_copy(d) : NULL;
}

void parity_report_decide(struct parity_report *rep)
{
	rep->fail = false;
	rep->deciding = -1;
	for (int i = 0; i < rep->n_channels; i++)
		rep->fail |= rep->channels[i].fail;
	for (int i = 0; i < rep->n_channels; i++) {
		const struct parity_channel *c = &rep->channels[i];
		if (rep->fail && !c->fail)
			continue;
		if (rep->deciding < 0) {
			rep->deciding = i;
			continue;
		}
		const struct parity_channel *b = &rep->channels[rep->deciding];
		bool better;
		double cw = c->worst.set ? c->worst.excess : -1, bw = b->worst.set ? b->worst.excess : -1;
		if (rep->fail) {
			/* the first to diverge is usually the cause: energy drives positions */
			if (c->first_violation.set != b->first_violation.set)
				better = c->first_violation.set;
			else if (c->first_violation.set && c->first_violation.x != b->first_violation.x)
				better = c->first_violation.x < b->first_violation.x;
			else
				better = cw > bw;
		} else {
			/* informational channels do not make a pass look close */
			if (c->tol.informational != b->tol.informational)
				better = !c->tol.informational;
			else
				better = cw > bw;
		}
		if (better)
			rep->deciding = i;
	}
}

/* --- the store -------------------------------------------------------------------- */
struct sinfo {
	int64_t id, file_id;
	char *name;
	char *file;      /* artifact/path */
	long n_points;
};

struct slist {
	struct sinfo *v;
	size_t n, alloc;
	size_t *ord;     /* by name and file, after slist_index() */
};

static void slist_release(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].file);
	}
	free(l->v);
	free(l->ord);
	memset(l, 0, sizeof(*l));
}

static int load_series_list(struct store *st, int64_t run, struct slist *out, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT s.id, s.file_id, s.name, a.name, f.path, s.n_points "
			       "FROM metric_series s JOIN artifact_files f ON f.id = s.file_id "
			       "JOIN artifacts a ON a.id = f.artifact_id "
			       "WHERE s.run_id = ? ORDER BY a.name, f.path, s.id",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list the metric series");
	sqlite3_bind_int64(s, 1, run);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(out->v, out->alloc, out->n + 1);
		struct sinfo *i = &out->v[out->n++];
		i->id = sqlite3_column_int64(s, 0);
		i->file_id = sqlite3_column_int64(s, 1);
		i->name = xstrdup((const char *)sqlite3_column_text(s, 2));
		i->file = xasprintf("%s/%s", (const char *)sqlite3_column_text(s, 3),
				    (const char *)sqlite3_column_text(s, 4));
		i->n_points = (long)sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot list the metric series");
	return 0;
}

struct points {
	long *idx;
	double *x, *v;
	unsigned char *missing;
	size_t n;
};

static void points_release(struct points *p)
{
	free(p->idx);
	free(p->x);
	free(p->v);
	free(p->missing);
	memset(p, 0, sizeof(*p));
}

static int load_points(struct store *st, int64_t series, long hint, struct points *p,
		       struct cs_err *err)
{
	sqlite3_stmt *s;
	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(st->db,
			       "SELECT idx, x, value FROM metric_points WHERE series_id = ? ORDER BY idx",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read metric points");
	sqlite3_bind_int64(s, 1, series);
	size_t alloc = hint > 0 ? (size_t)hint : 16;
	p->idx = xmalloc(alloc * sizeof(long));
	p->x = xmalloc(alloc * sizeof(double));
	p->v = xmalloc(alloc * sizeof(double));
	p->missing = xmalloc(alloc);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (p->n == alloc) {
			alloc *= 2;
			p->idx = xrealloc(p->idx, alloc * sizeof(long));
			p->x = xrealloc(p->x, alloc * sizeof(double));
			p->v = xrealloc(p->v, alloc * sizeof(double));
			p->missing = xrealloc(p->missing, alloc);
		}
		p->idx[p->n] = (long)sqlite3_column_int64(s, 0);
		p->x[p->n] = sqlite3_column_double(s, 1);
		bool m = sqlite3_column_type(s, 2) == SQLITE_NULL;
		p->v[p->n] = m ? NAN : sqlite3_column_double(s, 2);
		p->missing[p->n] = m;
		p->n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		points_release(p);
		return store_err(st, err, "cannot read metric points");
	}
	return 0;
}

/* Sort order of a series by x, stable (rows keep their order within an x). */
static const struct points *sort_pts;
static int by_x(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double xi = sort_pts->x[i], xj = sort_pts->x[j];
	if (xi != xj)
		return xi < xj ? -1 : 1;
	return i < j ? -1 : i > j;
}

static size_t *order_by_x(const struct points *p)
{
	size_t *o = xmalloc((p->n ? p->n : 1) * sizeof(size_t));
	bool sorted = true;
	for (size_t i = 0; i < p->n; i++) {
		o[i] = i;
		if (i && p->x[i] < p->x[i - 1])
			sorted = false;
	}
	if (!sorted) {
		sort_pts = p;
		qsort(o, p->n, sizeof(size_t), by_x);
		sort_pts = NULL;
	}
	return o;
}

/* One side of an aligned point: p's point at when here (returns 1, it is
 * taken), else missing (returns 0). */
static int take_point(bool here, const struct points *p, size_t at, double *x, double *v,
		      unsigned char *missing)
{
	if (!here) {
		*v = NAN;
		*missing = 1;
		return 0;
	}
	*x = p->x[at];
	*v = p->v[at];
	*missing = p->missing[at];
	return 1;
}

/* Align a (ref) and b (cand) into d: by row when by_row, else by x (the
 * k-th point of an x on one side with the k-th on the other). A point on
 * one side only is missing on the other. */
static void align(const struct points *a, const struct points *b, bool by_row,
		  struct parity_data *d)
{
	size_t cap = a->n + b->n + 1;
	d->x = xmalloc(cap * sizeof(double));
	d->ref = xmalloc(cap * sizeof(double));
	d->cand = xmalloc(cap * sizeof(double));
	d->ref_missing = xmalloc(cap);
	d->cand_missing = xmalloc(cap);
	d->n = 0;
	size_t *oa = by_row ? NULL : order_by_x(a), *ob = by_row ? NULL : order_by_x(b);
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		size_t ia = oa ? (i < a->n ? oa[i] : 0) : i, jb = ob ? (j < b->n ? ob[j] : 0) : j;
		int c;
		if (i >= a->n)
			c = 1;
		else if (j >= b->n)
			c = -1;
		else if (by_row)
			c = a->idx[ia] < b->idx[jb] ? -1 : a->idx[ia] > b->idx[jb];
		else
			c = a->x[ia] < b->x[jb] ? -1 : a->x[ia] > b->x[jb];
		size_t k = d->n++;
		i += take_point(c <= 0, a, ia, &d->x[k], &d->ref[k], &d->ref_missing[k]);
		j += take_point(c >= 0, b, jb, &d->x[k], &d->cand[k], &d->cand_missing[k]);
	}
	free(oa);
	free(ob);
}

/* The points of series a (NULL: none) and b, aligned into d (by row, else
 * by x value). */
static int load_aligned(struct store *st, const struct sinfo *a, const struct sinfo *b,
			bool by_row, struct parity_data *d, struct cs_err *err)
{
	struct points pa = {0}, pb = {0};
	if ((a && load_points(st, a->id, a->n_points, &pa, err) < 0) ||
	    load_points(st, b->id, b->n_points, &pb, err) < 0) {
		points_release(&pa);
		return -1;
	}
	align(&pa, &pb, by_row, d);
	points_release(&pa);
	points_release(&pb);
	return 0;
}

static void data_release_inline(struct parity_data *d)
{
	free(d->x);
	free(d->ref);
	free(d->cand);
	free(d->ref_missing);
	free(d->cand_missing);
	memset(d, 0, sizeof(*d));
}

/* The summary's scalars: single-point series of the run. */
static void run_scalars(struct store *st, const struct slist *l, struct parity_scalar **out,
			size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++)
		k += l->v[i].n_points == 1;
	if (!k)
		return;
	*out = xcalloc(k, sizeof(**out));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM metric_points WHERE series_id = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].n_points != 1)
			continue;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, l->v[i].id);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
			struct parity_scalar *p = &(*out)[(*n)++];
			p->name = l->v[i].name;
			p->value = sqlite3_column_double(s, 0);
			p->file = l->v[i].file;
		}
	}
	sqlite3_finalize(s);
}

/* A JSON document holds scalars (a summary: max_abs_delta, first_divergence
 * .abs_delta), not step series: its leaves never form channels. */
static bool is_document(const struct sinfo *s)
{
	return str_ends(s->file, ".json") || str_ends(s->file, ".JSON");
}

struct chan_build {
	char *name;
	int64_t file_id;
	const struct sinfo *side[3]; /* ref, cand, delta */
};

static int cb_by_name(const void *a, const void *b)
{
	const struct chan_build *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->file_id < y->file_id ? -1 : x->file_id > y->file_id);
}

/* Group a run's series into channels (within one artifact file). Returns
 * the channels; series with no partner go to unpaired. */
static struct chan_build *find_channels(const struct parity_conf *conf, const struct slist *l,
					int *n_out, char ***unpaired, int *n_unpaired)
{
	struct chan_build *cb = NULL;
	size_t n = 0, alloc = 0;
	struct buf name = BUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		if (is_document(&l->v[i]))
			continue;
		enum parity_side side = parity_conf_side(conf, l->v[i].name, &name);
		if (side == PARITY_NONE)
			continue;
		size_t k;
		for (k = 0; k < n; k++)
			if (cb[k].file_id == l->v[i].file_id && !strcmp(cb[k].name, name.data))
				break;
		if (k == n) {
			XGROW(cb, alloc, n + 1);
			memset(&cb[n], 0, sizeof(cb[n]));
			cb[n].name = xstrdup(name.data);
			cb[n].file_id = l->v[i].file_id;
			n++;
		}
		if (!cb[k].side[side - 1])
			cb[k].side[side - 1] = &l->v[i];
	}
	buf_release(&name);
	size_t w = 0;
	for (size_t k = 0; k < n; k++) {
		bool ok = cb[k].side[2] || (cb[k].side[0] && cb[k].side[1]);
		if (!ok) {
			for (int s = 0; s < 3; s++)
				if (cb[k].side[s]) {
					*unpaired = xrealloc(*unpaired, sizeof(char *) * (size_t)(*n_unpaired + 1));
					(*unpaired)[(*n_unpaired)++] = xstrdup(cb[k].side[s]->name);
				}
			free(cb[k].name);
			continue;
		}
		cb[w++] = cb[k];
	}
	if (w)
		qsort(cb, w, sizeof(*cb), cb_by_name);
	*n_out = (int)w;
	return cb;
}

/* Channel names are unique in a report: the same name in two files gets the
 * file in front ("parity/b.csv:energy"). */
static char *channel_label(const struct chan_build *cb, int n, int i, const char *file)
{
	bool dup = (i > 0 && !strcmp(cb[i - 1].name, cb[i].name)) ||
		   (i + 1 < n && !strcmp(cb[i + 1].name, cb[i].name));
	return dup ? xasprintf("%s:%s", file, cb[i].name) : xstrdup(cb[i].name);
}

static bool name_matches(const char *only, const struct parity_channel *ch)
{
	if (!only)
		return true;
	if (!strcmp(only, ch->name))
		return true;
	const char *colon = strrchr(ch->name, ':');
	if (colon && !strcmp(only, colon + 1))
		return true;
	return (ch->ref_series && !strcmp(only, ch->ref_series)) ||
	       (ch->cand_series && !strcmp(only, ch->cand_series)) ||
	       (ch->delta_series && !strcmp(only, ch->delta_series));
}

void parity_channel_release(struct parity_channel *c)
{
	free(c->name);
	free(c->ref_series);
	free(c->cand_series);
	free(c->delta_series);
	free(c->file);
	data_free(c->data);
	memset(c, 0, sizeof(*c));
}

void parity_report_release(struct parity_report *rep)
{
	for (int i = 0; i < rep->n_channels; i++)
		parity_channel_release(&rep->channels[i]);
	free(rep->channels);
	for (int i = 0; i < rep->n_unpaired; i++)
		free(rep->unpaired[i]);
	free(rep->unpaired);
	free(rep->conf_origin);
	memset(rep, 0, sizeof(*rep));
	rep->deciding = -1;
}

const struct parity_channel *parity_report_find(const struct parity_report *rep, const char *name)
{
	for (int i = 0; i < rep->n_channels; i++)
		if (name_matches(name, &rep->channels[i]))
			return &rep->channels[i];
	return NULL;
}

static struct parity_channel *add_channel(struct parity_report *rep)
{
	rep->channels = xrealloc(rep->channels, sizeof(*rep->channels) * (size_t)(rep->n_channels + 1));
	struct parity_channel *c = &rep->channels[rep->n_channels++];
	memset(c, 0, sizeof(*c));
	return c;
}

/* A report's end: released on failure (rc < 0, returns -1), else decided. */
static int report_finish(struct parity_report *out, int rc)
{
	if (rc < 0) {
		parity_report_release(out);
		return -1;
	}
	parity_report_decide(out);
	return 0;
}

int parity_run(struct store *st, const struct parity_conf *conf, int64_t run_row_id,
	       const char *only, int flags, struct parity_report *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	out->kind = PARITY_IN_RUN;
	out->run_row_id = run_row_id;
	out->deciding = -1;
	if (parity_conf_origin(conf))
		out->conf_origin = xstrdup(parity_conf_origin(conf));
	struct slist l = {0};
	if (load_series_list(st, run_row_id, &l, err) < 0)
		return -1;
	struct parity_scalar *sc;
	size_t n_sc;
	run_scalars(st, &l, &sc, &n_sc);
	int n_cb = 0;
	struct chan_build *cb = find_channels(conf, &l, &n_cb, &out->unpaired, &out->n_unpaired);
	int rc = 0;
	for (int i = 0; i < n_cb && rc == 0; i++) {
		const struct sinfo *any = cb[i].side[0] ? cb[i].side[0] : cb[i].side[1] ? cb[i].side[1] : cb[i].side[2];
		struct parity_channel probe = {0};
		probe.name = channel_label(cb, n_cb, i, any->file);
		probe.ref_series = cb[i].side[0] ? xstrdup(cb[i].side[0]->name) : NULL;
		probe.cand_series = cb[i].side[1] ? xstrdup(cb[i].side[1]->name) : NULL;
		probe.delta_series = cb[i].side[2] ? xstrdup(cb[i].side[2]->name) : NULL;
		probe.file = xstrdup(any->file);
		if (!name_matches(only, &probe)) {
			parity_channel_release(&probe);
			continue;
		}
		probe.delta_only = !(cb[i].side[0] && cb[i].side[1]);
		const struct sinfo *sa = cb[i].side[0], *sb = probe.delta_only ? cb[i].side[2] : cb[i].side[1];
		struct parity_data d = {0};
		if (load_aligned(st, sa, sb, true, &d, err) < 0) {
			parity_channel_release(&probe);
			rc = -1;
			break;
		}
		struct parity_tol tol;
		parity_conf_resolve(conf, cb[i].name, sc, n_sc, &tol);
		struct parity_channel *c = add_channel(out);
		*c = probe;
		parity_channel_compute(c, &tol, &d, flags & PARITY_KEEP_DATA);
		data_release_inline(&d);
	}
	for (int i = 0; i < n_cb; i++)
		free(cb[i].name);
	free(cb);
	free(sc);
	slist_release(&l);
	return report_finish(out, rc);
}

/* A list's series sorted by name then file, to find the series of one run
 * that stands for a series of another without a quadratic scan (a JSON
 * document may have thousands of leaves). */
static const struct slist *sort_list;
static int by_name_file(const void *a, const void *b)
{
	const struct sinfo *x = &sort_list->v[*(const size_t *)a], *y = &sort_list->v[*(const size_t *)b];
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->file, y->file);
}

static void slist_index(struct slist *l)
{
	l->ord = xmalloc((l->n ? l->n : 1) * sizeof(size_t));
	for (size_t i = 0; i < l->n; i++)
		l->ord[i] = i;
	sort_list = l;
	qsort(l->ord, l->n, sizeof(size_t), by_name_file);
	sort_list = NULL;
}

/* The series of l (indexed) that stands for s of another run: same file and
 * name, else the same name when it is unique in l. */
static const struct sinfo *same_series(const struct slist *l, const struct sinfo *s)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l->v[l->ord[mid]].name, s->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct sinfo *first = NULL;
	int n_name = 0;
	for (size_t k = lo; k < l->n && !strcmp(l->v[l->ord[k]].name, s->name); k++) {
		const struct sinfo *c = &l->v[l->ord[k]];
		if (!strcmp(c->file, s->file))
			return c;
		if (!first)
			first = c;
		n_name++;
	}
	return n_name == 1 ? first : NULL;
}

/* Whether a series of l in s's file is the candidate of channel chname */
static bool has_cand(const struct parity_conf *conf, const struct slist *l,
		     const struct sinfo *s, const char *chname)
{
	bool found = false;
	for (size_t k = 0; k < l->n && !found; k++) {
		struct buf nm = BUF_INIT;
		found = l->v[k].file_id == s->file_id &&
			parity_conf_side(conf, l->v[k].name, &nm) == PARITY_CAND &&
			!strcmp(nm.data, chname);
		buf_release(&nm);
	}
	return found;
}

/* The series of a run (lr) and of a base run (lb, indexed), or -1 with
 * nothing held */
static int load_two_lists(struct store *st, int64_t run_row_id, int64_t base_row_id,
			  struct slist *lr, struct slist *lb, struct cs_err *err)
{
	memset(lr, 0, sizeof(*lr));
	memset(lb, 0, sizeof(*lb));
	if (load_series_list(st, run_row_id, lr, err) < 0 ||
	    load_series_list(st, base_row_id, lb, err) < 0) {
		slist_release(lr);
		return -1;
	}
	slist_index(lb);
	return 0;
}

int parity_runs(struct store *st, const struct parity_conf *conf, int64_t run_row_id,
		int64_t base_row_id, const char *only, int flags, struct parity_report *out,
		struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	out->kind = PARITY_RUN_VS_RUN;
	out->run_row_id = run_row_id;
	out->base_row_id = base_row_id;
	out->deciding = -1;
	if (parity_conf_origin(conf))
		out->conf_origin = xstrdup(parity_conf_origin(conf));
	struct slist lr, lb;
	if (load_two_lists(st, run_row_id, base_row_id, &lr, &lb, err) < 0)
		return -1;
	struct parity_scalar *sc;
	size_t n_sc;
	run_scalars(st, &lr, &sc, &n_sc);
	/* what to compare: the candidate (else delta) of each channel, or the
	 * series `only` names */
	struct buf chname = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < lr.n && rc == 0; i++) {
		const struct sinfo *s = &lr.v[i];
		if (is_document(s) && !(only && !strcmp(only, s->name)))
			continue;
		enum parity_side side = parity_conf_side(conf, s->name, &chname);
		bool want;
		if (only) {
			want = !strcmp(only, s->name) ||
			       (side != PARITY_NONE && side != PARITY_REF && !strcmp(only, chname.data));
			if (want && side == PARITY_DELTA && strcmp(only, s->name)) {
				/* a channel name picks its candidate when it has one */
				if (has_cand(conf, &lr, s, chname.data))
					want = false;
			}
		} else if (side == PARITY_CAND) {
			want = true;
		} else if (side == PARITY_DELTA) {
			want = !has_cand(conf, &lr, s, chname.data);
		} else {
			want = false;
		}
		if (!want)
			continue;
		const struct sinfo *bs = same_series(&lb, s);
		if (!bs) {
			out->unpaired = xrealloc(out->unpaired, sizeof(char *) * (size_t)(out->n_unpaired + 1));
			out->unpaired[out->n_unpaired++] = xstrdup(s->name);
			continue;
		}
		struct parity_data d = {0};
		if (load_aligned(st, bs, s, false, &d, err) < 0) {
			rc = -1;
			break;
		}
		struct parity_tol tol;
		parity_conf_resolve(conf, side != PARITY_NONE ? chname.data : s->name, sc, n_sc, &tol);
		struct parity_channel *c = add_channel(out);
		c->name = xstrdup(s->name);
		c->ref_series = xstrdup(bs->name);
		c->cand_series = xstrdup(s->name);
		c->file = xstrdup(s->file);
		parity_channel_compute(c, &tol, &d, flags & PARITY_KEEP_DATA);
		data_release_inline(&d);
	}
	buf_release(&chname);
	free(sc);
	slist_release(&lr);
	slist_release(&lb);
	return report_finish(out, rc);
}

/* --- run vs baseline metrics ---------------------------------------------------------- */
static void add_name(char ***arr, int *n, const char *s)
{
	*arr = xrealloc(*arr, sizeof(char *) * (size_t)(*n + 1));
	(*arr)[(*n)++] = xstrdup(s);
}

static double change_rank(const struct metric_change *m)
{
	if (!m->changed)
		return -1;
	if (!m->series)
		return isnan(m->rel_change) ? INFINITY : fabs(m->rel_change);
	double base = fabs(m->max_diff_base);
	double d = fabs(m->max_diff.value);
	if (!m->max_diff.set)
		return 0; /* steps on one side only: changed, by no amount */
	return base > 0 ? d / base : (d > 0 ? INFINITY : 0);
}

static int by_change(const void *a, const void *b)
{
	const struct metric_change *x = a, *y = b;
	if (x->changed != y->changed)
		return x->changed ? -1 : 1;
	if (x->changed && x->series != y->series)
		return x->series ? 1 : -1;
	double rx = change_rank(x), ry = change_rank(y);
	if (rx != ry)
		return rx > ry ? -1 : 1;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->file, y->file);
}

/* Two values differ unless both are missing or bitwise-equal numbers. */
static bool differ(double a, bool am, double b, bool bm)
{
	if (am || bm)
		return am != bm;
	return !(a == b || (isnan(a) && isnan(b)));
}

int metric_compare_runs(struct store *st, int64_t run_row_id, int64_t base_row_id,
			struct metric_compare *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	struct slist lr, lb;
	if (load_two_lists(st, run_row_id, base_row_id, &lr, &lb, err) < 0)
		return -1;
	slist_index(&lr);
	int rc = 0;
	bool *used = xcalloc(lb.n + 1, 1);
	for (size_t i = 0; i < lr.n && rc == 0; i++) {
		const struct sinfo *s = &lr.v[i];
		const struct sinfo *bs = same_series(&lb, s);
		if (!bs) {
			add_name(&out->only_run, &out->n_only_run, s->name);
			continue;
		}
		used[bs - lb.v] = true;
		struct points a = {0}, b = {0};
		if (load_points(st, s->id, s->n_points, &a, err) < 0 ||
		    load_points(st, bs->id, bs->n_points, &b, err) < 0) {
			points_release(&a);
			rc = -1;
			break;
		}
		out->items = xrealloc(out->items, sizeof(*out->items) * (size_t)(out->n + 1));
		struct metric_change *m = &out->items[out->n++];
		memset(m, 0, sizeof(*m));
		m->name = xstrdup(s->name);
		m->file = xstrdup(s->file);
		m->n_run = (long)a.n;
		m->n_base = (long)b.n;
		m->series = !(a.n == 1 && b.n == 1);
		if (!m->series) {
			m->run = a.missing[0] ? NAN : a.v[0];
			m->base = b.missing[0] ? NAN : b.v[0];
			m->abs_change = m->run - m->base;
			m->rel_change = m->base != 0 ? m->abs_change / fabs(m->base)
				      : (m->abs_change == 0 ? 0 : INFINITY);
			m->changed = differ(a.v[0], a.missing[0], b.v[0], b.missing[0]);
		} else {
			struct parity_data d = {0};
			align(&b, &a, false, &d); /* ref = base, cand = run */
			for (size_t k = 0; k < d.n; k++) {
				bool bm = d.ref_missing[k], am = d.cand_missing[k];
				if (am != bm) {
					if (am)
						m->only_base++;
					else
						m->only_run++;
					continue;
				}
				if (!differ(d.cand[k], am, d.ref[k], bm))
					continue;
				m->differing++;
				double diff = d.cand[k] - d.ref[k];
				if (isfinite(diff) && (!m->max_diff.set || fabs(diff) > fabs(m->max_diff.value))) {
					at_set(&m->max_diff, d.x[k], (long)k, diff);
					m->max_diff_run = d.cand[k];
					m->max_diff_base = d.ref[k];
				}
			}
			m->changed = m->differing > 0 || m->only_run > 0 || m->only_base > 0;
			data_release_inline(&d);
		}
		points_release(&a);
		points_release(&b);
	}
	for (size_t k = 0; rc == 0 && k < lb.n; k++)
		if (!used[k] && !same_series(&lr, &lb.v[k]))
			add_name(&out->only_base, &out->n_only_base, lb.v[k].name);
	free(used);
	slist_release(&lr);
	slist_release(&lb);
	if (rc < 0) {
		metric_compare_release(out);
		return -1;
	}
	if (out->n)
		qsort(out->items, (size_t)out->n, sizeof(*out->items), by_change);
	return 0;
}

/* A number for the text forms: "-" for NAN, else %.9g. */
static void change_num(struct buf *b, double v)
{
	if (v != v)
		buf_adds(b, "-");
	else
		buf_addf(b, "%.9g", v == 0 ? 0.0 : v); /* never "-0" */
}

void metric_change_text(struct buf *b, const struct metric_change *m)
{
	if (!m->series) {
		buf_adds(b, ": ");
		change_num(b, m->run);
		buf_adds(b, " (was ");
		change_num(b, m->base);
		buf_adds(b, ", ");
		if (m->abs_change >= 0)
			buf_addc(b, '+');
		change_num(b, m->abs_change);
		if (m->rel_change == m->rel_change && m->rel_change != 1.0 / 0.0 &&
		    m->rel_change != -1.0 / 0.0) {
			double pct = 100.0 * m->rel_change;
			if (fabs(round(pct * 10)) < 1) /* shows as 0.0: no sign, never "-0.0%" */
				buf_adds(b, ", 0.0%");
			else
				buf_addf(b, ", %+.1f%%", pct);
		}
		buf_addc(b, ')');
	} else {
		buf_addf(b, ": %ld of %ld steps differ", m->differing, m->n_run);
		if (m->max_diff.set) {
			buf_adds(b, ", most at step ");
			change_num(b, m->max_diff.x);
			buf_adds(b, " (");
			change_num(b, m->max_diff_run);
			buf_adds(b, " vs ");
			change_num(b, m->max_diff_base);
			buf_addc(b, ')');
		}
	}
}

void parity_channel_text(struct buf *b, const struct parity_channel *ch)
{
	buf_addf(b, ": %ld/%ld steps beyond tolerance", ch->violations, ch->steps);
	if (ch->first_violation.set) {
		buf_adds(b, ", first at step ");
		change_num(b, ch->first_violation.x);
	}
	if (ch->first_sustained.set) {
		buf_adds(b, ", sustained from ");
		change_num(b, ch->first_sustained.x);
	}
	if (ch->worst.set && ch->violations) {
		buf_adds(b, ", worst ");
		change_num(b, ch->worst.excess);
		buf_adds(b, "x at step ");
		change_num(b, ch->worst.x);
	}
}

void metric_compare_release(struct metric_compare *mc)
{
	for (int i = 0; i < mc->n; i++) {
		free(mc->items[i].name);
		free(mc->items[i].file);
	}
	free(mc->items);
	for (int i = 0; i < mc->n_only_run; i++)
		free(mc->only_run[i]);
	for (int i = 0; i < mc->n_only_base; i++)
		free(mc->only_base[i]);
	free(mc->only_run);
	free(mc->only_base);
	memset(mc, 0, sizeof(*mc));
}

/* --- the chart of a channel ------------------------------------------------------------ */
int parity_plot_init(struct parity_plot *p, const struct parity_channel *ch,
		     enum parity_plot_mode mode, struct cs_err *err)
{
	memset(p, 0, sizeof(*p));
	const struct parity_data *d = ch->data;
	if (!d)
		return err_set(err, CS_EINVAL, "channel '%s': no data kept for a chart", ch->name);
	size_t n = d->n ? d->n : 1;
	p->y0 = xmalloc(n * sizeof(double));
	p->y1 = xmalloc(n * sizeof(double));
	for (size_t i = 0; i < d->n; i++) {
		bool rm = d->ref_missing && d->ref_missing[i], cm = d->cand_missing && d->cand_missing[i];
		if (mode == PARITY_PLOT_SIDES) {
			p->y0[i] = rm ? NAN : d->ref[i];
			p->y1[i] = cm ? NAN : d->cand[i];
			continue;
		}
		struct parity_step st;
		parity_judge(&ch->tol, d->ref[i], rm ? PV_MISSING : PV_OK, d->cand[i],
			     cm ? PV_MISSING : PV_OK, ch->delta_only, &st);
		p->y0[i] = st.abs_err; /* NaN where there is no finite difference: a gap */
		p->y1[i] = st.tol;
	}
	snprintf(p->title, sizeof(p->title), "%s", ch->name);
	if (mode == PARITY_PLOT_SIDES) {
		snprintf(p->label[0], sizeof(p->label[0]), "%s", ch->ref_series ? ch->ref_series : "ref");
		snprintf(p->label[1], sizeof(p->label[1]), "%s",
			 ch->cand_series ? ch->cand_series : ch->delta_series ? ch->delta_series : "cand");
		p->series[0] = (struct chart_series){p->label[0], d->x, p->y0, d->n, CHART_REF, 'o', false};
		p->series[1] = (struct chart_series){p->label[1], d->x, p->y1, d->n, CHART_CAND, '*', false};
	} else {
		if (ch->delta_only)
			snprintf(p->label[0], sizeof(p->label[0]), "|%s|",
				 ch->delta_series ? ch->delta_series : ch->name);
		else
			snprintf(p->label[0], sizeof(p->label[0]), "|cand - ref|");
		snprintf(p->label[1], sizeof(p->label[1]), "tolerance");
		/* the tolerance first: |d| is drawn over it */
		p->series[0] = (struct chart_series){p->label[1], d->x, p->y1, d->n, CHART_THRESHOLD, '-', true};
		p->series[1] = (struct chart_series){p->label[0], d->x, p->y0, d->n, CHART_DELTA, '*', false};
	}
	int nm = 0;
	if (ch->first_violation.set) {
		char x[40];
		chart_format_num(ch->first_violation.x, x, sizeof(x));
		snprintf(p->mark_label[nm], sizeof(p->mark_label[nm]), "first violation %s", x);
		p->marks[nm] = (struct chart_mark){p->mark_label[nm], ch->first_violation.x, CHART_FAIL};
		nm++;
	}
	if (ch->first_sustained.set && (!ch->first_violation.set ||
					ch->first_sustained.x != ch->first_violation.x)) {
		char x[40];
		chart_format_num(ch->first_sustained.x, x, sizeof(x));
		snprintf(p->mark_label[nm], sizeof(p->mark_label[nm]), "sustained from %s", x);
		p->marks[nm] = (struct chart_mark){p->mark_label[nm], ch->first_sustained.x, CHART_MARK};
		nm++;
	}
	p->chart.title = p->title;
	p->chart.x_title = "step";
	p->chart.series = p->series;
	p->chart.n_series = 2;
	p->chart.marks = p->marks;
	p->chart.n_marks = nm;
	return 0;
}

void parity_plot_release(struct parity_plot *p)
{
	free(p->y0);
	free(p->y1);
	memset(p, 0, sizeof(*p));
}
