/* common.c - helpers the CLI's commands share (see cli.h). */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sanitize.h"

int cli_exit_for(const struct cs_err *err)
{
	switch (err->code) {
	case CS_EUSAGE: return EXIT_USAGE;
	case CS_ENOTFOUND: return EXIT_NOTFOUND;
	case CS_EINTR: return EXIT_INTR;
	default: return EXIT_ERROR;
	}
}

void cli_put_text(struct buf *b, const char *s)
{
	s = s ? s : "-";
	sanitize_append(b, s, strlen(s), SAN_KEEP_TAB);
}

int cli_json_opts(const char *name, int argc, char **argv, bool *json)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	*json = false;
	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'j': *json = true; break;
		case 'h': cli_command_usage(name, stdout); return EXIT_OK;
		default: return cli_bad_usage(name);
		}
	}
	return -1;
}

void cli_put_lines(struct cli *c, struct buf *b)
{
	char *s = (char *)buf_cstr(b);
	while (*s) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		cli_put(c, s, true);
		if (!nl)
			break;
		fputc('\n', stdout);
		s = nl + 1;
	}
}
