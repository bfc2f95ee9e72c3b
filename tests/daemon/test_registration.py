#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The organisation's registration process over rsapd's API: requests,
review, approve, reject, transfer, deassign, revoke, history, pick, leases
and audit, each against what the rsap command prints for the same database,
with every error status."""
import json
import os
import socket
import subprocess
import tempfile
import threading

from rsapd_harness import (Checks, Rsapd, own_network_namespace, rsap_json, unassigned_ports,
                           write_token)

c = Checks("registration")
P = []  # IANA-unassigned ports free here, found at the start


def cli(d, *args):
    """`rsap --db-dir DB ARGS --json` as parsed JSON and the exit status."""
    out, status = rsap_json(d.db_dir, *args)
    return (json.loads(out) if out else None), status


def same_as_cli(d, path, args, what):
    status, _, body = d.get(path)
    out, _ = rsap_json(d.db_dir, *args)
    c.check(status == 200 and body == out, f"{what}: GET {path} is `rsap {' '.join(args)} --json`"
            f" ({status}; {body[:120]!r} vs {out[:120]!r})")
    return json.loads(body) if status == 200 else None


def post(d, path, body, token, method="POST"):
    headers = {"Authorization": "Bearer " + token} if token else {}
    status, headers, raw = d.request(method, path, body=body, headers=headers)
    return status, headers, (json.loads(raw) if raw else None)


def request_body(service, port, **extra):
    body = {"service": service, "port": port, "protocols": "tcp,udp",
            "description": f"{service} for the tests", "assignee": "Test Team",
            "contact": "test@example.org"}
    body.update(extra)
    return body


def requests_and_decisions(d, token):
    status, _, _ = post(d, "/v1/registry/requests", request_body("testsvc", P[0]), None)
    c.equal(status, 401, "filing without a token")
    status, headers, j = post(d, "/v1/registry/requests", request_body("testsvc", P[0]), token)
    c.check(status == 201 and j["kind"] == "request" and j["service"] == "testsvc",
            f"a request is filed: {status} {j}")
    rid = j["id"]
    c.equal(headers.get("location"), f"/v1/registry/requests/{rid}", "201 says where it is")
    same_as_cli(d, "/v1/registry/requests", ["requests"], "pending requests")
    review = same_as_cli(d, f"/v1/registry/requests/{rid}", ["review", str(rid)], "a request with its review")
    c.check(review and review["kind"] == "review", "the review is a review")

    status, _, j = post(d, f"/v1/registry/requests/{rid}/approve", {"why": "looks fine", "as": "alice"}, token)
    c.check(status == 200 and j["kind"] == "approval" and len(j["assignments"]) == 2,
            f"approval: {status} {str(j)[:200]}")
    status, _, j = post(d, f"/v1/registry/requests/{rid}/approve", {}, token)
    c.equal(status, 409, "approving twice")
    status, _, j = post(d, f"/v1/registry/requests/{rid}/reject", {"why": "late"}, token)
    c.equal(status, 409, "rejecting a decided request")

    history = same_as_cli(d, f"/v1/history/{P[0]}", ["history", str(P[0])], "the port's history")
    c.check(history and [e["action"] for e in history["events"]][:2] == ["request", "approve"],
            f"history: request, then approve: {history and [e['action'] for e in history['events']]}")
    c.check(any(e["actor"] == "alice" for e in history["events"]), "the actor given as 'as' is recorded")
    same_as_cli(d, f"/v1/history/{P[0]}/tcp", ["history", f"{P[0]}/tcp"], "port/proto history")
    same_as_cli(d, "/v1/history/testsvc", ["history", "testsvc"], "a name's history")
    same_as_cli(d, f"/v1/history/request:{rid}", ["history", f"request:{rid}"], "a request's history")

    # The port's answers now carry the assignment at once (no stale cache).
    status, body = d.get_json(f"/v1/ports/{P[0]}")
    c.check(any(e["kind"] == "assignment" and e["service"] == "testsvc" for e in body["local"]),
            "GET /v1/ports/N shows the new assignment")
    out, _ = rsap_json(d.db_dir, str(P[0]))
    _, _, raw = d.get(f"/v1/ports/{P[0]}")
    c.check(raw == out, "and is byte for byte rsap PORT --json")
    status, _, page = d.get(f"/port/{P[0]}")
    c.check(b"assignment" in page and b"testsvc" in page and b"Test Team" in page and b"approve" in page,
            "the port page shows the assignment and its history")
    c.check(f"<h1>Port {P[0]}: testsvc (this organisation&#39;s)</h1>".encode() in page,
            "and names the organisation's service in its title")
    status, _, home = d.get("/")
    c.check(b"2 assignments" in home, "/ counts the organisation's assignments")

    status, _, j = post(d, "/v1/registry/requests", request_body("other", P[1]), token)
    rid2 = j["id"]
    status, _, j = post(d, f"/v1/registry/requests/{rid2}/reject", {}, token)
    c.equal(status, 400, "rejecting without a reason")
    status, _, j = post(d, f"/v1/registry/requests/{rid2}/reject", {"why": "not needed"}, token)
    c.check(status == 200 and j["state"] == "rejected", f"rejected: {status} {j}")
    same_as_cli(d, "/v1/registry/requests?all=1", ["requests", "--all"], "every request")

    # A rule refuses: IANA assigned 443.
    status, _, j = post(d, "/v1/registry/requests", request_body("myhttps", 443), token)
    rid3 = j["id"]
    status, _, j = post(d, f"/v1/registry/requests/{rid3}/approve", {}, token)
    c.check(status == 409 and j["kind"] == "approval" and j["approved"] is False and
            any(x["verdict"] == "refused" and x["code"] == "iana" for x in j["checks"]),
            f"a refused approval is 409 with the checks: {status} {str(j)[:200]}")

    status, _, j = post(d, "/v1/registry/requests", request_body("anysvc", None, any=True,
                                                                 range=f"{P[2]}-{P[2] + 10}"), token)
    c.check(status == 201 and j["port"] is None, f"a request for any port: {status} {j}")
    return rid


def assignments(d, token):
    status, _, j = post(d, "/v1/registry/transfer", {"target": "testsvc", "to": "New Team",
                                                       "why": "reorg"}, token)
    c.check(status == 200 and j["kind"] == "transfer" and j["to"] == "New Team",
            f"transfer: {status} {str(j)[:200]}")
    # To the assignee it has: refused, in rsap transfer's words (exit 3, refused).
    for to in ("New Team", "new team"):
        status, _, j = post(d, "/v1/registry/transfer", {"target": "testsvc", "to": to}, token)
        p = subprocess.run([os.environ["RSAP"], "--db-dir", d.db_dir, "transfer", "testsvc", "--to", to],
                           capture_output=True, text=True)
        c.check(status == 409 and j["error"]["message"] == f"testsvc already belongs to {to}",
                f"a transfer to the assignee itself is refused, saying so: {status} {j}")
        c.check(p.returncode == 3 and f"testsvc already belongs to {to}" in p.stderr,
                f"as rsap transfer says: {p.returncode} {p.stderr!r}")
    status, _, j = post(d, "/v1/registry/deassign", {"target": f"{P[0]}/udp",
                                                       "quarantine": "1d"}, token)
    c.check(status == 200 and j["kind"] == "deassign" and len(j["assignments"]) == 1,
            f"deassign one protocol: {status} {str(j)[:200]}")
    status, _, j = post(d, "/v1/registry/revoke", {"target": "testsvc"}, token)
    c.equal(status, 400, "revoking without a reason")
    status, _, j = post(d, "/v1/registry/revoke", {"target": "testsvc", "why": "unused"}, token)
    c.check(status == 200 and j["kind"] == "revoke", f"revoke: {status} {str(j)[:200]}")
    status, _, j = post(d, "/v1/registry/deassign", {"target": "testsvc"}, token)
    c.equal(status, 404, "nothing left to deassign")
    status, _, j = post(d, "/v1/registry/transfer", {"target": "nosuch", "to": "X"}, token)
    c.check(status == 404 and j["error"]["message"] == "no service or active assignment for nosuch",
            f"transferring nothing: {status} {j}")
    status, _, j = post(d, "/v1/registry/deassign", {"target": "testsvc"}, token)
    c.check(j["error"]["message"] == "no active assignment for testsvc",
            f"deassigning nothing says what rsap deassign says: {j}")


def agrees_with_cli(d, token):
    """Inputs the CLI takes or refuses, the API takes or refuses alike."""
    for i, (service, port) in enumerate((("zeroq-api", P[5]), ("zeroq-cli", P[6]))):
        status, _, j = post(d, "/v1/registry/requests", request_body(service, port), token)
        status, _, _ = post(d, f"/v1/registry/requests/{j['id']}/approve", {}, token)
        c.equal(status, 200, f"{service} approved")
    status, _, j = post(d, "/v1/registry/deassign", {"target": "zeroq-api", "quarantine": "0s"}, token)
    c.check(status == 200 and j["kind"] == "deassign" and len(j["assignments"]) == 2 and
            all(a["quarantine_until"] == a["ended"] for a in j["assignments"]),
            f"the API takes quarantine 0s as rsap deassign does, free at once: {status} {j}")
    out, code = cli(d, "deassign", "zeroq-cli", "--quarantine", "0s")
    c.equal(code, 0, "rsap deassign --quarantine 0s")
    status, _, j = post(d, "/v1/leases", {"ttl": "0s"}, token)
    _, code = cli(d, "lease", "--ttl", "0s")
    c.check(status == 400 and code == 2, f"a TTL of 0s is refused by both: {status}, exit {code}")
    status, _, j = post(d, "/v1/registry/deassign", {"target": "zeroq-api", "quarantine": "0"}, token)
    _, code = cli(d, "deassign", "zeroq-api", "--quarantine", "0")
    c.check(status == 400 and code == 2, f"a duration without a unit is refused by both: {status}, exit {code}")


def pick_and_leases(d, token):
    rng = f"{P[3]}-{P[3] + 100}"
    same_as_cli(d, f"/v1/pick?range={rng}&count=3", ["pick", "--range", rng, "--count", "3"], "pick")
    same_as_cli(d, f"/v1/pick?range={rng}&proto=udp", ["pick", "--range", rng, "--proto", "udp"], "pick udp")
    for bad in ("range=9-1", "count=0", "count=x", "proto=ipx"):
        status, _, _ = d.get("/v1/pick?" + bad)
        c.equal(status, 400, f"/v1/pick?{bad}")

    status, headers, j = post(d, "/v1/leases", {"range": rng, "ttl": "10m", "name": "ci-run"}, token)
    c.check(status == 201 and j["kind"] == "lease" and j["name"] == "ci-run",
            f"a lease: {status} {j}")
    port = j["port"]
    c.equal(headers.get("location"), f"/v1/leases/{port}", "the lease's address")
    lease_json, _ = cli(d, str(port))
    c.check(any(e["kind"] == "lease" for e in lease_json["local"]), "rsap PORT shows the lease")
    status, _, j = post(d, f"/v1/leases/{port}", None, token, method="DELETE")
    c.check(status == 200 and j["kind"] == "release", f"released: {status} {j}")
    status, _, j = post(d, f"/v1/leases/{port}", None, token, method="DELETE")
    c.equal(status, 404, "releasing twice")
    status, _, j = post(d, "/v1/leases/notaport", None, token, method="DELETE")
    c.equal(status, 400, "releasing something that is not a port")
    status, _, j = post(d, "/v1/leases", {"range": f"{P[4]}-{P[4]}", "pid": 4194303}, token)
    c.equal(status, 400, "a lease for a process that does not exist")
    status, _, j = post(d, "/v1/leases", {"ttl": "forever"}, token)
    c.equal(status, 400, "a malformed TTL")


def audit(d, token):
    """A listener of the test's own, on a port IANA leaves unassigned (P), is
    unregistered.  rsapd's own port is the kernel's choice, which IANA may
    have assigned (then the audit judges the service, not the registration):
    unregistered only when IANA left it unassigned."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", P[56]))
        listener.listen()
        # With the token: the findings may name processes (--owners).
        status, j = d.get_json("/v1/audit", headers={"Authorization": "Bearer " + token})
    c.check(status == 200 and j["kind"] == "audit", f"audit: {status}")
    mine = [f for f in j["findings"] if f["port"] == P[56]]
    c.check(len(mine) == 1 and mine[0]["kind"] == "unregistered" and
            f"(pid {os.getpid()}) listens on {P[56]}/tcp, a port neither IANA nor the local "
            "registry assigns" in mine[0]["message"],
            f"the audit finds the test's unregistered listener on {P[56]}: {mine}")
    own = [f["kind"] for f in j["findings"] if f["port"] == d.port]
    iana, _ = cli(d, f"{d.port}/tcp")
    if iana["status"]["tcp"] == "unassigned":
        c.equal(own, ["unregistered"], f"and rsapd's own port {d.port}, unassigned by IANA")
    out, status = rsap_json(d.db_dir, "audit")
    c.check(json.loads(out)["kind"] == "audit", "rsap audit --json agrees on the kind")


def bad_input(d, token):
    cases = [
        ({"service": "x"}, "missing fields"),
        (request_body("x", 1, bogus=1), "an unknown field"),
        (request_body("x", 70000), "a port out of range"),
        (request_body("x", "80"), "a port as a string"),
        (request_body("x", 21000, any=True), "port and any"),
        (dict(request_body("x", 21000), protocols="ipx"), "an unknown protocol"),
        (dict(request_body("x", 21000), protocols=[]), "no protocols"),
        (dict(request_body("x", 21000), description=""), "an empty description"),
        (dict(request_body("x", 21000), allow_system="yes"), "a flag that is not a boolean"),
        (request_body("x" * 80, 21000), "a service name too long"),
    ]
    for body, what in cases:
        status, _, j = post(d, "/v1/registry/requests", body, token)
        c.check(status == 400 and j["error"]["status"] == 400, f"{what}: {status} {j}")
    # A malformed id is bad input, as `rsap review abc` exits 2; a missing one is 404.
    for path, want, args in (("/v1/registry/requests/abc", 400, ["review", "abc"]),
                             ("/v1/registry/requests/0", 400, ["review", "0"]),
                             ("/v1/registry/requests/99999", 404, ["review", "99999"])):
        status, _, _ = d.get(path)
        _, code = cli(d, *args)
        c.check(status == want and code == (2 if want == 400 else 1),
                f"{path}: {status} and rsap {' '.join(args)}: exit {code}")
    status, _, _ = post(d, "/v1/registry/requests/abc/approve", {}, token)
    c.equal(status, 400, "approving a malformed id")
    status, _, _ = post(d, "/v1/registry/requests/1/frobnicate", {}, token)
    c.equal(status, 404, "an action that does not exist")
    status, _, _ = post(d, "/v1/registry/requests/99999/approve", {}, token)
    c.equal(status, 404, "approving no request")
    status, _, _ = post(d, "/v1/registry/deassign", {"target": "80/tcp/x"}, token)
    c.equal(status, 400, "a malformed target")
    status, _, _ = d.request("PUT", "/v1/registry/requests")
    c.equal(status, 405, "PUT on the requests")
    status, _, _ = d.request("GET", "/v1/leases")
    c.equal(status, 405, "GET on /v1/leases")


def concurrent_filing(d, token):
    results = []

    def worker(i):
        for j in range(5):
            status, _, body = post(d, "/v1/registry/requests",
                                   request_body(f"conc{i}-{j}", P[10 + i * 5 + j]), token)
            results.append(status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.equal(results.count(201), 40, "40 requests filed from 8 threads at once")
    consistency, _ = cli(d, "audit", "--consistency")
    c.check(consistency and consistency.get("consistent") is True,
            f"the database is consistent afterwards: {consistency}")


def answers_cached_then_changed(token):
    """With answers cached for 5 s, a change made through the API is seen at
    once: each write drops what was cached before it.  The built-in copy
    suffices (no ../shared)."""
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = write_token(tmp, token)
        with Rsapd("--token-file", path, "--cache-ttl", "5000") as d:
            port = P[55]  # past the ones concurrent_filing takes
            status, before = d.get_json(f"/v1/ports/{port}")
            c.check(status == 200 and before["local"] == [], f"{port}: nothing local yet: {before['local']}")
            status, _, j = post(d, "/v1/registry/requests", request_body("cachesvc", port), token)
            # Cached again between the two writes, so each must end it.
            status, pending = d.get_json(f"/v1/ports/{port}")
            c.check([e["kind"] for e in pending["local"]] == ["request"],
                    f"{port}: the request, right after filing it: {pending['local']}")
            status, _, j = post(d, f"/v1/registry/requests/{j['id']}/approve", {}, token)
            c.equal(status, 200, "approved through the API")
            status, after = d.get_json(f"/v1/ports/{port}")
            c.check(sorted((e["kind"], e["service"], e["protocols"], e["state"]) for e in after["local"]) ==
                    [("assignment", "cachesvc", ["tcp"], "active"),
                     ("assignment", "cachesvc", ["udp"], "active")],
                    f"GET /v1/ports/{port} right after the approval shows it, cache or not: "
                    f"{after['local']}")
            _, _, raw = d.get(f"/v1/ports/{port}")
            out, _ = rsap_json(d.db_dir, str(port))
            c.check(raw == out, "and is byte for byte rsap PORT --json")
            status, _, j = post(d, "/v1/registry/deassign", {"target": "cachesvc", "quarantine": "0s"}, token)
            c.equal(status, 200, "deassigned through the API")
            status, gone = d.get_json(f"/v1/ports/{port}")
            c.check(gone["local"] == [], f"and the deassignment shows at once too: {gone['local']}")


def main():
    own_network_namespace()  # the ports it files and picks are free in there
    with tempfile.TemporaryDirectory() as tmp:
        path, token = write_token(tmp)
        with Rsapd("--token-file", path) as d:
            P.extend(unassigned_ports(d.db_dir, 60))
            requests_and_decisions(d, token)
            assignments(d, token)
            agrees_with_cli(d, token)
            pick_and_leases(d, token)
            audit(d, token)
            bad_input(d, token)
            concurrent_filing(d, token)
            answers_cached_then_changed(token)
            c.check(d.alive(), "rsapd is up")
            c.equal(d.stop(), 0, "rsapd stops cleanly")
    c.finish()


if __name__ == "__main__":
    main()
