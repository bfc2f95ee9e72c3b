#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""rsapd's HTTP API and pages: every route, its statuses and errors, the
JSON byte for byte against `rsap ... --json`, tokens, limits, reload, and
an orderly stop that finishes a request under way."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

from rsapd_harness import Checks, Rsapd, rsap_json, status_of, write_token

c = Checks("api")
TOKEN_HEADER = "Authorization"


def same_as_cli(d, path, cli_args, want_status=200):
    status, headers, body = d.get(path)
    c.equal(status, want_status, f"GET {path} status")
    c.equal(headers.get("content-type"), "application/json", f"GET {path} content type")
    cli, _ = rsap_json(d.db_dir, *cli_args)
    c.check(body == cli, f"GET {path} is byte for byte `rsap {' '.join(cli_args)} --json`")
    return body


def error_body(d, method, path, want_status, **kw):
    status, headers, body = d.request(method, path, **kw)
    c.equal(status, want_status, f"{method} {path} status")
    try:
        j = json.loads(body)
        c.check(j.get("error", {}).get("status") == want_status and
                isinstance(j["error"].get("message"), str) and j["error"]["message"],
                f"{method} {path}: JSON error body with status and message: {body[:200]!r}")
    except ValueError:
        c.check(False, f"{method} {path}: body is not JSON: {body[:200]!r}")
    return headers, body


def registry_routes(d):
    same_as_cli(d, "/v1/ports/1647", ["1647"])
    same_as_cli(d, "/v1/ports/1647/tcp", ["1647/tcp"])
    same_as_cli(d, "/v1/ports/1647/UDP", ["1647/udp"])
    same_as_cli(d, "/v1/ports/0", ["0"])
    same_as_cli(d, "/v1/ports/65535", ["65535"])
    same_as_cli(d, "/v1/services/rsap", ["rsap"])
    same_as_cli(d, "/v1/services/HTTP", ["HTTP"])
    same_as_cli(d, "/v1/services/no-such-service", ["no-such-service"], want_status=404)
    same_as_cli(d, "/v1/search?q=kerberos", ["search", "kerberos"])
    same_as_cli(d, "/v1/search?q=network%20file&limit=3", ["search", "--limit", "3", "network file"])
    same_as_cli(d, "/v1/search?q=zzzqqqxxx", ["search", "zzzqqqxxx"])
    same_as_cli(d, "/v1/list?range=1640-1650", ["list", "1640-1650"])
    same_as_cli(d, "/v1/list?range=0-1023&status=assigned&proto=udp",
                ["list", "--assigned", "--proto", "udp", "0-1023"])
    same_as_cli(d, "/v1/list?range=1-100&status=reserved,unassigned",
                ["list", "--reserved", "--unassigned", "1-100"])
    same_as_cli(d, "/v1/list?range=1647/tcp", ["list", "1647/tcp"])
    same_as_cli(d, "/v1/ranges", ["ranges"])
    same_as_cli(d, "/v1/status", ["status"])


def registry_errors(d):
    error_body(d, "GET", "/v1/ports/65536", 400)
    error_body(d, "GET", "/v1/ports/-1", 400)
    error_body(d, "GET", "/v1/ports/http", 400)
    error_body(d, "GET", "/v1/ports/1647/quic", 400)
    error_body(d, "GET", "/v1/ports/1647/tcp/extra", 404)
    error_body(d, "GET", "/v1/services/" + "a" * 70, 400)
    error_body(d, "GET", "/v1/search", 400)
    error_body(d, "GET", "/v1/search?q=%20%20", 400)
    error_body(d, "GET", "/v1/search?q=x&limit=0", 400)
    error_body(d, "GET", "/v1/search?q=x&limit=abc", 400)
    error_body(d, "GET", "/v1/search?q=x&limit=100001", 400)
    error_body(d, "GET", "/v1/list", 400)
    error_body(d, "GET", "/v1/list?range=9-1", 400)
    error_body(d, "GET", "/v1/list?range=0-65535", 400)
    error_body(d, "GET", "/v1/list?range=1-2&proto=ipx", 400)
    error_body(d, "GET", "/v1/list?range=1-2&status=taken", 400)
    error_body(d, "GET", "/v1/listening?port=70000", 400)
    error_body(d, "GET", "/v1/listening?proto=ipx", 400)
    error_body(d, "GET", "/v1/nothing", 404)
    error_body(d, "GET", "/v1/", 404)
    headers, _ = error_body(d, "POST", "/v1/ports/1", 405)
    c.equal(headers.get("allow"), "GET, HEAD", "405 names the allowed methods")
    headers, _ = error_body(d, "DELETE", "/v1/ranges", 405)
    c.equal(headers.get("allow"), "GET, HEAD", "405 on DELETE")
    headers, _ = error_body(d, "GET", "/v1/reload", 405)
    c.equal(headers.get("allow"), "POST", "GET on a write route")
    error_body(d, "PATCH", "/v1/status", 405)


def listening(d):
    status, headers, body = d.get("/v1/listening")
    c.equal(status, 200, "/v1/listening")
    sockets = json.loads(body)
    c.check(isinstance(sockets, list), "/v1/listening is a list of sockets")
    mine = [s for s in sockets if s["port"] == d.port and s["protocol"] == "tcp"
            and s["address"] == "127.0.0.1"]
    c.check(len(mine) == 1,
            f"rsapd's own socket is listed: {mine}")
    status, narrowed = d.get_json(f"/v1/listening?port={d.port}&proto=tcp")
    c.check(status == 200 and all(s["port"] == d.port for s in narrowed) and len(narrowed) >= 1,
            "?port= and ?proto= narrow the list")
    status, bare = d.get_json(f"/v1/listening?port={d.port}&processes=false")
    c.check(status == 200 and bare and all(s["processes"] is None for s in bare),
            "?processes=false leaves the owners out")
    # rsapd's own socket is there to stay: the answer is `rsap listening`'s, byte for byte.
    status, _, body = d.get(f"/v1/listening?port={d.port}&proto=tcp")
    cli, _ = rsap_json(d.db_dir, "listening", "--port", str(d.port), "--tcp")
    c.check(status == 200 and body == cli,
            f"/v1/listening?port=P&proto=tcp is `rsap listening --port P --tcp --json`")
    status, unregistered = d.get_json("/v1/listening?unregistered=1")
    c.check(status == 200 and isinstance(unregistered, list), "?unregistered=1")


def head_and_headers(d):
    status, headers, body = d.request("HEAD", "/v1/ports/1647")
    cli, _ = rsap_json(d.db_dir, "1647")
    c.check(status == 200 and body == b"" and int(headers["content-length"]) == len(cli),
            "HEAD answers the GET's headers without a body")
    status, headers, body = d.get("/v1/ports/1647")
    c.equal(headers.get("x-content-type-options"), "nosniff", "nosniff on the API")
    c.equal(headers.get("cache-control"), "no-store", "no-store on the API")


def pages(d):
    status, headers, body = d.get("/")
    text = body.decode()
    c.check(status == 200 and headers["content-type"].startswith("text/html"), "/ is a page")
    c.check('<form class="search" action="/search"' in text and 'name="q"' in text,
            "/ has a search box")
    csp = headers.get("content-security-policy", "")
    c.check("default-src 'none'" in csp and "script-src 'self';" in csp,
            "pages allow rsapd's own scripts only: " + csp)
    c.check("<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""),
            "no script and no outside asset on /")
    c.check('name="viewport"' in text, "/ is made for phones too")

    status, headers, body = d.get("/port/1647")
    text = body.decode()
    c.equal(status, 200, "/port/1647")
    for want in ("Port 1647: rsap", "User Ports", "IANA's records", "On this host now",
                 "Check by hand", "ss -tulpn", "lsof -nP -iTCP:1647", "Get-NetTCPConnection",
                 "netstat -ano", 'href="/v1/ports/1647"', 'href="/port/1646"',
                 "This organisation's registry"):
        c.check(want in text, f"/port/1647 shows {want!r}")
    status, _, body = d.get(f"/port/{d.port}")
    c.check(status == 200 and b"rsapd[" in body, "a port page names the listening process")
    status, _, body = d.get("/port/49999")
    c.check(status == 200 and b"Dynamic Ports" in body, "a dynamic port's page")
    status, _, body = d.get("/port/65536")
    c.check(status == 404 and b"<html" in body, "/port/65536 is a 404 page")
    status, _, _ = d.get("/port/abc")
    c.equal(status, 404, "/port/abc")
    status, _, body = d.get("/service/rsap")
    c.check(status == 200 and b"1647" in body, "/service/rsap")
    status, _, _ = d.get("/service/no-such-service")
    c.equal(status, 404, "/service/no-such-service")

    status, headers, body = d.get("/search?q=kerberos")
    c.check(status == 200 and b"kerberos" in body.lower() and b"/port/88" in body,
            "/search?q=kerberos lists port 88")
    status, headers, _ = d.get("/search?q=1647")
    c.check(status == 303 and headers.get("location") == "/port/1647", "a port search goes to its page")
    status, headers, _ = d.get("/search?q=")
    c.check(status == 303 and headers.get("location") == "/", "an empty search goes home")

    # /map and /map.svg: test_pages.py and test_browser.py


def escaping(d):
    nasty = "<script>alert('x')</script>&\""
    from urllib.parse import quote
    status, _, body = d.get("/search?q=" + quote(nasty))
    text = body.decode()
    c.check(status == 200 and "<script>" not in text and
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;" in text,
            "the search text is escaped in the page")
    status, _, body = d.get("/service/" + quote("<b>x", safe=""))
    c.check(b"<b>x" not in body and b"&lt;b&gt;x" in body, "a service name in a page is escaped")
    status, _, body = d.get("/v1/services/" + quote("<b>", safe=""))
    c.check(json.loads(body)["service"] == "<b>", "JSON carries the name as asked")


def metrics(d):
    d.get("/v1/ports/1647")
    d.get("/v1/ports/99999")
    status, headers, body = d.get("/metrics")
    text = body.decode()
    c.check(status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"),
            "/metrics is Prometheus text")
    c.check(re.search(r'^rsapd_http_requests_total\{route="/v1/ports/\{port\}",status="200"\} \d+$',
                      text, re.M) is not None, "requests by route and status")
    c.check(re.search(r'^rsapd_http_requests_total\{route="/v1/ports/\{port\}",status="400"\} \d+$',
                      text, re.M) is not None, "errors counted by status")
    c.check('rsapd_http_request_duration_seconds_bucket{route="/v1/ports/{port}",le="+Inf"}' in text,
            "latency histogram")
    c.check("rsapd_leases 0" in text, "live leases")
    c.check(re.search(r"^rsapd_http_connections \d+$", text, re.M) is not None, "open connections")
    c.check(re.search(r"^rsapd_audit_findings \d+$", text, re.M) is not None, "audit findings")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            c.check(re.match(r'^[a-z_]+(\{.*\})? [0-9.e+-]+$', line) is not None,
                    f"a well-formed sample line: {line!r}")


def writes_without_token_file(d):
    error_body(d, "POST", "/v1/reload", 403)
    error_body(d, "POST", "/v1/reload", 403, headers={TOKEN_HEADER: "Bearer whatever-it-is-xx"})


def writes_with_token(d, token):
    good = {TOKEN_HEADER: "Bearer " + token}
    headers, _ = error_body(d, "POST", "/v1/reload", 401)
    c.check(headers.get("www-authenticate", "").startswith("Bearer"), "401 says Bearer")
    headers, _ = error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Bearer wrong-token-0123456789"})
    c.check('error="invalid_token"' in headers.get("www-authenticate", ""), "401 says invalid_token")
    error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Bearer " + token + "x"})
    error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Bearer " + token[:-1]})
    error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Basic dXNlcjpwYXNz"})
    error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Bearer"})
    # A wrong token is refused even on a read that needs none.
    error_body(d, "GET", "/v1/ranges", 401, headers={TOKEN_HEADER: "Bearer wrong-token-0123456789"})
    status, headers, body = d.request("POST", "/v1/reload", headers=good)
    cli, _ = rsap_json(d.db_dir, "status")
    c.check(status == 200 and body == cli, f"POST /v1/reload with the token: {status} {body[:100]!r}")
    status, _, _ = d.get("/v1/ranges", headers=good)
    c.equal(status, 200, "a read with the right token")
    status, _, _ = d.request("POST", "/v1/reload", body={"why": "test"}, headers=good)
    c.equal(status, 200, "a JSON object body")
    error_body(d, "POST", "/v1/reload", 400, body=b"{not json", headers=dict(good, **{"Content-Type": "application/json"}))
    error_body(d, "POST", "/v1/reload", 400, body=b'{"a": 1} trailing', headers=dict(good, **{"Content-Type": "application/json"}))
    error_body(d, "POST", "/v1/reload", 400, body=b'{"a": 1, "a": 2}', headers=dict(good, **{"Content-Type": "application/json"}))
    error_body(d, "POST", "/v1/reload", 400, body=b"[1, 2]", headers=dict(good, **{"Content-Type": "application/json"}))
    error_body(d, "POST", "/v1/reload", 400, body=b'"\xff\xfe"', headers=dict(good, **{"Content-Type": "application/json"}))
    error_body(d, "POST", "/v1/reload", 415, body=b"{}", headers=dict(good, **{"Content-Type": "text/plain"}))
    error_body(d, "POST", "/v1/reload", 413, body=b"{" + b" " * (64 * 1024) + b"}",
               headers=dict(good, **{"Content-Type": "application/json"}))
    # A chunked body has no length to refuse early: it is counted as it comes.
    chunk = b" " * 8192
    raw = (b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
           b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n")
    c.equal(status_of(d.raw(raw)), 413, "a chunked body over the limit")
    c.check(token not in d.log_text(), "the token never appears in the log")


def token_file_refusals():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        path, _ = write_token(tmp, mode=0o644)
        cases.append(("mode 0644", path, "mode"))
        short_dir = os.path.join(tmp, "short")
        os.mkdir(short_dir)
        path, _ = write_token(short_dir, token="short")
        cases.append(("a short token", path, "at least"))
        cases.append(("a directory", tmp, "regular file"))
        link = os.path.join(tmp, "link")
        os.symlink(os.path.join(short_dir, "token"), link)
        cases.append(("a symbolic link", link, "token file"))
        cases.append(("a missing file", os.path.join(tmp, "none"), "No such file"))
        if os.geteuid() == 0:
            other_dir = os.path.join(tmp, "other")
            os.mkdir(other_dir)
            path, _ = write_token(other_dir)
            os.chown(path, 65534, 65534)
            cases.append(("another user's file", path, "belongs to uid 65534"))
        for what, path, reason in cases:
            d = Rsapd("--token-file", path)
            try:
                d.start()
                c.check(False, f"rsapd started with {what} as its token file")
            except RuntimeError as e:
                c.check(reason in str(e) and "exited 1" in str(e),
                        f"rsapd refuses {what} as its token file, saying why: {str(e)[-200:]}")
            finally:
                d.close()


def stops_in_order(d, token):
    """SIGTERM while a request is under way: it finishes, then rsapd exits 0."""
    s = socket.create_connection((d.host, d.port), timeout=10)
    s.sendall(b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{")
    time.sleep(0.3)
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    c.check(d.alive(), "rsapd waits for the request under way")
    refused = False
    try:
        socket.create_connection((d.host, d.port), timeout=2).close()
    except OSError:
        refused = True
    c.check(refused, "no new connection is accepted once stopping")
    s.sendall(b"}")
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    c.equal(status_of(answer), 200, "the request under way was answered")
    c.check(b"Connection: close" in answer, "and told the connection closes")
    c.equal(d.proc.wait(20), 0, "rsapd exits 0 after SIGTERM")
    d._read_notifications()
    c.check(any("STOPPING=1" in n for n in d.notifications), "STOPPING=1 went to systemd")
    c.check("stopped" in d.log_text(), "the log says it stopped")


def reload_after_update(d):
    shared = os.environ.get("RSAP_SHARED_DATA", "")
    csv = os.path.join(shared, "service-names-port-numbers.csv")
    if not os.path.exists(csv):
        print("skipping the reload-after-update check: no IANA CSV in RSAP_SHARED_DATA")
        return
    env = dict(os.environ, RSAP_DB_DIR=d.db_dir)
    p = subprocess.run([os.environ["RSAP"], "--db-dir", d.db_dir, "update", "--from", csv],
                       capture_output=True, env=env)
    if not c.check(p.returncode == 0, f"rsap update --from CSV: {p.stderr!r}"):
        return
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "registry opened again" not in d.log_text() and time.time() < deadline:
        time.sleep(0.05)
    c.check("registry opened again" in d.log_text(), "SIGHUP opens the registry again")
    body = same_as_cli(d, "/v1/ports/1647", ["1647"])
    c.check(json.loads(body)["data"]["source"] == "iana-csv", "the updated registry answers")
    status, _, page = d.get("/port/443")
    c.check(status == 200 and b"RFC" in page, "a page shows references from IANA's data")


def main():
    with Rsapd() as d:
        c.check(any("READY=1" in n for n in d.notifications), "READY=1 went to systemd")
        c.check(len(d.addresses) == 1 and d.addresses[0].startswith("127.0.0.1:"),
                "listens where told, and says where")
        registry_routes(d)
        registry_errors(d)
        listening(d)
        head_and_headers(d)
        pages(d)
        escaping(d)
        metrics(d)
        writes_without_token_file(d)
        reload_after_update(d)
        c.check(d.alive(), "rsapd is still up")
        c.equal(d.stop(), 0, "SIGTERM: exit status 0")
    with Rsapd(listen=("[::1]:0",)) as d:
        status, _, _ = d.get("/v1/ports/1647")
        c.equal(status, 200, "rsapd on [::1]")
    tmp_token_dir = __import__("tempfile").mkdtemp()
    path, token = write_token(tmp_token_dir)
    with Rsapd("--token-file", path) as d:
        writes_with_token(d, token)
        stops_in_order(d, token)
    os.unlink(path)
    os.rmdir(tmp_token_dir)
    token_file_refusals()
    c.finish()


if __name__ == "__main__":
    main()
