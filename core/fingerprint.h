/* fingerprint.h - the normaliser and hash that group a failure across runs.
 *
 * A finding's fingerprint is a hash of its category and of its key lines
 * (the lines that say what went wrong, e.g. "error[E0308]: mismatched
 * types" and its "--> src/x.rs:88:17"), after the parts that vary from run
 * to run are replaced with placeholders:
 *
 *   2024-05-01T10:48:36.81Z, 10:48:36       <TS>
 *   123e4567-e89b-12d3-a456-426614174000    <UUID>
 *   0x7ffd5c3a, +0x24e                      <HEX>
 *   4dd7aca0ed1e, sha256:df9b93...          <HASH>  (hex words of 7+ digits
 *                                                    mixing digits and a-f)
 *   10.1.2.3, 10.1.2.3:8080                 <IP>
 *   /tmp/..., /home/runner/work/_temp/...,  <TMP>
 *   tmpa8f3k2_x, C:\...\AppData\Local\Temp\...
 *   /home/runner/work/r/r/, /__w/r/r/,      <WS>/   (the Actions workspace)
 *   D:\a\r\r\
 *   1m 12s, 41ms, 0.36s, 3h2m               <DUR>
 *   42, 3.14, 1.2e-9, file.rs:88:17         <N>     (numbers that are not
 *                                                    part of a word: E0308,
 *                                                    f32, utf8 stay)
 *   long random tokens (20+ characters      <ID>
 *   mixing digits and both cases)
 *   runs of blanks                          one space; ends trimmed
 *
 * The raw text is kept beside the fingerprint in the index, so when this
 * normaliser changes (FP_NORMALISER_VERSION goes up) `ciscope retriage`
 * regroups old runs from the same findings. Matching is byte-wise and
 * locale-independent; invalid UTF-8 passes through unchanged.
 */
#ifndef CS_FINGERPRINT_H
#define CS_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define FP_NORMALISER_VERSION 1
#define FP_HEX_LEN 16 /* a fingerprint is 16 lower-case hex digits */

/* Append the normalised form of s[0..n) to out. */
void fp_normalise(const char *s, size_t n, struct buf *out);

/* 64-bit hash (FNV-1a with a final avalanche): stable across platforms. */
uint64_t fp_hash(const void *data, size_t n, uint64_t seed);
#define FP_SEED 0xcbf29ce484222325ull

/* The fingerprint of a finding: category and key lines (raw text, each
 * normalised here), hashed with the normaliser version. out gets
 * FP_HEX_LEN hex digits and a NUL. */
void fp_fingerprint(const char *category, const char *const *keys, const size_t *lens, int n,
		    char out[FP_HEX_LEN + 1]);

/* The same fingerprint as a number (fp_hex() spells it: equal numbers,
 * equal fingerprints), for comparing without the text. */
uint64_t fp_fingerprint_hash(const char *category, const char *const *keys, const size_t *lens,
			     int n);
/* fp_fingerprint_hash() through a memo of the normalised texts seen last
 * (most findings of a log share a few): the same number, without hashing a
 * text again. One memo per thread; a NULL memo is no memo. */
struct fp_memo;
struct fp_memo *fp_memo_new(void);
void fp_memo_free(struct fp_memo *m);
uint64_t fp_fingerprint_memo(struct fp_memo *m, const char *category, const char *const *keys,
			     const size_t *lens, int n);
void fp_memo_stats(const struct fp_memo *m, uint64_t *hits, uint64_t *misses);

/* h as FP_HEX_LEN lower-case hex digits and a NUL, leading zeros kept. */
void fp_hex(uint64_t h, char out[FP_HEX_LEN + 1]);

/* True when s looks like a fingerprint or a prefix of one (hex, 4..16). */
int fp_is_prefix(const char *s);

#endif
