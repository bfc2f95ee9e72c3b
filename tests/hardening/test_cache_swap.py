#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rsapd while its cache file is truncated, rewritten in place and replaced.

Reproducer (before the registry was read into memory):
    rsapd --db-dir $D &            # $D/iana.snap mapped
    truncate -s 4096 $D/iana.snap  # or: cp tiny.snap $D/iana.snap
    curl 127.0.0.1:1647/v1/ports/80    # rsapd dies of SIGBUS
Now every answer comes from the old copy or the new one, rsapd never dies,
and it ends up on the file that is there last, without a SIGHUP."""
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from rsapd_harness import RSAP, Checks, Rsapd  # noqa: E402

ROUNDS = 100
PICKUP_WAIT = 60.0  # generous: rsapd looks at the file once a second


def make_snapshot(tmp, release, mark):
    xml = os.path.join(tmp, mark + ".xml")
    db = os.path.join(tmp, mark)
    subprocess.run([sys.executable, os.path.join(HERE, "mkregistry.py"), "xml", release, xml,
                    mark], check=True)
    subprocess.run([RSAP, "--db-dir", db, "update", "--from", xml], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(db, "iana.snap"), "rb") as f:
        return f.read()


def service_on_20000(d):
    status, j = d.get_json("/v1/ports/20000/tcp")
    if status != 200:
        return f"status {status}"
    names = {r.get("service") for r in j.get("records", [])}
    return ",".join(sorted(n for n in names if n)) or "no record"


def write_in_place(path, data):
    """As cp does: the same inode, truncated, then written."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


def replace(path, data):
    """As rsap update does: a new inode renamed over the old."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def main():
    c = Checks("cache-swap")
    with tempfile.TemporaryDirectory(prefix="rsap-swap-") as tmp:
        old = make_snapshot(tmp, "2025-06-01", "mark-old")
        new = make_snapshot(tmp, "2025-12-15", "mark-new")
        db = os.path.join(tmp, "db")
        os.makedirs(db)
        cache = os.path.join(db, "iana.snap")
        with open(cache, "wb") as f:
            f.write(old)
        with Rsapd("--cache-ttl", "0", "--no-access-log", db_dir=db) as d:
            c.equal(service_on_20000(d), "mark-old", "the old copy answers first")
            answers, stop = [], threading.Event()

            def ask():
                while not stop.is_set():
                    try:
                        answers.append(service_on_20000(d))
                    except OSError as e:
                        answers.append(f"error {e}")

            askers = [threading.Thread(target=ask) for _ in range(2)]
            for t in askers:
                t.start()
            for i in range(ROUNDS):
                os.truncate(cache, 4096)
                time.sleep(0.005)
                write_in_place(cache, new if i % 2 else old)
                time.sleep(0.005)
                os.truncate(cache, len(old) // 2)
                time.sleep(0.005)
                replace(cache, new)
                time.sleep(0.005)
            # Some rounds must have passed while rsapd looked at the file.
            time.sleep(1.5)
            stop.set()
            for t in askers:
                t.join()
            c.check(d.alive(), "rsapd is alive after the rewrites")
            odd = {a for a in answers if a not in ("mark-old", "mark-new")}
            c.check(not odd, f"every answer is the old or the new copy's: {sorted(odd)[:5]}")
            c.check(len(answers) > ROUNDS, f"requests ran during the rewrites ({len(answers)})")
            deadline = time.monotonic() + PICKUP_WAIT
            last = None
            while time.monotonic() < deadline:
                last = service_on_20000(d)
                if last == "mark-new":
                    break
                time.sleep(0.2)
            c.equal(last, "mark-new", "rsapd ends up on the file that is there last")
            status, j = d.get_json("/v1/status")
            c.equal(status, 200, "/v1/status")
            c.equal(j.get("data", j).get("release") if isinstance(j.get("data"), dict)
                    else j.get("release"), "2025-12-15", "the status names the new release")
            # A file that never checks out is not taken, and is said once.
            os.truncate(cache, 4096)
            time.sleep(2.5)
            c.equal(service_on_20000(d), "mark-new", "a truncated cache is not swapped in")
            c.check(d.log_text().count("does not check out") >= 1,
                    "rsapd logs the refused file")
            # Whole and well-formed but one byte off: only the checksum tells.
            corrupt = bytearray(old)
            corrupt[len(corrupt) - 100] ^= 0x01
            replace(cache, bytes(corrupt))
            time.sleep(2.5)
            c.equal(service_on_20000(d), "mark-new", "a snapshot failing its checksum is not taken")
            c.equal(d.stop(), 0, "rsapd stops cleanly")
    c.finish()


if __name__ == "__main__":
    main()
