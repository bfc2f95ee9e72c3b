#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Several rsapd on one PostgreSQL store, and the store's server restarted
under them.  Runs under tests/registry/pg_server.sh (RSAP_TEST_STORE, and
RSAP_TEST_PG_CTL to stop and start that server).

- Two rsapd keep port answers for a minute (--cache-ttl); a change made
  through one of them, or by rsap beside them, reaches the other's answers
  without waiting out the cache: each rsapd follows the store's commits
  (LISTEN/NOTIFY) and asks nothing before each answer.
- Under a stream of writes through rsapd and rsap the server stops and
  starts again: every write acknowledged is in the store afterwards, the
  writes meanwhile get a clear refusal (503 with a message; rsap's one line
  and exit status 2), and both recover by themselves: the same rsapd
  process writes again, and follows the commits again."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from rsapd_harness import RSAP, Checks, Rsapd, own_network_namespace, write_token

c = Checks("pg-shared")
DB = os.environ.get("RSAP_TEST_STORE")
CTL = os.environ.get("RSAP_TEST_PG_CTL")
MINUTE_MS = "60000"  # --cache-ttl at its longest
WAIT_S = 20  # what "at once" may take on a loaded machine, at most: well under the TTL


def rsap(*args):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([RSAP, *args, "--db", DB], capture_output=True, text=True, env=env)


def rsap_json(*args):
    p = rsap(*args, "--json")
    return (json.loads(p.stdout) if p.returncode == 0 and p.stdout else None), p


def post(d, path, body, token):
    status, _, raw = d.request("POST", path, body=body,
                               headers={"Authorization": "Bearer " + token}, timeout=60)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def local_kinds(d, port):
    status, answer = d.get_json(f"/v1/ports/{port}")
    return sorted(e["kind"] for e in answer["local"]) if status == 200 else None


def until(condition, seconds=WAIT_S):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def free_ports(count):
    """count ports IANA leaves unassigned, with nothing of the store on them."""
    picked, p = rsap_json("pick", "--range", "20000-32000", "--count", str(count))
    c.check(picked is not None, f"rsap pick: {p.stderr.strip()}")
    return picked["ports"] if picked else []


def assign(port, service, d=None, token=None):
    """A request and its approval, through rsapd d or by rsap."""
    body = {"service": service, "port": port, "protocols": "tcp", "description": "test",
            "assignee": "Test Team", "contact": "test@example.org"}
    if d:
        status, j = post(d, "/v1/registry/requests", body, token)
        c.equal(status, 201, f"filing {service} on {port} through rsapd")
        status, j = post(d, f"/v1/registry/requests/{j['id']}/approve", {}, token)
        c.equal(status, 200, f"approving {service} through rsapd")
        return
    filed, p = rsap_json("request", service, "--port", str(port), "--proto", "tcp",
                         "--description", "test", "--assignee", "Test Team",
                         "--contact", "test@example.org")
    c.check(filed is not None, f"rsap request {service}: {p.stderr.strip()}")
    p = rsap("approve", str(filed["id"] if filed else 0))
    c.equal(p.returncode, 0, f"rsap approve {service}: {p.stderr.strip()}")


def caches_follow_other_writers(a, b, token):
    ports = free_ports(2)
    if len(ports) < 2:
        return
    for port in ports:  # both rsapd now hold "nothing here" for a minute
        for d in (a, b):
            c.equal(local_kinds(d, port), [], f"port {port} has no entry at first")
    assign(ports[0], "through-a", d=a, token=token)
    c.check(until(lambda: local_kinds(b, ports[0]) == ["assignment"]),
            f"an assignment made through one rsapd reaches the other's answer for {ports[0]}:"
            f" {local_kinds(b, ports[0])}")
    assign(ports[1], "by-rsap")
    c.check(until(lambda: local_kinds(a, ports[1]) == ["assignment"] and
                  local_kinds(b, ports[1]) == ["assignment"]),
            f"an assignment made by rsap reaches both rsapd's answers for {ports[1]}")


class Writer(threading.Thread):
    """Files requests through rsapd one after another, noting each answer."""

    def __init__(self, d, token):
        super().__init__(daemon=True)
        self.d, self.token = d, token
        self.acked, self.refusals, self.others = [], [], []
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"stream-{n}"
            body = {"service": name, "any": True, "range": "40000-40999", "protocols": "tcp",
                    "description": "a write of the stream", "assignee": "Test Team",
                    "contact": "test@example.org"}
            try:
                status, j = post(self.d, "/v1/registry/requests", body, self.token)
            except OSError as e:
                self.others.append(f"{name}: {e}")
                continue
            if status == 201:
                self.acked.append(name)
            elif status == 503 and "does not answer" in ((j or {}).get("error") or {}).get("message", ""):
                self.refusals.append(name)
                time.sleep(0.02)
            else:
                self.others.append(f"{name}: {status} {j}")
            time.sleep(0.005)


def survives_a_restart(a, b, token):
    writer = Writer(a, token)
    writer.start()
    c.check(until(lambda: len(writer.acked) >= 5), "writes acknowledged before the stop")
    p = subprocess.run([CTL, "stop"], capture_output=True, text=True)
    c.equal(p.returncode, 0, f"the server stopped: {p.stderr.strip()}")
    c.check(until(lambda: len(writer.refusals) >= 3),
            f"writes refused while the server is away ({len(writer.refusals)})")
    down = rsap("requests")
    c.check(down.returncode == 2 and len(down.stderr.strip().splitlines()) == 1 and
            "PostgreSQL" in down.stderr,
            f"rsap says in one line that the server does not answer: {down.returncode}"
            f" {down.stderr!r}")
    acked_before = len(writer.acked)
    p = subprocess.run([CTL, "start"], capture_output=True, text=True)
    c.equal(p.returncode, 0, f"the server started again: {p.stderr.strip()}")
    c.check(until(lambda: len(writer.acked) >= acked_before + 5),
            "the same rsapd writes again once the server is back")
    writer.stop.set()
    writer.join(60)
    c.check(not writer.others, f"no answer but 201 or a clear 503: {writer.others[:3]}")
    c.check(a.alive() and b.alive(), "both rsapd ran through the restart")
    listed, p = rsap_json("requests", "--all")
    stored = {r["service"] for r in listed["requests"]} if listed else set()
    missing = [name for name in writer.acked if name not in stored]
    c.check(listed is not None and not missing,
            f"every acknowledged write is in the store ({len(writer.acked)} acknowledged,"
            f" missing {missing[:5]}; {p.stderr.strip()})")
    # The followers came back too: a change by rsap reaches both caches.
    back = "following the local registry's changes again"
    c.check(until(lambda: back in a.log_text() and back in b.log_text()),
            "both rsapd say they follow the store's changes again")
    ports = free_ports(1)
    for port in ports:
        for d in (a, b):
            c.equal(local_kinds(d, port), [], f"port {port} has no entry after the restart")
        assign(port, "after-restart")
        c.check(until(lambda: local_kinds(a, port) == ["assignment"] and
                      local_kinds(b, port) == ["assignment"]),
                f"after the restart, a change by rsap reaches both rsapd's answers for {port}")
    p = rsap("audit", "--consistency")
    c.equal(p.returncode, 0, f"the store is consistent afterwards: {p.stdout}{p.stderr}")


def psql(sql):
    p = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-c", sql, DB], capture_output=True,
                       text=True)
    c.equal(p.returncode, 0, f"psql {sql}: {p.stderr.strip()}")
    return p.stdout.strip()


def newer_schema():
    """A schema from a newer rsap is refused with PostgreSQL's own numbers, not SQLite's."""
    known = psql("SELECT version FROM rsap_schema")
    psql("UPDATE rsap_schema SET version = 99")
    p = rsap("requests")
    c.check(p.returncode == 2 and
            f"was written by a newer rsap (schema 99, this rsap knows {known}): upgrade rsap"
            in p.stderr and len(p.stderr.strip().splitlines()) == 1,
            f"a newer schema: {p.returncode} {p.stderr!r}")
    psql(f"UPDATE rsap_schema SET version = {known}")


def main():
    if not DB or not CTL:
        print("SKIP: run under tests/registry/pg_server.sh (no RSAP_TEST_STORE)")
        sys.exit(77)
    own_network_namespace()
    token_dir = tempfile.TemporaryDirectory(prefix="rsap-pg-shared-")
    token_file, token = write_token(token_dir.name)
    args = ("--db", DB, "--cache-ttl", MINUTE_MS, "--token-file", token_file)
    with token_dir, Rsapd(*args) as a, Rsapd(*args) as b:
        caches_follow_other_writers(a, b, token)
        survives_a_restart(a, b, token)
    newer_schema()
    c.finish()


if __name__ == "__main__":
    main()
