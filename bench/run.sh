#!/bin/sh
# bench/run.sh BUILD - the ciscope benchmark (`make bench`). Not a test: it
# reports, it never fails on a missed target.
#
# On one generated corpus of GitHub-format job logs (bench/gencorpus.c, fixed
# seed) it measures, side by side on the same files and with a warm page
# cache: grep -c (the floor: reading every byte once), rg -c, lnav -n loading
# the files, ciscope import (throughput, peak RSS), the index size, ciscope
# search for a rare literal against the grep/rg re-scan, reopening the index
# to print the last line of the largest log (bench/seek.c), and the peak RSS
# of importing a corpus a tenth the size (memory must not grow with input).
#
# Environment:
#   BENCH_SIZE_MB   corpus size in MiB (default 1024; 100 for a quick run)
#   BENCH_SMALL_MB  the small corpus for the memory comparison (default SIZE/10)
#   BENCH_SEED      corpus seed (default 20261003)
#   BENCH_TIMEOUT   seconds before a measured command is stopped (default 1800)
#   BENCH_REPEAT    runs of grep, rg and search, warm, whose median is shown (3)
#   BENCH_COLD=1    also measure search, grep, rg and the seek with a cold page
#                   cache (drops the caches of the whole machine: needs root)
# The corpora stay in BUILD/bench/ and are reused while seed, size and the
# generator are unchanged (a stamp file says which).
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
W=$BUILD/bench
SEED=${BENCH_SEED:-20261003}
SIZE=${BENCH_SIZE_MB:-1024}
SMALL=${BENCH_SMALL_MB:-$(awk -v s="$SIZE" 'BEGIN { v = int(s / 10 + 0.5); print v < 4 ? 4 : v }')}
TMO=${BENCH_TIMEOUT:-1800}
COLD=${BENCH_COLD:-0}
REPEAT=${BENCH_REPEAT:-3}
CC=${CC:-cc}

say() { printf '%s\n' "$*"; }
note() { printf 'bench: %s\n' "$*" >&2; }

if [ ! -x "$BIN" ]; then
	note "no binary at $BIN: build it first (make BUILD=$1)"
	exit 1
fi
mkdir -p "$W"

# --- tools ----------------------------------------------------------------------
need=
command -v lnav >/dev/null 2>&1 || need="$need lnav"
command -v rg >/dev/null 2>&1 || need="$need ripgrep"
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	note "installing the missing comparison tools:$need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y $need ||
		{ $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y $need; } ||
		note "could not install$need: those rows will be skipped"
fi
if [ ! -x /usr/bin/time ]; then
	note "/usr/bin/time (package 'time') is needed for wall time and peak RSS"
	exit 1
fi
HAVE_LNAV=0; command -v lnav >/dev/null 2>&1 && HAVE_LNAV=1
HAVE_RG=0; command -v rg >/dev/null 2>&1 && HAVE_RG=1

# --- helpers --------------------------------------------------------------------
GEN=$W/gencorpus
"$CC" -std=c11 -O2 -o "$GEN" "$ROOT/bench/gencorpus.c" -lm

# seek links the build's core objects through an archive, so only the
# modules it needs (and their libraries) come in.
SEEK=$W/seek
HAVE_SEEK=0
rm -f "$W/libcore.a"
if ar rcs "$W/libcore.a" "$BUILD"/core/*.o "$BUILD/gen/schema.o" 2>/dev/null; then
	CORE_LIBS=$(pkg-config --libs sqlite3 libcjson libzip libzstd expat libpcre2-8)
	ALL_LIBS=$(pkg-config --libs ncursesw sqlite3 libgit2 libcjson libcurl libzip libzstd expat libpcre2-8 2>/dev/null || true)
	CORE_CFLAGS=$(pkg-config --cflags sqlite3 libcjson libzip libzstd expat libpcre2-8)
	# shellcheck disable=SC2086
	if "$CC" -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT" -I"$BUILD" $CORE_CFLAGS -o "$SEEK" \
		"$ROOT/bench/seek.c" "$W/libcore.a" $CORE_LIBS -lm 2>"$W/seek.build.log" ||
		"$CC" -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT" -I"$BUILD" $CORE_CFLAGS -o "$SEEK" \
		"$ROOT/bench/seek.c" "$W/libcore.a" $ALL_LIBS -lm 2>"$W/seek.build.log"; then
		HAVE_SEEK=1
	fi
fi
[ "$HAVE_SEEK" = 1 ] || note "cannot build bench/seek.c (see $W/seek.build.log): no seek row"

# corpus DIR SIZE_MB: (re)generate unless the stamp matches.
corpus() {
	stamp="seed=$SEED size_mb=$2 gen=$(cksum <"$ROOT/bench/gencorpus.c" | awk '{print $1}')"
	if [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$stamp" ]; then
		return 0
	fi
	note "generating a $2 MiB corpus in $1 (seed $SEED)"
	rm -rf "$1" "$1.tmp"
	t0=$(now)
	"$GEN" "$SEED" "$2" "$1.tmp" >"$W/gen.out"
	t1=$(now)
	printf '%s\n' "$stamp" >"$1.tmp/.stamp"
	mv "$1.tmp" "$1"
	note "generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $(cat "$W/gen.out")"
}

# seconds since the epoch with sub-second precision when date has %N
now() {
	t=$(date +%s.%N 2>/dev/null)
	case $t in *N*|'') date +%s ;; *) printf '%s\n' "$t" ;; esac
}

# run NAME CMD...: runs CMD (stdout to $W/NAME.out, stderr to $W/NAME.err)
# under /usr/bin/time -v and a timeout; sets WALL (s), CPU (user+sys s),
# RSS (MiB), RC.
run() {
	name=$1
	shift
	t0=$(now)
	set +e
	/usr/bin/time -v -o "$W/$name.time" timeout "$TMO" "$@" >"$W/$name.out" 2>"$W/$name.err"
	RC=$?
	set -e
	t1=$(now)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$W/$name.time")
	CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$W/$name.time")
	if [ "$RC" = 124 ]; then
		note "$name: stopped after $TMO s (BENCH_TIMEOUT)"
	elif [ "$RC" != 0 ]; then
		note "$name: exit status $RC (see $W/$name.err)"
	fi
}

# runs NAME CMD...: run() BENCH_REPEAT times (the short, noisy rows); WALL is
# the median, CPU and RSS those of the last run.
runs() {
	: >"$W/$1.walls"
	k=0
	while [ $k -lt "$REPEAT" ]; do
		run "$@"
		printf '%s\n' "$WALL" >>"$W/$1.walls"
		k=$((k + 1))
	done
	WALL=$(median <"$W/$1.walls")
}

# sum of the per-file counts printed by grep -c / rg -c
count_sum() { awk -F: '{ s += $NF } END { print s + 0 }' "$1"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
fx() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mbps() { awk -v m="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", m / s; else print "-" }'; }
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
cmp_le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? 1 : 0 }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

NEEDLE='SIGSEGV in worker Q7X9Z'
BIG=$W/corpus
SMALLC=$W/corpus-small
corpus "$BIG" "$SIZE"
corpus "$SMALLC" "$SMALL"

# file list and sizes
bytes_of() { find "$1" -maxdepth 1 -name 'job-*.txt' -type f -exec wc -c {} + | awk '$2 != "total" { s += $1 } END { print s + 0 }'; }
MB=$(awk -v b="$(bytes_of "$BIG")" 'BEGIN { printf "%.1f", b / 1048576 }')
SMB=$(awk -v b="$(bytes_of "$SMALLC")" 'BEGIN { printf "%.1f", b / 1048576 }')
NFILES=$(find "$BIG" -maxdepth 1 -name 'job-*.txt' -type f | wc -l | tr -d ' ')
LARGEST=$(find "$BIG" -maxdepth 1 -name 'job-*.txt' -type f -exec wc -c {} + | awk '$2 != "total"' | sort -n | tail -n 1)
LARGEST_MB=$(printf '%s\n' "$LARGEST" | awk '{ printf "%.1f", $1 / 1048576 }')
LARGEST_FILE=$(printf '%s\n' "$LARGEST" | awk '{ print $2 }')
set -- "$BIG"/job-*.txt

# everyone starts from a warm page cache
cat "$@" >/dev/null
cat "$SMALLC"/job-*.txt >/dev/null

# --- measurements -----------------------------------------------------------------
note "grep -c over $MB MiB"
runs grep grep -cF "$NEEDLE" "$@"
G_WALL=$WALL G_CPU=$CPU G_RSS=$RSS G_HITS=$(count_sum "$W/grep.out")

if [ "$HAVE_RG" = 1 ]; then
	note "rg -c"
	runs rg rg --no-config -cF "$NEEDLE" "$@"
	R_WALL=$WALL R_CPU=$CPU R_RSS=$RSS R_HITS=$(count_sum "$W/rg.out")
fi

if [ "$HAVE_LNAV" = 1 ]; then
	note "lnav -n loading $NFILES files"
	# Headless; the query proves every line was indexed before it exits. It
	# gets the folder: given the files one by one, lnav 0.11 loaded only 108
	# of 122 and ran the command anyway. A HOME of its own keeps the user's
	# formats and session out of it.
	mkdir -p "$W/lnav-home"
	run lnav env HOME="$W/lnav-home" XDG_CONFIG_HOME="$W/lnav-home/.config" \
		lnav -n -c ';SELECT count(*) AS files, sum(lines) AS lines FROM lnav_file' "$BIG" </dev/null
	L_WALL=$WALL L_CPU=$CPU L_RSS=$RSS L_RC=$RC
	L_FILES=$(awk 'NR == 2 { print $1 }' "$W/lnav.out")
	L_LINES=$(awk 'NR == 2 { print $2 }' "$W/lnav.out")
fi

DB=$W/bench.db
rm -f "$DB" "$DB-wal" "$DB-shm"
note "ciscope import of $MB MiB"
run import "$BIN" --db "$DB" import --quiet "$BIG"
I_WALL=$WALL I_CPU=$CPU I_RSS=$RSS I_RC=$RC
DB_BYTES=$(cat "$DB" "$DB-wal" 2>/dev/null | wc -c | tr -d ' ')
DB_MB=$(awk -v b="$DB_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
LINES=$(sqlite3 "$DB" 'SELECT sum(line_count) FROM logs' 2>/dev/null || echo '?')
NLOGS=$(sqlite3 "$DB" 'SELECT count(*) FROM logs' 2>/dev/null || echo '?')

SDB=$W/bench-small.db
rm -f "$SDB" "$SDB-wal" "$SDB-shm"
note "ciscope import of $SMB MiB (memory comparison)"
run import-small "$BIN" --db "$SDB" import --quiet "$SMALLC"
IS_WALL=$WALL IS_RSS=$RSS

note "ciscope search"
runs search "$BIN" --db "$DB" search -s -L 0 "$NEEDLE"
S_WALL=$WALL S_CPU=$CPU S_RSS=$RSS
S_HITS=$(wc -l <"$W/search.out" | tr -d ' ')

if [ "$HAVE_SEEK" = 1 ]; then
	note "reopen and print the last line of the largest log, 5 times"
	: >"$W/seek.ms"
	: >"$W/seek.proc"
	i=0
	while [ $i -lt 5 ]; do
		t0=$(now)
		"$SEEK" "$DB" >"$W/seek.out" 2>"$W/seek.err" || note "seek: $(cat "$W/seek.err")"
		t1=$(now)
		sed -n 's/^ms=\([0-9.]*\) .*/\1/p' "$W/seek.err" >>"$W/seek.ms"
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$W/seek.proc"
		i=$((i + 1))
	done
	K_MS=$(median <"$W/seek.ms")
	K_PROC=$(median <"$W/seek.proc")
	K_OK=0
	tail -n 1 "$LARGEST_FILE" | cmp -s - "$W/seek.out" && K_OK=1
fi

CAN_COLD=0
if [ "$COLD" = 1 ]; then
	if [ -w /proc/sys/vm/drop_caches ]; then
		CAN_COLD=1
	else
		note "BENCH_COLD=1 needs root (writing /proc/sys/vm/drop_caches): cold rows skipped"
	fi
fi
if [ "$CAN_COLD" = 1 ]; then
	note "cold page cache runs"
	if [ "$HAVE_SEEK" = 1 ]; then
		drop_caches
		"$SEEK" "$DB" >/dev/null 2>"$W/seek-cold.err" || true
		KC_MS=$(sed -n 's/^ms=\([0-9.]*\) .*/\1/p' "$W/seek-cold.err")
	fi
	drop_caches
	run search-cold "$BIN" --db "$DB" search -s -L 0 "$NEEDLE"
	SC_WALL=$WALL SC_RSS=$RSS
	drop_caches
	run grep-cold grep -cF "$NEEDLE" "$@"
	GC_WALL=$WALL GC_RSS=$RSS
	if [ "$HAVE_RG" = 1 ]; then
		drop_caches
		run rg-cold rg --no-config -cF "$NEEDLE" "$@"
		RC_WALL=$WALL RC_RSS=$RSS
	fi
fi

# --- report ---------------------------------------------------------------------
{
say ""
say "ciscope benchmark  $(date -u +%Y-%m-%dT%H:%MZ)  $(uname -m), $(nproc 2>/dev/null || echo '?') CPUs, $("$BIN" --version 2>/dev/null | head -n 1 || true)"
say "corpus: $MB MiB in $NFILES job logs (seed $SEED), largest $LARGEST_MB MiB, $LINES lines; warm page cache"
say "MB = MiB (2^20 bytes); wall = elapsed time (grep, rg, search warm: median of $REPEAT); RSS = peak resident set"
say ""
printf '%-36s %9s %9s %9s %9s %12s\n' "tool" "input MB" "wall s" "MB/s" "cpu s" "peak RSS MB"
row() { printf '%-36s %9s %9s %9s %9s %12s\n' "$1" "$2" "$3" "$(mbps "$2" "$3")" "$4" "$5"; }
row "grep -cF (floor: read every byte)" "$MB" "$G_WALL" "$G_CPU" "$G_RSS"
[ "$HAVE_RG" = 1 ] && row "rg -cF" "$MB" "$R_WALL" "$R_CPU" "$R_RSS"
[ "$HAVE_LNAV" = 1 ] && row "lnav -n (load + index)" "$MB" "$L_WALL" "$L_CPU" "$L_RSS"
row "ciscope import" "$MB" "$I_WALL" "$I_CPU" "$I_RSS"
row "ciscope import (small corpus)" "$SMB" "$IS_WALL" "-" "$IS_RSS"
row "ciscope search (reopen + scan)" "$MB" "$S_WALL" "$S_CPU" "$S_RSS"
if [ "$CAN_COLD" = 1 ]; then
	row "grep -cF, cold cache" "$MB" "$GC_WALL" "-" "$GC_RSS"
	[ "$HAVE_RG" = 1 ] && row "rg -cF, cold cache" "$MB" "$RC_WALL" "-" "$RC_RSS"
	row "ciscope search, cold cache" "$MB" "$SC_WALL" "-" "$SC_RSS"
fi
say ""
say "index: $DB_MB MB for $MB MB of logs ($(fx "$MB" "$DB_MB")x smaller), $NLOGS logs"
say "rare literal '$NEEDLE': grep $G_HITS lines, ${R_HITS:-n/a} rg, ciscope search $S_HITS hits$([ "$G_HITS" = "$S_HITS" ] && echo ' (agree)' || echo ' (DISAGREE)')"
[ "$HAVE_LNAV" = 1 ] && say "lnav indexed ${L_FILES:-?} files, ${L_LINES:-?} lines$([ "${L_LINES:-}" = "$LINES" ] && echo ' (same lines as ciscope)' || echo " (ciscope: $NLOGS logs, $LINES lines)")"
if [ "$HAVE_SEEK" = 1 ]; then
	say "reopen + last line of the $LARGEST_MB MiB log: median $K_MS ms in process, $K_PROC ms whole process (5 runs: $(tr '\n' ' ' <"$W/seek.ms"))$([ "$K_OK" = 1 ] && echo '; line matches tail -n 1' || echo '; LINE DIFFERS from tail -n 1')"
	[ -n "${KC_MS:-}" ] && say "reopen + last line, cold cache: $KC_MS ms"
fi
say ""
say "targets"
tgt() { printf '  %-40s %-44s %s\n' "$1" "$2" "$3"; }
if [ "$HAVE_LNAV" = 1 ] && [ "$L_RC" = 0 ]; then
	ok=$(awk -v i="$I_WALL" -v l="$L_WALL" 'BEGIN { print (i <= l) ? 1 : 0 }')
	tgt "import at least as fast as lnav loads" "$(mbps "$MB" "$I_WALL") vs $(mbps "$MB" "$L_WALL") MB/s ($(fx "$L_WALL" "$I_WALL")x)" "$(verdict "$ok")"
else
	tgt "import at least as fast as lnav loads" "lnav not measured" "-"
fi
tgt "import peak RSS < 64 MB" "$I_RSS MB ($MB MB), $IS_RSS MB ($SMB MB)" \
	"$(verdict "$(awk -v a="$I_RSS" -v b="$IS_RSS" 'BEGIN { print (a < 64 && b < 64) ? 1 : 0 }')")"
tgt "import memory flat with input size" "x$(fx "$I_RSS" "$IS_RSS") RSS for x$(fx "$MB" "$SMB") input" \
	"$(verdict "$(awk -v a="$I_RSS" -v b="$IS_RSS" 'BEGIN { print (a <= b * 1.25 + 2) ? 1 : 0 }')")"
if [ "$HAVE_SEEK" = 1 ]; then
	tgt "reopen-and-seek < 50 ms" "$K_MS ms median (whole process $K_PROC ms)" \
		"$(verdict "$(cmp_le "$K_MS" 50)")"
fi
tgt "search faster than grep re-scan (warm)" "$S_WALL s vs $G_WALL s ($(fx "$G_WALL" "$S_WALL")x)" \
	"$(verdict "$(cmp_le "$S_WALL" "$G_WALL")")"
[ "$HAVE_RG" = 1 ] && tgt "search faster than rg re-scan (warm)" "$S_WALL s vs $R_WALL s ($(fx "$R_WALL" "$S_WALL")x)" \
	"$(verdict "$(cmp_le "$S_WALL" "$R_WALL")")"
if [ "$CAN_COLD" = 1 ]; then
	tgt "search faster than grep re-scan (cold)" "$SC_WALL s vs $GC_WALL s ($(fx "$GC_WALL" "$SC_WALL")x)" \
		"$(verdict "$(cmp_le "$SC_WALL" "$GC_WALL")")"
	[ "$HAVE_RG" = 1 ] && tgt "search faster than rg re-scan (cold)" "$SC_WALL s vs $RC_WALL s ($(fx "$RC_WALL" "$SC_WALL")x)" \
		"$(verdict "$(cmp_le "$SC_WALL" "$RC_WALL")")"
fi
say ""
[ "$I_RC" = 0 ] || say "ciscope import FAILED (exit status $I_RC): see $W/import.err"
say "raw outputs, /usr/bin/time -v reports and this table (report.txt): $W/"
} | tee "$W/report.txt"
sh "$ROOT/bench/fetch.sh" "$BUILD" | tee "$W/fetch-report.txt" # fetch: parallel vs serial curl, no-change cost
sh "$ROOT/bench/tui.sh" "$BUILD" || note "bench/tui.sh failed (its report: $W/tui/)" # TUI: first frame vs tig, the pager on the largest log
sh "$ROOT/bench/shapes.sh" "$BUILD" || note "bench/shapes.sh failed (its report: $W/shapes/)" # import and search per shape of log
sh "$ROOT/bench/bisect.sh" "$BUILD" | tee "$W/bisect-report.txt" || note "bench/bisect.sh failed" # bisect start on 100,000 commits, steps vs git bisect
sh "$ROOT/bench/commits.sh" "$BUILD" | tee "$W/commits-report.txt" || note "bench/commits.sh failed" # the commits view's judging on 1,000 commits
