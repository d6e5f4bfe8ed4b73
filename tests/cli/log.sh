#!/bin/sh
# log.sh - `ciscope log`: every job, one job by name and by id, --failed,
# --step, --json, --raw (byte for byte), and the errors.
. "$(dirname "$0")/lib.sh"

make_run_folders
cp "$PYTORCH/error_log1.txt" build.log
run import --quiet runs build.log
check_exit log-setup 0

# all jobs: job2 then job1, 39 lines each
run log 719643947
check_exit log-all-exit 0
check_eq log-all-lines "$(wc -l <"$OUT" | tr -d ' ')" 78
check_eq log-all-first "$(head -n 1 "$OUT" | cut -f 1,2)" "job2	Set up job"
check_eq log-all-last "$(tail -n 1 "$OUT")" "job1	Complete job	2021-04-05T15:42:59.1177315Z Cleaning up orphan processes"

# one job, by name and by id: the same text
run log 719643947/job2
check_exit log-job-exit 0
check_golden log-job2.txt "$OUT"
run log 719643947/2270858576
check_golden log-job2.txt "$OUT"
run log 719643947/job
check_exit log-ambiguous-job 2
check_has log-ambiguous-msg "$ERR" "ambiguous"

# --raw: the imported bytes, CRLF and all
"$CISCOPE" --db "$DB" log --raw 719643947/job1 >raw.out 2>"$ERR"
rc=$?
check_exit log-raw-exit 0
if cmp -s raw.out runs/hub4j/logs/2270858630.txt; then ok log-raw-bytes; else
	fail log-raw-bytes "log --raw differs from the imported file"; fi
"$CISCOPE" --db "$DB" log --raw "$(
	"$CISCOPE" --db "$DB" runs --json | grep -o '"id":[0-9]*,"attempt":1,"run_number":0' |
		sed 's/"id":\([0-9]*\),.*/\1/')" >raw2.out 2>"$ERR"
if cmp -s raw2.out build.log; then ok log-raw-adhoc-bytes; else
	fail log-raw-adhoc-bytes "log --raw of the ad-hoc run differs from build.log"; fi
# a whole run --raw is its jobs' logs one after the other
"$CISCOPE" --db "$DB" log --raw 719643947 >raw3.out 2>"$ERR"
cat runs/hub4j/logs/2270858576.txt runs/hub4j/logs/2270858630.txt >raw3.want
if cmp -s raw3.out raw3.want; then ok log-raw-run-bytes; else
	fail log-raw-run-bytes "log --raw of the run is not job2 + job1"; fi

# --step N: that step's lines
run log --step 2 719643947/job1
check_exit log-step-exit 0
check_golden log-step.txt "$OUT"
run log --step 3 --json 719643947/job1
check_golden log-step.json "$OUT"
run log --step 2 --raw 719643947/job1
sed -n 34,38p runs/hub4j/logs/2270858630.txt >step.want
if cmp -s "$OUT" step.want; then ok log-step-raw; else
	fail log-step-raw "--step 2 --raw is not lines 34-38 of the log"; fi
run log --step 9 719643947/job1
check_exit log-step-missing 4
check_has log-step-missing-msg "$ERR" "has no step 9"
run log --step 2 719643947
check_exit log-step-needs-job 2

# --failed: the failed step of the failed job
run log --failed 719643948
check_exit log-failed-exit 0
check_golden log-failed.txt "$OUT"
# on a run without failures: nothing, and a note
run log --failed 719643947
check_exit log-failed-none-exit 0
check_eq log-failed-none-out "$(wc -c <"$OUT" | tr -d ' ')" 0
check_has log-failed-none-note "$ERR" "no failed job"
# an ad-hoc log has no failed steps: the whole failed job
adhoc=$("$CISCOPE" --db "$DB" runs --json | grep -o '"id":[0-9]*,"attempt":1,"run_number":0' |
	sed 's/"id":\([0-9]*\),.*/\1/')
run log --failed "$adhoc"
check_exit log-failed-adhoc-exit 0
check_eq log-failed-adhoc-lines "$(wc -l <"$OUT" | tr -d ' ')" 4768
check_has log-failed-adhoc-error "$OUT" "build	Run mkdir -p .additional_ci_files	2024-07-08T16:56:59.8649160Z ##[error]Process completed with exit code 1."

# --json: one object per line
run log --json 719643947/job2
check_exit log-json-exit 0
check_eq log-json-lines "$(wc -l <"$OUT" | tr -d ' ')" 39
check_eq log-json-35 "$(sed -n 35p "$OUT")" '{"job":"job2","job_id":2270858576,"step":2,"line":35,"text":"2021-04-05T15:42:56.2235638Z \u001b[36;1mecho Hello from job2!\u001b[0m"}'
run log --json --raw 719643947
check_exit log-json-raw 2

# text output never passes escape sequences through (NO_COLOR)
run log 719643947/job2
if grep -q "$(printf '\033')" "$OUT"; then fail log-no-escapes "ESC in text output"; else
	ok log-no-escapes; fi

# unknown runs and jobs
run log 12345
check_exit log-unknown-run 4
run log 719643947/deploy
check_exit log-unknown-job 4
check_has log-unknown-job-msg "$ERR" "no job 'deploy'"
run log 12x
check_exit log-not-an-id 2
run log
check_exit log-no-arg 2
run log --step x 719643947/job1
check_exit log-bad-step 2
run log --help
check_exit log-help-exit 0
check_golden help-log.txt "$OUT"

finish
