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
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT

# Extents fetched ahead would be warm before their turn.
readahead_off
cookie=0xdead01
mib=$((1 << 20))
size=$((32 * mib))
add_dev 0 "$size" "$cookie"

# 1. Warm the first 8 MiB with a fast daemon.
start_filler --pattern --stats-file /tmp/f1.stats
"$pcheck" /dev/maicache0 "$cookie" --length 8M >/dev/null || die "warm-up read failed"
assert_eq "$(stat_of 0 misses)" 8 "warm-up misses"
stop_filler

# 2. A slow daemon, four readers over the cold 24 MiB plus one re-reading
#    the warm 8 MiB, and the daemon killed while fills are in flight.
start_filler --pattern --delay-ms 1000 --stats-file /tmp/f2.stats
for q in 0 1 2 3; do
	"$pcheck" /dev/maicache0 "$cookie" --offset $(((8 + 6 * q) * mib)) --length 6M \
		--bs 512K >"$MAICACHE_OUT/reader$q.log" 2>&1 &
	bgpids+=($!)
done
sleep 1.5
h_before=$(stat_of 0 hits)
"$pcheck" /dev/maicache0 "$cookie" --length 8M --bs 256K >/dev/null ||
	die "re-read of the warm extents failed while the daemon is slow"
h_after=$(stat_of 0 hits)
# 32 reads, each a hit (the cold readers may add more).
((h_after - h_before >= 32)) || die "re-read of the warm extents: $((h_after - h_before)) hits"
for p in "${bgpids[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a reader finished before the daemon was killed: delay too short"
done
killed=$fpid
kill_filler
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
for p in "${bgpids[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a reader finished while no daemon was attached"
done
start_filler --pattern --delay-ms 50 --stats-file /tmp/f3.stats
rc=0
for q in "${!bgpids[@]}"; do
	wait "${bgpids[q]}" || rc=$?
	cat "$MAICACHE_OUT/reader$q.log"
	((rc == 0)) || die "reader $q failed (exit $rc) across the daemon restart"
done
bgpids=()
stop_filler
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
remove_dev 0
echo "daemon_restart: OK"
