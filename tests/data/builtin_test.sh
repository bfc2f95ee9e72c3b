#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The built-in copy on its own, with an empty data directory and nothing from
# ../shared: IANA's whole XML release is in it, with every field, range
# records, second names, name-only records and the people table.  The values
# asked for are IANA's, as the 2025-12-15 release has them.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/empty"   # no iana.snap, no registry.db: the built-in copy
export NO_COLOR=1
unset XDG_DATA_HOME

. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"

# The copy itself: IANA's release date and record count, source built-in.
run 0 status --json && {
        json_check 'j["cached"] is False'
        json_check 'j["data"] == {"source": "built-in", "release": "2025-12-15", "origin": "built-in", "records": 14496, "people": j["data"]["people"]}'
        json_check 'j["data"]["people"] > 5000'
}

# 80/tcp and 80/udp are http, with www and www-http as their second names.
run 0 --json http && {
        json_check 'sorted((r["port"], r["protocol"]) for r in j["records"]) == [(80, "sctp"), (80, "tcp"), (80, "udp")]'
        json_check 'j["data"]["source"] == "built-in"'
}
run 0 --json 80/tcp && {
        json_check '[r["service"] for r in j["records"]] == ["http", "www", "www-http"]'
        json_check 'j["status"] == {"tcp": "assigned"}'
}
run 0 --json www && json_check 'sorted(r["protocol"] for r in j["records"]) == ["tcp", "udp"] and all(r["port"] == 80 for r in j["records"])'

# Every field of a record known to have them, the people resolved by the
# people table.
run 0 --json 80/tcp && {
        json_check 'j["records"][0]["description"] == "World Wide Web HTTP"'
        json_check 'j["records"][0]["modified"] == "2021-10-01"'
        json_check 'j["records"][0]["references"] == [{"type": "rfc", "text": "RFC9110", "url": "https://www.rfc-editor.org/rfc/rfc9110"}]'
        json_check 'j["records"][0]["assignee"][0]["id"] == "IESG" and j["records"][0]["assignee"][0]["email"] == "iesg@ietf.org"'
        json_check 'j["records"][0]["contact"][0]["name"] == "IETF Chair"'
        json_check 'j["records"][0]["notes"].startswith("Defined TXT keys")'
}
run 0 --json 1647/tcp && json_check 'j["records"][0]["assignee"][0]["name"] == "Holger Reif" and j["records"][0]["assignee"][0]["email"] == "Holger.Reif@prakinf.tu-ilmenau.de"'
run 0 --json 271/tcp && json_check 'j["records"][0]["service"] == "pt-tls" and j["records"][0]["registered"] == "2012-07-31" and j["records"][0]["modified"] is None'

# A range record: x11 covers 6000-6063 on tcp and udp.
run 0 --json 6010 && {
        json_check '[(r["service"], r["port_low"], r["port_high"], r["protocol"]) for r in j["records"]] == [("x11", 6000, 6063, "tcp"), ("x11", 6000, 6063, "udp")]'
        json_check 'j["status"]["tcp"] == "assigned" and j["status"]["sctp"] == "unassigned"'
        json_check 'j["records"][0]["unauthorized_use"] == "Known Unauthorized Use on port 6003"'
}
run 0 --json x11 && json_check 'all(r["port_low"] == 6000 and r["port_high"] == 6063 for r in j["records"]) and len(j["records"]) == 2'

# A DCCP record with its service code, and a record without any port.
run 0 --json 9/dccp && json_check 'j["records"][0]["service"] == "discard" and j["records"][0]["service_code"] == "1145656131"'
run 0 export --format json && {
        json_check 'len(j["records"]) == 14496'
        json_check 'any(r["port"] is None and r["service"] for r in j["records"] if "port" in r)'
        json_check 'len({k for r in j["records"] for k in r}) >= 13'
}

echo "builtin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
