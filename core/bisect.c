/* bisect.c - bisection over the first-parent history with stored runs as
 * evidence (see bisect.h): sessions in the index, the search, the public
 * calls and bisect run. What a target says of each run is in
 * bisectverdict.c (the two share bisectint.h). */
#include "bisect.h"
#include "bisectint.h"
#include "cistate.h"
#include "commits.h"
#include "parity.h"
#include "storesql.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- revs and runs ----------------------------------------------------------------- */
static bool looks_like_run(const char *s)
{
	size_t i = 0;
	if (*s == '#')
		return false;
	while (isdigit((unsigned char)s[i]))
		i++;
	if (i == 0)
		return false;
	if (s[i] == ':') {
		i++;
		size_t j = i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == j)
			return false;
	}
	return s[i] == '\0';
}

/* REV or RUN to a commit; a run's branch into *branch (caller frees) when
 * branch is not NULL. */
static int resolve_spec(struct store *st, struct gitrepo *g, const char *spec, char sha[41],
			char **branch, struct cs_err *err)
{
	if (looks_like_run(spec)) {
		struct run r;
		memset(&r, 0, sizeof(r));
		struct cs_err e2;
		err_clear(&e2);
		if (store_find_run(st, spec, &r, &e2) == 0) {
			bool ok = r.sha && strlen(r.sha) == 40;
			if (ok) {
				for (int i = 0; i < 41; i++)
					sha[i] = (char)tolower((unsigned char)r.sha[i]);
				if (branch)
					*branch = r.branch ? xstrdup(r.branch) : NULL;
			}
			run_free(&r);
			if (ok)
				return 0;
			return err_set(err, CS_EINVAL, "run %s has no commit sha", spec);
		}
		run_free(&r);
	}
	if (!gitrepo_resolve(g, spec, sha))
		return err_set(err, CS_ENOTFOUND, "'%s' is neither a run in the index nor a commit of the checkout",
			       spec);
	return 0;
}

/* --- sessions in the index ------------------------------------------------------------ */
struct mark {
	char sha[41];
	enum bisect_verdict v;
	char *source, *detail;
};

struct session {
	int64_t id;
	char *target, *branch, *state, *repo_path, *first_bad;
	char good[41], bad[41];
	struct mark *marks;
	int n_marks;
	size_t alloc;
};

static void session_release(struct session *s)
{
	free(s->target);
	free(s->branch);
	free(s->state);
	free(s->repo_path);
	free(s->first_bad);
	for (int i = 0; i < s->n_marks; i++) {
		free(s->marks[i].source);
		free(s->marks[i].detail);
	}
	free(s->marks);
	memset(s, 0, sizeof(*s));
}

static int take_session(void *ctx, sqlite3_stmt *s)
{
	struct session *x = ctx;
	x->id = sqlite3_column_int64(s, 0);
	x->target = sql_col_str(s, 1);
	x->branch = sql_col_str(s, 2);
	snprintf(x->good, sizeof(x->good), "%s", (const char *)sqlite3_column_text(s, 3));
	snprintf(x->bad, sizeof(x->bad), "%s", (const char *)sqlite3_column_text(s, 4));
	x->repo_path = sql_col_str(s, 5);
	x->state = sql_col_str(s, 6);
	x->first_bad = sql_col_str(s, 7);
	return 1;
}

static enum bisect_verdict verdict_from(const char *s)
{
	if (!s)
		return BV_NONE;
	if (!strcmp(s, "good"))
		return BV_GOOD;
	if (!strcmp(s, "bad"))
		return BV_BAD;
	if (!strcmp(s, "skip"))
		return BV_SKIP;
	return BV_NONE;
}

static int take_mark(void *ctx, sqlite3_stmt *s)
{
	struct session *x = ctx;
	XGROW(x->marks, x->alloc, (size_t)x->n_marks + 1);
	struct mark *m = &x->marks[x->n_marks++];
	snprintf(m->sha, sizeof(m->sha), "%s", (const char *)sqlite3_column_text(s, 0));
	m->v = verdict_from((const char *)sqlite3_column_text(s, 1));
	m->source = sql_col_str(s, 2);
	m->detail = sql_col_str(s, 3);
	return 0;
}

/* The active session (active_only), else the newest kept. */
static int session_load(struct store *st, bool active_only, struct session *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	const char *sql = active_only
		? "SELECT id, target, branch, good, bad, repo_path, state, first_bad FROM bisect_sessions "
		  "WHERE state = 'active'"
		: "SELECT id, target, branch, good, bad, repo_path, state, first_bad FROM bisect_sessions "
		  "ORDER BY state = 'active' DESC, id DESC LIMIT 1";
	if (store_prepare(st, sql, &s, "reading the bisection", err) < 0)
		return -1;
	int rc = store_collect(st, s, take_session, out, "reading the bisection", err);
	if (rc < 0)
		return -1;
	if (!out->id)
		return err_set(err, CS_ENOTFOUND, active_only
			? "no bisection is active: start one with ciscope bisect start"
			: "no bisection in the index: start one with ciscope bisect start");
	if (store_prepare(st, "SELECT sha, verdict, source, detail FROM bisect_marks WHERE session_id = ?1 "
			  "ORDER BY seq", &s, "reading the bisection", err) < 0) {
		session_release(out);
		return -1;
	}
	sqlite3_bind_int64(s, 1, out->id);
	if (store_collect(st, s, take_mark, out, "reading the bisection", err) < 0) {
		session_release(out);
		return -1;
	}
	return 0;
}

static int insert_mark(struct store *st, int64_t id, const char *sha, enum bisect_verdict v,
		       const char *source, const char *detail, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "INSERT INTO bisect_marks (session_id, seq, sha, verdict, source, detail, at) "
			  "VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM bisect_marks WHERE session_id = ?1), "
			  "?2, ?3, ?4, ?5, ?6)", &s, "recording a bisect verdict", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sql_bind_text(s, 2, sha);
	sql_bind_text(s, 3, bisect_verdict_name(v));
	sql_bind_text(s, 4, source);
	sql_bind_text(s, 5, detail);
	sqlite3_bind_int64(s, 6, time_now_ms());
	return store_collect(st, s, NULL, NULL, "recording a bisect verdict", err);
}

static int set_state(struct store *st, int64_t id, const char *state, const char *first_bad,
		     struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "UPDATE bisect_sessions SET state = ?2, first_bad = ?3, ended_at = ?4 "
			  "WHERE id = ?1", &s, "ending the bisection", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sql_bind_text(s, 2, state);
	sql_bind_text(s, 3, first_bad);
	if (!strcmp(state, "active"))
		sqlite3_bind_null(s, 4);
	else
		sqlite3_bind_int64(s, 4, time_now_ms());
	return store_collect(st, s, NULL, NULL, "ending the bisection", err);
}

/* --- the search ------------------------------------------------------------------------ */
int bisect_estimate_steps(int all)
{
	if (all < 3)
		return 0;
	int n = 0;
	while ((1 << (n + 1)) <= all && n < 30)
		n++;
	int x = all - (1 << n);
	return (1 << n) < 3 * x ? n : n - 1;
}

static void add_obs(struct bisect_commit *c, int64_t run, int64_t row, int attempt,
		    const char *conclusion, enum bisect_verdict v, const char *source, const char *detail)
{
	c->obs = xrealloc(c->obs, sizeof(*c->obs) * (size_t)(c->n_obs + 1));
	struct bisect_obs *o = &c->obs[c->n_obs++];
	memset(o, 0, sizeof(*o));
	o->run = run;
	o->run_row = row;
	o->attempt = attempt;
	o->conclusion = conclusion ? xstrdup(conclusion) : NULL;
	o->v = v;
	o->source = xstrdup(source);
	o->detail = detail ? xstrdup(detail) : NULL;
	if (v == BV_GOOD)
		c->n_good++;
	else if (v == BV_BAD)
		c->n_bad++;
	else if (v == BV_SKIP)
		c->skipped = true;
}

static void settle(struct bisect_commit *c)
{
	c->verdict = c->n_good && c->n_bad ? BV_MIXED : c->n_bad ? BV_BAD : c->n_good ? BV_GOOD : BV_NONE;
}

static void commit_release(struct bisect_commit *c)
{
	gitrepo_commit_release(&c->c);
	for (int i = 0; i < c->n_obs; i++) {
		free(c->obs[i].conclusion);
		free(c->obs[i].source);
		free(c->obs[i].detail);
		free(c->obs[i].dispatch_ref);
	}
	free(c->obs);
	memset(c, 0, sizeof(*c));
}

void bisect_status_release(struct bisect_status *s)
{
	for (int i = 0; i < s->n; i++)
		commit_release(&s->commits[i]);
	free(s->commits);
	commit_release(&s->good_commit);
	free(s->state);
	free(s->target);
	free(s->branch);
	free(s->message);
	memset(s, 0, sizeof(*s));
}

/* The shas with a run, as a set of their first 64 bits (has_run; most
 * commits of a long history have none, and a miss spares the target's
 * binary search). Two commits sharing 64 bits of id: not a practical case. */
struct shaset {
	uint64_t *v;
	size_t mask;
};

static uint64_t sha_key(const char *sha)
{
	uint64_t k = 0;
	for (int i = 0; i < 16 && sha[i]; i++) {
		char ch = sha[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : 0;
		k = k << 4 | (uint64_t)d;
	}
	return k ? k : 1;
}

static void shaset_add(struct shaset *h, uint64_t k)
{
	size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL >> 20) & h->mask;
	while (h->v[j] && h->v[j] != k)
		j = (j + 1) & h->mask;
	h->v[j] = k;
}

static int take_sha(void *ctx, sqlite3_stmt *st)
{
	struct { uint64_t *v; size_t n, alloc; } *c = ctx;
	const unsigned char *sha = sqlite3_column_text(st, 0);
	if (!sha || strlen((const char *)sha) != 40)
		return 0;
	XGROW(c->v, c->alloc, c->n + 1);
	c->v[c->n++] = sha_key((const char *)sha);
	return 0;
}

/* Every head sha with a run of any kind (one light query). */
static int shaset_load(struct store *st, struct shaset *h, struct cs_err *err)
{
	memset(h, 0, sizeof(*h));
	sqlite3_stmt *q;
	if (store_prepare(st, "SELECT DISTINCT lower(head_sha) FROM runs WHERE head_sha IS NOT NULL", &q,
			  "reading the commits with runs", err) < 0)
		return -1;
	struct { uint64_t *v; size_t n, alloc; } c = {NULL, 0, 0};
	if (store_collect(st, q, take_sha, &c, "reading the commits with runs", err) < 0) {
		free(c.v);
		return -1;
	}
	size_t size = 16;
	while (size < c.n * 2)
		size *= 2;
	h->mask = size - 1;
	h->v = xcalloc(size, sizeof(*h->v));
	for (size_t i = 0; i < c.n; i++)
		shaset_add(h, c.v[i]);
	free(c.v);
	return 0;
}

static bool shaset_may_have(const struct shaset *h, const char *sha)
{
	uint64_t k = sha_key(sha);
	for (size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL >> 20) & h->mask; h->v[j]; j = (j + 1) & h->mask)
		if (h->v[j] == k)
			return true;
	return false;
}

static void gather(struct bisect_commit *c, const struct tvs *tv, const struct shaset *any)
{
	int first, k = bisect_tvs_find(tv, c->c.sha, &first);
	for (int j = 0; j < k; j++) {
		const struct tv *x = &tv->v[first + j];
		add_obs(c, x->provider, x->row, x->attempt, x->conclusion, x->v, "run", x->value);
	}
	c->has_run = shaset_may_have(any, c->c.sha);
}

/* A small deterministic generator: the same state always proposes the same
 * commit (git uses its own fixed-seed PRNG for the same reason). */
static double prng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / 9007199254740992.0;
}

struct cand {
	int idx, score;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->score != y->score ? y->score - x->score : x->idx - y->idx;
}

static void choose_next(struct bisect_status *s, uint64_t seed)
{
	int g = s->good_idx, b = s->bad_idx, S = b - g;
	s->next = -1;
	s->next_has_run = false;
	int ncand = 0;
	struct cand *cs = xcalloc((size_t)(S > 1 ? S : 1), sizeof(*cs));
	int best = -1, best_score = -1;
	for (int i = g + 1; i < b; i++) {
		int w = i - g, score = w < S - w ? w : S - w;
		if (score > best_score) {
			best_score = score;
			best = i;
		}
		if (!s->commits[i].skipped)
			cs[ncand++] = (struct cand){i, score};
	}
	if (best < 0) {
		free(cs);
		return;
	}
	if (!ncand) {
		s->only_skipped = true;
		free(cs);
		return;
	}
	if (!s->commits[best].skipped) {
		s->next = best;
		/* a commit near the split that already has a run is worth a slightly
		 * worse split: its artifacts and a re-run are at hand */
		if (!s->commits[best].has_run) {
			int window = S / 8, pick = -1;
			for (int d = 1; d <= window && pick < 0; d++) {
				if (best - d > g && !s->commits[best - d].skipped && s->commits[best - d].has_run)
					pick = best - d;
				else if (best + d < b && !s->commits[best + d].skipped &&
					 s->commits[best + d].has_run)
					pick = best + d;
			}
			if (pick >= 0)
				s->next = pick;
		}
		s->next_has_run = s->commits[s->next].has_run;
	} else {
		/* git's skip_away: untestable commits cluster, so move away from the
		 * best split, biased toward good splits */
		qsort(cs, (size_t)ncand, sizeof(*cs), cmp_cand);
		double r = prng(&seed);
		int k = (int)((double)ncand * r * sqrt(r));
		if (k >= ncand)
			k = ncand - 1;
		s->next = cs[k].idx;
		s->next_has_run = s->commits[s->next].has_run;
	}
	free(cs);
}

/* bayesect with a symmetric flake rate e: before the first bad commit a run
 * is bad with probability e, from it on good with probability e. */
static void bayes(struct bisect_status *s)
{
	int n = s->n;
	double le = log(s->flake_rate), l1 = log(1 - s->flake_rate);
	/* ll[B] = sum_{i<B} old(i) + sum_{i>=B} new(i), via prefix sums */
	double *old = xcalloc((size_t)n + 1, sizeof(double)), *nw = xcalloc((size_t)n + 1, sizeof(double));
	for (int i = 0; i < n; i++) {
		const struct bisect_commit *c = &s->commits[i];
		old[i + 1] = old[i] + c->n_bad * le + c->n_good * l1;
		nw[i + 1] = nw[i] + c->n_bad * l1 + c->n_good * le;
	}
	/* the start good is old by assumption; its own runs count as such */
	double *ll = xcalloc((size_t)n, sizeof(double));
	double mx = -INFINITY;
	for (int B = 0; B < n; B++) {
		ll[B] = old[B] + (nw[n] - nw[B]);
		if (ll[B] > mx)
			mx = ll[B];
	}
	double z = 0;
	for (int B = 0; B < n; B++)
		z += exp(ll[B] - mx);
	double h = 0;
	int arg = 0;
	for (int B = 0; B < n; B++) {
		s->commits[B].p = exp(ll[B] - mx) / z;
		if (s->commits[B].p > s->commits[arg].p)
			arg = B;
		if (s->commits[B].p > 0)
			h -= s->commits[B].p * log2(s->commits[B].p);
	}
	free(old);
	free(nw);
	free(ll);
	s->first_bad = s->commits[arg].p >= 0.95 ? arg : -1;
	s->next = -1;
	if (s->first_bad < 0) {
		/* testing commit i tells B <= i from B > i: take the one splitting
		 * the mass nearest half (repeats allowed: a mixed commit may be
		 * proposed again) */
		double cdf = 0, bestd = 2;
		for (int i = 0; i + 1 < n; i++) {
			cdf += s->commits[i].p;
			double d = fabs(cdf - 0.5);
			if (!s->commits[i].skipped && d < bestd) {
				bestd = d;
				s->next = i;
			}
		}
		if (s->next < 0)
			s->next = arg;
	}
	s->steps_left = s->first_bad >= 0 ? 0 : (int)ceil(h) + 1;
}

static void say(struct bisect_status *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(struct bisect_status *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(s->message);
	s->message = buf_detach(&b, NULL);
}

static void mark_dispatched(struct store *st, const struct session *x, struct bisect_status *s);

/* Read the commits a status shows: the suspects (ends and around the next
 * one when there are many, those with evidence), the culprit. Evidence
 * outside the suspects is listed by sha only (the JSON's evidence[]). */
static void fill_shown(struct gitrepo *g, struct bisect_status *s)
{
	int lo = s->good_idx + 1, hi = s->bad_idx;
	for (int i = 0; i < s->n; i++) {
		struct bisect_commit *k = &s->commits[i];
		bool in = i >= lo && i <= hi;
		bool shown = (in && (hi - lo < 2000 || i - lo < 50 || hi - i < 50 || k->n_obs)) || k->skipped ||
			     i == s->good_idx || i == s->first_bad || i == s->good_after_bad ||
			     (s->next >= 0 && abs(i - s->next) <= 50) || (s->bayes && k->p >= 0.001);
		if (shown)
			gitrepo_commit_fill(g, &k->c);
	}
}

/* Build the status of session x from the checkout, the runs and the marks. */
static int compute(struct store *st, struct gitrepo *g, const struct session *x,
		   const struct tvs *pre, struct bisect_status *s, struct cs_err *err)
{
	memset(s, 0, sizeof(*s));
	s->id = x->id;
	s->state = xstrdup(x->state);
	s->target = xstrdup(x->target);
	s->branch = x->branch ? xstrdup(x->branch) : NULL;
	memcpy(s->start_good, x->good, 41);
	memcpy(s->start_bad, x->bad, 41);
	s->first_bad = s->next = -1;
	struct bisect_target t;
	if (bisect_target_parse(x->target, &t, err) < 0)
		return -1;
	struct gitrepo_commit *cs = NULL;
	/* ids only: a long history is walked whole, its commits read only
	 * where they are shown (fill_shown below) */
	int n = gitrepo_first_parent_ids(g, x->bad, x->good, 0, &cs, err);
	if (n < 0) {
		bisect_target_release(&t);
		return -1;
	}
	/* the target's verdicts: given by bisect_start (it has just read
	 * them), else read here */
	struct tvs own, tv;
	memset(&own, 0, sizeof(own));
	if (!pre && bisect_target_verdicts(st, &t, &own, err) < 0) {
		gitrepo_commits_free(cs, n);
		bisect_target_release(&t);
		return -1;
	}
	tv = pre ? *pre : own;
	struct shaset any;
	bisect_target_release(&t);
	if (shaset_load(st, &any, err) < 0) {
		bisect_tvs_release(&own);
		gitrepo_commits_free(cs, n);
		return -1;
	}
	s->flake_rate = bisect_flake_rate(&tv);
	s->n = n;
	s->commits = xcalloc((size_t)(n ? n : 1), sizeof(*s->commits));
	for (int i = 0; i < n; i++) {
		s->commits[i].c = cs[n - 1 - i]; /* oldest first */
		if (shaset_may_have(&any, s->commits[i].c.sha)) /* target runs are runs too */
			gather(&s->commits[i], &tv, &any);
	}
	free(cs);
	/* the start good, outside the universe */
	struct gitrepo_commit *gc = NULL;
	if (gitrepo_first_parent(g, x->good, NULL, 1, &gc, err) == 1) {
		s->good_commit.c = gc[0];
		free(gc);
	} else {
		gitrepo_commits_free(gc, 0);
		memcpy(s->good_commit.c.sha, x->good, 41);
	}
	gather(&s->good_commit, &tv, &any);
	bisect_tvs_release(&own);
	free(any.v);
	/* marks; the start good and bad hold by assumption when nothing says so */
	for (int m = 0; m < x->n_marks; m++) {
		const struct mark *mk = &x->marks[m];
		if (!strcmp(mk->sha, x->good)) {
			add_obs(&s->good_commit, 0, 0, 0, NULL, mk->v, mk->source, mk->detail);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (!strcmp(s->commits[i].c.sha, mk->sha)) {
				add_obs(&s->commits[i], 0, 0, 0, NULL, mk->v, mk->source, mk->detail);
				break;
			}
	}
	if (!s->good_commit.n_good)
		add_obs(&s->good_commit, 0, 0, 0, NULL, BV_GOOD, "start", "given as good");
	if (n && !s->commits[n - 1].n_bad)
		add_obs(&s->commits[n - 1], 0, 0, 0, NULL, BV_BAD, "start", "given as bad");
	mark_dispatched(st, x, s);
	settle(&s->good_commit);
	for (int i = 0; i < n; i++)
		settle(&s->commits[i]);
	if (!n) {
		say(s, "the bad commit is the good one or an ancestor of it: nothing to bisect");
		return 0;
	}
	/* the range: oldest pure bad, newest pure good before it */
	int b = n - 1;
	for (int i = 0; i < n; i++)
		if (s->commits[i].verdict == BV_BAD) {
			b = i;
			break;
		}
	int gd = -1;
	for (int i = b - 1; i >= 0; i--)
		if (s->commits[i].verdict == BV_GOOD) {
			gd = i;
			break;
		}
	s->bad_idx = b;
	s->good_idx = gd;
	s->good_after_bad = -1;
	for (int i = b + 1; i < n; i++)
		if (s->commits[i].verdict == BV_GOOD) {
			s->not_bisectable = true;
			s->good_after_bad = i;
			break;
		}
	bool mixed = false;
	for (int i = gd + 1; i < b; i++)
		if (s->commits[i].verdict == BV_MIXED)
			mixed = true;
	int S = b - gd;
	if (mixed) {
		s->bayes = true;
		bayes(s);
	} else if (S == 1) {
		s->first_bad = b;
		s->steps_left = 0;
	} else {
		/* from what the bisection is (its ends and how many marks), not
		 * its row id: a replay of its log must suggest the same commit */
		uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)x->n_marks;
		for (const char *p = x->good; *p; p++)
			seed = (seed ^ (unsigned char)*p) * 0x100000001b3ULL;
		for (const char *p = x->bad; *p; p++)
			seed = (seed ^ (unsigned char)*p) * 0x100000001b3ULL;
		choose_next(s, seed ? seed : 1);
		int left = 0;
		for (int i = gd + 1; i < b; i++)
			left += !s->commits[i].skipped;
		s->steps_left = left ? bisect_estimate_steps(left + 1) + 1 : 0;
	}
	fill_shown(g, s);
	if (s->not_bisectable) {
		const struct bisect_commit *ga = &s->commits[s->good_after_bad];
		say(s, "not a bisectable regression: %.12s is good after the bad %.12s (fixed since, or flaky)",
		    ga->c.sha, s->commits[b].c.sha);
	} else if (s->first_bad >= 0) {
		const struct bisect_commit *fb = &s->commits[s->first_bad];
		say(s, "%.12s is the first bad commit%s%s", fb->c.sha,
		    fb->c.n_parents > 1 ? " (a merge: the change came in with the branch it merged)" : "",
		    s->bayes ? " (by the posterior, flaky evidence)" : "");
	} else if (s->only_skipped) {
		say(s, "only skipped commits are left to test: the first bad commit could be any of the %d suspects",
		    S);
	} else if (s->next >= 0) {
		say(s, "bisecting: %d suspects left, test %.12s next (roughly %d step%s)%s", S,
		    s->commits[s->next].c.sha, s->steps_left, s->steps_left == 1 ? "" : "s",
		    s->bayes ? " - mixed evidence: bayesian bisection" : "");
	} else {
		say(s, "nothing left to test");
	}
	return 0;
}

/* --- the public calls ---------------------------------------------------------------- */
static int status_with(struct store *st, struct gitrepo *g, const struct tvs *pre,
		       struct bisect_status *out, struct cs_err *err);

static int newest_bad(const struct tvs *tv, const char *branch, const struct tv **out)
{
	*out = NULL;
	for (int i = 0; i < tv->n; i++) {
		const struct tv *x = &tv->v[i];
		if (x->v != BV_BAD || (branch && (!x->branch || strcmp(x->branch, branch) != 0)))
			continue;
		if (!*out || x->created_at > (*out)->created_at ||
		    (x->created_at == (*out)->created_at && x->provider > (*out)->provider))
			*out = x;
	}
	return *out ? 0 : -1;
}

static int bad_commit_evidence(const struct tvs *tv, const char *sha, int *good, int *bad,
			       struct buf *runs)
{
	int first, k = bisect_tvs_find(tv, sha, &first);
	*good = *bad = 0;
	for (int j = 0; j < k; j++) {
		const struct tv *x = &tv->v[first + j];
		(x->v == BV_GOOD ? (*good)++ : (*bad)++);
		char ref[RUN_REF_MAX];
		buf_addf(runs, "%srun %s %s", runs->len ? ", " : "", run_ref(ref, sizeof(ref), x->provider, x->attempt),
			 x->v == BV_GOOD ? "good" : "bad");
	}
	return 0;
}

int bisect_start(struct store *st, struct gitrepo *g, const struct bisect_start_opts *o,
		 struct bisect_status *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!g)
		return err_set(err, CS_ENOTFOUND, "bisect needs the git checkout: run it inside the repository or give --repo PATH");
	struct session cur;
	struct cs_err e2;
	err_clear(&e2);
	if (session_load(st, true, &cur, &e2) == 0) {
		err_set(err, CS_EUSAGE, "a bisection is active (%s, started at %.12s): ciscope bisect reset first",
			cur.target, cur.bad);
		session_release(&cur);
		return -1;
	}
	if (e2.code != CS_ENOTFOUND)
		return err_set(err, e2.code, "%s", e2.msg);
	struct bisect_target t;
	if (bisect_target_parse(o->target, &t, err) < 0)
		return -1;
	struct buf text = BUF_INIT;
	bisect_target_text(&t, &text);
	struct tvs tv;
	int rc = bisect_target_verdicts(st, &t, &tv, err);
	bisect_target_release(&t);
	if (rc < 0) {
		buf_release(&text);
		return -1;
	}
	char bad[41], good[41];
	char *branch = o->branch ? xstrdup(o->branch) : NULL;
	rc = -1;
	if (o->bad) {
		char *rb = NULL;
		if (resolve_spec(st, g, o->bad, bad, &rb, err) < 0)
			goto out;
		if (!branch)
			branch = rb;
		else
			free(rb);
	} else {
		const struct tv *nb;
		if (newest_bad(&tv, o->branch, &nb) < 0) {
			err_set(err, CS_ENOTFOUND, "no run in the index where %s is bad%s%s: give --bad REV|RUN",
				buf_cstr(&text), o->branch ? " on " : "", o->branch ? o->branch : "");
			goto out;
		}
		memcpy(bad, nb->sha, 41);
		if (!branch && nb->branch)
			branch = xstrdup(nb->branch);
		char chk[41];
		if (!gitrepo_resolve(g, bad, chk)) {
			err_set(err, CS_ENOTFOUND, "the bad commit %.12s (run %lld) is not in the checkout: fetch it",
				bad, (long long)nb->provider);
			goto out;
		}
	}
	/* a failure that a re-run on the same commit took back is a flake, not
	 * a regression: say so instead of bisecting to a commit */
	int ng, nbad;
	struct buf ev = BUF_INIT;
	bad_commit_evidence(&tv, bad, &ng, &nbad, &ev);
	if (ng && nbad) {
		err_set(err, CS_EINVAL, "%s is flaky at %.12s, not a bisectable regression: its runs disagree (%s)",
			buf_cstr(&text), bad, buf_cstr(&ev));
		buf_release(&ev);
		goto out;
	}
	if (ng && !nbad) {
		err_set(err, CS_EINVAL, "%s is good at %.12s (%s): give a bad commit", buf_cstr(&text), bad,
			buf_cstr(&ev));
		buf_release(&ev);
		goto out;
	}
	buf_release(&ev);
	if (o->good) {
		if (resolve_spec(st, g, o->good, good, NULL, err) < 0)
			goto out;
		if (!strcmp(good, bad)) {
			err_set(err, CS_EUSAGE, "the good and the bad commit are the same (%.12s)", bad);
			goto out;
		}
		if (!gitrepo_is_ancestor(g, good, bad)) {
			err_set(err, CS_EUSAGE, "the good commit %.12s is not an ancestor of the bad %.12s", good, bad);
			goto out;
		}
	} else {
		/* the newest commit before bad on its first-parent line whose runs
		 * say good, all of them */
		/* a short walk first: the good run is usually close */
		int found = -1, n = 0;
		for (int lim = 512; found < 0; lim *= 64) {
			struct gitrepo_commit *cs = NULL;
			n = gitrepo_first_parent_ids(g, bad, NULL, lim, &cs, err);
			if (n < 0)
				goto out;
			for (int i = 1; i < n && found < 0; i++) {
				int gg, bb;
				struct buf tmp = BUF_INIT;
				bad_commit_evidence(&tv, cs[i].sha, &gg, &bb, &tmp);
				buf_release(&tmp);
				if (gg && !bb) {
					found = i;
					memcpy(good, cs[i].sha, 41);
				}
			}
			gitrepo_commits_free(cs, n);
			if (n < lim || lim >= 200000)
				break;
		}
		if (found < 0) {
			err_set(err, CS_ENOTFOUND,
				"no run before %.12s on its first-parent history where %s is good: give --good REV|RUN",
				bad, buf_cstr(&text));
			goto out;
		}
	}
	if (store_begin(st, err) < 0)
		goto out;
	sqlite3_stmt *s;
	if (store_prepare(st, "INSERT INTO bisect_sessions (target, branch, good, bad, repo_path, state, started_at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)", &s, "starting the bisection", err) < 0) {
		store_rollback(st);
		goto out;
	}
	sql_bind_text(s, 1, buf_cstr(&text));
	sql_bind_text(s, 2, branch);
	sql_bind_text(s, 3, good);
	sql_bind_text(s, 4, bad);
	sql_bind_text(s, 5, o->repo_path);
	sqlite3_bind_int64(s, 6, time_now_ms());
	if (store_collect(st, s, NULL, NULL, "starting the bisection", err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		goto out;
	}
	rc = status_with(st, g, &tv, out, err);
	if (rc == 0 && out->first_bad >= 0 &&
	    set_state(st, out->id, "finished", out->commits[out->first_bad].c.sha, err) == 0) {
		free(out->state);
		out->state = xstrdup("finished");
	}
out:
	bisect_tvs_release(&tv);
	free(branch);
	buf_release(&text);
	return rc;
}

int bisect_status(struct store *st, struct gitrepo *g, struct bisect_status *out, struct cs_err *err)
{
	return status_with(st, g, NULL, out, err);
}

static int status_with(struct store *st, struct gitrepo *g, const struct tvs *pre,
		       struct bisect_status *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	struct session x;
	if (session_load(st, false, &x, err) < 0)
		return -1;
	if (!g) {
		session_release(&x);
		return err_set(err, CS_ENOTFOUND, "bisect needs the git checkout: run it inside the repository or give --repo PATH");
	}
	int rc = compute(st, g, &x, pre, out, err);
	session_release(&x);
	if (rc < 0)
		bisect_status_release(out);
	return rc;
}

char *bisect_repo_path(struct store *st)
{
	struct session x;
	struct cs_err err;
	err_clear(&err);
	if (session_load(st, false, &x, &err) < 0)
		return NULL;
	char *p = x.repo_path ? xstrdup(x.repo_path) : NULL;
	session_release(&x);
	return p;
}

int bisect_mark(struct store *st, struct gitrepo *g, const char *rev, enum bisect_verdict v,
		const char *source, const char *detail, struct bisect_status *out, struct cs_err *err)
{
	struct bisect_status tmp;
	struct bisect_status *s = out ? out : &tmp;
	struct session x;
	if (session_load(st, true, &x, err) < 0)
		return -1;
	if (!g) {
		session_release(&x);
		return err_set(err, CS_ENOTFOUND, "bisect needs the git checkout: run it inside the repository or give --repo PATH");
	}
	char sha[41];
	if (rev) {
		if (resolve_spec(st, g, rev, sha, NULL, err) < 0) {
			session_release(&x);
			return -1;
		}
	} else {
		struct bisect_status cur;
		if (compute(st, g, &x, NULL, &cur, err) < 0) {
			bisect_status_release(&cur);
			session_release(&x);
			return -1;
		}
		if (cur.next < 0) {
			err_set(err, CS_EUSAGE, "no commit is proposed (%s): name one", cur.message ? cur.message : "");
			bisect_status_release(&cur);
			session_release(&x);
			return -1;
		}
		memcpy(sha, cur.commits[cur.next].c.sha, 41);
		bisect_status_release(&cur);
	}
	bool in = !strcmp(sha, x.good) || !strcmp(sha, x.bad) || gitrepo_is_ancestor(g, x.good, sha);
	if (!in || !gitrepo_is_ancestor(g, sha, x.bad)) {
		session_release(&x);
		return err_set(err, CS_EUSAGE, "%.12s is not between the good %.12s and the bad %.12s", sha, x.good,
			       x.bad);
	}
	int64_t id = x.id;
	session_release(&x);
	if (insert_mark(st, id, sha, v, source, detail, err) < 0)
		return -1;
	if (bisect_status(st, g, s, err) < 0)
		return -1;
	if (s->first_bad >= 0 && set_state(st, id, "finished", s->commits[s->first_bad].c.sha, err) < 0) {
		bisect_status_release(s);
		return -1;
	}
	if (s->first_bad >= 0) {
		free(s->state);
		s->state = xstrdup("finished");
	}
	if (!out)
		bisect_status_release(&tmp);
	return 0;
}

int bisect_reset(struct store *st, struct cs_err *err)
{
	struct session x;
	if (session_load(st, true, &x, err) < 0)
		return -1;
	int rc = set_state(st, x.id, "reset", NULL, err);
	session_release(&x);
	return rc;
}

/* --- dispatches ---------------------------------------------------------------------- */
int bisect_dispatch_record(struct store *st, const char *sha, const char *workflow,
			   const char *repo, const char *ref, int64_t *id, struct cs_err *err)
{
	*id = 0;
	struct session x;
	if (session_load(st, true, &x, err) < 0)
		return -1;
	sqlite3_stmt *s;
	int rc = -1;
	if (store_prepare(st, "INSERT INTO bisect_dispatches (session_id, sha, workflow, repo, ref, at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &s, "recording a bisect dispatch", err) == 0) {
		sqlite3_bind_int64(s, 1, x.id);
		sql_bind_text(s, 2, sha);
		sql_bind_text(s, 3, workflow);
		sql_bind_text(s, 4, repo);
		sql_bind_text(s, 5, ref);
		sqlite3_bind_int64(s, 6, time_now_ms());
		if (store_collect(st, s, NULL, NULL, "recording a bisect dispatch", err) == 0) {
			*id = sqlite3_last_insert_rowid(st->db);
			rc = 0;
		}
	}
	session_release(&x);
	return rc;
}

int bisect_dispatch_update(struct store *st, int64_t id, int64_t run, const char *run_status,
			   const char *conclusion, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, "UPDATE bisect_dispatches SET run_id = ?2, run_status = ?3, conclusion = ?4 "
			  "WHERE id = ?1", &s, "recording a bisect dispatch's run", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (run)
		sqlite3_bind_int64(s, 2, run);
	else
		sqlite3_bind_null(s, 2);
	sql_bind_text(s, 3, run_status && *run_status ? run_status : NULL);
	sql_bind_text(s, 4, conclusion && *conclusion ? conclusion : NULL);
	return store_collect(st, s, NULL, NULL, "recording a bisect dispatch's run", err);
}

struct entries {
	struct bisect_log_entry *e;
	int n;
	size_t alloc;
};

static int take_dispatch(void *ctx, sqlite3_stmt *s)
{
	struct entries *x = ctx;
	XGROW(x->e, x->alloc, (size_t)x->n + 1);
	struct bisect_log_entry *d = &x->e[x->n++];
	memset(d, 0, sizeof(*d));
	d->dispatch = true;
	snprintf(d->sha, sizeof(d->sha), "%s", (const char *)sqlite3_column_text(s, 0));
	d->workflow = sql_col_str(s, 1);
	d->repo = sql_col_str(s, 2);
	d->ref = sql_col_str(s, 3);
	d->at = sqlite3_column_int64(s, 4);
	d->run = sqlite3_column_int64(s, 5);
	d->run_status = sql_col_str(s, 6);
	d->conclusion = sql_col_str(s, 7);
	return 0;
}

static void entry_release(struct bisect_log_entry *d)
{
	free(d->source);
	free(d->detail);
	free(d->workflow);
	free(d->repo);
	free(d->ref);
	free(d->run_status);
	free(d->conclusion);
}

/* The dispatches of session id, oldest first. */
static int load_dispatches(struct store *st, int64_t id, struct entries *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT sha, workflow, repo, ref, at, run_id, run_status, conclusion "
			  "FROM bisect_dispatches WHERE session_id = ?1 ORDER BY at, id", &s,
			  "reading the bisection's dispatches", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_collect(st, s, take_dispatch, out, "reading the bisection's dispatches", err) < 0) {
		for (int i = 0; i < out->n; i++)
			entry_release(&out->e[i]);
		free(out->e);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

/* A stored run a dispatch of the session made says so. */
static void mark_dispatched(struct store *st, const struct session *x, struct bisect_status *s)
{
	struct entries d;
	struct cs_err ign;
	err_clear(&ign);
	if (load_dispatches(st, x->id, &d, &ign) < 0)
		return;
	for (int i = 0; i < d.n; i++) {
		if (!d.e[i].run)
			continue;
		for (int c = -1; c < s->n; c++) {
			struct bisect_commit *k = c < 0 ? &s->good_commit : &s->commits[c];
			if (strcmp(k->c.sha, d.e[i].sha) != 0)
				continue;
			for (int j = 0; j < k->n_obs; j++) {
				struct bisect_obs *o = &k->obs[j];
				if (o->run != d.e[i].run || o->dispatch_ref)
					continue;
				free(o->source);
				o->source = xstrdup("dispatch");
				o->dispatch_ref = xstrdup(d.e[i].ref);
				o->dispatched_at = d.e[i].at;
			}
			break;
		}
	}
	for (int i = 0; i < d.n; i++)
		entry_release(&d.e[i]);
	free(d.e);
}

void bisect_log_rec_release(struct bisect_log_rec *r)
{
	free(r->state);
	free(r->target);
	free(r->branch);
	free(r->first_bad);
	for (int i = 0; i < r->n; i++)
		entry_release(&r->e[i]);
	free(r->e);
	memset(r, 0, sizeof(*r));
}

static int take_times(void *ctx, sqlite3_stmt *s)
{
	struct bisect_log_rec *r = ctx;
	r->started_at = sqlite3_column_int64(s, 0);
	r->ended_at = sqlite3_column_int64(s, 1);
	return 1;
}

static int take_mark_at(void *ctx, sqlite3_stmt *s)
{
	struct entries *x = ctx;
	XGROW(x->e, x->alloc, (size_t)x->n + 1);
	struct bisect_log_entry *d = &x->e[x->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->sha, sizeof(d->sha), "%s", (const char *)sqlite3_column_text(s, 0));
	d->v = verdict_from((const char *)sqlite3_column_text(s, 1));
	d->source = sql_col_str(s, 2);
	d->detail = sql_col_str(s, 3);
	d->at = sqlite3_column_int64(s, 4);
	return 0;
}

int bisect_log_read(struct store *st, struct bisect_log_rec *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	struct session x;
	if (session_load(st, false, &x, err) < 0)
		return -1;
	out->id = x.id;
	out->state = x.state;
	out->target = x.target;
	out->branch = x.branch;
	out->first_bad = x.first_bad;
	x.state = x.target = x.branch = x.first_bad = NULL;
	memcpy(out->good, x.good, 41);
	memcpy(out->bad, x.bad, 41);
	session_release(&x);
	sqlite3_stmt *s;
	struct entries m = {0}, d = {0};
	if (store_prepare(st, "SELECT started_at, coalesce(ended_at, 0) FROM bisect_sessions WHERE id = ?1",
			  &s, "reading the bisection", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, out->id);
	if (store_collect(st, s, take_times, out, "reading the bisection", err) < 0)
		goto fail;
	if (store_prepare(st, "SELECT sha, verdict, source, detail, at FROM bisect_marks WHERE session_id = ?1 "
			  "ORDER BY seq", &s, "reading the bisection", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, out->id);
	if (store_collect(st, s, take_mark_at, &m, "reading the bisection", err) < 0 ||
	    load_dispatches(st, out->id, &d, err) < 0)
		goto fail;
	/* merged by time, marks in their order; a dispatch before a mark of the same ms */
	out->e = xcalloc((size_t)(m.n + d.n) + 1, sizeof(*out->e));
	int i = 0, j = 0;
	while (i < m.n || j < d.n)
		out->e[out->n++] = j < d.n && (i >= m.n || d.e[j].at <= m.e[i].at) ? d.e[j++] : m.e[i++];
	free(m.e);
	free(d.e);
	return 0;
fail:
	for (int k = 0; k < m.n; k++)
		entry_release(&m.e[k]);
	free(m.e);
	bisect_log_rec_release(out);
	return -1;
}

int bisect_log(struct store *st, struct buf *out, struct cs_err *err)
{
	buf_reset(out);
	struct bisect_log_rec r;
	if (bisect_log_read(st, &r, err) < 0)
		return -1;
	buf_addf(out, "# ciscope bisect log (%s)\n", r.state);
	buf_adds(out, "start --target ");
	buf_add_shell_quoted(out, r.target);
	if (r.branch) {
		buf_adds(out, " --branch ");
		buf_add_shell_quoted(out, r.branch);
	}
	buf_addf(out, " --good %s --bad %s\n", r.good, r.bad);
	for (int i = 0; i < r.n; i++) {
		const struct bisect_log_entry *e = &r.e[i];
		if (e->dispatch) {
			/* a comment: replay takes the verdicts; the run it made is evidence */
			char when[40];
			time_format_iso(e->at, when, sizeof(when));
			buf_addf(out, "# dispatch %s: workflow ", e->sha);
			buf_add_shell_quoted(out, e->workflow);
			buf_adds(out, " on branch ");
			buf_add_shell_quoted(out, e->ref);
			if (e->repo)
				buf_addf(out, " of %s", e->repo);
			buf_addf(out, " at %s", when);
			if (e->run)
				buf_addf(out, ", run %lld %s", (long long)e->run,
					 e->conclusion ? e->conclusion : e->run_status ? e->run_status : "");
			else
				buf_adds(out, ", no run seen");
			while (out->len && out->data[out->len - 1] == ' ')
				out->len--;
			buf_addc(out, '\n');
			continue;
		}
		buf_addf(out, "%s %s", bisect_verdict_name(e->v), e->sha);
		/* the source is a comment: replay takes the verdicts, not their origin */
		buf_addf(out, " # %s", e->source);
		if (e->detail) {
			buf_adds(out, ": ");
			for (const char *p = e->detail; *p; p++)
				buf_addc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
		}
		buf_addc(out, '\n');
	}
	if (r.first_bad)
		buf_addf(out, "# first bad commit: %s\n", r.first_bad);
	buf_cstr(out);
	bisect_log_rec_release(&r);
	return 0;
}

/* Split a log line into words, with '...' quoting as buf_add_shell_quoted
 * writes it. Stops at an unquoted '#'. */
static int split_words(const char *line, char ***words, int *n)
{
	*words = NULL;
	*n = 0;
	const char *p = line;
	struct buf w = BUF_INIT;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || *p == '\n')
			break;
		buf_reset(&w);
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'') {
				p++;
				while (*p && *p != '\'')
					buf_addc(&w, *p++);
				if (*p != '\'') {
					buf_release(&w);
					return -1;
				}
				p++;
			} else if (*p == '\\' && p[1]) {
				buf_addc(&w, p[1]);
				p += 2;
			} else {
				buf_addc(&w, *p++);
			}
		}
		*words = xrealloc(*words, sizeof(char *) * (size_t)(*n + 1));
		(*words)[(*n)++] = xstrdup(buf_cstr(&w));
	}
	buf_release(&w);
	return 0;
}

int bisect_replay(struct store *st, struct gitrepo *g, const char *text, struct bisect_status *out,
		  struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	bool started = false;
	int lineno = 0;
	const char *p = text;
	int rc = 0;
	while (*p && rc == 0) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *line = xstrndup(p, len);
		p += len + (e ? 1 : 0);
		lineno++;
		char **w = NULL;
		int n = 0;
		if (split_words(line, &w, &n) < 0) {
			rc = err_set(err, CS_EINVAL, "bisect log line %d: unterminated quote", lineno);
		} else if (n == 0) {
			/* comment or blank */
		} else if (!strcmp(w[0], "start")) {
			struct bisect_start_opts o = {0};
			for (int i = 1; i < n && rc == 0; i += 2) {
				if (i + 1 >= n) {
					rc = err_set(err, CS_EINVAL, "bisect log line %d: '%s' needs a value", lineno, w[i]);
					break;
				}
				if (!strcmp(w[i], "--target"))
					o.target = w[i + 1];
				else if (!strcmp(w[i], "--branch"))
					o.branch = w[i + 1];
				else if (!strcmp(w[i], "--good"))
					o.good = w[i + 1];
				else if (!strcmp(w[i], "--bad"))
					o.bad = w[i + 1];
				else
					rc = err_set(err, CS_EINVAL, "bisect log line %d: unknown '%s'", lineno, w[i]);
			}
			if (rc == 0 && (!o.target || !o.good || !o.bad))
				rc = err_set(err, CS_EINVAL, "bisect log line %d: start needs --target, --good and --bad",
					     lineno);
			if (rc == 0) {
				struct cs_err ign;
				err_clear(&ign);
				bisect_reset(st, &ign);
				char *rp = bisect_repo_path(st);
				o.repo_path = rp;
				bisect_status_release(out);
				rc = bisect_start(st, g, &o, out, err);
				free(rp);
				if (rc < 0)
					err_prefix(err, "bisect log line %d", lineno);
				started = rc == 0;
			}
		} else if (!strcmp(w[0], "good") || !strcmp(w[0], "bad") || !strcmp(w[0], "skip")) {
			if (!started)
				rc = err_set(err, CS_EINVAL, "bisect log line %d: a verdict before start", lineno);
			else if (n != 2)
				rc = err_set(err, CS_EINVAL, "bisect log line %d: expected '%s SHA'", lineno, w[0]);
			else {
				/* a replay may reach the culprit before its last line: the
				 * finished bisection takes the remaining verdicts still */
				struct session x;
				struct cs_err ign;
				err_clear(&ign);
				if (session_load(st, true, &x, &ign) < 0 && out->id) {
					set_state(st, out->id, "active", NULL, &ign);
				} else if (x.id) {
					session_release(&x);
				}
				bisect_status_release(out);
				rc = bisect_mark(st, g, w[1], verdict_from(w[0]), "replay", NULL, out, err);
				if (rc < 0)
					err_prefix(err, "bisect log line %d", lineno);
			}
		} else {
			rc = err_set(err, CS_EINVAL, "bisect log line %d: unknown command '%s'", lineno, w[0]);
		}
		for (int i = 0; i < n; i++)
			free(w[i]);
		free(w);
		free(line);
	}
	if (rc == 0 && !started)
		rc = err_set(err, CS_EINVAL, "the bisect log has no start line");
	return rc;
}

/* --- bisect run ------------------------------------------------------------------------- */
enum { RUN_DONE = 0, RUN_STOPPED = -2, RUN_TIMEOUT = -3, RUN_NOEXEC = -4 };

/* Run argv (never through a shell) in cwd with extra environment, in a
 * process group of its own so that stopping it stops what it started.
 * *status: the exit code, or 128 + the signal. */
static int spawn_wait(char *const argv[], const char *cwd, const char *const env[], bool quiet,
		      int timeout_s, volatile sig_atomic_t *stop, int *status)
{
	pid_t pid = fork();
	if (pid < 0)
		return RUN_NOEXEC;
	if (pid == 0) {
		setpgid(0, 0);
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		for (int i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
				close(fd);
			}
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	int64_t start = mono_ms(), killed_at = 0;
	int why = RUN_DONE;
	for (;;) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
			return why;
		}
		if (r < 0 && errno != EINTR)
			return RUN_NOEXEC;
		int64_t now = mono_ms();
		if (!killed_at && ((stop && *stop) || (timeout_s > 0 && now - start >= (int64_t)timeout_s * 1000))) {
			why = stop && *stop ? RUN_STOPPED : RUN_TIMEOUT;
			kill(-pid, SIGTERM);
			killed_at = now;
		} else if (killed_at && now - killed_at > 2000) {
			kill(-pid, SIGKILL);
		}
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void argv_text(char *const argv[], struct buf *out)
{
	for (int i = 0; argv[i]; i++) {
		if (i)
			buf_addc(out, ' ');
		buf_add_shell_quoted(out, argv[i]);
	}
}

int bisect_run(struct store *st, struct gitrepo *g, const char *repo_dir,
	       const struct bisect_run_opts *o, struct bisect_status *out, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!o->argv || !o->argv[0])
		return err_set(err, CS_EUSAGE, "bisect run needs a command");
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/ciscope-bisect-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		err_set(err, CS_EIO, "cannot create a directory for the bisect worktree under %s: %s",
			tmp && *tmp == '/' ? tmp : "/tmp", strerror(errno));
		free(dir);
		return -1;
	}
	char *wt = xasprintf("%s/wt", dir);
	bool have_wt = false;
	struct buf cmd = BUF_INIT, detail = BUF_INIT;
	argv_text(o->argv, &cmd);
	int rc = 0;
	for (;;) {
		bisect_status_release(out);
		if (bisect_status(st, g, out, err) < 0) {
			rc = -1;
			break;
		}
		if (strcmp(out->state, "active") != 0 || out->first_bad >= 0 || out->next < 0 ||
		    out->not_bisectable)
			break;
		char sha[41];
		memcpy(sha, out->commits[out->next].c.sha, 41);
		int status = 0;
		char *git_add[] = {"git", "-C", (char *)repo_dir, "worktree", "add", "--detach", "-f", wt, sha, NULL};
		char *git_co[] = {"git", "-C", wt, "checkout", "--detach", "-f", "-q", sha, NULL};
		if (o->progress)
			o->progress(o->ctx, sha, "checking out");
		int w = spawn_wait(have_wt ? git_co : git_add, NULL, NULL, true, 0, NULL, &status);
		if (w != RUN_DONE || status != 0) {
			rc = err_set(err, CS_EIO, "cannot check %.12s out in a worktree of %s (git worktree %s)",
				     sha, repo_dir, have_wt ? "checkout" : "add");
			break;
		}
		have_wt = true;
		char target[512];
		snprintf(target, sizeof(target), "%s", out->target);
		const char *env[] = {"CISCOPE_BISECT_SHA", sha, "CISCOPE_BISECT_TARGET", target, NULL};
		if (o->progress)
			o->progress(o->ctx, sha, "running");
		w = spawn_wait(o->argv, wt, env, false, o->timeout_s, o->stop, &status);
		if (w == RUN_STOPPED) {
			rc = err_set(err, CS_EINTR, "bisect run interrupted at %.12s: nothing recorded for it; the log is kept", sha);
			break;
		}
		if (w == RUN_TIMEOUT) {
			rc = err_set(err, CS_EINTR, "bisect run: %s timed out after %d s at %.12s: stopped, the log is kept",
				     buf_cstr(&cmd), o->timeout_s, sha);
			break;
		}
		if (w != RUN_DONE) {
			rc = err_set(err, CS_EIO, "bisect run: cannot start %s", o->argv[0]);
			break;
		}
		enum bisect_verdict v = status == 0 ? BV_GOOD : status == 125 ? BV_SKIP
				      : status < 128 ? BV_BAD : BV_NONE;
		if (v == BV_NONE) {
			rc = err_set(err, CS_EINVAL,
				     "bisect run: %s exited with %d at %.12s: stopped (0 good, 125 skip, 1-127 bad, "
				     "anything else stops)", buf_cstr(&cmd), status, sha);
			break;
		}
		buf_reset(&detail);
		buf_addf(&detail, "%s: exit %d", buf_cstr(&cmd), status);
		bisect_status_release(out);
		if (bisect_mark(st, g, sha, v, "bisect run", buf_cstr(&detail), out, err) < 0) {
			rc = -1;
			break;
		}
		if (o->progress)
			o->progress(o->ctx, sha, bisect_verdict_name(v));
	}
	if (have_wt) {
		int status;
		char *rm[] = {"git", "-C", (char *)repo_dir, "worktree", "remove", "--force", wt, NULL};
		spawn_wait(rm, NULL, NULL, true, 60, NULL, &status);
	}
	rmdir(wt);
	rmdir(dir);
	free(wt);
	free(dir);
	buf_release(&cmd);
	buf_release(&detail);
	return rc;
}
