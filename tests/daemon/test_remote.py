#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Peers that are not loopback, inside a network namespace of our own (so
nothing is reachable from outside): 192.0.2.1 (TEST-NET-1) is added to the
namespace's lo, rsapd listens there only because it is told to, and a client
connecting from that address needs the token even to read; without a token
file, such reads are 403.  rsapd's defaults listen on loopback only, on 1647.
Skipped (77) where no namespace or no ip(8) is at hand."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

from rsapd_harness import Checks, Rsapd, write_token

c = Checks("remote")
FLAG = "RSAPD_TEST_IN_NETNS"
ADDRESS = "192.0.2.1"


def enter_namespace():
    if os.environ.get(FLAG):
        return
    if not shutil.which("ip"):
        print("skipped: no ip(8)")
        sys.exit(77)
    for unshare in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            break
    else:
        print("skipped: no network namespace allowed here")
        sys.exit(77)
    sys.exit(subprocess.run([*unshare, sys.executable, *sys.argv],
                            env=dict(os.environ, **{FLAG: "1"})).returncode)


def set_up_addresses():
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", ADDRESS + "/32", "dev", "lo"]):
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode != 0:
            print(f"skipped: {' '.join(cmd)}: {p.stderr.decode().strip()}")
            sys.exit(77)


def connects(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def main():
    enter_namespace()
    set_up_addresses()
    with tempfile.TemporaryDirectory() as tmp:
        path, token = write_token(tmp)
        good = {"Authorization": "Bearer " + token}
        with Rsapd("--token-file", path, listen=(f"{ADDRESS}:0",)) as d:
            c.equal(d.host, ADDRESS, "rsapd listens on the address it was given")
            status, headers, _ = d.get("/v1/ranges")
            c.check(status == 401 and headers.get("www-authenticate", "").startswith("Bearer"),
                    f"a read from {ADDRESS} without a token is 401 ({status})")
            status, _, _ = d.get("/port/1647")
            c.equal(status, 401, "a page from another host needs the token too")
            status, _, _ = d.get("/v1/ranges", headers={"Authorization": "Bearer wrong-wrong-wrong-wrong"})
            c.equal(status, 401, "a wrong token")
            status, _, _ = d.get("/v1/ranges", headers=good)
            c.equal(status, 200, "a read with the token")
            status, _, _ = d.request("POST", "/v1/reload", headers=good)
            c.equal(status, 200, "a write with the token")
        with Rsapd(listen=(f"{ADDRESS}:0",)) as d:
            status, _, _ = d.get("/v1/ranges")
            c.equal(status, 403, "without a token file, reads from another host are 403")
        with Rsapd(listen=()) as d:
            c.equal(sorted(d.addresses), ["127.0.0.1:1647", "[::1]:1647"],
                    "by default rsapd listens on 127.0.0.1:1647 and [::1]:1647")
            c.check(not connects(ADDRESS, 1647), f"and not on {ADDRESS}")
            status, _, _ = d.get("/v1/ports/1647")
            c.equal(status, 200, "loopback reads need no token")
    c.finish()


if __name__ == "__main__":
    main()
