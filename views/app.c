/* app.c - starting the terminal UI on an open index. */
#include <stdio.h>
#include <stdlib.h>

#include "core/gitrepo.h"
#include "core/util.h"
#include "views/common.h"
#include "views/remote.h"
#include "views/views.h"

extern const char default_conf[]; /* data/default.conf, compiled in */

struct app app;

int app_main(struct store *st, const char *db_path, bool no_color)
{
	app.st = st;
	app.db_path = db_path;
	/* commit subjects come from the checkout ciscope runs in, if any */
	app.repo = gitrepo_open(NULL);

	const char *script = getenv("CISCOPE_SCRIPT");
	const char *out = getenv("CISCOPE_SCRIPT_OUTPUT");
	const char *first = getenv("CISCOPE_EXIT_AFTER_FIRST_FRAME");
	struct tui_opts opts = {
		.no_color = no_color,
		.script_path = script && *script ? script : NULL,
		/* tests: the bytes a terminal would get, to prove none is raw */
		.script_output = out && *out ? out : NULL,
		.default_config = default_conf,
		/* benchmarks: time to the first complete frame */
		.exit_after_first_frame = first && *first == '1',
	};
	/* the views, actions and colour roles (views/actions.c) */
	app_register();
	char err[1024];
	if (tui_init(&opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "ciscope: %s\n", err);
		gitrepo_close(app.repo);
		app.repo = NULL;
		return 1;
	}
	/* running out of memory restores the terminal before the message */
	util_set_oom_hook(tui_shutdown);
	/* if the list cannot open, tui_run() says why and returns 1 */
	tui_open(&runs_view_ops, NULL, OPEN_PUSH);
	remote_init();
	int rc = tui_run();
	/* a fetch under way stops; the runs it finished stay imported */
	remote_shutdown();
	tui_shutdown();
	util_set_oom_hook(NULL);
	view_timers_free_all();
	gitrepo_close(app.repo);
	app.repo = NULL;
	return rc;
}
