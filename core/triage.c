/* triage.c - computing triage: extraction, ranking, fingerprints, storing,
 * keeping the cache current (see triage.h; reading the results:
 * triageread.c; testing rules: ruletest.c; history: history.c; findings
 * that are not log lines and JUnit: triagejunit.c, sharing triageint.h). */
#include "triage.h"
#include "storesql.h"
#include "triageint.h"

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitrepo.h"
#include "logparse.h"
#include "logstore.h"

#define TITLE_MAX 300
#define ENSURE_BATCH 16   /* runs per transaction */

/* Copy at most max bytes of s, not cutting a UTF-8 sequence, "…" when cut. */
char *triage_capped(const char *s, size_t n, size_t max)
{
	struct buf b = BUF_INIT;
	if (n > max) {
		buf_add(&b, s, utf8_complete_prefix(s, max));
		buf_adds(&b, "\xe2\x80\xa6");
	} else {
		buf_add(&b, s, n);
	}
	buf_cstr(&b);
	return buf_detach(&b, NULL);
}

/* The headline of a finding is its most telling line. A shell step's
 * message starts with the runner's script path ("/home/runner/work/_temp/
 * 7b37f4bd-....sh: line 1:  2432 Killed   wasm-pack ..."): the words
 * after it (and the pid the shell names) are the telling part. */
static void telling_part(const char **s, size_t *n)
{
	const char *p = *s, *end = *s + *n;
	if (*n < 10 || p[0] != '/')
		return;
	const char *sh = NULL;
	for (const char *q = p; q + 10 <= end && q < p + 300 && *q != ' '; q++)
		if (!memcmp(q, ".sh: line ", 10)) {
			sh = q;
			break;
		}
	if (!sh)
		return;
	const char *q = sh + 10;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (q >= end || *q != ':')
		return;
	q++;
	while (q < end && *q == ' ')
		q++;
	const char *pid = q;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (q > pid && q < end && *q == ' ')
		while (q < end && *q == ' ')
			q++;
	else
		q = pid;
	if (q < end) {
		*n = (size_t)(end - q);
		*s = q;
	}
}

static char *headline(const char *s, size_t n)
{
	const char *t = s;
	telling_part(&t, &n);
	if (t == s)
		return triage_capped(s, n, TITLE_MAX);
	/* the shell pads "Killed" to a column: one space will do */
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		if (t[i] != ' ' || !b.len || b.data[b.len - 1] != ' ')
			buf_addc(&b, t[i]);
	char *h = triage_capped(buf_cstr(&b), b.len, TITLE_MAX);
	buf_release(&b);
	return h;
}

/* --- rules ------------------------------------------------------------------------ */
static const struct ruleset *override_rules;
/* loaded once, on whichever thread asks first (the import's read-ahead
 * thread, the log writer's worker or triage), and kept to the end: every
 * scanner of every thread uses it */
static pthread_mutex_t rules_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ruleset *loaded_rules;
static bool rules_tried;
static struct cs_err rules_err;

void triage_use_rules(const struct ruleset *rs)
{
	override_rules = rs;
}

/* The rules triage uses, loaded from their sources (NULL, rc < 0 in *err
 * on a bad rules file). */
static struct ruleset *load_rules(struct cs_err *err)
{
	struct ruleset *rs = ruleset_new();
	const char *env = getenv("CISCOPE_RULES");
	int rc = 0;
	if (env && *env) {
		rc = ruleset_add_file(rs, env, err);
	} else {
		char *top = gitrepo_find_top(NULL);
		if (top) {
			char *p = path_join(top, ".ciscope/rules.conf");
			if (path_is_file(p))
				rc = ruleset_add_file(rs, p, err);
			free(p);
			free(top);
		}
	}
	if (rc == 0) {
		extern const char rules_conf[];
		rc = ruleset_add_text(rs, "rules.conf (built in)", rules_conf, strlen(rules_conf),
				      err);
	}
	if (rc < 0) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

const struct ruleset *triage_rules(struct cs_err *err)
{
	if (override_rules)
		return override_rules;
	pthread_mutex_lock(&rules_mu);
	if (!rules_tried) {
		rules_tried = true;
		err_clear(&rules_err);
		loaded_rules = load_rules(&rules_err);
	}
	struct ruleset *rs = loaded_rules;
	if (!rs)
		*err = rules_err;
	pthread_mutex_unlock(&rules_mu);
	return rs;
}

void triage_version(const struct ruleset *rs, char *out, size_t n)
{
	snprintf(out, n, "t%d.n%d.r%016llx", TRIAGE_ALGO_VERSION, FP_NORMALISER_VERSION,
		 (unsigned long long)ruleset_hash(rs));
}

/* --- candidates ------------------------------------------------------------------- */

static void cand_release(struct cand *c)
{
	free(c->title);
	free(c->key);
	free(c->test_name);
	free(c->synth);
	memset(c, 0, sizeof(*c));
}

static bool step_failing(const struct step *s)
{
	return ci_step_conclusion_failing(s->conclusion);
}

static const struct step *step_of_line(const struct job_tri *j, uint64_t line)
{
	for (int i = 0; i < j->n_steps; i++) {
		const struct step *s = &j->steps[i];
		if (s->first_line && (uint64_t)s->first_line <= line && line <= (uint64_t)s->last_line)
			return s;
	}
	return NULL;
}

static enum cls classify(const struct job_tri *j, const struct cand *c)
{
	if (c->warning)
		return CLS_WARNING;
	if (c->weak)
		return CLS_WEAK;
	if (!j->any_failing_step)
		return CLS_FAILING_STEP;
	const struct step *s = step_of_line(j, c->trigger);
	return s && step_failing(s) ? CLS_FAILING_STEP : CLS_OTHER_STEP;
}

/* The candidate to give up for a better one: the worst class, then the
 * latest line. */
static int worst(const struct job_tri *j)
{
	int w = 0;
	for (int i = 1; i < j->n; i++)
		if (j->c[i].cls > j->c[w].cls ||
		    (j->c[i].cls == j->c[w].cls && j->c[i].trigger > j->c[w].trigger))
			w = i;
	return w;
}

/* Make room for a candidate of class cls: its slot, or NULL (counted as
 * dropped) when every kept one is better. */
struct cand *triage_new_cand(struct job_tri *j, enum cls cls)
{
	if (j->n < TRIAGE_MAX_CANDIDATES) {
		struct cand *c = &j->c[j->n++];
		memset(c, 0, sizeof(*c));
		return c;
	}
	j->n_dropped++;
	int w = worst(j);
	if (j->c[w].cls <= cls)
		return NULL;
	cand_release(&j->c[w]);
	if (j->last_hit == w)
		j->last_hit = -1;
	return &j->c[w];
}

/* Has c the fingerprint h (spelt fp)? By number when a rule hit gave it
 * one, else by its text. */
static bool same_fp(const struct cand *c, uint64_t h, const char *fp)
{
	return c->has_fph ? c->fph == h : !strcmp(c->fp, fp);
}

static struct cand *find_fp(struct job_tri *j, uint64_t h, const char *fp)
{
	for (int i = 0; i < j->n; i++)
		if (same_fp(&j->c[i], h, fp))
			return &j->c[i];
	return NULL;
}

static char *join_keys(const char *const *keys, const size_t *lens, int n)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, '\n');
		buf_add(&b, keys[i], lens[i]);
	}
	char *s = triage_capped(b.data ? b.data : "", b.len, KEY_TEXT_MAX);
	buf_release(&b);
	return s;
}

struct scan_ctx {
	struct job_tri *j;
	struct rscan *rs;
	volatile sig_atomic_t *interrupted;
	struct cs_err *err;
	struct fp_memo *memo; /* the job's fingerprinted texts */
};

static int on_hit(void *ctx, const struct rule_hit *h)
{
	struct scan_ctx *sc = ctx;
	struct job_tri *j = sc->j;
	char fp[FP_HEX_LEN + 1];
	uint64_t fph = fp_fingerprint_memo(sc->memo, rule_category_name(h->category), h->keys,
					   h->key_lens, h->n_keys);
	fp_hex(fph, fp);
	/* what follows the previous finding directly and is of its kind is
	 * more of it: "Killed" then "exit code 137", a verdict then its summary */
	if (j->last_hit >= 0 && j->last_hit < j->n) {
		struct cand *p = &j->c[j->last_hit];
		bool next_to = p->trigger && !p->weak && !p->warning && !h->rule->warning &&
			       h->first <= p->last + 1 && h->first > p->first &&
			       h->last - p->first < TRIAGE_MAX_LINES;
		/* ... and the lines right after an error that only say that the
		 * command failed ("exit status 1", "make: *** Error 1") belong to it */
		if (next_to && (h->rule->weak || p->category == h->category)) {
			p->last = MAX(p->last, h->last);
			p->after = MAX(p->after, h->rule->after);
			if (same_fp(p, fph, fp))
				p->repeats++;
			return 0;
		}
	}
	struct cand *seen = find_fp(j, fph, fp);
	if (seen) {
		/* the same failure again: it stands where it was seen last, the
		 * nearer the end the nearer what stopped the job (a summary, a
		 * second run of the same check) */
		seen->repeats++;
		seen->first = h->first;
		seen->last = h->last;
		seen->trigger = h->trigger;
		free(seen->title);
		seen->title = headline(h->title, h->title_len);
		enum cls k = classify(j, seen);
		if (seen->cls != CLS_HIDDEN)
			seen->cls = k;
		const struct step *st = step_of_line(j, h->trigger);
		seen->step = st ? st->number : 0;
		j->last_hit = (int)(seen - j->c);
		return 0;
	}
	struct cand tmp = {
		.rule_id = h->rule->id,
		.explain = h->rule->explain,
		.category = h->category,
		/* an ##[warning] line is a warning whatever matched it */
		.warning = h->rule->warning || h->marker == 2,
		.weak = h->rule->weak,
		.source = h->marker ? "marker" : "rule",
		.first = h->first,
		.last = h->last,
		.trigger = h->trigger,
		.before = h->rule->before,
		.after = h->rule->after,
		.show_tail = h->rule->show_tail,
	};
	tmp.cls = classify(j, &tmp);
	struct cand *c = triage_new_cand(j, tmp.cls);
	if (!c) {
		j->last_hit = -1;
		return 0;
	}
	*c = tmp;
	memcpy(c->fp, fp, sizeof(fp));
	c->fph = fph;
	c->has_fph = true;
	j->last_hit = (int)(c - j->c);
	c->title = headline(h->title, h->title_len);
	c->key = join_keys(h->keys, h->key_lens, h->n_keys);
	const struct step *s = step_of_line(j, h->trigger);
	c->step = s ? s->number : 0;
	return 0;
}

/* memmem(s, n, "##[error]", 9), for the first bytes of every line: glibc's
 * memmem prepares a general search on each call, which cost more than the
 * rest of a line's marker check (on a log without a '#', all of it). */
static bool has_error_marker(const char *s, size_t n)
{
	const char *end = s + n;
	for (const char *h = memchr(s, '#', n); h && end - h >= 9;
	     h = memchr(h + 1, '#', (size_t)(end - h - 1)))
		if (!memcmp(h, "##[error]", 9))
			return true;
	return false;
}

static int on_line(void *ctx, const struct split_line *l)
{
	struct scan_ctx *sc = ctx;
	if ((l->lineno & 0xffff) == 0 && sc->interrupted && *sc->interrupted) {
		err_set(sc->err, CS_EINTR, "interrupted");
		return -1;
	}
	/* the last ##[error] line: where the failure ends when steps are unknown */
	size_t n = MIN(l->head_len, (size_t)48);
	if (n >= 9 && has_error_marker(l->head, n))
		sc->j->last_marker = l->lineno;
	return rscan_line(sc->rs, l->lineno, l->head, l->head_len);
}

/* --- the fallback ------------------------------------------------------------------- */
/* Where the failing step ends: its last line, else the last ##[error]
 * line, else the end of the log. */
static uint64_t fail_end(const struct job_tri *j)
{
	if (j->any_failing_step && j->fail_last)
		return j->fail_last;
	return j->last_marker ? j->last_marker : j->n_log_lines;
}

static void add_fallback(struct job_tri *j)
{
	uint64_t end = fail_end(j), start = 1;
	if (j->any_failing_step && j->fail_last && j->fail_first)
		start = j->fail_first;
	if (!end)
		return;
	if (end - start + 1 > TRIAGE_FALLBACK_LINES)
		start = end - TRIAGE_FALLBACK_LINES + 1;
	struct cand *c = triage_new_cand(j, CLS_FALLBACK);
	if (!c)
		return;
	c->cls = CLS_FALLBACK;
	c->rule_id = "fallback";
	c->explain = "no rule recognised the failure: these are the last lines of the failing step";
	c->category = CAT_UNKNOWN;
	c->source = "fallback";
	c->first = start;
	c->last = end;
	c->trigger = end; /* the lines closest to the end come first */
	const struct step *s = step_of_line(j, end);
	c->step = s ? s->number : 0;
	j->fallback = true;
	/* a weak line inside the window says nothing more than the window */
	for (int i = 0; i < j->n; i++)
		if (j->c[i].cls == CLS_WEAK && j->c[i].trigger >= start && j->c[i].trigger <= end)
			j->c[i].cls = CLS_HIDDEN;
}

/* --- choosing what to show ------------------------------------------------------------- */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->latest != y->latest)
		return x->latest ? -1 : 1;
	if (x->tail != y->tail)
		return x->tail ? -1 : 1;
	/* a finding that says what kind of failure it is before a generic error line */
	bool xu = x->category == CAT_UNKNOWN, yu = y->category == CAT_UNKNOWN;
	if (xu != yu)
		return xu ? 1 : -1;
	uint64_t lx = x->trigger ? x->trigger : UINT64_MAX, ly = y->trigger ? y->trigger : UINT64_MAX;
	return lx < ly ? -1 : lx > ly;
}

/* The k-th line of c in the order it is shown: the matching line, the rest
 * of the finding (from the end for `show tail`), the lines `back` added,
 * the context after, the context before. 0 when there is no more. */
static uint64_t cand_line(const struct cand *c, int k, uint64_t nlog)
{
	struct seg {
		uint64_t a, b;
		bool down;
	} segs[5];
	int ns = 0;
	uint64_t t = c->trigger, f = c->first, l = c->last;
	if (c->show_tail) {
		segs[ns++] = (struct seg){t, t, false};
		if (l > t)
			segs[ns++] = (struct seg){t + 1, l, true};
	} else {
		segs[ns++] = (struct seg){t, l, false};
	}
	if (f < t)
		segs[ns++] = (struct seg){f, t - 1, true};
	if (c->after)
		segs[ns++] = (struct seg){l + 1, l + (uint64_t)c->after, false};
	if (c->before && f > 1)
		segs[ns++] = (struct seg){f > (uint64_t)c->before ? f - (uint64_t)c->before : 1, f - 1,
					  true};
	uint64_t kk = (uint64_t)k;
	for (int i = 0; i < ns; i++) {
		uint64_t a = segs[i].a, b = MIN(segs[i].b, nlog);
		if (a > b)
			continue;
		uint64_t len = b - a + 1;
		if (kk < len)
			return segs[i].down ? b - kk : a + kk;
		kk -= len;
	}
	return 0;
}

struct shown_set {
	uint64_t lines[TRIAGE_MAX_LINES];
	int n;
};

static bool is_shown(const struct shown_set *s, uint64_t line)
{
	for (int i = 0; i < s->n; i++)
		if (s->lines[i] == line)
			return true;
	return false;
}

/* Give c up to want more lines; returns how many it took. */
static int take_lines(struct cand *c, struct shown_set *s, int want, uint64_t nlog)
{
	int got = 0;
	while (got < want && s->n < TRIAGE_MAX_LINES) {
		uint64_t l = cand_line(c, c->next, nlog);
		if (!l)
			break;
		c->next++;
		if (is_shown(s, l))
			continue;
		s->lines[s->n++] = l;
		c->took[c->n_took++] = l;
		got++;
	}
	return got;
}

static int trigger_desc(const void *a, const void *b)
{
	const struct cand *x = *(const struct cand *const *)a, *y = *(const struct cand *const *)b;
	return x->trigger > y->trigger ? -1 : x->trigger < y->trigger;
}

/* The findings of the failing step that come last, with no long stretch of
 * other output between them, are what stopped it: errors followed by
 * hundreds of lines of work were survived (a setup script that goes on, a
 * check that only warns). They go first: the very last one that says what
 * kind of failure it is (the final exception of a chain, the summary of the
 * failed tests, the build tool's verdict; a generic error line of a wrapper
 * does not count), then the others in log order, known kinds before generic
 * error lines, so the first error of a cascade comes next. */
static void mark_tail(struct job_tri *j, enum cls cls)
{
	struct cand *v[TRIAGE_MAX_CANDIDATES];
	int n = 0;
	for (int i = 0; i < j->n; i++)
		if (j->c[i].cls == cls && j->c[i].trigger)
			v[n++] = &j->c[i];
	qsort(v, (size_t)n, sizeof(v[0]), trigger_desc);
	int tail = 0;
	for (; tail < n; tail++) {
		if (tail && v[tail - 1]->first > v[tail]->last + TRIAGE_CLUSTER_GAP)
			break;
		v[tail]->tail = true;
	}
	/* the latest that says what kind of failure it is; else the latest */
	for (int i = 0; i < tail; i++) {
		if (v[i]->category != CAT_UNKNOWN) {
			v[i]->latest = true;
			return;
		}
	}
	if (n)
		v[0]->latest = true;
}

static void choose(struct job_tri *j)
{
	mark_tail(j, CLS_FAILING_STEP);
	mark_tail(j, CLS_OTHER_STEP);
	qsort(j->c, (size_t)j->n, sizeof(j->c[0]), cand_cmp);
	struct shown_set s = {.n = 0};
	/* round one: each finding its share, best first */
	for (int i = 0; i < j->n; i++) {
		struct cand *c = &j->c[i];
		if (c->cls >= CLS_WARNING)
			continue;
		int budget = TRIAGE_MAX_LINES - s.n - j->n_lines_shown;
		if (budget <= 0)
			break;
		if (!c->trigger) {
			c->n_synth_shown = MIN(c->n_synth, budget);
			j->n_lines_shown += c->n_synth_shown;
			c->shown = c->n_synth_shown > 0;
			continue;
		}
		take_lines(c, &s, MIN(TRIAGE_FIRST_SHARE, budget), j->n_log_lines);
		c->shown = c->n_took > 0 || is_shown(&s, c->trigger);
	}
	/* round two: what is left makes the best findings whole */
	for (int i = 0; i < j->n; i++) {
		struct cand *c = &j->c[i];
		if (!c->shown || !c->trigger)
			continue;
		int budget = TRIAGE_MAX_LINES - s.n - j->n_lines_shown;
		if (budget <= 0)
			break;
		take_lines(c, &s, budget, j->n_log_lines);
	}
	j->n_lines_shown += s.n;
}

/* --- reading excerpt lines ------------------------------------------------------------------ */
struct line_text {
	uint64_t line;
	char *text;
};

static int lt_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct read_ctx {
	struct line_text *want;
	int n, next;
	struct buf tmp;
};

static int on_read(void *ctx, const struct split_line *l)
{
	struct read_ctx *rc = ctx;
	while (rc->next < rc->n && rc->want[rc->next].line < l->lineno)
		rc->next++;
	if (rc->next >= rc->n || rc->want[rc->next].line != l->lineno)
		return 0;
	bool hdr = false, skip;
	int marker;
	buf_reset(&rc->tmp);
	rules_line_text(l->head, l->head_len, &hdr, &skip, &marker, &rc->tmp);
	char *t = triage_capped(rc->tmp.data ? rc->tmp.data : "", rc->tmp.len, TRIAGE_EXCERPT_LINE_MAX);
	for (char *p = t; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (l->head_len < l->len && !strstr(t, "\xe2\x80\xa6")) {
		char *t2 = xasprintf("%s\xe2\x80\xa6", t);
		free(t);
		t = t2;
	}
	rc->want[rc->next++].text = t;
	return 0;
}

/* Read the text of the given lines (sorted, unique) in few passes: lines
 * close together share one. */
static int read_lines(struct logr *r, struct line_text *want, int n, struct cs_err *err)
{
	struct read_ctx rc = {.want = want, .n = n};
	int i = 0, ret = 0;
	while (i < n && ret == 0) {
		int k = i;
		while (k + 1 < n && want[k + 1].line - want[k].line < 64)
			k++;
		rc.next = i;
		ret = logr_scan(r, want[i].line, want[k].line, on_read, &rc, err);
		i = k + 1;
	}
	buf_release(&rc.tmp);
	for (int x = 0; x < n; x++)
		if (!want[x].text)
			want[x].text = xstrdup("");
	return ret < 0 ? -1 : 0;
}

static const char *text_of(struct line_text *lt, int n, uint64_t line)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int m = (lo + hi) / 2;
		if (lt[m].line == line)
			return lt[m].text;
		if (lt[m].line < line)
			lo = m + 1;
		else
			hi = m - 1;
	}
	return "";
}

/* The fallback's title and fingerprint come from its last telling lines. */
static void fallback_identity(struct cand *c, struct line_text *lt, int n)
{
	const char *keys[2];
	size_t lens[2];
	int nk = 0;
	for (uint64_t l = c->last; l >= c->first && l > 0 && nk < 2; l--) {
		const char *t = text_of(lt, n, l);
		const char *p = t;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || !strncmp(p, "##[", 3))
			continue;
		keys[nk] = t;
		lens[nk] = strlen(t);
		nk++;
	}
	if (nk == 0) {
		keys[0] = "fallback";
		lens[0] = 8;
		nk = 1;
	}
	/* in line order */
	if (nk == 2) {
		const char *k = keys[0];
		size_t kl = lens[0];
		keys[0] = keys[1];
		lens[0] = lens[1];
		keys[1] = k;
		lens[1] = kl;
	}
	fp_fingerprint(rule_category_name(c->category), keys, lens, nk, c->fp);
	free(c->key);
	c->key = join_keys(keys, lens, nk);
	free(c->title);
	c->title = triage_capped(keys[nk - 1], lens[nk - 1], TITLE_MAX);
}

/* --- storing ------------------------------------------------------------------------------ */
static int uint64_cmp(const void *a, const void *b)
{
	return lt_cmp(a, b);
}

static void excerpt_of(const struct cand *c, struct line_text *lt, int nlt, struct buf *out)
{
	if (!c->trigger) {
		const char *p = c->synth ? c->synth : "";
		for (int i = 0; i < c->n_synth_shown && *p; i++) {
			size_t l = strcspn(p, "\n");
			buf_adds(out, "0\t");
			buf_add(out, p, l);
			buf_addc(out, '\n');
			p += l;
			if (*p)
				p++;
		}
		return;
	}
	uint64_t lines[TRIAGE_MAX_LINES + 1];
	int n = 0;
	for (int i = 0; i < c->n_took; i++)
		lines[n++] = c->took[i];
	bool has_trigger = false;
	for (int i = 0; i < n; i++)
		has_trigger |= lines[i] == c->trigger;
	if (!has_trigger)
		lines[n++] = c->trigger;
	qsort(lines, (size_t)n, sizeof(lines[0]), uint64_cmp);
	for (int i = 0; i < n; i++)
		buf_addf(out, "%llu\t%s\n", (unsigned long long)lines[i], text_of(lt, nlt, lines[i]));
}

static int insert_cand(sqlite3_stmt *ins, struct store *st, const struct job_tri *j,
		       const struct cand *c, int rank, const char *excerpt, struct cs_err *err)
{
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	sqlite3_bind_int64(ins, 1, j->job_row_id);
	sqlite3_bind_int(ins, 2, rank);
	sqlite3_bind_int(ins, 3, c->shown);
	if (c->step)
		sqlite3_bind_int(ins, 4, c->step);
	if (c->trigger) {
		sqlite3_bind_int64(ins, 5, (int64_t)c->first);
		sqlite3_bind_int64(ins, 6, (int64_t)c->last);
	}
	sqlite3_bind_text(ins, 7, c->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, c->rule_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 9, rule_category_name(c->category), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 10, c->warning ? "warning" : "error", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 11, c->weak);
	sqlite3_bind_text(ins, 12, c->title ? c->title : "", -1, SQLITE_TRANSIENT);
	if (c->explain)
		sqlite3_bind_text(ins, 13, c->explain, -1, SQLITE_TRANSIENT);
	if (c->test_name)
		sqlite3_bind_text(ins, 14, c->test_name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(ins, 15, c->repeats);
	sqlite3_bind_text(ins, 16, c->fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 17, c->key ? c->key : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 18, excerpt, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return store_err(st, err, "cannot store a triage finding");
	return 0;
}

static int store_job(struct store *st, struct job_tri *j, const char *version, int *n_stored,
		     struct cs_err *err)
{
	int rc = 0;
	/* the text of every line shown */
	struct line_text *lt = NULL;
	int nlt = 0;
	size_t alloc = 0;
	for (int i = 0; i < j->n; i++) {
		const struct cand *c = &j->c[i];
		if (!c->shown || !c->trigger)
			continue;
		for (int k = 0; k <= c->n_took; k++) {
			XGROW(lt, alloc, (size_t)nlt + 1);
			lt[nlt].line = k < c->n_took ? c->took[k] : c->trigger;
			lt[nlt++].text = NULL;
		}
	}
	if (nlt) {
		qsort(lt, (size_t)nlt, sizeof(lt[0]), lt_cmp);
		int u = 0;
		for (int i = 0; i < nlt; i++)
			if (u == 0 || lt[u - 1].line != lt[i].line)
				lt[u++] = lt[i];
		nlt = u;
		struct logr *r = j->r ? j->r : logr_open(st, j->log_id, err);
		if (!r || read_lines(r, lt, nlt, err) < 0)
			rc = -1;
		if (r != j->r)
			logr_close(r);
	}
	for (int i = 0; i < j->n && rc == 0; i++)
		if (!strcmp(j->c[i].source, "fallback"))
			fallback_identity(&j->c[i], lt, nlt);

	sqlite3_stmt *ins = NULL;
	if (rc == 0 &&
	    store_cached(st,
			 "INSERT INTO triage_findings (job_id, rank, shown, step_number, line, "
			 "end_line, source, rule, category, severity, weak, title, explain, "
			 "test_name, repeats, fingerprint, key_text, excerpt) VALUES (?1, ?2, ?3, "
			 "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
			 &ins) != SQLITE_OK)
		rc = store_err(st, err, "cannot store triage findings");
	int rank = 0;
	struct buf ex = BUF_INIT;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (int i = 0; i < j->n && rc == 0 && rank < TRIAGE_MAX_STORED; i++) {
			const struct cand *c = &j->c[i];
			if (c->shown != (pass == 0))
				continue;
			buf_reset(&ex);
			if (c->shown)
				excerpt_of(c, lt, nlt, &ex);
			rc = insert_cand(ins, st, j, c, rank++, buf_cstr(&ex), err);
		}
	}
	buf_release(&ex);
	store_cached_done(ins);
	for (int i = 0; i < nlt; i++)
		free(lt[i].text);
	free(lt);
	if (rc < 0)
		return -1;
	int dropped = j->n_dropped + MAX(0, j->n - rank);
	sqlite3_stmt *s;
	if (store_cached(st,
			 "INSERT OR REPLACE INTO triage_jobs (job_id, version, n_findings, "
			 "n_lines, n_dropped, fallback, triaged_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			 &s) != SQLITE_OK)
		return store_err(st, err, "cannot store the triage of a job");
	sqlite3_bind_int64(s, 1, j->job_row_id);
	sqlite3_bind_text(s, 2, version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, rank);
	sqlite3_bind_int(s, 4, j->n_lines_shown);
	sqlite3_bind_int(s, 5, dropped);
	sqlite3_bind_int(s, 6, j->fallback);
	sqlite3_bind_int64(s, 7, time_now_ms());
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(st, err, "cannot store the triage of a job");
	store_cached_done(s);
	*n_stored += rank;
	return rc;
}

/* --- one run ---------------------------------------------------------------------------------- */
static void job_tri_free(struct job_tri *j)
{
	for (int i = 0; i < j->n; i++)
		cand_release(&j->c[i]);
	free(j->name);
	free(j->conclusion);
	free(j->log_state);
	store_steps_free(j->steps, j->n_steps);
	logr_close(j->r);
}

static int exec_id(struct store *st, const char *sql, int64_t id, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_cached(st, sql, &s) != SQLITE_OK)
		return store_err(st, err, "cannot update the triage");
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(st, err, "cannot update the triage");
	store_cached_done(s);
	return rc;
}

/* The triage rows of a run's jobs, deleted job by job: the rows of
 * "job_id IN (SELECT id FROM jobs WHERE run_id = ?)", without the temporary
 * table SQLite builds for that list (a cost at every run of an import of
 * many small logs). */
static int delete_run_triage(struct store *st, int64_t run_row_id, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_cached(st, "SELECT jobs.id FROM jobs WHERE jobs.run_id = ?1", &s) != SQLITE_OK)
		return store_err(st, err, "cannot update the triage");
	sqlite3_bind_int64(s, 1, run_row_id);
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(ids, alloc, n + 1);
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	int ret = rc == SQLITE_DONE ? 0 : store_err(st, err, "cannot update the triage");
	store_cached_done(s);
	for (size_t i = 0; i < n && ret == 0; i++)
		if (exec_id(st, "DELETE FROM triage_findings WHERE job_id = ?1", ids[i], err) < 0 ||
		    exec_id(st, "DELETE FROM triage_jobs WHERE job_id = ?1", ids[i], err) < 0)
			ret = -1;
	free(ids);
	return ret;
}

/* keep: the reader stays open in j for store_job's excerpts (its chunk is
 * decoded already), for one job of a run at a time: a run of many small logs
 * opens each log once. */
/* The lines of a log held in memory (the bytes the importer just stored):
 * the same splitter over the same bytes gives the lines logr_scan() would. */
static int scan_mem(struct job_tri *j, const struct triage_log_mem *m, struct scan_ctx *sc)
{
	struct splitter *sp = xmalloc(sizeof(*sp)); /* it holds an 8 KB head */
	splitter_init(sp, on_line, sc);
	int rc = splitter_feed(sp, m->data, m->len);
	if (rc == 0)
		rc = splitter_finish(sp);
	j->n_log_lines = sp->lineno;
	free(sp);
	return rc;
}

/* --- the scan made ahead ------------------------------------------------------------------- */
/* A finding kept for the replay, followed in its block by its keys and
 * title (each NUL-terminated, in that order). The findings go one after
 * the other into blocks of PRE_BLOCK bytes chained in order: a malloc per
 * key and title, and an array of findings grown by copying, were more than
 * half of a log writer worker's time on a log with a compiler warning on
 * every other line (46,000 findings a log). */
struct pre_hit {
	int rule; /* its index in the ruleset */
	int category;
	uint64_t first, last, trigger;
	int marker, n_keys;
	uint32_t key_lens[RSCAN_KEYS];
	uint32_t title_len;
	uint32_t size; /* of the record, strings and padding included */
};

#define PRE_BLOCK (64u << 10)

struct pre_block {
	struct pre_block *next;
	size_t used, cap;
	max_align_t data[]; /* the records */
};

struct triage_prescan {
	bool ok;
	size_t len;
	uint64_t hash; /* of the rules */
	uint64_t n_lines, last_marker;
	struct pre_block *first, *cur; /* cur: the block being filled */
	int n;
};

struct triage_prescan_ws {
	const struct ruleset *rs; /* triage's own, which outlives the scan */
	struct rscan *scan;
	struct triage_prescan *p;
};

struct triage_prescan_ws *triage_prescan_ws_new(void)
{
	if (override_rules)
		return NULL;
	struct cs_err e;
	err_clear(&e);
	const struct ruleset *rs = triage_rules(&e);
	if (!rs)
		return NULL;
	struct triage_prescan_ws *ws = xcalloc(1, sizeof(*ws));
	ws->rs = rs;
	return ws;
}

void triage_prescan_ws_free(struct triage_prescan_ws *ws)
{
	if (!ws)
		return;
	free(ws);
}

struct triage_prescan *triage_prescan_new(void)
{
	return xcalloc(1, sizeof(struct triage_prescan));
}

/* The first block is kept for the next scan (a small log's few findings
 * fit in it); the others go, so a scan kept for later holds no more than
 * its own findings. */
void triage_prescan_clear(struct triage_prescan *p)
{
	if (!p)
		return;
	struct pre_block *b = p->first ? p->first->next : NULL;
	while (b) {
		struct pre_block *next = b->next;
		free(b);
		b = next;
	}
	if (p->first) {
		p->first->next = NULL;
		p->first->used = 0;
	}
	p->cur = p->first;
	p->n = 0;
	p->ok = false;
	p->len = 0;
	p->n_lines = p->last_marker = 0;
}

void triage_prescan_free(struct triage_prescan *p)
{
	if (!p)
		return;
	triage_prescan_clear(p);
	free(p->first);
	free(p);
}

/* Room for a record of size bytes (a multiple of the alignment) at the end
 * of the chain. */
static struct pre_hit *pre_room(struct triage_prescan *p, size_t size)
{
	struct pre_block *b = p->cur;
	if (!b || b->cap - b->used < size) {
		size_t cap = MAX((size_t)PRE_BLOCK - sizeof(*b), size);
		struct pre_block *nb = xmalloc(sizeof(*nb) + cap);
		nb->next = NULL;
		nb->used = 0;
		nb->cap = cap;
		if (b)
			b->next = nb;
		else
			p->first = nb;
		p->cur = b = nb;
	}
	struct pre_hit *d = (struct pre_hit *)((unsigned char *)b->data + b->used);
	b->used += size;
	return d;
}

static int pre_on_hit(void *ctx, const struct rule_hit *h)
{
	struct triage_prescan_ws *ws = ctx;
	struct triage_prescan *p = ws->p;
	size_t title_len = h->title ? h->title_len : 0;
	size_t size = sizeof(struct pre_hit) + title_len + 1;
	for (int k = 0; k < h->n_keys; k++)
		size += h->key_lens[k] + 1;
	size = (size + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
	struct pre_hit *d = pre_room(p, size);
	d->rule = (int)(h->rule - ruleset_rule(ws->rs, 0));
	d->category = h->category;
	d->first = h->first;
	d->last = h->last;
	d->trigger = h->trigger;
	d->marker = h->marker;
	d->n_keys = h->n_keys;
	d->size = (uint32_t)size;
	char *o = (char *)(d + 1);
	for (int k = 0; k < h->n_keys; k++) {
		memcpy(o, h->keys[k], h->key_lens[k]);
		o[h->key_lens[k]] = 0;
		o += h->key_lens[k] + 1;
		d->key_lens[k] = (uint32_t)h->key_lens[k];
	}
	if (title_len)
		memcpy(o, h->title, title_len);
	o[title_len] = 0;
	d->title_len = (uint32_t)title_len;
	p->n++;
	return 0;
}

/* on_line()'s work, without a job */
int triage_prescan_line(void *ctx, const struct split_line *l)
{
	struct triage_prescan_ws *ws = ctx;
	size_t n = MIN(l->head_len, (size_t)48);
	if (n >= 9 && has_error_marker(l->head, n))
		ws->p->last_marker = l->lineno;
	return rscan_line(ws->scan, l->lineno, l->head, l->head_len);
}

void triage_prescan_begin(struct triage_prescan_ws *ws, struct triage_prescan *p)
{
	triage_prescan_clear(p);
	ws->p = p;
	ws->scan = rscan_new(ws->rs, pre_on_hit, ws);
}

void triage_prescan_end(struct triage_prescan_ws *ws, bool ok, uint64_t n_lines, size_t n)
{
	struct triage_prescan *p = ws->p;
	int rc = ok ? rscan_finish(ws->scan) : -1;
	rscan_free(ws->scan);
	ws->scan = NULL;
	ws->p = NULL;
	if (rc != 0) {
		triage_prescan_clear(p);
		return;
	}
	p->n_lines = n_lines;
	p->hash = ruleset_hash(ws->rs);
	p->len = n;
	p->ok = true;
}

int triage_prescan_hits(const struct triage_prescan *p)
{
	return p->n;
}

bool triage_prescan_ok(const struct triage_prescan *p, size_t n)
{
	return p && p->ok && p->len == n;
}

/* scan_mem()'s result from a scan made ahead: its findings given to on_hit
 * in the order the rules scan reported them */
static int replay_pre(struct job_tri *j, const struct ruleset *rs,
		      const struct triage_prescan *p, struct scan_ctx *sc)
{
	j->n_log_lines = p->n_lines;
	j->last_marker = p->last_marker;
	for (const struct pre_block *b = p->first; b; b = b->next) {
		for (size_t at = 0; at < b->used;) {
			const struct pre_hit *d =
				(const struct pre_hit *)((const unsigned char *)b->data + at);
			at += d->size;
			struct rule_hit h = {
				.rule = ruleset_rule(rs, d->rule),
				.category = d->category,
				.first = d->first,
				.last = d->last,
				.trigger = d->trigger,
				.marker = d->marker,
				.n_keys = d->n_keys,
				.title_len = d->title_len,
			};
			const char *s = (const char *)(d + 1);
			for (int k = 0; k < d->n_keys; k++) {
				h.keys[k] = s;
				h.key_lens[k] = d->key_lens[k];
				s += d->key_lens[k] + 1;
			}
			h.title = s;
			if (on_hit(sc, &h))
				return -1;
		}
	}
	return 0;
}

static int scan_job(struct store *st, const struct ruleset *rs, struct job_tri *j, bool keep,
		    const struct triage_log_mem *mem, volatile sig_atomic_t *interrupted,
		    struct cs_err *err)
{
	if (mem && mem->steps_known) {
		j->n_steps = mem->n_steps;
		j->steps = mem->n_steps ? xcalloc((size_t)mem->n_steps, sizeof(*j->steps)) : NULL;
		for (int i = 0; i < mem->n_steps; i++) {
			const struct step *f = &mem->steps[i];
			j->steps[i] = *f;
			j->steps[i].name = f->name ? xstrdup(f->name) : NULL;
			j->steps[i].status = f->status ? xstrdup(f->status) : NULL;
			j->steps[i].conclusion = f->conclusion ? xstrdup(f->conclusion) : NULL;
		}
	} else if (store_steps(st, j->job_row_id, &j->steps, &j->n_steps, err) < 0) {
		return -1;
	}
	for (int i = 0; i < j->n_steps; i++) {
		const struct step *s = &j->steps[i];
		if (s->first_line && step_failing(s)) {
			if (!j->any_failing_step) {
				j->fail_first = (uint64_t)s->first_line;
				j->fail_last = (uint64_t)s->last_line;
			}
			j->any_failing_step = true;
		}
	}
	triage_add_conclusion(j);
	if (!j->log_id)
		return 0;
	struct scan_ctx sc = {.j = j, .interrupted = interrupted, .err = err, .memo = fp_memo_new()};
	int rc;
	if (mem && mem->pre && triage_prescan_ok(mem->pre, mem->len) &&
	    mem->pre->hash == ruleset_hash(rs)) {
		rc = replay_pre(j, rs, mem->pre, &sc);
	} else if (mem && mem->data) { /* (a scan made ahead of bytes not kept: read back) */
		sc.rs = rscan_new(rs, on_hit, &sc);
		rc = scan_mem(j, mem, &sc);
		if (rc == 0)
			rc = rscan_finish(sc.rs);
		rscan_free(sc.rs);
	} else {
		struct logr *r = logr_open(st, j->log_id, err);
		if (!r) {
			fp_memo_free(sc.memo);
			return -1;
		}
		j->n_log_lines = logr_line_count(r);
		sc.rs = rscan_new(rs, on_hit, &sc);
		rc = j->n_log_lines ? logr_scan(r, 1, j->n_log_lines, on_line, &sc, err) : 0;
		if (rc == 0)
			rc = rscan_finish(sc.rs);
		rscan_free(sc.rs);
		if (keep && rc == 0)
			j->r = r;
		else
			logr_close(r);
	}
	fp_memo_free(sc.memo);
	return rc ? -1 : 0;
}

/* A candidate that makes a job failed when its own conclusion is unknown (a
 * log imported alone): an error of a rule or a marker (conclude_log's test
 * in import.c, on the stored findings). */
static bool cand_judges_failed(const struct cand *c)
{
	return !c->warning && (!strcmp(c->source, "rule") || !strcmp(c->source, "marker"));
}

/* judge: a job without such a candidate is left untriaged (nothing stored,
 * no excerpts read): it passed, and its triage would be dropped. */
static int triage_run_x(struct store *st, const struct ruleset *rs, int64_t run_row_id,
			volatile sig_atomic_t *interrupted, struct retriage_stats *stats,
			bool judge, const struct triage_log_mem *mem, int n_mem,
			int *n_judged_failed, struct cs_err *err)
{
	char version[64];
	triage_version(rs, version, sizeof(version));
	/* a run judged is one just inserted (triage_judge_after_import): its
	 * jobs have no triage rows to delete (they went with a deleted job's
	 * id) and the run no test results yet: three statements and a probe of
	 * a small log's two dozen */
	if (!judge && delete_run_triage(st, run_row_id, err) < 0)
		return -1;
	sqlite3_stmt *s;
	if (store_cached(st,
			 "SELECT j.id, j.name, j.conclusion, j.log_state, coalesce(l.id, 0) "
			 "FROM jobs j JOIN runs r ON r.id = j.run_id LEFT JOIN logs l ON "
			 "l.job_id = j.id WHERE j.run_id = ?1 AND " TRIAGE_JOB_FAILED_SQL
			 " ORDER BY j.ordinal, j.id",
			 &s) != SQLITE_OK)
		return store_err(st, err, "cannot list the failed jobs");
	sqlite3_bind_int64(s, 1, run_row_id);
	struct job_tri *jobs = NULL;
	int n = 0, rc;
	size_t alloc = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(jobs, alloc, (size_t)n + 1);
		struct job_tri *j = &jobs[n++];
		/* not its candidates: only the first n are ever read, and
		 * triage_new_cand() clears each it gives (zeroing them all was
		 * 32 KiB a job, 3 % of a small log's importing thread) */
		memset(j, 0, offsetof(struct job_tri, c));
		memset(&j->n, 0, sizeof(*j) - offsetof(struct job_tri, n));
		j->job_row_id = sqlite3_column_int64(s, 0);
		j->name = sql_col_str(s, 1);
		j->conclusion = sql_col_str(s, 2);
		j->log_state = sql_col_str(s, 3);
		j->log_id = sqlite3_column_int64(s, 4);
		j->last_hit = -1;
		if (!j->name)
			j->name = xstrdup("");
		if (!j->conclusion)
			j->conclusion = xstrdup("failure");
	}
	store_cached_done(s);
	int ret = 0;
	if (rc != SQLITE_DONE)
		ret = store_err(st, err, "cannot list the failed jobs");
	for (int i = 0; i < n && ret == 0; i++) {
		const struct triage_log_mem *m = NULL;
		for (int k = 0; k < n_mem && !m; k++)
			if (mem[k].job_row_id == jobs[i].job_row_id)
				m = &mem[k];
		ret = scan_job(st, rs, &jobs[i], i == n - 1, m, interrupted, err);
	}
	struct junit_fail *tf = NULL;
	int ntf = 0;
	if (ret == 0 && n && !judge)
		ret = triage_load_junit(st, run_row_id, &tf, &ntf, err);
	if (ret == 0)
		triage_attach_junit(jobs, n, tf, ntf);
	int stored = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		struct job_tri *j = &jobs[i];
		if (judge) {
			bool failed = false;
			for (int k = 0; k < j->n && !failed; k++)
				failed = cand_judges_failed(&j->c[k]);
			if (!failed)
				continue;
		}
		/* the end of the failing step explains the failure unless a
		 * finding comes near it */
		uint64_t end = fail_end(j), latest = 0;
		for (int k = 0; k < j->n; k++)
			if (j->c[k].trigger && j->c[k].cls == CLS_FAILING_STEP)
				latest = MAX(latest, j->c[k].last);
		if ((!latest || latest + TRIAGE_FALLBACK_FAR < end) && j->log_id && j->n_log_lines)
			add_fallback(j);
		/* a weak line ("exit code 1") adds nothing to a telling finding */
		bool telling = false;
		for (int k = 0; k < j->n; k++)
			telling |= j->c[k].trigger && (j->c[k].cls == CLS_FAILING_STEP ||
						       j->c[k].cls == CLS_OTHER_STEP);
		for (int k = 0; k < j->n && telling; k++)
			if (j->c[k].cls == CLS_WEAK)
				j->c[k].cls = CLS_HIDDEN;
		if (j->n == 0)
			triage_add_no_log(j);
		choose(j);
		ret = store_job(st, j, version, &stored, err);
		if (n_judged_failed)
			++*n_judged_failed;
	}
	triage_junit_free(tf, ntf);
	for (int i = 0; i < n; i++)
		job_tri_free(&jobs[i]);
	free(jobs);
	if (ret == 0 && stats) {
		stats->runs++;
		stats->jobs += n;
		stats->findings += stored;
	}
	return ret;
}

int triage_run(struct store *st, const struct ruleset *rs, int64_t run_row_id,
	       struct cs_err *err)
{
	return triage_run_x(st, rs, run_row_id, NULL, NULL, false, NULL, 0, NULL, err);
}

int triage_judge_after_import(struct store *st, int64_t run_row_id,
			      const struct triage_log_mem *mem, int n_mem, int *n_judged_failed,
			      struct cs_err *err)
{
	struct cs_err e;
	err_clear(&e);
	*n_judged_failed = -1;
	const struct ruleset *rs = triage_rules(&e);
	if (!rs)
		return 0; /* triage_ensure reports the bad rules file */
	*n_judged_failed = 0;
	int rc = triage_run_x(st, rs, run_row_id, NULL, NULL, true, mem, n_mem, n_judged_failed,
			      err);
	if (rc < 0)
		*n_judged_failed = -1;
	return rc;
}

int triage_after_import(struct store *st, int64_t run_row_id, struct cs_err *err)
{
	struct cs_err e;
	err_clear(&e);
	const struct ruleset *rs = triage_rules(&e);
	if (!rs)
		return 0; /* triage_ensure reports the bad rules file */
	return triage_run(st, rs, run_row_id, err);
}

static int failed_run_ids(struct store *st, const char *version, int64_t **ids, int *n,
			  struct cs_err *err)
{
	sqlite3_stmt *s;
	*ids = NULL;
	*n = 0;
	const char *sql =
		version ? "SELECT DISTINCT j.run_id FROM jobs j JOIN runs r ON r.id = j.run_id "
			  "LEFT JOIN triage_jobs t ON t.job_id = j.id WHERE " TRIAGE_JOB_FAILED_SQL
			  " AND (t.job_id IS NULL OR t.version IS NOT ?1) ORDER BY j.run_id"
			: "SELECT DISTINCT j.run_id FROM jobs j JOIN runs r ON r.id = j.run_id WHERE "
			  TRIAGE_JOB_FAILED_SQL " ORDER BY j.run_id";
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list the runs to triage");
	if (version)
		sqlite3_bind_text(s, 1, version, -1, SQLITE_TRANSIENT);
	return store_collect_ids(st, s, ids, n, "cannot list the runs to triage", err);
}

int triage_ensure(struct store *st, const struct ruleset *rs, int *n_jobs, struct cs_err *err)
{
	char version[64];
	triage_version(rs, version, sizeof(version));
	int64_t *ids;
	int n;
	*n_jobs = 0;
	if (failed_run_ids(st, version, &ids, &n, err) < 0)
		return -1;
	struct retriage_stats stats = {0};
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i += ENSURE_BATCH) {
		if (store_begin(st, err) < 0) {
			rc = -1;
			break;
		}
		for (int k = i; k < n && k < i + ENSURE_BATCH && rc == 0; k++)
			rc = triage_run_x(st, rs, ids[k], NULL, &stats, false, NULL, 0, NULL, err);
		if (rc == 0)
			rc = store_commit(st, err);
		else
			store_rollback(st);
	}
	free(ids);
	*n_jobs = stats.jobs;
	return rc;
}

static int count_query(struct store *st, const char *sql, int *out, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot count fingerprints");
	*out = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return 0;
}

int triage_retriage(struct store *st, const struct ruleset *rs, struct retriage_stats *out,
		    volatile sig_atomic_t *interrupted, struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (store_begin(st, err) < 0)
		return -1;
	int64_t *ids = NULL;
	int n = 0;
	int rc = store_exec(st,
			    "DROP TABLE IF EXISTS temp.triage_old;"
			    "CREATE TEMP TABLE triage_old AS SELECT job_id, coalesce(line, 0) AS line, "
			    "coalesce(test_name, '') AS test_name, fingerprint FROM triage_findings;",
			    err);
	if (rc == 0)
		rc = count_query(st, "SELECT count(DISTINCT fingerprint) FROM triage_findings",
				 &out->fingerprints_before, err);
	if (rc == 0)
		rc = store_exec(st, "DELETE FROM triage_findings; DELETE FROM triage_jobs;", err);
	if (rc == 0)
		rc = failed_run_ids(st, NULL, &ids, &n, err);
	for (int i = 0; i < n && rc == 0; i++) {
		if (interrupted && *interrupted) {
			rc = err_set(err, CS_EINTR, "interrupted: nothing was changed");
			break;
		}
		rc = triage_run_x(st, rs, ids[i], interrupted, out, false, NULL, 0, NULL, err);
	}
	free(ids);
	if (rc == 0) {
		/* a finding whose fingerprint changed keeps the state its old one had */
		rc = store_exec(st,
				"INSERT OR IGNORE INTO triage_states (fingerprint, state, note, "
				"set_by, set_at) SELECT n.fingerprint, s.state, s.note, s.set_by, "
				"s.set_at FROM temp.triage_old o JOIN triage_findings n ON "
				"n.job_id = o.job_id AND coalesce(n.line, 0) = o.line AND "
				"coalesce(n.test_name, '') = o.test_name AND n.fingerprint != "
				"o.fingerprint JOIN triage_states s ON s.fingerprint = o.fingerprint "
				"GROUP BY n.fingerprint",
				err);
		if (rc == 0)
			out->states_carried = sqlite3_changes(st->db);
	}
	if (rc == 0)
		rc = count_query(st, "SELECT count(DISTINCT fingerprint) FROM triage_findings",
				 &out->fingerprints_after, err);
	if (rc == 0)
		rc = store_exec(st, "DROP TABLE temp.triage_old", err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

bool triage_job_failed(const struct run *r, const struct job *j)
{
	return ci_conclusion_is_failure(j->conclusion) ||
	       (j->conclusion && !strcmp(j->conclusion, "cancelled") && r &&
		ci_conclusion_is_failure(r->conclusion));
}

/* --- triage_ensure in slices, for the terminal UI ---------------------------------- */
struct triage_ensure_job {
	struct store *st;
	const struct ruleset *rs;
	int64_t *ids;
	int n, done;
	struct retriage_stats stats;
};

struct triage_ensure_job *triage_ensure_begin(struct store *st, const struct ruleset *rs,
					      struct cs_err *err)
{
	char version[64];
	triage_version(rs, version, sizeof(version));
	struct triage_ensure_job *job = xcalloc(1, sizeof(*job));
	job->st = st;
	job->rs = rs;
	if (failed_run_ids(st, version, &job->ids, &job->n, err) < 0) {
		free(job);
		return NULL;
	}
	/* the latest imported first: what a list of recent failures shows */
	for (int i = 0, k = job->n - 1; i < k; i++, k--) {
		int64_t t = job->ids[i];
		job->ids[i] = job->ids[k];
		job->ids[k] = t;
	}
	return job;
}

int triage_ensure_step(struct triage_ensure_job *job, int max_runs, struct cs_err *err)
{
	if (job->done >= job->n)
		return 0;
	if (max_runs < 1)
		max_runs = 1;
	if (store_begin(job->st, err) < 0)
		return -1;
	struct retriage_stats stats = job->stats;
	int rc = 0, k = job->done;
	for (; k < job->n && k < job->done + max_runs && rc == 0; k++)
		rc = triage_run_x(job->st, job->rs, job->ids[k], NULL, &stats, false, NULL, 0, NULL, err);
	if (rc == 0)
		rc = store_commit(job->st, err);
	if (rc < 0) {
		store_rollback(job->st); /* (a failed COMMIT leaves it open) */
		return -1;
	}
	job->done = k;
	job->stats = stats;
	return job->done < job->n ? 1 : 0;
}

void triage_ensure_progress(const struct triage_ensure_job *job, int *runs_done, int *runs_total,
			    int *jobs)
{
	if (runs_done)
		*runs_done = job ? job->done : 0;
	if (runs_total)
		*runs_total = job ? job->n : 0;
	if (jobs)
		*jobs = job ? job->stats.jobs : 0;
}

void triage_ensure_free(struct triage_ensure_job *job)
{
	if (!job)
		return;
	free(job->ids);
	free(job);
}
