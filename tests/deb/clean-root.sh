# shellcheck shell=bash
# A throwaway root for tests that install packages: the running root (the
# host's, or in a VM the host's over 9p) under an overlay whose writes go
# to a tmpfs, so that dpkg, DKMS and maintainer scripts run on a real
# Debian system and the root below is never written. Each test kernel's
# module tree from the cache is laid over /usr/lib/modules/KVER as its image
# package would install it (the host may have only that kernel's headers),
# again under an overlay. Run it in a mount namespace of its own on the
# host (unshare --mount): its mounts then vanish with the test.
#
#   croot_make BASE [SAVED]  build it at BASE/root ($croot), with /proc,
#                        /sys, /dev and fresh /run, /tmp, /var/tmp; SAVED
#                        (from croot_save) is laid between it and the root
#   croot_diff           every change against the root it started from, one
#                        line a path (tests/deb/root-diff.py)
#   croot_save DIR       keep its changes in DIR, for croot_make BASE DIR
#   croot_cleanup        unmount everything

declare -F die >/dev/null || die() {
	printf 'FATAL: %s\n' "$*" >&2
	exit 1
}

croot=""
croot_base=""
# "PREFIX UPPER LOWER" triples for root-diff.py.
croot_layers=()
# Overlay options: no index, redirects or metacopy, so that every change is
# a plain file, directory or whiteout in the upper layer.
croot_ovl_opts=index=off,redirect_dir=off,metacopy=off,xino=off

croot_make() {
	local base=$1 saved=${2:-} top="" k kroot n d
	croot_base=$base
	mkdir -p "$base"
	mount -t tmpfs -o mode=0755 croot "$base" || die "croot: cannot mount tmpfs on $base"
	mkdir -p "$base"/{root,upper,work,lower,empty}
	# A layer may not lie inside another (the root), so SAVED comes along.
	if [[ -n $saved ]]; then
		cp -a "$saved" "$base/saved" || die "croot: cannot copy $saved"
		saved=$base/saved
		top="$saved/root:"
	fi
	# What the overlay starts from, read-only: the view root-diff.py compares with.
	mount -t overlay -o "ro,lowerdir=$top/:$base/empty,$croot_ovl_opts" croot-lower "$base/lower" ||
		die "croot: cannot mount the lower view"
	mount -t overlay -o "lowerdir=$top/,upperdir=$base/upper,workdir=$base/work,$croot_ovl_opts" \
		croot "$base/root" || die "croot: cannot mount the overlay root"
	croot=$base/root
	croot_layers=(/ "$base/upper" "$base/lower")
	for kroot in "$MAICACHE_CACHE"/kernels/*/; do
		kroot=${kroot%/}
		k=${kroot##*/}
		[[ -d $kroot/lib/modules/$k && -d $croot/usr/lib/modules/$k ]] || continue
		croot_modules "$base" "$k" "${saved:+$saved/mod-$k:}$kroot/lib/modules/$k"
	done
	mount -t proc proc "$croot/proc"
	croot_rbind /sys "$croot/sys"
	croot_rbind /dev "$croot/dev"
	# What a booted system's /dev has (systemd-tmpfiles makes them) and a
	# VM's, from a busybox init, lacks; DKMS's scripts need /dev/fd.
	for n in fd:fd stdin:fd/0 stdout:fd/1 stderr:fd/2; do
		[[ -e /dev/${n%%:*} ]] || ln -s "/proc/self/${n#*:}" "/dev/${n%%:*}"
	done
	for d in run tmp var/tmp; do
		mount -t tmpfs -o mode=1777 tmpfs "$croot/$d" || die "croot: cannot mount tmpfs on /$d"
	done
	chmod 0755 "$croot/run"
}

# croot_modules BASE KVER LAYERS: LAYERS (the image's modules, and what a
# croot_save kept) over the root's /usr/lib/modules/KVER (its headers'
# build and source links).
croot_modules() {
	local base=$1 k=$2 layers=$3 m
	m=$base/mod-$k
	mkdir -p "$m"/{upper,work,lower}
	layers=$layers:$base/lower/usr/lib/modules/$k
	mount -t overlay -o "ro,lowerdir=$layers,$croot_ovl_opts" croot-mod-lower "$m/lower" ||
		die "croot: cannot mount the lower view of $k's modules"
	mount -t overlay -o "lowerdir=$layers,upperdir=$m/upper,workdir=$m/work,$croot_ovl_opts" \
		croot-mod "$croot/usr/lib/modules/$k" || die "croot: cannot mount $k's modules"
	croot_layers+=("/usr/lib/modules/$k" "$m/upper" "$m/lower")
}

# croot_rbind DIR TARGET: DIR and its mounts at TARGET, taking no unmount
# back to DIR (an unmount under a shared copy would propagate to it).
croot_rbind() {
	mount --rbind "$1" "$2" && mount --make-rslave "$2" || die "croot: cannot bind $1 on $2"
}

croot_diff() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/root-diff.py" "${croot_layers[@]}"
}

# croot_save DIR: the upper layers (whiteouts and opaque directories as
# they are) in DIR/root and DIR/mod-KVER.
croot_save() {
	local dir=$1 m
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a "$croot_base/upper" "$dir/root" || die "croot: cannot save the root's layer"
	for m in "$croot_base"/mod-*; do
		cp -a "$m/upper" "$dir/${m##*/}" || die "croot: cannot save ${m##*/}"
	done
}

croot_cleanup() {
	[[ -n $croot_base ]] || return 0
	umount -R "$croot_base" 2>/dev/null || umount -R -l "$croot_base" 2>/dev/null || true
	croot_base=""
	croot=""
}
