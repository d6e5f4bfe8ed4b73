/* runitems.c - a run's artifacts, test results and metric series, read for
 * the run view (runitems.h). */
#include "runitems.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storesql.h"
#include "ziparc.h"



struct art_ctx {
	struct run_items *it;
	size_t alloc, falloc;
	int64_t last_id;
};

/* One row per file (or per artifact without files), artifacts in order. */
static int art_row(void *ctx, sqlite3_stmt *s)
{
	struct art_ctx *c = ctx;
	struct run_items *it = c->it;
	int64_t id = sqlite3_column_int64(s, 0);
	if (!it->n_artifacts || id != c->last_id) {
		XGROW(it->artifacts, c->alloc, (size_t)it->n_artifacts + 1);
		struct run_artifact *a = &it->artifacts[it->n_artifacts++];
		memset(a, 0, sizeof(*a));
		a->name = sql_col_str(s, 1);
		if (!a->name)
			a->name = xstrdup("");
		a->size = sqlite3_column_type(s, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 2);
		a->expired = sqlite3_column_int(s, 3) != 0;
		c->last_id = id;
		c->falloc = 0;
	}
	if (sqlite3_column_type(s, 4) == SQLITE_NULL)
		return 0; /* an artifact without files */
	struct run_artifact *a = &it->artifacts[it->n_artifacts - 1];
	XGROW(a->files, c->falloc, (size_t)a->n_files + 1);
	struct run_item_file *f = &a->files[a->n_files++];
	f->path = sql_col_str(s, 4);
	if (!f->path)
		f->path = xstrdup("");
	f->size = sqlite3_column_int64(s, 5);
	f->kind = sql_col_str(s, 6);
	f->note = sql_col_str(s, 7);
	f->n_tests = sqlite3_column_int(s, 8);
	f->n_series = sqlite3_column_int(s, 9);
	it->n_files++;
	return 0;
}

struct test_ctx {
	struct run_items *it;
	size_t alloc;
};

static int test_row(void *ctx, sqlite3_stmt *s)
{
	struct test_ctx *c = ctx;
	struct run_items *it = c->it;
	XGROW(it->tests, c->alloc, (size_t)it->n_tests + 1);
	struct run_test *t = &it->tests[it->n_tests++];
	t->suite = sql_col_str(s, 0);
	t->classname = sql_col_str(s, 1);
	t->name = sql_col_str(s, 2);
	if (!t->name)
		t->name = xstrdup("");
	t->file = sql_col_str(s, 3);
	t->line = sqlite3_column_type(s, 4) == SQLITE_NULL ? 0 : (long)sqlite3_column_int64(s, 4);
	t->duration_ms = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 5);
	t->outcome = sql_col_str(s, 6);
	t->message = sql_col_str(s, 7);
	t->details = sql_col_str(s, 8);
	t->reruns = sqlite3_column_int(s, 9);
	t->artifact = sql_col_str(s, 10);
	return 0;
}

static int count_row(void *ctx, sqlite3_stmt *s)
{
	struct run_items *it = ctx;
	const char *o = (const char *)sqlite3_column_text(s, 0);
	int n = sqlite3_column_int(s, 1);
	if (!o)
		return 0;
	if (!strcmp(o, "passed"))
		it->passed = n;
	else if (!strcmp(o, "failed"))
		it->failed = n;
	else if (!strcmp(o, "error"))
		it->errors = n;
	else if (!strcmp(o, "skipped"))
		it->skipped = n;
	else if (!strcmp(o, "flaky"))
		it->flaky = n;
	return 0;
}

struct series_ctx {
	struct run_items *it;
	size_t alloc;
};

static int series_row(void *ctx, sqlite3_stmt *s)
{
	struct series_ctx *c = ctx;
	struct run_items *it = c->it;
	XGROW(it->series, c->alloc, (size_t)it->n_series + 1);
	struct run_series *r = &it->series[it->n_series++];
	r->id = sqlite3_column_int64(s, 0);
	r->name = sql_col_str(s, 1);
	if (!r->name)
		r->name = xstrdup("");
	r->x_name = sql_col_str(s, 2);
	r->n_points = (long)sqlite3_column_int64(s, 3);
	r->artifact = sql_col_str(s, 4);
	r->path = sql_col_str(s, 5);
	r->n_values = (long)sqlite3_column_int64(s, 6);
	r->first = sqlite3_column_double(s, 7);
	r->last = sqlite3_column_double(s, 8);
	r->min = sqlite3_column_double(s, 9);
	r->max = sqlite3_column_double(s, 10);
	return 0;
}

int run_items_load(struct store *st, int64_t run_row_id, struct run_items *out,
		   struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	struct art_ctx ac = {.it = out};
	if (store_prepare(st,
			  "SELECT a.id, a.name, a.size, a.expired, f.path, f.size, f.kind, f.note, "
			  "(SELECT count(*) FROM test_results t WHERE t.file_id = f.id), "
			  "(SELECT count(*) FROM metric_series m WHERE m.file_id = f.id) "
			  "FROM artifacts a LEFT JOIN artifact_files f ON f.artifact_id = a.id "
			  "WHERE a.run_id = ?1 ORDER BY a.name, a.id, f.path",
			  &s, "cannot list the run's artifacts", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, run_row_id);
	if (store_collect(st, s, art_row, &ac, "cannot list the run's artifacts", err) < 0)
		goto fail;

	if (store_prepare(st,
			  "SELECT outcome, count(*) FROM test_results WHERE run_id = ?1 GROUP BY outcome",
			  &s, "cannot count the run's tests", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, run_row_id);
	if (store_collect(st, s, count_row, out, "cannot count the run's tests", err) < 0)
		goto fail;

	struct test_ctx tc = {.it = out};
	if (store_prepare(st,
			  "SELECT t.suite, t.classname, t.name, t.file, t.line, t.duration_ms, "
			  "t.outcome, t.message, t.details, t.reruns, a.name "
			  "FROM test_results t JOIN artifact_files f ON f.id = t.file_id "
			  "JOIN artifacts a ON a.id = f.artifact_id "
			  "WHERE t.run_id = ?1 AND t.outcome IN ('failed', 'error', 'flaky') "
			  "ORDER BY CASE t.outcome WHEN 'failed' THEN 0 WHEN 'error' THEN 1 ELSE 2 END, "
			  "t.suite, t.classname, t.name, t.id",
			  &s, "cannot list the run's tests", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, run_row_id);
	if (store_collect(st, s, test_row, &tc, "cannot list the run's tests", err) < 0)
		goto fail;

	struct series_ctx sc = {.it = out};
	if (store_prepare(
		    st,
		    "SELECT s.id, s.name, s.x_name, s.n_points, a.name, f.path, "
		    "(SELECT count(value) FROM metric_points p WHERE p.series_id = s.id), "
		    "(SELECT value FROM metric_points p WHERE p.series_id = s.id AND value IS NOT NULL "
		    " ORDER BY idx LIMIT 1), "
		    "(SELECT value FROM metric_points p WHERE p.series_id = s.id AND value IS NOT NULL "
		    " ORDER BY idx DESC LIMIT 1), "
		    "(SELECT min(value) FROM metric_points p WHERE p.series_id = s.id), "
		    "(SELECT max(value) FROM metric_points p WHERE p.series_id = s.id) "
		    "FROM metric_series s JOIN artifact_files f ON f.id = s.file_id "
		    "JOIN artifacts a ON a.id = f.artifact_id WHERE s.run_id = ?1 "
		    "ORDER BY a.name, f.path, s.name, s.id",
		    &s, "cannot list the run's metric series", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, run_row_id);
	if (store_collect(st, s, series_row, &sc, "cannot list the run's metric series", err) < 0)
		goto fail;
	return 0;
fail:
	run_items_release(out);
	return -1;
}

void run_items_release(struct run_items *it)
{
	for (int i = 0; i < it->n_artifacts; i++) {
		struct run_artifact *a = &it->artifacts[i];
		for (int k = 0; k < a->n_files; k++) {
			free(a->files[k].path);
			free(a->files[k].kind);
			free(a->files[k].note);
		}
		free(a->files);
		free(a->name);
	}
	free(it->artifacts);
	for (int i = 0; i < it->n_tests; i++) {
		struct run_test *t = &it->tests[i];
		free(t->suite);
		free(t->classname);
		free(t->name);
		free(t->file);
		free(t->outcome);
		free(t->message);
		free(t->details);
		free(t->artifact);
	}
	free(it->tests);
	for (int i = 0; i < it->n_series; i++) {
		free(it->series[i].name);
		free(it->series[i].x_name);
		free(it->series[i].artifact);
		free(it->series[i].path);
	}
	free(it->series);
	memset(it, 0, sizeof(*it));
}

struct pts_ctx {
	double *x, *v;
	long n, max;
};

static int pts_row(void *ctx, sqlite3_stmt *s)
{
	struct pts_ctx *c = ctx;
	if (c->n >= c->max)
		return 1;
	c->x[c->n] = sqlite3_column_double(s, 0);
	c->v[c->n] = sqlite3_column_type(s, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 1);
	c->n++;
	return 0;
}

long run_series_points(struct store *st, int64_t series_id, long max, double **x, double **v,
		       long *total, struct cs_err *err)
{
	*x = *v = NULL;
	*total = 0;
	if (max < 0)
		max = 0;
	sqlite3_stmt *s;
	if (store_prepare(st, "SELECT count(*) FROM metric_points WHERE series_id = ?1", &s,
			  "cannot read the series", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, series_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		*total = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	struct pts_ctx c = {.x = xcalloc((size_t)max + 1, sizeof(double)),
			    .v = xcalloc((size_t)max + 1, sizeof(double)),
			    .max = max};
	if (store_prepare(st,
			  "SELECT x, value FROM metric_points WHERE series_id = ?1 ORDER BY idx LIMIT ?2",
			  &s, "cannot read the series", err) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, series_id);
	sqlite3_bind_int64(s, 2, max);
	if (store_collect(st, s, pts_row, &c, "cannot read the series", err) < 0)
		goto fail;
	*x = c.x;
	*v = c.v;
	return c.n;
fail:
	free(c.x);
	free(c.v);
	return -1;
}

/* A relative name that stays below its folder. */
static bool name_ok(const char *s, bool slash_ok)
{
	if (!s || !*s || *s == '/')
		return false;
	if (!slash_ok && strchr(s, '/'))
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}


struct zip_cap {
	struct buf *out;
	size_t max;
	bool *truncated;
};

static int zip_take(void *ctx, const void *data, size_t n)
{
	struct zip_cap *c = ctx;
	if (c->out->len + n > c->max) {
		buf_add(c->out, data, c->max - c->out->len);
		*c->truncated = true;
		return 1;
	}
	buf_add(c->out, data, n);
	return 0;
}

static int read_zip_entry(const char *zip, const char *path, size_t max, struct buf *out,
			  bool *truncated, struct cs_err *err)
{
	struct ziparc *z = ziparc_open(zip, err);
	if (!z)
		return -1;
	int rc = err_set(err, CS_ENOTFOUND, "'%s' has no entry '%s'", zip, path);
	for (uint64_t i = 0; i < ziparc_count(z); i++) {
		struct zip_entry e;
		if (ziparc_entry(z, i, &e, err) < 0) {
			rc = -1;
			break;
		}
		if (e.is_dir || e.unsafe || strcmp(e.name, path) != 0)
			continue;
		err_clear(err);
		struct zip_cap c = {.out = out, .max = max, .truncated = truncated};
		rc = ziparc_stream(z, i, UINT64_MAX, zip_take, &c, err);
		if (rc > 0 || (rc < 0 && *truncated))
			rc = 0; /* stopped at max */
		break;
	}
	ziparc_close(z);
	return rc < 0 ? -1 : 0;
}

/* The run folder an import recorded, as a path to open from here. Imports
 * store it absolute; an older index may hold it relative to the folder the
 * import ran in, which is tried first, then from the index's own folder and
 * each folder above it (the index usually sits below where it was built).
 * NULL with err naming what was tried when none of them is a folder. */
static char *source_folder(struct store *st, const char *folder, struct cs_err *err)
{
	if (folder[0] == '/' || path_is_dir(folder))
		return xstrdup(folder);
	char *db = st->path ? realpath(st->path, NULL) : NULL;
	char *found = NULL;
	for (char *up = db ? strrchr(db, '/') : NULL; up && !found; up = strrchr(db, '/')) {
		*up = '\0';
		char *p = xasprintf("%s/%s", *db ? db : "", folder);
		if (path_is_dir(p))
			found = p;
		else
			free(p);
	}
	if (!found)
		err_set(err, CS_ENOTFOUND,
			"cannot find the run folder '%s' here or above the index (an older import "
			"kept the path relative): import the run again",
			folder);
	free(db);
	return found;
}

int run_artifact_read(struct store *st, int64_t run_row_id, const char *artifact,
		      const char *path, size_t max, struct buf *out, bool *truncated,
		      struct cs_err *err)
{
	*truncated = false;
	if (!name_ok(artifact, false) || !name_ok(path, true))
		return err_set(err, CS_EINVAL, "not read: the artifact's name or path leaves its folder");
	sqlite3_stmt *s;
	if (store_prepare(st,
			  "SELECT r.source, a.source, a.expired FROM runs r JOIN artifacts a "
			  "ON a.run_id = r.id WHERE r.id = ?1 AND a.name = ?2",
			  &s, "cannot find the artifact", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, run_row_id);
	sqlite3_bind_text(s, 2, artifact, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return err_set(err, CS_ENOTFOUND, "no artifact '%s' in this run", artifact);
	}
	char *folder = sql_col_str(s, 0), *kind = sql_col_str(s, 1);
	bool expired = sqlite3_column_int(s, 2) != 0;
	sqlite3_finalize(s);
	int rc;
	char *here = NULL;
	if (expired || (kind && !strcmp(kind, "api"))) {
		rc = err_set(err, CS_ENOTFOUND, "the artifact expired on GitHub: no file to show");
	} else if (!folder || !*folder) {
		rc = err_set(err, CS_ENOTFOUND, "the index does not say where this run came from");
	} else if (!(here = source_folder(st, folder, err))) {
		rc = -1;
	} else if (kind && !strcmp(kind, "zip")) {
		char *zip = xasprintf("%s/artifacts/%s.zip", here, artifact);
		rc = read_zip_entry(zip, path, max, out, truncated, err);
		free(zip);
	} else {
		char *file = kind && !strcmp(kind, "file")
				     ? xasprintf("%s/artifacts/%s", here, artifact)
				     : xasprintf("%s/artifacts/%s/%s", here, artifact, path);
		rc = file_read_head(file, max, out, truncated, err);
		free(file);
	}
	free(here);
	free(folder);
	free(kind);
	return rc;
}

void run_item_size(int64_t n, char *out, size_t len)
{
	if (n < 0)
		snprintf(out, len, "%s", "");
	else if (n < 1024)
		snprintf(out, len, "%lld B", (long long)n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, len, "%.1f MiB", (double)n / (1024 * 1024));
}
