/* import.c - run folders, log archives and log files into the index: reading
 * run folders and archives, and the dispatch over paths. A single log file
 * is read by importfile.c, a run written (in batches) by importrun.c, a
 * job's log stored by importlog.c, a run's artifacts by importart.c (the
 * parts share import_int.h); GitHub's archive file names are in gharchive.c.
 *
 * The shape of one run's import:
 *   read run.json / jobs.json  ->  begin transaction
 *   -> for each attempt: run row, job rows, step rows
 *   -> for each job: its log (per-job file, archive entry, or step files
 *      concatenated), streamed through logw with a line callback that
 *      attributes lines to steps, records groups and findings
 *   -> artifacts: JUnit reports, metric files, everything else listed
 *   -> commit.
 * Any error rolls the whole run back and is reported with the file it came
 * from; the next run goes on.
 */
#include "import_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "github.h"
#include "logparse.h"
#include "triage.h"


const char *import_state_name(enum import_state s)
{
	switch (s) {
	case IMPORT_CREATED: return "created";
	case IMPORT_UPDATED: return "updated";
	case IMPORT_UNCHANGED: return "unchanged";
	}
	return "?";
}

bool import_interrupted(struct importer *im)
{
	return im->opts.interrupted && *im->opts.interrupted;
}

void import_progress_add(struct importer *im, uint64_t bytes, uint64_t files)
{
	im->prog.bytes += bytes;
	im->prog.files += files;
	if (im->opts.on_progress && im->prog.bytes - im->prog_last >= (4u << 20)) {
		im->prog_last = im->prog.bytes;
		im->opts.on_progress(im->opts.ctx, &im->prog);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a folder, sorted (so imports are deterministic), without
 * "." and ".." and, unless all, without hidden ones. Caller frees. */
int import_list_dir(const char *dir, bool all, char ***names, size_t *count, struct cs_err *err)
{
	DIR *d = opendir(dir);
	*names = NULL;
	*count = 0;
	if (!d)
		return err_set(err, CS_EIO, "cannot read folder '%s': %s", dir, strerror(errno));
	size_t alloc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (!all && de->d_name[0] == '.'))
			continue;
		XGROW(*names, alloc, *count + 1);
		(*names)[(*count)++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* an empty folder has no array: qsort's pointer must not be NULL */
	if (*count > 1)
		qsort(*names, *count, sizeof(**names), name_cmp);
	return 0;
}

void import_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* --- JSON helpers -------------------------------------------------------------- */
/* Did the parse fail because the text ends too soon? True when brackets or
 * a string are still open at the end and nothing structural follows the
 * place the parser gave up at (only the unfinished last token). */
static bool json_cut_short(const char *s, size_t n, size_t fail_at)
{
	int depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		else if (i > fail_at && (c == ',' || c == ':'))
			return false;
		if (i > fail_at && (c == '{' || c == '[' || c == '}' || c == ']'))
			return false;
	}
	return in_str || depth > 0;
}

cJSON *import_json_parse_file(const char *path, const char *label, struct cs_err *err)
{
	struct buf b = BUF_INIT;
	if (file_read_all(path, JSON_MAX, &b, err) < 0) {
		buf_release(&b);
		return NULL;
	}
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, &end, 0);
	/* cJSON takes control bytes (NUL included) for white space; JSON does not */
	for (size_t i = 0; j && i < b.len; i++) {
		unsigned char ch = (unsigned char)b.data[i];
		if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') {
			err_set(err, CS_EINVAL, "%s: control byte 0x%02x at byte %zu (not JSON)", label,
				ch, i);
			cJSON_Delete(j);
			buf_release(&b);
			return NULL;
		}
	}
	if (j && end) {
		/* one JSON value and nothing after it but white space */
		size_t off = (size_t)(end - b.data);
		while (off < b.len && (b.data[off] == ' ' || b.data[off] == '\n' ||
				       b.data[off] == '\r' || b.data[off] == '\t'))
			off++;
		if (off < b.len) {
			err_set(err, CS_EINVAL, "%s: unexpected %s after the JSON value at byte %zu",
				label, b.data[off] ? "data" : "NUL byte", off);
			cJSON_Delete(j);
			buf_release(&b);
			return NULL;
		}
	}
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && b.data && at >= b.data && at <= b.data + b.len
				     ? (size_t)(at - b.data)
				     : b.len;
		if (b.len == 0)
			err_set(err, CS_EINVAL, "%s: empty file", label);
		else if (off >= b.len || json_cut_short(b.data, b.len, off))
			err_set(err, CS_EINVAL, "%s: unexpected end of JSON at byte %zu (is the file cut short?)",
				label, b.len);
		else
			err_set(err, CS_EINVAL, "%s: unexpected token at byte %zu", label, off);
	}
	buf_release(&b);
	return j;
}

const char *import_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool import_jint(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble ||
	    v->valuedouble > 9.007199254740992e15 || v->valuedouble < -9.007199254740992e15)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

int64_t import_jtime(const cJSON *o, const char *key)
{
	const char *s = import_jstr(o, key);
	return s ? time_parse_rfc3339(s, strlen(s)) : CS_TIME_NONE;
}

/* --- the description of one run to import --------------------------------------- */
static void run_src_free(struct run_src *rs)
{
	for (int i = 0; i < rs->n_jobs; i++) {
		free(rs->jobs[i].log_file);
		free(rs->jobs[i].step_entries);
		free(rs->jobs[i].step_numbers);
		for (int k = 0; k < rs->jobs[i].n_gh_steps; k++)
			free(rs->jobs[i].gh_steps[k].name);
		free(rs->jobs[i].gh_steps);
	}
	free(rs->jobs);
	cJSON_Delete(rs->run);
	cJSON_Delete(rs->jobs_doc);
	ziparc_close(rs->zip);
	free(rs->label);
	free(rs->real);
	free(rs->slug);
	buf_release(&rs->sig);
	buf_release(&rs->file);
	log_prep_release(&rs->file_prep);
	triage_prescan_free(rs->file_pre);
	rs->file_pre = NULL;
}

void import_sig_add_stat(struct buf *sig, const char *path, const struct stat *st)
{
	struct stat own;
	if (!st && stat(path, &own) == 0)
		st = &own;
	if (st)
		buf_addf(sig, "%s:%lld:%lld;", path_basename(path), (long long)st->st_size,
			 (long long)st->st_mtime);
}

void import_sig_add_file(struct buf *sig, const char *path)
{
	import_sig_add_stat(sig, path, NULL);
}

char *import_source_path(const struct run_src *rs)
{
	if (rs->real)
		return xstrdup(rs->real);
	char *real = rs->path ? realpath(rs->path, NULL) : NULL;
	return real ? real : rs->path ? xstrdup(rs->path) : NULL;
}

/* --- reading a run folder ---------------------------------------------------------------- */
uint64_t import_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A stable identity for a file that has no id of its own: its size and its
 * first and last 64 KiB. Reading it whole would double the cost of
 * importing a large log; two different logs agreeing on size, head and tail
 * are not a practical concern. */
int import_file_fingerprint(const char *path, uint64_t *h, struct cs_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	static char piece[1 << 16];
	uint64_t v = 0xcbf29ce484222325ull;
	struct stat st;
	long long size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
	v = import_fnv1a(v, &size, sizeof(size));
	size_t r = fread(piece, 1, sizeof(piece), f);
	v = import_fnv1a(v, piece, r);
	if (size > (long long)(2 * sizeof(piece)) &&
	    fseeko(f, (off_t)(size - (long long)sizeof(piece)), SEEK_SET) == 0) {
		r = fread(piece, 1, sizeof(piece), f);
		v = import_fnv1a(v, piece, r);
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return err_set(err, CS_EIO, "cannot read '%s'", path);
	*h = v;
	return 0;
}

uint64_t import_mem_fingerprint(const void *data, size_t n)
{
	const size_t piece = 1 << 16;
	uint64_t v = 0xcbf29ce484222325ull;
	long long size = (long long)n;
	v = import_fnv1a(v, &size, sizeof(size));
	v = import_fnv1a(v, data, MIN(n, piece));
	if (n > 2 * piece)
		v = import_fnv1a(v, (const char *)data + n - piece, piece);
	return v;
}

/* An id for data that has none: a positive 53-bit hash, stable across imports. */
int64_t import_content_id(uint64_t h)
{
	int64_t id = (int64_t)(h & 0x1fffffffffffffull);
	return id ? id : 1;
}

struct job_src *import_add_job(struct run_src *rs, size_t *alloc)
{
	XGROW(rs->jobs, *alloc, (size_t)rs->n_jobs + 1);
	struct job_src *j = &rs->jobs[rs->n_jobs];
	memset(j, 0, sizeof(*j));
	j->zip_entry = -1;
	j->ordinal = rs->n_jobs;
	rs->n_jobs++;
	return j;
}

static void add_step_entry(struct job_src *j, long entry, int number)
{
	j->step_entries = xrealloc(j->step_entries, sizeof(long) * (size_t)(j->n_step_entries + 1));
	j->step_numbers = xrealloc(j->step_numbers, sizeof(int) * (size_t)(j->n_step_entries + 1));
	/* keep them in step-number order */
	int k = j->n_step_entries;
	while (k > 0 && j->step_numbers[k - 1] > number) {
		j->step_entries[k] = j->step_entries[k - 1];
		j->step_numbers[k] = j->step_numbers[k - 1];
		k--;
	}
	j->step_entries[k] = entry;
	j->step_numbers[k] = number;
	j->n_step_entries++;
}

/* Match the archive's entries to the jobs of the attempt it holds: by name,
 * never by ordinal (the ordinal is the position in the archive); duplicates
 * (" (1)") go to same-named jobs in jobs.json order. Without jobs.json the
 * entries define the jobs (json_jobs == false). */
static int match_archive(struct run_src *rs, bool json_jobs, size_t *alloc, struct cs_err *err)
{
	struct buf base = BUF_INIT, key = BUF_INIT;
	uint64_t n = ziparc_count(rs->zip);
	bool *used = xcalloc((size_t)n + 1, sizeof(bool));
	/* top-level job files, in order of (base, dup) */
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t i = 0; i < n; i++) {
			struct zip_entry e;
			if (ziparc_entry(rs->zip, i, &e, err) < 0)
				goto fail;
			long ord;
			int dup;
			if (used[i] || e.is_dir || e.unsafe || ziparc_entry_junk(e.name) ||
			    !gh_parse_job_entry(e.name, &ord, &base, &dup))
				continue;
			if (pass == 0 && dup != 0)
				continue; /* first the originals, then the (N) copies */
			struct job_src *target = NULL;
			if (json_jobs) {
				for (int k = 0; k < rs->n_jobs && !target; k++) {
					struct job_src *j = &rs->jobs[k];
					if (j->attempt == rs->zip_attempt && j->zip_entry < 0 &&
					    gh_archive_name_matches_job(base.data, j->name, &key))
						target = j;
				}
			} else {
				target = import_add_job(rs, alloc);
				target->attempt = rs->zip_attempt;
				/* the ordinal is not unique ("1_build.txt", "1_build (1).txt"):
				 * number archive-only jobs by position */
				target->provider_id = rs->n_jobs;
				target->name = e.name; /* fixed below to the base name */
			}
			if (target) {
				target->zip_entry = (long)i;
				used[i] = true;
				if (!json_jobs) {
					/* keep the base name alive: it lives in the job's json */
					cJSON *jo = cJSON_CreateObject();
					cJSON_AddStringToObject(jo, "name", base.data);
					cJSON_AddItemToArray(cJSON_GetObjectItem(rs->jobs_doc, "jobs"), jo);
					target->json = jo;
					target->name = import_jstr(jo, "name");
				}
			}
		}
	}
	/* step files: <job dir>/<number>_<step>.txt */
	for (uint64_t i = 0; i < n; i++) {
		struct zip_entry e;
		if (ziparc_entry(rs->zip, i, &e, err) < 0)
			goto fail;
		if (e.is_dir || e.unsafe || ziparc_entry_junk(e.name))
			continue;
		const char *slash = strchr(e.name, '/');
		if (!slash || strchr(slash + 1, '/') || !str_ends(slash + 1, ".txt"))
			continue;
		char *end;
		long num = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '_')
			continue;
		char *dir = xstrndup(e.name, (size_t)(slash - e.name));
		struct job_src *target = NULL;
		for (int k = 0; k < rs->n_jobs && !target; k++) {
			struct job_src *j = &rs->jobs[k];
			if (j->attempt == rs->zip_attempt && gh_archive_name_matches_job(dir, j->name, &key))
				target = j;
		}
		if (!target && !json_jobs) {
			target = import_add_job(rs, alloc);
			target->attempt = rs->zip_attempt;
			target->provider_id = rs->n_jobs;
			cJSON *jo = cJSON_CreateObject();
			cJSON_AddStringToObject(jo, "name", dir);
			cJSON_AddItemToObject(jo, "steps", cJSON_CreateArray());
			cJSON_AddItemToArray(cJSON_GetObjectItem(rs->jobs_doc, "jobs"), jo);
			target->json = jo;
			target->name = import_jstr(jo, "name");
		}
		if (target) {
			add_step_entry(target, (long)i, (int)num);
			if (!json_jobs) {
				/* synthesise the step from its file name */
				cJSON *steps = cJSON_GetObjectItem((cJSON *)target->json, "steps");
				if (!steps)
					steps = cJSON_AddArrayToObject((cJSON *)target->json, "steps");
				cJSON *so = cJSON_CreateObject();
				cJSON_AddNumberToObject(so, "number", (double)num);
				char *nm = xstrndup(end + 1, strlen(end + 1) - 4);
				cJSON_AddStringToObject(so, "name", nm);
				free(nm);
				cJSON_AddItemToArray(steps, so);
			}
		}
		free(dir);
	}
	free(used);
	buf_release(&base);
	buf_release(&key);
	return 0;
fail:
	free(used);
	buf_release(&base);
	buf_release(&key);
	return -1;
}

static int load_jobs(struct run_src *rs, const char *folder, size_t *alloc, struct cs_err *err)
{
	char *p = path_join(folder, "jobs.json");
	if (!path_is_file(p)) {
		free(p);
		return 0;
	}
	rs->jobs_doc = import_json_parse_file(p, "jobs.json", err);
	free(p);
	if (!rs->jobs_doc)
		return -1;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rs->jobs_doc, "jobs");
	if (!cJSON_IsArray(arr))
		return err_set(err, CS_EINVAL, "jobs.json: no \"jobs\" array (expected the body of "
					       "GET .../runs/{id}/jobs)");
	int idx = 0;
	const cJSON *j;
	cJSON_ArrayForEach(j, arr)
	{
		int64_t id, att = rs->latest_attempt;
		const char *name = import_jstr(j, "name");
		if (!cJSON_IsObject(j) || !import_jint(j, "id", &id) || !name)
			return err_set(err, CS_EINVAL, "jobs.json: jobs[%d] lacks a numeric \"id\" or a "
						       "string \"name\"",
				       idx);
		import_jint(j, "run_attempt", &att);
		if (att < 1 || att > 1000)
			return err_set(err, CS_EINVAL, "jobs.json: jobs[%d]: bad run_attempt %lld", idx,
				       (long long)att);
		const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
		if (steps && !cJSON_IsArray(steps) && !cJSON_IsNull(steps))
			return err_set(err, CS_EINVAL, "jobs.json: jobs[%d].steps is not an array", idx);
		struct job_src *js = import_add_job(rs, alloc);
		js->json = j;
		js->provider_id = id;
		js->name = name;
		js->attempt = (int)att;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)id);
		char *lp = path_join(folder, rel);
		if (path_is_file(lp)) {
			js->log_file = lp;
			import_sig_add_file(&rs->sig, lp);
		} else {
			free(lp);
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)id);
			lp = path_join(folder, rel);
			if (import_is_expired_marker(lp)) {
				js->log_expired = true;
				import_sig_add_file(&rs->sig, lp);
			}
			free(lp);
		}
		idx++;
	}
	return 0;
}

static int load_run_folder(const char *folder, struct run_src *rs, struct cs_err *err)
{
	size_t alloc = 0;
	char *p = path_join(folder, "run.json");
	rs->run = import_json_parse_file(p, "run.json", err);
	free(p);
	if (!rs->run)
		return -1;
	if (!cJSON_IsObject(rs->run) || !import_jint(rs->run, "id", &rs->provider_id))
		return err_set(err, CS_EINVAL, "run.json: no numeric \"id\" (expected the body of "
					       "GET /repos/{owner}/{repo}/actions/runs/{id})");
	int64_t att = 1;
	import_jint(rs->run, "run_attempt", &att);
	if (att < 1 || att > 1000)
		return err_set(err, CS_EINVAL, "run.json: bad run_attempt %lld", (long long)att);
	rs->latest_attempt = (int)att;
	rs->zip_attempt = (int)att;
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(rs->run, "repository");
	const char *slug = import_jstr(repo, "full_name");
	rs->slug = xstrdup(slug ? slug : "unknown/unknown");
	const char *upd = import_jstr(rs->run, "updated_at");
	const char *status = import_jstr(rs->run, "status");
	buf_addf(&rs->sig, "run:%s:%s;", upd ? upd : "", status ? status : "");
	char *jp = path_join(folder, "jobs.json");
	import_sig_add_file(&rs->sig, jp);
	free(jp);

	if (load_jobs(rs, folder, &alloc, err) < 0)
		return -1;
	char *zp = path_join(folder, "logs.zip");
	if (path_is_file(zp)) {
		import_sig_add_file(&rs->sig, zp);
		rs->zip = ziparc_open(zp, err);
		if (!rs->zip) {
			free(zp);
			return err_prefix(err, "logs.zip");
		}
		bool json_jobs = rs->jobs_doc != NULL;
		if (!json_jobs) {
			rs->jobs_doc = cJSON_CreateObject();
			cJSON_AddItemToObject(rs->jobs_doc, "jobs", cJSON_CreateArray());
		}
		if (match_archive(rs, json_jobs, &alloc, err) < 0) {
			free(zp);
			return err_prefix(err, "logs.zip");
		}
	}
	free(zp);
	char *ad = path_join(folder, "artifacts");
	if (path_is_dir(ad)) {
		rs->has_artifacts = true;
		char **names;
		size_t n;
		struct cs_err ignore;
		if (import_list_dir(ad, false, &names, &n, &ignore) == 0) {
			for (size_t i = 0; i < n; i++) {
				char *f = path_join(ad, names[i]);
				buf_addf(&rs->sig, "a:");
				import_sig_add_file(&rs->sig, f);
				free(f);
			}
			import_free_names(names, n);
		}
	}
	free(ad);
	return 0;
}

static int load_archive(const char *path, struct run_src *rs, struct cs_err *err)
{
	size_t alloc = 0;
	const char *base = path_basename(path);
	long long id = 0;
	if (sscanf(base, "logs_%lld.zip", &id) != 1 || id <= 0) {
		uint64_t h;
		if (import_file_fingerprint(path, &h, err) < 0)
			return -1;
		id = import_content_id(h);
	}
	rs->provider_id = id;
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	import_sig_add_stat(&rs->sig, path, rs->st);
	rs->zip = ziparc_open(path, err);
	if (!rs->zip)
		return -1;
	rs->jobs_doc = cJSON_CreateObject();
	cJSON_AddItemToObject(rs->jobs_doc, "jobs", cJSON_CreateArray());
	if (match_archive(rs, false, &alloc, err) < 0)
		return -1;
	if (rs->n_jobs == 0)
		return err_set(err, CS_EINVAL, "no job logs in the archive (expected N_<job>.txt or "
					       "<job>/N_<step>.txt entries)");
	return 0;
}

/* --- dispatch ---------------------------------------------------------------------------------- */
static void report_error(struct importer *im, const char *what, const char *path,
			 struct cs_err *err)
{
	im->failed++;
	if (err->code == CS_EINTR)
		return;
	char msg[sizeof(err->msg) + 600];
	snprintf(msg, sizeof(msg), "cannot import %s '%s': %s", what, path, err->msg);
	if (im->opts.on_error)
		im->opts.on_error(im->opts.ctx, msg);
	memcpy(err->msg, msg, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

/* err keeps the last failure of the whole import: a later success does not
 * clear it. real (taken over) and st: what the walk knows of path, or NULL
 * (struct run_src). */
static int import_one(struct importer *im, const char *path, int kind, char *real,
		      const struct stat *st, struct cs_err *err)
{
	struct run_src rs;
	struct cs_err e;
	memset(&rs, 0, sizeof(rs));
	buf_init(&rs.sig);
	err_clear(&e);
	rs.path = path;
	rs.real = real;
	rs.st = st;
	rs.label = xstrdup(path_basename(path));
	im->prog.current = path;
	static const char *const what[] = {"run folder", "log archive", "log file"};
	int rc;
	if (kind == 0)
		rc = load_run_folder(path, &rs, &e);
	else if (kind == 1)
		rc = load_archive(path, &rs, &e);
	else
		rc = import_load_log_file(im, path, &rs, &e);
	/* a conclusion given for a log is part of what was imported */
	if (rc == 0 && rs.log_alone && im->opts.conclusion)
		buf_addf(&rs.sig, "conclusion:%s;", im->opts.conclusion);
	if (rc == 0)
		rc = import_run_src(im, &rs, kind == 0 ? path : NULL, &e);
	if (rc == 0) {
		im->ok++;
	} else {
		report_error(im, what[kind], path, &e);
		*err = e;
	}
	run_src_free(&rs);
	return rc;
}

/* The folders above the one being walked, by identity: a symbolic link
 * that leads back to one of them is a loop, reported and not followed. */
struct dir_link {
	dev_t dev;
	ino_t ino;
	const char *path;
	const struct dir_link *up;
};

static int import_dir(struct importer *im, const char *dir, int depth, const struct dir_link *up,
		      struct cs_err *err)
{
	char *rj = path_join(dir, "run.json");
	bool is_run = path_is_file(rj);
	free(rj);
	if (is_run)
		return import_one(im, dir, 0, NULL, NULL, err);
	if (depth > MAX_DEPTH)
		return 0;
	struct stat dst;
	if (stat(dir, &dst) < 0) {
		err_set(err, CS_EIO, "%s", strerror(errno));
		report_error(im, "folder", dir, err);
		return -1;
	}
	for (const struct dir_link *l = up; l; l = l->up) {
		if (l->dev == dst.st_dev && l->ino == dst.st_ino) {
			err_set(err, CS_EINVAL,
				"a symbolic link loop: it leads back to '%s' (not followed)", l->path);
			report_error(im, "folder", dir, err);
			return -1;
		}
	}
	struct dir_link here = {dst.st_dev, dst.st_ino, dir, up};
	char **names;
	size_t n;
	if (import_list_dir(dir, false, &names, &n, err) < 0) {
		report_error(im, "folder", dir, err);
		return -1;
	}
	/* resolved once: a file here that is no symbolic link resolves to it
	 * and its name (struct run_src.real) */
	char *rdir = realpath(dir, NULL);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (import_interrupted(im)) {
			rc = -1;
			err_set(err, CS_EINTR, "interrupted");
			break;
		}
		char *p = path_join(dir, names[i]);
		struct stat st;
		/* symbolic links are followed (a tree of linked run folders);
		 * one that leads nowhere, or to itself, is reported */
		bool link = false;
		int sr = lstat(p, &st);
		if (sr == 0 && S_ISLNK(st.st_mode)) {
			link = true;
			sr = stat(p, &st);
		}
		if (sr < 0) {
			if (link) {
				err_set(err, CS_EINVAL, "cannot follow the symbolic link: %s",
					strerror(errno));
				report_error(im, "path", p, err);
				rc = -1;
			}
		} else if (S_ISDIR(st.st_mode)) {
			if (import_dir(im, p, depth + 1, &here, err) < 0)
				rc = -1;
		} else if (S_ISREG(st.st_mode)) {
			int kind = str_ends(names[i], ".zip")					  ? 1
				   : str_ends(names[i], ".txt") || str_ends(names[i], ".log") ? 2
												: -1;
			/* the next log file of this folder, read ahead while
			 * this one is stored */
			import_next_logs_clear(im);
			for (size_t j = i + 1; j < n && kind == 2 &&
					       im->n_next_logs < IMPORT_AHEAD_FILES;
			     j++)
				if (str_ends(names[j], ".txt") || str_ends(names[j], ".log"))
					im->next_logs[im->n_next_logs++] = path_join(dir, names[j]);
			char *real = rdir && !link ? path_join(rdir, names[i]) : NULL;
			if (kind >= 0 && import_one(im, p, kind, real, &st, err) < 0)
				rc = -1;
			else if (kind < 0)
				free(real);
			import_next_logs_clear(im);
		}
		free(p);
	}
	import_free_names(names, n);
	free(rdir);
	return rc;
}

/* The statements every run uses, prepared once for the importer's life, at
 * its first import: a failure (a damaged or foreign schema) is that
 * import's error, never an exit, since a fetch in the TUI imports too. */
static int prepare_statements(struct importer *im, struct cs_err *err)
{
	sqlite3 *db = im->st->db;
	if (im->ins_test)
		return 0;
	if (sqlite3_prepare_v3(db,
			       "INSERT OR REPLACE INTO metric_points (series_id, idx, x, value) "
			       "VALUES (?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_point, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db,
			       "INSERT INTO test_results (run_id, file_id, suite, classname, name, file, "
			       "line, duration_ms, outcome, message, details, reruns) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_test, NULL) != SQLITE_OK) {
		store_err(im->st, err, "cannot prepare the import statements");
		sqlite3_finalize(im->ins_point);
		sqlite3_finalize(im->ins_test);
		im->ins_point = im->ins_test = NULL;
		return -1;
	}
	return 0;
}

static int import_path_batched(struct importer *im, const char *path, struct cs_err *err);

int import_flush(struct importer *im, struct cs_err *err)
{
	struct cs_err e;
	err_clear(&e);
	int runs = im->batch_runs;
	if (import_batch_commit(im, &e) < 0) {
		import_batch_lost(im, runs, &e);
		*err = e;
		return -1;
	}
	return 0;
}

int import_add(struct importer *im, const char *path, struct cs_err *err)
{
	return import_path_batched(im, path, err);
}

int import_path(struct importer *im, const char *path, struct cs_err *err)
{
	int rc = import_path_batched(im, path, err);
	if (import_flush(im, err) < 0)
		return -1;
	return rc;
}

static int import_path_batched(struct importer *im, const char *path, struct cs_err *err)
{
	struct stat st;
	err_clear(err);
	if (stat(path, &st) < 0) {
		err_set(err, CS_ENOTFOUND, "%s", strerror(errno));
		report_error(im, "path", path, err);
		return -1;
	}
	if (prepare_statements(im, err) < 0) {
		report_error(im, "path", path, err);
		return -1;
	}
	im->now = time_now_ms();
	if (S_ISDIR(st.st_mode)) {
		/* a folder may hold many runs: the WAL is checkpointed on a
		 * second thread meanwhile (until importer_free()) */
		store_ckpt_start(im->st);
		return import_dir(im, path, 0, NULL, err);
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, CS_EINVAL, "not a file or folder");
		report_error(im, "path", path, err);
		return -1;
	}
	/* a zip is recognised by its signature, not its name */
	unsigned char magic[4] = {0};
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(magic, 1, 4, f) : 0;
	if (f)
		fclose(f);
	bool zip = got == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
	return import_one(im, path, zip || str_ends(path, ".zip") ? 1 : 2, NULL, &st, err);
}

struct importer *importer_new(struct store *st, const struct import_opts *opts)
{
	struct importer *im = xcalloc(1, sizeof(*im));
	im->st = st;
	if (opts)
		im->opts = *opts;
	return im;
}

void importer_free(struct importer *im)
{
	if (!im)
		return;
	struct cs_err e;
	import_flush(im, &e);
	store_ckpt_stop(im->st);
	import_mem_reset(im);
	free(im->mem);
	import_ahead_free(im);
	free(im->repo_key);
	triage_prescan_ws_free(im->scan_ws);
	sqlite3_finalize(im->ins_point);
	sqlite3_finalize(im->ins_test);
	free(im);
}

void importer_totals(const struct importer *im, int *ok, int *failed)
{
	*ok = im->ok;
	*failed = im->failed;
}
