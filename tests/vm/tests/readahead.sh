#!/bin/bash
# Sequential readahead (kmod/readahead.c) on a file-backed device: a
# sequential pass fetches extents ahead of the reader, reads every one of
# them (prefetch_used == prefetched, none unused), misses each extent once
# and returns the file's bytes; random reads of extents far apart fetch
# nothing ahead; readahead_kb=0 turns it off.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
param=/sys/module/maicache/parameters/readahead_kb
old_kb=""
restore_param() { [[ -z $old_kb ]] || echo "$old_kb" >"$param"; }
cleanup_hooks+=(restore_param)
trap mc_cleanup EXIT

src=/tmp/ra.img
extents=32
head -c $((extents << 20)) /dev/urandom >"$src"
daemon_cmd=("$bin/maicached")
start_daemon
old_kb=$(cat "$param")
assert_eq "$old_kb" 8192 "readahead_kb by default"

# A sequential pass, 1 MiB direct reads: the kernel sees each extent once.
dev=$(attach "file://$src" --extent-size 1M --name ra)
id=$(dev_id "$dev")
dd if="$dev" bs=1M iflag=direct status=none | cmp - "$src" || die "sequential read differs from the file"
p=$(stat_of "$id" prefetched)
((p >= extents / 2)) || die "a sequential pass fetched only $p of $extents extents ahead"
assert_eq "$(stat_of "$id" prefetch_used)" "$p" "extents fetched ahead and read since"
assert_eq "$(stat_of "$id" prefetch_unused)" 0 "extents fetched ahead and never read"
assert_eq "$(stat_of "$id" misses)" "$extents" "misses of a sequential pass (one per extent)"
"$ctl" --json stats "$id" | grep -q "\"prefetched\":$p" ||
	{ "$ctl" --json stats "$id"; die "maicachectl does not report prefetched $p"; }
"$ctl" detach ra

# Random 4 KiB reads of extents far apart: nothing fetched ahead.
dev=$(attach "file://$src" --extent-size 1M --name ra)
id=$(dev_id "$dev")
for e in 3 17 9 25 12 30 6 21; do
	dd if="$dev" of=/dev/null bs=4k count=1 skip=$((e * 256 + 7)) iflag=direct status=none
done
assert_eq "$(stat_of "$id" misses)" 8 "misses of 8 random reads"
assert_eq "$(stat_of "$id" prefetched)" 0 "extents fetched ahead for random reads"
"$ctl" detach ra

# Off: a sequential pass misses every extent and fetches none ahead.
echo 0 >"$param"
dev=$(attach "file://$src" --extent-size 1M --name ra)
id=$(dev_id "$dev")
dd if="$dev" bs=1M iflag=direct status=none | cmp - "$src" || die "read with readahead off differs"
assert_eq "$(stat_of "$id" prefetched)" 0 "extents fetched ahead with readahead_kb=0"
assert_eq "$(stat_of "$id" misses)" "$extents" "misses with readahead off"
"$ctl" detach ra
stop_daemon
echo "readahead: sequential ahead and all used, random and off fetch nothing ahead"
