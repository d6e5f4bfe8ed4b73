#!/bin/sh
# commits.sh BUILD - the commits view's judging on a large index (not a test;
# `make bench-commits`): `ciscope commits --limit 1000 --json` over a
# 1,000-commit first-parent history (bench/mkrepo.py) with, per commit, a ci
# run and two parity runs, each parity run holding two channels of
# COMMITS_POINTS (500) points (ref and cand series, data/parity.conf's
# pairing), and every run judged for parity and thresholds. The first
# call (verdicts derived and stored), then best of 5, with --limit 50 (the
# view's first screen) for comparison; target: under 200 ms for 1,000
# commits. KEEP=1 keeps the work directory.
#
# Environment: COMMITS_N (1000), COMMITS_POINTS (500).
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/ciscope
N=${COMMITS_N:-1000}
P=${COMMITS_POINTS:-500}
W=${TMPDIR:-/tmp}/ciscope-bench-commits.$$
mkdir -p "$W"
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
say() { printf '%s\n' "$*"; }

say "ciscope commits benchmark  $(date -u +%Y-%m-%dT%H:%MZ)  $(uname -m)"
python3 "$ROOT/bench/mkrepo.py" "$W/repo" "$N" >/dev/null
git -C "$W/repo" rev-list --first-parent main >"$W/shas"
printf 'hello\n' >"$W/one.log"
"$BIN" --db "$W/index.db" import --quiet "$W/one.log" >/dev/null
python3 - "$W/index.db" "$W/shas" "$P" <<'EOP'
import math, sqlite3, sys
db, shas, npts = sys.argv[1], open(sys.argv[2]).read().split(), int(sys.argv[3])
con = sqlite3.connect(db)
con.execute("DELETE FROM runs")
con.execute("INSERT OR IGNORE INTO repos (id, slug) VALUES (4242, 'bench/orrery')")
pid = 7000000000
t = 1700000000000
for i, sha in enumerate(reversed(shas)):
    for wf, k in (("ci", 1), ("parity", 2)):
        for a in range(k):
            pid += 1
            t += 60000
            concl = "failure" if (wf == "ci" and i % 17 == 0) else "success"
            cur = con.execute("INSERT INTO runs (repo_id, provider_id, attempt, workflow_name, head_branch, head_sha, "
                              "status, conclusion, created_at, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                              (4242, pid, 1, wf, "main", sha, "completed", concl, t, 0))
            run = cur.lastrowid
            if wf != "parity":
                continue
            art = con.execute("INSERT INTO artifacts (run_id, name, source) VALUES (?, 'trace', 'folder')", (run,)).lastrowid
            f = con.execute("INSERT INTO artifact_files (artifact_id, path, size, kind) VALUES (?, 'trace.csv', 1, 'metrics')",
                            (art,)).lastrowid
            drift = 1e-3 if i > len(shas) * 3 // 4 else 0.0
            for ch in ("loss", "energy"):
                for side in ("ref", "cand"):
                    s = con.execute("INSERT INTO metric_series (run_id, file_id, name, x_name, n_points) VALUES (?,?,?,?,?)",
                                    (run, f, "%s_%s" % (ch, side), "step", npts)).lastrowid
                    con.executemany("INSERT INTO metric_points (series_id, idx, x, value) VALUES (?,?,?,?)",
                                    [(s, j, j, math.sin(j / 10.0) + (drift * j if side == "cand" else 0))
                                     for j in range(npts)])
con.commit()
EOP
runs=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$W/index.db")
say "index: $runs runs on $N commits (a ci run and two parity runs with 2 channels x $P points each per commit)"
ms() { echo $(($(date +%s%N) / 1000000)); }
# the first call derives every run's parity verdict and stores it
# (parity_verdicts); the calls after it read them back
a=$(ms)
(cd "$W/repo" && "$BIN" --db "$W/index.db" commits --limit "$N" --json) >/dev/null
b=$(ms)
say "ciscope commits --limit $N --json, first call (no stored verdicts): $((b - a)) ms"
for lim in 50 "$N"; do
	best=999999
	for i in 1 2 3 4 5; do
		a=$(ms)
		(cd "$W/repo" && "$BIN" --db "$W/index.db" commits --limit "$lim" --json) >"$W/out.json"
		b=$(ms)
		[ $((b - a)) -lt "$best" ] && best=$((b - a))
	done
	summary=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); rows=d.get("commits", d.get("rows", [])); print(len(rows), "rows,", sum(1 for r in rows if (r.get("parity") or {}).get("verdict") == "fail"), "with parity failing")' "$W/out.json" 2>/dev/null || echo "?")
	say "ciscope commits --limit $lim --json: best of 5 $best ms ($summary)"
done
