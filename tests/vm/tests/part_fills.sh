#!/bin/bash
# Part fills (kmod/read.c): on a file-backed device larger than the pool,
# random 4 KiB reads fill the 64 KiB part they read, not the 1 MiB extent.
# fio verifies every byte of a device read randomly through a pool half its
# size; the amplification (bytes filled / bytes read) of cold random reads
# stays within about a part per read (<= 20: 16 for a part per read, and a
# random read that starts where another ended may be taken for a stream
# and fill its extent), and is many times what whole
# extents cost with part_fills=0 on the same reads; a sequential pass still
# fills whole extents only (bytes filled == the device).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
trap mc_cleanup EXIT
cd /tmp

assert_eq "$(cat "$part_fills")" Y "part_fills by default"
"$ctl" pool --size 16M >/dev/null
daemon_cmd=("$bin/maicached")
start_daemon

# A source fio can verify: every 4 KiB block written with its checksum.
src=/tmp/parts.img
size=$((32 << 20))
job=/tmp/parts.fio
cat >"$job" <<EOF
[global]
size=32m
bs=4k
verify=crc32c
verify_fatal=1
randseed=4343

[rand4k]
rw=randwrite
EOF
fio --output=/dev/null --do_verify=0 --direct=0 --ioengine=psync --filename="$src" "$job" ||
	die "fio could not write the source"

# amplification ID: bytes filled per 100 bytes read.
amplification() {
	echo $(($(stat_of "$1" bytes_filled) * 100 / $(stat_of "$1" bytes_hit)))
}

# 1. Every block, in random order, through a pool of half the device: right bytes.
dev=$(attach "file://$src" --extent-size 1M --name parts)
id=$(dev_id "$dev")
run_fio verify "$job" --verify_only=1 --do_verify=1 --direct=1 --ioengine=io_uring \
	--iodepth=4 --filename="$dev"
assert_eq "$(stat_of "$id" bytes_hit)" "$size" "bytes read by the verify pass"
a=$(amplification "$id")
echo "verify pass over 32 MiB through 16 MiB: amplification $((a / 100)).$((a % 100))x"
((a <= 2000)) || die "random 4 KiB reads filled $a% of what they read: more than a part each"
(($(stat_of "$id" evictions) > 0)) || die "no eviction through a pool half the device"
assert_eq "$(stat_of "$id" fill_errors)" 0 "fill errors"
"$ctl" detach parts

# 2. The same 400 cold random reads, with parts and with whole extents.
cold_random() { # LABEL
	local d
	d=$(attach "file://$src" --extent-size 1M --name parts)
	fio --output="$MAICACHE_OUT/fio-$1.log" --name="$1" --filename="$d" --rw=randread \
		--bs=4k --direct=1 --ioengine=io_uring --iodepth=4 --number_ios=400 \
		--randseed=77 --size=32m >/dev/null || die "fio $1 failed"
	amplification "$(dev_id "$d")"
	"$ctl" detach parts >/dev/null
}
with_parts=$(cold_random parts)
part_fills_set N
with_extents=$(cold_random extents)
part_fills_set Y
echo "400 cold random 4 KiB reads: amplification $((with_parts / 100))x with parts," \
	"$((with_extents / 100))x with whole extents"
((with_parts <= 2000)) || die "with parts, amplification $with_parts% (> 20x)"
((with_extents >= 4 * with_parts)) ||
	die "whole extents cost only $with_extents% against parts' $with_parts%: parts saved nothing"

# 3. Sequential 1 MiB reads still fill whole extents, and nothing else.
dev=$(attach "file://$src" --extent-size 1M --name parts)
id=$(dev_id "$dev")
dd if="$dev" bs=1M iflag=direct status=none | cmp - "$src" || die "sequential read differs from the file"
filled=$(stat_of "$id" bytes_filled)
((filled >= size && filled % (1 << 20) == 0)) ||
	die "a sequential pass filled $filled bytes: not whole extents of the $size-byte device"
"$ctl" detach parts
stop_daemon
echo "part_fills: random reads fill parts (${with_parts}% vs ${with_extents}%), sequential whole extents"
