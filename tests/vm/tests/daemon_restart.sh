#!/bin/bash
# Reads survive the daemon being killed with SIGKILL and restarted: with a
# slow daemon (--delay-ms) fills are outstanding when it is killed; they wait
# for the next daemon, which fills them, and every reader finishes with no
# I/O error and correct data. The cache outlives the daemon: extents filled
# before the restart are hits after it, and a full re-read afterwards
# misses nothing.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

ctl=$MAICACHE_ROOT/build/user/maicachectl
filler=$MAICACHE_ROOT/build/user/mc-filler
pcheck=$MAICACHE_ROOT/build/user/mc-pattern-check
fpid=""
devs=()
readers=()

cleanup() {
	local id p
	for p in "${readers[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [[ -n $fpid ]]; then
		kill -TERM "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
	fi
	for id in "${devs[@]}"; do
		"$ctl" remove "$id" 2>/dev/null || true
	done
}
trap cleanup EXIT

stat_of() { cat "/sys/block/maicache$1/maicache/$2"; }

start_filler() {
	local i
	"$filler" --quiet "$@" &
	fpid=$!
	for ((i = 0; i < 100; i++)); do
		if "$ctl" --json pool | grep -q "\"daemon_attached\":true,\"daemon_pid\":$fpid,"; then
			return 0
		fi
		kill -0 "$fpid" 2>/dev/null || die "mc-filler $* exited at start"
		sleep 0.1
	done
	die "mc-filler $* did not attach"
}

# The value of KEY in an mc-filler --stats-file.
fstat() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

cookie=0xdead01
mib=$((1 << 20))
size=$((32 * mib))
"$ctl" add --id 0 --size "$size" --cookie "$cookie" >/dev/null
devs+=(0)

# 1. Warm the first 8 MiB with a fast daemon.
start_filler --pattern --stats-file /tmp/f1.stats
"$pcheck" /dev/maicache0 "$cookie" --length 8M >/dev/null || die "warm-up read failed"
assert_eq "$(stat_of 0 misses)" 8 "warm-up misses"
kill -TERM "$fpid"
wait "$fpid" || die "first mc-filler failed"
fpid=""

# 2. A slow daemon, four readers over the cold 24 MiB plus one re-reading
#    the warm 8 MiB, and the daemon killed while fills are in flight.
start_filler --pattern --delay-ms 1000 --stats-file /tmp/f2.stats
for q in 0 1 2 3; do
	"$pcheck" /dev/maicache0 "$cookie" --offset $(((8 + 6 * q) * mib)) --length 6M \
		--bs 512K >"$MAICACHE_OUT/reader$q.log" 2>&1 &
	readers+=($!)
done
sleep 1.5
h_before=$(stat_of 0 hits)
"$pcheck" /dev/maicache0 "$cookie" --length 8M --bs 256K >/dev/null ||
	die "re-read of the warm extents failed while the daemon is slow"
h_after=$(stat_of 0 hits)
# 32 reads, each a hit (the cold readers may add more).
((h_after - h_before >= 32)) || die "re-read of the warm extents: $((h_after - h_before)) hits"
for p in "${readers[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a reader finished before the daemon was killed: delay too short"
done
killed=$fpid
kill -KILL "$killed"
wait "$killed" 2>/dev/null || true
fpid=""
m_kill=$(stat_of 0 misses)
filled_kill=$(stat_of 0 bytes_filled)
echo "daemon $killed killed: misses $m_kill, bytes filled $filled_kill"
((filled_kill < size)) || die "everything was filled before the kill: nothing was in flight"
"$ctl" pool
"$ctl" --json pool | grep -q '"daemon_attached":false' || die "pool still shows a daemon after SIGKILL"
# misses counts fills started, bytes_filled the ones the daemon completed.
((m_kill > filled_kill / mib)) || die "no fill was outstanding at the kill"

# The warm extents stay hits with no daemon at all.
h_before=$(stat_of 0 hits)
"$pcheck" /dev/maicache0 "$cookie" --length 8M >/dev/null || die "warm read with no daemon failed"
((($(stat_of 0 hits)) >= h_before + 8)) || die "warm read with no daemon did not hit"
assert_eq "$(stat_of 0 misses)" "$m_kill" "misses of the warm read with no daemon"

sleep 1
for p in "${readers[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a reader finished while no daemon was attached"
done
start_filler --pattern --delay-ms 50 --stats-file /tmp/f3.stats
rc=0
for q in "${!readers[@]}"; do
	wait "${readers[q]}" || rc=$?
	cat "$MAICACHE_OUT/reader$q.log"
	((rc == 0)) || die "reader $q failed (exit $rc) across the daemon restart"
done
readers=()
kill -TERM "$fpid"
wait "$fpid" || die "third mc-filler failed"
fpid=""
n3=$(fstat /tmp/f3.stats misses)
echo "the new daemon filled $n3 misses"
((n3 > 0)) || die "the new daemon filled nothing"
assert_eq "$(stat_of 0 misses)" 32 "misses: one per extent, none repeated"
assert_eq "$(stat_of 0 fill_errors)" 0 "fill errors"

# 3. Everything is cached: a full re-read with no daemon misses nothing.
h=$(stat_of 0 hits)
"$pcheck" /dev/maicache0 "$cookie" >/dev/null || die "full re-read failed"
assert_eq "$(stat_of 0 misses)" 32 "misses after the full re-read"
((($(stat_of 0 hits)) >= h + 32)) || die "full re-read: too few hits"
"$ctl" stats 0
"$ctl" remove 0
devs=()
echo "daemon_restart: OK"
