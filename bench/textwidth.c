/* textwidth.c - the TUI's text function (tui_text_width, TEXT_ANSI) over a
 * log-like mix of lines: ASCII, SGR colours, box drawing and check marks,
 * CJK, emoji, a combining accent, Cyrillic and Greek. It measured the
 * character classes of tui/width.c from libutf8proc against the range
 * tables they replaced (README, Dependencies). Not part of bench/run.sh;
 * after `make`, from the top of the tree:
 *
 *   cc -O2 -I. -o build/textwidth bench/textwidth.c \
 *      $(ls build/tui/*.o) build/gen/default_conf.o \
 *      $(pkg-config --cflags --libs ncursesw libutf8proc)
 *   build/textwidth [REPEATS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tui/tui.h"
static const char *mix[] = {
 "2024-05-01T10:48:36.8101331Z ##[group]Run cargo test --workspace --all-features",
 "2024-05-01T10:48:37.1234567Z    Compiling engine-rs v0.4.1 (/home/runner/work/engine/engine-rs)",
 "2024-05-01T10:48:38.0000000Z \x1b[1m\x1b[31merror[E0308]\x1b[0m: mismatched types \xe2\x86\x92 expected `f32`, found `f64`",
 "2024-05-01T10:48:38.0000001Z   \xe2\x94\x82 \xe2\x9c\x93 test parity::step_0042 ... ok (0.12s) \xe2\x80\xa6",
 "2024-05-01T10:48:39.5550000Z \xe6\xb5\x8b\xe8\xaf\x95\xe5\xa4\xb1\xe8\xb4\xa5: \xe7\x89\xa9\xe7\x90\x86\xe5\xbc\x95\xe6\x93\x8e \xe4\xb8\x8d\xe4\xb8\x80\xe8\x87\xb4 (step 42)",
 "2024-05-01T10:48:40.1000000Z \xf0\x9f\x9a\x80 Deploying caf\x65\xcc\x81 build \xe2\x9c\x97 failed \xf0\x9f\x94\xa5",
 "2024-05-01T10:48:41.0000000Z ***  npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
 "2024-05-01T10:48:42.0000000Z \xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0 \xd1\x81\xd0\xb1\xd0\xbe\xd1\x80\xd0\xba\xd0\xb8: \xce\xb1\xce\xb2\xce\xb3 \xe2\x89\xa4 \xce\xb4",
};
int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 300000;
	size_t n = sizeof(mix) / sizeof(mix[0]);
	size_t lens[8]; for (size_t i = 0; i < n; i++) lens[i] = strlen(mix[i]);
	long long sum = 0; size_t bytes = 0;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < n; i++) { sum += tui_text_width(mix[i], lens[i], TEXT_ANSI); bytes += lens[i]; }
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%zu lines, %.1f MB in %.3f s: %.1f MB/s (sum %lld)\n", (size_t)reps * n, bytes / 1e6, s, bytes / 1e6 / s, sum);
	return 0;
}
