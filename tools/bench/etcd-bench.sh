#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The control plane of a cache group against a real etcd on this host:
# for each group size, a fresh etcd and build/user/etcd-group-bench with
# that many members' sessions (docs/scale.md, "The control plane").
#
#   tools/bench/etcd-bench.sh [--ttl S] [--seconds S] [N...]   (default: 100 500 1000)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ttl=10
seconds=30
sizes=()
while [ $# -gt 0 ]; do
	case $1 in
	--ttl) ttl=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	-*) echo "usage: etcd-bench.sh [--ttl S] [--seconds S] [N...]" >&2; exit 2 ;;
	*) sizes+=("$1"); shift ;;
	esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(100 500 1000)
command -v etcd >/dev/null || { echo "etcd-bench: no etcd (make deps installs etcd-server)" >&2; exit 1; }
make -s -C "$ROOT" build/user/etcd-group-bench >/dev/null 2>&1 ||
	make -C "$ROOT" build/user/etcd-group-bench
# Each member holds up to three connections (a watch stream, requests,
# keepalives): as many descriptors as this shell may have.
ulimit -n "$(ulimit -Hn)"

# shellcheck source=scripts/etcd-local.sh
. "$ROOT/scripts/etcd-local.sh"
trap etcd_local_stop EXIT
echo "etcd-bench: $(etcd --version | head -1), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
for n in "${sizes[@]}"; do
	etcd_local_start
	"$ROOT/build/user/etcd-group-bench" "$ETCD_URL" "$ETCD_PID" --members "$n" \
		--ttl "$ttl" --seconds "$seconds"
	etcd_local_stop
done
