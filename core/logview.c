/* logview.c - the log pager's model: rows over a stored log, folding, step
 * headers, per-line display data, finding jumps, sliced search, wrapping.
 *
 * Rows are described by segments, in line order: a step header (one row), a
 * folded group (one row for its lines) or a run of visible lines (one row
 * per line, plus the extra rows of wrapped lines). Segments are rebuilt from
 * the groups, steps and fold flags whenever one of them changes; that costs
 * O(groups + steps), never O(lines).
 *
 * Wrapped lines are a sorted list of (line, cumulative extra rows); the rows
 * of a run of lines are its line count plus the extras inside it, found by
 * two binary searches.
 */
#include "logview.h"

#include <stdlib.h>
#include <string.h>

#include "logstore.h"

#define T0_UNKNOWN (INT64_MIN + 1) /* not looked up yet */
#define T0_NONE INT64_MIN          /* no timestamp to measure from */
#define WRAP_MAX_ROWS 4096         /* rows one line may take */

enum seg_kind { SEG_LINES, SEG_STEP, SEG_FOLD };

struct seg {
	enum seg_kind kind;
	uint64_t first, last; /* lines; SEG_STEP: first = last = the step's first line */
	int idx;              /* SEG_STEP: step index; SEG_FOLD: group index */
	long row, nrows;
};

struct wrap_entry {
	uint64_t line;
	uint64_t cum; /* extra rows of this entry and every one before it */
};

struct logview {
	struct store *st;
	struct logr *r;
	int64_t job_id, log_id;
	uint64_t n_lines;

	struct step *steps;
	int n_steps;
	int *order;           /* steps with known lines, by first line */
	int n_order;
	int64_t *step_t0;     /* per step: first timestamp (us), T0_* */
	int64_t log_t0;

	struct log_group *groups;
	int n_groups;
	bool *folded;
	bool *step_folded;    /* per step: its header row stands for its lines */
	uint64_t *hidden;     /* ##[endgroup] lines closing a group, ascending */
	int n_hidden;
	int hide_next;        /* the next group whose last line is to be read */

	struct finding *findings;
	int n_findings;

	struct seg *segs;
	size_t n_segs, segs_alloc;
	long rows;

	bool wrapping;
	int wrap_cols;
	lv_rows_fn wfn;
	void *wctx;
	uint64_t measured;
	struct wrap_entry *wrap;
	size_t n_wrap, wrap_alloc;
};

/* --- wrap arithmetic ------------------------------------------------------------ */
/* Index of the first wrapped line >= line. */
static size_t wrap_lb(const struct logview *lv, uint64_t line)
{
	size_t lo = 0, hi = lv->n_wrap;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lv->wrap[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t cum_before(const struct logview *lv, size_t j)
{
	return j ? lv->wrap[j - 1].cum : 0;
}

/* Extra rows of the lines [a, b]. */
static uint64_t extra_sum(const struct logview *lv, uint64_t a, uint64_t b)
{
	if (!lv->n_wrap || b < a)
		return 0;
	return cum_before(lv, wrap_lb(lv, b + 1)) - cum_before(lv, wrap_lb(lv, a));
}

int logview_line_rows(const struct logview *lv, uint64_t line)
{
	size_t j = wrap_lb(lv, line);
	if (j < lv->n_wrap && lv->wrap[j].line == line)
		return 1 + (int)(lv->wrap[j].cum - cum_before(lv, j));
	return 1;
}

/* --- segments ------------------------------------------------------------------- */
static void add_seg(struct logview *lv, enum seg_kind kind, uint64_t first, uint64_t last, int idx)
{
	XGROW(lv->segs, lv->segs_alloc, lv->n_segs + 1);
	struct seg *s = &lv->segs[lv->n_segs++];
	s->kind = kind;
	s->first = first;
	s->last = last;
	s->idx = idx;
	s->row = lv->rows;
	s->nrows = kind == SEG_LINES ? (long)(last - first + 1 + extra_sum(lv, first, last)) : 1;
	lv->rows += s->nrows;
}

static bool group_valid(const struct logview *lv, const struct log_group *g)
{
	return g->first_line >= 1 && g->last_line >= g->first_line &&
	       (uint64_t)g->last_line <= lv->n_lines;
}

static void rebuild(struct logview *lv)
{
	lv->n_segs = 0;
	lv->rows = 0;
	uint64_t n = lv->n_lines;
	int h = 0, g = 0, hi = 0;
	uint64_t line = 1;
	while (line <= n) {
		/* headers placed at this line; those hidden inside a fold are passed */
		int folded_step = -1;
		while (h < lv->n_order && (uint64_t)lv->steps[lv->order[h]].first_line <= line) {
			int si = lv->order[h];
			if ((uint64_t)lv->steps[si].first_line == line) {
				if (lv->step_folded[si] && folded_step < 0)
					folded_step = si;
				else if (folded_step < 0)
					add_seg(lv, SEG_STEP, line, line, si);
			}
			h++;
		}
		if (folded_step >= 0) {
			/* a folded step: its header row stands for all its lines */
			uint64_t last = MIN((uint64_t)lv->steps[folded_step].last_line, n);
			add_seg(lv, SEG_STEP, line, last, folded_step);
			line = last + 1;
			continue;
		}
		/* a hidden ##[endgroup] line takes no row */
		while (hi < lv->n_hidden && lv->hidden[hi] < line)
			hi++;
		if (hi < lv->n_hidden && lv->hidden[hi] == line) {
			line++;
			continue;
		}
		/* the next folded group that is not inside an earlier fold */
		while (g < lv->n_groups &&
		       (!lv->folded[g] || !group_valid(lv, &lv->groups[g]) ||
			(uint64_t)lv->groups[g].first_line < line))
			g++;
		if (g < lv->n_groups && (uint64_t)lv->groups[g].first_line == line) {
			add_seg(lv, SEG_FOLD, line, (uint64_t)lv->groups[g].last_line, g);
			line = (uint64_t)lv->groups[g].last_line + 1;
			g++;
			continue;
		}
		uint64_t next = n + 1;
		if (h < lv->n_order)
			next = MIN(next, (uint64_t)lv->steps[lv->order[h]].first_line);
		if (g < lv->n_groups)
			next = MIN(next, (uint64_t)lv->groups[g].first_line);
		if (hi < lv->n_hidden)
			next = MIN(next, lv->hidden[hi]);
		add_seg(lv, SEG_LINES, line, next - 1, -1);
		line = next;
	}
}

/* The segment holding row. */
static const struct seg *seg_of_row(const struct logview *lv, long row)
{
	if (row < 0 || row >= lv->rows)
		return NULL;
	size_t lo = 0, hi = lv->n_segs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (lv->segs[mid].row <= row)
			lo = mid;
		else
			hi = mid;
	}
	return &lv->segs[lo];
}

/* The line segment (SEG_LINES or SEG_FOLD) holding line. */
static const struct seg *seg_of_line(const struct logview *lv, uint64_t line)
{
	if (line < 1 || line > lv->n_lines || !lv->n_segs)
		return NULL;
	size_t lo = 0, hi = lv->n_segs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (lv->segs[mid].first <= line)
			lo = mid;
		else
			hi = mid;
	}
	return &lv->segs[lo];
}

long logview_rows(const struct logview *lv)
{
	return lv->rows;
}

bool logview_row(const struct logview *lv, long row, struct lv_row *out)
{
	const struct seg *s = seg_of_row(lv, row);
	memset(out, 0, sizeof(*out));
	out->group = -1;
	out->step = -1;
	if (!s)
		return false;
	if (s->kind == SEG_STEP) {
		out->kind = LV_ROW_STEP;
		out->line = s->first;
		out->step = s->idx;
		return true;
	}
	if (s->kind == SEG_FOLD) {
		out->kind = LV_ROW_FOLD;
		out->line = s->first;
		out->group = s->idx;
		out->step = logview_step_of_line(lv, s->first);
		return true;
	}
	out->kind = LV_ROW_LINE;
	uint64_t off = (uint64_t)(row - s->row);
	out->line = s->first + off;
	if (lv->n_wrap) {
		size_t i0 = wrap_lb(lv, s->first), i1 = wrap_lb(lv, s->last + 1);
		uint64_t base = cum_before(lv, i0);
		/* the last wrapped line of the segment starting at or before off */
		size_t lo = i0, hi = i1;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			uint64_t start = lv->wrap[mid].line - s->first + cum_before(lv, mid) - base;
			if (start <= off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > i0) {
			size_t j = lo - 1;
			uint64_t start = lv->wrap[j].line - s->first + cum_before(lv, j) - base;
			uint64_t extra = lv->wrap[j].cum - cum_before(lv, j);
			if (off <= start + extra) {
				out->line = lv->wrap[j].line;
				out->sub = (int)(off - start);
			} else {
				out->line = lv->wrap[j].line + (off - start) - extra;
			}
		}
	}
	out->step = logview_step_of_line(lv, out->line);
	return true;
}

long logview_row_of_line(const struct logview *lv, uint64_t line)
{
	const struct seg *s = seg_of_line(lv, line);
	if (!s)
		return -1;
	if (line < s->first || line > s->last) {
		/* a hidden line (or one before the first row): the row after it */
		long r = line < s->first ? s->row : s->row + s->nrows;
		return r < lv->rows ? r : lv->rows - 1;
	}
	if (s->kind != SEG_LINES)
		return s->row;
	return s->row + (long)(line - s->first + extra_sum(lv, s->first, line - 1));
}

uint64_t logview_line_of_row(const struct logview *lv, long row)
{
	struct lv_row r;
	return logview_row(lv, row, &r) ? r.line : 0;
}

/* --- loading -------------------------------------------------------------------- */
static void free_parts(struct logview *lv)
{
	logr_close(lv->r);
	lv->r = NULL;
	store_steps_free(lv->steps, lv->n_steps);
	lv->steps = NULL;
	lv->n_steps = 0;
	free(lv->order);
	lv->order = NULL;
	lv->n_order = 0;
	free(lv->step_t0);
	lv->step_t0 = NULL;
	store_log_groups_free(lv->groups, lv->n_groups);
	lv->groups = NULL;
	lv->n_groups = 0;
	free(lv->folded);
	lv->folded = NULL;
	free(lv->step_folded);
	lv->step_folded = NULL;
	free(lv->hidden);
	lv->hidden = NULL;
	lv->n_hidden = 0;
	lv->hide_next = 0;
	store_findings_free(lv->findings, lv->n_findings);
	lv->findings = NULL;
	lv->n_findings = 0;
	free(lv->wrap);
	lv->wrap = NULL;
	lv->n_wrap = lv->wrap_alloc = 0;
	lv->measured = 0;
}

/* The ##[endgroup] lines that close a group: hidden, as GitHub hides them
 * (the group's rows end with its last line of output). One short read per
 * group, the last line of the next `budget` groups, whose marker says how
 * the group ended; the caller rebuilds. True while groups remain. */
static bool find_hidden(struct logview *lv, int budget)
{
	struct buf b = BUF_INIT;
	struct cs_err err;
	if (!lv->hidden)
		lv->hidden = xcalloc((size_t)lv->n_groups + 1, sizeof(uint64_t));
	for (; lv->hide_next < lv->n_groups && budget > 0; lv->hide_next++) {
		const struct log_group *g = &lv->groups[lv->hide_next];
		if (!group_valid(lv, g) || g->last_line == g->first_line)
			continue;
		budget--;
		buf_reset(&b);
		if (logr_line(lv->r, (uint64_t)g->last_line, 256, &b, NULL, &err) < 0)
			continue;
		struct logline ll;
		logline_parse(b.data ? b.data : "", b.len, &ll);
		if (ll.kind != LINE_ENDGROUP)
			continue;
		/* in order (groups come by first line; a nested one may end
		 * after the next): an insertion, and no line twice */
		uint64_t line = (uint64_t)g->last_line;
		int k = lv->n_hidden;
		while (k > 0 && lv->hidden[k - 1] > line)
			k--;
		if (k > 0 && lv->hidden[k - 1] == line)
			continue;
		memmove(lv->hidden + k + 1, lv->hidden + k,
			(size_t)(lv->n_hidden - k) * sizeof(uint64_t));
		lv->hidden[k] = line;
		lv->n_hidden++;
	}
	buf_release(&b);
	return lv->hide_next < lv->n_groups;
}

bool logview_hide_step(struct logview *lv, int budget)
{
	if (lv->hide_next >= lv->n_groups)
		return false;
	bool more = find_hidden(lv, budget > 0 ? budget : 1);
	rebuild(lv);
	return more;
}

bool logview_hiding(const struct logview *lv)
{
	return lv->hide_next < lv->n_groups;
}

static int load_parts(struct logview *lv, int64_t job_row_id, int64_t log_id, struct cs_err *err)
{
	lv->job_id = job_row_id;
	lv->log_id = log_id;
	lv->r = logr_open(lv->st, log_id, err);
	if (!lv->r)
		return -1;
	lv->n_lines = logr_line_count(lv->r);
	if (store_steps(lv->st, job_row_id, &lv->steps, &lv->n_steps, err) < 0 ||
	    store_log_groups(lv->st, log_id, &lv->groups, &lv->n_groups, err) < 0 ||
	    store_log_stops(lv->st, job_row_id, &lv->findings, &lv->n_findings, err) < 0)
		return -1;
	lv->order = xcalloc((size_t)lv->n_steps + 1, sizeof(int));
	lv->step_t0 = xcalloc((size_t)lv->n_steps + 1, sizeof(int64_t));
	for (int i = 0; i < lv->n_steps; i++) {
		const struct step *s = &lv->steps[i];
		lv->step_t0[i] = T0_UNKNOWN;
		if (s->first_line >= 1 && (uint64_t)s->first_line <= lv->n_lines &&
		    s->last_line >= s->first_line)
			lv->order[lv->n_order++] = i;
	}
	/* by first line (insertion sort: steps come nearly sorted, and few) */
	for (int i = 1; i < lv->n_order; i++) {
		int v = lv->order[i], k = i;
		while (k > 0 && lv->steps[lv->order[k - 1]].first_line > lv->steps[v].first_line) {
			lv->order[k] = lv->order[k - 1];
			k--;
		}
		lv->order[k] = v;
	}
	lv->log_t0 = T0_UNKNOWN;
	lv->folded = xcalloc((size_t)lv->n_groups + 1, sizeof(bool));
	lv->step_folded = xcalloc((size_t)lv->n_steps + 1, sizeof(bool));
	find_hidden(lv, LV_HIDE_OPEN);
	rebuild(lv);
	return 0;
}

struct logview *logview_open(struct store *st, int64_t job_row_id, int64_t log_id,
			     struct cs_err *err)
{
	struct logview *lv = xcalloc(1, sizeof(*lv));
	lv->st = st;
	if (load_parts(lv, job_row_id, log_id, err) < 0) {
		logview_close(lv);
		return NULL;
	}
	return lv;
}

void logview_close(struct logview *lv)
{
	if (!lv)
		return;
	free_parts(lv);
	free(lv->segs);
	free(lv);
}

int logview_reopen(struct logview *lv, int64_t job_row_id, int64_t log_id, struct cs_err *err)
{
	struct logview *fresh = logview_open(lv->st, job_row_id, log_id, err);
	if (!fresh)
		return -1;
	/* folds carry over to a group starting at the same line */
	int j = 0;
	for (int i = 0; i < lv->n_groups; i++) {
		if (!lv->folded[i])
			continue;
		while (j < fresh->n_groups && fresh->groups[j].first_line < lv->groups[i].first_line)
			j++;
		if (j < fresh->n_groups && fresh->groups[j].first_line == lv->groups[i].first_line)
			fresh->folded[j] = true;
	}
	/* ... and step folds to the step of the same number */
	for (int i = 0; i < lv->n_steps; i++) {
		if (!lv->step_folded[i])
			continue;
		for (int k = 0; k < fresh->n_steps; k++)
			if (fresh->steps[k].number == lv->steps[i].number)
				fresh->step_folded[k] = true;
	}
	free_parts(lv);
	free(lv->segs);
	*lv = *fresh;
	free(fresh);
	rebuild(lv);
	return 0;
}

uint64_t logview_line_count(const struct logview *lv)
{
	return lv->n_lines;
}

int64_t logview_log_id(const struct logview *lv)
{
	return lv->log_id;
}

/* --- steps, groups, folding ----------------------------------------------------- */
int logview_n_steps(const struct logview *lv)
{
	return lv->n_steps;
}

const struct step *logview_step(const struct logview *lv, int i)
{
	return i >= 0 && i < lv->n_steps ? &lv->steps[i] : NULL;
}

int logview_step_of_line(const struct logview *lv, uint64_t line)
{
	int lo = 0, hi = lv->n_order;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if ((uint64_t)lv->steps[lv->order[mid]].first_line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the latest-starting step, if it still covers line (steps do not
	 * overlap; if hostile data makes them, the later one wins) */
	if (lo > 0 && (uint64_t)lv->steps[lv->order[lo - 1]].last_line >= line)
		return lv->order[lo - 1];
	return -1;
}

int logview_n_groups(const struct logview *lv)
{
	return lv->n_groups;
}

const struct log_group *logview_group(const struct logview *lv, int i)
{
	return i >= 0 && i < lv->n_groups ? &lv->groups[i] : NULL;
}

bool logview_group_folded(const struct logview *lv, int i)
{
	return i >= 0 && i < lv->n_groups && lv->folded[i];
}

int logview_group_of_line(const struct logview *lv, uint64_t line)
{
	int lo = 0, hi = lv->n_groups;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if ((uint64_t)lv->groups[mid].first_line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* nested groups: the one starting last that still covers line */
	for (int k = lo - 1; k >= 0; k--) {
		const struct log_group *g = &lv->groups[k];
		if (group_valid(lv, g) && (uint64_t)g->last_line >= line)
			return k;
		if (g->depth == 0)
			break; /* an outermost group ends the search */
	}
	return -1;
}

void logview_set_fold(struct logview *lv, int i, bool folded)
{
	if (i < 0 || i >= lv->n_groups || lv->folded[i] == folded)
		return;
	lv->folded[i] = folded;
	rebuild(lv);
}

bool logview_step_folded(const struct logview *lv, int i)
{
	return i >= 0 && i < lv->n_steps && lv->step_folded[i];
}

void logview_set_step_fold(struct logview *lv, int i, bool folded)
{
	if (i < 0 || i >= lv->n_steps || lv->step_folded[i] == folded)
		return;
	lv->step_folded[i] = folded;
	rebuild(lv);
}

bool logview_line_hidden(const struct logview *lv, uint64_t line)
{
	int lo = 0, hi = lv->n_hidden;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (lv->hidden[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < lv->n_hidden && lv->hidden[lo] == line;
}

bool logview_fold_all(struct logview *lv)
{
	bool all = true;
	for (int i = 0; i < lv->n_groups && all; i++)
		all = lv->folded[i] || !group_valid(lv, &lv->groups[i]);
	for (int i = 0; i < lv->n_groups; i++)
		lv->folded[i] = !all;
	rebuild(lv);
	return !all && lv->n_groups > 0;
}

bool logview_reveal(struct logview *lv, uint64_t line)
{
	bool changed = false;
	for (int i = 0; i < lv->n_steps; i++) {
		const struct step *st = &lv->steps[i];
		if (lv->step_folded[i] && st->first_line >= 1 && (uint64_t)st->first_line <= line &&
		    (uint64_t)st->last_line >= line) {
			lv->step_folded[i] = false;
			changed = true;
		}
	}
	for (int i = 0; i < lv->n_groups; i++) {
		const struct log_group *g = &lv->groups[i];
		if ((uint64_t)g->first_line > line)
			break;
		/* a group's own first line is visible as its summary row, unless
		 * an enclosing fold hides that row too (which this loop opens) */
		if (lv->folded[i] && (uint64_t)g->last_line >= line &&
		    (uint64_t)g->first_line < line) {
			lv->folded[i] = false;
			changed = true;
		}
	}
	if (changed)
		rebuild(lv);
	return changed;
}

/* --- one line --------------------------------------------------------------------- */
void lv_line_init(struct lv_line *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->raw);
}

void lv_line_release(struct lv_line *l)
{
	buf_release(&l->raw);
	memset(l, 0, sizeof(*l));
}

/* The first timestamp of line n (us), or T0_NONE. */
static int64_t line_ts(struct logview *lv, uint64_t n)
{
	struct buf b = BUF_INIT;
	struct cs_err err;
	int64_t t = T0_NONE;
	if (logr_line(lv->r, n, 64, &b, NULL, &err) == 0) {
		struct logline ll;
		logline_parse(b.data ? b.data : "", b.len, &ll);
		if (ll.has_ts)
			t = ll.ts_us;
	}
	buf_release(&b);
	return t;
}

static int64_t step_t0(struct logview *lv, int i)
{
	if (lv->step_t0[i] == T0_UNKNOWN) {
		const struct step *s = &lv->steps[i];
		int64_t t = line_ts(lv, (uint64_t)s->first_line);
		if (t == T0_NONE && s->started_at != CS_TIME_NONE)
			t = s->started_at * 1000;
		lv->step_t0[i] = t;
	}
	return lv->step_t0[i];
}

int logview_line(struct logview *lv, uint64_t n, struct lv_line *out, struct cs_err *err)
{
	out->lineno = n;
	out->step = -1;
	out->rel_ms = CS_TIME_NONE;
	if (logr_line(lv->r, n, LV_LINE_MAX, &out->raw, &out->truncated, err) < 0) {
		logline_parse("", 0, &out->ll);
		return -1;
	}
	buf_cstr(&out->raw);
	logline_parse(out->raw.data, out->raw.len, &out->ll);
	out->step = logview_step_of_line(lv, n);
	if (out->ll.has_ts) {
		int64_t t0;
		if (out->step >= 0) {
			t0 = step_t0(lv, out->step);
		} else {
			if (lv->log_t0 == T0_UNKNOWN)
				lv->log_t0 = lv->n_lines ? line_ts(lv, 1) : T0_NONE;
			t0 = lv->log_t0;
		}
		if (t0 != T0_NONE) {
			int64_t d = out->ll.ts_us - t0;
			/* round towards minus infinity so -0.5 ms shows as -1 ms */
			out->rel_ms = d >= 0 ? d / 1000 : -((-d + 999) / 1000);
		}
	}
	return 0;
}

int64_t logview_ts_near(struct logview *lv, uint64_t line)
{
	if (line < 1 || line > lv->n_lines)
		return CS_TIME_NONE;
	int64_t t = line_ts(lv, line);
	if (t != T0_NONE)
		return t;
	int si = logview_step_of_line(lv, line);
	if (si >= 0 && step_t0(lv, si) != T0_NONE)
		return step_t0(lv, si);
	if (lv->log_t0 == T0_UNKNOWN)
		lv->log_t0 = line_ts(lv, 1);
	return lv->log_t0 != T0_NONE ? lv->log_t0 : CS_TIME_NONE;
}

void lv_format_ts(int64_t ts_us, char *out, size_t n)
{
	int64_t ms = ts_us / 1000;
	if (ts_us < 0)
		ms = -((-ts_us + 999) / 1000);
	int64_t day = 86400000;
	int64_t t = ((ms % day) + day) % day;
	snprintf(out, n, "%02d:%02d:%02d.%03d", (int)(t / 3600000), (int)(t / 60000 % 60),
		 (int)(t / 1000 % 60), (int)(t % 1000));
}

void lv_format_rel(int64_t ms, char *out, size_t n)
{
	if (ms == CS_TIME_NONE) {
		snprintf(out, n, "%10s", "");
		return;
	}
	char sign = ms < 0 ? '-' : '+';
	uint64_t a = ms < 0 ? (uint64_t)(-(ms + 1)) + 1 : (uint64_t)ms;
	if (a < 3600000)
		snprintf(out, n, "%c%02u:%02u.%03u", sign, (unsigned)(a / 60000),
			 (unsigned)(a / 1000 % 60), (unsigned)(a % 1000));
	else if (a < 100ull * 3600000)
		snprintf(out, n, "%c%u:%02u:%02u", sign, (unsigned)(a / 3600000),
			 (unsigned)(a / 60000 % 60), (unsigned)(a / 1000 % 60));
	else
		snprintf(out, n, "%c%7uh", sign, (unsigned)MIN(a / 3600000, 9999999ull));
	/* keep the column width fixed */
	size_t len = strlen(out);
	while (len < 10 && len + 1 < n) {
		memmove(out + 1, out, len + 1);
		out[0] = ' ';
		len++;
	}
}

/* --- findings ------------------------------------------------------------------------ */
int logview_n_findings(const struct logview *lv)
{
	return lv->n_findings;
}

const struct finding *logview_finding(const struct logview *lv, int i)
{
	return i >= 0 && i < lv->n_findings ? &lv->findings[i] : NULL;
}

static bool jumpable(const struct finding *f)
{
	return f->severity && (!strcmp(f->severity, "error") || !strcmp(f->severity, "warning"));
}

int logview_next_finding(const struct logview *lv, uint64_t line, int dir)
{
	if (dir > 0) {
		for (int i = 0; i < lv->n_findings; i++)
			if (lv->findings[i].line > (int64_t)line && jumpable(&lv->findings[i]))
				return i;
	} else {
		for (int i = lv->n_findings - 1; i >= 0; i--)
			if (lv->findings[i].line < (int64_t)line && lv->findings[i].line >= 1 &&
			    jumpable(&lv->findings[i]))
				return i;
	}
	return -1;
}

/* --- search ------------------------------------------------------------------------ */
struct lv_search {
	struct logview *lv;
	struct matcher *m;
	bool backward, wrapped;
	bool at_end;     /* next is past an end: wrapped once scanning goes on */
	uint64_t next;   /* the next line to look at */
	uint64_t done;   /* lines looked at */
	uint64_t found;
	uint64_t slice_hit; /* the last match of a backward slice */
	struct buf text;
	/* The chunk filters, as runs of lines: run i starts at line start[i]
	 * (the first line starting in a chunk, ascending) and may hold a match
	 * when admit[i]. NULL: every line may. */
	uint64_t *start;
	unsigned char *admit;
	size_t n_runs;
};

/* The chunk filters of the log for the search's query, as runs of lines
 * (chunks without a line start belong to the run before). Without them
 * (no query filters, or a database error: reading every line is never
 * wrong) every line is looked at. */
static void load_filters(struct lv_search *s)
{
	struct log_grams q;
	matcher_grams(s->m, &q);
	uint64_t n = logr_chunk_count(s->lv->r);
	if ((q.n == 0 && q.nw == 0) || n == 0)
		return;
	struct cs_err err;
	struct logfilter *f = logfilter_new(s->lv->st, &q, &err);
	uint64_t *first = xcalloc(n, sizeof(*first));
	unsigned char *admit = xmalloc(n);
	if (!f || logfilter_admit(f, s->lv->log_id, logr_raw_size(s->lv->r), admit, &err) < 0 ||
	    logr_chunk_starts(s->lv->r, first, &err) < 0) {
		logfilter_free(f);
		free(first);
		free(admit);
		return;
	}
	logfilter_free(f);
	size_t k = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!first[i])
			continue;
		if (k > 0 && (bool)admit[k - 1] == (bool)admit[i])
			continue; /* the same as the run before: one run */
		first[k] = first[i];
		admit[k] = admit[i] != 0;
		k++;
	}
	if (k == 0 || first[0] != 1) { /* line 1 starts in chunk 0: else not ours to judge */
		free(first);
		free(admit);
		return;
	}
	s->start = first;
	s->admit = admit;
	s->n_runs = k;
}

/* The run of line `line`: its index. */
static size_t run_of(const struct lv_search *s, uint64_t line)
{
	size_t lo = 0, hi = s->n_runs; /* start[lo] <= line < start[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->start[mid] <= line)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct lv_search *lv_search_new(struct logview *lv, struct matcher *m, bool backward,
				uint64_t from)
{
	struct lv_search *s = xcalloc(1, sizeof(*s));
	uint64_t n = lv->n_lines;
	s->lv = lv;
	s->m = m;
	s->backward = backward;
	buf_init(&s->text);
	if (n == 0)
		return s;
	load_filters(s);
	if (!backward) {
		s->next = from >= n ? 1 : from + 1;
		s->at_end = from == n;
	} else {
		s->next = from <= 1 || from > n + 1 ? n : from - 1;
		s->at_end = from == 1;
	}
	return s;
}

static int search_line(void *ctx, const struct split_line *l)
{
	struct lv_search *s = ctx;
	size_t a, b;
	if (logview_line_hidden(s->lv, l->lineno))
		return 0; /* not on screen: a match there could not be shown */
	search_text(l->head, l->head_len, &s->text);
	if (!matcher_find(s->m, s->text.data ? s->text.data : "", s->text.len, 0, &a, &b))
		return 0;
	if (!s->backward) {
		s->found = l->lineno;
		return 1;
	}
	s->slice_hit = l->lineno;
	return 0;
}

enum lv_search_state lv_search_step(struct lv_search *s, uint64_t budget, struct cs_err *err)
{
	uint64_t n = s->lv->n_lines;
	if (budget == 0)
		budget = 1;
	if (s->done >= n)
		return LV_SEARCH_NONE;
	uint64_t left = MIN(budget, n - s->done);
	if (s->at_end) {
		s->at_end = false;
		s->wrapped = true;
	}
	if (s->n_runs) {
		/* lines no chunk filter admits are passed over, and not counted
		 * against the budget: they cost nothing */
		size_t i = run_of(s, s->next);
		if (!s->admit[i]) {
			uint64_t lo = s->start[i], hi = i + 1 < s->n_runs ? s->start[i + 1] - 1 : n;
			uint64_t skip = s->backward ? s->next - lo + 1 : hi - s->next + 1;
			skip = MIN(skip, n - s->done);
			s->done += skip;
			s->found = 0;
			if (!s->backward) {
				s->next += skip;
				if (s->next > n) {
					s->next = 1;
					s->at_end = true;
				}
			} else if (s->next <= skip) {
				s->next = n;
				s->at_end = true;
			} else {
				s->next -= skip;
			}
			return s->done >= n ? LV_SEARCH_NONE : LV_SEARCH_MORE;
		}
		/* an admitted run: the slice stays inside it */
		if (!s->backward) {
			uint64_t hi = i + 1 < s->n_runs ? s->start[i + 1] - 1 : n;
			left = MIN(left, hi - s->next + 1);
		} else {
			left = MIN(left, s->next - s->start[i] + 1);
		}
	}
	if (!s->backward) {
		uint64_t first = s->next, last = MIN(n, first + left - 1);
		s->found = 0;
		int rc = logr_scan(s->lv->r, first, last, search_line, s, err);
		if (rc < 0)
			return LV_SEARCH_ERROR;
		uint64_t upto = s->found ? s->found : last;
		s->done += upto - first + 1;
		s->next = upto + 1;
		if (s->next > n) {
			s->next = 1;
			s->at_end = true;
		}
		return s->found ? LV_SEARCH_FOUND : s->done >= n ? LV_SEARCH_NONE : LV_SEARCH_MORE;
	}
	uint64_t last = s->next, first = last >= left ? last - left + 1 : 1;
	s->slice_hit = 0;
	int rc = logr_scan(s->lv->r, first, last, search_line, s, err);
	if (rc < 0)
		return LV_SEARCH_ERROR;
	uint64_t downto = s->slice_hit ? s->slice_hit : first;
	s->done += last - downto + 1;
	s->found = s->slice_hit;
	if (downto <= 1) {
		s->next = n;
		s->at_end = true;
	} else {
		s->next = downto - 1;
	}
	return s->found ? LV_SEARCH_FOUND : s->done >= n ? LV_SEARCH_NONE : LV_SEARCH_MORE;
}

uint64_t lv_search_found(const struct lv_search *s)
{
	return s->found;
}

bool lv_search_wrapped(const struct lv_search *s)
{
	return s->wrapped;
}

void lv_search_progress(const struct lv_search *s, uint64_t *done, uint64_t *total)
{
	*done = s->done;
	*total = s->lv->n_lines;
}

void lv_search_free(struct lv_search *s)
{
	if (!s)
		return;
	buf_release(&s->text);
	free(s->start);
	free(s->admit);
	free(s);
}

int lv_highlights(struct matcher *m, const char *text, size_t n, struct lv_span *spans, int max)
{
	if (!m || max <= 0)
		return 0;
	const char *subj = text;
	size_t sn = n;
	size_t *map = NULL;
	struct buf stripped = BUF_INIT;
	if (memchr(text, 0x1b, n)) {
		const unsigned char *p = (const unsigned char *)text;
		map = xmalloc((n + 1) * sizeof(size_t));
		size_t i = 0;
		while (i < n) {
			if (p[i] == 0x1b) {
				i += ansi_esc_len(p + i, n - i);
				continue;
			}
			map[stripped.len] = i;
			buf_addc(&stripped, (char)p[i]);
			i++;
		}
		subj = stripped.len ? stripped.data : "";
		sn = stripped.len;
	}
	int k = 0;
	size_t from = 0, a, b;
	while (k < max && from <= sn && matcher_find(m, subj, sn, from, &a, &b)) {
		if (b > a) {
			spans[k].start = map ? map[a] : a;
			spans[k].end = map ? map[b - 1] + 1 : b;
			k++;
			from = b;
		} else {
			from = a + 1; /* an empty match (a regex like x*) marks nothing */
		}
	}
	free(map);
	buf_release(&stripped);
	return k;
}

/* --- wrap ------------------------------------------------------------------------------ */
void logview_wrap_begin(struct logview *lv, int cols, lv_rows_fn fn, void *ctx)
{
	lv->wrapping = true;
	lv->wrap_cols = cols < 1 ? 1 : cols;
	lv->wfn = fn;
	lv->wctx = ctx;
	lv->measured = 0;
	lv->n_wrap = 0;
	rebuild(lv);
}

void logview_wrap_end(struct logview *lv)
{
	lv->wrapping = false;
	lv->measured = 0;
	lv->n_wrap = 0;
	free(lv->wrap);
	lv->wrap = NULL;
	lv->wrap_alloc = 0;
	rebuild(lv);
}

bool logview_wrapping(const struct logview *lv)
{
	return lv->wrapping;
}

int logview_wrap_cols(const struct logview *lv)
{
	return lv->wrap_cols;
}

uint64_t logview_wrap_measured(const struct logview *lv)
{
	return lv->measured;
}

static int measure_line(void *ctx, const struct split_line *l)
{
	struct logview *lv = ctx;
	struct logline ll;
	logline_parse(l->head, l->head_len, &ll);
	long rows = lv->wfn(lv->wctx, ll.text, ll.text_len, lv->wrap_cols);
	if (rows < 1)
		rows = 1;
	if (l->len > l->head_len) {
		uint64_t tail = MIN(l->len, (uint64_t)LV_LINE_MAX) - l->head_len;
		rows += (long)((tail + (uint64_t)lv->wrap_cols - 1) / (uint64_t)lv->wrap_cols);
	}
	if (rows > WRAP_MAX_ROWS)
		rows = WRAP_MAX_ROWS;
	if (rows > 1 && lv->n_wrap < LV_WRAP_MAX_ENTRIES) {
		XGROW(lv->wrap, lv->wrap_alloc, lv->n_wrap + 1);
		lv->wrap[lv->n_wrap].line = l->lineno;
		lv->wrap[lv->n_wrap].cum = cum_before(lv, lv->n_wrap) + (uint64_t)(rows - 1);
		lv->n_wrap++;
	}
	return 0;
}

bool logview_wrap_step(struct logview *lv, uint64_t budget, struct cs_err *err)
{
	if (!lv->wrapping || lv->measured >= lv->n_lines)
		return false;
	uint64_t first = lv->measured + 1;
	uint64_t last = MIN(lv->n_lines, first + (budget ? budget : 1) - 1);
	if (logr_scan(lv->r, first, last, measure_line, lv, err) < 0) {
		/* stop measuring: what is measured stays right */
		lv->measured = lv->n_lines;
		rebuild(lv);
		return false;
	}
	lv->measured = last;
	rebuild(lv);
	return lv->measured < lv->n_lines;
}
