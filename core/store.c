/* store.c - opening, migrating and querying the SQLite index. */
#include "store.h"
#include "storesql.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The schema (data/schema.sql, version 1) and the forward migrations
 * (data/migrations/NNN-name.sql: store_migrations[v] brings version v-1 to
 * v), compiled in by tools/embed-schema.sh. */
extern const char schema_sql[];
extern const char *const store_migrations[];

char *store_default_path(const char *slug)
{
	const char *env = getenv("CISCOPE_DB");
	if (env && *env)
		return xstrdup(env);
	struct buf b = BUF_INIT;
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg == '/') {
		buf_addf(&b, "%s/ciscope/", xdg);
	} else {
		const char *home = getenv("HOME");
		buf_addf(&b, "%s/.local/share/ciscope/", home && *home ? home : ".");
	}
	if (!slug || !*slug) {
		buf_adds(&b, "default");
	} else {
		for (const char *p = slug; *p; p++) {
			unsigned char c = (unsigned char)*p;
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
			buf_addc(&b, ok ? (char)c : '_');
		}
	}
	buf_adds(&b, ".db");
	return buf_detach(&b, NULL);
}

const char *store_hint(struct sqlite3 *db)
{
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return " (another ciscope is writing; try again when it is done)";
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return " (the file is not a ciscope index or is damaged)";
	case SQLITE_FULL:
		return " (the disk is full)";
	case SQLITE_READONLY:
		return " (the database is read-only)";
	default:
		return "";
	}
}

int store_err(struct store *st, struct cs_err *err, const char *what)
{
	return err_set(err, CS_EDB, "%s: database '%s': %s%s", what, st->path,
		       sqlite3_errmsg(st->db), store_hint(st->db));
}

int store_exec(struct store *st, const char *sql, struct cs_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, CS_EDB, "database '%s': %s%s", st->path, msg ? msg : "error",
			store_hint(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* An upgrade of the schema by another process is waited for at least this
 * long, whatever the connection's wait policy (store_set_wait), since a
 * migration may rewrite large tables. */
#define UPGRADE_WAIT_MS 60000

/* The schema version and the number of schema objects, read in one
 * statement so they come from one snapshot: a creation committed between two
 * reads would look like "tables but no version", a foreign file. */
static int read_schema(struct store *st, int *v, int *n, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT user_version FROM pragma_user_version), count(*) "
			       "FROM sqlite_master",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot read the schema version");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		*n = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_err(st, err, "cannot read the schema version");
	return 0;
}

/* Refuse a file that is not ours, or is newer than us. */
static int check_version(struct store *st, int v, int n, struct cs_err *err)
{
	if (v == 0 && n != 0)
		return err_set(err, CS_EDB,
			       "database '%s' is an SQLite database but not a ciscope index", st->path);
	if (v > STORE_SCHEMA_VERSION)
		return err_set(err, CS_EDB,
			       "database '%s' has schema version %d, newer than this ciscope (%d): "
			       "upgrade ciscope",
			       st->path, v, STORE_SCHEMA_VERSION);
	return 0;
}

/* Take the write lock, waiting as long as an upgrade may take, and read the
 * version again under it: another process may have created or upgraded the
 * schema since it was first read. */
static int lock_and_reread(struct store *st, int *v, int *n, struct cs_err *err)
{
	struct store_wait saved = st->wait;
	if (st->wait.max_ms >= 0 && st->wait.max_ms < UPGRADE_WAIT_MS)
		st->wait.max_ms = UPGRADE_WAIT_MS;
	int rc = store_begin(st, err);
	st->wait = saved;
	if (rc < 0)
		return -1;
	if (read_schema(st, v, n, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* Look before touching: a file that is not ours, or is newer than us, is
 * refused before anything (even the journal mode) is written to it. A reader
 * that finds an empty or older schema waits for a writer that may be
 * creating or upgrading it (taking the write lock, which that writer holds
 * until its migration commits) and looks again. */
static int check_schema(struct store *st, bool may_migrate, int *version, struct cs_err *err)
{
	int v = 0, n = 0;
	if (read_schema(st, &v, &n, err) < 0 || check_version(st, v, n, err) < 0)
		return -1;
	/* a reader that may migrate leaves an older schema to migrate(); an
	 * empty one it still refuses (it creates nothing) */
	bool refuse_old = st->readonly && !may_migrate;
	if (st->readonly && (refuse_old || v == 0) && v < STORE_SCHEMA_VERSION) {
		struct cs_err ignored;
		/* a lock we cannot take (a read-only file, a writer that never
		 * finishes) leaves the first reading to speak */
		if (lock_and_reread(st, &v, &n, &ignored) == 0) {
			store_rollback(st);
			if (check_version(st, v, n, err) < 0)
				return -1;
		}
	}
	*version = v;
	if (st->readonly && v == 0)
		return err_set(err, CS_ENOTFOUND,
			       "the index '%s' is empty: import runs first (ciscope import PATH)",
			       st->path);
	if (refuse_old && v < STORE_SCHEMA_VERSION)
		return err_set(err, CS_EDB,
			       "database '%s' has schema version %d and needs an upgrade to %d: "
			       "open it once for writing (e.g. ciscope import)",
			       st->path, v, STORE_SCHEMA_VERSION);
	return 0;
}

/* Bring the schema from the version read at open to ours, in one
 * transaction. The version is read again inside it: two processes opening a
 * fresh or older index both see it old, and the second, once the first has
 * committed, must find the work done instead of creating tables twice. */
static int migrate(struct store *st, int v, struct cs_err *err)
{
	int n = 0;
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if (lock_and_reread(st, &v, &n, err) < 0)
		return -1;
	if (check_version(st, v, n, err) < 0) {
		store_rollback(st);
		return -1;
	}
	if (v == STORE_SCHEMA_VERSION)
		return store_commit(st, err);
	for (; v < STORE_SCHEMA_VERSION; v++) {
		const char *sql = v == 0 ? schema_sql : store_migrations[v + 1];
		if (store_exec(st, sql, err) < 0) {
			store_rollback(st);
			return err_prefix(err, "cannot migrate the index to version %d", v + 1);
		}
	}
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
	if (store_exec(st, pragma, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

/* A new index is made of 16 KiB pages, SQLite's default being 4 KiB: a
 * small log's compressed chunk (a few KiB) then fits in its row's page, a
 * big one crosses a quarter of the overflow pages, each read and written
 * (WAL, checkpoint) by its own system calls (entropy import: 82,000 pwrite
 * and 41,000 pread calls became 22,600 and 7,400), and a commit of many
 * small runs writes fewer pages to the WAL. The cost: an index holds at
 * least one page per b-tree, 1.2 MB for its first run (4 KiB pages: 0.3
 * MB). The size is fixed by the first write, so it is set while the file is
 * empty, before the journal mode; an existing index keeps its own. */
#define STORE_PAGE_SIZE 16384

static void set_page_size(struct store *st, int version)
{
	/* version 0 is an empty file (check_version refuses a foreign one); made
	 * meanwhile by another process, it keeps its size (the pragma only
	 * names the size of a file still to be made) */
	if (version != 0 || st->readonly)
		return;
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA page_size=%d", STORE_PAGE_SIZE);
	sqlite3_exec(st->db, pragma, NULL, NULL, NULL);
}

/* The index's page size (4096 if it cannot be read). */
static int store_page_size(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int page = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		page = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return page > 0 ? page : 4096;
}

/* Turning a file to WAL needs it to itself for a moment, and SQLite answers
 * "busy" at once instead of calling the busy handler when another process
 * holds it (two importers starting on a fresh index): retry for as long as
 * an upgrade may take. */
static int set_wal(struct store *st, struct cs_err *err)
{
	for (int waited = 0;; waited += 20) {
		int rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= UPGRADE_WAIT_MS)
			return err_set(err, CS_EDB, "database '%s': %s%s", st->path,
				       sqlite3_errmsg(st->db), store_hint(st->db));
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* A connection that only reads leaves the -wal and -shm files when it is
 * the last to close: a search otherwise made both and deleted both again,
 * four file-system operations and a fresh shared-memory mapping per run.
 * Closing still checkpoints, and with a journal size limit set SQLite then
 * truncates the -wal to nothing, so a closed index's main file holds every
 * commit (what an immutable open of it relies on) and no stale -wal grows.
 * A writer closing last still deletes both (an index then archived in a
 * read-only folder is opened immutable, with no -shm to share). */
#define STORE_WAL_LIMIT (64 << 20)

static void persist_wal(struct store *st)
{
	int on = 1;
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA journal_size_limit=%d", STORE_WAL_LIMIT);
	sqlite3_exec(st->db, pragma, NULL, NULL, NULL);
}

/* --- opening: waiting for writers, read-only indexes ------------------------ */
static struct store_wait wait_default = {STORE_WAIT_DEFAULT_MS, NULL, NULL, NULL};

void store_wait_default(const struct store_wait *w)
{
	wait_default = *w;
}

void store_set_wait(struct store *st, const struct store_wait *w)
{
	st->wait = *w;
}

/* SQLite's busy handler: count is 0 at the first call of each wait. Polls
 * quickly at first (a short commit ends in milliseconds), then every 100 ms. */
static int on_busy(void *ctx, int count)
{
	struct store *st = ctx;
	int64_t now = mono_ms();
	if (count == 0) {
		st->wait_start_ms = now;
		st->wait_noticed = false;
	}
	if (st->wait.interrupted && *st->wait.interrupted)
		return 0;
	int64_t waited = now - st->wait_start_ms;
	if (st->wait.max_ms >= 0 && waited >= st->wait.max_ms)
		return 0;
	if (!st->wait_noticed && waited >= STORE_WAIT_NOTICE_MS && st->wait.notice) {
		st->wait_noticed = true;
		char *msg = xasprintf("waiting for the index '%s': another process is writing to it%s",
				      st->path, st->wait.interrupted ? " (Ctrl-C stops)" : "");
		st->wait.notice(st->wait.ctx, msg);
		free(msg);
	}
	int64_t ms = count < 7 ? (int64_t)1 << count : 100;
	if (st->wait.max_ms >= 0 && waited + ms > st->wait.max_ms)
		ms = st->wait.max_ms - waited;
	if (ms > 0)
		usleep((useconds_t)ms * 1000);
	return 1;
}

/* Can the index be written? The file (if it exists) and the folder that
 * holds it and its -wal and -shm files must be writable. root passes
 * access() on any mode bits, but a read-only mount still says EROFS. */
static bool can_write(const char *path, int *why, char **what)
{
	*what = NULL;
	if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
		*why = errno;
		return false;
	}
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (access(dir, W_OK) != 0) {
		*why = errno;
		*what = dir;
		return false;
	}
	free(dir);
	return true;
}

/* "file:" URI of path for sqlite3_open_v2 with SQLITE_OPEN_URI, plus query. */
static char *file_uri(const char *path, const char *query)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
			buf_addf(&b, "%%%02X", *p);
		else
			buf_addc(&b, (char)*p);
	}
	buf_addf(&b, "?%s", query);
	return buf_detach(&b, NULL);
}

/* Open for reading an index that cannot be written. mode=ro works while
 * SQLite can share the WAL (its -shm exists or can be made); in a folder
 * nobody may write (a read-only mount, an archive) it cannot, and the file
 * is opened immutable: no locks, no -shm, the file read as it is (a closed
 * index has no -wal left: ciscope checkpoints it at close). */
static int open_readonly(struct store *st, int *version, struct cs_err *err)
{
	static const char *const queries[] = {"mode=ro", "immutable=1"};
	for (int i = 0; i < 2; i++) {
		char *uri = file_uri(st->path, queries[i]);
		int rc = sqlite3_open_v2(uri, &st->db,
					 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
		free(uri);
		if (!st->db)
			return err_set(err, CS_EDB, "cannot open the index '%s': out of memory",
				       st->path);
		if (rc == SQLITE_OK) {
			sqlite3_extended_result_codes(st->db, 0);
			sqlite3_busy_handler(st->db, on_busy, st);
			if (check_schema(st, false, version, err) == 0) {
				st->immutable = i == 1;
				return 0;
			}
			rc = sqlite3_errcode(st->db);
		} else {
			store_err(st, err, "cannot open the index");
		}
		/* CANTOPEN: no -shm could be made for a shared read; anything
		 * else (not a database, too new) is the answer */
		if (i == 1 || (rc != SQLITE_CANTOPEN && rc != SQLITE_READONLY))
			return -1;
		sqlite3_close_v2(st->db);
		st->db = NULL;
	}
	return -1;
}

/* --- journals past the spill size -------------------------------------------- */
/* SQLite keeps the pages a savepoint may have to restore (its
 * sub-journal) and a statement's undo pages in memory up to
 * STORE_JOURNAL_SPILL bytes, then in a temporary file. The default (64 KiB)
 * sends most of every run's savepoint to a file: importing many small runs in
 * one transaction wrote about a hundred temporary-file pages per run. 8 MiB
 * per connection keeps a run's (a few hundred KB) in memory and bounds what
 * a huge one holds. Set once, before SQLite starts (sqlite3_config refuses
 * afterwards, harmlessly: the default then stays).
 *
 * Past the spill size SQLite writes what it held to the new file in one
 * write of up to the whole spill, and its unix file layer (seekAndWriteFd in
 * os_unix.c) keeps only the low 17 bits of a write's size: 8 MiB less a
 * record became a write of 128 KiB less 4 bytes, then one of nothing, which
 * it takes for a full disk ("database or disk is full", no system call
 * failed). Any spill size of 128 KiB or more fails so (replacing a run whose
 * log was 16 MB did: the DELETE changes more existing pages than that), and
 * under it an import of 10,240 small logs took 1.7 times the CPU. So every
 * writable connection opens those temporary journals through a VFS of ours
 * that hands the unix layer their writes in pieces of at most
 * JOURNAL_WRITE_MAX; every other file is the unix VFS's own, untouched. */
#define JOURNAL_WRITE_MAX (64 << 10)
#define JOURNAL_VFS "ciscope-journals"

static sqlite3_vfs *os_vfs; /* the default (unix) VFS, under ours */
static sqlite3_vfs journal_vfs;
static bool journal_vfs_on;

/* a temporary journal: ours in front, the unix VFS's file right after */
struct jfile {
	sqlite3_file base;
	sqlite3_file *os;
};

static sqlite3_file *os_file(sqlite3_file *f)
{
	return ((struct jfile *)f)->os;
}

static int jf_close(sqlite3_file *f)
{
	return os_file(f)->pMethods->xClose(os_file(f));
}

static int jf_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return os_file(f)->pMethods->xRead(os_file(f), p, n, off);
}

static int jf_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	const char *b = p;
	while (n > 0) {
		int k = n < JOURNAL_WRITE_MAX ? n : JOURNAL_WRITE_MAX;
		int rc = os_file(f)->pMethods->xWrite(os_file(f), b, k, off);
		if (rc != SQLITE_OK)
			return rc;
		b += k;
		n -= k;
		off += k;
	}
	return SQLITE_OK;
}

static int jf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return os_file(f)->pMethods->xTruncate(os_file(f), size);
}

static int jf_sync(sqlite3_file *f, int flags)
{
	return os_file(f)->pMethods->xSync(os_file(f), flags);
}

static int jf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return os_file(f)->pMethods->xFileSize(os_file(f), size);
}

static int jf_lock(sqlite3_file *f, int level)
{
	return os_file(f)->pMethods->xLock(os_file(f), level);
}

static int jf_unlock(sqlite3_file *f, int level)
{
	return os_file(f)->pMethods->xUnlock(os_file(f), level);
}

static int jf_reserved(sqlite3_file *f, int *out)
{
	return os_file(f)->pMethods->xCheckReservedLock(os_file(f), out);
}

static int jf_control(sqlite3_file *f, int op, void *arg)
{
	return os_file(f)->pMethods->xFileControl(os_file(f), op, arg);
}

static int jf_sector(sqlite3_file *f)
{
	return os_file(f)->pMethods->xSectorSize(os_file(f));
}

static int jf_traits(sqlite3_file *f)
{
	return os_file(f)->pMethods->xDeviceCharacteristics(os_file(f));
}

/* version 1: no shared memory or memory mapping, which a journal never has */
static const sqlite3_io_methods jfile_methods = {
	.iVersion = 1,
	.xClose = jf_close,
	.xRead = jf_read,
	.xWrite = jf_write,
	.xTruncate = jf_truncate,
	.xSync = jf_sync,
	.xFileSize = jf_size,
	.xLock = jf_lock,
	.xUnlock = jf_unlock,
	.xCheckReservedLock = jf_reserved,
	.xFileControl = jf_control,
	.xSectorSize = jf_sector,
	.xDeviceCharacteristics = jf_traits,
};

static int jvfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	if (!(flags & (SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TEMP_JOURNAL)))
		return os_vfs->xOpen(os_vfs, name, f, flags, out);
	struct jfile *j = (struct jfile *)f;
	j->os = (sqlite3_file *)(j + 1);
	int rc = os_vfs->xOpen(os_vfs, name, j->os, flags, out);
	/* SQLite closes a file whose open failed if it has methods */
	j->base.pMethods = j->os->pMethods ? &jfile_methods : NULL;
	return rc;
}

static void config_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_JOURNAL_SPILL);
	/* no count of SQLite's memory (nothing reads it: no heap limit, no
	 * sqlite3_status): counted, every allocation and free of SQLite's
	 * took a global mutex, 400 a small log on the importing thread */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	os_vfs = sqlite3_vfs_find(NULL);
	if (!os_vfs)
		return;
	/* the unix VFS's other methods ignore the VFS they are given or read
	 * what the copy has too (pAppData, mxPathname) */
	journal_vfs = *os_vfs;
	journal_vfs.pNext = NULL;
	journal_vfs.zName = JOURNAL_VFS;
	journal_vfs.szOsFile = (int)sizeof(struct jfile) + os_vfs->szOsFile;
	journal_vfs.xOpen = jvfs_open;
	journal_vfs_on = sqlite3_vfs_register(&journal_vfs, 0) == SQLITE_OK;
}

struct store *store_open(const char *path, enum store_mode mode, struct cs_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, config_sqlite);
	struct store *st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->readonly = mode != STORE_RW;
	st->wait = wait_default;
	err_clear(err);

	if (mode == STORE_RW) {
		char *dir = xstrdup(path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (!path_is_dir(dir) && mkdir_p(dir, 0700, err) < 0) {
				free(dir);
				store_close(st);
				return NULL;
			}
		}
		free(dir);
	} else if (access(path, F_OK) != 0) {
		err_set(err, CS_ENOTFOUND,
			"no index at '%s': import runs first (ciscope import PATH) or name one with --db",
			path);
		store_close(st);
		return NULL;
	}

	int why = 0;
	char *dir = NULL;
	bool writable = strcmp(path, ":memory:") == 0 || can_write(path, &why, &dir);
	if (!writable && mode == STORE_RW) {
		if (dir)
			err_set(err, CS_EDB,
				"cannot write to the index '%s': its folder '%s' is not writable (%s); "
				"commands that only read the index still work",
				path, dir, strerror(why));
		else
			err_set(err, CS_EDB,
				"cannot write to the index '%s': %s; commands that only read the index "
				"still work",
				path, strerror(why));
		free(dir);
		store_close(st);
		return NULL;
	}
	free(dir);
	int version = 0;
	if (!writable) {
		if (open_readonly(st, &version, err) < 0) {
			if (!strstr(err->msg, st->path))
				err_prefix(err, "cannot open the index '%s'", st->path);
			store_close(st);
			return NULL;
		}
		if (store_exec(st, "PRAGMA foreign_keys=ON", err) < 0) {
			store_close(st);
			return NULL;
		}
		return st;
	}

	int flags = SQLITE_OPEN_NOMUTEX |
		    (mode == STORE_RW ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
				      : SQLITE_OPEN_READWRITE);
	if (sqlite3_open_v2(path, &st->db, flags, journal_vfs_on ? JOURNAL_VFS : NULL) != SQLITE_OK) {
		if (st->db)
			store_err(st, err, "cannot open the index");
		else
			err_set(err, CS_EDB, "cannot open the index '%s': out of memory", path);
		store_close(st);
		return NULL;
	}
	sqlite3_busy_handler(st->db, on_busy, st);
	sqlite3_extended_result_codes(st->db, 0);
	/* check_schema reads the file header first, so a file that is not a
	 * database fails there with SQLITE_NOTADB, before anything is written */
	if (check_schema(st, mode != STORE_RO_EXISTING, &version, err) < 0 ||
	    (set_page_size(st, version), set_wal(st, err) < 0) ||
	    store_exec(st, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", err) < 0 ||
	    migrate(st, version, err) < 0) {
		if (!strstr(err->msg, st->path))
			err_prefix(err, "cannot open the index '%s'", st->path);
		store_close(st);
		return NULL;
	}
	if (mode == STORE_RO_EXISTING)
		persist_wal(st);
	return st;
}

/* --- checkpoints on a second thread ------------------------------------------ */
/* Many small logs write the whole index through the WAL: SQLite's automatic
 * checkpoint, run by the writer after a commit leaves 1000 pages or more in
 * the WAL, copied them all back into the index on the writing thread (a
 * twentieth of its time). Here a commit that leaves that many wakes the
 * thread, whose own connection runs a passive checkpoint (it never waits for
 * the writer, nor makes it wait). Past store_ckpt_sync_bytes the writer
 * checkpoints itself, between its transactions: a WAL the thread could never
 * empty while the writer appends would grow with the import otherwise.
 * Both are counted in bytes, as pages of the index's own size: an index of
 * 16 KiB pages (STORE_PAGE_SIZE) checkpoints as often as one of 4 KiB. */
#define STORE_CKPT_PAGES 1000 /* SQLite's own threshold, in 4 KiB pages */
#define STORE_CKPT_BYTES (STORE_CKPT_PAGES * 4096)

long store_ckpt_sync_bytes = STORE_CKPT_SYNC_BYTES;

struct store_ckpt {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv, idle;
	bool stop, due, busy;
	int pages, sync_pages; /* the two thresholds in this index's pages */
	sqlite3 *db;
};

static void *ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->due = false;
		c->busy = true;
		pthread_mutex_unlock(&c->mu);
		sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->busy = false;
		pthread_cond_signal(&c->idle);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	if (pages >= c->sync_pages) {
		/* not while the thread checkpoints: the writer's own would find
		 * the checkpoint lock taken, do nothing, and the WAL grow on */
		pthread_mutex_lock(&c->mu);
		c->due = false;
		while (c->busy)
			pthread_cond_wait(&c->idle, &c->mu);
		pthread_mutex_unlock(&c->mu);
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= c->pages) {
		pthread_mutex_lock(&c->mu);
		c->due = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

bool store_ckpt_start(struct store *st)
{
	if (st->ckpt)
		return true;
	if (st->readonly || st->immutable || !st->path || !strcmp(st->path, ":memory:") ||
	    sqlite3_db_readonly(st->db, "main") != 0)
		return false;
	sqlite3_stmt *s = NULL;
	bool wal = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
		   sqlite3_step(s) == SQLITE_ROW &&
		   !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	if (!wal)
		return false;
	struct store_ckpt *c = xcalloc(1, sizeof(*c));
	int page = store_page_size(st);
	c->pages = MAX(1, STORE_CKPT_BYTES / page);
	c->sync_pages = MAX(c->pages, (int)(store_ckpt_sync_bytes / page));
	/* a connection knows the index is in WAL mode (and checkpoints) once
	 * it has read it: the schema version is read once here */
	if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close_v2(c->db);
		free(c);
		return false;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_cond_init(&c->idle, NULL);
	if (thread_start_quiet(&c->th, ckpt_main, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		pthread_cond_destroy(&c->idle);
		sqlite3_close_v2(c->db);
		free(c);
		return false;
	}
	st->ckpt = c;
	sqlite3_wal_hook(st->db, ckpt_hook, c);
	return true;
}

void store_ckpt_stop(struct store *st)
{
	struct store_ckpt *c = st->ckpt;
	if (!c)
		return;
	/* SQLite's hook again */
	sqlite3_wal_autocheckpoint(st->db, MAX(1, STORE_CKPT_BYTES / store_page_size(st)));
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	pthread_cond_destroy(&c->idle);
	sqlite3_close_v2(c->db);
	free(c);
	st->ckpt = NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	store_ckpt_stop(st);
	for (int i = 0; i < st->n_stmt_cache; i++)
		sqlite3_finalize(st->stmt_cache[i].s);
	if (st->db)
		sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

int store_cached(struct store *st, const char *sql, sqlite3_stmt **s)
{
	/* a call site passes the same literal each time: its address finds it
	 * without comparing the text of every statement cached before it */
	for (int i = 0; i < st->n_stmt_cache; i++)
		if (st->stmt_cache[i].sql == sql) {
			*s = st->stmt_cache[i].s;
			return SQLITE_OK;
		}
	for (int i = 0; i < st->n_stmt_cache; i++)
		if (strcmp(st->stmt_cache[i].sql, sql) == 0) {
			*s = st->stmt_cache[i].s;
			return SQLITE_OK;
		}
	*s = NULL;
	/* the cache holds every statement of its callers; more would be a bug */
	if (st->n_stmt_cache == (int)ARRAY_SIZE(st->stmt_cache))
		return SQLITE_INTERNAL;
	int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
	if (rc != SQLITE_OK) {
		*s = NULL;
		return rc;
	}
	st->stmt_cache[st->n_stmt_cache].sql = sql;
	st->stmt_cache[st->n_stmt_cache].s = *s;
	st->n_stmt_cache++;
	return SQLITE_OK;
}

void store_cached_done(sqlite3_stmt *s)
{
	if (!s)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int64_t store_data_version(struct store *st)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return v;
}

/* The page cache of a connection in store_scan_begin(), in KiB: a few
 * dozen pages, enough for the b-tree paths a scan walks down again. */
#define STORE_SCAN_CACHE_KIB 256

void store_scan_begin(struct store *st)
{
	if (st->scans++ > 0)
		return;
	sqlite3_stmt *s;
	st->scan_restore = false;
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &s, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(s) == SQLITE_ROW) {
		st->scan_cache = sqlite3_column_int(s, 0);
		st->scan_restore = true;
	}
	sqlite3_finalize(s);
	if (st->scan_restore) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", STORE_SCAN_CACHE_KIB);
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	}
}

void store_scan_end(struct store *st)
{
	if (st->scans <= 0 || --st->scans > 0 || !st->scan_restore)
		return;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", st->scan_cache);
	sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	st->scan_restore = false;
}

int store_begin(struct store *st, struct cs_err *err)
{
	return store_exec(st, "BEGIN IMMEDIATE", err);
}

int store_commit(struct store *st, struct cs_err *err)
{
	return store_exec(st, "COMMIT", err);
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- statement helpers (storesql.h) ---------------------------------------------- */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **s, const char *what,
		  struct cs_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK)
		return 0;
	*s = NULL;
	return store_err(st, err, what);
}

int store_collect(struct store *st, sqlite3_stmt *s, store_row_fn row, void *ctx,
		  const char *what, struct cs_err *err)
{
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (row && (ret = row(ctx, s)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_err(st, err, what);
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

struct id_list {
	int64_t *ids;
	int n;
	size_t alloc;
};

static int id_row(void *ctx, sqlite3_stmt *s)
{
	struct id_list *l = ctx;
	XGROW(l->ids, l->alloc, (size_t)l->n + 1);
	l->ids[l->n++] = sqlite3_column_int64(s, 0);
	return 0;
}

int store_collect_ids(struct store *st, sqlite3_stmt *s, int64_t **ids, int *n, const char *what,
		      struct cs_err *err)
{
	struct id_list l = {0};
	int rc = store_collect(st, s, id_row, &l, what, err);
	if (rc < 0) {
		free(l.ids);
		l.ids = NULL;
		l.n = 0;
	}
	*ids = l.ids;
	*n = l.n;
	return rc;
}

int store_exec_ids(struct store *st, const char *sql, int64_t a, int64_t b, const char *what,
		   struct cs_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(st, sql, &s, what, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	return store_collect(st, s, NULL, NULL, what, err);
}

/* --- model helpers ------------------------------------------------------------ */

void run_free(struct run *r)
{
	free(r->repo);
	free(r->workflow);
	free(r->title);
	free(r->event);
	free(r->branch);
	free(r->sha);
	free(r->status);
	free(r->conclusion);
	free(r->html_url);
	free(r->actor);
	free(r->commit_subject);
	free(r->conclusion_why);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void run_copy(struct run *dst, const struct run *src)
{
	*dst = *src;
	dst->repo = dup_or_null(src->repo);
	dst->workflow = dup_or_null(src->workflow);
	dst->title = dup_or_null(src->title);
	dst->event = dup_or_null(src->event);
	dst->branch = dup_or_null(src->branch);
	dst->sha = dup_or_null(src->sha);
	dst->status = dup_or_null(src->status);
	dst->conclusion = dup_or_null(src->conclusion);
	dst->html_url = dup_or_null(src->html_url);
	dst->actor = dup_or_null(src->actor);
	dst->commit_subject = dup_or_null(src->commit_subject);
	dst->conclusion_why = dup_or_null(src->conclusion_why);
}

void job_free(struct job *j)
{
	free(j->name);
	free(j->status);
	free(j->conclusion);
	free(j->runner_name);
	free(j->html_url);
	free(j->log_state);
	free(j->log_source);
	store_steps_free(j->steps, j->n_steps);
	memset(j, 0, sizeof(*j));
}

const char *run_state(const struct run *r)
{
	if (r->conclusion && *r->conclusion)
		return r->conclusion;
	return r->status ? r->status : "unknown";
}

/* why a run failed: as the import wrote it, else, for a local CI results
 * run imported before the import wrote it (an older index), the checks that
 * did not pass, from the run_metrics rows of the failed checks
 * (checks.NAME.FIELD with passed = 0; names in sorted order) */
#define RUN_WHY                                                                           \
	"COALESCE(r.conclusion_why, CASE WHEN r.source = 'local' AND r.conclusion = 'failure' " \
	"THEN (SELECT 'checks that did not pass: ' || group_concat(c, ', ') FROM "            \
	"(SELECT DISTINCT substr(m.name, 8, instr(substr(m.name, 8), '.') - 1) AS c "          \
	"FROM run_metrics m WHERE m.run_id = r.id AND m.origin = 'local' AND m.passed = 0 "   \
	"AND m.name LIKE 'checks.%.%' ORDER BY c)) END)"

#define RUN_COLS                                                                          \
	"r.id, r.provider_id, r.attempt, r.run_number, p.slug, r.workflow_name, r.title, "    \
	"r.event, r.head_branch, r.head_sha, r.status, r.conclusion, r.created_at, "          \
	"r.updated_at, r.started_at, r.html_url, r.actor, "                                   \
	"(SELECT count(*) FROM jobs j WHERE j.run_id = r.id), "                               \
	"(SELECT count(*) FROM jobs j WHERE j.run_id = r.id AND j.conclusion IN "             \
	CI_FAILED_SQL "), "                                                                   \
	"CASE WHEN instr(r.commit_message, char(10)) > 0 "                                   \
	"THEN substr(r.commit_message, 1, instr(r.commit_message, char(10)) - 1) "           \
	"ELSE r.commit_message END, " RUN_WHY ", r.source = 'local'"

static void read_run(sqlite3_stmt *s, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->provider_id = sqlite3_column_int64(s, 1);
	r->attempt = sqlite3_column_int(s, 2);
	r->run_number = sqlite3_column_int64(s, 3);
	r->repo = sql_col_str(s, 4);
	r->workflow = sql_col_str(s, 5);
	r->title = sql_col_str(s, 6);
	r->event = sql_col_str(s, 7);
	r->branch = sql_col_str(s, 8);
	r->sha = sql_col_str(s, 9);
	r->status = sql_col_str(s, 10);
	r->conclusion = sql_col_str(s, 11);
	r->created_at = sql_col_time(s, 12);
	r->updated_at = sql_col_time(s, 13);
	r->started_at = sql_col_time(s, 14);
	r->html_url = sql_col_str(s, 15);
	r->actor = sql_col_str(s, 16);
	r->n_jobs = sqlite3_column_int(s, 17);
	r->n_failed_jobs = sqlite3_column_int(s, 18);
	r->commit_subject = sql_col_str(s, 19);
	r->conclusion_why = sql_col_str(s, 20);
	if (r->commit_subject) {
		/* "subject\r\n..." keeps its CR after the cut at LF */
		size_t n = strlen(r->commit_subject);
		if (n && r->commit_subject[n - 1] == '\r')
			r->commit_subject[n - 1] = '\0';
	}
	int64_t start = r->started_at != CS_TIME_NONE ? r->started_at : r->created_at;
	r->duration_ms = CS_TIME_NONE;
	/* local CI results carry one time, not a start and an end: no duration */
	bool local = sqlite3_column_int(s, 21) != 0;
	if (!local && r->status && !strcmp(r->status, "completed") && start != CS_TIME_NONE &&
	    r->updated_at != CS_TIME_NONE)
		r->duration_ms = r->updated_at - start;
}

#define RUN_TEXT                                                                          \
	"lower(coalesce(r.workflow_name,'') || ' ' || coalesce(r.head_branch,'') || ' ' || "  \
	"coalesce(r.head_sha,'') || ' ' || coalesce(r.title,'') || ' ' || "                   \
	"coalesce(r.event,'') || ' ' || r.provider_id || ' ' || "                             \
	"coalesce(r.commit_message,''))"

const char *run_sort_name(enum run_sort s)
{
	static const char *const names[RUN_SORT_COUNT] = {"newest", "duration", "workflow",
							  "branch", "status"};
	return (unsigned)s < RUN_SORT_COUNT ? names[s] : "newest";
}

/* ORDER BY for a sort; every order is total (row id last). */
static const char *sort_sql(enum run_sort s)
{
	switch (s) {
	case RUN_SORT_DURATION:
		/* no duration last: not completed, or local CI results (read_run) */
		return " ORDER BY (r.status IS NOT 'completed' OR r.updated_at IS NULL OR "
		       "r.source IS 'local'), "
		       "r.updated_at - coalesce(r.started_at, r.created_at) DESC, "
		       "r.created_at DESC, r.provider_id DESC, r.attempt DESC, r.id";
	case RUN_SORT_WORKFLOW:
		return " ORDER BY r.workflow_name IS NULL, r.workflow_name COLLATE NOCASE, "
		       "r.created_at DESC, r.provider_id DESC, r.attempt DESC, r.id";
	case RUN_SORT_BRANCH:
		return " ORDER BY r.head_branch IS NULL, r.head_branch COLLATE NOCASE, "
		       "r.created_at DESC, r.provider_id DESC, r.attempt DESC, r.id";
	case RUN_SORT_STATUS:
		return " ORDER BY CASE WHEN r.conclusion IN " CI_FAILED_SQL " THEN 0 "
		       "WHEN r.status IS NOT 'completed' THEN 1 "
		       "WHEN r.conclusion = 'cancelled' THEN 2 "
		       "WHEN r.conclusion = 'success' THEN 4 ELSE 3 END, "
		       "r.created_at DESC, r.provider_id DESC, r.attempt DESC, r.id";
	case RUN_SORT_NEWEST:
	case RUN_SORT_COUNT:
		break;
	}
	return " ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC, r.id";
}

static bool status_is(const struct run_filter *f, const char *alias)
{
	return f && f->status && !strcmp(f->status, alias);
}

/* WHERE clause for a filter; parameters bound in bind_filter in the same order. */
static void filter_sql(const struct run_filter *f, struct buf *sql)
{
	buf_adds(sql, " WHERE 1");
	if (f && f->workflow)
		buf_adds(sql, " AND r.workflow_name = ?");
	if (f && f->branch)
		buf_adds(sql, " AND r.head_branch = ?");
	if (status_is(f, "failed"))
		buf_adds(sql, " AND r.conclusion IN " CI_FAILED_SQL);
	else if (status_is(f, "running"))
		buf_adds(sql, " AND r.status IS NOT 'completed'");
	else if (f && f->status)
		buf_adds(sql, " AND (r.status = ? OR r.conclusion = ?)");
	if (f && f->event)
		buf_adds(sql, " AND r.event = ?");
	if (f && f->text)
		buf_adds(sql, " AND (instr(lower(coalesce(r.workflow_name,'') || ' ' || "
			      "coalesce(r.head_branch,'') || ' ' || coalesce(r.head_sha,'') || ' ' || "
			      "coalesce(r.title,'') || ' ' || coalesce(r.event,'') || ' ' || "
			      "r.provider_id), lower(?)) > 0)");
	for (int i = 0; f && i < f->n_words; i++)
		buf_adds(sql, " AND instr(" RUN_TEXT ", lower(?)) > 0");
}

/* Binds f's parameters from index i on; returns the next index. */
static int bind_filter_at(sqlite3_stmt *s, const struct run_filter *f, int i)
{
	if (f && f->workflow)
		sqlite3_bind_text(s, i++, f->workflow, -1, SQLITE_TRANSIENT);
	if (f && f->branch)
		sqlite3_bind_text(s, i++, f->branch, -1, SQLITE_TRANSIENT);
	if (f && f->status && !status_is(f, "failed") && !status_is(f, "running")) {
		sqlite3_bind_text(s, i++, f->status, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, i++, f->status, -1, SQLITE_TRANSIENT);
	}
	if (f && f->event)
		sqlite3_bind_text(s, i++, f->event, -1, SQLITE_TRANSIENT);
	if (f && f->text)
		sqlite3_bind_text(s, i++, f->text, -1, SQLITE_TRANSIENT);
	for (int k = 0; f && k < f->n_words; k++)
		sqlite3_bind_text(s, i++, f->words[k], -1, SQLITE_TRANSIENT);
	return i;
}

static int bind_filter(sqlite3_stmt *s, const struct run_filter *f)
{
	return bind_filter_at(s, f, 1);
}

int store_runs(struct store *st, const struct run_filter *f, run_cb cb, void *ctx,
	       struct cs_err *err)
{
	/* The inner query sorts and pages row ids only; the per-row job
	 * counts of RUN_COLS are then computed for the page's rows alone
	 * instead of for every row the sorter sees. */
	const char *order = sort_sql(f ? f->sort : RUN_SORT_NEWEST);
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT " RUN_COLS " FROM runs r JOIN repos p ON p.id = r.repo_id"
		       " WHERE r.id IN (SELECT r.id FROM runs r");
	filter_sql(f, &sql);
	buf_adds(&sql, order);
	buf_adds(&sql, " LIMIT ? OFFSET ?)");
	buf_adds(&sql, order);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
		buf_release(&sql);
		return store_err(st, err, "cannot list runs");
	}
	buf_release(&sql);
	int i = bind_filter(s, f);
	sqlite3_bind_int64(s, i++, f && f->limit > 0 ? f->limit : -1);
	sqlite3_bind_int64(s, i++, f && f->offset > 0 ? f->offset : 0);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct run r;
		read_run(s, &r);
		ret = cb(ctx, &r);
		run_free(&r);
		if (ret)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_err(st, err, "cannot list runs");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

long store_count_runs(struct store *st, const struct run_filter *f, struct cs_err *err)
{
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT count(*) FROM runs r");
	filter_sql(f, &sql);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
		buf_release(&sql);
		return store_err(st, err, "cannot count runs");
	}
	buf_release(&sql);
	bind_filter(s, f);
	long n = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		store_err(st, err, "cannot count runs");
	sqlite3_finalize(s);
	return n;
}

long store_run_index(struct store *st, const struct run_filter *f, int64_t run_row_id,
		     struct cs_err *err)
{
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT pos FROM (SELECT r.id AS id, row_number() OVER (");
	buf_adds(&sql, sort_sql(f ? f->sort : RUN_SORT_NEWEST));
	buf_adds(&sql, ") - 1 AS pos FROM runs r");
	filter_sql(f, &sql);
	buf_adds(&sql, ") WHERE id = ?");
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
		buf_release(&sql);
		store_err(st, err, "cannot find a run in the list");
		return -2;
	}
	buf_release(&sql);
	int i = bind_filter(s, f);
	sqlite3_bind_int64(s, i, run_row_id);
	int rc = sqlite3_step(s);
	long pos = rc == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_err(st, err, "cannot find a run in the list");
		return -2;
	}
	return pos;
}

/* The runs (distinct repo and provider id) are the rows less those with an
 * attempt before them in the list: a retry alone (attempt > 1) looks for
 * one, by the unique index on (repo, provider id, attempt), where
 * count(DISTINCT) sorted a key of every row (bench/metrics.sh: most of
 * the run list's first frame at 100,000 runs). */
int store_run_counts(struct store *st, const struct run_filter *f, struct run_counts *out,
		     struct cs_err *err)
{
	struct run_widths w;
	return store_run_counts_widths(st, f, out, &w, err);
}

int store_run_counts_widths(struct store *st, const struct run_filter *f,
			    struct run_counts *out, struct run_widths *w, struct cs_err *err)
{
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT count(*), "
		       "coalesce(sum(o.conclusion IN " CI_FAILED_SQL "), 0), "
		       "coalesce(sum(o.status IS NOT 'completed'), 0), "
		       "coalesce(sum(CASE WHEN o.attempt > 1 THEN NOT EXISTS (SELECT 1 FROM runs r"
		       " WHERE r.repo_id = o.repo_id AND r.provider_id = o.provider_id"
		       " AND r.attempt < o.attempt AND ");
	/* the same filter on the earlier attempt: " WHERE 1 AND ..." */
	struct buf inner = BUF_INIT;
	filter_sql(f, &inner);
	buf_adds(&sql, buf_cstr(&inner) + strlen(" WHERE "));
	buf_release(&inner);
	buf_adds(&sql, ") ELSE 1 END), 0), coalesce(max(length(o.workflow_name)), 0),"
		       " coalesce(max(length(o.head_branch)), 0), coalesce(max(length(o.event)), 0)"
		       " FROM (SELECT r.repo_id, r.provider_id, r.attempt, r.conclusion, r.status,"
		       " r.workflow_name, r.head_branch, r.event FROM runs r");
	filter_sql(f, &sql);
	buf_adds(&sql, ") o");
	memset(out, 0, sizeof(*out));
	memset(w, 0, sizeof(*w));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
		buf_release(&sql);
		return store_err(st, err, "cannot count runs");
	}
	buf_release(&sql);
	bind_filter_at(s, f, bind_filter(s, f));
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->total = (long)sqlite3_column_int64(s, 0);
		out->failed = (long)sqlite3_column_int64(s, 1);
		out->in_progress = (long)sqlite3_column_int64(s, 2);
		out->runs = (long)sqlite3_column_int64(s, 3);
		w->workflow = sqlite3_column_int(s, 4);
		w->branch = sqlite3_column_int(s, 5);
		w->event = sqlite3_column_int(s, 6);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_err(st, err, "cannot count runs");
	return 0;
}

int store_run_widths(struct store *st, const struct run_filter *f, struct run_widths *out,
		     struct cs_err *err)
{
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT coalesce(max(length(r.workflow_name)), 0), "
		       "coalesce(max(length(r.head_branch)), 0), coalesce(max(length(r.event)), 0) "
		       "FROM runs r");
	filter_sql(f, &sql);
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
		buf_release(&sql);
		return store_err(st, err, "cannot measure runs");
	}
	buf_release(&sql);
	bind_filter(s, f);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->workflow = sqlite3_column_int(s, 0);
		out->branch = sqlite3_column_int(s, 1);
		out->event = sqlite3_column_int(s, 2);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_err(st, err, "cannot measure runs");
	return 0;
}

int store_run_workflow_ref(struct store *st, int64_t run_row_id, struct buf *out,
			   struct cs_err *err)
{
	sqlite3_stmt *s;
	buf_reset(out);
	if (sqlite3_prepare_v2(st->db, "SELECT workflow_path, workflow_id FROM runs WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look up the run's workflow");
	sqlite3_bind_int64(s, 1, run_row_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(s, 0);
		const char *base = path ? path_basename(path) : NULL;
		if (base && *base)
			buf_adds(out, base);
		else if (sqlite3_column_type(s, 1) == SQLITE_INTEGER && sqlite3_column_int64(s, 1) > 0)
			buf_addf(out, "%lld", (long long)sqlite3_column_int64(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot look up the run's workflow");
	return 0;
}

int store_find_run(struct store *st, const char *spec, struct run *out, struct cs_err *err)
{
	char *end;
	const char *p = spec;
	bool by_row = false;
	if (*p == '#') {
		by_row = true;
		p++;
	}
	errno = 0;
	long long id = strtoll(p, &end, 10);
	long long attempt = 0;
	if (end == p || errno)
		return err_set(err, CS_EUSAGE, "'%s' is not a run id (expected ID or ID:ATTEMPT)",
			       spec);
	if (*end == ':') {
		p = end + 1;
		attempt = strtoll(p, &end, 10);
		if (end == p || attempt < 1)
			return err_set(err, CS_EUSAGE, "'%s': bad attempt number", spec);
	}
	if (*end)
		return err_set(err, CS_EUSAGE, "'%s' is not a run id (expected ID or ID:ATTEMPT)",
			       spec);
	const char *sql =
		by_row ? "SELECT " RUN_COLS " FROM runs r JOIN repos p ON p.id = r.repo_id"
			 " WHERE r.id = ?1"
		       : "SELECT " RUN_COLS " FROM runs r JOIN repos p ON p.id = r.repo_id"
			 " WHERE r.provider_id = ?1 AND (?2 = 0 OR r.attempt = ?2)"
			 " ORDER BY r.attempt DESC LIMIT 1";
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look up the run");
	sqlite3_bind_int64(s, 1, id);
	if (!by_row)
		sqlite3_bind_int64(s, 2, attempt);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_run(s, out);
		sqlite3_finalize(s);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		if (attempt)
			return err_set(err, CS_ENOTFOUND, "no run %lld attempt %lld in the index",
				       id, attempt);
		return err_set(err, CS_ENOTFOUND, "no run %s in the index (see ciscope runs)", spec);
	}
	store_err(st, err, "cannot look up the run");
	sqlite3_finalize(s);
	return -1;
}

char *run_ref(char *out, size_t n, int64_t run, int attempt)
{
	/* the common case without snprintf (`metrics show` writes one per
	 * point): an attempt of 1, an id of at most 19 digits that fits */
	if (attempt <= 1 && run >= 0 && n >= 21) {
		char d[20];
		int k = 0;
		do
			d[k++] = (char)('0' + run % 10);
		while ((run /= 10) > 0);
		for (int i = 0; i < k; i++)
			out[i] = d[k - 1 - i];
		out[k] = '\0';
		return out;
	}
	if (attempt > 1)
		snprintf(out, n, "%lld:%d", (long long)run, attempt);
	else
		snprintf(out, n, "%lld", (long long)run);
	return out;
}

/* Choosing a run: triage's "the newest failure of main", a diff's baseline,
 * runbook variables and bisect's ends all start here. */
char *store_default_branch(struct store *st, struct cs_err *err)
{
	static const char *const sql[] = {
		"SELECT head_branch FROM runs WHERE event = 'push' AND head_branch IS NOT NULL AND "
		"head_branch != '' GROUP BY head_branch ORDER BY count(*) DESC, "
		"head_branch IN ('main', 'master') DESC, max(created_at) DESC LIMIT 1",
		"SELECT head_branch FROM runs WHERE head_branch IS NOT NULL AND head_branch != '' "
		"GROUP BY head_branch ORDER BY head_branch IN ('main', 'master') DESC, count(*) DESC, "
		"max(created_at) DESC LIMIT 1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK) {
			store_err(st, err, "cannot find the default branch");
			return NULL;
		}
		int rc = sqlite3_step(s);
		char *b = rc == SQLITE_ROW ? sql_col_str(s, 0) : NULL;
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_err(st, err, "cannot find the default branch");
			return NULL;
		}
		if (b)
			return b;
	}
	err_clear(err);
	return NULL;
}

int store_newest_failed_run(struct store *st, const char *branch, struct run *out,
			    struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       /* a run without jobs (local CI results, core/metrics.h)
				* has nothing to triage or diff: not the failure meant */
			       "SELECT id FROM runs r WHERE conclusion IN " CI_FAILED_SQL " AND "
			       "(?1 IS NULL OR head_branch = ?1) AND "
			       "EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id) ORDER BY created_at DESC, "
			       "provider_id DESC, attempt DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot find the newest failed run");
	if (branch)
		sqlite3_bind_text(s, 1, branch, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot find the newest failed run");
	if (!id) {
		if (branch)
			return err_set(err, CS_ENOTFOUND, "no failed run on branch '%s'", branch);
		return err_set(err, CS_ENOTFOUND, "no failed run in the index");
	}
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)id);
	return store_find_run(st, spec, out, err);
}

int store_first_success_after(struct store *st, const char *branch, int64_t after,
			      struct run *out, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id FROM runs r WHERE conclusion = 'success' AND head_branch = ?1 "
			       "AND created_at > ?2 AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id) "
			       "ORDER BY created_at, provider_id, attempt LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot find a green run");
	sqlite3_bind_text(s, 1, branch ? branch : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, after);
	int rc = sqlite3_step(s);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot find a green run");
	if (!id)
		return err_set(err, CS_ENOTFOUND, "no successful run on branch '%s' since",
			       branch ? branch : "");
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)id);
	return store_find_run(st, spec, out, err);
}

static const char *step_sql =
	"SELECT number, name, status, conclusion, started_at, completed_at, "
	"coalesce(first_line, 0), coalesce(last_line, 0) FROM steps WHERE job_id = ? "
	"ORDER BY number";

static int load_steps(struct store *st, sqlite3_stmt *ss, int64_t job_row_id,
		      struct step **steps, int *n)
{
	size_t alloc = 0;
	int rc;
	*steps = NULL;
	*n = 0;
	sqlite3_reset(ss);
	sqlite3_bind_int64(ss, 1, job_row_id);
	while ((rc = sqlite3_step(ss)) == SQLITE_ROW) {
		XGROW(*steps, alloc, (size_t)*n + 1);
		struct step *p = &(*steps)[(*n)++];
		p->number = sqlite3_column_int(ss, 0);
		p->name = sql_col_str(ss, 1);
		p->status = sql_col_str(ss, 2);
		p->conclusion = sql_col_str(ss, 3);
		p->started_at = sql_col_time(ss, 4);
		p->completed_at = sql_col_time(ss, 5);
		p->first_line = sqlite3_column_int64(ss, 6);
		p->last_line = sqlite3_column_int64(ss, 7);
	}
	(void)st;
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_steps(struct store *st, int64_t job_row_id, struct step **steps, int *n,
		struct cs_err *err)
{
	sqlite3_stmt *ss;
	*steps = NULL;
	*n = 0;
	if (store_cached(st, step_sql, &ss) != SQLITE_OK)
		return store_err(st, err, "cannot list steps");
	int rc = load_steps(st, ss, job_row_id, steps, n);
	if (rc < 0) {
		store_steps_free(*steps, *n);
		*steps = NULL;
		*n = 0;
		store_err(st, err, "cannot list steps");
	}
	store_cached_done(ss);
	return rc < 0 ? -1 : 0;
}

void store_steps_free(struct step *steps, int n)
{
	for (int i = 0; i < n; i++) {
		free(steps[i].name);
		free(steps[i].status);
		free(steps[i].conclusion);
	}
	free(steps);
}

int store_jobs(struct store *st, int64_t run_row_id, struct job **jobs, int *n,
	       struct cs_err *err)
{
	static const char *sql =
		"SELECT j.id, j.provider_id, j.run_id, j.name, j.status, j.conclusion, "
		"j.started_at, j.completed_at, j.runner_name, j.html_url, coalesce(l.id, 0), "
		"j.log_state, coalesce(l.line_count, 0), coalesce(l.raw_size, 0), "
		"(SELECT count(*) FROM findings f WHERE f.job_id = j.id AND f.severity='error'), "
		"(SELECT count(*) FROM findings f WHERE f.job_id = j.id AND f.severity='warning'), "
		"l.source FROM jobs j LEFT JOIN logs l ON l.job_id = j.id WHERE j.run_id = ? "
		"ORDER BY j.ordinal, j.id";
	sqlite3_stmt *s, *ss;
	*jobs = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list jobs");
	if (sqlite3_prepare_v2(st->db, step_sql, -1, &ss, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_err(st, err, "cannot list steps");
	}
	sqlite3_bind_int64(s, 1, run_row_id);
	size_t alloc = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*jobs, alloc, (size_t)*n + 1);
		struct job *j = &(*jobs)[(*n)++];
		memset(j, 0, sizeof(*j));
		j->id = sqlite3_column_int64(s, 0);
		j->provider_id = sqlite3_column_int64(s, 1);
		j->run_id = sqlite3_column_int64(s, 2);
		j->name = sql_col_str(s, 3);
		j->status = sql_col_str(s, 4);
		j->conclusion = sql_col_str(s, 5);
		j->started_at = sql_col_time(s, 6);
		j->completed_at = sql_col_time(s, 7);
		j->runner_name = sql_col_str(s, 8);
		j->html_url = sql_col_str(s, 9);
		j->log_id = sqlite3_column_int64(s, 10);
		j->log_state = sql_col_str(s, 11);
		j->line_count = sqlite3_column_int64(s, 12);
		j->raw_size = sqlite3_column_int64(s, 13);
		j->n_errors = sqlite3_column_int(s, 14);
		j->n_warnings = sqlite3_column_int(s, 15);
		j->log_source = sql_col_str(s, 16);
		if (load_steps(st, ss, j->id, &j->steps, &j->n_steps) < 0) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	sqlite3_finalize(ss);
	if (rc != SQLITE_DONE) {
		store_err(st, err, "cannot list jobs");
		sqlite3_finalize(s);
		store_jobs_free(*jobs, *n);
		*jobs = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

void store_jobs_free(struct job *jobs, int n)
{
	for (int i = 0; i < n; i++)
		job_free(&jobs[i]);
	free(jobs);
}

int store_locate_job(struct store *st, const char *repo, int64_t run_provider_id, int attempt,
		     int64_t job_provider_id, int64_t *run_row_id, int64_t *job_row_id,
		     struct cs_err *err)
{
	sqlite3_stmt *s;
	*run_row_id = *job_row_id = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.id, j.id FROM runs r JOIN repos p ON p.id = r.repo_id "
			       "JOIN jobs j ON j.run_id = r.id WHERE p.slug = ?1 AND "
			       "r.provider_id = ?2 AND r.attempt = ?3 AND j.provider_id = ?4",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look up the job");
	sqlite3_bind_text(s, 1, repo ? repo : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, run_provider_id);
	sqlite3_bind_int(s, 3, attempt);
	sqlite3_bind_int64(s, 4, job_provider_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*run_row_id = sqlite3_column_int64(s, 0);
		*job_row_id = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot look up the job");
	return 0;
}

int store_run_held(struct store *st, const char *slug, int64_t provider_id, int attempt,
		   struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.status FROM runs r JOIN repos p ON p.id = r.repo_id "
			       "WHERE p.provider = 'github' AND p.slug = ?1 COLLATE NOCASE AND "
			       "r.provider_id = ?2 AND r.attempt = ?3",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot look up the run");
	sqlite3_bind_text(s, 1, slug ? slug : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, provider_id);
	sqlite3_bind_int(s, 3, attempt);
	int rc = sqlite3_step(s);
	int held = STORE_RUN_ABSENT;
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		held = t && !strcmp((const char *)t, "completed") ? STORE_RUN_COMPLETED
								  : STORE_RUN_INCOMPLETE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, err, "cannot look up the run");
	return held;
}

int store_runs_incomplete(struct store *st, const char *slug, int64_t **ids, int *n,
			  struct cs_err *err)
{
	sqlite3_stmt *s;
	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.provider_id FROM runs r JOIN repos p ON p.id = r.repo_id "
			       "WHERE p.provider = 'github' AND p.slug = ?1 COLLATE NOCASE AND "
			       "r.provider_id > 0 AND (r.status IS NULL OR r.status != 'completed') "
			       "AND r.attempt = (SELECT max(r2.attempt) FROM runs r2 WHERE "
			       "r2.repo_id = r.repo_id AND r2.provider_id = r.provider_id) "
			       "ORDER BY r.created_at DESC, r.provider_id DESC LIMIT 1000",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list the runs in progress");
	sqlite3_bind_text(s, 1, slug ? slug : "", -1, SQLITE_TRANSIENT);
	return store_collect_ids(st, s, ids, n, "cannot list the runs in progress", err);
}

int store_find_job(struct job *jobs, int n, const char *spec, struct cs_err *err)
{
	char *end;
	long long id = strtoll(spec, &end, 10);
	if (*spec && !*end) {
		for (int i = 0; i < n; i++)
			if (jobs[i].provider_id == id)
				return i;
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(jobs[i].name, spec))
			return i;
	int found = -1, count = 0;
	for (int i = 0; i < n; i++)
		if (str_starts(jobs[i].name, spec))
			found = i, count++;
	if (count == 1)
		return found;
	if (count > 1) {
		/* name them (the first few), so the user can pick one */
		struct buf names = BUF_INIT;
		int listed = 0;
		for (int i = 0; i < n && listed < 5; i++)
			if (str_starts(jobs[i].name, spec))
				buf_addf(&names, "%s'%s'", listed++ ? ", " : "", jobs[i].name);
		if (count > listed)
			buf_addf(&names, ", ...");
		err_set(err, CS_EUSAGE, "job '%s' is ambiguous: %d jobs start with it (%s)", spec,
			count, buf_cstr(&names));
		buf_release(&names);
		return -1;
	}
	return err_set(err, CS_ENOTFOUND, "no job '%s' in this run (see ciscope show)", spec);
}

/* The lists below share one prepare/bind/collect loop: a row callback
 * appends to a growable array of `size`-byte items. */
struct rows {
	void *items;
	int n;
	size_t alloc, size;
};

static void *rows_push(struct rows *r)
{
	xgrow(&r->items, &r->alloc, (size_t)r->n + 1, r->size);
	return (char *)r->items + r->size * (size_t)r->n++;
}

static int list_by_id(struct store *st, const char *sql, int64_t id, store_row_fn row,
		      size_t size, void **out, int *n, const char *what, struct cs_err *err)
{
	sqlite3_stmt *s;
	struct rows r = {.size = size};
	*out = NULL;
	*n = 0;
	if (store_prepare(st, sql, &s, what, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	int rc = store_collect(st, s, row, &r, what, err);
	*out = r.items;
	*n = r.n;
	return rc;
}

static int finding_row(void *ctx, sqlite3_stmt *s)
{
	struct finding *f = rows_push(ctx);
	f->job_id = sqlite3_column_int64(s, 0);
	f->step_number = sqlite3_column_int(s, 1);
	f->line = sqlite3_column_int64(s, 2);
	f->end_line = sqlite3_column_int64(s, 3);
	f->severity = sql_col_str(s, 4);
	f->message = sql_col_str(s, 5);
	return 0;
}

int store_findings(struct store *st, int64_t job_row_id, struct finding **out, int *n,
		   struct cs_err *err)
{
	return list_by_id(st,
			  "SELECT job_id, coalesce(step_number, 0), line, end_line, severity, "
			  "message FROM findings WHERE job_id = ? ORDER BY line",
			  job_row_id, finding_row, sizeof(**out), (void **)out, n,
			  "cannot list findings", err);
}

int store_log_stops(struct store *st, int64_t job_row_id, struct finding **out, int *n,
		    struct cs_err *err)
{
	/* (min(pri) makes SQLite take the other columns from that row) */
	return list_by_id(st,
			  "SELECT job_id, step, line, end_line, severity, message, min(pri) FROM ("
			  "SELECT job_id, coalesce(step_number, 0) AS step, line, end_line, severity, "
			  "message, 1 AS pri FROM findings WHERE job_id = ?1 UNION ALL "
			  "SELECT job_id, coalesce(step_number, 0), line, end_line, severity, "
			  "'[' || category || '] ' || title, 0 FROM triage_findings WHERE job_id = ?1 "
			  "AND line IS NOT NULL AND shown) GROUP BY line ORDER BY line",
			  job_row_id, finding_row, sizeof(**out), (void **)out, n,
			  "cannot list findings", err);
}

void store_findings_free(struct finding *f, int n)
{
	for (int i = 0; i < n; i++) {
		free(f[i].severity);
		free(f[i].message);
	}
	free(f);
}

static int group_row(void *ctx, sqlite3_stmt *s)
{
	struct log_group *g = rows_push(ctx);
	g->first_line = sqlite3_column_int64(s, 0);
	g->last_line = sqlite3_column_int64(s, 1);
	g->depth = sqlite3_column_int(s, 2);
	g->title = sql_col_str(s, 3);
	return 0;
}

int store_log_groups(struct store *st, int64_t log_id, struct log_group **out, int *n,
		     struct cs_err *err)
{
	return list_by_id(st,
			  "SELECT first_line, last_line, depth, title FROM log_groups "
			  "WHERE log_id = ? ORDER BY first_line",
			  log_id, group_row, sizeof(**out), (void **)out, n,
			  "cannot list log groups", err);
}

void store_log_groups_free(struct log_group *g, int n)
{
	for (int i = 0; i < n; i++)
		free(g[i].title);
	free(g);
}

int store_logs(struct store *st, log_ref_cb cb, void *ctx, struct cs_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT r.provider_id, r.attempt, r.workflow_name, j.id, j.provider_id, "
			       "j.name, l.id, r.id FROM logs l JOIN jobs j ON j.id = l.job_id "
			       "JOIN runs r ON r.id = j.run_id "
			       "ORDER BY r.created_at DESC, r.provider_id DESC, r.attempt DESC, "
			       "j.ordinal",
			       -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot list logs");
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct log_ref ref = {
			.run_provider_id = sqlite3_column_int64(s, 0),
			.attempt = sqlite3_column_int(s, 1),
			.workflow = (const char *)sqlite3_column_text(s, 2),
			.job_row_id = sqlite3_column_int64(s, 3),
			.job_provider_id = sqlite3_column_int64(s, 4),
			.job_name = (const char *)sqlite3_column_text(s, 5),
			.log_id = sqlite3_column_int64(s, 6),
			.run_row_id = sqlite3_column_int64(s, 7),
		};
		if ((ret = cb(ctx, &ref)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_err(st, err, "cannot list logs");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

int store_run_summary(struct store *st, int64_t run_row_id, struct run_summary *out,
		      struct cs_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT (SELECT count(*) FROM artifacts WHERE run_id = ?1), "
		    "(SELECT count(*) FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id "
		    " WHERE a.run_id = ?1), "
		    "(SELECT count(*) FROM test_results WHERE run_id = ?1 AND outcome = 'passed'), "
		    "(SELECT count(*) FROM test_results WHERE run_id = ?1 AND outcome = 'failed'), "
		    "(SELECT count(*) FROM test_results WHERE run_id = ?1 AND outcome = 'error'), "
		    "(SELECT count(*) FROM test_results WHERE run_id = ?1 AND outcome = 'skipped'), "
		    "(SELECT count(*) FROM test_results WHERE run_id = ?1 AND outcome = 'flaky'), "
		    "(SELECT count(*) FROM metric_series WHERE run_id = ?1)",
		    -1, &s, NULL) != SQLITE_OK)
		return store_err(st, err, "cannot summarise the run");
	sqlite3_bind_int64(s, 1, run_row_id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_err(st, err, "cannot summarise the run");
	}
	out->n_artifacts = sqlite3_column_int(s, 0);
	out->n_artifact_files = sqlite3_column_int(s, 1);
	out->tests_passed = sqlite3_column_int(s, 2);
	out->tests_failed = sqlite3_column_int(s, 3);
	out->tests_error = sqlite3_column_int(s, 4);
	out->tests_skipped = sqlite3_column_int(s, 5);
	out->tests_flaky = sqlite3_column_int(s, 6);
	out->n_series = sqlite3_column_int(s, 7);
	sqlite3_finalize(s);
	return 0;
}
