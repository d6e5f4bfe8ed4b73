#!/bin/sh
# show.sh - `ciscope show`: a run's jobs and steps as text and --json, an
# earlier attempt, an ad-hoc log, unknown runs; the global help.
. "$(dirname "$0")/lib.sh"

make_run_folders
cp "$PYTORCH/error_log1.txt" build.log
run import --quiet runs build.log
check_exit show-setup 0

run show 719643947
check_exit show-exit 0
check_golden show.txt "$OUT"
run show --json 719643947
check_exit show-json-exit 0
check_golden show.json "$OUT"
run show 719643948
check_golden show-failed.txt "$OUT"
run show --json 719643948:1
check_golden show-failed.json "$OUT"
run show '#1'
check_exit show-rowid 0
check_has show-rowid-run "$OUT" "run 719643947"

# the ad-hoc log: a failed run with one job, findings and synthetic steps
id=$("$CISCOPE" --db "$DB" runs --json | grep -o '"id":[0-9]*,"attempt":1,"run_number":0' | head -n 1 | sed 's/"id":\([0-9]*\),.*/\1/')
run show --json "$id"
check_exit show-adhoc-exit 0
check_has show-adhoc-failure "$OUT" '"conclusion":"failure"'
check_has show-adhoc-finding "$OUT" '{"line":3194,"step":32,"severity":"error","message":"Process completed with exit code 1."}'
check_has show-adhoc-finding2 "$OUT" '{"line":4047,"step":42,"severity":"error","message":"Process completed with exit code 1."}'
check_has show-adhoc-lines "$OUT" '"log":{"state":"stored","lines":4768,"bytes":395271}'
run show "$id"
check_has show-adhoc-text "$OUT" "✗ build  failure"
check_has show-adhoc-errors "$OUT" "log 4768 lines  2 errors"

# unknown runs and attempts: exit 4; not run ids: exit 2
run show 12345
check_exit show-unknown 4
check_has show-unknown-msg "$ERR" "no run 12345 in the index"
run show 719643947:2
check_exit show-unknown-attempt 4
check_has show-unknown-attempt-msg "$ERR" "no run 719643947 attempt 2"
run show abc
check_exit show-not-an-id 2
run show
check_exit show-no-arg 2
run show 1 2
check_exit show-two-args 2
run show --help
check_exit show-help-exit 0
check_golden help-show.txt "$OUT"

# the global help and unknown commands or options
run --help
check_exit help-exit 0
check_golden help.txt "$OUT"
run help log
check_exit help-log-exit 0
check_golden help-log.txt "$OUT"
run frobnicate
check_exit unknown-command 2
check_has unknown-command-msg "$ERR" "'frobnicate' is not a ciscope command"
"$CISCOPE" --frobnicate >"$OUT" 2>"$ERR"
rc=$?
check_exit unknown-global-option 2
"$CISCOPE" --db >"$OUT" 2>"$ERR"
rc=$?
check_exit db-without-path 2

# --- what a run brought besides its logs: artifacts, tests that did not pass, series -----------
# (core/runitems.h, the run view's lists) on the demo data set: a bench run
# with one metric file, the failed adaptive test of 86977fc

TOP=$(cd "$CLI_DIR/../.." && pwd)
if python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err; then
	SAVED_DB=$DB
	DB=demo.db
	run import --quiet demo/runs
	check_exit show-demo-import 0
	run show 9821523781
	check_has show-items-artifact "$OUT" "  artifact bench"
	check_has show-items-file "$OUT" "    bench.json  222 B  metrics · 4 series"
	check_has show-items-series "$OUT" "  wasm_size_kb  176.9  1 point  bench/bench.json"
	if grep -q "tests that did not pass" "$OUT"; then fail show-items-no-tests "lists tests"; else ok show-items-no-tests; fi
	run show --json 9821523781
	check_has show-items-json-artifact "$OUT" '"artifact_list":[{"name":"bench","size":null,"expired":false,"files":[{"path":"bench.json","size":222,"kind":"metrics","note":null,"tests":0,"series":4}]}]'
	check_has show-items-json-series "$OUT" '{"name":"wasm_size_kb","artifact":"bench","path":"bench.json","points":1,"values":1,"first":176.9,"last":176.9,"min":176.9,"max":176.9}'
	check_has show-items-json-notests "$OUT" '"failed_tests":[]'
	run show 9816939720
	check_exit show-items-test-exit 0
	check_has show-items-test-head "$OUT" "tests that did not pass:"
	check_golden show-items-test.txt "$OUT"
	run show --json 9816939720
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["failed_tests"]
assert len(t) == d["tests"]["failed"] + d["tests"]["error"] + d["tests"]["flaky"], t
assert all(x["outcome"] in ("failed", "error", "flaky") and x["name"] for x in t), t
assert sum(f["tests"] for a in d["artifact_list"] for f in a["files"]) >= len(t)
' "$OUT" 2>py.err && ok show-items-json-tests || fail show-items-json-tests "$(cat py.err)"
	DB=$SAVED_DB
else
	fail show-demo-gen "$(tail -n 3 demo.err)"
fi

finish
