#!/bin/bash
# SPDX-License-Identifier: MIT
# The packages of build/deb/ installed and purged as on a node, on the host
# but in a clean root (tests/deb/clean-root.sh: the host root under an
# overlay in memory, in a mount namespace of this script's own; the host
# root is never written): `dpkg -i` of maicache-dkms and maicache makes DKMS
# build and install the module for every test kernel; DKMS's kernel hook
# builds it again for a kernel that lost it, as for one installed later;
# systemd accepts the unit, and the postinst enabled it; `dpkg --purge` of
# both (with a state directory as maicached leaves one) leaves the root as
# it was but for dpkg's own records. The installed root is kept in
# build/deb/installed/ for the VM test deb_install, which loads that
# module and boots that root with systemd on each kernel (DKMS's compile
# is too slow under the VMs' software emulation). One PASS or FAIL line per
# check.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ ${1:-} != --in-namespace ]]; then
	exec unshare --mount --propagation private "$0" --in-namespace
fi
export MAICACHE_CACHE=${MAICACHE_CACHE:-$root/.cache}
# shellcheck source=tests/deb/clean-root.sh
. "$root/tests/deb/clean-root.sh"

out=$root/build/deb
log=$out/install.log
version=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$root/proto/maicache_version.h")
deb_bin=$out/maicache_${version}_amd64.deb
deb_dkms=$out/maicache-dkms_${version}_all.deb
kvers=$("$root/scripts/kernels.sh")
: >"$log"
base=$(mktemp -d /tmp/maicache-deb-root.XXXXXX)
trap 'croot_cleanup; rmdir "$base"' EXIT

pass() { echo "PASS deb: $*"; }
# fail MSG: the last of the log, and stop: later checks need this one.
fail() {
	echo "FAIL deb: $*"
	tail -n 30 "$log" | sed 's/^/  /'
	exit 1
}
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive chroot "$croot" "$@" >>"$log" 2>&1
}
status_of() {
	chroot "$croot" dkms status -m maicache -v "$version" -k "$1" 2>/dev/null
}

[[ -f $deb_bin && -f $deb_dkms ]] || fail "no maicache $version packages in $out (make deb)"
[[ -n $kvers ]] || fail "no test kernels (scripts/kernels.sh)"
rm -rf "$out/installed"
croot_make "$base"
[[ -z $(croot_diff) ]] || fail "the clean root has changes before anything ran"
cp "$deb_bin" "$deb_dkms" "$croot/tmp/"

start=$SECONDS
in_root dpkg -i "/tmp/${deb_dkms##*/}" "/tmp/${deb_bin##*/}" || fail "dpkg -i maicache-dkms maicache"
pass "dpkg -i maicache-dkms maicache in a clean root ($((SECONDS - start))s)"

# installed_for KVER: DKMS says so, and the module is there, built for KVER.
installed_for() {
	local k=$1 ko
	[[ $(status_of "$k") == *"maicache/$version, $k, x86_64: installed"* ]] || return 1
	ko=$(compgen -G "$croot/usr/lib/modules/$k/updates/dkms/maicache.ko*") || return 1
	[[ $(modinfo -F vermagic "$ko") == "$k "* && $(modinfo -F version "$ko") == "$version" ]]
}
for k in $kvers; do
	installed_for "$k" || fail "DKMS did not install maicache $version for $k: $(status_of "$k")"
	pass "DKMS built and installed the module for $k"
done

# A kernel installed later: its package's postinst runs /etc/kernel/postinst.d
# with its release, DKMS's hook among them (AUTOINSTALL in dkms.conf).
k=$(head -n1 <<<"$kvers")
in_root dkms remove -m maicache -v "$version" -k "$k" || fail "dkms remove for $k"
[[ $(status_of "$k") != *"$k"* ]] || fail "maicache still built in DKMS for $k: $(status_of "$k")"
in_root /etc/kernel/postinst.d/dkms "$k" || fail "/etc/kernel/postinst.d/dkms $k"
installed_for "$k" || fail "DKMS's kernel hook did not install maicache for $k"
pass "DKMS's kernel hook builds and installs it for a kernel installed later ($k)"

in_root systemd-analyze verify /lib/systemd/system/maicached.service || fail "systemd-analyze verify maicached.service"
[[ $(chroot "$croot" systemctl is-enabled maicached.service 2>&1) == enabled ]] ||
	fail "maicached.service is not enabled after the install"
pass "systemd-analyze verify accepts the unit; the postinst enabled it"

croot_save "$out/installed"
# The state directory as maicached makes it (userd/state.c: 0700, one
# record per volume): the purge must take it, as dpkg does not know it.
mkdir -m 0700 "$croot/var/lib/maicache" && echo record >"$croot/var/lib/maicache/vol.state" ||
	fail "cannot make /var/lib/maicache in the clean root"
start=$SECONDS
in_root dpkg --purge maicache maicache-dkms || fail "dpkg --purge maicache maicache-dkms"
for k in $kvers; do
	[[ -z $(status_of "$k") ]] || fail "maicache still in DKMS for $k after the purge"
done
pass "dpkg --purge maicache maicache-dkms ($((SECONDS - start))s)"

croot_diff >"$out/purge-diff.txt"
# dpkg's own records: its database and log. And two caches: man-db's (its
# trigger indexes the man pages; man(1) keeps the formatted page that
# systemd-analyze verify asked for) and debconf's (DKMS's scripts load it).
kept='^(modified|added) (/var/lib/dpkg/|/var/log/dpkg\.log$|/var/cache/man/|/var/cache/debconf/)'
left=$(grep -vE "$kept" "$out/purge-diff.txt")
if [[ -n $left ]]; then
	echo "FAIL deb: the purge left $(wc -l <<<"$left") changes in the root (all in $out/purge-diff.txt)"
	head -n 40 <<<"$left" | sed 's/^/  /'
	exit 1
fi
pass "the purge leaves nothing but dpkg's records ($(wc -l <"$out/purge-diff.txt") of them)"
