/* curlpoll.h - libcurl, loaded when first needed, and a libcurl multi handle driven by the caller's poll loop: the
 * bookkeeping of the sockets libcurl wants watched (CURLMOPT_SOCKETFUNCTION)
 * and of its timer (CURLMOPT_TIMERFUNCTION), shared by the fetcher (fetch.c)
 * and the non-blocking single request (github.c, gh_call), so one loop (the
 * TUI's, or a blocking wait) can poll them with the terminal and its timers.
 *
 * The struct curl_poll is owned by whoever embeds it; curl_poll_init()
 * points the multi handle's callbacks at it, so it must not move afterwards.
 *
 * libcurl is not linked: curl_lib_init() loads it (dynlib.h) at the first
 * transfer, so commands that never fetch do not pay for it and the ~30
 * libraries it pulls in. Every call goes through lc, whose members have the
 * functions' own names and types (lc.curl_easy_init()); LC_FUNCS lists them.
 * Include this header, not <curl/curl.h>: curl.h's type-checking macros for
 * curl_easy_setopt() and curl_easy_getinfo() would rewrite lc's members.
 */
#ifndef CS_CURLPOLL_H
#define CS_CURLPOLL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "dynlib.h"
#include "util.h"

#define LC_FUNCS(X) X(curl_easy_cleanup) X(curl_easy_getinfo) X(curl_easy_init) \
	X(curl_easy_setopt) X(curl_easy_strerror) X(curl_global_init) X(curl_multi_add_handle) \
	X(curl_multi_cleanup) X(curl_multi_info_read) X(curl_multi_init) \
	X(curl_multi_remove_handle) X(curl_multi_setopt) X(curl_multi_socket_action) \
	X(curl_slist_append) X(curl_slist_free_all)
struct curl_lib {
	LC_FUNCS(DYNLIB_MEMBER)
};
extern struct curl_lib lc;

/* Load libcurl and initialise it (curl_global_init), once: the first call
 * of each transfer's starter. -1 with err set ("WHAT: cannot load
 * libcurl.so.4: ...; install libcurl4") when it cannot. Thread-safe. */
int curl_lib_init(const char *what, struct cs_err *err);

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
