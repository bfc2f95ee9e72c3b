#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rsap run: a command under it binds TCP only on its service's ports (tcp
# assignments, leases in its name, --also), with Landlock; UDP, connections
# and the command's children as the page says; the refusal on a kernel
# without Landlock's network rules, simulated by tests/run/landlock_shim.c
# changing the kernel's answer to the ABI probe.  As root, the restriction
# is also proved for nobody, with no capability at all.  Runs in a network
# namespace of its own, so the ports it binds are nobody else's.
#   run_test.sh SHIM     SHIM: the built landlock-shim
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
SHIM=${1:?give the landlock-shim program}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null' EXIT
export RSAP_DB_DIR="$work/data"
export NO_COLOR=1
unset XDG_DATA_HOME SUDO_USER
DB="$work/reg.db"

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"

abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))' 2>/dev/null)
if [ "$(uname -m)" != x86_64 ] || [ "${abi:--1}" -lt 4 ]; then
        echo "1..0 # SKIP this kernel has no Landlock network rules (ABI ${abi:-unknown}, need 4)"
        exit 77
fi

# bind.py PORT...: binds a TCP socket on 127.0.0.1 to each port, one line each.
cat >"$work/bind.py" <<'PY'
import errno, socket, sys
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(f"{port} bound")
    except OSError as e:
        print(f"{port} {errno.errorcode[e.errno]}")
PY
bind() { echo "python3 $work/bind.py $*"; }

req() { # req NAME PORT PROTO: filed and approved
        "$RSAP" request "$1" --port "$2" --proto "$3" --description "the $1 service" \
                --assignee qa --contact qa --db "$DB" >/dev/null &&
                "$RSAP" approve --db "$DB" "$(("${nreq:-0}" + 1))" >/dev/null
        nreq=$(("${nreq:-0}" + 1))
}
req runweb 20110 tcp || fail "cannot assign runweb"
req runudp 20130 udp || fail "cannot assign runudp"

# --- the plan ------------------------------------------------------------------
run 0 run --as RunWeb --dry-run --db "$DB" && {
        expect_out "may bind   20110/tcp  assignment 1"
        expect_out "port 0     refused"
        expect_out "landlock   enforced"
}
run 0 run --as runweb --dry-run --json --also 20112 --db "$DB" -- true x && {
        json_check 'j["kind"] == "run" and j["service"] == "runweb" and j["enforced"] is True'
        json_check '[(p["port"], p["source"], p["id"]) for p in j["ports"]] == [(20110, "assignment", 1), (20112, "also", None)]'
        json_check 'j["command"] == ["true", "x"] and j["ephemeral"] is False and j["landlock_abi"] >= 4'
}

# --- binds ---------------------------------------------------------------------
# shellcheck disable=SC2046 # bind prints the command's words
run 0 run --as runweb --db "$DB" -- $(bind 20110 20112 0) && {
        expect_out "20110 bound"
        expect_out "20112 EACCES"
        expect_out "0 EACCES"
}
# shellcheck disable=SC2046
run 0 run --as runweb --also 20112 --allow-ephemeral --db "$DB" -- $(bind 20112 0 20113) && {
        expect_out "20112 bound"
        expect_out "0 bound"
        expect_out "20113 EACCES"
}
# Children inherit the restriction: nothing the command starts escapes it.
run 0 run --as runweb --db "$DB" -- sh -c "$(bind 20110 20112)" && {
        expect_out "20110 bound"
        expect_out "20112 EACCES"
}
# UDP and connections are Landlock's to leave alone, and it does.
start_reporting python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)' || fail "the test's listener did not start"
run 0 run --as runweb --db "$DB" -- python3 -c "
import socket
u = socket.socket(type=socket.SOCK_DGRAM); u.bind(('127.0.0.1', 20112)); print('udp bound')
c = socket.create_connection(('127.0.0.1', $server_port)); print('connected')" && {
        expect_out "udp bound"
        expect_out "connected"
}
kill "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=

# --- leases in the service's name ------------------------------------------------
run 0 lease --name runweb --range 20150-20150 --pid 0 --db "$DB" && expect_out "20150"
# shellcheck disable=SC2046
run 0 run --as runweb --db "$DB" -- $(bind 20150 20151) && {
        expect_out "20150 bound"
        expect_out "20151 EACCES"
}
run 0 lease --name runghost --range 20160-20160 --pid 0 --db "$DB"
# shellcheck disable=SC2046
run 0 run --as runghost --db "$DB" -- $(bind 20160 20110) && {
        expect_out "20160 bound"
        expect_out "20110 EACCES"
}
run 0 release 20160 --db "$DB"
run 125 run --as runghost --db "$DB" -- true && expect_err "no service 'runghost' in the local registry"

# --- refusals and exit statuses --------------------------------------------------
run 125 run --as nosuch --db "$DB" -- true && {
        expect_one_line_error
        expect_err "no service 'nosuch' in the local registry, and no live lease named so"
}
run 1 run --as nosuch --dry-run --db "$DB" && expect_one_line_error
run 125 run --as runweb --db "$work/none.db" -- true && expect_err "there is no local registry at $work/none.db"
run 125 run --as runudp --db "$DB" -- true && expect_err "'runudp' holds no TCP port"
run 1 run --as runudp --dry-run --db "$DB" && expect_one_line_error
# shellcheck disable=SC2046
run 0 run --as runudp --also 20131 --db "$DB" -- $(bind 20131 20130) && {
        expect_out "20131 bound"
        expect_out "20130 EACCES"
}
run 7 run --as runweb --db "$DB" -- sh -c 'exit 7'
run 143 run --as runweb --db "$DB" -- sh -c 'kill -TERM $$'
run 127 run --as runweb --db "$DB" -- "$work/no-such-program" && expect_err "cannot run '$work/no-such-program'"
run 126 run --as runweb --db "$DB" -- "$work" && expect_one_line_error
run 125 run --db "$DB" -- true && expect_err "--as SERVICE"
run 125 run --as runweb --db "$DB" && expect_err "give the command to run after '--'"
run 125 run --as runweb --db "$DB" true && expect_err "put the command after '--'"
run 125 run --as runweb --json --db "$DB" -- true && expect_err "give --dry-run too"
run 125 run --as runweb --also 0 --db "$DB" -- true && expect_err "--allow-ephemeral"
run 125 run --as runweb --also 70000 --db "$DB" -- true && expect_one_line_error
run 0 run --help && expect_out "UDP"

# --- a kernel without Landlock's network rules, as the probe answers -----------------
# shellcheck disable=SC2046
for mode in enosys eopnotsupp abi3; do
        case $mode in
        enosys) why="this kernel has no Landlock" ;;
        eopnotsupp) why="Landlock is turned off on this kernel (see the lsm= boot parameter)" ;;
        abi3) why="this kernel's Landlock (ABI 3) has no network rules (ABI 4, Linux 6.7 or later)" ;;
        esac
        RSAP_REAL=$RSAP
        RSAP="$SHIM"
        run 125 "$mode" "$RSAP_REAL" run --as runweb --db "$DB" -- $(bind 20110) && {
                expect_one_line_error
                expect_err "$why, so the command cannot be kept to runweb's TCP ports; --best-effort runs it unrestricted"
                expect_no_out "bound"
        }
        run 2 "$mode" "$RSAP_REAL" run --as runweb --dry-run --db "$DB" && expect_err "$why"
        run 0 "$mode" "$RSAP_REAL" run --as runweb --best-effort --db "$DB" -- $(bind 20112) && {
                expect_err "rsap: warning: $why: running without the port restriction (--best-effort)"
                expect_out "20112 bound"
        }
        run 0 "$mode" "$RSAP_REAL" run --as runweb --best-effort --dry-run --json --db "$DB" &&
                json_check 'j["enforced"] is False'
        RSAP=$RSAP_REAL
done

# --- as nobody: no capability, no privilege ------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
        echo "note: running as uid $(id -u): every part above ran unprivileged"
elif ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$RSAP" 2>/dev/null; then
        echo "SKIP: as nobody: nobody may not run $RSAP (a directory above it is closed)"
else
        mkdir "$work/nobody" && cp "$DB"* "$work/nobody/" && chmod 0755 "$work" &&
                chown -R nobody: "$work/nobody" && chmod 0644 "$work/bind.py"
        RSAP_REAL=$RSAP
        RSAP=setpriv
        # shellcheck disable=SC2046
        run 0 --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
                "$RSAP_REAL" run --as runweb --db "$work/nobody/reg.db" -- $(bind 20110 20112) && {
                expect_out "20110 bound"
                expect_out "20112 EACCES"
        }
        RSAP=$RSAP_REAL
fi

echo "run: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
