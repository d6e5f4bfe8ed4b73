#!/bin/sh
# bisect-demo.sh - the demo's planted regressions, bisected from the first
# run that shows each: stored runs first, then `bisect run` with a script
# standing in for the test (it says bad when the planted commit is in the
# checked-out history) for the commits without runs; each lands on the
# planted commit (MANIFEST.json "introduced_by"). The flaky network failure
# is reported as flaky, not bisected. Also `commits` on the demo repository.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
python3 "$TOP/tools/demo-gen.py" demo >gen.out 2>&1 || { fail demo-gen "$(tail -3 gen.out)"; finish; }
run import --quiet demo/runs
check_exit import 0
REPO=$PWD/demo/repo
M=demo/MANIFEST.json

# the oracle for commits without runs: bad once the planted commit is in
cat >oracle.sh <<'EOS'
#!/bin/sh
if git merge-base --is-ancestor "$PLANTED" HEAD; then exit 1; fi
exit 0
EOS

# key workflow job first-run introduced_by (one line each)
python3 - "$M" >planted.txt <<'EOP'
import json, subprocess, sys
m = json.load(open(sys.argv[1]))
for key, p in m["planted"].items():
    if not p["shows_in"]:
        continue
    s = p["shows_in"][0]
    print(key, s["job"], s["run_id"], p["introduced_by"])
EOP

while read -r key job runid intro; do
	wf=$("$CISCOPE" --db "$DB" show --json "$runid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["workflow"])')
	"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
	run bisect start --repo "$REPO" --job "$wf/$job" --bad "$runid" --json
	if [ "$key" = flaky_network ]; then
		check_exit "$key-refused" 1
		check_has "$key-flaky" "$ERR" "is flaky"
		continue
	fi
	check_exit "$key-start" 0
	fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
	if [ -z "$fb" ]; then
		PLANTED=$intro run bisect run --repo "$REPO" sh "$PWD/oracle.sh"
		check_exit "$key-run" 0
		echo "$key" >>used-run.txt
		run bisect status --repo "$REPO" --json
		fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
	fi
	check_eq "$key-lands-on-planted" "$fb" "$intro"
done <planted.txt

# stored runs alone decide some; the others needed bisect run
echo "planted regressions that needed bisect run: $(cat used-run.txt 2>/dev/null | tr '\n' ' ')"

# A partly fetched index: per regression only the first failing run and the
# oldest run of its workflow. Stored runs give the range; bisect run (the
# oracle in a worktree of its own) tests every commit in between.
while read -r key job runid intro; do
	[ "$key" = flaky_network ] && continue
	wf=$("$CISCOPE" --db "$DB" show --json "$runid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["workflow"])')
	oldest=$(python3 - "$wf" demo/runs <<'EOP'
import json, os, sys
best = None
for d in os.listdir(sys.argv[2]):
    r = json.load(open(os.path.join(sys.argv[2], d, "run.json")))
    if r["name"] == sys.argv[1] and r["head_branch"] == "main" and (best is None or r["created_at"] < best[0]):
        best = (r["created_at"], d)
print(best[1])
EOP
)
	rm -f partial.db*
	"$CISCOPE" --db partial.db import --quiet "demo/runs/$runid" "demo/runs/$oldest" >/dev/null 2>&1
	"$CISCOPE" --db partial.db bisect start --repo "$REPO" --job "$wf/$job" --bad "$runid" >/dev/null 2>&1
	PLANTED=$intro "$CISCOPE" --db partial.db bisect run --repo "$REPO" sh "$PWD/oracle.sh" >run.out 2>run.err
	check_eq "$key-partial-run-exit" "$?" 0
	"$CISCOPE" --db partial.db bisect status --json >st.json 2>&1
	fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' st.json)
	check_eq "$key-partial-lands-on-planted" "$fb" "$intro"
	n=$(grep -c 'bisect run:.*running' run.err)
	[ "$n" -ge 1 ] && ok "$key-partial-ran-$n-commits" || fail "$key-partial-ran" "bisect run tested nothing"
done <planted.txt

# the memory regression has no failing job: bisect the metric
first_mem=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["memory_regression"]["runs"][0])' "$M")
intro=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["memory_regression"]["introduced_by"])' "$M")
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
run bisect start --repo "$REPO" --metric memory.peak_rss_mb --above 250 --bad "$first_mem" --json
check_exit memory-start 0
fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
if [ -z "$fb" ]; then
	PLANTED=$intro run bisect run --repo "$REPO" sh "$PWD/oracle.sh"
	check_exit memory-run 0
	run bisect status --repo "$REPO" --json
	fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
fi
check_eq memory-lands-on-planted "$fb" "$intro"

# the parity verdict as the target: the demo's resources channel is outside
# the default tolerance on every run, so the repository's file makes it
# informational, as a project would
printf 'channel resources\n  informational\n' >parity.conf
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
parity_run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["parity_regression"]["shows_in"][0]["run_id"])' "$M")
parity_intro=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["parity_regression"]["introduced_by"])' "$M")
CISCOPE_PARITY=$PWD/parity.conf run bisect start --repo "$REPO" --parity parity --bad "$parity_run" --json
check_exit parity-start 0
fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
check_eq parity-lands-on-planted "$fb" "$parity_intro"
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
run bisect start --repo "$REPO" --memory-leak x
check_exit unknown-option 2

# the memory regression again, for the log and replay below
run bisect start --repo "$REPO" --metric memory.peak_rss_mb --above 250 --bad "$first_mem" --json
check_exit memory-again 0

# the log replays to the same culprit
run bisect log
check_exit log 0
cp "$OUT" bisect.log
run bisect replay --repo "$REPO" bisect.log --json
check_exit replay 0
fb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"] or "")' "$OUT")
check_eq replay-same-culprit "$fb" "$intro"

# golden outputs of the finished (replayed) memory bisection
run bisect status --repo "$REPO"
check_exit status-text 0
check_golden bisect-status.txt "$OUT"
run bisect status --repo "$REPO" --json
check_golden bisect-status.json "$OUT"
run bisect log
sed 's/^# ciscope bisect log.*/# ciscope bisect log/' "$OUT" >log.txt
check_golden bisect-log.txt log.txt
run commits --repo "$REPO" --limit 8
check_golden commits.txt "$OUT"
run commits --repo "$REPO" --limit 3 --json
check_golden commits.json "$OUT"
# errors: no bisection active, bad usage, unknown target kind
run bisect good --repo "$REPO"
check_exit good-without-active 4
check_has good-without-active-msg "$ERR" "no bisection is active"
run bisect start --repo "$REPO" --workflow ci --test x
check_exit two-targets 2
run bisect start --repo "$REPO" --metric m
check_exit metric-without-bound 2
run bisect frobnicate
check_exit unknown-subcommand 2

# commits: the demo's main with one verdict per workflow
run commits --repo "$REPO" --limit 5 --json
check_exit commits-json 0
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["branch"] == "main", d["branch"]
assert len(d["commits"]) == 5
assert sorted(d["workflows"]) == d["workflows"]
for c in d["commits"]:
    assert len(c["sha"]) == 40
    for w, v in c["workflows"].items():
        assert v["verdict"] in ("green", "red", "flaky", "running", "other"), v
' "$OUT" && ok commits-json-shape || fail commits-json-shape "$(head -c 300 "$OUT")"
# the parity/threshold state where the metrics exist: the parity
# regression's planted commit fails its parity verdict on the deciding
# channel, the memory regression's commit breaches the repository's fail
# bound (as `check` judges it); a commit without parity runs has none
PAR_AT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"]["parity_regression"]["introduced_by"])' "$M")
MEM_AT=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["planted"]; print([p for k,p in m.items() if "memory" in k][0]["introduced_by"])' "$M")
run commits --repo "$REPO" --limit 60 --json
check_exit commits-judged 0
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
by = {c["sha"]: c for c in d["commits"]}
p = by[sys.argv[2]]["parity"]
assert p and p["verdict"] == "fail" and p["channel"], p
m = by[sys.argv[3]]["thresholds"]
assert m["state"] == "fail" and m["breaches"] >= 1, m
for c in d["commits"]:
    assert c["thresholds"]["state"] in ("none", "pass", "warn", "fail"), c
    if "parity" not in c["workflows"]:
        assert c["parity"] is None, c
' "$OUT" "$PAR_AT" "$MEM_AT" && ok commits-parity-thresholds || fail commits-parity-thresholds "$(head -c 300 "$OUT")"
# without the repository's thresholds (an empty file named instead), no
# bound of the demo applies: the memory commit is no longer over one
echo "# none" >empty-thresholds.conf
CISCOPE_THRESHOLDS=$PWD/empty-thresholds.conf run commits --repo "$REPO" --limit 60 --json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
by = {c["sha"]: c for c in d["commits"]}
assert by[sys.argv[2]]["thresholds"]["state"] != "fail", by[sys.argv[2]]
' "$OUT" "$MEM_AT" && ok commits-thresholds-file || fail commits-thresholds-file "$(head -c 300 "$OUT")"
run commits --repo "$REPO" --last-green --workflow ci
check_exit last-green 0
run commits --repo "$PWD/nowhere" --limit 1
check_exit commits-no-checkout 4
check_has commits-no-checkout-msg "$ERR" "is not in a git checkout"
finish
