#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""/metrics from the background refresh (daemon/figures.c), by the order of
events, never by durations:

- a scrape never waits on the store lock: while a write holds it (the write
  waits in SQLite's busy handler on a lock this test holds), /metrics
  answers, again and again, from the cache: its age grows, its figures are
  the last refresh's, and the write is still waiting when each answer comes;
- a refresh does not hold the store lock while it runs the audit: with
  18,000 listening sockets in a network namespace of the test's own, a
  refresh held on the store lock behind a write goes on once the write is
  done, and a POST write and a port-server lease made then, after its
  reads, complete while that same refresh is under way (before and after,
  /metrics says it runs and has ended no other);
- after a refresh, the findings are what `rsap audit --json` reports;
- the first refresh runs at start-up, and SIGTERM stops the thread."""
import glob
import json
import os
import re
import resource
import socket
import sqlite3
import sys
import tempfile
import threading
import time

from rsapd_harness import (NETNS_FLAG, Checks, Rsapd, own_network_namespace, rsap_json,
                           unassigned_ports, write_token)

c = Checks("metrics-cache")
N_SOCKETS = 18000
TRIES = 3
HANG_GUARD = 60  # seconds: only so that a broken rsapd fails instead of hanging the suite


def figures(d, timeout=10):
    """/metrics' samples, by name with labels; raises socket.timeout if it waits."""
    status, _, body = d.get("/metrics", timeout=timeout)
    if status != 200:
        raise AssertionError(f"/metrics answered {status}")
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", body.decode(), re.M)}


def refreshes(f):
    return (f['rsapd_metrics_refreshes_total{result="ok"}'] +
            f['rsapd_metrics_refreshes_total{result="failed"}'])


def poll(what, condition):
    deadline = time.monotonic() + HANG_GUARD
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def request_body(service, port):
    return json.dumps({"service": service, "port": port, "protocols": "tcp",
                       "description": f"{service} for the tests", "assignee": "Test Team",
                       "contact": "test@example.org"})


class Post(threading.Thread):
    """One POST /v1/registry/requests in a thread of its own; done says it answered."""

    def __init__(self, d, token, service, port):
        super().__init__(daemon=True)
        self.d, self.token, self.body = d, token, request_body(service, port)
        self.done = threading.Event()
        self.status = None

    def run(self):
        try:
            self.status, _, _ = self.d.request(
                "POST", "/v1/registry/requests", body=self.body,
                headers={"Authorization": "Bearer " + self.token}, timeout=HANG_GUARD)
        finally:
            self.done.set()


def waiting_in_busy_handler(pid):
    """Whether a thread of pid sleeps in nanosleep(2): SQLite's busy handler
    (lib/local/store.c) is the one place rsapd sleeps so while it serves.
    None when the kernel hides where threads wait."""
    seen = False
    for task in glob.glob(f"/proc/{pid}/task/*/wchan"):
        try:
            wchan = open(task).read()
        except OSError:
            continue
        seen = seen or wchan not in ("", "0")
        if "nanosleep" in wchan:
            return True
    return False if seen else None


def refreshing(d):
    """/metrics' samples once they say a refresh is under way."""
    return poll("a refresh under way",
                lambda: (lambda f: f if f["rsapd_metrics_refreshing"] == 1 else None)(figures(d)))


def scrapes_while_locked(d, post, before):
    """The scrapes made while the write holds store_lock: each must answer
    before the write does.  The last refresh's samples, or None."""
    first = figures(d)
    c.check(not post.done.is_set(), "/metrics answers while a write holds the store lock")
    # A new listener: a refresh would count it; the cache must not have.
    extra = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    extra.bind(("127.0.0.1", 0))
    extra.listen(1)
    # The refresh due next blocks on store_lock behind the write: it runs and cannot end.
    blocked = refreshing(d)
    time.sleep(0.01)  # so that the age, in milliseconds, has moved on
    later = figures(d)
    extra.close()
    c.check(not post.done.is_set(), "every scrape answered before the write")
    c.equal(later["rsapd_metrics_refreshing"], 1, "the blocked refresh is still under way")
    c.equal(refreshes(later), refreshes(blocked), "and no refresh ended meanwhile")
    c.check(later["rsapd_metrics_age_seconds"] > blocked["rsapd_metrics_age_seconds"] >=
            first["rsapd_metrics_age_seconds"] > 0, "the cached figures' age grows")
    c.equal((later["rsapd_leases"], later["rsapd_audit_findings"]),
            (before["rsapd_leases"], before["rsapd_audit_findings"]),
            "the figures are the last refresh's")
    return later


def scrape_never_waits_on_store_lock(tmp):
    token_path, token = write_token(tmp)
    # A thread of its own for the scrapes: the write blocks the one it runs on.
    with Rsapd("--token-file", token_path, "--threads", "4") as d:
        port = unassigned_ports(d.db_dir, 1)[0]
        d.fresh_metrics()
        before = figures(d)
        db = lock_the_database(d)
        post = Post(d, token, "waiter", port)
        post.start()
        where = poll("the write waits in SQLite's busy handler",
                     lambda: post.done.is_set() or waiting_in_busy_handler(d.proc.pid) is not False)
        if where is None:
            c.skip("this kernel hides where threads wait (/proc/PID/task/*/wchan)")
        c.check(not post.done.is_set(), "the write waits while the database is locked")
        last = before
        try:
            last = scrapes_while_locked(d, post, before)
        except (socket.timeout, TimeoutError):
            c.check(False, "/metrics waited for the store lock")
        finally:
            db.execute("ROLLBACK")
            post.join()
        c.equal(post.status, 201, "the write completes once the database is free")
        d.fresh_metrics()
        c.check(refreshes(figures(d)) > refreshes(last), "the refresh resumes behind the write")
        c.equal(d.stop(), 0, "rsapd stops with the refresh thread")


def listen_many(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 200:
        return None
    sockets = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        sockets.append(s)
    return sockets


def lease_from_portserver(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(HANG_GUARD)
    s.connect(address)
    s.sendall(b"%d\n" % os.getpid())
    answer = s.recv(1024)
    s.close()
    return answer.strip()


def refresh_thread_waits_for_lock(pid):
    """Whether rsapd's refresh thread waits on a futex: in a refresh, only
    store_lock makes it wait (a netlink read or the audit's rules do not)."""
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            if open(task + "/comm").read().strip() == "rsapd-metrics":
                return "futex" in open(task + "/wchan").read()
        except OSError:
            pass
    return False


def lock_the_database(d):
    """A connection holding SQLite's write lock, and a write of rsapd's that
    waits on it (in SQLite's busy handler) while it holds store_lock."""
    db = sqlite3.connect(os.path.join(d.db_dir, "registry.db"), isolation_level=None,
                         timeout=HANG_GUARD)
    db.execute("BEGIN EXCLUSIVE")
    return db


def write_after_the_read(d, token, address, port, n):
    """The refresh, held on store_lock behind a write, takes it once the
    write is done: a write and a lease made then come after the refresh's
    reads, during its audit.  Whether they complete before it ends."""
    db = lock_the_database(d)
    held = Post(d, token, f"held{n}", port)
    held.start()
    poll("the write waits in SQLite's busy handler",
         lambda: held.done.is_set() or waiting_in_busy_handler(d.proc.pid))
    start = poll("the refresh waits for store_lock", lambda: (lambda f: f if (
        f["rsapd_metrics_refreshing"] == 1 and refresh_thread_waits_for_lock(d.proc.pid) and
        figures(d)["rsapd_metrics_refreshing"] == 1) else None)(figures(d)))
    db.execute("ROLLBACK")
    held.join()
    c.equal(held.status, 201, "the held write completes")
    post = Post(d, token, f"during{n}", port)
    post.run()  # on this thread: it is done when it returns
    lease = lease_from_portserver(address)
    now = figures(d)
    c.equal(post.status, 201, "a write during a refresh succeeds")
    c.check(lease.isdigit(), f"the port server hands out a port during a refresh ({lease!r})")
    within = now["rsapd_metrics_refreshing"] == 1 and refreshes(now) == refreshes(start)
    if within and "rsapd_audit_findings" in start:
        c.equal(now["rsapd_audit_findings"], start["rsapd_audit_findings"],
                "a scrape during a refresh shows the last refresh's findings")
        c.check(now["rsapd_metrics_age_seconds"] > start["rsapd_metrics_age_seconds"],
                "and their age grows")
    poll("that refresh ends", lambda: refreshes(figures(d)) > refreshes(start))
    return within


def findings_made(d):
    return sum(v for k, v in figures(d).items() if k.startswith("rsap_findings_total{"))


def settled(d):
    """Until the squatter findings of the new sockets are all made: their count
    grew, then stood still for two seconds."""
    last = poll("the sockets' squatter findings", lambda: findings_made(d) > 1000 and
                findings_made(d))
    while True:
        time.sleep(2)
        now = findings_made(d)
        if now == last:
            return
        last = now


def writes_during_a_slow_refresh(tmp):
    token_path, token = write_token(tmp)
    address = os.path.join(tmp, "portserver")
    # Not recording (the history's own writes are another test's): the squatter
    # findings of the sockets still go in, so the test waits for them first.
    with Rsapd("--token-file", token_path, "--portserver", address, "--threads", "4",
               "--no-record") as d:
        port = unassigned_ports(d.db_dir, 1)[0]
        sockets = listen_many(N_SOCKETS)
        if sockets is None:
            c.skip(f"{N_SOCKETS} descriptors are more than RLIMIT_NOFILE allows")
            return
        settled(d)
        d.fresh_metrics()  # the sockets are counted: every refresh from now on is slow
        # A write that waits for the audit completes only after the refresh;
        # otherwise the refresh ends during one only by chance (it lasts
        # as long as the audit of the sockets, the write a query).
        within = sum(write_after_the_read(d, token, address, port, n) for n in range(TRIES))
        c.check(within > TRIES // 2, f"writes and leases complete while a refresh runs its "
                f"audit ({within} of {TRIES})")
        _, _, body = d.fresh_metrics()
        findings = re.search(rb"^rsapd_audit_findings (\d+)$", body, re.M)
        out, _ = rsap_json(d.db_dir, "audit")
        audit = json.loads(out)
        c.check(findings is not None and int(findings.group(1)) == len(audit["findings"]),
                f"rsapd_audit_findings is `rsap audit --json`'s count "
                f"({findings and findings.group(1)} vs {len(audit['findings'])})")
        c.check(audit["listeners"] >= N_SOCKETS, "the audit saw the sockets")
        c.equal(d.stop(), 0, "rsapd stops at SIGTERM, with or without a refresh under way")
        for s in sockets:
            s.close()


def first_refresh_at_start():
    """The first refresh runs at start-up, not an interval later, and a
    refresh thread asleep for an hour stops at once with rsapd."""
    with Rsapd("--metrics-interval", "3600") as d:
        first = figures(d)
        if refreshes(first) == 0:
            c.check(first["rsapd_metrics_age_seconds"] == -1 and "rsapd_leases" not in first and
                    first["rsapd_metrics_refreshed_timestamp_seconds"] == 0,
                    "before the first refresh, /metrics says it has no figures yet")
        done = poll("the first refresh ends", lambda: (lambda f: f if refreshes(f) >= 1
                                                          else None)(figures(d)))
        c.check(done["rsapd_leases"] == 0 and done["rsapd_audit_findings"] >= 0 and
                done["rsapd_metrics_age_seconds"] >= 0 and
                done["rsapd_metrics_refresh_failed"] == 0,
                "after it, the figures and their age")
        c.equal(d.stop(), 0, "SIGTERM stops rsapd while its refresh thread waits")


def main():
    own_network_namespace()
    first_refresh_at_start()
    with tempfile.TemporaryDirectory(prefix="rsapd-metrics-") as tmp:
        scrape_never_waits_on_store_lock(tmp)
    if os.environ.get(NETNS_FLAG):
        with tempfile.TemporaryDirectory(prefix="rsapd-metrics-") as tmp:
            writes_during_a_slow_refresh(tmp)
    else:
        c.skip("no network namespace of our own: not binding thousands of sockets on the host")
    c.finish()


if __name__ == "__main__":
    main()
