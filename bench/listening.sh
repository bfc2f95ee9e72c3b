#!/bin/sh
# SPDX-License-Identifier: MIT
#
# How fast `rsap listening` and `rsap who PORT` answer on a busy host, against
# the floor (bench/listen_floor.c: the same kernel work, done once, in one
# thread, printing nothing), ss and lsof.  For each load size, SIZES sockets
# (five in six listening TCP, one in six bound UDP, on 127.0.0.1 and ::1)
# spread over PROCS processes by bench/listen_load.c, torn down on exit,
# Ctrl-C included:
#
#   listing  rsap listening, ss -ltunp, one lsof pass over TCP and UDP, and the
#            floor's listing, run by bench-pairtime: every round runs each
#            once, in an order shuffled anew, and ratios are taken to rsap
#            within the round (rsap/floor is the inverse of floor/rsap);
#   who      rsap who PORT, ss -ltunp 'sport = :PORT' and the floor's who,
#            for a port of the process that comes first, in the middle and
#            last in pid order (the walk of /proc stops early: where the
#            owner is decides its cost);
#   memory   rsap's peak RSS for listening, listening --json and who.
#
# Before timing, each command's output is checked to name every socket of
# the load (and rsap who the sockets ss names): both sides do the same work
# and print the same sockets.  Wall and CPU time are both shown: rsap's dumps
# and walk use up to four threads, the floor one.  Asserts nothing; needs cc,
# ss, lsof; run it as root so that ss -p, lsof and rsap all see every process.
#
#     bench/listening.sh [BUILD_DIR] [ROUNDS]     (defaults: build, 21)
#
# SIZES (default "1000 10000 50000") and PROCS (20) in the environment change
# the loads; BASE_RSAP, another build's rsap, is timed in the same rounds
# (before and after a change, on the same machine at the same moments).
# Only the load's own processes are counted: other programs' sockets may be
# on the host too, and every tool lists them alike.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
ROUNDS=${2:-21}
SIZES=${SIZES:-1000 10000 50000}
PROCS=${PROCS:-20}
RSAP=$BUILD/cli/rsap
PAIRTIME=${PAIRTIME:-$BUILD/bench/bench-pairtime}
BASE_RSAP=${BASE_RSAP:-}

for tool in cc ss lsof; do
        command -v "$tool" >/dev/null || { echo "listening.sh: needs $tool" >&2; exit 2; }
done
[ -x "$RSAP" ] || { echo "listening.sh: no rsap in $BUILD/cli (build first)" >&2; exit 2; }
[ -x "$PAIRTIME" ] || { echo "listening.sh: no bench-pairtime in $BUILD/bench" >&2; exit 2; }
LSOF=$(command -v lsof)
SS=$(command -v ss)

WORK=$(mktemp -d)
LOAD=
stop_load() {
        if [ -n "$LOAD" ]; then
                kill "$LOAD" 2>/dev/null || true
                wait "$LOAD" 2>/dev/null || true
        fi
        LOAD=
}
cleanup() {
        stop_load
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/listen_load" "$HERE/listen_load.c"
cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/floor" "$HERE/listen_floor.c"
# Peak resident memory of one run, from the kernel's own count (KiB), by a
# tiny C program: the kernel counts the memory of whatever forked rsap before
# the exec too, so a shell parent would be counted.
cat >"$WORK/peak.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
        struct rusage usage;
        int status;
        pid_t pid = fork();

        if (argc < 2 || pid < 0)
                return 2;
        if (pid == 0) {
                dup2(open("/dev/null", O_WRONLY), 1);
                execv(argv[1], argv + 1);
                _exit(127);
        }
        if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
                return 1;
        printf("%ld\n", usage.ru_maxrss);
        return 0;
}
EOF
cc -O2 -o "$WORK/peak" "$WORK/peak.c"

die() {
        echo "listening.sh: $*" >&2
        exit 1
}

# Starts the load and waits for its "ready" (binding tens of thousands of
# ports the kernel picks takes a while).
start_load() {
        tcp=$(($1 * 5 / 6))
        udp=$(($1 - tcp))
        per_process=$(($1 / PROCS + 64))
        [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$per_process" ] ||
                die "ulimit -Hn is below $per_process"
        "$WORK/listen_load" "$tcp" "$udp" "$PROCS" >"$WORK/ready" &
        LOAD=$!
        for _ in $(seq 3000); do
                grep -q '^ready' "$WORK/ready" 2>/dev/null && return 0
                kill -0 "$LOAD" 2>/dev/null || die "the load failed"
                sleep 0.1
        done
        die "the load did not get ready in 300 s"
}

# A port of the load's process at POSITION that no other process has a
# socket on: the ports listen_load reports are on both families.
port_at() {
        for port in $(sed -n "s/^$1 [0-9]* //p" "$WORK/ready"); do
                [ "$port" != 0 ] || continue
                owners=$("$SS" -Hltunp "sport = :$port" | grep -o 'pid=[0-9]*' | sort -u | wc -l)
                if [ "$owners" = 1 ]; then
                        echo "$port"
                        return 0
                fi
        done
        die "no port of the $1 process is its alone"
}

count() {
        "$@" 2>/dev/null | grep -cE "$PATTERN" || true
}

check_same_sockets() {
        want=$1
        pids=$(pgrep -P "$LOAD" | paste -sd'|')
        PATTERN="listen_load\[($pids)\]"
        rsap_n=$(count "$RSAP" listening)
        PATTERN="\"listen_load\",pid=($pids),"
        ss_n=$(count "$SS" -ltunp)
        PATTERN="^listen_lo +($pids) "
        lsof_n=$(count "$LSOF" -nP -iTCP -iUDP)
        echo "load sockets printed: rsap listening $rsap_n, ss -ltunp $ss_n, lsof $lsof_n (want $want)"
        [ "$rsap_n" = "$want" ] && [ "$ss_n" = "$want" ] && [ "$lsof_n" = "$want" ] ||
                die "the tools do not print the same sockets"
}

check_same_owners() {
        PATTERN='listen_load\['
        who_n=$(count "$RSAP" who "$1")
        PATTERN='"listen_load",'
        ss_n=$(count "$SS" -ltunp "sport = :$1")
        [ "$who_n" = "$ss_n" ] && [ "$who_n" != 0 ] ||
                die "port $1: rsap who prints $who_n sockets, ss $ss_n"
}

peak_mib() {
        kib=$("$WORK/peak" "$@") || die "$* failed"
        echo "$kib" | awk '{ printf "%.1f", $1 / 1024 }'
}

for size in $SIZES; do
        echo "== $size sockets ($((size * 5 / 6)) TCP listening, $((size - size * 5 / 6)) UDP)" \
             "in $PROCS processes"
        start_load "$size"
        check_same_sockets "$size"
        echo "-- listing (ratios to rsap listening; rsap/floor = 1 / the floor's ratio)"
        "$PAIRTIME" "$ROUNDS" 2 "floor=$WORK/floor list" "ss=$SS -ltunp" \
                "lsof=$LSOF -nP -iTCP -iUDP" ${BASE_RSAP:+"base=$BASE_RSAP listening"} \
                "rsap=$RSAP listening"
        for position in first middle last; do
                port=$(port_at "$position")
                check_same_owners "$port"
                echo "-- rsap who $port, the owner $position in pid order (ratios to rsap who)"
                "$PAIRTIME" "$ROUNDS" 2 "floor=$WORK/floor who $port" \
                        "ss=$SS -ltunp sport = :$port" ${BASE_RSAP:+"base=$BASE_RSAP who $port"} \
                        "rsap=$RSAP who $port"
        done
        echo "-- peak RSS: rsap listening $(peak_mib "$RSAP" listening) MiB," \
             "--json $(peak_mib "$RSAP" listening --json) MiB," \
             "who $(peak_mib "$RSAP" who "$port") MiB (goal: under 20 MiB)"
        stop_load
        echo
done
