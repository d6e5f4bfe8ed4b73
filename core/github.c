/* github.c - the GitHub REST API: targets, URLs, tokens, Link headers, the
 * retry and rate-limit policy, error messages, one synchronous request. */
#include "github.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "curlpoll.h"
#include "gitrepo.h"

#define USER_AGENT "ciscope/0.1 (+https://github.com/ciscope)"
#define ERR_BODY_MAX 200
#define TOKEN_MAX 1024

extern char **environ;

/* --- small string helpers ------------------------------------------------------------------- */
static bool ieq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return false;
	return true;
}

static bool ieq(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && ieq_n(a, b, n);
}

/* The parts of an absolute http(s) URL: scheme, host (without brackets for
 * IPv6), port (default filled in), and where the path starts. */
struct url_parts {
	char scheme[8];
	char host[256];
	int port;
	const char *path;
	bool userinfo;
};

static bool url_split(const char *url, struct url_parts *u)
{
	memset(u, 0, sizeof(*u));
	const char *p;
	if (!strncasecmp(url, "https://", 8)) {
		strcpy(u->scheme, "https");
		u->port = 443;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		strcpy(u->scheme, "http");
		u->port = 80;
		p = url + 7;
	} else {
		return false;
	}
	size_t auth_len = strcspn(p, "/?#");
	const char *at = memchr(p, '@', auth_len);
	if (at) {
		u->userinfo = true;
		auth_len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	const char *end = p + auth_len;
	const char *hend;
	const char *portp = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', auth_len);
		if (!rb)
			return false;
		if ((size_t)(rb - p - 1) >= sizeof(u->host) || rb == p + 1)
			return false;
		memcpy(u->host, p + 1, (size_t)(rb - p - 1));
		hend = rb + 1;
		if (hend < end) {
			if (*hend != ':')
				return false;
			portp = hend + 1;
		}
	} else {
		const char *colon = memchr(p, ':', auth_len);
		hend = colon ? colon : end;
		if (hend == p || (size_t)(hend - p) >= sizeof(u->host))
			return false;
		memcpy(u->host, p, (size_t)(hend - p));
		if (colon)
			portp = colon + 1;
	}
	for (char *c = u->host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (portp) {
		if (portp == end)
			return false;
		long port = 0;
		for (const char *c = portp; c < end; c++) {
			if (!isdigit((unsigned char)*c))
				return false;
			port = port * 10 + (*c - '0');
			if (port > 65535)
				return false;
		}
		if (port == 0)
			return false;
		u->port = (int)port;
	}
	u->path = end;
	return true;
}

/* --- where ---------------------------------------------------------------------------------- */
void gh_target_free(struct gh_target *t)
{
	free(t->slug);
	free(t->api_base);
	free(t->host);
	memset(t, 0, sizeof(*t));
}

void gh_api_base_for_host(const char *host, struct buf *out)
{
	buf_reset(out);
	if (!host || !*host || ieq(host, "github.com") || ieq(host, "www.github.com") ||
	    ieq(host, "ssh.github.com") || ieq(host, "api.github.com")) {
		buf_adds(out, GH_DEFAULT_API);
		return;
	}
	buf_addf(out, "https://%s/api/v3", host);
}

int gh_api_base_check(const char *url, struct buf *out, struct cs_err *err)
{
	struct url_parts u;
	if (!url_split(url, &u))
		return err_set(err, CS_EUSAGE,
			       "API URL '%s' is not an http(s) URL (e.g. https://api.github.com or "
			       "https://HOST/api/v3)",
			       url);
	if (u.userinfo)
		return err_set(err, CS_EUSAGE,
			       "API URL must not carry a user name or password (use GH_TOKEN for "
			       "the token)");
	if (strpbrk(u.path, "?#"))
		return err_set(err, CS_EUSAGE, "API URL '%s' must not have a query or fragment", url);
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return err_set(err, CS_EUSAGE, "API URL contains spaces or control characters");
	buf_reset(out);
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	buf_add(out, url, n);
	return 0;
}

void gh_api_host(const char *api_base, struct buf *out)
{
	buf_reset(out);
	struct url_parts u;
	if (!url_split(api_base, &u)) {
		buf_adds(out, "github.com");
		return;
	}
	if (!strcmp(u.host, "api.github.com")) {
		buf_adds(out, "github.com");
		return;
	}
	bool v6 = strchr(u.host, ':') != NULL;
	buf_addf(out, v6 ? "[%s]" : "%s", u.host);
	bool default_port = (u.port == 443 && !strcmp(u.scheme, "https")) ||
			    (u.port == 80 && !strcmp(u.scheme, "http"));
	if (!default_port)
		buf_addf(out, ":%d", u.port);
}

int gh_target_resolve(const char *repo_arg, const char *api_url, const char *dir,
		      struct gh_target *t, struct cs_err *err)
{
	memset(t, 0, sizeof(*t));
	struct buf slug = BUF_INIT, host = BUF_INIT, base = BUF_INIT;
	bool have_host = false;
	int rc = -1;
	if (repo_arg) {
		bool url_like = strstr(repo_arg, "://") != NULL ||
				(strchr(repo_arg, ':') &&
				 (!strchr(repo_arg, '/') || strchr(repo_arg, ':') < strchr(repo_arg, '/')));
		if (url_like) {
			if (!gitrepo_parse_remote(repo_arg, &slug, &host)) {
				err_set(err, CS_EUSAGE,
					"'%s' is not OWNER/REPO or a GitHub remote URL", repo_arg);
				goto out;
			}
			have_host = host.len > 0;
		} else {
			/* validate OWNER/REPO with the remote parser's rules */
			struct buf u = BUF_INIT;
			buf_addf(&u, "https://github.com/%s", repo_arg);
			bool ok = !strpbrk(repo_arg, "?#") && gitrepo_parse_remote(u.data, &slug, NULL);
			buf_release(&u);
			if (!ok) {
				err_set(err, CS_EUSAGE, "'%s' is not OWNER/REPO", repo_arg);
				goto out;
			}
		}
	} else {
		if (!gitrepo_origin_slug(dir, &slug, &host)) {
			err_set(err, CS_EUSAGE,
				"no repository named and no GitHub 'origin' remote here: name one "
				"(OWNER/REPO)");
			goto out;
		}
		have_host = host.len > 0;
	}
	const char *env = getenv("GITHUB_API_URL");
	if (api_url && *api_url) {
		if (gh_api_base_check(api_url, &base, err) < 0)
			goto out;
	} else if (env && *env) {
		if (gh_api_base_check(env, &base, err) < 0) {
			err_prefix(err, "GITHUB_API_URL");
			goto out;
		}
	} else {
		gh_api_base_for_host(have_host ? host.data : NULL, &base);
	}
	t->slug = buf_detach(&slug, NULL);
	t->api_base = buf_detach(&base, NULL);
	if (!have_host || (api_url && *api_url) || (env && *env)) {
		gh_api_host(t->api_base, &host);
	} else if (ieq(host.data, "www.github.com") || ieq(host.data, "ssh.github.com")) {
		buf_reset(&host);
		buf_adds(&host, "github.com");
	}
	t->host = buf_detach(&host, NULL);
	rc = 0;
out:
	buf_release(&slug);
	buf_release(&host);
	buf_release(&base);
	return rc;
}

/* --- what to ask ------------------------------------------------------------------------------ */
void gh_url_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

char *gh_repo_url(const struct gh_target *t, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/repos/%s", t->api_base, t->slug);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

bool gh_since_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 10) {
		for (size_t i = 0; i < n; i++) {
			bool dash = i == 4 || i == 7;
			if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
				return false;
		}
		return true;
	}
	return n > 10 && n < 40 && time_parse_rfc3339(s, n) != CS_TIME_NONE;
}

char *gh_runs_url(const struct gh_target *t, const char *workflow, const char *branch,
		  const char *since, int per_page)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/repos/%s/actions/", t->api_base, t->slug);
	if (workflow && *workflow) {
		buf_adds(&b, "workflows/");
		gh_url_escape(&b, workflow);
		buf_adds(&b, "/");
	}
	buf_addf(&b, "runs?per_page=%d", per_page);
	if (branch && *branch) {
		buf_adds(&b, "&branch=");
		gh_url_escape(&b, branch);
	}
	if (since && *since) {
		buf_adds(&b, "&created=");
		struct buf v = BUF_INIT;
		buf_addf(&v, ">=%s", since);
		gh_url_escape(&b, v.data);
		buf_release(&v);
	}
	return buf_detach(&b, NULL);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Does the (space-separated) relation list [v, v+n) contain rel? */
static bool rel_has(const char *v, size_t n, const char *rel)
{
	size_t rl = strlen(rel);
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t j = i;
		while (j < n && v[j] != ' ' && v[j] != '\t')
			j++;
		if (j - i == rl && ieq_n(v + i, rel, rl))
			return true;
		i = j;
	}
	return false;
}

bool gh_link_find(const char *header, const char *rel, struct buf *url)
{
	if (!header)
		return false;
	const char *p = header;
	for (;;) {
		p = skip_ws(p);
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return false;
		if (*p != '<')
			return false;
		const char *end = strchr(p + 1, '>');
		if (!end)
			return false;
		const char *u = p + 1;
		size_t ulen = (size_t)(end - u);
		p = end + 1;
		bool match = false;
		for (;;) {
			p = skip_ws(p);
			if (*p != ';')
				break;
			p = skip_ws(p + 1);
			const char *name = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			size_t nlen = (size_t)(p - name);
			p = skip_ws(p);
			const char *val = NULL;
			size_t vlen = 0;
			if (*p == '=') {
				p = skip_ws(p + 1);
				if (*p == '"') {
					val = ++p;
					while (*p && *p != '"') {
						if (*p == '\\' && p[1])
							p++;
						p++;
					}
					if (!*p)
						return false; /* unterminated quote */
					vlen = (size_t)(p - val);
					p++;
				} else {
					val = p;
					while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
						p++;
					vlen = (size_t)(p - val);
				}
			}
			if (val && nlen == 3 && ieq_n(name, "rel", 3) && rel_has(val, vlen, rel))
				match = true;
		}
		p = skip_ws(p);
		if (*p && *p != ',')
			return false;
		if (match && ulen > 0) {
			for (size_t i = 0; i < ulen; i++)
				if ((unsigned char)u[i] <= ' ')
					return false;
			buf_reset(url);
			buf_add(url, u, ulen);
			buf_cstr(url);
			return true;
		}
	}
}

bool gh_same_origin(const char *a, const char *b)
{
	struct url_parts ua, ub;
	if (!url_split(a, &ua) || !url_split(b, &ub))
		return false;
	return !strcmp(ua.scheme, ub.scheme) && !strcmp(ua.host, ub.host) && ua.port == ub.port &&
	       !ua.userinfo && !ub.userinfo;
}

bool gh_url_is_loopback(const char *url)
{
	struct url_parts u;
	if (!url_split(url, &u))
		return false;
	if (!strcmp(u.host, "localhost") || !strcmp(u.host, "::1"))
		return true;
	int a, b, c, d;
	char tail;
	return sscanf(u.host, "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b >= 0 &&
	       b < 256 && c >= 0 && c < 256 && d >= 0 && d < 256;
}

/* --- who ---------------------------------------------------------------------------------------- */
const char *gh_token_src_name(enum gh_token_src s)
{
	switch (s) {
	case GH_TOK_GH_TOKEN: return "GH_TOKEN";
	case GH_TOK_GITHUB_TOKEN: return "GITHUB_TOKEN";
	case GH_TOK_GH_CLI: return "gh auth token";
	case GH_TOK_NONE: break;
	}
	return "none";
}

static bool token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

void gh_token_free(char *tok)
{
	if (!tok)
		return;
	size_t n = strlen(tok);
	volatile char *v = tok;
	for (size_t i = 0; i < n; i++)
		v[i] = 0;
	free(tok);
}

/* `gh auth token --hostname HOST`: stdout captured (the token), stderr and
 * stdin /dev/null, no shell, at most 10 s. NULL when gh is missing, fails,
 * or prints nothing. */
static char *token_from_gh(const char *host)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return NULL;
	fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	char *argv[] = {"gh", "auth", "token", "--hostname", (char *)host, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "gh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return NULL;
	}
	char out[TOKEN_MAX + 64];
	size_t got = 0;
	int64_t deadline = mono_ms() + 10000;
	bool timed_out = false;
	for (;;) {
		int64_t now = mono_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			timed_out = pr == 0;
			break;
		}
		ssize_t r = read(pfd[0], out + got, sizeof(out) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got >= sizeof(out) - 1)
			break;
	}
	close(pfd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[got] = '\0';
	char *tok = NULL;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		size_t a = 0, b = got;
		while (a < b && isspace((unsigned char)out[a]))
			a++;
		while (b > a && isspace((unsigned char)out[b - 1]))
			b--;
		if (b > a)
			tok = xstrndup(out + a, b - a);
	}
	volatile char *v = out;
	for (size_t i = 0; i < sizeof(out); i++)
		v[i] = 0;
	return tok;
}

char *gh_token_discover(const char *host, enum gh_token_src *src, struct cs_err *err)
{
	static const struct {
		const char *var;
		enum gh_token_src src;
	} envs[] = {{"GH_TOKEN", GH_TOK_GH_TOKEN}, {"GITHUB_TOKEN", GH_TOK_GITHUB_TOKEN}};
	*src = GH_TOK_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i].var);
		if (v && *v) {
			if (!token_ok(v)) {
				err_set(err, CS_EUSAGE,
					"%s holds spaces or control characters: it is not a token",
					envs[i].var);
				return NULL;
			}
			*src = envs[i].src;
			return xstrdup(v);
		}
	}
	char *t = token_from_gh(host && *host ? host : "github.com");
	if (t) {
		if (!token_ok(t)) {
			gh_token_free(t);
			err_set(err, CS_EUSAGE,
				"`gh auth token` printed something that is not a token (spaces or "
				"control characters)");
			return NULL;
		}
		*src = GH_TOK_GH_CLI;
	}
	return t;
}

/* --- what to do with an answer ---------------------------------------------------------------------- */
void gh_policy_default(struct gh_policy *p)
{
	p->max_tries = 5;
	p->backoff_base_ms = 500;
	p->backoff_max_ms = 30000;
	p->min_rate_wait_ms = 60000;
	p->max_rate_waits = 8;
	const char *t = getenv("CISCOPE_TEST_MIN_WAIT_MS");
	if (t && *t) {
		char *end;
		long long v = strtoll(t, &end, 10);
		if (!*end && v >= 0 && v <= 3600000) {
			p->min_rate_wait_ms = v;
			p->backoff_base_ms = MIN(p->backoff_base_ms, (int64_t)v);
			p->backoff_max_ms = MIN(p->backoff_max_ms, MAX((int64_t)v * 4, 1));
		}
	}
}

int64_t gh_backoff_ms(const struct gh_policy *p, int tries, uint32_t rnd)
{
	int64_t w = p->backoff_base_ms;
	for (int i = 1; i < tries && w < p->backoff_max_ms; i++)
		w *= 2;
	if (w > p->backoff_max_ms)
		w = p->backoff_max_ms;
	/* "equal jitter": between half and the whole, so waits never collapse */
	int64_t half = w / 2;
	return half + (half > 0 ? (int64_t)(rnd % (uint32_t)(half + 1)) : 0);
}

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
				     "jul", "aug", "sep", "oct", "nov", "dec"};

int64_t gh_parse_http_date(const char *s)
{
	int day = -1, mon = -1, year = -1, hh = -1, mm = -1, ss = -1;
	const char *p = s;
	int tokens = 0;
	while (*p && tokens < 16) {
		while (*p == ' ' || *p == ',' || *p == '-' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && *p != ' ' && *p != ',' && *p != '-' && *p != '\t')
			p++;
		size_t n = (size_t)(p - b);
		tokens++;
		if (memchr(b, ':', n)) {
			if (n != 8 || sscanf(b, "%2d:%2d:%2d", &hh, &mm, &ss) != 3)
				return CS_TIME_NONE;
		} else if (isalpha((unsigned char)*b)) {
			/* weekday names and "GMT" are ignored: no month shares their
			 * first three letters */
			for (int m = 0; m < 12 && n == 3; m++)
				if (ieq_n(b, months[m], 3))
					mon = m;
		} else if (isdigit((unsigned char)*b)) {
			long v = 0;
			for (size_t i = 0; i < n; i++) {
				if (!isdigit((unsigned char)b[i]) || i > 5)
					return CS_TIME_NONE;
				v = v * 10 + (b[i] - '0');
			}
			if (day < 0 && n <= 2)
				day = (int)v;
			else if (year < 0 && (n == 2 || n == 4))
				year = n == 2 ? (v >= 70 ? 1900 + (int)v : 2000 + (int)v) : (int)v;
			else
				return CS_TIME_NONE;
		} else {
			return CS_TIME_NONE;
		}
	}
	if (day < 1 || day > 31 || mon < 0 || year < 1970 || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60)
		return CS_TIME_NONE;
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return CS_TIME_NONE;
	return (int64_t)t * 1000;
}

bool gh_parse_retry_after(const char *v, int64_t now_ms, int64_t *wait_ms)
{
	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		long long s = 0;
		const char *p = v;
		while (isdigit((unsigned char)*p)) {
			if (s < 10000000)
				s = s * 10 + (*p - '0');
			p++;
		}
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p)
			return false;
		if (s > 86400)
			s = 86400;
		*wait_ms = (int64_t)s * 1000;
		return true;
	}
	int64_t t = gh_parse_http_date(v);
	if (t == CS_TIME_NONE)
		return false;
	int64_t w = t - now_ms;
	*wait_ms = w < 0 ? 0 : MIN(w, (int64_t)86400 * 1000);
	return true;
}

static bool contains_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (ieq_n(s + i, needle, k))
			return true;
	return false;
}

bool gh_body_is_secondary(const char *body, size_t n)
{
	return body && (contains_ci(body, n, "secondary rate limit") ||
			contains_ci(body, n, "abuse detection"));
}

static void retry_or_fail(const struct gh_answer *a, int tries, const struct gh_policy *p,
			  int64_t now, uint32_t rnd, struct gh_decision *d)
{
	if (tries >= p->max_tries) {
		d->v = GH_FAIL;
		return;
	}
	d->v = GH_RETRY;
	d->wait_ms = gh_backoff_ms(p, tries, rnd);
	int64_t ra;
	if (a->retry_after && gh_parse_retry_after(a->retry_after, now, &ra) && ra > d->wait_ms)
		d->wait_ms = MIN(ra, (int64_t)600000);
}

void gh_decide(const struct gh_answer *a, int tries, int rate_waits, const struct gh_policy *p,
	       int64_t now_ms, uint32_t rnd, struct gh_decision *d)
{
	d->v = GH_FAIL;
	d->wait_ms = 0;
	if (a->net == GH_NET_FATAL)
		return;
	if (a->net == GH_NET_RETRY) {
		retry_or_fail(a, tries, p, now_ms, rnd, d);
		return;
	}
	long s = a->status;
	if (s >= 200 && s < 300) {
		d->v = GH_DONE;
		return;
	}
	if (s == 304) {
		d->v = GH_NOT_MODIFIED;
		return;
	}
	if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
		d->v = GH_FOLLOW;
		return;
	}
	if (a->api && (s == 403 || s == 429)) {
		int64_t ra = 0;
		bool has_ra = gh_parse_retry_after(a->retry_after, now_ms, &ra);
		if (a->rl_remaining == 0) {
			d->v = GH_WAIT_PRIMARY;
			if (has_ra)
				d->wait_ms = ra;
			else if (a->rl_reset > 0)
				d->wait_ms = MAX(a->rl_reset * 1000 - now_ms, (int64_t)0) + 1000;
			else
				d->wait_ms = p->min_rate_wait_ms;
			return;
		}
		if (s == 429 || has_ra || gh_body_is_secondary(a->body, a->body_len)) {
			if (rate_waits >= p->max_rate_waits)
				return;
			d->v = GH_WAIT_SECONDARY;
			if (has_ra) {
				d->wait_ms = ra;
			} else {
				/* at least the minimum, doubling for each wait in a row */
				int64_t w = p->min_rate_wait_ms;
				for (int i = 0; i < rate_waits && w < 16 * p->min_rate_wait_ms; i++)
					w *= 2;
				d->wait_ms = w;
			}
			return;
		}
		return; /* a plain 403: permissions */
	}
	if (s == 408 || (s >= 500 && s != 501 && s != 505)) {
		retry_or_fail(a, tries, p, now_ms, rnd, d);
		return;
	}
}

/* GitHub's "message", else the start of the body; control characters and
 * non-ASCII dropped: it lands in a terminal line. */
static void body_message(const char *body, size_t n, struct buf *out)
{
	buf_reset(out);
	if (!body || !n)
		return;
	cJSON *j = cJSON_ParseWithLength(body, n);
	const char *m = NULL;
	if (j) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (cJSON_IsString(msg))
			m = msg->valuestring;
	}
	const char *s = m ? m : body;
	size_t len = m ? strlen(m) : n;
	bool html = !m && len > 0 && (s[0] == '<' || contains_ci(s, MIN(len, (size_t)200), "<html"));
	if (!html) {
		for (size_t i = 0; i < len && out->len < ERR_BODY_MAX; i++) {
			unsigned char c = (unsigned char)s[i];
			buf_addc(out, c >= ' ' && c < 0x7f ? (char)c : ' ');
		}
		if (len > ERR_BODY_MAX)
			buf_adds(out, "...");
	}
	cJSON_Delete(j);
}

void gh_http_error(struct cs_err *err, long status, const char *body, size_t n, const char *what,
		   const char *slug, bool anonymous)
{
	struct buf m = BUF_INIT;
	body_message(body, n, &m);
	const char *msg = m.len ? buf_cstr(&m) : NULL;
	if (status == 401) {
		err_set(err, CS_EUSAGE,
			"%s: the token is invalid or expired; set GH_TOKEN or run gh auth login", what);
	} else if (status == 403) {
		err_set(err, CS_EUSAGE, "%s: access refused (403)%s%s%s", what, msg ? ": " : "",
			msg ? msg : "",
			anonymous ? "; private repositories need a token: set GH_TOKEN or run gh auth login"
				  : "; the token may lack read access to Actions of this repository");
	} else if (status == 404) {
		err_set(err, CS_ENOTFOUND, "%s: not found (404): check that the repository '%s' exists%s",
			what, slug ? slug : "?",
			anonymous ? " and is public (private ones need a token: set GH_TOKEN or run gh "
				    "auth login)"
				  : " and that the token can read it");
	} else if (status == 410) {
		err_set(err, CS_ENOTFOUND, "%s: gone (410)%s%s", what, msg ? ": " : "", msg ? msg : "");
	} else {
		err_set(err, CS_EIO, "%s: HTTP %ld%s%s", what, status, msg ? ": " : "", msg ? msg : "");
	}
	buf_release(&m);
}

/* --- one request ------------------------------------------------------------------------------------- */
int gh_client_init(struct gh_client *c, const char *repo_arg, const char *api_url,
		   struct cs_err *err)
{
	memset(c, 0, sizeof(*c));
	gh_policy_default(&c->pol);
	if (gh_target_resolve(repo_arg, api_url, NULL, &c->t, err) < 0)
		return -1;
	err_clear(err);
	c->token = gh_token_discover(c->t.host, &c->token_src, err);
	if (!c->token && err->code) {
		gh_client_release(c);
		return -1;
	}
	if (c->token && !strncasecmp(c->t.api_base, "http://", 7) &&
	    !gh_url_is_loopback(c->t.api_base)) {
		err_set(err, CS_EUSAGE,
			"refusing to send the token (from %s) over plain http to '%s': use https",
			gh_token_src_name(c->token_src), c->t.api_base);
		gh_client_release(c);
		return -1;
	}
	return 0;
}

void gh_client_release(struct gh_client *c)
{
	gh_target_free(&c->t);
	gh_token_free(c->token);
	c->token = NULL;
}

void gh_easy_setup(void *curl, const struct gh_client *c, const char *url, bool api, void **hdrs)
{
	CURL *h = curl;
	struct curl_slist *l = *hdrs;
	lc.curl_easy_setopt(h, CURLOPT_URL, url);
	lc.curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	lc.curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	lc.curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	lc.curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	lc.curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc.curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	/* a body that stalls (under 1 byte/s for a minute) is a timeout */
	lc.curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	lc.curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	lc.curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	lc.curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	lc.curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	if (api) {
		l = lc.curl_slist_append(l, "Accept: " GH_ACCEPT);
		l = lc.curl_slist_append(l, "X-GitHub-Api-Version: " GH_API_VERSION);
		if (c->token && gh_same_origin(url, c->t.api_base)) {
			lc.curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
			lc.curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->token);
		}
	}
	if (l)
		lc.curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	*hdrs = l;
}

struct sync_ctx {
	struct buf *body;
	char retry_after[128];
	long rl_remaining;
	int64_t rl_reset;
};

static size_t sync_write(char *p, size_t size, size_t n, void *ud)
{
	struct sync_ctx *s = ud;
	if (s->body->len + size * n > (64u << 20))
		return 0;
	buf_add(s->body, p, size * n);
	return size * n;
}

bool gh_header_value(const char *line, size_t n, const char *name, char *out, size_t outn)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || !ieq_n(line, name, k))
		return false;
	const char *v = line + k + 1;
	size_t vn = n - k - 1;
	while (vn && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	if (vn >= outn)
		vn = outn - 1;
	memcpy(out, v, vn);
	out[vn] = '\0';
	return true;
}

static size_t sync_header(char *p, size_t size, size_t n, void *ud)
{
	struct sync_ctx *s = ud;
	size_t len = size * n;
	char v[128];
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
		s->retry_after[0] = '\0';
		s->rl_remaining = -1;
		s->rl_reset = 0;
	} else if (gh_header_value(p, len, "retry-after", v, sizeof(v))) {
		snprintf(s->retry_after, sizeof(s->retry_after), "%s", v);
	} else if (gh_header_value(p, len, "x-ratelimit-remaining", v, sizeof(v))) {
		s->rl_remaining = strtol(v, NULL, 10);
	} else if (gh_header_value(p, len, "x-ratelimit-reset", v, sizeof(v))) {
		s->rl_reset = strtoll(v, NULL, 10);
	}
	return len;
}

enum gh_net gh_net_of_curl(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK: return GH_NET_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return GH_NET_RETRY;
	default:
		return GH_NET_FATAL;
	}
}

/* --- one request, without blocking ------------------------------------------------------------ */
struct gh_call {
	const struct gh_client *c;
	char *method, *url, *body, *what;
	bool post;
	CURLM *multi;
	CURL *h;                  /* the transfer in flight, or NULL */
	struct curl_slist *hdrs;
	struct sync_ctx s;
	struct buf resp;
	char ebuf[CURL_ERROR_SIZE];
	int tries, rate_waits;
	int64_t start_at;         /* monotonic ms of the next attempt; -1: none due */
	struct curl_poll cp;      /* the multi handle's sockets and timer */
	bool done;
	int rc;                   /* 0, or -1 with err */
	long status;
	struct cs_err err;
};

static void call_drop_transfer(struct gh_call *k)
{
	if (!k->h)
		return;
	lc.curl_multi_remove_handle(k->multi, k->h);
	lc.curl_easy_cleanup(k->h);
	k->h = NULL;
	lc.curl_slist_free_all(k->hdrs);
	k->hdrs = NULL;
}

static void call_fail(struct gh_call *k, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void call_fail(struct gh_call *k, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct buf b = BUF_INIT;
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	err_set(&k->err, code, "%s", buf_cstr(&b));
	buf_release(&b);
	k->rc = -1;
	k->done = true;
	k->start_at = -1;
}

/* Start (or restart) the transfer. */
static void call_begin(struct gh_call *k)
{
	k->start_at = -1;
	k->h = lc.curl_easy_init();
	if (!k->h) {
		call_fail(k, CS_ENOMEM, "%s: cannot start a transfer", k->what);
		return;
	}
	struct curl_slist *hdrs = NULL;
	if (k->body)
		hdrs = lc.curl_slist_append(hdrs, "Content-Type: application/json");
	void *hv = hdrs;
	gh_easy_setup(k->h, k->c, k->url, true, &hv);
	k->hdrs = hv;
	k->ebuf[0] = '\0';
	lc.curl_easy_setopt(k->h, CURLOPT_ERRORBUFFER, k->ebuf);
	if (k->post) {
		lc.curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, k->method);
		lc.curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, k->body ? k->body : "");
		lc.curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE, (long)(k->body ? strlen(k->body) : 0));
	}
	buf_reset(&k->resp);
	k->s = (struct sync_ctx){.body = &k->resp, .rl_remaining = -1};
	lc.curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, sync_write);
	lc.curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &k->s);
	lc.curl_easy_setopt(k->h, CURLOPT_HEADERFUNCTION, sync_header);
	lc.curl_easy_setopt(k->h, CURLOPT_HEADERDATA, &k->s);
	if (lc.curl_multi_add_handle(k->multi, k->h) != CURLM_OK) {
		call_drop_transfer(k);
		call_fail(k, CS_EIO, "%s: cannot start a transfer", k->what);
	}
}

/* The transfer ended with rc: done, or a retry after a wait (the policy of
 * gh_request: a write is repeated only when nothing can have been sent). */
static void call_settle(struct gh_call *k, CURLcode rc)
{
	k->tries++;
	long code = 0;
	lc.curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
	call_drop_transfer(k);
	struct gh_answer a = {.net = gh_net_of_curl(rc), .status = code, .api = true,
			      .retry_after = k->s.retry_after[0] ? k->s.retry_after : NULL,
			      .rl_remaining = k->s.rl_remaining, .rl_reset = k->s.rl_reset,
			      .body = k->resp.data, .body_len = k->resp.len};
	/* a write may have reached GitHub before the connection broke:
	 * only a refused connection is safe to repeat */
	if (k->post && a.net == GH_NET_RETRY && rc != CURLE_COULDNT_CONNECT &&
	    rc != CURLE_COULDNT_RESOLVE_HOST)
		a.net = GH_NET_FATAL;
	struct gh_decision d = {GH_FAIL, 0};
	/* nor a write GitHub answered with a server error */
	if (!(k->post && a.net == GH_NET_OK && code >= 500))
		gh_decide(&a, k->tries, k->rate_waits, &k->c->pol, time_now_ms(), (uint32_t)rand(),
			  &d);
	k->status = code;
	switch (d.v) {
	case GH_DONE:
	case GH_NOT_MODIFIED:
		k->rc = 0;
		k->done = true;
		return;
	case GH_WAIT_SECONDARY:
		k->rate_waits++;
		/* fall through */
	case GH_RETRY:
		k->start_at = mono_ms() + (d.wait_ms > 0 ? d.wait_ms : 0);
		return;
	case GH_WAIT_PRIMARY:
		call_fail(k, CS_EIO, "%s: the GitHub API rate limit is exhausted; it resets in %llds",
			  k->what, (long long)(d.wait_ms / 1000));
		return;
	case GH_FOLLOW:
		call_fail(k, CS_EIO, "%s: unexpected redirect (HTTP %ld)", k->what, code);
		return;
	case GH_FAIL:
		break;
	}
	if (a.net != GH_NET_OK) {
		call_fail(k, CS_EIO, "%s: %s%s%s", k->what, lc.curl_easy_strerror(rc),
			  k->ebuf[0] ? ": " : "", k->ebuf);
		return;
	}
	gh_http_error(&k->err, code, k->resp.data, k->resp.len, k->what, k->c->t.slug,
		      k->c->token == NULL);
	k->rc = -1;
	k->done = true;
}

struct gh_call *gh_call_start(const struct gh_client *c, const char *method, const char *url,
			      const char *body, const char *what, struct cs_err *err)
{
	if (curl_lib_init(what, err) < 0)
		return NULL;
	struct gh_call *k = xcalloc(1, sizeof(*k));
	k->multi = lc.curl_multi_init();
	if (!k->multi) {
		free(k);
		err_set(err, CS_ENOMEM, "%s: cannot initialise libcurl", what);
		return NULL;
	}
	k->c = c;
	k->method = xstrdup(method);
	k->url = xstrdup(url);
	k->body = body ? xstrdup(body) : NULL;
	k->what = xstrdup(what);
	k->post = strcmp(method, "GET") != 0;
	buf_init(&k->resp);
	curl_poll_init(&k->cp, k->multi);
	call_begin(k);
	return k;
}

int gh_call_fds(struct gh_call *k, struct pollfd *fds, int max, int *timeout_ms)
{
	int n = curl_poll_fds(&k->cp, fds, max);
	int64_t now = mono_ms(), t = -1;
	if (k->done)
		t = 0;
	int64_t cw = curl_poll_wait(&k->cp, now);
	if (cw >= 0)
		t = t < 0 ? cw : MIN(t, cw);
	if (k->start_at >= 0)
		t = t < 0 ? MAX(k->start_at - now, (int64_t)0)
			  : MIN(t, MAX(k->start_at - now, (int64_t)0));
	*timeout_ms = (int)MIN(t, (int64_t)INT32_MAX);
	return n;
}

void gh_call_perform(struct gh_call *k, const struct pollfd *fds, int n)
{
	if (k->done)
		return;
	curl_poll_sockets(&k->cp, fds, n);
	for (int round = 0; round < 4 && !k->done; round++) {
		curl_poll_timer(&k->cp, mono_ms());
		CURLMsg *m;
		int left;
		while (k->h && (m = lc.curl_multi_info_read(k->multi, &left))) {
			if (m->msg == CURLMSG_DONE && m->easy_handle == k->h) {
				call_settle(k, m->data.result);
				break;
			}
		}
		if (!k->done && !k->h && k->start_at >= 0 && mono_ms() >= k->start_at)
			call_begin(k);
		if (!curl_poll_due(&k->cp, mono_ms()))
			break;
	}
}

bool gh_call_done(const struct gh_call *k)
{
	return k->done;
}

int gh_call_finish(struct gh_call *k, long *status, struct buf *resp, struct cs_err *err)
{
	if (!k->done) {
		call_drop_transfer(k);
		err_set(&k->err, CS_EINTR, "%s: cancelled%s", k->what,
			k->post && k->tries + (k->h ? 1 : 0) > 0
				? " (the request may have reached GitHub)"
				: "");
		k->rc = -1;
	}
	call_drop_transfer(k);
	int rc = k->rc;
	if (status)
		*status = k->status;
	if (resp) {
		buf_release(resp);
		*resp = k->resp;
	} else {
		buf_release(&k->resp);
	}
	if (rc < 0)
		*err = k->err;
	lc.curl_multi_cleanup(k->multi);
	curl_poll_release(&k->cp);
	free(k->method);
	free(k->url);
	free(k->body);
	free(k->what);
	free(k);
	return rc;
}

int gh_request(const struct gh_client *c, const char *method, const char *url, const char *body,
	       const char *what, long *status, struct buf *resp, struct cs_err *err)
{
	*status = 0;
	struct gh_call *k = gh_call_start(c, method, url, body, what, err);
	if (!k)
		return -1;
	struct pollfd *pfd = NULL;
	int apfd = 0;
	while (!gh_call_done(k)) {
		int timeout;
		int n = gh_call_fds(k, pfd, apfd, &timeout);
		if (n > apfd) {
			apfd = n + 4;
			pfd = xrealloc(pfd, sizeof(*pfd) * (size_t)apfd);
			n = gh_call_fds(k, pfd, apfd, &timeout);
		}
		if (poll(pfd, (nfds_t)n, timeout < 0 ? 1000 : timeout) < 0) {
			for (int i = 0; i < n; i++)
				pfd[i].revents = 0;
		}
		gh_call_perform(k, pfd, n);
	}
	free(pfd);
	return gh_call_finish(k, status, resp, err);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int gh_resolve_workflow(const struct gh_client *c, const char *workflow, struct buf *out,
			struct cs_err *err)
{
	buf_reset(out);
	if (all_digits(workflow) || str_ends(workflow, ".yml") || str_ends(workflow, ".yaml")) {
		buf_adds(out, path_basename(workflow));
		return 0;
	}
	char *url = gh_repo_url(&c->t, "/actions/workflows?per_page=%d", GH_PER_PAGE);
	struct buf resp = BUF_INIT, names = BUF_INIT, what = BUF_INIT;
	buf_addf(&what, "the workflows of %s", c->t.slug);
	long status;
	int rc = gh_request(c, "GET", url, NULL, what.data, &status, &resp, err);
	free(url);
	if (rc < 0)
		goto out;
	rc = -1;
	cJSON *doc = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "workflows");
	if (!cJSON_IsArray(arr)) {
		err_set(err, CS_EINVAL, "%s: the answer has no \"workflows\" list", what.data);
		cJSON_Delete(doc);
		goto out;
	}
	/* exact name, then case-insensitive name, then the file's base name */
	for (int pass = 0; pass < 3 && rc < 0; pass++) {
		const cJSON *w;
		int hits = 0;
		long long id = 0;
		cJSON_ArrayForEach(w, arr)
		{
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(w, "name");
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(w, "path");
			const cJSON *i = cJSON_GetObjectItemCaseSensitive(w, "id");
			if (!cJSON_IsNumber(i))
				continue;
			bool m = false;
			if (pass == 0 && cJSON_IsString(n))
				m = !strcmp(n->valuestring, workflow);
			else if (pass == 1 && cJSON_IsString(n))
				m = ieq(n->valuestring, workflow);
			else if (pass == 2 && cJSON_IsString(p)) {
				const char *b = path_basename(p->valuestring);
				size_t k = strcspn(b, ".");
				m = k == strlen(workflow) && ieq_n(b, workflow, k);
			}
			if (pass == 0 && cJSON_IsString(n)) {
				if (names.len)
					buf_adds(&names, ", ");
				buf_adds(&names, n->valuestring);
			}
			if (m) {
				hits++;
				id = (long long)i->valuedouble;
			}
		}
		if (hits == 1) {
			buf_addf(out, "%lld", id);
			rc = 0;
		} else if (hits > 1) {
			err_set(err, CS_EUSAGE,
				"more than one workflow of %s is called '%s': give its file name "
				"(ci.yml) or id",
				c->t.slug, workflow);
			break;
		}
	}
	if (rc < 0 && !err->code)
		err_set(err, CS_ENOTFOUND, "no workflow '%s' in %s (workflows: %s)", workflow,
			c->t.slug, names.len ? buf_cstr(&names) : "none");
	cJSON_Delete(doc);
out:
	buf_release(&resp);
	buf_release(&names);
	buf_release(&what);
	return rc;
}

/* --- writes ------------------------------------------------------------------------------------------------ */
void gh_post_free(struct gh_post *p)
{
	free(p->url);
	free(p->body);
	p->url = p->body = NULL;
}

void gh_build_rerun_failed(const struct gh_target *t, int64_t run_id, struct gh_post *p)
{
	p->url = gh_repo_url(t, "/actions/runs/%lld/rerun-failed-jobs", (long long)run_id);
	p->body = NULL;
}

void gh_build_dispatch(const struct gh_target *t, const char *workflow, const char *ref,
		       const char *const *keys, const char *const *values, int n_inputs,
		       struct gh_post *p)
{
	struct buf u = BUF_INIT, b = BUF_INIT;
	buf_addf(&u, "%s/repos/%s/actions/workflows/", t->api_base, t->slug);
	gh_url_escape(&u, workflow);
	buf_adds(&u, "/dispatches");
	buf_adds(&b, "{\"ref\":");
	buf_add_json_str(&b, ref, strlen(ref));
	if (n_inputs > 0) {
		buf_adds(&b, ",\"inputs\":{");
		for (int i = 0; i < n_inputs; i++) {
			if (i)
				buf_addc(&b, ',');
			buf_add_json_str(&b, keys[i], strlen(keys[i]));
			buf_addc(&b, ':');
			buf_add_json_str(&b, values[i], strlen(values[i]));
		}
		buf_addc(&b, '}');
	}
	buf_addc(&b, '}');
	p->url = buf_detach(&u, NULL);
	p->body = buf_detach(&b, NULL);
}

void gh_describe_headers(enum gh_token_src src, struct buf *out)
{
	buf_adds(out, "Accept: " GH_ACCEPT "\n");
	buf_adds(out, "X-GitHub-Api-Version: " GH_API_VERSION "\n");
	if (src == GH_TOK_NONE)
		buf_adds(out, "(no Authorization header: no token was found; GitHub will refuse)\n");
	else
		buf_addf(out, "Authorization: Bearer <the token from %s, not shown>\n",
			 gh_token_src_name(src));
}

void gh_post_describe(const struct gh_post *p, enum gh_token_src src, struct buf *out)
{
	buf_addf(out, "POST %s\n", p->url);
	gh_describe_headers(src, out);
	if (p->body) {
		buf_adds(out, "Content-Type: application/json\n\n");
		buf_adds(out, p->body);
		buf_addc(out, '\n');
	} else {
		buf_adds(out, "\n(no body)\n");
	}
}
