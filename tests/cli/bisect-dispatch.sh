#!/bin/sh
# bisect-dispatch.sh - `ciscope bisect dispatch` against the loopback GitHub
# server (tests/server/ghserver.py): a linear history of 8 commits with runs
# at the first (green) and the last (red) only; each dispatch creates a
# temporary branch at the proposed commit, dispatches the workflow on it,
# waits for its run (queued, in progress, completed), fetches it - the
# stored run is evidence and the next commit moves - and deletes the branch,
# until the first bad commit is known. Faults: 403 on the branch (no write
# access), 422 on the dispatch ("No ref found"), a run that never appears
# (timeout), a branch that cannot be deleted, no confirmation, an unknown
# workflow. Every request carries the token, no output shows it.
. "$(dirname "$0")/lib.sh"

loopback_setup tok-ciscope-bisect-7d21a9
h() { python3 "$TOP/tests/server/ghctl.py" "$@"; }

# --- the history and the runs ---------------------------------------------------------------------
bisect_history
start_server s --runs runs
"$CISCOPE" --db "$DB" fetch --api-url "$API" --cache-dir cache --quiet t/bisect >"$OUT" 2>"$ERR"
rc=$?
check_exit fetch 0
run bisect start --repo "$REPO" --workflow ci --json
check_exit start 0
check_eq start-good "$(h get "$OUT" good)" "$(sha 1)"
check_eq start-bad "$(h get "$OUT" bad)" "$(sha 8)"

# commits 5..8 fail when dispatched, 2..4 pass
h ctl "$API" /_ctl/dispatch "{\"conclusion\":\"success\",\"by_sha\":{\"$(sha 5)\":\"failure\",\"$(sha 6)\":\"failure\",\"$(sha 7)\":\"failure\"}}"

bd() { run bisect dispatch --repo "$REPO" --api-url "$API" --cache-dir cache --poll 0.05 "$@"; cat "$OUT" "$ERR" >>all-output; }

# --- refused without a confirmation: nothing sent -------------------------------------------------
L0=$(h lines s.log)
bd </dev/null
check_exit unconfirmed-exit 2
check_has unconfirmed-shows-ref "$OUT" "POST $API/repos/t/bisect/git/refs"
check_has unconfirmed-shows-delete "$OUT" "DELETE $API/repos/t/bisect/git/refs/heads/ciscope-bisect-"
check_has unconfirmed-says "$ERR" "confirm with --yes"
check_eq unconfirmed-no-write "$(h count s.log "$L0" 'e["method"] != "GET"')" 0

# --- the whole flow, until the first bad commit is known ------------------------------------------
steps=0
while [ $steps -lt 6 ]; do
	run bisect status --repo "$REPO" --json
	next=$(h get "$OUT" next)
	[ -n "$next" ] || break
	L0=$(h lines s.log)
	bd --yes --json
	steps=$((steps + 1))
	check_exit "dispatch-$steps-exit" 0
	check_eq "dispatch-$steps-sha" "$(h get "$OUT" sha)" "$next"
	check_eq "dispatch-$steps-ref-deleted" "$(h get "$OUT" ref_deleted)" true
	check_eq "dispatch-$steps-fetched" "$(h get "$OUT" fetched)" true
	want=good
	case "$next" in "$(sha 5)" | "$(sha 6)" | "$(sha 7)") want=bad ;; esac
	check_eq "dispatch-$steps-verdict" "$(h get "$OUT" verdict)" "$want"
	check_eq "dispatch-$steps-ref-created" "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/git/refs") and e["status"] == 201 and e["body"] == "{\"ref\":\"refs/heads/ciscope-bisect-'"$(echo "$next" | cut -c1-12)"'\",\"sha\":\"'"$next"'\"}"')" 1
	check_eq "dispatch-$steps-dispatched" "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/actions/workflows/118/dispatches") and e["status"] == 204')" 1
	check_eq "dispatch-$steps-polled" "$(h count s.log "$L0" 'e["method"] == "GET" and "event=workflow_dispatch" in e["path"]')" 3
	check_eq "dispatch-$steps-deleted" "$(h count s.log "$L0" 'e["method"] == "DELETE" and e["status"] == 204')" 1
	check_eq "dispatch-$steps-no-ref-left" "$(h refs "$API")" ""
	run bisect status --repo "$REPO" --json
	check_has "dispatch-$steps-evidence" "$OUT" "{\"sha\":\"$next\",\"verdict\":\"$want\""
	check_eq "dispatch-$steps-next-moved" "$(h get "$OUT" next | grep -c "^$next\$")" 0
done
run bisect status --repo "$REPO" --json
check_eq flow-first-bad "$(h get "$OUT" first_bad)" "$(sha 5)"
check_eq flow-steps "$steps" 3
check_eq flow-token-sent "$(h count s.log 0 'e["host"] == "api" and e["auth_ok"] is not True')" 0
# nothing left to test
bd --yes
check_exit done-exit 1
check_has done-says "$ERR" "the first bad commit is known"
# the bisection keeps its dispatches: which commit, branch, run, when
S5=$(sha 5 | cut -c1-12)
run bisect log
check_exit log-exit 0
check_eq log-dispatches "$(grep -c '^# dispatch [0-9a-f]\{40\}: workflow '"'ci'"' on branch '"'"'ciscope-bisect-[0-9a-f]\{12\}'"'"' of t/bisect at 20[0-9-]*T[0-9:]*Z, run [0-9]* \(success\|failure\)$' "$OUT")" 3
check_has log-dispatch-5 "$OUT" "# dispatch $(sha 5): workflow 'ci' on branch 'ciscope-bisect-$S5' of t/bisect at "
cp "$OUT" dispatch.log
run bisect log --json
check_exit log-json-exit 0
cat >lj.py <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ds = [e for e in d["entries"] if e["kind"] == "dispatch"]
for e in ds:
    assert e["workflow"] == "ci" and e["repo"] == "t/bisect", e
    assert e["ref"] == "ciscope-bisect-" + e["sha"][:12], e
    assert isinstance(e["run"], int) and e["run"] > 0 and e["run_status"] == "completed", e
    assert e["conclusion"] in ("success", "failure") and e["at"].endswith("Z"), e
print(len(ds), sum(1 for e in ds if e["sha"] == sys.argv[2]))
EOF
check_eq log-json-dispatches "$(python3 lj.py "$OUT" "$(sha 5)")" "3 1"
run bisect status --repo "$REPO" --json
check_has status-run-dispatched "$OUT" '"dispatch":{"ref":"ciscope-bisect-'"$S5"'","at":"'
# the log replays (the dispatch lines are comments; the runs they made are evidence)
run bisect replay --repo "$REPO" --json dispatch.log
check_exit log-replay-exit 0
check_eq log-replay-first-bad "$(h get "$OUT" first_bad)" "$(sha 5)"

# --- faults ---------------------------------------------------------------------------------------
# a fresh index with the two main runs only (the server now also lists the dispatched runs)
DB=faults.db
"$CISCOPE" --db "$DB" fetch --api-url "$API" --cache-dir cache2 --branch main --quiet t/bisect >"$OUT" 2>"$ERR"
rc=$?
check_exit faults-fetch 0
run bisect start --repo "$REPO" --workflow ci
check_exit faults-start 0
# the text form, on a fresh bisection with a REV
bd --yes "$(sha 3)"
check_exit text-exit 0
check_has text-verdict "$OUT" "$(sha 3 | cut -c1-12): run "
check_has text-good "$OUT" "success: good"
check_has text-next "$OUT" "next: "
check_has text-progress "$ERR" "bisect dispatch: branch 'ciscope-bisect-$(sha 3 | cut -c1-12)' deleted"
bd --yes "$(sha 1)"
check_exit rev-not-suspect-exit 1
check_has rev-not-suspect "$ERR" "is not a suspect of the active bisection"

# 403 on the branch: the token lacks contents write access; nothing to delete
L0=$(h lines s.log)
h ctl "$API" /_ctl/faults '{"path": "/git/refs$", "method": "POST", "fault": "status", "status": 403, "body": {"message": "Resource not accessible by personal access token"}}'
bd --yes --ref-prefix tmp/bisect-
check_exit f403-exit 1
check_has f403-what "$ERR" "creating the temporary branch 'tmp/bisect-"
check_has f403-status "$ERR" "access refused (403)"
check_has f403-need "$ERR" "the token needs contents write access"
check_eq f403-no-dispatch "$(h count s.log "$L0" '"dispatches" in e["path"] or e["method"] == "DELETE"')" 0
check_eq f403-no-ref "$(h refs "$API")" ""

# 422 on the dispatch: named, the branch deleted
L0=$(h lines s.log)
h ctl "$API" /_ctl/faults '{"path": "/dispatches$", "method": "POST", "fault": "status", "status": 422, "body": {"message": "No ref found for: ciscope-bisect-x"}}'
bd --yes --json
check_exit f422-exit 1
check_has f422-what "$ERR" "dispatching workflow 'ci' of t/bisect"
check_has f422-message "$ERR" "No ref found for"
check_eq f422-json-deleted "$(h get "$OUT" ref_deleted)" true
check_eq f422-json-dispatched "$(h get "$OUT" dispatched)" false
check_eq f422-deleted "$(h count s.log "$L0" 'e["method"] == "DELETE" and e["status"] == 204')" 1
check_eq f422-no-ref "$(h refs "$API")" ""

# 403 on the dispatch: the token lacks actions write access; the branch deleted
h ctl "$API" /_ctl/faults '{"path": "/dispatches$", "method": "POST", "fault": "status", "status": 403, "body": {"message": "Resource not accessible by integration"}}'
bd --yes
check_exit f403d-exit 1
check_has f403d-need "$ERR" "the token needs actions write access (to dispatch a workflow)"
check_has f403d-deleted "$ERR" "branch 'ciscope-bisect-"
check_eq f403d-no-ref "$(h refs "$API")" ""

# a run that never appears: the timeout, the branch deleted
h ctl "$API" /_ctl/dispatch '{"appear": false}'
bd --yes --timeout 1 --poll 0.2
check_exit timeout-exit 1
check_has timeout-says "$ERR" "no run of workflow 'ci' appeared for"
check_has timeout-within "$ERR" "within 1 s"
check_eq timeout-no-ref "$(h refs "$API")" ""
# Ctrl-C while waiting: stopped, the branch still deleted. $ERR still holds
# the last step's "dispatched on" until the child's redirection empties it:
# empty it first, or the wait below ends at once and the INT lands before
# ciscope has its handler (a background job starts with SIGINT ignored)
: >"$ERR"
"$CISCOPE" --db "$DB" bisect dispatch --repo "$REPO" --api-url "$API" --cache-dir cache --poll 0.1 --timeout 60 --yes >"$OUT" 2>"$ERR" &
bdpid=$!
i=0
# (waits for the dispatch: under the sanitizers on a busy machine it takes seconds)
while ! grep -q "dispatched on" "$ERR" && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
grep -q "dispatched on" "$ERR" || fail interrupt-dispatched "no dispatch within 60 s: $(cat "$ERR")"
kill -INT $bdpid
wait $bdpid
rc=$?
check_exit interrupt-exit 130
check_has interrupt-says "$ERR" "interrupted while waiting for the run of 'ciscope-bisect-"
check_has interrupt-deleted "$ERR" "deleted"
check_eq interrupt-no-ref "$(h refs "$API")" ""
h ctl "$API" /_ctl/dispatch '{"appear": true}'

# the branch cannot be deleted: said, with its name
h ctl "$API" /_ctl/faults '{"path": "/git/refs/heads/", "method": "DELETE", "fault": "status", "status": 403, "body": {"message": "Resource not accessible"}}'
bd --yes --no-wait
check_exit fdelete-exit 1
check_has fdelete-says "$ERR" "is left behind; delete it with \`git push origin --delete ciscope-bisect-"
check_eq fdelete-ref-left "$(h refs "$API" | wc -l | tr -d ' ')" 1

# an unknown workflow
bd --yes --workflow nightly
check_exit unknown-workflow-exit 4
check_has unknown-workflow "$ERR" "no workflow 'nightly'"

# options
bd --yes --ref-prefix '-x'
check_exit bad-prefix-exit 2
bd --yes --poll 0
check_exit bad-poll-exit 2

# the token never shows
if grep -qF "$TOKEN" all-output; then fail token-hidden "the token was printed"; else ok token-hidden; fi
finish
