#!/bin/bash
# Scan resistance of the REAL module: runs INSIDE a tests/vm/run.sh VM.
#
# A small pool, a device much larger than the pool (1 MiB extents, mc-filler
# --pattern), and policy-sim's trace replayed on it by scan-replay: a hot set
# of H extents read with random 4 KiB O_DIRECT reads, interleaved with a
# one-pass sequential scan of the S other extents in 128 KiB reads. Every
# access is classified hit/miss from the device's counters. The same trace
# (same generator, same seed) goes through build/user/policy-sim, which
# replays it against kmod/policy.c (S3-FIFO) and a plain LRU of the same
# capacity: the module should match the S3-FIFO simulation, and the table
# shows how far LRU falls behind on the hot set.
#
# Usage:
#   tools/bench/run-bench.sh --no-hit --scan [--kernel KVER]   # builds, runs, collects
#   tests/vm/run.sh --kernel KVER --timeout 1800 tools/bench/scan-trace.sh \
#       [--pool-mb 64] [--hot 40] [--scan 984] [--mix "90 50"] [--seeds "1 2"]
# Output: stdout and $MAICACHE_OUT/scan.txt; per-access logs in $MAICACHE_OUT.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

POOL_MB=64
HOT=40
SCAN=984
MIXES="90 50"
SEEDS="1 2"
while (($#)); do
	case $1 in
	--pool-mb) POOL_MB=${2:?}; shift 2 ;;
	--hot) HOT=${2:?}; shift 2 ;;
	--scan) SCAN=${2:?}; shift 2 ;;
	--mix) MIXES=${2:?}; shift 2 ;;
	--seeds) SEEDS=${2:?}; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
((POOL_MB % 4 == 0)) || die "--pool-mb must be a multiple of 4 (segments)"
CAP=$POOL_MB	# 1 MiB extents: one slot per MiB of pool
SIZE_MB=$((HOT + SCAN))
COOKIE=0x5ca9

ctl=$MAICACHE_ROOT/build/user/maicachectl
filler=$MAICACHE_ROOT/build/user/mc-filler
sim=$MAICACHE_ROOT/build/user/policy-sim
out=$MAICACHE_OUT
report=$out/scan.txt
: >"$report"
say() { printf '%s\n' "$*" | tee -a "$report"; }

replay=$MAICACHE_ROOT/build/bench/scan-replay
if [[ ! -x $replay || $replay -ot $MAICACHE_ROOT/tools/bench/scan-replay.c ]]; then
	replay=/tmp/scan-replay
	cc -O2 -Wall -Wextra -Werror -std=gnu11 -I "$MAICACHE_ROOT/tools/sim" -o "$replay" \
		"$MAICACHE_ROOT/tools/bench/scan-replay.c" || die "cannot build scan-replay"
fi
[[ -x $sim ]] || die "no $sim: run make user"

filler_pid=""
cleanup() {
	"$ctl" remove 0 >/dev/null 2>&1 || true
	if [[ -n $filler_pid ]]; then
		kill -TERM "$filler_pid" 2>/dev/null || true
		wait "$filler_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# The pool first (it cannot change once a daemon maps it or a device exists).
"$ctl" pool --size "${POOL_MB}M" >/dev/null
"$filler" --pattern --quiet &
filler_pid=$!
for _ in $(seq 100); do
	"$ctl" --json pool | grep -q '"daemon_attached":true' && break
	sleep 0.1
done
"$ctl" --json pool | grep -q '"daemon_attached":true' || die "mc-filler did not attach"

say "# maicache scan resistance: real module vs policy-sim"
say "kernel $(uname -r); pool $POOL_MB MiB = $CAP slots of 1 MiB; device $SIZE_MB MiB; hot set $HOT extents ($((HOT * 100 / CAP))% of the pool), scan $SCAN extents ($(awk -v s="$SCAN" -v c="$CAP" 'BEGIN {printf "%.1f", s / c}')x the pool)"
say ""
say "| readahead_kb | mix | seed | accesses | hot accesses | hot-set hits maicache (real) | S3-FIFO sim | LRU sim | maicache/LRU | all accesses maicache | S3-FIFO sim | LRU sim |"
say "|---|---|---|---|---|---|---|---|---|---|---|---|"
# Readahead off: the module against the simulation of the same policy,
# access for access. On (the default): extents fetched ahead of the scan
# enter the small FIFO and must not push the hot set out.
ra_param=/sys/module/maicache/parameters/readahead_kb
ra_default=$(cat "$ra_param")
for ra in 0 "$ra_default"; do
echo "$ra" >"$ra_param"
for mix in $MIXES; do
	for seed in $SEEDS; do
		# A fresh device per trace: an empty cache and fresh ghost keys.
		"$ctl" add --size "${SIZE_MB}M" --cookie "$COOKIE" --extent-size 1M --id 0 >/dev/null
		[[ -b /dev/maicache0 ]] || die "/dev/maicache0 did not appear"
		real=$("$replay" --dev /dev/maicache0 -c "$CAP" -H "$HOT" -s "$SCAN" -m "$mix" \
			-r "$seed" --cookie "$COOKIE" --log "$out/access-ra$ra-m$mix-r$seed.log")
		simout=$("$sim" -c "$CAP" -H "$HOT" -s "$SCAN" -m "$mix" -r "$seed")
		run=$out/run-ra$ra-m$mix-r$seed.txt
		printf 'readahead_kb %s\n%s\n%s\n' "$ra" "$real" "$simout" >"$run"
		"$ctl" stats 0 >>"$run"
		"$ctl" remove 0 >/dev/null

		grep -q 'data check: 0 bad reads' <<<"$real" || die "bad data: $real"
		# Both print the same trace line: same parameters, same length.
		tr_real=$(grep '^trace' <<<"$real" | sed 's/ mix=.*//')
		tr_sim=$(grep '^trace' <<<"$simout")
		[[ $tr_real == "$tr_sim" ]] || die "trace mismatch: '$tr_real' vs '$tr_sim'"
		acc=$(sed -n 's/.*accesses=\([0-9]*\).*/\1/p' <<<"$tr_sim")
		hot_n=$(sed -n 's/^hot-set accesses \([0-9]*\),.*/\1/p' <<<"$real")
		hot_real=$(sed -n 's/.*hit ratio maicache \([0-9.]*\)$/\1/p' <<<"$real")
		all_real=$(sed -n 's/^maicache hit ratio \([0-9.]*\)$/\1/p' <<<"$real")
		hot_s3=$(sed -n 's/^hot-set hit ratio s3fifo \([0-9.]*\) lru .*/\1/p' <<<"$simout")
		hot_lru=$(sed -n 's/^hot-set hit ratio s3fifo .* lru \([0-9.]*\)$/\1/p' <<<"$simout")
		all_s3=$(sed -n 's/^s3fifo hit ratio \([0-9.]*\)$/\1/p' <<<"$simout")
		all_lru=$(sed -n 's/^lru    hit ratio \([0-9.]*\)$/\1/p' <<<"$simout")
		say "$(awk -v ra="$ra" -v m="$mix" -v r="$seed" -v a="$acc" -v hn="$hot_n" -v hr="$hot_real" \
			-v hs="$hot_s3" -v hl="$hot_lru" -v ar="$all_real" -v as="$all_s3" -v al="$all_lru" \
			'BEGIN {printf "| %s | %s%% | %s | %s | %s | %.3f | %.3f | %.3f | %.2f | %.3f | %.3f | %.3f |",
				ra, m, r, a, hn, hr, hs, hl, (hl > 0 ? hr / hl : 0), ar, as, al}')"
	done
done
done
echo "$ra_default" >"$ra_param"
say ""
say "hot-set hits: fraction of the hot set's random 4 KiB reads that hit (cold first"
say "misses of the $HOT hot extents included); maicache (real) is classified per access from"
say "/sys/block/maicache0/maicache/misses less prefetched (an access that finds its extent"
say "fetched ahead is a hit); the simulations replay the identical trace, without readahead."
say ""
say "per-run details (scan-replay, policy-sim, maicachectl stats):"
cat "$out"/run-ra*-m*-r*.txt | tee -a "$report" >/dev/null
