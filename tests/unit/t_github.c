/* t_github.c - core/github.c without a network: Link headers (real and
 * hostile), URLs, remotes and API bases, the retry and rate-limit decisions,
 * Retry-After and HTTP dates, token discovery order, error messages, and
 * the writes (rerun, dispatch) as they will be sent. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/github.h"
#include "test.h"

/* --- Link --------------------------------------------------------------------------------- */
TEST(link_real_github_header)
{
	/* hub4j GHWorkflowRunTest/testJobs/mappings/6-r_h_g_actions_runs.json */
	const char *h = "<https://api.github.com/repositories/348674220/actions/runs?branch=main&"
			"status=completed&event=workflow_dispatch&per_page=20&page=2>; rel=\"next\", "
			"<https://api.github.com/repositories/348674220/actions/runs?branch=main&"
			"status=completed&event=workflow_dispatch&per_page=20&page=5>; rel=\"last\"";
	struct buf u = BUF_INIT;
	CHECK(gh_link_find(h, "next", &u));
	CHECK_STR(u.data, "https://api.github.com/repositories/348674220/actions/runs?branch=main&"
			  "status=completed&event=workflow_dispatch&per_page=20&page=2");
	CHECK(gh_link_find(h, "last", &u));
	CHECK(str_ends(u.data, "page=5"));
	CHECK(!gh_link_find(h, "prev", &u));
	buf_release(&u);
}

TEST(link_forms)
{
	struct buf u = BUF_INIT;
	/* all four relations, as on a middle page */
	const char *h = "<https://x/r?page=1>; rel=\"prev\", <https://x/r?page=3>; rel=\"next\", "
			"<https://x/r?page=9>; rel=\"last\", <https://x/r?page=1>; rel=\"first\"";
	CHECK(gh_link_find(h, "next", &u));
	CHECK_STR(u.data, "https://x/r?page=3");
	CHECK(gh_link_find(h, "first", &u));
	CHECK_STR(u.data, "https://x/r?page=1");
	/* several relations in one value, unquoted rel, other parameters first,
	 * odd spacing and case */
	CHECK(gh_link_find("<https://a/1>; rel=\"last next\"", "next", &u));
	CHECK_STR(u.data, "https://a/1");
	CHECK(gh_link_find("<https://a/2>;rel=next", "next", &u));
	CHECK_STR(u.data, "https://a/2");
	CHECK(gh_link_find("<https://a/3> ; title=\"a;b,c\" ; REL=\"Next\"", "next", &u));
	CHECK_STR(u.data, "https://a/3");
	CHECK(gh_link_find("  ,, <https://a/4>; rel=\"next\"  ", "next", &u));
	CHECK_STR(u.data, "https://a/4");
	/* commas and semicolons inside the URL belong to it */
	CHECK(gh_link_find("<https://a/x?created=2024-01-01..2024-02-01,a;b>; rel=\"next\"", "next",
			   &u));
	CHECK_STR(u.data, "https://a/x?created=2024-01-01..2024-02-01,a;b");
	/* "nextpage" is not "next" */
	CHECK(!gh_link_find("<https://a/5>; rel=\"nextpage\"", "next", &u));
	buf_release(&u);
}

TEST(link_hostile)
{
	struct buf u = BUF_INIT;
	const char *bad[] = {
		"",
		"rel=\"next\"",
		"https://a/1; rel=\"next\"",
		"<https://a/1; rel=\"next\"",
		"<https://a/1>; rel=\"next",
		"<https://a/1> garbage; rel=\"next\"",
		"<>; rel=\"next\"",
		"<https://a/ 1>; rel=\"next\"",
		"<https://a/\r\nX-Evil: 1>; rel=\"next\"",
		"<https://a/1>; rel=\"prev\" <https://a/2>; rel=\"next\"",
		";;;;",
		"<<<<>>>>",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (gh_link_find(bad[i], "next", &u))
			t_fail(__FILE__, __LINE__, "bad[%zu] gave a next link '%s'", i, u.data);
	}
	CHECK(!gh_link_find(NULL, "next", &u));
	/* a long header: no crash, linear */
	struct buf h = BUF_INIT;
	for (int i = 0; i < 20000; i++)
		buf_addf(&h, "<https://a/%d>; rel=\"x\", ", i);
	buf_adds(&h, "<https://a/end>; rel=\"next\"");
	CHECK(gh_link_find(h.data, "next", &u));
	CHECK_STR(u.data, "https://a/end");
	buf_release(&h);
	buf_release(&u);
}

/* --- URLs ------------------------------------------------------------------------------------ */
TEST(url_building)
{
	struct gh_target t = {.slug = "tidewater/orrery", .api_base = "https://api.github.com"};
	char *u = gh_runs_url(&t, NULL, NULL, NULL, 100);
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/actions/runs?per_page=100");
	free(u);
	u = gh_runs_url(&t, "ci.yml", "fix/a b&c=d", "2024-01-02", 100);
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/actions/workflows/ci.yml/runs"
		     "?per_page=100&branch=fix%2Fa%20b%26c%3Dd&created=%3E%3D2024-01-02");
	free(u);
	u = gh_runs_url(&t, "118203344", NULL, NULL, 30);
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/actions/workflows/118203344/runs"
		     "?per_page=30");
	free(u);
	u = gh_repo_url(&t, "/actions/runs/%d/jobs?filter=all", 42);
	CHECK_STR(u, "https://api.github.com/repos/tidewater/orrery/actions/runs/42/jobs?filter=all");
	free(u);
	struct buf b = BUF_INIT;
	gh_url_escape(&b, "a-Z_0.9~ /?#%\xc3\xa9");
	CHECK_STR(buf_cstr(&b), "a-Z_0.9~%20%2F%3F%23%25%C3%A9");
	buf_release(&b);
	CHECK(gh_since_valid("2024-01-02"));
	CHECK(gh_since_valid("2024-01-02T10:00:00Z"));
	CHECK(!gh_since_valid("2024-1-2"));
	CHECK(!gh_since_valid("yesterday"));
	CHECK(!gh_since_valid("2024-01-02&x=1"));
}

TEST(api_bases)
{
	struct buf b = BUF_INIT;
	gh_api_base_for_host("github.com", &b);
	CHECK_STR(b.data, "https://api.github.com");
	gh_api_base_for_host("GitHub.com", &b);
	CHECK_STR(b.data, "https://api.github.com");
	gh_api_base_for_host("ssh.github.com", &b);
	CHECK_STR(b.data, "https://api.github.com");
	gh_api_base_for_host("ghe.example.com", &b);
	CHECK_STR(b.data, "https://ghe.example.com/api/v3");
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(gh_api_base_check("https://ghe.example.com/api/v3/", &b, &err));
	CHECK_STR(b.data, "https://ghe.example.com/api/v3");
	CHECK_OK(gh_api_base_check("http://127.0.0.1:8080", &b, &err));
	CHECK_STR(b.data, "http://127.0.0.1:8080");
	CHECK(gh_api_base_check("ftp://x", &b, &err) < 0);
	CHECK(gh_api_base_check("https://user:pw@api.github.com", &b, &err) < 0);
	CHECK(strstr(err.msg, "user name or password") != NULL);
	CHECK(strstr(err.msg, "pw") == NULL);
	CHECK(gh_api_base_check("https://api.github.com?x=1", &b, &err) < 0);
	CHECK(gh_api_base_check("https://api.github.com/a b", &b, &err) < 0);
	CHECK(gh_api_base_check("https://:80", &b, &err) < 0);
	CHECK(gh_api_base_check("https://h:99999", &b, &err) < 0);
	gh_api_host("https://api.github.com", &b);
	CHECK_STR(b.data, "github.com");
	gh_api_host("https://ghe.example.com/api/v3", &b);
	CHECK_STR(b.data, "ghe.example.com");
	gh_api_host("http://127.0.0.1:8080", &b);
	CHECK_STR(b.data, "127.0.0.1:8080");
	gh_api_host("http://[::1]:9", &b);
	CHECK_STR(b.data, "[::1]:9");
	buf_release(&b);
}

TEST(target_from_remote_forms)
{
	static const struct {
		const char *arg, *slug, *api, *host;
	} cases[] = {
		{"tidewater/orrery", "tidewater/orrery", "https://api.github.com", "github.com"},
		{"https://github.com/tidewater/orrery.git", "tidewater/orrery", "https://api.github.com",
		 "github.com"},
		{"git@github.com:tidewater/orrery.git", "tidewater/orrery", "https://api.github.com",
		 "github.com"},
		{"ssh://git@ssh.github.com:443/tidewater/orrery.git", "tidewater/orrery",
		 "https://api.github.com", "github.com"},
		{"https://ghe.example.com/team/app", "team/app", "https://ghe.example.com/api/v3",
		 "ghe.example.com"},
		{"ssh://git@ghe.example.com:2222/team/app.git", "team/app",
		 "https://ghe.example.com/api/v3", "ghe.example.com"},
		{"git@ghe.example.com:team/app.git", "team/app", "https://ghe.example.com/api/v3",
		 "ghe.example.com"},
	};
	unsetenv("GITHUB_API_URL");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gh_target t;
		struct cs_err err;
		err_clear(&err);
		CHECK_OK(gh_target_resolve(cases[i].arg, NULL, NULL, &t, &err));
		CHECK_STR(t.slug, cases[i].slug);
		CHECK_STR(t.api_base, cases[i].api);
		CHECK_STR(t.host, cases[i].host);
		gh_target_free(&t);
	}
	const char *bad[] = {"orrery", "a/b/c", "../x", "a/..", "a/b?x", "file:///tmp/a/b",
			     "a b/c"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gh_target t;
		struct cs_err err;
		err_clear(&err);
		if (gh_target_resolve(bad[i], NULL, NULL, &t, &err) == 0) {
			t_fail(__FILE__, __LINE__, "'%s' was taken as %s", bad[i], t.slug);
			gh_target_free(&t);
		}
	}
}

TEST(target_api_url_precedence)
{
	struct gh_target t;
	struct cs_err err;
	err_clear(&err);
	setenv("GITHUB_API_URL", "https://env.example/api/v3", 1);
	/* GITHUB_API_URL over the remote's host */
	CHECK_OK(gh_target_resolve("git@ghe.example.com:team/app.git", NULL, NULL, &t, &err));
	CHECK_STR(t.api_base, "https://env.example/api/v3");
	CHECK_STR(t.host, "env.example");
	gh_target_free(&t);
	/* --api-url over GITHUB_API_URL */
	CHECK_OK(gh_target_resolve("team/app", "http://127.0.0.1:5/", NULL, &t, &err));
	CHECK_STR(t.api_base, "http://127.0.0.1:5");
	CHECK_STR(t.host, "127.0.0.1:5");
	gh_target_free(&t);
	setenv("GITHUB_API_URL", "javascript:alert(1)", 1);
	CHECK(gh_target_resolve("team/app", NULL, NULL, &t, &err) < 0);
	CHECK(strstr(err.msg, "GITHUB_API_URL") != NULL);
	unsetenv("GITHUB_API_URL");
}

TEST(origins)
{
	CHECK(gh_same_origin("https://api.github.com/repos/a/b", "https://api.github.com"));
	CHECK(gh_same_origin("https://API.github.com:443/x", "https://api.github.com"));
	CHECK(gh_same_origin("http://127.0.0.1:80/x", "http://127.0.0.1"));
	CHECK(!gh_same_origin("http://api.github.com/x", "https://api.github.com"));
	CHECK(!gh_same_origin("https://api.github.com.evil.com/x", "https://api.github.com"));
	CHECK(!gh_same_origin("https://api.github.com@evil.com/x", "https://api.github.com"));
	CHECK(!gh_same_origin("http://127.0.0.2:8080/x", "http://127.0.0.1:8080"));
	CHECK(!gh_same_origin("http://127.0.0.1:8081/x", "http://127.0.0.1:8080"));
	CHECK(!gh_same_origin("nonsense", "https://api.github.com"));
	CHECK(gh_url_is_loopback("http://127.0.0.1:8080/x"));
	CHECK(gh_url_is_loopback("http://127.0.0.2/x"));
	CHECK(gh_url_is_loopback("http://[::1]:9/x"));
	CHECK(gh_url_is_loopback("http://localhost/x"));
	CHECK(!gh_url_is_loopback("http://128.0.0.1/x"));
	CHECK(!gh_url_is_loopback("http://127.0.0.1.evil.com/x"));
	CHECK(!gh_url_is_loopback("https://api.github.com"));
}

/* --- the policy -------------------------------------------------------------------------------- */
static struct gh_policy pol(void)
{
	struct gh_policy p = {.max_tries = 5, .backoff_base_ms = 500, .backoff_max_ms = 30000,
			      .min_rate_wait_ms = 60000, .max_rate_waits = 8};
	return p;
}

static struct gh_decision decide(long status, const char *retry_after, long remaining,
				 int64_t reset, const char *body, int tries, int rate_waits,
				 bool api)
{
	struct gh_policy p = pol();
	struct gh_answer a = {.net = GH_NET_OK, .status = status, .api = api,
			      .retry_after = retry_after, .rl_remaining = remaining,
			      .rl_reset = reset, .body = body, .body_len = body ? strlen(body) : 0};
	struct gh_decision d;
	gh_decide(&a, tries, rate_waits, &p, 1700000000000, 12345, &d);
	return d;
}

TEST(decide_statuses)
{
	CHECK_INT(decide(200, NULL, 4000, 0, NULL, 1, 0, true).v, GH_DONE);
	CHECK_INT(decide(204, NULL, -1, 0, NULL, 1, 0, true).v, GH_DONE);
	CHECK_INT(decide(304, NULL, 4000, 0, NULL, 1, 0, true).v, GH_NOT_MODIFIED);
	CHECK_INT(decide(302, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FOLLOW);
	CHECK_INT(decide(307, NULL, -1, 0, NULL, 1, 0, false).v, GH_FOLLOW);
	CHECK_INT(decide(401, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FAIL);
	CHECK_INT(decide(404, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FAIL);
	CHECK_INT(decide(410, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FAIL);
	CHECK_INT(decide(422, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FAIL);
	CHECK_INT(decide(501, NULL, 4000, 0, NULL, 1, 0, true).v, GH_FAIL);
	/* a plain 403 is about permissions: no waiting */
	CHECK_INT(decide(403, NULL, 4000, 0, "{\"message\":\"Resource not accessible\"}", 1, 0, true).v,
		  GH_FAIL);
	/* blob storage's 403 is an expired signature, not a rate limit */
	CHECK_INT(decide(403, "5", -1, 0, NULL, 1, 0, false).v, GH_FAIL);
}

TEST(decide_retries)
{
	struct gh_decision d = decide(500, NULL, 4000, 0, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_RETRY);
	CHECK(d.wait_ms >= 250 && d.wait_ms <= 500);
	d = decide(503, NULL, -1, 0, NULL, 3, 0, true);
	CHECK_INT(d.v, GH_RETRY);
	CHECK(d.wait_ms >= 1000 && d.wait_ms <= 2000);
	CHECK_INT(decide(502, NULL, -1, 0, NULL, 5, 0, true).v, GH_FAIL);
	/* a 503 saying when: at least that long */
	d = decide(503, "3", -1, 0, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_RETRY);
	CHECK_INT(d.wait_ms, 3000);
	/* transport errors */
	struct gh_policy p = pol();
	struct gh_answer a = {.net = GH_NET_RETRY, .rl_remaining = -1};
	gh_decide(&a, 1, 0, &p, 0, 7, &d);
	CHECK_INT(d.v, GH_RETRY);
	gh_decide(&a, 5, 0, &p, 0, 7, &d);
	CHECK_INT(d.v, GH_FAIL);
	a.net = GH_NET_FATAL;
	gh_decide(&a, 1, 0, &p, 0, 7, &d);
	CHECK_INT(d.v, GH_FAIL);
}

TEST(decide_rate_limits)
{
	int64_t now = 1700000000000;
	/* 429 with retry-after */
	struct gh_decision d = decide(429, "7", 4000, 0, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_SECONDARY);
	CHECK_INT(d.wait_ms, 7000);
	/* secondary 403 without retry-after: at least a minute, doubling */
	const char *sec = "{\"message\":\"You have exceeded a secondary rate limit. Please wait.\"}";
	d = decide(403, NULL, 4000, 0, sec, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_SECONDARY);
	CHECK_INT(d.wait_ms, 60000);
	d = decide(403, NULL, 4000, 0, sec, 1, 2, true);
	CHECK_INT(d.wait_ms, 240000);
	CHECK_INT(decide(403, NULL, 4000, 0, sec, 1, 8, true).v, GH_FAIL);
	/* 429 without anything: secondary, a minute */
	d = decide(429, NULL, -1, 0, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_SECONDARY);
	CHECK_INT(d.wait_ms, 60000);
	/* the primary limit: until the reset, plus a second */
	d = decide(403, NULL, 0, now / 1000 + 120, "{\"message\":\"API rate limit exceeded\"}", 1, 0,
		   true);
	CHECK_INT(d.v, GH_WAIT_PRIMARY);
	CHECK_INT(d.wait_ms, 121000);
	d = decide(429, "30", 0, now / 1000 + 120, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_PRIMARY);
	CHECK_INT(d.wait_ms, 30000);
	/* a reset in the past: a second */
	d = decide(403, NULL, 0, now / 1000 - 50, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_PRIMARY);
	CHECK_INT(d.wait_ms, 1000);
	/* Retry-After as a date */
	d = decide(429, "Tue, 14 Nov 2023 22:14:20 GMT", 10, 0, NULL, 1, 0, true);
	CHECK_INT(d.v, GH_WAIT_SECONDARY);
	CHECK_INT(d.wait_ms, 60000);
}

TEST(backoff_grows_with_jitter)
{
	struct gh_policy p = pol();
	int64_t prev_max = 0;
	for (int t = 1; t <= 10; t++) {
		int64_t lo = gh_backoff_ms(&p, t, 0), hi = gh_backoff_ms(&p, t, 0xffffffffu);
		CHECK(lo <= hi);
		CHECK(hi <= p.backoff_max_ms);
		CHECK(lo * 2 >= hi - 1);
		CHECK(hi >= prev_max || hi == p.backoff_max_ms);
		prev_max = hi;
	}
	CHECK_INT(gh_backoff_ms(&p, 1, 0), 250);
	CHECK_INT(gh_backoff_ms(&p, 30, 0), 15000);
	setenv("CISCOPE_TEST_MIN_WAIT_MS", "40", 1);
	struct gh_policy q;
	gh_policy_default(&q);
	CHECK_INT(q.min_rate_wait_ms, 40);
	CHECK(q.backoff_base_ms <= 40);
	setenv("CISCOPE_TEST_MIN_WAIT_MS", "junk", 1);
	gh_policy_default(&q);
	CHECK_INT(q.min_rate_wait_ms, 60000);
	unsetenv("CISCOPE_TEST_MIN_WAIT_MS");
	gh_policy_default(&q);
	CHECK_INT(q.min_rate_wait_ms, 60000);
	CHECK_INT(q.backoff_base_ms, 500);
}

TEST(retry_after_and_dates)
{
	int64_t now = 1700000000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
	int64_t w;
	CHECK(gh_parse_retry_after("120", now, &w));
	CHECK_INT(w, 120000);
	CHECK(gh_parse_retry_after(" 5 ", now, &w));
	CHECK_INT(w, 5000);
	CHECK(gh_parse_retry_after("99999999999", now, &w));
	CHECK_INT(w, 86400000);
	CHECK(gh_parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now, &w));
	CHECK_INT(w, 60000);
	CHECK(gh_parse_retry_after("Tuesday, 14-Nov-23 22:13:30 GMT", now, &w));
	CHECK_INT(w, 10000);
	CHECK(gh_parse_retry_after("Tue Nov 14 22:13:25 2023", now, &w));
	CHECK_INT(w, 5000);
	CHECK(gh_parse_retry_after("Mon, 13 Nov 2023 00:00:00 GMT", now, &w));
	CHECK_INT(w, 0);
	const char *bad[] = {NULL, "", "soon", "-1", "5x", "1.5", "Tue, 32 Nov 2023 22:14:20 GMT",
			     "Tue, 14 Foo 2023 22:14:20 GMT", "14 Nov 2023", "22:14:20",
			     "Tue, 14 Nov 2023 25:14:20 GMT", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (gh_parse_retry_after(bad[i], now, &w))
			t_fail(__FILE__, __LINE__, "bad[%zu] '%s' parsed as %lld", i,
			       bad[i] ? bad[i] : "(null)", (long long)w);
	CHECK_INT(gh_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
	CHECK(gh_body_is_secondary("You have exceeded a SECONDARY rate limit", 40));
	CHECK(!gh_body_is_secondary("API rate limit exceeded", 23));
}

/* --- messages ------------------------------------------------------------------------------------ */
TEST(http_error_messages)
{
	struct cs_err err;
	err_clear(&err);
	gh_http_error(&err, 401, "{\"message\":\"Bad credentials\"}", 29, "the runs of a/b", "a/b",
		      false);
	CHECK_STR(err.msg, "the runs of a/b: the token is invalid or expired; set GH_TOKEN or run gh "
			   "auth login");
	gh_http_error(&err, 404, "{\"message\":\"Not Found\"}", 23, "the runs of a/b", "a/b", true);
	CHECK(strstr(err.msg, "not found (404)") != NULL);
	CHECK(strstr(err.msg, "'a/b'") != NULL);
	CHECK(strstr(err.msg, "GH_TOKEN") != NULL);
	/* GitHub's message is quoted, cleaned of control bytes, cut */
	const char *evil = "{\"message\":\"boom\\u001b]0;pwned\\u0007\\r\\nX\"}";
	gh_http_error(&err, 500, evil, strlen(evil), "x", "a/b", false);
	CHECK(strstr(err.msg, "HTTP 500: boom") != NULL);
	for (const char *p = err.msg; *p; p++)
		CHECK((unsigned char)*p >= ' ');
	struct buf big = BUF_INIT;
	buf_adds(&big, "{\"message\":\"");
	for (int i = 0; i < 5000; i++)
		buf_addc(&big, 'a');
	buf_adds(&big, "\"}");
	gh_http_error(&err, 422, big.data, big.len, "x", "a/b", false);
	CHECK(strlen(err.msg) < 300);
	buf_release(&big);
	/* an HTML error page is not quoted */
	gh_http_error(&err, 502, "<html><body>Bad gateway</body></html>", 37, "x", "a/b", false);
	CHECK_STR(err.msg, "x: HTTP 502");
	gh_http_error(&err, 403, "{\"message\":\"Must have admin rights\"}", 36, "x", "a/b", false);
	CHECK(strstr(err.msg, "access refused (403): Must have admin rights") != NULL);
}

/* --- writes ------------------------------------------------------------------------------------------ */
TEST(writes_as_sent)
{
	struct gh_target t = {.slug = "tidewater/orrery", .api_base = "https://api.github.com"};
	struct gh_post p;
	gh_build_rerun_failed(&t, 9812688163, &p);
	CHECK_STR(p.url, "https://api.github.com/repos/tidewater/orrery/actions/runs/9812688163/"
			 "rerun-failed-jobs");
	CHECK(p.body == NULL);
	struct buf d = BUF_INIT;
	gh_post_describe(&p, GH_TOK_GH_TOKEN, &d);
	CHECK(strstr(d.data, "POST https://api.github.com/repos/tidewater/orrery/actions/runs/"
			     "9812688163/rerun-failed-jobs\n") == d.data);
	CHECK(strstr(d.data, "Authorization: Bearer <the token from GH_TOKEN, not shown>") != NULL);
	CHECK(strstr(d.data, "(no body)") != NULL);
	gh_post_free(&p);

	const char *keys[] = {"steps", "note\"x"};
	const char *vals[] = {"100", "a\nb \xe2\x9c\x93 \x01"};
	gh_build_dispatch(&t, "parity run.yml", "fix/x\"y", keys, vals, 2, &p);
	CHECK_STR(p.url, "https://api.github.com/repos/tidewater/orrery/actions/workflows/"
			 "parity%20run.yml/dispatches");
	cJSON *j = cJSON_Parse(p.body);
	CHECK(j != NULL);
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "ref");
	CHECK(cJSON_IsString(ref) && !strcmp(ref->valuestring, "fix/x\"y"));
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "inputs");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(in, "note\"x");
	CHECK(cJSON_IsString(n) && !strcmp(n->valuestring, "a\nb \xe2\x9c\x93 \x01"));
	cJSON_Delete(j);
	buf_reset(&d);
	gh_post_describe(&p, GH_TOK_NONE, &d);
	CHECK(strstr(d.data, "Content-Type: application/json\n\n{\"ref\":") != NULL);
	CHECK(strstr(d.data, "no token") != NULL);
	gh_post_free(&p);
	gh_build_dispatch(&t, "1", "main", NULL, NULL, 0, &p);
	CHECK_STR(p.body, "{\"ref\":\"main\"}");
	gh_post_free(&p);
	buf_release(&d);
}

/* --- tokens -------------------------------------------------------------------------------------------- */
/* A fake `gh` first in PATH: prints what it is told and records its
 * arguments. */
static char *fake_gh(const char *output, int status)
{
	const char *dir = t_tmpdir();
	char *bin = xasprintf("%s/bin", dir);
	mkdir(bin, 0700);
	char *script = xasprintf("%s/gh", bin);
	FILE *f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\necho \"$@\" > '%s/gh-args'\nprintf '%%s' '%s'\nexit %d\n", dir, output,
		status);
	fclose(f);
	chmod(script, 0700);
	free(script);
	return bin;
}

TEST(token_discovery_order)
{
	char *old_path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char *bin = fake_gh("tok-from-gh\n", 0);
	char *path = xasprintf("%s:%s", bin, old_path);
	setenv("PATH", path, 1);
	struct cs_err err;
	err_clear(&err);
	enum gh_token_src src;

	setenv("GH_TOKEN", "tok-gh-token", 1);
	setenv("GITHUB_TOKEN", "tok-github-token", 1);
	char *t = gh_token_discover("github.com", &src, &err);
	CHECK_STR(t, "tok-gh-token");
	CHECK_INT(src, GH_TOK_GH_TOKEN);
	gh_token_free(t);

	unsetenv("GH_TOKEN");
	t = gh_token_discover("github.com", &src, &err);
	CHECK_STR(t, "tok-github-token");
	CHECK_INT(src, GH_TOK_GITHUB_TOKEN);
	gh_token_free(t);

	/* an empty variable counts as unset */
	setenv("GH_TOKEN", "", 1);
	unsetenv("GITHUB_TOKEN");
	t = gh_token_discover("ghe.example.com", &src, &err);
	CHECK_STR(t, "tok-from-gh");
	CHECK_INT(src, GH_TOK_GH_CLI);
	gh_token_free(t);
	/* gh was asked for the host's token; the token is not in its argv */
	struct buf args = BUF_INIT;
	char *argf = xasprintf("%s/gh-args", t_tmpdir());
	CHECK_OK(file_read_all(argf, 1000, &args, &err));
	CHECK_STR(buf_cstr(&args), "auth token --hostname ghe.example.com\n");
	buf_release(&args);
	free(argf);

	/* gh failing (not logged in): anonymous, no error */
	free(bin);
	bin = fake_gh("", 1);
	t = gh_token_discover("github.com", &src, &err);
	CHECK(t == NULL);
	CHECK_INT(src, GH_TOK_NONE);
	CHECK_INT(err.code, 0);

	/* no gh at all */
	setenv("PATH", "/nonexistent", 1);
	t = gh_token_discover("github.com", &src, &err);
	CHECK(t == NULL);
	CHECK_INT(src, GH_TOK_NONE);

	/* a token that would break a header is refused, and not quoted */
	setenv("GH_TOKEN", "abc\r\nX-Evil: secret-part", 1);
	t = gh_token_discover("github.com", &src, &err);
	CHECK(t == NULL);
	CHECK(err.code != 0);
	CHECK(strstr(err.msg, "GH_TOKEN") != NULL);
	CHECK(strstr(err.msg, "secret-part") == NULL);
	unsetenv("GH_TOKEN");

	setenv("PATH", path, 1);
	free(bin);
	bin = fake_gh("two words", 0);
	err_clear(&err);
	t = gh_token_discover("github.com", &src, &err);
	CHECK(t == NULL);
	CHECK(strstr(err.msg, "words") == NULL);
	CHECK(strstr(err.msg, "gh auth token") != NULL);

	setenv("PATH", old_path, 1);
	free(path);
	free(old_path);
	free(bin);
}

TEST(client_refuses_token_over_plain_http)
{
	struct gh_client c;
	struct cs_err err;
	err_clear(&err);
	setenv("GH_TOKEN", "tok-secret-1", 1);
	CHECK(gh_client_init(&c, "a/b", "http://ghe.example.com/api/v3", &err) < 0);
	CHECK(strstr(err.msg, "plain http") != NULL);
	CHECK(strstr(err.msg, "tok-secret-1") == NULL);
	/* loopback (the tests' servers) is fine */
	err_clear(&err);
	CHECK_OK(gh_client_init(&c, "a/b", "http://127.0.0.1:9", &err));
	CHECK_INT(c.token_src, GH_TOK_GH_TOKEN);
	gh_client_release(&c);
	unsetenv("GH_TOKEN");
}

/* --- log archive names (core/gharchive.c; the names in real archives are
 * tested with the import of such archives, tests/unit/t_import.c) --------------- */
TEST(job_entry_names)
{
	struct buf base = BUF_INIT;
	long ord = 0;
	int dup = -1;
	CHECK(gh_parse_job_entry("1_build.txt", &ord, &base, &dup));
	CHECK_INT(ord, 1);
	CHECK_STR(base.data, "build");
	CHECK_INT(dup, 0);
	CHECK(gh_parse_job_entry("1_build (1).txt", &ord, &base, &dup));
	CHECK_STR(base.data, "build");
	CHECK_INT(dup, 1);
	CHECK(gh_parse_job_entry("12_test (ubuntu, 3.11) (2).txt", &ord, &base, &dup));
	CHECK_INT(ord, 12);
	CHECK_STR(base.data, "test (ubuntu, 3.11)");
	CHECK_INT(dup, 2);
	CHECK(gh_parse_job_entry("3_test (ubuntu, 3.11).txt", &ord, &base, &dup));
	CHECK_STR(base.data, "test (ubuntu, 3.11)");
	CHECK_INT(dup, 0);
	CHECK(gh_parse_job_entry("-3_x.txt", &ord, &base, &dup));
	CHECK_INT(ord, -3);
	CHECK_STR(base.data, "x");
	CHECK(gh_parse_job_entry("0_a b.txt", &ord, &base, &dup));
	CHECK_STR(base.data, "a b");
	CHECK(!gh_parse_job_entry("build/1_Set up job.txt", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("build.txt", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("1build.txt", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("1_build.log", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("_build.txt", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("-_build.txt", &ord, &base, &dup));
	CHECK(!gh_parse_job_entry("", &ord, &base, &dup));
	buf_release(&base);
}
