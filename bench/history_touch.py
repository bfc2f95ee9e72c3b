#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The recorder's touch each poll, with N open intervals: the UPDATE of every
# open row (the first design) against the one-row upsert of listen_recorders
# (the one kept), on a registry made by this build.  Interleaved, the order
# shuffled each round; prints the median of the per-round ratios.
# usage: bench/history_touch.py RSAP OPEN_INTERVALS
import random, sqlite3, statistics, subprocess, sys, tempfile, time, os
rsap, n, rounds, reps = sys.argv[1], int(sys.argv[2]), 9, 20
d = tempfile.mkdtemp(prefix="rsap-touch-")
db = os.path.join(d, "r.db")
subprocess.run([rsap, "request", "x", "--port", "41000", "--proto", "tcp", "--description", "d",
                "--assignee", "A", "--contact", "a@x", "--db", db], capture_output=True, check=True)
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA synchronous = NORMAL")
c.executemany("INSERT INTO listen_intervals (host, port, protocol, address, uid, started_us,"
              " last_seen_us) VALUES ('h', ?, 'tcp', '127.0.0.1', 0, 1, 1)",
              [(p % 65536,) for p in range(n)])
t = [2]
def every_row():
    t[0] += 1
    c.execute("UPDATE listen_intervals SET last_seen_us = ? WHERE ended IS NULL AND host = 'h'"
              " AND last_seen_us < ?", (t[0], t[0]))
def one_row():
    t[0] += 1
    c.execute("INSERT INTO listen_recorders (host, last_seen_us) VALUES ('h', ?) ON CONFLICT"
              " (host) DO UPDATE SET last_seen_us = max(last_seen_us, excluded.last_seen_us)", (t[0],))
def timed(f):
    s = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - s) / reps
ratios = []
for _ in range(rounds):
    sides = [("every", every_row), ("one", one_row)]
    random.shuffle(sides)
    got = {name: timed(f) for name, f in sides}
    ratios.append(got["every"] / got["one"])
    last = got
print(f"{n} open intervals: a touch of every row {last['every']*1e3:.2f} ms, of one row "
      f"{last['one']*1e3:.3f} ms (last round); median ratio {statistics.median(ratios):.0f}x "
      f"over {rounds} rounds")
subprocess.run(["rm", "-rf", d])
