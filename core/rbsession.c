/* rbsession.c - see rbsession.h. */
#include "rbsession.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitrepo.h"
#include "triage.h"

static void ev_init(struct rb_event *e, const char *kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = (char *)kind;
	e->exit = RB_NO_EXIT;
	e->duration_ms = CS_TIME_NONE;
	e->output_size = -1;
}

static int append(struct rb_session *s, struct rb_event *e, struct cs_err *err)
{
	if (!s->st || !s->id)
		return 0;
	return rbstore_append(s->st, s->id, e, err);
}

/* {"name":"value",...} of the given names (all when names is NULL), secrets
 * as ***. NULL when there is nothing to say. */
static char *vars_json(const struct rb_session *s, char **names, int n, bool only_captured)
{
	struct buf b = BUF_INIT;
	int k = 0;
	buf_addc(&b, '{');
	for (int i = 0; i < s->vars.n; i++) {
		const struct rb_value *v = &s->vars.v[i];
		if (only_captured && v->source != RBV_CAPTURE)
			continue;
		if (names) {
			bool want = false;
			for (int j = 0; j < n; j++)
				if (!strcmp(names[j], v->name))
					want = true;
			if (!want)
				continue;
		}
		if (k++)
			buf_addc(&b, ',');
		buf_add_json_str(&b, v->name, strlen(v->name));
		buf_addc(&b, ':');
		if (v->sensitive) {
			buf_adds(&b, "\"***\"");
		} else {
			struct buf r = BUF_INIT;
			runbook_redact(v->value, strlen(v->value), NULL, &r);
			buf_add_json_str(&b, r.data ? r.data : "", r.len);
			buf_release(&r);
		}
	}
	buf_addc(&b, '}');
	if (!k) {
		buf_release(&b);
		return NULL;
	}
	buf_cstr(&b);
	return buf_detach(&b, NULL);
}

static void host_of(char *out, size_t n)
{
	out[0] = '\0';
	gethostname(out, n - 1);
	out[n - 1] = '\0';
}

/* A "started"/"resumed" event: who, the mode, and this process's pid and
 * host (host: the caller's buffer of 256 the event points into). */
static void ev_session(struct rb_event *e, const char *kind, const struct rb_session *s,
		       const char *mode, char host[256])
{
	ev_init(e, kind);
	e->by = s->by;
	e->text = (char *)mode;
	e->pid = getpid();
	host_of(host, 256);
	e->host = host;
}

/* The transaction committed when rc is 0, else rolled back; the result. */
static int tx_end(struct store *st, int rc, struct cs_err *err)
{
	if (rc == 0)
		return store_commit(st, err);
	store_rollback(st);
	return rc;
}

static void setup_common(struct rb_session *s, struct store *st, struct runbook *rb, char *text,
			 size_t text_len)
{
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->rb = *rb;
	memset(rb, 0, sizeof(*rb));
	s->text = text;
	s->text_len = text_len;
	s->proc.fd = -1;
	struct buf top = BUF_INIT, who = BUF_INIT;
	if (gitrepo_checkout(NULL, &top, NULL) && top.len)
		s->checkout = buf_detach(&top, NULL);
	buf_release(&top);
	gitrepo_user_name(&who);
	s->by = buf_detach(&who, NULL);
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		if (slash && slash != self) {
			*slash = '\0';
			s->self_dir = xstrdup(self);
		}
	}
	s->ictx.st = st;
	s->ictx.checkout = s->checkout;
}

static void copy_vars(struct rb_vars *dst, const struct rb_vars *src)
{
	for (int i = 0; src && i < src->n; i++)
		rb_vars_set(dst, src->v[i].name, src->v[i].value, src->v[i].source, src->v[i].sensitive);
}

static int bind_run(struct rb_session *s, const char *bind, struct cs_err *err)
{
	if (!bind)
		return 0;
	if (!s->ictx.st)
		return err_set(err, CS_EUSAGE, "--bind needs an index with runs");
	if (store_find_run(s->ictx.st, bind, &s->ictx.bound, err) < 0)
		return err_prefix(err, "--bind %s", bind);
	s->ictx.have_bound = true;
	return 0;
}

int rb_session_begin(struct rb_session *s, struct store *st, struct runbook *rb, char *text,
		     size_t text_len, const struct rb_vars *options, const char *bind,
		     const char *mode, struct cs_err *err)
{
	bool dry = st == NULL || !strcmp(mode, "dry-run");
	setup_common(s, st, rb, text, text_len);
	/* a dry run reads the index (variables) and records nothing */
	if (dry)
		s->st = NULL;
	copy_vars(&s->vars, options);
	if (bind_run(s, bind, err) < 0)
		return -1;
	if (dry)
		return 0;
	struct rb_instance inst;
	memset(&inst, 0, sizeof(inst));
	struct buf steps = BUF_INIT, head = BUF_INIT, repo = BUF_INIT;
	rbstore_step_list(&s->rb, &steps);
	gitrepo_checkout(NULL, NULL, &head);
	struct cs_err e2;
	err_clear(&e2);
	if (rb_index_resolve(&s->ictx, "repository", &repo, &e2) <= 0)
		buf_reset(&repo);
	inst.runbook = s->rb.name;
	inst.path = s->rb.path;
	inst.hash = s->rb.hash;
	inst.title = s->rb.title;
	inst.steps = (char *)buf_cstr(&steps);
	inst.started_at = time_now_ms();
	inst.started_by = s->by;
	inst.head_sha = head.len ? (char *)buf_cstr(&head) : NULL;
	inst.repo = repo.len ? (char *)buf_cstr(&repo) : NULL;
	if (s->ictx.have_bound) {
		inst.bound_run = s->ictx.bound.provider_id;
		inst.bound_attempt = s->ictx.bound.attempt;
		inst.bound_sha = s->ictx.bound.sha;
		inst.bound_url = s->ictx.bound.html_url;
	}
	inst.mode = (char *)mode;
	int rc = store_begin(st, err);
	if (rc == 0)
		rc = rbstore_create(st, &inst, text, text_len, err);
	if (rc == 0) {
		s->id = inst.id;
		s->ictx.instance_id = inst.id;
		struct rb_event e;
		char host[256];
		ev_session(&e, "started", s, mode, host);
		e.vars = vars_json(s, NULL, 0, false);
		rc = append(s, &e, err);
		free(e.vars);
	}
	rc = tx_end(st, rc, err);
	buf_release(&steps);
	buf_release(&head);
	buf_release(&repo);
	if (rc < 0)
		s->id = 0;
	return rc;
}

static void restore_vars(struct rb_session *s, const char *json)
{
	if (!json)
		return;
	cJSON *j = cJSON_Parse(json);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, j)
	{
		if (!cJSON_IsString(it) || !it->string || !rb_var_name_valid(it->string))
			continue;
		/* a secret was never stored: the step that made it must run again */
		if (!strcmp(it->valuestring, "***"))
			continue;
		rb_vars_set(&s->vars, it->string, it->valuestring, RBV_RECORDED, false);
	}
	cJSON_Delete(j);
}

int rb_session_resume(struct rb_session *s, struct store *st, int64_t id, struct runbook *rb,
		      char *text, size_t text_len, const struct rb_vars *options, const char *mode,
		      int *from, struct cs_err *err)
{
	setup_common(s, st, rb, text, text_len);
	struct rb_instance inst;
	struct rb_event *evs;
	int n;
	if (rbstore_get(st, id, &inst, &evs, &n, err) < 0)
		return -1;
	s->id = id;
	s->ictx.instance_id = id;
	for (int i = 0; i < n; i++)
		restore_vars(s, evs[i].vars);
	copy_vars(&s->vars, options);
	int rc = 0;
	if (inst.bound_run) {
		char spec[48];
		snprintf(spec, sizeof(spec), "%lld:%d", (long long)inst.bound_run, inst.bound_attempt);
		struct cs_err e2;
		err_clear(&e2);
		if (store_find_run(st, spec, &s->ictx.bound, &e2) == 0)
			s->ictx.have_bound = true;
	}
	int open = rbstore_open_step(evs, n);
	s->orphan_pgid = 0;
	if (open) {
		/* the open step's process group, when it is still there */
		for (int i = n - 1; i >= 0; i--)
			if (!strcmp(evs[i].kind, "step-start") && evs[i].step == open) {
				char me[256];
				host_of(me, sizeof(me));
				const char *h = NULL;
				for (int j = i; j >= 0 && !h; j--)
					if (!strcmp(evs[j].kind, "started") || !strcmp(evs[j].kind, "resumed"))
						h = evs[j].host;
				bool here = !h || !strcmp(h, me);
				if (here && evs[i].pid > 0 && kill(-(pid_t)evs[i].pid, 0) == 0)
					s->orphan_pgid = (int)evs[i].pid;
				break;
			}
	}
	rc = store_begin(st, err);
	if (rc == 0 && open) {
		struct rb_event e;
		ev_init(&e, "interrupted");
		e.step = open;
		e.step_name = open <= s->rb.n_steps ? s->rb.steps[open - 1].name : NULL;
		char *itext = s->orphan_pgid
				     ? xasprintf("the step's end was never recorded: ciscope stopped while "
						 "it ran; its processes (group %d) were still running",
						 s->orphan_pgid)
				     : xstrdup("the step's end was never recorded: ciscope stopped while it ran");
		e.text = itext;
		e.by = s->by;
		rc = append(s, &e, err);
		free(itext);
	}
	if (rc == 0) {
		struct rb_event e;
		char host[256];
		ev_session(&e, "resumed", s, mode, host);
		struct rb_vars only = {0};
		copy_vars(&only, options);
		struct rb_vars keep = s->vars;
		s->vars = only;
		e.vars = vars_json(s, NULL, 0, false);
		s->vars = keep;
		rb_vars_release(&only);
		rc = append(s, &e, err);
		free(e.vars);
	}
	rc = tx_end(st, rc, err);
	if (rc == 0) {
		/* reload: the interrupted event changes nothing of the step states */
		*from = rbstore_resume_step(evs, n, s->rb.n_steps);
	}
	rb_events_free(evs, n);
	rb_instance_free(&inst);
	return rc;
}

void rb_session_release(struct rb_session *s)
{
	if (s->running) {
		rb_proc_stop(&s->proc);
		rb_proc_wait(&s->proc, NULL, NULL, NULL);
	}
	rb_proc_release(&s->proc);
	runbook_free(&s->rb);
	free(s->text);
	rb_vars_release(&s->vars);
	rb_index_ctx_release(&s->ictx);
	free(s->by);
	free(s->checkout);
	free(s->self_dir);
	buf_release(&s->cmd);
	buf_release(&s->shown);
	for (size_t i = 0; i < ARRAY_SIZE(s->env); i++)
		free(s->env[i]);
	memset(s, 0, sizeof(*s));
}

/* --- steps ------------------------------------------------------------------------------------ */
static int resolver(void *ctx, const char *name, struct buf *out, struct cs_err *err)
{
	struct rb_session *s = ctx;
	const struct rb_value *wf = rb_vars_get(&s->vars, "workflows");
	const struct rb_var_decl *d = NULL;
	for (int i = 0; i < s->rb.n_vars; i++)
		if (!strcmp(s->rb.vars[i].name, "workflows"))
			d = &s->rb.vars[i];
	s->ictx.workflows = wf ? wf->value : d ? d->def : NULL;
	return rb_index_resolve(&s->ictx, name, out, err);
}

int rb_session_resolve(struct rb_session *s, int k, struct cs_err *err)
{
	if (k < 1 || k > s->rb.n_steps)
		return err_set(err, CS_EUSAGE, "no step %d", k);
	const struct rb_step *st = &s->rb.steps[k - 1];
	buf_reset(&s->cmd);
	buf_reset(&s->shown);
	if (!st->command)
		return 0;
	if (runbook_resolve(&s->rb, st->command, &s->vars, resolver, s, &s->cmd, &s->shown, err) < 0)
		return err_prefix(err, "step %d (%s)", k, st->name);
	return 0;
}

static void free_env(struct rb_session *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->env); i++) {
		free(s->env[i]);
		s->env[i] = NULL;
	}
}

static int start_attempt(struct rb_session *s, struct cs_err *err)
{
	const struct rb_step *st = &s->rb.steps[s->step - 1];
	free_env(s);
	int e = 0;
	if (s->st) {
		/* absolute: a step may run in another directory */
		char *abs = realpath(s->st->path, NULL);
		s->env[e++] = xasprintf("CISCOPE_DB=%s", abs ? abs : s->st->path);
		free(abs);
	}
	if (s->id)
		s->env[e++] = xasprintf("CISCOPE_RUNBOOK_ID=%lld", (long long)s->id);
	if (s->self_dir) {
		const char *path = getenv("PATH");
		s->env[e++] = xasprintf("PATH=%s%s%s", s->self_dir, path && *path ? ":" : "",
					path ? path : "");
	}
	char *cwd = NULL;
	if (st->cwd && *st->cwd)
		cwd = st->cwd[0] == '/' || !s->checkout ? xstrdup(st->cwd) : path_join(s->checkout, st->cwd);
	char *out_file = NULL;
	if (st->background) {
		const char *tmp = getenv("TMPDIR");
		out_file = xasprintf("%s/ciscope-runbook-%lld-%s.log", tmp && *tmp ? tmp : "/tmp",
				     (long long)s->id, st->name);
	}
	s->attempt++;
	int rc = rb_proc_start(&s->proc, s->cmd.data ? s->cmd.data : "", cwd,
			       st->background ? 0 : st->timeout_ms, s->env, out_file, err);
	free(cwd);
	if (rc < 0) {
		free(out_file);
		return err_prefix(err, "step %d (%s)", s->step, st->name);
	}
	s->running = true;
	s->waiting = false;
	if (s->pending_start) {
		s->pending_start->pid = s->proc.pid;
		if (append(s, s->pending_start, err) < 0) {
			/* not recorded, not run */
			rb_proc_stop(&s->proc);
			rb_proc_wait(&s->proc, NULL, NULL, NULL);
			rb_proc_release(&s->proc);
			s->proc.fd = -1;
			s->running = false;
			free(out_file);
			return -1;
		}
	}
	if (st->background) {
		struct rb_event ev;
		ev_init(&ev, "step-end");
		ev.step = s->step;
		ev.step_name = st->name;
		ev.status = "background";
		ev.duration_ms = 0;
		char *text = xasprintf("started in the background: process group %d, output in %s",
				       (int)s->proc.pid, out_file);
		ev.text = text;
		rc = append(s, &ev, err);
		free(text);
		snprintf(s->last_status, sizeof(s->last_status), "background");
		s->last_exit = 0;
		s->running = false;
		rb_proc_release(&s->proc);
		s->proc.fd = -1;
		s->step = 0;
	}
	free(out_file);
	return rc;
}

int rb_session_start(struct rb_session *s, int k, const char *edited, struct cs_err *err)
{
	if (s->step)
		return err_set(err, CS_EUSAGE, "step %d is still under way", s->step);
	if (k < 1 || k > s->rb.n_steps)
		return err_set(err, CS_EUSAGE, "no step %d", k);
	const struct rb_step *st = &s->rb.steps[k - 1];
	if (st->manual && !edited)
		return err_set(err, CS_EUSAGE, "step %d is manual: nothing to run", k);
	if (edited) {
		if (runbook_resolve(&s->rb, edited, &s->vars, resolver, s, &s->cmd, &s->shown, err) < 0)
			return err_prefix(err, "the edited command");
	} else if (rb_session_resolve(s, k, err) < 0) {
		return -1;
	}
	char **names = NULL;
	int nn = 0;
	struct cs_err e2;
	err_clear(&e2);
	runbook_check_command(edited ? edited : st->command, &names, &nn, &e2);
	struct rb_event ev;
	ev_init(&ev, "step-start");
	ev.step = k;
	ev.step_name = st->name;
	struct buf red = BUF_INIT;
	runbook_redact(s->shown.data ? s->shown.data : "", s->shown.len, &s->vars, &red);
	ev.command = (char *)buf_cstr(&red);
	ev.vars = nn ? vars_json(s, names, nn, false) : NULL;
	ev.by = s->by;
	if (edited)
		ev.text = "edited by the operator";
	s->step = k;
	s->attempt = 0;
	s->step_started = time_now_ms();
	s->step_mono = mono_ms();
	s->last_status[0] = '\0';
	/* recorded once the process exists, with its group: a resume after
	 * a crash can tell whether the step still runs */
	s->pending_start = &ev;
	int rc = start_attempt(s, err);
	s->pending_start = NULL;
	free(ev.vars);
	buf_release(&red);
	runbook_names_free(names, nn);
	if (rc < 0)
		s->step = 0;
	return rc;
}

int rb_session_fd(const struct rb_session *s)
{
	return s->running ? rb_proc_fd(&s->proc) : -1;
}

int rb_session_timer(const struct rb_session *s)
{
	if (s->running)
		return rb_proc_next_timer(&s->proc);
	if (s->waiting) {
		int64_t d = s->wait_until - mono_ms();
		return d <= 0 ? 0 : (int)MIN(d, 60000);
	}
	return -1;
}

void rb_session_stop(struct rb_session *s)
{
	if (s->running)
		rb_proc_stop(&s->proc);
	else if (s->waiting)
		s->wait_until = -1; /* no more attempts */
}

static const char *end_status(const struct rb_proc *p, int want)
{
	switch (p->end) {
	case RB_END_TIMEOUT: return "timeout";
	case RB_END_STOPPED: return "stopped";
	case RB_END_EXIT: return p->exit_code == want ? "ok" : "failed";
	default: return "failed";
	}
}

static int finish_step(struct rb_session *s, const char *status, int exit_code, const char *output,
		       size_t out_len, uint64_t total, bool with_output, const char *text,
		       struct cs_err *err)
{
	const struct rb_step *st = &s->rb.steps[s->step - 1];
	struct rb_event ev;
	ev_init(&ev, "step-end");
	ev.step = s->step;
	ev.step_name = st->name;
	ev.status = (char *)status;
	ev.exit = exit_code;
	ev.duration_ms = mono_ms() - s->step_mono;
	ev.text = (char *)text;
	struct buf red = BUF_INIT;
	if (with_output && st->sensitive) {
		ev.text = "output not stored: a sensitive step";
	} else if (with_output) {
		runbook_redact(output, out_len, &s->vars, &red);
		ev.output = (char *)buf_cstr(&red);
		ev.output_len = red.len;
		ev.output_size = (int64_t)total;
	}
	ev.vars = vars_json(s, NULL, 0, true);
	int rc = append(s, &ev, err);
	free(ev.vars);
	buf_release(&red);
	snprintf(s->last_status, sizeof(s->last_status), "%s", status);
	s->last_exit = exit_code;
	s->step = 0;
	buf_reset(&s->cmd);
	buf_reset(&s->shown);
	return rc;
}

int rb_session_pump(struct rb_session *s, rb_output_cb cb, void *ctx, struct cs_err *err)
{
	if (!s->step)
		return 0;
	const struct rb_step *st = &s->rb.steps[s->step - 1];
	if (s->waiting) {
		if (s->wait_until < 0) {
			/* stopped between attempts */
			s->waiting = false;
			return finish_step(s, "stopped", s->last_exit, NULL, 0, 0, false,
					   "stopped between attempts", err) < 0 ? -1 : 0;
		}
		if (mono_ms() < s->wait_until)
			return 1;
		return start_attempt(s, err) < 0 ? -1 : 1;
	}
	if (!s->running)
		return 0;
	if (rb_proc_pump(&s->proc, cb, ctx) > 0)
		return 1;
	s->running = false;
	const char *status = end_status(&s->proc, st->until_exit);
	struct buf out = BUF_INIT;
	rb_proc_output(&s->proc, &out);
	uint64_t total = s->proc.total;
	int code = s->proc.exit_code;
	int64_t dur = s->proc.duration_ms;
	rb_proc_release(&s->proc);
	s->proc.fd = -1;
	if (!strcmp(status, "ok") && st->capture) {
		struct cs_err e2;
		err_clear(&e2);
		runbook_capture(st, out.data ? out.data : "", out.len, &s->vars, st->sensitive, &e2);
	}
	int rc = 0;
	bool more = strcmp(status, "ok") && strcmp(status, "stopped") && s->attempt < st->retry;
	if (st->retry > 1) {
		struct rb_event ev;
		ev_init(&ev, "attempt");
		ev.step = s->step;
		ev.step_name = st->name;
		ev.attempt = s->attempt;
		ev.exit = code;
		ev.duration_ms = dur;
		ev.status = (char *)status;
		struct buf red = BUF_INIT;
		if (st->sensitive) {
			ev.text = "output not stored: a sensitive step";
		} else {
			runbook_redact(out.data ? out.data : "", out.len, &s->vars, &red);
			ev.output = (char *)buf_cstr(&red);
			ev.output_len = red.len;
			ev.output_size = (int64_t)total;
		}
		rc = append(s, &ev, err);
		buf_release(&red);
		if (rc == 0 && !more) {
			char text[64];
			snprintf(text, sizeof(text), "after %d attempt%s", s->attempt,
				 s->attempt == 1 ? "" : "s");
			rc = finish_step(s, status, code, NULL, 0, 0, false, text, err);
		}
	} else {
		rc = finish_step(s, status, code, out.data ? out.data : "", out.len, total, true, NULL, err);
	}
	buf_release(&out);
	if (rc < 0)
		return -1;
	if (more) {
		s->waiting = true;
		s->last_exit = code;
		s->wait_until = mono_ms() + st->interval_ms;
		return 1;
	}
	return 0;
}

int rb_session_wait(struct rb_session *s, rb_output_cb cb, void *ctx,
		    volatile sig_atomic_t *interrupted, struct cs_err *err)
{
	int r;
	while ((r = rb_session_pump(s, cb, ctx, err)) > 0) {
		if (interrupted && *interrupted) {
			*interrupted = 0;
			rb_session_stop(s);
			continue;
		}
		rb_session_poll(s);
	}
	return r;
}

void rb_session_poll(struct rb_session *s)
{
	int fd = rb_session_fd(s);
	int t = rb_session_timer(s);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	poll(fd >= 0 ? &pf : NULL, fd >= 0 ? 1 : 0, t < 0 || t > 100 ? 100 : t);
}

int rb_session_skip(struct rb_session *s, int k, const char *why, struct cs_err *err)
{
	struct rb_event ev;
	ev_init(&ev, "skip");
	ev.step = k;
	ev.step_name = s->rb.steps[k - 1].name;
	ev.text = (char *)why;
	ev.by = s->by;
	return append(s, &ev, err);
}

int rb_session_manual_done(struct rb_session *s, int k, struct cs_err *err)
{
	struct rb_event ev;
	ev_init(&ev, "step-end");
	ev.step = k;
	ev.step_name = s->rb.steps[k - 1].name;
	ev.status = "manual";
	ev.text = "done by hand";
	ev.by = s->by;
	return append(s, &ev, err);
}

int rb_session_note(struct rb_session *s, const char *text, struct cs_err *err)
{
	if (!s->st || !s->id)
		return 0;
	return rb_note(s->st, s->id, text, s->by, err);
}

int rb_note(struct store *st, int64_t id, const char *text, const char *by, struct cs_err *err)
{
	struct rb_event ev;
	ev_init(&ev, "note");
	struct buf red = BUF_INIT;
	runbook_redact(text, strlen(text), NULL, &red);
	ev.text = (char *)buf_cstr(&red);
	ev.by = (char *)by;
	int rc = rbstore_append(st, id, &ev, err);
	buf_release(&red);
	return rc;
}

int rb_session_end(struct rb_session *s, const char *kind, const char *why, struct cs_err *err)
{
	struct rb_event ev;
	ev_init(&ev, kind);
	ev.text = (char *)why;
	ev.by = s->by;
	return append(s, &ev, err);
}

int rb_capture_names(const struct rb_step *step, char ***names, int *n)
{
	*names = NULL;
	*n = 0;
	if (!step->capture)
		return 0;
	const char *p = step->capture;
	while ((p = strstr(p, "(?"))) {
		p += 2;
		if (*p == 'P')
			p++;
		if (*p != '<' || p[1] == '=' || p[1] == '!')
			continue;
		p++;
		const char *e = p;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		if (*e == '>' && e > p) {
			*names = xrealloc(*names, sizeof(char *) * (size_t)(*n + 1));
			(*names)[(*n)++] = xstrndup(p, (size_t)(e - p));
		}
	}
	if (!*n) {
		char *v = runbook_capture_var(step);
		if (v) {
			*names = xmalloc(sizeof(char *));
			(*names)[(*n)++] = v;
		}
	}
	return *n;
}
