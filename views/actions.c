/* actions.c - the application's side of the framework's registry: its
 * action and colour-role tables (generated from VIEW_LIST, APP_ACTION_INFO
 * and APP_ROLE_INFO in views.h), the handler of the actions no view
 * consumed, and the selection (view_env) those actions open views from.
 *
 * The handler is the one place where an action turns the selection of the
 * focused view into another view or a request: view-NAME opens NAME (which
 * reads the selection of its parent in its open), rerun-failed and
 * dispatch take the selected run, fetch needs none.
 */
#include <string.h>

#include "core/util.h"
#include "views/common.h"
#include "views/remote.h"
#include "views/views.h"

static const struct tui_action_info app_actions[] = {
	/* view-NAME, each in its group: the framework merges rows of one
	 * title into one section, wherever they appear */
#define VIEW_ACT_ROW(name, e, group, help)                                                         \
	{ACT_NONE, group, NULL}, {(enum action)ACT_VIEW_##e, "view-" #name, help},
#define NO_ACT_ROW(name)
	VIEW_LIST(VIEW_ACT_ROW, NO_ACT_ROW)
#undef VIEW_ACT_ROW
#undef NO_ACT_ROW
#define ACT_ROW(e, name, help) {(enum action)ACT_##e, name, help},
#define GROUP_ROW(title) {ACT_NONE, title, NULL},
	APP_ACTION_INFO(ACT_ROW, GROUP_ROW)
#undef ACT_ROW
#undef GROUP_ROW
};

static const struct tui_role_info app_roles[] = {
#define ROLE_ROW(e, name, letter) {name, letter},
	APP_ROLE_INFO(ROLE_ROW)
#undef ROLE_ROW
};

static const struct view_ops *const all_views[] = {
#define VIEW_OPS_PTR(name, ...) &name##_view_ops,
	VIEW_LIST(VIEW_OPS_PTR, VIEW_OPS_PTR)
#undef VIEW_OPS_PTR
	NULL};

/* view-NAME -> NAME's ops */
static const struct {
	enum app_action a;
	const struct view_ops *ops;
} view_actions[] = {
#define VIEW_ACT_OPS(name, e, group, help) {ACT_VIEW_##e, &name##_view_ops},
#define NO_ACT_OPS(name)
	VIEW_LIST(VIEW_ACT_OPS, NO_ACT_OPS)
#undef VIEW_ACT_OPS
#undef NO_ACT_OPS
};

/* --- the selection ---------------------------------------------------------------- */
void view_env_of(struct view *v, struct view_env *env)
{
	memset(env, 0, sizeof(*env));
	if (v && v->ops->env)
		v->ops->env(v, env);
}

bool view_env_parent(struct view *v, struct view_env *env, bool job, const char *cmd)
{
	view_env_of(v->parent, env);
	if (job ? !env->job : !env->run) {
		tui_error("%s: no %s is selected here", cmd, job ? "job" : "run");
		return false;
	}
	return true;
}

void view_env_set_run(struct view_env *env, const struct run *r)
{
	env->run = r->id;
	env->run_rec = r;
	env->run_failed = ci_conclusion_is_failure(r->conclusion);
	env->in_run = true;
	snprintf(env->commit, sizeof(env->commit), "%s", r->sha ? r->sha : "");
}

bool view_env_run(const struct view_env *env, struct run *r, struct cs_err *err)
{
	char spec[32];
	err_clear(err);
	if (!env->run)
		return false;
	snprintf(spec, sizeof(spec), "#%lld", (long long)env->run);
	return store_find_run(app.st, spec, r, err) == 0;
}

/* X and D: the selected run (the view's own record when it has one). */
static void with_selected_run(struct view *v, void (*fn)(const struct run *r))
{
	struct view_env env;
	struct run r;
	struct cs_err err;

	view_env_of(v, &env);
	if (env.run_rec) {
		fn(env.run_rec);
	} else if (view_env_run(&env, &r, &err)) {
		fn(&r);
		run_free(&r);
	} else if (env.run) {
		tui_error("%s", err.msg);
	} else {
		fn(NULL);
	}
}

/* --- the actions ------------------------------------------------------------------- */
static bool app_action(struct view *v, enum action a)
{
	for (size_t i = 0; i < ARRAY_SIZE(view_actions); i++) {
		if ((int)a == (int)view_actions[i].a) {
			tui_open(view_actions[i].ops, NULL, OPEN_PUSH);
			return true;
		}
	}
	switch ((int)a) {
	case ACT_FETCH:
		remote_fetch(NULL);
		return true;
	case ACT_RERUN_FAILED:
		with_selected_run(v, remote_rerun);
		return true;
	case ACT_DISPATCH:
		with_selected_run(v, remote_dispatch);
		return true;
	default:
		return false;
	}
}

/* What an action does in one view where the generic words would mislead
 * (the help view, `ciscope keys` and the man page say this instead): / in
 * the runs view searches every log, not the list; the chart moves a point
 * cursor, not the rows of its drawing. */
static const struct {
	const char *view;
	enum action a;
	const char *help;
} view_help[] = {
	{"runs", ACT_SEARCH, "Search all logs (opens the search view with the matches)"},
	{"runs", ACT_SEARCH_BACK, "Search all logs (opens the search view with the matches)"},
	{"chart", ACT_SCROLL_LEFT, "Move to the previous (older) point"},
	{"chart", ACT_SCROLL_RIGHT, "Move to the next (newer) point"},
	{"chart", ACT_MOVE_UP, "Move to the previous change point"},
	{"chart", ACT_MOVE_DOWN, "Move to the next change point"},
	{"chart", ACT_PAGE_UP, "Move back a tenth of the points"},
	{"chart", ACT_PAGE_DOWN, "Move on a tenth of the points"},
	{"chart", ACT_HALF_PAGE_UP, "Move back a tenth of the points"},
	{"chart", ACT_HALF_PAGE_DOWN, "Move on a tenth of the points"},
	{"chart", ACT_MOVE_FIRST, "Move to the first (oldest) point"},
	{"chart", ACT_MOVE_LAST, "Move to the last (newest) point"},
	{"chart", ACT_ENTER, "Open the run of the point"},
	{"metrics", ACT_ENTER, "Open the chart of the metric"},
};

static const char *app_help_in(const char *keymap, enum action a)
{
	for (size_t i = 0; i < ARRAY_SIZE(view_help); i++)
		if (view_help[i].a == a && !strcmp(view_help[i].view, keymap))
			return view_help[i].help;
	return NULL;
}

static const struct tui_app the_app = {
	.actions = app_actions,
	.nactions = ARRAY_SIZE(app_actions),
	.roles = app_roles,
	.nroles = ARRAY_SIZE(app_roles),
	.views = all_views,
	.action = app_action,
	.help_in = app_help_in,
};

void app_register(void)
{
	if (tui_register_app(&the_app) < 0)
		die("the application's action or role table is invalid");
}
