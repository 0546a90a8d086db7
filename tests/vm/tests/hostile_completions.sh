#!/bin/bash
# A hostile daemon cannot corrupt reads or hurt the kernel:
#  1. mc-filler --hostile (garbage completions and index games mixed with real
#     fills) for a few seeds: every read returns the right data, no fill fails,
#     and the kernel counts at least every garbage completion the filler posted;
#  2. ring-garbage: refused mmaps/writes/opens, then random bytes over the whole
#     completion region with kicks, while reads wait for fills; those reads end
#     (data right, or EIO once the daemon timeout passes), never hang, and a
#     real filler afterwards serves everything.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"

bin=$MAICACHE_ROOT/build/user
ctl=$bin/maicachectl
out=$MAICACHE_OUT
timeout_ms=5000
filler_pid=
reader_pid=

cleanup() {
	[[ -z $reader_pid ]] || kill "$reader_pid" 2>/dev/null || true
	[[ -z $filler_pid ]] || kill "$filler_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	"$ctl" remove 0 2>/dev/null || true
	"$ctl" remove 1 2>/dev/null || true
	"$ctl" remove 2 2>/dev/null || true
}
trap cleanup EXIT

json_num() { grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
bad_completions() { "$ctl" --json pool | json_num bad_completions; }
fill_errors() { "$ctl" --json stats "$1" | json_num fill_errors; }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

start_filler() {
	"$bin/mc-filler" --pattern --quiet "$@" &
	filler_pid=$!
	for _ in $(seq 100); do
		"$ctl" --json pool | grep -q '"daemon_attached":true' && return 0
		kill -0 "$filler_pid" 2>/dev/null || die "mc-filler $* exited at start"
		sleep 0.1
	done
	die "mc-filler $* did not attach"
}

stop_filler() {
	kill -TERM "$filler_pid"
	wait "$filler_pid" || die "mc-filler exited $? on SIGTERM"
	filler_pid=
}

# A 16 MiB pool under 64 MiB of devices: every pass misses and evicts.
"$ctl" pool --size 16M --daemon-timeout-ms "$timeout_ms"
"$ctl" add --size 40M --cookie 0x1111 --extent-size 64K --id 0
"$ctl" add --size 24M --cookie 0x2222 --extent-size 1M --block-size 4096 --id 1

echo "== 1. mc-filler --hostile"
for seed in 1 7 1234; do
	stats=$out/filler-hostile-$seed.stats
	bad0=$(bad_completions)
	start_filler --hostile --seed "$seed" --stats-file "$stats"
	for pass in 1 2 3; do
		timeout 300 "$bin/mc-pattern-check" /dev/maicache0 0x1111 ||
			die "seed $seed pass $pass: /dev/maicache0 read wrong or failed ($?)"
		timeout 300 "$bin/mc-pattern-check" /dev/maicache1 0x2222 --bs 256K ||
			die "seed $seed pass $pass: /dev/maicache1 read wrong or failed ($?)"
	done
	stop_filler
	bad1=$(bad_completions)
	cat "$stats"
	cpl=$(stat_of hostile_cpl "$stats")
	idx=$(stat_of hostile_idx "$stats")
	misses=$(stat_of misses "$stats")
	echo "seed $seed: $misses misses filled, hostile_cpl $cpl hostile_idx $idx," \
		"kernel bad_completions +$((bad1 - bad0))"
	((misses > 0)) || die "seed $seed: the filler filled nothing"
	((cpl > 0)) || die "seed $seed: the filler posted no garbage completion"
	((bad1 - bad0 > 0)) || die "seed $seed: the kernel counted no bad completion"
	((bad1 - bad0 >= cpl)) ||
		die "seed $seed: kernel counted $((bad1 - bad0)) bad completions, filler posted $cpl"
	assert_eq "$(fill_errors 0)" 0 "seed $seed: fill errors on /dev/maicache0"
	assert_eq "$(fill_errors 1)" 0 "seed $seed: fill errors on /dev/maicache1"
done

echo "== 2. ring-garbage"
# Reads that miss while only ring-garbage is attached. With restart, a real
# filler comes right after it and the read must succeed; without, the fills
# wait past the daemon timeout and the read must fail with EIO.
# Each phase reads its own, never cached, part of /dev/maicache2.
"$ctl" add --size 48M --cookie 0x3333 --extent-size 64K --id 2
garbage_phase() {
	local seed=$1 restart=$2 off=$3 bad0 bad1 rc t0 t1
	bad0=$(bad_completions)
	timeout 120 "$bin/mc-pattern-check" /dev/maicache2 0x3333 --length 8M --offset "$off" &
	reader_pid=$!
	sleep 0.5
	"$bin/ring-garbage" -s "$seed" -r 3000 || die "ring-garbage (seed $seed) failed"
	bad1=$(bad_completions)
	echo "ring-garbage seed $seed: kernel bad_completions +$((bad1 - bad0))"
	((bad1 > bad0)) || die "ring-garbage: the kernel counted no bad completion"
	t0=$SECONDS
	if ((restart)); then
		start_filler
	fi
	rc=0
	wait "$reader_pid" || rc=$?
	reader_pid=
	t1=$SECONDS
	echo "reader after ring-garbage (filler restarted: $restart): exit $rc after $((t1 - t0)) s"
	case $rc in
	0) ;;
	2) ((restart == 0)) || die "a filler was attached, but the read failed" ;;
	124) die "the read hung after ring-garbage" ;;
	*) die "the read returned wrong data after ring-garbage (exit $rc)" ;;
	esac
	if ((restart == 0)); then
		assert_eq "$rc" 2 "read with no daemon after ring-garbage (want EIO)"
		((t1 - t0 <= timeout_ms / 1000 + 10)) ||
			die "EIO came $((t1 - t0)) s after the daemon left (timeout ${timeout_ms} ms)"
	else
		stop_filler
	fi
}
garbage_phase 11 1 0
garbage_phase 12 0 16M
garbage_phase 13 1 32M

echo "== 3. a real filler serves everything afterwards"
start_filler --stats-file "$out/filler-final.stats"
"$bin/mc-pattern-check" /dev/maicache0 0x1111 || die "final read of /dev/maicache0 failed"
"$bin/mc-pattern-check" /dev/maicache1 0x2222 || die "final read of /dev/maicache1 failed"
"$bin/mc-pattern-check" /dev/maicache2 0x3333 || die "final read of /dev/maicache2 failed"
stop_filler
cat "$out/filler-final.stats"
"$ctl" pool
"$ctl" stats 2
"$ctl" remove 0
"$ctl" remove 1
"$ctl" remove 2
"$ctl" pool --size 256M
dmesg | grep -c "rejected from the daemon" || true
echo "hostile_completions: OK"
