#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Squatter findings as listeners appear (daemon/findings.c), end to end, in a
network namespace of the test's own: a listener on a port the local registry
assigns to another service, on a port leased to another holder, and on a port
nobody registered is each recorded (rsap audit --findings), counted and shown
in /metrics, and handed to --on-finding (a program writing its stdin to a
file) and --finding-webhook (a receiver of the test's on 127.0.0.1:0); a
listener on its own service's port is none.  A finding ends when its
listener stops, or when the registry makes it legitimate."""
import http.server
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

from rsapd_harness import RSAP, Checks, Rsapd, own_network_namespace, unassigned_ports

c = Checks("findings")
HANG_GUARD = 60  # seconds: only so that a broken rsapd fails instead of hanging the suite

LISTENER = """
import socket, sys, time
open('/proc/self/comm', 'w').write(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[2])))
s.listen()
print('up', flush=True)
time.sleep(3600)
"""


def rsap(db_dir, *args):
    p = subprocess.run([RSAP, "--db-dir", db_dir, *args, "--json"], capture_output=True,
                       env=dict(os.environ, NO_COLOR="1"))
    return json.loads(p.stdout) if p.stdout.strip() else None, p.returncode


def assign(db_dir, service, port):
    req, status = rsap(db_dir, "request", service, "--port", str(port), "--proto", "tcp",
                       "--description", "findings test", "--assignee", "Ops <ops@example.org>",
                       "--contact", "ops@example.org")
    assert status == 0, f"request {service}: {status}"
    _, status = rsap(db_dir, "approve", str(req["id"]))
    assert status == 0, f"approve {service}: {status}"


def listen_as(command, port):
    p = subprocess.Popen([sys.executable, "-c", LISTENER, command, str(port)],
                         stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"up"
    return p


class Hooks(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def metrics(d):
    status, _, body = d.get("/metrics")
    assert status == 200
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", body.decode(), re.M)}


def wait_for(what, condition):
    deadline = time.monotonic() + HANG_GUARD
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def findings_on(db_dir, port, open_only=False):
    answer, _ = rsap(db_dir, "audit", "--findings", "--port", f"{port}/tcp",
                     *(["--open"] if open_only else []))
    return answer["findings"] if answer else []


def squatted(port, service):
    return f'rsap_squatted_ports{{service="{service}",port="{port}",proto="tcp"}}'


def main():
    own_network_namespace()
    tmp = tempfile.TemporaryDirectory(prefix="rsap-findings-")
    db_dir = os.path.join(tmp.name, "db")
    os.makedirs(db_dir)
    own_port, other_port, free_port = unassigned_ports(db_dir, 3)
    assign(db_dir, "webadm", own_port)
    assign(db_dir, "billing", other_port)
    holder = subprocess.Popen(["sleep", "3600"])
    lease, status = rsap(db_dir, "lease", "--ttl", "1h", "--name", "ci", "--pid", str(holder.pid))
    c.equal(status, 0, "a lease for another process")
    leased_port = lease["port"]

    out = os.path.join(tmp.name, "on-finding.out")
    command = os.path.join(tmp.name, "on-finding")
    with open(command, "w") as f:
        f.write(f"#!/bin/sh\ncat >> {out}\n")
    os.chmod(command, stat.S_IRWXU)
    receiver = http.server.HTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    listeners = {name: listen_as(comm, port) for name, comm, port in [
        ("own", "webadm", own_port), ("assigned", "squatter", other_port),
        ("leased", "squatter", leased_port), ("unregistered", "squatter", free_port)]}
    try:
        checks(db_dir, command, out, hook, listeners, ports=(own_port, other_port, leased_port,
                                                            free_port), lease=lease)
    finally:  # a failure leaves no process holding the test's output open
        for p in listeners.values():
            p.kill()
        holder.kill()
        receiver.shutdown()
    c.finish()


def checks(db_dir, command, out, hook, listeners, ports, lease):
    own_port, other_port, leased_port, free_port = ports
    with Rsapd("--on-finding", command, "--finding-webhook", hook, db_dir=db_dir) as d:
        m = wait_for("the three squatters in /metrics", lambda: (
            lambda m: m if m.get(squatted(other_port, "billing")) == 1 and
            m.get(squatted(leased_port, "ci")) == 1 and
            m.get('rsap_findings_total{kind="unregistered"}', 0) >= 1 and m else None)(metrics(d)))
        c.check(squatted(own_port, "webadm") not in m and
                not any(f'port="{own_port}"' in k for k in m),
                "no squatter on a port its own service listens on")
        c.equal(m['rsap_findings_total{kind="assigned-to-other"}'], 1, "one assigned-to-other")
        c.equal(m['rsap_findings_total{kind="leased-to-other"}'], 1, "one leased-to-other")

        kinds = {name: [f["kind"] for f in findings_on(db_dir, port)] for name, port in [
            ("own", own_port), ("assigned", other_port), ("leased", leased_port),
            ("unregistered", free_port)]}
        c.equal(kinds, {"own": [], "assigned": ["assigned-to-other"],
                        "leased": ["leased-to-other"], "unregistered": ["unregistered"]},
                "the findings recorded, by port")
        record = findings_on(db_dir, other_port)[0]
        c.equal((record["service"], record["address"], record["resolved"],
                 [p["command"] for p in record["processes"]]),
                ("billing", "127.0.0.1", None, ["squatter"]), "the finding's fields")
        leased = findings_on(db_dir, leased_port)[0]
        c.equal(leased["lease_id"], lease["id"], "the leased finding names the lease")

        # The port's listening history shows its finding beside its intervals,
        # the same through rsapd as from rsap.
        history, status = rsap(db_dir, "history", f"{other_port}/tcp", "--listening")
        c.check(status == 0 and [f["id"] for f in history["findings"]] == [record["id"]],
                f"rsap history {other_port}/tcp --listening shows the finding: {status}")
        http_status, _, body = d.get(f"/v1/history/{other_port}/tcp?listening=1")
        served = json.loads(body) if http_status == 200 else {}
        # Without a token rsapd names no process (--owners): the rest is rsap's.
        hidden = [dict(f, processes=None) for f in history["findings"]]
        c.check(served.get("findings") == hidden and
                all(i["owners"] == [] for i in served.get("intervals", [])),
                f"/v1/history/PORT/tcp?listening=1 is rsap history PORT/tcp --listening, "
                f"processes hidden: {http_status} {body[:300]!r}")
        text = subprocess.run([RSAP, "--db-dir", db_dir, "history", str(other_port), "--listening"],
                              capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
        c.check(text.returncode == 0 and "assigned-to-other" in text.stdout and
                "billing" in text.stdout, f"the text timeline names the finding: {text.stdout!r}")

        # The gauge of unregistered listeners is the open unregistered findings:
        # the test's listener, rsapd's own port, the webhook receiver's.
        open_unregistered = [f for f in rsap(db_dir, "audit", "--findings", "--open")[0]["findings"]
                             if f["kind"] == "unregistered"]
        c.equal(m["rsap_unregistered_listeners"], len(open_unregistered),
                "rsap_unregistered_listeners counts the open unregistered findings")

        # Both deliveries got each finding, as JSON.
        wait_for("the deliveries", lambda: metrics(d).get(
            'rsapd_finding_deliveries_total{result="delivered"}', 0) >= 3 + len(open_unregistered) - 1)
        delivered = [json.loads(line) for line in open(out)]
        by_port = {(f["kind"], f["port"]) for f in delivered}
        c.check({("assigned-to-other", other_port), ("leased-to-other", leased_port),
                 ("unregistered", free_port)} <= by_port, "--on-finding got the three findings")
        c.check(all(f["port"] != own_port for f in delivered), "--on-finding got none for own")
        hooked = {(f["kind"], f["port"]) for _, f in Hooks.received}
        c.check(by_port <= hooked and all(t == "application/json" for t, _ in Hooks.received),
                "the webhook got them as JSON")

        # The leased squatter stops: its finding ends, the gauge drops.
        listeners["leased"].kill()
        listeners["leased"].wait()
        wait_for("the leased port's gauge gone",
                 lambda: squatted(leased_port, "ci") not in metrics(d))
        c.check(findings_on(db_dir, leased_port)[0]["resolved"] is not None,
                "the stopped squatter's finding is resolved")

        # The registry makes the unregistered listener legitimate.
        before = metrics(d)["rsap_unregistered_listeners"]
        assign(db_dir, "squatter", free_port)
        wait_for("the unregistered gauge dropping",
                 lambda: metrics(d)["rsap_unregistered_listeners"] == before - 1)
        c.equal(findings_on(db_dir, free_port, open_only=True), [],
                "registered now: the finding on that port is resolved")
        c.equal(metrics(d).get(squatted(other_port, "billing")), 1, "the other squatter stays")


if __name__ == "__main__":
    main()
