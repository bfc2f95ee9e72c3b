#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A registry that rsap cannot use is named for what it is, by every command.
#
# Reproducers (before the fix): a schema from the future (user_version 9)
# said "Protocol not supported" in rsapd and "schema version above 1" with
# no version in rsap; user_version 0 on a populated database gave "rsap
# lease: Input/output error" and let lookups pretend there was no registry;
# on a full disk, after the first "disk is full", every command said
# "Input/output error" (the WAL's shared-memory file could not grow).
# The full disk is a 480 KiB tmpfs in a mount namespace of this test's own
# (root, or a user namespace that allows it); without one that part is
# skipped (77 when nothing else ran).  Needs $RSAP and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
# Ports such as 20100 must be free for this test, not for the host's listeners.
. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 RSAP_DB_DIR="$work/data"
unset XDG_DATA_HOME
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# says STATUS TEXT CMD...: CMD exits STATUS with TEXT in its one line on stderr.
says() {
        local want=$1 text=$2 status
        shift 2
        "$@" >"$work/out" 2>"$work/err"
        status=$?
        if [ "$status" -ne "$want" ] || ! grep -qF -- "$text" "$work/err" ||
                [ "$(wc -l <"$work/err")" -ne 1 ]; then
                fail "$* exited $status, said: $(cat "$work/err"); wanted $want and '$text'"
        else
                passed=$((passed + 1))
        fi
}

set_version() { # set_version DB N
        python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = " + sys.argv[2]); c.commit()' "$1" "$2"
}

"$RSAP" request web --port 40123 --proto tcp --description x --assignee a --contact a@example.com \
        --db "$work/good.db" >/dev/null || fail "cannot make a registry"
known=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$work/good.db")

# --- a schema from the future ----------------------------------------------------------------
cp "$work/good.db" "$work/future.db"
set_version "$work/future.db" 9
for cmd in "requests" "40123" "lease" "audit --consistency" "db check"; do
        # shellcheck disable=SC2086
        says 2 "future.db was written by a newer rsap (schema 9, this rsap knows $known): upgrade rsap" \
                "$RSAP" $cmd --db "$work/future.db"
done

# --- an older schema -----------------------------------------------------------------------------
# Reads never migrate; the message names commands that do (rsap requests, which it named before,
# only reads), and one of them does.
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit()' \
        "$work/old.db" "$(dirname "$0")/schema1.sql" || fail "cannot load schema1.sql"
for cmd in "requests" "audit --consistency" "db check"; do
        # shellcheck disable=SC2086
        says 2 "old.db has an older schema; a command that writes to the registry (such as 'rsap approve' or 'rsap lease') upgrades it" \
                "$RSAP" $cmd --db "$work/old.db"
done
"$RSAP" lease --db "$work/old.db" --pid $$ >/dev/null && "$RSAP" requests --db "$work/old.db" >/dev/null &&
        passed=$((passed + 1)) || fail "rsap lease did not upgrade old.db for rsap requests"

# --- store URIs ----------------------------------------------------------------------------------
# No server behind a socket directory that does not exist: nothing leaves the host.
for uri in "postgresql:///rsap?host=$work/no-server" "postgres:///rsap?host=$work/no-server"; do
        for cmd in "requests" "lease"; do
                # shellcheck disable=SC2086
                says 2 "the registry: $uri: no PostgreSQL server answered (is it running, and may this user connect?); nothing was changed" \
                        "$RSAP" $cmd --db "$uri"
        done
done
for uri in "mysql://db.example/rsap" "sqlite:" "a:b.db"; do
        says 2 "--db $uri: not a store rsap can open: a file path, sqlite:PATH or postgresql://..." \
                "$RSAP" requests --db "$uri"
done
# sqlite:PATH is the file PATH: the request filed above, and a new file made where it says.
"$RSAP" requests --db "sqlite:$work/good.db" | grep -q "web" && passed=$((passed + 1)) ||
        fail "rsap requests --db sqlite:good.db does not list the request in good.db"
"$RSAP" lease --db "sqlite:$work/uri.db" >/dev/null && [ -f "$work/uri.db" ] &&
        passed=$((passed + 1)) || fail "rsap lease --db sqlite:uri.db did not make uri.db"

# --- the host a lease's holder is on ------------------------------------------------------------
# Host a's lease, its holder dead here: host b leaves it to its TTL, host a ends it.
sleep 600 &
holder=$!
RSAP_HOST=a "$RSAP" lease --range 20100-20100 --ttl 1h --pid "$holder" --db "$work/hosts.db" >/dev/null ||
        fail "RSAP_HOST=a rsap lease failed"
kill "$holder"
wait "$holder" 2>/dev/null
RSAP_HOST=b "$RSAP" pick --range 20100-20100 --db "$work/hosts.db" >/dev/null 2>&1
[ $? -eq 1 ] && passed=$((passed + 1)) || fail "host b's pick took host a's leased port"
RSAP_HOST=b says 3 "no free port" "$RSAP" lease --range 20100-20100 --pid 0 --db "$work/hosts.db"
RSAP_HOST=a "$RSAP" lease --range 20100-20100 --pid 0 --db "$work/hosts.db" >/dev/null &&
        passed=$((passed + 1)) || fail "host a did not end its own dead holder's lease"
RSAP_HOST=other "$RSAP" lease --json --db "$work/good.db" >"$work/out" 2>&1 &&
        grep -qF '"host": "other"' "$work/out" && passed=$((passed + 1)) ||
        fail "RSAP_HOST=other rsap lease --json: $(cat "$work/out")"

# --- tables, but no schema version ---------------------------------------------------------------
cp "$work/good.db" "$work/zero.db"
set_version "$work/zero.db" 0
for cmd in "requests" "40123" "lease" "audit --consistency" "db check"; do
        # shellcheck disable=SC2086
        says 2 "zero.db has tables but no schema version: not a registry rsap made, or damaged" \
                "$RSAP" $cmd --db "$work/zero.db"
done
# An empty file is still no registry yet, and a write command makes one of it.
: >"$work/empty.db"
says 1 "no pending requests" "$RSAP" requests --db "$work/empty.db"
"$RSAP" lease --db "$work/empty.db" >/dev/null 2>&1 && passed=$((passed + 1)) ||
        fail "lease on an empty file failed"

# --- a full disk ----------------------------------------------------------------------------------
# A database whose own rules refuse a write rsap makes (here a trigger added
# behind rsap's back; in rsap's own schema, the append-only history): the
# abort said exit 3 and nothing, as if the registry's checks had refused,
# and "permission denied" in rsapd.  Now: what it is, exit 2.
cp "$work/good.db" "$work/trigger.db"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, \"no\"); END"); c.commit()' "$work/trigger.db"
says 2 "integrity rules refused the change" "$RSAP" request refused-svc --port 40998 --proto tcp \
        --description x --assignee a --contact a@example.com --db "$work/trigger.db"
says 2 "nothing was changed" "$RSAP" request refused-svc --port 40998 --proto tcp \
        --description x --assignee a --contact a@example.com --db "$work/trigger.db"

full_disk() { # runs in its own mount namespace
        local mnt="$work/mnt" i saw_full=0 bad=0
        mkdir -p "$mnt"
        mount -t tmpfs -o size=480k rsap-test "$mnt" || return 77
        "$RSAP" request first --port 40200 --proto tcp --description x --assignee a \
                --contact a@example.com --db "$mnt/r.db" >/dev/null || { echo "no registry"; return 1; }
        head -c 150000 /dev/zero >"$mnt/filler" 2>/dev/null
        # Requests with long descriptions until the disk is full, and a few after.
        for i in $(seq 1 60); do
                "$RSAP" request "svc-$i" --port $((40200 + i)) --proto tcp \
                        --description "$(head -c 4000 /dev/zero | tr '\0' x)" --assignee a \
                        --contact a@example.com --db "$mnt/r.db" >/dev/null 2>"$work/err"
                [ $? -eq 0 ] && continue
                if grep -q "the disk is full: .*r.db unchanged" "$work/err"; then
                        saw_full=$((saw_full + 1))
                else
                        bad=$((bad + 1))
                        echo "request $i said: $(cat "$work/err")"
                fi
        done
        # The shared-memory file is made anew by the next command (as after a
        # reboot, or a copy): on a disk with no byte left it cannot grow.
        rm -f "$mnt/r.db-shm"
        cat /dev/zero >"$mnt/filler2" 2>/dev/null
        for cmd in "lease" "requests"; do
                # shellcheck disable=SC2086
                "$RSAP" $cmd --db "$mnt/r.db" >/dev/null 2>"$work/err" && continue
                grep -q "the disk is full: .*r.db unchanged" "$work/err" ||
                        { bad=$((bad + 1)); echo "$cmd said: $(cat "$work/err")"; }
        done
        [ "$saw_full" -ge 2 ] || { echo "the disk was full only $saw_full times"; bad=$((bad + 1)); }
        # Space again: the registry took no half-written change.
        rm -f "$mnt/filler" "$mnt/filler2"
        "$RSAP" db check --db "$mnt/r.db" >"$work/err" 2>&1 || { bad=$((bad + 1)); echo "db check: $(cat "$work/err")"; }
        "$RSAP" request last --port 40999 --proto tcp --description x --assignee a \
                --contact a@example.com --db "$mnt/r.db" >/dev/null 2>"$work/err" ||
                { bad=$((bad + 1)); echo "with space again: $(cat "$work/err")"; }
        [ "$bad" -eq 0 ]
}
export -f full_disk
export RSAP work
ns=
for unshare in "unshare -m" "unshare -r -m"; do
        if $unshare sh -c 'mount -t tmpfs none /mnt' 2>/dev/null; then ns=$unshare; break; fi
done
if [ -z "$ns" ]; then
        echo "SKIP: the full disk needs a mount namespace (root)"
else
        $ns bash -c full_disk
        case $? in
        0) passed=$((passed + 1)) ;;
        77) echo "SKIP: no tmpfs could be mounted" ;;
        *) fail "on a full disk" ;;
        esac
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
