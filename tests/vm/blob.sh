# shellcheck shell=bash
# Azure Blob helpers for VM tests, sourced after lib.sh and maicache.sh:
#   . "$MAICACHE_ROOT/tests/vm/lib.sh"
#   . "$MAICACHE_ROOT/tests/vm/maicache.sh"
#   . "$MAICACHE_ROOT/tests/vm/blob.sh"
#   trap blob_cleanup EXIT          # or mc_cleanup: both stop Azurite
#
# Azurite, the Blob service emulator, runs inside the VM on 127.0.0.1:10000
# with its data on the VM's tmpfs, under Azurite's well-known development
# account (devstoreaccount1; its key is public and only ever used here).
#
#   azurite_start [ARGS...]   start it (extra ARGS go to azurite-blob, e.g.
#                             --loose) and wait until it answers HTTP
#   azurite_stop              SIGTERM, wait; it must exit 0
#   azurite_kill              SIGKILL, like a crash
#   azurite_pause/_resume     SIGSTOP/SIGCONT: connections are accepted by
#                             the kernel but nothing answers (a hung server)
#   azurite_requests [METHOD [URL_PART]]
#                             how many METHOD (default GET) requests whose
#                             URL contains URL_PART it has received
#   azurite_request_log       one line per request: METHOD URL RANGE
#   blob_mkcontainer NAME [--public blob|container]
#   blob_put CONTAINER NAME FILE [--block-size BYTES]   prints the ETag
#   blob_url CONTAINER NAME
#   blob_get CONTAINER NAME OUT [FIRST-LAST]   anonymous GET (public
#                             container) with curl, optionally a byte range
#   azurite_save_logs         copy Azurite's logs to $MAICACHE_OUT
#                             (blob_cleanup does it too)
#
# Data in --location survives azurite_stop/azurite_start (not azurite_kill
# necessarily: Azurite may not have written its metadata yet). Startup is
# slow under emulation: about 10 s on an idle host with the module tar of
# tests/blob/azurite-pack.sh, 20-25 s without it, up to twice that while
# another VM runs. Start it once per test where possible. Each request costs
# Azurite 50-80 ms of emulated CPU (a 64 KiB range GET), and it streams
# about 10 MB/s. The request counts come from Azurite's debug log (--debug),
# which lists every request it receives; it costs no measurable time.

declare -F mc_cleanup >/dev/null || { echo "blob.sh: source lib.sh and maicache.sh first" >&2; exit 1; }

export AZURE_STORAGE_ACCOUNT=devstoreaccount1
export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# A multi-VM test serves Azurite to the other nodes: AZURITE_HOST=0.0.0.0,
# and blob_endpoint set to node 0's address after sourcing.
azurite_host=${AZURITE_HOST:-127.0.0.1}
blob_endpoint=http://127.0.0.1:10000/$AZURE_STORAGE_ACCOUNT
blob_put_js=$MAICACHE_ROOT/tests/blob/blob-put.js

azurite_home=${MAICACHE_CACHE:-$MAICACHE_ROOT/.cache}/azurite
azurite_location=${AZURITE_LOCATION:-/tmp/azurite-data}
azurite_debug=/tmp/azurite-debug.log
azurite_out=/tmp/azurite-out.log
# How long azurite_start waits for an answer (seconds of wall time).
azurite_timeout=${AZURITE_START_TIMEOUT:-120}
azpid=""

# The Azurite tree Node.js runs. Loading ~1400 modules from the 9p share is
# slow under emulation: unpack tests/blob/azurite-pack.sh's tar into tmpfs
# once per boot when it is there and current, else use the share.
azurite_main() {
	local tar=$azurite_home/vm-modules.tar stamp=$azurite_home/node_modules/.package-lock.json
	local tree=/tmp/azurite-modules
	if [[ -f $tar && $tar -nt $stamp ]]; then
		if [[ ! -d $tree/node_modules ]]; then
			mkdir -p "$tree"
			tar -C "$tree" -xf "$tar" || die "cannot unpack $tar into $tree"
		fi
	else
		echo "blob.sh: no current $tar (run tests/blob/azurite-pack.sh): Azurite starts slowly" >&2
		tree=$azurite_home
	fi
	echo "$tree/node_modules/azurite/dist/src/blob/main.js"
}

_ms_since() { local now=$EPOCHREALTIME; echo $(((${now/./} - ${1/./}) / 1000)); }

_azurite_logs_tail() {
	echo "--- azurite output"
	tail -n 20 "$azurite_out" 2>/dev/null
	echo "--- azurite debug log"
	tail -n 20 "$azurite_debug" 2>/dev/null | cut -c1-400
}

_azurite_answers() {
	# HEAD: a probe that azurite_requests (GET by default) does not count.
	curl -s -o /dev/null -I --max-time 5 "http://127.0.0.1:10000/" 2>/dev/null
}

azurite_start() {
	local main t0 end
	[[ -z $azpid ]] || die "azurite_start: Azurite is already running (pid $azpid)"
	ip link show lo | grep -q '[<,]UP[,>]' || ip link set lo up || die "cannot bring up lo"
	[[ -x $azurite_home/node_modules/.bin/azurite-blob ]] ||
		die "Azurite is not installed in $azurite_home (make deps)"
	main=$(azurite_main)
	mkdir -p "$azurite_location"
	echo "== azurite_start $* at $(cut -d' ' -f1 /proc/uptime)s" >>"$azurite_out"
	t0=$EPOCHREALTIME
	node "$main" --disableTelemetry --blobHost "$azurite_host" --blobPort 10000 \
		--location "$azurite_location" --silent --skipApiVersionCheck \
		--debug "$azurite_debug" "$@" >>"$azurite_out" 2>&1 &
	azpid=$!
	bgpids+=("$azpid")
	end=$((SECONDS + azurite_timeout))
	until _azurite_answers; do
		kill -0 "$azpid" 2>/dev/null ||
			die "Azurite exited while starting$(printf '\n%s' "$(_azurite_logs_tail)")"
		((SECONDS < end)) ||
			die "Azurite did not answer on 127.0.0.1:10000 within ${azurite_timeout}s$(printf '\n%s' "$(_azurite_logs_tail)")"
		sleep 0.2
	done
	echo "azurite: up in $(_ms_since "$t0") ms (pid $azpid)"
}

_azurite_forget() {
	local p keep=()
	for p in "${bgpids[@]}"; do
		[[ $p == "$azpid" ]] || keep+=("$p")
	done
	bgpids=("${keep[@]}")
	azpid=""
}

azurite_stop() {
	local rc end
	[[ -n $azpid ]] || die "azurite_stop: Azurite is not running"
	kill -CONT "$azpid" 2>/dev/null || true
	kill -TERM "$azpid"
	end=$((SECONDS + 30))
	while kill -0 "$azpid" 2>/dev/null && ((SECONDS < end)); do
		sleep 0.2
	done
	kill -0 "$azpid" 2>/dev/null && die "Azurite (pid $azpid) did not exit within 30 s of SIGTERM"
	rc=0
	wait "$azpid" || rc=$?
	_azurite_forget
	((rc == 0)) || die "Azurite exited $rc on SIGTERM$(printf '\n%s' "$(_azurite_logs_tail)")"
}

azurite_kill() {
	[[ -n $azpid ]] || die "azurite_kill: Azurite is not running"
	kill -KILL "$azpid"
	wait "$azpid" 2>/dev/null || true
	_azurite_forget
}

azurite_pause() {
	[[ -n $azpid ]] || die "azurite_pause: Azurite is not running"
	kill -STOP "$azpid"
}

azurite_resume() {
	[[ -n $azpid ]] || die "azurite_resume: Azurite is not running"
	kill -CONT "$azpid"
}

# The debug log is written asynchronously: read it until two reads agree.
_azurite_stable_count() {
	local pat=$1 n prev=-1 i
	for ((i = 0; i < 25; i++)); do
		n=$(grep -c -F -- "$pat" "$azurite_debug" 2>/dev/null) || n=0
		((n == prev)) && break
		prev=$n
		sleep 0.1
	done
	echo "$n"
}

azurite_requests() {
	local method=${1:-GET} part=${2:-}
	[[ -f $azurite_debug ]] || die "azurite_requests: no Azurite debug log ($azurite_debug)"
	if [[ -z $part ]]; then
		_azurite_stable_count "RequestMethod=$method RequestURL="
	else
		_azurite_stable_count "RequestMethod=$method RequestURL=" >/dev/null
		grep -F -- "RequestMethod=$method RequestURL=" "$azurite_debug" |
			grep -c -F -- "$part" || true
	fi
}

azurite_request_log() {
	[[ -f $azurite_debug ]] || die "azurite_request_log: no Azurite debug log ($azurite_debug)"
	_azurite_stable_count "RequestMethod=" >/dev/null
	awk 'match($0, /RequestMethod=[A-Z]+ RequestURL=[^ ]+/) {
		split(substr($0, RSTART, RLENGTH), f, / /)
		sub(/^[^=]*=/, "", f[1])
		sub(/^[^=]*=/, "", f[2])
		range = "-"
		if (match($0, /"(x-ms-)?range":"[^"]*"/)) {
			range = substr($0, RSTART, RLENGTH)
			sub(/^"[^"]*":"/, "", range)
			sub(/"$/, "", range)
		}
		print f[1], f[2], range
	}' "$azurite_debug"
}

# Keep Azurite's logs with the run's other logs.
azurite_save_logs() {
	cp "$azurite_out" "$MAICACHE_OUT/azurite.log" 2>/dev/null || true
	cp "$azurite_debug" "$MAICACHE_OUT/azurite-debug.log" 2>/dev/null || true
}

# For `trap blob_cleanup EXIT`: save Azurite's logs, then mc_cleanup (which
# also stops Azurite: its pid is in bgpids).
blob_cleanup() {
	[[ -z $azpid ]] || kill -CONT "$azpid" 2>/dev/null || true
	azurite_save_logs
	mc_cleanup
}

blob_url() { echo "$blob_endpoint/$1/$2"; }

blob_mkcontainer() {
	node "$blob_put_js" mkcontainer "$blob_endpoint/$1" "${@:2}" >/dev/null ||
		die "blob_mkcontainer $*: failed"
}

blob_put() {
	(($# >= 3)) || die "usage: blob_put CONTAINER NAME FILE [--block-size BYTES]"
	node "$blob_put_js" put "$3" "$(blob_url "$1" "$2")" "${@:4}" || die "blob_put $*: failed"
}

blob_get() {
	local range=()
	(($# >= 3)) || die "usage: blob_get CONTAINER NAME OUT [FIRST-LAST]"
	[[ -z ${4:-} ]] || range=(-r "$4")
	curl -sS --fail -o "$3" "${range[@]}" "$(blob_url "$1" "$2")" || die "blob_get $*: failed"
}
