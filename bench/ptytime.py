#!/usr/bin/env python3
"""ptytime.py - time a full-screen program on a real pseudo-terminal.

    ptytime.py [--size COLSxROWS] [--marker TEXT] [--repeat N] [--timeout S]
               [--env NAME=VALUE]... [--plain] -- COMMAND [ARG...]

Runs COMMAND N times (default 11), each on a new pty of the given size (the
pty is its controlling terminal, as in a terminal emulator; what it writes is
read and thrown away), and prints one line:

    median_ms=M min_ms=A max_ms=B runs=N ok=K

With --marker, a run's time is from just before the process is started to
the moment TEXT has arrived on the terminal (the program is then stopped with
SIGTERM): the time to a frame showing TEXT. Without it, the time is from the
start to the exit of the process (programs told to quit after their first
frame). A run that times out or never shows the marker is not counted (ok <
runs). --plain: no terminal at all (stdin and output /dev/null), the time
from start to exit: for ciscope on a CISCOPE_SCRIPT. Standard library only.
"""
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time


def wait(p, timeout):
    """p.wait(), blocking in waitpid: Popen.wait(timeout) polls with sleeps
    of up to 50 ms, which would be measured. A timer kills a hung program."""
    t = threading.Timer(timeout, p.kill)
    t.start()
    try:
        return p.wait()
    finally:
        t.cancel()


def one(cmd, env, cols, rows, marker, timeout):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def child():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                         preexec_fn=child, close_fds=True)
    os.close(slave)
    seen = b""
    found = None
    deadline = t0 + timeout
    mk = marker.encode() if marker else None
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        r, _, _ = select.select([master], [], [], min(left, 0.5))
        if master in r:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the program ended and closed the pty
                data = b""
            if not data:
                break
            if mk:
                seen = (seen + data)[-(len(mk) + 65536):]
                if mk in seen:
                    found = time.perf_counter()
                    break
        elif p.poll() is not None and not mk:
            break
    if mk and found is None:
        elapsed = None
    elif mk:
        elapsed = found - t0
    else:
        rc = wait(p, max(0.1, deadline - time.perf_counter()))
        elapsed = time.perf_counter() - t0 if rc == 0 else None
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            # drain so the program is not blocked writing while it quits
            end = time.perf_counter() + 5
            while p.poll() is None and time.perf_counter() < end:
                r, _, _ = select.select([master], [], [], 0.05)
                if master in r:
                    try:
                        if not os.read(master, 65536):
                            break
                    except OSError:
                        break
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    os.close(master)
    return elapsed


def plain(cmd, env, timeout):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    rc = wait(p, timeout)
    return time.perf_counter() - t0 if rc == 0 else None


def main(argv):
    cols, rows, marker, repeat, timeout, no_pty = 80, 24, None, 11, 30.0, False
    env = dict(os.environ)
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a == "--size":
            cols, rows = (int(x) for x in argv[i + 1].split("x"))
            i += 2
        elif a == "--marker":
            marker = argv[i + 1]
            i += 2
        elif a == "--repeat":
            repeat = int(argv[i + 1])
            i += 2
        elif a == "--timeout":
            timeout = float(argv[i + 1])
            i += 2
        elif a == "--plain":
            no_pty = True
            i += 1
        elif a == "--env":
            k, _, v = argv[i + 1].partition("=")
            env[k] = v
            i += 2
        else:
            sys.exit("ptytime.py: unknown option %s (see the header)" % a)
    cmd = argv[i + 1:]
    if not cmd:
        sys.exit("usage: ptytime.py [options] -- COMMAND [ARG...]")
    env.setdefault("TERM", "xterm-256color")
    times = []
    for _ in range(repeat):
        t = plain(cmd, env, timeout) if no_pty else one(cmd, env, cols, rows, marker, timeout)
        if t is not None:
            times.append(t * 1000.0)
    if not times:
        print("median_ms=- min_ms=- max_ms=- runs=%d ok=0" % repeat)
        return 1
    times.sort()
    print("median_ms=%.1f min_ms=%.1f max_ms=%.1f runs=%d ok=%d"
          % (times[len(times) // 2], times[0], times[-1], repeat, len(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
