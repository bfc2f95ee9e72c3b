#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rsapd on loopback against nginx tuned for static files, in the same run:
#
#  1. Port answers for random ports: PORTS ports are drawn at random, rsapd's
#     answer for each (GET /v1/ports/N) is written to a file, and nginx
#     (sendfile on, open_file_cache, as many workers as rsapd has threads)
#     serves those files at the same paths.  wrk (64 connections, 2 threads,
#     a Lua script that asks for one of the ports at random per request)
#     runs DURATION seconds against each of: rsapd with its response cache,
#     rsapd with --cache-ttl 0, nginx, in an order shuffled anew in each of
#     ROUNDS rounds.  Prints the median of the per-round ratios rsapd/nginx
#     of requests per second (goal >= 0.7) and each side's median p99
#     (goal for rsapd: < 5 ms).  Both log each request to a file.
#  2. IDLE idle keep-alive connections (each made one request and stays
#     open) to rsapd and to nginx: each one's memory before and after, RSS
#     and PSS summed over its processes (goal for rsapd: the connections'
#     PSS, after minus before, < 30 MiB).
#
# Prints figures and ratios against the goals; asserts nothing.  Only
# 127.0.0.1 is used, on ports the kernel picks; everything it started is
# stopped on exit, Ctrl-C included.
#
#     bench/daemon.sh [BUILD_DIR]   (default build; DURATION=5 ROUNDS=5
#                                    PORTS=10000 IDLE=10000 THREADS=rsapd's default)
set -euo pipefail

RATIO_GOAL=0.7
P99_GOAL_MS=5
IDLE_GOAL_MIB=30
IDLE=${IDLE:-10000}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
PORTS=${PORTS:-10000}

build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "daemon.sh: no build dir" >&2; exit 1; }
rsapd=$build_dir/daemon/rsapd
bench_dir=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3

die() {
        echo "daemon.sh: $*" >&2
        exit 1
}

[ -x "$rsapd" ] || die "no rsapd in $build_dir/daemon: build first"
command -v wrk >/dev/null || die "wrk is not installed (Debian: wrk)"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || die "nginx is not installed (Debian: nginx-light)"
# rsapd's default: two threads per CPU, at most 16 (docs/rsapd.8); nginx gets as many workers.
cpus=$(nproc)
default_threads=$(( cpus > 8 ? 16 : 2 * cpus ))
THREADS=${THREADS:-$default_threads}

work=$(mktemp -d)
pids=()
cleanup() {
        for pid in "${pids[@]}"; do
                kill "$pid" 2>/dev/null || true
        done
        for pid in "${pids[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# IDLE sockets on each side, and the client's: raise the descriptor limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# The port rsapd says it listens on (its log: "listening on http://127.0.0.1:PORT/").
rsapd_port_of() { # LOG
        for _ in $(seq 200); do
                port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$1")
                [ -n "$port" ] && { echo "$port"; return 0; }
                sleep 0.05
        done
        die "rsapd does not listen: $(cat "$1")"
}

wait_for_port() { # PORT
        for _ in $(seq 200); do
                "$python" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" \
                        2>/dev/null && return 0
                sleep 0.05
        done
        die "nothing answers on port $1"
}

export NO_COLOR=1
mkdir -p "$work/db" "$work/db-nocache" "$work/www/v1/ports" "$work/nginx"
# nginx's workers run as an unprivileged user: let them read the files.
chmod 0755 "$work" "$work/www" "$work/www/v1" "$work/www/v1/ports"

start_rsapd() { # NAME ARGS...: sets started_pid
        local name=$1
        shift
        "$rsapd" --listen 127.0.0.1:0 --threads "$THREADS" --timeout 300 "$@" ${RSAPD_ARGS:-} \
                >/dev/null 2>"$work/$name.log" &
        started_pid=$!
        pids+=("$started_pid")
}
start_rsapd rsapd --db-dir "$work/db"
rsapd_pid=$started_pid
start_rsapd rsapd-nocache --db-dir "$work/db-nocache" --cache-ttl 0
nocache_pid=$started_pid
rsapd_port=$(rsapd_port_of "$work/rsapd.log")
nocache_port=$(rsapd_port_of "$work/rsapd-nocache.log")

# The bodies: rsapd's own answers for PORTS random ports, as files.
"$python" - "$rsapd_port" "$PORTS" "$work" <<'PY'
import http.client, random, sys
port, n, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ports = random.sample(range(1, 65536), n)
c = http.client.HTTPConnection("127.0.0.1", port)
for p in ports:
    c.request("GET", f"/v1/ports/{p}")
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"daemon.sh: /v1/ports/{p} answered {r.status}")
    with open(f"{work}/www/v1/ports/{p}", "wb") as f:
        f.write(body)
with open(f"{work}/random.lua", "w") as f:
    f.write("local ports = {%s}\n" % ",".join(map(str, ports)))
    f.write("""
local counter = 0
setup = function(thread)
    counter = counter + 1
    thread:set("seed", counter)
end
init = function(args)
    math.randomseed(os.time() * 100 + seed)
end
request = function()
    return wrk.format("GET", "/v1/ports/" .. ports[math.random(#ports)])
end
""")
PY
chmod -R a+rX "$work/www"

cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $THREADS;
worker_rlimit_nofile 65536;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 32768; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:0;
        root $work/www;
    }
}
CONF
# nginx cannot listen on port 0 and say which it got: give it one the kernel just freed.
nginx_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$nginx_port;/" "$work/nginx/nginx.conf"
"$nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_for_port "$nginx_port"

# Every body nginx serves is the one rsapd answers, but for the sockets on
# the port, which may have changed since (other programs on the host).
"$python" - "$rsapd_port" "$nginx_port" "$work" <<'PY'
import http.client, json, os, sys
a = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
b = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]))
for name in sorted(os.listdir(f"{sys.argv[3]}/www/v1/ports"))[:50]:
    bodies = []
    for c in (a, b):
        c.request("GET", f"/v1/ports/{name}")
        body = json.loads(c.getresponse().read())
        body.pop("listening")
        bodies.append(body)
    if bodies[0] != bodies[1]:
        sys.exit(f"daemon.sh: rsapd and nginx differ on /v1/ports/{name}")
PY

# wrk's requests a second and its p99 in ms.
run_wrk() { # PORT
        wrk -t2 -c64 -d"${DURATION}s" --latency -s "$work/random.lua" "http://127.0.0.1:$1/" |
                awk '/^Requests\/sec:/ {rps = $2}
                     $1 == "99%" {v = $2; ms = v + 0
                                  if (v ~ /us$/) ms /= 1000; else if (v ~ /[^m]s$/) ms *= 1000}
                     END {print rps, ms}'
}

echo "== random ports: $PORTS ports, wrk -t2 -c64, ${DURATION}s per side, $ROUNDS rounds," \
     "rsapd and nginx with $THREADS thread(s)/worker(s)"
: >"$work/rounds.txt"
for round in $(seq "$ROUNDS"); do
        for side in $(printf '%s\n' rsapd nocache nginx | shuf); do
                case $side in
                rsapd) port=$rsapd_port ;;
                nocache) port=$nocache_port ;;
                nginx) port=$nginx_port ;;
                esac
                echo "$round $side $(run_wrk "$port")" >>"$work/rounds.txt"
        done
done
"$python" - "$work/rounds.txt" "$RATIO_GOAL" "$P99_GOAL_MS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
goal, p99_goal = float(sys.argv[2]), float(sys.argv[3])
by = {}
for r, side, rps, p99 in rows:
    by.setdefault(side, {})[int(r)] = (float(rps), float(p99))
names = {"rsapd": "rsapd (cache on) ", "nocache": "rsapd (cache off)", "nginx": "nginx            "}
for side in ("rsapd", "nocache", "nginx"):
    rps = statistics.median(v[0] for v in by[side].values())
    p99 = statistics.median(v[1] for v in by[side].values())
    print(f"  {names[side]}  median {rps:9.0f} req/s   median p99 {p99:6.2f} ms")
for side in ("rsapd", "nocache"):
    ratio = statistics.median(by[side][r][0] / by["nginx"][r][0] for r in by[side])
    p99 = statistics.median(v[1] for v in by[side].values())
    print(f"  {names[side]} / nginx: {ratio:.2f}x (median of per-round ratios; goal >= {goal}: "
          f"{'met' if ratio >= goal else 'NOT met'}); p99 {p99:.2f} ms (goal < {p99_goal:g} ms: "
          f"{'met' if p99 < p99_goal else 'NOT met'})")
PY
kill "$nocache_pid" 2>/dev/null || true

# RSS and PSS in KiB, summed over a process and its children (nginx's workers).
memory_of() { # PID
        local total_rss=0 total_pss=0
        for p in $1 $(pgrep -P "$1" || true); do
                read -r rss pss < <(awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r, p}' "/proc/$p/smaps_rollup")
                total_rss=$((total_rss + rss))
                total_pss=$((total_pss + pss))
        done
        echo "$total_rss $total_pss"
}

# The client of the idle connections: says how many it opened, then holds
# them until its stdin gives a line.
cat >"$work/idle.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
request = b"GET /v1/ports/1647 HTTP/1.1\r\nHost: localhost\r\n\r\n"
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(request)
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(65536)
    head, body = got.split(b"\r\n\r\n", 1)
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += s.recv(65536)
    socks.append(s)
# Every connection is still open and answers: none was dropped on the way.
for s in (socks[0], socks[-1]):
    s.sendall(request)
    if not s.recv(65536):
        sys.exit("daemon.sh: the server closed an idle connection")
print(len(socks), flush=True)
sys.stdin.readline()
PY

echo "== $IDLE idle keep-alive connections (each made one request)"
# nginx needs the file the connections ask for.
curl -s "http://127.0.0.1:$rsapd_port/v1/ports/1647" >"$work/www/v1/ports/1647"
chmod 0644 "$work/www/v1/ports/1647"
for side in rsapd nginx; do
        case $side in
        rsapd) pid=$rsapd_pid port=$rsapd_port ;;
        nginx) pid=$nginx_pid port=$nginx_port ;;
        esac
        read -r rss0 pss0 < <(memory_of "$pid")
        coproc IDLE_CLIENT { "$python" "$work/idle.py" "$port" "$IDLE"; }
        read -r opened <&"${IDLE_CLIENT[0]}" || { tail -n 3 "$work/nginx/error.log" >&2; die "$side: the idle connections could not all be opened"; }
        read -r rss1 pss1 < <(memory_of "$pid")
        echo >&"${IDLE_CLIENT[1]}"
        wait "$IDLE_CLIENT_PID" 2>/dev/null || true
        awk -v s="$side" -v n="$opened" -v r0="$rss0" -v r1="$rss1" -v p0="$pss0" -v p1="$pss1" \
            -v goal="$IDLE_GOAL_MIB" 'BEGIN {
                printf "  %-6s %d connections: RSS %.1f -> %.1f MiB, PSS %.1f -> %.1f MiB (%.2f KiB PSS each)",
                       s, n, r0 / 1024, r1 / 1024, p0 / 1024, p1 / 1024, (p1 - p0) / n
                if (s == "rsapd")
                        printf "; goal: the connections < %d MiB: %s", goal,
                               ((p1 - p0) / 1024 < goal ? "met" : "NOT met")
                printf "\n"
        }'
done
