#!/usr/bin/env python3
"""triage-score.py - the data side of `make bench-triage` (bench/triage.sh).

  triage-score.py prep FIXTURES WORK   write run folders and labels
  triage-score.py score WORK           score the triage output in WORK/out

prep turns each labelled failing log into a GitHub run folder (run.json,
jobs.json with one failed job and no steps, logs/<job>.txt) under WORK/runs,
and writes WORK/labels.json and WORK/run-ids. The labelled logs:

  cidiff/data/**/fail.log    the `groundtruth` file beside it: E ranges are
                             the marked error lines (C context lines are not
                             counted); 1-based over lines split at CRLF, CR
                             and LF (see cidiff/README.md); clipped to the log
  pytorch-test-infra/.../fixtures/classify/*.txt
                             the line prefixed `#=MATCH=# ` is the marked line
                             (the prefix and the capture marks are removed,
                             and the leading `#=SOURCE=#` metadata line, which
                             the upstream harness never feeds the classifier)
  pytorch-test-infra/.../fixtures/error_log1.txt and
  error_log_multiple_matches.txt
                             their .snap files are the snippet upstream's
                             classifier cut around its match: the snippet is
                             centred on line 4037 (OSError: We couldn't
                             connect...) and starts 6 lines above line 750
                             (FAILED ... test_triton_kernel_tracing_dynamic_True),
                             the lines marked here. prep checks that the
                             snippets still contain those lines.

score reads WORK/out/<run>.json (`ciscope triage --json RUN`) and reports,
per source and overall:
  hit     share of logs where a shown finding's excerpt holds >= 1 marked line
  cover   mean over logs of min(covered, 40) / min(marked, 40)
  shown   median number of log lines shown per log (the excerpts' union)
and the same hit/cover counting only the findings' own lines (line..end_line,
no context) as "core"; and, for information, the CiDiff logs scored against
their second annotation (groundtruth2, where there is one). Python standard
library only.
"""
import json
import os
import re
import statistics
import sys

CAP = 40
SPLIT = re.compile(rb"\r\n|\r|\n")


def split_lines(data):
    parts = SPLIT.split(data)
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def write_run_folder(d, run, jobs, jid, data):
    """A run folder as ciscope import reads it: run.json, jobs.json and the
    one job's log (d/logs must exist)."""
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(run, f)
    with open(os.path.join(d, "jobs.json"), "w") as f:
        json.dump(jobs, f)
    with open(os.path.join(d, "logs", "%d.txt" % jid), "wb") as f:
        f.write(data)


def cidiff_cases(root):
    cases = []
    for d, _dirs, files in os.walk(root):
        if "fail.log" in files and "groundtruth" in files:
            cases.append(d)
    return sorted(cases)


def cidiff_marks(path, n_lines):
    marks = set()
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.strip()
            if i == 0 or not line:
                continue
            kind, rng = line.split(" ", 1)
            a, _, b = rng.partition("-")
            a = int(a)
            b = int(b) if b else a
            if kind == "E":
                marks.update(x for x in range(a, b + 1) if 1 <= x <= n_lines)
    return sorted(marks)


SNAP_LINES = {
    "error_log1.txt": ("log_classifier__engine__test__get_snippets_on_log.snap", 4037),
    "error_log_multiple_matches.txt": (
        "log_classifier__engine__test__get_snippets_on_log_with_multiple_matches.snap", 750),
}
TS = re.compile(rb"^(?:\xef\xbb\xbf)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ?")


def prep(fixtures, work):
    runs = os.path.join(work, "runs")
    os.makedirs(runs, exist_ok=True)
    labels = {}
    logs = []  # (name, source, bytes, marked)

    cd = os.path.join(fixtures, "cidiff", "data")
    for case in cidiff_cases(cd):
        data = open(os.path.join(case, "fail.log"), "rb").read()
        n = len(split_lines(data))
        marked = cidiff_marks(os.path.join(case, "groundtruth"), n)
        gt2 = os.path.join(case, "groundtruth2")
        marked2 = cidiff_marks(gt2, n) if os.path.isfile(gt2) else []
        if marked:
            logs.append(("cidiff/" + os.path.relpath(case, cd), "cidiff", data, marked, marked2))

    lc = os.path.join(fixtures, "pytorch-test-infra", "aws", "lambda", "log-classifier")
    cl = os.path.join(lc, "fixtures", "classify")
    for name in sorted(os.listdir(cl)) if os.path.isdir(cl) else []:
        if not name.endswith(".txt"):
            continue
        lines = split_lines(open(os.path.join(cl, name), "rb").read())
        if lines and lines[0].startswith(b"#=SOURCE=#"):
            lines = lines[1:]
        marked = []
        out = []
        for i, line in enumerate(lines, 1):
            if line.startswith(b"#=MATCH=# "):
                line = line[len(b"#=MATCH=# "):]
                marked.append(i)
            out.append(line.replace("\u2039".encode(), b"").replace("\u203a".encode(), b""))
        if marked:
            logs.append(("pytorch/" + name, "pytorch", b"\n".join(out) + b"\n", marked, []))

    for name, (snap, line) in SNAP_LINES.items():
        p = os.path.join(lc, "fixtures", name)
        if not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        lines = split_lines(data)
        snap_text = open(os.path.join(lc, "src", "snapshots", snap), "rb").read()
        body = TS.sub(b"", lines[line - 1]).rstrip()
        if body not in snap_text:
            sys.exit("triage-score.py: %s line %d is not in %s any more" % (name, line, snap))
        logs.append(("pytorch/" + name, "pytorch-snap", data, [line], []))

    ids = []
    for i, (name, source, data, marked, marked2) in enumerate(logs):
        rid = 7000000 + i
        jid = 8000000 + i
        d = os.path.join(runs, str(rid))
        os.makedirs(os.path.join(d, "logs"), exist_ok=True)
        t = "2024-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60)
        run = {
            "id": rid, "name": "bench", "head_branch": "main",
            "head_sha": "%040x" % (0xb000 + i), "run_number": i + 1, "event": "push",
            "status": "completed", "conclusion": "failure", "workflow_id": 1,
            "run_attempt": 1, "created_at": t, "updated_at": t, "run_started_at": t,
            "display_title": name, "repository": {"full_name": "bench/triage"},
        }
        jobs = {"total_count": 1, "jobs": [{
            "id": jid, "run_id": rid, "name": name[:90], "status": "completed",
            "conclusion": "failure", "started_at": t, "completed_at": t, "steps": [],
        }]}
        write_run_folder(d, run, jobs, jid, data)
        labels[str(rid)] = {"name": name, "source": source, "marked": marked,
                            "marked2": marked2, "lines": len(split_lines(data))}
        ids.append(str(rid))
    with open(os.path.join(work, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    with open(os.path.join(work, "run-ids"), "w") as f:
        f.write("\n".join(ids) + "\n")
    print("bench-triage: %d labelled failing logs (%d cidiff, %d pytorch)" % (
        len(logs), sum(1 for l in logs if l[1] == "cidiff"),
        sum(1 for l in logs if l[1] != "cidiff")), file=sys.stderr)


def score(work):
    labels = json.load(open(os.path.join(work, "labels.json")))
    rows = []
    rows2 = []  # cidiff's second, independent annotation (groundtruth2)
    for rid, lab in labels.items():
        p = os.path.join(work, "out", rid + ".json")
        shown, core = set(), set()
        findings = []
        try:
            doc = json.load(open(p, encoding="utf-8"))
            for job in doc["jobs"]:
                for f in job["findings"]:
                    findings.append(f["rule"])
                    for e in f["excerpt"]:
                        if e["line"]:
                            shown.add(e["line"])
                    if f["line"]:
                        core.update(range(f["line"], f["end_line"] + 1))
        except (OSError, ValueError, KeyError) as e:
            print("bench-triage: %s: no usable triage output (%s)" % (lab["name"], e),
                  file=sys.stderr)
        marked = set(lab["marked"])
        want = min(len(marked), CAP)
        m2 = set(lab.get("marked2", []))
        if m2:
            w2 = min(len(m2), CAP)
            rows2.append({"hit": bool(m2 & shown), "cover": min(len(m2 & shown), CAP) / w2,
                          "shown": len(shown), "core_hit": bool(m2 & core),
                          "core_cover": min(len(m2 & core), CAP) / w2})
        rows.append({
            "name": lab["name"], "source": lab["source"].split("-")[0],
            "marked": len(marked), "shown": len(shown),
            "hit": bool(marked & shown), "cover": min(len(marked & shown), CAP) / want,
            "core_hit": bool(marked & core), "core_cover": min(len(marked & core), CAP) / want,
            "rules": findings,
        })

    print("%-58s %6s %6s %4s %6s  %s" % ("LOG", "MARKED", "SHOWN", "HIT", "COVER", "RULES"))
    for r in sorted(rows, key=lambda r: r["name"]):
        print("%-58s %6d %6d %4s %6.2f  %s" % (
            r["name"][:58], r["marked"], r["shown"], "yes" if r["hit"] else "NO", r["cover"],
            ",".join(dict.fromkeys(r["rules"]))[:60]))

    def summary(label, rs):
        if not rs:
            return
        hit = sum(r["hit"] for r in rs) / len(rs)
        cover = sum(r["cover"] for r in rs) / len(rs)
        med = statistics.median(r["shown"] for r in rs)
        chit = sum(r["core_hit"] for r in rs) / len(rs)
        ccover = sum(r["core_cover"] for r in rs) / len(rs)
        print("%-8s logs %3d  hit %.3f  cover %.3f  median shown %5.1f   "
              "(core: hit %.3f cover %.3f)" % (label, len(rs), hit, cover, med, chit, ccover))
        return hit, cover, med

    print()
    summary("cidiff", [r for r in rows if r["source"] == "cidiff"])
    summary("pytorch", [r for r in rows if r["source"] == "pytorch"])
    hit, cover, med = summary("all", rows)
    summary("cidiff2", rows2)
    print("(cidiff2: the same logs scored against groundtruth2, a later independent "
          "annotation; not a target)")
    print()
    for name, ok, fig, target in (
            ("logs with a finding on a marked line", hit >= 0.9, "%.3f" % hit, ">= 0.9"),
            ("mean share of marked lines covered (<= 40 per log)", cover >= 0.8,
             "%.3f" % cover, ">= 0.8"),
            ("median lines shown per failing log", med <= 40, "%g" % med, "<= 40")):
        print("%-4s %-52s %7s  (target %s)" % ("PASS" if ok else "MISS", name, fig, target))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "prep":
        prep(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
