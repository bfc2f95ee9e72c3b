#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# What reads the whole local registry, on registries of three sizes made by
# bench/registry_gen.py (500 assignments and 10,000 events, 5,000/100,000,
# 50,000/1,000,000):
#   - `rsap audit` against `rsap listening --db` with 10,000 listening TCP
#     sockets (bench/listen_load.c), interleaved by bench-pairtime (goal: the
#     median per-round ratio at most 1.5);
#   - `rsap audit --consistency`, its median wall time (goal: under 2 s on the
#     biggest registry), few rounds, and with --full (SQLite's integrity_check);
#   - `rsap export --local --format json`, its peak resident memory (KiB, from
#     /usr/bin/time -f %M), which should not grow with the registry;
#   - rsapd's `GET /` and `GET /metrics` (goal: under 5 ms), rsapd on
#     127.0.0.1 with a port the kernel chose, the median of sequential requests
#     on one keep-alive connection after a warm-up.
#
#     bench/registry_read.sh [BUILD_DIR] [ROUNDS]      (default: build, 10)
#
# SIZES ("500:10000 5000:100000 50000:1000000"), TCP (10000) and PROCS (20)
# in the environment change the load.  REGISTRY_DIR may hold registries made
# before, named reg-ASSIGNMENTS-EVENTS.db (any schema this rsap upgrades):
# each is copied, never changed, instead of being generated again (the big
# one takes minutes).  Nothing listens outside 127.0.0.1 and ::1.
set -euo pipefail

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || build_dir=${1:-build}
rounds=${2:-10}
sizes=${SIZES:-500:10000 5000:100000 50000:1000000}
tcp=${TCP:-10000}
procs=${PROCS:-20}
rsap=$build_dir/cli/rsap
rsapd=$build_dir/daemon/rsapd
pairtime=$build_dir/bench/bench-pairtime

die() {
        echo "registry_read.sh: $*" >&2
        exit 1
}

[ -x "$rsap" ] || die "no rsap in $build_dir/cli: build first (ninja -C $build_dir)"
[ -x "$rsapd" ] || die "no rsapd in $build_dir/daemon"
[ -x "$pairtime" ] || die "no bench-pairtime in $build_dir/bench"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (the package time)"
for tool in cc python3; do
        command -v "$tool" >/dev/null || die "needs $tool"
done

work=$(mktemp -d)
load_pid=
daemon_pid=
cleanup() {
        for pid in $daemon_pid $load_pid; do
                kill "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export NO_COLOR=1

# registry A E: the path of a registry of A assignments and E events.
registry() {
        local db=$work/reg-$1-$2.db
        if [ -n "${REGISTRY_DIR:-}" ] && [ -f "$REGISTRY_DIR/reg-$1-$2.db" ]; then
                cp "$REGISTRY_DIR/reg-$1-$2.db" "$db"
        else
                "$rsap" import "$work/empty.json" --db "$db" >/dev/null
                python3 "$src_root/bench/registry_gen.py" "$db" "$1" "$2" >/dev/null
        fi
        # A write command brings an older schema up to this rsap's (nothing imported).
        "$rsap" import "$work/empty.json" --db "$db" >/dev/null
        echo "$db"
}

start_load() {
        cc -std=c17 -O2 -D_GNU_SOURCE -o "$work/listen_load" "$src_root/bench/listen_load.c"
        [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $((tcp / procs + 64)) ] ||
                die "ulimit -Hn is below $((tcp / procs + 64))"
        "$work/listen_load" "$tcp" 0 "$procs" >"$work/ready" &
        load_pid=$!
        for _ in $(seq 600); do
                grep -q '^ready' "$work/ready" 2>/dev/null && return 0
                kill -0 "$load_pid" 2>/dev/null || die "the load failed"
                sleep 0.1
        done
        die "the load did not get ready"
}

# http_medians PORT: median milliseconds of GET / and GET /metrics.
http_medians() {
        python3 - "$1" <<'EOF'
import http.client, statistics, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
def once(path):
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200 or not body:
        sys.exit(f"GET {path}: status {response.status}")
    return (time.perf_counter() - start) * 1000
out = []
for path in ("/", "/metrics"):
    for _ in range(20):
        once(path)
    out.append(statistics.median(once(path) for _ in range(200)))
print(" ".join(f"{ms:.2f}" for ms in out))
EOF
}

# daemon DB: starts rsapd on the registry; sets port to the one it listens on.
daemon() {
        "$rsapd" --db-dir "$work/daemon" --db "$1" --listen 127.0.0.1:0 --metrics-interval 1 \
                >"$work/rsapd.log" 2>&1 &
        daemon_pid=$!
        for _ in $(seq 600); do
                port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' \
                        "$work/rsapd.log" | head -1)
                [ -n "$port" ] && return 0
                kill -0 "$daemon_pid" 2>/dev/null || die "rsapd failed: $(cat "$work/rsapd.log")"
                sleep 0.1
        done
        die "rsapd did not start"
}

stop_daemon() {
        kill "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=
}

printf '{"kind": "local-registry", "assignments": []}\n' >"$work/empty.json"
mkdir -p "$work/daemon"
echo "rsap: $rsap"
echo "machine: $(nproc) CPUs, $(uname -r); $rounds rounds; $tcp listening TCP sockets"
start_load
summary=()
for size in $sizes; do
        a=${size%%:*}
        e=${size##*:}
        db=$(registry "$a" "$e")
        echo
        echo "== $a assignments, $e events ($(($(stat -c %s "$db") / 1048576)) MiB)"
        # Other loads on the machine add their sockets: both sides see them alike.
        listed=$("$rsap" listening --db "$db" | grep -c 'listen_load\[') || true
        [ "$listed" -ge "$tcp" ] || die "rsap listening shows $listed of the $tcp sockets"
        echo "sockets listed: $("$rsap" listening --db "$db" | wc -l) ($listed of load processes)"
        "$rsap" audit --db "$db" >/dev/null && die "rsap audit finds nothing on this load"
        echo "-- rsap audit against rsap listening --db (goal: at most 1.5x)"
        "$pairtime" "$rounds" 2 "audit=$rsap audit --db $db" \
                "listening=$rsap listening --db $db" | tee "$work/audit.txt"
        echo "-- rsap audit --consistency (goal: under 2 s on the biggest)"
        "$rsap" audit --consistency --db "$db" >/dev/null || die "the registry is not consistent"
        "$pairtime" 3 1 "consistency=$rsap audit --consistency --db $db" \
                "full=$rsap audit --consistency --full --db $db" "true=/bin/true" |
                tee "$work/consistency.txt"
        peak=$( { /usr/bin/time -f %M "$rsap" export --local --format json --db "$db" \
                >/dev/null; } 2>&1 | tail -1)
        echo "-- rsap export --local --format json: peak $peak KiB"
        daemon "$db"
        sleep 2 # the first refresh of /metrics' figures
        read -r home metrics < <(http_medians "$port")
        stop_daemon
        echo "-- rsapd: GET / $home ms, GET /metrics $metrics ms (medians of 200; goal: under 5 ms)"
        summary+=("$(printf '%6s/%-8s audit/listening %s  consistency %s ms  export %s KiB  / %s ms  /metrics %s ms' \
                "$a" "$e" "$(awk '$1 == "audit" {print $4}' "$work/audit.txt")" \
                "$(awk '$1 == "consistency" {print $2}' "$work/consistency.txt")" \
                "$peak" "$home" "$metrics")")
done
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
