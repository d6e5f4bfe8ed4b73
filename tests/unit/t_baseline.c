/* t_baseline.c - choosing the baseline of a run over a real git repository
 * built here with libgit2 (fixed author and dates) and a real index:
 * the last green first-parent ancestor, the newest green run in time
 * without the checkout, a pull request's fork point on its base branch
 * (after the pull request was merged), attempts, and no candidate. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/baseline.h"
#include "core/gitrepo.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

static git_repository *repo;
static git_tree *tree;
static git_signature *sig;

/* A commit with the given parents (NULL-terminated hex ids); its id into out. */
static void commit(const char *msg, const char *p1, const char *p2, char out[41])
{
	const git_commit *parents[2] = {NULL, NULL};
	git_commit *pc[2] = {NULL, NULL};
	const char *ps[2] = {p1, p2};
	int n = 0;
	for (int i = 0; i < 2; i++) {
		if (!ps[i])
			continue;
		git_oid id;
		git_oid_fromstr(&id, ps[i]);
		git_commit_lookup(&pc[n], repo, &id);
		parents[n] = pc[n];
		n++;
	}
	git_oid id;
	if (git_commit_create(&id, repo, NULL, sig, sig, NULL, msg, tree, (size_t)n, parents) != 0) {
		fprintf(stderr, "t_baseline: cannot commit: %s\n", git_error_last()->message);
		exit(2);
	}
	git_oid_tostr(out, 41, &id);
	for (int i = 0; i < n; i++)
		git_commit_free(pc[i]);
}

static void branch(const char *name, const char *sha)
{
	git_oid id;
	git_reference *ref = NULL;
	git_oid_fromstr(&id, sha);
	char full[200];
	snprintf(full, sizeof(full), "refs/heads/%s", name);
	git_reference_create(&ref, repo, full, &id, 1, NULL);
	git_reference_free(ref);
}

static struct store *st;
static int64_t next_run = 100;

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "t_baseline: %s: %s\n", sql, msg);
		exit(2);
	}
}

/* A run; returns its provider id. minute orders them in time. */
static int64_t add_run(int64_t id, int attempt, const char *wf, const char *event,
		       const char *br, const char *sha, const char *concl, int minute)
{
	char *sql = sqlite3_mprintf(
		"INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, event, head_branch, "
		"head_sha, status, conclusion, created_at, imported_at) VALUES (1, %lld, %d, %Q, %Q, "
		"%Q, %Q, 'completed', %Q, %lld, 0)",
		(long long)id, attempt, wf, event, br, sha, concl,
		(long long)(1700000000000LL + minute * 60000LL));
	exec(sql);
	sqlite3_free(sql);
	return id;
}

static int64_t run_at(const char *wf, const char *event, const char *br, const char *sha,
		      const char *concl, int minute)
{
	return add_run(next_run++, 1, wf, event, br, sha, concl, minute);
}

static char c[8][41], f1[41], f2[41], merge[41], side[41];
static struct gitrepo *g;

static void setup(void)
{
	if (st)
		return;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/repo", t_tmpdir());
	git_libgit2_init();
	if (git_repository_init(&repo, dir, 0) != 0)
		exit(2);
	git_signature_new(&sig, "Test", "test@example.com", 1234567890, 0);
	git_treebuilder *tb = NULL;
	git_oid tid;
	git_treebuilder_new(&tb, repo, NULL);
	git_treebuilder_write(&tid, tb);
	git_treebuilder_free(tb);
	git_tree_lookup(&tree, repo, &tid);
	/* main: c0 - c1 - ... - c5 - merge(c5, f2) ; feature: c2 - f1 - f2 ;
	 * side: a commit off c1 that main never contains */
	commit("c0", NULL, NULL, c[0]);
	for (int i = 1; i < 6; i++)
		commit("c", c[i - 1], NULL, c[i]);
	commit("f1", c[2], NULL, f1);
	commit("f2", f1, NULL, f2);
	commit("merge", c[5], f2, merge);
	commit("side", c[1], NULL, side);
	branch("main", merge);
	branch("feature", f2);
	git_tree_free(tree);
	git_signature_free(sig);
	git_repository_free(repo);
	git_libgit2_shutdown();
	g = gitrepo_open(dir);

	if (!g)
		exit(2);
	st = t_fresh_store("baseline");
	exec("INSERT INTO repos (id, slug) VALUES (1, 't/baseline')");
}

static void choose(int64_t id, int attempt, bool with_git, struct baseline *b)
{
	struct cs_err err;
	struct run r;
	char spec[40];
	snprintf(spec, sizeof(spec), "%lld:%d", (long long)id, attempt);
	CHECK_OK(store_find_run(st, spec, &r, &err));
	CHECK_OK(baseline_choose(st, with_git ? g : NULL, &r, NULL, b, &err));
	run_free(&r);
}

TEST(baseline_last_green_ancestor)
{
	setup();
	int64_t g1 = run_at("ci", "push", "main", c[1], "success", 1);
	int64_t g2 = run_at("ci", "push", "main", c[2], "success", 2);
	run_at("ci", "push", "main", c[3], "failure", 3);
	/* green, on main, newer than c2's run, but not an ancestor of c4 */
	int64_t gs = run_at("ci", "push", "main", side, "success", 4);
	/* another workflow's green run at c3 does not count */
	run_at("lint", "push", "main", c[3], "success", 4);
	int64_t r = run_at("ci", "push", "main", c[4], "failure", 5);
	(void)g1;
	struct baseline b;
	choose(r, 1, true, &b);
	CHECK(b.found);
	CHECK_INT(b.base.provider_id, g2);
	CHECK_STR(b.reason, "last green ancestor, 2 commits back");
	baseline_release(&b);

	/* without the checkout: the newest green run in time */
	choose(r, 1, false, &b);
	CHECK(b.found);
	CHECK_INT(b.base.provider_id, gs);
	CHECK(strstr(b.reason, "newest green run on main before this one, ") == b.reason);
	CHECK(strstr(b.reason, " earlier") != NULL);
	CHECK(strstr(b.reason, "no git checkout") != NULL);
	baseline_release(&b);

	/* a green run at the run's own commit is not an earlier commit */
	int64_t same = run_at("ci", "push", "main", c[4], "success", 6);
	choose(r, 1, true, &b);
	CHECK_INT(b.base.provider_id, g2);
	baseline_release(&b);
	(void)same;
}

TEST(baseline_pull_request_forks_from_its_base)
{
	setup();
	/* the base branch's runs: c2 green (where the feature forked), c5 green */
	int64_t at_fork = run_at("pr-ci", "push", "main", c[2], "success", 10);
	run_at("pr-ci", "push", "main", c[5], "success", 11);
	int64_t pr = run_at("pr-ci", "pull_request", "feature", f2, "failure", 12);
	struct baseline b;
	choose(pr, 1, true, &b);
	CHECK(b.found);
	CHECK_INT(b.base.provider_id, at_fork);
	char want[200];
	snprintf(want, sizeof(want), "pull request base: main where this branch forked, %.7s", c[2]);
	CHECK_STR(b.reason, want);
	baseline_release(&b);

	/* no green run at the fork point: the nearest before it */
	run_at("pr2", "push", "main", c[1], "success", 13);
	run_at("pr2", "push", "main", c[5], "success", 14);
	int64_t pr2 = run_at("pr2", "pull_request", "feature", f2, "failure", 15);
	choose(pr2, 1, true, &b);
	CHECK(b.found);
	snprintf(want, sizeof(want),
		 "pull request base: main, last green 1 commit before this branch forked at %.7s",
		 c[2]);
	CHECK_STR(b.reason, want);
	baseline_release(&b);

	/* a push to the feature branch with no green run of its own */
	int64_t push = run_at("pr-ci", "push", "feature", f2, "failure", 16);
	choose(push, 1, true, &b);
	CHECK(b.found);
	CHECK_INT(b.base.provider_id, at_fork);
	CHECK(strstr(b.reason, "no green run on this branch") == b.reason);
	baseline_release(&b);
}

TEST(baseline_attempts_are_named)
{
	setup();
	run_at("att", "push", "main", c[2], "success", 20);
	add_run(900, 1, "att", "push", "main", c[3], "failure", 21);
	add_run(900, 2, "att", "push", "main", c[3], "success", 22);
	struct baseline b;
	choose(900, 1, true, &b);
	CHECK(b.found);
	CHECK_STR(b.note, "attempt 2 of this run passed on the same commit: the failure may be flaky");
	baseline_release(&b);
	choose(900, 2, true, &b);
	CHECK_STR(b.note, "attempt 1 of this run failed");
	baseline_release(&b);
}

TEST(baseline_no_candidate)
{
	setup();
	int64_t r = run_at("lonely", "push", "main", c[4], "failure", 30);
	run_at("lonely", "push", "main", c[3], "failure", 29);
	run_at("lonely", "push", "dev", c[2], "success", 28); /* another branch, not main */
	struct baseline b;
	choose(r, 1, true, &b);
	CHECK(!b.found);
	CHECK_STR(b.reason,
		  "no successful run of lonely on main at an earlier commit to compare with");
	baseline_release(&b);
}

TEST(gitrepo_fork_point_and_first_parents)
{
	setup();
	char out[41];
	CHECK(gitrepo_fork_point(g, f2, "main", out));
	CHECK_STR(out, c[2]);
	CHECK(gitrepo_fork_point(g, c[4], "main", out));
	CHECK_STR(out, c[4]);
	CHECK(!gitrepo_fork_point(g, f2, "no-such-branch", out));
	CHECK(!gitrepo_fork_point(g, "0123456789012345678901234567890123456789", "main", out));
	char(*ids)[GITREPO_SHA_LEN + 1];
	int n = gitrepo_first_parents(g, merge, false, 10, &ids);
	CHECK_INT(n, 6); /* c5 .. c0: the merged feature is not first-parent history */
	if (n == 6) {
		CHECK_STR(ids[0], c[5]);
		CHECK_STR(ids[5], c[0]);
	}
	free(ids);
	CHECK_INT(gitrepo_first_parents(NULL, merge, true, 10, &ids), -1);
	CHECK_INT(gitrepo_first_parents(g, "zz", true, 10, &ids), -1);
}
