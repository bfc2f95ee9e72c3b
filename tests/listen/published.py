#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Published ports: DNAT rules and user-space forwarders, in a network
namespace of our own.

The test writes nat rules the way Docker, CNI, netavark and kube-proxy lay
them out (with iptables-nft) and native nft rules, among them rules full of
expressions rsap does not know, then compares what `rsap listening --json`
reports with what it wrote: every forward exactly (transport, host address,
port, target address and port, chain), and nothing for the rules whose ports
live in sets or maps.  Then forwarders (a listener whose command is
docker-proxy, pasta or slirp4netns, with their real argument layouts),
`rsap who`, `rsap pick`, `rsap lease` and `rsap audit` on published ports,
and `-A`, which names the namespace holding a target's address and answers
while namespaces come and go.
Skipped (77) where no namespace may be made or nft and iptables-nft are
missing.

    published.py [RSAP]     (or RSAP in the environment)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from listen_common import SKIP, in_new_netns, rsap_json, rsap_path, run_rsap

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def sh(*commands):
    for command in commands:
        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{command}: {done.stderr.strip()}")


IPT = "iptables-nft -t nat"

# Docker: PREROUTING and OUTPUT jump to DOCKER for local addresses.
DOCKER = [
    f"{IPT} -N DOCKER",
    f"{IPT} -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    f"{IPT} -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    f"{IPT} -A DOCKER -i docker0 -j RETURN",
    f"{IPT} -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
    f"{IPT} -A DOCKER -d 127.0.0.1/32 ! -i docker0 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.17.0.3:53",
]
# CNI's portmap: CNI-HOSTPORT-DNAT -> CNI-DN-<id>, the ports in a multiport match.
CNI = [
    f"{IPT} -N CNI-HOSTPORT-DNAT",
    f"{IPT} -N CNI-HOSTPORT-SETMARK",
    f"{IPT} -N CNI-DN-5f0c1a2b3c4d5e6f7a8b9",
    f"{IPT} -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
    f"{IPT} -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
    f"{IPT} -A CNI-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000",
    f"{IPT} -A CNI-HOSTPORT-DNAT -p tcp -m comment --comment 'dnat name: \"podman\" id: \"abc\"'"
    " -m multiport --dports 8081,8443 -j CNI-DN-5f0c1a2b3c4d5e6f7a8b9",
    f"{IPT} -A CNI-DN-5f0c1a2b3c4d5e6f7a8b9 -s 10.88.0.0/16 -p tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
    f"{IPT} -A CNI-DN-5f0c1a2b3c4d5e6f7a8b9 -p tcp --dport 8081 -j DNAT --to-destination 10.88.0.2:80",
    f"{IPT} -A CNI-DN-5f0c1a2b3c4d5e6f7a8b9 -p tcp --dport 8443 -j DNAT --to-destination 10.88.0.2:443",
]
# netavark: NETAVARK-HOSTPORT-DNAT -> NETAVARK-DN-<id>.
NETAVARK = [
    f"{IPT} -N NETAVARK-HOSTPORT-DNAT",
    f"{IPT} -N NETAVARK-DN-1D8721804F16F",
    f"{IPT} -A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT",
    f"{IPT} -A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT",
    f"{IPT} -A NETAVARK-HOSTPORT-DNAT -p udp --dport 6000 -m comment --comment 'dnat id: 1d87'"
    " -j NETAVARK-DN-1D8721804F16F",
    f"{IPT} -A NETAVARK-DN-1D8721804F16F -d 192.0.2.10/32 -p udp --dport 6000 -j DNAT --to-destination 10.89.0.5:6060",
]
# kube-proxy: the node port is tested in KUBE-NODEPORTS, the DNAT done in KUBE-SEP-*.
KUBE = [
    f"{IPT} -N KUBE-SERVICES", f"{IPT} -N KUBE-NODEPORTS", f"{IPT} -N KUBE-EXT-WEB",
    f"{IPT} -N KUBE-SVC-WEB", f"{IPT} -N KUBE-SVC-DNS", f"{IPT} -N KUBE-MARK-MASQ",
    f"{IPT} -N KUBE-SEP-A", f"{IPT} -N KUBE-SEP-B", f"{IPT} -N KUBE-SEP-C",
    f"{IPT} -A PREROUTING -m comment --comment 'kubernetes service portals' -j KUBE-SERVICES",
    f"{IPT} -A OUTPUT -m comment --comment 'kubernetes service portals' -j KUBE-SERVICES",
    f"{IPT} -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    f"{IPT} -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j KUBE-SVC-DNS",
    f"{IPT} -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
    f"{IPT} -A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 -j KUBE-EXT-WEB",
    f"{IPT} -A KUBE-EXT-WEB -j KUBE-MARK-MASQ",
    f"{IPT} -A KUBE-EXT-WEB -j KUBE-SVC-WEB",
    f"{IPT} -A KUBE-SVC-WEB -m statistic --mode random --probability 0.5 -j KUBE-SEP-A",
    f"{IPT} -A KUBE-SVC-WEB -j KUBE-SEP-B",
    f"{IPT} -A KUBE-SVC-DNS -j KUBE-SEP-C",
    f"{IPT} -A KUBE-SEP-A -s 10.244.0.5/32 -j KUBE-MARK-MASQ",
    f"{IPT} -A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.0.5:8080",
    f"{IPT} -A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.0.6:8080",
    f"{IPT} -A KUBE-SEP-C -p tcp -m tcp -j DNAT --to-destination 10.244.0.7:53",
]
# Native rules, and rules of many expressions rsap does not know.
NFT = """
table inet native {
    set webports { type inet_service; elements = { 7600, 7601 } }
    set hosts { type ipv4_addr; elements = { 192.0.2.7 } }
    chain pre { type nat hook prerouting priority dstnat; }
    chain out { type nat hook output priority -100; }
    chain sub { dnat ip to 10.0.0.11; }
    chain ports {
        tcp dport 7700 dnat ip to 10.0.0.12:77
    }
    chain pre {
        ip daddr 192.0.2.1 tcp dport 7000 dnat ip to 10.0.0.7:70
        tcp dport 7100-7102 dnat ip to 10.0.0.8
        ct state new limit rate 10/second log prefix "x" quota 1 mbytes counter meta mark set 1 tcp dport 7300 dnat ip to 10.0.0.9:73
        tcp dport { 7400, 7401 } dnat ip to 10.0.0.10
        tcp dport vmap { 7500 : jump sub }
        tcp dport @webports counter dnat ip to 10.0.0.13
        ip daddr @hosts tcp dport 7800 dnat ip to 10.0.0.14:78
        meta mark 0x5 ct mark 0x1 jump ports
    }
    chain out { tcp dport 7700 jump ports; }
}
table ip6 native6 {
    chain pre { type nat hook prerouting priority dstnat; tcp dport 7200 dnat to [fd00::2]:72; }
}
"""

# (protocol, host address, port, target address, target port, chain)
EXPECTED = {
    ("tcp", "0.0.0.0", 8080, "172.17.0.2", 80, "DOCKER"),
    ("udp", "127.0.0.1", 5353, "172.17.0.3", 53, "DOCKER"),
    ("tcp", "0.0.0.0", 8081, "10.88.0.2", 80, "CNI-DN-5f0c1a2b3c4d5e6f7a8b9"),
    ("tcp", "0.0.0.0", 8443, "10.88.0.2", 443, "CNI-DN-5f0c1a2b3c4d5e6f7a8b9"),
    ("udp", "192.0.2.10", 6000, "10.89.0.5", 6060, "NETAVARK-DN-1D8721804F16F"),
    ("tcp", "10.96.0.10", 53, "10.244.0.7", 53, "KUBE-SEP-C"),
    ("tcp", "0.0.0.0", 30080, "10.244.0.5", 8080, "KUBE-SEP-A"),
    ("tcp", "0.0.0.0", 30080, "10.244.0.6", 8080, "KUBE-SEP-B"),
    ("tcp", "192.0.2.1", 7000, "10.0.0.7", 70, "pre"),
    ("tcp", "0.0.0.0", 7100, "10.0.0.8", 7100, "pre"),
    ("tcp", "0.0.0.0", 7101, "10.0.0.8", 7101, "pre"),
    ("tcp", "0.0.0.0", 7102, "10.0.0.8", 7102, "pre"),
    ("tcp", "0.0.0.0", 7300, "10.0.0.9", 73, "pre"),
    ("tcp", "0.0.0.0", 7700, "10.0.0.12", 77, "ports"),
    ("tcp", "::", 7200, "fd00::2", 72, "pre"),
}


def forwards(listing):
    return [s for s in listing if s.get("published") and s["published"]["kind"] == "dnat"]


def as_key(s):
    p = s["published"]
    return (s["protocol"], s["address"], s["port"], p["target_address"], p["target_port"],
            p["via"])


def check_rules(db):
    listed = forwards(rsap_json("listening", "--db-dir", db))
    got = [as_key(s) for s in listed]
    check(len(got) == len(set(got)), f"a forward listed twice: {sorted(got)}")
    check(set(got) == EXPECTED, f"forwards differ: missing {sorted(EXPECTED - set(got))}, "
                                f"extra {sorted(set(got) - EXPECTED)}")
    for s in listed:
        check(s["inode"] == 0 and s["processes"] == [] and s["processes_visible"],
              f"{as_key(s)}: a rule shown with a socket's facts: {s}")
    tables = {as_key(s): s["published"]["table"] for s in listed}
    check(tables.get(("tcp", "0.0.0.0", 8080, "172.17.0.2", 80, "DOCKER")) == "ip nat",
          f"the DOCKER rule's table: {tables}")
    check(tables.get(("tcp", "::", 7200, "fd00::2", 72, "pre")) == "ip6 native6",
          f"the ip6 rule's table: {tables}")
    status, out, _ = run_rsap("listening", "--port", "8080", "--db-dir", db)
    check(status == 0 and "dnat -> 172.17.0.2:80 (ip nat DOCKER)" in out,
          f"listening --port 8080: {status} {out!r}")


FORWARDER = """
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
kind = socket.SOCK_STREAM if sys.argv[2] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("0.0.0.0", int(sys.argv[3])))
if kind == socket.SOCK_STREAM:
    s.listen()
print("up", flush=True)
time.sleep(120)
"""


def start_forwarder(command, proto, port, *args):
    """A listener on 0.0.0.0:port whose command name is command and whose
    argv is command's own (exec -a), followed by args."""
    proc = subprocess.Popen(["bash", "-c", 'exec -a "$0" "$@"', command, sys.executable, "-c",
                             FORWARDER, command, proto, str(port), *args],
                            stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "up":
        raise SystemExit(f"the {command} stand-in did not start")
    return proc


def entry(listing, proto, port):
    return next((s for s in listing if s["protocol"] == proto and s["port"] == port), None)


def check_forwarders(db):
    procs = [
        start_forwarder("docker-proxy", "tcp", 9080, "-proto", "tcp", "-host-ip", "0.0.0.0",
                        "-host-port", "9080", "-container-ip", "172.17.0.4",
                        "-container-port", "8000", "-use-listen-fd"),
        start_forwarder("pasta", "udp", 9081, "--config-net", "-t", "9000-9010:80-90",
                        "-u", "127.0.0.1/9081:5300,9090", "--netns", "/run/user/1000/netns/x"),
        start_forwarder("slirp4netns", "tcp", 9082, "--api-socket", "/tmp/x.sock", "1234",
                        "tap0"),
    ]
    try:
        listing = rsap_json("listening", "--db-dir", db)
        proxy = entry(listing, "tcp", 9080)
        pasta = entry(listing, "udp", 9081)
        slirp = entry(listing, "tcp", 9082)
        check(proxy and proxy["published"] and proxy["published"]["kind"] == "proxy" and
              proxy["published"]["via"] == "docker-proxy" and
              proxy["published"]["target_address"] == "172.17.0.4" and
              proxy["published"]["target_port"] == 8000 and
              proxy["processes"][0]["command"] == "docker-proxy",
              f"docker-proxy's socket: {proxy}")
        check(pasta and pasta["published"] and pasta["published"]["target_port"] == 5300 and
              pasta["published"]["target_address"] is None, f"pasta's socket: {pasta}")
        check(slirp and slirp["published"] and slirp["published"]["target_port"] is None,
              f"slirp4netns's socket: {slirp}")
        status, out, _ = run_rsap("who", "9080", "--db-dir", db)
        check(status == 0 and "docker-proxy[" in out and "-> 172.17.0.4:8000" in out,
              f"who 9080: {status} {out!r}")
        status, out, _ = run_rsap("who", "9082", "--db-dir", db)
        check(status == 0 and "(its target is not in its arguments)" in out,
              f"who 9082: {status} {out!r}")
    finally:
        for p in procs:
            p.terminate()
            p.wait()


def check_who(db):
    status, out, _ = run_rsap("who", "30080", "--db-dir", db)
    check(status == 0 and "dnat -> 10.244.0.5:8080 (ip nat KUBE-SEP-A)" in out and
          "dnat -> 10.244.0.6:8080 (ip nat KUBE-SEP-B)" in out, f"who 30080: {status} {out!r}")
    status, out, _ = run_rsap("who", "8080/udp", "--db-dir", db)
    check(status == 1, f"who 8080/udp: {status} {out!r}, expected 1 (the rule is tcp's)")


def check_pick_and_lease(db):
    # 7100-7102 are published; 7103 is the one free port of the range.
    status, out, err = run_rsap("pick", "--range", "7100-7103", "--proto", "tcp", "--count",
                                "1", "--allow-iana", "--db-dir", db)
    check(status == 0 and out.strip() == "7103", f"pick 7100-7103: {status} {out!r} {err!r}")
    status, out, err = run_rsap("pick", "--range", "7100-7102", "--proto", "tcp",
                                "--allow-iana", "--db-dir", db)
    check(status != 0, f"pick 7100-7102 proposed a published port: {status} {out!r}")
    for _ in range(8):  # the lease draws at random: every draw must miss 7100-7102
        status, out, err = run_rsap("lease", "--range", "7100-7103", "--ttl", "1m",
                                    "--db-dir", db)
        check(status == 0 and out.strip() == "7103", f"lease 7100-7103: {status} {out!r} {err!r}")
        run_rsap("release", out.strip(), "--db-dir", db)


def check_audit(db):
    sh("sysctl -qw net.ipv4.ip_local_port_range='30000 30999'")
    listener = start_forwarder("webserver", "tcp", 8081)  # collides with CNI's 8081
    try:
        status, out, err = run_rsap("audit", "--json", "--db-dir", db)
        findings = json.loads(out)["findings"]
    finally:
        listener.terminate()
        listener.wait()
    kinds = {(f["kind"], f["port"], f["protocol"]) for f in findings}
    check(("published-ephemeral", 30080, "tcp") in kinds,
          f"audit: no published-ephemeral finding for 30080/tcp: {sorted(kinds)}")
    check(("published-collision", 8081, "tcp") in kinds,
          f"audit: no published-collision finding for 8081/tcp: {sorted(kinds)}")
    check(("published-collision", 8080, "tcp") not in kinds and
          ("published-ephemeral", 8080, "tcp") not in kinds,
          f"audit: 8080 neither collides nor is ephemeral: {sorted(kinds)}")
    collision = next((f for f in findings if f["kind"] == "published-collision"), {})
    check("webserver (pid" in (collision.get("listener") or "") and
          "CNI-DN-5f0c1a2b3c4d5e6f7a8b9" in collision.get("message", ""),
          f"audit: the collision names neither the listener nor the rule: {collision}")


def start_target_namespace(address):
    """A process in a namespace of its own whose loopback holds address."""
    proc = subprocess.Popen(["unshare", "-n", "sh", "-c",
                             f"ip link set lo up && ip addr add {address}/32 dev lo && "
                             "echo up && exec sleep 120"], stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "up":
        raise SystemExit("the target namespace could not be made")
    return proc, os.stat(f"/proc/{proc.pid}/ns/net").st_ino


def check_all_namespaces(db):
    """-A reads the rules of the namespaces it visits, and names the one
    whose interfaces hold a target's address."""
    here = os.stat("/proc/self/ns/net").st_ino
    target, inode = start_target_namespace("172.17.0.2")
    try:
        listing = rsap_json("listening", "-A", "--port", "8080", "--db-dir", db)
    finally:
        target.terminate()
        target.wait()
    ours = [s for s in forwards(listing) if s["netns"]["inode"] == here]
    check(len(ours) == 1 and ours[0]["published"]["target_netns"] and
          ours[0]["published"]["target_netns"]["inode"] == inode,
          f"-A: the DOCKER forward's target namespace, expected {inode}: {ours}")


def check_vanishing_namespaces(db):
    """Namespaces that come and go while -A walks them: every walk answers,
    with every forward of ours."""
    here = os.stat("/proc/self/ns/net").st_ino
    for round_ in range(6):
        churn = [subprocess.Popen(["unshare", "-n", "sleep", f"0.0{i}"]) for i in range(1, 9)]
        status, out, err = run_rsap("listening", "-A", "--json", "--db-dir", db)
        for p in churn:
            p.wait()
        check(status == 0, f"-A among vanishing namespaces, round {round_}: {status} {err!r}")
        if status == 0:
            got = {as_key(s) for s in forwards(json.loads(out)) if s["netns"]["inode"] == here}
            check(got == EXPECTED, f"-A round {round_}: forwards differ: "
                                   f"missing {sorted(EXPECTED - got)}")


def check_without_cap_net_admin(db):
    """As nobody the dump is refused: one line says so, and the listing still
    answers, without the rules' ports."""
    if os.geteuid() != 0:
        print("SKIP: without CAP_NET_ADMIN: this run is not root's")
        return
    # A clone in root's home (/root is 0700) is closed to nobody:
    # tools/unprivileged-tests opens it only for its run.
    if subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c", f"test -x '{rsap_path()}'"]).returncode:
        print(f"SKIP: as nobody: nobody may not run {rsap_path()} (a directory above it is closed)")
        return
    done = subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c",
                           f"NO_COLOR=1 '{rsap_path()}' listening --json --db-dir /nonexistent"],
                          capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if "nf_tables" in line]
    check(done.returncode in (0, 1) and len(lines) == 1,
          f"as nobody: exit {done.returncode}, stderr {done.stderr!r}")
    check(done.returncode != 0 or not forwards(json.loads(done.stdout)),
          "as nobody: forwards listed though the rules could not be read")


def main():
    for tool in ("nft", "iptables-nft"):
        if not shutil.which(tool):
            print(f"skipped: {tool} is not installed", file=sys.stderr)
            return SKIP
    outer = in_new_netns(os.path.abspath(__file__), "RSAP_TEST_IN_NETNS")
    if outer is not None:
        return outer
    sh(*DOCKER, *CNI, *NETAVARK, *KUBE)
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as rules:
        rules.write(NFT)
        rules.flush()
        sh(f"nft -f {rules.name}")
    with tempfile.TemporaryDirectory() as db:
        check_rules(db)
        check_who(db)
        check_forwarders(db)
        check_pick_and_lease(db)
        check_audit(db)
        check_all_namespaces(db)
        check_vanishing_namespaces(db)
        check_without_cap_net_admin(db)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
