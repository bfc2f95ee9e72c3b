#!/bin/bash
# SPDX-License-Identifier: MIT
# Part of tests/package/run, inside a pristine fresh root (tools/fresh-check)
# given the packages in /root/in: installs them with apt as a user would, then
# checks what they put on the system and that rsapd runs as its own user with
# the unit's arguments.  Prints "package: ok ..." or "package: FAIL ...".
set -u
cd "$(dirname "$0")/../.."

failed=0
ok() { echo "package: ok - $*"; }
fail() { echo "package: FAIL - $*"; failed=1; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
log=/tmp/package-install.log
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq >"$log" 2>&1
if apt-get install -y -qq /root/in/rsap_*.deb /root/in/rsapd_*.deb >>"$log" 2>&1; then
	ok "apt-get install ./rsap_*.deb ./rsapd_*.deb"
else
	tail -n 20 "$log"
	fail "apt-get install ./rsap_*.deb ./rsapd_*.deb"
	exit 1
fi
# What the checks themselves need, after the packages, so the packages'
# own dependencies are the only ones they had.
apt-get install -y -qq --no-install-recommends systemd man-db curl bash-completion >>"$log" 2>&1 ||
	{ tail -n 20 "$log"; fail "the checks' tools install"; exit 1; }

# rsap answers from its built-in copy.
out=$(rsap --json 1647 2>&1)
check "rsap 1647 exits 0" [ $? -eq 0 ]
check "rsap 1647 names the service rsap" grep -q '"service": "rsap"' <<<"$out"
check "rsap-update is in /usr/libexec/rsap" test -x /usr/libexec/rsap/rsap-update
# The local registry: rsap loads SQLite from /usr/libexec/rsap/rsap-sqlite.so.
reg=$(mktemp -d)
rsap --db-dir "$reg" request pkg-svc --port 40996 --proto tcp --description x --assignee a \
        --contact a@example.com >/dev/null 2>&1
out=$(rsap --db-dir "$reg" 40996 2>&1)
check "a local registry works: rsap-sqlite.so is found and loaded" grep -q "pkg-svc" <<<"$out"
rm -rf "$reg"

# A man page for every page in docs/, in its section.
missing=""
for page in docs/*.1 docs/*.8; do
	name=$(basename "$page")
	man -w "${name%.*}" >/dev/null 2>&1 || missing="$missing $name"
done
check "man finds every page of docs/${missing:+ (missing:$missing)}" [ -z "$missing" ]
# bash-completion's loader falls back to a minimal completion when it finds
# none: the one registered must be completion/rsap.bash's own.
want=$(grep -m1 '^complete ' completion/rsap.bash)
got=$(bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader rsap; complete -p rsap' 2>&1)
check "the bash completion of rsap loads (${got:-nothing})" [ -n "$want" -a "$got" = "$want" ]

# The system user, made by rsapd's postinst.
entry=$(getent passwd rsapd)
check "the rsapd user exists" [ -n "$entry" ]
uid=$(cut -d: -f3 <<<"$entry")
check "rsapd is a system user with no login shell" \
	test -n "$uid" -a "${uid:-1000}" -lt 1000 -a "$(cut -d: -f7 <<<"$entry")" = /usr/sbin/nologin
check "the write token is root's, mode 0600" \
	test "$(stat -c '%U %a' /etc/rsap/token 2>/dev/null)" = "root 600"

unit=/lib/systemd/system/rsapd.service
verify=$(systemd-analyze verify "$unit" 2>&1)
code=$?
[ -z "$verify" ] || sed 's/^/package: verify: /' <<<"$verify"
check "systemd-analyze verify of the unit is clean" test "$code" -eq 0 -a -z "$verify"
check "the unit runs rsapd as the rsapd user" grep -qx 'User=rsapd' "$unit"

# No systemd runs in a chroot: do what the unit would (its user, state and
# runtime directories, the token as a credential) and start the unit's
# ExecStart, on a port of the kernel's choosing instead of 1647.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
creds=$(mktemp -d)
install -o rsapd -g rsapd -m 0400 /etc/rsap/token "$creds/token"
chown rsapd:rsapd "$creds" && chmod 0500 "$creds"
install -d -o rsapd -g rsapd -m 0755 /var/lib/rsap /run/rsap
exec_start=${exec_start//'${CREDENTIALS_DIRECTORY}'/$creds}
read -r -a argv <<<"$exec_start"
daemon_log=/tmp/rsapd.log
setpriv --reuid=rsapd --regid=rsapd --init-groups --no-new-privs \
	"${argv[@]}" --listen 127.0.0.1:0 >"$daemon_log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$daemon_log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -n "$port" ]; then
	ok "rsapd starts with the unit's arguments: ${argv[*]:1}"
	check "rsapd runs as rsapd" test "$(stat -c %U "/proc/$pid")" = rsapd
	body=$(curl -sf "http://127.0.0.1:$port/v1/ports/1647")
	check "rsapd answers GET /v1/ports/1647" grep -q '"service": "rsap"' <<<"$body"
	check "the port server's socket is rsapd's" test "$(stat -c '%U %F' /run/rsap/portserver 2>/dev/null)" = "rsapd socket"
	kill "$pid"
	wait "$pid"
	check "rsapd stops on SIGTERM with status 0" [ $? -eq 0 ]
else
	sed 's/^/package: rsapd: /' "$daemon_log"
	fail "rsapd did not start with the unit's arguments: ${argv[*]:1}"
	kill "$pid" 2>/dev/null
fi
rm -rf "$creds"

# Purge: what the package made goes, the organisation's registry stays.
touch /var/lib/rsap/registry.db
if apt-get purge -y -qq rsapd >>"$log" 2>&1; then
	ok "apt-get purge rsapd"
	check "purge removes the token it made" test ! -e /etc/rsap
	check "purge keeps the organisation's registry" test -e /var/lib/rsap/registry.db
else
	tail -n 20 "$log"
	fail "apt-get purge rsapd"
fi
exit $failed
