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

Servers listen on loopback, on kernel-chosen ports."""
import http.client
import os
import tempfile

from rsapd_harness import Checks, Rsapd, status_of, write_token

c = Checks("hardening")


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
    with Rsapd("--token-file", path, "--owners", "none") as d:
        _, procs = own_socket(d, good)
        c.check(not procs, f"--owners none: not even with the token: {procs!r}")
    with Rsapd("--owners", "all") as d:
        _, procs = own_socket(d)
        c.check(has_pid(procs, d.proc.pid), f"--owners all: without a token: {procs!r}")
    with Rsapd("--owners", "token") as d:
        _, procs = own_socket(d)
        c.check(not procs, f"--owners token without a token file: nobody: {procs!r}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        host_header()
        owners(tmp)
    c.finish()


if __name__ == "__main__":
    main()
