#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Races: 50 processes at once approve the same port, lease the same port, and
# lease from a range of 20.  Exactly one winner per port, every loser told
# why, no port handed out twice, and the database consistent afterwards.
# Needs $RSAP, python3 and flock (util-linux).
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/data" NO_COLOR=1
# Fifty writers queue for one lock: give the slowest (under ASan) time.
export RSAP_BUSY_TIMEOUT_MS=60000
unset XDG_DATA_HOME
DB="$work/race.db"
N=50

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

# race ARGS...: starts N rsap processes with ARGS (@ becomes the process's
# number), held at one barrier (a lock this shell holds), releases them
# together, waits for all.  A process that reaches the barrier late just
# goes: nothing can hang.
race() {
        local lock="$work/barrier" i args
        rm -f "$work"/o.* "$work"/e.* "$work"/s.*
        exec 4>"$lock"
        flock -x 4
        for i in $(seq 1 "$N"); do
                args=("${@//@/$i}")
                (
                        exec 4>&-
                        flock -s "$lock" true
                        "$RSAP" "${args[@]}" >"$work/o.$i" 2>"$work/e.$i"
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

# Every loser says why, in one line.
losers_say() { # losers_say TEXT
        local i bad=0
        for i in $(seq 1 "$N"); do
                [ "$(cat "$work/s.$i")" = 0 ] && continue
                if ! grep -q -- "$1" "$work/e.$i" || [ "$(wc -l <"$work/e.$i")" -lt 1 ]; then
                        bad=$((bad + 1))
                        echo "loser $i said: $(cat "$work/e.$i")"
                fi
        done
        [ "$bad" -eq 0 ] && ok || fail "$bad losers did not say '$1'"
}

free_run() { # free_run LENGTH: the first port of LENGTH consecutive free ports
        "$RSAP" pick --range 20300-29999 --count 2000 --db "$DB" |
                awk -v len="$1" 'NR > 1 && $1 == prev + 1 { run++ } NR == 1 || $1 != prev + 1 { run = 1; start = $1 }
                                 run == len { print start; exit } { prev = $1 }'
}

# One request per process, all for the same port, filed beforehand.
port=$(free_run 1)
[ -n "$port" ] || { echo "SKIP: no free port on this host"; exit 77; }
for i in $(seq 1 "$N"); do
        "$RSAP" request "svc-$i" --port "$port" --proto tcp --description "racer $i" \
                --assignee "Team $i" --contact "team$i@example.com" --db "$DB" >/dev/null ||
                fail "request $i was not filed"
done

# --- 50 approvals of the same port ----------------------------------------------------
race approve @ --db "$DB"
[ "$(count_status 0)" -eq 1 ] && ok || fail "$(count_status 0) approvals won port $port, wanted 1"
[ "$(count_status 3)" -eq $((N - 1)) ] && ok || fail "$(count_status 3) approvals refused, wanted $((N - 1))"
losers_say "refused: port $port/tcp is assigned here to svc-"
active=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from assignments where active and port=?', (int(sys.argv[2]),)).fetchone()[0])" "$DB" "$port")
[ "$active" -eq 1 ] && ok || fail "$active active assignments of $port"

# --- 50 leases of one port -----------------------------------------------------------------
one=$(free_run 1)
race lease --range "$one-$one" --pid $$ --db "$DB"
[ "$(count_status 0)" -eq 1 ] && ok || fail "$(count_status 0) leases of $one, wanted 1"
[ "$(count_status 3)" -eq $((N - 1)) ] && ok || fail "$(count_status 3) leases refused, wanted $((N - 1))"
losers_say "no free port in $one-$one"
[ "$(cat "$work"/o.* | sort -u)" = "$one" ] && ok || fail "the winner did not print $one"

# --- 50 leases from a range of 20 ----------------------------------------------------------
low=$(free_run 20)
[ -n "$low" ] || { echo "SKIP: no 20 consecutive free ports on this host"; exit 77; }
high=$((low + 19))
race lease --range "$low-$high" --pid $$ --db "$DB"
[ "$(count_status 0)" -eq 20 ] && ok || fail "$(count_status 0) leases in $low-$high, wanted 20"
[ "$(count_status 3)" -eq 30 ] && ok || fail "$(count_status 3) leases refused, wanted 30"
losers_say "no free port in $low-$high"
handed=$(cat "$work"/o.* | sort -n)
[ "$(printf '%s\n' "$handed" | wc -l)" -eq 20 ] && ok || fail "not 20 ports handed out: $handed"
[ "$(printf '%s\n' "$handed" | sort -u | wc -l)" -eq 20 ] && ok || fail "a port was handed out twice: $handed"
[ "$(printf '%s\n' "$handed" | head -1)" -eq "$low" ] && [ "$(printf '%s\n' "$handed" | tail -1)" -eq "$high" ] &&
        ok || fail "ports outside $low-$high: $handed"

# --- afterwards -----------------------------------------------------------------------------
"$RSAP" audit --consistency --db "$DB" >"$work/check" 2>&1 && ok || fail "inconsistent: $(cat "$work/check")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
