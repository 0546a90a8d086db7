#!/bin/bash
# Pack Azurite's runtime files into one tar for the VM tests:
#   tests/blob/azurite-pack.sh      # writes $MAICACHE_CACHE/azurite/vm-modules.tar
#
# Inside the VM the host root is a 9p share, and under software emulation
# every file Node.js stats or opens on it costs milliseconds: Azurite loads
# about 1400 modules, so it starts in 20-25 s from the share. Read as one
# tar and unpacked into the VM's tmpfs it starts in about half that
# (tests/vm/blob.sh does this whenever the tar is there and up to date).
# Only what Node.js loads goes in (.js, .cjs, .mjs, .json, .node and the
# symlinks), not source maps, TypeScript or docs: 64 MB instead of 186 MB.
#
# Quick when the tar is newer than the Azurite install.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MAICACHE_CACHE:-$root/.cache}
dir=$cache/azurite
out=$dir/vm-modules.tar
stamp=$dir/node_modules/.package-lock.json

[[ -x $dir/node_modules/.bin/azurite-blob && -f $stamp ]] ||
	{ echo "azurite-pack: Azurite is not installed in $dir (run make deps)" >&2; exit 1; }
[[ $out -nt $stamp ]] && exit 0

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(
	cd "$dir"
	find node_modules \( -type l -o -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \
		-o -name '*.json' -o -name '*.node' \) \) -print0 |
		LC_ALL=C sort -z |
		tar --null --no-recursion -T - -cf "$tmp"
)
mv "$tmp" "$out"
trap - EXIT
echo "azurite-pack: wrote $out ($(($(stat -c %s "$out") >> 20)) MiB)"
