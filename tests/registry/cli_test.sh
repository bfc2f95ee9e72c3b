#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The local registry's commands as a user meets them: every command, every
# exit status, every error message.  Needs $RSAP and python3.  Every database
# is a temporary one.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null' EXIT
export RSAP_DB_DIR="$work/data"   # never the real data directory
export NO_COLOR=1
unset XDG_DATA_HOME SUDO_USER
DB="$work/reg.db"

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
own_network_namespace "$@"

req() { # req NAME PORT PROTO [ARGS...]: a well-formed request on $DB
        local name=$1 port=$2 proto=$3
        shift 3
        run 0 request "$name" --port "$port" --proto "$proto" --description "the $name service" \
                --assignee "Alice <alice@example.com>" --contact "ops@example.com" --db "$DB" "$@"
}

# --- help ----------------------------------------------------------------------
run 0 help && for c in request review requests approve reject deassign transfer revoke \
        history pick lease release kernel-reserve audit import; do
        expect_out "  $c"
done
run 0 help request && expect_out "usage: rsap request NAME --port N | --any"
run 0 lease --help && expect_out "usage: rsap lease"

# --- rsap request -----------------------------------------------------------------
req web-admin 8443 tcp,udp && {
        expect_out "request 1 filed: web-admin on 8443/tcp,udp"
        expect_out "refused  port 8443/tcp is assigned by IANA to pcsync-https; --over-iana to register over it"
        expect_out "next: rsap review 1, then rsap approve 1 or rsap reject 1"
}
check "the database is made on first use" test -f "$DB"
run 2 request --db "$DB" && { expect_err "which service name?"; expect_one_line_error; }
run 2 request a b --db "$DB" && expect_err "one service name at a time"
run 2 request x --port 20100 --any --proto tcp --description d --assignee a --contact c --db "$DB" &&
        expect_err "--port and --any exclude each other"
run 2 request x --proto tcp --description d --assignee a --contact c --db "$DB" &&
        expect_err "which port? --port N, or --any to let the registry choose"
run 2 request x --port 20100 --range 1-2 --proto tcp --description d --assignee a --contact c --db "$DB" &&
        expect_err "--range goes with --any"
run 2 request x --port 70000 --proto tcp --description d --assignee a --contact c --db "$DB" &&
        { expect_err "'70000' is not a port (0-65535)"; expect_one_line_error; }
run 2 request x --port 20100 --proto tcp,icmp --description d --assignee a --contact c --db "$DB" &&
        expect_err "unknown protocol in 'tcp,icmp'"
run 2 request x --port 20100 --description d --assignee a --contact c --db "$DB" &&
        expect_err "which protocols? --proto"
run 2 request x --port 20100 --proto tcp --assignee a --contact c --db "$DB" &&
        expect_err "--description, --assignee and --contact are required"
run 2 request x --port 20100 --proto tcp --description d --assignee a --contact c --db "" &&
        expect_err "--db needs a file name"
run 2 request x --bogus --db "$DB" && expect_err "unknown option '--bogus'"
run 2 request x --port 20100 --proto tcp --description d --assignee a --contact c --db "$work/no/such/dir/r.db" &&
        { expect_err "cannot open the registry"; expect_one_line_error; }
run 0 request --json orders --port 20100 --proto tcp --description "Orders" --assignee Bob \
        --contact bob@example.com --db "$DB" &&
        json_check "j['kind'] == 'request' and j['id'] == 2 and j['port'] == 20100 and j['state'] == 'pending' and j['protocols'] == ['tcp']"

# --- rsap review -------------------------------------------------------------------
run 3 review 1 --db "$DB" && {
        expect_out "request 1: web-admin on 8443/tcp,udp, pending"
        expect_out "pass     service name 'web-admin' is well-formed (RFC 6335 section 5.1)"
        expect_out "refused  port 8443/udp is assigned by IANA to pcsync-https; --over-iana to register over it"
        expect_out "result: 2 checks refuse; 'rsap approve 1' would refuse it"
}
run 0 review --over-iana request:1 --db "$DB" && {
        expect_out "allowed  port 8443/tcp is assigned by IANA to pcsync-https; registered over it (--over-iana)"
        expect_out "result: approvable: rsap approve 1"
}
run 0 review 2 --json --db "$DB" &&
        json_check "j['kind'] == 'review' and j['approvable'] and j['port'] == 20100 and all(c['verdict'] == 'pass' for c in j['checks'])"
run 1 review 99 --db "$DB" && { expect_err "no request 99"; expect_one_line_error; }
run 2 review abc --db "$DB" && expect_err "'abc' is not a request id"
run 2 review --db "$DB" && expect_err "which request?"
run 1 review 1 --db "$work/none.db" && expect_err "holds no local registry yet"
check "a review never creates a database" test ! -e "$work/none.db"

# --- rsap requests -----------------------------------------------------------------
run 0 requests --db "$DB" && { expect_out "web-admin"; expect_out "orders"; expect_out "8443/tcp,udp"; }
run 0 requests --json --db "$DB" && json_check "j['kind'] == 'requests' and [r['id'] for r in j['requests']] == [1, 2]"
run 1 requests --db "$work/none.db" && expect_err "no pending requests"
run 2 requests extra --db "$DB" && expect_err "unexpected argument 'extra'"

# --- rsap approve ------------------------------------------------------------------
run 3 approve 1 --db "$DB" && {
        expect_err "rsap: request 1 refused: port 8443/tcp is assigned by IANA to pcsync-https; --over-iana to register over it"
        expect_err "rsap: request 1 refused: port 8443/udp is assigned by IANA to pcsync-https"
        check "a refusal prints nothing on stdout" test -z "$out"
}
run 0 approve 1 --over-iana --why "the admin console" --as "Jane Admin" --db "$DB" && {
        expect_out "approved request 1: web-admin"
        expect_out "assignment 1      8443/tcp"
        expect_out "assignment 2      8443/udp"
}
run 3 approve 1 --db "$DB" && expect_err "request 1 was already approved"
run 1 approve 42 --db "$DB" && { expect_err "no request 42"; expect_one_line_error; }
run 0 approve --json 2 --db "$DB" &&
        json_check "j['kind'] == 'approval' and j['approved'] and j['assignments'][0]['service'] == 'orders' and j['assignments'][0]['port'] == 20100"
req clash 20100 tcp
run 3 approve 3 --json --db "$DB" &&
        json_check "not j['approved'] and any(c['code'] == 'assigned' and c['verdict'] == 'refused' and 'assigned here to orders' in c['message'] for c in j['checks'])"

# --- rsap reject -------------------------------------------------------------------
run 2 reject 3 --db "$DB" && { expect_err "say why: --why TEXT"; expect_one_line_error; }
run 0 reject 3 --why "20100 is taken" --db "$DB" && expect_out "rejected request 3: clash"
run 3 reject 3 --why again --db "$DB" && expect_err "request 3 was already rejected"
run 1 reject 77 --why x --db "$DB" && expect_err "no request 77"
run 1 requests --db "$DB" && expect_err "no pending requests"
run 0 requests --all --db "$DB" && { expect_out "rejected"; expect_out "approved"; }

# --- rsap history ----------------------------------------------------------------------
run 0 history 8443 --db "$DB" && {
        expect_out "request  request 1"
        expect_out "approve  assignment 1     web-admin        8443/tcp   by Jane Admin, over IANA's pcsync-https"
        expect_out "why: the admin console"
}
run 0 history 8443/udp --json --db "$DB" &&
        json_check "[e['action'] for e in j['events']] == ['request', 'approve'] and j['events'][1]['protocol'] == 'udp' and j['events'][1]['actor'] == 'Jane Admin' and j['target']['type'] == 'port'"
run 0 history WEB-ADMIN --db "$DB" && expect_out "web-admin"
run 0 history request:3 --db "$DB" && { expect_out "reject"; expect_out "why: 20100 is taken"; }
run 0 history assignment:2 --json --db "$DB" && json_check "len(j['events']) == 1 and j['events'][0]['assignment'] == 2"
me=$(id -un)
run 0 history orders --db "$DB" && expect_out "by $me"
run 1 history 9999 --db "$DB" && expect_err "no event recorded for 9999"
run 1 history 9999 --db "$work/none.db" && expect_err "(no local registry yet)"
run 2 history 8443/xyz --db "$DB" && { expect_err "is not a port, a service name"; expect_one_line_error; }
run 2 history --db "$DB" && expect_err "the history of what?"

# --- rsap transfer -------------------------------------------------------------------
run 2 transfer web-admin --db "$DB" && expect_err "to whom? --to WHO"
run 0 transfer web-admin --to "Bob <bob@example.com>" --why reorganisation --db "$DB" && {
        expect_out "transferred web-admin from Alice <alice@example.com> to Bob <bob@example.com>"
        expect_out "8443/tcp"
}
run 3 transfer 8443/tcp --to "bob <BOB@example.com>" --db "$DB" && expect_err "already belongs to"
run 1 transfer nosuch --to x --db "$DB" && expect_err "no service or active assignment for nosuch"
run 0 transfer --json assignment:3 --to Carol --contact carol@example.com --db "$DB" &&
        json_check "j['kind'] == 'transfer' and j['service'] == 'orders' and j['to'] == 'Carol' and j['contact_to'] == 'carol@example.com'"
run 0 history orders --db "$DB" && expect_out "from Bob to Carol"

# --- rsap deassign and revoke -----------------------------------------------------------
run 0 deassign 8443/udp --why "udp never used" --db "$DB" && {
        expect_out "deassigned:"
        expect_out "8443/udp"
        expect_out "quarantined until"
}
run 1 deassign 8443/udp --db "$DB" && { expect_err "no active assignment for 8443/udp"; expect_one_line_error; }
run 2 deassign 8443 --quarantine soon --db "$DB" && expect_err "'soon' is not a duration"
run 1 deassign lease:1 --db "$DB" && expect_err "'lease:1' is a lease: use 'rsap release'"
run 2 revoke orders --db "$DB" && expect_err "say why: --why TEXT"
run 0 revoke --json orders --why "the team is gone" --quarantine 0s --db "$DB" &&
        json_check "j['kind'] == 'revoke' and j['assignments'][0]['service'] == 'orders' and not j['assignments'][0]['active']"
run 1 revoke orders --why again --db "$DB"
req web-admin 8443 udp --over-iana
run 3 approve 4 --db "$DB" && expect_err "port 8443/udp was released by web-admin (assignment 2) on"
run 0 history assignment:2 --db "$DB" && expect_out "why: udp never used"
req keeper 20130 tcp
run 0 approve 5 --db "$DB"

# --- rsap pick -----------------------------------------------------------------------------
run 0 pick --range 20125-20135 --count 3 --db "$DB" && {
        check "pick prints three ports" test "$(printf '%s\n' "$out" | wc -l)" -eq 3
        expect_no_out "20130"   # keeper's
}
run 1 pick --range 8443-8443 --db "$DB" && expect_err "no free port in 8443-8443"
run 0 pick --range 8443-8443 --allow-iana --proto tcp --db "$work/none.db" && expect_out "8443"
run 2 pick --range 9-1 --db "$DB" && expect_err "'9-1' is not a range"
run 2 pick --count 0 --db "$DB" && expect_err "--count takes a number from 1 to 65536"
run 2 pick --proto ip --db "$DB" && expect_err "unknown protocol in 'ip'"
run 0 pick --json --range 20100-20200 --count 2 --db "$DB" &&
        json_check "j['kind'] == 'pick' and len(j['ports']) == 2 and j['protocols'] == ['tcp', 'udp']"

# --- rsap lease and release -------------------------------------------------------------------
run 0 lease --range 20150-20160 --name "ci build" --db "$DB" && leased=$out
check "lease prints one port of the range" test "${leased:-0}" -ge 20150 -a "${leased:-0}" -le 20160
run 0 lease --json --range 20150-20160 --pid 0 --ttl 1h --db "$DB" &&
        json_check "j['kind'] == 'lease' and j['port'] != $leased and j['pid'] is None and j['protocols'] == ['tcp', 'udp']"
run 0 history "$leased" --db "$DB" && expect_out "lease    lease 1"
run 0 release "$leased" --db "$DB" && expect_out "released lease 1: port $leased"
run 1 release "$leased" --db "$DB" && { expect_err "no live lease on $leased"; expect_one_line_error; }
run 2 release web-admin --db "$DB" && expect_err "'web-admin' is not a port or lease:ID"
run 0 release --json lease:2 --db "$DB" && json_check "j['kind'] == 'release' and not j['active']"
run 2 lease --ttl forever --db "$DB" && expect_err "'forever' is not a TTL"
run 2 lease --ttl 0s --db "$DB" && expect_err "'0s' is not a TTL"
run 2 lease --pid me --db "$DB" && expect_err "--pid takes a process id"
run 2 lease --pid 999999999 --db "$DB" && expect_err "no process 999999999 to hold the lease"
run 2 lease extra --db "$DB" && expect_err "unexpected argument 'extra'"
# One port, held: the next caller is refused.
one=$("$RSAP" pick --range 20170-20300 --db "$DB" | head -1)
run 0 lease --range "$one-$one" --db "$DB"
run 3 lease --range "$one-$one" --db "$DB" && { expect_err "no free port in $one-$one"; expect_one_line_error; }
# A TTL ends a lease.
two=$("$RSAP" pick --range 20170-20300 --db "$DB" | head -1)
run 0 lease --range "$two-$two" --ttl 1s --pid 0 --db "$DB"
sleep 1.2
run 0 lease --range "$two-$two" --db "$DB" && expect_out "$two"
run 0 history "$two" --db "$DB" && expect_out "expire"
# The death of its process ends a lease.
three=$("$RSAP" pick --range 20170-20300 --db "$DB" | head -1)
sleep 60 &
sleeper=$!
run 0 lease --range "$three-$three" --pid "$sleeper" --db "$DB"
run 3 lease --range "$three-$three" --db "$DB"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
run 0 lease --range "$three-$three" --db "$DB" && expect_out "$three"

# --- rsap kernel-reserve ---------------------------------------------------------------------
printf '1000,2000-2002\n' >"$work/reserved"
run 0 kernel-reserve --file "$work/reserved" --db "$DB" && {
        expect_out "reserved now:   1000,2000-2002"
        expect_out "assigned here:  8443 20130"
        expect_out "--apply writes: 1000,2000-2002,8443,20130 (2 ports added)"
}
run 0 kernel-reserve --apply --file "$work/reserved" --db "$DB" && expect_out "written:"
check "kernel-reserve --apply writes the merged list" test "$(cat "$work/reserved")" = "1000,2000-2002,8443,20130"
run 0 kernel-reserve --json --file "$work/reserved" --db "$DB" &&
        json_check "j['kind'] == 'kernel-reserve' and j['added'] == 0 and j['assigned'] == [8443, 20130] and not j['applied']"
run 2 kernel-reserve --file "$work/nowhere" --db "$DB" && { expect_err "does not exist"; expect_one_line_error; }
printf 'garbage\n' >"$work/garbage"
run 2 kernel-reserve --file "$work/garbage" --db "$DB" && expect_err "holds something other than a list of ports"
run 0 kernel-reserve --file "$work/reserved" --db "$work/none.db" && expect_out "assigned here:  (none)"

# --- rsap audit -------------------------------------------------------------------------------
run 0 audit --consistency --db "$DB" && expect_out "consistent:"
run 0 audit --consistency --json --db "$DB" && json_check "j['consistent'] and j['events'] > 10"
run 1 audit --consistency --db "$work/none.db" && expect_err "no local registry at"
"$RSAP" audit --json --db "$DB" >"$work/out" 2>"$work/err"
status=$?
out=$(cat "$work/out")
check "audit exits 0 or 1 (it found something), got $status" test "$status" -le 1
json_check "j['kind'] == 'audit' and j['assignments'] == 2 and (j['clean'] == (len(j['findings']) == 0))"

# --- rsap export --local and rsap import ------------------------------------------------------
run 0 export --local --format json --db "$DB" && {
        json_check "j['kind'] == 'local-registry' and [(a['service'], a['port'], a['protocol']) for a in j['assignments']] == [('web-admin', 8443, 'tcp'), ('keeper', 20130, 'tcp')]"
        printf '%s\n' "$out" >"$work/export.json"
}
run 0 export --local --format csv --output "$work/export.csv" --db "$DB"
check "the CSV export has a header" grep -q '^service,port,protocol,assignee,contact,description' "$work/export.csv"
run 0 export --local --format services --db "$DB" && expect_out "web-admin	8443/tcp	# the web-admin service"
run 2 export --format json --db "$DB" && expect_err "--db goes with --local"
run 0 import "$work/export.json" --db "$work/copy.db" && expect_out "imported 2 assignments, 0 already here"
run 0 import "$work/export.csv" --db "$work/copy.db" && expect_out "imported 0 assignments, 2 already here"
run 0 history web-admin --db "$work/copy.db" && expect_out "why: imported from $work/export.json"
"$RSAP" request other --port 8443 --proto tcp --over-iana --description x --assignee Zed --contact z \
        --db "$work/conflict.db" >/dev/null 2>&1
"$RSAP" approve 1 --db "$work/conflict.db" >/dev/null 2>&1
run 3 import "$work/export.json" --db "$work/conflict.db" && {
        expect_err "rsap: conflict: 8443/tcp is assigned here to other (assignment 1); the file gives it to web-admin"
        expect_err "nothing imported: 1 conflict (--skip-conflicts imports the rest)"
}
run 0 import "$work/export.json" --skip-conflicts --json --db "$work/conflict.db" &&
        json_check "j['kind'] == 'import' and j['imported'] == 1 and len(j['conflicts']) == 1"
printf 'not a registry\n' >"$work/bad.csv"
run 2 import "$work/bad.csv" --db "$work/copy.db" && { expect_err "is not an export of a local registry"; expect_one_line_error; }
run 2 import "$work/missing.json" --db "$work/copy.db" && expect_err "cannot read $work/missing.json"
# Only an export of a local registry goes in, whatever else a JSON file holds, and a port
# past 65535 is refused rather than wrapped to port 0.
python3 - "$work/export.json" "$work" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
json.dump(dict(j, kind="local-registry-v2"), open(sys.argv[2] + "/other-kind.json", "w"))
json.dump(dict(j, assignments=[dict(j["assignments"][0], port=65536)]),
          open(sys.argv[2] + "/port-65536.json", "w"))
PY
run 2 import "$work/other-kind.json" --db "$work/fresh.db" && {
        expect_err "is not an export of a local registry"
        expect_one_line_error
}
run 2 import "$work/port-65536.json" --db "$work/fresh.db" && {
        expect_err "assignment 1: the port is a number from 0 to 65535"
        expect_one_line_error
}
run 0 export --local --format json --db "$work/fresh.db" && json_check "j['assignments'] == []"

# --- lookups: the local registry beside IANA's -----------------------------------------------
run 0 8443 --db "$DB" && {
        expect_out "local registry"
        expect_out "8443/tcp        web-admin        assignment 1 since"
        expect_out "over IANA's pcsync-https"
        expect_out "8443/udp        web-admin        request 4, pending since"
}
run 0 8443/udp --json --db "$DB" &&
        json_check "[(e['kind'], e['id'], e['state']) for e in j['local']] == [('assignment', 2, 'quarantined'), ('request', 4, 'pending')] and j['local'][0]['until'] is not None"
run 0 8443/tcp --json --db "$DB" &&
        json_check "[(e['kind'], e['service'], e['protocols']) for e in j['local']] == [('assignment', 'web-admin', ['tcp'])]"
run 0 "$three" --json --db "$DB" &&
        json_check "[(e['kind'], e['state']) for e in j['local']] == [('lease', 'live')] and j['local'][0]['protocols'] == ['tcp', 'udp']"
run 0 keeper --db "$DB" && { expect_out "service keeper"; expect_out "20130/tcp       keeper           assignment 4"; }
run 0 KEEPER --json --db "$DB" && json_check "j['records'] == [] and [e['port'] for e in j['local']] == [20130]"
run 1 keeper --db "$work/none.db" && expect_err "no service named 'keeper'"
run 0 search keeper --json --db "$DB" && json_check "[e['service'] for e in j['local']] == ['keeper']"
run 0 search "the keeper service" --db "$DB" && expect_out "local registry"
run 0 list 20129-20131 --proto tcp --db "$DB" && {
        # IANA's own range record ("Unassigned") shares the line.
        check "20130/tcp shows keeper" sh -c 'printf "%s\n" "$1" | grep -q "^20130/tcp .*unassigned.*local: keeper (assignment 4, active)"' _ "$out"
        check "20129/tcp shows no local entry" sh -c '! printf "%s\n" "$1" | grep -q "^20129/tcp .*local"' _ "$out"
}
run 0 list 20129-20131 --proto tcp --json --db "$DB" &&
        json_check "[r['local'] and r['local']['service'] for r in j['ports']] == [None, 'keeper', None]"
run 0 8443 --json --db "$work/none.db" && json_check "j['local'] is None"
run 0 list 1-2 --json --db "$work/none.db" && json_check "all(r['local'] is None for r in j['ports'])"
run 0 search http --json --db "$work/none.db" && json_check "j['local'] is None"
check "a lookup never creates a database" test ! -e "$work/none.db"
run 0 --db "$DB" history keeper && expect_out "approve"

# --- the default database and the actor ---------------------------------------------------------
run 0 request defaulted --port 20120 --proto tcp --description d --assignee a --contact c --as "Robot 7"
check "the default database lives in the data directory" test -f "$RSAP_DB_DIR/registry.db"
run 0 history defaulted && expect_out "by Robot 7"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
