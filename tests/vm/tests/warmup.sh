#!/bin/bash
# maicachectl warmup (tools/ctl_warmup.c over EXTENT_WARM, kmod/warm.c).
# On file-backed devices of maicached: a byte range fetches exactly the
# extents it touches (misses counted, then reading it is all hits), again
# finds them cached; the files of an ext4 filesystem in a partition of a
# device (FIEMAP, the partition's offset) fetch exactly their extents,
# found independently with debugfs, and then read with no miss; bad input
# (a path on no maicache device, a range past the device, a device that
# does not exist, squashfs with no FIEMAP, no daemon) fails with a clear
# message and fetches nothing. With mc-filler slowed down: --json gives a
# line a second and the totals last; ^C stops it with status 130 and what
# it fetched stays cached, which the next warmup finds.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
mnt=/tmp/warm-mnt
umount_all() { umount "$mnt/ext4" 2>/dev/null || true; umount "$mnt/sq" 2>/dev/null || true; }
cleanup_hooks=(umount_all "${cleanup_hooks[@]}")
trap mc_cleanup EXIT
# Misses are counted exactly: nothing fetched ahead of the reads.
readahead_off
real=$bin/maicachectl
M=$((1 << 20))
# Process substitution wants /dev/fd, which the VM's devtmpfs lacks.
[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd

t0=$EPOCHREALTIME
section() { echo "== $* (at $(ms_since "$t0") ms)"; }

# done_is OUTFILE EXPR...: every line of OUTFILE is JSON (read by
# python's json module, as ctl-json.sh reads any --json answer), the
# progress lines come first and the last one is the "done" event; each
# python EXPR holds of it (d: the last line, p: the progress lines).
# Prints the last line's extents_fetched.
done_is() {
	python3 - "$@" <<'PY' || die "warmup output $1: see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
d, p = lines[-1], lines[:-1]
assert d["event"] == "done", f"last line is not the totals: {d}"
assert all(x["event"] == "progress" for x in p), "a line after the totals"
for e in sys.argv[2:]:
    if not eval(e):
        sys.exit(f"{sys.argv[1]}: not {e}: {d}")
print(d["extents_fetched"])
PY
}

# warm OUT ARGS...: maicachectl --json warmup ARGS into $MAICACHE_OUT/OUT.json
# (done_is parses it); must exit 0.
warm() {
	local out=$MAICACHE_OUT/$1.json
	shift
	"$real" --json warmup "$@" >"$out" || { cat "$out"; die "warmup $* failed"; }
	echo "$out"
}

# drained ID: wait until no fill of /dev/maicacheID is in flight (misses
# less the fills the latency histogram counts).
drained() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(stat_of "$1" misses) == $(awk '{ n += $2 } END { print n }' \
			"/sys/block/maicache$1/maicache/fill_latency_us"))) && return 0
		sleep 0.1
	done
	die "fills of /dev/maicache$1 still in flight after 10 s"
}

# refused EXIT TEXT ARGS...: maicachectl warmup ARGS exits EXIT saying TEXT.
refused() {
	local want=$1 text=$2 err rc=0
	shift 2
	err=$("$real" warmup "$@" 2>&1 >/dev/null) || rc=$?
	echo "warmup $*: exit $rc: $err"
	assert_eq "$rc" "$want" "exit status of warmup $*"
	grep -qF -- "$text" <<<"$err" || die "warmup $*: '$err' does not say '$text'"
}

# The devices of both parts fit in the pool at once.
"$ctl" pool --size 512M >/dev/null
start_daemon

section "a range of a device"
src=/tmp/warm.img
head -c $((32 * M)) /dev/urandom >"$src"
dev=$(attach "file://$src" --extent-size 1M --name warm)
id=$(dev_id "$dev")
out=$(warm range warm --range 4M-12M)
done_is "$out" 'd["result"] == "complete"' 'd["extents_total"] == 8' 'd["extents_fetched"] == 8' \
	'd["extents_were_cached"] == 0' "d['bytes_total'] == d['bytes_done'] == 8 * $M" \
	'd["devices"][0]["name"] == "maicache'"$id"'"'
assert_eq "$(stat_of "$id" misses)" 8 "misses of the warmup of 4M-12M"
assert_eq "$(stat_of "$id" warmed)" 8 "extents warmed"
cmp <(dd if="$dev" bs=1M skip=4 count=8 iflag=direct status=none) \
	<(dd if="$src" bs=1M skip=4 count=8 status=none) || die "the warmed range reads wrong"
assert_eq "$(stat_of "$id" misses)" 8 "misses after reading the warmed range"
assert_eq "$(stat_of "$id" hits)" 8 "hits of the warmed range"
dd if="$dev" of=/dev/null bs=1M count=1 iflag=direct status=none
assert_eq "$(stat_of "$id" misses)" 9 "a read outside the range misses"
# Again, by path: all cached. Not aligned: widened to the extents it touches.
out=$(warm again "$dev" --range 4M-12M)
done_is "$out" 'd["result"] == "complete"' 'd["extents_were_cached"] == 8' 'd["extents_fetched"] == 0'
out=$(warm unaligned "$id" --range 14000000-15000000)
done_is "$out" 'd["extents_total"] == 2' 'd["extents_fetched"] == 2'
assert_eq "$(stat_of "$id" misses)" 11 "misses after the unaligned range (extents 13, 14)"
# The whole device, through its by-maicache-style path and with no --range.
out=$(warm whole "$id")
done_is "$out" 'd["extents_total"] == 32' 'd["extents_were_cached"] == 11' 'd["extents_fetched"] == 21'
assert_eq "$(stat_of "$id" misses)" 32 "misses after the whole device"
cmp "$dev" "$src" || die "the warmed device reads wrong"
assert_eq "$(stat_of "$id" misses)" 32 "misses after reading the whole device"
# Not a terminal: JSON lines without --json.
"$real" warmup warm --range 0-1M >"$MAICACHE_OUT/plain.json"
done_is "$MAICACHE_OUT/plain.json" 'd["result"] == "complete"' 'd["extents_were_cached"] == 1'

section "files of ext4 in a partition"
rm -rf /tmp/fs && mkdir -p /tmp/fs/sub
head -c $((3 * M)) /dev/urandom >/tmp/fs/a.bin
head -c $((5 * M + 4321)) /dev/urandom >/tmp/fs/b.bin
head -c $((2 * M)) /dev/urandom >/tmp/fs/sub/c.bin
head -c $((4 * M)) /dev/urandom >/tmp/fs/other.bin
img=/tmp/ext4.img
truncate -s 40M "$img"
# One MBR partition, type 83, from sector 2048 (1 MiB), 36 MiB long.
python3 -c '
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(446); f.write(struct.pack("<B3sB3sII", 0, b"\0" * 3, 0x83, b"\0" * 3, 2048, 36 * 2048))
    f.seek(510); f.write(b"\x55\xaa")' "$img"
mkfs.ext4 -q -F -b 4096 -E offset=$M -d /tmp/fs "$img" 36M
fdev=$(attach "file://$img" --extent-size 256K --name fs)
fid=$(dev_id "$fdev")
blockdev --rereadpt "$fdev"
for _ in $(seq 50); do [[ -b ${fdev}p1 ]] && break; sleep 0.1; done
[[ -b ${fdev}p1 ]] || die "no ${fdev}p1 after blockdev --rereadpt"
vm_modprobe ext4
mkdir -p "$mnt/ext4" "$mnt/sq"
mount -t ext4 -o ro,noload "${fdev}p1" "$mnt/ext4"

# Inodes read now: the warmups below read no metadata of their own.
ls -lR "$mnt/ext4" >/dev/null

# expected FILE...: the device's 256 KiB extents holding FILE's blocks, by debugfs.
expected() {
	local f
	for f in "$@"; do
		debugfs -R "blocks /$f" "$img?offset=$M" 2>/dev/null | tr ' ' '\n'
	done | awk -v m=$M 'NF { print int((m + $1 * 4096) / 262144) }' | sort -un | wc -l
}
m0=$(stat_of "$fid" misses)
want=$(expected b.bin)
((want >= 21)) || die "b.bin is in $want extents by debugfs"
out=$(warm file "$mnt/ext4/b.bin")
fetched=$(done_is "$out" 'd["result"] == "complete"' "d['extents_total'] == $want" \
	'd["devices"][0]["files"] == 1' "d['extents_fetched'] + d['extents_were_cached'] == $want")
assert_eq "$(stat_of "$fid" misses)" $((m0 + fetched)) "misses of the warmup of b.bin"
echo 3 >/proc/sys/vm/drop_caches
m1=$(stat_of "$fid" misses)
cmp "$mnt/ext4/b.bin" /tmp/fs/b.bin || die "b.bin reads wrong after its warmup"
assert_eq "$(stat_of "$fid" misses)" "$m1" "misses of reading the warmed b.bin"
# A file and a directory at once; other.bin stays cold.
want=$(expected a.bin sub/c.bin)
out=$(warm files "$mnt/ext4/a.bin" "$mnt/ext4/sub")
done_is "$out" "d['extents_total'] == $want" 'd["devices"][0]["files"] == 2'
echo 3 >/proc/sys/vm/drop_caches
m1=$(stat_of "$fid" misses)
cat "$mnt/ext4/a.bin" "$mnt/ext4/sub/c.bin" | cmp - <(cat /tmp/fs/a.bin /tmp/fs/sub/c.bin) ||
	die "a.bin, sub/c.bin read wrong"
assert_eq "$(stat_of "$fid" misses)" "$m1" "misses of reading the warmed a.bin and sub/c.bin"
cmp "$mnt/ext4/other.bin" /tmp/fs/other.bin
(($(stat_of "$fid" misses) > m1 + 12)) || die "other.bin was fetched by a warmup of other files"

section "bad input"
m0=$(stat_of "$id" misses)
refused 1 "not on a maicache device" "$src"
refused 2 "reaches past the end of the device (33554432 bytes)" warm --range 0-33M
refused 2 "is empty" warm --range 5M-3M
refused 2 "is not START-END" warm --range 5M
refused 1 "/dev/maicache9: no such file or maicache device" /dev/maicache9
refused 1 "no-such-volume: no such file, maicache device or volume name" no-such-volume
refused 1 "device 9: no such device" 9
refused 1 "/dev/null: not a regular file or a directory" /dev/null
refused 2 "a device is warmed alone" warm "$mnt/ext4/a.bin"
refused 2 "--range goes with a device, not with files" "$mnt/ext4/a.bin" --range 0-1M
refused 1 "a device is warmed alone, not with files" "$mnt/ext4/a.bin" "$dev"
refused 1 "/tmp/no-such-file: no such file or maicache device" /tmp/no-such-file
# squashfs maps no file to its device.
mksquashfs /tmp/fs /tmp/sq.img -quiet -noappend -noI -noD -noF -noX >/dev/null
sdev=$(attach file:///tmp/sq.img --extent-size 64K --name sq)
vm_modprobe squashfs
mount -t squashfs -o ro "$sdev" "$mnt/sq"
refused 1 "its filesystem cannot map files to the device (no FIEMAP): warm the whole device instead (maicachectl warmup $sdev)" \
	"$mnt/sq/b.bin"
out=$(warm squash "$sdev")
done_is "$out" 'd["result"] == "complete"'
umount "$mnt/sq"
assert_eq "$(stat_of "$id" misses)" "$m0" "misses of the refused warmups"
umount "$mnt/ext4"
stop_daemon
refused 1 "no daemon is attached to fill the extents" "$id"
assert_eq "$(stat_of "$id" misses)" "$m0" "misses of a warmup with no daemon"
daemon_cleanup

section "progress lines and ^C, with slow fills"
# 320 extents of 1 MiB, a share of 32 (512 MiB pool / 1 MiB / 16) filled
# per batch, 400 ms a batch: about 4 s for the whole device. ^C comes at
# the first progress line with a fetch, near 1 s, so the rest still takes
# seconds and prints several lines however late a loaded host delivers it
# (with 160 extents a late ^C could leave one batch, under a second and a
# single line: the likeliest cause of this test's one failure in CI).
add_dev 10 320M 0x5a --extent-size 1M
start_filler --pattern --delay-ms 400
"$real" --json warmup 10 >"$MAICACHE_OUT/int.json" &
wpid=$!
bgpids+=("$wpid")
for _ in $(seq 100); do
	grep -q '"event":"progress".*"extents_fetched":[1-9]' "$MAICACHE_OUT/int.json" && break
	sleep 0.05
done
kill -INT "$wpid"
rc=0
wait "$wpid" || rc=$?
assert_eq "$rc" 130 "exit status of a warmup stopped by SIGINT"
fetched=$(done_is "$MAICACHE_OUT/int.json" 'd["result"] == "interrupted"' 'len(p) >= 1' \
	'0 < d["extents_fetched"] < 320')
# The fills it sent still arrive.
drained 10
assert_eq "$(stat_of 10 misses)" "$fetched" "misses after the interrupted warmup"
out=$(warm rest 10)
done_is "$out" 'd["result"] == "complete"' "d['extents_were_cached'] == $fetched" \
	"d['extents_fetched'] == 320 - $fetched" 'len(p) >= 2' \
	'all(a["bytes_done"] <= b["bytes_done"] <= d["bytes_total"] for a, b in zip(p, p[1:] + [d]))' \
	'all(x["bytes_total"] == 320 << 20 for x in p)' 'd["bytes_done"] == 320 << 20' \
	'any(x["rate_bytes_per_s"] > 0 and x["eta_s"] is not None for x in p)' 'd["fill_errors"] == 0'
assert_eq "$(stat_of 10 misses)" 320 "misses after both warmups (one per extent)"
"$pcheck" /dev/maicache10 0x5a --bs 1M || die "the warmed device reads wrong"
assert_eq "$(stat_of 10 misses)" 320 "misses after reading the warmed device"
stop_filler
remove_dev 10
section end
echo "warmup: ranges, files through FIEMAP, bad input, progress lines and ^C"
