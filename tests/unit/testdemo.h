/* testdemo.h - the demo data set for the unit programs that need a whole
 * realistic index (triage, the triage view's model, diff): tools/demo-gen.py
 * runs once per program into t_tmpdir()/demo (runs/, repo/, MANIFEST.json)
 * and its runs are imported into t_tmpdir()/demo.db. Also the few small
 * fixtures several unit programs share (below).
 *
 * Owner: this file; the store and manifest live until the program exits.
 * A demo that cannot be built is a broken setup, not a failed test: the
 * program says why and exits 2. */
#ifndef CS_TESTDEMO_H
#define CS_TESTDEMO_H

#include <cjson/cJSON.h>

#include "core/logparse.h"
#include "core/store.h"

/* Runs argv (PATH lookup) with stdout/stderr on /dev/null; its exit status, -1 when
 * it could not run or did not exit. */
int t_spawn_quiet(char *const argv[]);
/* The generator's output folder (generated on first use). */
const char *t_demo_dir(void);
/* The imported index (opened read-write) and its file. */
struct store *t_demo(void);
const char *t_demo_db(void);
/* MANIFEST.json: what the generator planted where. */
const cJSON *t_demo_manifest(void);
/* The row id of run spec ("ID" or "ID:ATTEMPT") in st; a failed check and 0
 * when it is not there. */
int64_t t_run_row(struct store *st, const char *spec);

/* --- small fixtures several programs share ---------------------------------- */
/* A new empty index t_tmpdir()/NAME.db (an old one is removed); exits 2
 * when it cannot be opened. */
struct store *t_fresh_store(const char *name);
/* The whole file (up to 64 MiB) into out; exits 2 when it cannot be read. */
void t_slurp(const char *path, struct buf *out);
/* The first column of the first row of sql over st; -1 when there is none. */
int64_t t_count(struct store *st, const char *sql);
/* What t_count_lines, a split_cb, counts over the lines it is given (start
 * zeroed): lines, lines with a timestamp, with a BOM, of each kind; the first
 * and last timestamp (us); the number of the first error line (0: none). */
struct t_line_counts {
	uint64_t lines, ts, bom, kinds[LINE_KIND_COUNT];
	int64_t first_ts, last_ts;
	uint64_t line_of_first_error;
};
int t_count_lines(void *ctx, const struct split_line *sl);
/* For the generated logs: word w into b, one time in six with one of
 * escs[0..n_escs) inside it, three times in four followed by a space; the
 * dice are the caller's rnd(), so its sequence is the caller's. */
void t_add_word(struct buf *b, const char *w, const char *const *escs, size_t n_escs,
		uint32_t (*rnd)(void));

#endif
