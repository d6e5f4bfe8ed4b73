/* t_misc.c - util.c (time, UTF-8, JSON strings, shell quoting, errors,
 * files), sanitize.c (what reaches a terminal) and remote URL parsing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/gitrepo.h"
#include "core/sanitize.h"
#include "core/util.h"
#include "test.h"

/* --- time -------------------------------------------------------------------------- */

/* Expected values come from the C library's timegm, not from util.c. */
static int64_t tm_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static int64_t parse(const char *s)
{
	return time_parse_rfc3339(s, s ? strlen(s) : 0);
}

TEST(rfc3339_valid)
{
	CHECK_INT(parse("2024-05-01T10:48:36Z"), tm_ms(2024, 5, 1, 10, 48, 36, 0));
	CHECK_INT(parse("1970-01-01T00:00:00Z"), 0);
	/* GitHub log timestamps: 7 fraction digits, truncated to ms */
	CHECK_INT(parse("2024-05-01T10:48:36.8101331Z"), tm_ms(2024, 5, 1, 10, 48, 36, 810));
	CHECK_INT(parse("2024-05-01T10:48:36.5Z"), tm_ms(2024, 5, 1, 10, 48, 36, 500));
	CHECK_INT(parse("2024-05-01T10:48:36.05Z"), tm_ms(2024, 5, 1, 10, 48, 36, 50));
	CHECK_INT(parse("2024-05-01T10:48:36.9999999Z"), tm_ms(2024, 5, 1, 10, 48, 36, 999));
	/* step times carry offsets (hub4j jobs.json) */
	CHECK_INT(parse("2021-04-05T17:42:56.000+02:00"), parse("2021-04-05T15:42:56Z"));
	CHECK_INT(parse("2021-04-05T10:12:56-05:30"), parse("2021-04-05T15:42:56Z"));
	CHECK_INT(parse("2021-04-05T15:42:56+00:00"), parse("2021-04-05T15:42:56Z"));
	CHECK_INT(parse("2024-05-01t10:48:36z"), parse("2024-05-01T10:48:36Z"));
	CHECK_INT(parse("2024-05-01 10:48:36Z"), parse("2024-05-01T10:48:36Z"));
	CHECK_INT(parse("2024-02-29T23:59:59Z"), tm_ms(2024, 2, 29, 23, 59, 59, 0));
	CHECK_INT(parse("2000-03-01T00:00:00Z"), tm_ms(2000, 3, 1, 0, 0, 0, 0));
	CHECK_INT(parse("2100-12-31T23:59:59Z"), tm_ms(2100, 12, 31, 23, 59, 59, 0));
	CHECK_INT(parse("1969-12-31T23:59:59Z"), -1000);
	CHECK_INT(parse("1900-01-01T00:00:00Z"), tm_ms(1900, 1, 1, 0, 0, 0, 0));
	/* only n bytes are read */
	CHECK_INT(time_parse_rfc3339("2024-05-01T10:48:36Zjunk", 20), parse("2024-05-01T10:48:36Z"));
}

TEST(rfc3339_invalid)
{
	static const char *const bad[] = {
		"",
		"2024-05-01",
		"2024-05-01T10:48Z",
		"2024-05-01T10:48:36",       /* no zone */
		"2024-05-01T10:48:36.Z",     /* empty fraction */
		"2024-05-01T10:48:36Zjunk",
		"2024-05-01T10:48:36+0200",
		"2024-05-01T10:48:36+02",
		"2024-05-01T10:48:36 Z",
		"2024-13-01T10:48:36Z",
		"2024-00-01T10:48:36Z",
		"2024-05-00T10:48:36Z",
		"2024-05-32T10:48:36Z",
		"2024-05-01T24:00:00Z",
		"2024-05-01T10:60:00Z",
		"2024-05-01T10:48:61Z",
		"2024/05/01T10:48:36Z",
		"24-05-01T10:48:36Z",
		"+2024-05-01T10:48:36Z",
		"2024-05-01X10:48:36Z",
		"2O24-05-01T10:48:36Z",
		"2024-05-01T10:48:3",
		"null",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (parse(bad[i]) != CS_TIME_NONE)
			t_fail(__FILE__, __LINE__, "'%s' parsed as %lld", bad[i], (long long)parse(bad[i]));
	CHECK_INT(time_parse_rfc3339(NULL, 0), CS_TIME_NONE);
	/* a valid time cut short by n */
	CHECK_INT(time_parse_rfc3339("2024-05-01T10:48:36Z", 19), CS_TIME_NONE);
	CHECK_INT(time_parse_rfc3339("2024-05-01T10:48:36Z", 5), CS_TIME_NONE);
	/* a NUL inside */
	CHECK_INT(time_parse_rfc3339("2024-05-01T10:48:36\0Z", 21), CS_TIME_NONE);
}

/* time_format_iso writes what gmtime_r and strftime write, from before
 * the epoch to past year 9999 */
TEST(iso_format_as_strftime)
{
	char out[40], want[40];
	for (int64_t ms = -62167219200000LL - 86400000LL * 800; ms < 253402300800000LL + 86400000LL * 800;
	     ms += 86400000LL * 11 + 3600000LL * 7 + 61001) {
		time_format_iso(ms, out, sizeof(out));
		time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (strcmp(out, want)) {
			t_fail(__FILE__, __LINE__, "%lld: \"%s\", expected \"%s\"", (long long)ms, out,
			       want);
			break;
		}
	}
}

TEST(iso_format)
{
	char out[40];
	time_format_iso(parse("2024-05-01T10:48:36.810Z"), out, sizeof(out));
	CHECK_STR(out, "2024-05-01T10:48:36Z");
	time_format_iso(0, out, sizeof(out));
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	time_format_iso(-1, out, sizeof(out));
	CHECK_STR(out, "1969-12-31T23:59:59Z");
	time_format_iso(-1000, out, sizeof(out));
	CHECK_STR(out, "1969-12-31T23:59:59Z");
	time_format_iso(-1001, out, sizeof(out));
	CHECK_STR(out, "1969-12-31T23:59:58Z");
	time_format_iso(CS_TIME_NONE, out, sizeof(out));
	CHECK_STR(out, "-");
	/* round trip on many values */
	for (int64_t ms = -86400000LL * 400; ms < 86400000LL * 365 * 200; ms += 86400000LL * 37 + 1234567) {
		time_format_iso(ms, out, sizeof(out));
		int64_t back = parse(out);
		int64_t want = ms >= 0 ? ms / 1000 * 1000 : (ms - 999) / 1000 * 1000;
		if (back != want) {
			t_fail(__FILE__, __LINE__, "%lld -> %s -> %lld", (long long)ms, out, (long long)back);
			break;
		}
	}
}

TEST(now_frozen)
{
	char *old = getenv("CISCOPE_TIME_NOW") ? xstrdup(getenv("CISCOPE_TIME_NOW")) : NULL;
	setenv("CISCOPE_TIME_NOW", "2026-11-21T12:00:00Z", 1);
	CHECK_INT(time_now_ms(), parse("2026-11-21T12:00:00Z"));
	setenv("CISCOPE_TIME_NOW", "1700000000", 1);
	CHECK_INT(time_now_ms(), 1700000000000LL);
	setenv("CISCOPE_TIME_NOW", "not a time", 1);
	CHECK(time_now_ms() > parse("2020-01-01T00:00:00Z"));
	setenv("CISCOPE_TIME_NOW", "", 1);
	CHECK(time_now_ms() > parse("2020-01-01T00:00:00Z"));
	unsetenv("CISCOPE_TIME_NOW");
	int64_t a = time_now_ms();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t b = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	CHECK(a <= b && b - a < 60000);
	if (old)
		setenv("CISCOPE_TIME_NOW", old, 1);
	free(old);
}

TEST(durations)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{CS_TIME_NONE, "-"}, {-1, "-"},	      {0, "0s"},	   {999, "0s"},
		{59999, "59s"},      {60000, "1m 00s"}, {192000, "3m 12s"}, {3599999, "59m 59s"},
		{3600000, "1h 00m"}, {3840000, "1h 04m"}, {360000000, "100h 00m"},
	};
	char out[32];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		time_format_duration(cases[i].ms, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
	}
}

TEST(ages)
{
	int64_t now = parse("2026-11-21T12:00:00Z");
	static const struct {
		int64_t ago_s;
		const char *want;
	} cases[] = {
		{0, "0s ago"},	    {59, "59s ago"},   {60, "1m ago"},	  {3599, "59m ago"},
		{3600, "1h ago"},   {86399, "23h ago"}, {86400, "1d ago"}, {86400 * 59, "59d ago"},
		{-3600, "0s ago"}, /* clock skew: never "in the future" */
	};
	char out[32];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		time_format_age(now - cases[i].ago_s * 1000, now, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
	}
	time_format_age(parse("2021-04-05T15:42:47Z"), now, out, sizeof(out));
	CHECK_STR(out, "2021-04-05");
	time_format_age(now - 86400000LL * 60, now, out, sizeof(out));
	CHECK_STR(out, "2026-09-22");
	time_format_age(CS_TIME_NONE, now, out, sizeof(out));
	CHECK_STR(out, "-");
}

/* --- UTF-8 -------------------------------------------------------------------------- */

static int seq(const char *s)
{
	return utf8_seq_len((const unsigned char *)s, strlen(s));
}

TEST(utf8)
{
	CHECK_INT(seq("a"), 1);
	CHECK_INT(seq("\x7f"), 1);
	CHECK_INT(seq("\xc3\xa9"), 2);
	CHECK_INT(seq("\xc2\x80"), 2);
	CHECK_INT(seq("\xdf\xbf"), 2);
	CHECK_INT(seq("\xe2\x82\xac"), 3);
	CHECK_INT(seq("\xef\xbb\xbf"), 3);
	CHECK_INT(seq("\xef\xbf\xbd"), 3);
	CHECK_INT(seq("\xf0\x9f\x98\x85"), 4);
	CHECK_INT(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	/* overlong, surrogates, out of range, stray and truncated */
	static const char *const bad[] = {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
					  "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80",
					  "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
					  "\xf8\x88\x80\x80\x80", "\xff", "\xfe", "\x80", "\xbf",
					  "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3(", "\xe2(\xac"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (seq(bad[i]) != 0)
			t_fail(__FILE__, __LINE__, "bad[%zu] has length %d", i, seq(bad[i]));
	/* n limits the read */
	CHECK_INT(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	CHECK_INT(utf8_seq_len((const unsigned char *)"a", 0), 0);
	/* NUL is a valid one-byte character */
	CHECK_INT(utf8_seq_len((const unsigned char *)"", 1), 1);

	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid("plain ascii", 11));
	CHECK(utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x85 \xe2\x82\xac", 14));
	CHECK(!utf8_valid("caf\xc3", 4));
	CHECK(!utf8_valid("a\xed\xa0\x80z", 5));
	CHECK(utf8_valid("a\0b", 3));
}

/* --- JSON strings ----------------------------------------------------------------------- */

static const char *json(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	buf_add_json_str(&b, s, n);
	return buf_cstr(&b);
}

/* out must be valid JSON whose string value is want */
static void check_json_value(const char *out, const char *want, size_t want_len, int line)
{
	cJSON *j = cJSON_Parse(out);
	if (!j || !cJSON_IsString(j)) {
		t_fail(__FILE__, line, "%s is not a JSON string", out);
	} else if (strlen(j->valuestring) != want_len || memcmp(j->valuestring, want, want_len)) {
		t_fail(__FILE__, line, "%s decodes to \"%s\"", out, j->valuestring);
	}
	cJSON_Delete(j);
}

TEST(json_strings)
{
	CHECK_STR(json("", 0), "\"\"");
	CHECK_STR(json("plain", 5), "\"plain\"");
	CHECK_STR(json("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_STR(json("\n\r\t", 3), "\"\\n\\r\\t\"");
	CHECK_STR(json("\x01\x1b\x1f\x7f", 4), "\"\\u0001\\u001b\\u001f\\u007f\"");
	CHECK_STR(json("a\0b", 3), "\"a\\u0000b\"");
	CHECK_STR(json("caf\xc3\xa9 \xf0\x9f\x98\x85", 10), "\"caf\xc3\xa9 \xf0\x9f\x98\x85\"");
	/* invalid UTF-8 becomes U+FFFD, one per bad byte */
	CHECK_STR(json("a\xff" "b", 3), "\"a\xef\xbf\xbd" "b\"");
	CHECK_STR(json("\xe2\x82", 2), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	CHECK_STR(json("\xed\xa0\x80", 3), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* "/" and "<" need no escape */
	CHECK_STR(json("</script>", 9), "\"</script>\"");
	check_json_value(json("a\"b\\c\n\x01", 7), "a\"b\\c\n\x01", 7, __LINE__);
	check_json_value(json("caf\xc3\xa9", 5), "caf\xc3\xa9", 5, __LINE__);
	/* every byte value: always valid JSON that cJSON accepts */
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)(i + 1);
	const char *out = json(all, 255);
	CHECK(utf8_valid(out, strlen(out)));
	cJSON *j = cJSON_Parse(out);
	CHECK(j != NULL && cJSON_IsString(j));
	if (j && cJSON_IsString(j))
		CHECK(!memcmp(j->valuestring, all, 127)); /* the ASCII part survives */
	cJSON_Delete(j);
	/* appends */
	struct buf b = BUF_INIT;
	buf_adds(&b, "[");
	buf_add_json_str(&b, "x", 1);
	buf_adds(&b, ",");
	buf_add_json_str(&b, "y", 1);
	buf_adds(&b, "]");
	CHECK_STR(b.data, "[\"x\",\"y\"]");
	buf_release(&b);
}

/* --- shell quoting ------------------------------------------------------------------------ */

/* What /bin/sh makes of the quoted word: it must be the original. */
static void check_shell_roundtrip(const char *s)
{
	struct buf cmd = BUF_INIT, q = BUF_INIT;
	buf_add_shell_quoted(&q, s);
	buf_adds(&cmd, "printf '%s' ");
	buf_adds(&cmd, q.data);
	FILE *p = popen(cmd.data, "r");
	CHECK(p != NULL);
	if (!p)
		return;
	char out[4096];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	CHECK_INT(rc, 0);
	if (strcmp(out, s) != 0)
		t_fail(__FILE__, __LINE__, "sh made \"%s\" of %s", out, q.data);
	buf_release(&cmd);
	buf_release(&q);
}

TEST(shell_quote)
{
	struct buf b = BUF_INIT;
	buf_add_shell_quoted(&b, "abc");
	CHECK_STR(b.data, "'abc'");
	buf_reset(&b);
	buf_add_shell_quoted(&b, "it's");
	CHECK_STR(b.data, "'it'\\''s'");
	buf_reset(&b);
	buf_add_shell_quoted(&b, "");
	CHECK_STR(b.data, "''");
	buf_reset(&b);
	buf_add_shell_quoted(&b, "''");
	CHECK_STR(b.data, "''\\'''\\'''");
	buf_release(&b);
	static const char *const words[] = {
		"plain", "it's", "''", "$(touch /tmp/ciscope-pwned)", "`id`", "a b\tc",
		"new\nline", "feature/x; rm -rf ~", "$HOME", "\\", "!event", "*", "-n", "caf\xc3\xa9",
		"\"double\"", "a'b'c'",
	};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		check_shell_roundtrip(words[i]);
	CHECK(access("/tmp/ciscope-pwned", F_OK) != 0);
}

/* --- strings, paths, errors, files ------------------------------------------------------------ */

TEST(strings_and_paths)
{
	CHECK(str_starts("abc", "ab"));
	CHECK(str_starts("abc", ""));
	CHECK(!str_starts("ab", "abc"));
	CHECK(str_ends("run.zip", ".zip"));
	CHECK(!str_ends("zip", ".zip"));
	CHECK(str_ends("x", ""));
	CHECK_STR(path_basename("a/b/c.txt"), "c.txt");
	CHECK_STR(path_basename("c.txt"), "c.txt");
	CHECK_STR(path_basename(""), "");
	CHECK(str_starts(path_basename("runs/run1/"), "run1"));
	char *p = path_join("a", "b");
	CHECK_STR(p, "a/b");
	free(p);
	p = path_join("a/", "b");
	CHECK_STR(p, "a/b");
	free(p);
	p = xasprintf("%s-%d", "x", 5);
	CHECK_STR(p, "x-5");
	free(p);
	struct buf b = BUF_INIT;
	CHECK_STR(buf_cstr(&b), "");
	char *d = buf_detach(&b, NULL);
	CHECK_STR(d, "");
	free(d);
	buf_addf(&b, "%d %s", 42, "x");
	buf_addc(&b, '!');
	CHECK_STR(b.data, "42 x!");
	CHECK_INT(b.len, 5);
	buf_reset(&b);
	CHECK_STR(buf_cstr(&b), "");
	CHECK_INT(b.len, 0);
	for (int i = 0; i < 10000; i++)
		buf_addc(&b, 'z');
	CHECK_INT(b.len, 10000);
	size_t len;
	d = buf_detach(&b, &len);
	CHECK_INT(len, 10000);
	CHECK_INT(strlen(d), 10000);
	free(d);
	CHECK(b.data == NULL && b.len == 0);
	/* XGROW */
	int *arr = NULL;
	size_t alloc = 0;
	XGROW(arr, alloc, 100);
	CHECK(alloc >= 100);
	arr[99] = 1;
	free(arr);
}

TEST(errors)
{
	struct cs_err err;
	err_clear(&err);
	CHECK_INT(err.code, 0);
	CHECK_STR(err.msg, "");
	CHECK_INT(err_set(&err, CS_EIO, "cannot read '%s': %s", "x", "gone"), -1);
	CHECK_INT(err.code, CS_EIO);
	CHECK_STR(err.msg, "cannot read 'x': gone");
	CHECK_INT(err_prefix(&err, "run folder '%s'", "r"), -1);
	CHECK_STR(err.msg, "run folder 'r': cannot read 'x': gone");
	CHECK_INT(err.code, CS_EIO);
	err_set(&err, 0, "no code");
	CHECK_INT(err.code, CS_EINVAL);
	CHECK_INT(err_set(NULL, CS_EIO, "x"), -1);
	CHECK_INT(err_prefix(NULL, "x"), -1);
	err_clear(NULL);
	/* a prefix that makes the message too long is cut, never inside a
	 * UTF-8 sequence */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 500; i++)
		buf_adds(&b, "\xc3\xa9");
	err_set(&err, CS_EINVAL, "%s", b.data);
	CHECK_INT(strlen(err.msg), 1000);
	for (int k = 0; k < 30; k++) {
		err_prefix(&err, "x%.*s", k % 4, "yyy");
		CHECK(strlen(err.msg) < sizeof(err.msg));
		CHECK(utf8_valid(err.msg, strlen(err.msg)));
		CHECK(str_starts(err.msg, "x"));
	}
	buf_release(&b);
}

TEST(err_set_long_utf8_message)
{
	/* err_set cuts too: a long file name must not leave half a character */
	struct cs_err err;
	struct buf b = BUF_INIT;
	for (int i = 0; i < 600; i++)
		buf_adds(&b, "\xc3\xa9");
	err_set(&err, CS_EINVAL, "cannot read file '%s'", b.data);
	CHECK(strlen(err.msg) < sizeof(err.msg));
	CHECK(utf8_valid(err.msg, strlen(err.msg)));
	buf_release(&b);
}

TEST(files)
{
	struct cs_err err;
	err_clear(&err);
	char *dir = xasprintf("%s/m/n/o", t_tmpdir());
	CHECK_OK(mkdir_p(dir, 0755, &err));
	CHECK(path_is_dir(dir));
	CHECK_OK(mkdir_p(dir, 0755, &err)); /* exists: fine */
	char *f = xasprintf("%s/file", dir);
	const char *p = t_write_file("m/n/o/file", "hello", 5);
	CHECK_STR(p, f);
	CHECK(path_is_file(f));
	CHECK(!path_is_dir(f));
	CHECK(!path_is_file(dir));
	struct buf b = BUF_INIT;
	CHECK_OK(file_read_all(f, 100, &b, &err));
	CHECK_STR(b.data, "hello");
	CHECK_INT(b.len, 5);
	buf_reset(&b);
	err_clear(&err);
	CHECK_INT(file_read_all(f, 4, &b, &err), -1);
	CHECK(strstr(err.msg, f) != NULL);
	CHECK(strstr(err.msg, "larger than 4 bytes") != NULL);
	buf_release(&b);
	char *missing = xasprintf("%s/nope", dir);
	err_clear(&err);
	CHECK_INT(file_read_all(missing, 100, &b, &err), -1);
	CHECK_INT(err.code, CS_ENOTFOUND);
	CHECK(strstr(err.msg, missing) != NULL);
	buf_release(&b);
	/* an empty file reads as an empty, terminated buffer */
	p = t_write_file("m/empty", "", 0);
	CHECK_OK(file_read_all(p, 100, &b, &err));
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
	/* a path through a file cannot be created */
	char *through = xasprintf("%s/x/y", f);
	err_clear(&err);
	CHECK_INT(mkdir_p(through, 0755, &err), -1);
	CHECK_INT(err.code, CS_EIO);
	CHECK(strstr(err.msg, f) != NULL);
	free(through);
	free(missing);
	free(f);
	free(dir);
}

/* --- sanitize --------------------------------------------------------------------------------- */

static const char *san(const char *s, size_t n, unsigned flags)
{
	static struct buf b;
	buf_reset(&b);
	sanitize_append(&b, s, n, flags);
	return buf_cstr(&b);
}

#define SAN(s, flags) san((s), sizeof(s) - 1, (flags))

TEST(sanitize_escapes)
{
	CHECK_STR(SAN("plain text", 0), "plain text");
	CHECK_STR(SAN("\x1b[31mred\x1b[0m", 0), "red");
	CHECK_STR(SAN("\x1b[31mred\x1b[0m", SAN_KEEP_SGR), "\x1b[31mred\x1b[0m");
	CHECK_STR(SAN("\x1b[38;5;208mo\x1b[m", SAN_KEEP_SGR), "\x1b[38;5;208mo\x1b[m");
	CHECK_STR(SAN("\x1b[36;1mecho\x1b[0m", SAN_KEEP_SGR), "\x1b[36;1mecho\x1b[0m");
	/* CSI that are not colours go even when colours stay */
	CHECK_STR(SAN("a\x1b[2Jb\x1b[Hc\x1b[?25ld\x1b[>4me\x1b[1 qf", SAN_KEEP_SGR), "abcdef");
	CHECK_STR(SAN("\x1b[6n", SAN_KEEP_SGR), "");
	/* OSC (titles, hyperlinks, clipboard) with BEL or ST */
	CHECK_STR(SAN("\x1b]0;pwned title\x07text", SAN_KEEP_SGR), "text");
	CHECK_STR(SAN("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", SAN_KEEP_SGR), "link");
	CHECK_STR(SAN("\x1b]52;c;Y3VybCBldmls\x07ok", SAN_KEEP_SGR), "ok");
	/* DCS, SOS, PM, APC */
	CHECK_STR(SAN("a\x1bPq#0;2;0;0;0\x1b\\b", 0), "ab");
	CHECK_STR(SAN("a\x1bXsos\x1b\\b\x1b^pm\x1b\\c\x1b_apc\x07" "d", 0), "abcd");
	/* two-byte and intermediate escapes */
	CHECK_STR(SAN("a\x1b" "cb\x1b(Bc\x1b" "7d\x1b#8e", 0), "abcde");
	/* unterminated at the end: dropped whole */
	CHECK_STR(SAN("ok\x1b[31", SAN_KEEP_SGR), "ok");
	CHECK_STR(SAN("ok\x1b]0;never ends", SAN_KEEP_SGR), "ok");
	CHECK_STR(SAN("ok\x1b", SAN_KEEP_SGR), "ok");
}

TEST(sanitize_controls_and_utf8)
{
	CHECK_STR(SAN("bell\x07", 0), "bell^G");
	CHECK_STR(SAN("a\rb", 0), "a^Mb");
	CHECK_STR(SAN("a\nb", 0), "a^Jb");
	CHECK_STR(SAN("a\tb", 0), "a^Ib");
	CHECK_STR(SAN("a\tb", SAN_KEEP_TAB), "a\tb");
	CHECK_STR(SAN("a\0b", 0), "a^@b");
	CHECK_STR(SAN("a\x7f" "b", 0), "a^?b");
	CHECK_STR(SAN("\x08\x08\x08over", 0), "^H^H^Hover");
	/* C1 controls: raw bytes are not UTF-8; encoded ones are shown */
	CHECK_STR(SAN("a\x9b" "31mb", 0), "a\\x9b31mb");
	CHECK_STR(SAN("a\xc2\x9b" "31mb", 0), "a\\u009b31mb");
	CHECK_STR(SAN("\xc2\x85", 0), "\\u0085");
	CHECK_STR(SAN("\xc2\xa0", 0), "\xc2\xa0"); /* U+00A0 is printable */
	/* invalid UTF-8 */
	CHECK_STR(SAN("\xff\xfe", 0), "\\xff\\xfe");
	CHECK_STR(SAN("\xc3(", 0), "\\xc3(");
	CHECK_STR(SAN("\xed\xa0\x80", 0), "\\xed\\xa0\\x80");
	/* valid UTF-8 stays */
	CHECK_STR(SAN("caf\xc3\xa9 \xf0\x9f\x98\x85 \xe2\x82\xac", 0), "caf\xc3\xa9 \xf0\x9f\x98\x85 \xe2\x82\xac");
	/* BOM and bidi controls disappear */
	CHECK_STR(SAN("\xef\xbb\xbfstart", 0), "start");
	CHECK_STR(SAN("user\xe2\x80\xaegpj.exe", 0), "usergpj.exe");
	CHECK_STR(SAN("a\xe2\x81\xa6" "b\xe2\x81\xa9" "c\xe2\x80\xaa" "d", 0), "abcd");
	CHECK_STR(SAN("\xe2\x80\xa9", 0), "\xe2\x80\xa9"); /* U+2029 is not a bidi override */
	/* appends */
	struct buf b = BUF_INIT;
	buf_adds(&b, "x:");
	sanitize_append(&b, "\x1b[1my", 5, 0);
	CHECK_STR(b.data, "x:y");
	buf_release(&b);
}

/* Whatever the input, the output is valid UTF-8 without any control byte
 * (tab only when asked) and with ESC only as the start of an SGR sequence
 * made of digits and ';' (only when asked). */
static void check_safe(const char *out, size_t n, unsigned flags, int line)
{
	if (!utf8_valid(out, n)) {
		t_fail(__FILE__, line, "output is not UTF-8");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == 0x1b) {
			if (!(flags & SAN_KEEP_SGR) || i + 1 >= n || out[i + 1] != '[') {
				t_fail(__FILE__, line, "ESC at %zu", i);
				return;
			}
			size_t k = i + 2;
			while (k < n && ((out[k] >= '0' && out[k] <= '9') || out[k] == ';'))
				k++;
			if (k >= n || out[k] != 'm') {
				t_fail(__FILE__, line, "non-SGR escape kept at %zu", i);
				return;
			}
			i = k;
			continue;
		}
		if ((c < 0x20 && !(c == '\t' && (flags & SAN_KEEP_TAB))) || c == 0x7f) {
			t_fail(__FILE__, line, "control 0x%02x at %zu", c, i);
			return;
		}
		if (c == 0xc2 && i + 1 < n && (unsigned char)out[i + 1] < 0xa0) {
			t_fail(__FILE__, line, "C1 control at %zu", i);
			return;
		}
	}
}

TEST(sanitize_random_input_is_safe)
{
	uint32_t x = 0x12345678u;
	unsigned char in[256];
	struct buf out = BUF_INIT;
	static const unsigned char alphabet[] = {0x1b, '[', ']', 'P', '\\', 0x07, ';', '3', '1', 'm',
						 'H', '?', 0x9b, 0xc2, 0x80, 0x9b, 0xe2, 0x80,
						 0xae, 0xef, 0xbb, 0xbf, 0xf0, 0x9f, 'a', '\t',
						 '\n', '\r', 0x00, 0x7f, 0xff, ' ', '(', 'B'};
	for (int round = 0; round < 20000; round++) {
		size_t n = round % 64 + 1;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			in[i] = (round & 1) ? (unsigned char)(x >> 24)
					    : alphabet[(x >> 24) % sizeof(alphabet)];
		}
		unsigned flags = (unsigned)round % 4;
		buf_reset(&out);
		sanitize_append(&out, (const char *)in, n, flags);
		check_safe(buf_cstr(&out), out.len, flags, __LINE__);
	}
	buf_release(&out);
}

/* --- remotes ---------------------------------------------------------------------------------- */

static void check_remote(const char *url, const char *slug, const char *host, int line)
{
	struct buf s = BUF_INIT, h = BUF_INIT;
	bool ok = gitrepo_parse_remote(url, &s, &h);
	if (!slug) {
		if (ok)
			t_fail(__FILE__, line, "'%s' accepted as %s", url, buf_cstr(&s));
	} else if (!ok) {
		t_fail(__FILE__, line, "'%s' refused", url);
	} else {
		if (strcmp(buf_cstr(&s), slug) != 0)
			t_fail(__FILE__, line, "'%s': slug %s, expected %s", url, buf_cstr(&s), slug);
		if (host && strcmp(buf_cstr(&h), host) != 0)
			t_fail(__FILE__, line, "'%s': host %s, expected %s", url, buf_cstr(&h), host);
	}
	buf_release(&s);
	buf_release(&h);
}

#define REMOTE(url, slug, host) check_remote((url), (slug), (host), __LINE__)

TEST(remotes_accepted)
{
	REMOTE("https://github.com/hub4j/github-api.git", "hub4j/github-api", "github.com");
	REMOTE("https://github.com/hub4j/github-api", "hub4j/github-api", "github.com");
	REMOTE("https://github.com/hub4j/github-api/", "hub4j/github-api", "github.com");
	REMOTE("https://user:token@github.com/o/r.git", "o/r", "github.com");
	REMOTE("https://ghe.example.com:8443/o/r.git", "o/r", "ghe.example.com");
	REMOTE("http://github.com/o/r", "o/r", "github.com");
	REMOTE("ssh://git@github.com/o/r.git", "o/r", "github.com");
	REMOTE("ssh://git@github.com:22/o/r.git", "o/r", "github.com");
	REMOTE("git@github.com:cli/cli.git", "cli/cli", "github.com");
	REMOTE("git@github.com:cli/cli", "cli/cli", "github.com");
	REMOTE("github.com:o/r.git", "o/r", "github.com");
	REMOTE("git@github.com:/o/r.git", "o/r", "github.com");
	REMOTE("https://github.com/o/r.git?x=1#frag", "o/r", "github.com");
	REMOTE("https://github.com/my-org.x/repo_name.js", "my-org.x/repo_name.js", "github.com");
	/* host may be NULL */
	struct buf s = BUF_INIT;
	CHECK(gitrepo_parse_remote("git@github.com:a/b.git", &s, NULL));
	CHECK_STR(s.data, "a/b");
	buf_release(&s);
}

TEST(remotes_refused)
{
	REMOTE("", NULL, NULL);
	REMOTE("https://github.com", NULL, NULL);
	REMOTE("https://github.com/", NULL, NULL);
	REMOTE("https://github.com/owner", NULL, NULL);
	REMOTE("https://github.com/owner/", NULL, NULL);
	REMOTE("https://github.com/o/r/tree/main", NULL, NULL);
	REMOTE("https://github.com/o/.git", NULL, NULL);
	REMOTE("/home/me/src/repo", NULL, NULL);
	REMOTE("../repo", NULL, NULL);
	REMOTE("git@github.com:noslash", NULL, NULL);
	REMOTE("https://github.com/o/r;touch x", NULL, NULL);
	REMOTE("https://github.com/o/r$(id)", NULL, NULL);
	REMOTE("https://github.com/o w/r", NULL, NULL);
	REMOTE("C:\\Users\\me\\repo", NULL, NULL);
}

TEST(remotes_not_github_style)
{
	/* a local file URL, and "owner" or "name" that are path components,
	 * are not GitHub repositories (the slug ends up in API paths) */
	REMOTE("file:///srv/git/repo.git", NULL, NULL);
	REMOTE("file:///srv/repo.git", NULL, NULL);
	REMOTE("https://github.com/../etc", NULL, NULL);
	REMOTE("https://github.com/o/..", NULL, NULL);
	REMOTE("git@github.com:./r.git", NULL, NULL);
}

/* path_join: one slash between, none added after a folder ending in one */
TEST(path_join_puts_one_slash)
{
	static const char *const c[][3] = {
		{"a", "b", "a/b"},     {"a/", "b", "a/b"},   {"/", "b", "/b"},
		{"", "b", "/b"},       {"a", "", "a/"},      {"dir/sub", "x.log", "dir/sub/x.log"},
		{"a//", "b", "a//b"},  {"a", "/b", "a//b"},  {"", "", "/"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		char *p = path_join(c[i][0], c[i][1]);
		CHECK_STR(p, c[i][2]);
		free(p);
	}
	/* a long folder: the copy is its whole length */
	char a[5000];
	memset(a, 'd', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	char *p = path_join(a, "f");
	CHECK_INT(strlen(p), sizeof(a) + 1);
	CHECK(!strncmp(p, a, sizeof(a) - 1) && !strcmp(p + sizeof(a) - 1, "/f"));
	free(p);
}
