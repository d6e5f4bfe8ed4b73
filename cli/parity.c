/* parity.c - `ciscope parity`: the parity report of a run (or of a run
 * against another), with a chart in the terminal or as SVG. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/chart.h"
#include "core/parity.h"

static void num(struct buf *b, double v, int prec)
{
	if (isnan(v))
		buf_adds(b, "NaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "inf" : "-inf");
	else
		buf_addf(b, "%.*g", prec, v);
}

static void step(struct buf *b, double x)
{
	char t[40];
	chart_format_num(x, t, sizeof(t));
	buf_adds(b, t);
}

static void run_line(struct cli *c, struct buf *b, const char *what, const struct run *r)
{
	buf_addf(b, "%s run %lld", what, (long long)r->provider_id);
	if (r->attempt > 1)
		buf_addf(b, ":%d", r->attempt);
	buf_addf(b, "%s%s%s%s%s%.7s", cli_sep(c), r->workflow ? r->workflow : "-", cli_sep(c),
		 r->branch ? r->branch : "-", cli_sep(c), r->sha ? r->sha : "-");
	const char *st = run_state(r);
	buf_addf(b, "%s%s%s%s\n", cli_sep(c), cli_color(c, st), st, cli_reset(c));
}

static void text_channel(struct cli *c, struct buf *b, const struct parity_channel *ch, int w)
{
	const char *state = ch->tol.informational ? "info" : ch->fail ? "FAIL" : "pass";
	const char *col = ch->tol.informational ? cli_color(c, "neutral")
			: ch->fail ? cli_color(c, "failure") : cli_color(c, "success");
	buf_addf(b, "%-*s  %s%s%s  %ld/%ld steps beyond tolerance", w, ch->name, col, state,
		 cli_reset(c), ch->violations, ch->steps);
	if (ch->missing)
		buf_addf(b, ", %ld with a value on one side only", ch->missing);
	buf_addc(b, '\n');
	buf_adds(b, "  first violation  ");
	if (ch->first_violation.set) {
		buf_adds(b, "step ");
		step(b, ch->first_violation.x);
		buf_adds(b, cli_sep(c));
		if (ch->first_sustained.set) {
			buf_adds(b, "sustained from step ");
			step(b, ch->first_sustained.x);
			buf_addf(b, " (%d in a row)", ch->tol.sustained);
		} else {
			buf_addf(b, "never %d in a row", ch->tol.sustained);
		}
	} else {
		buf_adds(b, "none");
	}
	buf_addc(b, '\n');
	if (ch->n_first_steps > 1 || (ch->n_first_steps == 1 && ch->violations > 1)) {
		/* the first violating steps with their values, as pytest.approx
		 * lists mismatched elements */
		char lab[32];
		snprintf(lab, sizeof(lab), "first %d steps", ch->n_first_steps);
		buf_addf(b, "  %-17s", lab);
		for (int k = 0; k < ch->n_first_steps; k++) {
			const struct parity_worst *fs = &ch->first_steps[k];
			if (k)
				buf_adds(b, "                   ");
			buf_adds(b, "step ");
			step(b, fs->x);
			buf_adds(b, ": ");
			num(b, fs->excess, 3);
			buf_adds(b, "x");
			if (ch->delta_only) {
				buf_adds(b, ", delta ");
				num(b, fs->cand, 15);
			} else {
				if (isfinite(fs->ref) && isfinite(fs->cand)) {
					buf_adds(b, ", |d| ");
					num(b, fabs(fs->cand - fs->ref), 3);
				}
				/* 15 digits: the difference shows where it is in the values */
				buf_adds(b, ", ref ");
				num(b, fs->ref, 15);
				buf_adds(b, ", cand ");
				num(b, fs->cand, 15);
			}
			buf_addc(b, '\n');
		}
	}
	if (ch->worst.set) {
		buf_adds(b, "  worst excess     ");
		num(b, ch->worst.excess, 3);
		buf_adds(b, "x tolerance at step ");
		step(b, ch->worst.x);
		if (ch->delta_only) {
			buf_adds(b, ": delta ");
			num(b, ch->worst.cand, 15);
		} else {
			buf_adds(b, ": ref ");
			num(b, ch->worst.ref, 15);
			buf_adds(b, ", cand ");
			num(b, ch->worst.cand, 15);
		}
		buf_addc(b, '\n');
	}
	if (ch->max_abs.set) {
		buf_adds(b, "  max |d|          ");
		num(b, ch->max_abs.value, 3);
		buf_adds(b, " at step ");
		step(b, ch->max_abs.x);
		if (ch->max_rel.set) {
			buf_adds(b, cli_sep(c));
			buf_adds(b, "max rel ");
			num(b, ch->max_rel.value, 3);
			buf_adds(b, " at step ");
			step(b, ch->max_rel.x);
		}
		buf_addc(b, '\n');
		buf_adds(b, "  norms            1-norm ");
		num(b, ch->norm1, 3);
		buf_adds(b, ", 2-norm ");
		num(b, ch->norm2, 3);
		buf_addc(b, '\n');
	}
	if (ch->max_ulps.set) {
		buf_adds(b, "  max ULPs         ");
		step(b, ch->max_ulps.value);
		buf_adds(b, " at step ");
		step(b, ch->max_ulps.x);
		buf_addc(b, '\n');
	}
	buf_adds(b, "  tolerance        atol ");
	num(b, ch->tol.atol, 6);
	buf_adds(b, ", rtol ");
	num(b, ch->tol.rtol, 6);
	if (ch->tol.max_ulps)
		buf_addf(b, ", %llu ULPs", (unsigned long long)ch->tol.max_ulps);
	buf_addf(b, " (%s)\n", ch->tol.source);
}

/* The chart's roles as SGR colours: the CLI's own mapping (the TUI has its
 * theme). */
static const char *role_sgr(int r)
{
	switch ((enum chart_role)r) {
	case CHART_AXIS: return "\033[2m";
	case CHART_REF: return "\033[36m";
	case CHART_CAND: return "\033[35m";
	case CHART_DELTA: return "\033[33m";
	case CHART_THRESHOLD: return "\033[32m";
	case CHART_FAIL: return "\033[31m";
	case CHART_MARK: return "\033[34m";
	default: return "";
	}
}

int cmd_parity(struct cli *c, int argc, char **argv)
{
	enum { O_JSON = 1, O_PLOT, O_SVG, O_CHANNEL, O_BASE, O_CONFIG, O_WIDTH, O_HEIGHT, O_LOG };
	static const struct option opts[] = {{"json", no_argument, NULL, O_JSON},
					     {"plot", optional_argument, NULL, O_PLOT},
					     {"svg", required_argument, NULL, O_SVG},
					     {"channel", required_argument, NULL, O_CHANNEL},
					     {"base", required_argument, NULL, O_BASE},
					     {"config", required_argument, NULL, O_CONFIG},
					     {"width", required_argument, NULL, O_WIDTH},
					     {"height", required_argument, NULL, O_HEIGHT},
					     {"log", no_argument, NULL, O_LOG},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool json = false, plot = false, log_y = false;
	enum parity_plot_mode mode = PARITY_PLOT_DELTA;
	const char *svg = NULL, *only = NULL, *base_spec = NULL, *conf_path = NULL;
	long width = 0, height = 0;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_JSON: json = true; break;
		case O_PLOT:
			plot = true;
			if (optarg && !strcmp(optarg, "sides")) {
				mode = PARITY_PLOT_SIDES;
			} else if (optarg && strcmp(optarg, "delta")) {
				cli_error("parity: --plot is --plot=delta (|d| against the tolerance) or "
					  "--plot=sides, not '%s'", optarg);
				return cli_bad_usage("parity");
			}
			break;
		case O_SVG: svg = optarg; break;
		case O_LOG: log_y = true; break;
		case O_CHANNEL: only = optarg; break;
		case O_BASE: base_spec = optarg; break;
		case O_CONFIG: conf_path = optarg; break;
		case O_WIDTH:
			if ((width = cli_opt_range("parity", "--width", optarg, 20, 1000)) < 0)
				return cli_bad_usage("parity");
			break;
		case O_HEIGHT:
			if ((height = cli_opt_range("parity", "--height", optarg, 6, 500)) < 0)
				return cli_bad_usage("parity");
			break;
		case 'h': cli_command_usage("parity", stdout); return EXIT_OK;
		default: return cli_bad_usage("parity");
		}
	}
	if (optind != argc - 1) {
		cli_error("parity: name one run");
		return cli_bad_usage("parity");
	}
	struct cs_err err;
	err_clear(&err);
	struct parity_conf *conf = parity_conf_load(conf_path, &err);
	if (!conf) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (!cli_open(c, false)) {
		parity_conf_free(conf);
		return EXIT_ERROR;
	}
	struct run r, base;
	memset(&base, 0, sizeof(base));
	if (store_find_run(c->st, argv[optind], &r, &err) < 0) {
		cli_error("%s", err.msg);
		parity_conf_free(conf);
		return err.code == CS_EDB ? EXIT_ERROR : err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	if (base_spec && store_find_run(c->st, base_spec, &base, &err) < 0) {
		cli_error("%s", err.msg);
		run_free(&r);
		parity_conf_free(conf);
		return err.code == CS_EDB ? EXIT_ERROR : err.code == CS_EUSAGE ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	int flags = (plot || svg) ? PARITY_KEEP_DATA : 0;
	struct parity_report rep;
	int got = base_spec ? parity_runs(c->st, conf, r.id, base.id, only, flags, &rep, &err)
			    : parity_run(c->st, conf, r.id, only, flags, &rep, &err);
	int rc = EXIT_OK;
	struct buf b = BUF_INIT;
	if (got < 0) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
		goto out;
	}
	if (rep.n_channels == 0) {
		if (only)
			cli_error("run %lld has no parity channel or series '%s'",
				  (long long)r.provider_id, only);
		else if (base_spec)
			cli_error("runs %lld and %lld have no candidate or delta series in common",
				  (long long)r.provider_id, (long long)base.provider_id);
		else
			cli_error("run %lld has no parity channels (series named NAME_ref and "
				  "NAME_cand, or NAME_delta)", (long long)r.provider_id);
		rc = EXIT_NOTFOUND;
		if (!json)
			goto out;
	}
	const struct parity_channel *pick =
		only ? parity_report_find(&rep, only)
		     : rep.deciding >= 0 ? &rep.channels[rep.deciding] : NULL;
	if (json) {
		buf_adds(&b, "{\"run\":");
		cli_json_run(&b, &r);
		buf_adds(&b, ",\"base\":");
		if (base_spec)
			cli_json_run(&b, &base);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"parity\":");
		parity_report_json(&b, &rep);
		buf_adds(&b, "}\n");
		fwrite(b.data, 1, b.len, stdout);
		buf_reset(&b);
	} else {
		run_line(c, &b, "parity of", &r);
		if (base_spec)
			run_line(c, &b, "against  ", &base);
		if (rep.fail) {
			const struct parity_channel *d = &rep.channels[rep.deciding];
			buf_addf(&b, "verdict: %sFAIL%s, decided by %s: first violation at step ",
				 cli_color(c, "failure"), cli_reset(c), d->name);
			step(&b, d->first_violation.x);
			if (d->first_sustained.set) {
				buf_adds(&b, ", sustained from step ");
				step(&b, d->first_sustained.x);
			}
			buf_addc(&b, '\n');
		} else {
			const struct parity_channel *d = &rep.channels[rep.deciding];
			buf_addf(&b, "verdict: %spass%s", cli_color(c, "success"), cli_reset(c));
			if (d->worst.set) {
				buf_addf(&b, ", closest: %s at ", d->name);
				num(&b, d->worst.excess, 3);
				buf_adds(&b, "x tolerance");
			}
			buf_addc(&b, '\n');
		}
		if (rep.conf_origin)
			buf_addf(&b, "settings: %s\n", rep.conf_origin);
		int w = 0;
		for (int i = 0; i < rep.n_channels; i++)
			w = MAX(w, (int)strlen(rep.channels[i].name));
		for (int i = 0; i < rep.n_channels; i++) {
			buf_addc(&b, '\n');
			text_channel(c, &b, &rep.channels[i], w);
		}
		if (rep.n_unpaired) {
			buf_adds(&b, "\nnot compared (no partner): ");
			for (int i = 0; i < rep.n_unpaired; i++)
				buf_addf(&b, "%s%s", i ? ", " : "", rep.unpaired[i]);
			buf_addc(&b, '\n');
		}
	}
	if ((plot || svg) && pick) {
		struct parity_plot pp;
		if (parity_plot_init(&pp, pick, mode, &err) < 0) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
		} else {
			/* |d| spans orders of magnitude: noise, then a divergence */
			pp.chart.log_y = log_y;
			if (plot && !json) {
				struct chart_text t;
				int cw = cli_chart_width(width);
				chart_render(&pp.chart, cw, height ? (int)height : 16, c->utf8, &t);
				buf_addc(&b, '\n');
				cli_chart_lines(c, &t, &b, role_sgr);
				chart_text_release(&t);
			}
			if (svg && chart_svg_write(&pp.chart, 900, 400, svg, &err) < 0) {
				cli_error("%s", err.msg);
				rc = EXIT_ERROR;
			}
			parity_plot_release(&pp);
		}
	}
	if (!json && b.len)
		cli_put_lines(c, &b);
	if (rc == EXIT_OK && rep.fail)
		rc = EXIT_ERROR;
out:
	buf_release(&b);
	parity_report_release(&rep);
	run_free(&r);
	if (base_spec)
		run_free(&base);
	parity_conf_free(conf);
	return rc;
}
