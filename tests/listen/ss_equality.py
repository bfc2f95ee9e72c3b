#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`rsap listening` lists what `ss -H -l -t -u -n -p` lists.

Both run back to back and their sets of (protocol, address, interface,
port, pids) must be equal.  The test runs in a network namespace of its own
with sockets of its own (one shared with a forked child, two in a reuseport
group), so that nothing else the host runs meanwhile (other tests' servers,
and the children they fork, which hold their sockets for a moment) makes
the two listings differ: on the host a run of the whole suite failed so
about once in twenty.  Skipped (77) without ss or without a namespace.

    ss_equality.py [RSAP]     (or RSAP in the environment)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from listen_common import SKIP, Listener, in_new_netns, rsap_json

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
    outer = in_new_netns(os.path.abspath(__file__), "RSAP_TEST_IN_NETNS")
    if outer is not None:
        return outer
    with tempfile.TemporaryDirectory() as db, Listener(*SPECS):
        ours, theirs = rsap_sockets(db), ss_sockets()
    if ours and ours == theirs:
        print(f"{len(ours)} sockets, the same in rsap and ss")
        return 0
    print(f"only rsap: {sorted(ours - theirs)}; only ss: {sorted(theirs - ours)}",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
