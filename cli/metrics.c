/* metrics.c - `ciscope metrics` (the table, `show`, `ack`) and `ciscope
 * check`: metrics over history, change points and thresholds
 * (core/metrics.h). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/chart.h"
#include "core/gitrepo.h"
#include "core/metrics.h"

static void num(struct buf *b, double v)
{
	char t[40];
	chart_format_num(v, t, sizeof(t));
	buf_adds(b, t);
}

/* printf's %-W.Ms: at most max bytes of s, then blanks up to width */
static void add_padded(struct buf *b, const char *s, size_t max, size_t width)
{
	size_t n = strnlen(s, max);
	buf_add(b, s, n);
	for (; n < width; n++)
		buf_addc(b, ' ');
}

static void jnum(struct buf *b, double v)
{
	if (isfinite(v))
		buf_addf(b, "%.17g", v);
	else
		buf_adds(b, "null");
}

static const char *role_sgr(int r)
{
	switch ((enum chart_role)r) {
	case CHART_AXIS: return "\033[2m";
	case CHART_CAND: return "\033[35m";
	case CHART_THRESHOLD: return "\033[33m";
	case CHART_FAIL: return "\033[31m";
	case CHART_MARK: return "\033[34m";
	default: return "";
	}
}

/* Sparkline of the last n points. */
static void sparkline(struct cli *c, struct buf *b, const struct metric_hist *h, int n)
{
	for (int k = metric_sparkline(h, n, c->utf8, b); k < n; k++)
		buf_addc(b, ' ');
}

struct mopts {
	const char *workflow, *branch, *thresholds, *svg;
	bool json, plot;
	long width, height;
};

/* What load_all gives every command here: the thresholds and the judged set */
struct loaded {
	struct th_conf tc;
	struct metric_set set;
};

/* Release m; returns rc (the command's exit status). */
static int loaded_release(struct loaded *m, int rc)
{
	metric_set_release(&m->set);
	th_conf_release(&m->tc);
	return rc;
}

/* Load, refresh and judge: the shared start of every command here. */
static int load_all(struct cli *c, const struct mopts *o, const char *pattern, const char *name,
		    bool table, struct loaded *m)
{
	struct th_conf *tc = &m->tc;
	struct metric_set *set = &m->set;
	struct cs_err err;
	if (!cli_open(c, true))
		return EXIT_ERROR;
	if (metrics_refresh(c->st, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (th_conf_load(tc, o->thresholds, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	struct buf top = BUF_INIT;
	struct metrics_query q = {.workflow = o->workflow, .branch = o->branch, .pattern = pattern,
				  .name = name};
	if (o->branch && gitrepo_workdir(NULL, &top))
		q.checkout = buf_cstr(&top);
	/* the table: its rows from the index's summary cache */
	int rc = table ? metrics_load_table(c->st, c->st, tc, &q, set, &err)
		       : metrics_load_judged(c->st, tc, &q, set, &err);
	buf_release(&top);
	if (rc < 0) {
		th_conf_release(tc);
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* pre (a key with its punctuation), then a JSON string or number */
static void jstr_at(struct buf *b, const char *pre, const char *s)
{
	buf_adds(b, pre);
	cli_json_str(b, s);
}

static void jnum_at(struct buf *b, const char *pre, double v)
{
	buf_adds(b, pre);
	jnum(b, v);
}

static void json_cp(struct buf *b, const struct metric_hist *h, const struct metric_cp *cp)
{
	const struct metric_point *p = &h->pts[cp->idx];
	char ref[32];
	jstr_at(b, "{\"sha\":", p->sha);
	jstr_at(b, ",\"run\":", run_ref(ref, sizeof(ref), p->provider_id, p->attempt));
	jnum_at(b, ",\"before\":", cp->before);
	jnum_at(b, ",\"after\":", cp->after);
	jnum_at(b, ",\"change\":", cp->change);
	buf_adds(b, "}");
}

static int metrics_table(struct cli *c, const struct mopts *o, const char *pattern)
{
	struct loaded m;
	int rc = load_all(c, o, pattern, NULL, true, &m);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	if (o->json)
		buf_addc(&b, '[');
	int wn = 6, ww = 8;
	for (int i = 0; i < m.set.n; i++) {
		wn = MAX(wn, (int)strlen(m.set.items[i].name));
		ww = MAX(ww, (int)strlen(m.set.items[i].workflow));
	}
	wn = MIN(wn, 48);
	ww = MIN(ww, 16);
	if (!o->json && m.set.n)
		buf_addf(&b, "%-*s  %-*s  %12s  %12s  %9s  %-16s  %-5s  %s\n", wn, "METRIC", ww,
			 "WORKFLOW", "LAST", "BASELINE", "CHANGE", "TREND", "STATE", "CHANGE POINT");
	for (int i = 0; i < m.set.n; i++) {
		struct metric_hist *h = &m.set.items[i];
		long last = h->n - 1;
		struct metric_summary sum;
		metric_summarize(&m.tc, h, &sum);
		double base = sum.baseline, change = sum.change;
		const char *state = th_state_name(sum.state);
		const struct metric_cp *cp = sum.cp;
		if (o->json) {
			if (i)
				buf_addc(&b, ',');
			jstr_at(&b, "{\"name\":", h->name);
			jstr_at(&b, ",\"workflow\":", h->workflow);
			jstr_at(&b, ",\"unit\":", h->unit);
			jnum_at(&b, ",\"last\":", h->pts[last].value);
			jnum_at(&b, ",\"baseline\":", base);
			jnum_at(&b, ",\"change\":", change);
			buf_addf(&b, ",\"points\":%ld,\"state\":\"%s\",\"change_point\":",
				 metric_hist_total(h), state);
			if (cp)
				json_cp(&b, h, cp);
			else
				buf_adds(&b, "null");
			buf_addc(&b, '}');
		} else {
			char v[40], bs[40], ch[40] = "-";
			chart_format_num(h->pts[last].value, v, sizeof(v));
			if (h->unit) {
				size_t l = strlen(v);
				snprintf(v + l, sizeof(v) - l, " %s", h->unit);
			}
			if (isfinite(base))
				chart_format_num(base, bs, sizeof(bs));
			else
				snprintf(bs, sizeof(bs), "-");
			if (isfinite(change))
				metric_format_pct(change, ch, sizeof(ch));
			buf_addf(&b, "%-*.*s  %-*.*s  %12s  %12s  %9s  ", wn, wn, h->name, ww, ww,
				 h->workflow, v, bs, ch);
			sparkline(c, &b, h, 16);
			buf_addf(&b, "  %s%-5s%s  ", cli_color(c, !strcmp(state, "fail") ? "failure"
							    : !strcmp(state, "warn") ? "neutral"
							    : "success"),
				 state, cli_reset(c));
			if (cp) {
				char t[40];
				metric_format_change(cp->change, cp->before, cp->after, h->unit, t,
						     sizeof(t));
				const char *sha = h->pts[cp->idx].sha;
				buf_addf(&b, "%s since %.7s%s", t, sha ? sha : "?",
					 cp->acked ? " (acknowledged)" : "");
			} else {
				buf_adds(&b, "-");
			}
			buf_addc(&b, '\n');
		}
	}
	if (o->json) {
		buf_adds(&b, "]\n");
		fputs(buf_cstr(&b), stdout);
	} else if (!m.set.n) {
		fprintf(stderr, "no metrics%s\n", pattern ? " match" : " in the index");
	} else {
		cli_put_lines(c, &b);
	}
	buf_release(&b);
	return loaded_release(&m, EXIT_OK);
}

static int metrics_show(struct cli *c, const struct mopts *o, const char *name)
{
	struct loaded m;
	int rc = load_all(c, o, NULL, name, false, &m);
	if (rc)
		return rc;
	if (!m.set.n) {
		cli_error("metrics show: no metric named '%s'%s", name,
			  o->workflow || o->branch ? " with those filters" : "");
		return loaded_release(&m, EXIT_NOTFOUND);
	}
	if (m.set.n > 1) {
		struct buf l = BUF_INIT;
		for (int i = 0; i < m.set.n; i++)
			buf_addf(&l, "%s%s", i ? ", " : "", m.set.items[i].workflow);
		cli_error("metrics show: '%s' is measured by several workflows (%s): name one with "
			  "--workflow", name, buf_cstr(&l));
		buf_release(&l);
		return loaded_release(&m, EXIT_USAGE);
	}
	struct metric_hist *h = &m.set.items[0];
	struct th_eval *e;
	int ne = th_evaluate(&m.tc, h, h->n - 1, &e);
	struct buf b = BUF_INIT;
	char ref[32];
	if (o->json) {
		jstr_at(&b, "{\"name\":", h->name);
		jstr_at(&b, ",\"workflow\":", h->workflow);
		jstr_at(&b, ",\"unit\":", h->unit);
		buf_adds(&b, ",\"points\":[");
		for (long i = 0; i < h->n; i++) {
			const struct metric_point *p = &h->pts[i];
			buf_adds(&b, i ? ",{\"run\":" : "{\"run\":");
			cli_json_str(&b, run_ref(ref, sizeof(ref), p->provider_id, p->attempt));
			jstr_at(&b, ",\"sha\":", p->sha);
			buf_adds(&b, ",\"at\":");
			cli_json_time(&b, p->at);
			jnum_at(&b, ",\"value\":", p->value);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "],\"change_points\":[");
		for (int i = 0; i < h->n_cps; i++) {
			if (i)
				buf_addc(&b, ',');
			json_cp(&b, h, &h->cps[i]);
		}
		buf_adds(&b, "],\"thresholds\":[");
		for (int i = 0; i < ne; i++) {
			buf_adds(&b, i ? ",{\"bound\":" : "{\"bound\":");
			cli_json_str(&b, e[i].bound->text);
			buf_addf(&b, ",\"level\":\"%s\",\"state\":\"%s\"}",
				 e[i].bound->level == TH_FAIL ? "fail" : "warn",
				 th_state_name(e[i].state));
		}
		buf_adds(&b, "]}\n");
		fputs(buf_cstr(&b), stdout);
	} else {
		buf_addf(&b, "%s%s%s%s  %ld point%s%s%s\n", h->name, *h->workflow ? " (" : "",
			 h->workflow, *h->workflow ? ")" : "", h->n, h->n == 1 ? "" : "s",
			 h->unit ? ", " : "", h->unit ? h->unit : "");
		for (long i = 0; i < h->n; i++) {
			const struct metric_point *p = &h->pts[i];
			char t[40];
			time_format_iso(p->at, t, sizeof(t));
			bool cp = false;
			for (int k = 0; k < h->n_cps; k++)
				cp |= h->cps[k].idx == i;
			/* "  %-12s %.7s  %-20s  " without printf (one line per
			 * point: 100,000 in bench/metrics.sh) */
			buf_adds(&b, "  ");
			add_padded(&b, run_ref(ref, sizeof(ref), p->provider_id, p->attempt),
				   (size_t)-1, 12);
			buf_addc(&b, ' ');
			add_padded(&b, p->sha ? p->sha : "-", 7, 0);
			buf_adds(&b, "  ");
			add_padded(&b, t, (size_t)-1, 20);
			buf_adds(&b, "  ");
			num(&b, p->value);
			buf_adds(&b, cp ? "  <- change point\n" : "\n");
		}
		if (h->n_cps)
			buf_adds(&b, "change points:\n");
		for (int i = 0; i < h->n_cps; i++) {
			const struct metric_cp *cp = &h->cps[i];
			char t[40];
			metric_format_change(cp->change, cp->before, cp->after, h->unit, t, sizeof(t));
			const struct metric_point *p = &h->pts[cp->idx];
			buf_addf(&b, "  %s at %.7s (run %s", t, p->sha ? p->sha : "?",
				 run_ref(ref, sizeof(ref), p->provider_id, p->attempt));
			if (cp->idx > 0 && h->pts[cp->idx - 1].sha)
				buf_addf(&b, "; after %.7s", h->pts[cp->idx - 1].sha);
			buf_adds(&b, "): ");
			num(&b, cp->before);
			buf_adds(&b, " -> ");
			num(&b, cp->after);
			buf_addf(&b, ", p %.4g", cp->pvalue);
			if (cp->acked)
				buf_addf(&b, ", acknowledged%s%s", cp->note ? ": " : "",
					 cp->note ? cp->note : "");
			buf_addc(&b, '\n');
		}
		if (ne)
			buf_adds(&b, "thresholds (newest point):\n");
		for (int i = 0; i < ne; i++) {
			buf_addf(&b, "  %s %-16s %s  (%s)", e[i].bound->level == TH_FAIL ? "fail" : "warn",
				 e[i].bound->text, th_state_name(e[i].state), e[i].rule->origin);
			if (isfinite(e[i].baseline)) {
				buf_adds(&b, " baseline ");
				num(&b, e[i].baseline);
				buf_addf(&b, " of %d green runs", e[i].baseline_runs);
			}
			buf_addc(&b, '\n');
		}
		if (o->plot && h->n) {
			struct metric_plot mp;
			metric_plot_init(&mp, h, e, ne);
			struct chart_text t;
			chart_render(&mp.chart, cli_chart_width(o->width),
				     o->height ? (int)o->height : 16, c->utf8, &t);
			buf_addc(&b, '\n');
			cli_chart_lines(c, &t, &b, role_sgr);
			chart_text_release(&t);
			metric_plot_release(&mp);
		}
		cli_put_lines(c, &b);
	}
	rc = EXIT_OK;
	if (o->svg) {
		struct metric_plot mp;
		struct cs_err err;
		metric_plot_init(&mp, h, e, ne);
		if (chart_svg_write(&mp.chart, 900, 400, o->svg, &err) < 0) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
		}
		metric_plot_release(&mp);
	}
	free(e);
	buf_release(&b);
	return loaded_release(&m, rc);
}

static int metrics_ack_cmd(struct cli *c, const struct mopts *o, const char *name, const char *sha,
			   const char *note)
{
	struct loaded m;
	int rc = load_all(c, o, NULL, name, false, &m);
	if (rc)
		return rc;
	struct cs_err err;
	int found = 0;
	for (int i = 0; i < m.set.n; i++) {
		struct metric_hist *h = &m.set.items[i];
		for (int k = 0; k < h->n_cps; k++) {
			const char *s = h->pts[h->cps[k].idx].sha;
			if (s && strlen(sha) >= 7 && !strncmp(s, sha, strlen(sha))) {
				if (metrics_ack(c->st, h->name, h->workflow, s, note, &err) < 0) {
					cli_error("%s", err.msg);
					rc = EXIT_ERROR;
				}
				found++;
			}
		}
	}
	if (!found && !rc) {
		cli_error("metrics ack: '%s' has no change point at a commit starting %s", name, sha);
		rc = EXIT_NOTFOUND;
	} else if (!rc && !o->json) {
		fprintf(stderr, "acknowledged %d change point%s\n", found, found == 1 ? "" : "s");
	}
	return loaded_release(&m, rc);
}

int cmd_metrics(struct cli *c, int argc, char **argv)
{
	enum { O_SVG = 1000, O_W, O_H, O_TH, O_NOTE };
	static const struct option opts[] = {
		{"workflow", required_argument, NULL, 'w'}, {"branch", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'}, {"plot", no_argument, NULL, 'p'},
		{"svg", required_argument, NULL, O_SVG}, {"width", required_argument, NULL, O_W},
		{"height", required_argument, NULL, O_H},
		{"thresholds", required_argument, NULL, O_TH},
		{"note", required_argument, NULL, O_NOTE},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct mopts o = {0};
	const char *note = NULL;
	int op;
	optind = 0;
	while ((op = getopt_long(argc, argv, "w:b:h", opts, NULL)) != -1) {
		switch (op) {
		case 'w': o.workflow = optarg; break;
		case 'b': o.branch = optarg; break;
		case 'j': o.json = true; break;
		case 'p': o.plot = true; break;
		case O_SVG: o.svg = optarg; break;
		case O_TH: o.thresholds = optarg; break;
		case O_NOTE: note = optarg; break;
		case O_W:
		case O_H: {
			long v = cli_opt_range("metrics", op == O_W ? "--width" : "--height", optarg,
					       op == O_W ? 20 : 6, 1000);
			if (v < 0)
				return EXIT_USAGE;
			if (op == O_W)
				o.width = v;
			else
				o.height = v;
			break;
		}
		case 'h': cli_command_usage("metrics", stdout); return EXIT_OK;
		default: return cli_bad_usage("metrics");
		}
	}
	/* getopt permutes: options may follow the subcommand and its operands */
	char **ops = argv + optind;
	int nops = argc - optind;
	if (nops && !strcmp(ops[0], "show")) {
		if (nops != 2) {
			cli_error("metrics show: name one metric");
			return cli_bad_usage("metrics");
		}
		return metrics_show(c, &o, ops[1]);
	}
	if (nops && !strcmp(ops[0], "ack")) {
		if (nops != 3) {
			cli_error("metrics ack: name a metric and the commit of its change point");
			return cli_bad_usage("metrics");
		}
		return metrics_ack_cmd(c, &o, ops[1], ops[2], note);
	}
	if (nops > 1 || o.plot || o.svg || note)
		return cli_bad_usage("metrics");
	return metrics_table(c, &o, nops ? ops[0] : NULL);
}

/* --- check ------------------------------------------------------------------------------ */
struct target {
	int64_t run;
	char *workflow;
	int64_t at;
};

int cmd_check(struct cli *c, int argc, char **argv)
{
	enum { O_TH = 1000 };
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"thresholds", required_argument, NULL, O_TH},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct mopts o = {0};
	int op;
	optind = 0;
	while ((op = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (op) {
		case 'j': o.json = true; break;
		case O_TH: o.thresholds = optarg; break;
		case 'h': cli_command_usage("check", stdout); return EXIT_OK;
		default: return cli_bad_usage("check");
		}
	}
	if (argc - optind > 1)
		return cli_bad_usage("check");
	struct loaded m;
	int rc = load_all(c, &o, NULL, NULL, false, &m);
	if (rc)
		return rc;
	struct cs_err err;
	struct target *tg = NULL;
	int ntg = 0;
	if (optind < argc) {
		struct run r;
		if (store_find_run(c->st, argv[optind], &r, &err) < 0) {
			cli_error("check: %s", err.msg);
			return loaded_release(&m, err.code == CS_ENOTFOUND ? EXIT_NOTFOUND : EXIT_ERROR);
		}
		tg = xcalloc(1, sizeof(*tg));
		tg->run = r.id;
		ntg = 1;
		run_free(&r);
	} else {
		/* the newest run of each workflow on the default branch */
		char *def = store_default_branch(c->st, &err);
		for (int i = 0; i < m.set.n; i++) {
			const struct metric_hist *h = &m.set.items[i];
			for (long j = 0; j < h->n; j++) {
				const struct metric_point *p = &h->pts[j];
				if (def && (!p->branch || strcmp(p->branch, def)))
					continue;
				int k;
				for (k = 0; k < ntg && strcmp(tg[k].workflow, h->workflow); k++)
					;
				if (k == ntg) {
					tg = xrealloc(tg, (size_t)(ntg + 1) * sizeof(*tg));
					tg[ntg++] = (struct target){p->run, xstrdup(h->workflow), p->at};
				} else if (p->at > tg[k].at || (p->at == tg[k].at && p->run > tg[k].run)) {
					tg[k].run = p->run;
					tg[k].at = p->at;
				}
			}
		}
		free(def);
	}
	struct buf b = BUF_INIT, runs = BUF_INIT;
	int n_fail = 0, n_warn = 0, n_pass = 0;
	char ref[32];
	if (o.json)
		buf_adds(&b, "\"breaches\":[");
	int nb = 0;
	for (int t = 0; t < ntg; t++) {
		for (int i = 0; i < m.set.n; i++) {
			struct metric_hist *h = &m.set.items[i];
			long at = -1;
			for (long j = 0; j < h->n; j++)
				if (h->pts[j].run == tg[t].run)
					at = j;
			if (at < 0)
				continue;
			const struct metric_point *p = &h->pts[at];
			if (!runs.len || !strstr(buf_cstr(&runs), run_ref(ref, sizeof(ref),
									 p->provider_id, p->attempt))) {
				if (runs.len)
					buf_addc(&runs, ',');
				cli_json_str(&runs, run_ref(ref, sizeof(ref), p->provider_id, p->attempt));
			}
			struct th_eval *e;
			int ne = th_evaluate(&m.tc, h, at, &e);
			/* a local check that says itself it did not pass */
			bool stated_fail = p->passed == 0 && str_ends(h->name, ".passed");
			for (int k = 0; k < ne + (stated_fail ? 1 : 0); k++) {
				bool own = k == ne;
				enum th_state st = own ? TH_BREACH_FAIL : e[k].state;
				if (st == TH_PASS) {
					n_pass++;
					continue;
				}
				if (st == TH_NONE)
					continue;
				if (st == TH_BREACH_FAIL)
					n_fail++;
				else
					n_warn++;
				long since = own ? at : e[k].since;
				const struct metric_point *sp = &h->pts[since >= 0 ? since : at];
				const char *bound = own ? "passed" : e[k].bound->text;
				double base = own ? NAN : e[k].baseline;
				double limit = own ? p->threshold : e[k].limit;
				const char *level = st == TH_BREACH_FAIL ? "fail" : "warn";
				char sref[32];
				run_ref(sref, sizeof(sref), sp->provider_id, sp->attempt);
				if (o.json) {
					if (nb)
						buf_addc(&b, ',');
					jstr_at(&b, "{\"metric\":", h->name);
					jstr_at(&b, ",\"workflow\":", h->workflow);
					jstr_at(&b, ",\"run\":", run_ref(ref, sizeof(ref), p->provider_id, p->attempt));
					jstr_at(&b, ",\"sha\":", p->sha);
					jnum_at(&b, ",\"value\":", p->value);
					jstr_at(&b, ",\"unit\":", h->unit);
					buf_addf(&b, ",\"level\":\"%s\",\"bound\":", level);
					cli_json_str(&b, bound);
					jnum_at(&b, ",\"limit\":", limit);
					jnum_at(&b, ",\"baseline\":", base);
					jstr_at(&b, ",\"since\":{\"sha\":", sp->sha);
					jstr_at(&b, ",\"run\":", sref);
					buf_adds(&b, "}}");
				} else {
					buf_addf(&b, "%s%s%s  %s", cli_color(c, st == TH_BREACH_FAIL
									     ? "failure" : "neutral"),
						 st == TH_BREACH_FAIL ? "FAIL" : "WARN", cli_reset(c),
						 h->name);
					if (*h->workflow)
						buf_addf(&b, " (%s)", h->workflow);
					buf_adds(&b, " = ");
					num(&b, p->value);
					if (h->unit)
						buf_addf(&b, " %s", h->unit);
					buf_addf(&b, "  bound %s", bound);
					if (own && isfinite(limit)) {
						buf_adds(&b, " (stated threshold ");
						num(&b, limit);
						buf_adds(&b, ")");
					}
					if (isfinite(base)) {
						buf_adds(&b, "  baseline ");
						num(&b, base);
						buf_adds(&b, " (limit ");
						num(&b, limit);
						buf_adds(&b, ")");
					}
					buf_addf(&b, "  since %.7s (run %s)\n", sp->sha ? sp->sha : "?",
						 sref);
				}
				nb++;
			}
			free(e);
		}
	}
	if (o.json) {
		printf("{\"runs\":[%s],%s],\"passed\":%d,\"warned\":%d,\"failed\":%d,"
		       "\"verdict\":\"%s\"}\n",
		       buf_cstr(&runs), buf_cstr(&b), n_pass, n_warn, n_fail,
		       n_fail ? "fail" : "pass");
	} else {
		cli_put_lines(c, &b);
		fprintf(stderr, "%d bound%s checked on %d run%s: %d failed, %d warned%s%s\n",
			n_pass + n_warn + n_fail, n_pass + n_warn + n_fail == 1 ? "" : "s", ntg,
			ntg == 1 ? "" : "s", n_fail, n_warn, m.tc.repo_file ? "; thresholds from " : "",
			m.tc.repo_file ? path_basename(m.tc.repo_file) : "");
	}
	for (int t = 0; t < ntg; t++)
		free(tg[t].workflow);
	free(tg);
	buf_release(&b);
	buf_release(&runs);
	return loaded_release(&m, n_fail ? EXIT_ERROR : EXIT_OK);
}
