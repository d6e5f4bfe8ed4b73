#!/usr/bin/env python3
"""ghserver.py - a GitHub REST API stand-in for the fetch tests and the benchmark.

    python3 tests/server/ghserver.py --ready FILE --log FILE [options]

Python standard library only (http.server + threading). It listens on
127.0.0.1 (the API) and on a second loopback address standing for the blob
storage host (127.0.0.2, or ::1 with --blob-host ::1), on ports the kernel
picks; when both listen it writes FILE: {"api": URL, "blob": URL, "pid": N}.
It never binds anything but loopback.

What it serves:
  --runs DIR      run folders (DESIGN.md section 3; tools/demo-gen.py writes
                  them), found at any depth, served as the REST API serves
                  them: the run listing (newest first, per_page/page, Link
                  headers in GitHub's /repositories/<id>/... form, branch and
                  created=>= filters, per workflow), a run, an attempt, jobs
                  (filter=all|latest, paginated), per-job logs (logs/<id>.txt,
                  else cut from logs.zip by job name), the run's log archive,
                  artifacts (a zip as is, a folder zipped, a plain file served
                  raw as a non-zipped artifact). Logs and artifacts answer
                  302 to the blob host with a signed URL that expires.
  --recorded DIR  a WireMock recording (mappings/ + __files/, as in the hub4j
                  fixtures): answers recorded real responses, headers
                  included, with api.github.com and the blob hosts rewritten
                  to ours. Recorded answers win over run folders for the same
                  path; runs in recorded listings are known as runs (without
                  jobs) for what the recording lacks.
  --clone N       clone the run folders' runs (new ids, older dates) until
                  there are at least N runs (the benchmark's 500).
  --sign-ttl S    signed blob URLs expire after S seconds (60).
  --only-completed  leave out runs in progress (the benchmark's no-change
                  fetch then checks listing pages only).

Every JSON answer has a strong-enough ETag and honours If-None-Match (304),
plus X-RateLimit-* headers. Every request is logged to --log, one JSON object
per line: seq, host ("api"|"blob"), method, path, status, auth (an
Authorization header was present), auth_ok (it was "Bearer <--token>"), inm
(If-None-Match was sent), bytes, fault, body (POST bodies).

Faults (from --scenario FILE: {"faults": [RULE...], "expired_artifacts":
[NAME...]}, or POST /_ctl/faults with a RULE or a list): a RULE is
  {"path": REGEX (searched in path+query), "host": "api"|"blob"|"any",
   "method": "GET", "after": N (let N matches through first),
   "count": N (apply N times, -1 forever; default 1), "fault": KIND, ...}
with KIND one of
  status      answer "status" (with "body", "headers")
  retry429    429 with Retry-After: "retry_after" (default "1")
  secondary   403 "You have exceeded a secondary rate limit" (+ "retry_after")
  primary     403 with x-ratelimit-remaining: 0, reset in "reset_in" s (1)
  unauthorized 401 Bad credentials
  gone        410 (an expired artifact or log)
  truncate    Content-Length of the whole body, half of it sent, connection closed
  reset       the connection reset (RST) before any answer
  slow        the body in "chunks" pieces (4), "delay_ms" (200) apart
  delay       wait "delay_ms" then answer normally
  expire-signature  (on a 302) a Location whose signature has already expired
Workflow dispatch (bisect dispatch): POST .../git/refs creates a branch ref
(422 when it exists), DELETE .../git/refs/heads/NAME deletes it (422 when
there is none); POST .../actions/workflows/ID/dispatches answers 204 (with
"strict_refs": 422 "No ref found" for a ref that is neither such a branch
nor a run's head branch), and on a created branch makes a run for its sha: a copy of a run of that
workflow (its jobs and logs), queued, then in_progress, then completed after
"polls" reads (2), with the conclusion "by_sha"[sha], else "conclusion"
("failure"). POST /_ctl/dispatch {"polls", "conclusion", "by_sha", "appear", "strict_refs"}
sets these ("appear": false: no run ever appears); GET /_ctl/refs lists the
branches created and not deleted.
Other control endpoints (API host): POST /_ctl/reset (faults), /_ctl/latency
{"ms": N}, /_ctl/reload (re-read the run folders). --latency-ms N delays
every answer by N ms (the benchmark's 50).
"""

import argparse
import calendar
import copy
import hashlib
import hmac
import io
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = b"ghserver-test-secret"
START = int(time.time())
RATE_LIMIT = 5000


def sanitize_archive_name(name):
    """The file-name form GitHub gives job names in log archives."""
    out = "".join(c for c in name if c not in '/:"<>|*?\r\n\\')
    return out[:90]


def etag_of(data):
    return 'W/"%s"' % hashlib.sha256(data).hexdigest()[:40]


# --- the world: runs from run folders -------------------------------------------------------

class Artifact:
    def __init__(self, aid, name, kind, path):
        self.id = aid
        self.name = name
        self.kind = kind      # zip, dir, raw
        self.path = path
        self._data = None

    def data(self):
        if self._data is None:
            if self.kind == "dir":
                bio = io.BytesIO()
                with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
                    for root, dirs, files in os.walk(self.path):
                        dirs.sort()
                        for fn in sorted(files):
                            full = os.path.join(root, fn)
                            rel = os.path.relpath(full, self.path)
                            zi = zipfile.ZipInfo(rel, (2026, 10, 1, 0, 0, 0))
                            zi.compress_type = zipfile.ZIP_DEFLATED
                            with open(full, "rb") as f:
                                z.writestr(zi, f.read())
                self._data = bio.getvalue()
            else:
                with open(self.path, "rb") as f:
                    self._data = f.read()
        return self._data


class Run:
    def __init__(self, obj, jobs, folder):
        self.obj = obj
        self.jobs = jobs
        self.folder = folder
        self.artifacts = []
        self.attempts = {}
        self.job_shift = 0     # clones: job ids moved by this much
        self.base = None       # clones: the run they copy (logs, zips)

    @property
    def id(self):
        return self.obj["id"]

    def src(self):
        return self.base or self

    def zip_path(self):
        f = self.src().folder
        if not f:
            return None
        p = os.path.join(f, "logs.zip")
        return p if os.path.isfile(p) else None

    def job_log(self, jid):
        """The plain-text log of a job, or None."""
        base = self.src()
        ojid = jid - self.job_shift
        if base.folder:
            p = os.path.join(base.folder, "logs", "%d.txt" % ojid)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    return f.read()
        job = next((j for j in base.jobs if j.get("id") == ojid), None)
        zp = self.zip_path()
        if not job or not zp:
            return None
        latest = base.obj.get("run_attempt") or 1
        if (job.get("run_attempt") or 1) != latest:
            return None
        key = sanitize_archive_name(job.get("name", ""))
        with zipfile.ZipFile(zp) as z:
            names = z.namelist()
            top = [n for n in names if "/" not in n and re.match(r"^-?\d+_(.*)\.txt$", n)
                   and re.match(r"^-?\d+_(.*)\.txt$", n).group(1) == key]
            if top:
                return z.read(sorted(top)[0])
            steps = []
            for n in names:
                if n.startswith(key + "/") and n.endswith(".txt"):
                    m = re.match(r"^(\d+)_", n[len(key) + 1:])
                    if m:
                        steps.append((int(m.group(1)), n))
            if not steps:
                return None
            out = b""
            for _, n in sorted(steps):
                if out and not out.endswith((b"\n", b"\r")):
                    out += b"\n"
                out += z.read(n)
            return out


class World:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.load()

    def load(self):
        runs = {}
        repo_ids = {}
        for d in self.args.runs or []:
            for root, dirs, files in os.walk(d):
                dirs.sort()
                if "run.json" not in files:
                    continue
                dirs[:] = []  # attempts/<n>/run.json belong to this run
                with open(os.path.join(root, "run.json"), "rb") as f:
                    obj = json.load(f)
                jobs = []
                jp = os.path.join(root, "jobs.json")
                if os.path.isfile(jp):
                    with open(jp, "rb") as f:
                        jobs = json.load(f).get("jobs", [])
                r = Run(obj, jobs, root)
                ad = os.path.join(root, "artifacts")
                if os.path.isdir(ad):
                    for name in sorted(os.listdir(ad)):
                        p = os.path.join(ad, name)
                        if os.path.isdir(p):
                            kind, aname = "dir", name
                        elif name.endswith(".zip"):
                            kind, aname = "zip", name[:-4]
                        else:
                            kind, aname = "raw", name
                        r.artifacts.append(Artifact(self.artifact_id(r.id, aname), aname, kind, p))
                atd = os.path.join(root, "attempts")
                if os.path.isdir(atd):
                    for n in os.listdir(atd):
                        p = os.path.join(atd, n, "run.json")
                        if n.isdigit() and os.path.isfile(p):
                            with open(p, "rb") as f:
                                r.attempts[int(n)] = json.load(f)
                runs[r.id] = r
        self.recorded = Recorded(self.args.recorded or [])
        for obj in self.recorded.runs:
            if obj["id"] not in runs:
                runs[obj["id"]] = Run(obj, [], None)
        if self.args.only_completed:
            runs = {k: r for k, r in runs.items() if r.obj.get("status") == "completed"}
        base = sorted(runs.values(), key=lambda r: (r.obj.get("created_at", ""), r.id), reverse=True)
        if self.args.clone and base:
            self.clone(runs, base, self.args.clone)
        for r in runs.values():
            slug = self.slug_of(r)
            repo = r.obj.get("repository") or {}
            if repo.get("id"):
                repo_ids[repo["id"]] = slug
        with self.lock:
            self.runs = runs
            self.repo_ids = repo_ids
            self.by_slug = {}
            for r in runs.values():
                self.by_slug.setdefault(self.slug_of(r), []).append(r)
            for lst in self.by_slug.values():
                lst.sort(key=lambda r: (r.obj.get("created_at", ""), r.id), reverse=True)
            self.artifacts = {a.id: (r, a) for r in runs.values() for a in r.artifacts}
            self.jobs = {}
            for r in runs.values():
                for j in r.jobs:
                    self.jobs[j["id"]] = r

    def slug_of(self, r):
        repo = r.obj.get("repository") or {}
        return repo.get("full_name") or self.args.repo or "unknown/unknown"

    @staticmethod
    def artifact_id(run_id, name):
        h = hashlib.sha1(("%d/%s" % (run_id, name)).encode()).hexdigest()
        return 3_000_000_000 + int(h[:12], 16) % 1_000_000_000_000

    def clone(self, runs, base, n):
        k = 0
        span = 86400 * 40
        while len(runs) < n:
            k += 1
            for b in base:
                if len(runs) >= n:
                    break
                if b.obj.get("status") != "completed":
                    continue  # weeks older and still running: not a run anyone has
                obj = copy.deepcopy(b.obj)
                obj["id"] = b.id + k * 10_000_000_000
                obj["run_number"] = (obj.get("run_number") or 0) - k * 1000
                for key in ("created_at", "updated_at", "run_started_at"):
                    if obj.get(key):
                        t = calendar.timegm(time.strptime(obj[key][:19], "%Y-%m-%dT%H:%M:%S")) - k * span
                        obj[key] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
                shift = k * 100_000_000_000
                jobs = []
                for j in b.jobs:
                    j2 = copy.deepcopy(j)
                    j2["id"] = j["id"] + shift
                    j2["run_id"] = obj["id"]
                    jobs.append(j2)
                r = Run(obj, jobs, None)
                r.base = b
                r.job_shift = shift
                r.attempts = {n2: dict(a, id=obj["id"]) for n2, a in b.attempts.items()}
                for a in b.artifacts:
                    a2 = Artifact(self.artifact_id(obj["id"], a.name), a.name, a.kind, a.path)
                    r.artifacts.append(a2)
                runs[r.id] = r


# --- recorded answers (WireMock) ----------------------------------------------------------------

class Recorded:
    def __init__(self, dirs):
        self.entries = []
        self.runs = []
        order = 0
        for d in dirs:
            host = "blob" if re.search(r"_(actions-user-content|blob-core-windows-net)$",
                                      d.rstrip("/")) else "api"
            md = os.path.join(d, "mappings")
            for fn in sorted(os.listdir(md), key=lambda s: (int(s.split("-")[0]) if s.split("-")[0].isdigit() else 0, s)):
                if not fn.endswith(".json"):
                    continue
                with open(os.path.join(md, fn), "rb") as f:
                    m = json.load(f)
                req, resp = m["request"], m["response"]
                url = req.get("url") or req.get("urlPath") or ""
                path, _, query = url.partition("?")
                body = b""
                if resp.get("bodyFileName"):
                    with open(os.path.join(d, "__files", resp["bodyFileName"]), "rb") as f:
                        body = f.read()
                elif "body" in resp:
                    body = resp["body"].encode()
                order += 1
                self.entries.append({
                    "host": host, "method": req.get("method", "GET"), "path": path,
                    "query": urllib.parse.parse_qs(query, keep_blank_values=True),
                    "status": resp.get("status", 200), "headers": resp.get("headers", {}),
                    "body": body, "order": order, "name": fn,
                })
                if host == "api" and body[:1] == b"{" and b"workflow_runs" in body[:200]:
                    try:
                        doc = json.loads(body)
                        self.runs.extend(doc.get("workflow_runs", []))
                    except ValueError:
                        pass

    def match(self, host, method, path, query):
        best, best_score = None, None
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        for e in self.entries:
            if e["host"] != host or e["method"] != method or e["path"] != path:
                continue
            score = 0
            for k, v in e["query"].items():
                if k in q:
                    score += 1
                    if q[k] == v:
                        score += 10
            if best is None or score > best_score:
                best, best_score = e, score
        return best


# --- faults --------------------------------------------------------------------------------------

class Faults:
    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()
        self.expired_artifacts = set()

    def add(self, rules):
        if isinstance(rules, dict):
            rules = [rules]
        with self.lock:
            for r in rules:
                r = dict(r)
                r["_seen"] = 0
                r["_applied"] = 0
                r["_re"] = re.compile(r.get("path", ""))
                self.rules.append(r)

    def reset(self):
        with self.lock:
            self.rules = []

    def pick(self, host, method, path):
        with self.lock:
            for r in self.rules:
                if r.get("host", "any") not in ("any", host):
                    continue
                if r.get("method") and r["method"] != method:
                    continue
                if not r["_re"].search(path):
                    continue
                r["_seen"] += 1
                if r["_seen"] <= r.get("after", 0):
                    continue
                count = r.get("count", 1)
                if count >= 0 and r["_applied"] >= count:
                    continue
                r["_applied"] += 1
                return r
        return None


# --- the HTTP side ----------------------------------------------------------------------------------

class State:
    def __init__(self, args):
        self.args = args
        self.world = World(args)
        self.faults = Faults()
        self.latency = args.latency_ms / 1000.0
        self.log_lock = threading.Lock()
        self.seq = 0
        self.remaining = RATE_LIMIT
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.api_origin = None
        self.blob_origin = None
        self.refs = {}  # slug -> {branch: sha}
        self.dispatch = {"polls": 2, "conclusion": "failure", "by_sha": {}, "appear": True}
        self.next_dispatch_id = 9_000_000_000
        if args.scenario:
            with open(args.scenario) as f:
                sc = json.load(f)
            self.faults.add(sc.get("faults", []))
            self.faults.expired_artifacts.update(sc.get("expired_artifacts", []))

    def record(self, entry):
        with self.log_lock:
            self.seq += 1
            entry["seq"] = self.seq
            if self.log:
                self.log.write(json.dumps(entry, sort_keys=True) + "\n")

    def sign(self, path, expires):
        msg = ("%s|%d" % (path, expires)).encode()
        return hmac.new(SECRET, msg, hashlib.sha256).hexdigest()[:32]

    def signed_url(self, path, expired=False):
        exp = int(time.time()) + (-30 if expired else self.args.sign_ttl)
        return "%s%s?se=%d&sig=%s" % (self.blob_origin, path, exp, self.sign(path, exp))


class Answer(Exception):
    def __init__(self, status, body=b"", headers=None, json_body=True):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = headers or []
        self.json_body = json_body


def gh_error(status, message):
    return Answer(status, {"message": message,
                           "documentation_url": "https://docs.github.com/rest",
                           "status": str(status)})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ghserver/1"
    host_kind = "api"

    def log_message(self, fmt, *a):
        pass

    @property
    def st(self):
        return self.server.state

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def handle_any(self, method):
        st = self.st
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        path = self.path
        if path.startswith("/_ctl/") and self.host_kind == "api":
            return self.control(path, body_in, method)
        if st.latency:
            time.sleep(st.latency)
        auth = self.headers.get("Authorization")
        entry = {"host": self.host_kind, "method": method, "path": path,
                 "auth": auth is not None,
                 "auth_ok": (auth == "Bearer " + st.args.token) if (auth and st.args.token) else None,
                 "inm": self.headers.get("If-None-Match") is not None,
                 "accept": self.headers.get("Accept"),
                 "api_version": self.headers.get("X-GitHub-Api-Version"),
                 "fault": None}
        if method == "POST":
            entry["body"] = body_in.decode("utf-8", "replace")
        rule = st.faults.pick(self.host_kind, method, path)
        if rule:
            entry["fault"] = rule["fault"]
            if rule["fault"] == "reset":
                entry["status"] = 0
                st.record(entry)
                self.rst()
                return
            if rule["fault"] == "delay":
                time.sleep(rule.get("delay_ms", 200) / 1000.0)
                rule = None
        try:
            if rule and rule["fault"] not in ("truncate", "slow", "expire-signature"):
                raise self.fault_answer(rule)
            if self.host_kind == "api":
                ans = self.api(method, path, body_in, rule)
            else:
                ans = self.blob(method, path)
        except Answer as a:
            ans = a
        self.send(ans, entry, rule)

    def fault_answer(self, rule):
        f = rule["fault"]
        if f == "status":
            return Answer(rule.get("status", 500), rule.get("body", {"message": "Server Error"}),
                          list(rule.get("headers", {}).items()))
        if f == "retry429":
            return Answer(429, {"message": "You have exceeded a secondary rate limit. Please wait."},
                          [("Retry-After", str(rule.get("retry_after", "1")))])
        if f == "secondary":
            h = []
            if "retry_after" in rule:
                h.append(("Retry-After", str(rule["retry_after"])))
            return Answer(403, {"message": "You have exceeded a secondary rate limit. Please wait a "
                                           "few minutes before you try again.",
                                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}, h)
        if f == "primary":
            reset = int(time.time()) + int(rule.get("reset_in", 1))
            return Answer(403, {"message": "API rate limit exceeded for user ID 1.",
                                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
                          [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", str(reset)),
                           ("x-ratelimit-limit", str(RATE_LIMIT))])
        if f == "unauthorized":
            return gh_error(401, "Bad credentials")
        if f == "gone":
            return gh_error(410, "Gone")
        return gh_error(500, "unknown fault " + f)

    def rst(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def rate_headers(self, count):
        st = self.st
        with st.log_lock:
            if count:
                st.remaining = max(st.remaining - 1, 1)
            rem = st.remaining
        return [("X-RateLimit-Limit", str(RATE_LIMIT)), ("X-RateLimit-Remaining", str(rem)),
                ("X-RateLimit-Reset", str(START + 3600)), ("X-RateLimit-Used", str(RATE_LIMIT - rem)),
                ("X-RateLimit-Resource", "core")]

    def send(self, ans, entry, rule):
        status, body, headers = ans.status, ans.body, list(ans.headers)
        names = {k.lower() for k, _ in headers}
        if self.host_kind == "api" and status == 200 and ans.json_body and "etag" not in names:
            headers.append(("ETag", etag_of(body)))
            names.add("etag")
        inm = self.headers.get("If-None-Match")
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        if status == 200 and inm and etag and inm == etag:
            status, body = 304, b""
            headers = [(k, v) for k, v in headers if k.lower() in ("etag", "link", "cache-control")]
        if self.host_kind == "api" and not any(k.lower() == "x-ratelimit-remaining" for k, _ in headers):
            headers += self.rate_headers(status != 304)
        if "content-type" not in names and body:
            headers.append(("Content-Type", "application/json; charset=utf-8" if ans.json_body
                            else "application/octet-stream"))
        entry["status"] = status
        entry["bytes"] = len(body)
        self.st.record(entry)
        try:
            self.send_response(status)
            for k, v in headers:
                if k.lower() in ("content-length", "transfer-encoding", "content-encoding", "connection"):
                    continue
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if rule and rule["fault"] == "truncate" and len(body) > 1:
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if rule and rule["fault"] == "slow" and body:
                n = max(1, int(rule.get("chunks", 4)))
                step = (len(body) + n - 1) // n
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    time.sleep(rule.get("delay_ms", 200) / 1000.0)
                return
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # --- control
    def control(self, path, body, method="POST"):
        st = self.st
        data = json.loads(body or b"{}")
        if path == "/_ctl/refs":
            with st.world.lock:
                out = json.dumps(st.refs, sort_keys=True).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        if path == "/_ctl/dispatch":
            st.dispatch.update(data)
        elif path == "/_ctl/faults":
            st.faults.add(data)
        elif path == "/_ctl/reset":
            st.faults.reset()
        elif path == "/_ctl/latency":
            st.latency = data.get("ms", 0) / 1000.0
        elif path == "/_ctl/reload":
            st.world.load()
        elif path == "/_ctl/expire-artifacts":
            st.faults.expired_artifacts.update(data)
        out = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    # --- the API
    def api(self, method, full, body_in, rule):
        st = self.st
        w = st.world
        path, _, query = full.partition("?")
        rec = w.recorded.match("api", method, path, query)
        if rec:
            return self.recorded_answer(rec)
        q = urllib.parse.parse_qs(query)
        m = re.match(r"^/repositories/(\d+)(/.*)$", path)
        if m:
            slug = w.repo_ids.get(int(m.group(1)))
            if not slug:
                raise gh_error(404, "Not Found")
            path = "/repos/%s%s" % (slug, m.group(2))
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if not m:
            raise gh_error(404, "Not Found")
        slug = "%s/%s" % (m.group(1), m.group(2))
        rest = m.group(3) or ""
        runs = w.by_slug.get(slug)
        if runs is None:
            raise gh_error(404, "Not Found")
        if method == "DELETE":
            mm = re.match(r"^/git/refs/heads/(.+)$", rest)
            if mm:
                name = urllib.parse.unquote(mm.group(1))
                with w.lock:
                    refs = st.refs.setdefault(slug, {})
                    if name not in refs:
                        raise gh_error(422, "Reference does not exist")
                    del refs[name]
                return Answer(204, b"")
            raise gh_error(404, "Not Found")
        if method == "POST" and rest == "/git/refs":
            try:
                doc = json.loads(body_in)
            except ValueError:
                raise gh_error(400, "Problems parsing JSON")
            ref, sha = doc.get("ref") if isinstance(doc, dict) else None, doc.get("sha") if isinstance(doc, dict) else None
            if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2 \
                    or not isinstance(sha, str) or not re.match(r"^[0-9a-f]{40}$", sha):
                raise gh_error(422, "Reference name or sha is invalid")
            if not ref.startswith("refs/heads/"):
                raise gh_error(422, "Reference name is not a branch")
            name = ref[len("refs/heads/"):]
            with w.lock:
                refs = st.refs.setdefault(slug, {})
                if name in refs:
                    raise gh_error(422, "Reference already exists")
                refs[name] = sha
            return Answer(201, {"ref": ref, "node_id": "REF_" + name,
                                "url": "https://api.github.com/repos/%s/git/%s" % (slug, ref),
                                "object": {"sha": sha, "type": "commit"}})
        if method == "POST":
            mm = re.match(r"^/actions/runs/(\d+)/rerun-failed-jobs$", rest)
            if mm:
                if int(mm.group(1)) not in w.runs:
                    raise gh_error(404, "Not Found")
                return Answer(201, b"{}")
            mm = re.match(r"^/actions/workflows/([^/]+)/dispatches$", rest)
            if mm:
                try:
                    doc = json.loads(body_in)
                except ValueError:
                    raise gh_error(400, "Problems parsing JSON")
                if not isinstance(doc, dict) or not isinstance(doc.get("ref"), str):
                    raise gh_error(422, "Invalid request. \"ref\" wasn't supplied.")
                wf = urllib.parse.unquote(mm.group(1))
                tmpl = [r for r in runs if str(r.obj.get("workflow_id")) == wf
                        or os.path.basename(r.obj.get("path") or "") == wf]
                if not tmpl:
                    raise gh_error(404, "Not Found")
                ref = doc["ref"]
                if ref.startswith("refs/heads/"):
                    ref = ref[len("refs/heads/"):]
                with w.lock:
                    sha = st.refs.get(slug, {}).get(ref)
                if sha is None and st.dispatch.get("strict_refs") \
                        and not any(r.obj.get("head_branch") == ref for r in runs):
                    raise gh_error(422, "No ref found for: %s" % doc["ref"])
                if sha is not None and st.dispatch.get("appear", True):
                    self.dispatched_run(slug, tmpl[0], ref, sha)
                return Answer(204, b"")
            raise gh_error(404, "Not Found")
        if rest == "/actions/runs":
            return self.list_runs(slug, runs, q, None)
        mm = re.match(r"^/actions/workflows/([^/]+)/runs$", rest)
        if mm:
            wf = urllib.parse.unquote(mm.group(1))
            return self.list_runs(slug, runs, q, wf)
        if rest == "/actions/workflows":
            seen = {}
            for r in runs:
                o = r.obj
                if o.get("workflow_id") and o["workflow_id"] not in seen:
                    seen[o["workflow_id"]] = {"id": o["workflow_id"], "name": o.get("name"),
                                              "path": o.get("path"), "state": "active"}
            wfs = sorted(seen.values(), key=lambda x: x["id"])
            return Answer(200, {"total_count": len(wfs), "workflows": wfs})
        mm = re.match(r"^/actions/runs/(\d+)(/.*)?$", rest)
        if mm:
            run = w.runs.get(int(mm.group(1)))
            if not run or w.slug_of(run) != slug:
                raise gh_error(404, "Not Found")
            sub = mm.group(2) or ""
            if sub == "":
                return Answer(200, run.obj)
            if sub == "/jobs":
                jobs = run.jobs
                if q.get("filter", ["latest"])[0] == "latest":
                    latest = run.obj.get("run_attempt") or 1
                    jobs = [j for j in jobs if (j.get("run_attempt") or 1) == latest]
                return self.paginate(slug, rest, q, jobs, "jobs")
            ma = re.match(r"^/attempts/(\d+)$", sub)
            if ma:
                n = int(ma.group(1))
                if n in run.attempts:
                    return Answer(200, run.attempts[n])
                if n == (run.obj.get("run_attempt") or 1):
                    return Answer(200, run.obj)
                raise gh_error(404, "Not Found")
            if sub == "/logs":
                if not run.zip_path() or run.obj.get("status") != "completed":
                    raise gh_error(404, "Not Found")
                return self.redirect("/blob/runlog/%d" % run.id, rule)
            if sub == "/artifacts":
                arts = []
                for a in run.artifacts:
                    expired = a.name in st.faults.expired_artifacts
                    arts.append({
                        "id": a.id, "node_id": "MDg6QXJ0aWZhY3Q%d" % a.id, "name": a.name,
                        "size_in_bytes": 0 if expired else len(a.data()),
                        "url": "https://api.github.com/repos/%s/actions/artifacts/%d" % (slug, a.id),
                        "archive_download_url": "https://api.github.com/repos/%s/actions/artifacts/%d/zip" % (slug, a.id),
                        "expired": expired,
                        "created_at": run.obj.get("updated_at"), "updated_at": run.obj.get("updated_at"),
                        "expires_at": None,
                        "workflow_run": {"id": run.id, "head_branch": run.obj.get("head_branch"),
                                         "head_sha": run.obj.get("head_sha")},
                    })
                return self.paginate(slug, rest, q, arts, "artifacts")
            raise gh_error(404, "Not Found")
        mm = re.match(r"^/actions/jobs/(\d+)/logs$", rest)
        if mm:
            jid = int(mm.group(1))
            run = w.jobs.get(jid)
            if not run:
                raise gh_error(404, "Not Found")
            if run.job_log(jid) is None:
                raise gh_error(404, "Not Found")
            return self.redirect("/blob/joblog/%d/%d" % (run.id, jid), rule)
        mm = re.match(r"^/actions/artifacts/(\d+)/zip$", rest)
        if mm:
            hit = w.artifacts.get(int(mm.group(1)))
            if not hit:
                raise gh_error(404, "Not Found")
            run, a = hit
            if a.name in st.faults.expired_artifacts:
                raise gh_error(410, "Artifact has expired")
            return self.redirect("/blob/artifact/%d" % a.id, rule)
        raise gh_error(404, "Not Found")

    def dispatched_run(self, slug, tmpl, branch, sha):
        """A run of tmpl's workflow at sha on branch (its jobs and logs
        copied), queued; list_runs moves it on."""
        st = self.st
        w = st.world
        with w.lock:
            st.next_dispatch_id += 1
            rid = st.next_dispatch_id
            obj = copy.deepcopy(tmpl.obj)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            obj.update({"id": rid, "head_sha": sha, "head_branch": branch, "event": "workflow_dispatch",
                        "status": "queued", "conclusion": None, "run_attempt": 1,
                        "run_number": (obj.get("run_number") or 0) + 1000,
                        "created_at": now, "updated_at": now, "run_started_at": now,
                        "display_title": "dispatched at " + sha[:12]})
            shift = rid * 1000 - min([j["id"] for j in tmpl.src().jobs] or [0])
            latest = tmpl.src().obj.get("run_attempt") or 1
            jobs = []
            for j in tmpl.src().jobs:
                if (j.get("run_attempt") or 1) != latest:
                    continue
                j2 = copy.deepcopy(j)
                j2.update({"id": j["id"] + shift, "run_id": rid, "run_attempt": 1,
                           "head_sha": sha, "status": "queued", "conclusion": None})
                jobs.append(j2)
            r = Run(obj, jobs, None)
            r.base = tmpl.src()
            r.job_shift = shift
            r.reads = 0
            w.runs[rid] = r
            w.by_slug.setdefault(slug, []).insert(0, r)
            for j in jobs:
                w.jobs[j["id"]] = r

    def advance(self, r):
        """A dispatched run read once more: queued -> in_progress -> completed."""
        if not hasattr(r, "reads") or r.obj["status"] == "completed":
            return
        d = self.st.dispatch
        r.reads += 1
        if r.reads >= int(d.get("polls", 2)):
            c = d.get("by_sha", {}).get(r.obj["head_sha"], d.get("conclusion", "failure"))
            r.obj.update({"status": "completed", "conclusion": c})
            for j in r.jobs:
                j.update({"status": "completed", "conclusion": c})
        else:
            r.obj["status"] = "in_progress"
            for j in r.jobs:
                j["status"] = "in_progress"

    def redirect(self, blob_path, rule):
        expired = bool(rule and rule["fault"] == "expire-signature")
        return Answer(302, b"", [("Location", self.st.signed_url(blob_path, expired))], json_body=False)

    def link_header(self, slug, rest, q, page, last):
        repo_id = next((k for k, v in self.st.world.repo_ids.items() if v == slug), None)
        prefix = ("/repositories/%d" % repo_id) if repo_id else ("/repos/" + slug)
        links = []

        def url(p):
            qq = {k: v[0] for k, v in q.items() if k != "page"}
            qq["page"] = str(p)
            return "<%s%s%s?%s>" % (self.st.api_origin, prefix, rest, urllib.parse.urlencode(qq))
        if page > 1:
            links.append(url(page - 1) + '; rel="prev"')
        if page < last:
            links.append(url(page + 1) + '; rel="next"')
            links.append(url(last) + '; rel="last"')
        if page > 1:
            links.append(url(1) + '; rel="first"')
        return ", ".join(links)

    def paginate(self, slug, rest, q, items, key):
        try:
            per = max(1, min(100, int(q.get("per_page", ["30"])[0])))
            page = max(1, int(q.get("page", ["1"])[0]))
        except ValueError:
            raise gh_error(422, "Invalid pagination")
        last = max(1, (len(items) + per - 1) // per)
        chunk = items[(page - 1) * per: page * per]
        body = json.dumps({"total_count": len(items), key: chunk}).encode()
        headers = []
        link = self.link_header(slug, rest, q, page, last)
        if link:
            headers.append(("Link", link))
        return Answer(200, body, headers)

    def list_runs(self, slug, runs, q, wf):
        sel = runs
        if wf is not None:
            sel = [r for r in sel if str(r.obj.get("workflow_id")) == wf
                   or os.path.basename(r.obj.get("path") or "") == wf]
            if not sel and not any(str(r.obj.get("workflow_id")) == wf for r in runs):
                raise gh_error(404, "Not Found")
        if "branch" in q:
            sel = [r for r in sel if r.obj.get("head_branch") == q["branch"][0]]
        if "created" in q:
            c = q["created"][0]
            if c.startswith(">="):
                sel = [r for r in sel if (r.obj.get("created_at") or "") >= c[2:]]
        if "status" in q:
            s = q["status"][0]
            sel = [r for r in sel if r.obj.get("status") == s or r.obj.get("conclusion") == s]
        rest = "/actions/runs" if wf is None else "/actions/workflows/%s/runs" % wf
        with self.st.world.lock:
            for r in sel:
                self.advance(r)
            objs = [copy.deepcopy(r.obj) for r in sel]
        return self.paginate(slug, rest, q, objs, "workflow_runs")

    def recorded_answer(self, e):
        st = self.st
        headers = []
        for k, v in e["headers"].items():
            for one in (v if isinstance(v, list) else [v]):
                one = str(one)
                one = one.replace("https://api.github.com", st.api_origin)
                one = one.replace("https://pipelines.actions.githubusercontent.com", st.blob_origin)
                one = one.replace("https://productionresults.blob.core.windows.net", st.blob_origin)
                headers.append((k, one))
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        return Answer(e["status"], e["body"], headers, json_body="json" in ctype)

    # --- the blob host
    def blob(self, method, full):
        st = self.st
        w = st.world
        path, _, query = full.partition("?")
        rec = w.recorded.match("blob", method, path, query)
        if rec:
            return self.recorded_answer(rec)
        q = urllib.parse.parse_qs(query)
        try:
            se = int(q["se"][0])
            sig = q["sig"][0]
        except (KeyError, ValueError):
            raise Answer(403, b"<Error><Code>AuthenticationFailed</Code></Error>",
                         [("Content-Type", "application/xml")], json_body=False)
        if not hmac.compare_digest(sig, st.sign(path, se)) or se < time.time():
            raise Answer(403, b"<Error><Code>AuthenticationFailed</Code><Message>Signature "
                              b"not valid in the specified time frame</Message></Error>",
                         [("Content-Type", "application/xml")], json_body=False)
        m = re.match(r"^/blob/joblog/(\d+)/(\d+)$", path)
        if m:
            run = w.runs.get(int(m.group(1)))
            data = run.job_log(int(m.group(2))) if run else None
            if data is None:
                raise Answer(404, b"not found", json_body=False)
            return Answer(200, data, [("Content-Type", "text/plain; charset=utf-8")], json_body=False)
        m = re.match(r"^/blob/runlog/(\d+)$", path)
        if m:
            run = w.runs.get(int(m.group(1)))
            zp = run.zip_path() if run else None
            if not zp:
                raise Answer(404, b"not found", json_body=False)
            with open(zp, "rb") as f:
                data = f.read()
            return Answer(200, data, [("Content-Type", "application/zip"),
                                      ("Content-Disposition", "attachment; filename=logs_%d.zip" % run.id)],
                          json_body=False)
        m = re.match(r"^/blob/artifact/(\d+)$", path)
        if m:
            hit = w.artifacts.get(int(m.group(1)))
            if not hit:
                raise Answer(404, b"not found", json_body=False)
            a = hit[1]
            ctype = "application/octet-stream" if a.kind == "raw" else "application/zip"
            return Answer(200, a.data(), [("Content-Type", ctype)], json_body=False)
        raise Answer(404, b"not found", json_body=False)


class BlobHandler(Handler):
    host_kind = "blob"


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", action="append")
    ap.add_argument("--recorded", action="append")
    ap.add_argument("--repo")
    ap.add_argument("--token")
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--scenario")
    ap.add_argument("--clone", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--blob-host", default="127.0.0.2")
    ap.add_argument("--only-completed", action="store_true",
                    help="leave out runs that are not completed")
    ap.add_argument("--sign-ttl", type=int, default=60,
                    help="seconds a signed blob URL stays valid (GitHub: about a minute)")
    args = ap.parse_args()
    if args.blob_host not in ("127.0.0.2", "::1") and not args.blob_host.startswith("127."):
        print("ghserver: the blob host must be a loopback address", file=sys.stderr)
        return 2
    state = State(args)
    api = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ":" in args.blob_host:
        blob = V6Server((args.blob_host, 0), BlobHandler)
        blob_origin = "http://[%s]:%d" % (args.blob_host, blob.server_address[1])
    else:
        blob = ThreadingHTTPServer((args.blob_host, 0), BlobHandler)
        blob_origin = "http://%s:%d" % (args.blob_host, blob.server_address[1])
    for s in (api, blob):
        s.daemon_threads = True
        s.state = state
    state.api_origin = "http://127.0.0.1:%d" % api.server_address[1]
    state.blob_origin = blob_origin
    threading.Thread(target=blob.serve_forever, daemon=True).start()
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"api": state.api_origin, "blob": state.blob_origin, "pid": os.getpid()}, f)
    os.rename(tmp, args.ready)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
