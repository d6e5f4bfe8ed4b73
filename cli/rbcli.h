/* rbcli.h - what the parts of `ciscope runbook` share: cli/runbook.c
 * (list, show, note, log, the dispatch and these helpers), cli/rbrun.c (run,
 * resume) and cli/rbreport.c (report). Internal to them. */
#ifndef CISCOPE_RBCLI_H
#define CISCOPE_RBCLI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "core/runbook.h"

/* Sanitised text with its newlines kept. */
void rbc_put_lines(struct buf *b, const char *s, size_t n);
/* A duration in ms as "250ms" or "3s". */
void rbc_fmt_ms(struct buf *b, int64_t ms);
/* Writes b to stdout, flushed, and empties it. */
void rbc_out_flush(struct buf *b);
/* The first 7 characters of sha, or "-". */
void rbc_short_sha(struct buf *b, const char *sha);
/* A step's attributes, as show prints them. */
void rbc_step_attrs(struct buf *b, const struct rb_step *s);
/* text sanitised, each of its lines after pfx. */
void rbc_indent(struct buf *b, const char *text, const char *pfx);
/* A positive decimal id, or -1. */
int64_t rbc_parse_id(const char *s);
struct rb_instance;
struct rb_event;
/* The index opened (for writing when write) and instance id read into inst
 * (and its events into evs and n, unless evs is NULL): EXIT_OK, else the
 * error said and the exit code. */
int rbc_open_get(struct cli *c, bool write, int64_t id, struct rb_instance *inst,
		 struct rb_event **evs, int *n);
/* printf to stdout, sanitised line by line, flushed. */
void rbc_say(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* the subcommands of other parts; argv[0] is the subcommand */
int rbc_run(struct cli *c, int argc, char **argv, bool resume);
int rbc_report(struct cli *c, int argc, char **argv);

#endif
