/* importfile.c - a single log file as a run to import: a `gh run view --log`
 * file split into its jobs and steps, or any other log as one job (its
 * title from the file name). Private to the importer (import_int.h). */
#include "import_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logparse.h"
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

static bool gh_scan_file(const char *path, const struct run_src *rs, struct gh_scan *g)
{
	FILE *f = rs->file_in_mem ? fmemopen(rs->file.data, rs->file.len, "rb") : fopen(path, "rb");
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

/* A log file of 1 to IMPORT_FILE_MEM bytes read whole into rs->file: 1;
 * 0 when it is larger (or empty, or not a regular file) and is read from
 * the file; -1 with err set when it cannot be read. */
static int read_whole(const char *path, struct run_src *rs, struct cs_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)IMPORT_FILE_MEM) {
		close(fd);
		return 0;
	}
	buf_reset(&rs->file);
	/* one byte more than its size: a file that grew since is streamed */
	buf_reserve(&rs->file, (size_t)st.st_size + 1);
	size_t want = (size_t)st.st_size + 1;
	while (rs->file.len < want) {
		ssize_t r = read(fd, rs->file.data + rs->file.len, want - rs->file.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			buf_reset(&rs->file);
			return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(e));
		}
		if (r == 0)
			break;
		rs->file.len += (size_t)r;
	}
	close(fd);
	if (rs->file.len == 0 || rs->file.len > (size_t)st.st_size) {
		buf_reset(&rs->file);
		return 0;
	}
	rs->file_in_mem = true;
	return 1;
}

int import_load_log_file(const char *path, struct run_src *rs, struct cs_err *err)
{
	size_t alloc = 0;
	uint64_t h;
	int whole = read_whole(path, rs, err);
	if (whole < 0)
		return -1;
	if (whole)
		h = import_mem_fingerprint(rs->file.data, rs->file.len);
	else if (import_file_fingerprint(path, &h, err) < 0)
		return -1;
	rs->provider_id = import_content_id(h);
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	rs->log_alone = true;
	free(rs->label);
	rs->label = log_file_title(path);
	import_sig_add_file(&rs->sig, path);
	rs->jobs_doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(rs->jobs_doc, "jobs");
	struct gh_scan g;
	if (gh_scan_file(path, rs, &g)) {
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
			struct job_src *js = import_add_job(rs, &alloc);
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
	struct job_src *js = import_add_job(rs, &alloc);
	js->json = jo;
	js->name = import_jstr(jo, "name");
	js->provider_id = 1;
	js->attempt = 1;
	js->log_file = xstrdup(path);
	return 0;
}
