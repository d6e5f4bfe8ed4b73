#!/bin/sh
# fetch.sh - GitHub from the terminal UI against the fixture server
# (tests/server/ghserver.py) on 127.0.0.1, 127.0.0.2 standing for the blob
# host. Only loopback addresses, ever: GITHUB_API_URL points the UI at the
# server, gh is a fake that knows no token.
#
#   1. r on an empty index: the repository from the origin remote (none,
#      then a checkout's), the runs imported in the background, the runs
#      view showing them, the requests the CLI makes for the same runs;
#   2. r again: all 304s; a 500 then success (retried); a 502 that stays and
#      a 401 (errors in the status bar);
#   3. a run that completes and a new run: r keeps the cursor on its run and
#      changes the status in place;
#   4. X and D: the confirmation shows exactly what will be sent (golden
#      screens), nothing is sent without y, the POST with it;
#   5. on a real terminal (tmux): the progress in the status bar, keys that
#      work while it fetches, Esc stopping it (the runs so far kept, the
#      next r completing it), and unfinished runs refreshed on a timer.
# Scripted runs wait until the background work is idle before each key, so
# no sleeps: only the tmux part polls the screen (tmux_wait).
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
SERVER="$TOP/tests/server/ghserver.py"
SLUG=tidewater/orrery
TOKEN=tok-ciscope-tui-3d1f7a20c8
export GH_TOKEN=$TOKEN
unset GITHUB_TOKEN GITHUB_API_URL XDG_CACHE_HOME CISCOPE_TEST_REFRESH_MS
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
export CISCOPE_TEST_MIN_WAIT_MS=200
export PYTHONDONTWRITEBYTECODE=1
export CISCOPE_CACHE="$WORK/cache"
# libgit2 1.5 leaks pcre2 match data in git_remote_lookup (the origin
# remote of a checkout, in section 1): not ours, so suppressed there, with
# whole stacks so that the suppression sees libgit2 (and nothing else)
printf 'leak:libgit2.so\n' >lsan.supp
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$WORK/lsan.supp"
mkdir -p bin
printf '#!/bin/sh\nexit 1\n' >bin/gh
chmod +x bin/gh
PATH="$WORK/bin:$PATH"

SERVERS=
cleanup() {
	for p in $SERVERS; do kill "$p" 2>/dev/null; done
	[ -n "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP PIPE

cat >h.py <<'EOF'
import json, os, shutil, sqlite3, sys, urllib.request

def entries(log, start=0):
    with open(log) as f:
        return [json.loads(l) for i, l in enumerate(f) if i >= start]

cmd = sys.argv[1]
if cmd == "count":        # LOG FROM PYEXPR
    print(sum(1 for e in entries(sys.argv[2], int(sys.argv[3])) if eval(sys.argv[4])))
elif cmd == "lines":
    print(len(entries(sys.argv[2])))
elif cmd == "statuses":   # LOG FROM PYEXPR: their statuses, space separated
    print(" ".join(str(e["status"]) for e in entries(sys.argv[2], int(sys.argv[3])) if eval(sys.argv[4])))
elif cmd == "sql":
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
    for row in db.execute(sys.argv[3]):
        print("|".join("" if v is None else str(v) for v in row))
elif cmd == "ctl":        # API PATH JSON
    req = urllib.request.Request(sys.argv[2] + sys.argv[3], data=sys.argv[4].encode(), method="POST")
    urllib.request.urlopen(req).read()
elif cmd == "api":
    print(json.load(open(sys.argv[2]))["api"])
elif cmd == "subset":     # SRC DST: the 6 newest runs (one in progress) and 2 failures
    src, dst = sys.argv[2], sys.argv[3]
    runs = []
    for n in os.listdir(src):
        r = json.load(open(os.path.join(src, n, "run.json")))
        runs.append((r["created_at"], r["id"], r["status"], r["conclusion"], n))
    runs.sort(reverse=True)
    pick = runs[:6] + [x for x in runs if x[3] == "failure"][:2]
    for x in pick:
        shutil.copytree(os.path.join(src, x[4]), os.path.join(dst, x[4]))
elif cmd == "complete":   # DIR ID: the run in progress completes (a failure)
    d = os.path.join(sys.argv[2], sys.argv[3])
    r = json.load(open(os.path.join(d, "run.json")))
    r.update(status="completed", conclusion="failure", updated_at="2026-11-01T09:49:12Z")
    json.dump(r, open(os.path.join(d, "run.json"), "w"))
    j = json.load(open(os.path.join(d, "jobs.json")))
    for job in j["jobs"]:
        if job["status"] != "completed":
            job.update(status="completed", conclusion="failure", completed_at="2026-11-01T09:49:10Z")
            for s in job.get("steps", []):
                if s["status"] != "completed":
                    s.update(status="completed", conclusion="failure", completed_at="2026-11-01T09:49:10Z")
    json.dump(j, open(os.path.join(d, "jobs.json"), "w"))
elif cmd == "newrun":     # DIR FROM NEWID: a copy of run FROM, newer, as run NEWID
    d, old, new = sys.argv[2], sys.argv[3], sys.argv[4]
    shutil.copytree(os.path.join(d, old), os.path.join(d, new))
    r = json.load(open(os.path.join(d, new, "run.json")))
    # a branch name is anybody's text: this one holds an OSC 52 (clipboard)
    r.update(id=int(new), run_number=r["run_number"] + 1000, created_at="2026-11-02T08:00:00Z",
             updated_at="2026-11-02T08:04:00Z", run_started_at="2026-11-02T08:00:05Z",
             head_branch="fix\u001b]52;c;cHduZWQ=\u0007")
    json.dump(r, open(os.path.join(d, new, "run.json"), "w"))
    j = json.load(open(os.path.join(d, new, "jobs.json")))
    for job in j["jobs"]:
        job["run_id"] = int(new)
    json.dump(j, open(os.path.join(d, new, "jobs.json"), "w"))
elif cmd == "cursor":     # SCREEN: the text of the cursor row (the attrs say where)
    scr = open(sys.argv[2] + ".screen", encoding="utf-8").read().split("\n")
    att = open(sys.argv[2] + ".attrs", encoding="utf-8").read().split("\n")
    print(next((scr[i] for i, a in enumerate(att[1:-1], 1) if a.startswith("C")), ""))
EOF
h() { python3 "$WORK/h.py" "$@"; }

# the API origin changes with every run: out of the golden screens
unport() {
	sed "s|$API|http://API|g" "$1.screen" >"$1.tmp" && mv "$1.tmp" "$1.screen"
}

# --- 1. r on an empty index --------------------------------------------------------------------
python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err || fail demo-gen "$(tail -n 3 demo.err)"
mkdir served empty
h subset demo/runs served
N_RUNS=$(ls served | wc -l | tr -d ' ')
RUNNING=$(python3 -c "
import json, os
for n in os.listdir('served'):
    if json.load(open('served/%s/run.json' % n))['status'] != 'completed': print(n)")
start_server s --runs served
GITHUB_API_URL=$API
export GITHUB_API_URL
DB="$WORK/t.db"
"$CISCOPE" --db "$DB" import empty >/dev/null 2>&1
size 100x16

# outside a checkout, an empty index names no repository
tui no-repo 'r'
check_exit no-repo-exit 0
check_status no-repo-message no-repo "no repository named and no GitHub 'origin' remote here"
check_eq no-repo-error-role "$(tail -n 1 no-repo.attrs | cut -c 2-4)" EEE
check_eq no-repo-nothing-asked "$(h lines s.log)" 0

# a checkout of the repository: its origin remote says which
git init -q . && git remote add origin https://github.com/tidewater/orrery.git
asan=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
tui first 'r'
ASAN_OPTIONS=$asan
check_exit first-exit 0
sed '$d' first.screen >first-rows.screen
check_golden fetch-first-rows.screen first-rows.screen
check_status first-message first "fetched $N_RUNS runs of tidewater/orrery (10 attempts: 10 new, 0 updated, 0 unchanged)"
check_eq first-runs "$(h sql "$DB" 'SELECT count(DISTINCT provider_id) FROM runs')" "$N_RUNS"
FIRST=$(h lines s.log)
check_eq first-token-at-api "$(h count s.log 0 'e["host"] == "api" and e["auth_ok"] is not True')" 0
check_eq first-no-token-at-blob "$(h count s.log 0 'e["host"] == "blob" and e["auth"]')" 0
# the same requests as the CLI's fetch of the same runs
"$CISCOPE" --db cli.db fetch --cache-dir cli-cache --quiet "$SLUG" >"$OUT" 2>"$ERR"
check_eq first-requests-as-cli "$FIRST" "$(($(h lines s.log) - FIRST))"
check_eq first-same-runs "$(h sql "$DB" 'SELECT provider_id, attempt, status, conclusion FROM runs ORDER BY 1, 2' | tr '\n' ' ')" \
	"$(h sql cli.db 'SELECT provider_id, attempt, status, conclusion FROM runs ORDER BY 1, 2' | tr '\n' ' ')"
check_eq first-same-logs "$(h sql "$DB" "SELECT count(*) FROM jobs WHERE log_state = 'stored'")" \
	"$(h sql cli.db "SELECT count(*) FROM jobs WHERE log_state = 'stored'")"

# --- 2. again: 304s; faults ------------------------------------------------------------------------
n0=$(h lines s.log)
tui again 'r'
check_status again-message again "tidewater/orrery is up to date: 2 requests (2 not modified)"
check_eq again-all-304 "$(h statuses s.log "$n0" 'e["inm"]')" "304 304"

# a 500, then the answer: retried
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "status", "status": 500}'
n0=$(h lines s.log)
tui retried 'r'
check_eq retried-500-then-304 "$(h statuses s.log "$n0" '"/actions/runs?" in e["path"]')" "500 304"
check_status retried-message retried "tidewater/orrery is up to date"
# a 502 that stays: the error in the status bar, the index as it was
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "status", "status": 502, "count": -1}'
tui failing 'r'
check_status failing-message failing "the runs of tidewater/orrery: HTTP 502"
check_eq failing-error-role "$(tail -n 1 failing.attrs | cut -c 2-4)" EEE
check_eq failing-index-kept "$(h sql "$DB" 'SELECT count(DISTINCT provider_id) FROM runs')" "$N_RUNS"
h ctl "$API" /_ctl/reset '{}'
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "unauthorized"}'
tui unauthorized 'r'
check_status unauthorized-message unauthorized "the token is invalid or expired; set GH_TOKEN or run gh auth login"
h ctl "$API" /_ctl/reset '{}'

# --- 3. the cursor stays on its run; a status changes in place ------------------------------------------
size 100x14
tui before 'jjj'
CUR=$(h cursor before)
check_status before-row before '[runs] row 4 of 10'
h complete served "$RUNNING"
h newrun served "$RUNNING" 9829999001
h ctl "$API" /_ctl/reload '{}'
tui after 'jjjr'
check_status after-message after 'fetched 2 runs of tidewater/orrery (1 new, 1 updated, 0 unchanged)'
check_eq after-same-run "$(h cursor after)" "$CUR"
sed '$d' after.screen >after-rows.screen
check_golden fetch-after-rows.screen after-rows.screen
check_eq after-completed "$(h sql "$DB" "SELECT status, conclusion FROM runs WHERE provider_id = $RUNNING")" "completed|failure"
tui after-row 'jjj'
check_status after-row after-row '[runs] row 4 of 11 '
check_status after-counts after-row '0 in progress'

# --- 4. X and D: shown, then sent only after y --------------------------------------------------------------
size 100x16
FAILED=$(h sql "$DB" "SELECT provider_id FROM runs WHERE conclusion = 'failure' AND attempt = 1 AND provider_id != $RUNNING AND provider_id < 9829999000 ORDER BY created_at DESC LIMIT 1")
posts() { h count s.log 0 'e["method"] == "POST"'; }
tui rerun-ask ":filter $FAILED
X"
unport rerun-ask
check_screen rerun-ask
check_eq rerun-ask-prompt-role "$(tail -n 1 rerun-ask.attrs | cut -c 1-3)" ppp
check_eq rerun-ask-nothing-sent "$(posts)" 0
tui rerun-no ":filter $FAILED
Xn"
check_status rerun-no-message rerun-no "not sent"
tui rerun-esc ":filter $FAILED
X<Esc>"
check_status rerun-esc-message rerun-esc "not sent"
check_eq rerun-no-nothing-sent "$(posts)" 0
tui rerun-yes ":filter $FAILED
Xy"
check_status rerun-yes-message rerun-yes "re-run of the failed jobs of run $FAILED requested (HTTP 201)"
check_eq rerun-yes-sent "$(h count s.log 0 "e['method'] == 'POST' and e['path'] == '/repos/tidewater/orrery/actions/runs/$FAILED/rerun-failed-jobs' and e['auth_ok'] and e['body'] == ''")" 1
check_eq rerun-yes-once "$(posts)" 1
# a run that succeeded or still runs is not sent at all
tui rerun-success ':filter status:success
X'
check_status rerun-success-message rerun-success "succeeded: it has no failed jobs to re-run"
check_eq rerun-success-nothing-sent "$(posts)" 1

# D: the selected run's workflow (its file) and branch by default
n0=$(h lines s.log)
tui dispatch-ask ":filter $FAILED
D<Enter><Enter>"
unport dispatch-ask
check_screen dispatch-ask
check_eq dispatch-ask-nothing-sent "$(posts)" 1
tui dispatch-yes ":filter $FAILED
D<Enter><Enter>y"
check_status dispatch-yes-message dispatch-yes "workflow 'ci.yml' dispatched on 'main' (HTTP 204)"
check_eq dispatch-yes-sent "$(h count s.log 0 "e['method'] == 'POST' and e['path'] == '/repos/tidewater/orrery/actions/workflows/ci.yml/dispatches' and e['body'] == '{\"ref\":\"main\"}' and e['auth_ok']")" 1
# typed: a workflow by name (found through the index: no request) and a ref
# with a quote (escaped in the body)
tui dispatch-typed ":filter $FAILED
D<C-u>parity<Enter><C-u>rel/\"q\"<Enter>y"
check_status dispatch-typed-message dispatch-typed "workflow 'parity' dispatched on 'rel/\"q\"' (HTTP 204)"
check_eq dispatch-typed-sent "$(h count s.log 0 "e['method'] == 'POST' and e['path'].endswith('/actions/workflows/parity.yml/dispatches') and e['body'] == '{\"ref\":\"rel/\\\\\"q\\\\\"\"}'")" 1
check_eq dispatch-no-lookups "$(h count s.log "$n0" 'e["method"] == "GET"')" 0
# a hostile branch name reaches the prompt and the dialog shown, not raw
tui dispatch-hostile ':filter 9829999001
D<Enter><Enter>'
check_has dispatch-hostile-shown dispatch-hostile.screen "on 'fix"
check_no_raw dispatch-hostile-raw dispatch-hostile.raw '\033]52'
check_eq dispatch-hostile-nothing-sent "$(posts)" 3
# an empty answer or Esc at a prompt sends nothing
tui dispatch-esc ":filter $FAILED
D<Esc>"
check_status dispatch-esc-message dispatch-esc "not sent"
check_eq dispatch-esc-nothing-sent "$(posts)" 3
# the help lists the new keys
size 100x70
tui help 'h'
check_has help-fetch help.screen 'fetch'
check_has help-rerun help.screen 'rerun-failed'

# --- 5. a real terminal: progress, keys while fetching, Esc; the refresh timer -------------------------------
if ! command -v tmux >/dev/null 2>&1; then
	ok "tmux (skipped: tmux is not installed; make deps installs it)"
else
	wait_for() {
		if tmux_wait "$2"; then ok "$1"; else
			fail "$1" "the pane never showed '$2'; it shows: $(grep . "$WORK/pane.txt" | tail -n 2)"
		fi
	}
	# slow answers, and one run that takes 15 s: Esc comes mid-fetch
	h ctl "$API" /_ctl/latency '{"ms": 100}'
	OLDEST=$(ls served | sort | head -n 1)
	h ctl "$API" /_ctl/faults "{\"path\": \"/actions/runs/$OLDEST/jobs\", \"fault\": \"delay\", \"delay_ms\": 15000}"
	DB="$WORK/tty.db"
	"$CISCOPE" --db "$DB" import empty >/dev/null 2>&1
	rm -rf "$WORK/cache"
	# (the refresh timer off: Esc must leave what it left)
	tmux_start tty 140x14 CISCOPE_TEST_REFRESH_MS=0 --
	trap cleanup EXIT # tmux_start sets its own
	wait_for tty-start '[runs] row 1 of 1'
	# (named: the origin remote's lookup is section 1's)
	tmux_keys : f e t c h Space t i d e w a t e r / o r r e r y Enter
	wait_for tty-progress ' logs · '
	tmux_screen tty-progress.txt
	tail -n 1 tty-progress.txt >tty-status.txt
	check_has tty-progress-runs tty-status.txt 'fetch '
	check_has tty-progress-api tty-status.txt ' API '
	wait_for tty-runs-arrive ' push '
	# keys work while it fetches: the help and back
	tmux_keys h
	wait_for tty-keys-while-fetching 'help: runs'
	tmux_keys q
	wait_for tty-keys-back 'runs · newest first'
	tmux_keys Escape
	wait_for tty-esc-stopped 'fetch of tidewater/orrery stopped'
	tmux_screen tty-stopped.txt
	check_eq tty-esc-integrity "$(h sql "$DB" 'PRAGMA integrity_check')" ok
	got=$(h sql "$DB" 'SELECT count(DISTINCT provider_id) FROM runs')
	all=$(ls served | wc -l | tr -d ' ')
	if [ "$got" -ge 1 ] && [ "$got" -lt "$all" ]; then ok tty-esc-early; else
		fail tty-esc-early "$got of $all runs imported when Esc stopped the fetch"; fi
	check_eq tty-esc-not-the-slow-run "$(h sql "$DB" "SELECT count(*) FROM runs WHERE provider_id = $OLDEST")" 0
	# what was imported is whole: failed runs have their logs (but the run
	# completed above and its copy, whose jobs never had any)
	check_eq tty-esc-whole "$(h sql "$DB" "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id
		WHERE r.conclusion = 'failure' AND j.status = 'completed' AND j.conclusion != 'skipped' AND j.log_state != 'stored'
		AND r.provider_id != $RUNNING AND r.provider_id != 9829999001 AND r.attempt = (SELECT max(attempt) FROM runs r2 WHERE r2.provider_id = r.provider_id)")" 0
	check_eq tty-esc-no-temp "$(find "$WORK/cache/tidewater/orrery/tmp" -type f | wc -l | tr -d ' ')" 0
	h ctl "$API" /_ctl/latency '{"ms": 0}'
	h ctl "$API" /_ctl/reset '{}' # the slow run may not have been asked yet
	tmux_keys r
	wait_for tty-resumed "fetched "
	check_eq tty-resumed-all "$(h sql "$DB" 'SELECT count(DISTINCT provider_id) FROM runs')" "$all"
	tmux_keys Q
	tmux_dead
	check_eq tty-quit "$rc" 0
	tmux_end
	# a run in progress: the timer asks for it again (conditionally: 304s
	# while nothing changes) and its row changes in place when it completes
	NEWEST=$(h sql "$DB" "SELECT provider_id FROM runs WHERE provider_id != 9829999001 ORDER BY created_at DESC, provider_id DESC LIMIT 1")
	cp -r "served/$NEWEST" "served/9829999002"
	python3 - "served/9829999002" <<'EOF'
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/run.json"))
r.update(id=9829999002, run_number=r["run_number"] + 2000, status="in_progress", conclusion=None,
         created_at="2026-11-03T08:00:00Z", updated_at="2026-11-03T08:01:00Z", run_started_at="2026-11-03T08:00:05Z")
json.dump(r, open(d + "/run.json", "w"))
j = json.load(open(d + "/jobs.json"))
for job in j["jobs"]:
    job.update(run_id=9829999002, status="in_progress", conclusion=None, completed_at=None)
json.dump(j, open(d + "/jobs.json", "w"))
EOF
	h ctl "$API" /_ctl/reload '{}'
	tmux_start refresh 140x14 CISCOPE_TEST_REFRESH_MS=400 --
	trap cleanup EXIT
	wait_for tty-refresh-start '[runs] row 1 of'
	tmux_keys r
	wait_for tty-in-progress 'running'
	n0=$(h lines s.log)
	# two refreshes with nothing new: 304s only
	i=0
	while [ "$(h count s.log "$n0" '"9829999002" in e["path"]')" -lt 2 ] && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	check_eq tty-refresh-304 "$(h count s.log "$n0" 'e["status"] != 304 or not e["inm"]')" 0
	h complete served 9829999002
	h ctl "$API" /_ctl/reload '{}'
	# An earlier automatic refresh may have left the same words in the
	# status bar (under load the order of refreshes shifts): wait for the
	# import itself, then for the row to change on the screen, which the
	# views follow at most every 500 ms.
	i=0
	while [ "$(h sql "$DB" 'SELECT status, conclusion FROM runs WHERE provider_id = 9829999002')" != "completed|failure" ] && [ $i -lt 600 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	wait_for tty-refresh-in-place 'refreshed tidewater/orrery: 0 new runs, 1 updated'
	i=0
	while tmux_screen tty-refreshed.txt && grep -q 'running' tty-refreshed.txt && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	check_eq tty-refresh-no-running "$(grep -c 'running' tty-refreshed.txt | tr -d ' ')" 0
	check_eq tty-refresh-imported "$(h sql "$DB" 'SELECT status, conclusion FROM runs WHERE provider_id = 9829999002')" "completed|failure"
	tmux_keys Q
	tmux_dead
	check_eq tty-refresh-quit "$rc" 0
	tmux_end
fi

# the token: never in a file, a screen or a message
leaks=$(grep -rlaF "$TOKEN" . 2>/dev/null | tr '\n' ' ')
check_eq token-never-stored "$leaks" ""
finish
