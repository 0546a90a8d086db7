#!/bin/bash
# Hit-path benchmark, run INSIDE a tests/vm/run.sh VM (one boot, one kernel):
# a warm /dev/maicache0 against brd and a memory-backed null_blk of the same
# size, with the same fio jobs, interleaved, median of N repeats.
#
# Usage (through the harness; tools/bench/run-bench.sh does this per kernel):
#   tests/vm/run.sh --kernel KVER --mem 3G --timeout 1500 \
#       tools/bench/vm-bench.sh [--size-mb N] [--runtime S] [--repeat N] [--host-cpu MODEL]
#                               [--guest-cpu MODEL]
#   --host-cpu MODEL  the host's CPU for the report: results from two machines
#                     differ with it (the guest sees only the emulated one)
#   --guest-cpu MODEL qemu's -cpu the VM was started with, for the report
#
# Output: the report on stdout and in $MAICACHE_OUT/bench.txt; raw fio JSON in
# $MAICACHE_OUT/fio/. Exits non-zero if the maicache device took a single miss
# during the measured passes (then it was not measuring the hit path).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

SIZE_MB=256	# every device
RUNTIME=10	# seconds per fio run
REPEAT=3	# runs per (workload, device); the median is reported
HOST_CPU=""
GUEST_CPU="not given (--guest-cpu)"
while (($#)); do
	case $1 in
	--size-mb) SIZE_MB=${2:?}; shift 2 ;;
	--runtime) RUNTIME=${2:?}; shift 2 ;;
	--repeat) REPEAT=${2:?}; shift 2 ;;
	--host-cpu) HOST_CPU=${2:?}; shift 2 ;;
	--guest-cpu) GUEST_CPU=${2:?}; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
POOL_MB=$((SIZE_MB + 32))	# the whole device fits, with slack
COOKIE=0x5eed

ctl=$MAICACHE_ROOT/build/user/maicachectl
filler=$MAICACHE_ROOT/build/user/mc-filler
out=$MAICACHE_OUT
report=$out/bench.txt
mkdir -p "$out/fio"
: >"$report"
say() { printf '%s\n' "$*" | tee -a "$report"; }

filler_pid=""
cleanup() {
	"$ctl" remove 0 >/dev/null 2>&1 || true
	if [[ -n $filler_pid ]]; then
		kill -TERM "$filler_pid" 2>/dev/null || true
		wait "$filler_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- devices
# brd: rd_size is in KiB.
vm_modprobe brd rd_nr=1 rd_size=$((SIZE_MB * 1024))
brd=/dev/ram0

# null_blk through configfs (module parameters only size it in whole GB).
# Memory backed, so reads copy from real pages; irqmode 0 completes in the
# submitter's context, as maicache's hits do; one hw queue per CPU like maicache.
vm_modprobe null_blk nr_devices=0
# Named nullb0: newer kernels name the disk after the configfs item, older ones
# after its index (0 here); both give /dev/nullb0.
nb=/sys/kernel/config/nullb/nullb0
mkdir "$nb"
echo "$SIZE_MB" >"$nb/size"
echo 1 >"$nb/memory_backed"
echo 512 >"$nb/blocksize"
echo 2 >"$nb/queue_mode"
echo 0 >"$nb/irqmode"
nproc >"$nb/submit_queues"
echo 128 >"$nb/hw_queue_depth"
echo 1 >"$nb/power"
null=/dev/nullb0
udevadm settle 2>/dev/null || true
[[ -b $null ]] || die "null_blk device $null did not appear"

# maicache: pool sized before any device, the pattern daemon, one device.
"$ctl" pool --size "${POOL_MB}M" >/dev/null
"$filler" --pattern --quiet &
filler_pid=$!
for _ in $(seq 100); do
	"$ctl" --json pool | grep -q '"daemon_attached":true' && break
	sleep 0.1
done
"$ctl" --json pool | grep -q '"daemon_attached":true' || die "mc-filler did not attach"
"$ctl" add --size "${SIZE_MB}M" --cookie "$COOKIE" --extent-size 1M --id 0 >/dev/null
mc=/dev/maicache0
[[ -b $mc ]] || die "$mc did not appear"
mcsys=/sys/block/maicache0/maicache

# Same queue settings everywhere: no I/O scheduler. Report the rest.
for d in "$brd" "$null" "$mc"; do
	q=/sys/block/$(basename "$d")/queue
	if [[ -w $q/scheduler ]]; then
		echo none >"$q/scheduler" 2>/dev/null || true
	fi
done

counters() {
	printf 'hits=%s misses=%s bytes_hit=%s evictions=%s fill_errors=%s' \
		"$(cat $mcsys/hits)" "$(cat $mcsys/misses)" "$(cat $mcsys/bytes_hit)" \
		"$(cat $mcsys/evictions)" "$(cat $mcsys/fill_errors)"
}

# ------------------------------------------------------------- fill / warm
# One pass over maicache (every extent misses once and is filled by the
# daemon) writes the same bytes into brd and null_blk, so all three hold
# identical, non-zero data and brd/null_blk have every page allocated.
t0=$(date +%s.%N)
dd if="$mc" of="$brd" bs=1M iflag=direct oflag=direct status=none
t1=$(date +%s.%N)
dd if="$mc" of="$null" bs=1M iflag=direct oflag=direct status=none
cmp -n $((SIZE_MB << 20)) "$mc" "$brd" || die "brd content differs from maicache"
cmp -n $((SIZE_MB << 20)) "$mc" "$null" || die "null_blk content differs from maicache"
"$MAICACHE_ROOT/build/user/mc-pattern-check" "$mc" "$COOKIE" >/dev/null ||
	die "maicache content differs from the mc-filler pattern"
warm=$(counters)

say "# maicache hit-path benchmark"
say "host: ${HOST_CPU:-not given (--host-cpu)}"
say "guest CPU: qemu -cpu $GUEST_CPU; the guest's copy features: $(guest_copy_features)"
grep -qw clearcpuid /proc/cmdline && say "guest kernel command line: $(cat /proc/cmdline)"
say "kernel $(uname -r); $(nproc) vCPU; $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo) RAM; qemu TCG (software emulation); $(fio --version)"
say "pool: $(dmesg | grep -o 'pool [a-z ]*[0-9]* MiB ([0-9]* of [0-9]* segments contiguous)' | tail -1)"
say "devices: $SIZE_MB MiB each; brd $brd, null_blk $null (memory_backed, irqmode 0, $(nproc) submit queues, depth 128), maicache $mc (extent 1 MiB, pool $POOL_MB MiB, mc-filler --pattern)"
for d in "$brd" "$null" "$mc"; do
	q=/sys/block/$(basename "$d")/queue
	nhw=0
	for h in "/sys/block/$(basename "$d")/mq"/[0-9]*; do
		[[ -d $h ]] && nhw=$((nhw + 1))
	done
	say "  $(basename "$d"): scheduler=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$q/scheduler" 2>/dev/null || echo n/a)" \
		"nr_hw_queues=$nhw" \
		"lbs=$(cat "$q/logical_block_size") max_sectors_kb=$(cat "$q/max_sectors_kb")" \
		"iostats=$(cat "$q/iostats") nomerges=$(cat "$q/nomerges") rq_affinity=$(cat "$q/rq_affinity" 2>/dev/null || echo -)"
done
say "cold fill of maicache ($SIZE_MB extents through the daemon, dd 1 MiB): $(awk -v a="$t0" -v b="$t1" -v s="$SIZE_MB" 'BEGIN {printf "%.1f s, %.1f MB/s", b - a, s * 1.048576 / (b - a)}') (includes writing brd)"
say "counters after the warming pass: $warm"

if modinfo -b "$MAICACHE_MODROOT" -k "$MAICACHE_KVER" ublk_drv >/dev/null 2>&1; then
	say "ublk: ublk_drv exists on this kernel, but no ublk server is installed (Debian 12 ships none and its 6.12 source has no selftests/ublk): skipped"
else
	say "ublk: no ublk_drv on this kernel: skipped"
fi

# ------------------------------------------------------------------ fio
# name|fio options|metric reported
WORKLOADS=(
	"randread-4k-qd1|--rw=randread --bs=4k --iodepth=1 --numjobs=1|iops"
	"randread-4k-qd32|--rw=randread --bs=4k --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=1 --numjobs=1|iops"
	"seqread-1m-qd8|--rw=read --bs=1M --iodepth=8 --numjobs=1|mbps"
)
DEVS=(brd null_blk maicache)
declare -A PATH_OF=([brd]=$brd [null_blk]=$null [maicache]=$mc)
declare -A RES_IOPS RES_MBPS RES_LAT

run_fio() {	# name opts dev rep
	local name=$1 opts=$2 dev=$3 rep=$4 json
	json=$out/fio/$name.$dev.$rep.json
	# shellcheck disable=SC2086
	fio --name="$name" --filename="${PATH_OF[$dev]}" --ioengine=io_uring \
		--direct=1 --readonly --time_based --runtime="$RUNTIME" --ramp_time=1 \
		--size="${SIZE_MB}M" --norandommap --randrepeat=0 --group_reporting \
		--output-format=json $opts >"$json" 2>"$json.err" ||
		die "fio $name on $dev failed: $(cat "$json.err")"
	RES_IOPS[$name.$dev.$rep]=$(jq '[.jobs[].read.iops] | add' "$json")
	RES_MBPS[$name.$dev.$rep]=$(jq '[.jobs[].read.bw_bytes] | add / 1e6' "$json")
	RES_LAT[$name.$dev.$rep]=$(jq '.jobs[0].read.lat_ns.mean / 1000' "$json")
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

before=$(counters)
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name opts _ <<<"$w"
	for ((rep = 1; rep <= REPEAT; rep++)); do
		# Rotate the device order each repeat so no device always goes first.
		for ((i = 0; i < ${#DEVS[@]}; i++)); do
			dev=${DEVS[$(((i + rep - 1) % ${#DEVS[@]}))]}
			run_fio "$name" "$opts" "$dev" "$rep"
			printf '  %-17s rep %d %-9s %10.0f IOPS %9.1f MB/s  lat %8.1f us\n' "$name" "$rep" "$dev" \
				"${RES_IOPS[$name.$dev.$rep]}" "${RES_MBPS[$name.$dev.$rep]}" "${RES_LAT[$name.$dev.$rep]}" >>"$out/runs.txt"
		done
	done
done
# Diagnostic: brd (bio-based) keeps no I/O statistics; blk-mq devices do by
# default. The same 4 KiB jobs with iostats off on null_blk and maicache show
# how much of the gap that accounting is.
DIAG=("${WORKLOADS[0]}" "${WORKLOADS[1]}")
DIAG_DEVS=(null_blk maicache)
for d in "$null" "$mc"; do echo 0 >"/sys/block/$(basename "$d")/queue/iostats"; done
for w in "${DIAG[@]}"; do
	IFS='|' read -r name opts _ <<<"$w"
	for ((rep = 1; rep <= REPEAT; rep++)); do
		for ((i = 0; i < ${#DIAG_DEVS[@]}; i++)); do
			dev=${DIAG_DEVS[$(((i + rep - 1) % ${#DIAG_DEVS[@]}))]}
			run_fio "$name" "$opts" "$dev" "nostat$rep"
			printf '  %-17s rep %d %-9s %10.0f IOPS %9.1f MB/s  lat %8.1f us  (iostats=0)\n' "$name" "$rep" "$dev" \
				"${RES_IOPS[$name.$dev.nostat$rep]}" "${RES_MBPS[$name.$dev.nostat$rep]}" "${RES_LAT[$name.$dev.nostat$rep]}" >>"$out/runs.txt"
		done
	done
done
for d in "$null" "$mc"; do echo 1 >"/sys/block/$(basename "$d")/queue/iostats"; done
after=$(counters)

# ----------------------------------------------------------------- report
say ""
say "fio: ioengine=io_uring direct=1 time_based runtime=${RUNTIME}s ramp_time=1s, median of $REPEAT interleaved runs"
say ""
say "| workload | metric | brd | null_blk | maicache | maicache/brd | maicache/null_blk | per-round mc/brd | per-round mc/null_blk |"
say "|---|---|---|---|---|---|---|---|---|"
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name _ metric <<<"$w"
	declare -A MED=() MEDLAT=()
	# The three runs of one round are adjacent in time: their ratio is less
	# exposed to a host whose load changes between rounds.
	rb=() rz=()
	for ((rep = 1; rep <= REPEAT; rep++)); do
		k=RES_IOPS
		[[ $metric == iops ]] || k=RES_MBPS
		declare -n R=$k
		rb+=("$(awk -v m="${R[$name.maicache.$rep]}" -v b="${R[$name.brd.$rep]}" 'BEGIN {print m / b}')")
		rz+=("$(awk -v m="${R[$name.maicache.$rep]}" -v z="${R[$name.null_blk.$rep]}" 'BEGIN {print m / z}')")
		unset -n R
	done
	for dev in "${DEVS[@]}"; do
		vals=() lats=()
		for ((rep = 1; rep <= REPEAT; rep++)); do
			if [[ $metric == iops ]]; then
				vals+=("${RES_IOPS[$name.$dev.$rep]}")
			else
				vals+=("${RES_MBPS[$name.$dev.$rep]}")
			fi
			lats+=("${RES_LAT[$name.$dev.$rep]}")
		done
		MED[$dev]=$(median "${vals[@]}")
		MEDLAT[$dev]=$(median "${lats[@]}")
	done
	unit=IOPS
	[[ $metric == iops ]] || unit=MB/s
	say "$(awk -v n="$name" -v u="$unit" -v b="${MED[brd]}" -v z="${MED[null_blk]}" -v m="${MED[maicache]}" \
		-v pb="$(median "${rb[@]}")" -v pz="$(median "${rz[@]}")" \
		'BEGIN {printf "| %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |", n, u, b, z, m, m / b, m / z, pb, pz}')"
	say "$(awk -v n="$name" -v b="${MEDLAT[brd]}" -v z="${MEDLAT[null_blk]}" -v m="${MEDLAT[maicache]}" \
		'BEGIN {printf "| %s | mean lat us | %.1f | %.1f | %.1f | %.2f | %.2f | | |", n, b, z, m, m / b, m / z}')"
done
say ""
say "diagnostic, iostats=0 on null_blk and maicache (brd has none), IOPS, median of $REPEAT:"
say ""
say "| workload | brd (above) | null_blk iostats=0 | maicache iostats=0 | maicache/brd | maicache/null_blk |"
say "|---|---|---|---|---|---|"
for w in "${DIAG[@]}"; do
	IFS='|' read -r name _ _ <<<"$w"
	b=() z=() m=()
	for ((rep = 1; rep <= REPEAT; rep++)); do
		b+=("${RES_IOPS[$name.brd.$rep]}")
		z+=("${RES_IOPS[$name.null_blk.nostat$rep]}")
		m+=("${RES_IOPS[$name.maicache.nostat$rep]}")
	done
	say "$(awk -v n="$name" -v b="$(median "${b[@]}")" -v z="$(median "${z[@]}")" -v m="$(median "${m[@]}")" \
		'BEGIN {printf "| %s | %.0f | %.0f | %.0f | %.2f | %.2f |", n, b, z, m, m / b, m / z}')"
done
say ""
say "every run (IOPS, MB/s, mean latency):"
tee -a "$report" <"$out/runs.txt"
say ""
say "maicache counters before the measured passes: $before"
say "maicache counters after the measured passes:  $after"
mb=$(sed 's/.*misses=\([0-9]*\).*/\1/' <<<"$before")
ma=$(sed 's/.*misses=\([0-9]*\).*/\1/' <<<"$after")
hb=$(sed 's/^hits=\([0-9]*\).*/\1/' <<<"$before")
ha=$(sed 's/^hits=\([0-9]*\).*/\1/' <<<"$after")
say "measured passes: $((ha - hb)) hits, $((ma - mb)) misses"
[[ $ma == "$mb" ]] || die "maicache missed $((ma - mb)) times during the measured passes: not a warm benchmark"
say "warm: misses unchanged during the measured passes"
