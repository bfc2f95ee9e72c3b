#!/bin/sh
# SPDX-License-Identifier: MIT
#
# How fast `rsap listening` and `rsap who` answer on a busy host, against ss
# and lsof: 10,000 listening TCP sockets and 2,000 bound UDP sockets spread
# over 20 processes, all on 127.0.0.1 and ::1, set up by bench/listen_load.c
# and torn down on exit, Ctrl-C included.  Prints the wall-time ratios of one
# hyperfine run and rsap's peak memory.  Needs cc, hyperfine, ss, lsof and
# python3; run it as root to compare like with like (ss -p and lsof then see
# every process too).
#
#     bench/listening.sh [RSAP]     (default: $RSAP, else build/cli/rsap)
#
# TCP, UDP, PROCS and RUNS in the environment change the load and the runs.
#
# lsof cannot list TCP listeners and UDP sockets in one run: with a TCP state
# filter (-sTCP:LISTEN) it drops every UDP socket, and Linux has no UDP states
# to filter on.  So the lsof side is its two runs, one per protocol, which
# together print the same sockets; the command of the issue (TCP only) is
# timed too, for reference.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
RSAP=${1:-${RSAP:-build/cli/rsap}}
TCP=${TCP:-10000}
UDP=${UDP:-2000}
PROCS=${PROCS:-20}
RUNS=${RUNS:-20}

for tool in cc hyperfine ss lsof python3; do
        command -v "$tool" >/dev/null || { echo "listening.sh: needs $tool" >&2; exit 2; }
done
[ -x "$RSAP" ] || { echo "listening.sh: no rsap at $RSAP (build it, or pass its path)" >&2; exit 2; }
RSAP=$(cd "$(dirname "$RSAP")" && pwd)/$(basename "$RSAP")

WORK=$(mktemp -d)
LOAD=
cleanup() {
        if [ -n "$LOAD" ]; then
                kill "$LOAD" 2>/dev/null || true
                wait "$LOAD" 2>/dev/null || true
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -std=c17 -O2 -D_GNU_SOURCE -o "$WORK/listen_load" "$HERE/listen_load.c"
# Each child raises its own soft limit; the hard one must allow it.
per_process=$(( (TCP + UDP) / PROCS + 64 ))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$per_process" ] ||
        { echo "listening.sh: ulimit -Hn is below $per_process" >&2; exit 2; }

echo "Setting up $TCP TCP listeners and $UDP UDP sockets in $PROCS processes..."
"$WORK/listen_load" "$TCP" "$UDP" "$PROCS" >"$WORK/ready" &
LOAD=$!
for _ in $(seq 600); do
        grep -q '^ready' "$WORK/ready" 2>/dev/null && break
        kill -0 "$LOAD" 2>/dev/null || { echo "listening.sh: the load failed" >&2; exit 1; }
        sleep 0.1
done
# `rsap who PORT` asks about a port of the process in the middle of the load
# (as a walk of /proc meets them) that no other socket shares: the kernel may
# give the same number to sockets on 127.0.0.1 and ::1.
PORT=
for candidate in $(sed -n 's/^ready //p' "$WORK/ready"); do
        if [ "$(ss -Hltun "sport = :$candidate" | wc -l)" = 1 ]; then
                PORT=$candidate
                break
        fi
done
[ -n "$PORT" ] || { echo "listening.sh: the load did not get ready" >&2; exit 1; }

LSOF_TCP="lsof -nP -iTCP -sTCP:LISTEN"
LSOF_BOTH="sh -c '$LSOF_TCP; lsof -nP -iUDP'"
LSOF_ISSUE="lsof -nP -iTCP -sTCP:LISTEN -iUDP"

# Every tool must print every socket of the load (and rsap who the same
# sockets as ss with its filter), or the times mean nothing.
want=$((TCP + UDP))
rsap_n=$("$RSAP" listening | grep -c 'listen_load\[') || true
ss_n=$(ss -ltunp | grep -c '"listen_load"') || true
lsof_n=$(sh -c "$LSOF_TCP; lsof -nP -iUDP" | grep -c '^listen_lo') || true
issue_n=$($LSOF_ISSUE | grep -c '^listen_lo') || true
who_n=$("$RSAP" who "$PORT" | grep -c 'listen_load\[') || true
ss_who_n=$(ss -ltunp "sport = :$PORT" | grep -c '"listen_load"') || true
echo "Load sockets printed: rsap listening $rsap_n, ss -ltunp $ss_n, lsof (two runs) $lsof_n," \
     "lsof as in the issue $issue_n (TCP only); port $PORT: rsap who $who_n, ss $ss_who_n"
if [ "$rsap_n" != "$want" ] || [ "$ss_n" != "$want" ] || [ "$lsof_n" != "$want" ] ||
   [ "$who_n" != "$ss_who_n" ] || [ "$who_n" = 0 ]; then
        echo "listening.sh: the tools do not print the same sockets" >&2
        exit 1
fi

# Peak resident memory of one run, from the kernel's own count (KiB), by a
# tiny C program: the kernel counts the memory of whatever forked rsap
# before the exec too, so a python or shell parent would be counted.
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
peak_kib() {
        "$WORK/peak" "$@" || { echo "listening.sh: $* failed" >&2; exit 1; }
}
peak_listening=$(peak_kib "$RSAP" listening)
peak_json=$(peak_kib "$RSAP" listening --json)
peak_who=$(peak_kib "$RSAP" who "$PORT")

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/listening.json" \
        -n "rsap listening" "$RSAP listening" \
        -n "ss -ltunp" "ss -ltunp" \
        -n "lsof (TCP and UDP)" "$LSOF_BOTH" \
        -n "rsap listening --no-process" "$RSAP listening --no-process"
# Alone: lsof exits 1 when one of its -i selections (here -iUDP) lists nothing.
hyperfine -N --ignore-failure --warmup 3 --runs "$RUNS" --export-json "$WORK/issue.json" \
        -n "lsof (as in the issue)" "$LSOF_ISSUE"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/who.json" \
        -n "rsap who" "$RSAP who $PORT" \
        -n "ss sport" "ss -ltunp 'sport = :$PORT'"

python3 - "$WORK/listening.json" "$WORK/issue.json" "$WORK/who.json" \
        "$peak_listening" "$peak_json" "$peak_who" <<'EOF'
import json, sys

def means(path):
    return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}

listing, who = means(sys.argv[1]), means(sys.argv[3])
listing.update(means(sys.argv[2]))
peaks = [int(k) / 1024 for k in sys.argv[4:7]]
rows = [
    ("rsap listening vs ss -ltunp", listing["ss -ltunp"] / listing["rsap listening"], 3),
    ("rsap listening vs lsof (TCP and UDP)",
     listing["lsof (TCP and UDP)"] / listing["rsap listening"], 4),
    ("rsap listening vs lsof as in the issue (TCP only)",
     listing["lsof (as in the issue)"] / listing["rsap listening"], 4),
    ("rsap who PORT vs ss -ltunp 'sport = :PORT'", who["ss sport"] / who["rsap who"], 5),
]
print()
print("Wall time, mean of the runs (ms): " + ", ".join(
    f"{name} {mean * 1000:.1f}" for name, mean in list(listing.items()) + list(who.items())))
for name, ratio, goal in rows:
    print(f"{name:55s} {ratio:5.1f}x  (goal {goal}x: {'met' if ratio >= goal else 'MISSED'})")
for name, mib in zip(("rsap listening", "rsap listening --json", "rsap who PORT"), peaks):
    print(f"{'peak memory of ' + name:55s} {mib:5.1f} MiB (goal < 20 MiB: "
          f"{'met' if mib < 20 else 'MISSED'})")
EOF
