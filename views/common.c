/* common.c - helpers shared by the views (see common.h). */
#include "views/common.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/bisect.h"
#include "core/cistate.h"
#include "core/search.h"
#include "core/store.h"
#include "core/util.h"
#include "views/remote.h"
#include "views/views.h"

extern char **environ;

/* --- states -------------------------------------------------------------------- */
/* The glyphs are core's (cistate.h), shared with the CLI; the roles are ours. */
const char *view_state_glyph(const char *state)
{
	const struct ci_state_look *l = ci_state_look(state);
	return l ? tui_glyph(l->utf8, l->ascii) : "?";
}

enum role view_state_role(const char *state)
{
	switch (ci_state_kind(state)) {
	case CI_STATE_SUCCESS:
		return ROLE_SUCCESS;
	case CI_STATE_FAILURE:
		return ROLE_FAILURE;
	case CI_STATE_SKIPPED:
		return ROLE_SKIPPED;
	case CI_STATE_RUNNING:
		return ROLE_RUNNING;
	case CI_STATE_OTHER:
	default:
		return ROLE_DIM;
	}
}

const char *view_state_of(const char *status, const char *conclusion)
{
	if (conclusion && *conclusion)
		return conclusion;
	return status && *status ? status : "unknown";
}

void view_fmt_count(long long n, char *out, size_t len)
{
	char digits[32];
	unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
	int k = snprintf(digits, sizeof(digits), "%llu", u);
	char tmp[48];
	size_t o = 0;
	if (n < 0)
		tmp[o++] = '-';
	for (int i = 0; i < k; i++) {
		if (i && (k - i) % 3 == 0)
			tmp[o++] = ',';
		tmp[o++] = digits[i];
	}
	tmp[o] = '\0';
	snprintf(out, len, "%s", tmp);
}

/* --- opening URLs ------------------------------------------------------------------ */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[4096];
		if (n > 0 && n + strlen(prog) + 2 < sizeof(full)) {
			snprintf(full, sizeof(full), "%.*s/%s", (int)n, path, prog);
			if (access(full, X_OK) == 0)
				return true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* Children are reaped by a polling timer: the view that opened a URL may be
 * gone by the time the browser launcher exits. */
static void reap(void *ctx)
{
	pid_t pid = (pid_t)(intptr_t)ctx;
	static int tries;
	if (waitpid(pid, NULL, WNOHANG) == 0 && ++tries < 120)
		tui_timer(500, reap, ctx);
	else
		tries = 0;
}

int view_open_url(const char *url, char *msg, size_t len)
{
	if (!url || !*url) {
		snprintf(msg, len, "no URL is known for this item");
		return -1;
	}
	if (strncmp(url, "https://", 8) != 0) {
		snprintf(msg, len, "not opening a URL that is not https://");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			snprintf(msg, len, "not opening a URL holding spaces or control characters");
			return -1;
		}
	}
	if (strlen(url) > 2048) {
		snprintf(msg, len, "not opening a URL of %zu bytes", strlen(url));
		return -1;
	}
	if (!on_path("xdg-open")) {
		snprintf(msg, len, "xdg-open is not installed; the URL is %.300s", url);
		return -1;
	}
	/* Without a display xdg-open may start a text browser on this very
	 * terminal, under the running UI. */
	const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	if ((!d || !*d) && (!w || !*w)) {
		snprintf(msg, len, "no graphical display to open a browser on; the URL is %.300s",
			 url);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"xdg-open", (char *)url, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(msg, len, "cannot run xdg-open: %s", strerror(rc));
		return -1;
	}
	tui_timer(500, reap, (void *)(intptr_t)pid);
	snprintf(msg, len, "opening %.300s", url);
	return 0;
}

/* --- timers ---------------------------------------------------------------------- */
struct vtimer {
	struct view *v;
	void (*cb)(struct view *v);
	bool dead;
	struct vtimer *next;
};
static struct vtimer *timers;

static void fire(void *ctx)
{
	struct vtimer *t = ctx;
	for (struct vtimer **p = &timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	if (!t->dead)
		t->cb(t->v);
	free(t);
}

void view_timer(struct view *v, int ms, void (*cb)(struct view *v))
{
	struct vtimer *t = xcalloc(1, sizeof(*t));
	t->v = v;
	t->cb = cb;
	t->next = timers;
	timers = t;
	tui_timer(ms, fire, t);
}

void view_timers_cancel(struct view *v)
{
	for (struct vtimer *t = timers; t; t = t->next)
		if (t->v == v)
			t->dead = true;
}

void views_data_changed(void)
{
	/* the callbacks arm new timers (in front of the list): take the
	 * pending ones first, each retired so its own tick does nothing */
	size_t n = 0;
	for (struct vtimer *t = timers; t; t = t->next)
		n += !t->dead;
	if (!n)
		return;
	struct vtimer *due = xcalloc(n, sizeof(*due));
	size_t k = 0;
	for (struct vtimer *t = timers; t && k < n; t = t->next) {
		if (!t->dead) {
			due[k++] = *t;
			t->dead = true;
		}
	}
	for (size_t i = 0; i < k; i++)
		due[i].cb(due[i].v);
	free(due);
}

void view_timers_free_all(void)
{
	while (timers) {
		struct vtimer *t = timers;
		timers = t->next;
		free(t);
	}
}

/* --- searching ---------------------------------------------------------------------- */
struct matcher *view_user_matcher(const char *query, char *note, size_t len)
{
	struct cs_err err;
	note[0] = '\0';
	if (!query || !*query)
		return NULL;
	bool regex = strpbrk(query, ".[]()*+?{}|^$\\") != NULL;
	struct matcher *m = regex ? matcher_new(query, MATCH_REGEX, &err) : NULL;
	if (!m) {
		if (regex)
			snprintf(note, len, "%s; searching for the text", err.msg);
		m = matcher_new(query, 0, &err);
	}
	return m;
}

/* --- commands ----------------------------------------------------------------------- */
void view_open_log_search(const char *query)
{
	struct search_view_arg arg = {.query = query, .flags = MATCH_REGEX};
	tui_open(&search_view_ops, &arg, OPEN_PUSH);
}

bool views_command(struct view *v, const char *cmd, const char *arg, unsigned *eff)
{
	(void)v;
	if (!strcmp(cmd, "triage")) {
		/* :triage [FILTER]: the triage view, filtered (category:, state:, ...) */
		struct triage_view_arg a = {.filter = arg};
		tui_open(&triage_view_ops, &a, OPEN_PUSH);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (diff_command(v, cmd, arg, eff))
		return true;
	if (!strcmp(cmd, "commits")) {
		/* :commits [BRANCH] */
		struct commits_view_arg a = {.branch = arg && *arg ? arg : NULL};
		tui_open(&commits_view_ops, &a, OPEN_PUSH);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "metrics")) {
		/* :metrics [FILTER] */
		struct metrics_view_arg a = {.filter = arg ? arg : ""};
		tui_open(&metrics_view_ops, &a, OPEN_PUSH);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "bisect")) {
		/* :bisect, :bisect reset, :bisect start KIND:VALUE [BAD] */
		if (arg && !strcmp(arg, "reset")) {
			struct cs_err err;
			err_clear(&err);
			if (bisect_reset(app.st, &err) < 0)
				tui_error("%s", err.msg);
			else
				tui_message("bisection reset (kept in the index)");
		} else if (arg && !strncmp(arg, "start ", 6)) {
			char *t = xstrdup(arg + 6), *sp = strchr(t, ' ');
			if (sp)
				*sp++ = '\0';
			struct bisect_view_arg a = {.target = t, .bad = sp && *sp ? sp : NULL};
			tui_open(&bisect_view_ops, &a, OPEN_PUSH);
			free(t);
		} else if (arg && *arg) {
			tui_error("usage: :bisect [start KIND:VALUE [BAD] | reset]");
		} else {
			struct bisect_view_arg a = {0};
			tui_open(&bisect_view_ops, &a, OPEN_PUSH);
		}
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "runbook")) {
		/* :runbook [NAME|ID] - a runbook by name or file, a past instance
		 * by its number, else the chooser */
		struct runbook_view_arg a = {0};
		char *end = NULL;
		long long id = arg && *arg ? strtoll(arg, &end, 10) : 0;
		if (id > 0 && end && !*end)
			a.resume_id = id;
		else if (arg && *arg)
			a.name = arg;
		tui_open(&runbook_view_ops, &a, OPEN_PUSH);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "fetch")) {
		remote_fetch(arg && *arg ? arg : NULL);
		*eff |= EFF_REDRAW;
		return true;
	}
	if (!strcmp(cmd, "search")) {
		if (!arg || !*arg)
			tui_error("usage: :search TEXT (searches every stored log)");
		else
			view_open_log_search(arg);
		*eff |= EFF_REDRAW;
		return true;
	}
	return false;
}

void view_run_jobs_free(struct run *run, bool *have_run, struct job **jobs, int *n_jobs)
{
	if (*have_run)
		run_free(run);
	*have_run = false;
	store_jobs_free(*jobs, *n_jobs);
	*jobs = NULL;
	*n_jobs = 0;
}
