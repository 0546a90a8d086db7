#!/bin/bash
# The cache group's benchmark: N VMs on one switch (tests/vm/multi.sh), Blob
# (Azurite) and etcd on node 0, the script tools/bench/multi/group.sh on
# every node. It prints, from one run (only ratios mean anything under
# emulation):
#   - bytes the group fetched from Blob for a dataset every node read, against
#     N x the dataset (what the nodes fetch without peers; target 1/N)
#   - a cold read on node 2 after node 1 read the dataset (peer-fed) against
#     node 1's own cold read (Blob-fed), and against a plain TCP stream
#     between the same two VMs (target >= 0.8x)
#
# Usage: tools/bench/group-bench.sh [--kernel KVER] [--nodes N]
# Report: build/bench/group-<kver>.txt
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVER=""
NODES=4
while (($#)); do
	case $1 in
	--kernel) KVER=${2:?}; shift 2 ;;
	--nodes) NODES=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "group-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ -n $KVER ]] || KVER=$("$REPO/scripts/kernels.sh" | tail -n1)
make -C "$REPO" -s all >/dev/null
mkdir -p "$REPO/build/bench"
"$REPO/tests/vm/multi.sh" --kernel "$KVER" --nodes "$NODES" --timeout 1200 \
	"$REPO/tools/bench/multi/group.sh"
report=$REPO/build/bench/group-$KVER.txt
cat "$REPO/build/vm-runs/$KVER/group/node0/report.txt" >"$report"
cat "$report"
echo "report: $report"
