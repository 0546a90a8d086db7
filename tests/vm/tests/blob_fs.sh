#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# Filesystems on blob volumes, the real job: a generated dataset (many small
# files, a few large ones) made into an ext4 image and an erofs image,
# uploaded to Azurite, attached, mounted read-only; every file's sha256
# matches, cold and again warm (page cache dropped) with no new GET.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"

mounts=()
unmount_all() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null || true
	done
}
cleanup_hooks=(unmount_all "${cleanup_hooks[@]}")
trap mc_cleanup EXIT

data=/tmp/dataset
"$MAICACHE_ROOT/tests/blob/make-dataset.sh" --small 400 --large 2 --large-mib 4-6 "$data" 42
modprobe erofs 2>/dev/null || true
azurite_start
blob_mkcontainer images
start_daemon
for fs in ext4 erofs; do
	"$MAICACHE_ROOT/tests/blob/make-image.sh" "$fs" "$data" "/tmp/$fs.img" >/dev/null
	blob_put images "dataset.$fs" "/tmp/$fs.img" >/dev/null
	rm -f "/tmp/$fs.img"
	dev=$(attach "$(blob_url images "dataset.$fs")" --name "dataset-$fs")
	mkdir -p "/tmp/mnt/$fs"
	mount -t "$fs" -o ro "$dev" "/tmp/mnt/$fs" || die "cannot mount the $fs image from $dev"
	mounts+=("/tmp/mnt/$fs")
	(cd "/tmp/mnt/$fs" && sha256sum --quiet -c SHA256SUMS) || die "$fs: sha256 mismatch (cold)"
	id=$(dev_id "$dev")
	fills_settle "$id"
	m=$(stat_of "$id" misses)
	g=$(daemon_stat blob_gets)
	echo 3 >/proc/sys/vm/drop_caches
	(cd "/tmp/mnt/$fs" && sha256sum --quiet -c SHA256SUMS) || die "$fs: sha256 mismatch (warm)"
	assert_eq "$(stat_of "$id" misses)" "$m" "$fs: misses of the warm pass"
	assert_eq "$(daemon_stat blob_gets)" "$g" "$fs: GETs of the warm pass"
	echo "$fs: $(wc -l <"$data/SHA256SUMS") files verified cold and warm; $m extents fetched"
done
unmount_all
mounts=()
echo "ext4 and erofs images from Blob: every file matches"
