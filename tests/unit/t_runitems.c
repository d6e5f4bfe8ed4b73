/* t_runitems.c - a run's artifacts, tests and metric series for the run
 * view: grouping of files under artifacts (an artifact without files too),
 * the outcome counts and the order of the tests that did not pass, series
 * summaries over values with gaps, the points of a series (capped, NaN for
 * a missing value), a run with nothing, and a hostile series id. */
#include <math.h>
#include <stdio.h>
#include <zip.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/runitems.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

static void exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
		sqlite3_free(msg);
	}
}

static struct store *fixture(const char *name)
{
	struct store *st = t_fresh_store(name);
	exec(st,
	     "INSERT INTO repos (id, slug) VALUES (1, 'o/r');"
	     "INSERT INTO runs (id, repo_id, provider_id, imported_at, status) VALUES "
	     "(1, 1, 77, 0, 'completed'), (2, 1, 78, 0, 'completed');"
	     "INSERT INTO artifacts (id, run_id, name, size) VALUES (10, 1, 'reports', 900), "
	     "(11, 1, 'bench', NULL), (12, 1, 'empty', 0), (13, 2, 'other-run', 5);"
	     "INSERT INTO artifact_files (id, artifact_id, path, size, kind, note) VALUES "
	     "(100, 10, 'b/junit.xml', 500, 'junit', NULL), "
	     "(101, 10, 'a/notes.txt', 20, 'other', NULL), "
	     "(102, 10, 'c/huge.xml', 9, 'rejected', 'over the size limit'), "
	     "(103, 11, 'bench.json', 222, 'metrics', NULL), "
	     "(104, 13, 'x.xml', 1, 'junit', NULL);"
	     "INSERT INTO test_results (run_id, file_id, suite, classname, name, outcome, message, "
	     "details, duration_ms, line, file, reruns) VALUES "
	     "(1, 100, 's', 'k', 'passes', 'passed', NULL, NULL, 5, NULL, NULL, 0), "
	     "(1, 100, 's', 'k', 'zeta fails', 'failed', 'boom', 'trace\nline 2', 7, 12, 'k.py', 0), "
	     "(1, 100, 's', 'k', 'alpha fails', 'failed', NULL, NULL, NULL, NULL, NULL, 0), "
	     "(1, 100, 's', 'k', 'is flaky', 'flaky', 'once', NULL, 3, NULL, NULL, 2), "
	     "(1, 100, 's', 'k', 'errs', 'error', 'setup', NULL, 1, NULL, NULL, 0), "
	     "(1, 100, 's', 'k', 'skips', 'skipped', NULL, NULL, 0, NULL, NULL, 0), "
	     "(2, 104, 's', 'k', 'elsewhere', 'failed', NULL, NULL, 0, NULL, NULL, 0);"
	     "INSERT INTO metric_series (id, run_id, file_id, name, x_name, n_points) VALUES "
	     "(1000, 1, 103, 'wasm_size_kb', NULL, 1), (1001, 1, 103, 'energy', 'step', 5), "
	     "(1002, 1, 103, 'all_missing', NULL, 2);"
	     "INSERT INTO metric_points (series_id, idx, x, value) VALUES "
	     "(1000, 0, 0, 176.9), (1001, 0, 1, 3), (1001, 1, 2, NULL), (1001, 2, 3, -1), "
	     "(1001, 3, 4, 8), (1001, 4, 5, 2), (1002, 0, 0, NULL), (1002, 1, 1, NULL);");
	return st;
}

TEST(runitems_load)
{
	struct store *st = fixture("load");
	struct run_items it;
	struct cs_err err;
	CHECK_OK(run_items_load(st, 1, &it, &err));
	/* artifacts by name, files by path; one without files */
	CHECK_INT(it.n_artifacts, 3);
	CHECK_INT(it.n_files, 4);
	CHECK_STR(it.artifacts[0].name, "bench");
	CHECK_INT(it.artifacts[0].size, -1);
	CHECK_INT(it.artifacts[0].n_files, 1);
	CHECK_INT(it.artifacts[0].files[0].n_series, 3);
	CHECK_STR(it.artifacts[1].name, "empty");
	CHECK_INT(it.artifacts[1].n_files, 0);
	CHECK_STR(it.artifacts[2].name, "reports");
	CHECK_INT(it.artifacts[2].n_files, 3);
	CHECK_STR(it.artifacts[2].files[0].path, "a/notes.txt");
	CHECK_STR(it.artifacts[2].files[1].path, "b/junit.xml");
	CHECK_INT(it.artifacts[2].files[1].n_tests, 6);
	CHECK_STR(it.artifacts[2].files[2].kind, "rejected");
	CHECK_STR(it.artifacts[2].files[2].note, "over the size limit");
	/* every outcome counted; failed, then error, then flaky listed */
	CHECK_INT(it.passed, 1);
	CHECK_INT(it.failed, 2);
	CHECK_INT(it.errors, 1);
	CHECK_INT(it.skipped, 1);
	CHECK_INT(it.flaky, 1);
	CHECK_INT(it.n_tests, 4);
	CHECK_STR(it.tests[0].name, "alpha fails");
	CHECK(it.tests[0].message == NULL);
	CHECK_INT(it.tests[0].duration_ms, -1);
	CHECK_STR(it.tests[1].name, "zeta fails");
	CHECK_STR(it.tests[1].details, "trace\nline 2");
	CHECK_INT(it.tests[1].line, 12);
	CHECK_STR(it.tests[1].artifact, "reports");
	CHECK_STR(it.tests[2].outcome, "error");
	CHECK_STR(it.tests[3].outcome, "flaky");
	CHECK_INT(it.tests[3].reruns, 2);
	/* series by name; summaries over the values, gaps passed */
	CHECK_INT(it.n_series, 3);
	CHECK_STR(it.series[0].name, "all_missing");
	CHECK_INT(it.series[0].n_values, 0);
	CHECK_STR(it.series[1].name, "energy");
	CHECK_STR(it.series[1].x_name, "step");
	CHECK_INT(it.series[1].n_points, 5);
	CHECK_INT(it.series[1].n_values, 4);
	CHECK(it.series[1].first == 3 && it.series[1].last == 2);
	CHECK(it.series[1].min == -1 && it.series[1].max == 8);
	CHECK_STR(it.series[1].artifact, "bench");
	CHECK_STR(it.series[1].path, "bench.json");
	CHECK(it.series[2].last == 176.9);
	run_items_release(&it);
	CHECK_INT(it.n_artifacts, 0);
	run_items_release(&it); /* twice is harmless */

	/* a run with nothing, and one that does not exist */
	exec(st, "INSERT INTO runs (id, repo_id, provider_id, imported_at, status) VALUES "
		 "(3, 1, 79, 0, 'completed')");
	CHECK_OK(run_items_load(st, 3, &it, &err));
	CHECK_INT(it.n_artifacts + it.n_tests + it.n_series + it.passed, 0);
	run_items_release(&it);
	CHECK_OK(run_items_load(st, 424242, &it, &err));
	CHECK_INT(it.n_artifacts, 0);
	run_items_release(&it);
	store_close(st);
}

TEST(runitems_points)
{
	struct store *st = fixture("points");
	struct cs_err err;
	double *x, *v;
	long total;
	CHECK_INT(run_series_points(st, 1001, 100, &x, &v, &total, &err), 5);
	CHECK_INT(total, 5);
	CHECK(x[0] == 1 && v[0] == 3);
	CHECK(isnan(v[1]));
	CHECK(x[4] == 5 && v[4] == 2);
	free(x);
	free(v);
	/* capped: the first ones, the total still counted */
	CHECK_INT(run_series_points(st, 1001, 2, &x, &v, &total, &err), 2);
	CHECK_INT(total, 5);
	CHECK(v[0] == 3);
	free(x);
	free(v);
	CHECK_INT(run_series_points(st, 1001, 0, &x, &v, &total, &err), 0);
	free(x);
	free(v);
	CHECK_INT(run_series_points(st, 1001, -7, &x, &v, &total, &err), 0);
	free(x);
	free(v);
	/* an id that is not there: nothing, not an error */
	CHECK_INT(run_series_points(st, -1, 10, &x, &v, &total, &err), 0);
	CHECK_INT(total, 0);
	free(x);
	free(v);
	store_close(st);
}

TEST(runitems_closed_store)
{
	struct store *st = fixture("closed");
	struct run_items it;
	struct cs_err err;
	err_clear(&err);
	exec(st, "DROP TABLE metric_points");
	CHECK(run_items_load(st, 1, &it, &err) < 0);
	CHECK(strstr(err.msg, "metric series") != NULL);
	CHECK_INT(it.n_artifacts, 0); /* released on failure */
	double *x, *v;
	long total;
	CHECK(run_series_points(st, 1001, 10, &x, &v, &total, &err) < 0);
	CHECK(x == NULL && v == NULL);
	store_close(st);
}


/* An artifact file's text, read again from the run folder: a folder, a zip
 * entry and a plain-file artifact; capped; hostile names refused; a moved
 * folder, an expired artifact and a run without a source said so. */
TEST(runitems_artifact_read)
{
	struct store *st = fixture("read");
	struct cs_err err;
	char root[4096], dir[4200];
	snprintf(root, sizeof(root), "%s/runfolder", t_tmpdir());
	snprintf(dir, sizeof(dir), "%s/artifacts/reports/b", root);
	char cmd[8600];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/artifacts/bench'", dir, root);
	CHECK_INT(system(cmd), 0);
	char path[4300];
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("<testsuite>\nline two\n", f);
	fclose(f);
	/* a zip artifact: bench.zip with bench.json */
	snprintf(path, sizeof(path), "%s/artifacts/bench.zip", root);
	int zerr = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	CHECK(za != NULL);
	static const char json[] = "{\"wasm_size_kb\": 176.9}";
	zip_source_t *src = zip_source_buffer(za, json, sizeof(json) - 1, 0);
	CHECK(zip_file_add(za, "bench.json", src, ZIP_FL_ENC_GUESS) >= 0);
	CHECK(zip_close(za) == 0);
	/* a plain-file artifact */
	snprintf(path, sizeof(path), "%s/artifacts/empty", root);
	f = fopen(path, "w");
	fputs("plain", f);
	fclose(f);
	char sql[8600];
	snprintf(sql, sizeof(sql),
		 "UPDATE runs SET source = '%s' WHERE id = 1;"
		 "UPDATE artifacts SET source = 'folder' WHERE id = 10;"
		 "UPDATE artifacts SET source = 'zip' WHERE id = 11;"
		 "UPDATE artifacts SET source = 'file' WHERE id = 12;",
		 root);
	exec(st, sql);

	struct buf b = BUF_INIT;
	bool cut;
	CHECK_OK(run_artifact_read(st, 1, "reports", "b/junit.xml", 1000, &b, &cut, &err));
	CHECK_STR(buf_cstr(&b), "<testsuite>\nline two\n");
	CHECK(!cut);
	buf_reset(&b);
	CHECK_OK(run_artifact_read(st, 1, "reports", "b/junit.xml", 5, &b, &cut, &err));
	CHECK_STR(buf_cstr(&b), "<test");
	CHECK(cut);
	buf_reset(&b);
	CHECK_OK(run_artifact_read(st, 1, "bench", "bench.json", 1000, &b, &cut, &err));
	CHECK_STR(buf_cstr(&b), json);
	CHECK(!cut);
	buf_reset(&b);
	CHECK_OK(run_artifact_read(st, 1, "bench", "bench.json", 4, &b, &cut, &err));
	CHECK_STR(buf_cstr(&b), "{\"wa");
	CHECK(cut);
	buf_reset(&b);
	CHECK_OK(run_artifact_read(st, 1, "empty", "empty", 1000, &b, &cut, &err));
	CHECK_STR(buf_cstr(&b), "plain");
	buf_reset(&b);
	/* not there */
	CHECK(run_artifact_read(st, 1, "bench", "nope.json", 1000, &b, &cut, &err) < 0);
	CHECK(strstr(err.msg, "has no entry 'nope.json'") != NULL);
	CHECK(run_artifact_read(st, 1, "reports", "b/missing.xml", 1000, &b, &cut, &err) < 0);
	CHECK(strstr(err.msg, "cannot read") != NULL);
	CHECK(run_artifact_read(st, 1, "no-such", "x", 1000, &b, &cut, &err) < 0);
	CHECK(strstr(err.msg, "no artifact 'no-such'") != NULL);
	CHECK(run_artifact_read(st, 2, "other-run", "x.xml", 1000, &b, &cut, &err) < 0);
	CHECK(strstr(err.msg, "does not say where") != NULL);
	exec(st, "UPDATE artifacts SET expired = 1 WHERE id = 10");
	CHECK(run_artifact_read(st, 1, "reports", "b/junit.xml", 1000, &b, &cut, &err) < 0);
	CHECK(strstr(err.msg, "expired") != NULL);
	/* names that leave the folder: refused before any file is opened */
	const char *bad_paths[] = {"../run.json", "b/../../x", "/etc/passwd", "..", ""};
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		CHECK(run_artifact_read(st, 1, "bench", bad_paths[i], 1000, &b, &cut, &err) < 0);
		CHECK(strstr(err.msg, "leaves its folder") != NULL);
	}
	const char *bad_names[] = {"..", "a/b", "/abs", ""};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		CHECK(run_artifact_read(st, 1, bad_names[i], "x", 1000, &b, &cut, &err) < 0);
		CHECK(strstr(err.msg, "leaves its folder") != NULL);
	}
	CHECK_INT(b.len, 0);
	buf_release(&b);
	store_close(st);
}

/* file_read_head, under run_artifact_read and file_read_all: the first max
 * bytes, and whether the file goes on; exactly max bytes is not "more". */
TEST(file_read_head_edges)
{
	const char *path = t_write_file("ten.txt", "0123456789", 10);
	struct buf b = BUF_INIT;
	struct cs_err err;
	bool more;
	CHECK_OK(file_read_head(path, 4, &b, &more, &err));
	CHECK_STR(buf_cstr(&b), "0123");
	CHECK(more);
	buf_reset(&b);
	CHECK_OK(file_read_head(path, 10, &b, &more, &err));
	CHECK_STR(buf_cstr(&b), "0123456789");
	CHECK(!more);
	buf_reset(&b);
	CHECK_OK(file_read_head(path, 0, &b, &more, &err));
	CHECK_INT(b.len, 0);
	CHECK(more);
	buf_reset(&b);
	CHECK_OK(file_read_all(path, 10, &b, &err));
	CHECK_STR(buf_cstr(&b), "0123456789");
	buf_reset(&b);
	CHECK(file_read_all(path, 9, &b, &err) < 0);
	CHECK(strstr(err.msg, "larger than 9 bytes") != NULL);
	buf_reset(&b);
	CHECK(file_read_head("/nonexistent/x", 4, &b, &more, &err) < 0);
	CHECK_INT(err.code, CS_ENOTFOUND);
	buf_release(&b);
}
