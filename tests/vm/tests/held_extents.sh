#!/bin/bash
# Held extents, where a node keeps its group's extents in the pool
# (proto/maicache_genl.h): mc-held-probe drives the netlink ABI as the
# daemon does and checks every answer (bad input refused with its errno,
# bytes pinnable only once their fill completed on the ring, pins counted,
# bounded by max_pins, blocking removal, refused to another process). A
# daemon that exits with a pin and a fill outstanding leaves no pin and no
# filling slot; held devices never show in maicachectl list; the next
# maicached removes the held devices a crashed one left, and the module
# unloads after.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
trap mc_cleanup EXIT

probe=$bin/mc-held-probe
max_pins=/sys/module/maicache/parameters/max_pins
ext=$((256 << 10))

"$ctl" pool --size 16M
add_dev 0 4M 0x1111

echo "== the ABI, as the daemon"
assert_eq "$(cat "$max_pins")" 1024 "max_pins default"
echo 2 >"$max_pins"
"$probe" --disk 0 --max-pins 2 || die "mc-held-probe found a wrong answer"
echo 1024 >"$max_pins"
assert_eq "$(pool_field pins)" 0 "pins after the probe"
assert_eq "$(pool_field used)" 0 "pool bytes in use after the probe removed its device"

echo "== what a daemon leaves ends with it"
"$probe" --leave | tee "$MAICACHE_OUT/probe-leave.log" || die "mc-held-probe --leave failed"
assert_eq "$(pool_field pins)" 0 "pins once the daemon exited"
# Extents 1, 2 and 7 stay held; the fill of extent 3 failed at the exit.
assert_eq "$(pool_field used)" $((3 * ext)) "pool bytes held after the exit"
held=$(awk '/^held device/ {print $3}' "$MAICACHE_OUT/probe-leave.log")
[[ -n $held ]] || die "the probe did not name the device it left"
"$ctl" list | grep -q "held" && die "maicachectl list shows a held device"
"$ctl" --json list | grep -q "\"id\":$held" && die "maicachectl --json list shows held device $held"

echo "== the next daemon removes them"
start_daemon
grep -q "removed 1 held devices a previous daemon left" "$dlog" ||
	die "maicached did not say it removed the held device"
assert_eq "$(pool_field used)" 0 "pool bytes after maicached started"
stop_daemon
remove_dev 0
rmmod maicache || die "the module does not unload once the held device is gone"
echo "held_extents: ok"
