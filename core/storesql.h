/* storesql.h - the helpers every core module that writes SQL against the
 * index shares, so none keeps its own copy: binding and reading columns with
 * the index's conventions (text may be NULL; a time of CS_TIME_NONE is
 * stored as NULL) and the prepare / bind / step-until-done loop, with errors
 * that name the database (store_err()).
 *
 * Only core/ includes this (it brings in <sqlite3.h>); views and the CLI call
 * core functions and never see a statement.
 */
#ifndef CS_STORESQL_H
#define CS_STORESQL_H

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* NULL binds SQL NULL; the text is copied. */
static inline void sql_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* CS_TIME_NONE binds SQL NULL. */
static inline void sql_bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t == CS_TIME_NONE)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

/* Column i as an allocated string (caller frees), NULL for SQL NULL. */
static inline char *sql_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* Column i as a time, CS_TIME_NONE for SQL NULL. */
static inline int64_t sql_col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? CS_TIME_NONE : sqlite3_column_int64(s, i);
}

/* Prepare sql on st's connection; on failure *s is NULL and err says
 * "<what>: database '<path>': <why>". */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **s, const char *what,
		  struct cs_err *err);

/* Step a prepared (and bound) statement to its end, calling row for each
 * result row (row may be NULL for statements without results); finalizes s
 * in every case. Returns 0, row's non-zero return (which stops the loop), or
 * -1 with err set as for store_prepare(). */
typedef int (*store_row_fn)(void *ctx, sqlite3_stmt *s);
int store_collect(struct store *st, sqlite3_stmt *s, store_row_fn row, void *ctx,
		  const char *what, struct cs_err *err);

/* Step a prepared (and bound) statement whose first column is an id,
 * collecting the ids into *ids / *n (NULL / 0 on error; finalizes s). */
int store_collect_ids(struct store *st, sqlite3_stmt *s, int64_t **ids, int *n, const char *what,
		      struct cs_err *err);

/* Run one statement without results whose parameters ?1 and ?2 are ids. */
int store_exec_ids(struct store *st, const char *sql, int64_t a, int64_t b, const char *what,
		   struct cs_err *err);

#endif
