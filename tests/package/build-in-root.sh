#!/bin/sh
# SPDX-License-Identifier: MIT
# Part of tests/package/run, inside a fresh root (tools/fresh-check): installs
# only the packaging tools and debian/control's Build-Depends, so a missing
# Build-Depends fails here, builds both packages, runs lintian, and leaves the
# .deb files in /root/out.  Prints "package: ok ..." or "package: FAIL ...".
set -u
cd "$(dirname "$0")/../.."

ok() { echo "package: ok - $*"; }
fail() { echo "package: FAIL - $*"; }
log=/tmp/package-build.log

export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >"$log" 2>&1 &&
	apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian >>"$log" 2>&1 &&
	apt-get build-dep -y -qq ./ >>"$log" 2>&1; then
	ok "the packaging tools and Build-Depends install"
else
	tail -n 20 "$log"
	fail "the packaging tools or Build-Depends do not install"
	exit 1
fi

# In a copy, so that the clone stays clean and ../ holds only this build.
rm -rf /root/pkg && mkdir -p /root/pkg/rsap && git archive HEAD | tar -x -C /root/pkg/rsap
if (cd /root/pkg/rsap && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -n 40 "$log"
	fail "dpkg-buildpackage -us -uc -b"
	exit 1
fi
grep -E '^[^ ]+: (warning|WARNING)' "$log" | sed 's/^/package: build: /'

# Every tag lintian would show by default, errors failing the test.
lintian --fail-on error /root/pkg/rsap_*.changes >/tmp/lintian.log 2>&1
code=$?
grep -v 'running with root privileges' /tmp/lintian.log | sed 's/^/package: lintian: /'
if [ "$code" -eq 0 ] && ! grep -q '^E:' /tmp/lintian.log; then
	ok "lintian reports no error"
else
	fail "lintian reports errors (exit $code)"
fi

cp /root/pkg/rsap_*.deb /root/pkg/rsapd_*.deb /root/out/ && ls /root/out
