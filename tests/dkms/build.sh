#!/bin/bash
# The DKMS recipe builds the module for every kernel, as a node image would,
# in a private DKMS tree so the host's DKMS state is untouched.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/build/dkms
rm -rf "$work"
mkdir -p "$work/tree"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$root/dkms/dkms.conf")
"$root/scripts/dkms-source.sh" "$work/src/maicache-$version" >/dev/null
rc=0
for k in $("$root/scripts/kernels.sh"); do
	if dkms build -m maicache -v "$version" -k "$k" \
		--dkmstree "$work/tree" --sourcetree "$work/src" >"$work/$k.log" 2>&1 &&
		compgen -G "$work/tree/maicache/$version/$k/*/module/maicache.ko*" >/dev/null; then
		echo "PASS dkms build [$k]"
	else
		echo "FAIL dkms build [$k]"
		tail -n 30 "$work/$k.log"
		rc=1
	fi
done
exit $rc
