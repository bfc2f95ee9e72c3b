#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fills a local registry for bench/registry.sh: 50,000 active assignments
and 1,000,000 events in one transaction, consistent with the rules of
rsap_store_check (rsap audit --consistency passes on the result).

    registry_gen.py DB [ASSIGNMENTS] [EVENTS]

DB must have rsap's schema and no events (bench/registry.sh makes it with
`rsap import` of an empty export).  Each assignment is a request, its
approval and its holding (two events); the rest of the events are leases of
random ports, each released (two events), so every port has a history.
Port 8443/tcp is one of the assignments.
"""
import json
import random
import sqlite3
import sys

START_US = 1_700_000_000 * 1_000_000
TCP, UDP = 1 << 1, 1 << 2


def assignment_rows(n):
    """(service, port, protocol) for n assignments: tcp, then udp, from 1024."""
    per_proto = (n + 1) // 2
    for i in range(n):
        yield f"svc{i}", 1024 + i % per_proto, "tcp" if i < per_proto else "udp"


def fill(db, n_assignments, n_events):
    cur = db.cursor()
    events = []
    now = START_US
    for i, (service, port, proto) in enumerate(assignment_rows(n_assignments)):
        rid = aid = sid = i + 1
        assignee = f"Team {i % 500}"
        cur.execute("INSERT INTO requests (id, service, port, range_low, range_high, protocols,"
                    " description, assignee, contact, state, requested_by, requested_us)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', 'bench', ?)",
                    (rid, service, port, port, port, TCP if proto == "tcp" else UDP,
                     f"service {i}", assignee, "ops@example.com", now))
        cur.execute("INSERT INTO services (id, name, assignee, contact, created_us)"
                    " VALUES (?, ?, ?, ?, ?)", (sid, service, assignee, "ops@example.com", now))
        cur.execute("INSERT INTO assignments (id, service_id, request_id, port, protocol,"
                    " description, assigned_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (aid, sid, rid, port, proto, f"service {i}", now + 1))
        cur.execute("INSERT INTO holdings (port, protocol, kind, assignment_id)"
                    " VALUES (?, ?, 'assignment', ?)", (port, proto, aid))
        request = json.dumps({"protocols": proto, "description": f"service {i}",
                              "assignee": assignee, "contact": "ops@example.com"},
                             separators=(",", ":"), sort_keys=True)
        approval = json.dumps({"assignee": assignee, "contact": "ops@example.com",
                               "description": f"service {i}", "checks": []},
                              separators=(",", ":"), sort_keys=True)
        events.append((now, "bench", "request", rid, None, None, service, port, None, None,
                       request))
        events.append((now + 1, "bench", "approve", rid, aid, None, service, port, proto, None,
                       approval))
        now += 1000
    rng = random.Random(6335)
    lease_id = 0
    while len(events) + 2 <= n_events:
        lease_id += 1
        port = rng.randint(1024, 49151)
        expires = now + 600_000_000
        cur.execute("INSERT INTO leases (id, port, name, expires_us, leased_us, active, ended_us)"
                    " VALUES (?, ?, 'ci', ?, ?, 0, ?)", (lease_id, port, expires, now, now + 500))
        details = json.dumps({"name": "ci", "ttl_s": 600, "expires_us": expires},
                             separators=(",", ":"), sort_keys=True)
        events.append((now, "ci-runner", "lease", None, None, lease_id, None, port, None, None,
                       details))
        events.append((now + 500, "ci-runner", "release", None, None, lease_id, None, port, None,
                       None, '{"name":"ci"}'))
        now += 1000
    cur.executemany("INSERT INTO events (time_us, actor, action, request_id, assignment_id,"
                    " lease_id, service, port, protocol, reason, details)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    return len(events)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    n_assignments = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    n_events = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    db = sqlite3.connect(path, isolation_level=None)
    if db.execute("SELECT count(*) FROM events").fetchone()[0]:
        sys.exit(f"{path} already has events")
    db.execute("BEGIN IMMEDIATE")
    written = fill(db, n_assignments, n_events)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"{path}: {n_assignments} assignments, {written} events")


if __name__ == "__main__":
    main()
