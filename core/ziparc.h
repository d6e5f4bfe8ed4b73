/* ziparc.h - reading zip archives that come from the network, defensively.
 *
 * Log archives and artifacts are untrusted. This wrapper over libzip:
 *  - refuses entry names that are absolute, contain a ".." component, a
 *    backslash-drive ("C:"), or NUL (the entry is reported as unsafe and
 *    skipped by callers; the rest of the archive stays usable);
 *  - never trusts the declared size: reads stop with an error once more than
 *    `max` bytes come out, and an entry whose output/input ratio passes
 *    ZIP_MAX_RATIO after the first MiB is refused as a decompression bomb;
 *  - reports truncated or corrupt archives with libzip's reason and the
 *    archive's path;
 *  - skips __MACOSX/ and .DS_Store resource entries (ziparc_entry_junk()).
 */
#ifndef CS_ZIPARC_H
#define CS_ZIPARC_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define ZIP_MAX_RATIO 200 /* output bytes per compressed byte, past the first MiB */

struct ziparc;

struct zip_entry {
	uint64_t index;
	const char *name;     /* as stored (valid until the archive is closed) */
	uint64_t size;        /* declared uncompressed size: a hint only */
	uint64_t comp_size;
	bool is_dir;
	bool unsafe;          /* absolute, "..", drive letter: never use it as a path */
};

/* Open a zip file; NULL with err ("cannot open zip 'p': not a zip archive"). */
struct ziparc *ziparc_open(const char *path, struct cs_err *err);
/* Open a zip held in memory (the buffer must outlive the archive). */
struct ziparc *ziparc_open_mem(const void *data, size_t n, const char *label, struct cs_err *err);
void ziparc_close(struct ziparc *z);
uint64_t ziparc_count(const struct ziparc *z);
int ziparc_entry(struct ziparc *z, uint64_t i, struct zip_entry *out, struct cs_err *err);
bool ziparc_name_safe(const char *name);
bool ziparc_entry_junk(const char *name);  /* __MACOSX/..., .DS_Store */

typedef int (*zip_data_cb)(void *ctx, const void *data, size_t n);
/* Stream entry i's bytes to cb in pieces; fails when more than max bytes come
 * out, on a bomb ratio, or on a CRC/inflate error. cb's non-zero return stops
 * and is returned. */
int ziparc_stream(struct ziparc *z, uint64_t i, uint64_t max, zip_data_cb cb, void *ctx,
		  struct cs_err *err);
/* Read entry i whole into out (appended), same limits. */
int ziparc_read(struct ziparc *z, uint64_t i, uint64_t max, struct buf *out, struct cs_err *err);

#endif
