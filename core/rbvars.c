/* rbvars.c - a runbook's variables (see runbook.h): the placeholders a
 * command names and the check that each stands where the shell keeps it
 * one word (runbook_check_command), their values and where they come from
 * (rb_vars, runbook_resolve, runbook_render_text), values captured from a
 * step's output (runbook_capture) and secret values redacted from text
 * (runbook_redact). The Markdown format itself is core/runbook.c. */
#include "runbook.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- placeholders -------------------------------------------------------------------------- */
bool rb_var_name_valid(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	size_t n = 0;
	for (; *s; s++, n++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return n <= 64;
}

/* At s (pointing at "{{"): the name and the length of the placeholder, or
 * 0 when it is not a well-formed one. */
static size_t placeholder(const char *s, char *name, size_t cap)
{
	if (s[0] != '{' || s[1] != '{')
		return 0;
	size_t i = 2;
	while (s[i] == ' ')
		i++;
	size_t a = i;
	while (isalnum((unsigned char)s[i]) || s[i] == '_')
		i++;
	size_t b = i;
	while (s[i] == ' ')
		i++;
	if (s[i] != '}' || s[i + 1] != '}' || b == a || b - a >= cap)
		return 0;
	memcpy(name, s + a, b - a);
	name[b - a] = '\0';
	if (!rb_var_name_valid(name))
		return 0;
	return i + 2;
}

/* "{{ name" that is meant as a placeholder, well-formed or not. */
static bool attempted(const char *s)
{
	if (s[0] != '{' || s[1] != '{')
		return false;
	size_t i = 2;
	while (s[i] == ' ')
		i++;
	return isalpha((unsigned char)s[i]) || s[i] == '_';
}

void runbook_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

enum ctx { C_CMD, C_CMDSUB, C_DQ, C_BQ };
#define NEST_MAX 64

/* Enters a quote or a command substitution: false when nested too deep. */
static bool nest_enter(enum ctx *stack, int *depth, int *sp, enum ctx c)
{
	if (*sp + 1 >= NEST_MAX)
		return false;
	stack[++*sp] = c;
	depth[*sp] = 0;
	return true;
}

/* A backquote or "$(" at p opens a context in code and inside double
 * quotes alike: the bytes it takes (0: neither), -1 when nested too deep. */
static int open_subst(const char **pp, enum ctx *stack, int *depth, int *sp, bool *word_start)
{
	const char *p = *pp;
	if (*p == '`') {
		if (!nest_enter(stack, depth, sp, C_BQ))
			return -1;
		*pp = p + 1;
		return 1;
	}
	if (p[0] == '$' && p[1] == '(') {
		if (!nest_enter(stack, depth, sp, C_CMDSUB))
			return -1;
		*word_start = true;
		*pp = p + 2;
		return 1;
	}
	return 0;
}

/* A backslash and what it escapes (a newline counted in *line) */
static void skip_escape(const char **pp, int *line)
{
	const char *p = *pp;
	if (p[1] == '\n')
		(*line)++;
	*pp = p + (p[1] ? 2 : 1);
}

/* The shell's quoting, just enough to know what a placeholder stands in.
 * Anything it is unsure of is refused rather than guessed. */
int runbook_check_command(const char *cmd, char ***names, int *n_names, struct cs_err *err)
{
	enum ctx stack[NEST_MAX];
	int depth[NEST_MAX];
	int sp = 0;
	stack[0] = C_CMD;
	depth[0] = 0;
	int line = 1;
	bool word_start = true;
	/* here-documents pending on this line, then the body being read */
	char *pending[8];
	bool pending_tabs[8];
	int n_pending = 0;
	char **found = NULL;
	int n_found = 0;
	int rc = 0;
	const char *p = cmd;
	while (*p) {
		char name[72];
		size_t plen = placeholder(p, name, sizeof(name));
		if (plen) {
			const char *why = NULL;
			bool in_bq = false;
			for (int k = 0; k <= sp; k++)
				if (stack[k] == C_BQ)
					in_bq = true;
			if (in_bq)
				why = "inside backticks (use $( ) instead)";
			else if (stack[sp] == C_DQ)
				why = "inside double quotes (write it bare: ciscope quotes every value)";
			else if (p > cmd && p[-1] == '\\')
				why = "after a backslash";
			else if (p > cmd && p[-1] == '$')
				why = "after a $ (bash would read $'...' as escapes)";
			if (why) {
				rc = err_set(err, CS_EINVAL, "line %d: {{%s}} %s", line, name, why);
				goto out;
			}
			bool dup = false;
			for (int k = 0; k < n_found; k++)
				if (!strcmp(found[k], name))
					dup = true;
			if (!dup) {
				found = xrealloc(found, sizeof(char *) * (size_t)(n_found + 1));
				found[n_found++] = xstrdup(name);
			}
			p += plen;
			word_start = false;
			continue;
		}
		if (attempted(p)) {
			/* {{ that is no placeholder: a typo would run with a hole */
			rc = err_set(err, CS_EINVAL,
				     "line %d: '{{' that is not a placeholder {{name}} (letters, digits, _)",
				     line);
			goto out;
		}
		char c = *p;
		enum ctx top = stack[sp];
		if (c == '\\' && attempted(p + 1)) {
			/* the escape would eat the quote ciscope puts there */
			rc = err_set(err, CS_EINVAL, "line %d: a placeholder after a backslash", line);
			goto out;
		}
		if (c == '\n') {
			line++;
			word_start = true;
			p++;
			if ((top == C_CMD || top == C_CMDSUB) && n_pending > 0) {
				/* here-document bodies follow, one per pending operator */
				for (int h = 0; h < n_pending; h++) {
					for (;;) {
						if (!*p) {
							rc = err_set(err, CS_EINVAL,
								     "line %d: here-document '%s' is not closed",
								     line, pending[h]);
							goto out;
						}
						const char *e = strchr(p, '\n');
						size_t len = e ? (size_t)(e - p) : strlen(p);
						const char *q = p;
						size_t qlen = len;
						if (pending_tabs[h])
							while (qlen > 0 && *q == '\t') {
								q++;
								qlen--;
							}
						bool end = qlen == strlen(pending[h]) && !memcmp(q, pending[h], qlen);
						if (!end) {
							for (size_t k = 0; k + 1 < len; k++)
								if (attempted(p + k)) {
									rc = err_set(err, CS_EINVAL,
										     "line %d: a placeholder inside a "
										     "here-document (pass it as an "
										     "argument or variable instead)",
										     line);
									goto out;
								}
						}
						p += len;
						if (*p == '\n') {
							p++;
							line++;
						}
						if (end)
							break;
					}
				}
				for (int h = 0; h < n_pending; h++)
					free(pending[h]);
				n_pending = 0;
			}
			continue;
		}
		/* '`' and '$(' open a substitution alike outside single quotes
		 * and backquotes (no earlier case of CMD or DQ takes them) */
		if (top != C_BQ) {
			int taken = open_subst(&p, stack, depth, &sp, &word_start);
			if (taken < 0)
				goto deep;
			if (taken)
				continue;
		}
		switch (top) {
		case C_CMD:
		case C_CMDSUB:
			if (c == '\\') {
				skip_escape(&p, &line);
				word_start = false;
				continue;
			}
			if (c == '\'') {
				const char *e = strchr(p + 1, '\'');
				const char *stop = e ? e : p + strlen(p);
				for (const char *q = p + 1; q < stop; q++) {
					if (attempted(q)) {
						rc = err_set(err, CS_EINVAL,
							     "line %d: a placeholder inside single quotes "
							     "(write it bare: ciscope quotes every value)",
							     line);
						goto out;
					}
					if (*q == '\n')
						line++;
				}
				p = e ? e + 1 : stop;
				word_start = false;
				continue;
			}
			if (c == '"') {
				if (!nest_enter(stack, depth, &sp, C_DQ))
					goto deep;
				p++;
				word_start = false;
				continue;
			}
			if (c == '(') {
				depth[sp]++;
				p++;
				word_start = true;
				continue;
			}
			if (c == ')') {
				if (top == C_CMDSUB && depth[sp] == 0)
					sp--;
				else if (depth[sp] > 0)
					depth[sp]--;
				p++;
				word_start = false;
				continue;
			}
			if (c == '#' && word_start) {
				while (*p && *p != '\n') {
					if (attempted(p)) {
						rc = err_set(err, CS_EINVAL,
							     "line %d: a placeholder inside a comment "
							     "(a newline in its value would end the comment)",
							     line);
						goto out;
					}
					p++;
				}
				continue;
			}
			if (c == '<' && p[1] == '<' && p[2] != '<') {
				p += 2;
				bool tabs = false;
				if (*p == '-') {
					tabs = true;
					p++;
				}
				while (*p == ' ' || *p == '\t')
					p++;
				struct buf d = BUF_INIT;
				while (*p && !strchr(" \t\n;&|<>()", *p)) {
					/* its value would change where the here-document
					 * ends, and so which lines run */
					if (attempted(p)) {
						buf_release(&d);
						rc = err_set(err, CS_EINVAL,
							     "line %d: a placeholder as a here-document's "
							     "delimiter",
							     line);
						goto out;
					}
					if (*p == '\'' || *p == '"' || *p == '\\') {
						p++;
						continue;
					}
					buf_addc(&d, *p++);
				}
				if (!d.len) {
					buf_release(&d);
					rc = err_set(err, CS_EINVAL, "line %d: '<<' without a delimiter", line);
					goto out;
				}
				if (n_pending >= (int)ARRAY_SIZE(pending)) {
					buf_release(&d);
					rc = err_set(err, CS_EINVAL, "line %d: too many here-documents", line);
					goto out;
				}
				pending_tabs[n_pending] = tabs;
				pending[n_pending++] = buf_detach(&d, NULL);
				word_start = false;
				continue;
			}
			if (c == '<' && p[1] == '<' && p[2] == '<') {
				p += 3;
				continue;
			}
			word_start = c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|';
			p++;
			continue;
		case C_DQ:
			if (c == '\\') {
				skip_escape(&p, &line);
				continue;
			}
			if (c == '"') {
				sp--;
				p++;
				continue;
			}
			p++;
			continue;
		case C_BQ:
			if (c == '\\') {
				p += p[1] ? 2 : 1;
				continue;
			}
			if (c == '`')
				sp--;
			p++;
			continue;
		}
	}
	goto out;
deep:
	rc = err_set(err, CS_EINVAL, "line %d: quoting nested too deeply", line);
out:
	for (int h = 0; h < n_pending; h++)
		free(pending[h]);
	if (rc < 0 || !names) {
		runbook_names_free(found, n_found);
		if (names)
			*names = NULL;
		if (n_names)
			*n_names = 0;
		return rc < 0 ? -1 : 0;
	}
	*names = found;
	*n_names = n_found;
	return 0;
}

/* --- variables --------------------------------------------------------------------------------- */
const char *rb_var_source_name(enum rb_var_source s)
{
	switch (s) {
	case RBV_OPTION: return "option";
	case RBV_CAPTURE: return "captured";
	case RBV_INDEX: return "index";
	case RBV_DEFAULT: return "default";
	case RBV_PROMPT: return "typed";
	case RBV_RECORDED: return "recorded";
	}
	return "?";
}

void rb_vars_set(struct rb_vars *vs, const char *name, const char *value,
		 enum rb_var_source source, bool sensitive)
{
	for (int i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name)) {
			free(vs->v[i].value);
			vs->v[i].value = xstrdup(value);
			vs->v[i].source = source;
			vs->v[i].sensitive = sensitive;
			return;
		}
	XGROW(vs->v, vs->alloc, (size_t)vs->n + 1);
	vs->v[vs->n].name = xstrdup(name);
	vs->v[vs->n].value = xstrdup(value);
	vs->v[vs->n].source = source;
	vs->v[vs->n].sensitive = sensitive;
	vs->n++;
}

const struct rb_value *rb_vars_get(const struct rb_vars *vs, const char *name)
{
	for (int i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

void rb_vars_release(struct rb_vars *vs)
{
	for (int i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].value);
	}
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static const struct rb_var_decl *decl_of(const struct runbook *rb, const char *name)
{
	for (int i = 0; rb && i < rb->n_vars; i++)
		if (!strcmp(rb->vars[i].name, name))
			return &rb->vars[i];
	return NULL;
}

/* Find the value of name: the set, the resolver, the default. */
static int lookup(const struct runbook *rb, const char *name, struct rb_vars *vs,
		  rb_resolver resolve, void *ctx, const struct rb_value **out, struct cs_err *err)
{
	const struct rb_value *v = rb_vars_get(vs, name);
	if (!v && resolve) {
		struct buf val = BUF_INIT;
		struct cs_err e2;
		err_clear(&e2);
		int r = resolve(ctx, name, &val, &e2);
		if (r < 0) {
			buf_release(&val);
			const struct rb_var_decl *d = decl_of(rb, name);
			if (d && d->def) {
				rb_vars_set(vs, name, d->def, RBV_DEFAULT, false);
				v = rb_vars_get(vs, name);
			} else {
				return err_set(err, CS_ENOTFOUND, "{{%s}}: %s", name, e2.msg);
			}
		} else if (r > 0) {
			rb_vars_set(vs, name, buf_cstr(&val), RBV_INDEX, false);
			buf_release(&val);
			v = rb_vars_get(vs, name);
		} else {
			buf_release(&val);
		}
	}
	if (!v) {
		const struct rb_var_decl *d = decl_of(rb, name);
		if (d && d->def) {
			rb_vars_set(vs, name, d->def, RBV_DEFAULT, false);
			v = rb_vars_get(vs, name);
		} else if (d) {
			return err_set(err, CS_ENOTFOUND, "{{%s}} has no value: give it with --var %s=VALUE%s%s",
				       name, name, d->description ? " (" : "",
				       d->description ? d->description : "");
		} else {
			return err_set(err, CS_ENOTFOUND,
				       "{{%s}} is not a variable the runbook declares, the index knows "
				       "or an earlier step captured: give it with --var %s=VALUE",
				       name, name);
		}
	}
	if (!*v->value)
		return err_set(err, CS_EINVAL, "{{%s}} is empty (%s): a command with a hole in it is not run",
			       name, rb_var_source_name(v->source));
	*out = v;
	return 0;
}

int runbook_resolve(const struct runbook *rb, const char *cmd, struct rb_vars *vs,
		    rb_resolver resolve, void *ctx, struct buf *cmd_out, struct buf *shown,
		    struct cs_err *err)
{
	if (runbook_check_command(cmd, NULL, NULL, err) < 0)
		return -1;
	struct buf o = BUF_INIT, s = BUF_INIT;
	for (const char *p = cmd; *p;) {
		char name[72];
		size_t plen = placeholder(p, name, sizeof(name));
		if (!plen) {
			buf_addc(&o, *p);
			buf_addc(&s, *p);
			p++;
			continue;
		}
		const struct rb_value *v = NULL;
		if (lookup(rb, name, vs, resolve, ctx, &v, err) < 0) {
			buf_release(&o);
			buf_release(&s);
			return -1;
		}
		buf_add_shell_quoted(&o, v->value);
		if (v->sensitive)
			buf_adds(&s, "'***'");
		else
			buf_add_shell_quoted(&s, v->value);
		p += plen;
	}
	buf_cstr(&o);
	buf_cstr(&s);
	if (cmd_out) {
		buf_release(cmd_out);
		*cmd_out = o;
	} else {
		buf_release(&o);
	}
	if (shown) {
		buf_release(shown);
		*shown = s;
	} else {
		buf_release(&s);
	}
	return 0;
}

void runbook_render_text(const char *text, const struct rb_vars *vs, struct buf *out)
{
	for (const char *p = text; *p;) {
		char name[72];
		size_t plen = placeholder(p, name, sizeof(name));
		const struct rb_value *v = plen ? rb_vars_get(vs, name) : NULL;
		if (!v) {
			buf_addc(out, *p++);
			continue;
		}
		buf_adds(out, v->sensitive ? "***" : v->value);
		p += plen;
	}
	buf_cstr(out);
}

char *runbook_capture_var(const struct rb_step *s)
{
	char *v = xstrdup(s->name);
	for (char *p = v; *p; p++)
		if (*p == '-' || *p == '.')
			*p = '_';
	if (!rb_var_name_valid(v)) {
		free(v);
		return NULL;
	}
	return v;
}

/* --- capture ------------------------------------------------------------------------------------ */
int runbook_capture(const struct rb_step *s, const char *out, size_t n, struct rb_vars *vs,
		    bool sensitive, struct cs_err *err)
{
	if (!s->capture)
		return 0;
	int ec;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)s->capture, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF, &ec, &off,
				       NULL);
	if (!re)
		return err_set(err, CS_EINVAL, "step %d: capture=: bad regex", s->number);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, 1000000);
	uint32_t names = 0, esz = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &names);
	pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	uint32_t groups = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	PCRE2_SIZE start = 0;
	int set = 0;
	while (start <= n) {
		int r = pcre2_match(re, (PCRE2_SPTR)out, n, start, 0, md, mc);
		if (r < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		if (names > 0) {
			for (uint32_t k = 0; k < names; k++) {
				const unsigned char *e = table + k * esz;
				int g = (e[0] << 8) | e[1];
				const char *nm = (const char *)e + 2;
				if (g < r && ov[2 * g] != PCRE2_UNSET && rb_var_name_valid(nm)) {
					char *v = xstrndup(out + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
					rb_vars_set(vs, nm, v, RBV_CAPTURE, sensitive);
					free(v);
					set++;
				}
			}
		} else {
			int g = groups >= 1 && r > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;
			char *v = xstrndup(out + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
			char *var = runbook_capture_var(s);
			if (var) {
				rb_vars_set(vs, var, v, RBV_CAPTURE, sensitive);
				set++;
			}
			free(var);
			free(v);
		}
		PCRE2_SIZE next = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		if (next <= start)
			break;
		start = next;
	}
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	(void)err;
	/* several variables may have been set more than once: count names */
	return set;
}

/* --- redaction ---------------------------------------------------------------------------------- */
static bool tokch(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool bearerch(char c)
{
	return isalnum((unsigned char)c) || strchr("-._~+/=", c);
}

/* Length of a token-looking thing at s (0: none). *keep: bytes of a prefix
 * to keep ("Bearer "). */
static size_t token_at(const char *s, size_t n, size_t *keep, bool word_start)
{
	*keep = 0;
	if (!word_start)
		return 0;
	static const char *const gh[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"};
	for (size_t k = 0; k < ARRAY_SIZE(gh); k++) {
		size_t pl = strlen(gh[k]);
		if (n > pl && !memcmp(s, gh[k], pl)) {
			size_t i = pl;
			while (i < n && tokch(s[i]))
				i++;
			if (i - pl >= 16)
				return i;
		}
	}
	static const char *const schemes[] = {"Bearer ", "bearer ", "token ", "Basic "};
	for (size_t k = 0; k < ARRAY_SIZE(schemes); k++) {
		size_t pl = strlen(schemes[k]);
		if (n > pl && !memcmp(s, schemes[k], pl)) {
			size_t i = pl;
			while (i < n && bearerch(s[i]))
				i++;
			/* "token " is a common word: only long opaque strings count */
			size_t min = k == 2 ? 20 : 8;
			if (i - pl >= min) {
				*keep = pl;
				return i;
			}
		}
	}
	return 0;
}

void runbook_redact(const char *text, size_t n, const struct rb_vars *vs, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		bool matched = false;
		for (int k = 0; vs && k < vs->n; k++) {
			const struct rb_value *v = &vs->v[k];
			size_t vl = strlen(v->value);
			if (v->sensitive && vl >= 4 && vl <= n - i && !memcmp(text + i, v->value, vl)) {
				buf_adds(out, "***");
				i += vl;
				matched = true;
				break;
			}
		}
		if (matched)
			continue;
		size_t keep;
		bool ws = i == 0 || !tokch(text[i - 1]);
		size_t t = token_at(text + i, n - i, &keep, ws);
		if (t) {
			buf_add(out, text + i, keep);
			buf_adds(out, "***");
			i += t;
			continue;
		}
		buf_addc(out, text[i]);
		i++;
	}
	buf_cstr(out);
}
