/* f_local.c - local CI results files (core/metriclocal.c): the JSON a local
 * CI run writes (version, commit_sha, timestamp, checks), imported into a
 * real in-memory index as a run with its metrics.
 *
 * Properties:
 *  - a rejected document names the file in its error and writes nothing
 *    (the runs, their metrics and their sum are as they were);
 *  - an accepted one is a run of the `local` source whose metrics are
 *    finite numbers; imported again it is reported unchanged, as the same
 *    run, and the index does not change;
 *  - the foreign keys hold.
 */
#include <sqlite3.h>

#include "core/metrics.h"
#include "core/store.h"
#include "core/util.h"

#include "fuzz.h" /* after core/store.h: fuzz_mem_store */

static struct store *st;
static unsigned execs;

static void one_row(const char *sql, int64_t bind, int64_t *a, double *b)
{
	sqlite3_stmt *s;
	FUZZ_CHECK(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK);
	if (bind)
		sqlite3_bind_int64(s, 1, bind);
	FUZZ_CHECK(sqlite3_step(s) == SQLITE_ROW);
	*a = sqlite3_column_int64(s, 0);
	if (b)
		*b = sqlite3_column_double(s, 1);
	sqlite3_finalize(s);
}

struct snap {
	int64_t runs, metrics, fk;
	double sum;
};

static void snapshot(struct snap *s)
{
	one_row("SELECT count(*) FROM runs", 0, &s->runs, NULL);
	one_row("SELECT count(*), total(value) FROM run_metrics", 0, &s->metrics, &s->sum);
	sqlite3_stmt *q;
	FUZZ_CHECK(sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &q, NULL) == SQLITE_OK);
	s->fk = 0;
	while (sqlite3_step(q) == SQLITE_ROW)
		s->fk++;
	sqlite3_finalize(q);
}

static bool same(const struct snap *a, const struct snap *b)
{
	return a->runs == b->runs && a->metrics == b->metrics &&
	       (a->sum == b->sum || (a->sum != a->sum && b->sum != b->sum));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a fresh index now and then: memory stays flat over a long run */
	if (!st || ++execs % 512 == 0)
		st = fuzz_mem_store(st);
	const char *text = (const char *)data;
	(void)metrics_is_local_results(text, size);

	struct snap before, after;
	snapshot(&before);
	struct cs_err err;
	int64_t run = 0;
	int state = -1;
	int rc = metrics_import_local(st, "fuzz.json", text, size, &run, &state, &err);
	snapshot(&after);
	FUZZ_CHECK(after.fk == 0);
	if (rc < 0) {
		FUZZ_CHECK(strstr(err.msg, "fuzz.json") != NULL);
		FUZZ_CHECK(same(&before, &after));
		return 0;
	}
	FUZZ_CHECK(rc == 0 && run > 0 && state >= 0 && state <= 2);
	int64_t local = 0;
	one_row("SELECT count(*) FROM runs WHERE id = ?1 AND source = 'local'", run, &local, NULL);
	FUZZ_CHECK(local == 1);
	int64_t bad = 0;
	one_row("SELECT count(*) FROM run_metrics WHERE run_id = ?1 AND (value IS NULL OR "
		"typeof(value) != 'real' AND typeof(value) != 'integer')",
		run, &bad, NULL);
	FUZZ_CHECK(bad == 0);

	int64_t run2 = 0;
	int state2 = -1;
	FUZZ_CHECK(metrics_import_local(st, "fuzz.json", text, size, &run2, &state2, &err) == 0);
	FUZZ_CHECK(state2 == 2 && run2 == run);
	struct snap again;
	snapshot(&again);
	FUZZ_CHECK(same(&after, &again));
	return 0;
}
