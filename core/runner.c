/* runner.c - see runner.h. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int rb_proc_start(struct rb_proc *p, const char *cmd, const char *cwd, int64_t timeout_ms,
		  char *const *env, const char *out_file, struct cs_err *err)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->pid = -1;
	int pfd[2] = {-1, -1};
	int ofd = -1;
	if (out_file) {
		ofd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (ofd < 0)
			return err_set(err, CS_EIO, "cannot create '%s': %s", out_file, strerror(errno));
	} else if (pipe2(pfd, O_CLOEXEC) < 0) {
		return err_set(err, CS_EIO, "cannot create a pipe: %s", strerror(errno));
	}
	/* an error between fork and exec travels back through this pipe */
	int epfd[2];
	if (pipe2(epfd, O_CLOEXEC) < 0) {
		if (ofd >= 0)
			close(ofd);
		else {
			close(pfd[0]);
			close(pfd[1]);
		}
		return err_set(err, CS_EIO, "cannot create a pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		if (ofd >= 0)
			close(ofd);
		else {
			close(pfd[0]);
			close(pfd[1]);
		}
		close(epfd[0]);
		close(epfd[1]);
		return err_set(err, CS_EIO, "cannot start a process: %s", strerror(e));
	}
	if (pid == 0) {
		setpgid(0, 0);
		/* the signals ciscope handles or ignores come back to their defaults */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		int sigs[] = {SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP, SIGCHLD, SIGWINCH, SIGTSTP,
			      SIGTTIN, SIGTTOU};
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			sigaction(sigs[i], &sa, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int in = open("/dev/null", O_RDONLY);
		const char *what = "cannot redirect the input";
		if (in < 0 || dup2(in, 0) < 0)
			goto fail;
		int o = ofd >= 0 ? ofd : pfd[1];
		what = "cannot redirect the output";
		if (dup2(o, 1) < 0 || dup2(o, 2) < 0)
			goto fail;
		if (cwd && *cwd && chdir(cwd) < 0) {
			what = "cannot change to the step's directory";
			goto fail;
		}
		for (int i = 0; env && env[i]; i++)
			putenv(env[i]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		what = "cannot run /bin/sh";
	fail:;
		int e = errno;
		char msg[256];
		int len = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(e));
		if (write(epfd[1], msg, (size_t)len) < 0) {
			/* nothing more to tell */
		}
		_exit(127);
	}
	setpgid(pid, pid); /* both sides: whichever runs first */
	close(epfd[1]);
	if (ofd >= 0)
		close(ofd);
	else
		close(pfd[1]);
	char msg[256];
	ssize_t r;
	do
		r = read(epfd[0], msg, sizeof(msg) - 1);
	while (r < 0 && errno == EINTR);
	close(epfd[0]);
	if (r > 0) {
		msg[r] = '\0';
		waitpid(pid, NULL, 0);
		if (pfd[0] >= 0)
			close(pfd[0]);
		return err_set(err, CS_EIO, "%s%s%s", msg, cwd ? " " : "", cwd ? cwd : "");
	}
	p->pid = pid;
	p->fd = out_file ? -1 : pfd[0];
	if (p->fd >= 0)
		fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	p->started_ms = mono_ms();
	p->deadline_ms = timeout_ms > 0 ? p->started_ms + timeout_ms : 0;
	p->tail = xmalloc(RB_PROC_KEEP_TAIL);
	return 0;
}

int rb_proc_fd(const struct rb_proc *p)
{
	return p->fd;
}

static void keep(struct rb_proc *p, const char *d, size_t n)
{
	p->total += n;
	if (p->head.len < RB_PROC_KEEP_HEAD) {
		size_t k = MIN(n, RB_PROC_KEEP_HEAD - p->head.len);
		buf_add(&p->head, d, k);
		d += k;
		n -= k;
	}
	for (size_t i = 0; i < n; i++) {
		p->tail[p->tail_pos] = d[i];
		p->tail_pos = (p->tail_pos + 1) % RB_PROC_KEEP_TAIL;
		if (p->tail_len < RB_PROC_KEEP_TAIL)
			p->tail_len++;
	}
}

static void signal_group(struct rb_proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

void rb_proc_stop(struct rb_proc *p)
{
	if (p->end != RB_END_NONE || p->pid <= 0)
		return;
	if (!p->stopping) {
		p->stopping = true;
		signal_group(p, SIGTERM);
		/* a stopped (^Z) process would never see the TERM */
		signal_group(p, SIGCONT);
		p->kill_at_ms = mono_ms() + RB_PROC_GRACE_MS;
	}
}

int rb_proc_next_timer(const struct rb_proc *p)
{
	if (p->end != RB_END_NONE && p->fd < 0)
		return -1;
	int64_t now = mono_ms(), next = -1;
	if (p->deadline_ms && !p->stopping)
		next = p->deadline_ms;
	if (p->kill_at_ms && (next < 0 || p->kill_at_ms < next))
		next = p->kill_at_ms;
	/* the child reaped, the pipe held open by a grandchild: stop waiting soon */
	if (p->exited_ms && (next < 0 || p->exited_ms + 200 < next))
		next = p->exited_ms + 200;
	/* reaping is polled: while the pipe is open its end wakes the poll;
	 * once it is closed the exit follows within moments */
	int64_t reap = p->fd >= 0 ? 100 : 2;
	if (p->end == RB_END_NONE && (next < 0 || now + reap < next))
		next = now + reap;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)MIN(next - now, 60000);
}

int rb_proc_pump(struct rb_proc *p, rb_output_cb cb, void *ctx)
{
	char chunk[16384];
	while (p->fd >= 0) {
		ssize_t r = read(p->fd, chunk, sizeof(chunk));
		if (r > 0) {
			keep(p, chunk, (size_t)r);
			if (cb)
				cb(ctx, chunk, (size_t)r);
			continue;
		}
		if (r == 0) {
			close(p->fd);
			p->fd = -1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			close(p->fd);
			p->fd = -1;
		}
		break;
	}
	int64_t now = mono_ms();
	if (p->end == RB_END_NONE && p->pid > 0) {
		int status;
		pid_t w = waitpid(p->pid, &status, WNOHANG);
		if (w == p->pid) {
			p->exited_ms = now;
			p->duration_ms = now - p->started_ms;
			if (WIFEXITED(status)) {
				p->exit_code = WEXITSTATUS(status);
				p->end = p->stopping ? (p->timed_out ? RB_END_TIMEOUT : RB_END_STOPPED)
						     : RB_END_EXIT;
			} else {
				p->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
				p->exit_code = 128 + p->signal;
				p->end = p->stopping ? (p->timed_out ? RB_END_TIMEOUT : RB_END_STOPPED)
						     : RB_END_SIGNAL;
			}
			/* whatever it left behind in its group goes with it */
			if (p->stopping)
				signal_group(p, SIGKILL);
		} else if (w < 0 && errno == ECHILD) {
			p->end = RB_END_SIGNAL;
			p->exit_code = 255;
			p->exited_ms = now;
			p->duration_ms = now - p->started_ms;
		}
	}
	if (p->end == RB_END_NONE) {
		if (p->deadline_ms && !p->stopping && now >= p->deadline_ms) {
			p->timed_out = true;
			rb_proc_stop(p);
		} else if (p->kill_at_ms && now >= p->kill_at_ms) {
			signal_group(p, SIGKILL);
			p->kill_at_ms = 0;
		}
		return 1;
	}
	/* ended: the pipe may still be held by a background grandchild */
	if (p->fd >= 0 && now >= p->exited_ms + 200) {
		close(p->fd);
		p->fd = -1;
	}
	return p->fd >= 0 ? 1 : 0;
}

int rb_proc_wait(struct rb_proc *p, rb_output_cb cb, void *ctx, volatile sig_atomic_t *interrupted)
{
	while (rb_proc_pump(p, cb, ctx) > 0) {
		if (interrupted && *interrupted) {
			*interrupted = 0;
			rb_proc_stop(p);
		}
		struct pollfd pf = {.fd = p->fd, .events = POLLIN};
		int t = rb_proc_next_timer(p);
		if (p->fd >= 0)
			poll(&pf, 1, t < 0 ? 100 : MIN(t, 100));
		else
			poll(NULL, 0, t < 0 ? 50 : MIN(t, 50));
	}
	return 0;
}

void rb_proc_output(const struct rb_proc *p, struct buf *out)
{
	buf_add(out, p->head.data ? p->head.data : "", p->head.len);
	if (p->tail_len) {
		uint64_t skipped = p->total - p->head.len - p->tail_len;
		if (skipped)
			buf_addf(out, "\n[... %llu bytes of output not kept ...]\n",
				 (unsigned long long)skipped);
		size_t start = p->tail_len < RB_PROC_KEEP_TAIL ? 0 : p->tail_pos;
		for (size_t i = 0; i < p->tail_len; i++)
			buf_addc(out, p->tail[(start + i) % RB_PROC_KEEP_TAIL]);
	}
	buf_cstr(out);
}

void rb_proc_release(struct rb_proc *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	buf_release(&p->head);
	free(p->tail);
	p->tail = NULL;
}
