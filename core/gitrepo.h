/* gitrepo.h - what ciscope learns from the git checkout it runs in (libgit2). */
#ifndef CS_GITREPO_H
#define CS_GITREPO_H

#include <stdbool.h>

#include "util.h"

/* "owner/name" from a GitHub-style remote URL: https://host/o/r(.git),
 * ssh://git@host[:port]/o/r.git, git@host:o/r.git; host into *host when not
 * NULL. Returns false for anything else. */
bool gitrepo_parse_remote(const char *url, struct buf *slug, struct buf *host);

/* The slug of the origin remote of the repository containing dir (NULL: the
 * current directory). Returns false outside a repository or without origin. */
bool gitrepo_origin_slug(const char *dir, struct buf *slug, struct buf *host);

/* The repository containing dir (NULL: the current directory), held open to
 * read commits; NULL outside a repository. */
struct gitrepo;
struct gitrepo *gitrepo_open(const char *dir);
void gitrepo_close(struct gitrepo *g);
/* The subject of commit sha (40 hex digits, or an unambiguous prefix of at
 * least 7): its summary line, into out. False when g is NULL, sha is not hex
 * or the commit is not in the repository. Answers, found or not, are cached
 * (GITREPO_CACHE entries, direct-mapped), so a list redrawing its rows asks
 * libgit2 once per commit. */
#define GITREPO_CACHE 512
bool gitrepo_subject(struct gitrepo *g, const char *sha, struct buf *out);

/* The checkout containing dir (NULL: the current directory): the top of
 * its work tree into top (empty for a bare repository) and the commit
 * HEAD points at into head (empty on an unborn branch); either may be
 * NULL. False outside a repository. */
bool gitrepo_checkout(const char *dir, struct buf *top, struct buf *head);

#endif
