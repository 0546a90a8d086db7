#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# Run a multi-VM test: N nodes, one VM each (its own kernel, module and
# daemon), on a VDE switch of their own that reaches nothing else (no tap,
# no route to the host). Every node runs the same script with
# MAICACHE_NODE=0..N-1 and MAICACHE_NODES=N; tests/vm/net.sh gives node i
# the address 10.77.0.(i+1). A test names its N in a "# vm: nodes N" line
# (tests/run-all.sh reads it; 2 without one), and a long one "# vm:
# newest-kernel" to run in make check on the newest kernel only.
# Files every node needs (a group key) go in $MAICACHE_SHARED, a directory
# of the host the nodes read through the read-only host root.
#
# Usage: tests/vm/multi.sh [--kernel KVER] [--timeout SECS] [--cpu MODEL] --nodes N TEST_SCRIPT
# (--cpu: qemu's -cpu for every node, as tests/vm/run.sh --cpu; default max)
# Prints "PASS <test> [<kver>] (N nodes, <secs>s)" or FAIL with each node's line.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVER=""
TIMEOUT=""
NODES=""
CPU=max
while (($#)); do
	case $1 in
	--kernel) KVER=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--nodes) NODES=${2:?}; shift 2 ;;
	--cpu) CPU=${2:?}; shift 2 ;;
	*) break ;;
	esac
done
if (($# != 1)) || ! [[ $NODES =~ ^[0-9]+$ ]] || ((NODES < 2 || NODES > 16)); then
	sed -n '13,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
TEST=$(realpath -e -- "$1")
NAME=$(basename "$TEST" .sh)
# Each node's life gets --timeout, else the test's "# vm: timeout SECS", else 300 s.
if [[ -z $TIMEOUT ]]; then
	TIMEOUT=$(sed -n 's/^#[[:space:]]*vm:[[:space:]]*timeout[[:space:]]*\([0-9]*\)[[:space:]]*$/\1/p' "$TEST")
	TIMEOUT=${TIMEOUT:-300}
fi
[[ -n $KVER ]] || KVER=$("$REPO/scripts/kernels.sh" | tail -n1)

run=$REPO/build/vm-runs/$KVER/$NAME
rm -rf "$run"
mkdir -p "$run/shared"
# The group key every node holds (read through the read-only host root).
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/shared/group.key")
# And the cluster's, for the tier between groups (home_key).
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/shared/home.key")
sw=$run/switch
vde_switch -d -s "$sw" -p "$run/switch.pid" -M "$run/switch.mgmt" >/dev/null
cleanup() {
	if [[ -f $run/switch.pid ]]; then
		kill "$(cat "$run/switch.pid")" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# node I: boot node I until a boot ends otherwise than killed as the test
# asked (run.sh exits 3), each boot its next life; the last boot's result
# is the node's.
node() {
	local i=$1 life=1 rc
	for ((;;)); do
		rc=0
		MAICACHE_SHARED=$run/shared MAICACHE_NODES=$NODES "$REPO/tests/vm/run.sh" --kernel "$KVER" \
			--timeout "$TIMEOUT" --cpu "$CPU" --smp 1 --mem 1G --node "$i" --life "$life" --vde "$sw" "$TEST" \
			>>"$run/node$i.result" 2>&1 || rc=$?
		((rc == 3)) || return "$rc"
		life=$((life + 1))
	done
}

# A node that asks to die (vm_kill_me writes kill-request in its output)
# has its qemu killed: no shutdown, no FIN or RST, as a crashed machine.
reaper() {
	local req dir
	for ((;;)); do
		for req in "$run"/node*/kill-request; do
			[[ -f $req ]] || continue
			dir=${req%/kill-request}
			[[ -f $dir/killed ]] && continue
			kill -KILL "$(cat "$dir/.vm/qemu.pid")" 2>/dev/null || continue
			touch "$dir/killed"
		done
		sleep 0.3
	done
}

start=$SECONDS
reaper &
reaper_pid=$!
pids=()
for ((i = 0; i < NODES; i++)); do
	node "$i" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
kill "$reaper_pid" 2>/dev/null || true
if ((rc == 0)); then
	echo "PASS $NAME [$KVER] ($NODES nodes, $((SECONDS - start))s)"
	exit 0
fi
echo "FAIL $NAME [$KVER]: a node failed"
# Every node's verdict first (its last life's, with the reason), then each
# one's whole output.
for ((i = 0; i < NODES; i++)); do
	grep -E '^(PASS|FAIL) ' "$run/node$i.result" | tail -n1 | sed 's/^/  /'
done
for ((i = 0; i < NODES; i++)); do
	sed 's/^/  /' "$run/node$i.result"
done
exit 1
