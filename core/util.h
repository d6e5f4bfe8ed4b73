/* util.h - allocation, growable buffers, errors, time: shared by every module.
 *
 * Ownership: a struct buf owns its bytes; buf_release() frees them and leaves
 * an empty buffer that may be reused. Errors are reported through struct
 * cs_err: a function that can fail returns -1 (or NULL) and fills err->msg
 * with a sentence naming what failed, in git's grammar ("cannot read 'x': ...").
 * Allocation failure is not recoverable: xmalloc() and friends call the hook
 * set with util_set_oom_hook() (the TUI restores the terminal there), print a
 * message and abort.
 */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

/* --- allocation ----------------------------------------------------------- */
void util_set_oom_hook(void (*hook)(void));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Grow *array (of *alloc elements of size elem) so that it holds at least need. */
void xgrow(void **array, size_t *alloc, size_t need, size_t elem);
#define XGROW(arr, alloc, need) xgrow((void **)&(arr), &(alloc), (need), sizeof(*(arr)))

NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* --- growable byte buffer --------------------------------------------------- */
struct buf {
	char *data; /* always NUL-terminated when len > 0 or after buf_cstr() */
	size_t len;
	size_t alloc;
};
#define BUF_INIT {NULL, 0, 0}

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);               /* len = 0, keeps memory */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
const char *buf_cstr(struct buf *b);         /* never NULL */
char *buf_detach(struct buf *b, size_t *len); /* caller frees */
/* Append s as a JSON string literal (quotes included); bytes that are not
 * valid UTF-8 become U+FFFD so the output is always valid JSON. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);

/* --- errors ----------------------------------------------------------------- */
struct cs_err {
	int code;       /* one of enum cs_errcode, 0 when no error */
	char msg[1024];
};

enum cs_errcode {
	CS_OK = 0,
	CS_EINVAL,   /* bad input data (malformed JSON, hostile zip, ...) */
	CS_EIO,      /* file system */
	CS_EDB,      /* database: locked, corrupt, not a database */
	CS_ENOTFOUND,
	CS_EUSAGE,
	CS_ENOMEM,
	CS_EINTR,    /* interrupted by the user */
};

void err_clear(struct cs_err *err);
int err_set(struct cs_err *err, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prefix an existing message: "ctx: old message". */
int err_prefix(struct cs_err *err, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* --- files ------------------------------------------------------------------ */
/* Read a whole small file (JSON documents; capped at max bytes). */
int file_read_all(const char *path, size_t max, struct buf *out, struct cs_err *err);
/* The first max bytes of a file; *more when it goes on past them. */
int file_read_head(const char *path, size_t max, struct buf *out, bool *more,
		   struct cs_err *err);
bool path_is_dir(const char *path);
bool path_is_file(const char *path);
const char *path_basename(const char *path);
char *path_join(const char *a, const char *b);
/* mkdir -p with the given mode. */
int mkdir_p(const char *path, unsigned mode, struct cs_err *err);

/* --- time ------------------------------------------------------------------- */
/* Milliseconds since the epoch, or CS_TIME_NONE. Parses RFC 3339 with any
 * fraction and Z or +hh:mm offsets (GitHub step times carry offsets). */
#define CS_TIME_NONE INT64_MIN
int64_t time_parse_rfc3339(const char *s, size_t n);
/* Format ms as "2024-05-01T10:48:36Z" into out (at least 32 bytes). */
void time_format_iso(int64_t ms, char *out, size_t n);
/* "now" in ms; CISCOPE_TIME_NOW (epoch seconds or RFC 3339) freezes it for tests. */
int64_t time_now_ms(void);
/* A monotonic clock in milliseconds, for deadlines and intervals (never
 * frozen by CISCOPE_TIME_NOW, never stepped by clock changes). */
int64_t mono_ms(void);
/* "3m 12s", "1h 4m", "45s", "-" */
void time_format_duration(int64_t ms, char *out, size_t n);
/* "5m ago", "3h ago", "2d ago"; past 60 days the date "2021-04-05" */
void time_format_age(int64_t ms, int64_t now, char *out, size_t n);

/* --- UTF-8 ------------------------------------------------------------------ */
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid/truncated. */
int utf8_seq_len(const unsigned char *s, size_t n);
bool utf8_valid(const char *s, size_t n);
/* The length of s[0..n) without an incomplete UTF-8 sequence at its end. */
size_t utf8_complete_prefix(const char *s, size_t n);

/* --- strings ---------------------------------------------------------------- */
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);
/* Shell-quote s for POSIX sh: 'it'\''s' */
void buf_add_shell_quoted(struct buf *b, const char *s);
/* pthread_create() for a worker that takes no signal (all blocked in it), so
 * that a SIGINT or SIGWINCH reaches the thread that handles it; the
 * pthread_create() result. */
int thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
