#!/bin/sh
# bisect.sh - the commits and bisect views on the demo data set, run inside
# the demo's git checkout (the views read history from the checkout ciscope
# runs in): C from the run list, Enter into the runs of a commit, b on the
# parity regression's first failing run (stored runs find the planted commit
# at once: its subject, author, diff stat, proving runs), a bisection on a
# partly fetched index (the next commit highlighted, marking with + and -
# until the culprit), at 80x24, 200x50 and 30x8.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
python3 "$TOP/tools/demo-gen.py" "$WORK/demo" >gen.out 2>&1 || { fail demo-gen "$(tail -3 gen.out)"; finish; }
"$CISCOPE" --db "$WORK/demo.db" import --quiet "$WORK/demo/runs" >/dev/null 2>&1 || { fail import "import failed"; finish; }
REPO="$WORK/demo/repo"
PARITY=9809254290  # the parity regression's first failing run (f60058c)
PLANTED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["parity_regression"]["introduced_by"])' "$WORK/demo/MANIFEST.json")

# tui in the checkout: ciscope's cwd is the repository, screens come back here
rtui() {
	DB="$1"
	shift
	(cd "$REPO" && WORK="$REPO" tui "$@")
	rc_saved=$?
	mv "$REPO/$1.screen" "$REPO/$1.attrs" "$WORK/" 2>/dev/null
	rm -f "$REPO/$1.keys" "$REPO/$1.raw"
}

for sz in 80x24 200x50 30x8; do
	size "$sz"
	rtui "$WORK/demo.db" "commits-$sz" 'C'
	check_screen "commits-$sz"
	"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
	rtui "$WORK/demo.db" "bisect-first-bad-$sz" ":filter $PARITY
<Enter>b"
	check_screen "bisect-first-bad-$sz"
done
size 80x24
check_attrs commits-80x24
check_title commits-title commits-80x24 'commits · main · bench ci parity'
check_has commits-glyphs commits-80x24.screen 'e190050 · ● ✓'
check_has commits-merge commits-200x50.screen 'merge: Merge pull request #27'
# the parity verdict and the thresholds where the metrics exist: the planted
# parity regression fails its parity verdict, the memory regression's commit
# is over the repository's fail bound (▲, as the runs view marks a breach)
check_has commits-parity-fail commits-200x50.screen 'f60058c · ✓ ✗ ✗ ✓'
check_has commits-threshold-fail commits-200x50.screen '535b441 ✓ ✓ ✓ ✓ ▲'
check_title commits-title-metrics commits-80x24 '+ parity-verdict thresholds'
check_title bisect-title bisect-first-bad-80x24 'bisect workflow:parity · main · finished'
check_has bisect-culprit bisect-first-bad-200x50.screen "first bad commit $PLANTED"
check_has bisect-diffstat bisect-first-bad-200x50.screen 'file changed'
check_has bisect-proved bisect-first-bad-200x50.screen "proved by run $PARITY"

# d in the finished bisection: the first bad commit's run against the good
# side's run, in the diff view; Enter on a commit with one evidence run
# (two attempts of it) opens that run
"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
rtui "$WORK/demo.db" bisect-diff ":filter $PARITY
<Enter>bd"
check_title bisect-diff-title bisect-diff "diff · run $PARITY vs"
check_has bisect-diff-run bisect-diff.screen "run: run $PARITY:2 · parity · main · $(echo "$PLANTED" | cut -c1-7)"
check_has bisect-diff-base bisect-diff.screen "named on the command line"
rtui "$WORK/demo.db" bisect-enter-run ':bisect
<Enter>'
check_title bisect-enter-run-title bisect-enter-run "$PARITY"
check_has bisect-enter-run-view bisect-enter-run.screen "[run]"
# b from the diff view bisects the diff's divergence: the failing job at
# the cursor (the diff opens on its first new line); from the summary row,
# the parity workflow (the run's parity verdict fails); both land on the
# planted commit
"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
rtui "$WORK/demo.db" bisect-from-diff ":diff $PARITY
b"
check_title bisect-from-diff-title bisect-from-diff 'bisect job:parity/parity'
check_has bisect-from-diff-culprit bisect-from-diff.screen "first bad commit $PLANTED"
"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
rtui "$WORK/demo.db" bisect-from-diff-top ":diff $PARITY
gb"
check_title bisect-from-diff-top-title bisect-from-diff-top 'bisect parity:parity'
check_has bisect-from-diff-top-culprit bisect-from-diff-top.screen "first bad commit $PLANTED"

# b on a failing test in the diff view: that test (the planted Jest
# failure); Z folds every section, z opens the tests again, j onto the test
JEST_AT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["jest_failure"]["introduced_by"])' "$WORK/demo/MANIFEST.json")
"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
rtui "$WORK/demo.db" bisect-from-test ':diff 9805922920
Zgjjjjjzjb'
check_title bisect-from-test-title bisect-from-test 'bisect test:integrator.conserves energy'
check_has bisect-from-test-culprit bisect-from-test.screen "first bad commit $JEST_AT"

# b on a triage finding: its fingerprint, from its run (the planted OOM kill)
OOM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["oom_kill"]["introduced_by"])' "$WORK/demo/MANIFEST.json")
"$CISCOPE" --db "$WORK/demo.db" bisect reset >/dev/null 2>&1
rtui "$WORK/demo.db" bisect-from-triage 'Tjjb'
check_title bisect-from-triage-title bisect-from-triage 'bisect finding:'
check_has bisect-from-triage-culprit bisect-from-triage.screen "first bad commit $OOM"

# Enter on a commit: the run list filtered to its sha
rtui "$WORK/demo.db" commits-enter 'C<Enter>'
check_has commits-enter-filter commits-enter.screen 'e190050'
check_status commits-enter-status commits-enter 'match'

# a partly fetched index: the first failing parity run and the oldest one
oldest=$(python3 - "$WORK/demo/runs" <<'EOP'
import json, os, sys
best = None
for d in os.listdir(sys.argv[1]):
    r = json.load(open(os.path.join(sys.argv[1], d, "run.json")))
    if r["name"] == "parity" and r["head_branch"] == "main" and (best is None or r["created_at"] < best[0]):
        best = (r["created_at"], d)
print(best[1])
EOP
)
"$CISCOPE" --db "$WORK/partial.db" import --quiet "$WORK/demo/runs/$PARITY" "$WORK/demo/runs/$oldest" >/dev/null 2>&1
(cd "$REPO" && "$CISCOPE" --db "$WORK/partial.db" bisect start --workflow parity --bad "$PARITY" >/dev/null 2>&1)
for sz in 80x24 200x50 30x8; do
	size "$sz"
	rtui "$WORK/partial.db" "bisect-next-$sz" ':bisect'
	check_screen "bisect-next-$sz"
done
size 80x24
check_attrs bisect-next-80x24
check_status bisect-next-status bisect-next-80x24 'suspects'
# mark the proposed commit bad with -: the range shrinks, the log has it
rtui "$WORK/partial.db" bisect-marked ':bisect
-'
check_screen bisect-marked
run bisect log
DB="$WORK/partial.db" run bisect log
check_has bisect-marked-log "$OUT" '# manual'
# x: bisect run from the view, in the background: a script standing in for
# the test (bad once the planted commit is in the checked-out history) on
# each next commit until the first bad one, the view reloading as verdicts
# land; the log has each verdict with the command
cat >"$WORK/oracle.sh" <<'EOS'
#!/bin/sh
if git merge-base --is-ancestor "$PLANTED" HEAD; then exit 1; fi
exit 0
EOS
"$CISCOPE" --db "$WORK/partial.db" bisect reset >/dev/null 2>&1
(cd "$REPO" && "$CISCOPE" --db "$WORK/partial.db" bisect start --workflow parity --bad "$PARITY" >/dev/null 2>&1)
rtui "$WORK/partial.db" bisect-run ":bisect
xPLANTED=$PLANTED sh $WORK/oracle.sh<Enter>"
check_has bisect-run-culprit bisect-run.screen "first bad commit $PLANTED"
check_status bisect-run-status bisect-run "bisect run: $(echo "$PLANTED" | cut -c1-12) is the first bad commit"
DB="$WORK/partial.db" run bisect log
check_has bisect-run-log "$OUT" "# bisect run: "
# the user's checkout is left alone: no worktree of the run remains
(cd "$REPO" && git worktree list) >wt.txt
check_eq bisect-run-worktrees "$(wc -l <wt.txt | tr -d ' ')" 1
# x when the bisection is finished: nothing to test
rtui "$WORK/partial.db" bisect-run-done ":bisect
x"
check_status bisect-run-done-status bisect-run-done "nothing to test"
finish
