/* artifact_int.h - private to the artifact parsers (artifact.c, junit.c,
 * metricfile.c): their size caps and the byte/name helpers they share.
 * Owner: artifact.c. Not for other modules: artifact.h is the interface. */
#ifndef CS_ARTIFACT_INT_H
#define CS_ARTIFACT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define TEXT_CAP (16 * 1024)     /* message / details, bytes */
#define NAME_CAP 1024            /* metric names, bytes */
#define JSON_DEPTH_CAP 64
#define MAX_COLUMNS 65536
#define MAX_SUITE_DEPTH 256
#define XML_CHUNK (1 << 20)

/* Cell / value classification for metrics. */
enum cell_kind { CELL_MISSING, CELL_NUMBER, CELL_TEXT };

/* ASCII only: the C library's versions follow the locale. */
bool art_is_space(int c);
bool art_is_digit(int c);
/* Extension test on the base name, case-insensitive (".CSV" from Windows). */
bool art_name_has_ext(const char *name, const char *ext);
/* Append s to b with invalid UTF-8 and control bytes as U+FFFD. */
void art_add_clean(struct buf *b, const char *s, size_t n);
/* Largest k <= max such that s[0..k) does not end inside a UTF-8 sequence. */
size_t art_utf8_cut(const char *s, size_t n, size_t max);
/* 1-based line and column of byte off in d. */
void art_line_col(const char *d, size_t off, long *line, long *col);
/* A cell's kind, and its value (C locale) when a number. */
enum cell_kind art_classify_number(const char *s, size_t n, double *out);
/* step, frame, tick, iteration or index (any case): an x-axis column. */
bool art_is_x_name(const char *s, size_t n);

#endif
