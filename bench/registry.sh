#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The local registry as whole processes, against its size.  For registries
# of 500 assignments / 10,000 events, 5,000 / 100,000 and 50,000 /
# 1,000,000 (bench/registry_gen.py), each command is timed with
# bench-pairtime against the same command on an empty registry, interleaved
# and shuffled round by round; the median of the per-round ratios is the
# figure (goal: within 1.3x of the empty registry):
#   - rsap pick (the default range, 1024-49151);
#   - rsap lease (default range) then rsap release of its port, one shell
#     script run for both (lease-release.sh below: the shell's start is the
#     same on both sides);
#   - rsap 8443 and rsap history 8443.
# Then the absolute medians of rsap lease and rsap release, each timed alone
# (goal: under 3 ms), on a fresh registry and on the biggest, beside
# rsap --version timed the same way (the cost of any process).
# Prints figures; asserts nothing.
#
#     bench/registry.sh [BUILD_DIR]      (default: build; needs python3)
#
# ROUNDS (default 200) sets the rounds; the registries are made once per
# schema version and kept in $RSAP_BENCH_CACHE (default BUILD_DIR/bench-registries).
set -euo pipefail

# rsap pick and lease read every socket of the host (its listeners are a rule): on a
# machine shared with load tests that is tens of thousands of sockets, the same on
# both sides and nothing of the registry's.  So the benchmark runs in a network
# namespace of its own when it can (REGISTRY_BENCH_NETNS=0: on the host's).
if [ "${REGISTRY_BENCH_NETNS:-1}" = 1 ] && [ -z "${REGISTRY_BENCH_IN_NETNS:-}" ] &&
        unshare -n true 2>/dev/null; then
        REGISTRY_BENCH_IN_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
fi

ROUNDS=${ROUNDS:-200}
WARMUP=10
SIZES=("500 10000" "5000 100000" "50000 1000000")

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "registry.sh: no ${1:-build}" >&2; exit 1; }
rsap=$build_dir/cli/rsap
pairtime=$build_dir/bench/bench-pairtime

die() {
        echo "registry.sh: $*" >&2
        exit 1
}

[ -x "$rsap" ] || die "no rsap in $build_dir/cli: build first (ninja -C $build_dir)"
[ -x "$pairtime" ] || die "no bench-pairtime in $build_dir/bench: build first"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 RSAP_DB_DIR="$work/data"
printf '{"kind": "local-registry", "assignments": []}\n' >"$work/empty.json"

schema_of() {
        python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$1"
}

# The empty registry this rsap makes, and its schema version: the cache's key.
"$rsap" import "$work/empty.json" --db "$work/empty.db" >/dev/null
schema=$(schema_of "$work/empty.db")
cache=${RSAP_BENCH_CACHE:-$build_dir/bench-registries}/schema-$schema
mkdir -p "$cache"

# registry N EVENTS: the path of the cached registry of N assignments, made if missing.
registry() {
        local db="$cache/r-$1-$2.db"
        if [ ! -f "$db" ]; then
                rm -f "$db.tmp"*
                "$rsap" import "$work/empty.json" --db "$db.tmp" >/dev/null
                python3 "$src_root/bench/registry_gen.py" "$db.tmp" "$1" "$2" >/dev/null
                mv "$db.tmp" "$db"
                # Marks of the file under its other name, and not rsap's writes anyway.
                rm -f "$db.tmp-ports"
        fi
        echo "$db"
}

# A registry of one's own to write to: a copy of the cached one, log and all checkpointed.
writable_copy() { # writable_copy SRC DEST
        cp "$1" "$2"
        "$rsap" import "$work/empty.json" --db "$2" >/dev/null # upgrades an older schema
}

cat >"$work/lease-release.sh" <<'EOF'
port=$("$1" lease --pid 0 --db "$2") && "$1" release "$port" --db "$2" >/dev/null
EOF

echo "rsap: $rsap (schema $schema)"
sockets="the host's sockets"
[ -z "${REGISTRY_BENCH_IN_NETNS:-}" ] || sockets="a network namespace of its own"
echo "machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds; $sockets"
echo

for size in "${SIZES[@]}"; do
        set -- $size
        src=$(registry "$1" "$2")
        big="$work/big-$1.db"
        writable_copy "$src" "$big"
        cp "$work/empty.db" "$work/fresh-$1.db"
        fresh="$work/fresh-$1.db"
        # 8443/tcp is assigned from 15,000 assignments on (registry_gen.py fills from 1024).
        [ "$1" -lt 15000 ] || "$rsap" 8443 --db "$big" | grep -q "svc7419" ||
                die "rsap 8443 does not show the local assignment"
        echo "--- $1 assignments, $2 events ($(($(stat -c %s "$big") / 1048576)) MiB) against an empty registry"
        "$pairtime" "$ROUNDS" "$WARMUP" \
                "pick-$1=$rsap pick --db $big" "pick-empty=$rsap pick --db $fresh"
        "$pairtime" "$ROUNDS" "$WARMUP" \
                "lease+release-$1=bash $work/lease-release.sh $rsap $big" \
                "lease+release-empty=bash $work/lease-release.sh $rsap $fresh"
        "$pairtime" "$ROUNDS" "$WARMUP" \
                "8443-$1=$rsap 8443 --db $big" "8443-empty=$rsap 8443 --db $fresh"
        # The empty registry's answer is "no event recorded for 8443" (exit 1): not shown.
        "$pairtime" "$ROUNDS" "$WARMUP" \
                "history-$1=$rsap history 8443 --db $big" \
                "history-empty=$rsap history 8443 --db $fresh" 2>/dev/null
        echo
done

# --- absolute medians: rsap lease and rsap release, each alone ---------------------------------
# Lease then release, round by round, each process timed by itself (posix_spawn, as
# bench-pairtime does); rsap --version is timed the same way, for the cost of a process.
absolute() { # absolute LABEL DB
        python3 - "$rsap" "$2" "$ROUNDS" "$1" <<'EOF'
import resource, statistics, subprocess, sys, time
rsap, db, rounds, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def timed(argv, capture=False):
    """Wall and CPU seconds of one run (CPU time: what a loaded machine inflates least)."""
    c0, t0 = cpu(), time.perf_counter()
    out = subprocess.run(argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         check=True).stdout
    return (time.perf_counter() - t0, cpu() - c0), out

runs = {"lease": [], "release": [], "version": []}
for i in range(rounds + 10):
    t_l, out = timed([rsap, "lease", "--pid", "0", "--db", db], capture=True)
    t_r, _ = timed([rsap, "release", out.decode().strip(), "--db", db])
    t_v, _ = timed([rsap, "--version"])
    if i >= 10:
        runs["lease"].append(t_l), runs["release"].append(t_r), runs["version"].append(t_v)
ms = lambda name, k: statistics.median(t[k] for t in runs[name]) * 1000
print(f"{label:<20} wall: lease {ms('lease', 0):6.2f} ms  release {ms('release', 0):6.2f} ms"
      f"  (--version {ms('version', 0):5.2f});  CPU: lease {ms('lease', 1):5.2f} ms"
      f"  release {ms('release', 1):5.2f} ms  (--version {ms('version', 1):5.2f})")
EOF
}
echo "--- rsap lease and rsap release alone, medians of $ROUNDS (goal: under 3 ms each)"
absolute "fresh registry" "$work/fresh-50000.db"
absolute "50000 assignments" "$work/big-50000.db"
