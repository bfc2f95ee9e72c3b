# SPDX-License-Identifier: MIT
"""Runs rsapd for the tests: a fresh data directory, a port the kernel
chooses (--listen 127.0.0.1:0, read back from the log), readiness through
a $NOTIFY_SOCKET of our own, and an orderly stop that checks the exit.
Tests that depend on which host ports are free call own_network_namespace()
first; probes for free ports bind loopback only."""
import errno
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

RSAPD = os.environ.get("RSAPD")
RSAP = os.environ.get("RSAP")
START_TIMEOUT = 20.0


class Checks:
    """Counts checks; prints 'N passed, N failed' at the end."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)
        return condition

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, wanted {want!r}")

    def skip(self, what):
        """A part that cannot run here: a "SKIP:" line, which tools/check-skips
        counts from meson's log (the test's exit status covers the rest)."""
        self.skipped += 1
        print(f"SKIP: {what}", flush=True)

    def finish(self):
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed{skipped}", flush=True)
        sys.exit(1 if self.failed else 0)


def need_binaries():
    if not RSAPD or not os.access(RSAPD, os.X_OK):
        print("RSAPD is not set to the rsapd binary", file=sys.stderr)
        sys.exit(2)


class Rsapd:
    """One rsapd process.  Use as a context manager."""

    def __init__(self, *args, db_dir=None, listen=("127.0.0.1:0",), env=None):
        need_binaries()
        self.tmp = tempfile.TemporaryDirectory(prefix="rsapd-test-")
        self.db_dir = db_dir or os.path.join(self.tmp.name, "db")
        os.makedirs(self.db_dir, exist_ok=True)
        self.args = list(args)
        self.listen = list(listen)
        self.extra_env = env or {}
        self.proc = None
        self.log_path = os.path.join(self.tmp.name, "rsapd.log")
        self.notify = None
        self.notifications = []
        self.addresses = []

    # ---- lifecycle -------------------------------------------------------
    def start(self):
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify_path = os.path.join(self.tmp.name, "notify")
        self.notify.bind(notify_path)
        self.notify.settimeout(0.2)
        env = dict(os.environ)
        env.update({"NOTIFY_SOCKET": notify_path, "RSAP_DB_DIR": self.db_dir,
                    "NO_COLOR": "1"})
        env.pop("JOURNAL_STREAM", None)
        env.update(self.extra_env)
        argv = [RSAPD, "--db-dir", self.db_dir]
        for addr in self.listen:
            argv += ["--listen", addr]
        argv += self.args
        if "--metrics-interval" not in self.args:
            argv += ["--metrics-interval", "1"]  # /metrics' figures each second, not 15
        if "--listeners-interval" not in self.args:
            argv += ["--listeners-interval", "100"]  # fresh_listeners() waits less
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._read_notifications()
            if any("READY=1" in n for n in self.notifications):
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"rsapd exited {self.proc.returncode}: {self.log_text()}")
        else:
            self.kill()
            raise RuntimeError(f"rsapd not ready in {START_TIMEOUT}s: {self.log_text()}")
        self.addresses = re.findall(r"listening on http://(\S+)/", self.log_text())
        host, port = self.addresses[0].rsplit(":", 1)
        self.host = host.strip("[]")
        self.port = int(port)
        return self

    def _read_notifications(self):
        try:
            while True:
                self.notifications.append(self.notify.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            pass

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=20):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            status = None
        if status != 0:
            # Whatever rsapd said last (a sanitizer's report) is the reason.
            print(f"rsapd exited {status}; the end of its log:\n{self.log_text()[-6000:]}")
        return status

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.stop()
        if self.notify:
            self._read_notifications()
            self.notify.close()
        self.log.close()
        self.tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def alive(self):
        return self.proc.poll() is None

    # ---- requests ----------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        """(status, headers dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = dict(headers or {})
                headers.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def get_json(self, path, **kw):
        status, headers, body = self.get(path, **kw)
        return status, json.loads(body)

    def metrics_refreshes(self):
        """The refreshes of /metrics' figures ended so far (ok and failed)."""
        _, _, body = self.get("/metrics")
        return sum(int(n) for n in re.findall(rb"^rsapd_metrics_refreshes_total\{[^}]*\} (\d+)$",
                                              body, re.M))

    def fresh_metrics(self, timeout=60):
        """/metrics once a refresh that started after this call has ended: two
        more refreshes than now (the one under way may have begun before)."""
        want = self.metrics_refreshes() + 2
        deadline = time.monotonic() + timeout
        while self.metrics_refreshes() < want:
            if time.monotonic() > deadline:
                raise RuntimeError("/metrics' figures were not refreshed")
            time.sleep(0.05)
        return self.get("/metrics")

    def listener_snapshots(self):
        """The snapshots of this host's sockets taken so far."""
        _, _, body = self.get("/metrics")
        return int(re.search(rb"^rsapd_listeners_snapshots_total (\d+)$", body, re.M).group(1))

    def fresh_listeners(self, timeout=60):
        """Returns once a snapshot of the sockets begun after this call is the
        one answers read: two more than now (one may be under way)."""
        want = self.listener_snapshots() + 2
        deadline = time.monotonic() + timeout
        while self.listener_snapshots() < want:
            if time.monotonic() > deadline:
                raise RuntimeError("the sockets' snapshot was not refreshed")
            time.sleep(0.02)

    def raw(self, data, timeout=10, read_all=True):
        """Sends bytes on a new connection and returns what comes back.  A
        server that answers and closes before reading all (an oversized
        header) may reset the connection: what arrived before is returned."""
        chunks = []
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if not read_all:
                        break
            except (socket.timeout, ConnectionResetError):
                pass
        return b"".join(chunks)


def status_of(raw_response):
    """The status code of a raw HTTP response, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw_response)
    return int(m.group(1)) if m else None


def rsap_json(db_dir, *args):
    """What `rsap ARGS --json` prints, as bytes, and its exit status."""
    env = dict(os.environ, RSAP_DB_DIR=db_dir, NO_COLOR="1")
    p = subprocess.run([RSAP, "--db-dir", db_dir, *args, "--json"], capture_output=True, env=env)
    return p.stdout, p.returncode


def write_token(directory, token="t0ken-for-the-tests-0123456789", mode=0o600):
    path = os.path.join(directory, "token")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, mode)
    return path, token


def free_on_host(port):
    """Whether port binds on TCP and UDP, on ::1 and 127.0.0.1: the tests
    bind loopback only, even to look (a wildcard bind on 0.0.0.0 would see
    more, but the suite promises to touch nothing but loopback)."""
    for family, address in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            try:
                s = socket.socket(family, kind)
            except OSError:
                continue
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((address, port))
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL:
                    continue  # no ::1 here
                return False
            finally:
                s.close()
    return True


NETNS_FLAG = "RSAP_TEST_OWN_NETNS"


def own_network_namespace():
    """Runs this script again in a network namespace of its own, loopback up
    and nothing else, so that neither the host's listeners (an rsapd.service
    on 1647) nor anything the test or rsapd binds or probes (the port server
    checks the wildcard address) meets the host's network.  Where no
    namespace may be made, says so and returns: the test runs on the host."""
    if os.environ.get(NETNS_FLAG):
        return
    for unshare in (["unshare", "--net"], ["unshare", "--map-current-user", "--net"]):
        try:
            ok = subprocess.run([*unshare, "ip", "link", "set", "lo", "up"],
                                capture_output=True).returncode == 0
        except OSError:
            ok = False
        if ok:
            sys.stdout.flush()
            argv = [*unshare, "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                    sys.executable, *sys.argv]
            sys.exit(subprocess.run(argv, env=dict(os.environ, **{NETNS_FLAG: "1"})).returncode)
    print("note: no network namespace may be made here: the test sees the host's ports",
          flush=True)


def unassigned_ports(db_dir, count, contiguous=False, start=20000, stop=32000):
    """count ports IANA leaves unassigned on tcp and udp and nothing binds here,
    consecutive ones when asked (below the usual ephemeral range)."""
    found = []
    for low in range(start, stop, 500):
        body, _ = rsap_json(db_dir, "list", "--proto", "tcp,udp", f"{low}-{low + 499}")
        taken = {row["port"] for row in json.loads(body)["ports"] if row["status"] != "unassigned"}
        for port in range(low, low + 500):
            if port in taken or not free_on_host(port):
                if contiguous:
                    found = []
                continue
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError("not enough unassigned free ports")


def iana_data_dir(parent):
    """A data directory under parent holding IANA's whole registry, from the
    XML in $RSAP_SHARED_DATA (../shared) when it is there; else None, and
    the built-in copy answers."""
    xml = os.path.join(os.environ.get("RSAP_SHARED_DATA", ""), "service-names-port-numbers.xml")
    if not os.path.exists(xml):
        return None
    db = os.path.join(parent, "db")
    subprocess.run([RSAP, "--db-dir", db, "update", "--from", xml], check=True,
                   stdout=subprocess.DEVNULL)
    return db
