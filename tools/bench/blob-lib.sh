# shellcheck shell=bash
# The passes of the cold Blob benchmark, run INSIDE a VM after
# tests/vm/lib.sh, maicache.sh, daemon.sh and blob.sh; shared by
# blob-cold.sh (Azurite in the same VM) and multi/blob.sh (Azurite on
# another node). Sourced, not run.
#
#   blob_bench URL SIZE_MB PAR ROUNDS
#       the blob at URL (public: curl and the daemon read it anonymously)
#       read in 1 MiB ranges, ROUNDS rounds, each of:
#         curl      one process, SIZE_MB ranged GETs, PAR at a time over
#                   reused connections, bodies discarded: the most any
#                   client gets from this source
#         curl MD5  the same, each GET asking for its range's Content-MD5
#                   (x-ms-range-get-content-md5), as the daemon's do
#         QD PAR    a fresh maicache device, PAR 1 MiB reads in flight
#         QD1       a fresh device, one reader (only the kernel's readahead
#                   keeps GETs in flight)
#         no MD5    as QD PAR with a daemon that neither asks for nor
#                   checks the ranges' MD5 (verify_md5 = 0)
#         curl MD5, curl   again, in the opposite order
#       maicache's passes that check MD5 are compared with curl MD5, the
#       one that does not with curl: the same requests on both sides. Each
#       is compared with the mean of the two passes around it, so a source
#       whose rate drifts through the round (Azurite warming up) favours
#       neither side. Prints MB/s of each pass, curl's spread within the
#       round, the medians of the ratios per round and the daemon's CPU
#       time per MiB. Each maicache pass must make SIZE_MB GETs.

_bb_mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
_bb_secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
_bb_median() {
	sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# _bb_ratio C1 C2 M: maicache's rate over curl's, from seconds.
_bb_ratio() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { printf "%.3f", (a + b) / 2 / m }'; }

# _bb_curl_pass [HEADER]: seconds for the whole blob by curl, each GET
# with HEADER if given.
_bb_curl_pass() {
	local t0=$EPOCHREALTIME h=()
	(($#)) && h=(--header "$1")
	curl -sS --parallel --parallel-max "$_bb_par" "${h[@]}" "${_bb_args[@]}" || die "curl failed"
	_bb_secs_since "$t0"
}

# _bb_mc_pass QD: seconds for the whole blob through a fresh device; the
# daemon's CPU ms for it go to /tmp/bb-cpu.
_bb_mc_pass() {
	local qd=$1 dev gets0 t0 s cpu0
	gets0=$(daemon_stat blob_gets)
	cpu0=$(daemon_cpu_ms)
	dev=$(attach "$_bb_url" --extent-size 1M --anonymous)
	t0=$EPOCHREALTIME
	fio --name=cold --filename="$dev" --rw=read --bs=1M --iodepth="$qd" --ioengine=io_uring \
		--direct=1 --size="$_bb_bytes" --eta=never --output=/tmp/fio-cold.log ||
		{ cat /tmp/fio-cold.log >&2; die "fio failed"; }
	s=$(_bb_secs_since "$t0")
	echo $(($(daemon_cpu_ms) - cpu0)) >/tmp/bb-cpu
	# shellcheck disable=SC2154 # ctl: tests/vm/maicache.sh
	"$ctl" detach "$dev" >/dev/null
	assert_eq "$(($(daemon_stat blob_gets) - gets0))" "$_bb_n" "GETs of a cold read at QD$qd"
	echo "$s"
}

blob_bench() {
	_bb_url=$1
	_bb_n=$2
	_bb_par=$3
	local rounds=$4 ext=$((1 << 20)) md5="x-ms-range-get-content-md5: true"
	local max r i c1 c2 k1 k2 m q u cm cu spread cpus=() cpus_nomd5=() r_par=() r_qd1=() r_nomd5=() r_cost=() spreads=()
	_bb_bytes=$((_bb_n << 20))
	_bb_args=()
	for ((i = 0; i < _bb_n; i++)); do
		((i == 0)) || _bb_args+=(--next)
		_bb_args+=(-sS --fail -o /dev/null -r "$((i * ext))-$((i * ext + ext - 1))" "$_bb_url")
	done
	max=$((_bb_par > 16 ? _bb_par : 16))

	curl -sS --fail -D - -o /dev/null -r 0-$((ext - 1)) --header "$md5" "$_bb_url" |
		grep -qi '^content-md5:' || die "the source sends no Content-MD5 for a range"
	# Azurite (Node.js) compiles its hot paths on the first requests: one
	# whole pass first, so that no measured pass pays for that.
	_bb_curl_pass >/dev/null

	echo "== blob cold read, $_bb_n MiB, 1 MiB ranges, $_bb_par in flight, $rounds rounds, $(uname -r)"
	for ((r = 1; r <= rounds; r++)); do
		c1=$(_bb_curl_pass)
		k1=$(_bb_curl_pass "$md5")
		start_daemon --set max_parallel="$max"
		m=$(_bb_mc_pass "$_bb_par")
		cm=$(cat /tmp/bb-cpu)
		q=$(_bb_mc_pass 1)
		stop_daemon
		start_daemon --set max_parallel="$max" --set verify_md5=0
		u=$(_bb_mc_pass "$_bb_par")
		cu=$(cat /tmp/bb-cpu)
		stop_daemon
		k2=$(_bb_curl_pass "$md5")
		c2=$(_bb_curl_pass)
		spread=$(awk -v a="$c1" -v b="$c2" 'BEGIN { d = a > b ? a / b : b / a; printf "%.2f", d }')
		echo "round $r: curl $(_bb_mbps $_bb_bytes "$c1") then $(_bb_mbps $_bb_bytes "$c2") MB/s," \
			"curl MD5 $(_bb_mbps $_bb_bytes "$k1") then $(_bb_mbps $_bb_bytes "$k2") MB/s;" \
			"maicache QD$_bb_par $(_bb_mbps $_bb_bytes "$m") MB/s, QD1 $(_bb_mbps $_bb_bytes "$q") MB/s," \
			"QD$_bb_par without MD5 $(_bb_mbps $_bb_bytes "$u") MB/s ($_bb_n GETs each);" \
			"the daemon's CPU: $cm ms at QD$_bb_par, $cu ms without MD5"
		cpus+=("$cm") cpus_nomd5+=("$cu")
		r_par+=("$(_bb_ratio "$k1" "$k2" "$m")")
		r_qd1+=("$(_bb_ratio "$k1" "$k2" "$q")")
		r_nomd5+=("$(_bb_ratio "$c1" "$c2" "$u")")
		r_cost+=("$(_bb_ratio "$c1" "$c2" "$m")")
		spreads+=("$spread")
	done
	echo "curl's own spread within a round (slower / faster pass), median: $(printf '%s\n' "${spreads[@]}" | _bb_median)x"
	echo "maicache QD$_bb_par / curl MD5, median per round:             $(printf '%s\n' "${r_par[@]}" | _bb_median)x"
	echo "maicache QD1 / curl MD5, median per round:              $(printf '%s\n' "${r_qd1[@]}" | _bb_median)x"
	echo "maicache QD$_bb_par without MD5 / curl, median per round:     $(printf '%s\n' "${r_nomd5[@]}" | _bb_median)x"
	echo "maicache QD$_bb_par (MD5 checked) / curl, median per round:   $(printf '%s\n' "${r_cost[@]}" | _bb_median)x"
	echo "the daemon's CPU per MiB read, median: $(printf '%s\n' "${cpus[@]}" | awk -v n="$_bb_n" '{ print $1 / n }' | _bb_median) ms," \
		"without MD5 $(printf '%s\n' "${cpus_nomd5[@]}" | awk -v n="$_bb_n" '{ print $1 / n }' | _bb_median) ms"
}
