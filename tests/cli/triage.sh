#!/bin/sh
# triage.sh - `ciscope triage`, `rules`, `retriage`, `triage-state`: real
# failing logs (CiDiff: a Go build, a Maven build) in run folders, the
# default run, a result that flips without a commit (flaky), triage states
# and who set them, a repository's own rules, bad rules files, errors.
. "$(dirname "$0")/lib.sh"

CIDIFF="$FIXTURES/cidiff/data"

run_folder runs/go 101 main 1111111111111111111111111111111111111111 failure 10 \
	"$CIDIFF/breakages_dump/Quick Checks_/run118/fail.log"
run_folder runs/maven 102 main 2222222222222222222222222222222222222222 failure 20 \
	"$CIDIFF/breakages/astor_1260/fail.log"
printf '2026-10-01T10:00:00.0000000Z ok\n' >ok.log
run_folder runs/green 103 main 3333333333333333333333333333333333333333 success 05 ok.log
run import --quiet runs
check_exit triage-setup 0

# the golden files hold no version (it changes with every rules edit)
unversion() { sed 's/"version":"t[0-9]*\.n[0-9]*\.r[0-9a-f]*"/"version":"V"/' "$1"; }

run triage 101
check_exit triage-text-exit 0
check_golden triage-go.txt "$OUT"
run triage --json 101
check_exit triage-json-exit 0
unversion "$OUT" >go.json
check_golden triage-go.json go.json
run triage 102
check_golden triage-maven.txt "$OUT"
check_has triage-maven-goal "$OUT" "maven-goal-compile"
check_has triage-maven-next "$OUT" "next: fix the code"

# no RUN: the newest failed run of the default branch (main: most pushes)
run triage --json
check_exit triage-default-exit 0
check_has triage-default-run "$OUT" '"id":102,'
check_has triage-default-branch "$OUT" '"default_branch":"main"'
# a run that did not fail has no failed job; --all shows every finding
run triage 103
check_has triage-green "$OUT" "no failed job"
run triage --all --json 101/build
check_has triage-all-shown-false "$OUT" '"shown":false'

# flaky: the same failure, a pass, the same failure again on main
printf '2026-10-01T11:00:00.0000000Z fetching\n2026-10-01T11:00:01.0000000Z curl: (56) Recv failure: Connection reset by peer\n2026-10-01T11:00:01.0000000Z ##[error]Process completed with exit code 56.\n' >reset.log
run_folder runs/f1 201 main aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1 failure 31 reset.log
run_folder runs/f2 202 main aaaaaaa2aaaaaaa2aaaaaaa2aaaaaaa2aaaaaaa2 success 32 ok.log
run_folder runs/f3 203 main aaaaaaa3aaaaaaa3aaaaaaa3aaaaaaa3aaaaaaa3 failure 33 reset.log
run import --quiet runs
run triage --json 203
check_has triage-flaky "$OUT" '"flaky":true'
check_has triage-flaky-evidence "$OUT" '"kind":"flip"'
check_has triage-flaky-network "$OUT" '"category":"network","decision":"retry"'
check_has triage-flaky-seen "$OUT" '"first_seen":{"run":201,"attempt":1,"sha":"aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1aaaaaaa1"'
check_has triage-flaky-occurrences "$OUT" '"occurrences":2,"commits":2'
check_has triage-not-new "$OUT" '"new":false'
run triage 203
check_golden triage-flaky.txt "$OUT"
fp=$(grep -o 'fingerprint [0-9a-f]*' "$OUT" | head -n 1 | cut -d' ' -f2)

# triage states: a prefix will do; who comes from git config user.name (a
# HOME of our own: never the real one's .gitconfig)
HOME="$PWD/home"
export HOME
mkdir -p "$HOME"
printf '[user]\n\tname = Tess Ter\n' >"$HOME/.gitconfig"
short=$(echo "$fp" | cut -c1-8)
run triage-state "$short" known-flaky --note "the cache proxy drops connections"
check_exit triage-state-exit 0
sed "s/$fp/FP/" "$OUT" >state.txt
check_golden triage-state.txt state.txt
run triage --json 203
check_has triage-state-shown "$OUT" '"state":"known-flaky","note":"the cache proxy drops connections","state_by":"Tess Ter"'
run triage-state --json "$fp" acknowledged
check_has triage-state-keeps-note "$OUT" '"note":"the cache proxy drops connections"'
run triage-state "$fp" closed
check_exit triage-state-bad-state 2
check_has triage-state-bad-state-msg "$ERR" "'closed' is not a triage state"
run triage-state ffffffffffff0000 fixed
check_exit triage-state-unknown 4
run triage-state zz fixed
check_exit triage-state-not-fp 2

# retriage keeps the states
run retriage --json
check_exit retriage-exit 0
check_has retriage-counts "$OUT" '"runs":4,"jobs":4'
run triage --json 203
check_has retriage-state-kept "$OUT" '"state":"acknowledged"'

# rules
run rules list
check_exit rules-list-exit 0
check_has rules-list-rustc "$OUT" "rustc-error"
check_has rules-list-network "$OUT" "network"
run rules test
check_exit rules-test-exit 0
check_has rules-test-totals "$OUT" "4 failed and 2 successful runs"
check_has rules-test-summary "$OUT" "rules too broad"
run rules test --json
check_has rules-test-json "$OUT" '"failed_runs":4,"successful_runs":2'
printf 'rule everywhere\n\tcategory unknown\n\texplain matches every line\n\tmatch .\n' >broad.conf
run rules test broad.conf
check_has rules-test-broad "$OUT" "too broad"
printf 'rule broken\n\tcategory test\n\texplain x\n\tmatch (unclosed\n' >bad.conf
run rules test bad.conf
check_exit rules-bad-file-exit 1
check_has rules-bad-file-msg "$ERR" "bad.conf:4: rule 'broken': bad regular expression in 'match'"

# a bad rules file given by CISCOPE_RULES stops triage with file:line:rule
CISCOPE_RULES=bad.conf "$CISCOPE" --db "$DB" triage 101 >"$OUT" 2>"$ERR"
rc=$?
check_exit triage-bad-rules-exit 1
check_has triage-bad-rules-msg "$ERR" "bad.conf:4: rule 'broken'"

# a repository's own rules (.ciscope/rules.conf in the checkout) come first,
# and the cached triage is recomputed because the rules changed
mkdir repo
git init -q repo
mkdir repo/.ciscope
printf 'rule our-flaky-proxy\n\tcategory infrastructure\n\texplain our proxy resets connections\n\tmatch Recv failure: Connection reset\n' >repo/.ciscope/rules.conf
(cd repo && "$CISCOPE" --db ../"$DB" triage --json 203) >"$OUT" 2>"$ERR"
check_has repo-rules "$OUT" '"rule":"our-flaky-proxy"'
check_has repo-rules-category "$OUT" '"category":"infrastructure"'

# errors
run triage 999
check_exit triage-unknown-run 4
run triage 101/nope
check_exit triage-unknown-job 4
run triage 1 2
check_exit triage-two-args 2
run rules frobnicate
check_exit rules-bad-sub 2
run retriage extra
check_exit retriage-extra 2

finish
