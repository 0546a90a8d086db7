# shellcheck shell=bash
# Helpers for VM test scripts (tests/vm/tests/*.sh), sourced inside the VM:
#   . "$MAICACHE_ROOT/tests/vm/lib.sh"

: "${MAICACHE_KVER:?not inside a tests/vm/run.sh VM}"

die() {
	printf 'FATAL: %s\n' "$*" >&2
	exit 1
}

# The booted kernel's modules live in the cache, not necessarily on the host.
vm_modprobe() {
	modprobe -d "$MAICACHE_MODROOT" -S "$MAICACHE_KVER" "$@" || die "modprobe $* failed"
}

expect_fail() {
	if "$@"; then
		die "expected failure but succeeded: $*"
	fi
}

assert_eq() {
	[[ "$1" == "$2" ]] || die "${3:-assert_eq}: expected '$2', got '$1'"
}

# vm_kill_me: end this VM as a crash would (a node of tests/vm/multi.sh):
# the host kills its qemu, and boots the node again as life
# MAICACHE_LIFE + 1. Its output directory is then $(vm_life_dir LIFE).
vm_kill_me() {
	[[ -n ${MAICACHE_NODE:-} ]] || die "vm_kill_me: not a node of a multi-VM test"
	sync
	touch "$MAICACHE_OUT/kill-request"
	sleep 120
	die "vm_kill_me: still alive 120 s after asking to be killed"
}

# vm_life_dir LIFE: the host directory of this node's output in boot LIFE.
vm_life_dir() {
	local base=${MAICACHE_OUT%.life*}
	if (($1 == 1)); then echo "$base"; else echo "$base.life$1"; fi
}

# guest_copy_features: the CPU features that choose the guest kernel's
# copy routines, or "none". REP_GOOD makes copy_page() (and 6.1's memcpy)
# `rep movsq`; ERMS makes user copies (and 6.1's memcpy) `rep movsb`, which
# qemu TCG runs a byte at a time; FSRM makes 6.12's memcpy `rep movsb`
# (docs/performance.md, "The emulator's byte copies").
guest_copy_features() {
	local f
	f=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'rep_good|erms|fsrm' | tr '\n' ' ' || true)
	echo "${f:-none of rep_good, erms, fsrm (the kernel copies 8 bytes a step)}"
}
