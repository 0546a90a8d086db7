#!/bin/bash
# The single test command behind `make check`: user-space unit tests (Check,
# under ASan/UBSan), kernel unit tests (KUnit in UML) and the VM tests on every
# kernel from scripts/kernels.sh. Ends with one line: "N passed, N failed".
#
# MAICACHE_CHECK selects parts (default "unit,k8s,sim,fuzz,blob,etcd,kunit,kunit-debug,dkms,deb,vm,vm-debug"); MAICACHE_VM_TESTS is
# a glob of VM test names (default "*"); MAICACHE_VM_JOBS how many single-VM
# tests run at once (default 2), MAICACHE_VM_TIMEOUT each one's limit (600 s).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
parts=${MAICACHE_CHECK:-unit,k8s,sim,fuzz,blob,etcd,kunit,kunit-debug,dkms,deb,vm,vm-debug}
vm_glob=${MAICACHE_VM_TESTS:-*}
passed=0
failed=0
failures=()

pass() { passed=$((passed + $1)); }
# fail MSG [COUNT]
fail() { failed=$((failed + ${2:-1})); failures+=("$1"); echo "FAIL $1"; }
want() { [[ ",$parts," == *",$1,"* ]]; }

run_unit() {
	local t name out rc p f
	for t in "$root"/build/unit/check_*; do
		name=$(basename "$t")
		out=$(CK_VERBOSITY=verbose "$t" 2>&1)
		rc=$?
		echo "$out"
		p=$(grep -c ':P:' <<<"$out")
		f=$(grep -cE ':[FE]:' <<<"$out")
		pass "$p"
		while read -r line; do
			[ -n "$line" ] && fail "unit: $line"
		done < <(grep -E ':[FE]:' <<<"$out")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			fail "unit: $name exited $rc"
		fi
	done
}

# tally PART OUTPUT: count a script's "PASS ..." and "FAIL ..." lines.
tally() {
	local line
	echo "$2"
	pass "$(grep -c '^PASS' <<<"$2")"
	while read -r line; do
		[ -n "$line" ] && fail "$1: ${line#FAIL }"
	done < <(grep '^FAIL' <<<"$2")
}

# The layout: include direction between folders, what the CLI links.
run_layout() {
	tally layout "$("$root/tests/unit/layout.sh" 2>&1)"
}

# run_kunit PART LOGDIR [run.sh args]: kunit-debug is the same suites under
# the sanitizers, each report counted as a failure.
run_kunit() {
	local name=$1 logs=$2 out summary p f
	shift 2
	out=$("$root/tests/kunit/run.sh" "$@" 2>&1)
	local rc=$?
	echo "$out" | tail -n 40
	summary=$(grep -E '^KUNIT: [0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1)
	if [ -z "$summary" ]; then
		fail "$name: no result (exit $rc), see $logs/"
		return
	fi
	read -r _ p _ f _ <<<"$summary"
	pass "$p"
	[ "$f" -eq 0 ] || fail "$name: $f failed, see $logs/" "$f"
	[ "$rc" -eq 0 ] || [ "$f" -ne 0 ] || fail "$name: exit $rc"
}

# The single-VM tests run MAICACHE_VM_JOBS at a time (default 2): one VM
# keeps about one host core busy (qemu's TCG, measured), so two in parallel
# halve the VM part on a 2-core machine. Each job's output is printed whole
# when it ends. The multi-VM tests boot several VMs each: one at a time.
vm_jobs=${MAICACHE_VM_JOBS:-2}
# Parallel VMs run slower than one alone: a wider timeout than run.sh's 300 s.
vm_timeout=${MAICACHE_VM_TIMEOUT:-600}

# vm_report DIR: print and count the jobs in DIR that ended since the last call.
vm_report() {
	local f name
	for f in "$1"/*.rc; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .rc)
		cat "$1/$name.out"
		if [ "$(cat "$f")" = 0 ]; then pass 1; else fail "vm: ${name/@/ [}]"; fi
		rm -f "$f" "$1/$name.out"
	done
}

# run_vm_singles KVERS [TEST...]: the tests named (default: those of
# $vm_glob) on each kernel.
run_vm_singles() {
	local kvers=$1 k t name jobs=0 dir tests
	shift
	if (($#)); then
		tests=$(printf "$root/tests/vm/tests/%s.sh " "$@")
	else
		tests=$(echo "$root"/tests/vm/tests/$vm_glob.sh)
	fi
	dir=$(mktemp -d)
	for k in $kvers; do
		for t in $tests; do
			[ -e "$t" ] || continue
			name=$(basename "$t" .sh)@$k
			if [ "$jobs" -ge "$vm_jobs" ]; then
				wait -n
				jobs=$((jobs - 1))
				vm_report "$dir"
			fi
			(
				rc=0
				"$root/tests/vm/run.sh" --kernel "$k" --timeout "$vm_timeout" "$t" \
					>"$dir/$name.out" 2>&1 || rc=1
				echo "$rc" >"$dir/$name.rc.tmp" && mv "$dir/$name.rc.tmp" "$dir/$name.rc"
			) &
			jobs=$((jobs + 1))
		done
	done
	wait
	vm_report "$dir"
	rmdir "$dir"
}

# run_vm_multi KVER TEST_SCRIPT: one multi-VM test, on the nodes its
# "# vm: nodes N" line asks for (default 2); $vm_multi_timeout, if set,
# replaces the test's own timeout.
run_vm_multi() {
	local name n args=()
	name=$(basename "$2" .sh)
	n=$(sed -n 's/^#[[:space:]]*vm:[[:space:]]*nodes[[:space:]]*\([0-9]*\)[[:space:]]*$/\1/p' "$2")
	[ -z "${vm_multi_timeout:-}" ] || args=(--timeout "$vm_multi_timeout")
	if "$root/tests/vm/multi.sh" --kernel "$1" "${args[@]}" --nodes "${n:-2}" "$2"; then
		pass 1
	else
		fail "vm: $name [$1] (multi-VM)"
	fi
}

run_vm() {
	local kvers k t
	kvers=$("$root/scripts/kernels.sh")
	[ -n "$kvers" ] || { fail "vm: no kernels (run make deps)"; return; }
	echo "VM kernels: $(tr '\n' ' ' <<<"$kvers") ($vm_jobs single-VM tests at a time)"
	run_vm_singles "$kvers"
	for k in $kvers; do
		# Multi-VM tests: one VM per node on a switch of their own.
		for t in "$root"/tests/vm/multi/$vm_glob.sh; do
			[ -e "$t" ] || continue
			# "# vm: newest-kernel": the basic tests run on every kernel, the long ones on the newest.
			if grep -qE '^#[[:space:]]*vm:[[:space:]]*newest-kernel[[:space:]]*$' "$t" &&
				[ "$k" != "$(tail -n1 <<<"$kvers")" ]; then
				continue
			fi
			run_vm_multi "$k" "$t"
		done
	done
	if [ "$vm_glob" = "*" ]; then
		if "$root/tests/vm/selftest.sh"; then pass 1; else fail "vm: harness selftest"; fi
	fi
}

# The VM tests of the module's lifetimes on the KASAN/lockdep/kmemleak kernel
# of scripts/build-debug-kernel.sh, where it has been built (once, about 50
# minutes here: a fresh clone's make check has none and says so); the module
# is built against it first. Any report fails the test (tests/vm/run.sh).
debug_vm_tests=${MAICACHE_DEBUG_VM_TESTS:-fio_verify remove_under_load remove_mounted hostile_completions no_daemon unload soak}
# And the multi-VM tests whose kernel side only a sanitizer would catch:
# RDMA registers the pool with Soft-RoCE (about 11 minutes on it).
debug_multi_tests=${MAICACHE_DEBUG_MULTI_TESTS:-group_rdma}
run_vm_debug() {
	local cache=${MAICACHE_CACHE:-$root/.cache} k t
	k=$(find "$cache/kernels" -maxdepth 1 -name '*-maicache-debug' -printf '%f\n' 2>/dev/null | sort -V | tail -n1)
	if [[ -z $k || ! -f $cache/kernels/$k/.fetched || ! -d $cache/debug-kernel/build ]]; then
		echo "vm-debug: skipped, no debug kernel in $cache/kernels (scripts/build-debug-kernel.sh builds it once)"
		return
	fi
	if ! MAICACHE_KDIR=$cache/debug-kernel/build "$root/scripts/build-kmod.sh" "$k" >/dev/null; then
		fail "vm-debug: the module does not build against $k"
		return
	fi
	# shellcheck disable=SC2086 # a list of names
	vm_timeout=${MAICACHE_VM_TIMEOUT:-1200} run_vm_singles "$k" $debug_vm_tests
	for t in $debug_multi_tests; do
		vm_multi_timeout=1500 run_vm_multi "$k" "$root/tests/vm/multi/$t.sh"
	done
}

run_dkms() {
	tally dkms "$("$root/tests/dkms/build.sh" 2>&1)"
}

# The kernel's eviction code replayed in user space: scan resistance holds.
run_sim() {
	if "$root/build/user/policy-sim" --check; then
		pass 1
	else
		fail "sim: S3-FIFO below LRU on the hot-set-plus-scan trace"
	fi
}

# script_part PART SCRIPT: a script printing PASS/FAIL lines; a non-zero
# exit with no FAIL line counts as one failure.
script_part() {
	local out rc
	out=$("$2" 2>&1)
	rc=$?
	tally "$1" "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' <<<"$out"; then
		fail "$1: $2 exited $rc"
	fi
}

want unit && { echo "== unit tests"; run_unit; run_layout; }
want k8s && { echo "== Kubernetes deployment (kubectl kustomize, offline)"; script_part k8s "$root/tests/kubernetes/run.sh"; }
want sim && { echo "== simulators"; run_sim; script_part sim "$root/tools/sim/cluster-check.sh"; }
# Each fuzzer over its seeds and 10 s beyond (make fuzz runs longer).
want fuzz && { echo "== fuzzers (libFuzzer), briefly"; script_part fuzz "$root/tests/fuzz/run.sh"; }
want blob && { echo "== blob client (Azurite), both engines"; script_part blob "$root/tests/blob/run.sh"; }
want etcd && { echo "== etcd membership client (etcd)"; script_part etcd "$root/tests/etcd/run.sh"; }
want kunit && { echo "== KUnit"; run_kunit kunit build/kunit; }
want kunit-debug && { echo "== KUnit under KASAN, lockdep, object debugging"; run_kunit kunit-debug build/kunit-debug --debug; }
want dkms && { echo "== DKMS"; run_dkms; }
# The packages of make deb: lintian and their contents, then installed and
# purged in a clean root (which the VM test deb_install boots).
want deb && {
	echo "== Debian packages"
	script_part deb "$root/tests/deb/check.sh"
	script_part deb "$root/tests/deb/install.sh"
}
want vm && { echo "== VM tests"; run_vm; }
want vm-debug && { echo "== VM tests on the debug kernel"; run_vm_debug; }

if [ "${#failures[@]}" -gt 0 ]; then
	echo "== failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
