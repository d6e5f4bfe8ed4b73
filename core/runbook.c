/* runbook.c - the runbook format (see runbook.h): a Markdown file read into
 * its front matter, steps, their attributes and prose (runbook_parse,
 * runbook_load_file). Variables, placeholders, capture and redaction are
 * core/rbvars.c. */
#include "runbook.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

/* --- lines ------------------------------------------------------------------------------- */
struct line {
	const char *s;
	size_t n; /* without the line end */
};

static void split_lines(const char *text, size_t n, struct line **out, int *count)
{
	struct line *v = NULL;
	size_t alloc = 0;
	int c = 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && text[j] != '\n')
			j++;
		size_t len = j - i;
		if (len > 0 && text[i + len - 1] == '\r')
			len--;
		XGROW(v, alloc, (size_t)c + 1);
		v[c].s = text + i;
		v[c].n = len;
		c++;
		i = j + 1;
	}
	*out = v;
	*count = c;
}

static size_t indent_of(const struct line *l)
{
	size_t i = 0;
	while (i < l->n && l->s[i] == ' ')
		i++;
	return i;
}

static bool blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t')
			return false;
	return true;
}

static char *trimdup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

static int perr(struct cs_err *err, const char *path, int line, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
static int perr(struct cs_err *err, const char *path, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(err, CS_EINVAL, "%s:%d: %s", path, line, msg);
}

/* --- front matter ------------------------------------------------------------------------ */
/* A scalar: "double" (with \" \\), 'single' (with ''), or bare. */
static char *scalar(const char *s, size_t n)
{
	char *t = trimdup(s, n);
	size_t len = strlen(t);
	if (len >= 2 && t[0] == '"' && t[len - 1] == '"') {
		struct buf b = BUF_INIT;
		for (size_t i = 1; i + 1 < len; i++) {
			if (t[i] == '\\' && i + 2 < len)
				i++;
			buf_addc(&b, t[i]);
		}
		free(t);
		buf_cstr(&b);
		return buf_detach(&b, NULL);
	}
	if (len >= 2 && t[0] == '\'' && t[len - 1] == '\'') {
		struct buf b = BUF_INIT;
		for (size_t i = 1; i + 1 < len; i++) {
			if (t[i] == '\'' && t[i + 1] == '\'')
				i++;
			buf_addc(&b, t[i]);
		}
		free(t);
		buf_cstr(&b);
		return buf_detach(&b, NULL);
	}
	return t;
}

static void add_report_sections(struct runbook *rb, const char *list)
{
	const char *p = list;
	while (*p) {
		size_t k = strcspn(p, ",");
		char *s = trimdup(p, k);
		if (*s) {
			rb->report_sections = xrealloc(rb->report_sections,
						       sizeof(char *) * (size_t)(rb->n_report_sections + 1));
			rb->report_sections[rb->n_report_sections++] = s;
		} else {
			free(s);
		}
		p += k;
		if (*p == ',')
			p++;
	}
}

/* Runme's front-matter keys: accepted, not used. */
static bool runme_key(const char *k)
{
	static const char *const keys[] = {"runme", "shell", "cwd", "skipPrompts", "category",
					   "terminalRows", "id", "version", NULL};
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static int parse_front(const char *path, struct line *L, int from, int to, struct runbook *rb,
		       struct cs_err *err)
{
	enum { TOP, VARS, REPORT, IGNORED } section = TOP;
	struct rb_var_decl *cur = NULL;
	size_t cur_indent = 0;
	for (int i = from; i < to; i++) {
		struct line *l = &L[i];
		int ln = i + 1;
		if (blank(l) || (indent_of(l) < l->n && l->s[indent_of(l)] == '#'))
			continue;
		for (size_t k = 0; k < l->n && (l->s[k] == ' ' || l->s[k] == '\t'); k++)
			if (l->s[k] == '\t')
				return perr(err, path, ln, "a tab in the front matter's indentation: indent with spaces");
		size_t ind = indent_of(l);
		const char *s = l->s + ind;
		size_t n = l->n - ind;
		if (ind == 0) {
			const char *colon = memchr(s, ':', n);
			if (!colon)
				return perr(err, path, ln, "expected 'key: value' in the front matter");
			char *key = trimdup(s, (size_t)(colon - s));
			const char *v = colon + 1;
			size_t vn = n - (size_t)(colon + 1 - s);
			char *val = scalar(v, vn);
			cur = NULL;
			int rc = 0;
			if (!strcmp(key, "title")) {
				free(rb->title);
				rb->title = val;
				val = NULL;
				section = TOP;
			} else if (!strcmp(key, "when")) {
				free(rb->when);
				rb->when = val;
				val = NULL;
				section = TOP;
			} else if (!strcmp(key, "variables")) {
				if (*val)
					rc = perr(err, path, ln, "variables: list them on the lines below, indented");
				section = VARS;
			} else if (!strcmp(key, "report")) {
				add_report_sections(rb, val);
				section = REPORT;
			} else if (runme_key(key)) {
				section = IGNORED;
			} else {
				rc = perr(err, path, ln,
					  "unknown front-matter key '%s' (title, when, variables, report)", key);
			}
			free(key);
			free(val);
			if (rc < 0)
				return rc;
			continue;
		}
		if (section == IGNORED)
			continue;
		if (section == REPORT) {
			if (n >= 1 && s[0] == '-') {
				char *v = scalar(s + 1, n - 1);
				add_report_sections(rb, v);
				free(v);
				continue;
			}
			return perr(err, path, ln, "report: expected '- Section heading'");
		}
		if (section != VARS)
			return perr(err, path, ln, "unexpected indented line in the front matter");
		const char *colon = memchr(s, ':', n);
		if (!colon)
			return perr(err, path, ln, "expected 'name: description' under variables");
		char *key = trimdup(s, (size_t)(colon - s));
		char *val = scalar(colon + 1, n - (size_t)(colon + 1 - s));
		if (!cur || ind <= cur_indent) {
			if (!rb_var_name_valid(key)) {
				perr(err, path, ln, "'%s' is not a variable name (letters, digits, _)", key);
				free(key);
				free(val);
				return -1;
			}
			for (int k = 0; k < rb->n_vars; k++)
				if (!strcmp(rb->vars[k].name, key)) {
					perr(err, path, ln, "variable '%s' is declared twice", key);
					free(key);
					free(val);
					return -1;
				}
			rb->vars = xrealloc(rb->vars, sizeof(*rb->vars) * (size_t)(rb->n_vars + 1));
			cur = &rb->vars[rb->n_vars++];
			memset(cur, 0, sizeof(*cur));
			cur->name = key;
			cur->line = ln;
			cur_indent = ind;
			if (*val)
				cur->description = val;
			else
				free(val);
			continue;
		}
		if (!strcmp(key, "description")) {
			free(cur->description);
			cur->description = val;
		} else if (!strcmp(key, "default")) {
			free(cur->def);
			cur->def = val;
		} else {
			perr(err, path, ln, "unknown key '%s' of variable '%s' (description, default)", key,
			     cur->name);
			free(key);
			free(val);
			return -1;
		}
		free(key);
	}
	return 0;
}

/* --- attributes --------------------------------------------------------------------------- */
static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* "30", "30s", "500ms", "2m", "1h" -> ms; -1 when malformed. */
static int64_t parse_duration(const char *v)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return -1;
	double d = strtod(v, &end);
	double mul = 1000;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (d < 0 || d * mul > 7 * 24 * 3600e3)
		return -1;
	return (int64_t)(d * mul);
}

static bool runme_attr(const char *k)
{
	static const char *const keys[] = {"interactive", "promptEnv", "closeTerminalOnSuccess",
					   "mimeType", "excludeFromRunAll", "category", "id",
					   "terminalRows", "interpreter", NULL};
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static int compile_check(const char *re, struct cs_err *err, const char *path, int ln)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MULTILINE,
				      &ec, &off, NULL);
	if (!c) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return perr(err, path, ln, "capture=: bad regex at offset %zu: %s", (size_t)off, (char *)msg);
	}
	pcre2_code_free(c);
	return 0;
}

static int set_attr(struct rb_step *st, const char *k, const char *v, const char *path, int ln,
		    struct cs_err *err)
{
	bool b;
	if (!strcmp(k, "name")) {
		if (!*v)
			return perr(err, path, ln, "name= is empty");
		free(st->name);
		st->name = xstrdup(v);
	} else if (!strcmp(k, "cwd")) {
		free(st->cwd);
		st->cwd = xstrdup(v);
	} else if (!strcmp(k, "background")) {
		if (parse_bool(v, &st->background) < 0)
			return perr(err, path, ln, "background=%s: expected true or false", v);
	} else if (!strcmp(k, "confirm")) {
		free(st->confirm_text);
		st->confirm_text = NULL;
		if (parse_bool(v, &b) == 0) {
			st->confirm = b;
		} else {
			st->confirm = true;
			st->confirm_text = xstrdup(v);
		}
	} else if (!strcmp(k, "sensitive")) {
		if (parse_bool(v, &st->sensitive) < 0)
			return perr(err, path, ln, "sensitive=%s: expected true or false", v);
	} else if (!strcmp(k, "manual")) {
		if (parse_bool(v, &st->manual) < 0)
			return perr(err, path, ln, "manual=%s: expected true or false", v);
	} else if (!strcmp(k, "timeout")) {
		st->timeout_ms = parse_duration(v);
		if (st->timeout_ms <= 0)
			return perr(err, path, ln, "timeout=%s: expected seconds (30, 500ms, 2m, 1h)", v);
	} else if (!strcmp(k, "interval")) {
		st->interval_ms = parse_duration(v);
		if (st->interval_ms < 0)
			return perr(err, path, ln, "interval=%s: expected seconds (10, 500ms, 1m)", v);
	} else if (!strcmp(k, "retry")) {
		char *end;
		long r = strtol(v, &end, 10);
		if (*end || !*v || r < 1 || r > 1000)
			return perr(err, path, ln, "retry=%s: expected a number of attempts, 1 to 1000", v);
		st->retry = (int)r;
	} else if (!strcmp(k, "until-exit")) {
		char *end;
		long r = strtol(v, &end, 10);
		if (*end || !*v || r < 0 || r > 255)
			return perr(err, path, ln, "until-exit=%s: expected an exit code, 0 to 255", v);
		st->until_exit = (int)r;
	} else if (!strcmp(k, "capture")) {
		if (!*v)
			return perr(err, path, ln, "capture= is empty");
		if (compile_check(v, err, path, ln) < 0)
			return -1;
		free(st->capture);
		st->capture = xstrdup(v);
	} else if (runme_attr(k)) {
		/* Runme's own: meaningful in its notebooks, not here */
	} else {
		return perr(err, path, ln,
			    "unknown attribute '%s' (name, cwd, background, confirm, sensitive, "
			    "timeout, retry, interval, until-exit, capture, manual)",
			    k);
	}
	return 0;
}

/* The info string after the language: k=v k="v w" or {k=v ...}. */
static int parse_attrs(const char *s, size_t n, struct rb_step *st, const char *path, int ln,
		       struct cs_err *err)
{
	size_t i = 0;
	bool brace = false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] == '{') {
		brace = true;
		i++;
	}
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i >= n)
			break;
		if (brace && s[i] == '}') {
			i++;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i < n)
				return perr(err, path, ln, "text after the closing '}' of the attributes");
			brace = false;
			break;
		}
		size_t k0 = i;
		while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
			i++;
		if (i == k0)
			return perr(err, path, ln, "expected an attribute name at '%.*s'",
				    (int)(n - i < 20 ? n - i : 20), s + i);
		char *key = xstrndup(s + k0, i - k0);
		struct buf val = BUF_INIT;
		if (i < n && s[i] == '=') {
			i++;
			if (i < n && s[i] == '"') {
				i++;
				bool closed = false;
				for (; i < n; i++) {
					if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
						/* only \" and \\ are escapes: a regex keeps its \w */
						buf_addc(&val, s[++i]);
					} else if (s[i] == '"') {
						closed = true;
						i++;
						break;
					} else {
						buf_addc(&val, s[i]);
					}
				}
				if (!closed) {
					free(key);
					buf_release(&val);
					return perr(err, path, ln, "unterminated \" in the attributes");
				}
			} else {
				while (i < n && s[i] != ' ' && s[i] != '\t' && !(brace && s[i] == '}'))
					buf_addc(&val, s[i++]);
			}
		} else {
			/* a bare attribute is a flag: sensitive, background, manual */
			buf_adds(&val, "true");
		}
		int rc = set_attr(st, key, buf_cstr(&val), path, ln, err);
		free(key);
		buf_release(&val);
		if (rc < 0)
			return rc;
	}
	if (brace)
		return perr(err, path, ln, "missing '}' at the end of the attributes");
	return 0;
}

/* --- the document --------------------------------------------------------------------------- */
static void step_free(struct rb_step *s)
{
	free(s->title);
	free(s->name);
	free(s->prose);
	free(s->command);
	free(s->cwd);
	free(s->confirm_text);
	free(s->capture);
}

void runbook_free(struct runbook *rb)
{
	if (!rb)
		return;
	free(rb->name);
	free(rb->path);
	free(rb->title);
	free(rb->when);
	free(rb->intro);
	for (int i = 0; i < rb->n_report_sections; i++)
		free(rb->report_sections[i]);
	free(rb->report_sections);
	for (int i = 0; i < rb->n_vars; i++) {
		free(rb->vars[i].name);
		free(rb->vars[i].description);
		free(rb->vars[i].def);
	}
	free(rb->vars);
	for (int i = 0; i < rb->n_steps; i++)
		step_free(&rb->steps[i]);
	free(rb->steps);
	memset(rb, 0, sizeof(*rb));
}

/* ATX heading level of l (0: not a heading); *text gets its text. */
static int heading(const struct line *l, const char **text, size_t *tn)
{
	size_t i = indent_of(l);
	if (i > 3)
		return 0;
	int lvl = 0;
	while (i < l->n && l->s[i] == '#' && lvl < 7) {
		lvl++;
		i++;
	}
	if (lvl == 0 || lvl > 6 || (i < l->n && l->s[i] != ' ' && l->s[i] != '\t'))
		return 0;
	size_t end = l->n;
	/* closing #s */
	size_t e = end;
	while (e > i && (l->s[e - 1] == ' ' || l->s[e - 1] == '\t'))
		e--;
	size_t h = e;
	while (h > i && l->s[h - 1] == '#')
		h--;
	if (h < e && (h == i || l->s[h - 1] == ' ' || l->s[h - 1] == '\t'))
		e = h;
	*text = l->s + i;
	*tn = e - i;
	return lvl;
}

/* A top-level numbered item "12. text" / "12) text": the item text. */
static bool numbered(const struct line *l, const char **text, size_t *tn, size_t *content_indent)
{
	size_t i = 0;
	while (i < l->n && i < 9 && isdigit((unsigned char)l->s[i]))
		i++;
	if (i == 0 || i >= l->n || (l->s[i] != '.' && l->s[i] != ')'))
		return false;
	i++;
	if (i < l->n && l->s[i] != ' ')
		return false;
	size_t j = i;
	while (j < l->n && l->s[j] == ' ')
		j++;
	*text = l->s + j;
	*tn = l->n - j;
	*content_indent = j;
	return true;
}

/* A fence opening: its character, length, indent and info string. */
static bool fence_open(const struct line *l, char *ch, size_t *len, size_t *ind, const char **info,
		       size_t *in)
{
	size_t i = indent_of(l);
	if (i >= l->n || (l->s[i] != '`' && l->s[i] != '~'))
		return false;
	char c = l->s[i];
	size_t k = i;
	while (k < l->n && l->s[k] == c)
		k++;
	if (k - i < 3)
		return false;
	if (c == '`' && memchr(l->s + k, '`', l->n - k))
		return false;
	*ch = c;
	*len = k - i;
	*ind = i;
	*info = l->s + k;
	*in = l->n - k;
	return true;
}

static bool fence_close(const struct line *l, char ch, size_t len)
{
	size_t i = indent_of(l);
	size_t k = i;
	while (k < l->n && l->s[k] == ch)
		k++;
	if (k - i < len)
		return false;
	while (k < l->n && (l->s[k] == ' ' || l->s[k] == '\t'))
		k++;
	return k == l->n;
}

static char *slug(const char *title)
{
	struct buf b = BUF_INIT;
	bool dash = false;
	for (const char *p = title; *p && b.len < 48; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c)) {
			if (dash && b.len)
				buf_addc(&b, '-');
			buf_addc(&b, (char)tolower(c));
			dash = false;
		} else {
			dash = true;
		}
	}
	if (!b.len)
		buf_adds(&b, "step");
	buf_cstr(&b);
	return buf_detach(&b, NULL);
}

static void add_prose(struct buf *b, const char *s, size_t n, size_t strip)
{
	size_t ind = 0;
	while (ind < n && ind < strip && s[ind] == ' ')
		ind++;
	buf_add(b, s + ind, n - ind);
	buf_addc(b, '\n');
}

static char *finish_prose(struct buf *b)
{
	/* trim blank lines at both ends */
	size_t a = 0;
	const char *s = b->data ? b->data : "";
	size_t n = b->len;
	while (a < n) {
		size_t e = a;
		while (e < n && (s[e] == ' ' || s[e] == '\t'))
			e++;
		if (e < n && s[e] == '\n')
			a = e + 1;
		else
			break;
	}
	while (n > a && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	char *r = xstrndup(s + a, n - a);
	buf_release(b);
	return r;
}

int runbook_parse(const char *path, const char *text, size_t n, struct runbook *rb,
		  struct cs_err *err)
{
	memset(rb, 0, sizeof(*rb));
	if (n > RUNBOOK_MAX_SIZE)
		return err_set(err, CS_EINVAL, "%s: %zu bytes: a runbook is at most %u bytes", path, n,
			       RUNBOOK_MAX_SIZE);
	const char *nul = memchr(text, '\0', n);
	if (nul) {
		int ln = 1;
		for (const char *q = text; q < nul; q++)
			ln += *q == '\n';
		return perr(err, path, ln, "a NUL byte: a runbook is text");
	}
	if (!utf8_valid(text, n)) {
		size_t good = 0;
		while (good < n) {
			int l = utf8_seq_len((const unsigned char *)text + good, n - good);
			if (!l)
				break;
			good += (size_t)l;
		}
		int ln = 1;
		for (size_t q = 0; q < good; q++)
			ln += text[q] == '\n';
		return perr(err, path, ln, "invalid UTF-8");
	}
	struct line *L;
	int nl;
	split_lines(text, n, &L, &nl);
	rb->path = xstrdup(path);
	const char *base = path_basename(path);
	if (str_starts(path, "builtin:"))
		base = path + 8;
	size_t bl = strlen(base);
	if (bl > 3 && !strcmp(base + bl - 3, ".md"))
		bl -= 3;
	rb->name = xstrndup(base, bl);
	char hx[17];
	snprintf(hx, sizeof(hx), "%016llx", (unsigned long long)fp_hash(text, n, 0x72756e626f6f6bULL));
	memcpy(rb->hash, hx, sizeof(rb->hash));

	int rc = 0;
	int i = 0;
	struct buf prose = BUF_INIT;
	if (nl > 0 && L[0].n == 3 && !memcmp(L[0].s, "---", 3)) {
		int end = -1;
		for (int k = 1; k < nl; k++)
			if ((L[k].n == 3 && (!memcmp(L[k].s, "---", 3) || !memcmp(L[k].s, "...", 3)))) {
				end = k;
				break;
			}
		if (end < 0) {
			rc = perr(err, path, 1, "the front matter opened here is not closed with '---'");
			goto out;
		}
		if (parse_front(path, L, 1, end, rb, err) < 0) {
			rc = -1;
			goto out;
		}
		i = end + 1;
	}

	/* headings or numbered items? */
	bool by_heading = false;
	{
		char ch = 0;
		size_t flen = 0, find, fin;
		const char *info;
		bool infence = false;
		for (int k = i; k < nl; k++) {
			if (infence) {
				if (fence_close(&L[k], ch, flen))
					infence = false;
				continue;
			}
			if (fence_open(&L[k], &ch, &flen, &find, &info, &fin)) {
				infence = true;
				continue;
			}
			const char *t;
			size_t tn;
			if (heading(&L[k], &t, &tn) == 2) {
				by_heading = true;
				break;
			}
		}
	}

	struct rb_step *cur = NULL;
	size_t item_indent = 0;
	size_t alloc = 0;
	for (; i < nl; i++) {
		struct line *l = &L[i];
		int ln = i + 1;
		const char *t = NULL;
		size_t tn = 0, cind = 0;
		int lvl = heading(l, &t, &tn);
		bool starts = false;
		if (by_heading && lvl == 2)
			starts = true;
		else if (!by_heading && numbered(l, &t, &tn, &cind))
			starts = true;
		if (lvl == 1 && !cur && !rb->title) {
			rb->title = trimdup(t, tn);
			continue;
		}
		if (starts) {
			if (cur)
				cur->prose = finish_prose(&prose);
			else
				rb->intro = finish_prose(&prose);
			if (rb->n_steps >= RUNBOOK_MAX_STEPS) {
				rc = perr(err, path, ln, "more than %d steps", RUNBOOK_MAX_STEPS);
				goto out;
			}
			XGROW(rb->steps, alloc, (size_t)rb->n_steps + 1);
			cur = &rb->steps[rb->n_steps];
			memset(cur, 0, sizeof(*cur));
			rb->n_steps++;
			cur->number = rb->n_steps;
			cur->title = trimdup(t, tn);
			cur->line = ln;
			cur->retry = 1;
			item_indent = by_heading ? 0 : cind;
			if (!*cur->title) {
				rc = perr(err, path, ln, "a step without a title");
				goto out;
			}
			continue;
		}
		char ch;
		size_t flen, find, fin;
		const char *info;
		if (fence_open(l, &ch, &flen, &find, &info, &fin)) {
			int open_ln = ln;
			/* the block's lines, up to the closing fence */
			int k = i + 1;
			while (k < nl && !fence_close(&L[k], ch, flen))
				k++;
			if (k >= nl) {
				rc = perr(err, path, open_ln, "this code block is not closed");
				goto out;
			}
			size_t a = 0;
			while (a < fin && (info[a] == ' ' || info[a] == '\t'))
				a++;
			size_t b = a;
			while (b < fin && info[b] != ' ' && info[b] != '\t' && info[b] != '{')
				b++;
			bool is_sh = (b - a == 2 && !strncasecmp(info + a, "sh", 2)) ||
				     (b - a == 5 && !strncasecmp(info + a, "shell", 5));
			if (!is_sh || !cur) {
				/* prose: kept as written */
				for (int q = i; q <= k; q++)
					add_prose(&prose, L[q].s, L[q].n, item_indent);
				i = k;
				continue;
			}
			if (cur->block_line) {
				rc = perr(err, path, open_ln,
					  "step %d ('%s') already has a command block (line %d): one "
					  "block per step, split the step",
					  cur->number, cur->title, cur->block_line);
				goto out;
			}
			cur->block_line = open_ln;
			if (parse_attrs(info + b, fin - b, cur, path, open_ln, err) < 0) {
				rc = -1;
				goto out;
			}
			struct buf cmd = BUF_INIT;
			for (int q = i + 1; q < k; q++)
				add_prose(&cmd, L[q].s, L[q].n, find);
			while (cmd.len && cmd.data[cmd.len - 1] == '\n')
				cmd.data[--cmd.len] = '\0';
			buf_cstr(&cmd);
			cur->command = buf_detach(&cmd, NULL);
			if (!cur->manual) {
				struct cs_err e2;
				err_clear(&e2);
				if (!*cur->command) {
					rc = perr(err, path, open_ln, "an empty command block");
					goto out;
				}
				if (runbook_check_command(cur->command, NULL, NULL, &e2) < 0) {
					int rel = 1;
					sscanf(e2.msg, "line %d", &rel);
					const char *msg = strchr(e2.msg, ':');
					rc = perr(err, path, open_ln + rel, "%s", msg ? msg + 2 : e2.msg);
					goto out;
				}
			}
			i = k;
			continue;
		}
		add_prose(&prose, l->s, l->n, item_indent);
	}
	if (cur)
		cur->prose = finish_prose(&prose);
	else
		rb->intro = finish_prose(&prose);
	if (!rb->intro)
		rb->intro = xstrdup("");
	if (rb->n_steps == 0) {
		rc = perr(err, path, nl ? nl : 1,
			  "no steps: write each step as a '## heading' (or a numbered item '1. ...')");
		goto out;
	}
	if (!rb->title)
		rb->title = xstrdup(rb->name);
	if (rb->n_report_sections == 0)
		add_report_sections(rb, "Root cause, Action items");
	for (int s = 0; s < rb->n_steps; s++) {
		struct rb_step *st = &rb->steps[s];
		if (!st->block_line)
			st->manual = true;
		if (!st->name)
			st->name = slug(st->title);
		for (int q = 0; q < s; q++)
			if (!strcmp(rb->steps[q].name, st->name)) {
				rc = perr(err, path, st->line,
					  "two steps are named '%s' (lines %d and %d): give one a name=",
					  st->name, rb->steps[q].line, st->line);
				goto out;
			}
		if (st->sensitive)
			st->confirm = true;
		snprintf(st->ident, sizeof(st->ident), "%016llx",
			 (unsigned long long)fp_hash(st->name, strlen(st->name), 0x73746570ULL));
	}
out:
	free(L);
	if (rc < 0) {
		buf_release(&prose);
		runbook_free(rb);
		return -1;
	}
	return 0;
}

int runbook_load_file(const char *path, struct runbook *rb, struct cs_err *err)
{
	struct buf b = BUF_INIT;
	memset(rb, 0, sizeof(*rb));
	if (file_read_all(path, RUNBOOK_MAX_SIZE + 1, &b, err) < 0) {
		buf_release(&b);
		return -1;
	}
	int rc = runbook_parse(path, b.data ? b.data : "", b.len, rb, err);
	buf_release(&b);
	return rc;
}

const struct rb_step *runbook_find_step(const struct runbook *rb, const char *spec)
{
	char *end;
	long k = strtol(spec, &end, 10);
	if (*spec && !*end && k >= 1 && k <= rb->n_steps)
		return &rb->steps[k - 1];
	for (int i = 0; i < rb->n_steps; i++)
		if (!strcmp(rb->steps[i].name, spec))
			return &rb->steps[i];
	return NULL;
}
