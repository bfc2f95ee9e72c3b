#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's HTTP edge under attack, each attack reproduced first:

- DNS rebinding: a page of evil.example whose name now points at 127.0.0.1
  reads the API; reproducer
      curl -H 'Host: evil.example' 127.0.0.1:1647/v1/listening
  answered 200.  Now 421, and loopback names, the --listen addresses and
  --host names are answered, with or without rsapd's port.
- Process owners: a root rsapd told any local user whose processes listen
  (what `rsap listening` run by that user hides); reproducer
      curl 127.0.0.1:1647/v1/listening   (rsapd as root, curl as anyone)
  Now hidden unless the token comes with the request (--owners).
- Invalid UTF-8: curl '127.0.0.1:1647/v1/services/%ff' answered 500 "out
  of memory" (jansson refuses the string).  Now 400, on every route.
- Duplicate Content-Length: two of them were accepted, the first winning
  (request smuggling behind a proxy that takes the last).  Now 400, as is
  Content-Length with Transfer-Encoding.
- A raw NUL in the path: printf 'GET /v1/ports/16\\x0047 HTTP/1.1...'
  answered port 16.  Now 400, as is any control byte in the target.
- No per-address limit: 1,100 idle connections from one address filled
  --max-connections 1000 for everyone.  Now --max-connections-per-ip; the
  test runs in a network namespace of its own with three addresses on lo
  (TEST-NET-1), so nothing outside this machine is reached.

Outside a namespace (no unshare allowed) the per-address part is skipped
and the rest runs on 127.0.0.1 with kernel-chosen ports."""
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from rsapd_harness import Checks, Rsapd, status_of, write_token

c = Checks("hardening")
FLAG = "RSAPD_TEST_IN_NETNS"
SERVER, CROWD, OTHER = "192.0.2.1", "192.0.2.2", "192.0.2.3"


def enter_namespace():
    """Re-runs this script in a network namespace of its own, when one can be had."""
    if os.environ.get(FLAG) or not shutil.which("ip"):
        return
    for unshare in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            sys.exit(subprocess.run([*unshare, sys.executable, *sys.argv],
                                    env=dict(os.environ, **{FLAG: "1"})).returncode)


def namespace_addresses():
    """lo up with the three test addresses: True when all is in place."""
    if not os.environ.get(FLAG):
        return False
    subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True)
    for address in (SERVER, CROWD, OTHER):
        if subprocess.run(["ip", "addr", "add", address + "/32", "dev", "lo"],
                          capture_output=True).returncode != 0:
            return False
    return True


def get(d, path, headers=None, host=None):
    """(status, body) of a GET with the Host header given (http.client's own otherwise)."""
    conn = http.client.HTTPConnection(d.host, d.port, timeout=10)
    try:
        if host is None:
            conn.request("GET", path, headers=headers or {})
        else:
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", host)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def host_header():
    with Rsapd("--host", "Ports.Example.ORG") as d:
        p = d.port
        for host in ("evil.example", f"evil.example:{p}", "127.0.0.1.evil.example",
                     f"localhost:{p + 1 if p < 65535 else p - 1}", "localhost:", "[::1]x",
                     "ports.example.org.evil", "", f"[::1]:{p}x"):
            status, body = get(d, "/v1/listening", host=host)
            c.check(status == 421 and b"Host" in body and b'"processes"' not in body,
                    f"Host: {host!r} is refused with 421 and no listeners ({status})")
        status, body = get(d, "/", host="evil.example")
        c.check(status == 421 and b"<html" in body, f"a page is refused too, as a page ({status})")
        status, _ = get(d, "/v1/status", host="evil.example")
        c.equal(status, 421, "and the registry's status")
        for host in ("localhost", f"localhost:{p}", "LOCALHOST", f"127.0.0.1:{p}", "127.0.0.1",
                     "127.1.2.3", "[::1]", f"[::1]:{p}", "ports.example.org",
                     f"Ports.Example.Org:{p}"):
            status, _ = get(d, "/v1/ports/1647", host=host)
            c.equal(status, 200, f"Host: {host!r} is served")
        answer = d.raw(b"GET /v1/ports/1647 HTTP/1.0\r\n\r\n")
        c.equal(status_of(answer), 200, "HTTP/1.0 without Host is served (documented)")
        answer = d.raw(b"GET /v1/ports/1647 HTTP/1.1\r\nConnection: close\r\n\r\n")
        c.equal(status_of(answer), 400, "HTTP/1.1 without Host is not")
        c.check("421" in d.log_text(), "the access log shows the 421s")
    with Rsapd(listen=("127.0.0.2:0",)) as d:
        status, _ = get(d, "/v1/ports/1647", host=f"127.0.0.2:{d.port}")
        c.equal(status, 200, "the --listen address is served")


def own_socket(d, headers=None):
    """The processes /v1/listening names for rsapd's own socket."""
    import json
    status, body = get(d, f"/v1/listening?port={d.port}&proto=tcp", headers=headers)
    rows = [r for r in json.loads(body) if r["port"] == d.port] if status == 200 else []
    return status, (rows[0]["processes"] if rows else "missing")


def has_pid(processes, pid):
    return isinstance(processes, list) and any(p.get("pid") == pid for p in processes)


def owners(tmp):
    path, token = write_token(tmp)
    good = {"Authorization": "Bearer " + token}
    with Rsapd("--token-file", path) as d:
        status, procs = own_socket(d)
        if os.geteuid() == 0:
            c.check(status == 200 and not procs,
                    f"a root rsapd names no processes to a client without the token: {procs!r}")
        else:
            c.check(has_pid(procs, d.proc.pid),
                    f"rsapd not run as root names them (it sees its own only): {procs!r}")
        status, procs = own_socket(d, good)
        c.check(has_pid(procs, d.proc.pid), f"with the token they are named: {procs!r}")
        status, procs = own_socket(d, {"Authorization": "Bearer wrong-wrong-wrong-wrong"})
        c.equal(status, 401, "a wrong token is refused, not served without owners")
        # The same rule where else a socket's processes are shown; the
        # token's answer must not reach others through the answer cache.
        pid = d.proc.pid
        for _ in range(2):
            _, with_token = get(d, f"/v1/ports/{d.port}", headers=good)
            _, without = get(d, f"/v1/ports/{d.port}")
            _, page_with = get(d, f"/port/{d.port}", headers=good)
            _, page_without = get(d, f"/port/{d.port}")
            c.check(b'"pid": %d' % pid in with_token, "/v1/ports/N names them with the token")
            c.check(b"[%d]" % pid in page_with, "/port/N names them with the token")
            if os.geteuid() == 0:
                c.check(b'"pid": %d' % pid not in without, "/v1/ports/N not without (root)")
                c.check(b"[%d]" % pid not in page_without, "/port/N not without (root)")
        # The audit's findings name the processes on a port ("rsapd (pid N)"):
        # the same rule holds for them.
        _, audit_with = get(d, "/v1/audit", headers=good)
        _, audit_without = get(d, "/v1/audit")
        c.check(b"(pid %d)" % pid in audit_with, "/v1/audit names rsapd with the token")
        if os.geteuid() == 0:
            c.check(b"(pid %d)" % pid not in audit_without, "/v1/audit not without (root)")
    with Rsapd("--token-file", path, "--owners", "none") as d:
        _, procs = own_socket(d, good)
        c.check(not procs, f"--owners none: not even with the token: {procs!r}")
    with Rsapd("--owners", "all") as d:
        _, procs = own_socket(d)
        c.check(has_pid(procs, d.proc.pid), f"--owners all: without a token: {procs!r}")
    with Rsapd("--owners", "token") as d:
        _, procs = own_socket(d)
        c.check(not procs, f"--owners token without a token file: nobody: {procs!r}")


# Every route that takes a path segment or a query parameter, with one byte
# that is not UTF-8 once decoded.
NOT_UTF8 = ["/v1/services/%ff", "/v1/services/%ff/tcp", "/v1/search?q=%ff", "/v1/ports/%ff",
            "/v1/ports/1647/%ff", "/v1/list?range=%ff", "/v1/listening?port=%ff",
            "/v1/listening?proto=%c3", "/v1/history/%ff", "/v1/requests/%ff", "/v1/leases?x=%ff",
            "/v1/%ff", "/port/%ff", "/service/%ff", "/search?q=%ff", "/search?q=%ed%a0%80",
            "/search?q=%c0%af", "/%ff", "/map?%ff=1"]


def bad_bytes(tmp):
    path, token = write_token(tmp)
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
    with Rsapd("--token-file", path) as d:
        for target in NOT_UTF8:
            status, body = get(d, target)
            c.check(status == 400 and b"UTF-8" in body, f"{target} is 400 naming UTF-8 ({status})")
        status, body = get(d, "/v1/search?q=%c3%a9")
        c.equal(status, 200, "valid UTF-8 (é) is still served")

        host = b"Host: localhost\r\nConnection: close\r\n"
        for target in (b"/v1/ports/16\x0047", b"/v1/ports/1647\x00", b"/v1/ports/16\x0147",
                       b"/v1/ports/16%0a47", b"/port/16%0147?x", b"/v1/search?q=a\x00b",
                       b"/v1/ports/16\x7f"):
            answer = d.raw(b"GET " + target + b" HTTP/1.1\r\n" + host + b"\r\n")
            c.check(status_of(answer) == 400 and b'"port": 16' not in answer,
                    f"{target!r} is 400, not port 16: {answer[:40]!r}")
        answer = d.raw(b"GET /v1/search?q=rsap HTTP/1.1\r\n" + host + b"\r\n")
        c.equal(status_of(answer), 200, "a clean target with a query is served")

        post = b"POST /v1/reload HTTP/1.1\r\n" + host + auth + b"Content-Type: application/json\r\n"
        answer = d.raw(post + b"Content-Length: 2\r\n\r\n{}")
        c.equal(status_of(answer), 200, "one Content-Length is fine")
        for framing, what in ((b"Content-Length: 2\r\nContent-Length: 40\r\n", "conflicting"),
                              (b"Content-Length: 2\r\nContent-Length: 2\r\n", "repeated"),
                              (b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
                               "Content-Length and Transfer-Encoding")):
            answer = d.raw(post + framing + b"\r\n{}GET /v1/ports/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            c.check(status_of(answer) == 400 and answer.count(b"HTTP/1.1 ") == 1,
                    f"{what} Content-Length is 400 and the rest is not read as a request: "
                    f"{answer[:60]!r}")
        c.check(d.alive(), "rsapd is up")


def idle_connections(d, source, n):
    """n connections from source that say nothing."""
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.connect((d.host, d.port))
        conns.append(s)
    return conns


def served(d, source, token):
    """Whether a request from source gets an HTTP answer (any status)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((source, 0))
        s.settimeout(10)
        try:
            s.connect((d.host, d.port))
            s.sendall(b"GET /v1/ports/1647 HTTP/1.1\r\nHost: " + d.host.encode() +
                      b"\r\nAuthorization: Bearer " + token.encode() +
                      b"\r\nConnection: close\r\n\r\n")
            return status_of(s.recv(4096)) is not None
        except OSError:
            return False


def per_address(tmp):
    path, token = write_token(tmp)
    # The attack in small: more idle connections from one address than
    # --max-connections; with a per-address limit another address is served.
    with Rsapd("--token-file", path, "--max-connections", "12", "--max-connections-per-ip", "4",
               listen=(f"{SERVER}:0",)) as d:
        crowd = idle_connections(d, CROWD, 14)
        c.check(served(d, OTHER, token), "14 idle connections from one address leave another served")
        c.check(not served(d, CROWD, token), "the crowd's own address is at its limit")
        for s in crowd:
            s.close()
    with Rsapd("--token-file", path, "--max-connections", "12", "--max-connections-per-ip", "0",
               listen=(f"{SERVER}:0",)) as d:
        crowd = idle_connections(d, CROWD, 14)
        c.check(not served(d, OTHER, token),
                "without the limit the crowd locks others out (what the limit guards)")
        for s in crowd:
            s.close()
    with Rsapd("--token-file", path, "--max-connections", "300", listen=(f"{SERVER}:0",)) as d:
        crowd = idle_connections(d, CROWD, 280)
        c.check(not served(d, CROWD, token), "by default 256 per address elsewhere than loopback")
        c.check(served(d, OTHER, token), "and the others are served")
        for s in crowd:
            s.close()


def loopback_limit():
    with Rsapd("--max-connections-per-ip", "3") as d:
        crowd = idle_connections(d, "127.0.0.1", 3)
        c.check(not served(d, "127.0.0.1", "x" * 20), "given, the limit counts loopback peers too")
        for s in crowd:
            s.close()
    with Rsapd() as d:
        crowd = idle_connections(d, "127.0.0.1", 300)
        c.check(served(d, "127.0.0.1", "x" * 20), "by default loopback peers have no per-address limit")
        for s in crowd:
            s.close()


def main():
    enter_namespace()
    in_namespace = namespace_addresses()
    with tempfile.TemporaryDirectory() as tmp:
        host_header()
        owners(tmp)
        bad_bytes(tmp)
        loopback_limit()
        if in_namespace:
            per_address(tmp)
        else:
            c.skip("the per-address part: no network namespace")
    c.finish()


if __name__ == "__main__":
    main()
