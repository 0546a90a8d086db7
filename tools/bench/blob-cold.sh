#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# Cold reads from Blob, inside the VM: the same blob read (a) with plain
# parallel ranged GETs by curl, the ceiling of what any client gets from
# this Azurite, (b) through a fresh maicache device with as many 1 MiB
# reads in flight (every extent a miss: one ranged GET each, by maicached)
# and (c) through a fresh device by one reader at a time (QD1), where only
# the kernel's readahead keeps GETs in flight; (d) as (b) with a daemon that
# does not check the bodies' MD5 (verify_md5 = 0), to show what the check
# costs: curl checks nothing. Rounds interleaved in one boot; prints MB/s
# of each pass and the medians of the ratios per round.
#
# Run (the VM needs room for the blob twice: the file and Azurite's copy):
#   tests/vm/run.sh --kernel KVER --mem 3G --timeout 3600 \
#       tools/bench/blob-cold.sh [SIZE_MB (64)] [PAR (16)] [ROUNDS (1)]
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"
trap mc_cleanup EXIT

size_mb=${1:-64}
par=${2:-16}
rounds=${3:-1}
ext=$((1 << 20))
n=$((size_mb))
bytes=$((size_mb << 20))

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

head -c "$bytes" /dev/urandom >/tmp/cold.img
azurite_start >/dev/null
blob_mkcontainer bench --public blob
blob_put bench cold.img /tmp/cold.img >/dev/null
url=$(blob_url bench cold.img)
rm -f /tmp/cold.img

# Azurite (Node.js) compiles its hot paths on the first requests: warm it
# up so that neither measurement pays for that.
for ((i = 0; i < 32; i++)); do
	curl -sS --fail -o /dev/null -r 0-$((ext - 1)) "$url" || die "warm-up GET failed"
done

# (a) curl: one process, $n ranged GETs of 1 MiB, $par at a time over
#     reused connections, bodies discarded. Prints seconds.
args=()
for ((i = 0; i < n; i++)); do
	((i == 0)) || args+=(--next)
	args+=(-sS --fail -o /dev/null -r "$((i * ext))-$((i * ext + ext - 1))" "$url")
done
curl_pass() {
	local t0=$EPOCHREALTIME
	curl -sS --parallel --parallel-max "$par" "${args[@]}" || die "curl failed"
	secs_since "$t0"
}

# (b), (c), (d) maicache: a fresh device (nothing of the blob in the pool), read
#     once with QD 1 MiB reads in flight; every extent one GET. Prints seconds.
max=$((par > 16 ? par : 16))
mc_pass() {
	local qd=$1 dev gets0 t0 s
	gets0=$(daemon_stat blob_gets)
	dev=$(attach "$url" --extent-size 1M --anonymous)
	t0=$EPOCHREALTIME
	fio --name=cold --filename="$dev" --rw=read --bs=1M --iodepth="$qd" --ioengine=io_uring \
		--direct=1 --size=$bytes --eta=never --output=/tmp/fio-cold.log ||
		{ cat /tmp/fio-cold.log >&2; die "fio failed"; }
	s=$(secs_since "$t0")
	"$ctl" detach "$dev" >/dev/null
	assert_eq "$(($(daemon_stat blob_gets) - gets0))" "$n" "GETs of a cold read at QD$qd"
	echo "$s"
}

echo "== blob cold read, $size_mb MiB, 1 MiB ranges, $par in flight, $rounds rounds, $(uname -r)"
ratio() { awk -v c="$1" -v m="$2" 'BEGIN { printf "%.3f", c / m }'; }
r_par=() r_qd1=() r_nomd5=()
for ((r = 1; r <= rounds; r++)); do
	c=$(curl_pass)
	start_daemon --set max_parallel="$max"
	m=$(mc_pass "$par")
	q=$(mc_pass 1)
	stop_daemon
	start_daemon --set max_parallel="$max" --set verify_md5=0
	u=$(mc_pass "$par")
	stop_daemon
	echo "round $r: curl $(mbps $bytes "$c") MB/s, maicache QD$par $(mbps $bytes "$m") MB/s," \
		"QD1 $(mbps $bytes "$q") MB/s, QD$par without MD5 $(mbps $bytes "$u") MB/s ($n GETs each)"
	r_par+=("$(ratio "$c" "$m")") r_qd1+=("$(ratio "$c" "$q")") r_nomd5+=("$(ratio "$c" "$u")")
done
echo "maicache QD$par / curl, median per round:              $(printf '%s\n' "${r_par[@]}" | median)x"
echo "maicache QD1 / curl, median per round:               $(printf '%s\n' "${r_qd1[@]}" | median)x"
echo "maicache QD$par without MD5 / curl, median per round:  $(printf '%s\n' "${r_nomd5[@]}" | median)x"
