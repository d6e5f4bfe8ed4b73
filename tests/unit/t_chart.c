/* t_chart.c - text charts (braille and ASCII goldens, role spans, gaps,
 * reduction of a million points, small sizes, commit labels) and SVG
 * (well-formed XML by expat, hostile labels escaped, one polyline per
 * unbroken stretch). */
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chart.h"
#include "core/util.h"
#include "test.h"

static double dx[10], dy[10];

static void diag_chart(struct chart *c, struct chart_series *s, struct chart_hline *h,
		       struct chart_mark *m)
{
	for (int i = 0; i < 10; i++) {
		dx[i] = i;
		dy[i] = i;
	}
	*s = (struct chart_series){"diag", dx, dy, 10, CHART_CAND, 0, false};
	*h = (struct chart_hline){"limit", 5, CHART_THRESHOLD};
	*m = (struct chart_mark){"mark 3", 3, CHART_FAIL};
	memset(c, 0, sizeof(*c));
	c->title = "t";
	c->series = s;
	c->n_series = 1;
	c->hlines = h;
	c->n_hlines = 1;
	c->marks = m;
	c->n_marks = 1;
}

static char *render(const struct chart *c, int w, int h, bool utf8)
{
	struct chart_text t;
	chart_render(c, w, h, utf8, &t);
	struct buf b = BUF_INIT;
	chart_text_join(&t, &b);
	/* spans cover each line, in order, without gaps */
	for (int i = 0; i < t.n; i++) {
		size_t at = 0;
		for (int k = 0; k < t.lines[i].n_spans; k++) {
			CHECK(t.lines[i].spans[k].off == at);
			at += t.lines[i].spans[k].len;
		}
		CHECK(at == t.lines[i].len);
		CHECK(t.lines[i].width <= w);
		CHECK(utf8_valid(t.lines[i].text, t.lines[i].len));
	}
	chart_text_release(&t);
	return buf_detach(&b, NULL);
}

/* A line from (0,0) to (9,9), a limit at 5, a mark at 3: checked by eye
 * once, then frozen. Braille: the line rises two dots per column pair and
 * crosses the dotted limit row; the mark is the dotted column at x=3. */
TEST(braille_golden)
{
	struct chart c;
	struct chart_series s;
	struct chart_hline h;
	struct chart_mark m;
	diag_chart(&c, &s, &h, &m);
	char *got = render(&c, 24, 8, true);
	const char *want =
		"t  \u2500 diag  \u2504 limit  \n"
		"9.36\u2502      \u2805         \u28c0\u2824\u2812\n"
		"    \u2502      \u2805     \u28c0\u2824\u2812\u2809   \n"
		"4.68\u2502\u2802\u2802\u2802\u2802\u2802\u2802\u2807\u2882\u28c2\u2826\u2812\u280b\u2802\u2802\u2802\u2802\u2802\u2802\u2802\n"
		"    \u2502   \u2880\u2860\u2814\u280f\u2801           \n"
		"   0\u2502\u2860\u2814\u280a\u2801  \u2805            \n"
		"    \u2514\u252c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u252c\n"
		"     0                 9\n";
	CHECK_STR(got, want);
	free(got);
}

TEST(ascii_golden)
{
	struct chart c;
	struct chart_series s;
	struct chart_hline h;
	struct chart_mark m;
	diag_chart(&c, &s, &h, &m);
	char *got = render(&c, 24, 8, false);
	const char *want = "t  * diag  - limit  \n"
			   "9.36|      |          **\n"
			   "    |      |    ******  \n"
			   "4.68|-------****--------\n"
			   "    |   ****            \n"
			   "   0|***   |            \n"
			   "    ++-----------------+\n"
			   "     0                 9\n";
	CHECK_STR(got, want);
	free(got);
}

TEST(roles_of_cells)
{
	struct chart c;
	struct chart_series s;
	struct chart_hline h;
	struct chart_mark m;
	diag_chart(&c, &s, &h, &m);
	struct chart_text t;
	chart_render(&c, 24, 8, false, &t);
	CHECK_INT(t.n, 8);
	/* row "4.68|-------****--------": label, axis, threshold, data, threshold */
	const struct chart_line *l = &t.lines[3];
	CHECK_INT(l->n_spans, 5);
	if (l->n_spans == 5) {
		CHECK_INT(l->spans[0].role, CHART_TEXT);
		CHECK_INT(l->spans[1].role, CHART_AXIS);
		CHECK_INT(l->spans[2].role, CHART_THRESHOLD);
		CHECK_INT(l->spans[3].role, CHART_CAND);
		CHECK_INT(l->spans[4].role, CHART_THRESHOLD);
	}
	/* the mark's column in the top row */
	bool fail = false;
	for (int k = 0; k < t.lines[1].n_spans; k++)
		fail |= t.lines[1].spans[k].role == CHART_FAIL;
	CHECK(fail);
	chart_text_release(&t);
	CHECK_STR(chart_role_name(CHART_THRESHOLD), "threshold");
	/* core emits no escape codes: colours are the caller's mapping */
	chart_render(&c, 24, 8, true, &t);
	struct buf b = BUF_INIT;
	chart_text_join(&t, &b);
	CHECK(strchr(b.data, '\033') == NULL);
	buf_release(&b);
	chart_text_release(&t);
}

TEST(gaps_small_sizes_and_labels)
{
	double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {1, 1, NAN, NAN, 1, 1};
	struct chart_series s = {"g", x, y, 6, CHART_REF, 'o', false};
	struct chart c;
	memset(&c, 0, sizeof(c));
	c.series = &s;
	c.n_series = 1;
	char *got = render(&c, 20, 6, false);
	/* two stretches, nothing drawn across the gap */
	CHECK(strstr(got, "|oooo      oooo\n") || strstr(got, "|oooo     ooooo\n") ||
	      strstr(got, "|ooooo     oooo\n"));
	free(got);
	/* too small: a notice, not a crash */
	got = render(&c, 19, 6, false);
	CHECK_STR(got, "chart needs 20x6 ce\n");
	free(got);
	got = render(&c, 40, 5, true);
	CHECK_STR(got, "chart needs 20x6 cells\n");
	free(got);
	/* no data at all: an empty frame */
	s.n = 0;
	got = render(&c, 30, 6, true);
	CHECK(strstr(got, "\u2514") != NULL);
	free(got);
}

static void commit_label(void *ctx, double x, char *out, size_t n)
{
	const char *const *shas = ctx;
	int i = (int)x;
	snprintf(out, n, "%s", i >= 0 && i < 5 ? shas[i] : "?");
}

TEST(commit_labels_and_hostile_titles)
{
	static const char *const shas[] = {"4dd7aca", "f60058c", "a489841", "26aa4b5", "e6eb15d"};
	double y[5] = {1, 2, 2, 2, 1};
	struct chart_series s = {"run\033[31m time\x01", NULL, y, 5, CHART_CAND, 0, false};
	struct chart c;
	memset(&c, 0, sizeof(c));
	c.series = &s;
	c.n_series = 1;
	c.x_label_fn = commit_label;
	c.x_label_ctx = (void *)shas;
	c.x_title = "commit";
	char *got = render(&c, 60, 10, true);
	CHECK(strstr(got, "4dd7aca") != NULL);
	CHECK(strstr(got, "e6eb15d") != NULL);
	CHECK(strstr(got, "commit\n") != NULL);
	CHECK(strchr(got, '\033') == NULL); /* escape sequences never pass */
	CHECK(strchr(got, '\x01') == NULL);
	free(got);
	/* non-ASCII labels in ASCII mode become '?' */
	s.label = "\u0394 energy";
	got = render(&c, 60, 10, false);
	CHECK(strstr(got, "? energy") != NULL);
	for (const char *p = got; *p; p++)
		CHECK((unsigned char)*p < 0x80);
	free(got);
}

TEST(million_points_reduce_per_column)
{
	size_t n = 1000000;
	double *y = xmalloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		y[i] = (i % 2) ? 1.0 : 0.0;
	struct chart_series s = {"zigzag", NULL, y, n, CHART_DELTA, 0, false};
	struct chart c;
	memset(&c, 0, sizeof(c));
	c.series = &s;
	c.n_series = 1;
	struct chart_text t;
	chart_render(&c, 40, 10, true, &t);
	/* every column holds both values: each plot row is full braille */
	CHECK_INT(t.n, 10);
	for (int r = 1; r < t.n - 2; r++) {
		const char *plot = strstr(t.lines[r].text, "\u2502");
		CHECK(plot && !strchr(plot, ' '));
	}
	chart_text_release(&t);
	struct buf b = BUF_INIT;
	chart_svg(&c, 800, 300, &b);
	/* at most 4 points per pixel column, whatever n is */
	CHECK(b.len < 800 * 4 * 14 + 4096);
	buf_release(&b);
	free(y);
}

/* --- SVG ------------------------------------------------------------------------------ */
struct xml_count {
	int elements, polylines, texts, depth_max, depth;
	struct buf text;
};

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)atts;
	struct xml_count *x = ud;
	x->elements++;
	x->depth++;
	if (x->depth > x->depth_max)
		x->depth_max = x->depth;
	if (!strcmp(name, "polyline"))
		x->polylines++;
	if (!strcmp(name, "text"))
		x->texts++;
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
	(void)name;
	((struct xml_count *)ud)->depth--;
}

static void XMLCALL x_chars(void *ud, const XML_Char *s, int len)
{
	buf_add(&((struct xml_count *)ud)->text, s, (size_t)len);
}

static bool parse_xml(const char *data, size_t n, struct xml_count *x)
{
	memset(x, 0, sizeof(*x));
	XML_Parser p = XML_ParserCreate("UTF-8");
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_chars);
	bool ok = XML_Parse(p, data, (int)n, 1) == XML_STATUS_OK;
	if (!ok)
		t_fail(__FILE__, __LINE__, "SVG not well-formed: %s at line %lu",
		       XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
	XML_ParserFree(p);
	return ok;
}

TEST(svg_well_formed_and_escaped)
{
	double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {1, 2, NAN, 4, 5, 6}, t[6] = {3, 3, 3, 3, 3, 3};
	struct chart_series s[2] = {
		{"tol <&> \"q\" 'a'", x, t, 6, CHART_THRESHOLD, 0, true},
		{"cand\033]0;owned\007 \xff\xfe bad", x, y, 6, CHART_CAND, 0, false}};
	struct chart_mark m = {"first violation 3 </text><script>", 3, CHART_FAIL};
	struct chart_hline h = {"limit", 5.5, CHART_FAIL};
	struct chart c;
	memset(&c, 0, sizeof(c));
	c.title = "energy & <friends>";
	c.x_title = "step";
	c.y_title = "|d|";
	c.series = s;
	c.n_series = 2;
	c.marks = &m;
	c.n_marks = 1;
	c.hlines = &h;
	c.n_hlines = 1;
	struct buf b = BUF_INIT;
	chart_svg(&c, 640, 320, &b);
	struct xml_count xc;
	if (parse_xml(b.data, b.len, &xc)) {
		/* the tolerance is one polyline, the candidate two (NaN gap) */
		CHECK_INT(xc.polylines, 3);
		CHECK(xc.depth_max == 2); /* everything directly in <svg> */
		const char *txt = buf_cstr(&xc.text);
		CHECK(strstr(txt, "energy & <friends>") != NULL);
		CHECK(strstr(txt, "tol <&> \"q\" 'a'") != NULL);
		CHECK(strstr(txt, "first violation 3 </text><script>") != NULL);
		CHECK(strstr(txt, "\xef\xbf\xbd") != NULL); /* invalid UTF-8 shown as U+FFFD */
		CHECK(strchr(txt, '\033') == NULL && strchr(txt, '\007') == NULL);
	}
	CHECK(strstr(b.data, "<script>") == NULL);
	CHECK(strstr(b.data, "stroke-dasharray") != NULL);
	buf_release(&xc.text);
	buf_release(&b);

	/* the file, written through a temporary name */
	struct cs_err err;
	err_clear(&err);
	char *path = path_join(t_tmpdir(), "chart.svg");
	CHECK_OK(chart_svg_write(&c, 400, 200, path, &err));
	struct buf f = BUF_INIT;
	CHECK_OK(file_read_all(path, 1 << 20, &f, &err));
	if (f.len && parse_xml(f.data, f.len, &xc))
		buf_release(&xc.text);
	buf_release(&f);
	free(path);
	CHECK_INT(chart_svg_write(&c, 400, 200, "/nonexistent-dir/x.svg", &err), -1);
	CHECK(strstr(err.msg, "cannot write '/nonexistent-dir/x.svg'") != NULL);
}

TEST(log_scale_and_numbers)
{
	double y[4] = {1e-20, 1e-12, 0, 1e-9};
	struct chart_series s = {"d", NULL, y, 4, CHART_DELTA, 0, false};
	struct chart c;
	memset(&c, 0, sizeof(c));
	c.series = &s;
	c.n_series = 1;
	c.log_y = true;
	char *got = render(&c, 30, 8, false);
	/* the range spans 1e-20..1e-9 (0 is left out); labels are powers */
	CHECK(strstr(got, "e-09") != NULL || strstr(got, "e-10") != NULL);
	CHECK(strstr(got, "e-20") != NULL || strstr(got, "e-21") != NULL);
	free(got);
	char t[32];
	chart_format_num(607, t, sizeof(t));
	CHECK_STR(t, "607");
	chart_format_num(-0.000168874301, t, sizeof(t));
	CHECK_STR(t, "-0.000169");
	chart_format_num(1.17e-12, t, sizeof(t));
	CHECK_STR(t, "1.17e-12");
	chart_format_num(0.5, t, sizeof(t));
	CHECK_STR(t, "0.5");
	chart_format_num(NAN, t, sizeof(t));
	CHECK_STR(t, "nan");
}

/* chart_format_num as it was, all snprintf: the reference */
static void format_ref(double v, char *out, size_t n)
{
	if (isnan(v))
		snprintf(out, n, "nan");
	else if (isinf(v))
		snprintf(out, n, v > 0 ? "inf" : "-inf");
	else if (v == 0)
		snprintf(out, n, "0");
	else if (fabs(v) < 1e9 && v == floor(v))
		snprintf(out, n, "%.0f", v);
	else if (fabs(v) >= 1e-3 && fabs(v) < 1e6)
		snprintf(out, n, "%.4g", v);
	else
		snprintf(out, n, "%.3g", v);
}

static int format_differs(double v)
{
	char a[48], b[48];
	chart_format_num(v, a, sizeof(a));
	format_ref(v, b, sizeof(b));
	if (strcmp(a, b)) {
		fprintf(stderr, "chart_format_num(%.17g): '%s', snprintf '%s'\n", v, a, b);
		return 1;
	}
	return 0;
}

/* The formatter without printf gives snprintf's bytes: random values over
 * every magnitude, decimal values of few digits (ties in decimal, not in
 * binary), the edges where the exponent or the style changes, and their
 * neighbours one ulp away. */
TEST(format_num_as_snprintf)
{
	int bad = 0;
	uint64_t r = 88172645463325252ull;
	for (int i = 0; i < 400000 && bad < 5; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		double m = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
		int e = (int)(r % 41) - 20;
		double v = m * pow(10, e);
		if (r & 1)
			v = -v;
		bad += format_differs(v);
	}
	for (int d = 1; d <= 6 && bad < 5; d++) {
		double scale = pow(10, d);
		for (long k = 1; k < 2000000 && bad < 5; k += (k < 20000 ? 1 : 997)) {
			double v = (double)k / scale;
			bad += format_differs(v) + format_differs(-v);
			bad += format_differs(nextafter(v, 0)) + format_differs(nextafter(v, INFINITY));
		}
	}
	static const double edges[] = {1e-3, 9.9995e-4, 1e6, 999999.5, 999950, 99995, 9999.5,
				       999.95, 99.995, 9.9995, 0.99995, 0.099995, 0.0099995,
				       0.00099995, 1e9, 1e-12, 1e12, 1.0005, 2.5e-5, 123456.5,
				       1e22, 1e-300, 1.7976931348623157e308, 4.9e-324};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		double v = edges[i];
		for (int k = 0; k < 8; k++) {
			bad += format_differs(v) + format_differs(-v);
			v = nextafter(v, INFINITY);
		}
		v = edges[i];
		for (int k = 0; k < 8; k++) {
			v = nextafter(v, 0);
			bad += format_differs(v) + format_differs(-v);
		}
	}
	CHECK(bad == 0);
}

/* A cursor: one caret on the x axis line under its point (at the ends of
 * the axis for the first and last points), in the candidate role; none
 * without one. */
TEST(cursor_caret)
{
	struct chart c;
	struct chart_series s;
	struct chart_hline h;
	struct chart_mark m;
	diag_chart(&c, &s, &h, &m);
	for (int utf8 = 0; utf8 < 2; utf8++) {
		const char *caret = utf8 ? "\u25b2" : "^";
		char *none = render(&c, 24, 8, utf8);
		CHECK(strstr(none, caret) == NULL);
		free(none);
		c.has_cursor = true;
		c.cursor_x = 0;
		char *first = render(&c, 24, 8, utf8);
		char want[32];
		snprintf(want, sizeof(want), "%s%s", utf8 ? "\u2514" : "+", caret);
		CHECK(strstr(first, want) != NULL);
		free(first);
		c.cursor_x = 9;
		char *last = render(&c, 24, 8, utf8);
		snprintf(want, sizeof(want), "%s\n", caret);
		CHECK(strstr(last, want) != NULL);
		free(last);
		c.has_cursor = false;
	}
	c.has_cursor = true;
	c.cursor_x = 3;
	struct chart_text t;
	chart_render(&c, 24, 8, true, &t);
	int carets = 0;
	for (int i = 0; i < t.n; i++)
		for (int k = 0; k < t.lines[i].n_spans; k++) {
			const struct chart_span *sp = &t.lines[i].spans[k];
			if (sp->len == 3 && !memcmp(t.lines[i].text + sp->off, "\u25b2", 3)) {
				carets++;
				CHECK_INT(sp->role, CHART_CAND);
			}
		}
	CHECK_INT(carets, 1);
	chart_text_release(&t);
}
