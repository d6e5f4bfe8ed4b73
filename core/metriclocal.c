/* metriclocal.c - local CI results (see metrics.h): a results document a
 * local CI run wrote, checked and imported as a run with its metrics. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "metricsint.h"
#include "storesql.h"

/* --- local CI results ----------------------------------------------------------------- */
#define LOCAL_MAX (4u << 20)

bool metrics_is_local_results(const char *text, size_t n)
{
	if (!text || n > LOCAL_MAX)
		return false;
	size_t i = 0;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	if (i >= n || text[i] != '{')
		return false;
	return memmem(text, n, "\"commit_sha\"", 12) && memmem(text, n, "\"checks\"", 8);
}

static bool is_hex(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool safe_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-", s[i]))
			return false;
	return true;
}

static int text_field(const cJSON *doc, const char *key, bool required, size_t max,
		      const char **out, struct cs_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, key);
	*out = NULL;
	if (!it || cJSON_IsNull(it)) {
		if (required)
			return err_set(err, CS_EINVAL, "%s: missing", key);
		return 0;
	}
	if (!cJSON_IsString(it))
		return err_set(err, CS_EINVAL, "%s: expected a string", key);
	const char *s = it->valuestring;
	size_t n = strlen(s);
	if (n > max || !utf8_valid(s, n))
		return err_set(err, CS_EINVAL, "%s: not a UTF-8 string of at most %zu bytes", key, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(err, CS_EINVAL, "%s: control characters", key);
	*out = s;
	return 0;
}

struct local_metric {
	char name[200];
	double value;
	int passed;
	double threshold;
};

static int flatten(const cJSON *it, char *path, size_t plen, int depth, int passed,
		   double threshold, struct local_metric **m, int *n, struct cs_err *err)
{
	if (depth > 4)
		return err_set(err, CS_EINVAL, "%s: nested deeper than 4 levels", path);
	if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
		double v = cJSON_IsBool(it) ? (cJSON_IsTrue(it) ? 1 : 0) : it->valuedouble;
		if (!isfinite(v))
			return err_set(err, CS_EINVAL, "%s: not a finite number", path);
		if (*n >= 10000)
			return err_set(err, CS_EINVAL, "more than 10000 values in checks");
		*m = xrealloc(*m, (size_t)(*n + 1) * sizeof(**m));
		struct local_metric *x = &(*m)[(*n)++];
		snprintf(x->name, sizeof(x->name), "%s", path);
		x->value = v;
		x->passed = passed;
		x->threshold = threshold;
		return 0;
	}
	if (!cJSON_IsObject(it))
		return 0; /* strings, arrays, null: not metrics */
	for (const cJSON *c = it->child; c; c = c->next) {
		if (!c->string || !safe_name(c->string))
			return err_set(err, CS_EINVAL, "%s: a key is not a name of 1-64 letters, "
						       "digits, '_' or '-'", path);
		size_t l = strlen(path);
		if (l + 1 + strlen(c->string) >= plen)
			return err_set(err, CS_EINVAL, "%s: names too long", path);
		snprintf(path + l, plen - l, ".%s", c->string);
		int rc = flatten(c, path, plen, depth + 1, passed, threshold, m, n, err);
		path[l] = 0;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

int metrics_import_local(struct store *st, const char *origin, const char *text, size_t n,
			 int64_t *run_row_id, int *state, struct cs_err *err)
{
	err_clear(err);
	*run_row_id = 0;
	*state = 2;
	if (n > LOCAL_MAX)
		return err_set(err, CS_EINVAL, "%s: larger than %u MiB", origin, LOCAL_MAX >> 20);
	if (!utf8_valid(text, n))
		return err_set(err, CS_EINVAL, "%s: not UTF-8", origin);
	const char *endp = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, n, &endp, false);
	if (!doc)
		return err_set(err, CS_EINVAL, "%s: malformed JSON near byte %zu", origin,
			       endp && endp >= text ? (size_t)(endp - text) : 0);
	struct local_metric *m = NULL;
	int nm = 0;
	struct buf why = BUF_INIT; /* the checks that did not pass */
	const char *sha, *branch, *ts, *runner;
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	int rc = -1;
	if (!cJSON_IsObject(doc)) {
		err_set(err, CS_EINVAL, "not a JSON object");
		goto out;
	}
	if (!ver || !(cJSON_IsString(ver) || cJSON_IsNumber(ver))) {
		err_set(err, CS_EINVAL, "version: missing (a string or number)");
		goto out;
	}
	if (text_field(doc, "commit_sha", true, 40, &sha, err) < 0 ||
	    text_field(doc, "branch", false, 255, &branch, err) < 0 ||
	    text_field(doc, "timestamp", true, 64, &ts, err) < 0 ||
	    text_field(doc, "runner", false, 255, &runner, err) < 0)
		goto out;
	if (!is_hex(sha, 7, 40)) {
		err_set(err, CS_EINVAL, "commit_sha: not a commit id (7-40 hex digits)");
		goto out;
	}
	int64_t at = time_parse_rfc3339(ts, strlen(ts));
	if (at == CS_TIME_NONE) {
		err_set(err, CS_EINVAL, "timestamp: not an RFC 3339 time");
		goto out;
	}
	if (!cJSON_IsObject(checks) || !checks->child) {
		err_set(err, CS_EINVAL, "checks: expected an object with at least one check");
		goto out;
	}
	bool all_passed = true;
	int n_checks = 0;
	for (const cJSON *c = checks->child; c; c = c->next) {
		if (!c->string || !safe_name(c->string)) {
			err_set(err, CS_EINVAL, "checks: a check name is not 1-64 letters, digits, "
						"'_' or '-'");
			goto out;
		}
		if (!cJSON_IsObject(c)) {
			err_set(err, CS_EINVAL, "checks.%s: expected an object", c->string);
			goto out;
		}
		if (++n_checks > 1000) {
			err_set(err, CS_EINVAL, "checks: more than 1000 checks");
			goto out;
		}
		const cJSON *pj = cJSON_GetObjectItemCaseSensitive(c, "passed");
		const cJSON *tj = cJSON_GetObjectItemCaseSensitive(c, "threshold");
		if (pj && !cJSON_IsBool(pj)) {
			err_set(err, CS_EINVAL, "checks.%s.passed: expected true or false", c->string);
			goto out;
		}
		if (tj && !cJSON_IsNull(tj) && !(cJSON_IsNumber(tj) && isfinite(tj->valuedouble))) {
			err_set(err, CS_EINVAL, "checks.%s.threshold: expected a number", c->string);
			goto out;
		}
		int passed = pj ? cJSON_IsTrue(pj) : -1;
		if (passed == 0) {
			/* what `show` says of the run's failure */
			buf_adds(&why, all_passed ? "checks that did not pass: " : ", ");
			buf_adds(&why, c->string);
			all_passed = false;
		}
		char path[80];
		snprintf(path, sizeof(path), "checks.%s", c->string);
		for (const cJSON *f = c->child; f; f = f->next) {
			if (!f->string || !safe_name(f->string)) {
				err_set(err, CS_EINVAL, "checks.%s: a field name is not 1-64 letters, "
							"digits, '_' or '-'", c->string);
				goto out;
			}
			if (!strcmp(f->string, "threshold"))
				continue;
			char fp[200];
			snprintf(fp, sizeof(fp), "%s.%s", path, f->string);
			if (flatten(f, fp, sizeof(fp), 2, passed,
				    cJSON_IsNumber(tj) ? tj->valuedouble : NAN, &m, &nm, err) < 0)
				goto out;
		}
	}
	/* the run: same commit, time and runner = the same run (re-import replaces) */
	uint64_t h = fnv(0xcbf29ce484222325ULL, sha, strlen(sha));
	h = fnv(h, ts, strlen(ts));
	if (runner)
		h = fnv(h, runner, strlen(runner));
	int64_t pid = (int64_t)(h & 0x1FFFFFFFFFFFFFULL);
	char sig[40];
	snprintf(sig, sizeof(sig), "local-results:%016llx",
		 (unsigned long long)fnv(0xcbf29ce484222325ULL, text, n));
	if (store_begin(st, err) < 0)
		goto out;
	sqlite3_stmt *s;
	if (store_prepare(st, "INSERT INTO repos (provider, slug) VALUES ('local', 'local') "
			      "ON CONFLICT DO NOTHING", &s, "importing local results", err) < 0 ||
	    store_collect(st, s, NULL, NULL, "importing local results", err) < 0)
		goto rollback;
	int64_t repo_id = 0, old = 0;
	char *old_sig = NULL;
	if (store_prepare(st, "SELECT r.id, r.import_sig, p.id FROM repos p LEFT JOIN runs r ON "
			      "r.repo_id = p.id AND r.provider_id = ?1 AND r.attempt = 1 "
			      "WHERE p.provider = 'local' AND p.slug = 'local'", &s,
			  "importing local results", err) < 0)
		goto rollback;
	sqlite3_bind_int64(s, 1, pid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		old = sqlite3_column_int64(s, 0);
		old_sig = sql_col_str(s, 1);
		repo_id = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (old && old_sig && !strcmp(old_sig, sig)) {
		free(old_sig);
		store_rollback(st);
		*run_row_id = old;
		rc = 0;
		goto out;
	}
	free(old_sig);
	if (old && store_exec_ids(st, "DELETE FROM runs WHERE id = ?1", old, 0,
				  "importing local results", err) < 0)
		goto rollback;
	if (store_prepare(st, "INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, "
			      "title, event, head_branch, head_sha, status, conclusion, created_at, "
			      "updated_at, started_at, actor, source, import_sig, imported_at, "
			      "conclusion_why) VALUES "
			      "(?1, ?2, 1, 'local', 'local CI results', 'local', ?3, ?4, 'completed', "
			      "?5, ?6, ?6, ?6, ?7, 'local', ?8, ?9, ?10)", &s, "importing local results",
			  err) < 0)
		goto rollback;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, pid);
	sql_bind_text(s, 3, branch);
	sql_bind_text(s, 4, sha);
	sql_bind_text(s, 5, all_passed ? "success" : "failure");
	sqlite3_bind_int64(s, 6, at);
	sql_bind_text(s, 7, runner);
	sql_bind_text(s, 8, sig);
	sqlite3_bind_int64(s, 9, time_now_ms());
	if (!all_passed)
		sql_bind_text(s, 10, buf_cstr(&why));
	if (store_collect(st, s, NULL, NULL, "importing local results", err) < 0)
		goto rollback;
	int64_t run = sqlite3_last_insert_rowid(st->db);
	if (store_prepare(st, "INSERT OR REPLACE INTO run_metrics (run_id, name, value, unit, passed, "
			      "threshold, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'local')", &s,
			  "importing local results", err) < 0)
		goto rollback;
	for (int i = 0; i < nm; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, run);
		sql_bind_text(s, 2, m[i].name);
		sqlite3_bind_double(s, 3, m[i].value);
		sql_bind_text(s, 4, metric_unit_of(m[i].name));
		if (m[i].passed < 0)
			sqlite3_bind_null(s, 5);
		else
			sqlite3_bind_int(s, 5, m[i].passed);
		if (isnan(m[i].threshold))
			sqlite3_bind_null(s, 6);
		else
			sqlite3_bind_double(s, 6, m[i].threshold);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			store_err(st, err, "importing local results");
			goto rollback;
		}
	}
	sqlite3_finalize(s);
	if (store_exec_ids(st, "INSERT OR REPLACE INTO run_metrics_done (run_id, version) "
			       "VALUES (?1, ?2)", run, DERIVE_VERSION, "importing local results",
			   err) < 0)
		goto rollback;
	if (store_commit(st, err) < 0)
		goto out;
	*run_row_id = run;
	*state = old ? 1 : 0;
	rc = 0;
	goto out;
rollback:
	store_rollback(st);
out:
	if (rc < 0 && !strstr(err->msg, origin))
		err_prefix(err, "%s", origin);
	buf_release(&why);
	free(m);
	cJSON_Delete(doc);
	return rc;
}
