/* t_store.c - the index: creation, migration, refusing files that are not
 * ours (and leaving them untouched), locks, default paths, and the lookups
 * the CLI resolves RUN and JOB arguments with. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/store.h"
#include "core/util.h"
#include "test.h"
#include "testdemo.h"

static char *tmp_path(const char *name)
{
	static int n;
	return xasprintf("%s/%d-%s", t_tmpdir(), ++n, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static bool same_file(const char *path, const struct buf *before)
{
	struct buf now = BUF_INIT;
	t_slurp(path, &now);
	bool same = now.len == before->len && (!now.len || !memcmp(now.data, before->data, now.len));
	buf_release(&now);
	return same;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -12345;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		t_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return v;
}

static const char *q_str(sqlite3 *db, const char *sql)
{
	static char out[512];
	sqlite3_stmt *s;
	snprintf(out, sizeof(out), "(none)");
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		snprintf(out, sizeof(out), "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(s);
	return out;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
		sqlite3_free(msg);
	}
}

/* A new index at tmp_path(name), its path in *path (the caller frees it);
 * NULL, after a failed check, when it cannot be opened. */
static struct store *new_index(const char *name, char **path)
{
	struct cs_err err;
	err_clear(&err);
	*path = tmp_path(name);
	struct store *st = store_open(*path, STORE_RW, &err);
	if (!st)
		t_fail(__FILE__, __LINE__, "store_open(%s): %s", *path, err.msg);
	return st;
}

/* A second connection to path that has run begin (BEGIN IMMEDIATE or
 * EXCLUSIVE): another writer holding the index. */
static sqlite3 *holder(const char *path, const char *begin)
{
	sqlite3 *other;
	CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
	exec(other, begin);
	return other;
}

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

#define CHECK_HAS(msg, needle)                                                               \
	do {                                                                                 \
		if (!has((msg), (needle)))                                                   \
			t_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (msg), (needle)); \
	} while (0)

/* --- opening ------------------------------------------------------------------- */

TEST(create_migrate_reopen)
{
	struct cs_err err;
	err_clear(&err);
	char *dir = tmp_path("nested");
	char *path = xasprintf("%s/a/b/index.db", dir);
	struct store *st = store_open(path, STORE_RW, &err);
	CHECK(st != NULL);
	if (!st) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return;
	}
	CHECK(!st->readonly);
	CHECK_STR(st->path, path);
	CHECK_INT(q_int(st->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_STR(q_str(st->db, "PRAGMA journal_mode"), "wal");
	CHECK_INT(q_int(st->db, "PRAGMA foreign_keys"), 1);
	static const char *const tables[] = {"repos", "runs", "jobs", "steps", "logs", "log_chunks",
					     "log_groups", "findings", "artifacts", "artifact_files",
					     "metric_series", "metric_points", "test_results", "meta"};
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		char sql[200];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		if (q_int(st->db, sql) != 1)
			t_fail(__FILE__, __LINE__, "no table %s", tables[i]);
	}
	/* foreign keys really cascade */
	exec(st->db, "INSERT INTO repos (id, slug) VALUES (1, 'o/r');"
		     "INSERT INTO runs (id, repo_id, provider_id, imported_at) VALUES (1, 1, 5, 0);"
		     "INSERT INTO jobs (run_id, provider_id, name, ordinal) VALUES (1, 9, 'j', 0);");
	exec(st->db, "DELETE FROM runs");
	CHECK_INT(q_int(st->db, "SELECT count(*) FROM jobs"), 0);
	exec(st->db, "INSERT INTO runs (id, repo_id, provider_id, imported_at) VALUES (1, 1, 5, 0)");
	store_close(st);
	struct stat sb;
	CHECK_INT(stat(path, &sb), 0);

	/* reopened for writing: nothing migrates again, data kept */
	st = store_open(path, STORE_RW, &err);
	CHECK(st != NULL);
	if (st) {
		CHECK_INT(q_int(st->db, "SELECT count(*) FROM runs"), 1);
		CHECK_INT(q_int(st->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		store_close(st);
	}
	/* and for reading */
	st = store_open(path, STORE_RO_EXISTING, &err);
	CHECK(st != NULL);
	if (st) {
		CHECK(st->readonly);
		CHECK_INT(q_int(st->db, "SELECT count(*) FROM runs"), 1);
		CHECK_INT(q_int(st->db, "PRAGMA foreign_keys"), 1);
		store_close(st);
	}
	store_close(NULL);
	free(path);
	free(dir);
}

TEST(readonly_missing_is_not_found)
{
	struct cs_err err;
	err_clear(&err);
	char *path = tmp_path("missing.db");
	struct store *st = store_open(path, STORE_RO_EXISTING, &err);
	CHECK(st == NULL);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "ciscope import");
	CHECK(!exists(path));
	store_close(st);
	free(path);
}

TEST(cannot_create_in_unwritable_place)
{
	struct cs_err err;
	err_clear(&err);
	/* a path whose parent is a file */
	char *file = tmp_path("plain-file");
	write_file(file, "x", 1);
	char *path = xasprintf("%s/sub/index.db", file);
	struct store *st = store_open(path, STORE_RW, &err);
	CHECK(st == NULL);
	CHECK(err.code != CS_OK);
	CHECK_HAS(err.msg, file);
	store_close(st);
	free(path);
	free(file);
}

/* Both open modes refuse path with a message naming it and saying why, and
 * leave its bytes as they were (before). */
static void refused_untouched(const char *path, const char *why, const struct buf *before)
{
	for (int mode = 0; mode < 2; mode++) {
		struct cs_err err;
		err_clear(&err);
		struct store *st = store_open(path, mode ? STORE_RO_EXISTING : STORE_RW, &err);
		CHECK(st == NULL);
		store_close(st);
		CHECK_INT(err.code, CS_EDB);
		CHECK_HAS(err.msg, path);
		CHECK_HAS(err.msg, why);
		if (!same_file(path, before))
			t_fail(__FILE__, __LINE__, "%s was modified by store_open (mode %d)", path, mode);
	}
}

static void check_not_a_db(const char *name, const void *data, size_t n)
{
	char *path = tmp_path(name);
	write_file(path, data, n);
	struct buf before = BUF_INIT;
	t_slurp(path, &before);
	refused_untouched(path, "not a ciscope index or is damaged", &before);
	char *wal = xasprintf("%s-wal", path);
	CHECK(!exists(wal));
	free(wal);
	buf_release(&before);
	free(path);
}

TEST(random_bytes_refused)
{
	unsigned char junk[8192];
	uint32_t x = 0x9e3779b9u;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		junk[i] = (unsigned char)(x >> 24);
	}
	check_not_a_db("random.db", junk, sizeof(junk));
}

TEST(text_file_refused)
{
	static const char text[] =
		"2024-05-01T10:48:36.8101331Z ##[group]Run make\n"
		"this is a log, not a database; someone passed --db build.log\n";
	check_not_a_db("build.log", text, sizeof(text) - 1);
}

TEST(damaged_header_refused)
{
	/* a real index whose header page was overwritten */
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("damaged.db", &path);
	exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	store_close(st);
	struct buf b = BUF_INIT;
	t_slurp(path, &b);
	CHECK(b.len >= 100);
	memset(b.data, 'Z', 16);
	write_file(path, b.data, b.len);
	buf_release(&b);
	st = store_open(path, STORE_RO_EXISTING, &err);
	CHECK(st == NULL);
	store_close(st);
	CHECK_INT(err.code, CS_EDB);
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "not a ciscope index or is damaged");
	free(path);
}

/* Another program's SQLite database: refused, and left exactly as it was. */
TEST(foreign_sqlite_db_refused_and_untouched)
{
	char *path = tmp_path("foreign.db");
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
		 "INSERT INTO notes (body) VALUES ('keep me'), ('and me');");
	sqlite3_close(db);
	struct buf before = BUF_INIT;
	t_slurp(path, &before);
	/* byte for byte: no schema written, no journal-mode change */
	refused_untouched(path, "not a ciscope index", &before);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(q_int(db, "SELECT count(*) FROM notes"), 2);
	CHECK_INT(q_int(db, "SELECT count(*) FROM sqlite_master"), 1);
	CHECK_INT(q_int(db, "PRAGMA user_version"), 0);
	CHECK_STR(q_str(db, "PRAGMA journal_mode"), "delete");
	sqlite3_close(db);
	buf_release(&before);
	free(path);
}

TEST(newer_schema_refused)
{
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("future.db", &path);
	exec(st->db, "PRAGMA user_version = 99");
	store_close(st);
	for (int mode = 0; mode < 2; mode++) {
		err_clear(&err);
		st = store_open(path, mode ? STORE_RO_EXISTING : STORE_RW, &err);
		CHECK(st == NULL);
		store_close(st);
		CHECK_INT(err.code, CS_EDB);
		CHECK_HAS(err.msg, path);
		CHECK_HAS(err.msg, "99");
		CHECK_HAS(err.msg, "newer than this ciscope");
	}
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(q_int(db, "PRAGMA user_version"), 99);
	sqlite3_close(db);
	free(path);
}

TEST(locked_by_another_writer)
{
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("locked.db", &path);
	if (!st)
		return;
	sqlite3 *other = holder(path, "BEGIN EXCLUSIVE");
	sqlite3_busy_timeout(st->db, 50);
	CHECK_INT(store_begin(st, &err), -1);
	CHECK_INT(err.code, CS_EDB);
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "another ciscope is writing");
	/* WAL: a reader still opens the index while the writer holds it */
	err_clear(&err);
	struct store *reader = store_open(path, STORE_RO_EXISTING, &err);
	CHECK(reader != NULL);
	store_close(reader);
	exec(other, "ROLLBACK");
	sqlite3_close(other);
	err_clear(&err);
	CHECK_OK(store_begin(st, &err));
	CHECK_OK(store_exec(st, "INSERT INTO meta (key, value) VALUES ('k', 'v')", &err));
	CHECK_OK(store_commit(st, &err));
	CHECK_STR(q_str(st->db, "SELECT value FROM meta WHERE key = 'k'"), "v");
	/* rollback undoes, and is harmless outside a transaction */
	CHECK_OK(store_begin(st, &err));
	CHECK_OK(store_exec(st, "DELETE FROM meta", &err));
	store_rollback(st);
	store_rollback(st);
	CHECK_INT(q_int(st->db, "SELECT count(*) FROM meta"), 1);
	store_close(st);
	free(path);
}

/* --- concurrent opening: real processes ------------------------------------------- */
extern const char schema_sql[];
extern const char *const store_migrations[];

/* Start n children that wait on a pipe, then all at once open path (mode)
 * and exit 0 when it opened at the current version, 1 otherwise (printing
 * the error). Returns how many failed; a child still running after 60 s is
 * killed and counts as failed. */
static int open_at_once(const char *path, enum store_mode mode, int n)
{
	int go[2];
	if (pipe(go) != 0)
		return n;
	pid_t pids[16];
	for (int i = 0; i < n && i < 16; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(3);
			struct cs_err err;
			err_clear(&err);
			struct store *st = store_open(path, mode, &err);
			int ok = st && q_int(st->db, "PRAGMA user_version") == STORE_SCHEMA_VERSION;
			if (!st)
				fprintf(stderr, "child %d: %s\n", i, err.msg);
			store_close(st);
			_exit(ok ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]); /* every child's read returns: go */
	int failed = 0;
	time_t deadline = time(NULL) + 60;
	for (int i = 0; i < n; i++) {
		int status = 0;
		pid_t r;
		while ((r = waitpid(pids[i], &status, WNOHANG)) == 0 && time(NULL) < deadline)
			usleep(10000);
		if (r == 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &status, 0);
			t_fail(__FILE__, __LINE__, "child %d still running after 60 s", i);
		}
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

/* An index at version v as an older ciscope left it. */
static void make_old_index(const char *path, int v)
{
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL");
	exec(db, "BEGIN");
	exec(db, schema_sql);
	for (int i = 2; i <= v; i++)
		exec(db, store_migrations[i]);
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
	exec(db, pragma);
	exec(db, "COMMIT");
	sqlite3_close(db);
}

/* Two importers on a fresh index used to both see version 0 and both create
 * the tables ("table repos already exists"); two upgrading an older index
 * collided the same way. The version is now read again under the write
 * lock. Several rounds, since a lost race needs the timing to line up. */
TEST(concurrent_writers_migrate_once)
{
	for (int round = 0; round < 6; round++) {
		char *fresh = tmp_path("fresh.db");
		CHECK_INT(open_at_once(fresh, STORE_RW, 6), 0);
		sqlite3 *db;
		CHECK_INT(sqlite3_open(fresh, &db), SQLITE_OK);
		CHECK_INT(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		CHECK_INT(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'repos'"), 1);
		CHECK_STR(q_str(db, "PRAGMA integrity_check"), "ok");
		sqlite3_close(db);
		free(fresh);

		char *old = tmp_path("old.db");
		make_old_index(old, 1 + round % (STORE_SCHEMA_VERSION - 1));
		CHECK_INT(open_at_once(old, STORE_RW, 6), 0);
		CHECK_INT(sqlite3_open(old, &db), SQLITE_OK);
		CHECK_INT(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		CHECK_INT(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'triage_jobs'"), 1);
		sqlite3_close(db);
		free(old);
	}
}

/* A reader started while another process upgrades the index waits for the
 * upgrade instead of failing with "needs an upgrade"; with nobody
 * upgrading, an old index still gets that message at once. */
TEST(reader_waits_for_upgrade)
{
	char *path = tmp_path("upgrading.db");
	make_old_index(path, STORE_SCHEMA_VERSION - 1);
	/* the reader is forked before this process opens the file: SQLite's
	 * lock bookkeeping must not be shared across fork() */
	int go[2];
	CHECK_INT(pipe(go), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		struct cs_err err;
		err_clear(&err);
		struct store *st = store_open(path, STORE_RO_EXISTING, &err);
		if (!st)
			fprintf(stderr, "reader: %s\n", err.msg);
		_exit(st && q_int(st->db, "PRAGMA user_version") == STORE_SCHEMA_VERSION ? 0 : 1);
	}
	close(go[0]);
	sqlite3 *up;
	CHECK_INT(sqlite3_open(path, &up), SQLITE_OK);
	exec(up, "BEGIN IMMEDIATE");
	exec(up, store_migrations[STORE_SCHEMA_VERSION]);
	CHECK_INT(write(go[1], "g", 1), 1);
	close(go[1]);
	/* the reader has started and read the old version by now; the upgrade
	 * commits while it waits */
	usleep(300000);
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	exec(up, pragma);
	exec(up, "COMMIT");
	sqlite3_close(up);
	int status = 0;
	time_t deadline = time(NULL) + 60;
	pid_t r;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && time(NULL) < deadline)
		usleep(10000);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	CHECK(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	char *old = tmp_path("old-reader.db");
	make_old_index(old, STORE_SCHEMA_VERSION - 1);
	struct cs_err err;
	err_clear(&err);
	struct store *st = store_open(old, STORE_RO_EXISTING, &err);
	CHECK(st == NULL);
	store_close(st);
	CHECK_HAS(err.msg, "needs an upgrade");
	free(old);
	free(path);
}

/* The TUI and retriage open with STORE_UPGRADE_EXISTING: an older index
 * that can be written is migrated (and stays a reader's store); an empty
 * file is still refused, not given tables; a missing one too. */
TEST(upgrade_existing_migrates)
{
	char *old = tmp_path("old-upgrade.db");
	make_old_index(old, STORE_SCHEMA_VERSION - 1);
	struct cs_err err;
	err_clear(&err);
	struct store *st = store_open(old, STORE_UPGRADE_EXISTING, &err);
	CHECK(st != NULL);
	if (st) {
		CHECK(st->readonly);
		CHECK_INT(q_int(st->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		CHECK_STR(q_str(st->db, "PRAGMA integrity_check"), "ok");
	}
	store_close(st);

	char *empty = tmp_path("empty-upgrade.db");
	FILE *f = fopen(empty, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	st = store_open(empty, STORE_UPGRADE_EXISTING, &err);
	CHECK(st == NULL);
	store_close(st);
	CHECK_HAS(err.msg, "is empty");

	char *missing = tmp_path("missing-upgrade.db");
	st = store_open(missing, STORE_UPGRADE_EXISTING, &err);
	CHECK(st == NULL);
	store_close(st);
	CHECK_HAS(err.msg, "no index at");
	CHECK(access(missing, F_OK) != 0);
	free(old);
	free(empty);
	free(missing);
}

/* --- waiting for another writer --------------------------------------------------------- */
struct notices {
	int n;
	char msg[512];
};

static void on_notice(void *ctx, const char *msg)
{
	struct notices *ns = ctx;
	ns->n++;
	snprintf(ns->msg, sizeof(ns->msg), "%s", msg);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Another process holds the write lock for hold_ms (a long import's
 * transaction) and commits a row; returns its pid once the lock is held. */
static pid_t hold_lock(const char *path, int hold_ms)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		sqlite3 *db;
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO meta (key, value) "
				     "VALUES ('held', 'yes')", NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		if (write(fds[1], "x", 1) != 1)
			_exit(4);
		usleep((useconds_t)hold_ms * 1000);
		_exit(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK &&
			      sqlite3_close(db) == SQLITE_OK
			      ? 0 : 5);
	}
	close(fds[1]);
	char c;
	if (pid < 0 || read(fds[0], &c, 1) != 1)
		pid = -1;
	close(fds[0]);
	return pid;
}

TEST(waits_for_another_writer)
{
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("wait.db", &path);
	if (!st)
		return;
	struct notices ns = {0, ""};
	struct store_wait patient = {-1, on_notice, &ns, NULL};
	store_set_wait(st, &patient);
	/* longer than the old 5 s timeout would not keep the test short; the
	 * notice comes after STORE_WAIT_NOTICE_MS, the wait goes on past it */
	pid_t pid = hold_lock(path, STORE_WAIT_NOTICE_MS + 700);
	CHECK(pid > 0);
	int64_t t0 = now_ms();
	CHECK_OK(store_begin(st, &err));
	int64_t waited = now_ms() - t0;
	CHECK(waited >= STORE_WAIT_NOTICE_MS);
	CHECK_INT(ns.n, 1);
	CHECK_HAS(ns.msg, "waiting for the index");
	CHECK_HAS(ns.msg, path);
	CHECK_HAS(ns.msg, "another process is writing to it");
	/* the other writer's commit is there: nothing lost */
	CHECK_STR(q_str(st->db, "SELECT value FROM meta WHERE key = 'held'"), "yes");
	CHECK_OK(store_exec(st, "INSERT INTO meta (key, value) VALUES ('second', 'yes')", &err));
	CHECK_OK(store_commit(st, &err));
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	store_close(st);
	free(path);
}

TEST(bounded_and_interrupted_waits)
{
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("bounded.db", &path);
	if (!st)
		return;
	sqlite3 *other = holder(path, "BEGIN IMMEDIATE");
	/* a bound shorter than the notice delay: no notice, a clear error */
	struct notices ns = {0, ""};
	struct store_wait bounded = {300, on_notice, &ns, NULL};
	store_set_wait(st, &bounded);
	int64_t t0 = now_ms();
	CHECK_INT(store_begin(st, &err), -1);
	int64_t waited = now_ms() - t0;
	CHECK(waited >= 300 && waited < 3000);
	CHECK_INT(ns.n, 0);
	CHECK_HAS(err.msg, "another ciscope is writing");
	/* Ctrl-C: an endless wait stops at once */
	volatile sig_atomic_t stop = 1;
	struct store_wait endless = {-1, on_notice, &ns, &stop};
	store_set_wait(st, &endless);
	t0 = now_ms();
	err_clear(&err);
	CHECK_INT(store_begin(st, &err), -1);
	CHECK(now_ms() - t0 < 1000);
	CHECK_HAS(err.msg, "another ciscope is writing");
	exec(other, "ROLLBACK");
	sqlite3_close(other);
	store_close(st);
	free(path);
}

/* --- an index that cannot be written ------------------------------------------------------ */
/* Make dir unwritable even for root: the immutable attribute (chattr +i)
 * where the file system has it, else mode 0555 (enough for other users).
 * Returns 1 (immutable), 2 (mode) or 0 (neither holds: skip). */
static int lock_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		int flags = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
			flags |= FS_IMMUTABLE_FL;
			if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0) {
				close(fd);
				return 1;
			}
		}
		close(fd);
	}
	if (chmod(dir, 0555) == 0 && access(dir, W_OK) != 0)
		return 2;
	chmod(dir, 0755);
	return 0;
}

static void unlock_dir(const char *dir, int how)
{
	if (how == 1) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY);
		int flags = 0;
		if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
			flags &= ~FS_IMMUTABLE_FL;
			ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		if (fd >= 0)
			close(fd);
	}
	chmod(dir, 0755);
}

TEST(readonly_folder_reads_and_refuses_writes)
{
	struct cs_err err;
	err_clear(&err);
	char *dir = tmp_path("ro-folder");
	CHECK(mkdir(dir, 0755) == 0);
	char *path = xasprintf("%s/index.db", dir);
	struct store *st = store_open(path, STORE_RW, &err);
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_OK(store_exec(st, "INSERT INTO meta (key, value) VALUES ('k', 'archived')", &err));
	store_close(st);
	struct buf before = BUF_INIT;
	t_slurp(path, &before);
	int how = lock_dir(dir);
	if (!how) {
		printf("skip: readonly_folder: cannot make a folder unwritable here (no chattr +i, "
		       "and mode bits do not bind root)\n");
		goto out;
	}
	/* reading works: every command that only reads the index */
	err_clear(&err);
	st = store_open(path, STORE_RO_EXISTING, &err);
	CHECK(st != NULL);
	if (st) {
		CHECK(st->immutable);
		CHECK_STR(q_str(st->db, "SELECT value FROM meta WHERE key = 'k'"), "archived");
		store_close(st);
	} else {
		t_fail(__FILE__, __LINE__, "read-only open: %s", err.msg);
	}
	/* writing says why it cannot */
	err_clear(&err);
	st = store_open(path, STORE_RW, &err);
	CHECK(st == NULL);
	store_close(st);
	CHECK_HAS(err.msg, "cannot write to the index");
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "is not writable");
	CHECK_HAS(err.msg, "commands that only read the index still work");
	CHECK(same_file(path, &before));
	char *shm = xasprintf("%s-shm", path);
	CHECK(!exists(shm));
	free(shm);
out:
	unlock_dir(dir, how);
	buf_release(&before);
	free(path);
	free(dir);
}

TEST(store_exec_and_err_name_the_database)
{
	struct cs_err err;
	err_clear(&err);
	char *path;
	struct store *st = new_index("exec.db", &path);
	CHECK_INT(store_exec(st, "SELECT * FROM no_such_table", &err), -1);
	CHECK_INT(err.code, CS_EDB);
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "no_such_table");
	sqlite3_stmt *s = NULL;
	CHECK(sqlite3_prepare_v2(st->db, "SELEKT", -1, &s, NULL) != SQLITE_OK);
	err_clear(&err);
	CHECK_INT(store_err(st, &err, "cannot list runs"), -1);
	CHECK_INT(err.code, CS_EDB);
	CHECK(str_starts(err.msg, "cannot list runs: database '"));
	CHECK_HAS(err.msg, path);
	CHECK_HAS(err.msg, "syntax error");
	store_close(st);
	free(path);
}

/* --- default path -------------------------------------------------------------------- */

static void set_env(const char *db, const char *xdg, const char *home)
{
	if (db)
		setenv("CISCOPE_DB", db, 1);
	else
		unsetenv("CISCOPE_DB");
	if (xdg)
		setenv("XDG_DATA_HOME", xdg, 1);
	else
		unsetenv("XDG_DATA_HOME");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
}

#define CHECK_PATH(slug, want)                                                             \
	do {                                                                               \
		char *p_ = store_default_path(slug);                                       \
		CHECK_STR(p_, want);                                                       \
		free(p_);                                                                  \
	} while (0)

TEST(default_path)
{
	char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *old_xdg = getenv("XDG_DATA_HOME") ? xstrdup(getenv("XDG_DATA_HOME")) : NULL;
	char *old_db = getenv("CISCOPE_DB") ? xstrdup(getenv("CISCOPE_DB")) : NULL;

	set_env("/tmp/x/my.db", "/xdg", "/home/u");
	CHECK_PATH(NULL, "/tmp/x/my.db");
	CHECK_PATH("owner/repo", "/tmp/x/my.db");

	set_env("", "/xdg", "/home/u");
	CHECK_PATH(NULL, "/xdg/ciscope/default.db");
	CHECK_PATH("", "/xdg/ciscope/default.db");
	CHECK_PATH("hub4j-test-org/GHWorkflowRunTest", "/xdg/ciscope/hub4j-test-org_GHWorkflowRunTest.db");
	CHECK_PATH("o.r-g/my_repo.js", "/xdg/ciscope/o.r-g_my_repo.js.db");
	/* nothing in a slug can leave the folder or make a hidden path */
	CHECK_PATH("../../etc/passwd", "/xdg/ciscope/.._.._etc_passwd.db");
	CHECK_PATH("a b:c\\d\"e*f?g|h\ni", "/xdg/ciscope/a_b_c_d_e_f_g_h_i.db");
	CHECK_PATH("\xc3\xbcn\xc3\xaf/c", "/xdg/ciscope/__n___c.db");
	CHECK_PATH("$(rm -rf ~)", "/xdg/ciscope/__rm_-rf___.db");

	set_env(NULL, "/xdg/", "/home/u");
	CHECK_PATH("o/r", "/xdg//ciscope/o_r.db");

	/* XDG_DATA_HOME must be absolute to count (XDG spec) */
	set_env(NULL, "relative/dir", "/home/u");
	CHECK_PATH("o/r", "/home/u/.local/share/ciscope/o_r.db");
	set_env(NULL, "", "/home/u");
	CHECK_PATH(NULL, "/home/u/.local/share/ciscope/default.db");
	set_env(NULL, NULL, "/home/u");
	CHECK_PATH(NULL, "/home/u/.local/share/ciscope/default.db");
	set_env(NULL, NULL, NULL);
	CHECK_PATH(NULL, "./.local/share/ciscope/default.db");

	if (old_home)
		setenv("HOME", old_home, 1);
	if (old_xdg)
		setenv("XDG_DATA_HOME", old_xdg, 1);
	if (old_db)
		setenv("CISCOPE_DB", old_db, 1);
	free(old_home);
	free(old_xdg);
	free(old_db);
}

/* --- runs and jobs ----------------------------------------------------------------------- */

static struct store *runs_store(void)
{
	struct cs_err err;
	err_clear(&err);
	char *path = tmp_path("runs.db");
	struct store *st = store_open(path, STORE_RW, &err);
	free(path);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	/* run 500: attempts 1 (failure) and 2 (success); run 600 on another
	 * branch, in progress; run 700 cancelled, oldest */
	exec(st->db,
	     "INSERT INTO repos (id, provider, slug) VALUES (1, 'github', 'o/r');"
	     "INSERT INTO runs (id, repo_id, provider_id, attempt, run_number, workflow_name, "
	     "  title, event, head_branch, head_sha, status, conclusion, created_at, updated_at, "
	     "  started_at, imported_at) VALUES "
	     "(10, 1, 500, 1, 7, 'CI', 'Fix the parser', 'push', 'main', "
	     "  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'completed', 'failure', 2000000, 2090000, "
	     "  2000000, 0),"
	     "(11, 1, 500, 2, 7, 'CI', 'Fix the parser', 'push', 'main', "
	     "  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'completed', 'success', 2000000, 2600000, "
	     "  2500000, 0),"
	     "(12, 1, 600, 1, 8, 'Nightly', 'Bump deps', 'schedule', 'feature/x', "
	     "  'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'in_progress', NULL, 3000000, 3100000, "
	     "  3000000, 0),"
	     "(13, 1, 700, 1, 6, 'CI', 'Old', 'pull_request', 'main', "
	     "  'cccccccccccccccccccccccccccccccccccccccc', 'completed', 'cancelled', 1000000, NULL, "
	     "  NULL, 0);"
	     "INSERT INTO jobs (id, run_id, provider_id, name, status, conclusion, ordinal) VALUES "
	     "(1, 10, 9001, 'build', 'completed', 'failure', 0),"
	     "(2, 10, 9002, 'test', 'completed', 'success', 1),"
	     "(3, 11, 9003, 'build', 'completed', 'success', 0);");
	return st;
}

struct collected {
	int n;
	long long ids[16];
	int attempts[16];
	char states[16][32];
};

static int collect(void *ctx, const struct run *r)
{
	struct collected *c = ctx;
	if (c->n < 16) {
		c->ids[c->n] = r->provider_id;
		c->attempts[c->n] = r->attempt;
		snprintf(c->states[c->n], sizeof(c->states[0]), "%s", run_state(r));
	}
	c->n++;
	return 0;
}

static struct collected list(struct store *st, const struct run_filter *f)
{
	struct cs_err err;
	err_clear(&err);
	struct collected c = {0};
	CHECK_OK(store_runs(st, f, collect, &c, &err));
	long n = store_count_runs(st, f, &err);
	if (!f || (!f->limit && !f->offset))
		CHECK_INT(n, c.n);
	return c;
}

TEST(find_run)
{
	struct store *st = runs_store();
	struct cs_err err;
	err_clear(&err);
	struct run r;
	CHECK_OK(store_find_run(st, "500", &r, &err));
	CHECK_INT(r.id, 11);
	CHECK_INT(r.attempt, 2);
	CHECK_STR(r.repo, "o/r");
	CHECK_INT(r.n_jobs, 1);
	CHECK_INT(r.duration_ms, 100000); /* updated - run_started_at */
	run_free(&r);
	CHECK_OK(store_find_run(st, "500:1", &r, &err));
	CHECK_INT(r.id, 10);
	CHECK_INT(r.n_jobs, 2);
	CHECK_INT(r.n_failed_jobs, 1);
	CHECK_INT(r.duration_ms, 90000);
	run_free(&r);
	CHECK_OK(store_find_run(st, "#12", &r, &err));
	CHECK_INT(r.provider_id, 600);
	CHECK_INT(r.duration_ms, CS_TIME_NONE); /* not completed */
	CHECK(r.conclusion == NULL);
	CHECK_STR(run_state(&r), "in_progress");
	run_free(&r);
	CHECK_OK(store_find_run(st, "700", &r, &err));
	CHECK_INT(r.updated_at, CS_TIME_NONE);
	CHECK_INT(r.started_at, CS_TIME_NONE);
	CHECK_INT(r.duration_ms, CS_TIME_NONE);
	run_free(&r);

	err_clear(&err);
	CHECK_INT(store_find_run(st, "500:3", &r, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_HAS(err.msg, "500");
	CHECK_HAS(err.msg, "attempt 3");
	CHECK_INT(store_find_run(st, "12345", &r, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_HAS(err.msg, "12345");
	CHECK_INT(store_find_run(st, "#999", &r, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);

	static const char *const garbage[] = {"",     "abc",  "12x",	"12:",	 "12:0",   "12:-1",
					      "12:x", "#",    "#abc",	":1",	"12:1:2", "1 2",
					      "99999999999999999999999", "500/build"};
	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
		err_clear(&err);
		if (store_find_run(st, garbage[i], &r, &err) != -1) {
			t_fail(__FILE__, __LINE__, "'%s' accepted as a run id", garbage[i]);
			run_free(&r);
			continue;
		}
		if (err.code != CS_EUSAGE)
			t_fail(__FILE__, __LINE__, "'%s': code %d (%s)", garbage[i], err.code, err.msg);
		if (!has(err.msg, garbage[i]))
			t_fail(__FILE__, __LINE__, "'%s': message \"%s\" does not quote it", garbage[i],
			       err.msg);
	}
	store_close(st);
}

TEST(list_and_filter_runs)
{
	struct store *st = runs_store();
	struct collected c = list(st, NULL);
	CHECK_INT(c.n, 4);
	/* newest first; attempts of one run newest attempt first */
	CHECK_INT(c.ids[0], 600);
	CHECK_INT(c.ids[1], 500);
	CHECK_INT(c.attempts[1], 2);
	CHECK_INT(c.ids[2], 500);
	CHECK_INT(c.attempts[2], 1);
	CHECK_INT(c.ids[3], 700);
	CHECK_STR(c.states[0], "in_progress");
	CHECK_STR(c.states[3], "cancelled");

	struct run_filter f = {.workflow = "CI"};
	c = list(st, &f);
	CHECK_INT(c.n, 3);
	f = (struct run_filter){.branch = "feature/x"};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	CHECK_INT(c.ids[0], 600);
	f = (struct run_filter){.status = "failure"}; /* a conclusion */
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	CHECK_INT(c.attempts[0], 1);
	f = (struct run_filter){.status = "completed"}; /* a status */
	c = list(st, &f);
	CHECK_INT(c.n, 3);
	f = (struct run_filter){.workflow = "CI", .status = "success", .branch = "main"};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	f = (struct run_filter){.text = "PARSER"};
	c = list(st, &f);
	CHECK_INT(c.n, 2);
	f = (struct run_filter){.text = "bbbbbbb"};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	f = (struct run_filter){.text = "schedule"};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	f = (struct run_filter){.text = "%"}; /* no LIKE wildcards */
	c = list(st, &f);
	CHECK_INT(c.n, 0);
	f = (struct run_filter){.text = "700"};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	f = (struct run_filter){.workflow = "ci"}; /* exact */
	c = list(st, &f);
	CHECK_INT(c.n, 0);
	f = (struct run_filter){.workflow = "x' OR 1=1 --"};
	c = list(st, &f);
	CHECK_INT(c.n, 0);

	f = (struct run_filter){.limit = 2};
	c = list(st, &f);
	CHECK_INT(c.n, 2);
	CHECK_INT(c.ids[1], 500);
	f = (struct run_filter){.limit = 2, .offset = 2};
	c = list(st, &f);
	CHECK_INT(c.n, 2);
	CHECK_INT(c.ids[0], 500);
	CHECK_INT(c.attempts[0], 1);
	CHECK_INT(c.ids[1], 700);
	f = (struct run_filter){.offset = 3};
	c = list(st, &f);
	CHECK_INT(c.n, 1);
	struct cs_err err;
	err_clear(&err);
	f = (struct run_filter){.workflow = "CI", .limit = 1};
	CHECK_INT(store_count_runs(st, &f, &err), 3); /* counts ignore the limit */
	store_close(st);
}

static int stop_after_one(void *ctx, const struct run *r)
{
	int *n = ctx;
	(*n)++;
	return 7;
}

TEST(callback_stops_listing)
{
	struct store *st = runs_store();
	struct cs_err err;
	err_clear(&err);
	int n = 0;
	CHECK_INT(store_runs(st, NULL, stop_after_one, &n, &err), 7);
	CHECK_INT(n, 1);
	store_close(st);
}

TEST(jobs_in_order_with_steps)
{
	struct store *st = runs_store();
	exec(st->db, "INSERT INTO steps (job_id, number, name, status, conclusion, first_line, "
		     "last_line) VALUES (1, 3, 'three', 'completed', 'failure', 10, 12),"
		     "(1, 1, 'one', 'completed', 'success', 1, 9), (1, 2, 'two', 'completed', "
		     "'skipped', NULL, NULL);"
		     "INSERT INTO findings (job_id, step_number, line, end_line, severity, source, "
		     "message) VALUES (1, 3, 11, 11, 'error', 'marker', 'boom'), (1, 3, 10, 10, "
		     "'warning', 'marker', 'hmm'), (1, NULL, 2, 2, 'error', 'marker', 'early');");
	struct cs_err err;
	err_clear(&err);
	struct job *jobs;
	int n;
	CHECK_OK(store_jobs(st, 10, &jobs, &n, &err));
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(jobs[0].name, "build");
		CHECK_STR(jobs[1].name, "test");
		CHECK_INT(jobs[0].n_steps, 3);
		CHECK_INT(jobs[0].steps[0].number, 1);
		CHECK_INT(jobs[0].steps[2].number, 3);
		CHECK_INT(jobs[0].steps[1].first_line, 0);
		CHECK_INT(jobs[0].steps[2].last_line, 12);
		CHECK_INT(jobs[0].n_errors, 2);
		CHECK_INT(jobs[0].n_warnings, 1);
		CHECK_INT(jobs[0].log_id, 0);
		CHECK_STR(jobs[0].log_state, "missing");
		CHECK_INT(jobs[1].n_steps, 0);
	}
	store_jobs_free(jobs, n);
	struct step *steps;
	CHECK_OK(store_steps(st, 1, &steps, &n, &err));
	CHECK_INT(n, 3);
	store_steps_free(steps, n);
	CHECK_OK(store_steps(st, 999, &steps, &n, &err));
	CHECK_INT(n, 0);
	store_steps_free(steps, n);
	struct finding *fs;
	CHECK_OK(store_findings(st, 1, &fs, &n, &err));
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(fs[0].line, 2);
		CHECK_INT(fs[0].step_number, 0);
		CHECK_STR(fs[1].severity, "warning");
		CHECK_STR(fs[2].message, "boom");
	}
	store_findings_free(fs, n);
	store_close(st);
}

TEST(find_job)
{
	struct job jobs[5];
	memset(jobs, 0, sizeof(jobs));
	jobs[0] = (struct job){.provider_id = 100, .name = "build"};
	jobs[1] = (struct job){.provider_id = 200, .name = "build (ubuntu, 3.11)"};
	jobs[2] = (struct job){.provider_id = 300, .name = "test"};
	jobs[3] = (struct job){.provider_id = 400, .name = "42"};
	jobs[4] = (struct job){.provider_id = 42, .name = "lint"};
	struct cs_err err;
	err_clear(&err);
	CHECK_INT(store_find_job(jobs, 5, "200", &err), 1);
	CHECK_INT(store_find_job(jobs, 5, "test", &err), 2);
	CHECK_INT(store_find_job(jobs, 5, "build", &err), 0); /* exact beats prefix */
	CHECK_INT(store_find_job(jobs, 5, "build (u", &err), 1);
	CHECK_INT(store_find_job(jobs, 5, "te", &err), 2);
	CHECK_INT(store_find_job(jobs, 5, "42", &err), 4); /* an id first */
	CHECK_INT(store_find_job(jobs, 5, "400", &err), 3);
	err_clear(&err);
	CHECK_INT(store_find_job(jobs, 5, "bui", &err), -1);
	CHECK_INT(err.code, CS_EUSAGE);
	CHECK_HAS(err.msg, "'bui'");
	CHECK_HAS(err.msg, "ambiguous");
	CHECK_HAS(err.msg, "2 jobs");
	err_clear(&err);
	CHECK_INT(store_find_job(jobs, 5, "deploy", &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_HAS(err.msg, "'deploy'");
	err_clear(&err);
	CHECK_INT(store_find_job(jobs, 5, "999", &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_INT(store_find_job(jobs, 0, "build", &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
}

TEST(run_state_and_failure)
{
	struct run r = {0};
	CHECK_STR(run_state(&r), "unknown");
	r.status = "queued";
	CHECK_STR(run_state(&r), "queued");
	r.conclusion = "";
	CHECK_STR(run_state(&r), "queued");
	r.conclusion = "timed_out";
	CHECK_STR(run_state(&r), "timed_out");
	CHECK(ci_conclusion_is_failure("failure"));
	CHECK(ci_conclusion_is_failure("timed_out"));
	CHECK(ci_conclusion_is_failure("startup_failure"));
	CHECK(ci_conclusion_is_failure("action_required"));
	CHECK(!ci_conclusion_is_failure("cancelled"));
	CHECK(!ci_conclusion_is_failure("success"));
	CHECK(!ci_conclusion_is_failure("skipped"));
	CHECK(!ci_conclusion_is_failure(NULL));
	CHECK(!ci_conclusion_is_failure("Failure"));
}

TEST(summary_of_empty_run)
{
	struct store *st = runs_store();
	struct cs_err err;
	err_clear(&err);
	struct run_summary s;
	memset(&s, 0x55, sizeof(s));
	CHECK_OK(store_run_summary(st, 10, &s, &err));
	CHECK_INT(s.n_artifacts, 0);
	CHECK_INT(s.n_artifact_files, 0);
	CHECK_INT(s.tests_passed + s.tests_failed + s.tests_error + s.tests_skipped + s.tests_flaky, 0);
	CHECK_INT(s.n_series, 0);
	store_close(st);
}

/* X and D of the TUI name a run's workflow in a URL: its file's base name,
 * else its id, else nothing (never a path or a guess). */
TEST(run_workflow_ref)
{
	struct store *st = runs_store();
	struct cs_err err;
	err_clear(&err);
	exec(st->db, "UPDATE runs SET workflow_path = '.github/workflows/ci.yml', workflow_id = 77 "
		     "WHERE id = 10;"
		     "UPDATE runs SET workflow_path = NULL, workflow_id = 88 WHERE id = 11;"
		     "UPDATE runs SET workflow_path = '', workflow_id = NULL WHERE id = 12;");
	struct buf b = BUF_INIT;
	CHECK_OK(store_run_workflow_ref(st, 10, &b, &err));
	CHECK_STR(buf_cstr(&b), "ci.yml");
	CHECK_OK(store_run_workflow_ref(st, 11, &b, &err));
	CHECK_STR(buf_cstr(&b), "88");
	CHECK_OK(store_run_workflow_ref(st, 12, &b, &err));
	CHECK_INT((long)b.len, 0);
	/* a run that is not there: nothing, and no error */
	CHECK_OK(store_run_workflow_ref(st, 999, &b, &err));
	CHECK_INT((long)b.len, 0);
	buf_release(&b);
	store_close(st);
}

/* A new index is made of 16 KiB pages; an index made before, of 4 KiB
 * pages, keeps its own size, and is written and read as before (its WAL
 * thresholds in its own pages). */
TEST(page_size_new_and_old)
{
	char *path;
	struct store *st = new_index("pages16.db", &path);
	if (!st)
		return;
	CHECK_INT(q_int(st->db, "PRAGMA page_size"), 16384);
	store_close(st);
	free(path);

	st = new_index("pages4.db", &path);
	if (!st)
		return;
	exec(st->db, "INSERT INTO repos (provider, slug, html_url) VALUES ('local', 'before', 'u')");
	store_close(st);
	/* the index made by an older ciscope: rewritten in 4 KiB pages */
	sqlite3 *old;
	CHECK_INT(sqlite3_open(path, &old), SQLITE_OK);
	exec(old, "PRAGMA journal_mode=DELETE");
	exec(old, "PRAGMA page_size=4096");
	exec(old, "VACUUM");
	exec(old, "PRAGMA journal_mode=WAL");
	CHECK_INT(q_int(old, "PRAGMA page_size"), 4096);
	sqlite3_close(old);
	struct cs_err err;
	st = store_open(path, STORE_RW, &err);
	CHECK(st != NULL);
	if (!st) {
		free(path);
		return;
	}
	CHECK_INT(q_int(st->db, "PRAGMA page_size"), 4096);
	CHECK(store_ckpt_start(st));
	exec(st->db, "BEGIN IMMEDIATE");
	for (int i = 0; i < 300; i++) {
		char sql[200];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO repos (provider, slug, html_url) VALUES "
			 "('local', 'r%d', printf('%%.4000c', 'x'))",
			 i);
		exec(st->db, sql);
	}
	exec(st->db, "COMMIT");
	store_ckpt_stop(st);
	CHECK_INT(q_int(st->db, "SELECT count(*) FROM repos"), 301);
	CHECK_INT(q_int(st->db, "PRAGMA page_size"), 4096);
	CHECK_STR(q_str(st->db, "PRAGMA integrity_check"), "ok");
	store_close(st);
	free(path);
}

/* A long write checkpointed on a second thread (store_ckpt_start(), an
 * import of a folder): every commit is kept and read back by another
 * connection, the index is sound, and the WAL stays bounded: the writer
 * checkpoints itself once it passes store_ckpt_sync_bytes (without that,
 * it would hold the whole write here; 16 MiB for the test, not 64 MiB). An
 * index in memory gets no thread. */
TEST(checkpoints_on_a_second_thread)
{
	long sync_bytes = 16 << 20;
	char *path;
	struct store *st = new_index("ckpt.db", &path);
	if (!st)
		return;
	store_ckpt_sync_bytes = sync_bytes;
	CHECK(store_ckpt_start(st));
	CHECK(store_ckpt_start(st)); /* once */
	char *wal = xasprintf("%s-wal", path);
	off_t wal_max = 0;
	int rows = 0;
	int page = q_int(st->db, "PRAGMA page_size");
	/* 4 KiB rows, 64 to a commit: twice the bound in all */
	for (int c = 0; c < 2 * sync_bytes / 4096 / 64; c++) {
		exec(st->db, "BEGIN IMMEDIATE");
		for (int i = 0; i < 64; i++, rows++) {
			char sql[200];
			snprintf(sql, sizeof(sql),
				 "INSERT INTO repos (provider, slug, html_url) VALUES "
				 "('local', 'r%d', printf('%%.4000c', 'x'))",
				 rows);
			exec(st->db, sql);
		}
		exec(st->db, "COMMIT");
		struct stat sb;
		if (stat(wal, &sb) == 0 && sb.st_size > wal_max)
			wal_max = sb.st_size;
	}
	/* the threshold, one commit over it, and the frame headers */
	CHECK(wal_max > 0);
	CHECK(wal_max <= (off_t)(sync_bytes / page + 3 * 64) * (page + 24));
	store_ckpt_stop(st);
	store_ckpt_stop(st); /* once */
	sqlite3 *other;
	CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
	CHECK_INT(q_int(other, "SELECT count(*) FROM repos WHERE length(html_url) = 4000"), rows);
	CHECK_STR(q_str(other, "PRAGMA integrity_check"), "ok");
	sqlite3_close(other);
	store_close(st);
	struct cs_err err;
	struct store *mem = store_open(":memory:", STORE_RW, &err);
	CHECK(mem != NULL);
	if (mem)
		CHECK(!store_ckpt_start(mem));
	store_close(mem);
	store_ckpt_sync_bytes = STORE_CKPT_SYNC_BYTES;
	free(wal);
	free(path);
}

/* run_ref: "ID" or "ID:ATTEMPT", as snprintf writes them, whatever the id
 * (0, the largest, negative) and however short the buffer */
TEST(run_ref_as_printf)
{
	static const int64_t ids[] = {0, 1, 9, 10, 99, 1000000, 9809254290LL, 1234567890123456789LL,
				      INT64_MAX, -1, INT64_MIN};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (int attempt = 0; attempt <= 3; attempt++)
			for (size_t n = 1; n <= RUN_REF_MAX; n++) {
				char got[RUN_REF_MAX], want[RUN_REF_MAX];
				run_ref(got, n, ids[i], attempt);
				if (attempt > 1)
					snprintf(want, n, "%lld:%d", (long long)ids[i], attempt);
				else
					snprintf(want, n, "%lld", (long long)ids[i]);
				CHECK_STR(got, want);
			}
}

/* A savepoint whose undo pages outgrow STORE_JOURNAL_SPILL: SQLite moves
 * them to a temporary file in one write of the whole spill, which its unix
 * file layer cut to the low 17 bits of the size, wrote nothing of the rest
 * and answered "database or disk is full" with the disk empty. Rolling
 * back to the savepoint reads the pages back from that file. */
TEST(savepoint_journal_past_the_spill_size)
{
	char *path;
	struct store *st = new_index("spill.db", &path);
	if (!st)
		return;
	/* 4 KiB rows (a page each): half as many again as the spill holds */
	int rows = STORE_JOURNAL_SPILL / 4096 * 3 / 2;
	char sql[300];
	exec(st->db, "CREATE TABLE scratch (n INTEGER PRIMARY KEY, data TEXT NOT NULL)");
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %d) "
		 "INSERT INTO scratch SELECT n, printf('%%.4000c', char(65 + n %% 26)) FROM i",
		 rows);
	exec(st->db, sql);
	const char *kept = "SELECT count(*) FROM scratch "
			   "WHERE data = printf('%.4000c', char(65 + n % 26))";
	exec(st->db, "BEGIN IMMEDIATE; SAVEPOINT big");
	exec(st->db, "UPDATE scratch SET data = printf('%.4000c', 'z')");
	CHECK_INT(q_int(st->db, kept), 0);
	exec(st->db, "ROLLBACK TO big");
	CHECK_INT(q_int(st->db, kept), rows);
	exec(st->db, "UPDATE scratch SET data = printf('%.4000c', 'z'); RELEASE big; COMMIT");
	CHECK_INT(q_int(st->db, "SELECT count(*) FROM scratch WHERE data = printf('%.4000c', 'z')"),
		  rows);
	CHECK_STR(q_str(st->db, "PRAGMA integrity_check"), "ok");
	store_close(st);
	free(path);
}

/* SQLite's memory is not counted once a store was opened (every allocation
 * would take a global mutex): its writes and reads work the same, and
 * SQLite's own count stays at nothing */
TEST(sqlite_memory_not_counted)
{
	struct cs_err err;
	err_clear(&err);
	struct store *st = t_fresh_store("memstatus");
	CHECK_OK(store_exec(st, "CREATE TABLE m (a INTEGER PRIMARY KEY, b TEXT)", &err));
	CHECK_OK(store_exec(st, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
				"WHERE i < 5000) INSERT INTO m SELECT i, hex(randomblob(64)) FROM n",
			    &err));
	CHECK_INT(q_int(st->db, "SELECT count(*) FROM m WHERE length(b) = 128"), 5000);
	CHECK_INT(sqlite3_memory_used(), 0);
	store_close(st);
}
