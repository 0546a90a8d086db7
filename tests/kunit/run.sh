#!/usr/bin/env bash
# Runs the kmod KUnit tests in a UML kernel built from Debian's linux-source-6.12.
#
# Usage: tests/kunit/run.sh [--debug] [SUITE_GLOB[.CASE_GLOB]] [extra kunit.py run arguments]
#
# --debug builds a second kernel with the sanitizers of tests/kunit/debug.config
# (KASAN, lockdep, sleep-in-atomic, object debugging) in a build directory of
# its own and fails the run on any report in the kernel log.
#
# Environment:
#   MAICACHE_CACHE  cache root (default: <repo>/.cache); the kernel tree and the
#                   build directories live under $MAICACHE_CACHE/kunit.
#   MAICACHE_KUNIT_INJECT  (--debug only) comma-separated deliberate bugs from
#                   tests/kunit/inject_kunit.c to build in (uaf, vmalloc,
#                   sleep, lockorder, odebug), to show that reports fail the run.
set -euo pipefail

debug=0
if [[ ${1:-} == --debug ]]; then
	debug=1
	shift
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${MAICACHE_CACHE:-$repo/.cache}
kunit_cache=$cache/kunit
tree=$kunit_cache/linux-source-6.12
build_dir=$kunit_cache/build
stamp=$kunit_cache/linux-source-6.12.stamp
log_dir=$repo/build/kunit
debug_config=$repo/tests/kunit/debug.config
inject_src=$repo/tests/kunit/inject_kunit.c
if [[ $debug -eq 1 ]]; then
	build_dir=$kunit_cache/build-debug
	log_dir=$repo/build/kunit-debug
fi
log=$log_dir/kunit.log
kmod=$repo/kmod
proto=$repo/proto
sources_list=$repo/tests/kunit/sources
# The python3 first on PATH may be a separately installed interpreter; kunit.py
# is only known to work with the system one.
python=/usr/bin/python3
hook_name=maicache_kunit
hook=$tree/drivers/$hook_name
# Named so that it can't collide with a kmod source file's object.
composite=maicache_kunit_all

passed=0
failed=0
skipped=0

die() {
	echo "run.sh: $*" >&2
	echo "KUNIT: $passed passed, $((failed > 0 ? failed : 1)) failed"
	exit 1
}

mkdir -p "$kunit_cache" "$log_dir"

# Two runs sharing one tree and build directory would corrupt each other.
exec 9>"$kunit_cache/.lock"
flock 9

find_tarball() {
	local t
	t=$(compgen -G '/usr/src/linux-source-6.12*.tar.xz' | sort -V | tail -n1 || true)
	printf '%s' "$t"
}

tarball=$(find_tarball)
if [[ -z $tarball ]]; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "run.sh: installing linux-source-6.12" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.12 >&2 ||
			die "apt-get install linux-source-6.12 failed"
		tarball=$(find_tarball)
	fi
	[[ -n $tarball ]] || die "no /usr/src/linux-source-6.12*.tar.xz: apt-get install linux-source-6.12"
fi

want_stamp=$(stat -c '%n %s %Y' "$tarball")
if [[ ! -d $tree || ! -f $stamp || $(<"$stamp") != "$want_stamp" ]]; then
	echo "run.sh: extracting $tarball" >&2
	rm -rf "$tree" "$tree.tmp" "$stamp"
	# tar keeps the tarball's old mtimes, so objects left from another source
	# version would look up to date: drop them with the tree.
	rm -rf "$build_dir"
	mkdir -p "$tree.tmp"
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
	mv "$tree.tmp" "$tree"
	printf '%s' "$want_stamp" >"$stamp"
fi

# Every *_kunit.c goes in, plus the code they test as listed by the lead.
declare -a files=()
declare -A seen=()
shopt -s nullglob
for f in "$kmod"/*_kunit.c; do
	f=${f#"$kmod"/}
	files+=("$f")
	seen[$f]=1
done
shopt -u nullglob
[[ ${#files[@]} -gt 0 ]] || die "no kmod/*_kunit.c: nothing to test"

# The deliberate bugs: never in kmod/ (every kmod/*_kunit.c is always built),
# only symlinked into the hook for a run that asks for them.
inject=${MAICACHE_KUNIT_INJECT:-}
inject_flags=
if [[ -n $inject ]]; then
	[[ $debug -eq 1 ]] || die "MAICACHE_KUNIT_INJECT needs --debug"
	IFS=, read -r -a inject_list <<<"$inject"
	for bug in "${inject_list[@]}"; do
		case $bug in
		uaf | vmalloc | sleep | lockorder | odebug) ;;
		*) die "MAICACHE_KUNIT_INJECT: unknown bug '$bug' (uaf, vmalloc, sleep, lockorder, odebug)" ;;
		esac
		inject_flags+=" -DMC_INJECT_${bug^^}"
	done
	echo "run.sh: injecting deliberate bugs: $inject" >&2
fi

if [[ -f $sources_list ]]; then
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=$(printf '%s' "$line" | tr -d '[:space:]')
		[[ -n $line ]] || continue
		[[ -f $kmod/$line ]] || die "tests/kunit/sources lists $line, but kmod/$line does not exist"
		[[ -z ${seen[$line]:-} ]] || continue
		seen[$line]=1
		files+=("$line")
	done <"$sources_list"
fi

objs=()
for f in "${files[@]}"; do
	case $f in
	*.c)
		[[ $(basename "$f" .c) != "$composite" ]] || die "kmod/$f clashes with the test object's name"
		objs+=("${f%.c}.o")
		;;
	*.h) ;; # reached through -I, only listed for documentation
	*) die "tests/kunit/sources: $f is neither .c nor .h" ;;
	esac
done

# Only rewrite generated files whose content changed, so an unchanged hook
# doesn't make Kconfig re-run or the object relink.
write_if_changed() {
	local dest=$1 tmp
	tmp=$(mktemp "$dest.XXXXXX")
	cat >"$tmp"
	if [[ -f $dest ]] && cmp -s "$tmp" "$dest"; then
		rm -f "$tmp"
	else
		mv "$tmp" "$dest"
	fi
}

append_once() {
	local file=$1 line=$2
	grep -qxF "$line" "$file" || printf '%s\n' "$line" >>"$file"
}

mkdir -p "$hook"

# Symlinks rather than copies: make follows them to the real file's mtime, so
# editing kmod/ rebuilds exactly what changed.
declare -A wanted=([Kconfig]=1 [Makefile]=1)
for f in "${files[@]}"; do
	wanted[$f]=1
	mkdir -p "$(dirname "$hook/$f")"
	if [[ $(readlink "$hook/$f" 2>/dev/null || true) != "$kmod/$f" ]]; then
		ln -sfn "$kmod/$f" "$hook/$f"
	fi
done
if [[ -n $inject ]]; then
	wanted[inject_kunit.c]=1
	ln -sfn "$inject_src" "$hook/inject_kunit.c"
	objs+=(inject_kunit.o)
fi
while IFS= read -r -d '' entry; do
	rel=${entry#"$hook"/}
	[[ -n ${wanted[$rel]:-} ]] || rm -f "$entry"
done < <(find "$hook" \( -type l -o -type f \) -print0)

# bool, not tristate: test code built in while KUNIT=m would not link.
write_if_changed "$hook/Kconfig" <<'EOF'
config MAICACHE_KUNIT_TEST
	bool "KUnit tests for maicache" if !KUNIT_ALL_TESTS
	depends on KUNIT=y
	default KUNIT_ALL_TESTS
	help
	  Builds the maicache kmod/*_kunit.c tests and the kmod sources they
	  exercise into the kernel.
EOF

{
	printf 'ccflags-y += -I%s -I%s\n' "$kmod" "$proto"
	printf 'include %s/compat.mk\n' "$kmod"
	printf "obj-\$(CONFIG_MAICACHE_KUNIT_TEST) += %s.o\n" "$composite"
	printf '%s-y := %s\n' "$composite" "${objs[*]}"
	if [[ -n $inject ]]; then
		printf 'CFLAGS_inject_kunit.o :=%s\n' "$inject_flags"
	fi
} | write_if_changed "$hook/Makefile"

append_once "$tree/drivers/Kconfig" "source \"drivers/$hook_name/Kconfig\""
append_once "$tree/drivers/Makefile" "obj-\$(CONFIG_MAICACHE_KUNIT_TEST) += $hook_name/"

jobs=$(nproc)
echo "run.sh: ${#files[@]} file(s): ${files[*]}" >&2
echo "run.sh: tree $tree, build $build_dir, log $log" >&2

# Point compiler and KUnit messages at kmod/, where the file is edited, instead
# of at its symlink in the cached tree.
tree_re=$(printf '%s' "$tree" | sed 's/[][\.*^$#]/\\&/g')
to_kmod="s#($tree_re/)?drivers/$hook_name/([^ :]+\.[ch]):#kmod/\\2:#g"

kunitconfigs=(--kunitconfig="$repo/tests/kunit")
if [[ $debug -eq 1 ]]; then
	kunitconfigs+=(--kunitconfig="$debug_config")
	# kunit.py refuses a .config missing a requested option; check it here
	# too, before the long build, so a dropped sanitizer can never pass.
	"$python" "$tree/tools/testing/kunit/kunit.py" config \
		"${kunitconfigs[@]}" --build_dir="$build_dir" --arch=um >"$log" 2>&1 ||
		{ cat "$log" >&2; die "kunit.py config failed (an option of tests/kunit/debug.config unavailable on UML?)"; }
	dropped=()
	while IFS= read -r line || [[ -n $line ]]; do
		case $line in
		CONFIG_*=*) opt=$line ;;
		"# CONFIG_"*" is not set") opt=$line ;;
		*) continue ;;
		esac
		grep -qxF "$opt" "$build_dir/.config" || dropped+=("$opt")
	done <"$debug_config"
	[[ ${#dropped[@]} -eq 0 ]] ||
		die "the UML .config lacks: ${dropped[*]} (see $build_dir/.config)"
	# The log is scanned afterwards: never the one of an earlier run.
	rm -f "$build_dir/test.log"
fi

set +e
"$python" "$tree/tools/testing/kunit/kunit.py" run \
	"${kunitconfigs[@]}" \
	--build_dir="$build_dir" \
	--jobs="$jobs" \
	--arch=um \
	"$@" 2>&1 | sed -u -E "$to_kmod" | tee "$log"
rc=${PIPESTATUS[0]}
set -e

rm -f "$log_dir/test.log"
if [[ -f $build_dir/test.log ]]; then
	cp "$build_dir/test.log" "$log_dir/test.log"
fi

# Last summary wins: kunit.py prints one per run.
summary=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log" | tail -n1 || true)
count() {
	local n
	n=$(printf '%s' "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || true)
	printf '%s' "${n:-0}"
}
if [[ -n $summary ]]; then
	passed=$(count passed)
	skipped=$(count skipped)
	failed=$(($(count failed) + $(count crashed)))
	# Parse errors (missing result lines) mean some test never reported.
	if [[ $failed -eq 0 && $(count errors) -gt 0 ]]; then
		failed=1
	fi
fi
# A sanitizer report is a failure even when every case passed: KASAN marks
# the case it hit as failed, lockdep and the others only print.
if [[ $debug -eq 1 ]]; then
	if [[ $rc -eq 0 && ! -f $log_dir/test.log ]]; then
		die "no kernel log ($build_dir/test.log): cannot check for sanitizer reports"
	fi
	if [[ -f $log_dir/test.log ]]; then
		reports=$("$repo/tests/kunit/reports.sh" "$log_dir/test.log")
		if [[ -n $reports ]]; then
			n=$(grep -c . <<<"$reports")
			echo "run.sh: $n sanitizer report(s) in $log_dir/test.log:" >&2
			sed 's/^/  /' <<<"$reports" >&2
			failed=$((failed + n))
			rc=1
		fi
	fi
fi

# A build failure, a kernel that died before reporting, or a non-zero kunit.py
# status without a counted failure still has to show up as a failure.
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
	failed=1
fi

status=0
if [[ $rc -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
	status=1
fi
if [[ $passed -eq 0 && $failed -eq 0 ]]; then
	echo "run.sh: no test passed" >&2
fi
if [[ $skipped -gt 0 ]]; then
	echo "run.sh: $skipped skipped" >&2
fi
echo "KUNIT: $passed passed, $failed failed"
exit "$status"
