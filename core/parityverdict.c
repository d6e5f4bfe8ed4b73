/* parityverdict.c - the parity verdict of a run, stored once derived (see
 * parity_run_verdicts() in parity.h and data/migrations/012-parity-verdicts.sql).
 *
 * A row of parity_verdicts is keyed by the run and the configuration's
 * digest (with the version of this derivation in front), and carries the
 * run's series as they were when it was derived ("count:points:max id"):
 * a row whose series no longer match is not used, whatever a trigger
 * missed (a concurrent import between the derivation and its storing). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parity.h"
#include "storesql.h"

/* bump when parity_run judges differently: rows of older versions are
 * ignored (and replaced as they are derived again) */
#define VERDICT_VERSION 1

#define SERIES_SIG                                                                      \
	"(SELECT count(*) || ':' || total(n_points) || ':' || coalesce(max(id), 0) "     \
	"FROM metric_series WHERE run_id = ?1)"

void parity_verdicts_release(struct parity_verdict *v, int n)
{
	for (int i = 0; v && i < n; i++) {
		free(v[i].channel);
		v[i].channel = NULL;
	}
}

struct derived {
	int i;          /* index into the caller's arrays */
	char *sig;      /* the run's series when derived */
};

/* Store what was derived; a failure only costs the next caller a
 * derivation (the verdicts are answered anyway). */
static void store_derived(struct store *st, const char *key, const int64_t *runs,
			  const struct parity_verdict *out, const struct derived *d, int nd)
{
	struct cs_err e;
	err_clear(&e);
	if (st->immutable)
		return;
	struct store *w = st->readonly ? store_open(st->path, STORE_RW, &e) : st;
	if (!w)
		return;
	sqlite3_stmt *ins = NULL;
	if (store_begin(w, &e) == 0) {
		bool ok = store_prepare(w, "INSERT OR REPLACE INTO parity_verdicts "
					   "(run_id, conf, series, channels, fail, channel) "
					   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
					&ins, "storing parity verdicts", &e) == 0;
		for (int k = 0; ok && k < nd; k++) {
			const struct parity_verdict *v = &out[d[k].i];
			sqlite3_reset(ins);
			sqlite3_bind_int64(ins, 1, runs[d[k].i]);
			sql_bind_text(ins, 2, key);
			sql_bind_text(ins, 3, d[k].sig);
			sqlite3_bind_int(ins, 4, v->channels);
			sqlite3_bind_int(ins, 5, v->fail);
			sql_bind_text(ins, 6, v->channel);
			ok = sqlite3_step(ins) == SQLITE_DONE;
		}
		sqlite3_finalize(ins);
		if (!ok || store_commit(w, &e) < 0)
			store_rollback(w);
	}
	if (w != st)
		store_close(w);
}

int parity_run_verdicts(struct store *st, const struct parity_conf *conf, const int64_t *runs,
		    int n, struct parity_verdict *out, struct cs_err *err)
{
	memset(out, 0, (size_t)(n > 0 ? n : 0) * sizeof(*out));
	if (n <= 0)
		return 0;
	char key[64];
	snprintf(key, sizeof(key), "%d:%016" PRIx64, VERDICT_VERSION, parity_conf_digest(conf));
	sqlite3_stmt *q, *sig;
	if (store_prepare(st, "SELECT v.channels, v.fail, v.channel FROM parity_verdicts v "
			      "WHERE v.run_id = ?1 AND v.conf = ?2 AND v.series = " SERIES_SIG,
			  &q, "reading parity verdicts", err) < 0)
		return -1;
	if (store_prepare(st, "SELECT " SERIES_SIG, &sig, "reading parity verdicts", err) < 0) {
		sqlite3_finalize(q);
		return -1;
	}
	struct derived *d = NULL;
	int nd = 0, rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, runs[i]);
		sql_bind_text(q, 2, key);
		int s = sqlite3_step(q);
		if (s == SQLITE_ROW) {
			out[i].channels = sqlite3_column_int(q, 0) != 0;
			out[i].fail = sqlite3_column_int(q, 1) != 0;
			const char *ch = (const char *)sqlite3_column_text(q, 2);
			out[i].channel = ch ? xstrdup(ch) : NULL;
			continue;
		}
		if (s != SQLITE_DONE) {
			rc = store_err(st, err, "reading parity verdicts");
			break;
		}
		/* the series as they are before the derivation reads them */
		sqlite3_reset(sig);
		sqlite3_bind_int64(sig, 1, runs[i]);
		if (sqlite3_step(sig) != SQLITE_ROW) {
			rc = store_err(st, err, "reading parity verdicts");
			break;
		}
		char *sg = xstrdup((const char *)sqlite3_column_text(sig, 0));
		sqlite3_reset(sig);
		struct parity_report rep;
		if (parity_run(st, conf, runs[i], NULL, 0, &rep, err) < 0) {
			free(sg);
			rc = -1;
			break;
		}
		out[i].channels = rep.n_channels > 0;
		out[i].fail = rep.fail;
		if (rep.deciding >= 0)
			out[i].channel = xstrdup(rep.channels[rep.deciding].name);
		parity_report_release(&rep);
		d = xrealloc(d, sizeof(*d) * (size_t)(nd + 1));
		d[nd].i = i;
		d[nd++].sig = sg;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(sig);
	if (rc == 0 && nd)
		store_derived(st, key, runs, out, d, nd);
	for (int k = 0; k < nd; k++)
		free(d[k].sig);
	free(d);
	if (rc < 0)
		parity_verdicts_release(out, n);
	return rc;
}
