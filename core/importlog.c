/* importlog.c - storing one job's log during an import: the log's bytes
 * (its own file, its entry in the run's archive, or its step files joined)
 * streamed through the log writer (logstore.h), and in the same pass a line
 * callback that attributes lines to steps (by step files, the jobs API's step
 * times, or group markers) and records groups and marker findings. Private
 * to the importer (import_int.h).
 */
#include "import_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "logstore.h"
#include "triage.h"

/* --- line callback: steps, groups, findings ----------------------------------------- */
enum attr_mode { ATTR_NONE, ATTR_STEPFILES, ATTR_TIMES, ATTR_GROUPS, ATTR_PREFIX };

struct step_span {
	int number;
	const char *name;
	int64_t started, completed; /* ms */
	int64_t first_ts_us;        /* ATTR_STEPFILES: first timestamp in its file */
	uint64_t n_lines;           /* ATTR_STEPFILES with no job file: exact length */
	bool skipped;
	int64_t first_line, last_line;
};

/* Rows of one table stored by multi-row INSERTs of 8, 4, 2 and 1 rows
 * (sql[0..3], string literals: the statement cache's keys): a statement
 * per row cost many small logs (a dozen steps and groups each) a fifth of
 * their import time. The rows keep their order, so their ids are those of
 * one INSERT per row. bind(ctx, s, i, first) binds row i at parameter
 * first and returns the parameter after its last. */
typedef int (*row_bind)(void *ctx, sqlite3_stmt *s, int i, int first);

static int insert_rows(struct store *st, const char *const sql[4], int n, row_bind bind,
		       void *ctx)
{
	int done = 0;
	while (done < n) {
		int k = 8, v = 0;
		while (k > n - done) {
			k /= 2;
			v++;
		}
		sqlite3_stmt *s;
		if (store_cached(st, sql[v], &s) != SQLITE_OK)
			return -1;
		int p = 1;
		for (int i = 0; i < k; i++)
			p = bind(ctx, s, done + i, p);
		int rc = sqlite3_step(s);
		store_cached_done(s);
		if (rc != SQLITE_DONE)
			return -1;
		done += k;
	}
	return 0;
}

#define GROUPS_QUEUED 16
#define ROWS2(r) r "," r
#define ROWS4(r) ROWS2(r) "," ROWS2(r)
#define ROWS8(r) ROWS4(r) "," ROWS4(r)
#define GROUP_ROW "(?, ?, ?, 0, ?)"
#define GROUP_INS "INSERT OR REPLACE INTO log_groups (log_id, first_line, last_line, depth, title) VALUES "
static const char *const group_sql[4] = {GROUP_INS ROWS8(GROUP_ROW), GROUP_INS ROWS4(GROUP_ROW),
					 GROUP_INS ROWS2(GROUP_ROW), GROUP_INS GROUP_ROW};
#define STEP_ROW "(?, ?, ?, 'completed', NULL, ?, ?, 'groups')"
#define STEP_INS "INSERT INTO steps (job_id, number, name, status, conclusion, first_line, " \
		 "last_line, attribution) VALUES "
static const char *const step_sql[4] = {STEP_INS ROWS8(STEP_ROW), STEP_INS ROWS4(STEP_ROW),
					STEP_INS ROWS2(STEP_ROW), STEP_INS STEP_ROW};
/* marker findings too: a log with a warning on every fifth line stored
 * one a statement, a fifth of the importing thread's time */
#define FINDINGS_QUEUED 32
#define FINDING_ROW "(?, ?, ?, ?, ?, 'marker', ?)"
#define FINDING_INS "INSERT INTO findings (job_id, step_number, line, end_line, severity, " \
		    "source, message) VALUES "
static const char *const finding_sql[4] = {FINDING_INS ROWS8(FINDING_ROW),
					   FINDING_INS ROWS4(FINDING_ROW),
					   FINDING_INS ROWS2(FINDING_ROW), FINDING_INS FINDING_ROW};

struct log_ctx {
	struct importer *im;
	int64_t job_row_id, log_id;
	enum attr_mode mode;
	struct step_span *steps;
	int n_steps;
	int cur;                    /* current step index, -1 before the first */
	bool exact_lengths;         /* ATTR_STEPFILES from concatenated step files */
	/* the attribution reads the lines' times (ATTR_TIMES, ATTR_STEPFILES
	 * without exact lengths): every line is parsed whole */
	bool needs_ts;
	uint64_t step_end_line;
	/* an open ##[group] */
	bool group_open;
	int64_t group_first;
	int n_gq; /* in gq, fq (below) */
	int n_fq;
	struct buf fmsg;
	struct buf tmp;
	int n_findings;
	/* synthetic steps (ATTR_GROUPS without API steps) */
	struct step_span *synth;
	int n_synth;
	size_t synth_alloc;
	char **synth_names;
	struct cs_err *err;
	int failed;
	/* the queues last: import_job_log() zeroes what comes before them
	 * (zeroing them too was 10 KiB for every log) */
	char group_title[GROUP_TITLE_MAX + 1]; /* group_open's */
	/* closed groups not yet stored: inserted GROUPS_QUEUED at a time
	 * (insert_rows), in the order they closed */
	struct {
		int64_t first, last;
		char title[GROUP_TITLE_MAX + 1];
	} gq[GROUPS_QUEUED];
	/* marker findings not yet stored, their messages end to end in fmsg */
	struct {
		int64_t line;
		int step; /* 0: none */
		const char *severity;
		size_t off, len;
	} fq[FINDINGS_QUEUED];
};

static void step_mark(struct log_ctx *c, uint64_t lineno)
{
	if (c->cur < 0)
		return;
	struct step_span *s = &c->steps[c->cur];
	if (!s->first_line)
		s->first_line = (int64_t)lineno;
	s->last_line = (int64_t)lineno;
}

static int next_candidate(struct log_ctx *c, int from)
{
	for (int i = from + 1; i < c->n_steps; i++)
		if (!c->steps[i].skipped)
			return i;
	return -1;
}

static bool text_is(const struct logline *ll, const char *s)
{
	size_t n = strlen(s);
	return ll->text_len >= n && !memcmp(ll->text, s, n);
}

/* Is this the first line the runner writes for step `name`? */
static bool opens_step(const struct logline *ll, const char *name)
{
	if (ll->kind == LINE_GROUP) {
		size_t n = strlen(name);
		if (ll->msg_len == n && !memcmp(ll->msg, name, n))
			return true;
		return ll->msg_len >= 4 && !memcmp(ll->msg, "Run ", 4);
	}
	if (!strcmp(name, "Complete job"))
		return text_is(ll, "Cleaning up orphan processes");
	if (!strncmp(name, "Post ", 5))
		return text_is(ll, "Post job cleanup.");
	return false;
}

static void attribute(struct log_ctx *c, const struct split_line *l, const struct logline *ll)
{
	switch (c->mode) {
	case ATTR_NONE:
		return;
	case ATTR_PREFIX:
		/* the spans were known before the first line */
		while (c->cur + 1 < c->n_steps && c->steps[c->cur + 1].first_line &&
		       (int64_t)l->lineno >= c->steps[c->cur + 1].first_line)
			c->cur++;
		return;
	case ATTR_STEPFILES:
		if (c->exact_lengths) {
			while (c->cur + 1 < c->n_steps && l->lineno > c->step_end_line) {
				c->cur++;
				c->step_end_line += c->steps[c->cur].n_lines;
			}
		} else if (ll->has_ts) {
			for (;;) {
				int nx = c->cur + 1;
				while (nx < c->n_steps && c->steps[nx].first_ts_us == INT64_MIN)
					nx++;
				if (nx >= c->n_steps || ll->ts_us < c->steps[nx].first_ts_us)
					break;
				c->cur = nx;
			}
			if (c->cur < 0)
				c->cur = 0;
		} else if (c->cur < 0) {
			c->cur = 0;
		}
		break;
	case ATTR_TIMES:
		if (c->cur < 0) {
			c->cur = next_candidate(c, -1);
			if (c->cur < 0)
				return;
		}
		if (ll->has_ts) {
			int64_t ms = ll->ts_us / 1000;
			for (;;) {
				int nx = next_candidate(c, c->cur);
				if (nx < 0 || c->steps[nx].started == CS_TIME_NONE)
					break;
				const struct step_span *cur = &c->steps[c->cur];
				const struct step_span *next = &c->steps[nx];
				/* Step times have second precision, so a boundary inside
				 * one second is found by the line that opens the next
				 * step: its "##[group]Run ..." header, or the runner's
				 * fixed first lines of the complete-job and post steps. */
				bool past_cur = cur->completed != CS_TIME_NONE &&
						ms >= cur->completed + 1000;
				if (ms >= next->started && opens_step(ll, next->name)) {
					/* one opening line opens one step: several steps
					 * that start in the same second each wait for theirs */
					c->cur = nx;
					break;
				}
				if (!(ms >= next->started + 1000 && past_cur))
					break;
				c->cur = nx;
			}
		}
		break;
	case ATTR_GROUPS:
		if (c->cur < 0)
			c->cur = 0;
		if (ll->kind == LINE_GROUP && ll->msg_len >= 4 && !memcmp(ll->msg, "Run ", 4)) {
			/* the next API step whose name is this group's title */
			for (int i = c->cur + 1; i < c->n_steps; i++) {
				size_t n = strlen(c->steps[i].name);
				if (n == ll->msg_len && !memcmp(c->steps[i].name, ll->msg, n)) {
					c->cur = i;
					break;
				}
			}
		}
		break;
	}
	step_mark(c, l->lineno);
}

static int bind_group(void *ctx, sqlite3_stmt *s, int i, int p)
{
	struct log_ctx *c = ctx;
	sqlite3_bind_int64(s, p, c->log_id);
	sqlite3_bind_int64(s, p + 1, c->gq[i].first);
	sqlite3_bind_int64(s, p + 2, c->gq[i].last);
	sqlite3_bind_text(s, p + 3, c->gq[i].title, -1, SQLITE_STATIC);
	return p + 4;
}

/* Store the queued groups. */
static int flush_groups(struct log_ctx *c)
{
	int n = c->n_gq;
	c->n_gq = 0;
	if (n && insert_rows(c->im->st, group_sql, n, bind_group, c) < 0)
		return store_err(c->im->st, c->err, "cannot store a log group");
	return 0;
}

/* The open group closes at line last: queued, stored GROUPS_QUEUED at a time. */
static int insert_group(struct log_ctx *c, int64_t first, int64_t last)
{
	if (c->n_gq == GROUPS_QUEUED && flush_groups(c) < 0)
		return -1;
	c->gq[c->n_gq].first = first;
	c->gq[c->n_gq].last = last;
	memcpy(c->gq[c->n_gq].title, c->group_title, sizeof(c->group_title));
	c->n_gq++;
	return 0;
}

static int bind_finding(void *ctx, sqlite3_stmt *s, int i, int p)
{
	struct log_ctx *c = ctx;
	sqlite3_bind_int64(s, p, c->job_row_id);
	if (c->fq[i].step)
		sqlite3_bind_int(s, p + 1, c->fq[i].step);
	else
		sqlite3_bind_null(s, p + 1);
	sqlite3_bind_int64(s, p + 2, c->fq[i].line);
	sqlite3_bind_int64(s, p + 3, c->fq[i].line);
	sqlite3_bind_text(s, p + 4, c->fq[i].severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, p + 5, c->fmsg.data ? c->fmsg.data + c->fq[i].off : "",
			  (int)c->fq[i].len, SQLITE_STATIC);
	return p + 6;
}

/* Store the queued findings. */
static int flush_findings(struct log_ctx *c)
{
	int n = c->n_fq;
	c->n_fq = 0;
	int rc = n ? insert_rows(c->im->st, finding_sql, n, bind_finding, c) : 0;
	buf_reset(&c->fmsg);
	if (rc < 0)
		return store_err(c->im->st, c->err, "cannot store a finding");
	return 0;
}

/* Synthetic steps for logs without API steps: the runner opens every step
 * with "##[group]Run <what>"; the lines before the first are "Set up job".
 * A log without such a header has no steps: "no steps known" beats a wrong
 * name. */
static void synth_step(struct log_ctx *c, const char *name, size_t n, uint64_t lineno)
{
	if (c->n_synth > 0)
		c->synth[c->n_synth - 1].last_line = (int64_t)lineno - 1;
	XGROW(c->synth, c->synth_alloc, (size_t)c->n_synth + 1);
	c->synth_names = xrealloc(c->synth_names, sizeof(char *) * (c->synth_alloc));
	struct step_span *s = &c->synth[c->n_synth];
	memset(s, 0, sizeof(*s));
	c->synth_names[c->n_synth] = xstrndup(name, n);
	s->name = c->synth_names[c->n_synth];
	s->number = c->n_synth + 1;
	s->first_line = (int64_t)lineno;
	s->last_line = (int64_t)lineno;
	c->n_synth++;
}

static int on_line(void *ctx, const struct split_line *l)
{
	struct log_ctx *c = ctx;
	struct logline ll;
	/* Only a marker ('#') or a line that opens a step ("Post job
	 * cleanup.", "Cleaning up orphan processes") is more than a plain line
	 * here, and only the times need a timestamp parsed: most lines are
	 * known as plain by their first bytes (parsing every timestamp was a
	 * tenth of a small log's importing thread) */
	if (!c->needs_ts && !logline_text_may_start(l->head, l->head_len, "#PC")) {
		if (c->mode != ATTR_NONE) {
			logline_parse(NULL, 0, &ll); /* a plain line with no time */
			attribute(c, l, &ll);
		} else if (c->n_synth) {
			c->synth[c->n_synth - 1].last_line = (int64_t)l->lineno;
		}
		return 0;
	}
	logline_parse(l->head, l->head_len, &ll);

	if (c->mode == ATTR_NONE) {
		if (ll.kind == LINE_GROUP && ll.msg_len >= 4 && !memcmp(ll.msg, "Run ", 4)) {
			if (c->n_synth == 0 && l->lineno > 1) {
				synth_step(c, "Set up job", 10, 1);
				c->synth[0].last_line = (int64_t)l->lineno - 1;
			}
			synth_step(c, ll.msg, MIN(ll.msg_len, (size_t)GROUP_TITLE_MAX), l->lineno);
		} else if (c->n_synth > 0 && text_is(&ll, "Post job cleanup.")) {
			synth_step(c, "Post job cleanup", 16, l->lineno);
		} else if (c->n_synth > 0 && text_is(&ll, "Cleaning up orphan processes")) {
			synth_step(c, "Complete job", 12, l->lineno);
		}
		if (c->n_synth)
			c->synth[c->n_synth - 1].last_line = (int64_t)l->lineno;
	} else {
		attribute(c, l, &ll);
	}

	if (ll.kind == LINE_GROUP || ll.kind == LINE_ENDGROUP) {
		/* Actions groups do not nest: a new group closes the open one. */
		if (c->group_open) {
			int64_t last = ll.kind == LINE_ENDGROUP ? (int64_t)l->lineno
							       : (int64_t)l->lineno - 1;
			if (insert_group(c, c->group_first, last) < 0)
				return -1;
			c->group_open = false;
		}
		if (ll.kind == LINE_GROUP) {
			buf_reset(&c->tmp);
			ansi_strip(ll.msg, MIN(ll.msg_len, (size_t)GROUP_TITLE_MAX), &c->tmp);
			size_t n = MIN(c->tmp.len, (size_t)GROUP_TITLE_MAX);
			memcpy(c->group_title, c->tmp.data ? c->tmp.data : "", n);
			c->group_title[n] = '\0';
			c->group_first = (int64_t)l->lineno;
			c->group_open = true;
		}
	} else if (ll.kind == LINE_ERROR || ll.kind == LINE_WARNING || ll.kind == LINE_NOTICE) {
		buf_reset(&c->tmp);
		ansi_strip(ll.msg, MIN(ll.msg_len, (size_t)FINDING_MSG_MAX * 2), &c->tmp);
		size_t n = MIN(c->tmp.len, (size_t)FINDING_MSG_MAX);
		while (n > 0 && n < c->tmp.len && ((unsigned char)c->tmp.data[n] & 0xc0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
		if (c->n_fq == FINDINGS_QUEUED && flush_findings(c) < 0)
			return -1;
		int step = 0;
		if (c->mode == ATTR_NONE && c->n_synth)
			step = c->synth[c->n_synth - 1].number;
		else if (c->mode != ATTR_NONE && c->cur >= 0)
			step = c->steps[c->cur].number;
		c->fq[c->n_fq].line = (int64_t)l->lineno;
		c->fq[c->n_fq].step = step;
		c->fq[c->n_fq].severity = ll.kind == LINE_ERROR	    ? "error"
					  : ll.kind == LINE_WARNING ? "warning"
								    : "notice";
		c->fq[c->n_fq].off = c->fmsg.len;
		c->fq[c->n_fq].len = n;
		buf_add(&c->fmsg, c->tmp.data ? c->tmp.data : "", n);
		c->n_fq++;
		c->n_findings++;
	}
	return 0;
}

/* --- storing one job's log --------------------------------------------------------- */
/* The rules scan of a big log on the log writer's worker keeps every
 * finding until triage replays it: past BIG_SCAN_HITS of them it gives up
 * (triage reads that log back and scans it itself), so memory stays flat
 * however many findings a log has (a few hundred bytes each). */
#define BIG_SCAN_HITS 65536

struct big_scan {
	struct triage_prescan_ws *ws;
	struct triage_prescan *pre;
};

static int big_scan_line(void *ctx, const struct split_line *l)
{
	struct big_scan *b = ctx;
	if ((l->lineno & 255) == 0 && triage_prescan_hits(b->pre) > BIG_SCAN_HITS)
		return -1;
	return triage_prescan_line(b->ws, l);
}

struct log_sink {
	struct importer *im;
	struct logw *w;
	struct cs_err *err;
	uint64_t bytes;
	char last;      /* the last byte written */
	int mem;        /* the im->mem entry that keeps the bytes, or -1 */
};

void import_mem_reset(struct importer *im)
{
	for (int i = 0; i < im->n_mem; i++) {
		triage_prescan_free(im->mem[i].pre);
		im->mem[i].pre = NULL;
		buf_release(&im->mem[i].data);
		store_steps_free(im->mem[i].steps, im->mem[i].n_steps);
		im->mem[i].steps = NULL;
		im->mem[i].n_steps = 0;
		im->mem[i].steps_known = false;
	}
	im->n_mem = 0;
	im->mem_total = 0;
}

/* A log given alone is kept in memory while the run's logs total at most
 * LOG_MEM_MAX: triage scans it from there (a small log is then read from
 * the index only for the excerpts of a job that failed). */
static void mem_keep(struct log_sink *k, const void *data, size_t n)
{
	struct importer *im = k->im;
	struct log_mem *m = &im->mem[k->mem];
	if (n >= LOG_TAIL_MAX) {
		memcpy(m->tail, (const char *)data + n - LOG_TAIL_MAX, LOG_TAIL_MAX);
		m->tail_len = LOG_TAIL_MAX;
	} else {
		size_t keep = MIN(m->tail_len, LOG_TAIL_MAX - n);
		memmove(m->tail, m->tail + m->tail_len - keep, keep);
		memcpy(m->tail + keep, data, n);
		m->tail_len = keep + n;
	}
	if (m->over)
		return;
	if (im->mem_total + n > LOG_MEM_MAX) {
		m->over = true;
		im->mem_total -= m->data.len;
		buf_release(&m->data);
		return;
	}
	buf_add(&m->data, data, n);
	im->mem_total += n;
}

void import_mem_tail(const struct log_mem *m, const char **s, size_t *n)
{
	if (!m->over && m->data.data) {
		*s = m->data.data;
		*n = m->data.len;
	} else {
		*s = m->tail;
		*n = m->tail_len;
	}
}

static int sink_write(void *ctx, const void *data, size_t n)
{
	struct log_sink *k = ctx;
	if (import_interrupted(k->im))
		return err_set(k->err, CS_EINTR, "interrupted");
	k->bytes += n;
	if (n)
		k->last = ((const char *)data)[n - 1];
	if (k->mem >= 0)
		mem_keep(k, data, n);
	import_progress_add(k->im, n, 0);
	return logw_write(k->w, data, n, k->err);
}

/* A log file's bytes: from memory when the run holds them (run_src.file),
 * in the same pieces as from the file. */
static int stream_file(const char *path, const struct run_src *rs, zip_data_cb cb, void *ctx,
		       struct cs_err *err)
{
	if (rs->file_in_mem) {
		int rc = 0;
		for (size_t at = 0; at < rs->file.len && !rc; at += 1 << 16)
			rc = cb(ctx, rs->file.data + at, MIN((size_t)1 << 16, rs->file.len - at));
		return rc;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	static char piece[1 << 16];
	size_t r;
	int rc = 0;
	while ((r = fread(piece, 1, sizeof(piece), f)) > 0)
		if ((rc = cb(ctx, piece, r)) != 0)
			break;
	if (!rc && ferror(f))
		rc = err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return rc;
}

/* A job of a gh-log file: its byte range, each line without the
 * job<TAB>step<TAB> prefix (the scan in import.c checked that every line
 * has it). The store keeps the lines; raw output puts the prefixes back from
 * the job's name and its steps' line spans. */
static int stream_gh_job(const char *path, const struct run_src *rs, const struct job_src *js,
			 zip_data_cb cb, void *ctx, struct cs_err *err)
{
	FILE *f = rs->file_in_mem ? fmemopen(rs->file.data, rs->file.len, "rb") : fopen(path, "rb");
	if (!f)
		return err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	int rc = 0;
	if (fseeko(f, (off_t)js->gh_off, SEEK_SET) < 0)
		rc = err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t left = js->gh_len;
	while (!rc && left > 0 && (n = getline(&line, &cap, f)) > 0) {
		left -= MIN(left, (uint64_t)n);
		const char *t1 = memchr(line, '\t', (size_t)n);
		const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)n - (size_t)(t1 + 1 - line)) : NULL;
		if (!t2) {
			rc = err_set(err, CS_EINVAL, "'%s' changed while it was read", path);
			break;
		}
		rc = cb(ctx, t2 + 1, (size_t)n - (size_t)(t2 + 1 - line));
	}
	if (!rc && (ferror(f) || left))
		rc = err_set(err, CS_EIO, "cannot read '%s': %s", path,
			     ferror(f) ? strerror(errno) : "it got shorter");
	free(line);
	fclose(f);
	return rc;
}

/* The first timestamp of a step file (archive entry), for ATTR_STEPFILES. */
struct first_ts {
	struct splitter sp;
	int64_t ts;
};

static int first_ts_line(void *ctx, const struct split_line *l)
{
	struct first_ts *f = ctx;
	struct logline ll;
	logline_parse(l->head, l->head_len, &ll);
	if (ll.has_ts) {
		f->ts = ll.ts_us;
		return 1;
	}
	return 0;
}

static int first_ts_data(void *ctx, const void *data, size_t n)
{
	struct first_ts *f = ctx;
	return splitter_feed(&f->sp, data, n);
}

struct count_lines {
	struct splitter sp;
};

static int count_line(void *ctx, const struct split_line *l)
{
	return 0;
}

static int count_data(void *ctx, const void *data, size_t n)
{
	struct count_lines *c = ctx;
	return splitter_feed(&c->sp, data, n);
}

static int bind_synth_step(void *ctx, sqlite3_stmt *s, int i, int p)
{
	struct log_ctx *c = ctx;
	sqlite3_bind_int64(s, p, c->job_row_id);
	sqlite3_bind_int(s, p + 1, c->synth[i].number);
	sqlite3_bind_text(s, p + 2, c->synth[i].name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, p + 3, c->synth[i].first_line);
	sqlite3_bind_int64(s, p + 4, c->synth[i].last_line);
	return p + 5;
}

static int save_steps(struct importer *im, struct log_ctx *c, const char *attribution,
		      struct cs_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;
	if (c->mode == ATTR_NONE) {
		if (insert_rows(im->st, step_sql, c->n_synth, bind_synth_step, c) < 0)
			return store_err(im->st, err, "cannot store steps");
		return 0;
	} else {
		if (store_cached(im->st,
				 "UPDATE steps SET first_line = ?, last_line = ?, attribution = ? "
				 "WHERE job_id = ? AND number = ?",
				 &s) != SQLITE_OK)
			return store_err(im->st, err, "cannot store steps");
		for (int i = 0; i < c->n_steps && !rc; i++) {
			if (!c->steps[i].first_line)
				continue;
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, c->steps[i].first_line);
			sqlite3_bind_int64(s, 2, c->steps[i].last_line);
			sqlite3_bind_text(s, 3, attribution, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, c->job_row_id);
			sqlite3_bind_int(s, 5, c->steps[i].number);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = store_err(im->st, err, "cannot store steps");
		}
	}
	store_cached_done(s);
	return rc;
}

static int span_cmp(const void *a, const void *b)
{
	const struct step_span *x = a, *y = b;
	return (x->number > y->number) - (x->number < y->number);
}

static int load_api_steps(struct log_ctx *c, const cJSON *job)
{
	const cJSON *steps = job ? cJSON_GetObjectItemCaseSensitive(job, "steps") : NULL;
	int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
	if (n <= 0)
		return 0;
	c->steps = xcalloc((size_t)n, sizeof(*c->steps));
	const cJSON *st;
	cJSON_ArrayForEach(st, steps)
	{
		int64_t num = c->n_steps + 1;
		import_jint(st, "number", &num);
		struct step_span *s = &c->steps[c->n_steps++];
		s->number = (int)num;
		s->name = import_jstr(st, "name") ? import_jstr(st, "name") : "";
		s->started = import_jtime(st, "started_at");
		s->completed = import_jtime(st, "completed_at");
		const char *concl = import_jstr(st, "conclusion");
		s->skipped = concl && !strcmp(concl, "skipped");
		s->first_ts_us = INT64_MIN;
	}
	/* attribution walks steps in time order, which is number order; an
	 * archive lists its step files in any order */
	qsort(c->steps, (size_t)c->n_steps, sizeof(*c->steps), span_cmp);
	return n;
}

static struct step_span *span_by_number(struct log_ctx *c, int number)
{
	for (int k = 0; k < c->n_steps; k++)
		if (c->steps[k].number == number)
			return &c->steps[k];
	return NULL;
}

/* Prepare ATTR_STEPFILES: each step file's first timestamp when a whole-job
 * file exists, else (the log is the files' concatenation) exact lengths. */
static int prepare_step_files(struct importer *im, struct run_src *rs, struct job_src *js,
			      struct log_ctx *c, bool whole_job, struct cs_err *err)
{
	if (!whole_job) {
		struct step_span *ordered = xcalloc((size_t)js->n_step_entries, sizeof(*ordered));
		int n = 0;
		for (int i = 0; i < js->n_step_entries; i++) {
			struct step_span *s = span_by_number(c, js->step_numbers[i]);
			if (s)
				ordered[n++] = *s;
		}
		free(c->steps);
		c->steps = ordered;
		c->n_steps = n;
		c->exact_lengths = true;
	}
	for (int i = 0; i < js->n_step_entries; i++) {
		struct step_span *s = span_by_number(c, js->step_numbers[i]);
		if (!s)
			continue;
		int rc;
		if (whole_job) {
			struct first_ts f = {.ts = INT64_MIN};
			splitter_init(&f.sp, first_ts_line, &f);
			rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i], LOG_MAX,
					   first_ts_data, &f, err);
			if (rc == 0)
				rc = splitter_finish(&f.sp);
			if (rc < 0)
				return -1;
			s->first_ts_us = f.ts;
		} else {
			struct count_lines cl;
			splitter_init(&cl.sp, count_line, &cl);
			rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i], LOG_MAX, count_data,
					   &cl, err);
			if (rc == 0)
				rc = splitter_finish(&cl.sp);
			if (rc < 0)
				return -1;
			s->n_lines = cl.sp.lineno;
		}
		(void)im;
	}
	return 0;
}

int import_job_log(struct importer *im, struct run_src *rs, struct job_src *js,
			 struct cs_err *err)
{
	bool have_file = js->log_file != NULL;
	bool have_entry = js->zip_entry >= 0;
	bool have_steps = js->n_step_entries > 0 && rs->zip;
	if (!have_file && !have_entry && !have_steps)
		return 0;

	struct log_ctx c;
	memset(&c, 0, offsetof(struct log_ctx, group_title));
	c.im = im;
	c.job_row_id = js->row_id;
	c.cur = -1;
	c.err = err;
	buf_init(&c.tmp);
	buf_init(&c.fmsg);
	int n_api = load_api_steps(&c, js->json);
	const char *attribution;
	int rc = 0;

	if (js->gh) {
		c.mode = ATTR_PREFIX;
		attribution = "prefix";
		for (int i = 0; i < c.n_steps && i < js->n_gh_steps; i++) {
			c.steps[i].first_line = js->gh_steps[i].first_line;
			c.steps[i].last_line = js->gh_steps[i].last_line;
		}
	} else if (have_steps && n_api > 0) {
		c.mode = ATTR_STEPFILES;
		attribution = "step-files";
		rc = prepare_step_files(im, rs, js, &c, have_file || have_entry, err);
	} else if (n_api > 0) {
		bool have_times = false;
		for (int i = 0; i < c.n_steps; i++)
			if (c.steps[i].started != CS_TIME_NONE)
				have_times = true;
		c.mode = have_times ? ATTR_TIMES : ATTR_GROUPS;
		attribution = have_times ? "times" : "groups";
	} else {
		c.mode = ATTR_NONE;
		attribution = "groups";
	}

	c.needs_ts = c.mode == ATTR_TIMES || (c.mode == ATTR_STEPFILES && !c.exact_lengths);
	struct logw *w = NULL;
	if (!rc) {
		w = logw_begin(im->st, js->row_id, on_line, &c, err);
		if (!w)
			rc = -1;
	}
	/* a big log given alone: the writer's worker scans it with the rules
	 * as it builds its filters, and triage replays that scan instead of
	 * reading the log back and scanning it on this thread */
	struct triage_prescan *pre = NULL;
	struct big_scan big;
	int mem_at = -1;
	uint64_t log_bytes = 0;
	/* (not a log whose only chunk was made ahead: its writer has no
	 * worker, and the read-ahead thread scanned it already) */
	bool prepped = have_file && !js->gh && rs->file_in_mem && rs->file_prep.ok &&
		       rs->file_prep.raw_len == rs->file.len;
	if (!rc && rs->log_alone && !prepped) {
		if (!im->scan_ws_tried) {
			im->scan_ws = triage_prescan_ws_new();
			im->scan_ws_tried = true;
		}
		if (im->scan_ws) {
			pre = triage_prescan_new();
			triage_prescan_begin(im->scan_ws, pre);
			big.ws = im->scan_ws;
			big.pre = pre;
			logw_also(w, big_scan_line, &big);
		}
	}
	if (!rc) {
		c.log_id = logw_log_id(w);
		struct log_sink sink = {.im = im, .w = w, .err = err, .mem = -1};
		if (rs->log_alone) {
			XGROW(im->mem, im->mem_alloc, (size_t)im->n_mem + 1);
			struct log_mem *m = &im->mem[im->n_mem];
			memset(m, 0, sizeof(*m));
			m->job_row_id = js->row_id;
			sink.mem = im->n_mem++;
		}
		const char *source;
		if (have_file && js->gh) {
			source = "gh-log";
			rc = stream_gh_job(js->log_file, rs, js, sink_write, &sink, err);
		} else if (have_file) {
			source = "file";
			if (rs->file_in_mem)
				logw_use_prep(w, &rs->file_prep, rs->file.data, rs->file.len);
			rc = stream_file(js->log_file, rs, sink_write, &sink, err);
		} else if (have_entry) {
			source = "job-file";
			rc = ziparc_stream(rs->zip, (uint64_t)js->zip_entry, LOG_MAX, sink_write,
					   &sink, err);
		} else {
			source = "step-files";
			for (int i = 0; i < js->n_step_entries && !rc; i++) {
				/* a step file without a final newline must not run
				 * into the next step's first line */
				if (sink.bytes && sink.last != '\n' && sink.last != '\r')
					rc = sink_write(&sink, "\n", 1);
				if (!rc)
					rc = ziparc_stream(rs->zip, (uint64_t)js->step_entries[i],
							   LOG_MAX, sink_write, &sink, err);
			}
		}
		import_progress_add(im, 0, 1);
		logw_set_source(w, source);
		mem_at = sink.mem;
		log_bytes = sink.bytes;
		int64_t log_id = rc ? -1 : logw_finish(w, err);
		if (log_id < 0)
			rc = -1;
		if (!rc && c.group_open)
			rc = insert_group(&c, c.group_first, logw_line_count(w));
		if (!rc)
			rc = flush_groups(&c);
		if (!rc)
			rc = flush_findings(&c);
		if (!rc)
			rc = save_steps(im, &c, attribution, err);
		/* the rows save_steps() inserted, as store_steps() reads them */
		if (!rc && sink.mem >= 0 && c.mode == ATTR_NONE) {
			struct log_mem *m = &im->mem[sink.mem];
			m->steps = c.n_synth ? xcalloc((size_t)c.n_synth, sizeof(*m->steps)) : NULL;
			for (int i = 0; i < c.n_synth; i++) {
				struct step *d = &m->steps[i];
				d->number = c.synth[i].number;
				d->name = xstrdup(c.synth[i].name);
				d->status = xstrdup("completed");
				d->conclusion = NULL;
				d->started_at = d->completed_at = CS_TIME_NONE;
				d->first_line = c.synth[i].first_line;
				d->last_line = c.synth[i].last_line;
			}
			m->n_steps = c.n_synth;
			m->steps_known = true;
		}
	}
	/* the worker is done with the scan once the writer is finished or freed */
	uint64_t scanned_lines = 0;
	bool scanned = !rc && pre && logw_also_done(w, &scanned_lines);
	if (rc && !err->msg[0])
		err_set(err, CS_EINVAL, "cannot store the log");
	if (rc)
		err_prefix(err, "job '%s' log", js->name);
	js->n_findings = c.n_findings;
	logw_free(w);
	if (pre) {
		triage_prescan_end(im->scan_ws, scanned, scanned_lines, (size_t)log_bytes);
		struct log_mem *m = mem_at >= 0 ? &im->mem[mem_at] : NULL;
		if (m && m->over && triage_prescan_ok(pre, (size_t)log_bytes)) {
			m->pre = pre;
			m->len = (size_t)log_bytes;
		} else {
			triage_prescan_free(pre);
		}
	}
	buf_release(&c.tmp);
	buf_release(&c.fmsg);
	free(c.steps);
	for (int i = 0; i < c.n_synth; i++)
		free(c.synth_names[i]);
	free(c.synth_names);
	free(c.synth);
	return rc ? -1 : 0;
}

