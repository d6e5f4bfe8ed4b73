/* commands.c - import, runs, show, log, search. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "core/import.h"
#include "core/logparse.h"
#include "core/logstore.h"
#include "core/metrics.h"
#include "core/parity.h"
#include "core/runitems.h"
#include "core/sanitize.h"
#include "core/search.h"

/* Parse a positive number option; returns -1 (after a message) if bad. */
static long parse_count(const char *opt, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end || n < 0) {
		cli_error("%s: '%s' is not a number", opt, v);
		return -1;
	}
	return n;
}

/* One table cell (cli/table.h). */
static void cell(struct cli *c, struct buf *out, const char *s, int width, bool last)
{
	table_cell(out, s, width, last, c->utf8);
}

/* --- import ------------------------------------------------------------------ */
struct import_ui {
	struct cli *c;
	bool json, quiet, progress;
	struct buf json_runs, json_errors;
	int n_runs, n_errors;
	int created, updated, unchanged;
	struct timespec t0;
	bool progress_shown;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void clear_progress(struct import_ui *u)
{
	if (u->progress_shown) {
		fputs("\r\033[K", stderr);
		u->progress_shown = false;
	}
}

static void on_progress(void *ctx, const struct import_progress *p)
{
	struct import_ui *u = ctx;
	if (!u->progress)
		return;
	double t = elapsed(&u->t0);
	double mb = (double)p->bytes / 1e6;
	struct buf safe = BUF_INIT;
	const char *cur = p->current ? path_basename(p->current) : "";
	sanitize_append(&safe, cur, MIN(strlen(cur), (size_t)40), 0);
	fprintf(stderr, "\r\033[Kimporting: %llu runs, %llu files, %.1f MB, %.0f MB/s  %s",
		(unsigned long long)p->runs, (unsigned long long)p->files, mb,
		t > 0 ? mb / t : 0.0, buf_cstr(&safe));
	buf_release(&safe);
	u->progress_shown = true;
}

static void on_run(void *ctx, const struct import_event *ev)
{
	struct import_ui *u = ctx;
	switch (ev->state) {
	case IMPORT_CREATED: u->created++; break;
	case IMPORT_UPDATED: u->updated++; break;
	case IMPORT_UNCHANGED: u->unchanged++; break;
	}
	if (u->json) {
		struct buf *b = &u->json_runs;
		if (u->n_runs++)
			buf_addc(b, ',');
		buf_addf(b, "{\"id\":%lld,\"attempt\":%d,\"state\":\"%s\",\"repo\":",
			 (long long)ev->provider_id, ev->attempt, import_state_name(ev->state));
		cli_json_str(b, ev->repo);
		buf_adds(b, ",\"workflow\":");
		cli_json_str(b, ev->workflow);
		buf_adds(b, ",\"path\":");
		cli_json_str(b, ev->path);
		buf_addf(b, ",\"jobs\":%d,\"logs\":%d,\"findings\":%d,\"tests\":%d,\"metric_series\":%d,"
			    "\"artifact_files\":%d}",
			 ev->n_jobs, ev->n_logs, ev->n_findings, ev->n_tests, ev->n_series,
			 ev->n_artifact_files);
	}
	if (!u->json && !u->quiet && u->c->tty_err) {
		clear_progress(u);
	}
}

static void on_import_error(void *ctx, const char *msg)
{
	struct import_ui *u = ctx;
	clear_progress(u);
	if (u->json) {
		if (u->n_errors)
			buf_addc(&u->json_errors, ',');
		cli_json_str(&u->json_errors, msg);
	}
	u->n_errors++;
	cli_error("%s", msg);
}

/* A local-CI results file (core/metrics.h): 1 imported, -1 rejected, 0 not
 * one (the importer takes it). */
static int import_local_results(struct cli *c, struct import_ui *u, const char *path)
{
	if (!str_ends(path, ".json") || !path_is_file(path))
		return 0;
	struct buf text = BUF_INIT;
	struct cs_err err;
	if (file_read_all(path, 4u << 20, &text, &err) < 0) {
		buf_release(&text);
		return 0; /* the importer says why */
	}
	if (!metrics_is_local_results(text.data ? text.data : "", text.len)) {
		buf_release(&text);
		return 0;
	}
	int64_t run;
	int state;
	int rc = metrics_import_local(c->st, path, text.data, text.len, &run, &state, &err);
	buf_release(&text);
	if (rc < 0) {
		char msg[sizeof(err.msg) + 100];
		snprintf(msg, sizeof(msg), "cannot import local results: %s", err.msg);
		on_import_error(u, msg);
		return -1;
	}
	struct run r = {0};
	char ref[32];
	snprintf(ref, sizeof(ref), "#%lld", (long long)run);
	struct import_event ev = {.state = state == 0 ? IMPORT_CREATED
					 : state == 1 ? IMPORT_UPDATED : IMPORT_UNCHANGED,
				  .run_row_id = run, .attempt = 1, .repo = "local",
				  .workflow = "local", .path = path};
	if (store_find_run(c->st, ref, &r, &err) == 0) {
		ev.provider_id = r.provider_id;
		run_free(&r);
	}
	on_run(u, &ev);
	return 1;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"quiet", no_argument, NULL, 'q'},
		{"conclusion", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct import_ui u = {.c = c};
	const char *conclusion = NULL;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (o) {
		case 'j': u.json = true; break;
		case 'c':
			if (strcmp(optarg, "failure") && strcmp(optarg, "success")) {
				cli_error("import: --conclusion '%s' is not one of: failure, success",
					  optarg);
				return EXIT_USAGE;
			}
			conclusion = optarg;
			break;
		case 'q': u.quiet = true; break;
		case 'h': cli_command_usage("import", stdout); return EXIT_OK;
		default: return cli_bad_usage("import");
		}
	}
	if (optind >= argc) {
		cli_error("import: name at least one run folder, log archive or log file");
		return cli_bad_usage("import");
	}
	if (!cli_open(c, true))
		return EXIT_ERROR;
	u.progress = !u.quiet && !u.json && c->tty_err;
	clock_gettime(CLOCK_MONOTONIC, &u.t0);
	buf_init(&u.json_runs);
	buf_init(&u.json_errors);
	struct import_opts io = {.on_run = on_run, .on_error = on_import_error,
				 .on_progress = on_progress, .ctx = &u,
				 .interrupted = &cli_interrupted, .conclusion = conclusion};
	struct importer *im = importer_new(c->st, &io);
	struct cs_err err;
	int local_failed = 0;
	/* the runs of every path share the importer's batches (each run
	 * all-or-nothing); local results write on their own: the open batch is
	 * committed first */
	for (int i = optind; i < argc && !cli_interrupted; i++) {
		if (str_ends(argv[i], ".json"))
			import_flush(im, &err);
		int r = import_local_results(c, &u, argv[i]);
		if (r < 0)
			local_failed++;
		else if (r == 0)
			import_add(im, argv[i], &err);
	}
	import_flush(im, &err);
	int ok, failed;
	importer_totals(im, &ok, &failed);
	failed += local_failed;
	importer_free(im);
	clear_progress(&u);
	if (u.json) {
		printf("{\"runs\":[%s],\"errors\":[%s],\"created\":%d,\"updated\":%d,\"unchanged\":%d}\n",
		       buf_cstr(&u.json_runs), buf_cstr(&u.json_errors), u.created, u.updated,
		       u.unchanged);
	} else if (!u.quiet) {
		double t = elapsed(&u.t0);
		fprintf(stderr, "imported %d run%s (%d new, %d updated, %d unchanged)%s in %.1fs",
			u.created + u.updated + u.unchanged,
			u.created + u.updated + u.unchanged == 1 ? "" : "s", u.created, u.updated,
			u.unchanged, failed ? "" : "", t);
		if (failed)
			fprintf(stderr, "; %d failed", failed);
		fprintf(stderr, " into %s\n", c->db_path);
	}
	buf_release(&u.json_runs);
	buf_release(&u.json_errors);
	if (cli_interrupted) {
		cli_error("interrupted: the runs imported so far are kept");
		return EXIT_INTR;
	}
	return failed ? EXIT_ERROR : EXIT_OK;
}

/* --- runs ------------------------------------------------------------------------ */
struct runs_ui {
	struct cli *c;
	bool json;
	struct run *rows;
	size_t n, alloc;
};

static int collect_run(void *ctx, const struct run *r)
{
	struct runs_ui *u = ctx;
	XGROW(u->rows, u->alloc, u->n + 1);
	struct run *d = &u->rows[u->n++];
	run_copy(d, r);
	return 0;
}

static void run_id_text(const struct run *r, char *out, size_t n)
{
	if (r->attempt > 1)
		snprintf(out, n, "%lld:%d", (long long)r->provider_id, r->attempt);
	else
		snprintf(out, n, "%lld", (long long)r->provider_id);
}


/* show's lists of what the run brought besides its logs (core/runitems.h):
 * its artifacts and their files, the tests that did not pass, its metric
 * series. JSON: "artifact_list", "failed_tests", "series". */
static void show_items_json(struct buf *b, const struct run_items *it)
{
	buf_adds(b, ",\"artifact_list\":[");
	for (int i = 0; i < it->n_artifacts; i++) {
		const struct run_artifact *a = &it->artifacts[i];
		buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		cli_json_str(b, a->name);
		if (a->size > 0) /* 0: not known */
			buf_addf(b, ",\"size\":%lld", (long long)a->size);
		else
			buf_adds(b, ",\"size\":null");
		buf_addf(b, ",\"expired\":%s,\"files\":[", a->expired ? "true" : "false");
		for (int k = 0; k < a->n_files; k++) {
			const struct run_item_file *f = &a->files[k];
			buf_adds(b, k ? ",{\"path\":" : "{\"path\":");
			cli_json_str(b, f->path);
			buf_addf(b, ",\"size\":%lld,\"kind\":", (long long)f->size);
			cli_json_str(b, f->kind);
			buf_adds(b, ",\"note\":");
			cli_json_str(b, f->note);
			buf_addf(b, ",\"tests\":%d,\"series\":%d}", f->n_tests, f->n_series);
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "],\"failed_tests\":[");
	for (int i = 0; i < it->n_tests; i++) {
		const struct run_test *t = &it->tests[i];
		buf_adds(b, i ? ",{\"outcome\":" : "{\"outcome\":");
		cli_json_str(b, t->outcome);
		buf_adds(b, ",\"suite\":");
		cli_json_str(b, t->suite);
		buf_adds(b, ",\"classname\":");
		cli_json_str(b, t->classname);
		buf_adds(b, ",\"name\":");
		cli_json_str(b, t->name);
		buf_adds(b, ",\"file\":");
		cli_json_str(b, t->file);
		if (t->line > 0)
			buf_addf(b, ",\"line\":%ld", t->line);
		else
			buf_adds(b, ",\"line\":null");
		buf_adds(b, ",\"duration_ms\":");
		cli_json_ms(b, t->duration_ms);
		buf_addf(b, ",\"reruns\":%d,\"message\":", t->reruns);
		cli_json_str(b, t->message);
		buf_adds(b, ",\"details\":");
		cli_json_str(b, t->details);
		buf_adds(b, ",\"artifact\":");
		cli_json_str(b, t->artifact);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"series\":[");
	for (int i = 0; i < it->n_series; i++) {
		const struct run_series *r = &it->series[i];
		buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		cli_json_str(b, r->name);
		buf_adds(b, ",\"artifact\":");
		cli_json_str(b, r->artifact);
		buf_adds(b, ",\"path\":");
		cli_json_str(b, r->path);
		buf_addf(b, ",\"points\":%ld,\"values\":%ld", r->n_points, r->n_values);
		/* summaries of the values: null when the series has none */
		const char *key[] = {"first", "last", "min", "max"};
		double val[] = {r->first, r->last, r->min, r->max};
		for (int k = 0; k < 4; k++) {
			buf_addf(b, ",\"%s\":", key[k]);
			if (r->n_values > 0)
				parity_json_num(b, val[k]);
			else
				buf_adds(b, "null");
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* The first line of s, sanitised, at most max columns (cut with "..."). */
static void show_first_line(struct cli *c, const char *s, size_t max)
{
	size_t n = strcspn(s, "\r\n");
	bool cut = n > max || s[n];
	char *line = xstrndup(s, n > max ? max : n);
	cli_put(c, line, false);
	free(line);
	if (cut)
		printf("...");
}

static void show_items_text(struct cli *c, const struct run_items *it)
{
	char sz[32];
	for (int i = 0; i < it->n_artifacts; i++) {
		const struct run_artifact *a = &it->artifacts[i];
		printf("  artifact ");
		cli_put(c, a->name, false);
		run_item_size(a->size > 0 ? a->size : -1, sz, sizeof(sz));
		if (*sz)
			printf("  %s", sz);
		if (a->expired)
			printf("  expired");
		printf("\n");
		for (int k = 0; k < a->n_files; k++) {
			const struct run_item_file *f = &a->files[k];
			printf("    ");
			cli_put(c, f->path, false);
			run_item_size(f->size, sz, sizeof(sz));
			printf("  %s  ", sz);
			cli_put(c, f->kind ? f->kind : "other", false);
			if (f->n_tests)
				printf("%s%d test%s", cli_sep(c), f->n_tests, f->n_tests == 1 ? "" : "s");
			if (f->n_series)
				printf("%s%d series", cli_sep(c), f->n_series);
			if (f->note) {
				fputs(cli_sep(c), stdout);
				show_first_line(c, f->note, 80);
			}
			printf("\n");
		}
	}
	if (it->n_tests)
		printf("\ntests that did not pass:\n");
	for (int i = 0; i < it->n_tests; i++) {
		const struct run_test *t = &it->tests[i];
		const char *st = t->outcome && !strcmp(t->outcome, "flaky") ? "neutral" : "failure";
		printf("  %s%s%s ", cli_color(c, st), cli_glyph(c, st), cli_reset(c));
		cli_put(c, t->outcome ? t->outcome : "failed", false);
		printf("  ");
		if (t->classname && *t->classname) {
			cli_put(c, t->classname, false);
			fputs(c->utf8 ? " \u203a " : " > ", stdout);
		}
		cli_put(c, t->name, false);
		if (t->file && *t->file) {
			printf("  ");
			cli_put(c, t->file, false);
			if (t->line > 0)
				printf(":%ld", t->line);
		}
		printf("\n");
		/* the failure message, else the first line of its output */
		const char *why = t->message && *t->message ? t->message : t->details;
		why += why ? strspn(why, " \t\r\n") : 0;
		if (why && *why) {
			printf("      ");
			show_first_line(c, why, 100);
			printf("\n");
		}
	}
	if (it->n_series)
		printf("\nmetric series:\n");
	for (int i = 0; i < it->n_series; i++) {
		const struct run_series *r = &it->series[i];
		printf("  ");
		cli_put(c, r->name, false);
		if (r->n_values == 0)
			printf("  no values");
		else if (r->n_values == 1)
			printf("  %.6g", r->last);
		else
			printf("  last %.6g%s%.6g..%.6g", r->last, cli_sep(c), r->min, r->max);
		printf("  %ld point%s", r->n_points, r->n_points == 1 ? "" : "s");
		if (r->artifact) {
			printf("  ");
			cli_put(c, r->artifact, false);
			if (r->path) {
				printf("/");
				cli_put(c, r->path, false);
			}
		}
		printf("\n");
	}
}

static int col_width(struct runs_ui *u, int which, int cap)
{
	static const char *const heads[] = {"WORKFLOW", "BRANCH", "EVENT", "RUN"};
	int w = (int)strlen(heads[which]);
	for (size_t i = 0; i < u->n; i++) {
		const struct run *r = &u->rows[i];
		char id[48];
		const char *s = which == 0 ? r->workflow : which == 1 ? r->branch
							: which == 2 ? r->event : id;
		if (which == 3)
			run_id_text(r, id, sizeof(id));
		s = s ? s : "-";
		w = MAX(w, table_text_width(s, strlen(s), NULL, -1));
	}
	return cap ? MIN(w, cap) : w;
}

int cmd_runs(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"workflow", required_argument, NULL, 'w'}, {"branch", required_argument, NULL, 'b'},
		{"status", required_argument, NULL, 's'},   {"limit", required_argument, NULL, 'L'},
		{"json", no_argument, NULL, 'j'},	    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct run_filter f = {.limit = 30};
	struct runs_ui u = {.c = c};
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "w:b:s:L:h", opts, NULL)) != -1) {
		switch (o) {
		case 'w': f.workflow = optarg; break;
		case 'b': f.branch = optarg; break;
		case 's':
			if (!ci_status_filter_valid(optarg)) {
				cli_error("runs: --status '%s' is not one of: %s", optarg,
					  CI_STATUS_VALUES);
				return EXIT_USAGE;
			}
			f.status = optarg;
			break;
		case 'L':
			if ((f.limit = (int)parse_count("--limit", optarg)) < 0)
				return EXIT_USAGE;
			break;
		case 'j': u.json = true; break;
		case 'h': cli_command_usage("runs", stdout); return EXIT_OK;
		default: return cli_bad_usage("runs");
		}
	}
	if (optind < argc) {
		cli_error("runs: unexpected argument '%s'", argv[optind]);
		return cli_bad_usage("runs");
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	if (store_runs(c->st, &f, collect_run, &u, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	struct buf b = BUF_INIT;
	if (u.json) {
		/* the thresholds judged at each shown run (core/metrics.h) */
		struct th_run_state *ts = xcalloc(u.n + 1, sizeof(*ts));
		int64_t *ids = xmalloc((u.n + 1) * sizeof(int64_t));
		for (size_t i = 0; i < u.n; i++)
			ids[i] = u.rows[i].id;
		struct th_conf tc;
		if (th_conf_load(&tc, NULL, &err) < 0) {
			cli_error("%s (runs are not checked against thresholds)", err.msg);
		} else {
			if (metrics_run_thresholds(c->st, &tc, ids, (int)u.n, ts, &err) < 0)
				cli_error("%s", err.msg);
			th_conf_release(&tc);
		}
		buf_addc(&b, '[');
		for (size_t i = 0; i < u.n; i++) {
			if (i)
				buf_addc(&b, ',');
			cli_json_run(&b, &u.rows[i]);
			b.len--; /* cli_json_run's closing brace */
			/* the head commit's subject, as the table shows it */
			buf_adds(&b, ",\"subject\":");
			cli_json_str(&b, u.rows[i].commit_subject && *u.rows[i].commit_subject
						 ? u.rows[i].commit_subject
						 : NULL);
			buf_addf(&b, ",\"threshold_breach\":%s,\"thresholds\":{\"state\":\"%s\",\"breaches\":%d}}",
				 ts[i].state == TH_BREACH_FAIL ? "true" : "false",
				 th_state_name(ts[i].state), ts[i].breaches);
		}
		free(ts);
		free(ids);
		buf_adds(&b, "]\n");
		fwrite(buf_cstr(&b), 1, b.len, stdout);
	} else if (u.n == 0) {
		fprintf(stderr, "no runs%s in %s\n",
			f.workflow || f.branch || f.status ? " match" : "", c->db_path);
	} else {
		/* On a terminal the table fits its width, the title taking what is
		 * left (as gh run list does); in a pipe every value is whole. */
		int tw = cli_term_width(c);
		int ww = col_width(&u, 0, tw ? 24 : 0), bw = col_width(&u, 1, tw ? 28 : 0);
		int ew = col_width(&u, 2, tw ? 19 : 0);
		int iw = col_width(&u, 3, 0); /* ids are never cut: show and log take them */
		/* glyph and status, sha, run (each with its gap); workflow,
		 * branch and event give way (the widest first, down to 6) before
		 * the title gets less than 10; on a terminal narrower still, the
		 * event, duration, workflow and age columns go, in that order */
		bool show_ev = true, show_dur = true, show_wf = true, show_age = true;
		/* the status is never cut ("in_progress", "startup_failure") */
		int sw = 9;
		for (size_t i = 0; i < u.n; i++)
			sw = MAX(sw, (int)strlen(run_state(&u.rows[i])));
#define RUNS_WIDTH()                                                                            \
	(4 + sw + 9 + iw + 2 + (show_wf ? ww + 2 : 0) + bw + 2 + (show_ev ? ew + 2 : 0) +            \
	 (show_dur ? 10 : 0) + (show_age ? 12 : 0))
		int title_w = 0;
		while (tw && RUNS_WIDTH() + 10 > tw && MAX(ww, MAX(bw, ew)) > 6) {
			int *widest = ww >= bw && ww >= ew ? &ww : bw >= ew ? &bw : &ew;
			(*widest)--;
		}
		bool *drops[] = {&show_ev, &show_dur, &show_wf, &show_age};
		for (size_t k = 0; tw && k < sizeof(drops) / sizeof(drops[0]); k++)
			if (RUNS_WIDTH() + 10 > tw)
				*drops[k] = false;
		if (tw)
			title_w = MAX(tw - RUNS_WIDTH(), 10);
#undef RUNS_WIDTH
		int64_t now = time_now_ms();
		buf_reset(&b);
		buf_adds(&b, "  ");
		cell(c, &b, "STATUS", sw, false);
		if (show_wf)
			cell(c, &b, "WORKFLOW", ww, false);
		cell(c, &b, "BRANCH", bw, false);
		cell(c, &b, "SHA", 7, false);
		if (show_ev)
			cell(c, &b, "EVENT", ew, false);
		cell(c, &b, "RUN", iw, false);
		if (show_dur)
			cell(c, &b, "DURATION", 8, false);
		if (show_age)
			cell(c, &b, "AGE", 10, false);
		cell(c, &b, "TITLE", 0, true);
		buf_addc(&b, '\n');
		for (size_t i = 0; i < u.n; i++) {
			const struct run *r = &u.rows[i];
			const char *state = run_state(r);
			char id[48], dur[32], age[32], sha[8];
			run_id_text(r, id, sizeof(id));
			time_format_duration(r->duration_ms, dur, sizeof(dur));
			time_format_age(r->created_at, now, age, sizeof(age));
			snprintf(sha, sizeof(sha), "%.7s", r->sha ? r->sha : "-");
			buf_adds(&b, cli_color(c, state));
			buf_adds(&b, cli_glyph(c, state));
			buf_addc(&b, ' ');
			cell(c, &b, state, sw, false);
			buf_adds(&b, cli_reset(c));
			if (show_wf)
				cell(c, &b, r->workflow, ww, false);
			cell(c, &b, r->branch, bw, false);
			cell(c, &b, sha, 7, false);
			if (show_ev)
				cell(c, &b, r->event, ew, false);
			cell(c, &b, id, iw, false);
			if (show_dur)
				cell(c, &b, dur, 8, false);
			if (show_age)
				cell(c, &b, age, 10, false);
			cell(c, &b, r->commit_subject && *r->commit_subject ? r->commit_subject : r->title, title_w, true);
			buf_addc(&b, '\n');
		}
		fwrite(buf_cstr(&b), 1, b.len, stdout);
	}
	buf_release(&b);
	for (size_t i = 0; i < u.n; i++)
		run_free(&u.rows[i]);
	free(u.rows);
	return EXIT_OK;
}

/* --- show -------------------------------------------------------------------------- */
static int64_t span(int64_t a, int64_t b)
{
	return a == CS_TIME_NONE || b == CS_TIME_NONE ? CS_TIME_NONE : b - a;
}

int cmd_show(struct cli *c, int argc, char **argv)
{
	bool json;
	int orc = cli_json_opts("show", argc, argv, &json);
	if (orc >= 0)
		return orc;
	if (optind != argc - 1) {
		cli_error("show: name one run");
		return cli_bad_usage("show");
	}
	if (!cli_open(c, false))
		return EXIT_ERROR;
	struct cs_err err;
	err_clear(&err);
	struct run r;
	if (store_find_run(c->st, argv[optind], &r, &err) < 0) {
		cli_error("%s", err.msg);
		return err.code == CS_EDB ? EXIT_ERROR : err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	struct job *jobs;
	int n;
	struct run_summary sum;
	struct run_items items = {0};
	if (store_jobs(c->st, r.id, &jobs, &n, &err) < 0 ||
	    store_run_summary(c->st, r.id, &sum, &err) < 0 ||
	    run_items_load(c->st, r.id, &items, &err) < 0) {
		cli_error("%s", err.msg);
		store_jobs_free(jobs, n);
		run_free(&r);
		return EXIT_ERROR;
	}
	struct buf b = BUF_INIT;
	if (json) {
		buf_adds(&b, "{\"run\":");
		cli_json_run(&b, &r);
		buf_adds(&b, ",\"conclusion_why\":");
		cli_json_str(&b, r.conclusion_why);
		buf_adds(&b, ",\"jobs\":[");
		for (int i = 0; i < n; i++) {
			const struct job *j = &jobs[i];
			if (i)
				buf_addc(&b, ',');
			buf_addf(&b, "{\"id\":%lld,\"name\":", (long long)j->provider_id);
			cli_json_str(&b, j->name);
			buf_adds(&b, ",\"status\":");
			cli_json_str(&b, j->status);
			buf_adds(&b, ",\"conclusion\":");
			cli_json_str(&b, j->conclusion);
			buf_adds(&b, ",\"started_at\":");
			cli_json_time(&b, j->started_at);
			buf_adds(&b, ",\"completed_at\":");
			cli_json_time(&b, j->completed_at);
			buf_adds(&b, ",\"duration_ms\":");
			cli_json_ms(&b, span(j->started_at, j->completed_at));
			buf_adds(&b, ",\"runner\":");
			cli_json_str(&b, j->runner_name);
			buf_adds(&b, ",\"url\":");
			cli_json_str(&b, j->html_url);
			buf_adds(&b, ",\"log\":{\"state\":");
			cli_json_str(&b, j->log_state);
			buf_addf(&b, ",\"lines\":%lld,\"bytes\":%lld}", (long long)j->line_count,
				 (long long)j->raw_size);
			buf_addf(&b, ",\"errors\":%d,\"warnings\":%d,\"steps\":[", j->n_errors,
				 j->n_warnings);
			for (int k = 0; k < j->n_steps; k++) {
				const struct step *s = &j->steps[k];
				if (k)
					buf_addc(&b, ',');
				buf_addf(&b, "{\"number\":%d,\"name\":", s->number);
				cli_json_str(&b, s->name);
				buf_adds(&b, ",\"status\":");
				cli_json_str(&b, s->status);
				buf_adds(&b, ",\"conclusion\":");
				cli_json_str(&b, s->conclusion);
				buf_adds(&b, ",\"duration_ms\":");
				cli_json_ms(&b, span(s->started_at, s->completed_at));
				if (s->first_line)
					buf_addf(&b, ",\"first_line\":%lld,\"last_line\":%lld}",
						 (long long)s->first_line, (long long)s->last_line);
				else
					buf_adds(&b, ",\"first_line\":null,\"last_line\":null}");
			}
			buf_adds(&b, "],\"findings\":[");
			struct finding *fs;
			int nf;
			if (store_findings(c->st, j->id, &fs, &nf, &err) == 0) {
				for (int k = 0; k < nf; k++) {
					if (k)
						buf_addc(&b, ',');
					buf_addf(&b, "{\"line\":%lld,\"step\":", (long long)fs[k].line);
					if (fs[k].step_number)
						buf_addf(&b, "%d", fs[k].step_number);
					else
						buf_adds(&b, "null");
					buf_adds(&b, ",\"severity\":");
					cli_json_str(&b, fs[k].severity);
					buf_adds(&b, ",\"message\":");
					cli_json_str(&b, fs[k].message);
					buf_addc(&b, '}');
				}
				store_findings_free(fs, nf);
			}
			buf_adds(&b, "]}");
		}
		buf_addf(&b, "],\"artifacts\":{\"count\":%d,\"files\":%d},"
			     "\"tests\":{\"passed\":%d,\"failed\":%d,\"error\":%d,\"skipped\":%d,"
			     "\"flaky\":%d},\"metric_series\":%d",
			 sum.n_artifacts, sum.n_artifact_files, sum.tests_passed, sum.tests_failed,
			 sum.tests_error, sum.tests_skipped, sum.tests_flaky, sum.n_series);
		show_items_json(&b, &items);
		buf_adds(&b, "}\n");
		fwrite(buf_cstr(&b), 1, b.len, stdout);
	} else {
		const char *state = run_state(&r);
		char dur[32], age[32], att[32] = "";
		time_format_duration(r.duration_ms, dur, sizeof(dur));
		time_format_age(r.created_at, time_now_ms(), age, sizeof(age));
		if (r.attempt > 1)
			snprintf(att, sizeof(att), " attempt %d", r.attempt);
		printf("%s%s %s%s ", cli_color(c, state), cli_glyph(c, state), state, cli_reset(c));
		cli_put(c, r.workflow ? r.workflow : "-", false);
		fputs(cli_sep(c), stdout);
		cli_put(c, r.branch ? r.branch : "-", false);
		printf("%s%.7s%s", cli_sep(c), r.sha ? r.sha : "-", cli_sep(c));
		cli_put(c, r.event ? r.event : "-", false);
		printf("%srun %lld%s%s%s%s%s\n", cli_sep(c), (long long)r.provider_id, att, cli_sep(c), dur, cli_sep(c),
		       age);
		if (r.title) {
			printf("  ");
			cli_put(c, r.title, false);
			printf("\n");
		}
		/* the runs table shows the head commit's subject: say it too
		 * when the run's title is another (a pull request's title) */
		if (r.commit_subject && *r.commit_subject &&
		    (!r.title || strcmp(r.title, r.commit_subject))) {
			printf("  commit: ");
			cli_put(c, r.commit_subject, false);
			printf("\n");
		}
		if (r.html_url) {
			printf("  ");
			cli_put(c, r.html_url, false);
			printf("\n");
		}
		if (r.conclusion_why) {
			printf("  %s: ", state);
			cli_put(c, r.conclusion_why, false);
			printf("\n");
		}
		printf("\n");
		for (int i = 0; i < n; i++) {
			const struct job *j = &jobs[i];
			const char *js = j->conclusion ? j->conclusion : j->status;
			time_format_duration(span(j->started_at, j->completed_at), dur, sizeof(dur));
			printf("%s%s%s ", cli_color(c, js), cli_glyph(c, js), cli_reset(c));
			cli_put(c, j->name, false);
			if (!run_job_ids_synthetic(&r))
				printf(" (%lld)", (long long)j->provider_id);
			printf("  %s  %s", js ? js : "-", dur);
			if (j->log_id)
				printf("  log %lld lines", (long long)j->line_count);
			else
				printf("  log %s", j->log_state ? j->log_state : "missing");
			if (j->n_errors)
				printf("  %d error%s", j->n_errors, j->n_errors == 1 ? "" : "s");
			if (j->n_warnings)
				printf("  %d warning%s", j->n_warnings, j->n_warnings == 1 ? "" : "s");
			printf("\n");
			if (!j->n_steps && j->log_id)
				printf("    no steps known (the log does not mark them)\n");
			for (int k = 0; k < j->n_steps; k++) {
				const struct step *s = &j->steps[k];
				const char *ss = s->conclusion ? s->conclusion : s->status;
				time_format_duration(span(s->started_at, s->completed_at), dur,
						     sizeof(dur));
				struct buf line = BUF_INIT;
				char num[16];
				snprintf(num, sizeof(num), "%d", s->number);
				buf_adds(&line, "    ");
				buf_adds(&line, cli_color(c, ss));
				buf_adds(&line, cli_glyph(c, ss));
				buf_adds(&line, cli_reset(c));
				buf_addc(&line, ' ');
				buf_addf(&line, "%3s ", num);
				cell(c, &line, s->name, 44, false);
				cell(c, &line, dur, 8, false);
				if (s->first_line)
					buf_addf(&line, "lines %lld-%lld", (long long)s->first_line,
						 (long long)s->last_line);
				buf_addc(&line, '\n');
				fwrite(buf_cstr(&line), 1, line.len, stdout);
				buf_release(&line);
			}
		}
		printf("\nartifacts: %d (%d files)", sum.n_artifacts, sum.n_artifact_files);
		int nt = sum.tests_passed + sum.tests_failed + sum.tests_error + sum.tests_skipped +
			 sum.tests_flaky;
		if (nt)
			printf("  tests: %d passed, %d failed, %d errors, %d skipped, %d flaky",
			       sum.tests_passed, sum.tests_failed, sum.tests_error, sum.tests_skipped,
			       sum.tests_flaky);
		if (sum.n_series)
			printf("  metric series: %d", sum.n_series);
		printf("\n");
		show_items_text(c, &items);
	}
	buf_release(&b);
	run_items_release(&items);
	store_jobs_free(jobs, n);
	run_free(&r);
	return EXIT_OK;
}

/* --- log --------------------------------------------------------------------------------- */
struct log_ui {
	struct cli *c;
	bool json;
	const struct job *job;
	const struct step *steps;
	int n_steps;
	int si;
	struct logr *r;
	struct buf line, out;
	struct cs_err *err;
	long lines_out;
	bool after_cr; /* --raw of a gh-log: the last line ended in a bare CR */
};

static const struct step *step_at(struct log_ui *u, uint64_t lineno)
{
	for (int i = 0; i < u->n_steps; i++) {
		const struct step *s = &u->steps[i];
		if (s->first_line && (uint64_t)s->first_line <= lineno &&
		    (uint64_t)s->last_line >= lineno)
			return s;
	}
	return NULL;
}

static int print_line(void *ctx, const struct split_line *l)
{
	struct log_ui *u = ctx;
	if (cli_interrupted)
		return 2;
	const char *text = l->head;
	size_t n = l->head_len;
	if (l->head_len < l->len) {
		bool trunc;
		if (logr_line(u->r, l->lineno, 0, &u->line, &trunc, u->err) < 0)
			return -1;
		text = u->line.data;
		n = u->line.len;
	}
	const struct step *s = step_at(u, l->lineno);
	buf_reset(&u->out);
	if (u->json) {
		buf_adds(&u->out, "{\"job\":");
		cli_json_str(&u->out, u->job->name);
		buf_addf(&u->out, ",\"job_id\":%lld,\"step\":", (long long)u->job->provider_id);
		if (s)
			buf_addf(&u->out, "%d", s->number);
		else
			buf_adds(&u->out, "null");
		buf_addf(&u->out, ",\"line\":%llu,\"text\":", (unsigned long long)l->lineno);
		buf_add_json_str(&u->out, text, n);
		buf_adds(&u->out, "}\n");
	} else {
		sanitize_append(&u->out, u->job->name, strlen(u->job->name), 0);
		buf_addc(&u->out, '\t');
		const char *sn = s ? s->name : "UNKNOWN STEP";
		sanitize_append(&u->out, sn, strlen(sn), 0);
		buf_addc(&u->out, '\t');
		sanitize_append(&u->out, text, n, SAN_KEEP_TAB | (u->c->color ? SAN_KEEP_SGR : 0));
		if (u->c->color)
			buf_adds(&u->out, "\033[0m");
		buf_addc(&u->out, '\n');
	}
	u->lines_out++;
	return fwrite(u->out.data, 1, u->out.len, stdout) == u->out.len ? 0 : -1;
}

/* --raw of a gh-log job: each stored line behind the prefix it came with,
 * the job's name and its step's, so the imported bytes come back exactly */
static int print_prefixed(void *ctx, const struct split_line *l)
{
	struct log_ui *u = ctx;
	if (cli_interrupted)
		return 2;
	const struct step *s = step_at(u, l->lineno);
	buf_reset(&u->out);
	/* after a bare CR the file's line goes on: no prefix there */
	if (!u->after_cr)
		buf_addf(&u->out, "%s\t%s\t", u->job->name, s ? s->name : "UNKNOWN STEP");
	u->after_cr = l->term == TERM_CR;
	if (l->head_len < l->len) {
		bool trunc;
		if (logr_line(u->r, l->lineno, 0, &u->line, &trunc, u->err) < 0)
			return -1;
		buf_add(&u->out, u->line.data, u->line.len);
	} else {
		buf_add(&u->out, l->head, l->head_len);
	}
	static const char *const term[] = {"", "\n", "\r\n", "\r"};
	buf_adds(&u->out, term[l->term]);
	return fwrite(u->out.data, 1, u->out.len, stdout) == u->out.len ? 0 : -1;
}

static int print_range(struct log_ui *u, uint64_t first, uint64_t last, bool raw)
{
	if (first < 1 || last < first)
		return 0;
	if (raw && u->job->log_source && !strcmp(u->job->log_source, "gh-log")) {
		u->after_cr = false;
		int rc = logr_scan(u->r, first, last, print_prefixed, u, u->err);
		if (rc == 0 && fflush(stdout) != 0)
			rc = -1;
		return rc == 2 ? 0 : rc;
	}
	if (raw)
		return logr_write_lines(u->r, first, last, stdout, u->err);
	int rc = logr_scan(u->r, first, last, print_line, u, u->err);
	return rc == 2 ? 0 : rc;
}

int cmd_log(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"failed", no_argument, NULL, 'f'}, {"raw", no_argument, NULL, 'r'},
		{"step", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool failed = false, raw = false, json = false;
	long step = -1;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "frs:h", opts, NULL)) != -1) {
		switch (o) {
		case 'f': failed = true; break;
		case 'r': raw = true; break;
		case 'j': json = true; break;
		case 's':
			if ((step = parse_count("--step", optarg)) < 0)
				return EXIT_USAGE;
			break;
		case 'h': cli_command_usage("log", stdout); return EXIT_OK;
		default: return cli_bad_usage("log");
		}
	}
	if (optind != argc - 1) {
		cli_error("log: name one RUN or RUN/JOB");
		return cli_bad_usage("log");
	}
	if (raw && json) {
		cli_error("log: --raw and --json do not go together");
		return EXIT_USAGE;
	}
	char *spec = xstrdup(argv[optind]);
	char *job_spec = strchr(spec, '/');
	if (job_spec)
		*job_spec++ = '\0';
	if (step >= 0 && !job_spec) {
		cli_error("log: --step needs a job: RUN/JOB");
		free(spec);
		return EXIT_USAGE;
	}
	if (!cli_open(c, false)) {
		free(spec);
		return EXIT_ERROR;
	}
	struct cs_err err;
	err_clear(&err);
	struct run r;
	if (store_find_run(c->st, spec, &r, &err) < 0) {
		cli_error("%s", err.msg);
		free(spec);
		return err.code == CS_EDB ? EXIT_ERROR : err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	struct job *jobs;
	int n;
	if (store_jobs(c->st, r.id, &jobs, &n, &err) < 0) {
		cli_error("%s", err.msg);
		run_free(&r);
		free(spec);
		return EXIT_ERROR;
	}
	int first = 0, last = n - 1, rc = EXIT_OK;
	if (job_spec) {
		int k = store_find_job(jobs, n, job_spec, &err);
		if (k < 0) {
			cli_error("run %lld: %s", (long long)r.provider_id, err.msg);
			rc = err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_NOTFOUND;
			goto out;
		}
		first = last = k;
	}
	struct log_ui u = {.c = c, .json = json, .err = &err};
	buf_init(&u.line);
	buf_init(&u.out);
	int printed_jobs = 0;
	for (int i = first; i <= last && rc == EXIT_OK; i++) {
		const struct job *j = &jobs[i];
		if (failed && !ci_conclusion_is_failure(j->conclusion))
			continue;
		if (!j->log_id) {
			if (job_spec || failed) {
				cli_error("job '%s' of run %lld has no stored log (%s)", j->name,
					  (long long)r.provider_id, j->log_state ? j->log_state : "missing");
				if (job_spec)
					rc = EXIT_NOTFOUND;
			}
			continue;
		}
		u.job = j;
		u.steps = j->steps;
		u.n_steps = j->n_steps;
		u.r = logr_open(c->st, j->log_id, &err);
		if (!u.r) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
			break;
		}
		uint64_t nl = logr_line_count(u.r);
		int prc = 0;
		if (step >= 0) {
			const struct step *s = NULL;
			for (int k = 0; k < j->n_steps; k++)
				if (j->steps[k].number == step)
					s = &j->steps[k];
			if (!s) {
				cli_error("job '%s' has no step %ld (see ciscope show %lld)", j->name, step,
					  (long long)r.provider_id);
				rc = EXIT_NOTFOUND;
			} else if (!s->first_line) {
				cli_error("step %ld '%s' of job '%s' has no lines in the log", step,
					  s->name, j->name);
				rc = EXIT_NOTFOUND;
			} else {
				prc = print_range(&u, (uint64_t)s->first_line, (uint64_t)s->last_line, raw);
			}
		} else if (failed) {
			/* the failed steps that have lines; else the whole job, so a
			 * failed job never prints nothing */
			bool any = false;
			for (int k = 0; k < j->n_steps && !prc; k++) {
				const struct step *s = &j->steps[k];
				bool bad = ci_step_conclusion_failing(s->conclusion);
				if (bad && s->first_line) {
					prc = print_range(&u, (uint64_t)s->first_line,
							  (uint64_t)s->last_line, raw);
					any = true;
				}
			}
			if (!any)
				prc = print_range(&u, 1, nl, raw);
		} else if (raw && !(j->log_source && !strcmp(j->log_source, "gh-log"))) {
			prc = logr_write_all(u.r, stdout, &err);
		} else if (raw) {
			prc = print_range(&u, 1, nl, true);
		} else {
			prc = print_range(&u, 1, nl, false);
		}
		if (prc < 0) {
			cli_error("%s", err.msg[0] ? err.msg : "cannot write the log");
			rc = EXIT_ERROR;
		}
		logr_close(u.r);
		printed_jobs++;
	}
	if (failed && printed_jobs == 0 && rc == EXIT_OK)
		cli_error("run %lld has no failed job with a stored log", (long long)r.provider_id);
	buf_release(&u.line);
	buf_release(&u.out);
	if (cli_interrupted)
		rc = EXIT_INTR;
out:
	store_jobs_free(jobs, n);
	run_free(&r);
	free(spec);
	return rc;
}

/* --- search --------------------------------------------------------------------------------- */
struct search_ui {
	struct cli *c;
	bool json;
	bool count;
	struct buf out;
};

static int on_hit(void *ctx, const struct search_hit *h)
{
	struct search_ui *u = ctx;
	struct buf *b = &u->out;
	buf_reset(b);
	if (u->count) {
		/* a log and its count of matching lines, as grep -c gives a file's */
		if (u->json) {
			buf_addf(b, "{\"run\":%lld,\"attempt\":%d,\"workflow\":",
				 (long long)h->ref->run_provider_id, h->ref->attempt);
			cli_json_str(b, h->ref->workflow);
			buf_adds(b, ",\"job\":");
			cli_json_str(b, h->ref->job_name);
			buf_addf(b, ",\"job_id\":%lld,\"count\":%llu}\n",
				 (long long)h->ref->job_provider_id, (unsigned long long)h->count);
		} else {
			if (h->ref->attempt > 1)
				buf_addf(b, "%lld:%d/", (long long)h->ref->run_provider_id,
					 h->ref->attempt);
			else
				buf_addf(b, "%lld/", (long long)h->ref->run_provider_id);
			sanitize_append(b, h->ref->job_name, strlen(h->ref->job_name), 0);
			buf_addf(b, ":%llu\n", (unsigned long long)h->count);
		}
	} else if (u->json) {
		buf_addf(b, "{\"run\":%lld,\"attempt\":%d,\"workflow\":",
			 (long long)h->ref->run_provider_id, h->ref->attempt);
		cli_json_str(b, h->ref->workflow);
		buf_adds(b, ",\"job\":");
		cli_json_str(b, h->ref->job_name);
		buf_addf(b, ",\"job_id\":%lld,\"step\":", (long long)h->ref->job_provider_id);
		if (h->step_number)
			buf_addf(b, "%d", h->step_number);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"step_name\":");
		cli_json_str(b, h->step_name);
		buf_addf(b, ",\"line\":%llu,\"text\":", (unsigned long long)h->line);
		buf_add_json_str(b, h->text, h->text_len);
		buf_addf(b, ",\"match\":[%zu,%zu]}\n", h->match_start, h->match_end);
	} else {
		char head[64];
		if (h->ref->attempt > 1)
			snprintf(head, sizeof(head), "%lld:%d/", (long long)h->ref->run_provider_id,
				 h->ref->attempt);
		else
			snprintf(head, sizeof(head), "%lld/", (long long)h->ref->run_provider_id);
		if (u->c->color)
			buf_adds(b, "\033[35m");
		buf_adds(b, head);
		sanitize_append(b, h->ref->job_name, strlen(h->ref->job_name), 0);
		if (u->c->color)
			buf_adds(b, "\033[0m");
		buf_addf(b, ":%s%llu%s\t", u->c->color ? "\033[32m" : "", (unsigned long long)h->line,
			 u->c->color ? "\033[0m" : "");
		const char *sn = h->step_name ? h->step_name : "-";
		sanitize_append(b, sn, strlen(sn), 0);
		buf_addc(b, '\t');
		sanitize_append(b, h->text, h->match_start, SAN_KEEP_TAB);
		if (u->c->color)
			buf_adds(b, "\033[1;31m");
		sanitize_append(b, h->text + h->match_start, h->match_end - h->match_start,
				SAN_KEEP_TAB);
		if (u->c->color)
			buf_adds(b, "\033[0m");
		sanitize_append(b, h->text + h->match_end, h->text_len - h->match_end, SAN_KEEP_TAB);
		buf_addc(b, '\n');
	}
	return fwrite(b->data, 1, b->len, stdout) == b->len ? 0 : -1;
}

int cmd_search(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"regex", no_argument, NULL, 'E'}, {"limit", required_argument, NULL, 'L'},
		{"json", no_argument, NULL, 'j'},  {"ignore-case", no_argument, NULL, 'i'},
		{"case-sensitive", no_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
		{"count", no_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
	int flags = 0;
	long limit = 1000;
	struct search_ui u = {.c = c};
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "EL:isch", opts, NULL)) != -1) {
		switch (o) {
		case 'E': flags |= MATCH_REGEX; break;
		case 'i': flags |= MATCH_IGNORE_CASE; break;
		case 's': flags |= MATCH_CASE; break;
		case 'L':
			if ((limit = parse_count("--limit", optarg)) < 0)
				return EXIT_USAGE;
			break;
		case 'j': u.json = true; break;
		case 'c': u.count = true; break;
		case 'h': cli_command_usage("search", stdout); return EXIT_OK;
		default: return cli_bad_usage("search");
		}
	}
	if (optind != argc - 1) {
		cli_error("search: give one QUERY (quote it if it has spaces)");
		return cli_bad_usage("search");
	}
	struct cs_err err;
	err_clear(&err);
	struct matcher *m = matcher_new(argv[optind], flags, &err);
	if (!m) {
		cli_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (!cli_open(c, false)) {
		matcher_free(m);
		return EXIT_ERROR;
	}
	buf_init(&u.out);
	long hits = 0;
	int rc = u.count ? search_count(c->st, m, on_hit, &u, &hits, (volatile int *)&cli_interrupted,
					&err)
			 : search_logs(c->st, m, limit, on_hit, &u, &hits,
				       (volatile int *)&cli_interrupted, &err);
	buf_release(&u.out);
	matcher_free(m);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (cli_interrupted)
		return EXIT_INTR;
	if (!u.count && limit && hits >= limit && !u.json)
		fprintf(stderr, "(stopped after %ld matches; --limit N to see more, 0 for all)\n", limit);
	return hits ? EXIT_OK : EXIT_NOMATCH;
}
