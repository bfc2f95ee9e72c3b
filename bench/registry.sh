#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The local registry as whole processes, measured with hyperfine -N:
#   - `rsap lease` then `rsap release` on a fresh registry (goal: median
#     under 5 ms each), and the same on the big registry below;
#   - a registry of 50,000 assignments and 1,000,000 events (made by
#     bench/registry_gen.py): `rsap 8443` and `rsap history 8443` (goal:
#     under 10 ms each).
# Prints each median and its ratio to the goal (under 1.00 meets it);
# asserts nothing.
#
#     bench/registry.sh [BUILD_DIR]        (default: build; needs hyperfine, python3)
#
# RUNS (default 300) sets hyperfine's runs per command.
set -euo pipefail

LEASE_GOAL_MS=5
LOOKUP_GOAL_MS=10
ASSIGNMENTS=50000
EVENTS=1000000
RUNS=${RUNS:-300}

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
rsap=$(cd "$build_dir" 2>/dev/null && pwd)/cli/rsap

die() {
        echo "registry.sh: $*" >&2
        exit 1
}

[ -x "$rsap" ] || die "no rsap in $build_dir/cli: build first (ninja -C $build_dir)"
command -v hyperfine >/dev/null || die "hyperfine is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 RSAP_DB_DIR="$work/data"

# The median, in milliseconds, of the one command in hyperfine's JSON.
median_ms() {
        python3 -c 'import json, sys
median = json.load(open(sys.argv[1]))["results"][0]["median"]
print("%.2f" % (median * 1000))' "$1"
}

report() { # report LABEL JSON GOAL_MS
        local ms
        ms=$(median_ms "$2")
        printf '%-44s median %6.2f ms   goal %3d ms   ratio %s\n' "$1" "$ms" "$3" \
                "$(python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$ms" "$3")"
}

bench() { # bench JSON [HYPERFINE OPTIONS...] COMMAND
        local json=$1
        shift
        hyperfine -N --style none --warmup 10 --runs "$RUNS" --export-json "$json" "$@" \
                >/dev/null 2>"$work/hyperfine.err" || die "hyperfine: $(cat "$work/hyperfine.err")"
}

# lease_and_release DB LABEL: one port of DB, leased and released in turns.
lease_and_release() {
        local db=$1 label=$2 port
        port=$("$rsap" pick --range 30000-32000 --db "$db" | head -1)
        [ -n "$port" ] || die "no free port in 30000-32000 for the lease benchmark"
        local lease=("$rsap" lease --range "$port-$port" --pid 0 --db "$db")
        local release=("$rsap" release "$port" --db "$db")
        # Each timed lease follows an untimed release, and the other way round.
        "${lease[@]}" >/dev/null
        bench "$work/lease.json" --prepare "${release[*]}" "${lease[*]}"
        report "rsap lease ($label)" "$work/lease.json" "$LEASE_GOAL_MS"
        "${release[@]}" >/dev/null
        bench "$work/release.json" --prepare "${lease[*]}" "${release[*]}"
        report "rsap release ($label)" "$work/release.json" "$LEASE_GOAL_MS"
}

echo "rsap: $rsap"
echo "machine: $(nproc) CPUs, $(uname -r); $RUNS runs per command"
echo

# --- a fresh registry ------------------------------------------------------------------
printf '{"kind": "local-registry", "assignments": []}\n' >"$work/empty.json"
"$rsap" import "$work/empty.json" --db "$work/fresh.db" >/dev/null
lease_and_release "$work/fresh.db" "fresh registry"

# --- the big registry ------------------------------------------------------------------
"$rsap" import "$work/empty.json" --db "$work/big.db" >/dev/null
start=$(date +%s.%N)
python3 "$src_root/bench/registry_gen.py" "$work/big.db" "$ASSIGNMENTS" "$EVENTS" >/dev/null
printf 'big registry: %d assignments, %d events, %d MiB, made in %.1f s\n' "$ASSIGNMENTS" \
        "$EVENTS" $(($(stat -c %s "$work/big.db") / 1048576)) \
        "$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")"
"$rsap" 8443 --db "$work/big.db" | grep -q "svc7419" || die "rsap 8443 does not show the local assignment"
bench "$work/lookup.json" "$rsap 8443 --db $work/big.db"
report "rsap 8443 (big registry)" "$work/lookup.json" "$LOOKUP_GOAL_MS"
bench "$work/history.json" "$rsap history 8443 --db $work/big.db"
report "rsap history 8443 (big registry, $("$rsap" history 8443 --db "$work/big.db" | grep -c '^2') events)" \
        "$work/history.json" "$LOOKUP_GOAL_MS"
lease_and_release "$work/big.db" "big registry"
