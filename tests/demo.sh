#!/bin/bash
# make demo: the main job end to end. On the host: generate a dataset and
# build an erofs image of it. In a VM (the newest test kernel): start Azurite,
# upload the image as a blob, start maicached, attach the blob, mount it,
# read every file cold and then warm, and print a short report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kver=${MAICACHE_DEMO_KERNEL:-$("$root/scripts/kernels.sh" | tail -n 1)}
work=$root/build/demo
out=$root/build/vm-runs/$kver/in-vm

rm -rf "$work"
mkdir -p "$work"
echo "== building the dataset and its erofs image on the host"
"$root/tests/blob/make-dataset.sh" --small 1000 --large 3 --large-mib 12-16 \
	"$work/dataset" 2026 >"$work/dataset.txt"
"$root/tests/blob/make-image.sh" erofs "$work/dataset" "$work/dataset.erofs" >/dev/null
echo "   $(cat "$work/dataset.txt") in $(stat -c %s "$work/dataset.erofs") bytes of erofs"
echo "== booting $kver (software emulation: only ratios mean anything)"
if "$root/tests/vm/run.sh" --kernel "$kver" --timeout 900 \
	"$root/tests/demo/in-vm.sh"; then
	sed -n '/^== maicache demo/,/^== done/p' "$out/console.log" | grep -v '^\['
else
	exit 1
fi
