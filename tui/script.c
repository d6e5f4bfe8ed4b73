/* script.c - scripted tests, tig's model: keys come from a file instead of
 * the terminal, the loop finishes all background work before each key (no
 * sleeps, no races), and :save-display writes the screen as text.
 *
 * The script, one item a line (tests/tui/README.md):
 *	jjj<Enter><C-d>       keys in the config syntax
 *	:save-display a.txt   typed into the ':' prompt, then Enter
 *	# comment, and blank lines, are skipped
 * At the end of the script the program quits. A malformed line ends the
 * run with status 2 and the message on stderr: a typo in a test must fail
 * it loudly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui/internal.h"

#define SCRIPT_LINE_MAX 65536

static struct {
	FILE *f;
	char *path;
	int lineno;
	struct tui_key *q;
	size_t n, head, alloc;
} sc;

int tui_script_open(const char *path, char *err, size_t errlen)
{
	tui_script_close();
	sc.f = fopen(path, "r");
	if (!sc.f) {
		tui_fmt(err, errlen, "cannot read script '%s': %s", path, strerror(errno));
		return -1;
	}
	sc.path = tui_xstrdup(path);
	return 0;
}

void tui_script_close(void)
{
	if (sc.f)
		fclose(sc.f);
	free(sc.path);
	free(sc.q);
	memset(&sc, 0, sizeof(sc));
}

static void push(const struct tui_key *k)
{
	TUI_GROW(sc.q, sc.alloc, sc.n + 1);
	sc.q[sc.n++] = *k;
}

static void push_key(int key)
{
	struct tui_key k;
	memset(&k, 0, sizeof(k));
	k.key = key;
	push(&k);
}

static bool fail(const char *msg)
{
	char buf[600];
	tui_fmt(buf, sizeof(buf), "%s:%d: %s", sc.path, sc.lineno, msg);
	tui_script_failed(buf);
	return false;
}

/* Turn the next meaningful line into queued keys. */
static bool read_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, sc.f)) >= 0) {
		char *p = line, err[200];
		sc.lineno++;
		if (memchr(line, 0, (size_t)len)) {
			free(line);
			return fail("NUL byte in script");
		}
		if (len > SCRIPT_LINE_MAX) {
			free(line);
			return fail("line too long");
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
				   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = 0;
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			continue;
		sc.n = sc.head = 0;
		if (*p == ':') {
			/* typed into the prompt whatever ':' is bound to */
			push_key(TK_CMDLINE);
			for (p++; *p;) {
				uint32_t cp;
				int l = tw_decode((const unsigned char *)p, strlen(p), &cp);
				if (l == 0) {
					free(line);
					return fail("invalid UTF-8");
				}
				push_key(cp == '\t' ? ' ' : (int)cp);
				p += l;
			}
			push_key(TK_ENTER);
		} else {
			const char *q = p;
			while (*q) {
				struct tui_key k;
				if (tui_key_parse(&q, &k, err, sizeof(err)) < 0) {
					free(line);
					return fail(err);
				}
				push(&k);
			}
		}
		free(line);
		return true;
	}
	free(line);
	return false;
}

bool tui_script_next(struct tui_key *k)
{
	if (!sc.f)
		return false;
	while (sc.head >= sc.n) {
		sc.n = sc.head = 0;
		if (!read_line())
			return false;
	}
	*k = sc.q[sc.head++];
	return true;
}

/* --- :save-display -------------------------------------------------------------- */

int tui_save_display(const char *path, bool attrs, char *err, size_t errlen)
{
	FILE *f;
	int rows, cols;
	cchar_t *cells;
	char *line;

	tui_render(); /* the frame as it is now, prompt gone */
	rows = LINES;
	cols = COLS;
	f = fopen(path, "w");
	if (!f) {
		tui_fmt(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	cells = tui_xcalloc((size_t)cols + 1, sizeof(*cells));
	line = tui_xmalloc((size_t)cols * 24 + 1);
	for (int y = 0; y < rows; y++) {
		if (attrs) {
			const char *g = tui_grid_row(y);
			int n = cols;
			while (g && n > 0 && g[n - 1] == tui_role_letter(ROLE_DEFAULT))
				n--;
			if (g)
				fwrite(g, 1, (size_t)n, f);
			fputc('\n', f);
			continue;
		}
		/* newscr is the composed virtual screen: every window after
		 * wnoutrefresh, whatever the terminal (TERM=dumb too). The
		 * second half of a wide character is not returned. */
		size_t len = 0, keep = 0;
		memset(cells, 0, ((size_t)cols + 1) * sizeof(*cells));
		if (mvwin_wchnstr(newscr, y, 0, cells, cols) == ERR) {
			fputc('\n', f);
			continue;
		}
		for (int x = 0; x < cols; x++) {
			wchar_t wc[CCHARW_MAX + 1];
			attr_t a;
			short pair;
			if (getcchar(&cells[x], wc, &a, &pair, NULL) == ERR)
				break;
			if (!wc[0])
				break;
			for (int i = 0; i < CCHARW_MAX && wc[i]; i++) {
				char u[4];
				uint32_t cp = (uint32_t)wc[i];
				if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
					cp = 0xfffd;
				int l = tw_encode(cp, u);
				memcpy(line + len, u, (size_t)l);
				len += (size_t)l;
			}
			if (wc[0] != L' ' || wc[1])
				keep = len;
		}
		fwrite(line, 1, keep, f);
		fputc('\n', f);
	}
	free(cells);
	free(line);
	if (fclose(f) != 0) {
		tui_fmt(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
