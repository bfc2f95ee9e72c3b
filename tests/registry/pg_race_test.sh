#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Races on a shared store: 20 processes at once lease from a range of 10
# ports through `rsap lease --db postgresql://...`.  Ten winners, ten told
# there is no free port, no port handed out twice, and the database
# consistent afterwards: the advisory lock of each write transaction and
# the holdings' primary key, across processes as they would be across
# hosts.  Runs under pg_server.sh (RSAP_TEST_STORE); needs $RSAP and flock.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
DB=${RSAP_TEST_STORE:?run under tests/registry/pg_server.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 RSAP_BUSY_TIMEOUT_MS=60000
N=20
RANGE=10

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"
passed=0
failed=0
fail() {
        echo "FAIL: $*"
        failed=$((failed + 1))
}
ok() {
        passed=$((passed + 1))
}

# race ARGS...: N rsap processes with ARGS, held at one barrier (a lock this
# shell holds) and released together; a late one just goes.
race() {
        local lock="$work/barrier" i
        exec 4>"$lock"
        flock -x 4
        for i in $(seq 1 "$N"); do
                (
                        exec 4>&-
                        flock -s "$lock" true
                        "$RSAP" "$@" >"$work/o.$i" 2>"$work/e.$i"
                        echo $? >"$work/s.$i"
                ) &
        done
        sleep 0.5 # most are waiting on the lock by now
        flock -u 4
        exec 4>&-
        wait
}

count_status() { # count_status S: how many processes exited with S
        grep -lx "$1" "$work"/s.* 2>/dev/null | wc -l
}

# The first of RANGE consecutive ports free on this host and in the store.
low=$("$RSAP" pick --range 20300-29999 --count 2000 --db "$DB" |
        awk -v len="$RANGE" 'NR > 1 && $1 == prev + 1 { run++ } NR == 1 || $1 != prev + 1 { run = 1; start = $1 }
                             run == len { print start; exit } { prev = $1 }')
[ -n "$low" ] || { echo "SKIP: no $RANGE consecutive free ports on this host"; exit 77; }
high=$((low + RANGE - 1))

race lease --range "$low-$high" --pid $$ --db "$DB"
[ "$(count_status 0)" -eq "$RANGE" ] && ok || fail "$(count_status 0) leases in $low-$high, wanted $RANGE"
[ "$(count_status 3)" -eq $((N - RANGE)) ] && ok ||
        fail "$(count_status 3) leases refused, wanted $((N - RANGE))"
bad=0
for i in $(seq 1 "$N"); do
        [ "$(cat "$work/s.$i")" = 0 ] && continue
        if ! grep -q -- "no free port in $low-$high" "$work/e.$i" || [ "$(wc -l <"$work/e.$i")" -ne 1 ]; then
                bad=$((bad + 1))
                echo "loser $i said: $(cat "$work/e.$i")"
        fi
done
[ "$bad" -eq 0 ] && ok || fail "$bad losers did not say 'no free port in $low-$high' alone"
handed=$(cat "$work"/o.* | sort -n)
[ "$(printf '%s\n' "$handed" | sort -u | wc -l)" -eq "$RANGE" ] && ok ||
        fail "not $RANGE distinct ports handed out: $handed"
[ "$(printf '%s\n' "$handed" | head -1)" -eq "$low" ] && [ "$(printf '%s\n' "$handed" | tail -1)" -eq "$high" ] &&
        ok || fail "ports outside $low-$high: $handed"
"$RSAP" audit --consistency --db "$DB" >"$work/check" 2>&1 && ok || fail "inconsistent: $(cat "$work/check")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
