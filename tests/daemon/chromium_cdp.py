# SPDX-License-Identifier: MIT
"""Headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on fd 3, answers on fd 4, each a JSON
text ended by a NUL), so a test can set a phone's viewport, load a page
under its real Content-Security-Policy, measure it, click into it and take
screenshots, with no port opened and nothing but the standard library."""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile

WAIT = 120  # seconds before a page that never loads fails the test instead of hanging it


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="rsapd-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Above 9 first, so that putting them on 3 and 4 in the child clobbers neither.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        self.proc = subprocess.Popen(argv, preexec_fn=child_fds, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(high_r)
        os.close(high_w)
        self.next_id = 0
        self.pending = b""
        self.events = []

    def close(self):
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the protocol ------------------------------------------------------
    def _read_message(self):
        while b"\0" not in self.pending:
            ready, _, _ = select.select([self.from_child], [], [], WAIT)
            if not ready:
                raise RuntimeError("chromium did not answer")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.pending += chunk
        text, self.pending = self.pending.split(b"\0", 1)
        return json.loads(text)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method, session, accept=lambda params: True):
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method and e.get("sessionId") == session and \
                        accept(e.get("params", {})):
                    del self.events[i]
                    return e["params"]
            self.events.append(self._read_message())

    def tab(self, width, height, mobile):
        return Tab(self, width, height, mobile)


class Tab:
    """One page in a viewport of width x height CSS pixels (a phone's when mobile)."""

    def __init__(self, browser, width, height, mobile):
        self.b = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.call("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.width, self.height = width, height

    def call(self, method, params=None):
        return self.b.call(method, params, self.session)

    def load(self, url):
        """Loads url and waits for its load event; returns the HTTP status."""
        self.b.events.clear()
        self.call("Network.enable")
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RuntimeError(f"{url}: {result['errorText']}")
        response = self.b.wait_event("Network.responseReceived", self.session,
                                     lambda p: p.get("type") == "Document")
        self.b.wait_event("Page.loadEventFired", self.session)
        return response["response"]["status"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.evaluate("[document.documentElement.scrollWidth,"
                                 " document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return data

    def mouse(self, kind, x, y, buttons=0, clicks=0):
        self.call("Input.dispatchMouseEvent",
                  {"type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" else "none",
                   "buttons": buttons, "clickCount": clicks})

    def click(self, x, y):
        """A left click at (x, y) of the viewport; returns the URL it led to once loaded."""
        self.b.events.clear()
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, buttons=1, clicks=1)
        self.mouse("mouseReleased", x, y, clicks=1)
        frame = self.b.wait_event("Page.frameNavigated", self.session,
                                  lambda p: "parentId" not in p["frame"])
        self.b.wait_event("Page.loadEventFired", self.session)
        return frame["frame"]["url"]
