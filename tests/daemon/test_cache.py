#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's cache of answers (daemon/cache.h) keeps a port's answer for a
minute, and still never serves one that a change made stale: a socket bound
or closed on the port (seen by the first answer after a fresh snapshot),
a write by an rsap command beside the daemon (seen by the next request), and
a quarantine that ends by itself, with no write at all.  Each answer served
is also byte for byte what `rsap PORT --json` prints then.  Without the
cache, the same writes reach the answers of ports the registry had no entry
on (which rsapd answers without a query)."""
import json
import socket
import tempfile
import time

from rsapd_harness import Checks, Rsapd, own_network_namespace, rsap_json, unassigned_ports

c = Checks("cache")
MINUTE_MS = "60000"


def cli(d, *args):
    out, status = rsap_json(d.db_dir, *args)
    return (json.loads(out) if out else None), status


def local_entries(d, port):
    status, answer = d.get_json(f"/v1/ports/{port}")
    c.equal(status, 200, f"GET /v1/ports/{port}")
    return sorted((e["kind"], e["state"]) for e in answer["local"])


def local_kinds(d, port):
    return [kind for kind, _ in local_entries(d, port)]


def listening_ports(d, port):
    _, answer = d.get_json(f"/v1/ports/{port}")
    return [s["port"] for s in answer["listening"] or []]


def same_as_cli(d, port, what):
    _, _, body = d.get(f"/v1/ports/{port}")
    out, _ = rsap_json(d.db_dir, str(port))
    c.check(body == out, f"{what}: GET /v1/ports/{port} is `rsap {port} --json`")


def sockets_on_the_port(d, port, other):
    """A socket on another port leaves this port's answer as it was; one on
    the port itself, bound or closed, is in the first answer after a fresh
    snapshot, however long answers are kept."""
    c.equal(listening_ports(d, port), [], f"nothing listens on {port} yet (now cached)")
    with socket.socket() as elsewhere:
        elsewhere.bind(("127.0.0.1", other))
        elsewhere.listen()
        d.fresh_listeners()
        c.equal(listening_ports(d, port), [], f"a socket on {other} is not one on {port}")
        c.equal(listening_ports(d, other), [other], f"and is in {other}'s own answer")
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))
            listener.listen()
            d.fresh_listeners()
            c.equal(listening_ports(d, port), [port],
                    "a socket bound on the port is in the first answer after a fresh snapshot")
            c.equal(listening_ports(d, port), [port], "and in the cached one after it")
        d.fresh_listeners()
        c.equal(listening_ports(d, port), [], "closed, it is gone from the next fresh answer")
    same_as_cli(d, port, "after the sockets came and went")


def writes_beside_the_daemon(d, port):
    """rsap commands write to the registry's file, not through rsapd: the
    next request sees what they committed."""
    c.equal(local_kinds(d, port), [], f"{port}: nothing local yet (now cached)")
    lease, status = cli(d, "lease", "--range", f"{port}-{port}", "--ttl", "1h", "--name", "cache")
    c.equal(status, 0, f"rsap lease {port}: {lease}")
    c.equal(local_kinds(d, port), ["lease"], "a lease taken by rsap is in the next answer")
    same_as_cli(d, port, "with the lease")
    _, status = cli(d, "release", str(port))
    c.equal(status, 0, f"rsap release {port}")
    c.equal(local_kinds(d, port), [], "and its release too")


def quarantine_ends_by_itself(d, port):
    """A quarantine ends at its time, with no write: the answer cached while
    it lasted is not served after."""
    req, status = cli(d, "request", "cachesvc", "--port", str(port), "--proto", "tcp",
                      "--description", "cache test", "--assignee", "Ops", "--contact", "ops@example.org")
    c.equal(status, 0, f"rsap request: {req}")
    _, status = cli(d, "approve", str(req["id"]))
    c.equal(status, 0, "rsap approve")
    _, status = cli(d, "deassign", f"{port}/tcp", "--why", "cache test", "--quarantine", "3s")
    c.equal(status, 0, "rsap deassign --quarantine 3s")
    c.equal(local_entries(d, port), [("assignment", "quarantined")],
            f"{port}: quarantined now (and cached)")
    time.sleep(3.5)
    c.equal(local_entries(d, port), [], f"{port}: the quarantine is over, nothing is left")
    same_as_cli(d, port, "after the quarantine")


def main():
    own_network_namespace()
    with tempfile.TemporaryDirectory(prefix="rsapd-cache-"):
        with Rsapd("--cache-ttl", MINUTE_MS, "--listeners-interval", "100") as d:
            ports = unassigned_ports(d.db_dir, 4)
            sockets_on_the_port(d, ports[0], ports[1])
            writes_beside_the_daemon(d, ports[2])
            quarantine_ends_by_itself(d, ports[3])
        # Without the cache, the set of ports with local entries (local_ports.c)
        # spares the others a query: a write beside the daemon must reach it too.
        with Rsapd("--cache-ttl", "0") as d:
            port = unassigned_ports(d.db_dir, 1)[0]
            writes_beside_the_daemon(d, port)
    return c.finish()


if __name__ == "__main__":
    main()
