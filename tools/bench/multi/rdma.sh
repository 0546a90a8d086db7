#!/bin/bash
# One node of `tools/bench/multi-bench.sh rdma` (see there). Two nodes with
# Soft-RoCE; node 0 holds Azurite and is the group's only member, so every
# extent node 1 misses is node 0's to serve. Node 0 writes the report.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

me=$MAICACHE_NODE
size=$((32 << 20))
small=$((4 << 20))

group_up
net_rdma
group_blobs "$size" big
group_blobs "$small" lat
# Node 0 owns every extent: node 1's misses all go to it.
echo "$(group_node_id 0) $(node_ip 0):7117" >"$group_members_file"

# rate DEV SIZE: MB/s of one direct sequential read, 1 MiB requests, 8 in flight.
rate() {
	fio --name=r --filename="$1" --rw=read --bs=1M --iodepth=8 --ioengine=libaio --direct=1 \
		--size="$2" --output-format=json --output=/tmp/fio.json >/dev/null || die "read of $1 failed"
	python3 -c 'import json; j = json.load(open("/tmp/fio.json")); print("%.2f" % (j["jobs"][0]["read"]["bw_bytes"] / 1e6))'
}

# run_reads RDMA: node 1 reads big.bin (1 MiB extents) and lat.bin (64 KiB
# extents, one request at a time) from node 0; RDMA auto or off.
run_reads() {
	local mode=$1 dev c1 t0 devs=()
	group_start_daemon --set peer_rdma="$mode"
	if ((me == 0)); then
		dev=$(attach "$(blob_url data big.bin)" --extent-size 1M)
		devs+=("$dev")
		cmp -n "$size" "$dev" /tmp/big.bin || die "node 0: big.bin differs"
		dev=$(attach "$(blob_url data lat.bin)" --extent-size 64K)
		devs+=("$dev")
		cmp -n "$small" "$dev" /tmp/lat.bin || die "node 0: lat.bin differs"
		group_mark held-$mode
		group_wait_nodes start-$mode 300 1
		daemon_cpu_ms >/tmp/c0
		group_mark cpu0-start-$mode /tmp/c0
		group_wait_nodes end-$mode 600 1
		daemon_cpu_ms >/tmp/c0
		group_mark cpu0-end-$mode /tmp/c0
	else
		group_wait_nodes held-$mode 600 0
		dev=$(attach "$(blob_url data lat.bin)" --extent-size 64K)
		devs+=("$dev")
		dd if="$dev" of=/dev/null bs=64K count=1 iflag=direct status=none	# the connection up
		sleep 2
		group_mark start-$mode
		group_wait_nodes cpu0-start-$mode 300 0
		c1=$(daemon_cpu_ms)
		t0=$EPOCHREALTIME
		dd if="$dev" of=/dev/null bs=64K skip=1 iflag=direct status=none
		echo "$(ms_since "$t0") $((small / 65536 - 1))" >/tmp/lat-$mode
		dev=$(attach "$(blob_url data big.bin)" --extent-size 1M)
		devs+=("$dev")
		rate "$dev" "$size" >/tmp/rate-$mode
		echo $(($(daemon_cpu_ms) - c1)) >/tmp/cpu1-$mode
		cmp -n "$size" "$dev" /tmp/big.bin || die "node 1: big.bin differs"
		group_peer_num rdma_reads >/tmp/reads-$mode
		group_mark end-$mode
		{ cat /tmp/rate-$mode /tmp/lat-$mode /tmp/cpu1-$mode /tmp/reads-$mode; } >/tmp/res-$mode
		group_mark res-$mode /tmp/res-$mode
	fi
	for dev in "${devs[@]}"; do "$ctl" detach "$dev" >/dev/null || die "detach $dev"; done
	stop_daemon
}

run_reads auto
run_reads off

# perftest on the same link, same boot.
if ((me == 0)); then
	timeout 120 ib_read_bw -d rxe0 -s 1048576 -n 64 -F >/tmp/bw.txt 2>&1 &
	srv=$!
	group_mark perf-bw
	wait "$srv" || true
	timeout 120 ib_read_lat -d rxe0 -s 65536 -n 200 -F >/tmp/lat.txt 2>&1 &
	srv=$!
	group_mark perf-lat
	wait "$srv" || true
else
	group_wait_nodes perf-bw 300 0
	sleep 1
	timeout 120 ib_read_bw -d rxe0 -s 1048576 -n 64 -F "$(node_ip 0)" >/tmp/bw.txt 2>&1 ||
		die "ib_read_bw failed: $(cat /tmp/bw.txt)"
	group_wait_nodes perf-lat 300 0
	sleep 1
	timeout 120 ib_read_lat -d rxe0 -s 65536 -n 200 -F "$(node_ip 0)" >/tmp/lat.txt 2>&1 ||
		die "ib_read_lat failed: $(cat /tmp/lat.txt)"
	{ awk '$1 == 1048576 { print $4 }' /tmp/bw.txt; awk '$1 == 65536 { print $5 }' /tmp/lat.txt; } >/tmp/perf
	cat /tmp/bw.txt /tmp/lat.txt >"$MAICACHE_OUT/perftest.txt"
	group_mark perf /tmp/perf
fi

if ((me == 0)); then
	group_wait_nodes perf 600 1
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b ? a / b : 0 }'; }
	# Each marker: words on lines; no process substitution in the VM (no /dev/fd).
	# One line each, ended by a newline: read fails at an end of file without one.
	for m in res-auto res-off perf; do
		{ group_marker "$m" 1 | tr '\n' ' '; echo; } >"/tmp/m-$m"
	done
	read -r r_rate r_lat_ms r_lat_n r_cpu1 r_reads </tmp/m-res-auto
	read -r t_rate t_lat_ms t_lat_n t_cpu1 t_reads </tmp/m-res-off
	read -r p_bw p_lat </tmp/m-perf
	r_cpu0=$(($(group_marker cpu0-end-auto 0) - $(group_marker cpu0-start-auto 0)))
	t_cpu0=$(($(group_marker cpu0-end-off 0) - $(group_marker cpu0-start-off 0)))
	gb=$(awk -v s="$size" -v l="$small" 'BEGIN { print (s + l) / 1e9 }')
	{
		echo "RDMA peer fetch, 2 nodes over Soft-RoCE, kernel $MAICACHE_KVER (one run: ratios only)"
		echo "1 MiB extents, 8 in flight: RDMA $r_rate MB/s ($r_reads extents by RDMA READ), TCP $t_rate MB/s; ib_read_bw 1 MiB $p_bw MB/s"
		echo "  RDMA / ib_read_bw: $(ratio "$r_rate" "$p_bw")x (target >= 0.8x); RDMA / TCP: $(ratio "$r_rate" "$t_rate")x"
		echo "64 KiB extents, one at a time: RDMA $(ratio "$r_lat_ms" "$r_lat_n") ms each, TCP $(ratio "$t_lat_ms" "$t_lat_n") ms each; ib_read_lat 64 KiB $p_lat us typical"
		echo "daemon CPU per GB read: requester RDMA $(ratio "$r_cpu1" "$gb") ms, TCP $(ratio "$t_cpu1" "$gb") ms; owner RDMA $(ratio "$r_cpu0" "$gb") ms, TCP $(ratio "$t_cpu0" "$gb") ms"
	} | tee "$MAICACHE_OUT/report.txt"
fi
group_mark counted
group_wait counted 1
