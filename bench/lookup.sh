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
#                 at hand).
#
# With the XML at hand, also the wall time and peak RSS of `rsap update
# --from XML`.  Prints each figure beside its goal; asserts nothing.
#
#     bench/lookup.sh [BUILD_DIR] [ROUNDS]     (defaults: build, 1000)
#
# RSAP_SHARED_DATA points at IANA's files (default: ../shared/data/iana beside
# the source tree).
set -euo pipefail

LOOKUP_GOAL=0.8          # rsap's median per-round ratio to getent, at most
UPDATE_GOAL_SECONDS=0.5
UPDATE_GOAL_KIB=$((30 * 1024))

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || build_dir=${1:-build}
rounds=${2:-1000}
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
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty" "$work/localdb" "$work/cached" "$work/update"
export NO_COLOR=1
"$rsap" --db-dir "$work/empty" 1647 >/dev/null || die "rsap 1647 fails"

# A local registry with one approved assignment: rsap 1647 then opens it.
"$rsap" --db-dir "$work/localdb" request bench-svc --port 20123 --proto tcp \
        --description 'benchmark service' --assignee 'Ops <ops@example.com>' \
        --contact ops@example.com >/dev/null
"$rsap" --db-dir "$work/localdb" approve 1 >/dev/null
[ -f "$work/localdb/registry.db" ] || die "no registry.db after rsap request and approve"

commands=("rsap-builtin=$rsap --db-dir $work/empty 1647"
          "rsap-localdb=$rsap --db-dir $work/localdb 1647")
if [ -f "$xml" ]; then
        "$rsap" update --db-dir "$work/cached" --from "$xml" >/dev/null
        commands+=("rsap-cached=$rsap --db-dir $work/cached 1647")
else
        echo "lookup.sh: no $xml: the cached-copy figures are left out"
fi

echo "== whole-process lookup of 1647 (goal: rsap-builtin/getent at most ${LOOKUP_GOAL}x," \
     "median of per-round ratios)"
"$pairtime" "$rounds" 20 "${commands[@]}" "getent=$getent_path services 1647/tcp"

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
