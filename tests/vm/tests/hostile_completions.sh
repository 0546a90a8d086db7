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
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
trap mc_cleanup EXIT

out=$MAICACHE_OUT
# The fills of a reader wait this long for a daemon after ring-garbage
# leaves: long enough for the next filler to attach on a slow kernel (on
# the debug kernel, beside a CI run, 5 s was not).
timeout_ms=15000

# fill_errors ID: the fill_errors counter of `maicachectl --json stats ID`.
fill_errors() { "$ctl" --json stats "$1" | json_num fill_errors; }

# A 16 MiB pool under 64 MiB of devices: every pass misses and evicts.
"$ctl" pool --size 16M --daemon-timeout-ms "$timeout_ms"
add_dev 0 40M 0x1111 --extent-size 64K
add_dev 1 24M 0x2222 --extent-size 1M --block-size 4096

echo "== 1. mc-filler --hostile"
for seed in 1 7 1234; do
	stats=$out/filler-hostile-$seed.stats
	bad0=$(pool_field bad_completions)
	start_filler --pattern --hostile --seed "$seed" --stats-file "$stats"
	for pass in 1 2 3; do
		timeout 300 "$pcheck" /dev/maicache0 0x1111 ||
			die "seed $seed pass $pass: /dev/maicache0 read wrong or failed ($?)"
		timeout 300 "$pcheck" /dev/maicache1 0x2222 --bs 256K ||
			die "seed $seed pass $pass: /dev/maicache1 read wrong or failed ($?)"
	done
	stop_filler
	bad1=$(pool_field bad_completions)
	cat "$stats"
	cpl=$(fstat "$stats" hostile_cpl)
	idx=$(fstat "$stats" hostile_idx)
	misses=$(fstat "$stats" misses)
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
add_dev 2 48M 0x3333 --extent-size 64K
garbage_phase() {
	local seed=$1 restart=$2 off=$3 bad0 bad1 rc t0 t1
	bad0=$(pool_field bad_completions)
	timeout 120 "$pcheck" /dev/maicache2 0x3333 --length 8M --offset "$off" &
	bgpids=($!)
	sleep 0.5
	"$bin/ring-garbage" -s "$seed" -r 3000 || die "ring-garbage (seed $seed) failed"
	bad1=$(pool_field bad_completions)
	echo "ring-garbage seed $seed: kernel bad_completions +$((bad1 - bad0))"
	((bad1 > bad0)) || die "ring-garbage: the kernel counted no bad completion"
	t0=$SECONDS
	if ((restart)); then
		start_filler --pattern
	fi
	rc=0
	wait "${bgpids[0]}" || rc=$?
	bgpids=()
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
start_filler --pattern --stats-file "$out/filler-final.stats"
"$pcheck" /dev/maicache0 0x1111 || die "final read of /dev/maicache0 failed"
"$pcheck" /dev/maicache1 0x2222 || die "final read of /dev/maicache1 failed"
"$pcheck" /dev/maicache2 0x3333 || die "final read of /dev/maicache2 failed"
stop_filler
cat "$out/filler-final.stats"
"$ctl" pool
"$ctl" stats 2
remove_dev 0
remove_dev 1
remove_dev 2
"$ctl" pool --size 256M
dmesg | grep -c "rejected from the daemon" || true
echo "hostile_completions: OK"
