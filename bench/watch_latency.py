#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How soon `rsap listening --watch` tells of a change: the time from the
test's close() (or listen()) of a TCP listener to the line on the pipe.

In a network namespace of its own (`unshare -n`, or `-r -n` without root),
so that nothing else changes meanwhile.  Each of ROUNDS rounds opens a
listener, waits for its "started" line, closes it and waits for its
"stopped" line; prints the median and the largest of each delay.  Stops come
from destroy events and should take milliseconds; starts wait for the next
dump, so they spread over the interval.  Measures; asserts nothing.

    bench/watch_latency.py RSAP [ROUNDS] [INTERVAL_MS]   (defaults: 50, 1000)
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time

FLAG = "RSAP_BENCH_WATCH_NETNS"


def in_own_netns():
    if os.environ.get(FLAG):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return None
    for unshare in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            return subprocess.run([*unshare, sys.executable, *sys.argv],
                                  env=dict(os.environ, **{FLAG: "1"})).returncode
    sys.exit("watch_latency.py: no network namespace may be made here")


def main():
    status = in_own_netns()
    if status is not None:
        return status
    rsap = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    interval = sys.argv[3] if len(sys.argv) > 3 else "1000"
    watch = subprocess.Popen([rsap, "listening", "--watch", "--json", "--interval", interval],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch.stderr.readline()  # "rsap: watching ...": the first dump is in
    starts, stops = [], []
    for _ in range(rounds):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        t0 = time.monotonic()
        s.listen()
        assert json.loads(watch.stdout.readline())["change"] == "started"
        starts.append(time.monotonic() - t0)
        t0 = time.monotonic()
        s.close()
        assert json.loads(watch.stdout.readline())["change"] == "stopped"
        stops.append(time.monotonic() - t0)
    watch.terminate()
    watch.wait()
    for name, delays in (("stop", stops), ("start", starts)):
        print(f"{name}: median {statistics.median(delays) * 1000:.2f} ms, "
              f"largest {max(delays) * 1000:.2f} ms, over {rounds} rounds "
              f"(interval {interval} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
