#!/bin/bash
# The Blob test infrastructure works inside the VM, before any maicache
# code is involved: Azurite starts on the VM's loopback; blob-put.js's
# Shared Key requests are accepted (and rejected with a wrong key), both as
# one Put Blob and as Put Block + Put Block List; what comes back, whole
# and as byte ranges, is what went up; a dataset made by make-dataset.sh
# and turned into ext4 and erofs images by make-image.sh mounts read-only
# and passes sha256sum -c; Azurite's GET count moves by exactly the GETs
# made; a paused Azurite leaves a reader hanging until its timeout; and a
# stopped and restarted Azurite still has the blobs.
# vm: no-load
# shellcheck disable=SC2119 # azurite_start takes optional arguments
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"

mnt=/tmp/mnt
cleanup() {
	umount "$mnt" 2>/dev/null || true
	blob_cleanup
}
trap cleanup EXIT

t_start=$EPOCHREALTIME
step() { echo "== $* ($(ms_since "$t_start") ms)"; }

# Loop devices and both file systems are modules in Debian's kernels.
vm_modprobe loop
vm_modprobe ext4
vm_modprobe erofs

# ---------------------------------------------------------------------------
step "dataset and images"
ds=/tmp/dataset
"$MAICACHE_ROOT/tests/blob/make-dataset.sh" --small 300 --large 2 --large-mib 1-3 "$ds" 7
nfiles=$(wc -l <"$ds/SHA256SUMS")
assert_eq "$nfiles" 302 "files listed in SHA256SUMS"
for fs in ext4 erofs; do
	img=/tmp/dataset.$fs
	size=$("$MAICACHE_ROOT/tests/blob/make-image.sh" "$fs" "$ds" "$img")
	((size % 4096 == 0)) || die "$fs image is $size bytes"
	mkdir -p "$mnt"
	mount -t "$fs" -o ro,loop "$img" "$mnt" || die "cannot mount the $fs image"
	(cd "$mnt" && sha256sum -c --quiet SHA256SUMS) || die "sha256sum -c failed on the $fs image"
	assert_eq "$(find "$mnt" -type f | wc -l)" "$((nfiles + 1))" "files in the $fs image"
	umount "$mnt"
	echo "$fs image: $size bytes, $nfiles files verified"
done
# Negative control: a changed byte in a file must fail the check.
cp -a "$ds" /tmp/dataset-bad
f=$(head -n1 "$ds/SHA256SUMS" | cut -c67-)
printf 'X' | dd of="/tmp/dataset-bad/$f" bs=1 seek=100 conv=notrunc status=none
expect_fail bash -c 'cd /tmp/dataset-bad && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1'
rm -rf /tmp/dataset-bad

# ---------------------------------------------------------------------------
step "azurite start"
azurite_start
blob_mkcontainer pub --public blob
blob_mkcontainer priv

head -c $((4 << 20)) /dev/urandom >/tmp/rand4m
step "uploads"
etag_one=$(blob_put pub rand4m /tmp/rand4m)
etag_blk=$(blob_put pub rand4m-blocks /tmp/rand4m --block-size $((1 << 20)))
etag_img=$(blob_put pub dataset.erofs /tmp/dataset.erofs --block-size $((1 << 20)))
blob_put priv secret /tmp/rand4m >/dev/null
echo "etags: $etag_one $etag_blk $etag_img"
[[ $etag_one =~ ^\"0x[0-9A-F]+\"$ ]] || die "Put Blob printed '$etag_one', not an ETag"

# The signer is really checked: a wrong key (valid base64) is refused.
bad_key=$(head -c 64 /dev/urandom | base64 -w0)
if AZURE_STORAGE_KEY=$bad_key node "$blob_put_js" put /tmp/rand4m "$(blob_url pub wrong-key)" \
	2>/tmp/wrong-key.err; then
	die "an upload signed with a wrong key was accepted"
fi
grep -q ' 403 ' /tmp/wrong-key.err || die "wrong key: expected a 403, got: $(cat /tmp/wrong-key.err)"
# ... and anonymous reads of a private container are refused.
code=$(curl -s -o /dev/null -w '%{http_code}' "$(blob_url priv secret)")
[[ $code == 403 || $code == 404 ]] || die "anonymous GET of a private blob answered $code"

# ---------------------------------------------------------------------------
step "downloads"
g0=$(azurite_requests GET)
for name in rand4m rand4m-blocks; do
	blob_get pub "$name" /tmp/back
	cmp /tmp/back /tmp/rand4m || die "$name differs from what was uploaded"
done
blob_get pub dataset.erofs /tmp/back
cmp /tmp/back /tmp/dataset.erofs || die "dataset.erofs differs from what was uploaded"
# Ranges: inside one block, across the 1 MiB block boundary, the last byte.
ranges=("4096-8191" "1048000-1049999" "$(((4 << 20) - 1))-$(((4 << 20) - 1))")
for r in "${ranges[@]}"; do
	first=${r%-*} last=${r#*-}
	blob_get pub rand4m-blocks /tmp/range "$r"
	dd if=/tmp/rand4m of=/tmp/range.want iflag=skip_bytes,count_bytes \
		skip="$first" count=$((last - first + 1)) status=none
	assert_eq "$(stat -c %s /tmp/range)" "$((last - first + 1))" "bytes of range $r"
	cmp /tmp/range /tmp/range.want || die "range $r differs"
done
g1=$(azurite_requests GET)
assert_eq "$((g1 - g0))" "$((3 + ${#ranges[@]}))" "GET requests Azurite counted"
assert_eq "$(azurite_requests GET /pub/rand4m-blocks)" "$((1 + ${#ranges[@]}))" "GETs of rand4m-blocks"
reqlog=$(azurite_request_log)
grep -q "^GET .*/pub/rand4m-blocks bytes=4096-8191$" <<<"$reqlog" ||
	die "the request log has no ranged GET of rand4m-blocks: $(tail -n 5 <<<"$reqlog")"

# ---------------------------------------------------------------------------
step "pause"
azurite_pause
rc=0
curl -s -o /dev/null --max-time 2 "$(blob_url pub rand4m)" || rc=$?
assert_eq "$rc" 28 "curl against a paused Azurite (28: timed out)"
azurite_resume
blob_get pub rand4m /tmp/back
cmp /tmp/back /tmp/rand4m || die "rand4m differs after resume"

# ---------------------------------------------------------------------------
step "restart"
azurite_stop
rc=0
curl -s -o /dev/null --max-time 5 "$(blob_url pub rand4m)" || rc=$?
assert_eq "$rc" 7 "curl against a stopped Azurite (7: connection refused)"
azurite_start
etag_after=$(curl -sS --fail -I "$(blob_url pub dataset.erofs)" | tr -d '\r' | sed -n 's/^etag: //Ip')
assert_eq "$etag_after" "$etag_img" "ETag of dataset.erofs after a restart"
blob_get pub dataset.erofs /tmp/back
cmp /tmp/back /tmp/dataset.erofs || die "dataset.erofs differs after a restart"
azurite_stop
step "done"
echo "zz_blob_infra: OK"
