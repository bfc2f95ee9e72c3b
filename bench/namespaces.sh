#!/bin/sh
# SPDX-License-Identifier: MIT
#
# How fast `rsap listening -A` lists the sockets of every network namespace,
# against ss run in each namespace in turn, as one would without it.  NS
# network namespaces (`ip netns add`, lo up, nothing else), each with PER
# sockets of bench/listen_load.c (five in six listening TCP, one in six bound
# UDP, on 127.0.0.1 and ::1) in one process; torn down on exit, Ctrl-C
# included.
#
#   rsap  rsap listening -A: every namespace of the host, found by itself,
#         owners named;
#   ss    a shell running ss -ltunp -N NS for each of the NS namespaces, then
#         ss -ltunp for the host's own: the same namespaces, owners named;
#   own   rsap listening, the host's own namespace only: what -A adds to it;
#   dumps bench/listen_floor.c's bare sock_diag dumps of the host's own and
#         each of the NS namespaces, in one process (setns() into each, a
#         netlink socket opened there), no owners, printing nothing;
#   floor the same dumps, then one readlink pass over every /proc/PID/fd:
#         the least work that names the owners too;
#   bare  rsap listening -A --no-process: the dumps' like, sockets printed.
#
# bench-pairtime runs both in every round, in an order shuffled anew, and
# takes the ratio to rsap within the round.  Before timing, both are checked
# to print every socket of the load.  rsap also reads whatever other
# namespace the host has (other tests', containers'): more work, not less.
# Asserts nothing; needs root, cc, ip and ss.  Goals: rsap at least 5 times
# faster than ss, and within 2x of the bare dumps (dumps' ratio 0.5 or more).
#
#     bench/namespaces.sh [BUILD_DIR] [ROUNDS]     (defaults: build, 21)
#
# NS (default 50) and PER (100) in the environment change the load.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
ROUNDS=${2:-21}
NS=${NS:-50}
PER=${PER:-100}
RSAP=$BUILD/cli/rsap
PAIRTIME=${PAIRTIME:-$BUILD/bench/bench-pairtime}
PREFIX=rsapbench$$

for tool in cc ip ss; do
        command -v "$tool" >/dev/null || { echo "namespaces.sh: needs $tool" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "namespaces.sh: run it as root (ip netns add)" >&2; exit 2; }
[ -x "$RSAP" ] || { echo "namespaces.sh: no rsap in $BUILD/cli (build first)" >&2; exit 2; }
[ -x "$PAIRTIME" ] || { echo "namespaces.sh: no bench-pairtime in $BUILD/bench" >&2; exit 2; }
SS=$(command -v ss)

die() {
        echo "namespaces.sh: $*" >&2
        exit 1
}

WORK=$(mktemp -d)
cleanup() {
        for pid in $(cat "$WORK"/pid.* 2>/dev/null); do
                kill "$pid" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        for i in $(seq "$NS"); do
                ip netns del "$PREFIX-$i" 2>/dev/null || true
        done
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/listen_load" "$HERE/listen_load.c"
cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/floor" "$HERE/listen_floor.c"

tcp=$((PER * 5 / 6))
udp=$((PER - tcp))
for i in $(seq "$NS"); do
        ip netns add "$PREFIX-$i"
        ip -n "$PREFIX-$i" link set lo up
        ip netns exec "$PREFIX-$i" "$WORK/listen_load" "$tcp" "$udp" 1 >"$WORK/ready.$i" &
        echo $! >"$WORK/pid.$i"
done
for i in $(seq "$NS"); do
        for _ in $(seq 300); do
                grep -q '^ready' "$WORK/ready.$i" 2>/dev/null && break
                kill -0 "$(cat "$WORK/pid.$i")" 2>/dev/null || die "the load of namespace $i failed"
                sleep 0.1
        done
        grep -q '^ready' "$WORK/ready.$i" || die "the load of namespace $i is not ready in 30 s"
done

# The ss side: one ss per namespace, as a script would do it.
{
        echo "#!/bin/sh"
        for i in $(seq "$NS"); do
                echo "$SS -ltunp -N $PREFIX-$i"
        done
        echo "$SS -ltunp"
} >"$WORK/ss_each.sh"
chmod +x "$WORK/ss_each.sh"

# Both print every socket of the load: PER in each namespace.
want=$((NS * PER))
# The host's own namespace (the script's last line) is left out of the count:
# other benchmarks' loads may run there.
ss_n=$(sed '$d' "$WORK/ss_each.sh" | sh | grep -c '"listen_load"' || true)
rsap_n=$("$RSAP" listening -A 2>/dev/null | grep -c "^$PREFIX-[0-9]* .*listen_load\[" || true)
echo "load sockets printed: rsap listening -A $rsap_n, ss -N in each namespace $ss_n (want $want)"
[ "$rsap_n" = "$want" ] && [ "$ss_n" = "$want" ] || die "the two do not print the same sockets"

echo "== $NS namespaces with $PER sockets each ($tcp TCP listening, $udp UDP), one process each"
"$WORK/floor" namespaces "$PREFIX-" || die "the floor's dumps found no socket"
echo "-- ratios to rsap listening -A (goals: ss at least 5x; dumps at least 0.5x)"
# What the commands say on stderr (rsap's note of what it could not read,
# once a run) is told once, after the figures.
"$PAIRTIME" "$ROUNDS" 2 "ss=$WORK/ss_each.sh" "own=$RSAP listening" \
        "dumps=$WORK/floor namespaces $PREFIX-" "floor=$WORK/floor namespaces $PREFIX- owners" \
        "bare=$RSAP listening -A --no-process" "rsap=$RSAP listening -A" \
        2>"$WORK/stderr"
if [ -s "$WORK/stderr" ]; then
        echo "-- said on stderr, each line once:"
        sort -u "$WORK/stderr"
fi
