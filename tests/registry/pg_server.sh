#!/bin/bash
# SPDX-License-Identifier: MIT
# pg_server.sh COMMAND [ARG...]: runs COMMAND beside a PostgreSQL server of
# its own, made for it in a temporary directory and removed after, with
# RSAP_TEST_STORE set to a URI of that server's database "rsap".  The server
# listens on no TCP port: only on a Unix socket in that directory.  It
# trusts every local connection (initdb -A trust) and knows the one user
# rsap.  PostgreSQL refuses to run as root: as root, the server runs as
# nobody, which owns the directory.  RSAP_TEST_PG_CTL names a script that
# stops and starts the server (stop|start).  Exits with COMMAND's status, or 77
# (skipped, with one line saying why) where PostgreSQL's server is missing.
set -u

bin=${RSAP_PG_BIN:-}
if [ -z "$bin" ]; then
        for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
                [ -x "$dir/initdb" ] && { bin=$dir; break; }
        done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "SKIP: PostgreSQL's server is not installed (no initdb and pg_ctl in /usr/lib/postgresql/*/bin; apt-get install postgresql)"
        exit 77
fi

here=$PWD
dir=$(mktemp -d /tmp/rsap-pg-XXXXXX) || exit 1
as_server=()
if [ "$(id -u)" = 0 ]; then
        chown nobody "$dir" || exit 1
        as_server=(runuser -u nobody --)
fi

# The server's commands run in its own directory: the user they run as may
# not enter the one the tests run in (/root/... when root runs them).
cd "$dir" || exit 1

stop() {
        cd "$dir" || return
        "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
        rm -rf "$dir"
}
trap stop EXIT

if ! "${as_server[@]}" "$bin/initdb" -D "$dir/data" -A trust -U rsap -E UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1; then
        echo "pg_server.sh: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        exit 1
fi
# fsync off: a test's database need not outlive a power cut.
options="-c listen_addresses='' -c unix_socket_directories=$dir -c fsync=off -c max_connections=100"
# $dir/ctl stop|start: a test stops its server (fast: sessions are ended, as
# in a restart) and starts it again as it was, to see its clients recover.
cat >"$dir/ctl" <<EOF
#!/bin/bash
cd "$dir" || exit 1
case "\$1" in
stop) exec ${as_server[*]} "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop ;;
start) exec ${as_server[*]} "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s -o "$options" start ;;
*) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
EOF
chmod 755 "$dir/ctl"
if ! "$dir/ctl" start; then
        echo "pg_server.sh: the server did not start:" >&2
        cat "$dir/server.log" >&2
        exit 1
fi
if ! "$bin/createdb" -h "$dir" -U rsap rsap 2>"$dir/createdb.log"; then
        echo "pg_server.sh: createdb failed: $(cat "$dir/createdb.log")" >&2
        exit 1
fi

cd "$here" || exit 1
export RSAP_TEST_STORE="postgresql:///rsap?host=$dir&user=rsap"
export RSAP_TEST_PG_DIR="$dir" RSAP_TEST_PG_CTL="$dir/ctl"
"$@"
