/* testdemo.c - the demo data set for unit programs (see testdemo.h). */
#include "testdemo.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/import.h"
#include "core/util.h"
#include "test.h"

extern char **environ;

int t_spawn_quiet(char *const argv[])
{
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *demo_out;
static cJSON *manifest;
static char *demo_db;
static struct store *demo_st;

const char *t_demo_dir(void)
{
	if (demo_out)
		return demo_out;
	/* FIXTURES is tests/fixtures: the generator is two levels up */
	const char *fx = getenv("FIXTURES");
	char *top = fx ? xasprintf("%s/../..", fx) : xstrdup(".");
	char *gen = xasprintf("%s/tools/demo-gen.py", top);
	char *out = xasprintf("%s/demo", t_tmpdir());
	char *argv[] = {"python3", gen, out, NULL};
	if (t_spawn_quiet(argv) != 0) {
		fprintf(stderr, "demo: python3 %s %s failed\n", gen, out);
		exit(2);
	}
	char *mp = xasprintf("%s/MANIFEST.json", out);
	struct buf b = BUF_INIT;
	struct cs_err err;
	if (file_read_all(mp, 16u << 20, &b, &err) < 0 || !(manifest = cJSON_Parse(buf_cstr(&b)))) {
		fprintf(stderr, "demo: cannot read %s\n", mp);
		exit(2);
	}
	free(mp);
	buf_release(&b);
	free(gen);
	free(top);
	demo_out = out;
	return demo_out;
}

const cJSON *t_demo_manifest(void)
{
	t_demo_dir();
	return manifest;
}

struct store *t_demo(void)
{
	if (demo_st)
		return demo_st;
	const char *out = t_demo_dir();
	struct cs_err err;
	demo_db = xasprintf("%s/demo.db", t_tmpdir());
	demo_st = store_open(demo_db, STORE_RW, &err);
	if (!demo_st) {
		fprintf(stderr, "demo: %s\n", err.msg);
		exit(2);
	}
	char *runs = xasprintf("%s/runs", out);
	struct importer *im = importer_new(demo_st, NULL);
	if (!im || import_path(im, runs, &err) < 0) {
		fprintf(stderr, "demo: cannot import %s: %s\n", runs, im ? err.msg : "no importer");
		exit(2);
	}
	importer_free(im);
	free(runs);
	return demo_st;
}

const char *t_demo_db(void)
{
	t_demo();
	return demo_db;
}

int64_t t_run_row(struct store *st, const char *spec)
{
	struct run r;
	struct cs_err err;
	if (store_find_run(st, spec, &r, &err) < 0) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return 0;
	}
	int64_t id = r.id;
	run_free(&r);
	return id;
}

struct store *t_fresh_store(const char *name)
{
	struct cs_err err;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.db", t_tmpdir(), name);
	remove(path);
	struct store *st = store_open(path, STORE_RW, &err);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	return st;
}

void t_slurp(const char *path, struct buf *out)
{
	struct cs_err err;
	buf_reset(out);
	if (file_read_all(path, 1u << 26, out, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
}

int64_t t_count(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int t_count_lines(void *ctx, const struct split_line *sl)
{
	struct t_line_counts *c = ctx;
	struct logline l;
	logline_parse(sl->head, sl->head_len, &l);
	c->lines++;
	c->ts += l.has_ts;
	c->bom += l.has_bom;
	c->kinds[l.kind]++;
	if (l.has_ts) {
		if (!c->first_ts)
			c->first_ts = l.ts_us;
		c->last_ts = l.ts_us;
	}
	if (l.kind == LINE_ERROR && !c->line_of_first_error)
		c->line_of_first_error = sl->lineno;
	return 0;
}

void t_add_word(struct buf *b, const char *w, const char *const *escs, size_t n_escs,
		uint32_t (*rnd)(void))
{
	size_t wl = strlen(w);
	if (rnd() % 6 == 0) { /* an escape inside the word */
		size_t cut = rnd() % (wl + 1);
		buf_add(b, w, cut);
		buf_adds(b, escs[rnd() % n_escs]);
		buf_adds(b, w + cut);
	} else {
		buf_adds(b, w);
	}
	if (rnd() % 4)
		buf_addc(b, ' ');
}
