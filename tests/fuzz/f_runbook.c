/* f_runbook.c - the runbook Markdown format (core/runbook.c) and its
 * placeholder checker, resolver and redaction (core/rbvars.c).
 *
 * The input is a runbook file. Properties:
 *  - an error names the file and a line in range ("fuzz.md:N: ...");
 *  - parsing is deterministic (same hash, steps, names, commands twice);
 *  - steps are numbered 1..n in order, named, uniquely, found by name and
 *    number; lines lie in the file; retry >= 1;
 *  - every command the parser accepts passes the placeholder checker;
 *  - a command the checker refuses never resolves to a command; one it
 *    accepts resolves when every name has a value, and then every value
 *    (hostile: quotes, $(..), backquotes, newlines, "{{x}}") appears only
 *    single-quoted; the shown form and the redacted text never hold a
 *    sensitive value.
 * The text of every line is also checked alone as a command (what a
 * command block of one line would be).
 */
#include "fuzz.h"

#include "core/runbook.h"
#include "core/util.h"

/* a byte sequence no seed holds: where it appears, a value was pasted */
#define MARK "\x01@V@\x01"

static char *value_for(const char *name, bool sensitive)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "it's %s $(rm -rf /) `id` \"x\" ;|&\n{{%s}} %s%s", MARK, name,
		   sensitive ? "SECRET-" : "", name);
	return buf_detach(&b, NULL);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);
	for (const char *p = hay; k && (p = strstr(p, needle)); p += k)
		n++;
	return n;
}

/* hay with every occurrence of needle removed, in place */
static void remove_all(char *hay, const char *needle)
{
	size_t k = strlen(needle);
	char *p;
	while (k && (p = strstr(hay, needle)))
		memmove(p, p + k, strlen(p + k) + 1);
}

static void check_command(const char *cmd, bool must_pass)
{
	struct cs_err err;
	err_clear(&err);
	char **names = NULL;
	int n = 0;
	int ok = runbook_check_command(cmd, &names, &n, &err) == 0;
	if (must_pass)
		FUZZ_CHECK(ok);
	struct rb_vars vs = {0};
	struct buf out = BUF_INIT, shown = BUF_INIT;
	if (!ok) {
		FUZZ_CHECK(err.msg[0] != '\0');
		/* a refused placeholder never yields a command, whatever is known */
		struct cs_err e2;
		err_clear(&e2);
		FUZZ_CHECK(runbook_resolve(NULL, cmd, &vs, NULL, NULL, &out, &shown, &e2) < 0);
		FUZZ_CHECK(e2.msg[0] != '\0');
		goto done;
	}
	bool marked = strstr(cmd, MARK) != NULL || strstr(cmd, "SECRET-") != NULL;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(rb_var_name_valid(names[i]));
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(names[i], names[j]) != 0);
		char *v = value_for(names[i], i % 2);
		rb_vars_set(&vs, names[i], v, RBV_OPTION, i % 2);
		free(v);
	}
	err_clear(&err);
	FUZZ_CHECK(runbook_resolve(NULL, cmd, &vs, NULL, NULL, &out, &shown, &err) == 0);
	if (!marked) {
		char *rest = xstrdup(buf_cstr(&out));
		char *shown_rest = xstrdup(buf_cstr(&shown));
		for (int i = 0; i < n; i++) {
			struct buf q = BUF_INIT;
			const struct rb_value *v = rb_vars_get(&vs, names[i]);
			buf_add_shell_quoted(&q, v->value);
			/* every name of the command was substituted, quoted */
			FUZZ_CHECK(count(buf_cstr(&out), buf_cstr(&q)) >= 1);
			if (v->sensitive)
				FUZZ_CHECK(strstr(buf_cstr(&shown), v->value) == NULL);
			remove_all(rest, buf_cstr(&q));
			remove_all(shown_rest, buf_cstr(&q));
			buf_release(&q);
		}
		/* no value (nor any part of one) stands outside its quotes */
		FUZZ_CHECK(strstr(rest, MARK) == NULL);
		FUZZ_CHECK(strstr(shown_rest, MARK) == NULL);
		FUZZ_CHECK(strstr(shown_rest, "SECRET-") == NULL);
		free(rest);
		free(shown_rest);
		/* redaction of output that echoes the values hides the sensitive ones */
		struct buf echo = BUF_INIT, red = BUF_INIT;
		buf_adds(&echo, cmd);
		for (int i = 0; i < vs.n; i++) {
			buf_adds(&echo, vs.v[i].value);
			buf_addc(&echo, '\n');
		}
		runbook_redact(echo.data, echo.len, &vs, &red);
		FUZZ_CHECK(strstr(buf_cstr(&red), "SECRET-") == NULL);
		buf_release(&echo);
		buf_release(&red);
	}
done:
	buf_release(&out);
	buf_release(&shown);
	rb_vars_release(&vs);
	if (names)
		runbook_names_free(names, n);
}

static void same(const struct runbook *a, const struct runbook *b)
{
	FUZZ_CHECK(!strcmp(a->hash, b->hash));
	FUZZ_CHECK(a->n_steps == b->n_steps && a->n_vars == b->n_vars);
	FUZZ_CHECK(!strcmp(a->title, b->title));
	for (int i = 0; i < a->n_steps; i++) {
		FUZZ_CHECK(!strcmp(a->steps[i].name, b->steps[i].name));
		FUZZ_CHECK(!strcmp(a->steps[i].ident, b->steps[i].ident));
		FUZZ_CHECK((a->steps[i].command == NULL) == (b->steps[i].command == NULL));
		if (a->steps[i].command)
			FUZZ_CHECK(!strcmp(a->steps[i].command, b->steps[i].command));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int lines = fuzz_lines(data, size);

	struct runbook rb, rb2;
	struct cs_err err, err2;
	err_clear(&err);
	err_clear(&err2);
	int rc = runbook_parse("fuzz.md", text, size, &rb, &err);
	int rc2 = runbook_parse("fuzz.md", text, size, &rb2, &err2);
	FUZZ_CHECK(rc == rc2);
	if (rc < 0) {
		FUZZ_CHECK(!strcmp(err.msg, err2.msg));
		int line = 0;
		FUZZ_CHECK(sscanf(err.msg, "fuzz.md:%d:", &line) == 1);
		FUZZ_CHECK(line >= 1 && line <= lines + 1);
	} else {
		same(&rb, &rb2);
		FUZZ_CHECK(rb.n_steps >= 1 && rb.n_steps <= RUNBOOK_MAX_STEPS);
		for (int i = 0; i < rb.n_steps; i++) {
			const struct rb_step *s = &rb.steps[i];
			FUZZ_CHECK(s->number == i + 1);
			FUZZ_CHECK(s->name && s->title);
			FUZZ_CHECK(s->line >= 1 && s->line <= lines);
			FUZZ_CHECK(s->block_line == 0 || (s->block_line >= s->line && s->block_line <= lines));
			FUZZ_CHECK(s->retry >= 1 && s->timeout_ms >= 0 && s->interval_ms >= 0);
			FUZZ_CHECK(!s->sensitive || s->confirm);
			const struct rb_step *f = runbook_find_step(&rb, s->name);
			/* a name of digits is taken as a number first */
			FUZZ_CHECK(f == s || (f && strspn(s->name, "0123456789") == strlen(s->name)));
			char num[16];
			snprintf(num, sizeof(num), "%d", s->number);
			FUZZ_CHECK(runbook_find_step(&rb, num) != NULL);
			if (s->command && !s->manual)
				check_command(s->command, true);
			if (s->prose) {
				struct rb_vars none = {0};
				struct buf r = BUF_INIT;
				runbook_render_text(s->prose, &none, &r);
				FUZZ_CHECK(!strcmp(buf_cstr(&r), s->prose));
				buf_release(&r);
			}
			char *cv = runbook_capture_var(s);
			FUZZ_CHECK(cv == NULL || rb_var_name_valid(cv));
			free(cv);
			if (s->capture && s->prose && strlen(s->prose) < 512) {
				struct rb_vars vs = {0};
				struct cs_err e3;
				err_clear(&e3);
				(void)runbook_capture(s, s->prose, strlen(s->prose), &vs, false, &e3);
				rb_vars_release(&vs);
			}
		}
		for (int i = 0; i < rb.n_vars; i++)
			FUZZ_CHECK(rb_var_name_valid(rb.vars[i].name));
		runbook_free(&rb);
		runbook_free(&rb2);
	}

	/* the whole input, cut at its first NUL, as one command */
	char *cmd = fuzz_cstr(data, size);
	if (strlen(cmd) < 4096)
		check_command(cmd, false);
	free(cmd);
	return 0;
}
