#!/usr/bin/env python3
"""diff-score.py - the data side of `make bench-diff` (bench/diff.sh).

  diff-score.py prep FIXTURES WORK   run folders, labels and the LCS baseline
  diff-score.py score WORK           score the diff output in WORK/out
  diff-score.py big WORK MB          two similar generated logs of MB MiB each

prep turns each CiDiff case (cidiff/data/**/{pass,fail}.log with a
`groundtruth`) into two GitHub run folders of one workflow of its own
("diff-<n>"): pass.log as a successful run, fail.log as a failed run 10
minutes later at another commit, each with one job named "build" and no
steps. So `ciscope diff RUN` has to find the baseline itself (the newest
green run of the workflow on the branch before the run). The marked error
lines are the groundtruth's E ranges, read exactly as bench/triage.sh reads
them (triage-score.py: 1-based over lines split at CRLF, CR and LF).

The LCS baseline is GNU diff over the same two logs after removing what
CiDiff's parsers and the issue remove: the GitHub timestamp prefix (at the
start of a line, or after the `job<TAB>step<TAB>` fields of the
`gh run view --log` form, which go too) and ANSI colour sequences. Its
added lines are the lines diff prints with "> ".

score reads WORK/out/<run>.json (`ciscope diff --json --max-lines 0 RUN`)
and reports per pair and overall:
  hit     the pair has a shown line ("+" or "~") on a marked line
  cover   min(marked lines shown, 40) / min(marked lines, 40)
  ratio   lines ciscope shows ("+" and "~"; a collapsed repeat is one line)
          / lines GNU diff adds; pairs where diff adds nothing are left out
Targets (issue 10 §7): hit share >= 0.95, mean cover >= 0.85, median
ratio <= 0.35. A collapsed repeat covers the lines it stands for.
Python standard library only.
"""
import json
import os
import random
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "triage_score", os.path.join(os.path.dirname(os.path.abspath(__file__)), "triage-score.py"))
triage_score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(triage_score)

CAP = 40
TS = re.compile(rb"^(?:\xef\xbb\xbf)?(?:[^\t\n]*\t[^\t\n]*\t)?"
                rb"(?:\xef\xbb\xbf)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ?")
ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def lcs_view(data):
    return b"".join(ANSI.sub(b"", TS.sub(b"", l)) + b"\n"
                    for l in triage_score.split_lines(data))


def run_folder(d, rid, wf, sha, conclusion, t, data):
    jid = rid * 10
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    run = {
        "id": rid, "name": wf, "head_branch": "main", "head_sha": sha, "run_number": rid % 100000,
        "event": "push", "status": "completed", "conclusion": conclusion, "workflow_id": rid,
        "run_attempt": 1, "created_at": t, "updated_at": t, "run_started_at": t,
        "display_title": wf, "repository": {"full_name": "bench/diff"},
    }
    jobs = {"total_count": 1, "jobs": [{
        "id": jid, "run_id": rid, "name": "build", "status": "completed",
        "conclusion": conclusion, "started_at": t, "completed_at": t, "steps": [],
    }]}
    triage_score.write_run_folder(d, run, jobs, jid, data)


def prep(fixtures, work):
    runs = os.path.join(work, "runs")
    lcs = os.path.join(work, "lcs")
    os.makedirs(runs, exist_ok=True)
    os.makedirs(lcs, exist_ok=True)
    cd = os.path.join(fixtures, "cidiff", "data")
    labels = {}
    ids = []
    for i, case in enumerate(triage_score.cidiff_cases(cd)):
        if not os.path.isfile(os.path.join(case, "pass.log")):
            continue
        fail = open(os.path.join(case, "fail.log"), "rb").read()
        ok = open(os.path.join(case, "pass.log"), "rb").read()
        n = len(triage_score.split_lines(fail))
        marked = triage_score.cidiff_marks(os.path.join(case, "groundtruth"), n)
        if not marked:
            continue
        wf = "diff-%d" % i
        base_id, fail_id = 5000000 + 2 * i, 5000001 + 2 * i
        run_folder(os.path.join(runs, str(base_id)), base_id, wf, "%040x" % (0xa000 + i),
                   "success", "2024-01-01T10:00:00Z", ok)
        run_folder(os.path.join(runs, str(fail_id)), fail_id, wf, "%040x" % (0xf000 + i),
                   "failure", "2024-01-01T10:10:00Z", fail)
        a = os.path.join(lcs, "%d.pass" % fail_id)
        b = os.path.join(lcs, "%d.fail" % fail_id)
        with open(a, "wb") as f:
            f.write(lcs_view(ok))
        with open(b, "wb") as f:
            f.write(lcs_view(fail))
        out = subprocess.run(["diff", a, b], stdout=subprocess.PIPE, check=False).stdout
        added = sum(1 for l in out.split(b"\n") if l.startswith(b"> "))
        labels[str(fail_id)] = {"name": os.path.relpath(case, cd), "marked": marked,
                                "lines": n, "lcs_added": added}
        ids.append(str(fail_id))
    with open(os.path.join(work, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    with open(os.path.join(work, "run-ids"), "w") as f:
        f.write("\n".join(ids) + "\n")
    print("bench-diff: %d CiDiff pass/fail pairs" % len(ids), file=sys.stderr)


def score(work):
    labels = json.load(open(os.path.join(work, "labels.json")))
    rows = []
    for rid, lab in labels.items():
        shown_lines = set()
        n_shown = 0
        base = "-"
        try:
            doc = json.load(open(os.path.join(work, "out", rid + ".json"), encoding="utf-8"))
            base = str(doc["base"]["id"]) if doc.get("base") else "none"
            for job in doc["jobs"]:
                if not job["log"]:
                    continue
                for h in job["log"]["hunks"]:
                    for l in h["lines"]:
                        if l["op"] in "+~":
                            n_shown += 1
                            for k in range(l.get("repeat", 1)):
                                shown_lines.add(l["run_line"] + k)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print("bench-diff: %s: no usable diff output (%s)" % (lab["name"], e), file=sys.stderr)
        marked = set(lab["marked"])
        want = min(len(marked), CAP)
        rows.append({
            "name": lab["name"], "marked": len(marked), "shown": n_shown,
            "lcs": lab["lcs_added"], "base": base,
            "hit": bool(marked & shown_lines),
            "cover": min(len(marked & shown_lines), CAP) / want,
            "ratio": n_shown / lab["lcs_added"] if lab["lcs_added"] else None,
        })
    print("%-44s %6s %6s %6s %6s %4s %6s" % ("PAIR", "MARKED", "SHOWN", "LCS+", "RATIO", "HIT",
                                             "COVER"))
    for r in sorted(rows, key=lambda r: r["name"]):
        print("%-44s %6d %6d %6d %6s %4s %6.2f" % (
            r["name"][:44], r["marked"], r["shown"], r["lcs"],
            "%.3f" % r["ratio"] if r["ratio"] is not None else "-",
            "yes" if r["hit"] else "NO", r["cover"]))
    hit = sum(r["hit"] for r in rows) / len(rows)
    cover = sum(r["cover"] for r in rows) / len(rows)
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    med = statistics.median(ratios)
    print()
    print("pairs %d  hit %.3f  cover %.3f  median ratio %.3f  (mean %.3f; lines shown: median %g, "
          "LCS added: median %g)" % (len(rows), hit, cover, med, statistics.mean(ratios),
                                     statistics.median(r["shown"] for r in rows),
                                     statistics.median(r["lcs"] for r in rows)))
    print()
    for name, ok, fig, target in (
            ("pairs where a shown line covers a marked line", hit >= 0.95, "%.3f" % hit, ">= 0.95"),
            ("mean share of marked lines covered (<= 40 per log)", cover >= 0.85, "%.3f" % cover,
             ">= 0.85"),
            ("median ratio of shown lines to GNU diff's added", med <= 0.35, "%.3f" % med,
             "<= 0.35")):
        print("%-4s %-52s %7s  (target %s)" % ("PASS" if ok else "MISS", name, fig, target))


WORDS = ("compile link test fetch resolve download verify install cache restore upload package "
         "module crate target report coverage engine runner worker task shard suite bundle "
         "assert check lint format deploy publish schema index").split()


def big(work, mb):
    """Two similar job logs of about mb MiB: the run repeats the baseline's
    lines with other timestamps, durations, ids and temp paths, drops a few,
    inserts a few new ones and rewords some (deterministic)."""
    rnd = random.Random(20261206)
    target = mb * 1024 * 1024
    base, run = [], []
    size = 0
    i = 0
    sec = 0
    while size < target:
        w = [WORDS[rnd.randrange(len(WORDS))] for _ in range(rnd.randrange(3, 9))]
        text = "%s %s step-%s in %dms at /tmp/tmp%06x id=%08x" % (
            w[0], " ".join(w[1:]), WORDS[i % 31], rnd.randrange(1, 900), rnd.randrange(1 << 24),
            rnd.randrange(1 << 32))
        sec += 1
        ts_b = "2026-11-%02dT%02d:%02d:%02d.%07dZ " % (1 + sec // 86400 % 28, sec // 3600 % 24,
                                                      sec // 60 % 60, sec % 60, i % 10000000)
        ts_r = "2026-11-%02dT%02d:%02d:%02d.%07dZ " % (2 + sec // 86400 % 27, sec // 3600 % 24,
                                                      sec // 60 % 60, sec % 60, (i * 7) % 10000000)
        line = ts_b + text + "\n"
        base.append(line)
        size += len(line)
        r = rnd.random()
        alt = re.sub(r"in \d+ms", "in %dms" % rnd.randrange(1, 900), text)
        alt = re.sub(r"id=[0-9a-f]+", "id=%08x" % rnd.randrange(1 << 32), alt)
        if r < 0.002:
            pass  # the run no longer prints it
        elif r < 0.004:
            run.append(ts_r + alt + "\n")
            run.append(ts_r + "error: unexpected %s in %s (%s)\n" % (
                WORDS[rnd.randrange(len(WORDS))], WORDS[rnd.randrange(len(WORDS))], i))
        elif r < 0.005:
            run.append(ts_r + alt.replace(w[0], "FAILED", 1) + "\n")
        else:
            run.append(ts_r + alt + "\n")
        i += 1
    for name, lines, rid, conclusion, t in (("base", base, 6000001, "success",
                                             "2026-11-01T10:00:00Z"),
                                            ("run", run, 6000002, "failure",
                                             "2026-11-02T10:00:00Z")):
        run_folder(os.path.join(work, "big", str(rid)), rid, "big", "%040x" % rid, conclusion, t,
                   "".join(lines).encode())
    print("bench-diff: two generated logs of %.0f and %.0f MiB, %d and %d lines" % (
        sum(map(len, base)) / 1048576, sum(map(len, run)) / 1048576, len(base), len(run)),
        file=sys.stderr)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "prep":
        prep(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "big":
        big(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
