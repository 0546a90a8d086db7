#!/bin/bash
# The benchmarks between nodes: N VMs on one switch (tests/vm/multi.sh),
# tools/bench/multi/BENCH.sh on every node, node 0's report printed. Each
# prints ratios from one run (only ratios mean anything under emulation):
#
#   group  (4 nodes; Blob and etcd on node 0) bytes the group fetched from
#          Blob for a dataset every node read against N x the dataset
#          (target 1/N); a cold read fed by peers against one fed by Blob
#          and against a plain TCP stream between the same VMs (>= 0.8x)
#   rdma   (2 nodes with Soft-RoCE) a peer fetch over RDMA against
#          ib_read_bw and ib_read_lat on the same link (>= 0.8x) and
#          against the TCP path; the daemons' CPU time per GB both ways
#   blob   (2 nodes; Azurite alone on node 0) a cold read of a 128 MiB blob
#          through maicache on node 1 against parallel curl ranged GETs of
#          it from the same node (>= 0.9x; tools/bench/blob-lib.sh)
#
# Usage: tools/bench/multi-bench.sh BENCH [--kernel KVER] [--nodes N] [--cpu MODEL]
#   --cpu MODEL  qemu's -cpu for every node (default max; max,-erms costs
#                copies as hardware does, docs/performance.md)
# Report: build/bench/BENCH-<kver>.txt
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=${1:-}
[[ -f $REPO/tools/bench/multi/$BENCH.sh ]] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
shift
KVER=""
CPU=max
case $BENCH in rdma | blob) NODES=2 ;; *) NODES=4 ;; esac
while (($#)); do
	case $1 in
	--kernel) KVER=${2:?}; shift 2 ;;
	--nodes) NODES=${2:?}; shift 2 ;;
	--cpu) CPU=${2:?}; shift 2 ;;
	*) echo "multi-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ -n $KVER ]] || KVER=$("$REPO/scripts/kernels.sh" | tail -n1)
make -C "$REPO" -s all >/dev/null
mkdir -p "$REPO/build/bench"
"$REPO/tests/vm/multi.sh" --kernel "$KVER" --nodes "$NODES" --cpu "$CPU" --timeout 1800 \
	"$REPO/tools/bench/multi/$BENCH.sh"
report=$REPO/build/bench/$BENCH-$KVER.txt
cat "$REPO/build/vm-runs/$KVER/$BENCH/node0/report.txt" >"$report"
cat "$report"
echo "report: $report"
