#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (the importers, rsapd's routing and request
# decoding, the escaper of outside text, the snapshot reader, rsap import, a
# listener list from JSON, an nf_tables rule) with
# clang, ASan and UBSan in build-fuzz/ (once) and runs each for SECONDS
# (default 20) on a copy of its seed corpus.  Exits non-zero if any target crashes, leaks, hangs or trips a
# sanitizer; the input that did it is left in build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run.sh [SECONDS]
set -u

seconds=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
artifacts=$build/fuzz-artifacts

# fuzzer-no-link gives the library the coverage instrumentation that guides
# the fuzzer; only the targets themselves link libFuzzer.
if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=disabled \
                -Db_sanitize=address,undefined -Db_lundef=false \
                -Dc_args=-fsanitize=fuzzer-no-link || exit 1
fi
targets="fuzz-import-xml fuzz-import-csv fuzz-http-route fuzz-textsafe fuzz-snapshot fuzz-local-import fuzz-listen-json fuzz-nat-rule fuzz-deploy-ports"
# shellcheck disable=SC2086 # one word per target
meson compile -C "$build" -j 2 $targets || exit 1
mkdir -p "$artifacts"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

status=0
for program in $targets; do
        # fuzz-import-xml reads corpus/xml and xml.dict; fuzz-http-route corpus/http-route.
        target=${program#fuzz-}
        target=${target#import-}
        # New inputs go to a scratch copy: the seed corpus stays as written.
        mkdir -p "$work/$target"
        cp "$here/corpus/$target"/* "$work/$target/"
        dict=
        if [ -f "$here/$target.dict" ]; then
                dict=-dict=$here/$target.dict
        fi
        echo "== $program: ${seconds}s"
        if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                ASAN_OPTIONS=detect_leaks=1 \
                "$build/tests/fuzz/$program" $dict \
                -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
                -max_len=16384 -print_final_stats=1 \
                -artifact_prefix="$artifacts/$target-" "$work/$target"; then
                echo "$program FAILED" >&2
                status=1
        fi
done
exit $status
