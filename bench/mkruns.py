#!/usr/bin/env python3
"""mkruns.py - a ciscope index holding N runs, for the first-frame benchmark.

    mkruns.py DB N [SEED]

DB must be a ciscope index (its schema made by ciscope itself, e.g. by
importing one small log: bench/tui.sh does that); every run in it is
replaced by N generated runs of a repository bench/orrery: four workflows,
a dozen branches, statuses and conclusions in realistic proportions (a few
in progress), two or three jobs each with their steps, no logs. Writing the
rows directly takes a second where importing 10,000 run folders would take
minutes. Deterministic for a seed. Standard library only.
"""
import hashlib
import random
import sqlite3
import sys

WORKFLOWS = [("ci", ".github/workflows/ci.yml", 0.5), ("parity", ".github/workflows/parity.yml", 0.2),
             ("bench", ".github/workflows/bench.yml", 0.15), ("release", ".github/workflows/release.yml", 0.15)]
BRANCHES = ["main"] * 12 + ["release/1.%d" % i for i in range(3)] + [
    "mholt/quadtree-theta", "twierzbicki/f32-simd", "priyaraman/docs-site", "jekwueme/eslint-flat-config",
    "feature/adaptive-timestep", "dependabot/npm_and_yarn/vite-5.4.11"]
VERBS = ["fix", "add", "remove", "speed up", "refactor", "document", "test", "bump", "revert", "tune"]
THINGS = ["the integrator", "collision merging", "the quadtree", "parity harness", "wasm build",
          "energy ledger", "CI cache", "bench report", "scenario loader", "release notes"]
JOBS = {"ci": ["lint", "test-ts", "test-rust", "build-wasm"], "parity": ["parity"],
        "bench": ["bench"], "release": ["build", "publish"]}
STEPS = ["Set up job", "Run actions/checkout@v4", "Run npm ci", "Run the tests", "Complete job"]


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: mkruns.py DB N [SEED]")
    db, n = argv[0], int(argv[1])
    rnd = random.Random(int(argv[2]) if len(argv) > 2 else 20261004)
    c = sqlite3.connect(db)
    c.execute("PRAGMA foreign_keys=ON")
    c.execute("BEGIN")
    c.execute("DELETE FROM runs")
    c.execute("DELETE FROM repos")
    c.execute("INSERT INTO repos (provider, slug, html_url) VALUES "
              "('github', 'bench/orrery', 'https://github.com/bench/orrery')")
    repo = c.execute("SELECT id FROM repos").fetchone()[0]
    t = 1795000000000  # ms, newest run; older ones below
    run_rows, job_rows, step_rows = [], [], []
    run_id = job_id = 0
    for i in range(n):
        wf, path = rnd.choices([w[:2] for w in WORKFLOWS], [w[2] for w in WORKFLOWS])[0]
        t -= rnd.randint(60, 3600) * 1000
        sha = hashlib.sha1(b"%d" % i).hexdigest()
        subject = "%s: %s %s" % (rnd.choice(["engine-rs", "engine-ts", "ci", "docs", "bench"]),
                                 rnd.choice(VERBS), rnd.choice(THINGS))
        in_progress = i < 3 and rnd.random() < 0.7
        conclusion = None if in_progress else rnd.choices(
            ["success", "failure", "cancelled", "skipped"], [85, 10, 3, 2])[0]
        dur = rnd.randint(40, 1900) * 1000
        attempt = 2 if rnd.random() < 0.03 else 1
        run_id += 1
        run_rows.append((run_id, repo, 9000000000 + i, attempt, 1000 + i, 100, wf, path, subject,
                         rnd.choice(["push", "push", "pull_request", "schedule"]),
                         rnd.choice(BRANCHES), sha, "in_progress" if in_progress else "completed",
                         conclusion, t, t + dur, t, "https://github.com/bench/orrery/actions/runs/%d"
                         % (9000000000 + i), "mholt", subject + "\n\nbody", "Maren Holt",
                         t - 60000, "mkruns", "mkruns:%d" % i, t + dur))
        for k, name in enumerate(JOBS[wf]):
            job_id += 1
            jc = conclusion if k == len(JOBS[wf]) - 1 or conclusion != "failure" else "success"
            job_rows.append((job_id, run_id, 20000000000 + job_id, name,
                             "in_progress" if in_progress else "completed", jc, t, t + dur,
                             k, "missing"))
            for s, sname in enumerate(STEPS):
                step_rows.append((job_id, s + 1, sname, "completed", jc if s == 3 else "success",
                                  t + s * 1000, t + (s + 1) * 1000))
    c.executemany(
        "INSERT INTO runs (id, repo_id, provider_id, attempt, run_number, workflow_id, workflow_name, "
        "workflow_path, title, event, head_branch, head_sha, status, conclusion, created_at, "
        "updated_at, started_at, html_url, actor, commit_message, commit_author, commit_time, source, "
        "import_sig, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
    c.executemany(
        "INSERT INTO jobs (id, run_id, provider_id, name, status, conclusion, started_at, "
        "completed_at, ordinal, log_state) VALUES (?,?,?,?,?,?,?,?,?,?)", job_rows)
    c.executemany(
        "INSERT INTO steps (job_id, number, name, status, conclusion, started_at, completed_at) "
        "VALUES (?,?,?,?,?,?,?)", step_rows)
    c.commit()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print("%d runs, %d jobs, %d steps" % (len(run_rows), len(job_rows), len(step_rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
