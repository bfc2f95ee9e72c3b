#!/bin/sh
# SPDX-License-Identifier: MIT
#
# What following a host's listeners costs: the change engine (lib/listen/
# watch.c) against a shell loop of ss at the same interval.  LOAD sockets
# (default 10,000; five in six listening TCP, one in six bound UDP, on
# 127.0.0.1 and ::1, in PROCS=20 processes of bench/listen_load.c, torn down
# on exit, Ctrl-C included), nothing else changing.  Each side runs N seconds
# (default 10) at a 1 s interval:
#
#   engine  bench-watch-cost engine N 1000: the engine as rsapd's recorder
#           drives it, every socket reported at the start with its owners;
#           the CPU of the N dumps after that first step (user + system,
#           every thread), the first step's own CPU reported apart;
#   cli     timeout -s INT N rsap listening --watch: the whole command, its
#           start (the registry, the first dump, the owners' walk) included;
#   ss-ltn  the loop `ss -ltn >/dev/null; sleep 1`, N times, as one would
#           write it: TCP only, no owners, and the shell's forks counted;
#   ss-ltun the same loop over TCP and UDP, the sockets the engine follows.
#   rsapd   rsapd's recorder thread (daemon/recorder.c: the engine, the store's
#           intervals, the squatter findings' hooks) in an rsapd of its own,
#           on a fresh SQLite registry, --listeners-interval 1000: its CPU
#           over N seconds from /proc/PID/task/TID/stat, after its first step
#           (every socket written as an interval) is done.
#
# Every round runs each side once, in an order shuffled anew, one at a time;
# the ratio of each side's CPU time to the engine's is taken within the round
# and the median of those ratios printed, with each side's median CPU time and
# share of one core (CPU time / wall time).  Before timing, the engine and ss
# are checked to see the whole load.  Asserts nothing; needs cc, ss, shuf,
# timeout; any user (the owners of other users' processes are then not read,
# which costs less).  Goal: the engine under 2% of one core at 10,000
# listeners.
#
#     bench/watch.sh [BUILD_DIR] [ROUNDS]     (defaults: build, 7)
#
# LOAD, PROCS and N in the environment change the load and the length.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
ROUNDS=${2:-7}
LOAD=${LOAD:-10000}
PROCS=${PROCS:-20}
N=${N:-10}
RSAP=$BUILD/cli/rsap
COST=$BUILD/bench/bench-watch-cost
RSAPD=$BUILD/daemon/rsapd

for tool in cc ss shuf timeout; do
        command -v "$tool" >/dev/null || { echo "watch.sh: needs $tool" >&2; exit 2; }
done
[ -x "$RSAP" ] || { echo "watch.sh: no rsap in $BUILD/cli (build first)" >&2; exit 2; }
[ -x "$COST" ] || { echo "watch.sh: no bench-watch-cost in $BUILD/bench" >&2; exit 2; }
SS=$(command -v ss)
TIMEOUT=$(command -v timeout)

WORK=$(mktemp -d)
LOADER=
cleanup() {
        if [ -n "$LOADER" ]; then
                kill "$LOADER" 2>/dev/null || true
                wait "$LOADER" 2>/dev/null || true
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/listen_load" "$HERE/listen_load.c"
tcp=$((LOAD * 5 / 6))
udp=$((LOAD - tcp))
"$WORK/listen_load" "$tcp" "$udp" "$PROCS" >"$WORK/ready" &
LOADER=$!
for _ in $(seq 600); do
        grep -q '^ready' "$WORK/ready" 2>/dev/null && break
        kill -0 "$LOADER" 2>/dev/null || { echo "watch.sh: the load failed" >&2; exit 1; }
        sleep 0.1
done
grep -q '^ready' "$WORK/ready" || { echo "watch.sh: the load never got ready" >&2; exit 1; }

# The loops, as a script each: bench-watch-cost runs one command.
for args in ltn ltun; do
        printf 'i=0\nwhile [ $i -lt %s ]; do %s -%s >/dev/null; sleep 1; i=$((i + 1)); done\n' \
                "$N" "$SS" "$args" >"$WORK/ss-$args.sh"
done

# Both sides see the load: the engine follows every socket, ss lists the TCP ones.
seen=$("$COST" engine 1 1000 | awk '{ print $5 }')
[ "$seen" -ge "$LOAD" ] || { echo "watch.sh: the engine follows $seen sockets, not $LOAD" >&2; exit 1; }
listed=$("$SS" -ltn | wc -l)
[ "$listed" -gt "$tcp" ] || { echo "watch.sh: ss lists $listed TCP listeners, not $tcp" >&2; exit 1; }

# The recorder thread's CPU seconds (user + system) now, from its stat line.
thread_cpu() {
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "$1"
}

recorder_cost() {
        db="$WORK/rsapd-db"
        rm -rf "$db"
        mkdir -p "$db"
        "$RSAPD" --db-dir "$db" --listen 127.0.0.1:0 --listeners-interval 1000 --no-access-log \
                >"$WORK/rsapd.log" 2>&1 &
        pid=$!
        tid=
        for _ in $(seq 300); do
                tid=$(grep -l '^rsapd-recorder$' /proc/$pid/task/*/comm 2>/dev/null | head -1 |
                        cut -d/ -f5)
                [ -n "$tid" ] && grep -q 'listening on' "$WORK/rsapd.log" && break
                sleep 0.1
        done
        [ -n "$tid" ] || { echo "watch.sh: rsapd has no recorder: $(cat "$WORK/rsapd.log")" >&2; exit 1; }
        sleep 5 # the first step: every socket, its owners, an interval each
        c0=$(thread_cpu "/proc/$pid/task/$tid/stat")
        w0=$(date +%s.%N)
        sleep "$N"
        c1=$(thread_cpu "/proc/$pid/task/$tid/stat")
        w1=$(date +%s.%N)
        kill "$pid"
        wait "$pid" || true
        awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" \
                'BEGIN { printf "rsapd %.4f %.4f\n", c1 - c0, w1 - w0 }'
}

run_side() {
        case $1 in
        rsapd) recorder_cost ;;
        engine) "$COST" engine "$N" 1000 ;;
        cli) "$COST" command "$N" "$TIMEOUT" -s INT "$N" "$RSAP" listening --watch \
                --interval 1000 2>/dev/null ;;
        ss-ltn) "$COST" command "$N" sh "$WORK/ss-ltn.sh" ;;
        ss-ltun) "$COST" command "$N" sh "$WORK/ss-ltun.sh" ;;
        esac
}

SIDES="engine cli ss-ltn ss-ltun rsapd"
echo "watch.sh: $LOAD sockets ($tcp TCP, $udp UDP) in $PROCS processes, $N s per side," \
        "$ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
        for side in $(printf '%s\n' $SIDES | shuf); do
                run_side "$side" | sed "s/^[a-z]*/$round $side/" >>"$WORK/results"
        done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Per side: the median CPU seconds, share of one core and ratio to the
# engine within the round; the engine's first step apart.
awk -v sides="$SIDES" '
function median(list, n,    i, j, t) {
        for (i = 2; i <= n; i++)
                for (j = i; j > 1 && list[j - 1] > list[j]; j--) {
                        t = list[j]; list[j] = list[j - 1]; list[j - 1] = t
                }
        return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
}
{ cpu[$1, $2] = $3; wall[$1, $2] = $4; if ($2 == "engine") start[$1] = $5; rounds[$1] = 1 }
END {
        n = split(sides, side, " ")
        printf "%-8s %12s %12s %18s\n", "side", "CPU s", "% of a core", "CPU / engine"
        for (s = 1; s <= n; s++) {
                k = 0
                for (r in rounds) {
                        k++
                        c[k] = cpu[r, side[s]]
                        p[k] = 100 * cpu[r, side[s]] / wall[r, side[s]]
                        q[k] = cpu[r, "engine"] > 0 ? cpu[r, side[s]] / cpu[r, "engine"] : 0
                }
                printf "%-8s %12.4f %11.3f%% %17.2fx\n", side[s], median(c, k), median(p, k),
                       median(q, k)
        }
        k = 0
        for (r in rounds)
                f[++k] = start[r]
        printf "the engine'\''s first step (every socket, every owner): %.4f s of CPU\n",
               median(f, k)
}' "$WORK/results"
