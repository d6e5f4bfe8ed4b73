/* table.c - the CLI's text table cells (see table.h). */
#include "cli/table.h"

#include <string.h>
#include <wchar.h>

#include "core/sanitize.h"

int table_text_width(const char *s, size_t n, size_t *cut, int max)
{
	mbstate_t ps;
	memset(&ps, 0, sizeof(ps));
	int w = 0;
	size_t i = 0;
	while (i < n) {
		wchar_t wc;
		size_t l = mbrtowc(&wc, s + i, n - i, &ps);
		int cw = 1;
		if (l == (size_t)-1 || l == (size_t)-2 || l == 0) {
			memset(&ps, 0, sizeof(ps));
			l = 1;
		} else {
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		if (max >= 0 && w + cw > max)
			break;
		w += cw;
		i += l;
	}
	if (cut)
		*cut = i;
	return w;
}

void table_cell(struct buf *out, const char *s, int width, bool last, bool utf8)
{
	struct buf safe = BUF_INIT;
	s = s ? s : "-";
	sanitize_append(&safe, s, strlen(s), 0);
	const char *t = buf_cstr(&safe);
	size_t cut;
	int w = table_text_width(t, safe.len, &cut, -1);
	if (width > 0 && w > width) {
		/* not '~': it marks known-flaky failures */
		const char *ell = utf8 ? "\u2026" : ">";
		w = table_text_width(t, safe.len, &cut, width - 1);
		buf_add(out, t, cut);
		buf_adds(out, ell);
		w++;
	} else {
		buf_add(out, t, safe.len);
	}
	if (!last)
		for (; w < width + 2; w++)
			buf_addc(out, ' ');
	buf_release(&safe);
}
