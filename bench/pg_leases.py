#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Lease plus release through rsapd, on SQLite and on PostgreSQL, side by
side (issue goal: median under 2 ms each on PostgreSQL).

Two rsapd are started, one on a SQLite registry of their own, one on the
PostgreSQL database of RSAP_TEST_STORE (run this under
tests/registry/pg_server.sh, which starts a server of its own on a Unix
socket, fsync off).  Each round, in an order shuffled anew, each rsapd gets
REQUESTS leases (POST /v1/leases on a keep-alive connection) each released
at once (DELETE /v1/leases/PORT); every call is timed.  Prints each side's
median lease and release times, its leases per second (lease + release,
one client), and the median of the per-round ratios PostgreSQL / SQLite.
Asserts nothing.

    tests/registry/pg_server.sh bench/pg_leases.py [BUILD_DIR]   (ROUNDS=7 REQUESTS=200)
"""
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = int(os.environ.get("ROUNDS", "7"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
TOKEN = "bench-token-0123456789abcdef"


def start_rsapd(build, tmp, name, db_args):
    data = os.path.join(tmp, name)
    os.makedirs(data)
    token_file = os.path.join(data, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    log = open(os.path.join(data, "log"), "w+")
    proc = subprocess.Popen([os.path.join(build, "daemon", "rsapd"), "--db-dir", data,
                             "--listen", "127.0.0.1:0", "--token-file", token_file,
                             "--no-access-log", *db_args],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log.seek(0)
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", log.read())
        if found:
            return proc, int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    sys.exit(f"pg_leases.py: rsapd ({name}) did not start: {log.read()}")


def timed(conn, method, path, body=None):
    headers = {"Authorization": "Bearer " + TOKEN}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    elapsed = time.perf_counter() - t0
    if resp.status not in (200, 201):
        sys.exit(f"pg_leases.py: {method} {path}: {resp.status} {data[:200]!r}")
    return elapsed, data


def one_round(port):
    """REQUESTS lease+release pairs: (lease times, release times, wall seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    takes, releases = [], []
    t0 = time.perf_counter()
    for _ in range(REQUESTS):
        took, data = timed(conn, "POST", "/v1/leases", {"range": "30000-30999", "ttl": "10m"})
        takes.append(took)
        gave, _ = timed(conn, "DELETE", f"/v1/leases/{json.loads(data)['port']}")
        releases.append(gave)
    wall = time.perf_counter() - t0
    conn.close()
    return takes, releases, wall


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    store = os.environ.get("RSAP_TEST_STORE")
    if not store:
        sys.exit("pg_leases.py: run under tests/registry/pg_server.sh (RSAP_TEST_STORE)")
    with tempfile.TemporaryDirectory(prefix="rsap-bench-") as tmp:
        sides = {}
        procs = []
        for name, args in (("sqlite", []), ("postgresql", ["--db", store])):
            proc, port = start_rsapd(build, tmp, name, args)
            procs.append(proc)
            sides[name] = port
        try:
            for name, port in sides.items():  # warm both: the first leases make the schema's pages
                one_round(port)
            results = {name: {"take": [], "release": [], "rate": []} for name in sides}
            ratios = {"take": [], "release": []}
            for _ in range(ROUNDS):
                order = list(sides)
                random.shuffle(order)
                medians = {}
                for name in order:
                    takes, releases, wall = one_round(sides[name])
                    medians[name] = (statistics.median(takes), statistics.median(releases))
                    results[name]["take"].append(medians[name][0])
                    results[name]["release"].append(medians[name][1])
                    results[name]["rate"].append(REQUESTS / wall)
                ratios["take"].append(medians["postgresql"][0] / medians["sqlite"][0])
                ratios["release"].append(medians["postgresql"][1] / medians["sqlite"][1])
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(20)
    print(f"rounds {ROUNDS}, {REQUESTS} lease+release pairs per side per round, one client")
    print(f"{'store':<12}{'lease (ms)':>12}{'release (ms)':>14}{'leases/s':>10}")
    for name, r in results.items():
        print(f"{name:<12}{statistics.median(r['take']) * 1e3:>12.3f}"
              f"{statistics.median(r['release']) * 1e3:>14.3f}{statistics.median(r['rate']):>10.0f}")
    print(f"postgresql / sqlite, median of per-round ratios: lease "
          f"{statistics.median(ratios['take']):.2f}x, release {statistics.median(ratios['release']):.2f}x")


if __name__ == "__main__":
    main()
