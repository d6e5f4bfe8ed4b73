/* t_runlist.c - the run list queries the runs view pages through: sort
 * orders, limit/offset pages that tile the list exactly, filters (fields,
 * words, status aliases), status-bar counts and the commit subject. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/runquery.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

#define FAILED_SET "failure", "timed_out", "startup_failure", "action_required"

static struct store *new_store(const char *name)
{
	struct store *st = t_fresh_store(name);
	sqlite3_exec(st->db, "INSERT INTO repos (id, slug) VALUES (1, 'o/r'), (2, 'o/other')", NULL,
		     NULL, NULL);
	return st;
}

struct run_spec {
	int64_t id;
	int attempt;
	const char *workflow, *branch, *event, *status, *conclusion, *title, *message;
	int64_t created, started, updated;
	int repo;
};

static void add_run(struct store *st, const struct run_spec *r)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(
		st->db,
		"INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, head_branch, event, "
		"status, conclusion, title, commit_message, created_at, started_at, updated_at, "
		"head_sha, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
		-1, &s, NULL);
	CHECK_INT(rc, SQLITE_OK);
	char sha[41];
	snprintf(sha, sizeof(sha), "%040llx", (unsigned long long)r->id);
	sqlite3_bind_int(s, 1, r->repo ? r->repo : 1);
	sqlite3_bind_int64(s, 2, r->id);
	sqlite3_bind_int(s, 3, r->attempt ? r->attempt : 1);
	sqlite3_bind_text(s, 4, r->workflow, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, r->conclusion, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, r->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, r->created);
	if (r->started)
		sqlite3_bind_int64(s, 12, r->started);
	if (r->updated)
		sqlite3_bind_int64(s, 13, r->updated);
	sqlite3_bind_text(s, 14, sha, -1, SQLITE_TRANSIENT);
	CHECK_INT(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
}

struct collected {
	int64_t ids[4096];
	int attempts[4096];
	int64_t durations[4096];
	char *subjects[4096];
	char *repos[4096];
	int n;
};

static int collect(void *ctx, const struct run *r)
{
	struct collected *c = ctx;
	if (c->n >= 4096)
		return 1;
	c->ids[c->n] = r->provider_id;
	c->attempts[c->n] = r->attempt;
	c->durations[c->n] = r->duration_ms;
	c->subjects[c->n] = r->commit_subject ? xstrdup(r->commit_subject) : NULL;
	c->repos[c->n] = xstrdup(r->repo ? r->repo : "");
	c->n++;
	return 0;
}

static void collected_free(struct collected *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->subjects[i]);
		free(c->repos[i]);
	}
	c->n = 0;
}

static const char *workflows[] = {"CI", "lint", "Docs", "release"};
static const char *branches[] = {"main", "feature/x", "Dev", "fix-1"};
static const char *events[] = {"push", "pull_request", "schedule"};

/* 300 runs with every combination of fields and some ties in created_at. */
static struct store *populate(void)
{
	struct store *st = new_store("list");
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < 300; i++) {
		struct run_spec r = {
			.id = 1000 + i,
			.attempt = 1 + (i % 7 == 0),
			.workflow = workflows[i % 4],
			.branch = branches[(i / 4) % 4],
			.event = events[i % 3],
			.created = 1700000000000LL + (i / 3) * 60000, /* ties by threes */
			.started = 1700000000000LL + (i / 3) * 60000 + 1000,
			.title = i % 10 == 0 ? "Fix flaky npm test" : "Bump deps",
			.message = i % 2 ? "subject line\r\n\r\nbody" : "one line",
			.repo = i % 50 == 49 ? 2 : 1,
		};
		if (i % 11 == 0) {
			r.status = "in_progress";
		} else {
			r.status = "completed";
			r.conclusion = i % 5 == 0 ? "failure" : i % 13 == 0 ? "timed_out"
								: i % 17 == 0 ? "cancelled"
										: "success";
			r.updated = r.started + (i * 7919) % 3600000;
		}
		add_run(st, &r);
	}
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return st;
}

static void all_runs(struct store *st, const struct run_filter *f0, struct collected *out)
{
	struct cs_err err;
	struct run_filter f = *f0;
	f.limit = 0;
	f.offset = 0;
	out->n = 0;
	CHECK_OK(store_runs(st, &f, collect, out, &err));
}

/* Pages of every size in every order tile the full list exactly. */
TEST(runlist_pages_tile)
{
	struct store *st = populate();
	struct cs_err err;
	static struct collected full, page;
	for (int sort = 0; sort < RUN_SORT_COUNT; sort++) {
		struct run_filter f = {.sort = (enum run_sort)sort};
		all_runs(st, &f, &full);
		CHECK_INT(full.n, 300);
		int sizes[] = {1, 7, 40, 299, 300, 1000};
		for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
			int at = 0;
			for (int off = 0; off < 310; off += sizes[k]) {
				f.limit = sizes[k];
				f.offset = off;
				page.n = 0;
				CHECK_OK(store_runs(st, &f, collect, &page, &err));
				for (int i = 0; i < page.n; i++, at++) {
					if (full.ids[at] != page.ids[i] ||
					    full.attempts[at] != page.attempts[i]) {
						t_fail(__FILE__, __LINE__,
						       "sort %s page %d+%d row %d differs",
						       run_sort_name((enum run_sort)sort), off,
						       sizes[k], i);
						break;
					}
				}
				collected_free(&page);
			}
			CHECK_INT(at, 300);
		}
		collected_free(&full);
	}
	store_close(st);
}

static int64_t created_of(int64_t id)
{
	return 1700000000000LL + ((id - 1000) / 3) * 60000;
}

TEST(runlist_sort_orders)
{
	struct store *st = populate();
	static struct collected c;
	CHECK_STR(run_sort_name(RUN_SORT_NEWEST), "newest");
	CHECK_STR(run_sort_name(RUN_SORT_STATUS), "status");
	CHECK_STR(run_sort_name((enum run_sort)99), "newest");

	struct run_filter f = {.sort = RUN_SORT_NEWEST};
	all_runs(st, &f, &c);
	for (int i = 1; i < c.n; i++) {
		int64_t a = created_of(c.ids[i - 1]), b = created_of(c.ids[i]);
		CHECK(a > b || (a == b && c.ids[i - 1] > c.ids[i]));
	}
	collected_free(&c);

	f.sort = RUN_SORT_DURATION;
	all_runs(st, &f, &c);
	bool seen_unfinished = false;
	for (int i = 0; i < c.n; i++) {
		if (c.durations[i] == CS_TIME_NONE) {
			seen_unfinished = true;
			continue;
		}
		CHECK(!seen_unfinished); /* unfinished runs come last */
		if (i > 0 && c.durations[i - 1] != CS_TIME_NONE)
			CHECK(c.durations[i - 1] >= c.durations[i]);
	}
	CHECK(seen_unfinished);
	collected_free(&c);

	/* workflow: case-insensitive name order (CI, Docs, lint, release) */
	f.sort = RUN_SORT_WORKFLOW;
	all_runs(st, &f, &c);
	const char *order[] = {"CI", "Docs", "lint", "release"};
	int k = 0;
	for (int i = 0; i < c.n; i++) {
		const char *w = workflows[(c.ids[i] - 1000) % 4];
		while (k < 4 && strcmp(order[k], w))
			k++;
		CHECK(k < 4);
	}
	collected_free(&c);

	/* status: failures, then unfinished, then cancelled, then success */
	f.sort = RUN_SORT_STATUS;
	all_runs(st, &f, &c);
	int last_rank = -1;
	for (int i = 0; i < c.n; i++) {
		int n = (int)(c.ids[i] - 1000);
		int rank = n % 11 == 0 ? 1 : n % 5 == 0 || n % 13 == 0 ? 0 : n % 17 == 0 ? 2 : 4;
		CHECK(rank >= last_rank);
		last_rank = rank;
	}
	collected_free(&c);
	store_close(st);
}

static long count(struct store *st, const char *query, struct run_counts *rc)
{
	struct cs_err err;
	struct run_query q;
	struct run_filter f = {0};
	err_clear(&err);
	CHECK_OK(run_query_parse(query, &q, &err));
	run_query_apply(&q, &f);
	CHECK_OK(store_run_counts(st, &f, rc, &err));
	long n = store_count_runs(st, &f, &err);
	CHECK_INT(n, rc->total);
	static struct collected c;
	all_runs(st, &f, &c);
	CHECK_INT(c.n, n);
	collected_free(&c);
	run_query_free(&q);
	return n;
}

TEST(runlist_filters_and_counts)
{
	struct store *st = populate();
	struct run_counts rc;
	long n_fail = 0, n_running = 0, n_push = 0, n_words = 0, n_main_ci = 0;
	for (int i = 0; i < 300; i++) {
		bool running = i % 11 == 0;
		n_running += running;
		n_fail += !running && (i % 5 == 0 || i % 13 == 0);
		n_push += i % 3 == 0;
		n_words += i % 10 == 0;
		n_main_ci += i % 4 == 0 && (i / 4) % 4 == 0;
	}
	CHECK_INT(count(st, "", &rc), 300);
	CHECK_INT(rc.failed, n_fail);
	CHECK_INT(rc.in_progress, n_running);
	CHECK_INT(count(st, "status:failed", &rc), n_fail);
	CHECK_INT(rc.failed, n_fail);
	CHECK_INT(count(st, "status:running", &rc), n_running);
	CHECK_INT(rc.in_progress, n_running);
	CHECK_INT(count(st, "status:in_progress", &rc), n_running);
	CHECK_INT(count(st, "event:push", &rc), n_push);
	/* words: each must appear, in any case, in any field */
	CHECK_INT(count(st, "FLAKY npm", &rc), n_words);
	CHECK_INT(count(st, "flaky nothing-like-this", &rc), 0);
	CHECK_INT(rc.failed, 0);
	CHECK_INT(count(st, "branch:main workflow:CI", &rc), n_main_ci);
	/* the sha (hex of the id) and the commit message are searched too */
	CHECK_INT(count(st, "00000000000000000000000000000000000003e8", &rc), 1);
	CHECK_INT(count(st, "\"subject line\"", &rc), 150);
	/* quoting keeps SQL out of it */
	CHECK_INT(count(st, "\"'); DROP TABLE runs; --\"", &rc), 0);
	CHECK_INT(count(st, "", &rc), 300);
	store_close(st);
}

TEST(runlist_commit_subject_and_copy)
{
	struct store *st = populate();
	static struct collected c;
	struct run_filter f = {.sort = RUN_SORT_NEWEST};
	all_runs(st, &f, &c);
	for (int i = 0; i < c.n; i++) {
		int n = (int)(c.ids[i] - 1000);
		CHECK_STR(c.subjects[i], n % 2 ? "subject line" : "one line");
	}
	collected_free(&c);

	struct run r, copy;
	struct cs_err err;
	CHECK_OK(store_find_run(st, "1001", &r, &err));
	run_copy(&copy, &r);
	CHECK(copy.commit_subject != r.commit_subject);
	CHECK_STR(copy.commit_subject, "subject line");
	CHECK(copy.workflow != r.workflow);
	CHECK_STR(copy.workflow, r.workflow);
	CHECK(copy.conclusion != NULL);
	run_free(&r);
	CHECK(copy.workflow != NULL); /* survives the original */
	run_free(&copy);

	/* a run without a commit message has no subject */
	struct run_spec bare = {.id = 5, .workflow = "w", .status = "queued", .created = 1};
	add_run(st, &bare);
	CHECK_OK(store_find_run(st, "5", &r, &err));
	CHECK(r.commit_subject == NULL);
	run_free(&r);
	store_close(st);
}

/* Paging stays cheap and correct on a bigger list: the last page of 20,000
 * runs holds exactly the oldest runs. */
TEST(runlist_large)
{
	struct store *st = new_store("large");
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < 20000; i++) {
		struct run_spec r = {.id = 100000 + i, .workflow = workflows[i % 4],
				     .branch = "main", .event = "push", .status = "completed",
				     .conclusion = i % 9 ? "success" : "failure",
				     .created = 1600000000000LL + i * 1000LL,
				     .started = 1600000000000LL + i * 1000LL,
				     .updated = 1600000000000LL + i * 1000LL + i};
		add_run(st, &r);
	}
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	struct cs_err err;
	static struct collected c;
	for (int sort = 0; sort < RUN_SORT_COUNT; sort++) {
		struct run_filter f = {.limit = 50, .offset = 19990, .sort = (enum run_sort)sort};
		c.n = 0;
		CHECK_OK(store_runs(st, &f, collect, &c, &err));
		CHECK_INT(c.n, 10);
		if (sort == RUN_SORT_NEWEST || sort == RUN_SORT_DURATION) {
			for (int i = 0; i < c.n; i++)
				CHECK_INT(c.ids[i], 100009 - i);
		}
		collected_free(&c);
	}
	struct run_counts rc;
	struct run_filter f = {0};
	CHECK_OK(store_run_counts(st, &f, &rc, &err));
	CHECK_INT(rc.total, 20000);
	CHECK_INT(rc.failed, 20000 / 9 + 1);
	CHECK_INT(rc.in_progress, 0);
	store_close(st);
}

/* The runs of a list (distinct repo and provider id) as count(DISTINCT)
 * gives them: retries of 1 to 3 attempts whose attempts differ in branch,
 * status and conclusion, so a filter keeps some attempts of a run and not
 * others (the earliest or a later one), in two repos. */
TEST(runlist_counts_runs_with_retries)
{
	struct store *st = new_store("retries");
	static const char *const br[] = {"main", "dev"};
	static const char *const con[] = {"success", "failure", "cancelled"};
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < 120; i++) {
		for (int a = 1; a <= 1 + i % 3; a++) {
			struct run_spec r = {.id = 500 + i / 2, .attempt = a,
					     .workflow = i % 5 ? "ci" : "nightly",
					     .branch = br[(i + a) % 2], .event = "push",
					     .created = 1700000000000LL + i * 1000 + a,
					     .title = "t", .message = "m", .repo = 1 + i % 2};
			r.status = (i + a) % 4 == 0 ? "in_progress" : "completed";
			r.conclusion = r.status[0] == 'c' ? con[(i * 7 + a) % 3] : NULL;
			add_run(st, &r);
		}
	}
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	static const char *const queries[] = {"", "branch:main", "branch:dev", "status:failed",
					      "status:running", "status:success", "workflow:nightly",
					      "branch:main status:failed", "dev", "nomatch"};
	for (size_t k = 0; k < sizeof(queries) / sizeof(queries[0]); k++) {
		struct cs_err err;
		struct run_query q;
		struct run_filter f = {0};
		err_clear(&err);
		CHECK_OK(run_query_parse(queries[k], &q, &err));
		run_query_apply(&q, &f);
		struct run_counts rc;
		CHECK_OK(store_run_counts(st, &f, &rc, &err));
		static struct collected c;
		all_runs(st, &f, &c);
		CHECK_INT(rc.total, c.n);
		/* distinct (repo, provider id) of the listed rows, by hand */
		long runs = 0;
		for (long i = 0; i < c.n; i++) {
			bool seen = false;
			for (long j = 0; j < i && !seen; j++)
				seen = c.ids[j] == c.ids[i] && !strcmp(c.repos[j], c.repos[i]);
			runs += !seen;
		}
		if (rc.runs != runs)
			fprintf(stderr, "query '%s'\n", queries[k]);
		CHECK_INT(rc.runs, runs);
		CHECK(k != 0 || (rc.runs > 0 && rc.runs < rc.total));
		/* one reading for both: the counts and widths of their own */
		struct run_counts rc2;
		struct run_widths w, w2;
		CHECK_OK(store_run_widths(st, &f, &w, &err));
		CHECK_OK(store_run_counts_widths(st, &f, &rc2, &w2, &err));
		CHECK(!memcmp(&rc, &rc2, sizeof(rc)));
		CHECK_INT(w2.workflow, w.workflow);
		CHECK_INT(w2.branch, w.branch);
		CHECK_INT(w2.event, w.event);
		CHECK(k != 0 || (w.workflow == 7 && w.branch == 4 && w.event == 4));
		collected_free(&c);
		run_query_free(&q);
	}
	store_close(st);
}

TEST(runlist_locate_job)
{
	struct store *st = new_store("locate");
	struct cs_err err;
	struct run_spec r = {.id = 42, .attempt = 2, .workflow = "w", .status = "completed",
			     .created = 1};
	add_run(st, &r);
	r.attempt = 1;
	add_run(st, &r);
	sqlite3_exec(st->db,
		     "INSERT INTO jobs (run_id, provider_id, name, ordinal) SELECT id, 900 + attempt, "
		     "'build', 0 FROM runs",
		     NULL, NULL, NULL);
	int64_t run_row, job_row;
	CHECK_OK(store_locate_job(st, "o/r", 42, 2, 902, &run_row, &job_row, &err));
	CHECK(run_row > 0 && job_row > 0);
	struct run got;
	char spec[32];
	snprintf(spec, sizeof(spec), "#%lld", (long long)run_row);
	CHECK_OK(store_find_run(st, spec, &got, &err));
	CHECK_INT(got.attempt, 2);
	run_free(&got);
	/* wrong attempt, job, run or repo: gone, not an error */
	CHECK_OK(store_locate_job(st, "o/r", 42, 1, 902, &run_row, &job_row, &err));
	CHECK_INT(job_row, 0);
	CHECK_INT(run_row, 0);
	CHECK_OK(store_locate_job(st, "o/r", 42, 1, 901, &run_row, &job_row, &err));
	CHECK(job_row > 0);
	CHECK_OK(store_locate_job(st, "o/other", 42, 1, 901, &run_row, &job_row, &err));
	CHECK_INT(job_row, 0);
	CHECK_OK(store_locate_job(st, NULL, 42, 1, 901, &run_row, &job_row, &err));
	CHECK_INT(job_row, 0);
	store_close(st);
}

/* Another connection's commit changes the data version; our own reads and
 * a commit of nothing do not. */
TEST(runlist_data_version)
{
	struct store *st = new_store("version");
	struct cs_err err;
	int64_t v0 = store_data_version(st);
	CHECK(v0 >= 0);
	struct run_counts rc;
	struct run_filter f = {0};
	CHECK_OK(store_run_counts(st, &f, &rc, &err));
	CHECK_INT(store_data_version(st), v0);
	struct store *other = store_open(st->path, STORE_RW, &err);
	CHECK(other != NULL);
	struct run_spec r = {.id = 1, .workflow = "w", .status = "queued", .created = 1};
	add_run(other, &r);
	int64_t v1 = store_data_version(st);
	CHECK(v1 != v0);
	CHECK_INT(store_data_version(st), v1);
	store_close(other);
	CHECK_OK(store_run_counts(st, &f, &rc, &err));
	CHECK_INT(rc.total, 1);
	CHECK_INT(rc.in_progress, 1);
	store_close(st);
}

TEST(runlist_widths)
{
	struct store *st = populate();
	struct cs_err err;
	struct run_widths w;
	struct run_filter f = {0};
	CHECK_OK(store_run_widths(st, &f, &w, &err));
	CHECK_INT(w.workflow, 7);  /* release */
	CHECK_INT(w.branch, 9);    /* feature/x */
	CHECK_INT(w.event, 12);    /* pull_request */
	struct run_query q;
	CHECK_OK(run_query_parse("event:push branch:main", &q, &err));
	run_query_apply(&q, &f);
	CHECK_OK(store_run_widths(st, &f, &w, &err));
	CHECK_INT(w.branch, 4);
	CHECK_INT(w.event, 4);
	run_query_free(&q);
	/* characters, not bytes */
	struct run_spec r = {.id = 9, .workflow = "\xc3\xa9t\xc3\xa9", .status = "queued", .created = 1};
	add_run(st, &r);
	CHECK_OK(run_query_parse("workflow:\xc3\xa9t\xc3\xa9", &q, &err));
	run_query_apply(&q, &f);
	CHECK_OK(store_run_widths(st, &f, &w, &err));
	CHECK_INT(w.workflow, 3);
	CHECK_INT(w.branch, 0);
	run_query_free(&q);
	store_close(st);
}

/* The index of every run in every order is where store_runs lists it. */
TEST(runlist_index)
{
	struct store *st = populate();
	struct cs_err err;
	static struct collected c;
	for (int sort = 0; sort < RUN_SORT_COUNT; sort++) {
		struct run_query q;
		const char *queries[] = {"", "branch:main", "status:failed flaky"};
		for (size_t k = 0; k < ARRAY_SIZE(queries); k++) {
			struct run_filter f = {.sort = (enum run_sort)sort};
			CHECK_OK(run_query_parse(queries[k], &q, &err));
			run_query_apply(&q, &f);
			all_runs(st, &f, &c);
			for (int i = 0; i < c.n; i += 7) {
				char spec[48];
				struct run r;
				snprintf(spec, sizeof(spec), "%lld:%d", (long long)c.ids[i], c.attempts[i]);
				CHECK_OK(store_find_run(st, spec, &r, &err));
				CHECK_INT(store_run_index(st, &f, r.id, &err), i);
				run_free(&r);
			}
			/* a run the filter leaves out, and one that does not exist */
			CHECK_INT(store_run_index(st, &f, 999999, &err), -1);
			collected_free(&c);
			run_query_free(&q);
		}
	}
	store_close(st);
}
