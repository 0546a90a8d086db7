#!/bin/bash
# Data read through /dev/maicacheN is the data of the daemon's source, for
# 512 B to 1 MiB reads, sequential and random, from several concurrent jobs:
# fio writes verifiable data (verify=crc32c, fixed randseed) into a backing
# file, and the same job definition with verify_only=1 then reads the device
# (direct=1, io_uring) once cold (every extent a miss, filled by mc-filler
# --source) and once warm, after zeroing the source, which must be served
# from DRAM alone (misses do not grow, hits do, data still verifies). A
# device whose size is not a multiple of its extent size (short last extent)
# is checked the same way, and with odd, extent-straddling ranges against a
# --pattern daemon, also with reads the block layer splits (max_sectors_kb).
#
# verify_only replays the write job without writing: fio regenerates each
# block's offset sequence and verify header from the job's seeds, so the read
# job must be the very same job file; only the engine, direct and filename are
# given on the command line (fio's command-line options are defaults that a
# job file would silently override, so the job files must not set them),
# none of which changes the data. The write phase runs buffered with psync,
# since /tmp (tmpfs) has no O_DIRECT on 6.1.
#
# Parts 1 and 2 count one fill per extent, so they run with part_fills=N
# (random reads would fill 64 KiB parts; tests/vm/tests/part_fills.sh counts
# those); part 3's odd ranges run with parts on, as a node reads them.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT
part_fills_set N


# fio keeps its verify state files in the working directory.
cd /tmp
# Options given before the job file are defaults that the job file cannot
# override: the job files leave out everything that differs between the
# write and the read phase.
write_opts=(--do_verify=0 --direct=0 --ioengine=psync)
read_opts=(--verify_only=1 --do_verify=1 --direct=1 --ioengine=io_uring --iodepth=8)

# ---------------------------------------------------------------------------
# 1. Eight regions of 2 MiB: {512, 4k, 64k, 1m} x {sequential, random}; the
#    4k and 64k jobs run as two clones each (numjobs=2, offset_increment).
src=/tmp/src.img
size=$((16 << 20))
job=/tmp/verify.fio
cat >"$job" <<EOF
[global]
size=2m
verify=crc32c
verify_fatal=1
randseed=4242

[seq512]
offset=0m
rw=write
bs=512

[rand512]
offset=2m
rw=randwrite
bs=512

[seq4k]
offset=4m
size=1m
offset_increment=1m
numjobs=2
rw=write
bs=4k

[rand4k]
offset=6m
size=1m
offset_increment=1m
numjobs=2
rw=randwrite
bs=4k

[seq64k]
offset=8m
size=1m
offset_increment=1m
numjobs=2
rw=write
bs=64k

[rand64k]
offset=10m
size=1m
offset_increment=1m
numjobs=2
rw=randwrite
bs=64k

[seq1m]
offset=12m
rw=write
bs=1m

[rand1m]
offset=14m
rw=randwrite
bs=1m
EOF
truncate -s "$size" "$src"
run_fio write "$job" "${write_opts[@]}" --filename="$src"
assert_eq "$(stat -c %s "$src")" "$size" "backing file size"

cookie=0x1001
add_dev 0 "$size" "$cookie"
start_filler --source "$cookie=$src"

run_fio cold "$job" "${read_opts[@]}" --filename=/dev/maicache0
m1=$(stat_of 0 misses)
h1=$(stat_of 0 hits)
f1=$(stat_of 0 bytes_filled)
bh1=$(stat_of 0 bytes_hit)
echo "after cold pass: misses $m1 hits $h1 bytes_filled $f1"
assert_eq "$m1" 16 "cold pass: one miss per 1 MiB extent"
assert_eq "$f1" "$size" "cold pass: bytes filled"
assert_eq "$(stat_of 0 fill_errors)" 0 "cold pass: fill errors"

# Zero the source before the warm pass: the warm pass still verifies, since
# it never goes back to the source.
dd if=/dev/zero of="$src" bs=1M count=16 conv=notrunc status=none
run_fio warm "$job" "${read_opts[@]}" --filename=/dev/maicache0
m2=$(stat_of 0 misses)
h2=$(stat_of 0 hits)
bh2=$(stat_of 0 bytes_hit)
echo "after warm pass: misses $m2 hits $h2"
assert_eq "$m2" "$m1" "warm pass: misses must not grow"
((h2 > h1)) || die "warm pass: hits did not grow ($h1 -> $h2)"
# Each pass reads every byte once, all of it copied out of DRAM.
assert_eq "$((bh2 - bh1))" "$size" "warm pass: bytes copied from DRAM"
assert_eq "$(stat_of 0 bytes_filled)" "$f1" "warm pass: bytes filled"
assert_eq "$(stat_of 0 evictions)" 0 "evictions"
"$ctl" stats 0
# Negative control: the verify job fails against the zeroed source, so it
# really checks the data.
if fio --output="$MAICACHE_OUT/fio-negative.log" --section=rand4k --verify_only=1 \
	--do_verify=1 --direct=0 --ioengine=psync --filename="$src" "$job" \
	2>"$MAICACHE_OUT/fio-negative.err"; then
	die "fio verify_only passed against a zeroed file: it verifies nothing"
fi
remove_dev 0

# ---------------------------------------------------------------------------
# 2. Size not a multiple of the extent size: 64 KiB extents, 2 MiB + 40.5 KiB,
#    so the last extent is 40.5 KiB long: random 512 B over the first MiB,
#    sequential 4k over the second, random 512 B over the short tail.
src2=/tmp/odd.img
size2=$(((2 << 20) + 41472))
job2=/tmp/odd.fio
cat >"$job2" <<EOF
[global]
verify=crc32c
verify_fatal=1
randseed=777

[rand512]
offset=0
size=1m
rw=randwrite
bs=512

[seq4k]
offset=1m
size=1m
rw=write
bs=4k

[tail512]
offset=2m
size=41472
rw=randwrite
bs=512
EOF
truncate -s "$size2" "$src2"
run_fio oddwrite "$job2" "${write_opts[@]}" --filename="$src2"
assert_eq "$(stat -c %s "$src2")" "$size2" "odd backing file size"
stop_filler
cookie2=0x2002
add_dev 1 "$size2" "$cookie2" --extent-size 64K
start_filler --source "$cookie2=$src2"
run_fio oddcold "$job2" "${read_opts[@]}" --filename=/dev/maicache1
m1=$(stat_of 1 misses)
assert_eq "$m1" 33 "odd device: one miss per extent (32 full + 1 short)"
assert_eq "$(stat_of 1 bytes_filled)" "$size2" "odd device: bytes filled"
run_fio oddwarm "$job2" "${read_opts[@]}" --filename=/dev/maicache1
assert_eq "$(stat_of 1 misses)" "$m1" "odd device warm pass: misses"
# The short last extent read whole, and nothing past the end.
# (No process substitution: the VM's /dev has no /dev/fd.)
dd if=/dev/maicache1 of=/tmp/tail.dev bs=512 skip=$(((size2 - 41472) / 512)) iflag=direct status=none
tail -c 41472 "$src2" >/tmp/tail.src
assert_eq "$(stat -c %s /tmp/tail.dev)" 41472 "bytes in the last extent"
cmp /tmp/tail.dev /tmp/tail.src || die "last extent differs from the source"
n=$(dd if=/dev/maicache1 bs=512 skip=$((size2 / 512)) iflag=direct status=none | wc -c)
assert_eq "$n" 0 "bytes read past the end"
remove_dev 1
stop_filler

# ---------------------------------------------------------------------------
# 3. A --pattern device of 3 MiB + 5.5 KiB with 1 MiB extents, read in odd
#    ranges: inside one extent, across extent boundaries, and over the short
#    last extent, cold and then warm.
part_fills_set Y
cookie3=0x3003
size3=$(((3 << 20) + 5632))
add_dev 2 "$size3" "$cookie3"
start_filler --pattern
ranges=(
	"1000 3001 4096"		# unaligned, inside extent 0
	"512 1536 4096"			# inside extent 0
	"1048064 1024 512"		# 512 B on each side of the 0/1 boundary
	"1000448 1111552 65536"		# 1 MiB + a bit, three extents, 64k reads
	"3145216 6144 1024"		# across 2/3 into the short last extent
	"$((size3 - 512)) 512 512"	# the last sector
	"3146240 $((size3 - 3146240)) 4096" # the rest of the device
)
for pass in cold warm; do
	m_before=$(stat_of 2 misses)
	for r in "${ranges[@]}"; do
		read -r off len bs <<<"$r"
		"$pcheck" /dev/maicache2 "$cookie3" --offset "$off" --length "$len" --bs "$bs" >/dev/null ||
			die "$pass: pattern check of $len bytes at $off (bs $bs) failed"
	done
	"$pcheck" /dev/maicache2 "$cookie3" --bs 768K || die "$pass: whole-device pattern check failed"
	echo "$pass pattern pass: misses $m_before -> $(stat_of 2 misses), hits $(stat_of 2 hits)"
done
# Reads larger than the queue's max_sectors_kb are split by the block layer
# before maicache sees them (bio_split_to_limits): each piece is served and
# the whole still matches.
q2=/sys/block/maicache2/queue
max_kb=$(<"$q2/max_sectors_kb")
assert_eq "$max_kb" 1024 "max_sectors_kb"
echo 12 >"$q2/max_sectors_kb"
h_before=$(stat_of 2 hits)
"$pcheck" /dev/maicache2 "$cookie3" --bs 1M >/dev/null || die "split reads: pattern check failed"
"$pcheck" /dev/maicache2 "$cookie3" --offset 1000448 --length 1111552 --bs 1111552 >/dev/null ||
	die "split reads: unaligned pattern check failed"
h_after=$(stat_of 2 hits)
# At most 12 KiB per piece: the 3 MiB + 5.5 KiB device alone is > 260 pieces.
((h_after - h_before > 260)) || die "split reads: $((h_after - h_before)) hits, expected > 260 pieces"
echo "$max_kb" >"$q2/max_sectors_kb"
# Parts for the small reads, extents for the rest: every byte at least once.
(($(stat_of 2 bytes_filled) >= size3)) || die "pattern device: filled less than the device"
assert_eq "$(stat_of 2 fill_errors)" 0 "pattern device: fill errors"
remove_dev 2
stop_filler
[[ ! -e /dev/maicache2 ]] || die "/dev/maicache2 still exists after remove"
echo "fio_verify: OK"
