/* ziparc.c - defensive reading of untrusted zip archives over libzip.
 *
 * libzip does the parsing; this file adds what libzip leaves to its caller:
 * path-safety of entry names, an output cap and a ratio check while
 * inflating, and error messages that name the archive and the entry.
 */
#include "ziparc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zip.h>

#include "dynlib.h"

/* libzip is loaded by the first archive opened (dynlib.h), not by every
 * process: with it come libcrypto, libbz2 and libz, over a millisecond of
 * start-up. lz holds exactly the functions called here (lz.zip_...). */
#define LZ_FUNCS(X) X(zip_discard) X(zip_error_clear) X(zip_error_code_system) \
	X(zip_error_code_zip) X(zip_error_fini) X(zip_error_init) X(zip_error_strerror) \
	X(zip_error_system_type) X(zip_fclose) X(zip_file_strerror) X(zip_fopen_index) X(zip_fread) \
	X(zip_get_error) X(zip_get_name) X(zip_get_num_entries) X(zip_open_from_source) \
	X(zip_source_buffer_create) X(zip_source_file_create) X(zip_source_free) X(zip_stat_index) \
	X(zip_strerror)
static struct {
	LZ_FUNCS(DYNLIB_MEMBER)
} lz;
DYNLIB_LOADER(lz, LZ_FUNCS, ZIP_SONAME, ZIP_PACKAGE)

static int load_libzip(const char *label, struct cs_err *err)
{
	if (DYNLIB_LOAD(lz))
		return 0;
	return err_set(err, CS_EIO, "cannot open zip '%s': %s", label, lz_lib.error);
}

#define PIECE (64 * 1024)
/* "whole file": -1 in every libzip; 0 meant the same before 1.10.1 but means
 * zero bytes since, so never pass 0. */
#ifdef ZIP_LENGTH_TO_END
#define WHOLE_FILE ZIP_LENGTH_TO_END
#else
#define WHOLE_FILE (-1)
#endif
#define RATIO_GRACE (1024 * 1024) /* small entries may legitimately compress very well */

struct ziparc {
	zip_t *za;
	char *label; /* path or caller's label, for messages */
};

/* --- opening ----------------------------------------------------------------- */

/* A download cut short still starts with a local file header but has lost the
 * central directory at the end; libzip only says "not a zip archive", which
 * would send the user looking for the wrong problem. */
static bool looks_like_zip_start(const unsigned char *p, size_t n)
{
	return n >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4;
}

static int open_error(struct cs_err *err, const char *label, zip_error_t *ze, bool zip_start)
{
	int zc = lz.zip_error_code_zip(ze);
	int sys = lz.zip_error_code_system(ze);
	bool has_sys = lz.zip_error_system_type(ze) == ZIP_ET_SYS && sys != 0;

	switch (zc) {
	case ZIP_ER_NOZIP:
		if (zip_start)
			return err_set(err, CS_EINVAL,
				       "cannot open zip '%s': truncated or inconsistent archive "
				       "(it starts like a zip but has no end of central directory)",
				       label);
		return err_set(err, CS_EINVAL, "cannot open zip '%s': not a zip archive", label);
	case ZIP_ER_INCONS:
		return err_set(err, CS_EINVAL,
			       "cannot open zip '%s': truncated or inconsistent archive", label);
	case ZIP_ER_EOF:
		return err_set(err, CS_EINVAL,
			       "cannot open zip '%s': truncated archive (unexpected end of data)",
			       label);
	case ZIP_ER_MULTIDISK:
		return err_set(err, CS_EINVAL,
			       "cannot open zip '%s': multi-disk archives are not supported", label);
	case ZIP_ER_MEMORY:
		return err_set(err, CS_ENOMEM, "cannot open zip '%s': out of memory", label);
	case ZIP_ER_NOENT:
		return err_set(err, CS_ENOTFOUND, "cannot open zip '%s': %s", label,
			       strerror(ENOENT));
	case ZIP_ER_OPEN:
	case ZIP_ER_READ:
	case ZIP_ER_SEEK:
	case ZIP_ER_TELL:
		if (has_sys)
			return err_set(err, CS_EIO, "cannot open zip '%s': %s", label,
				       strerror(sys));
		break;
	default:
		break;
	}
	return err_set(err, CS_EINVAL, "cannot open zip '%s': %s", label, lz.zip_error_strerror(ze));
}

static struct ziparc *wrap(zip_t *za, const char *label)
{
	struct ziparc *z = xcalloc(1, sizeof(*z));
	z->za = za;
	z->label = xstrdup(label);
	return z;
}

struct ziparc *ziparc_open(const char *path, struct cs_err *err)
{
	struct stat st;

	/* libzip's answers for these ("No such file", "Operation not supported")
	 * are vaguer than what stat() tells us. */
	if (stat(path, &st) < 0) {
		int e = errno;
		err_set(err, e == ENOENT ? CS_ENOTFOUND : CS_EIO, "cannot open zip '%s': %s",
			path, strerror(e));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(err, CS_EINVAL, "cannot open zip '%s': is a directory", path);
		return NULL;
	}
	/* An empty download is a failed download, not an empty archive (a real
	 * empty zip still has its 22-byte end record). */
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		err_set(err, CS_EINVAL, "cannot open zip '%s': empty file (not a zip archive)", path);
		return NULL;
	}
	if (load_libzip(path, err) < 0)
		return NULL;

	zip_error_t ze;
	lz.zip_error_init(&ze);
	zip_source_t *src = lz.zip_source_file_create(path, 0, WHOLE_FILE, &ze);
	if (!src) {
		open_error(err, path, &ze, false);
		lz.zip_error_fini(&ze);
		return NULL;
	}
	zip_t *za = lz.zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za) {
		unsigned char head[4];
		size_t got = 0;
		FILE *f = fopen(path, "rb");
		if (f) {
			got = fread(head, 1, sizeof(head), f);
			fclose(f);
		}
		open_error(err, path, &ze, looks_like_zip_start(head, got));
		lz.zip_error_fini(&ze);
		lz.zip_source_free(src);
		return NULL;
	}
	lz.zip_error_fini(&ze);
	return wrap(za, path);
}

struct ziparc *ziparc_open_mem(const void *data, size_t n, const char *label, struct cs_err *err)
{
	if (!label)
		label = "(memory)";
	if (n == 0) {
		err_set(err, CS_EINVAL, "cannot open zip '%s': empty file (not a zip archive)", label);
		return NULL;
	}
	if (load_libzip(label, err) < 0)
		return NULL;

	zip_error_t ze;
	lz.zip_error_init(&ze);
	zip_source_t *src = lz.zip_source_buffer_create(data, n, 0, &ze);
	if (!src) {
		open_error(err, label, &ze, false);
		lz.zip_error_fini(&ze);
		return NULL;
	}
	zip_t *za = lz.zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za) {
		/* on failure the source is still ours */
		open_error(err, label, &ze, looks_like_zip_start(data, n));
		lz.zip_error_fini(&ze);
		lz.zip_source_free(src);
		return NULL;
	}
	lz.zip_error_fini(&ze);
	return wrap(za, label);
}

void ziparc_close(struct ziparc *z)
{
	if (!z)
		return;
	/* read-only: zip_discard never writes back, unlike zip_close */
	lz.zip_discard(z->za);
	free(z->label);
	free(z);
}

uint64_t ziparc_count(const struct ziparc *z)
{
	zip_int64_t n = lz.zip_get_num_entries(z->za, 0);
	return n < 0 ? 0 : (uint64_t)n;
}

/* --- names ------------------------------------------------------------------- */

static bool is_sep(char c)
{
	/* Backslash counts as a separator here: an archive made on Windows, or
	 * crafted for a Windows extractor, spells "..\\x" that way. */
	return c == '/' || c == '\\';
}

bool ziparc_name_safe(const char *name)
{
	if (!name || !name[0])
		return false;
	if (is_sep(name[0]))
		return false; /* absolute, or a UNC path */
	if (((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')) &&
	    name[1] == ':')
		return false; /* "C:\x" and drive-relative "C:x" */
	for (const char *p = name; *p;) {
		const char *e = p;
		while (*e && !is_sep(*e))
			e++;
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p = *e ? e + 1 : e;
	}
	return true;
}

bool ziparc_entry_junk(const char *name)
{
	if (!name)
		return false;
	if (strcmp(name, "__MACOSX") == 0 || str_starts(name, "__MACOSX/"))
		return true;
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	return strcmp(base, ".DS_Store") == 0;
}

/* --- entries ------------------------------------------------------------------- */

static int bad_index(struct ziparc *z, uint64_t i, struct cs_err *err)
{
	return err_set(err, CS_EINVAL, "zip '%s': no entry #%llu (the archive has %llu)", z->label,
		       (unsigned long long)i, (unsigned long long)ziparc_count(z));
}

int ziparc_entry(struct ziparc *z, uint64_t i, struct zip_entry *out, struct cs_err *err)
{
	zip_stat_t st;

	if (i >= ziparc_count(z))
		return bad_index(z, i, err);
	/* ENC_GUESS: UTF-8-flagged and plain ASCII names come back byte for byte;
	 * unflagged non-UTF-8 names are CP437 by the spec and get converted. */
	const char *name = lz.zip_get_name(z->za, i, ZIP_FL_ENC_GUESS);
	if (!name || lz.zip_stat_index(z->za, i, ZIP_FL_ENC_GUESS, &st) < 0) {
		err_set(err, CS_EINVAL, "zip '%s': cannot read entry #%llu: %s", z->label,
			(unsigned long long)i, lz.zip_strerror(z->za));
		lz.zip_error_clear(z->za);
		return -1;
	}
	size_t len = strlen(name);
	memset(out, 0, sizeof(*out));
	out->index = i;
	out->name = name;
	out->size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
	out->comp_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
	out->is_dir = len > 0 && name[len - 1] == '/';
	out->unsafe = !ziparc_name_safe(name);
	return 0;
}

/* --- data ----------------------------------------------------------------------- */

static bool past_ratio(uint64_t out, uint64_t comp)
{
	if (out <= RATIO_GRACE)
		return false;
	if (comp > UINT64_MAX / ZIP_MAX_RATIO)
		return false;
	return out > comp * ZIP_MAX_RATIO;
}

int ziparc_stream(struct ziparc *z, uint64_t i, uint64_t max, zip_data_cb cb, void *ctx,
		  struct cs_err *err)
{
	struct zip_entry e;
	if (ziparc_entry(z, i, &e, err) < 0)
		return -1;

	zip_file_t *f = lz.zip_fopen_index(z->za, i, 0);
	if (!f) {
		int zc = lz.zip_error_code_zip(lz.zip_get_error(z->za));
		const char *why = lz.zip_strerror(z->za);
		if (zc == ZIP_ER_NOPASSWD || zc == ZIP_ER_WRONGPASSWD)
			why = "the entry is encrypted";
		else if (zc == ZIP_ER_COMPNOTSUPP)
			why = "unsupported compression method";
		else if (zc == ZIP_ER_ENCRNOTSUPP)
			why = "unsupported encryption method";
		err_set(err, CS_EINVAL, "cannot read entry '%s' of zip '%s': %s", e.name, z->label,
			why);
		lz.zip_error_clear(z->za);
		return -1;
	}

	/* Heap, not stack: callers may run on small thread stacks. The declared
	 * size is never used to size anything. */
	char *piece = xmalloc(PIECE);
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		/* Ask for one byte past the cap so an entry of exactly max bytes
		 * succeeds and a longer one is caught without inflating further. */
		uint64_t room = max - total;
		zip_uint64_t want = room < PIECE ? room + 1 : PIECE;
		zip_int64_t r = lz.zip_fread(f, piece, want);
		if (r < 0) {
			rc = err_set(err, CS_EINVAL,
				     "cannot read entry '%s' of zip '%s': %s (after %llu bytes)",
				     e.name, z->label, lz.zip_file_strerror(f),
				     (unsigned long long)total);
			break;
		}
		if (r == 0)
			break;
		if ((uint64_t)r > room) {
			rc = err_set(err, CS_EINVAL,
				     "cannot read entry '%s' of zip '%s': larger than the limit of "
				     "%llu bytes (declared size %llu)",
				     e.name, z->label, (unsigned long long)max,
				     (unsigned long long)e.size);
			break;
		}
		total += (uint64_t)r;
		if (past_ratio(total, e.comp_size)) {
			rc = err_set(err, CS_EINVAL,
				     "cannot read entry '%s' of zip '%s': decompression bomb "
				     "(%llu bytes out of %llu compressed, more than %d:1)",
				     e.name, z->label, (unsigned long long)total,
				     (unsigned long long)e.comp_size, ZIP_MAX_RATIO);
			break;
		}
		rc = cb(ctx, piece, (size_t)r);
		if (rc)
			break;
	}
	free(piece);
	lz.zip_fclose(f);
	return rc;
}

static int add_to_buf(void *ctx, const void *data, size_t n)
{
	buf_add(ctx, data, n);
	return 0;
}

int ziparc_read(struct ziparc *z, uint64_t i, uint64_t max, struct buf *out, struct cs_err *err)
{
	size_t start = out->len;
	int rc = ziparc_stream(z, i, max, add_to_buf, out, err);
	if (rc) {
		/* leave out as it was: half an entry is worse than none */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}
