/* t_gitrepo.c - remote URLs, commit subjects, the top of a checkout and the
 * user's git name (moved here from t_triage.c with the code). The
 * repositories are built in the tmpdir with libgit2 (fixed author and dates),
 * so nothing depends on the machine's git configuration. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gitrepo.h"
#include "test.h"

/* A repository at dir with one commit per message (each a child of the
 * last); the commits' hex ids into shas. */
static void make_repo(const char *dir, const char *const *messages, int n, char shas[][41])
{
	git_libgit2_init();
	git_repository *repo = NULL;
	if (git_repository_init(&repo, dir, 0) != 0) {
		fprintf(stderr, "cannot init %s: %s\n", dir, git_error_last()->message);
		exit(2);
	}
	git_signature *sig = NULL;
	git_signature_new(&sig, "Test", "test@example.com", 1234567890, 0);
	git_treebuilder *tb = NULL;
	git_treebuilder_new(&tb, repo, NULL);
	git_oid tree_id, parent_id;
	git_treebuilder_write(&tree_id, tb);
	git_treebuilder_free(tb);
	git_tree *tree = NULL;
	git_tree_lookup(&tree, repo, &tree_id);
	git_commit *parent = NULL;
	for (int i = 0; i < n; i++) {
		git_oid id;
		const git_commit *parents[1] = {parent};
		if (git_commit_create(&id, repo, "HEAD", sig, sig, NULL, messages[i], tree,
				      parent ? 1 : 0, parents) != 0) {
			fprintf(stderr, "cannot commit: %s\n", git_error_last()->message);
			exit(2);
		}
		git_oid_tostr(shas[i], 41, &id);
		git_commit_free(parent);
		git_commit_lookup(&parent, repo, &id);
		parent_id = id;
	}
	(void)parent_id;
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

TEST(gitrepo_subjects)
{
	char dir[512], sub[600];
	snprintf(dir, sizeof(dir), "%s/repo", t_tmpdir());
	const char *msgs[] = {
		"First commit\n\nWith a body.\n",
		"Fix flaky test in CI\r\n",
		"wrapped\nsubject line\n\nbody",
		"\xff\x1b]52;c;aGk=\x07 hostile subject\n",
	};
	char shas[4][41];
	make_repo(dir, msgs, 4, shas);
	snprintf(sub, sizeof(sub), "%s/deeper", dir);
	mkdir(sub, 0755);

	/* opened from a folder inside the checkout */
	struct gitrepo *g = gitrepo_open(sub);
	CHECK(g != NULL);
	struct buf b = BUF_INIT;
	CHECK(gitrepo_subject(g, shas[0], &b));
	CHECK_STR(buf_cstr(&b), "First commit");
	CHECK(gitrepo_subject(g, shas[1], &b));
	CHECK_STR(buf_cstr(&b), "Fix flaky test in CI");
	/* git's summary joins the first paragraph's lines */
	CHECK(gitrepo_subject(g, shas[2], &b));
	CHECK_STR(buf_cstr(&b), "wrapped subject line");
	/* bytes come back as they are: the screen sanitises them */
	CHECK(gitrepo_subject(g, shas[3], &b));
	CHECK(strstr(buf_cstr(&b), "hostile subject") != NULL);

	/* the cached answer again, and an abbreviated id, in upper case too */
	CHECK(gitrepo_subject(g, shas[0], &b));
	CHECK_STR(buf_cstr(&b), "First commit");
	char abbrev[9];
	memcpy(abbrev, shas[1], 8);
	abbrev[8] = '\0';
	CHECK(gitrepo_subject(g, abbrev, &b));
	CHECK_STR(buf_cstr(&b), "Fix flaky test in CI");
	for (char *p = abbrev; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	CHECK(gitrepo_subject(g, abbrev, &b));

	/* absent, malformed, too short, too long, NULL: false, out untouched */
	buf_reset(&b);
	buf_adds(&b, "keep");
	CHECK(!gitrepo_subject(g, "0123456789012345678901234567890123456789", &b));
	CHECK(!gitrepo_subject(g, "0123456789012345678901234567890123456789", &b)); /* cached miss */
	CHECK(!gitrepo_subject(g, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", &b));
	CHECK(!gitrepo_subject(g, "abc", &b));
	CHECK(!gitrepo_subject(g, "01234567890123456789012345678901234567890", &b));
	CHECK(!gitrepo_subject(g, "", &b));
	CHECK(!gitrepo_subject(g, NULL, &b));
	CHECK(!gitrepo_subject(g, "abcdefg\n", &b));
	CHECK_STR(buf_cstr(&b), "keep");

	/* many lookups through the small cache keep giving right answers */
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 4; i++) {
			CHECK(gitrepo_subject(g, shas[i], &b));
			char miss[41];
			snprintf(miss, sizeof(miss), "%040d", round * 1000 + i);
			CHECK(!gitrepo_subject(g, miss, &b));
		}
	CHECK(gitrepo_subject(g, shas[0], &b));
	CHECK_STR(buf_cstr(&b), "First commit");
	gitrepo_close(g);
	buf_release(&b);

	/* NULL repository: every lookup is a miss */
	CHECK(!gitrepo_subject(NULL, shas[0], &b));
	gitrepo_close(NULL);
}

TEST(gitrepo_outside)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/not-a-repo", t_tmpdir());
	mkdir(dir, 0755);
	/* the tmpdir is outside any checkout (TMPDIR is under /tmp in tests) */
	struct gitrepo *g = gitrepo_open(dir);
	if (g) {
		/* a checkout above the tmpdir would be found; say so rather than fail */
		fprintf(stderr, "note: %s is inside a git checkout\n", dir);
		gitrepo_close(g);
	}
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/does/not/exist", t_tmpdir());
	CHECK(gitrepo_open(missing) == NULL);
}

TEST(gitrepo_remote_urls)
{
	struct buf slug = BUF_INIT, host = BUF_INIT;
	CHECK(gitrepo_parse_remote("https://github.com/o/r.git", &slug, &host));
	CHECK_STR(buf_cstr(&slug), "o/r");
	CHECK_STR(buf_cstr(&host), "github.com");
	CHECK(gitrepo_parse_remote("git@github.com:o/r.git", &slug, &host));
	CHECK_STR(buf_cstr(&slug), "o/r");
	CHECK(!gitrepo_parse_remote("/local/path", &slug, &host));
	buf_release(&slug);
	buf_release(&host);
}

TEST(gitrepo_top_of_checkout)
{
	char dir[512], sub[600], missing[600];
	snprintf(dir, sizeof(dir), "%s/toprepo", t_tmpdir());
	const char *msgs[] = {"one\n"};
	char shas[1][41];
	make_repo(dir, msgs, 1, shas);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	mkdir(sub, 0755);
	char want[600];
	snprintf(want, sizeof(want), "%s/", dir);
	char *top = gitrepo_top(dir);
	CHECK_STR(top, want);
	free(top);
	top = gitrepo_top(sub); /* from deep inside: the same top */
	CHECK_STR(top, want);
	free(top);
	snprintf(missing, sizeof(missing), "%s/no/such/dir", t_tmpdir());
	CHECK(gitrepo_top(missing) == NULL);
}

/* gitrepo_find_top() finds the top libgit2 finds, without libgit2: from the
 * top, from deep inside, through a "gitdir:" file (a linked worktree); not
 * in a folder whose .git holds no HEAD, nor outside any checkout. */
TEST(find_top_without_libgit2)
{
	char dir[512], sub[600], want[4200], wt[600], p[700];
	snprintf(dir, sizeof(dir), "%s/findtop", t_tmpdir());
	const char *msgs[] = {"one\n"};
	char shas[1][41];
	make_repo(dir, msgs, 1, shas);
	char *real = realpath(dir, NULL);
	CHECK(real != NULL);
	if (!real)
		return;
	snprintf(want, sizeof(want), "%s/", real);
	snprintf(sub, sizeof(sub), "%s/x", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/x/y", dir);
	mkdir(sub, 0755);
	char *top = gitrepo_find_top(dir), *lib = gitrepo_top(dir);
	CHECK_STR(top, want);
	CHECK_STR(lib, want);
	free(top);
	free(lib);
	top = gitrepo_find_top(sub);
	CHECK_STR(top, want);
	free(top);
	/* a linked worktree: .git is a file naming the repository's folder */
	snprintf(wt, sizeof(wt), "%s/linked", t_tmpdir());
	mkdir(wt, 0755);
	snprintf(p, sizeof(p), "%s/.git", wt);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "gitdir: %s/.git\n", real);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/deep", wt);
	mkdir(p, 0755);
	char *rwt = realpath(wt, NULL);
	snprintf(want, sizeof(want), "%s/", rwt ? rwt : wt);
	top = gitrepo_find_top(p);
	CHECK_STR(top, want);
	free(top);
	free(rwt);
	/* a .git folder without HEAD is no checkout; nor is a missing folder */
	snprintf(p, sizeof(p), "%s/nohead", t_tmpdir());
	mkdir(p, 0755);
	snprintf(sub, sizeof(sub), "%s/nohead/.git", t_tmpdir());
	mkdir(sub, 0755);
	top = gitrepo_find_top(p);
	lib = gitrepo_top(p);
	CHECK(top == NULL || lib != NULL); /* above the temporary folder, both or neither */
	if (top && lib)
		CHECK_STR(top, lib);
	free(top);
	free(lib);
	snprintf(p, sizeof(p), "%s/no/such/dir", t_tmpdir());
	CHECK(gitrepo_find_top(p) == NULL);
	free(real);
}

TEST(user_name_from_git_config)
{
	char repo[512];
	snprintf(repo, sizeof(repo), "%s/who", t_tmpdir());
	const char *msgs[] = {"init\n"};
	char shas[1][41];
	make_repo(repo, msgs, 1, shas);
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/.git/config", repo);
	FILE *fp = fopen(cfg, "a");
	CHECK(fp != NULL);
	if (fp) {
		fputs("[user]\n\tname = Tess Ter\n", fp);
		fclose(fp);
	}
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(chdir(repo) == 0);
	struct buf who = BUF_INIT;
	gitrepo_user_name(&who);
	CHECK(chdir(cwd) == 0);
	CHECK_STR(buf_cstr(&who), "Tess Ter");
	buf_release(&who);
}
