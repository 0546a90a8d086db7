#!/bin/bash
# shellcheck disable=SC2119 # start_daemon takes optional arguments
# Where a cold sequential pass spends its CPU, run INSIDE a tests/vm/run.sh
# VM (one boot): `perf record -a -g` over one cold 1 MiB sequential pass
# (fio, io_uring, O_DIRECT) of a file on tmpfs, through maicache's file
# source and through loop (`--direct-io=on` where tmpfs takes it) on the
# same file, in the same boot. A discarded pass first maps the daemon's
# pool (and its prefault thread finishes), so the profile is the steady
# state of a daemon that has run a while.
#
# Usage:
#   tests/vm/run.sh --kernel KVER [--cpu max,-erms] --mem 3G --timeout 1200 \
#       tools/bench/cold-profile.sh [--size-mb N] [--iodepth N] [--set KEY=VALUE]...
# With qemu's -cpu max the guest has ERMS, and its copies to and from user
# memory (the daemon's file reads into the pool) are `rep movsb`, which the
# emulator runs a byte at a time: they show up many times their cost on
# hardware. -cpu max,-erms is what tools/bench/run-cold-bench.sh uses.
#   --size-mb N      the file, MiB (default 256)
#   --iodepth N      fio's depth (default 1)
#   --set KEY=VALUE  a maicached setting (repeatable)
#
# Output in $MAICACHE_OUT: profile.txt (the report: rate of each pass, the
# share of samples per thread kind and the hottest symbols of each), and
# perf-<dev>.data for `perf report -i`.
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
QD=1
SETS=()
while (($#)); do
	case $1 in
	--size-mb) SIZE_MB=${2:?}; shift 2 ;;
	--iodepth) QD=${2:?}; shift 2 ;;
	--set) SETS+=(--set "${2:?}"); shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $SIZE_MB =~ ^[1-9][0-9]*$ && $QD =~ ^[1-9][0-9]*$ ]] ||
	die "--size-mb and --iodepth want positive whole numbers"
command -v perf >/dev/null || die "no perf on the host root (Debian's linux-perf)"
SIZE=$((SIZE_MB << 20))
ctl=$bin/maicachectl
out=$MAICACHE_OUT
report=$out/profile.txt
: >"$report"
say() { printf '%s\n' "$*" | tee -a "$report"; }

img=/tmp/cold.img
loopdev=""
prof_cleanup() { if [[ -n $loopdev ]]; then losetup -d "$loopdev" 2>/dev/null || true; fi; }
cleanup_hooks+=(prof_cleanup)
trap mc_cleanup EXIT
head -c "$SIZE" /dev/urandom >"$img"

"$ctl" pool --size "$(((SIZE_MB + 35) / 4 * 4))M" >/dev/null
rm -rf "$mc_state"
start_daemon "${SETS[@]}"
loopdev=$(loop_on_file "$img")

pass() {	# DEV [perf.data]: one fio pass; prints MB/s
	local dev=$1 data=${2:-} cmd json=$out/fio-$RANDOM.json
	cmd=(fio --name=seq --filename="$dev" --ioengine=io_uring --direct=1 --readonly
		--rw=read --bs=1M --iodepth="$QD" --size="$SIZE" --output-format=json)
	echo 3 >/proc/sys/vm/drop_caches
	if [[ -n $data ]]; then
		perf record -q -a -g -e cpu-clock -o "$data" -- "${cmd[@]}" >"$json" 2>"$out/perf.err" ||
			die "perf record failed: $(tail -3 "$out/perf.err")"
	else
		"${cmd[@]}" >"$json" || die "fio on $dev failed"
	fi
	jq '[.jobs[].read.bw_bytes] | add / 1e6' "$json"
}

mc_pass() {	# [perf.data]: attach, one pass, detach
	local dev
	dev=$(attach "file://$img" --extent-size 1M --name prof)
	MC_SYS=/sys/block/${dev#/dev/}/maicache
	pass "$dev" "${1:-}"
	[[ $(cat "$MC_SYS/fill_errors") == 0 ]] || die "fill errors during the pass"
	cp "$MC_SYS/fill_latency_us" "$out/fill_latency_us"
	"$ctl" detach prof >/dev/null
}

# Thread kinds: what each sample's command is, folded.
kinds() {	# perf.data
	perf report -i "$1" --no-children -g none --sort comm --stdio -q 2>/dev/null |
		awk 'NF >= 2 { p = $1; sub("%", "", p); c = $2
			if (c ~ /^swapper/) c = "idle"
			else if (c ~ /^iou-wrk/) c = "io_uring workers (iou-wrk)"
			else if (c ~ /^iou-sqp/) c = "io_uring sq thread"
			else if (c ~ /^kworker/) c = "kworkers"
			else if (c ~ /^loop/) c = "loop worker"
			s[c] += p }
			END { for (c in s) printf "  %6.2f%%  %s\n", s[c], c }' | sort -rn
}
hot() {	# perf.data
	perf report -i "$1" --no-children -g none --sort comm,sym --stdio -q 2>/dev/null |
		awk 'NF >= 3 && $1 ~ /%$/ && $2 !~ /^swapper/ && n++ < 25' 
}

say "# maicache cold sequential profile"
say "guest kernel: $(uname -r); $(nproc) vCPU; qemu TCG; copy features: $(guest_copy_features); $(fio --version); $(perf version)"
say "file: $img on tmpfs, $SIZE_MB MiB; fio 1 MiB sequential, iodepth $QD, one pass"
say "maicached settings: ${SETS[*]:-defaults}; loop: $loopdev loop/dio=$(cat "/sys/block/${loopdev#/dev/}/loop/dio")"
warm_rate=$(mc_pass)
sleep 2
# perf writes to tmpfs: on the host's 9p root its writes would be in the profile.
mc_rate=$(mc_pass /tmp/perf-maicache.data)
loop_rate=$(pass "$loopdev" /tmp/perf-loop.data)
say ""
say "MB/s: maicache $mc_rate (the discarded first pass: $warm_rate), loop $loop_rate"
say "fill latency (us bucket, fills) of the profiled pass: $(awk '$2 { printf "%s:%s ", $1, $2 }' "$out/fill_latency_us")"
for d in maicache loop; do
	say ""
	say "== $d: share of all samples (both vCPUs) by thread"
	kinds "/tmp/perf-$d.data" | tee -a "$report"
	say "== $d: hottest (thread, symbol), idle left out"
	hot "/tmp/perf-$d.data" | tee -a "$report"
	cp "/tmp/perf-$d.data" "$out/"
done
