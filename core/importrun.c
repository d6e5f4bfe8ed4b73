/* importrun.c - writing one run into the index during an import: its repo,
 * run, job and step rows (a re-import carries over what was there), its
 * logs and artifacts, the triage of its logs, each run in a savepoint
 * inside a batch committed every BATCH_RUNS runs or BATCH_MS. Private to
 * the importer (import_int.h). */
#include "import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* --- writing a run -------------------------------------------------------------------------- */
/* Per-run statements come from the store's cache (store_cached()): preparing
 * them again for every run cost many small logs a third of their import time.
 * The SQL is a string literal (its text is the key); im_done() resets a
 * statement after use so that no cached statement is ever left running at a
 * commit. */
static int im_prepare(struct importer *im, const char *sql, sqlite3_stmt **s)
{
	return store_cached(im->st, sql, s);
}

/* Done with a statement of im_prepare(): ready for its next use. */
static void im_done(sqlite3_stmt *s)
{
	store_cached_done(s);
}

/* A statement of no parameters and no rows run from the cache (a savepoint
 * of every run: not parsed again each time, as store_exec() would). */
static int im_exec_cached(struct importer *im, const char *sql, struct cs_err *err)
{
	sqlite3_stmt *s;
	int rc = im_prepare(im, sql, &s);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		im_done(s);
	}
	if (rc == SQLITE_OK || rc == SQLITE_DONE)
		return 0;
	/* the words store_exec() would have said */
	return err_set(err, CS_EDB, "database '%s': %s%s", im->st->path,
		       sqlite3_errmsg(im->st->db), store_hint(im->st->db));
}

/* Forget the batch's repository row (struct importer.repo_key). */
static void repo_forget(struct importer *im)
{
	free(im->repo_key);
	im->repo_key = NULL;
}

static int64_t upsert_repo(struct importer *im, const char *provider, const char *slug,
			   const char *html_url, struct cs_err *err)
{
	char *key = html_url ? NULL : xasprintf("%s\n%s", provider, slug ? slug : "");
	if (key && im->repo_key && !strcmp(key, im->repo_key)) {
		free(key);
		return im->repo_key_id;
	}
	repo_forget(im);
	sqlite3_stmt *s;
	if (im_prepare(im,
			       "INSERT INTO repos (provider, slug, html_url) VALUES (?, ?, ?) "
			       "ON CONFLICT (provider, slug) DO UPDATE SET "
			       "html_url = coalesce(excluded.html_url, html_url) RETURNING id",
			       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store the repository");
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, slug, -1, SQLITE_TRANSIENT);
	sql_bind_text(s, 3, html_url);
	int64_t id = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		store_err(im->st, err, "cannot store the repository");
	im_done(s);
	if (id > 0 && key) {
		im->repo_key = key;
		im->repo_key_id = id;
	} else {
		free(key);
	}
	return id;
}

/* The run object of an earlier attempt: attempts/<n>/run.json when the folder
 * has it, else NULL (the row is then derived from run.json and its jobs). */
static cJSON *attempt_run_json(const char *folder, int attempt, struct cs_err *err, bool *bad)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "attempts/%d/run.json", attempt);
	char *p = path_join(folder, rel);
	cJSON *j = NULL;
	*bad = false;
	if (path_is_file(p)) {
		char label[80];
		snprintf(label, sizeof(label), "attempts/%d/run.json", attempt);
		j = import_json_parse_file(p, label, err);
		if (!j)
			*bad = true;
	}
	free(p);
	return j;
}

struct attempt_stats {
	int n_jobs, n_logs, n_findings;
	bool any_failed, any_cancelled, all_done;
	int64_t first_start, last_end;
};


static int insert_run(struct importer *im, struct run_src *rs, int64_t repo_id, int attempt,
		      const cJSON *obj, const struct attempt_stats *derived, const char *sig,
		      int64_t *row_id, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (im_prepare(im,
		    "INSERT INTO runs (repo_id, provider_id, attempt, run_number, workflow_id, "
		    "workflow_name, workflow_path, title, event, head_branch, head_sha, status, "
		    "conclusion, created_at, updated_at, started_at, html_url, actor, commit_message, "
		    "commit_author, commit_time, source, import_sig, imported_at) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
		    &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store the run");
	int64_t v;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, rs->provider_id);
	sqlite3_bind_int(s, 3, attempt);
	if (obj && import_jint(obj, "run_number", &v))
		sqlite3_bind_int64(s, 4, v);
	if (obj && import_jint(obj, "workflow_id", &v))
		sqlite3_bind_int64(s, 5, v);
	const cJSON *hc = obj ? cJSON_GetObjectItemCaseSensitive(obj, "head_commit") : NULL;
	const char *msg = import_jstr(hc, "message");
	const char *title = obj ? import_jstr(obj, "display_title") : NULL;
	char *subject = NULL;
	if (!title && msg) {
		const char *nl = strchr(msg, '\n');
		subject = xstrndup(msg, nl ? (size_t)(nl - msg) : strlen(msg));
		title = subject;
	}
	if (!obj) {
		/* archive or log file: the job's name says more than nothing */
		sql_bind_text(s, 6, "(imported log)");
		sql_bind_text(s, 8, rs->label);
		sql_bind_text(s, 9, "import");
	} else {
		sql_bind_text(s, 6, import_jstr(obj, "name"));
		sql_bind_text(s, 7, import_jstr(obj, "path"));
		sql_bind_text(s, 8, title);
		sql_bind_text(s, 9, import_jstr(obj, "event"));
		sql_bind_text(s, 10, import_jstr(obj, "head_branch"));
		sql_bind_text(s, 11, import_jstr(obj, "head_sha"));
	}
	const char *status = obj ? import_jstr(obj, "status") : NULL;
	const char *concl = obj ? import_jstr(obj, "conclusion") : NULL;
	int64_t created = obj ? import_jtime(obj, "created_at") : CS_TIME_NONE;
	int64_t updated = obj ? import_jtime(obj, "updated_at") : CS_TIME_NONE;
	int64_t started = obj ? import_jtime(obj, "run_started_at") : CS_TIME_NONE;
	if (derived) {
		/* derived from the attempt's jobs */
		status = derived->all_done ? "completed" : "in_progress";
		concl = !derived->all_done	   ? NULL
			: derived->any_failed	   ? "failure"
			: derived->any_cancelled ? "cancelled"
						   : "success";
		if (derived->first_start != CS_TIME_NONE) {
			started = derived->first_start;
			if (created == CS_TIME_NONE || created > started)
				created = started;
		}
		if (derived->last_end != CS_TIME_NONE)
			updated = derived->last_end;
	}
	sql_bind_text(s, 12, status ? status : "completed");
	sql_bind_text(s, 13, concl);
	if (created == CS_TIME_NONE)
		created = started != CS_TIME_NONE ? started : im->now;
	sql_bind_time(s, 14, created);
	sql_bind_time(s, 15, updated);
	sql_bind_time(s, 16, started);
	if (obj) {
		sql_bind_text(s, 17, import_jstr(obj, "html_url"));
		const cJSON *actor = cJSON_GetObjectItemCaseSensitive(obj, "actor");
		sql_bind_text(s, 18, import_jstr(actor, "login"));
		sql_bind_text(s, 19, msg);
		const cJSON *au = cJSON_GetObjectItemCaseSensitive(hc, "author");
		sql_bind_text(s, 20, import_jstr(au, "name"));
		sql_bind_time(s, 21, import_jtime(hc, "timestamp"));
	}
	char *source = import_source_path(rs);
	sql_bind_text(s, 22, source);
	sql_bind_text(s, 23, sig);
	sqlite3_bind_int64(s, 24, im->now);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store the run");
	im_done(s);
	free(subject);
	free(source);
	*row_id = sqlite3_last_insert_rowid(im->st->db);
	return rc;
}

/* Is the job's log stored by this import (its state 'stored')? */
static bool job_log_stored(const struct run_src *rs, const struct job_src *js)
{
	return js->log_file || js->zip_entry >= 0 || (js->n_step_entries && rs->zip);
}

/* A log given alone is taken as failed until judged (conclude_log()) */
static bool judged_after(const struct importer *im, const struct run_src *rs)
{
	const char *given = im->opts.conclusion;
	return !rs->run && rs->log_alone && !(given && strcmp(given, "failure") != 0);
}

/* The job's row with the log state the import gives it (and a log alone's
 * 'failure' until judged): what an UPDATE after its log would set, without
 * the UPDATE (im->gen_extra counts its trigger's step) */
static int insert_job(struct importer *im, const struct run_src *rs, int64_t run_row_id,
		      struct job_src *js, struct cs_err *err)
{
	const cJSON *j = js->json;
	sqlite3_stmt *s;
	if (im_prepare(im,
			       "INSERT INTO jobs (run_id, provider_id, name, status, conclusion, "
			       "started_at, completed_at, runner_name, runner_group, labels, html_url, "
			       "ordinal, log_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store a job");
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_int64(s, 2, js->provider_id);
	sqlite3_bind_text(s, 3, js->name, -1, SQLITE_TRANSIENT);
	const char *status = import_jstr(j, "status");
	sql_bind_text(s, 4, status ? status : "completed");
	if (judged_after(im, rs)) {
		sqlite3_bind_text(s, 5, "failure", -1, SQLITE_STATIC);
		im->gen_extra++;
	} else {
		sql_bind_text(s, 5, import_jstr(j, "conclusion"));
	}
	sql_bind_time(s, 6, import_jtime(j, "started_at"));
	sql_bind_time(s, 7, import_jtime(j, "completed_at"));
	sql_bind_text(s, 8, import_jstr(j, "runner_name"));
	sql_bind_text(s, 9, import_jstr(j, "runner_group_name"));
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
	char *lj = cJSON_IsArray(labels) ? cJSON_PrintUnformatted(labels) : NULL;
	sql_bind_text(s, 10, lj);
	free(lj);
	sql_bind_text(s, 11, import_jstr(j, "html_url"));
	sqlite3_bind_int(s, 12, js->ordinal);
	const char *log_state = job_log_stored(rs, js) ? "stored"
				: js->log_expired      ? "expired"
						       : "missing"; /* the column's default */
	sqlite3_bind_text(s, 13, log_state, -1, SQLITE_STATIC);
	if (strcmp(log_state, "missing") != 0)
		im->gen_extra++;
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store a job");
	im_done(s);
	if (rc) {
		if (sqlite3_errcode(im->st->db) == SQLITE_CONSTRAINT)
			err_set(err, CS_EINVAL, "jobs.json: job id %lld appears twice",
				(long long)js->provider_id);
		return -1;
	}
	js->row_id = sqlite3_last_insert_rowid(im->st->db);

	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
	if (!cJSON_IsArray(steps))
		return 0;
	if (im_prepare(im,
			       "INSERT OR IGNORE INTO steps (job_id, number, name, status, conclusion, "
			       "started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store steps");
	const cJSON *st;
	int idx = 0;
	cJSON_ArrayForEach(st, steps)
	{
		int64_t num = idx + 1;
		import_jint(st, "number", &num);
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, js->row_id);
		sqlite3_bind_int64(s, 2, num);
		const char *nm = import_jstr(st, "name");
		sqlite3_bind_text(s, 3, nm ? nm : "", -1, SQLITE_TRANSIENT);
		const char *sst = import_jstr(st, "status");
		sql_bind_text(s, 4, sst ? sst : "completed");
		sql_bind_text(s, 5, import_jstr(st, "conclusion"));
		sql_bind_time(s, 6, import_jtime(st, "started_at"));
		sql_bind_time(s, 7, import_jtime(st, "completed_at"));
		if (sqlite3_step(s) != SQLITE_DONE) {
			im_done(s);
			return store_err(im->st, err, "cannot store steps");
		}
		idx++;
	}
	im_done(s);
	return 0;
}

/* existing row for (repo, run, attempt): its id and signature */
static int64_t find_existing(struct importer *im, int64_t repo_id, int64_t provider_id,
			     int attempt, char **sig)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	*sig = NULL;
	if (im_prepare(im,
			       "SELECT id, import_sig FROM runs WHERE repo_id = ? AND provider_id = ? "
			       "AND attempt = ?",
			       &s) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, provider_id);
	sqlite3_bind_int(s, 3, attempt);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		*sig = sql_col_str(s, 1);
	}
	im_done(s);
	return id;
}

static int delete_run(struct importer *im, int64_t row_id, struct cs_err *err)
{
	return store_exec_ids(im->st, "DELETE FROM runs WHERE id = ?1 AND ?2 = ?2", row_id, 0,
			      "cannot replace the run", err);
}

int import_exec_ids(struct importer *im, const char *sql, int64_t a, int64_t b,
		    struct cs_err *err)
{
	return store_exec_ids(im->st, sql, a, b, "cannot replace the run", err);
}

static int set_aside(struct importer *im, int64_t old, struct cs_err *err)
{
	return import_exec_ids(im, "UPDATE runs SET provider_id = -provider_id - 1 WHERE id = ?1 AND ?2 = ?2",
			old, 0, err);
}

/* What the earlier import of this run had and the new data lacks is kept:
 * a job's stored log (with its findings, groups and step lines) when the new
 * data brings no log for it, and the artifacts when it brings none. Re-importing
 * a folder that holds less never loses what was imported before. Returns
 * the number of logs carried over. */
static int carry_over(struct importer *im, struct run_src *rs, int attempt, int64_t old,
		      int64_t row, struct cs_err *err)
{
	int carried = 0;
	for (int i = 0; i < rs->n_jobs; i++) {
		struct job_src *js = &rs->jobs[i];
		if (js->attempt != attempt || js->log_file || js->zip_entry >= 0 ||
		    (js->n_step_entries && rs->zip))
			continue;
		sqlite3_stmt *s;
		int64_t old_job = 0;
		if (im_prepare(im,
				       "SELECT j.id FROM jobs j JOIN logs l ON l.job_id = j.id "
				       "WHERE j.run_id = ? AND j.provider_id = ?",
				       &s) != SQLITE_OK)
			return store_err(im->st, err, "cannot replace the run");
		sqlite3_bind_int64(s, 1, old);
		sqlite3_bind_int64(s, 2, js->provider_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			old_job = sqlite3_column_int64(s, 0);
		im_done(s);
		if (!old_job)
			continue;
		if (import_exec_ids(im, "UPDATE logs SET job_id = ?1 WHERE job_id = ?2", js->row_id, old_job,
			     err) < 0 ||
		    import_exec_ids(im, "UPDATE findings SET job_id = ?1 WHERE job_id = ?2", js->row_id,
			     old_job, err) < 0 ||
		    import_exec_ids(im,
			     "UPDATE steps SET first_line = o.first_line, last_line = o.last_line, "
			     "attribution = o.attribution FROM steps o WHERE steps.job_id = ?1 AND "
			     "o.job_id = ?2 AND o.number = steps.number",
			     js->row_id, old_job, err) < 0 ||
		    import_exec_ids(im,
			     "INSERT OR IGNORE INTO steps (job_id, number, name, status, conclusion, "
			     "started_at, completed_at, first_line, last_line, attribution) "
			     "SELECT ?1, number, name, status, conclusion, started_at, completed_at, "
			     "first_line, last_line, attribution FROM steps WHERE job_id = ?2",
			     js->row_id, old_job, err) < 0 ||
		    import_exec_ids(im, "UPDATE jobs SET log_state = 'stored' WHERE id = ?1 AND ?2 = ?2",
			     js->row_id, 0, err) < 0)
			return -1;
		carried++;
	}
	if (attempt == rs->latest_attempt && !rs->has_artifacts) {
		if (import_exec_ids(im, "UPDATE artifacts SET run_id = ?1 WHERE run_id = ?2", row, old, err) < 0 ||
		    import_exec_ids(im, "UPDATE test_results SET run_id = ?1 WHERE run_id = ?2", row, old,
			     err) < 0 ||
		    import_exec_ids(im, "UPDATE metric_series SET run_id = ?1 WHERE run_id = ?2", row, old,
			     err) < 0)
			return -1;
	}
	return carried;
}

/* --- batches ------------------------------------------------------------------------------------ */
/* Each run is all-or-nothing inside a savepoint; the runs of one
 * import_path() share a transaction committed every BATCH_RUNS runs or
 * BATCH_MS, and at its end (interrupted or not). A commit per run cost many
 * small logs most of their time: every commit rewrites the same b-tree pages
 * into the WAL. A crash (kill -9, power) loses at most the runs of the
 * open batch, each whole, never part of one: a re-import completes them.
 * BATCH_MS also bounds how long another writer waits for the lock. Runs are
 * reported (on_run) as each completes, as before (an interrupt asked for
 * from on_run stops before the next run); should their batch fail to commit
 * after all, an error says which runs were rolled back. */
#define BATCH_RUNS 256
#define BATCH_MS 250

/* The open batch is gone (a failed commit, or SQLite rolled the whole
 * transaction back): its `runs` completed runs are failures, said once (the
 * run that saw it reports its own error). */
void import_batch_lost(struct importer *im, int runs, const struct cs_err *why)
{
	repo_forget(im);
	im->in_batch = false;
	im->batch_runs = 0;
	if (runs <= 0)
		return;
	im->ok -= runs;
	im->failed += runs;
	char msg[sizeof(why->msg) + 200];
	snprintf(msg, sizeof(msg),
		 "cannot import the %d run%s before it in the same transaction: %s (they were rolled back; import them again)",
		 runs, runs == 1 ? "" : "s", why->msg);
	if (im->opts.on_error)
		im->opts.on_error(im->opts.ctx, msg);
}

int import_batch_commit(struct importer *im, struct cs_err *err)
{
	if (!im->in_batch)
		return 0;
	repo_forget(im);
	if (store_commit(im->st, err) < 0) {
		store_rollback(im->st);
		return -1;
	}
	im->in_batch = false;
	im->batch_runs = 0;
	return 0;
}

/* A log given alone has no conclusion of its own, and is almost always a
 * failing one. Its jobs are triaged as failed; a job then failed when
 * triage found an error in it (a telling finding, or a verdict line: a
 * non-zero exit code, BUILD FAILURE, a test summary with failures), else the
 * log's name may say so ("fail.log"), else it passed and its triage goes.
 * --conclusion decides instead. runs.conclusion_why keeps the reason. */
static bool name_says_failed(const char *label)
{
	static const char *const words[] = {"fail", "error", "broken", "crash", "red"};
	char *low = xstrdup(label);
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	bool hit = false;
	for (size_t i = 0; i < ARRAY_SIZE(words) && !hit; i++) {
		const char *w = strstr(low, words[i]);
		/* "red" only as a word of its own: not "required", "stored" */
		if (w && i == 4)
			hit = (w == low || !((w[-1] >= 'a' && w[-1] <= 'z'))) &&
			      !((w[3] >= 'a' && w[3] <= 'z'));
		else
			hit = w != NULL;
	}
	free(low);
	return hit;
}

/* Whether "parent/name" is made of words every CI log could have. */
static bool title_says_nothing(const char *label)
{
	static const char *const words[] = {
		"log",	  "logs",  "fail",   "failed", "failure", "build", "output", "out",
		"console", "stdout", "stderr", "job",	 "run",	    "ci",    "error",  "errors",
		"raw",	  "full",  "test",   "tests",  "tmp",	  "temp",  "downloads", "."};
	char *low = xstrdup(label);
	bool nothing = true;
	char *save = NULL;
	for (char *p = low; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	for (char *w = strtok_r(low, "/._- ", &save); w && nothing; w = strtok_r(NULL, "/._- ", &save)) {
		bool generic = strspn(w, "0123456789") == strlen(w) || !strcmp(w, "txt");
		for (size_t i = 0; i < ARRAY_SIZE(words) && !generic; i++)
			generic = !strcmp(w, words[i]);
		nothing = generic;
	}
	free(low);
	return nothing;
}

/* One statement of im_prepare() run with ?1 = a: -1 with err set on failure. */
static int im_exec_id(struct importer *im, const char *sql, int64_t a, const char *what,
		      struct cs_err *err)
{
	sqlite3_stmt *s;
	if (im_prepare(im, sql, &s) != SQLITE_OK)
		return store_err(im->st, err, what);
	sqlite3_bind_int64(s, 1, a);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	int ret = rc == SQLITE_DONE ? 0 : store_err(im->st, err, what);
	im_done(s);
	return ret;
}

/* What the insert triggers of steps did per step row before migration 015,
 * once for the run `row` whose jobs (all inserted by this import) got their
 * steps: metric_gen.gen + 1 per step, and the run into metric_dirty_runs
 * (its jobs' inserts put it there already: said here only for a run with
 * no job inserted, so that the steps do not depend on the jobs' trigger).
 * The index is the same as with the triggers. */
static int mark_steps(struct importer *im, int64_t row, bool jobs_inserted, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (im_prepare(im,
		       "UPDATE metric_gen SET gen = gen + ?2 + (SELECT count(*) FROM jobs j "
		       "JOIN steps s ON s.job_id = j.id WHERE j.run_id = ?1)",
		       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store the run's steps");
	sqlite3_bind_int64(s, 1, row);
	sqlite3_bind_int64(s, 2, im->gen_extra); /* see struct importer */
	im->gen_extra = 0;
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store the run's steps");
	im_done(s);
	if (rc < 0 || jobs_inserted)
		return rc;
	return im_exec_id(im,
			  "INSERT OR IGNORE INTO metric_dirty_runs SELECT id, "
			  "coalesce(workflow_name, '') FROM runs WHERE id = ?1 AND EXISTS "
			  "(SELECT 1 FROM jobs j JOIN steps s ON s.job_id = j.id WHERE j.run_id = ?1)",
			  row, "cannot store the run's steps", err);
}

/* The steps of a failed job of a `gh run view --log` file come with no
 * conclusion: the step of the runner's "Process completed with exit code
 * N." line failed (else the step of the job's last error finding), those
 * before it passed, and those after it stay unknown (a later step may have
 * run with if: always(), or not). A job that did not fail is left alone. */
static int mark_failed_steps(struct importer *im, const struct run_src *rs, int *by_exit,
			     struct cs_err *err)
{
	for (int i = 0; i < rs->n_jobs; i++) {
		const struct job_src *js = &rs->jobs[i];
		if (!js->gh || !js->n_gh_steps || !js->row_id)
			continue;
		sqlite3_stmt *s;
		if (im_prepare(im,
			       "WITH f(l) AS (SELECT COALESCE(NULLIF(?2, 0), (SELECT max(line) FROM "
			       "triage_findings WHERE job_id = ?1 AND severity = 'error' AND source "
			       "IN ('rule', 'marker') AND line IS NOT NULL))) "
			       "UPDATE steps SET conclusion = CASE WHEN last_line < (SELECT l FROM f) "
			       "THEN 'success' WHEN first_line <= (SELECT l FROM f) THEN 'failure' "
			       "ELSE NULL END WHERE job_id = ?1 AND (SELECT conclusion FROM jobs "
			       "WHERE id = ?1) = 'failure' AND EXISTS (SELECT 1 FROM steps t, f WHERE "
			       "t.job_id = ?1 AND t.first_line <= f.l AND f.l <= t.last_line)",
			       &s) != SQLITE_OK)
			return store_err(im->st, err, "cannot mark the failed step");
		sqlite3_bind_int64(s, 1, js->row_id);
		sqlite3_bind_int64(s, 2, js->gh_exit_line);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE && js->gh_exit_line && sqlite3_changes(im->st->db) > 0)
			(*by_exit)++;
		im_done(s);
		if (rc != SQLITE_DONE)
			return store_err(im->st, err, "cannot mark the failed step");
	}
	return 0;
}

/* A log imported alone: its jobs are judged by triage's findings (or by
 * --conclusion), then the run by its jobs. Triage runs once: with every job
 * taken as failed (its error findings are the verdict); afterwards the jobs
 * that passed lose their findings, and only a run where some jobs passed and
 * others failed is triaged again (JUnit failures go to the failed jobs). The
 * statements come from the store's cache: many small logs run them once
 * each. */
/* Jenkins ends every console log with its verdict on the build as a whole:
 * "Finished: SUCCESS" as the last line outweighs the errors a passing build
 * printed on the way (a missing tool a script tolerated, a retried step). */
static bool ends_in_success_verdict(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	static const char v[] = "Finished: SUCCESS";
	size_t k = sizeof(v) - 1;
	return n >= k && !memcmp(s + n - k, v, k) && (n == k || s[n - k - 1] == '\n');
}

/* A complete GitHub Actions job log ends in the runner's own closing line
 * ("2022-03-24T15:02:11.8780497Z Cleaning up orphan processes", or its
 * "Terminate orphan process: pid (…)"): no line of the job is missing. */
static bool ends_in_runner_cleanup(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	size_t b = n;
	while (b && s[b - 1] != '\n')
		b--;
	/* the line: [job<TAB>step<TAB>]YYYY-MM-DDTHH:MM:SS[.f]Z text */
	const char *l = s + b, *e = s + n, *t = l;
	for (const char *p = l; p < e; p++)
		if (*p == '\t')
			t = p + 1;
	if (e - t < 21 || t[4] != '-' || t[10] != 'T' || t[13] != ':')
		return false;
	const char *z = memchr(t, 'Z', (size_t)(e - t));
	if (!z || z - t > 30 || e - z < 2 || z[1] != ' ')
		return false;
	static const char clean[] = "Cleaning up orphan processes";
	static const char term[] = "Terminate orphan process: pid";
	size_t rest = (size_t)(e - z - 2);
	return (rest == sizeof(clean) - 1 && !memcmp(z + 2, clean, rest)) ||
	       (rest >= sizeof(term) - 1 && !memcmp(z + 2, term, sizeof(term) - 1));
}

/* A job of a complete GitHub Actions log that the runner did not record as
 * failed: not one ##[error] line (a failed step always gets one, "Process
 * completed with exit code N."), and a step that is not the runner's own
 * clean-up started after the step of its last error finding (a rule's or
 * a marker's; not triage's fallback on the last lines), so the job
 * went on past it. Its errors were tolerated: the job passed. *line gets
 * that finding's line. 1 when so, 0 when not, -1 with err set. */
static int passed_by_runner(struct importer *im, int64_t job_row_id, int64_t *line,
			    struct cs_err *err)
{
	sqlite3_stmt *s;
	if (im_prepare(im,
		       "WITH last(line, step_end) AS (SELECT f.line, coalesce((SELECT st.last_line "
		       "FROM steps st WHERE st.job_id = ?1 AND f.line BETWEEN st.first_line AND "
		       "st.last_line), f.line) FROM triage_findings f WHERE f.job_id = ?1 AND "
		       "f.severity = 'error' AND f.source IN ('rule', 'marker') AND f.line IS NOT "
		       "NULL ORDER BY f.line DESC LIMIT 1) "
		       "SELECT last.line FROM last WHERE NOT EXISTS (SELECT 1 FROM findings m "
		       "WHERE m.job_id = ?1 AND m.severity = 'error') AND NOT EXISTS (SELECT 1 FROM "
		       "triage_findings f WHERE f.job_id = ?1 AND f.severity = 'error' AND f.source "
		       "IN ('rule', 'marker') AND f.line IS NULL) AND EXISTS (SELECT 1 FROM steps n WHERE n.job_id = ?1 AND "
		       "n.first_line > last.step_end AND n.name NOT LIKE 'Post %' AND n.name NOT IN "
		       "('Complete job', 'Set up job'))",
		       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot judge the log");
	sqlite3_bind_int64(s, 1, job_row_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*line = sqlite3_column_int64(s, 0);
	im_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(im->st, err, "cannot judge the log");
	return rc == SQLITE_ROW;
}

static int conclude_log(struct importer *im, struct run_src *rs, int64_t row, struct cs_err *err)
{
	const char *given = im->opts.conclusion;
	bool given_success = given && strcmp(given, "failure") != 0;
	/* not given success: its jobs were inserted as failed (insert_job()) */
	if (given_success &&
	    im_exec_id(im, "UPDATE jobs SET conclusion = 'success' WHERE run_id = ?1", row,
		       "cannot judge the log", err) < 0)
		return -1;
	/* with --conclusion success nothing is failed: nothing to triage.
	 * Judged from the evidence, a job with no error finding passed and its
	 * triage would go: it is not stored (most logs of a big import pass);
	 * unless the name says failed, which keeps the triage of every job */
	/* the jobs judged failed by triage: 0 says no triage row is left for
	 * the run, so none of the statements below that read them has work */
	int judged_failed = -1;
	if (!given_success) {
		struct triage_log_mem mem[16];
		int n_mem = 0;
		for (int i = 0; i < im->n_mem && n_mem < (int)ARRAY_SIZE(mem); i++)
			if (!im->mem[i].over)
				mem[n_mem++] = (struct triage_log_mem){
					im->mem[i].job_row_id,
					im->mem[i].data.data ? im->mem[i].data.data : "",
					im->mem[i].data.len, NULL, im->mem[i].steps,
					im->mem[i].n_steps, im->mem[i].steps_known};
		/* one log read ahead: its rules scan too, if these are its bytes */
		if (n_mem == 1 && im->n_mem == 1 && rs->file_in_mem &&
		    triage_prescan_ok(rs->file_pre, mem[0].len) && rs->file.len == mem[0].len &&
		    (mem[0].len == 0 || memcmp(rs->file.data, mem[0].data, mem[0].len) == 0))
			mem[0].pre = rs->file_pre;
		/* a big log: the rules scan the log writer's worker made of it
		 * (its bytes are not kept: triage replays the scan) */
		for (int i = 0; i < im->n_mem && n_mem < (int)ARRAY_SIZE(mem); i++)
			if (im->mem[i].over && im->mem[i].pre)
				mem[n_mem++] = (struct triage_log_mem){
					im->mem[i].job_row_id, NULL, im->mem[i].len,
					im->mem[i].pre, im->mem[i].steps, im->mem[i].n_steps,
					im->mem[i].steps_known};
		int rc = !given && !name_says_failed(rs->label)
				 ? triage_judge_after_import(im->st, row, mem, n_mem,
							     &judged_failed, err)
				 : triage_after_import(im->st, row, err);
		if (rc < 0)
			return -1;
	}
	struct buf why = BUF_INIT;
	bool failed;
	if (given) {
		failed = !given_success;
		buf_adds(&why, "given with --conclusion");
	} else if (judged_failed == 0) {
		/* no error finding (the rows are none at all): every job passed;
		 * a success verdict only says why */
		int passed_by_verdict = 0;
		for (int i = 0; i < im->n_mem; i++) {
			const char *t;
			size_t tn;
			import_mem_tail(&im->mem[i], &t, &tn);
			if (ends_in_success_verdict(t, tn))
				passed_by_verdict++;
		}
		/* a log alone is the run's one job: found by its id, not through
		 * jobs_by_run (a fifth less of the statement's cost, its triggers
		 * the same) */
		bool one = rs->n_jobs == 1 && rs->jobs[0].row_id;
		if (im_exec_id(im,
			       one ? "UPDATE jobs SET conclusion = 'success' WHERE id = ?1"
				   : "UPDATE jobs SET conclusion = 'success' WHERE run_id = ?1",
			       one ? rs->jobs[0].row_id : row, "cannot judge the log", err) < 0) {
			buf_release(&why);
			return -1;
		}
		failed = false;
		buf_adds(&why, passed_by_verdict
				       ? "the log ends in a success verdict (Finished: SUCCESS)"
				       : "no error finding and no failure verdict in the log");
	} else {
		/* per job: an error finding of triage (a rule's or a marker's) */
		if (im_exec_id(im,
			       "UPDATE jobs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
			       "triage_findings f WHERE f.job_id = jobs.id AND f.severity = 'error' "
			       "AND f.source IN ('rule', 'marker')) THEN 'failure' ELSE 'success' END "
			       "WHERE run_id = ?1",
			       row, "cannot judge the log", err) < 0) {
			buf_release(&why);
			return -1;
		}
		int passed_by_verdict = 0, passed_runner = 0;
		int64_t tolerated_line = 0;
		for (int i = 0; i < im->n_mem; i++) {
			const struct log_mem *m = &im->mem[i];
			const char *t;
			size_t tn;
			import_mem_tail(m, &t, &tn);
			int by = 0;
			if (ends_in_success_verdict(t, tn)) {
				by = 1;
			} else if (ends_in_runner_cleanup(t, tn)) {
				int64_t l = 0;
				int r = passed_by_runner(im, m->job_row_id, &l, err);
				if (r < 0) {
					buf_release(&why);
					return -1;
				}
				if (r > 0 && !passed_runner++)
					tolerated_line = l;
				by = r > 0 ? 2 : 0;
			}
			if (!by)
				continue;
			if (im_exec_id(im, "UPDATE jobs SET conclusion = 'success' WHERE id = ?1",
				       m->job_row_id, "cannot judge the log", err) < 0) {
				buf_release(&why);
				return -1;
			}
			if (by == 1)
				passed_by_verdict++;
		}
		sqlite3_stmt *s;
		if (im_prepare(im,
			       "SELECT f.weak, f.line, f.title, (SELECT count(*) FROM "
			       "triage_findings g JOIN jobs k ON k.id = g.job_id WHERE k.run_id "
			       "= ?1 AND k.conclusion = 'failure' AND g.severity = 'error' AND "
			       "g.source IN ('rule', 'marker')) "
			       "FROM triage_findings f JOIN jobs j ON j.id = f.job_id WHERE "
			       "j.run_id = ?1 AND j.conclusion = 'failure' AND f.severity = 'error' "
			       "AND f.source IN ('rule', 'marker') ORDER BY f.weak, j.ordinal, f.rank "
			       "LIMIT 1",
			       &s) != SQLITE_OK) {
			buf_release(&why);
			return store_err(im->st, err, "cannot judge the log");
		}
		sqlite3_bind_int64(s, 1, row);
		failed = sqlite3_step(s) == SQLITE_ROW;
		if (failed) {
			bool weak = sqlite3_column_int(s, 0) != 0;
			int n = sqlite3_column_int(s, 3);
			const char *t = (const char *)sqlite3_column_text(s, 2);
			if (weak)
				buf_addf(&why, "a failure verdict on line %lld: %s",
					 (long long)sqlite3_column_int64(s, 1), t ? t : "");
			else
				buf_addf(&why, "%d error finding%s, the first on line %lld: %s", n,
					 n == 1 ? "" : "s", (long long)sqlite3_column_int64(s, 1),
					 t ? t : "");
		}
		im_done(s);
		if (!failed && name_says_failed(rs->label)) {
			failed = true;
			buf_addf(&why, "no error found in the log, but its name says it failed (%s)",
				 rs->label);
			if (im_exec_id(im, "UPDATE jobs SET conclusion = 'failure' WHERE run_id = ?1",
				       row, "cannot judge the log", err) < 0) {
				buf_release(&why);
				return -1;
			}
		} else if (!failed && passed_by_verdict) {
			buf_adds(&why, "the log ends in a success verdict (Finished: SUCCESS)");
		} else if (!failed && passed_runner) {
			buf_addf(&why,
				 "a complete GitHub Actions log with no failed step: no ##[error] line "
				 "from the runner, and steps ran after the error on line %lld "
				 "(tolerated)",
				 (long long)tolerated_line);
		} else if (!failed) {
			buf_adds(&why, "no error finding and no failure verdict in the log");
		}
	}
	/* the jobs of a run judged with no triage row all passed */
	bool all_passed = !given && judged_failed == 0;
	sqlite3_stmt *s;
	if (im_prepare(im,
		       all_passed ? "UPDATE runs SET conclusion = 'success', conclusion_why = ?2 "
				    "WHERE id = ?1"
				  : "UPDATE runs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
				    "jobs j WHERE j.run_id = runs.id AND j.conclusion = 'failure') "
				    "THEN 'failure' ELSE 'success' END, conclusion_why = ?2 WHERE "
				    "id = ?1",
		       &s) != SQLITE_OK) {
		buf_release(&why);
		return store_err(im->st, err, "cannot store the run's conclusion");
	}
	sqlite3_bind_int64(s, 1, row);
	sqlite3_bind_text(s, 2, buf_cstr(&why), -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0
						 : store_err(im->st, err, "cannot store the run's conclusion");
	im_done(s);
	buf_release(&why);
	/* the jobs that passed lose the triage they got as failed ones */
	int n_jobs = 0, n_failed = 0;
	if (all_passed)
		return rc; /* no triage rows to drop, no finding to title the run */
	if (rc == 0) {
		if (im_prepare(im,
			       "SELECT count(*), count(*) FILTER (WHERE conclusion = 'failure') "
			       "FROM jobs WHERE run_id = ?1",
			       &s) != SQLITE_OK)
			return store_err(im->st, err, "cannot judge the log");
		sqlite3_bind_int64(s, 1, row);
		if (sqlite3_step(s) == SQLITE_ROW) {
			n_jobs = sqlite3_column_int(s, 0);
			n_failed = sqlite3_column_int(s, 1);
		} else {
			rc = store_err(im->st, err, "cannot judge the log");
		}
		im_done(s);
	}
	if (rc == 0 && n_failed == 0) {
		if (im_exec_id(im,
			       "DELETE FROM triage_findings WHERE job_id IN "
			       "(SELECT id FROM jobs WHERE run_id = ?1)",
			       row, "cannot store the triage", err) < 0 ||
		    im_exec_id(im,
			       "DELETE FROM triage_jobs WHERE job_id IN "
			       "(SELECT id FROM jobs WHERE run_id = ?1)",
			       row, "cannot store the triage", err) < 0)
			rc = -1;
	} else if (rc == 0 && n_failed < n_jobs) {
		rc = triage_after_import(im->st, row, err);
	}
	/* a step marked failed by the runner's exit line is what triage of a
	 * fetched run would see: triage again as retriage will */
	int by_exit = 0;
	if (rc == 0)
		rc = mark_failed_steps(im, rs, &by_exit, err);
	if (rc == 0 && by_exit)
		rc = triage_after_import(im->st, row, err);
	/* "tmp/build.log" tells one log from the next by nothing: its first
	 * telling line does */
	if (rc == 0 && title_says_nothing(rs->label) &&
	    im_exec_id(im,
		       "UPDATE runs SET title = title || ': ' || (SELECT substr(f.title, 1, 120) "
		       "FROM triage_findings f JOIN jobs j ON j.id = f.job_id WHERE j.run_id = ?1 "
		       "AND f.severity = 'error' ORDER BY f.weak, j.ordinal, f.rank LIMIT 1) "
		       "WHERE id = ?1 AND EXISTS (SELECT 1 FROM triage_findings f JOIN jobs j ON "
		       "j.id = f.job_id WHERE j.run_id = ?1 AND f.severity = 'error')",
		       row, "cannot store the run's title", err) < 0)
		rc = -1;
	return rc;
}

int import_run_src(struct importer *im, struct run_src *rs, const char *folder,
		   struct cs_err *err)
{
	struct import_event events[16];
	int n_events = 0;
	import_mem_reset(im);
	if (!im->in_batch) {
		if (store_begin(im->st, err) < 0)
			return -1;
		im->in_batch = true;
		im->batch_t0 = time_now_ms();
	}
	if (im_exec_cached(im, "SAVEPOINT run", err) < 0)
		return -1;
	const char *provider = rs->run ? "github" : "local";
	const cJSON *repo = rs->run ? cJSON_GetObjectItemCaseSensitive(rs->run, "repository") : NULL;
	int64_t repo_id = upsert_repo(im, provider, rs->slug, import_jstr(repo, "html_url"), err);
	if (repo_id < 0)
		goto fail;

	/* attempts present: the latest (run.json) and every job's */
	int max_att = rs->latest_attempt;
	for (int i = 0; i < rs->n_jobs; i++)
		max_att = MAX(max_att, rs->jobs[i].attempt);
	for (int a = 1; a <= max_att; a++) {
		bool present = a == rs->latest_attempt;
		for (int i = 0; i < rs->n_jobs && !present; i++)
			present = rs->jobs[i].attempt == a;
		if (!present)
			continue;
		bool bad = false;
		cJSON *own = NULL;
		if (a != rs->latest_attempt && folder)
			own = attempt_run_json(folder, a, err, &bad);
		if (bad)
			goto fail;
		char *old_sig;
		int64_t old = find_existing(im, repo_id, rs->provider_id, a, &old_sig);
		struct buf sig = BUF_INIT;
		buf_addf(&sig, "%s|attempt:%d", buf_cstr(&rs->sig), a);
		if (own) {
			char *t = cJSON_PrintUnformatted(own);
			buf_addf(&sig, "|%016llx",
				 (unsigned long long)import_fnv1a(0xcbf29ce484222325ull, t, strlen(t)));
			free(t);
		}
		bool unchanged = old > 0 && old_sig && !strcmp(old_sig, buf_cstr(&sig));
		/* An earlier attempt we hold already is not replaced by a
		 * derived copy: its own import was more precise. */
		if (old > 0 && a != rs->latest_attempt && !own)
			unchanged = true;
		free(old_sig);
		struct import_event ev = {.provider_id = rs->provider_id, .attempt = a,
					  .repo = rs->slug, .path = rs->path};
		const cJSON *obj = a == rs->latest_attempt ? rs->run : own;
		if (unchanged) {
			ev.state = IMPORT_UNCHANGED;
			ev.run_row_id = old;
			/* an older index kept the path as given: keep it whole now */
			char *source = import_source_path(rs);
			sqlite3_stmt *us;
			bool uok = im_prepare(im, "UPDATE runs SET source = ?2 WHERE id = ?1 "
						  "AND source IS NOT ?2", &us) == SQLITE_OK;
			if (uok) {
				sqlite3_bind_int64(us, 1, old);
				sql_bind_text(us, 2, source);
				uok = sqlite3_step(us) == SQLITE_DONE;
				im_done(us);
			}
			free(source);
			if (!uok) {
				store_err(im->st, err, "cannot store where the run came from");
				buf_release(&sig);
				cJSON_Delete(own);
				goto fail;
			}
		} else {
			ev.state = old > 0 ? IMPORT_UPDATED : IMPORT_CREATED;
			/* the old import steps aside (its id negated) until the new
			 * one is in, so what the new data lacks can be carried over */
			if (old > 0 && set_aside(im, old, err) < 0) {
				buf_release(&sig);
				cJSON_Delete(own);
				goto fail;
			}
			struct attempt_stats ds = {.all_done = true, .first_start = CS_TIME_NONE,
						   .last_end = CS_TIME_NONE};
			for (int i = 0; i < rs->n_jobs; i++) {
				const cJSON *j = rs->jobs[i].json;
				if (rs->jobs[i].attempt != a || !j)
					continue;
				const char *c = import_jstr(j, "conclusion"), *stt = import_jstr(j, "status");
				if (ci_conclusion_is_failure(c))
					ds.any_failed = true;
				if (c && !strcmp(c, "cancelled"))
					ds.any_cancelled = true;
				if (stt && strcmp(stt, "completed"))
					ds.all_done = false;
				int64_t t0 = import_jtime(j, "started_at"), t1 = import_jtime(j, "completed_at");
				if (t0 != CS_TIME_NONE &&
				    (ds.first_start == CS_TIME_NONE || t0 < ds.first_start))
					ds.first_start = t0;
				if (t1 != CS_TIME_NONE && (ds.last_end == CS_TIME_NONE || t1 > ds.last_end))
					ds.last_end = t1;
			}
			bool derive = obj == NULL && rs->run != NULL;
			const cJSON *base = obj ? obj : rs->run;
			int64_t row = 0;
			if (insert_run(im, rs, repo_id, a, base, derive ? &ds : NULL, buf_cstr(&sig),
				       &row, err) < 0) {
				buf_release(&sig);
				cJSON_Delete(own);
				goto fail;
			}
			ev.run_row_id = row;
			im->gen_extra = 0;
			for (int i = 0; i < rs->n_jobs; i++) {
				struct job_src *js = &rs->jobs[i];
				if (js->attempt != a)
					continue;
				if (import_interrupted(im)) {
					err_set(err, CS_EINTR, "interrupted");
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				if (insert_job(im, rs, row, js, err) < 0 ||
				    import_job_log(im, rs, js, err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				ev.n_jobs++;
				/* its log_state was given at its insert */
				if (job_log_stored(rs, js))
					ev.n_logs++;
				ev.n_findings += js->n_findings;
			}
			if (!rs->run && rs->log_alone) {
				if (conclude_log(im, rs, row, err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				ev.triaged = true;
			} else if (!rs->run) {
				/* an archive has no conclusion of its own: say what it
				 * shows (an ##[error] line means it failed) */
				sqlite3_stmt *cj, *cr;
				int ok = im_prepare(im,
						    "UPDATE jobs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
						    "findings f WHERE f.job_id = jobs.id AND f.severity = 'error') "
						    "THEN 'failure' ELSE 'success' END WHERE run_id = ?1", &cj) == SQLITE_OK &&
					 im_prepare(im,
						    "UPDATE runs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
						    "jobs j WHERE j.run_id = runs.id AND j.conclusion = 'failure') "
						    "THEN 'failure' ELSE 'success' END WHERE id = ?1", &cr) == SQLITE_OK;
				if (ok) {
					sqlite3_bind_int64(cj, 1, row);
					ok = sqlite3_step(cj) == SQLITE_DONE;
					im_done(cj);
				}
				if (ok) {
					sqlite3_bind_int64(cr, 1, row);
					ok = sqlite3_step(cr) == SQLITE_DONE;
					im_done(cr);
				}
				if (!ok) {
					store_err(im->st, err, "cannot store the run's conclusion");
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
			}
			if (old > 0) {
				int carried = carry_over(im, rs, a, old, row, err);
				if (carried < 0 || delete_run(im, old, err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				ev.n_logs += carried;
			}
			if (mark_steps(im, row, ev.n_jobs > 0, err) < 0) {
				buf_release(&sig);
				cJSON_Delete(own);
				goto fail;
			}
			if (a == rs->latest_attempt && folder) {
				struct art_totals tot = {0};
				if (import_artifacts(im, folder, row, &tot, err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				ev.n_tests = tot.tests;
				ev.n_series = tot.series;
				ev.n_artifact_files = tot.files;
			}
		}
		buf_release(&sig);
		cJSON_Delete(own);
		const char *wf = rs->run ? import_jstr(rs->run, "name") : "(imported log)";
		ev.workflow = wf;
		if (n_events < (int)ARRAY_SIZE(events))
			events[n_events++] = ev;
	}
	/* triage what is new, in the same transaction (core/triage.h) */
	for (int i = 0; i < n_events; i++)
		if (events[i].state != IMPORT_UNCHANGED && !events[i].triaged &&
		    triage_after_import(im->st, events[i].run_row_id, err) < 0)
			goto fail;
	if (im_exec_cached(im, "RELEASE run", err) < 0)
		goto fail;
	im->prog.runs++;
	im->batch_runs++;
	for (int i = 0; i < n_events; i++)
		if (im->opts.on_run)
			im->opts.on_run(im->opts.ctx, &events[i]);
	if (im->batch_runs >= BATCH_RUNS || time_now_ms() - im->batch_t0 >= BATCH_MS) {
		int runs = im->batch_runs;
		if (import_batch_commit(im, err) < 0) {
			import_batch_lost(im, runs - 1, err);
			return -1;
		}
	}
	return 0;
fail:
	repo_forget(im);
	if (sqlite3_get_autocommit(im->st->db)) {
		/* SQLite ended the whole transaction (a full disk, an I/O error) */
		import_batch_lost(im, im->batch_runs, err);
	} else if (sqlite3_exec(im->st->db, "ROLLBACK TO run; RELEASE run", NULL, NULL, NULL) !=
		   SQLITE_OK) {
		store_rollback(im->st);
		import_batch_lost(im, im->batch_runs, err);
	}
	return -1;
}
