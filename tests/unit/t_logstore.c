/* t_logstore.c - chunked, compressed log storage: byte-exact round trips, line
 * lookups against an independent splitter, chunk boundaries, corruption. */
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logparse.h"
#include "core/logstore.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

#define C LOG_CHUNK_RAW

/* --- database --------------------------------------------------------------- */
static sqlite3 *open_db(void)
{
	static int n;
	char path[4200];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/logstore-%d.db", t_tmpdir(), ++n);
	/* the schema of the newest version: store_open() runs every migration */
	struct cs_err err;
	struct store *st = store_open(path, STORE_RW, &err);
	if (!st) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		exit(2);
	}
	store_close(st);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "cannot open %s", path);
		exit(2);
	}
	char *msg = NULL;
	if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "INSERT INTO repos (id, slug) VALUES (1, 'o/r');"
			 "INSERT INTO runs (id, repo_id, provider_id, imported_at) VALUES (1, 1, 1, 0);",
			 NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "schema: %s", msg);
		exit(2);
	}
	return db;
}

/* The log reader and writer take the store: the store of a connection
 * these tests opened themselves (at most a few per program). */
static struct store *store_of(sqlite3 *db)
{
	static struct store stores[64];
	static char path[] = "logstore test index";
	size_t i;
	for (i = 0; i < ARRAY_SIZE(stores) && stores[i].db; i++)
		if (stores[i].db == db)
			return &stores[i];
	if (i == ARRAY_SIZE(stores)) {
		t_fail(__FILE__, __LINE__, "more connections than store_of() keeps");
		exit(2);
	}
	stores[i].db = db;
	stores[i].path = path;
	return &stores[i];
}

/* Close a connection of store_of(): the statements the reader and writer
 * left in its cache (store_cached()) first, as store_close() does. */
static void close_db(sqlite3 *db)
{
	struct store *st = store_of(db);
	for (int i = 0; i < st->n_stmt_cache; i++)
		sqlite3_finalize(st->stmt_cache[i].s);
	st->n_stmt_cache = 0;
	sqlite3_close(db);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
		sqlite3_free(msg);
	}
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -12345;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		t_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

static int64_t new_job(sqlite3 *db)
{
	static int n;
	char sql[200];
	n++;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO jobs (run_id, provider_id, name, ordinal) VALUES (1, %d, 'job %d', %d)",
		 n, n, n);
	exec(db, sql);
	return sqlite3_last_insert_rowid(db);
}

/* Store data in pieces of `piece` bytes (0 = one write); returns the log id. */
static int64_t store_cb(sqlite3 *db, const void *data, size_t n, size_t piece, split_cb cb,
			void *ctx)
{
	struct cs_err err;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, cb, ctx, &err);
	CHECK(w != NULL);
	if (!w) {
		t_fail(__FILE__, __LINE__, "logw_begin: %s", err.msg);
		exec(db, "ROLLBACK");
		return -1;
	}
	const char *p = data;
	if (!piece)
		piece = n ? n : 1;
	for (size_t at = 0; at < n; at += piece)
		CHECK_OK(logw_write(w, p + at, MIN(piece, n - at), &err));
	int64_t id = logw_finish(w, &err);
	if (id < 0)
		t_fail(__FILE__, __LINE__, "logw_finish: %s", err.msg);
	logw_free(w);
	exec(db, "COMMIT");
	return id;
}

static int64_t store(sqlite3 *db, const void *data, size_t n, size_t piece)
{
	return store_cb(db, data, n, piece, NULL, NULL);
}

/* --- the reference ------------------------------------------------------------- */
struct nline {
	size_t off, len, tl;
};

/* Line spans by the rules (LF, CRLF, lone CR; last line may be unterminated),
 * written independently of the splitter. */
static struct nline *naive_lines(const char *s, size_t n, size_t *count)
{
	struct nline *v = NULL;
	size_t alloc = 0, k = 0, start = 0;
	for (size_t i = 0; i < n; i++) {
		size_t tl = 0;
		if (s[i] == '\n')
			tl = 1;
		else if (s[i] == '\r')
			tl = (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
		if (!tl)
			continue;
		XGROW(v, alloc, k + 1);
		v[k++] = (struct nline){start, i - start, tl};
		i += tl - 1;
		start = i + 1;
	}
	if (start < n) {
		XGROW(v, alloc, k + 1);
		v[k++] = (struct nline){start, n - start, 0};
	}
	*count = k;
	return v;
}

static char *capture(struct logr *r, uint64_t first, uint64_t last, bool all, size_t *len,
		     int *rc)
{
	struct cs_err err;
	char *mem = NULL;
	FILE *f = open_memstream(&mem, len);
	*rc = all ? logr_write_all(r, f, &err) : logr_write_lines(r, first, last, f, &err);
	if (*rc < 0)
		t_fail(__FILE__, __LINE__, "write: %s", err.msg);
	fclose(f);
	return mem;
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static int check_line(struct logr *r, const char *s, const struct nline *nl, uint64_t n,
		      size_t max, struct buf *b)
{
	struct cs_err err;
	bool trunc = true;
	uint64_t off = 99, len = 99;
	const struct nline *x = &nl[n - 1];
	if (logr_line(r, n, max, b, &trunc, &err) < 0) {
		t_fail(__FILE__, __LINE__, "line %llu: %s", (unsigned long long)n, err.msg);
		return 0;
	}
	size_t want = max && x->len > max ? max : x->len;
	if (b->len != want || memcmp(b->data ? b->data : "", s + x->off, want) != 0 ||
	    trunc != (want < x->len)) {
		t_fail(__FILE__, __LINE__, "line %llu: got %zu bytes, want %zu (max %zu)",
		       (unsigned long long)n, b->len, want, max);
		return 0;
	}
	if (logr_line_span(r, n, &off, &len, &err) < 0 || off != x->off || len != x->len) {
		t_fail(__FILE__, __LINE__, "span of line %llu: %llu+%llu, want %zu+%zu",
		       (unsigned long long)n, (unsigned long long)off, (unsigned long long)len,
		       x->off, x->len);
		return 0;
	}
	return 1;
}

/* --- lines chunk by chunk, and their trigram filters ------------------------------- */
struct chunk_chk {
	const char *s;
	const struct nline *nl;
	size_t count;
	uint64_t next;     /* the line expected next */
	int64_t seq;       /* the chunk iterated, -1 when any */
	unsigned char **blob;
	size_t *blob_len;
	uint64_t n_blobs;
	struct buf text;
	bool bad;
	uint64_t grams;    /* trigrams found in their filter */
};

/* The searchable text by its definition (logparse.h), not by logstore's
 * own fast version of it. */
static void ref_search_text(const char *head, size_t n, struct buf *out)
{
	struct logline l;
	logline_parse(head, n, &l);
	buf_reset(out);
	ansi_strip(l.text, l.text_len, out);
}

static void chunk_fail(struct chunk_chk *c, const char *what, uint64_t lineno)
{
	if (!c->bad)
		t_fail(__FILE__, __LINE__, "chunk lines: line %llu: %s", (unsigned long long)lineno,
		       what);
	c->bad = true;
}

static int chunk_cb(void *ctx, const struct split_line *l)
{
	struct chunk_chk *c = ctx;
	if (l->lineno != c->next || l->lineno < 1 || l->lineno > c->count) {
		chunk_fail(c, "out of order", l->lineno);
		return 1;
	}
	const struct nline *x = &c->nl[l->lineno - 1];
	enum line_term want = x->tl == 0 ? TERM_NONE : x->tl == 2 ? TERM_CRLF
				: c->s[x->off + x->len] == '\n' ? TERM_LF : TERM_CR;
	size_t head = MIN(x->len, (size_t)SPLIT_HEAD_MAX);
	if (l->off != x->off || l->len != x->len || l->term != want || l->head_len != head ||
	    memcmp(l->head, c->s + x->off, head) != 0)
		chunk_fail(c, "differs from the reference", l->lineno);
	uint64_t seq = l->off / C;
	if (c->seq >= 0 && seq != (uint64_t)c->seq)
		chunk_fail(c, "starts in another chunk", l->lineno);
	/* the filter of its chunk holds every trigram of its searchable text */
	ref_search_text(c->s + x->off, head, &c->text);
	if (seq >= c->n_blobs || !c->blob[seq]) {
		chunk_fail(c, "its chunk has no filter", l->lineno);
	} else {
		for (size_t i = 0; i + 3 <= c->text.len; i++) {
			struct log_grams q = {0};
			log_grams_add(&q, c->text.data + i, 3);
			if (!log_grams_admit(c->blob[seq], c->blob_len[seq], &q)) {
				chunk_fail(c, "a trigram is missing from its chunk's filter", l->lineno);
				break;
			}
			c->grams++;
		}
	}
	c->next++;
	return 0;
}

static void load_filters(sqlite3 *db, int64_t id, struct chunk_chk *c, uint64_t n_chunks)
{
	sqlite3_stmt *st;
	c->n_blobs = n_chunks;
	c->blob = xcalloc(n_chunks + 1, sizeof(*c->blob));
	c->blob_len = xcalloc(n_chunks + 1, sizeof(*c->blob_len));
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT seq, bits FROM log_chunk_grams WHERE log_id = ?1",
				     -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (seq < 0 || (uint64_t)seq >= n_chunks || c->blob[seq]) {
			t_fail(__FILE__, __LINE__, "filter row for chunk %lld", (long long)seq);
			continue;
		}
		c->blob[seq] = xmalloc(len + 1);
		memcpy(c->blob[seq], sqlite3_column_blob(st, 1), len);
		c->blob_len[seq] = len;
	}
	sqlite3_finalize(st);
}

static void free_filters(struct chunk_chk *c)
{
	for (uint64_t i = 0; i < c->n_blobs; i++)
		free(c->blob[i]);
	free(c->blob);
	free(c->blob_len);
	buf_release(&c->text);
}

struct skip_chk {
	const struct nline *nl;
	size_t count;
	uint64_t skip_to, lo, hi; /* lines lo..hi start in the chunk */
	uint64_t next;            /* the line expected next */
	bool bad;
};

/* The next line a skip to s->skip_to leaves: the first at or after line
 * from whose bytes (terminator included) reach past skip_to, else the
 * chunk's last. */
static uint64_t skip_expect(const struct skip_chk *s, uint64_t from)
{
	uint64_t k = from;
	while (k < s->hi) {
		const struct nline *x = &s->nl[k - 1];
		if (x->off + x->len + x->tl > s->skip_to)
			break;
		k++;
	}
	return k;
}

static int skip_cb(void *ctx, const struct split_line *l)
{
	struct skip_chk *s = ctx;
	if (l->lineno != s->next && !s->bad) {
		t_fail(__FILE__, __LINE__, "skip to %llu: line %llu called, expected %llu",
		       (unsigned long long)s->skip_to, (unsigned long long)l->lineno,
		       (unsigned long long)s->next);
		s->bad = true;
	}
	/* the callback moves the skip on: past the line after next */
	if (l->lineno + 2 <= s->hi && l->lineno % 3 == 0)
		s->skip_to = s->nl[l->lineno + 1].off;
	s->next = l->lineno < s->hi ? skip_expect(s, l->lineno + 1) : s->hi + 1;
	return 0;
}

/* logr_chunk_lines_from() calls the lines logr_chunk_lines() does, less
 * those wholly before the skip offset (the chunk's last always), with the
 * offset moved on by the callback. */
static void verify_skips(struct logr *r, const struct nline *nl, size_t count, uint64_t n_chunks)
{
	struct cs_err err;
	for (uint64_t seq = 0; seq < n_chunks; seq++) {
		uint64_t lo = 0, hi = 0;
		for (size_t i = 0; i < count; i++)
			if (nl[i].off / C == seq) {
				if (!lo)
					lo = i + 1;
				hi = i + 1;
			}
		if (!lo)
			continue;
		const uint64_t tos[] = {0, seq * C, nl[lo - 1].off + 1, nl[(lo + hi) / 2 - 1].off,
					nl[(lo + hi) / 2 - 1].off + nl[(lo + hi) / 2 - 1].len,
					nl[hi - 1].off, seq * C + C - 1, UINT64_MAX};
		for (size_t t = 0; t < ARRAY_SIZE(tos); t++) {
			struct skip_chk s = {.nl = nl, .count = count, .skip_to = tos[t], .lo = lo,
					     .hi = hi};
			s.next = skip_expect(&s, lo);
			CHECK_INT(logr_chunk_lines_from(r, seq, &s.skip_to, skip_cb, &s, &err), 0);
			if (s.next != hi + 1 && !s.bad)
				t_fail(__FILE__, __LINE__, "chunk %llu, skip to %llu: ended before line %llu",
				       (unsigned long long)seq, (unsigned long long)tos[t],
				       (unsigned long long)s.next);
		}
	}
}

/* Every chunk has a filter; logr_chunk_lines() over the chunks in turn, and
 * logr_scan_grams() without a query, give every line as the reference has
 * it, each in the chunk it starts in and found in that chunk's filter. */
static void verify_chunks(sqlite3 *db, struct logr *r, int64_t id, const char *s, size_t n,
			  const struct nline *nl, size_t count)
{
	struct cs_err err;
	uint64_t n_chunks = logr_chunk_count(r);
	CHECK_INT(n_chunks, (n + C - 1) / C);
	struct chunk_chk c = {.s = s, .nl = nl, .count = count, .next = 1};
	load_filters(db, id, &c, n_chunks);
	for (uint64_t seq = 0; seq < n_chunks && !c.bad; seq++) {
		c.seq = (int64_t)seq;
		CHECK_INT(logr_chunk_lines(r, seq, chunk_cb, &c, &err), 0);
	}
	CHECK_INT(c.next, count + 1);
	c.next = 1;
	c.seq = -1;
	CHECK_INT(logr_scan_grams(r, NULL, chunk_cb, &c, &err), 0);
	CHECK_INT(c.next, count + 1);
	CHECK(logr_chunk_lines(r, n_chunks, chunk_cb, &c, &err) < 0);
	CHECK_INT(err.code, CS_EINVAL);
	free_filters(&c);
	verify_skips(r, nl, count, n_chunks);
}

/* Everything a reader can say about s, checked against the reference. */
static void verify(sqlite3 *db, int64_t id, const char *s, size_t n, bool every_line)
{
	struct cs_err err;
	size_t count;
	struct nline *nl = naive_lines(s, n, &count);
	struct logr *r = logr_open(store_of(db), id, &err);
	CHECK(r != NULL);
	if (!r) {
		t_fail(__FILE__, __LINE__, "logr_open: %s", err.msg);
		free(nl);
		return;
	}
	CHECK_INT(logr_line_count(r), count);
	CHECK_INT(logr_raw_size(r), n);
	verify_chunks(db, r, id, s, n, nl, count);
	size_t got_n;
	int rc;
	char *got = capture(r, 0, 0, true, &got_n, &rc);
	CHECK_INT(got_n, n);
	CHECK(got_n == n && memcmp(got, s, n) == 0);
	free(got);
	if (count) {
		got = capture(r, 1, count, false, &got_n, &rc);
		CHECK(got_n == n && memcmp(got, s, n) == 0);
		free(got);
	}
	struct buf b = BUF_INIT;
	if (every_line) {
		for (uint64_t i = 1; i <= count; i++)
			if (!check_line(r, s, nl, i, 0, &b))
				break;
		/* backwards too: a different cache pattern */
		for (uint64_t i = count; i >= 1; i--)
			if (!check_line(r, s, nl, i, 3, &b))
				break;
	}
	CHECK(logr_line(r, count + 1, 0, &b, NULL, &err) < 0);
	CHECK(logr_line(r, 0, 0, &b, NULL, &err) < 0);
	CHECK_INT(err.code, CS_EINVAL);
	buf_release(&b);
	logr_close(r);
	free(nl);
}

static void roundtrip(sqlite3 *db, const char *s, size_t n)
{
	static const size_t pieces[] = {0, 1, 2, 3, 1000};
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		int64_t id = store(db, s, n, pieces[i]);
		if (id < 0)
			return;
		verify(db, id, s, n, true);
	}
}

#define RT(db, lit) roundtrip(db, lit, sizeof(lit) - 1)

static int noop_cb(void *ctx, const struct split_line *l)
{
	return 0;
}

/* --- small logs ----------------------------------------------------------------- */
TEST(roundtrip_small)
{
	sqlite3 *db = open_db();
	RT(db, "");
	RT(db, "a");
	RT(db, "a\n");
	RT(db, "\n");
	RT(db, "\n\n\n");
	RT(db, "\r");
	RT(db, "\r\r\n\r");
	RT(db, "one\r\ntwo\r\nthree\r\n");
	RT(db, "progress 1%\rprogress 50%\rprogress 100%\ndone");
	RT(db, "no newline at the end");
	RT(db, "mixed\nends\r\nhere\rand\n\rthere\r\n\n");
	RT(db, "\xEF\xBB\xBF" "2024-05-01T10:48:36.8101331Z start\n");
	RT(db, "line 1\n\xEF\xBB\xBF" "2024-05-01T10:48:36.8101331Z \n\xEF\xBB\xBFmid\xEF\xBB\xBF\n");
	RT(db, "nul\0inside\n\0\n\0");
	RT(db, "bad utf-8 \xff\xfe\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\n\xc3");
	RT(db, "\x1b[36;1mcolour\x1b[0m\n\x1b]0;title\x07\r\n\x1b");
	close_db(db);
}

TEST(empty_log)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	int64_t id = store(db, "", 0, 0);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT raw_size + line_count + chunk_count FROM logs WHERE id=%lld",
		 (long long)id);
	CHECK_INT(query_int(db, sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM log_chunks WHERE log_id=%lld", (long long)id);
	CHECK_INT(query_int(db, sql), 0);
	struct logr *r = logr_open(store_of(db), id, &err);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(logr_line_count(r), 0);
		struct buf b = BUF_INIT;
		CHECK(logr_line(r, 1, 0, &b, NULL, &err) < 0);
		CHECK(strstr(err.msg, "out of range") != NULL);
		CHECK_OK(logr_read(r, 0, 0, &b, &err));
		CHECK(logr_read(r, 0, 1, &b, &err) < 0);
		size_t n;
		int rc;
		char *got = capture(r, 1, 0, false, &n, &rc);
		CHECK_INT(rc, 0);
		CHECK_INT(n, 0);
		free(got);
		CHECK_INT(logr_scan(r, 1, 0, noop_cb, NULL, &err), 0);
		CHECK(logr_scan(r, 1, 1, noop_cb, NULL, &err) < 0);
		buf_release(&b);
		logr_close(r);
	}
	close_db(db);
}

/* --- line callback ---------------------------------------------------------------- */
struct cb_rec {
	uint64_t n, off_sum, len_sum, stop_at;
	uint64_t last_lineno;
	bool bad;
	struct cs_err *err;
};

static int rec_line(void *ctx, const struct split_line *l)
{
	struct cb_rec *c = ctx;
	c->n++;
	if (l->lineno != c->last_lineno + 1)
		c->bad = true;
	c->last_lineno = l->lineno;
	c->off_sum += l->off;
	c->len_sum += l->len;
	if (c->stop_at && l->lineno == c->stop_at) {
		if (c->err)
			err_set(c->err, CS_EINVAL, "handler says no at line %llu",
				(unsigned long long)l->lineno);
		return 5;
	}
	return 0;
}

TEST(writer_forwards_lines)
{
	sqlite3 *db = open_db();
	static const char s[] = "a\r\nbb\rccc\n\ndddd";
	struct cb_rec c = {0};
	int64_t id = store_cb(db, s, sizeof(s) - 1, 1, rec_line, &c);
	CHECK(id > 0);
	CHECK_INT(c.n, 5);
	CHECK(!c.bad);
	CHECK_INT(c.off_sum, 0 + 3 + 6 + 10 + 11);
	CHECK_INT(c.len_sum, 1 + 2 + 3 + 0 + 4);

	/* a handler that stops the import */
	struct cs_err err;
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, rec_line, &c, &err);
	CHECK(w != NULL);
	CHECK(logw_write(w, s, sizeof(s) - 1, &err) < 0);
	CHECK_INT(err.code, CS_EINTR);
	CHECK(strstr(err.msg, "line 2") != NULL);
	CHECK(logw_write(w, "x", 1, &err) < 0); /* stays failed */
	CHECK(logw_finish(w, &err) < 0);
	logw_free(w);
	exec(db, "ROLLBACK");

	/* the handler's own message survives when it shares err */
	memset(&c, 0, sizeof(c));
	c.stop_at = 5;
	c.err = &err;
	job = new_job(db);
	exec(db, "BEGIN");
	w = logw_begin(store_of(db), job, rec_line, &c, &err);
	CHECK_OK(logw_write(w, s, sizeof(s) - 1, &err));
	CHECK(logw_finish(w, &err) < 0); /* the last line completes at finish */
	CHECK_STR(err.msg, "handler says no at line 5");
	logw_free(w);
	exec(db, "ROLLBACK");
	close_db(db);
}

TEST(writer_errors)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	/* no such job: the foreign key refuses the logs row */
	struct logw *w = logw_begin(store_of(db), 999999, NULL, NULL, &err);
	CHECK(w == NULL);
	CHECK_INT(err.code, CS_EDB);
	CHECK(strstr(err.msg, "job 999999") != NULL);
	/* a second log for the same job */
	int64_t job = new_job(db);
	w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w != NULL);
	CHECK(logw_finish(w, &err) > 0);
	CHECK(logw_finish(w, &err) < 0);
	logw_free(w);
	w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w == NULL);
	CHECK(strstr(err.msg, "UNIQUE") != NULL);
	logw_free(NULL);
	/* chunk inserts failing mid-log (table gone): a clean error */
	job = new_job(db);
	w = logw_begin(store_of(db), job, NULL, NULL, &err);
	exec(db, "CREATE TRIGGER no_chunks BEFORE INSERT ON log_chunks BEGIN "
		 "SELECT RAISE(ABORT, 'disk full, say'); END");
	char *big = xcalloc(1, C + 10);
	CHECK(logw_write(w, big, C + 10, &err) < 0);
	CHECK(strstr(err.msg, "chunk 0") != NULL);
	CHECK(strstr(err.msg, "disk full, say") != NULL);
	free(big);
	logw_free(w);
	close_db(db);
}

/* A full disk while a log's chunks are stored: SQLite's own SQLITE_FULL
 * (PRAGMA max_page_count stands for the disk's end), and the message gets
 * the same hint as every other store error. */
TEST(writer_disk_full_hint)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	int64_t job = new_job(db);
	int64_t pages = query_int(db, "PRAGMA page_count");
	char sql[80];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld", (long long)pages + 8);
	exec(db, sql);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w != NULL);
	/* incompressible bytes: a few chunks cannot fit in 8 pages */
	size_t n = 4 * (size_t)C;
	unsigned char *noise = xmalloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (unsigned char)x;
	}
	int rc = 0;
	for (size_t at = 0; w && rc == 0 && at < n; at += 65536)
		rc = logw_write(w, noise + at, MIN((size_t)65536, n - at), &err);
	if (w && rc == 0)
		rc = logw_finish(w, &err) < 0 ? -1 : 0;
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, CS_EDB);
	CHECK(strstr(err.msg, "cannot store the log of job") != NULL);
	CHECK(strstr(err.msg, "(the disk is full)") != NULL);
	logw_free(w);
	/* SQLITE_FULL may have rolled the transaction back already */
	if (!sqlite3_get_autocommit(db))
		exec(db, "ROLLBACK");
	free(noise);
	close_db(db);
}

/* --- chunk boundaries ---------------------------------------------------------------- */
static void chunk_row(sqlite3 *db, int64_t id, int seq, int64_t first_line, int64_t n_lines)
{
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT first_line * 1000000 + n_lines FROM log_chunks WHERE log_id=%lld AND seq=%d",
		 (long long)id, seq);
	int64_t v = query_int(db, sql);
	if (v != first_line * 1000000 + n_lines)
		t_fail(__FILE__, __LINE__, "log %lld chunk %d: first_line/n_lines %lld/%lld, want %lld/%lld",
		       (long long)id, seq, (long long)(v / 1000000), (long long)(v % 1000000),
		       (long long)first_line, (long long)n_lines);
}

static char *filled(size_t n, const char *tail, size_t *len)
{
	size_t tl = strlen(tail);
	char *s = xmalloc(n + tl + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 23);
	memcpy(s + n, tail, tl + 1);
	*len = n + tl;
	return s;
}

TEST(chunk_boundaries)
{
	sqlite3 *db = open_db();
	static const size_t pieces[] = {0, 1, 1024, C - 1, C + 1};
	static const struct {
		size_t fill;
		const char *tail;
		int64_t rows[3][2]; /* first_line, n_lines per chunk */
		int nrows;
	} cases[] = {
		{C - 1, "\r\nnext\n", {{1, 1}, {2, 1}}, 2},     /* CRLF cut by the chunk end */
		{C - 1, "\ry\n", {{1, 1}, {2, 1}}, 2},          /* bare CR last in a chunk */
		{C - 1, "\nz", {{1, 1}, {2, 1}}, 2},            /* line 2 starts a chunk */
		{C - 1, "\r", {{1, 1}}, 1},                     /* exactly one chunk, CR last */
		{C - 1, "\n", {{1, 1}}, 1},
		{C - 2, "\r\n", {{1, 1}}, 1},
		{C - 2, "\r\n\n", {{1, 1}, {2, 1}}, 2},         /* an empty line alone in chunk 1 */
		{2 * C + 20, "\nb", {{1, 1}, {2, 0}, {2, 1}}, 3}, /* no line starts in chunk 1 */
		{C, "", {{1, 1}}, 1},
	};
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		size_t n;
		char *s = filled(cases[k].fill, cases[k].tail, &n);
		for (size_t p = 0; p < ARRAY_SIZE(pieces); p++) {
			int64_t id = store(db, s, n, pieces[p]);
			char sql[128];
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM log_chunks WHERE log_id=%lld",
				 (long long)id);
			CHECK_INT(query_int(db, sql), cases[k].nrows);
			for (int c = 0; c < cases[k].nrows; c++)
				chunk_row(db, id, c, cases[k].rows[c][0], cases[k].rows[c][1]);
			verify(db, id, s, n, true);
		}
		free(s);
	}
	close_db(db);
}

TEST(line_spanning_chunks)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	/* short, then a line from C-10 to 2C+10, then short lines */
	size_t n;
	char *s = filled(3 * C, "", &n);
	memcpy(s, "first\r\n", 7);
	s[C - 11] = '\n';
	s[2 * C + 10] = '\n';
	s[2 * C + 20] = '\r';
	int64_t id = store(db, s, n, 4096);
	chunk_row(db, id, 1, 4, 0);
	struct logr *r = logr_open(store_of(db), id, &err);
	/* cold cache, straight to the line after the long one */
	struct buf b = BUF_INIT;
	uint64_t off, len;
	CHECK_OK(logr_line_span(r, 4, &off, &len, &err));
	CHECK_INT(off, 2 * C + 11);
	CHECK_INT(len, 9);
	CHECK_OK(logr_line_span(r, 3, &off, &len, &err));
	CHECK_INT(off, C - 10);
	CHECK_INT(len, C + 20);
	bool trunc;
	CHECK_OK(logr_line(r, 3, 0, &b, &trunc, &err));
	CHECK(!trunc && b.len == C + 20 && memcmp(b.data, s + C - 10, b.len) == 0);
	CHECK_OK(logr_line(r, 3, 20, &b, &trunc, &err));
	CHECK(trunc && b.len == 20 && memcmp(b.data, s + C - 10, 20) == 0);
	/* exactly at the length: not truncated */
	CHECK_OK(logr_line(r, 3, C + 20, &b, &trunc, &err));
	CHECK(!trunc && b.len == C + 20);
	buf_release(&b);
	logr_close(r);
	verify(db, id, s, n, true);
	free(s);
	close_db(db);
}

TEST(ten_mb_line)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	size_t big = 10u << 20, n = 6 + big + 1 + 4;
	char *s = xmalloc(n);
	memcpy(s, "hello\n", 6);
	for (size_t i = 0; i < big; i++)
		s[6 + i] = (char)(' ' + (i * 7 + i / 4099) % 90);
	memcpy(s + 6 + big, "\ntail", 5);
	struct cb_rec c = {0};
	int64_t id = store_cb(db, s, n, 65536, rec_line, &c);
	CHECK_INT(c.n, 3);
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM log_chunks WHERE log_id=%lld AND n_lines=0 AND first_line=3",
		 (long long)id);
	CHECK(query_int(db, sql) >= 38);
	struct logr *r = logr_open(store_of(db), id, &err);
	struct buf b = BUF_INIT;
	bool trunc = true;
	CHECK_OK(logr_line(r, 3, 0, &b, &trunc, &err));
	CHECK(b.len == 4 && memcmp(b.data, "tail", 4) == 0 && !trunc);
	CHECK_OK(logr_line(r, 2, 0, &b, &trunc, &err));
	CHECK_INT(b.len, big);
	CHECK(!trunc && b.len == big && memcmp(b.data, s + 6, big) == 0);
	CHECK_OK(logr_line(r, 2, 4096, &b, &trunc, &err));
	CHECK(trunc && b.len == 4096 && memcmp(b.data, s + 6, 4096) == 0);
	CHECK_OK(logr_line(r, 1, 0, &b, &trunc, &err));
	CHECK(b.len == 5 && memcmp(b.data, "hello", 5) == 0);
	buf_release(&b);
	logr_close(r);
	verify(db, id, s, n, false);
	free(s);
	close_db(db);
}

/* --- a generated log, random lookups ---------------------------------------------------- */
static char *gen_log(size_t target, size_t *len)
{
	struct buf b = BUF_INIT;
	static const char *const terms[] = {"\n", "\n", "\n", "\n", "\n", "\n", "\n", "\r\n", "\r\n", "\r"};
	while (b.len < target) {
		uint32_t k = rnd() % 1000;
		size_t l = k < 850 ? rnd() % 120 : k < 980 ? 120 + rnd() % 3000 : k < 998 ? 3000 + rnd() % 40000
											      : 200000 + rnd() % 500000;
		if (rnd() % 3 == 0)
			buf_adds(&b, "2024-05-01T10:48:36.8101331Z ");
		if (rnd() % 50 == 0)
			buf_adds(&b, "\xEF\xBB\xBF");
		buf_reserve(&b, l);
		for (size_t i = 0; i < l; i++) {
			char ch = (char)(rnd() % 4 ? 'a' + rnd() % 26 : rnd());
			if (ch == '\n' || ch == '\r')
				ch = '\0';
			b.data[b.len + i] = ch;
		}
		b.len += l;
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	if (rnd() % 2)
		buf_adds(&b, "unterminated last line");
	return buf_detach(&b, len);
}

struct scan_chk {
	const char *s;
	const struct nline *nl;
	uint64_t next, stop_at;
	bool bad;
};

static int scan_cb(void *ctx, const struct split_line *l)
{
	struct scan_chk *c = ctx;
	const struct nline *x = &c->nl[l->lineno - 1];
	if (l->lineno != c->next || l->off != x->off || l->len != x->len ||
	    l->head_len != MIN(x->len, (size_t)SPLIT_HEAD_MAX) ||
	    memcmp(l->head, c->s + x->off, l->head_len) != 0 ||
	    (l->term == TERM_NONE) != (x->tl == 0) || (l->term == TERM_CRLF) != (x->tl == 2)) {
		if (!c->bad)
			t_fail(__FILE__, __LINE__, "scan: line %llu differs",
			       (unsigned long long)l->lineno);
		c->bad = true;
	}
	c->next++;
	return c->stop_at && l->lineno == c->stop_at ? 9 : 0;
}

TEST(random_lookups)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	size_t n, count;
	char *s = gen_log(7u << 20, &n);
	struct nline *nl = naive_lines(s, n, &count);
	/* random piece sizes */
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	for (size_t at = 0; at < n;) {
		size_t want = rnd() % 3 ? rnd() % 5000 : rnd() % 700000; /* MIN evaluates twice */
		size_t piece = MIN(n - at, want);
		CHECK_OK(logw_write(w, s + at, piece, &err));
		at += piece;
	}
	int64_t id = logw_finish(w, &err);
	logw_free(w);
	exec(db, "COMMIT");

	struct logr *r = logr_open(store_of(db), id, &err);
	CHECK_INT(logr_line_count(r), count);
	struct buf b = BUF_INIT;
	for (int i = 0; i < 4000 && count; i++) {
		uint64_t k = 1 + rnd() % count;
		size_t max = rnd() % 4 == 0 ? rnd() % 300 : 0;
		if (!check_line(r, s, nl, k, max, &b))
			break;
	}
	/* neighbours: the scrolling pattern */
	for (uint64_t k = count / 2; k < count && k < count / 2 + 3000; k++)
		if (!check_line(r, s, nl, k, 200, &b))
			break;
	/* raw ranges */
	for (int i = 0; i < 300; i++) {
		uint64_t off = rnd() % n;
		size_t len = rnd() % 600000;
		len = MIN(len, n - off);
		buf_reset(&b);
		CHECK_OK(logr_read(r, off, len, &b, &err));
		if (b.len != len || memcmp(b.data ? b.data : "", s + off, len) != 0) {
			t_fail(__FILE__, __LINE__, "logr_read %llu+%zu differs", (unsigned long long)off, len);
			break;
		}
	}
	CHECK(logr_read(r, n - 1, 2, &b, &err) < 0);
	CHECK(logr_read(r, UINT64_MAX, 2, &b, &err) < 0);
	/* line ranges, written and scanned */
	for (int i = 0; i < 60; i++) {
		uint64_t a = 1 + rnd() % count, z = a + rnd() % (i < 50 ? 40 : count);
		if (z > count)
			z = count;
		size_t got_n;
		int rc;
		char *got = capture(r, a, z, false, &got_n, &rc);
		size_t want_off = nl[a - 1].off, want_end = nl[z - 1].off + nl[z - 1].len + nl[z - 1].tl;
		if (got_n != want_end - want_off || memcmp(got, s + want_off, got_n) != 0)
			t_fail(__FILE__, __LINE__, "write_lines %llu..%llu differs",
			       (unsigned long long)a, (unsigned long long)z);
		free(got);
		struct scan_chk sc = {s, nl, a, 0, false};
		CHECK_INT(logr_scan(r, a, z, scan_cb, &sc, &err), 0);
		CHECK_INT(sc.next, z + 1);
	}
	struct scan_chk sc = {s, nl, 1, 0, false};
	CHECK_INT(logr_scan(r, 1, count, scan_cb, &sc, &err), 0);
	CHECK_INT(sc.next, count + 1);
	/* the callback stops a scan */
	sc = (struct scan_chk){s, nl, 10, 20, false};
	CHECK_INT(logr_scan(r, 10, count, scan_cb, &sc, &err), 9);
	CHECK_INT(sc.next, 21);
	/* bad ranges */
	CHECK(logr_scan(r, 0, 3, scan_cb, &sc, &err) < 0);
	CHECK(logr_scan(r, 5, 3, scan_cb, &sc, &err) < 0);
	CHECK(logr_scan(r, 1, count + 1, scan_cb, &sc, &err) < 0);
	size_t got_n;
	int rc;
	free(capture(r, 1, 1, false, &got_n, &rc));
	FILE *f = fopen("/dev/null", "w");
	CHECK(logr_write_lines(r, 3, 1, f, &err) < 0);
	CHECK(logr_write_lines(r, 1, count + 1, f, &err) < 0);
	fclose(f);
	buf_release(&b);
	logr_close(r);
	verify(db, id, s, n, false);
	free(nl);
	free(s);
	close_db(db);
}

/* --- text-like logs: filters and chunk iteration ------------------------------------- */
/* Lines of words in every case, split by escape sequences (SGR, OSC with BEL
 * or ST, broken ones), BOMs, valid and invalid timestamps, all three line
 * ends, lines long enough to run over one or several chunks. */
static char *gen_text_log(size_t target, size_t *len)
{
	static const char *const words[] = {"error", "Error", "ERROR", "warning", "SIGSEGV",
					    "worker", "Q7X9Z", "test", "ok", "caf\xc3\xa9", "kelvin",
					    "##[group]Run", "exit code", "\xef\xbb\xbf", "a", "zz"};
	static const char *const escs[] = {"\x1b[0m", "\x1b[36;1m", "\x1b]8;;http://x\x07",
					   "\x1b]0;t\x1b\\", "\x1b(B", "\x1b", "\x1b[", "\x1b[3"};
	static const char *const stamps[] = {
		"2024-05-01T10:48:36.8101331Z ", "2024-02-29T23:59:59.9999999Z ",
		"2023-02-29T10:48:36.8101331Z ", /* not a leap year: text */
		"1969-12-31T23:59:59.0000000Z ", "2024-13-01T10:48:36.8101331Z ",
		"2024-05-01T10:48:36.81O1331Z ", "2024-05-01T10:48:36.8101331Z"};
	static const char *const terms[] = {"\n", "\n", "\n", "\r\n", "\r"};
	struct buf b = BUF_INIT;
	while (b.len < target) {
		uint32_t k = rnd() % 1000;
		size_t words_n = k < 900 ? rnd() % 12 : k < 990 ? 200 + rnd() % 2000 : 20000 + rnd() % 60000;
		/* (each rnd() above is called once: no MIN() around them) */
		if (rnd() % 20 == 0)
			buf_adds(&b, "\xef\xbb\xbf");
		if (rnd() % 3)
			buf_adds(&b, stamps[rnd() % 4 ? 0 : rnd() % ARRAY_SIZE(stamps)]);
		if (rnd() % 20 == 0)
			buf_adds(&b, "\xef\xbb\xbf");
		for (size_t i = 0; i < words_n; i++) {
			const char *w = words[rnd() % ARRAY_SIZE(words)];
			t_add_word(&b, w, escs, ARRAY_SIZE(escs), rnd);
		}
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	return buf_detach(&b, len);
}

struct evict_chk {
	struct chunk_chk c;
	struct logr *r;
	struct buf b;
};

/* Reads a far line between lines: the reader's chunk cache turns over. */
static int evict_cb(void *ctx, const struct split_line *l)
{
	struct evict_chk *e = ctx;
	int rc = chunk_cb(&e->c, l);
	if (rc == 0 && l->lineno % 97 == 0) {
		struct cs_err err;
		for (int i = 0; i < 6; i++)
			if (logr_line(e->r, 1 + rnd() % e->c.count, 0, &e->b, NULL, &err) < 0)
				chunk_fail(&e->c, err.msg, l->lineno);
	}
	return rc;
}

struct count_cb {
	uint64_t lines, want, found;
};

static int count_line(void *ctx, const struct split_line *l)
{
	struct count_cb *c = ctx;
	c->lines++;
	c->found += l->lineno == c->want;
	return 0;
}

TEST(text_logs_filters)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	for (int round = 0; round < 3; round++) {
		size_t n, count;
		char *s = gen_text_log(round == 0 ? 3u << 20 : (1u << 20) + rnd() % (1u << 20), &n);
		struct nline *nl = naive_lines(s, n, &count);
		int64_t id = store(db, s, n, round == 0 ? 0 : 1 + rnd() % 5000);
		verify(db, id, s, n, round == 2);
		struct logr *r = logr_open(store_of(db), id, &err);
		CHECK(r != NULL);
		if (!r)
			break;
		/* lines read out of order under the iteration */
		struct evict_chk e = {.c = {.s = s, .nl = nl, .count = count, .next = 1, .seq = -1},
				      .r = r};
		load_filters(db, id, &e.c, logr_chunk_count(r));
		CHECK_INT(logr_scan_grams(r, NULL, evict_cb, &e, &err), 0);
		CHECK_INT(e.c.next, count + 1);
		CHECK(e.c.grams > 0);
		free_filters(&e.c);
		buf_release(&e.b);
		/* a query from a line's own text reaches that line, and one of
		 * trigrams no line has reads few chunks */
		for (int i = 0; i < 40; i++) {
			uint64_t k = 1 + rnd() % count;
			struct buf t = BUF_INIT;
			ref_search_text(s + nl[k - 1].off, MIN(nl[k - 1].len, (size_t)SPLIT_HEAD_MAX), &t);
			if (t.len < 3) {
				buf_release(&t);
				continue;
			}
			size_t at = rnd() % (t.len - 2), qn = 3 + rnd() % 30;
			qn = MIN(qn, t.len - at);
			struct log_grams q = {0};
			log_grams_add(&q, t.data + at, qn);
			struct count_cb cc = {.want = k};
			CHECK_INT(logr_scan_grams(r, &q, count_line, &cc, &err), 0);
			if (cc.found != 1)
				t_fail(__FILE__, __LINE__, "line %llu not reached by '%.*s' (%zu trigrams)",
				       (unsigned long long)k, (int)qn, t.data + at, q.n);
			buf_release(&t);
		}
		uint64_t read0, skipped0, read1, skipped1;
		logr_grams_stats(r, &read0, &skipped0);
		struct log_grams none = {0};
		log_grams_add(&none, "#%&/#%&(#%&)", 12);
		struct count_cb cc = {0};
		CHECK_INT(logr_scan_grams(r, &none, count_line, &cc, &err), 0);
		logr_grams_stats(r, &read1, &skipped1);
		CHECK_INT(cc.lines, 0);
		CHECK_INT(read1 - read0, 0);
		CHECK_INT(skipped1 - skipped0, logr_chunk_count(r));
		logr_close(r);

		/* damaged or missing filters are never trusted to skip */
		char sql[300];
		snprintf(sql, sizeof(sql),
			 "UPDATE log_chunk_grams SET bits = CASE seq %% 4 WHEN 0 THEN x'02ff'"
			 " WHEN 1 THEN x'01ffff' WHEN 2 THEN x'' ELSE x'01' || zeroblob(16384) END"
			 " WHERE log_id = %lld", (long long)id);
		exec(db, "SAVEPOINT dmg");
		exec(db, sql);
		snprintf(sql, sizeof(sql), "DELETE FROM log_chunk_grams WHERE log_id = %lld AND seq = 1",
			 (long long)id);
		exec(db, sql);
		r = logr_open(store_of(db), id, &err);
		cc = (struct count_cb){0};
		CHECK_INT(logr_scan_grams(r, &none, count_line, &cc, &err), 0);
		logr_grams_stats(r, &read1, &skipped1);
		CHECK_INT(cc.lines, count);
		CHECK_INT(read1, logr_chunk_count(r));
		CHECK_INT(skipped1, 0);
		logr_close(r);
		exec(db, "ROLLBACK TO dmg");
		exec(db, "RELEASE dmg");
		free(nl);
		free(s);
	}
	close_db(db);
}

TEST(filter_blobs)
{
	/* the blob format, by hand: version 1, a 64-byte set */
	unsigned char blob[65] = {1};
	struct log_grams q = {0};
	log_grams_add(&q, "abc", 3);
	CHECK_INT(q.n, 1);
	CHECK(!log_grams_admit(blob, sizeof(blob), &q));
	uint32_t bit = q.h[0] & 511;
	blob[1 + bit / 8] = (unsigned char)(1u << (bit % 8));
	CHECK(log_grams_admit(blob, sizeof(blob), &q));
	/* folded case, and duplicates counted once */
	struct log_grams q2 = {0};
	log_grams_add(&q2, "ABCabcAbC", 9);
	CHECK(q2.n >= 1 && q2.h[0] == q.h[0]);
	for (size_t i = 0; i < q2.n; i++)
		for (size_t j = i + 1; j < q2.n; j++)
			CHECK(q2.h[i] != q2.h[j]);
	/* the empty set: no trigram at all; too short a query asks nothing */
	CHECK(!log_grams_admit("\x01", 1, &q));
	struct log_grams q0 = {0};
	log_grams_add(&q0, "ab", 2);
	CHECK_INT(q0.n, 0);
	CHECK(log_grams_admit("\x01", 1, &q0));
	CHECK(log_grams_admit(NULL, 0, &q));
	/* unknown versions and odd sizes let everything through */
	blob[0] = 2;
	CHECK(log_grams_admit(blob, sizeof(blob), &q2));
	blob[0] = 1;
	CHECK(log_grams_admit(blob, 33, &q2));
	CHECK(log_grams_admit(blob, 1 + 48, &q2));
	/* a query is capped, never wrong */
	struct log_grams big = {0};
	char text[400];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)(' ' + (i * 37) % 90);
	log_grams_add(&big, text, sizeof(text));
	CHECK_INT(big.n, LOG_GRAMS_MAX);
}

/* --- 50 MB in 1 KB pieces: memory must not depend on the log size --------------------- */
struct gen {
	uint64_t line, pos, len, term; /* term: 0 LF, 1 CRLF */
	uint64_t emitted_lines;
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void gen_next_line(struct gen *g)
{
	g->line++;
	uint64_t h = hash64(g->line);
	g->len = h % 97 == 0 ? 20000 + h % 50000 : h % 240;
	g->term = (h >> 20) % 5 == 0;
	g->pos = 0;
}

static void gen_fill(struct gen *g, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (g->pos < g->len)
			out[i] = (char)('a' + (g->line + g->pos) % 26);
		else if (g->term && g->pos == g->len)
			out[i] = '\r';
		else
			out[i] = '\n';
		if (++g->pos > g->len + g->term)
			gen_next_line(g);
	}
}

TEST(fifty_mb_in_small_pieces)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	const size_t total = 50u << 20;
	struct gen g = {0};
	gen_next_line(&g);
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	char piece[1024];
	for (size_t at = 0; at < total; at += sizeof(piece)) {
		gen_fill(&g, piece, sizeof(piece));
		if (logw_write(w, piece, sizeof(piece), &err) < 0) {
			t_fail(__FILE__, __LINE__, "write at %zu: %s", at, err.msg);
			break;
		}
	}
	int64_t id = logw_finish(w, &err);
	logw_free(w);
	exec(db, "COMMIT");
	/* the generator stops mid-line (or right after a full line) */
	uint64_t lines = g.pos == 0 ? g.line - 1 : g.line;
	struct logr *r = logr_open(store_of(db), id, &err);
	CHECK(r != NULL);
	if (!r) {
		close_db(db);
		return;
	}
	CHECK_INT(logr_raw_size(r), total);
	CHECK_INT(logr_line_count(r), lines);
	/* sampled lines against the generator's formula */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 500; i++) {
		uint64_t k = 1 + rnd() % (lines - 1);
		struct gen one = {.line = k - 1};
		gen_next_line(&one);
		CHECK_OK(logr_line(r, k, 0, &b, NULL, &err));
		bool ok = b.len == one.len;
		for (size_t j = 0; ok && j < b.len; j++)
			ok = b.data[j] == (char)('a' + (k + j) % 26);
		if (!ok) {
			t_fail(__FILE__, __LINE__, "line %llu differs (%zu bytes, want %llu)",
			       (unsigned long long)k, b.len, (unsigned long long)one.len);
			break;
		}
	}
	/* the whole log back, compared piecewise with the generator */
	char path[4200];
	snprintf(path, sizeof(path), "%s/fifty.log", t_tmpdir());
	FILE *f = fopen(path, "w+b");
	CHECK_OK(logr_write_all(r, f, &err));
	rewind(f);
	memset(&g, 0, sizeof(g));
	gen_next_line(&g);
	char want[1024];
	size_t got_total = 0, got;
	while ((got = fread(piece, 1, sizeof(piece), f)) > 0) {
		gen_fill(&g, want, got);
		if (memcmp(piece, want, got) != 0) {
			t_fail(__FILE__, __LINE__, "raw bytes differ near %zu", got_total);
			break;
		}
		got_total += got;
	}
	CHECK_INT(got_total, total);
	fclose(f);
	remove(path);
	buf_release(&b);
	logr_close(r);
	close_db(db);
}

/* --- a real log ------------------------------------------------------------------------ */
TEST(real_logs)
{
	static const struct {
		const char *rel;
		uint64_t lines, ts, bom, groups, errors, first_error;
	} files[] = {
		/* counts from awk, independent of this code */
		{"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log1.txt", 4768, 4529, 0,
		 74, 2, 3194},
		{"pytorch-test-infra/aws/lambda/log-classifier/fixtures/error_log_multiple_matches.txt",
		 875, 872, 1, 4, 1, 779},
	};
	sqlite3 *db = open_db();
	struct cs_err err;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf raw = BUF_INIT;
		CHECK_OK(file_read_all(t_fixture(files[i].rel), 16 << 20, &raw, &err));
		size_t count;
		struct nline *nl = naive_lines(raw.data, raw.len, &count);
		CHECK_INT(count, files[i].lines);
		/* the writer's line callback and a reader's scan see the same lines */
		struct t_line_counts during = {0}, after = {0};
		int64_t id = store_cb(db, raw.data, raw.len, 4096, t_count_lines, &during);
		verify(db, id, raw.data, raw.len, true);
		struct logr *r = logr_open(store_of(db), id, &err);
		CHECK_OK(logr_scan(r, 1, logr_line_count(r), t_count_lines, &after, &err));
		CHECK(memcmp(&during, &after, sizeof(during)) == 0);
		CHECK_INT(after.lines, files[i].lines);
		CHECK_INT(after.ts, files[i].ts);
		CHECK_INT(after.bom, files[i].bom);
		CHECK_INT(after.kinds[LINE_GROUP], files[i].groups);
		CHECK_INT(after.kinds[LINE_ENDGROUP], files[i].groups);
		CHECK_INT(after.kinds[LINE_ERROR], files[i].errors);
		struct buf b = BUF_INIT;
		struct logline l;
		CHECK_OK(logr_line(r, files[i].first_error, 0, &b, NULL, &err));
		logline_parse(b.data, b.len, &l);
		CHECK(l.kind == LINE_ERROR && l.msg_len == 35 &&
		      memcmp(l.msg, "Process completed with exit code 1.", 35) == 0);
		CHECK_OK(logr_line(r, 2, 0, &b, NULL, &err));
		logline_parse(b.data, b.len, &l);
		CHECK(l.has_ts);
		CHECK_INT(l.has_bom, files[i].bom);
		buf_release(&b);
		logr_close(r);
		free(nl);
		buf_release(&raw);
	}
	close_db(db);
}

/* --- damaged databases ------------------------------------------------------------------ */
/* damage is SQL with ID standing for the log id */
static void expect_corrupt(sqlite3 *db, int64_t id, const char *damage, uint64_t line)
{
	struct cs_err err;
	struct buf sql = BUF_INIT;
	for (const char *p = damage; *p; p++) {
		if (p[0] == 'I' && p[1] == 'D') {
			buf_addf(&sql, "%lld", (long long)id);
			p++;
		} else {
			buf_addc(&sql, *p);
		}
	}
	exec(db, "SAVEPOINT dmg");
	exec(db, sql.data);
	struct logr *r = logr_open(store_of(db), id, &err);
	if (r) {
		struct buf b = BUF_INIT;
		uint64_t off, len;
		int a = logr_line(r, line, 0, &b, NULL, &err);
		if (a == 0)
			t_fail(__FILE__, __LINE__, "'%s': line %llu read fine", damage,
			       (unsigned long long)line);
		else if (err.code != CS_EDB || !strstr(err.msg, "corrupt"))
			t_fail(__FILE__, __LINE__, "'%s': %s", damage, err.msg);
		/* the rest must fail or succeed cleanly, never crash */
		logr_line_span(r, line + 1, &off, &len, &err);
		FILE *f = fopen("/dev/null", "w");
		logr_write_all(r, f, &err);
		logr_scan(r, 1, logr_line_count(r), noop_cb, NULL, &err);
		for (uint64_t k = 0; k < logr_chunk_count(r); k++)
			logr_chunk_lines(r, k, noop_cb, NULL, &err);
		logr_scan_grams(r, NULL, noop_cb, NULL, &err);
		for (uint64_t k = 1; k <= logr_line_count(r) && k < 400; k += 7)
			logr_line(r, k, 0, &b, NULL, &err);
		fclose(f);
		buf_release(&b);
		logr_close(r);
		/* chunk by chunk, with and without the next decompressed ahead on the
		 * second thread: the same results, the same errors */
		struct logr *plain = logr_open(store_of(db), id, &err);
		struct logr *ahead = logr_open(store_of(db), id, &err);
		for (uint64_t k = 0; plain && ahead && k < logr_chunk_count(plain); k++) {
			struct cs_err e1, e2;
			err_clear(&e1);
			err_clear(&e2);
			logr_prefetch(ahead, k);
			int r1 = logr_chunk_lines(plain, k, noop_cb, NULL, &e1);
			logr_prefetch(ahead, k + 1);
			int r2 = logr_chunk_lines(ahead, k, noop_cb, NULL, &e2);
			if (r1 != r2 || (r1 < 0 && strcmp(e1.msg, e2.msg) != 0))
				t_fail(__FILE__, __LINE__, "'%s': chunk %llu: %d '%s' read ahead: %d '%s'",
				       damage, (unsigned long long)k, r1, e1.msg, r2, e2.msg);
		}
		logr_close(plain);
		logr_close(ahead);
	} else if (err.code != CS_EDB || !strstr(err.msg, "corrupt")) {
		t_fail(__FILE__, __LINE__, "'%s': open: %s", damage, err.msg);
	}
	exec(db, "ROLLBACK TO dmg");
	exec(db, "RELEASE dmg");
	buf_release(&sql);
}

TEST(corrupt_store)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	size_t n;
	char *s = filled(C + 5000, "", &n);
	for (size_t i = 100; i < n; i += 1000)
		s[i] = '\n';
	int64_t id = store(db, s, n, 0);
	size_t last;
	free(naive_lines(s, n, &last));
	chunk_row(db, id, 1, (int64_t)last - 4, 5); /* lines start in both chunks */
	expect_corrupt(db, id, "UPDATE log_chunks SET data = x'0011' WHERE log_id=ID AND seq=0", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET data = x'' WHERE log_id=ID AND seq=1", last);
	expect_corrupt(db, id, "UPDATE log_chunks SET line_index = x'ff' WHERE log_id=ID AND seq=0", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET line_index = x'ffffff7f' WHERE log_id=ID", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET line_index = line_index || x'00' WHERE log_id=ID", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET n_lines = 1000000 WHERE log_id=ID", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET raw_len = 5 WHERE log_id=ID", 1);
	expect_corrupt(db, id, "UPDATE log_chunks SET first_line = 77 WHERE log_id=ID AND seq=1", last);
	expect_corrupt(db, id, "DELETE FROM log_chunks WHERE log_id=ID AND seq=1", last);
	expect_corrupt(db, id, "UPDATE logs SET line_count = line_count + 5 WHERE id=ID", last + 2);
	expect_corrupt(db, id, "UPDATE logs SET raw_size = 1 WHERE id=ID", 1);
	expect_corrupt(db, id, "UPDATE logs SET chunk_count = 7 WHERE id=ID", 1);
	/* chunk 1's data swapped for chunk 0's: sizes disagree */
	expect_corrupt(db, id,
		       "UPDATE log_chunks SET data = (SELECT data FROM log_chunks WHERE log_id=ID"
		       " AND seq=0) WHERE log_id=ID AND seq=1", last);
	/* intact again */
	verify(db, id, s, n, true);
	CHECK(logr_open(store_of(db), 4242, &err) == NULL);
	CHECK_INT(err.code, CS_ENOTFOUND);
	/* a file that cannot be written */
	FILE *f = fopen("/dev/full", "w");
	if (f) {
		struct logr *r = logr_open(store_of(db), id, &err);
		CHECK(logr_write_all(r, f, &err) < 0);
		CHECK_INT(err.code, CS_EIO);
		logr_close(r);
		fclose(f);
	}
	free(s);
	close_db(db);
}

/* Chunks decompressed ahead on the reader's second thread (logr_prefetch)
 * read back exactly: in order with the next one ahead, lines that run over
 * chunk ends, a read-ahead dropped for another, one left unread when the
 * reader moves to another log or closes. */
TEST(prefetch_scan)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	size_t n, count;
	char *s = gen_log(3u << 20, &n);
	struct nline *nl = naive_lines(s, n, &count);
	int64_t id = store(db, s, n, 0), other = store(db, "a\nb\n", 4, 0);
	struct logr *r = logr_open(store_of(db), id, &err);
	CHECK(r != NULL && logr_chunk_count(r) >= 10);
	struct scan_chk c = {.s = s, .nl = nl, .next = 1};
	for (uint64_t k = 0; r && k < logr_chunk_count(r); k++) {
		logr_prefetch(r, k + 1);
		CHECK_OK(logr_chunk_lines(r, k, scan_cb, &c, &err));
	}
	CHECK_INT(c.next, count + 1);
	CHECK(!c.bad);
	/* ahead of chunk 7, then 3 read instead, 9 asked for (7 dropped), 7 read */
	CHECK_OK(logr_reopen(r, id, &err));
	logr_prefetch(r, 7);
	struct buf b = BUF_INIT;
	uint64_t probe[] = {3, 9, 7, 0};
	for (size_t i = 0; i < ARRAY_SIZE(probe); i++) {
		if (i == 1)
			logr_prefetch(r, 9);
		const unsigned char *d;
		size_t len;
		uint64_t off;
		CHECK_OK(logr_chunk_data(r, probe[i], &d, &len, &off, &err));
		CHECK_INT(off, probe[i] * C);
		CHECK(len == MIN((size_t)C, n - off) && memcmp(d, s + off, len) == 0);
	}
	/* left unread: the next log reads its own bytes */
	logr_prefetch(r, 5);
	CHECK_OK(logr_reopen(r, other, &err));
	bool trunc;
	CHECK_OK(logr_line(r, 2, 0, &b, &trunc, &err));
	CHECK_STR(buf_cstr(&b), "b");
	logr_prefetch(r, 0); /* cached already: nothing to do */
	logr_prefetch(r, 1); /* no such chunk */
	CHECK_OK(logr_reopen(r, id, &err));
	logr_prefetch(r, 2); /* closed with a read-ahead pending */
	buf_release(&b);
	logr_close(r);
	free(nl);
	free(s);
	sqlite3_close(db);
}

/* One reader pointed at log after log (logr_reopen, as a search over many
 * logs does): each reads back exactly as a fresh reader does, the cache of
 * the previous log never leaks into the next, and a missing log leaves the
 * reader usable. */
TEST(reader_reopen)
{
	sqlite3 *db = open_db();
	struct cs_err err;
	size_t big_n;
	char *big = filled(3 * C, "", &big_n);
	big[C - 11] = '\n';
	big[2 * C + 10] = '\n';
	const char *texts[] = {"one\ntwo\n", "", "x", "a\r\nb\rc\n\n"};
	int64_t ids[5];
	const char *data[5];
	size_t lens[5];
	for (int i = 0; i < 4; i++) {
		data[i] = texts[i];
		lens[i] = strlen(texts[i]);
		ids[i] = store(db, data[i], lens[i], 0);
	}
	data[4] = big, lens[4] = big_n;
	ids[4] = store(db, big, big_n, 4096);
	struct logr *r = logr_open(store_of(db), ids[4], &err);
	CHECK(r != NULL);
	struct buf b = BUF_INIT;
	bool trunc;
	CHECK_OK(logr_line(r, 2, 0, &b, &trunc, &err)); /* big's chunks cached */
	static const int order[] = {0, 4, 1, 4, 2, 3, 4, 0};
	for (size_t k = 0; r && k < ARRAY_SIZE(order); k++) {
		int i = order[k];
		CHECK_OK(logr_reopen(r, ids[i], &err));
		size_t count;
		free(naive_lines(data[i], lens[i], &count));
		CHECK_INT(logr_line_count(r), count);
		CHECK_INT(logr_raw_size(r), lens[i]);
		size_t got_n;
		int rc;
		char *got = capture(r, 0, 0, true, &got_n, &rc);
		CHECK(got_n == lens[i] && memcmp(got, data[i], got_n) == 0);
		free(got);
		if (count) {
			CHECK_OK(logr_line(r, count, 0, &b, &trunc, &err));
			CHECK_OK(logr_line(r, 1, 0, &b, &trunc, &err));
		}
		CHECK(logr_line(r, count + 1, 0, &b, NULL, &err) < 0);
		if (k == 3) {
			CHECK(logr_reopen(r, 4242, &err) < 0);
			CHECK_INT(err.code, CS_ENOTFOUND);
		}
	}
	buf_release(&b);
	logr_close(r);
	free(big);
	sqlite3_close(db);
}

/* --- the compression pipeline ------------------------------------------------------ */
/* Rows of log a and log b that differ (any column but log_id): 0 when the
 * writers produced the same chunks, line indexes and filters. */
static int64_t rows_differing(sqlite3 *db, int64_t a, int64_t b)
{
	char sql[1600];
	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT count(*) FROM (SELECT seq, raw_off, raw_len, first_line, n_lines, data,"
		 " line_index FROM log_chunks WHERE log_id=%lld EXCEPT SELECT seq, raw_off, raw_len,"
		 " first_line, n_lines, data, line_index FROM log_chunks WHERE log_id=%lld))"
		 " + (SELECT count(*) FROM (SELECT seq, bits FROM log_chunk_grams WHERE log_id=%lld"
		 " EXCEPT SELECT seq, bits FROM log_chunk_grams WHERE log_id=%lld))"
		 " + (SELECT count(*) FROM (SELECT seq, part, bits FROM log_chunk_words WHERE log_id=%lld"
		 " EXCEPT SELECT seq, part, bits FROM log_chunk_words WHERE log_id=%lld))"
		 " + abs((SELECT count(*) FROM log_chunks WHERE log_id=%lld)"
		 " - (SELECT count(*) FROM log_chunks WHERE log_id=%lld))"
		 " + abs((SELECT count(*) FROM log_chunk_words WHERE log_id=%lld)"
		 " - (SELECT count(*) FROM log_chunk_words WHERE log_id=%lld))",
		 (long long)a, (long long)b, (long long)a, (long long)b, (long long)a, (long long)b,
		 (long long)a, (long long)b, (long long)a, (long long)b);
	return query_int(db, sql);
}

/* The worker thread changes no byte: a log of many chunks (lines cut by
 * chunk ends, long lines, escapes) stored by the pipelined writer and by
 * the single-threaded one gives the same rows, and reads back exactly. */
TEST(pipeline_same_rows_as_single_thread)
{
	sqlite3 *db = open_db();
	size_t n;
	char *s = gen_text_log(12 * C + 777, &n);
	static const size_t pieces[] = {0, 4096, C - 1};
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		unsetenv("CISCOPE_LOG_THREADS");
		int64_t a = store(db, s, n, pieces[i]);
		setenv("CISCOPE_LOG_THREADS", "1", 1);
		int64_t b = store(db, s, n, pieces[i]);
		unsetenv("CISCOPE_LOG_THREADS");
		CHECK(a > 0 && b > 0);
		CHECK_INT(query_int(db, "SELECT count(*) FROM log_chunks WHERE log_id = (SELECT max(id) FROM logs)"),
			  (int64_t)((n + C - 1) / C));
		CHECK_INT(rows_differing(db, a, b), 0);
		CHECK_INT(rows_differing(db, b, a), 0);
		verify(db, a, s, n, false);
	}
	free(s);
	close_db(db);
}

/* The word filter rows of a log are inserted part by part, 64 chunks at a
 * time (core/logwrite.c, flush_words()): in rowid order, the rows of chunks
 * 0..63 come part 0 first, then part 1, and so on, then those of chunks
 * 64.. the same way. A search for a token reads one part of every chunk of
 * a log, and the rows of a part are then neighbours in the table. The rows
 * themselves are those a chunk-by-chunk insert makes (the pipeline tests). */
TEST(word_rows_part_by_part)
{
	sqlite3 *db = open_db();
	size_t n;
	char *s = gen_text_log(66 * C + 999, &n);
	for (int threaded = 0; threaded < 2; threaded++) {
		if (threaded)
			unsetenv("CISCOPE_LOG_THREADS");
		else
			setenv("CISCOPE_LOG_THREADS", "1", 1);
		int64_t id = store(db, s, n, threaded ? 0 : C / 3);
		CHECK(id > 0);
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "SELECT seq, part FROM log_chunk_words WHERE log_id = %lld ORDER BY rowid",
			 (long long)id);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
		long rows = 0, bad = 0, prev_batch = 0, prev_part = -1, prev_seq = -1;
		while (sqlite3_step(st) == SQLITE_ROW) {
			long seq = (long)sqlite3_column_int64(st, 0), part = (long)sqlite3_column_int64(st, 1);
			long batch = seq / 64;
			/* batches in order; in a batch, (part, seq) ascending */
			if (rows > 0 &&
			    !(batch > prev_batch ||
			      (batch == prev_batch &&
			       (part > prev_part || (part == prev_part && seq > prev_seq)))))
				bad++;
			if (rows > 0 && batch < prev_batch)
				bad++;
			prev_batch = batch, prev_part = part, prev_seq = seq;
			rows++;
		}
		sqlite3_finalize(st);
		CHECK_INT(bad, 0);
		/* every chunk has its parts: 66 full chunks and a short last one */
		snprintf(sql, sizeof(sql),
			 "SELECT count(DISTINCT seq) FROM log_chunk_words WHERE log_id = %lld",
			 (long long)id);
		CHECK_INT(query_int(db, sql), 67);
		CHECK(rows >= 66 * 2);
		verify(db, id, s, n, false);
	}
	unsetenv("CISCOPE_LOG_THREADS");
	free(s);
	close_db(db);
}

/* The filters built on the worker from the chunks' bytes (a split of its
 * own) are those built without it, when the log ends at a chunk's end (the
 * worker's split ends with no bytes) and when whole chunks have no line
 * start (a line longer than two chunks). */
TEST(pipeline_same_rows_chunk_ends)
{
	sqlite3 *db = open_db();
	size_t n;
	char *s = gen_text_log(12 * C + 777, &n);
	struct buf b = BUF_INIT;
	buf_add(&b, s, 12 * C); /* ends at a chunk's end */
	struct buf l = BUF_INIT;
	buf_add(&l, s, C / 2);
	for (size_t i = 0; i < 3 * C; i++)
		buf_add(&l, i % 7 ? "x" : "\x1b[0m", i % 7 ? 1 : 4);
	buf_adds(&l, "\nlast line\n");
	buf_add(&l, s, C);
	const struct buf *logs[] = {&b, &l};
	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		unsetenv("CISCOPE_LOG_THREADS");
		int64_t x = store(db, logs[i]->data, logs[i]->len, 4096);
		setenv("CISCOPE_LOG_THREADS", "1", 1);
		int64_t y = store(db, logs[i]->data, logs[i]->len, 4096);
		unsetenv("CISCOPE_LOG_THREADS");
		CHECK(x > 0 && y > 0);
		CHECK_INT(rows_differing(db, x, y), 0);
		CHECK_INT(rows_differing(db, y, x), 0);
		char sql[160];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM log_chunk_grams WHERE log_id = %lld",
			 (long long)x);
		CHECK_INT(query_int(db, sql), (int64_t)((logs[i]->len + C - 1) / C));
		verify(db, x, logs[i]->data, logs[i]->len, false);
	}
	buf_release(&b);
	buf_release(&l);
	free(s);
	close_db(db);
}

/* The compression worker takes no signal: every thread but the main one
 * blocks SIGINT and SIGWINCH while a log of many chunks is being written
 * (read from /proc/self/task/N/status, SigBlk), so Ctrl-C and a resize
 * land on the thread that handles them. */
static int threads_blocking(int *others)
{
	int ok = 0;
	*others = 0;
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atol(e->d_name) == (long)getpid())
			continue;
		char path[300], line[256];
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		(*others)++;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "SigBlk:", 7)) {
				unsigned long long m = strtoull(line + 7, NULL, 16);
				if ((m >> (SIGINT - 1) & 1) && (m >> (SIGWINCH - 1) & 1))
					ok++;
			}
		fclose(f);
	}
	closedir(d);
	return ok;
}

TEST(pipeline_worker_blocks_signals)
{
	if (access("/proc/self/task", R_OK) != 0) {
		printf("  (skipped: no /proc/self/task to read the threads' signal masks)\n");
		return;
	}
	sqlite3 *db = open_db();
	unsetenv("CISCOPE_LOG_THREADS");
	struct cs_err err;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w != NULL);
	size_t n;
	char *s = gen_text_log(8 * C, &n);
	int rc = 0;
	for (size_t at = 0; w && at < n && rc == 0; at += 5000)
		rc = logw_write(w, s + at, MIN((size_t)5000, n - at), &err);
	CHECK_INT(rc, 0);
	int others;
	int blocking = threads_blocking(&others);
	CHECK(others >= 1); /* the worker runs */
	CHECK_INT(blocking, others);
	if (w) {
		CHECK(logw_finish(w, &err) > 0);
		logw_free(w);
	}
	exec(db, "COMMIT");
	free(s);
	close_db(db);
}

/* The thread ids other than the main one (at most max), or -1. */
static int other_tids(long *tid, int max)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atol(e->d_name) != (long)getpid() && n < max)
			tid[n++] = atol(e->d_name);
	closedir(d);
	return n;
}

/* An import of many big logs starts one worker: the writer kept for the next
 * log keeps it (one thread per log cost a thread start and a zstd context
 * per log). */
TEST(pipeline_one_worker_for_many_logs)
{
	if (access("/proc/self/task", R_OK) != 0) {
		printf("  (skipped: no /proc/self/task to list the threads)\n");
		return;
	}
	sqlite3 *db = open_db();
	unsetenv("CISCOPE_LOG_THREADS");
	size_t n;
	char *s = gen_text_log(4 * C, &n);
	long first = 0;
	for (int k = 0; k < 3; k++) {
		struct cs_err err;
		int64_t job = new_job(db);
		exec(db, "BEGIN");
		struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
		CHECK(w != NULL);
		if (!w)
			break;
		int rc = 0;
		for (size_t at = 0; at < n && rc == 0; at += 5000)
			rc = logw_write(w, s + at, MIN((size_t)5000, n - at), &err);
		CHECK_INT(rc, 0);
		long tid[8];
		CHECK_INT(other_tids(tid, 8), 1);
		if (k == 0)
			first = tid[0];
		CHECK_INT(tid[0], first);
		CHECK(logw_finish(w, &err) > 0);
		logw_free(w);
		exec(db, "COMMIT");
	}
	free(s);
	close_db(db);
}

/* A failure on the worker (zstd) or of a chunk row taken back from it
 * reaches the caller as the writer's error, names the chunk, and leaves
 * nothing once the caller rolls back. */
static void pipeline_fail(sqlite3 *db, const char *expect1, const char *expect2)
{
	struct cs_err err;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w != NULL);
	if (!w) {
		exec(db, "ROLLBACK");
		return;
	}
	size_t n;
	char *s = gen_text_log(10 * C, &n);
	int rc = 0;
	for (size_t at = 0; at < n && rc == 0; at += 5000)
		rc = logw_write(w, s + at, MIN((size_t)5000, n - at), &err);
	if (rc == 0)
		rc = logw_finish(w, &err) < 0 ? -1 : 0;
	CHECK(rc < 0);
	CHECK(strstr(err.msg, expect1) != NULL);
	CHECK(strstr(err.msg, expect2) != NULL);
	/* the writer stays failed, and freeing it stops the worker */
	CHECK(logw_write(w, "x", 1, &err) < 0);
	CHECK(logw_finish(w, &err) < 0);
	logw_free(w);
	exec(db, "ROLLBACK");
	char sql[120];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM logs WHERE job_id = %lld", (long long)job);
	CHECK_INT(query_int(db, sql), 0);
	free(s);
}

TEST(pipeline_errors_propagate)
{
	sqlite3 *db = open_db();
	unsetenv("CISCOPE_LOG_THREADS");
	logw_test_fail_seq = 5;
	pipeline_fail(db, "compressing chunk 5 (bytes 1310720..)", "Destination buffer is too small");
	/* the same error without the thread */
	setenv("CISCOPE_LOG_THREADS", "1", 1);
	pipeline_fail(db, "compressing chunk 5 (bytes 1310720..)", "Destination buffer is too small");
	unsetenv("CISCOPE_LOG_THREADS");
	logw_test_fail_seq = -1;
	/* the database refusing a chunk the worker compressed */
	exec(db, "CREATE TRIGGER no_chunk_4 BEFORE INSERT ON log_chunks WHEN NEW.seq = 4 BEGIN "
		 "SELECT RAISE(ABORT, 'disk full, say'); END");
	pipeline_fail(db, "inserting chunk 4", "disk full, say");
	exec(db, "DROP TRIGGER no_chunk_4");
	/* and an abandoned writer with chunks in flight is freed cleanly */
	struct cs_err err;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	char *big = xcalloc(1, 5 * C);
	CHECK(w && logw_write(w, big, 5 * C, &err) == 0);
	logw_free(w);
	exec(db, "ROLLBACK");
	free(big);
	close_db(db);
}

/* Chunks the writer compresses itself (instead of waiting for the worker)
 * are stored as the worker's are: the same rows as the single-threaded
 * writer, and the same error for a chunk whose compression fails. */
TEST(pipeline_writer_compresses)
{
	sqlite3 *db = open_db();
	size_t n;
	char *s = gen_text_log(9 * C + 123, &n);
	unsetenv("CISCOPE_LOG_THREADS");
	logw_test_writer_zstd = true;
	int64_t a = store(db, s, n, 4096);
	logw_test_writer_zstd = false;
	int64_t b = store(db, s, n, 4096);
	setenv("CISCOPE_LOG_THREADS", "1", 1);
	int64_t c = store(db, s, n, 4096);
	unsetenv("CISCOPE_LOG_THREADS");
	CHECK(a > 0 && b > 0 && c > 0);
	CHECK_INT(rows_differing(db, a, c), 0);
	CHECK_INT(rows_differing(db, c, a), 0);
	CHECK_INT(rows_differing(db, b, c), 0);
	verify(db, a, s, n, false);
	logw_test_writer_zstd = true;
	logw_test_fail_seq = 5;
	pipeline_fail(db, "compressing chunk 5 (bytes 1310720..)", "Destination buffer is too small");
	logw_test_fail_seq = -1;
	logw_test_writer_zstd = false;
	free(s);
	close_db(db);
}

/* Every stored byte of a log (chunks, line index, both filters), for
 * comparing two logs. Caller frees. */
static char *log_bytes(sqlite3 *db, int64_t id)
{
	static const char sql[] =
		"SELECT (SELECT group_concat(hex(data) || '/' || hex(line_index), ',') FROM"
		" (SELECT * FROM log_chunks WHERE log_id = ?1 ORDER BY seq)) || '|' ||"
		" (SELECT group_concat(seq || ':' || hex(bits), ',') FROM"
		" (SELECT * FROM log_chunk_grams WHERE log_id = ?1 ORDER BY seq)) || '|' ||"
		" (SELECT group_concat(seq || '.' || part || ':' || hex(bits), ',') FROM"
		" (SELECT * FROM log_chunk_words WHERE log_id = ?1 ORDER BY seq, part))";
	sqlite3_stmt *st;
	char *out = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, id) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0))
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	else
		t_fail(__FILE__, __LINE__, "log_bytes: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return out ? out : xstrdup("");
}

TEST(writer_reused_same_bytes)
{
	/* logw_free() keeps a finished writer for the next log: what one log
	 * leaves in it (a line running across chunks, other trigrams, a writer
	 * abandoned half way) must not change the bytes of the next */
	sqlite3 *db = open_db();
	static const char small[] = "2024-05-01T10:00:00.0000000Z ##[group]Run make\r\n"
				    "error: the needle broke\nwarning: unused x\n\nlast line, no end";
	size_t bn = 3 * C + 777;
	char *big = xmalloc(bn);
	for (size_t i = 0; i < bn; i++)
		big[i] = (char)('a' + (i * 7 + i / 13) % 26);
	for (size_t i = 100; i < bn; i += 1000 + i % 97)
		big[i] = i % 3 ? '\n' : '\r';
	memset(big + C - 500, 'q', 2000); /* a line across the first boundary */
	int64_t a = store(db, small, sizeof(small) - 1, 0);
	store(db, big, bn, 4096);
	int64_t b = store(db, small, sizeof(small) - 1, 0);
	struct cs_err err;
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, &err);
	CHECK(w && logw_write(w, big, C + 4321, &err) == 0);
	logw_free(w); /* unfinished: not kept */
	exec(db, "ROLLBACK");
	int64_t c = store(db, small, sizeof(small) - 1, 3);
	char *sa = log_bytes(db, a), *sb = log_bytes(db, b), *sc = log_bytes(db, c);
	CHECK(strlen(sa) > 100);
	CHECK_STR(sb, sa);
	CHECK_STR(sc, sa);
	free(sa);
	free(sb);
	free(sc);
	free(big);
	close_db(db);
}

/* A log prepared ahead (log_prep_make(), on another thread in the importer)
 * is stored as the writer would store it alone: the same chunk, filters (its
 * trigrams listed or set, by its size) and
 * line index, byte for byte, whatever the pieces it is then written in; a
 * log of other bytes than those prepared is refused, not stored with the
 * wrong filters; a log of a chunk or more gets nothing prepared. */
static int64_t store_prepped(sqlite3 *db, const char *s, size_t n, const struct log_prep *p,
			     const char *given, size_t given_n, size_t piece, struct cs_err *err)
{
	int64_t job = new_job(db);
	exec(db, "BEGIN");
	struct logw *w = logw_begin(store_of(db), job, NULL, NULL, err);
	CHECK(w != NULL);
	logw_use_prep(w, p, s, n);
	int rc = 0;
	for (size_t at = 0; at < given_n && rc == 0; at += piece)
		rc = logw_write(w, given + at, MIN(piece, given_n - at), err);
	int64_t id = rc ? -1 : logw_finish(w, err);
	logw_free(w);
	exec(db, id > 0 ? "COMMIT" : "ROLLBACK");
	return id;
}

TEST(prepared_ahead_same_rows)
{
	sqlite3 *db = open_db();
	struct log_prep_ws *ws = log_prep_ws_new();
	struct log_prep p;
	memset(&p, 0, sizeof(p));
	struct cs_err err;
	size_t n;
	char *s = gen_text_log(C / 2, &n);
	n = MIN(n, C / 2); /* its lines may run long: one chunk of them */
	static const char crlf[] = "a\r\nb\rc ##[error]x\n\n\x1b[31mred\x1b[0m deadbeefcafe1234\nno end";
	/* up to GRAMS_LIST_MAX bytes the trigrams are listed, not set: from
	 * a 10 KB log to one byte past, a listed one after one that was not */
	size_t ln = MIN(n, (size_t)GRAMS_LIST_MAX + 1);
	CHECK_INT(ln, GRAMS_LIST_MAX + 1);
	const struct {
		const char *s;
		size_t n;
	} logs[] = {{s, n},	      {crlf, sizeof(crlf) - 1},	  {"x", 1},  {"ab", 2}, {"abc", 3},
		    {s, 10000},	      {s, GRAMS_LIST_MAX},	  {s, ln},   {s + 7, 20000},
		    {s + 3, ln - 3}, {s + 1, GRAMS_LIST_MAX - 1}};
	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		log_prep_make(ws, logs[i].s, logs[i].n, &p);
		CHECK(p.ok);
		int64_t a = store(db, logs[i].s, logs[i].n, 0);
		int64_t b = store_prepped(db, logs[i].s, logs[i].n, &p, logs[i].s, logs[i].n, 4096, &err);
		CHECK(a > 0 && b > 0);
		CHECK_INT(rows_differing(db, a, b), 0);
		CHECK_INT(rows_differing(db, b, a), 0);
		verify(db, b, logs[i].s, logs[i].n, false);
	}
	/* other bytes than those prepared: an error, nothing stored */
	log_prep_make(ws, s, n, &p);
	char *other = xmalloc(n);
	memcpy(other, s, n);
	other[n / 2] ^= 1;
	CHECK(store_prepped(db, s, n, &p, other, n, 4096, &err) < 0);
	CHECK(strstr(err.msg, "not those prepared ahead") != NULL);
	CHECK(store_prepped(db, s, n, &p, s, n - 1, 4096, &err) < 0);
	/* a chunk or more, or nothing: nothing prepared */
	char *big = xmalloc(C);
	memset(big, 'x', C);
	log_prep_make(ws, big, C, &p);
	CHECK(!p.ok);
	log_prep_make(ws, big, 0, &p);
	CHECK(!p.ok);
	free(big);
	free(other);
	free(s);
	log_prep_release(&p);
	log_prep_ws_free(ws);
	close_db(db);
}

/* --- word 6-gram filters by their definition ------------------------------ */
/* The word filter rows of every chunk, as core/logstoreint.h defines them,
 * one 6-gram and one part at a time: the writer's lists, its 2^21-bit set
 * of a chunk of many 6-grams and its folding must give these bytes. */
static uint32_t ref_words_hash(const unsigned char *t)
{
	uint64_t g = 0;
	for (int i = 0; i < 6; i++) {
		unsigned c = t[i];
		g = g << 8 | (c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return (uint32_t)((g * 0x9E3779B97F4A7C15ull) >> 32);
}

static bool ref_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The blob of part j of n hashes h of a chunk in parts parts; returns the
 * blob's length (out: 1 + 2^21 / 8 bytes at most). */
static size_t ref_word_part(const uint32_t *h, size_t n, unsigned parts, unsigned j,
			    unsigned char *out)
{
	unsigned log2p = 0;
	while ((1u << log2p) < parts)
		log2p++;
	unsigned shift = 21 - log2p;
	size_t sbits = 256, per = n / parts + 1;
	while (sbits < ((size_t)1 << shift) && sbits < per * 4)
		sbits *= 2;
	unsigned char *bits = out + 1;
	memset(bits, 0, sbits / 8);
	size_t set = 0;
	for (size_t i = 0; i < n; i++) {
		if (((h[i] >> shift) & (parts - 1)) != j)
			continue;
		uint32_t o = h[i] & (uint32_t)(sbits - 1);
		if (!(bits[o / 8] & (1u << (o % 8))))
			set++;
		bits[o / 8] |= (unsigned char)(1u << (o % 8));
	}
	out[0] = 1;
	size_t nb = set ? sbits / 8 : 0;
	double d = (double)set / (double)sbits;
	while (nb > 32 && 1.0 - (1.0 - d) * (1.0 - d) <= 0.375) {
		nb /= 2;
		for (size_t i = 0; i < nb; i++)
			bits[i] |= bits[nb + i];
		d = 1.0 - (1.0 - d) * (1.0 - d);
	}
	return 1 + nb;
}

/* Compares log id's word filter rows with the definition's; returns the
 * most 6-grams a chunk had. */
static size_t check_word_rows(sqlite3 *db, int64_t id, const char *s, size_t n)
{
	size_t count, most = 0;
	struct nline *nl = naive_lines(s, n, &count);
	uint64_t chunks = (n + C - 1) / C;
	uint32_t *h = NULL;
	size_t nh = 0, ah = 0, li = 0;
	unsigned char *blob = xmalloc(1 + (1u << 21) / 8);
	struct buf text = BUF_INIT;
	sqlite3_stmt *st;
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT bits FROM log_chunk_words WHERE log_id = ?1"
				     " AND seq = ?2 AND part = ?3", -1, &st, NULL), SQLITE_OK);
	int64_t rows = 0;
	for (uint64_t seq = 0; seq < chunks; seq++) {
		nh = 0;
		for (; li < count && nl[li].off / C == seq; li++) {
			ref_search_text(s + nl[li].off, MIN(nl[li].len, (size_t)SPLIT_HEAD_MAX), &text);
			const unsigned char *t = (const unsigned char *)text.data;
			for (size_t i = 0; i + 6 <= text.len; i++) {
				bool word = true;
				for (size_t k = 0; k < 6; k++)
					word = word && ref_word_char(t[i + k]);
				if (!word)
					continue;
				XGROW(h, ah, nh + 1);
				h[nh++] = ref_words_hash(t + i);
			}
		}
		most = MAX(most, nh);
		uint64_t raw = MIN((uint64_t)C, n - seq * C);
		unsigned parts = 1;
		while (parts < 32 && (uint64_t)parts * 2 * 8192 <= raw)
			parts *= 2;
		for (unsigned j = 0; j < parts; j++) {
			size_t len = ref_word_part(h, nh, parts, j, blob);
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
			sqlite3_bind_int64(st, 3, j);
			bool same = sqlite3_step(st) == SQLITE_ROW &&
				    (size_t)sqlite3_column_bytes(st, 0) == len &&
				    memcmp(sqlite3_column_blob(st, 0), blob, len) == 0;
			if (!same)
				t_fail(__FILE__, __LINE__, "log %lld chunk %llu part %u: not the defined row",
				       (long long)id, (unsigned long long)seq, j);
			sqlite3_reset(st);
			rows++;
		}
	}
	sqlite3_finalize(st);
	char sql[100];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM log_chunk_words WHERE log_id = %lld",
		 (long long)id);
	CHECK_INT(query_int(db, sql), rows);
	buf_release(&text);
	free(blob);
	free(h);
	free(nl);
	return most;
}

/* Lines of hex ids in the chunks whose bit is set in dense (chunk k: bit
 * k % 8), else of short words and any bytes (NUL, lone UTF-8 bytes, ESC,
 * all 256 values); now and then a line of tens of KB that runs over a
 * chunk end. */
static char *gen_word_log(size_t target, unsigned dense, size_t *len)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	static const char *const seps[] = {" ", "-", ":", "_", ".", "/", "\x1b[0m", "\xc3", "\xff"};
	static const char *const terms[] = {"\n", "\r\n", "\r"};
	struct buf b = BUF_INIT;
	while (b.len < target) {
		bool hexes = dense >> (b.len / C % 8) & 1;
		size_t tokens = rnd() % 400 == 0 ? 500 + rnd() % 1000 : 1 + rnd() % 12;
		if (rnd() % 2)
			buf_adds(&b, "2024-05-01T10:48:36.8101331Z ");
		for (size_t i = 0; i < tokens; i++) {
			if (hexes) {
				size_t k = 4 + rnd() % 37;
				for (size_t j = 0; j < k; j++)
					buf_addc(&b, hex[rnd() % (sizeof(hex) - 1)]);
				buf_adds(&b, seps[rnd() % 6 ? 0 : rnd() % ARRAY_SIZE(seps)]);
			} else {
				size_t k = rnd() % 8;
				for (size_t j = 0; j < k; j++) {
					char c = (char)(rnd() % 4 ? 'a' + rnd() % 26 : rnd() % 256);
					buf_addc(&b, c == '\n' || c == '\r' ? '\0' : c);
				}
				buf_addc(&b, ' ');
			}
		}
		buf_adds(&b, terms[rnd() % ARRAY_SIZE(terms)]);
	}
	return buf_detach(&b, len);
}

/* stops the split at the first line from byte *ctx on */
static int stop_from(void *ctx, const struct split_line *l)
{
	return l->off >= *(const size_t *)ctx;
}

TEST(word_filters_as_defined)
{
	sqlite3 *db = open_db();
	/* dense: every chunk, every other one (the builder's big set for one
	 * chunk, its list for the next), none, the last one only */
	static const unsigned dense[] = {0xFF, 0x55, 0xAA, 0x00, 0x20};
	static const size_t pieces[] = {0, 4093};
	size_t most = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dense); i++) {
		size_t n;
		char *s = gen_word_log(5 * C + 1000 + rnd() % 1000, dense[i], &n);
		for (size_t k = 0; k < ARRAY_SIZE(pieces); k++) {
			if (k == 1)
				setenv("CISCOPE_LOG_THREADS", "1", 1);
			int64_t id = store(db, s, n, pieces[k]);
			unsetenv("CISCOPE_LOG_THREADS");
			most = MAX(most, check_word_rows(db, id, s, n));
		}
		free(s);
	}
	/* the writer sets a chunk's bits as they come past 49,152 6-grams */
	CHECK(most > 49152);
	/* prepared ahead: a dense log of half a chunk, one whose split stopped
	 * past 49,152 6-grams (its sets emptied), a dense and a small one */
	struct log_prep_ws *ws = log_prep_ws_new();
	struct log_prep p;
	memset(&p, 0, sizeof(p));
	struct cs_err err;
	size_t n, m, un;
	char *s = gen_word_log(C / 2, 0xFF, &n);
	n = MIN(n, C / 2);
	char *t = gen_word_log(20000, 0x00, &m), *u = gen_word_log(C / 2, 0xFF, &un);
	un = MIN(un, C / 2);
	log_prep_make(ws, s, n, &p);
	CHECK(p.ok);
	int64_t id = store_prepped(db, s, n, &p, s, n, 4096, &err);
	CHECK(id > 0);
	CHECK(check_word_rows(db, id, s, n) > 49152);
	size_t stop = n * 7 / 8;
	log_prep_make_also(ws, s, n, &p, stop_from, &stop);
	CHECK(!p.ok);
	for (int k = 0; k < 2; k++) {
		const char *x = k ? t : u;
		size_t xn = k ? m : un;
		log_prep_make(ws, x, xn, &p);
		CHECK(p.ok);
		id = store_prepped(db, x, xn, &p, x, xn, 4096, &err);
		CHECK(id > 0);
		check_word_rows(db, id, x, xn);
	}
	free(s);
	free(t);
	free(u);
	log_prep_release(&p);
	log_prep_ws_free(ws);
	close_db(db);
}
