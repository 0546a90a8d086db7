#!/bin/bash
# vm: no-load
# Two nodes, the peer transport between them over their switch: node 1
# authenticates to node 0 with the group key, fetches 32 extents of 1 MiB
# (each checked by CRC32C and byte for byte) and then reads a plain TCP
# stream from it; the rates and their ratio go to the report (one run:
# only the ratio means anything under emulation).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/net.sh
. "$MAICACHE_ROOT/tests/vm/net.sh"

probe=$MAICACHE_ROOT/build/user/mc-peer-probe
key=$MAICACHE_SHARED/group.key
net_up
case $MAICACHE_NODE in
0)
	"$probe" serve "$(node_ip 0)" 7117 "$key"
	;;
1)
	out=$("$probe" fetch "$(node_ip 0)" 7117 "$key" 32) || die "fetch failed: $out"
	echo "$out" | tee "$MAICACHE_OUT/probe.txt"
	;;
esac
