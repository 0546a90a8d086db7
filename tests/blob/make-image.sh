#!/bin/bash
# Build a read-only file system image of a directory, without mounting:
#
#   tests/blob/make-image.sh ext4|erofs DIR IMAGE
#
# ext4: mke2fs -d copies DIR in, with no journal (the image is only ever
# read), root-owned, 4 KiB blocks, no reserved blocks; the size is the
# data's blocks plus inode tables and a margin, and the result is checked
# with e2fsck. erofs: mkfs.erofs, uncompressed, all files root-owned.
# Both get a fixed UUID and timestamps: an erofs image depends only on the
# files (names are sorted), an ext4 one also on the order readdir gives
# them. Both are padded to a multiple of 4096 bytes, so that a block device
# with 4 KiB blocks serves the image whole.
#
# Prints the image's size in bytes.
set -euo pipefail

die() { printf 'make-image: %s\n' "$*" >&2; exit 1; }
(($# == 3)) || { sed -n '4p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
type=$1 dir=$2 image=$3
[[ -d $dir ]] || die "$dir is not a directory"
[[ ! -e $image || -f $image ]] || die "$image exists and is not a regular file"

# Fixed identity and times: the image does not change with the clock.
uuid=6d616963-6163-6865-0000-000000000001
epoch=1700000000

pad4k() {
	local size
	size=$(stat -c %s "$1")
	truncate -s $(((size + 4095) / 4096 * 4096)) "$1"
}

make_ext4() {
	local files dirs blocks inodes size_kib
	files=$(find "$dir" -type f | wc -l)
	dirs=$(find "$dir" -type d | wc -l)
	# Each file's data in 4 KiB blocks, plus one block per directory.
	blocks=$(find "$dir" -type f -printf '%s\n' | awk '{b += int(($1 + 4095) / 4096)} END {print b + 0}')
	blocks=$((blocks + dirs))
	inodes=$((files + dirs + 64))
	# Inode tables (256 B each), extent tree blocks and group metadata come
	# to a few percent: an eighth more, plus 4 MiB, leaves room for them.
	size_kib=$(((blocks + blocks / 8) * 4 + inodes / 4 + 4096))
	for _ in 1 2 3; do
		size_kib=$(((size_kib + 1023) / 1024 * 1024))
		rm -f "$image"
		truncate -s "${size_kib}K" "$image"
		if E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext4 -b 4096 -m 0 -N "$inodes" \
			-O ^has_journal -U "$uuid" -E root_owner=0:0,hash_seed=$uuid -L maicache-test \
			-d "$dir" "$image" "${size_kib}k" 2>"$image.err"; then
			rm -f "$image.err"
			e2fsck -fn "$image" >"$image.err" 2>&1 || die "e2fsck found errors in $image: $(cat "$image.err")"
			rm -f "$image.err"
			return 0
		fi
		size_kib=$((size_kib * 3 / 2))
	done
	die "mke2fs failed even at ${size_kib} KiB: $(cat "$image.err")"
}

make_erofs() {
	rm -f "$image"
	mkfs.erofs --quiet --all-root -T "$epoch" -U "$uuid" "$image" "$dir" >"$image.err" 2>&1 ||
		die "mkfs.erofs failed: $(cat "$image.err")"
	rm -f "$image.err"
	pad4k "$image"
}

case $type in
ext4) make_ext4 ;;
erofs) make_erofs ;;
*) die "unknown image type '$type' (want ext4 or erofs)" ;;
esac
size=$(stat -c %s "$image")
((size % 4096 == 0)) || die "$image is $size bytes, not a multiple of 4096"
echo "$size"
