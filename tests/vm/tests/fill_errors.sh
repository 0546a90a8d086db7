#!/bin/bash
# Failed fills: with `mc-filler --fail-every 3` every third miss is answered
# with EIO; exactly the reads of those extents fail with EIO, fill_errors
# counts them, and the failed extents are not cached: after the daemon is
# restarted without --fail-every, a full re-read returns correct data, misses
# only the extents that failed, and hits the ones that were filled. A read
# spanning two extents, one of which fails, fails whole, and the extent of it
# that was filled stays cached. Concurrent readers of a failing daemon get
# EIO for some reads and no hang.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT
# The test counts the fills its reads make: none fetched ahead.
readahead_off

# Read extent E (1 MiB) of maicache0 alone; 0 if it read, 1 if EIO.
read_extent() {
	local err
	if err=$(dd if=/dev/maicache0 of=/dev/null bs=1M skip="$1" count=1 iflag=direct 2>&1); then
		return 0
	fi
	grep -q 'Input/output error' <<<"$err" || die "extent $1: failed, but not with EIO: $err"
	return 1
}

cookie=0xfa11
mib=$((1 << 20))
add_dev 0 16M "$cookie"

# 1. One read per extent, one at a time: misses 3, 6, 9, 12 and 15 fail.
start_filler --pattern --fail-every 3 --stats-file /tmp/f1.stats
failed=()
for e in {0..15}; do
	read_extent "$e" || failed+=("$e")
done
echo "extents whose read failed: ${failed[*]}"
assert_eq "${failed[*]}" "2 5 8 11 14" "failed extents"
assert_eq "$(stat_of 0 misses)" 16 "misses"
assert_eq "$(stat_of 0 fill_errors)" 5 "fill_errors"
assert_eq "$(stat_of 0 bytes_filled)" $((11 * mib)) "bytes filled"
# A failed extent is not cached: reading it again is a new miss. The
# daemon's 17th miss succeeds.
read_extent 2 || die "re-read of extent 2 (the daemon's 17th miss) failed"
assert_eq "$(stat_of 0 misses)" 17 "misses after re-reading a failed extent"
# One 1 MiB request over the second half of extent 4 (cached) and the first
# half of extent 5 (failed, so uncached): 5 is the daemon's 18th miss, which
# fails, and with it the whole read.
h=$(stat_of 0 hits)
if dd if=/dev/maicache0 of=/dev/null bs=1M skip=$((9 * mib / 2)) count=1 \
	iflag=direct,skip_bytes 2>/dev/null; then
	die "a read over an extent whose fill failed succeeded"
fi
assert_eq "$(stat_of 0 misses)" 18 "misses after the straddling read"
assert_eq "$(stat_of 0 fill_errors)" 6 "fill_errors after the straddling read"
((($(stat_of 0 hits)) - h >= 1)) || die "the straddling read did not hit extent 4"
stop_filler
assert_eq "$(fstat /tmp/f1.stats misses)" 18 "misses the daemon saw"
assert_eq "$(fstat /tmp/f1.stats errors)" 6 "errors the daemon posted"

# 2. A daemon that does not fail: a full re-read is correct and misses only
#    the extents still uncached (5, 8, 11, 14).
start_filler --pattern --stats-file /tmp/f2.stats
h=$(stat_of 0 hits)
"$pcheck" /dev/maicache0 "$cookie" || die "re-read after the restart: wrong data"
assert_eq "$(stat_of 0 misses)" 22 "misses after the full re-read"
assert_eq "$(stat_of 0 fill_errors)" 6 "fill_errors after the full re-read"
# (A hit counts per request and extent; the block layer may split reads.)
((($(stat_of 0 hits)) - h >= 12)) || die "full re-read: $(($(stat_of 0 hits) - h)) hits for 12 cached extents"
assert_eq "$(stat_of 0 bytes_filled)" $((16 * mib)) "bytes filled"
"$pcheck" /dev/maicache0 "$cookie" >/dev/null || die "second full read: wrong data"
assert_eq "$(stat_of 0 misses)" 22 "misses after a second full read"
stop_filler
assert_eq "$(fstat /tmp/f2.stats misses)" 4 "misses the second daemon saw"
assert_eq "$(fstat /tmp/f2.stats errors)" 0 "errors the second daemon posted"

# 3. Concurrent readers against a failing daemon: some reads fail with EIO,
#    none hangs, and the data that is read is right.
add_dev 1 8M 0xfa12 --extent-size 64K
start_filler --pattern --fail-every 3
fio --name=failing --filename=/dev/maicache1 --rw=randread --bs=16k --direct=1 \
	--ioengine=io_uring --iodepth=8 --numjobs=2 --io_size=1M --continue_on_error=read \
	>"$MAICACHE_OUT/fio-failing.log" 2>&1 || true
grep -q 'Input/output error' "$MAICACHE_OUT/fio-failing.log" || die "fio saw no EIO from a failing daemon"
fe=$(stat_of 1 fill_errors)
m=$(stat_of 1 misses)
echo "maicache1: misses $m fill_errors $fe"
((fe > 0 && fe <= (m + 2) / 3)) || die "maicache1: $fe fill errors for $m misses at --fail-every 3"
stop_filler
start_filler --pattern
"$pcheck" /dev/maicache1 0xfa12 --bs 48K >/dev/null || die "maicache1 after the restart: wrong data"
assert_eq "$(stat_of 1 fill_errors)" "$fe" "maicache1 fill_errors after the restart"
stop_filler
remove_dev 1
remove_dev 0
echo "fill_errors: OK"
