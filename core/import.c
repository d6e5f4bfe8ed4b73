/* import.c - run folders, log archives and log files into the index.
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
#include "import.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "artifact.h"
#include "logparse.h"
#include "logstore.h"
#include "triage.h"
#include "ziparc.h"

#define JSON_MAX (64u << 20)       /* run.json / jobs.json */
#define ARTIFACT_FILE_MAX (64u << 20) /* parsed in memory; larger ones are listed only */
#define LOG_MAX (16ull << 30)      /* one log entry inside an archive */
#define FINDING_MSG_MAX 1000
#define GROUP_TITLE_MAX 500
#define MAX_DEPTH 32               /* folder recursion */

struct importer {
	struct store *st;
	struct import_opts opts;
	struct import_progress prog;
	uint64_t prog_last;
	int ok, failed;
	int64_t now;
	/* prepared statements, valid for the importer's life */
	sqlite3_stmt *ins_finding, *ins_group, *ins_point, *ins_test;
};

const char *import_state_name(enum import_state s)
{
	switch (s) {
	case IMPORT_CREATED: return "created";
	case IMPORT_UPDATED: return "updated";
	case IMPORT_UNCHANGED: return "unchanged";
	}
	return "?";
}

static bool interrupted(struct importer *im)
{
	return im->opts.interrupted && *im->opts.interrupted;
}

static void progress_add(struct importer *im, uint64_t bytes, uint64_t files)
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
static int list_dir(const char *dir, bool all, char ***names, size_t *count, struct cs_err *err)
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

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* --- GitHub archive names ---------------------------------------------------- */
void gh_archive_name(const char *name, struct buf *out)
{
	buf_reset(out);
	size_t units = 0;
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '/' || c == ':' || c == '"' || c == '<' || c == '>' || c == '|' ||
		    c == '*' || c == '?' || c == '\\' || c < 0x20) {
			i++;
			continue;
		}
		int l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			i++;
			continue;
		}
		size_t u = l == 4 ? 2 : 1;
		if (units + u > 90) {
			if (units < 90) /* a surrogate pair cut in half */
				buf_adds(out, "\xef\xbf\xbd");
			break;
		}
		buf_add(out, s + i, (size_t)l);
		units += u;
		i += (size_t)l;
	}
	buf_cstr(out);
}

bool gh_parse_job_entry(const char *entry, long *ordinal, struct buf *base, int *dup)
{
	const char *p = entry;
	if (strchr(entry, '/'))
		return false;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	char *end;
	long ord = strtol(entry, &end, 10);
	if (*end != '_')
		return false;
	const char *name = end + 1;
	size_t n = strlen(name);
	if (n < 4 || strcmp(name + n - 4, ".txt") != 0)
		return false;
	n -= 4;
	*dup = 0;
	/* " (N)" just before .txt is GitHub's de-duplication suffix. */
	if (n >= 4 && name[n - 1] == ')') {
		size_t k = n - 2;
		while (k > 0 && name[k] >= '0' && name[k] <= '9')
			k--;
		if (k + 2 < n && name[k] == '(' && k >= 1 && name[k - 1] == ' ') {
			*dup = atoi(name + k + 1);
			n = k - 1;
		}
	}
	*ordinal = ord;
	buf_reset(base);
	buf_add(base, name, n);
	return true;
}

/* Does an archive name (possibly cut, possibly ending in U+FFFD) stand for
 * the job's archive name key? */
static bool archive_name_matches(const char *entry_name, const char *key)
{
	if (!strcmp(entry_name, key))
		return true;
	size_t n = strlen(entry_name);
	if (n >= 3 && !memcmp(entry_name + n - 3, "\xef\xbf\xbd", 3))
		n -= 3;
	/* cut at 90 UTF-16 units: the entry is a strict prefix of the key */
	if (n >= 40 && n < strlen(key) && !memcmp(entry_name, key, n))
		return true;
	return false;
}

/* Newer archives replace '/' with '_' instead of dropping it. */
static bool archive_name_matches_job(const char *entry_name, const char *job_name, struct buf *tmp)
{
	gh_archive_name(job_name, tmp);
	if (archive_name_matches(entry_name, tmp->data))
		return true;
	struct buf alt = BUF_INIT;
	for (const char *p = job_name; *p; p++)
		buf_addc(&alt, *p == '/' ? '_' : *p);
	gh_archive_name(buf_cstr(&alt), tmp);
	bool ok = archive_name_matches(entry_name, tmp->data);
	buf_release(&alt);
	return ok;
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

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jint(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble ||
	    v->valuedouble > 9.007199254740992e15 || v->valuedouble < -9.007199254740992e15)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

static int64_t jtime(const cJSON *o, const char *key)
{
	const char *s = jstr(o, key);
	return s ? time_parse_rfc3339(s, strlen(s)) : CS_TIME_NONE;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == CS_TIME_NONE)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

/* --- the description of one run to import --------------------------------------- */
struct job_src {
	const cJSON *json;     /* jobs.json element, NULL for archive-only jobs */
	int64_t provider_id;
	const char *name;
	int attempt;
	int ordinal;
	int64_t row_id;
	/* where its log comes from */
	char *log_file;        /* logs/<id>.txt */
	long zip_entry;        /* top-level archive entry, -1 */
	long *step_entries;    /* archive step files, by step order */
	int *step_numbers;
	int n_step_entries;
	int n_findings;
	bool log_expired;      /* logs/<id>.expired: GitHub answered 410 */
};

struct run_src {
	const char *path;      /* folder, zip or log file */
	char *label;           /* for messages */
	cJSON *run;            /* run.json (may be NULL: archive/log only) */
	cJSON *jobs_doc;
	struct job_src *jobs;
	int n_jobs;
	int64_t provider_id;
	int latest_attempt;
	struct ziparc *zip;
	int zip_attempt;       /* the attempt the archive holds */
	char *slug;
	struct buf sig;        /* import signature */
	bool has_artifacts;    /* the folder has an artifacts/ folder */
};

static void run_src_free(struct run_src *rs)
{
	for (int i = 0; i < rs->n_jobs; i++) {
		free(rs->jobs[i].log_file);
		free(rs->jobs[i].step_entries);
		free(rs->jobs[i].step_numbers);
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

/* --- line callback: steps, groups, findings ----------------------------------------- */
enum attr_mode { ATTR_NONE, ATTR_STEPFILES, ATTR_TIMES, ATTR_GROUPS };

struct step_span {
	int number;
	const char *name;
	int64_t started, completed; /* ms */
	int64_t first_ts_us;        /* ATTR_STEPFILES: first timestamp in its file */
	uint64_t n_lines;           /* ATTR_STEPFILES with no job file: exact length */
	bool skipped;
	int64_t first_line, last_line;
};

struct log_ctx {
	struct importer *im;
	int64_t job_row_id, log_id;
	enum attr_mode mode;
	struct step_span *steps;
	int n_steps;
	int cur;                    /* current step index, -1 before the first */
	bool exact_lengths;         /* ATTR_STEPFILES from concatenated step files */
	uint64_t step_end_line;
	/* an open ##[group] */
	bool group_open;
	int64_t group_first;
	char group_title[GROUP_TITLE_MAX + 1];
	struct buf tmp;
	int n_findings;
	/* synthetic steps (ATTR_GROUPS without API steps) */
	struct step_span *synth;
	int n_synth;
	size_t synth_alloc;
	char **synth_names;
	struct cs_err *err;
	int failed;
};

static void step_mark(struct log_ctx *c, uint64_t lineno)
{
	if (c->cur < 0)
		return;
	struct step_span *s = &c->steps[c->cur];
	if (!s->first_line)
		s->first_line = (int64_t)lineno;
	s->last_line = (int64_t)lineno;
}

static int next_candidate(struct log_ctx *c, int from)
{
	for (int i = from + 1; i < c->n_steps; i++)
		if (!c->steps[i].skipped)
			return i;
	return -1;
}

static bool text_is(const struct logline *ll, const char *s)
{
	size_t n = strlen(s);
	return ll->text_len >= n && !memcmp(ll->text, s, n);
}

/* Is this the first line the runner writes for step `name`? */
static bool opens_step(const struct logline *ll, const char *name)
{
	if (ll->kind == LINE_GROUP) {
		size_t n = strlen(name);
		if (ll->msg_len == n && !memcmp(ll->msg, name, n))
			return true;
		return ll->msg_len >= 4 && !memcmp(ll->msg, "Run ", 4);
	}
	if (!strcmp(name, "Complete job"))
		return text_is(ll, "Cleaning up orphan processes");
	if (!strncmp(name, "Post ", 5))
		return text_is(ll, "Post job cleanup.");
	return false;
}

static void attribute(struct log_ctx *c, const struct split_line *l, const struct logline *ll)
{
	switch (c->mode) {
	case ATTR_NONE:
		return;
	case ATTR_STEPFILES:
		if (c->exact_lengths) {
			while (c->cur + 1 < c->n_steps && l->lineno > c->step_end_line) {
				c->cur++;
				c->step_end_line += c->steps[c->cur].n_lines;
			}
		} else if (ll->has_ts) {
			for (;;) {
				int nx = c->cur + 1;
				while (nx < c->n_steps && c->steps[nx].first_ts_us == INT64_MIN)
					nx++;
				if (nx >= c->n_steps || ll->ts_us < c->steps[nx].first_ts_us)
					break;
				c->cur = nx;
			}
			if (c->cur < 0)
				c->cur = 0;
		} else if (c->cur < 0) {
			c->cur = 0;
		}
		break;
	case ATTR_TIMES:
		if (c->cur < 0) {
			c->cur = next_candidate(c, -1);
			if (c->cur < 0)
				return;
		}
		if (ll->has_ts) {
			int64_t ms = ll->ts_us / 1000;
			for (;;) {
				int nx = next_candidate(c, c->cur);
				if (nx < 0 || c->steps[nx].started == CS_TIME_NONE)
					break;
				const struct step_span *cur = &c->steps[c->cur];
				const struct step_span *next = &c->steps[nx];
				/* Step times have second precision, so a boundary inside
				 * one second is found by the line that opens the next
				 * step: its "##[group]Run ..." header, or the runner's
				 * fixed first lines of the complete-job and post steps. */
				bool past_cur = cur->completed != CS_TIME_NONE &&
						ms >= cur->completed + 1000;
				if (ms >= next->started && opens_step(ll, next->name)) {
					/* one opening line opens one step: several steps
					 * that start in the same second each wait for theirs */
					c->cur = nx;
					break;
				}
				if (!(ms >= next->started + 1000 && past_cur))
					break;
				c->cur = nx;
			}
		}
		break;
	case ATTR_GROUPS:
		if (c->cur < 0)
			c->cur = 0;
		if (ll->kind == LINE_GROUP && ll->msg_len >= 4 && !memcmp(ll->msg, "Run ", 4)) {
			/* the next API step whose name is this group's title */
			for (int i = c->cur + 1; i < c->n_steps; i++) {
				size_t n = strlen(c->steps[i].name);
				if (n == ll->msg_len && !memcmp(c->steps[i].name, ll->msg, n)) {
					c->cur = i;
					break;
				}
			}
		}
		break;
	}
	step_mark(c, l->lineno);
}

static int insert_group(struct log_ctx *c, int64_t first, int64_t last)
{
	sqlite3_stmt *s = c->im->ins_group;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, c->log_id);
	sqlite3_bind_int64(s, 2, first);
	sqlite3_bind_int64(s, 3, last);
	sqlite3_bind_int(s, 4, 0);
	sqlite3_bind_text(s, 5, c->group_title, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_err(c->im->st, c->err, "cannot store a log group");
	return 0;
}

/* Synthetic steps for logs without API steps: the runner opens every step
 * with "##[group]Run <what>"; the lines before the first are "Set up job". */
static void synth_step(struct log_ctx *c, const char *name, size_t n, uint64_t lineno)
{
	if (c->n_synth > 0)
		c->synth[c->n_synth - 1].last_line = (int64_t)lineno - 1;
	XGROW(c->synth, c->synth_alloc, (size_t)c->n_synth + 1);
	c->synth_names = xrealloc(c->synth_names, sizeof(char *) * (c->synth_alloc));
	struct step_span *s = &c->synth[c->n_synth];
	memset(s, 0, sizeof(*s));
	c->synth_names[c->n_synth] = xstrndup(name, n);
	s->name = c->synth_names[c->n_synth];
	s->number = c->n_synth + 1;
	s->first_line = (int64_t)lineno;
	s->last_line = (int64_t)lineno;
	c->n_synth++;
}

static int on_line(void *ctx, const struct split_line *l)
{
	struct log_ctx *c = ctx;
	struct logline ll;
	logline_parse(l->head, l->head_len, &ll);

	if (c->mode == ATTR_NONE) {
		if (ll.kind == LINE_GROUP && ll.msg_len >= 4 && !memcmp(ll.msg, "Run ", 4))
			synth_step(c, ll.msg, MIN(ll.msg_len, (size_t)GROUP_TITLE_MAX), l->lineno);
		else if (c->n_synth > 0 && text_is(&ll, "Post job cleanup."))
			synth_step(c, "Post job cleanup", 16, l->lineno);
		else if (c->n_synth > 0 && text_is(&ll, "Cleaning up orphan processes"))
			synth_step(c, "Complete job", 12, l->lineno);
		else if (c->n_synth == 0 && l->lineno == 1)
			synth_step(c, "Set up job", 10, 1);
		if (c->n_synth)
			c->synth[c->n_synth - 1].last_line = (int64_t)l->lineno;
	} else {
		attribute(c, l, &ll);
	}

	if (ll.kind == LINE_GROUP || ll.kind == LINE_ENDGROUP) {
		/* Actions groups do not nest: a new group closes the open one. */
		if (c->group_open) {
			int64_t last = ll.kind == LINE_ENDGROUP ? (int64_t)l->lineno
							       : (int64_t)l->lineno - 1;
			if (insert_group(c, c->group_first, last) < 0)
				return -1;
			c->group_open = false;
		}
		if (ll.kind == LINE_GROUP) {
			buf_reset(&c->tmp);
			ansi_strip(ll.msg, MIN(ll.msg_len, (size_t)GROUP_TITLE_MAX), &c->tmp);
			size_t n = MIN(c->tmp.len, (size_t)GROUP_TITLE_MAX);
			memcpy(c->group_title, c->tmp.data ? c->tmp.data : "", n);
			c->group_title[n] = '\0';
			c->group_first = (int64_t)l->lineno;
			c->group_open = true;
		}
	} else if (ll.kind == LINE_ERROR || ll.kind == LINE_WARNING || ll.kind == LINE_NOTICE) {
		buf_reset(&c->tmp);
		ansi_strip(ll.msg, MIN(ll.msg_len, (size_t)FINDING_MSG_MAX * 2), &c->tmp);
		size_t n = MIN(c->tmp.len, (size_t)FINDING_MSG_MAX);
		while (n > 0 && n < c->tmp.len && ((unsigned char)c->tmp.data[n] & 0xc0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
		sqlite3_stmt *s = c->im->ins_finding;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, c->job_row_id);
		int step = 0;
		if (c->mode == ATTR_NONE && c->n_synth)
			step = c->synth[c->n_synth - 1].number;
		else if (c->mode != ATTR_NONE && c->cur >= 0)
			step = c->steps[c->cur].number;
		if (step)
			sqlite3_bind_int(s, 2, step);
		else
			sqlite3_bind_null(s, 2);
		sqlite3_bind_int64(s, 3, (int64_t)l->lineno);
		sqlite3_bind_int64(s, 4, (int64_t)l->lineno);
		sqlite3_bind_text(s, 5,
				  ll.kind == LINE_ERROR	    ? "error"
				  : ll.kind == LINE_WARNING ? "warning"
							    : "notice",
				  -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, c->tmp.data ? c->tmp.data : "", (int)n, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE)
			return store_err(c->im->st, c->err, "cannot store a finding");
		c->n_findings++;
	}
	return 0;
}

/* --- storing one job's log --------------------------------------------------------- */
struct log_sink {
	struct importer *im;
	struct logw *w;
	struct cs_err *err;
	uint64_t bytes;
	char last;      /* the last byte written */
};

static int sink_write(void *ctx, const void *data, size_t n)
{
	struct log_sink *k = ctx;
	if (interrupted(k->im))
		return err_set(k->err, CS_EINTR, "interrupted");
	k->bytes += n;
	if (n)
		k->last = ((const char *)data)[n - 1];
	progress_add(k->im, n, 0);
	return logw_write(k->w, data, n, k->err);
}

static int stream_file(const char *path, zip_data_cb cb, void *ctx, struct cs_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	static char piece[1 << 16];
	size_t r;
	int rc = 0;
	while ((r = fread(piece, 1, sizeof(piece), f)) > 0)
		if ((rc = cb(ctx, piece, r)) != 0)
			break;
	if (!rc && ferror(f))
		rc = err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return rc;
}

/* The first timestamp of a step file (archive entry), for ATTR_STEPFILES. */
struct first_ts {
	struct splitter sp;
	int64_t ts;
};

static int first_ts_line(void *ctx, const struct split_line *l)
{
	struct first_ts *f = ctx;
	struct logline ll;
	logline_parse(l->head, l->head_len, &ll);
	if (ll.has_ts) {
		f->ts = ll.ts_us;
		return 1;
	}
	return 0;
}

static int first_ts_data(void *ctx, const void *data, size_t n)
{
	struct first_ts *f = ctx;
	return splitter_feed(&f->sp, data, n);
}

struct count_lines {
	struct splitter sp;
};

static int count_line(void *ctx, const struct split_line *l)
{
	return 0;
}

static int count_data(void *ctx, const void *data, size_t n)
{
	struct count_lines *c = ctx;
	return splitter_feed(&c->sp, data, n);
}

static int64_t log_id_of_job(struct importer *im, int64_t job_row_id)
{
	sqlite3_stmt *s;
	int64_t id = -1;
	if (sqlite3_prepare_v2(im->st->db, "SELECT id FROM logs WHERE job_id = ?", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, job_row_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return id;
}

static int save_steps(struct importer *im, struct log_ctx *c, const char *attribution,
		      struct cs_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;
	if (c->mode == ATTR_NONE) {
		if (sqlite3_prepare_v2(im->st->db,
				       "INSERT INTO steps (job_id, number, name, status, conclusion, "
				       "first_line, last_line, attribution) "
				       "VALUES (?, ?, ?, 'completed', NULL, ?, ?, 'groups')",
				       -1, &s, NULL) != SQLITE_OK)
			return store_err(im->st, err, "cannot store steps");
		for (int i = 0; i < c->n_synth && !rc; i++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, c->job_row_id);
			sqlite3_bind_int(s, 2, c->synth[i].number);
			sqlite3_bind_text(s, 3, c->synth[i].name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, 4, c->synth[i].first_line);
			sqlite3_bind_int64(s, 5, c->synth[i].last_line);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = store_err(im->st, err, "cannot store steps");
		}
	} else {
		if (sqlite3_prepare_v2(im->st->db,
				       "UPDATE steps SET first_line = ?, last_line = ?, attribution = ? "
				       "WHERE job_id = ? AND number = ?",
				       -1, &s, NULL) != SQLITE_OK)
			return store_err(im->st, err, "cannot store steps");
		for (int i = 0; i < c->n_steps && !rc; i++) {
			if (!c->steps[i].first_line)
				continue;
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, c->steps[i].first_line);
			sqlite3_bind_int64(s, 2, c->steps[i].last_line);
			sqlite3_bind_text(s, 3, attribution, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, c->job_row_id);
			sqlite3_bind_int(s, 5, c->steps[i].number);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = store_err(im->st, err, "cannot store steps");
		}
	}
	sqlite3_finalize(s);
	return rc;
}

static int span_cmp(const void *a, const void *b)
{
	const struct step_span *x = a, *y = b;
	return (x->number > y->number) - (x->number < y->number);
}

static int load_api_steps(struct log_ctx *c, const cJSON *job)
{
	const cJSON *steps = job ? cJSON_GetObjectItemCaseSensitive(job, "steps") : NULL;
	int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
	if (n <= 0)
		return 0;
	c->steps = xcalloc((size_t)n, sizeof(*c->steps));
	const cJSON *st;
	cJSON_ArrayForEach(st, steps)
	{
		int64_t num = c->n_steps + 1;
		jint(st, "number", &num);
		struct step_span *s = &c->steps[c->n_steps++];
		s->number = (int)num;
		s->name = jstr(st, "name") ? jstr(st, "name") : "";
		s->started = jtime(st, "started_at");
		s->completed = jtime(st, "completed_at");
		const char *concl = jstr(st, "conclusion");
		s->skipped = concl && !strcmp(concl, "skipped");
		s->first_ts_us = INT64_MIN;
	}
	/* attribution walks steps in time order, which is number order; an
	 * archive lists its step files in any order */
	qsort(c->steps, (size_t)c->n_steps, sizeof(*c->steps), span_cmp);
	return n;
}

static struct step_span *span_by_number(struct log_ctx *c, int number)
{
	for (int k = 0; k < c->n_steps; k++)
		if (c->steps[k].number == number)
			return &c->steps[k];
	return NULL;
}

/* Prepare ATTR_STEPFILES: each step file's first timestamp when a whole-job
 * file exists, else (the log is the files' concatenation) exact lengths. */
static int prepare_step_files(struct importer *im, struct run_src *rs, struct job_src *js,
			      struct log_ctx *c, bool whole_job, struct cs_err *err)
{
	if (!whole_job) {
		struct step_span *ordered = xcalloc((size_t)js->n_step_entries, sizeof(*ordered));
		int n = 0;
		for (int i = 0; i < js->n_step_entries; i++) {
			struct step_span *s = span_by_number(c, js->step_numbers[i]);
			if (s)
				ordered[n++] = *s;
		}
		free(c->steps);
		c->steps = ordered;
		c->n_steps = n;
		c->exact_lengths = true;
	}
	for (int i = 0; i < js->n_step_entries; i++) {
		struct step_span *s = span_by_number(c, js->step_numbers[i]);
		if (!s)
			continue;
		int rc;
		if (whole_job) {
			struct first_ts f = {.ts = INT64_MIN};
			splitter_init(&f.sp, first_ts_line, &f);
			rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i], LOG_MAX,
					   first_ts_data, &f, err);
			if (rc == 0)
				rc = splitter_finish(&f.sp);
			if (rc < 0)
				return -1;
			s->first_ts_us = f.ts;
		} else {
			struct count_lines cl;
			splitter_init(&cl.sp, count_line, &cl);
			rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i], LOG_MAX, count_data,
					   &cl, err);
			if (rc == 0)
				rc = splitter_finish(&cl.sp);
			if (rc < 0)
				return -1;
			s->n_lines = cl.sp.lineno;
		}
		(void)im;
	}
	return 0;
}

static int store_job_log(struct importer *im, struct run_src *rs, struct job_src *js,
			 struct cs_err *err)
{
	bool have_file = js->log_file != NULL;
	bool have_entry = js->zip_entry >= 0;
	bool have_steps = js->n_step_entries > 0 && rs->zip;
	if (!have_file && !have_entry && !have_steps)
		return 0;

	struct log_ctx c = {.im = im, .job_row_id = js->row_id, .cur = -1, .err = err};
	buf_init(&c.tmp);
	int n_api = load_api_steps(&c, js->json);
	const char *attribution;
	int rc = 0;

	if (have_steps && n_api > 0) {
		c.mode = ATTR_STEPFILES;
		attribution = "step-files";
		rc = prepare_step_files(im, rs, js, &c, have_file || have_entry, err);
	} else if (n_api > 0) {
		bool have_times = false;
		for (int i = 0; i < c.n_steps; i++)
			if (c.steps[i].started != CS_TIME_NONE)
				have_times = true;
		c.mode = have_times ? ATTR_TIMES : ATTR_GROUPS;
		attribution = have_times ? "times" : "groups";
	} else {
		c.mode = ATTR_NONE;
		attribution = "groups";
	}

	struct logw *w = NULL;
	if (!rc) {
		w = logw_begin(im->st->db, js->row_id, on_line, &c, err);
		if (!w)
			rc = -1;
	}
	if (!rc) {
		c.log_id = log_id_of_job(im, js->row_id);
		struct log_sink sink = {.im = im, .w = w, .err = err};
		const char *source;
		if (have_file) {
			source = "file";
			rc = stream_file(js->log_file, sink_write, &sink, err);
		} else if (have_entry) {
			source = "job-file";
			rc = ziparc_stream(rs->zip, (uint64_t)js->zip_entry, LOG_MAX, sink_write,
					   &sink, err);
		} else {
			source = "step-files";
			for (int i = 0; i < js->n_step_entries && !rc; i++) {
				/* a step file without a final newline must not run
				 * into the next step's first line */
				if (sink.bytes && sink.last != '\n' && sink.last != '\r')
					rc = sink_write(&sink, "\n", 1);
				if (!rc)
					rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i],
							   LOG_MAX, sink_write, &sink, err);
			}
		}
		progress_add(im, 0, 1);
		int64_t log_id = rc ? -1 : logw_finish(w, err);
		if (log_id < 0)
			rc = -1;
		if (!rc && c.group_open) {
			sqlite3_stmt *s;
			int64_t lines = 0;
			if (sqlite3_prepare_v2(im->st->db, "SELECT line_count FROM logs WHERE id = ?",
					       -1, &s, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(s, 1, log_id);
				if (sqlite3_step(s) == SQLITE_ROW)
					lines = sqlite3_column_int64(s, 0);
				sqlite3_finalize(s);
			}
			rc = insert_group(&c, c.group_first, lines);
		}
		if (!rc) {
			sqlite3_stmt *s;
			if (sqlite3_prepare_v2(im->st->db,
					       "UPDATE logs SET source = ?1 WHERE id = ?2; ", -1, &s,
					       NULL) != SQLITE_OK) {
				rc = store_err(im->st, err, "cannot store the log");
			} else {
				sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
				sqlite3_bind_int64(s, 2, log_id);
				if (sqlite3_step(s) != SQLITE_DONE)
					rc = store_err(im->st, err, "cannot store the log");
				sqlite3_finalize(s);
			}
		}
		if (!rc)
			rc = save_steps(im, &c, attribution, err);
	}
	if (rc && !err->msg[0])
		err_set(err, CS_EINVAL, "cannot store the log");
	if (rc)
		err_prefix(err, "job '%s' log", js->name);
	js->n_findings = c.n_findings;
	logw_free(w);
	buf_release(&c.tmp);
	free(c.steps);
	for (int i = 0; i < c.n_synth; i++)
		free(c.synth_names[i]);
	free(c.synth_names);
	free(c.synth);
	return rc ? -1 : 0;
}

/* --- artifacts ------------------------------------------------------------------------ */
struct art_ctx {
	struct importer *im;
	int64_t run_row_id;
	int64_t file_id;
	struct cs_err *err;
	/* metrics: one series row per name, looked up as names come */
	sqlite3_stmt *find_series, *ins_series;
	int64_t last_series;
	char *last_name;
	long n_tests, n_points;
	int n_series;
};

static int on_test(void *ctx, const struct test_case *tc)
{
	struct art_ctx *a = ctx;
	sqlite3_stmt *s = a->im->ins_test;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, a->run_row_id);
	sqlite3_bind_int64(s, 2, a->file_id);
	bind_text(s, 3, tc->suite);
	bind_text(s, 4, tc->classname);
	sqlite3_bind_text(s, 5, tc->name ? tc->name : "", -1, SQLITE_TRANSIENT);
	bind_text(s, 6, tc->file);
	if (tc->line > 0)
		sqlite3_bind_int64(s, 7, tc->line);
	else
		sqlite3_bind_null(s, 7);
	if (tc->duration_ms >= 0)
		sqlite3_bind_int64(s, 8, tc->duration_ms);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_text(s, 9, test_outcome_name(tc->outcome), -1, SQLITE_STATIC);
	bind_text(s, 10, tc->message);
	bind_text(s, 11, tc->details);
	sqlite3_bind_int(s, 12, tc->reruns);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_err(a->im->st, a->err, "cannot store a test result");
	a->n_tests++;
	return 0;
}

static int on_point(void *ctx, const struct metric_point *p)
{
	struct art_ctx *a = ctx;
	if (!a->last_name || strcmp(a->last_name, p->name) != 0) {
		sqlite3_reset(a->find_series);
		sqlite3_bind_int64(a->find_series, 1, a->file_id);
		sqlite3_bind_text(a->find_series, 2, p->name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(a->find_series) == SQLITE_ROW) {
			a->last_series = sqlite3_column_int64(a->find_series, 0);
		} else {
			sqlite3_reset(a->ins_series);
			sqlite3_bind_int64(a->ins_series, 1, a->run_row_id);
			sqlite3_bind_int64(a->ins_series, 2, a->file_id);
			sqlite3_bind_text(a->ins_series, 3, p->name, -1, SQLITE_TRANSIENT);
			bind_text(a->ins_series, 4, p->x_name);
			if (sqlite3_step(a->ins_series) != SQLITE_DONE)
				return store_err(a->im->st, a->err, "cannot store a metric series");
			a->last_series = sqlite3_last_insert_rowid(a->im->st->db);
			a->n_series++;
		}
		free(a->last_name);
		a->last_name = xstrdup(p->name);
	}
	sqlite3_stmt *s = a->im->ins_point;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, a->last_series);
	sqlite3_bind_int64(s, 2, p->idx);
	sqlite3_bind_double(s, 3, p->x);
	if (p->missing)
		sqlite3_bind_null(s, 4);
	else
		sqlite3_bind_double(s, 4, p->value);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_err(a->im->st, a->err, "cannot store a metric point");
	a->n_points++;
	return 0;
}

struct art_totals {
	int files, tests, series;
};

static int64_t insert_artifact(struct importer *im, int64_t run_row_id, const char *name,
			       const char *source, int64_t size, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db,
			       "INSERT INTO artifacts (run_id, name, size, source) VALUES (?, ?, ?, ?) "
			       "ON CONFLICT (run_id, name) DO UPDATE SET size = excluded.size "
			       "RETURNING id",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store an artifact");
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_text(s, 4, source, -1, SQLITE_STATIC);
	int64_t id = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		store_err(im->st, err, "cannot store an artifact");
	sqlite3_finalize(s);
	return id;
}

/* One file of an artifact: list it, and index it when it is a report. A file
 * that does not parse is kept listed with the reason; it does not fail the
 * run (CI artifacts are often half-written when a job fails). */
static int artifact_file(struct importer *im, int64_t run_row_id, int64_t art_id,
			 const char *path, const char *data, size_t n, uint64_t size,
			 const char *reject, struct art_totals *tot, struct cs_err *err)
{
	enum artifact_kind kind = ART_OTHER;
	if (!reject && data)
		kind = artifact_sniff(path, data, MIN(n, (size_t)4096));
	const char *kind_name = reject ? "rejected"
				: kind == ART_JUNIT ? "junit"
				: kind == ART_METRICS ? "metrics"
						      : "other";
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db,
			       "INSERT OR REPLACE INTO artifact_files (artifact_id, path, size, kind, note) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store an artifact file");
	sqlite3_bind_int64(s, 1, art_id);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (int64_t)size);
	sqlite3_bind_text(s, 4, kind_name, -1, SQLITE_STATIC);
	bind_text(s, 5, reject);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store an artifact file");
	sqlite3_finalize(s);
	if (rc)
		return -1;
	tot->files++;
	progress_add(im, n, 1);
	if (kind == ART_OTHER || reject)
		return 0;

	struct art_ctx a = {.im = im, .run_row_id = run_row_id, .err = err};
	a.file_id = sqlite3_last_insert_rowid(im->st->db);
	struct cs_err perr;
	err_clear(&perr);
	/* parse errors are notes on the file; database errors fail the run */
	if (sqlite3_exec(im->st->db, "SAVEPOINT artfile", NULL, NULL, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store an artifact file");
	long got;
	if (kind == ART_JUNIT) {
		got = junit_parse(data, n, on_test, &a, &perr);
	} else {
		sqlite3_prepare_v2(im->st->db,
				   "SELECT id FROM metric_series WHERE file_id = ? AND name = ?", -1,
				   &a.find_series, NULL);
		sqlite3_prepare_v2(im->st->db,
				   "INSERT INTO metric_series (run_id, file_id, name, x_name) "
				   "VALUES (?, ?, ?, ?)",
				   -1, &a.ins_series, NULL);
		got = metrics_parse(path, data, n, MET_AUTO, on_point, &a, &perr);
		sqlite3_finalize(a.find_series);
		sqlite3_finalize(a.ins_series);
		free(a.last_name);
		if (got >= 0) {
			sqlite3_stmt *u;
			if (sqlite3_prepare_v2(im->st->db,
					       "UPDATE metric_series SET n_points = (SELECT count(*) "
					       "FROM metric_points p WHERE p.series_id = metric_series.id) "
					       "WHERE file_id = ?",
					       -1, &u, NULL) != SQLITE_OK) {
				got = store_err(im->st, &perr, "cannot count metric points");
			} else {
				sqlite3_bind_int64(u, 1, a.file_id);
				if (sqlite3_step(u) != SQLITE_DONE)
					got = store_err(im->st, &perr, "cannot count metric points");
				sqlite3_finalize(u);
			}
		}
	}
	if (got < 0) {
		if (perr.code == CS_EDB) {
			sqlite3_exec(im->st->db, "ROLLBACK TO artfile; RELEASE artfile", NULL, NULL,
				     NULL);
			*err = perr;
			return -1;
		}
		sqlite3_exec(im->st->db, "ROLLBACK TO artfile; RELEASE artfile", NULL, NULL, NULL);
		sqlite3_stmt *u;
		if (sqlite3_prepare_v2(im->st->db,
				       "UPDATE artifact_files SET kind = 'other', note = ? WHERE id = ?",
				       -1, &u, NULL) == SQLITE_OK) {
			sqlite3_bind_text(u, 1, perr.msg, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(u, 2, a.file_id);
			sqlite3_step(u);
			sqlite3_finalize(u);
		}
		return 0;
	}
	sqlite3_exec(im->st->db, "RELEASE artfile", NULL, NULL, NULL);
	tot->tests += (int)a.n_tests;
	tot->series += a.n_series;
	return 0;
}

static int artifact_zip(struct importer *im, int64_t run_row_id, const char *zpath,
			const char *name, struct art_totals *tot, struct cs_err *err)
{
	struct stat stt;
	int64_t size = stat(zpath, &stt) == 0 ? (int64_t)stt.st_size : 0;
	int64_t art = insert_artifact(im, run_row_id, name, "zip", size, err);
	if (art < 0)
		return -1;
	struct cs_err zerr;
	err_clear(&zerr);
	struct ziparc *z = ziparc_open(zpath, &zerr);
	if (!z) /* a broken artifact is listed with the reason, not fatal */
		return artifact_file(im, run_row_id, art, "(archive)", NULL, 0, (uint64_t)size,
				     zerr.msg, tot, err);
	int rc = 0;
	struct buf data = BUF_INIT;
	for (uint64_t i = 0; i < ziparc_count(z) && !rc; i++) {
		struct zip_entry e;
		if (ziparc_entry(z, i, &e, &zerr) < 0) {
			rc = artifact_file(im, run_row_id, art, "(entry)", NULL, 0, 0, zerr.msg, tot,
					   err);
			continue;
		}
		if (e.is_dir || ziparc_entry_junk(e.name))
			continue;
		if (e.unsafe) {
			rc = artifact_file(im, run_row_id, art, e.name, NULL, 0, e.size,
					   "unsafe path in archive (absolute or '..')", tot, err);
			continue;
		}
		buf_reset(&data);
		err_clear(&zerr);
		if (ziparc_read(z, i, ARTIFACT_FILE_MAX, &data, &zerr) < 0) {
			rc = artifact_file(im, run_row_id, art, e.name, NULL, 0, e.size, zerr.msg, tot,
					   err);
			continue;
		}
		rc = artifact_file(im, run_row_id, art, e.name, data.data ? data.data : "", data.len,
				   data.len, NULL, tot, err);
	}
	buf_release(&data);
	ziparc_close(z);
	return rc;
}

static int artifact_dir_walk(struct importer *im, int64_t run_row_id, int64_t art,
			     const char *root, const char *rel, int depth, struct art_totals *tot,
			     struct cs_err *err)
{
	char *dir = *rel ? path_join(root, rel) : xstrdup(root);
	char **names;
	size_t n;
	if (list_dir(dir, true, &names, &n, err) < 0) {
		free(dir);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char *r = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		char *full = path_join(root, r);
		struct stat stt;
		if (!rc && lstat(full, &stt) == 0) {
			if (S_ISDIR(stt.st_mode) && depth < MAX_DEPTH) {
				rc = artifact_dir_walk(im, run_row_id, art, root, r, depth + 1, tot, err);
			} else if (S_ISREG(stt.st_mode)) {
				struct buf data = BUF_INIT;
				struct cs_err rerr;
				err_clear(&rerr);
				if ((uint64_t)stt.st_size > ARTIFACT_FILE_MAX)
					rc = artifact_file(im, run_row_id, art, r, NULL, 0,
							   (uint64_t)stt.st_size, NULL, tot, err);
				else if (file_read_all(full, ARTIFACT_FILE_MAX, &data, &rerr) < 0)
					rc = artifact_file(im, run_row_id, art, r, NULL, 0,
							   (uint64_t)stt.st_size, rerr.msg, tot, err);
				else
					rc = artifact_file(im, run_row_id, art, r,
							   data.data ? data.data : "", data.len,
							   data.len, NULL, tot, err);
				buf_release(&data);
			}
		}
		free(full);
		free(r);
	}
	free_names(names, n);
	free(dir);
	return rc;
}

static int exec_ids(struct importer *im, const char *sql, int64_t a, int64_t b,
		    struct cs_err *err);

/* A marker the fetcher leaves for a log or artifact GitHub has expired
 * (410): a small file holding exactly IMPORT_EXPIRED_MARKER. */
static bool is_expired_marker(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)strlen(IMPORT_EXPIRED_MARKER))
		return false;
	struct buf b = BUF_INIT;
	struct cs_err e;
	bool yes = file_read_all(path, 256, &b, &e) == 0 && b.len == strlen(IMPORT_EXPIRED_MARKER) &&
		   !memcmp(b.data, IMPORT_EXPIRED_MARKER, b.len);
	buf_release(&b);
	return yes;
}

static int import_artifacts(struct importer *im, const char *folder, int64_t run_row_id,
			    struct art_totals *tot, struct cs_err *err)
{
	char *dir = path_join(folder, "artifacts");
	if (!path_is_dir(dir)) {
		free(dir);
		return 0;
	}
	char **names;
	size_t n;
	if (list_dir(dir, false, &names, &n, err) < 0) {
		free(dir);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char *p = path_join(dir, names[i]);
		if (path_is_dir(p)) {
			int64_t art = insert_artifact(im, run_row_id, names[i], "folder", 0, err);
			rc = art < 0 ? -1
				     : artifact_dir_walk(im, run_row_id, art, p, "", 0, tot, err);
		} else if (str_ends(names[i], ".zip")) {
			char *name = xstrndup(names[i], strlen(names[i]) - 4);
			rc = artifact_zip(im, run_row_id, p, name, tot, err);
			free(name);
		} else if (str_ends(names[i], ".expired") && is_expired_marker(p)) {
			/* GitHub expired it (410): listed as expired, unless its
			 * content is here after all */
			char *name = xstrndup(names[i], strlen(names[i]) - 8);
			char *zip = xasprintf("%s/%s.zip", dir, name);
			char *plain = path_join(dir, name);
			if (!path_is_file(zip) && !path_is_dir(plain) && !path_is_file(plain)) {
				int64_t art = insert_artifact(im, run_row_id, name, "api", 0, err);
				rc = art < 0 ? -1
					     : exec_ids(im, "UPDATE artifacts SET expired = 1 WHERE id = ?1 "
							    "AND ?2 = ?2",
							art, 0, err);
			}
			free(zip);
			free(plain);
			free(name);
		} else if (path_is_file(p)) {
			/* a non-zipped artifact (archive: false) is the file itself */
			int64_t art = insert_artifact(im, run_row_id, names[i], "file", 0, err);
			struct buf data = BUF_INIT;
			struct cs_err rerr;
			err_clear(&rerr);
			if (art < 0)
				rc = -1;
			else if (file_read_all(p, ARTIFACT_FILE_MAX, &data, &rerr) < 0)
				rc = artifact_file(im, run_row_id, art, names[i], NULL, 0, 0, rerr.msg,
						   tot, err);
			else
				rc = artifact_file(im, run_row_id, art, names[i],
						   data.data ? data.data : "", data.len, data.len, NULL,
						   tot, err);
			buf_release(&data);
		}
		free(p);
	}
	free_names(names, n);
	free(dir);
	if (rc)
		err_prefix(err, "artifacts");
	return rc;
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
					    archive_name_matches_job(base.data, j->name, &key))
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
					target->name = jstr(jo, "name");
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
			if (j->attempt == rs->zip_attempt && archive_name_matches_job(dir, j->name, &key))
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
			target->name = jstr(jo, "name");
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
		const char *name = jstr(j, "name");
		if (!cJSON_IsObject(j) || !jint(j, "id", &id) || !name)
			return err_set(err, CS_EINVAL, "jobs.json: jobs[%d] lacks a numeric \"id\" or a "
						       "string \"name\"",
				       idx);
		jint(j, "run_attempt", &att);
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
			if (is_expired_marker(lp)) {
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
	if (!cJSON_IsObject(rs->run) || !jint(rs->run, "id", &rs->provider_id))
		return err_set(err, CS_EINVAL, "run.json: no numeric \"id\" (expected the body of "
					       "GET /repos/{owner}/{repo}/actions/runs/{id})");
	int64_t att = 1;
	jint(rs->run, "run_attempt", &att);
	if (att < 1 || att > 1000)
		return err_set(err, CS_EINVAL, "run.json: bad run_attempt %lld", (long long)att);
	rs->latest_attempt = (int)att;
	rs->zip_attempt = (int)att;
	const cJSON *repo = cJSON_GetObjectItemCaseSensitive(rs->run, "repository");
	const char *slug = jstr(repo, "full_name");
	rs->slug = xstrdup(slug ? slug : "unknown/unknown");
	const char *upd = jstr(rs->run, "updated_at");
	const char *status = jstr(rs->run, "status");
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
		if (list_dir(ad, false, &names, &n, &ignore) == 0) {
			for (size_t i = 0; i < n; i++) {
				char *f = path_join(ad, names[i]);
				buf_addf(&rs->sig, "a:");
				sig_add_file(&rs->sig, f);
				free(f);
			}
			free_names(names, n);
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

static int load_log_file(const char *path, struct run_src *rs, struct cs_err *err)
{
	size_t alloc = 0;
	uint64_t h;
	if (file_fingerprint(path, &h, err) < 0)
		return -1;
	rs->provider_id = content_id(h);
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	sig_add_file(&rs->sig, path);
	rs->jobs_doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(rs->jobs_doc, "jobs");
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
	js->name = jstr(jo, "name");
	js->provider_id = 1;
	js->attempt = 1;
	js->log_file = xstrdup(path);
	return 0;
}

/* --- writing a run -------------------------------------------------------------------------- */
static int64_t upsert_repo(struct importer *im, const char *provider, const char *slug,
			   const char *html_url, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db,
			       "INSERT INTO repos (provider, slug, html_url) VALUES (?, ?, ?) "
			       "ON CONFLICT (provider, slug) DO UPDATE SET "
			       "html_url = coalesce(excluded.html_url, html_url) RETURNING id",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store the repository");
	sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, slug, -1, SQLITE_TRANSIENT);
	bind_text(s, 3, html_url);
	int64_t id = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		store_err(im->st, err, "cannot store the repository");
	sqlite3_finalize(s);
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
	if (sqlite3_prepare_v2(
		    im->st->db,
		    "INSERT INTO runs (repo_id, provider_id, attempt, run_number, workflow_id, "
		    "workflow_name, workflow_path, title, event, head_branch, head_sha, status, "
		    "conclusion, created_at, updated_at, started_at, html_url, actor, commit_message, "
		    "commit_author, commit_time, source, import_sig, imported_at) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store the run");
	int64_t v;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, rs->provider_id);
	sqlite3_bind_int(s, 3, attempt);
	if (obj && jint(obj, "run_number", &v))
		sqlite3_bind_int64(s, 4, v);
	if (obj && jint(obj, "workflow_id", &v))
		sqlite3_bind_int64(s, 5, v);
	const cJSON *hc = obj ? cJSON_GetObjectItemCaseSensitive(obj, "head_commit") : NULL;
	const char *msg = jstr(hc, "message");
	const char *title = obj ? jstr(obj, "display_title") : NULL;
	char *subject = NULL;
	if (!title && msg) {
		const char *nl = strchr(msg, '\n');
		subject = xstrndup(msg, nl ? (size_t)(nl - msg) : strlen(msg));
		title = subject;
	}
	if (!obj) {
		/* archive or log file: the job's name says more than nothing */
		bind_text(s, 6, "(imported log)");
		bind_text(s, 8, rs->label);
		bind_text(s, 9, "import");
	} else {
		bind_text(s, 6, jstr(obj, "name"));
		bind_text(s, 7, jstr(obj, "path"));
		bind_text(s, 8, title);
		bind_text(s, 9, jstr(obj, "event"));
		bind_text(s, 10, jstr(obj, "head_branch"));
		bind_text(s, 11, jstr(obj, "head_sha"));
	}
	const char *status = obj ? jstr(obj, "status") : NULL;
	const char *concl = obj ? jstr(obj, "conclusion") : NULL;
	int64_t created = obj ? jtime(obj, "created_at") : CS_TIME_NONE;
	int64_t updated = obj ? jtime(obj, "updated_at") : CS_TIME_NONE;
	int64_t started = obj ? jtime(obj, "run_started_at") : CS_TIME_NONE;
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
	bind_text(s, 12, status ? status : "completed");
	bind_text(s, 13, concl);
	if (created == CS_TIME_NONE)
		created = started != CS_TIME_NONE ? started : im->now;
	bind_time(s, 14, created);
	bind_time(s, 15, updated);
	bind_time(s, 16, started);
	if (obj) {
		bind_text(s, 17, jstr(obj, "html_url"));
		const cJSON *actor = cJSON_GetObjectItemCaseSensitive(obj, "actor");
		bind_text(s, 18, jstr(actor, "login"));
		bind_text(s, 19, msg);
		const cJSON *au = cJSON_GetObjectItemCaseSensitive(hc, "author");
		bind_text(s, 20, jstr(au, "name"));
		bind_time(s, 21, jtime(hc, "timestamp"));
	}
	bind_text(s, 22, rs->path);
	bind_text(s, 23, sig);
	sqlite3_bind_int64(s, 24, im->now);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store the run");
	sqlite3_finalize(s);
	free(subject);
	*row_id = sqlite3_last_insert_rowid(im->st->db);
	return rc;
}

static int insert_job(struct importer *im, int64_t run_row_id, struct job_src *js,
		      struct cs_err *err)
{
	const cJSON *j = js->json;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db,
			       "INSERT INTO jobs (run_id, provider_id, name, status, conclusion, "
			       "started_at, completed_at, runner_name, runner_group, labels, html_url, "
			       "ordinal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store a job");
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_int64(s, 2, js->provider_id);
	sqlite3_bind_text(s, 3, js->name, -1, SQLITE_TRANSIENT);
	const char *status = jstr(j, "status");
	bind_text(s, 4, status ? status : "completed");
	bind_text(s, 5, jstr(j, "conclusion"));
	bind_time(s, 6, jtime(j, "started_at"));
	bind_time(s, 7, jtime(j, "completed_at"));
	bind_text(s, 8, jstr(j, "runner_name"));
	bind_text(s, 9, jstr(j, "runner_group_name"));
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
	char *lj = cJSON_IsArray(labels) ? cJSON_PrintUnformatted(labels) : NULL;
	bind_text(s, 10, lj);
	free(lj);
	bind_text(s, 11, jstr(j, "html_url"));
	sqlite3_bind_int(s, 12, js->ordinal);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store a job");
	sqlite3_finalize(s);
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
	if (sqlite3_prepare_v2(im->st->db,
			       "INSERT OR IGNORE INTO steps (job_id, number, name, status, conclusion, "
			       "started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store steps");
	const cJSON *st;
	int idx = 0;
	cJSON_ArrayForEach(st, steps)
	{
		int64_t num = idx + 1;
		jint(st, "number", &num);
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, js->row_id);
		sqlite3_bind_int64(s, 2, num);
		const char *nm = jstr(st, "name");
		sqlite3_bind_text(s, 3, nm ? nm : "", -1, SQLITE_TRANSIENT);
		const char *sst = jstr(st, "status");
		bind_text(s, 4, sst ? sst : "completed");
		bind_text(s, 5, jstr(st, "conclusion"));
		bind_time(s, 6, jtime(st, "started_at"));
		bind_time(s, 7, jtime(st, "completed_at"));
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			return store_err(im->st, err, "cannot store steps");
		}
		idx++;
	}
	sqlite3_finalize(s);
	return 0;
}

static int set_log_state(struct importer *im, int64_t job_row_id, const char *state,
			 struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db, "UPDATE jobs SET log_state = ? WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot store a job");
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job_row_id);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store a job");
	sqlite3_finalize(s);
	return rc;
}

/* existing row for (repo, run, attempt): its id and signature */
static int64_t find_existing(struct importer *im, int64_t repo_id, int64_t provider_id,
			     int attempt, char **sig)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	*sig = NULL;
	if (sqlite3_prepare_v2(im->st->db,
			       "SELECT id, import_sig FROM runs WHERE repo_id = ? AND provider_id = ? "
			       "AND attempt = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, repo_id);
	sqlite3_bind_int64(s, 2, provider_id);
	sqlite3_bind_int(s, 3, attempt);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		const unsigned char *t = sqlite3_column_text(s, 1);
		*sig = t ? xstrdup((const char *)t) : NULL;
	}
	sqlite3_finalize(s);
	return id;
}

static int delete_run(struct importer *im, int64_t row_id, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db, "DELETE FROM runs WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_err(im->st, err, "cannot replace the run");
	sqlite3_bind_int64(s, 1, row_id);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot replace the run");
	sqlite3_finalize(s);
	return rc;
}

static int exec_ids(struct importer *im, const char *sql, int64_t a, int64_t b,
		    struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(im->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(im->st, err, "cannot replace the run");
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot replace the run");
	sqlite3_finalize(s);
	return rc;
}

static int set_aside(struct importer *im, int64_t old, struct cs_err *err)
{
	return exec_ids(im, "UPDATE runs SET provider_id = -provider_id - 1 WHERE id = ?1 AND ?2 = ?2",
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
		if (sqlite3_prepare_v2(im->st->db,
				       "SELECT j.id FROM jobs j JOIN logs l ON l.job_id = j.id "
				       "WHERE j.run_id = ? AND j.provider_id = ?",
				       -1, &s, NULL) != SQLITE_OK)
			return store_err(im->st, err, "cannot replace the run");
		sqlite3_bind_int64(s, 1, old);
		sqlite3_bind_int64(s, 2, js->provider_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			old_job = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		if (!old_job)
			continue;
		if (exec_ids(im, "UPDATE logs SET job_id = ?1 WHERE job_id = ?2", js->row_id, old_job,
			     err) < 0 ||
		    exec_ids(im, "UPDATE findings SET job_id = ?1 WHERE job_id = ?2", js->row_id,
			     old_job, err) < 0 ||
		    exec_ids(im,
			     "UPDATE steps SET first_line = o.first_line, last_line = o.last_line, "
			     "attribution = o.attribution FROM steps o WHERE steps.job_id = ?1 AND "
			     "o.job_id = ?2 AND o.number = steps.number",
			     js->row_id, old_job, err) < 0 ||
		    exec_ids(im,
			     "INSERT OR IGNORE INTO steps (job_id, number, name, status, conclusion, "
			     "started_at, completed_at, first_line, last_line, attribution) "
			     "SELECT ?1, number, name, status, conclusion, started_at, completed_at, "
			     "first_line, last_line, attribution FROM steps WHERE job_id = ?2",
			     js->row_id, old_job, err) < 0 ||
		    exec_ids(im, "UPDATE jobs SET log_state = 'stored' WHERE id = ?1 AND ?2 = ?2",
			     js->row_id, 0, err) < 0)
			return -1;
		carried++;
	}
	if (attempt == rs->latest_attempt && !rs->has_artifacts) {
		if (exec_ids(im, "UPDATE artifacts SET run_id = ?1 WHERE run_id = ?2", row, old, err) < 0 ||
		    exec_ids(im, "UPDATE test_results SET run_id = ?1 WHERE run_id = ?2", row, old,
			     err) < 0 ||
		    exec_ids(im, "UPDATE metric_series SET run_id = ?1 WHERE run_id = ?2", row, old,
			     err) < 0)
			return -1;
	}
	return carried;
}

static int import_run_src(struct importer *im, struct run_src *rs, const char *folder,
			  struct cs_err *err)
{
	struct import_event events[16];
	int n_events = 0;
	if (store_begin(im->st, err) < 0)
		return -1;
	const char *provider = rs->run ? "github" : "local";
	const cJSON *repo = rs->run ? cJSON_GetObjectItemCaseSensitive(rs->run, "repository") : NULL;
	int64_t repo_id = upsert_repo(im, provider, rs->slug, jstr(repo, "html_url"), err);
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
				const char *c = jstr(j, "conclusion"), *stt = jstr(j, "status");
				if (conclusion_is_failure(c))
					ds.any_failed = true;
				if (c && !strcmp(c, "cancelled"))
					ds.any_cancelled = true;
				if (stt && strcmp(stt, "completed"))
					ds.all_done = false;
				int64_t t0 = jtime(j, "started_at"), t1 = jtime(j, "completed_at");
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
				if (interrupted(im)) {
					err_set(err, CS_EINTR, "interrupted");
					buf_release(&sig);
					cJSON_Delete(own);
					goto fail;
				}
				if (insert_job(im, row, js, err) < 0 ||
				    store_job_log(im, rs, js, err) < 0) {
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
			if (!rs->run) {
				/* an imported log has no conclusion of its own: say what it
				 * shows (an ##[error] line means it failed) */
				char sql[512];
				snprintf(sql, sizeof(sql),
					 "UPDATE jobs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
					 "findings f WHERE f.job_id = jobs.id AND f.severity = 'error') "
					 "THEN 'failure' ELSE 'success' END WHERE run_id = %lld; "
					 "UPDATE runs SET conclusion = CASE WHEN EXISTS (SELECT 1 FROM "
					 "jobs j WHERE j.run_id = runs.id AND j.conclusion = 'failure') "
					 "THEN 'failure' ELSE 'success' END WHERE id = %lld",
					 (long long)row, (long long)row);
				if (store_exec(im->st, sql, err) < 0) {
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
		const char *wf = rs->run ? jstr(rs->run, "name") : "(imported log)";
		ev.workflow = wf;
		if (n_events < (int)ARRAY_SIZE(events))
			events[n_events++] = ev;
	}
	/* triage what is new, in the same transaction (core/triage.h) */
	for (int i = 0; i < n_events; i++)
		if (events[i].state != IMPORT_UNCHANGED &&
		    triage_after_import(im->st, events[i].run_row_id, err) < 0)
			goto fail;
	if (store_commit(im->st, err) < 0)
		goto fail;
	im->prog.runs++;
	for (int i = 0; i < n_events; i++)
		if (im->opts.on_run)
			im->opts.on_run(im->opts.ctx, &events[i]);
	return 0;
fail:
	store_rollback(im->st);
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
	if (list_dir(dir, false, &names, &n, err) < 0) {
		report_error(im, "folder", dir, err);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (interrupted(im)) {
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
	free_names(names, n);
	return rc;
}

int import_path(struct importer *im, const char *path, struct cs_err *err)
{
	struct stat st;
	err_clear(err);
	if (stat(path, &st) < 0) {
		err_set(err, CS_ENOTFOUND, "%s", strerror(errno));
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
	sqlite3 *db = st->db;
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
			       -1, SQLITE_PREPARE_PERSISTENT, &im->ins_test, NULL) != SQLITE_OK)
		die("cannot prepare the import statements: %s", sqlite3_errmsg(db));
	return im;
}

void importer_free(struct importer *im)
{
	if (!im)
		return;
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
