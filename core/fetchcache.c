/* fetchcache.c - the fetcher's cache on disk: the index of the API answers
 * it holds with their ETags (index.json, bodies under http/), and writing
 * files so that none is ever seen half-written under its final name (a
 * temporary name in tmp/, then a rename). The run folders the fetcher writes
 * go through fcache_put_file() too.
 */
#include "fetchcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"

#define INDEX_MAX (64u << 20)

char *fcache_tmp_name(struct fetch_cache *c, const char *what)
{
	return xasprintf("%s/%s%ld-%u", c->tmp_dir, what, (long)getpid(), ++c->tmp_counter);
}

int fcache_fd_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write path through a temporary file and a rename, 0600. Unchanged content
 * is not rewritten (the importer compares sizes and times). */
int fcache_put_file(struct fetch_cache *c, const char *path, const void *data, size_t n,
		    struct cs_err *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && (size_t)st.st_size == n) {
		struct buf old = BUF_INIT;
		struct cs_err ignore;
		bool same = file_read_all(path, n + 1, &old, &ignore) == 0 && old.len == n &&
			    (n == 0 || !memcmp(old.data, data, n));
		buf_release(&old);
		if (same)
			return 0;
	}
	char *tmp = fcache_tmp_name(c, "w");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, CS_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = fcache_fd_write_all(fd, data, n);
	int e = errno;
	if (close(fd) < 0 && !rc) {
		rc = -1;
		e = errno;
	}
	if (!rc && rename(tmp, path) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc) {
		unlink(tmp);
		err_set(err, CS_EIO, "cannot write '%s': %s", path, strerror(e));
	}
	free(tmp);
	return rc;
}

int fcache_put_json(struct fetch_cache *c, const char *path, const cJSON *j, struct cs_err *err)
{
	char *s = cJSON_Print(j);
	if (!s)
		return err_set(err, CS_ENOMEM, "cannot write '%s': out of memory", path);
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n++] = '\n';
	int rc = fcache_put_file(c, path, s, n, err);
	free(s);
	return rc;
}

/* --- the index ------------------------------------------------------------------------------------ */
static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void fcache_load(struct fetch_cache *c)
{
	struct buf b = BUF_INIT;
	struct cs_err e;
	err_clear(&e);
	if (file_read_all(c->index_path, INDEX_MAX, &b, &e) == 0)
		c->index = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	buf_release(&b);
	if (!cJSON_IsObject(c->index)) {
		cJSON_Delete(c->index);
		c->index = cJSON_CreateObject();
	}
	c->etags = cJSON_GetObjectItemCaseSensitive(c->index, "etags");
	if (!cJSON_IsObject(c->etags)) {
		cJSON_DeleteItemFromObjectCaseSensitive(c->index, "etags");
		c->etags = cJSON_AddObjectToObject(c->index, "etags");
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c->index, "complete"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(c->index, "complete");
		cJSON_AddObjectToObject(c->index, "complete");
	}
	c->used = cJSON_CreateObject();
}

/* The cached body file of url, when we hold one with an ETag. */
const char *fcache_etag(struct fetch_cache *c, const char *url, char **file)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(c->etags, url);
	const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "etag");
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(e, "file");
	if (!cJSON_IsString(et) || !cJSON_IsString(fl) || !fetch_safe_component(fl->valuestring))
		return NULL;
	char *p = path_join(c->http_dir, fl->valuestring);
	if (!path_is_file(p)) {
		free(p);
		return NULL;
	}
	*file = p;
	return et->valuestring;
}

void fcache_mark_used(struct fetch_cache *c, const char *url)
{
	if (!cJSON_GetObjectItemCaseSensitive(c->used, url))
		cJSON_AddTrueToObject(c->used, url);
}

int fcache_store(struct fetch_cache *c, const char *url, const char *etag, bool page,
		 const void *body, size_t n)
{
	char name[40];
	snprintf(name, sizeof(name), "%016llx.json", (unsigned long long)fnv(url));
	char *p = path_join(c->http_dir, name);
	struct cs_err e;
	err_clear(&e);
	int rc = fcache_put_file(c, p, body ? body : "", n, &e);
	if (rc == 0) {
		cJSON *ent = cJSON_CreateObject();
		cJSON_AddStringToObject(ent, "etag", etag);
		cJSON_AddStringToObject(ent, "file", name);
		if (page)
			cJSON_AddTrueToObject(ent, "page");
		cJSON_DeleteItemFromObjectCaseSensitive(c->etags, url);
		cJSON_AddItemToObject(c->etags, url, ent);
		fcache_mark_used(c, url);
	}
	free(p);
	return rc;
}

/* Keep what this fetch used and every listing page (the next fetch asks
 * them again); drop the rest, and body files nobody names. */
int fcache_save(struct fetch_cache *c, struct cs_err *err)
{
	cJSON *e = c->etags->child;
	while (e) {
		cJSON *next = e->next;
		bool page = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "page"));
		if (!page && !cJSON_GetObjectItemCaseSensitive(c->used, e->string))
			cJSON_Delete(cJSON_DetachItemViaPointer(c->etags, e));
		e = next;
	}
	DIR *d = opendir(c->http_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			bool named = false;
			for (cJSON *x = c->etags->child; x && !named; x = x->next) {
				const cJSON *fl = cJSON_GetObjectItemCaseSensitive(x, "file");
				named = cJSON_IsString(fl) && !strcmp(fl->valuestring, de->d_name);
			}
			if (!named) {
				char *p = path_join(c->http_dir, de->d_name);
				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	return fcache_put_json(c, c->index_path, c->index, err);
}

void fcache_release(struct fetch_cache *c)
{
	cJSON_Delete(c->index);
	cJSON_Delete(c->used);
	c->index = c->etags = c->used = NULL;
	free(c->http_dir);
	free(c->index_path);
	c->http_dir = c->index_path = NULL;
}

