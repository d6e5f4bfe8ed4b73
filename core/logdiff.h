/* logdiff.h - what is new in one job's log against another's (issue 10 §2).
 *
 * Both logs are read from the index (logstore.h) and compared line by line
 * after the triage normaliser (fingerprint.h) has replaced what always
 * differs (timestamps, durations, temp paths, hex ids, UUIDs, ports,
 * counters); the GitHub timestamp prefix, BOMs and escape sequences go first
 * (log_search_text). Then, as CiDiff does, but in bounded memory:
 *
 *  1. anchors: lines whose normalised text is equal. The common head and tail
 *     are matched first; the rest is aligned in windows of LD_WINDOW lines
 *     per side by patience diff (lines unique on both sides, longest
 *     increasing run), recursing between anchors, with an exact LCS for gaps
 *     of at most LD_DP_CELLS line pairs and a bounded greedy match beyond;
 *  2. moved lines: an unmatched line whose normalised text occurs anywhere on
 *     the other side was moved (or repeated a different number of times):
 *     it is not news and is not shown;
 *  3. updated lines: between two anchors, an unmatched run line similar to an
 *     unmatched baseline line nearby (CiDiff's LOGSIM >= 0.5: the same number
 *     of tokens, at least one equal, equal tokens count 1 and tokens of the
 *     same length or close spelling 1/2) is "~", paired with it;
 *  4. what is left is "+" (only in the run) or "-" (only in the baseline).
 *     Blank lines are never news.
 *
 * Output: hunks of shown lines ("+", "~", and "-" when asked) with
 * `context` lines of "=" around them; consecutive shown lines with the same
 * normalised text collapse into one with a repeat count. Each hunk names
 * the step of its first shown line; lines inside a finding's range are
 * marked.
 *
 * Memory (the bound stated in the README): per line, 8 bytes of hash and
 * 4 bytes of match on each side, plus a sorted copy of each side's hashes
 * (8 bytes per line) while moved lines are found; the aligner's working set
 * is fixed (LD_WINDOW, LD_DP_CELLS: about 13 MB); the output keeps at most
 * max_shown shown lines (each cut at LD_TEXT_MAX bytes) with their context.
 * No log is ever held in memory: lines stream chunk by chunk from the
 * store, and lines longer than SPLIT_HEAD_MAX are compared by their head.
 */
#ifndef CS_LOGDIFF_H
#define CS_LOGDIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

#define LD_WINDOW 32768          /* lines per side aligned at once */
#define LD_DP_CELLS (4u << 20)   /* line pairs of a gap aligned by exact LCS */
#define LD_TEXT_MAX 2000         /* bytes of a line's text kept for display */
#define LD_MAX_SHOWN 5000        /* default cap of shown lines per job */
#define LD_SIMILAR 0.5           /* LOGSIM threshold of an updated line */

struct logdiff_opts {
	int context;       /* "=" lines before and after shown lines (default 3) */
	bool all_lines;    /* show "-" lines (only in the baseline) and moved lines too */
	long max_shown;    /* cap on shown lines kept (0: LD_MAX_SHOWN; <0: no cap) */
};

/* A range of run lines that triage marked (a finding). */
struct ld_mark {
	int64_t line, end_line;
};

struct ld_line {
	char op;            /* '+', '~', '-', '=' */
	bool moved;         /* '=' only with all_lines: the line is elsewhere on the other side */
	bool finding;       /* inside a finding's range of the run */
	uint64_t run_line;  /* 1-based; 0 when the run has no such line ('-') */
	uint64_t base_line; /* 1-based; 0 when the baseline has none ('+', moved) */
	uint32_t repeat;    /* the line stands for this many consecutive equal lines (>= 1) */
	char *text;         /* timestamp and escape sequences removed; at most LD_TEXT_MAX */
	bool cut;           /* text was cut */
};

struct ld_hunk {
	int step;           /* the step number of the first shown line, 0 when unknown */
	char *step_name;    /* or NULL */
	struct ld_line *lines;
	int n_lines;
	size_t alloc;
};

struct logdiff {
	uint64_t run_lines, base_lines;
	long shown;            /* shown lines kept ('+', '~', and '-' with all_lines) */
	uint64_t added, updated, removed, moved; /* lines of each kind, repeats included */
	uint64_t anchors;      /* lines matched exactly in place */
	bool truncated;        /* more shown lines than max_shown: the rest are counted only */
	struct ld_hunk *hunks;
	int n_hunks;
	size_t alloc;
	long *row_start;       /* logdiff_rows(): the first row of each hunk */
};

void logdiff_init(struct logdiff *d);
void logdiff_release(struct logdiff *d);

/* Compare the stored log run_log_id (the run's job) with base_log_id (the
 * baseline's); either may be 0 (no log: every line of the other is new, or
 * removed). steps (of the run's job, with line ranges) name the hunks;
 * marks flag findings. Fills d (logdiff_init'ed). */
int logdiff_logs(struct store *st, int64_t run_log_id, int64_t base_log_id,
		 const struct logdiff_opts *o, const struct step *steps, int n_steps,
		 const struct ld_mark *marks, int n_marks, struct logdiff *d, struct cs_err *err);

/* The hunks as flat rows for a pager: each hunk is a header row (line -1)
 * followed by its lines. Rows are 0-based; logdiff_row() is a binary search
 * over the hunks' first rows (kept in d, computed on first use), so a view
 * draws any screenful without walking the diff or asking the index. */
long logdiff_rows(struct logdiff *d);
/* Which hunk and line (-1: the hunk's header) row is; false out of range. */
bool logdiff_row(struct logdiff *d, long row, int *hunk, int *line);

/* CiDiff's LOGSIM of two normalised lines (0..1); exposed for tests. */
double logdiff_similarity(const char *a, size_t na, const char *b, size_t nb);

#endif
