/* thresholds.c - metric thresholds (see metrics.h): the thresholds file
 * parsed, a series judged against its rules at a point, and the thresholds
 * of the runs an import brought. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitrepo.h"
#include "metrics.h"
#include "metricsint.h"
#include "storesql.h"

/* --- thresholds ------------------------------------------------------------------------- */
extern const char thresholds_conf[];

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static int parse_bound(const char *origin, int line, enum th_level level, char *t,
		       struct th_bound *b, struct cs_err *err)
{
	memset(b, 0, sizeof(*b));
	b->level = level;
	snprintf(b->text, sizeof(b->text), "%s", t);
	char *p = t;
	if (p[0] == '<' && p[1] == '=') {
		b->op = 'l';
		p += 2;
	} else if (p[0] == '>' && p[1] == '=') {
		b->op = 'g';
		p += 2;
	} else if (*p == '<' || *p == '>') {
		b->op = *p++;
	} else if (*p == '+' || *p == '-') {
		b->op = *p++;
		b->kind = TH_REGRESS;
	} else {
		return err_set(err, CS_EINVAL, "%s:%d: a bound is <=, <, >=, > VALUE [UNIT] or "
					       "+VALUE [UNIT] / -VALUE [UNIT], not \"%s\"",
			       origin, line, t);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	char *end;
	errno = 0;
	double v = strtod(p, &end);
	if (end == p || errno || !isfinite(v) || (b->kind == TH_REGRESS && v < 0))
		return err_set(err, CS_EINVAL, "%s:%d: \"%s\": expected a number", origin, line, t);
	b->value = v;
	char *u = trim(end);
	if (*u) {
		if (!metric_unit_find(u))
			return err_set(err, CS_EINVAL, "%s:%d: unknown unit \"%s\" (ms s min B KiB MiB "
						       "GiB KB MB GB %%)", origin, line, u);
		snprintf(b->unit, sizeof(b->unit), "%s", u);
	}
	return 0;
}

static void rule_free(struct th_rule *r)
{
	free(r->glob);
	free(r->workflow);
	free(r->branch);
	free(r->bounds);
}

int th_conf_add_text(struct th_conf *c, const char *origin, const char *text, size_t n,
		     struct cs_err *err)
{
	err_clear(err);
	/* a NUL would end the text early: what follows it would be ignored */
	const char *nul = memchr(text, '\0', n);
	if (nul) {
		int at = 1;
		for (const char *q = text; q < nul; q++)
			at += *q == '\n';
		return err_set(err, CS_EINVAL, "%s:%d: a NUL byte: not a thresholds file", origin,
			       at);
	}
	char *copy = xstrndup(text, n);
	int first_new = c->n;
	bool in_cp = false, in_rule = false;
	struct cp_conf cp = c->cp;
	int line = 0;
	char *save = NULL;
	for (char *ln = copy, *next; ln; ln = next) {
		next = strchr(ln, '\n');
		if (next)
			*next++ = 0;
		line++;
		if (!utf8_valid(ln, strlen(ln))) {
			err_set(err, CS_EINVAL, "%s:%d: not UTF-8 text", origin, line);
			goto fail;
		}
		bool indented = *ln == ' ' || *ln == '\t';
		char *hash = strchr(ln, '#');
		if (hash)
			*hash = 0;
		char *t = trim(ln);
		if (!*t)
			continue;
		char *kw = t, *arg = t;
		while (*arg && *arg != ' ' && *arg != '\t')
			arg++;
		if (*arg)
			*arg++ = 0;
		arg = trim(arg);
		if (!indented) {
			in_cp = in_rule = false;
			if (!strcmp(kw, "changepoints")) {
				if (*arg) {
					err_set(err, CS_EINVAL, "%s:%d: changepoints takes no argument",
						origin, line);
					goto fail;
				}
				in_cp = true;
			} else if (!strcmp(kw, "threshold")) {
				if (!*arg || strchr(arg, ' ') || strchr(arg, '\t')) {
					err_set(err, CS_EINVAL, "%s:%d: threshold names one metric "
								"(a glob)", origin, line);
					goto fail;
				}
				XGROW(c->rules, c->alloc, (size_t)c->n + 1);
				struct th_rule *r = &c->rules[c->n++];
				memset(r, 0, sizeof(*r));
				r->glob = xstrdup(arg);
				r->baseline_n = 10;
				snprintf(r->origin, sizeof(r->origin), "%s:%d", origin, line);
				in_rule = true;
			} else {
				err_set(err, CS_EINVAL, "%s:%d: unknown block \"%s\" (threshold, "
							"changepoints)", origin, line, kw);
				goto fail;
			}
			continue;
		}
		if (in_cp) {
			char *end;
			double v = strtod(arg, &end);
			if (!*arg || *trim(end) || !isfinite(v) || v < 0) {
				err_set(err, CS_EINVAL, "%s:%d: %s: expected a number", origin, line, kw);
				goto fail;
			}
			if (!strcmp(kw, "window") && v >= 2 * MINSEG && v <= 100000)
				cp.window = (int)v;
			else if (!strcmp(kw, "pvalue") && v > 0 && v < 1)
				cp.max_pvalue = v;
			else if (!strcmp(kw, "magnitude"))
				cp.min_magnitude = v;
			else if (!strcmp(kw, "permutations") && v >= 19 && v <= 100000)
				cp.permutations = (int)v;
			else {
				err_set(err, CS_EINVAL, "%s:%d: %s %s: not a changepoints setting (window "
							">= 6, pvalue in (0,1), magnitude, "
							"permutations 19..100000)", origin, line, kw, arg);
				goto fail;
			}
			continue;
		}
		if (!in_rule) {
			err_set(err, CS_EINVAL, "%s:%d: an indented setting outside a block", origin,
				line);
			goto fail;
		}
		struct th_rule *r = &c->rules[c->n - 1];
		if (!strcmp(kw, "workflow") || !strcmp(kw, "branch")) {
			if (!*arg) {
				err_set(err, CS_EINVAL, "%s:%d: %s needs a name", origin, line, kw);
				goto fail;
			}
			char **dst = kw[0] == 'w' ? &r->workflow : &r->branch;
			free(*dst);
			*dst = xstrdup(arg);
		} else if (!strcmp(kw, "baseline")) {
			char *end;
			long v = strtol(arg, &end, 10);
			if (!*arg || *end || v < 1 || v > 1000) {
				err_set(err, CS_EINVAL, "%s:%d: baseline: a count of runs, 1..1000",
					origin, line);
				goto fail;
			}
			r->baseline_n = (int)v;
		} else if (!strcmp(kw, "warn") || !strcmp(kw, "fail")) {
			struct th_bound b;
			if (parse_bound(origin, line, kw[0] == 'w' ? TH_WARN : TH_FAIL, arg, &b, err) < 0)
				goto fail;
			r->bounds = xrealloc(r->bounds, (size_t)(r->n_bounds + 1) * sizeof(b));
			r->bounds[r->n_bounds++] = b;
		} else {
			err_set(err, CS_EINVAL, "%s:%d: unknown setting \"%s\" (workflow, branch, "
						"baseline, warn, fail)", origin, line, kw);
			goto fail;
		}
	}
	for (int i = first_new; i < c->n; i++)
		if (!c->rules[i].n_bounds) {
			err_set(err, CS_EINVAL, "%s: threshold %s has no warn or fail bound",
				c->rules[i].origin, c->rules[i].glob);
			goto fail;
		}
	c->cp = cp;
	(void)save;
	free(copy);
	return 0;
fail:
	while (c->n > first_new)
		rule_free(&c->rules[--c->n]);
	free(copy);
	return -1;
}

int th_conf_load(struct th_conf *c, const char *path, struct cs_err *err)
{
	memset(c, 0, sizeof(*c));
	cp_conf_default(&c->cp);
	/* the built-in file first for its changepoints defaults; its rules are
	 * moved after the repository's below */
	if (th_conf_add_text(c, "thresholds.conf (built in)", thresholds_conf,
			     strlen(thresholds_conf), err) < 0)
		return -1;
	int n_builtin = c->n;
	char *repo = NULL;
	if (path) {
		repo = xstrdup(path);
	} else {
		const char *env = getenv("CISCOPE_THRESHOLDS");
		if (env && *env) {
			repo = xstrdup(env);
		} else {
			struct buf top = BUF_INIT;
			if (gitrepo_workdir(NULL, &top)) {
				char *p = path_join(buf_cstr(&top), ".ciscope/thresholds.conf");
				if (path_is_file(p))
					repo = p;
				else
					free(p);
			}
			buf_release(&top);
		}
	}
	if (repo) {
		struct buf text = BUF_INIT;
		/* found in the checkout: named as the repository knows it */
		const char *shown = !path && !getenv("CISCOPE_THRESHOLDS") ? ".ciscope/thresholds.conf"
									   : repo;
		if (file_read_all(repo, 4u << 20, &text, err) < 0 ||
		    th_conf_add_text(c, shown, text.data ? text.data : "", text.len, err) < 0) {
			if (err->code && !strstr(err->msg, repo))
				err_prefix(err, "cannot read %s", repo);
			buf_release(&text);
			free(repo);
			th_conf_release(c);
			return -1;
		}
		buf_release(&text);
		c->repo_file = repo;
		/* repository rules first */
		struct th_rule *r = xmalloc((size_t)c->n * sizeof(*r) + 1);
		memcpy(r, c->rules + n_builtin, (size_t)(c->n - n_builtin) * sizeof(*r));
		memcpy(r + (c->n - n_builtin), c->rules, (size_t)n_builtin * sizeof(*r));
		memcpy(c->rules, r, (size_t)c->n * sizeof(*r));
		free(r);
	}
	return 0;
}

void th_conf_release(struct th_conf *c)
{
	for (int i = 0; i < c->n; i++)
		rule_free(&c->rules[i]);
	free(c->rules);
	free(c->repo_file);
	memset(c, 0, sizeof(*c));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double metric_baseline(const struct metric_hist *h, long at, const char *branch, int n, int *used)
{
	double vals[1000];
	int k = 0;
	for (long i = at - 1; i >= 0 && k < n && k < (int)ARRAY_SIZE(vals); i--) {
		const struct metric_point *p = &h->pts[i];
		if (!p->green)
			continue;
		if (branch && (!p->branch || strcmp(p->branch, branch)))
			continue;
		vals[k++] = p->value;
	}
	if (used)
		*used = k;
	if (!k)
		return NAN;
	qsort(vals, (size_t)k, sizeof(double), cmp_double);
	return k % 2 ? vals[k / 2] : (vals[k / 2 - 1] + vals[k / 2]) / 2;
}

/* The bound's value in the metric's unit; NAN when the kinds differ. */
static double convert(double v, const char *from, const char *to)
{
	const struct unit_def *f = metric_unit_find(from), *t = metric_unit_find(to);
	if (!f || !t)
		return v;
	if (f->kind != t->kind)
		return NAN;
	return v * f->factor / t->factor;
}

static bool breaches(const struct th_bound *b, double v, double limit)
{
	switch (b->op) {
	case 'l': return v > limit;
	case '<': return v >= limit;
	case 'g': return v < limit;
	case '>': return v <= limit;
	case '+': return v > limit;
	case '-': return v < limit;
	}
	return false;
}

static bool rule_applies(const struct th_rule *r, const struct metric_hist *h,
			 const struct metric_point *p)
{
	if (fnmatch(r->glob, h->name, 0) != 0)
		return false;
	if (r->workflow && strcmp(r->workflow, h->workflow))
		return false;
	if (r->branch && (!p->branch || strcmp(r->branch, p->branch)))
		return false;
	return true;
}

int th_evaluate(const struct th_conf *conf, const struct metric_hist *h, long at,
		struct th_eval **out)
{
	*out = NULL;
	if (at < 0 || at >= h->n)
		return 0;
	const struct metric_point *p = &h->pts[at];
	int n = 0;
	for (int i = 0; i < conf->n; i++) {
		const struct th_rule *r = &conf->rules[i];
		if (!rule_applies(r, h, p))
			continue;
		for (int j = 0; j < r->n_bounds; j++) {
			const struct th_bound *b = &r->bounds[j];
			*out = xrealloc(*out, (size_t)(n + 1) * sizeof(**out));
			struct th_eval *e = &(*out)[n++];
			memset(e, 0, sizeof(*e));
			e->rule = r;
			e->bound = b;
			e->value = p->value;
			e->baseline = NAN;
			e->since = -1;
			double lim;
			if (b->kind == TH_ABS) {
				lim = convert(b->value, b->unit, h->unit);
			} else {
				e->baseline = metric_baseline(h, at, p->branch, r->baseline_n,
							      &e->baseline_runs);
				double d = !strcmp(b->unit, "%") ? fabs(e->baseline) * b->value / 100
								 : convert(b->value, b->unit, h->unit);
				lim = b->op == '+' ? e->baseline + d : e->baseline - d;
			}
			e->limit = lim;
			if (isnan(lim)) {
				e->state = TH_NONE;
				continue;
			}
			if (!breaches(b, p->value, lim)) {
				e->state = TH_PASS;
				continue;
			}
			e->state = b->level == TH_FAIL ? TH_BREACH_FAIL : TH_BREACH_WARN;
			long s = at;
			while (s > 0 && rule_applies(r, h, &h->pts[s - 1]) &&
			       breaches(b, h->pts[s - 1].value, lim))
				s--;
			e->since = s;
		}
	}
	return n;
}

enum th_state th_worst(const struct th_eval *e, int n)
{
	enum th_state w = TH_NONE;
	for (int i = 0; i < n; i++)
		if (e[i].state > w)
			w = e[i].state;
	return w;
}

const char *th_state_name(enum th_state s)
{
	switch (s) {
	case TH_PASS: return "pass";
	case TH_BREACH_WARN: return "warn";
	case TH_BREACH_FAIL: return "fail";
	default: return "none";
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Does any rule of conf name this series? (load filter: series no rule
 * names are never kept, so judging shown runs does not hold the index) */
bool th_conf_names(const struct th_conf *c, const char *name, const char *wf)
{
	for (int i = 0; i < c->n; i++)
		if (fnmatch(c->rules[i].glob, name, 0) == 0 &&
		    (!c->rules[i].workflow || !strcmp(c->rules[i].workflow, wf)))
			return true;
	return false;
}

bool th_conf_can_fail(const struct th_conf *c)
{
	for (int i = 0; i < c->n; i++)
		for (int j = 0; j < c->rules[i].n_bounds; j++)
			if (c->rules[i].bounds[j].level == TH_FAIL)
				return true;
	return false;
}

int metrics_run_thresholds(struct store *st, const struct th_conf *conf, const int64_t *runs,
			   int n, struct th_run_state *out, struct cs_err *err)
{
	memset(out, 0, (size_t)n * sizeof(*out));
	if (!n || !conf->n)
		return 0;
	struct metric_set set;
	struct metrics_query q = {.only = conf};
	if (metrics_load(st, &q, &set, err) < 0)
		return -1;
	/* the runs by id, each with its place in runs (id first: cmp_i64 sorts) */
	struct id_at {
		int64_t id;
		int at;
	} *by_id = xmalloc((size_t)n * sizeof(*by_id));
	for (int i = 0; i < n; i++)
		by_id[i] = (struct id_at){runs[i], i};
	qsort(by_id, (size_t)n, sizeof(*by_id), cmp_i64);
	for (int i = 0; i < set.n; i++) {
		struct metric_hist *h = &set.items[i];
		for (long j = 0; j < h->n; j++) {
			const struct id_at *hit = bsearch(&h->pts[j].run, by_id, (size_t)n,
							  sizeof(*by_id), cmp_i64);
			if (!hit)
				continue;
			struct th_run_state *o = &out[hit->at];
			struct th_eval *e;
			int k = th_evaluate(conf, h, j, &e);
			for (int x = 0; x < k; x++) {
				if (e[x].state == TH_BREACH_WARN || e[x].state == TH_BREACH_FAIL)
					o->breaches++;
				if (e[x].state > o->state)
					o->state = e[x].state;
			}
			free(e);
		}
	}
	free(by_id);
	metric_set_release(&set);
	return 0;
}
