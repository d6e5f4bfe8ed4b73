/* bisect.c - the bisection (core/bisect.h) as a commit list: `b` from a run
 * (its workflow, bad at that run), a triage finding (its fingerprint), the
 * diff view (its divergence: a failing test, the failing job or the parity
 * workflow),
 * `:bisect [start TARGET | reset]`.
 *
 * Rows: the suspects newest first, then the newest good commit, each with
 * its verdict glyph, sha, probability (bayesian), subject and the runs that
 * are its evidence; the next commit to test is marked and the cursor starts
 * on it. + good, - bad, s skip mark the commit at the cursor; Enter opens
 * its evidence run (its runs when it has several or none); d diffs its run
 * against the good side's run (on a text row: the first bad commit's); x
 * asks for a command and runs `ciscope bisect run sh -c CMD` on it in the
 * background (its worktree, never the user's; Esc stops it). When the first bad commit is known the rows below the list say
 * who and what: subject, author, the diff stat, the runs that prove it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/bisect.h"
#include "core/ghdispatch.h"
#include "core/gitrepo.h"
#include "views/common.h"
#include "views/views.h"

struct brow {
	int idx;      /* commit index in s.commits; -1: the start good; -2: a text line */
	char *text;   /* text lines */
	enum role role;
};

struct bisect_priv {
	struct bisect_status s;
	bool have;
	struct brow *rows;
	size_t n, alloc;
	char error[1024];
	/* x: `ciscope bisect run sh -c CMD` in a child process, polled */
	pid_t run_pid;
	char run_log[512];
	char *last_cmd;
	const char *run_what; /* "bisect run" or "bisect dispatch" */
	char *dispatch_repo;  /* D: the repository and workflow confirmed */
	char *dispatch_workflow;
	char dispatch_sha[41];  /* D: the commit under test */
	char run_last[300];     /* the child's last line of output, as last read */
};

static void add_row(struct bisect_priv *p, int idx, const char *text, enum role role)
{
	XGROW(p->rows, p->alloc, p->n + 1);
	p->rows[p->n++] = (struct brow){idx, text ? xstrdup(text) : NULL, role};
}

static void clear(struct bisect_priv *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->rows[i].text);
	free(p->rows);
	p->rows = NULL;
	p->n = p->alloc = 0;
	if (p->have)
		bisect_status_release(&p->s);
	p->have = false;
}

static void build_rows(struct bisect_priv *p)
{
	const struct bisect_status *s = &p->s;
	for (int i = s->bad_idx; s->n && i > s->good_idx; i--)
		add_row(p, i, NULL, ROLE_DEFAULT);
	add_row(p, s->good_idx, NULL, ROLE_DEFAULT);
	if (s->not_bisectable)
		add_row(p, s->good_after_bad, NULL, ROLE_DEFAULT);
	add_row(p, -2, s->message, ROLE_HEADER);
	if (s->first_bad >= 0) {
		const struct bisect_commit *k = &s->commits[s->first_bad];
		struct buf b = BUF_INIT;
		buf_addf(&b, "first bad commit %s", k->c.sha);
		add_row(p, -2, buf_cstr(&b), ROLE_FAILURE);
		buf_reset(&b);
		buf_addf(&b, "Author: %s", k->c.author);
		add_row(p, -2, buf_cstr(&b), ROLE_DEFAULT);
		add_row(p, -2, k->c.subject, ROLE_DEFAULT);
		if (k->c.n_parents > 1)
			add_row(p, -2, "a merge on the first-parent line: the change came with the branch it merged",
				ROLE_DIM);
		struct cs_err err;
		err_clear(&err);
		if (app.repo && gitrepo_diffstat(app.repo, k->c.sha, 20, &b, &err) == 0) {
			const char *t = buf_cstr(&b);
			while (*t) {
				size_t n = strcspn(t, "\n");
				char *line = xstrndup(t, n);
				add_row(p, -2, line, ROLE_DIM);
				free(line);
				t += n + (t[n] ? 1 : 0);
			}
		}
		buf_reset(&b);
		for (int j = 0; j < k->n_obs; j++)
			if (k->obs[j].run) {
				char ref[RUN_REF_MAX];
				buf_addf(&b, "%srun %s %s", b.len ? ", " : "proved by ",
					 run_ref(ref, sizeof(ref), k->obs[j].run, k->obs[j].attempt),
					 k->obs[j].conclusion ? k->obs[j].conclusion : "");
			}
		if (b.len)
			add_row(p, -2, buf_cstr(&b), ROLE_DEFAULT);
		buf_release(&b);
	}
}

static int load(struct view *v)
{
	struct bisect_priv *p = v->priv;
	clear(p);
	p->error[0] = '\0';
	struct cs_err err;
	err_clear(&err);
	if (bisect_status(app.st, app.repo, &p->s, &err) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err.msg);
		tui_view_set_rows(v, 1);
		return 0;
	}
	p->have = true;
	build_rows(p);
	tui_view_set_rows(v, (long)p->n);
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].idx >= 0 && (p->rows[i].idx == p->s.next || p->rows[i].idx == p->s.first_bad)) {
			tui_view_goto(v, (long)i);
			break;
		}
	return 0;
}

static void start(struct view *v, const char *target, const char *bad)
{
	struct cs_err err;
	err_clear(&err);
	struct bisect_status s;
	char *top = gitrepo_top(NULL);
	struct bisect_start_opts o = {.target = target, .bad = bad, .repo_path = top};
	if (bisect_start(app.st, app.repo, &o, &s, &err) < 0)
		tui_error("%s", err.msg);
	else
		bisect_status_release(&s);
	free(top);
	load(v);
}

static int bisect_open(struct view *v, void *arg)
{
	const struct bisect_view_arg *a = arg;
	struct cs_err err;
	err_clear(&err);
	struct bisect_status cur;
	bool active = bisect_status(app.st, app.repo, &cur, &err) == 0 && !strcmp(cur.state, "active");
	if (err.code == 0)
		bisect_status_release(&cur);
	if (a && a->target) {
		if (active)
			tui_message("a bisection is active: showing it (:bisect reset ends it)");
		else
			start(v, a->target, a->bad);
		return active ? load(v) : 0;
	}
	if (!a && !active) {
		/* b: from the selection of the view it was opened from */
		struct view_env env;
		view_env_of(v->parent, &env);
		struct run r;
		char bad[RUN_REF_MAX] = "", target[256] = "";
		const struct run *rr = env.run_rec;
		bool have = false;
		if (!rr && env.run && view_env_run(&env, &r, &err)) {
			rr = &r;
			have = true;
		}
		if (rr)
			run_ref(bad, sizeof(bad), rr->provider_id, rr->attempt);
		if (env.bisect_target && *env.bisect_target)
			snprintf(target, sizeof(target), "%s", env.bisect_target);
		else if (env.fingerprint[0])
			snprintf(target, sizeof(target), "finding:%s", env.fingerprint);
		else if (rr && rr->workflow)
			snprintf(target, sizeof(target), "workflow:%s", rr->workflow);
		if (have)
			run_free(&r);
		if (target[0]) {
			start(v, target, bad[0] ? bad : NULL);
			return 0;
		}
	}
	return load(v);
}

static const char *glyph(const struct bisect_commit *k)
{
	if (k->skipped && k->verdict == BV_NONE)
		return tui_glyph("\u2298", "s");
	switch (k->verdict) {
	case BV_GOOD: return tui_glyph("\u2713", "+");
	case BV_BAD: return tui_glyph("\u2717", "x");
	case BV_MIXED: return "~";
	default: return tui_glyph("\u00b7", ".");
	}
}

static enum role glyph_role(const struct bisect_commit *k)
{
	switch (k->verdict) {
	case BV_GOOD: return ROLE_SUCCESS;
	case BV_BAD: return ROLE_FAILURE;
	case BV_MIXED: return ROLE_FLAKY;
	default: return k->skipped ? ROLE_SKIPPED : ROLE_DIM;
	}
}

static void bisect_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct bisect_priv *p = v->priv;
	if (!p->have) {
		if (row == 0)
			tui_text(c, p->error, (size_t)-1, ROLE_STATUS_ERROR, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	if (row < 0 || (size_t)row >= p->n)
		return;
	const struct brow *b = &p->rows[row];
	if (b->idx == -2) {
		tui_text(c, b->text ? b->text : "", (size_t)-1, b->role, 0, 0);
		tui_canvas_fill(c, ROLE_DEFAULT);
		return;
	}
	struct bisect_commit *k = b->idx >= 0 ? &p->s.commits[b->idx] : &p->s.good_commit;
	/* a long range has only its ends and the commits near the next read
	 * (core's fill_shown): the others are read as they come on screen */
	if (!k->c.subject && app.repo)
		gitrepo_commit_fill(app.repo, &k->c);
	bool next = b->idx >= 0 && b->idx == p->s.next, fb = b->idx >= 0 && b->idx == p->s.first_bad;
	tui_text(c, next ? ">" : fb ? "!" : " ", 1, next ? ROLE_MATCH : ROLE_FAILURE, 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	tui_text(c, glyph(k), (size_t)-1, glyph_role(k), 1, TEXT_PAD);
	tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
	char sha7[8];
	snprintf(sha7, sizeof(sha7), "%.7s", k->c.sha);
	tui_column(c, sha7, ROLE_SHA, 7, 0);
	if (p->s.bayes && b->idx >= 0) {
		char pr[16];
		snprintf(pr, sizeof(pr), "%5.3f", k->p);
		tui_column(c, pr, ROLE_DIM, 5, 0);
	}
	struct buf ev = BUF_INIT;
	for (int j = 0; j < k->n_obs; j++) {
		const struct bisect_obs *o = &k->obs[j];
		char ref[RUN_REF_MAX];
		if (o->run)
			buf_addf(&ev, "%s%s %s%s", ev.len ? ", " : "", run_ref(ref, sizeof(ref), o->run, o->attempt),
				 o->conclusion ? o->conclusion : "", o->dispatch_ref ? " (dispatched)" : "");
		else if (strcmp(o->source, "start") != 0)
			buf_addf(&ev, "%s%s %s", ev.len ? ", " : "", o->source, bisect_verdict_name(o->v));
	}
	int width = tui_canvas_width(c), left = width - tui_canvas_col(c);
	int evw = ev.len && left >= 50 ? left / 3 : 0;
	if (k->c.n_parents > 1)
		tui_text(c, "merge: ", (size_t)-1, ROLE_DIM, 0, 0);
	tui_text(c, k->c.subject ? k->c.subject : "", (size_t)-1, next ? ROLE_HEADER : ROLE_DEFAULT,
		 evw ? width - tui_canvas_col(c) - evw - 1 : 0, evw ? TEXT_PAD : 0);
	if (evw) {
		tui_text(c, " ", 1, ROLE_DEFAULT, 1, 0);
		tui_text(c, buf_cstr(&ev), (size_t)-1, ROLE_DIM, evw, TEXT_PAD | TEXT_RIGHT);
	}
	buf_release(&ev);
	tui_canvas_fill(c, ROLE_DEFAULT);
}

static const struct bisect_commit *at_cursor(struct view *v)
{
	struct bisect_priv *p = v->priv;
	if (!p->have || v->cursor < 0 || (size_t)v->cursor >= p->n)
		return NULL;
	int idx = p->rows[v->cursor].idx;
	return idx >= 0 ? &p->s.commits[idx] : idx == -1 ? &p->s.good_commit : NULL;
}

static void mark(struct view *v, enum bisect_verdict verdict)
{
	const struct bisect_commit *k = at_cursor(v);
	if (!k) {
		tui_error("no commit at the cursor");
		return;
	}
	char sha[41];
	memcpy(sha, k->c.sha, 41);
	struct cs_err err;
	err_clear(&err);
	struct bisect_status s;
	if (bisect_mark(app.st, app.repo, sha, verdict, "manual", NULL, &s, &err) < 0) {
		tui_error("%s", err.msg);
		return;
	}
	tui_message("%.12s marked %s: %s", sha, bisect_verdict_name(verdict), s.message ? s.message : "");
	bisect_status_release(&s);
	load(v);
}

/* The newest run among k's evidence (the target's runs), or NULL. */
static const struct bisect_obs *evidence_run(const struct bisect_commit *k)
{
	const struct bisect_obs *best = NULL;
	for (int j = 0; j < k->n_obs; j++)
		if (k->obs[j].run_row && (!best || k->obs[j].run > best->run ||
					  (k->obs[j].run == best->run && k->obs[j].attempt > best->attempt)))
			best = &k->obs[j];
	return best;
}

/* "RUN" or, for a job target, "RUN/JOB" (as :diff takes them). */
static void side_spec(char *out, size_t n, const struct bisect_obs *o, const char *job)
{
	char ref[RUN_REF_MAX];
	run_ref(ref, sizeof(ref), o->run, o->attempt);
	snprintf(out, n, "%s%s%s", ref, job ? "/" : "", job ? job : "");
}

/* d: the commit at the cursor's run (on a text row: the first bad commit's,
 * else the oldest bad one's) against the run of the good side (the newest
 * good commit), through the diff view; for a job target, that job. */
static void diff_against_good(struct view *v)
{
	struct bisect_priv *p = v->priv;
	if (!p->have || !p->s.n) {
		tui_error("no bisection to diff");
		return;
	}
	const struct bisect_commit *k = at_cursor(v);
	if (!k || (p->rows[v->cursor].idx == -2))
		k = &p->s.commits[p->s.first_bad >= 0 ? p->s.first_bad : p->s.bad_idx];
	const struct bisect_commit *good = p->s.good_idx >= 0 ? &p->s.commits[p->s.good_idx]
							     : &p->s.good_commit;
	const struct bisect_obs *run = evidence_run(k), *base = evidence_run(good);
	if (!run) {
		tui_error("%.7s has no run of the target to diff: test it on CI or mark it", k->c.sha);
		return;
	}
	if (k == good) {
		tui_error("%.7s is the good side itself: move to a suspect to diff it", k->c.sha);
		return;
	}
	struct bisect_target t;
	struct cs_err err;
	err_clear(&err);
	const char *job = NULL;
	bool parsed = bisect_target_parse(p->s.target, &t, &err) == 0;
	if (parsed && t.kind == BT_JOB)
		job = t.job;
	char a[RUN_REF_MAX + 256], b[RUN_REF_MAX + 256];
	side_spec(a, sizeof(a), run, job);
	if (base)
		side_spec(b, sizeof(b), base, job);
	else
		tui_message("the good side %.7s has no run: against the baseline the diff chooses",
			    good->c.sha);
	struct diff_view_arg arg = {.run = a, .base = base ? b : NULL};
	tui_open(&diff_view_ops, &arg, OPEN_PUSH);
	if (parsed)
		bisect_target_release(&t);
}

/* --- x: bisect run ------------------------------------------------------------------
 * The loop runs in a child `ciscope bisect run sh -c CMD` (the CLI's, with
 * its worktree, exit-code contract and log), its output going to a file;
 * the view polls it, reloading as its verdicts land, and Esc stops it
 * (SIGINT: the command is stopped, nothing is recorded for its commit). */
/* The child's output file read whole (up to 1 MiB); its text, or NULL when
 * it cannot be read or is empty. */
static const char *child_output(const char *path, struct buf *b)
{
	struct cs_err err;
	err_clear(&err);
	if (file_read_all(path, 1u << 20, b, &err) == 0 && b->len)
		return buf_cstr(b);
	return NULL;
}

static void last_line(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	struct buf b = BUF_INIT;
	const char *t = child_output(path, &b);
	if (t) {
		size_t end = b.len;
		while (end && t[end - 1] == '\n')
			end--;
		size_t start = end;
		while (start && t[start - 1] != '\n')
			start--;
		snprintf(out, n, "%.*s", (int)(end - start), t + start);
	}
	buf_release(&b);
}

/* The last error the child wrote ("ciscope: ..."), else "". */
static void last_error(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	struct buf b = BUF_INIT;
	const char *t = child_output(path, &b), *hit = NULL;
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "ciscope: ", 9))
			hit = l + 9 + (strncmp(l + 9, "bisect dispatch: ", 17) ? 0 : 17);
	if (hit)
		snprintf(out, n, "%.*s", (int)strcspn(hit, "\n"), hit);
	buf_release(&b);
}

static void run_finish(struct view *v, int ws)
{
	struct bisect_priv *p = v->priv;
	p->run_pid = 0;
	tui_work_stop(p);
	load(v);
	tui_view_dirty(v);
	char last[300];
	last_error(p->run_log, last, sizeof(last));
	if (!last[0] || (WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
		last_line(p->run_log, last, sizeof(last));
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		tui_message("%s: %s (output: %s)", p->run_what, p->have && p->s.message ? p->s.message : last,
			    p->run_log);
	else
		tui_error("%s stopped: %s (output: %s)", p->run_what, last[0] ? last : "no output", p->run_log);
}

static void run_poll(struct view *v)
{
	struct bisect_priv *p = v->priv;
	if (!p->run_pid)
		return;
	int ws = 0;
	pid_t r = waitpid(p->run_pid, &ws, WNOHANG);
	if (r == 0) {
		last_line(p->run_log, p->run_last, sizeof(p->run_last)); /* the progress it reported */
		load(v); /* the verdicts recorded so far */
		tui_view_dirty(v);
		view_timer(v, 200, run_poll);
		return;
	}
	run_finish(v, r == p->run_pid ? ws : 0xff00);
}

static void run_stop(struct bisect_priv *p)
{
	if (!p->run_pid)
		return;
	kill(-p->run_pid, SIGINT);
	int ws;
	waitpid(p->run_pid, &ws, 0); /* the CLI stops its command within seconds */
	p->run_pid = 0;
}

static void run_cancel(void *ctx)
{
	struct bisect_priv *p = ctx;
	run_stop(p);
	tui_message("%s interrupted: nothing recorded for the commit under test (output: %s)",
		    p->run_what, p->run_log);
}

static void run_progress(void *ctx, char *out, size_t n)
{
	struct bisect_priv *p = ctx;
	const char *said = p->run_last;
	if (!strncmp(said, "bisect dispatch: ", 17))
		said += 17;
	if (p->run_what && !strcmp(p->run_what, "bisect dispatch"))
		/* where the dispatch stands: sent, waiting for its run, the run's status */
		snprintf(out, n, "bisect dispatch %.7s: %s", p->dispatch_sha,
			 *said ? said : "sending the requests");
	else if (p->have && p->s.next >= 0)
		snprintf(out, n, "%s: testing %.7s, ~%d step%s left", p->run_what, p->s.commits[p->s.next].c.sha,
			 p->s.steps_left, p->s.steps_left == 1 ? "" : "s");
	else
		snprintf(out, n, "%s", p->run_what);
}

/* The CLI in a child: `ciscope --db DB bisect ARGS...`, its output into a
 * file, polled (x and D). */
static void spawn(struct view *v, const char *what, char *const *args, int nargs)
{
	struct bisect_priv *p = v->priv;
	if (!app.db_path) {
		tui_error("%s: the index has no path to hand to the command", what);
		return;
	}
	p->run_what = what;
	p->run_last[0] = '\0';
	const char *tmp = getenv("TMPDIR");
	snprintf(p->run_log, sizeof(p->run_log), "%s/ciscope-%s-XXXXXX.log",
		 tmp && *tmp == '/' ? tmp : "/tmp", strcmp(what, "bisect run") ? "bisect-dispatch" : "bisect-run");
	int fd = mkstemps(p->run_log, 4);
	if (fd < 0) {
		tui_error("%s: cannot create a file for its output under %s", what, tmp ? tmp : "/tmp");
		return;
	}
	char **argv = xcalloc((size_t)nargs + 5, sizeof(*argv));
	argv[0] = "ciscope";
	argv[1] = "--db";
	argv[2] = (char *)app.db_path;
	argv[3] = "bisect";
	for (int i = 0; i < nargs; i++)
		argv[4 + i] = args[i];
	pid_t pid = fork();
	if (pid < 0) {
		close(fd);
		free(argv);
		tui_error("%s: cannot start a process", what);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int in = open("/dev/null", O_RDONLY);
		if (in >= 0)
			dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv("/proc/self/exe", argv);
		execvp("ciscope", argv);
		_exit(127);
	}
	free(argv);
	close(fd);
	setpgid(pid, pid);
	p->run_pid = pid;
	struct tui_work w = {.progress = run_progress, .cancel = run_cancel, .ctx = p, .owner = v};
	tui_work_start(&w);
	view_timer(v, 50, run_poll);
}

static void run_start(void *ctx, const char *cmd)
{
	struct view *v = ctx;
	struct bisect_priv *p = v->priv;
	if (!cmd || !*cmd)
		return;
	free(p->last_cmd);
	p->last_cmd = xstrdup(cmd);
	char *args[] = {"run", "sh", "-c", (char *)cmd};
	spawn(v, "bisect run", args, 4);
}

/* --- D: bisect dispatch ---------------------------------------------------------------
 * The requests are shown (as the CLI will send them, the workflow as the
 * target names it) and confirmed; then `ciscope bisect dispatch --yes` runs
 * in a child like x, with the repository and workflow confirmed. */
static void dispatch_answer(void *ctx, bool yes)
{
	struct view *v = ctx;
	struct bisect_priv *p = v->priv;
	if (!yes) {
		tui_message("bisect dispatch: not sent");
		return;
	}
	/* the poll interval and timeout: set bisect-dispatch-poll / -timeout */
	const char *poll = tui_option("bisect-dispatch-poll"), *timeout = tui_option("bisect-dispatch-timeout");
	char *args[] = {"dispatch", "--yes", "--gh-repo", p->dispatch_repo, "--workflow", p->dispatch_workflow,
			"--poll", (char *)(poll ? poll : "15"), "--timeout", (char *)(timeout ? timeout : "3600"),
			p->dispatch_sha};
	spawn(v, "bisect dispatch", args, 11);
}

/* Whether a commit can be tested now (no run or dispatch under way, an
 * active bisection with a next commit); else says why not. */
static bool can_test(const struct bisect_priv *p)
{
	if (p->run_pid) {
		tui_error("%s is under way: Esc stops it", p->run_what);
		return false;
	}
	if (!p->have || strcmp(p->s.state, "active") != 0 || p->s.next < 0) {
		tui_error("nothing to test: %s", p->have && p->s.message ? p->s.message : "no active bisection");
		return false;
	}
	return true;
}

static void dispatch_ask(struct view *v)
{
	struct bisect_priv *p = v->priv;
	if (!can_test(p))
		return;
	struct cs_err err;
	err_clear(&err);
	struct bisect_target t;
	memset(&t, 0, sizeof(t));
	if (bisect_target_parse(p->s.target, &t, &err) < 0 || !t.workflow || !*t.workflow) {
		tui_error("bisect dispatch: the target '%s' names no workflow (ciscope bisect dispatch --workflow W)",
			  p->s.target);
		bisect_target_release(&t);
		return;
	}
	char *top = gitrepo_top(NULL);
	char *slug = bisect_github_repo(app.st, &p->s, top);
	free(top);
	struct gh_client client;
	if (gh_client_init(&client, slug, NULL, &err) < 0) {
		tui_error("bisect dispatch: %s", err.msg);
		free(slug);
		bisect_target_release(&t);
		return;
	}
	free(slug);
	const char *sha = p->s.commits[p->s.next].c.sha;
	struct buf branch = BUF_INIT, text = BUF_INIT, q = BUF_INIT;
	buf_addf(&branch, "ciscope-bisect-%.12s", sha);
	struct gh_post create, disp;
	gh_build_ref_create(&client.t, buf_cstr(&branch), sha, &create);
	gh_build_dispatch(&client.t, t.workflow, buf_cstr(&branch), NULL, NULL, 0, &disp);
	char *ref_url = gh_ref_url(&client.t, buf_cstr(&branch));
	char *runs_url = gh_dispatch_runs_url(&client.t, t.workflow, buf_cstr(&branch));
	gh_post_describe(&create, client.token_src, &text);
	buf_addc(&text, '\n');
	gh_post_describe(&disp, client.token_src, &text);
	const char *poll = tui_option("bisect-dispatch-poll"), *timeout = tui_option("bisect-dispatch-timeout");
	buf_addf(&text, "\n(a workflow named by its name is sent as its id)\n\nthen GET %s\nevery %s s (up to %s s: "
			"set bisect-dispatch-poll, bisect-dispatch-timeout)\nuntil the run for %.12s completes, fetch it,"
			"\nand, in any case, ", runs_url, poll ? poll : "15", timeout ? timeout : "3600", sha);
	gh_delete_describe(ref_url, client.token_src, &text);
	buf_addf(&q, "Create branch '%s' at %.12s in %s, run workflow '%s' on it, then delete the branch?",
		 buf_cstr(&branch), sha, client.t.slug, t.workflow);
	free(p->dispatch_repo);
	free(p->dispatch_workflow);
	p->dispatch_repo = xstrdup(client.t.slug);
	p->dispatch_workflow = xstrdup(t.workflow);
	snprintf(p->dispatch_sha, sizeof(p->dispatch_sha), "%s", sha);
	confirm_open("bisect dispatch", buf_cstr(&text), buf_cstr(&q), dispatch_answer, v);
	gh_post_free(&create);
	gh_post_free(&disp);
	free(ref_url);
	free(runs_url);
	buf_release(&branch);
	buf_release(&text);
	buf_release(&q);
	gh_client_release(&client);
	bisect_target_release(&t);
}

static void run_ask(struct view *v)
{
	struct bisect_priv *p = v->priv;
	if (!can_test(p))
		return;
	tui_prompt("bisect run (sh -c; exit 0 good, 125 skip, 1-127 bad): ", p->last_cmd, run_start, v);
}

static enum action bisect_request(struct view *v, enum action a, unsigned *eff)
{
	switch ((int)a) {
	case ACT_BISECT_GOOD: mark(v, BV_GOOD); break;
	case ACT_BISECT_BAD: mark(v, BV_BAD); break;
	case ACT_BISECT_SKIP: mark(v, BV_SKIP); break;
	case ACT_BISECT_RUN: run_ask(v); break;
	case ACT_BISECT_DISPATCH: dispatch_ask(v); break;
	case ACT_ENTER: {
		/* the commit's one evidence run (its newest attempt), else every
		 * run of the commit */
		const struct bisect_commit *k = at_cursor(v);
		const struct bisect_obs *o = k ? evidence_run(k) : NULL;
		bool one = o != NULL;
		for (int j = 0; o && j < k->n_obs; j++)
			if (k->obs[j].run_row && k->obs[j].run != o->run)
				one = false;
		if (one) {
			struct run_view_arg arg = {.run_row_id = o->run_row};
			tui_open(&run_view_ops, &arg, OPEN_PUSH);
		} else if (k) {
			struct runs_view_arg arg = {.filter = k->c.sha};
			tui_open(&runs_view_ops, &arg, OPEN_PUSH);
		}
		break;
	}
	case ACT_VIEW_DIFF:
		diff_against_good(v);
		break;
	case ACT_REFRESH:
		load(v);
		tui_message("reloaded");
		break;
	default:
		return a;
	}
	*eff |= EFF_REDRAW;
	return ACT_NONE;
}

static bool bisect_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	return views_command(v, cmd, arg, eff);
}

static void bisect_env(struct view *v, void *out)
{
	const struct bisect_commit *k = at_cursor(v);
	struct view_env *env = out;
	if (k)
		snprintf(env->commit, sizeof(env->commit), "%s", k->c.sha);
}

static void bisect_title(struct view *v, char *out, size_t n)
{
	struct bisect_priv *p = v->priv;
	if (!p->have) {
		snprintf(out, n, "bisect");
		return;
	}
	snprintf(out, n, "bisect %s \u00b7 %s \u00b7 %s", p->s.target, p->s.branch ? p->s.branch : "-",
		 p->s.state);
}

static void bisect_status_text(struct view *v, char *out, size_t n)
{
	struct bisect_priv *p = v->priv;
	if (!p->have) {
		snprintf(out, n, "no bisection");
		return;
	}
	const struct bisect_status *s = &p->s;
	if (s->first_bad >= 0)
		snprintf(out, n, "first bad %.7s", s->commits[s->first_bad].c.sha);
	else
		snprintf(out, n, "%d suspects \u00b7 ~%d step%s left%s", s->n ? s->bad_idx - s->good_idx : 0,
			 s->steps_left, s->steps_left == 1 ? "" : "s", s->bayes ? " \u00b7 bayesian" : "");
}

static bool bisect_match(struct view *v, long row, const char *query)
{
	struct bisect_priv *p = v->priv;
	if (!p->have || !query || row < 0 || (size_t)row >= p->n)
		return false;
	const struct brow *b = &p->rows[row];
	if (b->idx == -2)
		return b->text && strcasestr(b->text, query);
	const struct bisect_commit *k = b->idx >= 0 ? &p->s.commits[b->idx] : &p->s.good_commit;
	return (k->c.subject && strcasestr(k->c.subject, query)) || strcasestr(k->c.sha, query);
}

static void bisect_done(struct view *v)
{
	struct bisect_priv *p = v->priv;
	view_timers_cancel(v);
	tui_work_stop(p);
	run_stop(p);
	free(p->last_cmd);
	free(p->dispatch_repo);
	free(p->dispatch_workflow);
	clear(p);
}

const struct view_ops bisect_view_ops = {
	.name = "bisect",
	.private_size = sizeof(struct bisect_priv),
	.open = bisect_open,
	.load = load,
	.draw = bisect_draw,
	.request = bisect_request,
	.command = bisect_command,
	.title = bisect_title,
	.status = bisect_status_text,
	.match = bisect_match,
	.done = bisect_done,
	.env = bisect_env,
};
