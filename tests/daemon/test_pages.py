#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The pages as HTTP answers, with IANA's whole registry when ../shared has
it (else the built-in copy): /map stays well under a megabyte and still
covers every one of the 65536 ports exactly once, each run of cells with a
tooltip that names its ports, service and status; the port and service
pages leave out empty fields, show records that differ only in transport
once and a long note once; the pages' security headers let no script in
but rsapd's own /map.js."""
import html
import os
import re
import tempfile
import xml.etree.ElementTree as ET

from rsapd_harness import Checks, Rsapd, iana_data_dir, own_network_namespace

c = Checks("pages")
SVG = "{http://www.w3.org/2000/svg}"
MAP_LIMIT = 1_000_000


def title_ports(text):
    """(low, high) of a tooltip: "6000-6063 x11: assigned" or "4: unassigned"."""
    m = re.match(r"(\d+)(?:-(\d+))?[ :]", text)
    return (int(m.group(1)), int(m.group(2) or m.group(1))) if m else None


def map_cells(d):
    """The map as [(row, x, width, class, title)], after checking it is one piece of XML."""
    status, headers, body = d.get("/map.svg")
    c.equal(headers.get("content-type"), "image/svg+xml", "/map.svg type")
    root = ET.fromstring(body)
    cells = []
    for row, link in enumerate(root.findall(f"{SVG}a")):
        c.equal(link.get("href"), f"/port/{row * 256}", f"row {row} links its first port")
        c.equal(link.get("transform"), f"translate(0 {row})", f"row {row} sits at y {row}")
        for rect in link.findall(f"{SVG}rect"):
            title = rect.find(f"{SVG}title")
            cells.append((row, int(rect.get("x")), int(rect.get("width", "1")),
                          rect.get("class", ""), title.text if title is not None else None))
    c.equal(len(root.findall(f"{SVG}a")), 256, "/map.svg: 256 row links")
    return cells


def the_map(d, full):
    status, headers, body = d.get("/map")
    print(f"/map: {len(body)} bytes with {'IANA' if full else 'the built-in'} data")
    c.check(status == 200 and len(body) < MAP_LIMIT, f"/map is under 1 MB ({len(body)} bytes)")
    c.check(body.count(b"<a href=") < 300, "/map: a link per row, not per cell")
    c.check(b'<script src="/map.js"></script>' in body, "/map loads its script")
    status, headers, script = d.get("/map.js")
    c.check(status == 200 and headers.get("content-type", "").startswith("text/javascript")
            and b"/port/" in script, "/map.js is served")

    cells = map_cells(d)
    covered = [0] * 65536
    for row, x, width, cls, title in cells:
        low = row * 256 + x
        for port in range(low, low + width):
            covered[port] += 1
        c.check(title is not None and title_ports(title) == (low, low + width - 1),
                f"the tooltip of {low}-{low + width - 1} names its ports: {title!r}")
    c.check(all(n == 1 for n in covered), "the runs cover every port exactly once")
    by_port = {row * 256 + x: (width, cls, title) for row, x, width, cls, title in cells}

    # A known port and a range record, as IANA's registry has them.
    width, cls, title = by_port.get(7, (0, "", ""))
    c.check(cls == "a" and title == "7 echo: assigned", f"port 7's tooltip: {title!r}")
    if full:
        width, cls, title = by_port.get(1647, (0, "", ""))
        c.check(width == 1 and cls == "a" and title == "1647 rsap: assigned",
                f"port 1647's tooltip: {title!r}")
        width, cls, title = by_port.get(6000, (0, "", ""))
        c.check(width == 64 and title == "6000-6063 x11: assigned",
                f"X11's 6000-6063 is one run with one tooltip: {title!r}")
    low = 49152
    dynamic = [t for row, x, w, cls, t in cells if row * 256 + x >= low and cls == "d"]
    c.check(dynamic and all(t.endswith("dynamic, unassigned") for t in dynamic),
            "the dynamic range is drawn as such")
    own = next(((r, x, w, cls, t) for r, x, w, cls, t in cells
                if r * 256 + x <= d.port < r * 256 + x + w), None)
    c.check(own is not None and own[3] == "l" and "listening here now" in own[4],
            f"/map marks rsapd's own listening port {d.port}: {own}")


def section_headings(body):
    return [re.sub(r"<[^>]+>", "", h)
            for h in re.findall(r"<section class=\"record\">\s*<h3>(.*?)</h3>", body)]


def brief_pages(d, full):
    empties = ("no registration date", "never modified", "not in the built-in data",
               "no RFC or other reference", "nobody named")
    for path in ("/port/80", "/port/6010", "/port/1647", "/service/http", "/port/4"):
        status, _, body = d.get(path)
        text = html.unescape(body.decode())
        for empty in empties:
            c.check(empty not in text, f"{path} prints no empty field ({empty!r})")
        c.check("<dt>transport</dt>" not in text and "<dt>source</dt>" not in text,
                f"{path}: the heading names the transports, the footer the source")
    if not full:
        return
    status, _, body = d.get("/port/6010")
    text = html.unescape(body.decode())
    c.equal(section_headings(text), ["6000-6063/tcp,udp · x11 · assigned"],
            "/port/6010: X11's tcp and udp records as one section")
    c.check("<tr><td>tcp,udp</td><td><span class=\"assigned\">assigned</span></td>" in text,
            "/port/6010: one status row for tcp and udp")
    c.equal(text.count("Known Unauthorized Use on port 6003"), 1, "/port/6010: the note once")

    status, _, body = d.get("/port/80")
    text = html.unescape(body.decode())
    heads = section_headings(text)
    c.check("80/tcp,udp · http · assigned" in heads and "80/tcp,udp · www · assigned" in heads,
            f"/port/80: http and www each once for tcp and udp: {heads}")
    duplicate = 'This is a duplicate of the "http" service and should not be used for ' \
                'discovery purposes.</dd>'
    c.equal(text.count(duplicate), 1, "/port/80: www's note once, not per transport")
    # http's sctp record differs from its tcp and udp ones but shares their note.
    c.equal(text.count("Defined TXT keys: u="), 1, "/port/80: http's note once")
    c.check("80/sctp · http · assigned" in heads and
            '<dt>notes</dt><dd class="note">as for 80/tcp,udp above</dd>' in text,
            "/port/80: http on sctp names the section with its note")


def cards(d):
    """Every cell of a table that turns into cards on a phone names its column."""
    for path in ("/", "/search?q=remote", "/search?q=kerberos"):
        status, _, body = d.get(path)
        text = body.decode()
        for table in re.findall(r'<table class="cards">(.*?)</table>', text, re.S):
            columns = re.findall(r"<th>(.*?)</th>", table)
            for label in re.findall(r"<td([^>]*)>", table):
                m = re.search(r'data-label="([^"]*)"', label)
                c.check(m is not None and m.group(1) in columns,
                        f"{path}: a card's cell names its column ({label!r})")
        c.check('<table class="cards">' in text, f"{path} has a table that becomes cards")


def headers(d):
    for path in ("/", "/map", "/port/80"):
        status, h, _ = d.get(path)
        csp = h.get("content-security-policy", "")
        c.check("default-src 'none'" in csp and "script-src 'self'" in csp and
                "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0] and
                "frame-ancestors 'none'" in csp, f"{path}: scripts from rsapd only: {csp!r}")


def main():
    # The map's size depends on how many ports listen: the host's own
    # listeners (thousands, under a benchmark) are not the test's.
    own_network_namespace()
    with tempfile.TemporaryDirectory(prefix="rsapd-pages-") as tmp:
        db = iana_data_dir(tmp)
        if db is None:
            print("no IANA XML in $RSAP_SHARED_DATA: the built-in data answers")
        with Rsapd(db_dir=db) as d:
            full = db is not None
            the_map(d, full)
            brief_pages(d, full)
            cards(d)
            headers(d)
    c.finish()


if __name__ == "__main__":
    main()
