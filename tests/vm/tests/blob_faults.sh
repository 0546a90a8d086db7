#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# Blob sources when things go wrong:
#  1. the blob is overwritten under an attached device: extents already
#     cached still read (one version), reads that need a GET fail with EIO,
#     the device is marked stale (sysfs, list) and a device-stale event goes
#     out; data from two versions is never mixed;
#  2. Azurite is stopped in the middle of a read: the daemon retries, the
#     read fails cleanly with EIO once the read deadline has passed, and
#     reads work again once Azurite is back;
#  3. the daemon is killed with SIGKILL while GETs hang and restarted: the
#     reader sees no error and correct data (aio engine here; the others
#     run io_uring);
#  4. SIGTERM while a re-attach waits for Blob: a clean exit.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"
trap mc_cleanup EXIT

mib=$((1 << 20))
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"
azurite_start
blob_mkcontainer data

# same_bytes DEV FILE OFF LEN: DEV and FILE agree on [OFF, OFF + LEN).
# (The VM has no /dev/fd: no process substitution.)
same_bytes() {
	dd if="$1" of=/tmp/got bs=64K skip=$(($3 / 65536)) count=$(($4 / 65536)) iflag=direct status=none &&
		dd if="$2" of=/tmp/want bs=64K skip=$(($3 / 65536)) count=$(($4 / 65536)) status=none &&
		cmp /tmp/got /tmp/want
}

# The test reads some extents and expects the rest uncached: none fetched ahead.
readahead_off

# ---------------------------------------------------------------------------
# 1. Overwritten blob.
head -c $((4 * mib)) /dev/urandom >/tmp/v1.img
head -c $((4 * mib)) /dev/urandom >/tmp/v2.img
blob_put data changing.img /tmp/v1.img >/dev/null
start_daemon --engine io_uring
dev=$(attach "$(blob_url data changing.img)" --extent-size 64K --name changing)
id=$(dev_id "$dev")
"$ctl" monitor >/tmp/events.log 2>&1 &
bgpids+=($!)
same_bytes "$dev" /tmp/v1.img 0 $((2 * mib)) || die "first half differs before the overwrite"
blob_put data changing.img /tmp/v2.img >/dev/null
dd if="$dev" of=/dev/null bs=64K skip=32 count=32 iflag=direct status=none 2>/tmp/dd.err &&
	die "a read of uncached extents worked after the blob changed"
grep -q "Input/output error" /tmp/dd.err || die "the failed read did not say EIO: $(cat /tmp/dd.err)"
assert_eq "$(cat "/sys/block/maicache$id/maicache/stale")" 1 "sysfs stale"
"$ctl" list | grep -q "STALE" || { "$ctl" list; die "list does not show the device stale"; }
"$ctl" --json list | grep -q '"stale":true' || die "JSON list does not show stale"
grep -q "is stale" "$dlog" || die "the daemon did not log the stale device"
# The cached half is the old version, whole; the rest stays refused.
same_bytes "$dev" /tmp/v1.img 0 $((2 * mib)) || die "cached extents changed after the overwrite"
! dd if="$dev" of=/dev/null bs=64K skip=40 count=1 iflag=direct status=none 2>/dev/null ||
	die "an uncached extent of a stale device was read"
sleep 0.5
grep -q "device-stale.*maicache$id" /tmp/events.log ||
	{ cat /tmp/events.log; die "no device-stale event"; }
# A restart keeps it stale.
stop_daemon
start_daemon --engine io_uring
"$ctl" list | grep -q "name changing, stale" || { "$ctl" list; die "stale lost across a restart"; }
"$ctl" detach changing
# Attached again, it serves the new version.
dev=$(attach "$(blob_url data changing.img)" --extent-size 64K)
cmp "$dev" /tmp/v2.img || die "the re-attached device does not read the new version"
"$ctl" detach "$dev"
stop_daemon
echo "overwrite: stale, no mixing OK"

# ---------------------------------------------------------------------------
# 2. Azurite stopped in the middle of a read.
head -c $((8 * mib)) /dev/urandom >/tmp/b.img
blob_put data b.img /tmp/b.img >/dev/null
start_daemon --engine io_uring --set request_timeout=1s --set read_deadline=4s \
	--set backoff_base=100ms --set backoff_max=500ms --set max_retries=20
dev=$(attach "$(blob_url data b.img)" --extent-size 256K)
same_bytes "$dev" /tmp/b.img 0 $((2 * mib)) || die "read before the outage differs"
azurite_stop
t0=$EPOCHREALTIME
dd if="$dev" of=/dev/null bs=256K skip=8 count=8 iflag=direct status=none 2>/tmp/dd.err &&
	die "a read worked with Azurite stopped"
ms=$(ms_since "$t0")
grep -q "Input/output error" /tmp/dd.err || die "outage: not EIO: $(cat /tmp/dd.err)"
echo "outage: EIO after $ms ms"
((ms >= 3000)) || die "outage: EIO after $ms ms, before the 4 s deadline: no retries?"
(($(daemon_stat blob_retries) > 0)) || die "outage: no retries counted"
(($(daemon_stat blob_errors) > 0)) || die "outage: no failed read counted"
azurite_start
same_bytes "$dev" /tmp/b.img $((2 * mib)) $((6 * mib)) || die "read after the outage differs"
"$ctl" detach "$dev"
stop_daemon
echo "outage: retries, EIO, recovery OK"

# ---------------------------------------------------------------------------
# 3. The daemon killed while its GETs hang, then restarted.
rm -rf "$mc_state"
start_daemon --engine aio
dev=$(attach "$(blob_url data b.img)" --extent-size 256K --name killme)
azurite_pause
dd if="$dev" of=/tmp/killed.out bs=1M count=8 iflag=direct status=none 2>/tmp/dd.err &
reader=$!
bgpids+=("$reader")
sleep 2
kill -0 "$reader" 2>/dev/null || die "the reader finished while Azurite was paused"
(($(daemon_stat inflight) > 0)) || die "no fill in flight at the kill"
kill_daemon
azurite_resume
start_daemon --engine aio
wait "$reader" || die "the reader failed across the daemon's SIGKILL: $(cat /tmp/dd.err)"
cmp /tmp/killed.out /tmp/b.img || die "data read across the SIGKILL differs"
echo "SIGKILL mid-read: no I/O error OK"

# 4. SIGTERM while the re-attach of a volume still waits for Blob: a clean
#    exit, and the next daemon re-attaches it.
stop_daemon
azurite_pause
start_daemon --engine aio
"$ctl" list | grep -q "name killme, opening" || { "$ctl" list; die "the volume is not opening"; }
out=$("$ctl" detach killme 2>&1) && die "detach worked while the source was opening"
grep -q "still opening" <<<"$out" || die "detach while opening: '$out'"
stop_daemon
azurite_resume
start_daemon --engine aio
"$ctl" list | grep -q "name killme, ready" || { "$ctl" list; die "not re-attached after the stop"; }
"$ctl" detach killme
stop_daemon
echo "SIGTERM while re-attaching: clean OK"
