#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The pages in a real browser: headless Chromium (Debian's chromium)
loads /, a search as the form submits it, /port/1647 on a desktop and a
phone, and /map; takes screenshots (kept in the build directory) and checks
the text a person sees.  The pages hold no script and their
Content-Security-Policy (default-src 'none') would refuse one, so what the
browser shows is what a reader without JavaScript gets.  (Chromium's
headless screenshot and --dump-dom need scripting on, so it stays on.)
Exit 77 (skipped) without chromium."""
import html
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import zlib

from rsapd_harness import Checks, Rsapd

c = Checks("browser")
OUT = os.environ.get("RSAPD_TEST_OUTPUT") or tempfile.mkdtemp(prefix="rsapd-browser-")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args, timeout=120):
    profile = tempfile.mkdtemp(prefix="rsapd-chromium-")
    try:
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={profile}", *args]
        return subprocess.run(argv, capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def visible_text(dom):
    """The text of the body, as a person reads it: no style, no tags, entities decoded."""
    body = dom.split("<body", 1)[-1]
    body = re.sub(r"(?is)<(style|script|svg)\b.*?</\1>", " ", body)
    body = re.sub(r"(?s)<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body))


def png_size_and_content(path):
    with open(path, "rb") as f:
        data = f.read()
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


def screenshot(url, name, width, height):
    path = os.path.join(OUT, f"browser-{name}.png")
    if os.path.exists(path):
        os.unlink(path)
    p = chromium(f"--screenshot={path}", f"--window-size={width},{height}", url)
    if not c.check(p.returncode == 0 and os.path.exists(path),
                   f"a screenshot of {url}: {p.stderr[-300:]!r}"):
        return
    w, h, drawn = png_size_and_content(path)
    c.check((w, h) == (width, height) and drawn,
            f"{name}: a {width}x{height} picture with something drawn ({w}x{h}, {drawn})")
    print(f"screenshot: {path}")


def dom(url):
    p = chromium("--dump-dom", url)
    c.check(p.returncode == 0 and b"</html>" in p.stdout, f"the DOM of {url}")
    return p.stdout.decode(errors="replace")


def main():
    if not CHROMIUM:
        print("chromium is not installed: skipping")
        sys.exit(77)
    with Rsapd("--owners", "all") as d:  # processes shown as to a token holder
        base = f"http://127.0.0.1:{d.port}"

        home = dom(base + "/")
        c.check("<script" not in home, "/ holds no script")
        text = visible_text(home)
        for want in ("What is this port?", "Search", "System Ports", "User Ports", "Dynamic Ports",
                     "port 1647", "the whole port space as a picture"):
            c.check(want in text, f"/ shows {want!r}")
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="get"', home)
        field = re.search(r'<input[^>]*type="search"[^>]*name="([^"]+)"', home)
        c.check(form is not None and field is not None, "/ has a search form")
        screenshot(base + "/", "home", 1280, 900)

        # What the browser sends when a person types "kerberos" and presses Search.
        search_url = base + form.group(1) + "?" + urllib.parse.urlencode({field.group(1): "kerberos"})
        text = visible_text(dom(search_url))
        for want in ("Search: kerberos", "records match", "kerberos", "88/tcp", "assigned"):
            c.check(want in text, f"the search results show {want!r}")
        screenshot(search_url, "search", 1280, 1400)

        words_url = base + "/search?" + urllib.parse.urlencode({"q": "network file"})
        text = visible_text(dom(words_url))
        c.check("Search: network file" in text and "2049" in text, "a search for two words")

        page = dom(base + "/port/1647")
        text = visible_text(page)
        for want in ("Port 1647: rsap", "User Ports (1024–49151)", "assigned by IANA on request",
                     "IANA's records", "1647/tcp", "1647/udp", "references",
                     "This organisation's registry", "On this host now",
                     "Nothing listens on port 1647 on this host", "Check by hand", "Linux", "macOS",
                     "Windows", "ss -tulpn 'sport = :1647'", "Get-NetTCPConnection -LocalPort 1647",
                     "← 1646", "1648 →"):
            c.check(want in text, f"/port/1647 shows {want!r}")
        screenshot(base + "/port/1647", "port-1647-desktop", 1280, 2400)
        screenshot(base + "/port/1647", "port-1647-phone", 390, 2000)

        text = visible_text(dom(base + f"/port/{d.port}"))
        c.check("rsapd[" in text, "a port rsapd listens on names it")

        map_dom = dom(base + "/map")
        c.check("The port space" in visible_text(map_dom) and map_dom.count("<rect") == 65536,
                "/map draws 65536 cells")
        screenshot(base + "/map", "map", 900, 1100)
    c.finish()


if __name__ == "__main__":
    main()
