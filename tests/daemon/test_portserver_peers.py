#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The port server against a local user who is not root, each attack
reproduced first (rsapd --portserver /run/rsap/portserver, then as any user):

- the pid was the client's word:
      printf '2\\n' | socat - UNIX:/run/rsap/portserver     # kthreadd
      printf '%d\\n' $(pidof rsapd) | socat - UNIX:/run/rsap/portserver
  each answered a port leased for 24 h to a process the user does not own;
  ten such pids drained 15000-24999.  Now a client may name itself or a
  process of its own uid; root may name any.
- no limit per uid: one user's processes could hold the whole pool.  Now
  --portserver-leases-per-uid.
- 256 silent connections (for i in $(seq 256); do socat - UNIX:... & done)
  locked everyone out: the rest got "0" at once.  Now a connection counts
  against its uid's --portserver-clients-per-uid only, and a silent one is
  dropped after a second.
- the socket's mode was always 0666 and set by chmod() after bind(), by
  name; now --portserver-mode, set as the socket is made.

Needs a second uid: run as root, the test makes a system user for itself
(and removes it); otherwise it is skipped (77).  Debian's python3-portpicker
is the client where the protocol is what is tested."""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from rsapd_harness import Checks, Rsapd, own_network_namespace, unassigned_ports

c = Checks("portserver-peers")
USER = "rsap-ps-test"
LEASES_PER_UID = 3
CLIENTS_PER_UID = 8

ASK = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])  # blocking, as portpicker's
except OSError as e:
    print("connect:", e.strerror, flush=True)
    sys.exit(0)
s.settimeout(10)
s.sendall(sys.argv[2].encode() + b"\n")
print(s.recv(64).decode().strip(), flush=True)
"""

# Keeps up to N silent connections open (reopening those the server drops)
# until its stdin closes; prints "ready" once the first N are open and, at
# the end, how many were answered "0" at once.
CROWD = r"""
import os, select, socket, sys
address, n = sys.argv[1], int(sys.argv[2])
conns, refused = [], 0
def fill():
    while len(conns) < n:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(address)
        except OSError:  # a full backlog: try again on the next round
            s.close()
            return
        conns.append(s)
fill()
print("ready", flush=True)
while True:
    ready, _, _ = select.select([sys.stdin] + conns, [], [], 1.0)
    if sys.stdin in ready:
        break
    for s in ready:
        if s.recv(16) == b"0\n":
            refused += 1
        conns.remove(s)
        s.close()
    fill()
for s in conns:  # what the server said to those still open
    s.settimeout(5)
    try:
        refused += s.recv(16) == b"0\n"
    except OSError:
        pass
print(refused, flush=True)
"""

PORTPICKER = r"""
import os, portpicker
print(portpicker.pick_unused_port(), os.getpid(), flush=True)
"""


def make_user():
    """The second uid: (uid, created by us)."""
    try:
        return pwd.getpwnam(USER).pw_uid, False
    except KeyError:
        pass
    p = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        USER], capture_output=True)
    if p.returncode != 0:
        print(f"skipped: useradd: {p.stderr.decode().strip()}")
        sys.exit(77)
    return pwd.getpwnam(USER).pw_uid, True


def as_user(uid, script, *args, **kw):
    return subprocess.Popen(["/usr/bin/python3", "-c", script, *map(str, args)], user=uid,
                            group=pwd.getpwuid(uid).pw_gid, extra_groups=[],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", **kw)


def ask_as(uid, address, pid):
    p = as_user(uid, ASK, address, pid)
    out, _ = p.communicate(timeout=30)
    return out.decode().strip()


def ask(address, pid):
    """As this process (root)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            # A blocking connect, as portpicker's: it waits while the
            # backlog is full instead of failing with EAGAIN.
            s.connect(address)
            s.settimeout(10)
            s.sendall(b"%d\n" % pid)
        except OSError as e:
            # The server may answer and close before reading the line.
            if not isinstance(e, BrokenPipeError):
                return f"error: {e.strerror}"
        return s.recv(64).decode().strip()


def is_port(answer, pool):
    return answer.isdigit() and int(answer) in pool


def wait_for_leases(d, want, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, _, body = d.get("/metrics")
        if re.search(rb"^rsapd_leases %d$" % want, body, re.M):
            return True
        time.sleep(0.05)
    return False


def wait_for_log(d, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in d.log_text():
            return True
        time.sleep(0.05)
    return False


def foreign_pids(d, address, uid, pool):
    root_sleeper = subprocess.Popen(["sleep", "60"])
    for pid, what in ((2, "pid 2 (kthreadd)"), (d.proc.pid, "rsapd's own pid"),
                      (os.getpid(), "root's process (this test)"),
                      (root_sleeper.pid, "another root process")):
        c.equal(ask_as(uid, address, pid), "0", f"another uid gets nothing for {what}")
    c.check(wait_for_log(d, "not the client's own process"), "the log says why")
    own = as_user(uid, "import sys; sys.stdin.read()")
    answer = ask_as(uid, address, own.pid)
    c.check(is_port(answer, pool), f"a process of the client's own uid gets a port: {answer!r}")
    answer = ask(address, own.pid)
    c.check(is_port(answer, pool), f"root may name another uid's process: {answer!r}")
    answer = ask(address, root_sleeper.pid)
    c.check(is_port(answer, pool), f"and its own: {answer!r}")
    own.stdin.close()
    own.wait(10)
    root_sleeper.kill()
    root_sleeper.wait()


def per_uid_leases(d, address, uid, pool):
    holder = as_user(uid, "import sys; sys.stdin.read()")
    answers = [ask_as(uid, address, holder.pid) for _ in range(LEASES_PER_UID + 1)]
    c.check(all(is_port(a, pool) for a in answers[:LEASES_PER_UID]),
            f"a uid gets --portserver-leases-per-uid ports: {answers}")
    c.equal(answers[-1], "0", "and no more")
    c.check(wait_for_log(d, "as many as one uid may"), "the log names the limit")
    root_holder = subprocess.Popen(["sleep", "60"])
    c.check(is_port(ask(address, root_holder.pid), pool), "another uid still gets ports")
    holder.stdin.close()
    holder.wait(10)
    root_holder.kill()
    root_holder.wait()


def silent_crowd(d, address, uid, pool):
    crowd = as_user(uid, CROWD, address, 300)
    c.equal(crowd.stdout.readline().strip(), b"ready", "300 silent connections from one uid")
    root_holder = subprocess.Popen(["sleep", "60"])
    answers = [ask(address, root_holder.pid) for _ in range(2)]
    c.check(all(is_port(a, pool) for a in answers),
            f"while they are held, another uid's requests get real ports: {answers}")
    crowd.stdin.close()
    refused = crowd.stdout.readline().strip()
    crowd.wait(30)
    # Held ones time out after a second and free their slots, so a few more
    # than the limit may be held over the run.
    c.check(refused.isdigit() and int(refused) >= 250,
            f"the crowd's connections beyond its uid's limit were answered 0 ({refused!r})")
    root_holder.kill()
    root_holder.wait()


def portpicker_as_user(address, uid, pool):
    if subprocess.run(["/usr/bin/python3", "-c", "import portpicker"]).returncode != 0:
        c.skip("portpicker as another uid: python3-portpicker is not installed")
        return
    p = as_user(uid, PORTPICKER, env=dict(os.environ, PORTSERVER_ADDRESS=address))
    out, _ = p.communicate(timeout=30)
    port = out.split()[0].decode() if out.split() else ""
    c.check(is_port(port, pool), f"portpicker, unchanged, as the other uid gets a port: {out!r}")


def socket_file(tmp, uid):
    sock_dir = os.path.join(tmp, "run")
    os.mkdir(sock_dir, 0o755)
    address = os.path.join(sock_dir, "portserver")
    with Rsapd("--portserver", address, "--portserver-mode", "0660") as d:
        st = os.lstat(address)
        c.equal(oct(st.st_mode & 0o777), oct(0o660), "--portserver-mode 0660 is the socket's mode")
        c.check(ask_as(uid, address, 1).startswith("connect:"),
                "a uid outside the socket's group cannot connect")
        c.check(is_port(ask(address, d.proc.pid), range(15000, 25000)), "its owner can")
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("keep\n")
    os.chmod(victim, 0o600)
    os.symlink(victim, address)
    argv = [os.environ["RSAPD"], "--db-dir", os.path.join(tmp, "db"), "--listen", "127.0.0.1:0",
            "--portserver", address]
    p = subprocess.run(argv, capture_output=True, timeout=30)
    c.check(p.returncode != 0 and b"cannot start the port server" in p.stderr,
            f"a symlink planted at the path is refused: {p.returncode} {p.stderr[-200:]!r}")
    c.check(os.path.islink(address) and (os.stat(victim).st_mode & 0o777) == 0o600,
            "and neither it nor its target is changed")
    os.unlink(address)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(address)
    stale.close()
    with Rsapd("--portserver", address) as d:
        c.check(is_port(ask(address, d.proc.pid), range(15000, 25000)),
                "a stale socket is replaced")
        c.equal(oct(os.lstat(address).st_mode & 0o777), oct(0o666), "by default mode 0666")


def main():
    own_network_namespace()  # its ports are free in there, whatever the host runs
    if os.geteuid() != 0:
        print("skipped: needs root to run clients as a second uid")
        sys.exit(77)
    uid, created = make_user()
    tmp = tempfile.mkdtemp(prefix="rsapd-peers-")
    try:
        os.chmod(tmp, 0o755)
        probe = Rsapd()
        pool = unassigned_ports(probe.db_dir, 30, contiguous=True)
        probe.tmp.cleanup()
        address = os.path.join(tmp, "portserver")
        with Rsapd("--portserver", address, "--portserver-range", f"{pool[0]}-{pool[-1]}",
                   "--portserver-leases-per-uid", str(LEASES_PER_UID),
                   "--portserver-clients-per-uid", str(CLIENTS_PER_UID)) as d:
            foreign_pids(d, address, uid, pool)
            c.check(wait_for_leases(d, 0), "the leases end with their processes")
            per_uid_leases(d, address, uid, pool)
            c.check(wait_for_leases(d, 0), "and again")
            silent_crowd(d, address, uid, pool)
            portpicker_as_user(address, uid, pool)
            c.check(d.alive(), "rsapd is up")
        socket_file(tmp, uid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            subprocess.run(["userdel", USER], capture_output=True)
    c.finish()


if __name__ == "__main__":
    main()
