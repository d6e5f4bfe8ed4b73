/* parityconf.c - the parity settings: the config-language reader for
 * parity.conf (built-in, repository, --config layers), the channel pairing
 * patterns and tolerance resolution. See parity.h ("Settings") for the
 * semantics; the comments here say why. */
#include "parity.h"

#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitrepo.h"
#include "rules.h"

extern const char parity_conf[];

#define PARITY_FILE_MAX (1u << 20)
#define PATS_MAX 8

/* --- configuration ------------------------------------------------------------ */
struct pblock {
	char *glob;                 /* NULL: defaults */
	bool has_tol;
	double atol, rtol;
	uint64_t ulps;
	int sustained;              /* 0: unset */
	int nan, missing, verdict, informational; /* -1: unset */
	int line;
};

struct player {
	char *origin;
	bool builtin;
	struct pblock defaults;
	bool has_defaults;
	struct pblock *channels;
	int n_channels;
	size_t alloc;
	char *pats[3][PATS_MAX];    /* ref, cand, delta; NULL-terminated, unset when [0] NULL */
};

struct parity_conf {
	struct player *layers;
	int n;
	size_t alloc;
	char *repo_origin;
	uint64_t digest;  /* FNV-1a over the layers' texts, in order (parity_conf_digest) */
};

static void block_init(struct pblock *b)
{
	memset(b, 0, sizeof(*b));
	b->nan = b->missing = b->verdict = b->informational = -1;
}

static void layer_release(struct player *l)
{
	free(l->origin);
	free(l->defaults.glob);
	for (int i = 0; i < l->n_channels; i++)
		free(l->channels[i].glob);
	free(l->channels);
	for (int s = 0; s < 3; s++)
		for (int i = 0; i < PATS_MAX && l->pats[s][i]; i++)
			free(l->pats[s][i]);
}

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

struct parity_conf *parity_conf_new(void)
{
	struct parity_conf *c = xcalloc(1, sizeof(struct parity_conf));
	c->digest = FNV_OFFSET;
	return c;
}

uint64_t parity_conf_digest(const struct parity_conf *c)
{
	return c ? c->digest : 0;
}

void parity_conf_free(struct parity_conf *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		layer_release(&c->layers[i]);
	free(c->layers);
	free(c->repo_origin);
	free(c);
}

const char *parity_conf_origin(const struct parity_conf *c)
{
	return c ? c->repo_origin : NULL;
}

struct pparser {
	const char *origin;
	int line;
	struct player *l;
	struct pblock *cur;
	struct cs_err *err;
	bool in_pairing;
};

static int pperr(struct pparser *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int pperr(struct pparser *p, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(p->err, CS_EINVAL, "%s:%d: %s", p->origin, p->line, msg);
}

static int parse_real(struct pparser *p, const char *kw, const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !isfinite(x) || x < 0)
		return pperr(p, "'%s' needs a number >= 0, not '%s'", kw, v);
	*out = x;
	return 0;
}

static int parse_pats(struct pparser *p, const char *kw, char *v, char **pats)
{
	if (pats[0])
		return pperr(p, "'%s' is given twice", kw);
	int n = 0;
	for (char *t = strtok(v, " \t"); t; t = strtok(NULL, " \t")) {
		const char *star = strchr(t, '*');
		if (!star || strchr(star + 1, '*') || strlen(t) < 2)
			return pperr(p, "'%s': pattern '%s' needs exactly one '*' (the channel name) "
				       "and some text beside it", kw, t);
		if (n == PATS_MAX - 1)
			return pperr(p, "'%s': at most %d patterns", kw, PATS_MAX - 1);
		pats[n++] = xstrdup(t);
	}
	if (!n)
		return pperr(p, "'%s' needs patterns such as *_ref", kw);
	return 0;
}

static int pdirective(struct pparser *p, const char *kw, char *v)
{
	struct player *l = p->l;
	if (!strcmp(kw, "pairing")) {
		if (*v)
			return pperr(p, "'pairing' takes no value: its ref, cand and delta lines follow");
		p->cur = NULL;
		return 1; /* in the pairing block */
	}
	if (!strcmp(kw, "defaults")) {
		if (*v)
			return pperr(p, "'defaults' takes no value");
		if (l->has_defaults)
			return pperr(p, "'defaults' is given twice");
		l->has_defaults = true;
		block_init(&l->defaults);
		l->defaults.line = p->line;
		p->cur = &l->defaults;
		return 0;
	}
	if (!strcmp(kw, "channel")) {
		if (!*v || strchr(v, ' ') || strchr(v, '\t'))
			return pperr(p, "'channel' needs one name or glob (energy, pos_*)");
		XGROW(l->channels, l->alloc, (size_t)l->n_channels + 1);
		p->cur = &l->channels[l->n_channels++];
		block_init(p->cur);
		p->cur->glob = xstrdup(v);
		p->cur->line = p->line;
		return 0;
	}
	return -2; /* not a block keyword */
}

/* A setting that is one of two words. */
static int choose(struct pparser *p, const char *kw, const char *v, const char *w0, int v0,
		  const char *w1, int v1, int *out)
{
	if (!strcmp(v, w0))
		*out = v0;
	else if (!strcmp(v, w1))
		*out = v1;
	else
		return pperr(p, "'%s' is '%s' or '%s', not '%s'", kw, w0, w1, v);
	return 0;
}

static int psetting(struct pparser *p, const char *kw, char *v, bool in_pairing)
{
	if (in_pairing) {
		int side = !strcmp(kw, "ref") ? 0 : !strcmp(kw, "cand") ? 1 : !strcmp(kw, "delta") ? 2 : -1;
		if (side >= 0)
			return parse_pats(p, kw, v, p->l->pats[side]);
	}
	struct pblock *b = p->cur;
	if (!b) {
		if (in_pairing)
			return pperr(p, "unknown keyword '%s' in 'pairing' (ref, cand, delta)", kw);
		return pperr(p, "'%s' outside a block (start one with 'defaults', 'channel NAME' "
			       "or 'pairing')", kw);
	}
	if (!strcmp(kw, "informational")) {
		if (*v)
			return pperr(p, "'informational' takes no value");
		b->informational = 1;
		return 0;
	}
	if (!*v)
		return pperr(p, "'%s' needs a value", kw);
	if (!strcmp(kw, "atol") || !strcmp(kw, "rtol")) {
		double x = 0;
		if (parse_real(p, kw, v, &x) < 0)
			return -1;
		if (kw[0] == 'a')
			b->atol = x;
		else
			b->rtol = x;
		b->has_tol = true;
	} else if (!strcmp(kw, "ulps")) {
		char *end;
		unsigned long long x = strtoull(v, &end, 10);
		if (end == v || *end || v[0] == '-')
			return pperr(p, "'ulps' needs a whole number >= 0 (0: off), not '%s'", v);
		b->ulps = x;
		b->has_tol = true;
	} else if (!strcmp(kw, "sustained")) {
		char *end;
		long x = strtol(v, &end, 10);
		if (end == v || *end || x < 1 || x > 1000000)
			return pperr(p, "'sustained' needs a number from 1 to 1000000, not '%s'", v);
		b->sustained = (int)x;
	} else if (!strcmp(kw, "nan")) {
		return choose(p, kw, v, "equal", PARITY_NAN_EQUAL, "differ", PARITY_NAN_DIFFER, &b->nan);
	} else if (!strcmp(kw, "missing")) {
		return choose(p, kw, v, "violation", PARITY_MISSING_VIOLATION, "skip",
			      PARITY_MISSING_SKIP, &b->missing);
	} else if (!strcmp(kw, "verdict")) {
		return choose(p, kw, v, "any", PARITY_VERDICT_ANY, "sustained",
			      PARITY_VERDICT_SUSTAINED, &b->verdict);
	} else {
		return pperr(p, "unknown keyword '%s' (pairing, defaults, channel, atol, rtol, ulps, "
			       "sustained, nan, missing, verdict, informational)", kw);
	}
	return 0;
}

static int parity_line(void *ctx, char *kw, char *rest)
{
	struct pparser *p = ctx;
	int b = pdirective(p, kw, rest);
	if (b == -1)
		return -1;
	if (b >= 0) {
		p->in_pairing = b == 1;
		return 0;
	}
	return psetting(p, kw, rest, p->in_pairing);
}

int parity_conf_add_text(struct parity_conf *c, const char *origin, const char *text, size_t n,
			 bool builtin, struct cs_err *err)
{
	struct player l;
	memset(&l, 0, sizeof(l));
	block_init(&l.defaults);
	l.origin = xstrdup(origin);
	l.builtin = builtin;
	struct pparser p = {.origin = origin, .l = &l, .err = err};
	int rc = 0;
	if (memchr(text, '\0', n))
		rc = err_set(err, CS_EINVAL, "%s: a NUL byte: not a parity configuration", origin);
	/* no value holds '#': a comment may end any line */
	if (rc == 0)
		rc = rules_conf_read_lines(text, n, true, &p.line, parity_line, &p);
	if (rc < 0) {
		layer_release(&l);
		return -1;
	}
	XGROW(c->layers, c->alloc, (size_t)c->n + 1);
	c->layers[c->n++] = l;
	/* what the layer says, not where it came from: the same text under
	 * another path judges the same */
	uint64_t len = n;
	unsigned char bi = builtin;
	c->digest = fnv(c->digest, &bi, 1);
	c->digest = fnv(c->digest, &len, sizeof(len));
	c->digest = fnv(c->digest, text, n);
	return 0;
}

int parity_conf_add_file(struct parity_conf *c, const char *path, struct cs_err *err)
{
	struct buf b = BUF_INIT;
	if (file_read_all(path, PARITY_FILE_MAX, &b, err) < 0) {
		buf_release(&b);
		return err_prefix(err, "cannot read the parity configuration '%s'", path);
	}
	int rc = parity_conf_add_text(c, path, b.data ? b.data : "", b.len, false, err);
	buf_release(&b);
	return rc;
}

struct parity_conf *parity_conf_load(const char *path, struct cs_err *err)
{
	struct parity_conf *c = parity_conf_new();
	char *repo = NULL;
	if (path) {
		repo = xstrdup(path);
	} else {
		const char *env = getenv("CISCOPE_PARITY");
		if (env && *env) {
			repo = xstrdup(env);
		} else {
			struct buf top = BUF_INIT;
			if (gitrepo_workdir(NULL, &top)) {
				char *pth = path_join(buf_cstr(&top), ".ciscope/parity.conf");
				if (path_is_file(pth))
					repo = pth;
				else
					free(pth);
			}
			buf_release(&top);
		}
	}
	if (repo) {
		if (parity_conf_add_file(c, repo, err) < 0) {
			free(repo);
			parity_conf_free(c);
			return NULL;
		}
		c->repo_origin = repo;
	}
	if (parity_conf_add_text(c, "parity.conf (built in)", parity_conf, strlen(parity_conf), true,
				 err) < 0) {
		parity_conf_free(c);
		return NULL;
	}
	return c;
}

static const struct pblock *layer_channel(const struct player *l, const char *name)
{
	for (int i = 0; i < l->n_channels; i++)
		if (fnmatch(l->channels[i].glob, name, 0) == 0)
			return &l->channels[i];
	return NULL;
}

/* A scalar of the summary, by exact name or by dotted suffix. */
static bool find_scalar(const struct parity_scalar *sc, size_t n, const char *key, bool suffix,
			double *v, const char **file)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n; i++) {
		const char *nm = sc[i].name;
		size_t nl = strlen(nm);
		bool hit = !strcmp(nm, key) ||
			   (suffix && nl > kl && nm[nl - kl - 1] == '.' && !strcmp(nm + nl - kl, key));
		if (hit && isfinite(sc[i].value) && sc[i].value >= 0) {
			*v = sc[i].value;
			*file = sc[i].file;
			return true;
		}
	}
	return false;
}

/* The tolerance the artifact states for channel name: its own keys first,
 * then the run-wide ones (which may sit under a prefix:
 * parity.tolerance.atol; a bare "atol" must be the whole name). */
static bool summary_tol(const char *name, const struct parity_scalar *sc, size_t n,
			struct parity_tol *out)
{
	static const char *const keys[3][3] = {
		{"atol", "abs_tol", NULL}, {"rtol", "rel_tol", NULL}, {"ulps", "max_ulps", "maxulp"}};
	if (!n)
		return false;
	for (int pass = 0; pass < 2; pass++) {
		bool any = false;
		double v[3] = {0, 0, 0};
		const char *file = NULL;
		for (int k = 0; k < 3; k++) {
			bool got = false;
			for (int s = 0; s < 3 && keys[k][s] && !got; s++) {
				const char *kw = keys[k][s];
				char key[4][300];
				int nk;
				if (pass == 0) {
					snprintf(key[0], sizeof(key[0]), "tolerance.%s.%s", name, kw);
					snprintf(key[1], sizeof(key[1]), "tolerances.%s.%s", name, kw);
					snprintf(key[2], sizeof(key[2]), "%s.tolerance.%s", name, kw);
					snprintf(key[3], sizeof(key[3]), "%s.%s", name, kw);
					nk = 4;
				} else {
					snprintf(key[0], sizeof(key[0]), "tolerance.%s", kw);
					snprintf(key[1], sizeof(key[1]), "tolerances.%s", kw);
					snprintf(key[2], sizeof(key[2]), "%s", kw);
					nk = 3;
				}
				for (int f = 0; f < nk && !got; f++)
					got = find_scalar(sc, n, key[f], pass == 1 && f < 2, &v[k], &file);
			}
			any |= got;
		}
		if (any) {
			out->atol = v[0];
			out->rtol = v[1];
			out->max_ulps = (uint64_t)v[2];
			snprintf(out->source, sizeof(out->source), "summary %s", file ? file : "?");
			return true;
		}
	}
	return false;
}

static void take_settings(const struct pblock *b, struct parity_tol *t, bool *have)
{
	/* have[]: sustained, nan, missing, verdict, informational */
	if (!b)
		return;
	if (!have[0] && b->sustained) {
		t->sustained = b->sustained;
		have[0] = true;
	}
	if (!have[1] && b->nan >= 0) {
		t->nan = (enum parity_nan)b->nan;
		have[1] = true;
	}
	if (!have[2] && b->missing >= 0) {
		t->missing = (enum parity_missing)b->missing;
		have[2] = true;
	}
	if (!have[3] && b->verdict >= 0) {
		t->verdict = (enum parity_verdict_rule)b->verdict;
		have[3] = true;
	}
	if (!have[4] && b->informational >= 0) {
		t->informational = b->informational != 0;
		have[4] = true;
	}
}

static bool take_tol(const struct pblock *b, const char *origin, struct parity_tol *t)
{
	if (!b || !b->has_tol)
		return false;
	t->atol = b->atol;
	t->rtol = b->rtol;
	t->max_ulps = b->ulps;
	snprintf(t->source, sizeof(t->source), "%s:%d", origin, b->line);
	return true;
}

void parity_conf_resolve(const struct parity_conf *c, const char *name,
			 const struct parity_scalar *scalars, size_t n_scalars,
			 struct parity_tol *out)
{
	memset(out, 0, sizeof(*out));
	/* numpy.testing.assert_allclose, when nothing at all is configured */
	out->rtol = 1e-7;
	out->sustained = 5;
	snprintf(out->source, sizeof(out->source), "default");
	bool have[5] = {false, false, false, false, false};
	bool tol = false;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !tol)
			tol = summary_tol(name, scalars, n_scalars, out);
		for (int i = 0; c && i < c->n; i++) {
			const struct player *l = &c->layers[i];
			if (l->builtin != (pass == 1))
				continue;
			const struct pblock *ch = layer_channel(l, name);
			const struct pblock *df = l->has_defaults ? &l->defaults : NULL;
			if (!tol)
				tol = take_tol(ch, l->origin, out) || take_tol(df, l->origin, out);
			take_settings(ch, out, have);
			take_settings(df, out, have);
		}
	}
}

static const char *const default_pats[3][3] = {
	{"*_ref", "*_reference", NULL}, {"*_cand", "*_candidate", NULL}, {"*_delta", NULL, NULL}};

static bool pat_match(const char *pat, const char *s, struct buf *name)
{
	const char *star = strchr(pat, '*');
	size_t pre = (size_t)(star - pat), suf = strlen(star + 1), n = strlen(s);
	if (n <= pre + suf || strncmp(s, pat, pre) != 0 || strcmp(s + n - suf, star + 1) != 0)
		return false;
	if (name) {
		buf_reset(name);
		buf_add(name, s + pre, n - pre - suf);
		buf_cstr(name);
	}
	return true;
}

enum parity_side parity_conf_side(const struct parity_conf *c, const char *series, struct buf *name)
{
	for (int side = 0; side < 3; side++) {
		const char *const *pats = NULL;
		for (int i = 0; c && i < c->n && !pats; i++)
			if (c->layers[i].pats[side][0])
				pats = (const char *const *)c->layers[i].pats[side];
		if (!pats)
			pats = default_pats[side];
		for (int k = 0; pats[k]; k++)
			if (pat_match(pats[k], series, name))
				return (enum parity_side)(side + 1);
	}
	return PARITY_NONE;
}

