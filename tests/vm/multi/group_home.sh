#!/bin/bash
# vm: nodes 4
# vm: newest-kernel
# vm: timeout 600
# The tier between groups: two groups of two (nodes 0-1 in vmtest-a, 2-3
# in vmtest-b, each its own membership file and group key name) with one
# gateway each (nodes 0 and 2) in one registry, region "vm". Every node
# reads the same blob at once: the cluster fetches each extent from Blob
# once, not once per group, and the bytes match. Then the gateway of b
# stops (its daemon exits) and the nodes of a read another blob: the
# extents whose home is that gateway come from Blob after it (counted as
# fallbacks), the reads go on, and the group still fetches each extent once.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
((nodes == 4)) || die "group_home runs on 4 nodes"
size=$((8 << 20))
size2=$((16 << 20))
grp=$((MAICACHE_NODE / 2))
registry=/tmp/maicache-registry

group_up
group_blobs "$size" all
group_blobs "$size2" two

# This node's group: itself and its neighbour; the registry: nodes 0 and 2.
: >"$group_members_file"
for i in $((2 * grp)) $((2 * grp + 1)); do
	echo "$(group_node_id "$i") $(node_ip "$i"):7117" >>"$group_members_file"
done
: >"$registry"
for i in 0 2; do
	echo "$(group_node_id "$i") $(node_ip "$i"):7118 vm" >>"$registry"
done
args=(--set group="vmtest-$grp" --set group_key="$MAICACHE_SHARED/group.key"
	--set group_members="$group_members_file"
	--set peer_listen="$(node_ip "$MAICACHE_NODE"):7117"
	--set region=vm --set home_registry="$registry" --set home_key="$MAICACHE_SHARED/home.key")
if ((MAICACHE_NODE % 2 == 0)); then
	args+=(--set home_listen="$(node_ip "$MAICACHE_NODE"):7118")
fi
# A tier the daemon cannot set up is refused at start, saying why.
refused() {
	local want=$1 out
	shift
	if out=$(timeout 60 "${daemon_cmd[@]}" --set socket=/tmp/refused.sock \
		--set state_dir="$mc_state" "$@" 2>&1); then
		die "maicached started with $*"
	fi
	[[ $out == *"$want"* ]] || die "maicached $*: want '$want', got: $out"
	echo "refused as expected: $want"
}
if ((MAICACHE_NODE == 0)); then
	base=("${args[@]:0:${#args[@]}-2}")	# without home_listen
	refused "this node is a gateway in $registry: set home_listen" "${base[@]}"
	refused "$registry lists no gateway in region mars" "${args[@]}" --set region=mars
	refused "$registry lists no gateway in region nowhere" "${args[@]}" --set home_regions=nowhere
	refused "/tmp/no-such.key" "${args[@]}" --set home_key=/tmp/no-such.key
fi
start_daemon "${args[@]}"
group_mark ready
group_wait ready "$nodes"
dev=$(attach "$(blob_url data all.bin)" --extent-size 1M)
group_mark attached
group_wait attached "$nodes"

# Phase 1: everybody at once.
group_read_blob "$dev" /tmp/all.bin "$size"
if ((MAICACHE_NODE == 0)); then
	from_home=0 fallbacks=0
	for ((i = 0; i < nodes; i++)); do
		group_marker done "$i" >/tmp/peers-$i.json
		n() { json_num "$1" </tmp/peers-$i.json | head -n1; }
		echo "node $i (group $((i / 2))): asked the home for $(n home_reads) extents:" \
			"$(n home_from_home) from it, $(n home_turns) read from Blob for the cluster," \
			"$(n home_fallbacks) fell back; home itself for $(n home_local);" \
			"as a gateway $(n home_gets_served) GETs, $(n home_served) answered with data, $(n home_puts) PUTs"
		from_home=$((from_home + $(n home_from_home)))
		fallbacks=$((fallbacks + $(n home_fallbacks)))
	done
	gets=$(azurite_requests GET /data/all.bin)
	echo "two groups: $gets GETs for $((size >> 20)) extents; $from_home extents came from a home gateway" |
		tee "$MAICACHE_OUT/home.txt"
	assert_eq "$gets" $((size >> 20)) "GETs of the blob, both groups"
	assert_eq "$fallbacks" 0 "reads that fell back to Blob with every gateway up"
	((from_home >= 1)) || die "no extent came from a home gateway"

	# The simulator, running the same placement and flight code, on this scenario.
	"$bin/cluster-sim" --nodes "$nodes" --group-size 2 --extents $((size >> 20)) --extent-mib 1 \
		--home --quiet >"$MAICACHE_OUT/sim.txt" || die "cluster-sim failed"
	cat "$MAICACHE_OUT/sim.txt"
	sim_gets=$(awk '$1 == "Blob:" { print $2 }' "$MAICACHE_OUT/sim.txt")
	sim_home=$(sed -n 's/.* \([0-9]*\) sends by home gateways.*/\1/p' "$MAICACHE_OUT/sim.txt")
	margin=$(((size >> 20) / 2))
	echo "simulator against the VMs: $sim_gets against $gets GETs, $sim_home against $from_home" \
		"extents from a home (margin $margin)" | tee -a "$MAICACHE_OUT/home.txt"
	assert_eq "$sim_gets" "$gets" "Blob GETs: the simulator against the VMs"
	d=$((sim_home - from_home))
	((d >= -margin && d <= margin)) ||
		die "extents from a home: the simulator $sim_home, the VMs $from_home (margin $margin)"
fi
group_mark phase1
group_wait phase1 "$nodes"

# Phase 2: the gateway of b is gone; a reads a new blob.
if ((MAICACHE_NODE == 2)); then
	stop_daemon
fi
group_mark stopped
group_wait stopped "$nodes"
if ((grp == 0)); then
	dev2=$(attach "$(blob_url data two.bin)" --extent-size 1M)
	cmp -n "$size2" "$dev2" /tmp/two.bin || die "node $MAICACHE_NODE: the device's bytes differ from the blob"
	"$ctl" peers | tee "$MAICACHE_OUT/peers2.txt"
	"$ctl" --json peers >/tmp/peers2.json
	group_mark done2 /tmp/peers2.json
fi
if ((MAICACHE_NODE == 0)); then
	group_wait done2 2
	fallbacks=0
	for i in 0 1; do
		n() { json_num "$1" <"/tmp/peers2-$i.json" | head -n1; }
		group_marker done2 "$i" >"/tmp/peers2-$i.json"
		fallbacks=$((fallbacks + $(n home_fallbacks)))
	done
	gets=$(azurite_requests GET /data/two.bin)
	echo "gateway of b down: $gets GETs for $((size2 >> 20)) extents; $fallbacks fell back to Blob" |
		tee -a "$MAICACHE_OUT/home.txt"
	assert_eq "$gets" $((size2 >> 20)) "GETs of the second blob, group a"
	# 16 extents over two gateways: some have the gone one as their home.
	((fallbacks >= 1)) || die "no read fell back to Blob with the home gateway down"
fi
group_mark counted
group_wait counted 1
