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

ctl=$MAICACHE_ROOT/build/user/maicachectl
filler=$MAICACHE_ROOT/build/user/mc-filler
pcheck=$MAICACHE_ROOT/build/user/mc-pattern-check
fpid=""
mpid=""
devs=()
bgpids=()

cleanup() {
	local id p
	for p in "${bgpids[@]}" $mpid; do
		kill "$p" 2>/dev/null || true
	done
	if [[ -n $fpid ]]; then
		kill -TERM "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
	fi
	for id in "${devs[@]}"; do
		"$ctl" remove "$id" 2>/dev/null || true
	done
}
trap cleanup EXIT

stat_of() { cat "/sys/block/maicache$1/maicache/$2"; }

start_filler() {
	local i
	"$filler" --quiet "$@" &
	fpid=$!
	for ((i = 0; i < 100; i++)); do
		if "$ctl" --json pool | grep -q "\"daemon_attached\":true,\"daemon_pid\":$fpid,"; then
			return 0
		fi
		kill -0 "$fpid" 2>/dev/null || die "mc-filler $* exited at start"
		sleep 0.1
	done
	die "mc-filler $* did not attach"
}

pool_field() { "$ctl" --json pool | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# Sample the pool's used bytes into FILE until stopped.
start_monitor() {
	: >"$1"
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

start_filler --pattern

# 1. 64 MiB through 16 MiB, twice.
c0=0xe0
"$ctl" add --id 0 --size 64M --cookie "$c0" >/dev/null
devs+=(0)
start_monitor /tmp/used0
for pass in 1 2; do
	"$pcheck" /dev/maicache0 "$c0" --bs 512K || die "pass $pass over 64 MiB: wrong data"
	echo "pass $pass: misses $(stat_of 0 misses) hits $(stat_of 0 hits) evictions $(stat_of 0 evictions)"
done
stop_monitor /tmp/used0 "64 MiB device"
ev=$(stat_of 0 evictions)
m=$(stat_of 0 misses)
((ev >= 64 - 16)) || die "only $ev evictions for 64 MiB through a 16 MiB pool"
((m > 64 + 32)) || die "$m misses: the second pass was served from a pool too small for it"
assert_eq "$(stat_of 0 fill_errors)" 0 "fill errors"
"$ctl" stats 0
"$ctl" remove 0
devs=()

# 2. 64 KiB and 1 MiB extents, 24 MiB each, read concurrently, twice.
c1=0xe1
c2=0xe2
"$ctl" add --id 1 --size 24M --cookie "$c1" --extent-size 64K >/dev/null
devs+=(1)
"$ctl" add --id 2 --size 24M --cookie "$c2" --extent-size 1M >/dev/null
devs+=(2)
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
	cat "$MAICACHE_OUT/mix1-$pass.log" "$MAICACHE_OUT/mix2-$pass.log"
done
stop_monitor /tmp/used12 "two devices"
for id in 1 2; do
	echo "maicache$id: misses $(stat_of "$id" misses) hits $(stat_of "$id" hits) evictions $(stat_of "$id" evictions)"
	assert_eq "$(stat_of "$id" fill_errors)" 0 "maicache$id fill errors"
done
(($(stat_of 1 evictions) + $(stat_of 2 evictions) > 0)) || die "no eviction with 48 MiB through 16 MiB"
"$ctl" remove 1
"$ctl" remove 2
devs=()
kill -TERM "$fpid"
wait "$fpid" || die "mc-filler failed"
fpid=""
echo "eviction: OK"
