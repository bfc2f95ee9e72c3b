#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Garbage at rsapd: malformed HTTP, huge headers, bad bodies, wrong
methods, path traversal, bad tokens, slow and idle clients.  Each gets the
right status (or a closed connection where HTTP has no answer), and the
server answers a normal request right after every one."""
import os
import socket
import tempfile
import threading
import time

from rsapd_harness import Checks, Rsapd, status_of, write_token

c = Checks("garbage")
TIMEOUT = 2  # rsapd --timeout for this test: seconds to finish a request


def still_up(d, after):
    started = time.monotonic()
    status, _, _ = d.get("/v1/ports/1647", timeout=5)
    c.check(status == 200 and time.monotonic() - started < 2,
            f"rsapd answers at once after {after}")


def expect(d, raw, statuses, what):
    got = status_of(d.raw(raw))
    c.check(got in statuses, f"{what}: status {got}, wanted one of {statuses}")
    still_up(d, what)


def malformed(d):
    expect(d, b"GARBAGE\r\n\r\n", {400, None}, "a request line without a path")
    expect(d, b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n", {505}, "an unknown HTTP version")
    expect(d, b"GET / HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n", {400}, "a header line without a colon")
    expect(d, b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: nope\r\n\r\n", {400}, "a bad Content-Length")
    expect(d, b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n", {400}, "a negative Content-Length")
    expect(d, b"POST /v1/reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           {400, 401}, "both Content-Length and chunked")
    expect(d, b"GET / HTTP/1.1\r\n\r\n", {400}, "HTTP/1.1 without Host")
    expect(d, bytes(range(256)) * 8 + b"\r\n\r\n", {400, None}, "binary junk")
    expect(d, b"\r\n\r\n\r\n", {400, None}, "blank lines only")
    expect(d, b"GET /v1/ports/1647 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           {400, None}, "a malformed chunk size")


def huge(d):
    expect(d, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n", {431},
           "a 100 kB header")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
    expect(d, b"GET / HTTP/1.1\r\nHost: localhost\r\n" + many + b"\r\n", {431}, "5000 headers")
    expect(d, b"GET /" + b"a" * 60000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", {414, 431}, "a 60 kB path")
    # What a browser sends, with cookies other localhost servers set: 1.1 KB in 14 lines.
    browser = (b"GET /port/1647 HTTP/1.1\r\nHost: localhost\r\n"
               b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
               b"Chrome/120.0.0.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml,"
               b"application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
               b"sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"8\"\r\n"
               b"Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n"
               b"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
               b"Cookie: " + b"; ".join(b"app%d_session=%s" % (i, b"f" * 40) for i in range(12)) +
               b"\r\nConnection: close\r\n\r\n")
    c.check(len(browser) > 1100, f"the browser's request is {len(browser)} bytes")
    expect(d, browser, {200}, "a browser's request with a dozen localhost cookies")


def traversal(d):
    for path in (b"/port/../../etc/passwd", b"/../../../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd",
                 b"/port/%2e%2e/%2e%2e/etc/passwd", b"/v1/ports/..%2f..%2fetc%2fpasswd",
                 b"/port/..", b"/port/.", b"/.%2e/etc/passwd", b"//etc/passwd", b"/port//1647",
                 b"/port/1647%00.html", b"/static/../../etc/passwd", b"/map/../etc/passwd",
                 b"/etc/passwd", b"/v1/ports/1647/../../../etc/shadow"):
        answer = d.raw(b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        c.check(status_of(answer) in (400, 404) and b"root:" not in answer,
                f"{path!r} is 404 and shows no file: {answer[:60]!r}")
    still_up(d, "path traversal")


def methods(d):
    for method in (b"BREW", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"get"):
        answer = d.raw(method + b" /v1/ports/1647 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        c.check(status_of(answer) == 405 and b"Allow: GET, HEAD" in answer,
                f"{method!r} on a read route is 405 with Allow")
    answer = d.raw(b"BREW /coffee HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    c.equal(status_of(answer), 404, "an unknown method on an unknown path")
    still_up(d, "wrong methods")


def tokens(d, token):
    for header in (b"Bearer \x01\x02", b"Bearer " + b"x" * 1000, b"bearer", b"Bearer  ", b"Digest x",
                   b"Bearer " + token.encode() + b" extra", b"Bearer " + token.encode()[:-1] + b"\xff"):
        answer = d.raw(b"POST /v1/reload HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: " +
                       header + b"\r\nContent-Length: 0\r\n\r\n")
        c.check(status_of(answer) in (400, 401), f"Authorization {header[:30]!r}: {status_of(answer)}")
    still_up(d, "bad tokens")
    good = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    deep = b"[" * 30000 + b"]" * 30000
    status, _, _ = d.request("POST", "/v1/reload", body=deep, headers=good)
    c.equal(status, 400, "a 30000-deep JSON array")
    status, _, _ = d.request("POST", "/v1/reload", body=b'{"a": "\\u0000"}', headers=good)
    c.equal(status, 400, "a NUL inside a JSON string")
    still_up(d, "bad JSON")


def pipelined(d):
    answer = d.raw(b"GET /v1/ports/1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /v1/ports/2 HTTP/1.1\r\nHost: localhost\r\n"
                   b"Connection: close\r\n\r\n")
    c.equal(answer.count(b"HTTP/1.1 200"), 2, "two pipelined requests, two answers")


def slow_client(d):
    """A byte every 0.3 s keeps MHD's idle timer happy forever; the reaper
    must still close the connection once the request has taken --timeout."""
    s = socket.create_connection((d.host, d.port), timeout=10)
    started = time.monotonic()
    closed_after = None
    request = b"GET /v1/ports/1647 HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
    try:
        for byte in request:
            s.send(bytes([byte]))
            time.sleep(0.3)
            # The server answering normally meanwhile:
            if byte == request[20]:
                still_up(d, "a slow client started")
    except (BrokenPipeError, ConnectionResetError):
        closed_after = time.monotonic() - started
    if closed_after is None:
        try:
            s.settimeout(3)
            closed_after = time.monotonic() - started if s.recv(1) == b"" else None
        except (socket.timeout, ConnectionResetError):
            closed_after = time.monotonic() - started
    s.close()
    c.check(closed_after is not None and closed_after < TIMEOUT + 3,
            f"a slow client is cut off after --timeout {TIMEOUT}s (after {closed_after})")


def idle_clients(d):
    """Many connections that send half a request hold nothing: others get answers."""
    socks = []
    for _ in range(300):
        s = socket.create_connection((d.host, d.port), timeout=10)
        s.send(b"GET /v1/ports/1647 HTTP/1.1\r\nHo")
        socks.append(s)
    still_up(d, "300 half-sent requests")
    time.sleep(TIMEOUT + 1.5)
    closed = 0
    for s in socks:
        s.settimeout(2)
        try:
            if s.recv(1) == b"":
                closed += 1
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
    c.equal(closed, 300, "half-sent requests are closed after --timeout")
    status, _, body = d.get("/metrics")
    c.check(b"rsapd_http_connections_timed_out_total" in body, "timed-out connections are counted")


def concurrent_load(d):
    errors = []

    def worker():
        for _ in range(50):
            try:
                status, _, _ = d.get("/v1/ports/1647", timeout=10)
                if status != 200:
                    errors.append(status)
            except OSError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.equal(errors, [], "800 requests from 16 threads while garbage came")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path, token = write_token(tmp)
        with Rsapd("--token-file", path, "--timeout", str(TIMEOUT), "--no-access-log") as d:
            malformed(d)
            huge(d)
            traversal(d)
            methods(d)
            tokens(d, token)
            pipelined(d)
            slow_client(d)
            idle_clients(d)
            concurrent_load(d)
            c.check(d.alive(), "rsapd survived it all")
            c.equal(d.stop(), 0, "and stops cleanly")
    c.finish()


if __name__ == "__main__":
    main()
