#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The habits every rsap command shares: --proto, --db, did-you-mean,
# --command, --json error objects, pick's reasons, and leases spread evenly
# over the free ports.  Needs $RSAP (the built rsap) and python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/db"   # never the user's or root's real data directory
export NO_COLOR=1
unset XDG_DATA_HOME

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"

# --- leases spread evenly over the free ports --------------------------------
# A range whose free ports sit between long taken runs (IANA's assignments).
# Each lease is the first in a fresh database, so each is one draw from the
# free ports.  With F free ports and 40F draws, a port's count is
# Binomial(40F, 1/F), mean 40; all F counts fall in 10..80 except with
# probability below 1e-8 (F <= 8, computed exactly from the binomial).  The
# old "random start, then scan" gave the port after the longest run some 70%
# of the draws and its neighbours almost none.
# The range is grown from 1024 until it holds at least 4 free ports, so that
# the test follows the built-in data (IANA leaves few User Ports free there).
for spread_end in 1300 1600 2000 2200 2500 2700 3000; do
        spread_range=1024-$spread_end
        mapfile -t free < <("$RSAP" pick --range "$spread_range" --count 1000 --db "$work/empty.db")
        [ "${#free[@]}" -ge 4 ] && break
done
if [ "${#free[@]}" -lt 2 ] || [ "${#free[@]}" -gt 8 ]; then
        fail "pick --range $spread_range found ${#free[@]} free ports; the spread test wants 2 to 8"
else
        draws=$((40 * ${#free[@]}))
        : >"$work/leased"
        for i in $(seq "$draws"); do
                "$RSAP" lease --range "$spread_range" --pid 0 --db "$work/spread-$i.db" \
                        >>"$work/leased" 2>>"$work/spread-err"
                rm -f "$work/spread-$i.db"
        done
        for port in "${free[@]}"; do
                n=$(grep -cx "$port" "$work/leased")
                check "port $port got $n of $draws leases, wanted 10 to 80 (uniform: 40)" \
                        test "$n" -ge 10 -a "$n" -le 80
        done
        total=$(wc -l <"$work/leased")
        check "every lease was one of pick's free ports ($total of $draws)" test "$total" -eq "$draws"
        check "every lease was one of pick's free ports" \
                test -z "$(grep -vxF -f <(printf '%s\n' "${free[@]}") "$work/leased")"
fi

# --- rsap pick says why nothing is free ---------------------------------------
pickdb="$work/pick.db"
run 1 pick --range 1024-1027 --db "$pickdb" &&
        { expect_err "no free port in 1024-1027: 4 assigned or reserved by IANA"; expect_one_line_error; }
run 1 pick --range 6665-6669 --allow-iana --db "$pickdb" &&
        expect_err "no free port in 6665-6669: 5 refused by browsers"
read -r eph_low _ </proc/sys/net/ipv4/ip_local_port_range
run 1 pick --range "$eph_low-$eph_low" --allow-iana --db "$pickdb" &&
        expect_err ": 1 in the ephemeral range"
run 0 pick --range 1024-1300 --db "$pickdb" && lease_port=$out
"$RSAP" lease --range "$lease_port-$lease_port" --pid 0 --db "$pickdb" >/dev/null
run 1 pick --range "$lease_port-$lease_port" --db "$pickdb" && expect_err ": 1 leased"
run 1 pick --range "1024-$lease_port" --json --db "$pickdb" &&
        json_check "j['ports'] == [] and j['excluded']['lease'] == 1 and j['excluded']['iana'] == $lease_port - 1024"
# A port this test listens on, if pick's first proposal can be bound.
listen_port=$("$RSAP" pick --range 20000-20999 --db "$pickdb")
coproc LISTENER { exec python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
except OSError:
    print("busy", flush=True); sys.exit(0)
print("ok", flush=True); sys.stdin.read()' "$listen_port"; }
read -r bound <&"${LISTENER[0]}"
if [ "$bound" = ok ]; then
        run 1 pick --range "$listen_port-$listen_port" --db "$pickdb" && expect_err ": 1 listening here"
fi
kill "$LISTENER_PID" 2>/dev/null; wait "$LISTENER_PID" 2>/dev/null

# --- --proto and --command on listening and who ------------------------------
# A TCP listener on a port the kernel gives, held by python3.
coproc KLISTENER { exec python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); sys.stdin.read()'; }
read -r kport <&"${KLISTENER[0]}"
run 0 listening --port "$kport" --proto tcp && expect_out "127.0.0.1:$kport"
run 0 listening --port "$kport" --proto udp,tcp && expect_out "127.0.0.1:$kport"
run 1 listening --port "$kport" --proto udp
run 1 listening --port "$kport" --proto sctp,udp
run 0 listening --port "$kport" --tcp && expect_out "127.0.0.1:$kport"
run 2 listening --proto quic && { expect_err "unknown protocol in 'quic'"; expect_one_line_error; }
run 0 listening --port "$kport" --command python && expect_out "python3["
run 0 listening --port "$kport" --command pyth --command nosuch && expect_out "python3["
run 1 listening --port "$kport" --command ython
run 1 listening --port "$kport" --command python3x
run 0 listening --port "$kport" --command python --json &&
        json_check "len(j) == 1 and j[0]['processes'][0]['command'].startswith('python')"
run 2 listening --command python --no-process && expect_err "--command needs the processes"
run 2 listening --command "" && expect_err "--command needs a command name"
run 0 who "$kport" --proto tcp && expect_out "127.0.0.1:$kport"
run 0 who "$kport/tcp" --proto tcp && expect_out "127.0.0.1:$kport"
run 0 who --tcp "$kport" && expect_out "127.0.0.1:$kport"
run 1 who "$kport" --proto udp && expect_err "nothing is bound to $kport"
run 1 who "$kport" --udp
run 0 who "$kport" --proto udp,tcp
run 2 who "$kport/tcp" --proto udp && { expect_err "names the protocol and --proto another"; expect_one_line_error; }
run 2 who "$kport" --proto ipx && expect_err "unknown protocol in 'ipx'"
kill "$KLISTENER_PID" 2>/dev/null; wait "$KLISTENER_PID" 2>/dev/null

# --- search takes every remaining word as its text ----------------------------
run 0 search remote desktop && words_out=$out
run 0 search "remote desktop" && check "search remote desktop == search 'remote desktop'" test "$out" = "$words_out"
run 0 search --json remote desktop && json_check "j['query'] == 'remote desktop'"

# --- version and help with --json ----------------------------------------------
run 0 version --json && json_check "j['kind'] == 'version' and j['version']"
run 0 version && expect_out "rsap "
run 2 version extra && expect_err "unexpected argument 'extra'"
run 0 help --json && json_check "j['kind'] == 'help' and 'listening' in [c['name'] for c in j['commands']]"
run 0 help --json who && json_check "[c['name'] for c in j['commands']] == ['who'] and '--proto' in j['commands'][0]['usage']"

# --- did you mean ------------------------------------------------------------
run 2 listnig && { expect_err "no command or service named 'listnig': did you mean 'listening'?"; expect_one_line_error; }
run 2 lsit && expect_err "did you mean 'list'?"          # a swap of neighbours is one edit
run 2 reqeusts && expect_err "did you mean 'requests'?"  # the nearest, not the first near one
run 2 serach remote desktop && { expect_err "no command 'serach': did you mean 'search'?"; expect_one_line_error; }
run 2 explain http ftp && expect_err "one port or name at a time"
run 2 update --bogus --json && { expect_err "unknown option '--bogus'"; json_check "j['error']['status'] == 400"; }
run 1 xyzzy && { expect_err "no service named 'xyzzy'"; expect_one_line_error; }
run 1 lstnng && expect_no_out "did you mean"              # three edits: too far
run 1 explain listnig && { expect_err "no service named 'listnig'"; case "$err" in *"did you mean"*) fail "rsap explain listnig hints a command" ;; esac; }
run 0 ssh && expect_out "ssh"                             # a service keeps its answer
run 2 help listnig && { expect_err "no command 'listnig': did you mean 'listening'?"; expect_one_line_error; }
run 2 help xyzzy && expect_err "no command 'xyzzy' (see 'rsap help')"

# --- --json failures print the error object ----------------------------------
# (tests/cli/test_json_errors.py compares them with rsapd's.)
error_object() { # error_object STATUS: stdout is {"error": {"status": STATUS, "message": stderr's}}
        local message=${err#rsap: }
        message=${message% (see \'rsap help *}
        MESSAGE=$message json_check "list(j) == ['error'] and j['error']['status'] == $1 and j['error']['message'] == __import__('os').environ['MESSAGE']"
}
run 2 list 9-1 --json && error_object 400
run 2 search --bogus x --json && { expect_err "unknown option '--bogus'"; error_object 400; }
run 2 --json who && error_object 400
run 1 release 4711 --json --db "$work/json.db" && { expect_err "no live lease on 4711"; error_object 404; }
run 0 lease --range 1028-1028 --pid 0 --db "$work/json.db"
run 3 lease --range 1028-1028 --json --db "$work/json.db" && { expect_err "no free port in 1028-1028: 1 leased"; error_object 409; }
run 3 lease --range 1024-1028 --db "$work/json.db" && expect_err "no free port in 1024-1028: 4 assigned or reserved by IANA, 1 leased"
run 1 nosuchname --json && json_check "j['kind'] == 'service' and j['error'] == {'status': 404, 'message': \"no service named 'nosuchname'\"}"
run 0 http --json && json_check "'error' not in j"
run 1 search zzzqqqxxx --json && { json_check "j['total'] == 0 and 'error' not in j"; expect_err "nothing matches 'zzzqqqxxx'"; }

# --- --db on every command that reads the local registry ----------------------
# Each must read the file it is given: a file that is not SQLite is refused
# by name.  (A command that ignored --db would read the empty default.)
printf 'not a database, not at all\n' >"$work/notadb"
printf '{}\n' >"$work/import.json"
while read -r -a words; do
        run 2 "${words[@]}" --db "$work/notadb" &&
                { expect_err "$work/notadb is not a usable registry database"; expect_one_line_error; }
done <<EOF_COMMANDS
1647
http
explain 1647
search remote desktop
list 1-2
listening
who 1
export --local --format json
requests
pick
lease
history 1647
audit
kernel-reserve
review 1
approve 1
reject --why x 1
release 1
deassign 1647
revoke --why x 1647
transfer --to x 1647
import $work/import.json
request svc --port 20001 --proto tcp --description d --assignee a --contact c
EOF_COMMANDS
# The commands that read no local registry say so, in both spellings.
for command in ranges status version help update; do
        run 2 "$command" --db "$work/x.db" &&
                { expect_err "--db names the local registry's database, which 'rsap $command' does not read"; expect_one_line_error; }
        run 2 "$command" --db="$work/x.db" && expect_err "which 'rsap $command' does not read"
done
run 2 --db "$work/x.db" ranges && expect_err "which 'rsap ranges' does not read"
run 2 ranges --db-d "$work" && expect_err "unknown option '--db-d'"
run 2 export --format csv --db "$work/x.db" && expect_err "--db goes with --local"

# --- --help lists every option, one line each, as rsap help COMMAND does -------
for command in listening who search pick lease review; do
        run 0 "$command" --help && help_out=$out
        run 0 help "$command" && check "rsap help $command is rsap $command --help" test "$out" = "$help_out"
done
run 0 listening --help && {
        expect_out "  --command NAME         the sockets of processes whose command name begins with NAME"
        expect_out "  --proto P[,P]  "
        expect_out "  --json  "
}
run 0 help --json && json_check "all(o['help'] for c in j['commands'] for o in c['options'])"
run 2 review --as someone 1 && expect_err "unknown option '--as'"   # review changes nothing

# --- every command answers --json with JSON, on success and on failure ------------
jsondb="$work/every.db"
while read -r -a words; do
        "$RSAP" "${words[@]}" --json --db-dir "$work/every" >"$work/out" 2>/dev/null
        if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/out" 2>/dev/null; then
                passed=$((passed + 1))
        else
                fail "rsap ${words[*]} --json printed no JSON: $(head -c 200 "$work/out")"
        fi
done <<EOF_COMMANDS
1647
http
ranges
status
update --from $work/nonexistent.xml
export --format csv
export
export --local --format json --db $jsondb
listening --port 1
who 1
request a --port 20001 --proto tcp --description d --assignee a --contact c --db $jsondb
requests --db $jsondb
review 1 --db $jsondb
approve 1 --db $jsondb
reject --why x 1 --db $jsondb
deassign 1647 --db $jsondb
revoke --why x 1647 --db $jsondb
transfer --to x 1647 --db $jsondb
history 1647 --db $jsondb
pick --range 1028-1028 --db $jsondb
lease --range 1028-1028 --db $jsondb
release 1028 --db $jsondb
kernel-reserve --file $work/nonexistent --db $jsondb
audit --db $jsondb
import $work/nonexistent.json --db $jsondb
help
help who
version
search remote desktop
list 1-2
EOF_COMMANDS

echo "habits: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
