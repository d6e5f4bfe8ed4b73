/* metricfile.c - the metric-file parsers (see artifact.h): CSV/TSV scanned
 * twice in place, JSONL a line at a time, JSON documents an array element at
 * a time or whole (cJSON) when the root is an object. */
#include "artifact.h"
#include "artifact_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* --- metrics: common -------------------------------------------------------------- */

struct metrics {
	const char *data;       /* whole input, for error positions */
	size_t n;
	metrics_cb cb;
	void *ctx;
	struct cs_err *err;
	long count;
	struct buf path;        /* current metric name while flattening JSON */
	struct buf xname;       /* current row's x column name (JSON rows) */
	struct buf scratch;     /* sanitised copy of a JSON slice */
};

static int met_emit(struct metrics *m, const char *name, const char *x_name, long idx, double x,
		    double v, bool missing, size_t off)
{
	struct metric_point p = {name, x_name, idx, x, missing ? NAN : v, missing};
	if (m->cb && m->cb(m->ctx, &p) != 0) {
		if (m->err && m->err->code)
			return -1;
		long line, col;
		art_line_col(m->data, off, &line, &col);
		return err_set(m->err, CS_EINVAL, "stopped by the metrics callback at line %ld", line);
	}
	m->count++;
	return 0;
}

static int met_fail_at(struct metrics *m, size_t off, const char *what)
{
	long line, col;
	art_line_col(m->data, off, &line, &col);
	return err_set(m->err, CS_EINVAL, "%s at line %ld, column %ld (byte %zu)", what, line, col,
		       off);
}

/* --- CSV / TSV ----------------------------------------------------------------------- */

struct csv {
	const char *d;
	size_t n, pos;
	char sep;
	long line;              /* line of pos, 1-based */
	bool row_start;
	long row_line;          /* line where the current row began */
	/* the cell just read */
	const char *cell;
	size_t cell_len;
	bool quoted;            /* cell is the raw inside of quotes, "" still doubled */
	size_t cell_off;
};

/* csv_next() results; errors return -1 */
enum { CSV_CELL, CSV_LAST, CSV_EOF };

static void csv_eol(struct csv *c)
{
	if (c->pos < c->n && c->d[c->pos] == '\r')
		c->pos++;
	if (c->pos < c->n && c->d[c->pos] == '\n')
		c->pos++;
	c->line++;
}

static int csv_next(struct csv *c, struct cs_err *err)
{
	if (c->row_start) {
		for (;;) {
			size_t p = c->pos;
			while (p < c->n && (c->d[p] == ' ' || (c->d[p] == '\t' && c->sep != '\t')))
				p++;
			if (p >= c->n)
				return CSV_EOF;
			if (c->d[p] != '\r' && c->d[p] != '\n')
				break;
			c->pos = p;
			csv_eol(c);
		}
		c->row_start = false;
		c->row_line = c->line;
	}
	const char *d = c->d;
	size_t p = c->pos;
	c->cell_off = p;
	if (p < c->n && d[p] == '"') {
		long start_line = c->line;
		size_t s = ++p;
		for (;;) {
			const char *q = memchr(d + p, '"', c->n - p);
			if (!q)
				return err_set(err, CS_EINVAL,
					       "unterminated quoted field starting at line %ld", start_line);
			for (const char *t = d + p; t < q; t++)
				if (*t == '\n')
					c->line++;
			p = (size_t)(q - d) + 1;
			if (p < c->n && d[p] == '"') {
				p++;
				continue;
			}
			break;
		}
		c->cell = d + s;
		c->cell_len = p - 1 - s;
		c->quoted = true;
		while (p < c->n && d[p] == ' ')
			p++;
		if (p < c->n && d[p] != c->sep && d[p] != '\r' && d[p] != '\n')
			return err_set(err, CS_EINVAL,
				       "unexpected character after a closing quote at line %ld", c->line);
	} else {
		size_t s = p;
		while (p < c->n && d[p] != c->sep && d[p] != '\n' && d[p] != '\r')
			p++;
		c->cell = d + s;
		c->cell_len = p - s;
		c->quoted = false;
	}
	if (p < c->n && d[p] == c->sep) {
		c->pos = p + 1;
		return CSV_CELL;
	}
	c->pos = p;
	csv_eol(c);
	c->row_start = true;
	return CSV_LAST;
}

/* The cell's text with "" undoubled, at most max bytes (then *truncated). */
static void csv_cell_text(const struct csv *c, struct buf *out, size_t max, bool *truncated)
{
	*truncated = false;
	if (!c->quoted) {
		if (c->cell_len > max) {
			*truncated = true;
			return;
		}
		buf_add(out, c->cell, c->cell_len);
		return;
	}
	for (size_t i = 0; i < c->cell_len; i++) {
		if (out->len >= max) {
			*truncated = true;
			return;
		}
		buf_addc(out, c->cell[i]);
		if (c->cell[i] == '"')
			i++;
	}
}

static enum cell_kind csv_classify(const struct csv *c, struct buf *tmp, double *v)
{
	bool trunc;
	buf_reset(tmp);
	csv_cell_text(c, tmp, 127, &trunc);
	if (trunc)
		return CELL_TEXT;
	return art_classify_number(buf_cstr(tmp), tmp->len, v);
}

struct col {
	char *name;
	bool text, number, missing;
};

struct name_ref {
	const char *name;
	size_t idx;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Duplicate names get "#2", "#3"... in column order: a CSV written by a
 * careless script should still import, and the suffix makes the clash visible. */
static void dedup_names(struct col *cols, size_t ncols)
{
	struct name_ref *refs = xcalloc(ncols, sizeof(*refs));
	for (size_t i = 0; i < ncols; i++)
		refs[i] = (struct name_ref){cols[i].name, i};
	qsort(refs, ncols, sizeof(*refs), name_ref_cmp);
	int dup = 1;
	for (size_t i = 1; i < ncols; i++) {
		if (strcmp(refs[i].name, refs[i - 1].name) != 0) {
			dup = 1;
			continue;
		}
		dup++;
		size_t k = refs[i].idx;
		char *renamed = xasprintf("%s#%d", cols[k].name, dup);
		/* refs[i].name must stay valid for the next comparison */
		refs[i].name = cols[refs[i - 1].idx].name;
		free(cols[k].name);
		cols[k].name = renamed;
	}
	free(refs);
}

static long csv_parse(struct metrics *m, size_t start, char sep)
{
	struct csv c = {m->data, m->n, start, sep, 1, true, 0, NULL, 0, false, 0};
	struct cs_err *err = m->err;
	struct col *cols = NULL;
	size_t ncols = 0, alloc = 0;
	struct buf tmp = BUF_INIT;
	long ret = -1;
	const char *fmt = sep == '\t' ? "TSV" : "CSV";

	/* header */
	int r;
	for (;;) {
		r = csv_next(&c, err);
		if (r < 0)
			goto out;
		if (r == CSV_EOF) {
			if (ncols == 0) {
				err_set(err, CS_EINVAL, "empty %s file: no header line", fmt);
				goto out;
			}
			break;
		}
		if (ncols >= MAX_COLUMNS) {
			err_set(err, CS_EINVAL, "%s header at line %ld has more than %d columns", fmt,
				c.row_line, MAX_COLUMNS);
			goto out;
		}
		bool trunc;
		buf_reset(&tmp);
		csv_cell_text(&c, &tmp, NAME_CAP, &trunc);
		if (trunc) {
			err_set(err, CS_EINVAL, "%s header at line %ld: column %zu has a name longer than %d bytes",
				fmt, c.row_line, ncols + 1, NAME_CAP);
			goto out;
		}
		const char *s = buf_cstr(&tmp);
		size_t len = tmp.len;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		XGROW(cols, alloc, ncols + 1);
		memset(&cols[ncols], 0, sizeof(cols[ncols]));
		if (len == 0) {
			cols[ncols].name = xasprintf("column%zu", ncols + 1);
		} else {
			struct buf nb = BUF_INIT;
			art_add_clean(&nb, s, len);
			cols[ncols].name = buf_detach(&nb, NULL);
		}
		ncols++;
		if (r == CSV_LAST)
			break;
	}
	dedup_names(cols, ncols);
	size_t data_start = c.pos;
	long data_line = c.line;

	/* pass 1: shape and column types */
	size_t cell = 0;
	for (;;) {
		r = csv_next(&c, err);
		if (r < 0)
			goto out;
		if (r == CSV_EOF)
			break;
		if (cell < ncols) {
			double v;
			switch (csv_classify(&c, &tmp, &v)) {
			case CELL_TEXT: cols[cell].text = true; break;
			case CELL_NUMBER: cols[cell].number = true; break;
			case CELL_MISSING: cols[cell].missing = true; break;
			}
		}
		cell++;
		if (r == CSV_LAST) {
			if (cell != ncols) {
				err_set(err, CS_EINVAL, "%s line %ld has %zu cell%s, the header has %zu",
					fmt, c.row_line, cell, cell == 1 ? "" : "s", ncols);
				goto out;
			}
			cell = 0;
		}
	}

	size_t xcol = ncols;
	for (size_t i = 0; i < ncols; i++) {
		if (art_is_x_name(cols[i].name, strlen(cols[i].name))) {
			/* an x axis with holes or words is no axis: fall back to row order */
			if (cols[i].number && !cols[i].text && !cols[i].missing)
				xcol = i;
			break;
		}
	}

	/* pass 2: report */
	c.pos = data_start;
	c.line = data_line;
	c.row_start = true;
	long idx = 0;
	for (;;) {
		struct csv at_row = c;
		double x = (double)idx;
		if (xcol < ncols) {
			for (size_t i = 0; i <= xcol; i++) {
				r = csv_next(&c, err);
				if (r < 0)
					goto out;
				if (r == CSV_EOF)
					break;
			}
			if (r == CSV_EOF)
				break;
			csv_classify(&c, &tmp, &x);
			c = at_row;
		}
		size_t i = 0;
		do {
			r = csv_next(&c, err);
			if (r < 0)
				goto out;
			if (r == CSV_EOF)
				break;
			if (i != xcol && cols[i].number && !cols[i].text) {
				double v = 0;
				enum cell_kind k = csv_classify(&c, &tmp, &v);
				if (met_emit(m, cols[i].name, xcol < ncols ? cols[xcol].name : NULL, idx, x,
					     v, k != CELL_NUMBER, c.cell_off) < 0)
					goto out;
			}
			i++;
		} while (r == CSV_CELL);
		if (r == CSV_EOF)
			break;
		idx++;
	}
	ret = m->count;
out:
	for (size_t i = 0; i < ncols; i++)
		free(cols[i].name);
	free(cols);
	buf_release(&tmp);
	return ret;
}

/* --- JSON ------------------------------------------------------------------------------ */

/* Sentinel left by json_prescan() where Python wrote NaN/Infinity: a string
 * holding one 0x01 byte, which valid JSON cannot contain unescaped. Same
 * length as the original token, so cJSON's error offsets stay true. */
static const char MISSING_MARK[] = "\x01";

/* Check what cJSON does not: nesting depth (cJSON's own limit is 1000 and
 * recursive), raw control bytes in strings, NUL bytes. Finds the bare NaN,
 * Infinity and -Infinity that Python's json module writes; with out != NULL
 * copies the slice with those replaced by the sentinel string. */
static int json_prescan(struct metrics *m, size_t start, size_t end, bool *nonfinite,
			int *open, struct buf *out)
{
	const char *d = m->data;
	int depth = 0;
	*nonfinite = false;
	*open = 0;
	if (out) {
		buf_reset(out);
		buf_add(out, d + start, end - start);
	}
	for (size_t i = start; i < end;) {
		unsigned char c = (unsigned char)d[i];
		if (c == '"') {
			size_t s = i++;
			for (;;) {
				if (i >= end)
					return met_fail_at(m, s, "unterminated JSON string");
				unsigned char ch = (unsigned char)d[i];
				if (ch == '\\') {
					i += 2;
					continue;
				}
				if (ch == '"')
					break;
				if (ch < 0x20)
					return met_fail_at(m, i, ch ? "control character in a JSON string"
								    : "NUL byte in JSON");
				i++;
			}
			i++;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_DEPTH_CAP) {
				char what[80];
				snprintf(what, sizeof(what), "JSON nested deeper than %d levels",
					 JSON_DEPTH_CAP);
				return met_fail_at(m, i, what);
			}
			i++;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
			i++;
		} else if (c == 0) {
			return met_fail_at(m, i, "NUL byte in JSON");
		} else if (c == 'N' || c == 'I' || (c == '-' && i + 1 < end && d[i + 1] == 'I')) {
			static const char *const toks[] = {"NaN", "Infinity", "-Infinity"};
			size_t tl = 0;
			for (size_t t = 0; t < ARRAY_SIZE(toks); t++) {
				size_t l = strlen(toks[t]);
				if (end - i >= l && memcmp(d + i, toks[t], l) == 0 &&
				    (i + l == end || !((d[i + l] >= 'a' && d[i + l] <= 'z') ||
						       (d[i + l] >= 'A' && d[i + l] <= 'Z') ||
						       art_is_digit(d[i + l])))) {
					tl = l;
					break;
				}
			}
			if (!tl) {
				i++;
				continue;
			}
			*nonfinite = true;
			if (out) {
				char *o = out->data + (i - start);
				memset(o, ' ', tl);
				o[0] = '"';
				o[1] = MISSING_MARK[0];
				o[2] = '"';
			}
			i += tl;
		} else {
			i++;
		}
	}
	*open = depth;
	return 0;
}

static int json_emit_leaves(struct metrics *m, const cJSON *it, const char *x_name, long idx,
			    double x, size_t off)
{
	if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
		size_t keep = m->path.len;
		long k = 0;
		for (const cJSON *ch = it->child; ch; ch = ch->next, k++) {
			if (keep)
				buf_addc(&m->path, '.');
			if (cJSON_IsObject(it)) {
				const char *key = ch->string ? ch->string : "";
				art_add_clean(&m->path, key, strlen(key));
			} else {
				buf_addf(&m->path, "%ld", k);
			}
			if (m->path.len > NAME_CAP) {
				char what[128];
				snprintf(what, sizeof(what), "metric name longer than %d bytes (\"%.40s...\")",
					 NAME_CAP, m->path.data);
				return met_fail_at(m, off, what);
			}
			int r = json_emit_leaves(m, ch, x_name, idx, x, off);
			m->path.len = keep;
			if (m->path.data)
				m->path.data[keep] = '\0';
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!m->path.len)
		return 0; /* a bare scalar has no name */
	const char *name = m->path.data;
	if (cJSON_IsNumber(it)) {
		double v = it->valuedouble;
		return met_emit(m, name, x_name, idx, x, v, !isfinite(v), off);
	}
	if (cJSON_IsNull(it) || (cJSON_IsString(it) && it->valuestring &&
				 strcmp(it->valuestring, MISSING_MARK) == 0))
		return met_emit(m, name, x_name, idx, x, 0, true, off);
	return 0; /* strings and booleans are not metrics */
}

/* One row: an object whose keys are columns; the first key named like an x
 * axis with a number is the row's x. */
static int json_emit_row(struct metrics *m, const cJSON *obj, long idx, size_t off)
{
	const cJSON *xit = NULL;
	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		if (ch->string && art_is_x_name(ch->string, strlen(ch->string))) {
			if (cJSON_IsNumber(ch) && isfinite(ch->valuedouble))
				xit = ch;
			break;
		}
	}
	const char *x_name = NULL;
	double x = (double)idx;
	if (xit) {
		buf_reset(&m->xname);
		art_add_clean(&m->xname, xit->string, strlen(xit->string));
		x_name = m->xname.data;
		x = xit->valuedouble;
	}
	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		if (ch == xit)
			continue;
		buf_reset(&m->path);
		const char *key = ch->string ? ch->string : "";
		art_add_clean(&m->path, key, strlen(key));
		if (m->path.len > NAME_CAP) {
			char what[64];
			snprintf(what, sizeof(what), "JSON key longer than %d bytes", NAME_CAP);
			return met_fail_at(m, off, what);
		}
		if (!m->path.len)
			buf_adds(&m->path, "(empty)");
		int r = json_emit_leaves(m, ch, x_name, idx, x, off);
		if (r < 0)
			return r;
	}
	return 0;
}

static size_t skip_ws(const char *d, size_t i, size_t end)
{
	while (i < end && art_is_space((unsigned char)d[i]))
		i++;
	return i;
}

/* Parse d[start, end) as one JSON value (after json_prescan passed). */
static cJSON *json_parse_slice(struct metrics *m, size_t start, size_t end)
{
	bool nonfinite;
	int open;
	if (json_prescan(m, start, end, &nonfinite, &open, NULL) < 0)
		return NULL;
	const char *base = m->data + start;
	if (nonfinite) {
		if (json_prescan(m, start, end, &nonfinite, &open, &m->scratch) < 0)
			return NULL;
		base = m->scratch.data;
	}
	const char *stop = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(base, end - start, &stop, false);
	size_t at = stop ? (size_t)(stop - base) : 0;
	if (!v) {
		/* cJSON clamps an error at the end of input to the last byte */
		if (open > 0 && start + at + 1 >= end)
			met_fail_at(m, end, "unexpected end of JSON (unclosed object or array)");
		else
			met_fail_at(m, start + at, "invalid JSON");
		return NULL;
	}
	at = skip_ws(base, at, end - start);
	if (at != end - start) {
		cJSON_Delete(v);
		met_fail_at(m, start + at, "unexpected data after a JSON value");
		return NULL;
	}
	return v;
}

static long jsonl_parse(struct metrics *m, size_t start)
{
	const char *d = m->data;
	size_t pos = start;
	long idx = 0;
	bool any = false;
	while (pos < m->n) {
		const char *nl = memchr(d + pos, '\n', m->n - pos);
		size_t end = nl ? (size_t)(nl - d) : m->n;
		size_t s = skip_ws(d, pos, end);
		size_t next = nl ? end + 1 : end;
		if (s == end) {
			pos = next;
			continue;
		}
		any = true;
		cJSON *row = json_parse_slice(m, s, end);
		if (!row)
			return -1;
		if (!cJSON_IsObject(row)) {
			cJSON_Delete(row);
			met_fail_at(m, s, "expected a JSON object (one per line)");
			return -1;
		}
		int r = json_emit_row(m, row, idx, s);
		cJSON_Delete(row);
		if (r < 0)
			return -1;
		idx++;
		pos = next;
	}
	if (!any)
		return err_set(m->err, CS_EINVAL, "empty JSONL file");
	return m->count;
}

/* End of the value starting at d[i] (string/bracket aware, not validating:
 * cJSON validates each slice afterwards). */
static size_t json_skip_value(const char *d, size_t i, size_t end)
{
	int depth = 0;
	while (i < end) {
		char c = d[i];
		if (c == '"') {
			for (i++; i < end && d[i] != '"'; i++)
				if (d[i] == '\\')
					i++;
			i++;
			if (depth == 0)
				return MIN(i, end);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || art_is_space((unsigned char)c))) {
			return i;
		}
		i++;
	}
	return end;
}

static long json_doc_parse(struct metrics *m, size_t start)
{
	const char *d = m->data;
	size_t end = m->n;
	size_t i = skip_ws(d, start, end);
	if (i == end)
		return err_set(m->err, CS_EINVAL, "empty JSON file");

	if (d[i] != '[') {
		cJSON *root = json_parse_slice(m, i, end);
		if (!root)
			return -1;
		buf_reset(&m->path);
		int r = json_emit_leaves(m, root, NULL, 0, 0, i);
		cJSON_Delete(root);
		return r < 0 ? -1 : m->count;
	}

	/* top-level array: one element at a time, so a big array of rows costs
	 * one row of cJSON tree. Rows when the first element is an object. */
	bool nonfinite;
	int open;
	if (json_prescan(m, i, end, &nonfinite, &open, NULL) < 0)
		return -1;
	i = skip_ws(d, i + 1, end);
	if (i < end && d[i] == ']') {
		i = skip_ws(d, i + 1, end);
		if (i != end)
			return met_fail_at(m, i, "unexpected data after the JSON document");
		return 0;
	}
	bool rows = false;
	for (long k = 0;; k++) {
		if (i >= end)
			return met_fail_at(m, end, "unexpected end of JSON");
		size_t ve = json_skip_value(d, i, end);
		if (ve == i)
			return met_fail_at(m, i, "invalid JSON");
		cJSON *el = json_parse_slice(m, i, ve);
		if (!el)
			return -1;
		if (k == 0)
			rows = cJSON_IsObject(el);
		int r;
		if (rows) {
			if (!cJSON_IsObject(el)) {
				cJSON_Delete(el);
				return met_fail_at(m, i, "expected an object like the first element of the array");
			}
			r = json_emit_row(m, el, k, i);
		} else {
			buf_reset(&m->path);
			buf_addf(&m->path, "%ld", k);
			r = json_emit_leaves(m, el, NULL, 0, 0, i);
		}
		cJSON_Delete(el);
		if (r < 0)
			return -1;
		i = skip_ws(d, ve, end);
		if (i < end && d[i] == ',') {
			i = skip_ws(d, i + 1, end);
			continue;
		}
		if (i < end && d[i] == ']')
			break;
		if (i >= end)
			return met_fail_at(m, end, "unexpected end of JSON");
		return met_fail_at(m, i, "expected ',' or ']' in the JSON array");
	}
	i = skip_ws(d, i + 1, end);
	if (i != end)
		return met_fail_at(m, i, "unexpected data after the JSON document");
	return m->count;
}

static enum metrics_format guess_format(const char *name, const char *d, size_t n)
{
	if (art_name_has_ext(name, ".csv"))
		return MET_CSV;
	if (art_name_has_ext(name, ".tsv") || art_name_has_ext(name, ".tab"))
		return MET_TSV;
	if (art_name_has_ext(name, ".jsonl") || art_name_has_ext(name, ".ndjson"))
		return MET_JSONL;
	bool json = art_name_has_ext(name, ".json");
	size_t i = skip_ws(d, 0, n);
	if (i < n && d[i] == '{') {
		/* JSON Lines saved as .json: the first object ends on its line and
		 * another follows */
		size_t e = json_skip_value(d, i, n);
		const char *nl = memchr(d + i, '\n', e - i);
		size_t j = skip_ws(d, e, n);
		if (!nl && j < n && d[j] == '{')
			return MET_JSONL;
		return MET_JSON;
	}
	if (json || (i < n && d[i] == '['))
		return MET_JSON;
	const char *nl = memchr(d + i, '\n', n - i);
	size_t le = nl ? (size_t)(nl - d) : n;
	if (memchr(d + i, '\t', le - i) && !memchr(d + i, ',', le - i))
		return MET_TSV;
	return MET_CSV;
}

long metrics_parse(const char *name, const char *data, size_t n, enum metrics_format fmt,
		   metrics_cb cb, void *ctx, struct cs_err *err)
{
	err_clear(err);
	if (!data)
		n = 0;
	size_t start = 0;
	if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	if (fmt == MET_AUTO)
		fmt = guess_format(name, data + start, n - start);

	struct metrics m;
	memset(&m, 0, sizeof(m));
	m.data = data ? data : "";
	m.n = n;
	m.cb = cb;
	m.ctx = ctx;
	m.err = err;

	long r;
	switch (fmt) {
	case MET_CSV: r = csv_parse(&m, start, ','); break;
	case MET_TSV: r = csv_parse(&m, start, '\t'); break;
	case MET_JSONL: r = jsonl_parse(&m, start); break;
	case MET_JSON: r = json_doc_parse(&m, start); break;
	default: r = err_set(err, CS_EUSAGE, "unknown metrics format %d", (int)fmt); break;
	}
	buf_release(&m.path);
	buf_release(&m.xname);
	buf_release(&m.scratch);
	return r;
}
