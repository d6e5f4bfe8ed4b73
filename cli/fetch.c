/* fetch.c - fetch (GitHub Actions into the cache and the index), rerun and
 * dispatch (one write each, shown and confirmed before it is sent). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fetch.h"
#include "core/github.h"
#include "core/sanitize.h"

static long parse_num(const char *opt, const char *v, long min, long max)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		cli_error("%s: '%s' is not a number from %ld to %ld", opt, v, min, max);
		return -1;
	}
	return n;
}

/* "100M", "1G", "512k", "1048576" */
static int64_t parse_size(const char *v)
{
	char *end;
	double n = strtod(v, &end);
	if (end == v || n < 0)
		return -1;
	double mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1 << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1 << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1 << 30, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || n * mul > 1e15)
		return -1;
	return (int64_t)(n * mul);
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --- fetch --------------------------------------------------------------------------------- */
struct fetch_ui {
	struct cli *c;
	bool json, quiet, progress;
	const char *slug;
	struct buf runs, errors;
	int n_runs, n_errors;
	int created, updated, unchanged;
	bool shown;
	struct timespec t0;
};

static void ui_clear(struct fetch_ui *u)
{
	if (u->shown) {
		fputs("\r\033[K", stderr);
		u->shown = false;
	}
}

static void ui_message(void *ctx, enum fetch_msg level, const char *msg)
{
	struct fetch_ui *u = ctx;
	ui_clear(u);
	if (level == FETCH_ERROR) {
		u->n_errors++;
		if (u->json) {
			if (u->errors.len)
				buf_addc(&u->errors, ',');
			cli_json_str(&u->errors, msg);
		}
		cli_error("%s", msg);
	} else if (!u->quiet) {
		cli_error("%s%s", level == FETCH_WARN ? "warning: " : "", msg);
	}
}

static void ui_run(void *ctx, const struct import_event *ev)
{
	struct fetch_ui *u = ctx;
	switch (ev->state) {
	case IMPORT_CREATED: u->created++; break;
	case IMPORT_UPDATED: u->updated++; break;
	case IMPORT_UNCHANGED: u->unchanged++; break;
	}
	if (u->json) {
		struct buf *b = &u->runs;
		if (u->n_runs)
			buf_addc(b, ',');
		buf_addf(b, "{\"id\":%lld,\"attempt\":%d,\"state\":\"%s\",\"workflow\":",
			 (long long)ev->provider_id, ev->attempt, import_state_name(ev->state));
		cli_json_str(b, ev->workflow);
		buf_addf(b, ",\"jobs\":%d,\"logs\":%d,\"findings\":%d,\"tests\":%d,\"artifact_files\":%d}",
			 ev->n_jobs, ev->n_logs, ev->n_findings, ev->n_tests, ev->n_artifact_files);
	}
	u->n_runs++;
	if (!u->json && !u->quiet && !u->progress) {
		/* plain lines when stderr is not a terminal (logs, CI) */
		struct buf line = BUF_INIT, safe = BUF_INIT;
		buf_addf(&line, "run %lld", (long long)ev->provider_id);
		if (ev->attempt > 1)
			buf_addf(&line, ":%d", ev->attempt);
		buf_addf(&line, " %s: %s, %d job%s, %d log%s, %d artifact file%s",
			 ev->workflow ? ev->workflow : "?", import_state_name(ev->state), ev->n_jobs,
			 ev->n_jobs == 1 ? "" : "s", ev->n_logs, ev->n_logs == 1 ? "" : "s",
			 ev->n_artifact_files, ev->n_artifact_files == 1 ? "" : "s");
		sanitize_append(&safe, line.data, line.len, 0);
		fprintf(stderr, "%s\n", buf_cstr(&safe));
		buf_release(&line);
		buf_release(&safe);
	}
}

static void ui_progress(void *ctx, const struct fetch_progress *p)
{
	struct fetch_ui *u = ctx;
	if (!u->progress)
		return;
	double t = secs_since(&u->t0);
	char bytes[32], rate[32], eta[48] = "", api[48] = "", dur[32];
	fetch_format_bytes(p->bytes, bytes, sizeof(bytes));
	fetch_format_bytes(t > 0.2 ? (uint64_t)((double)p->bytes / t) : 0, rate, sizeof(rate));
	if (p->listing_done && p->runs_done > 0 && p->runs_wanted > p->runs_done) {
		double left = t / p->runs_done * (p->runs_wanted - p->runs_done);
		time_format_duration((int64_t)(left * 1000), dur, sizeof(dur));
		snprintf(eta, sizeof(eta), ", ETA %s", dur);
	}
	if (p->rate_remaining >= 0)
		snprintf(api, sizeof(api), ", API %ld left", p->rate_remaining);
	fprintf(stderr, "\r\033[Kfetching %s: runs %d/%d, jobs %d, logs %d/%d, artifacts %d/%d, %s at %s/s%s%s%s",
		u->slug, p->runs_done, p->runs_wanted, p->jobs, p->logs_done, p->logs_wanted,
		p->artifacts_done, p->artifacts_wanted, bytes, rate, eta, api,
		p->paused_until ? " (waiting for the rate limit)" : "");
	u->shown = true;
}

int cmd_fetch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"workflow", required_argument, NULL, 'w'}, {"branch", required_argument, NULL, 'b'},
		{"since", required_argument, NULL, 's'},    {"limit", required_argument, NULL, 'L'},
		{"all-logs", no_argument, NULL, 'A'},	    {"artifacts", required_argument, NULL, 'a'},
		{"artifact-max", required_argument, NULL, 'M'},
		{"jobs", required_argument, NULL, 'J'},	    {"api-url", required_argument, NULL, 'u'},
		{"cache-dir", required_argument, NULL, 'C'}, {"no-wait", no_argument, NULL, 'W'},
		{"quiet", no_argument, NULL, 'q'},	    {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0}};
	struct fetch_opts fo = {0};
	struct fetch_ui u = {.c = c};
	const char *api_url = NULL, *cache_dir = NULL;
	int o;
	long v;
	optind = 0;
	while ((o = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (o) {
		case 'w': fo.workflow = optarg; break;
		case 'b': fo.branch = optarg; break;
		case 's': fo.since = optarg; break;
		case 'L':
			if ((v = parse_num("--limit", optarg, 1, 100000)) < 0)
				return EXIT_USAGE;
			fo.limit = (int)v;
			break;
		case 'A': fo.all_logs = true; break;
		case 'a': fo.artifacts = !strcmp(optarg, "none") ? "" : optarg; break;
		case 'M':
			if ((fo.artifact_max = parse_size(optarg)) <= 0) {
				cli_error("--artifact-max: '%s' is not a size (100M, 1G, bytes)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'J':
			if ((v = parse_num("--jobs", optarg, 1, 64)) < 0)
				return EXIT_USAGE;
			fo.jobs = (int)v;
			break;
		case 'u': api_url = optarg; break;
		case 'C': cache_dir = optarg; break;
		case 'W': fo.no_wait = true; break;
		case 'q': u.quiet = true; break;
		case 'j': u.json = true; break;
		case 'h': cli_command_usage("fetch", stdout); return EXIT_OK;
		default: return cli_bad_usage("fetch");
		}
	}
	if (optind < argc - 1) {
		cli_error("fetch: name at most one repository (OWNER/REPO)");
		return cli_bad_usage("fetch");
	}
	const char *repo = optind < argc ? argv[optind] : NULL;
	if (fo.since && !gh_since_valid(fo.since)) {
		cli_error("--since '%s' is not a date (YYYY-MM-DD) or an RFC 3339 time", fo.since);
		return EXIT_USAGE;
	}
	struct cs_err err;
	err_clear(&err);
	struct gh_client client;
	if (gh_client_init(&client, repo, api_url, &err) < 0) {
		cli_error("%s", err.msg);
		return err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_ERROR;
	}
	if (!client.token && !u.quiet)
		cli_error("warning: no token (GH_TOKEN, GITHUB_TOKEN or `gh auth token`): anonymous "
			  "requests are limited to 60 an hour and see public repositories only");
	/* the index of the repository named, unless one was given */
	if (c->db_owned) {
		free(c->db_owned);
		c->db_owned = store_default_path(client.t.slug);
		c->db_path = c->db_owned;
	}
	if (!cli_open(c, true)) {
		gh_client_release(&client);
		return EXIT_ERROR;
	}
	char *root = cache_dir ? xstrdup(cache_dir) : fetch_default_cache_root();
	u.slug = client.t.slug;
	u.progress = !u.quiet && !u.json && c->tty_err;
	buf_init(&u.runs);
	buf_init(&u.errors);
	clock_gettime(CLOCK_MONOTONIC, &u.t0);
	fo.client = &client;
	fo.cache_root = root;
	fo.on_message = ui_message;
	fo.on_run = ui_run;
	fo.on_progress = ui_progress;
	fo.ctx = &u;
	struct fetch_progress p = {0};
	p.rate_remaining = -1;
	enum fetch_result res = fetch_run(c->st, &fo, &cli_interrupted, &p, &err);
	ui_clear(&u);
	static const char *const res_name[] = {"ok", "partial", "failed", "interrupted",
					       "rate_limited"};
	if (res == FETCH_FAILED || res == FETCH_RATE_LIMITED) {
		if (u.json) {
			if (u.errors.len)
				buf_addc(&u.errors, ',');
			cli_json_str(&u.errors, err.msg);
		}
		cli_error("%s", err.msg);
	}
	double t = secs_since(&u.t0);
	if (u.json) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "{\"repo\":");
		cli_json_str(&b, client.t.slug);
		buf_adds(&b, ",\"api\":");
		cli_json_str(&b, client.t.api_base);
		buf_addf(&b, ",\"result\":\"%s\",\"runs\":[%s],\"errors\":[%s]", res_name[res],
			 buf_cstr(&u.runs), buf_cstr(&u.errors));
		buf_addf(&b, ",\"created\":%d,\"updated\":%d,\"unchanged\":%d,\"failed\":%d,"
			     "\"listed\":%d,\"pages\":%d,\"requests\":%d,\"not_modified\":%d,"
			     "\"retries\":%d,\"bytes\":%llu,\"logs\":%d,\"artifacts\":%d",
			 u.created, u.updated, u.unchanged, p.runs_failed, p.runs_listed, p.pages,
			 p.requests, p.not_modified, p.retries, (unsigned long long)p.bytes,
			 p.logs_done, p.artifacts_done);
		buf_addf(&b, ",\"rate_limit\":{\"remaining\":%ld,\"limit\":%ld,\"reset\":",
			 p.rate_remaining, p.rate_limit);
		cli_json_time(&b, p.rate_reset > 0 ? p.rate_reset * 1000 : CS_TIME_NONE);
		buf_adds(&b, "}}\n");
		fwrite(buf_cstr(&b), 1, b.len, stdout);
		buf_release(&b);
	} else if (!u.quiet) {
		char bytes[32];
		fetch_format_bytes(p.bytes, bytes, sizeof(bytes));
		int total = u.created + u.updated + u.unchanged;
		/* a re-run run brings one import per attempt */
		if (total == p.runs_imported)
			fprintf(stderr, "fetched %d run%s (%d new, %d updated, %d unchanged", total,
				total == 1 ? "" : "s", u.created, u.updated, u.unchanged);
		else
			fprintf(stderr, "fetched %d run%s (%d attempts: %d new, %d updated, %d unchanged",
				p.runs_imported, p.runs_imported == 1 ? "" : "s", total, u.created,
				u.updated, u.unchanged);
		if (p.runs_failed)
			fprintf(stderr, ", %d failed", p.runs_failed);
		fprintf(stderr, ") in %.1fs: %d request%s (%d not modified), %s", t, p.requests,
			p.requests == 1 ? "" : "s", p.not_modified, bytes);
		if (p.rate_remaining >= 0)
			fprintf(stderr, "; API: %ld of %ld left", p.rate_remaining, p.rate_limit);
		fprintf(stderr, "\n");
	}
	buf_release(&u.runs);
	buf_release(&u.errors);
	free(root);
	gh_client_release(&client);
	switch (res) {
	case FETCH_OK: return EXIT_OK;
	case FETCH_INTERRUPTED:
		cli_error("interrupted: the runs fetched so far are imported; fetch again to go on");
		return EXIT_INTR;
	case FETCH_RATE_LIMITED: return EXIT_RATELIMIT;
	case FETCH_PARTIAL:
	case FETCH_FAILED: break;
	}
	return EXIT_ERROR;
}

/* --- rerun, dispatch --------------------------------------------------------------------------- */
int cli_confirm(struct cli *c, const char *requests, const char *question, bool yes)
{
	struct buf d = BUF_INIT;
	buf_adds(&d, "ciscope will send:\n\n");
	buf_adds(&d, requests);
	buf_addc(&d, '\n');
	cli_put(c, buf_cstr(&d), false);
	buf_release(&d);
	fflush(stdout);
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			cli_error("not sent: confirm with --yes (the input is not a terminal)");
			return EXIT_USAGE;
		}
		struct buf q = BUF_INIT, safe = BUF_INIT;
		buf_addf(&q, "%s [y/N] ", question);
		sanitize_append(&safe, q.data, q.len, 0);
		fputs(buf_cstr(&safe), stderr);
		fflush(stderr);
		buf_release(&q);
		buf_release(&safe);
		char line[64];
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
			cli_error("not sent");
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

/* Show exactly what will be sent; send it when --yes or the user says so. */
static int confirm_and_send(struct cli *c, const struct gh_client *client, const struct gh_post *post,
			    const char *question, bool yes, const char *what, const char *done)
{
	struct buf d = BUF_INIT;
	gh_post_describe(post, client->token_src, &d);
	int go = cli_confirm(c, buf_cstr(&d), question, yes);
	buf_release(&d);
	if (go != EXIT_OK)
		return go;
	struct cs_err err;
	err_clear(&err);
	struct buf resp = BUF_INIT;
	long status;
	int rc = gh_request(client, "POST", post->url, post->body, what, &status, &resp, &err);
	buf_release(&resp);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	struct buf ok = BUF_INIT;
	buf_addf(&ok, "%s (HTTP %ld)\n", done, status);
	cli_put(c, ok.data, false);
	buf_release(&ok);
	return EXIT_OK;
}

/* The repository of a run the index holds, when none was named. */
static char *repo_of_run(struct cli *c, const char *spec)
{
	struct cs_err err;
	err_clear(&err);
	if (access(c->db_path, F_OK) != 0)
		return NULL;
	struct store *st = store_open(c->db_path, STORE_RO_EXISTING, &err);
	if (!st)
		return NULL;
	struct run r;
	char *slug = NULL;
	if (store_find_run(st, spec, &r, &err) == 0) {
		if (r.repo && strchr(r.repo, '/'))
			slug = xstrdup(r.repo);
		run_free(&r);
	}
	store_close(st);
	return slug;
}

int cmd_rerun(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"repo", required_argument, NULL, 'r'}, {"api-url", required_argument, NULL, 'u'},
		{"yes", no_argument, NULL, 'y'},	{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *repo = NULL, *api_url = NULL;
	bool yes = false;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': repo = optarg; break;
		case 'u': api_url = optarg; break;
		case 'y': yes = true; break;
		case 'h': cli_command_usage("rerun", stdout); return EXIT_OK;
		default: return cli_bad_usage("rerun");
		}
	}
	if (optind != argc - 1) {
		cli_error("rerun: name one run");
		return cli_bad_usage("rerun");
	}
	const char *spec = argv[optind];
	char *end;
	long long id = strtoll(spec, &end, 10);
	if (id <= 0 || (*end && *end != ':')) {
		cli_error("rerun: '%s' is not a run id", spec);
		return EXIT_USAGE;
	}
	char *from_index = repo ? NULL : repo_of_run(c, spec);
	struct cs_err err;
	err_clear(&err);
	struct gh_client client;
	if (gh_client_init(&client, repo ? repo : from_index, api_url, &err) < 0) {
		free(from_index);
		cli_error("%s", err.msg);
		return err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_ERROR;
	}
	free(from_index);
	struct gh_post post;
	gh_build_rerun_failed(&client.t, id, &post);
	struct buf q = BUF_INIT, what = BUF_INIT, done = BUF_INIT;
	buf_addf(&q, "Re-run the failed jobs (and the jobs that depend on them) of run %lld of %s?",
		 id, client.t.slug);
	buf_addf(&what, "re-running run %lld of %s", id, client.t.slug);
	buf_addf(&done, "re-run of the failed jobs of run %lld requested", id);
	int rc = confirm_and_send(c, &client, &post, q.data, yes, what.data, done.data);
	buf_release(&q);
	buf_release(&what);
	buf_release(&done);
	gh_post_free(&post);
	gh_client_release(&client);
	return rc;
}

int cmd_dispatch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ref", required_argument, NULL, 'R'},	  {"input", required_argument, NULL, 'i'},
		{"repo", required_argument, NULL, 'r'},	  {"api-url", required_argument, NULL, 'u'},
		{"yes", no_argument, NULL, 'y'},	  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *repo = NULL, *api_url = NULL, *ref = NULL;
	const char **keys = NULL, **vals = NULL;
	char **owned = NULL;
	int n_inputs = 0;
	bool yes = false;
	int o, rc = EXIT_USAGE;
	optind = 0;
	while ((o = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (o) {
		case 'R': ref = optarg; break;
		case 'i': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				cli_error("--input '%s' is not KEY=VALUE", optarg);
				goto out;
			}
			keys = xrealloc(keys, sizeof(*keys) * (size_t)(n_inputs + 1));
			vals = xrealloc(vals, sizeof(*vals) * (size_t)(n_inputs + 1));
			owned = xrealloc(owned, sizeof(*owned) * (size_t)(n_inputs + 1));
			owned[n_inputs] = xstrndup(optarg, (size_t)(eq - optarg));
			keys[n_inputs] = owned[n_inputs];
			vals[n_inputs] = eq + 1;
			n_inputs++;
			break;
		}
		case 'r': repo = optarg; break;
		case 'u': api_url = optarg; break;
		case 'y': yes = true; break;
		case 'h': cli_command_usage("dispatch", stdout); rc = EXIT_OK; goto out;
		default: rc = cli_bad_usage("dispatch"); goto out;
		}
	}
	if (optind != argc - 1 || !ref || !*ref) {
		cli_error("dispatch: name one workflow and the ref to run it on (--ref BRANCH)");
		rc = cli_bad_usage("dispatch");
		goto out;
	}
	const char *workflow = argv[optind];
	struct cs_err err;
	err_clear(&err);
	struct gh_client client;
	if (gh_client_init(&client, repo, api_url, &err) < 0) {
		cli_error("%s", err.msg);
		rc = err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_ERROR;
		goto out;
	}
	struct buf wf = BUF_INIT;
	if (gh_resolve_workflow(&client, workflow, &wf, &err) < 0) {
		cli_error("%s", err.msg);
		rc = err.code == CS_EUSAGE	  ? EXIT_USAGE
		     : err.code == CS_ENOTFOUND ? EXIT_NOTFOUND
						: EXIT_ERROR;
	} else {
		struct gh_post post;
		gh_build_dispatch(&client.t, wf.data, ref, keys, vals, n_inputs, &post);
		struct buf q = BUF_INIT, what = BUF_INIT, done = BUF_INIT;
		buf_addf(&q, "Run workflow '%s' of %s on '%s'?", workflow, client.t.slug, ref);
		buf_addf(&what, "dispatching workflow '%s' of %s", workflow, client.t.slug);
		buf_addf(&done, "workflow '%s' dispatched on '%s'", workflow, ref);
		rc = confirm_and_send(c, &client, &post, q.data, yes, what.data, done.data);
		buf_release(&q);
		buf_release(&what);
		buf_release(&done);
		gh_post_free(&post);
	}
	buf_release(&wf);
	gh_client_release(&client);
out:
	for (int i = 0; i < n_inputs; i++)
		free(owned[i]);
	free(owned);
	free(keys);
	free(vals);
	return rc;
}
