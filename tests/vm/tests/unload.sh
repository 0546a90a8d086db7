#!/bin/bash
# vm: no-load
# Unloading and loading with parameters: rmmod is refused while a device
# exists, while a daemon is attached and while a removed device is still held
# open, and works once all are gone; bad pool_mb / ring_entries values fail the
# load cleanly with a message in dmesg; good ones work.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"

cleanup() {
	exec 3<&- 2>/dev/null || true
	mc_cleanup
}
trap cleanup EXIT

loaded() { grep -q '^maicache ' /proc/modules; }

assert_unloaded() {
	! loaded || die "maicache is still loaded: $1"
	[[ ! -e /dev/maicache ]] || die "/dev/maicache still exists: $1"
	[[ ! -d /sys/module/maicache ]] || die "/sys/module/maicache still exists: $1"
}

# insmod that must fail, with MSG in the new kernel log lines.
load_refused() {
	local msg=$1 before
	shift
	before=$(dmesg | wc -l)
	expect_fail insmod "$MAICACHE_KO" "$@"
	assert_unloaded "after insmod $*"
	dmesg | tail -n +"$((before + 1))" | tee /dev/stderr | grep -qF "$msg" ||
		die "insmod $*: no '$msg' in dmesg"
	echo "insmod $*: refused as expected"
}

echo "== rmmod with a device, a daemon, an open removed device"
insmod "$MAICACHE_KO"
add_dev 0 4M 0x42 --extent-size 64K
expect_fail rmmod maicache
loaded || die "rmmod removed the module with a device present"

start_filler --pattern
"$pcheck" /dev/maicache0 0x42 || die "read failed"
remove_dev 0
expect_fail rmmod maicache
loaded || die "rmmod removed the module with a daemon attached"
stop_filler

# A removed device still open keeps the module (its fops) in use.
add_dev 0 4M 0x43
exec 3</dev/maicache0
remove_dev 0
[[ ! -e /sys/block/maicache0 ]] || die "/sys/block/maicache0 still there after remove"
expect_fail rmmod maicache
loaded || die "rmmod removed the module while a removed device was open"
exec 3<&-

rmmod maicache || die "rmmod failed with no device and no daemon"
assert_unloaded "after rmmod"
err=$(expect_fail "$ctl" version 2>&1)
grep -q "is the maicache module loaded" <<<"$err" || die "maicachectl after unload: $err"

echo "== pool_mb"
load_refused "cannot create a 3 MiB pool: -22" pool_mb=3
load_refused "cannot create a 0 MiB pool: -22" pool_mb=0
load_refused "cannot create a 1048576 MiB pool: -28" pool_mb=1048576
insmod "$MAICACHE_KO" pool_mb=64
"$ctl" --json pool | tee /dev/stderr | grep -q '"size":67108864,' || die "pool_mb=64 did not give 64 MiB"
dmesg | tail -n 3 | grep -q "pool 64 MiB" || die "no load message for pool_mb=64"
rmmod maicache
assert_unloaded "after rmmod (pool_mb=64)"

echo "== ring_entries"
msg="ring_entries must be a power of two in 64..65536"
load_refused "$msg" ring_entries=100
load_refused "$msg" ring_entries=32
load_refused "$msg" ring_entries=0
load_refused "$msg" ring_entries=131072
# The smallest ring still carries a read with more extents in flight than it holds.
insmod "$MAICACHE_KO" ring_entries=64 pool_mb=16
add_dev 0 12M 0x44 --extent-size 64K
start_filler --pattern
"$pcheck" /dev/maicache0 0x44 --bs 8M || die "read with a 64-entry ring failed"
stop_filler
remove_dev 0
rmmod maicache
assert_unloaded "after rmmod (ring_entries=64)"
echo "unload: OK"
