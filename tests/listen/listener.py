#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Opens sockets for the listen tests and holds them until it is killed.

    listener.py SPEC...

Each SPEC is PROTO,ADDRESS[,OPTION...]: PROTO is tcp or udp, ADDRESS an IP
address to bind to, and the options are

    port=N        bind to port N rather than one the kernel picks
    reuseport=N   N sockets sharing the port through SO_REUSEPORT
    v6only        set IPV6_V6ONLY
    shared        opened before a fork(), so a child holds it as well
    child         opened by the child alone

The process calls itself "rsap-listener" and its child "rsap-kid" (as
/proc/PID/comm shows them).  Once every socket is open it prints one JSON
object per socket, {"protocol", "address", "port", "inode", "pids",
"commands"}, then the line "ready", and waits for SIGTERM, SIGINT or the
death of its parent.
"""
import ctypes
import json
import os
import signal
import socket
import sys

PARENT_NAME = "rsap-listener"
CHILD_NAME = "rsap-kid"
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)


def set_name(name):
    libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0)


def parse_spec(text):
    proto, address, *options = text.split(",")
    spec = {"protocol": proto, "address": address, "port": 0, "count": 1,
            "v6only": False, "holder": "parent"}
    for option in options:
        name, _, value = option.partition("=")
        if name == "port":
            spec["port"] = int(value)
        elif name == "reuseport":
            spec["count"] = int(value)
        elif name == "v6only":
            spec["v6only"] = True
        elif name in ("shared", "child"):
            spec["holder"] = name
        else:
            raise SystemExit(f"listener.py: unknown option {option!r}")
    return spec


def open_sockets(spec):
    """The spec's sockets, bound (and listening for TCP); a list of dicts."""
    family = socket.AF_INET6 if ":" in spec["address"] else socket.AF_INET
    kind = socket.SOCK_STREAM if spec["protocol"] == "tcp" else socket.SOCK_DGRAM
    port = spec["port"]
    opened = []
    for _ in range(spec["count"]):
        s = socket.socket(family, kind)
        if spec["count"] > 1:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if spec["v6only"] else 0)
        s.bind((spec["address"], port))
        if kind == socket.SOCK_STREAM:
            s.listen(8)
        port = s.getsockname()[1]
        opened.append({"socket": s, "protocol": spec["protocol"],
                       "address": spec["address"], "port": port,
                       "inode": os.fstat(s.fileno()).st_ino})
    return opened


def describe(entry, pids, commands):
    return {"protocol": entry["protocol"], "address": entry["address"], "port": entry["port"],
            "inode": entry["inode"], "pids": pids, "commands": commands}


def run_child(specs, report_fd, parent):
    set_name(CHILD_NAME)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    mine = [entry for spec in specs if spec["holder"] == "child" for entry in open_sockets(spec)]
    with os.fdopen(report_fd, "w") as report:
        for entry in mine:
            report.write(json.dumps(describe(entry, [os.getpid()], [CHILD_NAME])) + "\n")
    while True:
        signal.pause()


def main(argv):
    specs = [parse_spec(text) for text in argv[1:]]
    set_name(PARENT_NAME)
    shared = [entry for spec in specs if spec["holder"] == "shared" for entry in open_sockets(spec)]
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(read_fd)
        run_child(specs, write_fd, parent)
    os.close(write_fd)

    def stop(_signum, _frame):
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    own = [entry for spec in specs if spec["holder"] == "parent" for entry in open_sockets(spec)]
    with os.fdopen(read_fd) as report:
        from_child = [json.loads(line) for line in report]
    out = [describe(e, [parent], [PARENT_NAME]) for e in own]
    holders = sorted([(parent, PARENT_NAME), (child, CHILD_NAME)])
    out += [describe(e, [p for p, _ in holders], [c for _, c in holders]) for e in shared]
    out += from_child
    if os.waitpid(child, os.WNOHANG)[0] != 0:
        raise SystemExit("listener.py: the child could not open its sockets")
    for item in out:
        print(json.dumps(item))
    print("ready", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv)
