/* rules.c - loading triage rules and running them over a log's lines. */
#include "rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "logparse.h"
#include "rulesint.h"

extern const char rules_conf[];

#define RULES_FILE_MAX (4u << 20)
#define RULE_ID_MAX 64
#define EXPLAIN_MAX 300
/* A pattern that backtracks without end on a hostile line gives up: the
 * line is then no match. */
#define MATCH_LIMIT 200000
#define DEPTH_LIMIT 5000
/* The lines after "##[group]Run ..." echo the step's script until
 * ##[endgroup]; a group never closed stops counting as that after this. */
#define HEADER_MAX_LINES 1000

/* --- categories ---------------------------------------------------------------- */
static const struct {
	const char *name;
	enum decision decision;
} categories[CAT_COUNT] = {
	[CAT_COMPILE] = {"compile", DECIDE_FIX},
	[CAT_TEST] = {"test", DECIDE_FIX},
	[CAT_LINT] = {"lint", DECIDE_FIX},
	[CAT_PARITY] = {"parity", DECIDE_FIX},
	[CAT_CRASH] = {"crash", DECIDE_FIX},
	[CAT_DEPENDENCY] = {"dependency", DECIDE_INVESTIGATE},
	[CAT_CONFIG] = {"config", DECIDE_INVESTIGATE},
	[CAT_UNKNOWN] = {"unknown", DECIDE_INVESTIGATE},
	[CAT_CANCELLED] = {"cancelled", DECIDE_INVESTIGATE},
	[CAT_NETWORK] = {"network", DECIDE_RETRY},
	[CAT_RUNNER] = {"runner", DECIDE_RETRY},
	[CAT_DISK] = {"disk", DECIDE_RETRY},
	[CAT_OOM] = {"oom", DECIDE_RETRY},
	[CAT_TIMEOUT] = {"timeout", DECIDE_RETRY},
	[CAT_INFRASTRUCTURE] = {"infrastructure", DECIDE_RETRY},
	[CAT_IGNORE] = {"ignore", DECIDE_INVESTIGATE},
};

const char *rule_category_name(int cat)
{
	return cat >= 0 && cat < CAT_COUNT ? categories[cat].name : "unknown";
}

int rule_category_parse(const char *s)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if (!strcmp(s, categories[i].name))
			return i;
	return -1;
}

enum decision rule_category_decision(int cat)
{
	return cat >= 0 && cat < CAT_COUNT ? categories[cat].decision : DECIDE_INVESTIGATE;
}

/* The words for a decision, in one place: the CLI's JSON and text and the
 * triage view's column all come from here. */
static const struct {
	const char *name, *label, *text;
} decisions[] = {
	[DECIDE_FIX] = {"fix", "fix the code", "fix the code"},
	[DECIDE_INVESTIGATE] = {"investigate", "investigate", "investigate"},
	[DECIDE_RETRY] = {"retry", "retry / escalate", "retry / escalate (infrastructure)"},
};

const char *decision_name(enum decision d)
{
	return (unsigned)d < ARRAY_SIZE(decisions) ? decisions[d].name : "investigate";
}

const char *decision_label(enum decision d)
{
	return (unsigned)d < ARRAY_SIZE(decisions) ? decisions[d].label : "investigate";
}

const char *decision_text(enum decision d)
{
	return (unsigned)d < ARRAY_SIZE(decisions) ? decisions[d].text : "investigate";
}

enum decision decision_of_category(const char *category)
{
	int cat = rule_category_parse(category ? category : "unknown");
	return rule_category_decision(cat < 0 ? CAT_UNKNOWN : cat);
}

bool rule_category_is_infra(int cat)
{
	return rule_category_decision(cat) == DECIDE_RETRY;
}

/* --- patterns -------------------------------------------------------------------- */

/* One match context for every thread: read-only once made, and made once
 * (the import's read-ahead and log writer threads match too: two first
 * calls at once each made one, and one of them leaked). */
static pcre2_match_context *shared_mctx;
static pthread_once_t shared_mctx_once = PTHREAD_ONCE_INIT;

static void match_context_make(void)
{
	shared_mctx = pcre2_match_context_create(NULL);
	if (!shared_mctx)
		die("out of memory");
	pcre2_set_match_limit(shared_mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(shared_mctx, DEPTH_LIMIT);
}

static pcre2_match_context *match_context(void)
{
	pthread_once(&shared_mctx_once, match_context_make);
	return shared_mctx;
}

/* Most patterns are tried on lines they cannot match: "^FAIL\\s" on a line
 * that holds "failed" further on. PCRE2 rejects those at once too, but only
 * after a library call, its JIT entry and setup, several times the cost of
 * the check: the same two checks it makes first (a line shorter than any
 * match; an anchored pattern's first byte) come first here. md is the
 * caller's: the compiled pattern is shared by the threads that match it,
 * its match data is not (the interpreter keeps its backtracking frames in
 * it). */
static bool pat_match(const struct rule_pat *p, pcre2_match_data *md, uint32_t opts,
		      const char *text, size_t n)
{
	if (n < p->minlen)
		return false;
	if (p->anchored && (n == 0 || !(p->first[(unsigned char)text[0] >> 3] &
					(1u << ((unsigned char)text[0] & 7)))))
		return false;
	return pcre2_match(p->re, (PCRE2_SPTR)text, n, 0, opts, md, match_context()) >= 0;
}

/* One pattern alone (tests): match data for the one call. */
bool rule_pat_match(const struct rule_pat *p, const char *text, size_t n)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
	if (!md)
		die("out of memory");
	bool m = pat_match(p, md, 0, text, n);
	pcre2_match_data_free(md);
	return m;
}

/* Read the checks rule_pat_match() makes before PCRE2: pcre2_match() makes
 * the same ones (an anchored pattern's first code unit, with its other case
 * when caseless, or its start bitmap), so no result changes. A caseless
 * first code unit's other case is not told: both ASCII cases pass, and a
 * non-ASCII one is not checked. */
static void pat_quick_checks(struct rule_pat *pat)
{
	uint32_t opts = 0, minlen = 0, fct = 0;
	const uint8_t *bm = NULL;
	pcre2_pattern_info(pat->re, PCRE2_INFO_ALLOPTIONS, &opts);
	if (pcre2_pattern_info(pat->re, PCRE2_INFO_MINLENGTH, &minlen) == 0)
		pat->minlen = minlen;
	if (!(opts & PCRE2_ANCHORED))
		return;
	pcre2_pattern_info(pat->re, PCRE2_INFO_FIRSTCODETYPE, &fct);
	pcre2_pattern_info(pat->re, PCRE2_INFO_FIRSTBITMAP, &bm);
	if (fct == 1) {
		uint32_t cu = 0;
		pcre2_pattern_info(pat->re, PCRE2_INFO_FIRSTCODEUNIT, &cu);
		if (cu >= 0x80)
			return;
		pat->first[cu >> 3] |= (uint8_t)(1u << (cu & 7));
		if ((cu | 0x20) >= 'a' && (cu | 0x20) <= 'z') {
			unsigned o = (unsigned)(cu ^ 0x20);
			pat->first[o >> 3] |= (uint8_t)(1u << (o & 7));
		}
		if (bm) /* both may be set: either passes */
			for (int i = 0; i < 32; i++)
				pat->first[i] |= bm[i];
		pat->anchored = true;
	} else if (bm) {
		memcpy(pat->first, bm, sizeof(pat->first));
		pat->anchored = true;
	}
}

const char *rule_pat_source(const struct rule_pat *p)
{
	return p->src;
}

int rule_pat_literals(const struct rule_pat *p, const char *const **lits)
{
	*lits = (const char *const *)p->lits;
	return p->n_lits;
}

const struct rule_pat *rule_match_pat(const struct rule *r, int i)
{
	return i >= 0 && i < r->n_match ? &r->match[i] : NULL;
}

void ruleset_use_prefilter(struct ruleset *rs, bool on)
{
	rs->no_prefilter = !on;
}

void ruleset_use_jit(struct ruleset *rs, bool on)
{
	rs->no_jit = !on;
}

void ruleset_prefilter_stats(const struct ruleset *rs, int *patterns, int *gated)
{
	*patterns = rs->pf.n_pats;
	*gated = rs->pf.n_gated;
}

static void pats_free(struct rule_pat *p, int n)
{
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < p[i].n_lits; k++)
			free(p[i].lits[k]);
		free(p[i].lits);
		free(p[i].src);
		pcre2_code_free(p[i].re);
	}
	free(p);
}

static void rule_release(struct rule *r)
{
	free(r->id);
	free(r->explain);
	free(r->origin);
	pats_free(r->match, r->n_match);
	pats_free(r->unless, r->n_unless);
	pats_free(r->back, r->n_back);
	pats_free(r->cont, r->n_cont);
	pats_free(r->until, r->n_until);
	pats_free(r->key, r->n_key);
	pats_free(r->refine, r->n_refine);
	free(r->refine_cat);
}

/* --- loading --------------------------------------------------------------------- */
struct parser {
	const char *origin;
	int line;
	struct rule *rules;
	int n;
	size_t alloc;
	struct rule *cur;
	bool has_category, has_key;
	const struct ruleset *existing;
	struct cs_err *err;
};

static int perr(struct parser *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->cur)
		return err_set(p->err, CS_EINVAL, "%s:%d: rule '%s': %s", p->origin, p->line,
			       p->cur->id, msg);
	return err_set(p->err, CS_EINVAL, "%s:%d: %s", p->origin, p->line, msg);
}

static int add_pat(struct parser *p, struct rule_pat **arr, int *n, const char *kw,
		   const char *src)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return perr(p, "bad regular expression in '%s': %s at offset %zu", kw,
			    (const char *)msg, (size_t)eo);
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter when JIT is missing */
	*arr = xrealloc(*arr, sizeof(**arr) * (size_t)(*n + 1));
	struct rule_pat *pat = &(*arr)[(*n)++];
	memset(pat, 0, sizeof(*pat));
	pat->src = xstrdup(src);
	pat->re = re;
	uint32_t caps = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &caps);
	pat->pairs = caps + 1;
	pat_quick_checks(pat);
	return 0;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > RULE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

static bool id_taken(struct parser *p, const char *id)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->rules[i].id, id))
			return true;
	return p->existing && ruleset_find(p->existing, id);
}

/* The rule in progress is complete: check what it must have. */
static int end_rule(struct parser *p)
{
	struct rule *r = p->cur;
	if (!r)
		return 0;
	int save = p->line;
	p->line = r->line;
	int rc = 0;
	if (!p->has_category)
		rc = perr(p, "no 'category'");
	else if (!r->explain)
		rc = perr(p, "no 'explain' line");
	else if (r->n_match == 0)
		rc = perr(p, "no 'match' pattern");
	p->line = save;
	if (!p->has_key)
		r->key_start = true;
	p->cur = NULL;
	return rc;
}

static int parse_int(struct parser *p, const char *kw, const char *v, int lo, int hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || x < lo || x > hi)
		return perr(p, "'%s' needs a number from %d to %d, not '%s'", kw, lo, hi, v);
	*out = (int)x;
	while (*end == ' ' || *end == '\t')
		end++;
	return (int)(end - v);
}

static int directive(struct parser *p, const char *kw, const char *v)
{
	struct rule *r = p->cur;
	if (!strcmp(kw, "rule")) {
		if (end_rule(p) < 0)
			return -1;
		if (!valid_id(v))
			return perr(p, "'%s' is not a rule id (letters, digits, '.', '_', '-'; at most %d)",
				    v, RULE_ID_MAX);
		if (id_taken(p, v))
			return perr(p, "rule '%s' is defined twice", v);
		XGROW(p->rules, p->alloc, (size_t)p->n + 1);
		r = p->cur = &p->rules[p->n++];
		memset(r, 0, sizeof(*r));
		r->id = xstrdup(v);
		r->origin = xstrdup(p->origin);
		r->line = p->line;
		r->category = CAT_UNKNOWN;
		r->before = 2;
		r->after = 1;
		r->max = 40;
		p->has_category = p->has_key = false;
		return 0;
	}
	if (!r)
		return perr(p, "'%s' outside a rule (start one with 'rule ID')", kw);
	if (!*v && strcmp(kw, "weak"))
		return perr(p, "'%s' needs a value", kw);
	if (!strcmp(kw, "category")) {
		int c = rule_category_parse(v);
		if (c < 0)
			return perr(p, "unknown category '%s' (compile, test, lint, parity, crash, "
				       "dependency, config, unknown, cancelled, network, runner, disk, "
				       "oom, timeout, infrastructure, ignore)", v);
		r->category = c;
		p->has_category = true;
	} else if (!strcmp(kw, "severity")) {
		if (!strcmp(v, "error"))
			r->warning = false;
		else if (!strcmp(v, "warning"))
			r->warning = true;
		else
			return perr(p, "severity is 'error' or 'warning', not '%s'", v);
	} else if (!strcmp(kw, "explain")) {
		if (strlen(v) > EXPLAIN_MAX)
			return perr(p, "'explain' is one line of at most %d bytes", EXPLAIN_MAX);
		free(r->explain);
		r->explain = xstrdup(v);
	} else if (!strcmp(kw, "match")) {
		if (add_pat(p, &r->match, &r->n_match, kw, v) < 0)
			return -1;
		rule_pat_find_literals(&r->match[r->n_match - 1]);
	} else if (!strcmp(kw, "unless")) {
		return add_pat(p, &r->unless, &r->n_unless, kw, v);
	} else if (!strcmp(kw, "back")) {
		return add_pat(p, &r->back, &r->n_back, kw, v);
	} else if (!strcmp(kw, "continue")) {
		return add_pat(p, &r->cont, &r->n_cont, kw, v);
	} else if (!strcmp(kw, "until")) {
		return add_pat(p, &r->until, &r->n_until, kw, v);
	} else if (!strcmp(kw, "key")) {
		p->has_key = true;
		if (!strcmp(v, "start"))
			r->key_start = true;
		else if (!strcmp(v, "end"))
			r->key_end = true;
		else
			return add_pat(p, &r->key, &r->n_key, kw, v);
	} else if (!strcmp(kw, "refine")) {
		char cat[32];
		size_t k = strcspn(v, " \t");
		if (k >= sizeof(cat) || !v[k])
			return perr(p, "'refine' needs a category and a pattern");
		memcpy(cat, v, k);
		cat[k] = '\0';
		int c = rule_category_parse(cat);
		if (c < 0 || c == CAT_IGNORE)
			return perr(p, "'refine': unknown category '%s'", cat);
		const char *re = v + k;
		while (*re == ' ' || *re == '\t')
			re++;
		if (add_pat(p, &r->refine, &r->n_refine, kw, re) < 0)
			return -1;
		r->refine_cat = xrealloc(r->refine_cat, sizeof(int) * (size_t)r->n_refine);
		r->refine_cat[r->n_refine - 1] = c;
	} else if (!strcmp(kw, "context")) {
		int a, b;
		int k = parse_int(p, kw, v, 0, 20, &a);
		if (k < 0)
			return -1;
		if (!v[k])
			return perr(p, "'context' needs two numbers: lines before and after");
		if (parse_int(p, kw, v + k, 0, 20, &b) < 0)
			return -1;
		r->before = a;
		r->after = b;
	} else if (!strcmp(kw, "max")) {
		return parse_int(p, kw, v, 1, 1000, &r->max) < 0 ? -1 : 0;
	} else if (!strcmp(kw, "show")) {
		if (!strcmp(v, "head"))
			r->show_tail = false;
		else if (!strcmp(v, "tail"))
			r->show_tail = true;
		else
			return perr(p, "'show' is 'head' or 'tail', not '%s'", v);
	} else if (!strcmp(kw, "weak")) {
		if (*v)
			return perr(p, "'weak' takes no value");
		r->weak = true;
	} else {
		return perr(p, "unknown keyword '%s' (rule, category, severity, explain, match, "
			       "unless, continue, until, back, key, refine, context, max, show, weak)",
			    kw);
	}
	return 0;
}

int rules_conf_read_lines(const char *text, size_t n, bool word_comments, int *line, conf_line_fn fn,
		    void *ctx)
{
	struct buf b = BUF_INIT;
	const char *s = text, *end = text + n;
	int rc = 0;
	while (rc == 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		(*line)++;
		buf_reset(&b);
		buf_add(&b, s, (size_t)(le - s));
		s = nl ? nl + 1 : end;
		char *t = (char *)buf_cstr(&b);
		if (word_comments)
			for (char *h = strchr(t, '#'); h; h = strchr(h + 1, '#'))
				if (h == t || h[-1] == ' ' || h[-1] == '\t') {
					*h = '\0';
					break;
				}
		size_t l = strlen(t);
		while (l > 0 && (t[l - 1] == '\r' || t[l - 1] == ' ' || t[l - 1] == '\t'))
			t[--l] = '\0';
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t || *t == '#')
			continue;
		char *kw = t;
		while (*t && *t != ' ' && *t != '\t')
			t++;
		if (*t) {
			*t++ = '\0';
			while (*t == ' ' || *t == '\t')
				t++;
		}
		rc = fn(ctx, kw, t);
	}
	buf_release(&b);
	return rc;
}

static int rule_line(void *ctx, char *kw, char *rest)
{
	return directive(ctx, kw, rest);
}

/* The most capture pairs of r's patterns: a scanner's one match data is
 * made that big, as big as each pattern's own would be. */
static uint32_t rule_pairs(const struct rule *r)
{
	const struct rule_pat *arr[] = {r->match, r->unless, r->back, r->cont,
					r->until, r->key, r->refine};
	const int n[] = {r->n_match, r->n_unless, r->n_back, r->n_cont,
			 r->n_until, r->n_key, r->n_refine};
	uint32_t m = 1;
	for (size_t a = 0; a < sizeof(n) / sizeof(n[0]); a++)
		for (int i = 0; i < n[a]; i++)
			m = MAX(m, arr[a][i].pairs);
	return m;
}

static void free_rules(struct rule *rules, int n)
{
	for (int i = 0; i < n; i++)
		rule_release(&rules[i]);
	free(rules);
}

int ruleset_add_text(struct ruleset *rs, const char *origin, const char *text, size_t n,
		     struct cs_err *err)
{
	struct parser p = {.origin = origin, .existing = rs, .err = err};
	int rc = 0;
	if (memchr(text, '\0', n)) {
		p.line = 0;
		rc = err_set(err, CS_EINVAL, "%s: a NUL byte: not a rules file", origin);
	}
	if (rc == 0)
		rc = rules_conf_read_lines(text, n, false, &p.line, rule_line, &p);
	if (rc == 0)
		rc = end_rule(&p);
	if (rc < 0) {
		free_rules(p.rules, p.n);
		return -1;
	}
	XGROW(rs->rules, rs->alloc, (size_t)rs->n + (size_t)p.n + 1);
	if (p.n)
		memcpy(rs->rules + rs->n, p.rules, sizeof(*p.rules) * (size_t)p.n);
	for (int i = 0; i < p.n; i++)
		rs->max_pairs = MAX(rs->max_pairs, rule_pairs(&p.rules[i]));
	rs->n += p.n;
	free(p.rules);
	rules_prefilter_build(rs);
	rs->hash = fp_hash(origin, strlen(origin), rs->hash);
	rs->hash = fp_hash(text, n, rs->hash);
	return 0;
}

int ruleset_add_file(struct ruleset *rs, const char *path, struct cs_err *err)
{
	struct buf b = BUF_INIT;
	if (file_read_all(path, RULES_FILE_MAX, &b, err) < 0) {
		buf_release(&b);
		return err_prefix(err, "cannot read the rules file '%s'", path);
	}
	int rc = ruleset_add_text(rs, path, b.data ? b.data : "", b.len, err);
	buf_release(&b);
	return rc;
}

struct ruleset *ruleset_new(void)
{
	struct ruleset *rs = xcalloc(1, sizeof(*rs));
	rs->hash = FP_SEED;
	rs->max_pairs = 1;
	return rs;
}

struct ruleset *ruleset_builtin(struct cs_err *err)
{
	struct ruleset *rs = ruleset_new();
	if (ruleset_add_text(rs, "rules.conf (built in)", rules_conf, strlen(rules_conf), err) < 0) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	free_rules(rs->rules, rs->n);
	rules_prefilter_free(&rs->pf);
	free(rs);
}

int ruleset_count(const struct ruleset *rs)
{
	return rs->n;
}

const struct rule *ruleset_rule(const struct ruleset *rs, int i)
{
	return i >= 0 && i < rs->n ? &rs->rules[i] : NULL;
}

const struct rule *ruleset_find(const struct ruleset *rs, const char *id)
{
	for (int i = 0; i < rs->n; i++)
		if (!strcmp(rs->rules[i].id, id))
			return &rs->rules[i];
	return NULL;
}

uint64_t ruleset_hash(const struct ruleset *rs)
{
	return rs->hash;
}

/* --- the text of a line ---------------------------------------------------------- */
/* `gh run view --log` prints "job<TAB>step<TAB>2024-...Z text": the part
 * after the second tab, when a timestamp starts it. */
static const char *gh_view_rest(const char *s, size_t n, size_t *rest_n)
{
	const char *t1 = memchr(s, '\t', MIN(n, (size_t)512));
	if (!t1)
		return NULL;
	size_t left = n - (size_t)(t1 + 1 - s);
	const char *t2 = memchr(t1 + 1, '\t', MIN(left, (size_t)1024));
	if (!t2)
		return NULL;
	const char *r = t2 + 1;
	size_t rn = n - (size_t)(r - s);
	if (rn >= 28 && logts_parse(r, 28) >= 0) {
		*rest_n = rn;
		return r;
	}
	return NULL;
}

void rules_line_text(const char *raw, size_t n, bool *in_header, bool *skip, int *marker,
		     struct buf *out)
{
	struct logline ll;
	logline_parse_untimed(raw, n, &ll);
	if (!ll.has_ts) {
		size_t rn;
		const char *r = gh_view_rest(raw, n, &rn);
		if (r)
			logline_parse_untimed(r, rn, &ll);
	}
	*skip = false;
	*marker = ll.kind == LINE_ERROR ? 1 : ll.kind == LINE_WARNING ? 2 : 0;
	switch (ll.kind) {
	case LINE_GROUP:
		*in_header = ll.msg_len >= 4 && !memcmp(ll.msg, "Run ", 4);
		*skip = true;
		break;
	case LINE_ENDGROUP:
		*in_header = false;
		*skip = true;
		break;
	case LINE_COMMAND:
	case LINE_DEBUG:
	case LINE_SECTION:
		*skip = true;
		break;
	default:
		if (*in_header)
			*skip = true;
		break;
	}
	if (!memchr(ll.text, 0x1b, ll.text_len) && !memchr(ll.text, (char)0x9b, ll.text_len))
		buf_add(out, ll.text, ll.text_len);
	else
		ansi_strip(ll.text, ll.text_len, out);
	buf_cstr(out);
}

/* --- scanning -------------------------------------------------------------------- */
struct ring_line {
	uint64_t lineno;
	bool usable;
	size_t len;
	char text[RSCAN_KEY_MAX];
};

struct key_line {
	uint64_t lineno;
	size_t len;
	char text[RSCAN_KEY_MAX];
};

struct rscan {
	const struct ruleset *rs;
	rule_hit_cb cb;
	void *ctx;
	bool in_header;
	uint64_t header_lines;
	struct buf text;
	struct ring_line ring[RSCAN_RING];
	uint64_t last_end; /* last line of the previous finding */
	/* the open finding */
	bool open;
	const struct rule *r;
	uint64_t first, last, trigger, last_nonblank;
	int marker;
	struct key_line title;      /* the trigger line */
	struct key_line last_text;  /* the latest line of the extent */
	struct key_line kfirst[2];  /* the first two and last two lines */
	struct key_line klast[2];   /* matching `key` patterns */
	int n_kfirst, n_klast_seen;
	int refined;                /* category from a `refine`, or -1 */
	const struct rule *infra;   /* infrastructure rule matching a later line */
	/* the prefilter's verdict on the current line: pattern id -> gen, rule
	 * index -> gen, and the rules that may match in rule order */
	unsigned *stamp, *rule_stamp;
	unsigned gen;
	int *cand;
	int n_cand;
	/* this scanner's: the ruleset's compiled patterns are shared by the
	 * scanners of every thread, match data cannot be */
	pcre2_match_data *md;
	uint32_t match_opts;
};

struct rscan *rscan_new(const struct ruleset *rs, rule_hit_cb cb, void *ctx)
{
	struct rscan *s = xcalloc(1, sizeof(*s));
	s->rs = rs;
	s->cb = cb;
	s->ctx = ctx;
	s->stamp = xcalloc((size_t)MAX(rs->pf.n_pats, 1), sizeof(unsigned));
	s->rule_stamp = xcalloc((size_t)MAX(rs->n, 1), sizeof(unsigned));
	s->cand = xcalloc((size_t)MAX(rs->n, 1) * 2, sizeof(int));
	s->md = pcre2_match_data_create(rs->max_pairs, NULL);
	if (!s->md)
		die("out of memory");
	s->match_opts = rs->no_jit ? PCRE2_NO_JIT : 0;
	return s;
}

void rscan_free(struct rscan *s)
{
	if (!s)
		return;
	buf_release(&s->text);
	free(s->stamp);
	free(s->rule_stamp);
	free(s->cand);
	pcre2_match_data_free(s->md);
	free(s);
}

/* The patterns whose literals end in the DFA state at offset off. */
static void prefilter_out(struct rscan *s, const struct prefilter *pf, size_t off)
{
	size_t st = off / (size_t)pf->n_classes;
	for (int o = pf->out_start[st], e = pf->out_start[st + 1]; o < e; o++) {
		int id = pf->out_ids[o];
		s->stamp[id] = s->gen;
		int r = pf->pat_rule[id];
		if (s->rule_stamp[r] != s->gen) {
			s->rule_stamp[r] = s->gen;
			s->cand[s->n_cand++] = r;
		}
	}
}

#define PF_STEP(off, byte)                                         \
	do {                                                       \
		(off) = delta[(off) + pf->cls[(byte)]];            \
		if ((off) >= out_min)                              \
			prefilter_out(s, pf, (off));               \
	} while (0)

/* Mark the patterns whose literals occur in the line. Each byte's step
 * waits for the one before it (a table load), so a long line is read as two
 * halves side by side: the second from the root max_lit - 1 bytes before
 * its start, so a literal ending in it is seen whole by one of the two;
 * one seen by both is marked twice, which is the same. */
static void prefilter_scan(struct rscan *s, const char *t, size_t n)
{
	const struct prefilter *pf = &s->rs->pf;
	if (++s->gen == 0) { /* wrapped: old stamps could look current */
		memset(s->stamp, 0, sizeof(unsigned) * (size_t)MAX(pf->n_pats, 1));
		memset(s->rule_stamp, 0, sizeof(unsigned) * (size_t)MAX(s->rs->n, 1));
		s->gen = 1;
	}
	s->n_cand = 0;
	if (!pf->delta)
		return;
	const unsigned char *b = (const unsigned char *)t;
	const unsigned *delta = pf->delta;
	const size_t out_min = pf->out_min;
	size_t ov = pf->max_lit > 0 ? (size_t)pf->max_lit - 1 : 0;
	size_t i = 0;
	size_t off = 0; /* size_t: no widening of each step's offset */
	if (n >= 2 * ov + 16) {
		/* halves [0, mid) and [mid - ov, n) of equal length */
		size_t mid = (n + ov) / 2, j = mid - ov;
		size_t off2 = 0;
		/* one pointer per half and one bound: fewer registers to keep */
		const unsigned char *p = b, *q = b + j, *pe = b + mid;
		for (; p < pe; p++, q++) {
			PF_STEP(off, *p);
			PF_STEP(off2, *q);
		}
		for (j = (size_t)(q - b); j < n; j++)
			PF_STEP(off2, b[j]);
		i = n;
	}
	for (; i < n; i++)
		PF_STEP(off, b[i]);
	/* in rule order, with the rules that are always tried */
	for (int k = 0; k < pf->n_always; k++) {
		int r = pf->always[k];
		if (s->rule_stamp[r] != s->gen) {
			s->rule_stamp[r] = s->gen;
			s->cand[s->n_cand++] = r;
		}
	}
	for (int k = 1; k < s->n_cand; k++) {
		int v = s->cand[k], m = k;
		while (m > 0 && s->cand[m - 1] > v) {
			s->cand[m] = s->cand[m - 1];
			m--;
		}
		s->cand[m] = v;
	}
}

static bool any_match(struct rscan *s, const struct rule_pat *p, int n, const char *text,
		      size_t len)
{
	for (int i = 0; i < n; i++)
		if (pat_match(&p[i], s->md, s->match_opts, text, len))
			return true;
	return false;
}

static bool prefiltered(const struct rscan *s)
{
	return !s->rs->no_prefilter && s->rs->pf.delta;
}

/* Does one of r's `match` patterns match the current line? */
static bool match_any(struct rscan *s, const struct rule *r, const char *t, size_t n)
{
	for (int i = 0; i < r->n_match; i++) {
		const struct rule_pat *p = &r->match[i];
		if (p->n_lits && s->stamp[p->id] != s->gen && prefiltered(s))
			continue;
		if (pat_match(p, s->md, s->match_opts, t, n))
			return true;
	}
	return false;
}

static void keep(struct key_line *k, uint64_t lineno, const char *t, size_t n)
{
	n = utf8_complete_prefix(t, MIN(n, sizeof(k->text) - 1));
	memcpy(k->text, t, n);
	k->text[n] = '\0';
	k->len = n;
	k->lineno = lineno;
}

static bool blank(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)t[i]))
			return false;
	return true;
}

static void key_line_seen(struct rscan *s, uint64_t lineno, const char *t, size_t n)
{
	const struct rule *r = s->r;
	if (!r->n_key || !any_match(s, r->key, r->n_key, t, n))
		return;
	if (s->n_kfirst < 2) {
		keep(&s->kfirst[s->n_kfirst++], lineno, t, n);
		return;
	}
	keep(&s->klast[s->n_klast_seen % 2], lineno, t, n);
	s->n_klast_seen++;
}

static const struct rule *first_match(struct rscan *s, const char *t, size_t n);

/* The first infrastructure rule matching the text, or NULL. */
/* The rules to try on the current line, in order: the prefilter's list, or
 * every rule when it is off. */
static int n_tries(const struct rscan *s)
{
	return prefiltered(s) ? s->n_cand : s->rs->n;
}

static const struct rule *try_rule(const struct rscan *s, int i)
{
	return &s->rs->rules[prefiltered(s) ? s->cand[i] : i];
}

static const struct rule *infra_match(struct rscan *s, const char *t, size_t n)
{
	for (int i = 0; i < n_tries(s); i++) {
		const struct rule *r = try_rule(s, i);
		if (rule_category_is_infra(r->category) && !r->warning && !r->weak &&
		    match_any(s, r, t, n) &&
		    !(r->n_unless && any_match(s, r->unless, r->n_unless, t, n)))
			return r;
	}
	return NULL;
}

/* A later line of the finding may say what it really is (see rules.h). */
static void refine(struct rscan *s, const char *t, size_t n)
{
	const struct rule *r = s->r;
	if (s->refined >= 0)
		return;
	for (int i = 0; i < r->n_refine; i++) {
		if (pat_match(&r->refine[i], s->md, s->match_opts, t, n)) {
			s->refined = r->refine_cat[i];
			return;
		}
	}
	if (s->infra || rule_category_is_infra(r->category))
		return;
	s->infra = infra_match(s, t, n);
}

static int key_cmp(const void *a, const void *b)
{
	const struct key_line *x = *(const struct key_line *const *)a;
	const struct key_line *y = *(const struct key_line *const *)b;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int emit(struct rscan *s)
{
	const struct rule *r = s->r;
	s->open = false;
	struct rule_hit h = {.rule = r, .first = s->first, .trigger = s->trigger,
			     .marker = s->marker, .category = r->category};
	if (s->refined >= 0) {
		h.category = s->refined;
	} else if (s->infra) {
		h.category = s->infra->category;
		h.refined_by = s->infra;
	}
	h.last = s->last_nonblank >= s->trigger ? s->last_nonblank : s->trigger;
	if (h.last > s->last)
		h.last = s->last;
	/* keys in line order: the trigger, the `key` lines, the last line */
	const struct key_line *ks[8];
	int nk = 0;
	if (r->key_start)
		ks[nk++] = &s->title;
	for (int i = 0; i < s->n_kfirst; i++)
		ks[nk++] = &s->kfirst[i];
	int nl = MIN(s->n_klast_seen, 2);
	for (int i = 0; i < nl; i++)
		ks[nk++] = &s->klast[(s->n_klast_seen - nl + i) % 2];
	if (r->key_end && s->last_text.lineno == h.last)
		ks[nk++] = &s->last_text;
	qsort(ks, (size_t)nk, sizeof(ks[0]), key_cmp);
	int m = 0;
	for (int i = 0; i < nk; i++)
		if (m == 0 || ks[m - 1]->lineno != ks[i]->lineno)
			ks[m++] = ks[i];
	if (m > RSCAN_KEYS) { /* the first two and the last two */
		ks[2] = ks[m - 2];
		ks[3] = ks[m - 1];
		m = RSCAN_KEYS;
	}
	if (m == 0) /* `key end` on a trimmed finding, or no `key` line matched */
		ks[m++] = &s->title;
	for (int i = 0; i < m; i++) {
		h.keys[i] = ks[i]->text;
		h.key_lens[i] = ks[i]->len;
	}
	h.n_keys = m;
	h.title = s->title.text;
	h.title_len = s->title.len;
	/* `key end`: the last line says what happened ("OSError: ..." under
	 * "Traceback (most recent call last):"), so it is the headline too */
	if (r->key_end && s->last_text.lineno == h.last && s->last_text.len) {
		h.title = s->last_text.text;
		h.title_len = s->last_text.len;
	}
	s->last_end = h.last;
	return s->cb ? s->cb(s->ctx, &h) : 0;
}

/* Extend the open finding with this line if it belongs to it; returns 1
 * when it did (the line is taken), 0 when the finding ended before it. */
static int extend(struct rscan *s, uint64_t lineno, const char *t, size_t n, bool *closed_after)
{
	const struct rule *r = s->r;
	*closed_after = false;
	if (lineno - s->first + 1 > (uint64_t)r->max)
		return 0;
	bool take = false;
	if (r->n_cont && any_match(s, r->cont, r->n_cont, t, n)) {
		take = true;
	} else if (r->n_until && any_match(s, r->until, r->n_until, t, n)) {
		take = true;
		*closed_after = true;
	} else if (!r->n_cont && r->n_until) {
		take = true; /* until-only: everything up to the end line */
	}
	if (!take)
		return 0;
	s->last = lineno;
	if (!blank(t, n)) {
		s->last_nonblank = lineno;
		keep(&s->last_text, lineno, t, n);
	}
	key_line_seen(s, lineno, t, n);
	refine(s, t, n);
	return 1;
}

static const struct rule *first_match(struct rscan *s, const char *t, size_t n)
{
	for (int i = 0; i < n_tries(s); i++) {
		const struct rule *r = try_rule(s, i);
		if (match_any(s, r, t, n) &&
		    !(r->n_unless && any_match(s, r->unless, r->n_unless, t, n)))
			return r;
	}
	return NULL;
}

static void ring_push(struct rscan *s, uint64_t lineno, bool usable, const char *t, size_t n)
{
	struct ring_line *rl = &s->ring[lineno % RSCAN_RING];
	rl->lineno = lineno;
	rl->usable = usable;
	n = utf8_complete_prefix(t, MIN(n, sizeof(rl->text)));
	memcpy(rl->text, t, n);
	rl->len = n;
}

static void start(struct rscan *s, const struct rule *r, uint64_t lineno, int marker,
		  const char *t, size_t n)
{
	s->open = true;
	s->r = r;
	s->trigger = s->last = s->last_nonblank = lineno;
	s->first = lineno;
	s->marker = marker;
	s->n_kfirst = s->n_klast_seen = 0;
	s->refined = -1;
	s->infra = NULL;
	for (int i = 0; i < r->n_refine && s->refined < 0; i++)
		if (pat_match(&r->refine[i], s->md, s->match_opts, t, n))
			s->refined = r->refine_cat[i];
	if (s->refined < 0 && !rule_category_is_infra(r->category))
		s->infra = infra_match(s, t, n);
	keep(&s->title, lineno, t, n);
	keep(&s->last_text, lineno, t, n);
	if (r->n_key && !r->key_start)
		key_line_seen(s, lineno, t, n);
	if (r->n_back) {
		for (uint64_t k = 1; k < RSCAN_RING && k < lineno && k < (uint64_t)r->max; k++) {
			uint64_t l = lineno - k;
			const struct ring_line *rl = &s->ring[l % RSCAN_RING];
			if (rl->lineno != l || !rl->usable || l <= s->last_end ||
			    !any_match(s, r->back, r->n_back, rl->text, rl->len))
				break;
			s->first = l;
		}
	}
}

int rscan_line(struct rscan *s, uint64_t lineno, const char *raw, size_t n)
{
	bool skip;
	int marker;
	buf_reset(&s->text);
	bool was_header = s->in_header;
	rules_line_text(raw, n, &s->in_header, &skip, &marker, &s->text);
	if (s->in_header) {
		if (!was_header)
			s->header_lines = 0;
		if (++s->header_lines > HEADER_MAX_LINES) {
			s->in_header = false;
			skip = false;
		}
	}
	const char *t = s->text.data ? s->text.data : "";
	size_t tn = MIN(s->text.len, (size_t)SPLIT_HEAD_MAX + RSCAN_TEXT_MAX);
	int rc;
	if (!skip)
		prefilter_scan(s, t, tn);
	if (s->open) {
		bool closed_after = false;
		if (!skip && extend(s, lineno, t, tn, &closed_after)) {
			ring_push(s, lineno, !skip, t, tn);
			return closed_after ? emit(s) : 0;
		}
		if ((rc = emit(s)) != 0)
			return rc;
	}
	ring_push(s, lineno, !skip, t, tn);
	if (skip)
		return 0;
	const struct rule *r = first_match(s, t, tn);
	if (!r || r->category == CAT_IGNORE)
		return 0;
	start(s, r, lineno, marker, t, tn);
	if (!r->n_cont && !r->n_until)
		return emit(s);
	return 0;
}

int rscan_finish(struct rscan *s)
{
	return s->open ? emit(s) : 0;
}
