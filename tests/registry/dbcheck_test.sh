#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rsap db check, and rsapd's check at start.
#
# Reproducer (before the fix): random bytes written into the middle of
# registry.db went unnoticed by every command but `rsap audit
# --consistency`, and rsapd served the damaged file.  Here the middle page
# of a registry is overwritten with random bytes: `rsap db check` (quick
# and --full) must report it and exit 1, and rsapd must refuse to start
# with one line that names the file.  A state that its events do not
# explain (a lease's holdings deleted behind rsap's back) is a finding too;
# a clean registry is clean; a missing one or a bad action cannot be
# checked (2).  Needs $RSAP, $RSAPD (or the second argument) and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
RSAPD=${RSAPD:-${1:?set RSAPD or pass rsapd}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 RSAP_DB_DIR="$work/data"
unset XDG_DATA_HOME
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }

# status_is WANT CMD...: CMD's exit status is WANT (stdout in $work/out, stderr in $work/err).
status_is() {
        local want=$1 status
        shift
        "$@" >"$work/out" 2>"$work/err"
        status=$?
        [ "$status" -eq "$want" ] && ok ||
                fail "$* exited $status, wanted $want: $(cat "$work/out" "$work/err")"
}
json() { # json EXPR: evaluates EXPR on the JSON in $work/out (as j)
        python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
                "$work/out" "$1"
}

DB="$work/r.db"
for i in $(seq 1 30); do
        "$RSAP" request "svc-$i" --port $((41000 + i)) --proto tcp --description "service $i" \
                --assignee "Team $i" --contact "t$i@example.com" --db "$DB" >/dev/null ||
                fail "request $i"
done
"$RSAP" lease --db "$DB" --pid $$ >/dev/null || fail "lease"
# The copies below are of the file alone: its log checkpointed into it first.
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$DB"

# --- clean -----------------------------------------------------------------------------------------
status_is 0 "$RSAP" db check --db "$DB"
grep -q "^clean: " "$work/out" && ok || fail "no 'clean:' line: $(cat "$work/out")"
status_is 0 "$RSAP" db check --full --db "$DB" --json
[ "$(json 'j["clean"], j["level"], j["problems"], j["found"], j["events"] > 30')" = \
        "(True, 'full', 0, [], True)" ] && ok || fail "clean JSON: $(cat "$work/out")"
status_is 0 "$RSAP" --json db check --db "$DB"
[ "$(json 'j["kind"], j["level"]')" = "('db-check', 'consistency')" ] && ok ||
        fail "global --json before db: $(cat "$work/out")"

# --- cannot run ------------------------------------------------------------------------------------
status_is 2 "$RSAP" db check --db "$work/missing.db"
grep -q "no registry at .*missing.db" "$work/err" && ok || fail "missing: $(cat "$work/err")"
status_is 2 "$RSAP" db
status_is 2 "$RSAP" db frob --db "$DB"
status_is 2 "$RSAP" db check --bogus --db "$DB"

# --- a state its events do not explain ------------------------------------------------------------
cp "$DB" "$work/unexplained.db"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM holdings WHERE kind = '"'lease'"'"); c.commit()' \
        "$work/unexplained.db"
status_is 1 "$RSAP" db check --db "$work/unexplained.db" --json
[ "$(json 'j["clean"], j["problems"] > 0, any("holds no port" in f for f in j["found"])')" = \
        "(False, True, True)" ] && ok || fail "unexplained state: $(cat "$work/out")"

# --- random bytes in the middle page ---------------------------------------------------------------
cp "$DB" "$work/corrupt.db"
python3 - "$work/corrupt.db" <<'EOF'
import os, sqlite3, sys
path = sys.argv[1]
# A page of rows, named by the schema: a page in the middle of the file may
# be the schema's own (it grows with each migration), which no check opens.
with sqlite3.connect(path) as c:
    root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'requests'").fetchone()[0]
with open(path, "r+b") as f:
    page = int.from_bytes(f.read(18)[16:18], "big") or 65536
    f.seek((root - 1) * page)
    f.write(os.urandom(page))
EOF
for level in "" --full; do
        # shellcheck disable=SC2086
        status_is 1 "$RSAP" db check $level --db "$work/corrupt.db"
        grep -q "^problem  sqlite: " "$work/out" && ok || fail "corrupt ($level): $(cat "$work/out")"
done
# rsap audit --consistency reports it at both levels: problems (1), or a file it cannot read (2).
for level in "" --full; do
        # shellcheck disable=SC2086
        "$RSAP" audit --consistency $level --db "$work/corrupt.db" >"$work/out" 2>&1
        status=$?
        { [ "$status" -eq 1 ] && grep -q "^inconsistent: sqlite: " "$work/out"; } ||
                { [ "$status" -eq 2 ] && [ "$(wc -l <"$work/out")" -eq 1 ]; } && ok ||
                fail "audit --consistency $level on a corrupt file exited $status: $(cat "$work/out")"
done
status_is 1 "$RSAP" db check --db "$work/corrupt.db" --json
[ "$(json 'j["clean"], j["problems"] > 0')" = "(False, True)" ] && ok || fail "corrupt JSON: $(cat "$work/out")"

# --- an index that disagrees with its table --------------------------------------------------------
# leases_port's definition made to name another column: its entries no longer match their rows.
# Only the integrity check (--full, of rsap db check and rsap audit --consistency) compares them.
cp "$DB" "$work/index.db"
python3 - "$work/index.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA writable_schema = ON")
c.execute("UPDATE sqlite_schema SET sql = 'CREATE INDEX leases_port ON leases(expires_us)'"
          " WHERE name = 'leases_port'")
c.commit()
EOF
status_is 1 "$RSAP" db check --full --db "$work/index.db"
grep -q "^problem  sqlite: row 1 missing from index leases_port" "$work/out" && ok ||
        fail "damaged index (db check --full): $(cat "$work/out")"
status_is 1 "$RSAP" audit --consistency --full --db "$work/index.db" --json
[ "$(json 'j["level"], j["consistent"], any("missing from index leases_port" in f for f in j["found"])')" = \
        "('full', False, True)" ] && ok || fail "damaged index (audit --full): $(cat "$work/out")"
status_is 2 "$RSAP" audit --full --db "$DB"
grep -q "full is an option of --consistency" "$work/err" && ok || fail "audit --full: $(cat "$work/err")"

# A header that is not SQLite's: the file cannot even be opened, still a finding.
cp "$DB" "$work/noheader.db"
printf 'not a database at all..' | dd of="$work/noheader.db" conv=notrunc status=none
status_is 1 "$RSAP" db check --db "$work/noheader.db"

# --- rsapd at start ----------------------------------------------------------------------------------
start_rsapd() { # start_rsapd DB: rsapd's exit status and its log in $work/log (killed after 15 s)
        timeout 15 "$RSAPD" --listen 127.0.0.1:0 --db "$1" >"$work/log" 2>&1
}
start_rsapd "$work/corrupt.db"
status=$?
[ "$status" -eq 1 ] && ok || fail "rsapd on a corrupt registry exited $status: $(cat "$work/log")"
[ "$(wc -l <"$work/log")" -eq 1 ] && grep -q "refusing to start: the local registry .*corrupt.db is corrupt" "$work/log" &&
        ok || fail "rsapd said: $(cat "$work/log")"
cp "$DB" "$work/future.db"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 9"); c.commit()' "$work/future.db"
start_rsapd "$work/future.db"
status=$?
[ "$status" -eq 1 ] && grep -q "future.db was written by a newer rsap (schema 9, this rsap knows" "$work/log" &&
        ok || fail "rsapd on a future schema exited $status: $(cat "$work/log")"

# The same file named by a URI; schemes rsapd has no backend for are bad options (2).
start_rsapd "sqlite:$work/future.db"
status=$?
[ "$status" -eq 1 ] && grep -q "future.db was written by a newer rsap (schema 9, this rsap knows" "$work/log" &&
        ok || fail "rsapd on sqlite:future.db exited $status: $(cat "$work/log")"
# No server behind a socket directory that does not exist: nothing leaves the host.
start_rsapd "postgresql:///rsap?host=$work/no-server"
status=$?
[ "$status" -eq 1 ] && grep -q "cannot open the local registry .*: Connection refused" "$work/log" &&
        ok || fail "rsapd --db postgresql://... exited $status: $(cat "$work/log")"
start_rsapd "mysql://db.example/rsap"
status=$?
[ "$status" -eq 2 ] && grep -q ": not a store rsap can open" "$work/log" &&
        ok || fail "rsapd --db mysql://... exited $status: $(cat "$work/log")"

# --- the port marks (registry.db-ports): trusted while the files are as rsap left them ---------------
MARKS_DB="$work/marks.db"
"$RSAP" request marked --port 42001 --proto tcp --description "marked" --assignee "Team" \
        --contact t@example.com --db "$MARKS_DB" >/dev/null || fail "request on 42001"
[ -f "$MARKS_DB-ports" ] && ok || fail "no $MARKS_DB-ports after a request"
status_is 0 "$RSAP" --json 42001 --db "$MARKS_DB"
[ "$(json 'len(j["local"])')" = 1 ] && ok || fail "rsap 42001 without its request: $(cat "$work/out")"
# The mark lost, the database untouched: lookups still trust the marks, the check does not.
printf '\0' | dd of="$MARKS_DB-ports" bs=1 seek=$((128 + 42001)) conv=notrunc status=none
status_is 0 "$RSAP" --json 42001 --db "$MARKS_DB"
[ "$(json 'j["local"]')" = "[]" ] && ok || fail "the lost mark was not trusted: $(cat "$work/out")"
status_is 1 "$RSAP" db check --db "$MARKS_DB"
grep -q "port 42001 is in the registry but not in its port marks: remove $MARKS_DB-ports" \
        "$work/out" && ok || fail "db check on a lost mark: $(cat "$work/out")"
# Removed, the file is safe: lookups read SQLite, the next write makes it anew.
rm "$MARKS_DB-ports"
status_is 0 "$RSAP" --json 42001 --db "$MARKS_DB"
[ "$(json 'len(j["local"])')" = 1 ] && ok || fail "rsap 42001 without marks: $(cat "$work/out")"
"$RSAP" lease --db "$MARKS_DB" --pid $$ --range 20200-20400 >/dev/null || fail "lease in 20200-20400"
status_is 0 "$RSAP" db check --db "$MARKS_DB"
status_is 0 "$RSAP" --json 42001 --db "$MARKS_DB"
[ "$(json 'len(j["local"])')" = 1 ] && ok || fail "rsap 42001 with rebuilt marks: $(cat "$work/out")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
