#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's port server with Debian's python3-portpicker, unchanged: 20
clients at once get 20 different ports, a port held by a socket is never
handed out, an exhausted pool answers 0, and a killed client's port comes
back.  Both a filesystem socket and the abstract namespace."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from rsapd_harness import (Checks, Rsapd, own_network_namespace, rsap_json, unassigned_ports,
                           write_token)

c = Checks("portserver")
N_CLIENTS = 20

CLIENT = r"""
import portpicker, sys
port = portpicker.pick_unused_port()
print(port, flush=True)
sys.stdin.read()   # hold the port until the test closes our stdin
"""


def portpicker_available():
    return subprocess.run(["/usr/bin/python3", "-c", "import portpicker"],
                          capture_output=True).returncode == 0


def start_clients(address, n):
    env = dict(os.environ, PORTSERVER_ADDRESS=address)
    procs = [subprocess.Popen(["/usr/bin/python3", "-c", CLIENT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(n)]
    ports = []
    for p in procs:
        line = p.stdout.readline().decode().strip()
        ports.append(int(line) if line.isdigit() else None)
    return procs, ports


def ask(address, pid):
    """One request by hand: what the server answers for pid, as text."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect("\0" + address[1:] if address.startswith("@") else address)
    s.sendall(pid if isinstance(pid, bytes) else b"%d\n" % pid)
    answer = s.recv(1024)
    s.close()
    return answer


def leases(d):
    """The live leases as a refresh that began after this call found them."""
    _, _, body = d.fresh_metrics()
    m = re.search(rb"^rsapd_leases (\d+)$", body, re.M)
    return int(m.group(1))


def wait_for_leases(d, want, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if leases(d) == want:
            return True
        time.sleep(0.05)
    return False


def wait_for_log(d, text, timeout=10):
    """The log line comes after the lease ends: under ASan, some ms later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in d.log_text():
            return True
        time.sleep(0.05)
    return False


def reaps(d):
    _, _, body = d.get("/metrics")
    return int(re.search(rb"^rsapd_lease_reaps_total (\d+)$", body, re.M).group(1))


def reaped_in_background():
    """Hundreds of leases held: the port server's for a live client, and the
    API's for a process that then dies, which no pidfd watches.  Nobody asks
    for a port after, yet the dead holder's leases end, each with the
    reaper's "expire" event, and the live client's stay."""
    tmp = __import__("tempfile").mkdtemp(prefix="rsapd-reap-")
    path, token = write_token(tmp)
    name = f"@rsapd-reap-{os.getpid()}"
    with Rsapd("--portserver", name, "--token-file", path) as d:
        live = subprocess.Popen(["sleep", "600"])
        doomed = subprocess.Popen(["sleep", "600"])
        served = [ask(name, live.pid) for _ in range(300)]
        c.check(all(a != b"0\n" for a in served), "the port server holds 300 leases for one client")
        doomed_ports = []
        for _ in range(200):
            status, _, body = d.request("POST", "/v1/leases",
                                        {"pid": doomed.pid, "ttl": "1h", "name": "doomed"},
                                        headers={"Authorization": "Bearer " + token})
            if status == 201:
                doomed_ports.append(json.loads(body)["port"])
        c.equal(len(doomed_ports), 200, "and the API 200 more for another process")
        doomed.kill()
        doomed.wait()
        want = reaps(d) + 2  # a pass begun after the death has ended
        deadline = time.monotonic() + 60
        while reaps(d) < want and time.monotonic() < deadline:
            time.sleep(0.05)
        expired = 0
        for port in doomed_ports:
            _, events = d.get_json(f"/v1/history/{port}")
            expired += any(e["action"] == "expire" and e["actor"] == "rsapd"
                           for e in events["events"])
        c.equal(expired, 200, "every lease of the dead process was ended in the background")
        c.equal(leases(d), 300, "the live client's leases stay")
        live.kill()
        live.wait()
        c.check(wait_for_leases(d, 0), "and end with it")
    __import__("shutil").rmtree(tmp)


def main():
    own_network_namespace()  # the pools below, 15000-24999 too, are the namespace's
    if not portpicker_available():
        print("python3-portpicker is not installed: skipping")
        sys.exit(77)
    probe = Rsapd()
    run = unassigned_ports(probe.db_dir, N_CLIENTS + 1, contiguous=True)
    probe.tmp.cleanup()
    busy_port = run[7]
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", busy_port))
    busy.listen(1)

    sock_dir = __import__("tempfile").mkdtemp(prefix="rsapd-ps-")
    address = os.path.join(sock_dir, "portserver")
    with Rsapd("--portserver", address, "--portserver-range", f"{run[0]}-{run[-1]}") as d:
        c.check(os.path.exists(address) and (os.stat(address).st_mode & 0o777) == 0o666,
                "the socket is there, for any local user")
        procs, ports = start_clients(address, N_CLIENTS)
        c.check(None not in ports, f"every client got a port: {ports}")
        c.equal(len(set(ports)), N_CLIENTS, "20 clients at once got 20 different ports")
        c.check(all(p in run for p in ports), "every port comes from the pool")
        c.check(busy_port not in ports, "a port a socket holds is never handed out")
        c.equal(leases(d), N_CLIENTS, "the leases show in /metrics")
        for proc, port in zip(procs[:3], ports[:3]):
            c.check(wait_for_log(d, f"port {port} leased to process {proc.pid}"),
                    "the log names each lease")
        status, _, page = d.get(f"/port/{ports[0]}")
        c.check(f"held by</dt><dd>process {procs[0].pid}".encode() in page,
                "the port's page says who holds it")
        out, _ = rsap_json(d.db_dir, str(ports[0]))
        c.check(any(e["kind"] == "lease" and e["pid"] == procs[0].pid and e["service"] == "portserver"
                    for e in json.loads(out)["local"]),
                "rsap PORT shows the port server's lease with the client's pid")
        _, _, svg = d.get("/map.svg")
        leased = [range(int(low), int(high or low) + 1) for low, high in
                  re.findall(rb'class="p"><title>(\d+)(?:-(\d+))?: [^<]*leased', svg)]
        c.check(any(ports[0] in run for run in leased), "the map marks the lease")

        c.equal(ask(address, os.getpid()), b"0\n", "an exhausted pool answers 0")
        c.check(wait_for_log(d, "the pool is exhausted"), "and says so in the log")

        victim = 5
        procs[victim].kill()
        procs[victim].wait()
        c.check(wait_for_leases(d, N_CLIENTS - 1), "a killed client's lease ends")
        c.check(wait_for_log(d, f"process {procs[victim].pid} exited: port {ports[victim]} returns"),
                "the log says the port returned")
        helper = subprocess.Popen(["sleep", "30"])
        answer = ask(address, helper.pid)
        c.equal(answer, b"%d\n" % ports[victim], "the killed client's port comes back")
        helper.kill()
        helper.wait()

        for p in procs:
            if p.poll() is None:
                p.stdin.close()
                p.wait(10)
        c.check(wait_for_leases(d, 0), "every port returns when the clients exit")

        c.equal(ask(address, b"not a pid\n"), b"0\n", "a request that is not a pid")
        c.equal(ask(address, 1), b"0\n", "pid 1 gets nothing")
        c.equal(ask(address, 4194303), b"0\n", "a pid with no process gets nothing")
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(address)
        silent.settimeout(5)
        started = time.monotonic()
        c.check(silent.recv(16) == b"" and time.monotonic() - started < 4,
                "a client that says nothing is dropped")
        silent.close()
        c.check(d.alive(), "rsapd is up")
        c.equal(d.stop(), 0, "rsapd stops cleanly")
    c.check(not os.path.exists(address), "the socket is removed at exit")
    os.rmdir(sock_dir)
    busy.close()

    # A restart in between: rsapd watches the clients of its earlier run again.
    name = f"@rsapd-restart-{os.getpid()}"
    db = __import__("tempfile").mkdtemp(prefix="rsapd-ps-db-")
    with Rsapd("--portserver", name, db_dir=db) as d:
        procs, ports = start_clients(name, 2)
        c.check(None not in ports, f"two clients before the restart: {ports}")
    with Rsapd("--portserver", name, db_dir=db) as d:
        c.check(wait_for_log(d, f"port {ports[0]} is still process {procs[0].pid}'s"),
                "after a restart, the earlier clients' leases are watched again")
        c.equal(leases(d), 2, "and still held")
        procs[0].kill()
        procs[0].wait()
        c.check(wait_for_leases(d, 1), "a client killed after the restart gives its port back")
        procs[1].stdin.close()
        procs[1].wait(10)
        c.check(wait_for_leases(d, 0), "and so does one that exits")
    __import__("shutil").rmtree(db)

    name = f"@rsapd-test-{os.getpid()}"
    with Rsapd("--portserver", name) as d:
        procs, ports = start_clients(name, 2)
        c.check(None not in ports and ports[0] != ports[1] and all(15000 <= p <= 24999 for p in ports),
                f"the abstract namespace ({name}) and the default pool: {ports}")
        for p in procs:
            p.stdin.close()
            p.wait(10)
        c.check(wait_for_leases(d, 0), "their ports return")
    reaped_in_background()
    c.finish()


if __name__ == "__main__":
    main()
