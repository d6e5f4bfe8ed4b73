/* t_runbook.c - the runbook format: every attribute, bad files with their
 * line, hostile Markdown; placeholders and where they may stand; quoting
 * proven against a real /bin/sh with hostile values from every source;
 * capture and redaction; the bundled runbooks parse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rbstore.h"
#include "core/runbook.h"
#include "core/util.h"
#include "test.h"

static int parse(const char *text, struct runbook *rb, struct cs_err *err)
{
	err_clear(err);
	return runbook_parse("t.md", text, strlen(text), rb, err);
}

/* The parse fails with exactly this message. */
static void check_bad(const char *text, const char *want, int line)
{
	struct runbook rb;
	struct cs_err err;
	if (parse(text, &rb, &err) == 0) {
		t_fail(__FILE__, line, "parsed, expected \"%s\"", want);
		runbook_free(&rb);
		return;
	}
	if (!strstr(err.msg, want))
		t_fail(__FILE__, line, "error \"%s\", expected \"%s\"", err.msg, want);
}
#define BAD(text, want) check_bad(text, want, __LINE__)

TEST(parse_front_matter_and_steps)
{
	const char *t = "---\n"
			"title: \"Roll \\\"back\\\"\"\n"
			"when: things are on fire\n"
			"variables:\n"
			"  url:\n"
			"    description: health URL\n"
			"    default: 'http://x/it''s'\n"
			"  short: just a description\n"
			"report:\n"
			"  - Impact\n"
			"  - Action items\n"
			"runme:\n"
			"  id: 01HF\n"
			"---\n"
			"# Ignored title\n"
			"Intro text.\n"
			"\n"
			"## First step ##\n"
			"Some prose.\n"
			"```text\nnot a command\n```\n"
			"```sh {name=one cwd=sub background=true interactive=false}\n"
			"echo {{url}}\n"
			"```\n"
			"## Second\n"
			"```sh confirm=\"Really deploy?\" timeout=2m retry=5 interval=500ms until-exit=3 "
			"capture=\"v=(\\w+)\" sensitive\n"
			"echo x\n"
			"```\n"
			"## Third, by hand\n"
			"Do it.\n"
			"## Fourth\n"
			"```shell manual=true\n"
			"kubectl rollout undo\n"
			"```\n";
	struct runbook rb;
	struct cs_err err;
	CHECK_OK(parse(t, &rb, &err));
	CHECK_STR(rb.title, "Roll \"back\"");
	CHECK_STR(rb.when, "things are on fire");
	CHECK_STR(rb.intro, "# Ignored title\nIntro text.");
	CHECK_INT(rb.n_vars, 2);
	CHECK_STR(rb.vars[0].name, "url");
	CHECK_STR(rb.vars[0].description, "health URL");
	CHECK_STR(rb.vars[0].def, "http://x/it's");
	CHECK_STR(rb.vars[1].description, "just a description");
	CHECK(rb.vars[1].def == NULL);
	CHECK_INT(rb.n_report_sections, 2);
	CHECK_STR(rb.report_sections[1], "Action items");
	CHECK_INT(rb.n_steps, 4);
	const struct rb_step *s = &rb.steps[0];
	CHECK_STR(s->title, "First step");
	CHECK_STR(s->name, "one");
	CHECK_STR(s->cwd, "sub");
	CHECK(s->background);
	CHECK_STR(s->command, "echo {{url}}");
	CHECK(strstr(s->prose, "not a command") != NULL);
	CHECK_INT(s->line, 18);
	CHECK_INT(s->block_line, 23);
	s = &rb.steps[1];
	CHECK_STR(s->name, "second");
	CHECK(s->confirm && s->sensitive);
	CHECK_STR(s->confirm_text, "Really deploy?");
	CHECK_INT(s->timeout_ms, 120000);
	CHECK_INT(s->retry, 5);
	CHECK_INT(s->interval_ms, 500);
	CHECK_INT(s->until_exit, 3);
	CHECK_STR(s->capture, "v=(\\w+)");
	s = &rb.steps[2];
	CHECK(s->manual && !s->command);
	CHECK_STR(s->name, "third-by-hand");
	CHECK_STR(s->prose, "Do it.");
	s = &rb.steps[3];
	CHECK(s->manual);
	CHECK_STR(s->command, "kubectl rollout undo");
	CHECK(runbook_find_step(&rb, "2") == &rb.steps[1]);
	CHECK(runbook_find_step(&rb, "one") == &rb.steps[0]);
	CHECK(runbook_find_step(&rb, "9") == NULL);
	CHECK(strlen(rb.hash) == 16);
	runbook_free(&rb);
}

TEST(parse_numbered_items)
{
	const char *t = "# Checklist\n"
			"1. Check health\n"
			"   Look at it.\n"
			"   ```sh\n"
			"   curl -f {{url}}\n"
			"     indented more\n"
			"   ```\n"
			"2) Tell people\n"
			"10. Last\n";
	struct runbook rb;
	struct cs_err err;
	CHECK_OK(parse(t, &rb, &err));
	CHECK_STR(rb.title, "Checklist");
	CHECK_INT(rb.n_steps, 3);
	CHECK_STR(rb.steps[0].command, "curl -f {{url}}\n  indented more");
	CHECK_STR(rb.steps[0].prose, "Look at it.");
	CHECK(rb.steps[1].manual);
	CHECK_STR(rb.steps[2].title, "Last");
	/* default report sections */
	CHECK_INT(rb.n_report_sections, 2);
	CHECK_STR(rb.report_sections[0], "Root cause");
	runbook_free(&rb);
}

TEST(parse_bad_files_name_the_line)
{
	BAD("---\ntitle: x\n", "t.md:1: the front matter opened here is not closed");
	BAD("---\ntitel: x\n---\n## a\n", "t.md:2: unknown front-matter key 'titel'");
	BAD("---\nvariables:\n\tx: y\n---\n## a\n", "t.md:3: a tab in the front matter");
	BAD("---\nvariables:\n  9x: y\n---\n## a\n", "t.md:3: '9x' is not a variable name");
	BAD("---\nvariables:\n  x:\n    defualt: 1\n---\n## a\n", "t.md:4: unknown key 'defualt'");
	BAD("---\nvariables:\n  x: a\n  x: b\n---\n## a\n", "t.md:4: variable 'x' is declared twice");
	BAD("just prose\n", "t.md:1: no steps");
	BAD("## a\n```sh\necho\n", "t.md:2: this code block is not closed");
	BAD("## a\n```sh tmeout=3\necho\n```\n", "t.md:2: unknown attribute 'tmeout'");
	BAD("## a\n```sh timeout=soon\necho\n```\n", "t.md:2: timeout=soon");
	BAD("## a\n```sh retry=0\necho\n```\n", "t.md:2: retry=0");
	BAD("## a\n```sh retry=5000\necho\n```\n", "t.md:2: retry=5000");
	BAD("## a\n```sh until-exit=300\necho\n```\n", "t.md:2: until-exit=300");
	BAD("## a\n```sh background=maybe\necho\n```\n", "t.md:2: background=maybe");
	BAD("## a\n```sh capture=\"(unclosed\"\necho\n```\n", "t.md:2: capture=: bad regex");
	BAD("## a\n```sh {name=x\necho\n```\n", "t.md:2: missing '}'");
	BAD("## a\n```sh name=\"x\necho\n```\n", "t.md:2: unterminated \"");
	BAD("## a\n```sh\n```\n", "t.md:2: an empty command block");
	BAD("## a\n```sh\necho 1\n```\n```sh\necho 2\n```\n", "t.md:5: step 1 ('a') already has a command block (line 2)");
	BAD("## a\n## a\n", "t.md:2: two steps are named 'a'");
	BAD("## \n", "t.md:1: a step without a title");
	BAD("## a\n```sh\necho ok\necho \"{{x}}\"\n```\n", "t.md:4: {{x}} inside double quotes");
	BAD("## a\n```sh\necho '{{x}}'\n```\n", "t.md:3: a placeholder inside single quotes");
	BAD("## a\n```sh\necho `echo {{x}}`\n```\n", "t.md:3: {{x}} inside backticks");
	BAD("## a\n```sh\necho hi # {{x}}\n```\n", "t.md:3: a placeholder inside a comment");
	BAD("## a\n```sh\ncat <<EOF\n{{x}}\nEOF\n```\n", "t.md:4: a placeholder inside a here-document");
	BAD("## a\n```sh\ncat <<-'END'\n\tok\n\t{{x}}\n\tEND\n```\n", "t.md:5: a placeholder inside a here-document");
	/* found by f_runbook: the checker read the delimiter as a plain word
	 * while the resolver substituted it */
	BAD("## a\n```sh\ncat <<{{x}}\nhi\n```\n", "t.md:3: a placeholder as a here-document's delimiter");
	BAD("## a\n```sh\ncat <<-\"{{x}}\"\nhi\n```\n", "t.md:3: a placeholder as a here-document's delimiter");
	BAD("## a\n```sh\necho \\{{x}}\n```\n", "t.md:3: a placeholder after a backslash");
	BAD("## a\n```sh\necho \"\\{{x}}\"\n```\n", "t.md:3: a placeholder after a backslash");
	BAD("## a\n```sh\necho ${{x}}\n```\n", "t.md:3: {{x}} after a $");
	BAD("## a\n```sh\necho {{ bad-name }}\n```\n", "t.md:3: '{{' that is not a placeholder");
	BAD("## a\n```sh\necho \"$(printf %s \"{{x}}\")\"\n```\n", "t.md:3: {{x}} inside double quotes");
}

TEST(placeholders_where_a_quoted_word_is_safe)
{
	struct cs_err err;
	char **names;
	int n;
	const char *ok[] = {
		"echo {{a}} {{b}}{{a}}",
		"x={{a}}; echo \"$x\"",
		"echo \"$(printf %s {{a}})\"",      /* a new quoting context inside $( ) */
		"echo $(echo {{a}})",
		"docker inspect -f '{{.State}}' c", /* not ours: a Go template in quotes */
		"cat <<'EOF'\nplain\nEOF\necho {{a}}",
		"echo 'it''s' {{a}} # comment without a placeholder",
		"echo {{a}} | grep -q x && echo {{b}}",
		"case $x in a) echo {{a}};; esac",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		err_clear(&err);
		if (runbook_check_command(ok[i], &names, &n, &err) < 0)
			t_fail(__FILE__, __LINE__, "'%s': %s", ok[i], err.msg);
		else
			runbook_names_free(names, n);
	}
	err_clear(&err);
	CHECK_OK(runbook_check_command("echo {{a}} {{b}}{{a}} {{ c }}", &names, &n, &err));
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(names[0], "a");
		CHECK_STR(names[1], "b");
		CHECK_STR(names[2], "c");
	}
	runbook_names_free(names, n);
}

TEST(parse_hostile_markdown)
{
	struct runbook rb;
	struct cs_err err;
	/* a NUL byte: refused with its line */
	const char nul[] = "## a\n```sh\necho a\0b\n```\n";
	err_clear(&err);
	CHECK(runbook_parse("t.md", nul, sizeof(nul) - 1, &rb, &err) < 0);
	CHECK(strstr(err.msg, "t.md:3: a NUL byte") != NULL);
	/* invalid UTF-8 */
	err_clear(&err);
	CHECK(runbook_parse("t.md", "## a\n\xff\xfe\n", 8, &rb, &err) < 0);
	CHECK(strstr(err.msg, "t.md:2: invalid UTF-8") != NULL);
	/* escape sequences in titles are kept as text (shown through the sanitiser) */
	CHECK_OK(parse("# \x1b]0;pwned\x07Title\n## \x1b[2J\x1b[31mStep\n```sh\necho\n```\n", &rb, &err));
	CHECK_STR(rb.title, "\x1b]0;pwned\x07Title");
	CHECK(strstr(rb.steps[0].title, "Step") != NULL);
	runbook_free(&rb);
	/* a huge block: parsed, whole */
	struct buf big = BUF_INIT;
	buf_adds(&big, "## big\n```sh\n");
	for (int i = 0; i < 80000; i++)
		buf_adds(&big, "echo line of a very long generated command block\n");
	buf_adds(&big, "```\n");
	err_clear(&err);
	CHECK_OK(runbook_parse("t.md", big.data, big.len, &rb, &err));
	CHECK_INT(rb.n_steps, 1);
	CHECK(rb.n_steps == 1 && strlen(rb.steps[0].command) == 80000 * 49 - 1);
	runbook_free(&rb);
	/* past the size cap: refused, not read */
	while (big.len <= RUNBOOK_MAX_SIZE)
		buf_adds(&big, "more text more text more text more text more text more text\n");
	err_clear(&err);
	CHECK(runbook_parse("t.md", big.data, big.len, &rb, &err) < 0);
	CHECK(strstr(err.msg, "a runbook is at most") != NULL);
	buf_release(&big);
	/* too many steps */
	struct buf many = BUF_INIT;
	for (int i = 0; i <= RUNBOOK_MAX_STEPS; i++)
		buf_addf(&many, "## s%d\n", i);
	err_clear(&err);
	CHECK(runbook_parse("t.md", many.data, many.len, &rb, &err) < 0);
	CHECK(strstr(err.msg, "more than 500 steps") != NULL);
	buf_release(&many);
	/* CRLF line ends, a fence of tildes holding backticks, a longer closing fence */
	CHECK_OK(parse("## a\r\n~~~sh\r\necho ```\r\n~~~~\r\n", &rb, &err));
	CHECK_STR(rb.steps[0].command, "echo ```");
	runbook_free(&rb);
	/* headings inside a code block are not steps */
	CHECK_OK(parse("## a\n```text\n## not a step\n```\n## b\n", &rb, &err));
	CHECK_INT(rb.n_steps, 2);
	runbook_free(&rb);
	/* deep nesting of quotes is refused, not overflowed */
	struct buf deep = BUF_INIT;
	buf_adds(&deep, "## a\n```sh\necho ");
	for (int i = 0; i < 100; i++)
		buf_adds(&deep, "\"$(");
	buf_adds(&deep, "\n```\n");
	err_clear(&err);
	CHECK(runbook_parse("t.md", deep.data, deep.len, &rb, &err) < 0);
	CHECK(strstr(err.msg, "nested too deeply") != NULL);
	buf_release(&deep);
}

/* --- quoting against a real shell ---------------------------------------------------------------- */
/* Run cmd through /bin/sh -c in dir; its stdout into out. */
static int sh(const char *dir, const char *cmd, struct buf *out)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		if (chdir(dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char b[4096];
	ssize_t r;
	buf_reset(out);
	while ((r = read(p[0], b, sizeof(b))) > 0)
		buf_add(out, b, (size_t)r);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	buf_cstr(out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *const hostile[] = {
	"$(touch PWNED)",
	"`touch PWNED`",
	"'; touch PWNED; '",
	"\"; touch PWNED; \"",
	"x' ; touch PWNED ; echo 'y",
	"a\ntouch PWNED",
	"--upload-pack=touch PWNED",
	"-rf",
	"$HOME ${IFS} $((1+1)) ~ * ? [a]",
	"it's \"quoted\" \\ back\\slash",
	"\\'",
	"line1\r\nline2 | touch PWNED &",
	"main; touch PWNED",
	"\xe2\x80\xae right-to-left \x1b[31m red",
};

/* A hostile value from source: the command receives it as one argument,
 * byte for byte, and nothing else runs. */
static int from_resolver_value;
static const char *resolver_value;
static int hostile_resolver(void *ctx, const char *name, struct buf *out, struct cs_err *err)
{
	(void)ctx;
	(void)err;
	if (!strcmp(name, "branch")) {
		from_resolver_value++;
		buf_adds(out, resolver_value);
		return 1;
	}
	return 0;
}

TEST(quoting_hostile_values_from_every_source)
{
	struct cs_err err;
	char *dir = xasprintf("%s/quoting", t_tmpdir());
	mkdir(dir, 0700);
	char *pwned = path_join(dir, "PWNED");
	const char *cmd = "printf '<%s>\\n' {{v}}; printf '[%s]\\n' \"$(printf %s {{v}})\"; "
			  "x={{v}}; printf '(%s)\\n' \"$x\"";
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		for (int src = 0; src < 4; src++) {
			struct rb_vars vs = {0};
			struct runbook rb = {0};
			struct rb_var_decl d = {"v", NULL, NULL, 1};
			rb_resolver res = NULL;
			const char *c = cmd;
			char *c2 = NULL;
			if (src == 0) {
				rb_vars_set(&vs, "v", hostile[i], RBV_OPTION, false);
			} else if (src == 1) {
				/* a captured value */
				struct rb_step st = {0};
				st.name = "v";
				st.capture = "(?s)VALUE=(.*)\\nEND";
				struct buf o = BUF_INIT;
				buf_addf(&o, "noise\nVALUE=%s\nEND\n", hostile[i]);
				err_clear(&err);
				CHECK_INT(runbook_capture(&st, o.data, o.len, &vs, false, &err), 1);
				buf_release(&o);
			} else if (src == 2) {
				/* the index (a branch name, a commit subject) */
				resolver_value = hostile[i];
				res = hostile_resolver;
				c2 = xstrdup(cmd);
				for (char *p; (p = strstr(c2, "{{v}}"));) {
					char *n = xasprintf("%.*s{{branch}}%s", (int)(p - c2), c2, p + 5);
					free(c2);
					c2 = n;
				}
				c = c2;
			} else {
				/* a runbook's default */
				d.def = (char *)hostile[i];
				rb.vars = &d;
				rb.n_vars = 1;
			}
			struct buf out = BUF_INIT, shown = BUF_INIT, got = BUF_INIT;
			err_clear(&err);
			if (runbook_resolve(&rb, c, &vs, res, NULL, &out, &shown, &err) < 0) {
				t_fail(__FILE__, __LINE__, "value %zu source %d: %s", i, src, err.msg);
			} else {
				int rc = sh(dir, out.data, &got);
				CHECK_INT(rc, 0);
				struct buf want = BUF_INIT;
				buf_addf(&want, "<%s>\n[%s]\n(%s)\n", hostile[i], hostile[i], hostile[i]);
				if (strcmp(buf_cstr(&got), buf_cstr(&want)))
					t_fail(__FILE__, __LINE__, "value %zu source %d: got '%s' from '%s'", i,
					       src, got.data, out.data);
				buf_release(&want);
				if (access(pwned, F_OK) == 0) {
					t_fail(__FILE__, __LINE__, "value %zu source %d ran a command: %s", i,
					       src, out.data);
					unlink(pwned);
				}
			}
			free(c2);
			buf_release(&out);
			buf_release(&shown);
			buf_release(&got);
			rb_vars_release(&vs);
		}
	}
	free(pwned);
	free(dir);
}

TEST(resolve_unknown_empty_and_secret)
{
	struct cs_err err;
	struct rb_vars vs = {0};
	struct runbook rb = {0};
	struct rb_var_decl d[2] = {{"declared", "what it is", NULL, 1}, {"dflt", NULL, "x y", 2}};
	rb.vars = d;
	rb.n_vars = 2;
	struct buf out = BUF_INIT, shown = BUF_INIT;
	err_clear(&err);
	CHECK(runbook_resolve(&rb, "echo {{nobody}}", &vs, NULL, NULL, &out, &shown, &err) < 0);
	CHECK(strstr(err.msg, "{{nobody}} is not a variable the runbook declares") != NULL);
	err_clear(&err);
	CHECK(runbook_resolve(&rb, "echo {{declared}}", &vs, NULL, NULL, &out, &shown, &err) < 0);
	CHECK(strstr(err.msg, "--var declared=VALUE (what it is") != NULL);
	rb_vars_set(&vs, "empty", "", RBV_OPTION, false);
	err_clear(&err);
	CHECK(runbook_resolve(&rb, "echo {{empty}}", &vs, NULL, NULL, &out, &shown, &err) < 0);
	CHECK(strstr(err.msg, "{{empty}} is empty") != NULL);
	err_clear(&err);
	CHECK_OK(runbook_resolve(&rb, "echo {{dflt}}", &vs, NULL, NULL, &out, &shown, &err));
	CHECK_STR(out.data, "echo 'x y'");
	CHECK_INT(rb_vars_get(&vs, "dflt")->source, RBV_DEFAULT);
	/* an option wins over the default */
	rb_vars_set(&vs, "dflt", "z", RBV_OPTION, false);
	CHECK_OK(runbook_resolve(&rb, "echo {{dflt}}", &vs, NULL, NULL, &out, &shown, &err));
	CHECK_STR(out.data, "echo 'z'");
	/* a secret is shown as *** but runs as itself */
	rb_vars_set(&vs, "tok", "s3cr3t-value", RBV_CAPTURE, true);
	CHECK_OK(runbook_resolve(&rb, "login {{tok}}", &vs, NULL, NULL, &out, &shown, &err));
	CHECK_STR(out.data, "login 's3cr3t-value'");
	CHECK_STR(shown.data, "login '***'");
	/* prose: values as text, unknown ones left alone */
	struct buf r = BUF_INIT;
	runbook_render_text("use {{dflt}} and {{tok}} not {{unknown}}", &vs, &r);
	CHECK_STR(r.data, "use z and *** not {{unknown}}");
	buf_release(&r);
	buf_release(&out);
	buf_release(&shown);
	rb_vars_release(&vs);
}

TEST(capture_named_groups_and_step_name)
{
	struct cs_err err;
	struct rb_vars vs = {0};
	struct rb_step st = {0};
	st.name = "image-tag";
	st.capture = "tag: (\\S+)";
	const char *out = "tag: v1\nother\ntag: v2\n";
	err_clear(&err);
	CHECK(runbook_capture(&st, out, strlen(out), &vs, false, &err) > 0);
	CHECK_STR(rb_vars_get(&vs, "image_tag")->value, "v2"); /* the last match wins */
	st.capture = "^(?<sha>[0-9a-f]{7,40}) (?<who>\\w+)$";
	out = "abc1234 alice\nnoise\n";
	CHECK_INT(runbook_capture(&st, out, strlen(out), &vs, true, &err), 2);
	CHECK_STR(rb_vars_get(&vs, "sha")->value, "abc1234");
	CHECK(rb_vars_get(&vs, "who")->sensitive);
	CHECK_INT(rb_vars_get(&vs, "who")->source, RBV_CAPTURE);
	/* no match: nothing set */
	st.capture = "nothing like (this)";
	CHECK_INT(runbook_capture(&st, out, strlen(out), &vs, false, &err), 0);
	rb_vars_release(&vs);
}

TEST(redaction)
{
	struct rb_vars vs = {0};
	rb_vars_set(&vs, "pw", "hunter2hunter2", RBV_CAPTURE, true);
	rb_vars_set(&vs, "short", "ab", RBV_CAPTURE, true);
	rb_vars_set(&vs, "open", "visible-value", RBV_OPTION, false);
	const char *in = "pw=hunter2hunter2 ab visible-value\n"
			 "ghp_0123456789abcdefghijABCDEFGHIJ0123 github_pat_11AAAAAAA0123456789_abcdefghijklmnop\n"
			 "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\n"
			 "Authorization: token ghs_abcdefghijklmnopqrstuvwxyz12\n"
			 "a token bucket and Bearer x and xghp_notatokenbecauseprefixed0000\n";
	struct buf out = BUF_INIT;
	runbook_redact(in, strlen(in), &vs, &out);
	CHECK_STR(out.data, "pw=*** ab visible-value\n"
			    "*** ***\n"
			    "Authorization: Bearer ***\n"
			    "Authorization: token ***\n"
			    "a token bucket and Bearer x and xghp_notatokenbecauseprefixed0000\n");
	buf_release(&out);
	rb_vars_release(&vs);
}

TEST(bundled_runbooks_parse)
{
	struct rb_source *src;
	int n;
	struct cs_err err;
	err_clear(&err);
	CHECK_OK(rb_sources(NULL, &src, &n, &err));
	CHECK_INT(n, 4);
	const char *want[] = {"hotfix", "investigate-failure", "parity-investigation", "rollback"};
	for (int i = 0; i < n && i < 4; i++) {
		CHECK_STR(src[i].name, want[i]);
		CHECK(src[i].builtin);
		if (src[i].error)
			t_fail(__FILE__, __LINE__, "%s: %s", src[i].name, src[i].error);
	}
	rb_sources_free(src, n);
	/* a repository's own runbook: listed, hides the bundled one of its name */
	char *top = xasprintf("%s/repo", t_tmpdir());
	char *rd = xasprintf("%s/.ciscope/runbooks", top);
	CHECK_OK(mkdir_p(rd, 0700, &err));
	char *f = xasprintf("%s/rollback.md", rd);
	FILE *fp = fopen(f, "w");
	fputs("# Our rollback\n## Do it\n```sh\necho ours\n```\n", fp);
	fclose(fp);
	free(f);
	f = xasprintf("%s/broken.md", rd);
	fp = fopen(f, "w");
	fputs("no steps here\n", fp);
	fclose(fp);
	free(f);
	CHECK_OK(rb_sources(top, &src, &n, &err));
	CHECK_INT(n, 5);
	for (int i = 0; i < n; i++) {
		if (!strcmp(src[i].name, "rollback")) {
			CHECK(!src[i].builtin && src[i].overrides);
			CHECK_STR(src[i].title, "Our rollback");
		}
		if (!strcmp(src[i].name, "broken"))
			CHECK(src[i].error && strstr(src[i].error, "broken.md:1: no steps"));
	}
	rb_sources_free(src, n);
	struct runbook rb;
	char *text;
	size_t tn;
	CHECK_OK(rb_load(top, "rollback", &rb, &text, &tn, &err));
	CHECK_STR(rb.title, "Our rollback");
	runbook_free(&rb);
	free(text);
	CHECK_OK(rb_load(top, "builtin:rollback", &rb, &text, &tn, &err));
	CHECK_STR(rb.title, "Emergency rollback");
	runbook_free(&rb);
	free(text);
	err_clear(&err);
	CHECK(rb_load(top, "nope", &rb, &text, &tn, &err) < 0);
	CHECK_STR(err.msg, "no runbook named 'nope' (ciscope runbook list)");
	free(rd);
	free(top);
}
