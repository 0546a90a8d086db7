#!/bin/bash
# Install everything maicache needs to build, test and demo on Debian 12:
# Debian packages, Azurite (npm, into the cache) and the two Debian kernel
# lines (headers installed, images unpacked into the cache).
#
# Quick when everything is present, so every make target can run it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${MAICACHE_CACHE:-$root/.cache}

packages=(
	# build
	build-essential pkg-config git
	liburing-dev libaio-dev libnl-3-dev libnl-genl-3-dev
	libibverbs-dev librdmacm-dev libcurl4-openssl-dev libssl-dev libisal-dev libjansson-dev
	# maicached's GET /metrics (userd/metrics.h); promtool checks its text
	libmicrohttpd-dev prometheus
	# maicache-agent: util-linux's libmount (the mount table) and libblkid
	# (what an image holds)
	libmount-dev libblkid-dev
	# tests/kubernetes: the rendered manifests read by check_manifests.py
	python3-yaml
	# maicachectl top draws with ncurses; its VM test drives it in tmux
	libncurses-dev tmux
	# warmup: a squashfs image is a filesystem with no FIEMAP
	squashfs-tools
	# tests and tools
	check rdma-core ibverbs-utils rdmacm-utils perftest fio
	e2fsprogs erofs-utils iproute2 vde2 python3 dkms strace etcd-server
	# tools/bench/cold-bench.sh compares against nbd
	nbd-server nbd-client
	# fuzzers: libFuzzer comes with clang's runtime
	clang libclang-rt-14-dev
	# VM harness
	qemu-system-x86 busybox-static kmod cpio xz-utils zstd
	# udev_names: systemd-udevd and udevadm, run inside the VM
	udev
	# make deb: Debian's packaging tools (dh_dkms is in dh-dkms); lintian
	# checks the packages (tests/deb/check.sh)
	debhelper dh-dkms lintian
	# KUnit (UML kernel built from Debian's source)
	linux-source-6.12 bc bison flex libelf-dev
	# kernel headers for both lines: 6.1 (bookworm default) and 6.12
	linux-headers-amd64 linux-headers-6.12-amd64
)

missing=()
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do
	grep -qE "^$p ii" <<<"$status" || missing+=("$p")
done

# Node.js may come from elsewhere (with npm inside); Debian's is the fallback.
command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || { echo "deps: run as root to install packages" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	# The 6.12 headers pull in its image; the host never boots it, so
	# skip building an initramfs for it.
	export INITRD=No
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$root/scripts/fetch-kernels.sh"

# Debian 12's kubectl (kubernetes-client 1.20, kustomize v2.0.3) renders
# deploy/kubernetes in tests/kubernetes/run.sh, beside a newer kubectl on
# PATH if there is one: unpacked into the cache, not installed, so that it
# never takes that one's place (a kubectl on PATH is used too).
kc=$cache/kubernetes-client
if [ ! -x "$kc/usr/bin/kubectl" ]; then
	echo "deps: unpacking Debian's kubernetes-client into $kc"
	mkdir -p "$cache/debs" "$kc"
	rm -f "$cache"/debs/kubernetes-client_*.deb
	(cd "$cache/debs" && apt-get download -qq kubernetes-client 2>/dev/null)
	dpkg-deb -x "$cache"/debs/kubernetes-client_*.deb "$kc"
fi

azurite=$cache/azurite
if [ ! -x "$azurite/node_modules/.bin/azurite-blob" ]; then
	echo "deps: installing Azurite into $azurite"
	mkdir -p "$azurite"
	npm install --prefix "$azurite" --no-audit --no-fund --loglevel=error azurite@3 >/dev/null
fi
# Azurite's modules as one tar: it starts twice as fast in the VM from it.
"$root/tests/blob/azurite-pack.sh"
