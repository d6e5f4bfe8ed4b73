/* ghdispatch.h - the requests `ciscope bisect dispatch` sends to run a
 * workflow at one commit: a temporary branch ref at the sha (POST
 * .../git/refs), the workflow dispatched on it (gh_build_dispatch), the run
 * that appears for the sha found in the workflow's run listing, the ref
 * deleted (DELETE .../git/refs/heads/BRANCH). Pure: built and parsed here,
 * sent with gh_request (github.h), so the token stays where github.c keeps
 * it. Tested in tests/unit/t_ghdispatch.c. */
#ifndef CS_GHDISPATCH_H
#define CS_GHDISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "bisect.h"
#include "github.h"
#include "store.h"
#include "util.h"

/* A branch name ciscope may create: [A-Za-z0-9._/-], not starting with '-',
 * '.' or '/', no "..", "//", "@{", not ending in '/', '.' or ".lock", at
 * most 200 bytes. */
bool gh_branch_name_ok(const char *name);

/* POST .../git/refs {"ref":"refs/heads/BRANCH","sha":SHA}. */
void gh_build_ref_create(const struct gh_target *t, const char *branch, const char *sha,
			 struct gh_post *p);
/* .../git/refs/heads/BRANCH (for the DELETE); caller frees. */
char *gh_ref_url(const struct gh_target *t, const char *branch);
/* .../actions/workflows/{workflow}/runs?branch=BRANCH&event=workflow_dispatch&per_page=30 */
char *gh_dispatch_runs_url(const struct gh_target *t, const char *workflow, const char *branch);
/* A DELETE as it will be sent, like gh_post_describe. */
void gh_delete_describe(const char *url, enum gh_token_src src, struct buf *out);

/* The newest run for sha with an id above after_id (0: any; run ids grow,
 * so the listing read before a dispatch tells an earlier run from the new
 * one) in a run listing ({"workflow_runs": [...]}): 1 and *out filled when
 * there is one, 0 when none, -1 with err set when the body is not a run
 * listing. */
struct gh_found_run {
	int64_t id;
	int attempt;
	char status[32];     /* queued, in_progress, completed, ... */
	char conclusion[32]; /* "" while not completed */
};
int gh_find_run_for_sha(const char *body, size_t n, const char *sha, int64_t after_id,
			struct gh_found_run *out, struct cs_err *err);

/* The GitHub repository (OWNER/REPO) of a bisection: the one its evidence
 * runs came from, else the origin of the checkout top (may be NULL); NULL
 * when neither says (gh_client_init then looks at the cwd). Caller frees. */
char *bisect_github_repo(struct store *st, const struct bisect_status *s, const char *top);

#endif
