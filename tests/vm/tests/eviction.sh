#!/bin/bash
# A pool smaller than the data: with `pool --size 16M`, a 64 MiB device read
# twice in full returns correct data both times, extents are evicted
# (evictions > 0, the second read misses again), and the pool's used bytes
# never exceed its size (sampled throughout). Two devices with different
# extent sizes (64 KiB and 1 MiB) read concurrently through the same small
# pool both return correct data.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"

mpid=""

cleanup() {
	[[ -z $mpid ]] || kill "$mpid" 2>/dev/null || true
	mc_cleanup
}
trap cleanup EXIT

# Sample the pool's used bytes into FILE until stopped.
start_monitor() {
	pool_field used >"$1"
	(while :; do pool_field used >>"$1"; sleep 0.05; done) &
	mpid=$!
}

stop_monitor() { # FILE LABEL
	local max n
	kill "$mpid"
	wait "$mpid" 2>/dev/null || true
	mpid=""
	n=$(wc -l <"$1")
	max=$(sort -n "$1" | tail -n1)
	echo "$2: pool used sampled $n times, at most $max bytes"
	((n >= 3)) || die "$2: pool used was sampled only $n times"
	((max <= pool)) || die "$2: pool used $max bytes, more than the pool's $pool"
	((max > 0)) || die "$2: pool used stayed 0"
}

pool=$((16 << 20))
out=$("$ctl" pool --size 16M)
echo "$out"
assert_eq "$(pool_field size)" "$pool" "pool size after --size 16M"
assert_eq "$(pool_field used)" 0 "pool used after the resize"
# The module logs the new pool's backing, as it does at load.
dmesg | grep -q 'maicache: pool resized to 16 MiB ([0-9]* of 4 segments contiguous)' ||
	die "no log line for the pool resize"

start_filler --pattern

# 1. 64 MiB through 16 MiB, twice.
c0=0xe0
add_dev 0 64M "$c0"
start_monitor /tmp/used0
for pass in 1 2; do
	# In 8 MiB pieces with a sample after each: the monitor alone may take
	# few samples when reads are fast.
	for ((mb = 0; mb < 64; mb += 8)); do
		"$pcheck" /dev/maicache0 "$c0" --bs 512K --offset $((mb << 20)) --length 8M >/dev/null ||
			die "pass $pass over 64 MiB: wrong data at $mb MiB"
		pool_field used >>/tmp/used0
	done
	echo "pass $pass: misses $(stat_of 0 misses) hits $(stat_of 0 hits) evictions $(stat_of 0 evictions)"
done
stop_monitor /tmp/used0 "64 MiB device"
ev=$(stat_of 0 evictions)
m=$(stat_of 0 misses)
((ev >= 64 - 16)) || die "only $ev evictions for 64 MiB through a 16 MiB pool"
((m > 64 + 32)) || die "$m misses: the second pass was served from a pool too small for it"
assert_eq "$(stat_of 0 fill_errors)" 0 "fill errors"
"$ctl" stats 0
remove_dev 0

# 2. 64 KiB and 1 MiB extents, 24 MiB each, read concurrently, twice.
c1=0xe1
c2=0xe2
add_dev 1 24M "$c1" --extent-size 64K
add_dev 2 24M "$c2" --extent-size 1M
assert_eq "$(cat /sys/block/maicache1/maicache/extent_size)" 65536 "maicache1 extent size"
assert_eq "$(cat /sys/block/maicache2/maicache/extent_size)" 1048576 "maicache2 extent size"
start_monitor /tmp/used12
for pass in 1 2; do
	"$pcheck" /dev/maicache1 "$c1" --bs 192K >"$MAICACHE_OUT/mix1-$pass.log" 2>&1 &
	bgpids=($!)
	"$pcheck" /dev/maicache2 "$c2" --bs 768K >"$MAICACHE_OUT/mix2-$pass.log" 2>&1 &
	bgpids+=($!)
	# A third reader, random 4k reads over both, adds churn.
	fio --name=churn --filename=/dev/maicache1:/dev/maicache2 --rw=randread --bs=4k \
		--direct=1 --ioengine=io_uring --iodepth=8 --size=24M --io_size=512k \
		--output="$MAICACHE_OUT/churn-$pass.log" || die "pass $pass: fio churn failed"
	wait "${bgpids[0]}" || { cat "$MAICACHE_OUT/mix1-$pass.log"; die "pass $pass: 64K-extent device wrong"; }
	wait "${bgpids[1]}" || { cat "$MAICACHE_OUT/mix2-$pass.log"; die "pass $pass: 1M-extent device wrong"; }
	bgpids=()
	pool_field used >>/tmp/used12
	cat "$MAICACHE_OUT/mix1-$pass.log" "$MAICACHE_OUT/mix2-$pass.log"
done
stop_monitor /tmp/used12 "two devices"
for id in 1 2; do
	echo "maicache$id: misses $(stat_of "$id" misses) hits $(stat_of "$id" hits) evictions $(stat_of "$id" evictions)"
	assert_eq "$(stat_of "$id" fill_errors)" 0 "maicache$id fill errors"
done
(($(stat_of 1 evictions) + $(stat_of 2 evictions) > 0)) || die "no eviction with 48 MiB through 16 MiB"
remove_dev 1
remove_dev 2
stop_filler
echo "eviction: OK"
