#!/bin/bash
# shellcheck disable=SC2119 # start_daemon takes optional arguments
# Detach and remove of a device with a mounted file system (erofs from a
# file source). Without --force both are refused with a message that names
# the device, the mount and --force, and the mount reads on; unmounted, the
# detach works. With --force the device goes at once and the mount's reads
# fail with EIO rather than hang, and the umount works. With no daemon and
# reads of the mount waiting for one, remove --force ends them with EIO in
# seconds (not after daemon_timeout_ms). rmmod then works.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"

mnt=/tmp/mnt
unmount() { umount -l "$mnt" 2>/dev/null || true; }
cleanup_hooks=(unmount "${cleanup_hooks[@]}")
trap mc_cleanup EXIT

"$MAICACHE_ROOT/tests/blob/make-dataset.sh" --small 20 --large 2 --large-mib 1-2 /tmp/dataset 5 >/dev/null
"$MAICACHE_ROOT/tests/blob/make-image.sh" erofs /tmp/dataset /tmp/ds.erofs >/dev/null
mkdir -p "$mnt"
sums_ok() { (cd "$mnt" && sha256sum --quiet -c SHA256SUMS); }

# attach_mounted: a fresh device of the image, mounted; sets dev and id.
attach_mounted() {
	dev=$(attach file:///tmp/ds.erofs --name ds --extent-size 64K)
	id=$(dev_id "$dev")
	mount -t erofs -o ro "$dev" "$mnt" || die "cannot mount $dev"
}

# refused WHAT OUTPUT: a refusal that names the device, the mount and --force.
refused() {
	grep -q "$dev is mounted or held by another exclusive user: unmount it first, or use --force" <<<"$2" ||
		die "$1 refused with '$2'"
	[[ -b $dev ]] || die "$dev is gone after a refused $1"
}

start_daemon
attach_mounted
sums_ok || die "the cold read of the mount"

echo "== detach and remove refused while mounted"
out=$("$ctl" detach ds 2>&1) && die "detach of a mounted volume worked"
refused detach "$out"
out=$("$ctl" remove "$id" 2>&1) && die "remove of a mounted device worked"
refused remove "$out"
echo 3 >/proc/sys/vm/drop_caches
sums_ok || die "the mount after the refused detach and remove"
umount "$mnt"
# A plain reader does not hold the claim: only mounts and exclusive users.
exec 3<"$dev"
"$ctl" detach ds || die "detach of an unmounted volume with a plain reader open"
exec 3<&-
[[ ! -e $dev ]] || die "$dev is still there after its detach"

echo "== detach --force under a mount"
attach_mounted
files=("$mnt"/large/*)
"$ctl" detach ds --force || die "detach --force of a mounted volume"
[[ ! -e $dev ]] || die "$dev is still there after detach --force"
echo 3 >/proc/sys/vm/drop_caches
rc=0
timeout 30 cat "${files[@]}" >/dev/null 2>/tmp/read.err || rc=$?
((rc != 0 && rc != 124)) || die "a read of the mount after detach --force: exit $rc"
# EIO from the device; erofs reports a directory block it cannot read as
# EUCLEAN ("Structure needs cleaning"), with a line in the kernel log.
grep -qE "Input/output error|Structure needs cleaning" /tmp/read.err ||
	die "a read after detach --force: $(cat /tmp/read.err)"
echo "a read after detach --force: $(head -1 /tmp/read.err)"
timeout 30 umount "$mnt" || die "umount after detach --force"

echo "== no daemon, reads waiting: remove --force"
attach_mounted
kill_daemon
echo 3 >/proc/sys/vm/drop_caches
out=$("$ctl" remove "$id" 2>&1) && die "remove of a mounted device with no daemon worked"
refused remove "$out"
# The files' data was never read on this device: the reads wait for a daemon.
files=("$mnt"/large/*)
(
	rc=0
	timeout 60 cat "${files[@]}" >/dev/null 2>/tmp/wait.err || rc=$?
	echo "$rc" >/tmp/wait.rc
) &
bgpids+=($!)
sleep 2
[[ ! -e /tmp/wait.rc ]] || die "the reads ended with no daemon: exit $(cat /tmp/wait.rc), $(cat /tmp/wait.err)"
t0=$EPOCHREALTIME
"$ctl" remove "$id" --force || die "remove --force with reads waiting"
wait "${bgpids[-1]}"
ms=$(ms_since "$t0")
rc=$(cat /tmp/wait.rc)
echo "the waiting reads ended ${ms} ms after remove --force: exit $rc, $(head -c 200 /tmp/wait.err)"
((rc != 0 && rc != 124)) || die "the waiting reads: exit $rc"
((ms < 10000)) || die "the waiting reads took $ms ms to end after remove --force"
timeout 30 umount "$mnt" || die "umount after remove --force"

rmmod maicache || die "rmmod once the last device is gone"
echo "mounted devices: refused without --force, EIO and no hang with it"
