/* sanitize.h - text from CI made safe for a terminal, for the command line's
 * text output (the TUI draws through its own single text function).
 *
 * Nothing from a log or the API reaches the terminal raw: C0 controls other
 * than tab become caret notation (^[), DEL and C1 controls and invalid UTF-8
 * become \xNN, escape sequences (CSI, OSC, DCS, SOS, PM, APC, two-byte ESC)
 * are dropped whole, except SGR colour sequences when SAN_KEEP_SGR is set,
 * which are re-emitted in a normalised form (only digits and ';').
 */
#ifndef CS_SANITIZE_H
#define CS_SANITIZE_H

#include <stddef.h>

#include "util.h"

enum { SAN_KEEP_SGR = 1 << 0, SAN_KEEP_TAB = 1 << 1 };

void sanitize_append(struct buf *out, const char *s, size_t n, unsigned flags);

#endif
