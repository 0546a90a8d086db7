#!/bin/bash
# Run one test script inside a qemu VM booted on a Debian kernel from the cache.
# Usage: tests/vm/run.sh [--kernel KVER] [--timeout SECS] [--no-load] [--mem SIZE]
#                        [--smp N] [--cpu MODEL] [--append ARGS]
#                        [--node I --vde SOCK [--life L]] TEST_SCRIPT [ARGS...]
# --cpu MODEL: qemu's -cpu (default max).
# --append ARGS: more for the guest kernel's command line (clearcpuid=...).
# --node I --vde SOCK: node I of a multi-VM test (tests/vm/multi.sh): a NIC on
# the VDE switch at SOCK, MAICACHE_NODE=I inside, output under node<I>/.
# --life L: the node's L-th boot (MAICACHE_LIFE=L inside, output under
# node<I>.life<L>/ from 2 on); a boot the test had killed (vm_kill_me)
# prints "KILLED ..." and exits 3.
# Prints one line "PASS <test> [<kver>] (<secs>s)" or "FAIL <test> [<kver>]: <reason>".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${MAICACHE_CACHE:-$REPO/.cache}

usage() {
	sed -n '3,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

KVER=""
TIMEOUT=300
LOAD=1
MEM=2G
SMP=2
CPU=max
APPEND=""
NODE=""
VDE=""
LIFE=1
while (($#)); do
	case $1 in
	--kernel) KVER=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--no-load) LOAD=0; shift ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--smp) SMP=${2:?}; shift 2 ;;
	--cpu) CPU=${2:?}; shift 2 ;;
	--append) APPEND=${2:?}; shift 2 ;;
	--node) NODE=${2:?}; shift 2 ;;
	--vde) VDE=${2:?}; shift 2 ;;
	--life) LIFE=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
(($#)) || usage
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds"
[[ -z $NODE || ($NODE =~ ^[0-9]+$ && $NODE -lt 200 && -n $VDE) ]] ||
	die "--node wants a number below 200, with --vde"
TEST=$(realpath -e -- "$1") || die "no such test script: $1"
shift
TEST_ARGS=("$@")
NAME=$(basename "$TEST" .sh)

if [[ -z $KVER ]]; then
	KVER=$("$REPO/scripts/kernels.sh" | tail -n1)
	[[ -n $KVER ]] || die "no usable kernel: run scripts/fetch-kernels.sh (and install headers)"
fi
KROOT=$CACHE/kernels/$KVER
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
[[ -f $VMLINUZ && -f $KROOT/.fetched ]] || die "kernel $KVER is not in $CACHE/kernels: run scripts/fetch-kernels.sh"

if grep -qE '^#[[:space:]]*vm:[[:space:]]*no-load[[:space:]]*$' "$TEST"; then
	LOAD=0
fi
KO=${MAICACHE_KO:-$REPO/build/$KVER/kmod/maicache.ko}
if ((LOAD)); then
	KO=$(realpath -e -- "$KO" 2>/dev/null) ||
		die "module $KO not found: build it, set MAICACHE_KO or use --no-load"
fi

# ---------------------------------------------------------------------------
# Initramfs: only enough to mount the host root over 9p and chroot into it.

# busybox sh, PID 1. Everything after the chroot lives in the runner below so
# that the host's bash and tools do the real work.
INIT_SCRIPT=$(
	cat <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
fatal() {
	echo "maicache-init: FATAL: $*"
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/modules/$m.ko" || fatal "insmod $m failed"
done </modules/order
opts=trans=virtio,version=9p2000.L,msize=512000
# Nothing writes the host root from inside and a run is short, so page-caching
# it is safe and makes every exec much cheaper.
mount -t 9p -o "ro,cache=loose,$opts" hostroot /newroot || fatal "cannot mount the host root"
mount -t 9p -o "$opts" out /out || fatal "cannot mount the output share"
read -r outdir </out/.vm/outdir || fatal "no .vm/outdir in the output share"
read -r modroot </out/.vm/modroot || fatal "no .vm/modroot in the output share"
echo "$modroot" >/modroot
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
mount -t tmpfs tmpfs $r/dev/shm
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
# The repository or the cache may live under a directory tmpfs is about to
# hide (a checkout in /tmp): hold them aside and put them back on top.
n=0
while read -r p; do
	case $p in
	/tmp/* | /run/* | /var/tmp/*)
		mkdir -p /keep$n
		mount --bind "$r$p" /keep$n || fatal "cannot hold $p"
		echo "$n $p" >>/keeplist
		n=$((n + 1))
		;;
	esac
done </out/.vm/keep
for d in /tmp /run /var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "$r$d" || fatal "cannot mount tmpfs on $d"
done
if [ -f /keeplist ]; then
	while read -r i p; do
		mkdir -p "$r$p" && mount --move /keep$i "$r$p" || fatal "cannot restore $p"
	done </keeplist
fi
mount --move /out "$r$outdir" || fatal "cannot mount the output share at $outdir"
echo "maicache-init: up at $(cut -d' ' -f1 /proc/uptime)s"
chroot $r /bin/bash "$outdir/.vm/runner.sh"
echo "maicache-init: runner exited $?"
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 30
EOF
)

# The kernel runs request_module() helpers in the initramfs root, not the chroot:
# forward them into it so autoloading finds the cached modules.
MODPROBE_WRAPPER=$(
	cat <<'EOF'
#!/bin/sh
read -r modroot </modroot
exec chroot /newroot /sbin/modprobe -d "$modroot" "$@"
EOF
)

# Modules to reach a 9p root over virtio-pci, with their dependencies, in load
# order. Built-in ones are skipped, so the same roots work for every kernel.
MOD_ROOTS=(virtio_pci 9pnet_virtio 9p)
declare -A MOD_SEEN=()
MOD_ORDER=()
mod_visit() {
	local m=$1 path deps d
	[[ -z ${MOD_SEEN[$m]:-} ]] || return 0
	MOD_SEEN[$m]=1
	path=$(modinfo -b "$KROOT" -k "$KVER" -n "$m") || die "modinfo: no module $m in $KVER"
	[[ $path != "(builtin)" ]] || return 0
	deps=$(modinfo -b "$KROOT" -k "$KVER" -F depends "$m")
	local IFS=,
	for d in $deps; do
		[[ -n $d ]] && mod_visit "$d"
	done
	MOD_ORDER+=("$m $path")
}

build_initramfs() {
	local out=$CACHE/initramfs/$KVER.cpio.gz key tmp entry m path
	mkdir -p "$CACHE/initramfs"
	local r
	for r in "${MOD_ROOTS[@]}"; do mod_visit "$r"; done
	key=$(
		{
			printf '%s\n' "$INIT_SCRIPT" "$MODPROBE_WRAPPER" "${MOD_ORDER[@]}"
			cat "$KROOT/.fetched"
			stat -c '%s %Y' "$VMLINUZ" /bin/busybox
		} | sha256sum | cut -d' ' -f1
	)
	# Parallel runs share the cache; serialise the rebuild.
	exec {lock}>"$CACHE/initramfs/$KVER.lock"
	flock "$lock"
	if [[ -f $out && "$(cat "$out.key" 2>/dev/null)" == "$key" ]]; then
		exec {lock}>&-
		return 0
	fi
	tmp=$(mktemp -d "$CACHE/initramfs/.build.XXXXXX")
	mkdir -p "$tmp"/{bin,sbin,dev,proc,sys,newroot,out,modules}
	cp /bin/busybox "$tmp/bin/busybox"
	for m in $(/bin/busybox --list); do
		[[ $m == busybox ]] || ln -s busybox "$tmp/bin/$m"
	done
	printf '%s\n' "$MODPROBE_WRAPPER" >"$tmp/sbin/modprobe"
	chmod 755 "$tmp/sbin/modprobe"
	# Without a console node PID 1 starts with no stdout.
	mknod -m 600 "$tmp/dev/console" c 5 1
	: >"$tmp/modules/order"
	for entry in "${MOD_ORDER[@]}"; do
		m=${entry%% *}
		path=${entry#* }
		# busybox insmod reads only uncompressed modules.
		case $path in
		*.ko.xz) xz -dc "$path" >"$tmp/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$path" >"$tmp/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$path" >"$tmp/modules/$m.ko" ;;
		*.ko) cp "$path" "$tmp/modules/$m.ko" ;;
		*) die "unexpected module file $path" ;;
		esac
		printf '%s\n' "$m" >>"$tmp/modules/order"
	done
	printf '%s\n' "$INIT_SCRIPT" >"$tmp/init"
	chmod 755 "$tmp/init"
	(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	printf '%s\n' "$key" >"$out.key"
	rm -rf "$tmp"
	exec {lock}>&-
}

# ---------------------------------------------------------------------------
# Runner: bash inside the chroot, on the host's own tools.
RUNNER_SCRIPT=$(
	cat <<'EOF'
#!/bin/bash
set -u
VMDIR=$(dirname "$0")
# shellcheck source=/dev/null
. "$VMDIR/params.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export MAICACHE_ROOT MAICACHE_KVER MAICACHE_KO MAICACHE_OUT MAICACHE_MODROOT MAICACHE_CACHE MAICACHE_NODE MAICACHE_SHARED MAICACHE_NODES MAICACHE_LIFE
export HOME=/root TERM=dumb LANG=C.UTF-8
out=$MAICACHE_OUT
herr() { echo "harness: $*"; echo "$*" >>"$out/harness.err"; }
echo "maicache-vm: test start at $(cut -d' ' -f1 /proc/uptime)s" | tee "$out/uptime-start"
cd "$MAICACHE_ROOT" || herr "cannot cd to $MAICACHE_ROOT"
# Plain modprobe (and the tools calling it) should see the booted kernel's modules.
if [[ -d /lib/modules/$MAICACHE_KVER ]]; then
	mount --bind "$MAICACHE_MODROOT/lib/modules/$MAICACHE_KVER" "/lib/modules/$MAICACHE_KVER" ||
		herr "cannot bind the kernel's modules on /lib/modules/$MAICACHE_KVER"
fi
# configfs is modular on some kernels and nothing else would load it early.
grep -qw configfs /proc/filesystems || modprobe -q -d "$MAICACHE_MODROOT" configfs
grep -qw configfs /proc/filesystems && mount -t configfs configfs /sys/kernel/config
rc=none
if [[ $LOAD == 1 ]] && ! insmod "$MAICACHE_KO"; then
	herr "insmod $MAICACHE_KO failed"
fi
# A kernel with kmemleak (the debug kernel): forget what boot left, so that
# the scan at the end reports what leaked meanwhile.
leaks=/sys/kernel/debug/kmemleak
[[ -w $leaks ]] && echo clear >"$leaks"
if [[ ! -s $out/harness.err ]]; then
	bash "$TEST_PATH" "${TEST_ARGS[@]}"
	rc=$?
	echo "maicache-vm: test exited $rc at $(cut -d' ' -f1 /proc/uptime)s"
fi
# Scanned while the module is loaded, so that its frames have names: the
# objects allocated in maicache that nothing points to any more.
if [[ -w $leaks ]] && grep -q '^maicache ' /proc/modules; then
	echo scan >"$leaks" && echo scan >"$leaks"
	awk '/^unreferenced object/ { if (blk ~ /\[maicache\]/) printf "%s", blk; blk = "" }
		{ blk = blk $0 "\n" } END { if (blk ~ /\[maicache\]/) printf "%s", blk }' "$leaks" >"$out/kmemleak.log"
fi
if grep -q '^maicache ' /proc/modules && ! rmmod maicache; then
	herr "rmmod maicache failed"
fi
dmesg >"$out/dmesg.log" 2>&1
echo "$rc" >"$out/status"
sync
EOF
)

# ---------------------------------------------------------------------------
[[ $LIFE =~ ^[1-9][0-9]*$ ]] || die "--life wants a number from 1"
life_dir=""
((LIFE == 1)) || life_dir=.life$LIFE
OUTDIR=$REPO/build/vm-runs/$KVER/$NAME${NODE:+/node$NODE$life_dir}
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR/.vm"
CONSOLE=$OUTDIR/console.log

# tmpfs hides these in the VM, so a script living there must travel in the share.
TEST_PATH=$TEST
case $TEST in
/tmp/* | /run/* | /var/tmp/*)
	TEST_PATH=$OUTDIR/.vm/$(basename "$TEST")
	cp "$TEST" "$TEST_PATH"
	;;
esac

if ((LOAD)); then
	case $KO in
	/tmp/* | /run/* | /var/tmp/*)
		cp "$KO" "$OUTDIR/.vm/"
		KO=$OUTDIR/.vm/$(basename "$KO")
		;;
	esac
fi

printf '%s\n' "$OUTDIR" >"$OUTDIR/.vm/outdir"
printf '%s\n' "$REPO" "$CACHE" >"$OUTDIR/.vm/keep"
printf '%s\n' "$KROOT" >"$OUTDIR/.vm/modroot"
printf '%s\n' "$RUNNER_SCRIPT" >"$OUTDIR/.vm/runner.sh"
{
	printf 'MAICACHE_ROOT=%q\n' "$REPO"
	printf 'MAICACHE_KVER=%q\n' "$KVER"
	printf 'MAICACHE_KO=%q\n' "$KO"
	printf 'MAICACHE_OUT=%q\n' "$OUTDIR"
	printf 'MAICACHE_CACHE=%q\n' "$CACHE"
	printf 'MAICACHE_MODROOT=%q\n' "$KROOT"
	printf 'LOAD=%q\n' "$LOAD"
	printf 'MAICACHE_NODE=%q\n' "$NODE"
	printf 'MAICACHE_LIFE=%q\n' "$LIFE"
	printf 'MAICACHE_SHARED=%q\n' "${MAICACHE_SHARED:-}"
	printf 'MAICACHE_NODES=%q\n' "${MAICACHE_NODES:-}"
	printf 'TEST_PATH=%q\n' "$TEST_PATH"
	printf 'TEST_ARGS=('
	((${#TEST_ARGS[@]} == 0)) || printf ' %q' "${TEST_ARGS[@]}"
	printf ' )\n'
} >"$OUTDIR/.vm/params.sh"

build_initramfs

QEMU=(
	qemu-system-x86_64 -machine q35 -cpu "$CPU" -smp "$SMP" -m "$MEM"
	-nographic -no-reboot -nic none
	-kernel "$VMLINUZ" -initrd "$CACHE/initramfs/$KVER.cpio.gz"
	-append "console=ttyS0 panic=-1 loglevel=5 printk.time=1 no_timer_check slab_nomerge${APPEND:+ $APPEND}"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=${OUTDIR//,/,,},mount_tag=out,security_model=none,multidevs=remap"
	-pidfile "$OUTDIR/.vm/qemu.pid"
)

# A node of a multi-VM test: one NIC on the test's own VDE switch, nothing else.
if [[ -n $NODE ]]; then
	for i in "${!QEMU[@]}"; do
		if [[ ${QEMU[i]} == -nic && ${QEMU[i + 1]} == none ]]; then
			QEMU[i]=-netdev
			QEMU[i + 1]="vde,id=n0,sock=$VDE"
		fi
	done
	QEMU+=(-device "virtio-net-pci,netdev=n0,mac=52:54:00:4d:43:$(printf '%02x' "$NODE")")
fi

boot() {
	set +e
	if [[ ${MAICACHE_VM_VERBOSE:-0} == 1 ]]; then
		timeout --kill-after=10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 | tee "$CONSOLE" >&2
		qrc=${PIPESTATUS[0]}
	else
		timeout --kill-after=10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$CONSOLE" 2>&1
		qrc=$?
	fi
	set -e
}

start=$SECONDS
boot
# A guest kernel that dies before our init even ran (software emulation
# occasionally trips over the kernel patching its own text while booting)
# says nothing about maicache: boot once more, and say so.
if ! grep -qa 'maicache-init: up' "$CONSOLE" &&
	grep -qaE '\[ *[0-9]+\.[0-9]+\].*(Oops|Kernel panic)' "$CONSOLE"; then
	cp "$CONSOLE" "$CONSOLE.boot-crash"
	echo "note: $NAME [$KVER]: the guest kernel crashed while booting, before init; booting again (first console: $CONSOLE.boot-crash)" >&2
	rm -f "$OUTDIR/status" "$OUTDIR/harness.err"
	boot
fi
secs=$((SECONDS - start))

# The test asked to be killed (vm_kill_me) and multi.sh did it: not a result.
if [[ -f $OUTDIR/killed ]]; then
	echo "KILLED $NAME${NODE:+ node $NODE} [$KVER] (life $LIFE, ${secs}s), as the test asked"
	exit 3
fi

reasons=()
if ((qrc == 124 || qrc == 137)); then
	reasons+=("timeout after ${TIMEOUT}s")
elif ((qrc != 0)); then
	reasons+=("qemu exited $qrc")
fi
status=$(cat "$OUTDIR/status" 2>/dev/null) || status=""
if [[ -s $OUTDIR/harness.err ]]; then
	reasons+=("$(head -n1 "$OUTDIR/harness.err")")
fi
if [[ -z $status ]]; then
	init_err=$(grep -m1 -a 'maicache-init: FATAL' "$CONSOLE" | tr -d '\r') || true
	reasons+=("no status file${init_err:+ ($init_err)}")
elif [[ $status != 0 && $status != none ]]; then
	# The test's own first FATAL line names why: in the verdict, where it
	# survives a report that keeps only the head and the tail.
	fatal=$(grep -m1 -a '^FATAL: ' "$CONSOLE" | tr -d '\r' | cut -c1-300) || true
	reasons+=("test exited $status${fatal:+ ($fatal)}")
fi
# Only timestamped lines of the console are the kernel's; the test's own output
# is there too and must not trip these.
KPAT='WARNING:|BUG:|Oops|Kernel panic|general protection fault|UBSAN:|KASAN:|refcount_t:|hung_task|blocked for more than'
kline=$(
	{
		grep -aE "\[ *[0-9]+\.[0-9]+\].*($KPAT)" "$CONSOLE" || true
		grep -aE "$KPAT" "$OUTDIR/dmesg.log" 2>/dev/null || true
	} | head -n1 | tr -d '\r'
)
[[ -z $kline ]] || reasons+=("kernel log: $kline")
if [[ -s $OUTDIR/kmemleak.log ]]; then
	reasons+=("kmemleak: $(grep -c '^unreferenced object' "$OUTDIR/kmemleak.log") objects of maicache unreferenced (kmemleak.log)")
fi

if ((${#reasons[@]} == 0)); then
	echo "PASS $NAME${NODE:+ node $NODE} [$KVER] (${secs}s)"
	exit 0
fi
reason=$(printf '%s; ' "${reasons[@]}")
echo "FAIL $NAME${NODE:+ node $NODE} [$KVER]: ${reason%; }"
echo "--- last 60 lines of $CONSOLE"
tail -n 60 "$CONSOLE" | tr -d '\r'
exit 1
