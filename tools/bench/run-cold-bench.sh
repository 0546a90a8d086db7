#!/bin/bash
# Run the cold-read benchmark (tools/bench/cold-bench.sh: maicache's file
# source against loop with direct I/O and nbd on the same file) in a VM per
# kernel, one boot each, and collect the reports.
#
# Usage: tools/bench/run-cold-bench.sh [--kernel KVER]... [--cpu MODEL] [-- COLD_BENCH_ARGS...]
#   --kernel KVER  only this kernel (repeatable; default: every kernel from
#                  scripts/kernels.sh)
#   --cpu MODEL    qemu's -cpu for the VM (default max,-erms: without ERMS
#                  the guest kernel copies 8 bytes a step everywhere, where
#                  with it copies to and from user memory are `rep movsb`,
#                  which the emulator runs a byte at a time; see
#                  docs/performance.md, "The emulator's byte copies")
#   after --        arguments for cold-bench.sh (--size-mb N --runtime S
#                  --repeat N --extent-size SIZE --pool-mb N)
#
# Reports: build/bench/<kver>-cold.txt; the VM's files (every run, raw fio
# JSON) stay in build/vm-runs/<kver>/cold-bench/. One VM at a time: run.sh
# wipes that folder at start.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kernels=()
cpu=max,-erms
while (($#)); do
	case $1 in
	--kernel) kernels+=("${2:?}"); shift 2 ;;
	--cpu) cpu=${2:?}; shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-cold-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
((${#kernels[@]})) || mapfile -t kernels < <("$REPO/scripts/kernels.sh")
((${#kernels[@]})) || { echo "run-cold-bench.sh: no kernel (scripts/fetch-kernels.sh)" >&2; exit 2; }
if ! command -v nbd-server >/dev/null || ! command -v nbd-client >/dev/null; then
	echo "run-cold-bench.sh: nbd-server and nbd-client are missing (make deps)" >&2
	exit 2
fi

[[ -x $REPO/build/user/maicachectl && -x $REPO/build/user/maicached ]] ||
	make -C "$REPO" user >/dev/null
mkdir -p "$REPO/build/bench"
# The guest sees an emulated CPU: name the host's in the report.
host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
host_cpu="$host_cpu, $(nproc) cores"
rc=0
for k in "${kernels[@]}"; do
	# tmpfs file + pool of the same size, page cache of loop and nbd: 3 GiB is ample.
	if "$REPO/tests/vm/run.sh" --kernel "$k" --cpu "$cpu" --mem 3G --timeout 2400 \
		"$REPO/tools/bench/cold-bench.sh" --host-cpu "$host_cpu" --guest-cpu "$cpu" "$@"; then
		cp "$REPO/build/vm-runs/$k/cold-bench/cold.txt" "$REPO/build/bench/$k-cold.txt"
		echo "== $REPO/build/bench/$k-cold.txt"
		cat "$REPO/build/bench/$k-cold.txt"
	else
		rc=1
	fi
done
exit $rc
