/* search.c - literal and PCRE2 search over stored logs. */
#include "search.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logsearch.h"
#include "logstore.h"
#include "memfind.h"

struct matcher {
	char *query;      /* as given, with flags: a second thread's copy is made of them */
	int flags;
	bool regex;
	bool icase;
	bool no_filter;
	char *lit;        /* literal, lower-cased when icase */
	size_t lit_len;
	pcre2_code *re;
	pcre2_match_data *md;
	char *req;        /* case-sensitive regex: a plain run every match holds */
	size_t req_len;
	struct log_grams grams;
	struct buf fold;  /* lower-cased copy of the subject for icase literals */
	uint64_t chunks_read, chunks_skipped;
};

/* Case folding is ASCII only, whatever the locale: it keeps byte offsets
 * equal to the original's, and it is what the trigram filters fold. */
static inline unsigned char lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? (unsigned char)(c | 0x20) : c;
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 'A' && (unsigned char)*s <= 'Z')
			return true;
	return false;
}

/* --- what a regex cannot match without ------------------------------------------ */

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z');
}

/* Past a character class starting at p ('['); NULL for anything unusual. */
static const unsigned char *skip_class(const unsigned char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']') /* a literal ']' first */
		p++;
	while (*p && *p != ']') {
		if (*p == '\\') {
			if (!p[1] || p[1] == 'Q' || p[1] == 'E')
				return NULL;
			p += 2;
			continue;
		}
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '='))
			return NULL; /* POSIX classes: not worth getting wrong */
		p++;
	}
	return *p ? p + 1 : NULL;
}

/* Length of a group opening "(?..." whose content cannot change how the
 * rest of the pattern reads; 0 for anything else (options, comments,
 * conditions, callouts, ...). The content itself is never required. */
static size_t group_open(const unsigned char *p)
{
	switch (p[2]) {
	case ':': case '=': case '!': case '>': case '|':
		return 3;
	case '<': /* lookbehind or a named group */
	case 'P': /* (?P<name>, (?P=name), (?P>name) */
	case '\'':
		return 3;
	default:
		return 0;
	}
}

static size_t utf8_len(const unsigned char *p)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
	for (size_t i = 1; i < n; i++)
		if (!p[i])
			return i;
	return n;
}

static void end_run(struct buf *runs, struct buf *run, size_t *atom)
{
	if (run->len) {
		buf_add(runs, run->data, run->len);
		buf_addc(runs, '\0');
	}
	buf_reset(run);
	*atom = SIZE_MAX;
}

/* Append to runs (each NUL-terminated) the plain runs of characters at the
 * top level of the pattern that every match contains. Conservative: what it
 * does not follow ends a run, or (where it could change the meaning of what
 * follows) makes it return false: nothing is known to be required. */
static bool regex_runs(const char *pattern, struct buf *runs)
{
	const unsigned char *p = (const unsigned char *)pattern;
	struct buf run = BUF_INIT;
	size_t atom = SIZE_MAX; /* where the last atom starts in run, if it is there */
	int depth = 0;
	bool ok = true;
	while (ok && *p) {
		unsigned char c = *p;
		if (c == '\\') {
			unsigned char d = p[1];
			if (!d || d >= 0x80) {
				ok = false;
			} else if (is_alnum(d)) {
				/* classes and assertions of one letter; anything taking
				 * arguments (\x41, \Q...\E, \p{..}, \1) is not followed */
				if (!strchr("dDwWsShHvVRXbBAzZGK", d))
					ok = false;
				end_run(runs, &run, &atom);
			} else if (depth == 0) {
				atom = run.len;
				buf_addc(&run, (char)d);
			}
			p += 2;
			continue;
		}
		switch (c) {
		case '[':
			end_run(runs, &run, &atom);
			if (!(p = skip_class(p)))
				ok = false;
			break;
		case '(':
			end_run(runs, &run, &atom);
			if (p[1] == '*') {
				ok = false; /* (*UTF), (*CR), verbs */
			} else if (p[1] == '?') {
				size_t k = group_open(p);
				if (!k)
					ok = false;
				p += k;
			} else {
				p++;
			}
			depth++;
			break;
		case ')':
			if (depth == 0)
				ok = false;
			depth--;
			atom = SIZE_MAX; /* a quantifier next applies to the group */
			p++;
			break;
		case '|':
			if (depth == 0)
				ok = false; /* a top-level alternative needs none of the rest */
			p++;
			break;
		case '.': case '^': case '$': case '+':
			end_run(runs, &run, &atom); /* '+': the atom stays, once at least */
			p++;
			break;
		case '*': case '?':
			if (atom != SIZE_MAX)
				run.len = atom; /* the atom is optional */
			end_run(runs, &run, &atom);
			p++;
			break;
		case '{': {
			/* {n}, {n,}, {n,m}, {,m}: a quantifier; any other brace is a
			 * literal, left unrequired */
			const unsigned char *q = p + 1;
			unsigned long min = 0;
			bool digits = false, comma = false;
			while (*q == ' ' || *q == ',' || (*q >= '0' && *q <= '9')) {
				if (*q == ',')
					comma = true;
				else if (*q != ' ' && !comma) {
					digits = true;
					min = min < 100000 ? min * 10 + (unsigned long)(*q - '0') : min;
				}
				q++;
			}
			if (*q == '}') {
				if ((!digits || min == 0) && atom != SIZE_MAX)
					run.len = atom;
				p = q + 1;
			} else {
				p++;
			}
			end_run(runs, &run, &atom);
			break;
		}
		default: {
			size_t n = utf8_len(p);
			if (depth == 0) {
				atom = run.len;
				buf_add(&run, p, n);
			}
			p += n;
			break;
		}
		}
	}
	end_run(runs, &run, &atom);
	buf_release(&run);
	return ok && depth == 0;
}

/* A run every match holds, into the filter query (and, case-sensitive, the
 * longest one as a per-line prefilter). Caseless PCRE2 matches k and s with
 * the Kelvin sign and the long s, and non-ASCII letters with their other
 * cases: only the trigrams clear of those are required. */
static void require_run(struct matcher *m, const char *s, size_t n)
{
	if (!m->icase) {
		log_grams_add(&m->grams, s, n);
		if (n > m->req_len) {
			free(m->req);
			m->req = xstrndup(s, n);
			m->req_len = n;
		}
		return;
	}
	size_t from = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? lower((unsigned char)s[i]) : 0;
		if (i == n || c >= 0x80 || c == 'k' || c == 's') {
			log_grams_add(&m->grams, s + from, i - from);
			from = i + 1;
		}
	}
}

static void regex_requires(struct matcher *m, const char *pattern)
{
	struct buf runs = BUF_INIT;
	if (regex_runs(pattern, &runs))
		for (size_t at = 0; at < runs.len;) {
			size_t n = strlen(runs.data + at);
			require_run(m, runs.data + at, n);
			at += n + 1;
		}
	buf_release(&runs);
}

/* --- matcher ------------------------------------------------------------------------ */

struct matcher *matcher_new(const char *query, int flags, struct cs_err *err)
{
	if (!query || !*query) {
		err_set(err, CS_EUSAGE, "empty search query");
		return NULL;
	}
	struct matcher *m = xcalloc(1, sizeof(*m));
	m->query = xstrdup(query);
	m->flags = flags;
	m->regex = flags & MATCH_REGEX;
	m->icase = (flags & MATCH_IGNORE_CASE) || (!(flags & MATCH_CASE) && !has_upper(query));
	m->no_filter = flags & MATCH_NO_FILTER;
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
			free(m->query);
			free(m);
			return NULL;
		}
		pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
		m->md = pcre2_match_data_create_from_pattern(m->re, NULL);
		regex_requires(m, query);
	} else {
		m->lit = xstrdup(query);
		m->lit_len = strlen(query);
		if (m->icase)
			for (char *p = m->lit; *p; p++)
				*p = (char)lower((unsigned char)*p);
		log_grams_add(&m->grams, m->lit, m->lit_len);
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
	free(m->req);
	free(m->query);
	buf_release(&m->fold);
	free(m);
}

void matcher_grams(const struct matcher *m, struct log_grams *q)
{
	if (m->no_filter)
		memset(q, 0, sizeof(*q));
	else
		*q = m->grams;
}

void matcher_count(struct matcher *m, uint64_t chunks_read, uint64_t chunks_skipped)
{
	m->chunks_read += chunks_read;
	m->chunks_skipped += chunks_skipped;
}

bool matcher_needle(const struct matcher *m, const char **s, size_t *n, bool *fold)
{
	if (!m->regex) {
		*s = m->lit, *n = m->lit_len, *fold = m->icase;
		return true;
	}
	if (m->req && m->req_len) {
		*s = m->req, *n = m->req_len, *fold = false;
		return true;
	}
	return false;
}

bool matcher_line(struct matcher *m, const struct split_line *l, struct buf *scratch,
		  const char **text, size_t *len, size_t *start, size_t *end)
{
	log_search_text(l->head, l->head_len, text, len, scratch);
	if (m->req && !memfind(*text, *len, m->req, m->req_len))
		return false;
	return matcher_find(m, *text, *len, 0, start, end);
}

bool matcher_literal(const struct matcher *m)
{
	return !m->regex;
}

void matcher_stats(const struct matcher *m, uint64_t *chunks_read, uint64_t *chunks_skipped)
{
	*chunks_read = m->chunks_read;
	*chunks_skipped = m->chunks_skipped;
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
	if (n - from < m->lit_len)
		return false;
	const char *subj = s;
	if (m->icase) {
		buf_reset(&m->fold);
		buf_reserve(&m->fold, n);
		for (size_t i = 0; i < n; i++)
			m->fold.data[i] = (char)lower((unsigned char)s[i]);
		m->fold.len = n;
		subj = m->fold.data;
	}
	const char *hit = memfind(subj + from, n - from, m->lit, m->lit_len);
	if (!hit)
		return false;
	*start = (size_t)(hit - subj);
	*end = *start + m->lit_len;
	return true;
}

void search_text(const char *line, size_t n, struct buf *out)
{
	const char *text;
	size_t len;
	log_search_text(line, n, &text, &len, out);
	if (text != out->data) {
		buf_reset(out);
		buf_add(out, text, len);
	}
	buf_cstr(out);
}

/* --- searching the index -------------------------------------------------------------- */

struct all_ctx {
	long limit;
	long *n_hits;
	search_cb cb;
	void *ctx;
	volatile int *cancel;
	int stop;
};

static int all_hit(void *ctx, const struct search_hit *h)
{
	struct all_ctx *a = ctx;
	(*a->n_hits)++;
	int rc = a->cb(a->ctx, h);
	if (rc)
		return a->stop = rc;
	if (a->limit > 0 && *a->n_hits >= a->limit)
		return a->stop = 1;
	return 0;
}

/* Slices of this many lines: between two, a cancel is noticed. */
#define ALL_SLICE 4096

int search_logs(struct store *st, struct matcher *m, long limit, search_cb cb, void *ctx,
		long *n_hits, volatile int *cancel, struct cs_err *err)
{
	*n_hits = 0;
	struct all_ctx a = {.limit = limit, .n_hits = n_hits, .cb = cb, .ctx = ctx,
			    .cancel = cancel};
	if (cancel && *cancel)
		return 0;
	struct logsearch *ls = logsearch_new(st, m, err);
	if (!ls)
		return -1;
	int rc;
	while ((rc = logsearch_step(ls, ALL_SLICE, all_hit, &a, err)) == 1 && !a.stop &&
	       !(cancel && *cancel))
		;
	logsearch_free(ls);
	return rc < 0 ? -1 : 0;
}

/* --- counting, on both cores ------------------------------------------------------------ */

/* A log's count, kept until the two halves are merged in order. */
struct counted {
	uint64_t order, count;
	struct log_ref ref;
};

struct shard {
	struct logsearch *ls;
	struct matcher *m;
	volatile int *cancel;
	struct counted *v;
	size_t n, alloc;
	int rc;
	struct cs_err err;
};

static int keep_count(void *ctx, const struct search_hit *h)
{
	struct shard *sh = ctx;
	XGROW(sh->v, sh->alloc, sh->n + 1);
	struct counted *c = &sh->v[sh->n++];
	c->order = h->line;
	c->count = h->count;
	c->ref = *h->ref;
	c->ref.workflow = h->ref->workflow ? xstrdup(h->ref->workflow) : NULL;
	c->ref.job_name = h->ref->job_name ? xstrdup(h->ref->job_name) : NULL;
	return 0;
}

static void shard_run(struct shard *sh)
{
	while ((sh->rc = logsearch_step(sh->ls, ALL_SLICE * 16, keep_count, sh, &sh->err)) == 1 &&
	       !(sh->cancel && *sh->cancel))
		;
}

static void *shard_main(void *arg)
{
	shard_run(arg);
	return NULL;
}

static void shard_free(struct shard *sh)
{
	for (size_t i = 0; i < sh->n; i++) {
		free((char *)sh->v[i].ref.workflow);
		free((char *)sh->v[i].ref.job_name);
	}
	free(sh->v);
	logsearch_free(sh->ls);
}

uint64_t search_count_split_bytes = 16u << 20;

/* The second half of the logs on a thread of its own, with its own
 * connection, matcher and reader; false when it cannot be had (then the
 * first does everything). */
static bool start_second(struct store *st, struct matcher *m, struct shard *one,
			 struct shard *two, struct store **st2, pthread_t *th)
{
	struct cs_err err;
	if (strcmp(st->path, ":memory:") == 0 ||
	    !(*st2 = store_open(st->path, STORE_RO_EXISTING, &err)))
		return false;
	if (!(two->m = matcher_new(m->query, m->flags, &err)) ||
	    !(two->ls = logsearch_new(*st2, two->m, &err))) {
		matcher_free(two->m);
		store_close(*st2);
		return false;
	}
	logsearch_count_only(two->ls);
	logsearch_shard(two->ls, 1, 2);
	/* split only for many chunks: its half too is read through a map of
	 * the file, decompressed ahead from its first chunk (judging alone,
	 * after 32 chunks read, it read its first by pread, one system call
	 * per page, and a share of fewer than ALL_SLICE * 16 lines in one
	 * step never mapped the file at all) */
	logsearch_many(two->ls, one->ls);
	/* the thread takes no signal: Ctrl-C reaches the one that handles it */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(th, NULL, shard_main, two);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		logsearch_free(two->ls);
		matcher_free(two->m);
		store_close(*st2);
		return false;
	}
	return true;
}

int search_count(struct store *st, struct matcher *m, search_cb cb, void *ctx, long *n_hits,
		 volatile int *cancel, struct cs_err *err)
{
	*n_hits = 0;
	if (cancel && *cancel)
		return 0;
	struct shard one = {.m = m, .cancel = cancel}, two = {.cancel = cancel};
	if (!(one.ls = logsearch_new(st, m, err)))
		return -1;
	logsearch_count_only(one.ls);
	err_clear(&one.err);
	err_clear(&two.err);
	struct logsearch_progress p;
	logsearch_progress(one.ls, &p);
	struct store *st2 = NULL;
	pthread_t th;
	/* the filters first: a rare token leaves a few chunks, read on one
	 * thread (a second connection, its schema and its reader cost more) */
	uint64_t maybe;
	if (logsearch_admit_all(one.ls, &maybe, err) < 0) {
		logsearch_free(one.ls);
		return -1;
	}
	bool split = p.logs_total >= 1 && maybe >= search_count_split_bytes &&
		     start_second(st, m, &one, &two, &st2, &th);
	if (split)
		logsearch_shard(one.ls, 0, 2);
	shard_run(&one);
	if (split) {
		pthread_join(th, NULL);
		uint64_t r, s;
		matcher_stats(two.m, &r, &s);
		matcher_count(m, r, s);
	}
	int rc = 0;
	if (one.rc < 0 || (split && two.rc < 0)) {
		*err = one.rc < 0 ? one.err : two.err;
		rc = -1;
	}
	/* both halves in the order of the search; a log cut between them
	 * (logsearch_shard) counted by both */
	size_t i = 0, j = 0;
	while (rc == 0 && (i < one.n || j < two.n) && !(cancel && *cancel)) {
		bool both = i < one.n && j < two.n && one.v[i].order == two.v[j].order;
		struct counted *c = j >= two.n || (i < one.n && one.v[i].order <= two.v[j].order)
					    ? &one.v[i++] : &two.v[j++];
		uint64_t count = c->count + (both ? two.v[j++].count : 0);
		*n_hits += (long)count;
		struct search_hit h = {.ref = &c->ref, .count = count, .line = c->order};
		if (cb(ctx, &h))
			break;
	}
	shard_free(&one);
	if (split) {
		shard_free(&two);
		matcher_free(two.m);
		store_close(st2);
	}
	return rc;
}
