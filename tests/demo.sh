#!/bin/bash
# make demo: boot the newest test kernel in a VM and run the demo there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kver=${MAICACHE_DEMO_KERNEL:-$("$root/scripts/kernels.sh" | tail -n 1)}
out=$root/build/vm-runs/$kver/in-vm
if "$root/tests/vm/run.sh" --kernel "$kver" "$root/tests/demo/in-vm.sh"; then
	sed -n '/^== maicache demo/,/^== removed/p' "$out/console.log" | grep -v '^\['
else
	exit 1
fi
