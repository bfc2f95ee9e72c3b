#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One answer, three renderings: for every kind of port the local registry
and the host can make (IANA only, a port inside a range record, an approved
assignment, a pending request, a live lease, a quarantined port, a listener
that holds its assignment, a listener nobody registered, a socket two
processes own), `rsap PORT --json` and GET /v1/ports/PORT are the same
bytes, and the page /port/PORT shows the same facts: the local entries'
services and kinds, and the processes behind the sockets.  The same for
names (`rsap NAME`, /v1/services/NAME, /service/NAME), a range (`rsap list`,
/v1/list) and a search.  Runs in a network namespace of its own where one
may be made, so that no host listener is in the answers."""
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rsapd_harness import Checks, Rsapd, own_network_namespace, rsap_json, unassigned_ports  # noqa: E402

c = Checks("agreement")


def must(db, *args):
    out, code = rsap_json(db, *args)
    if code != 0:
        raise RuntimeError(f"rsap {' '.join(args)}: exit {code}: {out[:300]!r}")
    return json.loads(out)


def assign(db, service, port, proto="tcp"):
    request = must(db, "request", service, "--port", str(port), "--proto", proto,
                   "--description", f"{service}'s port", "--assignee", "Team " + service,
                   "--contact", f"{service}@example.com")
    must(db, "approve", str(request["id"]))


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    return s


def shared_listener(port):
    """A socket held by this process and a child that sleeps holding it too."""
    s = listener(port)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)  # until the parent closes its end
        os._exit(0)
    os.close(r)
    return s, pid, w


def setup(db):
    """The ports, each with what the local registry and the host hold there."""
    p = unassigned_ports(db, 7)
    kinds = {"iana-only": 1647, "in-a-range-record": 6001}
    assign(db, "held-svc", p[0])
    kinds["listener-on-assignment"] = p[0]
    must(db, "request", "asked-svc", "--port", str(p[1]), "--proto", "tcp",
         "--description", "a pending request", "--assignee", "Team asked", "--contact", "a@x")
    kinds["pending-request"] = p[1]
    must(db, "lease", "--range", f"{p[2]}-{p[2]}", "--pid", str(os.getpid()), "--ttl", "1h",
         "--name", "leased-run")
    kinds["live-lease"] = p[2]
    assign(db, "gone-svc", p[3])
    must(db, "revoke", "gone-svc", "--why", "the team is gone", "--quarantine", "1h")
    kinds["quarantined"] = p[3]
    kinds["listener-unregistered"] = p[4]
    assign(db, "shared-svc", p[5])
    kinds["two-owners"] = p[5]
    assign(db, "plain-svc", p[6], "udp")
    kinds["assignment-only"] = p[6]
    return kinds


def port_agrees(d, kind, port, want_pids):
    status, _, body = d.get(f"/v1/ports/{port}")
    cli, code = rsap_json(d.db_dir, str(port))
    c.check(status == 200 and code == 0 and body == cli,
            f"{kind}: GET /v1/ports/{port} is `rsap {port} --json` byte for byte")
    answer = json.loads(cli)
    status, _, page = d.get(f"/port/{port}")
    text = page.decode(errors="replace")
    c.check(status == 200, f"{kind}: /port/{port} is a page")
    for entry in answer["local"] or []:
        c.check(entry["service"] in text and entry["kind"] in text and entry["state"] in text,
                f"{kind}: the page shows the local {entry['state']} {entry['kind']} of "
                f"{entry['service']}")
    sockets = answer["listening"] or []
    pids = sorted(p["pid"] for s in sockets for p in s["processes"] or [])
    c.check(pids == sorted(want_pids),
            f"{kind}: the answer names the processes {sorted(want_pids)}: {pids}")
    for pid in pids:
        c.check(str(pid) in text, f"{kind}: the page names process {pid}")
    return answer


def name_agrees(d, name):
    status, _, body = d.get(f"/v1/services/{name}")
    cli, code = rsap_json(d.db_dir, name)
    c.check(body == cli and (status, code) in ((200, 0), (404, 1)),
            f"GET /v1/services/{name} is `rsap {name} --json` ({status}, exit {code})")
    status, _, page = d.get(f"/service/{name}")
    for entry in json.loads(cli).get("local") or []:
        c.check(entry["kind"] in page.decode(errors="replace"),
                f"/service/{name} shows its local {entry['kind']}")


def main():
    own_network_namespace()
    with Rsapd("--owners", "all", "--cache-ttl", "0") as d:
        kinds = setup(d.db_dir)
        me = os.getpid()
        # First, so that the child holds this socket and no other.
        shared, child, release_child = shared_listener(kinds["two-owners"])
        held = listener(kinds["listener-on-assignment"])
        loose = listener(kinds["listener-unregistered"])
        d.fresh_listeners()  # rsapd answers from its snapshot of the sockets
        try:
            answers = {}
            for kind, port in kinds.items():
                pids = {"listener-on-assignment": [me], "listener-unregistered": [me],
                        "two-owners": [me, child]}.get(kind, [])
                answers[kind] = port_agrees(d, kind, port, pids)
            held_by = [s["local"] for s in answers["listener-on-assignment"]["listening"]]
            c.check(held_by and held_by[0] and held_by[0]["service"] == "held-svc",
                    f"the listener on the assignment carries it: {held_by}")
            loose_by = [s["local"] for s in answers["listener-unregistered"]["listening"]]
            c.check(loose_by == [None], f"the unregistered listener carries nothing: {loose_by}")
            shared_by = [s["local"] for s in answers["two-owners"]["listening"]]
            c.check(shared_by and shared_by[0] and shared_by[0]["service"] == "shared-svc",
                    f"the shared socket carries its assignment: {shared_by}")
            c.check(answers["in-a-range-record"]["records"] and
                    answers["in-a-range-record"]["records"][0]["port_low"] <
                    answers["in-a-range-record"]["records"][0]["port_high"],
                    "6001 is answered by a range record")
            kinds_found = {e["kind"] for a in answers.values() for e in a["local"] or []}
            c.check({"assignment", "request", "lease"} <= kinds_found,
                    f"the ports cover assignments, requests and leases: {kinds_found}")
            states = {e["state"] for e in answers["quarantined"]["local"] or []}
            c.check(states == {"quarantined"}, f"the revoked port is quarantined: {states}")
        finally:
            for s in (held, loose, shared):
                s.close()
            os.close(release_child)
            os.waitpid(child, 0)
        for name in ("held-svc", "asked-svc", "gone-svc", "rsap", "no-such-svc"):
            name_agrees(d, name)
        low = min(set(kinds.values()) - {1647, 6001})
        high = max(set(kinds.values()) - {1647, 6001})
        status, _, body = d.get(f"/v1/list?range={low}-{high}")
        cli, _ = rsap_json(d.db_dir, "list", f"{low}-{high}")
        c.check(status == 200 and body == cli, f"/v1/list?range={low}-{high} is `rsap list`")
        status, _, body = d.get("/v1/search?q=svc")
        cli, _ = rsap_json(d.db_dir, "search", "svc")
        c.check(status == 200 and body == cli, "/v1/search?q=svc is `rsap search svc`")
        local = json.loads(cli).get("local") or []
        c.check(len(local) >= 3, f"the search finds the local services: {len(local)}")
        status, _, page = d.get("/search?q=svc")
        page = page.decode(errors="replace")
        for entry in local:
            c.check(entry["service"] in page,
                    f"/search?q=svc shows the local {entry['kind']} {entry['service']}")
        c.equal(d.stop(), 0, "rsapd stops cleanly")
    c.finish()


if __name__ == "__main__":
    main()
