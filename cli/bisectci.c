/* bisectci.c - `ciscope bisect dispatch`: test a suspect commit on CI.
 *
 * The suspect needs a ref GitHub can dispatch on: a temporary branch is
 * created at its sha (POST .../git/refs), the workflow is dispatched on it,
 * the run that appears for the sha is polled until it completes, fetched
 * and imported (core/fetch.h: the stored run is then evidence like any
 * other, core/bisect.h), and the branch is deleted - on every path out once
 * it was created. The three requests are shown and confirmed first (the
 * confirm flow of rerun/dispatch). The requests are built in
 * core/ghdispatch.c and sent with gh_request (the token stays in github.c).
 */
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/bisect.h"
#include "core/commits.h"
#include "core/fetch.h"
#include "core/ghdispatch.h"
#include "core/github.h"
#include "core/gitrepo.h"
#include "core/sanitize.h"

#define DEFAULT_PREFIX "ciscope-bisect-"
#define DEFAULT_TIMEOUT_S 3600
#define DEFAULT_POLL_S 15.0

struct dispatch_ctx {
	struct cli *c;
	bool json, quiet;
};

static void say(const struct dispatch_ctx *d, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(const struct dispatch_ctx *d, const char *fmt, ...)
{
	if (d->quiet)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	sanitize_append(&b, line, strlen(line), 0);
	fprintf(stderr, "bisect dispatch: %s\n", buf_cstr(&b));
	buf_release(&b);
}

/* Sleep up to ms, waking for Ctrl-C. */
static void nap(int64_t ms)
{
	while (ms > 0 && !cli_interrupted) {
		int64_t step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* A request; on failure err says what failed, with the access the token
 * needs when GitHub refused (403/404). */
static int gh_send(const struct gh_client *cl, const char *method, const char *url, const char *body,
		const char *what, const char *need, struct buf *resp, long *status, struct cs_err *err)
{
	*status = 0;
	buf_reset(resp);
	if (gh_request(cl, method, url, body, what, status, resp, err) == 0)
		return 0;
	if ((*status == 403 || *status == 404) && need) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "%s; %s", err->msg, need);
		size_t n = m.len < sizeof(err->msg) - 1 ? m.len : sizeof(err->msg) - 1;
		memcpy(err->msg, m.data, n);
		err->msg[n] = '\0';
		buf_release(&m);
	}
	return -1;
}

static void json_opt_str(struct buf *b, const char *key, const char *v)
{
	buf_addf(b, ",\"%s\":", key);
	cli_json_str(b, v && *v ? v : NULL);
}

int cmd_bisect_dispatch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"workflow", required_argument, NULL, 'w'}, {"ref-prefix", required_argument, NULL, 'p'},
		{"timeout", required_argument, NULL, 'T'},  {"poll", required_argument, NULL, 'P'},
		{"no-wait", no_argument, NULL, 'W'},	    {"gh-repo", required_argument, NULL, 'g'},
		{"api-url", required_argument, NULL, 'u'},  {"repo", required_argument, NULL, 'r'},
		{"cache-dir", required_argument, NULL, 'C'}, {"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},	    {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0}};
	const char *workflow = NULL, *prefix = DEFAULT_PREFIX, *gh_repo = NULL, *api_url = NULL;
	const char *repo = NULL, *cache_dir = NULL;
	long timeout_s = DEFAULT_TIMEOUT_S;
	double poll_s = DEFAULT_POLL_S;
	bool no_wait = false, yes = false;
	struct dispatch_ctx d = {.c = c};
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "yqh", opts, NULL)) != -1) {
		switch (o) {
		case 'w': workflow = optarg; break;
		case 'p': prefix = optarg; break;
		case 'T':
			if ((timeout_s = cli_opt_range("bisect dispatch", "--timeout", optarg, 1, 86400 * 7)) < 0)
				return EXIT_USAGE;
			break;
		case 'P': {
			char *end;
			poll_s = strtod(optarg, &end);
			if (*optarg == '\0' || *end || !(poll_s >= 0.05 && poll_s <= 3600)) {
				cli_error("bisect dispatch: --poll needs a number of seconds from 0.05 to 3600, not '%s'",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'W': no_wait = true; break;
		case 'g': gh_repo = optarg; break;
		case 'u': api_url = optarg; break;
		case 'r': repo = optarg; break;
		case 'C': cache_dir = optarg; break;
		case 'y': yes = true; break;
		case 'j': d.json = true; break;
		case 'q': d.quiet = true; break;
		case 'h': cli_command_usage("bisect", stdout); return EXIT_OK;
		default: return cli_bad_usage("bisect");
		}
	}
	if (optind < argc - 1) {
		cli_error("bisect dispatch: one REV at most");
		return cli_bad_usage("bisect");
	}
	const char *rev = optind < argc ? argv[optind] : NULL;
	struct buf probe = BUF_INIT;
	buf_addf(&probe, "%s%.12s", prefix, "0123456789ab");
	bool prefix_ok = gh_branch_name_ok(buf_cstr(&probe));
	buf_release(&probe);
	if (!prefix_ok) {
		cli_error("bisect dispatch: --ref-prefix '%s' does not make a branch name (letters, digits, . _ / -)",
			  prefix);
		return EXIT_USAGE;
	}
	if (!cli_open(c, true))
		return EXIT_ERROR;

	struct cs_err err;
	err_clear(&err);
	int rc = EXIT_ERROR;
	char *stored = repo ? NULL : bisect_repo_path(c->st);
	const char *where = repo ? repo : stored;
	char *top = gitrepo_top(where);
	char *slug = NULL, *ref_url = NULL, *runs_url = NULL;
	struct gitrepo *g = NULL;
	struct bisect_status s;
	memset(&s, 0, sizeof(s));
	struct bisect_target t;
	memset(&t, 0, sizeof(t));
	struct gh_client client;
	memset(&client, 0, sizeof(client));
	bool client_ok = false, ref_created = false, ref_deleted = false, dispatched = false;
	struct gh_post create = {0}, disp = {0};
	struct buf wf = BUF_INIT, branch = BUF_INIT, resp = BUF_INIT, shown = BUF_INIT, q = BUF_INIT,
		   what = BUF_INIT, failed = BUF_INIT, delete_error = BUF_INIT;
	struct gh_found_run run = {0};
	bool have_run = false, fetched = false, timed_out = false;
	char sha[41] = "";
	long status;
	enum fetch_result fres = FETCH_OK;

	if (!(g = commits_open_repo(where, &err)) || bisect_status(c->st, g, &s, &err) < 0) {
		rc = cli_exit_for(&err, EXIT_INTR);
		cli_error("%s", err.msg);
		goto out;
	}
	if (!s.state || strcmp(s.state, "active") != 0) {
		cli_error("bisect dispatch: no active bisection (the newest one is %s): start one with `ciscope bisect start`",
			  s.state ? s.state : "unknown");
		goto out;
	}
	/* the commit: REV (a suspect), else the proposed next */
	if (rev) {
		char full[41];
		if (!gitrepo_resolve(g, rev, full)) {
			cli_error("bisect dispatch: '%s' is not a commit of the checkout", rev);
			rc = EXIT_NOTFOUND;
			goto out;
		}
		int at = -1;
		for (int i = s.good_idx + 1; i <= s.bad_idx && i < s.n; i++)
			if (!strcmp(s.commits[i].c.sha, full))
				at = i;
		if (at < 0) {
			cli_error("bisect dispatch: %.12s is not a suspect of the active bisection", full);
			goto out;
		}
		memcpy(sha, full, sizeof(sha));
	} else if (s.next >= 0 && s.next < s.n) {
		memcpy(sha, s.commits[s.next].c.sha, sizeof(sha));
	} else {
		cli_error("bisect dispatch: no commit is left to test%s",
			  s.first_bad >= 0 ? " (the first bad commit is known: ciscope bisect status)" : "");
		goto out;
	}
	/* the workflow: --workflow, else the target's */
	if (!workflow) {
		if (bisect_target_parse(s.target, &t, &err) == 0 && t.workflow && *t.workflow)
			workflow = t.workflow;
		if (!workflow) {
			cli_error("bisect dispatch: the target '%s' names no workflow: say which to run with --workflow W",
				  s.target ? s.target : "");
			rc = EXIT_USAGE;
			goto out;
		}
	}
	slug = gh_repo ? NULL : bisect_github_repo(c->st, &s, top);
	if (gh_client_init(&client, gh_repo ? gh_repo : slug, api_url, &err) < 0) {
		cli_error("%s", err.msg);
		rc = err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_ERROR;
		goto out;
	}
	client_ok = true;
	if (!client.token)
		cli_error("warning: no token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`): GitHub will refuse; "
			  "bisect dispatch needs one with contents and actions write access");
	if (gh_resolve_workflow(&client, workflow, &wf, &err) < 0) {
		cli_error("%s", err.msg);
		rc = err.code == CS_ENOTFOUND ? EXIT_NOTFOUND : cli_exit_for(&err, EXIT_INTR);
		goto out;
	}
	buf_addf(&branch, "%s%.12s", prefix, sha);
	gh_build_ref_create(&client.t, buf_cstr(&branch), sha, &create);
	gh_build_dispatch(&client.t, buf_cstr(&wf), buf_cstr(&branch), NULL, NULL, 0, &disp);
	ref_url = gh_ref_url(&client.t, buf_cstr(&branch));
	runs_url = gh_dispatch_runs_url(&client.t, buf_cstr(&wf), buf_cstr(&branch));

	gh_post_describe(&create, client.token_src, &shown);
	buf_addc(&shown, '\n');
	gh_post_describe(&disp, client.token_src, &shown);
	buf_addc(&shown, '\n');
	buf_addf(&shown, "then GET %s until the run for %.12s %s,%s\nand, in any case, ", runs_url, sha,
		 no_wait ? "appears" : "completes", no_wait ? "" : " fetch it,");
	gh_delete_describe(ref_url, client.token_src, &shown);
	buf_addf(&q, "Create branch '%s' at %.12s in %s, run workflow '%s' on it, then delete the branch?",
		 buf_cstr(&branch), sha, client.t.slug, workflow);
	if (d.json) {
		/* the requests go to stderr: stdout holds the JSON answer only */
		struct buf safe = BUF_INIT;
		for (const char *l = buf_cstr(&shown); *l;) {
			size_t n = strcspn(l, "\n");
			sanitize_append(&safe, l, n, 0);
			buf_addc(&safe, '\n');
			l += n + (l[n] == '\n');
		}
		if (!yes) {
			cli_error("bisect dispatch --json: confirm with --yes");
			rc = EXIT_USAGE;
			buf_release(&safe);
			goto out;
		}
		fprintf(stderr, "ciscope will send:\n\n%s\n", buf_cstr(&safe));
		buf_release(&safe);
	} else if ((rc = cli_confirm(c, buf_cstr(&shown), buf_cstr(&q), yes)) != EXIT_OK) {
		goto out;
	}
	rc = EXIT_ERROR;

	/* 1. the temporary branch */
	buf_reset(&what);
	buf_addf(&what, "creating the temporary branch '%s' of %s", buf_cstr(&branch), client.t.slug);
	if (gh_send(&client, "POST", create.url, create.body, buf_cstr(&what),
		 "the token needs contents write access (to create a branch) and actions write access",
		 &resp, &status, &err) < 0) {
		buf_adds(&failed, err.msg);
		goto cleanup;
	}
	ref_created = true;
	say(&d, "branch '%s' created at %.12s", buf_cstr(&branch), sha);

	/* runs of an earlier dispatch at this sha (same branch name) are not ours */
	int64_t after_id = 0;
	buf_reset(&what);
	buf_addf(&what, "listing the runs of workflow '%s' on '%s'", workflow, buf_cstr(&branch));
	if (gh_send(&client, "GET", runs_url, NULL, buf_cstr(&what), NULL, &resp, &status, &err) < 0) {
		buf_adds(&failed, err.msg);
		goto cleanup;
	} else {
		struct gh_found_run old;
		int f = gh_find_run_for_sha(resp.data, resp.len, sha, 0, &old, &err);
		if (f < 0) {
			buf_addf(&failed, "%s: %s", buf_cstr(&what), err.msg);
			goto cleanup;
		}
		if (f > 0)
			after_id = old.id;
	}

	/* 2. the workflow on it */
	buf_reset(&what);
	buf_addf(&what, "dispatching workflow '%s' of %s on '%s'", workflow, client.t.slug,
		 buf_cstr(&branch));
	if (gh_send(&client, "POST", disp.url, disp.body, buf_cstr(&what),
		 "the token needs actions write access (to dispatch a workflow)", &resp, &status, &err) < 0) {
		buf_adds(&failed, err.msg);
		goto cleanup;
	}
	dispatched = true;
	say(&d, "workflow '%s' dispatched on '%s'", workflow, buf_cstr(&branch));
	/* the bisection keeps it: bisect log, status --json and the view say a
	 * dispatch made the run */
	int64_t disp_id = 0;
	{
		struct cs_err rerr;
		err_clear(&rerr);
		if (bisect_dispatch_record(c->st, sha, workflow, client.t.slug, buf_cstr(&branch), &disp_id,
					   &rerr) < 0)
			cli_error("warning: %s", rerr.msg);
	}

	/* 3. its run */
	say(&d, "waiting for its run (a look every %g s, up to %ld s)", poll_s, timeout_s);
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	int64_t poll_ms = (int64_t)llround(poll_s * 1000);
	char last_status[32] = "";
	for (;;) {
		buf_reset(&what);
		buf_addf(&what, "looking for the run of workflow '%s' on '%s'", workflow, buf_cstr(&branch));
		if (gh_send(&client, "GET", runs_url, NULL, buf_cstr(&what), NULL, &resp, &status, &err) < 0) {
			buf_adds(&failed, err.msg);
			goto cleanup;
		}
		struct gh_found_run fr;
		int f = gh_find_run_for_sha(resp.data, resp.len, sha, after_id, &fr, &err);
		if (f < 0) {
			buf_addf(&failed, "%s: %s", buf_cstr(&what), err.msg);
			goto cleanup;
		}
		if (f > 0) {
			if (!have_run)
				say(&d, "run %lld appeared (%s)", (long long)fr.id, fr.status);
			else if (strcmp(last_status, fr.status) != 0)
				say(&d, "run %lld is %s", (long long)fr.id, fr.status);
			if (!have_run || strcmp(last_status, fr.status) != 0) {
				struct cs_err rerr;
				err_clear(&rerr);
				if (disp_id && bisect_dispatch_update(c->st, disp_id, fr.id, fr.status, fr.conclusion,
								      &rerr) < 0)
					cli_error("warning: %s", rerr.msg);
			}
			snprintf(last_status, sizeof(last_status), "%s", fr.status);
			run = fr;
			have_run = true;
			if (no_wait || !strcmp(fr.status, "completed"))
				break;
		}
		if (cli_interrupted) {
			buf_addf(&failed, "interrupted while waiting for the run of '%s'", buf_cstr(&branch));
			rc = EXIT_INTR;
			goto cleanup;
		}
		if (mono_ms() >= deadline) {
			timed_out = true;
			if (have_run)
				buf_addf(&failed, "run %lld of workflow '%s' did not complete within %ld s (it is %s); "
						  "fetch it later and its verdict will count",
					 (long long)run.id, workflow, timeout_s, run.status);
			else
				buf_addf(&failed, "no run of workflow '%s' appeared for %.12s on '%s' within %ld s",
					 workflow, sha, buf_cstr(&branch), timeout_s);
			goto cleanup;
		}
		int64_t left = deadline - mono_ms();
		nap(poll_ms < left ? poll_ms : left);
	}

	/* 4. fetch and import it: the stored run is evidence */
	if (!no_wait) {
		char *root = cache_dir ? xstrdup(cache_dir) : fetch_default_cache_root();
		struct fetch_opts fo = {.client = &client, .cache_root = root, .workflow = buf_cstr(&wf),
					.branch = buf_cstr(&branch), .limit = 5};
		struct fetch_progress p = {0};
		p.rate_remaining = -1;
		fres = fetch_run(c->st, &fo, &cli_interrupted, &p, &err);
		free(root);
		if (fres == FETCH_OK || fres == FETCH_PARTIAL) {
			fetched = p.runs_imported > 0;
			say(&d, "run %lld fetched (%d imported)", (long long)run.id, p.runs_imported);
		} else {
			buf_addf(&failed, "fetching run %lld: %s", (long long)run.id,
				 fres == FETCH_INTERRUPTED ? "interrupted" : err.msg);
			if (fres == FETCH_INTERRUPTED)
				rc = EXIT_INTR;
		}
	}

cleanup:
	/* 5. the temporary branch goes, whatever happened */
	if (ref_created) {
		struct cs_err derr;
		err_clear(&derr);
		buf_reset(&what);
		buf_addf(&what, "deleting the temporary branch '%s' of %s", buf_cstr(&branch), client.t.slug);
		if (gh_send(&client, "DELETE", ref_url, NULL, buf_cstr(&what),
			 "the token needs contents write access", &resp, &status, &derr) < 0) {
			buf_addf(&delete_error, "%s: the branch '%s' is left behind; delete it with "
						"`git push origin --delete %s`",
				 derr.msg, buf_cstr(&branch), buf_cstr(&branch));
		} else {
			ref_deleted = true;
			say(&d, "branch '%s' deleted", buf_cstr(&branch));
		}
	}
	/* a Ctrl-C at any moment (a request it cut short included) is 130 */
	if (failed.len && cli_interrupted)
		rc = EXIT_INTR;
	if (failed.len)
		cli_error("bisect dispatch: %s", buf_cstr(&failed));
	if (delete_error.len)
		cli_error("bisect dispatch: %s", buf_cstr(&delete_error));

	/* 6. where the bisection stands now */
	bisect_status_release(&s);
	memset(&s, 0, sizeof(s));
	struct cs_err serr;
	err_clear(&serr);
	const struct bisect_commit *k = NULL;
	if (bisect_status(c->st, g, &s, &serr) == 0)
		for (int i = 0; i < s.n; i++)
			if (!strcmp(s.commits[i].c.sha, sha))
				k = &s.commits[i];
	enum bisect_verdict v = k ? k->verdict : BV_NONE;
	if (!failed.len && !delete_error.len)
		rc = EXIT_OK;
	if (d.json) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "{\"sha\":");
		cli_json_str(&b, sha);
		buf_adds(&b, ",\"workflow\":");
		cli_json_str(&b, workflow);
		buf_adds(&b, ",\"repo\":");
		cli_json_str(&b, client_ok ? client.t.slug : NULL);
		buf_adds(&b, ",\"ref\":");
		cli_json_str(&b, branch.len ? buf_cstr(&branch) : NULL);
		buf_addf(&b, ",\"ref_created\":%s,\"ref_deleted\":%s,\"dispatched\":%s",
			 ref_created ? "true" : "false", ref_deleted ? "true" : "false",
			 dispatched ? "true" : "false");
		if (have_run) {
			buf_addf(&b, ",\"run\":{\"id\":%lld,\"attempt\":%d", (long long)run.id, run.attempt);
			json_opt_str(&b, "status", run.status);
			json_opt_str(&b, "conclusion", run.conclusion);
			buf_adds(&b, "}");
		} else {
			buf_adds(&b, ",\"run\":null");
		}
		buf_addf(&b, ",\"fetched\":%s,\"timed_out\":%s", fetched ? "true" : "false",
			 timed_out ? "true" : "false");
		buf_adds(&b, ",\"verdict\":");
		cli_json_str(&b, v != BV_NONE ? bisect_verdict_name(v) : NULL);
		buf_adds(&b, ",\"next\":");
		cli_json_str(&b, s.commits && s.next >= 0 && s.next < s.n ? s.commits[s.next].c.sha : NULL);
		buf_adds(&b, ",\"first_bad\":");
		cli_json_str(&b, s.commits && s.first_bad >= 0 && s.first_bad < s.n ? s.commits[s.first_bad].c.sha
										    : NULL);
		buf_addf(&b, ",\"steps_left\":%d", s.commits ? s.steps_left : 0);
		buf_adds(&b, ",\"error\":");
		cli_json_str(&b, failed.len ? buf_cstr(&failed) : delete_error.len ? buf_cstr(&delete_error) : NULL);
		buf_adds(&b, "}\n");
		fwrite(b.data, 1, b.len, stdout);
		buf_release(&b);
	} else if (ref_created) {
		struct buf b = BUF_INIT;
		if (have_run && fetched)
			buf_addf(&b, "%.12s: run %lld %s: %s\n", sha, (long long)run.id,
				 run.conclusion[0] ? run.conclusion : run.status,
				 v != BV_NONE ? bisect_verdict_name(v)
					      : "no verdict (the run says nothing about the target)");
		else if (have_run)
			buf_addf(&b, "%.12s: run %lld is %s; fetch it later (`ciscope fetch`) and its verdict counts\n",
				 sha, (long long)run.id, run.status);
		if (s.commits && s.first_bad >= 0 && s.first_bad < s.n)
			buf_addf(&b, "first bad commit: %s\n", s.commits[s.first_bad].c.sha);
		else if (s.commits && s.next >= 0 && s.next < s.n)
			buf_addf(&b, "next: %s (about %d step%s left)\n", s.commits[s.next].c.sha, s.steps_left,
				 s.steps_left == 1 ? "" : "s");
		if (b.len)
			cli_put_lines(c, &b);
		buf_release(&b);
	}

out:
	bisect_status_release(&s);
	bisect_target_release(&t);
	gitrepo_close(g);
	if (client_ok)
		gh_client_release(&client);
	gh_post_free(&create);
	gh_post_free(&disp);
	free(ref_url);
	free(runs_url);
	free(slug);
	free(stored);
	free(top);
	buf_release(&wf);
	buf_release(&branch);
	buf_release(&resp);
	buf_release(&shown);
	buf_release(&q);
	buf_release(&what);
	buf_release(&failed);
	buf_release(&delete_error);
	return rc;
}
