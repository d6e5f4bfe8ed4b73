#!/bin/sh
# triage-history.sh - what triage says about a failure's history (issue 9,
# item 2): a failure on every attempt of a commit is deterministic ("fix /
# investigate", not "retry"); the history line says when it last failed and
# whether the job passed since ("fixed in <sha>?"); `ciscope triage` with no
# run says the default branch is green since a run when it is; the headline
# of a shell step's message is its telling part, not the runner's script path.
. "$(dirname "$0")/lib.sh"

RUN_FOLDER_REPO=t/history
RUN_FOLDER_JOB=build-wasm

cat >oom.log <<'EOF'
2026-10-01T10:00:00.0000000Z    Compiling orrery-engine v0.4.0
2026-10-01T10:00:01.0000000Z /home/runner/work/_temp/7b37f4bd-0eb0-44f5-a863-1dcf79fed67d.sh: line 1:  2432 Killed                  wasm-pack build engine-rs --release
2026-10-01T10:00:01.0000000Z ##[error]Process completed with exit code 137.
EOF
printf '2026-10-01T10:00:00.0000000Z ok\n' >ok.log
A=aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1
B=bbbbbbb2bbbbbbb2bbbbbbb2bbbbbbb2bbbbbbb2
# the OOM on commit A, run twice (two runs of the commit), both fail
run_folder runs/a1 301 main $A failure 10 oom.log
run_folder runs/a2 302 main $A failure 12 oom.log
run import --quiet runs
check_exit setup 0

run triage --json 302
check_has deterministic "$OUT" '"deterministic":true'
check_has deterministic-not-flaky "$OUT" '"flaky":false'
check_has deterministic-decision "$OUT" '"category":"oom","decision":"investigate"'
run triage 302
check_has deterministic-text "$OUT" "next: fix / investigate (it failed on every attempt: retrying will not help)"
check_has headline "$OUT" "[oom] Killed wasm-pack build engine-rs --release"
if grep -q "\[oom\] /home/runner" "$OUT"; then fail headline-no-path "the headline is the script path"; else ok headline-no-path; fi
check_has last-seen "$OUT" "since aaaaaaa (run 301), last"
# no green run yet: triage shows the newest failure without a green line
run triage
check_has default-newest "$OUT" "run 302"
if grep -q "is green since" "$OUT"; then fail default-not-green "claims green"; else ok default-not-green; fi

# commit B passes: main is green since B, and the failure passed since
run_folder runs/b1 303 main $B success 20 ok.log
run import --quiet runs
run triage
check_exit green-exit 0
check_has green-since "$OUT" "main is green since bbbbbbb (run 303"
check_has green-newest "$OUT" "newest failure:"
check_has passed-since "$OUT" "passed since in bbbbbbb (run 303): fixed in bbbbbbb?"
run triage --json
check_has green-since-json "$OUT" '"green_since":{"id":303,'
check_has passed-since-json "$OUT" '"passed_since":{"run":303,"attempt":1,"sha":"'$B'"'
# a named run has no green line
run triage --json 302
check_has green-named-null "$OUT" '"green_since":null'

# a flaky failure (failed, passed, failed again on one branch) stays "retry"
cat >reset.log <<'EOF'
2026-10-01T11:00:00.0000000Z fetching
2026-10-01T11:00:01.0000000Z curl: (56) Recv failure: Connection reset by peer
2026-10-01T11:00:01.0000000Z ##[error]Process completed with exit code 56.
EOF
run_folder runs/f1 401 dev c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1 failure 31 reset.log
run_folder runs/f2 402 dev c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2 success 32 ok.log
run_folder runs/f3 403 dev c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3 failure 33 reset.log
run import --quiet runs
run triage --json 403
check_has flaky-retry "$OUT" '"category":"network","decision":"retry"'
check_has flaky-not-deterministic "$OUT" '"deterministic":false'

# the state nobody set is "untriaged" (the word "new" says first seen here);
# "new" is still accepted as input
run triage --json 302
check_has state-untriaged "$OUT" '"state":"untriaged"'
fp=$(sed -n 's/.*"fingerprint":"\([0-9a-f]*\)".*/\1/p' "$OUT" | head -n 1)
run triage-state "$fp" acknowledged
check_exit state-ack 0
run triage-state "$fp" untriaged
check_exit state-untriaged-in 0
run triage --json 302
check_has state-untriaged-back "$OUT" '"state":"untriaged"'
run triage-state "$fp" new
check_exit state-new-compat 0
run triage-state "$fp" red
check_exit state-bad 2
check_has state-bad-msg "$ERR" "ciscope: 'red' is not a triage state (untriaged, acknowledged, known-flaky, fixed)"

finish
