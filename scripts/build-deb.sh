#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the Debian packages maicache and maicache-dkms into build/deb/
# (`make deb`), with Debian's own tooling (dpkg-buildpackage, debhelper,
# dh_dkms), from a copy of the tree: the files git knows or would add,
# committed or not. debian/changelog is written here from
# proto/maicache_version.h, the one place the version is set
# (scripts/dkms-source.sh checks dkms/dkms.conf against it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/deb
die() { echo "build-deb: $*" >&2; exit 1; }

version=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$root/proto/maicache_version.h")
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "no version in proto/maicache_version.h"
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$root/dkms/dkms.conf")
[[ $dkms_version == "$version" ]] ||
	die "dkms/dkms.conf says $dkms_version, proto/maicache_version.h says $version"
command -v git >/dev/null && git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
	die "$root is not a git tree: the copy is made of the files git knows"

rm -rf "$out"
src=$out/maicache-$version
mkdir -p "$src"
# Tracked and untracked-but-not-ignored files that exist (not build/, .cache/).
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$src" -xf -

# The last commit's time: the same tree builds the same packages.
when=$(git -C "$root" log -1 --format=%ct)
maintainer=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
rev=$(git -C "$root" describe --always --dirty 2>/dev/null)
cat >"$src/debian/changelog" <<CHANGELOG
maicache ($version) bookworm; urgency=medium

  * maicache $version, built from the tree at $rev.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$when")
CHANGELOG

# The two packages and no -dbgsym: `dpkg -i build/deb/*.deb` is a node's install.
export DEB_BUILD_OPTIONS="noautodbgsym ${DEB_BUILD_OPTIONS:-}"
log=$out/build.log
if ! (cd "$src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "dpkg-buildpackage failed (all of it in $log)"
fi
rm -rf "$src"
ls "$out"/*.deb
