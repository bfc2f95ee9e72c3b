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


def query_parameters(d):
    """A parameter a route does not read, or one given twice, is refused by name."""
    _, body = error_body(d, "GET", "/v1/search?q=x&limt=3", 400)
    c.check("unknown query parameter 'limt'" in json.loads(body)["error"]["message"],
            f"the misspelt parameter is named: {body!r}")
    _, body = error_body(d, "GET", "/v1/search?q=a&q=b", 400)
    c.check("'q' is given more than once" in json.loads(body)["error"]["message"],
            f"a repeated parameter is named: {body!r}")
    error_body(d, "GET", "/v1/search?q=x&limit=3&limit=3", 400)
    error_body(d, "GET", "/v1/ports/1647?proto=tcp", 400)
    error_body(d, "GET", "/v1/ranges?x", 400)
    error_body(d, "GET", "/v1/list?range=1-2&Range=1-2", 400)
    error_body(d, "GET", "/v1/list?range=1-2&%73tatus=assigned&status=reserved", 400)
    error_body(d, "GET", "/v1/listening?port=1&pid=1", 400)
    error_body(d, "GET", "/v1/pick?count=1&limit=1", 400)
    error_body(d, "POST", "/v1/reload?force=1", 400)
    # What is not UTF-8 once %-decoded cannot be asked about (nor put in JSON): 400, not 500.
    for path in ("/v1/services/%ff", "/v1/ports/%c0%b1", "/v1/history/%ed%a0%80",
                 "/v1/search?q=%ff", "/v1/list?range=1-2&proto=%ff", "/v1/pick?%ff=1"):
        _, body = error_body(d, "GET", path, 400)
        c.check("not UTF-8" in body.decode(), f"{path}: says it is not UTF-8: {body!r}")
    for path, why in (("/service/%ff", b"the path is not UTF-8"),
                      ("/search?q=%ff", b"a query parameter is not UTF-8")):
        status, headers, body = d.get(path)
        c.check(status == 400 and headers["content-type"].startswith("text/html") and
                b"<h1>Bad request</h1>" in body and why in body,
                f"GET {path}: a 400 page saying {why!r}: {status} {body[-300:]!r}")
    # UTF-8 is read; "café" is no well-formed service name, which rsap café calls a bad input too.
    status, _, body = d.get("/v1/services/caf%C3%A9")
    c.equal(status, 400, "a UTF-8 name that is no service name")
    c.check("neither a port nor a service name" in body.decode(), f"café: the name's problem: {body!r}")
    # The parameters a route takes still work, %-encoded names included.
    same_as_cli(d, "/v1/search?q=kerberos&%6cimit=2", ["search", "--limit", "2", "kerberos"])
    same_as_cli(d, "/v1/ports/1647?", ["1647"])
    for path in ("/search?q=http&page=2", "/port/1647?x=1", "/?q=1", "/map?zoom=2", "/metrics?x"):
        status, headers, body = d.get(path)
        c.check(status == 400 and headers["content-type"].startswith("text/html") and
                b"unknown query parameter" in body, f"GET {path}: a 400 page naming the parameter")
    status, _, body = d.get("/search?q=http")
    c.check(status == 200 and b"<h1>Search: http</h1>" in body and b'href="/port/80"' in body,
            f"/search?q= still answers, with the results: {status}")


def agrees_with_cli(d):
    """The same input through the API and `rsap ... --json`: the same answer, or
    both refuse it (exit 2 is 400; exit 1 for a name is 404 with the answer)."""
    cases = [
        ("/v1/ports/01647", ["01647"], 200),
        ("/v1/ports/%31647", ["1647"], 200),
        ("/v1/ports/1647%2Ftcp", ["1647/tcp"], 200),
        ("/v1/ports/1647%2Fquic", ["1647/quic"], 400),
        # An encoded slash belongs to its segment: IANA has names with slashes.
        ("/v1/services/914c%2Fg", ["914c/g"], 200),
        ("/v1/services/cl%2F1", ["cl/1"], 200),
        ("/v1/history/914c%2Fg", ["history", "914c/g"], 400),  # rsap_target_parse refuses it
        ("/v1/ports/1650-1647", ["1650-1647"], 400),
        ("/v1/ports/+1647", ["+1647"], 400),
        ("/v1/ports/1647/", ["1647/"], 404),  # an empty segment matches no route
        ("/v1/services/%68ttp", ["http"], 200),
        ("/v1/services/no-such-service", ["no-such-service"], 404),
        ("/v1/search?q=network+file&limit=1", ["search", "--limit", "1", "network file"], 200),
        ("/v1/search?q=x&limit=0", ["search", "--limit", "0", "x"], 400),
        ("/v1/search?q=x&limit=-1", ["search", "--limit", "-1", "x"], 400),
        ("/v1/search?q=x&limit=100001", ["search", "--limit", "100001", "x"], 400),
        ("/v1/search?q=x&limit=99999999999", ["search", "--limit", "99999999999", "x"], 400),
        ("/v1/search?q=%20", ["search", " "], 400),
        ("/v1/list?range=9-1", ["list", "9-1"], 400),
        ("/v1/list?range=1-100000", ["list", "1-100000"], 400),
        ("/v1/list?range=1647", ["list", "1647"], 200),
        ("/v1/list?range=1-2&proto=ipx", ["list", "--proto", "ipx", "1-2"], 400),
        ("/v1/pick?count=0", ["pick", "--count", "0"], 400),
        ("/v1/pick?count=65537", ["pick", "--count", "65537"], 400),
        ("/v1/pick?range=9-1", ["pick", "--range", "9-1"], 400),
        ("/v1/history/1647-1650", ["history", "1647-1650"], 400),
        ("/v1/registry/requests?all=0", ["requests"], 200),
        ("/v1/registry/requests?all=yes", ["requests", "--all"], 200),
        ("/v1/registry/requests?all", ["requests", "--all"], 200),
    ]
    for path, args, want in cases:
        status, _, body = d.get(path)
        cli, code = rsap_json(d.db_dir, *args)
        c.equal(status, want, f"GET {path}")
        if want == 200:
            # An empty listing is an answer (200), where rsap exits 1.
            c.check(body == cli and code in (0, 1), f"GET {path} is `rsap {' '.join(args)} --json`")
        elif want == 400:
            c.equal(code, 2, f"`rsap {' '.join(args)}` refuses it too")
        elif path.startswith("/v1/services/"):
            c.check(body == cli and code == 1, f"GET {path}: the answer of `rsap {' '.join(args)}`")
        else:
            c.equal(code, 2, f"`rsap {' '.join(args)}` refuses it too")
    # A range given as a port is listed, as `rsap 1647-1650[/tcp]` lists it.
    for path, args, location in (
            ("/v1/ports/1647-1650", ["1647-1650"], "/v1/list?range=1647-1650"),
            ("/v1/ports/1647-1650/tcp", ["1647-1650/tcp"], "/v1/list?range=1647-1650&proto=tcp"),
            ("/v1/ports/1647-1650%2FTCP", ["1647-1650/TCP"], "/v1/list?range=1647-1650&proto=tcp")):
        status, headers, _ = d.get(path)
        c.check(status == 303 and headers.get("location") == location,
                f"GET {path} is 303 to {location}: {status} {headers.get('location')}")
        status, _, body = d.get(location)
        cli, code = rsap_json(d.db_dir, *args)
        c.check(status == 200 and code == 0 and body == cli,
                f"GET {location} is `rsap {' '.join(args)} --json`")
    status, _, page = d.get("/port/211")
    c.check(status == 200 and b'href="/service/914c%2Fg"' in page, "/port/211 links to 914c/g's page")
    status, _, page = d.get("/service/914c%2Fg")
    c.check(status == 200 and b"914c/g" in page, f"/service/914c%2Fg is its page: {status}")
    # An encoded slash with nothing after it is still a segment; a bare one is not.
    for _ in range(2):
        c.equal(d.get("/v1/ports/1647%2F")[0], 400, "/v1/ports/1647%2F: no protocol")
        c.equal(d.get("/v1/ports/1647/")[0], 404, "/v1/ports/1647/: no route")
    # As many ports as rsap pick --count takes (the API took at most 1000).
    status, j = d.get_json("/v1/pick?range=30000-31500&count=1001")
    cli, code = rsap_json(d.db_dir, "pick", "--range", "30000-31500", "--count", "1001")
    c.check(status == 200 and code == 0 and len(j["ports"]) == len(json.loads(cli)["ports"]),
            f"/v1/pick?count=1001 as rsap pick --count 1001: {status}, exit {code}")
    # Yes/no parameters take yes or no, and nothing else.
    for path in ("/v1/listening?processes=maybe", "/v1/listening?unregistered=2",
                 "/v1/registry/requests?all=everything", "/v1/pick?allow_iana=sure",
                 "/v1/registry/requests/1?over_iana=ok"):
        _, body = error_body(d, "GET", path, 400)
        c.check("takes 1, true or yes, or 0, false or no" in body.decode(), f"{path}: says what it takes")
    status, bare = d.get_json(f"/v1/listening?port={d.port}&processes=no")
    c.check(status == 200 and bare and all(s["processes"] is None for s in bare),
            "?processes=no leaves the owners out, as =false does")


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
    # A listener of the test's own, on a port IANA leaves unassigned, is nobody's registration.
    port = json.loads(rsap_json(d.db_dir, "pick", "--range", "20000-29999", "--proto", "tcp")[0])["ports"][0]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        d.fresh_listeners()  # rsapd answers from its snapshot of the sockets
        status, unregistered = d.get_json("/v1/listening?unregistered=1")
    ours = [s for s in unregistered if s["port"] == port] if status == 200 else []
    c.check(len(ours) == 1 and ours[0]["local"] is None and
            [p["pid"] for p in ours[0]["processes"]] == [os.getpid()],
            f"?unregistered=1 lists the test's own listener on {port}, and only once: {ours}")
    c.check(status == 200 and all(s["local"] is None or s["local"]["kind"] != "assignment"
                                  for s in unregistered),
            "?unregistered=1 lists no socket on a port the local registry assigns")


def listener_on_an_assignment(d):
    """A socket on a port the local registry assigns: rsap PORT --json shows
    the assignment as the socket's local holding, and /v1/ports/PORT is the
    same answer byte for byte (the API used to leave it null)."""
    port = json.loads(rsap_json(d.db_dir, "pick", "--range", "20000-29999", "--proto", "tcp")[0])["ports"][0]
    out, code = rsap_json(d.db_dir, "request", "held-svc", "--port", str(port), "--proto", "tcp",
                          "--description", "A held port", "--assignee", "Ops", "--contact", "ops@x")
    request = json.loads(out)["id"] if code == 0 else None
    _, code = rsap_json(d.db_dir, "approve", str(request))
    c.equal(code, 0, f"an assignment of {port}/tcp to held-svc")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        d.fresh_listeners()
        body = same_as_cli(d, f"/v1/ports/{port}", [str(port)])
    answer = json.loads(body)
    held = [s["local"] for s in answer["listening"] or []]
    c.check(len(held) == 1 and held[0] and held[0]["kind"] == "assignment" and
            held[0]["service"] == "held-svc",
            f"the listener on {port} carries its assignment: {answer['listening']}")


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
    # "<b>" is no well-formed name: the error, as rsap '<b>' --json prints it, names it as asked.
    c.check(status == 400 and "'<b>'" in json.loads(body)["error"]["message"],
            "JSON carries the name as asked")


def metrics(d):
    d.get("/v1/ports/1647")
    d.get("/v1/ports/99999")
    status, headers, body = d.fresh_metrics()
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


def metric(d, route, status):
    _, _, body = d.get("/metrics")
    m = re.search(r'^rsapd_http_requests_total\{route="%s",status="%s"\} (\d+)$'
                  % (re.escape(route), status), body.decode(), re.M)
    return int(m.group(1)) if m else 0


def status_classes(d):
    """Every answer is counted under its own status, 3xx and libmicrohttpd's own included."""
    cases = [
        ("/search", 303, lambda: d.get("/search?q=1647")[0]),
        ("/v1/ports/{port}", 200, lambda: d.get("/v1/ports/1647")[0]),
        ("/v1/ports/{port}", 400, lambda: d.get("/v1/ports/x")[0]),
        ("/v1/reload", 403, lambda: d.request("POST", "/v1/reload")[0]),
        ("/v1/ranges", 405, lambda: d.request("DELETE", "/v1/ranges")[0]),
        ("other", 404, lambda: d.get("/nothing/here")[0]),
        # libmicrohttpd answers these itself, once it has read the request line.
        ("other", 431, lambda: status_of(d.raw(b"GET /v1/ranges HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                               b"a" * 9000 + b"\r\n\r\n"))),
        ("other", 400, lambda: status_of(d.raw(b"GET /v1/ranges HTTP/1.1\r\n\r\n"))),
    ]
    for route, status, ask in cases:
        before = metric(d, route, status)
        c.equal(ask(), status, f"a {status} from {route}")
        c.equal(metric(d, route, status) - before, 1, f"a {status} from {route} is counted as {status}")


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
    # Forgeries of the right length that share the token's last byte: only a
    # comparison of every byte refuses them.
    for at in (0, len(token) // 2, len(token) - 2):
        forged = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]
        error_body(d, "POST", "/v1/reload", 401, headers={TOKEN_HEADER: "Bearer " + forged})
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
    raw = (b"POST /v1/reload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token.encode() +
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
    s.sendall(b"POST /v1/reload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token.encode() +
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


def thread_names(pid):
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def threads():
    """--threads N is a pool of N; 1 is no pool; the default is twice the CPUs,
    at most 16; and libmicrohttpd has nothing to warn about for any count."""
    for args, want_workers in (((), None), (("--threads", "1"), 0), (("--threads", "2"), 2),
                               (("--threads", "3"), 3)):
        with Rsapd(*args, listen=("127.0.0.1:0", "[::1]:0")) as d:
            status, _, _ = d.get("/v1/ranges")
            c.equal(status, 200, f"rsapd {' '.join(args)} answers")
            names = thread_names(d.proc.pid)
            log = d.log_text()
            c.check("Warning" not in log and "thread pool" not in log.lower(),
                    f"rsapd {' '.join(args)}: no warning from libmicrohttpd: {log!r}")
            if want_workers is None:
                cpus = os.cpu_count()
                want_workers = min(2 * cpus, 16)
            if want_workers == 0:
                c.check(names.count("MHD-single") == 2 and "MHD-worker" not in names,
                        f"rsapd {' '.join(args)}: one thread per address, no pool: {names}")
            else:
                c.equal(names.count("MHD-worker"), 2 * want_workers,
                        f"rsapd {' '.join(args)}: a pool of {want_workers} per address")


def reload_after_update(d):
    shared = os.environ.get("RSAP_SHARED_DATA", "")
    csv = os.path.join(shared, "service-names-port-numbers.csv")
    if not os.path.exists(csv):
        c.skip("the reload-after-update check: no IANA CSV in RSAP_SHARED_DATA")
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
    with Rsapd("--owners", "all") as d:  # as `rsap listening` run by root
        c.check(any("READY=1" in n for n in d.notifications), "READY=1 went to systemd")
        c.check(len(d.addresses) == 1 and d.addresses[0].startswith("127.0.0.1:"),
                "listens where told, and says where")
        registry_routes(d)
        registry_errors(d)
        query_parameters(d)
        agrees_with_cli(d)
        listening(d)
        listener_on_an_assignment(d)
        head_and_headers(d)
        pages(d)
        escaping(d)
        metrics(d)
        status_classes(d)
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
    threads()
    c.finish()


if __name__ == "__main__":
    main()
