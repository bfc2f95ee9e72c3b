#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cached snapshots that are wrong inside: one body byte flipped (the
checksum no longer matches) and a snapshot whose header is sound but whose
records point far past the strings, its checksum made right again.  The
first is refused by `rsap status`; the second must crash no lookup, neither
rsap's nor rsapd's.  Needs no ../shared: the cache is made from the
built-in copy."""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from rsapd_harness import RSAP, Checks, Rsapd  # noqa: E402

c = Checks("snapshot")

# lib/iana/snapshot_format.h: struct snap_header, struct snap_record (little-endian here).
HEADER = "<8sIIQI" + "I" * 15
HEADER_FIELDS = ("magic version endian size checksum source release n_records n_people "
                 "records_off people_off lists_off n_list_words port_first_off "
                 "port_entries_off n_port_entries name_slots_off n_name_slots "
                 "strings_off strings_size").split()
RECORD = "<10I2H4B"  # service description registered modified service_code
#                      unauthorized notes assignee contact references, ports, ...
CHECKSUM_AT = struct.calcsize("<8sIIQ")


def header(data):
    return dict(zip(HEADER_FIELDS, struct.unpack_from(HEADER, data)))


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def fix_checksum(data):
    struct.pack_into("<I", data, CHECKSUM_AT, fnv1a(data[struct.calcsize(HEADER):]))


def rsap(db_dir, *args):
    env = dict(os.environ, RSAP_DB_DIR=db_dir, NO_COLOR="1")
    return subprocess.run([RSAP, *args], capture_output=True, text=True, env=env)


def refused_as_corrupt(p, what, as_json=False):
    """Exit 2 and one line that says corrupt; with --json, the same message
    as an error object on stdout as well (docs/json.md)."""
    if as_json:
        try:
            said = json.loads(p.stdout)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            said = None
        printed = said is not None and "corrupt" in said
    else:
        printed = p.stdout == ""
    c.check(p.returncode == 2 and printed and p.stderr.count("\n") == 1 and
            "corrupt" in p.stderr, f"{what}: exit {p.returncode}, {p.stdout[:200]!r} {p.stderr!r}")


def answered_cleanly(p, what):
    """Exit 0, 1 or 2 (never a signal, never a sanitizer's report), and at most
    one line on stderr."""
    c.check(p.returncode in (0, 1, 2) and p.stderr.count("\n") <= 1 and
            "Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
            f"{what}: exit {p.returncode}, stderr {p.stderr[-300:]!r}")


def make_cache(tmp):
    db = os.path.join(tmp, "db")
    csv = os.path.join(tmp, "builtin.csv")
    subprocess.run([RSAP, "export", "--format", "csv", "--output", csv], check=True)
    p = rsap(db, "update", "--from", csv)
    if p.returncode != 0:
        raise RuntimeError(f"rsap update: {p.stderr}")
    with open(os.path.join(db, "iana.snap"), "rb") as f:
        return db, bytearray(f.read())


def write_cache(db, data):
    with open(os.path.join(db, "iana.snap"), "wb") as f:
        f.write(data)


def flipped_bytes(db, good):
    h = header(good)
    c.equal(rsap(db, "status").returncode, 0, "the pristine cache is sound")
    places = {"the first body byte": struct.calcsize(HEADER),
              "a record": h["records_off"] + 4,
              "a string": h["strings_off"] + h["strings_size"] // 2,
              "the last byte": len(good) - 1}
    for what, at in places.items():
        bad = bytearray(good)
        bad[at] ^= 0x01
        write_cache(db, bad)
        refused_as_corrupt(rsap(db, "status"), f"rsap status with one bit flipped in {what}")
        refused_as_corrupt(rsap(db, "status", "--json"), f"rsap status --json, {what} flipped",
                           as_json=True)


def offsets_past_the_strings(db, good):
    """Every string and list offset of every record far out of range, with a
    checksum that matches: only the bounds checks stand between a lookup and
    memory that is not the snapshot's."""
    h = header(good)
    bad = bytearray(good)
    size = struct.calcsize(RECORD)
    for i in range(h["n_records"]):
        at = h["records_off"] + i * size
        r = list(struct.unpack_from(RECORD, bad, at))
        for k in range(10):
            r[k] = 0x7FFFFFF0 + (i & 7)
        struct.pack_into(RECORD, bad, at, *r)
    struct.pack_into("<I", bad, struct.calcsize("<8sIIQII"), 0x7FFFFFF8)  # the release
    fix_checksum(bad)
    write_cache(db, bad)
    for args in (["1647"], ["--json", "1647"], ["rsap"], ["search", "rsap"],
                 ["list", "1640-1650"], ["export", "--format", "csv"],
                 ["export", "--format", "json"], ["status"], ["status", "--json"]):
        p = rsap(db, *args)
        answered_cleanly(p, f"rsap {' '.join(args)} on a snapshot with offsets past its strings")
    p = rsap(db, "1647")
    c.check(p.returncode == 0 and "1647  tcp,udp" in p.stdout and "rsap  1647" not in p.stdout,
            f"the port still answers, without the name it no longer points to: {p.stdout[:200]!r}")
    with Rsapd("--cache-ttl", "0", db_dir=db) as d:
        for path in ("/v1/ports/1647", "/v1/services/rsap", "/v1/search?q=rsap",
                     "/v1/list?range=1640-1650", "/port/1647", "/map.svg", "/v1/status"):
            try:
                status, _, _ = d.get(path)
            except OSError as e:
                status = str(e)
            c.check(status in (200, 400, 404) and d.alive(),
                    f"rsapd on the same snapshot: GET {path} is {status}, and rsapd is up")
        c.equal(d.stop(), 0, "rsapd stops cleanly after answering from it")


def rsapd_takes_no_bad_checksum(db, good):
    """rsapd started on a cache with one bit flipped answered from it, with
    "cached": false, where rsap refuses the file.  Now it answers from the
    built-in copy, takes the sound file once it is written, and keeps it when
    a SIGHUP finds the file corrupt again."""
    cache = os.path.join(db, "iana.snap")
    bad = bytearray(good)
    bad[header(good)["strings_off"] + header(good)["strings_size"] // 2] ^= 0x01
    write_cache(db, bad)
    with Rsapd(db_dir=db) as d:
        status, answer = d.get_json("/v1/status")
        c.check(status == 200 and answer["data"]["origin"] == "built-in" and not answer["cached"],
                f"rsapd started on a corrupt cache answers from the built-in copy: {answer}")
        c.check("fails its checksum" in d.log_text(), "and says why in its log")
        write_cache(db, good)
        for _ in range(50):
            status, answer = d.get_json("/v1/status")
            if answer["data"]["origin"] == cache:
                break
            time.sleep(0.1)
        c.check(answer["data"]["origin"] == cache and answer["cached"],
                f"the sound cache, once written, is taken: {answer}")
        write_cache(db, bad)
        d.proc.send_signal(signal.SIGHUP)
        for _ in range(50):
            if "SIGHUP: cannot open the registry again" in d.log_text():
                break
            time.sleep(0.1)
        status, answer = d.get_json("/v1/status")
        c.check(answer["data"]["origin"] == cache and answer["cached"],
                f"a SIGHUP on a corrupt cache keeps the sound copy: {answer}")
        c.check("SIGHUP: cannot open the registry again" in d.log_text(),
                "and the log says the reload was refused")


def another_format(db, good):
    """A cache that another version of rsap wrote (the format version in the
    header differs, nothing else does), as an upgrade of rsap leaves it: not
    an error, the built-in copy answers and says so, rsap status names the
    cause, rsapd starts and logs it, and rsap update writes the cache anew."""
    cache = os.path.join(db, "iana.snap")
    for version in (header(good)["version"] - 1, header(good)["version"] + 1):
        old = bytearray(good)
        struct.pack_into("<I", old, 8, version)
        write_cache(db, old)
        p = rsap(db, "1647")
        c.check(p.returncode == 0 and "rsap  1647" in p.stdout and
                "data: built-in copy" in p.stdout and p.stderr == "",
                f"format {version}: rsap 1647 answers from the built-in copy: {p.stdout[-200:]!r} "
                f"{p.stderr!r}")
        p = rsap(db, "status")
        c.check(p.returncode == 0 and "another version of rsap" in p.stdout and
                "built-in copy" in p.stdout,
                f"format {version}: rsap status names the cause: {p.stdout!r} {p.stderr!r}")
        p = rsap(db, "status", "--json")
        j = json.loads(p.stdout) if p.returncode == 0 else {}
        c.check(j.get("cached") is False and j.get("data", {}).get("origin") == "built-in",
                f"format {version}: status --json: not cached, built-in: {p.stdout[:300]!r}")
    with Rsapd(db_dir=db) as d:
        status, answer = d.get_json("/v1/status")
        c.check(status == 200 and answer["data"]["origin"] == "built-in" and not answer["cached"],
                f"rsapd started on another format's cache answers from the built-in copy: {answer}")
        c.check("another version of rsap" in d.log_text(), "and says why in its log")
    csv = os.path.join(os.path.dirname(db), "builtin.csv")
    p = rsap(db, "update", "--from", csv, "--allow-any-date")
    c.check(p.returncode == 0, f"rsap update over it: {p.stderr!r}")
    p = rsap(db, "status")
    c.check(p.returncode == 0 and "(verified)" in p.stdout and cache in p.stdout,
            f"after rsap update the cache is read again: {p.stdout!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="rsap-snapshot-") as tmp:
        db, good = make_cache(tmp)
        c.equal(header(good)["magic"], b"RSAPSNAP", "the cache is a snapshot this test can read")
        c.equal(fnv1a(good[struct.calcsize(HEADER):]), header(good)["checksum"],
                "and its checksum is FNV-1a of the body, as this test computes it")
        flipped_bytes(db, good)
        offsets_past_the_strings(db, good)
        rsapd_takes_no_bad_checksum(db, good)
        another_format(db, good)
    c.finish()


if __name__ == "__main__":
    main()
