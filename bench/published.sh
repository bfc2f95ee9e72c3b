#!/bin/sh
# SPDX-License-Identifier: MIT
#
# What reading the DNAT rules of nf_tables costs `rsap who PORT` and `rsap
# listening`: this build's rsap against BASE_RSAP (a build from before
# published ports, which reads no rules) in a network namespace of the
# script's own, first with no nat table, then with the 45 rules
# tests/listen/published.py writes (Docker's, CNI's, netavark's and
# kube-proxy's layouts, native rules).  bench-pairtime runs both in every
# round, in an order shuffled anew, and prints the median of the per-round
# ratios.  The two do not do the same work: the difference is the cost.
# Asserts nothing; needs root (or user namespaces), nft and iptables-nft.
#
#     bench/published.sh BASE_RSAP [BUILD_DIR] [ROUNDS]   (defaults: build, 40)
set -eu

base=${1:?usage: bench/published.sh BASE_RSAP [BUILD_DIR] [ROUNDS]}
build=$(cd "${2:-build}" && pwd)
rounds=${3:-40}
here=$(cd "$(dirname "$0")" && pwd)
if [ "${RSAP_BENCH_IN_NETNS:-}" != 1 ]; then
        RSAP_BENCH_IN_NETNS=1 exec unshare -n "$0" "$base" "$build" "$rounds"
fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
ip link set lo up
pair() { # pair LABEL ARGS...
        echo "== $1"
        shift
        "$build/bench/bench-pairtime" "$rounds" 3 "rsap=$build/cli/rsap $* --db-dir $data" \
                "base=$base $* --db-dir $data" 2>/dev/null
}
pair "no nat table: rsap who 8080" who 8080
pair "no nat table: rsap listening" listening
(cd "$here/../tests/listen" && python3 -c '
import tempfile, published as p
p.sh(*p.DOCKER, *p.CNI, *p.NETAVARK, *p.KUBE)
with tempfile.NamedTemporaryFile("w", suffix=".nft") as f:
    f.write(p.NFT)
    f.flush()
    p.sh(f"nft -f {f.name}")')
pair "45 nat rules: rsap who 8080" who 8080
pair "45 nat rules: rsap listening" listening
