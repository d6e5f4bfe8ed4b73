#!/bin/sh
# bench/shapes.sh BUILD - import and search per shape of log, side by side
# with grep, rg and lnav (part of `make bench`, after bench/run.sh; also
# runnable alone). Not a test: it reports, it never fails on a missed target.
#
# Shapes (about BENCH_SHAPES_MB MiB each, default 100):
#   usual    bench/gencorpus.c's corpus (the one bench/run.sh measures)
#   entropy  8-hex ids, 40-hex shas, uuids and digests on nearly every line
#   small    many small logs (~10 KB each)
#   warn     compiler output, a warning on every other line
#   huge     one log of BENCH_HUGE_MB MiB (default 1024) of small's kind
# (bench/genshapes.c). Each shape opens with the process floor: the wall
# time of `ciscope --version` (median of BENCH_REPEAT), what no search
# can beat, next to the fastest rg of its queries. grep and rg are given
# the corpus directory (with 10,000s of small logs their names would not
# fit on a command line). Per shape: grep -c and rg -c for each query, lnav -n
# loading the files (not for many small logs: lnav -n stops indexing after
# about a hundred files), ciscope import (wall, CPU, MB/s, peak RSS), the
# index size, and per query ciscope search --count (whole process, median
# of BENCH_REPEAT, default 3; the count per log, as grep -c and rg -c give
# it per file) with the CPU it took, the chunks it read, and the
# time to the first 40 hits (the TUI's first page), from bench/searchstat.c.
# Queries: rare tokens planted a known number of times (a 40-hex sha, an
# 8-hex id, a uuid, a test name) and a phrase found on most chunks.
# Wall times on a machine shared with other work also count the wait for a
# core: the CPU columns are the steadier comparison.
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
W=$BUILD/bench/shapes
SIZE=${BENCH_SHAPES_MB:-100}
SEED=${BENCH_SEED:-20261003}
REPEAT=${BENCH_REPEAT:-3}
HUGE=${BENCH_HUGE_MB:-1024}
SHAPES=${BENCH_SHAPES:-usual entropy small warn huge}
CC=${CC:-cc}
note() { printf 'bench: %s\n' "$*" >&2; }

[ -x "$BIN" ] || { note "no binary at $BIN: build it first"; exit 1; }
mkdir -p "$W"
HAVE_RG=0; command -v rg >/dev/null 2>&1 && HAVE_RG=1
HAVE_LNAV=0; command -v lnav >/dev/null 2>&1 && HAVE_LNAV=1
[ "$HAVE_RG" = 1 ] || note "no rg (package ripgrep; bench/run.sh installs it): rg rows skipped"

"$CC" -std=c11 -O2 -o "$W/gencorpus" "$ROOT/bench/gencorpus.c" -lm
"$CC" -std=c11 -O2 -o "$W/genshapes" "$ROOT/bench/genshapes.c"
rm -f "$W/libcore.a"
ar rcs "$W/libcore.a" "$BUILD"/core/*.o "$BUILD/gen/schema.o"
# shellcheck disable=SC2046
"$CC" -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT" -I"$BUILD" $(pkg-config --cflags sqlite3) \
	-o "$W/searchstat" "$ROOT/bench/searchstat.c" "$W/libcore.a" \
	$(pkg-config --libs sqlite3 libcjson libzip libzstd expat libpcre2-8) -lm

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
fx() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
# timed NAME CMD...: WALL (s), CPU (user+sys s), RSS (MiB); stdout in $W/NAME.out
timed() {
	name=$1; shift
	t0=$(now)
	set +e
	/usr/bin/time -f '%U %S %M' -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err"
	rc=$?
	set -e
	t1=$(now)
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || [ "$rc" = 3 ] || note "$name: exit status $rc (see $W/$name.err)"
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	CPU=$(awk 'END { printf "%.3f", $1 + $2 }' "$W/$name.time")
	RSS=$(awk 'END { printf "%.1f", $3 / 1024 }' "$W/$name.time")
}
# repeated NAME CMD...: timed() BENCH_REPEAT times; WALL and CPU the medians
repeated() {
	: >"$W/$1.walls"; : >"$W/$1.cpus"
	k=0
	while [ $k -lt "$REPEAT" ]; do
		timed "$@"
		echo "$WALL" >>"$W/$1.walls"; echo "$CPU" >>"$W/$1.cpus"
		k=$((k + 1))
	done
	WALL=$(median <"$W/$1.walls"); CPU=$(median <"$W/$1.cpus")
}
count_sum() { awk -F: '{ s += $NF } END { print s + 0 }' "$1"; }

PLANTS='9f3c2a7e41b0d6c58e2f1a9b7d4c3e6f0a1b2c3d c0ffee42 5b8e0d2a-7c41-4f9e-b3a6-1d2c3e4f5a6b test_import_rejects_symlink_loop'

{
printf '\nciscope per shape  %s  %s, %s CPUs; ~%s MiB per shape; warm page cache\n' \
	"$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -m)" "$(nproc 2>/dev/null || echo '?')" "$SIZE"
printf 'wall = whole process, median of %s; cpu = user+sys; x rg = rg wall / ciscope wall\n' "$REPEAT"
} | tee "$W/report.txt"

for shape in $SHAPES; do
	D=$W/corpus-$shape
	MiB=$SIZE; [ "$shape" = huge ] && MiB=$HUGE
	stamp="seed=$SEED size=$MiB gen=$(cat "$ROOT/bench/gencorpus.c" "$ROOT/bench/genshapes.c" | cksum | awk '{print $1}')"
	if [ ! -f "$D/.stamp" ] || [ "$(cat "$D/.stamp")" != "$stamp" ]; then
		note "generating the $shape corpus"
		rm -rf "$D" "$D.tmp"
		if [ "$shape" = usual ]; then
			"$W/gencorpus" "$SEED" "$MiB" "$D.tmp" >/dev/null
		else
			"$W/genshapes" "$shape" "$SEED" "$MiB" "$D.tmp" >/dev/null
		fi
		echo "$stamp" >"$D.tmp/.stamp"
		mv "$D.tmp" "$D"
	fi
	if [ "$shape" = usual ]; then
		QUERIES='SIGSEGV in worker Q7X9Z|##[group]Run'
	else
		case $shape in
		entropy) PHRASE='cache miss, failed lookup' ;;
		small | huge) PHRASE='done in' ;;
		warn) PHRASE='warning: unused variable' ;;
		esac
		QUERIES="$(echo $PLANTS | tr ' ' '|')|$PHRASE"
	fi
	MB=$(find "$D" -name 'job-*.txt' -type f -exec cat {} + | wc -c | awk '{ printf "%.1f", $1 / 1048576 }')
	NF=$(find "$D" -name 'job-*.txt' -type f | wc -l | tr -d ' ')
	find "$D" -name 'job-*.txt' -type f -exec cat {} + >/dev/null # warm

	note "$shape: import"
	DB=$W/$shape.db
	rm -f "$DB" "$DB-wal" "$DB-shm"
	timed import-$shape "$BIN" --db "$DB" import --quiet "$D"
	I_WALL=$WALL I_CPU=$CPU I_RSS=$RSS
	IDX=$(cat "$DB" "$DB-wal" 2>/dev/null | wc -c | awk '{ printf "%.1f", $1 / 1048576 }')
	WORDS=$(sqlite3 "$DB" "SELECT printf('%.1f', (sum(length(bits)) + 0.0) / 1048576) FROM log_chunk_words" 2>/dev/null || echo '?')
	repeated floor "$BIN" --version
	F_WALL=$WALL F_CPU=$CPU
	L_ROW=
	if [ "$HAVE_LNAV" = 1 ] && [ "$shape" != small ]; then
		note "$shape: lnav"
		mkdir -p "$W/lnav-home"
		timed lnav-$shape env HOME="$W/lnav-home" XDG_CONFIG_HOME="$W/lnav-home/.config" \
			lnav -n -c ';SELECT count(*) FROM lnav_file' "$D"
		L_ROW=$(printf 'lnav -n load %6.2f s (%5.1f MB/s, cpu %.2f s)  ciscope/lnav x%s' "$WALL" \
			"$(awk -v m="$MB" -v s="$WALL" 'BEGIN { print m / s }')" "$CPU" "$(fx "$WALL" "$I_WALL")")
	fi
	{
	printf '\n== %s: %s MiB in %s logs ==\n' "$shape" "$MB" "$NF"
	printf 'import %6.2f s (%5.1f MB/s, cpu %.2f s, peak RSS %s MB); index %s MB (word filters %s MB)\n' \
		"$I_WALL" "$(awk -v m="$MB" -v s="$I_WALL" 'BEGIN { print m / s }')" "$I_CPU" "$I_RSS" "$IDX" "$WORDS"
	[ -n "$L_ROW" ] && echo "$L_ROW"
	printf '%-42s %7s %7s %7s %7s %7s %6s %9s %8s %6s\n' query hits grep_s rg_s ci_s ci_cpu 'x rg' first40_ms chunks agree
	} | tee -a "$W/report.txt"
	: >"$W/rg-$shape.walls"
	echo "$QUERIES" | tr '|' '\n' | while IFS= read -r q; do
		repeated grep grep -rcF --include='job-*.txt' -- "$q" "$D"
		G_WALL=$WALL G_HITS=$(count_sum "$W/grep.out")
		R_WALL=-
		if [ "$HAVE_RG" = 1 ]; then
			repeated rg rg --no-config -cF -g 'job-*.txt' -- "$q" "$D"
			R_WALL=$WALL
			echo "$R_WALL" >>"$W/rg-$shape.walls"
		fi
		repeated search "$BIN" --db "$DB" search -s --count -- "$q"
		S_WALL=$WALL S_CPU=$CPU S_HITS=$(count_sum "$W/search.out")
		"$W/searchstat" "$DB" "$q" >"$W/searchstat.out" 2>&1 || true
		FIRST=$(sed -n 's/.*first_ms=\([0-9.]*\).*/\1/p' "$W/searchstat.out")
		CH=$(tr ' ' '\n' <"$W/searchstat.out" | awk -F= '$1 == "read" { r = $2 } $1 == "skipped" { k = $2 } END { if (r != "") print r "/" r + k }')
		AG=no; [ "$G_HITS" = "$S_HITS" ] && AG=yes
		printf '%-42s %7s %7s %7s %7s %7s %6s %9s %8s %6s\n' "$(printf '%.42s' "$q")" "$S_HITS" "$G_WALL" \
			"$R_WALL" "$S_WALL" "$S_CPU" "$(fx "$R_WALL" "$S_WALL")" "${FIRST:-?}" "${CH:-?}" "$AG"
	done | tee -a "$W/report.txt"
	RMIN=$(sort -n "$W/rg-$shape.walls" | head -1)
	printf 'process floor: ciscope --version %s s wall (cpu %s s); fastest rg row %s s, 5x of it %s s\n' \
		"$F_WALL" "$F_CPU" "${RMIN:--}" \
		"$(awk -v r="${RMIN:-0}" 'BEGIN { if (r > 0) printf "%.4f", r / 5; else print "-" }')" |
		tee -a "$W/report.txt"
done
echo "raw outputs and this report (report.txt): $W/" | tee -a "$W/report.txt"
