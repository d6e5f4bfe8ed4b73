/* logsearch.c - the search of every stored log, resumable in slices.
 *
 * The one search loop: search_logs() runs it to the end, the search view
 * in slices. Per log, the chunk filters are read first, a window of chunks
 * at a time ahead of the scan (an indexed query each, no reader opened), so
 * a log none of whose chunks can hold a match costs next to nothing; then
 * the admitted chunks are read line by line from the stored line index. */
#include "logsearch.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logstore.h"
#include "memfind.h"

struct log_entry {
	int64_t log_id;
	uint64_t order;       /* its place in the whole search (logsearch_shard keeps some) */
	uint64_t raw_size, lines, chunks;
	uint64_t c0, c1;      /* its chunks searched here (logsearch_shard may keep a part) */
	/* logsearch_admit_all(): its chunks' verdicts at admits + admit_off,
	 * admit_n of them admitted; -1: not judged yet */
	size_t admit_off;
	long admit_n;
};

struct logsearch {
	struct store *st;
	bool scanning;        /* store_scan_begin() made, store_scan_end() due */
	struct matcher *m;
	struct log_grams q;
	struct logfilter *filter;
	sqlite3_stmt *job_q;
	struct log_entry *logs;
	size_t n_logs, alloc;
	size_t cur;           /* the log being searched */
	bool opened;          /* its filters are read (and r open, if any chunk is admitted) */
	struct logr *r;
	unsigned char *ruled; /* per log: no chunk can match (many small logs), or NULL */
	unsigned char *admits; /* logsearch_admit_all(): every log's verdicts, or NULL */
	bool judged;          /* logsearch_admit_all() ran: no_prefetch and map_now are its */
	bool admit_rest;      /* the filters admit nearly everything: those not read yet are not */
	bool no_prefetch;     /* few chunks to read: no second thread for them */
	bool map_now;         /* many chunks to read: map the file from the next step */
	bool map_decided;     /* the chunks are read through a map of the file, or not */
	uint64_t chunks_read; /* so far, by this cursor */
	unsigned char *admit; /* per chunk of the current log */
	size_t admit_alloc;
	/* its chunks before judged_to are judged (those after, not yet: see
	 * judge()), window how many the next look at the filters judges */
	uint64_t judged_to, window;
	/* the next log's filters, read ahead while the current one's last chunk
	 * is read (its first admitted chunk is then made on the reader's second
	 * thread): pre_for the log they are of, SIZE_MAX: none; judged as far
	 * as pre_to (pre_window, pre_skipped as above) */
	unsigned char *pre_admit;
	size_t pre_alloc, pre_for;
	long pre_n;
	uint64_t pre_to, pre_window, pre_skipped;
	int64_t data_version;  /* of the last step: another writer's commit drops what was read ahead */
	uint64_t seq;         /* the chunk being read */
	uint64_t next_line;   /* lines before it are done */
	struct log_ref ref;   /* strings below */
	char *workflow, *job_name;
	struct step *steps;
	int n_steps, step_i;
	bool steps_loaded;
	uint64_t bytes_done, bytes_total;
	long hits;
	bool count_only;      /* no hit records: a call per log with its count */
	uint64_t log_hits;    /* matching lines of the current log */
	struct buf scratch, text;
	/* The chunk-wide look for the needle (a string every match holds) before
	 * the lines: lines before its next occurrence are passed over. Only on
	 * chunks without escape sequences, whose searchable text is then a run
	 * of the raw bytes of the line. */
	const char *needle;
	size_t needle_len;
	bool needle_fold;
	bool literal;             /* the needle is the whole match (matcher_literal) */
	bool one_line;            /* it holds no CR nor LF (count_texts) */
	uint64_t texts_to;        /* count_texts(): raw offset of the chunk's last line, or 0 */
	bool pf;                  /* on for the chunk being read */
	const unsigned char *pf_data;
	size_t pf_len;
	uint64_t pf_off, pf_next; /* raw offsets; pf_next UINT64_MAX: none left */
	unsigned char *folded;    /* the chunk, ASCII letters folded */
	/* during a step */
	search_cb cb;
	void *ctx;
	uint64_t budget;
	int stop;
	struct cs_err *err;
};

/* Many small logs (a few chunks each on average): the word filters of all
 * of them are read in one pass, and the logs they rule out whole are passed
 * over without a query each. Bigger logs go by their own filters only. */
static int rule_out_logs(struct logsearch *ls, struct cs_err *err)
{
	uint64_t chunks = 0;
	for (size_t i = 0; i < ls->n_logs; i++)
		chunks += ls->logs[i].chunks;
	if (ls->q.nw == 0 || ls->n_logs < 64 || chunks > 4 * (uint64_t)ls->n_logs)
		return 0;
	int64_t *ids = xmalloc(ls->n_logs * sizeof(*ids));
	uint64_t *sizes = xmalloc(ls->n_logs * sizeof(*sizes));
	for (size_t i = 0; i < ls->n_logs; i++) {
		ids[i] = ls->logs[i].log_id;
		sizes[i] = ls->logs[i].raw_size;
	}
	ls->ruled = xmalloc(ls->n_logs);
	long n = logfilter_rule_out_logs(ls->filter, ids, sizes, ls->n_logs, ls->ruled, err);
	free(ids);
	free(sizes);
	return n < 0 ? -1 : 0;
}

#define LIST_LOGS "SELECT l.id, l.raw_size, l.line_count FROM logs l " \
	"JOIN jobs j ON j.id = l.job_id JOIN runs r ON r.id = j.run_id "
#define LIST_ORDER "ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC, j.ordinal"

/* Append the logs of s's rows (id, raw_size, line_count) to the list. */
static int list_logs(struct logsearch *ls, sqlite3_stmt *s)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(ls->logs, ls->alloc, ls->n_logs + 1);
		struct log_entry *e = &ls->logs[ls->n_logs++];
		e->log_id = sqlite3_column_int64(s, 0);
		e->order = ls->n_logs - 1;
		sqlite3_int64 size = sqlite3_column_int64(s, 1), lines = sqlite3_column_int64(s, 2);
		e->raw_size = size > 0 ? (uint64_t)size : 0;
		e->lines = lines > 0 ? (uint64_t)lines : 0;
		/* what the filters and the reader go by (logr_open() checks that
		 * logs.chunk_count agrees) */
		e->chunks = (e->raw_size + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW;
		e->c0 = 0;
		e->c1 = e->chunks;
		e->admit_n = -1;
		ls->bytes_total += e->raw_size;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static int list_query(struct logsearch *ls, const char *sql, const char *json)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(ls->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (json)
		sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC);
	int rc = list_logs(ls, s);
	sqlite3_finalize(s);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The list of logs in the order of the search. Ordering every log (three
 * tables joined and sorted) costs more than the rest of a rare token's
 * search over many small logs: their word filters are read first, over the
 * logs' table alone, and when they rule out most logs only the others are
 * ordered; those ruled out go first, passed over at no cost. */
static int make_list(struct logsearch *ls, struct cs_err *err)
{
	int64_t *ruled_ids = NULL;
	size_t n_ruled = 0;
	if (ls->q.nw > 0) {
		if (list_query(ls, "SELECT id, raw_size, line_count FROM logs", NULL) < 0 ||
		    rule_out_logs(ls, err) < 0)
			goto fail;
		if (ls->ruled) {
			size_t n = ls->n_logs, keep = 0;
			for (size_t i = 0; i < n; i++)
				n_ruled += ls->ruled[i] != 0;
			struct buf ids = BUF_INIT;
			bool few = (n - n_ruled) * 4 <= n;
			if (few)
				buf_addc(&ids, '[');
			ruled_ids = xmalloc((n_ruled + 1) * sizeof(*ruled_ids));
			size_t r = 0;
			for (size_t i = 0; i < n; i++) {
				if (ls->ruled[i]) {
					ruled_ids[r++] = ls->logs[i].log_id;
					ls->logs[keep++] = ls->logs[i];
				} else if (few) {
					buf_addf(&ids, "%s%lld", ids.len > 1 ? "," : "",
						   (long long)ls->logs[i].log_id);
				}
			}
			if (few) {
				buf_addc(&ids, ']');
				ls->n_logs = keep;
				ls->bytes_total = 0;
				for (size_t i = 0; i < keep; i++)
					ls->bytes_total += ls->logs[i].raw_size;
				memset(ls->ruled, 1, keep);
				int rc = list_query(ls, LIST_LOGS "WHERE l.id IN (SELECT value FROM json_each(?1)) "
						    LIST_ORDER, buf_cstr(&ids));
				buf_release(&ids);
				free(ruled_ids);
				if (rc < 0)
					goto fail;
				ls->ruled = xrealloc(ls->ruled, ls->n_logs + 1);
				memset(ls->ruled + keep, 0, ls->n_logs - keep);
				for (size_t i = 0; i < ls->n_logs; i++)
					ls->logs[i].order = i;
				return 0;
			}
			buf_release(&ids);
			qsort(ruled_ids, n_ruled, sizeof(*ruled_ids), cmp_id);
		}
		ls->n_logs = 0;
		ls->bytes_total = 0;
	}
	if (list_query(ls, LIST_LOGS LIST_ORDER, NULL) < 0)
		goto fail;
	if (ruled_ids) {
		ls->ruled = xrealloc(ls->ruled, ls->n_logs + 1);
		for (size_t i = 0; i < ls->n_logs; i++)
			ls->ruled[i] = bsearch(&ls->logs[i].log_id, ruled_ids, n_ruled, sizeof(*ruled_ids),
					       cmp_id) != NULL;
		free(ruled_ids);
	}
	return 0;
fail:
	free(ruled_ids);
	if (!err->code)
		store_err(ls->st, err, "cannot list logs");
	return -1;
}

struct logsearch *logsearch_new(struct store *st, struct matcher *m, struct cs_err *err)
{
	struct logsearch *ls = xcalloc(1, sizeof(*ls));
	ls->st = st;
	ls->m = m;
	ls->pre_for = SIZE_MAX;
	ls->data_version = -1;
	buf_init(&ls->scratch);
	buf_init(&ls->text);
	err_clear(err);
	/* The list and the filters are read into SQLite's page cache; the
	 * chunks through a map of the file once there are many to read: when
	 * logsearch_admit_all() found many, from the first logsearch_step,
	 * else from the step after the logsearch_many_chunks-th chunk read. A map
	 * costs page faults (the filters read through it too) and, at the end,
	 * its munmap: for a rare token in a 1 GiB corpus more than all the rest
	 * of the search; copying a few chunks costs next to nothing. */
	sqlite3_exec(st->db, "PRAGMA mmap_size = 0", NULL, NULL, NULL);
	store_scan_begin(st);
	ls->scanning = true;
	matcher_grams(m, &ls->q);
	if (!matcher_needle(m, &ls->needle, &ls->needle_len, &ls->needle_fold) || !ls->needle_len)
		ls->needle = NULL;
	ls->literal = ls->needle && matcher_literal(m);
	ls->one_line = ls->needle && !memchr(ls->needle, '\n', ls->needle_len) &&
		       !memchr(ls->needle, '\r', ls->needle_len);
	if (!(ls->filter = logfilter_new(st, &ls->q, err))) {
		logsearch_free(ls);
		return NULL;
	}
	/* the list and the filters of one snapshot */
	sqlite3 *db = st->db;
	bool own = sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	int rc = make_list(ls, err);
	if (own && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc < 0) {
		logsearch_free(ls);
		return NULL;
	}
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.id, r.provider_id, r.attempt, r.workflow_name, j.id, "
			       "j.provider_id, j.name FROM logs l JOIN jobs j ON j.id = l.job_id "
			       "JOIN runs r ON r.id = j.run_id WHERE l.id = ?",
			       -1, &ls->job_q, NULL) != SQLITE_OK) {
		store_err(st, err, "cannot read a log's job");
		logsearch_free(ls);
		return NULL;
	}
	return ls;
}

/* The reader is kept for the next log (logr_reopen): with many small logs
 * preparing its statements and a zstd context per log cost more than the
 * search. */
static void close_log(struct logsearch *ls)
{
	free(ls->workflow);
	free(ls->job_name);
	ls->workflow = ls->job_name = NULL;
	store_steps_free(ls->steps, ls->n_steps);
	ls->steps = NULL;
	ls->n_steps = 0;
	ls->step_i = 0;
	ls->steps_loaded = false;
	ls->opened = false;
	ls->seq = 0;
	ls->next_line = 0;
}

/* The current log is done (or gone): on to the next. Counting, a log with
 * matches is reported now, once. */
static void next_log(struct logsearch *ls)
{
	if (ls->count_only && ls->log_hits && !ls->stop) {
		struct search_hit h = {.ref = &ls->ref, .count = ls->log_hits,
				       .line = ls->logs[ls->cur].order};
		int rc = ls->cb(ls->ctx, &h);
		if (rc)
			ls->stop = rc;
	}
	ls->log_hits = 0;
	close_log(ls);
	ls->bytes_done += ls->logs[ls->cur].raw_size;
	ls->cur++;
}

void logsearch_free(struct logsearch *ls)
{
	if (!ls)
		return;
	close_log(ls);
	if (ls->scanning)
		store_scan_end(ls->st);
	logr_close(ls->r);
	logfilter_free(ls->filter);
	sqlite3_finalize(ls->job_q);
	free(ls->logs);
	free(ls->admit);
	free(ls->pre_admit);
	free(ls->ruled);
	free(ls->admits);
	free(ls->folded);
	buf_release(&ls->scratch);
	buf_release(&ls->text);
	free(ls);
}

/* A log's filters are judged a window of chunks at a time, ahead of the
 * scan, the window doubling from JUDGE_FIRST to JUDGE_MAX chunks: the first
 * hits of a string on most chunks of a big log then wait for a few chunks'
 * filters, not for all of them (a 1 GiB log has 4,097, 2 KiB each), while a
 * scan to the end still reads each once, in a query per window. */
#define JUDGE_FIRST 4
#define JUDGE_MAX 1024

/* The verdicts of log e's chunks from *to on into admit (e->chunks + 1
 * bytes, the chunks before e->c0 and from e->c1 on, another share's
 * (logsearch_shard), left 0): those logsearch_admit_all() made, or all
 * when the rest are admitted unread, else the filters of the next *window
 * chunks read now, the window then doubled. *to moves past them; *skipped
 * gets those ruled out. Returns the number admitted of them, or -1. */
static long judge(struct logsearch *ls, const struct log_entry *e, unsigned char *admit,
		  uint64_t *to, uint64_t *window, uint64_t *skipped, struct cs_err *err)
{
	uint64_t from = MAX(*to, e->c0), end;
	long n;
	if ((ls->admits && e->admit_n >= 0) || ls->admit_rest) {
		/* made already, or none to make: the rest of the log at once */
		end = e->c1;
		if (ls->admits && e->admit_n >= 0)
			memcpy(admit + from, ls->admits + e->admit_off + from, (size_t)(end - from));
		else
			memset(admit + from, 1, (size_t)(end - from));
		n = 0;
		for (uint64_t k = from; k < end; k++)
			n += admit[k] != 0;
	} else {
		end = MIN(e->c1, from + *window);
		*window = MIN(*window * 2, (uint64_t)JUDGE_MAX);
		n = logfilter_admit_range(ls->filter, e->log_id, e->raw_size, from, end, admit, err);
		if (n < 0)
			return -1;
	}
	*to = MAX(end, from);
	*skipped += (*to - from) - (uint64_t)n;
	return n;
}

/* Start judging log e into admit, and judge until a chunk is admitted or
 * none is left. Returns the number admitted (0: none), or -1. */
static long judge_first(struct logsearch *ls, const struct log_entry *e, unsigned char *admit,
			uint64_t *to, uint64_t *window, uint64_t *skipped, struct cs_err *err)
{
	memset(admit, 0, (size_t)e->chunks);
	*to = e->c0;
	*window = JUDGE_FIRST;
	*skipped = 0;
	long n = 0;
	while (n == 0 && *to < e->c1)
		if ((n = judge(ls, e, admit, to, window, skipped, err)) < 0)
			return -1;
	return n;
}

/* The current log's next chunk admitted at or after ls->seq, judging more
 * of its chunks as needed: ls->seq moves there (e->chunks: none). */
static int next_admitted(struct logsearch *ls, const struct log_entry *e, uint64_t *seq,
			 struct cs_err *err)
{
	for (;;) {
		while (*seq < ls->judged_to && !ls->admit[*seq])
			(*seq)++;
		if (*seq < ls->judged_to)
			return 0;
		if (ls->judged_to >= e->c1) {
			*seq = e->chunks;
			return 0;
		}
		uint64_t skipped = 0;
		if (judge(ls, e, ls->admit, &ls->judged_to, &ls->window, &skipped, err) < 0)
			return -1;
		matcher_count(ls->m, 0, skipped);
	}
}

/* Read the current log's filters and, when a chunk may hold a match, open
 * it with what a hit reports. Returns 1 when there is something to read, 0
 * when there is nothing (no chunk admitted, or the log is gone: re-imported
 * meanwhile), -1 on error. */
static int open_log(struct logsearch *ls, struct cs_err *err)
{
	const struct log_entry *e = &ls->logs[ls->cur];
	ls->opened = true;
	if (ls->ruled && ls->ruled[ls->cur]) {
		matcher_count(ls->m, 0, e->c1 - e->c0);
		return 0;
	}
	long admitted;
	uint64_t skipped;
	if (ls->pre_for == ls->cur) {
		unsigned char *t = ls->admit;
		size_t ta = ls->admit_alloc;
		ls->admit = ls->pre_admit, ls->admit_alloc = ls->pre_alloc;
		ls->pre_admit = t, ls->pre_alloc = ta;
		admitted = ls->pre_n;
		ls->judged_to = ls->pre_to;
		ls->window = ls->pre_window;
		skipped = ls->pre_skipped;
		ls->pre_for = SIZE_MAX;
	} else {
		XGROW(ls->admit, ls->admit_alloc, (size_t)e->chunks + 1);
		admitted = judge_first(ls, e, ls->admit, &ls->judged_to, &ls->window, &skipped, err);
		if (admitted < 0)
			return -1;
	}
	if (admitted == 0) {
		matcher_count(ls->m, 0, skipped);
		return 0;
	}
	sqlite3_stmt *s = ls->job_q;
	sqlite3_bind_int64(s, 1, e->log_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 0 : store_err(ls->st, err, "cannot read a log's job");
	}
	memset(&ls->ref, 0, sizeof(ls->ref));
	ls->ref.run_row_id = sqlite3_column_int64(s, 0);
	ls->ref.run_provider_id = sqlite3_column_int64(s, 1);
	ls->ref.attempt = sqlite3_column_int(s, 2);
	const unsigned char *w = sqlite3_column_text(s, 3), *jn = sqlite3_column_text(s, 6);
	ls->workflow = w ? xstrdup((const char *)w) : NULL;
	ls->job_name = jn ? xstrdup((const char *)jn) : NULL;
	ls->ref.job_row_id = sqlite3_column_int64(s, 4);
	ls->ref.job_provider_id = sqlite3_column_int64(s, 5);
	ls->ref.log_id = e->log_id;
	ls->ref.workflow = ls->workflow;
	ls->ref.job_name = ls->job_name;
	sqlite3_reset(s);
	if (ls->r ? logr_reopen(ls->r, e->log_id, err) < 0
		  : !(ls->r = logr_open(ls->st, e->log_id, err)))
		return err->code == CS_ENOTFOUND ? 0 : -1;
	matcher_count(ls->m, 0, skipped);
	ls->seq = 0;
	ls->next_line = 1;
	return 1;
}

/* out = in with 'A'..'Z' lowered, eight bytes at a time: a byte gets 0x20
 * when bit 7 of b + 0x3F says b >= 'A' and that of b + 0x25 says b <= 'Z'
 * (neither sum carries out of its byte). */
static void fold_ascii(unsigned char *restrict out, const unsigned char *restrict in, size_t n)
{
	const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, top = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w, b;
		memcpy(&w, in + i, 8);
		b = w & low7;
		w |= (((b + 0x3F3F3F3F3F3F3F3Full) ^ (b + 0x2525252525252525ull)) & ~w & top) >> 2;
		memcpy(out + i, &w, 8);
	}
	for (; i < n; i++)
		out[i] = (unsigned)(in[i] - 'A') < 26u ? (unsigned char)(in[i] | 0x20) : in[i];
}

/* Set up the chunk-wide look for the needle in the chunk about to be read. */
static int prefilter(struct logsearch *ls, struct cs_err *err)
{
	ls->pf = false;
	if (!ls->needle)
		return 0;
	const unsigned char *d;
	size_t n;
	uint64_t off;
	if (logr_chunk_data(ls->r, ls->seq, &d, &n, &off, err) < 0)
		return -1;
	if (memchr(d, 0x1b, n))
		return 0;
	if (ls->needle_fold) {
		if (!ls->folded)
			ls->folded = xmalloc(LOG_CHUNK_RAW);
		fold_ascii(ls->folded, d, n);
		d = ls->folded;
	}
	ls->pf = true;
	ls->pf_data = d;
	ls->pf_len = n;
	ls->pf_off = off;
	const unsigned char *at = memfind(d, n, ls->needle, ls->needle_len);
	ls->pf_next = at ? off + (uint64_t)(at - d) : UINT64_MAX;
	return 0;
}

#define PREFETCH_MIN (64 * 1024)

/* Below this many chunks to read, a second thread decompressing ahead
 * costs more (its start, its own zstd context) than it saves, and so does a
 * map of the file (logsearch_new). */
uint64_t logsearch_many_chunks = 32;

/* Read the chunk about to be scanned and start decompressing the next
 * admitted one on the reader's second thread: it is made while this one is
 * scanned. */
static int read_ahead(struct logsearch *ls, const struct log_entry *e, struct cs_err *err)
{
	const unsigned char *d;
	size_t n;
	uint64_t off;
	if (logr_chunk_data(ls->r, ls->seq, &d, &n, &off, err) < 0)
		return -1;
	bool prefetch = ls->judged ? !ls->no_prefetch : ls->chunks_read >= logsearch_many_chunks;
	if (!prefetch)
		return 0; /* (few chunks: the next log's filters are read when it is opened) */
	uint64_t next = ls->seq + 1;
	if (next_admitted(ls, e, &next, err) < 0)
		return -1;
	if (next < e->chunks) {
		if (prefetch)
			logr_prefetch(ls->r, next);
		return 0;
	}
	/* the log's last chunk to read: the next log's filters now, and its
	 * first admitted chunk made while this one is scanned */
	size_t j = ls->cur + 1;
	if (j >= ls->n_logs || ls->pre_for == j || (ls->ruled && ls->ruled[j]))
		return 0;
	const struct log_entry *f = &ls->logs[j];
	XGROW(ls->pre_admit, ls->pre_alloc, (size_t)f->chunks + 1);
	long na = judge_first(ls, f, ls->pre_admit, &ls->pre_to, &ls->pre_window,
			      &ls->pre_skipped, err);
	if (na < 0)
		return -1;
	ls->pre_for = j;
	ls->pre_n = na;
	/* (a small chunk is made faster here than handed to the other thread
	 * and back) */
	for (uint64_t k = 0; na > 0 && k < f->chunks; k++)
		if (ls->pre_admit[k]) {
			if (f->raw_size - k * LOG_CHUNK_RAW >= PREFETCH_MIN)
				logr_prefetch_log(ls->r, f->log_id, k);
			break;
		}
	return 0;
}

/* The needle's next place in the chunk at or after raw offset from. */
static void pf_find(struct logsearch *ls, uint64_t from)
{
	size_t rel = (size_t)(from - ls->pf_off);
	const unsigned char *at = memfind(ls->pf_data + rel, ls->pf_len - rel, ls->needle,
					  ls->needle_len);
	ls->pf_next = at ? ls->pf_off + (uint64_t)(at - ls->pf_data) : UINT64_MAX;
}

/* The line of starts[k..n-1) holding chunk offset at (starts[k] <= at). */
static uint32_t start_holding(const uint32_t *starts, uint32_t k, uint32_t n, uint32_t at)
{
	uint32_t lo = k + 1, hi = n, step = 1; /* the first start past at is in [lo, hi] */
	for (; lo + step < hi && starts[lo + step] <= at; step *= 2)
		lo += step;
	if (lo + step < hi)
		hi = lo + step;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (starts[mid] > at)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo - 1;
}

/* The chunk being read, for a count of its lines: their starts s[0..n),
 * the first line first, its bytes raw at raw offset off, the first of its
 * lines not done yet k (the last, running into the next chunk, is not
 * counted at once: 0 when only it is left). */
struct count_chunk {
	const uint32_t *s;
	uint32_t n, k;
	uint64_t first, off;
	const unsigned char *raw;
	size_t len;
};

static int count_chunk(struct logsearch *ls, struct count_chunk *c, struct cs_err *err)
{
	if (logr_chunk_index(ls->r, ls->seq, &c->s, &c->n, &c->first, err) < 0 ||
	    logr_chunk_data(ls->r, ls->seq, &c->raw, &c->len, &c->off, err) < 0)
		return -1;
	if (c->n < 2 || ls->next_line >= c->first + c->n - 1)
		return 0;
	c->k = ls->next_line > c->first ? (uint32_t)(ls->next_line - c->first) : 0;
	return 1;
}

/* The lines of c before its last are done: hits of them matched, looked
 * at of them taken off the step's budget. */
static void counted(struct logsearch *ls, const struct count_chunk *c, uint64_t hits,
		    uint64_t looked)
{
	ls->hits += (long)hits;
	ls->log_hits += hits;
	ls->budget -= MIN(ls->budget, looked);
	ls->next_line = c->first + c->n - 1;
}

/* Counting a literal in a chunk without escape sequences: the lines ending
 * in it (all but its last) are counted from one place of the needle to the
 * next, none of them made or handed to scan_line(); a line counts, as
 * matcher_line() has it, when its searchable text (log_search_text(): the
 * line's head, with its BOMs and timestamp off) holds the needle. The last
 * line, which may run into the next chunk, is left to the line by line
 * scan, from the needle's next place. */
static int count_lines(struct logsearch *ls, struct cs_err *err)
{
	struct count_chunk c;
	int rc = count_chunk(ls, &c, err);
	if (rc <= 0)
		return rc;
	const uint32_t *s = c.s;
	const unsigned char *raw = c.raw, *hay = ls->pf_data; /* raw, or folded */
	const char *needle = ls->needle;
	size_t nl = ls->needle_len;
	uint32_t k = c.k, n = c.n, pos = s[k], end = s[n - 1];
	uint64_t looked = 0, hits = 0;
	while (pos < end) {
		const unsigned char *at = memfind(hay + pos, end - pos, needle, nl);
		if (!at)
			break;
		uint32_t h = (uint32_t)(at - hay);
		k = start_holding(s, k, n, h);
		uint32_t start = s[k], next = s[k + 1], stop = next;
		/* line content holds no CR or LF: what ends it is its terminator */
		while (stop > start && (raw[stop - 1] == '\n' || raw[stop - 1] == '\r'))
			stop--;
		size_t head = MIN((size_t)(stop - start), (size_t)SPLIT_HEAD_MAX);
		size_t skip = log_search_skip((const char *)raw + start, head);
		looked++;
		if (h < start + skip) /* in the timestamp: one further on may count */
			at = skip + nl <= head ? memfind(hay + start + skip, head - skip, needle, nl) : NULL;
		if (at && (size_t)(at - hay) + nl <= start + head)
			hits++;
		pos = next;
	}
	counted(ls, &c, hits, looked);
	pf_find(ls, c.off + end);
	return 0;
}

/* Counting a literal in a chunk with escape sequences: the searchable texts
 * of the lines ending in it (all but its last), each with an LF after it,
 * are gathered, folded at once when the needle is, and looked through in
 * one pass, a line counted at the needle's first place in it (it holds no
 * line end: it cannot run from one text into the next). The last line goes
 * by the line scan. */
static int count_texts(struct logsearch *ls, struct cs_err *err)
{
	int rc;
	struct count_chunk c;
	if ((rc = count_chunk(ls, &c, err)) <= 0)
		return rc;
	const uint32_t *s = c.s;
	const unsigned char *raw = c.raw;
	uint32_t n = c.n, k0 = c.k;
	struct buf *t = &ls->text;
	buf_reset(t);
	/* (no longer than the lines: an LF stands for each terminator) */
	buf_reserve(t, s[n - 1] - s[k0] + 1);
	for (uint32_t k = k0; k + 1 < n; k++) {
		uint32_t start = s[k], stop = s[k + 1];
		while (stop > start && (raw[stop - 1] == '\n' || raw[stop - 1] == '\r'))
			stop--;
		const char *text;
		size_t tl;
		log_search_text((const char *)raw + start,
				MIN((size_t)(stop - start), (size_t)SPLIT_HEAD_MAX), &text, &tl,
				&ls->scratch);
		if (t->len + tl + 1 >= t->alloc) /* (not when a strip only takes away) */
			buf_reserve(t, tl + 1);
		memcpy(t->data + t->len, text, tl);
		t->len += tl;
		t->data[t->len++] = '\n';
	}
	if (t->len > LOG_CHUNK_RAW)
		return 0; /* (a strip never makes more: the line scan, should it) */
	const unsigned char *hay = (const unsigned char *)t->data, *end = hay + t->len;
	if (ls->needle_fold) {
		if (!ls->folded)
			ls->folded = xmalloc(LOG_CHUNK_RAW);
		fold_ascii(ls->folded, hay, t->len);
		end = ls->folded + t->len;
		hay = ls->folded;
	}
	uint64_t hits = 0;
	const unsigned char *at;
	while (hay < end && (at = memfind(hay, (size_t)(end - hay), ls->needle, ls->needle_len))) {
		hits++;
		hay = (const unsigned char *)memchr(at, '\n', (size_t)(end - at)) + 1;
	}
	counted(ls, &c, hits, n - 1 - k0);
	ls->texts_to = c.off + s[n - 1];
	return 0;
}

static int scan_line(void *ctx, const struct split_line *l)
{
	struct logsearch *ls = ctx;
	if (l->lineno < ls->next_line)
		return 0; /* done in an earlier step */
	if (ls->budget == 0)
		return 3; /* the step is over: this line is the next one */
	ls->budget--;
	ls->next_line = l->lineno + 1;
	if (ls->pf && l->off + l->head_len + 2 <= ls->pf_off + ls->pf_len) {
		/* (the last line, which may run into the next chunk, is always
		 * looked at: its head may hold bytes this chunk does not) */
		if (ls->pf_next < l->off)
			pf_find(ls, l->off);
		bool in = ls->pf_next != UINT64_MAX &&
			  ls->pf_next + ls->needle_len <= l->off + l->head_len;
		/* the next one past this line: the lines before it are not
		 * made (logr_chunk_lines_from) */
		if (ls->pf_next < l->off + l->len && l->off + l->len < ls->pf_off + ls->pf_len)
			pf_find(ls, l->off + l->len);
		if (!in)
			return 0;
	}
	const char *text;
	size_t len, a, b;
	if (!matcher_line(ls->m, l, &ls->scratch, &text, &len, &a, &b))
		return 0;
	if (ls->count_only) {
		ls->hits++;
		ls->log_hits++;
		return 0;
	}
	if (!ls->steps_loaded) {
		/* only logs with a hit need their steps */
		if (store_steps(ls->st, ls->ref.job_row_id, &ls->steps, &ls->n_steps, ls->err) < 0)
			return -1;
		ls->steps_loaded = true;
	}
	buf_reset(&ls->text);
	buf_add(&ls->text, text, len);
	struct search_hit h = {.ref = &ls->ref, .line = l->lineno, .text = buf_cstr(&ls->text),
			       .text_len = len, .match_start = a, .match_end = b};
	while (ls->step_i < ls->n_steps && ls->steps[ls->step_i].last_line &&
	       (uint64_t)ls->steps[ls->step_i].last_line < l->lineno)
		ls->step_i++;
	for (int i = ls->step_i; i < ls->n_steps; i++) {
		const struct step *s = &ls->steps[i];
		if (s->first_line && (uint64_t)s->first_line <= l->lineno &&
		    (uint64_t)s->last_line >= l->lineno) {
			h.step_number = s->number;
			h.step_name = s->name;
			break;
		}
		if (s->first_line && (uint64_t)s->first_line > l->lineno)
			break;
	}
	ls->hits++;
	int rc = ls->cb(ls->ctx, &h);
	if (rc)
		ls->stop = rc;
	return rc;
}

static int step(struct logsearch *ls, uint64_t budget, search_cb cb, void *ctx,
		struct cs_err *err);

/* A step is one read transaction: each statement would otherwise take and
 * drop the database's read lock, and with many small logs that locking
 * costs more than the search (the caller's own transaction, if any, is
 * left alone). */
int logsearch_step(struct logsearch *ls, uint64_t budget, search_cb cb, void *ctx,
		   struct cs_err *err)
{
	sqlite3 *db = ls->st->db;
	if (!ls->map_decided && (ls->map_now || ls->chunks_read >= logsearch_many_chunks)) {
		/* many chunks to read (logsearch_new) */
		ls->map_decided = true;
		sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
	}
	bool own = sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	/* what was read ahead in an earlier snapshot goes when another
	 * connection has committed since */
	int64_t v = store_data_version(ls->st);
	if (v != ls->data_version) {
		if (ls->data_version != -1) {
			logr_prefetch_forget(ls->r);
			ls->pre_for = SIZE_MAX;
			free(ls->admits); /* judged on another snapshot */
			ls->admits = NULL;
		}
		ls->data_version = v;
	}
	int rc = step(ls, budget, cb, ctx, err);
	if (own && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc <= 0 && ls->scanning) {
		/* the views opened from the hits read with the usual cache */
		store_scan_end(ls->st);
		ls->scanning = false;
	}
	return rc;
}

static int step(struct logsearch *ls, uint64_t budget, search_cb cb, void *ctx,
		struct cs_err *err)
{
	ls->cb = cb;
	ls->ctx = ctx;
	ls->stop = 0;
	ls->err = err;
	ls->budget = budget ? budget : 1;
	while (ls->budget > 0 && ls->cur < ls->n_logs && !ls->stop) {
		if (!ls->opened) {
			int rc = open_log(ls, err);
			if (rc < 0) {
				close_log(ls);
				return -1;
			}
			if (rc == 0) {
				next_log(ls);
				continue;
			}
		}
		const struct log_entry *e = &ls->logs[ls->cur];
		if (next_admitted(ls, e, &ls->seq, err) < 0) {
			close_log(ls);
			return -1;
		}
		if (ls->seq >= e->chunks) {
			next_log(ls);
			continue;
		}
		if (read_ahead(ls, e, err) < 0 || prefilter(ls, err) < 0 ||
		    (ls->count_only && ls->literal && ls->pf && count_lines(ls, err) < 0) ||
		    (ls->count_only && ls->literal && !ls->pf && ls->one_line &&
		     count_texts(ls, err) < 0)) {
			close_log(ls);
			return -1;
		}
		int rc = logr_chunk_lines_from(ls->r, ls->seq,
					       ls->pf ? &ls->pf_next : ls->texts_to ? &ls->texts_to : NULL,
					       scan_line, ls, err);
		ls->texts_to = 0;
		if (rc == 3 || (rc && ls->stop))
			break; /* resumes at next_line, in this chunk */
		if (rc) {
			close_log(ls);
			return -1;
		}
		matcher_count(ls->m, 1, 0);
		ls->chunks_read++;
		ls->seq++;
	}
	return ls->cur < ls->n_logs ? 1 : 0;
}

int logsearch_admit_all(struct logsearch *ls, uint64_t *bytes, struct cs_err *err)
{
	*bytes = 0;
	sqlite3 *db = ls->st->db;
	bool own = sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	ls->data_version = store_data_version(ls->st);
	size_t total = 0;
	for (size_t i = 0; i < ls->n_logs; i++)
		total += (size_t)ls->logs[i].chunks;
	free(ls->admits);
	ls->admits = xmalloc(total + 1);
	uint64_t chunks = 0, judged = 0, passed = 0, unread = 0, s_judged = 0, s_passed = 0;
	bool gave_up = false;
	int rc = 0;
	size_t off = 0;
	for (size_t i = ls->cur; i < ls->n_logs; i++) {
		struct log_entry *e = &ls->logs[i];
		e->admit_off = off;
		unsigned char *a = ls->admits + off;
		off += (size_t)e->chunks;
		if (ls->ruled && ls->ruled[i]) {
			memset(a, 0, (size_t)e->chunks);
			e->admit_n = 0;
			continue;
		}
		/* A string on nearly every chunk (a common phrase): the filters
		 * passed 15 in 16 of the first sixteenth of the chunks (32 at
		 * least, 256 at most), and reading the rest's would cost more
		 * than decompressing the few they might rule out: the rest are
		 * admitted unread (reading a chunk no line of which matches only
		 * costs time), but for a log in 16 by chunks, still judged: when
		 * those pass fewer than 15 in 16 (the string only in the newest
		 * logs), every filter is read again from there on. */
		if (!ls->admit_rest && !gave_up && judged >= 32 &&
		    (judged * 16 >= total || judged >= 256) && passed * 16 >= judged * 15) {
			ls->admit_rest = true;
			s_judged = s_passed = 0;
		}
		long n;
		if (ls->admit_rest && unread < 15 * (s_judged + 1)) {
			memset(a, 1, (size_t)e->chunks);
			n = (long)e->chunks;
			unread += e->chunks;
		} else if ((n = logfilter_admit(ls->filter, e->log_id, e->raw_size, a, err)) < 0) {
			rc = -1;
			break;
		} else {
			judged += e->chunks;
			passed += (uint64_t)n;
			s_judged += e->chunks;
			s_passed += (uint64_t)n;
			if (ls->admit_rest && s_judged >= 32 && s_passed * 16 < s_judged * 15) {
				ls->admit_rest = false;
				gave_up = true;
			}
		}
		e->admit_n = n;
		chunks += (uint64_t)n;
		for (uint64_t k = 0; k < e->chunks; k++)
			if (a[k])
				*bytes += MIN((uint64_t)LOG_CHUNK_RAW, e->raw_size - k * LOG_CHUNK_RAW);
	}
	if (own && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc < 0) {
		free(ls->admits);
		ls->admits = NULL;
		return -1;
	}
	ls->judged = true;
	ls->no_prefetch = chunks < logsearch_many_chunks;
	/* a few chunks: copied by pread, no map (logsearch_new) */
	if (chunks < logsearch_many_chunks)
		ls->map_decided = true;
	else
		ls->map_now = true;
	return 0;
}

void logsearch_many(struct logsearch *ls, const struct logsearch *like)
{
	ls->judged = true;
	ls->no_prefetch = false;
	ls->map_now = true;
	ls->admit_rest = like->admit_rest;
}

void logsearch_count_only(struct logsearch *ls)
{
	ls->count_only = true;
}

void logsearch_shard(struct logsearch *ls, unsigned k, unsigned n)
{
	/* share k: the chunks starting in bytes [lo, hi) of the logs end to
	 * end in the order of the search (a log ruled out whole weighs
	 * nothing, and goes whole to the share its place falls in) */
	uint64_t total = 0;
	for (size_t i = 0; i < ls->n_logs; i++)
		if (!(ls->ruled && ls->ruled[i]))
			total += ls->logs[i].raw_size;
	uint64_t lo = total / n * k + total % n * k / n;
	uint64_t hi = k + 1 == n ? UINT64_MAX : total / n * (k + 1) + total % n * (k + 1) / n;
	uint64_t base = 0;
	size_t kept = 0;
	ls->bytes_total = 0;
	for (size_t i = 0; i < ls->n_logs; i++) {
		struct log_entry e = ls->logs[i];
		bool whole = (ls->ruled && ls->ruled[i]) || e.chunks == 0;
		if (whole) {
			if (base < lo || base >= hi)
				continue;
		} else {
			/* chunk j starts at base + j * LOG_CHUNK_RAW */
			e.c0 = lo <= base ? 0 : MIN(e.chunks, (lo - base + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW);
			e.c1 = hi == UINT64_MAX ? e.chunks : hi <= base ? 0
			       : MIN(e.chunks, (hi - base + LOG_CHUNK_RAW - 1) / LOG_CHUNK_RAW);
			base += e.raw_size;
			if (e.c0 >= e.c1)
				continue;
		}
		if (ls->ruled)
			ls->ruled[kept] = ls->ruled[i];
		ls->logs[kept++] = e;
		ls->bytes_total += MIN(e.raw_size, (e.c1 - e.c0) * (uint64_t)LOG_CHUNK_RAW);
	}
	ls->n_logs = kept;
}

void logsearch_progress(const struct logsearch *ls, struct logsearch_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->logs_total = (long)ls->n_logs;
	p->logs_done = (long)ls->cur;
	p->bytes_total = ls->bytes_total;
	p->bytes_done = ls->bytes_done;
	if (ls->opened && ls->cur < ls->n_logs) {
		/* a share of the current log by chunks: close enough for a percentage */
		uint64_t at = ls->seq * (uint64_t)LOG_CHUNK_RAW;
		p->bytes_done += MIN(at, ls->logs[ls->cur].raw_size);
	}
	p->hits = ls->hits;
}
