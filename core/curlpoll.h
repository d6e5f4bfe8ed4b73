/* curlpoll.h - a libcurl multi handle driven by the caller's poll loop: the
 * bookkeeping of the sockets libcurl wants watched (CURLMOPT_SOCKETFUNCTION)
 * and of its timer (CURLMOPT_TIMERFUNCTION), shared by the fetcher (fetch.c)
 * and the non-blocking single request (github.c, gh_call), so one loop (the
 * TUI's, or a blocking wait) can poll them with the terminal and its timers.
 *
 * The struct curl_poll is owned by whoever embeds it; curl_poll_init()
 * points the multi handle's callbacks at it, so it must not move afterwards.
 */
#ifndef CS_CURLPOLL_H
#define CS_CURLPOLL_H

#include <curl/curl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

struct curl_poll_sock {
	curl_socket_t fd;
	int what; /* CURL_POLL_IN, _OUT, _INOUT */
};

struct curl_poll {
	CURLM *multi;
	struct curl_poll_sock *socks;
	size_t nsocks, asocks;
	int64_t deadline; /* libcurl's timer, monotonic ms (mono_ms()); -1: none */
};

/* Start keeping multi's sockets and timer in cp. */
void curl_poll_init(struct curl_poll *cp, CURLM *multi);
/* Free what cp holds (not the multi handle). */
void curl_poll_release(struct curl_poll *cp);
/* Fill fds[0..max) with the sockets to watch; returns how many there are
 * (more than max when fds is too small: the rest wait for the next call). */
int curl_poll_fds(const struct curl_poll *cp, struct pollfd *fds, int max);
/* Milliseconds from now until libcurl's timer is due (0 when past), or -1
 * when it has none. */
int64_t curl_poll_wait(const struct curl_poll *cp, int64_t now);
/* Tell libcurl which of the sockets fds[0..n) polled ready. */
void curl_poll_sockets(struct curl_poll *cp, const struct pollfd *fds, int n);
/* Fire libcurl's timer if it is due at now. */
void curl_poll_timer(struct curl_poll *cp, int64_t now);
/* Is libcurl's timer due again (set to a time not after now)? A loop that
 * fired it goes round again while it is. */
bool curl_poll_due(const struct curl_poll *cp, int64_t now);

#endif
