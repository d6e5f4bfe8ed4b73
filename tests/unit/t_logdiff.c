/* t_logdiff.c - the log aligner over logs stored in a real index: anchors
 * through normalised noise, added, updated, moved and repeated lines,
 * context and hunks with their step, findings, empty sides, CR-only lines,
 * invalid UTF-8, 10 MB lines, and logs larger than the aligner's window. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/logdiff.h"
#include "core/logstore.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

static struct store *st;

static struct store *db(void)
{
	if (st)
		return st;
	st = t_fresh_store("logdiff");
	sqlite3_exec(st->db,
		     "INSERT INTO repos (id, slug) VALUES (1, 't/logdiff');"
		     "INSERT INTO runs (id, repo_id, provider_id, imported_at) VALUES (1, 1, 1, 0);",
		     NULL, NULL, NULL);
	return st;
}

/* Store text as the log of a new job; returns the log id. */
static int64_t put_log(const char *text, size_t n)
{
	static int k;
	struct cs_err err;
	char sql[160];
	k++;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO jobs (run_id, provider_id, name, ordinal) VALUES (1, %d, 'j%d', %d)", k,
		 k, k);
	sqlite3_exec(db()->db, "BEGIN", NULL, NULL, NULL);
	sqlite3_exec(db()->db, sql, NULL, NULL, NULL);
	struct logw *w = logw_begin(db(), sqlite3_last_insert_rowid(db()->db), NULL, NULL, &err);
	int64_t id = -1;
	if (w && logw_write(w, text, n, &err) == 0)
		id = logw_finish(w, &err);
	logw_free(w);
	sqlite3_exec(db()->db, id > 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	if (id <= 0) {
		fprintf(stderr, "t_logdiff: cannot store a log: %s\n", err.msg);
		exit(2);
	}
	return id;
}

static int64_t put(const char *text)
{
	return put_log(text, strlen(text));
}

static void diff(const char *run, const char *base, const struct logdiff_opts *o,
		 struct logdiff *d)
{
	struct cs_err err;
	logdiff_init(d);
	int64_t r = run ? put(run) : 0, b = base ? put(base) : 0;
	CHECK_OK(logdiff_logs(db(), r, b, o, NULL, 0, NULL, 0, d, &err));
}

/* The shown lines of d as "op text" rows joined by '|'. */
static char *shown(const struct logdiff *d)
{
	struct buf b = BUF_INIT;
	for (int h = 0; h < d->n_hunks; h++)
		for (int i = 0; i < d->hunks[h].n_lines; i++) {
			const struct ld_line *l = &d->hunks[h].lines[i];
			if (l->op == '=')
				continue;
			if (b.len)
				buf_addc(&b, '|');
			buf_addf(&b, "%c%s", l->op, l->text);
			if (l->repeat > 1)
				buf_addf(&b, " x%u", l->repeat);
		}
	return buf_detach(&b, NULL);
}

#define T1 "2024-05-01T10:48:36.8101331Z "
#define T2 "2024-06-02T11:00:01.0000000Z "

TEST(logdiff_noise_is_not_news)
{
	struct logdiff d;
	diff(T1 "Downloading foo 1.2.3 (41ms)\n" T1 "Listening on 127.0.0.1:40123\n"
	     T1 "\x1b[32mok\x1b[0m tmp /tmp/abc123/x\n" T1 "run 4dd7aca0ed1e done in 3.2s\n"
	     T1 "request id=1a2b3c4d\n",
	     T2 "Downloading foo 1.2.4 (3ms)\n" T2 "Listening on 127.0.0.1:555\n"
	     T2 "ok tmp /tmp/zzz/x\n" T2 "run 0123456789ab done in 1m 2s\n"
	     T2 "request id=12345678\n", /* a hex id that happens to be all digits */
	     NULL, &d);
	CHECK_INT(d.run_lines, 5);
	CHECK_INT(d.base_lines, 5);
	CHECK_INT(d.anchors, 5);
	CHECK_INT(d.shown, 0);
	CHECK_INT(d.n_hunks, 0);
	logdiff_release(&d);
}

TEST(logdiff_added_lines_in_a_hunk_with_context)
{
	struct logdiff d;
	struct logdiff_opts o = {2, false, 0};
	diff("alpha\nbravo\ncharlie\ndelta\nerror: boom here\nsecond bad thing\necho\nfoxtrot\n"
	     "golf\nhotel\n",
	     "alpha\nbravo\ncharlie\ndelta\necho\nfoxtrot\ngolf\nhotel\n", &o, &d);
	CHECK_INT(d.added, 2);
	CHECK_INT(d.shown, 2);
	CHECK_INT(d.n_hunks, 1);
	if (d.n_hunks == 1) {
		const struct ld_hunk *h = &d.hunks[0];
		CHECK_INT(h->n_lines, 6);
		CHECK_INT(h->lines[0].op, '=');
		CHECK_STR(h->lines[0].text, "charlie");
		CHECK_INT(h->lines[0].run_line, 3);
		CHECK_INT(h->lines[0].base_line, 3);
		CHECK_INT(h->lines[2].op, '+');
		CHECK_INT(h->lines[2].run_line, 5);
		CHECK_INT(h->lines[2].base_line, 0);
		CHECK_STR(h->lines[2].text, "error: boom here");
		CHECK_INT(h->lines[5].run_line, 8);
		CHECK_INT(h->lines[5].base_line, 6);
	}
	logdiff_release(&d);

	/* far apart: two hunks; close together: one */
	o.context = 1;
	diff("a1\nnew one\na2\na3\na4\na5\nnew two\na6\n", "a1\na2\na3\na4\na5\na6\n", &o, &d);
	CHECK_INT(d.n_hunks, 2);
	/* as a pager's rows: header, a1, new one, a2; header, a5, new two, a6 */
	CHECK_INT(logdiff_rows(&d), 8);
	int hk, ln;
	CHECK(logdiff_row(&d, 0, &hk, &ln) && hk == 0 && ln == -1);
	CHECK(logdiff_row(&d, 2, &hk, &ln) && hk == 0 && ln == 1);
	CHECK(logdiff_row(&d, 4, &hk, &ln) && hk == 1 && ln == -1);
	CHECK(logdiff_row(&d, 7, &hk, &ln) && hk == 1 && ln == 2);
	if (logdiff_row(&d, 6, &hk, &ln))
		CHECK_STR(d.hunks[hk].lines[ln].text, "new two");
	CHECK(!logdiff_row(&d, 8, &hk, &ln));
	CHECK(!logdiff_row(&d, -1, &hk, &ln));
	logdiff_release(&d);
	diff("a1\nnew one\na2\na3\nnew two\na6\n", "a1\na2\na3\na6\n", &o, &d);
	CHECK_INT(d.n_hunks, 1);
	logdiff_release(&d);
}

TEST(logdiff_updated_lines_pair_with_the_baseline)
{
	struct logdiff d;
	diff("compile\nBUILD FAILURE\nTotal time: 3s\n", "compile\nBUILD SUCCESS\nTotal time: 9s\n",
	     NULL, &d);
	char *s = shown(&d);
	CHECK_STR(s, "~BUILD FAILURE");
	CHECK_INT(d.updated, 1);
	CHECK_INT(d.added, 0);
	CHECK_INT(d.hunks[0].lines[1].base_line, 2);
	CHECK_INT(d.hunks[0].lines[1].run_line, 2);
	free(s);
	logdiff_release(&d);

	/* --all-lines: the baseline's own lines show as "-", before what
	 * replaced them */
	struct logdiff_opts o = {3, true, 0};
	diff("start\nnew thing appears\nend\n", "start\nold thing vanished entirely now\nend\n", &o,
	     &d);
	s = shown(&d);
	CHECK_STR(s, "-old thing vanished entirely now|+new thing appears");
	CHECK_INT(d.removed, 1);
	free(s);
	logdiff_release(&d);
	/* an updated line pairs across a removed one; the removed one comes first */
	diff("start\nBUILD FAILURE now\nextra new line here\nend\n",
	     "start\nsomething the run lost\nBUILD SUCCESS now\nend\n", &o, &d);
	s = shown(&d);
	CHECK_STR(s, "-something the run lost|~BUILD FAILURE now|+extra new line here");
	free(s);
	logdiff_release(&d);

	CHECK(logdiff_similarity("BUILD SUCCESS", 13, "BUILD FAILURE", 13) >= 0.5);
	CHECK(logdiff_similarity("a b c", 5, "a b", 3) == 0);       /* token counts differ */
	CHECK(logdiff_similarity("xx yy", 5, "zz ww", 5) == 0);     /* no equal token */
	CHECK(logdiff_similarity("ab cd", 5, "ab cd", 5) == 1.0);
}

TEST(logdiff_moved_blocks_are_not_news)
{
	struct logdiff d;
	diff("one\ntwo\nthree\nsetup cache\nrestore cache\nfour\nfive\n",
	     "one\nsetup cache\nrestore cache\ntwo\nthree\nfour\nfive\n", NULL, &d);
	CHECK_INT(d.shown, 0);
	CHECK_INT(d.moved, 2);
	logdiff_release(&d);
	/* with all lines, a moved line is context marked as moved */
	struct logdiff_opts o = {3, true, 0};
	diff("one\ntwo\nthree\nsetup cache\nfour\nnew\n", "one\nsetup cache\ntwo\nthree\nfour\n", &o,
	     &d);
	bool moved = false;
	for (int h = 0; h < d.n_hunks; h++)
		for (int i = 0; i < d.hunks[h].n_lines; i++)
			if (d.hunks[h].lines[i].moved)
				moved = !strcmp(d.hunks[h].lines[i].text, "setup cache");
	CHECK(moved);
	logdiff_release(&d);
}

TEST(logdiff_repeats_collapse)
{
	struct logdiff d;
	diff("start\nretrying connection\nretrying connection\nretrying connection\n"
	     "retrying connection\ngave up\nend\n",
	     "start\nend\n", NULL, &d);
	char *s = shown(&d);
	CHECK_STR(s, "+retrying connection x4|+gave up");
	CHECK_INT(d.added, 5);
	CHECK_INT(d.shown, 2);
	free(s);
	logdiff_release(&d);
	/* alike once normalised, but at other places: each is shown */
	diff("start\nx.go:12:9: undefined: os\nx.go:13:9: undefined: os\nend\n", "start\nend\n",
	     NULL, &d);
	s = shown(&d);
	CHECK_STR(s, "+x.go:12:9: undefined: os|+x.go:13:9: undefined: os");
	free(s);
	logdiff_release(&d);
}

TEST(logdiff_empty_sides)
{
	struct logdiff d;
	diff("first\nsecond\n", NULL, NULL, &d);
	CHECK_INT(d.base_lines, 0);
	CHECK_INT(d.added, 2);
	char *s = shown(&d);
	CHECK_STR(s, "+first|+second");
	free(s);
	logdiff_release(&d);
	diff(NULL, "first\nsecond\n", NULL, &d);
	CHECK_INT(d.run_lines, 0);
	CHECK_INT(d.shown, 0);
	CHECK_INT(d.removed, 2);
	logdiff_release(&d);
	diff("", "", NULL, &d);
	CHECK_INT(d.shown, 0);
	logdiff_release(&d);
	/* blank lines are never news */
	diff("a\n\n   \n\nb\n", "a\nb\n", NULL, &d);
	CHECK_INT(d.shown, 0);
	logdiff_release(&d);
}

TEST(logdiff_cr_lines_and_invalid_utf8)
{
	struct logdiff d;
	diff("build\rprogress 10%\rprogress 90%\rfailed \xff\xfe here\r\ndone\n",
	     "build\rprogress 50%\rdone\n", NULL, &d);
	CHECK_INT(d.run_lines, 5);
	char *s = shown(&d);
	CHECK_STR(s, "+failed \xff\xfe here");
	CHECK_INT(d.hunks[0].lines[d.hunks[0].n_lines - 2].run_line, 4);
	free(s);
	logdiff_release(&d);
}

TEST(logdiff_ten_megabyte_line)
{
	size_t big = 10u << 20;
	char *text = xmalloc(big + 64);
	strcpy(text, "head\n");
	size_t n = strlen(text);
	for (size_t i = 0; i < big; i++)
		text[n + i] = (char)('g' + i % 19);
	n += big;
	memcpy(text + n, "\ntail\n", 6);
	n += 6;
	struct cs_err err;
	int64_t r = put_log(text, n), b = put("head\ntail\n");
	struct logdiff d;
	logdiff_init(&d);
	CHECK_OK(logdiff_logs(db(), r, b, NULL, NULL, 0, NULL, 0, &d, &err));
	CHECK_INT(d.added, 1);
	CHECK_INT(d.shown, 1);
	if (d.n_hunks == 1) {
		const struct ld_line *l = &d.hunks[0].lines[1];
		CHECK_INT(l->op, '+');
		CHECK(l->cut);
		CHECK(strlen(l->text) <= LD_TEXT_MAX);
	}
	logdiff_release(&d);
	/* the same huge line on both sides is an anchor */
	int64_t b2 = put_log(text, n);
	logdiff_init(&d);
	CHECK_OK(logdiff_logs(db(), r, b2, NULL, NULL, 0, NULL, 0, &d, &err));
	CHECK_INT(d.shown, 0);
	logdiff_release(&d);
	free(text);
}

TEST(logdiff_steps_and_findings)
{
	struct step steps[2] = {
		{.number = 1, .name = "Set up job", .first_line = 1, .last_line = 3},
		{.number = 4, .name = "Run tests", .first_line = 4, .last_line = 9},
	};
	struct ld_mark marks[1] = {{6, 6}};
	struct cs_err err;
	int64_t r = put("s1\ns2\ns3\nt1\nt2\nFAIL: test_x\nt3\nt4\nt5\n");
	int64_t b = put("s1\ns2\ns3\nt1\nt2\nt3\nt4\nt5\n");
	struct logdiff d;
	logdiff_init(&d);
	CHECK_OK(logdiff_logs(db(), r, b, NULL, steps, 2, marks, 1, &d, &err));
	CHECK_INT(d.n_hunks, 1);
	if (d.n_hunks == 1) {
		CHECK_INT(d.hunks[0].step, 4);
		CHECK_STR(d.hunks[0].step_name, "Run tests");
		for (int i = 0; i < d.hunks[0].n_lines; i++)
			CHECK_INT(d.hunks[0].lines[i].finding, d.hunks[0].lines[i].run_line == 6);
	}
	logdiff_release(&d);
}

/* Distinct words without digits or hex letters (the normaliser keeps them). */
static void word(char *out, unsigned v)
{
	for (int i = 0; i < 5; i++) {
		out[i] = (char)('g' + v % 20);
		v /= 20;
	}
	out[5] = 0;
}

/* Diff log run against log base with the default options into d. */
static void diff_default(const struct buf *run, const struct buf *base, struct logdiff *d)
{
	struct cs_err err;
	int64_t r = put_log(run->data, run->len), b = put_log(base->data, base->len);
	struct logdiff_opts o = {0, false, -1};
	logdiff_init(d);
	CHECK_OK(logdiff_logs(db(), r, b, &o, NULL, 0, NULL, 0, d, &err));
}

TEST(logdiff_larger_than_the_window)
{
	unsigned n = 3 * LD_WINDOW + 1234;
	struct buf run = BUF_INIT, base = BUF_INIT;
	char w[8];
	unsigned news = 0;
	for (unsigned i = 0; i < n; i++) {
		word(w, i);
		buf_addf(&base, "step %s\n", w);
		if (i % 7001 == 3) {
			buf_addf(&run, "unexpected failure near %s\n", w);
			news++;
		}
		if (i % 9973 != 5) /* lines the run no longer prints */
			buf_addf(&run, "step %s\n", w);
	}
	struct logdiff d;
	diff_default(&run, &base, &d);
	CHECK_INT(d.added, news);
	CHECK_INT(d.shown, news);
	CHECK_INT(d.updated, 0);
	CHECK_INT(d.anchors, d.run_lines - news);
	CHECK_INT(d.removed, n - d.anchors);
	logdiff_release(&d);
	buf_release(&run);
	buf_release(&base);
}

TEST(logdiff_cap_on_shown_lines)
{
	struct buf run = BUF_INIT;
	char w[8];
	for (unsigned i = 0; i < 50; i++) {
		word(w, i);
		buf_addf(&run, "new %s\n", w);
	}
	struct cs_err err;
	int64_t r = put_log(run.data, run.len), b = put("nothing alike\n");
	struct logdiff d;
	struct logdiff_opts o = {3, false, 10};
	logdiff_init(&d);
	CHECK_OK(logdiff_logs(db(), r, b, &o, NULL, 0, NULL, 0, &d, &err));
	CHECK_INT(d.shown, 10);
	CHECK_INT(d.added, 50);
	CHECK(d.truncated);
	logdiff_release(&d);
	buf_release(&run);
}

TEST(logdiff_nothing_in_common_for_more_than_a_window)
{
	/* the first windows share nothing; the common block after them is
	 * still found, and the different tails are new */
	unsigned n = LD_WINDOW + LD_WINDOW / 2;
	struct buf run = BUF_INIT, base = BUF_INIT;
	char w[8];
	for (unsigned i = 0; i < n; i++) {
		word(w, i);
		buf_addf(&base, "old %s\n", w);
		buf_addf(&run, "new %s\n", w);
	}
	for (unsigned i = 0; i < 200; i++) {
		word(w, i);
		buf_addf(&base, "common %s\n", w);
		buf_addf(&run, "common %s\n", w);
	}
	buf_adds(&base, "old tail\n");
	buf_adds(&run, "new tail here\n");
	struct logdiff d;
	diff_default(&run, &base, &d);
	CHECK_INT(d.anchors, 200);
	CHECK_INT(d.added + d.updated, n + 1);
	logdiff_release(&d);
	buf_release(&run);
	buf_release(&base);
}
