#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Whole-process lookups: `rsap 1647` against glibc's `getent services
# 1647/tcp`, run interleaved by bench-pairtime: every round runs each command
# once, in an order shuffled anew, and the ratio to getent is taken within the
# round.  Prints each command's median wall time and the median of its
# per-round ratios, for
#
#   rsap-builtin  an empty data directory: the built-in copy, no registry.db;
#   rsap-localdb  the built-in copy with a local registry (registry.db, one
#                 approved assignment) in the data directory;
#   rsap-cached   IANA's XML cached by `rsap update` (when the shared data is
#                 at hand);
#
# first on the host as it is, then again with SOCKETS sockets (default
# 10,000; 0 skips it) on the host, set up by bench/listen_load.c (five in six
# listening TCP, on 127.0.0.1 and ::1, in 20 processes): the "on this host"
# line asks the kernel about port 1647, and a dump's cost is the walk of the
# kernel's socket tables.  Also the median CPU time and its ratio: rsap's
# dumps may run on two threads.
#
# With the XML at hand, also the wall time and peak RSS of `rsap update
# --from XML`.  Prints each figure beside its goal; asserts nothing.
#
#     bench/lookup.sh [BUILD_DIR] [ROUNDS]     (defaults: build, 1000)
#
# BASE_RSAP, another build's rsap, is timed in the same rounds (base-builtin,
# base-localdb), for a before and after on the same machine at the same
# moments.  RSAP_SHARED_DATA points at IANA's files (default: ../shared/data/iana beside
# the source tree).
set -euo pipefail

LOOKUP_GOAL=1.0          # rsap's median per-round ratio to getent, at most
UPDATE_GOAL_SECONDS=0.5
UPDATE_GOAL_KIB=$((30 * 1024))

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || build_dir=${1:-build}
rounds=${2:-1000}
sockets=${SOCKETS:-10000}
rsap=$build_dir/cli/rsap
pairtime=$build_dir/bench/bench-pairtime
shared=${RSAP_SHARED_DATA:-$src_root/../shared/data/iana}
xml=$shared/service-names-port-numbers.xml

die() {
        echo "lookup.sh: $*" >&2
        exit 1
}

[ -x "$rsap" ] || die "no rsap in $build_dir/cli: build first (ninja -C $build_dir)"
[ -x "$pairtime" ] || die "no bench-pairtime in $build_dir/bench: ninja -C $build_dir bench/bench-pairtime"
# getent reads services(5) from /etc/services, which Debian ships in netbase.
[ -f /etc/services ] || die "no /etc/services: install the package netbase"
getent_path=$(command -v getent) || die "no getent"
# netbase lists no 1647: getent then reads the whole file and exits 2, its
# slowest answer; bench-pairtime ignores exit statuses.
if ! getent services 1647/tcp >/dev/null; then
        echo "lookup.sh: /etc/services has no 1647/tcp: getent's time is a full scan (a miss)"
fi

work=$(mktemp -d)
load=
cleanup() {
        if [ -n "$load" ]; then
                kill "$load" 2>/dev/null || true
                wait "$load" 2>/dev/null || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$work/empty" "$work/localdb" "$work/cached" "$work/update"
export NO_COLOR=1
"$rsap" --db-dir "$work/empty" 1647 >/dev/null || die "rsap 1647 fails"

# A local registry with one approved assignment: rsap 1647 then opens it.
"$rsap" --db-dir "$work/localdb" request bench-svc --port 20123 --proto tcp \
        --description 'benchmark service' --assignee 'Ops <ops@example.com>' \
        --contact ops@example.com >/dev/null
"$rsap" --db-dir "$work/localdb" approve 1 >/dev/null
[ -f "$work/localdb/registry.db" ] || die "no registry.db after rsap request and approve"

# rsap-localdb asks about a port the registry has nothing on, the usual
# lookup (its port marks answer); rsap-local-entry about the one it has
# (SQLite is opened and asked).
commands=("rsap-builtin=$rsap --db-dir $work/empty 1647"
          "rsap-localdb=$rsap --db-dir $work/localdb 1647"
          "rsap-local-entry=$rsap --db-dir $work/localdb 20123")
if [ -n "${BASE_RSAP:-}" ]; then
        commands+=("base-builtin=$BASE_RSAP --db-dir $work/empty 1647"
                   "base-localdb=$BASE_RSAP --db-dir $work/localdb 1647")
fi
if [ -f "$xml" ]; then
        "$rsap" update --db-dir "$work/cached" --from "$xml" >/dev/null
        commands+=("rsap-cached=$rsap --db-dir $work/cached 1647")
else
        echo "lookup.sh: no $xml: the cached-copy figures are left out"
fi

echo "== whole-process lookup of 1647 (goal: rsap/getent at most ${LOOKUP_GOAL}x," \
     "median of per-round ratios)"
"$pairtime" "$rounds" 20 "${commands[@]}" "getent=$getent_path services 1647/tcp"

if [ "$sockets" -gt 0 ]; then
        command -v cc >/dev/null || die "no cc to build bench/listen_load.c (SOCKETS=0 skips)"
        cc -std=c17 -O2 -D_GNU_SOURCE -o "$work/listen_load" "$src_root/bench/listen_load.c"
        "$work/listen_load" $((sockets * 5 / 6)) $((sockets - sockets * 5 / 6)) 20 \
                >"$work/ready" &
        load=$!
        for _ in $(seq 3000); do
                grep -q '^ready' "$work/ready" 2>/dev/null && break
                kill -0 "$load" 2>/dev/null || die "the load failed"
                sleep 0.1
        done
        grep -q '^ready' "$work/ready" || die "the load did not get ready"
        echo
        echo "== the same with $sockets sockets on the host (goal: at most ${LOOKUP_GOAL}x)"
        "$pairtime" "$rounds" 20 "${commands[@]}" "getent=$getent_path services 1647/tcp"
        kill "$load"
        wait "$load" 2>/dev/null || true
        load=
fi

[ -f "$xml" ] || exit 0

echo
echo "== rsap update --from $(basename "$xml") (goal: under ${UPDATE_GOAL_SECONDS} s and" \
     "$((UPDATE_GOAL_KIB / 1024)) MiB)"
# rsap execs rsap-update in its own process, so time(1) sees the importer's
# peak; five runs, the median wall time and the largest peak.
for _ in 1 2 3 4 5; do
        /usr/bin/time -f '%e %M' "$rsap" update --db-dir "$work/update" --from "$xml" \
                2>&1 >/dev/null | tail -n 1
done | python3 -c '
import statistics, sys
runs = [line.split() for line in sys.stdin]
wall = statistics.median(float(r[0]) for r in runs)
peak = max(int(r[1]) for r in runs)
goal_s, goal_kib = float(sys.argv[1]), int(sys.argv[2])
print(f"wall time {wall * 1e3:9.0f} ms   goal {goal_s * 1e3:.0f} ms    ratio to goal {wall / goal_s:.2f}")
print(f"peak RSS  {peak:9d} KiB  goal {goal_kib} KiB ratio to goal {peak / goal_kib:.2f}")
' "$UPDATE_GOAL_SECONDS" "$UPDATE_GOAL_KIB"
