#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kernel-reserve and audit inside a network namespace this test makes: the
# sysctls are per namespace and a new one has no sockets, so the machine's
# own settings and listeners are neither read nor changed.  Skips (77) where
# namespaces are not permitted.  Needs $RSAP, unshare and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
SYSCTL=/proc/sys/net/ipv4

# --- outside: enter a namespace, and check the host was left alone ------------------
if [ "${1:-}" != inside ]; then
        if unshare -n true 2>/dev/null; then
                enter=(unshare -n)
        elif unshare -r -n true 2>/dev/null; then
                enter=(unshare -r -n) # as the root of a new user namespace
        else
                echo "SKIP: network namespaces are not permitted here"
                exit 77
        fi
        before=$(cat "$SYSCTL/ip_local_reserved_ports" "$SYSCTL/ip_local_port_range")
        "${enter[@]}" bash "$0" inside
        status=$?
        after=$(cat "$SYSCTL/ip_local_reserved_ports" "$SYSCTL/ip_local_port_range")
        if [ "$before" != "$after" ]; then
                echo "FAIL: the host's own sysctls changed"
                exit 1
        fi
        exit "$status"
fi

# --- inside --------------------------------------------------------------------------------
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/data" NO_COLOR=1
unset XDG_DATA_HOME
DB="$work/reg.db"
. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
assign() { # assign NAME PORT PROTO
        "$RSAP" request "$1" --port "$2" --proto "$3" --description "$1" --assignee Ops \
                --contact ops@example.com --db "$DB" >/dev/null &&
                "$RSAP" approve "request:$("$RSAP" requests --json --db "$DB" |
                        python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"][-1]["id"])')" \
                        --db "$DB" >/dev/null || fail "cannot assign $1 $2/$3"
}
# listen NAME PORT: a TCP listener on 127.0.0.1:PORT whose command name is NAME.
listen() {
        python3 -c '
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[2])))
s.listen()
print("up", flush=True)
time.sleep(60)
' "$1" "$2" >"$work/listen.$2" &
        pids+=($!)
        for _ in $(seq 1 100); do grep -q up "$work/listen.$2" 2>/dev/null && return; sleep 0.05; done
        fail "the listener on $2 did not start"
}

# lo up, without ip(8): SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP.
python3 -c '
import fcntl, socket, struct
s = socket.socket()
flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))
' || fail "cannot bring lo up"

# --- audit: a namespace with nothing in it -----------------------------------------------------
run 0 audit --db "$DB" && expect_out "clean: 0 listening ports, 0 local assignments"

# --- kernel-reserve ----------------------------------------------------------------------------
assign svca 20130 tcp
assign svcb 20160 tcp
assign svcc 20140 udp
run 0 kernel-reserve --db "$DB" && {
        expect_out "reserved now:   (none)"
        expect_out "--apply writes: 20130,20140,20160 (3 ports added)"
}
[ -z "$(tr -d '\n' <"$SYSCTL/ip_local_reserved_ports")" ] && passed=$((passed + 1)) ||
        fail "kernel-reserve without --apply wrote"
echo 1000,2000-2001 >"$SYSCTL/ip_local_reserved_ports"
run 0 kernel-reserve --apply --db "$DB" && expect_out "written:"
[ "$(cat "$SYSCTL/ip_local_reserved_ports")" = "1000,2000-2001,20130,20140,20160" ] &&
        passed=$((passed + 1)) || fail "reserved ports are $(cat "$SYSCTL/ip_local_reserved_ports")"
run 0 kernel-reserve --json --apply --db "$DB" && json_check "j['added'] == 0 and j['applied']"

# The kernel's own view: with an ephemeral range of 20130-20131, outgoing
# connections and port-0 binds can only take 20131, never the assigned 20130.
echo "20130 20131" >"$SYSCTL/ip_local_port_range"
listen target 20150
python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", 20150))
port = c.getsockname()[1]
try:
    socket.socket().bind(("127.0.0.1", 0))
    again = "free"
except OSError:
    again = "exhausted"
print(port, again)
' >"$work/ports" 2>&1
[ "$(cat "$work/ports")" = "20131 exhausted" ] && passed=$((passed + 1)) ||
        fail "with 20130 reserved the kernel handed out: $(cat "$work/ports")"
echo "32768 60999" >"$SYSCTL/ip_local_port_range"

# --- audit: findings ----------------------------------------------------------------------------
listen svcb 20130   # svcb listens on svca's port
run 1 audit --json --db "$DB" && {
        json_check "any(f['kind'] == 'wrong-service' and f['port'] == 20130 and f['service'] == 'svca' and f['listener'].startswith('svcb (pid ') for f in j['findings'])"
        json_check "any(f['kind'] == 'unregistered' and f['port'] == 20150 and f['listener'].startswith('target (pid ') for f in j['findings'])"
        json_check "sorted((f['kind'], f['port']) for f in j['findings'] if f['kind'] == 'not-listening') == [('not-listening', 20140), ('not-listening', 20160)]"
        json_check "j['listeners'] == 2 and j['assignments'] == 3 and not j['clean']"
}
run 1 audit --db "$DB" && {
        expect_out "wrong-service  20130/tcp is assigned here to svca, but svcb (pid"
        expect_out "unregistered   target (pid"
        expect_out "not-listening  20160/tcp is assigned to svcb (assignment 2), but nothing listens on it here"
}

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
