#!/bin/sh
# crash.sh - crash safety and concurrency of the index, attacked from outside
# with real processes, real SQLite files and real file systems:
#
#   1. kill -9 of `ciscope import` at random moments (CRASH_KILLS times, 16 by
#      default): after each, PRAGMA integrity_check is ok, no run is there
#      twice or in part (each run held equals the clean import's); every
#      other kill a re-import completes and the index equals a clean import;
#      at the end the logs are byte-identical to their sources (log --raw);
#   2. kill -9 of `ciscope fetch` mid-transfer (CRASH_FETCH_KILLS times, 4;
#      slow bodies from the loopback server tests/server/ghserver.py): the
#      cache never holds a partial file under its final name; a fetch
#      afterwards completes, logs intact;
#   3. a second importer while another process holds the write lock longer
#      than SQLite's old 5 s timeout: it waits, says for what, and imports;
#      two importers at once; a reader looping while an import commits: no
#      "database is locked" reaches the user, nothing is lost;
#   4. a full disk (a small tmpfs; in a user namespace when not root; else
#      skipped with the reason), a read-only index (a read-only bind mount,
#      and a folder another user cannot write), an index of a newer schema,
#      a file that is not SQLite, a symbolic link loop in the tree: a clear
#      message, the exit code, the index untouched.
#
# The random moments come from CRASH_SEED (printed), so a failure can be
# replayed: CRASH_SEED=N sh tests/cli/crash.sh.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
SERVER="$TOP/tests/server/ghserver.py"
HUBJOBS="$HUB/testJobs/__files/11-r_h_g_actions_runs_719643947_jobs.json"
KILLS=${CRASH_KILLS:-16}
SEED=${CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "crash.sh: CRASH_SEED=$SEED CRASH_KILLS=$KILLS"
export PYTHONDONTWRITEBYTECODE=1
TOKEN=tok-ciscope-crash-3e1f
export GH_TOKEN=$TOKEN
unset GITHUB_TOKEN GITHUB_API_URL CISCOPE_CACHE XDG_CACHE_HOME
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
mkdir -p bin
printf '#!/bin/sh\nexit 1\n' >bin/gh
chmod +x bin/gh
PATH="$WORK/bin:$PATH"

PIDS=
SERVERS=
MOUNTS=
SHARED=
cleanup() {
	for p in $PIDS $SERVERS; do kill -9 "$p" 2>/dev/null; done
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	[ -n "$SHARED" ] && chmod -R u+w "$SHARED" && rm -rf "$SHARED"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP PIPE

cat >h.py <<'PYEOF'
import json, os, random, sqlite3, sys, time

def db(path):
    # read-write, as ciscope opens it: after a crash the WAL is recovered
    # first, which a read-only connection cannot do
    # (no syncs: the checker's own checkpoint at close is not under test,
    # and a sync a check costs a second on a busy disk)
    c = sqlite3.connect(path)
    c.execute("PRAGMA synchronous=OFF")
    return c

def mktree(root, n, size, base=800000):
    """n run folders shaped like hub4j's run 719643947, each with its two jobs
    and a generated log of about size bytes per job (timestamps, groups,
    errors, hex ids: incompressible enough to take chunks)."""
    run = json.load(open(sys.argv[5]))
    jobs = json.load(open(sys.argv[6]))
    for i in range(n):
        rid = base + i
        d = os.path.join(root, "run-%d" % rid)
        os.makedirs(os.path.join(d, "logs"))
        r = dict(run, id=rid, run_number=1000 + i)
        json.dump(r, open(os.path.join(d, "run.json"), "w"))
        js = json.loads(json.dumps(jobs))
        rnd = random.Random(rid)
        for k, j in enumerate(js["jobs"]):
            j["id"] = rid * 10 + k
            j["run_id"] = rid
            with open(os.path.join(d, "logs", "%d.txt" % j["id"]), "w", newline="") as f:
                t, line = 0, 0
                while f.tell() < size:
                    line += 1
                    ts = "2021-04-05T12:%02d:%02d.%07dZ " % (t // 60 % 60, t % 60, line % 10**7)
                    t += rnd.random() < 0.01
                    c = rnd.random()
                    if c < 0.02:
                        f.write(ts + "##[group]Run step %d\r\n" % line)
                    elif c < 0.04:
                        f.write(ts + "##[endgroup]\n")
                    elif c < 0.05:
                        f.write(ts + "##[error]Process failed id %08x\n" % rnd.getrandbits(32))
                    else:
                        f.write(ts + "line %d sha %040x in %s\n" % (line, rnd.getrandbits(160),
                                "warning" if c < 0.2 else "ok"))
        json.dump(js, open(os.path.join(d, "jobs.json"), "w"))

def digest(path):
    """One line per job of every run, with what import made of it: the same
    lines for two indexes means the same runs, jobs, logs, steps, findings."""
    c = db(path)
    out = []
    for row in c.execute("""
        SELECT r.provider_id, r.attempt, r.status, r.conclusion, j.provider_id, j.name,
               j.log_state, l.raw_size, l.line_count,
               (SELECT count(*) FROM steps s WHERE s.job_id = j.id),
               (SELECT count(*) FROM findings f WHERE f.job_id = j.id),
               (SELECT count(*) FROM log_chunks k WHERE k.log_id = l.id),
               (SELECT count(*) FROM log_groups g WHERE g.log_id = l.id)
        FROM runs r LEFT JOIN jobs j ON j.run_id = r.id LEFT JOIN logs l ON l.job_id = j.id
        ORDER BY 1, 2, 5"""):
        out.append("|".join(str(v) for v in row))
    return out

def counts(path):
    c = db(path)
    names = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'meta' ORDER BY name")]
    return ["%s=%d" % (n, c.execute('SELECT count(*) FROM "%s"' % n).fetchone()[0]) for n in names]

def check(path, clean):
    """After a crash: what is there is whole. Prints 'ok' or the problems."""
    probs = []
    if not os.path.exists(path):
        print("ok")
        return
    c = db(path)
    ic = c.execute("PRAGMA integrity_check").fetchall()
    if ic != [("ok",)]:
        probs.append("integrity_check: %r" % ic[:3])
    fk = c.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        probs.append("foreign keys: %r" % fk[:3])
    if c.execute("PRAGMA user_version").fetchone()[0] > 0:
        dup = c.execute("SELECT provider_id, attempt, count(*) FROM runs GROUP BY 1, 2 "
                        "HAVING count(*) > 1").fetchall()
        if dup:
            probs.append("runs twice: %r" % dup[:3])
        want = set(digest(clean))
        half = [l for l in digest(path) if l not in want]
        if half:
            probs.append("runs not as a clean import has them: %r" % half[:3])
    print("ok" if not probs else "; ".join(probs))

def main():
    cmd = sys.argv[1]
    if cmd == "mktree":
        mktree(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
               int(sys.argv[7]) if len(sys.argv) > 7 else 800000)
    elif cmd == "sql":
        for row in db(sys.argv[2]).execute(sys.argv[3]):
            print("|".join("" if v is None else str(v) for v in row))
    elif cmd == "same":          # A B: equal digests and table counts
        a, b = sys.argv[2], sys.argv[3]
        da, db_ = digest(a), digest(b)
        ca, cb = counts(a), counts(b)
        if da == db_ and ca == cb:
            print("same")
        else:
            print("differ: %r vs %r" % ([x for x in da if x not in db_][:2] + [x for x in ca if x not in cb],
                                        [x for x in db_ if x not in da][:2] + [x for x in cb if x not in ca]))
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3])
    elif cmd == "delays":        # SEED N MAX_MS: N delays in seconds
        rnd = random.Random(int(sys.argv[2]))
        print(" ".join("%.3f" % (rnd.random() * int(sys.argv[4]) / 1000)
                       for _ in range(int(sys.argv[3]))))
    elif cmd == "hold":          # DB SECONDS READY: hold the write lock
        c = sqlite3.connect(sys.argv[2], timeout=30)
        c.isolation_level = None
        c.execute("BEGIN IMMEDIATE")
        open(sys.argv[4], "w").close()
        time.sleep(float(sys.argv[3]))
        c.execute("ROLLBACK")
    elif cmd == "set-version":   # DB N
        c = sqlite3.connect(sys.argv[2])
        c.execute("PRAGMA user_version = %d" % int(sys.argv[3]))
        c.commit()
    elif cmd == "json-ok":       # FILE...: each parses as JSON
        for f in sys.argv[2:]:
            try:
                json.load(open(f))
            except Exception as e:
                print("%s: %s" % (f, e))
    elif cmd == "api":
        print(json.load(open(sys.argv[2]))["api"])
    elif cmd == "lines":
        print(sum(1 for _ in open(sys.argv[2])))

main()
PYEOF
# (-S: no site packages; the helper needs only the standard library, and
# starts in a fraction of the time)
h() { python3 -S "$WORK/h.py" "$@"; }
START=$(date +%s)
lap() { echo "crash.sh: $1 done at $(($(date +%s) - START)) s"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# raw_same DB TREE: every job's log, as `log --raw` gives it, equals its file
raw_same() {
	bad=0
	for f in "$2"/run-*/logs/*.txt; do
		job=$(basename "$f" .txt)
		run=$(basename "$(dirname "$(dirname "$f")")" | sed 's/^run-//')
		"$CISCOPE" --db "$1" log --raw "$run/$job" >raw.out 2>raw.err
		if ! cmp -s raw.out "$f"; then
			bad=$((bad + 1))
			echo "    $run/$job: log --raw differs from $f: $(head -c 200 raw.err)"
		fi
	done
	return "$bad"
}

# --- the tree and its clean import -------------------------------------------------------------
h mktree tree 8 150000 "$FIXTURES/runs/hub4j-719643947/run.json" "$HUBJOBS"
t0=$(now_ms)
"$CISCOPE" --db clean.db import tree >"$OUT" 2>"$ERR"
rc=$?
T=$(($(now_ms) - t0))
check_exit clean-import-exit 0
check_eq clean-import-runs "$(h sql clean.db 'SELECT count(*) FROM runs')" 8
echo "crash.sh: a clean import of the tree takes ${T} ms"

# --- 1. kill -9 during import ------------------------------------------------------------------
# moments spread over the clean import's duration (the kills that start on
# a partial index have less to do: some of them come after the end)
landed=0
failures=0
reimports=0
k=0
rm -f crash.db
for d in $(h delays "$SEED" "$KILLS" "$T"); do
	k=$((k + 1))
	rm -f kill.err # a kill before the child's redirection must not count the last import
	"$CISCOPE" --db crash.db import tree >kill.out 2>kill.err &
	pid=$!
	PIDS="$PIDS $pid"
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	grep -q '^imported' kill.err || landed=$((landed + 1))
	res=$(h check crash.db clean.db 2>&1)
	if [ "$res" != ok ]; then
		failures=$((failures + 1))
		fail "kill-$k" "after kill -9 at ${d}s: $res"
		cp crash.db "crash-$k.db" 2>/dev/null
	fi
	if grep -q 'locked' kill.err; then
		failures=$((failures + 1))
		fail "kill-$k-locked" "$(cat kill.err)"
	fi
	# every other kill: a re-import completes and equals the clean import,
	# then the next kill starts on a fresh index
	if [ $((k % 2)) -eq 0 ]; then
		reimports=$((reimports + 1))
		"$CISCOPE" --db crash.db import tree >"$OUT" 2>"$ERR"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			failures=$((failures + 1))
			fail "kill-$k-reimport" "exit $rc: $(head -c 300 "$ERR")"
		fi
		res=$(h same crash.db clean.db)
		if [ "$res" != same ]; then
			failures=$((failures + 1))
			fail "kill-$k-equal" "$res"
		fi
		if [ $k -lt "$KILLS" ]; then
			rm -f crash.db crash.db-wal crash.db-shm
		fi
	fi
done
echo "crash.sh: $KILLS kills, $landed during the import, $reimports re-imports compared"
if [ "$failures" -eq 0 ]; then ok "kill-9-import ($KILLS kills, $landed mid-import)"; fi
if [ "$landed" -ge $((KILLS / 4)) ]; then ok kill-9-landed; else
	fail kill-9-landed "only $landed of $KILLS kills landed during an import (the import took ${T} ms)"; fi
"$CISCOPE" --db crash.db import tree >"$OUT" 2>"$ERR"
rc=$?
check_exit kill-final-reimport-exit 0
check_has kill-final-reimport-unchanged "$ERR" "8 unchanged"
check_eq kill-final-equal "$(h same crash.db clean.db)" same
if raw_same crash.db tree; then ok kill-final-log-raw; else fail kill-final-log-raw "logs differ"; fi
"$CISCOPE" --db crash.db runs --json --limit 0 >a.json 2>/dev/null
"$CISCOPE" --db clean.db runs --json --limit 0 >b.json 2>/dev/null
if cmp -s a.json b.json; then ok kill-final-runs-json; else fail kill-final-runs-json "runs --json differs"; fi

lap "import kills"
# --- 2. kill -9 during fetch -------------------------------------------------------------------
SLUG=hub4j-test-org/GHWorkflowRunTest
# job logs come slowly, in pieces: a kill lands inside a transfer
cat >slow.json <<'JEOF'
{"faults": [{"host": "blob", "path": "^/blob/joblog/", "fault": "slow", "chunks": 4,
             "delay_ms": 40, "count": -1}]}
JEOF
start_server slow --runs tree --scenario slow.json
fetch() { # DB CACHE
	"$CISCOPE" --db "$1" fetch --api-url "$API" --cache-dir "$2" --all-logs "$SLUG" >"$OUT" 2>"$ERR"
}
t0=$(now_ms)
fetch fclean.db fcache-clean
rc=$?
TF=$(($(now_ms) - t0))
check_exit fetch-clean-exit 0
echo "crash.sh: a clean fetch of the tree takes ${TF} ms"
# cache_ok CACHE: every file under its final name is whole
cache_ok() {
	bad=
	for f in $(find "$1" -path '*/runs/*/logs/*.txt' -type f 2>/dev/null); do
		job=$(basename "$f" .txt)
		run=$(basename "$(dirname "$(dirname "$f")")")
		cmp -s "$f" "tree/run-$run/logs/$job.txt" || bad="$bad $f"
	done
	json=$(find "$1" -path '*/runs/*' -name '*.json' -type f 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$json" ] && bad="$bad$(h json-ok $json)"
	echo "${bad:-ok}"
}
fkills=${CRASH_FETCH_KILLS:-4}
ffail=0
flanded=0
k=0
for d in $(h delays $((SEED + 1)) "$fkills" "$TF"); do
	k=$((k + 1))
	"$CISCOPE" --db fkill.db fetch --api-url "$API" --cache-dir fcache --all-logs "$SLUG" \
		>fkill.out 2>fkill.err &
	pid=$!
	PIDS="$PIDS $pid"
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -s fkill.out ] || flanded=$((flanded + 1))
	res=$(cache_ok fcache)
	if [ "$res" != ok ]; then
		ffail=$((ffail + 1))
		fail "fetch-kill-$k-cache" "after kill -9 at ${d}s, partial files under their final names:$res"
	fi
	res=$(h check fkill.db fclean.db 2>&1)
	if [ "$res" != ok ]; then
		ffail=$((ffail + 1))
		fail "fetch-kill-$k-index" "after kill -9 at ${d}s: $res"
	fi
done
[ "$ffail" -eq 0 ] && ok "kill-9-fetch ($fkills kills, $flanded mid-fetch)"
fetch fkill.db fcache
rc=$?
check_exit fetch-after-kills-exit 0
check_eq fetch-after-kills-cache "$(cache_ok fcache)" ok
check_eq fetch-after-kills-equal "$(h same fkill.db fclean.db)" same
if raw_same fkill.db tree; then ok fetch-after-kills-log-raw; else fail fetch-after-kills-log-raw "logs differ"; fi
# the cache imports as it is
"$CISCOPE" --db fromcache.db import "fcache" >"$OUT" 2>"$ERR"
rc=$?
check_exit fetch-cache-reimport-exit 0
check_eq fetch-cache-reimport-equal "$(h same fromcache.db fclean.db)" same

lap "fetch kills"
# --- 3. concurrency ----------------------------------------------------------------------------
# a) another process holds the write lock past SQLite's old 5 s timeout (a
#    first import of a 3 GB log): the second importer waits and says why
cp clean.db wait.db
rm -f held
h hold wait.db 5.6 held &
hpid=$!
PIDS="$PIDS $hpid"
i=0
while [ ! -f held ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
t0=$(now_ms)
run_wait() { "$CISCOPE" --db wait.db import "$FIXTURES/runs/hub4j-711446981" >"$OUT" 2>"$ERR"; rc=$?; }
run_wait
waited=$(($(now_ms) - t0))
wait "$hpid"
check_exit wait-import-exit 0
check_has wait-import-says-why "$ERR" "ciscope: waiting for the index 'wait.db': another process is writing to it (Ctrl-C stops)"
check_eq wait-import-no-locked "$(grep -c 'locked' "$ERR")" 0
if [ "$waited" -ge 5000 ]; then ok wait-import-waited; else
	fail wait-import-waited "returned after $waited ms, before the lock was released"; fi
check_eq wait-import-imported "$(h sql wait.db 'SELECT count(*) FROM runs WHERE provider_id = 711446981')" 1

# b) two importers at once on one index (an existing one: two processes
#    creating a fresh index race in its migration, fixed with the migrations)
"$CISCOPE" --db two.db import tree/run-800000 >/dev/null 2>&1
"$CISCOPE" --db two.db import tree >two-a.out 2>two-a.err &
pa=$!
"$CISCOPE" --db two.db import tree >two-b.out 2>two-b.err &
pb=$!
PIDS="$PIDS $pa $pb"
wait "$pa"
ra=$?
wait "$pb"
rb=$?
check_eq two-importers-exit "$ra $rb" "0 0"
check_eq two-importers-no-locked "$(cat two-a.err two-b.err | grep -c 'locked')" 0
check_eq two-importers-equal "$(h same two.db clean.db)" same
check_eq two-importers-check "$(h check two.db clean.db)" ok

# c) readers looping while an import commits run after run (many small
#    runs: a commit, and its sync, every few milliseconds)
h mktree many 60 20000 "$FIXTURES/runs/hub4j-719643947/run.json" "$HUBJOBS" 700000
"$CISCOPE" --db many-clean.db import many >/dev/null 2>&1
"$CISCOPE" --db loop.db import many/run-700000 >/dev/null 2>&1
"$CISCOPE" --db loop.db import many >loop-imp.out 2>loop-imp.err &
ipid=$!
PIDS="$PIDS $ipid"
reads=0
rfail=0
while kill -0 "$ipid" 2>/dev/null || [ "$reads" -lt 3 ]; do
	for cmd in "runs --json --limit 0" "show 700000" "search --limit 5 Process"; do
		# shellcheck disable=SC2086
		"$CISCOPE" --db loop.db $cmd >loop.out 2>loop.err
		r=$?
		reads=$((reads + 1))
		# (search notes on stderr that it stopped at the limit)
		if [ "$r" -ne 0 ] || grep -q '^ciscope:' loop.err; then
			rfail=$((rfail + 1))
			[ "$rfail" -le 3 ] && echo "    reader '$cmd': exit $r: $(head -c 200 loop.err)"
		fi
	done
done
wait "$ipid"
rc=$?
check_exit reader-loop-import-exit 0
check_eq "reader-loop ($reads reads)" "$rfail failed" "0 failed"
check_eq reader-loop-equal "$(h same loop.db many-clean.db)" same

lap "concurrency"
# --- 4. faults with a clear message and an intact index ----------------------------------------
# a) a full disk: a 4 MB tmpfs (as root, or in a user namespace; an index of
# 16 KiB pages takes 1.2 MB for its first run)
cat >full.sh <<'SEOF'
# runs in its own mount namespace when unshared; prints ok/FAIL lines
# (-S: no site packages; the helper needs only the standard library, and
# starts in a fraction of the time)
h() { python3 -S "$WORK/h.py" "$@"; }
mkdir -p full
mount -t tmpfs -o size=4m tmpfs full || { echo "SKIP-MOUNT"; exit 0; }
"$CISCOPE" --db full/idx.db import "$FIXTURES/runs/hub4j-719643947" >/dev/null 2>full.err
[ $? -eq 0 ] && echo "ok full-disk-first-import" || echo "FAIL full-disk-first-import: $(cat full.err)"
cp full/idx.db before.db
"$CISCOPE" --db full/idx.db import big.log >full.out 2>full.err
r=$?
[ $r -eq 1 ] && echo "ok full-disk-exit" || echo "FAIL full-disk-exit: exit $r"
grep -q "cannot store the log of job .*(the disk is full)" full.err &&
	echo "ok full-disk-message-log-chunks" || echo "FAIL full-disk-message-log-chunks: $(cat full.err)"
[ "$(h sql full/idx.db 'PRAGMA integrity_check')" = ok ] &&
	echo "ok full-disk-integrity" || echo "FAIL full-disk-integrity"
[ "$(h same full/idx.db before.db)" = same ] &&
	echo "ok full-disk-index-untouched" || echo "FAIL full-disk-index-untouched: $(h same full/idx.db before.db)"
"$CISCOPE" --db full/idx.db runs >/dev/null 2>full.err &&
	echo "ok full-disk-still-readable" || echo "FAIL full-disk-still-readable: $(cat full.err)"
umount full
SEOF
# 8 MB that hardly compress: the log's chunks spill from SQLite's cache and
# cannot fit
head -c 6000000 /dev/urandom | base64 >big.log
if [ "$(id -u)" -eq 0 ]; then
	WORK=$WORK sh full.sh >full.res 2>&1
	MOUNTS="$MOUNTS $WORK/full"
elif command -v unshare >/dev/null && unshare -rm true 2>/dev/null; then
	WORK=$WORK unshare -rm sh full.sh >full.res 2>&1
else
	echo "SKIP-MOUNT" >full.res
fi
if grep -q SKIP-MOUNT full.res; then
	echo "skip full-disk: cannot mount a tmpfs here (not root, no user namespaces)"
else
	cat full.res
	grep -q '^FAIL' full.res && n_fail=$((n_fail + $(grep -c '^FAIL' full.res)))
fi

# b) a read-only index: on a read-only bind mount, and in a folder another
#    user cannot write (the file itself writable: SQLite still needs the
#    folder for its -shm)
mkdir -p rodir
cp clean.db rodir/idx.db
cp clean.db ro-before.db
cat >ro.sh <<'SEOF'
# (-S: no site packages; the helper needs only the standard library, and
# starts in a fraction of the time)
h() { python3 -S "$WORK/h.py" "$@"; }
{ mount --bind rodir rodir && mount -o remount,ro,bind rodir; } 2>/dev/null || { echo "SKIP-MOUNT"; exit 0; }
for cmd in "runs --json --limit 0" "show 800003" "log --raw 800003/8000030" "search Process" "triage --all"; do
	# shellcheck disable=SC2086
	"$CISCOPE" --db rodir/idx.db $cmd >ro.out 2>ro.err
	r=$?
	# search exits 0 with hits; triage of a run without failures exits 0 or 4
	if [ $r -eq 0 ] || { [ $r -eq 4 ] && [ "$cmd" = "triage --all" ]; }; then
		echo "ok read-only-mount-reads ($cmd)"
	else
		echo "FAIL read-only-mount-reads ($cmd): exit $r: $(head -c 300 ro.err)"
	fi
done
"$CISCOPE" --db rodir/idx.db log --raw 800003/8000030 >ro.out 2>/dev/null
cmp -s ro.out tree/run-800003/logs/8000030.txt && echo "ok read-only-mount-log-raw" ||
	echo "FAIL read-only-mount-log-raw: differs"
"$CISCOPE" --db rodir/idx.db import "$FIXTURES/runs/hub4j-711446981" >ro.out 2>ro.err
r=$?
[ $r -eq 1 ] && echo "ok read-only-mount-import-exit" || echo "FAIL read-only-mount-import-exit: exit $r"
grep -q "ciscope: cannot write to the index 'rodir/idx.db': Read-only file system; commands that only read the index still work" ro.err &&
	echo "ok read-only-mount-import-message" || echo "FAIL read-only-mount-import-message: $(cat ro.err)"
umount rodir
SEOF
if [ "$(id -u)" -eq 0 ]; then
	MOUNTS="$MOUNTS $WORK/rodir"
	WORK=$WORK sh ro.sh >ro.res 2>&1
elif command -v unshare >/dev/null && unshare -rm true 2>/dev/null; then
	WORK=$WORK unshare -rm sh ro.sh >ro.res 2>&1
else
	echo "SKIP-MOUNT" >ro.res
fi
if grep -q SKIP-MOUNT ro.res; then
	echo "skip read-only-mount: cannot bind-mount read-only here (not root, no user namespaces)"
else
	cat ro.res
	grep -q '^FAIL' ro.res && n_fail=$((n_fail + $(grep -c '^FAIL' ro.res)))
fi
if cmp -s rodir/idx.db ro-before.db; then ok read-only-mount-untouched; else
	fail read-only-mount-untouched "the index changed"; fi

# the folder another user cannot write: as root, run as nobody; as a user,
# a folder of mode 0555 is enough
ronobody() { "$@"; }
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	ronobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
fi
if [ "$(id -u)" -eq 0 ] && ! command -v setpriv >/dev/null; then
	echo "skip read-only-folder: root without setpriv cannot act as another user"
else
	# nobody must reach it: outside the test's private (0700) folder
	SHARED=$(mktemp -d /tmp/ciscope-crash-shared.XXXXXX)
	chmod 755 "$SHARED"
	mkdir "$SHARED/idx"
	cp clean.db "$SHARED/idx/index.db"
	cp "$CISCOPE" "$SHARED/ciscope"
	chmod 666 "$SHARED/idx/index.db"
	chmod 555 "$SHARED/idx"
	ronobody env HOME="$SHARED" "$SHARED/ciscope" --db "$SHARED/idx/index.db" runs --limit 0 >"$OUT" 2>"$ERR"
	rc=$?
	check_exit read-only-folder-runs-exit 0
	check_eq read-only-folder-runs "$(grep -c 800 "$OUT")" 8
	ronobody env HOME="$SHARED" "$SHARED/ciscope" --db "$SHARED/idx/index.db" \
		import "$SHARED/idx" >"$OUT" 2>"$ERR"
	rc=$?
	check_exit read-only-folder-import-exit 1
	check_has read-only-folder-import-message "$ERR" "cannot write to the index '$SHARED/idx/index.db': its folder '$SHARED/idx' is not writable (Permission denied)"
	if cmp -s "$SHARED/idx/index.db" clean.db; then ok read-only-folder-untouched; else
		fail read-only-folder-untouched "the index changed"; fi
fi

# c) an index of a newer schema version
cp clean.db newer.db
h set-version newer.db 99
cp newer.db newer-before.db
run_db() { db=$1; shift; "$CISCOPE" --db "$db" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
run_db newer.db runs
check_exit newer-schema-runs-exit 1
check_has newer-schema-runs-message "$ERR" "database 'newer.db' has schema version 99, newer than this ciscope"
run_db newer.db import tree/run-800000
check_exit newer-schema-import-exit 1
check_has newer-schema-import-message "$ERR" "upgrade ciscope"
if cmp -s newer.db newer-before.db; then ok newer-schema-untouched; else
	fail newer-schema-untouched "the file changed"; fi

# d) a file that is not SQLite
printf 'name,value\nthis is not an index\n' >notdb.db
cp notdb.db notdb-before.db
run_db notdb.db runs
check_exit not-sqlite-runs-exit 1
check_has not-sqlite-runs-message "$ERR" "(the file is not a ciscope index or is damaged)"
run_db notdb.db import tree/run-800000
check_exit not-sqlite-import-exit 1
check_has not-sqlite-import-message "$ERR" "(the file is not a ciscope index or is damaged)"
if cmp -s notdb.db notdb-before.db && [ ! -e notdb.db-wal ]; then ok not-sqlite-untouched; else
	fail not-sqlite-untouched "the file changed or got a -wal"; fi

# e) a symbolic link loop in an import tree
mkdir -p ltree/sub
ln -s "$WORK/tree/run-800001" ltree/sub/linked
ln -s .. ltree/sub/up
"$CISCOPE" --db loop2.db import tree/run-800000 >/dev/null 2>&1
run_db loop2.db import ltree
check_exit symlink-loop-exit 1
check_has symlink-loop-message "$ERR" "ciscope: cannot import folder 'ltree/sub/up': a symbolic link loop: it leads back to 'ltree' (not followed)"
check_has symlink-loop-rest-imported "$ERR" "imported 1 run (1 new"
check_eq symlink-loop-index "$(h check loop2.db clean.db)" ok
check_eq symlink-loop-runs "$(h sql loop2.db 'SELECT count(*) FROM runs')" 2

lap faults
finish
