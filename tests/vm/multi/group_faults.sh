#!/bin/bash
# vm: nodes 4
# vm: newest-kernel
# vm: timeout 600
# A cache group (membership in etcd, Blob in Azurite, both on node 0; every
# node with Soft-RoCE, so extents move by RDMA READ wherever both ends can)
# under faults, one phase after another, every read checked byte for byte:
#   E  the daemons find each other through etcd; all read one blob at once
#      while etcd is stopped and started again: no read fails, everyone
#      registers again, and Azurite still sees one GET per extent (a brief
#      etcd outage sends nobody back to Blob)
#   A  node 3 dies while the others read: the host kills its qemu (no
#      FIN, no RST, no RDMA disconnect reaches them, as with a crashed
#      machine; READs posted to it go unanswered); they finish
#      with no I/O error, drop it within the lease TTL, and the only extra
#      GETs are for extents it owned (it reads nothing itself, so it holds
#      no fetch turn of another owner's extent when it dies)
#   B  it boots again with its state directory (its disk) and rejoins with
#      the id its daemon made at its first start; the share of ownership
#      that moves to it is reported (about 1/N); a new blob is fetched once
#   C  a peer with the wrong group key gets nothing; random bytes, a frame
#      cut short and a bad magic close their connections; all are counted
#      and the daemon goes on
#   D  node 2 is replaced by a peer that answers with wrong bytes: they are
#      detected (CRC32C), counted, fetched elsewhere, never read
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/group.sh
. "$MAICACHE_ROOT/tests/vm/group.sh"

nodes=$MAICACHE_NODES
me=$MAICACHE_NODE
size=$((4 << 20))
extents=$((size / (256 << 10)))
victim=$((nodes - 1))
liar=$((nodes - 2))

group_up --etcd
net_rdma
group_blobs "$size" e a b c
if ((me == victim && MAICACHE_LIFE == 1)); then
	# Its id is the daemon's own, made now and kept in the state directory.
	rm -f "$mc_state/node.id"
fi
if ((MAICACHE_LIFE == 1)); then
	group_start_daemon_etcd
	group_wait_members "$nodes"
	echo "node $me: sees all $nodes members through etcd"
fi

# The victim's second life starts at phase B.
if ((MAICACHE_LIFE == 1)); then

# ---- E: etcd restarts while the group reads ----
dev_e=$(attach "$(blob_url data e.bin)" --extent-size 256K)
group_mark ready-e
group_wait ready-e "$nodes"
if ((me == 0)); then
	(sleep 1; etcd_stop; echo "etcd stopped"; sleep 6; etcd_start; echo "etcd started") &
	restart=$!
fi
cmp -n "$size" "$dev_e" /tmp/e.bin || die "node $me: phase E: bytes differ from the blob"
if ((me == 0)); then
	wait "$restart"
fi
end=$((SECONDS + 60))
until [[ $(group_peer_num etcd_reachable) == 1 && $(group_peer_num etcd_registered) == 1 ]]; do
	((SECONDS < end)) || die "node $me: not registered with etcd again within 60 s"
	sleep 0.5
done
group_wait_members "$nodes" 60
echo "node $me: phase E: read all of e.bin while etcd restarted; registered again, $nodes members;" \
	"$(group_peer_num rdma_reads) extents by RDMA READ"
group_mark done-e
group_wait done-e "$nodes"
if ((me == 0)); then
	gets=$(azurite_requests GET /data/e.bin)
	echo "phase E: $gets GETs for $extents extents, etcd restarted during the reads" |
		tee "$MAICACHE_OUT/phase-e.txt"
	assert_eq "$gets" "$extents" "phase E: GETs of e.bin, whole group"
fi
# Owned extents below count the attached blobs: a.bin alone.
"$ctl" detach "$dev_e" || die "detach $dev_e"

dev_a=$(attach "$(blob_url data a.bin)" --extent-size 256K)
group_mark ready-a
group_wait ready-a "$nodes"

# ---- A: a node dies mid-read ----
others=()
for ((i = 0; i < nodes; i++)); do
	((i == victim)) || others+=("$i")
done
if ((me == victim)); then
	"$ctl" --json peers >/tmp/peers.json
	group_mark owned-a /tmp/peers.json
	# The state directory is the node's disk: it outlives the crash.
	cp -a "$mc_state" "$MAICACHE_OUT/state"
	sync
	sleep 1
	echo "node $me: asks the host to kill its qemu while the others read"
	vm_kill_me
else
	t0=$EPOCHREALTIME
	cmp -n "$size" "$dev_a" /tmp/a.bin || die "node $me: phase A: bytes differ from the blob"
	echo "node $me: phase A: read all of a.bin in $(ms_since "$t0") ms, all match, no I/O error;" \
		"$(group_peer_num rdma_reads) extents by RDMA READ so far"
	group_wait_members $((nodes - 1)) 30
	echo "node $me: phase A: node $victim dropped from the membership"
	group_mark done-a
fi
group_wait_nodes done-a 120 "${others[@]}"
if ((me == 0)); then
	gets=$(azurite_requests GET /data/a.bin)
	owned=$(group_marker owned-a "$victim" |
		python3 -c 'import json,sys; m=json.load(sys.stdin)["members"]; print(next(x["owned_extents"] for x in m if x["state"] == "self"))')
	echo "phase A: $gets GETs for $extents extents; node $victim owned $owned of them" | tee "$MAICACHE_OUT/phase-a.txt"
	((gets >= extents && gets <= extents + owned)) ||
		die "phase A: $gets GETs: more than the $owned extents the dead node owned were fetched again"
fi

fi # the victim's first life ends in phase A

# ---- B: it comes back with the same id ----
if ((me == victim)); then
	((MAICACHE_LIFE == 2)) || die "node $me: phase B in life $MAICACHE_LIFE, not 2"
	cp -a "$(vm_life_dir 1)/state/." "$mc_state/"
	echo "node $me: booted again, state directory back"
	group_start_daemon_etcd
fi
# The victim's boot, under three other VMs on two cores, takes a while.
group_wait_members "$nodes" 300
if ((me == 0)); then
	was=$(group_marker owned-a "$victim" | python3 -c 'import json,sys; print(json.load(sys.stdin)["group"]["node_id"])')
	share=$("$ctl" --json peers | python3 -c 'import json,sys
m = json.load(sys.stdin)["members"]
print("%.1f" % (100 * next(x["share"] for x in m if x["node_id"] == sys.argv[1])))' "$was") ||
		die "phase B: node $victim's id $was before the kill is not a member after it"
	echo "phase B: node $victim rejoined with its id $was; the share of ownership that moved to it: $share% (1/N = $((100 / nodes))%)" |
		tee "$MAICACHE_OUT/phase-b.txt"
fi
dev_b=$(attach "$(blob_url data b.bin)" --extent-size 256K)
group_mark ready-b
group_wait ready-b "$nodes"
cmp -n "$size" "$dev_b" /tmp/b.bin || die "node $me: phase B: bytes differ from the blob"
group_mark done-b
group_wait done-b "$nodes"
if ((me == 0)); then
	assert_eq "$(azurite_requests GET /data/b.bin)" "$extents" "phase B: GETs of b.bin, whole group"
fi

# ---- C: wrong key, garbage ----
if ((me == 1)); then
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/tmp/wrong.key)
	"$bin/mc-bad-peer" wrongkey "$(node_ip 0)" 7117 vmtest /tmp/wrong.key ||
		die "phase C: a peer with the wrong key was not refused"
	"$bin/mc-bad-peer" garbage "$(node_ip 0)" 7117 || die "phase C: garbage left a connection open"
	group_mark attacked
fi
if ((me == 0)); then
	group_wait_nodes attacked 120 1
	auth=$(group_peer_num auth_failures)
	bad=$(group_peer_num bad_frames)
	cut=$(group_peer_num cut_short)
	echo "phase C: node 0 counted $auth auth failures, $bad bad frames, $cut cut short, and answers" |
		tee "$MAICACHE_OUT/phase-c.txt"
	((auth >= 1)) || die "phase C: the wrong key was not counted"
	((bad >= 2)) || die "phase C: garbage and a bad magic were not counted"
	((cut >= 1)) || die "phase C: a frame cut short was not counted"
fi
group_mark done-c
group_wait done-c "$nodes"

# ---- D: a member that sends wrong bytes ----
honest=()
for ((i = 0; i < nodes; i++)); do
	((i == liar)) || honest+=("$i")
done
if ((me == liar)); then
	stop_daemon
	# The member's lease ends first (its key goes), so that nothing of it can
	# delete the liar's key; then the liar takes its place in etcd (a key
	# with no lease) and its address.
	sleep 8
	key=$(printf '/maicache/groups/vmtest/members/%s' "$(group_node_id "$me")" | base64 -w0)
	val=$(printf '{"addr":"%s:7117"}' "$(node_ip "$me")" | base64 -w0)
	curl -sSf -X POST "$(etcd_url)/v3/kv/put" -d "{\"key\":\"$key\",\"value\":\"$val\"}" >/dev/null ||
		die "phase D: cannot put the liar's member key"
	"$bin/mc-bad-peer" corrupt "$(node_ip "$me")" 7117 vmtest "$MAICACHE_SHARED/group.key" \
		"$(group_node_id "$me")" 90 >"$MAICACHE_OUT/liar.txt" &
	liar_pid=$!
	bgpids+=("$liar_pid")
	sleep 2
	group_mark liar
	group_wait_nodes done-d 120 "${honest[@]}"
	kill "$liar_pid" 2>/dev/null || true
else
	group_wait_nodes liar 60 "$liar"
	group_wait_members "$nodes" 30
	dev_c=$(attach "$(blob_url data c.bin)" --extent-size 256K)
	cmp -n "$size" "$dev_c" /tmp/c.bin || die "node $me: phase D: bytes differ from the blob"
	bad=$(group_peer_num bad_data)
	echo "node $me: phase D: all of c.bin matches; $bad wrong extents from the liar detected"
	"$ctl" --json peers >/tmp/peers.json
	group_mark done-d /tmp/peers.json
fi
if ((me == 0)); then
	group_wait_nodes done-d 120 "${honest[@]}"
	total=0 rdma=0
	for i in "${honest[@]}"; do
		n=$(group_marker done-d "$i" | json_num bad_data | head -n1)
		total=$((total + n))
		rdma=$((rdma + $(group_marker done-d "$i" | json_num rdma_reads | head -n1)))
	done
	# RDMA links come up on demand, behind the first TCP reads: counted over the run.
	echo "all phases: $rdma extents moved by RDMA READ on the honest nodes" | tee "$MAICACHE_OUT/rdma.txt"
	((rdma > 0)) || die "no extent moved by RDMA READ in the whole run"
	gets=$(azurite_requests GET /data/c.bin)
	echo "phase D: $total wrong extents detected and fetched elsewhere; $gets GETs for $extents extents" |
		tee "$MAICACHE_OUT/phase-d.txt"
	((total >= 1)) || die "phase D: no wrong extent was detected (did the liar own none?)"
	assert_eq "$gets" "$extents" "phase D: GETs of c.bin"
fi
group_mark counted
group_wait counted 1
