#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# One daemon per node, and a clean hand-over at shutdown:
#  1. a second maicached, started while one runs, stops on the ring's EBUSY
#     before anything else: strace shows it opened no netlink or network
#     socket, Azurite sees no request, and the first daemon goes on;
#  2. SIGTERM while GETs hang past shutdown_grace: the daemon cancels its
#     fills before it unmaps the pool, exits 0 without waiting for Blob, and
#     posts no completion for them, so the reader sees no error and the next
#     daemon serves the right bytes.
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

command -v strace >/dev/null || die "strace is missing (make deps installs it)"
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"
azurite_start
blob_mkcontainer data
head -c $((8 << 20)) /dev/urandom >/tmp/x.img
blob_put data x.img /tmp/x.img >/dev/null
start_daemon --engine io_uring
dev=$(attach "$(blob_url data x.img)" --extent-size 256K --name x)
first=$dpid

# 1. A second daemon, with the same state directory (its volume would be
#    re-attached with a Get Blob Properties if it got that far).
a0=$(azurite_requests)
if out=$(strace -f -e trace=socket -o /tmp/second.strace "$bin/maicached" \
	--set socket=/tmp/second.sock --set state_dir="$mc_state" 2>&1); then
	die "a second daemon started: $out"
fi
grep -q "another daemon is attached" <<<"$out" || die "second daemon said '$out'"
if grep -E 'AF_NETLINK|AF_INET' /tmp/second.strace; then
	die "the second daemon opened a socket before stopping"
fi
assert_eq "$(azurite_requests)" "$a0" "Azurite requests during the second daemon's start"
assert_eq "$(daemon_stat pid)" "$first" "the daemon answering after the second one stopped"
[[ ! -e /tmp/second.sock ]] || die "the second daemon made a control socket"
echo "second daemon: stopped on EBUSY before netlink and Blob OK"

# 2. SIGTERM with fills hanging on Blob past the grace.
stop_daemon
start_daemon --engine io_uring --set shutdown_grace=1s
azurite_pause
dd if="$dev" of=/tmp/x.out bs=1M count=8 iflag=direct status=none 2>/tmp/dd.err &
reader=$!
bgpids+=("$reader")
sleep 2
kill -0 "$reader" 2>/dev/null || die "the reader finished while Azurite was paused"
(($(daemon_stat inflight) > 0)) || die "no fill in flight at SIGTERM"
t0=$EPOCHREALTIME
stop_daemon
ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
((ms < 8000)) || die "SIGTERM took $ms ms with a grace of 1 s"
grep -q "still running after 1000 ms: cancelling them for the next daemon" "$dlog" ||
	die "no cancellation in the log"
grep -qE "[0-9]+ fills cancelled, 0 still running" "$dlog" || die "fills left running at unmap"
kill -0 "$reader" 2>/dev/null || die "the reader ended when the daemon stopped: $(cat /tmp/dd.err)"
azurite_resume
start_daemon --engine io_uring
wait "$reader" || die "the reader failed across SIGTERM: $(cat /tmp/dd.err)"
cmp /tmp/x.out /tmp/x.img || die "data read across SIGTERM differs"
echo "SIGTERM with hung fills: cancelled before unmap, no I/O error OK"
"$ctl" detach x
stop_daemon
