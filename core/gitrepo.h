/* gitrepo.h - what ciscope learns from the git checkout it runs in (libgit2).
 *
 * Every use of libgit2 lives in gitrepo.c (make check-layering keeps it so):
 * other modules ask here for what they need of the checkout. */
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

/* The top of the work tree of the repository containing dir (NULL: the
 * current directory), with a trailing '/'. False outside a repository or in
 * a bare one. (Repository files such as .ciscope/parity.conf live there.) */
bool gitrepo_workdir(const char *dir, struct buf *out);

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

/* The top (work tree) of the git checkout holding dir (NULL: the current
 * directory), with a trailing '/'; NULL outside a checkout or in a bare
 * repository. Caller frees. */
char *gitrepo_top(const char *dir);
/* Walk the first-parent history of ref (a branch, also tried as
 * origin/ref, or any revision), newest first, at most max commits, calling
 * cb with each full sha until it returns non-zero. The count walked, or -1
 * when ref does not resolve. */
long gitrepo_first_parents(struct gitrepo *g, const char *ref, long max,
			   int (*cb)(void *ctx, const char *sha), void *ctx);

/* Who the user is to git: user.name from the configuration of the checkout
 * holding the current directory (else the user's own configuration), else
 * $USER, else "unknown". Into out (reset first). */
void gitrepo_user_name(struct buf *out);

#endif
