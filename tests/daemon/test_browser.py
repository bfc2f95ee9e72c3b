#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The pages in a real browser: headless Chromium (Debian's chromium),
driven over its DevTools pipe (chromium_cdp.py), loads /, /port/80,
/port/6010, /service/http, /search?q=remote and /map under their real
Content-Security-Policy, in a phone's viewport (390x844, mobile) and a
desktop's (1280x900), and checks that nothing scrolls sideways (the
document is exactly as wide as the viewport), takes screenshots (kept in
the build directory: browser-PAGE-phone.png, -desktop.png and -full.png
for the whole page), checks the text a person sees, hovers over and
clicks cells of /map: a cell's tooltip names its port, and a click opens
that very port's page (map.js resolving the cell under the pointer).
IANA's whole registry from ../shared when it is there, else the built-in
copy.  Exit 77 (skipped) without chromium."""
import os
import struct
import sys
import tempfile
import urllib.parse
import zlib

from chromium_cdp import Chromium, find_chromium
from rsapd_harness import Checks, Rsapd, iana_data_dir, own_network_namespace

c = Checks("browser")
OUT = os.environ.get("RSAPD_TEST_OUTPUT") or tempfile.mkdtemp(prefix="rsapd-browser-")
PAGES = {"home": "/", "port-80": "/port/80", "port-6010": "/port/6010",
         "service-http": "/service/http", "search-remote": "/search?q=remote", "map": "/map"}
VIEWS = {"phone": (390, 844, True), "desktop": (1280, 900, False)}


def png_size_and_content(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None, None, False
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return width, height, len(set(pixels[: 1 << 20])) > 8


OVERFLOWING = """Array.from(document.querySelectorAll(
    ".scroll, table, h1, h2, h3, p, li, dt, dd, td, th, footer, form, nav"))
  .filter(function (e) { return e.scrollWidth > e.clientWidth + 1; })
  .map(function (e) { return e.tagName + ": " + e.textContent.slice(0, 40); })"""


BROKEN_WORDS = """Array.from(document.querySelectorAll(
    "td .assigned, td .reserved, td .unassigned, td a[href^='/port/'], td a[href^='/service/']"))
  .filter(function (e) { return !/[-,]/.test(e.textContent) && e.getClientRects().length > 1; })
  .map(function (e) { return e.textContent; })"""


def page_in_view(tab, base, name, view):
    width, height, _ = VIEWS[view]
    status = tab.load(base + PAGES[name])
    c.equal(status, 200, f"{name} ({view}) loads")
    measure = tab.evaluate("[document.documentElement.scrollWidth,"
                           " document.documentElement.clientWidth]")
    c.equal(measure, [width, width], f"{name} on a {view}: document and viewport width, "
                                     "nothing scrolls sideways")
    # Nor does anything inside: a table scrolling in its box, a long address
    # running out of its cell.  Only code may scroll, in its own box.
    overflowing = tab.evaluate(OVERFLOWING)
    c.equal(overflowing, [], f"{name} on a {view}: boxes whose content runs out of them")
    # A table of many columns is a table on a desktop and cards on a phone.
    displays = tab.evaluate("Array.from(new Set(Array.from(document.querySelectorAll("
                            "'table.cards td'), function (td) { return getComputedStyle(td)"
                            ".display; })))")
    if displays:
        c.equal(displays, ["grid"] if view == "phone" else ["table-cell"],
                f"{name} on a {view}: how the cells of its tables are laid out")
    # A word is never broken across lines to squeeze a column.
    c.equal(tab.evaluate(BROKEN_WORDS), [], f"{name} on a {view}: words broken across lines")
    path = os.path.join(OUT, f"browser-{name}-{view}.png")
    w, h, drawn = png_size_and_content(tab.screenshot(path))
    c.check((w, h) == (width, height) and drawn,
            f"{name} on a {view}: a {width}x{height} picture with something drawn ({w}x{h})")
    tab.screenshot(os.path.join(OUT, f"browser-{name}-{view}-full.png"), full_page=True)
    print(f"screenshot: {path}")
    return tab.evaluate("document.body.innerText")


def texts(tab, base, full, port):
    tab.load(base + "/")
    text = tab.evaluate("document.body.innerText")
    for want in ("What is this port?", "Search", "System Ports", "User Ports", "Dynamic Ports",
                 "port 1647", "the whole port space as a picture"):
        c.check(want in text, f"/ shows {want!r}")
    c.check(tab.evaluate("document.scripts.length") == 0, "/ holds no script")
    form = tab.evaluate("[document.forms[0].getAttribute('action'), document.forms[0].method,"
                        " document.forms[0].querySelector('input[type=search]').name]")
    c.equal(form[1:], ["get", "q"], "/ has a search form")

    # What the browser sends when a person types "kerberos" and presses Search.
    search = base + form[0] + "?" + urllib.parse.urlencode({form[2]: "kerberos"})
    tab.load(search)
    text = tab.evaluate("document.body.innerText")
    for want in ("Search: kerberos", "records match", "kerberos", "88/tcp", "assigned"):
        c.check(want in text, f"the search results show {want!r}")
    tab.load(base + "/search?" + urllib.parse.urlencode({"q": "network file"}))
    text = tab.evaluate("document.body.innerText")
    c.check("Search: network file" in text and "2049" in text, "a search for two words")

    tab.load(base + "/port/1647")
    text = tab.evaluate("document.body.innerText")
    for want in ("Port 1647: rsap", "User Ports (1024–49151)", "assigned by IANA on request",
                 "IANA's records", "1647/tcp,udp", "This organisation's registry",
                 "On this host now", "Nothing listens on port 1647 on this host",
                 "Check by hand", "Linux", "macOS", "Windows", "ss -tulpn 'sport = :1647'",
                 "Get-NetTCPConnection -LocalPort 1647", "← 1646", "1648 →"):
        c.check(want in text, f"/port/1647 shows {want!r}")
    tab.load(base + f"/port/{port}")
    c.check("rsapd[" in tab.evaluate("document.body.innerText"), "a port rsapd listens on names it")

    for view in VIEWS:
        vtab = tab.b.tab(*VIEWS[view])
        for name in PAGES:
            text = page_in_view(vtab, base, name, view)
            if full and name == "port-6010":
                c.check("6000-6063/tcp,udp" in text and "x11" in text,
                        f"/port/6010 on a {view} shows X11's range")


# A point of a port's cell in the viewport, from the geometry of the
# rectangle drawn for its run (so not from map.js's own arithmetic).  Mouse
# events carry whole CSS pixels, and a phone's cells are less than two wide:
# the point is the first whole pixel inside the cell.
CELL_POINT = """(function (port) {
  var row = Math.floor(port / 256), col = port % 256;
  var link = document.querySelectorAll("svg.map > a")[row];
  var rects = link.querySelectorAll("rect");
  for (var i = 0; i < rects.length; i++) {
    var x = +rects[i].getAttribute("x"), w = +(rects[i].getAttribute("width") || 1);
    if (col >= x && col < x + w) {
      rects[i].scrollIntoView({block: "center"});
      var box = rects[i].getBoundingClientRect(), cell = box.width / w;
      var left = box.left + (col - x) * cell;
      var at = [Math.ceil(left + 0.05), Math.ceil(box.top + 0.05)];
      return at[0] < left + cell && at[1] < box.bottom ? at : null;
    }
  }
  return null;
})(@PORT)"""

TOOLTIP_AT = """(function (x, y) {
  var e = document.elementFromPoint(x, y), t = e && e.querySelector("title");
  return t ? t.textContent : null;
})(@X, @Y)"""


def the_map(browser, base, full, port):
    known = {1647: "1647 rsap: assigned", 6010: "6000-6063 x11: assigned"} if full else \
        {7: "7 echo: assigned", 22: "22 ssh: assigned"}
    known[50000] = "49920-50175: dynamic, unassigned"
    known[port] = None  # rsapd's own: listening
    for view in VIEWS:
        tab = browser.tab(*VIEWS[view])
        for want_port, want_title in known.items():
            tab.load(base + "/map")
            point = tab.evaluate(CELL_POINT.replace("@PORT", str(want_port)))
            if not c.check(point is not None, f"/map on a {view} draws port {want_port}"):
                continue
            title = tab.evaluate(TOOLTIP_AT.replace("@X", str(point[0])).replace("@Y", str(point[1])))
            if want_title is None:
                c.check(title is not None and "listening here now" in title,
                        f"/map on a {view}: rsapd's port {want_port} is marked listening: {title!r}")
            else:
                c.equal(title, want_title, f"/map on a {view}: the tooltip of port {want_port}")
            url = tab.click(*point)
            c.equal(url, f"{base}/port/{want_port}",
                    f"/map on a {view}: a click on port {want_port}'s cell opens its page")


def main():
    own_network_namespace()  # "Nothing listens on port 1647", whatever the host runs
    chromium = find_chromium()
    if not chromium:
        print("chromium is not installed: skipping")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="rsapd-browser-") as tmp:
        db = iana_data_dir(tmp)
        with Rsapd("--owners", "all", db_dir=db) as d, Chromium(chromium) as browser:
            base = f"http://127.0.0.1:{d.port}"
            texts(browser.tab(*VIEWS["desktop"]), base, db is not None, d.port)
            the_map(browser, base, db is not None, d.port)
    c.finish()


if __name__ == "__main__":
    main()
