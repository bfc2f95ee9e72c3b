# SPDX-License-Identifier: MIT
"""Owners that vanish mid-walk are dropped, never half-reported.

Reproducer (before the fix): under a churn of 9,651 short-lived processes,
each holding a listening socket it inherited, `rsap listening --json` listed
owners as {"command": "", "uid": 4294967295}: the walk had read the
process's descriptor link, then the process exited before its comm and
status were read.  Here a few churners fork children that inherit a
listening socket on 127.0.0.1 and exit at once, while rsap lists the
sockets again and again, whole and for one port (the walk that stops early
and reads the owners' relatives).  Bounded: a fixed number of listings, and
the churners stop when they do (or after 60 s).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

from listen_common import run_rsap

CHURNERS = 3
LISTINGS = 40
COPIES = 400
NO_UID = 2**32 - 1


def churn():
    """Holds a listening socket and forks children that hold it too and exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    # Many copies of it: reading the descriptors takes a while, and the
    # children exit in the middle of that.
    copies = [os.dup(sock.fileno()) for _ in range(COPIES)]
    print(sock.getsockname()[1], flush=True)
    # Reaped by the kernel as they exit: no zombie keeps comm and status
    # readable after the descriptors are gone.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    deadline = time.monotonic() + 60
    while copies and time.monotonic() < deadline:
        if os.fork() == 0:
            os._exit(0)


def bad_owners(listing):
    """The owners that were half-read, as text."""
    bad = []
    for s in listing:
        for p in s.get("processes") or []:
            if not p["command"] or p["uid"] == NO_UID:
                bad.append(f'{s["protocol"]} {s["port"]}: {p}')
    return bad


def main():
    if len(sys.argv) > 1 and sys.argv[-1] == "churn":
        churn()
        return 0
    churners = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "churn"],
                                 stdout=subprocess.PIPE, text=True) for _ in range(CHURNERS)]
    try:
        ports = [int(c.stdout.readline()) for c in churners]
        bad, owned = [], 0
        for i in range(LISTINGS):
            args = ["listening", "--tcp", "--json"]
            if i % 2:
                args += ["--port", str(ports[i % CHURNERS])]
            status, out, err = run_rsap(*args)
            if status not in (0, 1):
                raise AssertionError(f"rsap {' '.join(args)} exited {status}: {err}")
            listing = json.loads(out)
            bad += bad_owners(listing)
            owned += sum(1 for s in listing if s["port"] in ports and s["processes"])
    finally:
        for c in churners:
            c.send_signal(signal.SIGTERM)
            c.wait()
            c.stdout.close()
    if bad:
        print("half-read owners:\n  " + "\n  ".join(bad[:10]), file=sys.stderr)
        return 1
    # The churners' own sockets must still show their (long-lived) parents.
    if owned < LISTINGS:
        print(f"only {owned} of {LISTINGS} listings named the churners' owners", file=sys.stderr)
        return 1
    print(f"{LISTINGS} listings under churn, every owner read whole")
    return 0


if __name__ == "__main__":
    sys.exit(main())
