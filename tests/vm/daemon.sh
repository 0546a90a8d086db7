# shellcheck shell=bash
# maicached helpers for VM test scripts, sourced after lib.sh and maicache.sh.
# The daemon runs with its control socket and state directory in /tmp and
# logs to $MAICACHE_OUT/maicached.log; mc_cleanup stops it and removes every
# device it made.

# shellcheck disable=SC2154 # $ctl and $bin come from maicache.sh
declare -F mc_cleanup >/dev/null || { echo "daemon.sh: source maicache.sh first" >&2; exit 1; }

# The command line of the daemon; a test may put a launcher in front.
daemon_cmd=("$bin/maicached")
dpid=""
dlog=$MAICACHE_OUT/maicached.log
mc_state=/tmp/maicache-state
export MAICACHE_SOCKET=/tmp/maicached.sock

daemon_cleanup() {
	local id
	if [[ -n $dpid ]]; then
		kill -TERM "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
		dpid=""
	fi
	for id in $("$ctl" --json list 2>/dev/null | json_num id); do
		"$ctl" remove "$id" 2>/dev/null || true
	done
}
cleanup_hooks+=(daemon_cleanup)

# start_daemon [ARGS...]: start maicached ARGS (dpid); wait until it answers.
start_daemon() {
	local i
	echo "--- start maicached $*" >>"$dlog"
	# The daemon's /metrics listens on 127.0.0.1 by default (userd/metrics.h).
	ip link show lo | grep -q '[<,]UP[,>]' || ip link set lo up || die "cannot bring up lo"
	"${daemon_cmd[@]}" --set socket="$MAICACHE_SOCKET" --set state_dir="$mc_state" "$@" 2>>"$dlog" &
	dpid=$!
	for ((i = 0; i < 200; i++)); do
		if "$ctl" --json stats 2>/dev/null | grep -q '"running":true'; then
			return 0
		fi
		kill -0 "$dpid" 2>/dev/null || { tail -20 "$dlog" >&2; die "maicached $* exited at start"; }
		sleep 0.1
	done
	tail -20 "$dlog" >&2
	die "maicached $* did not answer on $MAICACHE_SOCKET"
}

# stop_daemon: SIGTERM; it must exit 0.
stop_daemon() {
	kill -TERM "$dpid"
	wait "$dpid" || { tail -20 "$dlog" >&2; die "maicached exited $? on SIGTERM"; }
	dpid=""
}

# kill_daemon: SIGKILL and reap.
kill_daemon() {
	kill -KILL "$dpid"
	wait "$dpid" 2>/dev/null || true
	dpid=""
}

# daemon_stat KEY: a number of the daemon in `maicachectl --json stats`.
daemon_stat() {
	"$ctl" --json stats | grep -o "\"daemon\":{[^}]*}" | json_num "$1"
}

# daemon_cpu_ms: the daemon's user + system CPU time so far, in ms.
daemon_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$dpid/stat"
}

# attach SOURCE [OPTIONS...]: attach, check the output is a block device,
# print its path.
attach() {
	local out
	out=$("$ctl" attach "$@") || die "maicachectl attach $* failed"
	[[ $out =~ ^/dev/maicache[0-9]+$ ]] || die "maicachectl attach printed '$out'"
	[[ -b $out ]] || die "$out is not a block device"
	echo "$out"
}

# dev_id /dev/maicacheN: N.
dev_id() { echo "${1#/dev/maicache}"; }
