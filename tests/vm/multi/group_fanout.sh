#!/bin/bash
# vm: nodes 4
# vm: newest-kernel
# vm: timeout 600
# Hot-extent fan-out: N nodes (Soft-RoCE on each; Azurite on node 0) with
# peer_fanout = 1 read the same 1 MiB extents at the same moment. Each
# owner sends an extent to at most one requester at a time (the peak every
# daemon reports); the others are sent to nodes that have it already
# (holders: the fetcher, and each node once it has it) and get it there.
# The group still fetches each extent from Blob once, and every byte read
# matches the blob. Node 0 then runs tools/sim/cluster-sim on the same
# scenario (N nodes, the same extents, K = 1) and checks that the model
# agrees with what the VMs did: the same Blob GETs and the same peak (the
# sends by holders are reported beside the VMs' count, which depends on
# when each VM asks). A holder that also owns other extents of the blob serves from
# its volume (8 extents: every node likely owns some); none may fail.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
size=$((8 << 20))
extents=$((size >> 20))

group_up
net_rdma
group_blobs "$size" hot
group_start_daemon --set peer_fanout=1
group_mark ready
group_wait ready "$nodes"
dev=$(attach "$(blob_url data hot.bin)" --extent-size 1M)
group_mark attached
group_wait attached "$nodes"

# Every node serves (as owner or holder) until all have read.
group_read_blob "$dev" /tmp/hot.bin "$size"

if ((MAICACHE_NODE == 0)); then
	got=0 sent=0 haves=0 served=0 not_held=0 fails=0 vm_peak=0
	for ((i = 0; i < nodes; i++)); do
		group_marker done "$i" >/tmp/peers-$i.json
		n() { json_num "$1" </tmp/peers-$i.json | head -n1; }
		peak=$(n fan_peak)
		echo "node $i: at most $peak sends of an extent at once; sent $(n fan_redirected) to holders," \
			"$(n fan_haves) HAVEs; got $(n from_holders) of $(n holder_asks) from holders" \
			"($(n holder_fails) failed); asked $(n holder_copies) GET_COPYs, served $(n holder_served) as a holder," \
			"did not hold $(n holder_not_held); NACKs $(n nacks), timeouts $(n timeouts)," \
			"unreachable $(n no_conn), store errors $(n store_errors), RDMA errors $(n rdma_errors)"
		((peak <= 1)) || die "node $i sent an extent to $peak requesters at once (peer_fanout = 1)"
		((peak > vm_peak)) && vm_peak=$peak
		got=$((got + $(n from_holders)))
		sent=$((sent + $(n fan_redirected)))
		haves=$((haves + $(n fan_haves)))
		served=$((served + $(n holder_served)))
		not_held=$((not_held + $(n holder_not_held)))
		fails=$((fails + $(n holder_fails)))
	done
	gets=$(azurite_requests GET /data/hot.bin)
	echo "fan-out: $gets GETs for $extents extents on $nodes nodes; owners sent $sent requesters to holders;" \
		"$got extents came from holders ($served sends from holders' own devices, $haves HAVEs)" |
		tee "$MAICACHE_OUT/fanout.txt"
	assert_eq "$gets" "$extents" "GETs of the hot blob, whole group"
	# A holder is named only once its kernel serves the bytes (HAVE after
	# the ring's kick): none may answer NOT_HELD, and some serve.
	assert_eq "$not_held" 0 "GET_COPYs a holder could not serve"
	assert_eq "$fails" 0 "asks of a holder that failed"
	((got >= 1)) || die "no requester got an extent from a holder"

	# The same scenario in the simulator, which runs the same fan-out code.
	"$bin/cluster-sim" --nodes "$nodes" --extents "$extents" --extent-mib 1 --fanout 1 \
		--quiet >"$MAICACHE_OUT/sim.txt" || die "cluster-sim failed"
	cat "$MAICACHE_OUT/sim.txt"
	sim_gets=$(awk '$1 == "Blob:" { print $2 }' "$MAICACHE_OUT/sim.txt")
	sim_peak=$(sed -n 's/.*at most \([0-9]*\) sends of one extent.*/\1/p' "$MAICACHE_OUT/sim.txt")
	sim_holders=$(sed -n 's/.* \([0-9]*\) sends by holders.*/\1/p' "$MAICACHE_OUT/sim.txt")
	echo "simulator against the VMs: $sim_gets against $gets GETs, peak $sim_peak against $vm_peak," \
		"$sim_holders against $got extents from holders" | tee -a "$MAICACHE_OUT/fanout.txt"
	assert_eq "$sim_gets" "$gets" "Blob GETs: the simulator against the VMs"
	assert_eq "$sim_peak" "$vm_peak" "peak sends of one extent: the simulator against the VMs"
	# How many come from holders is the VMs' timing, not the model's: the
	# model starts every request in the same instant, while the VMs' reads
	# start seconds apart under emulation, and an owner whose send has ended
	# sends to the next asker itself. Runs here gave 4 to 6 against the
	# model's 8: reported, not compared (at least one from a holder is
	# asserted above).
fi
group_mark counted
group_wait counted 1
