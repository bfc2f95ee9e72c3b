#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What rsapd recorded listening, as the commands read it: rsap history PORT
# --listening, rsap listening --at TIME and --since T [--new], their filters,
# JSON, exit statuses and errors.  The intervals are written into a fresh
# registry with SQL (what rsapd's recorder writes is tests/daemon's), at
# moments this script chose, so that every answer can be checked exactly.
# Needs $RSAP and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/data" NO_COLOR=1 RSAP_HOST=recorder
DB="$work/reg.db"

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"

# --- before there is anything -------------------------------------------------------
run 1 history 5432 --listening --db "$DB" && expect_err "no local registry yet"
run 1 listening --at '2026-12-01 03:00' --db "$DB" && expect_err "nothing was recorded"
run 0 request pg --port 41000 --proto tcp --description d --assignee A --contact a@x \
        --db "$DB" >/dev/null
run 1 history 5432 --listening --db "$DB" && expect_err "nothing was recorded listening on 5432"

# --- intervals at known moments (UTC, 2026-12-01) -------------------------------------
# 1  postgres 127.0.0.1:5432  03:00:05 - 03:15:05 stopped
# 2  postgres [::]:5432       03:16:45 - open
# 3  nginx    0.0.0.0:8080    02:00:00 - 03:12:00 unknown (rsapd stopped first)
# 4  another host's postgres  03:00:00 - open
# 5  a folded row: 35 short runs of "tick" on 9000, 02:00 - 02:50
python3 - "$DB" <<'EOF' || fail "cannot write the intervals"
import calendar, sqlite3, sys
def at(clock):
    h, m, s = (int(x) for x in clock.split(":"))
    return calendar.timegm((2026, 12, 1, h, m, s)) * 1000000
c = sqlite3.connect(sys.argv[1])
rows = [
    ("recorder", 5432, "tcp", "127.0.0.1", 1000, 812, "postgres", "/usr/lib/pg", at("03:00:05"), at("03:15:05"), at("03:15:05"), "stopped", 1),
    ("recorder", 5432, "tcp", "::", 1000, 900, "postgres", None, at("03:16:45"), at("03:20:00"), None, None, 1),
    ("recorder", 8080, "tcp", "0.0.0.0", 0, 77, "nginx", None, at("02:00:00"), at("03:12:00"), at("03:12:00"), "unknown", 1),
    ("elsewhere", 5432, "tcp", "0.0.0.0", 1000, 55, "postgres", None, at("03:00:00"), at("03:20:00"), None, None, 1),
    ("recorder", 9000, "udp", "127.0.0.1", 1000, None, "tick", None, at("02:00:00"), at("02:50:00"), at("02:50:00"), "stopped", 35),
]
c.executemany("INSERT INTO listen_intervals (host, port, protocol, address, uid, pid, command,"
              " exe, started_us, last_seen_us, ended_us, ended, count)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
c.commit()
EOF

# --- rsap history PORT --listening: every host's, oldest first ---------------------------
run 0 history 5432 --listening --db "$DB" && {
        expect_out "postgres[812]"
        expect_out "/usr/lib/pg"
        [ "$(printf '%s\n' "$out" | sed -n 2p | cut -c1-24)" = "2026-12-01T03:00:00.000Z" ] &&
                passed=$((passed + 1)) || fail "the other host's interval is not first: $out"
        [ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] && passed=$((passed + 1)) ||
                fail "not a heading and three intervals: $out"
        expect_out "2026-12-01T03:15:05.000Z  stopped"
        expect_out "listening  tcp    [::]:5432"
}
run 1 history 5432/udp --listening --db "$DB"
run 0 history 9000 --listening --db "$DB" && expect_out "35 times"
run 0 history 8080 --listening --db "$DB" && expect_out "unknown"
run 0 history 5432 --listening --json --db "$DB" && {
        json_check 'j["kind"] == "listening-history" and len(j["intervals"]) == 3'
        json_check '[i["started"] for i in j["intervals"]] == sorted(i["started"] for i in j["intervals"])'
        json_check 'j["intervals"][1]["end"] == "stopped" and j["intervals"][1]["ended"] == "2026-12-01T03:15:05.000Z"'
        json_check 'j["intervals"][2]["end"] is None and j["intervals"][2]["ended"] is None'
        json_check 'j["intervals"][1]["pid"] == 812 and j["intervals"][1]["exe"] == "/usr/lib/pg" and j["intervals"][1]["count"] == 1'
}

# --- rsap listening --at: this host's intervals open then -----------------------------
run 0 listening --at '2026-12-01 03:10' --db "$DB" && {
        expect_out "127.0.0.1:5432"
        expect_out "0.0.0.0:8080"
        expect_no_out "[::]:5432"
        expect_no_out "postgres[55]"  # another host's
        expect_no_out "tick"          # a folded row is open at no given moment
}
# An interval ends at its end: open just before, not at it.
run 0 listening --at '2026-12-01T03:15:04.999Z' --db "$DB" && expect_out "127.0.0.1:5432"
run 1 listening --at "2026-12-01T03:15:05Z" --db "$DB" && expect_no_out "127.0.0.1:5432"
run 0 listening --at '2026-12-01 03:10' --port 8080 --db "$DB" && expect_no_out "5432"
run 0 listening --at '2026-12-01 03:10' --command post --db "$DB" && expect_no_out "8080"
run 0 listening --at '2026-12-01 03:10' --user 0 --db "$DB" && expect_no_out "5432"
run 0 listening --at '2026-12-01 03:10' --pid 812 --db "$DB" && expect_no_out "8080"
run 1 listening --at '2026-12-01 03:10' --udp --db "$DB"
run 1 listening --at '2026-12-01 01:00' --db "$DB"
run 1 listening --at '2026-12-01 01:00' --json --db "$DB" && json_check 'j["intervals"] == []'

# --- --since T: open at T or started after; --new: started after -----------------------
run 0 listening --since '2026-12-01 03:10' --db "$DB" && {
        expect_out "127.0.0.1:5432"
        expect_out "[::]:5432"
        expect_out "0.0.0.0:8080"
}
run 0 listening --since '2026-12-01 03:10' --new --db "$DB" && {
        expect_out "[::]:5432"
        expect_no_out "127.0.0.1:5432"
        expect_no_out "8080"
}
run 0 listening --since '2026-12-01 03:10' --new --json --db "$DB" &&
        json_check '[i["port"] for i in j["intervals"]] == [5432]'
# A duration counts back from now: the open interval is still open.
run 0 listening --since 1h --db "$DB" && expect_out "[::]:5432"

# --- errors: one line, status 2 -------------------------------------------------------
for args in "--at yesterday" "--at 2026-02-30" "--since soon" "--new" \
        "--at 2026-12-01 --since 1h" "--at 2026-12-01 -A" "--at 2026-12-01 --unregistered"; do
        # shellcheck disable=SC2086
        run 2 listening $args --db "$DB" && expect_one_line_error
done
run 2 history web --listening --db "$DB" && expect_err "is not a port"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
