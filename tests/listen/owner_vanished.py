# SPDX-License-Identifier: MIT
"""A process that vanished between its descriptor and its comm/status is dropped.

Reproducer (before the fix): under process churn `rsap listening --json`
reported owners as {"command": "", "uid": 4294967295}, because the walk
recorded a process on its first matching descriptor link and then failed
to read its comm and status.  The churn test (owner_churn.py) meets that
moment only by chance; this one builds it: in a mount namespace of its
own, a tmpfs over /proc holds three "processes" whose fd/3 links to a real
listening socket's inode: one with neither comm nor status (it exited), one
with comm but no status (it exited between the two), one read whole.  Only
the whole one may be listed.  Sockets still come from the kernel (netlink
is not in the mount namespace), so the listing itself is real.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

from listen_common import SKIP, rsap_path

FLAG = "RSAP_TEST_FAKE_PROC"
VANISHED, HALF, WHOLE = 4000001, 4000002, 4000003


def make_process(pid, inode, comm=None, uid=None):
    os.makedirs(f"/proc/{pid}/fd")
    os.symlink(f"socket:[{inode}]", f"/proc/{pid}/fd/3")
    if comm is not None:
        with open(f"/proc/{pid}/comm", "w") as f:
            f.write(comm + "\n")
    if uid is not None:
        with open(f"/proc/{pid}/status", "w") as f:
            f.write(f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")


def inside(port, inode):
    real = tempfile.mkdtemp()
    try:
        return check(port, inode, real)
    finally:
        subprocess.run(["umount", "-l", real], capture_output=True)
        os.rmdir(real)


def check(port, inode, real):
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    # The real /proc stays reachable for rsap itself (its own pid, self):
    # sanitizer builds read their options and threads there.
    subprocess.run(["mount", "--rbind", "/proc", real], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "fakeproc", "/proc"], check=True)
    for name in ("self", "thread-self"):
        os.symlink(f"{real}/{name}", f"/proc/{name}")
    make_process(VANISHED, inode)
    make_process(HALF, inode, comm="half")
    make_process(WHOLE, inode, comm="whole", uid=4321)
    def own_proc_entry():  # in rsap's process, before it starts
        os.symlink(f"{real}/{os.getpid()}", f"/proc/{os.getpid()}")

    done = subprocess.run([rsap_path(), "listening", "--tcp", "--port", str(port), "--json"],
                          capture_output=True, text=True, preexec_fn=own_proc_entry)
    if done.returncode != 0:
        print(f"rsap listening exited {done.returncode}: {done.stderr}", file=sys.stderr)
        return SKIP if "sock_diag" in done.stderr or "/proc/net" in done.stderr else 1
    mine = [s for s in json.loads(done.stdout) if s["inode"] == inode]
    if len(mine) != 1:
        print(f"the socket (inode {inode}) is not listed once: {done.stdout}", file=sys.stderr)
        return 1
    owners = [(p["pid"], p["command"], p["uid"]) for p in mine[0]["processes"]]
    if owners != [(WHOLE, "whole", 4321)]:
        print(f"owners {owners}, expected only the process read whole", file=sys.stderr)
        return 1
    print("the vanished and the half-read process are dropped, the whole one listed")
    return 0


def main():
    if os.environ.get(FLAG):
        port, inode = (int(v) for v in os.environ[FLAG].split(":"))
        return inside(port, inode)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    flag = f"{sock.getsockname()[1]}:{os.fstat(sock.fileno()).st_ino}"
    for unshare in (["unshare", "-m"], ["unshare", "-r", "-m"]):
        if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            break
    else:
        print("skipped: no mount namespace allowed here", file=sys.stderr)
        return SKIP
    return subprocess.run([*unshare, sys.executable, os.path.abspath(__file__)],
                          env=dict(os.environ, **{FLAG: flag})).returncode


if __name__ == "__main__":
    sys.exit(main())
