/* runner.h - one command of a runbook step, as a child process.
 *
 * The command runs as `/bin/sh -c CMD` in a process group of its own (so
 * stopping a step stops everything it started, and the terminal's Ctrl-C
 * reaches ciscope, not the step), with stdin from /dev/null and stdout and
 * stderr on one pipe. The pipe's read end is non-blocking and exposed: an
 * event loop (the TUI) polls rb_proc_fd() with its other fds and calls
 * rb_proc_pump() when it is readable or a timer fires; the CLI calls
 * rb_proc_wait(), which does the same in a loop. Nothing here blocks but
 * rb_proc_wait().
 *
 * The output is passed to the caller's callback as it arrives (in chunks,
 * not lines) and kept, capped at RB_PROC_KEEP bytes: the first part and the
 * last part, with a marker between (what is stored in the event log).
 *
 * A timeout sends SIGTERM to the group, then SIGKILL RB_PROC_GRACE_MS later
 * if it is still there; so does rb_proc_stop() (Esc, Ctrl-C).
 */
#ifndef CS_RUNNER_H
#define CS_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define RB_PROC_KEEP_HEAD (192u << 10)
#define RB_PROC_KEEP_TAIL (64u << 10)
#define RB_PROC_GRACE_MS 2000

enum rb_proc_end {
	RB_END_NONE = 0,  /* still running */
	RB_END_EXIT,      /* exited: exit_code */
	RB_END_SIGNAL,    /* killed by a signal it did not get from us */
	RB_END_TIMEOUT,   /* we stopped it: the timeout */
	RB_END_STOPPED,   /* we stopped it: rb_proc_stop */
};

typedef void (*rb_output_cb)(void *ctx, const char *data, size_t n);

struct rb_proc {
	pid_t pid;           /* also the process group id */
	int fd;              /* -1 once the output has ended */
	int64_t started_ms;
	int64_t deadline_ms; /* 0: none */
	int64_t kill_at_ms;  /* when SIGKILL follows a SIGTERM; 0: not yet */
	int64_t exited_ms;   /* when the child was reaped */
	enum rb_proc_end end;
	bool stopping;       /* a stop or a timeout is under way */
	bool timed_out;
	int exit_code;       /* RB_END_EXIT: 0-255; else 128 + signal */
	int signal;
	int64_t duration_ms;
	/* output kept: head, then the tail in a ring */
	struct buf head;
	char *tail;
	size_t tail_len, tail_pos;
	uint64_t total;      /* bytes of output in all */
};

/* Start cmd with cwd (NULL: ours) and timeout_ms (0: none); env: extra
 * "K=V" strings, NULL-terminated (may be NULL). out_file: when not NULL the
 * output goes to that file instead of the pipe (background steps), and the
 * process is not waited for. */
int rb_proc_start(struct rb_proc *p, const char *cmd, const char *cwd, int64_t timeout_ms,
		  char *const *env, const char *out_file, struct cs_err *err);
/* The fd to poll for input (POLLIN), or -1 when there is none left. */
int rb_proc_fd(const struct rb_proc *p);
/* Read what is there, reap the child, apply the timeout: 1 while the step
 * runs, 0 once it has ended (p->end says how). Never blocks. */
int rb_proc_pump(struct rb_proc *p, rb_output_cb cb, void *ctx);
/* Milliseconds until pump has something to do without input (a deadline),
 * for a poll timeout; -1: none. */
int rb_proc_next_timer(const struct rb_proc *p);
/* Stop the step: SIGTERM to its group now, SIGKILL after the grace time. */
void rb_proc_stop(struct rb_proc *p);
/* Pump until the end; when *interrupted becomes non-zero the step is
 * stopped (and *interrupted cleared). */
int rb_proc_wait(struct rb_proc *p, rb_output_cb cb, void *ctx, volatile sig_atomic_t *interrupted);
/* The output kept (head, marker, tail) into out. */
void rb_proc_output(const struct rb_proc *p, struct buf *out);
void rb_proc_release(struct rb_proc *p);

#endif
