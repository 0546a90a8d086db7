#!/bin/bash
# vm: no-load
# The Debian packages on a node, booted: the root tests/deb/install.sh
# installed them in (build/deb/installed, laid over the VM's root by
# tests/deb/clean-root.sh, in memory) holds the module DKMS built for this
# kernel; `modprobe maicache` loads that module; a boot of that root by
# systemd, as PID 1 of a PID and mount namespace of its own, loads it
# from the package's modules-load.d and starts maicached.service, whose
# daemon serves a volume through the package's maicachectl (and udevd
# makes its link from the package's rules), stops cleanly, and loads the
# module itself (ExecStartPre) when it is not loaded.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/deb/clean-root.sh
. "$MAICACHE_ROOT/tests/deb/clean-root.sh"

version=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$MAICACHE_ROOT/proto/maicache_version.h")
installed=$MAICACHE_ROOT/build/deb/installed
[[ -d $installed/root ]] || die "no $installed: tests/deb/install.sh (make check's part deb) makes it"
kver=$MAICACHE_KVER
t0=$SECONDS
# step MSG: a heading with the seconds since the start.
step() { echo "== $* ($((SECONDS - t0))s)"; }

sdpid=""
cleanup_journal=0
cleanup() {
	((cleanup_journal)) && [[ -n $sdpid ]] && boot_journal
	if [[ -n $sdpid ]]; then
		kill -KILL "$sdpid" 2>/dev/null || true
		wait "$sdpid" 2>/dev/null || true
	fi
	if grep -q '^maicache ' /proc/modules; then rmmod maicache || true; fi
	croot_cleanup
}
trap cleanup EXIT

# in_root CMD...: CMD in the installed root, with a plain environment.
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 chroot "$croot" "$@"
}

step "the root the packages were installed in"
croot_make /tmp/croot "$installed"
grep -q '^maicache ' /proc/modules && die "a maicache module is loaded before the test"
status=$(in_root dkms status -m maicache -v "$version" -k "$kver")
echo "dkms status: $status"
[[ $status == *"maicache/$version, $kver, x86_64: installed"* ]] ||
	die "DKMS has not installed maicache $version for $kver: '$status'"
# DKMS compresses the module as the kernel's own are (6.12: xz).
ko_rel=$(cd "$croot" && compgen -G "usr/lib/modules/$kver/updates/dkms/maicache.ko*") ||
	die "no /usr/lib/modules/$kver/updates/dkms/maicache.ko*"
ko_rel=/$ko_rel
dkms_src=$(modinfo -F srcversion "$croot$ko_rel")
echo "DKMS's module: $ko_rel, srcversion $dkms_src"

step "modprobe maicache: the module DKMS built"
found=$(in_root modinfo -n maicache) || die "modinfo finds no maicache module"
assert_eq "$(in_root realpath "$found")" "$ko_rel" "the module modprobe finds ($found)"
in_root modprobe maicache || die "modprobe maicache failed"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the loaded module"
assert_eq "$(cat /sys/module/maicache/version)" "$version" "version of the loaded module"
in_root modprobe -r maicache || die "modprobe -r maicache failed"
[[ ! -e /sys/module/maicache ]] || die "maicache still loaded after modprobe -r"

step "a boot of that root by systemd"
b=$croot
ip link set lo up
# PID 1 of a new PID and mount namespace: systemd then runs as in a
# container (container=), with the VM's /sys and /dev. Its default unit
# is maicached.service, which brings sysinit.target (systemd-modules-load,
# udevd) and basic.target; the host's own services are not started. Its
# arguments are its kernel command line there: no coldplug by udev, which
# would load drivers for the VM's own devices (and one of them warns).
env -i container=maicache-test PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	unshare --pid --fork --mount --propagation private \
	chroot "$b" /bin/sh -c 'mount -t proc proc /proc && exec /lib/systemd/systemd --unit=maicached.service --log-target=journal --show-status=no systemd.mask=systemd-udev-trigger.service' \
	</dev/null >"$MAICACHE_OUT/systemd.log" 2>&1 &
upid=$!
for ((i = 0; i < 100; i++)); do
	sdpid=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null) && [[ -n $sdpid ]] && break
	sleep 0.1
done
sdpid=${sdpid// /}
[[ -n $sdpid ]] || die "systemd did not start"
# in_boot CMD...: CMD in systemd's namespaces and root.
in_boot() { nsenter -t "$sdpid" -m -p -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
state=""
for ((i = 0; i < 600; i++)); do
	state=$(in_boot systemctl is-active maicached.service 2>/dev/null) || true
	[[ $state == active || $state == failed ]] && break
	kill -0 "$sdpid" 2>/dev/null || { cat "$MAICACHE_OUT/systemd.log"; die "systemd exited"; }
	sleep 0.2
done
step "maicached.service: $state"
if [[ $state != active ]]; then
	in_boot systemctl --no-pager list-jobs || true
	in_boot journalctl --no-pager -b | tail -n 60
	die "maicached.service is '$state'"
fi
# The boot's journal, for whoever reads the logs.
boot_journal() { in_boot journalctl --no-pager -b >"$MAICACHE_OUT/journal.log" 2>&1 || true; }
cleanup_journal=1
assert_eq "$(in_boot systemctl is-enabled maicached.service)" enabled "maicached.service in the installed root"
assert_eq "$(in_boot systemctl is-active systemd-modules-load.service)" active "systemd-modules-load at boot"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the module loaded at boot"

step "maicachectl through the unit's daemon"
ctl() { in_boot /usr/sbin/maicachectl "$@"; }
pid=$(in_boot systemctl show -p MainPID --value maicached.service)
exe=$(in_boot readlink "/proc/$pid/exe")
[[ $exe == */usr/sbin/maicached ]] || die "the unit's main process is $exe"
ctl --json stats | grep -q '"running":true' || die "maicachectl stats: the daemon is not running"
head -c $((2 << 20)) /dev/urandom >"$b/tmp/data.img"
dev=$(ctl attach file:///tmp/data.img --name deb-test) || die "attach through the unit's daemon failed"
[[ $dev =~ ^/dev/maicache[0-9]+$ && -b $dev ]] || die "attach printed '$dev'"
cmp "$dev" "$b/tmp/data.img" || die "$dev does not read as the file"
# udevd of the boot, with the package's rules, makes the volume's link.
link=""
for ((i = 0; i < 100; i++)); do
	link=$(readlink -f /dev/disk/by-maicache/deb-test 2>/dev/null) && [[ $link == "$dev" ]] && break
	sleep 0.1
done
assert_eq "$link" "$dev" "/dev/disk/by-maicache/deb-test"
ctl detach deb-test || die "detach failed"

step "systemctl stop maicached"
in_boot systemctl stop maicached.service
assert_eq "$(in_boot systemctl show -p Result --value maicached.service)" success "the unit's result"
assert_eq "$(in_boot systemctl show -p ExecMainStatus --value maicached.service)" 0 "maicached's exit status"

step "systemd-modules-load with the package's modules-load.d loads it"
rmmod maicache
in_boot systemctl restart systemd-modules-load.service || die "systemd-modules-load failed"
[[ -e /sys/module/maicache ]] || die "systemd-modules-load did not load maicache"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the module systemd-modules-load loaded"

step "systemctl start maicached without the module: ExecStartPre loads it"
rmmod maicache
in_boot systemctl start maicached.service || die "maicached.service did not start without the module"
assert_eq "$(in_boot systemctl is-active maicached.service)" active "maicached.service started without the module"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the module ExecStartPre loaded"
in_boot systemctl stop maicached.service
boot_journal
# SIGRTMIN+4: systemd's poweroff; a container's PID 1 then exits.
kill -s RTMIN+4 "$sdpid"
for ((i = 0; i < 300; i++)); do
	kill -0 "$sdpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$sdpid" 2>/dev/null && die "systemd did not power off"
wait "$upid" || true
sdpid=""
step "done"
