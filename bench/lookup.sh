#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Whole-process lookups: `rsap 1647` (the built-in registry, and IANA's full
# XML registry cached by `rsap update` when the shared data is at hand) against
# glibc's `getent services 1647/tcp`, measured in the same hyperfine run.  With
# the XML at hand, also the wall time and peak RSS of `rsap update --from XML`.
# Prints each figure's ratio to its goal; asserts nothing.
#
#     bench/lookup.sh [BUILD_DIR]        (default: build; needs hyperfine)
#
# RSAP_SHARED_DATA points at IANA's files (default: ../shared/data/iana beside
# the source tree).
set -euo pipefail

LOOKUP_GOAL=1.0          # rsap's mean time at most getent's
UPDATE_GOAL_SECONDS=0.5
UPDATE_GOAL_KIB=$((30 * 1024))

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
rsap=$(cd "$build_dir" 2>/dev/null && pwd)/cli/rsap
shared=${RSAP_SHARED_DATA:-$src_root/../shared/data/iana}
xml=$shared/service-names-port-numbers.xml

die() {
        echo "lookup.sh: $*" >&2
        exit 1
}

[ -x "$rsap" ] || die "no rsap in $build_dir/cli: build first (ninja -C $build_dir)"
command -v hyperfine >/dev/null || die "hyperfine is not installed"
# getent reads services(5) from /etc/services, which Debian ships in netbase.
[ -f /etc/services ] || die "no /etc/services: install the package netbase"
# netbase lists no 1647: getent then reads the whole file and exits 2, its
# slowest answer.  hyperfine must not stop at that exit status.
ignore=()
if ! getent services 1647/tcp >/dev/null; then
        echo "lookup.sh: /etc/services has no 1647/tcp: getent's time is a full scan (a miss)"
        ignore=(--ignore-failure)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty" "$work/full" "$work/update"
export NO_COLOR=1
"$rsap" --db-dir "$work/empty" 1647 >/dev/null || die "rsap 1647 fails"

# A statistic (mean, median) in seconds of a named command in hyperfine's JSON.
stat() {
        python3 -c 'import json, sys
print(next(r[sys.argv[3]] for r in json.load(open(sys.argv[1]))["results"]
           if r["command"] == sys.argv[2]))' "$1" "$2" "$3"
}

ratio() {
        python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"
}

ms() {
        python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1e3:.3f} ms")' "$1"
}

# An empty data directory has no cached copy, so rsap uses the built-in one.
commands=(-n rsap-builtin "$rsap --db-dir $work/empty 1647")
if [ -f "$xml" ]; then
        "$rsap" update --db-dir "$work/full" --from "$xml" >/dev/null
        commands+=(-n rsap-xml "$rsap --db-dir $work/full 1647")
else
        echo "lookup.sh: no $xml: the full-registry figures are left out"
fi
commands+=(-n getent "getent services 1647/tcp")

hyperfine -N --warmup 20 --runs 300 --style basic --export-json "$work/lookup.json" \
        ${ignore[@]+"${ignore[@]}"} "${commands[@]}"

echo
echo "== whole-process lookup of 1647 (goal: rsap/getent at most ${LOOKUP_GOAL}x, on the mean)"
getent_mean=$(stat "$work/lookup.json" getent mean)
getent_median=$(stat "$work/lookup.json" getent median)
printf '%-13s mean %10s  median %10s\n' getent "$(ms "$getent_mean")" "$(ms "$getent_median")"
for name in rsap-builtin rsap-xml; do
        [ "$name" = rsap-xml ] && [ ! -f "$xml" ] && continue
        m=$(stat "$work/lookup.json" "$name" mean)
        med=$(stat "$work/lookup.json" "$name" median)
        printf '%-13s mean %10s  median %10s  rsap/getent %sx (median %sx)\n' \
                "$name" "$(ms "$m")" "$(ms "$med")" "$(ratio "$m" "$getent_mean")" \
                "$(ratio "$med" "$getent_median")"
done

[ -f "$xml" ] || exit 0

echo
echo "== rsap update --from $(basename "$xml")"
hyperfine -N --warmup 2 --runs 20 --style basic --export-json "$work/update.json" \
        -n update "$rsap update --db-dir $work/update --from $xml"
update_mean=$(stat "$work/update.json" update mean)
# rsap execs rsap-update in its own process, so time(1) sees the importer's peak.
peak=0
for _ in 1 2 3; do
        kib=$(/usr/bin/time -f %M "$rsap" update --db-dir "$work/update" --from "$xml" \
                2>&1 >/dev/null | tail -n 1)
        [ "$kib" -gt "$peak" ] && peak=$kib
done
printf 'wall time %12s   goal %.1f s      ratio to goal %s\n' "$(ms "$update_mean")" \
        "$UPDATE_GOAL_SECONDS" "$(ratio "$update_mean" "$UPDATE_GOAL_SECONDS")"
printf 'peak RSS  %9s KiB   goal %d KiB  ratio to goal %s\n' "$peak" "$UPDATE_GOAL_KIB" \
        "$(ratio "$peak" "$UPDATE_GOAL_KIB")"
