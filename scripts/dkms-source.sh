#!/bin/bash
# Lay out the DKMS source tree of maicache in DEST (default
# /usr/src/maicache-<version>): what `dkms add` expects to find.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$root/dkms/dkms.conf")
header=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$root/proto/maicache_version.h")
if [ "$version" != "$header" ]; then
	echo "dkms-source: dkms.conf says $version, proto/maicache_version.h says $header" >&2
	exit 1
fi
dest=${1:-/usr/src/maicache-$version}
rm -rf "$dest"
mkdir -p "$dest/kmod" "$dest/proto"
cp "$root/Kbuild" "$root/dkms/dkms.conf" "$dest/"
cp "$root"/kmod/Kbuild "$root"/kmod/*.mk "$root"/kmod/*.[ch] "$dest/kmod/"
rm -f "$dest"/kmod/*_kunit.c
cp "$root"/proto/*.h "$dest/proto/"
echo "$dest"
