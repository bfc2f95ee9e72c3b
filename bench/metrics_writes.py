#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write latency of rsapd with and without /metrics scrapes, two rsapd
binaries side by side (before and after a change).

In a network namespace of its own (unshare -r -n, loopback only), the script
opens SOCKETS listening TCP sockets, so that the audit behind /metrics costs
what it costs on a busy host, and starts one rsapd per binary, each with its
own data directory and token.  Each round measures every (binary, load)
pair once, in an order shuffled anew per round:

  quiet     WRITES writes one after the other, each timed from connect to
            the answer: a POST /v1/registry/requests on a fresh connection,
            then a lease from the port server (PORTSERVER_ADDRESS protocol);
  scraping  the same while another thread scrapes /metrics back to back.

Per round it takes each pair's median latency of each kind of write and the ratios
scraping/quiet (per binary) and after/before (per load) within the round,
so that whatever else the machine does weighs on both sides alike; it
prints the medians over the rounds of those medians and ratios.  It
asserts nothing.

    bench/metrics_writes.py BEFORE_RSAPD AFTER_RSAPD [ROUNDS]
      (SOCKETS=10000, WRITES=10 and ROUNDS=8 by default)
"""
import http.client
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SOCKETS = int(os.environ.get("SOCKETS", "10000"))
WRITES = int(os.environ.get("WRITES", "10"))
TOKEN = "bench-token-0123456789abcdef"
INNER = "RSAP_BENCH_IN_NETNS"


def bring_loopback_up():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


class Daemon:
    def __init__(self, name, binary, tmp, extra=()):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        token = os.path.join(self.dir, "token")
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token, 0o600)
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.portserver = os.path.join(self.dir, "portserver")
        argv = [binary, "--db-dir", self.dir, "--listen", "127.0.0.1:0", "--token-file", token,
                "--no-access-log", "--portserver", self.portserver, *extra]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, RSAP_DB_DIR=self.dir))
        for _ in range(200):
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/",
                          open(self.log.name).read())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError(f"{name}: rsapd did not start: {open(self.log.name).read()}")

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": "Bearer " + TOKEN} if body else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Scraper(threading.Thread):
    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.target, self.stop, self.scrapes = daemon, threading.Event(), 0

    def run(self):
        while not self.stop.is_set():
            self.target.request("GET", "/metrics")
            self.scrapes += 1


def lease(d):
    """One port from the port server, held by this process until it exits."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(d.portserver)
    s.sendall(b"%d\n" % os.getpid())
    answer = s.recv(64)
    s.close()
    if not answer.strip().isdigit():
        raise RuntimeError(f"{d.name}: the port server answered {answer!r}")


def write_latencies(d, serial):
    """The median of WRITES POSTs, and of as many port-server leases, taken in turn."""
    posts, leases = [], []
    for i in range(WRITES):
        body = json.dumps({"service": f"b{serial}x{i}", "port": 23456, "protocols": "tcp",
                           "description": "bench", "assignee": "Bench", "contact": "b@example.org"})
        t = time.perf_counter()
        status = d.request("POST", "/v1/registry/requests", body)
        posts.append(time.perf_counter() - t)
        if status != 201:
            raise RuntimeError(f"{d.name}: a write answered {status}")
        t = time.perf_counter()
        lease(d)
        leases.append(time.perf_counter() - t)
    return statistics.median(posts), statistics.median(leases)


def measure(d, load, serial):
    if load == "quiet":
        return write_latencies(d, serial)
    scraper = Scraper(d)
    scraper.start()
    try:
        return write_latencies(d, serial)
    finally:
        scraper.stop.set()
        scraper.join()


def run(before, after, rounds):
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    sockets = []
    for _ in range(SOCKETS):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        sockets.append(s)
    with tempfile.TemporaryDirectory(prefix="rsapd-bench-") as tmp:
        daemons = {"before": Daemon("before", before, tmp), "after": Daemon("after", after, tmp)}
        pairs = [(b, load) for b in daemons for load in ("quiet", "scraping")]
        results = {p: [] for p in pairs}
        serial = 0
        try:
            for _ in range(rounds + 1):  # the first round warms up
                random.shuffle(pairs)
                got = {}
                for b, load in pairs:
                    serial += 1
                    got[(b, load)] = measure(daemons[b], load, serial)
                for p in pairs:
                    results[p].append(got[p])
        finally:
            for d in daemons.values():
                d.stop()
    report({p: v[1:] for p, v in results.items()}, rounds)


def report(results, rounds):
    med = statistics.median
    print(f"{SOCKETS} listening sockets, {WRITES} POSTs and {WRITES} port-server leases per "
          f"measurement, {rounds} rounds")
    for k, what in enumerate(("POST /v1/registry/requests", "port-server lease")):
        print(what)
        for b in ("before", "after"):
            for load in ("quiet", "scraping"):
                print(f"  {b:6} {load:8} median {med(v[k] for v in results[(b, load)]) * 1e3:9.2f} ms")
        for b in ("before", "after"):
            ratios = [s[k] / q[k] for s, q in zip(results[(b, "scraping")], results[(b, "quiet")])]
            print(f"  {b:6} scraping/quiet: median of per-round ratios {med(ratios):8.2f}x")
        for load in ("quiet", "scraping"):
            ratios = [a[k] / b[k] for a, b in zip(results[("after", load)],
                                                  results[("before", load)])]
            print(f"  {load:8} after/before: median of per-round ratios {med(ratios):8.3f}x")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    before, after = (os.path.abspath(p) for p in sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("ROUNDS", "8"))
    if not os.environ.get(INNER):
        sys.exit(subprocess.run(["unshare", "-r", "-n", sys.executable, os.path.abspath(__file__),
                                 before, after, str(rounds)],
                                env=dict(os.environ, **{INNER: "1"})).returncode)
    bring_loopback_up()
    run(before, after, rounds)


if __name__ == "__main__":
    main()
