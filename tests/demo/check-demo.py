#!/usr/bin/env python3
"""check-demo.py OUTDIR - generate the demo data set twice and check it.

Runs tools/demo-gen.py into OUTDIR and OUTDIR-2, then validates the first
copy (run folders in the GitHub REST API shapes, log archives, log
timestamps against job and step times, artifacts, the planted failures the
MANIFEST names, the git repository) and that both copies are identical.
Prints what it checked; exits 0 when everything holds, 1 otherwise.
"""

import calendar
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, "tools", "demo-gen.py")

RUN_FIELDS = {"id": int, "name": str, "path": str, "display_title": str, "run_number": int,
              "run_attempt": int, "event": str, "status": str, "head_branch": str, "head_sha": str,
              "workflow_id": int, "created_at": str, "updated_at": str, "run_started_at": str,
              "html_url": str, "actor": dict, "head_commit": dict, "repository": dict}
JOB_FIELDS = {"id": int, "run_id": int, "run_attempt": int, "name": str, "status": str,
              "started_at": str, "runner_name": str, "runner_group_name": str, "labels": list,
              "html_url": str, "steps": list}
STEP_FIELDS = {"name": str, "status": str, "number": int}
TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{7})Z ")
SEC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TOP_RE = re.compile(r"^(\d+)_(.+)\.txt$")
STEP_RE = re.compile(r"^([^/]+)/(\d+)_(.*)\.txt$")

SIGNATURES = {
    "rustc_error": ["error[E0308]: mismatched types", "--> engine-rs/src/integrator.rs:88:17",
                    "error: could not compile `orrery-engine`"],
    "jest_failure": ["● integrator › conserves energy",
                     "at Object.<anonymous> (engine-ts/test/integrator.test.ts:42:31)"],
    "python_traceback": ["Traceback (most recent call last):", "KeyError: 'wasm_size_kb'"],
    "timeout": ["##[error]The job running on runner GitHub Actions 12 has exceeded the maximum "
                "execution time of 30 minutes."],
    "oom_kill": ["Killed", "##[error]Process completed with exit code 137."],
    "flaky_network": ["npm ERR! code ECONNRESET", "npm ERR! network aborted"],
    "parity_regression": ["parity: energy diverged at step 6", "##[error]parity check failed"],
    "feature_branch_test_failure": ["panicked at engine-rs/src/adaptive.rs"],
}


class Checker:
    def __init__(self):
        self.errors = []
        self.counts = {}

    def fail(self, msg):
        if len(self.errors) < 200:
            self.errors.append(msg)

    def ok(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n


def epoch(s):
    """RFC 3339 second-precision 'Z' time -> epoch seconds."""
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def check_fields(ck, obj, fields, where):
    for k, ty in fields.items():
        if k not in obj:
            ck.fail("%s: missing field %s" % (where, k))
        elif not isinstance(obj[k], ty) or (ty is int and isinstance(obj[k], bool)):
            ck.fail("%s: field %s has type %s" % (where, k, type(obj[k]).__name__))


def check_log_text(ck, text, where, crlf_expected, t_lo, t_hi, intervals=None):
    """Runner line shape, increasing timestamps within [t_lo, t_hi + 1)."""
    body = text[1:] if text.startswith("\ufeff") else text
    if not body.endswith("\n"):
        ck.fail("%s: does not end with a newline" % where)
    n_crlf = body.count("\r\n")
    n_lf = body.count("\n")
    if crlf_expected and n_crlf != n_lf:
        ck.fail("%s: expected CRLF line endings (%d of %d lines)" % (where, n_crlf, n_lf))
    if not crlf_expected and n_crlf:
        ck.fail("%s: expected LF line endings, found %d CRLF" % (where, n_crlf))
    lines = body.split("\n")[:-1]
    if lines and not TS_RE.match(lines[0]):
        ck.fail("%s: first line has no timestamp" % where)
    prev = None
    for i, ln in enumerate(lines, 1):
        ln = ln.rstrip("\r")
        m = TS_RE.match(ln)
        if not m:
            if ln.startswith("20") and ln[:4].isdigit() and "Z " in ln[:30]:
                ck.fail("%s:%d: malformed timestamp" % (where, i))
            continue
        t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2)) / 1e7
        if prev is not None and t <= prev:
            ck.fail("%s:%d: timestamp not increasing" % (where, i))
            return
        prev = t
        if t < t_lo or t >= t_hi + 1:
            ck.fail("%s:%d: timestamp %s outside [%d, %d]" % (where, i, m.group(0), t_lo, t_hi))
            return
        if intervals is not None and not any(a <= t < b + 1 for a, b in intervals):
            ck.fail("%s:%d: timestamp %s in no step's time span" % (where, i, m.group(0)))
            return
    ck.ok("log lines", len(lines))


def sanitize(name):
    return "".join(ch for ch in name if ch not in '/:"<>|*?\\' and ord(ch) >= 32)[:90].rstrip()


def check_run(ck, rd, rid, logs_by_job):
    where = "runs/%s" % rid
    try:
        run = json.load(open(os.path.join(rd, "run.json"), encoding="utf-8"))
        jobs_doc = json.load(open(os.path.join(rd, "jobs.json"), encoding="utf-8"))
    except (OSError, ValueError) as e:
        ck.fail("%s: %s" % (where, e))
        return None
    check_fields(ck, run, RUN_FIELDS, where + "/run.json")
    if run.get("id") != int(rid):
        ck.fail("%s: run.json id %r differs from the folder name" % (where, run.get("id")))
    if len(str(run.get("id"))) != 10:
        ck.fail("%s: run id is not 10 digits" % where)
    for k in ("created_at", "updated_at", "run_started_at"):
        if not SEC_RE.match(str(run.get(k))):
            ck.fail("%s: run.json %s %r is not an RFC 3339 UTC second" % (where, k, run.get(k)))
    if run.get("status") == "completed" and run.get("conclusion") is None:
        ck.fail("%s: completed run without conclusion" % where)
    if run.get("status") != "completed" and run.get("conclusion") is not None:
        ck.fail("%s: unfinished run with a conclusion" % where)
    jobs = jobs_doc.get("jobs", [])
    if jobs_doc.get("total_count") != len(jobs):
        ck.fail("%s: jobs.json total_count %r but %d jobs" % (where, jobs_doc.get("total_count"), len(jobs)))
    latest = run.get("run_attempt", 1)
    attempts = sorted({j.get("run_attempt") for j in jobs})
    if attempts != list(range(1, latest + 1)):
        ck.fail("%s: job attempts %r, run_attempt %r" % (where, attempts, latest))
    for a in range(1, latest):
        p = os.path.join(rd, "attempts", str(a), "run.json")
        try:
            ar = json.load(open(p, encoding="utf-8"))
            check_fields(ck, ar, RUN_FIELDS, "%s/attempts/%d/run.json" % (where, a))
            if ar.get("run_attempt") != a or ar.get("id") != run.get("id"):
                ck.fail("%s/attempts/%d/run.json: wrong id or run_attempt" % (where, a))
            ck.ok("earlier attempts")
        except (OSError, ValueError) as e:
            ck.fail("%s: attempt %d: %s" % (where, a, e))
    crlf = epoch(run["created_at"]) < calendar.timegm((2026, 10, 10, 0, 0, 0))
    latest_jobs = [j for j in jobs if j.get("run_attempt") == latest]
    texts = {}
    for j in jobs:
        jw = "%s job %s" % (where, j.get("id"))
        check_fields(ck, j, JOB_FIELDS, jw)
        if j.get("run_id") != run.get("id"):
            ck.fail("%s: run_id %r" % (jw, j.get("run_id")))
        if len(str(j.get("id"))) != 11:
            ck.fail("%s: job id is not 11 digits" % jw)
        ck.ok("jobs")
        for s in j.get("steps", []):
            check_fields(ck, s, STEP_FIELDS, "%s step %s" % (jw, s.get("number")))
            for k in ("started_at", "completed_at"):
                if s.get(k) is not None and not SEC_RE.match(s[k]):
                    ck.fail("%s step %s: %s %r not second precision" % (jw, s.get("number"), k, s[k]))
            ck.ok("steps")
        p = os.path.join(rd, "logs", "%d.txt" % j["id"])
        if os.path.exists(p):
            texts[j["id"]] = open(p, "rb").read().decode("utf-8")
            ck.ok("per-job log files")
        elif j.get("run_attempt") != latest:
            ck.fail("%s: earlier attempt without logs/%d.txt" % (jw, j["id"]))
    zp = os.path.join(rd, "logs.zip")
    step_files = {}
    if os.path.exists(zp):
        if run.get("status") != "completed":
            ck.fail("%s: logs.zip for a run that is not completed" % where)
        try:
            z = zipfile.ZipFile(zp)
            bad = z.testzip()
            if bad:
                ck.fail("%s: logs.zip entry %s is corrupt" % (where, bad))
            names = {sanitize(j["name"]): j for j in latest_jobs}
            tops = set()
            for n in z.namelist():
                if n.endswith("/"):
                    continue
                m = TOP_RE.match(n)
                if m and "/" not in n:
                    j = names.get(m.group(2))
                    if not j:
                        ck.fail("%s: logs.zip entry %s matches no job" % (where, n))
                        continue
                    tops.add(m.group(2))
                    texts[j["id"]] = z.read(n).decode("utf-8")
                    continue
                m = STEP_RE.match(n)
                j = names.get(m.group(1)) if m else None
                if not j:
                    ck.fail("%s: unexpected logs.zip entry %s" % (where, n))
                    continue
                st = [s for s in j["steps"] if s["number"] == int(m.group(2))]
                if not st or sanitize(st[0]["name"]) != m.group(3):
                    ck.fail("%s: logs.zip step file %s matches no step" % (where, n))
                    continue
                step_files[(j["id"], n)] = (st[0], z.read(n).decode("utf-8"))
            if tops != set(names):
                ck.fail("%s: logs.zip job files %s, jobs %s" % (where, sorted(tops), sorted(names)))
            ck.ok("logs.zip archives")
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as e:
            ck.fail("%s: logs.zip: %s" % (where, e))
    for j in jobs:
        if j["status"] == "completed" and j["id"] not in texts:
            ck.fail("%s: no log for completed job %d (%s)" % (where, j["id"], j["name"]))
        if j["status"] != "completed" and j["id"] in texts:
            ck.fail("%s: a log for unfinished job %d" % (where, j["id"]))
    for j in jobs:
        if j["id"] not in texts:
            continue
        spans = [(epoch(s["started_at"]), epoch(s["completed_at"])) for s in j["steps"]
                 if s.get("started_at") and s.get("completed_at")]
        check_log_text(ck, texts[j["id"]], "%s job %d log" % (where, j["id"]), crlf,
                       epoch(j["started_at"]), epoch(j["completed_at"]), spans)
        logs_by_job[(int(rid), j["run_attempt"], j["name"])] = (j, texts[j["id"]])
    for (jid, n), (st, text) in step_files.items():
        check_log_text(ck, text, "%s logs.zip %s" % (where, n), crlf, epoch(st["started_at"]),
                       epoch(st["completed_at"]))
        ck.ok("per-step archive files")
    return run, jobs


def artifact_files(ck, rd, where):
    out = {}
    ad = os.path.join(rd, "artifacts")
    if not os.path.isdir(ad):
        return out
    for e in sorted(os.listdir(ad)):
        p = os.path.join(ad, e)
        try:
            if e.endswith(".zip"):
                z = zipfile.ZipFile(p)
                if z.testzip():
                    ck.fail("%s: artifacts/%s is corrupt" % (where, e))
                out[e[:-4]] = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
                ck.ok("artifact zips")
            elif os.path.isdir(p):
                out[e] = {n: open(os.path.join(p, n), "rb").read() for n in os.listdir(p)}
                ck.ok("artifact folders")
            else:
                ck.fail("%s: unexpected artifacts/%s" % (where, e))
        except (zipfile.BadZipFile, OSError) as ex:
            ck.fail("%s: artifacts/%s: %s" % (where, e, ex))
    return out


def last_number(text, pattern):
    m = re.findall(pattern, ANSI_RE.sub("", text))
    return int(m[-1]) if m else None


def check_artifacts(ck, rd, rid, run, logs_by_job):
    where = "runs/%s" % rid
    arts = artifact_files(ck, rd, where)
    latest = run["run_attempt"]
    log = lambda name: logs_by_job.get((int(rid), latest, name), (None, ""))[1]
    result = {}
    try:
        if "junit-ts" in arts:
            root = ET.fromstring(arts["junit-ts"]["junit-ts.xml"])
            n = last_number(log("test-ts"), r"Tests: .*?(\d+) total")
            if root.tag != "testsuites" or int(root.get("tests")) != n:
                ck.fail("%s: junit-ts has %s tests, the log says %s" % (where, root.get("tests"), n))
            if len(root.findall(".//testcase")) != n:
                ck.fail("%s: junit-ts testcase count differs from its tests attribute" % where)
            ck.ok("JUnit reports")
        if "junit-rust" in arts:
            root = ET.fromstring(arts["junit-rust"]["junit.xml"])
            n = last_number(log("test-rust"), r"(\d+) tests run")
            if root.get("name") != "nextest-run" or int(root.get("tests")) != n:
                ck.fail("%s: junit-rust has %s tests, the log says %s" % (where, root.get("tests"), n))
            ck.ok("JUnit reports")
        if "parity" in arts:
            csv = arts["parity"]["parity.csv"].decode().split("\n")
            if csv[0] != ("step,pos_x_ref,pos_x_cand,pos_y_ref,pos_y_cand,energy_ref,energy_cand,"
                          "resources_ref,resources_cand") or len(csv) != 1002 or csv[-1] != "":
                ck.fail("%s: parity.csv header or row count wrong" % where)
            s = json.loads(arts["parity"]["summary.json"])
            if s.get("steps") != 1000 or not isinstance(s.get("passed"), bool) or \
                    set(s.get("tolerance", {})) != {"atol", "rtol"} or not isinstance(s.get("max_abs_delta"), dict):
                ck.fail("%s: parity summary.json shape" % where)
            tol = s["tolerance"]["atol"] + s["tolerance"]["rtol"] * 1.7e-4
            if s["passed"] != (s["max_abs_delta"]["energy"] <= tol):
                ck.fail("%s: parity summary passed=%s but max energy delta %g" % (where, s["passed"],
                                                                                  s["max_abs_delta"]["energy"]))
            result["parity_passed"] = s["passed"]
            ck.ok("parity artifacts")
        if "bench" in arts:
            b = json.loads(arts["bench"]["bench.json"])
            for k in ("startup_ms", "memory", "throughput"):
                if k not in b:
                    ck.fail("%s: bench.json without %s" % (where, k))
            result["peak_rss_mb"] = b["memory"]["peak_rss_mb"]
            result["has_wasm_size"] = "wasm_size_kb" in b
            ck.ok("bench artifacts")
    except (ET.ParseError, ValueError, KeyError, TypeError) as e:
        ck.fail("%s: artifact: %r" % (where, e))
    return result


def git(repo, *args):
    p = subprocess.run(["git", "-C", repo] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1"))
    return p.returncode, p.stdout.decode().strip()


def check_repo(ck, out, manifest, runs):
    repo = os.path.join(out, "repo")
    rc, n = git(repo, "rev-list", "--count", "main")
    if rc or not 50 <= int(n) <= 75:
        ck.fail("repo: %s commits on main (want about 60)" % n)
    rc, m = git(repo, "rev-list", "--merges", "--count", "main")
    if rc or int(m) < 5:
        ck.fail("repo: %s merge commits on main" % m)
    rc, f = git(repo, "rev-list", "--count", "main..feature/adaptive-timestep")
    if rc or not 3 <= int(f) <= 4:
        ck.fail("repo: feature/adaptive-timestep has %s commits of its own" % f)
    rc, u = git(repo, "remote", "get-url", "origin")
    if u != "https://github.com/tidewater/orrery.git":
        ck.fail("repo: origin is %r" % u)
    rc, subj = git(repo, "log", "--merges", "--format=%s", "main")
    if not all(re.match(r"^Merge pull request #\d+ from \S+/\S+$", s) for s in subj.split("\n")):
        ck.fail("repo: merge subjects not in GitHub's form")
    rc, dates = git(repo, "log", "--all", "--format=%at")
    lo, hi = calendar.timegm((2026, 10, 1, 0, 0, 0)), calendar.timegm((2026, 11, 2, 0, 0, 0))
    if any(not lo <= int(d) < hi for d in dates.split()):
        ck.fail("repo: commit dates outside October 2026")
    shas = sorted({r["head_sha"] for r in runs.values()})
    p = subprocess.run(["git", "-C", repo, "cat-file", "--batch-check"], input="\n".join(shas).encode(),
                       stdout=subprocess.PIPE)
    missing = [l for l in p.stdout.decode().split("\n") if l.endswith("missing")]
    if missing:
        ck.fail("repo: run head SHAs missing from the repository: %s" % missing[:3])
    for key, pl in manifest["planted"].items():
        for k in ("introduced_by", "fixed_by"):
            if pl.get(k) and git(repo, "cat-file", "-e", pl[k] + "^{commit}")[0]:
                ck.fail("repo: planted %s %s %s is not a commit" % (key, k, pl[k]))
        if pl.get("fixed_by") and git(repo, "merge-base", "--is-ancestor", pl["introduced_by"], pl["fixed_by"])[0]:
            ck.fail("repo: planted %s: the fix does not descend from the cause" % key)
    ck.ok("repository checks")


def tree_hashes(out):
    h = {}
    for dp, dn, fns in os.walk(out):
        if os.path.relpath(dp, out).split(os.sep)[:2] == ["repo", ".git"]:
            dn[:] = []
            continue
        for fn in fns:
            p = os.path.join(dp, fn)
            h[os.path.relpath(p, out)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    _rc, refs = git(os.path.join(out, "repo"), "for-each-ref", "--format=%(objectname) %(refname)")
    h["<git refs>"] = refs
    _rc, objs = git(os.path.join(out, "repo"), "rev-list", "--all", "--objects")
    h["<git objects>"] = hashlib.sha256(objs.encode()).hexdigest()
    return h


def check_planted(ck, manifest, runs, arts, logs_by_job):
    planted = manifest["planted"]
    for key, sigs in SIGNATURES.items():
        pl = planted.get(key)
        if not pl or not pl.get("shows_in"):
            ck.fail("planted %s: the MANIFEST names no run" % key)
            continue
        for s in pl["shows_in"]:
            j, text = logs_by_job.get((s["run_id"], s["attempt"], s["job"]), (None, None))
            if text is None:
                ck.fail("planted %s: no log for run %s attempt %s job %s" % (key, s["run_id"], s["attempt"], s["job"]))
                continue
            plain = ANSI_RE.sub("", text)
            for sig in sigs:
                if sig not in plain:
                    ck.fail("planted %s: run %s job %s lacks %r" % (key, s["run_id"], s["job"], sig))
            if j["conclusion"] != "failure":
                ck.fail("planted %s: run %s job %s concluded %s" % (key, s["run_id"], s["job"], j["conclusion"]))
        ck.ok("planted failures")
    # parity: failing exactly in the runs the MANIFEST names, diverging near step 600
    bad = set(planted["parity_regression"]["runs"])
    for rid, r in runs.items():
        if r["name"] == "parity" and "parity_passed" in arts.get(rid, {}):
            if arts[rid]["parity_passed"] == (rid in bad):
                ck.fail("parity run %s: summary passed=%s" % (rid, arts[rid]["parity_passed"]))
    steps = planted["parity_regression"].get("divergence_step", {}).values()
    if not steps or not all(560 <= s <= 700 for s in steps):
        ck.fail("parity regression: divergence steps %s not about 600" % sorted(steps))
    mem = planted["memory_regression"]
    before = sorted(arts[i]["peak_rss_mb"] for i in mem.get("runs_before", []) if "peak_rss_mb" in arts.get(i, {}))
    after = sorted(arts[i]["peak_rss_mb"] for i in mem["runs"] if "peak_rss_mb" in arts.get(i, {}))
    if not before or not after or not 1.3 <= after[len(after) // 2] / before[len(before) // 2] <= 1.5:
        ck.fail("memory regression: peak_rss_mb medians %s -> %s" % (before[len(before) // 2:][:1],
                                                                    after[len(after) // 2:][:1]))
    fl = planted["flaky_network"]
    r = runs.get(fl.get("run_id"))
    if not r or r["run_attempt"] != 2 or r["conclusion"] != "success" or \
            r["_attempt1"].get("conclusion") != "failure" or r["_attempt1"].get("head_sha") != r["head_sha"]:
        ck.fail("flaky run %s: attempt 1 must fail and attempt 2 pass on the same commit" % fl.get("run_id"))
    for rid in manifest["cancelled_runs"]:
        if runs[rid]["conclusion"] != "cancelled":
            ck.fail("run %s: listed as cancelled, concluded %s" % (rid, runs[rid]["conclusion"]))
    if len(manifest["cancelled_runs"]) < 1 or len(manifest["in_progress_runs"]) != 1:
        ck.fail("want one or more cancelled runs and exactly one in progress")
    for rid in manifest["in_progress_runs"]:
        r = runs[rid]
        if r["status"] != "in_progress" or r["conclusion"] is not None or r["_has_zip"]:
            ck.fail("run %s: in-progress run has status %s, conclusion %s, logs.zip %s"
                    % (rid, r["status"], r["conclusion"], r["_has_zip"]))
        if not any(j["status"] == "in_progress" for j in r["_jobs"]):
            ck.fail("run %s: no job in progress" % rid)
    attempts = [r["run_attempt"] for r in runs.values()]
    if sum(1 for a in attempts if a >= 2) < 3 or 3 not in attempts:
        ck.fail("re-runs: attempts %s" % sorted(a for a in attempts if a > 1))
    events = {r["event"] for r in runs.values()}
    if events != {"push", "pull_request", "schedule"}:
        ck.fail("events: %s" % sorted(events))
    if not any(r["head_branch"] == "feature/adaptive-timestep" for r in runs.values()):
        ck.fail("no run on feature/adaptive-timestep")


def prepare(path):
    if os.path.exists(path):
        # only ever remove what demo-gen.py writes (possibly half-written)
        if not set(os.listdir(path)) <= {"repo", "runs", "MANIFEST.json"}:
            sys.exit("check-demo: %s exists and is not a demo set; not removing it" % path)
        shutil.rmtree(path)


def main(argv):
    if len(argv) != 1:
        print("usage: check-demo.py OUTDIR", file=sys.stderr)
        return 2
    out = os.path.abspath(argv[0].rstrip("/"))
    out2 = out + "-2"
    t0 = time.time()
    gen_times = []
    for d in (out, out2):
        prepare(d)
        t = time.time()
        p = subprocess.run([sys.executable, GEN, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        gen_times.append(time.time() - t)
        if p.returncode:
            print(p.stderr.decode(), file=sys.stderr)
            print("FAIL: demo-gen.py exited with %d" % p.returncode)
            return 1
    ck = Checker()
    manifest = json.load(open(os.path.join(out, "MANIFEST.json"), encoding="utf-8"))
    runs, arts, logs_by_job = {}, {}, {}
    rdir = os.path.join(out, "runs")
    for rid in sorted(os.listdir(rdir)):
        rd = os.path.join(rdir, rid)
        got = check_run(ck, rd, rid, logs_by_job)
        if not got:
            continue
        run, jobs = got
        a1 = os.path.join(rd, "attempts", "1", "run.json")
        run["_attempt1"] = json.load(open(a1)) if os.path.exists(a1) else {}
        run["_has_zip"] = os.path.exists(os.path.join(rd, "logs.zip"))
        run["_jobs"] = jobs
        runs[int(rid)] = run
        arts[int(rid)] = check_artifacts(ck, rd, rid, run, logs_by_job)
        ck.ok("run folders")
    per_wf = {}
    for r in runs.values():
        per_wf[r["name"]] = per_wf.get(r["name"], 0) + 1
    if per_wf != manifest["counts"]["per_workflow"] or len(runs) != manifest["counts"]["runs"]:
        ck.fail("counts: folders %s, MANIFEST %s" % (per_wf, manifest["counts"]))
    if not 120 <= len(runs) <= 180 or set(per_wf) != {"ci", "parity", "bench"}:
        ck.fail("counts: %d runs %s (want about 150 of ci, parity, bench)" % (len(runs), per_wf))
    ids = [j["id"] for r in runs.values() for j in r["_jobs"]]
    if len(ids) != len(set(ids)):
        ck.fail("job ids are not unique")
    by_time = sorted(runs.values(), key=lambda r: (r["created_at"], r["id"]))
    if [r["id"] for r in by_time] != sorted(runs):
        ck.fail("run ids do not increase with created_at")
    check_planted(ck, manifest, runs, arts, logs_by_job)
    check_repo(ck, out, manifest, runs)
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _d, fs in os.walk(out) for f in fs)
    if size > 40e6:
        ck.fail("size: %.1f MB (limit 40)" % (size / 1e6))
    h1, h2 = tree_hashes(out), tree_hashes(out2)
    diff = sorted(k for k in set(h1) | set(h2) if h1.get(k) != h2.get(k))
    if diff:
        ck.fail("the two generations differ in %d files, e.g. %s" % (len(diff), diff[:5]))
    else:
        ck.ok("identical files across generations", len(h1))
    print("check-demo: generated %s and %s in %.1f s and %.1f s (%.1f MB)" % (out, out2, gen_times[0],
                                                                            gen_times[1], size / 1e6))
    print("check-demo: %d runs %s" % (len(runs), ", ".join("%s=%d" % kv for kv in sorted(per_wf.items()))))
    for k in sorted(ck.counts):
        print("  checked %-38s %d" % (k, ck.counts[k]))
    for e in ck.errors:
        print("FAIL: " + e)
    print("check-demo: %s (%d problems, %.1f s)" % ("FAIL" if ck.errors else "ok", len(ck.errors), time.time() - t0))
    return 1 if ck.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
