/* triageread.c - reading triage results back from the index: a job's
 * findings and summary, triage states, the failed-run list and the
 * fingerprint groups the triage view and `ciscope triage` show (see
 * triage.h). */
#include "triage.h"
#include "storesql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- reading findings --------------------------------------------------------------------- */
static void parse_excerpt(const char *ex, struct triage_finding *f)
{
	f->excerpt = NULL;
	f->n_excerpt = 0;
	if (!ex)
		return;
	size_t alloc = 0;
	const char *p = ex;
	while (*p) {
		size_t l = strcspn(p, "\n");
		const char *tab = memchr(p, '\t', l);
		XGROW(f->excerpt, alloc, (size_t)f->n_excerpt + 1);
		struct triage_line *tl = &f->excerpt[f->n_excerpt++];
		tl->line = tab ? strtoll(p, NULL, 10) : 0;
		tl->text = tab ? xstrndup(tab + 1, l - (size_t)(tab + 1 - p)) : xstrndup(p, l);
		p += l;
		if (*p)
			p++;
	}
}

/* The columns of a finding row, as read by finding_row(). */
#define FINDING_COLUMNS                                                                      \
	"f.id, f.job_id, j.provider_id, j.name, j.run_id, f.rank, f.shown, "                 \
	"coalesce(f.step_number, 0), st.name, coalesce(f.line, 0), coalesce(f.end_line, 0), " \
	"f.source, f.rule, f.category, f.severity, f.weak, f.title, f.explain, f.test_name, " \
	"f.repeats, f.fingerprint, f.key_text, f.excerpt"
#define FINDING_FROM                                                                         \
	"triage_findings f JOIN jobs j ON j.id = f.job_id LEFT JOIN steps st ON "            \
	"st.job_id = f.job_id AND st.number = f.step_number"

static void finding_row(sqlite3_stmt *s, struct triage_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(s, 0);
	f->job_row_id = sqlite3_column_int64(s, 1);
	f->job_provider_id = sqlite3_column_int64(s, 2);
	f->job_name = sql_col_str(s, 3);
	f->run_row_id = sqlite3_column_int64(s, 4);
	f->rank = sqlite3_column_int(s, 5);
	f->shown = sqlite3_column_int(s, 6);
	f->step_number = sqlite3_column_int(s, 7);
	f->step_name = sql_col_str(s, 8);
	f->line = sqlite3_column_int64(s, 9);
	f->end_line = sqlite3_column_int64(s, 10);
	f->source = sql_col_str(s, 11);
	f->rule = sql_col_str(s, 12);
	f->category = sql_col_str(s, 13);
	f->severity = sql_col_str(s, 14);
	f->weak = sqlite3_column_int(s, 15);
	f->title = sql_col_str(s, 16);
	f->explain = sql_col_str(s, 17);
	f->test_name = sql_col_str(s, 18);
	f->repeats = sqlite3_column_int(s, 19);
	const unsigned char *fp = sqlite3_column_text(s, 20);
	snprintf(f->fingerprint, sizeof(f->fingerprint), "%s", fp ? (const char *)fp : "");
	f->key_text = sql_col_str(s, 21);
	parse_excerpt((const char *)sqlite3_column_text(s, 22), f);
	int cat = rule_category_parse(f->category ? f->category : "unknown");
	f->decision = rule_category_decision(cat < 0 ? CAT_UNKNOWN : cat);
	f->fallback = f->source && !strcmp(f->source, "fallback");
}

/* Step s (bound by the caller) to its end, reading findings. */
static int finding_rows(struct store *st, sqlite3_stmt *s, struct triage_finding **out, int *n,
			struct cs_err *err)
{
	size_t alloc = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*out, alloc, (size_t)*n + 1);
		finding_row(s, &(*out)[(*n)++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		triage_findings_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_err(st, err, "cannot list triage findings");
	}
	return 0;
}

int triage_job_findings(struct store *st, int64_t job_row_id, bool shown_only,
			struct triage_finding **out, int *n, struct cs_err *err)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " FINDING_COLUMNS " FROM " FINDING_FROM
			       " WHERE f.job_id = ?1 AND (?2 = 0 OR f.shown) ORDER BY f.rank",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list triage findings");
	sqlite3_bind_int64(s, 1, job_row_id);
	sqlite3_bind_int(s, 2, shown_only);
	return finding_rows(st, s, out, n, err);
}

void triage_findings_free(struct triage_finding *f, int n)
{
	for (int i = 0; i < n; i++) {
		free(f[i].job_name);
		free(f[i].step_name);
		free(f[i].source);
		free(f[i].rule);
		free(f[i].category);
		free(f[i].severity);
		free(f[i].title);
		free(f[i].explain);
		free(f[i].test_name);
		free(f[i].key_text);
		for (int k = 0; k < f[i].n_excerpt; k++)
			free(f[i].excerpt[k].text);
		free(f[i].excerpt);
	}
	free(f);
}

int triage_job_info(struct store *st, int64_t job_row_id, struct triage_job_info *out,
		    struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT version, n_findings, n_lines, n_dropped, fallback FROM "
			       "triage_jobs WHERE job_id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read the triage of a job");
	sqlite3_bind_int64(s, 1, job_row_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->triaged = true;
		const unsigned char *v = sqlite3_column_text(s, 0);
		snprintf(out->version, sizeof(out->version), "%s", v ? (const char *)v : "");
		out->n_findings = sqlite3_column_int(s, 1);
		out->n_lines = sqlite3_column_int(s, 2);
		out->n_dropped = sqlite3_column_int(s, 3);
		out->fallback = sqlite3_column_int(s, 4);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot read the triage of a job");
	return 0;
}

/* --- states ---------------------------------------------------------------------------------- */
/* "new" named both this state and "first seen here"; the state is now
 * called untriaged. The index keeps 'new' (its CHECK constraint, and older
 * indexes), and "new" is still accepted as input. */
const char *const triage_state_names[] = {"untriaged", "acknowledged", "known-flaky", "fixed",
					  NULL};

bool triage_state_valid(const char *state)
{
	if (!strcmp(state, "new"))
		return true;
	for (int i = 0; triage_state_names[i]; i++)
		if (!strcmp(state, triage_state_names[i]))
			return true;
	return false;
}

const char *triage_state_word(const char *state)
{
	return !state || !strcmp(state, "new") ? "untriaged" : state;
}

int triage_resolve_fingerprint(struct store *st, const char *prefix, char out[FP_HEX_LEN + 1],
			       struct cs_err *err)
{
	if (!fp_is_prefix(prefix))
		return err_set(err, CS_EUSAGE,
			       "'%s' is not a fingerprint (4 to 16 lower-case hex digits)", prefix);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT fingerprint FROM (SELECT fingerprint FROM triage_findings "
			       "UNION SELECT fingerprint FROM triage_states) WHERE "
			       "substr(fingerprint, 1, length(?1)) = ?1 LIMIT 2",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look up the fingerprint");
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_TRANSIENT);
	int found = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(out, FP_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot look up the fingerprint");
	if (found == 0)
		return err_set(err, CS_ENOTFOUND,
			       "no finding has fingerprint '%s' (see ciscope triage)", prefix);
	if (found > 1)
		return err_set(err, CS_EUSAGE, "fingerprint '%s' is ambiguous: give more digits",
			       prefix);
	return 0;
}

int triage_set_state(struct store *st, const char *fingerprint, const char *state,
		     const char *note, const char *who, char out[FP_HEX_LEN + 1],
		     struct cs_err *err)
{
	if (!triage_state_valid(state))
		return err_set(err, CS_EUSAGE,
			       "'%s' is not a triage state (untriaged, acknowledged, known-flaky, "
			       "fixed)",
			       state);
	if (!strcmp(state, "untriaged"))
		state = "new";
	if (triage_resolve_fingerprint(st, fingerprint, out, err) < 0)
		return -1;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO triage_states (fingerprint, state, note, set_by, set_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (fingerprint) DO UPDATE SET "
			       "state = excluded.state, note = coalesce(excluded.note, note), "
			       "set_by = excluded.set_by, set_at = excluded.set_at",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot set the triage state");
	sqlite3_bind_text(s, 1, out, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
	if (note)
		sqlite3_bind_text(s, 3, note, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_text(s, 4, who ? who : "unknown", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, time_now_ms());
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(st, err, "cannot set the triage state");
	sqlite3_finalize(s);
	return rc;
}

/* --- runs -------------------------------------------------------------------------------------- */
int triage_run_summary(struct store *st, int64_t run_row_id, struct triage_run_summary *out,
		       struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	out->run_row_id = run_row_id;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE "
			       "j.run_id = ?1 AND " TRIAGE_JOB_FAILED_SQL,
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot summarise the triage of a run");
	sqlite3_bind_int64(s, 1, run_row_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		out->n_failed_jobs = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db,
			       "SELECT f.category, f.source, coalesce(ts.state, 'new') FROM "
			       "triage_findings f JOIN jobs j ON j.id = f.job_id LEFT JOIN "
			       "triage_states ts ON ts.fingerprint = f.fingerprint WHERE "
			       "j.run_id = ?1 AND f.shown ORDER BY j.ordinal, f.rank",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot summarise the triage of a run");
	sqlite3_bind_int64(s, 1, run_row_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(s, 0);
		const char *src = (const char *)sqlite3_column_text(s, 1);
		const char *state = (const char *)sqlite3_column_text(s, 2);
		out->n_findings++;
		out->n_fallback += src && !strcmp(src, "fallback");
		out->n_known_flaky += state && !strcmp(state, "known-flaky");
		if (cat) {
			/* a distinct list: ",compile,test," style search on the text so far */
			char probe[40];
			snprintf(probe, sizeof(probe), ",%s,", cat);
			char have[sizeof(out->categories) + 2];
			snprintf(have, sizeof(have), ",%s,", out->categories);
			size_t used = strlen(out->categories);
			if (!strstr(have, probe) && used + strlen(cat) + 2 < sizeof(out->categories))
				snprintf(out->categories + used, sizeof(out->categories) - used, "%s%s",
					 used ? "," : "", cat);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot summarise the triage of a run");
	out->all_known_flaky = out->n_findings > 0 && out->n_known_flaky == out->n_findings;
	return 0;
}

/* ?1 workflow, ?2 branch, ?3 category, ?4 state (NULL: any), ?5 limit, ?6 offset:
 * the parameters both triage listings share. */
static void bind_triage_filter(sqlite3_stmt *s, const struct triage_filter *f)
{
	const char *v[4] = {f ? f->workflow : NULL, f ? f->branch : NULL, f ? f->category : NULL,
			    f ? f->state : NULL};
	for (int i = 0; i < 4; i++)
		if (v[i])
			sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 5, f && f->limit > 0 ? f->limit : -1);
	sqlite3_bind_int(s, 6, f && f->offset > 0 ? f->offset : 0);
}

int triage_failed_runs(struct store *st, const struct triage_filter *f, triage_run_cb cb,
		       void *ctx, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT r.id FROM runs r WHERE r.conclusion IN " CI_FAILED_SQL " AND "
		    "(?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2) AND "
		    "(?3 IS NULL OR EXISTS (SELECT 1 FROM triage_findings f JOIN jobs j ON "
		    "j.id = f.job_id WHERE j.run_id = r.id AND f.shown AND f.category = ?3)) AND "
		    "(?4 IS NULL OR EXISTS (SELECT 1 FROM triage_findings f JOIN jobs j ON "
		    "j.id = f.job_id LEFT JOIN triage_states ts ON ts.fingerprint = f.fingerprint "
		    "WHERE j.run_id = r.id AND f.shown AND coalesce(ts.state, 'new') = ?4)) "
		    "ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC LIMIT ?5 OFFSET ?6",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list failed runs");
	bind_triage_filter(s, f);
	int64_t *ids = NULL;
	int n = 0, rc;
	size_t alloc = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(ids, alloc, (size_t)n + 1);
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	int ret = rc == SQLITE_DONE ? 0 : store_err(st, err, "cannot list failed runs");
	for (int i = 0; i < n && ret == 0; i++) {
		char spec[32];
		snprintf(spec, sizeof(spec), "#%lld", (long long)ids[i]);
		struct run r;
		struct triage_run_summary sum;
		if (store_find_run(st, spec, &r, err) < 0) {
			ret = -1;
			break;
		}
		ret = triage_run_summary(st, ids[i], &sum, err);
		if (ret == 0)
			ret = cb(ctx, &r, &sum);
		run_free(&r);
	}
	free(ids);
	return ret;
}

int triage_groups(struct store *st, const struct triage_filter *f, triage_group_cb cb, void *ctx,
		  struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT g.fingerprint, g.runs, g.commits, g.first_at, g.last_at, "
		    "coalesce(ts.state, 'new'), f.category, f.rule, f.title, j.run_id FROM "
		    "(SELECT f.fingerprint, count(DISTINCT r.id) AS runs, count(DISTINCT r.head_sha) "
		    "AS commits, min(r.created_at) AS first_at, max(r.created_at) AS last_at, "
		    "max(f.id) AS last_id FROM triage_findings f JOIN jobs j ON j.id = f.job_id "
		    "JOIN runs r ON r.id = j.run_id WHERE f.severity = 'error' AND "
		    TRIAGE_TELLING_SQL " AND (?1 IS NULL OR r.workflow_name = ?1) AND (?2 IS NULL OR r.head_branch = ?2) "
		    "GROUP BY f.fingerprint) g JOIN triage_findings f ON f.id = g.last_id "
		    "JOIN jobs j ON j.id = f.job_id LEFT JOIN triage_states ts ON "
		    "ts.fingerprint = g.fingerprint WHERE (?3 IS NULL OR f.category = ?3) AND "
		    "(?4 IS NULL OR coalesce(ts.state, 'new') = ?4) "
		    "ORDER BY g.last_at DESC, g.fingerprint LIMIT ?5 OFFSET ?6",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list fingerprints");
	bind_triage_filter(s, f);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct triage_group g;
		memset(&g, 0, sizeof(g));
		const unsigned char *fp = sqlite3_column_text(s, 0);
		snprintf(g.fingerprint, sizeof(g.fingerprint), "%s", fp ? (const char *)fp : "");
		g.n_runs = sqlite3_column_int(s, 1);
		g.n_commits = sqlite3_column_int(s, 2);
		g.first_at = sql_col_time(s, 3);
		g.last_at = sql_col_time(s, 4);
		g.state = (char *)sqlite3_column_text(s, 5);
		g.category = (char *)sqlite3_column_text(s, 6);
		g.rule = (char *)sqlite3_column_text(s, 7);
		g.title = (char *)sqlite3_column_text(s, 8);
		g.last_run_row_id = sqlite3_column_int64(s, 9);
		if ((ret = cb(ctx, &g)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(st, err, "cannot list fingerprints");
	sqlite3_finalize(s);
	return ret;
}

/* --- for the terminal UI ------------------------------------------------------------------- */
#define FLAKY_BATCH 500

int triage_runs_known_flaky(struct store *st, const int64_t *run_row_ids, int n, bool *out,
			    struct cs_err *err)
{
	for (int i = 0; i < n; i++)
		out[i] = false;
	struct buf sql = BUF_INIT;
	int ret = 0;
	for (int at = 0; at < n && ret == 0; at += FLAKY_BATCH) {
		int k = MIN(FLAKY_BATCH, n - at);
		buf_reset(&sql);
		/* triage_run_summary's all_known_flaky, for many runs at once */
		buf_adds(&sql, "SELECT j.run_id FROM triage_findings f JOIN jobs j ON j.id = f.job_id "
			       "LEFT JOIN triage_states ts ON ts.fingerprint = f.fingerprint "
			       "WHERE f.shown AND j.run_id IN (");
		for (int i = 0; i < k; i++)
			buf_adds(&sql, i ? ",?" : "?");
		buf_adds(&sql, ") GROUP BY j.run_id HAVING count(*) > 0 AND "
			       "sum(coalesce(ts.state, 'new') = 'known-flaky') = count(*)");
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
			ret = store_err(st, err, "cannot look for runs that failed only by known flakes");
			break;
		}
		for (int i = 0; i < k; i++)
			sqlite3_bind_int64(s, i + 1, run_row_ids[at + i]);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0);
			for (int i = 0; i < k; i++)
				if (run_row_ids[at + i] == id)
					out[at + i] = true;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			ret = store_err(st, err, "cannot look for runs that failed only by known flakes");
	}
	buf_release(&sql);
	return ret;
}

int triage_fingerprint_findings(struct store *st, const char *fingerprint, int limit,
				struct triage_finding **out, int *n, struct cs_err *err)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " FINDING_COLUMNS " FROM " FINDING_FROM
			       " JOIN runs r ON r.id = j.run_id WHERE f.fingerprint = ?1 "
			       "ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC, "
			       "j.ordinal, f.rank LIMIT ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list the findings of a fingerprint");
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	return finding_rows(st, s, out, n, err);
}
