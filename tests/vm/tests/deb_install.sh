#!/bin/bash
# vm: no-load
# The Debian packages (make deb) on a node: `dpkg -i` of maicache and
# maicache-dkms in a clean root (tests/vm/clean-root.sh: the host root under
# an overlay in the VM's memory) makes DKMS build the module there for the
# running kernel; `modprobe maicache` loads the module DKMS built; a boot of
# that root by systemd, as PID 1 of a PID namespace, loads the module from
# modules-load.d and starts maicached.service, which serves a volume
# (with its udev link), stops cleanly, and loads the module itself when
# it is not loaded; maicached started by hand keeps a
# volume record; and `dpkg --purge` of both leaves the root as it was, but
# for dpkg's own records.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/clean-root.sh
. "$MAICACHE_ROOT/tests/vm/clean-root.sh"

version=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$MAICACHE_ROOT/proto/maicache_version.h")
debdir=$MAICACHE_ROOT/build/deb
deb_bin=$debdir/maicache_${version}_amd64.deb
deb_dkms=$debdir/maicache-dkms_${version}_all.deb
[[ -f $deb_bin && -f $deb_dkms ]] || die "no maicache $version packages in $debdir: run make deb"
kver=$MAICACHE_KVER
t0=$SECONDS
# step MSG: a heading with the seconds since the start.
step() { echo "== $* ($((SECONDS - t0))s)"; }

boot=/tmp/boot
sdpid=""
cleanup() {
	if [[ -n $sdpid ]]; then
		kill -KILL "$sdpid" 2>/dev/null || true
		wait "$sdpid" 2>/dev/null || true
	fi
	umount -R "$boot/root" 2>/dev/null || umount -R -l "$boot/root" 2>/dev/null || true
	grep -q '^maicache ' /proc/modules && rmmod maicache
	croot_cleanup
}
trap cleanup EXIT

# in_root CMD...: CMD in the clean root, with a plain environment.
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive chroot "$croot" "$@"
}

step "a clean root: the host's, under an overlay in memory"
croot_make /tmp/croot
before=$(croot_diff)
assert_eq "$before" "" "changes in the clean root before anything ran"
grep -q '^maicache ' /proc/modules && die "a maicache module is loaded before the test"
cp "$deb_bin" "$deb_dkms" "$croot/tmp/"

step "dpkg -i maicache-dkms maicache"
if ! in_root dpkg -i "/tmp/${deb_dkms##*/}" "/tmp/${deb_bin##*/}" >"$MAICACHE_OUT/dpkg-install.log" 2>&1; then
	cat "$MAICACHE_OUT/dpkg-install.log"
	find "$croot/var/lib/dkms" -name make.log -exec tail -n 30 {} \; 2>/dev/null || true
	die "dpkg -i failed"
fi
cat "$MAICACHE_OUT/dpkg-install.log"
step "installed"
status=$(in_root dkms status -m maicache -v "$version" -k "$kver")
echo "dkms status: $status"
[[ $status == *"maicache/$version, $kver, x86_64: installed"* ]] ||
	die "DKMS did not install maicache $version for $kver: '$status'"
# DKMS compresses the module as the kernel's own are (6.12: xz).
ko_rel=$(cd "$croot" && compgen -G "usr/lib/modules/$kver/updates/dkms/maicache.ko*") ||
	die "no /usr/lib/modules/$kver/updates/dkms/maicache.ko* after the install"
ko_rel=/$ko_rel
echo "DKMS built $ko_rel"
assert_eq "$(modinfo -F version "$croot$ko_rel")" "$version" "version of the DKMS module"
vermagic=$(modinfo -F vermagic "$croot$ko_rel")
[[ $vermagic == "$kver "* ]] || die "the DKMS module is built for '$vermagic', not $kver"
dkms_src=$(modinfo -F srcversion "$croot$ko_rel")

step "modprobe maicache: the module DKMS built"
found=$(in_root modinfo -n maicache) || die "modinfo finds no maicache module"
assert_eq "$(in_root realpath "$found")" "$ko_rel" "the module modprobe finds ($found)"
in_root modprobe maicache || die "modprobe maicache failed"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the loaded module"
assert_eq "$(cat /sys/module/maicache/version)" "$version" "version of the loaded module"
in_root modprobe -r maicache || die "modprobe -r maicache failed"
[[ ! -e /sys/module/maicache ]] || die "maicache still loaded after modprobe -r"

step "the unit as systemd sees it"
in_root systemd-analyze verify /lib/systemd/system/maicached.service ||
	die "systemd-analyze verify maicached.service failed"
assert_eq "$(in_root systemctl is-enabled maicached.service)" "enabled" "maicached.service after the install"

# The boot runs in an overlay of its own over the clean root, dropped after:
# what systemd writes while booting (journal, seeds, tmpfiles) is no part
# of what the packages leave.
step "a boot of the clean root by systemd"
mkdir -p "$boot"
mount -t tmpfs tmpfs "$boot"
mkdir -p "$boot"/{root,upper,work}
mount -t overlay -o "lowerdir=$croot,upperdir=$boot/upper,workdir=$boot/work,$croot_ovl_opts" \
	boot "$boot/root" || die "cannot mount the boot overlay"
b=$boot/root
for m in "$croot"/usr/lib/modules/*; do
	mountpoint -q "$m" && mount --bind "$m" "$b/usr/lib/modules/${m##*/}"
done
croot_rbind /sys "$b/sys"
croot_rbind /dev "$b/dev"
for d in run tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "$b/$d"
done
chmod 0755 "$b/run"
ip link set lo up
# PID 1 of a new PID and mount namespace: systemd then runs as in a
# container (container=), with the VM's /sys and /dev. Its default unit
# is maicached.service, which brings sysinit.target (systemd-modules-load,
# udevd) and basic.target; the host's own services are not started.
env -i container=maicache-test PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	unshare --pid --fork --mount --propagation private \
	chroot "$b" /bin/sh -c 'mount -t proc proc /proc && exec /lib/systemd/systemd --unit=maicached.service --log-target=console --log-color=no --show-status=no' \
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
in_boot systemctl --no-pager list-jobs || true
if [[ $state != active ]]; then
	in_boot journalctl --no-pager -b | tail -n 60
	die "maicached.service is '$state'"
fi
in_boot journalctl --no-pager -b -u systemd-modules-load.service | tee "$MAICACHE_OUT/modules-load.log"
grep -q "Inserted module 'maicache'" "$MAICACHE_OUT/modules-load.log" ||
	die "systemd-modules-load did not load maicache"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the module loaded at boot"

step "maicachectl through the unit's daemon"
ctl() { in_boot /usr/sbin/maicachectl "$@"; }
pid=$(in_boot systemctl show -p MainPID --value maicached.service)
assert_eq "$(in_boot readlink "/proc/$pid/exe")" /usr/sbin/maicached "the unit's main process"
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

step "systemctl start maicached without the module: ExecStartPre loads it"
rmmod maicache
in_boot systemctl start maicached.service || die "maicached.service did not start without the module"
assert_eq "$(in_boot systemctl is-active maicached.service)" active "maicached.service started without the module"
assert_eq "$(cat /sys/module/maicache/srcversion)" "$dkms_src" "srcversion of the module ExecStartPre loaded"
in_boot systemctl stop maicached.service
in_boot journalctl --no-pager -b -u maicached.service >"$MAICACHE_OUT/maicached-unit.log"
# SIGRTMIN+4: systemd's poweroff; a container's PID 1 then exits.
kill -s RTMIN+4 "$sdpid"
for ((i = 0; i < 300; i++)); do
	kill -0 "$sdpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$sdpid" 2>/dev/null && die "systemd did not power off"
wait "$upid" || true
sdpid=""
umount -R "$boot/root"
umount "$boot"
step "the boot is over"

step "maicached by hand: the unit's ExecStart, the package's configuration"
grep -q '^maicache ' /proc/modules || die "the module went away with the boot"
exec_start=$(sed -n 's/^ExecStart=//p' "$croot/lib/systemd/system/maicached.service")
assert_eq "$exec_start" /usr/sbin/maicached "the unit's ExecStart"
in_root "$exec_start" 2>"$MAICACHE_OUT/maicached-hand.log" &
hpid=$!
for ((i = 0; i < 200; i++)); do
	in_root maicachectl --json stats 2>/dev/null | grep -q '"running":true' && break
	kill -0 "$hpid" 2>/dev/null || { cat "$MAICACHE_OUT/maicached-hand.log"; die "maicached exited"; }
	sleep 0.1
done
head -c $((1 << 20)) /dev/urandom >"$croot/tmp/hand.img"
dev=$(in_root maicachectl attach file:///tmp/hand.img --name by-hand) || die "attach by hand failed"
cmp "$dev" "$croot/tmp/hand.img" || die "$dev does not read as the file"
kill -TERM "$hpid"
wait "$hpid" || die "maicached exited $? on SIGTERM"
ls -l "$croot/var/lib/maicache"
[[ -n $(ls -A "$croot/var/lib/maicache") ]] || die "no volume record in /var/lib/maicache"
in_root maicachectl remove "${dev#/dev/maicache}"
rmmod maicache

step "dpkg --purge maicache maicache-dkms"
if ! in_root dpkg --purge maicache maicache-dkms >"$MAICACHE_OUT/dpkg-purge.log" 2>&1; then
	cat "$MAICACHE_OUT/dpkg-purge.log"
	die "dpkg --purge failed"
fi
cat "$MAICACHE_OUT/dpkg-purge.log"
assert_eq "$(in_root dkms status -m maicache)" "" "dkms status after the purge"
step "what the purge left"
croot_diff >"$MAICACHE_OUT/root-diff.txt"
# dpkg's own records: its database and log. And two caches: man-db's
# (its trigger indexes the man pages; man(1) keeps the formatted page that
# systemd-analyze verify asked for) and debconf's (DKMS's scripts load it).
kept='^(modified|added) (/var/lib/dpkg/|/var/log/dpkg\.log$|/var/cache/man/|/var/cache/debconf/)'
left=$(grep -vE "$kept" "$MAICACHE_OUT/root-diff.txt" || true)
echo "changes (all in $MAICACHE_OUT/root-diff.txt): $(wc -l <"$MAICACHE_OUT/root-diff.txt"), dpkg's own $(grep -cE "$kept" "$MAICACHE_OUT/root-diff.txt" || true)"
if [[ -n $left ]]; then
	head -n 40 <<<"$left"
	die "the purge left $(wc -l <<<"$left") changes in the root"
fi
step "done"
