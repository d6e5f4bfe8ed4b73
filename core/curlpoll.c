/* curlpoll.c - libcurl's socket and timer callbacks kept for a poll loop. */
#include "curlpoll.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

struct curl_lib lc;
DYNLIB_LOADER(lc, LC_FUNCS, CURL_SONAME, CURL_PACKAGE)

int curl_lib_init(const char *what, struct cs_err *err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int state; /* 0 not yet, 1 ready, -1 curl_global_init() failed */
	if (!DYNLIB_LOAD(lc))
		return err_set(err, CS_EIO, "%s%s%s", what ? what : "", what ? ": " : "",
			       lc_lib.error);
	pthread_mutex_lock(&lock);
	if (state == 0)
		state = lc.curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : -1;
	int ok = state;
	pthread_mutex_unlock(&lock);
	if (ok < 0)
		return err_set(err, CS_EIO, "%s%scannot initialise libcurl", what ? what : "",
			       what ? ": " : "");
	return 0;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curl_poll *cp = userp;
	(void)e;
	(void)socketp;
	for (size_t i = 0; i < cp->nsocks; i++) {
		if (cp->socks[i].fd == s) {
			if (what == CURL_POLL_REMOVE)
				cp->socks[i] = cp->socks[--cp->nsocks];
			else
				cp->socks[i].what = what;
			return 0;
		}
	}
	if (what != CURL_POLL_REMOVE) {
		XGROW(cp->socks, cp->asocks, cp->nsocks + 1);
		cp->socks[cp->nsocks++] = (struct curl_poll_sock){s, what};
	}
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct curl_poll *cp = userp;
	(void)m;
	cp->deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

void curl_poll_init(struct curl_poll *cp, CURLM *multi)
{
	cp->multi = multi;
	cp->socks = NULL;
	cp->nsocks = cp->asocks = 0;
	cp->deadline = -1;
	lc.curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	lc.curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, cp);
	lc.curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	lc.curl_multi_setopt(multi, CURLMOPT_TIMERDATA, cp);
}

void curl_poll_release(struct curl_poll *cp)
{
	free(cp->socks);
	cp->socks = NULL;
	cp->nsocks = cp->asocks = 0;
}

int curl_poll_fds(const struct curl_poll *cp, struct pollfd *fds, int max)
{
	int n = 0;
	for (size_t i = 0; i < cp->nsocks; i++, n++) {
		if (n >= max)
			continue;
		fds[n].fd = cp->socks[i].fd;
		fds[n].events = (short)((cp->socks[i].what & CURL_POLL_IN ? POLLIN : 0) |
					(cp->socks[i].what & CURL_POLL_OUT ? POLLOUT : 0));
		fds[n].revents = 0;
	}
	return n;
}

int64_t curl_poll_wait(const struct curl_poll *cp, int64_t now)
{
	return cp->deadline < 0 ? -1 : MAX(cp->deadline - now, (int64_t)0);
}

void curl_poll_sockets(struct curl_poll *cp, const struct pollfd *fds, int n)
{
	int running;
	for (int i = 0; fds && i < n; i++) {
		if (!fds[i].revents)
			continue;
		int ev = (fds[i].revents & POLLIN ? CURL_CSELECT_IN : 0) |
			 (fds[i].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
			 (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL) ? CURL_CSELECT_ERR : 0);
		lc.curl_multi_socket_action(cp->multi, fds[i].fd, ev, &running);
	}
}

void curl_poll_timer(struct curl_poll *cp, int64_t now)
{
	int running;
	if (cp->deadline >= 0 && now >= cp->deadline) {
		cp->deadline = -1;
		lc.curl_multi_socket_action(cp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

bool curl_poll_due(const struct curl_poll *cp, int64_t now)
{
	return cp->deadline >= 0 && cp->deadline <= now;
}
