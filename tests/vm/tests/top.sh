#!/bin/bash
# maicachectl top (tools/ctl_top.c) in a real terminal: a tmux pane. It
# draws a row per device whose numbers move while a reader runs, q and ^C
# quit with status 0 and leave the terminal as it was (the screen of
# before back, the same stty settings); --once, --iterations and --json
# print frames for scripts; bad options are refused. The progress bar of
# maicachectl warmup shows in the same pane.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
export TMUX_TMPDIR=/tmp
tmux_kill() { tmux kill-server 2>/dev/null || true; }
cleanup_hooks+=(tmux_kill)
trap mc_cleanup EXIT
real=$bin/maicachectl

pane() { tmux capture-pane -p -t mc; }
# until_pane TEXT [SECONDS]: wait until the pane shows TEXT.
until_pane() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		pane | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	pane >"$MAICACHE_OUT/pane.txt"
	die "the pane never showed '$1' (pane in pane.txt)"
}
# keys TEXT...: type into the pane.
keys() { tmux send-keys -t mc "$@"; }

add_dev 0 64M 0x70 --extent-size 1M
add_dev 1 64M 0x71 --extent-size 1M
start_filler --pattern --delay-ms 300
"$ctl" warmup 0 >/dev/null

echo "== frames for scripts"
out=$("$ctl" --json top --iterations 2)
echo "$out"
python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin.read().splitlines()]
assert len(lines) == 2, lines
for f in lines:
    assert 0.9 < f["interval_s"] < 3, f
    assert [d["name"] for d in f["devices"]] == ["maicache0", "maicache1"], f
    assert f["devices"][0]["fills_in_flight"] == 0, f
' <<<"$out" || die "top --json --iterations 2"
out=$("$real" top --once)
echo "$out"
grep -q "^maicache top: pool 256 MiB" <<<"$out" || die "top --once has no header"
grep -qE "^DEVICE +VOLUME +HIT% +DRAM MiB/s +FILL MiB/s +IN FLIGHT +FILL p50 +FILL p99$" <<<"$out" ||
	die "top --once has no column line"
grep -qE "^maicache1 +- +- +0\.0 +0\.0 +0 +- +-$" <<<"$out" || die "top --once: the idle device's row"
rc=0
err=$("$real" top --iterations 0 2>&1) || rc=$?
assert_eq "$rc" 2 "top --iterations 0"
grep -q "is not a count of 1 or more" <<<"$err" || die "top --iterations 0: '$err'"
rc=0
err=$("$real" top extra 2>&1) || rc=$?
assert_eq "$rc" 2 "top with an argument"

echo "== live in a tmux pane"
tmux new-session -d -s mc -x 150 -y 30 "bash --norc --noprofile"
keys "stty -g >/tmp/stty.before; echo BEFORE-TOP" Enter
until_pane BEFORE-TOP
# The settings are written before TOP-EXIT shows: the test waits for that.
keys "$real top; rc=\$?; stty -g >/tmp/stty.after; echo TOP-EXIT=\$rc" Enter
until_pane "(q quits)"
until_pane "maicache0"
pane | tee "$MAICACHE_OUT/pane-idle.txt"
! pane | grep -q BEFORE-TOP || die "top does not have the screen to itself"
# A reader of the warmed device: hits, MiB/s from DRAM.
(while :; do dd if=/dev/maicache0 of=/dev/null bs=1M iflag=direct status=none; done) &
bgpids+=($!)
# The frame of a second with reads in it (a loaded host may take a few).
for ((i = 0; i < 100; i++)); do
	row=$(pane | grep "^maicache0 ")
	read -r _ _ hit dram _ <<<"$row"
	[[ $hit != - ]] && break
	sleep 0.1
done
echo "$row" | tee "$MAICACHE_OUT/pane-reading.txt"
assert_eq "$hit" 100.0 "hit ratio of a reader of a warmed device"
[[ $dram != 0.0 ]] || die "no MiB/s from DRAM while a reader runs: $row"
for ((i = 0; i < 50; i++)); do
	row2=$(pane | grep "^maicache0 ")
	[[ $row2 != "$row" ]] && break
	sleep 0.1
done
echo "$row2"
[[ $row2 != "$row" ]] || die "the numbers did not move in 5 s: $row2"
kill "${bgpids[-1]}"
wait "${bgpids[-1]}" 2>/dev/null || true
# A reader that misses: fills of the other device, their latency (in us
# below 1 ms, as top_calc.c prints it).
"$pcheck" /dev/maicache1 0x71 --length 8M &
bgpids+=($!)
for ((i = 0; i < 50; i++)); do
	row=$(pane | grep "^maicache1 ")
	grep -qE "^maicache1 .* [0-9.]+ [um]s +[0-9.]+ [um]s$" <<<"$row" && break
	sleep 0.1
done
echo "$row"
grep -qE "^maicache1 .* [0-9.]+ [um]s +[0-9.]+ [um]s$" <<<"$row" || die "no fill latency on maicache1: $row"
wait "${bgpids[-1]}" || die "reading /dev/maicache1 failed"

keys q
until_pane "TOP-EXIT=0"
pane | tee "$MAICACHE_OUT/pane-after-q.txt" | grep -q BEFORE-TOP ||
	die "the screen of before did not come back after q"
cmp /tmp/stty.before /tmp/stty.after || die "q left the terminal settings changed"

# ^C quits as cleanly.
rm /tmp/stty.after
keys clear Enter "$real top; rc=\$?; stty -g >/tmp/stty.after; echo TOP-EXIT=\$rc" Enter
until_pane "(q quits)"
keys C-c
until_pane "TOP-EXIT=0"
cmp /tmp/stty.before /tmp/stty.after || die "^C left the terminal settings changed"

echo "== the progress bar of warmup"
keys clear Enter "$real warmup 1; echo WARM-EXIT=\$?" Enter
# The bar lives about a second (48 fills at 300 ms, several at once): look
# for it in one capture of the pane, not in a second one taken after it may
# have given way to the summary (a CI run lost that race).
bar=""
for ((i = 0; i < 200; i++)); do
	bar=$(pane | grep -E "^\[[#.]+\] +[0-9]+%  .* / 64.0 MiB  .*/s  ETA [0-9-]+:[0-9-]+") && break
	sleep 0.05
done
[[ -n $bar ]] || { pane; die "no progress bar"; }
echo "$bar"
until_pane "WARM-EXIT=0"
pane | grep -E "^warmup complete: 64.0 MiB of 64.0 MiB in .* 64 extent\(s\): [0-9]+ were cached, [0-9]+ fetched$" ||
	{ pane; die "no summary after the warmup"; }
tmux kill-server
stop_filler
remove_dev 1
remove_dev 0
echo "top: frames, the live view in tmux, q and ^C restore the terminal"
