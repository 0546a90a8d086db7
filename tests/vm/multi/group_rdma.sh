#!/bin/bash
# vm: nodes 3
# vm: newest-kernel
# vm: timeout 600
# A cache group over RDMA, mixed: nodes 0 and 1 have Soft-RoCE (rxe) on
# their NIC, node 2 has none (membership from a file, Azurite on node 0,
# every read compared byte for byte with the blob):
#   0  a first blob: the connections and RDMA links come up (nodes 0 and 1
#      each hold two links: the one it made and the one the other made)
#   1  node 2 reads a blob (over TCP, fetching from Blob what it is given
#      the turn of), then nodes 0 and 1 at once: one GET per extent for the
#      group; nodes 0 and 1 read the extents the other holds by RDMA READ
#      (LOC, DONE), and node 2's over TCP
#   1b node 1 reads it again from a cold pool: the extents it READ before
#      are READ at the place it remembers, with no round trip; bytes match,
#      and still one GET per extent
#   2  bad RDMA connection requests to node 0 (a token it never gave out,
#      random private data, none) are refused and counted
#   2b node 1's daemon is killed while it READs from node 0: node 0's pins
#      go back to 0; the restarted daemon serves the read that waited
#   3  node 1's rxe device is deleted while it reads a second blob: no I/O
#      error, the bytes match, the daemon drops RDMA, and a third blob's
#      extents come from peers over TCP
#   4  no pin is left on any node once the reads are over
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
me=$MAICACHE_NODE
size=$((4 << 20))
extents=$((size / (256 << 10)))

group_up
((me == 2)) || net_rdma
group_blobs "$size" w r1 r2 r3 r4
# Node 0's pool holds 64 extents: by phase 3 it evicts while peers read it.
if ((me == 0)); then
	"$ctl" pool --size 16M >/dev/null
fi
group_start_daemon
grep -q "RDMA on" "$dlog" || ((me == 2)) || die "node $me: the daemon did not turn RDMA on"
if ((me == 2)); then
	grep -q "RDMA off, TCP only" "$dlog" || die "node 2: the daemon does not say RDMA is off"
fi
"$ctl" --json peers >/tmp/start.json
group_mark ready /tmp/start.json
group_wait ready "$nodes"

# ---- 0: a first blob makes the connections (and RDMA links) ----
devw=$(attach "$(blob_url data w.bin)" --extent-size 256K)
cmp -n "$size" "$devw" /tmp/w.bin || die "node $me: warm-up: bytes differ from the blob"
group_mark done-0
group_wait done-0 "$nodes"
end=$((SECONDS + 30))
until ((me == 2)) || (($(group_peer_num rdma_links) >= 2)); do
	((SECONDS < end)) || die "node $me: $(group_peer_num rdma_links) RDMA links up, not 2, 30 s after the warm-up"
	sleep 0.5
done
reads0=$(group_peer_num rdma_reads)

# ---- 1: r1, node 2 first (its fetches fill the owners), then 0 and 1 at once ----
dev1=$(attach "$(blob_url data r1.bin)" --extent-size 256K)
if ((me == 2)); then
	cmp -n "$size" "$dev1" /tmp/r1.bin || die "node $me: phase 1: bytes differ from the blob"
	group_mark first-1
else
	group_wait_nodes first-1 300 2
	cmp -n "$size" "$dev1" /tmp/r1.bin || die "node $me: phase 1: bytes differ from the blob"
fi
"$ctl" peers | tee "$MAICACHE_OUT/peers-1.txt"
reads=$(($(group_peer_num rdma_reads) - reads0))
from=$(group_peer_num from_peers)
echo "node $me: phase 1: all of r1.bin matches; $from extents from peers, $reads of them by RDMA READ"
reads1=$(group_peer_num rdma_reads)
case $me in
0 | 1) ((reads > 0)) || die "node $me: phase 1: no extent came by RDMA" ;;
2) assert_eq "$reads" 0 "node 2: phase 1: extents by RDMA on a node without it" ;;
esac
group_mark done-1
group_wait done-1 "$nodes"
if ((me == 0)); then
	gets=$(azurite_requests GET /data/r1.bin)
	echo "phase 1: $gets GETs for $extents extents over a mixed RDMA/TCP group" |
		tee "$MAICACHE_OUT/phase-1.txt"
	assert_eq "$gets" "$extents" "phase 1: GETs of r1.bin, whole group"
fi

# ---- 1b: node 1 reads r1 again, cold: where it READ extents before ----
if ((me == 1)); then
	"$ctl" detach "$dev1" >/dev/null || die "node 1: detach $dev1"
	dev1=$(attach "$(blob_url data r1.bin)" --extent-size 256K)
	d0=$(group_peer_num rdma_direct)
	cmp -n "$size" "$dev1" /tmp/r1.bin || die "node 1: phase 1b: bytes differ from the blob"
	direct=$(($(group_peer_num rdma_direct) - d0))
	echo "node 1: phase 1b: r1.bin read again cold: $direct extents READ where they were found before" \
		"(no round trip), $(group_peer_num rdma_stale) stale" | tee "$MAICACHE_OUT/phase-1b.txt"
	((direct > 0)) || die "node 1: phase 1b: no remembered location was used"
fi
group_mark done-1b
group_wait done-1b "$nodes"
if ((me == 0)); then
	assert_eq "$(azurite_requests GET /data/r1.bin)" "$extents" "phase 1b: GETs of r1.bin, whole group"
fi

# ---- 2: bad RDMA requests ----
if ((me == 1)); then
	port=$(group_marker ready 0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["group"]["rdma_port"])')
	"$bin/mc-bad-peer" rdma "$(node_ip 0)" "$port" || die "phase 2: a bad RDMA request was not refused"
	group_mark attacked
fi
if ((me == 0)); then
	group_wait_nodes attacked 120 1
	rej=$(group_peer_num rdma_rejected)
	echo "phase 2: node 0 refused $rej RDMA connection requests" | tee "$MAICACHE_OUT/phase-2.txt"
	((rej >= 3)) || die "phase 2: $rej bad RDMA requests counted, not 3"
fi
group_mark done-2
group_wait done-2 "$nodes"

# ---- 2b: node 1's daemon is killed while it READs from node 0 ----
dev4=$(attach "$(blob_url data r4.bin)" --extent-size 256K)
if ((me == 0)); then
	cmp -n "$size" "$dev4" /tmp/r4.bin || die "node 0: phase 2b: r4.bin differs"
	group_mark first-4
	group_wait_nodes killed 300 1
	# Its TCP connection closes, or the lease ends: either way the pins go.
	end=$((SECONDS + 30))
	until [[ $(pool_field pins) == 0 ]]; do
		((SECONDS < end)) || die "phase 2b: node 0 still holds $(pool_field pins) pins 30 s after the requester died"
		sleep 0.2
	done
	echo "phase 2b: the requester was killed mid-transfer; node 0's pins back to 0 ($(group_peer_num rdma_dones) DONEs, $(group_peer_num rdma_lapsed) lapsed)" |
		tee "$MAICACHE_OUT/phase-2b.txt"
elif ((me == 1)); then
	group_wait_nodes first-4 300 0
	dd if="$dev4" of=/dev/null bs=256K iflag=direct status=none &
	reader=$!
	until (($(group_peer_num rdma_reads) > reads1)); do sleep 0.05; done
	kill -KILL "$dpid"
	dpid=""
	echo "node 1: phase 2b: daemon killed mid-read"
	group_mark killed
	group_start_daemon
	wait "$reader" || die "node 1: phase 2b: the read failed across the daemon's restart"
	cmp -n "$size" "$dev4" /tmp/r4.bin || die "node 1: phase 2b: r4.bin differs"
	echo "node 1: phase 2b: RDMA links after the restart: $(group_peer_num rdma_links)"
fi
group_mark done-2b
group_wait done-2b "$nodes"

# ---- 3: node 1 loses its RDMA device mid-read ----
# With Soft-RoCE, `rdma link delete` returns only once every process that
# used the device has exited (librdmacm keeps it open): the daemon must see
# the removal at once and go on over TCP, and the delete ends with it.
dev2=$(attach "$(blob_url data r2.bin)" --extent-size 256K)
group_mark ready-3
group_wait ready-3 "$nodes"
if ((me == 1)); then
	(sleep 0.3; rdma link delete rxe0 && touch /tmp/deleted) &
	cut=$!
fi
cmp -n "$size" "$dev2" /tmp/r2.bin || die "node $me: phase 3: bytes differ from the blob"
echo "node $me: phase 3: all of r2.bin matches"
if ((me == 1)); then
	end=$((SECONDS + 60))
	until grep -q "RDMA device went away" "$dlog"; do
		((SECONDS < end)) || die "node 1: phase 3: the daemon did not see rxe0 go"
		sleep 0.5
	done
	assert_eq "$(group_peer_num rdma)" 0 "node 1: phase 3: RDMA once the device is gone"
fi
group_mark done-3
group_wait done-3 "$nodes"
# r3: the others read it first, then node 1 gets their extents over TCP.
dev3=$(attach "$(blob_url data r3.bin)" --extent-size 256K)
if ((me != 1)); then
	cmp -n "$size" "$dev3" /tmp/r3.bin || die "node $me: phase 3: r3.bin differs"
	group_mark first-3
else
	group_wait_nodes first-3 300 0 2
	reads=$(group_peer_num rdma_reads)
	from=$(group_peer_num from_peers)
	cmp -n "$size" "$dev3" /tmp/r3.bin || die "node 1: phase 3: r3.bin differs"
	assert_eq "$(group_peer_num rdma_reads)" "$reads" "node 1: phase 3: RDMA reads after the device went"
	from=$(($(group_peer_num from_peers) - from))
	((from > 0)) || die "node 1: phase 3: nothing came from peers after the device went"
	echo "node 1: phase 3: rxe0 deleted mid-read: no I/O error; then $from extents from peers over TCP" |
		tee "$MAICACHE_OUT/phase-3.txt"
fi
group_mark done-3b
group_wait done-3b "$nodes"

# ---- 4: no pin left; node 0 evicted under its readers ----
if ((me == 0)); then
	ev=$(group_peer_num store_evicted)
	for d in $("$ctl" --json list | json_num id); do
		ev=$((ev + $("$ctl" --json stats "$d" | json_num evictions | head -n1)))
	done
	echo "phase 4: node 0 evicted $ev extents from its 16 MiB pool while peers read it; every byte read matched" |
		tee "$MAICACHE_OUT/phase-4.txt"
	((ev > 0)) || die "phase 4: node 0 evicted nothing: the pool was not under pressure"
fi
end=$((SECONDS + 30))
until [[ $(pool_field pins) == 0 ]]; do
	((SECONDS < end)) || die "node $me: $(pool_field pins) pins left after the reads"
	sleep 0.5
done
"$ctl" peers | tee "$MAICACHE_OUT/peers-end.txt"
echo "node $me: no pin left; peers read $(group_peer_num rdma_locs) extents from here by RDMA," \
	"$(group_peer_num rdma_dones) done, $(group_peer_num rdma_lapsed) lapsed"
group_mark done-4
group_wait done-4 "$nodes"

if ((me == 1)); then
	stop_daemon
	end=$((SECONDS + 60))
	until [[ -f /tmp/deleted ]]; do
		((SECONDS < end)) || die "node 1: rdma link delete still blocked 60 s after the daemon stopped"
		sleep 0.5
	done
	wait "$cut"
	echo "node 1: rdma link delete returned once the daemon had stopped"
fi
