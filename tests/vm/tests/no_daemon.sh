#!/bin/bash
# With no daemon attached, a miss waits daemon_timeout_ms for one: a read
# with no daemon fails with EIO after about the timeout (not at once, and it
# does not hang), and a read started with no daemon succeeds when a daemon
# attaches within the timeout. `maicachectl pool` reports whether a daemon
# is attached (and its pid) and the timeout set through it.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT
# The test counts the fills its reads make: none fetched ahead.
readahead_off

out=$("$ctl" pool --daemon-timeout-ms 3000)
echo "$out"
grep -q '^daemon not attached (pid 0), timeout 3000 ms' <<<"$out" || die "pool: not 'not attached' with timeout 3000"
assert_eq "$(cat /sys/module/maicache/parameters/daemon_timeout_ms)" 3000 "daemon_timeout_ms parameter"
"$ctl" --json pool | grep -q '"daemon_attached":false,"daemon_pid":0,' || die "pool --json: a daemon is attached"

cookie=0x5eed
add_dev 0 8M "$cookie"

# 1. No daemon: EIO after about 3 s.
t0=$EPOCHREALTIME
if err=$(dd if=/dev/maicache0 of=/dev/null bs=4k count=1 iflag=direct 2>&1); then
	die "read with no daemon succeeded"
fi
ms=$(ms_since "$t0")
echo "read with no daemon failed after $ms ms: $err"
grep -q 'Input/output error' <<<"$err" || die "read with no daemon: not EIO"
((ms >= 2700)) || die "read with no daemon failed after $ms ms, before the 3000 ms timeout"
((ms <= 10000)) || die "read with no daemon failed after $ms ms, long after the 3000 ms timeout"
assert_eq "$(stat_of 0 misses)" 1 "misses of the failed read"
assert_eq "$(stat_of 0 fill_errors)" 1 "fill errors of the failed read"

# Several readers of different extents time out together, each once.
t0=$EPOCHREALTIME
for e in 1 2 3; do
	dd if=/dev/maicache0 of=/dev/null bs=64k skip=$((e * 16)) count=1 iflag=direct \
		2>"/tmp/dd$e.err" &
	bgpids+=($!)
done
for i in "${!bgpids[@]}"; do
	if wait "${bgpids[i]}"; then
		die "concurrent read $i with no daemon succeeded"
	fi
done
bgpids=()
ms=$(ms_since "$t0")
echo "three reads with no daemon failed after $ms ms"
((ms >= 2700 && ms <= 10000)) || die "concurrent reads with no daemon failed after $ms ms"
grep -q 'Input/output error' /tmp/dd{1,2,3}.err || die "concurrent reads: not EIO"
assert_eq "$(stat_of 0 fill_errors)" 4 "fill errors after the concurrent reads"

# 2. A read started with no daemon succeeds when one attaches 1 s later.
t0=$EPOCHREALTIME
"$pcheck" /dev/maicache0 "$cookie" --length 2M >"$MAICACHE_OUT/late.log" 2>&1 &
reader=$!
bgpids=("$reader")
sleep 1
kill -0 "$reader" 2>/dev/null || die "the read finished before any daemon attached"
start_filler --pattern
out=$("$ctl" pool)
echo "$out"
grep -q "^daemon attached (pid $fpid), timeout 3000 ms" <<<"$out" || die "pool: daemon $fpid not shown attached"
wait "$reader" || { cat "$MAICACHE_OUT/late.log"; die "read started before the daemon attached failed"; }
bgpids=()
ms=$(ms_since "$t0")
echo "read started with no daemon finished after $ms ms"
((ms >= 1000)) || die "read finished after $ms ms, before the daemon was started"
assert_eq "$(stat_of 0 fill_errors)" 4 "fill errors after the late read"
# The extent that failed at first is filled now.
dd if=/dev/maicache0 of=/dev/null bs=4k count=1 iflag=direct status=none || die "re-read of extent 0 failed"
"$pcheck" /dev/maicache0 "$cookie" >/dev/null || die "full read with the daemon failed"

# 3. The daemon goes away: the pool says so, cached extents still read.
stop_filler
out=$("$ctl" pool)
echo "$out"
grep -q '^daemon not attached' <<<"$out" || die "pool: daemon still shown attached after it exited"
"$ctl" --json pool | grep -q '"daemon_attached":false' || die "pool --json: daemon still attached"
t0=$EPOCHREALTIME
"$pcheck" /dev/maicache0 "$cookie" >/dev/null || die "cached read with no daemon failed"
ms=$(ms_since "$t0")
((ms < 2500)) || die "cached read with no daemon took $ms ms"
"$ctl" stats 0
remove_dev 0
echo "no_daemon: OK"
