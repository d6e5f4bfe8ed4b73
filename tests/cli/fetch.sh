#!/bin/sh
# fetch.sh - `ciscope fetch`, `rerun` and `dispatch` end to end against the
# fixture server (tests/server/ghserver.py) on 127.0.0.1, with 127.0.0.2
# standing for the blob storage host. Only loopback addresses, ever.
#
#   1. the demo data set (tools/demo-gen.py) served as the API: what is
#      imported, how many requests, no token at the blob host, the second
#      fetch all 304s, the cache re-imports, modes 0600/0700;
#   2. recorded real GitHub traffic (hub4j): jobs and logs through the real
#      302s, artifacts through both real blob hosts, the run log archive;
#   3. faults injected by the server: 500s, 429 with retry-after, the
#      secondary limit, a truncated body, a reset connection, a slow body,
#      expired artifacts and logs (410), an expired signed URL, the primary
#      limit (waiting, and --no-wait), 401, 404, a run that keeps failing;
#   4. Ctrl-C (SIGINT) in the middle of a fetch, then a fetch that completes;
#   5. rerun and dispatch: shown, refused without --yes, sent with it;
#   6. the token: discovered from GH_TOKEN or gh, never in a file or message.
. "$(dirname "$0")/lib.sh"

loopback_setup tok-ciscope-test-5f0c2e9b41
REC="$FIXTURES/hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock"
SLUG=tidewater/orrery
# rate-limit waits of a minute become 200 ms (test only)
export CISCOPE_TEST_MIN_WAIT_MS=200

# --- helpers ----------------------------------------------------------------------------------
cat >h.py <<'EOF'
import json, os, sqlite3, sys, urllib.request

def entries(log, start=0):
    with open(log) as f:
        return [json.loads(l) for i, l in enumerate(f) if i >= start]

def main():
    cmd = sys.argv[1]
    if cmd == "count":          # LOG FROM PYEXPR: requests e matching
        print(sum(1 for e in entries(sys.argv[2], int(sys.argv[3])) if eval(sys.argv[4])))
    elif cmd == "lines":
        print(len(entries(sys.argv[2])))
    elif cmd == "paths":        # LOG FROM PYEXPR: their method path status, one a line
        for e in entries(sys.argv[2], int(sys.argv[3])):
            if eval(sys.argv[4]):
                print(e["host"], e["method"], e["path"], e["status"])
    elif cmd == "sql":          # DB QUERY: rows, | separated
        db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
        for row in db.execute(sys.argv[3]):
            print("|".join("" if v is None else str(v) for v in row))
    elif cmd == "ctl":          # API PATH JSON
        req = urllib.request.Request(sys.argv[2] + sys.argv[3], data=sys.argv[4].encode(),
                                     method="POST")
        urllib.request.urlopen(req).read()
    elif cmd == "api":          # READY: the API URL
        print(json.load(open(sys.argv[2]))["api"])
    elif cmd == "artid":        # RUN NAME: the server's artifact id
        sys.path.insert(0, os.path.dirname(sys.argv[4]))
        from ghserver import World
        print(World.artifact_id(int(sys.argv[2]), sys.argv[3]))
    elif cmd == "expect":       # RUNS_DIR: what the fetch policy asks for the demo set
        expect(sys.argv[2])

FAIL = ("failure", "timed_out", "startup_failure", "action_required")

def expect(d):
    """The requests a first fetch of these run folders makes, by the policy
    in core/fetch.h: every job of a failed run, failed jobs, and the latest
    attempt of the newest success of each workflow and branch get logs;
    artifacts of completed runs matching the default globs."""
    runs = []
    for name in os.listdir(d):
        with open(os.path.join(d, name, "run.json")) as f:
            r = json.load(f)
        jp = os.path.join(d, name, "jobs.json")
        jobs = json.load(open(jp))["jobs"] if os.path.exists(jp) else []
        ad = os.path.join(d, name, "artifacts")
        arts = os.listdir(ad) if os.path.isdir(ad) else []
        runs.append((r, jobs, arts, os.path.join(d, name)))
    runs.sort(key=lambda x: (x[0]["created_at"], x[0]["id"]), reverse=True)
    seen = set()
    n = {"pages": (len(runs) + 99) // 100, "jobs": len(runs), "attempts": 0, "artlists": 0,
         "artifacts": 0, "logs": 0, "log404": 0, "archives": 0}
    for r, jobs, arts, path in runs:
        att = r.get("run_attempt") or 1
        n["attempts"] += att - 1
        done = r["status"] == "completed"
        failed = r["conclusion"] in FAIL
        key = (r["workflow_id"], r["name"], r["head_branch"])
        base = r["conclusion"] == "success" and key not in seen
        if r["conclusion"] == "success":
            seen.add(key)
        if not done:
            continue
        n["artlists"] += 1
        n["artifacts"] += len(arts)
        archive = False
        for j in jobs:
            ja = j.get("run_attempt") or att
            if j["status"] != "completed" or j["conclusion"] == "skipped":
                continue
            if not (failed or j["conclusion"] in FAIL or (base and ja == att)):
                continue
            # the server has a job's log when the archive (latest attempt) or
            # logs/<id>.txt holds it
            if ja == att or os.path.exists(os.path.join(path, "logs", "%d.txt" % j["id"])):
                n["logs"] += 1
            else:
                n["log404"] += 1
    n["total"] = (n["pages"] + n["jobs"] + n["attempts"] + n["artlists"] + 2 * n["artifacts"]
                  + 2 * n["logs"] + n["log404"])
    print(" ".join("%s=%d" % kv for kv in sorted(n.items())))

main()
EOF
h() { python3 "$WORK/h.py" "$@"; }

# fetch DB CACHE ARGS...: ciscope fetch against $API
fetch() {
	db=$1
	cache=$2
	shift 2
	"$CISCOPE" --db "$db" fetch --api-url "$API" --cache-dir "$cache" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	cat "$ERR" >>all-stderr
}

check_count() { # NAME GOT WANT
	check_eq "$1" "$2" "$3"
}

# --- 1. the demo data set ------------------------------------------------------------------------
python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err || fail demo-gen "$(tail -n 3 demo.err)"
start_server demo --runs demo/runs
set -- $(h expect demo/runs)
for kv in "$@"; do eval "X_$kv"; done

fetch a.db ca "$SLUG" --json
check_exit fetch-demo-exit 0
check_has fetch-demo-json-result "$OUT" '"result":"ok"'
check_count fetch-demo-runs "$(h sql a.db 'SELECT count(DISTINCT provider_id) FROM runs WHERE provider_id > 0')" \
	"$(ls demo/runs | wc -l | tr -d ' ')"
check_count fetch-demo-requests "$(h lines demo.log)" "$X_total"
check_count fetch-demo-pages "$(h count demo.log 0 '"actions/runs?" in e["path"]')" "$X_pages"
check_count fetch-demo-job-logs "$(h count demo.log 0 '"/logs" in e["path"] and "/jobs/" in e["path"] and e["host"] == "api"')" \
	"$((X_logs + X_log404))"
check_count fetch-demo-artifacts "$(h count demo.log 0 'e["path"].endswith("/zip")')" "$X_artifacts"
check_count fetch-demo-blob-follows "$(h count demo.log 0 'e["host"] == "blob"')" \
	"$(h count demo.log 0 'e["status"] == 302')"
check_count fetch-demo-no-token-at-blob "$(h count demo.log 0 'e["host"] == "blob" and e["auth"]')" 0
check_count fetch-demo-token-at-api "$(h count demo.log 0 'e["host"] == "api" and e["auth_ok"] is not True')" 0
check_count fetch-demo-headers "$(h count demo.log 0 'e["host"] == "api" and (e["accept"] != "application/vnd.github+json" or e["api_version"] != "2022-11-28")')" 0
check_count fetch-demo-nothing-twice "$(h count demo.log 0 'e["status"] != 200 and e["status"] != 302')" "$X_log404"
# logs: every job of a failed run that the server can serve is stored
check_count fetch-demo-logs-stored "$(h sql a.db "SELECT count(*) FROM jobs WHERE log_state = 'stored'")" "$X_logs"
check_count fetch-demo-failed-runs-have-logs "$(h sql a.db "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id
	WHERE r.conclusion = 'failure' AND j.status = 'completed' AND j.conclusion != 'skipped' AND j.log_state != 'stored'
	AND r.attempt = (SELECT max(attempt) FROM runs r2 WHERE r2.provider_id = r.provider_id)")" 0
check_count fetch-demo-other-runs-no-logs "$(h sql a.db "SELECT count(DISTINCT r.id) FROM jobs j JOIN runs r ON r.id = j.run_id
	WHERE r.conclusion = 'success' AND j.log_state = 'stored'")" \
	"$(h sql a.db "SELECT count(*) FROM (SELECT DISTINCT workflow_name, head_branch FROM runs WHERE conclusion = 'success')")"
# the same bytes as importing the run folder itself
FAILED_RUN=$(h sql a.db "SELECT r.provider_id FROM runs r WHERE r.conclusion = 'failure' AND r.head_branch = 'main'
	AND EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id = r.id) ORDER BY r.created_at DESC LIMIT 1")
FAILED_JOB=$(h sql a.db "SELECT j.provider_id FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.provider_id = $FAILED_RUN
	AND j.conclusion = 'failure' ORDER BY j.ordinal LIMIT 1")
"$CISCOPE" --db direct.db import --quiet "demo/runs/$FAILED_RUN" 2>>all-stderr
"$CISCOPE" --db a.db log --raw "$FAILED_RUN/$FAILED_JOB" >log-fetched 2>>all-stderr
"$CISCOPE" --db direct.db log --raw "$FAILED_RUN/$FAILED_JOB" >log-direct 2>>all-stderr
if [ -s log-fetched ] && cmp -s log-fetched log-direct; then ok fetch-demo-log-bytes; else
	fail fetch-demo-log-bytes "log --raw $FAILED_RUN/$FAILED_JOB differs from the run folder's"; fi
check_count fetch-demo-tests "$(h sql a.db "SELECT count(*) FROM test_results t JOIN runs r ON r.id = t.run_id WHERE r.provider_id = $FAILED_RUN")" \
	"$(h sql direct.db "SELECT count(*) FROM test_results t JOIN runs r ON r.id = t.run_id WHERE r.provider_id = $FAILED_RUN")"
check_count fetch-demo-artifact-files "$(h sql a.db "SELECT count(*) FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id JOIN runs r ON r.id = a.run_id WHERE r.provider_id = $FAILED_RUN")" \
	"$(h sql direct.db "SELECT count(*) FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id JOIN runs r ON r.id = a.run_id WHERE r.provider_id = $FAILED_RUN")"
# the cache: the user's alone, run folders that import again
check_count fetch-demo-file-modes "$(find ca -type f ! -perm 600 | wc -l | tr -d ' ')" 0
check_count fetch-demo-dir-modes "$(find ca -type d ! -perm 700 | wc -l | tr -d ' ')" 0
check_count fetch-demo-no-temp-left "$(find ca/tidewater/orrery/tmp -type f | wc -l | tr -d ' ')" 0
"$CISCOPE" --db re.db import --quiet ca/tidewater/orrery/runs 2>>all-stderr
check_count fetch-demo-cache-reimports "$(h sql re.db "SELECT count(*), sum(log_state = 'stored') FROM jobs")" \
	"$(h sql a.db "SELECT count(*), sum(log_state = 'stored') FROM jobs")"

# a second fetch: one listing page and the run in progress, all 304
n0=$(h lines demo.log)
fetch a.db ca "$SLUG" --json
check_exit fetch-again-exit 0
check_count fetch-again-requests "$(h count demo.log "$n0" 'True')" 2
check_count fetch-again-all-304 "$(h count demo.log "$n0" 'e["status"] == 304 and e["inm"]')" 2
check_has fetch-again-json "$OUT" '"not_modified":2'

# the same with plain text: progress lines are plain when not on a terminal
n0=$(h lines demo.log)
fetch a.db ca "$SLUG"
check_exit fetch-text-exit 0
check_has fetch-text-summary "$ERR" 'fetched 1 run (0 new, 0 updated, 1 unchanged)'
check_has fetch-text-summary-requests "$ERR" '2 requests (2 not modified)'

# --- 2. recorded GitHub traffic (hub4j) ------------------------------------------------------------
start_server rec1 --recorded "$REC/testJobs" --recorded "$REC/testJobs_actions-user-content" \
	--runs "$FIXTURES/runs/hub4j-719643947"
fetch rec1.db crec1 hub4j-test-org/GHWorkflowRunTest --branch main --limit 1
check_exit recorded-jobs-exit 0
check_count recorded-jobs-requests "$(h paths rec1.log 0 True | sed 's/?[^ ]*//' | sort | tr '\n' ';')" \
	"api GET /repos/hub4j-test-org/GHWorkflowRunTest/actions/jobs/2270858576/logs 302;api GET /repos/hub4j-test-org/GHWorkflowRunTest/actions/jobs/2270858630/logs 302;api GET /repos/hub4j-test-org/GHWorkflowRunTest/actions/runs 200;api GET /repos/hub4j-test-org/GHWorkflowRunTest/actions/runs/719643947/artifacts 200;api GET /repos/hub4j-test-org/GHWorkflowRunTest/actions/runs/719643947/jobs 200;blob GET /u72ug1Ib1ZBCtek798HyrDYOU28rBK6ssrOKf37ZxrpgUbk95I/_apis/pipelines/1/runs/139/signedlogcontent/4 200;blob GET /u72ug1Ib1ZBCtek798HyrDYOU28rBK6ssrOKf37ZxrpgUbk95I/_apis/pipelines/1/runs/139/signedlogcontent/5 200;"
check_count recorded-jobs-no-token-at-blob "$(h count rec1.log 0 'e["host"] == "blob" and e["auth"]')" 0
"$CISCOPE" --db rec1.db log --raw 719643947/2270858630 >rec-log 2>>all-stderr
if cmp -s rec-log "$REC/testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt"; then
	ok recorded-jobs-log-bytes; else fail recorded-jobs-log-bytes "the stored log differs from the recorded body"; fi
check_count recorded-jobs-imported "$(h sql rec1.db "SELECT count(*), sum(log_state = 'stored') FROM jobs")" "2|2"

start_server rec2 --recorded "$REC/testArtifacts" --recorded "$REC/testArtifacts_actions-user-content" \
	--recorded "$REC/testArtifacts_blob-core-windows-net"
fetch rec2.db crec2 hub4j-test-org/GHWorkflowRunTest --branch main --limit 1 --artifacts 'artifact*'
check_exit recorded-artifacts-exit 0
check_count recorded-artifacts-files "$(h sql rec2.db "SELECT a.name, f.path, f.size FROM artifacts a JOIN artifact_files f ON f.artifact_id = a.id ORDER BY a.name" | tr '\n' ';')" \
	"artifact1|artifact1.txt|10;artifact2|artifact2.txt|10;"
check_count recorded-artifacts-both-blob-hosts "$(h count rec2.log 0 'e["host"] == "blob" and e["status"] == 200 and not e["auth"]')" 2

start_server rec3 --recorded "$REC/testLogs" --recorded "$REC/testLogs_actions-user-content"
fetch rec3.db crec3 hub4j-test-org/GHWorkflowRunTest --branch main --limit 1
check_exit recorded-archive-exit 0
check_count recorded-archive-requested "$(h count rec3.log 0 'e["path"].endswith("/actions/runs/711446981/logs")')" 1
check_count recorded-archive-jobs "$(h sql rec3.db "SELECT count(*) > 0, min(log_state) FROM jobs")" "1|stored"

# --- 3. faults ------------------------------------------------------------------------------------------
# a few runs: the newest completed ones and the newest failures
mkdir sub
python3 - demo/runs sub <<'EOF'
import json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
runs = []
for n in os.listdir(src):
    r = json.load(open(os.path.join(src, n, "run.json")))
    runs.append((r["created_at"], r["id"], r["status"], r["conclusion"], n))
runs.sort(reverse=True)
pick = [x for x in runs if x[2] == "completed"][:4]
pick += [x for x in runs if x[3] == "failure" and x[1] != 0][:2]
for x in pick:
    if not os.path.exists(os.path.join(dst, x[4])):
        shutil.copytree(os.path.join(src, x[4]), os.path.join(dst, x[4]))
EOF
plan=$(python3 - sub <<'EOF'
import json, os, sys
d = sys.argv[1]
runs = []
for n in os.listdir(d):
    r = json.load(open(os.path.join(d, n, "run.json")))
    j = json.load(open(os.path.join(d, n, "jobs.json")))["jobs"]
    runs.append((r["created_at"], r["id"], r, j))
runs.sort(key=lambda x: (x[0], x[1]), reverse=True)
fails = [x for x in runs if x[2]["conclusion"] == "failure"]
f1, f2 = fails[0], fails[1]
j1 = [j for j in f1[3] if j["conclusion"] == "failure"][0]
others = [j for j in f1[3] if j["id"] != j1["id"] and j["conclusion"] != "skipped"]
j2 = [j for j in f2[3] if j["conclusion"] != "skipped"][0]
ci = [x for x in runs if x[2]["name"] == "ci" and x[2]["conclusion"] == "success"][0]
bench = [x for x in runs if x[2]["name"] == "bench"][0]
print("F1=%d F1JOB=%d F1OTHER=%d F2=%d F2JOB=%d CI=%d BENCH=%d" % (
    f1[1], j1["id"], others[0]["id"], f2[1], j2["id"], ci[1], bench[1]))
EOF
)
eval "$plan"
TS_ID=$(h artid "$CI" junit-ts "$SERVER")
RS_ID=$(h artid "$CI" junit-rust "$SERVER")
cat >faults.json <<EOF
{"expired_artifacts": ["parity"],
 "faults": [
  {"path": "/actions/runs\\\\?", "fault": "retry429", "retry_after": "1"},
  {"path": "/actions/runs/$F1/jobs", "fault": "status", "status": 500, "count": 2},
  {"path": "/actions/runs/$BENCH/jobs", "fault": "secondary"},
  {"host": "blob", "path": "/blob/joblog/$F1/$F1JOB", "fault": "truncate"},
  {"path": "/actions/jobs/$F1OTHER/logs", "fault": "expire-signature"},
  {"path": "/actions/jobs/$F2JOB/logs", "fault": "gone"},
  {"path": "/actions/runs/$F2/artifacts", "fault": "reset"},
  {"path": "/actions/artifacts/$TS_ID/zip", "fault": "gone"},
  {"host": "blob", "path": "/blob/artifact/$RS_ID", "fault": "slow", "chunks": 3, "delay_ms": 150}
 ]}
EOF
start_server faults --runs sub --scenario faults.json
fetch f.db cf "$SLUG"
check_exit faults-all-recovered-exit 0
check_has faults-429-waited "$ERR" "secondary rate limit: waiting 1s"
check_count faults-429-retried "$(h count faults.log 0 '"/actions/runs?" in e["path"]')" 2
check_count faults-500-retried "$(h paths faults.log 0 "'/actions/runs/$F1/jobs' in e['path']" | awk '{print $4}' | tr '\n' ' ')" "500 500 200 "
check_count faults-secondary-retried "$(h paths faults.log 0 "'/actions/runs/$BENCH/jobs' in e['path']" | awk '{print $4}' | tr '\n' ' ')" "403 200 "
check_count faults-truncated-retried "$(h count faults.log 0 "'/blob/joblog/$F1/$F1JOB' in e['path']")" 2
"$CISCOPE" --db f.db log --raw "$F1/$F1JOB" >log-f 2>>all-stderr
"$CISCOPE" --db a.db log --raw "$F1/$F1JOB" >log-a 2>>all-stderr
if [ -s log-f ] && cmp -s log-f log-a; then ok faults-truncated-log-whole; else
	fail faults-truncated-log-whole "the log after a truncated body differs from a clean fetch's"; fi
check_count faults-signed-url-reissued "$(h paths faults.log 0 "'$F1OTHER/logs' in e['path'] or '/$F1OTHER?' in e['path']" | awk '{print $1, $4}' | tr '\n' ' ')" \
	"api 302 blob 403 api 302 blob 200 "
check_count faults-expired-log "$(h sql f.db "SELECT log_state FROM jobs WHERE provider_id = $F2JOB")" expired
check_count faults-reset-retried "$(h paths faults.log 0 "'/actions/runs/$F2/artifacts' in e['path']" | awk '{print $4}' | tr '\n' ' ')" "0 200 "
check_count faults-expired-artifact-410 "$(h sql f.db "SELECT a.expired FROM artifacts a JOIN runs r ON r.id = a.run_id WHERE r.provider_id = $CI AND a.name = 'junit-ts'")" 1
check_count faults-slow-body "$(h sql f.db "SELECT count(*) > 0 FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id JOIN runs r ON r.id = a.run_id WHERE r.provider_id = $CI AND a.name = 'junit-rust'")" 1
check_count faults-expired-listed "$(h sql f.db "SELECT count(*), min(a.expired) FROM artifacts a WHERE a.name = 'parity'")" \
	"$(h sql f.db "SELECT count(*), 1 FROM runs WHERE workflow_name = 'parity'")"
check_count faults-expired-not-downloaded "$(h count faults.log 0 'e["path"].endswith("/zip") and e["status"] == 410')" 1
check_count faults-all-runs "$(h sql f.db 'SELECT count(DISTINCT provider_id) FROM runs WHERE provider_id > 0')" "$(ls sub | wc -l | tr -d ' ')"

# the primary limit: said when it resets, waited for
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "primary", "reset_in": 1}'
fetch p.db cp "$SLUG" --limit 2
check_exit faults-primary-waited-exit 0
check_has faults-primary-message "$ERR" "the GitHub API rate limit is exhausted (5000 requests an hour); it resets at"
check_count faults-primary-runs "$(h sql p.db 'SELECT count(DISTINCT provider_id) FROM runs')" 2
# ... or, with --no-wait, a distinct exit status; the next fetch goes on
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "primary", "reset_in": 30}'
fetch nw.db cnw "$SLUG" --no-wait
check_exit faults-no-wait-exit 5
check_has faults-no-wait-message "$ERR" "stopped (--no-wait)"
fetch nw.db cnw "$SLUG" --no-wait
check_exit faults-no-wait-then-exit 0
# 401 and 404 say what to do
h ctl "$API" /_ctl/faults '{"path": "/actions/runs\\?", "fault": "unauthorized"}'
fetch u.db cu "$SLUG"
check_exit faults-401-exit 1
check_has faults-401-message "$ERR" "ciscope: the runs of tidewater/orrery: the token is invalid or expired; set GH_TOKEN or run gh auth login"
fetch u.db cu nobody/nothing
check_exit faults-404-exit 1
check_has faults-404-message "$ERR" "check that the repository 'nobody/nothing' exists"
# a run that keeps failing: the others are imported; the next fetch gets it
h ctl "$API" /_ctl/faults "{\"path\": \"/actions/runs/$F1/jobs\", \"fault\": \"status\", \"status\": 502, \"count\": -1}"
fetch k.db ck "$SLUG"
check_exit faults-persistent-exit 1
check_has faults-persistent-message "$ERR" "the jobs of run $F1: HTTP 502"
check_has faults-persistent-gave-up "$ERR" "gave up after 5 attempts"
check_count faults-persistent-others "$(h sql k.db 'SELECT count(DISTINCT provider_id) FROM runs')" "$(($(ls sub | wc -l) - 1))"
h ctl "$API" /_ctl/reset '{}'
fetch k.db ck "$SLUG"
check_exit faults-persistent-then-exit 0
check_count faults-persistent-then-all "$(h sql k.db 'SELECT count(DISTINCT provider_id) FROM runs')" "$(ls sub | wc -l | tr -d ' ')"

# hostile answers: a jobs list that is not one, artifact names that are no
# file names (a path; an escape sequence, which the message shows without the OSC)
h ctl "$API" /_ctl/faults "[{\"path\": \"/actions/runs/$F1/jobs\", \"fault\": \"status\", \"status\": 200, \"body\": \"not an object\"},
 {\"path\": \"/actions/runs/$F2/artifacts\", \"fault\": \"status\", \"status\": 200, \"body\": {\"total_count\": 2, \"artifacts\": [
  {\"id\": 5, \"name\": \"../junit-evil\", \"size_in_bytes\": 3}, {\"id\": 6, \"name\": \"junit\\u001b]0;pwned\\u0007\", \"size_in_bytes\": 3}]}}]"
fetch hostile.db chostile "$SLUG"
check_exit hostile-exit 1
check_has hostile-jobs-message "$ERR" "the jobs of run $F1: the answer has no \"jobs\" list"
check_has hostile-artifact-path "$ERR" "artifact '../junit-evil': the name cannot be a file name: skipped"
check_has hostile-artifact-escape "$ERR" "artifact 'junit': the name cannot be a file name: skipped"
check_count hostile-nothing-written "$(find . -name '*junit-evil*' -o -name '*pwned*' | wc -l | tr -d ' ')" 0
check_count hostile-no-escape-out "$(grep -c "$(printf '\033')" "$ERR")" 0
check_count hostile-others-imported "$(h sql hostile.db 'SELECT count(DISTINCT provider_id) FROM runs')" "$(($(ls sub | wc -l) - 1))"

# --- 4. Ctrl-C in the middle, then a fetch that completes ------------------------------------------------
start_server slow --runs sub --latency-ms 60
# past the 16th request every answer takes a second more: the rest of the
# fetch cannot end while the second fetch starts and the Ctrl-C is sent,
# however loaded the machine (under ASan on a busy machine, with 60 ms
# alone, all 6 runs arrived before them and the Ctrl-C found nothing left)
h ctl "$API" /_ctl/faults '{"path": ".", "host": "any", "after": 16, "count": -1, "fault": "delay", "delay_ms": 1000}'
"$CISCOPE" --db int.db fetch --api-url "$API" --cache-dir cint --jobs 2 "$SLUG" >int.out 2>int.err &
fpid=$!
i=0
while [ "$(h lines slow.log 2>/dev/null || echo 0)" -lt 16 ] && [ $i -lt 400 ]; do
	i=$((i + 1))
	sleep 0.02
done
# one fetch per cache at a time
"$CISCOPE" --db int2.db fetch --api-url "$API" --cache-dir cint "$SLUG" >"$OUT" 2>"$ERR"
rc=$?
check_exit sigint-second-fetch-refused-exit 1
check_has sigint-second-fetch-refused "$ERR" "another ciscope is fetching tidewater/orrery"
kill -INT "$fpid"
wait "$fpid"
rc=$?
cat int.err >>all-stderr
check_exit sigint-exit 130
check_has sigint-message int.err "interrupted: the runs fetched so far are imported"
check_count sigint-integrity "$(h sql int.db 'PRAGMA integrity_check')" ok
got=$(h sql int.db 'SELECT count(DISTINCT provider_id) FROM runs WHERE provider_id > 0')
all=$(ls sub | wc -l | tr -d ' ')
if [ "$got" -lt "$all" ]; then ok sigint-stopped-early; else fail sigint-stopped-early "all $all runs were fetched before Ctrl-C"; fi
# what was imported is whole: failed runs have their logs
check_count sigint-imported-whole "$(h sql int.db "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id
	WHERE r.conclusion = 'failure' AND j.status = 'completed' AND j.conclusion != 'skipped' AND j.log_state != 'stored'")" 0
h ctl "$API" /_ctl/latency '{"ms": 0}'
h ctl "$API" /_ctl/reset '{}'
DB=int.db
"$CISCOPE" --db int.db fetch --api-url "$API" --cache-dir cint "$SLUG" >"$OUT" 2>"$ERR"
rc=$?
check_exit sigint-resume-exit 0
check_count sigint-resume-no-temp "$(find cint -path '*/tmp/*' -type f | wc -l | tr -d ' ')" 0
"$CISCOPE" --db int.db runs --json --limit 0 >int-runs.json 2>>all-stderr
"$CISCOPE" --db k.db runs --json --limit 0 >clean-runs.json 2>>all-stderr
if cmp -s int-runs.json clean-runs.json; then ok sigint-resume-same-runs; else
	fail sigint-resume-same-runs "runs after an interrupted fetch and a resume differ from a clean fetch's"; fi
check_count sigint-resume-same-logs "$(h sql int.db "SELECT count(*), sum(log_state = 'stored') FROM jobs")" \
	"$(h sql k.db "SELECT count(*), sum(log_state = 'stored') FROM jobs")"

# --- 5. rerun and dispatch -------------------------------------------------------------------------------------
start_server demo2 --runs demo/runs
"$CISCOPE" --db a.db rerun --api-url "$API" "$FAILED_RUN" </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit rerun-unconfirmed-exit 2
check_has rerun-shows-request "$OUT" "POST $API/repos/tidewater/orrery/actions/runs/$FAILED_RUN/rerun-failed-jobs"
check_has rerun-shows-auth "$OUT" "Authorization: Bearer <the token from GH_TOKEN, not shown>"
check_has rerun-refused "$ERR" "not sent: confirm with --yes"
check_count rerun-unconfirmed-nothing-sent "$(h count demo2.log 0 'e["method"] == "POST"')" 0
# the repository comes from the index
"$CISCOPE" --db a.db rerun --api-url "$API" --yes "$FAILED_RUN" </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit rerun-exit 0
check_has rerun-done "$OUT" "re-run of the failed jobs of run $FAILED_RUN requested (HTTP 201)"
check_count rerun-sent "$(h paths demo2.log 0 'e["method"] == "POST" and e["auth_ok"]')" \
	"api POST /repos/tidewater/orrery/actions/runs/$FAILED_RUN/rerun-failed-jobs 201"
"$CISCOPE" --db a.db dispatch --api-url "$API" --repo "$SLUG" --input steps=100 --input 'note=a "b"' --yes ci --ref main </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit dispatch-exit 0
check_has dispatch-shows-body "$OUT" '{"ref":"main","inputs":{"steps":"100","note":"a \"b\""}}'
check_count dispatch-sent "$(h count demo2.log 0 'e["method"] == "POST" and e["path"].endswith("/actions/workflows/118203344/dispatches") and e["body"] == "{\"ref\":\"main\",\"inputs\":{\"steps\":\"100\",\"note\":\"a \\\"b\\\"\"}}"')" 1
"$CISCOPE" --db a.db dispatch --api-url "$API" --repo "$SLUG" --yes nightly --ref main </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit dispatch-unknown-exit 4
check_has dispatch-unknown-names-them "$ERR" "no workflow 'nightly' in tidewater/orrery (workflows: "
"$CISCOPE" --db a.db dispatch --api-url "$API" --repo "$SLUG" ci </dev/null >"$OUT" 2>"$ERR"
rc=$?
check_exit dispatch-no-ref-exit 2

# --- 6. the token ------------------------------------------------------------------------------------------------
# from gh when no variable holds one; gh is asked for this host's token
printf '#!/bin/sh\necho "$@" >"%s/gh-args"\necho %s\n' "$WORK" "$TOKEN" >bin/gh
n0=$(h lines demo2.log)
env -u GH_TOKEN "$CISCOPE" --db g.db fetch --api-url "$API" --cache-dir cg --limit 1 "$SLUG" >"$OUT" 2>"$ERR"
rc=$?
cat "$ERR" >>all-stderr
check_exit token-gh-exit 0
check_count token-gh-used "$(h count demo2.log "$n0" 'e["host"] == "api" and e["auth_ok"] is not True')" 0
check_count token-gh-args "$(cat gh-args)" "auth token --hostname $(echo "$API" | sed 's|http://||')"
# none at all: anonymous, with a warning
printf '#!/bin/sh\nexit 1\n' >bin/gh
n0=$(h lines demo2.log)
env -u GH_TOKEN "$CISCOPE" --db n.db fetch --api-url "$API" --cache-dir cn --limit 1 "$SLUG" >"$OUT" 2>"$ERR"
rc=$?
cat "$ERR" >>all-stderr
check_exit token-anonymous-exit 0
check_has token-anonymous-warning "$ERR" "anonymous requests are limited to 60 an hour"
check_count token-anonymous-no-auth "$(h count demo2.log "$n0" 'e["auth"]')" 0
# never written anywhere, never said
# (the databases, the caches, every stderr, the server logs; the fake gh
# alone holds it)
leaks=$(grep -rlaF "$TOKEN" . 2>/dev/null | grep -v '^./bin/gh$' | tr '\n' ' ')
check_eq token-never-stored "$leaks" ""

# usage errors
mkdir nogit
(cd nogit && "$CISCOPE" --db ../u.db fetch --api-url "$API" >"$OUT" 2>"$ERR")
rc=$?
check_exit fetch-no-repo-exit 2
check_has fetch-no-repo-message "$ERR" "no repository named and no GitHub 'origin' remote here"
fetch u.db cu "$SLUG" --since yesterday
check_exit fetch-bad-since-exit 2
fetch u.db cu "$SLUG" --jobs 0
check_exit fetch-bad-jobs-exit 2
fetch u.db cu "$SLUG" --api-url "https://user:pw@example.invalid"
check_exit fetch-api-url-credentials-exit 2
check_has fetch-api-url-credentials-message "$ERR" "must not carry a user name or password"

run fetch --help
check_exit fetch-help 0
check_has fetch-help-usage "$OUT" "usage: ciscope fetch [OWNER/REPO]"
finish
