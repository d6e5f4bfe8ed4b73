/* t_logview.c - the pager model: rows and lines with step headers, folds
 * (nested and hostile groups), wrapping, per-line display data, finding
 * jumps, sliced search in both directions against a brute-force answer,
 * highlight offsets against ansi_strip, and opening without reading the log. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/logstore.h"
#include "core/logview.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

#define N 1000

/* --- fixture ------------------------------------------------------------------ */
static void exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
		sqlite3_free(msg);
	}
}

static void line_text(int i, struct buf *b)
{
	int ms = i * 250;
	buf_addf(b, "2024-05-01T10:%02d:%02d.%03d0000Z ", ms / 60000, ms / 1000 % 60, ms % 1000);
	if (i == 4)
		buf_adds(b, "##[group]Run npm test");
	else if (i == 10 || i == 520)
		buf_adds(b, "##[endgroup]");
	else if (i == 100)
		buf_adds(b, "##[error]Process completed with exit code 1.");
	else if (i == 200)
		buf_adds(b, "##[warning]deprecated thing");
	else if (i == 300)
		buf_adds(b, "\x1b[31mERR\x1b[0mOR coloured");
	else if (i == 501)
		buf_adds(b, "##[group]Run lint");
	else if (i == 600)
		buf_adds(b, "needle here");
	else if (i == 900)
		buf_adds(b, "a needle again, Needle");
	else if (i == 7)
		buf_adds(b, "\xef\xbb\xbf[command]npm test");
	else
		buf_addf(b, "output line %d", i);
}

/* The fixture log of N lines; with_ts = false drops the timestamps. */
static void fixture_log(struct buf *b)
{
	for (int i = 1; i <= N; i++) {
		line_text(i, b);
		buf_adds(b, i % 3 ? "\n" : "\r\n");
	}
}

struct fx {
	struct store *st;
	int64_t job, log;
};

static int64_t write_log(struct store *st, int64_t job, const char *data, size_t n)
{
	struct cs_err err;
	err_clear(&err);
	exec(st, "BEGIN");
	struct logw *w = logw_begin(st, job, NULL, NULL, &err);
	CHECK(w != NULL);
	int64_t id = -1;
	if (w && logw_write(w, data, n, &err) == 0)
		id = logw_finish(w, &err);
	logw_free(w);
	exec(st, "COMMIT");
	CHECK(id > 0);
	return id;
}

static struct fx open_fixture(const char *name)
{
	struct fx f;
	f.st = t_fresh_store(name);
	exec(f.st, "INSERT INTO repos (id, slug) VALUES (1, 'o/r');"
		   "INSERT INTO runs (id, repo_id, provider_id, imported_at, status) "
		   "VALUES (1, 1, 77, 0, 'completed');"
		   "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (1, 1, 5, 'test', 0);"
		   "INSERT INTO steps (job_id, number, name, first_line, last_line, started_at) VALUES "
		   "(1, 1, 'Set up job', 1, 3, NULL), (1, 2, 'Run npm test', 4, 500, NULL),"
		   "(1, 3, 'Run lint', 501, 1000, NULL), (1, 4, 'Post', NULL, NULL, 1714557600000),"
		   "(1, 5, 'Beyond', 5000, 6000, NULL);");
	struct buf b = BUF_INIT;
	fixture_log(&b);
	f.job = 1;
	f.log = write_log(f.st, 1, b.data, b.len);
	buf_release(&b);
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO log_groups (log_id, first_line, last_line, depth, title) VALUES "
		 "(%lld, 4, 10, 0, 'Run npm test'), (%lld, 501, 520, 0, 'Run lint'),"
		 "(%lld, 505, 510, 1, 'inner'), (%lld, 0, 5, 0, 'bad zero'),"
		 "(%lld, 990, 2000, 0, 'bad end'), (%lld, 30, 20, 0, 'bad order');"
		 "INSERT INTO findings (job_id, step_number, line, end_line, severity, source, message) "
		 "VALUES (1, 2, 100, 100, 'error', 'marker', 'exit 1'), "
		 "(1, 2, 200, 200, 'warning', 'marker', 'deprecated'), "
		 "(1, 2, 250, 250, 'notice', 'marker', 'fyi'), "
		 "(1, 2, 0, 0, 'error', 'marker', 'hostile line 0');",
		 (long long)f.log, (long long)f.log, (long long)f.log, (long long)f.log,
		 (long long)f.log, (long long)f.log);
	exec(f.st, sql);
	return f;
}

static struct logview *open_lv(struct fx *f)
{
	struct cs_err err;
	err_clear(&err);
	struct logview *lv = logview_open(f->st, f->job, f->log, &err);
	if (!lv) {
		fprintf(stderr, "logview_open: %s\n", err.msg);
		exit(2);
	}
	return lv;
}

/* Every row maps to a line and back, rows are in line order, every line has
 * a row, and the row count is what the structure says. */
static void check_mapping(struct logview *lv, long want_rows)
{
	long rows = logview_rows(lv);
	if (want_rows >= 0)
		CHECK_INT(rows, want_rows);
	uint64_t prev_line = 0;
	int prev_sub = -1;
	for (long r = 0; r < rows; r++) {
		struct lv_row row;
		if (!logview_row(lv, r, &row)) {
			t_fail(__FILE__, __LINE__, "row %ld missing", r);
			return;
		}
		CHECK(row.line >= prev_line);
		if (row.kind == LV_ROW_LINE) {
			long back = logview_row_of_line(lv, row.line);
			if (back + row.sub != r)
				t_fail(__FILE__, __LINE__, "row %ld -> line %llu sub %d -> row %ld", r,
				       (unsigned long long)row.line, row.sub, back);
			if (row.line == prev_line)
				CHECK_INT(row.sub, prev_sub + 1);
			CHECK(row.sub < logview_line_rows(lv, row.line));
			prev_sub = row.sub;
		} else if (row.kind == LV_ROW_FOLD) {
			CHECK_INT(logview_row_of_line(lv, row.line), r);
			CHECK(logview_group_folded(lv, row.group));
			prev_sub = -1;
		} else {
			/* a header comes right before its step's first line, or
			 * stands for the whole step when it is folded */
			CHECK(r + 1 < rows || logview_step_folded(lv, row.step));
			CHECK_INT(logview_step(lv, row.step)->first_line, row.line);
			if (logview_step_folded(lv, row.step))
				CHECK_INT(logview_row_of_line(lv, (uint64_t)logview_step(lv, row.step)->last_line),
					  r);
			prev_sub = -1;
		}
		prev_line = row.line;
	}
	CHECK(!logview_row(lv, rows, &(struct lv_row){0}));
	CHECK(!logview_row(lv, -1, &(struct lv_row){0}));
	for (uint64_t l = 1; l <= logview_line_count(lv); l++) {
		long r = logview_row_of_line(lv, l);
		CHECK(r >= 0 && r < rows);
		/* a hidden ##[endgroup] line is no row's line (the row after
		 * it stands for it, or a fold holding it) */
		if (logview_line_hidden(lv, l))
			CHECK(logview_line_of_row(lv, r) != l);
		else
			CHECK(logview_line_of_row(lv, r) <= l);
	}
	CHECK_INT(logview_row_of_line(lv, 0), -1);
	CHECK_INT(logview_row_of_line(lv, logview_line_count(lv) + 1), -1);
}

/* --- tests ---------------------------------------------------------------------- */
TEST(logview_rows_and_headers)
{
	struct fx f = open_fixture("rows");
	struct logview *lv = open_lv(&f);
	CHECK_INT(logview_line_count(lv), N);
	CHECK_INT(logview_n_steps(lv), 5);
	/* three steps with lines in range: three header rows; the two
	 * ##[endgroup] lines that close a group (10, 520) take none */
	CHECK(logview_line_hidden(lv, 10));
	CHECK(logview_line_hidden(lv, 520));
	CHECK(!logview_line_hidden(lv, 510)); /* the inner group ends on output */
	CHECK(!logview_line_hidden(lv, 9));
	check_mapping(lv, N + 1);
	struct lv_row row;
	CHECK(logview_row(lv, 0, &row));
	CHECK_INT(row.kind, LV_ROW_STEP);
	CHECK_INT(row.step, 0);
	CHECK(logview_row(lv, 1, &row));
	CHECK_INT(row.kind, LV_ROW_LINE);
	CHECK_INT(row.line, 1);
	CHECK_INT(row.step, 0);
	CHECK_INT(logview_row_of_line(lv, 4), 5); /* header 1, lines 1-3, header 2 */
	CHECK(logview_row(lv, 4, &row));
	CHECK_INT(row.kind, LV_ROW_STEP);
	CHECK_INT(row.step, 1);
	CHECK_INT(logview_line_of_row(lv, 4), 4);
	CHECK_INT(logview_row_of_line(lv, 501), 501 + 1);
	CHECK_INT(logview_row_of_line(lv, N), N);
	/* the hidden line 10 is passed: 9 and 11 are neighbours */
	CHECK_INT(logview_row_of_line(lv, 11), logview_row_of_line(lv, 9) + 1);
	CHECK_INT(logview_row_of_line(lv, 10), logview_row_of_line(lv, 11));
	CHECK_INT(logview_step_of_line(lv, 3), 0);
	CHECK_INT(logview_step_of_line(lv, 4), 1);
	CHECK_INT(logview_step_of_line(lv, 1000), 2);
	CHECK_INT(logview_step_of_line(lv, 1001), -1);
	logview_close(lv);
	store_close(f.st);
}

TEST(logview_folding)
{
	struct fx f = open_fixture("fold");
	struct logview *lv = open_lv(&f);
	CHECK_INT(logview_n_groups(lv), 6);
	int g_test = logview_group_of_line(lv, 6);
	CHECK(g_test >= 0);
	CHECK_STR(logview_group(lv, g_test)->title, "Run npm test");
	CHECK_INT(logview_group_of_line(lv, 11), -1);
	CHECK_INT(logview_group_of_line(lv, 507), logview_group_of_line(lv, 505));
	CHECK_STR(logview_group(lv, logview_group_of_line(lv, 507))->title, "inner");
	CHECK_STR(logview_group(lv, logview_group_of_line(lv, 512))->title, "Run lint");
	/* hostile groups are never reported as holding a line */
	CHECK_INT(logview_group_of_line(lv, 995), -1);
	CHECK_INT(logview_group_of_line(lv, 25), -1);

	logview_set_fold(lv, g_test, true);
	check_mapping(lv, N + 1 - 5); /* lines 4-9 (10 is hidden) in one row */
	struct lv_row row;
	long r = logview_row_of_line(lv, 7);
	CHECK_INT(r, logview_row_of_line(lv, 4));
	CHECK(logview_row(lv, r, &row));
	CHECK_INT(row.kind, LV_ROW_FOLD);
	CHECK_INT(row.group, g_test);
	CHECK_INT(row.line, 4);
	/* the header of step 2 stays before the fold that starts with it */
	CHECK(logview_row(lv, r - 1, &row));
	CHECK_INT(row.kind, LV_ROW_STEP);
	CHECK_INT(logview_row_of_line(lv, 11), r + 1);

	/* nested: folding the inner group inside the folded outer one */
	int g_lint = logview_group_of_line(lv, 512), g_inner = logview_group_of_line(lv, 507);
	logview_set_fold(lv, g_inner, true);
	check_mapping(lv, N + 1 - 5 - 5);
	logview_set_fold(lv, g_lint, true);
	check_mapping(lv, N + 1 - 5 - 18); /* 501-519 (520 is hidden) in one row */
	/* revealing a line inside the inner fold opens both */
	CHECK(logview_reveal(lv, 507));
	CHECK(!logview_group_folded(lv, g_lint));
	CHECK(!logview_group_folded(lv, g_inner));
	CHECK(logview_group_folded(lv, g_test));
	CHECK(!logview_reveal(lv, 507));
	/* a group's first line is shown by its fold: nothing to open */
	CHECK(!logview_reveal(lv, 4));
	CHECK(logview_reveal(lv, 10));
	check_mapping(lv, N + 1);

	/* fold all, then unfold all */
	CHECK(logview_fold_all(lv));
	for (int i = 0; i < logview_n_groups(lv); i++)
		CHECK(logview_group_folded(lv, i));
	/* the inner fold is hidden inside the outer: 5 + 18 rows fewer */
	check_mapping(lv, N + 1 - 5 - 18);
	CHECK(!logview_fold_all(lv));
	for (int i = 0; i < logview_n_groups(lv); i++)
		CHECK(!logview_group_folded(lv, i));
	check_mapping(lv, N + 1);
	logview_set_fold(lv, -1, true);
	logview_set_fold(lv, 99, true);
	check_mapping(lv, N + 1);
	logview_close(lv);
	store_close(f.st);
}

/* z on a step header: the header stands for the step's lines; revealing a
 * line in it (a search, e/E, :goto) opens it again; folds survive a reopen. */
TEST(logview_step_folding)
{
	struct fx f = open_fixture("stepfold");
	struct logview *lv = open_lv(&f);
	/* step 2 (index 1) holds lines 4-500, 10 hidden */
	long head = logview_row_of_line(lv, 4) - 1;
	CHECK(!logview_step_folded(lv, 1));
	logview_set_step_fold(lv, 1, true);
	CHECK(logview_step_folded(lv, 1));
	check_mapping(lv, N + 1 - 496);
	struct lv_row row;
	CHECK(logview_row(lv, head, &row));
	CHECK_INT(row.kind, LV_ROW_STEP);
	CHECK_INT(row.step, 1);
	CHECK_INT(row.line, 4);
	/* every line of the step is on the header's row; the next step's
	 * header follows */
	CHECK_INT(logview_row_of_line(lv, 4), head);
	CHECK_INT(logview_row_of_line(lv, 250), head);
	CHECK_INT(logview_row_of_line(lv, 500), head);
	CHECK(logview_row(lv, head + 1, &row));
	CHECK_INT(row.kind, LV_ROW_STEP);
	CHECK_INT(row.step, 2);
	/* a group fold inside the folded step changes nothing on screen */
	logview_set_fold(lv, logview_group_of_line(lv, 6), true);
	check_mapping(lv, N + 1 - 496);
	/* folding the last step too, and the first */
	logview_set_step_fold(lv, 2, true);
	logview_set_step_fold(lv, 0, true);
	check_mapping(lv, 3);
	/* out of range: nothing */
	logview_set_step_fold(lv, -1, true);
	logview_set_step_fold(lv, 99, true);
	CHECK(!logview_step_folded(lv, 99));
	check_mapping(lv, 3);
	/* revealing a line opens its step (and the group holding it) */
	CHECK(logview_reveal(lv, 7));
	CHECK(!logview_step_folded(lv, 1));
	CHECK(logview_step_folded(lv, 2));
	CHECK(!logview_reveal(lv, 7));
	logview_set_step_fold(lv, 0, false);
	/* a reopened log keeps the step folded by its number */
	exec(f.st, "DELETE FROM logs");
	struct buf b = BUF_INIT;
	fixture_log(&b);
	int64_t log2 = write_log(f.st, 1, b.data, b.len);
	buf_release(&b);
	struct cs_err err;
	CHECK_OK(logview_reopen(lv, 1, log2, &err));
	CHECK(logview_step_folded(lv, 2));
	CHECK(!logview_step_folded(lv, 1));
	/* no groups in the new log: nothing hidden */
	check_mapping(lv, N + 3 - 500);
	logview_set_step_fold(lv, 2, false);
	check_mapping(lv, N + 3);
	logview_close(lv);
	store_close(f.st);
}

/* A log of more groups than open reads: the first LV_HIDE_OPEN lose their
 * ##[endgroup] line at open, the rest as logview_hide_step reads them. A
 * group ended by the next ##[group] keeps its last line. */
TEST(logview_hide_in_slices)
{
	struct fx f = open_fixture("hide");
	int groups = LV_HIDE_OPEN * 2 + 10;
	struct buf b = BUF_INIT, sql = BUF_INIT;
	exec(f.st, "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (3, 1, 7, 'g', 2)");
	buf_adds(&sql, "BEGIN;");
	for (int i = 0; i < groups; i++) {
		buf_addf(&b, "##[group]g%d\nout %d\n", i, i);
		/* the last group ends at the end of the log, without a marker */
		if (i + 1 < groups)
			buf_adds(&b, "##[endgroup]\n");
	}
	int64_t log = write_log(f.st, 3, b.data, b.len);
	for (int i = 0; i < groups; i++)
		buf_addf(&sql,
			 "INSERT INTO log_groups (log_id, first_line, last_line, depth, title) "
			 "VALUES (%lld, %d, %d, 0, 'g');",
			 (long long)log, 3 * i + 1, i + 1 < groups ? 3 * i + 3 : 3 * i + 2);
	buf_adds(&sql, "COMMIT;");
	exec(f.st, buf_cstr(&sql));
	struct cs_err err;
	struct logview *lv = logview_open(f.st, 3, log, &err);
	CHECK(lv != NULL);
	if (!lv)
		return;
	long lines = 3 * groups - 1;
	CHECK_INT(logview_line_count(lv), lines);
	CHECK(logview_hiding(lv));
	check_mapping(lv, lines - LV_HIDE_OPEN);
	CHECK(logview_line_hidden(lv, 3));
	CHECK(!logview_line_hidden(lv, 3 * (LV_HIDE_OPEN + 1)));
	int slices = 0;
	while (logview_hide_step(lv, 100))
		slices++;
	CHECK_INT(slices, 2);
	CHECK(!logview_hiding(lv));
	CHECK(!logview_hide_step(lv, 100));
	check_mapping(lv, lines - (groups - 1));
	CHECK(logview_line_hidden(lv, 3 * (LV_HIDE_OPEN + 1)));
	CHECK(!logview_line_hidden(lv, lines));
	/* the last line hidden? no: the log ends on output */
	CHECK_INT(logview_line_of_row(lv, logview_rows(lv) - 1), lines);
	logview_close(lv);
	buf_release(&b);
	buf_release(&sql);
	store_close(f.st);
}

TEST(logview_time_near)
{
	struct fx f = open_fixture("tsnear");
	struct logview *lv = open_lv(&f);
	/* line 7: its own timestamp, 10:00:01.750 on 2024-05-01 */
	CHECK_INT(logview_ts_near(lv, 7), 1714557601750000LL);
	CHECK_INT(logview_ts_near(lv, 0), CS_TIME_NONE);
	CHECK_INT(logview_ts_near(lv, N + 1), CS_TIME_NONE);
	logview_close(lv);
	/* a log without timestamps has no time to show */
	exec(f.st, "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (4, 1, 8, 'n', 3)");
	int64_t log = write_log(f.st, 4, "plain\nlines\n", 12);
	struct cs_err err;
	lv = logview_open(f.st, 4, log, &err);
	CHECK(lv != NULL);
	if (lv)
		CHECK_INT(logview_ts_near(lv, 2), CS_TIME_NONE);
	logview_close(lv);
	store_close(f.st);
}

TEST(logview_lines)
{
	struct fx f = open_fixture("lines");
	struct logview *lv = open_lv(&f);
	struct cs_err err;
	struct lv_line l;
	lv_line_init(&l);
	CHECK_OK(logview_line(lv, 7, &l, &err));
	CHECK(l.ll.has_bom);
	CHECK(l.ll.has_ts);
	CHECK_INT(l.ll.kind, LINE_COMMAND);
	CHECK_INT(l.ll.text_len, strlen("[command]npm test"));
	CHECK(!memcmp(l.ll.text, "[command]npm test", l.ll.text_len));
	CHECK_INT(l.step, 1);
	/* step 2 starts at line 4: 3 lines of 250 ms before */
	CHECK_INT(l.rel_ms, 750);
	char ts[32];
	lv_format_ts(l.ll.ts_us, ts, sizeof(ts));
	CHECK_STR(ts, "10:00:01.750");

	CHECK_OK(logview_line(lv, 100, &l, &err));
	CHECK_INT(l.ll.kind, LINE_ERROR);
	CHECK_INT(l.rel_ms, 96 * 250);
	CHECK_OK(logview_line(lv, 1, &l, &err));
	CHECK_INT(l.rel_ms, 0);
	CHECK_OK(logview_line(lv, 1000, &l, &err));
	CHECK_INT(l.rel_ms, 499 * 250);
	CHECK(!l.truncated);
	CHECK(logview_line(lv, 1001, &l, &err) < 0);
	CHECK(strstr(err.msg, "out of range") != NULL);
	CHECK(logview_line(lv, 0, &l, &err) < 0);
	lv_line_release(&l);

	char rel[32];
	lv_format_rel(72345, rel, sizeof(rel));
	CHECK_STR(rel, "+01:12.345");
	lv_format_rel(-5, rel, sizeof(rel));
	CHECK_STR(rel, "-00:00.005");
	lv_format_rel(3723000, rel, sizeof(rel));
	CHECK_STR(rel, "  +1:02:03");
	lv_format_rel(CS_TIME_NONE, rel, sizeof(rel));
	CHECK_STR(rel, "          ");
	lv_format_rel(INT64_MAX, rel, sizeof(rel));
	CHECK_INT(strlen(rel), 10);
	lv_format_rel(INT64_MIN + 1, rel, sizeof(rel));
	CHECK_INT(strlen(rel), 10);
	lv_format_ts(-1, ts, sizeof(ts));
	CHECK_STR(ts, "23:59:59.999");
	logview_close(lv);
	store_close(f.st);
}

/* What a search should find, from the sorted line numbers of all hits:
 * forward, the first hit after `from`, else the first (*wrapped set);
 * backward, the last hit before `from`, else the last. 0: no hit. */
static uint64_t next_hit(const uint64_t *hits, int nh, uint64_t from, bool *wrapped)
{
	for (int k = 0; k < nh; k++)
		if (hits[k] > from)
			return hits[k];
	if (wrapped)
		*wrapped = nh > 0;
	return nh ? hits[0] : 0;
}

static uint64_t prev_hit(const uint64_t *hits, int nh, uint64_t from)
{
	for (int k = nh - 1; k >= 0; k--)
		if (hits[k] < from)
			return hits[k];
	return nh ? hits[nh - 1] : 0;
}

TEST(logview_findings)
{
	struct fx f = open_fixture("findings");
	struct logview *lv = open_lv(&f);
	CHECK_INT(logview_n_findings(lv), 4);
	int i = logview_next_finding(lv, 0, 1);
	CHECK(i >= 0);
	CHECK_INT(logview_finding(lv, i)->line, 100);
	i = logview_next_finding(lv, 100, 1);
	CHECK_INT(logview_finding(lv, i)->line, 200);
	/* the notice at 250 is not a stop */
	CHECK_INT(logview_next_finding(lv, 200, 1), -1);
	i = logview_next_finding(lv, 1000, -1);
	CHECK_INT(logview_finding(lv, i)->line, 200);
	i = logview_next_finding(lv, 200, -1);
	CHECK_INT(logview_finding(lv, i)->line, 100);
	/* the hostile line-0 finding is never a stop */
	CHECK_INT(logview_next_finding(lv, 100, -1), -1);
	CHECK(logview_finding(lv, 99) == NULL);
	logview_close(lv);
	store_close(f.st);
}

/* Brute force: lines whose search text matches, in order. */
static int matching_lines(struct logview *lv, struct matcher *m, uint64_t *out, int max)
{
	struct cs_err err;
	struct lv_line l;
	struct buf text = BUF_INIT;
	lv_line_init(&l);
	int k = 0;
	for (uint64_t n = 1; n <= logview_line_count(lv); n++) {
		if (logview_line_hidden(lv, n))
			continue; /* not on screen: search passes it */
		CHECK_OK(logview_line(lv, n, &l, &err));
		search_text(l.raw.data, l.raw.len, &text);
		size_t a, b;
		if (matcher_find(m, text.data ? text.data : "", text.len, 0, &a, &b) && k < max)
			out[k++] = n;
	}
	buf_release(&text);
	lv_line_release(&l);
	return k;
}

/* Run a search to its end in slices of budget; the line found, or 0. */
static uint64_t run_search(struct logview *lv, struct matcher *m, bool back, uint64_t from,
			   uint64_t budget, bool *wrapped)
{
	struct cs_err err;
	struct lv_search *s = lv_search_new(lv, m, back, from);
	enum lv_search_state st;
	int guard = 0;
	while ((st = lv_search_step(s, budget, &err)) == LV_SEARCH_MORE && guard++ < 100000) {
		uint64_t done, total;
		lv_search_progress(s, &done, &total);
		CHECK(done <= total);
	}
	uint64_t found = st == LV_SEARCH_FOUND ? lv_search_found(s) : 0;
	CHECK(st == LV_SEARCH_FOUND || st == LV_SEARCH_NONE);
	if (wrapped)
		*wrapped = lv_search_wrapped(s);
	lv_search_free(s);
	return found;
}

static void check_search(struct logview *lv, const char *q, int flags)
{
	struct cs_err err;
	struct matcher *m = matcher_new(q, flags, &err);
	CHECK(m != NULL);
	if (!m)
		return;
	uint64_t hits[N];
	int nh = matching_lines(lv, m, hits, N);
	uint64_t budgets[] = {1, 3, 64, 1000, 5000};
	uint64_t froms[] = {0, 1, 2, 99, 100, 101, 599, 600, 601, 999, 1000, 1001};
	for (size_t bi = 0; bi < ARRAY_SIZE(budgets); bi++) {
		for (size_t fi = 0; fi < ARRAY_SIZE(froms); fi++) {
			uint64_t from = froms[fi];
			/* forward: the first hit after from, else the first from the top */
			bool want_wrap = false;
			uint64_t want = next_hit(hits, nh, from, &want_wrap);
			want_wrap = want_wrap && from >= 1;
			bool wrapped;
			uint64_t got = run_search(lv, m, false, from, budgets[bi], &wrapped);
			if (got != want)
				t_fail(__FILE__, __LINE__, "'%s' forward from %llu budget %llu: %llu, want %llu",
				       q, (unsigned long long)from, (unsigned long long)budgets[bi],
				       (unsigned long long)got, (unsigned long long)want);
			if (got && got == want && from <= N)
				CHECK(wrapped == want_wrap);
			/* backward: the last hit before from, else the last one */
			uint64_t bfrom = from ? from : N + 1;
			want = prev_hit(hits, nh, bfrom);
			got = run_search(lv, m, true, bfrom, budgets[bi], NULL);
			if (got != want)
				t_fail(__FILE__, __LINE__, "'%s' backward from %llu budget %llu: %llu, want %llu",
				       q, (unsigned long long)bfrom, (unsigned long long)budgets[bi],
				       (unsigned long long)got, (unsigned long long)want);
		}
	}
	matcher_free(m);
}

TEST(logview_search)
{
	struct fx f = open_fixture("search");
	struct logview *lv = open_lv(&f);
	check_search(lv, "needle", 0);               /* 600, 900 */
	check_search(lv, "Needle", 0);               /* smart case: 900 only */
	check_search(lv, "ERROR", 0);                /* across the escapes of 300 */
	check_search(lv, "line 9[0-9]+$", MATCH_REGEX);
	check_search(lv, "npm test", 0);             /* 4 and 7 */
	check_search(lv, "2024-05-01", 0);           /* timestamps are not searched */
	check_search(lv, "output line 1000", 0);     /* nothing: line 1000 is not output */
	check_search(lv, "output line 999", 0);      /* the last line */
	check_search(lv, "endgroup", 0);             /* hidden: nothing */

	/* found with the match after the origin wrapping around to itself */
	struct cs_err err;
	struct matcher *m = matcher_new("Needle", 0, &err);
	bool wrapped;
	CHECK_INT(run_search(lv, m, false, 900, 10, &wrapped), 900);
	CHECK(wrapped);
	CHECK_INT(run_search(lv, m, true, 900, 10, &wrapped), 900);
	CHECK(wrapped);
	/* after FOUND the same search goes on to the next match */
	struct lv_search *s = lv_search_new(lv, m, false, 0);
	matcher_free(m);
	m = matcher_new("needle", 0, &err);
	lv_search_free(s);
	s = lv_search_new(lv, m, false, 0);
	enum lv_search_state st;
	while ((st = lv_search_step(s, 50, &err)) == LV_SEARCH_MORE)
		;
	CHECK_INT(st, LV_SEARCH_FOUND);
	CHECK_INT(lv_search_found(s), 600);
	while ((st = lv_search_step(s, 50, &err)) == LV_SEARCH_MORE)
		;
	CHECK_INT(st, LV_SEARCH_FOUND);
	CHECK_INT(lv_search_found(s), 900);
	while ((st = lv_search_step(s, 50, &err)) == LV_SEARCH_MORE)
		;
	CHECK_INT(st, LV_SEARCH_NONE);
	lv_search_free(s);
	matcher_free(m);
	logview_close(lv);
	store_close(f.st);
}

TEST(logview_highlights)
{
	struct cs_err err;
	struct matcher *m = matcher_new("error", 0, &err);
	struct lv_span sp[8];
	const char *t = "\x1b[31mERR\x1b[0mOR and error\x1b]0;title\x07 errors";
	int n = lv_highlights(m, t, strlen(t), sp, 8);
	CHECK_INT(n, 3);
	CHECK_INT(sp[0].start, 5);                 /* the E after the first SGR */
	CHECK_INT(sp[0].end, strlen("\x1b[31mERR\x1b[0mOR"));
	CHECK(!memcmp(t + sp[1].start, "error", 5));
	CHECK_INT(sp[1].end - sp[1].start, 5);
	CHECK(!memcmp(t + sp[2].start, "error", 5));
	CHECK_INT(lv_highlights(m, t, strlen(t), sp, 1), 1);
	CHECK_INT(lv_highlights(NULL, t, strlen(t), sp, 8), 0);
	CHECK_INT(lv_highlights(m, "", 0, sp, 8), 0);
	matcher_free(m);

	/* an empty regex match marks nothing and does not loop */
	m = matcher_new("x*", MATCH_REGEX, &err);
	CHECK_INT(lv_highlights(m, "abc", 3, sp, 8), 0);
	CHECK_INT(lv_highlights(m, "axxb", 4, sp, 8), 1);
	CHECK_INT(sp[0].start, 1);
	CHECK_INT(sp[0].end, 3);
	matcher_free(m);

	/* on random hostile bytes, every span covers raw bytes whose
	 * escape-free text is the match, and matching agrees with ansi_strip */
	srand(7);
	m = matcher_new("ab", 0, &err);
	for (int round = 0; round < 3000; round++) {
		char raw[64];
		size_t len = (size_t)(rand() % 64);
		const char alphabet[] = "ab\x1b[]P\\\x07;0m\x9b\xff";
		for (size_t i = 0; i < len; i++)
			raw[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		struct buf strip = BUF_INIT;
		ansi_strip(raw, len, &strip);
		int want = 0;
		for (size_t i = 0; i + 1 < strip.len; i++)
			if (strip.data[i] == 'a' && strip.data[i + 1] == 'b')
				want++, i++;
		n = lv_highlights(m, raw, len, sp, 8);
		CHECK_INT(n, MIN(want, 8));
		for (int k = 0; k < n; k++) {
			CHECK(sp[k].start < sp[k].end && sp[k].end <= len);
			struct buf part = BUF_INIT;
			ansi_strip(raw + sp[k].start, sp[k].end - sp[k].start, &part);
			CHECK(part.len == 2 && !memcmp(part.data, "ab", 2));
			buf_release(&part);
		}
		buf_release(&strip);
	}
	matcher_free(m);
}

static long width_bytes(void *ctx, const char *text, size_t n, int cols)
{
	(void)ctx;
	(void)text;
	return ((long)n + cols - 1) / cols;
}

TEST(logview_wrap)
{
	struct fx f = open_fixture("wrap");
	struct logview *lv = open_lv(&f);
	struct cs_err err;
	CHECK(!logview_wrapping(lv));
	logview_wrap_begin(lv, 10, width_bytes, NULL);
	CHECK(logview_wrapping(lv));
	CHECK_INT(logview_wrap_cols(lv), 10);
	/* until measured, one row per line */
	check_mapping(lv, N + 1);
	/* measure in odd slices, checking the mapping as it grows */
	int slices = 0;
	while (logview_wrap_step(lv, 333, &err)) {
		slices++;
		check_mapping(lv, -1);
	}
	CHECK_INT(slices, 3);
	CHECK_INT(logview_wrap_measured(lv), N);
	long want = 3;
	struct lv_line l;
	lv_line_init(&l);
	for (uint64_t n = 1; n <= N; n++) {
		CHECK_OK(logview_line(lv, n, &l, &err));
		if (logview_line_hidden(lv, n))
			continue;
		long rows = l.ll.text_len <= 10 ? 1 : ((long)l.ll.text_len + 9) / 10;
		CHECK_INT(logview_line_rows(lv, n), rows);
		want += rows;
	}
	lv_line_release(&l);
	check_mapping(lv, want);
	/* folds and wraps together */
	logview_fold_all(lv);
	check_mapping(lv, -1);
	logview_fold_all(lv);
	check_mapping(lv, want);
	/* a line in the middle of wrapped rows */
	long r = logview_row_of_line(lv, 600);
	struct lv_row row;
	CHECK(logview_row(lv, r + 1, &row));
	CHECK_INT(row.line, 600);
	CHECK_INT(row.sub, 1);
	logview_wrap_end(lv);
	CHECK(!logview_wrapping(lv));
	check_mapping(lv, N + 1);
	CHECK(!logview_wrap_step(lv, 10, &err));
	logview_close(lv);
	store_close(f.st);
}

TEST(logview_reopen_keeps_folds)
{
	struct fx f = open_fixture("reopen");
	struct logview *lv = open_lv(&f);
	struct cs_err err;
	int g = logview_group_of_line(lv, 6);
	logview_set_fold(lv, g, true);
	logview_wrap_begin(lv, 5, width_bytes, NULL);
	while (logview_wrap_step(lv, 1000, &err))
		;
	/* the job's log grows: a new log with more lines replaces it */
	exec(f.st, "DELETE FROM logs");
	struct buf b = BUF_INIT;
	fixture_log(&b);
	buf_adds(&b, "2024-05-01T11:00:00.0000000Z one more line\n");
	int64_t log2 = write_log(f.st, 1, b.data, b.len);
	buf_release(&b);
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO log_groups (log_id, first_line, last_line, depth, title) VALUES "
		 "(%lld, 4, 10, 0, 'Run npm test'), (%lld, 501, 520, 0, 'Run lint')",
		 (long long)log2, (long long)log2);
	exec(f.st, sql);
	CHECK_OK(logview_reopen(lv, 1, log2, &err));
	CHECK_INT(logview_log_id(lv), log2);
	CHECK_INT(logview_line_count(lv), N + 1);
	CHECK(!logview_wrapping(lv));
	CHECK(logview_group_folded(lv, logview_group_of_line(lv, 6)));
	CHECK(!logview_group_folded(lv, logview_group_of_line(lv, 510)));
	check_mapping(lv, N + 1 + 1 - 5);
	/* a missing log leaves lv as it was */
	CHECK(logview_reopen(lv, 1, 999999, &err) < 0);
	CHECK(strstr(err.msg, "no such log") != NULL);
	CHECK_INT(logview_line_count(lv), N + 1);
	logview_close(lv);
	store_close(f.st);
}

/* Opening reads no chunk but the last lines of the first LV_HIDE_OPEN
 * groups (to hide their ##[endgroup]): with every chunk gone, open still
 * works and knows the line count, groups and findings (no line is hidden:
 * it could not be read); only reading a line fails. This is what lets a
 * 1 GB log open at once. */
TEST(logview_open_reads_no_chunk)
{
	struct fx f = open_fixture("nochunk");
	exec(f.st, "DELETE FROM log_chunks");
	struct logview *lv = open_lv(&f);
	CHECK_INT(logview_line_count(lv), N);
	check_mapping(lv, N + 3);
	CHECK_INT(logview_n_findings(lv), 4);
	CHECK(logview_fold_all(lv));
	struct cs_err err;
	struct lv_line l;
	lv_line_init(&l);
	CHECK(logview_line(lv, 500, &l, &err) < 0);
	CHECK(strstr(err.msg, "log") != NULL);
	lv_line_release(&l);
	/* search reports the damage instead of crashing */
	struct matcher *m = matcher_new("x", 0, &err);
	struct lv_search *s = lv_search_new(lv, m, false, 0);
	CHECK_INT(lv_search_step(s, 100, &err), LV_SEARCH_ERROR);
	lv_search_free(s);
	matcher_free(m);
	logview_close(lv);
	store_close(f.st);
}

TEST(logview_empty_and_missing)
{
	struct fx f = open_fixture("empty");
	struct cs_err err;
	exec(f.st, "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (2, 1, 6, 'e', 1)");
	int64_t empty = write_log(f.st, 2, "", 0);
	struct logview *lv = logview_open(f.st, 2, empty, &err);
	CHECK(lv != NULL);
	CHECK_INT(logview_line_count(lv), 0);
	CHECK_INT(logview_rows(lv), 0);
	CHECK_INT(logview_row_of_line(lv, 1), -1);
	CHECK(!logview_fold_all(lv));
	struct matcher *m = matcher_new("x", 0, &err);
	CHECK_INT(run_search(lv, m, false, 0, 10, NULL), 0);
	CHECK_INT(run_search(lv, m, true, 0, 10, NULL), 0);
	matcher_free(m);
	logview_wrap_begin(lv, 0, width_bytes, NULL);
	CHECK(!logview_wrap_step(lv, 10, &err));
	logview_close(lv);
	CHECK(logview_open(f.st, 2, 424242, &err) == NULL);
	CHECK(strstr(err.msg, "no such log") != NULL);
	logview_close(NULL);
	store_close(f.st);
}

/* A log of several chunks whose lines carry hex ids and shas: the chunk
 * filters (trigram and word 6-gram) pass over the chunks that cannot hold
 * the query, and the search finds exactly what reading every line finds,
 * forward and backward, from anywhere, in any slice size. */
#define HEX_LINES 9000

static void hex_line(uint64_t *x, int i, struct buf *b)
{
	static const char h[] = "0123456789abcdef";
	char id[41];
	for (int k = 0; k < 40; k++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		id[k] = h[(*x >> 59) & 15];
	}
	id[40] = 0;
	buf_addf(b, "2024-05-01T10:00:00.0000000Z [req %.8s] commit %s", id + 32, id);
	if (i == 1234 || i == 8800)
		buf_adds(b, " deadbeefcafe1234 planted");
	if (i == 5000)
		buf_adds(b, " DeadBeefCafe1234 upper");
	if (i == 4321)
		buf_adds(b, " \x1b[1mdeadbeef\x1b[0mcafe1234 coloured");
	buf_adds(b, "\n");
}

TEST(logview_search_filters)
{
	struct fx f = open_fixture("search_filters");
	struct buf b = BUF_INIT;
	uint64_t x = 42;
	for (int i = 1; i <= HEX_LINES; i++)
		hex_line(&x, i, &b);
	exec(f.st, "INSERT INTO jobs (id, run_id, provider_id, name, ordinal) VALUES (2, 1, 6, 'hex', 1)");
	struct fx g = {.st = f.st, .job = 2};
	g.log = write_log(f.st, 2, b.data, b.len);
	buf_release(&b);
	struct logview *lv = open_lv(&g);
	CHECK(logview_line_count(lv) == HEX_LINES);
	static const char *const qs[] = {"deadbeefcafe1234", "DeadBeefCafe1234", "cafe1234",
					 "beefcafe", "planted", "no such thing here"};
	struct cs_err err;
	for (size_t qi = 0; qi < ARRAY_SIZE(qs); qi++) {
		struct matcher *m = matcher_new(qs[qi], 0, &err);
		static uint64_t hits[HEX_LINES];
		int nh = matching_lines(lv, m, hits, HEX_LINES);
		uint64_t froms[] = {0, 1, 1233, 1234, 1235, 4321, 5000, 7000, 8800, HEX_LINES};
		uint64_t budgets[] = {1, 700, 100000};
		for (size_t bi = 0; bi < ARRAY_SIZE(budgets); bi++)
			for (size_t fi = 0; fi < ARRAY_SIZE(froms); fi++) {
				uint64_t from = froms[fi], want = next_hit(hits, nh, from, NULL);
				uint64_t got = run_search(lv, m, false, from, budgets[bi], NULL);
				if (got != want)
					t_fail(__FILE__, __LINE__, "'%s' forward from %llu: %llu, want %llu",
					       qs[qi], (unsigned long long)from, (unsigned long long)got,
					       (unsigned long long)want);
				uint64_t bfrom = from ? from : HEX_LINES + 1;
				want = prev_hit(hits, nh, bfrom);
				got = run_search(lv, m, true, bfrom, budgets[bi], NULL);
				if (got != want)
					t_fail(__FILE__, __LINE__, "'%s' backward from %llu: %llu, want %llu",
					       qs[qi], (unsigned long long)bfrom, (unsigned long long)got,
					       (unsigned long long)want);
			}
		matcher_free(m);
	}
	/* the filters pass over whole chunks: one step of one line gets past
	 * the first chunk when it cannot hold the query (line 5000 is past it) */
	struct matcher *m = matcher_new("upper", 0, &err);
	struct lv_search *s = lv_search_new(lv, m, false, 0);
	CHECK_INT(lv_search_step(s, 1, &err), LV_SEARCH_MORE);
	uint64_t done, total;
	lv_search_progress(s, &done, &total);
	CHECK(done > 100);
	lv_search_free(s);
	/* without the filters, the same step looks at one line */
	struct matcher *all = matcher_new("upper", MATCH_NO_FILTER, &err);
	s = lv_search_new(lv, all, false, 0);
	CHECK_INT(lv_search_step(s, 1, &err), LV_SEARCH_MORE);
	lv_search_progress(s, &done, &total);
	CHECK_INT(done, 1);
	lv_search_free(s);
	matcher_free(all);
	matcher_free(m);
	logview_close(lv);
	store_close(f.st);
}
