#!/bin/bash
# vm: nodes 4
# vm: newest-kernel
# A cache group whose membership is in etcd (on node 0, with Azurite): the
# daemons register under leases and find each other by watching. Then all
# nodes read one blob at once while etcd is stopped and started again: no
# read fails, every node's bytes match the blob, the membership stays whole
# and Azurite still sees exactly one GET per extent for the group (a brief
# etcd outage sends nobody back to Blob).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
size=$((8 << 20))
extents=$((size / (256 << 10)))
data=/tmp/set.bin

group_up --etcd
group_blobs "$size" set
group_start_daemon_etcd
group_wait_members "$nodes"
echo "node $MAICACHE_NODE: sees all $nodes members through etcd"
group_mark ready
group_wait ready "$nodes"

dev=$(attach "$(blob_url data set.bin)" --extent-size 256K)
if ((MAICACHE_NODE == 0)); then
	# etcd goes away while the group reads, and comes back.
	(sleep 1; etcd_stop; echo "etcd stopped"; sleep 6; etcd_start; echo "etcd started") &
	restart=$!
fi
t0=$EPOCHREALTIME
cmp -n "$size" "$dev" "$data" || die "node $MAICACHE_NODE: the device's bytes differ from the blob"
echo "node $MAICACHE_NODE: read $size bytes in $(ms_since "$t0") ms, all match"
if ((MAICACHE_NODE == 0)); then
	wait "$restart"
fi
# etcd answers again: the membership is whole, and every daemon registered.
end=$((SECONDS + 60))
until [[ $(group_peer_num etcd_reachable) == 1 && $(group_peer_num etcd_registered) == 1 ]]; do
	((SECONDS < end)) || die "node $MAICACHE_NODE: not registered with etcd again within 60 s"
	sleep 0.5
done
group_wait_members "$nodes" 60
"$ctl" peers | tee "$MAICACHE_OUT/peers.txt"
"$ctl" --json peers >/tmp/peers.json
group_mark done /tmp/peers.json
group_wait done "$nodes"

if ((MAICACHE_NODE == 0)); then
	gets=$(azurite_requests GET /data/set.bin)
	for ((i = 0; i < nodes; i++)); do
		group_marker done "$i" >/tmp/peers-$i.json
		echo "node $i: $(json_num from_source </tmp/peers-$i.json | head -n1) misses from the source, etcd failures $(json_num etcd_failures </tmp/peers-$i.json | head -n1)"
	done
	echo "group: $gets GETs for $extents extents on $nodes nodes, etcd restarted during the reads" |
		tee "$MAICACHE_OUT/group.txt"
	assert_eq "$gets" "$extents" "GETs of the data blob, whole group, etcd restarted"
fi
group_mark counted
group_wait counted 1
