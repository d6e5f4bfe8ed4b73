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

/* Who the user is to git: user.name from the configuration of the checkout
 * holding the current directory (else the user's own configuration), else
 * $USER, else "unknown". Into out (reset first). */
void gitrepo_user_name(struct buf *out);

/* History for the diff's baseline (baseline.h). */
#define GITREPO_SHA_LEN 40
/* The first-parent ancestors of commit sha (a full id or a unique prefix),
 * nearest first, sha itself first when with_self: up to max 40-hex ids into
 * *out (allocated, caller frees). Returns how many, or -1 when g is NULL or
 * the commit is not in the repository. */
int gitrepo_first_parents(struct gitrepo *g, const char *sha, bool with_self, int max,
			  char (**out)[GITREPO_SHA_LEN + 1]);
/* Where commit sha left branch (refs/heads/BRANCH, else
 * refs/remotes/origin/BRANCH): its nearest first-parent ancestor (itself
 * included) on the branch's first-parent history, so a pull request merged
 * since still forks where it forked; else (the branch's history is longer
 * than GITREPO_FORK_WALK commits) their merge base. False when either is
 * missing or they share no history. */
#define GITREPO_FORK_WALK 20000
bool gitrepo_fork_point(struct gitrepo *g, const char *sha, const char *branch,
			char out[GITREPO_SHA_LEN + 1]);

/* The checkout containing dir (NULL: the current directory): the top of
 * its work tree into top (empty for a bare repository) and the commit
 * HEAD points at into head (empty on an unborn branch); either may be
 * NULL. False outside a repository. */
bool gitrepo_checkout(const char *dir, struct buf *top, struct buf *head);

#endif
