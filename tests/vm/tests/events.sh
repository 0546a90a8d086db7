#!/bin/bash
# `maicachectl monitor` sees device-added/removed and daemon-attached/detached
# events, with the right device, cookie and pid, in order, for: add, filler
# start, filler stop (SIGTERM), filler killed (SIGKILL), remove. Two monitors
# see the same events.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT

out=$MAICACHE_OUT

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

for m in a b; do
	"$ctl" monitor >"$out/monitor-$m.log" 2>&1 &
	bgpids+=($!)
done

# The monitors are listening once they print an event: probe with a device of
# its own until both have seen one.
for try in $(seq 50); do
	add_dev 9 1M 0x9
	remove_dev 9
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

add_dev 0 8M 0x1234 --extent-size 64K
wait_for "$out/monitor-a.log" "device-added /dev/maicache0 cookie 0x1234"

start_filler --pattern
wait_for "$out/monitor-a.log" "daemon-attached pid $fpid"
"$pcheck" /dev/maicache0 0x1234 >/dev/null || die "read through the cache failed"
pid1=$fpid
stop_filler
wait_for "$out/monitor-a.log" "daemon-detached pid $pid1"

start_filler --pattern
wait_for "$out/monitor-a.log" "daemon-attached pid $fpid"
pid2=$fpid
kill_filler
wait_for "$out/monitor-a.log" "daemon-detached pid $pid2"

remove_dev 0
wait_for "$out/monitor-a.log" "device-removed /dev/maicache0 cookie 0x1234"
wait_for "$out/monitor-b.log" "device-removed /dev/maicache0 cookie 0x1234"
sleep 0.5
kill "${bgpids[@]}"
wait "${bgpids[@]}" 2>/dev/null || true
bgpids=()

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
