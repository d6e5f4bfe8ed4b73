/* search.c - literal and PCRE2 search over stored logs. */
#include "search.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logstore.h"

struct matcher {
	bool regex;
	bool icase;
	char *lit;        /* literal, lower-cased when icase */
	size_t lit_len;
	pcre2_code *re;
	pcre2_match_data *md;
	struct buf fold;  /* lower-cased copy of the subject for icase literals */
};

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (isupper((unsigned char)*s))
			return true;
	return false;
}

struct matcher *matcher_new(const char *query, int flags, struct cs_err *err)
{
	if (!query || !*query) {
		err_set(err, CS_EUSAGE, "empty search query");
		return NULL;
	}
	struct matcher *m = xcalloc(1, sizeof(*m));
	m->regex = flags & MATCH_REGEX;
	m->icase = (flags & MATCH_IGNORE_CASE) || (!(flags & MATCH_CASE) && !has_upper(query));
	if (m->regex) {
		int ec;
		PCRE2_SIZE eo;
		uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (m->icase ? PCRE2_CASELESS : 0);
		m->re = pcre2_compile((PCRE2_SPTR)query, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
		if (!m->re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			err_set(err, CS_EUSAGE, "bad regular expression '%s': %s at offset %zu", query,
				(const char *)msg, (size_t)eo);
			free(m);
			return NULL;
		}
		pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
		m->md = pcre2_match_data_create_from_pattern(m->re, NULL);
	} else {
		m->lit = xstrdup(query);
		m->lit_len = strlen(query);
		if (m->icase)
			for (char *p = m->lit; *p; p++)
				*p = (char)tolower((unsigned char)*p);
	}
	return m;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	if (m->md)
		pcre2_match_data_free(m->md);
	if (m->re)
		pcre2_code_free(m->re);
	free(m->lit);
	buf_release(&m->fold);
	free(m);
}

bool matcher_find(struct matcher *m, const char *s, size_t n, size_t from, size_t *start,
		  size_t *end)
{
	if (from > n)
		return false;
	if (m->regex) {
		int rc = pcre2_match(m->re, (PCRE2_SPTR)s, n, from, 0, m->md, NULL);
		if (rc < 0)
			return false;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		*start = ov[0];
		*end = ov[1];
		return true;
	}
	const char *subj = s;
	if (m->icase) {
		/* ASCII folding keeps byte offsets equal to the original's */
		buf_reset(&m->fold);
		buf_reserve(&m->fold, n);
		for (size_t i = 0; i < n; i++)
			m->fold.data[i] = (char)tolower((unsigned char)s[i]);
		m->fold.len = n;
		subj = m->fold.data;
	}
	const char *hit = memmem(subj + from, n - from, m->lit, m->lit_len);
	if (!hit)
		return false;
	*start = (size_t)(hit - subj);
	*end = *start + m->lit_len;
	return true;
}

void search_text(const char *line, size_t n, struct buf *out)
{
	struct logline ll;
	logline_parse(line, n, &ll);
	buf_reset(out);
	/* fast path: no escape byte means nothing to strip */
	if (!memchr(ll.text, 0x1b, ll.text_len) && !memchr(ll.text, (char)0x9b, ll.text_len))
		buf_add(out, ll.text, ll.text_len);
	else
		ansi_strip(ll.text, ll.text_len, out);
	buf_cstr(out);
}

struct scan_ctx {
	struct matcher *m;
	const struct log_ref *ref;
	struct step *steps;
	int n_steps;
	int step_i;
	long limit;
	long *n_hits;
	search_cb cb;
	void *ctx;
	struct buf text;
	volatile int *cancel;
	int stop;
};

static int scan_line(void *ctx, const struct split_line *l)
{
	struct scan_ctx *c = ctx;
	if (c->cancel && *c->cancel)
		return 2;
	/* cheap prefilter for literals: a line without the literal and without
	 * an escape sequence (which could split it) cannot match */
	if (!c->m->regex && !c->m->icase &&
	    !memmem(l->head, l->head_len, c->m->lit, c->m->lit_len) &&
	    !memchr(l->head, 0x1b, l->head_len) && !memchr(l->head, (char)0x9b, l->head_len))
		return 0;
	search_text(l->head, l->head_len, &c->text);
	size_t a, b;
	if (!matcher_find(c->m, c->text.data, c->text.len, 0, &a, &b))
		return 0;
	struct search_hit h = {.ref = c->ref, .line = l->lineno, .text = c->text.data,
			       .text_len = c->text.len, .match_start = a, .match_end = b};
	while (c->step_i < c->n_steps && c->steps[c->step_i].last_line &&
	       (uint64_t)c->steps[c->step_i].last_line < l->lineno)
		c->step_i++;
	for (int i = c->step_i; i < c->n_steps; i++) {
		const struct step *s = &c->steps[i];
		if (s->first_line && (uint64_t)s->first_line <= l->lineno &&
		    (uint64_t)s->last_line >= l->lineno) {
			h.step_number = s->number;
			h.step_name = s->name;
			break;
		}
		if (s->first_line && (uint64_t)s->first_line > l->lineno)
			break;
	}
	(*c->n_hits)++;
	int rc = c->cb(c->ctx, &h);
	if (rc)
		return c->stop = rc;
	if (c->limit > 0 && *c->n_hits >= c->limit)
		return c->stop = 1;
	return 0;
}

struct all_ctx {
	struct store *st;
	struct scan_ctx *sc;
	struct cs_err *err;
	int failed;
};

static int per_log(void *ctx, const struct log_ref *ref)
{
	struct all_ctx *a = ctx;
	struct scan_ctx *sc = a->sc;
	struct logr *r = logr_open(a->st->db, ref->log_id, a->err);
	if (!r) {
		a->failed = 1;
		return -1;
	}
	sc->ref = ref;
	sc->step_i = 0;
	if (store_steps(a->st, ref->job_row_id, &sc->steps, &sc->n_steps, a->err) < 0) {
		logr_close(r);
		a->failed = 1;
		return -1;
	}
	int rc = logr_scan(r, 1, logr_line_count(r), scan_line, sc, a->err);
	logr_close(r);
	store_steps_free(sc->steps, sc->n_steps);
	sc->steps = NULL;
	sc->n_steps = 0;
	if (rc < 0 && !sc->stop) {
		a->failed = 1;
		return -1;
	}
	return sc->stop ? sc->stop : 0;
}

int search_logs(struct store *st, struct matcher *m, long limit, search_cb cb, void *ctx,
		long *n_hits, volatile int *cancel, struct cs_err *err)
{
	struct scan_ctx sc = {.m = m, .limit = limit, .n_hits = n_hits, .cb = cb, .ctx = ctx,
			      .cancel = cancel};
	buf_init(&sc.text);
	*n_hits = 0;
	struct all_ctx a = {.st = st, .sc = &sc, .err = err};
	int rc = store_logs(st, per_log, &a, err);
	buf_release(&sc.text);
	if (a.failed || rc < 0)
		return -1;
	return 0;
}
