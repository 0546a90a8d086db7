#!/bin/bash
# Print the kernel releases VM tests can use: unpacked in the cache and with
# headers to build the module against. Oldest first.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MAICACHE_CACHE:-$REPO/.cache}

shopt -s nullglob
for root in "$CACHE"/kernels/*/; do
	root=${root%/}
	kver=${root##*/}
	[[ -f $root/.fetched && -f $root/boot/vmlinuz-$kver ]] || continue
	[[ -d /lib/modules/$kver/build ]] || continue
	printf '%s\n' "$kver"
done | sort -V
