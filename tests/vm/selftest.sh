#!/bin/bash
# Prove tests/vm/run.sh reports failures: each case boots a VM and checks the verdict.
# Usage: tests/vm/selftest.sh [--kernel KVER]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

KVER_ARGS=()
case ${1:-} in
--kernel) KVER_ARGS=(--kernel "${2:?--kernel wants a release}") ;;
"") ;;
*) echo "usage: $0 [--kernel KVER]" >&2; exit 2 ;;
esac
KVER=${KVER_ARGS[1]:-$("$REPO/scripts/kernels.sh" | tail -n1)}
KO=${MAICACHE_KO:-$REPO/build/$KVER/kmod/maicache.ko}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Without a built module only the cases that need none can run.
LOAD_ARGS=()
HAVE_KO=1
if [[ ! -f $KO ]]; then
	HAVE_KO=0
	LOAD_ARGS=(--no-load)
	echo "selftest: $KO missing, running without the module" >&2
fi

write() {
	local name=$1
	shift
	{
		echo '#!/bin/bash'
		echo 'set -euo pipefail'
		printf '%s\n' "$@"
	} >"$TMP/$name.sh"
}

# These lines are script text for the VM, expanded there.
# shellcheck disable=SC2016
write selftest-pass '. "$MAICACHE_ROOT/tests/vm/lib.sh"' 'assert_eq "$(uname -r)" "$MAICACHE_KVER" "booted kernel"' 'expect_fail false' 'echo ok'
# shellcheck disable=SC2016
write selftest-exit1 '. "$MAICACHE_ROOT/tests/vm/lib.sh"' 'die "selftest says why"'
write selftest-warn "echo 'WARNING: selftest' >/dev/kmsg"
write selftest-timeout 'sleep 1000'
write selftest-loaded "grep -q '^maicache ' /proc/modules"
write selftest-noload-marker '# vm: no-load' "! grep -q '^maicache ' /proc/modules"

failures=0
# expect PASS|FAIL PATTERN -- run.sh args...
expect() {
	local want=$1 pattern=$2 out rc=0
	shift 2
	out=$("$HERE/run.sh" "${KVER_ARGS[@]}" "$@" 2>&1) || rc=$?
	local verdict
	verdict=$(printf '%s\n' "$out" | grep -m1 -E '^(PASS|FAIL) ') || verdict="(no verdict line)"
	if [[ $want == PASS && $rc == 0 && $verdict == PASS* ]] ||
		[[ $want == FAIL && $rc == 1 && $verdict == FAIL* && $verdict =~ $pattern ]]; then
		echo "ok: want $want: $verdict"
	else
		echo "NOT OK: want $want${pattern:+ /$pattern/}, exit $rc: $verdict"
		failures=$((failures + 1))
	fi
}

expect PASS '' "${LOAD_ARGS[@]}" "$TMP/selftest-pass.sh"
expect FAIL 'test exited 1 \(FATAL: selftest says why\)' "${LOAD_ARGS[@]}" "$TMP/selftest-exit1.sh"
expect FAIL 'kernel log: .*WARNING: selftest' "${LOAD_ARGS[@]}" "$TMP/selftest-warn.sh"
expect FAIL 'timeout' "${LOAD_ARGS[@]}" --timeout 20 "$TMP/selftest-timeout.sh"
if ((HAVE_KO)); then
	expect PASS '' "$TMP/selftest-loaded.sh"
	expect PASS '' "$TMP/selftest-noload-marker.sh"
	MAICACHE_KO=$TMP/selftest-exit1.sh expect FAIL 'insmod .* failed' "$TMP/selftest-pass.sh"
fi

if ((failures)); then
	echo "FAIL harness-selftest [$KVER]: $failures case(s) wrong"
	exit 1
fi
echo "PASS harness-selftest [$KVER]"
