#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a careless admin, a hostile mirror and a local user can do to the files
# rsap reads and writes.  Each block first states the attack as it was found
# (the reproducer), then checks that it no longer works.  Needs $RSAP, python3.
set -u

RSAP=${RSAP:?set RSAP to the rsap binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export RSAP_DB_DIR="$work/db"
export NO_COLOR=1
unset XDG_DATA_HOME

. "$here/../testlib.sh"

mkreg() { python3 "$here/mkregistry.py" "$@"; }
mkreg xml 2025-12-15 "$work/2025-12.xml" mark-new
mkreg csv 2025-03-01 "$work/2025-03.csv" mark-old
mkreg xml 2099-01-01 "$work/2099.xml" mark-forged
tomorrow=$(date -u -d tomorrow +%F)
mkreg xml "$tomorrow" "$work/tomorrow.xml" mark-tomorrow
echo "precious" >"$work/victim"
victim_intact() {
        if [ "$(cat "$work/victim")" = precious ] && [ ! -L "$work/victim" ]; then
                passed=$((passed + 1))
        else
                fail "$1: the victim file was written through a planted link"
        fi
}
only_cache_left() {
        local left
        left=$(cd "$1" && ls -A | grep -v '^iana.snap$' | grep -v '^victim')
        [ -z "$left" ] && passed=$((passed + 1)) || fail "files left beside the cache: $left"
}

# --- 2. planted symlinks -------------------------------------------------------
# Reproducer: the temporary file was PATH.tmp.PID, opened O_CREAT|O_TRUNC, and
# the pid is the one of the shell that execs rsap (rsap execs rsap-update):
#   ln -s /etc/shadow /var/lib/rsap/iana.snap.tmp.$$; exec rsap update
mkdir -p "$RSAP_DB_DIR"
bash -c 'ln -s "$1" "$2/iana.snap.tmp.$$"; exec "$3" update --from "$4" >/dev/null 2>&1' \
        _ "$work/victim" "$RSAP_DB_DIR" "$RSAP" "$work/2025-12.xml"
victim_intact "update with a symlink at PATH.tmp.PID"
rm -f "$RSAP_DB_DIR"/iana.snap.tmp.*
[ -f "$RSAP_DB_DIR/iana.snap" ] && [ ! -L "$RSAP_DB_DIR/iana.snap" ] && passed=$((passed + 1)) ||
        fail "update did not write the cache"
only_cache_left "$RSAP_DB_DIR"
# A symlink as the cache itself is replaced, not written through.
rm -f "$RSAP_DB_DIR/iana.snap"
ln -s "$work/victim" "$RSAP_DB_DIR/iana.snap"
run 0 update --from "$work/2025-12.xml"
victim_intact "update with the cache a symlink"
[ ! -L "$RSAP_DB_DIR/iana.snap" ] && passed=$((passed + 1)) || fail "the cache is still a link"

# Reproducer: export --output F wrote F.tmp with fopen("w"):
#   ln -s ~root/.bashrc /tmp/out.tmp; sudo rsap export --format csv --output /tmp/out
ln -s "$work/victim" "$work/out.txt.tmp"
run 0 export --format services --output "$work/out.txt"
victim_intact "export with a symlink at FILE.tmp"
grep -q "^ssh[[:space:]]*22/tcp" "$work/out.txt" && passed=$((passed + 1)) || fail "export wrote no services file"
rm -f "$work/out.txt.tmp"

# Reproducer: ln -s /tmp/anything /var/lib/rsap/registry.db; sudo rsap request ...
# SQLite followed the link and made or wrote its target.
ln -s "$work/victim.db" "$RSAP_DB_DIR/registry.db"
run 2 request hard --port 20001 --proto tcp --description d --assignee a --contact c && {
        expect_err "symbolic link"
        expect_one_line_error
}
[ ! -e "$work/victim.db" ] && passed=$((passed + 1)) || fail "SQLite wrote through registry.db"
run 2 requests && expect_err "symbolic link"
rm -f "$RSAP_DB_DIR/registry.db"

# --- 2. root and a data directory others control ---------------------------------
# Reproducer: chmod 0777 /var/lib/rsap (or chown user), then any user can swap
# files there between root's checks and root's writes.
if [ "$(id -u)" -eq 0 ]; then
        chmod 0777 "$RSAP_DB_DIR"
        run 2 update --from "$work/2025-12.xml" && {
                expect_err "refusing to write as root into $RSAP_DB_DIR"
                expect_err "writable by every user"
                expect_one_line_error
        }
        run 2 request hard --port 20001 --proto tcp --description d --assignee a --contact c && {
                expect_err "refusing to write as root"
                expect_one_line_error
        }
        chmod 0775 "$RSAP_DB_DIR"
        run 2 update --from "$work/2025-12.xml" && expect_err "writable by its group"
        chmod 1777 "$RSAP_DB_DIR"   # sticky, as /tmp: others cannot replace root's files
        run 0 update --from "$work/2025-12.xml"
        chmod 0755 "$RSAP_DB_DIR"
        chown 65534 "$RSAP_DB_DIR"
        run 2 update --from "$work/2025-12.xml" && { expect_err "owned by uid 65534"; expect_one_line_error; }
        chown 0 "$RSAP_DB_DIR"
        # Lookups still read such a directory: only writes are refused.
        chmod 0777 "$RSAP_DB_DIR"
        run 0 20000 && expect_out "mark-new"
        chmod 0755 "$RSAP_DB_DIR"
else
        echo "SKIP: the data-directory checks for root: not root"
fi

# --- 3. releases: older, undated against dated, from the future ------------------
# Reproducer: rsap update --from service-names-port-numbers.csv (2025-02) after
# the XML of 2025-12: exit 0, the older data replaced the newer.
run 0 update --from "$work/2025-12.xml"
run 2 update --from "$work/2025-03.csv" && {
        expect_err "older than the cached 2025-12-15"
        expect_err "--allow-any-date"
        expect_one_line_error
}
run 0 20000 && expect_out "mark-new"
run 0 update --from "$work/2025-12.xml" # the same release again is fine
# Reproducer: a registry whose <updated> says 2099-01-01 was cached, and then
# shadowed every real release.
run 2 update --from "$work/2099.xml" && { expect_err "release date 2099-01-01 is in the future"; expect_one_line_error; }
run 0 update --from "$work/tomorrow.xml"   # a day of clock skew is allowed
run 0 update --allow-any-date --from "$work/2025-03.csv" && expect_out "2025-03-01"
run 0 20000 && expect_out "mark-old"
run 0 update --allow-any-date --from "$work/2099.xml"
run 0 --json update --from "$work/2025-12.xml" --allow-any-date && json_check 'j["release"] == "2025-12-15"'
# Reproducer: a mirror serving the first page of the registry (a transfer cut
# short, a proxy's error page that parses) replaced the whole copy with it.
mkreg xml 2025-12-16 "$work/partial.xml" mark-partial 100
run 2 update --from "$work/partial.xml" && {
        expect_err "only 107 records, fewer than the 10000 of a whole registry: refusing a partial copy"
        expect_one_line_error
}
run 0 20000 && expect_out "mark-new"
# IANA's own files, when ../shared has them: the CSV is older than the XML.
shared=${RSAP_SHARED_DATA:-}
if [ -n "$shared" ] && [ -f "$shared/service-names-port-numbers.xml" ]; then
        run 0 --db-dir "$work/iana" update --from "$shared/service-names-port-numbers.xml"
        run 2 --db-dir "$work/iana" update --from "$shared/service-names-port-numbers.csv" &&
                expect_err "is older than the cached"
else
        echo "SKIP: IANA's own files: no ../shared data"
fi

# --- 3. what --from may name ---------------------------------------------------------
# Reproducer: mkfifo f; rsap update --from f   (blocked forever in open())
mkfifo "$work/fifo"
timeout 60 "$RSAP" update --from "$work/fifo" >"$work/out" 2>"$work/err"
status=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
[ "$status" -eq 2 ] && passed=$((passed + 1)) || fail "update --from a FIFO exited $status"
expect_err "is not a regular file"
expect_one_line_error
run 2 update --from /dev/zero && expect_err "/dev/zero is not a regular file"
run 2 update --from "$work" && expect_one_line_error
timeout 60 "$RSAP" update --from "file://$work/fifo" >"$work/out" 2>"$work/err"
status=$?; err=$(cat "$work/err")
[ "$status" -eq 2 ] && passed=$((passed + 1)) || fail "update --from file:// a FIFO exited $status"
expect_err "is not a regular file"
run 2 update --from "file://host/x.xml" && expect_err "file:///PATH"
run 2 update --from "ftp://127.0.0.1/x.xml" && { expect_err "only http://, https:// and file://"; expect_one_line_error; }
run 0 update --from "file://$work/2025-12.xml"
run 2 update --timeout 0 && expect_one_line_error
run 2 update --timeout 3x && expect_err "--timeout"

# --- 3. libxml2 speaks only through rsap ---------------------------------------------
# Reproducer: an encoding libxml2 cannot convert put "encoding error : input
# conversion failed..." lines on stderr before rsap's own line.
for enc in EBCDIC-US UTF-32 bogus-enc UTF-16; do
        printf '<?xml version="1.0" encoding="%s"?>\n<registry xmlns="http://www.iana.org/assignments"><updated>2025-01-01</updated></registry>\n' \
                "$enc" >"$work/enc.xml"
        run 2 update --from "$work/enc.xml" && expect_one_line_error
done

# --- 3. a mirror that trickles ---------------------------------------------------------
# Reproducer: a server sending 2 KiB/s (above libcurl's low-speed limit) kept
# rsap update downloading past 90 s with no end in sight.
python3 - "$work/port" <<'PY' &
import http.server, socketserver, sys, time
class Trickle(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/big"):
            return self.big()
        self.send_response(200)
        self.send_header("Content-Length", str(4 << 20))
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 2048)
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
    def big(self):
        # One byte over 64 MiB; with no Content-Length only the count of
        # what arrives can stop it (HTTP/1.0: the body ends when we close).
        size = (64 << 20) + 1
        self.send_response(200)
        if self.path == "/big-declared":
            self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            chunk = b"<" * (1 << 20)
            for _ in range(64):
                self.wfile.write(chunk)
            self.wfile.write(b"<")
        except OSError:
            pass
    def log_message(self, *a):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
srv = Server(("127.0.0.1", 0), Trickle)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PY
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
timeout 100 "$RSAP" update --timeout 2 --from "http://127.0.0.1:$port/iana.xml" >"$work/out" 2>"$work/err"
status=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
[ "$status" -eq 2 ] && passed=$((passed + 1)) || fail "a trickling mirror: exit $status, wanted 2"
expect_err "not done within 2 s (--timeout)"
expect_one_line_error
# A body over 64 MiB is refused, declared or not: libcurl before 8.4 limits only
# a declared Content-Length, so rsap counts what arrives itself.
for path in big big-declared; do
        run 2 update --from "http://127.0.0.1:$port/$path" && {
                expect_err "http://127.0.0.1:$port/$path is larger than 64 MiB"
                expect_one_line_error
        }
done
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
run 0 20000 && expect_out "mark-new"

echo "hardening files: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
