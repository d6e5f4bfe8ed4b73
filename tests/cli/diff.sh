#!/bin/sh
# diff.sh - `ciscope diff`: a real failing GitHub Actions log (CiDiff's
# Quick Checks run118) against the passing run of the same job, with JUnit
# reports beside them; the chosen baseline and why, text and JSON, context,
# --all-lines, explicit runs and jobs, no baseline, bad command lines.
. "$(dirname "$0")/lib.sh"

CASE="$FIXTURES/cidiff/data/breakages_dump/Quick Checks_/run118"

# diff_run DIR ID SHA CONCLUSION MINUTE LOG JUNIT_BODY: lib.sh's run_folder
# (workflow and job "checks" on main) with a passing "lint" job beside it
# and a JUnit report
RUN_FOLDER_WORKFLOW=checks RUN_FOLDER_JOB=checks RUN_FOLDER_REPO=t/diff
diff_run() {
	RUN_FOLDER_EXTRA_JOB="{\"id\":$(($2 * 10 + 1)),\"run_id\":$2,\"name\":\"lint\",\"status\":\"completed\",\"conclusion\":\"success\",
 \"started_at\":\"2026-10-01T10:$5:00Z\",\"completed_at\":\"2026-10-01T10:$5:10Z\",\"steps\":[]}"
	run_folder "$1" "$2" main "$3" "$4" "$5" "$6"
	mkdir -p "$1/artifacts/junit"
	printf '%s\n' '<?xml version="1.0"?>' "<testsuite name=\"go\">$7</testsuite>" \
		>"$1/artifacts/junit/report.xml"
}

diff_run runs/green 301 1111111111111111111111111111111111111111 success 10 "$CASE/pass.log" \
	'<testcase classname="pkg" name="TestA" time="0.1"/><testcase classname="pkg" name="TestB" time="0.2"/><testcase classname="pkg" name="TestGone" time="0.1"/>'
diff_run runs/red 302 2222222222222222222222222222222222222222 failure 20 "$CASE/fail.log" \
	'<testcase classname="pkg" name="TestA" time="0.1"><failure message="want 1, got 2">x_test.go:12</failure></testcase><testcase classname="pkg" name="TestB" time="3.5"/><testcase classname="pkg" name="TestNew" time="0.1"/>'
run import --quiet runs
check_exit diff-setup 0

# no git checkout here: the baseline is the newest green run before it
run diff 302
check_exit diff-text-exit 0
check_golden diff-text.txt "$OUT"
check_has diff-text-reason "$OUT" "baseline: run 301"
check_has diff-text-error "$OUT" "##[error]"
run diff --json 302
check_exit diff-json-exit 0
check_golden diff.json "$OUT"
check_has diff-json-reason "$OUT" '"baseline_reason":"newest green run on main before this one, 10m 00s earlier (no git checkout)"'
check_has diff-json-new-failure "$OUT" '"new_failures":[{"classname":"pkg","name":"TestA"'
check_has diff-json-slower "$OUT" '"slower":[{"classname":"pkg","name":"TestB"'

# default RUN: the newest failed run of the default branch
run diff --json
check_has diff-default-run "$OUT" '"run":{"id":302,'

# the same two runs named: the same log diff; a job on each side
run diff --json 302 301
check_has diff-explicit-reason "$OUT" '"baseline_reason":"named on the command line"'
run diff --json --base 301/checks 302/checks
check_exit diff-jobs-exit 0
jobs=$(grep -o '"job":"[a-z]*"' "$OUT" | sort -u | tr '\n' ' ')
check_eq diff-jobs-one "$jobs" '"job":"checks" '

# context 0: only shown lines; --all-lines: the baseline's own lines too
run diff --json --context 0 302
check_exit diff-context-exit 0
if grep -q '"op":"="' "$OUT"; then fail diff-context-0 "context lines with --context 0"; else ok diff-context-0; fi
run diff --json --all-lines 302
check_has diff-all-lines "$OUT" '"op":"-"'
run diff --json --max-lines 3 302
check_has diff-max-lines "$OUT" '"shown":3,'
check_has diff-max-lines-truncated "$OUT" '"truncated":true'

# no baseline: said on stderr, the run's own failing tests still shown
run diff 301
check_exit diff-nobase-exit 0
check_has diff-nobase-text "$OUT" "baseline: none"
check_has diff-nobase-stderr "$ERR" "no baseline"
run diff --json 301
check_has diff-nobase-json "$OUT" '"base":null,'

# triage points at the diff
run triage --json 302
check_has diff-triage-pointer "$OUT" '"diff":{"base":{"id":301,"attempt":1},"new_lines":25,"text":"25 new lines vs baseline run 301"}'
run triage 302
check_has diff-triage-pointer-text "$OUT" "diff: 25 new lines vs baseline run 301 (ciscope diff 302)"
run triage --json 301
check_has diff-triage-no-pointer "$OUT" '"diff":null'

# hostile text: escape sequences in a job name and in new log lines never
# reach the terminal
mkdir -p hostile
for id in 401 402; do
	mkdir -p hostile/$id/logs
	concl=success; min=30; [ $id = 402 ] && concl=failure && min=40
	cat >hostile/$id/run.json <<JSON
{"id":$id,"name":"evil","run_attempt":1,"head_branch":"main","head_sha":"$id$id$id",
 "event":"push","status":"completed","conclusion":"$concl",
 "created_at":"2026-10-01T10:$min:00Z","updated_at":"2026-10-01T10:$min:30Z",
 "repository":{"full_name":"t/diff"}}
JSON
	cat >hostile/$id/jobs.json <<JSON
{"total_count":1,"jobs":[{"id":${id}0,"run_id":$id,"name":"job \u001b]0;pwned\u0007 \u001b[2J","status":"completed",
 "conclusion":"$concl","steps":[]}]}
JSON
	printf 'start\n' >hostile/$id/logs/${id}0.txt
done
printf 'boom \033]8;;http://x\033\\link\033]8;;\033\\ \033[2J\033P1;2|x\033\\ \377\376 end\n' \
	>>hostile/402/logs/4020.txt
run import --quiet hostile
run diff 402
check_exit diff-hostile-exit 0
check_has diff-hostile-line "$OUT" "boom"
if LC_ALL=C grep -q "$(printf '\033')" "$OUT"; then
	fail diff-hostile-no-escape "an escape byte reached stdout"
else
	ok diff-hostile-no-escape
fi
run diff --json 402
check_exit diff-hostile-json 0
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" && ok diff-hostile-json-valid ||
	fail diff-hostile-json-valid "not valid JSON"

# bad command lines and missing runs
run diff 999
check_exit diff-no-run 4
run diff 302/nosuchjob
check_exit diff-no-job 4
check_has diff-no-job-msg "$ERR" "nosuchjob"
run diff --context x 302
check_exit diff-bad-context 2
run diff 302 301 300
check_exit diff-too-many 2
run diff --help
check_exit diff-help 0
check_has diff-help-usage "$OUT" "usage: ciscope diff"

finish
