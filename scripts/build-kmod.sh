#!/bin/bash
# Build kmod/maicache.ko for one kernel into build/<kver>/kmod/.
#
# Each kernel gets its own tree of symlinks to the sources so that builds for
# 6.1 and 6.12 never share object files, and the source tree stays clean for
# a plain `make -C <kdir> M=$PWD` (the DKMS path).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kver=${1:?usage: build-kmod.sh <kernel release> [make args...]}
shift
# MAICACHE_KDIR: a kernel build tree elsewhere (scripts/build-debug-kernel.sh).
kdir=${MAICACHE_KDIR:-/lib/modules/$kver/build}
[ -d "$kdir" ] || { echo "build-kmod: no headers for $kver at $kdir" >&2; exit 1; }

out=$root/build/$kver
mkdir -p "$out/kmod"
ln -sfn "$root/Kbuild" "$out/Kbuild"
ln -sfn "$root/proto" "$out/proto"
# Refresh the links: sources may have been added or removed since last time.
find "$out/kmod" -maxdepth 1 -type l -delete
for f in "$root"/kmod/*.[ch] "$root"/kmod/*.mk "$root"/kmod/Kbuild; do
	ln -s "$f" "$out/kmod/$(basename "$f")"
done

log=$out/kmod-build.log
if ! make -C "$kdir" M="$out" "$@" modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-kmod: build failed for $kver" >&2
	exit 1
fi
# Warnings fail the build: the module must build clean on every kernel.
# make's own notes (make[1]: warning: ...) are not the compiler's.
if grep -E 'warning:|error:' "$log" | grep -v '^make\[[0-9]*\]: ' >&2; then
	echo "build-kmod: compiler warnings for $kver" >&2
	exit 1
fi
echo "built $out/kmod/maicache.ko"
