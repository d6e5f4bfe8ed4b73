/* importart.c - a run's artifacts during an import: each artifact (a zip as
 * downloaded, or a folder) is listed file by file; JUnit reports become test
 * results, metric files (CSV/TSV, JSONL, JSON) metric series (artifact.h).
 * Private to the importer (import_int.h).
 */
#include "import_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "artifact.h"

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
	sql_bind_text(s, 3, tc->suite);
	sql_bind_text(s, 4, tc->classname);
	sqlite3_bind_text(s, 5, tc->name ? tc->name : "", -1, SQLITE_TRANSIENT);
	sql_bind_text(s, 6, tc->file);
	if (tc->line > 0)
		sqlite3_bind_int64(s, 7, tc->line);
	else
		sqlite3_bind_null(s, 7);
	if (tc->duration_ms >= 0)
		sqlite3_bind_int64(s, 8, tc->duration_ms);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_text(s, 9, test_outcome_name(tc->outcome), -1, SQLITE_STATIC);
	sql_bind_text(s, 10, tc->message);
	sql_bind_text(s, 11, tc->details);
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
			sql_bind_text(a->ins_series, 4, p->x_name);
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
	sql_bind_text(s, 5, reject);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_err(im->st, err, "cannot store an artifact file");
	sqlite3_finalize(s);
	if (rc)
		return -1;
	tot->files++;
	import_progress_add(im, n, 1);
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
	if (import_list_dir(dir, true, &names, &n, err) < 0) {
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
	import_free_names(names, n);
	free(dir);
	return rc;
}

/* A marker the fetcher leaves for a log or artifact GitHub has expired
 * (410): a small file holding exactly IMPORT_EXPIRED_MARKER. */
bool import_is_expired_marker(const char *path)
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

int import_artifacts(struct importer *im, const char *folder, int64_t run_row_id,
			    struct art_totals *tot, struct cs_err *err)
{
	char *dir = path_join(folder, "artifacts");
	if (!path_is_dir(dir)) {
		free(dir);
		return 0;
	}
	char **names;
	size_t n;
	if (import_list_dir(dir, false, &names, &n, err) < 0) {
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
		} else if (str_ends(names[i], ".expired") && import_is_expired_marker(p)) {
			/* GitHub expired it (410): listed as expired, unless its
			 * content is here after all */
			char *name = xstrndup(names[i], strlen(names[i]) - 8);
			char *zip = xasprintf("%s/%s.zip", dir, name);
			char *plain = path_join(dir, name);
			if (!path_is_file(zip) && !path_is_dir(plain) && !path_is_file(plain)) {
				int64_t art = insert_artifact(im, run_row_id, name, "api", 0, err);
				rc = art < 0 ? -1
					     : import_exec_ids(im, "UPDATE artifacts SET expired = 1 WHERE id = ?1 "
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
	import_free_names(names, n);
	free(dir);
	if (rc)
		err_prefix(err, "artifacts");
	return rc;
}

