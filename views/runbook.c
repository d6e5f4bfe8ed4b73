/* runbook.c - the runbook view: choose a runbook (bundled and the
 * repository's .ciscope/runbooks/) or a past instance, then step through it.
 *
 * Two faces in one view. The chooser lists the runbooks and the past
 * instances (newest first); Enter starts the runbook bound to the run
 * selected in the view it was opened from (a run, a triage finding), or
 * resumes the instance; d opens a runbook as a dry run (commands resolved
 * and shown, nothing run or recorded). The steps face shows the checklist
 * (state glyph, exit code, duration), then the selected step's prose, its
 * resolved command and its output.
 *
 * All running goes through the session of core/rbsession.h: the step's
 * pipe is watched by the event loop (tui_watch_fd) and pumped without
 * blocking; the step is pending work of the view, so Esc stops it (only the
 * step: its process group) and scripted tests wait for it. Output is kept
 * per step as the session hands it over and drawn through tui_text(), which
 * shows escape sequences visibly. Events go to the index through the
 * session: this file writes no SQL.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gitrepo.h"
#include "core/rbsession.h"
#include "core/rbstore.h"
#include "core/runbook.h"
#include "core/util.h"
#include "views/common.h"
#include "views/views.h"

enum rb_row_kind { ROW_SOURCE, ROW_INSTANCE };

struct chooser_row {
	enum rb_row_kind kind;
	char *name, *text; /* the runbook (or instance's runbook), the rest of the row */
	char *path;
	int64_t id;        /* instance */
	bool bad;          /* a runbook that does not parse */
};

struct step_view {
	int state;         /* enum rb_step_state, or -1 running */
	int exit;
	int64_t dur_ms;
	struct buf out;    /* output as the step printed it (redacted when stored) */
	bool stopped;
};

#define ST_RUNNING (-1)

struct rb_priv {
	bool steps_face;
	/* chooser */
	struct chooser_row *crows;
	int ncrows;
	char bind[32];     /* "#ROWID" of the run to bind, or "" */
	char bind_label[48]; /* how the title names it: its GitHub id and commit */
	/* steps */
	struct rb_session s;
	bool have_session, dry, ended;
	struct step_view *sv;
	int sel;           /* the selected step, 1-based */
	struct buf detail; /* the lines under the checklist, '\n'-separated */
	size_t *dline;     /* their offsets */
	int ndetail;
	int watched_fd;
	bool work;
	int64_t timer_due; /* monotonic ms of the armed timer, 0: none */
	struct view *v;
};

/* --- the chooser ---------------------------------------------------------------------- */
static void chooser_free(struct rb_priv *p)
{
	for (int i = 0; i < p->ncrows; i++) {
		free(p->crows[i].name);
		free(p->crows[i].text);
		free(p->crows[i].path);
	}
	free(p->crows);
	p->crows = NULL;
	p->ncrows = 0;
}

static struct chooser_row *crow_add(struct rb_priv *p)
{
	p->crows = xrealloc(p->crows, (size_t)(p->ncrows + 1) * sizeof(*p->crows));
	struct chooser_row *r = &p->crows[p->ncrows++];
	memset(r, 0, sizeof(*r));
	return r;
}

static int add_instance(void *ctx, const struct rb_instance *inst, int n_events, int64_t last_at)
{
	struct rb_priv *p = ctx;
	(void)last_at;
	struct chooser_row *r = crow_add(p);
	r->kind = ROW_INSTANCE;
	r->id = inst->id;
	r->name = xstrdup(inst->runbook);
	char when[32];
	time_format_iso(inst->started_at, when, sizeof(when));
	r->text = xasprintf("%-11s %s by %s, %d events%s%.7s", inst->state, when,
			    inst->started_by ? inst->started_by : "?", n_events,
			    inst->bound_sha ? ", bound to " : "",
			    inst->bound_sha ? inst->bound_sha : "");
	return 0;
}

static int chooser_load(struct rb_priv *p)
{
	chooser_free(p);
	struct cs_err err;
	err_clear(&err);
	char *top = gitrepo_top(NULL);
	struct rb_source *src = NULL;
	int n = 0;
	if (rb_sources(top, &src, &n, &err) < 0)
		tui_error("%s", err.msg);
	free(top);
	for (int i = 0; i < n; i++) {
		struct chooser_row *r = crow_add(p);
		r->kind = ROW_SOURCE;
		r->name = xstrdup(src[i].name);
		r->path = xstrdup(src[i].path);
		r->bad = src[i].error != NULL;
		r->text = xasprintf("%s%s%s", src[i].builtin ? "bundled     " : "repository  ",
				    src[i].error ? src[i].error : src[i].title,
				    src[i].overrides ? " (overrides the bundled one)" : "");
	}
	rb_sources_free(src, n);
	err_clear(&err);
	if (rbstore_list(app.st, 200, add_instance, p, &err) < 0)
		tui_error("%s", err.msg);
	return 0;
}

/* --- the steps face ----------------------------------------------------------------- */
static void detail_add(struct rb_priv *p, const char *s, size_t n)
{
	/* one row per line */
	while (true) {
		size_t k = 0;
		while (k < n && s[k] != '\n')
			k++;
		p->dline = xrealloc(p->dline, (size_t)(p->ndetail + 1) * sizeof(*p->dline));
		p->dline[p->ndetail++] = p->detail.len;
		buf_add(&p->detail, s, k);
		buf_addc(&p->detail, '\n');
		if (k >= n)
			break;
		s += k + 1;
		n -= k + 1;
		if (!n)
			break;
	}
}

static void detail_addf(struct rb_priv *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void detail_addf(struct rb_priv *p, const char *fmt, ...)
{
	char s[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	detail_add(p, s, strlen(s));
}

/* Prose as rows of at most width columns, broken at blanks (a word longer
 * than the width is cut by the drawing, not here). */
static void detail_wrap(struct rb_priv *p, const char *s, size_t n, int width)
{
	if (width < 8)
		width = 8;
	while (n) {
		size_t k = 0;
		while (k < n && s[k] != '\n')
			k++;
		const char *line = s;
		size_t len = k;
		do {
			size_t cut = len, last_blank = 0;
			for (size_t i = 0; i < len; i++) {
				if (line[i] == ' ')
					last_blank = i;
				if (tui_width(line, i + 1) > width) {
					cut = last_blank ? last_blank : i;
					break;
				}
			}
			if (cut == 0)
				cut = len;
			detail_add(p, line, cut);
			while (cut < len && line[cut] == ' ')
				cut++;
			line += cut;
			len -= cut;
		} while (len);
		if (k < n)
			k++;
		s += k;
		n -= k;
	}
}

/* The lines under the checklist for the selected step: its prose (with the
 * variables known so far), its resolved command, its output. */
static void detail_build(struct rb_priv *p)
{
	buf_reset(&p->detail);
	p->ndetail = 0;
	if (!p->sel || p->sel > p->s.rb.n_steps)
		return;
	const struct rb_step *st = &p->s.rb.steps[p->sel - 1];
	struct step_view *sv = &p->sv[p->sel - 1];
	detail_add(p, "", 0);
	detail_addf(p, "step %d: %s", st->number, st->title);
	if (st->prose && *st->prose) {
		struct buf prose = BUF_INIT;
		runbook_render_text(st->prose, &p->s.vars, &prose);
		detail_wrap(p, prose.data ? prose.data : "", prose.len, p->v->width - 1);
		buf_release(&prose);
	}
	if (st->manual && !st->command) {
		detail_addf(p, "(manual: do it, then Enter ticks it off)");
	} else if (st->command) {
		struct cs_err err;
		err_clear(&err);
		if (rb_session_resolve(&p->s, p->sel, &err) < 0) {
			detail_addf(p, "cannot run: %s", err.msg);
		} else {
			const char *c = buf_cstr(&p->s.shown);
			struct buf b = BUF_INIT;
			buf_adds(&b, "$ ");
			buf_adds(&b, c);
			detail_add(p, b.data, b.len);
			buf_release(&b);
		}
		struct buf a = BUF_INIT;
		if (st->sensitive)
			buf_adds(&a, " sensitive (asks; output not stored)");
		if (st->confirm)
			buf_addf(&a, " confirm: %s", st->confirm_text ? st->confirm_text : "asks first");
		if (st->timeout_ms)
			buf_addf(&a, " timeout %llds", (long long)(st->timeout_ms / 1000));
		if (st->retry > 1)
			buf_addf(&a, " retry %d every %llds until exit %d", st->retry,
				 (long long)(st->interval_ms / 1000), st->until_exit);
		if (a.len)
			detail_add(p, a.data + 1, a.len - 1);
		buf_release(&a);
	}
	if (sv->out.len) {
		detail_add(p, "", 0);
		detail_add(p, sv->out.data, sv->out.len);
	}
}

static void relayout(struct view *v)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face) {
		tui_view_set_rows(v, p->ncrows ? p->ncrows : 1);
		return;
	}
	detail_build(p);
	tui_view_set_rows(v, p->s.rb.n_steps + p->ndetail);
	tui_view_dirty(v);
}

static int runbook_load(struct view *v)
{
	relayout(v);
	return 0;
}

/* The states the instance's events give its steps (a resume). */
static void states_from_events(struct rb_priv *p)
{
	struct rb_instance inst;
	struct rb_event *evs = NULL;
	int n = 0;
	struct cs_err err;
	err_clear(&err);
	if (rbstore_get(app.st, p->s.id, &inst, &evs, &n, &err) < 0) {
		tui_error("%s", err.msg);
		return;
	}
	int ns = p->s.rb.n_steps;
	enum rb_step_state *states = xcalloc((size_t)ns + 1, sizeof(*states));
	rbstore_step_states(evs, n, ns, states);
	for (int k = 1; k <= ns; k++)
		p->sv[k - 1].state = states[k];
	for (int i = 0; i < n; i++) {
		const struct rb_event *e = &evs[i];
		if (e->step < 1 || e->step > ns || strcmp(e->kind, "step-end"))
			continue;
		struct step_view *sv = &p->sv[e->step - 1];
		sv->exit = e->exit;
		sv->dur_ms = e->duration_ms;
		buf_reset(&sv->out);
		if (e->output)
			buf_add(&sv->out, e->output, e->output_len);
	}
	free(states);
	rb_events_free(evs, n);
	rb_instance_free(&inst);
}

static int first_pending(const struct rb_priv *p)
{
	for (int k = 1; k <= p->s.rb.n_steps; k++)
		if (p->sv[k - 1].state != RBS_DONE && p->sv[k - 1].state != RBS_SKIPPED)
			return k;
	return 0;
}

/* Open the steps face: a new instance of spec (bound to p->bind), a dry
 * run of it, or a resume of instance id. */
static int steps_open(struct view *v, const char *spec, int64_t resume_id, bool dry)
{
	struct rb_priv *p = v->priv;
	struct cs_err err;
	err_clear(&err);
	char *top = gitrepo_top(NULL);
	struct runbook rb;
	char *text = NULL;
	size_t tn = 0;
	int rc = -1;
	struct rb_vars opts = {0};
	struct rb_instance inst;
	memset(&inst, 0, sizeof(inst));
	if (resume_id) {
		if (rbstore_get(app.st, resume_id, &inst, NULL, NULL, &err) < 0)
			goto fail;
		if (!strcmp(inst.state, "running")) {
			err_set(&err, CS_EINVAL, "runbook %lld is running in another ciscope",
				(long long)resume_id);
			goto fail;
		}
		spec = inst.path;
	}
	if (rb_load(top, spec, &rb, &text, &tn, &err) < 0) {
		if (!resume_id)
			goto fail;
		/* the file is gone: the text recorded when it started */
		err_clear(&err);
		if (runbook_parse(inst.path, inst.source, inst.source_len, &rb, &err) < 0)
			goto fail;
		text = xstrndup(inst.source, inst.source_len);
		tn = inst.source_len;
	}
	if (resume_id && (!strcmp(inst.state, "finished") || !strcmp(inst.state, "aborted"))) {
		/* nothing to continue: show what was done, read-only */
		dry = true;
	}
	if (dry && !resume_id) {
		rc = rb_session_begin(&p->s, app.st, &rb, text, tn, &opts,
				      p->bind[0] ? p->bind : NULL, "dry-run", &err);
	} else if (resume_id && dry) {
		rc = rb_session_begin(&p->s, app.st, &rb, text, tn, &opts, NULL, "dry-run", &err);
		if (rc == 0)
			p->s.id = resume_id; /* to read its events; nothing is recorded */
	} else if (resume_id) {
		int from = 0;
		struct buf now = BUF_INIT;
		rbstore_step_list(&rb, &now);
		if (strcmp(buf_cstr(&now), inst.steps))
			tui_message("the runbook's steps changed since it started: step numbers in "
				    "its log may not mean the same steps now");
		buf_release(&now);
		rc = rb_session_resume(&p->s, app.st, resume_id, &rb, text, tn, &opts, "paranoid",
				       &from, &err);
	} else {
		rc = rb_session_begin(&p->s, app.st, &rb, text, tn, &opts,
				      p->bind[0] ? p->bind : NULL, "paranoid", &err);
	}
	if (rc < 0)
		goto fail_owned;
	p->have_session = true;
	p->dry = dry;
	p->ended = dry;
	p->steps_face = true;
	p->sv = xcalloc((size_t)p->s.rb.n_steps + 1, sizeof(*p->sv));
	for (int k = 0; k < p->s.rb.n_steps; k++) {
		p->sv[k].exit = RB_NO_EXIT;
		p->sv[k].dur_ms = CS_TIME_NONE;
	}
	if (resume_id)
		states_from_events(p);
	p->sel = first_pending(p);
	if (!p->sel)
		p->sel = 1;
	rb_instance_free(&inst);
	free(top);
	v->hscroll = 0;
	relayout(v);
	tui_view_goto(v, p->sel - 1);
	if (dry && !resume_id)
		tui_message("dry run: commands are resolved and shown, nothing runs or is recorded");
	else if (p->s.orphan_pgid)
		tui_error("the interrupted step's processes (group %d) are still running",
			  p->s.orphan_pgid);
	return 0;
fail_owned:
	/* the session owns rb and text once begun, even when it failed */
	rb_session_release(&p->s);
	memset(&p->s, 0, sizeof(p->s));
	rb_instance_free(&inst);
	free(top);
	tui_error("%s", err.msg);
	return -1;
fail:
	rb_instance_free(&inst);
	free(top);
	tui_error("%s", err.msg);
	return -1;
}

/* --- running a step ------------------------------------------------------------------- */
static void on_output(void *ctx, const char *data, size_t n)
{
	struct rb_priv *p = ctx;
	if (p->s.step >= 1 && p->s.step <= p->s.rb.n_steps) {
		struct buf *o = &p->sv[p->s.step - 1].out;
		/* the screen keeps the last 256 KiB; the index keeps what core keeps */
		if (o->len > 256 * 1024) {
			size_t cut = o->len - 192 * 1024;
			memmove(o->data, o->data + cut, o->len - cut);
			o->len -= cut;
		}
		buf_add(o, data, n);
	}
}

static void pump(struct rb_priv *p);
static void step_ended(struct rb_priv *p, int k, int r, const struct cs_err *err);
static void unwatch(struct rb_priv *p);

static void on_fd(void *ctx, int fd, short revents)
{
	(void)fd;
	(void)revents;
	pump(ctx);
}

static void on_timer(struct view *v)
{
	struct rb_priv *p = v->priv;
	p->timer_due = 0;
	pump(p);
}

static void step_cancel(void *ctx)
{
	struct rb_priv *p = ctx;
	/* Esc: this step only (its process group); the pump records its end */
	int k = p->s.step;
	p->sv[k - 1].stopped = true;
	rb_session_stop(&p->s);
	struct cs_err err;
	err_clear(&err);
	int r = rb_session_wait(&p->s, on_output, p, NULL, &err);
	p->work = false; /* the loop removes the work itself */
	step_ended(p, k, r < 0 ? -1 : 0, &err);
}

static void step_progress(void *ctx, char *out, size_t n)
{
	struct rb_priv *p = ctx;
	snprintf(out, n, "step %d running%s (Esc stops it)", p->s.step,
		 p->s.waiting ? ", waiting to retry" : "");
}

static void unwatch(struct rb_priv *p)
{
	if (p->watched_fd >= 0)
		tui_unwatch_fd(p->watched_fd);
	p->watched_fd = -1;
}

static void maybe_finish(struct rb_priv *p)
{
	if (p->dry || p->ended || first_pending(p))
		return;
	struct cs_err err;
	err_clear(&err);
	if (rb_session_end(&p->s, "finished", NULL, &err) < 0)
		tui_error("%s", err.msg);
	else
		tui_message("runbook %lld finished: ciscope runbook report %lld", (long long)p->s.id,
			    (long long)p->s.id);
	p->ended = true;
}

/* The step under way ended (r from the session's pump: 0, or -1). */
static void step_ended(struct rb_priv *p, int k, int r, const struct cs_err *err)
{
	struct step_view *sv = &p->sv[k - 1];
	unwatch(p);
	if (p->work) {
		p->work = false;
		tui_work_stop(p);
	}
	if (r < 0) {
		sv->state = RBS_FAILED;
		tui_error("%s", err->msg);
	} else {
		const char *status = p->s.last_status;
		sv->exit = p->s.last_exit;
		sv->dur_ms = mono_ms() - p->s.step_mono;
		if (!strcmp(status, "ok") || !strcmp(status, "background")) {
			sv->state = RBS_DONE;
			tui_message("step %d %s (exit %d)", k, status, p->s.last_exit);
		} else {
			sv->state = RBS_FAILED;
			tui_error("step %d %s (exit %d): Enter runs it again, s skips it", k,
				  !strcmp(status, "timeout") ? "timed out" : status, p->s.last_exit);
		}
	}
	maybe_finish(p);
	relayout(p->v);
}

static void pump(struct rb_priv *p)
{
	if (!p->work)
		return;
	struct cs_err err;
	err_clear(&err);
	int k = p->s.step;
	int r = rb_session_pump(&p->s, on_output, p, &err);
	if (r > 0) {
		int fd = rb_session_fd(&p->s);
		if (fd != p->watched_fd) {
			unwatch(p);
			if (fd >= 0)
				tui_watch_fd(fd, POLLIN, on_fd, p);
			p->watched_fd = fd;
		}
		/* a deadline (timeout, the next attempt): one timer at a time
		 * unless an earlier one is needed; a stale one only pumps */
		int t = rb_session_timer(&p->s);
		int64_t due = t >= 0 ? mono_ms() + t : 0;
		if (t >= 0 && (!p->timer_due || due < p->timer_due)) {
			p->timer_due = due;
			view_timer(p->v, t, on_timer);
		}
		relayout(p->v);
		return;
	}
	step_ended(p, k, r, &err);
}

static void start_step(struct rb_priv *p, int k)
{
	struct cs_err err;
	err_clear(&err);
	struct step_view *sv = &p->sv[k - 1];
	buf_reset(&sv->out);
	sv->stopped = false;
	if (rb_session_start(&p->s, k, NULL, &err) < 0) {
		tui_error("step %d: %s", k, err.msg);
		return;
	}
	sv->state = ST_RUNNING;
	sv->exit = RB_NO_EXIT;
	p->watched_fd = -1;
	struct tui_work w = {
		.progress = step_progress, .cancel = step_cancel, .ctx = p, .owner = p->v};
	tui_work_start(&w);
	p->work = true;
	pump(p);
}

static void confirmed(void *ctx, bool yes)
{
	struct view *v = ctx;
	struct rb_priv *p = v->priv;
	if (!yes) {
		tui_message("step %d not run", p->sel);
		return;
	}
	start_step(p, p->sel);
}

static bool usable(struct rb_priv *p)
{
	if (p->dry) {
		tui_error("a dry run (or a closed instance): nothing runs or is recorded here");
		return false;
	}
	if (p->ended) {
		tui_error("runbook %lld has ended", (long long)p->s.id);
		return false;
	}
	if (p->work) {
		tui_error("step %d is running (Esc stops it)", p->s.step);
		return false;
	}
	return true;
}

static void run_selected(struct view *v)
{
	struct rb_priv *p = v->priv;
	if (!usable(p))
		return;
	int k = p->sel;
	const struct rb_step *st = &p->s.rb.steps[k - 1];
	struct cs_err err;
	err_clear(&err);
	if (st->manual || !st->command) {
		if (rb_session_manual_done(&p->s, k, &err) < 0) {
			tui_error("%s", err.msg);
			return;
		}
		p->sv[k - 1].state = RBS_DONE;
		tui_message("step %d ticked off", k);
		maybe_finish(p);
		relayout(v);
		return;
	}
	if (rb_session_resolve(&p->s, k, &err) < 0) {
		tui_error("step %d cannot run: %s", k, err.msg);
		return;
	}
	if (st->sensitive || st->confirm) {
		char *title = xasprintf("step %d: %s", k, st->title);
		char *text = xasprintf("%s\n\n$ %s", st->sensitive ? "A sensitive step: its output "
								     "is not stored." : "",
				       buf_cstr(&p->s.shown));
		char *q = xasprintf("%s [y/N]", st->confirm_text ? st->confirm_text
								  : "Run this step?");
		confirm_open(title, text, q, confirmed, v);
		free(title);
		free(text);
		free(q);
		return;
	}
	start_step(p, k);
}

static void skip_selected(struct view *v)
{
	struct rb_priv *p = v->priv;
	if (!usable(p))
		return;
	struct cs_err err;
	err_clear(&err);
	if (rb_session_skip(&p->s, p->sel, "skipped by the operator", &err) < 0) {
		tui_error("%s", err.msg);
		return;
	}
	p->sv[p->sel - 1].state = RBS_SKIPPED;
	tui_message("step %d skipped", p->sel);
	maybe_finish(p);
	relayout(v);
}

static void note_done(void *ctx, const char *text)
{
	struct view *v = ctx;
	struct rb_priv *p = v->priv;
	if (!text || !*text)
		return;
	struct cs_err err;
	err_clear(&err);
	if (rb_session_note(&p->s, text, &err) < 0)
		tui_error("%s", err.msg);
	else
		tui_message("note recorded in runbook %lld", (long long)p->s.id);
}

/* v: a value for a variable the step lacks (or to override one), as
 * --var gives it; recorded with the step that uses it. */
static void var_done(void *ctx, const char *text)
{
	struct view *v = ctx;
	struct rb_priv *p = v->priv;
	if (!text || !*text)
		return;
	const char *eq = strchr(text, '=');
	char *name = eq ? xstrndup(text, (size_t)(eq - text)) : NULL;
	if (!name || !rb_var_name_valid(name))
		tui_error("give NAME=VALUE (a name is letters, digits and _)");
	else
		rb_vars_set(&p->s.vars, name, eq + 1, RBV_PROMPT, false);
	free(name);
	relayout(v);
}

static void abort_done(void *ctx, bool yes)
{
	struct view *v = ctx;
	struct rb_priv *p = v->priv;
	if (!yes || p->ended)
		return;
	struct cs_err err;
	err_clear(&err);
	if (rb_session_end(&p->s, "aborted", "aborted by the operator", &err) < 0)
		tui_error("%s", err.msg);
	else
		tui_message("runbook %lld aborted", (long long)p->s.id);
	p->ended = true;
}

/* --- ops ---------------------------------------------------------------------------- */
static int runbook_open(struct view *v, void *arg)
{
	struct rb_priv *p = v->priv;
	const struct runbook_view_arg *a = arg;
	p->v = v;
	p->watched_fd = -1;
	/* bind the run selected where the view was opened from */
	struct view_env env;
	view_env_of(v->parent, &env);
	if (env.run) {
		snprintf(p->bind, sizeof(p->bind), "#%lld", (long long)env.run);
		struct run r;
		struct cs_err err;
		if (view_env_run(&env, &r, &err)) {
			snprintf(p->bind_label, sizeof(p->bind_label), "%lld at %.7s",
				 (long long)r.provider_id, r.sha ? r.sha : "-");
			run_free(&r);
		} else {
			snprintf(p->bind_label, sizeof(p->bind_label), "%s", p->bind);
		}
	}
	if (a && (a->name || a->resume_id))
		return steps_open(v, a->name, a->resume_id, a->dry_run);
	chooser_load(p);
	relayout(v);
	return 0;
}

static const char *glyph_of(int state)
{
	switch (state) {
	case ST_RUNNING: return tui_glyph("\xe2\x97\x8f", "*");   /* ● */
	case RBS_DONE: return tui_glyph("\xe2\x9c\x93", "+");     /* ✓ */
	case RBS_FAILED: return tui_glyph("\xe2\x9c\x97", "x");   /* ✗ */
	case RBS_SKIPPED: return tui_glyph("\xe2\x86\xb7", ">");  /* ↷ */
	case RBS_INTERRUPTED: return tui_glyph("\xe2\x97\x8c", "!"); /* ◌ */
	default: return tui_glyph("\xe2\x97\x8b", "o");           /* ○ */
	}
}

static enum role role_of(int state)
{
	switch (state) {
	case ST_RUNNING: return ROLE_RUNNING;
	case RBS_DONE: return ROLE_SUCCESS;
	case RBS_FAILED: return ROLE_FAILURE;
	case RBS_SKIPPED: return ROLE_SKIPPED;
	case RBS_INTERRUPTED: return ROLE_WARNING_LINE;
	default: return ROLE_DEFAULT;
	}
}

static void runbook_draw(struct view *v, struct tui_canvas *c, long row)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face) {
		if (!p->ncrows) {
			tui_text(c, "no runbooks", (size_t)-1, ROLE_DIM, 0, 0);
			return;
		}
		const struct chooser_row *r = &p->crows[row];
		if (r->kind == ROW_INSTANCE) {
			char id[24];
			snprintf(id, sizeof(id), "#%lld", (long long)r->id);
			tui_column(c, id, ROLE_LINENO, 5, TEXT_RIGHT);
		} else {
			tui_column(c, "", ROLE_DEFAULT, 5, 0);
		}
		int w = tui_canvas_width(c) - tui_canvas_col(c);
		tui_column(c, r->name, r->bad ? ROLE_ERROR_LINE : ROLE_HEADER, MIN(22, MAX(8, w / 2)), 0);
		tui_text(c, r->text, (size_t)-1, r->bad ? ROLE_ERROR_LINE : ROLE_DEFAULT, 0, 0);
		return;
	}
	int ns = p->s.rb.n_steps;
	if (row < ns) {
		const struct rb_step *st = &p->s.rb.steps[row];
		const struct step_view *sv = &p->sv[row];
		tui_text(c, glyph_of(sv->state), (size_t)-1, role_of(sv->state), 2, TEXT_PAD);
		char num[16];
		snprintf(num, sizeof(num), "%d", st->number);
		tui_column(c, num, ROLE_LINENO, 3, TEXT_RIGHT);
		char res[64] = "";
		if (sv->state == RBS_DONE || sv->state == RBS_FAILED) {
			char d[24] = "";
			if (sv->dur_ms != CS_TIME_NONE)
				time_format_duration(sv->dur_ms, d, sizeof(d));
			if (sv->exit != RB_NO_EXIT)
				snprintf(res, sizeof(res), "exit %d %s", sv->exit, d);
			else
				snprintf(res, sizeof(res), "%s", sv->state == RBS_DONE ? "done" : "failed");
		} else if (sv->state == RBS_SKIPPED) {
			snprintf(res, sizeof(res), "skipped");
		} else if (sv->state == ST_RUNNING) {
			snprintf(res, sizeof(res), "running");
		} else if (sv->state == RBS_INTERRUPTED) {
			snprintf(res, sizeof(res), "interrupted");
		}
		int w = tui_canvas_width(c) - tui_canvas_col(c);
		int rw = w >= 40 ? 16 : 0;
		tui_column(c, st->title, row + 1 == p->sel ? ROLE_HEADER : ROLE_DEFAULT,
			   MAX(1, w - rw - 1), 0);
		if (rw)
			tui_text(c, res, (size_t)-1, role_of(sv->state), rw, 0);
		return;
	}
	long i = row - ns;
	if (i >= p->ndetail)
		return;
	size_t off = p->dline[i];
	size_t end = i + 1 < p->ndetail ? p->dline[i + 1] - 1 : p->detail.len - 1;
	const char *s = p->detail.data + off;
	enum role role = ROLE_DEFAULT;
	if (i == 1)
		role = ROLE_HEADER;
	else if (end - off >= 2 && !strncmp(s, "$ ", 2))
		role = ROLE_COMMAND_LINE;
	else if (end - off >= 12 && !strncmp(s, "cannot run: ", 12))
		role = ROLE_ERROR_LINE;
	tui_text(c, s, end - off, role, 0, 0);
}

static void runbook_select(struct view *v, long row)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face || row >= p->s.rb.n_steps || row + 1 == p->sel)
		return;
	p->sel = (int)row + 1;
	relayout(v);
}

static enum action runbook_request(struct view *v, enum action a, unsigned *eff)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face) {
		if (!p->ncrows || v->cursor >= p->ncrows)
			return a;
		const struct chooser_row *r = &p->crows[v->cursor];
		if (a == ACT_ENTER || (int)a == ACT_RUNBOOK_RUN || (int)a == ACT_RUNBOOK_DRY_RUN) {
			bool dry = (int)a == ACT_RUNBOOK_DRY_RUN;
			char *spec = xstrdup(r->kind == ROW_SOURCE ? r->path : "");
			int64_t id = r->kind == ROW_INSTANCE ? r->id : 0;
			if (steps_open(v, id ? NULL : spec, id, dry && !id) == 0)
				chooser_free(p);
			free(spec);
			*eff |= EFF_REDRAW;
			return ACT_NONE;
		}
		return a;
	}
	switch ((int)a) {
	case ACT_ENTER:
	case ACT_RUNBOOK_RUN:
	case ACT_RUNBOOK_RETRY:
		run_selected(v);
		break;
	case ACT_RUNBOOK_SKIP:
		skip_selected(v);
		break;
	case ACT_RUNBOOK_NOTE:
		if (p->dry) {
			tui_error("a dry run records nothing");
			break;
		}
		tui_prompt("note: ", NULL, note_done, v);
		break;
	case ACT_RUNBOOK_SET_VAR:
		tui_prompt("NAME=VALUE: ", NULL, var_done, v);
		break;
	case ACT_RUNBOOK_ABORT:
		if (usable(p))
			tui_confirm("Abort this runbook (recorded, cannot be resumed)? [y/N]", abort_done, v);
		break;
	default:
		return a;
	}
	*eff |= EFF_REDRAW;
	return ACT_NONE;
}

static void runbook_title(struct view *v, char *out, size_t n)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face) {
		snprintf(out, n, "runbooks%s%s", p->bind[0] ? " - Enter binds run " : "",
			 p->bind_label);
		return;
	}
	const struct rb_index_ctx *x = &p->s.ictx;
	char bound[96] = "";
	if (x->have_bound)
		snprintf(bound, sizeof(bound), " - run %lld at %.7s", (long long)x->bound.provider_id,
			 x->bound.sha ? x->bound.sha : "-");
	char id[32] = "";
	if (p->s.id)
		snprintf(id, sizeof(id), " #%lld", (long long)p->s.id);
	snprintf(out, n, "runbook %s%s%s%s", p->s.rb.name, id, p->dry ? " (dry run)" : "", bound);
}

static void runbook_status(struct view *v, char *out, size_t n)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face) {
		snprintf(out, n, "%d entries", p->ncrows);
		return;
	}
	int done = 0;
	for (int k = 0; k < p->s.rb.n_steps; k++)
		done += p->sv[k].state == RBS_DONE || p->sv[k].state == RBS_SKIPPED;
	snprintf(out, n, "%d/%d steps%s", done, p->s.rb.n_steps, p->ended && !p->dry ? ", ended" : "");
}

static bool runbook_match(struct view *v, long row, const char *query)
{
	struct rb_priv *p = v->priv;
	if (!p->steps_face)
		return row < p->ncrows && (strstr(p->crows[row].name, query) ||
					   strstr(p->crows[row].text, query));
	if (row < p->s.rb.n_steps)
		return strstr(p->s.rb.steps[row].title, query) != NULL;
	long i = row - p->s.rb.n_steps;
	if (i >= p->ndetail)
		return false;
	size_t off = p->dline[i];
	size_t end = i + 1 < p->ndetail ? p->dline[i + 1] - 1 : p->detail.len - 1;
	return memmem(p->detail.data + off, end - off, query, strlen(query)) != NULL;
}

static void runbook_env(struct view *v, void *envp)
{
	struct rb_priv *p = v->priv;
	struct view_env *env = envp;
	if (p->steps_face && p->s.ictx.have_bound) {
		env->run = p->s.ictx.bound.id;
		env->run_rec = &p->s.ictx.bound;
		if (p->s.ictx.bound.sha)
			snprintf(env->commit, sizeof(env->commit), "%s", p->s.ictx.bound.sha);
	}
}

static void runbook_done(struct view *v)
{
	struct rb_priv *p = v->priv;
	view_timers_cancel(v);
	if (p->have_session) {
		struct cs_err err;
		err_clear(&err);
		if (p->work) {
			/* closing the view stops the step; its end is recorded */
			rb_session_stop(&p->s);
			rb_session_wait(&p->s, on_output, p, NULL, &err);
			unwatch(p);
			tui_work_stop(p);
			p->work = false;
		}
		if (!p->ended)
			rb_session_end(&p->s, "stopped", "the runbook view was closed", &err);
	}
	if (p->sv)
		for (int k = 0; k < p->s.rb.n_steps + 1; k++)
			buf_release(&p->sv[k].out);
	free(p->sv);
	if (p->have_session)
		rb_session_release(&p->s);
	buf_release(&p->detail);
	free(p->dline);
	chooser_free(p);
}

const struct view_ops runbook_view_ops = {
	.name = "runbook",
	.private_size = sizeof(struct rb_priv),
	.open = runbook_open,
	.load = runbook_load,
	.draw = runbook_draw,
	.request = runbook_request,
	.command = views_command,
	.title = runbook_title,
	.status = runbook_status,
	.match = runbook_match,
	.select = runbook_select,
	.env = runbook_env,
	.done = runbook_done,
	.min_width = 24,
	.min_height = 4,
};
