/* common.c - helpers the CLI's commands share (see cli.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/chart.h"
#include "core/sanitize.h"

const char *cli_sep(const struct cli *c)
{
	return c->utf8 ? " \xc2\xb7 " : " - ";
}

int cli_exit_for(const struct cs_err *err, int on_intr)
{
	switch (err->code) {
	case CS_EUSAGE: return EXIT_USAGE;
	case CS_ENOTFOUND: return EXIT_NOTFOUND;
	case CS_EINTR: return on_intr;
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

long cli_opt_range(const char *cmd, const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi) {
		cli_error("%s: %s needs a number from %ld to %ld, not '%s'", cmd, opt, lo, hi, v);
		return -1;
	}
	return n;
}

int cli_chart_width(long width)
{
	if (width)
		return (int)width;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return MIN(ws.ws_col, 100);
	const char *cols = getenv("COLUMNS");
	int n = cols ? atoi(cols) : 0;
	return MIN(n >= 20 ? n : 80, 100);
}

void cli_chart_lines(const struct cli *c, const struct chart_text *t, struct buf *b,
		     const char *(*sgr)(int role))
{
	for (int i = 0; i < t->n; i++) {
		const struct chart_line *l = &t->lines[i];
		for (int k = 0; k < l->n_spans; k++) {
			const char *on = c->color ? sgr(l->spans[k].role) : "";
			buf_adds(b, on);
			buf_add(b, l->text + l->spans[k].off, l->spans[k].len);
			if (*on)
				buf_adds(b, "\033[0m");
		}
		buf_addc(b, '\n');
	}
}
