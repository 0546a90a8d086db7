#!/bin/bash
# shellcheck disable=SC2119 # group_up takes an optional argument
# One node of `tools/bench/multi-bench.sh blob` (see there). Two nodes:
# node 0 runs Azurite and nothing else, node 1 reads the blob from it over
# the switch (tools/bench/blob-lib.sh: curl against maicache, rounds
# interleaved) and hands its report to node 0, which writes it. With the
# source on a machine of its own, the reader's CPU is not taken from it,
# as with Blob itself.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"
# shellcheck source=tools/bench/blob-lib.sh
. "$MAICACHE_ROOT/tools/bench/blob-lib.sh"

mib=128	# a 1 GiB node holds it twice: the file and Azurite's copy
par=16
rounds=3

group_up
if ((MAICACHE_NODE == 0)); then
	head -c "$((mib << 20))" /dev/urandom >/tmp/cold.img
	blob_mkcontainer bench --public blob
	blob_put bench cold.img /tmp/cold.img >/dev/null
	rm -f /tmp/cold.img
	group_mark blob-ready
	group_wait_nodes report 1500 1
	{
		echo "Blob cold read benchmark, 2 nodes, Azurite alone on node 0, read on node 1, kernel $MAICACHE_KVER (one run: ratios only)"
		group_marker report 1
	} | tee "$MAICACHE_OUT/report.txt"
	group_mark counted
else
	group_wait_nodes blob-ready 600 0
	blob_bench "$(blob_url bench cold.img)" "$mib" "$par" "$rounds" | tee /tmp/report
	group_mark report /tmp/report
	group_wait_nodes counted 300 0
fi
