#!/bin/sh
# bench/triage.sh BUILD - how well `ciscope triage` finds the lines that
# explain a failure (`make bench-triage`). Not a test: it reports, it never
# fails on a missed target.
#
# The labelled failing logs are the CiDiff pass/fail pairs (hand-marked
# error lines) and the pytorch log-classifier fixtures (the line its
# classifier must land on), read from ../shared/fixtures (TRIAGE_FIXTURES
# overrides; the held-out half is never read). Each log becomes a run folder
# with one failed job whose steps are unknown, is imported into a fresh
# index, triaged with the built-in rules alone, and scored by
# bench/triage-score.py (its header says how). Targets, from the issue:
#   share of logs where a shown finding covers a marked line    >= 0.9
#   mean share of marked lines covered (40 at most per log)     >= 0.8
#   median lines shown per failing log                           <= 40
# Rules must make sense for the toolchain they describe: they are never
# tuned to one of these logs.
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
FIX=${TRIAGE_FIXTURES:-$ROOT/../shared/fixtures}
W=$BUILD/bench-triage

if [ ! -x "$BIN" ]; then
	echo "bench-triage: no binary at $BIN: build it first (make BUILD=$1)" >&2
	exit 1
fi
if [ ! -d "$FIX/cidiff" ] || [ ! -d "$FIX/pytorch-test-infra" ]; then
	echo "bench-triage: no labelled logs in $FIX (cidiff/, pytorch-test-infra/):" \
		"set TRIAGE_FIXTURES" >&2
	exit 1
fi
rm -rf "$W"
mkdir -p "$W/out"
# the built-in rules only: no repository rules file, no CISCOPE_RULES
unset CISCOPE_RULES CISCOPE_DB
cd "$W"
python3 "$ROOT/bench/triage-score.py" prep "$FIX" "$W"
"$BIN" --db "$W/index.db" import --quiet "$W/runs"
for id in $(cat "$W/run-ids"); do
	"$BIN" --db "$W/index.db" triage --json "$id" >"$W/out/$id.json" ||
		echo "bench-triage: triage of run $id failed" >&2
done
python3 "$ROOT/bench/triage-score.py" score "$W"
