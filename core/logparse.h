/* logparse.h - GitHub Actions log lines: splitting, timestamps, markers, ANSI.
 *
 * Two layers:
 *  - struct splitter turns a byte stream (fed in pieces of any size) into lines,
 *    splitting on CRLF, LF and a bare CR, including a CRLF cut across two
 *    pieces. It never holds more than SPLIT_HEAD_MAX bytes of a line: a 10 MB
 *    line is reported with its offset and full length and only its head, so
 *    memory does not grow with line or log length.
 *  - logline_parse() classifies one line (its head): a UTF-8 BOM at the start,
 *    the 28-character timestamp and its space, then a marker (##[group],
 *    ##[endgroup], ##[error], ##[warning], ##[notice], ##[debug], ##[command],
 *    ##[section], or [command] / [group] ... as @actions/exec prints them).
 *
 * Line numbers are 1-based everywhere in ciscope. A log that ends without a
 * terminator still has its last line; an empty log has no lines.
 */
#ifndef CS_LOGPARSE_H
#define CS_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SPLIT_HEAD_MAX 8192 /* bytes of each line the splitter keeps */

enum line_term { TERM_NONE = 0, TERM_LF, TERM_CRLF, TERM_CR };

struct split_line {
	uint64_t lineno;   /* 1-based */
	uint64_t off;      /* byte offset of the line's first byte in the stream */
	uint64_t len;      /* length without the terminator */
	enum line_term term;
	const char *head;  /* first MIN(len, SPLIT_HEAD_MAX) bytes of the line */
	size_t head_len;
};

typedef int (*split_cb)(void *ctx, const struct split_line *line);

struct splitter {
	split_cb cb;
	void *ctx;
	uint64_t off;        /* bytes consumed so far */
	uint64_t lineno;     /* lines emitted so far */
	uint64_t line_off;   /* start of the current (unfinished) line */
	uint64_t line_len;
	char head[SPLIT_HEAD_MAX];
	size_t head_len;
	bool pending_cr;     /* the last byte seen was a CR: wait for LF */
};

void splitter_init(struct splitter *sp, split_cb cb, void *ctx);
/* Feed bytes; calls cb once per completed line. A non-zero cb return aborts
 * and is returned. */
int splitter_feed(struct splitter *sp, const void *data, size_t n);
/* End of stream: emits the last unterminated line, if any. */
int splitter_finish(struct splitter *sp);

/* --- one line ------------------------------------------------------------- */
enum line_kind {
	LINE_PLAIN = 0,
	LINE_GROUP,      /* ##[group]title */
	LINE_ENDGROUP,   /* ##[endgroup] */
	LINE_ERROR,      /* ##[error]msg */
	LINE_WARNING,
	LINE_NOTICE,
	LINE_DEBUG,
	LINE_COMMAND,    /* ##[command]cmd or [command]cmd */
	LINE_SECTION,    /* ##[section]text (old logs: Starting:/Finishing:) */
	LINE_KIND_COUNT
};

const char *line_kind_name(enum line_kind k); /* "plain", "group", "error", ... */

struct logline {
	bool has_bom;          /* a U+FEFF at the line start (removed from text) */
	bool has_ts;           /* the 28-char timestamp prefix was present */
	int64_t ts_us;         /* microseconds since the epoch, when has_ts */
	const char *ts;        /* the 28 timestamp characters, when has_ts */
	const char *text;      /* the line after BOM and timestamp */
	size_t text_len;
	enum line_kind kind;
	const char *msg;       /* for markers: the text after the marker */
	size_t msg_len;
};

/* Parse one line (usually a splitter head). Never fails: anything unusual is a
 * plain line. BOMs may also appear after the timestamp; they are skipped. */
void logline_parse(const char *s, size_t n, struct logline *out);
/* logline_parse() without the time's value (ts_us is 0): the timestamp is
 * checked as there, not converted, for the rules, which read every line and
 * need only its text and kind. */
void logline_parse_untimed(const char *s, size_t n, struct logline *out);

/* False when the text logline_parse() finds in s (after its BOMs and
 * timestamp) cannot begin with any byte of firsts: it looks past a prefix of
 * a timestamp's shape without checking its digits, so a line that can be
 * neither a marker ('#') nor begin with a wanted word is known as such
 * without its timestamp parsed. */
bool logline_text_may_start(const char *s, size_t n, const char *firsts);

/* Parse "2024-05-01T10:48:36.8101331Z" exactly (28 chars); -1 if not one. */
int64_t logts_parse(const char *s, size_t n);
/* Whether the 28 bytes at s are such a timestamp (logts_parse(s, 28) >= 0),
 * without computing the time. */
bool logts_valid(const char *s);

/* --- ANSI ------------------------------------------------------------------- */
/* Append s without any escape sequence (SGR or other CSI, OSC, DCS, ...): the
 * text that search and findings see. Other bytes are kept as they are. */
void ansi_strip(const char *s, size_t n, struct buf *out);
/* Length of the escape sequence at s[0] == ESC (0x1b); it may run to n when
 * it is unterminated (a terminal would swallow the rest too). ansi_strip()
 * and the log view's highlighting both skip sequences by it, so search
 * matches and highlights agree. */
size_t ansi_esc_len(const unsigned char *s, size_t n);

/* Display attributes carried by SGR sequences, independent of curses. */
enum { ANSI_DEFAULT = -1 };
struct ansi_attr {
	int fg, bg;            /* 0..255, or ANSI_DEFAULT; truecolour mapped to 256 */
	bool bold, dim, italic, underline, reverse;
};
void ansi_attr_reset(struct ansi_attr *a);
/* Apply the parameters of one SGR sequence ("1;31", "38;5;208", "" = reset). */
void ansi_apply_sgr(struct ansi_attr *a, const char *params, size_t n);

#endif
