#!/bin/bash
# One node of `tools/bench/multi-bench.sh group` (see there). Node 0 holds Azurite
# and etcd and writes the report; nodes exchange their numbers through
# markers in Azurite (tests/vm/group.sh).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
me=$MAICACHE_NODE
size=$((16 << 20))
mib=$((size >> 20))

group_up --etcd
group_blobs "$size" all cold
group_start_daemon_etcd
group_wait_members "$nodes"

# read_rate DEV: MB/s of one sequential direct read of the whole device,
# 1 MiB requests, 8 in flight (a training reader's readahead, not QD1), as
# fio measures it (its own start-up not counted).
read_rate() {
	fio --name=cold --filename="$1" --rw=read --bs=1M --iodepth=8 --ioengine=libaio \
		--direct=1 --size="$size" --output-format=json --output=/tmp/fio.json ||
		die "read of $1 failed"
	python3 -c 'import json; j = json.load(open("/tmp/fio.json")); print("%.2f" % (j["jobs"][0]["read"]["bw_bytes"] / 1e6))'
}

# 1: every node reads one dataset at once; bytes fetched from Blob.
dev=$(attach "$(blob_url data all.bin)" --extent-size 1M)
group_mark ready-all
group_wait ready-all "$nodes"
read_rate "$dev" >/dev/null
cmp -n "$size" "$dev" /tmp/all.bin || die "node $me: all.bin differs"
daemon_stat blob_bytes >/tmp/bytes
group_mark done-all /tmp/bytes
group_wait done-all "$nodes"

# 2: node 1 reads cold from Blob, then node 2 reads it cold from peers.
dev=$(attach "$(blob_url data cold.bin)" --extent-size 1M)
group_mark ready-cold
group_wait ready-cold "$nodes"
if ((me == 1)); then
	read_rate "$dev" >/tmp/rate
	group_mark blob-fed /tmp/rate
elif ((me == 2)); then
	group_wait_nodes blob-fed 600 1
	read_rate "$dev" >/tmp/rate
	cmp -n "$size" "$dev" /tmp/cold.bin || die "node $me: cold.bin differs"
	group_mark peer-fed /tmp/rate
fi

# 3: a plain TCP stream between the same two VMs, and the peer transport alone.
if ((me == 1)); then
	"$bin/mc-peer-probe" serve "$(node_ip 1)" 7200 "$MAICACHE_SHARED/group.key" >/dev/null
elif ((me == 2)); then
	"$bin/mc-peer-probe" fetch "$(node_ip 1)" 7200 "$MAICACHE_SHARED/group.key" "$mib" >/tmp/probe ||
		die "the probe failed: $(cat /tmp/probe)"
	group_mark probe /tmp/probe
fi

if ((me == 0)); then
	group_wait_nodes probe 600 2
	total=0
	for ((i = 0; i < nodes; i++)); do
		total=$((total + $(group_marker done-all "$i")))
	done
	blob=$(group_marker blob-fed 1)
	peer=$(group_marker peer-fed 2)
	probe=$(group_marker probe 2)
	raw=$(sed -n 's/.*raw TCP \([0-9.]*\) MB\/s.*/\1/p' <<<"$probe")
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b ? a / b : 0 }'; }
	{
		echo "cache group benchmark, $nodes nodes, kernel $MAICACHE_KVER (one run: ratios only)"
		echo "bytes from Blob, every node reading ${mib} MiB: $total of $((nodes * size)) without peers: $(ratio "$total" $((nodes * size)))x (target 1/$nodes = $(ratio 1 "$nodes")x)"
		echo "cold read of ${mib} MiB: Blob-fed $blob MB/s (node 1), peer-fed $peer MB/s (node 2): $(ratio "$peer" "$blob")x"
		echo "raw TCP stream node 1 -> node 2: $raw MB/s; peer-fed device read / raw TCP: $(ratio "$peer" "$raw")x (target >= 0.8x)"
		echo "peer transport alone: $probe"
	} | tee "$MAICACHE_OUT/report.txt"
fi
group_mark counted
group_wait counted 1
