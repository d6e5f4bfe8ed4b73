/* fetchcache.h - the fetcher's cache on disk (fetch.h describes its layout):
 * the index of the API answers held with their ETags (index.json; bodies in
 * http/<hash>.json), so a later fetch asks with If-None-Match and a 304 costs
 * nothing, and writing every cache file atomically (a temporary name in
 * tmp/, then a rename), so a fetch killed mid-transfer never leaves a
 * truncated file under its final name.
 *
 * The struct is embedded in the fetcher (fetch.c), which fills tmp_dir (it
 * owns that string), http_dir and index_path (the cache owns those) before
 * fcache_load(); the cache holds the index in memory until fcache_save().
 */
#ifndef CS_FETCHCACHE_H
#define CS_FETCHCACHE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct fetch_cache {
	const char *tmp_dir; /* borrowed */
	char *http_dir, *index_path;
	cJSON *index;        /* {"etags": {url: {etag, file, page?}}, "complete": {...}} */
	cJSON *etags;        /* inside index */
	cJSON *used;         /* URLs used by this fetch */
	unsigned tmp_counter;
};

/* Read index.json (a missing or damaged one is an empty index). */
void fcache_load(struct fetch_cache *c);
/* The ETag held for url and, in *file (caller frees), the body it names;
 * NULL when there is none or its body is gone. */
const char *fcache_etag(struct fetch_cache *c, const char *url, char **file);
/* Keep url's entry at the next save. */
void fcache_mark_used(struct fetch_cache *c, const char *url);
/* Hold body as url's answer with etag (page: a listing page, kept even when
 * unused, since every fetch asks it again). 0, or -1 when the body could not
 * be written (then nothing is held). */
int fcache_store(struct fetch_cache *c, const char *url, const char *etag, bool page,
		 const void *body, size_t n);
/* Drop the entries this fetch did not use (except pages) and body files no
 * entry names, then write index.json. */
int fcache_save(struct fetch_cache *c, struct cs_err *err);
void fcache_release(struct fetch_cache *c);

/* --- atomic writes ------------------------------------------------------------- */
/* A fresh name in tmp_dir for what ("w", "d"...); caller frees. */
char *fcache_tmp_name(struct fetch_cache *c, const char *what);
/* Write path through a temporary file and a rename, mode 0600. Unchanged
 * content is not rewritten (the importer compares sizes and times). */
int fcache_put_file(struct fetch_cache *c, const char *path, const void *data, size_t n,
		    struct cs_err *err);
/* A JSON document, printed, with a final newline, as fcache_put_file(). */
int fcache_put_json(struct fetch_cache *c, const char *path, const cJSON *j, struct cs_err *err);
/* Write all n bytes to fd (retrying short writes and EINTR): 0 or -1. */
int fcache_fd_write_all(int fd, const void *data, size_t n);

#endif
