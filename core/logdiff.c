/* logdiff.c - the per-job log aligner (see logdiff.h for the method and its
 * memory bound). Side a is the baseline, side b the run; indices are
 * 0-based here and 1-based in what callers see. */
#include "logdiff.h"

#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "logstore.h"

#define LD_LOOK 8         /* baseline lines tried for an updated run line */
#define LD_GREEDY_LOOK 64 /* lines looked ahead by the greedy fallback */
#define LD_NORM_CACHE 16  /* normalised baseline lines kept while pairing */

/* --- one side ------------------------------------------------------------------------ */
struct side {
	struct logr *r;
	uint64_t n;
	uint64_t *h;      /* normalised hash per line; 0: a blank line */
	uint32_t *m;      /* the matched line of the other side + 1; 0: unmatched */
	uint64_t *sorted; /* the hashes, sorted: "does the other side have it anywhere" */
	struct buf raw, scratch, norm;
};

struct hash_ctx {
	struct side *s;
	struct buf scratch, norm;
};

/* The normaliser tells a number from a hex id from a hash by its digits, so
 * "id=12345678" and "id=1a2b3c4d" normalise apart; for lining up two runs
 * they are the same varying value: one placeholder stands for all four. */
static void coarsen(struct buf *norm, struct buf *out)
{
	static const char *const ph[] = {"<N>", "<HEX>", "<HASH>", "<ID>"};
	buf_reset(out);
	const char *s = norm->data;
	size_t n = norm->len, i = 0, from = 0;
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i);
		if (!lt)
			break;
		i = (size_t)(lt - s);
		size_t k = 0;
		for (; k < ARRAY_SIZE(ph); k++) {
			size_t l = strlen(ph[k]);
			if (i + l <= n && !memcmp(s + i, ph[k], l))
				break;
		}
		if (k == ARRAY_SIZE(ph)) {
			i++;
			continue;
		}
		buf_add(out, s + from, i - from);
		buf_adds(out, "<V>");
		i += strlen(ph[k]);
		from = i;
	}
	buf_add(out, s + from, n - from);
}

static uint64_t norm_hash(const char *line, size_t n, struct buf *scratch, struct buf *norm)
{
	const char *t;
	size_t tl;
	log_search_text(line, n, &t, &tl, scratch);
	buf_reset(norm);
	fp_normalise(t, tl, norm);
	if (!norm->len)
		return 0;
	coarsen(norm, scratch);
	uint64_t h = fp_hash(scratch->data, scratch->len, FP_SEED);
	return h ? h : 1;
}

static int hash_cb(void *ctx, const struct split_line *l)
{
	struct hash_ctx *c = ctx;
	if (l->lineno >= 1 && l->lineno <= c->s->n)
		c->s->h[l->lineno - 1] = norm_hash(l->head, l->head_len, &c->scratch, &c->norm);
	return 0;
}

static int side_open(struct side *s, struct store *st, int64_t log_id, struct cs_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!log_id)
		return 0;
	s->r = logr_open(st, log_id, err);
	if (!s->r)
		return -1;
	s->n = logr_line_count(s->r);
	if (s->n >= UINT32_MAX)
		return err_set(err, CS_EINVAL, "log %lld has too many lines to compare",
			       (long long)log_id);
	s->h = xcalloc(s->n ? s->n : 1, sizeof(*s->h));
	s->m = xcalloc(s->n ? s->n : 1, sizeof(*s->m));
	if (!s->n)
		return 0;
	struct hash_ctx c = {s, BUF_INIT, BUF_INIT};
	int rc = logr_scan(s->r, 1, s->n, hash_cb, &c, err);
	buf_release(&c.scratch);
	buf_release(&c.norm);
	return rc < 0 ? -1 : 0;
}

static void side_close(struct side *s)
{
	logr_close(s->r);
	free(s->h);
	free(s->m);
	free(s->sorted);
	buf_release(&s->raw);
	buf_release(&s->scratch);
	buf_release(&s->norm);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void side_sort(struct side *s)
{
	s->sorted = xmalloc((s->n ? s->n : 1) * sizeof(*s->sorted));
	if (!s->n)
		return; /* no log on this side */
	memcpy(s->sorted, s->h, s->n * sizeof(*s->h));
	qsort(s->sorted, s->n, sizeof(*s->sorted), cmp_u64);
}

static bool side_has(const struct side *s, uint64_t h)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->sorted[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->sorted[lo] == h;
}

/* Line i (0-based) read for display: no timestamp, no escape sequences, at
 * most LD_TEXT_MAX bytes (cut on a character boundary). */
static int side_text(struct side *s, uint64_t i, struct buf *out, bool *cut, struct cs_err *err)
{
	bool trunc = false;
	if (logr_line(s->r, i + 1, LD_TEXT_MAX + 64, &s->raw, &trunc, err) < 0)
		return -1;
	const char *t;
	size_t tl;
	log_search_text(s->raw.data, s->raw.len, &t, &tl, &s->scratch);
	*cut = trunc;
	if (tl > LD_TEXT_MAX) {
		tl = utf8_complete_prefix(t, LD_TEXT_MAX);
		*cut = true;
	}
	buf_reset(out);
	buf_add(out, t, tl);
	buf_cstr(out);
	return 0;
}

/* Line i normalised (its head), for the similarity of updated lines. */
static int side_norm(struct side *s, uint64_t i, struct buf *out, struct cs_err *err)
{
	bool trunc;
	if (logr_line(s->r, i + 1, SPLIT_HEAD_MAX, &s->raw, &trunc, err) < 0)
		return -1;
	const char *t;
	size_t tl;
	log_search_text(s->raw.data, s->raw.len, &t, &tl, &s->scratch);
	buf_reset(out);
	fp_normalise(t, tl, out);
	buf_cstr(out);
	return 0;
}

/* --- the aligner ---------------------------------------------------------------------- */
struct ent {
	uint64_t h;
	uint32_t gen;
	uint32_t apos, bpos;
	uint32_t acnt, bcnt;
};

struct range {
	uint32_t a0, a1, b0, b1;
};

struct aligner {
	const uint64_t *a, *b;
	uint32_t *am, *bm;
	struct ent *tab;
	uint32_t mask, gen;
	uint32_t *pa, *pb, *tails, *prev; /* unique pairs and their longest increasing run */
	size_t pcap;
	uint16_t *dp;
	struct range *stack;
	size_t nstack, astack;
};

static void al_init(struct aligner *al, struct side *base, struct side *run)
{
	memset(al, 0, sizeof(*al));
	al->a = base->h;
	al->b = run->h;
	al->am = base->m;
	al->bm = run->m;
	al->mask = 4u * LD_WINDOW - 1;
	al->tab = xcalloc((size_t)al->mask + 1, sizeof(*al->tab));
	al->pcap = LD_WINDOW;
	al->pa = xmalloc(al->pcap * sizeof(uint32_t));
	al->pb = xmalloc(al->pcap * sizeof(uint32_t));
	al->tails = xmalloc(al->pcap * sizeof(uint32_t));
	al->prev = xmalloc(al->pcap * sizeof(uint32_t));
}

static void al_release(struct aligner *al)
{
	free(al->tab);
	free(al->pa);
	free(al->pb);
	free(al->tails);
	free(al->prev);
	free(al->dp);
	free(al->stack);
}

static inline void al_match(struct aligner *al, uint32_t i, uint32_t j)
{
	al->am[i] = j + 1;
	al->bm[j] = i + 1;
}

static struct ent *al_slot(struct aligner *al, uint64_t h, bool insert)
{
	uint32_t k = (uint32_t)(h ^ (h >> 29)) & al->mask;
	for (;;) {
		struct ent *e = &al->tab[k];
		if (e->gen != al->gen) {
			if (!insert)
				return NULL;
			e->gen = al->gen;
			e->h = h;
			e->acnt = e->bcnt = 0;
			return e;
		}
		if (e->h == h)
			return e;
		k = (k + 1) & al->mask;
	}
}

static void al_push(struct aligner *al, uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	if (a0 >= a1 || b0 >= b1)
		return;
	XGROW(al->stack, al->astack, al->nstack + 1);
	al->stack[al->nstack++] = (struct range){a0, a1, b0, b1};
}

/* Exact LCS of a small gap (suffix lengths, then a forward walk). */
static void al_dp(struct aligner *al, uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	size_t na = a1 - a0, nb = b1 - b0, w = nb + 1;
	if (!al->dp)
		al->dp = xmalloc((size_t)(LD_DP_CELLS + 2 * LD_WINDOW + 2) * sizeof(uint16_t));
	uint16_t *L = al->dp;
	for (size_t j = 0; j <= nb; j++)
		L[na * w + j] = 0;
	for (size_t i = na; i-- > 0;) {
		L[i * w + nb] = 0;
		for (size_t j = nb; j-- > 0;) {
			uint16_t v;
			if (al->a[a0 + i] == al->b[b0 + j])
				v = (uint16_t)(L[(i + 1) * w + j + 1] + 1);
			else
				v = MAX(L[(i + 1) * w + j], L[i * w + j + 1]);
			L[i * w + j] = v;
		}
	}
	size_t i = 0, j = 0;
	while (i < na && j < nb) {
		if (al->a[a0 + i] == al->b[b0 + j] && L[i * w + j] == L[(i + 1) * w + j + 1] + 1) {
			al_match(al, a0 + (uint32_t)i, b0 + (uint32_t)j);
			i++, j++;
		} else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
			i++;
		} else {
			j++;
		}
	}
}

/* A gap too large for the exact LCS and without a line unique on both
 * sides (repetitive output): each run line takes the next equal baseline
 * line within a short look-ahead. */
static void al_greedy(struct aligner *al, uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	uint32_t p = a0;
	for (uint32_t j = b0; j < b1 && p < a1; j++) {
		uint64_t h = al->b[j];
		if (!h)
			continue;
		uint32_t end = MIN(a1, p + LD_GREEDY_LOOK);
		for (uint32_t q = p; q < end; q++)
			if (al->a[q] == h) {
				al_match(al, q, j);
				p = q + 1;
				break;
			}
	}
}

/* Patience diff of one range, recursing (through the stack) between anchors. */
static void al_range(struct aligner *al, uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	al->nstack = 0;
	al_push(al, a0, a1, b0, b1);
	while (al->nstack) {
		struct range g = al->stack[--al->nstack];
		while (g.a0 < g.a1 && g.b0 < g.b1 && al->a[g.a0] == al->b[g.b0])
			al_match(al, g.a0++, g.b0++);
		while (g.a0 < g.a1 && g.b0 < g.b1 && al->a[g.a1 - 1] == al->b[g.b1 - 1])
			al_match(al, --g.a1, --g.b1);
		if (g.a0 >= g.a1 || g.b0 >= g.b1)
			continue;
		if (++al->gen == 0) {
			memset(al->tab, 0, ((size_t)al->mask + 1) * sizeof(*al->tab));
			al->gen = 1;
		}
		for (uint32_t i = g.a0; i < g.a1; i++) {
			if (!al->a[i])
				continue;
			struct ent *e = al_slot(al, al->a[i], true);
			e->acnt++;
			e->apos = i;
		}
		for (uint32_t j = g.b0; j < g.b1; j++) {
			if (!al->b[j])
				continue;
			struct ent *e = al_slot(al, al->b[j], false);
			if (e) {
				e->bcnt++;
				e->bpos = j;
			}
		}
		size_t k = 0;
		for (uint32_t j = g.b0; j < g.b1; j++) {
			if (!al->b[j])
				continue;
			struct ent *e = al_slot(al, al->b[j], false);
			if (e && e->acnt == 1 && e->bcnt == 1) {
				al->pa[k] = e->apos;
				al->pb[k] = j;
				k++;
			}
		}
		if (k == 0) {
			if ((uint64_t)(g.a1 - g.a0) * (g.b1 - g.b0) <= LD_DP_CELLS)
				al_dp(al, g.a0, g.a1, g.b0, g.b1);
			else
				al_greedy(al, g.a0, g.a1, g.b0, g.b1);
			continue;
		}
		/* the longest run of unique pairs increasing on both sides */
		size_t len = 0;
		for (size_t x = 0; x < k; x++) {
			size_t lo = 0, hi = len;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (al->pa[al->tails[mid]] < al->pa[x])
					lo = mid + 1;
				else
					hi = mid;
			}
			al->prev[x] = lo ? al->tails[lo - 1] : UINT32_MAX;
			al->tails[lo] = (uint32_t)x;
			if (lo == len)
				len++;
		}
		/* anchors, last first; push the gaps between them */
		uint32_t na1 = g.a1, nb1 = g.b1;
		for (uint32_t x = al->tails[len - 1]; x != UINT32_MAX; x = al->prev[x]) {
			uint32_t ai = al->pa[x], bj = al->pb[x];
			al_match(al, ai, bj);
			al_push(al, ai + 1, na1, bj + 1, nb1);
			na1 = ai;
			nb1 = bj;
		}
		al_push(al, g.a0, na1, g.b0, nb1);
	}
}

/* The whole alignment: common head and tail, then windows. Each window's
 * matches are kept up to the last one in the first half of both windows
 * (its later ones may change when more lines come into view). */
static void align(struct side *base, struct side *run)
{
	uint32_t i = 0, j = 0, ie = (uint32_t)base->n, je = (uint32_t)run->n;
	struct aligner al;
	al_init(&al, base, run);
	while (i < ie && j < je && base->h[i] == run->h[j])
		al_match(&al, i++, j++);
	while (i < ie && j < je && base->h[ie - 1] == run->h[je - 1])
		al_match(&al, --ie, --je);
	while (i < ie && j < je) {
		uint32_t wa = MIN(LD_WINDOW, ie - i), wb = MIN(LD_WINDOW, je - j);
		bool enda = i + wa == ie, endb = j + wb == je;
		al_range(&al, i, i + wa, j, j + wb);
		if (enda && endb)
			break;
		uint32_t ha = enda ? wa : (wa + 1) / 2, hb = endb ? wb : (wb + 1) / 2;
		uint32_t ca = UINT32_MAX, cb = UINT32_MAX, fa = UINT32_MAX, fb = UINT32_MAX;
		for (uint32_t y = j; y < j + wb; y++) {
			if (!run->m[y])
				continue;
			uint32_t x = run->m[y] - 1;
			if (fa == UINT32_MAX)
				fa = x, fb = y;
			if (y < j + hb && x < i + ha)
				ca = x, cb = y;
		}
		if (ca == UINT32_MAX)
			ca = fa, cb = fb;
		if (ca == UINT32_MAX) {
			/* nothing in common in view: let go of half a window */
			if (!enda)
				i += ha;
			if (!endb)
				j += hb;
			continue;
		}
		for (uint32_t y = cb + 1; y < j + wb; y++)
			if (run->m[y]) {
				base->m[run->m[y] - 1] = 0;
				run->m[y] = 0;
			}
		i = ca + 1;
		j = cb + 1;
	}
	al_release(&al);
}

/* --- similarity ------------------------------------------------------------------------- */
static size_t tokens(const char *s, size_t n, const char **tok, size_t *len, size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n)
			break;
		size_t st = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		tok[k] = s + st;
		len[k] = i - st;
		k++;
	}
	return i < n ? SIZE_MAX : k;
}

/* Dice coefficient of the bigrams of two short tokens. */
static double bigram_sim(const char *a, size_t na, const char *b, size_t nb)
{
	if (na < 2 || nb < 2 || na > 64 || nb > 64)
		return 0;
	int common = 0;
	bool used[64] = {false};
	for (size_t i = 0; i + 1 < na; i++)
		for (size_t j = 0; j + 1 < nb; j++)
			if (!used[j] && a[i] == b[j] && a[i + 1] == b[j + 1]) {
				used[j] = true;
				common++;
				break;
			}
	return 2.0 * common / (double)(na - 1 + nb - 1);
}

#define SIM_TOKENS 256

double logdiff_similarity(const char *a, size_t na, const char *b, size_t nb)
{
	const char *ta[SIM_TOKENS], *tb[SIM_TOKENS];
	size_t la[SIM_TOKENS], lb[SIM_TOKENS];
	size_t ka = tokens(a, na, ta, la, SIM_TOKENS), kb = tokens(b, nb, tb, lb, SIM_TOKENS);
	if (ka != kb || ka == 0 || ka == SIZE_MAX)
		return 0;
	double score = 0;
	bool one_equal = false;
	for (size_t i = 0; i < ka; i++) {
		if (la[i] == lb[i] && !memcmp(ta[i], tb[i], la[i])) {
			score += 1;
			one_equal = true;
			continue;
		}
		if (la[i] == lb[i])
			score += 0.5;
		if (bigram_sim(ta[i], la[i], tb[i], lb[i]) >= 0.6)
			score += 0.5;
	}
	return one_equal ? score / (double)ka : 0;
}

/* --- hunks ------------------------------------------------------------------------------ */
struct ev {
	char op;
	bool moved;
	uint32_t i, j; /* base and run line, 0-based; UINT32_MAX: none */
};

struct builder {
	struct logdiff *d;
	const struct logdiff_opts *o;
	long max_shown;
	struct side *base, *run;
	const struct step *steps;
	int n_steps;
	const struct ld_mark *marks;
	int n_marks;
	struct ev *ring; /* the last `context` context lines not in a hunk */
	int nring, ring_start;
	bool in_hunk;
	int after;       /* trailing context lines still to add */
	long gap;        /* context lines since the trailing context ended */
	struct buf text;
	struct cs_err *err;
};

static int step_of(const struct builder *b, uint32_t j, const char **name)
{
	*name = NULL;
	if (j == UINT32_MAX)
		return 0;
	int64_t line = (int64_t)j + 1;
	for (int k = 0; k < b->n_steps; k++)
		if (b->steps[k].first_line && line >= b->steps[k].first_line &&
		    line <= b->steps[k].last_line) {
			*name = b->steps[k].name;
			return b->steps[k].number;
		}
	return 0;
}

static bool marked(const struct builder *b, uint32_t j)
{
	if (j == UINT32_MAX)
		return false;
	int64_t line = (int64_t)j + 1;
	for (int k = 0; k < b->n_marks; k++)
		if (line >= b->marks[k].line && line <= b->marks[k].end_line)
			return true;
	return false;
}

static int add_line(struct builder *b, const struct ev *e)
{
	struct ld_hunk *h = &b->d->hunks[b->d->n_hunks - 1];
	bool shown = e->op != '=';
	bool cut = false;
	int rc = e->j != UINT32_MAX ? side_text(b->run, e->j, &b->text, &cut, b->err)
				    : side_text(b->base, e->i, &b->text, &cut, b->err);
	if (rc < 0)
		return -1;
	/* the same line again (its text, not just its normalised form: six
	 * errors at six places are six lines) collapses into the one before */
	if (shown && h->n_lines) {
		struct ld_line *last = &h->lines[h->n_lines - 1];
		bool same_side = e->op == '-' ? last->base_line != 0 : last->run_line != 0;
		if (last->op == e->op && same_side && last->cut == cut &&
		    !strcmp(last->text, buf_cstr(&b->text)) &&
		    (e->op != '~' || b->base->h[e->i] == b->base->h[last->base_line - 1])) {
			last->repeat++; /* the first line stands for the rest */
			return 0;
		}
	}
	XGROW(h->lines, h->alloc, (size_t)h->n_lines + 1);
	struct ld_line *l = &h->lines[h->n_lines];
	memset(l, 0, sizeof(*l));
	l->op = e->op;
	l->moved = e->moved;
	l->repeat = 1;
	l->run_line = e->j == UINT32_MAX ? 0 : (uint64_t)e->j + 1;
	l->base_line = e->i == UINT32_MAX ? 0 : (uint64_t)e->i + 1;
	l->finding = marked(b, e->j);
	l->text = xstrndup(b->text.data ? b->text.data : "", b->text.len);
	l->cut = cut;
	h->n_lines++;
	if (shown)
		b->d->shown++;
	return 0;
}

static void ring_push(struct builder *b, const struct ev *e)
{
	int c = b->o->context;
	if (c <= 0)
		return;
	if (b->nring < c) {
		b->ring[(b->ring_start + b->nring) % c] = *e;
		b->nring++;
	} else {
		b->ring[b->ring_start] = *e;
		b->ring_start = (b->ring_start + 1) % c;
	}
}

static int ring_flush(struct builder *b)
{
	int c = b->o->context;
	for (int k = 0; k < b->nring; k++)
		if (add_line(b, &b->ring[(b->ring_start + k) % c]) < 0)
			return -1;
	b->nring = 0;
	b->ring_start = 0;
	return 0;
}

static int emit(struct builder *b, const struct ev *e)
{
	struct logdiff *d = b->d;
	if (e->op == '=') {
		if (b->in_hunk && b->after > 0) {
			b->after--;
			return add_line(b, e);
		}
		b->gap++;
		ring_push(b, e);
		return 0;
	}
	if (b->max_shown >= 0 && d->shown >= b->max_shown) {
		/* past the cap: counted (by the caller), not kept */
		d->truncated = true;
		b->in_hunk = false;
		return 0;
	}
	if (!b->in_hunk || b->gap > b->o->context) {
		XGROW(d->hunks, d->alloc, (size_t)d->n_hunks + 1);
		struct ld_hunk *h = &d->hunks[d->n_hunks++];
		memset(h, 0, sizeof(*h));
		const char *name;
		uint32_t at = e->j;
		if (at == UINT32_MAX && b->nring)
			at = b->ring[(b->ring_start + b->nring - 1) % b->o->context].j;
		h->step = step_of(b, at, &name);
		h->step_name = name ? xstrdup(name) : NULL;
		b->in_hunk = true;
	}
	if (ring_flush(b) < 0 || add_line(b, e) < 0)
		return -1;
	b->after = b->o->context;
	b->gap = 0;
	return 0;
}

/* Baseline lines [from, to) of a gap that no run line paired with: "-",
 * unless blank or moved (the run has them elsewhere). */
static int flush_removed(struct builder *b, uint32_t from, uint32_t to)
{
	for (uint32_t x = from; x < to; x++) {
		uint64_t h = b->base->h[x];
		if (!h || side_has(b->run, h))
			continue;
		b->d->removed++;
		if (b->o->all_lines) {
			struct ev e = {'-', false, x, UINT32_MAX};
			if (emit(b, &e) < 0)
				return -1;
		}
	}
	return 0;
}

/* Walk the alignment in order, classifying what is not matched in place. */
static int walk(struct builder *b)
{
	struct side *base = b->base, *run = b->run;
	struct logdiff *d = b->d;
	struct buf rnorm = BUF_INIT;
	struct buf cache[LD_NORM_CACHE];
	uint32_t cache_line[LD_NORM_CACHE];
	for (int k = 0; k < LD_NORM_CACHE; k++) {
		buf_init(&cache[k]);
		cache_line[k] = UINT32_MAX;
	}
	int rc = 0;
	uint32_t i = 0, j = 0, na = (uint32_t)base->n, nb = (uint32_t)run->n;
	while (rc == 0 && (i < na || j < nb)) {
		if (i < na && j < nb && base->m[i] == j + 1) {
			d->anchors++;
			struct ev e = {'=', false, i, j};
			rc = emit(b, &e);
			i++, j++;
			continue;
		}
		uint32_t i2 = i, j2 = j;
		while (i2 < na && !base->m[i2])
			i2++;
		while (j2 < nb && !run->m[j2])
			j2++;
		/* the gap: baseline lines [i, i2), run lines [j, j2). First pair the
		 * updated lines (a pair is marked in run->m, which is 0 in a gap);
		 * then emit in order, the baseline's own lines before what replaced
		 * them, as a unified diff does. */
		uint32_t p = i; /* next baseline line that may pair with an updated run line */
		for (uint32_t y = j; rc == 0 && y < j2 && p < i2; y++) {
			uint64_t h = run->h[y];
			if (!h || (base->n && side_has(base, h)))
				continue;
			if ((rc = side_norm(run, y, &rnorm, b->err)) < 0)
				break;
			uint32_t tried = 0;
			for (uint32_t x = p; x < i2 && tried < LD_LOOK; x++) {
				uint64_t hx = base->h[x];
				if (!hx || side_has(run, hx))
					continue; /* blank or moved: not a candidate */
				tried++;
				int slot = (int)(x % LD_NORM_CACHE);
				if (cache_line[slot] != x) {
					if ((rc = side_norm(base, x, &cache[slot], b->err)) < 0)
						break;
					cache_line[slot] = x;
				}
				if (logdiff_similarity(rnorm.data, rnorm.len, cache[slot].data,
						       cache[slot].len) >= LD_SIMILAR) {
					run->m[y] = x + 1;
					p = x + 1;
					break;
				}
			}
		}
		uint32_t xp = i;      /* baseline lines before xp are accounted for */
		uint32_t np = j;      /* the next paired run line at or after y, or j2 */
		for (uint32_t y = j; rc == 0 && y < j2; y++) {
			uint64_t h = run->h[y];
			if (!h || (base->n && side_has(base, h))) {
				if (h)
					d->moved++;
				struct ev e = {'=', h != 0 && b->o->all_lines, UINT32_MAX, y};
				rc = emit(b, &e);
				continue;
			}
			if (np < y)
				np = y;
			while (np < j2 && !run->m[np])
				np++;
			uint32_t upto = np < j2 ? run->m[np] - 1 : i2;
			rc = flush_removed(b, xp, upto);
			xp = MAX(xp, upto);
			if (rc < 0)
				break;
			if (run->m[y]) {
				uint32_t pair = run->m[y] - 1;
				xp = pair + 1;
				run->m[y] = 0;
				d->updated++;
				struct ev e = {'~', false, pair, y};
				rc = emit(b, &e);
			} else {
				d->added++;
				struct ev e = {'+', false, UINT32_MAX, y};
				rc = emit(b, &e);
			}
		}
		if (rc == 0)
			rc = flush_removed(b, xp, i2);
		i = i2;
		j = j2;
	}
	buf_release(&rnorm);
	for (int k = 0; k < LD_NORM_CACHE; k++)
		buf_release(&cache[k]);
	return rc;
}

/* --- entry point -------------------------------------------------------------------------- */
void logdiff_init(struct logdiff *d)
{
	memset(d, 0, sizeof(*d));
}

void logdiff_release(struct logdiff *d)
{
	for (int k = 0; k < d->n_hunks; k++) {
		struct ld_hunk *h = &d->hunks[k];
		for (int x = 0; x < h->n_lines; x++)
			free(h->lines[x].text);
		free(h->lines);
		free(h->step_name);
	}
	free(d->hunks);
	free(d->row_start);
	memset(d, 0, sizeof(*d));
}

long logdiff_rows(struct logdiff *d)
{
	if (!d->n_hunks)
		return 0;
	if (!d->row_start) {
		d->row_start = xmalloc((size_t)d->n_hunks * sizeof(*d->row_start));
		long r = 0;
		for (int h = 0; h < d->n_hunks; h++) {
			d->row_start[h] = r;
			r += 1 + d->hunks[h].n_lines;
		}
	}
	const struct ld_hunk *last = &d->hunks[d->n_hunks - 1];
	return d->row_start[d->n_hunks - 1] + 1 + last->n_lines;
}

bool logdiff_row(struct logdiff *d, long row, int *hunk, int *line)
{
	if (row < 0 || row >= logdiff_rows(d))
		return false;
	int lo = 0, hi = d->n_hunks - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (d->row_start[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	*hunk = lo;
	*line = (int)(row - d->row_start[lo]) - 1;
	return true;
}

int logdiff_logs(struct store *st, int64_t run_log_id, int64_t base_log_id,
		 const struct logdiff_opts *o, const struct step *steps, int n_steps,
		 const struct ld_mark *marks, int n_marks, struct logdiff *d, struct cs_err *err)
{
	struct logdiff_opts def = {3, false, 0};
	if (!o)
		o = &def;
	struct side base, run;
	memset(&run, 0, sizeof(run));
	int rc = side_open(&base, st, base_log_id, err);
	if (rc == 0)
		rc = side_open(&run, st, run_log_id, err);
	if (rc == 0) {
		d->run_lines = run.n;
		d->base_lines = base.n;
		align(&base, &run);
		side_sort(&base);
		side_sort(&run);
		struct builder b;
		memset(&b, 0, sizeof(b));
		b.d = d;
		b.o = o;
		b.max_shown = o->max_shown == 0 ? LD_MAX_SHOWN : o->max_shown < 0 ? -1 : o->max_shown;
		b.base = &base;
		b.run = &run;
		b.steps = steps;
		b.n_steps = n_steps;
		b.marks = marks;
		b.n_marks = n_marks;
		b.err = err;
		b.ring = xcalloc((size_t)MAX(o->context, 1), sizeof(*b.ring));
		rc = walk(&b);
		free(b.ring);
		buf_release(&b.text);
	}
	side_close(&base);
	side_close(&run);
	if (rc < 0)
		logdiff_release(d);
	return rc < 0 ? -1 : 0;
}
