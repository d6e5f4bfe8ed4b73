/* f_github.c - what the fetcher reads from GitHub besides run folders
 * (core/github.c, core/gharchive.c, core/ghdispatch.c): HTTP dates and
 * Retry-After, Link headers, error bodies, log-archive entry names, and a
 * run listing searched for a dispatched run. (The run and job listings a
 * fetch writes as run.json/jobs.json are fuzzed through f_runfolder.)
 *
 * The input, cut at its first NUL, is given to each. Properties:
 *  - a parsed HTTP date written back as IMF-fixdate parses to the same time;
 *    a Retry-After wait is never negative;
 *  - a Link target found is non-empty and part of the header;
 *  - an archive entry's parts come from it (base inside the entry, a
 *    duplicate suffix >= 0); the archive name of a job has none of the
 *    characters GitHub drops, is stable when taken again, is at most 90
 *    UTF-16 units and stands for that job;
 *  - a run found for a sha in a listing has an id above the one given.
 */
#include <time.h>

#include "fuzz.h"

#include "core/ghdispatch.h"
#include "core/github.h"
#include "core/util.h"

static size_t utf16_units(const char *s)
{
	size_t u = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			u += (*p >= 0xF0) ? 2 : 1;
	return u;
}

static void dates(const char *s)
{
	int64_t t = gh_parse_http_date(s);
	if (t != CS_TIME_NONE && t >= 0 && t < 253402300800000LL /* year 10000 */) {
		time_t secs = (time_t)(t / 1000);
		struct tm tm;
		FUZZ_CHECK(gmtime_r(&secs, &tm) != NULL);
		char back[64];
		strftime(back, sizeof(back), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		FUZZ_CHECK(gh_parse_http_date(back) == t - t % 1000);
	}
	int64_t wait = -1;
	if (gh_parse_retry_after(s, 1700000000000LL, &wait))
		FUZZ_CHECK(wait >= 0);
}

static void names(const char *s)
{
	struct buf a = BUF_INIT, b = BUF_INIT, tmp = BUF_INIT;
	gh_archive_name(s, &a);
	FUZZ_CHECK(strpbrk(buf_cstr(&a), "/:\"<>|*?\\") == NULL);
	for (const char *p = a.data; p && *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20);
	FUZZ_CHECK(utf16_units(buf_cstr(&a)) <= 90);
	gh_archive_name(buf_cstr(&a), &b);
	FUZZ_CHECK(!strcmp(buf_cstr(&a), buf_cstr(&b)));
	if (a.len)
		FUZZ_CHECK(gh_archive_name_matches_job(buf_cstr(&a), s, &tmp));

	long ord = 0;
	int dup = -1;
	buf_reset(&b);
	if (gh_parse_job_entry(s, &ord, &b, &dup)) {
		FUZZ_CHECK(dup >= 0);
		FUZZ_CHECK(strstr(s, buf_cstr(&b)) != NULL);
	}
	buf_release(&a);
	buf_release(&b);
	buf_release(&tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	dates(s);
	names(s);

	struct buf url = BUF_INIT;
	static const char *const rels[] = {"next", "last", "prev"};
	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		buf_reset(&url);
		if (gh_link_find(s, rels[i], &url)) {
			FUZZ_CHECK(url.len > 0);
			FUZZ_CHECK(strstr(s, buf_cstr(&url)) != NULL);
		}
	}
	buf_release(&url);
	(void)gh_body_is_secondary((const char *)data, size);

	static const char sha[] = "e190050aa1b2c3d4e5f60718293a4b5c6d7e8f90";
	for (int64_t after = 0; after <= 100; after += 100) {
		struct gh_found_run r;
		struct cs_err err;
		err_clear(&err);
		memset(&r, 0, sizeof(r));
		int rc = gh_find_run_for_sha((const char *)data, size, sha, after, &r, &err);
		FUZZ_CHECK(rc >= -1 && rc <= 1);
		if (rc < 0)
			FUZZ_CHECK(err.msg[0] != '\0');
		if (rc == 1) {
			FUZZ_CHECK(r.id > after);
			FUZZ_CHECK(memchr(r.status, '\0', sizeof(r.status)));
			FUZZ_CHECK(memchr(r.conclusion, '\0', sizeof(r.conclusion)));
		}
	}
	free(s);
	return 0;
}
