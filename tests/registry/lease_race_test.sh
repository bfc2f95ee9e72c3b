#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lease race, on a loaded machine, with the default busy budget.
#
# Reproducers (before the fix): of 600 leasers whose lease owners died at
# random moments, 4 exited 2 with "registry.db: File exists": a lease's
# owner died between leases_reap (which judged it alive and kept its
# holding) and the choice of a free port (which judged it dead and chose
# its port again, so the holding's key refused the insert).  Of 50 racers
# on a loaded 2-core machine, 1 got "locked past the timeout" (5 s, fixed
# 5 ms polls).  Here rounds of 50 leasers at once share a range of 10 ports;
# each leases for a short-lived process of its own, so owners die while
# others' transactions run; CPU burners (stopped at the end, at most 120 s)
# keep the machine loaded.  Every leaser must get a port (0) or be told
# that none is free (3), or that its process was already gone (2, "no
# process"): the documented reasons.  No RSAP_BUSY_TIMEOUT_MS: the default
# budget must do.  Needs $RSAP and flock (util-linux).
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
# Every lease reads the sockets of its range: the host's (thousands, under a
# benchmark) would slow the leasers past their holders' short lives.
. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"
burners=()
cleanup() {
        local pid
        for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1
unset RSAP_BUSY_TIMEOUT_MS XDG_DATA_HOME
export RSAP_DB_DIR="$work/data"
DB="$work/lease.db"
N=50
ROUNDS=${LEASE_RACE_ROUNDS:-4}
failed=0

# Load: two busy loops, bounded in time whatever happens to this script.
for _ in 1 2; do
        timeout 120 sh -c 'while :; do :; done' &
        burners+=("$!")
done

# A range of 10 ports this host does not use, well inside the default lease range.
low=$("$RSAP" pick --range 30000-39999 --count 200 --db "$DB" |
        awk 'NR > 1 && $1 == prev + 1 { run++ } NR == 1 || $1 != prev + 1 { run = 1; start = $1 }
             run == 10 { print start; exit } { prev = $1 }')
[ -n "$low" ] || { echo "SKIP: no 10 consecutive free ports"; exit 77; }
high=$((low + 9))

round() {
        local lock="$work/barrier" i
        rm -f "$work"/o.* "$work"/e.* "$work"/s.*
        exec 4>"$lock"
        flock -x 4
        for i in $(seq 1 "$N"); do
                (
                        exec 4>&-
                        flock -s "$lock" true
                        # The owner lives 0.05 to 0.8 s: some die before, some
                        # during, some after the others' transactions.
                        sleep "0.$(printf '%02d' $((5 + RANDOM % 75)))" &
                        "$RSAP" lease --range "$low-$high" --ttl 1m --pid $! --db "$DB" \
                                >"$work/o.$i" 2>"$work/e.$i"
                        echo $? >"$work/s.$i"
                        wait
                ) &
        done
        sleep 0.3
        flock -u 4
        exec 4>&-
        wait_racers
}

# Waits for the racers but not for the burners.
wait_racers() {
        local i
        for i in $(seq 1 "$N"); do
                while [ ! -s "$work/s.$i" ]; do sleep 0.05; done
        done
}

won=0
for r in $(seq 1 "$ROUNDS"); do
        round
        for i in $(seq 1 "$N"); do
                s=$(cat "$work/s.$i")
                case "$s" in
                0) won=$((won + 1)) ;;
                3) grep -q "no free port in $low-$high" "$work/e.$i" ||
                        { failed=$((failed + 1)); echo "round $r leaser $i (3): $(cat "$work/e.$i")"; } ;;
                2) grep -q "no process .* to hold the lease" "$work/e.$i" ||
                        { failed=$((failed + 1)); echo "round $r leaser $i (2): $(cat "$work/e.$i")"; } ;;
                *) failed=$((failed + 1)); echo "round $r leaser $i ($s): $(cat "$work/e.$i")" ;;
                esac
        done
done
# With 10 ports and owners that die, later leasers reuse the dead ones' ports.
[ "$won" -gt 10 ] || { failed=$((failed + 1)); echo "only $won leases in $ROUNDS rounds"; }
"$RSAP" audit --consistency --db "$DB" >"$work/check" 2>&1 ||
        { failed=$((failed + 1)); echo "inconsistent: $(cat "$work/check")"; }
echo "$((ROUNDS * N)) leasers under load, $won leases, $failed failures"
[ "$failed" -eq 0 ]
