#!/bin/bash
# The demo, inside the VM: create a cache device, fill it through the miss
# ring from the test daemon, read it cold and warm, show the counters,
# remove it.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

bin=$MAICACHE_ROOT/build/user
ctl=$bin/maicachectl
size_mb=128
cookie=0x5eed

secs() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f MB/s", b / s / 1e6 }'; }

echo "== maicache demo on $(uname -r)"
"$ctl" version
"$ctl" pool

dev=$("$ctl" add --size "${size_mb}M" --cookie "$cookie" --extent-size 1M)
id=${dev#/dev/maicache}
echo "== created $dev (${size_mb} MiB, 1 MiB extents)"

# Until the Blob daemon exists, the test daemon fills misses with a
# deterministic pattern that the checker can verify.
"$bin/mc-filler" --pattern --quiet &
filler=$!
trap 'kill $filler 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	"$ctl" --json pool | grep -q '"daemon_attached":true' && break
	sleep 0.1
done

read_all() {
	local t0 t1
	t0=$(secs)
	dd if="$dev" of=/dev/null bs=1M iflag=direct status=none
	t1=$(secs)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

cold=$(read_all)
warm=$(read_all)
"$bin/mc-pattern-check" "$dev" "$cookie" >/dev/null || die "data mismatch"

bytes=$((size_mb << 20))
echo "== read $bytes bytes twice; data verified against the pattern"
echo "cold (misses filled by the daemon): $(rate $bytes "$cold")"
echo "warm (served from DRAM in the kernel): $(rate $bytes "$warm")"
awk -v c="$cold" -v w="$warm" 'BEGIN { printf "warm/cold speed-up: %.1fx\n", c / w }'
"$ctl" stats "$id"

kill "$filler"
wait "$filler" || true
trap - EXIT
"$ctl" remove "$id"
[ ! -e "$dev" ] || die "$dev still exists after remove"
echo "== removed $dev"
