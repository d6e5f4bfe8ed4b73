/* t_ziparc.c - zip reading: round trips, hostile names, bombs, caps,
 * truncated and corrupt archives, and three real GitHub zips. Every synthetic
 * archive is written at test time with libzip's writing API. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zip.h>

#include "core/util.h"
#include "core/ziparc.h"
#include "test.h"
#include "testdemo.h"

#define MIB (1024u * 1024u)

/* --- helpers ----------------------------------------------------------------- */

struct zent {
	const char *name;
	const void *data; /* NULL with len 0 and a name ending in '/': a directory */
	size_t len;
	bool store;       /* ZIP_CM_STORE instead of deflate */
};

/* Write a zip of the given entries into the test's tmpdir; returns its path
 * (static buffer, like t_write_file). */
static const char *make_zip(const char *fname, const struct zent *e, size_t n)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), fname);
	int zerr = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!za) {
		fprintf(stderr, "make_zip %s: zip_open error %d\n", path, zerr);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		zip_int64_t idx;
		size_t nl = strlen(e[i].name);
		if (!e[i].data && nl && e[i].name[nl - 1] == '/') {
			idx = zip_dir_add(za, e[i].name, ZIP_FL_ENC_GUESS);
		} else {
			zip_source_t *src = zip_source_buffer(za, e[i].data, e[i].len, 0);
			idx = src ? zip_file_add(za, e[i].name, src, ZIP_FL_ENC_GUESS) : -1;
			if (idx < 0 && src)
				zip_source_free(src);
			if (idx >= 0)
				zip_set_file_compression(za, (zip_uint64_t)idx,
							 e[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
		}
		if (idx < 0) {
			fprintf(stderr, "make_zip %s: cannot add '%s': %s\n", path, e[i].name,
				zip_strerror(za));
			exit(2);
		}
	}
	if (zip_close(za) < 0) {
		fprintf(stderr, "make_zip %s: %s\n", path, zip_strerror(za));
		exit(2);
	}
	return path;
}

/* Deterministic pseudo-random bytes (xorshift): no test depends on luck. */
static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() >> 24);
}

static uint64_t find_entry(struct ziparc *z, const char *name)
{
	struct cs_err err;
	struct zip_entry e;
	for (uint64_t i = 0; i < ziparc_count(z); i++)
		if (ziparc_entry(z, i, &e, &err) == 0 && strcmp(e.name, name) == 0)
			return i;
	return UINT64_MAX;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Replace every occurrence of from with to (same length) in b. */
static int patch_all(struct buf *b, const void *from, const void *to, size_t n)
{
	int count = 0;
	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, from, n) == 0) {
			memcpy(b->data + i, to, n);
			count++;
		}
	return count;
}

struct sink {
	uint64_t total;
	size_t calls;
	size_t biggest;
	int stop_after; /* return 42 after this many calls when > 0 */
};

static int sink_cb(void *ctx, const void *data, size_t n)
{
	struct sink *s = ctx;
	(void)data;
	s->total += n;
	s->calls++;
	if (n > s->biggest)
		s->biggest = n;
	if (s->stop_after > 0 && (int)s->calls >= s->stop_after)
		return 42;
	return 0;
}

/* A source of `size` zero bytes produced on demand, so a 300 MB bomb can be
 * written without 300 MB in memory. */
struct zeros {
	uint64_t size, pos;
	zip_error_t error;
};

static zip_int64_t zeros_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct zeros *z = ud;
	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		z->pos = 0;
		return 0;
	case ZIP_SOURCE_READ: {
		uint64_t n = MIN((uint64_t)len, z->size - z->pos);
		memset(data, 0, (size_t)n);
		z->pos += n;
		return (zip_int64_t)n;
	}
	case ZIP_SOURCE_CLOSE:
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &z->error);
		if (!st)
			return -1;
		zip_stat_init(st);
		st->size = z->size;
		st->valid |= ZIP_STAT_SIZE;
		return sizeof(*st);
	}
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&z->error, data, len);
	case ZIP_SOURCE_SUPPORTS:
		return ZIP_SOURCE_SUPPORTS_READABLE;
	default:
		zip_error_set(&z->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

/* One entry `name` of `size` zeros, deflated at the strongest level. */
static const char *make_zeros_zip(const char *fname, const char *name, uint64_t size)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", t_tmpdir(), fname);
	struct zeros z = {size, 0, {0, 0, NULL}};
	zip_error_init(&z.error);
	int zerr = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	zip_source_t *src = za ? zip_source_function(za, zeros_cb, &z) : NULL;
	zip_int64_t idx = src ? zip_file_add(za, name, src, 0) : -1;
	if (idx < 0 || zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9) < 0 ||
	    zip_close(za) < 0) {
		fprintf(stderr, "make_zeros_zip %s failed\n", path);
		exit(2);
	}
	zip_error_fini(&z.error);
	return path;
}

/* --- names -------------------------------------------------------------------- */

TEST(name_safety_rules)
{
	static const char *const safe[] = {
		"a.txt", "dir/", "dir/sub/file", "a\\b", "..foo", "foo..", "...", "a/..b/c",
		"./a", "1_build (1).txt", "cool job  with slash/1_fob the barz.txt", "C", "Cx:",
		"a/C:/b", "\xef\xbf\xbd/x",
	};
	static const char *const unsafe[] = {
		"", "..", "../", "../evil", "/etc/passwd", "/", "a/../../b", "a/..", "a/../b",
		"C:\\x", "c:/x", "Z:x", "a\\..\\b", "..\\x", "a\\..", "\\\\server\\share\\x",
		"\\x", "a//../b",
	};
	for (size_t i = 0; i < ARRAY_SIZE(safe); i++)
		if (!ziparc_name_safe(safe[i]))
			t_fail(__FILE__, __LINE__, "'%s' should be safe", safe[i]);
	for (size_t i = 0; i < ARRAY_SIZE(unsafe); i++)
		if (ziparc_name_safe(unsafe[i]))
			t_fail(__FILE__, __LINE__, "'%s' should be unsafe", unsafe[i]);
	CHECK(!ziparc_name_safe(NULL));
}

TEST(junk_rules)
{
	CHECK(ziparc_entry_junk("__MACOSX/"));
	CHECK(ziparc_entry_junk("__MACOSX"));
	CHECK(ziparc_entry_junk("__MACOSX/cool job/._1_fob the barz.txt"));
	CHECK(ziparc_entry_junk(".DS_Store"));
	CHECK(ziparc_entry_junk("cool job  with slash/.DS_Store"));
	CHECK(!ziparc_entry_junk("a/__MACOSX/x"));
	CHECK(!ziparc_entry_junk("__MACOSX_notes.txt"));
	CHECK(!ziparc_entry_junk("x.DS_Store"));
	CHECK(!ziparc_entry_junk(".DS_Store.txt"));
	CHECK(!ziparc_entry_junk("build/1_Set up job.txt"));
	CHECK(!ziparc_entry_junk(NULL));
}

/* --- round trips --------------------------------------------------------------- */

static unsigned char bin_data[200000];

static const char *make_normal_zip(void)
{
	fill_random(bin_data, sizeof(bin_data));
	for (size_t i = 0; i < sizeof(bin_data); i += 97)
		bin_data[i] = 0; /* NUL bytes inside the data must survive */
	static const char hello[] = "hello, world\r\nline two\n";
	static const char stored[] = "stored bytes, not deflated";
	const struct zent e[] = {
		{"hello.txt", hello, sizeof(hello) - 1, false},
		{"dir/", NULL, 0, false},
		{"dir/data.bin", bin_data, sizeof(bin_data), false},
		{"stored.txt", stored, sizeof(stored) - 1, true},
		{"empty.txt", "", 0, false},
	};
	return make_zip("normal.zip", e, ARRAY_SIZE(e));
}

static void check_normal(struct ziparc *z)
{
	struct cs_err err;
	struct zip_entry e;
	struct buf b = BUF_INIT;

	CHECK_INT(ziparc_count(z), 5);

	CHECK_OK(ziparc_entry(z, 0, &e, &err));
	CHECK_STR(e.name, "hello.txt");
	CHECK_INT(e.index, 0);
	CHECK_INT(e.size, 23);
	CHECK(!e.is_dir && !e.unsafe);
	buf_adds(&b, "X"); /* ziparc_read appends */
	CHECK_OK(ziparc_read(z, 0, 1000, &b, &err));
	CHECK_STR(b.data, "Xhello, world\r\nline two\n");

	CHECK_OK(ziparc_entry(z, 1, &e, &err));
	CHECK_STR(e.name, "dir/");
	CHECK(e.is_dir && !e.unsafe);
	CHECK_INT(e.size, 0);
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 1, 1000, &b, &err));
	CHECK_INT(b.len, 0);

	CHECK_OK(ziparc_entry(z, 2, &e, &err));
	CHECK_STR(e.name, "dir/data.bin");
	CHECK_INT(e.size, sizeof(bin_data));
	CHECK(e.comp_size > 0);
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 2, sizeof(bin_data), &b, &err));
	CHECK_INT(b.len, sizeof(bin_data));
	CHECK(b.len == sizeof(bin_data) && memcmp(b.data, bin_data, b.len) == 0);

	/* pieces are at most 64 KiB, so a 200 kB entry takes several */
	struct sink s = {0, 0, 0, 0};
	CHECK_OK(ziparc_stream(z, 2, UINT64_MAX, sink_cb, &s, &err));
	CHECK_INT(s.total, sizeof(bin_data));
	CHECK(s.biggest <= 64 * 1024);
	CHECK(s.calls >= 4);

	CHECK_OK(ziparc_entry(z, 3, &e, &err));
	CHECK_STR(e.name, "stored.txt");
	CHECK_INT(e.comp_size, e.size);
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 3, 1000, &b, &err));
	CHECK_STR(b.data, "stored bytes, not deflated");

	CHECK_OK(ziparc_entry(z, 4, &e, &err));
	CHECK_STR(e.name, "empty.txt");
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 4, 0, &b, &err)); /* max 0 holds an empty entry */
	CHECK_INT(b.len, 0);

	buf_release(&b);
}

TEST(normal_roundtrip_path)
{
	struct cs_err err;
	const char *path = make_normal_zip();
	struct ziparc *z = ziparc_open(path, &err);
	CHECK(z != NULL);
	if (!z) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return;
	}
	check_normal(z);
	ziparc_close(z);
}

TEST(normal_roundtrip_mem)
{
	struct cs_err err;
	struct buf data = BUF_INIT;
	t_slurp(make_normal_zip(), &data);
	struct ziparc *z = ziparc_open_mem(data.data, data.len, "mem.zip", &err);
	CHECK(z != NULL);
	if (z) {
		check_normal(z);
		ziparc_close(z);
	}
	buf_release(&data);
}

TEST(bad_index)
{
	struct cs_err err;
	struct zip_entry e;
	struct buf b = BUF_INIT;
	struct ziparc *z = ziparc_open(make_normal_zip(), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	CHECK_INT(ziparc_entry(z, 5, &e, &err), -1);
	CHECK(strstr(err.msg, "no entry #5") != NULL);
	CHECK_INT(ziparc_read(z, UINT64_MAX, 10, &b, &err), -1);
	CHECK(strstr(err.msg, "normal.zip") != NULL);
	ziparc_close(z);
	ziparc_close(NULL);
	buf_release(&b);
}

TEST(callback_stop_is_returned)
{
	struct cs_err err;
	struct ziparc *z = ziparc_open(make_normal_zip(), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct sink s = {0, 0, 0, 1};
	CHECK_INT(ziparc_stream(z, 2, UINT64_MAX, sink_cb, &s, &err), 42);
	CHECK_INT(s.calls, 1);
	/* the archive stays usable afterwards */
	struct buf b = BUF_INIT;
	CHECK_OK(ziparc_read(z, 0, 100, &b, &err));
	CHECK_INT(b.len, 23);
	buf_release(&b);
	ziparc_close(z);
}

/* --- hostile names --------------------------------------------------------------- */

TEST(unsafe_names_flagged_rest_readable)
{
	struct cs_err err;
	static const char *const bad[] = {
		"../evil", "/etc/passwd", "a/../../b", "C:\\x", "a\\..\\b",
	};
	struct zent e[ARRAY_SIZE(bad) + 3];
	size_t n = 0;
	e[n++] = (struct zent){"good.txt", "good", 4, false};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		e[n++] = (struct zent){bad[i], "evil", 4, false};
	e[n++] = (struct zent){"dir/ok.txt", "ok", 2, true};
	e[n++] = (struct zent){"a\\b", "backslash, no dots", 18, false};

	struct ziparc *z = ziparc_open(make_zip("evil.zip", e, n), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	CHECK_INT(ziparc_count(z), n);
	for (uint64_t i = 0; i < ziparc_count(z); i++) {
		struct zip_entry ze;
		CHECK_OK(ziparc_entry(z, i, &ze, &err));
		CHECK_STR(ze.name, e[i].name); /* names come back as stored */
		bool want_unsafe = i >= 1 && i <= ARRAY_SIZE(bad);
		if (ze.unsafe != want_unsafe)
			t_fail(__FILE__, __LINE__, "'%s': unsafe == %d", ze.name, ze.unsafe);
	}
	struct buf b = BUF_INIT;
	CHECK_OK(ziparc_read(z, 0, 100, &b, &err));
	CHECK_STR(b.data, "good");
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, n - 2, 100, &b, &err));
	CHECK_STR(b.data, "ok");
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, n - 1, 100, &b, &err));
	CHECK_STR(b.data, "backslash, no dots");
	buf_release(&b);
	ziparc_close(z);
}

/* libzip turns a NUL inside a stored name into a space, so a name can never
 * be cut short by a NUL and hide a suffix from the checks. */
TEST(nul_in_name_becomes_space)
{
	struct cs_err err;
	const struct zent e[] = {{"a\x01" "b", "x", 1, false}};
	struct buf data = BUF_INIT;
	t_slurp(make_zip("nul.zip", e, 1), &data);
	CHECK_INT(patch_all(&data, "a\x01" "b", "a\0b", 3), 2);
	struct ziparc *z = ziparc_open_mem(data.data, data.len, "nul.zip", &err);
	CHECK(z != NULL);
	if (z) {
		struct zip_entry ze;
		CHECK_OK(ziparc_entry(z, 0, &ze, &err));
		CHECK_STR(ze.name, "a b");
		ziparc_close(z);
	}
	buf_release(&data);
}

/* A name flagged UTF-8 that is not UTF-8: libzip 1.7 rejects the whole
 * archive as inconsistent. Either outcome is fine; a crash or a silent
 * half-open is not. */
TEST(utf8_flag_with_invalid_name)
{
	struct cs_err err;
	const struct zent e[] = {{"caf\xc3\xa9.txt", "x", 1, false}, {"plain.txt", "y", 1, false}};
	struct buf data = BUF_INIT;
	t_slurp(make_zip("badutf.zip", e, 2), &data);
	CHECK_INT(patch_all(&data, "\xc3\xa9", "\xff\xfe", 2), 2);
	err_clear(&err);
	struct ziparc *z = ziparc_open_mem(data.data, data.len, "badutf.zip", &err);
	if (z) {
		struct zip_entry ze;
		CHECK_OK(ziparc_entry(z, 1, &ze, &err));
		CHECK_STR(ze.name, "plain.txt");
		ziparc_close(z);
	} else {
		CHECK(strstr(err.msg, "cannot open zip 'badutf.zip': ") == err.msg);
		CHECK(err.code == CS_EINVAL);
	}
	buf_release(&data);
}

/* --- limits ---------------------------------------------------------------------- */

TEST(bomb_300mb_refused)
{
	struct cs_err err;
	const uint64_t size = 300ull * 1000 * 1000;
	const char *path = make_zeros_zip("bomb.zip", "zeros.bin", size);
	struct ziparc *z = ziparc_open(path, &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct zip_entry e;
	CHECK_OK(ziparc_entry(z, 0, &e, &err));
	CHECK_INT(e.size, size);
	CHECK(e.comp_size * ZIP_MAX_RATIO < size / 4);

	struct sink s = {0, 0, 0, 0};
	err_clear(&err);
	CHECK_INT(ziparc_stream(z, 0, UINT64_MAX, sink_cb, &s, &err), -1);
	CHECK(strstr(err.msg, "decompression bomb") != NULL);
	CHECK(strstr(err.msg, "'zeros.bin'") != NULL);
	CHECK(strstr(err.msg, "bomb.zip") != NULL);
	CHECK_INT(err.code, CS_EINVAL);
	/* refused within one piece of the ratio limit, long before the declared
	 * size; the offending piece itself is not delivered */
	uint64_t limit = e.comp_size * ZIP_MAX_RATIO;
	CHECK(s.total <= limit);
	CHECK(s.total + 64 * 1024 >= limit);
	ziparc_close(z);
}

/* The ratio check waits for the first MiB: a tiny, very compressible entry
 * (an empty-ish log, a CSV of zeros) is legitimate. */
TEST(ratio_grace_first_mib)
{
	struct cs_err err;
	struct ziparc *z = ziparc_open(make_zeros_zip("mib.zip", "mib.bin", MIB), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct zip_entry e;
	CHECK_OK(ziparc_entry(z, 0, &e, &err));
	CHECK(e.comp_size * ZIP_MAX_RATIO < MIB); /* the ratio alone would refuse it */
	struct sink s = {0, 0, 0, 0};
	CHECK_OK(ziparc_stream(z, 0, UINT64_MAX, sink_cb, &s, &err));
	CHECK_INT(s.total, MIB);
	ziparc_close(z);

	/* one MiB and a bit more is refused */
	z = ziparc_open(make_zeros_zip("mib2.zip", "mib2.bin", 2 * MIB), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	s = (struct sink){0, 0, 0, 0};
	CHECK_INT(ziparc_stream(z, 0, UINT64_MAX, sink_cb, &s, &err), -1);
	CHECK(strstr(err.msg, "decompression bomb") != NULL);
	CHECK(strstr(err.msg, "'mib2.bin'") != NULL);
	CHECK(s.total <= MIB); /* refused at the first piece past the grace */

	struct buf b = BUF_INIT;
	buf_adds(&b, "keep");
	CHECK_INT(ziparc_read(z, 0, UINT64_MAX, &b, &err), -1);
	CHECK(strstr(err.msg, "decompression bomb") != NULL);
	CHECK_STR(b.data, "keep"); /* a failed read leaves out as it was */
	CHECK_INT(b.len, 4);
	buf_release(&b);
	ziparc_close(z);
}

TEST(max_cap_respected)
{
	struct cs_err err;
	static unsigned char text[100000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('a' + rng() % 26);
	const struct zent e[] = {{"big.txt", text, sizeof(text), false},
				 {"big-stored.txt", text, sizeof(text), true}};
	struct ziparc *z = ziparc_open(make_zip("cap.zip", e, 2), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	for (uint64_t i = 0; i < 2; i++) {
		struct buf b = BUF_INIT;
		struct sink s = {0, 0, 0, 0};
		CHECK_INT(ziparc_stream(z, i, 99999, sink_cb, &s, &err), -1);
		CHECK(strstr(err.msg, "limit of 99999 bytes") != NULL);
		CHECK(strstr(err.msg, i ? "'big-stored.txt'" : "'big.txt'") != NULL);
		CHECK(s.total <= 99999);

		CHECK_INT(ziparc_read(z, i, 99999, &b, &err), -1);
		CHECK_INT(b.len, 0);
		CHECK_OK(ziparc_read(z, i, 100000, &b, &err));
		CHECK_INT(b.len, 100000);
		CHECK(b.len == sizeof(text) && memcmp(b.data, text, b.len) == 0);
		buf_reset(&b);
		CHECK_INT(ziparc_read(z, i, 0, &b, &err), -1);
		CHECK_INT(b.len, 0);
		buf_release(&b);
	}
	ziparc_close(z);

	/* a cap below the bomb threshold stops a bomb by size first */
	z = ziparc_open(make_zeros_zip("capbomb.zip", "z.bin", 8 * MIB), &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct sink s = {0, 0, 0, 0};
	CHECK_INT(ziparc_stream(z, 0, 300000, sink_cb, &s, &err), -1);
	CHECK(strstr(err.msg, "limit of 300000 bytes") != NULL);
	CHECK(s.total <= 300000);
	ziparc_close(z);
}

/* The declared uncompressed size is a hint: lie about it in both headers and
 * the reader must neither trust nor allocate by it. */
TEST(declared_size_lies)
{
	struct cs_err err;
	static char text[50000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('A' + i % 7);
	const struct zent e[] = {{"liar.txt", text, sizeof(text), false}};
	struct buf orig = BUF_INIT, data = BUF_INIT;
	t_slurp(make_zip("liar.zip", e, 1), &orig);
	CHECK(orig.len > 22 + 46 + 30);
	const uint32_t lies[] = {0xfffffff0u, 10u, 0u};
	for (size_t k = 0; k < ARRAY_SIZE(lies); k++) {
		buf_reset(&data);
		buf_add(&data, orig.data, orig.len);
		unsigned char *p = (unsigned char *)data.data;
		uint32_t cd = get_le32(p + data.len - 22 + 16);
		CHECK_INT(get_le32(p), 0x04034b50);
		CHECK_INT(get_le32(p + cd), 0x02014b50);
		put_le32(p + 22, lies[k]);      /* local header: uncompressed size */
		put_le32(p + cd + 24, lies[k]); /* central header */
		err_clear(&err);
		struct ziparc *z = ziparc_open_mem(data.data, data.len, "liar.zip", &err);
		if (!z) {
			CHECK(strstr(err.msg, "liar.zip") != NULL);
			continue;
		}
		struct zip_entry ze;
		CHECK_OK(ziparc_entry(z, 0, &ze, &err));
		CHECK_INT(ze.size, lies[k]);
		struct buf b = BUF_INIT;
		if (ziparc_read(z, 0, 1000000, &b, &err) == 0) {
			CHECK_INT(b.len, sizeof(text));
		} else {
			CHECK(strstr(err.msg, "'liar.txt'") != NULL);
			CHECK_INT(b.len, 0);
		}
		CHECK(b.alloc <= 256 * 1024); /* never sized by the declared 4 GB */
		buf_release(&b);
		ziparc_close(z);
	}
	buf_release(&orig);
	buf_release(&data);
}

/* --- broken archives -------------------------------------------------------------- */

static const char *make_multi_zip(void)
{
	static char text[3][20000];
	struct zent e[3];
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(text[k]); i++)
			text[k][i] = (char)('a' + rng() % 20);
		e[k] = (struct zent){k == 0 ? "one.txt" : k == 1 ? "two/two.txt" : "three.txt",
				     text[k], sizeof(text[k]), k == 2 ? true : false};
	}
	return make_zip("multi.zip", e, 3);
}

TEST(truncated_zip)
{
	struct cs_err err;
	struct buf data = BUF_INIT;
	t_slurp(make_multi_zip(), &data);
	const char *half = t_write_file("half.zip", data.data, data.len / 2);
	CHECK(ziparc_open(half, &err) == NULL);
	CHECK(strstr(err.msg, "cannot open zip '") == err.msg);
	CHECK(strstr(err.msg, "half.zip': truncated or inconsistent archive") != NULL);
	CHECK_INT(err.code, CS_EINVAL);

	CHECK(ziparc_open_mem(data.data, data.len / 2, "half-mem", &err) == NULL);
	CHECK(strstr(err.msg, "cannot open zip 'half-mem': truncated") == err.msg);

	/* end record intact, central directory damaged */
	struct buf cut = BUF_INIT;
	buf_add(&cut, data.data, data.len - 22 - 30);
	buf_add(&cut, data.data + data.len - 22, 22);
	CHECK(ziparc_open_mem(cut.data, cut.len, "cutcd", &err) == NULL);
	CHECK_STR(err.msg, "cannot open zip 'cutcd': truncated or inconsistent archive");
	buf_release(&cut);
	buf_release(&data);
}

/* Every prefix of a valid archive must fail to open with a message, and every
 * suffix must either fail or read cleanly. */
TEST(every_prefix_and_suffix)
{
	struct cs_err err;
	static const char t1[] = "hello hello hello hello hello\n";
	const struct zent e[] = {
		{"a.txt", t1, sizeof(t1) - 1, false},
		{"b/", NULL, 0, false},
		{"b/c.txt", "stored", 6, true},
	};
	struct buf data = BUF_INIT;
	t_slurp(make_zip("small.zip", e, ARRAY_SIZE(e)), &data);
	for (size_t n = 0; n < data.len; n++) {
		/* a private copy of exactly n bytes lets ASan see any overread */
		char *copy = xmalloc(n ? n : 1);
		memcpy(copy, data.data, n);
		err_clear(&err);
		struct ziparc *z = ziparc_open_mem(copy, n, "prefix", &err);
		if (z) {
			t_fail(__FILE__, __LINE__, "prefix of %zu bytes opened", n);
			ziparc_close(z);
		} else if (strstr(err.msg, "cannot open zip 'prefix': ") != err.msg) {
			t_fail(__FILE__, __LINE__, "prefix %zu: '%s'", n, err.msg);
		}
		free(copy);
	}
	for (size_t k = 1; k <= data.len; k++) {
		size_t n = data.len - k;
		char *copy = xmalloc(n ? n : 1);
		memcpy(copy, data.data + k, n);
		err_clear(&err);
		struct ziparc *z = ziparc_open_mem(copy, n, "suffix", &err);
		if (z) {
			for (uint64_t i = 0; i < ziparc_count(z); i++) {
				struct buf b = BUF_INIT;
				err_clear(&err);
				if (ziparc_read(z, i, 1000, &b, &err) < 0)
					CHECK(err.msg[0] != '\0');
				buf_release(&b);
			}
			ziparc_close(z);
		} else {
			CHECK(err.msg[0] != '\0');
		}
		free(copy);
	}
	buf_release(&data);
}

TEST(garbage_empty_missing)
{
	struct cs_err err;
	unsigned char junk[4096];
	fill_random(junk, sizeof(junk));
	junk[0] = 'X'; /* not "PK" */
	const char *p = t_write_file("garbage.zip", junk, sizeof(junk));
	CHECK(ziparc_open(p, &err) == NULL);
	CHECK(strstr(err.msg, "garbage.zip': not a zip archive") != NULL);
	CHECK_INT(err.code, CS_EINVAL);

	memset(junk, 0, sizeof(junk));
	p = t_write_file("nuls.zip", junk, sizeof(junk));
	CHECK(ziparc_open(p, &err) == NULL);
	CHECK(strstr(err.msg, "nuls.zip': not a zip archive") != NULL);

	p = t_write_file("text.zip", "<html>404 Not Found</html>\n", 27);
	CHECK(ziparc_open(p, &err) == NULL);
	CHECK(strstr(err.msg, "text.zip': not a zip archive") != NULL);

	p = t_write_file("empty.zip", "", 0);
	CHECK(ziparc_open(p, &err) == NULL);
	CHECK(strstr(err.msg, "empty.zip': empty file") != NULL);
	CHECK(ziparc_open_mem("", 0, NULL, &err) == NULL);
	CHECK_STR(err.msg, "cannot open zip '(memory)': empty file (not a zip archive)");

	char missing[4200];
	snprintf(missing, sizeof(missing), "%s/no-such.zip", t_tmpdir());
	CHECK(ziparc_open(missing, &err) == NULL);
	CHECK(strstr(err.msg, "no-such.zip': No such file or directory") != NULL);
	CHECK_INT(err.code, CS_ENOTFOUND);

	CHECK(ziparc_open(t_tmpdir(), &err) == NULL);
	CHECK(strstr(err.msg, "': is a directory") != NULL);

	/* the smallest valid zip: an end record and nothing else */
	static const unsigned char eocd[22] = {'P', 'K', 5, 6};
	struct ziparc *z = ziparc_open_mem(eocd, sizeof(eocd), "empty-archive", &err);
	CHECK(z != NULL);
	if (z) {
		CHECK_INT(ziparc_count(z), 0);
		ziparc_close(z);
	}
}

TEST(crc_error_names_entry)
{
	struct cs_err err;
	static const char payload[] = "this payload will be damaged after writing";
	const struct zent e[] = {
		{"fine.txt", "fine", 4, true},
		{"damaged.txt", payload, sizeof(payload) - 1, true},
	};
	struct buf data = BUF_INIT;
	t_slurp(make_zip("crc.zip", e, 2), &data);
	CHECK_INT(patch_all(&data, "damaged after", "DAMAGED after", 13), 1);
	const char *p = t_write_file("crc-bad.zip", data.data, data.len);

	struct ziparc *z = ziparc_open(p, &err);
	CHECK(z != NULL); /* the damage is only visible when reading */
	if (!z)
		return;
	struct buf b = BUF_INIT;
	buf_adds(&b, "prior");
	CHECK_INT(ziparc_read(z, 1, 1000, &b, &err), -1);
	CHECK(strstr(err.msg, "cannot read entry 'damaged.txt' of zip '") == err.msg);
	CHECK(strstr(err.msg, "CRC") != NULL);
	CHECK_INT(err.code, CS_EINVAL);
	CHECK_STR(b.data, "prior");
	CHECK_INT(b.len, 5);
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 0, 1000, &b, &err));
	CHECK_STR(b.data, "fine");
	buf_release(&b);
	ziparc_close(z);
	buf_release(&data);
}

TEST(corrupt_deflate_names_entry)
{
	struct cs_err err;
	static char text[30000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + rng() % 26);
	const struct zent e[] = {{"inflate-me.txt", text, sizeof(text), false}};
	struct buf data = BUF_INIT;
	t_slurp(make_zip("deflate.zip", e, 1), &data);
	/* scribble over the middle of the compressed stream */
	unsigned char *p = (unsigned char *)data.data;
	size_t start = 30 + strlen("inflate-me.txt");
	for (size_t i = start + 200; i < start + 260; i++)
		p[i] ^= 0x5a;
	struct ziparc *z = ziparc_open_mem(data.data, data.len, "deflate.zip", &err);
	CHECK(z != NULL);
	if (z) {
		struct buf b = BUF_INIT;
		CHECK_INT(ziparc_read(z, 0, 1000000, &b, &err), -1);
		CHECK(strstr(err.msg, "cannot read entry 'inflate-me.txt' of zip 'deflate.zip': ") ==
		      err.msg);
		CHECK_INT(b.len, 0);
		buf_release(&b);
		ziparc_close(z);
	}
	buf_release(&data);
}

/* Random byte damage anywhere: clean errors or clean data, never a crash
 * (this test earns its keep under ASan/UBSan). */
TEST(random_damage)
{
	struct cs_err err;
	struct buf orig = BUF_INIT;
	t_slurp(make_multi_zip(), &orig);
	int opened = 0, failed_open = 0;
	for (int round = 0; round < 400; round++) {
		char *copy = xmalloc(orig.len);
		memcpy(copy, orig.data, orig.len);
		int flips = 1 + (int)(rng() % 4);
		for (int f = 0; f < flips; f++) {
			/* aim half of the damage at the headers near the end */
			size_t at = rng() % 2 ? rng() % orig.len : orig.len - 1 - rng() % 200;
			copy[at] = (char)(rng() >> 24);
		}
		err_clear(&err);
		struct ziparc *z = ziparc_open_mem(copy, orig.len, "damaged", &err);
		if (!z) {
			failed_open++;
			CHECK(strstr(err.msg, "cannot open zip 'damaged': ") == err.msg);
			free(copy);
			continue;
		}
		opened++;
		for (uint64_t i = 0; i < ziparc_count(z); i++) {
			struct zip_entry ze;
			struct buf b = BUF_INIT;
			if (ziparc_entry(z, i, &ze, &err) < 0) {
				CHECK(err.msg[0] != '\0');
				continue;
			}
			err_clear(&err);
			if (ziparc_read(z, i, 64 * 1024, &b, &err) < 0)
				CHECK(strstr(err.msg, "damaged") != NULL);
			CHECK(b.len <= 64 * 1024);
			buf_release(&b);
		}
		ziparc_close(z);
		free(copy);
	}
	CHECK(opened > 0);
	CHECK(failed_open > 0);
	buf_release(&orig);
}

TEST(encrypted_entry_refused)
{
	struct cs_err err;
	if (!zip_encryption_method_supported(ZIP_EM_AES_256, 1))
		return; /* this libzip build cannot write one */
	const struct zent e[] = {{"secret.txt", "secret", 6, false}, {"open.txt", "open", 4, false}};
	const char *path = make_zip("enc.zip", e, 2);
	int zerr = 0;
	zip_t *za = zip_open(path, 0, &zerr);
	CHECK(za != NULL);
	if (!za)
		return;
	CHECK_INT(zip_file_set_encryption(za, 0, ZIP_EM_AES_256, "pw"), 0);
	CHECK_INT(zip_close(za), 0);
	struct ziparc *z = ziparc_open(path, &err);
	CHECK(z != NULL);
	if (!z)
		return;
	struct buf b = BUF_INIT;
	CHECK_INT(ziparc_read(z, 0, 100, &b, &err), -1);
	CHECK(strstr(err.msg, "cannot read entry 'secret.txt' of zip '") == err.msg);
	CHECK(strstr(err.msg, "': the entry is encrypted") != NULL);
	CHECK_OK(ziparc_read(z, 1, 100, &b, &err));
	CHECK_STR(b.data, "open");
	buf_release(&b);
	ziparc_close(z);
}

/* --- real archives ---------------------------------------------------------------- */

struct want {
	const char *name;
	bool junk, dir, unsafe;
	uint64_t size;
};

static void check_listing(struct ziparc *z, const struct want *w, size_t n)
{
	struct cs_err err;
	CHECK_INT(ziparc_count(z), n);
	for (uint64_t i = 0; i < n && i < ziparc_count(z); i++) {
		struct zip_entry e;
		CHECK_OK(ziparc_entry(z, i, &e, &err));
		CHECK_STR(e.name, w[i].name);
		if (ziparc_entry_junk(e.name) != w[i].junk || e.is_dir != w[i].dir ||
		    e.unsafe != w[i].unsafe || e.size != w[i].size)
			t_fail(__FILE__, __LINE__, "'%s': junk %d dir %d unsafe %d size %llu",
			       e.name, ziparc_entry_junk(e.name), e.is_dir, e.unsafe,
			       (unsigned long long)e.size);
		/* the real data is honest: every entry reads back at its declared size */
		struct buf b = BUF_INIT;
		CHECK_OK(ziparc_read(z, i, 1 * MIB, &b, &err));
		CHECK_INT(b.len, w[i].size);
		buf_release(&b);
	}
}

/* Lists from `unzip -l` and python's zipfile. */
TEST(fixture_cli_run_log)
{
	struct cs_err err;
	struct buf emoji = BUF_INIT;
	buf_adds(&emoji, "Emoji Test ");
	for (int i = 0; i < 39; i++)
		buf_adds(&emoji, "\xf0\x9f\x98\x85");
	buf_adds(&emoji, "\xef\xbf\xbd/"); /* cut at a length limit by the server */
	char *edir = xstrdup(emoji.data);
	char *efile = xasprintf("%s1_Emoji Job.txt", edir);
	char *emac = xasprintf("__MACOSX/%s._1_Emoji Job.txt", edir);
#define LONG "thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_thisisnineteenchars_thisisnine/"
	const struct want w[] = {
		{LONG, false, true, false, 0},
		{LONG "1_Long Name Job.txt", false, false, false, 32},
		{"__MACOSX/" LONG "._1_Long Name Job.txt", true, false, false, 432},
		{"ad job/", false, true, false, 0},
		{"ad job/1_barf the quux.txt", false, false, false, 9},
		{"cool job/", false, true, false, 0},
		{"cool job/1_fob the barz.txt", false, false, false, 33},
		{"__MACOSX/cool job/._1_fob the barz.txt", true, false, false, 176},
		{"cool job/2_barz the fob.txt", false, false, false, 33},
		{"__MACOSX/cool job/._2_barz the fob.txt", true, false, false, 176},
		{"cool job  with slash/", false, true, false, 0},
		{"cool job  with slash/1_fob the barz.txt", false, false, false, 33},
		{"cool job  with slash/.DS_Store", true, false, false, 6148},
		{"__MACOSX/cool job  with slash/._.DS_Store", true, false, false, 120},
		{edir, false, true, false, 0},
		{efile, false, false, false, 32},
		{emac, true, false, false, 432},
		{"sad job/", false, true, false, 0},
		{"sad job/2_quux the barf.txt", false, false, false, 33},
		{"sad job/1_barf the quux.txt", false, false, false, 33},
		{"cool job  with colon/", false, true, false, 0},
		{"cool job  with colon/1_fob the barz.txt", false, false, false, 33},
	};
#undef LONG
	struct ziparc *z = ziparc_open(t_fixture("cli-cli/pkg/cmd/run/view/fixtures/run_log.zip"), &err);
	CHECK(z != NULL);
	if (z) {
		check_listing(z, w, ARRAY_SIZE(w));
		struct buf b = BUF_INIT;
		CHECK_OK(ziparc_read(z, find_entry(z, "cool job/1_fob the barz.txt"), 100, &b, &err));
		CHECK_STR(b.data, "log line 1\nlog line 2\nlog line 3\n");
		buf_reset(&b);
		CHECK_OK(ziparc_read(z, find_entry(z, "ad job/1_barf the quux.txt"), 100, &b, &err));
		CHECK_STR(b.data, "whatever\n");
		buf_release(&b);
		ziparc_close(z);
	} else {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
	}
	free(edir);
	free(efile);
	free(emac);
	buf_release(&emoji);
}

TEST(fixture_cli_myproject)
{
	struct cs_err err;
	const struct want w[] = {
		{"readme.md", false, false, false, 8},
		{"bin/", false, true, false, 0},
		{"bin/myexe", false, false, false, 10},
		{"src/", false, true, false, 0},
		{"src/util.go", false, false, false, 13},
		{"src/main.go", false, false, false, 16},
		{"../LICENSE", false, false, true, 1068},
	};
	struct buf data = BUF_INIT;
	t_slurp(t_fixture("cli-cli/pkg/cmd/run/download/fixtures/myproject.zip"), &data);
	struct ziparc *z = ziparc_open_mem(data.data, data.len, "myproject.zip", &err);
	CHECK(z != NULL);
	if (z) {
		check_listing(z, w, ARRAY_SIZE(w));
		struct buf b = BUF_INIT;
		CHECK_OK(ziparc_read(z, 0, 100, &b, &err));
		CHECK_STR(b.data, "# Hello\n");
		buf_reset(&b);
		/* unsafe means "not a path", the bytes are still there */
		CHECK_OK(ziparc_read(z, 6, 2000, &b, &err));
		CHECK(str_starts(buf_cstr(&b), "MIT License\n"));
		buf_release(&b);
		ziparc_close(z);
	}
	buf_release(&data);
}

TEST(fixture_hub4j_run_log)
{
	struct cs_err err;
	const struct want w[] = {
		{"build/1_Set up job.txt", false, false, false, 1706},
		{"build/2_Run actionscheckout@v2.txt", false, false, false, 5852},
		{"build/4_Run a multi-line script.txt", false, false, false, 447},
		{"build/9_Complete job.txt", false, false, false, 59},
		{"build/3_Run a one-line script.txt", false, false, false, 267},
		{"build/", false, true, false, 0},
		{"1_build.txt", false, false, false, 10025},
		{"1_build (1).txt", false, false, false, 456},
		{"build/8_Post Run actionscheckout@v2.txt", false, false, false, 1037},
	};
	struct ziparc *z = ziparc_open(
		t_fixture("hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/"
			  "wiremock/testLogs_actions-user-content/__files/"
			  "1-u_a_p_1_runs_101_signedlogcontent.txt"),
		&err);
	CHECK(z != NULL);
	if (!z) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return;
	}
	check_listing(z, w, ARRAY_SIZE(w));
	struct buf b = BUF_INIT;
	CHECK_OK(ziparc_read(z, 3, 100, &b, &err));
	CHECK_STR(b.data, "2021-04-02T10:48:39.9612115Z Cleaning up orphan processes\r\n");
	buf_reset(&b);
	CHECK_OK(ziparc_read(z, 6, 20000, &b, &err));
	CHECK(str_starts(buf_cstr(&b), "2021-04-02T10:48:28.9850151Z ##[section]Starting: "
				       "Request a runner to run this job\r\n"));
	/* a cap below the real size is enforced on real data too */
	buf_reset(&b);
	CHECK_INT(ziparc_read(z, 6, 10024, &b, &err), -1);
	CHECK(strstr(err.msg, "'1_build.txt'") != NULL);
	buf_release(&b);
	ziparc_close(z);
}
