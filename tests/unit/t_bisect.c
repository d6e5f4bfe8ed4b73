/* t_bisect.c - commits and bisect over generated repositories (libgit2)
 * with runs written into a real index: linear and merge-heavy first-parent
 * histories, runs at some commits only, every target kind, mixed evidence,
 * skips, a good commit after a bad one, other branches, a missing checkout,
 * log/replay, and `bisect run` with real child processes. */
#include <git2.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "core/bisect.h"
#include "core/commits.h"
#include "core/gitrepo.h"
#include "core/store.h"
#include "test.h"

#define MAXC 400

struct hist {
	char dir[512];
	int n;              /* first-parent commits, oldest first */
	char sha[MAXC][41];
	bool merge[MAXC];
	char side[MAXC][41]; /* the merged branch's commit (merges only) */
};

/* A repository whose main branch has n first-parent commits, oldest first;
 * with merge_every > 0 every merge_every-th commit is a merge of a side
 * commit branched from the previous main commit. Each commit changes file
 * "f" (and the side commit "s") so diff stats have something to count. */
static void make_hist(struct hist *h, const char *name, int n, int merge_every)
{
	snprintf(h->dir, sizeof(h->dir), "%s/%s", t_tmpdir(), name);
	h->n = n;
	git_libgit2_init();
	git_repository *repo = NULL;
	if (git_repository_init(&repo, h->dir, 0) != 0) {
		fprintf(stderr, "cannot init %s\n", h->dir);
		exit(2);
	}
	git_repository_set_head(repo, "refs/heads/main");
	git_commit *parent = NULL;
	for (int i = 0; i < n; i++) {
		git_signature *sig = NULL;
		git_signature_new(&sig, i % 2 ? "Ada" : "Bob", "t@example.com", 1700000000 + i * 60, 0);
		char content[64], msg[64];
		snprintf(content, sizeof(content), "line %d\n", i);
		git_oid blob, tree_id, id, side_id;
		git_blob_create_from_buffer(&blob, repo, content, strlen(content));
		git_treebuilder *tb = NULL;
		git_treebuilder_new(&tb, repo, NULL);
		git_treebuilder_insert(NULL, tb, "f", &blob, GIT_FILEMODE_BLOB);
		bool merge = merge_every > 0 && parent && i % merge_every == 0;
		git_commit *side = NULL;
		if (merge) {
			git_oid sblob;
			snprintf(content, sizeof(content), "side %d\n", i);
			git_blob_create_from_buffer(&sblob, repo, content, strlen(content));
			git_treebuilder_insert(NULL, tb, "s", &sblob, GIT_FILEMODE_BLOB);
			git_treebuilder_write(&tree_id, tb);
			git_tree *tree = NULL;
			git_tree_lookup(&tree, repo, &tree_id);
			snprintf(msg, sizeof(msg), "side work %d", i);
			const git_commit *ps[1] = {parent};
			git_commit_create(&side_id, repo, NULL, sig, sig, NULL, msg, tree, 1, ps);
			git_commit_lookup(&side, repo, &side_id);
			git_oid_tostr(h->side[i], 41, &side_id);
			git_tree_free(tree);
		} else {
			git_treebuilder_write(&tree_id, tb);
		}
		git_treebuilder_free(tb);
		git_tree *tree = NULL;
		git_tree_lookup(&tree, repo, &tree_id);
		snprintf(msg, sizeof(msg), merge ? "Merge side %d" : "commit %d", i);
		const git_commit *ps[2] = {parent, side};
		if (git_commit_create(&id, repo, "HEAD", sig, sig, NULL, msg, tree, parent ? (merge ? 2 : 1) : 0,
				      ps) != 0) {
			fprintf(stderr, "cannot commit: %s\n", git_error_last()->message);
			exit(2);
		}
		git_oid_tostr(h->sha[i], 41, &id);
		h->merge[i] = merge;
		git_commit_free(side);
		git_commit_free(parent);
		git_commit_lookup(&parent, repo, &id);
		git_tree_free(tree);
		git_signature_free(sig);
	}
	/* a work tree matching HEAD, so `git worktree add` has a clean base */
	git_checkout_options co;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	git_checkout_head(repo, &co);
	git_commit_free(parent);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

static struct store *new_store(const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s.db", t_tmpdir(), name);
	struct cs_err err;
	err_clear(&err);
	struct store *st = store_open(path, STORE_RW, &err);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	store_exec(st, "INSERT INTO repos (id, slug) VALUES (1, 'o/r')", &err);
	return st;
}

/* A history of n commits (see make_hist) and an empty store, both named name. */
static struct hist *new_hist(const char *name, int n, int merge_every, struct store **st)
{
	struct hist *h = xcalloc(1, sizeof(*h));
	make_hist(h, name, n, merge_every);
	*st = new_store(name);
	return h;
}

/* The history's checkout, err cleared first. */
static struct gitrepo *hist_repo(struct hist *h, struct cs_err *err)
{
	err_clear(err);
	return commits_open_repo(h->dir, err);
}

/* The end of a test: its checkout, store and history released. */
static void hist_done(struct gitrepo *g, struct store *st, struct hist *h)
{
	gitrepo_close(g);
	store_close(st);
	free(h);
}

static int64_t next_run_id = 1000;

/* A completed run of workflow at sha (attempt 1 unless same_as names the
 * run being re-tried), with one job "build" of the same conclusion. Returns
 * the run's provider id. */
static int64_t add_run(struct store *st, const char *sha, const char *workflow, const char *conclusion,
		       const char *branch, int64_t same_as, int64_t at)
{
	struct cs_err err;
	err_clear(&err);
	int64_t pid = same_as ? same_as : next_run_id++;
	int attempt = 1;
	if (same_as) {
		/* count the attempts so far */
		attempt = 2;
		static int bump;
		attempt += bump++ % 5;
	}
	char *sql = xasprintf(
		"INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, head_branch, head_sha, status, "
		"conclusion, created_at, imported_at) VALUES (1, %lld, %d, '%s', '%s', '%s', 'completed', '%s', %lld, 0);"
		"INSERT INTO jobs (run_id, provider_id, name, status, conclusion, ordinal) VALUES "
		"(last_insert_rowid(), %lld, 'build', 'completed', '%s', 0);",
		(long long)pid, attempt, workflow, branch, sha, conclusion, (long long)at, (long long)pid * 10,
		conclusion);
	if (store_exec(st, sql, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(2);
	}
	free(sql);
	return pid;
}

/* Runs of "ci" on main: green at good (time 1), red at bad (time 2). */
static void add_good_bad(struct store *st, const char *good, const char *bad)
{
	add_run(st, good, "ci", "success", "main", 0, 1);
	add_run(st, bad, "ci", "failure", "main", 0, 2);
}

/* A run of workflow on main at sha that failed (at fail_at) and passed on a
 * re-run (at pass_at). */
static void add_flaky(struct store *st, const char *sha, const char *workflow, int64_t fail_at,
		      int64_t pass_at)
{
	int64_t f = add_run(st, sha, workflow, "failure", "main", 0, fail_at);
	add_run(st, sha, workflow, "success", "main", f, pass_at);
}

static int64_t run_row(struct store *st, int64_t pid)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	struct cs_err err;
	err_clear(&err);
	char spec[32];
	snprintf(spec, sizeof(spec), "%lld", (long long)pid);
	int64_t id = store_find_run(st, spec, &r, &err) == 0 ? r.id : 0;
	run_free(&r);
	return id;
}

/* Mark commits by an oracle (bad from culprit on) until the first bad
 * commit is known; returns the steps taken or -1. */
static int drive(struct store *st, struct gitrepo *g, const struct hist *h, int culprit, int max_steps,
		 struct bisect_status *s)
{
	struct cs_err err;
	err_clear(&err);
	int steps = 0;
	while (s->first_bad < 0 && s->next >= 0 && steps < max_steps) {
		int idx = -1;
		for (int i = 0; i < h->n; i++)
			if (!strcmp(h->sha[i], s->commits[s->next].c.sha))
				idx = i;
		if (idx < 0)
			return -1;
		char sha[41];
		memcpy(sha, h->sha[idx], 41);
		bisect_status_release(s);
		if (bisect_mark(st, g, sha, idx >= culprit ? BV_BAD : BV_GOOD, "manual", NULL, s, &err) < 0) {
			fprintf(stderr, "mark: %s\n", err.msg);
			return -1;
		}
		steps++;
	}
	return s->first_bad >= 0 ? steps : -1;
}

static bool is(const struct bisect_status *s, int idx, const char *sha)
{
	return idx >= 0 && idx < s->n && !strcmp(s->commits[idx].c.sha, sha);
}

TEST(bisect_linear_no_runs_between)
{
	struct store *st;
	struct hist *h = new_hist("linear", 64, 0, &st);
	add_run(st, h->sha[0], "ci", "success", "main", 0, 1000);
	add_run(st, h->sha[63], "ci", "failure", "main", 0, 9000);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	CHECK(g != NULL);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	/* defaults: the newest bad run, the newest good run before it */
	CHECK_STR(s.start_bad, h->sha[63]);
	CHECK_STR(s.start_good, h->sha[0]);
	CHECK_STR(s.branch, "main");
	CHECK_INT(s.n, 63);
	CHECK_INT(s.good_idx, -1);
	CHECK_INT(s.bad_idx, 62);
	/* the weight rule halves the 63 suspects: commit 31 or 32 */
	CHECK(is(&s, s.next, h->sha[31]) || is(&s, s.next, h->sha[32]));
	CHECK_INT(s.steps_left, 6);
	int steps = drive(st, g, h, 40, 20, &s);
	CHECK(steps > 0 && steps <= 6);
	CHECK(is(&s, s.first_bad, h->sha[40]));
	CHECK_STR(s.state, "finished");
	bisect_status_release(&s);
	/* finished: another can start; the finished one is kept */
	CHECK_INT(bisect_status(st, g, &s, &err), 0);
	CHECK(is(&s, s.first_bad, h->sha[40]));
	bisect_status_release(&s);
	hist_done(g, st, h);
}

TEST(bisect_stored_runs_shrink_the_range)
{
	struct store *st;
	struct hist *h = new_hist("sparse", 100, 0, &st);
	int culprit = 57;
	for (int i = 0; i < 100; i += 8)
		add_run(st, h->sha[i], "ci", i >= culprit ? "failure" : "success", "main", 0, 1000 + i);
	add_run(st, h->sha[99], "ci", "failure", "main", 0, 5000);
	/* a run of another workflow right next to the split: preferred */
	add_run(st, h->sha[61], "lint", "success", "main", 0, 1061);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci", .bad = h->sha[99]};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	/* the range is between the stored runs at 56 (good) and 64 (bad) */
	CHECK_STR(s.start_good, h->sha[56]);
	CHECK_INT(s.good_idx, -1);
	CHECK(is(&s, s.bad_idx, h->sha[64]));
	CHECK_INT(s.steps_left, 3);
	/* 8 suspects: the split is 60; 61, one away (8/8) with a run, is taken */
	CHECK(is(&s, s.next, h->sha[61]));
	CHECK(s.next_has_run);
	bisect_status_release(&s);
	CHECK_INT(bisect_reset(st, &err), 0);

	/* a wider window: good far back, the lint run near the split wins */
	struct bisect_start_opts o2 = {.target = "workflow:ci", .bad = h->sha[64], .good = h->sha[0]};
	store_exec(st, "DELETE FROM runs WHERE workflow_name = 'ci' AND head_sha NOT IN ('x')", &err);
	add_good_bad(st, h->sha[0], h->sha[64]);
	CHECK_INT(bisect_start(st, g, &o2, &s, &err), 0);
	/* 64 suspects: the split is commit 32; 61 is too far (window 8) */
	CHECK(is(&s, s.next, h->sha[32]));
	CHECK(!s.next_has_run);
	bisect_status_release(&s);
	bisect_reset(st, &err);
	add_run(st, h->sha[35], "lint", "success", "main", 0, 3);
	CHECK_INT(bisect_start(st, g, &o2, &s, &err), 0);
	CHECK(is(&s, s.next, h->sha[35]));
	CHECK(s.next_has_run);
	int steps = drive(st, g, h, culprit, 20, &s);
	CHECK(steps > 0 && steps <= 7);
	CHECK(is(&s, s.first_bad, h->sha[culprit]));
	bisect_status_release(&s);
	hist_done(g, st, h);
}

TEST(bisect_merge_culprit)
{
	struct store *st;
	struct hist *h = new_hist("merges", 60, 3, &st);
	int culprit = 27; /* a merge */
	CHECK(h->merge[culprit]);
	add_good_bad(st, h->sha[1], h->sha[59]);
	/* a run on the merged branch's commit says nothing on the first-parent line */
	add_run(st, h->side[culprit], "ci", "failure", "feature", 0, 0);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	CHECK_INT(s.n, 58); /* first-parent only */
	for (int i = 0; i < s.n; i++)
		CHECK(strcmp(s.commits[i].c.sha, h->side[culprit]) != 0);
	int steps = drive(st, g, h, culprit, 20, &s);
	CHECK(steps > 0 && steps <= 6);
	CHECK(is(&s, s.first_bad, h->sha[culprit]));
	CHECK(s.commits[s.first_bad].c.n_parents == 2);
	CHECK(s.message && strstr(s.message, "a merge"));
	/* the diff stat of the merge against its first parent */
	struct buf b = BUF_INIT;
	CHECK_INT(gitrepo_diffstat(g, h->sha[culprit], 20, &b, &err), 0);
	CHECK(strstr(buf_cstr(&b), " s | +1 -0") != NULL);
	CHECK(strstr(buf_cstr(&b), "2 files changed") != NULL);
	buf_release(&b);
	bisect_status_release(&s);
	hist_done(g, st, h);
}

TEST(bisect_skips)
{
	struct store *st;
	struct hist *h = new_hist("skips", 40, 0, &st);
	add_good_bad(st, h->sha[0], h->sha[39]);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	char best[41];
	memcpy(best, s.commits[s.next].c.sha, 41);
	bisect_status_release(&s);
	/* skip the proposed commit: another is proposed, never a skipped one */
	CHECK_INT(bisect_mark(st, g, NULL, BV_SKIP, "manual", NULL, &s, &err), 0);
	CHECK(s.next >= 0 && strcmp(s.commits[s.next].c.sha, best) != 0);
	CHECK(!s.commits[s.next].skipped);
	int nskipped = 0;
	for (int i = 0; i < s.n; i++)
		nskipped += s.commits[i].skipped;
	CHECK_INT(nskipped, 1);
	/* the same state proposes the same commit again (deterministic) */
	char again[41];
	memcpy(again, s.commits[s.next].c.sha, 41);
	bisect_status_release(&s);
	CHECK_INT(bisect_status(st, g, &s, &err), 0);
	CHECK_STR(s.commits[s.next].c.sha, again);
	bisect_status_release(&s);
	bisect_reset(st, &err);

	/* only skipped commits left: say so, propose nothing */
	struct bisect_start_opts o2 = {.target = "workflow:ci", .good = h->sha[10], .bad = h->sha[13]};
	CHECK_INT(bisect_start(st, g, &o2, &s, &err), 0);
	bisect_status_release(&s);
	CHECK_INT(bisect_mark(st, g, h->sha[11], BV_SKIP, "manual", NULL, &s, &err), 0);
	bisect_status_release(&s);
	CHECK_INT(bisect_mark(st, g, h->sha[12], BV_SKIP, "manual", NULL, &s, &err), 0);
	CHECK(s.only_skipped);
	CHECK_INT(s.next, -1);
	CHECK_INT(s.first_bad, -1);
	CHECK(strstr(s.message, "only skipped") != NULL);
	bisect_status_release(&s);
	/* marking without a proposal names the problem */
	CHECK(bisect_mark(st, g, NULL, BV_GOOD, "manual", NULL, &s, &err) < 0);
	CHECK(strstr(err.msg, "no commit is proposed") != NULL);
	hist_done(g, st, h);
}

TEST(bisect_good_after_bad_and_flaky)
{
	struct store *st;
	struct hist *h = new_hist("gab", 30, 0, &st);
	add_good_bad(st, h->sha[0], h->sha[10]);
	add_run(st, h->sha[20], "ci", "success", "main", 0, 3);
	add_run(st, h->sha[29], "ci", "failure", "main", 0, 4);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci", .good = h->sha[0], .bad = h->sha[29]};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	CHECK(s.not_bisectable);
	CHECK(is(&s, s.good_after_bad, h->sha[20]));
	CHECK(strstr(s.message, "not a bisectable regression") != NULL);
	bisect_status_release(&s);
	bisect_reset(st, &err);

	/* the newest failure was taken back by a re-run: flaky, not bisected */
	add_flaky(st, h->sha[25], "ci", 10, 11);
	struct bisect_start_opts o2 = {.target = "workflow:ci"};
	CHECK(bisect_start(st, g, &o2, &s, &err) < 0);
	CHECK(strstr(err.msg, "flaky") != NULL);
	CHECK(strstr(err.msg, "not a bisectable regression") != NULL);
	/* nothing was started */
	err_clear(&err);
	CHECK_INT(bisect_reset(st, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	hist_done(g, st, h);
}

TEST(bisect_mixed_evidence_is_bayesian)
{
	struct store *st;
	struct hist *h = new_hist("mixed", 32, 0, &st);
	add_run(st, h->sha[0], "ci", "success", "main", 0, 1);
	add_run(st, h->sha[31], "ci", "failure", "main", 0, 20);
	/* commit 12 failed once and passed on a re-run */
	add_flaky(st, h->sha[12], "ci", 3, 4);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	if (s.n != 31)
		return;
	CHECK(s.bayes);
	CHECK(s.flake_rate > 0.005 && s.flake_rate < 0.45);
	CHECK_INT(s.commits[11].verdict, BV_MIXED);
	double sum = 0;
	for (int i = 0; i < s.n; i++)
		sum += s.commits[i].p;
	CHECK(fabs(sum - 1.0) < 1e-9);
	CHECK_INT(s.first_bad, -1);
	CHECK(s.next >= 0);
	/* the oracle: bad from 20 on; the mixed commit is not where it stops */
	int steps = drive(st, g, h, 20, 40, &s);
	CHECK(steps > 0);
	CHECK(is(&s, s.first_bad, h->sha[20]));
	/* once the mixed commit lies before the newest good one it no longer
	 * matters: the range decides; while it is inside, the posterior does */
	CHECK(!s.bayes || s.commits[s.first_bad].p >= 0.95);
	bisect_status_release(&s);
	hist_done(g, st, h);
}

static void add_test_result(struct store *st, int64_t pid, const char *cls, const char *name,
			    const char *outcome)
{
	struct cs_err err;
	err_clear(&err);
	char *sql = xasprintf(
		"INSERT OR IGNORE INTO artifacts (run_id, name) VALUES (%lld, 'junit');"
		"INSERT OR IGNORE INTO artifact_files (artifact_id, path, size, kind) VALUES "
		"((SELECT id FROM artifacts WHERE run_id = %lld), 'j.xml', 1, 'junit');"
		"INSERT INTO test_results (run_id, file_id, classname, name, outcome) VALUES (%lld, "
		"(SELECT f.id FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id WHERE a.run_id = %lld), "
		"'%s', '%s', '%s');",
		(long long)run_row(st, pid), (long long)run_row(st, pid), (long long)run_row(st, pid),
		(long long)run_row(st, pid), cls, name, outcome);
	CHECK_INT(store_exec(st, sql, &err), 0);
	free(sql);
}

static void add_metric(struct store *st, int64_t pid, const char *name, double v)
{
	struct cs_err err;
	err_clear(&err);
	int64_t row = run_row(st, pid);
	char *sql = xasprintf(
		"INSERT OR IGNORE INTO artifacts (run_id, name) VALUES (%lld, 'm');"
		"INSERT OR IGNORE INTO artifact_files (artifact_id, path, size, kind) VALUES "
		"((SELECT id FROM artifacts WHERE run_id = %lld AND name = 'm'), 'm.csv', 1, 'metrics');"
		"INSERT INTO metric_series (run_id, file_id, name, n_points) VALUES (%lld, "
		"(SELECT f.id FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id WHERE a.run_id = %lld "
		"AND a.name = 'm'), '%s', 2);"
		"INSERT INTO metric_points (series_id, idx, x, value) VALUES (last_insert_rowid(), 0, 0, 0.0), "
		"(last_insert_rowid(), 1, 1, %.17g);",
		(long long)row, (long long)row, (long long)row, (long long)row, name, v);
	CHECK_INT(store_exec(st, sql, &err), 0);
	free(sql);
}

static void add_finding(struct store *st, int64_t pid, const char *fp)
{
	struct cs_err err;
	err_clear(&err);
	char *sql = xasprintf(
		"INSERT INTO triage_findings (job_id, rank, shown, source, rule, category, severity, title, "
		"fingerprint, key_text, excerpt) VALUES ((SELECT id FROM jobs WHERE run_id = %lld), 0, 1, 'rule', "
		"'r', 'test', 'error', 't', '%s', 'k', 'e');",
		(long long)run_row(st, pid), fp);
	CHECK_INT(store_exec(st, sql, &err), 0);
	free(sql);
}

/* Every target kind over one history: bad from commit 30 on; each target's
 * evidence sits at different commits. */
TEST(bisect_target_kinds)
{
	struct store *st;
	struct hist *h = new_hist("kinds", 48, 0, &st);
	int64_t p[48];
	for (int i = 0; i < 48; i += 4) {
		bool bad = i >= 30;
		p[i] = add_run(st, h->sha[i], "ci", bad ? "failure" : "success", "main", 0, 100 + i);
		add_test_result(st, p[i], "pkg.Suite", "test_energy", bad ? "failed" : "passed");
		add_test_result(st, p[i], "pkg.Suite", "test_other", "passed");
		add_metric(st, p[i], "parity.max_delta", bad ? 0.5 : 0.001);
		if (bad)
			add_finding(st, p[i], "abcdef0123456789abcdef0123456789");
	}
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	const char *targets[] = {"workflow:ci", "job:ci/build", "test:pkg.Suite.test_energy", "test:test_en",
				 "finding:abcdef01", "metric:parity.max_delta>0.1"};
	for (size_t k = 0; k < sizeof(targets) / sizeof(*targets); k++) {
		struct bisect_status s;
		struct bisect_start_opts o = {.target = targets[k]};
		err_clear(&err);
		int rc = bisect_start(st, g, &o, &s, &err);
		if (rc < 0)
			fprintf(stderr, "%s: %s\n", targets[k], err.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(s.start_bad, h->sha[44]);
		CHECK_STR(s.start_good, h->sha[28]);
		CHECK(is(&s, s.bad_idx, h->sha[32]));
		int steps = drive(st, g, h, 30, 10, &s);
		CHECK(steps >= 1 && steps <= 2);
		CHECK(is(&s, s.first_bad, h->sha[30]));
		bisect_status_release(&s);
	}
	/* a metric bound on the other side, ambiguity, nothing known */
	struct bisect_status s;
	struct bisect_start_opts below = {.target = "metric:parity.max_delta<0.1"};
	CHECK_INT(bisect_start(st, g, &below, &s, &err), -1); /* bad before good: no good run first */
	struct bisect_start_opts amb = {.target = "test:pkg.Suite.test_"};
	CHECK_INT(bisect_start(st, g, &amb, &s, &err), -1);
	CHECK(strstr(err.msg, "ambiguous") != NULL);
	struct bisect_start_opts none = {.target = "test:nope"};
	CHECK_INT(bisect_start(st, g, &none, &s, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	struct bisect_target t;
	CHECK_INT(bisect_target_parse("metric:x>abc", &t, &err), -1);
	CHECK_INT(bisect_target_parse("job:noslash", &t, &err), -1);
	CHECK_INT(bisect_target_parse("color:red", &t, &err), -1);
	CHECK_INT(bisect_target_parse("workflow:", &t, &err), -1);
	CHECK_INT(bisect_target_parse("parity:sim parity", &t, &err), 0);
	CHECK_INT(t.kind, BT_PARITY);
	CHECK_STR(t.workflow, "sim parity");
	struct buf tt = BUF_INIT;
	bisect_target_text(&t, &tt);
	CHECK_STR(buf_cstr(&tt), "parity:sim parity");
	bisect_target_release(&t);
	CHECK_INT(bisect_target_parse("metric:m>0.1", &t, &err), 0);
	bisect_target_text(&t, &tt);
	CHECK_STR(buf_cstr(&tt), "metric:m>0.1");
	bisect_target_release(&t);
	buf_release(&tt);
	/* a parity target over runs without parity channels: no evidence */
	struct bisect_start_opts par = {.target = "parity:ci"};
	CHECK_INT(bisect_start(st, g, &par, &s, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_INT(bisect_target_parse("metric:a>b<3", &t, &err), 0);
	CHECK_STR(t.name, "a>b");
	CHECK(!t.above);
	bisect_target_release(&t);
	hist_done(g, st, h);
}

TEST(bisect_other_branch_and_checkout)
{
	struct store *st;
	struct hist *h = new_hist("branches", 30, 5, &st);
	/* bad on the side commit merged at 25 (branch feature), good on main 20 */
	add_run(st, h->sha[20], "ci", "success", "main", 0, 1);
	add_run(st, h->side[25], "ci", "failure", "feature", 0, 2);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	CHECK_STR(s.branch, "feature");
	CHECK_STR(s.start_bad, h->side[25]);
	CHECK_STR(s.start_good, h->sha[20]);
	CHECK_INT(s.n, 5); /* 21..24 on main, then the side commit */
	bisect_status_release(&s);
	bisect_reset(st, &err);
	/* good not an ancestor of bad */
	struct bisect_start_opts o2 = {.target = "workflow:ci", .good = h->sha[26], .bad = h->sha[25]};
	CHECK_INT(bisect_start(st, g, &o2, &s, &err), -1);
	CHECK(strstr(err.msg, "not an ancestor") != NULL);
	/* a rev that is nothing */
	struct bisect_start_opts o3 = {.target = "workflow:ci", .bad = "no-such-branch"};
	CHECK_INT(bisect_start(st, g, &o3, &s, &err), -1);
	CHECK(strstr(err.msg, "no-such-branch") != NULL);
	gitrepo_close(g);
	/* a missing checkout */
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/no-repo-here", t_tmpdir());
	mkdir(missing, 0755);
	err_clear(&err);
	CHECK(commits_open_repo(missing, &err) == NULL);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK(strstr(err.msg, "--repo") != NULL);
	CHECK_INT(bisect_start(st, NULL, &o, &s, &err), -1);
	CHECK(strstr(err.msg, "checkout") != NULL);
	store_close(st);
	free(h);
}

TEST(bisect_log_and_replay)
{
	struct store *st;
	struct hist *h = new_hist("replay", 40, 0, &st);
	add_good_bad(st, h->sha[0], h->sha[39]);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "job:ci/build", .branch = "it's main", .bad = h->sha[39]};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	bisect_status_release(&s);
	CHECK_INT(bisect_mark(st, g, NULL, BV_SKIP, "manual", NULL, &s, &err), 0);
	int steps = drive(st, g, h, 17, 20, &s);
	CHECK(steps > 0);
	CHECK(is(&s, s.first_bad, h->sha[17]));
	bisect_status_release(&s);
	struct buf log = BUF_INIT;
	CHECK_INT(bisect_log(st, &log, &err), 0);
	CHECK(strstr(buf_cstr(&log), "start --target 'job:ci/build' --branch 'it'\\''s main'") != NULL);
	CHECK(strstr(buf_cstr(&log), "skip ") != NULL);
	CHECK(strstr(buf_cstr(&log), "# first bad commit") != NULL);
	/* replayed into a fresh index with the same runs: the same culprit */
	struct store *st2 = new_store("replay2");
	add_good_bad(st2, h->sha[0], h->sha[39]);
	CHECK_INT(bisect_replay(st2, g, buf_cstr(&log), &s, &err), 0);
	CHECK(is(&s, s.first_bad, h->sha[17]));
	CHECK_STR(s.branch, "it's main");
	bisect_status_release(&s);
	/* hostile logs: clear errors, nothing half-done */
	CHECK_INT(bisect_replay(st2, g, "good abc\n", &s, &err), -1);
	CHECK(strstr(err.msg, "line 1") != NULL);
	CHECK_INT(bisect_replay(st2, g, "start --target 'workflow:ci\n", &s, &err), -1);
	CHECK(strstr(err.msg, "quote") != NULL);
	CHECK_INT(bisect_replay(st2, g, "# nothing\n", &s, &err), -1);
	CHECK_INT(bisect_replay(st2, g, "frobnicate x\n", &s, &err), -1);
	buf_release(&log);
	store_close(st2);
	hist_done(g, st, h);
}

static const char *script(const char *name, const char *body)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), name);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s", body);
	fclose(f);
	return path;
}

TEST(bisect_run_exit_codes)
{
	struct store *st;
	struct hist *h = new_hist("runrepo", 40, 0, &st);
	add_good_bad(st, h->sha[0], h->sha[39]);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct bisect_status s;
	struct bisect_start_opts o = {.target = "workflow:ci"};
	CHECK_INT(bisect_start(st, g, &o, &s, &err), 0);
	bisect_status_release(&s);
	/* bad from commit 23 on ("line 23" in f); commit 20 cannot be built (125) */
	char body[1024];
	snprintf(body, sizeof(body),
		 "n=$(sed 's/line //' f)\n"
		 "echo \"$CISCOPE_BISECT_SHA $CISCOPE_BISECT_TARGET $n\" >> '%s/seen'\n"
		 "[ \"$n\" = 20 ] && exit 125\n"
		 "[ \"$n\" -ge 23 ] && exit 1\n"
		 "exit 0\n", t_tmpdir());
	char sp[600];
	snprintf(sp, sizeof(sp), "%s", script("oracle.sh", body));
	char *argv[] = {"/bin/sh", sp, NULL};
	struct bisect_run_opts ro = {.argv = argv};
	CHECK_INT(bisect_run(st, g, h->dir, &ro, &s, &err), 0);
	CHECK(is(&s, s.first_bad, h->sha[23]));
	bisect_status_release(&s);
	/* the script saw the sha and target, in a checkout that is not ours */
	struct buf seen = BUF_INIT;
	char sp2[600];
	snprintf(sp2, sizeof(sp2), "%s/seen", t_tmpdir());
	CHECK_INT(file_read_all(sp2, 1 << 20, &seen, &err), 0);
	CHECK(strstr(buf_cstr(&seen), " workflow:ci ") != NULL);
	CHECK(strstr(buf_cstr(&seen), h->sha[23]) != NULL);
	buf_release(&seen);
	/* the user's work tree is untouched; the bisect worktree is gone */
	char fpath[700];
	snprintf(fpath, sizeof(fpath), "%s/f", h->dir);
	struct buf fb = BUF_INIT;
	CHECK_INT(file_read_all(fpath, 100, &fb, &err), 0);
	CHECK_STR(buf_cstr(&fb), "line 39\n");
	buf_release(&fb);
	struct buf log = BUF_INIT;
	CHECK_INT(bisect_log(st, &log, &err), 0);
	CHECK(strstr(buf_cstr(&log), "# bisect run: '/bin/sh'") != NULL);
	CHECK(strstr(buf_cstr(&log), ": exit 1") != NULL);
	buf_release(&log);

	/* exit 200 stops without recording it */
	struct bisect_start_opts o2 = {.target = "workflow:ci", .good = h->sha[0], .bad = h->sha[39]};
	CHECK_INT(bisect_start(st, g, &o2, &s, &err), 0);
	bisect_status_release(&s);
	char *stop200[] = {"/bin/sh", "-c", "exit 200", NULL};
	struct bisect_run_opts r2 = {.argv = stop200};
	CHECK_INT(bisect_run(st, g, h->dir, &r2, &s, &err), -1);
	CHECK(strstr(err.msg, "exited with 200") != NULL);
	CHECK_INT(bisect_log(st, &log, &err), 0);
	CHECK(strstr(buf_cstr(&log), "bisect run") == NULL);
	buf_release(&log);
	bisect_status_release(&s);

	/* a command that hangs: the timeout stops it (and what it started),
	 * the bisection stays active with its log */
	char *hang[] = {"/bin/sh", "-c", "sleep 30 & sleep 30", NULL};
	struct bisect_run_opts r3 = {.argv = hang, .timeout_s = 1};
	int64_t t0 = mono_ms();
	CHECK_INT(bisect_run(st, g, h->dir, &r3, &s, &err), -1);
	CHECK_INT(err.code, CS_EINTR);
	CHECK(mono_ms() - t0 < 10000);
	CHECK(strstr(err.msg, "timed out") != NULL);
	bisect_status_release(&s);
	/* Ctrl-C: the stop flag */
	volatile sig_atomic_t stop = 1;
	struct bisect_run_opts r4 = {.argv = hang, .stop = &stop};
	CHECK_INT(bisect_run(st, g, h->dir, &r4, &s, &err), -1);
	CHECK(strstr(err.msg, "interrupted") != NULL);
	bisect_status_release(&s);
	CHECK_INT(bisect_status(st, g, &s, &err), 0);
	CHECK_STR(s.state, "active");
	bisect_status_release(&s);
	hist_done(g, st, h);
}

TEST(commits_verdicts_and_last_green)
{
	struct store *st;
	struct hist *h = new_hist("commits", 10, 4, &st);
	add_run(st, h->sha[9], "ci", "failure", "main", 0, 9);
	add_run(st, h->sha[9], "lint", "success", "main", 0, 9);
	add_flaky(st, h->sha[8], "ci", 8, 8);
	add_run(st, h->sha[7], "ci", "success", "main", 0, 7);
	add_run(st, h->sha[7], "lint", "failure", "main", 0, 7);
	add_run(st, h->sha[6], "lint", "success", "main", 0, 6);
	add_run(st, h->sha[5], "ci", "success", "main", 0, 5);
	add_run(st, h->sha[5], "lint", "success", "main", 0, 5);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct commit_list l;
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	CHECK_STR(l.branch, "main");
	CHECK_INT(l.n, 10);
	CHECK_INT(l.n_workflows, 2);
	CHECK_STR(l.workflows[0], "ci");
	CHECK_STR(l.rows[0].c.sha, h->sha[9]);
	CHECK_INT(l.rows[0].wf[0].v, CV_RED);
	CHECK_INT(l.rows[0].wf[1].v, CV_GREEN);
	CHECK_INT(l.rows[1].wf[0].v, CV_FLAKY);
	CHECK_INT(l.rows[1].wf[1].v, CV_NONE);
	CHECK_INT(l.rows[2].overall, CV_RED);
	CHECK_INT(l.rows[9].overall, CV_NONE);
	CHECK(l.rows[1].c.n_parents == 2); /* 8 is a merge */
	CHECK_STR(commit_verdict_glyph(CV_FLAKY, false), "~");
	CHECK_STR(commit_verdict_glyph(CV_NONE, true), "·");
	commit_list_release(&l);
	CHECK_INT(commits_list(st, g, "main", 3, &l, &err), 0);
	CHECK_INT(l.n, 3);
	commit_list_release(&l);
	struct gitrepo_commit c;
	CHECK_INT(commits_last_green(st, g, NULL, NULL, 0, &c, &err), 0);
	CHECK_STR(c.sha, h->sha[6]); /* everything that ran there was green */
	gitrepo_commit_release(&c);
	CHECK_INT(commits_last_green(st, g, NULL, "ci", 0, &c, &err), 0);
	CHECK_STR(c.sha, h->sha[7]);
	gitrepo_commit_release(&c);
	CHECK_INT(commits_last_green(st, g, NULL, "nope", 0, &c, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK_INT(commits_list(st, g, "no-branch", 0, &l, &err), -1);
	CHECK(strstr(err.msg, "no-branch") != NULL);
	CHECK_INT(bisect_estimate_steps(10928), 13);
	CHECK_INT(bisect_estimate_steps(2), 0);
	CHECK_INT(bisect_estimate_steps(4), 1);
	hist_done(g, st, h);
}

/* A series of n points named name in file path of the run's artifact "p". */
static void add_series(struct store *st, int64_t pid, const char *path, const char *name,
		       const double *v, int n)
{
	struct cs_err err;
	err_clear(&err);
	int64_t row = run_row(st, pid);
	struct buf sql = BUF_INIT;
	buf_addf(&sql,
		 "INSERT OR IGNORE INTO artifacts (run_id, name) VALUES (%lld, 'p');"
		 "INSERT OR IGNORE INTO artifact_files (artifact_id, path, size, kind) VALUES "
		 "((SELECT id FROM artifacts WHERE run_id = %lld AND name = 'p'), '%s', 1, 'metrics');"
		 "INSERT INTO metric_series (run_id, file_id, name, n_points) VALUES (%lld, "
		 "(SELECT f.id FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id WHERE a.run_id = %lld "
		 "AND a.name = 'p' AND f.path = '%s'), '%s', %d);"
		 "INSERT INTO metric_points (series_id, idx, x, value) VALUES ",
		 (long long)row, (long long)row, path, (long long)row, (long long)row, path, name, n);
	for (int i = 0; i < n; i++)
		buf_addf(&sql, "%s((SELECT max(id) FROM metric_series), %d, %d, %.17g)", i ? "," : "", i, i, v[i]);
	CHECK_INT(store_exec(st, buf_cstr(&sql), &err), 0);
	buf_release(&sql);
}

/* commits_judge's parity verdict of commit 4 (row 1) of
 * commits_parity_and_thresholds with conf_text in the repository's
 * parity.conf at pconf. */
static enum commit_parity parity_of_commit4(struct store *st, struct gitrepo *g, const char *top,
					     const char *pconf, const char *conf_text)
{
	FILE *f = fopen(pconf, "w");
	fputs(conf_text, f);
	fclose(f);
	struct cs_err err;
	struct commit_list l = {0};
	enum commit_parity cp = CP_NONE;
	if (commits_list(st, g, NULL, 0, &l, &err) == 0 && commits_judge(st, top, &l, &err) == 0 &&
	    l.n == 6)
		cp = l.rows[1].parity;
	commit_list_release(&l);
	return cp;
}

/* The parity/threshold state of each commit where the metrics exist: the
 * repository's thresholds.conf judged at the runs of each commit, the
 * parity verdict of the runs with parity series; commits without metrics
 * stay unjudged; a broken thresholds file is an error naming file:line. */
TEST(commits_parity_and_thresholds)
{
	unsetenv("CISCOPE_THRESHOLDS");
	unsetenv("CISCOPE_PARITY");
	struct store *st;
	struct hist *h = new_hist("judged", 6, 0, &st);
	/* bench: peak memory per commit, over the bound from commit 3 on */
	for (int i = 0; i < 6; i++) {
		int64_t b = add_run(st, h->sha[i], "bench", "success", "main", 0, 100 + i);
		double mem = i >= 3 ? 300 : 200;
		add_series(st, b, "bench.json", "peak_rss_mb", &mem, 1);
	}
	/* parity at 1, 2 and 4: the candidate diverges at 4; none at 5 */
	double ref[4] = {1, 2, 3, 4}, same[4] = {1, 2, 3, 4}, off[4] = {1, 2, 3.5, 4};
	for (int i = 1; i <= 4; i++) {
		if (i == 3)
			continue;
		int64_t p = add_run(st, h->sha[i], "parity", "success", "main", 0, 200 + i);
		add_series(st, p, "traj.csv", "energy_ref", ref, 4);
		add_series(st, p, "traj.csv", "energy_cand", i == 4 ? off : same, 4);
	}
	add_run(st, h->sha[5], "ci", "success", "main", 0, 300);
	char *cdir = xasprintf("%s/.ciscope", h->dir), *conf = xasprintf("%s/thresholds.conf", cdir);
	mkdir(cdir, 0755);
	FILE *f = fopen(conf, "w");
	fputs("threshold peak_rss_mb\n\tworkflow bench\n\twarn <= 250 MB\n\tfail <= 280 MB\n", f);
	fclose(f);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	struct commit_list l;
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	char *top = gitrepo_top(h->dir);
	CHECK_INT(commits_judge(st, top, &l, &err), 0);
	CHECK_INT(l.n, 6);
	/* rows newest first: row k is commit 5 - k */
	CHECK_INT(l.rows[5].th, TH_PASS);
	CHECK_INT(l.rows[5].th_breaches, 0);
	CHECK_INT(l.rows[2].th, TH_BREACH_FAIL); /* commit 3 */
	CHECK_INT(l.rows[2].th_breaches, 2);     /* over both bounds */
	CHECK_INT(l.rows[0].th, TH_BREACH_FAIL);
	CHECK_INT(l.n_th, 6);
	CHECK_INT(l.rows[4].parity, CP_PASS); /* commit 1 */
	CHECK_INT(l.rows[4].parity_runs, 1);
	CHECK_INT(l.rows[2].parity, CP_NONE); /* commit 3: no parity run */
	CHECK_INT(l.rows[1].parity, CP_FAIL); /* commit 4 */
	CHECK(l.rows[1].parity_channel && strstr(l.rows[1].parity_channel, "energy"));
	CHECK_INT(l.rows[0].parity, CP_NONE);
	CHECK_INT(l.n_parity, 3);
	CHECK_STR(commit_parity_name(CP_FAIL), "fail");
	commit_list_release(&l);
	/* the verdicts were stored once derived (one row per run: 10) */
	sqlite3_stmt *q;
	CHECK_INT(sqlite3_prepare_v2(st->db, "SELECT count(*), count(DISTINCT conf) FROM parity_verdicts",
				     -1, &q, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), 10);
	CHECK_INT(sqlite3_column_int(q, 1), 1);
	sqlite3_reset(q);
	/* a repository parity.conf loosening energy: commit 4 passes now, its
	 * stored verdict for the built-in tolerances notwithstanding */
	char *pconf = xasprintf("%s/parity.conf", cdir);
	f = fopen(pconf, "w");
	fputs("channel energy\n\tatol 1\n", f);
	fclose(f);
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	CHECK_INT(commits_judge(st, top, &l, &err), 0);
	CHECK_INT(l.rows[1].parity, CP_PASS);
	CHECK_INT(l.rows[4].parity, CP_PASS);
	CHECK_INT(l.n_parity, 3);
	commit_list_release(&l);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), 20);
	CHECK_INT(sqlite3_column_int(q, 1), 2);
	sqlite3_reset(q);
	/* within the first divergence (0.5), then below it: fails again */
	CHECK_INT(parity_of_commit4(st, g, top, pconf, "channel energy\n\tatol 0.6\n"), CP_PASS);
	CHECK_INT(parity_of_commit4(st, g, top, pconf, "channel energy\n\tatol 0.4\n"), CP_FAIL);
	/* the file gone: the built-in tolerances' stored verdicts again */
	unlink(pconf);
	free(pconf);
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	CHECK_INT(commits_judge(st, top, &l, &err), 0);
	CHECK_INT(l.rows[1].parity, CP_FAIL);
	CHECK(l.rows[1].parity_channel && strstr(l.rows[1].parity_channel, "energy"));
	commit_list_release(&l);
	/* the candidate of commit 4 brought back in line: its stored verdicts
	 * are dropped and it passes */
	CHECK_INT(store_exec(st, "UPDATE metric_points SET value = 3 WHERE value = 3.5", &err), 0);
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	CHECK_INT(commits_judge(st, top, &l, &err), 0);
	CHECK_INT(l.rows[1].parity, CP_PASS);
	commit_list_release(&l);
	sqlite3_finalize(q);
	/* a broken repository file: an error naming it, the rows unjudged */
	f = fopen(conf, "w");
	fputs("threshold peak_rss_mb\n\tfail <= lots\n", f);
	fclose(f);
	CHECK_INT(commits_list(st, g, NULL, 0, &l, &err), 0);
	CHECK_INT(commits_judge(st, top, &l, &err), -1);
	CHECK(strstr(err.msg, "thresholds.conf") != NULL);
	CHECK_INT(l.rows[0].th, TH_NONE);
	CHECK_INT(l.n_th, 0);
	commit_list_release(&l);
	free(top);
	free(conf);
	free(cdir);
	hist_done(g, st, h);
}

static bool same_walk(struct gitrepo *g, const char *from, const char *stop)
{
	struct cs_err err;
	err_clear(&err);
	struct gitrepo_commit *a = NULL, *b = NULL;
	int na = gitrepo_first_parent_ids(g, from, stop, 0, &a, &err);
	setenv("CISCOPE_NO_FP_CACHE", "1", 1);
	int nb = gitrepo_first_parent_ids(g, from, stop, 0, &b, &err);
	unsetenv("CISCOPE_NO_FP_CACHE");
	bool same = na == nb && na >= 0;
	for (int i = 0; same && i < na; i++)
		same = !strcmp(a[i].sha, b[i].sha);
	gitrepo_commits_free(a, na > 0 ? na : 0);
	gitrepo_commits_free(b, nb > 0 ? nb : 0);
	return same;
}

/* The first-parent chain cache ($GIT_DIR/ciscope-first-parent.cache):
 * walks from the cache agree with libgit2's on a merge-heavy history, from
 * the tip and from inside, with and without a stop, a stop that is a
 * merged side commit (not on the line: the walk is used), after the tip
 * moved on (the chain extends), and a damaged file is ignored. */
#define FPHDR (strlen("ciscope first-parent 2\n") + 1) /* magic, then R (to the root) or - */

/* The flag byte of the chain file: 'R' reaches the root, '-' not yet. */
static char fp_flag(const char *cache)
{
	FILE *f = fopen(cache, "rb");
	char all[64] = "";
	size_t got = f ? fread(all, 1, sizeof(all), f) : 0;
	if (f)
		fclose(f);
	return got >= FPHDR ? all[FPHDR - 1] : '?';
}

TEST(first_parent_cache)
{
	struct hist *h = xcalloc(1, sizeof(*h));
	make_hist(h, "fpcache", 60, 5);
	struct cs_err err;
	struct gitrepo *g = hist_repo(h, &err);
	char *cache = xasprintf("%s/.git/ciscope-first-parent.cache", h->dir);
	unlink(cache);
	CHECK(same_walk(g, h->sha[40], NULL)); /* builds the chain from 40 */
	struct stat sb;
	CHECK_INT(stat(cache, &sb), 0);
	CHECK_INT((long)sb.st_size, (long)(FPHDR + 41 * 20));
	CHECK(same_walk(g, h->sha[30], h->sha[10]));
	CHECK(same_walk(g, h->sha[59], h->sha[0])); /* a newer tip: the chain grows */
	CHECK_INT(stat(cache, &sb), 0);
	CHECK_INT((long)sb.st_size, (long)(FPHDR + 60 * 20));
	struct gitrepo_commit *lim = NULL; /* a limited walk from the chain */
	CHECK_INT(gitrepo_first_parent_ids(g, h->sha[50], NULL, 7, &lim, &err), 7);
	CHECK_STR(lim[0].sha, h->sha[50]);
	CHECK_STR(lim[6].sha, h->sha[44]);
	gitrepo_commits_free(lim, 7);
	CHECK_INT(gitrepo_first_parent_ids(g, h->sha[50], h->sha[47], 7, &lim, &err), 3);
	gitrepo_commits_free(lim, 3);
	CHECK(same_walk(g, h->sha[59], h->side[45])); /* a side commit as the stop */
	CHECK(same_walk(g, h->side[45], NULL));       /* a side commit as the start */
	CHECK(gitrepo_is_ancestor(g, h->sha[3], h->sha[50]));
	CHECK(!gitrepo_is_ancestor(g, h->sha[50], h->sha[3]));
	CHECK(gitrepo_is_ancestor(g, h->side[45], h->sha[50])); /* merged: the graph answers */
	/* a chain of another history (ids this repository does not have): the
	 * spot checks fail, the file is dropped and the walk answers */
	CHECK(same_walk(g, h->sha[59], NULL));
	{
		FILE *rf = fopen(cache, "rb");
		char all[4096];
		size_t got = fread(all, 1, sizeof(all), rf);
		fclose(rf);
		size_t m = FPHDR;
		CHECK(got == m + 60 * 20);
		for (int i = 1; i < 60; i++) /* the tip kept: the walk starts on the chain */
			all[m + 20 * (size_t)i] ^= 0x5a;
		FILE *wf = fopen(cache, "wb");
		fwrite(all, 1, got, wf);
		fclose(wf);
	}
	CHECK(same_walk(g, h->sha[59], NULL));
	CHECK_INT(stat(cache, &sb), -1);  /* dropped */
	CHECK(same_walk(g, h->sha[59], NULL));
	CHECK_INT(stat(cache, &sb), 0);   /* made again by the next walk */
	CHECK(gitrepo_is_ancestor(g, h->sha[3], h->sha[50]));
	/* damaged: a truncated id, then garbage; both ignored */
	FILE *f = fopen(cache, "ab");
	fputs("xyz", f);
	fclose(f);
	CHECK(same_walk(g, h->sha[59], NULL));
	f = fopen(cache, "wb");
	fputs("not a chain at all\n", f);
	fclose(f);
	CHECK(same_walk(g, h->sha[20], h->sha[5]));
	/* lazily: a walk from bad back to good keeps only that stretch; a walk
	 * that needs more extends it from its end, to the root when asked */
	unlink(cache);
	CHECK(same_walk(g, h->sha[50], h->sha[45]));
	CHECK_INT(stat(cache, &sb), 0);
	CHECK_INT((long)sb.st_size, (long)(FPHDR + 6 * 20)); /* 50..45, the stop kept */
	CHECK(fp_flag(cache) == '-');
	CHECK(same_walk(g, h->sha[50], h->sha[45]));     /* read from the chain */
	CHECK(same_walk(g, h->sha[48], h->sha[30]));     /* extended to 30 */
	CHECK_INT(stat(cache, &sb), 0);
	CHECK_INT((long)sb.st_size, (long)(FPHDR + 21 * 20));
	CHECK(fp_flag(cache) == '-');
	CHECK_INT(gitrepo_first_parent_ids(g, h->sha[50], NULL, 25, &lim, &err), 25); /* to 26 */
	CHECK_STR(lim[24].sha, h->sha[26]);
	gitrepo_commits_free(lim, 25);
	CHECK(same_walk(g, h->sha[55], h->sha[40]));     /* a newer tip joins the chain */
	CHECK(same_walk(g, h->sha[55], h->side[45]));    /* a side stop: the graph walk */
	CHECK(same_walk(g, h->sha[55], NULL));           /* to the root */
	CHECK(fp_flag(cache) == 'R');
	CHECK_INT(stat(cache, &sb), 0);
	CHECK_INT((long)sb.st_size, (long)(FPHDR + 56 * 20));
	CHECK(same_walk(g, h->sha[20], h->sha[5]));
	free(cache);
	gitrepo_close(g);
	free(h);
}
