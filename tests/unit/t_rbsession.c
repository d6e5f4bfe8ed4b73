/* t_rbsession.c - runbook steps as real child processes: output, timeouts
 * (the whole process group goes), retries with their attempts recorded,
 * stopping a step, background steps, capture into a later step, sensitive
 * steps, the append-only event log, state and resume points, and the
 * index's variables on a small index. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/rbsession.h"
#include "core/rbstore.h"
#include "core/runner.h"
#include "core/store.h"
#include "test.h"
#include "testdemo.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gone, or a zombie waiting for init to reap it. */
static bool alive(int pid)
{
	char path[64], st[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n] = '\0';
	const char *rp = strrchr(st, ')');
	return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

static void collect(void *ctx, const char *d, size_t n)
{
	buf_add(ctx, d, n);
}

/* Releases the session and reads its instance and events back. */
static void release_and_load(struct rb_session *s, struct store *st, struct rb_instance *inst,
			     struct rb_event **evs, int *n)
{
	struct cs_err err;
	err_clear(&err);
	int64_t id = s->id;
	rb_session_release(s);
	CHECK_OK(rbstore_get(st, id, inst, evs, n, &err));
}

TEST(runner_output_exit_and_pipe_fd)
{
	struct rb_proc p;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_proc_start(&p, "echo out; echo err >&2; exit 7", NULL, 0, NULL, NULL, &err));
	CHECK(rb_proc_fd(&p) >= 0);
	struct buf got = BUF_INIT;
	CHECK_INT(rb_proc_wait(&p, collect, &got, NULL), 0);
	CHECK_STR(buf_cstr(&got), "out\nerr\n");
	CHECK_INT(p.end, RB_END_EXIT);
	CHECK_INT(p.exit_code, 7);
	CHECK_INT(rb_proc_fd(&p), -1);
	rb_proc_release(&p);
	buf_release(&got);
	/* a missing directory: an error before anything runs */
	err_clear(&err);
	CHECK(rb_proc_start(&p, "echo", "/nonexistent/dir", 0, NULL, NULL, &err) < 0);
	CHECK(strstr(err.msg, "cannot change to the step's directory") != NULL);
	/* cwd and env */
	err_clear(&err);
	char *env[] = {"RB_TEST_VAR=hello", NULL};
	CHECK_OK(rb_proc_start(&p, "pwd; echo $RB_TEST_VAR; read x; echo \"stdin:$x\"", "/", 0, env,
			       NULL, &err));
	rb_proc_wait(&p, collect, &got, NULL);
	CHECK_STR(buf_cstr(&got), "/\nhello\nstdin:\n");
	rb_proc_release(&p);
	buf_release(&got);
}

TEST(runner_pump_never_blocks)
{
	struct rb_proc p;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_proc_start(&p, "sleep 1; echo late", NULL, 0, NULL, NULL, &err));
	int64_t t0 = now_ms();
	CHECK_INT(rb_proc_pump(&p, NULL, NULL), 1);
	CHECK(now_ms() - t0 < 200);
	CHECK(rb_proc_next_timer(&p) >= 0);
	rb_proc_wait(&p, NULL, NULL, NULL);
	CHECK_INT(p.exit_code, 0);
	rb_proc_release(&p);
}

TEST(runner_timeout_kills_the_group)
{
	struct rb_proc p;
	struct cs_err err;
	err_clear(&err);
	char *pidf = xasprintf("%s/grandchild.pid", t_tmpdir());
	char *cmd = xasprintf("sleep 30 & echo $! > %s; wait", pidf);
	int64_t t0 = now_ms();
	CHECK_OK(rb_proc_start(&p, cmd, NULL, 300, NULL, NULL, &err));
	rb_proc_wait(&p, NULL, NULL, NULL);
	int64_t took = now_ms() - t0;
	CHECK_INT(p.end, RB_END_TIMEOUT);
	CHECK(took >= 300 && took < 5000);
	/* the grandchild went with it */
	FILE *f = fopen(pidf, "r");
	int gpid = 0;
	CHECK(f && fscanf(f, "%d", &gpid) == 1);
	if (f)
		fclose(f);
	usleep(100000);
	CHECK(gpid > 0 && !alive(gpid));
	rb_proc_release(&p);
	/* a command ignoring SIGTERM is killed after the grace time */
	err_clear(&err);
	t0 = now_ms();
	CHECK_OK(rb_proc_start(&p, "trap '' TERM; sleep 30", NULL, 200, NULL, NULL, &err));
	rb_proc_wait(&p, NULL, NULL, NULL);
	took = now_ms() - t0;
	CHECK_INT(p.end, RB_END_TIMEOUT);
	CHECK(took >= 200 + RB_PROC_GRACE_MS - 100 && took < 200 + RB_PROC_GRACE_MS + 3000);
	rb_proc_release(&p);
	free(cmd);
	free(pidf);
}

TEST(runner_stop_on_interrupt)
{
	struct rb_proc p;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_proc_start(&p, "echo begun; sleep 30", NULL, 0, NULL, NULL, &err));
	volatile sig_atomic_t intr = 0;
	/* pump until it has printed, then "press Ctrl-C" */
	struct buf got = BUF_INIT;
	while (!got.len && rb_proc_pump(&p, collect, &got) > 0)
		usleep(10000);
	intr = 1;
	int64_t t0 = now_ms();
	rb_proc_wait(&p, collect, &got, &intr);
	CHECK(now_ms() - t0 < 2000);
	CHECK_INT(p.end, RB_END_STOPPED);
	CHECK_INT(intr, 0);
	CHECK_STR(buf_cstr(&got), "begun\n");
	rb_proc_release(&p);
	buf_release(&got);
}

TEST(runner_output_is_capped)
{
	struct rb_proc p;
	struct cs_err err;
	err_clear(&err);
	/* 1 MB of numbered lines: head and tail kept, the middle counted */
	CHECK_OK(rb_proc_start(&p, "seq 1 150000", NULL, 0, NULL, NULL, &err));
	rb_proc_wait(&p, NULL, NULL, NULL);
	struct buf out = BUF_INIT;
	rb_proc_output(&p, &out);
	CHECK(p.total > RB_PROC_KEEP_HEAD + RB_PROC_KEEP_TAIL);
	CHECK(out.len < RB_PROC_KEEP_HEAD + RB_PROC_KEEP_TAIL + 100);
	CHECK(str_starts(out.data, "1\n2\n3\n"));
	CHECK(str_ends(out.data, "149999\n150000\n"));
	CHECK(strstr(out.data, "bytes of output not kept") != NULL);
	buf_release(&out);
	rb_proc_release(&p);
}

/* --- sessions --------------------------------------------------------------------------------- */
static int begin(struct rb_session *s, struct store *st, const char *md, const char *mode)
{
	struct runbook rb;
	struct cs_err err;
	err_clear(&err);
	if (runbook_parse("s.md", md, strlen(md), &rb, &err) < 0) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return -1;
	}
	if (rb_session_begin(s, st, &rb, xstrdup(md), strlen(md), NULL, NULL, mode, &err) < 0) {
		t_fail(__FILE__, __LINE__, "%s", err.msg);
		return -1;
	}
	return 0;
}

static const char *run_step(struct rb_session *s, int k)
{
	struct cs_err err;
	err_clear(&err);
	if (rb_session_start(s, k, NULL, &err) < 0) {
		t_fail(__FILE__, __LINE__, "step %d: %s", k, err.msg);
		return "error";
	}
	if (rb_session_wait(s, NULL, NULL, NULL, &err) < 0)
		t_fail(__FILE__, __LINE__, "step %d: %s", k, err.msg);
	return s->last_status;
}

TEST(session_retries_capture_and_log)
{
	struct store *st = t_fresh_store("retry");
	char *flag = xasprintf("%s/flag", t_tmpdir());
	unlink(flag);
	char *md = xasprintf(
		"## Capture\n"
		"```sh {name=tag capture=\"tag=(\\S+)\"}\n"
		"echo noise; echo tag=v1.2.3; echo ghp_abcdefghijklmnopqrstuvwxyz123456\n"
		"```\n"
		"## Flaky health\n"
		"```sh {name=health retry=4 interval=100ms until-exit=0}\n"
		"if [ -f %s ]; then echo healthy; else touch %s; echo down; exit 22; fi\n"
		"```\n"
		"## Use it\n"
		"```sh\n"
		"echo deploying {{tag}}\n"
		"```\n"
		"## Never green\n"
		"```sh {name=never retry=3 interval=50ms until-exit=5}\n"
		"exit 1\n"
		"```\n"
		"## Slow\n"
		"```sh {name=slow timeout=300ms}\n"
		"sleep 10\n"
		"```\n"
		"## Secret\n"
		"```sh {name=secret sensitive=true capture=\"pw=(\\S+)\"}\n"
		"echo pw=sword$(echo fish)-123\n"
		"```\n"
		"## Leak\n"
		"```sh\n"
		"echo the password is {{secret}}\n"
		"```\n",
		flag, flag);
	struct rb_session s;
	if (begin(&s, st, md, "auto") < 0)
		return;
	CHECK(s.id > 0);
	CHECK_STR(run_step(&s, 1), "ok");
	CHECK_STR(rb_vars_get(&s.vars, "tag")->value, "v1.2.3");
	CHECK_STR(run_step(&s, 2), "ok");
	CHECK_INT(s.attempt, 2);
	CHECK_STR(run_step(&s, 3), "ok");
	CHECK_STR(run_step(&s, 4), "failed");
	CHECK_INT(s.attempt, 3);
	int64_t t0 = now_ms();
	CHECK_STR(run_step(&s, 5), "timeout");
	CHECK(now_ms() - t0 < 3000);
	CHECK_STR(run_step(&s, 6), "ok");
	CHECK(rb_vars_get(&s.vars, "secret")->sensitive);
	CHECK_STR(run_step(&s, 7), "ok");
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_session_note(&s, "paged the owner, token ghp_zzzzzzzzzzzzzzzzzzzzzzzzzzzz", &err));
	CHECK_OK(rb_session_end(&s, "finished", NULL, &err));
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	release_and_load(&s, st, &inst, &evs, &n);
	CHECK_STR(inst.state, "finished");
	CHECK_STR(inst.runbook, "s");
	struct buf all = BUF_INIT;
	int attempts = 0, ends = 0;
	for (int i = 0; i < n; i++) {
		const struct rb_event *e = &evs[i];
		CHECK_INT(e->seq, i + 1);
		buf_addf(&all, "%s|%d|%s|%s|%s|%s\n", e->kind, e->step, e->command ? e->command : "",
			 e->output ? e->output : "", e->vars ? e->vars : "", e->text ? e->text : "");
		attempts += !strcmp(e->kind, "attempt");
		ends += !strcmp(e->kind, "step-end");
		if (!strcmp(e->kind, "step-end") && e->step == 1) {
			CHECK_STR(e->vars, "{\"tag\":\"v1.2.3\"}");
			CHECK_STR(e->output, "noise\ntag=v1.2.3\n***\n");
		}
		if (!strcmp(e->kind, "step-start") && e->step == 3) {
			CHECK_STR(e->command, "echo deploying 'v1.2.3'");
			CHECK_STR(e->vars, "{\"tag\":\"v1.2.3\"}");
		}
		if (!strcmp(e->kind, "step-end") && e->step == 5)
			CHECK_STR(e->status, "timeout");
		if (!strcmp(e->kind, "step-end") && e->step == 6) {
			CHECK(e->output == NULL);
			CHECK_STR(e->text, "output not stored: a sensitive step");
		}
		if (!strcmp(e->kind, "step-start") && e->step == 7)
			CHECK_STR(e->command, "echo the password is '***'");
		if (!strcmp(e->kind, "step-end") && e->step == 7)
			CHECK_STR(e->output, "the password is ***\n");
	}
	CHECK_INT(attempts, 2 + 3);
	CHECK_INT(ends, 7);
	CHECK(strstr(all.data, "swordfish") == NULL);
	CHECK(strstr(all.data, "ghp_") == NULL);
	CHECK(strstr(all.data, "attempt|2|||") == NULL); /* attempts carry their output */
	buf_release(&all);
	/* append-only */
	CHECK(sqlite3_exec(st->db, "UPDATE runbook_events SET text = 'x'", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(st->db, "DELETE FROM runbook_events", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(st->db, "UPDATE runbook_instances SET title = 'x'", NULL, NULL, NULL) != SQLITE_OK);
	enum rb_step_state ss[8];
	rbstore_step_states(evs, n, 7, ss);
	CHECK_INT(ss[1], RBS_DONE);
	CHECK_INT(ss[4], RBS_FAILED);
	CHECK_INT(ss[5], RBS_FAILED);
	CHECK_INT(rbstore_resume_step(evs, n, 7), 4);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	free(md);
	free(flag);
	store_close(st);
}

TEST(session_stop_between_attempts_and_background)
{
	struct store *st = t_fresh_store("stop");
	struct rb_session s;
	const char *md = "## Wait\n```sh {name=w retry=5 interval=10s}\nexit 1\n```\n"
			 "## Server\n```sh {name=srv background=true}\necho serving; sleep 1\n```\n";
	if (begin(&s, st, md, "auto") < 0)
		return;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_session_start(&s, 1, NULL, &err));
	/* the first attempt fails, then it waits 10 s: stop it there */
	while (!s.waiting && rb_session_pump(&s, NULL, NULL, &err) > 0)
		usleep(10000);
	CHECK(s.waiting);
	CHECK(rb_session_timer(&s) > 5000);
	volatile sig_atomic_t intr = 1;
	int64_t t0 = now_ms();
	rb_session_wait(&s, NULL, NULL, &intr, &err);
	CHECK(now_ms() - t0 < 1000);
	CHECK_STR(s.last_status, "stopped");
	CHECK_STR(run_step(&s, 2), "background");
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	release_and_load(&s, st, &inst, &evs, &n);
	CHECK(n > 0 && strstr(evs[n - 1].text, "started in the background") != NULL);
	/* no end recorded and the owner (us) alive: running */
	CHECK_STR(inst.state, "running");
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	store_close(st);
}

TEST(session_resume_after_an_interruption)
{
	struct store *st = t_fresh_store("resume");
	const char *md = "## One\n```sh {name=one capture=\"v=(\\w+)\"}\necho v=first\n```\n"
			 "## Two\n```sh {name=two}\necho {{one}}\n```\n"
			 "## Three\n```sh\necho three\n```\n";
	struct rb_session s;
	if (begin(&s, st, md, "auto") < 0)
		return;
	CHECK_STR(run_step(&s, 1), "ok");
	struct cs_err err;
	err_clear(&err);
	/* step 2 starts; the process "dies" before its end is recorded */
	struct rb_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = "step-start";
	ev.step = 2;
	ev.exit = RB_NO_EXIT;
	ev.duration_ms = CS_TIME_NONE;
	ev.output_size = -1;
	CHECK_OK(rbstore_append(st, s.id, &ev, &err));
	int64_t id = s.id;
	rb_session_release(&s);
	/* the owner is alive (this process): pretend it was another pid that died */
	CHECK(sqlite3_exec(st->db, "DROP TRIGGER runbook_events_append_only; UPDATE runbook_events SET "
				   "pid = 999999999 WHERE kind = 'started'",
			   NULL, NULL, NULL) == SQLITE_OK);
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	CHECK_OK(rbstore_get(st, id, &inst, &evs, &n, &err));
	CHECK_STR(inst.state, "interrupted");
	CHECK_INT(rbstore_open_step(evs, n), 2);
	rb_events_free(evs, n);
	rb_instance_free(&inst);

	struct runbook rb;
	CHECK_OK(runbook_parse("s.md", md, strlen(md), &rb, &err));
	int from = 0;
	CHECK_OK(rb_session_resume(&s, st, id, &rb, xstrdup(md), strlen(md), NULL, "auto", &from, &err));
	CHECK_INT(from, 2);
	/* the captured value came back from the log */
	CHECK(rb_vars_get(&s.vars, "one") && !strcmp(rb_vars_get(&s.vars, "one")->value, "first"));
	CHECK_STR(run_step(&s, 2), "ok");
	CHECK_STR(run_step(&s, 3), "ok");
	CHECK_OK(rb_session_end(&s, "finished", NULL, &err));
	rb_session_release(&s);
	CHECK_OK(rbstore_get(st, id, &inst, &evs, &n, &err));
	CHECK_STR(inst.state, "finished");
	int interrupted = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(evs[i].kind, "interrupted")) {
			interrupted++;
			CHECK_INT(evs[i].step, 2);
		}
	CHECK_INT(interrupted, 1);
	CHECK_INT(rbstore_resume_step(evs, n, 3), 4);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	store_close(st);
}

/* A small index: main has a green commit, then a red one. */
static void exec_sql(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		t_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
	sqlite3_free(msg);
}

TEST(index_variables)
{
	struct store *st = t_fresh_store("index");
	exec_sql(st, "INSERT INTO repos (id, slug) VALUES (1, 'acme/app');"
		     "INSERT INTO runs (id, repo_id, provider_id, attempt, workflow_name, head_branch, "
		     "head_sha, status, conclusion, created_at, imported_at, html_url) VALUES "
		     "(1, 1, 100, 1, 'ci', 'main', 'aaaa000000000000000000000000000000000001', 'completed', 'success', 1000, 0, NULL),"
		     "(2, 1, 101, 1, 'ci', 'main', 'bbbb000000000000000000000000000000000002', 'completed', 'success', 2000, 0, NULL),"
		     "(3, 1, 102, 1, 'lint', 'main', 'bbbb000000000000000000000000000000000002', 'completed', 'failure', 2001, 0, NULL),"
		     "(4, 1, 103, 1, 'ci', 'main', 'cccc000000000000000000000000000000000003', 'completed', 'failure', 3000, 0, 'https://x/103'),"
		     "(5, 1, 104, 1, 'ci', 'feature/$(touch PWNED)', 'dddd000000000000000000000000000000000004', 'completed', 'failure', 4000, 0, NULL);"
		     "INSERT INTO jobs (id, run_id, provider_id, name, status, conclusion, ordinal) VALUES "
		     "(1, 4, 1, 'build', 'completed', 'success', 0), (2, 4, 2, 'test; rm -rf /', 'completed', 'failure', 1);");
	struct rb_index_ctx c = {0};
	c.st = st;
	struct buf v = BUF_INIT;
	struct cs_err err;
#define VAR(name, want)                                                                 \
	do {                                                                           \
		err_clear(&err);                                                       \
		if (rb_index_resolve(&c, name, &v, &err) != 1)                          \
			t_fail(__FILE__, __LINE__, "%s: %s", name, err.msg);            \
		else                                                                   \
			CHECK_STR(v.data, want);                                       \
	} while (0)
	VAR("repository", "acme/app");
	VAR("default_branch", "main");
	VAR("failing_run", "103");
	VAR("failing_sha", "cccc000000000000000000000000000000000003");
	VAR("failing_job", "test; rm -rf /");
	VAR("failing_url", "https://x/103");
	VAR("baseline_run", "101");
	VAR("baseline_sha", "bbbb000000000000000000000000000000000002");
	/* with ci alone, bbbb is green; every workflow: lint failed there */
	VAR("last_green_sha", "bbbb000000000000000000000000000000000002");
	VAR("last_green_run", "101");
	c.workflows = "ci,lint";
	VAR("last_green_sha", "aaaa000000000000000000000000000000000001");
	VAR("last_green_run", "100");
	CHECK_INT(rb_index_resolve(&c, "no_such_thing", &v, &err), 0);
	err_clear(&err);
	CHECK(rb_index_resolve(&c, "runbook_id", &v, &err) < 0);
	rb_index_ctx_release(&c);
	/* bound to the feature run: its branch has no baseline */
	CHECK_OK(store_find_run(st, "104", &c.bound, &err));
	c.have_bound = true;
	c.st = st;
	VAR("failing_branch", "feature/$(touch PWNED)");
	err_clear(&err);
	CHECK(rb_index_resolve(&c, "baseline_run", &v, &err) < 0);
	CHECK(strstr(err.msg, "no successful run of workflow 'ci' on 'feature/$(touch PWNED)'") != NULL);
	rb_index_ctx_release(&c);
	buf_release(&v);
	store_close(st);
}

/* The way a view drives a step: its own poll over the session's fd and
 * timer, pumping without ever blocking, output arriving while it runs. */
TEST(session_driven_by_an_event_loop)
{
	struct store *st = t_fresh_store("loop");
	const char *md = "## Tick\n```sh {name=tick retry=2 interval=100ms}\n"
			 "for i in 1 2 3; do echo tick $i; sleep 0.1; done; exit 1\n```\n";
	struct rb_session s;
	if (begin(&s, st, md, "paranoid") < 0)
		return;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_session_start(&s, 1, NULL, &err));
	struct buf got = BUF_INIT;
	int loops = 0, r;
	int64_t longest = 0;
	while ((r = rb_session_pump(&s, collect, &got, &err)) > 0) {
		int64_t t0 = now_ms();
		/* pump returned at once */
		loops++;
		struct pollfd pf[2] = {{.fd = rb_session_fd(&s), .events = POLLIN}, {.fd = -1}};
		int t = rb_session_timer(&s);
		poll(pf, 2, t < 0 || t > 50 ? 50 : t);
		longest = MAX(longest, now_ms() - t0);
	}
	CHECK_INT(r, 0);
	CHECK(loops > 5);
	CHECK(longest < 200);
	CHECK_STR(s.last_status, "failed");
	CHECK_INT(s.attempt, 2);
	CHECK_STR(buf_cstr(&got), "tick 1\ntick 2\ntick 3\ntick 1\ntick 2\ntick 3\n");
	buf_release(&got);
	rb_session_release(&s);
	store_close(st);
}
