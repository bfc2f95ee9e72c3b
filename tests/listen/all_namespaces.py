#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`rsap listening --all-namespaces` and `--netns` against namespaces made here.

Two named namespaces (`ip netns add`) and one that only its process holds
(`unshare -n`), each with listeners of its own on ports the kernel picks:
`-A --json` must hold exactly the sockets `ss -ltune` shows in each, labelled
with that namespace; `--netns` must select one, by name, pid or path; `who
-A` must find a port of another namespace.  Then namespaces that come and go
during the walk, which must never make it fail or lose one that stayed; and
a run as nobody, which must say in one line what it could not read.  Needs
root (skipped, 77, without it or without `ip netns`).

    all_namespaces.py [RSAP]     (or RSAP in the environment)
"""
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import threading

from listen_common import SKIP, Listener, rsap_json, rsap_path, run_rsap

SPECS = ["tcp,127.0.0.1", "tcp,::1,v6only", "udp,127.0.0.1", "udp,::1", "tcp,127.0.0.1,shared"]
LO_UP_THEN = ["sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
CHURN_ROUNDS = 12
CHURNERS = 4
HOLDERS = 80    # namespaces held by sleeping processes, more than
FEW_FILES = 64  # the descriptors rsap is then allowed

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def ss_inodes(prefix):
    """The inodes of the listening and bound sockets ss sees, run under prefix."""
    out = subprocess.run([*prefix, "ss", "-H", "-ltune"], capture_output=True, text=True,
                         check=True).stdout
    return {int(n) for n in re.findall(r"\bino:(\d+)", out)}


def by_netns(listed, inode):
    return {s["inode"] for s in listed if s["netns"] and s["netns"]["inode"] == inode}


def check_named(listed, name, listener):
    inode = os.stat(f"/run/netns/{name}").st_ino
    got = by_netns(listed, inode)
    check(got == ss_inodes(["ip", "netns", "exec", name]), f"{name}: not what ss shows")
    check(got == {s["inode"] for s in listener.sockets}, f"{name}: not the listener's sockets")
    for s in listed:
        if s["inode"] in got:
            check(s["netns"]["name"] == name, f"{name}: socket {s['inode']} named {s['netns']}")
            pids = [p["pid"] for p in s["processes"]]
            check(listener.proc.pid in pids, f"{name}: socket {s['inode']} held by {pids}")


def check_unnamed(listed, listener):
    pid = listener.proc.pid
    inode = os.stat(f"/proc/{pid}/ns/net").st_ino
    got = by_netns(listed, inode)
    check(got == ss_inodes(["nsenter", "-t", str(pid), "-n"]), "unnamed: not what ss shows")
    check(got == {s["inode"] for s in listener.sockets}, "unnamed: not the listener's sockets")
    check(all(s["netns"]["name"] is None for s in listed if s["inode"] in got),
          "unnamed: a namespace nothing names has a name")


def check_own_and_once(listed, here):
    """Our own namespace's listener among the rest, and every socket once: the
    host's other sockets come and go as they will, so only ours are counted."""
    own = os.stat("/proc/self/ns/net").st_ino
    check({s["inode"] for s in here.sockets} <= by_netns(listed, own), "the own namespace")
    inodes = [s["inode"] for s in listed]
    check(len(inodes) == len(set(inodes)), "a socket listed twice")


def check_thread(thread_holder):
    """A namespace only a thread is in, found through /proc/PID/task/TID."""
    held = thread_holder.sockets[0]
    listed = rsap_json("listening", "-A", "--port", str(held["port"]), "--tcp")
    netns = os.stat(f"/proc/{thread_holder.proc.pid}/task/{held['tid']}/ns/net").st_ino
    check(by_netns(listed, netns) == {held["inode"]}, f"the thread's namespace: {listed}")


def check_one(spec, listener, inode):
    listed = rsap_json("listening", "--netns", spec)
    check({s["inode"] for s in listed} == {s["inode"] for s in listener.sockets},
          f"--netns {spec}: {sorted(s['inode'] for s in listed)}")
    check(all(s["netns"]["inode"] == inode for s in listed), f"--netns {spec}: other namespaces")


def check_selection(names, listeners, unnamed):
    for name, listener in zip(names, listeners):
        inode = os.stat(f"/run/netns/{name}").st_ino
        check_one(name, listener, inode)
        check_one(f"/run/netns/{name}", listener, inode)
    check_one(str(unnamed.proc.pid), unnamed, os.stat(f"/proc/{unnamed.proc.pid}/ns/net").st_ino)
    status, _, err = run_rsap("listening", "--netns", "rsap-no-such-namespace")
    check(status == 2 and "no such network namespace" in err, f"--netns missing: {status} {err}")
    status, _, err = run_rsap("listening", "--netns", "/etc/hostname")
    check(status == 2 and "not a network namespace" in err, f"--netns a file: {status} {err}")


def check_text_and_who(names, listeners):
    status, out, _ = run_rsap("listening", "-A")
    header = out.splitlines()[0].split() if out else []
    check(status == 0 and header[:1] == ["NETNS"], f"-A: no NETNS column: {header}")
    rows = [line.split() for line in out.splitlines()[1:]]
    for name in names:
        check(any(row[0] == name for row in rows), f"-A: no row of {name}")
    tcp = next(s for s in listeners[0].sockets if s["protocol"] == "tcp")
    who = rsap_json("who", "-A", f"{tcp['port']}/tcp")
    check(tcp["inode"] in {s["inode"] for s in who}, f"who -A {tcp['port']}: {who}")
    status, out, _ = run_rsap("who", "--all-namespaces", f"{tcp['port']}/tcp")
    check(status == 0 and names[0] in out and "rsap-listener" in out, f"who -A text: {out!r}")


def container_cgroup():
    """A cgroup folder named as docker names a container's, to put a process
    in: (the hierarchy's root, the folder, the id, folders to remove after),
    or None where cgroups may not be made.  cgroup v1's pids hierarchy where
    there is one, as cgroupfs's /docker/ID; else v2's root, as systemd's
    docker-ID.scope."""
    container = secrets.token_hex(32)
    v1 = "/sys/fs/cgroup/pids"
    root = v1 if os.path.isdir(v1) else "/sys/fs/cgroup"
    base = os.path.join(v1, "docker") if root == v1 else root
    folder = os.path.join(base, container if base.endswith("docker") else
                          f"docker-{container}.scope")
    made = []
    try:
        for path in (base, folder):
            if not os.path.isdir(path):
                os.mkdir(path)
                made.append(path)
    except OSError:
        return None
    return root, folder, container, made[::-1]


def check_container(unnamed):
    """An owner in a container-like cgroup: its id, and none for the rest."""
    found = container_cgroup()
    if not found:
        print("note: no cgroup could be made; container ids not checked", file=sys.stderr)
        return
    root, folder, container, made = found
    pid = unnamed.proc.pid
    try:
        with open(os.path.join(folder, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))
        listed = rsap_json("listening", "--netns", str(pid))
        owners = [p for s in listed for p in s["processes"]]
        check(owners and all(p["container"] == (container if p["pid"] == pid else None)
                             for p in owners), f"containers: {owners}")
    finally:
        with open(os.path.join(root, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))
        for path in made:
            os.rmdir(path)


def churn(stop):
    """Namespaces made and dropped as fast as unshare can, until stop is set."""
    while not stop.is_set():
        subprocess.run(["unshare", "-n", "true"])


def check_churn(stable):
    """-A while namespaces come and go: never an error, never a stable one missing."""
    stop = threading.Event()
    threads = [threading.Thread(target=churn, args=(stop,)) for _ in range(CHURNERS)]
    want = {s["inode"] for listener in stable for s in listener.sockets}
    for t in threads:
        t.start()
    try:
        for round_ in range(CHURN_ROUNDS):
            status, out, err = run_rsap("listening", "-A", "--json")
            check(status == 0, f"churn round {round_}: exit {status}: {err}")
            listed = {s["inode"] for s in json.loads(out)} if status == 0 else set()
            check(want <= listed, f"churn round {round_}: missing {sorted(want - listed)}")
            # Named namespaces removed and made again meanwhile as well.
            subprocess.run(["ip", "netns", "add", f"rsapchurn{os.getpid()}"], check=True)
            subprocess.run(["ip", "netns", "del", f"rsapchurn{os.getpid()}"], check=True)
    finally:
        stop.set()
        for t in threads:
            t.join()


def check_descriptor_limit(want):
    """More namespaces than rsap may hold descriptors: each is opened only
    while it is read, so all are still listed."""
    holders = [subprocess.Popen(["unshare", "-n", "sleep", "600"]) for _ in range(HOLDERS)]
    try:
        # unshare has made the namespace once its pid's ns file is another.
        own = os.stat("/proc/self/ns/net").st_ino
        for h in holders:
            while os.stat(f"/proc/{h.pid}/ns/net").st_ino == own:
                os.sched_yield()
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (FEW_FILES, FEW_FILES))
        done = subprocess.run([rsap_path(), "listening", "-A", "--json"], capture_output=True,
                              text=True, preexec_fn=limit)
        check(done.returncode == 0, f"-A with {FEW_FILES} descriptors: {done.stderr}")
        listed = {s["inode"] for s in json.loads(done.stdout)} if done.returncode == 0 else set()
        check(want <= listed, f"-A with {FEW_FILES} descriptors: {sorted(want - listed)}")
    finally:
        for h in holders:
            h.kill()
            h.wait()


def check_nobody(names, here):
    # A clone in root's home (/root is 0700, as in a fresh Debian root) is
    # closed to nobody: tools/unprivileged-tests opens it only for its run.
    if subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c", f"test -x '{rsap_path()}'"]).returncode:
        print(f"SKIP: as nobody: nobody may not run {rsap_path()} (a directory above it is closed)")
        return
    done = subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c",
                           f"NO_COLOR=1 '{rsap_path()}' listening -A --json"],
                          capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if "namespace" in line]
    check(done.returncode in (0, 1), f"as nobody: exit {done.returncode}: {done.stderr}")
    check(len(lines) == 1, f"as nobody: not one line about namespaces: {lines}")
    entered = re.search(r"(\d+) network namespaces? could not be entered", lines[0] if lines else "")
    check(entered and int(entered.group(1)) >= len(names), f"as nobody: {lines}")
    listed = json.loads(done.stdout) if done.returncode in (0, 1) else []
    named = {os.stat(f"/run/netns/{n}").st_ino for n in names}
    own = os.stat("/proc/self/ns/net").st_ino
    check({s["inode"] for s in here.sockets} <= by_netns(listed, own),
          "as nobody: not its own namespace's sockets")
    one = subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c",
                          f"'{rsap_path()}' listening --netns {names[0]}"],
                         capture_output=True, text=True)
    check(one.returncode == 2 and "may not enter that network namespace" in one.stderr,
          f"--netns as nobody: {one.returncode} {one.stderr!r}")
    check(not any(s["netns"] and s["netns"]["inode"] in named for s in listed),
          "as nobody: sockets of namespaces it cannot enter")


def make_named(names):
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)


def main():
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "ss", "nsenter", "su")):
        print("skipped: needs root, ip, ss, nsenter and su", file=sys.stderr)
        return SKIP
    names = [f"rsaptest{os.getpid()}{tag}" for tag in ("a", "b")]
    try:
        make_named(names)
    except (subprocess.CalledProcessError, OSError):
        print("skipped: ip netns add is not allowed here", file=sys.stderr)
        return SKIP
    try:
        with Listener(*SPECS, prefix=["ip", "netns", "exec", names[0]]) as a, \
             Listener(*SPECS, prefix=["ip", "netns", "exec", names[1]]) as b, \
             Listener(*SPECS, prefix=["unshare", "-n", *LO_UP_THEN]) as unnamed, \
             Listener("tcp,127.0.0.1", "udp,127.0.0.1") as here, \
             Listener(script="thread_netns.py") as thread_holder:
            listed = rsap_json("listening", "-A")
            check_named(listed, names[0], a)
            check_named(listed, names[1], b)
            check_unnamed(listed, unnamed)
            check_own_and_once(listed, here)
            check_thread(thread_holder)
            check_container(unnamed)
            check_selection(names, [a, b], unnamed)
            check_text_and_who(names, [a, b])
            check_churn([a, b, unnamed])
            check_descriptor_limit({s["inode"] for x in (a, b, unnamed) for s in x.sockets})
            check_nobody(names, here)
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
