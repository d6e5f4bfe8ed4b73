/* ruletest.c - testing triage rules against the index: in how many failed
 * and successful runs each rule finds something (see triage.h,
 * triage_test_rules). */
#include "triage.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logstore.h"

/* --- testing rules --------------------------------------------------------------------------- */
struct rt_ctx {
	struct rule_test *t;
	const struct ruleset *rs;
	int64_t run;
	int kind; /* 1 failed, 2 successful */
	struct rscan *scan;
	struct rule_test_totals *tot;
	volatile sig_atomic_t *interrupted;
	struct cs_err *err;
};

static int rt_hit(void *ctx, const struct rule_hit *h)
{
	struct rt_ctx *c = ctx;
	int i = (int)(h->rule - ruleset_rule(c->rs, 0));
	if (i < 0 || i >= ruleset_count(c->rs))
		return 0;
	struct rule_test *t = &c->t[i];
	t->hits++;
	if (t->last_run != c->run) {
		t->last_run = c->run;
		if (c->kind == 1)
			t->failed_runs++;
		else
			t->successful_runs++;
	}
	return 0;
}

static int rt_line(void *ctx, const struct split_line *l)
{
	struct rt_ctx *c = ctx;
	if ((l->lineno & 0xffff) == 0 && c->interrupted && *c->interrupted)
		return err_set(c->err, CS_EINTR, "interrupted");
	c->tot->lines++;
	return rscan_line(c->scan, l->lineno, l->head, l->head_len);
}

int triage_test_rules(struct store *st, const struct ruleset *rs, struct rule_test **out,
		      struct rule_test_totals *tot, volatile sig_atomic_t *interrupted,
		      struct cs_err *err)
{
	memset(tot, 0, sizeof(*tot));
	int nr = ruleset_count(rs);
	struct rule_test *t = xcalloc((size_t)MAX(nr, 1), sizeof(*t));
	for (int i = 0; i < nr; i++)
		t[i].rule = ruleset_rule(rs, i);
	*out = t;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.id, r.conclusion, l.id FROM logs l JOIN jobs j ON "
			       "j.id = l.job_id JOIN runs r ON r.id = j.run_id WHERE r.conclusion = "
			       "'success' OR r.conclusion IN " CI_FAILED_SQL " ORDER BY r.id, j.ordinal",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list the logs");
	/* the list first: reading a log while this statement runs is fine, but
	 * a short list keeps the read transaction simple */
	struct item {
		int64_t run, log;
		int kind;
	} *items = NULL;
	int n = 0, rc;
	size_t alloc = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(items, alloc, (size_t)n + 1);
		const char *cn = (const char *)sqlite3_column_text(s, 1);
		items[n].run = sqlite3_column_int64(s, 0);
		items[n].kind = cn && !strcmp(cn, "success") ? 2 : 1;
		items[n].log = sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(items);
		return store_err(st, err, "cannot list the logs");
	}
	int ret = 0;
	int64_t last_run = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		if (items[i].run != last_run) {
			last_run = items[i].run;
			if (items[i].kind == 1)
				tot->failed_runs++;
			else
				tot->successful_runs++;
		}
		struct logr *r = logr_open(st, items[i].log, err);
		if (!r) {
			ret = -1;
			break;
		}
		struct rt_ctx c = {.t = t, .rs = rs, .run = items[i].run, .kind = items[i].kind,
				   .tot = tot, .interrupted = interrupted, .err = err};
		c.scan = rscan_new(rs, rt_hit, &c);
		uint64_t nl = logr_line_count(r);
		ret = nl ? logr_scan(r, 1, nl, rt_line, &c, err) : 0;
		if (ret == 0)
			ret = rscan_finish(c.scan);
		rscan_free(c.scan);
		logr_close(r);
		tot->logs++;
	}
	free(items);
	return ret ? -1 : 0;
}

bool rule_test_too_broad(const struct rule_test *t, const struct rule_test_totals *tot)
{
	return !t->rule->warning && t->rule->category != CAT_IGNORE && tot->successful_runs > 0 &&
	       (double)t->successful_runs > TRIAGE_TOO_BROAD * (double)tot->successful_runs;
}
