#!/bin/sh
# bench/metrics.sh BUILD - metrics over history (`make bench-metrics`). Not a
# test: it reports, it never fails on a missed target.
#
# Builds an index of BENCH_RUNS runs (default 100000) with BENCH_METRICS
# scalar metrics each (default 50; one JSON leaf per metric, as the importer
# stores them), a 10 % step planted in metric m0 at the middle, then times:
#   ciscope metrics        the table, first after the import: every series
#                          loaded, change points found, the summary cache
#                          (core/metrics.h, metrics_load_table) built
#   ciscope metrics        again: the rows from the summary cache (the
#                          thresholds judged on them): what the metrics
#                          view's first frame needs (target 50 ms)
#   ... after one more run of another workflow (twice): the rows it touched
#                          recomputed, the rest read (migration 010)
#   ... after one more run of bench: every row of it touched, each brought
#                          up to date by appending the new point to the
#                          state it kept (migration 013; target 100 ms)
#   ciscope metrics --branch main   main's own summary cache (the first of
#                          the five builds it)
#   ciscope metrics show m0 --plot   one metric's full chart (target 100 ms)
#   the metrics view and Enter's chart, from a script (bench/ptytime.py
#                          --plain), beyond the run list; a script waits for
#                          the change points the view finds in the background
#   change points over 10,000 points (metrics show on a 10,000-run index)
set -eu
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
BIN=$BUILD/ciscope
W=$BUILD/bench-metrics
RUNS=${BENCH_RUNS:-100000}
METRICS=${BENCH_METRICS:-50}
mkdir -p "$W"

mkindex() { # DB RUNS METRICS
	rm -f "$1"
	"$BIN" --db "$1" metrics >/dev/null 2>&1 || true   # creates the schema
	python3 - "$1" "$2" "$3" <<'EOF'
import random, sqlite3, sys
db, runs, metrics = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
rng = random.Random(20261206)
c.execute("INSERT INTO repos (provider, slug) VALUES ('github', 'bench/metrics')")
t0 = 1760000000000
for r in range(1, runs + 1):
    c.execute("INSERT INTO runs (id, repo_id, provider_id, workflow_name, head_branch, head_sha,"
              " status, conclusion, created_at, started_at, updated_at, imported_at)"
              " VALUES (?, 1, ?, 'bench', 'main', ?, 'completed', 'success', ?, ?, ?, 0)",
              (r, 1000000 + r, "%040x" % (r * 2654435761), t0 + r * 60000, t0 + r * 60000,
               t0 + r * 60000 + 30000))
    c.execute("INSERT INTO artifacts (id, run_id, name) VALUES (?, ?, 'bench')", (r, r))
    c.execute("INSERT INTO artifact_files (id, artifact_id, path, size, kind) VALUES (?, ?, 'bench.json', 100, 'metrics')", (r, r))
    for m in range(metrics):
        sid = r * metrics + m
        v = 100 * (1 + 0.02 * (rng.random() * 2 - 1))
        if m == 0 and r > runs // 2:
            v *= 1.10
        # the point before its series (no foreign keys here), the series
        # with its count: the series' triggers (migration 014) find the
        # point, as the importer's count written after the points does
        c.execute("INSERT INTO metric_points (series_id, idx, x, value) VALUES (?, 0, 0, ?)", (sid, v))
        c.execute("INSERT INTO metric_series (id, run_id, file_id, name, n_points) VALUES (?, ?, ?, ?, 1)",
                  (sid, r, r, "m%d" % m))
c.commit()
EOF
}

addrun() { # DB WORKFLOW METRICS: one more run, as an import adds it (the
	# triggers of migration 010 mark what it touches)
	python3 - "$1" "$2" "$3" <<'EOF'
import sqlite3, sys
db, wf, metrics = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
r = c.execute("SELECT max(id) + 1 FROM runs").fetchone()[0]
t = 1760000000000 + r * 60000
c.execute("INSERT INTO runs (id, repo_id, provider_id, workflow_name, head_branch, head_sha,"
          " status, conclusion, created_at, started_at, updated_at, imported_at)"
          " VALUES (?, 1, ?, ?, 'main', ?, 'completed', 'success', ?, ?, ?, 0)",
          (r, 1000000 + r, wf, "%040x" % (r * 2654435761), t, t, t + 30000))
c.execute("INSERT INTO artifacts (id, run_id, name) VALUES (?, ?, 'bench')", (r, r))
c.execute("INSERT INTO artifact_files (id, artifact_id, path, size, kind) VALUES (?, ?, 'bench.json', 100, 'metrics')", (r, r))
for m in range(metrics):
    sid = c.execute("SELECT max(id) + 1 FROM metric_series").fetchone()[0]
    c.execute("INSERT INTO metric_points (series_id, idx, x, value) VALUES (?, 0, 0, 100)", (sid,))
    c.execute("INSERT INTO metric_series (id, run_id, file_id, name, n_points) VALUES (?, ?, ?, ?, 1)",
              (sid, r, r, ("m%d" if wf == 'bench' else "o%d") % m))
c.commit()
EOF
}

ms() { # COMMAND...: wall milliseconds of one run
	python3 - "$@" <<'EOF'
import subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("%.0f" % ((time.monotonic() - t) * 1000))
EOF
}

ms5() { # COMMAND...: median wall milliseconds of five runs
	python3 - "$@" <<'EOF'
import subprocess, sys, time
t = []
for i in range(5):
    t0 = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.append((time.monotonic() - t0) * 1000)
print("%.0f" % sorted(t)[2])
EOF
}

echo "metrics bench: $RUNS runs x $METRICS metrics"
mkindex "$W/big.db" "$RUNS" "$METRICS"
echo "  ciscope metrics, first after the import  $(ms "$BIN" --db "$W/big.db" metrics) ms (derives, builds the summary cache)"
echo "  ciscope metrics (table, from the cache)  $(ms5 "$BIN" --db "$W/big.db" metrics) ms (median of 5; target 50)"
addrun "$W/big.db" other 2
echo "  ... first after one more run of another workflow (4 rows touched)   $(ms "$BIN" --db "$W/big.db" metrics) ms"
addrun "$W/big.db" other 2
echo "  ... after one more of it (its rows now of 2 points)                $(ms "$BIN" --db "$W/big.db" metrics) ms"
addrun "$W/big.db" bench "$METRICS"
echo "  ... first after one more run of bench (its $METRICS+2 rows touched) $(ms "$BIN" --db "$W/big.db" metrics) ms (target 100)"
echo "  ciscope metrics --branch main             $(ms5 "$BIN" --db "$W/big.db" metrics --branch main) ms (median of 5)"
echo "  ciscope metrics show m0 --plot (chart)   $(ms5 "$BIN" --db "$W/big.db" metrics show --plot m0) ms (median of 5; target 100)"
echo "  ciscope --version (the process alone)    $(ms5 "$BIN" --version) ms"
# the metrics view (views/metrics.c) from a script, whole process: the run
# list alone, then :metrics (its first frame), then Enter (the chart of the
# first metric at 200x50)
PT="$(cd "$(dirname "$0")" && pwd)/ptytime.py"
tui_ms() { # NAME KEYS
	printf '%s\n:quit\n' "$2" >"$W/$1.keys"
	python3 "$PT" --plain --repeat 5 --env "CISCOPE_SCRIPT=$W/$1.keys" --env LINES=50 \
		--env COLUMNS=200 -- "$BIN" --db "$W/big.db" |
		sed -n 's/^median_ms=\([0-9.]*\) .*/\1/p'
}
LIST=$(tui_ms list '')
VIEW=$(tui_ms view ':metrics')
CHART=$(tui_ms chart ':metrics
<Enter>')
echo "  TUI: run list, then quit (whole process)  $LIST ms"
echo "  TUI: ... :metrics (its rows from the summary cache) $VIEW ms (+$(awk -v a="$LIST" -v b="$VIEW" 'BEGIN { printf "%.0f", b - a }') ms)"
echo "  TUI: ... Enter, the chart at 200x50       $CHART ms (+$(awk -v a="$VIEW" -v b="$CHART" 'BEGIN { printf "%.0f", b - a }') ms; target 100)"
echo "  (the summary cache holds the change points: the view finds none in the background;"
echo "   Enter's chart loads its one series by name and finds its change points)"
mkindex "$W/cp.db" 10000 1
"$BIN" --db "$W/cp.db" metrics >/dev/null 2>&1 || true   # derives what is kept (once)
echo "  metrics show m0, 10,000 points, change points from the summary cache  $(ms "$BIN" --db "$W/cp.db" metrics show m0) ms"
# the summary cache forgotten: show finds the change points itself
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM metric_summary_meta"); c.commit()' "$W/cp.db"
echo "  change points over 10,000 points         $(ms "$BIN" --db "$W/cp.db" metrics show m0) ms"
"$BIN" --db "$W/cp.db" metrics show m0 | sed -n '/^change points/,/^thresholds/p' | head -5
