#!/usr/bin/env python3
"""mkrepo.py - a git repository of N commits for the tig comparison.

    mkrepo.py DIR N

creates DIR as a git repository whose main branch has N commits (each
changing one of 50 files, with a subject like the runs' ones and fixed
dates), written in one `git fast-import` run: a few seconds for 10,000
commits, where `git commit` in a loop would take minutes. Deterministic.
"""
import os
import subprocess
import sys


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: mkrepo.py DIR N")
    d, n = argv[0], int(argv[1])
    subprocess.run(["git", "init", "-q", "-b", "main", d], check=True)
    env = dict(os.environ, GIT_DIR=os.path.join(d, ".git"))
    p = subprocess.Popen(["git", "fast-import", "--quiet"], stdin=subprocess.PIPE, env=env)
    w = p.stdin.write
    t = 1760000000
    things = ["integrator", "quadtree", "parity harness", "wasm build", "energy ledger", "CI cache"]
    for i in range(n):
        t += 600
        msg = ("engine: tune the %s (%d)\n\nCommit %d of the benchmark repository.\n"
               % (things[i % len(things)], i, i)).encode()
        body = ("revision %d\n" % i).encode()
        w(b"commit refs/heads/main\n")
        w(b"mark :%d\n" % (i + 1))
        w(b"author Maren Holt <maren@example.org> %d +0000\n" % t)
        w(b"committer Maren Holt <maren@example.org> %d +0000\n" % t)
        w(b"data %d\n%s\n" % (len(msg), msg))
        if i:
            w(b"from :%d\n" % i)
        w(b"M 100644 inline src/file%02d.txt\n" % (i % 50))
        w(b"data %d\n%s\n" % (len(body), body))
    p.stdin.close()
    if p.wait() != 0:
        sys.exit("mkrepo.py: git fast-import failed")
    subprocess.run(["git", "-C", d, "checkout", "-q", "main"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
