#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kill -9 during a stream of writes, then a restart: every write rsapd
acknowledged (201) is in the registry, and the database is consistent.
Writes are SQLite transactions committed before the answer is sent, so an
answer is a promise the database keeps."""
import json
import os
import signal
import tempfile
import threading
import time

from rsapd_harness import (Checks, Rsapd, own_network_namespace, rsap_json,
                           unassigned_ports, write_token)

c = Checks("crash")
WRITERS = 6
ROUNDS = 3


def stream_of_writes(d, token, ports, acknowledged, stop):
    def writer(i):
        n = 0
        while not stop.is_set():
            service = f"crash{i}-{n}"
            body = {"service": service, "port": ports[(i * 1000 + n) % len(ports)],
                    "protocols": "tcp", "description": "written while rsapd is killed",
                    "assignee": "Crash Test", "contact": "crash@example.org"}
            n += 1
            try:
                status, _, raw = d.request("POST", "/v1/registry/requests", body=body,
                                           headers={"Authorization": "Bearer " + token}, timeout=5)
            except OSError:
                return  # the server is gone: this write was never acknowledged
            if status == 201:
                acknowledged.append((json.loads(raw)["id"], service))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    return threads


def main():
    own_network_namespace()  # its ports are free in there, whatever the host runs
    with tempfile.TemporaryDirectory() as tmp:
        path, token = write_token(tmp)
        db_dir = os.path.join(tmp, "db")
        os.makedirs(db_dir)
        ports = unassigned_ports(db_dir, 50)
        acknowledged = []
        for round_ in range(ROUNDS):
            d = Rsapd("--token-file", path, "--no-access-log", db_dir=db_dir).start()
            stop = threading.Event()
            threads = stream_of_writes(d, token, ports, acknowledged, stop)
            time.sleep(1.0 + 0.3 * round_)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            stop.set()
            for t in threads:
                t.join(10)
            d.close()
        c.check(len(acknowledged) > 50, f"a stream of writes was acknowledged ({len(acknowledged)})")

        with Rsapd("--token-file", path, db_dir=db_dir) as d:
            status, body = d.get_json("/v1/registry/requests?all=1")
            c.equal(status, 200, "the registry answers after the kills")
            stored = {r["id"]: r["service"] for r in body["requests"]}
            missing = [(i, s) for i, s in acknowledged if stored.get(i) != s]
            c.equal(missing, [], f"every one of {len(acknowledged)} acknowledged writes is there")
        out, status = rsap_json(db_dir, "audit", "--consistency")
        report = json.loads(out)
        c.check(report.get("consistent") is True, f"rsap audit --consistency: {report}")
    c.finish()


if __name__ == "__main__":
    main()
