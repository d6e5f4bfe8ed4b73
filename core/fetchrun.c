/* fetchrun.c - the runs a fetch brings in and what it does with each answer:
 * listing pages choose the runs (new ones, and those held as in progress),
 * each run asks its jobs, attempts, logs (per job, else the archive) and
 * artifacts; a run whose transfers are all over gets run.json, written last,
 * and is imported. Answers are judged by gh_decide() (github.c): use, follow,
 * retry, pause or give up. Private to the fetcher (fetch_int.h).
 */
#include "fetch_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* --- runs ------------------------------------------------------------------------------------------ */
static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jint(const cJSON *o, const char *k, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

void fetch_frun_release(struct frun *r)
{
	cJSON_Delete(r->obj);
	cJSON_Delete(r->jobs);
	r->obj = r->jobs = NULL;
}

static void run_fail(struct fetcher *f, struct frun *r)
{
	r->error = true;
	f->any_failed = true;
}

/* A run that cannot be written to the cache is done, and failed. */
static void run_give_up(struct fetcher *f, struct frun *r, const char *why)
{
	fetch_say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, why);
	run_fail(f, r);
	r->state = R_DONE;
	f->p.runs_failed++;
	f->p.runs_done++;
	fetch_frun_release(r);
}

static void run_finalize(struct fetcher *f, struct frun *r)
{
	if (r->state != R_ACTIVE || r->pending > 0)
		return;
	if (r->error || f->cancelled) {
		r->state = R_DONE;
		if (r->error) {
			f->p.runs_failed++;
			f->p.runs_done++;
		}
		fetch_frun_release(r);
		return;
	}
	struct cs_err err;
	err_clear(&err);
	char *p = path_join(r->dir, "run.json");
	int rc = fcache_put_json(&f->cache, p, r->obj, &err);
	free(p);
	if (rc < 0) {
		run_give_up(f, r, err.msg);
		return;
	}
	r->state = R_READY;
	fetch_frun_release(r);
}

void fetch_xfer_done_with(struct fetcher *f, struct xfer *x)
{
	struct frun *r = x->run;
	fetch_xfer_free(x);
	if (r) {
		r->pending--;
		run_finalize(f, r);
	}
}

static bool key_seen(struct fetcher *f, const char *key)
{
	for (size_t i = 0; i < f->nkeys; i++)
		if (!strcmp(f->keys[i], key))
			return true;
	XGROW(f->keys, f->akeys, f->nkeys + 1);
	f->keys[f->nkeys++] = xstrdup(key);
	return false;
}

static bool id_seen(struct fetcher *f, int64_t id)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen_ids[i] == id)
			return true;
	return false;
}

static void add_seen(struct fetcher *f, int64_t id)
{
	XGROW(f->seen_ids, f->aseen, f->nseen + 1);
	f->seen_ids[f->nseen++] = id;
}

static struct frun *find_run(struct fetcher *f, int64_t id)
{
	for (struct frun *r = f->runs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}


/* Earlier attempts' run objects: from the run.json a previous fetch wrote
 * (it was the latest then), else one request each. */
static void plan_attempts(struct fetcher *f, struct frun *r)
{
	if (r->attempt <= 1 || r->attempt > 100)
		return;
	char *cur = path_join(r->dir, "run.json");
	int64_t cur_att = 0;
	struct buf b = BUF_INIT;
	struct cs_err e;
	err_clear(&e);
	if (file_read_all(cur, JSON_BODY_MAX, &b, &e) == 0) {
		cJSON *o = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
		if (!jint(o, "run_attempt", &cur_att))
			cur_att = 1;
		cJSON_Delete(o);
	}
	buf_release(&b);
	for (int n = 1; n < r->attempt; n++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "attempts/%d", n);
		char *d = path_join(r->dir, rel);
		char *p = path_join(d, "run.json");
		if (!path_is_file(p)) {
			if (cur_att == n && fetch_ensure_dir(d, &e) == 0 && rename(cur, p) == 0) {
				/* moved */
			} else {
				struct xfer *x = fetch_xfer_new(f, X_ATTEMPT, r,
							  gh_repo_url(&f->c->t, "/actions/runs/%lld/attempts/%d",
								      (long long)r->id, n));
				x->attempt_n = n;
				fetch_enqueue(f, x);
			}
		}
		free(p);
		free(d);
	}
	free(cur);
}

/* A run to download: its folder, its jobs, earlier attempts, artifacts. */
static void want_run(struct fetcher *f, cJSON *obj, bool baseline)
{
	int64_t id = 0, att = 1;
	jint(obj, "id", &id);
	jint(obj, "run_attempt", &att);
	if (att < 1)
		att = 1;
	struct frun *r = xcalloc(1, sizeof(*r));
	r->id = id;
	r->attempt = (int)att;
	r->seq = ++f->next_seq;
	r->obj = obj;
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(obj, "repository");
	const char *full = jstr(repo, "full_name");
	r->slug = xstrdup(full ? full : f->c->t.slug);
	const char *status = jstr(obj, "status");
	r->completed = status && !strcmp(status, "completed");
	r->failed = ci_conclusion_is_failure(jstr(obj, "conclusion"));
	r->baseline = baseline;
	r->jobs = cJSON_CreateArray();
	char rel[64];
	snprintf(rel, sizeof(rel), "%lld", (long long)id);
	r->dir = path_join(f->runs_dir, rel);
	if (f->runs_tail)
		f->runs_tail->next = r;
	else
		f->runs = r;
	f->runs_tail = r;
	f->p.runs_wanted++;
	struct cs_err err;
	err_clear(&err);
	if (fetch_ensure_dir(r->dir, &err) < 0) {
		run_give_up(f, r, err.msg);
		return;
	}
	r->pending++; /* held while the work is planned */
	fetch_enqueue(f, fetch_xfer_new(f, X_JOBS, r,
			    gh_repo_url(&f->c->t, "/actions/runs/%lld/jobs?filter=all&per_page=%d",
					(long long)id, GH_PER_PAGE)));
	plan_attempts(f, r);
	if (r->completed && f->globs && *f->globs)
		fetch_enqueue(f, fetch_xfer_new(f, X_ARTLIST, r,
				    gh_repo_url(&f->c->t, "/actions/runs/%lld/artifacts?per_page=%d",
						(long long)id, GH_PER_PAGE)));
	r->pending--;
}

/* One page of the run listing. Returns true when paging should go on. */
static bool take_page(struct fetcher *f, cJSON *doc)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "workflow_runs");
	if (!cJSON_IsArray(arr)) {
		fetch_say(f, FETCH_ERROR, "the run listing of %s has no \"workflow_runs\" list",
		    f->c->t.slug);
		f->any_failed = true;
		return false;
	}
	bool go_on = true, saw_held = false;
	f->p.pages++;
	cJSON *obj;
	while ((obj = arr->child)) {
		cJSON_DetachItemViaPointer(arr, obj);
		if (f->listed >= f->limit) {
			go_on = false;
			cJSON_Delete(obj);
			break;
		}
		int64_t id = 0, att = 1;
		if (!cJSON_IsObject(obj) || !jint(obj, "id", &id) || id <= 0) {
			fetch_say(f, FETCH_WARN, "the run listing of %s holds a run without an id: skipped",
			    f->c->t.slug);
			cJSON_Delete(obj);
			continue;
		}
		if (id_seen(f, id)) { /* pages shifted under us: seen already */
			cJSON_Delete(obj);
			continue;
		}
		add_seen(f, id);
		jint(obj, "run_attempt", &att);
		f->listed++;
		f->p.runs_listed++;
		const char *concl = jstr(obj, "conclusion");
		struct buf key = BUF_INIT;
		int64_t wf = 0;
		jint(obj, "workflow_id", &wf);
		const char *wname = jstr(obj, "name"), *br = jstr(obj, "head_branch");
		buf_addf(&key, "%lld|%s|%s", (long long)wf, wname ? wname : "", br ? br : "");
		bool baseline = concl && !strcmp(concl, "success") && !key_seen(f, key.data);
		buf_release(&key);
		const cJSON *repo = cJSON_GetObjectItemCaseSensitive(obj, "repository");
		const char *slug = jstr(repo, "full_name");
		struct cs_err err;
		err_clear(&err);
		int held = store_run_held(f->st, slug ? slug : f->c->t.slug, id, (int)MAX(att, 1),
					  &err);
		if (held == STORE_RUN_COMPLETED) {
			saw_held = true;
			cJSON_Delete(obj);
			continue;
		}
		want_run(f, obj, baseline);
	}
	if (saw_held && !f->full_mode)
		go_on = false;
	return go_on;
}

void fetch_listing_finished(struct fetcher *f)
{
	if (f->listing_done)
		return;
	f->listing_done = true;
	f->p.listing_done = true;
	if (f->cancelled || f->fatal)
		return;
	/* runs the index holds as not completed that the listing did not show */
	for (int i = 0; i < f->n_incomplete; i++) {
		int64_t id = f->incomplete[i];
		if (id_seen(f, id))
			continue;
		add_seen(f, id);
		fetch_enqueue(f, fetch_xfer_new(f, X_RUN, NULL,
				    gh_repo_url(&f->c->t, "/actions/runs/%lld", (long long)id)));
	}
}

/* Which jobs' logs: see fetch.h. */
static bool want_log(struct fetcher *f, struct frun *r, const cJSON *job, int job_att)
{
	const char *status = jstr(job, "status"), *concl = jstr(job, "conclusion");
	if (!r->completed || !status || strcmp(status, "completed"))
		return false;
	if (concl && !strcmp(concl, "skipped"))
		return false;
	if (f->o.all_logs || r->failed || ci_conclusion_is_failure(concl))
		return true;
	return r->baseline && job_att == r->attempt;
}

static void ask_archive(struct fetcher *f, struct frun *r)
{
	if (r->archive_asked)
		return;
	r->archive_asked = true;
	f->p.logs_wanted++;
	struct xfer *x = fetch_xfer_new(f, X_RUNLOG, r,
				  gh_repo_url(&f->c->t, "/actions/runs/%lld/logs", (long long)r->id));
	fetch_enqueue(f, x);
}

static void write_jobs(struct fetcher *f, struct frun *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "total_count", cJSON_GetArraySize(r->jobs));
	cJSON_AddItemReferenceToObject(doc, "jobs", r->jobs);
	char *p = path_join(r->dir, "jobs.json");
	struct cs_err err;
	err_clear(&err);
	if (fcache_put_json(&f->cache, p, doc, &err) < 0) {
		fetch_say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
		run_fail(f, r);
	}
	free(p);
	cJSON_Delete(doc);
}

static void jobs_complete(struct fetcher *f, struct frun *r)
{
	r->jobs_done = true;
	/* no jobs: no jobs.json either, so the importer takes the jobs from
	 * the log archive when there is one */
	if (cJSON_GetArraySize(r->jobs) > 0)
		write_jobs(f, r);
	if (r->error)
		return;
	int n = 0;
	const cJSON *j;
	cJSON_ArrayForEach(j, r->jobs)
	{
		n++;
		int64_t jid = 0, att = r->attempt;
		if (!jint(j, "id", &jid) || jid <= 0)
			continue;
		jint(j, "run_attempt", &att);
		if (!want_log(f, r, j, (int)att))
			continue;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)jid);
		char *dest = path_join(r->dir, rel);
		bool have = path_is_file(dest);
		free(dest);
		if (have)
			continue;
		f->p.logs_wanted++;
		struct xfer *x = fetch_xfer_new(f, X_JOBLOG, r,
					  gh_repo_url(&f->c->t, "/actions/jobs/%lld/logs", (long long)jid));
		x->job_id = jid;
		x->job_attempt = (int)att;
		fetch_enqueue(f, x);
	}
	f->p.jobs += n;
	/* no jobs to take logs from (a run from an old recording, a startup
	 * failure): the archive is what there is */
	if (n == 0 && r->completed && (f->o.all_logs || r->failed || r->baseline)) {
		char *zp = path_join(r->dir, "logs.zip");
		if (!path_is_file(zp))
			ask_archive(f, r);
		free(zp);
	}
}

static void write_marker(struct fetcher *f, struct frun *r, const char *rel)
{
	char *p = path_join(r->dir, rel);
	char *d = xstrdup(p);
	char *slash = strrchr(d, '/');
	if (slash)
		*slash = '\0';
	struct cs_err err;
	err_clear(&err);
	if (fetch_ensure_dir(d, &err) < 0 ||
	    fcache_put_file(&f->cache, p, FETCH_EXPIRED_MARKER, strlen(FETCH_EXPIRED_MARKER), &err) < 0) {
		fetch_say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
		run_fail(f, r);
	}
	free(d);
	free(p);
}

/* The archive answered 410: every job of the latest attempt without a log
 * has expired. */
static void archive_expired(struct fetcher *f, struct frun *r)
{
	const cJSON *j;
	cJSON_ArrayForEach(j, r->jobs)
	{
		int64_t jid = 0, att = r->attempt;
		if (!jint(j, "id", &jid) || jid <= 0)
			continue;
		jint(j, "run_attempt", &att);
		if (att != r->attempt)
			continue;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)jid);
		char *p = path_join(r->dir, rel);
		bool have = path_is_file(p);
		free(p);
		if (!have) {
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)jid);
			write_marker(f, r, rel);
		}
	}
}

static void take_artifacts(struct fetcher *f, struct frun *r, cJSON *doc)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "artifacts");
	const cJSON *a;
	cJSON_ArrayForEach(a, arr)
	{
		const char *name = jstr(a, "name");
		int64_t aid = 0, size = 0;
		if (!name || !jint(a, "id", &aid) || aid <= 0)
			continue;
		jint(a, "size_in_bytes", &size);
		if (!fetch_artifact_matches(f->globs, name))
			continue;
		if (!fetch_safe_component(name) || str_ends(name, ".expired")) {
			fetch_say(f, FETCH_WARN, "run %lld: artifact '%s': the name cannot be a file name: "
					   "skipped",
			    (long long)r->id, name);
			continue;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "expired"))) {
			struct buf rel = BUF_INIT;
			buf_addf(&rel, "artifacts/%s.expired", name);
			write_marker(f, r, rel.data);
			buf_release(&rel);
			continue;
		}
		if (size > f->o.artifact_max) {
			fetch_say(f, FETCH_WARN,
			    "run %lld: artifact '%s' is %.1f MB, over the cap of %.1f MB "
			    "(--artifact-max): skipped",
			    (long long)r->id, name, (double)size / 1e6, (double)f->o.artifact_max / 1e6);
			continue;
		}
		/* downloaded already (a run fetched again) */
		struct buf rel = BUF_INIT;
		buf_addf(&rel, "artifacts/%s", name);
		char *p = path_join(r->dir, rel.data);
		buf_adds(&rel, ".zip");
		char *pz = path_join(r->dir, rel.data);
		bool have = path_is_file(p) || path_is_file(pz);
		free(p);
		free(pz);
		buf_release(&rel);
		if (have)
			continue;
		f->p.artifacts_wanted++;
		struct xfer *x = fetch_xfer_new(f, X_ARTDL, r,
					  gh_repo_url(&f->c->t, "/actions/artifacts/%lld/zip", (long long)aid));
		x->name = xstrdup(name);
		fetch_enqueue(f, x);
	}
}

/* --- answers ------------------------------------------------------------------------------------------ */
static cJSON *answer_json(struct fetcher *f, struct xfer *x, bool not_modified)
{
	struct buf cached = BUF_INIT;
	const char *data = x->body.data;
	size_t n = x->body.len;
	if (not_modified) {
		char *file = NULL;
		struct cs_err e;
		err_clear(&e);
		if (!fcache_etag(&f->cache, x->api_url, &file) ||
		    file_read_all(file, JSON_BODY_MAX, &cached, &e) < 0) {
			free(file);
			buf_release(&cached);
			return NULL;
		}
		free(file);
		data = cached.data;
		n = cached.len;
		fcache_mark_used(&f->cache, x->api_url);
	} else {
		if (x->etag[0] && x->cacheable)
			fcache_store(&f->cache, x->api_url, x->etag, x->kind == X_PAGE, x->body.data,
				     x->body.len);
	}
	cJSON *doc = cJSON_ParseWithLength(data ? data : "", n);
	buf_release(&cached);
	return doc;
}

/* The next page's URL from the Link header; a relative link is taken
 * against the API origin. */
static char *next_link(struct fetcher *f, struct xfer *x)
{
	struct buf u = BUF_INIT;
	if (!gh_link_find(x->link.data, "next", &u)) {
		buf_release(&u);
		return NULL;
	}
	if (u.data[0] == '/') {
		struct buf abs = BUF_INIT;
		gh_api_host(f->c->t.api_base, &abs);
		struct buf full = BUF_INIT;
		buf_addf(&full, "%s://%s%s", strncasecmp(f->c->t.api_base, "https:", 6) ? "http" : "https",
			 abs.data, u.data);
		buf_release(&abs);
		buf_release(&u);
		return buf_detach(&full, NULL);
	}
	/* the token goes only to the API's origin, and so do we: a next page
	 * elsewhere is not GitHub's */
	if (!gh_same_origin(u.data, f->c->t.api_base)) {
		fetch_say(f, FETCH_WARN, "a next page outside the API (%s): not followed", u.data);
		buf_release(&u);
		return NULL;
	}
	return buf_detach(&u, NULL);
}

static void what_of(struct fetcher *f, struct xfer *x, struct buf *b)
{
	buf_reset(b);
	switch (x->kind) {
	case X_PAGE: buf_addf(b, "the runs of %s", f->c->t.slug); break;
	case X_RUN: buf_addf(b, "a run of %s", f->c->t.slug); break;
	case X_JOBS: buf_addf(b, "the jobs of run %lld", (long long)x->run->id); break;
	case X_ATTEMPT:
		buf_addf(b, "attempt %d of run %lld", x->attempt_n, (long long)x->run->id);
		break;
	case X_JOBLOG:
		buf_addf(b, "the log of job %lld (run %lld)", (long long)x->job_id,
			 (long long)x->run->id);
		break;
	case X_RUNLOG: buf_addf(b, "the log archive of run %lld", (long long)x->run->id); break;
	case X_ARTLIST: buf_addf(b, "the artifacts of run %lld", (long long)x->run->id); break;
	case X_ARTDL:
		buf_addf(b, "artifact '%s' of run %lld", x->name, (long long)x->run->id);
		break;
	}
	if (x->blob_url)
		buf_adds(b, " (from blob storage)");
}

/* A download finished: its temporary file becomes dest. */
static int settle_file(struct fetcher *f, struct xfer *x, const char *dest, struct cs_err *err)
{
	if (x->fd < 0) { /* an empty body */
		x->fd = open(x->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (x->fd < 0)
			return err_set(err, CS_EIO, "cannot write '%s': %s", x->tmp, strerror(errno));
	}
	int rc = close(x->fd);
	x->fd = -1;
	char *d = xstrdup(dest);
	char *slash = strrchr(d, '/');
	if (slash)
		*slash = '\0';
	if (rc < 0) {
		err_set(err, CS_EIO, "cannot write '%s': %s", x->tmp, strerror(errno));
	} else if (fetch_ensure_dir(d, err) < 0) {
		rc = -1;
	} else if (rename(x->tmp, dest) < 0) {
		err_set(err, CS_EIO, "cannot write '%s': %s", dest, strerror(errno));
		rc = -1;
	}
	free(d);
	if (rc == 0) {
		free(x->tmp);
		x->tmp = NULL;
	}
	(void)f;
	return rc;
}

static bool file_is_zip(const char *path)
{
	unsigned char m[4] = {0};
	FILE *fp = fopen(path, "rb");
	size_t got = fp ? fread(m, 1, 4, fp) : 0;
	if (fp)
		fclose(fp);
	return got == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
}

static void on_success(struct fetcher *f, struct xfer *x, bool not_modified)
{
	struct frun *r = x->run;
	struct cs_err err;
	err_clear(&err);
	switch (x->kind) {
	case X_PAGE: {
		cJSON *doc = answer_json(f, x, not_modified);
		if (!doc) {
			fetch_say(f, FETCH_ERROR, "the run listing of %s is not JSON", f->c->t.slug);
			f->any_failed = true;
			fetch_listing_finished(f);
			break;
		}
		bool go_on = take_page(f, doc);
		cJSON_Delete(doc);
		char *next = go_on && !f->cancelled ? next_link(f, x) : NULL;
		if (next)
			fetch_enqueue(f, fetch_xfer_new(f, X_PAGE, NULL, next));
		else
			fetch_listing_finished(f);
		break;
	}
	case X_RUN: {
		cJSON *doc = answer_json(f, x, not_modified);
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			fetch_say(f, FETCH_ERROR, "%s: the answer is not a run object", x->api_url);
			f->any_failed = true;
			break;
		}
		int64_t id = 0;
		jint(doc, "id", &id);
		if (find_run(f, id))
			cJSON_Delete(doc);
		else
			want_run(f, doc, false);
		break;
	}
	case X_JOBS: {
		cJSON *doc = answer_json(f, x, not_modified);
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "jobs");
		if (!cJSON_IsArray(arr)) {
			fetch_say(f, FETCH_ERROR, "the jobs of run %lld: the answer has no \"jobs\" list",
			    (long long)r->id);
			run_fail(f, r);
			cJSON_Delete(doc);
			break;
		}
		cJSON *j;
		while ((j = arr->child))
			cJSON_AddItemToArray(r->jobs, cJSON_DetachItemViaPointer(arr, j));
		cJSON_Delete(doc);
		char *next = next_link(f, x);
		if (next && !f->cancelled) {
			struct xfer *nx = fetch_xfer_new(f, X_JOBS, r, next);
			fetch_enqueue(f, nx);
		} else {
			free(next);
			jobs_complete(f, r);
		}
		break;
	}
	case X_ATTEMPT: {
		cJSON *doc = cJSON_ParseWithLength(x->body.data ? x->body.data : "", x->body.len);
		if (cJSON_IsObject(doc)) {
			char rel[64];
			snprintf(rel, sizeof(rel), "attempts/%d", x->attempt_n);
			char *d = path_join(r->dir, rel);
			char *p = path_join(d, "run.json");
			if (fetch_ensure_dir(d, &err) < 0 || fcache_put_json(&f->cache, p, doc, &err) < 0) {
				fetch_say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
				run_fail(f, r);
			}
			free(p);
			free(d);
		}
		cJSON_Delete(doc);
		break;
	}
	case X_JOBLOG:
	case X_RUNLOG:
	case X_ARTDL: {
		struct buf rel = BUF_INIT;
		if (x->kind == X_JOBLOG) {
			buf_addf(&rel, "logs/%lld.txt", (long long)x->job_id);
		} else if (x->kind == X_RUNLOG) {
			buf_adds(&rel, "logs.zip");
		} else {
			/* a zip is recognised by its signature: non-zipped
			 * artifacts (archive: false) are served as the file */
			bool zip = x->tmp && x->fd >= 0 && file_is_zip(x->tmp);
			buf_addf(&rel, "artifacts/%s%s", x->name,
				 zip ? ".zip" : str_ends(x->name, ".zip") ? ".raw" : "");
		}
		char *dest = path_join(r->dir, rel.data);
		if (settle_file(f, x, dest, &err) < 0) {
			fetch_say(f, FETCH_ERROR, "run %lld: %s", (long long)r->id, err.msg);
			run_fail(f, r);
		} else if (x->kind == X_ARTDL) {
			f->p.artifacts_done++;
		} else {
			f->p.logs_done++;
		}
		free(dest);
		buf_release(&rel);
		break;
	}
	case X_ARTLIST: {
		cJSON *doc = cJSON_ParseWithLength(x->body.data ? x->body.data : "", x->body.len);
		if (!cJSON_IsObject(doc)) {
			fetch_say(f, FETCH_ERROR, "the artifacts of run %lld: the answer is not JSON",
			    (long long)r->id);
			run_fail(f, r);
		} else {
			take_artifacts(f, r, doc);
			char *next = next_link(f, x);
			if (next && !f->cancelled)
				fetch_enqueue(f, fetch_xfer_new(f, X_ARTLIST, r, next));
			else
				free(next);
		}
		cJSON_Delete(doc);
		break;
	}
	}
}

/* A request that will not succeed. */
static void on_failure(struct fetcher *f, struct xfer *x, CURLcode cc)
{
	struct frun *r = x->run;
	struct cs_err err;
	err_clear(&err);
	struct buf what = BUF_INIT;
	what_of(f, x, &what);
	long s = x->status;
	bool net = cc != CURLE_OK && !x->too_big;
	if (x->too_big) {
		if (x->kind == X_ARTDL) {
			fetch_say(f, FETCH_WARN, "%s is over the cap of %.1f MB (--artifact-max): skipped",
			    what.data, (double)f->o.artifact_max / 1e6);
		} else {
			fetch_say(f, FETCH_ERROR, "%s: the answer is too large", what.data);
			if (r)
				run_fail(f, r);
		}
		buf_release(&what);
		return;
	}
	if (net) {
		err_set(&err, CS_EIO, "%s: %s%s%s (gave up after %d attempts)", what.data,
			lc.curl_easy_strerror(cc), x->errbuf[0] ? ": " : "", x->errbuf, x->tries);
		if (x->write_errno)
			err_set(&err, CS_EIO, "%s: cannot write the download: %s", what.data,
				strerror(x->write_errno));
	} else {
		gh_http_error(&err, s, x->body.data, x->body.len, what.data, f->c->t.slug,
			      f->c->token == NULL);
		if (s != 401 && s != 403 && s != 404 && s != 410 && x->tries > 1)
			err_prefix(&err, "gave up after %d attempts", x->tries);
	}
	buf_release(&what);
	if (!net && s == 401) {
		fetch_fatal(f, FETCH_FAILED, &err);
		if (r)
			run_fail(f, r);
		return;
	}
	switch (x->kind) {
	case X_PAGE:
		if (f->p.pages == 0 || (!net && (s == 403 || s == 404))) {
			fetch_fatal(f, FETCH_FAILED, &err);
		} else {
			fetch_say(f, FETCH_ERROR, "%s", err.msg);
			f->any_failed = true;
			fetch_listing_finished(f);
		}
		return;
	case X_RUN:
		if (!net && (s == 404 || s == 410)) {
			fetch_say(f, FETCH_WARN, "%s (deleted on GitHub?)", err.msg);
			return;
		}
		break;
	case X_ATTEMPT:
		if (!net && s == 404)
			return; /* the importer derives it from the jobs */
		break;
	case X_JOBLOG:
		if (!net && s == 410) {
			char rel[64];
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)x->job_id);
			write_marker(f, r, rel);
			f->p.logs_done++;
			return;
		}
		if (!net && s == 404 && !x->blob_url) {
			/* per-job logs unavailable: the archive has them, for the
			 * latest attempt */
			f->p.logs_done++;
			if (x->job_attempt == r->attempt) {
				char *zp = path_join(r->dir, "logs.zip");
				if (!path_is_file(zp))
					ask_archive(f, r);
				free(zp);
			}
			return;
		}
		break;
	case X_RUNLOG:
		f->p.logs_done++;
		if (!net && s == 410) {
			archive_expired(f, r);
			return;
		}
		if (!net && s == 404 && !x->blob_url) {
			fetch_say(f, FETCH_WARN, "run %lld: no logs on GitHub (404)", (long long)r->id);
			return;
		}
		break;
	case X_ARTLIST:
		if (!net && s == 404) {
			fetch_say(f, FETCH_WARN, "%s", err.msg);
			return;
		}
		break;
	case X_ARTDL:
		f->p.artifacts_done++;
		if (!net && s == 410) {
			struct buf rel = BUF_INIT;
			buf_addf(&rel, "artifacts/%s.expired", x->name);
			write_marker(f, r, rel.data);
			buf_release(&rel);
			return;
		}
		if (!net && s == 404) {
			fetch_say(f, FETCH_WARN, "%s", err.msg);
			return;
		}
		break;
	case X_JOBS:
		break;
	}
	fetch_say(f, FETCH_ERROR, "%s", err.msg);
	if (r)
		run_fail(f, r);
	else
		f->any_failed = true;
}

static void requeue(struct fetcher *f, struct xfer *x, int64_t wait_ms)
{
	x->not_before = mono_ms() + wait_ms;
	fetch_enqueue(f, x);
}

static void rate_message(struct fetcher *f, struct xfer *x, int64_t wait_ms, bool primary)
{
	if (f->pause_told)
		return;
	f->pause_told = true;
	char dur[32];
	time_format_duration(wait_ms, dur, sizeof(dur));
	if (primary) {
		char at[40];
		time_format_iso(x->rl_reset > 0 ? x->rl_reset * 1000 : fetch_wall_ms() + wait_ms, at,
				sizeof(at));
		fetch_say(f, FETCH_WARN,
		    "the GitHub API rate limit is exhausted (%ld requests an hour); it resets at %s "
		    "(in %s): waiting (Ctrl-C stops; --no-wait exits instead)",
		    x->rl_limit > 0 ? x->rl_limit : f->p.rate_limit, at, dur);
	} else {
		fetch_say(f, FETCH_WARN,
		    "GitHub's secondary rate limit: waiting %s before going on, with fewer requests "
		    "at once",
		    dur);
	}
}

/* Pause every API request for wait_ms (rate limits are per user, not per
 * request), saying so once per pause. */
static void pause_api(struct fetcher *f, struct xfer *x, int64_t wait_ms, bool primary)
{
	int64_t now = mono_ms();
	if (f->api_pause_until <= now)
		f->pause_told = false;
	if (now + wait_ms > f->api_pause_until) {
		f->api_pause_until = now + wait_ms;
		f->p.paused_until = fetch_wall_ms() + wait_ms;
	}
	rate_message(f, x, wait_ms, primary);
}

static void xfer_finished(struct fetcher *f, struct xfer *x, CURLcode cc)
{
	lc.curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	char *loc = NULL;
	if (x->status >= 300 && x->status < 400) {
		char *l = NULL;
		lc.curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &l);
		if (l)
			loc = xstrdup(l);
	}
	fetch_xfer_detach(f, x);
	for (size_t i = 0; i < f->nlive; i++)
		if (f->live[i] == x) {
			f->live[i] = f->live[--f->nlive];
			break;
		}
	x->tries++;
	if (cc == CURLE_FILESIZE_EXCEEDED)
		x->too_big = true;
	bool api = fetch_on_api(x);
	if (api && x->rl_remaining >= 0) {
		f->p.rate_remaining = x->rl_remaining;
		if (x->rl_limit >= 0)
			f->p.rate_limit = x->rl_limit;
		if (x->rl_reset > 0)
			f->p.rate_reset = x->rl_reset;
	}
	if (f->cancelled) {
		free(loc);
		fetch_xfer_done_with(f, x);
		return;
	}
	struct gh_answer a = {.net = x->too_big || x->write_errno ? GH_NET_FATAL : gh_net_of_curl(cc),
			      .status = x->status, .api = api,
			      .retry_after = x->retry_after[0] ? x->retry_after : NULL,
			      .rl_remaining = x->rl_remaining, .rl_reset = x->rl_reset,
			      .body = x->body.data, .body_len = x->body.len};
	struct gh_decision d;
	gh_decide(&a, x->tries, x->rate_waits, &f->c->pol, fetch_wall_ms(), fetch_rnd(f), &d);
	if (x->status == 304 && !x->cond)
		d.v = GH_FAIL; /* not asked for */
	if (d.v == GH_NOT_MODIFIED)
		f->p.not_modified++;
	switch (d.v) {
	case GH_DONE:
	case GH_NOT_MODIFIED:
		free(loc);
		if (d.v == GH_NOT_MODIFIED && x->kind != X_PAGE && x->kind != X_RUN &&
		    x->kind != X_JOBS) {
			d.v = GH_FAIL;
			break;
		}
		if (d.v == GH_NOT_MODIFIED) {
			/* the cached body must still be there */
			char *file = NULL;
			bool have = fcache_etag(&f->cache, x->api_url, &file) != NULL;
			free(file);
			if (!have) {
				cJSON_DeleteItemFromObjectCaseSensitive(f->cache.etags, x->api_url);
				x->tries = 0;
				requeue(f, x, 0);
				return;
			}
		}
		if (f->max_in_flight < f->jobs && ++f->ok_streak >= 20) {
			f->max_in_flight++;
			f->ok_streak = 0;
		}
		on_success(f, x, d.v == GH_NOT_MODIFIED);
		fetch_xfer_done_with(f, x);
		return;
	case GH_FOLLOW: {
		bool ok = loc && x->hops < MAX_HOPS &&
			  (!strncasecmp(loc, "https://", 8) ||
			   (!strncasecmp(loc, "http://", 7) &&
			    strncasecmp(f->c->t.api_base, "https://", 8)));
		if (!ok) {
			struct buf what = BUF_INIT;
			what_of(f, x, &what);
			fetch_say(f, FETCH_ERROR, "%s: %s", what.data,
			    !loc ? "a redirect without a location"
			    : x->hops >= MAX_HOPS ? "too many redirects"
						  : "a redirect from https to plain http: refused");
			buf_release(&what);
			free(loc);
			if (x->run)
				run_fail(f, x->run);
			fetch_xfer_done_with(f, x);
			return;
		}
		/* a fresh request to the signed URL, without the token */
		free(x->blob_url);
		x->blob_url = loc;
		x->hops++;
		x->tries = 0;
		requeue(f, x, 0);
		return;
	}
	case GH_RETRY:
		free(loc);
		f->p.retries++;
		requeue(f, x, d.wait_ms);
		return;
	case GH_WAIT_SECONDARY:
		free(loc);
		f->p.retries++;
		x->rate_waits++;
		x->tries = MAX(x->tries - 1, 0);
		/* fewer at once for a while: the limit counts concurrency too */
		f->max_in_flight = MAX(1, f->max_in_flight / 2);
		f->ok_streak = 0;
		pause_api(f, x, d.wait_ms, false);
		requeue(f, x, 0);
		return;
	case GH_WAIT_PRIMARY:
		free(loc);
		if (f->o.no_wait) {
			struct cs_err err;
			char at[40];
			time_format_iso(x->rl_reset > 0 ? x->rl_reset * 1000 : fetch_wall_ms() + d.wait_ms, at,
					sizeof(at));
			err_set(&err, CS_EIO,
				"the GitHub API rate limit is exhausted; it resets at %s: stopped "
				"(--no-wait)",
				at);
			fetch_xfer_done_with(f, x);
			fetch_fatal(f, FETCH_RATE_LIMITED, &err);
			return;
		}
		f->p.retries++;
		x->tries = MAX(x->tries - 1, 0);
		pause_api(f, x, d.wait_ms, true);
		requeue(f, x, 0);
		return;
	case GH_FAIL:
		break;
	}
	free(loc);
	/* blob storage refusing an old signed URL: ask GitHub for a new one */
	if (x->blob_url && cc == CURLE_OK && (x->status == 400 || x->status == 403 || x->status == 404) &&
	    x->reissues < MAX_REISSUES) {
		free(x->blob_url);
		x->blob_url = NULL;
		x->reissues++;
		x->tries = 0;
		f->p.retries++;
		requeue(f, x, 0);
		return;
	}
	on_failure(f, x, cc);
	fetch_xfer_done_with(f, x);
}

void fetch_check_done_transfers(struct fetcher *f)
{
	CURLMsg *m;
	int left;
	while ((m = lc.curl_multi_info_read(f->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		lc.curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_finished(f, x, m->data.result);
	}
}

