/* logview.h - the log pager's model, independent of curses.
 *
 * A logview opens one stored log and turns it into display rows:
 *  - one row per log line (several in wrap mode);
 *  - a step header row before the first line of each step whose lines are
 *    known ("── step 3: Run npm test ── 1m 12s ✗" is drawn by the view);
 *  - a folded ##[group] shows as one summary row standing for all its lines.
 * Little is read from the log at open: the line count comes from the logs
 * row, steps, groups and findings are rows of their own tables (the last
 * lines of the first LV_HIDE_OPEN groups are read, to hide ##[endgroup]
 * lines; the rest in slices: logview_hide_step), and the
 * mapping between rows and lines is a short list of segments (one per step
 * header, fold and run of plain lines), so a 1 GB log opens at once and any
 * row is found by binary search. Lines are read when asked for (the log
 * store decompresses one chunk). Memory grows with the number of groups,
 * steps and findings, not with the log; wrap mode adds 16 bytes per line
 * that takes more than one row (at most LV_WRAP_MAX_ENTRIES of them).
 *
 * Search runs in bounded slices (lv_search_step) so a caller can show
 * progress between slices and stop at any time.
 *
 * Line numbers are 1-based; rows are 0-based.
 */
#ifndef CS_LOGVIEW_H
#define CS_LOGVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "logparse.h"
#include "search.h"
#include "store.h"
#include "util.h"

#define LV_LINE_MAX (64 * 1024)        /* bytes of a line read for display */
#define LV_WRAP_MAX_ENTRIES (2u << 20) /* wrapped lines remembered */

struct logview;

/* Open log_id (of jobs.id job_row_id, whose steps and findings are shown). */
struct logview *logview_open(struct store *st, int64_t job_row_id, int64_t log_id,
			     struct cs_err *err);
void logview_close(struct logview *lv);
/* Open another log in lv's place (the same job re-imported, or grown): groups
 * keep their folded state where the new log has a group starting at the
 * same line; wrapping restarts from nothing (call logview_wrap_begin again). */
int logview_reopen(struct logview *lv, int64_t job_row_id, int64_t log_id, struct cs_err *err);

uint64_t logview_line_count(const struct logview *lv);
int64_t logview_log_id(const struct logview *lv);

/* --- rows ------------------------------------------------------------------- */
enum lv_row_kind {
	LV_ROW_LINE,   /* a log line (or, wrapping, one piece of it) */
	LV_ROW_STEP,   /* a step header, before the step's first line */
	LV_ROW_FOLD,   /* a folded group: one row for its lines */
};

struct lv_row {
	enum lv_row_kind kind;
	uint64_t line;  /* LINE: the line; STEP: the step's first line; FOLD: the group's */
	int sub;        /* LINE: which piece of a wrapped line (0: the first) */
	int step;       /* STEP: index into logview_step(); LINE, FOLD: the step holding
			 * the line, or -1 */
	int group;      /* FOLD: index into logview_group(); else -1 */
};

long logview_rows(const struct logview *lv);
/* What row shows; false when row is out of range. */
bool logview_row(const struct logview *lv, long row, struct lv_row *out);
/* The row showing line (sub-row 0): the fold's row when a folded group hides
 * it; -1 when line is out of range. */
long logview_row_of_line(const struct logview *lv, uint64_t line);
/* The line a row stands for (a step header: its step's first line). */
uint64_t logview_line_of_row(const struct logview *lv, long row);

/* --- steps, groups, folding -------------------------------------------------- */
int logview_n_steps(const struct logview *lv);
const struct step *logview_step(const struct logview *lv, int i);
/* The step holding line, or -1. */
int logview_step_of_line(const struct logview *lv, uint64_t line);

int logview_n_groups(const struct logview *lv);
const struct log_group *logview_group(const struct logview *lv, int i);
bool logview_group_folded(const struct logview *lv, int i);
/* The innermost group holding line, or -1. */
int logview_group_of_line(const struct logview *lv, uint64_t line);
/* Fold or unfold group i. */
void logview_set_fold(struct logview *lv, int i, bool folded);
/* Fold every group, or unfold every group when all are folded already;
 * returns true when the groups are now folded. */
bool logview_fold_all(struct logview *lv);
/* Fold or unfold step i: folded, its header row stands for all its lines
 * (as a folded group's summary row does for the group's). */
bool logview_step_folded(const struct logview *lv, int i);
void logview_set_step_fold(struct logview *lv, int i, bool folded);
/* An ##[endgroup] line that closes a group takes no row (GitHub hides them
 * too; the stored log and `ciscope log` keep them): logview_row never
 * returns it, logview_row_of_line gives the row after it, and search
 * passes over it. */
bool logview_line_hidden(const struct logview *lv, uint64_t line);
/* Knowing which lines to hide reads the last line of each group: open reads
 * those of the first LV_HIDE_OPEN groups, logview_hide_step those of the
 * next `budget` (true while groups remain; rows change as lines hide). */
#define LV_HIDE_OPEN 256
bool logview_hide_step(struct logview *lv, int budget);
bool logview_hiding(const struct logview *lv);
/* Unfold whatever hides line (a folded group or step); true if anything
 * changed. */
bool logview_reveal(struct logview *lv, uint64_t line);

/* --- one line ------------------------------------------------------------------ */
struct lv_line {
	uint64_t lineno;
	struct buf raw;        /* the line's bytes, at most LV_LINE_MAX */
	bool truncated;        /* the line is longer than raw */
	struct logline ll;     /* parsed; ll.text points into raw */
	int step;              /* the step holding it, or -1 */
	int64_t rel_ms;        /* time since its step's first timestamp (the log's
				* first one outside steps), or CS_TIME_NONE */
};

void lv_line_init(struct lv_line *l);
void lv_line_release(struct lv_line *l);
int logview_line(struct logview *lv, uint64_t n, struct lv_line *out, struct cs_err *err);
/* The time of line (us since the epoch): its timestamp, else its step's
 * first one, else the log's first one; CS_TIME_NONE when there is none
 * (the date shown once in the pager's title). */
int64_t logview_ts_near(struct logview *lv, uint64_t line);
/* "10:48:36.810" (UTC time of day with milliseconds), 13 bytes with NUL. */
void lv_format_ts(int64_t ts_us, char *out, size_t n);
/* "+01:12.345" under an hour, "+1:02:03" after: always 10 columns. */
void lv_format_rel(int64_t ms, char *out, size_t n);

/* --- findings ---------------------------------------------------------------- */
int logview_n_findings(const struct logview *lv);
const struct finding *logview_finding(const struct logview *lv, int i);
/* The next error or warning finding after line (dir > 0) or before it
 * (dir < 0); -1 when there is none. */
int logview_next_finding(const struct logview *lv, uint64_t line, int dir);

/* --- search ------------------------------------------------------------------ */
/* A search from a line (exclusive) towards the end (or the start when
 * backward), going on from the other end until it is back at from. The
 * matcher belongs to the caller and must outlive the search. */
struct lv_search;
enum lv_search_state { LV_SEARCH_MORE, LV_SEARCH_FOUND, LV_SEARCH_NONE, LV_SEARCH_ERROR };

struct lv_search *lv_search_new(struct logview *lv, struct matcher *m, bool backward,
				uint64_t from);
/* Scan at most budget lines. FOUND: the match is lv_search_found(); MORE:
 * call again; NONE: no line matches; ERROR: err says why. After FOUND the
 * search may go on to the next match (a new search is not needed). */
enum lv_search_state lv_search_step(struct lv_search *s, uint64_t budget, struct cs_err *err);
uint64_t lv_search_found(const struct lv_search *s);
bool lv_search_wrapped(const struct lv_search *s); /* went past an end */
void lv_search_progress(const struct lv_search *s, uint64_t *done, uint64_t *total);
void lv_search_free(struct lv_search *s);

/* Matches of m in a line's text (ll.text: escape sequences included), as
 * byte ranges of that text; matching sees the text without its escape
 * sequences, exactly as search does. Returns the number of spans (at most
 * max; the rest are dropped). */
struct lv_span {
	size_t start, end;
};
int lv_highlights(struct matcher *m, const char *text, size_t n, struct lv_span *spans, int max);

/* --- wrap ---------------------------------------------------------------------- */
/* Rows a line's text (after its timestamp) takes when wrapped at cols
 * columns: the caller's width and line-breaking rules. Lines longer than
 * SPLIT_HEAD_MAX bytes are measured by their head; the rest of them (up to
 * LV_LINE_MAX) counts as one column per byte. */
typedef long (*lv_rows_fn)(void *ctx, const char *text, size_t n, int cols);
/* Start wrapping at cols columns. Lines are measured by lv_wrap_step, in
 * order; until a line is measured it takes one row. */
void logview_wrap_begin(struct logview *lv, int cols, lv_rows_fn fn, void *ctx);
/* Measure up to budget more lines; true while lines remain. */
bool logview_wrap_step(struct logview *lv, uint64_t budget, struct cs_err *err);
void logview_wrap_end(struct logview *lv);
bool logview_wrapping(const struct logview *lv);
int logview_wrap_cols(const struct logview *lv);
uint64_t logview_wrap_measured(const struct logview *lv); /* lines measured so far */
/* Rows line takes (1 unless wrapped). */
int logview_line_rows(const struct logview *lv, uint64_t line);

#endif
