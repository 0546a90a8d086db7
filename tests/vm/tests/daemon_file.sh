#!/bin/bash
# maicached with a file source, on both event-loop engines: attach prints
# the device; its bytes are the file's (a size that is no multiple of 4 KiB
# reads zeros past the end); the second pass is served from DRAM; SIGTERM
# stops the daemon cleanly and a restart re-attaches from the state
# directory with the cache still warm; detach removes the device and the
# record; bad attaches fail with a message naming the problem. The aio
# engine also runs under a seccomp filter that blocks io_uring, as a
# container runtime's default profile does.
#
# It counts one fill per extent, so parts are off (part_fills=N): the first
# read of a pass, before any stream is seen, would fill a 64 KiB part
# (tests/vm/tests/part_fills.sh counts those).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
trap mc_cleanup EXIT
part_fills_set N

src=/tmp/src.img
size=$(((12 << 20) + 1000))
head -c "$size" /dev/urandom >"$src"
dev_size=$(((size + 4095) / 4096 * 4096))

run_engine() { # --engine VALUE, ENGINE EXPECTED [LAUNCHER...]
	local flag=$1 engine=$2 dev id m h out
	shift 2
	rm -rf "$mc_state"
	daemon_cmd=("$@" "$bin/maicached")
	start_daemon --engine "$flag"
	tail -n +"$(grep -n -- '--- start' "$dlog" | tail -1 | cut -d: -f1)" "$dlog" |
		grep -q "event loop: $engine" || die "maicached --engine $flag does not say it runs $engine"

	dev=$(attach "file://$src" --extent-size 256K --name training-set)
	id=$(dev_id "$dev")
	assert_eq "$(blockdev --getsize64 "$dev")" "$dev_size" "device size"
	cmp -n "$size" "$dev" "$src" || die "$engine: cold read differs from the file"
	[[ $(tail -c $((dev_size - size)) "$dev" | tr -d '\0' | wc -c) == 0 ]] ||
		die "$engine: bytes past the end of the file are not zeros"
	m=$(stat_of "$id" misses)
	assert_eq "$m" $((dev_size / (256 << 10) + 1)) "$engine: cold misses (one per extent)"
	h=$(stat_of "$id" hits)
	cmp -n "$size" "$dev" "$src" || die "$engine: warm read differs"
	assert_eq "$(stat_of "$id" misses)" "$m" "$engine: misses of the warm pass"
	(($(stat_of "$id" hits) > h)) || die "$engine: the warm pass did not hit"
	"$ctl" list | grep -q "source file://$src (file, none auth) name training-set, ready" ||
		{ "$ctl" list; die "$engine: list does not show the source"; }
	"$ctl" --json stats "$id" | grep -q "\"fill_bytes\":$dev_size" ||
		{ "$ctl" --json stats "$id"; die "$engine: the daemon's fill_bytes is not the device size"; }

	# SIGTERM, restart: the volume comes back, the cache is still warm.
	stop_daemon
	grep -q "maicached: stopped" "$dlog" || die "no clean stop in the log"
	start_daemon --engine "$flag"
	"$ctl" list | grep -q "name training-set, ready" || { "$ctl" list; die "$engine: not re-attached"; }
	cmp -n "$size" "$dev" "$src" || die "$engine: read after restart differs"
	assert_eq "$(stat_of "$id" misses)" "$m" "$engine: misses after restart"

	# Errors name the problem.
	out=$("$ctl" peers 2>&1) && die "peers worked on a daemon in no group"
	grep -q "in no cache group (config key group)" <<<"$out" || die "peers outside a group: '$out'"
	out=$("$ctl" attach "file://$src" 2>&1) && die "a second attach of one source worked"
	grep -q "already attached as $dev" <<<"$out" || die "duplicate attach: '$out'"
	out=$("$ctl" attach file:///tmp/no-such-file 2>&1) && die "attach of a missing file worked"
	grep -q "/tmp/no-such-file: No such file or directory" <<<"$out" || die "missing file: '$out'"
	out=$("$ctl" attach "file://$src" --extent-size 3M 2>&1) && die "attach with a bad extent size worked"
	grep -q "extent-size" <<<"$out" || die "bad extent size: '$out'"

	"$ctl" detach training-set
	[[ ! -e $dev ]] || die "$engine: $dev still there after detach"
	[[ -z $(ls -A "$mc_state") ]] || die "$engine: state left after detach: $(ls "$mc_state")"
	stop_daemon
}

run_engine io_uring io_uring
run_engine aio aio
# A container's seccomp profile: auto falls back, and says why.
run_engine auto aio "$bin/no-uring"
grep -q "io_uring unavailable" "$dlog" || die "no-uring: the fallback was not logged"
echo "file source: both engines, restart and detach OK"
