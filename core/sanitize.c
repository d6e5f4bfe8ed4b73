/* sanitize.c - see sanitize.h. */
#include "sanitize.h"

#include <stdio.h>
#include <string.h>

/* Length of the escape sequence starting at s[0] == ESC (or a C1 CSI/OSC/
 * DCS byte encoded as UTF-8 U+0080..U+009F is handled as a C1 control), and
 * whether it is an SGR sequence. Unterminated sequences run to the end. */
static size_t esc_len(const unsigned char *s, size_t n, bool *sgr)
{
	*sgr = false;
	if (n < 2)
		return n;
	unsigned char k = s[1];
	size_t i;
	if (k == '[') { /* CSI: params 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e */
		for (i = 2; i < n && s[i] >= 0x30 && s[i] <= 0x3f; i++)
			;
		size_t pend = i;
		for (; i < n && s[i] >= 0x20 && s[i] <= 0x2f; i++)
			;
		if (i < n && s[i] >= 0x40 && s[i] <= 0x7e) {
			*sgr = s[i] == 'm' && pend == i;
			for (size_t j = 2; j < pend && *sgr; j++)
				if (!((s[j] >= '0' && s[j] <= '9') || s[j] == ';'))
					*sgr = false;
			return i + 1;
		}
		return i;
	}
	if (k == ']' || k == 'P' || k == 'X' || k == '^' || k == '_') {
		/* string sequences end with BEL or ST (ESC \) */
		for (i = 2; i < n; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	if (k >= 0x20 && k <= 0x2f) { /* ESC intermediates final */
		for (i = 2; i < n && s[i] >= 0x20 && s[i] <= 0x2f; i++)
			;
		return i < n ? i + 1 : n;
	}
	return 2;
}

void sanitize_append(struct buf *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[8];
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f) {
			/* a run of printable ASCII, the bulk of any log, in one copy */
			size_t j = i + 1;
			while (j < n && s[j] >= 0x20 && s[j] < 0x7f)
				j++;
			buf_add(out, s + i, j - i);
			i = j;
			continue;
		}
		if (c == 0x1b) {
			bool sgr;
			size_t l = esc_len(s + i, n - i, &sgr);
			if (sgr && (flags & SAN_KEEP_SGR))
				buf_add(out, s + i, l);
			i += l;
			continue;
		}
		if (c == '\t' && (flags & SAN_KEEP_TAB)) {
			buf_addc(out, '\t');
			i++;
			continue;
		}
		if (c < 0x20) {
			buf_addc(out, '^');
			buf_addc(out, (char)(c + '@'));
			i++;
			continue;
		}
		if (c == 0x7f) {
			buf_adds(out, "^?");
			i++;
			continue;
		}
		if (c < 0x80) {
			buf_addc(out, (char)c);
			i++;
			continue;
		}
		int l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			buf_adds(out, tmp);
			i++;
			continue;
		}
		/* C1 controls encoded in UTF-8 (U+0080..U+009F) are controls too */
		if (l == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", s[i + 1]);
			buf_adds(out, tmp);
			i += 2;
			continue;
		}
		/* U+FEFF (BOM) and bidi overrides change what the eye sees */
		if (l == 3 && ((c == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf) ||
			       (c == 0xe2 && s[i + 1] == 0x80 && s[i + 2] >= 0xaa && s[i + 2] <= 0xae) ||
			       (c == 0xe2 && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9))) {
			i += 3;
			continue;
		}
		buf_add(out, s + i, (size_t)l);
		i += (size_t)l;
	}
}
