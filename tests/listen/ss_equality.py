#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`rsap listening` lists what `ss -H -l -t -u -n -p` lists, on this host.

Both run back to back and their sets of (protocol, address, interface,
port, pids) must be equal.  Sockets come and go on a live host, so a
difference is retried a few times before it counts.  The test opens a few
loopback sockets of its own (one shared with a forked child) so the sets are
never trivially empty.  Skipped (77) without ss.

    ss_equality.py [RSAP]     (or RSAP in the environment)
"""
import re
import shutil
import subprocess
import sys
import tempfile
import time

from listen_common import SKIP, Listener, rsap_json

ATTEMPTS = 4
SPECS = ["tcp,127.0.0.1", "tcp,::1", "udp,127.0.0.1", "udp,::1", "tcp,127.0.0.1,shared",
         "tcp,127.0.0.1,reuseport=2", "udp,::1,child"]

# "users:(("sshd",pid=812,fd=3),("sshd",pid=900,fd=3))"
PID_PATTERN = re.compile(r"pid=(\d+)")


def split_local(text):
    """ss's local column ("[::1]:631", "0.0.0.0%lo:53", "*:5353") as
    (address, interface, port), written the way rsap writes them."""
    address, _, port = text.rpartition(":")
    interface = ""
    if "%" in address:
        address, _, interface = address.partition("%")
    if address.startswith("["):
        address = address[1:].rstrip("]")
    # ss writes "*" for an IPv6 wildcard socket that takes IPv4 too.
    if address == "*":
        address = "::"
    return address, interface, int(port)


def ss_sockets():
    out = subprocess.run(["ss", "-H", "-l", "-t", "-u", "-n", "-p"], capture_output=True,
                         text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[0] not in ("tcp", "udp"):
            continue
        address, interface, port = split_local(fields[4])
        pids = frozenset(int(p) for p in PID_PATTERN.findall(" ".join(fields[6:])))
        found.add((fields[0], address, interface, port, pids))
    return found


def rsap_sockets(db):
    found = set()
    for s in rsap_json("listening", "--tcp", "--udp", "--db-dir", db):
        pids = frozenset(p["pid"] for p in s["processes"])
        found.add((s["protocol"], s["address"], s["interface"] or "", s["port"], pids))
    return found


def main():
    if not shutil.which("ss"):
        print("skipped: no ss here", file=sys.stderr)
        return SKIP
    with tempfile.TemporaryDirectory() as db, Listener(*SPECS):
        for attempt in range(1, ATTEMPTS + 1):
            ours, theirs = rsap_sockets(db), ss_sockets()
            if ours == theirs:
                print(f"{len(ours)} sockets, the same in rsap and ss")
                return 0
            print(f"attempt {attempt}: only rsap: {sorted(ours - theirs)}; "
                  f"only ss: {sorted(theirs - ours)}", file=sys.stderr)
            time.sleep(0.2 * attempt)
    return 1


if __name__ == "__main__":
    sys.exit(main())
