#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rsap export --format systemd|nft|firewalld|srv, each format read by its own
# consumer: systemd-analyze verify, nft -c, firewalld's service reader and
# named-checkzone.  The fixture's descriptions and people hold quotes,
# blanks, markup and non-ASCII; then the database is edited by hand (as only
# a hand could) so that a description holds line breaks followed by the
# format's own directives, and a service name holds quotes, a blank and
# non-ASCII: the export must still be accepted, with nothing injected and
# the bad name left out.
#   export_test.sh cli|systemd|nft|firewalld|srv
# Exit 77 (skipped) when the format's consumer is not installed.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
what=${1:?which part: cli, systemd, nft, firewalld or srv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/data"   # never the real data directory
export NO_COLOR=1
unset XDG_DATA_HOME SUDO_USER
DB="$work/reg.db"

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"

skip() {
        echo "SKIP: $*"
        exit 77
}

# Debian's modules (python3-firewall) live in the system's python, whatever is first on PATH.
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

desc1="café \"bar\" <x> & 'y' \\"
who1="Zoë O'Neil <zoe@example.com>"
desc2="Admin {console}; \$x # «ü» ]]> --"
who2='Ops "Team" & Co'
approve() { # approve NAME PORT PROTOS DESCRIPTION ASSIGNEE REQUEST_ID [ARGS...]
        "$RSAP" request "$1" --port "$2" --proto "$3" --description "$4" --assignee "$5" \
                --contact ops@example.com --db "$DB" "${@:7}" >/dev/null &&
                "$RSAP" approve "$6" --why fixture --db "$DB" >/dev/null ||
                fail "cannot make the fixture: $1"
}
approve cafe-bar 18443 tcp,udp "$desc1" "$who1" 1
approve Web-Admin 18444 tcp,sctp "$desc2" "$who2" 2
approve db-9 19001 udp "plain one" "Alice" 3
desc3='second "one"'
approve cafe-bar 18445 tcp "$desc3" "$who1" 4 --same-service # two ports on one protocol

# sql STATEMENT...: edits the database behind the registry's back (python's sqlite3 is stdlib).
sql() {
        "$python" - "$DB" "$@" <<'PY' || fail "cannot edit the database: $*"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for statement in sys.argv[2:]:
    db.execute(statement)
db.commit()
PY
}

# hostile TEXT: cafe-bar's description becomes TEXT, and db-9's name one no registry takes.
hostile() {
        local text=${1//\'/\'\'}
        sql "UPDATE assignments SET description = '$text' WHERE port = 18443" \
                "UPDATE services SET name = 'db \"9\" é' WHERE name = 'db-9'"
}

# same WHAT EXPECTED ACTUAL: the two texts are equal.
same() {
        if [ "$2" = "$3" ]; then passed=$((passed + 1)); else fail "$1: wanted '$2', got '$3'"; fi
}

# --- the options, the errors, a full disk -------------------------------------------
test_cli() {
        run 2 export --format systemd --db "$DB" && expect_err "which service? --service NAME"
        run 2 export --format firewalld --db "$DB" && expect_err "which service? --service NAME"
        run 2 export --format srv --domain example.com --db "$DB" &&
                expect_err "--format srv needs --domain and --target"
        run 2 export --format srv --domain -bad.example --target h.example --db "$DB" &&
                { expect_err "--domain '-bad.example': not a DNS name"; expect_one_line_error; }
        run 2 export --format srv --domain a..example --target h.example --db "$DB" &&
                expect_err "not a DNS name"
        run 2 export --format srv --domain café.example --target h.example --db "$DB" &&
                expect_err "--domain 'café.example': not a DNS name"
        run 2 export --format srv --domain example.com --target 'h_x.example' --db "$DB" &&
                expect_err "--target 'h_x.example': not a DNS host name"
        run 2 export --format srv --domain "$(printf 'a%.0s' {1..64}).example" --target h --db "$DB" &&
                expect_err "not a DNS name"
        run 0 export --format srv --domain example.com. --target h --db "$DB" &&
                expect_out "_db-9._udp.example.com. IN SRV 0 0 19001 h."
        run 2 export --format nft --json --db "$DB" && expect_err "--json writes JSON"
        run 2 export --format nft --unit x.service --db "$DB" && expect_err "--unit goes with --format systemd"
        run 2 export --format nft --target h --db "$DB" && expect_err "--domain and --target go with --format srv"
        run 2 export --format csv --service cafe-bar && expect_err "--service goes with systemd"
        run 2 export --format systemd --service 'café bar' --db "$DB" &&
                { expect_err "--service 'café bar': not a service name"; expect_one_line_error; }
        run 2 export --format yaml && expect_err "unknown format 'yaml' (services, csv, json, systemd, nft, firewalld or srv)"
        run 1 export --format systemd --service nobody --db "$DB" --output "$work/none.conf" && {
                expect_err "no active assignment of service 'nobody' in the local registry"
                check "no file is made for a service with no assignment" test ! -e "$work/none.conf"
        }
        run 0 export --format nft --db "$work/no-such.db" && expect_no_out "= {"
        # A full disk: a device is written in place (never renamed over) and the error says why.
        # The device must open too: a nodev mount lets mknod make one that cannot.
        if mknod "$work/full" c 1 7 2>/dev/null && head -c 1 "$work/full" >/dev/null 2>&1; then
                full="$work/full"
        elif [ "$(id -u)" != 0 ]; then
                full=/dev/full # a user cannot create files in /dev: nothing could replace it
        else
                skip_full=1    # root must never risk the system's /dev/full
                echo "note: no device may be made here: --output to a full device not tried"
        fi
        for f in "nft" "systemd --service cafe-bar" "firewalld --service cafe-bar" \
                "srv --domain example.com --target h.example.com"; do
                # shellcheck disable=SC2086
                [ -z "${skip_full:-}" ] && run 2 export --format $f --db "$DB" --output "$full" && {
                        expect_err "cannot write $full: the disk is full"; expect_one_line_error; }
                # shellcheck disable=SC2086
                "$RSAP" export --format $f --db "$DB" >/dev/full 2>"$work/err"
                rc=$?
                same "$f on a full standard output: the status" 2 $rc
                same "$f on a full standard output: the message" \
                        "rsap: cannot write the export: the disk is full" "$(cat "$work/err")"
        done
        ln -s /dev/null "$work/link-to-null"
        run 2 export --format nft --db "$DB" --output "$work/link-to-null" && {
                expect_err "cannot write $work/link-to-null: a symbolic link to a device or FIFO"
                expect_one_line_error
        }
        check "the link to a device is still that link" test -L "$work/link-to-null"
        if [ -z "${skip_full:-}" ]; then
                check "the device is still a device" test -c "$full"
        fi
        run 0 export --format systemd --service web-admin --db "$DB" &&
                expect_err "warning: 1 sctp/dccp assignment left out: SocketBindAllow= knows tcp and udp only"
        hostile "x"
        run 0 export --format nft --db "$DB" && {
                expect_err "warning: 1 assignment left out: service name not an RFC 6335 label"
                expect_no_out "19001"
        }
}

# --- systemd: a drop-in beside a throwaway unit -------------------------------------
# verify: SYSTEMD_UNIT_PATH finds the unit's drop-in folder; no manual pages, no dependencies.
verify_unit() {
        SYSTEMD_UNIT_PATH="$work/units:" systemd-analyze verify --man=no --recursive-errors=no \
                "$work/units/cafe-bar.service" >"$work/verify" 2>&1
}

# systemd_check LABEL SERVICE ALLOW: the drop-in is exported, accepted and allows exactly ALLOW
systemd_check() {
        run 0 export --format systemd --service "$2" --unit cafe-bar.service --db "$DB" \
                --output "$work/units/cafe-bar.service.d/rsap.conf" || return
        verify_unit
        rc=$? # before the $(...) below, which sets $? anew
        same "$1: systemd-analyze verify's status ($(cat "$work/verify"))" 0 $rc
        same "$1: its output" "" "$(cat "$work/verify")"
        same "$1: the settings" "[Service]
${3}SocketBindDeny=any" "$(grep -v '^#' "$work/units/cafe-bar.service.d/rsap.conf" | sed '/^$/d')"
}

test_systemd() {
        command -v systemd-analyze >/dev/null || skip "no systemd-analyze (package systemd)"
        mkdir -p "$work/units/cafe-bar.service.d"
        printf '[Unit]\nDescription=a throwaway unit\n\n[Service]\nExecStart=/bin/true\n' \
                >"$work/units/cafe-bar.service"
        # The validator validates: a drop-in it must refuse is refused.
        printf '[Service]\nSocketBindAllow=tcp:99999x\n' >"$work/units/cafe-bar.service.d/rsap.conf"
        verify_unit && fail "systemd-analyze verify took a malformed SocketBindAllow="
        systemd_check "the fixture" cafe-bar $'SocketBindAllow=tcp:18443\nSocketBindAllow=tcp:18445\nSocketBindAllow=udp:18443\n'
        grep -q "^# 18443/tcp cafe-bar: café \"bar\" <x> & 'y' \\\\\\\\ (Zoë O'Neil" \
                "$work/units/cafe-bar.service.d/rsap.conf" && passed=$((passed + 1)) ||
                fail "the drop-in's comment does not name the assignment"
        hostile $'x\n[Service]\nSocketBindAllow=any\nSocketBindDeny=none'
        systemd_check "a description holding settings" cafe-bar \
                $'SocketBindAllow=tcp:18443\nSocketBindAllow=tcp:18445\nSocketBindAllow=udp:18443\n'
        run 0 export --format systemd --service cafe-bar --unit $'x.service\nSocketBindAllow=any' \
                --db "$DB" && expect_out "# the unit x.service\\nSocketBindAllow=any may bind"
        # SCTP has no SocketBindAllow= word: named in a comment, denied.
        systemd_check "a service on tcp and sctp" web-admin $'SocketBindAllow=tcp:18444\n'
}

# --- nftables: a ruleset that includes the export and uses its defines ---------------
nft_check() { # nft_check LABEL: nft -c takes the ruleset, and the defines are exactly these
        run 0 export --format nft --db "$DB" --output "$work/rsap.nft" || return
        cat >"$work/ruleset.nft" <<EOF
include "$work/rsap.nft"
table inet filter {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport \$rsap_cafe_bar_tcp accept
                udp dport \$rsap_cafe_bar_udp accept
                tcp dport \$rsap_web_admin_tcp accept
                meta l4proto sctp th dport \$rsap_web_admin_sctp accept
                tcp dport \$rsap_tcp accept
                udp dport \$rsap_udp accept
                meta l4proto sctp th dport \$rsap_sctp accept
        }
}
EOF
        $nft -c -f "$work/ruleset.nft" >"$work/nft.out" 2>&1
        rc=$?
        same "$1: nft -c -f's status ($(cat "$work/nft.out"))" 0 $rc
        same "$1: the defines" "define rsap_cafe_bar_tcp = { 18443, 18445 }
define rsap_cafe_bar_udp = { 18443 }
$2define rsap_web_admin_tcp = { 18444 }
define rsap_web_admin_sctp = { 18444 }
define rsap_tcp = { 18443, 18445, 18444 }
define rsap_udp = { 18443$3 }
define rsap_sctp = { 18444 }" "$(grep -v '^#' "$work/rsap.nft" | sed '/^$/d')"
}

test_nft() {
        command -v nft >/dev/null || skip "no nft (package nftables)"
        # nft -c asks the kernel nothing it changes; a namespace of its own all the same.
        nft=""
        for how in "unshare --net" "unshare --map-root-user --net"; do
                $how true 2>/dev/null && { nft="$how nft"; break; }
        done
        [ -n "$nft" ] || skip "no network namespace may be made here for nft -c"
        printf 'define x = { 1 \n' >"$work/bad.nft"
        $nft -c -f "$work/bad.nft" >/dev/null 2>&1 && fail "nft -c took an unclosed set"
        nft_check "the fixture" "define rsap_db_9_udp = { 19001 }
" ", 19001"
        hostile $'x\ndefine rsap_tcp = { 1 }\ndefine rsap_evil_tcp = { 2 }'
        nft_check "a description holding defines" "" ""
}

# --- firewalld: its own reader of service files ------------------------------------
firewalld_check() { # firewalld_check LABEL DESCRIPTION: read back, the same service
        local both="$2 ($who1); $desc3 ($who1)"
        run 0 export --format firewalld --service cafe-bar --db "$DB" \
                --output "$work/fw/cafe-bar.xml" || return
        "$python" - "$work/fw" "$both" >"$work/fw.out" 2>&1 <<'PY'
import sys
from firewall.core.io.service import service_reader
s = service_reader("cafe-bar.xml", sys.argv[1])
want = sys.argv[2].replace("\\", "\\\\")  # rsap's escaping doubles a backslash
assert s.short == "cafe-bar", s.short
assert s.description == want, (s.description, want)
assert sorted(s.ports) == [("18443", "tcp"), ("18443", "udp"), ("18445", "tcp")], s.ports
PY
        rc=$?
        same "$1: firewalld reads the same service back ($(cat "$work/fw.out"))" 0 $rc
}

test_firewalld() {
        "$python" -c 'import firewall.core.io.service' 2>/dev/null ||
                skip "no firewalld service reader (package python3-firewall)"
        mkdir -p "$work/fw"
        printf '<service><short>a &</short></service>\n' >"$work/fw/bad.xml"
        "$python" -c 'import sys; from firewall.core.io.service import service_reader as r; r("bad.xml", sys.argv[1])' \
                "$work/fw" >/dev/null 2>&1 && fail "firewalld's reader took a bare '&'"
        firewalld_check "the fixture" "$desc1"
        evil='x</description><port protocol="tcp" port="1"/><description>'
        hostile "$evil"
        firewalld_check "a description holding markup" "$evil"
}

# --- DNS: a zone that includes the records -----------------------------------------
srv_check() { # srv_check LABEL EXPECTED: named-checkzone loads the zone, and its records are these
        run 0 export --format srv --domain example.com --target host.example.com --db "$DB" \
                --output "$work/rsap.zone" || return
        cat >"$work/zone" <<EOF
\$TTL 3600
@ IN SOA ns.example.com. hostmaster.example.com. 1 7200 3600 1209600 3600
@ IN NS ns.example.com.
ns IN A 192.0.2.1
host IN A 192.0.2.2
\$INCLUDE $work/rsap.zone
EOF
        named-checkzone -k fail -n fail -D -o "$work/dump" example.com "$work/zone" \
                >"$work/check.out" 2>&1
        rc=$?
        same "$1: named-checkzone's status ($(cat "$work/check.out"))" 0 $rc
        # A zone drops a record said twice: the file itself must say each once.
        same "$1: one line per record" "$(printf '%s\n' "$2" | wc -l)" "$(grep -vc '^;' "$work/rsap.zone")"
        same "$1: the records" "$2" "$(awk '$4 == "SRV" { print $1, $4, $5, $6, $7, $8 } $4 == "PTR" { print $1, $4, $5 }' \
                "$work/dump" | sort)"
}

test_srv() {
        command -v named-checkzone >/dev/null || skip "no named-checkzone (package bind9-utils)"
        printf '$TTL 1\n@ IN SOA a. b. 1 1 1 1 1\n@ IN NS a.\n_x._tcp IN SRV 0 0 99999 a.\n' \
                >"$work/bad.zone"
        named-checkzone example.com "$work/bad.zone" >/dev/null 2>&1 &&
                fail "named-checkzone took an SRV port of 99999"
        local ptr="_services._dns-sd._udp.example.com. PTR"
        srv_check "the fixture" "$(sort <<EOF
_cafe-bar._tcp.example.com. SRV 0 0 18443 host.example.com.
_cafe-bar._tcp.example.com. SRV 0 0 18445 host.example.com.
_cafe-bar._udp.example.com. SRV 0 0 18443 host.example.com.
_Web-Admin._tcp.example.com. SRV 0 0 18444 host.example.com.
_Web-Admin._sctp.example.com. SRV 0 0 18444 host.example.com.
_db-9._udp.example.com. SRV 0 0 19001 host.example.com.
$ptr _cafe-bar._tcp.example.com.
$ptr _cafe-bar._udp.example.com.
$ptr _Web-Admin._tcp.example.com.
$ptr _Web-Admin._sctp.example.com.
$ptr _db-9._udp.example.com.
EOF
)"
        hostile $'x\n_evil._tcp IN SRV 0 0 1 evil.example.com.\n$INCLUDE /etc/passwd'
        srv_check "a description holding records" "$(sort <<EOF
_cafe-bar._tcp.example.com. SRV 0 0 18443 host.example.com.
_cafe-bar._tcp.example.com. SRV 0 0 18445 host.example.com.
_cafe-bar._udp.example.com. SRV 0 0 18443 host.example.com.
_Web-Admin._tcp.example.com. SRV 0 0 18444 host.example.com.
_Web-Admin._sctp.example.com. SRV 0 0 18444 host.example.com.
$ptr _cafe-bar._tcp.example.com.
$ptr _cafe-bar._udp.example.com.
$ptr _Web-Admin._tcp.example.com.
$ptr _Web-Admin._sctp.example.com.
EOF
)"
}

case "$what" in
cli | systemd | nft | firewalld | srv) "test_$what" ;;
*) echo "unknown part '$what'" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
