#!/bin/bash
# Removing a device under load: with concurrent readers (fio, numjobs=4, and
# a sequential checker) and fills in flight at a slow daemon, `maicachectl
# remove` returns promptly (< 10 s), the readers get errors but none hangs,
# the device node goes away, and the daemon completing the stale fills later
# is harmless (it stays attached, the pool space comes back, a new device
# works). The same with no daemon at all (readers waiting for one fail at
# once, not after daemon_timeout_ms). rmmod is refused while a device exists
# and succeeds once the last one is removed, with a clean kernel log.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT

# Wait up to SECS for every pid in bgpids to exit; die if one does not.
# Sets failed to the number of readers that failed.
wait_readers() {
	local secs=$1 p i
	failed=0
	for ((i = 0; i < secs * 10; i++)); do
		local alive=0
		for p in "${bgpids[@]}"; do
			! kill -0 "$p" 2>/dev/null || alive=1
		done
		((alive)) || break
		sleep 0.1
	done
	for p in "${bgpids[@]}"; do
		kill -0 "$p" 2>/dev/null && die "reader $p still running ${secs} s after the remove"
		wait "$p" || failed=$((failed + 1))
	done
	bgpids=()
}

# Time `maicachectl remove ID`, check it is prompt and the node is gone.
timed_remove() {
	local t0 ms
	t0=$EPOCHREALTIME
	remove_dev "$1"
	ms=$(ms_since "$t0")
	echo "remove $1 under load took $ms ms"
	((ms < 10000)) || die "remove took $ms ms"
	[[ ! -e /dev/maicache$1 ]] || die "/dev/maicache$1 still exists"
	[[ ! -e /sys/block/maicache$1 ]] || die "/sys/block/maicache$1 still exists"
	"$ctl" list | grep -q "maicache$1" && die "maicache$1 still listed"
	return 0
}

cd /tmp

# 1. rmmod is refused while a device exists.
add_dev 3 1M 3
expect_fail rmmod maicache 2>/dev/null
grep -q '^maicache ' /proc/modules || die "module gone after a refused rmmod"
remove_dev 3

# 2. Readers with fills in flight at a slow daemon.
cookie=0xab01
start_filler --pattern --delay-ms 3000 --stats-file /tmp/f.stats
add_dev 0 64M "$cookie"
fio --name=readers --filename=/dev/maicache0 --rw=randread --bs=128k --direct=1 \
	--ioengine=io_uring --iodepth=4 --numjobs=4 --time_based --runtime=120 \
	--output="$MAICACHE_OUT/fio.log" 2>"$MAICACHE_OUT/fio.err" &
bgpids+=($!)
"$pcheck" /dev/maicache0 "$cookie" --bs 256K >"$MAICACHE_OUT/pcheck.log" 2>&1 &
bgpids+=($!)
# Let the readers get going, then remove while fills are at the daemon:
# first every reader has the device open (fio's 4 jobs and the checker: on
# a slow kernel fio starts seconds late, and a device removed before its
# jobs open it gives them no EIO but a size of 0); then misses counts fills
# started, bytes_filled the ones completed (read in one go: under
# emulation, two commands can be a batch apart).
openers() { find /proc/[0-9]*/fd -lname "$1" 2>/dev/null | wc -l; }
for ((i = 0; i < 600; i++)); do
	(($(openers /dev/maicache0) >= 5)) && break
	sleep 0.1
done
(($(openers /dev/maicache0) >= 5)) || die "the readers did not open /dev/maicache0 within 60 s"
sleep 1
for ((i = 0; i < 100; i++)); do
	v=$(cat /sys/block/maicache0/maicache/{bytes_filled,misses})
	filled=${v%%$'\n'*}
	m=${v##*$'\n'}
	((m < 4 || m == filled >> 20)) || break
	sleep 0.1
done
echo "before remove: misses $m, bytes filled $filled"
((m > filled >> 20)) || die "no fill in flight at the remove"
timed_remove 0
wait_readers 15
echo "$failed of 2 readers failed"
((failed == 2)) || die "a reader of the removed device did not fail"
cat "$MAICACHE_OUT/pcheck.log"
grep -q 'Input/output error' "$MAICACHE_OUT/fio.log" "$MAICACHE_OUT/fio.err" || die "fio reported no EIO"

# The daemon answers the stale fills after the remove (its 3 s delay): nothing
# breaks, and their slots go back to the pool.
sleep 3
kill -0 "$fpid" 2>/dev/null || die "the daemon died answering stale fills"
for ((i = 0; i < 100; i++)); do
	[[ $(pool_field used) == 0 ]] && break
	sleep 0.1
done
"$ctl" pool
assert_eq "$(pool_field used)" 0 "pool bytes used once the stale fills were answered"
cookie2=0xab02
add_dev 0 8M "$cookie2"
"$pcheck" /dev/maicache0 "$cookie2" >/dev/null || die "new device after the remove reads wrong"
assert_eq "$(stat_of 0 misses)" 8 "new device: misses"
assert_eq "$(stat_of 0 fill_errors)" 0 "new device: fill errors"
remove_dev 0
stop_filler

# 3. Readers waiting for a daemon that is not there (timeout 30 s): the
#    remove fails them at once.
add_dev 1 16M 0xab03
for q in 0 1 2 3; do
	dd if=/dev/maicache1 of=/dev/null bs=1M skip=$((q * 4)) count=4 iflag=direct \
		2>"$MAICACHE_OUT/dd$q.log" &
	bgpids+=($!)
done
sleep 1
t0=$EPOCHREALTIME
timed_remove 1
wait_readers 10
ms=$(ms_since "$t0")
echo "readers waiting for a daemon failed $ms ms after the remove began"
((failed == 4)) || die "only $failed of 4 readers waiting for a daemon failed"
((ms < 10000)) || die "readers waiting for a daemon took $ms ms to fail"

# 4. Those readers' fills were never handed to a daemon: their slots are
#    free at once, so the pool can be resized right away.
assert_eq "$(pool_field used)" 0 "pool in use after the remove"
"$ctl" pool --size 16M >/dev/null || die "pool resize refused after the last device was removed"

# 5. No device left: the module unloads (the harness checks the log).
rmmod maicache || die "rmmod failed after the last device was removed"
echo "remove_under_load: OK"
