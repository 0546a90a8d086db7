# shellcheck shell=bash
# A throwaway root for VM tests that install packages, sourced after lib.sh:
# the host root (read-only over 9p) under an overlay whose writes go to the
# VM's tmpfs, so dpkg, DKMS and maintainer scripts run on a real Debian
# system and the host is never written. Each test kernel's module tree from
# the cache is laid over /usr/lib/modules/KVER as its image package would
# install it (the host may have only the headers), again under an overlay.
#
#   croot_make DIR       build it at DIR/root ($croot); /proc, /sys, /dev,
#                        /run, /tmp and /var/tmp are the VM's own there
#   croot_diff           every change against the host root, one line a
#                        path (tests/vm/root-diff.py), /proc ... /var/tmp aside
#   croot_cleanup        unmount everything (croot_make traps nothing)

croot=""
croot_base=""
# "PREFIX UPPER LOWER" triples for root-diff.py.
croot_layers=()

# Overlay options: no index, redirects or metacopy, so that every change is
# a plain file, directory or whiteout in the upper layer.
croot_ovl_opts=index=off,redirect_dir=off,metacopy=off,xino=off

croot_make() {
	local base=$1 k kroot
	croot_base=$base
	mkdir -p "$base"
	mount -t tmpfs -o mode=0755 croot "$base" || die "croot: cannot mount tmpfs on $base"
	mkdir -p "$base"/{root,upper,work,lower,empty}
	# The host root as it is, read-only: what the overlay started from.
	mount -t overlay -o "ro,lowerdir=/:$base/empty,$croot_ovl_opts" croot-lower "$base/lower" ||
		die "croot: cannot mount the lower view"
	mount -t overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work,$croot_ovl_opts" \
		croot "$base/root" || die "croot: cannot mount the overlay root"
	croot=$base/root
	croot_layers=(/ "$base/upper" "$base/lower")
	for kroot in "$MAICACHE_CACHE"/kernels/*/; do
		kroot=${kroot%/}
		k=${kroot##*/}
		[[ -d $kroot/lib/modules/$k && -d $croot/usr/lib/modules/$k ]] || continue
		croot_modules "$base" "$k" "$kroot/lib/modules/$k"
	done
	mount -t proc proc "$croot/proc"
	croot_rbind /sys "$croot/sys"
	croot_rbind /dev "$croot/dev"
	local d
	for d in run tmp var/tmp; do
		mount -t tmpfs -o mode=1777 tmpfs "$croot/$d" || die "croot: cannot mount tmpfs on /$d"
	done
	chmod 0755 "$croot/run"
}

# croot_modules BASE KVER DIR: DIR (the image's modules) over the host's
# /usr/lib/modules/KVER (its headers' build and source links).
croot_modules() {
	local base=$1 k=$2 mods=$3 m
	m=$base/mod-$k
	mkdir -p "$m"/{upper,work,lower}
	mount -t overlay -o "ro,lowerdir=$mods:$base/lower/usr/lib/modules/$k,$croot_ovl_opts" \
		croot-mod-lower "$m/lower" || die "croot: cannot mount the lower view of $k's modules"
	mount -t overlay -o "lowerdir=$mods:$base/lower/usr/lib/modules/$k,upperdir=$m/upper,workdir=$m/work,$croot_ovl_opts" \
		croot-mod "$croot/usr/lib/modules/$k" || die "croot: cannot mount $k's modules"
	croot_layers+=("/usr/lib/modules/$k" "$m/upper" "$m/lower")
}

# croot_rbind DIR TARGET: DIR and its mounts at TARGET, taking no unmount
# back to DIR (an unmount under a shared copy would propagate to it).
croot_rbind() {
	mount --rbind "$1" "$2" && mount --make-rslave "$2" || die "croot: cannot bind $1 on $2"
}

croot_diff() {
	python3 "$MAICACHE_ROOT/tests/vm/root-diff.py" "${croot_layers[@]}"
}

croot_cleanup() {
	[[ -n $croot_base ]] || return 0
	umount -R "$croot_base" 2>/dev/null || umount -R -l "$croot_base" 2>/dev/null || true
	croot_base=""
	croot=""
}
