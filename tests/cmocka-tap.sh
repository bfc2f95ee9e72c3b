#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a cmocka program for meson's TAP protocol, so that each skip() is
# counted as a skipped subtest.  cmocka 1.1 writes a skipped case as
# "not ok N # SKIP name", which meson (like the TAP spec's readers that
# check ok first) counts as a failure: it becomes "ok N - name # SKIP".
# Lines that are not TAP become comments.  A program that exits 77 before
# any plan (a whole program skipped) reports an empty plan, i.e. SKIP.
#
#   cmocka-tap.sh PROGRAM [ARGS...]
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$out"
status=$?
if [ "$status" -eq 77 ] && ! grep -q '^1\.\.' "$out"; then
        sed 's/^/# /' "$out"
        echo "1..0 # SKIP $1 skipped itself (exit 77)"
        exit 0
fi
sed -e 's/^not ok \([0-9][0-9]*\) # SKIP \(.*\)$/ok \1 - \2 # SKIP/' \
        -e '/^\(ok \|not ok \|1\.\.\|#\)/!s/^/# /' "$out" || exit 99
# No plan at all would read as "nothing ran, so skipped": a crash before
# cmocka's first line must fail instead.
grep -q '^1\.\.' "$out" || { echo "Bail out! no TAP plan from $1 (exit $status)"; exit 99; }
exit "$status"
