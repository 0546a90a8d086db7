#!/bin/bash
# shellcheck disable=SC2119 # start_daemon takes optional arguments
# maicache-agent as its pod runs it (deploy/kubernetes): in a mount
# namespace of its own whose copy of the mount root is shared with the
# host's (a hostPath with Bidirectional propagation), against a live
# maicached, with file sources holding an erofs and an ext4 image. Its
# mounts serve the right bytes on the host and in a "training pod" (a
# namespace with a slave copy: HostToContainer) started before them; a
# source that fails and an image with no file system are errors that stop
# neither the others; a dataset removed from the file on SIGHUP is
# unmounted and detached; its liveness probe (--alive) passes while its
# loop turns and fails once it is stopped (SIGSTOP) for longer than the
# probe allows; killed and started again, and with the daemon
# restarted, it leaves what is right alone (same mounts, one each) and
# makes again what is missing; a bad file at start is an error naming the
# line and key, and on re-read changes nothing; SIGTERM unmounts and
# detaches everything, and a busy mount is left whole and said so.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"

agent=$bin/maicache-agent
root=/tmp/host/mnt/maicache	# the hostPath the datasets are mounted under
ds=/tmp/agent-config/datasets	# the ConfigMap's key, as the pod sees it
state=/tmp/host/var/lib/maicache-agent
alog=$MAICACHE_OUT/agent.log
img=/tmp/img
apid=""

agent_cleanup() {
	local m
	[[ -n $apid ]] && kill -KILL "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	apid=""
	# shellcheck disable=SC2013 # mount points under the root have no spaces
	for m in $(awk -v r="$root/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || true
	done
	umount "$root" 2>/dev/null || true
}
cleanup_hooks=(agent_cleanup "${cleanup_hooks[@]}")
trap mc_cleanup EXIT

# start_agent [OPTIONS...]: the agent as the DaemonSet runs it, in its own
# mount namespace (propagation as it is: the root stays shared).
start_agent() {
	echo "--- start maicache-agent $*" >>"$alog"
	unshare -m --propagation unchanged "$agent" -f "$ds" --mount-root "$root" \
		--state-dir "$state" --interval 500ms "$@" 2>>"$alog" &
	apid=$!
}
# stop_agent SIGNAL: the agent's exit status.
stop_agent() {
	local rc=0
	kill "-$1" "$apid"
	wait "$apid" 2>/dev/null || rc=$?
	apid=""
	return "$rc"
}
# check: the agent's own --check, as the readiness probe runs it, from the host.
check() { "$agent" --check -f "$ds" --mount-root "$root"; }
# wait_for WHAT CMD...: until CMD succeeds, 30 s at most.
wait_for() {
	local what=$1 end=$((SECONDS + 30))
	shift
	while ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 && return 0
		[[ -z $apid ]] || kill -0 "$apid" 2>/dev/null || { tail -20 "$alog" >&2; die "the agent died waiting for $what"; }
		sleep 0.1
	done
	check || true
	tail -20 "$alog" >&2
	die "timed out waiting for $what"
}
# (check exits 1 while another dataset is not ready: read its lines whole.)
ready() {
	local out
	out=$(check) || true
	grep -q "^$1: ready" <<<"$out"
}
all_ready() { check; }
both_ready() { ready erofs && ready ext4; }
junk_gone() {
	local out
	out=$("$ctl" --json list) || return 1
	! grep -q '"label":"junk"' <<<"$out"
}
# mounts_at PATH: the ids of the mounts at PATH, in the host's table.
mounts_at() { awk -v p="$1" '$5 == p {print $1}' /proc/self/mountinfo | xargs; }
volumes() { "$ctl" --json list | json_num id | xargs; }
log_since() { tail -n +"$(grep -n -- '--- start' "$alog" | tail -1 | cut -d: -f1)" "$alog"; }
# in_log ERE: the agent's log since its last start has a line matching ERE
# (read whole: grep -q on a pipe under pipefail can fail by SIGPIPE).
in_log() { grep -Eq -- "$1" <<<"$(log_since)"; }
sums_ok() { (cd "$1" && sha256sum --quiet -c SHA256SUMS); }

datasets_file() { # NAME... : sections for these datasets
	local n
	for n in "$@"; do
		case $n in
		erofs) printf '[dataset erofs]\nsource = file://%s/ds.erofs\nmount = %s/erofs\nfstype = erofs\nextent_size = 256K\n' "$img" "$root" ;;
		ext4) printf '[dataset ext4]\nsource = file://%s/ds.ext4\nmount = %s/ext4\n' "$img" "$root" ;;
		broken) printf '[dataset broken]\nsource = file://%s/missing.img\nmount = %s/broken\n' "$img" "$root" ;;
		junk) printf '[dataset junk]\nsource = file://%s/junk.img\nmount = %s/junk\n' "$img" "$root" ;;
		esac
	done
}

step() { echo "== $* (at ${SECONDS}s)"; }

mkdir -p "$img" "$(dirname "$ds")" "$root" "$state"
"$MAICACHE_ROOT/tests/blob/make-dataset.sh" --small 60 --large 1 --large-mib 1-2 /tmp/dataset 7 >/dev/null
"$MAICACHE_ROOT/tests/blob/make-image.sh" erofs /tmp/dataset "$img/ds.erofs" >/dev/null
"$MAICACHE_ROOT/tests/blob/make-image.sh" ext4 /tmp/dataset "$img/ds.ext4" >/dev/null
# Zeros: no file system signature at all (random bytes could look like one).
head -c $((1 << 20)) /dev/zero >"$img/junk.img"
modprobe erofs 2>/dev/null || true
step "images made"
# The hostPath: a shared mount, as kubelet makes one for Bidirectional.
mount --bind "$root" "$root"
mount --make-shared "$root"
start_daemon

step "a bad datasets file at start: the line and the key, nothing done"
{ datasets_file ext4; printf 'fstype = zfs\n'; } >"$ds"
out=$("$agent" -f "$ds" --mount-root "$root" --state-dir "$state" 2>&1) && die "the agent started on a bad file"
grep -q "^maicache-agent: $ds:4: dataset ext4: fstype: 'zfs' is not auto, erofs, ext4, squashfs or xfs$" <<<"$out" ||
	die "bad file at start: '$out'"
datasets_file ext4 | sed 's|^mount = .*|mount = /data/ext4|' >"$ds"
out=$("$agent" -f "$ds" --mount-root "$root" --state-dir "$state" 2>&1) && die "the agent took a mount outside its root"
grep -q "$ds:3: dataset ext4: mount: /data/ext4 is not under $root" <<<"$out" || die "mount outside the root: '$out'"
assert_eq "$(volumes)" "" "volumes after the bad files"

step "four datasets: two good, a missing source, an image with no file system"
datasets_file erofs ext4 broken junk >"$ds"
out=$("$agent" --check-file -f "$ds" --mount-root "$root") || die "--check-file refused the file: $out"
[[ $out == *"4 dataset(s): erofs, ext4, broken, junk" ]] || die "--check-file does not list the datasets: $out"
# A training pod started before the datasets are there (HostToContainer).
# shellcheck disable=SC2016 # $1 is the inner shell's
unshare -m --propagation slave bash -c \
	'while [[ ! -e /tmp/pod.go ]]; do sleep 0.1; done; cd "$1" && sha256sum --quiet -c SHA256SUMS && echo pod-read-ok' \
	pod "$root/ext4" >"$MAICACHE_OUT/pod.out" 2>&1 &
pod=$!
bgpids+=("$pod")
start_agent
wait_for "erofs and ext4" both_ready
sums_ok "$root/erofs" || die "erofs: the files differ"
sums_ok "$root/ext4" || die "ext4: the files differ"
touch /tmp/pod.go
wait "$pod" || die "the training pod could not read its dataset: $(cat "$MAICACHE_OUT/pod.out")"
grep -q pod-read-ok "$MAICACHE_OUT/pod.out" || die "the training pod: $(cat "$MAICACHE_OUT/pod.out")"
touch "$root/ext4/new" 2>/dev/null && die "the ext4 mount is writable"
grep -q "$root/erofs erofs ro,nosuid,nodev" /proc/mounts || die "erofs not mounted ro,nosuid,nodev: $(grep "$root" /proc/mounts)"
grep -q "$root/ext4 ext4 ro,nosuid,nodev" /proc/mounts || die "ext4 not detected and mounted ro"
wait_for "the errors" grep -q "junk: /dev/maicache[0-9]* holds no file system the agent knows" "$alog"
grep -q "error: broken: attach file://$img/missing.img: .*No such file or directory" "$alog" ||
	{ cat "$alog"; die "no clear error for the missing source"; }
check >/tmp/check.out && die "--check passed with two datasets failing"
grep -q "^broken: not attached" /tmp/check.out || die "--check on broken: $(cat /tmp/check.out)"
grep -q "^junk: /dev/maicache[0-9]* (ready), not mounted" /tmp/check.out || die "--check on junk: $(cat /tmp/check.out)"
# Errors are logged once, not at every pass.
sleep 1.2
assert_eq "$(grep -c "error: junk:" "$alog")" 1 "junk's error lines after several passes"

step "two datasets removed from the file, SIGHUP"
datasets_file erofs ext4 >"$ds"
kill -HUP "$apid"
wait_for "junk detached" junk_gone
grep -q "junk: detached /dev/maicache" "$alog" || die "junk's detach not logged"
wait_for "all ready" all_ready
assert_eq "$(wc -w <<<"$(volumes)")" 2 "volumes once broken and junk are gone"
[[ -z $(mounts_at "$root/junk") ]] || die "junk is still mounted"
grep -q "^\[dataset junk\]" "$state/state" && die "junk still in the record"

step "the liveness probe: alive while the loop turns, not while it is stopped"
alive() { "$agent" --alive --state-dir "$state" --interval 500ms; }
alive >/tmp/alive.out || die "--alive on a running agent: $(cat /tmp/alive.out)"
kill -STOP "$apid"
sleep 12	# 3 intervals of 500 ms and the 10 s slack (agent/alive.h)
alive >/tmp/alive.out && die "--alive passed for an agent stopped for 12 s: $(cat /tmp/alive.out)"
grep -q "last pass ended 1[0-9] s ago" /tmp/alive.out || die "--alive on a stopped agent: $(cat /tmp/alive.out)"
kill -CONT "$apid"
wait_for "the agent alive again" alive

step "the agent killed and started again: what is right is left alone"
m_erofs=$(mounts_at "$root/erofs") m_ext4=$(mounts_at "$root/ext4") vols=$(volumes)
[[ $m_erofs =~ ^[0-9]+$ && $m_ext4 =~ ^[0-9]+$ ]] || die "not one mount each: erofs '$m_erofs' ext4 '$m_ext4'"
stop_agent KILL || true
start_agent
wait_for "all ready" all_ready
sleep 1.2	# two more passes
assert_eq "$(mounts_at "$root/erofs")" "$m_erofs" "erofs mounts after the restart"
assert_eq "$(mounts_at "$root/ext4")" "$m_ext4" "ext4 mounts after the restart"
assert_eq "$(volumes)" "$vols" "volumes after the restart"
in_log "attached|ready: .*read-only" && die "the restarted agent attached or mounted again: $(log_since)"
in_log "erofs: ready: .* \\(mounted already\\)" || die "the restarted agent did not find erofs: $(log_since)"

step "maicached restarted under the agent"
stop_daemon
start_daemon
sleep 1.2
wait_for "all ready" all_ready
assert_eq "$(mounts_at "$root/erofs") $(mounts_at "$root/ext4")" "$m_erofs $m_ext4" "mounts after the daemon's restart"
assert_eq "$(volumes)" "$vols" "volumes after the daemon's restart"
echo 3 >/proc/sys/vm/drop_caches
sums_ok "$root/erofs" || die "erofs differs after the daemon's restart"

step "what is missing is made again: a mount gone, a volume gone"
stop_agent KILL || true
umount "$root/ext4"
umount "$root/erofs"
"$ctl" detach erofs
start_agent --grace 1s
wait_for "all ready" all_ready
assert_eq "$(wc -w <<<"$(mounts_at "$root/erofs") $(mounts_at "$root/ext4")")" 2 "one mount each after the repair"
in_log "erofs: attached file://$img/ds.erofs as /dev/maicache" || die "erofs not attached again"
in_log "ext4: attached" && die "ext4 was attached again: it was still there"
sums_ok "$root/ext4" || die "ext4 differs after the repair"

step "a bad file on re-read changes nothing"
m_erofs=$(mounts_at "$root/erofs") m_ext4=$(mounts_at "$root/ext4")
{ datasets_file erofs ext4; printf 'colour = blue\n'; } >"$ds"
kill -HUP "$apid"
wait_for "the re-read error" grep -q "error: $ds:9: dataset ext4: unknown key 'colour' (source, mount, .*); keeping the 2 dataset(s) of the last good file" "$alog"
sleep 1.2
assert_eq "$(mounts_at "$root/erofs") $(mounts_at "$root/ext4")" "$m_erofs $m_ext4" "mounts after a bad re-read"
datasets_file erofs ext4 >"$ds"

step "SIGTERM with a mount in use: left whole, and said"
exec 7<"$root/ext4/SHA256SUMS"
stop_agent TERM && die "the agent exited 0 leaving ext4 behind"
in_log "error: ext4: umount $root/ext4: busy" || die "no busy error: $(log_since)"
in_log "ext4: left behind on $root/ext4" || die "not said what was left"
[[ -z $(mounts_at "$root/erofs") ]] || die "erofs still mounted"
[[ -n $(mounts_at "$root/ext4") ]] || die "the busy ext4 was unmounted"
assert_eq "$(wc -w <<<"$(volumes)")" 1 "volumes left (ext4 only)"
exec 7<&-

step "SIGTERM: everything unmounted and detached"
start_agent --grace 5s
wait_for "all ready" all_ready
stop_agent TERM || die "the agent did not exit 0 on SIGTERM: $(log_since)"
in_log "stopped: every dataset unmounted and detached" || die "no clean stop: $(log_since)"
assert_eq "$(mounts_at "$root/erofs")$(mounts_at "$root/ext4")" "" "mounts after SIGTERM"
assert_eq "$(volumes)" "" "volumes after SIGTERM"
grep -q '^\[dataset' "$state/state" && die "the record still holds datasets: $(cat "$state/state")"
echo "maicache-agent: attach, mount, reconcile, restarts, bad files and SIGTERM OK"
