#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the debug kernel of the VM tests (KASAN, lockdep, UBSAN, kmemleak;
# tests/vm/debug-kernel.config) from Debian's linux-source-6.12, once, into
# the cache beside the fetched kernels, and the module against it:
#
#   $CACHE/kernels/<kver>/boot/vmlinuz-<kver>, lib/modules/<kver>/, .fetched
#   $CACHE/debug-kernel/build/             the build tree (headers for kmod)
#   build/<kver>/kmod/maicache.ko          the module (scripts/build-kmod.sh)
#
# <kver> is the source's release with -maicache-debug; it prints it last.
# Then: tests/vm/run.sh --kernel <kver> tests/vm/tests/X.sh. It is not one
# of scripts/kernels.sh's kernels (those need /lib/modules/<kver>/build), so
# make check does not boot it: a build takes tens of minutes here
# (docs/testing.md, "A debug kernel for the VM tests"). A second run with
# the same source and config only rebuilds what changed.
#
# Usage: scripts/build-debug-kernel.sh [-j N]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MAICACHE_CACHE:-$root/.cache}
work=$cache/debug-kernel
jobs=$(nproc)
die() { echo "build-debug-kernel: $*" >&2; exit 1; }
[[ ${1:-} != -j ]] || { jobs=${2:?-j wants a number}; shift 2; }
(($# == 0)) || die "usage: scripts/build-debug-kernel.sh [-j N]"

tarball=$(compgen -G '/usr/src/linux-source-6.12*.tar.xz' | sort -V | tail -n1 || true)
[[ -n $tarball ]] || die "no /usr/src/linux-source-6.12*.tar.xz: apt-get install linux-source-6.12"
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

# The source, unpacked once per tarball.
src=$work/src
stamp=$work/src.stamp
want=$(stat -c '%n %s %Y' "$tarball")
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
	echo "build-debug-kernel: extracting $tarball"
	rm -rf "$src" "$stamp"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf "$tarball"
	echo "$want" >"$stamp"
fi

# The config: x86_64_defconfig, the KVM guest fragment, ours; every line of
# ours must survive olddefconfig (a dependency missing would drop it).
out=$work/build
mkdir -p "$out"
frag=$root/tests/vm/debug-kernel.config
make -s -C "$src" O="$out" x86_64_defconfig >/dev/null
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config \
	"$src/kernel/configs/kvm_guest.config" "$frag" >/dev/null)
echo 'CONFIG_LOCALVERSION="-maicache-debug"' >>"$out/.config"
make -s -C "$src" O="$out" olddefconfig >/dev/null
missing=0
while IFS= read -r line; do
	[[ $line =~ ^CONFIG_ ]] || continue
	grep -qxF "$line" "$out/.config" || { echo "build-debug-kernel: not in .config: $line" >&2; missing=1; }
done <"$frag"
((missing == 0)) || die "the config lost lines of $frag (above)"

t0=$SECONDS
make -s -C "$src" O="$out" -j"$jobs" bzImage modules
kver=$(make -s -C "$src" O="$out" kernelrelease)
kroot=$cache/kernels/$kver
rm -rf "$kroot"
mkdir -p "$kroot/boot"
make -s -C "$src" O="$out" INSTALL_MOD_PATH="$kroot" INSTALL_MOD_STRIP=1 modules_install
cp "$out/arch/x86/boot/bzImage" "$kroot/boot/vmlinuz-$kver"
touch "$kroot/.fetched"
echo "build-debug-kernel: kernel $kver built in $((SECONDS - t0)) s with -j$jobs"

MAICACHE_KDIR=$out "$root/scripts/build-kmod.sh" "$kver"
echo "$kver"
