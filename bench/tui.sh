#!/bin/sh
# bench/tui.sh BUILD - the terminal UI's benchmark, run by bench/run.sh
# after the import and search rows (it reuses their 1 GiB corpus index).
# Not a test: it reports, it never fails on a missed target.
#
#  1. The first frame on an index of 10,000 runs (bench/mkruns.py writes the
#     rows straight into an index ciscope created), on a real pseudo-terminal
#     (bench/ptytime.py): the whole process with CISCOPE_EXIT_AFTER_FIRST_FRAME=1
#     (start, open, first frame drawn, exit), and the time until the status
#     bar of that frame has reached the terminal. Beside it tig on a
#     repository of 10,000 commits (bench/mkrepo.py, git fast-import): the
#     time until the newest commit is on the terminal, and with a TIG_SCRIPT
#     of `:quit` (start, load, quit).
#  2. The largest log of the corpus (about 300 MiB, 2.2 million lines) in the
#     pager, from a script (CISCOPE_SCRIPT, no terminal): the whole process
#     from start through the run list, the run and the pager to the screen
#     dump, opened at its top, at its last line (G) and at a middle line
#     (:goto); each checked against the corpus file.
#  3. A pager search in that log reaching its last match (/NEEDLE, then n),
#     literal (the trigram filter skips chunks) and as a regular expression
#     no filter can help (every chunk read), beside grep -n on the raw file.
#
# Environment: BENCH_TUI_REPEAT (21) runs per row, the median is shown;
# BENCH_TUI_RUNS (10000) runs and commits.
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
W=$BUILD/bench/tui
REPEAT=${BENCH_TUI_REPEAT:-21}
NRUNS=${BENCH_TUI_RUNS:-10000}
PT="$ROOT/bench/ptytime.py"
NEEDLE='SIGSEGV in worker Q7X9Z'

say() { printf '%s\n' "$*"; }
note() { printf 'bench/tui: %s\n' "$*" >&2; }
ms() { sed -n 's/^median_ms=\([0-9.-]*\) .*/\1/p' "$1"; }
spread() { sed -n 's/^median_ms=[0-9.-]* min_ms=\([0-9.-]*\) max_ms=\([0-9.-]*\) runs=\([0-9]*\) ok=\([0-9]*\)/\1-\2 ms, \4 of \3 runs/p' "$1"; }
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "-" && b != "-" && a + 0 <= b + 0) ? 1 : 0 }'; }
fx() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b != "-") printf "%.2f", b / a; else print "-" }'; }

if [ ! -x "$BIN" ]; then
	note "no binary at $BIN: build it first"
	exit 1
fi
command -v python3 >/dev/null 2>&1 || { note "python3 is needed"; exit 1; }
mkdir -p "$W"
if ! command -v tig >/dev/null 2>&1; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	note "installing tig for the comparison"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y tig >"$W/apt.log" 2>&1 ||
		{ $SUDO apt-get update >>"$W/apt.log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y tig >>"$W/apt.log" 2>&1; } ||
		note "could not install tig: its rows are skipped"
fi
HAVE_TIG=0
command -v tig >/dev/null 2>&1 && HAVE_TIG=1
# the same environment for every measured program: no user config
export LC_ALL="${LC_ALL:-C.UTF-8}" TERM=xterm-256color
unset NO_COLOR CISCOPE_SCRIPT CISCOPE_DB
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config"
mkdir -p "$HOME"

# --- 1. the first frame on 10,000 runs, beside tig ---------------------------------------------
DB10=$W/runs.db
stamp="runs=$NRUNS gen=$(cksum <"$ROOT/bench/mkruns.py" | awk '{print $1}') bin=$(cksum <"$BIN" | awk '{print $1}')"
if [ ! -f "$DB10" ] || [ "$(cat "$W/runs.stamp" 2>/dev/null)" != "$stamp" ]; then
	note "writing $NRUNS runs into $DB10"
	rm -f "$DB10" "$DB10-wal" "$DB10-shm"
	printf '2026-10-01T00:00:00.0000000Z one line\n' >"$W/one.log"
	"$BIN" --db "$DB10" import --quiet "$W/one.log"
	python3 "$ROOT/bench/mkruns.py" "$DB10" "$NRUNS" >"$W/mkruns.out"
	printf '%s\n' "$stamp" >"$W/runs.stamp"
fi
REPO=$W/repo
rstamp="commits=$NRUNS gen=$(cksum <"$ROOT/bench/mkrepo.py" | awk '{print $1}')"
if [ "$HAVE_TIG" = 1 ] && { [ ! -d "$REPO/.git" ] || [ "$(cat "$W/repo.stamp" 2>/dev/null)" != "$rstamp" ]; }; then
	note "writing a repository of $NRUNS commits into $REPO"
	rm -rf "$REPO"
	python3 "$ROOT/bench/mkrepo.py" "$REPO" "$NRUNS"
	printf '%s\n' "$rstamp" >"$W/repo.stamp"
fi

note "first frame: ciscope on $NRUNS runs"
for sz in 80x24 200x50; do
	python3 "$PT" --repeat "$REPEAT" --size "$sz" --env CISCOPE_EXIT_AFTER_FIRST_FRAME=1 -- \
		"$BIN" --db "$DB10" >"$W/first-exit-$sz.out"
	python3 "$PT" --repeat "$REPEAT" --size "$sz" --marker '[runs] row 1 of' -- \
		"$BIN" --db "$DB10" >"$W/first-status-$sz.out"
done
# the frame is complete: every row and the counts (one run, saved)
printf ':save-display %s\n' "$W/first.screen" >"$W/first.keys"
LINES=24 COLUMNS=80 CISCOPE_SCRIPT="$W/first.keys" "$BIN" --db "$DB10" >/dev/null 2>&1 || true
FIRST_OK=0
grep -q "$(printf '%s' "$NRUNS" | sed 's/\(.\)\(...\)$/\1,\2/') runs" "$W/first.screen" 2>/dev/null &&
	[ "$(grep -c . "$W/first.screen")" = 24 ] && FIRST_OK=1
if [ "$HAVE_TIG" = 1 ]; then
	note "first frame: tig on $NRUNS commits"
	printf ':quit\n' >"$W/quit.tig"
	for sz in 80x24 200x50; do
		(cd "$REPO" && python3 "$PT" --repeat "$REPEAT" --size "$sz" --marker "($((NRUNS - 1)))" -- \
			tig) >"$W/tig-first-$sz.out"
		(cd "$REPO" && python3 "$PT" --repeat "$REPEAT" --size "$sz" \
			--env TIG_SCRIPT="$W/quit.tig" -- tig) >"$W/tig-quit-$sz.out"
	done
fi

# --- 2. and 3. the largest log of the 1 GiB corpus --------------------------------------------------
BIG=$BUILD/bench/bench.db
HAVE_BIG=0
if [ -f "$BIG" ] && command -v sqlite3 >/dev/null 2>&1; then
	# run id, file and line count of the largest log (ad-hoc runs: one job)
	sqlite3 -separator ' ' "$BIG" "SELECT r.provider_id, l.line_count, r.source FROM logs l
		JOIN jobs j ON j.id = l.job_id JOIN runs r ON r.id = j.run_id
		ORDER BY l.raw_size DESC LIMIT 1" >"$W/largest.txt" 2>/dev/null || true
	read -r RUNID NLINES FILE <"$W/largest.txt" || true
	[ -n "${RUNID:-}" ] && [ -f "${FILE:-}" ] && HAVE_BIG=1
fi
if [ "$HAVE_BIG" = 0 ]; then
	note "no 1 GiB corpus index at $BIG (bench/run.sh makes it): the pager rows are skipped"
else
	MB=$(awk -v b="$(wc -c <"$FILE")" 'BEGIN { printf "%.1f", b / 1048576 }')
	MID=$((NLINES / 2))
	grep -nF "$NEEDLE" "$FILE" | cut -d: -f1 >"$W/needle.lines"
	LASTHIT=$(tail -n 1 "$W/needle.lines")
	NHITS=$(wc -l <"$W/needle.lines" | tr -d ' ')
	# pager NAME KEYS: the keys from the run list to the log, then KEYS
	pager() {
		printf ':filter %s\n<Enter>\n<Enter>\n%s\n:save-display %s\n' "$RUNID" "$2" "$W/$1.screen" \
			>"$W/$1.keys"
		: >"$W/$1.screen"
		python3 "$PT" --plain --repeat "$REPEAT" --env CISCOPE_SCRIPT="$W/$1.keys" \
			--env LINES=24 --env COLUMNS=80 -- "$BIN" --db "$BIG" >"$W/$1.out"
	}
	note "the pager on the largest log ($MB MiB, $NLINES lines)"
	pager top ''
	# the list alone: the same keys without the two Enters
	printf ':filter %s\n:save-display %s\n' "$RUNID" "$W/list.screen" >"$W/list.keys"
	python3 "$PT" --plain --repeat "$REPEAT" --env CISCOPE_SCRIPT="$W/list.keys" \
		--env LINES=24 --env COLUMNS=80 -- "$BIN" --db "$BIG" >"$W/list.out"
	pager last 'G'
	pager mid ":goto $MID"
	pager find "/$NEEDLE<Enter>n"
	pager scan "/Q7X9Z \\(signal|QQQ-NOT-THERE<Enter>n"
	# the screens say what was reached
	fmt() { printf '%s' "$1" | sed ':a;s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/;ta'; }
	has() { grep -qF "$2" "$W/$1.screen" && echo 1 || echo 0; }
	LAST_OK=$(has last "line $(fmt "$NLINES") of $(fmt "$NLINES") (100%)")
	MID_OK=$(has mid "line $(fmt "$MID") of $(fmt "$NLINES")")
	FIND_OK=$(has find "line $(fmt "$LASTHIT") of $(fmt "$NLINES")")
	SCAN_OK=$(has scan "line $(fmt "$LASTHIT") of $(fmt "$NLINES")")
	# the raw file, for scale
	cat "$FILE" >/dev/null
	python3 "$PT" --plain --repeat 5 -- grep -nF "$NEEDLE" "$FILE" >"$W/grep.out"
	python3 "$PT" --plain --repeat 5 -- tail -n 1 "$FILE" >"$W/tail.out"
fi

# --- report ---------------------------------------------------------------------------------------
{
say ""
say "ciscope TUI benchmark  $(date -u +%Y-%m-%dT%H:%MZ)  $(uname -m), $(nproc 2>/dev/null || echo '?') CPUs, $("$BIN" --version 2>/dev/null | head -n 1 || true)$([ "$HAVE_TIG" = 1 ] && printf ', %s' "$(tig --version | head -n 1)")"
say "median of $REPEAT runs each (min-max after the figure); every run a new process, warm page cache"
say ""
say "first frame, $NRUNS runs / commits, on a pseudo-terminal (bench/ptytime.py)"
row() { printf '  %-60s %8s ms  (%s)\n' "$1" "$(ms "$2")" "$(spread "$2")"; }
for sz in 80x24 200x50; do
	row "ciscope $sz: start to exit (CISCOPE_EXIT_AFTER_FIRST_FRAME=1)" "$W/first-exit-$sz.out"
	row "ciscope $sz: start to the status bar on the terminal" "$W/first-status-$sz.out"
	if [ "$HAVE_TIG" = 1 ]; then
		row "tig $sz: start to the newest commit on the terminal" "$W/tig-first-$sz.out"
		row "tig $sz: start to exit, TIG_SCRIPT ':quit'" "$W/tig-quit-$sz.out"
	fi
done
say "  (the frame holds every row and the counts: $([ "$FIRST_OK" = 1 ] && echo checked || echo 'NOT CHECKED: see first.screen'))"
if [ "$HAVE_BIG" = 1 ]; then
	say ""
	say "the largest log: $MB MiB, $NLINES lines (run $RUNID), from a script (CISCOPE_SCRIPT), whole process"
	row "run list filtered to it" "$W/list.out"
	row "list, run, pager at its first line" "$W/top.out"
	row "... and G: the last line" "$W/last.out"
	row "... and :goto $MID" "$W/mid.out"
	row "... /NEEDLE, n: the last of its $NHITS matches (line $LASTHIT)" "$W/find.out"
	row "... the same as a regex with a top-level |, n" "$W/scan.out"
	row "grep -nF on the raw file, for scale" "$W/grep.out"
	row "tail -n 1 on the raw file, for scale" "$W/tail.out"
	say "  (NEEDLE: $NEEDLE; the regex: Q7X9Z \\(signal|QQQ-NOT-THERE)"
	say "  (screens checked: last line $(verdict "$LAST_OK"), middle $(verdict "$MID_OK"), search $(verdict "$FIND_OK"), regex $(verdict "$SCAN_OK"))"
fi
say ""
say "targets"
tgt() { printf '  %-44s %-40s %s\n' "$1" "$2" "$3"; }
F=$(ms "$W/first-exit-80x24.out")
tgt "first frame under 50 ms ($NRUNS runs)" "$F ms (200x50: $(ms "$W/first-exit-200x50.out") ms)" \
	"$(verdict "$(le "$F" 50)")"
if [ "$HAVE_TIG" = 1 ]; then
	C=$(ms "$W/first-status-80x24.out") T=$(ms "$W/tig-first-80x24.out")
	C2=$(ms "$W/first-status-200x50.out") T2=$(ms "$W/tig-first-200x50.out")
	tgt "first frame no slower than tig" "$C vs $T ms (x$(fx "$C" "$T")); 200x50 x$(fx "$C2" "$T2")" \
		"$(verdict "$(awk -v a="$(le "$C" "$T")" -v b="$(le "$C2" "$T2")" 'BEGIN { print a * b }')")"
else
	tgt "first frame no slower than tig" "tig not measured" "-"
fi
if [ "$HAVE_BIG" = 1 ]; then
	L=$(ms "$W/last.out") M=$(ms "$W/mid.out")
	tgt "a log opened at any line under 50 ms" "last $L ms, middle $M ms (whole process)" \
		"$(verdict "$(awk -v a="$(le "$L" 50)" -v b="$(le "$M" 50)" -v c="$LAST_OK" -v d="$MID_OK" 'BEGIN { print a * b * c * d }')")"
	tgt "pager search to the last match (no target)" "$(ms "$W/find.out") ms; full scan $(ms "$W/scan.out") ms" "-"
fi
say ""
say "raw outputs and screens: $W/"
} | tee "$W/report.txt"
