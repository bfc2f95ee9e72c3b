#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rsap PORT and rsap NAME as a person reads them: the brief form (one row per
# record, protocols merged, second names folded), --full/-v, the data footer,
# rsap A-B, malformed names and colour.  Independent of the built-in copy:
# the answers come from tests/fixtures/explain-registry.xml, cached with
# `rsap update --from`.  Needs $RSAP, python3 and script(1) from util-linux.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
here=$(dirname "${BASH_SOURCE[0]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/db"   # never the user's or root's real data directory
export NO_COLOR=1
unset XDG_DATA_HOME

. "$here/../testlib.sh"
# Host sockets on the fixture's ports would add "on this host" lines.
own_network_namespace "$@"

# `rsap update` refuses fewer than 10000 records: the fixture's records, and
# filler on ports 20000-29999 where the fixture has none.
python3 - "$here/../fixtures/explain-registry.xml" "$work/registry.xml" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
filler = "".join(
    f"<record><name>filler-{i}</name><protocol>tcp</protocol>"
    f"<description>Filler</description><number>{20000 + i}</number></record>\n"
    for i in range(10000))
open(sys.argv[2], "w", encoding="utf-8").write(text.replace("<!-- filler -->", filler))
EOF
run 0 update --from "$work/registry.xml" || { echo "cannot cache the fixture"; exit 1; }

# lines_matching REGEX: how many lines of the last stdout match.
lines_matching() { printf '%s\n' "$out" | grep -cE -- "$1"; }
# expect_lines N REGEX: exactly N lines of the last stdout match.
expect_lines() {
        local n
        n=$(lines_matching "$2")
        [ "$n" -eq "$1" ] && passed=$((passed + 1)) || fail "wanted $1 lines matching '$2', got $n: $out"
}
line_count() { printf '%s\n' "$out" | wc -l; }

# --- the brief form ------------------------------------------------------------
run 0 80 && {
        check "rsap 80 takes under 15 lines: $out" [ "$(line_count)" -lt 15 ]
        # http's tcp and udp records read the same: one row; www and www-http
        # are second names of http and fold into it.
        expect_lines 1 '^http +80 +tcp,udp +assigned +World Wide Web HTTP \(also www, www-http\)$'
        expect_lines 1 '^http +80 +sctp +assigned +HTTP$'
        expect_lines 0 '^www'
        # The protocol with no record: one line, and the only one saying so.
        expect_lines 1 '^- +80 +dccp +unassigned +no record in the registry$'
        expect_lines 1 'no record'
        expect_lines 1 '^range +System Ports 0-1023, '
        expect_lines 1 '^on this host +nothing is bound to port 80$'
        # No field rows in the brief form.
        expect_lines 0 '^  (description|assignee|notes)'
        expect_no_out "long-note-marker"
}
# The columns line up: every row has its protocols at the same column.
run 0 80 && {
        cols=$(printf '%s\n' "$out" | sed -n '/^\(http\|-\) /{s/^\([^ ]* *[^ ]* *\).*/\1/p}' | awk '{print length}' | sort -u | wc -l)
        check "rsap 80's rows align: $out" [ "$cols" -eq 1 ]
}
run 0 80/udp && {
        expect_lines 1 '^http +80 +udp +assigned +World Wide Web HTTP \(also www, www-http\)$'
        expect_lines 0 'tcp|sctp|dccp'
}
# A range record (x11 holds 6000-6063) on a port inside it; two protocols
# without a record make one line.
run 0 6003 && {
        expect_lines 1 '^x11 +6000-6063 +tcp,udp +assigned +X Window System$'
        expect_lines 1 '^- +6003 +sctp,dccp +unassigned +no record in the registry$'
        expect_lines 1 '^range +User Ports 1024-49151, '
}
# A record without a protocol covers every one: nothing is said missing.
run 0 3323 && {
        expect_lines 1 '^active-net +3322-3325 +any +assigned +Active Networks$'
        expect_no_out "no record"
}
run 0 --full 3323 && { expect_lines 1 '^3322-3325/any +active-net +assigned$'; expect_no_out "no record"; }
# A historic name folds into its replacement's row.
run 0 66 && expect_lines 1 '^sql-net +66 +tcp,udp +assigned +Oracle SQL\*NET \(also sql\*net\)$'
# Dynamic Ports: the registry is silent by design.
run 0 50000 && expect_lines 1 '^- +50000 +tcp,udp,sctp,dccp +unassigned +Dynamic Ports are never assigned$'

# --- rsap NAME ------------------------------------------------------------------
run 0 http && {
        expect_lines 1 '^service http$'
        expect_lines 1 '^http +80 +tcp,udp +assigned +World Wide Web HTTP$'
        expect_lines 1 '^http +80 +sctp +assigned +HTTP$'
        check "rsap http is brief: $out" [ "$(line_count)" -le 5 ]
}
run 0 www && expect_lines 1 '^www +80 +tcp,udp +assigned +World Wide Web HTTP \(a second name of http\)$'
run 0 x11 && expect_lines 1 '^x11 +6000-6063 +tcp,udp +assigned +X Window System$'
run 0 'sql*net' && {
        expect_out "its well-formed replacement is sql-net"
        expect_lines 1 '^sql\*net +66 +tcp,udp +assigned'
}

# --- the local registry's holding: one line each -------------------------------------
db="$work/local.db"
run 0 request keeper --port 30001 --proto tcp --description "the keeper" --assignee qa --contact qa --db "$db"
run 0 approve --db "$db" 1
run 0 request keeper --port 30001 --proto udp --description "the keeper" --assignee qa --contact qa --db "$db"
run 0 30001 --db "$db" && {
        expect_lines 1 '^local registry +30001/tcp +keeper +assignment 1 since .*, qa$'
        expect_lines 1 '^ +30001/udp +keeper +request 2, pending since .*, qa$'
        expect_lines 1 '^- +30001 +tcp,udp,sctp,dccp +unassigned +no record in the registry$'
        expect_no_out "description"
        check "rsap 30001 with a local registry is brief: $out" [ "$(line_count)" -le 8 ]
}
run 0 keeper --db "$db" && { expect_out "service keeper"; expect_lines 1 '^local registry +30001/tcp +keeper +assignment 1'; }
run 0 --full 30001 --db "$db" && { expect_lines 1 '^local registry$'; expect_lines 2 '^  description +the keeper$'; }

# --- --full and -v -----------------------------------------------------------------
run 0 --full 80 && {
        full_out=$out
        # One heading per group of records equal in all but protocol.
        expect_lines 3 '^80/tcp,udp +(http|www|www-http) +assigned$'
        expect_lines 1 '^80/sctp +http +assigned$'
        expect_lines 0 '^80/(tcp|udp) '
        expect_lines 1 '^80/dccp +- +unassigned +no record in the registry$'
        # Every non-empty field, once per group; no row for an empty one.
        expect_lines 4 '^  description '
        expect_lines 4 '^  assignee '
        expect_lines 4 '^  contact '
        expect_lines 3 '^  modified +20(21-10-01|22-02-07)$'
        expect_lines 3 '^  references +RFC(9110|9260) <https://www.rfc-editor.org/rfc/rfc(9110|9260)>$'
        expect_lines 3 '^  notes '
        expect_lines 0 '^  (registered|service code|unauthorized) '
        expect_lines 0 'no registration date|never modified|no RFC|no description|no assignee|no contact'
        # The long note: once, folded to 80 columns off a terminal.
        expect_lines 1 'long-note-marker'
        expect_lines 1 'human user\.$'
        check "--full folds to 80 columns: $out" [ "$(printf '%s\n' "$out" | grep -v '^data: ' | awk 'length > 80' | wc -l)" -eq 0 ]
}
run 0 -v 80 && check "-v is --full" [ "$out" = "$full_out" ]
run 0 80 --full && check "--full after the port" [ "$out" = "$full_out" ]
run 0 --full 6003 && {
        expect_lines 1 '^6000-6063/tcp,udp +x11 +assigned$'
        expect_lines 1 '^  registered +1999-01$'
        expect_lines 1 '^  unauthorized +Known Unauthorized Use on port 6003$'
        expect_lines 0 '^  (modified|references|notes) '
        expect_lines 1 '^6003/sctp,dccp +- +unassigned +no record in the registry$'
}
# Records that read the same in a row but differ in a field: one row, two records in full.
run 0 1647 && expect_lines 1 '^rsap +1647 +tcp,udp +assigned +rsap$'
run 0 --full 1647 && {
        expect_lines 1 '^1647/tcp +rsap +assigned$'
        expect_lines 1 '^1647/udp +rsap +assigned$'
        expect_lines 1 '^  modified +2020-01-01$'
        expect_lines 1 '^1647/sctp,dccp +- +unassigned +no record in the registry$'
}
run 0 --full www-http && { expect_lines 1 '^80/tcp,udp +www-http +assigned$'; expect_lines 1 'long-note-marker'; }
# The terminal's width folds the note: on a 60-column pseudo-terminal no line is longer.
if command -v script >/dev/null 2>&1; then
        wide=$(TERM=xterm COLUMNS=60 script -qc "stty cols 60; NO_COLOR=1 '$RSAP' --full www-http" /dev/null | tr -d '\r')
        check "--full folds to the terminal's width: $wide" [ "$(printf '%s\n' "$wide" | grep -c 'long-note-marker')" -eq 1 ]
        check "--full folds to 60 columns: $wide" [ "$(printf '%s\n' "$wide" | grep -v '^data: ' | awk 'length > 60' | wc -l)" -eq 0 ]
fi

# --- JSON keeps every field, whatever the text shows --------------------------------
run 0 --json 80 && {
        json_check 'sorted((r["service"], r["protocol"]) for r in j["records"]) == sorted([("http","tcp"),("http","udp"),("www","tcp"),("www","udp"),("www-http","tcp"),("www-http","udp"),("http","sctp")])'
        json_check 'all(r["notes"] for r in j["records"] if r["service"] != "http" or r["protocol"] != "sctp")'
        json_check '[r["registered"] for r in j["records"]] == [None] * 7'
}

# --- the footer: which data answers ----------------------------------------------
run 0 1647 && {
        expect_lines 1 "^data: cached copy of IANA's registry, release 2025-12-15 \\($RSAP_DB_DIR/iana.snap\\)$"
        expect_no_out "names and descriptions only"
}
run 0 --db-dir "$work/empty" 1647 && {
        expect_lines 1 "^data: built-in copy of IANA's registry, release [^ ]"
        expect_no_out "cached"
        expect_no_out "names and descriptions only"
}
run 0 --db-dir "$work/empty" --full 1647 && expect_no_out "names and descriptions only"

# --- rsap A-B is rsap list A-B ---------------------------------------------------------
for range in 6000-6010 79-81 1640-1650/udp 49990-50010; do
        run 0 "$range" && range_out=$out
        run 0 list "$range" && check "rsap $range is rsap list $range" [ "$out" = "$range_out" ]
        run 0 --json "$range" && range_out=$out
        run 0 list --json "$range" && check "rsap --json $range is rsap list --json $range" [ "$out" = "$range_out" ]
done
run 0 --db "$work/none.db" 6000-6002 && range_out=$out
run 0 list --db "$work/none.db" 6000-6002 && check "--db reaches the list" [ "$out" = "$range_out" ]
run 2 1650-1640 && expect_one_line_error

# --- malformed names and ports: one line, exit 2 -------------------------------------
for bad in /tcp ' 80' '' 'a b' 'bad_name' 'foo--bar' 'http-' 'sixteen-letters-' 99999 70000/tcp; do
        run 2 "$bad" && expect_one_line_error
done
run 2 -- -http && expect_one_line_error
run 2 /tcp && expect_err "'/tcp' is neither a port nor a service name"
run 2 --json 'a b' && { expect_err "'a b' is neither a port nor a service name"; json_check "j['error']['status'] == 400"; }
# Well-formed but unknown is no usage error.
run 1 no-such-name && expect_err "no service named 'no-such-name'"
# A legacy name the registry has is no usage error either.
run 0 'sql*net'

# --- colour: only on a terminal, never with NO_COLOR ----------------------------------
esc=$(printf '\033[')
run 0 80 && expect_no_out "$esc"
if command -v script >/dev/null 2>&1; then
        tty_out=$(env -u NO_COLOR TERM=xterm script -qc "'$RSAP' 80" /dev/null)
        case "$tty_out" in *"$esc"1mhttp*) passed=$((passed + 1)) ;; *) fail "no colour on a terminal: $tty_out" ;; esac
        case "$tty_out" in *"$esc"32massigned*) passed=$((passed + 1)) ;; *) fail "status not green on a terminal: $tty_out" ;; esac
        tty_out=$(TERM=xterm NO_COLOR=1 script -qc "'$RSAP' 80" /dev/null)
        case "$tty_out" in *"$esc"*) fail "colour with NO_COLOR set: $tty_out" ;; *http*) passed=$((passed + 1)) ;; *) fail "no answer on a terminal: $tty_out" ;; esac
        tty_out=$(env -u NO_COLOR TERM=xterm script -qc "'$RSAP' --full 80" /dev/null)
        case "$tty_out" in *"$esc"1m80/tcp,udp*) passed=$((passed + 1)) ;; *) fail "no colour in --full on a terminal: $tty_out" ;; esac
else
        fail "script(1) from util-linux is missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
