# SPDX-License-Identifier: MIT
"""What the Python listen tests share: the listener helper and running rsap."""
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77  # meson's exit status for a skipped test


def rsap_path():
    path = os.environ.get("RSAP") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not path:
        raise SystemExit("set RSAP to the rsap program, or pass its path")
    return path


class Listener:
    """listener.py holding the given sockets; use as a context manager."""

    def __init__(self, *specs, prefix=(), script="listener.py"):
        self.specs = specs
        self.prefix = list(prefix)  # a command that execs the listener: `ip netns exec N`
        self.script = script
        self.proc = None
        self.sockets = []

    def __enter__(self):
        self.proc = subprocess.Popen([*self.prefix, sys.executable,
                                      os.path.join(HERE, self.script), *self.specs],
                                     stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if line.strip() == "ready":
                return self
            self.sockets.append(json.loads(line))
        self.proc.wait()
        raise SystemExit(f"{self.script} {' '.join(self.specs)} failed")

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        if self.proc:
            self.proc.stdout.close()


def run_rsap(*args):
    """(exit status, stdout, stderr) of rsap with args."""
    done = subprocess.run([rsap_path(), *args], capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"))
    return done.returncode, done.stdout, done.stderr


def rsap_json(*args):
    status, out, err = run_rsap(*args, "--json")
    if status not in (0, 1):
        raise AssertionError(f"rsap {' '.join(args)} --json exited {status}: {err}")
    return json.loads(out)


def bring_loopback_up():
    """Sets lo up, as `ip link set lo up` would (SIOCGIFFLAGS, SIOCSIFFLAGS)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def in_new_netns(script, env_flag):
    """Runs script again inside a new network namespace; returns its status,
    or SKIP when this system allows no namespace.  Inside (env_flag set), it
    brings lo up and returns None."""
    if os.environ.get(env_flag):
        bring_loopback_up()
        return None
    for unshare in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        probe = subprocess.run([*unshare, "true"], capture_output=True)
        if probe.returncode == 0:
            break
    else:
        print("skipped: no network namespace allowed here", file=sys.stderr)
        return SKIP
    return subprocess.run([*unshare, sys.executable, script, *sys.argv[1:]],
                          env=dict(os.environ, **{env_flag: "1"})).returncode
