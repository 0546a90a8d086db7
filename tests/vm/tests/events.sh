#!/bin/bash
# `maicachectl monitor` sees device-added/removed and daemon-attached/detached
# events, with the right device, cookie and pid, in order, for: add, filler
# start, filler stop (SIGTERM), filler killed (SIGKILL), remove. Two monitors
# see the same events.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

bin=$MAICACHE_ROOT/build/user
ctl=$bin/maicachectl
out=$MAICACHE_OUT
mon_pids=()
filler_pid=

cleanup() {
	[[ -z $filler_pid ]] || kill "$filler_pid" 2>/dev/null || true
	((${#mon_pids[@]} == 0)) || kill "${mon_pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	"$ctl" remove 0 2>/dev/null || true
	"$ctl" remove 9 2>/dev/null || true
}
trap cleanup EXIT

# wait_for FILE LINE: until FILE has LINE (exactly), at most 20 s.
wait_for() {
	for _ in $(seq 200); do
		grep -qxF "$2" "$1" && return 0
		sleep 0.1
	done
	echo "--- $1"
	cat "$1"
	die "no event '$2' in $1"
}

wait_attached() {
	for _ in $(seq 100); do
		"$ctl" --json pool | grep -q "\"daemon_attached\":true,\"daemon_pid\":$1," && return 0
		sleep 0.1
	done
	die "daemon $1 did not attach"
}

for m in a b; do
	"$ctl" monitor >"$out/monitor-$m.log" 2>&1 &
	mon_pids+=($!)
done

# The monitors are listening once they print an event: probe with a device of
# its own until both have seen one.
for try in $(seq 50); do
	"$ctl" add --size 1M --cookie 0x9 --id 9 >/dev/null
	"$ctl" remove 9
	if grep -q '^device-removed /dev/maicache9' "$out/monitor-a.log" &&
		grep -q '^device-removed /dev/maicache9' "$out/monitor-b.log"; then
		break
	fi
	((try < 50)) || die "the monitors never reported the probe device"
	sleep 0.2
done
skip_a=$(wc -l <"$out/monitor-a.log")
skip_b=$(wc -l <"$out/monitor-b.log")
echo "monitors ready after $try probe(s)"

"$ctl" add --size 8M --cookie 0x1234 --extent-size 64K --id 0
wait_for "$out/monitor-a.log" "device-added /dev/maicache0 cookie 0x1234"

"$bin/mc-filler" --pattern --quiet &
filler_pid=$!
wait_attached "$filler_pid"
wait_for "$out/monitor-a.log" "daemon-attached pid $filler_pid"
"$bin/mc-pattern-check" /dev/maicache0 0x1234 >/dev/null || die "read through the cache failed"
kill -TERM "$filler_pid"
wait "$filler_pid" || die "mc-filler exited $?"
pid1=$filler_pid
filler_pid=
wait_for "$out/monitor-a.log" "daemon-detached pid $pid1"

"$bin/mc-filler" --pattern --quiet &
filler_pid=$!
wait_attached "$filler_pid"
wait_for "$out/monitor-a.log" "daemon-attached pid $filler_pid"
kill -KILL "$filler_pid"
wait "$filler_pid" 2>/dev/null || true
pid2=$filler_pid
filler_pid=
wait_for "$out/monitor-a.log" "daemon-detached pid $pid2"

"$ctl" remove 0
wait_for "$out/monitor-a.log" "device-removed /dev/maicache0 cookie 0x1234"
wait_for "$out/monitor-b.log" "device-removed /dev/maicache0 cookie 0x1234"
sleep 0.5
kill "${mon_pids[@]}"
wait "${mon_pids[@]}" 2>/dev/null || true
mon_pids=()

want=$(printf '%s\n' \
	"device-added /dev/maicache0 cookie 0x1234" \
	"daemon-attached pid $pid1" \
	"daemon-detached pid $pid1" \
	"daemon-attached pid $pid2" \
	"daemon-detached pid $pid2" \
	"device-removed /dev/maicache0 cookie 0x1234")
for m in a b; do
	skip=$skip_a
	[[ $m == a ]] || skip=$skip_b
	got=$(tail -n +"$((skip + 1))" "$out/monitor-$m.log")
	echo "--- monitor $m"
	echo "$got"
	assert_eq "$got" "$want" "events seen by monitor $m"
done
echo "events: OK"
