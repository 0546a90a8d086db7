#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# Cold reads from Blob, inside the VM: the same blob read (a) through a
# fresh maicache device (every extent a miss: one ranged GET each, by
# maicached) and (b) with plain parallel ranged GETs by curl, the ceiling
# of what any client gets from this Azurite. Both at the same parallelism
# and request size, in one boot; prints MB/s and the ratio.
#
# Run by tools/bench/run-bench.sh --blob; alone:
#   tests/vm/run.sh --kernel KVER tools/bench/blob-cold.sh [SIZE_MB] [PAR]
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

size_mb=${1:-64}
par=${2:-16}
ext=$((1 << 20))
n=$((size_mb))

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

head -c $((size_mb << 20)) /dev/urandom >/tmp/cold.img
azurite_start >/dev/null
blob_mkcontainer bench --public blob
blob_put bench cold.img /tmp/cold.img >/dev/null
url=$(blob_url bench cold.img)
rm -f /tmp/cold.img

# Azurite (Node.js) compiles its hot paths on the first requests: warm it
# up so that neither measurement pays for that.
for ((i = 0; i < 32; i++)); do
	curl -sS --fail -o /dev/null -r 0-$((ext - 1)) "$url" || die "warm-up GET failed"
done

# (b) curl: one process, $n ranged GETs of 1 MiB, $par at a time over
#     reused connections, bodies discarded.
args=()
for ((i = 0; i < n; i++)); do
	((i == 0)) || args+=(--next)
	args+=(-sS --fail -o /dev/null -r "$((i * ext))-$((i * ext + ext - 1))" "$url")
done
t0=$EPOCHREALTIME
curl --parallel --parallel-max "$par" "${args[@]}" || die "curl failed"
curl_s=$(secs_since "$t0")

# (a) maicache: a fresh device, read once with $par 1 MiB reads in flight.
max=$((par > 16 ? par : 16))
start_daemon --set max_parallel="$max"
dev=$(attach "$url" --extent-size 1M --anonymous)
t0=$EPOCHREALTIME
fio --name=cold --filename="$dev" --rw=read --bs=1M --iodepth="$par" --ioengine=io_uring \
	--direct=1 --size=$((size_mb << 20)) --eta=never --output=/tmp/fio-cold.log ||
	{ cat /tmp/fio-cold.log; die "fio failed"; }
mc_s=$(secs_since "$t0")
gets=$(daemon_stat blob_gets)
assert_eq "$gets" "$n" "GETs of the cold read"

bytes=$((size_mb << 20))
echo "== blob cold read, $size_mb MiB, 1 MiB ranges, $par in flight, $(uname -r)"
echo "curl, parallel ranged GETs:      $(mbps $bytes "$curl_s") MB/s"
echo "maicache cold (GET per extent):  $(mbps $bytes "$mc_s") MB/s ($gets GETs)"
awk -v c="$curl_s" -v m="$mc_s" 'BEGIN { printf "maicache / curl:                 %.2fx\n", c / m }'
"$ctl" detach "$dev"
stop_daemon
