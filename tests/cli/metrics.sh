#!/bin/sh
# metrics.sh - `ciscope metrics`, `metrics show`, `metrics ack`, `check` and
# local-CI results: hand-made bench runs with a planted step (table, JSON,
# change point at the planted commit, thresholds from .ciscope/thresholds.conf
# and --thresholds, exit codes 0/1/2, errors with file:line), local results
# files (good and hostile), and the demo data set's planted parity and
# memory regressions.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)

json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# bench_run N MEM: run N at commit N (40 hex digits), one minute apart
bench_run() {
	d=runs/r$1
	sha=$(printf '%07x%033x' "$1" "$1")
	mkdir -p "$d/artifacts/bench"
	m=$(printf '%02d' $(($1 % 60)))
	h=$(printf '%02d' $((10 + $1 / 60)))
	cat >"$d/run.json" <<EOF
{"id":$1,"name":"bench","run_attempt":1,"run_number":$1,"head_branch":"main","head_sha":"$sha",
 "event":"push","status":"completed","conclusion":"success","display_title":"commit $1",
 "created_at":"2026-10-01T$h:$m:00Z","updated_at":"2026-10-01T$h:$m:30Z",
 "repository":{"full_name":"t/bench"}}
EOF
	cat >"$d/jobs.json" <<EOF
{"total_count":1,"jobs":[{"id":$(($1 * 10)),"run_id":$1,"name":"bench","status":"completed",
 "conclusion":"success","started_at":"2026-10-01T$h:$m:00Z","completed_at":"2026-10-01T$h:$m:30Z",
 "steps":[]}]}
EOF
	printf '{"memory": {"peak_rss_mb": %s}, "startup_ms": 40}\n' "$2" >"$d/artifacts/bench/bench.json"
}

# 40 runs: peak memory ~200 MB, +20 % from run 125 on (the 25th)
i=100
while [ $i -lt 140 ]; do
	j=$((i % 3))
	if [ $i -lt 125 ]; then mem=$((200 + j)); else mem=$((240 + j)); fi
	bench_run $i $mem
	i=$((i + 1))
done
run import --quiet runs
check_exit import 0

run metrics memory
check_exit table 0
check_golden metrics-table "$OUT"
run metrics --json peak
check_exit table-json 0
check_eq table-json-cp "$(json_get "$OUT" 'j[0]["change_point"]["sha"][:10]')" "000007d000"

run metrics show --json memory.peak_rss_mb
check_exit show-json 0
check_eq show-json-keys "$(json_get "$OUT" 'sorted(j.keys())')" \
	"['change_points', 'name', 'points', 'thresholds', 'unit', 'workflow']"
check_eq show-json-point-keys "$(json_get "$OUT" 'sorted(j["points"][0].keys())')" \
	"['at', 'run', 'sha', 'value']"
check_eq show-json-cp "$(json_get "$OUT" '[(c["run"], c["before"], c["after"]) for c in j["change_points"]]')" \
	"[('125', 201, 241)]"
check_eq show-json-unit "$(json_get "$OUT" 'j["unit"]')" "MB"
run metrics show --plot --width 60 --height 10 memory.peak_rss_mb
check_exit show-plot 0
check_golden metrics-show-plot "$OUT"
run metrics show --svg chart.svg memory.peak_rss_mb
check_exit show-svg 0
check_has show-svg chart.svg "<svg"
run metrics show no.such.metric
check_exit show-missing 4
check_has show-missing "$ERR" "no metric named 'no.such.metric'"

# --- thresholds and check -----------------------------------------------------------
cat >th.conf <<'EOF'
threshold memory.peak_rss_mb
	workflow bench
	warn <= 220 MB
	fail <= 0.25 GB
EOF
run check --thresholds th.conf
check_exit check-warn-only 0
check_has check-warn-only "$OUT" "WARN  memory.peak_rss_mb (bench) = 241 MB  bound <= 220 MB  since 000007d (run 125)"
cat >>th.conf <<'EOF'

threshold startup_ms
	fail < 40 ms
EOF
run check --thresholds th.conf
check_exit check-fail 1
check_has check-fail "$OUT" "FAIL  startup_ms (bench) = 40 ms  bound < 40 ms  since 0000064 (run 100)"
run check --thresholds th.conf --json
check_exit check-json 1
check_eq check-json-verdict "$(json_get "$OUT" '(j["verdict"], j["failed"], j["warned"], j["runs"])')" \
	"('fail', 1, 1, ['139'])"
# a run before the step: memory passes both bounds
run check --thresholds th.conf 110
check_exit check-run 1
check_eq check-run-out "$(grep -c memory "$OUT")" "0"
run check --bogus
check_exit check-usage 2
run check 1 2
check_exit check-usage-args 2
run check 999999
check_exit check-no-run 4
# runs --json judges each shown run with the same thresholds as check:
# 202 MB breaches warn only, the runs after the step breach fail and warn
cat >th-runs.conf <<'EOF'
threshold memory.peak_rss_mb
	workflow bench
	warn <= 201 MB
	fail <= 230 MB
EOF
CISCOPE_THRESHOLDS=th-runs.conf
export CISCOPE_THRESHOLDS
run runs --workflow bench --limit 40 --json
unset CISCOPE_THRESHOLDS
check_exit runs-json-thresholds 0
json_get "$OUT" '"\n".join("%s %s %s %s" % (r["id"], r["thresholds"]["state"], r["thresholds"]["breaches"], r["threshold_breach"]) for r in j if 120 <= r["id"] <= 127)' >runs-th.txt
check_golden metrics-runs-thresholds runs-th.txt
# a bad thresholds file names file:line, exit 1
printf 'threshold x\n\tfail <= 3 parsecs\n' >bad.conf
run check --thresholds bad.conf
check_exit check-bad-file 1
check_has check-bad-file "$ERR" "bad.conf:2: unknown unit \"parsecs\""
# .ciscope/thresholds.conf at the top of the checkout
mkdir -p repo/.ciscope
git init -q repo
cp th.conf repo/.ciscope/thresholds.conf
(cd repo && "$CISCOPE" --db ../"$DB" check >../out2 2>../err2; echo $? >../rc2)
check_eq check-checkout "$(cat rc2)" "1"
check_has check-checkout err2 "thresholds from thresholds.conf"

# --- change points acknowledged --------------------------------------------------------
run metrics ack --note "history kept on purpose" memory.peak_rss_mb 000007d
check_exit ack 0
run metrics show memory.peak_rss_mb
check_has ack-shown "$OUT" "acknowledged: history kept on purpose"
run metrics ack memory.peak_rss_mb 0000064
check_exit ack-none 4

# --- local CI results ---------------------------------------------------------------------
local_results results.json
run import --json results.json
check_exit local-import 0
check_eq local-import-state "$(json_get "$OUT" '(j["created"], j["runs"][0]["workflow"])')" "(1, 'local')"
# show says why the run failed: the checks that did not pass (issue 9)
local_id=$(json_get "$OUT" 'j["runs"][0]["id"]')
run show "$local_id"
check_has local-show-why "$OUT" "  failure: checks that did not pass: coverage"
run triage "$local_id"
check_has local-triage-why "$OUT" "no failed job (the run's conclusion is failure: checks that did not pass: coverage)"
# local results carry one time, no duration: a dash, not 0s; JSON null (issue 9)
run runs --workflow local
check_has local-runs-dur "$OUT" "  00000a0  local  $local_id  -  "
check_eq local-runs-no-0s "$(grep -c ' 0s ' "$OUT")" 0
run runs --workflow local --json
check_eq local-runs-dur-json "$(json_get "$OUT" 'j[0]["duration_ms"]')" None
# an index imported before the import wrote why (conclusion_why NULL) says
# it from the failed checks' metric rows; two checks failed here
python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute("UPDATE runs SET conclusion_why = NULL WHERE source = '"'local'"'"); d.execute("UPDATE run_metrics SET passed = 0 WHERE name = '"'checks.tests.passed'"'"); d.commit()' "$DB"
run show "$local_id"
check_has local-old-show-why "$OUT" "  failure: checks that did not pass: coverage, tests"
run triage "$local_id"
check_has local-old-triage-why "$OUT" "no failed job (the run's conclusion is failure: checks that did not pass: coverage, tests)"
python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute("UPDATE run_metrics SET passed = 1 WHERE name = '"'checks.tests.passed'"'"); d.commit()' "$DB"
run show "$local_id"
check_has local-old-show-why1 "$OUT" "  failure: checks that did not pass: coverage"
check_eq local-old-show-why1-only "$(grep -c 'coverage, tests' "$OUT")" 0
run metrics --workflow local --json
check_eq local-metrics "$(json_get "$OUT" '[m["name"] for m in j]')" \
	"['checks.coverage.passed', 'checks.coverage.percentage', 'checks.tests.failed', 'checks.tests.passed', 'checks.tests.skipped', 'checks.tests.total']"
run check --thresholds bad.conf --thresholds th.conf
check_exit local-check 1
check_has local-check "$OUT" "FAIL  checks.coverage.passed (local) = 0  bound passed (stated threshold 85)"
printf '{"version":1,"timestamp":"2026-10-02T09:00:00Z","commit_sha":"$(reboot)","checks":{"a":{}}}' >hostile.json
run import hostile.json
check_exit local-hostile 1
check_has local-hostile "$ERR" "cannot import local results: hostile.json: commit_sha: not a commit id"

# --- the demo: planted parity (f60058c) and memory (535b441) regressions ------------------------
python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err || fail demo-gen "$(tail -n 3 demo.err)"
DB=demo.db
run import --quiet demo/runs demo/local
run import --quiet demo/local/results-01-ade90fd.json demo/local/results-02-94eceaf.json \
	demo/local/results-03-b90760e.json demo/local/results-04-f0bddde.json \
	demo/local/results-05-e3e8ab4.json demo/local/results-06-e190050.json
run metrics show --workflow parity --json parity.energy.max_excess
check_eq demo-parity-cp "$(json_get "$OUT" '[c["sha"][:7] for c in j["change_points"]]')" \
	"['f60058c', '010bf6e']"
run metrics show --workflow bench --json memory.peak_rss_mb
check_eq demo-memory-cp "$(json_get "$OUT" '[c["sha"][:7] for c in j["change_points"]]')" "['535b441']"
(cd demo/repo && "$CISCOPE" --db ../../demo.db check >../../out3 2>../../err3; echo $? >../../rc3)
check_eq demo-check "$(cat rc3)" "1"
check_has demo-check out3 "FAIL  memory.peak_rss_mb (bench) = 298.1 MB  bound <= 260 MB  since 535b441"
check_has demo-check-local out3 "FAIL  checks.coverage.percentage (local) = 84.1 %  bound >= 85 %  since e3e8ab4"
(cd demo/repo && "$CISCOPE" --db ../../demo.db check 9809401275 >../../out4 2>../../err4; echo $? >../../rc4)
check_eq demo-check-parity "$(cat rc4)" "1"
check_has demo-check-parity out4 "FAIL  parity.energy.max_excess (parity) = 35.99  bound <= 1  since f60058c (run 9809254290:2)"
# --branch: a summary cache of its own, in first-parent order in the
# checkout (keyed by the branch's tip), by time outside it; read again from it
for k in 5 6; do
	(cd demo/repo && "$CISCOPE" --db ../../demo.db metrics --branch main --json memory >../../out$k \
		2>../../err$k; echo $? >../../rc$k)
done
check_eq demo-branch-fp "$(cat rc5) $(json_get out5 '[m["change_point"]["sha"][:7] for m in j if m["name"] == "memory.peak_rss_mb"]')" \
	"0 ['535b441']"
check_eq demo-branch-fp-cached "$(cat out6)" "$(cat out5)"
run metrics --branch main --json memory
check_eq demo-branch-time "$(json_get "$OUT" '[m["change_point"]["sha"][:7] for m in j if m["name"] == "memory.peak_rss_mb"]')" \
	"['535b441']"
check_eq demo-branch-keys "$(python3 -c 'import sqlite3; print([b[:5] for (b,) in sqlite3.connect("demo.db").execute("SELECT branch FROM metric_summary_meta ORDER BY branch")])')" \
	"['main', 'main:']"
# runs imported after the summary cache was computed, their steps
# (step.JOB/STEP.duration_ms, stored with no trigger on a step's insert:
# migration 015) among them: the cache brought up to date equals a fresh one
mkdir -p split1 split2
for r in demo/runs/*; do
	case $(basename "$r") in 980*) cp -r "$r" split1/ ;; *) cp -r "$r" split2/ ;; esac
done
DB=split.db
run import --quiet split1
run metrics --json
check_exit split-first 0
run import --quiet split2
run metrics --json
cp "$OUT" split-inc.json
DB=whole.db
run import --quiet split1 split2
run metrics --json
check_has split-steps "$OUT" '"step.'
if cmp -s "$OUT" split-inc.json; then ok split-incremental-same; else
	fail split-incremental-same "$(diff split-inc.json "$OUT" | head -5)"; fi
DB=demo.db
# local results are runs without jobs: the newest failure that triage, diff
# and the runbooks default to is still a CI run (and so is "green since")
run triage
check_has demo-triage-default "$OUT" "main is green since 94eceaf (run 9818463673"
check_has demo-triage-default-run "$OUT" "ci · main · ade90fd · run 9818332072"
finish
