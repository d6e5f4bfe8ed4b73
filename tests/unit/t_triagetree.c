/* t_triagetree.c - triagetree.c, the triage view's model without curses:
 * loading pages of failed runs and fingerprints, the rows they make with
 * folds and filters, where the cursor goes when rows change, histories and
 * states. Over the demo data set (tools/demo-gen.py, generated into the
 * tmpdir and imported once).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/import.h"
#include "core/store.h"
#include "core/triage.h"
#include "core/triagetree.h"
#include "core/util.h"
#include "test.h"

extern char **environ;

static int spawn(char *const argv[])
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

static struct store *demo_st;
static char *demo_db;
static cJSON *manifest;

static struct store *demo(void)
{
	if (demo_st)
		return demo_st;
	const char *fx = getenv("FIXTURES");
	char *top = fx ? xasprintf("%s/../..", fx) : xstrdup(".");
	char *gen = xasprintf("%s/tools/demo-gen.py", top);
	char *out = xasprintf("%s/demo", t_tmpdir());
	char *argv[] = {"python3", gen, out, NULL};
	if (spawn(argv) != 0) {
		fprintf(stderr, "t_triagetree: python3 %s %s failed\n", gen, out);
		exit(2);
	}
	char *mp = xasprintf("%s/MANIFEST.json", out);
	struct buf b = BUF_INIT;
	struct cs_err err;
	if (file_read_all(mp, 16u << 20, &b, &err) < 0 || !(manifest = cJSON_Parse(buf_cstr(&b)))) {
		fprintf(stderr, "t_triagetree: cannot read %s\n", mp);
		exit(2);
	}
	demo_db = xasprintf("%s/demo.db", t_tmpdir());
	demo_st = store_open(demo_db, STORE_RW, &err);
	if (!demo_st) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	char *runs = xasprintf("%s/runs", out);
	struct importer *im = importer_new(demo_st, NULL);
	if (import_path(im, runs, &err) < 0) {
		fprintf(stderr, "t_triagetree: import: %s\n", err.msg);
		exit(2);
	}
	importer_free(im);
	free(runs);
	free(mp);
	buf_release(&b);
	free(out);
	free(gen);
	free(top);
	return demo_st;
}

/* A tree over the demo index, everything loaded in mode m. */
static void load_all(struct triage_tree *t, enum tt_mode m)
{
	tt_init(t, demo());
	t->mode = m;
	int steps = 0;
	while (tt_load_step(t) && steps < 100000)
		steps++;
	CHECK_STR(t->error, "");
	tt_build_rows(t);
}

static int rows_of(const struct triage_tree *t, enum tt_kind k)
{
	int n = 0;
	for (size_t i = 0; i < t->nrows; i++)
		n += t->rows[i].kind == k;
	return n;
}

TEST(by_run_rows)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	CHECK(t.nruns > TT_PAGE_RUNS); /* more than one page was loaded */
	CHECK(t.runs_done);
	CHECK(!t.runs_capped);
	/* every failed run of the index, newest first */
	struct cs_err err;
	struct run newest;
	CHECK_OK(store_newest_failed_run(demo(), NULL, &newest, &err));
	CHECK_INT(t.runs[0].r.id, newest.id);
	run_free(&newest);
	int jobs = 0, findings = 0;
	for (int i = 0; i < t.nruns; i++) {
		CHECK(conclusion_is_failure(t.runs[i].r.conclusion));
		if (i)
			CHECK(t.runs[i - 1].r.created_at >= t.runs[i].r.created_at);
		for (int k = 0; k < t.runs[i].nj; k++) {
			jobs++;
			findings += t.runs[i].jobs[k].nf;
		}
	}
	/* nothing folded, no finding open: a run, its jobs, their findings */
	CHECK_INT(rows_of(&t, TT_RUN), t.nruns);
	CHECK_INT(rows_of(&t, TT_JOB), jobs);
	CHECK_INT(rows_of(&t, TT_FIND), findings);
	CHECK_INT(t.nrows, (size_t)(t.nruns + jobs + findings));
	CHECK_INT(t.n_failures, findings);
	CHECK(t.n_untriaged <= t.n_failures && t.n_new <= t.n_failures);
	CHECK(t.cat_w >= 4 && t.cat_w <= 14);
	CHECK_INT(t.rows[0].kind, TT_RUN);
	/* every finding's history is cached, and rows name their findings */
	for (size_t i = 0; i < t.nrows; i++) {
		const struct tt_row *r = &t.rows[i];
		if (r->kind != TT_FIND) {
			CHECK(r->kind == TT_RUN || tt_row_finding(&t, (long)i) == NULL);
			continue;
		}
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		CHECK(f == &t.runs[r->a].jobs[r->b].f[r->c]);
		CHECK(tt_hist_find(&t, f->fingerprint) != NULL);
		CHECK_STR(tt_row_fp(&t, (long)i), f->fingerprint);
	}
	CHECK(tt_row_finding(&t, -1) == NULL);
	CHECK(tt_row_finding(&t, (long)t.nrows) == NULL);
	CHECK(tt_row_fp(&t, (long)t.nrows + 5) == NULL);
	tt_release(&t);
}

TEST(folds_and_the_cursor)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	/* a finding of the first run that has one */
	long at = -1;
	for (size_t i = 0; i < t.nrows && at < 0; i++)
		if (t.rows[i].kind == TT_FIND)
			at = (long)i;
	CHECK(at >= 0);
	if (at < 0) {
		tt_release(&t);
		return;
	}
	struct tt_row fr = t.rows[at];
	const struct triage_finding *f = tt_row_finding(&t, at);
	/* unfolding it shows its details right under it */
	t.runs[fr.a].jobs[fr.b].open[fr.c] = true;
	size_t before = t.nrows;
	tt_build_rows(&t);
	int exc = rows_of(&t, TT_EXC);
	CHECK_INT(exc, f->n_excerpt);
	CHECK_INT(rows_of(&t, TT_RULE), 1);
	CHECK_INT(rows_of(&t, TT_HIST), 1);
	CHECK(t.nrows > before);
	CHECK_INT(tt_find_row(&t, &fr), at);
	CHECK_INT(t.rows[at + 1].kind, TT_HIST);
	/* an excerpt row: its finding, and the finding holds it */
	long ex = -1;
	for (size_t i = 0; i < t.nrows && ex < 0; i++)
		if (t.rows[i].kind == TT_EXC)
			ex = (long)i;
	CHECK(ex > at);
	struct tt_row er = t.rows[ex];
	CHECK(tt_row_finding(&t, ex) == f);
	/* folding the job: the excerpt row is gone, the cursor goes to its job */
	t.runs[fr.a].jobs[fr.b].folded = true;
	tt_build_rows(&t);
	CHECK_INT(tt_find_row(&t, &er), -1);
	long j = tt_locate(&t, &er);
	CHECK(j >= 0);
	if (j >= 0) {
		CHECK_INT(t.rows[j].kind, TT_JOB);
		CHECK_INT(t.rows[j].a, fr.a);
		CHECK_INT(t.rows[j].b, fr.b);
	}
	/* folding the run: to the run */
	t.runs[fr.a].folded = true;
	tt_build_rows(&t);
	long r = tt_locate(&t, &er);
	CHECK(r >= 0);
	if (r >= 0) {
		CHECK_INT(t.rows[r].kind, TT_RUN);
		CHECK_INT(t.rows[r].a, fr.a);
	}
	struct tt_row msg = {.kind = TT_MSG};
	CHECK_INT(tt_locate(&t, &msg), -1);
	tt_release(&t);
}

TEST(by_fingerprint_rows)
{
	struct triage_tree t;
	load_all(&t, TT_BY_FP);
	CHECK(t.ngroups > 0);
	CHECK_INT(rows_of(&t, TT_GROUP), t.ngroups);
	CHECK_INT(t.n_failures, t.ngroups);
	for (size_t i = 0; i < t.nrows; i++)
		CHECK_STR(tt_row_fp(&t, (long)i), t.groups[t.rows[i].a].fp);
	/* unfolding a fingerprint lists where it was seen */
	struct tt_group *g = &t.groups[0];
	struct cs_err err;
	g->open = true;
	CHECK_OK(tt_load_occurrences(&t, g, &err));
	CHECK(g->occ_loaded);
	CHECK(g->nocc > 0 && g->nocc <= TT_OCC_MAX);
	CHECK_OK(tt_load_occurrences(&t, g, &err)); /* once */
	tt_build_rows(&t);
	CHECK_INT(rows_of(&t, TT_OCC), g->nocc);
	CHECK_INT(rows_of(&t, TT_OCCHEAD), 1);
	for (size_t i = 0; i < t.nrows; i++) {
		if (t.rows[i].kind != TT_OCC)
			continue;
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		CHECK(f == &g->occ[t.rows[i].b]);
		CHECK_STR(f->fingerprint, g->fp);
		CHECK_INT(g->occ_run[t.rows[i].b].id, f->run_row_id);
	}
	tt_release(&t);
}

TEST(filters_and_states)
{
	struct triage_tree t;
	load_all(&t, TT_BY_RUN);
	/* the category of some finding: only findings of it remain */
	const char *cat = NULL;
	char fp[FP_HEX_LEN + 1] = "";
	for (size_t i = 0; i < t.nrows && !cat; i++) {
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		if (f && f->category) {
			cat = f->category;
			snprintf(fp, sizeof(fp), "%s", f->fingerprint);
		}
	}
	CHECK(cat != NULL);
	if (!cat) {
		tt_release(&t);
		return;
	}
	char *want = xstrdup(cat);
	int all = t.n_failures;
	t.q.category = xstrdup(want);
	tt_build_rows(&t);
	CHECK(t.n_failures > 0 && t.n_failures <= all);
	for (size_t i = 0; i < t.nrows; i++) {
		const struct triage_finding *f = tt_row_finding(&t, (long)i);
		if (t.rows[i].kind == TT_FIND)
			CHECK_STR(f->category, want);
	}
	triage_query_free(&t.q);

	/* a state nobody has set: nothing listed, one row says so */
	CHECK_STR(tt_state_of(&t, fp), "new");
	t.q.state = xstrdup("fixed");
	tt_build_rows(&t);
	CHECK_INT(t.nrows, 1);
	CHECK_INT(t.rows[0].kind, TT_MSG);
	CHECK_INT(t.n_failures, 0);
	CHECK(tt_row_fp(&t, 0) == NULL);

	/* set it: the tree learns it on refresh, and the filter shows it */
	struct cs_err err;
	char full[FP_HEX_LEN + 1];
	CHECK_OK(triage_set_state(demo(), fp, "fixed", "by the unit test", "tester", full, &err));
	CHECK_STR(tt_state_of(&t, fp), "new"); /* cached */
	CHECK_OK(tt_refresh_state(&t, full, &err));
	CHECK_STR(tt_state_of(&t, fp), "fixed");
	tt_build_rows(&t);
	CHECK(t.n_failures > 0);
	for (size_t i = 0; i < t.nrows; i++)
		if (t.rows[i].kind == TT_FIND)
			CHECK_STR(tt_state_of(&t, tt_row_fp(&t, (long)i)), "fixed");
	const struct tt_hist *h = tt_hist_find(&t, fp);
	CHECK(h && h->h.note && !strcmp(h->h.note, "by the unit test"));
	CHECK_OK(triage_set_state(demo(), fp, "new", NULL, "tester", full, &err));
	CHECK_OK(tt_refresh_state(&t, full, &err));
	CHECK_STR(tt_state_of(&t, fp), "new");
	/* an unknown fingerprint: new, not flaky */
	CHECK_STR(tt_state_of(&t, "0123456789abcdef"), "new");
	CHECK(!tt_is_flaky(NULL));
	free(want);
	tt_release(&t);
}

/* One run's failures (the run view's "triage this run"). */
TEST(only_one_run)
{
	struct triage_tree all;
	load_all(&all, TT_BY_RUN);
	CHECK(all.nruns > 1);
	int64_t id = all.runs[1].r.id;
	int nj = all.runs[1].nj;
	tt_release(&all);
	struct triage_tree t;
	tt_init(&t, demo());
	t.only_run = id;
	CHECK(!tt_load_step(&t));
	CHECK(t.runs_done);
	CHECK_INT(t.nruns, 1);
	CHECK_INT(t.runs[0].r.id, id);
	CHECK_INT(t.runs[0].nj, nj);
	tt_build_rows(&t);
	CHECK_INT(rows_of(&t, TT_RUN), 1);
	tt_release(&t);
	/* a run that is not there: an error in the tree, a message row */
	tt_init(&t, demo());
	t.only_run = 987654321;
	CHECK(!tt_load_step(&t));
	CHECK(t.error[0] != '\0');
	tt_build_rows(&t);
	CHECK_INT(t.nrows, 1);
	CHECK_INT(t.rows[0].kind, TT_MSG);
	tt_release(&t);
}
