#!/bin/sh
# ux.sh - what a new user trips on in the CLI (issue 9, item 3): tables fit
# the terminal (the title is cut, as gh run list does) and print whole
# values in a pipe; an unknown --status is an error that lists the valid
# values; an ambiguous job names the jobs; errors start with "ciscope:".
. "$(dirname "$0")/lib.sh"

make_run_folders
run import --quiet runs
check_exit setup 0

# in a pipe: whole titles
run runs
check_has pipe-title "$OUT" "Create multi-jobs-workflow.yml"

# on a terminal of 100 columns: no line is wider, the title is cut
if command -v script >/dev/null 2>&1; then
	script -qc "stty cols 100 rows 20; NO_COLOR=1 '$CISCOPE' --db '$DB' runs" /dev/null |
		tr -d '\r' >tty.out
	wide=$(python3 -c 'import sys; print(sum(len(l.rstrip("\n")) > 100 for l in open(sys.argv[1], encoding="utf-8")))' tty.out)
	check_eq tty-fits "$wide" 0
	check_has tty-cut tty.out "Create mu…"
	check_has tty-header tty.out "TITLE"
else
	ok "tty-fits (skipped: no script(1))"
fi

# --status: an unknown value is an error naming the valid ones
run runs --status red
check_exit status-bad-exit 2
check_has status-bad-msg "$ERR" "ciscope: runs: --status 'red' is not one of: failed, running, success, failure"
run runs --status failed
check_exit status-failed 0
check_has status-failed-row "$OUT" "719643948"

# a job prefix two jobs share: the error names them
run log 719643948/job
check_exit job-ambiguous-exit 2
check_has job-ambiguous "$ERR" "ciscope: run 719643948: job 'job' is ambiguous: 2 jobs start with it ("
check_has job-ambiguous-names "$ERR" "'job1'"
check_has job-ambiguous-names-2 "$ERR" "'job2'"

# a run without a failed job: an error with the prefix
run log --failed 719643947
check_has no-failed-prefix "$ERR" "ciscope: run 719643947 has no failed job with a stored log"

# an option a command does not know: getopt's own message, with the prefix
run runs --bogus
check_exit bad-option-exit 2
check_has bad-option-prefix "$ERR" "ciscope: runs: unrecognized option '--bogus'"
run triage -Z
check_has bad-short-option-prefix "$ERR" "ciscope: triage: invalid option -- 'Z'"
run runs --status
check_has missing-arg-prefix "$ERR" "ciscope: runs: option '--status' requires an argument"
run runbook run --bogus
check_exit runbook-bad-option-exit 2
check_has runbook-bad-option-prefix "$ERR" "ciscope: runbook run: unrecognized option '--bogus'"
# every command and subcommand: the first line of the error starts with
# "ciscope:" and the exit status is 2
for cmd in "runs" "show 1" "log 1" "search x" "triage" "retriage" "import" "fetch" "diff" \
	"parity" "metrics" "metrics show x" "check" "commits" "bisect start" "bisect status" \
	"bisect dispatch" "bisect run" "runbook list" "runbook run" "keys"; do
	# shellcheck disable=SC2086
	run $cmd --bogus
	name=bogus-$(echo "$cmd" | tr ' ' '-')
	check_exit "$name-exit" 2
	case $(head -n 1 "$ERR") in
	"ciscope: "*) ok "$name-prefix" ;;
	*) fail "$name-prefix" "$(head -n 1 "$ERR")" ;;
	esac
done

# the help lists only what the views do: no view splits, so no split option
# and no Tab key
run keys
check_has keys-options "$OUT" "mouse on|off"
check_eq keys-no-split "$(grep -ci split "$OUT")" 0
check_eq keys-no-tab "$(grep -c "<Tab>" "$OUT")" 0

# under a locale that is not UTF-8 (LC_ALL=C) the text output separates its
# fields with ASCII " - ", not the middle dot (UTF-8 bytes c2 b7); under
# C.UTF-8 (the goldens) it keeps the dot
for cmd in "show 719643948" "triage 719643948" "diff 719643948 719643947"; do
	name=$(echo "$cmd" | cut -d' ' -f1)
	# shellcheck disable=SC2086
	LC_ALL=C "$CISCOPE" --db "$DB" $cmd >"$OUT" 2>"$ERR"
	rc=$?
	check_eq "c-locale-$name-exit" "$rc" 0
	check_eq "c-locale-$name-no-dot" "$(grep -c "$(printf '\302\267')" "$OUT")" 0
	check_eq "c-locale-$name-ascii" "$(LC_ALL=C grep -c "$(printf '[\200-\377]')" "$OUT")" 0
	check_has "c-locale-$name-sep" "$OUT" " - "
	# shellcheck disable=SC2086
	run $cmd
	check_has "utf8-locale-$name-dot" "$OUT" "$(printf ' \302\267 ')"
done

# runs --json has the head commit's subject the table shows, next to the
# run's title (a run whose display title is not its commit's subject)
mkdir -p subj/runs/titled
cp -r runs/hub4j/logs runs/hub4j/jobs.json subj/runs/titled/
python3 - runs/hub4j/run.json >subj/runs/titled/run.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = 719643949
d["display_title"] = "Nightly build"
d["head_commit"]["message"] = "Fix the parser\n\nThe body of the message."
json.dump(d, sys.stdout, indent=2)
PY
# ... and a run still in progress, whose status a pipe prints whole
mkdir -p subj/runs/running
cp -r runs/hub4j/logs runs/hub4j/jobs.json subj/runs/running/
python3 - runs/hub4j/run.json >subj/runs/running/run.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = 719643950
d["status"] = "in_progress"
d["conclusion"] = None
json.dump(d, sys.stdout, indent=2)
PY
saved_db=$DB
DB="$WORK/subj.db"
run import --quiet subj/runs
run runs
check_has runs-pipe-status "$OUT" "in_progress  "
run runs --json
check_has runs-json-subject "$OUT" '"title":"Nightly build",'
check_has runs-json-subject-2 "$OUT" '"subject":"Fix the parser",'
run runs
check_has runs-table-subject "$OUT" "Fix the parser"
# show names both, as the run view's title does
run show 719643949
check_has show-title "$OUT" "  Nightly build"
check_has show-subject "$OUT" "  commit: Fix the parser"
DB=$saved_db

finish
