#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rsapd on loopback, measured against nginx in the same run:
#
#  1. GET /v1/ports/1647 with wrk, 64 connections, 2 threads, DURATION
#     seconds each: rsapd, then nginx serving the very same JSON bytes as a
#     static file.  Prints both req/s, their ratio (goal >= 0.7) and rsapd's
#     p99 latency (goal < 5 ms).  Both log each request to a file, as they do
#     by default.
#  2. 10,000 idle keep-alive connections to rsapd (each has made one request
#     and stays open), then rsapd's resident memory (goal < 100 MiB).
#
# Prints figures and ratios against the goals; asserts nothing.  Only
# 127.0.0.1 is used, on ports the script picks; everything it started is
# stopped on exit, Ctrl-C included.
#
#     bench/daemon.sh [BUILD_DIR]     (default: build; DURATION=10 by default)
set -euo pipefail

RATIO_GOAL=0.7
P99_GOAL_MS=5
RSS_GOAL_MIB=100
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
DURATION=${DURATION:-10}

src_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "daemon.sh: no build dir" >&2; exit 1; }
rsapd=$build_dir/daemon/rsapd
rsap=$build_dir/cli/rsap

die() {
        echo "daemon.sh: $*" >&2
        exit 1
}

[ -x "$rsapd" ] || die "no rsapd in $build_dir/daemon: build first"
command -v wrk >/dev/null || die "wrk is not installed"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || die "nginx is not installed (Debian: nginx-light)"
python=/usr/bin/python3

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

# 10,000 sockets on each side, and wrk's: raise the descriptor limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

free_port() {
        "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
        for _ in $(seq 100); do
                if "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; then
                        return 0
                fi
                sleep 0.05
        done
        die "nothing answers on port $1"
}

export NO_COLOR=1 RSAP_DB_DIR=$work/db
mkdir -p "$work/db" "$work/www/v1/ports" "$work/nginx"
# nginx's workers run as an unprivileged user: let them read the file.
chmod 0755 "$work" "$work/www" "$work/www/v1" "$work/www/v1/ports"

rsapd_port=$(free_port)
"$rsapd" --db-dir "$work/db" --listen "127.0.0.1:$rsapd_port" --timeout 300 ${RSAPD_ARGS:-} \
        2>"$work/rsapd.log" &
rsapd_pid=$!
pids+=("$rsapd_pid")
wait_for_port "$rsapd_port"
# The same bytes for both: what rsap 1647 --json prints (rsapd has created
# the local registry by now, so both read the same one), as rsapd answers.
"$rsap" --db-dir "$work/db" 1647 --json >"$work/www/v1/ports/1647"
chmod 0644 "$work/www/v1/ports/1647"
curl -s "http://127.0.0.1:$rsapd_port/v1/ports/1647" | cmp -s - "$work/www/v1/ports/1647" ||
        die "rsapd's body differs from the file nginx serves"

nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    default_type application/json;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
CONF
"$nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=("$!")
wait_for_port "$nginx_port"
curl -s "http://127.0.0.1:$nginx_port/v1/ports/1647" | cmp -s - "$work/www/v1/ports/1647" ||
        die "nginx does not serve the body"

# wrk's "Requests/sec" and its 99th percentile in milliseconds.
run_wrk() {
        local out
        out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$1/v1/ports/1647")
        echo "$out" >&2
        local rps p99
        rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
        p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
        # wrk prints 1.23ms, 456.00us or 1.02s
        p99=$(echo "$p99" | awk '/us$/ {sub("us","",$1); print $1/1000; next}
                                 /ms$/ {sub("ms","",$1); print $1; next}
                                 /s$/  {sub("s","",$1); print $1*1000}')
        echo "$rps $p99"
}

echo "== GET /v1/ports/1647, 64 connections, ${DURATION}s each (wrk -t2 -c64)"
read -r rsapd_rps rsapd_p99 < <(run_wrk "$rsapd_port" 2>"$work/wrk-rsapd.txt")
read -r nginx_rps nginx_p99 < <(run_wrk "$nginx_port" 2>"$work/wrk-nginx.txt")
sed 's/^/  rsapd | /' "$work/wrk-rsapd.txt"
sed 's/^/  nginx | /' "$work/wrk-nginx.txt"
awk -v r="$rsapd_rps" -v n="$nginx_rps" -v p="$rsapd_p99" -v np="$nginx_p99" \
    -v goal="$RATIO_GOAL" -v pgoal="$P99_GOAL_MS" 'BEGIN {
        printf "rsapd  %10.0f req/s   p99 %6.3f ms\n", r, p
        printf "nginx  %10.0f req/s   p99 %6.3f ms\n", n, np
        printf "ratio rsapd/nginx %.2f (goal >= %.1f: %s)\n", r / n, goal, (r / n >= goal ? "met" : "NOT met")
        printf "rsapd p99 %.3f ms (goal < %d ms: %s)\n", p, pgoal, (p < pgoal ? "met" : "NOT met")
}'
kill "${pids[1]}" 2>/dev/null || true

echo "== $IDLE_CONNECTIONS idle keep-alive connections to rsapd"
rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$rsapd_pid/status")
"$python" - "$rsapd_port" "$IDLE_CONNECTIONS" "$rsapd_pid" <<'PY' | tee "$work/idle.txt"
import socket, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
request = b"GET /v1/ports/1647 HTTP/1.1\r\nHost: bench\r\n\r\n"
socks, deadline = [], time.monotonic() + 120
for i in range(n):
    if time.monotonic() > deadline:
        break
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request)
    got = b""
    while b"\r\n\r\n" not in got or len(got) < got.index(b"\r\n\r\n") + 4 + int(
            got.split(b"Content-Length: ")[1].split(b"\r\n")[0]):
        got += s.recv(65536)
    socks.append(s)
time.sleep(1)
# Every connection is still open: the server would have closed idle ones.
s = socks[0]
s.sendall(request)
alive = len(s.recv(65536)) > 0
with open(f"/proc/{pid}/status") as f:
    rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
print(f"open connections: {len(socks)} (the first still answers: {alive})")
print(f"RSS_KIB {rss}")
for s in socks:
    s.close()
PY
rss=$(awk '/^RSS_KIB/ {print $2}' "$work/idle.txt")
awk -v r="$rss" -v b="$rss_before" -v goal="$RSS_GOAL_MIB" 'BEGIN {
        printf "rsapd RSS %.1f MiB with the connections open (%.1f MiB before; goal < %d MiB: %s)\n",
               r / 1024, b / 1024, goal, (r / 1024 < goal ? "met" : "NOT met")
}'
