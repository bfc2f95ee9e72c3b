#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`rsap listening` and `rsap who` inside a network namespace of our own.

Nothing else listens in a new namespace, so the listing must be exactly the
sockets listener.py opened: wildcard and specific addresses, IPv4 and IPv6,
an SO_REUSEPORT group, a socket shared with a forked child, one the child
holds alone, and two on ports with known registry entries.  Skipped (77)
where the system allows no namespace.

    netns.py [RSAP]     (or RSAP in the environment)
"""
import os
import sys
import tempfile

from listen_common import SKIP, Listener, in_new_netns, rsap_json, run_rsap

SPECS = [
    "tcp,0.0.0.0",
    "tcp,::,v6only",
    "tcp,::",
    "udp,0.0.0.0",
    "udp,::1",
    "tcp,127.0.0.1,reuseport=3",
    "udp,127.0.0.2,reuseport=2",
    "tcp,127.0.0.1,shared",
    "udp,::1,child",
    "tcp,127.0.0.1,port=22",   # IANA: ssh
    "udp,127.0.0.1,port=1023", # IANA: Reserved, so unregistered
]

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def key(entry):
    return (entry["protocol"], entry["address"], entry["port"], entry["inode"])


def expected_sockets(listener):
    return {key(s): s for s in listener.sockets}


def check_exact_listing(listener, db):
    listed = rsap_json("listening", "--db-dir", db)
    want = expected_sockets(listener)
    got = {key(s): s for s in listed}
    check(set(got) == set(want),
          f"listing differs: missing {sorted(set(want) - set(got))}, "
          f"extra {sorted(set(got) - set(want))}")
    for k in set(got) & set(want):
        pids = [p["pid"] for p in got[k]["processes"]]
        commands = [p["command"] for p in got[k]["processes"]]
        check(pids == want[k]["pids"], f"{k}: pids {pids}, expected {want[k]['pids']}")
        check(commands == want[k]["commands"],
              f"{k}: commands {commands}, expected {want[k]['commands']}")
        check(got[k]["processes_visible"] is True, f"{k}: processes not visible")
        check(got[k]["uid"] == os.geteuid(), f"{k}: uid {got[k]['uid']}")
    order = [(s["protocol"], s["port"]) for s in listed]
    check(order == sorted(order), "the listing is not sorted by protocol and port")
    return got


def check_fields(got):
    ssh = [s for s in got.values() if s["port"] == 22]
    check(len(ssh) == 1 and ssh[0]["service"] == "ssh", f"port 22: {ssh}")
    dual = [s for s in got.values() if s["address"] == "::" and s["protocol"] == "tcp"]
    check(sorted(s["ipv6_only"] for s in dual) == [False, True],
          f"ipv6_only of the two [::] sockets: {[s['ipv6_only'] for s in dual]}")
    for s in got.values():
        for field in ("protocol", "address", "port", "uid", "user", "service", "processes"):
            check(field in s, f"{key(s)}: no {field!r}")


def check_filters(listener, db):
    want = expected_sockets(listener)
    udp = rsap_json("listening", "--udp", "--db-dir", db)
    check({key(s) for s in udp} == {k for k in want if k[0] == "udp"}, "--udp")
    reuse_port = next(s["port"] for s in listener.sockets
                      if s["address"] == "127.0.0.1" and s["protocol"] == "tcp"
                      and len(s["pids"]) == 1 and s["port"] != 22
                      and sum(1 for t in listener.sockets if t["port"] == s["port"]) == 3)
    group = rsap_json("listening", "--port", str(reuse_port), "--tcp", "--db-dir", db)
    check(len(group) == 3 and len({s["inode"] for s in group}) == 3,
          f"the SO_REUSEPORT group on {reuse_port}: {len(group)} sockets")
    kid = next(s for s in listener.sockets if s["commands"] == ["rsap-kid"])
    by_kid = rsap_json("listening", "--pid", str(kid["pids"][0]), "--db-dir", db)
    shared = {key(s) for s in listener.sockets if kid["pids"][0] in s["pids"]}
    check({key(s) for s in by_kid} == shared, "--pid of the child")
    unregistered = rsap_json("listening", "--unregistered", "--db-dir", db)
    ports = {s["port"] for s in unregistered}
    check(22 not in ports and 1023 in ports, f"--unregistered: 22 or 1023 wrong in {ports}")
    bare = rsap_json("listening", "--no-process", "--db-dir", db)
    check(all(s["processes"] is None for s in bare), "--no-process still has processes")


def endpoint(entry):
    """The ADDRESS:PORT column of a socket, from its JSON."""
    address = f"[{entry['address']}]" if ":" in entry["address"] else entry["address"]
    return f"{address}:{entry['port']}"


def check_text_services(db):
    """Each row of the table names its own port's service, as the JSON does:
    22's row says ssh, the rows of the ports after it in the table do not."""
    status, out, err = run_rsap("listening", "--db-dir", db)
    check(status == 0, f"rsap listening exited {status}: {err}")
    want = {(s["protocol"], endpoint(s)): s["service"] or "-"
            for s in rsap_json("listening", "--db-dir", db)}
    rows = [line.split()[:3] for line in out.splitlines()[1:]]
    got = {(proto, where): service for proto, where, service in rows}
    check(got == want, f"the SERVICE column: {sorted(got.items())}, "
                       f"expected {sorted(want.items())}")
    check(("tcp", "127.0.0.1:22") in got, "no row for 127.0.0.1:22")


def check_who(listener, db):
    tcp = next(s for s in listener.sockets if s["address"] == "0.0.0.0")
    status, out, _ = run_rsap("who", str(tcp["port"]), "--db-dir", db)
    check(status == 0 and "rsap-listener" in out, f"who {tcp['port']}: {status} {out!r}")
    status, _, _ = run_rsap("who", f"{tcp['port']}/udp", "--db-dir", db)
    check(status == 1, f"who {tcp['port']}/udp: {status}, expected 1")
    status, _, _ = run_rsap("who", "1", "--db-dir", db)
    check(status == 1, f"who 1: {status}, expected 1")


def check_closed_gone(db):
    with Listener("tcp,127.0.0.1") as gone:
        port = gone.sockets[0]["port"]
        check(run_rsap("who", str(port), "--db-dir", db)[0] == 0, "the new socket is missing")
    check(run_rsap("who", str(port), "--db-dir", db)[0] == 1, "the closed socket is still there")


def main():
    outer = in_new_netns(os.path.abspath(__file__), "RSAP_TEST_IN_NETNS")
    if outer is not None:
        return outer
    with tempfile.TemporaryDirectory() as db:  # the built-in registry, not a host cache
        with Listener(*SPECS) as listener:
            got = check_exact_listing(listener, db)
            check_fields(got)
            check_filters(listener, db)
            check_text_services(db)
            check_who(listener, db)
        check(rsap_json("listening", "--db-dir", db) == [], "sockets left after the listener")
        check_closed_gone(db)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
