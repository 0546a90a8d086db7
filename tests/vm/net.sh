# shellcheck shell=bash
# The network of a multi-VM node, sourced after lib.sh: node i is
# 10.77.0.(i+1)/24 on its one NIC, which reaches only the test's VDE switch.
declare -F die >/dev/null || { echo "net.sh: source lib.sh first" >&2; exit 1; }
[[ -n ${MAICACHE_NODE:-} ]] || die "net.sh: not a node of a multi-VM test (tests/vm/multi.sh)"

node_ip() { echo "10.77.0.$(($1 + 1))"; }
net_nic=

net_up() {
	local nic="" n
	modprobe -q -d "$MAICACHE_MODROOT" virtio_net || die "cannot load virtio_net"
	ip link set lo up
	for _ in $(seq 50); do
		# Only a NIC with a device behind it: a kernel with IPv6 built
		# in also has virtual ones (sit0), which carry nothing.
		for n in /sys/class/net/*; do
			[[ -e $n/device ]] && nic=${n##*/}
		done
		[[ -n $nic ]] && break
		sleep 0.1
	done
	[[ -n $nic ]] || die "no NIC"
	ip addr add "$(node_ip "$MAICACHE_NODE")/24" dev "$nic"
	ip link set "$nic" up
	net_nic=$nic
}

# net_cut / net_mend: the node drops off its switch (no FIN, no RST reaches
# a peer: what a crashed machine looks like) and comes back.
net_cut() { ip link set "$net_nic" down; }
net_mend() { ip link set "$net_nic" up; }

# net_rdma: Soft-RoCE (rxe0) on the node's NIC, for RDMA between nodes.
net_rdma() {
	# rxe needs crc32, and autoloading does not reach it from the chroot.
	vm_modprobe crc32_generic
	vm_modprobe rdma_rxe
	vm_modprobe ib_uverbs
	vm_modprobe rdma_ucm
	rdma link add rxe0 type rxe netdev "$net_nic" ||
		die "node $MAICACHE_NODE: rdma link add rxe0 on $net_nic failed"
}
