/* logsearch.h - searching every stored log in bounded slices.
 *
 * The same search as search_logs() (search.h: same order, newest run first,
 * same matching, same hits), cut into steps of at most `budget` lines so a
 * caller can draw results and progress between steps and stop at any time.
 * The cursor holds the list of logs (ids and sizes, 32 bytes each) and the
 * state of the log being read; a log deleted by a re-import while the search
 * runs is passed over. Per log it reads the chunk filters a window of
 * chunks ahead of the scan (the first hits of a big log wait for a few
 * chunks' filters) and opens the log only when a chunk may hold a match; a
 * step is one read transaction (unless the caller holds one). Skipped
 * chunks cost no budget.
 */
#ifndef CS_LOGSEARCH_H
#define CS_LOGSEARCH_H

#include <stdint.h>

#include "search.h"
#include "store.h"
#include "util.h"

struct logsearch;

/* m belongs to the caller and must outlive the cursor. */
struct logsearch *logsearch_new(struct store *st, struct matcher *m, struct cs_err *err);
/* Look at up to budget more lines, calling cb for each hit (a non-zero
 * return stops the step early; the next step goes on after that hit).
 * Returns 1 while lines remain, 0 when every log is searched, -1 on error. */
int logsearch_step(struct logsearch *ls, uint64_t budget, search_cb cb, void *ctx,
		   struct cs_err *err);
/* Count instead of reporting hits: no hit records are made; cb is called
 * once per log with matches, when its last chunk is read, with h->count
 * its matching lines, h->ref the log and h->line its place in the order of
 * the search (0 first); no text or step. Set before the first step. */
void logsearch_count_only(struct logsearch *ls);
/* Keep only share k of n of the chunks to search, the shares even by bytes:
 * the logs end to end in the order of the search, cut in n at chunk
 * bounds (two cursors on two connections then split the work between two
 * threads; a log cut in two is then counted in part by each). Counting,
 * h->line of a log's call is its place. Before the first step. */
void logsearch_shard(struct logsearch *ls, unsigned k, unsigned n);

/* Read the filters of every log at once (one read transaction) and keep
 * their verdicts for the search; *bytes the raw bytes of the chunks they
 * admit: the work left to decide a split on. When those of the first
 * sixteenth of the chunks (32 at least, 256 at most) admit 15 in 16, the
 * rest are admitted without reading theirs (nor later, log by log) but
 * for a log in 16, by chunks, still judged: if those admit fewer than 15
 * in 16, every filter from there on is read again. With few chunks to read no
 * second thread decompresses ahead. Before the first step; a commit by
 * another connection before a later step drops the verdicts (they are read
 * again log by log). Returns 0 or -1. */
int logsearch_admit_all(struct logsearch *ls, uint64_t *bytes, struct cs_err *err);

/* Many chunks are to be read, as logsearch_admit_all() of the cursor like
 * (of the same search) found: the file is mapped and chunks decompressed
 * ahead from the first step; the filters are read log by log, unless like
 * found they admit nearly everything (then every chunk is read). For the
 * second counting thread. Before the first step. */
void logsearch_many(struct logsearch *ls, const struct logsearch *like);

/* From this many chunks to read on (all those logsearch_admit_all() admits,
 * else those read so far) the chunks are read through a map of the file and
 * decompressed ahead on a second thread; a variable for the tests. */
extern uint64_t logsearch_many_chunks;

struct logsearch_progress {
	long logs_done, logs_total;
	uint64_t bytes_done, bytes_total; /* raw bytes of the logs */
	long hits;
};
void logsearch_progress(const struct logsearch *ls, struct logsearch_progress *p);
void logsearch_free(struct logsearch *ls);

#endif
