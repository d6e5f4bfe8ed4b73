/* ghdispatch.c - the requests of `bisect dispatch` (ghdispatch.h). */
#include "ghdispatch.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gh_branch_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 200 || name[0] == '-' || name[0] == '.' || name[0] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  ch == '.' || ch == '_' || ch == '/' || ch == '-';
		if (!ok)
			return false;
	}
	if (strstr(name, "..") || strstr(name, "//") || strstr(name, "/.") || strstr(name, "@{"))
		return false;
	if (name[n - 1] == '/' || name[n - 1] == '.' || (n >= 5 && !strcmp(name + n - 5, ".lock")))
		return false;
	return true;
}

/* The branch in a URL path: each segment escaped, the '/' between kept. */
static void add_branch_path(struct buf *b, const char *branch)
{
	const char *s = branch;
	while (*s) {
		size_t k = strcspn(s, "/");
		char *seg = xstrndup(s, k);
		gh_url_escape(b, seg);
		free(seg);
		s += k;
		if (*s == '/') {
			buf_addc(b, '/');
			s++;
		}
	}
}

void gh_build_ref_create(const struct gh_target *t, const char *branch, const char *sha,
			 struct gh_post *p)
{
	p->url = gh_repo_url(t, "/git/refs");
	struct buf b = BUF_INIT, ref = BUF_INIT;
	buf_addf(&ref, "refs/heads/%s", branch);
	buf_adds(&b, "{\"ref\":");
	buf_add_json_str(&b, ref.data, ref.len);
	buf_adds(&b, ",\"sha\":");
	buf_add_json_str(&b, sha, strlen(sha));
	buf_addc(&b, '}');
	p->body = buf_detach(&b, NULL);
	buf_release(&ref);
}

char *gh_ref_url(const struct gh_target *t, const char *branch)
{
	struct buf b = BUF_INIT;
	add_branch_path(&b, branch);
	char *u = gh_repo_url(t, "/git/refs/heads/%s", buf_cstr(&b));
	buf_release(&b);
	return u;
}

char *gh_dispatch_runs_url(const struct gh_target *t, const char *workflow, const char *branch)
{
	struct buf w = BUF_INIT, br = BUF_INIT;
	gh_url_escape(&w, workflow);
	gh_url_escape(&br, branch);
	char *u = gh_repo_url(t, "/actions/workflows/%s/runs?branch=%s&event=workflow_dispatch&per_page=30",
			      buf_cstr(&w), buf_cstr(&br));
	buf_release(&w);
	buf_release(&br);
	return u;
}

void gh_delete_describe(const char *url, enum gh_token_src src, struct buf *out)
{
	buf_addf(out, "DELETE %s\n", url);
	gh_describe_headers(src, out);
	buf_adds(out, "\n(no body)\n");
}

static void copy_str(char *dst, size_t n, const cJSON *v)
{
	dst[0] = '\0';
	if (cJSON_IsString(v) && v->valuestring) {
		strncpy(dst, v->valuestring, n - 1);
		dst[n - 1] = '\0';
	}
}

int gh_find_run_for_sha(const char *body, size_t n, const char *sha, int64_t after_id,
			struct gh_found_run *out, struct cs_err *err)
{
	cJSON *doc = cJSON_ParseWithLength(body ? body : "", body ? n : 0);
	const cJSON *runs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "workflow_runs") : NULL;
	if (!cJSON_IsArray(runs)) {
		cJSON_Delete(doc);
		err_set(err, CS_EINVAL, "the run listing is not a GitHub run listing (no workflow_runs array)");
		return -1;
	}
	int found = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, runs)
	{
		const cJSON *hs = cJSON_GetObjectItemCaseSensitive(r, "head_sha");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		if (!cJSON_IsString(hs) || !hs->valuestring || strcmp(hs->valuestring, sha) != 0 ||
		    !cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15)
			continue;
		int64_t rid = (int64_t)id->valuedouble;
		if (rid <= after_id || (found && rid <= out->id))
			continue; /* the newest (highest id) */
		out->id = rid;
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "run_attempt");
		out->attempt = cJSON_IsNumber(a) && a->valuedouble >= 1 && a->valuedouble < 1e6
				       ? (int)a->valuedouble : 1;
		copy_str(out->status, sizeof(out->status), cJSON_GetObjectItemCaseSensitive(r, "status"));
		copy_str(out->conclusion, sizeof(out->conclusion),
			 cJSON_GetObjectItemCaseSensitive(r, "conclusion"));
		found = 1;
	}
	cJSON_Delete(doc);
	return found;
}

char *bisect_github_repo(struct store *st, const struct bisect_status *s, const char *top)
{
	for (int i = -1; i < s->n; i++) {
		const struct bisect_commit *k = i < 0 ? &s->good_commit : &s->commits[i];
		for (int j = 0; j < k->n_obs; j++) {
			if (!k->obs[j].run)
				continue;
			struct cs_err err;
			err_clear(&err);
			char spec[32];
			snprintf(spec, sizeof(spec), "%lld", (long long)k->obs[j].run);
			struct run r;
			if (store_find_run(st, spec, &r, &err) == 0) {
				char *slug = r.repo && strchr(r.repo, '/') ? xstrdup(r.repo) : NULL;
				run_free(&r);
				if (slug)
					return slug;
			}
		}
	}
	struct buf slug = BUF_INIT, host = BUF_INIT;
	char *out = NULL;
	if (top && gitrepo_origin_slug(top, &slug, &host))
		out = xstrdup(buf_cstr(&slug));
	buf_release(&slug);
	buf_release(&host);
	return out;
}

