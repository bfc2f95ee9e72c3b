#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's snapshot of this host's sockets (--listeners-interval): port
answers read it rather than asking the kernel per request, so a socket bound
since the last snapshot is not in them yet; a write through the API takes a
new snapshot at once, after which the socket is there, in the API and on the
page; /metrics says how old the snapshot is."""
import os
import re
import socket
import tempfile
import time

from rsapd_harness import Checks, Rsapd, own_network_namespace, unassigned_ports, write_token

c = Checks("listeners")
HOUR_MS = "3600000"


def snapshots_after(d, before, timeout=30):
    """Waits until a snapshot after the count `before` was taken; says whether one was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if d.listener_snapshots() > before:
            return True
        time.sleep(0.02)
    return False


def pids_on(d, port):
    status, answer = d.get_json(f"/v1/ports/{port}")
    if status != 200 or answer["listening"] is None:
        return None
    return [p["pid"] for s in answer["listening"] for p in s["processes"] or []]


def quiet_spell():
    """Nobody asks for a second: rsapd takes no snapshot it would not be
    asked about (one at most, after the last read), and the first answer after
    the spell is taken fresh, with the socket bound meanwhile."""
    with Rsapd("--owners", "all", "--listeners-interval", "100", "--cache-ttl", "0") as d:
        port = unassigned_ports(d.db_dir, 1)[0]
        before = d.listener_snapshots()
        time.sleep(1)  # ten intervals: the one snapshot after that read, then none
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))
            listener.listen()
            time.sleep(1)
            c.equal(pids_on(d, port), [os.getpid()],
                    "the first answer after a quiet spell has the socket bound during it")
        taken = d.listener_snapshots() - before
        c.check(taken <= 3, f"an idle rsapd takes no snapshots (twenty intervals: {taken})")


def main():
    own_network_namespace()
    with tempfile.TemporaryDirectory(prefix="rsapd-listeners-") as tmp:
        path, token = write_token(tmp)
        auth = {"Authorization": "Bearer " + token}
        # No refresh for an hour but the ones a write asks for; no cached answers.
        with Rsapd("--token-file", path, "--owners", "all", "--listeners-interval", HOUR_MS,
                   "--cache-ttl", "0") as d:
            port = unassigned_ports(d.db_dir, 1)[0]
            c.equal(pids_on(d, port), [], f"nothing listens on {port} yet")
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", port))
                listener.listen()
                c.equal(pids_on(d, port), [],
                        "a socket bound after the snapshot is not in the answer: no dump per request")
                before = d.listener_snapshots()
                status, _, _ = d.request("POST", "/v1/leases", {"ttl": "1m", "name": "refresh"},
                                         headers=auth)
                c.equal(status, 201, "a lease through the API")
                c.check(snapshots_after(d, before), "the write took a new snapshot at once")
                c.equal(pids_on(d, port), [os.getpid()],
                        "the new snapshot has the socket and its process")
                _, _, page = d.get(f"/port/{port}")
                c.check(f"[{os.getpid()}]".encode() in page, "the port's page names the process")
            _, _, body = d.get("/metrics")
            age = re.search(rb"^rsapd_listeners_age_seconds ([0-9.]+)$", body, re.M)
            c.check(age is not None and 0 <= float(age.group(1)) < 3600,
                    f"/metrics says how old the snapshot is: {age and age.group(1)}")
            c.equal(d.stop(), 0, "rsapd stops cleanly")
        quiet_spell()
    c.finish()


if __name__ == "__main__":
    main()
