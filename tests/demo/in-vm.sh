#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# The demo, inside the VM: Azurite on loopback, the dataset image (built on
# the host in build/demo) uploaded as a blob, maicached attaching it as
# /dev/maicacheN, erofs mounted on it, every file read and checked cold and
# then warm, and a report of where the bytes came from.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"

work=$MAICACHE_ROOT/build/demo
mnt=/tmp/dataset
unmount() { umount "$mnt" 2>/dev/null || true; }
cleanup_hooks=(unmount "${cleanup_hooks[@]}")
trap mc_cleanup EXIT

# read_all: read every file (the page cache dropped first); prints seconds.
read_all() {
	local t0
	echo 3 >/proc/sys/vm/drop_caches
	t0=$EPOCHREALTIME
	(cd "$mnt" && find . -type f -print0 | xargs -0 cat >/dev/null) || die "a read failed"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f MB/s", b / s / 1e6 }'; }
num() { "$ctl" --json stats "$id" | json_num "$1" | head -n 1; }

echo "== maicache demo on $(uname -r)"
azurite_start >/dev/null
blob_mkcontainer datasets
etag=$(blob_put datasets train.erofs "$work/dataset.erofs")
url=$(blob_url datasets train.erofs)
echo "== uploaded $(stat -c %s "$work/dataset.erofs") bytes to $url (ETag $etag)"

start_daemon
dev=$(attach "$url" --extent-size 1M --name train)
id=$(dev_id "$dev")
echo "== maicachectl attach $url --name train -> $dev"
modprobe erofs 2>/dev/null || true
mkdir -p "$mnt"
g0=$(daemon_stat blob_gets)
mount -t erofs -o ro "$dev" "$mnt"
files=$(find "$mnt" -type f | wc -l)
bytes=$(du -sb "$mnt" | cut -f1)
echo "== mounted erofs read-only on $mnt: $files files, $bytes bytes"

cold=$(read_all)
g1=$(daemon_stat blob_gets)
warm=$(read_all)
g2=$(daemon_stat blob_gets)
(cd "$mnt" && sha256sum --quiet -c SHA256SUMS) || die "a file does not match its sha256"

hits=$(num hits)
misses=$(num misses)
echo "== report"
echo "files read per pass:   $files (all of them; sha256 of each checked after)"
echo "bytes read per pass:   $bytes"
echo "cold (mount + pass, misses from Blob): $(mbps "$bytes" "$cold") in ${cold}s, $((g1 - g0)) GETs"
echo "warm (page cache dropped, DRAM in the kernel): $(mbps "$bytes" "$warm") in ${warm}s, $((g2 - g1)) GETs"
awk -v c="$cold" -v w="$warm" 'BEGIN { printf "warm/cold speed-up:    %.1fx\n", c / w }'
awk -v h="$hits" -v m="$misses" 'BEGIN { printf "hit ratio (extents):   %.3f (%d hits, %d misses)\n", h / (h + m), h, m }'
echo "bytes from Blob:       $(num bytes_filled) (each extent fetched once, If-Match $etag)"
echo "bytes from DRAM:       $(num bytes_hit)"
echo "GETs issued in all:    $(daemon_stat blob_gets) (retries $(daemon_stat blob_retries))"
"$ctl" list
umount "$mnt"
"$ctl" detach train
stop_daemon
echo "== done"
