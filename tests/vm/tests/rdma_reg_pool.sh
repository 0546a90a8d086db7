#!/bin/bash
# The pool mapping of /dev/maicache can be registered for RDMA: on a Soft-RoCE
# (rxe) device over a veth, mc-regmr maps the whole pool and ibv_reg_mr()s
# part of it and all of it with local write and remote read/write access.
# While registered the pool cannot be replaced; once it is let go, a real
# filler serves reads through the same pool.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"

out=$MAICACHE_OUT
regmr_pid=

cleanup() {
	[[ -z $regmr_pid ]] || kill "$regmr_pid" 2>/dev/null || true
	mc_cleanup
	wait 2>/dev/null || true
	rdma link delete rxe0 2>/dev/null || true
	ip link delete mcveth0 2>/dev/null || true
}
trap cleanup EXIT

echo "== Soft-RoCE on a veth"
# rxe needs crc32, and autoloading does not reach it from the chroot.
vm_modprobe crc32_generic
vm_modprobe rdma_rxe
vm_modprobe ib_uverbs
ip link add mcveth0 type veth peer name mcveth1
ip addr add 10.77.0.1/24 dev mcveth0
ip addr add 10.77.0.2/24 dev mcveth1
ip link set mcveth0 up
ip link set mcveth1 up
rdma link add rxe0 type rxe netdev mcveth0 ||
	die "rdma link add rxe0 on mcveth0 failed (is crc32 loaded? $(grep -c crc32 /proc/modules) crc32 modules)"
rdma link show
[[ -e /sys/class/infiniband/rxe0 ]] || die "no rxe0 in /sys/class/infiniband"
ls /dev/infiniband/ || die "no /dev/infiniband: ib_uverbs did not create a uverbs device"
ibv_devices

echo "== register the pool (64 MiB)"
"$ctl" pool --size 64M
"$bin/mc-regmr" --ibdev rxe0 --hold 60 >"$out/mc-regmr.log" 2>&1 &
regmr_pid=$!
for _ in $(seq 600); do
	grep -q '^holding' "$out/mc-regmr.log" && break
	kill -0 "$regmr_pid" 2>/dev/null || break
	sleep 0.1
done
cat "$out/mc-regmr.log"
grep -q '^holding' "$out/mc-regmr.log" || die "mc-regmr did not get to hold its registrations"
grep -q '^FAIL' "$out/mc-regmr.log" && die "mc-regmr: a registration failed"
pool=$("$ctl" --json pool)
echo "$pool"
grep -q "\"daemon_attached\":true,\"daemon_pid\":$regmr_pid," <<<"$pool" ||
	die "mc-regmr is not shown as the attached daemon"
err=$(expect_fail "$ctl" pool --size 32M 2>&1)
echo "$err"
grep -q "Device or resource busy" <<<"$err" || die "the pool was resized while registered for RDMA"
expect_fail rmmod maicache
kill -TERM "$regmr_pid"
wait "$regmr_pid" || { cat "$out/mc-regmr.log"; die "mc-regmr failed after holding"; }
regmr_pid=
tail -n 5 "$out/mc-regmr.log"
grep -q "^PASS: 0 failure" "$out/mc-regmr.log" || die "mc-regmr did not finish cleanly"

echo "== the pool is free again"
pool=$("$ctl" --json pool)
echo "$pool"
grep -q '"daemon_attached":false' <<<"$pool" || die "daemon still attached after mc-regmr exited"
"$ctl" pool --size 32M || die "cannot resize the pool after the RDMA registration is gone"
"$ctl" pool --size 64M

echo "== reads through the cache with a --pattern filler"
add_dev 0 24M 0xabc --extent-size 256K
start_filler --pattern
"$pcheck" /dev/maicache0 0xabc || die "read through the cache failed"
"$pcheck" /dev/maicache0 0xabc --bs 64K || die "re-read through the cache failed"
"$ctl" stats 0
stop_filler
remove_dev 0

echo "== registering again after the filler, then tear down"
"$bin/mc-regmr" --ibdev rxe0 || die "second registration failed"
rdma link delete rxe0
ip link delete mcveth0
"$ctl" pool --size 256M
echo "rdma_reg_pool: OK"
