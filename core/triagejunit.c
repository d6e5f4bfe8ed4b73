/* triagejunit.c - triage findings that are not log lines (see triage.h): a
 * job's conclusion or missing log said as a finding, and the failed JUnit
 * tests of a run attached to the jobs whose logs name them. Shares the
 * candidate model with triage.c through triageint.h. */
#include "triage.h"
#include "triageint.h"
#include "storesql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- findings that are not log lines ------------------------------------------------------ */
static void synth_add(struct cand *c, const char *line)
{
	if (c->n_synth >= SYNTH_MAX)
		return;
	struct buf b = BUF_INIT;
	if (c->synth) {
		buf_adds(&b, c->synth);
		buf_addc(&b, '\n');
		free(c->synth);
	}
	/* one line each: a message's own newlines would break the excerpt */
	size_t n = strlen(line);
	char *cl = triage_capped(line, n, TRIAGE_EXCERPT_LINE_MAX);
	for (char *p = cl; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	buf_adds(&b, cl);
	free(cl);
	c->synth = buf_detach(&b, NULL);
	c->n_synth++;
}

static void set_fp_from_text(struct cand *c, const char *key)
{
	const char *keys[1] = {key};
	size_t lens[1] = {strlen(key)};
	fp_fingerprint(rule_category_name(c->category), keys, lens, 1, c->fp);
	free(c->key);
	c->key = triage_capped(key, strlen(key), KEY_TEXT_MAX);
}

void triage_add_conclusion(struct job_tri *j)
{
	const char *cn = j->conclusion;
	int cat;
	const char *id, *explain;
	if (!strcmp(cn, "timed_out")) {
		cat = CAT_TIMEOUT;
		id = "job-timed-out";
		explain = "the job ran longer than its timeout-minutes and was stopped";
	} else if (!strcmp(cn, "startup_failure")) {
		cat = CAT_CONFIG;
		id = "job-startup-failure";
		explain = "the job could not start: often an invalid workflow file or a missing permission";
	} else if (!strcmp(cn, "cancelled")) {
		cat = CAT_CANCELLED;
		id = "job-cancelled";
		explain = "the job was cancelled, often because another job of the run failed first";
	} else {
		return;
	}
	struct cand *c = triage_new_cand(j, CLS_CONCLUSION);
	if (!c)
		return;
	c->cls = CLS_CONCLUSION;
	c->rule_id = id;
	c->explain = explain;
	c->category = cat;
	c->source = "conclusion";
	char line[200];
	snprintf(line, sizeof(line), "job conclusion: %s", cn);
	synth_add(c, line);
	c->title = xstrdup(line);
	/* the job's identity is the failure here: one fingerprint per job name */
	char key[600];
	snprintf(key, sizeof(key), "conclusion:%s job:%.500s", cn, j->name);
	set_fp_from_text(c, key);
}

void triage_add_no_log(struct job_tri *j)
{
	struct cand *c = triage_new_cand(j, CLS_FALLBACK);
	if (!c)
		return;
	c->cls = CLS_FALLBACK;
	c->rule_id = "no-log";
	c->explain = "the job failed and no log of it is stored: fetch it again, or read it on GitHub";
	c->category = CAT_UNKNOWN;
	c->source = "no-log";
	char line[300];
	snprintf(line, sizeof(line), "the job failed (%s) and its log is %s", j->conclusion,
		 j->log_state && !strcmp(j->log_state, "expired") ? "expired" : "not stored");
	synth_add(c, line);
	c->title = xstrdup(line);
	char key[600];
	snprintf(key, sizeof(key), "no-log job:%.500s", j->name);
	set_fp_from_text(c, key);
}

/* --- JUnit ---------------------------------------------------------------------------- */
void triage_junit_free(struct junit_fail *t, int n)
{
	for (int i = 0; i < n; i++) {
		free(t[i].classname);
		free(t[i].name);
		free(t[i].file);
		free(t[i].message);
		free(t[i].details);
		free(t[i].artifact);
	}
	free(t);
}

int triage_load_junit(struct store *st, int64_t run_row_id, struct junit_fail **out, int *n,
	       struct cs_err *err)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	/* most runs (a log given alone) have no test results: a probe of the
	 * index says so without the temporary tables of the query below */
	if (store_cached(st, "SELECT EXISTS (SELECT 1 FROM test_results WHERE run_id = ?1)", &s) !=
	    SQLITE_OK)
		return store_err(st, err, "cannot read the run's test results");
	sqlite3_bind_int64(s, 1, run_row_id);
	int any = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	if (any < 0)
		store_err(st, err, "cannot read the run's test results");
	store_cached_done(s);
	if (any < 0)
		return -1;
	if (!any) {
		*out = xcalloc(TRIAGE_MAX_JUNIT, sizeof(**out));
		return 0;
	}
	if (store_cached(st,
			 "SELECT t.classname, t.name, t.file, t.line, t.message, t.details, "
			 "a.name FROM test_results t JOIN artifact_files f ON f.id = t.file_id "
			 "JOIN artifacts a ON a.id = f.artifact_id WHERE t.run_id = ? AND "
			 "t.outcome IN ('failed', 'error') ORDER BY t.id LIMIT ?",
			 &s) != SQLITE_OK)
		return store_err(st, err, "cannot read the run's test results");
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_int(s, 2, TRIAGE_MAX_JUNIT);
	int rc;
	*out = xcalloc(TRIAGE_MAX_JUNIT, sizeof(**out));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < TRIAGE_MAX_JUNIT) {
		struct junit_fail *t = &(*out)[(*n)++];
		t->classname = sql_col_str(s, 0);
		t->name = sql_col_str(s, 1);
		t->file = sql_col_str(s, 2);
		t->line = sqlite3_column_int64(s, 3);
		t->message = sql_col_str(s, 4);
		t->details = sql_col_str(s, 5);
		t->artifact = sql_col_str(s, 6);
		if (!t->name)
			t->name = xstrdup("?");
	}
	store_cached_done(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_err(st, err, "cannot read the run's test results");
	return 0;
}

static char *test_label(const struct junit_fail *t)
{
	if (t->classname && *t->classname)
		return xasprintf("%s.%s", t->classname, t->name);
	return xstrdup(t->name);
}

/* Words of a name, lower case, without the ones every test artifact has. */
static int name_overlap(const char *a, const char *b)
{
	static const char *const common[] = {"test", "tests", "junit", "report", "reports",
					     "results", "result", "xml", "unit", "ci"};
	char wa[16][32];
	int na = 0, score = 0;
	for (const char *p = a; *p && na < 16;) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		int k = 0;
		while (*p && isalnum((unsigned char)*p)) {
			if (k < 31)
				wa[na][k++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (!k)
			break;
		wa[na][k] = '\0';
		bool skip = false;
		for (size_t i = 0; i < ARRAY_SIZE(common); i++)
			skip |= !strcmp(wa[na], common[i]);
		if (!skip)
			na++;
	}
	for (const char *p = b; *p;) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		char w[32];
		int k = 0;
		while (*p && isalnum((unsigned char)*p)) {
			if (k < 31)
				w[k++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (!k)
			break;
		w[k] = '\0';
		for (int i = 0; i < na; i++)
			if (!strcmp(w, wa[i]))
				score++;
	}
	return score;
}

void triage_attach_junit(struct job_tri *jobs, int n_jobs, struct junit_fail *t, int n_t)
{
	for (int k = 0; k < n_t; k++) {
		struct junit_fail *tf = &t[k];
		size_t nl = strlen(tf->name);
		/* a log finding that names the test is that test's failure */
		for (int a = 0; a < n_jobs && !tf->attached && nl >= 4; a++) {
			for (int i = 0; i < jobs[a].n; i++) {
				struct cand *c = &jobs[a].c[i];
				if (!c->trigger || c->cls >= CLS_WARNING)
					continue;
				if ((c->title && strstr(c->title, tf->name)) ||
				    (c->key && strstr(c->key, tf->name))) {
					if (!c->test_name)
						c->test_name = test_label(tf);
					tf->attached = true;
					break;
				}
			}
		}
		if (tf->attached || n_jobs == 0)
			continue;
		int best = 0, best_score = -1;
		for (int a = 0; a < n_jobs; a++) {
			int sc = name_overlap(tf->artifact ? tf->artifact : "", jobs[a].name);
			if (sc > best_score) {
				best = a;
				best_score = sc;
			}
		}
		struct job_tri *j = &jobs[best];
		struct cand *c = triage_new_cand(j, CLS_JUNIT);
		if (!c)
			continue;
		c->cls = CLS_JUNIT;
		c->rule_id = "junit";
		c->explain = "a test failed (from the run's JUnit report)";
		c->category = CAT_TEST;
		c->source = "junit";
		c->test_name = test_label(tf);
		char *l = xasprintf("FAILED %s", c->test_name);
		synth_add(c, l);
		free(l);
		if (tf->file) {
			l = tf->line > 0 ? xasprintf("  at %s:%lld", tf->file, (long long)tf->line)
					 : xasprintf("  in %s", tf->file);
			synth_add(c, l);
			free(l);
		}
		const char *msg = tf->message && *tf->message ? tf->message : NULL;
		size_t ml = msg ? strcspn(msg, "\r\n") : 0;
		char *m1 = msg ? xstrndup(msg, ml) : NULL;
		if (m1)
			synth_add(c, m1);
		/* the first lines of the details (a stack trace, an assertion) */
		const char *d = tf->details;
		for (int i = 0; d && *d && i < 3; i++) {
			size_t dl = strcspn(d, "\r\n");
			if (dl) {
				char *x = xstrndup(d, dl);
				if (!m1 || strcmp(x, m1))
					synth_add(c, x);
				free(x);
			} else {
				i--;
			}
			d += dl;
			while (*d == '\r' || *d == '\n')
				d++;
		}
		c->title = m1 ? xasprintf("%s: %s", c->test_name, m1) : xstrdup(c->test_name);
		char *key = xasprintf("junit %s\n%s", c->test_name, m1 ? m1 : "");
		set_fp_from_text(c, key);
		free(key);
		free(m1);
		tf->attached = true;
	}
}
