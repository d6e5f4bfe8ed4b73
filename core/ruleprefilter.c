/* ruleprefilter.c - the rules' prefilter: the literals a pattern's every
 * match must contain, and an Aho-Corasick DFA over them that says which
 * patterns can match a line at all (see rulesint.h). */
#include "rulesint.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* --- the prefilter: literals a match must contain ------------------------------------ */
/* A conservative reading of a PCRE2 pattern: for each part of it, a set of
 * literals one of which every match contains, or nothing known. Anything
 * not understood gives "nothing known", so the pattern is always tried:
 * the prefilter may let through lines that cannot match, never the other
 * way round. */
#define LIT_MIN 3
#define LIT_MAX_SET 64
/* The DFA looks for at most the first PF_LIT_MAX bytes of a literal: a line
 * holding the literal holds them (a few more lines are tried, none fewer),
 * the DFA has fewer states, and the scan can split a line with an overlap
 * of PF_LIT_MAX - 1 bytes (rscan's prefilter_scan). */
#define PF_LIT_MAX 16
#define PREFILTER_MAX_CELLS (16u << 20) /* entries of the DFA table (64 MB) */

struct litset {
	char **s;
	int n; /* -1: nothing known */
};

struct lp {
	const char *p, *end;
	bool icase;
	bool bad; /* a construct this reading does not handle */
};

static void ls_free(struct litset *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = -1;
}

static size_t ls_minlen(const struct litset *l)
{
	size_t m = SIZE_MAX;
	for (int i = 0; i < l->n; i++)
		m = MIN(m, strlen(l->s[i]));
	return l->n > 0 ? m : 0;
}

/* Keep the better of best and cand (cand is consumed). */
static void ls_offer(struct litset *best, struct litset *cand)
{
	if (cand->n <= 0) {
		ls_free(cand);
		return;
	}
	size_t mb = ls_minlen(best), mc = ls_minlen(cand);
	if (best->n <= 0 || mc > mb || (mc == mb && cand->n < best->n)) {
		ls_free(best);
		*best = *cand;
		cand->s = NULL;
		cand->n = -1;
	} else {
		ls_free(cand);
	}
}

static void run_offer(struct lp *x, struct buf *run, struct litset *best)
{
	if (run->len >= LIT_MIN) {
		bool ok = true;
		for (size_t i = 0; i < run->len; i++)
			if ((unsigned char)run->data[i] >= 0x80 && x->icase)
				ok = false; /* case folding beyond ASCII: not ours to guess */
		if (ok) {
			struct litset c = {xmalloc(sizeof(char *)), 1};
			c.s[0] = xstrndup(run->data, run->len);
			for (char *q = c.s[0]; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			ls_offer(best, &c);
		}
	}
	buf_reset(run);
}

/* After an atom: skip its quantifier; true when it makes the atom optional. */
static bool quantifier(struct lp *x)
{
	const char *p = x->p;
	bool opt = false;
	if (p < x->end && (*p == '?' || *p == '*')) {
		opt = true;
		p++;
	} else if (p < x->end && *p == '+') {
		p++;
	} else if (p < x->end && *p == '{' && p + 1 < x->end &&
		   (isdigit((unsigned char)p[1]) || p[1] == ',')) {
		char *e;
		long lo = p[1] == ',' ? 0 : strtol(p + 1, &e, 10);
		if (p[1] == ',')
			e = (char *)p + 1;
		while (e < x->end && *e != '}' && (isdigit((unsigned char)*e) || *e == ','))
			e++;
		if (e < x->end && *e == '}') {
			opt = lo == 0;
			p = e + 1;
		} else {
			return false; /* a literal '{' */
		}
	} else {
		return false;
	}
	if (p < x->end && (*p == '?' || *p == '+')) /* lazy, possessive */
		p++;
	x->p = p;
	return opt;
}

static bool is_quant(const struct lp *x)
{
	const char *p = x->p;
	if (p >= x->end)
		return false;
	if (*p == '?' || *p == '*' || *p == '+')
		return true;
	return *p == '{' && p + 1 < x->end && (isdigit((unsigned char)p[1]) || p[1] == ',');
}

static void skip_class(struct lp *x)
{
	const char *p = x->p + 1;
	if (p < x->end && *p == '^')
		p++;
	if (p < x->end && *p == ']')
		p++;
	while (p < x->end && *p != ']') {
		if (*p == '\\' && p + 1 < x->end)
			p += 2;
		else if (*p == '[' && p + 1 < x->end && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			p = e && e < x->end ? e + 2 : p + 1;
		} else
			p++;
	}
	x->p = p < x->end ? p + 1 : p;
	if (p >= x->end)
		x->bad = true;
}

static void skip_escape(struct lp *x)
{
	const char *p = x->p + 1; /* at the letter */
	char c = *p++;
	if ((c == 'p' || c == 'P' || c == 'x' || c == 'o' || c == 'g' || c == 'k' || c == 'N') &&
	    p < x->end && (*p == '{' || *p == '<' || *p == '\'')) {
		char close = *p == '{' ? '}' : *p == '<' ? '>' : '\'';
		while (p < x->end && *p != close)
			p++;
		if (p < x->end)
			p++;
	} else if (c == 'x') {
		for (int i = 0; i < 2 && p < x->end && isxdigit((unsigned char)*p); i++)
			p++;
	} else if (c == 'c' && p < x->end) {
		p++;
	} else if (c == 'Q' || c == 'E') {
		x->bad = true;
	} else if (isdigit((unsigned char)c)) {
		while (p < x->end && isdigit((unsigned char)*p))
			p++;
	}
	x->p = p;
}

static struct litset alternation(struct lp *x);

/* A sequence up to '|', ')' or the end. */
static struct litset sequence(struct lp *x)
{
	struct litset best = {NULL, -1};
	struct buf run = BUF_INIT;
	while (x->p < x->end && *x->p != '|' && *x->p != ')' && !x->bad) {
		char c = *x->p;
		if (c == '\\') {
			if (x->p + 1 >= x->end) {
				x->bad = true;
				break;
			}
			char e = x->p[1];
			if (isalnum((unsigned char)e)) {
				run_offer(x, &run, &best);
				skip_escape(x);
				if (is_quant(x))
					quantifier(x);
				continue;
			}
			x->p += 2;
			buf_addc(&run, e);
		} else if (c == '[') {
			run_offer(x, &run, &best);
			skip_class(x);
			if (is_quant(x))
				quantifier(x);
			continue;
		} else if (c == '(') {
			run_offer(x, &run, &best);
			const char *p = x->p + 1;
			bool zero_width = false, options_only = false;
			if (p < x->end && *p == '*') {
				x->bad = true; /* (*VERB) */
				break;
			}
			if (p < x->end && *p == '?') {
				p++;
				if (p < x->end && (*p == '=' || *p == '!')) {
					zero_width = true;
					p++;
				} else if (p + 1 < x->end && *p == '<' && (p[1] == '=' || p[1] == '!')) {
					zero_width = true;
					p += 2;
				} else if (p < x->end && (*p == ':' || *p == '>' || *p == '|')) {
					p++;
				} else if (p < x->end && (*p == '<' || *p == '\'' ||
							  (*p == 'P' && p + 1 < x->end && p[1] == '<'))) {
					char close = *p == '\'' ? '\'' : '>';
					while (p < x->end && *p != close)
						p++;
					p++;
				} else {
					/* (?flags) or (?flags:...) */
					const char *f = p;
					while (p < x->end && (isalpha((unsigned char)*p) || *p == '-' ||
							      *p == '^'))
						p++;
					for (const char *q = f; q < p; q++) {
						if (*q == 'x')
							x->bad = true;
						if (*q == 'i')
							x->icase = true;
					}
					if (p < x->end && *p == ')') {
						options_only = true;
						p++;
					} else if (p < x->end && *p == ':') {
						p++;
					} else {
						x->bad = true;
						break;
					}
				}
			}
			x->p = p;
			if (options_only)
				continue;
			struct litset in = alternation(x);
			if (x->p >= x->end || *x->p != ')') {
				x->bad = true;
				ls_free(&in);
				break;
			}
			x->p++;
			bool opt = is_quant(x) ? quantifier(x) : false;
			if (zero_width || opt)
				ls_free(&in);
			else
				ls_offer(&best, &in);
			continue;
		} else if (c == '.' || c == '^' || c == '$') {
			run_offer(x, &run, &best);
			x->p++;
			if (is_quant(x))
				quantifier(x);
			continue;
		} else if (c == '?' || c == '*' || c == '+' || c == '{') {
			if (c == '{' && !is_quant(x)) {
				x->p++;
				buf_addc(&run, c);
				continue;
			}
			/* a '{' that opens no quantifier ("a{3,$}") is a literal:
			 * quantifier() leaves it, and taking it again would never
			 * end (found by tests/fuzz/f_rules) */
			const char *at = x->p;
			bool opt = quantifier(x);
			if (x->p == at) {
				x->p++;
				buf_addc(&run, c);
				continue;
			}
			/* the quantifier binds the last character of the run */
			if (opt && run.len) {
				size_t l = run.len - 1;
				while (l > 0 && ((unsigned char)run.data[l] & 0xc0) == 0x80)
					l--;
				run.len = l;
			}
			run_offer(x, &run, &best);
			continue;
		} else {
			x->p++;
			buf_addc(&run, c);
		}
		(void)0;
	}
	run_offer(x, &run, &best);
	buf_release(&run);
	return best;
}

static struct litset alternation(struct lp *x)
{
	struct litset all = sequence(x);
	bool none = all.n <= 0;
	while (!x->bad && x->p < x->end && *x->p == '|') {
		x->p++;
		struct litset b = sequence(x);
		if (b.n <= 0 || none || all.n + b.n > LIT_MAX_SET) {
			none = true;
			ls_free(&b);
			continue;
		}
		all.s = xrealloc(all.s, sizeof(char *) * (size_t)(all.n + b.n));
		memcpy(all.s + all.n, b.s, sizeof(char *) * (size_t)b.n);
		all.n += b.n;
		free(b.s);
	}
	if (none)
		ls_free(&all);
	return all;
}

void rule_pat_find_literals(struct rule_pat *pat)
{
	struct lp x = {.p = pat->src, .end = pat->src + strlen(pat->src)};
	x.icase = strstr(pat->src, "(?i") != NULL;
	struct litset l = alternation(&x);
	if (x.bad || x.p != x.end || l.n <= 0) {
		ls_free(&l);
		pat->lits = NULL;
		pat->n_lits = 0;
		return;
	}
	pat->lits = l.s;
	pat->n_lits = l.n;
}

void rules_prefilter_free(struct prefilter *pf)
{
	free(pf->delta);
	free(pf->out_start);
	free(pf->out_ids);
	free(pf->pat_rule);
	free(pf->always);
	memset(pf, 0, sizeof(*pf));
}

void rules_prefilter_build(struct ruleset *rs)
{
	struct prefilter *pf = &rs->pf;
	rules_prefilter_free(pf);
	/* byte classes: the bytes of the literals, upper case folded in */
	int id = 0, nc = 1;
	size_t total = 1;
	memset(pf->cls, 0, sizeof(pf->cls));
	for (int i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rules[i];
		for (int k = 0; k < r->n_match; k++) {
			struct rule_pat *p = &r->match[k];
			p->id = id++;
			pf->n_gated += p->n_lits > 0;
			for (int l = 0; l < p->n_lits; l++) {
				for (const unsigned char *b = (const unsigned char *)p->lits[l]; *b; b++) {
					if (!pf->cls[*b]) {
						pf->cls[*b] = (unsigned char)MIN(nc, 255);
						nc = MIN(nc + 1, 255);
					}
				}
				total += strlen(p->lits[l]);
				pf->max_lit = MAX(pf->max_lit,
						  (int)MIN(strlen(p->lits[l]), (size_t)PF_LIT_MAX));
			}
		}
	}
	for (int c = 'A'; c <= 'Z'; c++)
		pf->cls[c] = pf->cls[c - 'A' + 'a'];
	pf->n_pats = id;
	pf->pat_rule = xmalloc(sizeof(int) * (size_t)MAX(id, 1));
	pf->always = xmalloc(sizeof(int) * (size_t)MAX(rs->n, 1));
	for (int i = 0; i < rs->n; i++) {
		bool always = false;
		for (int k = 0; k < rs->rules[i].n_match; k++) {
			pf->pat_rule[rs->rules[i].match[k].id] = i;
			always |= rs->rules[i].match[k].n_lits == 0;
		}
		if (always)
			pf->always[pf->n_always++] = i;
	}
	pf->n_classes = nc;
	if (total * (size_t)nc > PREFILTER_MAX_CELLS || !pf->n_gated)
		return; /* a rules file of that size: every pattern on every line */
	/* the trie: goto edges in the delta table itself (-1: none yet) */
	int *delta = xmalloc(sizeof(int) * total * (size_t)nc);
	for (size_t i = 0; i < total * (size_t)nc; i++)
		delta[i] = -1;
	int n_states = 1;
	/* outputs per state, as a linked list while building */
	int *head = xmalloc(sizeof(int) * total), *next = NULL, *pid = NULL;
	size_t n_out = 0, out_alloc = 0, next_alloc = 0;
	for (size_t i = 0; i < total; i++)
		head[i] = -1;
	for (int i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rules[i];
		for (int k = 0; k < r->n_match; k++) {
			struct rule_pat *p = &r->match[k];
			for (int l = 0; l < p->n_lits; l++) {
				int st = 0;
				const unsigned char *b0 = (const unsigned char *)p->lits[l];
				for (const unsigned char *b = b0; *b && b - b0 < PF_LIT_MAX; b++) {
					int *t = &delta[(size_t)st * (size_t)nc + pf->cls[*b]];
					if (*t < 0)
						*t = n_states++;
					st = *t;
				}
				XGROW(pid, out_alloc, n_out + 1);
				XGROW(next, next_alloc, n_out + 1);
				pid[n_out] = p->id;
				next[n_out] = head[st];
				head[st] = (int)n_out++;
			}
		}
	}
	/* failure links, breadth first; the table becomes a DFA */
	int *fail = xcalloc((size_t)n_states, sizeof(int));
	int *queue = xmalloc(sizeof(int) * (size_t)n_states);
	int qh = 0, qt = 0;
	for (int c = 0; c < nc; c++) {
		int *t = &delta[c];
		if (*t < 0) {
			*t = 0;
		} else {
			fail[*t] = 0;
			queue[qt++] = *t;
		}
	}
	/* each state's outputs also hold its failure state's: collected into
	 * the CSR arrays once every link is known */
	while (qh < qt) {
		int st = queue[qh++];
		for (int c = 0; c < nc; c++) {
			int *t = &delta[(size_t)st * (size_t)nc + c];
			int f = delta[(size_t)fail[st] * (size_t)nc + c];
			if (*t < 0) {
				*t = f;
			} else {
				fail[*t] = f;
				queue[qt++] = *t;
			}
		}
	}
	/* the scan's states numbered breadth first: the root and the shallow
	 * states, which nearly every byte of a line visits, share a few cache
	 * lines instead of lying among the deep ones in literal order. The
	 * states with outputs (a literal ends there, or in a failure state of
	 * theirs) come after all others, in the same order: the scan tells
	 * them by their row offset alone (out_min), one compare a byte. */
	bool *has_out = xcalloc((size_t)n_states, sizeof(bool));
	for (int k = 0; k < qt; k++) /* breadth first: a failure state is seen first */
		has_out[queue[k]] = head[queue[k]] >= 0 || has_out[fail[queue[k]]];
	int *bfs = xmalloc(sizeof(int) * (size_t)n_states);
	int *old = xmalloc(sizeof(int) * (size_t)n_states); /* new number -> state */
	int n_new = 0;
	old[n_new++] = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			pf->out_min = (unsigned)n_new * (unsigned)nc;
		for (int k = 0; k < qt; k++)
			if (has_out[queue[k]] == (pass == 1))
				old[n_new++] = queue[k];
	}
	if (pf->out_min == (unsigned)n_new * (unsigned)nc)
		pf->out_min = UINT_MAX; /* no state has outputs */
	for (int ns = 0; ns < n_states; ns++)
		bfs[old[ns]] = ns;
	pf->out_start = xcalloc((size_t)n_states + 1, sizeof(int));
	int *ids = NULL;
	size_t n_ids = 0, ids_alloc = 0;
	for (int ns = 0; ns < n_states; ns++) {
		int st = old[ns];
		pf->out_start[ns] = (int)n_ids;
		for (int s2 = st; s2 > 0; s2 = fail[s2])
			for (int o = head[s2]; o >= 0; o = next[o]) {
				XGROW(ids, ids_alloc, n_ids + 1);
				ids[n_ids++] = pid[o];
			}
	}
	pf->out_start[n_states] = (int)n_ids;
	pf->out_ids = ids;
	/* the scan's form: each entry the next state's row offset */
	unsigned *dfa = xmalloc(sizeof(unsigned) * (size_t)n_states * (size_t)nc);
	for (int ns = 0; ns < n_states; ns++) {
		int st = old[ns];
		for (int c = 0; c < nc; c++) {
			int to = bfs[delta[(size_t)st * (size_t)nc + c]];
			dfa[(size_t)ns * (size_t)nc + c] = (unsigned)to * (unsigned)nc;
		}
	}
	free(delta);
	free(bfs);
	free(old);
	free(has_out);
	pf->delta = dfa;
	pf->n_states = n_states;
	free(fail);
	free(queue);
	free(head);
	free(next);
	free(pid);
}
