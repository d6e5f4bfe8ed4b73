/* loop.c - what the event loop waits on and runs between frames: the queue
 * of background work, watched file descriptors, one-shot timers, signals
 * (through a self-pipe, so handlers only write a byte) and the crash hook
 * that restores the terminal on abort(). tui.c owns the turn itself (draw,
 * then wait here, then dispatch); this file owns what is waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tui/internal.h"
#include <term.h>

/* --- state ----------------------------------------------------------------------- */
struct work_item {
	struct tui_work w;
	unsigned long id;
};

struct watch {
	int fd;
	short events;
	tui_fd_cb cb;
	void *ctx;
};

struct timer {
	long long due; /* monotonic ms */
	void (*cb)(void *ctx);
	void *ctx;
};


static struct {
	struct work_item *work;
	size_t nwork, awork;
	unsigned long work_ids;

	struct watch *watches;
	size_t nwatch, awatch;
	struct timer *timers;
	size_t ntimer, atimer;

	int sigpipe[2];
	bool handlers;
} L = {.sigpipe = {-1, -1}};

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP, SIGCONT};
#define NSIGNALS (sizeof(handled_signals) / sizeof(handled_signals[0]))
static struct sigaction old_actions[NSIGNALS];

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- background work ----------------------------------------------------------------------- */

void tui_work_start(const struct tui_work *w)
{
	if (!w)
		return;
	TUI_GROW(L.work, L.awork, L.nwork + 1);
	L.work[L.nwork].w = *w;
	L.work[L.nwork].id = ++L.work_ids;
	L.nwork++;
}

void tui_work_stop(void *ctx)
{
	for (size_t k = 0; k < L.nwork;) {
		if (L.work[k].w.ctx == ctx) {
			memmove(&L.work[k], &L.work[k + 1], (L.nwork - k - 1) * sizeof(*L.work));
			L.nwork--;
		} else {
			k++;
		}
	}
}

bool tui_work_pending(void)
{
	return L.nwork > 0;
}

static void work_remove_id(unsigned long id)
{
	for (size_t k = 0; k < L.nwork; k++) {
		if (L.work[k].id == id) {
			memmove(&L.work[k], &L.work[k + 1], (L.nwork - k - 1) * sizeof(*L.work));
			L.nwork--;
			return;
		}
	}
}

/* One step of each piece of work present when the turn began. step() may
 * start or stop work, open or close views: look items up by id. */
void tui_work_step_all(void)
{
	unsigned long last = L.work_ids;
	unsigned long done_up_to = 0;

	for (;;) {
		struct work_item *it = NULL;
		for (size_t k = 0; k < L.nwork; k++) {
			if (L.work[k].id > done_up_to && L.work[k].id <= last &&
			    (!it || L.work[k].id < it->id))
				it = &L.work[k];
		}
		if (!it)
			return;
		unsigned long id = it->id;
		struct tui_work w = it->w;
		done_up_to = id;
		/* work without a step is driven by its fds and timers */
		if (w.step && !w.step(w.ctx))
			work_remove_id(id);
	}
}

/* Work with a step to run: the loop turns without waiting. */
/* Work dies with its view: cancel() before the view's done(). */
void tui_work_cancel_owner(const struct view *v)
{
	for (size_t k = 0; k < L.nwork;) {
		if (L.work[k].w.owner == v) {
			struct tui_work w = L.work[k].w;
			memmove(&L.work[k], &L.work[k + 1], (L.nwork - k - 1) * sizeof(*L.work));
			L.nwork--;
			if (w.cancel)
				w.cancel(w.ctx);
		} else {
			k++;
		}
	}
}

/* The status bar's progress text: the oldest work's ("" when none). */
void tui_work_progress(char *out, size_t n)
{
	if (n)
		out[0] = 0;
	if (L.nwork && L.work[0].w.progress)
		L.work[0].w.progress(L.work[0].w.ctx, out, n);
	else if (L.nwork)
		tui_fmt(out, n, "working...");
}

bool tui_work_active(void)
{
	for (size_t k = 0; k < L.nwork; k++)
		if (L.work[k].w.step)
			return true;
	return false;
}

bool tui_work_cancel_all(void)
{
	bool any = L.nwork > 0;

	if (any)
		tui_message("cancelled");
	while (L.nwork) {
		struct tui_work w = L.work[0].w;
		memmove(&L.work[0], &L.work[1], (L.nwork - 1) * sizeof(*L.work));
		L.nwork--;
		if (w.cancel)
			w.cancel(w.ctx);
	}
	return any;
}
/* --- fds and timers ---------------------------------------------------------------------------- */

void tui_watch_fd(int fd, short events, tui_fd_cb cb, void *ctx)
{
	for (size_t i = 0; i < L.nwatch; i++) {
		if (L.watches[i].fd == fd) {
			L.watches[i].events = events;
			L.watches[i].cb = cb;
			L.watches[i].ctx = ctx;
			return;
		}
	}
	TUI_GROW(L.watches, L.awatch, L.nwatch + 1);
	L.watches[L.nwatch++] = (struct watch){fd, events, cb, ctx};
}

void tui_unwatch_fd(int fd)
{
	for (size_t i = 0; i < L.nwatch; i++) {
		if (L.watches[i].fd == fd) {
			memmove(&L.watches[i], &L.watches[i + 1],
				(L.nwatch - i - 1) * sizeof(*L.watches));
			L.nwatch--;
			return;
		}
	}
}

void tui_timer(int ms, void (*cb)(void *ctx), void *ctx)
{
	if (!cb)
		return;
	TUI_GROW(L.timers, L.atimer, L.ntimer + 1);
	L.timers[L.ntimer++] = (struct timer){now_ms() + (ms > 0 ? ms : 0), cb, ctx};
}

int tui_timer_timeout(void)
{
	long long now = now_ms(), best = -1;

	for (size_t i = 0; i < L.ntimer; i++) {
		long long d = L.timers[i].due - now;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best > 60000 ? 60000 : (int)best;
}

void tui_timers_fire(void)
{
	long long now = now_ms();

	/* a callback may add timers: fire the due ones one at a time */
	for (size_t i = 0; i < L.ntimer;) {
		if (L.timers[i].due <= now) {
			struct timer t = L.timers[i];
			memmove(&L.timers[i], &L.timers[i + 1], (L.ntimer - i - 1) * sizeof(*L.timers));
			L.ntimer--;
			t.cb(t.ctx);
			i = 0;
			continue;
		}
		i++;
	}
}

/* Call the callbacks of the watched fds whose revents are set. */
static void watches_dispatch(const struct pollfd *pfd, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		/* the callback may unwatch others: look the fd up again */
		for (size_t k = 0; k < L.nwatch; k++) {
			if (L.watches[k].fd == pfd[i].fd) {
				struct watch w = L.watches[k];
				w.cb(w.ctx, w.fd, pfd[i].revents);
				break;
			}
		}
	}
}

/* Scripts, while only fd-driven work is pending: wait for the watched fds
 * (and signals) at most timeout ms (-1: no timer, a second at most). */
void tui_wait_watches(int timeout)
{
	size_t n = 1 + L.nwatch;
	struct pollfd *pfd = tui_xcalloc(n, sizeof(*pfd));

	pfd[0].fd = L.sigpipe[0];
	pfd[0].events = POLLIN;
	for (size_t i = 0; i < L.nwatch; i++) {
		pfd[1 + i].fd = L.watches[i].fd;
		pfd[1 + i].events = L.watches[i].events;
	}
	int r = poll(pfd, (nfds_t)n, timeout < 0 || timeout > 1000 ? 1000 : timeout);
	if (r > 0) {
		if (pfd[0].revents)
			tui_handle_signals();
		watches_dispatch(pfd + 1, L.nwatch < n - 1 ? L.nwatch : n - 1);
	} else if (r < 0 && errno == EINTR) {
		tui_handle_signals();
	}
	free(pfd);
}

void tui_watches_poll_now(void)
{
	size_t n = L.nwatch;
	if (!n)
		return;
	struct pollfd *pfd = tui_xcalloc(n, sizeof(*pfd));
	for (size_t i = 0; i < n; i++) {
		pfd[i].fd = L.watches[i].fd;
		pfd[i].events = L.watches[i].events;
	}
	if (poll(pfd, (nfds_t)n, 0) > 0)
		watches_dispatch(pfd, n);
	free(pfd);
}
/* --- signals ------------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (L.sigpipe[1] >= 0 && write(L.sigpipe[1], &b, 1) < 0) {
		/* the pipe is full: a signal of this kind is already pending */
	}
	errno = saved;
}

static void tui_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(handled_signals[i], &sa, &old_actions[i]);
	L.handlers = true;
}

static void tui_signals_restore(void)
{
	if (!L.handlers)
		return;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(handled_signals[i], &old_actions[i], NULL);
	L.handlers = false;
}


int tui_signals_start(char *err, size_t errlen)
{
	if (pipe(L.sigpipe) < 0) {
		tui_fmt(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(L.sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(L.sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	tui_signals_install();
	return 0;
}

void tui_signals_stop(void)
{
	tui_signals_restore();
	for (int i = 0; i < 2; i++) {
		if (L.sigpipe[i] >= 0)
			close(L.sigpipe[i]);
		L.sigpipe[i] = -1;
	}
}

static void suspend(void)
{
	struct sigaction sa, old;

	endwin();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, &old);
	raise(SIGTSTP);
	/* ... stopped until SIGCONT ... */
	sigaction(SIGTSTP, &old, NULL);
	tui_update_size();
	tui_redraw_all();
}

void tui_handle_signals(void)
{
	unsigned char buf[32];
	ssize_t n;

	if (L.sigpipe[0] < 0)
		return;
	while ((n = read(L.sigpipe[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (buf[i]) {
			case SIGWINCH:
				tui_update_size();
				break;
			case SIGTSTP:
				if (!tui_script_mode())
					suspend();
				break;
			case SIGCONT:
				tui_redraw_all();
				break;
			default:
				tui_quit(128 + buf[i]);
				break;
			}
		}
	}
}

/* abort() (a failed assertion, a sanitizer report) must not leave the
 * terminal raw either: the handler may only use async-signal-safe calls, so
 * the reset string and the terminal modes are prepared at start. */
static struct {
	char reset[256];
	size_t len;
	struct termios tios;
	bool tios_ok, installed;
	int fd;
	struct sigaction old;
} crash = {.fd = -1};

static void on_abort(int sig)
{
	if (crash.fd >= 0) {
		if (crash.len && write(crash.fd, crash.reset, crash.len) < 0) {
			/* nothing more can be done */
		}
		if (crash.tios_ok)
			tcsetattr(crash.fd, TCSANOW, &crash.tios);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_add(const char *cap)
{
	char *str = tigetstr((char *)cap);
	size_t n;

	if (!str || str == (char *)-1)
		return;
	n = strlen(str);
	if (crash.len + n < sizeof(crash.reset)) {
		memcpy(crash.reset + crash.len, str, n);
		crash.len += n;
	}
}

void tui_crash_save_modes(int fd)
{
	crash.tios_ok = fd >= 0 && tcgetattr(fd, &crash.tios) == 0;
}

void tui_crash_prepare(int fd)
{
	struct sigaction sa;

	crash.len = 0;
	crash_add("rmcup");
	crash_add("cnorm");
	crash_add("sgr0");
	crash_add("rmkx");
	if (tigetstr((char *)"kmous") && tigetstr((char *)"kmous") != (char *)-1) {
		static const char mouse_off[] = "\033[?1006l\033[?1000l";
		if (crash.len + sizeof(mouse_off) - 1 < sizeof(crash.reset)) {
			memcpy(crash.reset + crash.len, mouse_off, sizeof(mouse_off) - 1);
			crash.len += sizeof(mouse_off) - 1;
		}
	}
	crash.fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_abort;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	crash.installed = sigaction(SIGABRT, &sa, &crash.old) == 0;
}

void tui_crash_release(void)
{
	if (crash.installed)
		sigaction(SIGABRT, &crash.old, NULL);
	crash.installed = false;
	crash.fd = -1;
}

/* Wait for the terminal, the signal pipe and the watched fds, at most
 * timeout ms (-1: no limit).
 *
 * libcurl's sockets (a fetch, views/remote.c) come in through
 * tui_watch_fd() and its timeout through tui_timer(): after every step the
 * transfer's descriptors and timeout (CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION, gathered by core/fetch.c) are brought in line
 * with the watches, and the callbacks call curl_multi_socket_action(); the
 * transfer is work without a step, so the loop waits here. The alternative is
 * to replace this poll() with curl_multi_poll(multi, extra_fds, n,
 * timeout, &numfds) passing the tty, the signal pipe and the watched fds as
 * extra_fds (curl's multi-poll example), and curl_multi_wakeup() from other
 * threads. */
void tui_wait_events(int tty_fd, int timeout)
{
	size_t n = 2 + L.nwatch;
	struct pollfd *pfd = tui_xcalloc(n, sizeof(*pfd));

	pfd[0].fd = tty_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = L.sigpipe[0];
	pfd[1].events = POLLIN;
	for (size_t i = 0; i < L.nwatch; i++) {
		pfd[2 + i].fd = L.watches[i].fd;
		pfd[2 + i].events = L.watches[i].events;
	}
	int r = poll(pfd, (nfds_t)n, timeout);
	if (r > 0) {
		if (pfd[1].revents)
			tui_handle_signals();
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* the terminal went away: nothing to draw on */
			tui_quit(129);
		} else if (pfd[0].revents) {
			tui_read_tty_keys();
		}
		watches_dispatch(pfd + 2, L.nwatch < n - 2 ? L.nwatch : n - 2);
	} else if (r < 0 && errno == EINTR) {
		tui_handle_signals();
	}
	free(pfd);
}

void tui_loop_free(void)
{
	free(L.work);
	L.work = NULL;
	L.nwork = L.awork = 0;
	free(L.watches);
	L.watches = NULL;
	L.nwatch = L.awatch = 0;
	free(L.timers);
	L.timers = NULL;
	L.ntimer = L.atimer = 0;
}
