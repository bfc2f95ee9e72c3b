#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rsap check FILE...: the fixtures beside this script (written for it) cover
# Compose's short and long port syntax, ranges, IPv6, ${VAR} defaults, anchors
# and merge keys, and Kubernetes' hostPort, hostNetwork, nodePort, CronJob and
# multi-document files; then each kind of finding, --ignore, --json,
# --request, malformed YAML and a 100 MB file.  Runs in a network namespace
# of its own, so that a listener it makes on 127.0.0.1 is the only one.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'kill $listener 2>/dev/null; rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/db"
export NO_COLOR=1
unset XDG_DATA_HOME WEB_PORT UNSET_PORT EMPTY_PORT TWO_PORT LISTEN_PORT
listener=

. "$here/../testlib.sh"
own_network_namespace "$@"

# ports_of: "PORT/PROTO SERVICE" of each row of the last stdout, sorted.
ports_of() { printf '%s\n' "$out" | awk 'NR > 1 && $2 ~ "/" {print $2, $3}' | sort -u | tr '\n' ' '; }
# expect_row TEXT: a row of the last stdout says TEXT once its runs of blanks are one space.
expect_row() {
        case "$(printf '%s\n' "$out" | tr -s ' ')" in
        *"$1"*) passed=$((passed + 1)) ;;
        *) fail "no row '$1' in: $out" ;;
        esac
}
expect_ports() {
        local got
        got=$(ports_of)
        [ "$got" = "$1" ] && passed=$((passed + 1)) || fail "ports '$got', wanted '$1'"
}

# ---- libfyaml loads for rsap check alone (cli/lazy_fyaml.c) ------------------------
needed=$(readelf -d "$RSAP" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | tr '\n' ' ')
case $needed in
*libfyaml*) fail "rsap needs libfyaml at start: $needed" ;;
*libc.so*) passed=$((passed + 1)) ;;
*) fail "readelf found no libc among rsap's needed libraries: '$needed'" ;;
esac

# ---- the syntaxes ----------------------------------------------------------------
run 0 check "$here/compose-short.yaml"
expect_ports "15432/tcp db 18081/tcp web 18082/tcp web 18090/tcp web 18091/tcp web 18095/udp web 18096/udp web 18097/tcp web "
expect_out "compose-short.yaml:7 "
expect_out "8 host ports, 0 with findings"

run 0 check "$here/compose-long.yaml"
expect_ports "18100/tcp api 18101/udp api 18102/udp api "

# Defaults apply when unset (:- and -), and :- also when empty; ${VAR:?} needs VAR.
TWO_PORT=18203 EMPTY_PORT= run 0 check --ignore duplicate "$here/compose-anchors.yaml"
expect_ports "18200/tcp one 18200/tcp three 18201/tcp one 18201/tcp three 18202/tcp one 18202/tcp three 18203/tcp two "
# Set but empty: "-" gives the empty value (":81" takes no host port), ":-" the default.
WEB_PORT=18210 UNSET_PORT= EMPTY_PORT= TWO_PORT=18203 run 0 check --ignore duplicate "$here/compose-anchors.yaml"
expect_ports "18202/tcp one 18202/tcp three 18203/tcp two 18210/tcp one 18210/tcp three "
# The services that merge one anchor's ports take each of them twice.
TWO_PORT=18203 run 1 check "$here/compose-anchors.yaml"
expect_row "18200/tcp one duplicate: 18200/tcp is taken by three too"
expect_row "18203/tcp two free"
run 2 check "$here/compose-anchors.yaml"
expect_err "compose-anchors.yaml:17:10: port needs the variable TWO_PORT"
expect_one_line_error

# The .env beside the file, and --env-file instead of it; the environment wins.
mkdir "$work/app"
cp "$here/compose-anchors.yaml" "$work/app/compose.yaml"
printf '# values\nexport TWO_PORT=18230\nWEB_PORT="18231"\n\n' >"$work/app/.env"
run 0 check --ignore duplicate "$work/app/compose.yaml"
expect_ports "18201/tcp one 18201/tcp three 18202/tcp one 18202/tcp three 18230/tcp two 18231/tcp one 18231/tcp three "
TWO_PORT=18240 run 0 check --ignore duplicate "$work/app/compose.yaml"
expect_out "18240/tcp"
printf 'TWO_PORT=18250\n' >"$work/other.env"
run 0 check --ignore duplicate --env-file "$work/other.env" "$work/app/compose.yaml"
expect_ports "18200/tcp one 18200/tcp three 18201/tcp one 18201/tcp three 18202/tcp one 18202/tcp three 18250/tcp two "
printf 'not a line\n' >"$work/bad.env"
run 2 check --env-file "$work/bad.env" "$work/app/compose.yaml"
expect_err "bad.env:1: not KEY=VALUE"

run 0 check "$here/k8s.yaml"
expect_ports "18300/tcp pod-hostport 18301/udp pod-hostport 18310/tcp deploy-hostnet 18320/tcp cron 30080/tcp svc-nodeport "

run 0 check --service billing "$here/k8s.yaml" "$here/compose-long.yaml"
expect_out "8 host ports"
expect_no_out "pod-hostport"

# ---- findings ----------------------------------------------------------------------
read -r eph_low eph_high </proc/sys/net/ipv4/ip_local_port_range
eph=$(( (eph_low + eph_high) / 2 ))
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$work/port" &
listener=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
busy=$(cat "$work/port")
cat >"$work/findings.yaml" <<EOF
services:
  web:
    ports: ["\${LISTEN_PORT}:80", "127.0.0.2:5432:5432", "$eph:1", "10080:1", "18400:1"]
  postgresql:
    ports: ["127.0.0.1:5432:5432"]
EOF
LISTEN_PORT=$busy run 1 check "$work/findings.yaml"
expect_row "$busy/tcp web listening: $busy/tcp is listening on this host now"
expect_row "5432/tcp web iana: 5432/tcp is assigned by IANA to postgresql"
expect_out "ephemeral: $eph is inside this host's ephemeral range"
expect_out "browser: 10080 is a port browsers refuse"
expect_row "18400/tcp web free"
expect_row "5432/tcp postgresql free"  # IANA's assignment to the service itself
expect_out "6 host ports, 4 with findings"

# A port with several IANA records (1067/tcp: instl-boots, then its historic alias
# instl_boots) is the service's own whichever of them names it.
printf 'services:\n  instl-boots:\n    ports: ["1067:1"]\n  instl_boots:\n    ports: ["127.0.0.1:1068:1"]\n' >"$work/aliases.yaml"
run 1 check "$work/aliases.yaml"
expect_row "1067/tcp instl-boots free"
expect_row "1068/tcp instl_boots iana: 1068/tcp is assigned by IANA to instl-bootc"

LISTEN_PORT=$busy run 0 check --ignore iana,listening,ephemeral,browser "$work/findings.yaml"
run 2 check --ignore nonsense "$work/findings.yaml"
expect_one_line_error

LISTEN_PORT=$busy run 1 check --json "$work/findings.yaml"
json_check 'j["kind"] == "check" and j["ports_with_findings"] == 4 and len(j["ports"]) == 6'
json_check '[f["kind"] for p in j["ports"] if p["port"] == 5432 and p["service"] == "web" for f in p["findings"]] == ["iana"]'
json_check '[p["findings"][0]["other"] for p in j["ports"] if p["port"] == 5432 and p["service"] == "web"] == ["postgresql"]'
json_check 'all(p["source"] == "compose" and p["line"] == 3 for p in j["ports"] if p["service"] == "web")'

# The local registry: a port assigned to another service is a finding; to the file's own, not.
db="$work/registry.db"
run 0 request other --port 18500 --proto tcp --description d --assignee a --contact c --db "$db"
run 0 approve 1 --db "$db"
printf 'services:\n  web:\n    ports: ["127.0.0.2:18500:1"]\n  other:\n    ports: ["127.0.0.1:18500:1"]\n' >"$work/local.yaml"
run 1 check --db "$db" "$work/local.yaml"
expect_out "local: 18500/tcp is assigned here to other (assignment 1)"
expect_out "1 with findings"

# Two entries of the files on one port and overlapping addresses clash, across files
# too; different addresses do not.
printf 'services:\n  web:\n    ports: ["18800:80", "127.0.0.1:18801:80", "18802-18803:80"]\n' >"$work/dup1.yaml"
printf 'services:\n  api:\n    ports: ["18800:81", "127.0.0.2:18801:80", "0.0.0.0:18803:1"]\n' >"$work/dup2.yaml"
run 1 check --ignore ephemeral "$work/dup1.yaml" "$work/dup2.yaml"
expect_row "18800/tcp web duplicate: 18800/tcp is taken by api too"
expect_row "18800/tcp api duplicate: 18800/tcp is taken by web too"
expect_row "18803/tcp api duplicate: 18803/tcp is taken by web too"
expect_row "18801/tcp web free"
expect_row "18802/tcp web free"
expect_out "7 host ports, 4 with findings"
run 0 check --ignore ephemeral,duplicate "$work/dup1.yaml" "$work/dup2.yaml"

# --request files one request per service and port for the free ports, not for
# the taken ones nor for those the registry already gives the service.
printf 'services:\n  shop:\n    ports: ["18600:1", "18600:1/udp", "18601:2", "5432:3"]\n  other:\n    ports: ["18500:1"]\n' >"$work/req.yaml"
run 1 check --request --assignee Ops --contact ops@example.com --db "$db" "$work/req.yaml"
expect_out "request 2 filed: shop on 18600/tcp,udp"
expect_out "request 3 filed: shop on 18601/tcp"
expect_no_out "request 4"
run 0 requests --db "$db" --json
json_check 'sorted((r["service"], r["port"]) for r in j["requests"]) == [("shop", 18600), ("shop", 18601)]'
# Run again, it files nothing: the service's pending requests ask for those ports already.
run 1 check --request --assignee Ops --contact ops@example.com --db "$db" --json "$work/req.yaml"
json_check 'j["requests"] == []'
run 2 check --request "$work/req.yaml"
expect_err "--request needs --assignee and --contact"

# ---- bad input ---------------------------------------------------------------------
run 2 check "$here/malformed.yaml"
expect_err "malformed.yaml:5:6: not valid YAML"
expect_one_line_error
printf 'just a scalar\n' >"$work/scalar.yaml"
run 2 check "$work/scalar.yaml"
expect_err "neither a Compose file"
printf 'services:\n  web:\n    ports: ["70000:80"]\n' >"$work/range.yaml"
run 2 check "$work/range.yaml"
expect_err "range.yaml:3:14: '70000:80' is not a Compose port"
# bad_file TEXT ERROR: a file holding TEXT gets one line on stderr saying ERROR, exit 2.
bad_file() {
        printf '%b' "$1" >"$work/bad.yaml"
        run 2 check "$work/bad.yaml" && expect_err "$2" && expect_one_line_error
}
bad_file 'services:\n  web:\n    ports:\n      - published: 8080\n' "a long-syntax port needs a target"
bad_file 'services:\n  web:\n    ports:\n      - {target: 80, published: "80-x"}\n' "bad.yaml:4:34: published '80-x' is not a port or a range A-B"
bad_file 'services:\n  web:\n    ports:\n      - {target: 80, published: 80, protocol: dccp}\n' "bad.yaml:4:47: protocol is not tcp, udp or sctp"
bad_file 'services:\n  web:\n    ports: "8080:80"\n' "bad.yaml:2:3: the ports of service web are not a list"
bad_file 'services: [web]\n' "services: is not a mapping"
bad_file 'kind: Pod\nspec:\n  containers:\n    - ports:\n        - hostPort: http\n' "bad.yaml:5:21: hostPort is not a port (0-65535)"
bad_file 'kind: Pod\nspec:\n  containers:\n    - ports:\n        - {hostPort: 80, protocol: ICMP}\n' "protocol is not tcp, udp or sctp"
bad_file 'kind: Service\nspec:\n  type: NodePort\n  ports: {nodePort: 30000}\n' "a Service's ports are not a list"
bad_file 'kind: List\nitems: {a: 1}\n' "a List's items are not a list"
bad_file 'apiVersion: v1\n' "neither a Compose file (services:) nor a Kubernetes object (kind:)"
bad_file 'services:\n  web:\n    ports: ["${A"]\n' "port '\${A': bad \${...} interpolation"
run 2 check --env-file "$work/no-such.env" "$here/k8s.yaml"
expect_err "cannot read $work/no-such.env"
printf 'A=1\0\n' >"$work/nul.env"
run 2 check --env-file "$work/nul.env" "$here/k8s.yaml"
expect_err "nul.env: holds a NUL byte"

# A List holds objects; PodTemplate's pod spec is template.spec; a pod with no name is checked.
printf 'kind: List\nitems:\n  - kind: PodTemplate\n    metadata: {name: tpl}\n    template:\n      spec:\n        containers: [{ports: [{hostPort: 18950}]}]\n  - kind: Pod\n    spec:\n      containers: [{ports: [{hostPort: 18951, protocol: SCTP}]}]\n  - kind: ConfigMap\n' >"$work/list.yaml"
run 0 check "$work/list.yaml"
expect_ports "18950/tcp tpl 18951/sctp - "

run 2 check "$work/missing.yaml"
expect_one_line_error
run 2 check
expect_err "which files?"

# max_rss STATUS KIB FILE: rsap check FILE exits STATUS with a peak RSS under KIB.
max_rss() {
        local rss
        if [ ! -x /usr/bin/time ]; then
                fail "/usr/bin/time (Debian package time) is missing: tools/bootstrap installs it"
                return
        fi
        /usr/bin/time -f '%M' -o "$work/rss" "$RSAP" check "$3" >"$work/out" 2>"$work/err"
        status=$?
        out=$(cat "$work/out")
        err=$(cat "$work/err")
        rss=$(tail -1 "$work/rss")
        [ "$status" -eq "$1" ] && passed=$((passed + 1)) || fail "check $3: exit $status; $err"
        if [ -n "${RSAP_SANITIZED:-}" ]; then
                echo "note: peak RSS not judged under the sanitizers ($rss KiB with their shadow)"
                return
        fi
        [ "$rss" -lt "$2" ] && passed=$((passed + 1)) || fail "check $3: peak RSS $rss KiB"
}

# A 100 MB file is refused before it is read: one line, and little memory.
truncate -s 100M "$work/big.yaml"
max_rss 2 65536 "$work/big.yaml"
expect_err "big.yaml: larger than 16 MiB"
expect_one_line_error

# Aliases fanned out (a "billion laughs": 8^6 copies of one list) away from the
# ports cost nothing: the walk follows aliases where it looks, and never has
# libfyaml expand the document whole (which takes 85 MB here).
python3 - "$work/laughs.yaml" <<'EOF'
import sys
lines = ['x-p0: &p0 ["18700:1"]']
for i in range(1, 7):
    lines.append(f"x-p{i}: &p{i} [" + ", ".join([f"*p{i-1}"] * 8) + "]")
lines.append("services:\n  web:\n    ports: *p0")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
max_rss 0 32768 "$work/laughs.yaml"
expect_out "1 host port, 0 with findings"
# Ranges count each port, up to 100,000 in one run.
printf 'services:\n  web:\n    ports: ["1-65535:1-65535", "1-65535:1-65535/udp"]\n' >"$work/many.yaml"
max_rss 2 65536 "$work/many.yaml"
expect_err "many.yaml:3:33: more than 100000 host ports in one check"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
