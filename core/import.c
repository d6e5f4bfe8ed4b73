/* import.c - run folders, log archives and log files into the index: reading
 * them, writing runs, jobs and steps, and the dispatch over paths. A job's
 * log is stored by importlog.c, a run's artifacts by importart.c (the parts
 * share import_int.h); GitHub's archive file names are in gharchive.c.
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

static cJSON *json_parse_file(const char *path, const char *label, struct cs_err *err)
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
	free(rs->slug);
	buf_release(&rs->sig);
}

static void sig_add_file(struct buf *sig, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		buf_addf(sig, "%s:%lld:%lld;", path_basename(path), (long long)st.st_size,
			 (long long)st.st_mtime);
}

/* --- reading a run folder ---------------------------------------------------------------- */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
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
static int file_fingerprint(const char *path, uint64_t *h, struct cs_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	static char piece[1 << 16];
	uint64_t v = 0xcbf29ce484222325ull;
	struct stat st;
	long long size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
	v = fnv1a(v, &size, sizeof(size));
	size_t r = fread(piece, 1, sizeof(piece), f);
	v = fnv1a(v, piece, r);
	if (size > (long long)(2 * sizeof(piece)) &&
	    fseeko(f, (off_t)(size - (long long)sizeof(piece)), SEEK_SET) == 0) {
		r = fread(piece, 1, sizeof(piece), f);
		v = fnv1a(v, piece, r);
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return err_set(err, CS_EIO, "cannot read '%s'", path);
	*h = v;
	return 0;
}

/* An id for data that has none: a positive 53-bit hash, stable across imports. */
static int64_t content_id(uint64_t h)
{
	int64_t id = (int64_t)(h & 0x1fffffffffffffull);
	return id ? id : 1;
}

static struct job_src *add_job(struct run_src *rs, size_t *alloc)
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
				target = add_job(rs, alloc);
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
			target = add_job(rs, alloc);
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
	rs->jobs_doc = json_parse_file(p, "jobs.json", err);
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
		struct job_src *js = add_job(rs, alloc);
		js->json = j;
		js->provider_id = id;
		js->name = name;
		js->attempt = (int)att;
		char rel[64];
		snprintf(rel, sizeof(rel), "logs/%lld.txt", (long long)id);
		char *lp = path_join(folder, rel);
		if (path_is_file(lp)) {
			js->log_file = lp;
			sig_add_file(&rs->sig, lp);
		} else {
			free(lp);
			snprintf(rel, sizeof(rel), "logs/%lld.expired", (long long)id);
			lp = path_join(folder, rel);
			if (import_is_expired_marker(lp)) {
				js->log_expired = true;
				sig_add_file(&rs->sig, lp);
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
	rs->run = json_parse_file(p, "run.json", err);
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
	sig_add_file(&rs->sig, jp);
	free(jp);

	if (load_jobs(rs, folder, &alloc, err) < 0)
		return -1;
	char *zp = path_join(folder, "logs.zip");
	if (path_is_file(zp)) {
		sig_add_file(&rs->sig, zp);
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
				sig_add_file(&rs->sig, f);
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
		if (file_fingerprint(path, &h, err) < 0)
			return -1;
		id = content_id(h);
	}
	rs->provider_id = id;
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	sig_add_file(&rs->sig, path);
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

/* --- a single log file ------------------------------------------------------------------- */
/* `gh run view --log` (and `--log-failed`, and ciscope's own `log`) print
 * every line as job<TAB>step<TAB>line. A file is taken in that form only
 * when every line has both fields, each job's lines are together and the
 * third field looks like a log line of that form somewhere (a
 * runner timestamp, or ciscope's "UNKNOWN STEP"): a TSV file stays a plain
 * log. A bare CR inside a line ends a line for the store (a progress bar's
 * frames), so the spans count lines as the store will; raw output writes
 * no prefix after such a CR. Reads the file once, line by line: memory is
 * one line. */
struct gh_scan {
	struct job_src *jobs; /* only the gh_* fields and log names */
	char **names;
	int n, alloc;
	bool evidence;
};

static void gh_scan_free(struct gh_scan *g)
{
	for (int i = 0; i < g->n; i++) {
		for (int k = 0; k < g->jobs[i].n_gh_steps; k++)
			free(g->jobs[i].gh_steps[k].name);
		free(g->jobs[i].gh_steps);
		free(g->names[i]);
	}
	free(g->jobs);
	free(g->names);
	memset(g, 0, sizeof(*g));
}

static bool gh_scan_file(const char *path, struct gh_scan *g)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t off = 0;
	bool ok = true;
	memset(g, 0, sizeof(*g));
	while (ok && (n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n;
		const char *t1 = memchr(line, '\t', len);
		const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
		if (!t2 || t1 == line) {
			ok = false;
			break;
		}
		/* the store's lines in this one: one more per bare CR that is
		 * not the line's end */
		size_t end = len;
		if (end && line[end - 1] == '\n')
			end--;
		if (end && line[end - 1] == '\r')
			end--;
		int64_t extra = 0;
		for (const char *p = t2 + 1; (p = memchr(p, '\r', (size_t)(line + end - p))) != NULL; p++)
			extra++;
		size_t jn = (size_t)(t1 - line), sn = (size_t)(t2 - t1 - 1);
		const char *rest = t2 + 1;
		size_t rn = len - (size_t)(rest - line);
		if (rn >= 3 && !memcmp(rest, "\xef\xbb\xbf", 3)) {
			rest += 3;
			rn -= 3;
		}
		if ((rn >= 28 && logts_parse(rest, 28) >= 0) ||
		    (sn == 12 && !memcmp(t1 + 1, "UNKNOWN STEP", 12)))
			g->evidence = true;
		struct job_src *j = g->n ? &g->jobs[g->n - 1] : NULL;
		if (!j || strlen(g->names[g->n - 1]) != jn || memcmp(g->names[g->n - 1], line, jn)) {
			for (int i = 0; i + 1 < g->n && ok; i++)
				if (strlen(g->names[i]) == jn && !memcmp(g->names[i], line, jn))
					ok = false; /* a job's lines must be together */
			if (!ok || g->n >= 1000) {
				ok = false;
				break;
			}
			if (g->n == g->alloc) {
				g->alloc = g->alloc ? g->alloc * 2 : 8;
				g->jobs = xrealloc(g->jobs, sizeof(*g->jobs) * (size_t)g->alloc);
				g->names = xrealloc(g->names, sizeof(char *) * (size_t)g->alloc);
			}
			j = &g->jobs[g->n];
			memset(j, 0, sizeof(*j));
			g->names[g->n++] = xstrndup(line, jn);
			j->gh = true;
			j->gh_off = off;
		}
		j->gh_len += len;
		int64_t lineno = j->n_gh_steps ? j->gh_steps[j->n_gh_steps - 1].last_line + 1 : 1;
		struct gh_step *st = j->n_gh_steps ? &j->gh_steps[j->n_gh_steps - 1] : NULL;
		if (!st || strlen(st->name) != sn || memcmp(st->name, t1 + 1, sn)) {
			if (j->n_gh_steps >= 10000) {
				ok = false;
				break;
			}
			j->gh_steps = xrealloc(j->gh_steps, sizeof(*j->gh_steps) *
							       (size_t)(j->n_gh_steps + 1));
			st = &j->gh_steps[j->n_gh_steps++];
			st->name = xstrndup(t1 + 1, sn);
			st->first_line = lineno;
		}
		st->last_line = lineno + extra;
		off += len;
	}
	if (ok && (ferror(f) || !g->n || !g->evidence))
		ok = false;
	free(line);
	fclose(f);
	if (!ok)
		gh_scan_free(g);
	return ok;
}

/* The words of a log file's place that may say how it went: its parent
 * folder and its name ("astor_400/fail.log"), also the run's title. */
static char *log_file_title(const char *path)
{
	char *real = realpath(path, NULL);
	const char *p = real ? real : path;
	const char *base = path_basename(p);
	size_t dn = (size_t)(base - p);
	while (dn > 0 && p[dn - 1] == '/')
		dn--;
	size_t ps = dn;
	while (ps > 0 && p[ps - 1] != '/')
		ps--;
	char *t;
	if (dn > ps)
		t = xasprintf("%.*s/%s", (int)(dn - ps), p + ps, base);
	else
		t = xstrdup(base);
	free(real);
	return t;
}

static int load_log_file(const char *path, struct run_src *rs, struct cs_err *err)
{
	size_t alloc = 0;
	uint64_t h;
	if (file_fingerprint(path, &h, err) < 0)
		return -1;
	rs->provider_id = content_id(h);
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	rs->log_alone = true;
	free(rs->label);
	rs->label = log_file_title(path);
	sig_add_file(&rs->sig, path);
	rs->jobs_doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(rs->jobs_doc, "jobs");
	struct gh_scan g;
	if (gh_scan_file(path, &g)) {
		buf_adds(&rs->sig, "gh-log;");
		for (int i = 0; i < g.n; i++) {
			/* "UNKNOWN STEP" (gh's and ciscope's word for lines of no
			 * step) is no step: raw output writes it where none is */
			struct job_src *gj = &g.jobs[i];
			int kept = 0;
			for (int k = 0; k < gj->n_gh_steps; k++) {
				if (!strcmp(gj->gh_steps[k].name, "UNKNOWN STEP"))
					free(gj->gh_steps[k].name);
				else
					gj->gh_steps[kept++] = gj->gh_steps[k];
			}
			gj->n_gh_steps = kept;
			cJSON *jo = cJSON_CreateObject();
			cJSON_AddStringToObject(jo, "name", g.names[i]);
			cJSON *steps = cJSON_AddArrayToObject(jo, "steps");
			for (int k = 0; k < g.jobs[i].n_gh_steps; k++) {
				cJSON *so = cJSON_CreateObject();
				cJSON_AddNumberToObject(so, "number", k + 1);
				cJSON_AddStringToObject(so, "name", g.jobs[i].gh_steps[k].name);
				cJSON_AddStringToObject(so, "status", "completed");
				cJSON_AddItemToArray(steps, so);
			}
			cJSON_AddItemToArray(arr, jo);
			struct job_src *js = add_job(rs, &alloc);
			js->json = jo;
			js->name = import_jstr(jo, "name");
			js->provider_id = i + 1;
			js->attempt = 1;
			js->log_file = xstrdup(path);
			js->gh = true;
			js->gh_off = g.jobs[i].gh_off;
			js->gh_len = g.jobs[i].gh_len;
			js->gh_steps = g.jobs[i].gh_steps;
			js->n_gh_steps = g.jobs[i].n_gh_steps;
			g.jobs[i].gh_steps = NULL;
			g.jobs[i].n_gh_steps = 0;
		}
		gh_scan_free(&g);
		return 0;
	}
	cJSON *jo = cJSON_CreateObject();
	const char *b = path_basename(path);
	size_t n = strlen(b);
	if (str_ends(b, ".txt") || str_ends(b, ".log"))
		n -= 4;
	char *name = xstrndup(b, n ? n : strlen(b));
	cJSON_AddStringToObject(jo, "name", name);
	free(name);
	cJSON_AddItemToArray(arr, jo);
	struct job_src *js = add_job(rs, &alloc);
	js->json = jo;
	js->name = import_jstr(jo, "name");
	js->provider_id = 1;
	js->attempt = 1;
	js->log_file = xstrdup(path);
	return 0;
}

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

static int64_t upsert_repo(struct importer *im, const char *provider, const char *slug,
			   const char *html_url, struct cs_err *err)
{
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
		j = json_parse_file(p, label, err);
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
	sql_bind_text(s, 22, rs->path);
	sql_bind_text(s, 23, sig);
	sqlite3_bind_int64(s, 24, im->now);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store the run");
	im_done(s);
	free(subject);
	*row_id = sqlite3_last_insert_rowid(im->st->db);
	return rc;
}

static int insert_job(struct importer *im, int64_t run_row_id, struct job_src *js,
		      struct cs_err *err)
{
	const cJSON *j = js->json;
	sqlite3_stmt *s;
	if (im_prepare(im,
			       "INSERT INTO jobs (run_id, provider_id, name, status, conclusion, "
			       "started_at, completed_at, runner_name, runner_group, labels, html_url, "
			       "ordinal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       &s) != SQLITE_OK)
		return store_err(im->st, err, "cannot store a job");
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_int64(s, 2, js->provider_id);
	sqlite3_bind_text(s, 3, js->name, -1, SQLITE_TRANSIENT);
	const char *status = import_jstr(j, "status");
	sql_bind_text(s, 4, status ? status : "completed");
	sql_bind_text(s, 5, import_jstr(j, "conclusion"));
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

static int set_log_state(struct importer *im, int64_t job_row_id, const char *state,
			 struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(im->st, "UPDATE jobs SET log_state = ? WHERE id = ?", &s,
			  "cannot store a job", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job_row_id);
	return store_collect(im->st, s, NULL, NULL, "cannot store a job", err);
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
static void batch_lost(struct importer *im, int runs, const struct cs_err *why)
{
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

static int batch_commit(struct importer *im, struct cs_err *err)
{
	if (!im->in_batch)
		return 0;
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

/* A log imported alone: its jobs are judged by triage's findings (or by
 * --conclusion), then the run by its jobs. Triage runs once: with every job
 * taken as failed (its error findings are the verdict); afterwards the jobs
 * that passed lose their findings, and only a run where some jobs passed and
 * others failed is triaged again (JUnit failures go to the failed jobs). The
 * statements come from the store's cache: many small logs run them once
 * each. */
static int conclude_log(struct importer *im, struct run_src *rs, int64_t row, struct cs_err *err)
{
	const char *given = im->opts.conclusion;
	bool given_success = given && strcmp(given, "failure") != 0;
	if (im_exec_id(im,
		       given_success ? "UPDATE jobs SET conclusion = 'success' WHERE run_id = ?1"
				     : "UPDATE jobs SET conclusion = 'failure' WHERE run_id = ?1",
		       row, "cannot judge the log", err) < 0)
		return -1;
	/* with --conclusion success nothing is failed: nothing to triage.
	 * Judged from the evidence, a job with no error finding passed and its
	 * triage would go: it is not stored (most logs of a big import pass);
	 * unless the name says failed, which keeps the triage of every job */
	if (!given_success) {
		struct triage_log_mem mem[16];
		int n_mem = 0;
		for (int i = 0; i < im->n_mem && n_mem < (int)ARRAY_SIZE(mem); i++)
			if (!im->mem[i].over)
				mem[n_mem++] = (struct triage_log_mem){
					im->mem[i].job_row_id,
					im->mem[i].data.data ? im->mem[i].data.data : "",
					im->mem[i].data.len};
		int rc = !given && !name_says_failed(rs->label)
				 ? triage_judge_after_import(im->st, row, mem, n_mem, err)
				 : triage_after_import(im->st, row, err);
		if (rc < 0)
			return -1;
	}
	struct buf why = BUF_INIT;
	bool failed;
	if (given) {
		failed = !given_success;
		buf_adds(&why, "given with --conclusion");
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
		sqlite3_stmt *s;
		if (im_prepare(im,
			       "SELECT f.weak, f.line, f.title, (SELECT count(*) FROM "
			       "triage_findings g JOIN jobs k ON k.id = g.job_id WHERE k.run_id "
			       "= ?1 AND g.severity = 'error' AND g.source IN ('rule', 'marker')) "
			       "FROM triage_findings f JOIN jobs j ON j.id = f.job_id WHERE "
			       "j.run_id = ?1 AND f.severity = 'error' AND f.source IN ('rule', "
			       "'marker') ORDER BY f.weak, j.ordinal, f.rank LIMIT 1",
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
		} else if (!failed) {
			buf_adds(&why, "no error finding and no failure verdict in the log");
		}
	}
	sqlite3_stmt *s;
	if (im_prepare(im,
		       "UPDATE runs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM jobs j "
		       "WHERE j.run_id = runs.id AND j.conclusion = 'failure') THEN 'failure' "
		       "ELSE 'success' END, conclusion_why = ?2 WHERE id = ?1",
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

static int import_run_src(struct importer *im, struct run_src *rs, const char *folder,
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
	if (store_exec(im->st, "SAVEPOINT run", err) < 0)
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
			buf_addf(&sig, "|%016llx", (unsigned long long)fnv1a(0xcbf29ce484222325ull, t,
									    strlen(t)));
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
				if (conclusion_is_failure(c))
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
				if (insert_job(im, row, js, err) < 0 ||
				    import_job_log(im, rs, js, err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				ev.n_jobs++;
				bool stored = js->log_file || js->zip_entry >= 0 ||
					      (js->n_step_entries && rs->zip);
				if (stored) {
					ev.n_logs++;
					if (set_log_state(im, js->row_id, "stored", err) < 0) {
						buf_release(&sig);
						cJSON_Delete(own);
						goto fail;
					}
				} else if (js->log_expired &&
					   set_log_state(im, js->row_id, "expired", err) < 0) {
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
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
	if (store_exec(im->st, "RELEASE run", err) < 0)
		goto fail;
	im->prog.runs++;
	im->batch_runs++;
	for (int i = 0; i < n_events; i++)
		if (im->opts.on_run)
			im->opts.on_run(im->opts.ctx, &events[i]);
	if (im->batch_runs >= BATCH_RUNS || time_now_ms() - im->batch_t0 >= BATCH_MS) {
		int runs = im->batch_runs;
		if (batch_commit(im, err) < 0) {
			batch_lost(im, runs - 1, err);
			return -1;
		}
	}
	return 0;
fail:
	if (sqlite3_get_autocommit(im->st->db)) {
		/* SQLite ended the whole transaction (a full disk, an I/O error) */
		batch_lost(im, im->batch_runs, err);
	} else if (sqlite3_exec(im->st->db, "ROLLBACK TO run; RELEASE run", NULL, NULL, NULL) !=
		   SQLITE_OK) {
		store_rollback(im->st);
		batch_lost(im, im->batch_runs, err);
	}
	return -1;
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
 * clear it. */
static int import_one(struct importer *im, const char *path, int kind, struct cs_err *err)
{
	struct run_src rs;
	struct cs_err e;
	memset(&rs, 0, sizeof(rs));
	buf_init(&rs.sig);
	err_clear(&e);
	rs.path = path;
	rs.label = xstrdup(path_basename(path));
	im->prog.current = path;
	static const char *const what[] = {"run folder", "log archive", "log file"};
	int rc;
	if (kind == 0)
		rc = load_run_folder(path, &rs, &e);
	else if (kind == 1)
		rc = load_archive(path, &rs, &e);
	else
		rc = load_log_file(path, &rs, &e);
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
		return import_one(im, dir, 0, err);
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
		if (stat(p, &st) < 0) {
			struct stat lst;
			if (lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode)) {
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
			if (kind >= 0 && import_one(im, p, kind, err) < 0)
				rc = -1;
		}
		free(p);
	}
	import_free_names(names, n);
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
			       "INSERT INTO findings (job_id, step_number, line, end_line, severity, "
			       "source, message) VALUES (?1, ?2, ?3, ?4, ?5, 'marker', ?6)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_finding, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db,
			       "INSERT OR REPLACE INTO log_groups (log_id, first_line, last_line, "
			       "depth, title) VALUES (?, ?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_group, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db,
			       "INSERT OR REPLACE INTO metric_points (series_id, idx, x, value) "
			       "VALUES (?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_point, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db,
			       "INSERT INTO test_results (run_id, file_id, suite, classname, name, file, "
			       "line, duration_ms, outcome, message, details, reruns) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_test, NULL) != SQLITE_OK) {
		store_err(im->st, err, "cannot prepare the import statements");
		sqlite3_finalize(im->ins_finding);
		sqlite3_finalize(im->ins_group);
		sqlite3_finalize(im->ins_point);
		sqlite3_finalize(im->ins_test);
		im->ins_finding = im->ins_group = im->ins_point = im->ins_test = NULL;
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
	if (batch_commit(im, &e) < 0) {
		batch_lost(im, runs, &e);
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
	if (S_ISDIR(st.st_mode))
		return import_dir(im, path, 0, NULL, err);
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
	return import_one(im, path, zip || str_ends(path, ".zip") ? 1 : 2, err);
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
	import_mem_reset(im);
	free(im->mem);
	sqlite3_finalize(im->ins_finding);
	sqlite3_finalize(im->ins_group);
	sqlite3_finalize(im->ins_point);
	sqlite3_finalize(im->ins_test);
	free(im);
}

void importer_totals(const struct importer *im, int *ok, int *failed)
{
	*ok = im->ok;
	*failed = im->failed;
}

