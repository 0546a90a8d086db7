#!/bin/bash
# Malformed and forbidden generic-netlink requests are refused with the right
# errno and extack, create nothing and leave the pool alone; unprivileged
# callers get EPERM; afterwards the module still serves reads.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"

cookie=0xbad

# mc_cleanup, then remove the devices nl-bad may have left too.
cleanup() {
	local id
	mc_cleanup
	for id in $("$ctl" --json list 2>/dev/null | json_num id); do
		"$ctl" remove "$id" || true
	done
}
trap cleanup EXIT

dmesg_before=$(dmesg | wc -l)

# nl-bad creates /dev/maicache3 (8 MiB, extent 64 KiB, cookie 0xbad, a volume
# name) halfway, checks that no later case touches it, and leaves it (--keep).
echo "== malformed requests"
"$bin/nl-bad" --keep || die "nl-bad: a malformed request was not refused as it should be"

echo "== unprivileged requests (uid 65534, no capabilities)"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$bin/nl-bad" --unpriv ||
	die "nl-bad --unpriv: an unprivileged request was not refused with EPERM"
err=$(expect_fail setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all "$ctl" add --size 1M --cookie 1 2>&1)
echo "$err"
grep -q "CAP_SYS_ADMIN" <<<"$err" || die "unprivileged maicachectl add not refused with EPERM"

echo "== state after the bad requests"
list=$("$ctl" list)
echo "$list"
assert_eq "$list" "/dev/maicache3 size 8388608 block 512 extent 65536 cookie 0xbad" \
	"device list after the bad requests"
blocks=(/sys/block/maicache*)
echo "${blocks[@]}"
assert_eq "${blocks[*]}" "/sys/block/maicache3" "block devices after the bad requests"
assert_eq "$(cat /sys/block/maicache3/maicache/name)" "0nl-bad_resident.v1+x:y@z" \
	"the volume name nl-bad gave /dev/maicache3"
pool=$("$ctl" --json pool)
echo "$pool"
grep -q '"size":268435456,' <<<"$pool" || die "the pool changed size"
grep -q '"used":0,' <<<"$pool" || die "the pool is in use before any read"

echo "== the module still works"
add_dev 4 6M 0x77 --extent-size 1M --block-size 4096
start_filler --pattern
"$pcheck" /dev/maicache3 "$cookie" || die "reading /dev/maicache3 failed"
"$pcheck" /dev/maicache4 0x77 --bs 64K || die "reading /dev/maicache4 failed"
"$pcheck" /dev/maicache3 "$cookie" --bs 4K --length 1M ||
	die "re-reading /dev/maicache3 failed"
"$ctl" stats 3
stop_filler

# A dump resumes after the last id it sent: a device made after one with a
# higher id must still be listed (id 5 once went missing here).
add_dev 6 1M 0x66
add_dev 5 1M 0x55
list=$("$ctl" list | cut -d' ' -f1 | xargs)
assert_eq "$list" "/dev/maicache3 /dev/maicache4 /dev/maicache5 /dev/maicache6" \
	"devices listed after adding 6 then 5"
remove_dev 5
remove_dev 6
remove_dev 4
"$ctl" remove 3
assert_eq "$("$ctl" list)" "" "device list at the end"

echo "== kernel log"
new_log=$(dmesg | tail -n +"$((dmesg_before + 1))")
echo "$new_log" | grep -v "attribute type .* has an invalid length" || true
if grep -Eiq 'out of memory|oom-kill|invoked oom|page allocation failure|vmalloc error|call trace' \
	<<<"$new_log"; then
	die "the kernel log shows an allocation failure or a trace"
fi
echo "netlink_bad_input: all cases refused as expected"
