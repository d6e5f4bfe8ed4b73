/* github.h - talking to the GitHub REST API: where (the API base and the
 * repository), who (the token), what to ask (URLs), and what to do with an
 * answer (follow, retry, wait for a rate limit, fail with a message).
 *
 * Most of this is pure and tested without a network (tests/unit/t_github.c):
 * Link parsing, URL building, the retry and rate-limit decisions, remote URL
 * forms. The I/O here is token discovery (running `gh auth token` without a
 * shell) and gh_request(), one synchronous request for the commands that
 * send one (rerun, dispatch, workflow lookup); the parallel fetch is in
 * fetch.c and shares gh_easy_setup() so both send the same headers.
 *
 * The token: ownership stays with whoever discovered it (gh_token_free wipes
 * it). It is handed to libcurl as a bearer credential (CURLOPT_XOAUTH2_BEARER),
 * only for URLs of the API origin; it never goes into a message, a file, a
 * log line or a child's argv.
 */
#ifndef CS_GITHUB_H
#define CS_GITHUB_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define GH_DEFAULT_API "https://api.github.com"
#define GH_API_VERSION "2022-11-28"
#define GH_ACCEPT "application/vnd.github+json"
#define GH_PER_PAGE 100

/* --- where ---------------------------------------------------------------------- */
struct gh_target {
	char *slug;     /* owner/name */
	char *api_base; /* https://api.github.com or https://HOST/api/v3; no trailing '/' */
	char *host;     /* the web host the token belongs to (gh auth token --hostname) */
};
void gh_target_free(struct gh_target *t);

/* The API base for a repository's web host: github.com (also www. and
 * ssh.github.com) -> https://api.github.com; any other host (GitHub
 * Enterprise Server) -> https://HOST/api/v3. */
void gh_api_base_for_host(const char *host, struct buf *out);

/* Check an API base given by the user (--api-url, GITHUB_API_URL):
 * http(s)://host[:port][/path], no user name or password in it (they would
 * travel in every request), no query or fragment. The normalised form (no
 * trailing '/') goes to out. */
int gh_api_base_check(const char *url, struct buf *out, struct cs_err *err);

/* The web host of an API base: api.github.com -> github.com, HOST/api/v3 ->
 * HOST, anything else its host[:port]. */
void gh_api_host(const char *api_base, struct buf *out);

/* Which repository, through which API:
 *   repo_arg  "OWNER/REPO" or a remote URL (https, ssh, scp-like); NULL: the
 *             origin remote of the git checkout containing dir (NULL: cwd)
 *   api_url   --api-url; NULL: $GITHUB_API_URL; else from the remote's host
 *             (github.com unless the remote names another host). */
int gh_target_resolve(const char *repo_arg, const char *api_url, const char *dir,
		      struct gh_target *t, struct cs_err *err);

/* --- what to ask ---------------------------------------------------------------------- */
/* Percent-encode s (everything but RFC 3986 unreserved characters). */
void gh_url_escape(struct buf *b, const char *s);
/* api_base + "/repos/" + slug + the formatted path (which starts with '/'). */
char *gh_repo_url(const struct gh_target *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The first page of the run listing, newest first:
 * .../actions/runs (or .../actions/workflows/{workflow}/runs) with per_page,
 * branch and created=>=since. workflow is an id or a file name. */
char *gh_runs_url(const struct gh_target *t, const char *workflow, const char *branch,
		  const char *since, int per_page);
/* A --since value: YYYY-MM-DD or an RFC 3339 time. */
bool gh_since_valid(const char *s);

/* The URL of the link with relation rel ("next", "last", ...) in a Link
 * header: `<url>; rel="next", <url>; rel="last"`. rel may be one of several
 * space-separated relations; parameters may come in any order, quoted or
 * not. False when there is none or the header is malformed. */
bool gh_link_find(const char *header, const char *rel, struct buf *url);

/* Same scheme, host and port (default ports made explicit): the token is
 * sent only to URLs of the API base's origin. */
bool gh_same_origin(const char *a, const char *b);
/* A host part (of a URL) that is a loopback address: 127.x.y.z, [::1], localhost. */
bool gh_url_is_loopback(const char *url);

/* --- who -------------------------------------------------------------------------------- */
enum gh_token_src { GH_TOK_NONE, GH_TOK_GH_TOKEN, GH_TOK_GITHUB_TOKEN, GH_TOK_GH_CLI };
/* "GH_TOKEN", "GITHUB_TOKEN", "gh auth token", "none" */
const char *gh_token_src_name(enum gh_token_src s);
/* GH_TOKEN, else GITHUB_TOKEN, else `gh auth token --hostname HOST` (run
 * without a shell, stdout captured, stderr discarded, at most 10 s), else
 * NULL (anonymous). A token with control characters or spaces is refused
 * (it would break the header): NULL with err set, the token not quoted.
 * Free with gh_token_free(). */
char *gh_token_discover(const char *host, enum gh_token_src *src, struct cs_err *err);
void gh_token_free(char *tok);
/* The token as a string of 'x' is never needed: messages name the source. */

/* --- what to do with an answer -------------------------------------------------------------- */
struct gh_policy {
	int max_tries;            /* transport errors and 5xx: attempts in all (5) */
	int64_t backoff_base_ms;  /* first retry after about this long (500 ms) */
	int64_t backoff_max_ms;   /* cap (30 s) */
	int64_t min_rate_wait_ms; /* secondary limit without retry-after (60 s) */
	int max_rate_waits;       /* secondary-limit waits before giving up (8) */
};
/* The defaults; CISCOPE_TEST_MIN_WAIT_MS (test-only) replaces the minimum
 * rate-limit wait and caps the backoff base, so fault tests run fast. */
void gh_policy_default(struct gh_policy *p);

enum gh_net {
	GH_NET_OK = 0,   /* an HTTP answer arrived */
	GH_NET_RETRY,    /* connection refused/reset, timeout, truncated body */
	GH_NET_FATAL,    /* TLS verification, bad URL, write error: retrying cannot help */
};
/* What a libcurl result (a CURLcode) means for a request: shared by the
 * client below and the fetcher's transfers, so both retry the same faults. */
enum gh_net gh_net_of_curl(int curl_code);
/* An HTTP header line "name: value" (name case-insensitive): true when it
 * is `name`, with the value, trimmed, copied into out (cut to outn - 1). */
bool gh_header_value(const char *line, size_t n, const char *name, char *out, size_t outn);

struct gh_answer {
	enum gh_net net;
	long status;             /* HTTP status when net == GH_NET_OK */
	bool api;                /* from the API host (false: blob storage) */
	const char *retry_after; /* the header, or NULL */
	long rl_remaining;       /* x-ratelimit-remaining, -1 when absent */
	int64_t rl_reset;        /* x-ratelimit-reset (epoch seconds), 0 when absent */
	const char *body;        /* error body (may be NULL) */
	size_t body_len;
};

enum gh_verdict {
	GH_DONE,           /* 2xx: use the body */
	GH_NOT_MODIFIED,   /* 304: use the cached body */
	GH_FOLLOW,         /* 3xx: GET Location with a fresh handle, no token */
	GH_RETRY,          /* after wait_ms */
	GH_WAIT_SECONDARY, /* secondary limit: pause the API host wait_ms, then retry */
	GH_WAIT_PRIMARY,   /* primary limit exhausted: pause until the reset (wait_ms) */
	GH_FAIL,           /* give up: 4xx, or retries exhausted */
};

struct gh_decision {
	enum gh_verdict v;
	int64_t wait_ms;
};

/* Decide what to do with an answer. tries: attempts made so far including
 * this one; rate_waits: secondary-limit waits so far; rnd: random bits for
 * the jitter. */
void gh_decide(const struct gh_answer *a, int tries, int rate_waits, const struct gh_policy *p,
	       int64_t now_ms, uint32_t rnd, struct gh_decision *d);
/* Exponential backoff with jitter for the try-th attempt (1-based):
 * base * 2^(try-1), capped, then a random point in [half, full]. */
int64_t gh_backoff_ms(const struct gh_policy *p, int tries, uint32_t rnd);
/* Retry-After: delta seconds or an HTTP date. False when unparsable. */
bool gh_parse_retry_after(const char *v, int64_t now_ms, int64_t *wait_ms);
/* An HTTP date (IMF-fixdate, also RFC 850 and asctime forms) -> epoch ms. */
int64_t gh_parse_http_date(const char *s);
/* Does an error body say "secondary rate limit" (or the older "abuse")? */
bool gh_body_is_secondary(const char *body, size_t n);

/* A sentence for a failed answer: 401 says the token is invalid and how to
 * supply one; 403 and 404 name what was asked (what: "the runs of
 * tidewater/orrery", "job 123's log") and the repository; others add GitHub's
 * message (sanitised and cut). */
void gh_http_error(struct cs_err *err, long status, const char *body, size_t n, const char *what,
		   const char *slug, bool anonymous);

/* --- one request ---------------------------------------------------------------------------- */
struct gh_client {
	struct gh_target t;
	char *token;               /* NULL: anonymous */
	enum gh_token_src token_src;
	struct gh_policy pol;
};
/* Resolve the target and find the token (warnings go nowhere: the caller
 * reports an anonymous client). */
int gh_client_init(struct gh_client *c, const char *repo_arg, const char *api_url,
		   struct cs_err *err);
void gh_client_release(struct gh_client *c);

/* Set up a libcurl easy handle (a CURL *) for url: user agent, TLS
 * verification on, http/https only, no redirect following, timeouts,
 * compressed bodies, HTTP/2 when offered. api: send Accept and
 * X-GitHub-Api-Version (and the token, when url is of the API origin);
 * extra headers (may be NULL) are appended to *hdrs, which the caller frees
 * with curl_slist_free_all after the transfer. */
void gh_easy_setup(void *curl, const struct gh_client *c, const char *url, bool api,
		   void **hdrs);

/* One request, synchronously, with the retry policy (POST is retried only
 * when the connection failed before anything was sent, and on rate limits).
 * The body (JSON) may be NULL. Fills *status and resp; -1 with err set on a
 * transport failure or an error status (err names what and the status). */
int gh_request(const struct gh_client *c, const char *method, const char *url, const char *body,
	       const char *what, long *status, struct buf *resp, struct cs_err *err);

/* The same request without blocking, for an event loop (the TUI's X and D
 * keys), driven like the fetcher (fetch.h): gh_call_start(), then wait on
 * gh_call_fds() (descriptors plus a timeout, -1: none) and call
 * gh_call_perform() with the ready ones (or none when the timeout expired)
 * until gh_call_done(); gh_call_finish() fills *status and resp (either
 * may be NULL) like gh_request, and frees the call (before it is done: a
 * cancel, -1 with CS_EINTR). Retries wait on the timeout, never in a sleep.
 * c must outlive the call; the strings are copied. gh_request() is this
 * loop. */
struct gh_call;
struct pollfd;
struct gh_call *gh_call_start(const struct gh_client *c, const char *method, const char *url,
			      const char *body, const char *what, struct cs_err *err);
int gh_call_fds(struct gh_call *k, struct pollfd *fds, int max, int *timeout_ms);
void gh_call_perform(struct gh_call *k, const struct pollfd *fds, int n);
bool gh_call_done(const struct gh_call *k);
int gh_call_finish(struct gh_call *k, long *status, struct buf *resp, struct cs_err *err);

/* A workflow given by id ("118203344"), file name ("ci.yml") or name ("ci",
 * which costs one request listing the workflows) -> the id or file name the
 * API takes, into out. */
int gh_resolve_workflow(const struct gh_client *c, const char *workflow, struct buf *out,
			struct cs_err *err);

/* --- writes: what exactly will be sent ----------------------------------------------------------- */
struct gh_post {
	char *url;
	char *body; /* JSON, or NULL for none */
};
void gh_post_free(struct gh_post *p);
/* POST .../actions/runs/{id}/rerun-failed-jobs (no body). */
void gh_build_rerun_failed(const struct gh_target *t, int64_t run_id, struct gh_post *p);
/* POST .../actions/workflows/{workflow}/dispatches {"ref":..,"inputs":{..}}. */
void gh_build_dispatch(const struct gh_target *t, const char *workflow, const char *ref,
		       const char *const *keys, const char *const *values, int n_inputs,
		       struct gh_post *p);
/* The request as it will be sent, for a confirmation: method, URL, the
 * headers that matter (the token named by its source, never shown) and the
 * body. Raw text: the caller sanitises it for the terminal. */
void gh_post_describe(const struct gh_post *p, enum gh_token_src src, struct buf *out);
/* The headers every described request shows (Accept, API version, the
 * token named by its source, never shown). */
void gh_describe_headers(enum gh_token_src src, struct buf *out);

/* --- log archive names (gharchive.c) ------------------------------------------ */
/* The file-name form GitHub gives a job or step name inside a log archive:
 * '/' and ':' removed, other characters illegal in file names dropped, cut at
 * 90 UTF-16 code units. */
void gh_archive_name(const char *name, struct buf *out);

/* Parse a top-level archive entry "12_build (1).txt" / "-3_x.txt":
 * ordinal, base name ("build"), duplicate suffix (1, or 0 when none).
 * Returns false when the name is not of that form. */
bool gh_parse_job_entry(const char *entry, long *ordinal, struct buf *base, int *dup);

/* Does an archive entry's name (possibly cut at 90 UTF-16 units, possibly
 * ending in U+FFFD) stand for job_name? Newer archives replace '/' with '_'
 * instead of dropping it: both forms are tried. tmp is scratch. */
bool gh_archive_name_matches_job(const char *entry_name, const char *job_name, struct buf *tmp);

#endif
