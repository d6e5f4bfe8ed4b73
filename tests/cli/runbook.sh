#!/bin/sh
# runbook.sh - `ciscope runbook` end to end:
#   1. list, show, help; a bad runbook file names its line;
#   2. dry runs of every bundled runbook on the demo data (tools/demo-gen.py);
#   3. modes: the default (paranoid) refuses without a terminal, and on a
#      terminal (a pseudo-terminal driven by a script) runs, skips, notes;
#      --auto stops at a confirm= step without a terminal;
#   4. hostile values from every source (--var, the index: a branch and a
#      job name, a captured output) run nothing but the intended command;
#   5. kill -9 of ciscope in the middle of a step, then resume: the log shows
#      the interruption; `log ID --json` keeps the contract's names;
#   6. the incident report of a demo incident (golden file);
#   7. the rollback runbook against the test GitHub server: dispatch + watch.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
SERVER="$TOP/tests/server/ghserver.py"
export USER=on-call
unset GITHUB_API_URL GH_TOKEN GITHUB_TOKEN CISCOPE_CACHE XDG_CACHE_HOME
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
export PYTHONDONTWRITEBYTECODE=1
SERVERS=
KIDS=
trap 'for p in $SERVERS $KIDS; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
trap 'exit 2' INT TERM HUP PIPE

# ptyrun.py OUT CMD...: run CMD on a pseudo-terminal; answer each prompt in
# $ANSWERS (";"-separated "regex=>answer" pairs, in order) when it appears.
cat >ptyrun.py <<'EOF'
import os, pty, re, select, sys, time
out = sys.argv[1]
answers = [a.split("=>", 1) for a in os.environ.get("ANSWERS", "").split(";") if a]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b""
seen = 0
deadline = time.time() + 90
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        buf += data
    while answers and re.search(answers[0][0].encode(), buf[seen:]):
        m = re.search(answers[0][0].encode(), buf[seen:])
        seen += m.end()
        os.write(fd, answers[0][1].encode() + b"\n")
        answers.pop(0)
if answers or time.time() >= deadline:
    os.kill(pid, 9)  # a prompt never came, or came again: do not hang
_, st = os.waitpid(pid, 0)
open(out, "wb").write(buf.replace(b"\r\n", b"\n"))
sys.exit(os.waitstatus_to_exitcode(st) if hasattr(os, "waitstatus_to_exitcode") else st >> 8)
EOF
cat >h.py <<'EOF'
import json, sqlite3, sys
cmd = sys.argv[1]
if cmd == "sql":
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
    for row in db.execute(sys.argv[3]):
        print("|".join("" if v is None else str(v) for v in row))
elif cmd == "api":
    print(json.load(open(sys.argv[2]))["api"])
elif cmd == "logjson":   # FILE: the contract's names, then the kinds
    d = json.load(open(sys.argv[2]))
    top = ["id", "runbook", "hash", "started_at", "by", "bound", "state", "events"]
    ev = ["at", "kind", "step", "command", "exit", "duration_ms", "output", "vars"]
    missing = [k for k in top if k not in d] + [k for k in ("run", "sha") if k not in d["bound"]]
    missing += ["events[].%s" % k for e in d["events"] for k in ev if k not in e]
    print("missing:" + ",".join(sorted(set(missing))))
    print("kinds:" + ",".join(e["kind"] + ("" if e["step"] is None else str(e["step"])) for e in d["events"]))
    print("state:" + d["state"])
elif cmd == "dispatches":   # LOG SHA: POSTs to a dispatches URL whose body names SHA
    n = 0
    for l in open(sys.argv[2]):
        e = json.loads(l)
        if e["method"] == "POST" and e["path"].endswith("/dispatches") and sys.argv[3] in (e.get("body") or ""):
            n += 1
    print(n)
elif cmd == "evil":      # RUN_JSON: a branch name from a stranger
    r = json.load(open(sys.argv[2]))
    r["head_branch"] = "x$(touch PWNED)`touch PWNED`';touch PWNED;'\n-rf"
    r["id"] = 719643949
    json.dump(r, open(sys.argv[2], "w"))
EOF
h() { python3 "$WORK/h.py" "$@"; }
tty_run() { # OUT ARGS...: ciscope ARGS on a pseudo-terminal (index: $TTYDB, else $DB)
	o=$1
	shift
	python3 "$WORK/ptyrun.py" "$o" "$CISCOPE" --db "${TTYDB:-$DB}" "$@"
	rc=$?
}

# --- 1. list, show, help, bad files -----------------------------------------------------------
run runbook list
check_exit list-exit 0
check_golden runbook-list.txt "$OUT"
run runbook list --json
check_has list-json "$OUT" '{"name":"rollback","title":"Emergency rollback","path":"builtin:rollback","builtin":true'
run runbook show rollback
check_exit show-exit 0
check_golden runbook-show-rollback.txt "$OUT"
run runbook show hotfix --json
check_has show-json "$OUT" '"name":"monitor"'
run runbook --help
check_exit help-exit 0
check_has help-usage "$OUT" "usage: ciscope runbook list [--json]"
run runbook frobnicate
check_exit unknown-sub-exit 2
run runbook show nope
check_exit show-missing-exit 4
check_has show-missing-message "$ERR" "no runbook named 'nope' (ciscope runbook list)"
printf '## One\n```sh {name=x tmeout=3}\necho\n```\n' >bad.md
run runbook run bad.md --dry-run
check_exit bad-file-exit 1
check_has bad-file-line "$ERR" "ciscope: bad.md:2: unknown attribute 'tmeout'"
printf '## One\n```sh\necho "{{failing_branch}}"\n```\n' >quoted.md
run runbook show quoted.md
check_has bad-placeholder-line "$ERR" "quoted.md:3: {{failing_branch}} inside double quotes"
# a repository's own runbooks
mkdir -p repo/.ciscope/runbooks
git -C repo init -q 2>/dev/null
printf '# Ours\n## Say\n```sh\necho ours\n```\n' >repo/.ciscope/runbooks/ours.md
(cd repo && "$CISCOPE" runbook list >"$OUT" 2>"$ERR")
check_has list-repo "$OUT" "ours                  repo        Ours"

# --- 2. dry runs on the demo data ---------------------------------------------------------------------
python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err || fail demo-gen "$(tail -n 3 demo.err)"
DEMO=demo.db
"$CISCOPE" --db "$DEMO" import --quiet demo/runs 2>import.err || fail demo-import "$(tail -n 3 import.err)"
dry() { # NAME ARGS...
	n=$1
	shift
	"$CISCOPE" --db "$DEMO" runbook run "$n" --dry-run "$@" >"$OUT" 2>"$ERR"
	rc=$?
}
dry rollback --var health_url=https://status.example.com/healthz
check_exit dry-rollback-exit 0
check_golden runbook-dry-rollback.txt "$OUT"
dry investigate-failure --var 'repro=npm ci && npm test'
check_exit dry-investigate-exit 0
check_has dry-investigate-diff "$OUT" "would run\$ ciscope diff '"
dry parity-investigation
check_exit dry-parity-exit 0
check_has dry-parity-bisect "$OUT" "would run\$ ciscope bisect start --parity '"
dry hotfix --var prod_tag=v1.4.2 --var health_url=https://status.example.com/healthz
check_exit dry-hotfix-exit 0
check_has dry-hotfix-branch "$OUT" "would run\$ git switch --create 'hotfix/urgent' -- 'v1.4.2'"
dry rollback
check_exit dry-missing-var-exit 1
check_has dry-missing-var "$OUT" "would stop: step 1 (outage): {{health_url}} has no value: give it with --var health_url=VALUE"
# bound to a run
BOUND=$(h sql "$DEMO" "SELECT provider_id FROM runs WHERE workflow_name = 'parity' AND conclusion = 'failure' ORDER BY created_at DESC LIMIT 1")
dry parity-investigation --bind "$BOUND"
check_has dry-parity-bound "$OUT" "would run\$ ciscope parity '$BOUND'"
dry rollback --bind 1 --var health_url=x
check_exit dry-bind-missing-exit 4
check_has dry-bind-missing "$ERR" "--bind 1"
# a dry run records nothing
check_eq dry-records-nothing "$(h sql "$DEMO" 'SELECT count(*) FROM runbook_instances')" 0

# --- 3. modes ------------------------------------------------------------------------------------------
cat >modes.md <<'EOF'
---
title: Modes
---
## First
```sh
echo first ran
```
## Second
```sh {name=second}
echo second ran
```
## By hand
Restart the thing.
## Confirmed
```sh {name=confirmed confirm="Really?"}
echo confirmed ran
```
EOF
run runbook run modes.md </dev/null
check_exit paranoid-no-tty-exit 2
check_has paranoid-no-tty-message "$ERR" "the default mode asks before every step and needs a terminal"
check_eq paranoid-no-tty-records-nothing "$(h sql "$DB" 'SELECT count(*) FROM runbook_instances' 2>/dev/null || echo 0)" 0
run runbook run modes.md --auto </dev/null
check_exit auto-no-tty-stops-exit 1
check_has auto-ran-first "$OUT" "first ran"
check_has auto-stops-at-manual "$OUT" "step 3 is manual: it needs someone at a terminal"
ANSWERS='\[e\]dit=>r;\[e\]dit=>n;note: =>checked the dashboard;\[e\]dit=>s;\[d\]one=>d;\[e\]dit=>r' \
	tty_run tty.out runbook run modes.md
check_exit paranoid-tty-exit 0
check_has paranoid-tty-ran "tty.out" "first ran"
check_has paranoid-tty-finished "tty.out" "finished: ciscope runbook report"
ID=$(h sql "$DB" 'SELECT max(id) FROM runbook_instances')
"$CISCOPE" --db "$DB" runbook log "$ID" --json >log.json
check_eq paranoid-tty-events "$(h logjson log.json | sed -n 2p)" \
	"kinds:started,step-start1,step-end1,note,skip2,step-end3,step-start4,step-end4,finished"
check_eq paranoid-tty-state "$(h logjson log.json | sed -n 3p)" "state:finished"
ANSWERS='\[d\]one=>d;Really\? \[y/N\]=>n' tty_run tty2.out runbook resume 1 --auto
check_has auto-confirm-asked "tty2.out" "Really? [y/N]"
run runbook log 1
check_has auto-not-confirmed "$OUT" "stopped: step 4 not confirmed"
run runbook note 2 "called the owner"
check_exit note-exit 0
run runbook note 999 "x"
check_exit note-missing-exit 4

# --- 4. hostile values ---------------------------------------------------------------------------------
make_run_folders
h evil runs/hub4j-failed/run.json
"$CISCOPE" --db evil.db import --quiet runs/hub4j runs/hub4j-failed 2>/dev/null
cat >evil.md <<'EOF'
## From the index
```sh
printf '<%s>\n' {{failing_branch}} {{failing_job}}
```
## Captured
```sh {name=cap capture="(?s)VALUE=(.*)END"}
printf 'VALUE=$(touch PWNED)`touch PWNED`\n;touch PWNED END'
```
## Use them
```sh
printf '[%s]\n' {{cap}} {{opt}}
```
EOF
"$CISCOPE" --db evil.db runbook run evil.md --auto --bind 719643949 --var 'opt=$(touch PWNED); touch PWNED' \
	>"$OUT" 2>"$ERR" </dev/null
rc=$?
check_exit hostile-exit 0
check_has hostile-branch-verbatim "$OUT" "<x\$(touch PWNED)\`touch PWNED\`';touch PWNED;'"
check_has hostile-job-verbatim "$OUT" "<job1>"
check_has hostile-capture-verbatim "$OUT" "[\$(touch PWNED)\`touch PWNED\`"
check_has hostile-option-verbatim "$OUT" "[\$(touch PWNED); touch PWNED]"
if [ -e PWNED ]; then fail hostile-nothing-else-ran "a PWNED file appeared"; else ok hostile-nothing-else-ran; fi
check_has hostile-shown-quoted "$OUT" "\$ printf '<%s>\\n' 'x\$(touch PWNED)"

# output and titles from strangers reach the terminal sanitised
printf '# \033]0;title\007Evil\n## Step \033[2J\n```sh\nprintf '"'"'\\033]0;pwned\\007 \\033[31mred\\033[0m\\n'"'"'\n```\n' >esc.md
"$CISCOPE" --db esc.db runbook run esc.md --auto </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit escapes-exit 0
if grep -q "$(printf '\033')" "$OUT"; then fail escapes-sanitised "an escape byte reached the terminal"; else ok escapes-sanitised; fi
check_has escapes-text-kept "$OUT" "red"
"$CISCOPE" --db esc.db runbook log 1 >"$OUT"
if grep -q "$(printf '\033')" "$OUT"; then fail escapes-log-sanitised "an escape byte in the log"; else ok escapes-log-sanitised; fi

# --- 5. kill -9 mid-step, resume -------------------------------------------------------------------------
cat >slow.md <<'EOF'
## One
```sh
echo one
```
## Slow
```sh {name=slow}
echo slow started; touch slow.started; sleep 30; echo never
```
## Three
```sh
echo three
```
EOF
"$CISCOPE" --db k.db runbook run slow.md --auto </dev/null >k.out 2>&1 &
pid=$!
KIDS="$KIDS $pid"
i=0
while [ ! -e slow.started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$pid"
wait "$pid" 2>/dev/null
"$CISCOPE" --db k.db runbook log >"$OUT"
check_has killed-state-interrupted "$OUT" "     1  interrupted  slow"
# the step's processes outlived ciscope: --auto does not run it twice
"$CISCOPE" --db k.db runbook resume 1 --auto </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit orphan-refused-exit 1
check_has orphan-warned "$OUT" "are still running: let them finish or stop them (kill -- -"
check_has orphan-refused "$ERR" "not resumed with --auto while step 2 still runs"
PG=$(sed -n 's/.*(kill -- -\([0-9]*\)).*/\1/p' "$OUT" | head -n 1)
[ -n "$PG" ] && kill -- "-$PG" 2>/dev/null
sleep 0.2
sed -i 's/sleep 30; //' slow.md
"$CISCOPE" --db k.db runbook resume 1 --auto </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit resume-exit 0
check_has resume-at-step "$OUT" "resuming slow at step 2 of 3"
check_has resume-edit-inside-ok "$OUT" "edited inside its steps"
"$CISCOPE" --db k.db runbook log 1 --json >k.json
check_eq resume-json-names "$(h logjson k.json | sed -n 1p)" "missing:"
check_eq resume-json-kinds "$(h logjson k.json | sed -n 2p)" \
	"kinds:started,step-start1,step-end1,step-start2,interrupted2,resumed,stopped,resumed,step-start2,step-end2,step-start3,step-end3,finished"
"$CISCOPE" --db k.db runbook resume 1 --auto </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit resume-finished-exit 1
check_has resume-finished-message "$ERR" "runbook 1 is finished: nothing to resume"
# renumbering steps: said, and refused without a terminal
sed 's/echo three/false/' slow.md >slow2.md && mv slow2.md slow.md
"$CISCOPE" --db k.db runbook run slow.md --auto </dev/null >/dev/null 2>&1
printf '## Zero\n```sh\necho zero\n```\n' | cat - slow.md >slow2.md && mv slow2.md slow.md
"$CISCOPE" --db k.db runbook resume 2 --auto </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_has renumbered-said "$OUT" "the runbook's steps changed since runbook 2 started"
check_has renumbered-refused "$ERR" "not resumed (--yes-to-changes resumes anyway)"

# --- 6. the incident report of a demo incident ---------------------------------------------------------------
cat >incident.md <<'EOF'
---
title: Demo incident
variables:
  workflows:
    description: what must be green
    default: ci
report: Impact, Root cause, Action items
---
## Confirm
```sh {name=confirm}
echo failing run {{failing_run}} on {{default_branch}} at {{failing_sha}}
```
## Last good
```sh {name=good capture="good=(\w+)"}
echo good={{last_green_sha}}
```
## Triage
```sh {name=why}
printf '%s\n' {{triage_summary}}
```
## Secret
```sh {name=token sensitive=true capture="tok=(\S+)"}
echo tok=ghp_$(printf 'abcdefghij%.0s' 1 2 3)
```
## Health
```sh {name=health retry=2 interval=10ms}
test -f healthy || { touch healthy; echo 'not yet: Bearer abcdefghijklmnop'; exit 1; }
echo 'healthy ``` fenced'
```
EOF
BAD_RUN=$(h sql "$DEMO" "SELECT provider_id FROM runs WHERE workflow_name = 'ci' AND head_branch = 'main' AND conclusion = 'failure' ORDER BY created_at DESC LIMIT 1")
rm -f healthy
# a sensitive step always asks, even with --auto: on a terminal
ANSWERS='sensitive. Run it\? \[y/N\]=>y' TTYDB=$DEMO tty_run incident.out runbook run incident.md --auto \
	--bind "$BAD_RUN"
check_exit incident-exit 0
"$CISCOPE" --db "$DEMO" runbook note 1 "rolled back by hand; <b>not</b> markup" >/dev/null
"$CISCOPE" --db "$DEMO" runbook report 1 --format md |
	sed -E 's/, (<1s|[0-9]+s|[0-9]+m [0-9]+s)( \(|$)/\2/; s/(version )[0-9a-f]{16}/\1HASH/' >report.md
check_golden runbook-report.md report.md
if grep -q 'ghp_abc' report.md; then fail report-no-token "a token reached the report"; else ok report-no-token; fi
check_has report-bearer-redacted report.md "not yet: Bearer ***"
run runbook report 1 --format html
check_exit report-bad-format 2

# --- 7. rollback against the test GitHub server: dispatch + watch ---------------------------------------------
TOKEN=tok-ciscope-runbook-7f1e
export GH_TOKEN=$TOKEN
mkdir -p bin
printf '#!/bin/sh\nexit 1\n' >bin/gh
chmod +x bin/gh
PATH="$WORK/bin:$PATH"
rm -f srv.ready
python3 "$SERVER" --ready srv.ready --log srv.log --token "$TOKEN" --runs demo/runs 2>srv.err &
SERVERS="$SERVERS $!"
i=0
while [ ! -s srv.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s srv.ready ]; then
	fail rollback-server "the test server did not start: $(tail -n 3 srv.err)"
else
	export GITHUB_API_URL=$(h api srv.ready)
	echo ok >health
	rm -f health
	# the outage: the health file is missing; healthy again once it exists
	# --auto asks only at the confirm= step; the health check passes after
	# the deploy because the watch step's fetch ran by then
	cat >mkhealth.sh <<'EOF'
while [ ! -e .ciscope-deploy-run.json ]; do sleep 0.1; done
echo ok >health
EOF
	sh mkhealth.sh &
	KIDS="$KIDS $!"
	ANSWERS='production\? \[y/N\]=>y;\[d\]one=>d' TTYDB=$DEMO tty_run rollback.out runbook run rollback --auto \
		--var "health_url=file://$WORK/health" --var deploy_workflow=parity.yml --var deploy_name=parity \
		--var workflows=ci
	check_exit rollback-e2e-exit 0
	check_has rollback-e2e-outage "rollback.out" "unhealthy: outage confirmed"
	check_has rollback-e2e-dispatched "rollback.out" "workflow 'parity.yml' dispatched on 'main'"
	check_has rollback-e2e-finished "rollback.out" "finished: ciscope runbook report"
	GOOD=$(grep -o 'last known good: [0-9a-f]*' rollback.out | head -n 1 | cut -d' ' -f4)
	check_eq rollback-e2e-dispatch-body "$(h dispatches srv.log "$GOOD")" 1
	check_has rollback-e2e-watched "srv.log" "/actions/runs"
	ID=$(h sql "$DEMO" 'SELECT max(id) FROM runbook_instances')
	"$CISCOPE" --db "$DEMO" runbook log "$ID" >"$OUT"
	check_has rollback-e2e-log-dispatch "$OUT" "step 4 dispatch step-end ok exit 0"
	check_has rollback-e2e-log-watch "$OUT" "step 5 watch step-end ok exit 0"
	test -s "incident-$ID.md" && ok rollback-e2e-report || fail rollback-e2e-report "no incident-$ID.md"
fi
finish
