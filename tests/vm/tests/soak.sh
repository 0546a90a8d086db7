#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# The soak: for a bounded time (its argument, in seconds: 90 by default, as
# make check runs it; `tests/vm/run.sh --timeout 4000 tests/vm/tests/soak.sh
# 3600` for an hour), readers verify random ranges of three volumes (two
# files and a blob in Azurite, 32 MiB through a 24 MiB pool, so that
# extents are evicted and filled again) with O_DIRECT, and one reads them
# whole through the page cache, while one operation after another, in
# shuffled rounds, disturbs them:
#   - maicached killed with SIGKILL (or stopped with SIGTERM) and started
#     again 0.2-2 s later: fills in flight wait for the next daemon;
#   - Azurite paused with SIGSTOP for 2 s, well within the request timeout;
#   - a fourth volume attached, read whole with verification, detached;
#   - a device with no source added and removed;
#   - a pool resize, refused with its message while devices exist.
# Every byte read is checked against what its source holds (the pattern of
# mc-pattern-check). At the end: no wrong byte, no I/O error (none of the
# operations explains one for these readers), every reader and every
# operation ran, the three volumes read whole once more, and once every
# volume is detached the pool holds nothing and the module's mc_cmd slab
# holds as many objects as before the soak. The kernel log is the
# harness's to check (run.sh fails a test on a warning, a BUG or a splat).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"

secs=${1:-90}
if [[ ! $secs =~ ^[0-9]+$ ]] || ((secs < 10)); then
	die "soak.sh: '$secs' is not a number of seconds, at least 10"
fi
work=/tmp/soak
stop=$work/stop
errors=$work/errors
mkdir -p "$work"
: >"$errors"

soak_cleanup() {
	touch "$stop"
	[[ -z $azpid ]] || kill -CONT "$azpid" 2>/dev/null || true
}
cleanup_hooks=(soak_cleanup "${cleanup_hooks[@]}")
trap mc_cleanup EXIT

# mc_cmd objects in use, from /proc/slabinfo (run.sh boots with
# slab_nomerge, so the cache is the module's alone). Shrunk first: SLUB
# counts the free objects of a CPU's current slab as active until then.
cmd_objs() {
	echo 1 >/sys/kernel/slab/mc_cmd/shrink
	awk '$1 == "mc_cmd" {print $2; found = 1} END {if (!found) print "none"}' /proc/slabinfo
}

# The volumes: NAME SEED SIZE. The seed is the pattern's (mc-pattern-check).
names=(files-a files-b blob-c)
seeds=(0x50a1 0x50b2 0x50c3)
sizes=($((16 << 20)) $((8 << 20)) $((8 << 20)))
churn_seed=0x50d4
churn_size=$((2 << 20))
for i in 0 1; do
	"$pcheck" "$work/${names[i]}.img" "${seeds[i]}" --make "${sizes[i]}"
done
"$pcheck" "$work/churn.img" "$churn_seed" --make "$churn_size"
"$pcheck" "$work/blob-c.img" "${seeds[2]}" --make "${sizes[2]}"

azurite_start
blob_mkcontainer soak
blob_put soak blob-c.img "$work/blob-c.img" >/dev/null
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"

"$ctl" pool --size 24M >/dev/null
start_daemon
devs_of=()
devs_of[0]=$(attach "file://$work/files-a.img" --name files-a --extent-size 256K)
devs_of[1]=$(attach "file://$work/files-b.img" --name files-b --extent-size 1M)
devs_of[2]=$(attach "$(blob_url soak blob-c.img)" --name blob-c --extent-size 256K)
echo "volumes: ${devs_of[*]}"
objs0=$(cmd_objs)
[[ $objs0 != none ]] || die "no mc_cmd cache in /proc/slabinfo"
echo "mc_cmd objects in use before the soak: $objs0"

# reader N: random ranges of the three volumes, with O_DIRECT, until $stop.
reader() {
	local n=$1 v off len rc checks=0 lens=(4096 16384 65536 262144 1048576)
	local blocks
	RANDOM=$((n * 7919 + 17))
	while [[ ! -e $stop ]]; do
		v=$((RANDOM % 3))
		blocks=$((sizes[v] / 4096))
		off=$((((RANDOM << 15) | RANDOM) % blocks * 4096))
		len=${lens[RANDOM % 5]}
		((len <= sizes[v] - off)) || len=$((sizes[v] - off))
		rc=0
		"$pcheck" "${devs_of[v]}" "${seeds[v]}" --offset "$off" --length "$len" \
			--bs 256K >"$work/reader$n.out" 2>&1 || rc=$?
		if ((rc)); then
			echo "reader $n, ${names[v]} at $off+$len (rc $rc, $(cut -d' ' -f1 /proc/uptime)s): $(cat "$work/reader$n.out")" >>"$errors"
		fi
		checks=$((checks + 1))
	done
	echo "$checks" >"$work/reader$n.count"
}

# whole_reader: each volume read whole through the page cache and compared
# with its source file (dropped from the page cache before each pass).
whole_reader() {
	local v passes=0
	while [[ ! -e $stop ]]; do
		for v in 0 1 2; do
			blockdev --flushbufs "${devs_of[v]}"
			if ! cmp -s "${devs_of[v]}" "$work/${names[v]}.img"; then
				echo "whole reader: ${names[v]} differs from its source ($(cut -d' ' -f1 /proc/uptime)s): $(cmp "${devs_of[v]}" "$work/${names[v]}.img" 2>&1 | head -1)" >>"$errors"
			fi
		done
		passes=$((passes + 1))
	done
	echo "$passes" >"$work/whole.count"
}

for n in 0 1 2; do
	reader "$n" &
	bgpids+=($!)
done
whole_reader &
bgpids+=($!)
readers=("${bgpids[@]: -4}")

declare -A ran=()
restart_daemon() {
	if ((RANDOM % 2)); then
		kill_daemon
	else
		stop_daemon
	fi
	sleep "0.$((RANDOM % 9 + 2))"
	((RANDOM % 4)) || sleep 1
	start_daemon
}

pause_azurite() {
	azurite_pause
	sleep 2
	azurite_resume
}

churn_volume() {
	local dev
	dev=$(attach "file://$work/churn.img" --name churn --extent-size 64K)
	"$pcheck" "$dev" "$churn_seed" --bs 128K >/dev/null ||
		echo "churn: $dev read wrong or failed" >>"$errors"
	"$ctl" detach churn >/dev/null || die "detach of the churn volume failed"
	[[ ! -e $dev ]] || die "$dev is still there after its detach"
}

add_remove_device() {
	local out
	out=$("$ctl" add --size 4M --cookie 0x50e5 --id 60) || die "add of a device with no source failed"
	[[ $out == /dev/maicache60 && -b $out ]] || die "add printed '$out'"
	"$ctl" remove 60 || die "remove of /dev/maicache60 failed"
}

resize_refused() {
	local out
	out=$("$ctl" pool --size 32M 2>&1) && die "a pool resize with devices attached worked"
	grep -q "remove all devices before resizing the pool" <<<"$out" || die "pool resize refused with '$out'"
	assert_eq "$(pool_field size)" $((24 << 20)) "pool size after the refused resize"
}

ops=(restart_daemon pause_azurite churn_volume add_remove_device resize_refused)
end=$((SECONDS + secs))
rounds=0
while ((SECONDS < end)); do
	for op in $(printf '%s\n' "${ops[@]}" | shuf); do
		((SECONDS < end)) || break
		echo "$(cut -d' ' -f1 /proc/uptime)s: $op"
		"$op"
		ran[$op]=$((${ran[$op]:-0} + 1))
		sleep "0.$((RANDOM % 10))"
	done
	rounds=$((rounds + 1))
done
touch "$stop"
for p in "${readers[@]}"; do
	wait "$p" || die "a reader exited with an error"
done

for op in "${ops[@]}"; do
	echo "$op: ${ran[$op]:-0} times"
	((${ran[$op]:-0} >= 1)) || die "$op never ran in $secs s"
done
total=0
for n in 0 1 2; do
	c=$(cat "$work/reader$n.count")
	echo "reader $n: $c ranges checked"
	((c >= 10)) || die "reader $n checked only $c ranges"
	total=$((total + c))
done
echo "whole reader: $(cat "$work/whole.count") passes"
(($(cat "$work/whole.count") >= 1)) || die "the whole reader finished no pass"
if [[ -s $errors ]]; then
	cat "$errors"
	die "$(wc -l <"$errors") wrong or failed reads in the soak"
fi
for v in 0 1 2; do
	"$pcheck" "${devs_of[v]}" "${seeds[v]}" >/dev/null || die "${names[v]}: the last whole read failed"
	"$ctl" stats "$(dev_id "${devs_of[v]}")" | grep -E "misses|evictions|fill errors"
done

for v in 0 1 2; do
	"$ctl" detach "${names[v]}" >/dev/null || die "detach ${names[v]}"
done
assert_eq "$(pool_field used)" 0 "pool bytes in use once every volume is detached"
assert_eq "$(cmd_objs)" "$objs0" "mc_cmd objects once every volume is detached"
stop_daemon
echo "soak: $secs s, $rounds rounds, $total ranges verified; nothing wrong, nothing failed, nothing leaked"
