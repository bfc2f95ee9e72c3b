#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Races on one PostgreSQL store through two rsapd and rsap at once, as
many hosts would make them.  Runs under tests/registry/pg_server.sh.

- 50 clients lease from a range of 20 ports at the same moment, a third
  through each rsapd's API and a third with `rsap lease`: 20 winners, 30
  told no port is free (409; exit status 3 and one line), no port twice.
- 50 requests for one port, each of another service, approved at the same
  moment the same three ways: one winner, 49 refusals by the rules, one
  assignment in the store."""
import json
import os
import subprocess
import sys
import tempfile
import threading

from rsapd_harness import RSAP, Checks, Rsapd, own_network_namespace, write_token

c = Checks("pg-race")
DB = os.environ.get("RSAP_TEST_STORE")
CLIENTS = 50
RANGE = 20


def rsap(*args):
    env = dict(os.environ, NO_COLOR="1", RSAP_BUSY_TIMEOUT_MS="60000")
    return subprocess.run([RSAP, *args, "--db", DB], capture_output=True, text=True, env=env)


def post(d, path, body, token):
    status, _, raw = d.request("POST", path, body=body,
                               headers={"Authorization": "Bearer " + token}, timeout=120)
    return status, json.loads(raw) if raw else None


def consecutive_free(length):
    """The first of length consecutive ports free here and in the store."""
    p = rsap("pick", "--range", "20300-29999", "--count", "2000", "--json")
    ports = json.loads(p.stdout)["ports"] if p.returncode == 0 else []
    run = 0
    for i, port in enumerate(ports):
        run = run + 1 if i and port == ports[i - 1] + 1 else 1
        if run == length:
            return port - length + 1
    return None


def at_once(actions):
    """Runs every action in a thread of its own, released together; their results in order."""
    results = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(i):
        barrier.wait()
        try:
            results[i] = actions[i]()
        except Exception as e:  # noqa: BLE001 - reported as a result
            results[i] = ("error", str(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


def lease_action(way, daemons, token, low, high):
    """A lease through rsapd daemons[way] or (way 2) rsap: ("won", port) or ("lost", text)."""
    if way < 2:
        def through_rsapd():
            status, j = post(daemons[way], "/v1/leases", {"range": f"{low}-{high}", "ttl": "10m"},
                             token)
            if status == 201:
                return ("won", j["port"])
            message = ((j or {}).get("error") or {}).get("message", "")
            return ("lost", message) if status == 409 and "no free port" in message else \
                ("other", f"{status} {j}")
        return through_rsapd

    def by_rsap():
        p = rsap("lease", "--range", f"{low}-{high}", "--ttl", "10m")
        if p.returncode == 0:
            return ("won", int(p.stdout.split()[0]))
        lines = p.stderr.strip().splitlines()
        return ("lost", lines[0]) if p.returncode == 3 and len(lines) == 1 and \
            f"no free port in {low}-{high}" in lines[0] else ("other", f"{p.returncode} {p.stderr}")
    return by_rsap


def leases(daemons, token):
    low = consecutive_free(RANGE)
    if low is None:
        c.skip(f"no {RANGE} consecutive free ports here")
        return
    high = low + RANGE - 1
    results = at_once([lease_action(i % 3, daemons, token, low, high) for i in range(CLIENTS)])
    won = sorted(port for kind, port in results if kind == "won")
    lost = [text for kind, text in results if kind == "lost"]
    others = [text for kind, text in results if kind not in ("won", "lost")]
    c.equal(len(won), RANGE, "leases won")
    c.equal(len(lost), CLIENTS - RANGE, "clients told no port is free")
    c.check(not others, f"no other answer: {others[:3]}")
    c.equal(won, list(range(low, high + 1)), "each port of the range handed out once")


def approve_action(way, daemons, token, rid):
    if way < 2:
        def through_rsapd():
            status, j = post(daemons[way], f"/v1/registry/requests/{rid}/approve", {}, token)
            if status == 200:
                return "won"
            return "lost" if status == 409 and j and j.get("approved") is False else \
                f"{status} {j}"
        return through_rsapd

    def by_rsap():
        p = rsap("approve", str(rid))
        if p.returncode == 0:
            return "won"
        return "lost" if p.returncode == 3 else f"{p.returncode} {p.stderr}"
    return by_rsap


def approvals(daemons, token):
    port = consecutive_free(1)
    ids = []
    for i in range(CLIENTS):
        p = rsap("request", f"contender-{i}", "--port", str(port), "--proto", "tcp",
                 "--description", "one of many", "--assignee", "Team", "--contact", "t@example.org",
                 "--json")
        if p.returncode != 0:
            c.check(False, f"filing request {i}: {p.stderr.strip()}")
            return
        ids.append(json.loads(p.stdout)["id"])
    results = at_once([approve_action(i % 3, daemons, token, rid) for i, rid in enumerate(ids)])
    c.equal(results.count("won"), 1, f"approvals of {port} that won")
    c.equal(results.count("lost"), CLIENTS - 1, "approvals the rules refused")
    c.check(all(r in ("won", "lost") for r in results),
            f"no other answer: {[r for r in results if r not in ('won', 'lost')][:3]}")
    p = rsap("list", str(port), "--proto", "tcp", "--json")
    rows = json.loads(p.stdout)["ports"] if p.returncode == 0 else []
    holders = [(r["local"] or {}).get("service") for r in rows
               if (r["local"] or {}).get("kind") == "assignment"]
    c.check(len(holders) == 1 and holders[0].startswith("contender-"),
            f"one assignment of {port}/tcp in the store: {holders} {p.stderr.strip()}")


def main():
    if not DB:
        print("SKIP: run under tests/registry/pg_server.sh (no RSAP_TEST_STORE)")
        sys.exit(77)
    own_network_namespace()
    token_dir = tempfile.TemporaryDirectory(prefix="rsap-pg-race-")
    token_file, token = write_token(token_dir.name)
    args = ("--db", DB, "--token-file", token_file)
    with token_dir, Rsapd(*args) as a, Rsapd(*args) as b:
        leases((a, b), token)
        approvals((a, b), token)
        p = rsap("audit", "--consistency")
        c.equal(p.returncode, 0, f"the store is consistent afterwards: {p.stdout}{p.stderr}")
    c.finish()


if __name__ == "__main__":
    main()
