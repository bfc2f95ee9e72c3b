#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Broken databases: corrupt, truncated, read-only and locked.  Every command
# gives one clear line and exit status 2, none crashes, and the file is left
# exactly as it was.  Needs $RSAP, python3 (for the lock) and sha256sum.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
cleanup() {
        [ -n "${locker:-}" ] && kill "$locker" 2>/dev/null
        chmod -R u+w "$work" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
export RSAP_DB_DIR="$work/data" NO_COLOR=1
unset XDG_DATA_HOME

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"
skipped=0
one_line() {
        [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -z "$out" ] && passed=$((passed + 1)) ||
                fail "wanted one line on stderr and nothing on stdout: '$out' '$err'"
}

# A registry with something in it, its log checkpointed into the file.
make_db() {
        local db=$1
        "$RSAP" request keep --port 20100 --proto tcp --description d --assignee Alice \
                --contact a --db "$db" >/dev/null &&
                "$RSAP" approve 1 --db "$db" >/dev/null &&
                "$RSAP" request wait --port 20101 --proto tcp --description d --assignee Alice \
                        --contact a --db "$db" >/dev/null &&
                python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma wal_checkpoint(truncate)'); c.close()" "$db" ||
                fail "cannot make $db"
}

sum() { sha256sum "$1" | cut -d' ' -f1; }

# Every command that reads or writes the registry.
write_commands=(
        "request x --port 20102 --proto tcp --description d --assignee a --contact c"
        "approve 2"
        "reject 2 --why no"
        "deassign 20100"
        "revoke 20100 --why gone"
        "transfer keep --to Bob"
        "lease"
        "release 20100"
        "import $work/export.json"
)
read_commands=(
        "review 2"
        "requests"
        "history 20100"
        "pick --range 20100-20110"
        "kernel-reserve --file $work/reserved"
        "audit --consistency"
        "export --local --format json"
        "8443"
        "keep"
        "search keep"
        "list 20100-20101"
)
printf '\n' >"$work/reserved"
printf '{"kind": "local-registry", "assignments": []}\n' >"$work/export.json"

every_command_refuses() { # every_command_refuses DB MESSAGE
        local db=$1 message=$2 before cmd
        before=$(sum "$db")
        for cmd in "${write_commands[@]}" "${read_commands[@]}"; do
                # shellcheck disable=SC2086
                run 2 $cmd --db "$db" && { expect_err "$message"; one_line; }
        done
        [ "$(sum "$db")" = "$before" ] && passed=$((passed + 1)) || fail "$db changed"
}

# --- not a database at all ---------------------------------------------------------
head -c 8192 /dev/urandom >"$work/garbage.db"
every_command_refuses "$work/garbage.db" "is not a usable registry database (corrupt, truncated or not SQLite); nothing was changed"
printf 'SQLite format 3' >"$work/short.db"
every_command_refuses "$work/short.db" "is not a usable registry database"

# --- a real database with its pages overwritten -----------------------------------------
make_db "$work/corrupt.db"
size=$(stat -c %s "$work/corrupt.db")
python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(4096)
    f.write(b'\xff' * (int(sys.argv[2]) - 4096))
" "$work/corrupt.db" "$size"
every_command_refuses "$work/corrupt.db" "is not a usable registry database"

# --- a real database cut in half ------------------------------------------------------------
make_db "$work/cut.db"
truncate -s $(($(stat -c %s "$work/cut.db") / 2)) "$work/cut.db"
every_command_refuses "$work/cut.db" "is not a usable registry database"

# --- a newer schema -----------------------------------------------------------------------
make_db "$work/future.db"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma user_version = 99'); c.commit()" "$work/future.db"
every_command_refuses "$work/future.db" "was written by a newer rsap"

# --- read-only ---------------------------------------------------------------------------------
# Root ignores permissions: a read-only bind mount in a mount namespace is
# what makes the directory read-only for it.
mkdir -p "$work/ro"
make_db "$work/ro/registry.db"
readonly_run() { # readonly_run ARGS...: rsap with $work/ro read-only
        if [ "$(id -u)" -eq 0 ]; then
                unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
                        sh "$work/ro" "$RSAP" "$@"
        else
                "$RSAP" "$@"
        fi
}
if [ "$(id -u)" -eq 0 ] && ! unshare -m true 2>/dev/null; then
        echo "SKIP: read-only: root cannot make a mount namespace here"
        skipped=$((skipped + 1))
else
        [ "$(id -u)" -ne 0 ] && chmod a-w "$work/ro" "$work/ro/registry.db"
        before=$(sum "$work/ro/registry.db")
        for cmd in "${write_commands[@]}"; do
                # shellcheck disable=SC2086
                readonly_run $cmd --db "$work/ro/registry.db" >"$work/out" 2>"$work/err"
                status=$?
                err=$(cat "$work/err")
                out=$(cat "$work/out")
                [ "$status" -eq 2 ] && passed=$((passed + 1)) || fail "read-only: rsap $cmd exited $status: $err"
                case "$err" in
                *"is read-only; nothing was changed"* | *"permission denied; nothing was changed"*) passed=$((passed + 1)) ;;
                *) fail "read-only: rsap $cmd said: $err" ;;
                esac
                one_line
        done
        # Lookups still answer from a read-only registry.
        readonly_run history keep --db "$work/ro/registry.db" >"$work/out" 2>"$work/err" &&
                grep -q approve "$work/out" && passed=$((passed + 1)) ||
                fail "read-only: history does not answer: $(cat "$work/err")"
        readonly_run requests --db "$work/ro/registry.db" >"$work/out" 2>"$work/err" &&
                grep -Eq '^2 +pending +wait +20101/tcp +Alice ' "$work/out" &&
                ! grep -q keep "$work/out" && passed=$((passed + 1)) ||
                fail "read-only: requests does not list the pending request: $(cat "$work/out" "$work/err")"
        readonly_run 20100 --db "$work/ro/registry.db" >"$work/out" 2>&1 &&
                grep -q "keep" "$work/out" && passed=$((passed + 1)) ||
                fail "read-only: rsap 20100 does not show the local registry: $(cat "$work/out")"
        [ "$(sum "$work/ro/registry.db")" = "$before" ] && passed=$((passed + 1)) || fail "the read-only database changed"
        chmod u+w "$work/ro" "$work/ro/registry.db"
fi

# --- locked past the timeout ------------------------------------------------------------------
make_db "$work/locked.db"
python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('begin immediate')
print('locked', flush=True)
time.sleep(60)
" "$work/locked.db" >"$work/lock.out" &
locker=$!
for _ in $(seq 1 100); do grep -q locked "$work/lock.out" 2>/dev/null && break; sleep 0.05; done
export RSAP_BUSY_TIMEOUT_MS=200
for cmd in "${write_commands[@]}"; do
        # shellcheck disable=SC2086
        run 2 $cmd --db "$work/locked.db" && {
                expect_err "is locked by another process past the timeout (\$RSAP_BUSY_TIMEOUT_MS); nothing was changed"
                one_line
        }
done
# Readers do not wait for writers (WAL).
run 0 history keep --db "$work/locked.db" && { expect_out " request  request 1 "; expect_out " approve  assignment 1 "; }
run 0 requests --db "$work/locked.db" && {
        printf '%s\n' "$out" | grep -Eq '^2 +pending +wait +20101/tcp +Alice ' && passed=$((passed + 1)) ||
                fail "a locked database's pending request is not listed: $out"
}
kill "$locker"
wait "$locker" 2>/dev/null
locker=
unset RSAP_BUSY_TIMEOUT_MS
run 0 audit --consistency --db "$work/locked.db"
n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$work/locked.db")
[ "$n" -eq 3 ] && passed=$((passed + 1)) || fail "the locked database has $n events, wanted 3"

echo "$passed passed, $failed failed${skipped:+, $skipped skipped}"
[ "$failed" -eq 0 ]
