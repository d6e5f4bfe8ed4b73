/* rbstore.c - see rbstore.h. */
#include "rbstore.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "gitrepo.h"
#include "storesql.h"
#include "triage.h"

/* --- instances and events ---------------------------------------------------------------- */
void rbstore_step_list(const struct runbook *rb, struct buf *out)
{
	for (int i = 0; i < rb->n_steps; i++)
		buf_addf(out, "%s %s\n", rb->steps[i].ident, rb->steps[i].name);
	buf_cstr(out);
}

static int compress_blob(const char *data, size_t n, void **out, size_t *zn, struct cs_err *err)
{
	size_t cap = ZSTD_compressBound(n);
	void *z = xmalloc(cap ? cap : 1);
	size_t r = ZSTD_compress(z, cap, data, n, 3);
	if (ZSTD_isError(r)) {
		free(z);
		return err_set(err, CS_EIO, "cannot compress: %s", ZSTD_getErrorName(r));
	}
	*out = z;
	*zn = r;
	return 0;
}

/* The stored frames come from us, but the file may not: cap what a frame
 * may claim to hold. */
#define RB_BLOB_MAX (16u << 20)

static char *decompress_blob(const void *z, size_t zn, size_t *n)
{
	*n = 0;
	if (!z || !zn)
		return xstrdup("");
	unsigned long long sz = ZSTD_getFrameContentSize(z, zn);
	if (sz == ZSTD_CONTENTSIZE_ERROR || sz == ZSTD_CONTENTSIZE_UNKNOWN || sz > RB_BLOB_MAX)
		return xstrdup("[output not readable]");
	char *out = xmalloc((size_t)sz + 1);
	size_t r = ZSTD_decompress(out, (size_t)sz, z, zn);
	if (ZSTD_isError(r)) {
		free(out);
		return xstrdup("[output not readable]");
	}
	out[r] = '\0';
	*n = r;
	return out;
}

int rbstore_create(struct store *st, struct rb_instance *inst, const char *text, size_t n,
		   struct cs_err *err)
{
	void *z;
	size_t zn;
	if (compress_blob(text, n, &z, &zn, err) < 0)
		return -1;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO runbook_instances (runbook, path, hash, title, source, steps, "
			       "started_at, started_by, head_sha, repo, bound_run, bound_attempt, "
			       "bound_sha, bound_url, mode) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
			       "?10, ?11, ?12, ?13, ?14, ?15)",
			       -1, &s, NULL) != SQLITE_OK) {
		free(z);
		return store_err(st, err, "cannot record the runbook");
	}
	sql_bind_text(s, 1, inst->runbook);
	sql_bind_text(s, 2, inst->path);
	sql_bind_text(s, 3, inst->hash);
	sql_bind_text(s, 4, inst->title);
	sqlite3_bind_blob(s, 5, z, (int)zn, SQLITE_TRANSIENT);
	sql_bind_text(s, 6, inst->steps);
	sqlite3_bind_int64(s, 7, inst->started_at);
	sql_bind_text(s, 8, inst->started_by);
	sql_bind_text(s, 9, inst->head_sha && *inst->head_sha ? inst->head_sha : NULL);
	sql_bind_text(s, 10, inst->repo);
	if (inst->bound_run) {
		sqlite3_bind_int64(s, 11, inst->bound_run);
		sqlite3_bind_int(s, 12, inst->bound_attempt);
	}
	sql_bind_text(s, 13, inst->bound_sha);
	sql_bind_text(s, 14, inst->bound_url);
	sql_bind_text(s, 15, inst->mode);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(z);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot record the runbook");
	inst->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int rbstore_append(struct store *st, int64_t instance_id, struct rb_event *ev, struct cs_err *err)
{
	if (!ev->at)
		ev->at = time_now_ms();
	sqlite3_stmt *s;
	/* one statement: the next seq and the row together, so two writers
	 * (a note while a step runs) cannot take the same number */
	if (sqlite3_prepare_v2(
		    st->db,
		    "INSERT INTO runbook_events (instance_id, seq, at, kind, step, step_name, attempt, "
		    "command, exit, duration_ms, status, output, output_size, vars, text, by, pid, "
		    "host) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM runbook_events WHERE "
		    "instance_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		    "?16, ?17)",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot record a runbook event");
	sqlite3_bind_int64(s, 1, instance_id);
	sqlite3_bind_int64(s, 2, ev->at);
	sql_bind_text(s, 3, ev->kind);
	if (ev->step)
		sqlite3_bind_int(s, 4, ev->step);
	sql_bind_text(s, 5, ev->step_name);
	if (ev->attempt)
		sqlite3_bind_int(s, 6, ev->attempt);
	sql_bind_text(s, 7, ev->command);
	if (ev->exit != RB_NO_EXIT)
		sqlite3_bind_int(s, 8, ev->exit);
	if (ev->duration_ms != CS_TIME_NONE)
		sqlite3_bind_int64(s, 9, ev->duration_ms);
	sql_bind_text(s, 10, ev->status);
	void *z = NULL;
	if (ev->output) {
		size_t zn;
		if (compress_blob(ev->output, ev->output_len, &z, &zn, err) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_bind_blob(s, 11, z, (int)zn, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 12, ev->output_size >= 0 ? ev->output_size : (int64_t)ev->output_len);
	}
	sql_bind_text(s, 13, ev->vars);
	sql_bind_text(s, 14, ev->text);
	sql_bind_text(s, 15, ev->by);
	if (ev->pid)
		sqlite3_bind_int64(s, 16, ev->pid);
	sql_bind_text(s, 17, ev->host);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(z);
	if (rc != SQLITE_DONE)
		return store_err(st, err, "cannot record a runbook event");
	ev->seq = 0;
	return 0;
}

void rb_instance_free(struct rb_instance *inst)
{
	free(inst->runbook);
	free(inst->path);
	free(inst->hash);
	free(inst->title);
	free(inst->source);
	free(inst->steps);
	free(inst->started_by);
	free(inst->head_sha);
	free(inst->repo);
	free(inst->bound_sha);
	free(inst->bound_url);
	free(inst->mode);
	memset(inst, 0, sizeof(*inst));
}

void rb_events_free(struct rb_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		struct rb_event *e = &evs[i];
		free(e->kind);
		free(e->step_name);
		free(e->command);
		free(e->status);
		free(e->output);
		free(e->vars);
		free(e->text);
		free(e->by);
		free(e->host);
	}
	free(evs);
}

#define INST_COLS                                                                              \
	"id, runbook, path, hash, title, source, steps, started_at, started_by, head_sha, repo, " \
	"bound_run, bound_attempt, bound_sha, bound_url, mode"

static void read_instance(sqlite3_stmt *s, struct rb_instance *inst, bool with_source)
{
	memset(inst, 0, sizeof(*inst));
	inst->id = sqlite3_column_int64(s, 0);
	inst->runbook = sql_col_str(s, 1);
	inst->path = sql_col_str(s, 2);
	inst->hash = sql_col_str(s, 3);
	inst->title = sql_col_str(s, 4);
	if (with_source)
		inst->source = decompress_blob(sqlite3_column_blob(s, 5),
					       (size_t)sqlite3_column_bytes(s, 5), &inst->source_len);
	inst->steps = sql_col_str(s, 6);
	inst->started_at = sqlite3_column_int64(s, 7);
	inst->started_by = sql_col_str(s, 8);
	inst->head_sha = sql_col_str(s, 9);
	inst->repo = sql_col_str(s, 10);
	inst->bound_run = sqlite3_column_int64(s, 11);
	inst->bound_attempt = sqlite3_column_int(s, 12);
	inst->bound_sha = sql_col_str(s, 13);
	inst->bound_url = sql_col_str(s, 14);
	inst->mode = sql_col_str(s, 15);
}

static int load_events(struct store *st, int64_t id, bool with_output, struct rb_event **evs,
		       int *n, struct cs_err *err)
{
	sqlite3_stmt *s;
	*evs = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, at, kind, step, step_name, attempt, command, exit, "
			       "duration_ms, status, output, output_size, vars, text, by, pid, host "
			       "FROM runbook_events WHERE instance_id = ?1 ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read the runbook's events");
	sqlite3_bind_int64(s, 1, id);
	size_t alloc = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*evs, alloc, (size_t)*n + 1);
		struct rb_event *e = &(*evs)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->seq = sqlite3_column_int64(s, 0);
		e->at = sqlite3_column_int64(s, 1);
		e->kind = sql_col_str(s, 2);
		if (!e->kind)
			e->kind = xstrdup("?");
		e->step = sqlite3_column_int(s, 3);
		e->step_name = sql_col_str(s, 4);
		e->attempt = sqlite3_column_int(s, 5);
		e->command = sql_col_str(s, 6);
		e->exit = sqlite3_column_type(s, 7) == SQLITE_NULL ? RB_NO_EXIT : sqlite3_column_int(s, 7);
		e->duration_ms = sqlite3_column_type(s, 8) == SQLITE_NULL ? CS_TIME_NONE
									  : sqlite3_column_int64(s, 8);
		e->status = sql_col_str(s, 9);
		e->output_size = -1;
		if (sqlite3_column_type(s, 10) != SQLITE_NULL) {
			if (with_output)
				e->output = decompress_blob(sqlite3_column_blob(s, 10),
							    (size_t)sqlite3_column_bytes(s, 10),
							    &e->output_len);
			e->output_size = sqlite3_column_int64(s, 11);
		}
		e->vars = sql_col_str(s, 12);
		e->text = sql_col_str(s, 13);
		e->by = sql_col_str(s, 14);
		e->pid = sqlite3_column_int64(s, 15);
		e->host = sql_col_str(s, 16);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		rb_events_free(*evs, *n);
		*evs = NULL;
		*n = 0;
		return store_err(st, err, "cannot read the runbook's events");
	}
	return 0;
}

int rbstore_get(struct store *st, int64_t id, struct rb_instance *inst, struct rb_event **evs,
		int *n, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT " INST_COLS " FROM runbook_instances WHERE id = ?1", -1,
			       &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read runbook instances");
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE)
			return err_set(err, CS_ENOTFOUND,
				       "no runbook instance %lld in the index (ciscope runbook log)",
				       (long long)id);
		return store_err(st, err, "cannot read runbook instances");
	}
	read_instance(s, inst, true);
	sqlite3_finalize(s);
	struct rb_event *e = NULL;
	int ne = 0;
	if (load_events(st, id, evs != NULL, &e, &ne, err) < 0) {
		rb_instance_free(inst);
		return -1;
	}
	rbstore_state(inst, e, ne, inst->state, sizeof(inst->state));
	if (evs) {
		*evs = e;
		*n = ne;
	} else {
		rb_events_free(e, ne);
	}
	return 0;
}

int rbstore_list(struct store *st, int limit, rb_instance_cb cb, void *ctx, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " INST_COLS " FROM runbook_instances ORDER BY started_at DESC, "
			       "id DESC LIMIT ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list runbook instances");
	sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
	int rc;
	int ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rb_instance inst;
		read_instance(s, &inst, false);
		struct rb_event *e;
		int ne;
		if (load_events(st, inst.id, false, &e, &ne, err) < 0) {
			rb_instance_free(&inst);
			ret = -1;
			break;
		}
		rbstore_state(&inst, e, ne, inst.state, sizeof(inst.state));
		int64_t last = ne ? e[ne - 1].at : inst.started_at;
		int r = cb(ctx, &inst, ne, last);
		rb_events_free(e, ne);
		rb_instance_free(&inst);
		if (r) {
			ret = r;
			break;
		}
	}
	sqlite3_finalize(s);
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_err(st, err, "cannot list runbook instances");
	return ret;
}

/* --- state ------------------------------------------------------------------------------------------- */
static bool owner_alive(int64_t pid, const char *host)
{
	if (pid <= 0)
		return false;
	char me[256] = "";
	gethostname(me, sizeof(me) - 1);
	if (host && strcmp(host, me) != 0)
		return true; /* another machine's: we cannot tell, assume it runs */
	if (pid == (int64_t)getpid())
		return true;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

void rbstore_state(const struct rb_instance *inst, const struct rb_event *evs, int n, char *state,
		   size_t cap)
{
	(void)inst;
	const struct rb_event *owner = NULL;
	const char *life = NULL;
	for (int i = 0; i < n; i++) {
		const char *k = evs[i].kind;
		if (!strcmp(k, "started") || !strcmp(k, "resumed")) {
			owner = &evs[i];
			life = NULL;
		} else if (!strcmp(k, "finished") || !strcmp(k, "aborted") || !strcmp(k, "stopped")) {
			life = k;
		}
	}
	if (life)
		snprintf(state, cap, "%s", life);
	else if (owner && owner_alive(owner->pid, owner->host))
		snprintf(state, cap, "running");
	else
		snprintf(state, cap, "interrupted");
}

void rbstore_step_states(const struct rb_event *evs, int n, int n_steps, enum rb_step_state *out)
{
	for (int s = 0; s <= n_steps; s++)
		out[s] = RBS_PENDING;
	for (int i = 0; i < n; i++) {
		const struct rb_event *e = &evs[i];
		if (e->step < 1 || e->step > n_steps)
			continue;
		if (!strcmp(e->kind, "step-start"))
			out[e->step] = RBS_INTERRUPTED;
		else if (!strcmp(e->kind, "skip"))
			out[e->step] = RBS_SKIPPED;
		else if (!strcmp(e->kind, "step-end"))
			out[e->step] = e->status && (!strcmp(e->status, "ok") || !strcmp(e->status, "manual") ||
						     !strcmp(e->status, "background"))
					       ? RBS_DONE
					       : RBS_FAILED;
	}
}

int rbstore_resume_step(const struct rb_event *evs, int n, int n_steps)
{
	enum rb_step_state *st = xcalloc((size_t)n_steps + 1, sizeof(*st));
	rbstore_step_states(evs, n, n_steps, st);
	int k = 1;
	while (k <= n_steps && (st[k] == RBS_DONE || st[k] == RBS_SKIPPED))
		k++;
	free(st);
	return k;
}

int rbstore_open_step(const struct rb_event *evs, int n)
{
	int open = 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(evs[i].kind, "step-start"))
			open = evs[i].step;
		else if (!strcmp(evs[i].kind, "step-end") || !strcmp(evs[i].kind, "interrupted") ||
			 !strcmp(evs[i].kind, "skip"))
			open = 0;
	}
	return open;
}

/* --- the index's variables --------------------------------------------------------------------------- */
const char *const rb_index_names[] = {
	"repository",     "default_branch", "failing_run",    "failing_sha",   "failing_job",
	"failing_workflow", "failing_branch", "failing_url",  "triage_summary", "baseline_run",
	"baseline_sha",   "last_green_run", "last_green_sha", "head_sha",      "checkout",
	"runbook_id",     NULL,
};
const char *const rb_index_help[] = {
	"owner/name of the bound run, else of the newest run in the index, else the checkout's origin",
	"the branch most pushes go to (main or master on a tie)",
	"the bound run (--bind), else the newest failed run of the default branch (else of any)",
	"the commit of failing_run",
	"the first failed job of failing_run",
	"the workflow of failing_run",
	"the branch of failing_run",
	"the web page of failing_run",
	"one line per failed job of failing_run: job, category and the line that says why",
	"the newest successful run of failing_run's workflow and branch before it",
	"the commit of baseline_run",
	"the newest successful run of last_green_sha",
	"the newest commit of the default branch (before failing_run) whose runs of the chosen "
	"workflows (the variable 'workflows', comma-separated; else failing_run's) all passed",
	"the commit the checkout's HEAD points at",
	"the top of the git checkout",
	"the id of this runbook instance",
	NULL,
};

void rb_index_ctx_release(struct rb_index_ctx *c)
{
	if (c->have_bound)
		run_free(&c->bound);
	c->have_bound = false;
	free(c->cache_failing);
	c->cache_failing = NULL;
}

static int failing(struct rb_index_ctx *c, struct cs_err *err)
{
	if (c->have_bound)
		return 0;
	char *branch = store_default_branch(c->st, err);
	int rc = store_newest_failed_run(c->st, branch, &c->bound, err);
	if (rc < 0 && err->code == CS_ENOTFOUND && branch)
		rc = store_newest_failed_run(c->st, NULL, &c->bound, err);
	free(branch);
	if (rc < 0)
		return -1;
	c->have_bound = true;
	return 0;
}

static int run_by_row(struct store *st, int64_t row, struct run *r, struct cs_err *err)
{
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)row);
	return store_find_run(st, spec, r, err);
}

static int64_t q_row(struct store *st, const char *sql, const char *t1, const char *t2,
		     int64_t i3, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot query the runs");
	sql_bind_text(s, 1, t1);
	sql_bind_text(s, 2, t2);
	if (i3 != CS_TIME_NONE)
		sqlite3_bind_int64(s, 3, i3);
	int rc = sqlite3_step(s);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot query the runs");
	return v;
}

static void add_run_id(struct buf *out, const struct run *r)
{
	if (r->attempt > 1)
		buf_addf(out, "%lld:%d", (long long)r->provider_id, r->attempt);
	else
		buf_addf(out, "%lld", (long long)r->provider_id);
}

static int triage_summary(struct rb_index_ctx *c, struct buf *out, struct cs_err *err)
{
	struct job *jobs;
	int n;
	if (store_jobs(c->st, c->bound.id, &jobs, &n, err) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!triage_job_failed(&c->bound, &jobs[i]))
			continue;
		struct triage_finding *f;
		int nf;
		if (triage_job_findings(c->st, jobs[i].id, true, &f, &nf, err) < 0) {
			store_jobs_free(jobs, n);
			return -1;
		}
		buf_addf(out, "%s%s: ", out->len ? "\n" : "", jobs[i].name);
		if (nf > 0)
			buf_addf(out, "[%s] %s", f[0].category, f[0].title);
		else
			buf_addf(out, "%s (not triaged)", jobs[i].conclusion ? jobs[i].conclusion : "failed");
		triage_findings_free(f, nf);
	}
	store_jobs_free(jobs, n);
	buf_cstr(out);
	return 0;
}

int rb_index_resolve(void *vctx, const char *name, struct buf *out, struct cs_err *err)
{
	struct rb_index_ctx *c = vctx;
	buf_reset(out);
	if (!strcmp(name, "runbook_id")) {
		if (!c->instance_id)
			return err_set(err, CS_ENOTFOUND, "no instance yet (a dry run records none)");
		buf_addf(out, "%lld", (long long)c->instance_id);
		return 1;
	}
	if (!strcmp(name, "head_sha") || !strcmp(name, "checkout")) {
		struct buf top = BUF_INIT, head = BUF_INIT;
		bool ok = gitrepo_checkout(c->checkout, &top, &head);
		if (ok)
			buf_adds(out, !strcmp(name, "head_sha") ? buf_cstr(&head) : buf_cstr(&top));
		buf_release(&top);
		buf_release(&head);
		if (!ok || !out->len)
			return err_set(err, CS_ENOTFOUND, "not in a git checkout (or HEAD has no commit)");
		return 1;
	}
	if (!c->st)
		return 0;
	if (!strcmp(name, "default_branch")) {
		char *b = store_default_branch(c->st, err);
		if (!b)
			return err->code ? -1 : err_set(err, CS_ENOTFOUND, "the index has no runs");
		buf_adds(out, b);
		free(b);
		return 1;
	}
	if (!strcmp(name, "repository")) {
		if (c->have_bound && c->bound.repo && strchr(c->bound.repo, '/')) {
			buf_adds(out, c->bound.repo);
			return 1;
		}
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(c->st->db,
				       "SELECT p.slug FROM runs r JOIN repos p ON p.id = r.repo_id WHERE "
				       "p.provider = 'github' ORDER BY r.created_at DESC LIMIT 1",
				       -1, &s, NULL) != SQLITE_OK)
			return store_err(c->st, err, "cannot find the repository");
		if (sqlite3_step(s) == SQLITE_ROW)
			buf_adds(out, (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (!out->len && !gitrepo_origin_slug(c->checkout, out, NULL))
			return err_set(err, CS_ENOTFOUND,
				       "no GitHub run in the index and no origin remote in the checkout");
		buf_cstr(out);
		return 1;
	}
	bool wants_failing = str_starts(name, "failing_") || !strcmp(name, "triage_summary") ||
			     str_starts(name, "baseline_");
	if (wants_failing && failing(c, err) < 0)
		return -1;
	const struct run *f = &c->bound;
	if (!strcmp(name, "failing_run")) {
		add_run_id(out, f);
		return 1;
	}
	if (!strcmp(name, "failing_sha") || !strcmp(name, "failing_workflow") ||
	    !strcmp(name, "failing_branch") || !strcmp(name, "failing_url")) {
		const char *v = !strcmp(name, "failing_sha")	  ? f->sha
				: !strcmp(name, "failing_workflow") ? f->workflow
				: !strcmp(name, "failing_branch")   ? f->branch
								    : f->html_url;
		if (!v || !*v)
			return err_set(err, CS_ENOTFOUND, "run %lld has no %s", (long long)f->provider_id,
				       name + 8);
		buf_adds(out, v);
		return 1;
	}
	if (!strcmp(name, "failing_job")) {
		struct job *jobs;
		int n;
		if (store_jobs(c->st, f->id, &jobs, &n, err) < 0)
			return -1;
		for (int i = 0; i < n && !out->len; i++)
			if (triage_job_failed(f, &jobs[i]))
				buf_adds(out, jobs[i].name);
		store_jobs_free(jobs, n);
		if (!out->len)
			return err_set(err, CS_ENOTFOUND, "run %lld has no failed job",
				       (long long)f->provider_id);
		return 1;
	}
	if (!strcmp(name, "triage_summary")) {
		if (triage_summary(c, out, err) < 0)
			return -1;
		if (!out->len)
			return err_set(err, CS_ENOTFOUND, "run %lld has no failed job to summarise",
				       (long long)f->provider_id);
		return 1;
	}
	if (str_starts(name, "baseline_")) {
		/* the same workflow and branch, the newest success before it */
		int64_t row = q_row(c->st,
				    "SELECT id FROM runs WHERE workflow_name IS ?1 AND head_branch IS ?2 "
				    "AND conclusion = 'success' AND created_at < ?3 ORDER BY created_at "
				    "DESC, provider_id DESC, attempt DESC LIMIT 1",
				    f->workflow, f->branch, f->created_at, err);
		if (row < 0)
			return -1;
		if (!row)
			return err_set(err, CS_ENOTFOUND,
				       "no successful run of workflow '%s' on '%s' before run %lld",
				       f->workflow ? f->workflow : "?", f->branch ? f->branch : "?",
				       (long long)f->provider_id);
		struct run b;
		if (run_by_row(c->st, row, &b, err) < 0)
			return -1;
		if (!strcmp(name, "baseline_run"))
			add_run_id(out, &b);
		else if (!strcmp(name, "baseline_sha"))
			buf_adds(out, b.sha ? b.sha : "");
		else {
			run_free(&b);
			return 0;
		}
		run_free(&b);
		return out->len ? 1 : err_set(err, CS_ENOTFOUND, "the baseline run has no commit");
	}
	if (!strcmp(name, "last_green_sha") || !strcmp(name, "last_green_run")) {
		char *branch = store_default_branch(c->st, err);
		if (!branch)
			return err->code ? -1 : err_set(err, CS_ENOTFOUND, "the index has no runs");
		struct cs_err e2;
		err_clear(&e2);
		bool have_f = c->have_bound || failing(c, &e2) == 0;
		const char *wf = c->workflows && *c->workflows ? c->workflows
				 : have_f			  ? f->workflow
								  : NULL;
		int64_t before = have_f && f->branch && !strcmp(f->branch, branch) ? f->created_at
										     : CS_TIME_NONE;
		/* the latest attempt of every run of the chosen workflows on the
		 * branch, grouped by commit; a commit is green when all passed */
		const char *sql =
			"WITH latest AS (SELECT r.* FROM runs r WHERE r.head_branch = ?1 AND "
			"(?2 IS NULL OR instr(',' || ?2 || ',', ',' || r.workflow_name || ',') > 0) AND "
			"(?3 IS NULL OR r.created_at < ?3) AND r.attempt = (SELECT max(attempt) FROM runs "
			"x WHERE x.repo_id = r.repo_id AND x.provider_id = r.provider_id)) "
			"SELECT (SELECT id FROM latest l2 WHERE l2.head_sha = latest.head_sha ORDER BY "
			"created_at DESC LIMIT 1) FROM latest WHERE head_sha IS NOT NULL GROUP BY head_sha "
			"HAVING sum(CASE WHEN status = 'completed' AND conclusion = 'success' THEN 0 ELSE "
			"1 END) = 0 ORDER BY max(created_at) DESC LIMIT 1";
		int64_t row = q_row(c->st, sql, branch, wf, before, err);
		if (row == 0)
			err_set(err, CS_ENOTFOUND,
				"no commit of '%s'%s whose runs of %s%s all passed", branch,
				before != CS_TIME_NONE ? " before the failing run" : "",
				wf ? "workflow(s) " : "every workflow", wf ? wf : "");
		free(branch);
		if (row <= 0)
			return -1;
		struct run g;
		if (run_by_row(c->st, row, &g, err) < 0)
			return -1;
		if (!strcmp(name, "last_green_sha"))
			buf_adds(out, g.sha ? g.sha : "");
		else
			add_run_id(out, &g);
		run_free(&g);
		return 1;
	}
	return 0;
}

/* --- where runbooks are --------------------------------------------------------------------------- */
struct rb_builtin {
	const char *name;
	const char *text;
};
extern const struct rb_builtin rb_builtins[]; /* generated: build/gen/runbooks.c */
extern const int rb_n_builtins;

void rb_sources_free(struct rb_source *s, int n)
{
	for (int i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].path);
		free(s[i].title);
		free(s[i].error);
	}
	free(s);
}

static int cmp_source(const void *a, const void *b)
{
	const struct rb_source *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (int)x->builtin - (int)y->builtin;
}

static char *repo_dir(const char *dir)
{
	return dir ? path_join(dir, ".ciscope/runbooks") : NULL;
}

int rb_sources(const char *dir, struct rb_source **out, int *n, struct cs_err *err)
{
	struct rb_source *v = NULL;
	size_t alloc = 0;
	int k = 0;
	for (int i = 0; i < rb_n_builtins; i++) {
		XGROW(v, alloc, (size_t)k + 1);
		struct rb_source *s = &v[k++];
		memset(s, 0, sizeof(*s));
		s->name = xstrdup(rb_builtins[i].name);
		s->path = xasprintf("builtin:%s", rb_builtins[i].name);
		s->builtin = true;
		struct runbook rb;
		struct cs_err e2;
		err_clear(&e2);
		if (runbook_parse(s->path, rb_builtins[i].text, strlen(rb_builtins[i].text), &rb, &e2) == 0) {
			s->title = xstrdup(rb.title);
			runbook_free(&rb);
		} else {
			s->title = xstrdup(s->name);
			s->error = xstrdup(e2.msg);
		}
	}
	char *rd = repo_dir(dir);
	DIR *d = rd ? opendir(rd) : NULL;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l <= 3 || strcmp(de->d_name + l - 3, ".md") || de->d_name[0] == '.')
				continue;
			XGROW(v, alloc, (size_t)k + 1);
			struct rb_source *s = &v[k++];
			memset(s, 0, sizeof(*s));
			s->name = xstrndup(de->d_name, l - 3);
			s->path = path_join(rd, de->d_name);
			struct runbook rb;
			struct cs_err e2;
			err_clear(&e2);
			if (runbook_load_file(s->path, &rb, &e2) == 0) {
				s->title = xstrdup(rb.title);
				runbook_free(&rb);
			} else {
				s->title = xstrdup(s->name);
				s->error = xstrdup(e2.msg);
			}
		}
		closedir(d);
	}
	free(rd);
	qsort(v, (size_t)k, sizeof(*v), cmp_source);
	/* a repository's runbook hides the bundled one of its name */
	int w = 0;
	for (int i = 0; i < k; i++) {
		if (w > 0 && !strcmp(v[w - 1].name, v[i].name)) {
			struct rb_source *keep = v[w - 1].builtin ? &v[i] : &v[w - 1];
			struct rb_source *drop = keep == &v[i] ? &v[w - 1] : &v[i];
			struct rb_source tmp = *keep;
			free(drop->name);
			free(drop->path);
			free(drop->title);
			free(drop->error);
			tmp.overrides = true;
			v[w - 1] = tmp;
			continue;
		}
		v[w++] = v[i];
	}
	*out = v;
	*n = w;
	(void)err;
	return 0;
}

int rb_load(const char *dir, const char *spec, struct runbook *rb, char **text, size_t *n,
	    struct cs_err *err)
{
	*text = NULL;
	*n = 0;
	const char *builtin = NULL;
	char *file = NULL;
	if (strchr(spec, '/') || str_ends(spec, ".md")) {
		file = xstrdup(spec);
	} else if (str_starts(spec, "builtin:")) {
		builtin = spec + 8;
	} else {
		char *rd = repo_dir(dir);
		if (rd) {
			char *f = xasprintf("%s/%s.md", rd, spec);
			if (path_is_file(f))
				file = f;
			else
				free(f);
		}
		free(rd);
		if (!file)
			builtin = spec;
	}
	if (file) {
		struct buf b = BUF_INIT;
		if (file_read_all(file, RUNBOOK_MAX_SIZE + 1, &b, err) < 0) {
			free(file);
			buf_release(&b);
			return -1;
		}
		int rc = runbook_parse(file, b.data ? b.data : "", b.len, rb, err);
		free(file);
		if (rc < 0) {
			buf_release(&b);
			return -1;
		}
		buf_cstr(&b);
		*text = buf_detach(&b, n);
		return 0;
	}
	for (int i = 0; i < rb_n_builtins; i++)
		if (!strcmp(rb_builtins[i].name, builtin)) {
			char *path = xasprintf("builtin:%s", builtin);
			int rc = runbook_parse(path, rb_builtins[i].text, strlen(rb_builtins[i].text), rb,
					       err);
			free(path);
			if (rc < 0)
				return -1;
			*text = xstrdup(rb_builtins[i].text);
			*n = strlen(*text);
			return 0;
		}
	return err_set(err, CS_ENOTFOUND, "no runbook named '%s' (ciscope runbook list)", spec);
}
