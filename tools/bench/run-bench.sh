#!/bin/bash
# Run the benchmarks in a VM per kernel (one boot each) and collect the reports.
#
# Usage: tools/bench/run-bench.sh [--kernel KVER]... [--scan] [--no-hit]
#                                 [--cpu MODEL] [--append ARGS] [-- VM_BENCH_ARGS...]
#   --kernel KVER  only this kernel (repeatable; default: every kernel from
#                  scripts/kernels.sh)
#   --scan         also run tools/bench/scan-trace.sh (its own boot)
#   --no-hit       skip the hit-path benchmark (tools/bench/vm-bench.sh)
#   --cpu MODEL    qemu's -cpu for the hit-path boots (default max)
#   --append ARGS  more for the guest kernel's command line, e.g.
#                  clearcpuid=rep_good to change the guest's copy routines
#   after --        arguments for vm-bench.sh (--size-mb N --runtime S --repeat N)
#
# Reports: build/bench/<kver>.txt (hit path) and build/bench/<kver>-scan.txt;
# the VM logs stay in build/vm-runs/<kver>/{vm-bench,scan-trace}/.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kernels=()
scan=0
hit=1
cpu=max
append=()
while (($#)); do
	case $1 in
	--kernel) kernels+=("${2:?}"); shift 2 ;;
	--scan) scan=1; shift ;;
	--no-hit) hit=0; shift ;;
	--cpu) cpu=${2:?}; shift 2 ;;
	--append) append=(--append "${2:?}"); shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
((${#kernels[@]})) || mapfile -t kernels < <("$REPO/scripts/kernels.sh")
((${#kernels[@]})) || { echo "run-bench.sh: no kernel (scripts/fetch-kernels.sh)" >&2; exit 2; }

[[ -x $REPO/build/user/maicachectl && -x $REPO/build/user/mc-filler ]] ||
	make -C "$REPO" user >/dev/null
mkdir -p "$REPO/build/bench"
# The guest sees an emulated CPU: name the host's in the report.
host_cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
if ((scan)); then
	[[ -x $REPO/build/user/policy-sim ]] || make -C "$REPO" user >/dev/null
	# scan-replay is built here (the VM sees the repository read-only).
	cc -O2 -g -Wall -Wextra -Werror -std=gnu11 -I "$REPO/tools/sim" -o "$REPO/build/bench/scan-replay" \
		"$REPO/tools/bench/scan-replay.c"
fi
rc=0
for k in "${kernels[@]}"; do
	if ((hit)); then
		# brd + null_blk + maicache pool, 256 MiB each by default: 3 GiB is ample.
		if "$REPO/tests/vm/run.sh" --kernel "$k" --cpu "$cpu" "${append[@]}" --mem 3G \
			--timeout 2400 "$REPO/tools/bench/vm-bench.sh" --host-cpu "$host_cpu" \
			--guest-cpu "$cpu" "$@"; then
			cp "$REPO/build/vm-runs/$k/vm-bench/bench.txt" "$REPO/build/bench/$k.txt"
			echo "== $REPO/build/bench/$k.txt"
			cat "$REPO/build/bench/$k.txt"
		else
			rc=1
		fi
	fi
	if ((scan)); then
		if "$REPO/tests/vm/run.sh" --kernel "$k" --mem 2G --timeout 1800 \
			"$REPO/tools/bench/scan-trace.sh"; then
			cp "$REPO/build/vm-runs/$k/scan-trace/scan.txt" "$REPO/build/bench/$k-scan.txt"
			echo "== $REPO/build/bench/$k-scan.txt"
			cat "$REPO/build/bench/$k-scan.txt"
		else
			rc=1
		fi
	fi
done
exit $rc
