#!/bin/bash
# vm: nodes 4
# A cache group of N nodes (one VM each, Soft-RoCE on each; Azurite on
# node 0) attaches one blob, reads 4 KiB of it at random (a whole extent
# is filled, not a part) and then all of it at the same time. Every node's bytes match the
# blob, and Azurite's own request log shows exactly one GET per extent for
# the whole group: the other reads were served from peers' memory. Each
# node's group counters go to node 0 in its "done" marker and into the
# report. Then node 0 reads its membership file again on SIGHUP.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
size=$((8 << 20))
extents=$((size / (256 << 10)))
data=/tmp/set.bin

group_up
# Over RDMA where it can be (every node has Soft-RoCE): the TCP path is
# group_faults' and group_rdma's node without it.
net_rdma
group_blobs "$size" set
group_start_daemon
group_mark ready
group_wait ready "$nodes"

dev=$(attach "$(blob_url data set.bin)" --extent-size 256K)
# A random 4 KiB read of a group's device fills its whole extent (through
# the group), never a 64 KiB part from Blob: the group shares extents.
dd if="$dev" of=/dev/null bs=4k count=1 skip=$((17 * 64 + 25)) iflag=direct status=none
assert_eq "$(stat_of "$(dev_id "$dev")" bytes_filled)" $((256 << 10)) \
	"node $MAICACHE_NODE: bytes filled by a random 4 KiB read"
group_read_blob "$dev" "$data" "$size"

if ((MAICACHE_NODE == 0)); then
	gets=$(azurite_requests GET /data/set.bin)
	shared=0
	for ((i = 0; i < nodes; i++)); do
		group_marker done "$i" >/tmp/peers-$i.json
		p=$(json_num from_peers </tmp/peers-$i.json | head -n1)
		l=$(json_num local_served </tmp/peers-$i.json | head -n1)
		f=$(json_num fetches </tmp/peers-$i.json | head -n1)
		o=$(json_num local_gets </tmp/peers-$i.json | head -n1)
		r=$(json_num rdma_reads </tmp/peers-$i.json | head -n1)
		echo "node $i: $f misses through the group: $p answered by peers ($r by RDMA READ), $o in its own flight ($l of those already in its store)"
		assert_eq "$f" "$extents" "node $i: misses through the group"
		shared=$((shared + p + l))
	done
	echo "group: $gets GETs for $extents extents on $nodes nodes; $shared reads served from the group's memory" |
		tee "$MAICACHE_OUT/group.txt"
	assert_eq "$gets" "$extents" "GETs of the data blob, whole group"
	# Each extent: one node fetched it, every other node had it from the group.
	assert_eq "$shared" $((extents * (nodes - 1))) "reads served from the group"
fi
# SIGHUP reads the membership file again: node 0 drops the last node, then
# a broken file leaves the membership as it was.
if ((MAICACHE_NODE == 0)); then
	head -n $((nodes - 1)) "$group_members_file" >/tmp/members.new
	cp /tmp/members.new "$group_members_file"
	kill -HUP "$dpid"
	group_wait_members $((nodes - 1)) 30
	echo "not a member line" >>"$group_members_file"
	kill -HUP "$dpid"
	end=$((SECONDS + 30))
	until grep -q "SIGHUP: membership kept as it was" "$dlog"; do
		((SECONDS < end)) || die "SIGHUP with a broken file: no message"
		sleep 0.2
	done
	assert_eq "$(group_peer_num members)" $((nodes - 1)) "members after a broken file"
	echo "node 0: SIGHUP: $((nodes - 1)) members after the file dropped one; a broken file changed nothing"
fi
# Node 0 holds Azurite: the others wait until it has counted.
group_mark counted
group_wait counted 1
