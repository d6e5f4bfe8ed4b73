/* table.h - the CLI's text tables: cells cut to a display width and padded,
 * the plain-text twin of the TUI's list columns (tui_column()). The CLI
 * writes to a pipe or a terminal it does not control, so it measures with
 * the C library's wcwidth() for the current locale rather than the TUI's
 * table: tui/ is not linked into core/ programs, and core/ may not include
 * tui/ (make check-layering).
 *
 * Text from CI (job names, branches) is sanitised here before it is
 * measured: a cell never carries an escape sequence to the terminal.
 */
#ifndef CS_CLI_TABLE_H
#define CS_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* Display width of n bytes of UTF-8 text (wcwidth; invalid bytes and
 * characters without a width count as 1). With max >= 0 stop before the
 * width would pass max; *cut (if not NULL) gets the bytes measured. */
int table_text_width(const char *s, size_t n, size_t *cut, int max);

/* Append one cell to out: s (NULL: "-") sanitised, cut to width with "…"
 * (utf8) or ">", then padded to width plus the two blanks between
 * columns, unless it is the last cell of the row (nothing after it).
 * width 0: no limit. */
void table_cell(struct buf *out, const char *s, int width, bool last, bool utf8);

#endif
