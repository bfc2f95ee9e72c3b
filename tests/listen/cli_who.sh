#!/bin/sh
# SPDX-License-Identifier: MIT
# `rsap who`: exit status 0 when something is bound to the port, 1 when
# nothing is, 2 for a malformed port, with a message on stderr for 1 and 2.
# Also `rsap listening` on the same socket.  Runs with a loopback socket of
# its own, on a port that no socket of any protocol uses, and takes another
# such port as the unbound one; in a network namespace of its own where one
# may be made, so that no other test's socket takes either port meanwhile.
#
#     cli_who.sh [RSAP]     (or RSAP in the environment)
set -u

RSAP=${RSAP:-${1:?set RSAP to the rsap program}}
if [ -z "${RSAP_TEST_OWN_NETNS:-}" ] && unshare --net ip link set lo up 2>/dev/null; then
        export RSAP_TEST_OWN_NETNS=1
        exec unshare --net sh -c 'ip link set lo up && exec "$@"' sh sh "$0" "$@"
fi
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
LISTENER=
failures=0

cleanup() {
        [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null && wait "$LISTENER" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

# expect STATUS STDERR-PATTERN COMMAND ARGS...: runs rsap COMMAND ARGS and
# checks both.
expect() {
        want=$1 pattern=$2 command=$3
        shift 3
        "$RSAP" "$command" --db-dir "$TMP/db" "$@" >"$TMP/out" 2>"$TMP/err"
        got=$?
        [ "$got" = "$want" ] || fail "rsap $*: exit status $got, expected $want"
        if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$TMP/err"; then
                fail "rsap $*: stderr lacks '$pattern': $(cat "$TMP/err")"
        fi
}

expect_who() {
        want=$1 pattern=$2
        shift 2
        expect "$want" "$pattern" who "$@"
}

# Two port numbers in no socket's local address, as /proc/net tells.
set -- $(python3 -c '
import random
used = set()
for name in ("tcp", "tcp6", "udp", "udp6"):
    try:
        with open("/proc/net/" + name) as f:
            used.update(int(line.split()[1].rsplit(":", 1)[1], 16) for line in list(f)[1:])
    except OSError:
        pass
print(*random.sample(sorted(set(range(20000, 30000)) - used), 2))')
PORT=$1 FREE=$2

mkdir "$TMP/db"
: >"$TMP/sockets"
python3 "$HERE/listener.py" "tcp,127.0.0.1,port=$PORT" >"$TMP/sockets" &
LISTENER=$!
for _ in $(seq 100); do
        grep -q '^ready' "$TMP/sockets" && break
        sleep 0.05
done
grep -q '^ready' "$TMP/sockets" || { echo "listener.py did not start" >&2; exit 1; }

# Bound.
"$RSAP" who --db-dir "$TMP/db" "$PORT" >"$TMP/out" 2>"$TMP/err"
[ $? = 0 ] || fail "who $PORT: not found"
grep -q "127.0.0.1:$PORT .*rsap-listener\[" "$TMP/out" || fail "who $PORT: $(cat "$TMP/out")"
[ -s "$TMP/err" ] && fail "who $PORT wrote to stderr: $(cat "$TMP/err")"
expect_who 0 "" "$PORT/tcp"
expect_who 0 "" "$PORT/TCP"
expect_who 0 "" --no-process "$PORT"
expect_who 0 "" --json "$PORT"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d[0]["port"] == int(sys.argv[2]), d' \
        "$TMP/out" "$PORT" || fail "who --json $PORT: $(cat "$TMP/out")"

# Not bound.
expect_who 1 "nothing is bound" "$PORT/udp"
expect_who 1 "nothing is bound" "$FREE"
expect_who 1 "" --json "$FREE"
[ "$(tr -d ' \n' <"$TMP/out")" = "[]" ] || fail "who --json $FREE: $(cat "$TMP/out")"

# Malformed.
expect_who 2 "0 to 65535" 70000
expect_who 2 "not a port" abc/tcp
expect_who 2 "unknown protocol" 1647/xyz
expect_who 2 "not a port" ""
expect_who 2 "is a range" 1640-1650
expect_who 2 "which port" 
expect_who 2 "one port" 22 23
expect_who 2 "unknown option" --bogus 22
expect_who 0 "" --help

# The listing of the same socket.
expect 0 "" listening --port "$PORT"
grep -q "^tcp  *127.0.0.1:$PORT " "$TMP/out" || fail "listening --port $PORT: $(cat "$TMP/out")"
# Its columns line up: the process starts under PROCESS, however wide the
# address before it.
awk 'NR == 1 { col = index($0, "PROCESS") }
     NR > 1 && index($0, "rsap-listener[") != col { bad = 1 }
     END { exit bad || !col }' "$TMP/out" ||
        fail "listening --port $PORT: columns out of line: $(cat "$TMP/out")"
expect 1 "" listening --port "$FREE"
expect 2 "0 to 65535" listening --port 70000
expect 2 "not a process id" listening --pid abc
expect 2 "no such user" listening --user no-such-user-rsap
expect 2 "unexpected argument" listening extra

[ "$failures" = 0 ]
