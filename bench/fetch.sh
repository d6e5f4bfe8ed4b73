#!/bin/sh
# bench/fetch.sh BUILD - the fetch benchmark (called by bench/run.sh; not a test).
#
# The fixture server (tests/server/ghserver.py) serves 500 runs - the demo
# data set's completed run folders, cloned to that many (a run in progress
# would add one conditional request per no-change fetch, rightly) - on
# 127.0.0.1 with the blob
# host on 127.0.0.2, adding BENCH_LATENCY_MS (50) to every answer. Then:
#   1. ciscope fetch --limit 500 --all-logs: wall time, requests, bytes;
#   2. the same requests (the server's log of step 1, redirects and blob
#      downloads included) with plain curl, one after another, reusing its
#      connection: the serial baseline;
#   3. ciscope fetch again, nothing new: requests, and how many were not 304.
# Targets: at least 6x faster than the serial baseline; the no-change fetch
# costs one request per page of runs checked and nothing else.
#
# Environment: BENCH_RUNS (500), BENCH_LATENCY_MS (50), BENCH_JOBS (the
# fetcher's default: 8).
set -eu

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/ciscope
W=$BUILD/bench/fetch
RUNS=${BENCH_RUNS:-500}
LAT=${BENCH_LATENCY_MS:-50}
JOBS=${BENCH_JOBS:-}

say() { printf '%s\n' "$*"; }
note() { printf 'bench: %s\n' "$*" >&2; }

if [ ! -x "$BIN" ]; then
	note "no binary at $BIN: build it first"
	exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
	note "curl is not installed: the fetch benchmark needs it for the serial baseline (apt-get install curl)"
	exit 0
fi
mkdir -p "$W"
if [ ! -f "$W/demo/.stamp" ] || [ "$ROOT/tools/demo-gen.py" -nt "$W/demo/.stamp" ]; then
	rm -rf "$W/demo"
	python3 "$ROOT/tools/demo-gen.py" "$W/demo" >/dev/null
	: >"$W/demo/.stamp"
fi

# only loopback, only our server: no proxy may see these requests
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
TOKEN=bench-token-not-secret
export GH_TOKEN=$TOKEN
unset GITHUB_TOKEN GITHUB_API_URL

SRV_PID=
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; return 0; }
trap cleanup EXIT INT TERM
rm -f "$W/ready" "$W/server.log"
python3 "$ROOT/tests/server/ghserver.py" --runs "$W/demo/runs" --clone "$RUNS" --only-completed \
	--latency-ms "$LAT" --token "$TOKEN" --sign-ttl 3600 --log "$W/server.log" \
	--ready "$W/ready" 2>"$W/server.err" &
SRV_PID=$!
i=0
while [ ! -f "$W/ready" ]; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
		note "the fixture server did not start: $(tail -n 3 "$W/server.err")"
		exit 1
	fi
	sleep 0.1
done
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$W/ready")

now() { python3 -c 'import time; print("%.3f" % time.time())'; }
lines() { wc -l <"$W/server.log" | tr -d ' '; }

rm -rf "$W/cache" "$W/fetch.db" "$W/fetch.db-wal" "$W/fetch.db-shm"
J=
[ -n "$JOBS" ] && J="--jobs $JOBS"
# 1. the first fetch
t0=$(now)
# shellcheck disable=SC2086
"$BIN" --db "$W/fetch.db" fetch tidewater/orrery --api-url "$API" --cache-dir "$W/cache" \
	--limit "$RUNS" --all-logs $J --json >"$W/fetch1.json" 2>"$W/fetch1.err" || note "fetch exited $?: $(tail -n 3 "$W/fetch1.err")"
t1=$(now)
N1=$(lines)
cp "$W/server.log" "$W/fetch1.log"

# 2. the serial baseline: the same requests with curl, one after another
python3 - "$W/fetch1.log" "$API" "$TOKEN" >"$W/serial.curlrc" <<'EOF'
import json, sys
log, api, token = sys.argv[1], sys.argv[2], sys.argv[3]
blob = json.load(open(log.rsplit("/", 1)[0] + "/ready"))["blob"]
for i, line in enumerate(open(log)):
    e = json.loads(line)
    base = api if e["host"] == "api" else blob
    if i:
        print("next")
    print('url = "%s%s"' % (base, e["path"]))
    print('output = "/dev/null"')
    if e["host"] == "api":
        print('header = "Authorization: Bearer %s"' % token)
        print('header = "Accept: application/vnd.github+json"')
        print('header = "X-GitHub-Api-Version: 2022-11-28"')
EOF
t2=$(now)
curl -s -K "$W/serial.curlrc" || note "curl exited $?"
t3=$(now)
N2=$(lines)

# 3. nothing new
"$BIN" --db "$W/fetch.db" fetch tidewater/orrery --api-url "$API" --cache-dir "$W/cache" \
	--limit "$RUNS" --all-logs --json >"$W/fetch2.json" 2>"$W/fetch2.err" || note "second fetch exited $?"
N3=$(lines)
tail -n $((N3 - N2)) "$W/server.log" >"$W/fetch2.log"

python3 - "$W" "$t0" "$t1" "$t2" "$t3" "$RUNS" "$LAT" <<'EOF'
import json, sys
w = sys.argv[1]
t0, t1, t2, t3 = (float(x) for x in sys.argv[2:6])
runs, lat = sys.argv[6], sys.argv[7]
l1 = [json.loads(x) for x in open(w + "/fetch1.log")]
l2 = [json.loads(x) for x in open(w + "/fetch2.log")]
f1 = json.load(open(w + "/fetch1.json"))
f2 = json.load(open(w + "/fetch2.json"))
fetch, serial = t1 - t0, t3 - t2
nbytes = sum(e.get("bytes", 0) for e in l1)
api = sum(1 for e in l1 if e["host"] == "api")
not304 = sum(1 for e in l2 if e["status"] != 304)
pages = f2.get("pages", 0)
ratio = serial / fetch if fetch > 0 else 0
blob_auth = sum(1 for e in l1 if e["host"] == "blob" and e["auth"])
def row(a, b):
    print("  %-36s %s" % (a, b))
print("fetch (%s runs, %s ms latency per request, 127.0.0.1 + 127.0.0.2)" % (runs, lat))
row("ciscope fetch --all-logs", "%.1f s wall, %d requests (%d API, %d blob), %.1f MB"
    % (fetch, len(l1), api, len(l1) - api, nbytes / 1e6))
row("", "%d runs listed, %d run attempts imported, %d logs, %d artifacts"
    % (f1.get("listed", 0), f1.get("created", 0) + f1.get("updated", 0), f1.get("logs", 0),
       f1.get("artifacts", 0)))
row("the same requests, serial curl", "%.1f s wall" % serial)
row("ratio", "%.1fx faster than serial" % ratio)
row("no-change fetch", "%d request%s (%d not 304), %d listing page%s checked"
    % (len(l2), "" if len(l2) == 1 else "s", not304, pages, "" if pages == 1 else "s"))
row("token sent to the blob host", "%d times" % blob_auth)
print("targets")
row(">= 6x faster than serial curl", "%.1fx: %s" % (ratio, "met" if ratio >= 6 else "MISSED"))
ok = not304 == 0 and len(l2) == pages
row("no-change: one request per page", "%d requests for %d pages: %s" % (len(l2), pages, "met" if ok else "MISSED"))
EOF
say "raw: $W/ (fetch1.log, fetch2.log: the server's request logs)"
