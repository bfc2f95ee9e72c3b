#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rsap listening --watch prints the changes the test makes, in order.

In a network namespace of its own (exit 77 where none may be made), so that
nothing else starts or stops listening meanwhile.  The test holds the
sockets itself and makes one change at a time, waiting for its line before
the next, so that the order is the test's; each line must name the socket
(protocol, address, port, inode) and its owner (this process's pid and
command).  Starts are seen by the dumps, stops by destroy events or by the
dumps (a UDP socket that connects is not destroyed).  A socket open before
--watch started is not printed (quiet start) until it stops.  No timings
are asserted: a line that never comes fails the test after a generous wait,
as a hang would.

    watch_cli.py [RSAP]
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys

from listen_common import SKIP, in_new_netns, rsap_path

FLAG = "RSAP_TEST_WATCH_NETNS"
PATIENCE_S = 30  # a watchdog for a line that never comes, not a measure


class Watch:
    """rsap listening --watch ARGS..., its lines read one at a time."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([rsap_path(), "listening", "--watch", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=dict(os.environ, NO_COLOR="1"))
        self.pending = b""
        notice = self.proc.stderr.readline().decode()
        if not notice.startswith("rsap: watching"):
            raise AssertionError(f"no 'watching' notice on stderr: {notice!r}")

    def line(self):
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.proc.stdout], [], [], PATIENCE_S)
            if not ready:
                raise AssertionError(f"no line from --watch in {PATIENCE_S} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"--watch ended: {self.proc.wait()}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def stop(self, sig):
        self.proc.send_signal(sig)
        rest, err = self.proc.communicate(timeout=PATIENCE_S)
        return self.proc.returncode, (self.pending + rest).decode(), err.decode()


def own_command():
    with open("/proc/self/comm") as f:
        return f.read().strip()


def listener(proto, address, port=0):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, port))
    if kind == socket.SOCK_STREAM:
        s.listen()
    return s


def expect(change, proto, s):
    address, port = s.getsockname()[:2]
    return {"change": change, "protocol": proto, "address": address, "port": port,
            "inode": os.fstat(s.fileno()).st_ino, "pids": [os.getpid()],
            "commands": [own_command()]}


def seen_json(line):
    event = json.loads(line)
    sock = event["socket"]
    assert isinstance(event["at_us"], int) and event["at"].endswith("Z"), event
    return {"change": event["change"], "protocol": sock["protocol"],
            "address": sock["address"], "port": sock["port"], "inode": sock["inode"],
            "pids": [p["pid"] for p in sock["processes"]],
            "commands": [p["command"] for p in sock["processes"]]}


def check_json_sequence():
    before = listener("tcp", "127.0.0.1")
    watch = Watch("--json", "--interval", "50")
    made, seen = [], []

    def change(what, proto, s, act):
        made.append(expect(what, proto, s))  # before act: a closed socket has no name
        act()
        seen.append(seen_json(watch.line()))

    a = listener("tcp", "127.0.0.1")
    change("started", "tcp", a, lambda: None)
    b = listener("udp", "::1")
    change("started", "udp", b, lambda: None)
    change("stopped", "tcp", a, a.close)
    c = listener("tcp", "127.0.0.1", made[0]["port"])  # another socket on a's port
    change("started", "tcp", c, lambda: None)
    change("stopped", "udp", b, lambda: b.connect(("::1", 9)))  # connected: not listening
    change("stopped", "tcp", c, c.close)
    change("stopped", "tcp", before, before.close)  # known from the start, told at its stop
    b.close()
    status, rest, err = watch.stop(signal.SIGTERM)
    assert status == 0, (status, err)
    assert rest == "", f"more than the changes made: {rest!r}"
    assert seen == made, f"\nmade: {made}\nseen: {seen}"


def check_text_lines():
    watch = Watch("--interval", "50")
    s = listener("tcp", "127.0.0.1")
    port = s.getsockname()[1]
    started = watch.line().split()
    s.close()
    stopped = watch.line().split()
    owner = f"{own_command()}[{os.getpid()}]"
    for fields, sign in ((started, "+"), (stopped, "-")):
        assert fields[0].endswith("Z") and fields[1:3] == [sign, "tcp"], fields
        assert fields[3] == f"127.0.0.1:{port}" and owner in fields, (fields, owner)
    status, rest, err = watch.stop(signal.SIGINT)
    assert status == 0 and rest == "", (status, rest, err)


def check_usage_errors():
    for args, words in ((["--interval", "100"], "needs --watch"),
                        (["--watch", "--interval", "5"], "--interval '5'"),
                        (["--watch", "-A"], "this network namespace only"),
                        (["--watch", "--unregistered"], "--unregistered")):
        done = subprocess.run([rsap_path(), "listening", *args], capture_output=True, text=True)
        assert done.returncode == 2 and words in done.stderr, (args, done.returncode, done.stderr)
        assert done.stderr.count("\n") == 1 or "Try" in done.stderr, done.stderr


def main():
    status = in_new_netns(__file__, FLAG)
    if status is not None:
        return status
    check_usage_errors()
    check_json_sequence()
    check_text_lines()
    print("ok: --watch told every change, in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
