/* t_ghdispatch.c - core/ghdispatch.c: the requests of `bisect dispatch`
 * as they will be sent (the branch ref, its URL, the run listing URL, the
 * DELETE shown without the token), branch names (hostile ones refused), and
 * finding the run of a sha in a run listing (real shape and hostile
 * bodies). */
#include <stdlib.h>
#include <string.h>

#include "core/ghdispatch.h"
#include "test.h"

static const char *SHA = "5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607";

TEST(ghd_branch_names)
{
	CHECK(gh_branch_name_ok("ciscope-bisect-5f0c2e9b41aa"));
	CHECK(gh_branch_name_ok("tmp/bisect-5f0c2e9b41aa"));
	CHECK(gh_branch_name_ok("a.b_c"));
	const char *bad[] = {"", "-x", ".x", "/x", "x/", "x.", "a..b", "a//b", "a/.b", "x.lock",
			     "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a@{b", "a\nb",
			     "\xc3\xa9t\xc3\xa9", "a;rm -rf", NULL};
	for (int i = 0; bad[i]; i++)
		CHECK(!gh_branch_name_ok(bad[i]));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(!gh_branch_name_ok(longname));
	CHECK(!gh_branch_name_ok(NULL));
}

TEST(ghd_requests)
{
	struct gh_target t = {.slug = "tidewater/orrery", .api_base = "https://api.github.com"};
	struct gh_post p;
	gh_build_ref_create(&t, "ciscope-bisect-5f0c2e9b41aa", SHA, &p);
	CHECK_STR(p.url, "https://api.github.com/repos/tidewater/orrery/git/refs");
	CHECK_STR(p.body, "{\"ref\":\"refs/heads/ciscope-bisect-5f0c2e9b41aa\",\"sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\"}");
	gh_post_free(&p);
	char *u = gh_ref_url(&t, "tmp/bisect-5f0c2e9b41aa");
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/git/refs/heads/tmp/bisect-5f0c2e9b41aa");
	free(u);
	u = gh_dispatch_runs_url(&t, "ci.yml", "tmp/b");
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/actions/workflows/ci.yml/runs"
		     "?branch=tmp%2Fb&event=workflow_dispatch&per_page=30");
	free(u);
	struct buf d = BUF_INIT;
	gh_delete_describe("https://api.github.com/repos/o/r/git/refs/heads/x", GH_TOK_GH_TOKEN, &d);
	CHECK(strstr(d.data, "DELETE https://api.github.com/repos/o/r/git/refs/heads/x\n") == d.data);
	CHECK(strstr(d.data, "<the token from GH_TOKEN, not shown>") != NULL);
	buf_reset(&d);
	gh_delete_describe("https://x/y", GH_TOK_NONE, &d);
	CHECK(strstr(d.data, "no token was found") != NULL);
	buf_release(&d);
}

TEST(ghd_find_run)
{
	struct cs_err err;
	err_clear(&err);
	struct gh_found_run r;
	/* the shape GitHub answers: newest first, other shas around */
	const char *body =
		"{\"total_count\":3,\"workflow_runs\":["
		"{\"id\":9000000003,\"head_sha\":\"0000000000000000000000000000000000000000\",\"status\":\"queued\"},"
		"{\"id\":9000000002,\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\",\"status\":\"completed\","
		"\"conclusion\":\"failure\",\"run_attempt\":2},"
		"{\"id\":9000000001,\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\",\"status\":\"completed\","
		"\"conclusion\":\"success\"}]}";
	CHECK_INT(gh_find_run_for_sha(body, strlen(body), SHA, 0, &r, &err), 1);
	CHECK(r.id == 9000000002);
	CHECK_INT(r.attempt, 2);
	CHECK_STR(r.status, "completed");
	CHECK_STR(r.conclusion, "failure");
	/* an earlier dispatch's run is not the new one */
	CHECK_INT(gh_find_run_for_sha(body, strlen(body), SHA, 9000000002, &r, &err), 0);
	CHECK_INT(gh_find_run_for_sha(body, strlen(body), SHA, 9000000001, &r, &err), 1);
	CHECK(r.id == 9000000002);
	/* queued: no conclusion yet (null) */
	const char *q = "{\"workflow_runs\":[{\"id\":7,\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\","
			"\"status\":\"queued\",\"conclusion\":null}]}";
	CHECK_INT(gh_find_run_for_sha(q, strlen(q), SHA, 0, &r, &err), 1);
	CHECK_STR(r.conclusion, "");
	CHECK_INT(r.attempt, 1);
	/* hostile: wrong types, huge ids, long strings, not a listing */
	const char *h1 = "{\"workflow_runs\":[{\"id\":\"7\",\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\"},"
			 "{\"id\":-4,\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\"},"
			 "{\"id\":1e300,\"head_sha\":\"5f0c2e9b41aa7d21a9c3b8e4f0d1c2b3a4e5f607\"},"
			 "{\"id\":8,\"head_sha\":5},7,null,\"x\"]}";
	CHECK_INT(gh_find_run_for_sha(h1, strlen(h1), SHA, 0, &r, &err), 0);
	char big[400];
	snprintf(big, sizeof(big), "{\"workflow_runs\":[{\"id\":9,\"head_sha\":\"%s\",\"status\":\"%0200d\","
		 "\"run_attempt\":1e12}]}", SHA, 0);
	CHECK_INT(gh_find_run_for_sha(big, strlen(big), SHA, 0, &r, &err), 1);
	CHECK_INT((int)strlen(r.status), 31);
	CHECK_INT(r.attempt, 1);
	const char *bad[] = {"", "null", "[]", "{\"workflow_runs\":{}}", "{\"workflow_runs\":[", "\x00\xff", NULL};
	for (int i = 0; bad[i]; i++) {
		err_clear(&err);
		CHECK_INT(gh_find_run_for_sha(bad[i], strlen(bad[i]), SHA, 0, &r, &err), -1);
		CHECK(strstr(err.msg, "not a GitHub run listing") != NULL);
	}
	CHECK_INT(gh_find_run_for_sha(NULL, 0, SHA, 0, &r, &err), -1);
}
