/* width.c - display width of code points, so the screen layout never
 * depends on the C library's wcwidth (tig vendors utf8proc for the same
 * reason), and UTF-8 decoding that rejects what is not valid.
 *
 * The Unicode data comes from libutf8proc (the library tmux uses for
 * this), which follows each Unicode release: a code point's general
 * category says combining (Mn, Me: 0 columns, joined to the previous cell)
 * and format (Cf: invisible, dropped), its East Asian width says wide (2
 * columns). What is policy stays here: controls, the characters shown as
 * <U+XXXX> (bidi controls, separators, non-characters), Hangul medial and
 * final jamo as combining, and unassigned code points of the CJK blocks as
 * wide (EastAsianWidth.txt reserves them so; utf8proc says 1). utf8proc
 * measured faster than the bisected range tables this file carried before
 * (README, "Dependencies").
 */
#include <stddef.h>
#include <stdint.h>
#include <utf8proc.h>

#include "tui/internal.h"

/* Reserved for CJK ideographs: wide even before they are assigned. */
static bool cjk_reserved(uint32_t cp)
{
	return (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) ||
	       (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x2fffd) ||
	       (cp >= 0x30000 && cp <= 0x3fffd);
}

enum cp_class tw_class(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return CP_CONTROL;
	if (cp < 0x7f)
		return CP_NORMAL;
	/* Characters that reorder or break lines on the terminal: a log line
	 * must not be able to make text appear where it is not (Trojan Source). */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	    cp == 0x200f || cp == 0x061c || cp == 0x2028 || cp == 0x2029)
		return CP_SHOW;
	/* Non-characters and surrogates (the decoder rejects the latter). */
	if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return CP_SHOW;
	/* the jamo that join a Hangul syllable's first letter */
	if ((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff))
		return CP_COMBINING;
	const utf8proc_property_t *prop = utf8proc_get_property((utf8proc_int32_t)cp);
	switch (prop->category) {
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_ME:
		return CP_COMBINING;
	case UTF8PROC_CATEGORY_CF:
		return CP_FORMAT;
	case UTF8PROC_CATEGORY_CN:
		return cjk_reserved(cp) ? CP_WIDE : CP_NORMAL;
	default:
		return prop->charwidth == 2 ? CP_WIDE : CP_NORMAL;
	}
}

int tw_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	int len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int tw_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
