# shellcheck shell=bash
# Cache-group helpers for multi-VM tests (tests/vm/multi/), sourced after
# lib.sh (this file sources maicache.sh, daemon.sh, blob.sh and net.sh, and
# sets the EXIT trap). Node 0 runs Azurite (and etcd) for the whole group on
# 10.77.0.1; every node runs its daemon in the group "vmtest" with the key
# of $MAICACHE_SHARED/group.key.
#
#   group_up [--etcd]     the network, this node's id and the membership
#                         file, Azurite (and etcd) on node 0, credentials
#   group_blobs SIZE NAME...   the test's blobs /tmp/NAME.bin (the same
#                         bytes on every node, different per NAME), put to
#                         data/NAME.bin by node 0
#   group_init N          this node's id (node i: 32 hex digits of i+1) and
#                         the membership file of nodes 0..N-1
#   group_start_daemon [ARGS...]   start_daemon in the group
#   group_azurite         node 0: start Azurite for the group and make the
#                         containers "data" and "sync" (public: anonymous
#                         reads of markers); others: wait until they exist
#   group_mark NAME [FILE]   put blob sync/NAME-<node> (FILE's bytes, or a line)
#   group_wait NAME N [SECS] wait for NAME-0..NAME-(N-1): a barrier
#   group_wait_nodes NAME SECS I...  wait for NAME-I of the nodes named
#   group_marker NAME I   print the bytes of sync/NAME-I
#   group_data N_BYTES OUT  the test's data: the same bytes on every node
#   etcd_start / etcd_stop  node 0: etcd on 10.77.0.1:2379 (data kept across)
#   group_start_daemon_etcd [ARGS...]   start_daemon, membership from etcd
#   group_peer_num KEY    a number of `maicachectl --json peers`
#   group_wait_members N  until this node's daemon sees N members
#
# The nodes have no shared writable file system; markers in Azurite are how
# they wait for one another (PUTs and HEADs, which the GET counts of the data
# blob do not see).

# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"
# shellcheck source=tests/vm/net.sh
. "$MAICACHE_ROOT/tests/vm/net.sh"
trap blob_cleanup EXIT

group_nodes=""
group_members_file=/tmp/maicache-members

group_node_id() { printf '%032x\n' $(($1 + 1)); }

group_init() {
	local n=$1 i
	group_nodes=$n
	mkdir -p "$mc_state"
	group_node_id "$MAICACHE_NODE" >"$mc_state/node.id"
	chmod 600 "$mc_state/node.id"
	: >"$group_members_file"
	for ((i = 0; i < n; i++)); do
		echo "$(group_node_id "$i") $(node_ip "$i"):7117" >>"$group_members_file"
	done
	blob_endpoint=http://$(node_ip 0):10000/$AZURE_STORAGE_ACCOUNT
}

group_start_daemon() {
	start_daemon --set group=vmtest --set group_key="$MAICACHE_SHARED/group.key" \
		--set group_members="$group_members_file" \
		--set peer_listen="$(node_ip "$MAICACHE_NODE"):7117" "$@"
}

group_azurite() {
	local end
	if ((MAICACHE_NODE == 0)); then
		AZURITE_HOST=0.0.0.0
		azurite_host=0.0.0.0
		# Four VMs on two cores: Azurite has taken 70-120 s to come up.
		azurite_timeout=${AZURITE_START_TIMEOUT:-300}
		azurite_start
		blob_mkcontainer data
		blob_mkcontainer sync --public blob
		group_mark azurite
		return 0
	fi
	group_wait azurite 1 300
}

group_mark() {
	local f=${2:-}
	if [[ -z $f ]]; then
		f=/tmp/mark.$$
		echo "node $MAICACHE_NODE $1" >"$f"
	fi
	blob_put sync "$1-$MAICACHE_NODE" "$f" >/dev/null
}

group_wait() {
	group_wait_nodes "$1" "${3:-300}" $(seq 0 $(($2 - 1)))
}

# group_wait_nodes NAME SECS I...: wait for NAME-I of the nodes named.
group_wait_nodes() {
	local name=$1 secs=$2 i end
	shift 2
	end=$((SECONDS + secs))
	for i in "$@"; do
		until curl -sf -o /dev/null -I --max-time 5 "$blob_endpoint/sync/$name-$i"; do
			((SECONDS < end)) || die "node $i did not reach '$name' within $secs s"
			sleep 0.5
		done
	done
}

group_marker() {
	curl -sSf --max-time 10 "$blob_endpoint/sync/$1-$2" || die "cannot read marker $1-$2"
}

group_data() {
	/usr/bin/python3 -c 'import random, sys
random.seed(20261202)
sys.stdout.buffer.write(random.randbytes(int(sys.argv[1])))' "$1" >"$2"
}

# etcd for the group, on node 0 (10.77.0.1:2379), its data on the VM's
# tmpfs: etcd_stop and etcd_start again keep it, like a restarted server.
etcd_pid=""
etcd_dir=/tmp/etcd-data
etcd_url() { echo "http://$(node_ip 0):2379"; }

etcd_start() {
	local end
	etcd --data-dir "$etcd_dir" --name node0 \
		--listen-client-urls "$(etcd_url)" --advertise-client-urls "$(etcd_url)" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster node0=http://127.0.0.1:2380 >>"$MAICACHE_OUT/etcd.log" 2>&1 &
	etcd_pid=$!
	bgpids+=("$etcd_pid")
	end=$((SECONDS + 60))
	until curl -s -o /dev/null --max-time 2 -X POST "$(etcd_url)/v3/kv/range" -d '{"key":"AA=="}'; do
		kill -0 "$etcd_pid" 2>/dev/null || die "etcd exited at start (see etcd.log)"
		((SECONDS < end)) || die "etcd did not answer within 60 s"
		sleep 0.2
	done
}

etcd_stop() {
	kill -TERM "$etcd_pid"
	wait "$etcd_pid" 2>/dev/null || true
	etcd_pid=""
}

# group_start_daemon_etcd [ARGS...]: this node's daemon, membership from etcd.
group_start_daemon_etcd() {
	start_daemon --set group=vmtest --set group_key="$MAICACHE_SHARED/group.key" \
		--set group_etcd="$(etcd_url)" --set group_lease_ttl=4s \
		--set peer_listen="$(node_ip "$MAICACHE_NODE"):7117" "$@"
}

# group_peer_num KEY: a number of this node's `maicachectl --json peers`.
group_peer_num() { "$ctl" --json peers | json_num "$1" | head -n1; }

# group_wait_members N [SECS]: until this node's daemon sees N members.
group_wait_members() {
	local n=$1 secs=${2:-120} end
	end=$((SECONDS + secs))
	until [[ $(group_peer_num members) == "$n" ]]; do
		((SECONDS < end)) || die "node $MAICACHE_NODE sees $(group_peer_num members) members, not $n, after $secs s"
		sleep 0.5
	done
}

group_up() {
	net_up
	group_init "$MAICACHE_NODES"
	if [[ ${1:-} == --etcd ]] && ((MAICACHE_NODE == 0)); then
		etcd_start
	fi
	group_azurite
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURE_STORAGE_ACCOUNT;AccountKey=$AZURE_STORAGE_KEY;BlobEndpoint=$blob_endpoint"
}

group_blobs() {
	local size=$1 b
	shift
	for b in "$@"; do
		group_data "$size" "/tmp/$b.bin"
		printf '%s' "$b" | dd of="/tmp/$b.bin" conv=notrunc status=none
		if ((MAICACHE_NODE == 0)); then
			blob_put data "$b.bin" "/tmp/$b.bin" >/dev/null
		fi
	done
}

# group_read_blob DEV FILE SIZE: read DEV whole and check it against FILE;
# this node's group counters go to peers.txt and, as JSON, into its "done"
# marker; then every node waits (serving its extents) until all have read.
group_read_blob() {
	local dev=$1 file=$2 size=$3 t0=$EPOCHREALTIME

	cmp -n "$size" "$dev" "$file" || die "node $MAICACHE_NODE: the device's bytes differ from the blob"
	echo "node $MAICACHE_NODE: read $size bytes in $(ms_since "$t0") ms, all match"
	"$ctl" peers | tee "$MAICACHE_OUT/peers.txt"
	"$ctl" --json peers >/tmp/peers.json
	group_mark done /tmp/peers.json
	group_wait done "$MAICACHE_NODES"
}
