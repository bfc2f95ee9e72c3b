#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The registry commands as a user meets them: every command, every exit
# status, every error message.  Needs $RSAP (the built rsap) and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/db"   # never the user's or root's real data directory
export NO_COLOR=1
unset XDG_DATA_HOME

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"

# --- rsap PORT -------------------------------------------------------------
run 0 1647 && {
        expect_out "User Ports 1024-49151"
        expect_out "rsap  1647  tcp,udp"
        expect_out "1647  sctp,dccp  unassigned  no record in the registry"
        expect_out "data: built-in copy of IANA's registry, release "
}
run 0 22 && expect_out "System Ports 0-1023"
run 0 49152 && { expect_out "Dynamic Ports 49152-65535"; expect_out "Dynamic Ports are never assigned"; }
run 0 65535 && expect_out "Dynamic Ports"
run 0 0 && expect_out "reserved"
run 0 1647/udp && { expect_out "1647/udp"; case "$out" in *1647/tcp*) fail "1647/udp shows tcp" ;; esac; }
run 0 1647/UDP && expect_out "1647/udp"
run 0 --json 1647 && {
        json_check 'j["kind"] == "port" and j["port"] == 1647 and j["protocol"] is None'
        json_check 'j["range"] == {"name": "user", "title": "User Ports", "low": 1024, "high": 49151, "meaning": "assigned by IANA on request (Expert Review, or IETF Review for IETF work); use one only once it is assigned"}'
        json_check 'sorted(r["protocol"] for r in j["records"]) == ["tcp", "udp"]'
        json_check 'all(r["service"] == "rsap" and r["port"] == 1647 for r in j["records"])'
        json_check 'j["status"] == {"tcp": "assigned", "udp": "assigned", "sctp": "unassigned", "dccp": "unassigned"}'
        json_check 'set(j["records"][0]) >= {"service","port","protocol","description","assignee","contact","registered","modified","references","service_code","unauthorized_use","notes","source"}'
        json_check 'j["records"][0]["assignee"][0]["id"] == "Holger_Reif" and j["records"][0]["registered"] is None and j["records"][0]["references"] == []'
        json_check 'j["data"]["source"] == "built-in" and j["data"]["records"] > 14000'
}
run 0 1647 --json && json_check 'j["port"] == 1647'
run 0 explain 1647 && expect_out "port 1647"

# --- the live part: what is bound to the port on this host ------------------
# A User Port (1024-49151), which the local registry may assign: port 0
# could give a Dynamic one.  The candidates are ones IANA leaves unassigned
# (rsap pick), so that the local registry may assign it below; the first
# that binds on loopback is taken.
db="$work/local.db"
candidates=$("$RSAP" pick --json --range 20000-29999 --proto tcp --count 50 --db "$db" |
        python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["ports"])))')
start_reporting python3 -c '
import socket, sys, time
s = socket.socket()
for port in map(int, sys.argv[1:]):
    try:
        s.bind(("127.0.0.1", port))
        break
    except OSError:
        pass
else:
    sys.exit("none of the candidate ports binds")
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(30)
' $candidates || fail "the test's listener did not start (candidates: $candidates)"
listener_pid=$server_pid
lport=$server_port
run 0 "$lport" && { expect_out "on this host"; expect_out "127.0.0.1:$lport"; expect_out "python3[$listener_pid]"; }
run 0 --json "$lport" && {
        json_check "[(s['protocol'], s['address'], s['port']) for s in j['listening']] == [('tcp', '127.0.0.1', $lport)]"
        json_check "[p['pid'] for p in j['listening'][0]['processes']] == [$listener_pid]"
}
run 0 --json "$lport/udp" && json_check 'j["listening"] == []'
# The listener is nobody's registration until the local registry assigns its port.
run 0 listening --json --port "$lport" --unregistered --db "$db" && json_check "len(j) == 1 and j[0]['local'] is None"
run 0 request clitest --port "$lport" --proto tcp --description "the CLI test" --assignee qa --contact qa --db "$db"
run 0 approve --db "$db" 1
run 0 listening --port "$lport" --db "$db" && { expect_out "LOCAL"; expect_out "clitest"; }
run 0 listening --json --port "$lport" --db "$db" && json_check "j[0]['local']['kind'] == 'assignment' and j[0]['local']['service'] == 'clitest'"
run 1 listening --json --port "$lport" --unregistered --db "$db"
run 0 who --json --db "$db" "$lport" && json_check "j[0]['local']['service'] == 'clitest'"
run 0 --json --db "$db" "$lport" && json_check "j['listening'][0]['local']['service'] == 'clitest'"
run 0 "$lport/udp" && expect_out "nothing is bound to $lport/udp"
kill "$listener_pid"
wait "$listener_pid" 2>/dev/null
run 0 --json "$lport/tcp" && json_check 'j["listening"] == []'

# --- bad ports: one line, exit 2 ----------------------------------------------
for bad in 70000 65536 -1 1647/xyz 1647/ 12a 99999999999999999999; do
        run 2 "$bad" && expect_one_line_error
done
run 2 70000 && expect_err "a port is a number from 0 to 65535"
run 2 1647/xyz && expect_err "unknown protocol 'xyz'"
run 2 1650-1640 && expect_one_line_error
run 2 "" && expect_err "a service name cannot be empty"
run 2 "$(printf 'x%.0s' $(seq 100))" && expect_err "too long"
run 2 1647 1648 && expect_one_line_error
run 2 explain && expect_one_line_error
run 2 1647 --bogus && { expect_err "unknown option '--bogus'"; expect_one_line_error; }

# --- rsap NAME ---------------------------------------------------------------
run 0 rsap && expect_out "rsap  1647  tcp,udp"
run 0 RSAP && expect_out "rsap  1647  tcp,udp"
run 0 --json RsAp && {
        json_check 'j["kind"] == "service" and j["valid"] is True and j["problem"] is None'
        json_check 'len(j["records"]) == 2 and all(r["service"] == "rsap" for r in j["records"])'
}
run 1 no-such-service && expect_err "no service named 'no-such-service'"
run 1 --json no-such-service && json_check 'j["records"] == [] and j["kind"] == "service"'
run 0 'sql*net' && expect_out "66  tcp"
run 0 --json 'whois++' && json_check 'j["valid"] is False and "ASCII" in j["problem"]'

# --- search ------------------------------------------------------------------
run 0 search rsap && { expect_out "1647/tcp"; expect_out "rsap"; }
run 0 search --json --limit 1 http && json_check 'len(j["results"]) == 1 and j["total"] > 1 and j["results"][0]["service"].lower() == "http"'
run 0 search "secure shell" && expect_out "22/tcp"
run 1 search zzzznothingzzzz && expect_err "nothing matches"
run 2 search && expect_one_line_error
run 2 search "   " && expect_err "empty"
run 2 search --limit 0 http && expect_one_line_error
run 2 search --limit abc http && expect_err "--limit"
run 2 search --limit && expect_err "needs a value"

# --- list --------------------------------------------------------------------
run 0 list 1640-1660 && { expect_out "1647/tcp"; expect_out "1647/udp"; }
run 0 list --json 1646-1648 --proto tcp && {
        json_check 'j["kind"] == "list" and [p["port"] for p in j["ports"]] == [1646, 1647, 1648]'
        json_check 'all(p["protocol"] == "tcp" for p in j["ports"])'
        json_check 'j["ports"][1] == {"port": 1647, "protocol": "tcp", "status": "assigned", "service": "rsap", "description": "rsap", "local": None}'
}
run 0 list --json --assigned 1640-1660 && json_check 'all(p["status"] == "assigned" for p in j["ports"]) and len(j["ports"]) > 10'
run 0 list --json --unassigned --proto udp 49152-49160 && json_check 'len(j["ports"]) == 9'
run 1 list --reserved --proto sctp 49152-49160
run 0 list 1647/udp && { expect_out "1647/udp"; case "$out" in *tcp*) fail "list 1647/udp shows tcp" ;; esac; }
run 2 list 1660-1640 && expect_err "not a port range"
run 2 list 1-70000 && expect_one_line_error
run 2 list --proto xyz 1-2 && expect_err "unknown protocol"
run 2 list && expect_one_line_error

# --- ranges ------------------------------------------------------------------
run 0 ranges && { expect_out "System Ports 0-1023"; expect_out "User Ports 1024-49151"; expect_out "Dynamic Ports 49152-65535"; }
run 0 ranges --json && {
        json_check '[r["name"] for r in j["ranges"]] == ["system", "user", "dynamic"]'
        json_check 'all(sum(c.values()) == r["high"] - r["low"] + 1 for r in j["ranges"] for c in r["counts"].values())'
        json_check 'j["ranges"][2]["counts"]["tcp"]["unassigned"] == 16384'
        json_check 'j["ranges"][1]["counts"]["tcp"]["assigned"] > 4000'
}
run 2 ranges extra && expect_one_line_error

# --- status ------------------------------------------------------------------
run 0 status && { expect_out "built-in copy"; expect_out "2025-12-15"; }
run 0 status --json && json_check 'j["kind"] == "status" and j["cached"] is False and j["data"]["source"] == "built-in"'

# --- export ------------------------------------------------------------------
run 0 export --format services && {
        expect_out "rsap	1647/tcp"
        expect_out "rsap	1647/udp"
}
run 0 export --format csv && expect_out "Service Name,Port Number,Transport Protocol"
run 0 export --format json && json_check 'j["kind"] == "registry" and len(j["records"]) == j["data"]["records"]'
run 0 export --format csv --output "$work/export.csv" && {
        [ -z "$out" ] && passed=$((passed + 1)) || fail "export --output also printed: $out"
        "$RSAP" export --format csv | cmp -s - "$work/export.csv" && passed=$((passed + 1)) ||
                fail "export --output wrote other than export prints"
}
run 2 export && expect_err "which format"
run 2 export --format xml && expect_err "unknown format 'xml'"
run 2 export --format csv --output /nonexistent-dir/x.csv && expect_one_line_error

# --- update: refusals leave the data alone, then a real update works -----------
printf '' >"$work/empty.xml"
run 2 update --from "$work/empty.xml" && expect_err "cached data unchanged"
run 2 update --from "$work/missing.xml" && expect_err "cannot read"
printf '<?xml version="1.0"?>\n<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers"><record><name>x' >"$work/truncated.xml"
run 2 update --from "$work/truncated.xml" && expect_one_line_error
printf 'Service Name,Port Number\n"unbalanced,1\n' >"$work/bad.csv"
run 2 update --from "$work/bad.csv" && expect_one_line_error
run 2 update --from "file://$work/missing.xml" && expect_err "cannot read"
run 2 update --from "http://127.0.0.1:9/none.xml" && expect_err "cannot fetch"
run 2 update --from "" && expect_one_line_error
[ -e "$RSAP_DB_DIR/iana.snap" ] && fail "a failed update left a cached copy"
# The built-in copy's own CSV export is a whole registry: updating from it
# must work, and be refused when a core port is missing.
run 0 update --from "$work/export.csv" && expect_out "records from iana-csv"
run 0 status --json && json_check 'j["cached"] is True and j["data"]["source"] == "iana-csv"'
grep -v '^ssh,22,tcp' "$work/export.csv" >"$work/no-ssh.csv"
cp "$RSAP_DB_DIR/iana.snap" "$work/before.snap"
run 2 update --from "$work/no-ssh.csv" && expect_err "22/tcp"
cmp -s "$RSAP_DB_DIR/iana.snap" "$work/before.snap" && passed=$((passed + 1)) || fail "refused update changed the cache"
head -c 5000 "$work/export.csv" >"$work/partial.csv"
run 2 update --from "$work/partial.csv" && expect_one_line_error
run 0 --json 1647 && json_check 'j["data"]["source"] == "iana-csv"'

# --- update over HTTP, from a server on loopback that this test starts ------
mkdir -p "$work/www"
cp "$work/export.csv" "$work/www/registry.csv"
head -c 20000 "$work/export.csv" >"$work/www/cut.csv"
start_reporting python3 -c '
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
' "$work/www" 2>"$work/http.log"
http_pid=$server_pid
http_port=$server_port
if [ -n "$http_port" ]; then
        rm -rf "$RSAP_DB_DIR"
        run 0 update --json --from "http://127.0.0.1:$http_port/registry.csv" &&
                json_check 'j["kind"] == "update" and j["format"] == "iana-csv" and j["records"] > 12000'
        run 0 status --json && json_check 'j["cached"] is True'
        cp "$RSAP_DB_DIR/iana.snap" "$work/http.snap"
        run 2 update --from "http://127.0.0.1:$http_port/missing.csv" && {
                expect_err "cannot fetch"
                expect_err "404"
        }
        run 2 update --from "http://127.0.0.1:$http_port/cut.csv" && expect_one_line_error
        cmp -s "$RSAP_DB_DIR/iana.snap" "$work/http.snap" && passed=$((passed + 1)) ||
                fail "a failed download changed the cache"
        rm -rf "$RSAP_DB_DIR"
else
        fail "the test's HTTP server did not start: $(cat "$work/http.log")"
fi
kill "$http_pid" 2>/dev/null
wait "$http_pid" 2>/dev/null

# --- a corrupt or unreadable cache is an error, not a silent fallback ----------
mkdir -p "$RSAP_DB_DIR"
head -c 1000 "$work/before.snap" >"$RSAP_DB_DIR/iana.snap"
run 2 1647 && { expect_err "corrupt"; expect_one_line_error; }
run 2 status && expect_one_line_error
rm -f "$RSAP_DB_DIR/iana.snap"
run 0 --json 1647 && json_check 'j["data"]["source"] == "built-in"'

# --- global options may come before the command -----------------------------
run 0 --json ranges && json_check 'j["kind"] == "ranges"'
run 0 --db-dir "$work/other" --json status && json_check 'j["data_dir"].endswith("/other")'
run 0 --db-dir="$work/other" status --json && json_check 'j["data_dir"].endswith("/other")'
run 2 --db-dir "$work/other" update --from "$work/missing.xml" && expect_err "cannot read"
# getopt would take --db for --db-dir where a command has no --db: refused.
run 2 status --db "$work/x.db" && { expect_err "--db names the local registry's database, which 'rsap status' does not read"; expect_one_line_error; }
run 2 ranges --db="$work/x.db" && expect_err "which 'rsap ranges' does not read"
run 0 status --db-dir="$work/other" --json && json_check 'j["data_dir"].endswith("/other")'

# --- help and version ----------------------------------------------------------
run 0 --json help && json_check "j['kind'] == 'help' and len(j['commands']) > 20"
run 0 help --json list && json_check "j['commands'][0]['usage'].startswith('rsap list')"
run 0 help && { expect_out "explain"; expect_out "search"; expect_out "update"; }
run 0 help list && expect_out "usage: rsap list"
run 0 list --help && expect_out "usage: rsap list"
run 2 help nosuchcommand && expect_one_line_error
version=$(sed -n "s/^  version: '\(.*\)',\$/\1/p" "${RSAP_SOURCE_ROOT:-$(dirname "${BASH_SOURCE[0]}")/../..}/meson.build")
run 0 version && { [ -n "$version" ] && [ "$out" = "rsap $version" ] && passed=$((passed + 1)) ||
        fail "rsap version said '$out', meson.build says '$version'"; }
run 0 && expect_out "usage: rsap"

# --- startup ---------------------------------------------------------------------
# Loading libm would cost rsap 0.075x of getent's whole lookup, and SQLite
# 0.05x more: neither is a library rsap needs at start.
if [ -n "${RSAP_SANITIZED:-}" ]; then
        echo "SKIP: rsap's libraries at start (the sanitizers' runtime needs libm)"
else
        needed=$(readelf -d "$RSAP" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | tr '\n' ' ')
        case $needed in
        *libc.so*) case $needed in
                *libm.so*) fail "rsap needs libm at start: $needed" ;;
                *libpq.so*) fail "rsap needs libpq at start (cli/lazy_pq.c): $needed" ;;
                *libnftnl.so* | *libmnl.so*)
                        fail "rsap needs libnftnl or libmnl at start (cli/lazy_nftnl.c): $needed" ;;
                *libcurl.so*) fail "rsap needs libcurl at start (cli/lazy_curl.c): $needed" ;;
                *) passed=$((passed + 1)) ;;
                esac ;;
        *) fail "readelf found no libc among rsap's needed libraries: '$needed'" ;;
        esac
        # Nor does the SQLite module need libm (cli/lazy_libm.c is linked into it).
        module_needs=$(readelf -d "$(dirname "$RSAP")/rsap-sqlite.so" 2>&1 | grep NEEDED)
        case $module_needs in
        *libc.so*) case $module_needs in
                *libm.so*) fail "rsap-sqlite.so needs libm: $module_needs" ;;
                *) passed=$((passed + 1)) ;;
                esac ;;
        *) fail "no rsap-sqlite.so beside rsap, or no libc in its needs: $module_needs" ;;
        esac
fi
# SQLite is a module rsap loads when it opens a local registry, and only then
# (cli/lazy_sqlite.c): LD_DEBUG=files names every object the loader maps.
mkdir -p "$work/nodb" "$work/withdb"
LD_DEBUG=files "$RSAP" --db-dir "$work/nodb" 1647 >/dev/null 2>"$work/lddebug"
if grep -q "rsap-sqlite" "$work/lddebug"; then
        fail "rsap 1647 without a registry loaded SQLite"
else
        passed=$((passed + 1))
fi
# libnftnl and libmnl load only where a nat chain exists to be read (lib/listen/nat_probe.c):
# a namespace of the test's own has none.
if unshare -n true 2>/dev/null; then
        unshare -n env LD_DEBUG=files "$RSAP" --db-dir "$work/nodb" 1647 >/dev/null 2>"$work/lddebug"
        if grep -q "libnftnl\|libmnl" "$work/lddebug"; then
                fail "rsap 1647 in a namespace without a nat chain loaded libnftnl or libmnl"
        else
                passed=$((passed + 1))
        fi
else
        echo "SKIP: no network namespace of the test's own: libnftnl's loading not checked"
fi
"$RSAP" --db-dir "$work/withdb" request loaded-svc --port 40997 --proto tcp --description x \
        --assignee a --contact a@example.com >/dev/null 2>&1
LD_DEBUG=files "$RSAP" --db-dir "$work/withdb" 40997 >"$work/out" 2>"$work/lddebug"
if grep -q "rsap-sqlite" "$work/lddebug" && grep -q "loaded-svc" "$work/out"; then
        passed=$((passed + 1))
else
        fail "rsap 40997 with a registry did not load SQLite, or did not show its request"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
