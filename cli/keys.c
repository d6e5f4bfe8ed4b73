/* keys.c - `ciscope keys`: the bindings table the help view shows, for the
 * terminal and for the man page (generated from the same action table). */
#include <string.h>

#include "cli/cli.h"
#include "tui/tui.h"
#include "views/views.h"

int cmd_keys(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		cli_command_usage("keys", stdout);
		return EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--man") != 0)) {
		cli_error("keys: unknown argument '%s'", argv[argc > 2 && !strcmp(argv[1], "--man") ? 2 : 1]);
		cli_command_usage("keys", stderr);
		return EXIT_USAGE;
	}
	/* the application's actions and roles are in the tables too */
	app_register();
	if (argc == 2)
		tui_print_keys_man(stdout);
	else
		tui_print_keys_text(stdout);
	return EXIT_OK;
}
