#!/bin/bash
# Unpack the Debian kernels the VM tests boot into $CACHE/kernels/<kver>/.
# Usage: scripts/fetch-kernels.sh [--list]
#   --list  only print the kernel release each line resolves to
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MAICACHE_CACHE:-$REPO/.cache}

# Metapackage of each kernel line and the release prefix that identifies the line.
LINES=(
	"linux-image-amd64 6.1."
	"linux-image-6.12-amd64 6.12."
)

log() { printf 'fetch-kernels: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Headers decide the release: a module built against them only loads into that
# exact kernel, so an apt candidate newer than the installed headers is useless.
installed_header_kver() {
	local prefix=$1 d best=""
	for d in /lib/modules/"$prefix"*/build /usr/src/linux-headers-"$prefix"*; do
		[[ -e $d/Makefile ]] || continue
		case $d in
		/lib/modules/*) d=${d#/lib/modules/}; d=${d%/build} ;;
		*) d=${d#/usr/src/linux-headers-} ;;
		esac
		# The -common header package has no .config and is not a build tree.
		[[ $d == *-amd64 ]] || continue
		best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n1)
	done
	printf '%s' "$best"
}

metapackage_kver() {
	local meta=$1 prefix=$2 dep
	dep=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: *\(linux-image-[^ ]*\).*/\1/p' |
		grep -F "linux-image-$prefix" | head -n1) || true
	printf '%s' "${dep#linux-image-}"
}

resolve_kver() {
	local meta=$1 prefix=$2 kver
	kver=$(installed_header_kver "$prefix")
	[[ -n $kver ]] || kver=$(metapackage_kver "$meta" "$prefix")
	[[ -n $kver ]] || die "cannot resolve a kernel release for $meta"
	printf '%s' "$kver"
}

# The signed image package is normally the real one; fall back to -unsigned
# when only that has a downloadable candidate.
image_package() {
	local kver=$1 p cand
	for p in "linux-image-$kver" "linux-image-$kver-unsigned"; do
		cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
		if [[ -n $cand && $cand != "(none)" ]]; then
			printf '%s' "$p"
			return 0
		fi
	done
	return 1
}

fetch_one() {
	local kver=$1 root=$CACHE/kernels/$1 stamp pkg deb
	stamp=$root/.fetched
	if [[ -f $stamp && -f $root/boot/vmlinuz-$kver && -f $root/lib/modules/$kver/modules.dep.bin ]]; then
		log "$kver: already unpacked"
		return 0
	fi
	pkg=$(image_package "$kver") || die "no installable image package for $kver (apt-get update?)"
	mkdir -p "$CACHE/debs"
	deb=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*_amd64.deb" -print -quit)
	if [[ -z $deb ]]; then
		log "$kver: downloading $pkg"
		(cd "$CACHE/debs" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
		deb=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*_amd64.deb" -print -quit)
		[[ -n $deb ]] || die "downloaded $pkg but cannot find its .deb"
	fi
	log "$kver: unpacking $(basename "$deb")"
	rm -rf "$root.tmp"
	mkdir -p "$root.tmp"
	dpkg-deb -x "$deb" "$root.tmp"
	# depmod -b only looks under <base>/lib/modules.
	if [[ ! -d $root.tmp/lib/modules/$kver && -d $root.tmp/usr/lib/modules/$kver ]]; then
		mkdir -p "$root.tmp/lib"
		ln -s ../usr/lib/modules "$root.tmp/lib/modules"
	fi
	[[ -f $root.tmp/boot/vmlinuz-$kver ]] || die "$deb has no boot/vmlinuz-$kver"
	[[ -d $root.tmp/lib/modules/$kver ]] || die "$deb has no lib/modules/$kver"
	# Package postinst normally generates modules.dep; without it modprobe -d fails.
	depmod -b "$root.tmp" "$kver"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	date -u +%FT%TZ >"$stamp"
	log "$kver: ready in $root"
}

main() {
	local list=0 line meta prefix kver
	case ${1:-} in
	--list) list=1 ;;
	"") ;;
	*) die "usage: $0 [--list]" ;;
	esac
	for line in "${LINES[@]}"; do
		read -r meta prefix <<<"$line"
		kver=$(resolve_kver "$meta" "$prefix")
		if ((list)); then
			printf '%s\n' "$kver"
		else
			fetch_one "$kver"
		fi
	done
}

main "$@"
