#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Container names from Docker's and Podman's APIs, and `--container`.

A listener in a network namespace of its own is put in a cgroup named as a
runtime names a container's (so its cgroup path gives rsap the id), and rsap
is pointed at runtimes through RSAP_CONTAINER_SOCKETS:

- servers of this test's own on Unix sockets: one that answers Docker's
  `GET /containers/json` with the listener's id among others, one that
  accepts and never answers, one that answers garbage, one that answers a
  JSON object: the name must come from the first (even beside the hanging
  one), the id alone from the others, within `timeout 10`, with one line on
  stderr; `--container NAME`, `--container ID-PREFIX` and `who --container`
  must select the listener's sockets, and another name none;
- real Podman, where it is installed: `podman system service` on a socket of
  the test's, with a store of its own, and a container made there from a
  rootfs of busybox-static: rsap must name the listener after it.  Where
  Podman can also run that container (`podman run -p 127.0.0.1:PORT:80`),
  its published port's socket must be named too; where it cannot (no
  rlimits or cgroups for crun in a sandbox), that part says so and is left.

Needs root and a cgroup that may be made: in the host's hierarchy, else in
cgroup v2's mounted on a folder of the test's (CI's fresh root has no
/sys/fs/cgroup; CONTAINER_NAMES_MOUNT_CGROUP=1 takes that way here too);
skipped, 77, without.

    container_names.py [RSAP]     (or RSAP in the environment)
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from listen_common import HERE, SKIP, Listener, rsap_path

sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from rsapd_harness import RSAPD, Rsapd  # noqa: E402

LO_UP_THEN = ["sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
HINT = "gave no container names"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def rsap(sockets, *args):
    """(status, stdout, stderr) of rsap asking the runtimes at sockets, under timeout 10."""
    env = dict(os.environ, NO_COLOR="1", RSAP_CONTAINER_SOCKETS=":".join(sockets))
    done = subprocess.run(["timeout", "10", rsap_path(), *args], capture_output=True, text=True,
                          env=env)
    return done.returncode, done.stdout, done.stderr


def owners_of(listed, pid):
    return [p for s in listed for p in s["processes"] if p["pid"] == pid]


# ---- runtimes of the test's own --------------------------------------------


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def serve(path, answer):
    """A server on the Unix socket path, in a thread: answer(request) gives the
    response's bytes, or None to hold the connection open and never answer."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(16)
    held = []

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            body = answer(read_request(conn))
            if body is None:
                held.append(conn)
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return server


def docker_answer(containers):
    def answer(request):
        check(request.startswith(b"GET /containers/json"), f"runtime asked {request[:60]!r}")
        return json.dumps([{"Id": i, "Names": [f"/{n}"], "State": "running"}
                           for i, n in containers]).encode()
    return answer


# ---- a process in a container's cgroup ----------------------------------------


CGROUP_ROOT = None


def may_make_cgroup(root):
    try:
        os.rmdir(tempfile.mkdtemp(dir=root))
        return True
    except OSError:
        return False


def find_cgroup_root(tmp):
    """cgroup v1's pids hierarchy where there is one, else v2's root; where
    neither may be written (a chroot without /sys/fs/cgroup, as CI's fresh
    root), the v2 hierarchy mounted on a folder of tmp: /proc/PID/cgroup names
    the same path wherever it is mounted.  None when no cgroup may be made."""
    global CGROUP_ROOT
    for root in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        if (not os.environ.get("CONTAINER_NAMES_MOUNT_CGROUP") and os.path.isdir(root)
                and may_make_cgroup(root)):
            CGROUP_ROOT = root
            return root
    mount = os.path.join(tmp, "cgroup2")
    os.mkdir(mount)
    if subprocess.run(["mount", "-t", "cgroup2", "none", mount]).returncode == 0:
        if may_make_cgroup(mount):
            CGROUP_ROOT = mount
            return mount
        subprocess.run(["umount", mount])
    return None


def cgroup_root():
    return CGROUP_ROOT


class InCgroup:
    """pid moved into the cgroup folder root/relative (folders made as needed)
    for the block's time, then back to the root, the folders removed."""

    def __init__(self, pid, relative):
        self.pid, self.root = pid, cgroup_root()
        self.folder = os.path.join(self.root, relative)
        self.made = []

    def __enter__(self):
        path = self.root
        for part in os.path.relpath(self.folder, self.root).split("/"):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.made.append(path)
        with open(os.path.join(self.folder, "cgroup.procs"), "w") as procs:
            procs.write(str(self.pid))
        return self

    def __exit__(self, *exc):
        with open(os.path.join(self.root, "cgroup.procs"), "w") as procs:
            procs.write(str(self.pid))
        for path in reversed(self.made):
            os.rmdir(path)


def check_fake_runtimes(tmp, listener):
    pid = listener.proc.pid
    container, name = secrets.token_hex(32), f"web-{secrets.token_hex(3)}"
    ok, hang, bad, obj = (os.path.join(tmp, f"{n}.sock") for n in ("ok", "hang", "bad", "obj"))
    servers = [serve(ok, docker_answer([(secrets.token_hex(32), "decoy"), (container, name)])),
               serve(hang, lambda request: None),
               serve(bad, lambda request: b'[{"Id": "' + container.encode() + b'", "Na'),
               serve(obj, lambda request: b'{"message": "page not found"}')]
    inodes = {s["inode"] for s in listener.sockets}
    with InCgroup(pid, f"docker/{container}" if cgroup_root().endswith("pids")
                  else f"docker-{container}.scope"):
        status, out, err = rsap([ok], "listening", "--netns", str(pid), "--json")
        owners = owners_of(json.loads(out), pid) if status == 0 else []
        check(owners and all(o["container"] == container and o["container_name"] == name
                             for o in owners), f"named by the runtime: {status} {owners} {err}")
        check(HINT not in err, f"a runtime that answered is called silent: {err!r}")
        status, out, err = rsap([ok], "listening", "--netns", str(pid))
        check(status == 0 and "CONTAINER" in out.splitlines()[0] and name in out,
              f"text: no CONTAINER column naming {name}: {out!r}")

        for spec in (name, container[:7], container):
            status, out, err = rsap([ok], "listening", "--container", spec, "--json")
            got = {s["inode"] for s in json.loads(out)} if status == 0 else set()
            check(got == inodes, f"--container {spec}: {status} {got} != {inodes} {err}")
        status, out, err = rsap([ok], "listening", "--container", "no-such-container")
        check(status == 1 and out == "", f"--container of none: {status} {out!r}")
        port = listener.sockets[0]["port"]
        status, out, err = rsap([ok], "who", f"{port}/tcp", "--container", name)
        check(status == 0 and name in out, f"who --container: {status} {out!r} {err!r}")

        for what, sockets in (("hanging", [hang]), ("garbage", [bad]), ("an object", [obj])):
            status, out, err = rsap(sockets, "listening", "--netns", str(pid))
            check(status == 0 and container[:12] in out and name not in out,
                  f"{what}: not the id alone: {status} {out!r}")
            check(err.count(HINT) == 1, f"{what}: stderr does not say so once: {err!r}")
        status, out, err = rsap([hang, ok], "listening", "--netns", str(pid))
        check(status == 0 and name in out, f"a hanging runtime beside one that answers: {out!r}")
        os.chown(ok, 65534, 65534)  # now a user's runtime: it may not name root's processes
        status, out, err = rsap([ok], "listening", "--netns", str(pid))
        check(status == 0 and container[:12] in out and name not in out,
              f"nobody's runtime names a process of root's: {out!r}")
        os.chown(ok, 0, 0)
        status, out, err = rsap([os.path.join(tmp, "none.sock"), tmp], "listening",
                                "--netns", str(pid))
        check(status == 0 and container[:12] in out and HINT not in err,
              f"no socket there: {status} {out!r} {err!r}")
        check_rsapd(ok, listener, container, name)
    status, out, err = rsap([hang], "listening", "--netns", str(pid), "--json")
    check(status == 0 and all(o["container"] is None for o in owners_of(json.loads(out), pid)),
          "out of the cgroup: still in a container")
    check(HINT not in err, f"runtimes asked with no container listed: {err!r}")
    for server in servers:
        server.close()


def check_rsapd(runtime, listener, container, name):
    """/v1/listening?all_namespaces=1 and ?container= as rsap answers them, and
    the /listening page's NETNS and CONTAINER columns."""
    if not RSAPD:
        print("SKIP: RSAPD is not set: rsapd's ?container= is not checked", file=sys.stderr)
        return
    inodes = {s["inode"] for s in listener.sockets}
    netns = os.stat(f"/proc/{listener.proc.pid}/ns/net").st_ino
    with Rsapd("--owners", "all", env={"RSAP_CONTAINER_SOCKETS": runtime}) as d:
        status, listed = d.get_json("/v1/listening?all_namespaces=1")
        got = {s["inode"] for s in listed if s["netns"] and s["netns"]["inode"] == netns}
        check(status == 200 and got == inodes, f"rsapd ?all_namespaces=1: {status} {got}")
        status, own = d.get_json("/v1/listening")
        check(status == 200 and not inodes & {s["inode"] for s in own},
              "rsapd without all_namespaces lists another namespace's sockets")
        status, listed = d.get_json(f"/v1/listening?container={name}")
        owners = [p for s in listed for p in s["processes"]] if status == 200 else []
        check(status == 200 and {s["inode"] for s in listed} == inodes and owners and
              all(p["container_name"] == name for p in owners),
              f"rsapd ?container={name}: {status} {listed}")
        status, listed = d.get_json(f"/v1/listening?container={container[:9]}&proto=udp")
        check(status == 200 and [s["protocol"] for s in listed] == ["udp"],
              f"rsapd ?container=ID&proto=udp: {status} {listed}")
        for query, want in (("container=", 400), ("container=web&processes=no", 400),
                            ("all_namespaces=maybe", 400)):
            status, _, _ = d.get(f"/v1/listening?{query}")
            check(status == want, f"rsapd ?{query}: {status}, wanted {want}")
        status, _, page = d.get("/listening?all_namespaces=1")
        page = page.decode()
        check(status == 200 and "<th>netns</th>" in page and "<th>container</th>" in page and
              f">{name}<" in page, f"/listening?all_namespaces=1: no NETNS or CONTAINER column")
        status, _, page = d.get("/listening")
        page = page.decode()
        check(status == 200 and "<th>port</th>" in page and "<th>netns</th>" not in page and
              "<th>container</th>" not in page, "/listening: columns for one namespace")
        status, _, page = d.get("/listening?container=")
        check(status == 400 and b"container needs a name" in page and b"<h1>" in page,
              f"/listening?container=: {status} {page[:80]!r}")


# ---- real Podman --------------------------------------------------------------


class Podman:
    """`podman system service` on a socket in tmp, with a store of its own."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "podman.sock")
        self.base = ["podman", "--root", os.path.join(tmp, "root"), "--runroot",
                     os.path.join(tmp, "run"), "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        self.service = None

    def run(self, *args):
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=120)

    def __enter__(self):
        self.service = subprocess.Popen([*self.base, "system", "service", "--time=0",
                                         f"unix://{self.sock}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.sock) or self.service.poll() is not None:
                break
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.run("rm", "-af")
        self.service.terminate()
        self.service.wait()


def busybox_image(podman):
    """An image of busybox-static alone, imported offline; None without busybox."""
    busybox = shutil.which("busybox")
    if not busybox:
        return None
    rootfs = os.path.join(podman.tmp, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
    tar = os.path.join(podman.tmp, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    done = podman.run("import", tar, "localhost/rsap-test-busybox:1")
    return "localhost/rsap-test-busybox:1" if done.returncode == 0 else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_running_container(podman, image):
    """A real container with a published port, where Podman can run one here."""
    name, port = f"rsap-web-{secrets.token_hex(3)}", free_port()
    done = podman.run("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", image,
                      "/bin/busybox", "httpd", "-f", "-p", "80")
    if done.returncode != 0:
        print(f"SKIP: podman cannot run a container here ({done.stderr.strip()[:120]}); "
              "the running container is not checked", file=sys.stderr)
        return
    status, out, err = rsap([podman.sock], "listening", "-A", "--json")
    named = [s for s in json.loads(out) if any(p["container_name"] == name
                                               for p in s["processes"])]
    check(status == 0 and any(s["port"] == 80 for s in named),
          f"podman run: the container's httpd is not named {name}: {err}")


def check_podman(tmp, listener):
    if not shutil.which("podman"):
        print("SKIP: no podman here; the real runtime is not checked", file=sys.stderr)
        return
    with Podman(tmp) as podman:
        image = busybox_image(podman)
        if not image or not os.path.exists(podman.sock):
            check(False, f"podman: no image ({image}) or no service socket")
            return
        name = f"rsap-made-{secrets.token_hex(3)}"
        done = podman.run("create", "--name", name, image, "/bin/busybox", "true")
        check(done.returncode == 0, f"podman create: {done.stderr}")
        container = done.stdout.strip()
        pid = listener.proc.pid
        with InCgroup(pid, f"machine.slice/libpod-{container}.scope"):
            status, out, err = rsap([podman.sock], "listening", "--netns", str(pid), "--json")
            owners = owners_of(json.loads(out), pid) if status == 0 else []
            check(owners and all(o["container"] == container and o["container_name"] == name
                                 for o in owners), f"podman: {status} {owners} {err}")
            status, out, err = rsap([podman.sock], "listening", "--container", name, "--json")
            check(status == 0 and {s["inode"] for s in json.loads(out)} ==
                  {s["inode"] for s in listener.sockets}, f"podman --container: {status} {err}")
        check_running_container(podman, image)


def main():
    if os.geteuid() != 0 or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        print("skipped: needs root and network namespaces", file=sys.stderr)
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        if not find_cgroup_root(tmp):
            print("skipped: no cgroup may be made here", file=sys.stderr)
            return SKIP
        try:
            with Listener("tcp,127.0.0.1", "udp,127.0.0.1",
                          prefix=["unshare", "-n", *LO_UP_THEN]) as listener:
                check_fake_runtimes(tmp, listener)
                os.mkdir(os.path.join(tmp, "podman"))
                check_podman(os.path.join(tmp, "podman"), listener)
        finally:
            if CGROUP_ROOT.startswith(tmp):
                subprocess.run(["umount", CGROUP_ROOT])
    if failures:
        print(f"{len(failures)} failures", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
