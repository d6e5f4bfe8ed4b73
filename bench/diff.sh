#!/bin/sh
# bench/diff.sh BUILD - how well `ciscope diff` shows what is new in a failing
# log against its baseline (`make bench-diff`). Not a test: it reports, it
# never fails on a missed target.
#
# Each CiDiff pass/fail pair in ../shared/fixtures/cidiff (DIFF_FIXTURES
# overrides; the held-out half is never read) becomes a successful and a
# failed run of one workflow, imported into a fresh index; `ciscope diff
# --json` picks the baseline itself and bench/diff-score.py scores the
# shown lines against the hand-marked error lines and against GNU diff's
# added lines over the same logs (its header says how). Targets, from the
# issue:
#   share of pairs where a shown line covers a marked line       >= 0.95
#   mean share of marked lines covered (40 at most per log)      >= 0.85
#   median ratio of shown lines to GNU diff's added lines        <= 0.35
# Then two generated logs of DIFF_BIG_MB MiB (default 100; 0 skips) are
# diffed: wall time and peak memory (GNU time's maximum resident set),
# beside GNU diff over the same files.
# The aligner is never tuned to one of these logs.
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
FIX=${DIFF_FIXTURES:-$ROOT/../shared/fixtures}
BIG=${DIFF_BIG_MB:-100}
W=$BUILD/bench-diff

if [ ! -x "$BIN" ]; then
	echo "bench-diff: no binary at $BIN: build it first (make BUILD=$1)" >&2
	exit 1
fi
if [ ! -d "$FIX/cidiff" ]; then
	echo "bench-diff: no CiDiff pairs in $FIX/cidiff: set DIFF_FIXTURES" >&2
	exit 1
fi
rm -rf "$W"
mkdir -p "$W/out"
unset CISCOPE_RULES CISCOPE_DB
cd "$W"
python3 "$ROOT/bench/diff-score.py" prep "$FIX" "$W"
"$BIN" --db "$W/index.db" import --quiet "$W/runs"
for id in $(cat "$W/run-ids"); do
	# --git-dir: no checkout, so the baseline is chosen by time
	"$BIN" --db "$W/index.db" diff --json --max-lines 0 --git-dir "$W" "$id" \
		>"$W/out/$id.json" 2>/dev/null ||
		echo "bench-diff: diff of run $id failed" >&2
done
python3 "$ROOT/bench/diff-score.py" score "$W"

if [ "$BIG" -gt 0 ]; then
	echo
	python3 "$ROOT/bench/diff-score.py" big "$W" "$BIG"
	"$BIN" --db "$W/big.db" import --quiet "$W/big"
	/usr/bin/time -f '%e %U %M' -o "$W/time-ciscope" \
		"$BIN" --db "$W/big.db" diff --json --git-dir "$W" 6000002 6000001 >"$W/big.json"
	base=$W/big/6000001/logs/60000010.txt run=$W/big/6000002/logs/60000020.txt
	/usr/bin/time -f '%e %U %M' -o "$W/time-diff" diff "$base" "$run" >/dev/null || true
	python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
t, u, m = open(w + "/time-ciscope").read().split("\n")[-2].split()
dt, du, dm = open(w + "/time-diff").read().split("\n")[-2].split()
j = json.load(open(w + "/big.json"))["jobs"][0]["log"]
print("two %s-line logs: ciscope diff %.1f s (%.1f s CPU), peak %.0f MiB (shown %d: %d new, "
      "%d updated, %d moved, %d gone);" % (j["run_lines"], float(t), float(u), int(m) / 1024,
                                          j["shown"], j["added"], j["updated"], j["moved"],
                                          j["removed"]))
print("GNU diff of the same raw files: %.1f s (%.1f s CPU), peak %.0f MiB" % (
    float(dt), float(du), int(dm) / 1024))
PY
fi
