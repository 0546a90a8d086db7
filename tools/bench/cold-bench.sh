#!/bin/bash
# shellcheck disable=SC2119 # start_daemon takes optional arguments
# Cold-read benchmark, run INSIDE a tests/vm/run.sh VM (one boot, one kernel):
# one file on tmpfs (random bytes) read through three block devices in the
# same boot, every run from cold:
#   maicache  maicached's file source on the file (`maicachectl attach
#             file://...`); detached and attached again before every run, so
#             the device starts with nothing in the pool;
#   loop      `losetup --direct-io=on` on the file; page cache dropped before
#             every run;
#   nbd       nbd-server exporting the file, nbd-client on /dev/nbd0 over
#             loopback; page cache dropped before every run.
# The same fio jobs (direct=1), the devices interleaved, median of N repeats.
# Workloads: 1 MiB sequential QD1 and QD8 (one pass over the device, or
# --runtime, whichever first), 4 KiB random QD1 and QD32 (--runtime), and
# as a diagnostic the same random jobs stopped after as many reads as half
# the extents (*-missbound: mostly misses for maicache, where the timed
# random runs turn into hits once every extent is filled).
# For maicache also the read amplification: bytes the daemon filled (the
# kernel's per-device bytes_filled) over the bytes fio read.
#
# Usage (tools/bench/run-cold-bench.sh does this):
#   tests/vm/run.sh --kernel KVER --mem 3G --timeout 2400 \
#       tools/bench/cold-bench.sh [--size-mb N] [--runtime S] [--repeat N]
#                                 [--extent-size SIZE] [--pool-mb N] [--host-cpu MODEL]
#                                 [--variant NAME:KEY=VALUE[,KEY=VALUE...]]...
#   --size-mb N       the file and every device, MiB (default 256)
#   --runtime S       seconds per fio run at most (default 10): the sequential
#                     jobs stop after one pass over the device or S seconds,
#                     whichever comes first; the random jobs run S seconds
#   --repeat N        runs per (workload, device); the median is reported (3)
#   --extent-size SZ  maicache's extent size, 64K to 4M (default 1M)
#   --pool-mb N       maicache's pool, MiB, a multiple of 4 (default: the
#                     whole file and 32 MiB); smaller than the file, random
#                     reads evict and the amplification shows what each
#                     miss costs
#   --host-cpu MODEL  the host's CPU model for the report (the guest's
#                     /proc/cpuinfo shows the emulated one)
#   --guest-cpu MODEL qemu's -cpu the VM was started with, for the report
#   --variant NAME:SETTINGS  also run maicache with these daemon settings
#                     (maicached --set KEY=VALUE each), interleaved with the
#                     others in the same boot, as device "mc:NAME"; with any
#                     variant, every maicache run (the default's too) starts
#                     on a freshly started daemon, so that none has its pool
#                     mapping warm from an earlier run. An extra table gives
#                     each variant against the default, per round.
#
# Output: the report on stdout and in $MAICACHE_OUT/cold.txt; every run in
# $MAICACHE_OUT/runs.txt; raw fio JSON in $MAICACHE_OUT/fio/.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tools/bench/cold-lib.sh
. "$MAICACHE_ROOT/tools/bench/cold-lib.sh"

SIZE_MB=256
RUNTIME=10
REPEAT=3
EXTENT=1M
HOST_CPU=""
GUEST_CPU="not given (--guest-cpu)"
POOL_MB=""
VARIANTS=()
declare -A VARIANT_SET
while (($#)); do
	case $1 in
	--size-mb) SIZE_MB=${2:?}; shift 2 ;;
	--runtime) RUNTIME=${2:?}; shift 2 ;;
	--repeat) REPEAT=${2:?}; shift 2 ;;
	--extent-size) EXTENT=${2:?}; shift 2 ;;
	--host-cpu) HOST_CPU=${2:?}; shift 2 ;;
	--guest-cpu) GUEST_CPU=${2:?}; shift 2 ;;
	--pool-mb) POOL_MB=${2:?}; shift 2 ;;
	--variant)
		[[ ${2:-} =~ ^([A-Za-z0-9_-]+):([a-z_]+=[^,]+)(,[a-z_]+=[^,]+)*$ ]] ||
			die "--variant wants NAME:KEY=VALUE[,KEY=VALUE...], not '${2:-}'"
		VARIANTS+=("mc:${2%%:*}")
		VARIANT_SET[mc:${2%%:*}]=${2#*:}
		shift 2
		;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $SIZE_MB =~ ^[1-9][0-9]*$ && $RUNTIME =~ ^[1-9][0-9]*$ && $REPEAT =~ ^[1-9][0-9]*$ ]] ||
	die "--size-mb, --runtime and --repeat want positive whole numbers"
# By default the whole file fits, with slack.
POOL_MB=${POOL_MB:-$(((SIZE_MB + 32 + 3) / 4 * 4))}
[[ $POOL_MB =~ ^[1-9][0-9]*$ ]] && ((POOL_MB % 4 == 0)) || die "--pool-mb wants a multiple of 4"
SIZE=$((SIZE_MB << 20))
case $EXTENT in
*K) EXTENT_B=$((${EXTENT%K} << 10)) ;;
*M) EXTENT_B=$((${EXTENT%M} << 20)) ;;
*) EXTENT_B=$EXTENT ;;
esac
[[ $EXTENT_B =~ ^[1-9][0-9]*$ ]] || die "--extent-size: 64K to 4M"
# The miss-bound diagnostic: as many 4 KiB random reads as half the extents,
# so that most of them land on an extent not filled yet (about 79 %).
FILL_IOS=$(((SIZE / EXTENT_B + 1) / 2))

# The benchmark calls maicachectl often: the plain binary, not the VM tests'
# JSON-checking wrapper (daemon.sh's helpers use whatever $ctl names).
ctl=$bin/maicachectl
out=$MAICACHE_OUT
report=$out/cold.txt
runs=$out/runs.txt
mkdir -p "$out/fio"
: >"$report"
: >"$runs"
say() { printf '%s\n' "$*" | tee -a "$report"; }

img=/tmp/cold.img	# tmpfs in the VM
name=coldbench
loopdev=""
nbddev=/dev/nbd0
nbd_pidfile=/tmp/nbd-server.pid
bench_cleanup() {
	if [[ -b $nbddev ]]; then nbd-client -d "$nbddev" >/dev/null 2>&1 || true; fi
	if [[ -s $nbd_pidfile ]]; then kill -TERM "$(cat "$nbd_pidfile")" 2>/dev/null || true; fi
	if [[ -n $loopdev ]]; then losetup -d "$loopdev" 2>/dev/null || true; fi
}
cleanup_hooks+=(bench_cleanup)
trap mc_cleanup EXIT

# ------------------------------------------------------------------ the file
head -c "$SIZE" /dev/urandom >"$img"

# ---------------------------------------------------------------- maicache
# The pool is sized before any device; every run gets a fresh device, so
# the pool holds none of its extents when fio starts.
"$ctl" pool --size "${POOL_MB}M" >/dev/null
rm -rf "$mc_state"
start_daemon
mcdev=""
mc_attach() {
	mcdev=$(attach "file://$img" --extent-size "$EXTENT" --name "$name")
	mcsys=/sys/block/${mcdev#/dev/}/maicache
	[[ $(cat "$mcsys/misses") == 0 && $(cat "$mcsys/bytes_filled") == 0 ]] ||
		die "a freshly attached $mcdev has counters already"
}
mc_detach() {
	"$ctl" detach "$name" >/dev/null || die "maicachectl detach $name failed"
	[[ ! -e $mcdev ]] || die "$mcdev still there after detach"
	mcdev=""
}
pool_used() { "$ctl" --json pool | json_num used; }

# -------------------------------------------------------------------- loop
loopdev=$(loop_on_file "$img")
loop_dio=$(cat "/sys/block/${loopdev#/dev/}/loop/dio" 2>/dev/null || echo "?")

# --------------------------------------------------------------------- nbd
vm_modprobe nbd nbds_max=2
ip link show lo | grep -q '[<,]UP[,>]' || ip link set lo up || die "cannot bring up lo"
cat >/tmp/nbd-server.conf <<EOF
[generic]
	listenaddr = 127.0.0.1
	port = 10809
[cold]
	exportname = $img
	readonly = true
EOF
nbd-server -C /tmp/nbd-server.conf -p "$nbd_pidfile" >>"$out/nbd-server.log" 2>&1 ||
	die "nbd-server failed: $(cat "$out/nbd-server.log")"
ok=0
for _ in $(seq 100); do
	if nbd-client -N cold 127.0.0.1 10809 "$nbddev" >>"$out/nbd-client.log" 2>&1; then
		ok=1
		break
	fi
	sleep 0.1
done
((ok)) || die "nbd-client could not connect: $(tail -5 "$out/nbd-client.log")"
for _ in $(seq 100); do
	[[ $(blockdev --getsize64 "$nbddev" 2>/dev/null || echo 0) == "$SIZE" ]] && break
	sleep 0.1
done
assert_eq "$(blockdev --getsize64 "$nbddev")" "$SIZE" "nbd device size"

# ------------------------------------------------------------ sanity pass
# Every device reads the file's bytes. maicache's check runs on a device of
# its own, detached after, so that it warms nothing the measured runs use.
mc_attach
assert_eq "$(blockdev --getsize64 "$mcdev")" "$SIZE" "maicache device size"
for d in "$mcdev" "$loopdev" "$nbddev"; do
	cmp -n "$SIZE" "$d" "$img" || die "$d does not read the file's bytes"
done
# Each extent once; the pass's first read, before it is seen to be a
# stream, may fill a 64 KiB part as well (docs/kmod.md, "Part fills").
filled=$(cat "$mcsys/bytes_filled")
((filled >= SIZE && filled <= SIZE + 65536)) ||
	die "maicache filled $filled bytes in the check pass of a $SIZE-byte file"
mc_detach
assert_eq "$(pool_used)" 0 "pool bytes in use after detach"

for d in "$loopdev" "$nbddev"; do
	q=/sys/block/${d#/dev/}/queue
	if [[ -w $q/scheduler ]]; then echo none >"$q/scheduler" 2>/dev/null || true; fi
done

# -------------------------------------------------------------- the header
host_cpu=$HOST_CPU
[[ -n $host_cpu ]] || host_cpu="not given (--host-cpu); guest sees: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
say "# maicache cold-read benchmark"
say "guest kernel: $(uname -r)"
say "host CPU: $host_cpu"
say "guest CPU: qemu -cpu $GUEST_CPU; the guest's copy features: $(guest_copy_features)"
say "date: $(date -u +%Y-%m-%d); $(nproc) vCPU, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo) RAM, qemu TCG (software emulation); $(fio --version); nbd-server $(nbd-server -V 2>&1 | sed -n 's/.*version //p' | head -1)"
say "file: $img on tmpfs, $SIZE_MB MiB of random bytes"
say "maicache: maicached file source, extent $EXTENT, pool $POOL_MB MiB, max_parallel default; detach + attach before every run (pool bytes in use 0 between runs)"
say "loop:     $loopdev, losetup --read-only --direct-io=on where the file system allows it (loop/dio=$loop_dio); drop_caches before every run"
say "nbd:      $nbddev, nbd-server on 127.0.0.1:10809 (readonly export), nbd-client defaults (one connection, block 512); drop_caches before every run"
for d in "$loopdev" "$nbddev"; do
	q=/sys/block/${d#/dev/}/queue
	say "  ${d#/dev/}: scheduler=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$q/scheduler" 2>/dev/null || echo n/a)" \
		"lbs=$(cat "$q/logical_block_size") max_sectors_kb=$(cat "$q/max_sectors_kb") read_ahead_kb=$(cat "$q/read_ahead_kb")"
done
say "  maicache: bio-based; lbs and max_sectors_kb of the device as attached (queue of the first run below)"

# ------------------------------------------------------------------ fio
# name|fio options|metric reported|target kind
WORKLOADS=(
	"seqread-1m-qd1|--rw=read --bs=1M --iodepth=1|mbps|seq"
	"seqread-1m-qd8|--rw=read --bs=1M --iodepth=8|mbps|seq"
	"randread-4k-qd1|--rw=randread --bs=4k --iodepth=1 --time_based --norandommap|iops|rand"
	"randread-4k-qd32|--rw=randread --bs=4k --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=1 --time_based --norandommap|iops|rand"
	# Diagnostic, no target: the time-limited random runs above turn into
	# hits once every extent is filled; these stop after $FILL_IOS reads, when
	# most reads have been misses.
	"randread-4k-qd1-missbound|--rw=randread --bs=4k --iodepth=1 --norandommap --number_ios=$FILL_IOS|iops|diag"
	"randread-4k-qd32-missbound|--rw=randread --bs=4k --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=1 --norandommap --number_ios=$FILL_IOS|iops|diag"
)
DEVS=(maicache "${VARIANTS[@]}" loop nbd)
declare -A RES_IOPS RES_MBPS RES_LAT RES_SLAT RES_BYTES MC_FILLED MC_MISSES MC_HITS MC_CPU MC_FLAT

# With variants, every maicache run gets a fresh daemon with its settings.
daemon_for() {	# maicache | mc:NAME
	local sets=() kv s
	((${#VARIANTS[@]})) || return 0
	if [[ $1 != maicache ]]; then
		IFS=',' read -ra kv <<<"${VARIANT_SET[$1]}"
		for s in "${kv[@]}"; do sets+=(--set "$s"); done
	fi
	stop_daemon
	start_daemon "${sets[@]}"
}

# Daemon CPU time (user + system), in clock ticks.
daemon_ticks() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }
# The median fill latency from the log2 histogram: the upper bound of the
# bucket holding the middle fill (bucket "L" counts fills of [L/2, L) us).
fill_median() {
	awk '{b[NR] = $1; c[NR] = $2; n += $2} END {
		if (!n) { print "-"; exit }
		for (i = 1; i <= NR; i++) { s += c[i]; if (s * 2 >= n) { print b[i]; exit } }
	}' "$1"
}

first_mc_queue=""
run_one() {	# name opts dev rep
	local name=$1 opts=$2 dev=$3 rep=$4 json path t0
	json=$out/fio/$name.$dev.$rep.json
	echo 3 >/proc/sys/vm/drop_caches
	case $dev in
	maicache | mc:*)
		daemon_for "$dev"
		mc_attach
		path=$mcdev
		if [[ -z $first_mc_queue ]]; then
			first_mc_queue="lbs=$(cat "/sys/block/${mcdev#/dev/}/queue/logical_block_size") max_sectors_kb=$(cat "/sys/block/${mcdev#/dev/}/queue/max_sectors_kb")"
		fi
		t0=$(daemon_ticks)
		;;
	loop) path=$loopdev ;;
	nbd) path=$nbddev ;;
	esac
	# shellcheck disable=SC2086
	fio --name="$name" --filename="$path" --ioengine=io_uring --direct=1 --readonly \
		--runtime="$RUNTIME" --size="$SIZE" --randrepeat=0 --group_reporting \
		--output-format=json $opts >"$json" 2>"$json.err" ||
		die "fio $name on $dev failed: $(cat "$json.err")"
	[[ $(jq '[.jobs[].error] | add' "$json") == 0 ]] || die "fio $name on $dev reported an error"
	RES_IOPS[$name.$dev.$rep]=$(jq '[.jobs[].read.iops] | add' "$json")
	RES_MBPS[$name.$dev.$rep]=$(jq '[.jobs[].read.bw_bytes] | add / 1e6' "$json")
	RES_LAT[$name.$dev.$rep]=$(jq '.jobs[0].read.lat_ns.mean / 1000' "$json")
	RES_SLAT[$name.$dev.$rep]=$(jq '.jobs[0].read.slat_ns.mean / 1000' "$json")
	RES_BYTES[$name.$dev.$rep]=$(jq '[.jobs[].read.io_bytes] | add' "$json")
	local extra=""
	if [[ $dev == mc:* ]]; then
		[[ $(cat "$mcsys/fill_errors") == 0 ]] || die "maicache ($dev): fill errors during $name"
		extra=$(printf '  filled %d B, misses %d' "$(cat "$mcsys/bytes_filled")" "$(cat "$mcsys/misses")")
		mc_detach
	elif [[ $dev == maicache ]]; then
		MC_CPU[$name.$rep]=$(awk -v a="$t0" -v b="$(daemon_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {print (b - a) / hz}')
		MC_FILLED[$name.$rep]=$(cat "$mcsys/bytes_filled")
		MC_MISSES[$name.$rep]=$(cat "$mcsys/misses")
		MC_HITS[$name.$rep]=$(cat "$mcsys/hits")
		cp "$mcsys/fill_latency_us" "$out/fio/$name.maicache.$rep.fill_latency_us"
		MC_FLAT[$name.$rep]=$(fill_median "$out/fio/$name.maicache.$rep.fill_latency_us")
		[[ $(cat "$mcsys/fill_errors") == 0 ]] || die "maicache: fill errors during $name"
		extra=$(printf '  filled %d B, misses %d, hits %d, fill median <%s us, daemon CPU %.2f s' \
			"${MC_FILLED[$name.$rep]}" "${MC_MISSES[$name.$rep]}" "${MC_HITS[$name.$rep]}" \
			"${MC_FLAT[$name.$rep]}" "${MC_CPU[$name.$rep]}")
		mc_detach
	fi
	printf '  %-26s rep %d %-9s %8.0f IOPS %7.1f MB/s  lat %9.1f us (submit %8.1f)  read %d B%s\n' "$name" "$rep" "$dev" \
		"${RES_IOPS[$name.$dev.$rep]}" "${RES_MBPS[$name.$dev.$rep]}" "${RES_LAT[$name.$dev.$rep]}" "${RES_SLAT[$name.$dev.$rep]}" \
		"${RES_BYTES[$name.$dev.$rep]}" "$extra" >>"$runs"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name opts _ _ <<<"$w"
	for ((rep = 1; rep <= REPEAT; rep++)); do
		# Rotate the device order each repeat so no device always goes first.
		for ((i = 0; i < ${#DEVS[@]}; i++)); do
			run_one "$name" "$opts" "${DEVS[$(((i + rep - 1) % ${#DEVS[@]}))]}" "$rep"
		done
	done
done

# ----------------------------------------------------------------- report
say "  maicache queue: $first_mc_queue"
say ""
say "fio: ioengine=io_uring direct=1; 1 MiB sequential: one pass over the device or ${RUNTIME}s, whichever first;"
say "4 KiB random: time_based ${RUNTIME}s, norandommap; *-missbound: $FILL_IOS reads (half the extents) or ${RUNTIME}s;"
say "no ramp (the cold start is the measurement); median of $REPEAT interleaved runs"
say ""
say "| workload | metric | maicache | loop | nbd | maicache/loop | maicache/nbd | per-round mc/loop | per-round mc/nbd | target | met |"
say "|---|---|---|---|---|---|---|---|---|---|---|"
declare -A MED
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name _ metric kind <<<"$w"
	rl=() rn=()
	for ((rep = 1; rep <= REPEAT; rep++)); do
		if [[ $metric == iops ]]; then declare -n R=RES_IOPS; else declare -n R=RES_MBPS; fi
		rl+=("$(awk -v m="${R[$name.maicache.$rep]}" -v b="${R[$name.loop.$rep]}" 'BEGIN {print m / b}')")
		rn+=("$(awk -v m="${R[$name.maicache.$rep]}" -v b="${R[$name.nbd.$rep]}" 'BEGIN {print m / b}')")
		unset -n R
	done
	for dev in "${DEVS[@]}"; do
		vals=()
		for ((rep = 1; rep <= REPEAT; rep++)); do
			if [[ $metric == iops ]]; then vals+=("${RES_IOPS[$name.$dev.$rep]}"); else vals+=("${RES_MBPS[$name.$dev.$rep]}"); fi
		done
		MED[$dev]=$(median "${vals[@]}")
	done
	unit=IOPS
	[[ $metric == iops ]] || unit=MB/s
	if [[ $kind == seq ]]; then
		target=">= 0.8x loop, >= 2x nbd"
		met=$(awk -v m="${MED[maicache]}" -v l="${MED[loop]}" -v n="${MED[nbd]}" \
			'BEGIN {a = m / l >= 0.8; b = m / n >= 2; print (a && b) ? "yes" : (a ? "loop yes, nbd no" : (b ? "loop no, nbd yes" : "no"))}')
	elif [[ $kind == diag ]]; then
		target="(diagnostic)"
		met="-"
	else
		target=">= 1x nbd"
		met=$(awk -v m="${MED[maicache]}" -v n="${MED[nbd]}" 'BEGIN {print (m / n >= 1) ? "yes" : "no"}')
	fi
	say "$(awk -v n="$name" -v u="$unit" -v m="${MED[maicache]}" -v l="${MED[loop]}" -v b="${MED[nbd]}" \
		-v pl="$(median "${rl[@]}")" -v pn="$(median "${rn[@]}")" -v t="$target" -v ok="$met" \
		'BEGIN {f = (u == "IOPS") ? "%.0f" : "%.1f";
			printf "| %s | %s | " f " | " f " | " f " | %.2f | %.2f | %.2f | %.2f | %s | %s |", n, u, m, l, b, m / l, m / b, pl, pn, t, ok}')"
done
say ""
say "maicache, per workload (medians of $REPEAT runs; each run on a fresh device):"
say ""
say "| workload | bytes fio read | bytes the daemon filled | read amplification | misses (extents) | hits (extents) | median fill latency | daemon CPU per run | mean read latency maicache / loop / nbd |"
say "|---|---|---|---|---|---|---|---|---|"
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name _ _ _ <<<"$w"
	rb=() fb=() amp=() ms=() hs=() cpu=() fl=() lm=() ll=() ln=()
	for ((rep = 1; rep <= REPEAT; rep++)); do
		rb+=("${RES_BYTES[$name.maicache.$rep]}")
		fb+=("${MC_FILLED[$name.$rep]}")
		amp+=("$(awk -v f="${MC_FILLED[$name.$rep]}" -v r="${RES_BYTES[$name.maicache.$rep]}" 'BEGIN {print r ? f / r : 0}')")
		ms+=("${MC_MISSES[$name.$rep]}")
		hs+=("${MC_HITS[$name.$rep]}")
		cpu+=("${MC_CPU[$name.$rep]}")
		fl+=("${MC_FLAT[$name.$rep]}")
		lm+=("${RES_LAT[$name.maicache.$rep]}")
		ll+=("${RES_LAT[$name.loop.$rep]}")
		ln+=("${RES_LAT[$name.nbd.$rep]}")
	done
	say "$(awk -v n="$name" -v r="$(median "${rb[@]}")" -v f="$(median "${fb[@]}")" -v a="$(median "${amp[@]}")" \
		-v m="$(median "${ms[@]}")" -v h="$(median "${hs[@]}")" -v fl="$(median "${fl[@]}")" -v c="$(median "${cpu[@]}")" \
		-v lm="$(median "${lm[@]}")" -v ll="$(median "${ll[@]}")" -v ln="$(median "${ln[@]}")" \
		'BEGIN {printf "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | < %s us | %.2f s | %.0f / %.0f / %.0f us |", n, r, f, a, m, h, fl, c, lm, ll, ln}')"
done
if ((${#VARIANTS[@]})); then
	say ""
	say "maicache's variants, in the same boot (each run on a fresh daemon; per round: against the default maicache run of that round):"
	for v in "${VARIANTS[@]}"; do say "  $v: maicached --set ${VARIANT_SET[$v]//,/ --set }"; done
	say ""
	say "| workload | variant | metric | variant | maicache (default) | variant/default | per-round variant/default | variant/loop |"
	say "|---|---|---|---|---|---|---|---|"
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r name _ metric _ <<<"$w"
		if [[ $metric == iops ]]; then declare -n R=RES_IOPS; unit=IOPS; else declare -n R=RES_MBPS; unit=MB/s; fi
		for v in "${VARIANTS[@]}"; do
			vv=() dv=() lv=() pr=()
			for ((rep = 1; rep <= REPEAT; rep++)); do
				vv+=("${R[$name.$v.$rep]}")
				dv+=("${R[$name.maicache.$rep]}")
				lv+=("${R[$name.loop.$rep]}")
				pr+=("$(awk -v a="${R[$name.$v.$rep]}" -v b="${R[$name.maicache.$rep]}" 'BEGIN {print a / b}')")
			done
			say "$(awk -v n="$name" -v v="$v" -v u="$unit" -v a="$(median "${vv[@]}")" -v d="$(median "${dv[@]}")" \
				-v l="$(median "${lv[@]}")" -v p="$(median "${pr[@]}")" \
				'BEGIN {f = (u == "IOPS") ? "%.0f" : "%.1f";
					printf "| %s | %s | %s | " f " | " f " | %.2f | %.2f | %.2f |", n, v, u, a, d, a / d, p, a / l}')"
		done
		unset -n R
	done
fi
say ""
say "every run (IOPS, MB/s, mean latency and its submission part, bytes read; for maicache the kernel's counters of that run's device):"
tee -a "$report" <"$runs"
assert_eq "$(pool_used)" 0 "pool bytes in use at the end"
