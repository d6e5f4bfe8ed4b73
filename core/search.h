/* search.h - searching stored logs, one line at a time.
 *
 * A query is a literal (default) or a PCRE2 regular expression (JIT-compiled).
 * Case follows "smart case": a query with no upper-case (ASCII) letter
 * matches without regard to case; literals fold ASCII letters only. Matching
 * runs on the line's text with the timestamp, BOM and every escape sequence
 * removed (log_search_text()), which is also the text match offsets refer
 * to. Logs are streamed chunk by chunk (memory does not grow with log size);
 * lines longer than SPLIT_HEAD_MAX are searched in their first
 * SPLIT_HEAD_MAX bytes.
 *
 * Chunks are passed over when their filters (logstore.h) lack a trigram or
 * a word 6-gram every match must contain: all of a literal's, or those of
 * the plain runs a regex cannot match without (`error\[E0308\]` needs
 * "error[E0308]"; a pattern with a top-level `|`, inline options, \Q, \x
 * and the like needs nothing known, and is searched whole). In a chunk that
 * is read, the lines before the next occurrence of a string every match
 * holds are passed over too (logsearch.c). The loop over every log is
 * logsearch.h's; search_logs() runs it to the end.
 */
#ifndef CS_SEARCH_H
#define CS_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "logstore.h"
#include "store.h"
#include "util.h"

struct matcher;

enum match_flags {
	MATCH_REGEX = 1 << 0,
	MATCH_IGNORE_CASE = 1 << 1, /* force case-insensitive */
	MATCH_CASE = 1 << 2,        /* force case-sensitive */
	MATCH_NO_FILTER = 1 << 3,   /* read every chunk, ignoring the filters */
};

struct matcher *matcher_new(const char *query, int flags, struct cs_err *err);
void matcher_free(struct matcher *m);
/* First match in s[0..n) at or after `from`: offsets in *start, *end. */
bool matcher_find(struct matcher *m, const char *s, size_t n, size_t from, size_t *start,
		  size_t *end);
/* What the filters get from the query: the trigram hashes every match
 * contains (q->n == 0: none known, or MATCH_NO_FILTER: every chunk is read). */
void matcher_grams(const struct matcher *m, struct log_grams *q);
/* Chunks read and passed over by the searches run with m so far; searches
 * add theirs with matcher_count(). */
void matcher_stats(const struct matcher *m, uint64_t *chunks_read, uint64_t *chunks_skipped);
void matcher_count(struct matcher *m, uint64_t chunks_read, uint64_t chunks_skipped);
/* A string every match holds, as raw bytes of the line (a literal, or the
 * longest plain run a case-sensitive regex needs): *fold says it is to be
 * looked for with ASCII letters folded (the string is then lower case).
 * False when there is none. */
bool matcher_needle(const struct matcher *m, const char **s, size_t *n, bool *fold);
/* The needle is all there is to a match (a literal): a line matches when
 * its searchable text holds it, nothing else is asked. */
bool matcher_literal(const struct matcher *m);
/* The searchable text of a line (its head) into *text and *len (pointing into
 * the line or into scratch) and whether it matches, at [*start, *end). */
bool matcher_line(struct matcher *m, const struct split_line *l, struct buf *scratch,
		  const char **text, size_t *len, size_t *start, size_t *end);

/* Remove timestamp, BOM and escapes: the searchable text of a raw line. */
void search_text(const char *line, size_t n, struct buf *out);

struct search_hit {
	const struct log_ref *ref;
	int step_number;       /* 0 when unknown */
	const char *step_name; /* NULL when unknown */
	uint64_t line;         /* 1-based */
	const char *text;      /* searchable text of the line */
	size_t text_len;
	size_t match_start, match_end;
	uint64_t count;        /* search_count(): the log's matching lines (then no line or text) */
};

typedef int (*search_cb)(void *ctx, const struct search_hit *hit);

/* Search every stored log, newest run first; stop after limit hits (0: no
 * limit) or when cb returns non-zero. *n_hits counts hits reported. The
 * same search, in slices, is logsearch.h's; this runs it to the end. */
int search_logs(struct store *st, struct matcher *m, long limit, search_cb cb, void *ctx,
		long *n_hits, volatile int *cancel, struct cs_err *err);
/* The same search, counting: cb once per log with matches (h->count, the
 * log's matching lines, h->ref; nothing else), in the same order;
 * *n_hits the matching lines of all. No hit records are built: the fast
 * path for a full count. */
int search_count(struct store *st, struct matcher *m, search_cb cb, void *ctx, long *n_hits,
		 volatile int *cancel, struct cs_err *err);
/* With logs of at least this many bytes in all not ruled out whole by
 * their filters (default 16 MiB; less, a second connection and thread
 * cost more than they save), search_count()
 * counts on two threads: every other log on a second connection; the
 * counts are merged in the order of the search. A variable: tests set it. */
extern uint64_t search_count_split_bytes;

#endif
