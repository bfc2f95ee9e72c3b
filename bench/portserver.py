#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's port server against portpicker's (/usr/bin/portserver, Debian's
python3-portpicker), speaking the protocol portpicker's client speaks: connect
to the Unix socket, send a pid and a newline, read a port and a newline.

For each number of leases held (0, then HELD), both servers are started
fresh, the leases are taken for one long-lived holder process, and then
ROUNDS rounds each time REQUESTS requests on each server, one after another
in an order shuffled anew per round.  The requests of a round are made on
behalf of a process of the round's own, which exits at the end of the round,
so the held count stays near HELD.  Prints each server's median latency per
request and the median of the per-round ratios rsapd / portserver (goal:
<= 1.0 with HELD leases held).  Asserts nothing.

    bench/portserver.py [BUILD_DIR]   (ROUNDS=7 REQUESTS=50 HELD=600)
"""
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = int(os.environ.get("ROUNDS", "7"))
REQUESTS = int(os.environ.get("REQUESTS", "50"))
HELD = int(os.environ.get("HELD", "600"))
PORTSERVER = "/usr/bin/portserver"


def ask(address, pid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect("\0" + address[1:])
    s.sendall(b"%d\n" % pid)
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = s.recv(64)
        if not chunk:
            break
        answer += chunk
    s.close()
    return int(answer or b"0")


def wait_for(address):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect("\0" + address[1:])
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"portserver.py: nothing answers on {address}")


def holder():
    """A process that lives until its stdin closes: the pid the leases are for."""
    return subprocess.Popen(["/bin/sh", "-c", "read x"], stdin=subprocess.PIPE)


def one_round(address, n):
    """The median seconds per request of n requests for a new process."""
    proc = holder()
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            port = ask(address, proc.pid)
            times.append(time.perf_counter() - t0)
            if port == 0:
                sys.exit(f"portserver.py: {address} answered 0")
    finally:
        proc.stdin.close()
        proc.wait()
    return statistics.median(times)


def start(build, work, tag):
    """Both servers, on ranges of their own, each on an abstract socket."""
    rsapd_address = f"@rsap-bench-{os.getpid()}-{tag}"
    peer_address = f"@portpicker-bench-{os.getpid()}-{tag}"
    db = os.path.join(work, f"db-{tag}")
    os.mkdir(db)
    rsapd = subprocess.Popen(
        [os.path.join(build, "daemon", "rsapd"), "--db-dir", db, "--listen", "127.0.0.1:0",
         "--portserver", rsapd_address, "--portserver-range", "15000-24999",
         "--no-access-log"],
        stderr=open(os.path.join(work, f"rsapd-{tag}.log"), "w"))
    peer = subprocess.Popen(
        ["/usr/bin/python3", PORTSERVER, "--portserver_address", peer_address,
         "--portserver_static_pool", "25000-34999"],
        stderr=subprocess.DEVNULL)
    wait_for(rsapd_address)
    wait_for(peer_address)
    return {"rsapd": (rsapd, rsapd_address), "portserver": (peer, peer_address)}


def measure(build, work, held):
    servers = start(build, work, held)
    keeper = holder()
    try:
        for name, (_, address) in servers.items():
            for _ in range(held):
                if ask(address, keeper.pid) == 0:
                    sys.exit(f"portserver.py: {name} ran out of ports at {held}")
        medians = {name: [] for name in servers}
        ratios = []
        for _ in range(ROUNDS):
            order = list(servers)
            random.shuffle(order)
            got = {name: one_round(servers[name][1], REQUESTS) for name in order}
            for name in servers:
                medians[name].append(got[name])
            ratios.append(got["rsapd"] / got["portserver"])
        for name in servers:
            print(f"  {held:4d} held  {name:10s}  median {statistics.median(medians[name]) * 1e3:7.3f} ms"
                  " per request")
        print(f"  {held:4d} held  rsapd / portserver: {statistics.median(ratios):.2f}x"
              f" (median of {ROUNDS} per-round ratios)")
    finally:
        keeper.stdin.close()
        keeper.wait()
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    if not os.access(PORTSERVER, os.X_OK):
        sys.exit("portserver.py: /usr/bin/portserver is missing (Debian: python3-portpicker)")
    work = tempfile.mkdtemp()
    try:
        print(f"== port server: {ROUNDS} rounds of {REQUESTS} requests each, rsapd and "
              "portserver interleaved")
        for held in (0, HELD):
            measure(build, work, held)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
