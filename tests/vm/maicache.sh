# shellcheck shell=bash
# maicache helpers for VM test scripts, sourced after lib.sh:
#   . "$MAICACHE_ROOT/tests/vm/lib.sh"
#   . "$MAICACHE_ROOT/tests/vm/maicache.sh"
#   trap mc_cleanup EXIT
# A test records what it starts so that mc_cleanup can undo it if the test
# fails: background pids in bgpids, the mc-filler of start_filler in fpid and
# the devices of add_dev in devs. Kept apart from lib.sh, which scripts with
# variables of their own (ctl, filler, ...) also source.

declare -F die >/dev/null || { echo "maicache.sh: source lib.sh first" >&2; exit 1; }

bin=$MAICACHE_ROOT/build/user
# Every --json answer is checked by a JSON parser (ctl-json.sh).
ctl=$MAICACHE_ROOT/tests/vm/ctl-json.sh
filler=$bin/mc-filler
# shellcheck disable=SC2034 # used by the tests
pcheck=$bin/mc-pattern-check
fpid=""
devs=()
bgpids=()
# Functions mc_cleanup runs first (other helper files add theirs).
cleanup_hooks=()

# Kill bgpids and the filler, remove devs; for `trap mc_cleanup EXIT`.
mc_cleanup() {
	local p id
	for p in "${cleanup_hooks[@]}"; do
		"$p" || true
	done
	for p in "${bgpids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [[ -n $fpid ]]; then
		kill -TERM "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
	fi
	for id in "${devs[@]}"; do
		"$ctl" remove "$id" 2>/dev/null || true
	done
}

# stat_of ID NAME: counter NAME of /dev/maicacheID, from sysfs.
stat_of() { cat "/sys/block/maicache$1/maicache/$2"; }

# fills_settle ID [SECONDS]: wait until every fill /dev/maicacheID started
# has ended (each ended fill, good or failed, is one count of its
# fill_latency_us histogram; each started one is a miss). Readahead may
# still be fetching when the reads that caused it have returned, so a test
# that counts fills or GETs after its reads waits here first.
fills_settle() {
	local d=/sys/block/maicache$1/maicache t=$((${2:-30} * 10)) ended
	while :; do
		ended=$(awk '{n += $2} END {print n + 0}' "$d/fill_latency_us")
		[[ $ended -ge $(cat "$d/misses") ]] && return 0
		((t-- > 0)) || die "maicache$1: $(cat "$d/misses") fills started, $ended ended"
		sleep 0.1
	done
}

# readahead_off: the module fetches nothing ahead (kmod/readahead.c), for
# tests that count which extents their reads cache. The VM is the test's.
readahead_off() { echo 0 >/sys/module/maicache/parameters/readahead_kb; }

# part_fills_set Y|N: whether random reads fill 64 KiB parts (kmod/read.c),
# for tests that count one fill per extent (N). The VM is the test's.
part_fills=/sys/module/maicache/parameters/part_fills
part_fills_set() { echo "$1" >"$part_fills"; }

# fstat FILE KEY: the value of KEY in an mc-filler --stats-file.
fstat() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

# json_num KEY: the number after each "KEY": in the JSON on stdin.
json_num() { grep -o "\"$1\":[0-9]*" | cut -d: -f2; }

# pool_field KEY: a number of `maicachectl --json pool` (size, used, ...).
pool_field() { "$ctl" --json pool | json_num "$1"; }

# ms_since T0: milliseconds since T0, an $EPOCHREALTIME value.
ms_since() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}

# add_dev ID SIZE COOKIE [maicachectl add options...]: add /dev/maicacheID.
add_dev() {
	local out
	out=$("$ctl" add --id "$1" --size "$2" --cookie "$3" "${@:4}")
	devs+=("$1")
	assert_eq "$out" "/dev/maicache$1" "maicachectl add output"
	[[ -b /dev/maicache$1 ]] || die "/dev/maicache$1 is not a block device"
}

# remove_dev ID: remove /dev/maicacheID and drop it from devs.
remove_dev() {
	local d keep=()
	"$ctl" remove "$1"
	for d in "${devs[@]}"; do
		[[ $d == "$1" ]] || keep+=("$d")
	done
	devs=("${keep[@]}")
}

# start_filler [ARGS...]: start mc-filler --quiet ARGS (fpid), wait until attached.
start_filler() {
	local i
	"$filler" --quiet "$@" &
	fpid=$!
	for ((i = 0; i < 100; i++)); do
		if "$ctl" --json pool | grep -q "\"daemon_attached\":true,\"daemon_pid\":$fpid,"; then
			return 0
		fi
		kill -0 "$fpid" 2>/dev/null || die "mc-filler $* exited at start"
		sleep 0.1
	done
	die "mc-filler $* did not attach"
}

# stop_filler: SIGTERM the filler, which must then exit 0.
stop_filler() {
	kill -TERM "$fpid"
	wait "$fpid" || die "mc-filler $fpid exited $? on SIGTERM"
	fpid=""
}

# kill_filler: SIGKILL the filler and reap it.
kill_filler() {
	kill -KILL "$fpid"
	wait "$fpid" 2>/dev/null || true
	fpid=""
}

# run_fio LABEL JOBFILE [fio options...]: fio, its output in
# $MAICACHE_OUT/fio-LABEL.log; dies on any error it reports.
run_fio() { # LABEL JOBFILE [fio options...]
	local label=$1 job=$2
	shift 2
	if ! fio --output="$MAICACHE_OUT/fio-$label.log" "$@" "$job"; then
		cat "$MAICACHE_OUT/fio-$label.log" >&2 || true
		die "fio $label failed"
	fi
	grep -q 'err= 0' "$MAICACHE_OUT/fio-$label.log" || die "fio $label: no 'err= 0' in its output"
	! grep -qE 'err= *[1-9]' "$MAICACHE_OUT/fio-$label.log" || die "fio $label reported errors"
}
