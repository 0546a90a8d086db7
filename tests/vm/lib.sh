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
