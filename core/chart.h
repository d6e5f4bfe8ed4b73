/* chart.h - line charts as text lines (Unicode braille or ASCII) and as SVG.
 *
 * Owner: the parity charts (issue 10: a channel over steps, both sides or
 * |d| against its tolerance with the first violation marked) and the metric
 * charts over history (issue 11: threshold lines, change points, commit
 * labels on the x axis). Core renders; it never touches a terminal: the
 * text comes back as lines whose spans carry colour *roles*, and the TUI
 * (its theme) or the CLI (SGR when colour is on) maps roles to colours.
 *
 * A chart has series (x/y points, drawn as connected lines; a NaN y breaks
 * the line), horizontal lines (a threshold), vertical marks (a violation, a
 * change point) and axis labels. The x range spans every series (or
 * x_min/x_max when set), the y range every series and horizontal line,
 * padded so nothing sits on the frame; log_y draws log10 (values <= 0 are
 * left out). Large series are reduced to the min and max per dot column,
 * so a million points cost one pass.
 *
 * Text layout (width x height cells in all):
 *   legend line          "-- energy_ref  -- energy_cand  -- tolerance"
 *   plot rows            y labels at the left, a frame line, the plot
 *   x axis line          frame with tick marks
 *   x labels line        x values (or x_label_fn's text) under the ticks
 *   x axis title line    when x_title is set
 * Braille packs 2x4 dots per cell; ASCII draws one point per cell with the
 * series' glyph. A cell where series overlap takes the role of the one drawn
 * last (series in order, then horizontal lines, then marks).
 */
#ifndef CS_CHART_H
#define CS_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Colour roles: the TUI and the CLI map them to colours. */
enum chart_role {
	CHART_TEXT = 0,     /* labels, legend text */
	CHART_AXIS,         /* frame, ticks */
	CHART_REF,          /* the reference side, a baseline */
	CHART_CAND,         /* the candidate side, the metric itself */
	CHART_DELTA,        /* |d| */
	CHART_THRESHOLD,    /* tolerance, a threshold line (warn) */
	CHART_FAIL,         /* a fail threshold, a violation mark */
	CHART_MARK,         /* a change point, a neutral marker */
	CHART_ROLE_COUNT
};
const char *chart_role_name(enum chart_role r);  /* "text", "axis", ... */

struct chart_series {
	const char *label;
	const double *x, *y;   /* x NULL: 0, 1, 2, ... */
	size_t n;
	enum chart_role role;
	char ascii;            /* ASCII glyph; 0: by role */
	bool dashed;           /* SVG: a dashed line (a tolerance that varies per step) */
};

struct chart_hline {
	const char *label;
	double y;
	enum chart_role role;
};

struct chart_mark {
	const char *label;     /* "first violation 607" */
	double x;
	enum chart_role role;
};

/* Text for an x tick (commit labels): write at most n bytes into out. */
typedef void (*chart_xlabel_fn)(void *ctx, double x, char *out, size_t n);

struct chart {
	const char *title;     /* SVG title, text legend prefix; may be NULL */
	const char *x_title, *y_title;
	const struct chart_series *series;
	int n_series;
	const struct chart_hline *hlines;
	int n_hlines;
	const struct chart_mark *marks;
	int n_marks;
	bool log_y;
	bool has_x_range;      /* x_min/x_max given (else from the data) */
	double x_min, x_max;
	chart_xlabel_fn x_label_fn;
	void *x_label_ctx;
	/* text only: a cursor at x, a caret on the x axis line under it (the
	 * point a view's cursor is on) */
	bool has_cursor;
	double cursor_x;
};

/* --- text ------------------------------------------------------------------------ */
struct chart_span {
	size_t off, len;       /* bytes of the line */
	enum chart_role role;
};

struct chart_line {
	char *text;            /* UTF-8 (ASCII when !utf8), NUL-terminated */
	size_t len;
	int width;             /* in terminal cells */
	struct chart_span *spans; /* cover the whole line, in order */
	int n_spans;
};

struct chart_text {
	struct chart_line *lines;
	int n;
};

/* Render into width x height cells (at least 20 x 6; smaller sizes render
 * a one-line "chart needs 20x6 cells" notice). utf8 false: ASCII. */
void chart_render(const struct chart *c, int width, int height, bool utf8, struct chart_text *out);
void chart_text_release(struct chart_text *t);
/* The lines joined with '\n', without colour (goldens, pipes); whoever
 * shows colours walks the spans and maps their roles. */
void chart_text_join(const struct chart_text *t, struct buf *out);

/* --- SVG ---------------------------------------------------------------------------- */
/* A standalone SVG document (width x height pixels) of the same chart:
 * text XML-escaped, one polyline per series (reduced as above), dashed
 * threshold lines, marks with their labels, axis ticks and titles. */
void chart_svg(const struct chart *c, int width, int height, struct buf *out);
/* Write chart_svg() to path (through a temporary name, then renamed). */
int chart_svg_write(const struct chart *c, int width, int height, const char *path,
		    struct cs_err *err);

/* --- helpers ----------------------------------------------------------------------- */
/* Format v compactly for an axis: "607", "1.2e-12", "-0.000169", "3.5k" is
 * not used (values stay exact enough to read back). */
void chart_format_num(double v, char *out, size_t n);

#endif
