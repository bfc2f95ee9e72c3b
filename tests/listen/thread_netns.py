#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A process one of whose threads alone is in a network namespace of its own.

The thread calls unshare(CLONE_NEWNET), which moves only the calling thread,
brings lo up there and opens a TCP listener on 127.0.0.1 on a port the kernel
picks; nothing but /proc/PID/task/TID/ns/net leads to that namespace.  Prints
{"inode", "port", "tid"}, then "ready", and waits for SIGTERM.
"""
import ctypes
import json
import os
import signal
import socket
import sys
import threading

from listen_common import bring_loopback_up

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def hold(ready, done):
    if libc.unshare(CLONE_NEWNET) != 0:
        ready.append(None)
        done.set()
        return
    bring_loopback_up()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    ready.append({"inode": os.fstat(s.fileno()).st_ino, "port": s.getsockname()[1],
                  "tid": threading.get_native_id(), "socket": s})
    done.set()
    threading.Event().wait()


def main():
    ready, done = [], threading.Event()
    threading.Thread(target=hold, args=(ready, done), daemon=True).start()
    done.wait()
    if ready[0] is None:
        raise SystemExit("thread_netns.py: unshare refused")
    print(json.dumps({k: v for k, v in ready[0].items() if k != "socket"}))
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
