/* t_logsearch.c - the resumable search across logs gives exactly the hits of
 * search_logs(), in the same order, whatever the slice size; stops from the
 * callback resume after the hit; logs deleted mid-search are passed over.
 * The logs are real CI logs from the fixtures (pytorch, CiDiff, hub4j),
 * imported as ad-hoc runs. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/import.h"
#include "core/logsearch.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

static const char *const fixture_logs[] = {
	"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt",
	"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log_multiple_matches.txt",
	"cidiff/data/breakages_dump/Quick Checks_/run118/fail.log",
	"cidiff/data/breakages/astor_1260/fail.log",
	("hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock/"
	 "testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt"),
};

static struct store *imported(const char *name)
{
	struct cs_err err;
	struct store *st = t_fresh_store(name);
	struct importer *im = importer_new(st, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(fixture_logs); i++)
		CHECK_OK(import_path(im, t_fixture(fixture_logs[i]), &err));
	importer_free(im);
	return st;
}

struct hit {
	int64_t log_id, run_row_id, job_row_id, run_id;
	uint64_t line;
	int step;
	size_t a, b;
	char *text;
};

struct hits {
	struct hit *v;
	size_t n, alloc;
	long stop_every; /* stop the step after every k-th hit (0: never) */
};

static int record(void *ctx, const struct search_hit *h)
{
	struct hits *hs = ctx;
	XGROW(hs->v, hs->alloc, hs->n + 1);
	struct hit *d = &hs->v[hs->n++];
	d->log_id = h->ref->log_id;
	d->run_row_id = h->ref->run_row_id;
	d->job_row_id = h->ref->job_row_id;
	d->run_id = h->ref->run_provider_id;
	d->line = h->line;
	d->step = h->step_number;
	d->a = h->match_start;
	d->b = h->match_end;
	d->text = xstrndup(h->text, h->text_len);
	CHECK(h->ref->job_name != NULL);
	return hs->stop_every && hs->n % (size_t)hs->stop_every == 0 ? 1 : 0;
}

static void hits_free(struct hits *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		free(hs->v[i].text);
	free(hs->v);
	memset(hs, 0, sizeof(*hs));
}

static void by_slices(struct store *st, struct matcher *m, uint64_t budget, long stop_every,
		      struct hits *out)
{
	struct cs_err err;
	err_clear(&err);
	struct logsearch *ls = logsearch_new(st, m, &err);
	CHECK(ls != NULL);
	if (!ls)
		return;
	out->stop_every = stop_every;
	int rc, guard = 0;
	uint64_t last_done = 0;
	while ((rc = logsearch_step(ls, budget, record, out, &err)) == 1 && guard++ < 1000000) {
		struct logsearch_progress p;
		logsearch_progress(ls, &p);
		CHECK(p.bytes_done >= last_done);
		CHECK(p.bytes_done <= p.bytes_total);
		CHECK_INT(p.hits, out->n);
		last_done = p.bytes_done;
	}
	CHECK_INT(rc, 0);
	struct logsearch_progress p;
	logsearch_progress(ls, &p);
	CHECK_INT(p.logs_done, p.logs_total);
	CHECK(p.bytes_done == p.bytes_total);
	/* a finished search stays finished */
	CHECK_INT(logsearch_step(ls, budget, record, out, &err), 0);
	logsearch_free(ls);
}

static void compare(struct store *st, const char *q, int flags)
{
	struct cs_err err;
	struct matcher *m = matcher_new(q, flags, &err);
	CHECK(m != NULL);
	struct hits want = {0};
	long n = 0;
	CHECK_OK(search_logs(st, m, 0, record, &want, &n, NULL, &err));
	CHECK_INT(n, want.n);
	uint64_t budgets[] = {1, 13, 500, 100000};
	long stops[] = {0, 1, 3};
	for (size_t b = 0; b < ARRAY_SIZE(budgets); b++) {
		for (size_t s = 0; s < ARRAY_SIZE(stops); s++) {
			struct hits got = {0};
			by_slices(st, m, budgets[b], stops[s], &got);
			CHECK_INT(got.n, want.n);
			for (size_t i = 0; i < got.n && i < want.n; i++) {
				const struct hit *x = &got.v[i], *y = &want.v[i];
				if (x->log_id != y->log_id || x->line != y->line || x->a != y->a ||
				    x->b != y->b || x->step != y->step || x->run_row_id != y->run_row_id ||
				    strcmp(x->text, y->text)) {
					t_fail(__FILE__, __LINE__,
					       "'%s' budget %llu stop %ld: hit %zu differs (line %llu vs %llu)",
					       q, (unsigned long long)budgets[b], stops[s], i,
					       (unsigned long long)x->line, (unsigned long long)y->line);
					break;
				}
			}
			hits_free(&got);
		}
	}
	hits_free(&want);
	matcher_free(m);
}

TEST(logsearch_same_as_search_logs)
{
	struct store *st = imported("same");
	compare(st, "error", 0);
	compare(st, "Error", 0);
	compare(st, "e", 0); /* a hit on most lines */
	compare(st, "^\\s*at [a-z.]+\\(", MATCH_REGEX);
	compare(st, "no such text anywhere", 0);
	store_close(st);
}

/* Another connection commits between every two steps: what the search read
 * ahead (the next log's filters, a chunk made on the second thread) is
 * dropped and read again; the hits stay those of search_logs(). */
TEST(logsearch_writer_between_steps)
{
	struct store *st = imported("between");
	struct cs_err err;
	err_clear(&err);
	struct store *w = store_open(st->path, STORE_RW, &err);
	CHECK(w != NULL);
	const char *qs[] = {"e", "error", "Error"};
	for (size_t i = 0; w && i < ARRAY_SIZE(qs); i++) {
		struct matcher *m = matcher_new(qs[i], 0, &err);
		struct hits want = {0}, got = {0};
		long n = 0;
		CHECK_OK(search_logs(st, m, 0, record, &want, &n, NULL, &err));
		struct logsearch *ls = logsearch_new(st, m, &err);
		int rc, k = 0;
		while ((rc = logsearch_step(ls, 7, record, &got, &err)) == 1) {
			k++;
			CHECK_INT(sqlite3_exec(w->db, "CREATE TABLE IF NOT EXISTS t_between (x);"
						     "INSERT INTO t_between VALUES (1)",
					       NULL, NULL, NULL), SQLITE_OK);
		}
		CHECK_INT(rc, 0);
		CHECK(k > 10);
		CHECK_INT(got.n, want.n);
		for (size_t j = 0; j < got.n && j < want.n; j++)
			if (got.v[j].log_id != want.v[j].log_id || got.v[j].line != want.v[j].line) {
				t_fail(__FILE__, __LINE__, "'%s': hit %zu differs", qs[i], j);
				break;
			}
		logsearch_free(ls);
		hits_free(&want);
		hits_free(&got);
		matcher_free(m);
	}
	store_close(w);
	store_close(st);
}

/* The chunks are read through a map of the file and made ahead on a second
 * thread once logsearch_many_chunks are read: that switch, between two steps
 * in the middle of the search (here after the first few chunks), loses or
 * changes no hit. */
TEST(logsearch_map_midway)
{
	struct store *st = imported("midway");
	struct cs_err err;
	uint64_t was = logsearch_many_chunks;
	const char *qs[] = {"e", "error"};
	for (size_t i = 0; i < ARRAY_SIZE(qs); i++) {
		struct matcher *m = matcher_new(qs[i], 0, &err);
		struct hits want = {0};
		long n = 0;
		logsearch_many_chunks = UINT64_MAX; /* never mapped, never made ahead */
		CHECK_OK(search_logs(st, m, 0, record, &want, &n, NULL, &err));
		CHECK(want.n > 10);
		for (uint64_t many = 1; many <= 3; many++) {
			logsearch_many_chunks = many;
			uint64_t budgets[] = {1, 13, 100000};
			for (size_t b = 0; b < ARRAY_SIZE(budgets); b++) {
				struct hits got = {0};
				by_slices(st, m, budgets[b], 0, &got);
				CHECK_INT(got.n, want.n);
				for (size_t j = 0; j < got.n && j < want.n; j++)
					if (got.v[j].log_id != want.v[j].log_id ||
					    got.v[j].line != want.v[j].line || got.v[j].step != want.v[j].step ||
					    strcmp(got.v[j].text, want.v[j].text)) {
						t_fail(__FILE__, __LINE__, "'%s' after %llu chunks: hit %zu differs",
						       qs[i], (unsigned long long)many, j);
						break;
					}
				hits_free(&got);
			}
		}
		hits_free(&want);
		matcher_free(m);
	}
	logsearch_many_chunks = was;
	store_close(st);
}

TEST(logsearch_run_ids)
{
	struct store *st = imported("ids");
	struct cs_err err;
	struct matcher *m = matcher_new("error", 0, &err);
	struct hits got = {0};
	by_slices(st, m, 100, 0, &got);
	CHECK(got.n > 0);
	for (size_t i = 0; i < got.n; i++) {
		/* the run row id is the job's run */
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT run_id FROM jobs WHERE id = %lld",
			 (long long)got.v[i].job_row_id);
		sqlite3_stmt *s;
		CHECK_INT(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		CHECK_INT(sqlite3_column_int64(s, 0), got.v[i].run_row_id);
		sqlite3_finalize(s);
	}
	hits_free(&got);
	matcher_free(m);
	store_close(st);
}

/* A run re-imported (deleted) while the search is between steps: its logs
 * are passed over; the others are still searched. */
TEST(logsearch_log_deleted_midway)
{
	struct store *st = imported("deleted");
	struct cs_err err;
	struct matcher *m = matcher_new("e", 0, &err);
	struct hits all = {0}, got = {0};
	by_slices(st, m, 1000000, 0, &all);
	CHECK(all.n > 0);
	int64_t victim = all.v[all.n - 1].run_row_id; /* the oldest run with a hit */
	size_t victim_hits = 0;
	for (size_t i = 0; i < all.n; i++)
		victim_hits += all.v[i].run_row_id == victim;

	struct logsearch *ls = logsearch_new(st, m, &err);
	CHECK_INT(logsearch_step(ls, 1, record, &got, &err), 1);
	char sql[128];
	snprintf(sql, sizeof(sql), "DELETE FROM runs WHERE id = %lld", (long long)victim);
	CHECK_INT(sqlite3_exec(st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	int rc;
	while ((rc = logsearch_step(ls, 50, record, &got, &err)) == 1)
		;
	CHECK_INT(rc, 0);
	CHECK_INT(got.n, all.n - victim_hits);
	logsearch_free(ls);
	hits_free(&all);
	hits_free(&got);
	matcher_free(m);
	store_close(st);
}

static int cache_size(struct store *st)
{
	sqlite3_stmt *s;
	int v = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A search keeps a small page cache while it runs (store_scan_begin()):
 * the connection's own size comes back when it ends, when it is freed
 * early, and when two searches on one connection end in either order. */
TEST(logsearch_restores_cache_size)
{
	struct store *st = imported("cachesize");
	struct cs_err err;
	struct matcher *m = matcher_new("e", 0, &err);
	CHECK_INT(sqlite3_exec(st->db, "PRAGMA cache_size = -3000", NULL, NULL, NULL), SQLITE_OK);
	struct hits got = {0};
	/* to the end */
	struct logsearch *ls = logsearch_new(st, m, &err);
	CHECK(cache_size(st) > -3000);
	int rc;
	while ((rc = logsearch_step(ls, 100, record, &got, &err)) == 1)
		;
	CHECK_INT(rc, 0);
	CHECK(got.n > 0);
	CHECK_INT(cache_size(st), -3000);
	logsearch_free(ls);
	CHECK_INT(cache_size(st), -3000);
	/* freed midway; two at once, the first freed first and last */
	for (int order = 0; order < 2; order++) {
		struct logsearch *a = logsearch_new(st, m, &err);
		CHECK_INT(logsearch_step(a, 1, record, &got, &err), 1);
		struct logsearch *b = logsearch_new(st, m, &err);
		CHECK(cache_size(st) > -3000);
		logsearch_free(order ? b : a);
		CHECK(cache_size(st) > -3000);
		logsearch_free(order ? a : b);
		CHECK_INT(cache_size(st), -3000);
	}
	hits_free(&got);
	matcher_free(m);
	store_close(st);
}

TEST(logsearch_empty_store)
{
	struct cs_err err;
	char path[512];
	snprintf(path, sizeof(path), "%s/empty.db", t_tmpdir());
	remove(path);
	struct store *st = store_open(path, STORE_RW, &err);
	struct matcher *m = matcher_new("x", 0, &err);
	struct logsearch *ls = logsearch_new(st, m, &err);
	CHECK(ls != NULL);
	struct hits got = {0};
	CHECK_INT(logsearch_step(ls, 10, record, &got, &err), 0);
	struct logsearch_progress p;
	logsearch_progress(ls, &p);
	CHECK_INT(p.logs_total, 0);
	CHECK_INT(p.bytes_total, 0);
	logsearch_free(ls);
	logsearch_free(NULL);
	matcher_free(m);
	store_close(st);
}

/* A log of about `chunks` chunks of build lines, "done in" on most of
 * them; the lines holding the marker "zqxmark q7z" are those whose chunk
 * (by the line's offset) is one of marked[0..n_marked). Returns the file's
 * path; *lines its lines with the marker (1-based), *n_lines their count. */
static const char *marked_log(const char *name, unsigned chunks, const unsigned *marked,
			      size_t n_marked, uint64_t **lines, size_t *n_lines)
{
	struct buf b = BUF_INIT;
	uint64_t line = 0;
	*lines = NULL;
	*n_lines = 0;
	size_t alloc = 0;
	for (unsigned k = 0; b.len < (size_t)chunks * LOG_CHUNK_RAW - 200; k++) {
		unsigned chunk = (unsigned)(b.len / LOG_CHUNK_RAW);
		bool mark = false;
		for (size_t i = 0; i < n_marked; i++)
			mark |= marked[i] == chunk && k % 97 == 3;
		line++;
		if (mark) {
			XGROW(*lines, alloc, *n_lines + 1);
			(*lines)[(*n_lines)++] = line;
		}
		buf_addf(&b, "[%u] building module m%05u with flags -O%u%s%s\n", k % 7, k * 7919 % 100000,
			 k % 4, k % 5 ? ": done in 0.0" : "", mark ? " zqxmark q7z" : "");
	}
	const char *path = t_write_file(name, b.data, b.len);
	buf_release(&b);
	return path;
}

/* Every hit of a search whose filters are all read first (logsearch_admit_all)
 * into out. */
static void judged_first(struct store *st, struct matcher *m, struct hits *out)
{
	struct cs_err err;
	err_clear(&err);
	struct logsearch *ls = logsearch_new(st, m, &err);
	CHECK(ls != NULL);
	uint64_t bytes;
	CHECK_OK(logsearch_admit_all(ls, &bytes, &err));
	int rc;
	while ((rc = logsearch_step(ls, 4096, record, out, &err)) == 1)
		;
	CHECK_INT(rc, 0);
	logsearch_free(ls);
}

/* The filters of a big log are judged a window of chunks at a time ahead of
 * the scan: the hits, and their order, are those of a search that reads
 * every filter first, on a log whose matches are only in its last chunk, a
 * log of one chunk, a log with matches here and there, whatever the slices
 * and stops; a scan to the end reads and passes over the same chunks; and
 * the filters judged window by window rule out the chunks judged at once. */
TEST(logsearch_judges_filters_ahead)
{
	struct store *st = t_fresh_store("ahead");
	struct cs_err err;
	struct importer *im = importer_new(st, NULL);
	static const unsigned tail[] = {39}, one[] = {0}, some[] = {0, 5, 11};
	uint64_t *lines[3];
	size_t n_lines[3];
	CHECK_OK(import_path(im, marked_log("tail.log", 40, tail, 1, &lines[0], &n_lines[0]), &err));
	CHECK_OK(import_path(im, marked_log("one.log", 1, one, 1, &lines[1], &n_lines[1]), &err));
	CHECK_OK(import_path(im, marked_log("some.log", 12, some, 3, &lines[2], &n_lines[2]), &err));
	importer_free(im);
	CHECK(n_lines[0] > 10 && n_lines[1] > 10 && n_lines[2] > 30);
	CHECK_INT(t_count(st, "SELECT count(*) FROM logs WHERE chunk_count = 40"), 1);
	const char *qs[] = {"zqxmark", "q7z", "done in", "m00"};
	for (size_t i = 0; i < ARRAY_SIZE(qs); i++) {
		struct matcher *m = matcher_new(qs[i], 0, &err), *m2 = matcher_new(qs[i], 0, &err);
		struct hits want = {0};
		judged_first(st, m, &want);
		CHECK(want.n > 0);
		if (i < 2) {
			CHECK_INT(want.n, n_lines[0] + n_lines[1] + n_lines[2]);
			/* the lazy search reads and skips what reading every
			 * filter first does */
			struct hits got = {0};
			by_slices(st, m2, 100000, 0, &got);
			uint64_t r1, s1, r2, s2;
			matcher_stats(m, &r1, &s1);
			matcher_stats(m2, &r2, &s2);
			CHECK_INT(r2, r1);
			CHECK_INT(s2, s1);
			CHECK(s1 > 40);
			hits_free(&got);
		}
		uint64_t budgets[] = {1, 500, 100000};
		long stops[] = {0, 1, 7};
		for (size_t b = 0; b < ARRAY_SIZE(budgets); b++)
			for (size_t s = 0; s < ARRAY_SIZE(stops); s++) {
				if (i >= 2 && budgets[b] == 1)
					continue; /* (a hit on most lines: slow by single lines) */
				struct hits got = {0};
				by_slices(st, m, budgets[b], stops[s], &got);
				CHECK_INT(got.n, want.n);
				for (size_t j = 0; j < got.n && j < want.n; j++)
					if (got.v[j].log_id != want.v[j].log_id ||
					    got.v[j].line != want.v[j].line || strcmp(got.v[j].text, want.v[j].text)) {
						t_fail(__FILE__, __LINE__, "'%s' budget %llu stop %ld: hit %zu differs",
						       qs[i], (unsigned long long)budgets[b], stops[s], j);
						break;
					}
				hits_free(&got);
			}
		if (i == 0) {
			/* by log: exactly the marked lines */
			for (size_t k = 0; k < 3; k++) {
				size_t at = 0;
				for (size_t j = 0; j < want.n; j++)
					if (at < n_lines[k] && want.v[j].line == lines[k][at] &&
					    (at == 0 || want.v[j].log_id == want.v[j - 1].log_id))
						at++;
				CHECK_INT(at, n_lines[k]);
			}
		}
		/* window by window as at once, whatever the windows */
		struct log_grams q;
		matcher_grams(m, &q);
		struct logfilter *f = logfilter_new(st, &q, &err);
		sqlite3_stmt *s;
		CHECK_INT(sqlite3_prepare_v2(st->db, "SELECT id, raw_size FROM logs", -1, &s, NULL),
			  SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0);
			uint64_t size = (uint64_t)sqlite3_column_int64(s, 1);
			uint64_t n = (size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW;
			unsigned char all[64], win[64];
			CHECK(n < 64);
			long na = logfilter_admit(f, id, size, all, &err);
			CHECK(na >= 0);
			static const uint64_t widths[] = {1, 3, 4, 7, 100};
			for (size_t w = 0; w < ARRAY_SIZE(widths); w++) {
				long nw = 0;
				memset(win, 9, sizeof(win));
				for (uint64_t c = 0; c < n; c += widths[w])
					nw += logfilter_admit_range(f, id, size, c, c + widths[w], win, &err);
				CHECK_INT(nw, na);
				CHECK(memcmp(win, all, (size_t)n) == 0);
				CHECK_INT(win[n], 9);
			}
		}
		sqlite3_finalize(s);
		logfilter_free(f);
		hits_free(&want);
		matcher_free(m);
		matcher_free(m2);
	}
	for (size_t k = 0; k < 3; k++)
		free(lines[k]);
	store_close(st);
}
