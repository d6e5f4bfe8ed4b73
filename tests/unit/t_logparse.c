/* t_logparse.c - splitter, log line parsing, timestamps, ANSI. */
#include <stdlib.h>
#include <string.h>

#include "core/logparse.h"
#include "test.h"
#include "testdemo.h"

/* --- helpers ---------------------------------------------------------------- */
struct rec {
	uint64_t lineno, off, len;
	enum line_term term;
	size_t head_len;
	char head[SPLIT_HEAD_MAX];
};

struct recs {
	struct rec *v;
	size_t n, alloc;
	uint64_t stop_at; /* return 7 from the callback at this line */
};

static int rec_cb(void *ctx, const struct split_line *l)
{
	struct recs *r = ctx;
	XGROW(r->v, r->alloc, r->n + 1);
	struct rec *x = &r->v[r->n++];
	x->lineno = l->lineno;
	x->off = l->off;
	x->len = l->len;
	x->term = l->term;
	x->head_len = l->head_len;
	memcpy(x->head, l->head, l->head_len);
	return r->stop_at && l->lineno == r->stop_at ? 7 : 0;
}

/* Split s feeding pieces of the given sizes (cycled; 0 = all at once). */
static void split_pieces(const char *s, size_t n, const size_t *sizes, size_t nsizes,
			 struct recs *out)
{
	struct splitter *sp = xmalloc(sizeof(*sp));
	memset(out, 0, sizeof(*out));
	splitter_init(sp, rec_cb, out);
	size_t at = 0, k = 0;
	while (at < n) {
		size_t piece = nsizes ? sizes[k++ % nsizes] : n;
		if (piece == 0 || piece > n - at)
			piece = n - at;
		CHECK_INT(splitter_feed(sp, s + at, piece), 0);
		at += piece;
	}
	CHECK_INT(splitter_finish(sp), 0);
	CHECK_INT(sp->lineno, out->n);
	CHECK_INT(sp->off, n);
	free(sp);
}

/* The reference: a byte loop written from the rules, not from the splitter. */
static void naive_split(const char *s, size_t n, struct recs *out)
{
	memset(out, 0, sizeof(*out));
	size_t start = 0, i = 0;
	while (i < n) {
		enum line_term t = TERM_NONE;
		size_t tl = 0;
		if (s[i] == '\n') {
			t = TERM_LF;
			tl = 1;
		} else if (s[i] == '\r') {
			t = (i + 1 < n && s[i + 1] == '\n') ? TERM_CRLF : TERM_CR;
			tl = t == TERM_CRLF ? 2 : 1;
		}
		if (!tl) {
			i++;
			continue;
		}
		XGROW(out->v, out->alloc, out->n + 1);
		struct rec *x = &out->v[out->n++];
		x->lineno = out->n;
		x->off = start;
		x->len = i - start;
		x->term = t;
		x->head_len = MIN(x->len, (size_t)SPLIT_HEAD_MAX);
		memcpy(x->head, s + start, x->head_len);
		i += tl;
		start = i;
	}
	if (start < n) {
		XGROW(out->v, out->alloc, out->n + 1);
		struct rec *x = &out->v[out->n++];
		x->lineno = out->n;
		x->off = start;
		x->len = n - start;
		x->term = TERM_NONE;
		x->head_len = MIN(x->len, (size_t)SPLIT_HEAD_MAX);
		memcpy(x->head, s + start, x->head_len);
	}
}

static int same_recs(const struct recs *a, const struct recs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->v[i], *y = &b->v[i];
		if (x->lineno != y->lineno || x->off != y->off || x->len != y->len ||
		    x->term != y->term || x->head_len != y->head_len ||
		    memcmp(x->head, y->head, x->head_len) != 0)
			return 0;
	}
	return 1;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* --- splitter ----------------------------------------------------------------- */
TEST(split_terminators)
{
	static const char s[] = "a\r\nbb\ncc\rd\r\r\n\n";
	struct recs r;
	split_pieces(s, sizeof(s) - 1, NULL, 0, &r);
	CHECK_INT(r.n, 6);
	if (r.n == 6) {
		CHECK_INT(r.v[0].off, 0);
		CHECK_INT(r.v[0].len, 1);
		CHECK_INT(r.v[0].term, TERM_CRLF);
		CHECK_INT(r.v[1].off, 3);
		CHECK_INT(r.v[1].len, 2);
		CHECK_INT(r.v[1].term, TERM_LF);
		CHECK_INT(r.v[2].off, 6);
		CHECK_INT(r.v[2].term, TERM_CR);
		CHECK_INT(r.v[3].off, 9);
		CHECK_INT(r.v[3].len, 1);
		CHECK_INT(r.v[3].term, TERM_CR);
		CHECK_INT(r.v[4].off, 11);
		CHECK_INT(r.v[4].len, 0);
		CHECK_INT(r.v[4].term, TERM_CRLF);
		CHECK_INT(r.v[5].off, 13);
		CHECK_INT(r.v[5].len, 0);
		CHECK_INT(r.v[5].term, TERM_LF);
		CHECK(memcmp(r.v[1].head, "bb", 2) == 0);
		CHECK_INT(r.v[5].lineno, 6);
	}
	free(r.v);
}

TEST(split_edges)
{
	struct recs r;
	split_pieces("", 0, NULL, 0, &r);
	CHECK_INT(r.n, 0);
	free(r.v);

	split_pieces("\n", 1, NULL, 0, &r);
	CHECK_INT(r.n, 1);
	CHECK_INT(r.v[0].len, 0);
	free(r.v);

	split_pieces("abc", 3, NULL, 0, &r);
	CHECK_INT(r.n, 1);
	CHECK_INT(r.v[0].term, TERM_NONE);
	CHECK_INT(r.v[0].len, 3);
	free(r.v);

	split_pieces("x\ny", 3, NULL, 0, &r);
	CHECK_INT(r.n, 2);
	CHECK_INT(r.v[1].term, TERM_NONE);
	CHECK_INT(r.v[1].off, 2);
	free(r.v);

	/* a CR at the very end is a line end, not a half CRLF */
	split_pieces("abc\r", 4, NULL, 0, &r);
	CHECK_INT(r.n, 1);
	CHECK_INT(r.v[0].term, TERM_CR);
	CHECK_INT(r.v[0].len, 3);
	free(r.v);

	/* NUL bytes and invalid UTF-8 are ordinary content */
	static const char nul[] = "a\0b\xff\xfe\n\0";
	split_pieces(nul, sizeof(nul) - 1, NULL, 0, &r);
	CHECK_INT(r.n, 2);
	CHECK_INT(r.v[0].len, 5);
	CHECK(memcmp(r.v[0].head, "a\0b\xff\xfe", 5) == 0);
	CHECK_INT(r.v[1].len, 1);
	free(r.v);

	/* no feed at all, and empty feeds */
	struct splitter *sp = xmalloc(sizeof(*sp));
	memset(&r, 0, sizeof(r));
	splitter_init(sp, rec_cb, &r);
	CHECK_INT(splitter_feed(sp, "", 0), 0);
	CHECK_INT(splitter_finish(sp), 0);
	CHECK_INT(r.n, 0);
	free(sp);
	free(r.v);
}

TEST(split_crlf_across_feeds)
{
	static const size_t one[] = {1};
	static const char s[] = "ab\r\ncd\r\r\nef\r";
	struct recs want, got;
	naive_split(s, sizeof(s) - 1, &want);
	CHECK_INT(want.n, 4);
	split_pieces(s, sizeof(s) - 1, one, 1, &got);
	CHECK(same_recs(&want, &got));
	free(got.v);
	/* every two-piece cut */
	for (size_t cut = 1; cut < sizeof(s) - 1; cut++) {
		size_t sizes[2] = {cut, 0};
		split_pieces(s, sizeof(s) - 1, sizes, 2, &got);
		if (!same_recs(&want, &got))
			t_fail(__FILE__, __LINE__, "cut at %zu differs", cut);
		free(got.v);
	}
	/* exactly "\r" | "\n" */
	split_pieces("\r\n", 2, one, 1, &got);
	CHECK_INT(got.n, 1);
	CHECK_INT(got.v[0].term, TERM_CRLF);
	free(got.v);
	free(want.v);
}

TEST(split_random_vs_naive)
{
	static const char alpha[] = "ab\r\n\0\xff\x1b";
	char *s = xmalloc(4096);
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = rnd() % (iter < 2000 ? 40 : 4096);
		for (size_t i = 0; i < n; i++)
			s[i] = alpha[rnd() % (sizeof(alpha) - 1)];
		size_t sizes[8];
		for (int k = 0; k < 8; k++)
			sizes[k] = 1 + rnd() % (iter % 3 == 0 ? 3 : 300);
		struct recs want, got;
		naive_split(s, n, &want);
		split_pieces(s, n, sizes, 8, &got);
		if (!same_recs(&want, &got)) {
			t_fail(__FILE__, __LINE__, "iteration %d (%zu bytes) differs", iter, n);
			iter = 1 << 30;
		}
		free(want.v);
		free(got.v);
	}
	free(s);
}

TEST(split_long_line)
{
	size_t n = 100000;
	char *s = xmalloc(n + 10);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	memcpy(s + n, "\r\nend", 5);
	static const size_t sizes[][3] = {{0, 0, 0}, {1000, 0, 0}, {7, 8191, 1}, {8192, 1, 3}};
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct recs r;
		split_pieces(s, n + 5, sizes[k][0] ? sizes[k] : NULL, sizes[k][0] ? 3 : 0, &r);
		CHECK_INT(r.n, 2);
		if (r.n != 2)
			continue;
		CHECK_INT(r.v[0].len, n);
		CHECK_INT(r.v[0].head_len, SPLIT_HEAD_MAX);
		CHECK(memcmp(r.v[0].head, s, SPLIT_HEAD_MAX) == 0);
		CHECK_INT(r.v[0].term, TERM_CRLF);
		CHECK_INT(r.v[1].off, n + 2);
		CHECK_INT(r.v[1].len, 3);
		CHECK(memcmp(r.v[1].head, "end", 3) == 0);
		free(r.v);
	}
	/* exactly SPLIT_HEAD_MAX and one more */
	for (size_t len = SPLIT_HEAD_MAX; len <= SPLIT_HEAD_MAX + 1; len++) {
		static const size_t odd[] = {333};
		struct recs r;
		s[len] = '\n';
		split_pieces(s, len + 1, odd, 1, &r);
		CHECK_INT(r.n, 1);
		CHECK_INT(r.v[0].len, len);
		CHECK_INT(r.v[0].head_len, SPLIT_HEAD_MAX);
		free(r.v);
		s[len] = (char)('a' + len % 26);
	}
	free(s);
}

TEST(split_callback_stops)
{
	struct recs r;
	struct splitter *sp = xmalloc(sizeof(*sp));
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	splitter_init(sp, rec_cb, &r);
	CHECK_INT(splitter_feed(sp, "a\nb\nc\n", 6), 7);
	CHECK_INT(r.n, 2);
	/* and at finish */
	free(r.v);
	memset(&r, 0, sizeof(r));
	r.stop_at = 1;
	splitter_init(sp, rec_cb, &r);
	CHECK_INT(splitter_feed(sp, "tail", 4), 0);
	CHECK_INT(splitter_finish(sp), 7);
	CHECK_INT(r.n, 1);
	free(r.v);
	free(sp);
}

/* --- timestamps ----------------------------------------------------------------- */
TEST(logts_values)
{
	CHECK_INT(logts_parse("2024-05-01T10:48:36.8101331Z", 28), 1714560516LL * 1000000 + 810133);
	CHECK_INT(logts_parse("1970-01-01T00:00:00.0000000Z", 28), 0);
	CHECK_INT(logts_parse("2024-02-29T00:00:00.0000009Z", 28),
		  (1714560516LL - 1714560516LL % 86400 - 62 * 86400) * 1000000);
	CHECK_INT(logts_parse("2000-02-29T23:59:59.9999999Z", 28), 951868799LL * 1000000 + 999999);
	static const char *const bad[] = {
		"2024-05-01T10:48:36.810133Z ", /* 6 digits */
		"2024-05-01 10:48:36.8101331Z",
		"2024-05-01T10:48:36.8101331+",
		"2024-13-01T10:48:36.8101331Z",
		"2024-00-01T10:48:36.8101331Z",
		"2024-04-31T10:48:36.8101331Z",
		"2023-02-29T10:48:36.8101331Z",
		"1900-02-29T10:48:36.8101331Z",
		"2024-05-01T24:00:00.0000000Z",
		"2024-05-01T10:60:36.8101331Z",
		"2024-05-01T10:48:60.8101331Z",
		"1969-12-31T23:59:59.9999999Z",
		"2024-05-01T10:48:3a.8101331Z",
		"2024-05-0\0T10:48:36.8101331Z",
		"２024-05-01T10:48:36.81013Z",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (logts_parse(bad[i], 28) != -1)
			t_fail(__FILE__, __LINE__, "accepted bad timestamp %zu", i);
	CHECK_INT(logts_parse("2024-05-01T10:48:36.8101331Z", 27), -1);
	CHECK_INT(logts_parse("2024-05-01T10:48:36.8101331Z ", 29), -1);
	CHECK_INT(logts_parse(NULL, 0), -1);
	CHECK_INT(logts_parse("", 0), -1);
}

/* --- lines -------------------------------------------------------------------- */
static void parse_str(const char *s, struct logline *l)
{
	logline_parse(s, strlen(s), l);
}

static int msg_is(const struct logline *l, const char *want)
{
	return l->msg_len == strlen(want) && memcmp(l->msg, want, l->msg_len) == 0;
}

static int text_is(const struct logline *l, const char *want)
{
	return l->text_len == strlen(want) && memcmp(l->text, want, l->text_len) == 0;
}

TEST(logline_timestamp_and_bom)
{
	struct logline l;
	parse_str("2024-05-01T10:48:36.8101331Z hello world", &l);
	CHECK(l.has_ts);
	CHECK(!l.has_bom);
	CHECK_INT(l.ts_us, 1714560516LL * 1000000 + 810133);
	CHECK(l.ts && memcmp(l.ts, "2024-05-01T10:48:36.8101331Z", 28) == 0);
	CHECK(text_is(&l, "hello world"));
	CHECK_INT(l.kind, LINE_PLAIN);
	CHECK(msg_is(&l, "hello world"));

	parse_str("\xEF\xBB\xBF" "2024-05-01T10:48:36.8101331Z x", &l);
	CHECK(l.has_bom && l.has_ts);
	CHECK(text_is(&l, "x"));

	parse_str("2024-05-01T10:48:36.8101331Z \xEF\xBB\xBF##[group]Run x", &l);
	CHECK(l.has_bom && l.has_ts);
	CHECK_INT(l.kind, LINE_GROUP);
	CHECK(msg_is(&l, "Run x"));

	/* a timestamp and nothing else (trailing space stripped or not) */
	static const char only_ts[] = "2024-05-01T10:48:36.8101331Z";
	parse_str(only_ts, &l);
	CHECK(l.has_ts);
	CHECK_INT(l.text_len, 0);
	CHECK(l.text == only_ts + 28);
	parse_str("2024-05-01T10:48:36.8101331Z ", &l);
	CHECK(l.has_ts);
	CHECK_INT(l.text_len, 0);

	/* continuation lines and near-misses carry no timestamp */
	parse_str("  docker exec -it $(docker container ps) bash", &l);
	CHECK(!l.has_ts && !l.has_bom);
	CHECK(l.ts == NULL);
	CHECK(text_is(&l, "  docker exec -it $(docker container ps) bash"));
	parse_str("2024-05-01T10:48:36.8101331Zx", &l);
	CHECK(!l.has_ts);
	parse_str("2024-05-01T10:48:36.810133Z hello", &l);
	CHECK(!l.has_ts);
	parse_str("2024-13-01T10:48:36.8101331Z hello", &l);
	CHECK(!l.has_ts);
	CHECK(text_is(&l, "2024-13-01T10:48:36.8101331Z hello"));
	parse_str("", &l);
	CHECK(!l.has_ts);
	CHECK_INT(l.text_len, 0);
	logline_parse(NULL, 5, &l);
	CHECK_INT(l.text_len, 0);
	/* a lone BOM, a truncated BOM */
	parse_str("\xEF\xBB\xBF", &l);
	CHECK(l.has_bom);
	CHECK_INT(l.text_len, 0);
	parse_str("\xEF\xBB", &l);
	CHECK(!l.has_bom);
	CHECK_INT(l.text_len, 2);
}

TEST(logline_markers)
{
	static const struct {
		const char *line;
		enum line_kind kind;
		const char *msg;
	} cases[] = {
		{"##[group]Run actions/checkout@v4", LINE_GROUP, "Run actions/checkout@v4"},
		{"##[endgroup]", LINE_ENDGROUP, ""},
		{"##[error]Process completed with exit code 1.", LINE_ERROR,
		 "Process completed with exit code 1."},
		{"##[warning]Node 16 is deprecated", LINE_WARNING, "Node 16 is deprecated"},
		{"##[notice]note", LINE_NOTICE, "note"},
		{"##[debug]Evaluating: x", LINE_DEBUG, "Evaluating: x"},
		{"##[command]/usr/bin/git log", LINE_COMMAND, "/usr/bin/git log"},
		{"##[section]Starting: Request a runner", LINE_SECTION, "Starting: Request a runner"},
		{"[command]/usr/bin/git version", LINE_COMMAND, "/usr/bin/git version"},
		/* not markers: only [command] has a single-bracket form (tools
		 * print "[error] ..." themselves; it is not the runner's marker) */
		{"[group]g", LINE_PLAIN, "[group]g"},
		{"[endgroup]", LINE_PLAIN, "[endgroup]"},
		{"[error]e", LINE_PLAIN, "[error]e"},
		{"[warning]w", LINE_PLAIN, "[warning]w"},
		{"[debug]d", LINE_PLAIN, "[debug]d"},
		{"[notice]n", LINE_PLAIN, "[notice]n"},
		{"[section]Starting", LINE_PLAIN, "[section]Starting"},
		{"##[groupx]t", LINE_PLAIN, "##[groupx]t"},
		{"##[group", LINE_PLAIN, "##[group"},
		{"##[Group]t", LINE_PLAIN, "##[Group]t"},
		{"#[group]t", LINE_PLAIN, "#[group]t"},
		{" ##[group]t", LINE_PLAIN, " ##[group]t"},
		{"##[info]i", LINE_PLAIN, "##[info]i"},
		{"[error", LINE_PLAIN, "[error"},
		{"##[error", LINE_PLAIN, "##[error"},
		{"##[", LINE_PLAIN, "##["},
		{"[", LINE_PLAIN, "["},
		{"x ##[error]late", LINE_PLAIN, "x ##[error]late"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct logline l;
		parse_str(cases[i].line, &l);
		if (l.kind != cases[i].kind || !msg_is(&l, cases[i].msg))
			t_fail(__FILE__, __LINE__, "'%s': kind %s msg '%.*s'", cases[i].line,
			       line_kind_name(l.kind), (int)l.msg_len, l.msg);
		/* the same with a timestamp and a BOM in front */
		char with[256];
		snprintf(with, sizeof(with), "\xEF\xBB\xBF" "2024-07-08T16:48:09.3750041Z %s",
			 cases[i].line);
		parse_str(with, &l);
		if (!l.has_ts || l.kind != cases[i].kind || !msg_is(&l, cases[i].msg))
			t_fail(__FILE__, __LINE__, "'%s' after a timestamp: kind %s", cases[i].line,
			       line_kind_name(l.kind));
	}
	CHECK_STR(line_kind_name(LINE_PLAIN), "plain");
	CHECK_STR(line_kind_name(LINE_ENDGROUP), "endgroup");
	CHECK_STR(line_kind_name(LINE_SECTION), "section");
	CHECK_STR(line_kind_name(LINE_KIND_COUNT), "unknown");
	CHECK_STR(line_kind_name((enum line_kind)-1), "unknown");
}

static void split_file(const char *rel, size_t piece, struct t_line_counts *c)
{
	struct buf b = BUF_INIT;
	struct cs_err err;
	memset(c, 0, sizeof(*c));
	CHECK_OK(file_read_all(t_fixture(rel), 16 << 20, &b, &err));
	struct splitter *sp = xmalloc(sizeof(*sp));
	splitter_init(sp, t_count_lines, c);
	for (size_t at = 0; at < b.len; at += piece)
		CHECK_INT(splitter_feed(sp, b.data + at, MIN(piece, b.len - at)), 0);
	CHECK_INT(splitter_finish(sp), 0);
	free(sp);
	buf_release(&b);
}

/* Expected counts come from awk over the files (see t_logstore.c too):
 * lines, lines with a 28-char timestamp, and markers at the text start. */
TEST(logline_real_logs)
{
	struct t_line_counts c;
	split_file("pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt", 4096, &c);
	CHECK_INT(c.lines, 4768);
	CHECK_INT(c.ts, 4529);
	CHECK_INT(c.bom, 0);
	CHECK_INT(c.kinds[LINE_GROUP], 74);
	CHECK_INT(c.kinds[LINE_ENDGROUP], 74);
	CHECK_INT(c.kinds[LINE_ERROR], 2);
	CHECK_INT(c.kinds[LINE_COMMAND], 32);
	CHECK_INT(c.kinds[LINE_WARNING], 0);
	CHECK_INT(c.line_of_first_error, 3194);
	CHECK_INT(c.first_ts, 1720457289LL * 1000000 + 375004);

	split_file("pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log_multiple_matches.txt",
		   65536, &c);
	CHECK_INT(c.lines, 875);
	CHECK_INT(c.ts, 872);
	CHECK_INT(c.bom, 1);
	CHECK_INT(c.kinds[LINE_GROUP], 4);
	CHECK_INT(c.kinds[LINE_ENDGROUP], 4);
	CHECK_INT(c.kinds[LINE_ERROR], 1);
	CHECK_INT(c.line_of_first_error, 779);
}

TEST(logline_real_lines)
{
	struct buf b = BUF_INIT;
	struct cs_err err;
	struct logline l;
	CHECK_OK(file_read_all(
		t_fixture("pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt"),
		16 << 20, &b, &err));
	struct recs r;
	naive_split(b.data, b.len, &r);
	CHECK_INT(r.n, 4768);
	if (r.n == 4768) {
#define LINE(k) b.data + r.v[(k)-1].off, r.v[(k)-1].len
		logline_parse(LINE(5), &l);
		CHECK(l.has_ts && l.kind == LINE_GROUP && msg_is(&l, "GITHUB_TOKEN Permissions"));
		logline_parse(LINE(20), &l);
		CHECK(l.has_ts && l.kind == LINE_ENDGROUP && l.msg_len == 0);
		/* a "with:" value spanning lines: the continuation has no timestamp */
		logline_parse(LINE(53), &l);
		CHECK(l.has_ts && text_is(&l, "  instructions: All testing is done inside the "
					      "container, to start an interactive session run:"));
		logline_parse(LINE(54), &l);
		CHECK(!l.has_ts && l.kind == LINE_PLAIN);
		CHECK(text_is(&l, "  docker exec -it $(docker container ps --format '{{.ID}}') bash"));
		logline_parse(LINE(55), &l);
		CHECK(!l.has_ts && l.text_len == 0);
		logline_parse(LINE(109), &l);
		CHECK(l.has_ts && l.kind == LINE_COMMAND && msg_is(&l, "/usr/bin/git version"));
		logline_parse(LINE(1098), &l);
		CHECK(l.has_ts && l.text_len == 0);
		logline_parse(LINE(3194), &l);
		CHECK(l.has_ts && l.kind == LINE_ERROR &&
		      msg_is(&l, "Process completed with exit code 1."));
		CHECK(l.ts_us == logts_parse("2024-07-08T16:56:59.8649160Z", 28));
		logline_parse(LINE(4768), &l);
		CHECK(l.has_ts && text_is(&l, "Cleaning up orphan processes"));
#undef LINE
	}
	free(r.v);
	buf_release(&b);

	CHECK_OK(file_read_all(t_fixture("pytorch-test-infra/aws/lambda/log-classifier/fixtures/"
					 "error_log_multiple_matches.txt"),
			       16 << 20, &b, &err));
	naive_split(b.data, b.len, &r);
	CHECK_INT(r.n, 875);
	if (r.n == 875) {
		/* line 1 starts mid-record; line 2 is a BOM, a timestamp and a space */
		logline_parse(b.data, r.v[0].len, &l);
		CHECK(!l.has_ts && !l.has_bom && l.kind == LINE_PLAIN);
		logline_parse(b.data + r.v[1].off, r.v[1].len, &l);
		CHECK(l.has_bom && l.has_ts && l.text_len == 0);
		CHECK_INT(l.ts_us, 1720804173LL * 1000000 + 320569);
	}
	free(r.v);
	buf_release(&b);
}

TEST(logline_hostile)
{
	char s[200];
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % sizeof(s);
		const char *seed = "\xEF\xBB\xBF" "2024-05-01T10:48:36.8101331Z ##[group]";
		size_t k = MIN(n, strlen(seed));
		memcpy(s, seed, k);
		for (size_t i = k; i < n; i++)
			s[i] = (char)rnd();
		for (int m = 0; m < 3 && n; m++)
			s[rnd() % n] = (char)rnd();
		struct logline l;
		logline_parse(s, n, &l);
		CHECK(l.text >= s && l.text + l.text_len <= s + n);
		CHECK(l.msg >= l.text && l.msg + l.msg_len == l.text + l.text_len);
		CHECK((unsigned)l.kind < LINE_KIND_COUNT);
		if (l.has_ts)
			CHECK(l.ts_us >= 0 && l.ts >= s);
	}
}

/* --- ANSI --------------------------------------------------------------------- */
static void strip_is(const char *in, size_t n, const char *want, size_t wn, int line)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<");
	ansi_strip(in, n, &b);
	buf_adds(&b, ">");
	if (b.len != wn + 2 || memcmp(b.data + 1, want, wn) != 0) {
		struct buf esc = BUF_INIT;
		buf_add_json_str(&esc, b.data, b.len);
		t_fail(__FILE__, line, "ansi_strip gave %s", esc.data);
		buf_release(&esc);
	}
	buf_release(&b);
}
#define STRIP(in, want) strip_is(in, sizeof(in) - 1, want, sizeof(want) - 1, __LINE__)

TEST(ansi_strip_sequences)
{
	STRIP("plain text", "plain text");
	STRIP("", "");
	STRIP("\x1b[36;1mecho hi\x1b[0m", "echo hi");
	STRIP("\x1b[0Ksection_start:1:x\r\x1b[0Kgo", "section_start:1:x\rgo");
	STRIP("a\x1b[38;2;255;0;0mred\x1b[m", "ared");
	STRIP("\x1b[?25lhidden\x1b[?25h", "hidden");
	STRIP("x\x1b]0;title\x07y", "xy");
	STRIP("x\x1b]8;;http://e.com\x1b\\link\x1b]8;;\x1b\\y", "xlinky");
	STRIP("a\x1bP1$r0m\x1b\\b", "ab");
	STRIP("a\x1b_apc\x07still\x1b\\b", "ab"); /* BEL does not end an APC */
	STRIP("a\x1bXsos\x1b\\b\x1b^pm\x1b\\c", "abc");
	STRIP("a\x1b" "cb\x1b=c\x1b>d\x1b" "7e\x1b(Bf\x1b#8g", "abcdefg");
	/* kept: NUL, invalid UTF-8, C1 bytes that are UTF-8 continuation bytes */
	STRIP("a\0b\xff\xc3\x28\x9b" "31m", "a\0b\xff\xc3\x28\x9b" "31m");
	/* broken and truncated sequences never swallow what follows a bad byte */
	STRIP("a\x1b[31\nb", "a\nb");
	STRIP("a\x1b[31", "a");
	STRIP("a\x1b", "a");
	STRIP("a\x1b\x1b[1mb", "ab");
	STRIP("a\x1b\xc3\xa9", "a\xc3\xa9");
	STRIP("a\x1b]unterminated", "a");
	STRIP("a\x1b]x\x1b", "a");
	STRIP("a\x1b(", "a");
	STRIP("\x1b[1m\x1b[31m\x1b[0m", "");
	ansi_strip(NULL, 0, &(struct buf)BUF_INIT);
}

TEST(ansi_strip_hostile)
{
	char s[300];
	static const char alpha[] = "\x1b[]P\\\x07;0m a\n\x9b\xff";
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % sizeof(s);
		for (size_t i = 0; i < n; i++)
			s[i] = iter & 1 ? (char)rnd() : alpha[rnd() % (sizeof(alpha) - 1)];
		struct buf b = BUF_INIT;
		ansi_strip(s, n, &b);
		CHECK(b.len <= n);
		CHECK(!memchr(b.data ? b.data : "", 0x1b, b.len));
		buf_release(&b);
	}
}

static struct ansi_attr sgr(const char *seq)
{
	struct ansi_attr a;
	ansi_attr_reset(&a);
	ansi_apply_sgr(&a, seq, strlen(seq));
	return a;
}

TEST(ansi_sgr)
{
	struct ansi_attr a;
	ansi_attr_reset(&a);
	CHECK(a.fg == ANSI_DEFAULT && a.bg == ANSI_DEFAULT && !a.bold && !a.reverse);

	a = sgr("1;31");
	CHECK(a.bold && a.fg == 1 && a.bg == ANSI_DEFAULT);
	a = sgr("36;1");
	CHECK(a.bold && a.fg == 6);
	a = sgr("2;3;4;7;42");
	CHECK(a.dim && a.italic && a.underline && a.reverse && a.bg == 2);
	a = sgr("91;104");
	CHECK_INT(a.fg, 9);
	CHECK_INT(a.bg, 12);
	a = sgr("97;107");
	CHECK_INT(a.fg, 15);
	CHECK_INT(a.bg, 15);
	a = sgr("38;5;208;48;5;17");
	CHECK_INT(a.fg, 208);
	CHECK_INT(a.bg, 17);
	a = sgr("38:5:208");
	CHECK_INT(a.fg, 208);
	a = sgr("38;5;256");
	CHECK_INT(a.fg, ANSI_DEFAULT);

	/* truecolour to the nearest xterm-256 entry */
	CHECK_INT(sgr("38;2;255;0;0").fg, 196);
	CHECK_INT(sgr("38;2;0;0;0").fg, 16);
	CHECK_INT(sgr("38;2;255;255;255").fg, 231);
	CHECK_INT(sgr("38;2;95;135;175").fg, 67);
	CHECK_INT(sgr("38;2;128;128;128").fg, 244);
	CHECK_INT(sgr("38;2;10;10;12").fg, 232);
	CHECK_INT(sgr("48;2;0;255;1").bg, 46);
	CHECK_INT(sgr("38:2::255:0:0").fg, 196);
	CHECK_INT(sgr("38:2:0:0:255").fg, 21);
	CHECK_INT(sgr("38;2;999;-1;0").fg, ANSI_DEFAULT); /* '-' is not SGR: ignored whole */
	CHECK_INT(sgr("38;2;999;0;0").fg, 196);           /* clamped */

	/* resets */
	a = sgr("1;2;3;4;7;31;41");
	ansi_apply_sgr(&a, "22", 2);
	CHECK(!a.bold && !a.dim && a.italic);
	ansi_apply_sgr(&a, "23;24;27", 8);
	CHECK(!a.italic && !a.underline && !a.reverse && a.fg == 1 && a.bg == 1);
	ansi_apply_sgr(&a, "39", 2);
	CHECK(a.fg == ANSI_DEFAULT && a.bg == 1);
	ansi_apply_sgr(&a, "49", 2);
	CHECK(a.bg == ANSI_DEFAULT);
	a = sgr("1;31");
	ansi_apply_sgr(&a, "", 0);
	CHECK(!a.bold && a.fg == ANSI_DEFAULT);
	a = sgr("1;31");
	ansi_apply_sgr(&a, "0", 1);
	CHECK(!a.bold && a.fg == ANSI_DEFAULT);
	a = sgr("1;31");
	ansi_apply_sgr(&a, ";32", 3); /* empty = 0, then green */
	CHECK(!a.bold && a.fg == 2);
	a = sgr("4:3");
	CHECK(a.underline);
	ansi_apply_sgr(&a, "4:0", 3);
	CHECK(!a.underline);

	/* malformed: no crash, no wild values */
	static const char *const junk[] = {"38", "38;5", "38;2;1;2", "48;", "38;7;1",
					   "99999999999999999999", ("1;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;"
					    ";;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;31"),
					   "38:2", "::::", "5x", "\0", "58;5;3;1"};
	for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
		a = sgr(junk[i]);
		CHECK(a.fg >= -1 && a.fg <= 255 && a.bg >= -1 && a.bg <= 255);
	}
	CHECK(sgr("58;5;3;1").bold);
	ansi_apply_sgr(&a, NULL, 4);
}

TEST(ansi_sgr_hostile)
{
	char s[64];
	static const char alpha[] = "0123456789;:;;2583";
	for (int iter = 0; iter < 50000; iter++) {
		size_t n = rnd() % sizeof(s);
		for (size_t i = 0; i < n; i++)
			s[i] = alpha[rnd() % (sizeof(alpha) - 1)];
		struct ansi_attr a;
		ansi_attr_reset(&a);
		ansi_apply_sgr(&a, s, n);
		CHECK(a.fg >= -1 && a.fg <= 255 && a.bg >= -1 && a.bg <= 255);
	}
}

/* logts_parse() checks the shape eight bytes at a time: every byte of every
 * position, set to each of its 256 values, is judged as a byte at a time
 * would judge it (a digit where the shape has 'd', the separator elsewhere,
 * then the field ranges) */
TEST(timestamp_every_byte)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddddddZ";
	static const char *const seeds[] = {"2024-05-01T10:48:36.8101331Z",
					    "1999-12-31T23:59:59.9999999Z",
					    "2024-02-29T00:00:00.0000000Z"};
	for (size_t k = 0; k < ARRAY_SIZE(seeds); k++) {
		for (int i = 0; i < 28; i++) {
			for (int v = 0; v < 256; v++) {
				char s[29];
				memcpy(s, seeds[k], 29);
				s[i] = (char)v;
				bool shaped = true;
				for (int j = 0; j < 28; j++)
					shaped &= shape[j] == 'd' ? s[j] >= '0' && s[j] <= '9'
								  : s[j] == shape[j];
				bool ok = logts_parse(s, 28) >= 0;
				if (!shaped && ok) {
					CHECK(!ok);
					fprintf(stderr, "    byte %d = %d taken in %s\n", i, v, seeds[k]);
				}
				CHECK(logts_valid(s) == ok);
				/* a shaped one is refused only for a field's range */
				if (shaped && !ok)
					CHECK(i < 19 && (i != 4 && i != 7 && i != 10 && i != 13 &&
							 i != 16));
			}
		}
	}
}

/* A line of 1 to 4 of parts at random (a part "" stands for a NUL byte),
 * cut anywhere one time in four, in s (of cap bytes); its length. */
static size_t random_line(const char *const *parts, size_t n_parts, char *s, size_t cap)
{
	size_t n = 0;
	int k = 1 + (int)(rnd() % 4);
	for (int p = 0; p < k; p++) {
		const char *t = parts[rnd() % n_parts];
		size_t tn = t[0] ? strlen(t) : 1;
		if (n + tn > cap)
			break;
		memcpy(s + n, t, tn);
		n += tn;
	}
	if (n && rnd() % 4 == 0)
		n -= rnd() % n; /* cut anywhere */
	return n;
}

/* logline_parse_untimed() finds what logline_parse() finds, the time's
 * value aside: lines of BOMs, timestamps (valid, out of range, a leap day
 * or none, misshapen), markers and words mixed at random, cut anywhere */
TEST(untimed_parse_agrees)
{
	static const char *const parts[] = {"\xef\xbb\xbf", "2024-05-01T10:48:36.8101331Z ",
					    "2024-13-01T10:48:36.8101331Z ", "2023-02-29T10:48:36.8101331Z ",
					    "2024-02-29T23:59:59.9999999Z ", "1969-12-31T23:59:59.0000000Z ",
					    "2024-05-01T10:48:36.8101331Z", "2024-05-01x10:48:36Z ",
					    "2024-05-01T10:48:36.81013a1Z ", "##[group]Run x", "##[error]boom",
					    "##[warning]w", "#", "[command]ls", " ", "\x00", "\xff", "P"};
	int n_ts = 0;
	for (int iter = 0; iter < 100000; iter++) {
		char s[256];
		size_t n = random_line(parts, ARRAY_SIZE(parts), s, sizeof(s));
		struct logline a, b;
		logline_parse(s, n, &a);
		logline_parse_untimed(s, n, &b);
		n_ts += a.has_ts;
		if (a.has_bom != b.has_bom || a.has_ts != b.has_ts || a.ts != b.ts ||
		    a.kind != b.kind || a.text != b.text || a.text_len != b.text_len ||
		    a.msg != b.msg || a.msg_len != b.msg_len || b.ts_us != 0) {
			CHECK(!"logline_parse_untimed() differs");
			fprintf(stderr, "    on: %.*s\n", (int)n, s);
			break;
		}
	}
	CHECK(n_ts > 1000);
}

/* logline_text_may_start() says false only when the text logline_parse()
 * finds cannot begin with a byte of the set: lines of BOMs, timestamps (valid,
 * out of range, misshapen), markers and words mixed at random */
TEST(text_may_start_agrees)
{
	static const char *const parts[] = {"\xef\xbb\xbf", "2024-05-01T10:48:36.8101331Z ",
					    "2024-13-01T10:48:36.8101331Z ",
					    "2024-05-01T10:48:36.8101331Z", "2024-05-01x10:48:36Z ",
					    "##[group]Run x", "##[error]boom", "#", "Post job cleanup.",
					    "Cleaning up orphan processes", "plain", "[command]ls", " ",
					    "P", "C", "##[endgroup]"};
	for (int iter = 0; iter < 100000; iter++) {
		char s[256];
		size_t n = random_line(parts, ARRAY_SIZE(parts), s, sizeof(s));
		struct logline ll;
		logline_parse(s, n, &ll);
		bool first = ll.text_len && (ll.text[0] == '#' || ll.text[0] == 'P' ||
					     ll.text[0] == 'C');
		if (first && !logline_text_may_start(s, n, "#PC")) {
			CHECK(logline_text_may_start(s, n, "#PC"));
			fprintf(stderr, "    refused: %.*s\n", (int)n, s);
			break;
		}
		/* and a set none of the text's first bytes is in */
		if (ll.text_len && ll.text[0] != 'Z' && ll.text[0] != '2' &&
		    ll.text[0] != '\xef' && logline_text_may_start(s, n, "Z")) {
			/* false positives are allowed only behind a prefix
			 * of a timestamp's shape that is no timestamp */
			CHECK(!ll.has_ts);
		}
	}
	CHECK(!logline_text_may_start(NULL, 0, "#"));
	CHECK(!logline_text_may_start("", 0, "#"));
	CHECK(logline_text_may_start("2024-05-01T10:48:36.8101331Z ##[group]x", 39, "#"));
	CHECK(!logline_text_may_start("2024-05-01T10:48:36.8101331Z x##[group]", 39, "#"));
	CHECK(logline_text_may_start("\xef\xbb\xbf" "2024-05-01T10:48:36.8101331Z \xef\xbb\xbf" "C", 36,
				     "C"));
}
