#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages of build/deb/ (make deb), on the host: lintian finds
# nothing (errors, warnings, info, pedantic and experimental tags alike; the
# overrides in debian/*.lintian-overrides each say why); both packages carry
# the version of proto/maicache_version.h; the unit names files the package
# ships; the man pages name every option and command the programs' --help
# lists; and make deb refuses a dkms.conf whose version is another. One PASS
# or FAIL line per check. Installing them is tests/vm/tests/deb_install.sh.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/deb
work=$(mktemp -d /tmp/maicache-deb-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' "$root/proto/maicache_version.h")
bin=$out/maicache_${version}_amd64.deb
dkms=$out/maicache-dkms_${version}_all.deb
changes=$out/maicache_${version}_amd64.changes

# check NAME COMMAND...: PASS when COMMAND succeeds; its output otherwise.
check() {
	local name=$1 log=$work/log
	shift
	if "$@" >"$log" 2>&1; then
		echo "PASS deb: $name"
	else
		echo "FAIL deb: $name"
		sed 's/^/  /' "$log"
	fi
}

if [[ ! -f $bin || ! -f $dkms || ! -f $changes ]]; then
	echo "FAIL deb: no maicache $version packages in $out (make deb)"
	exit 1
fi

lintian_clean() {
	local tags
	lintian --version
	# Lintian's only other line: it would rather not run as root.
	tags=$(lintian --pedantic --display-info --display-experimental "$changes" 2>&1 |
		grep -v '^running with root privileges is not recommended!$')
	[[ -z $tags ]] || { echo "$tags"; return 1; }
}

versions() {
	local p v
	for p in "$bin" "$dkms"; do
		v=$(dpkg-deb -f "$p" Version)
		echo "$(dpkg-deb -f "$p" Package) $v"
		[[ $v == "$version" ]] || { echo "  want $version (proto/maicache_version.h)"; return 1; }
	done
	grep -qx "PACKAGE_VERSION=\"$version\"" <(dpkg-deb --fsys-tarfile "$dkms" |
		tar -xOf - "./usr/src/maicache-$version/dkms.conf")
}

# The unit's ExecStart and Documentation, and the conffile, are in the package.
contents() {
	local x=$work/maicache unit f
	dpkg-deb -x "$bin" "$x" && dpkg-deb -e "$bin" "$x/DEBIAN" || return 1
	unit=$x/lib/systemd/system/maicached.service
	grep -qx 'ExecStart=/usr/sbin/maicached' "$unit" || { grep ExecStart "$unit"; return 1; }
	[[ -x $x/usr/sbin/maicached && -x $x/usr/sbin/maicachectl && -x $x/usr/sbin/maicache-agent ]] || return 1
	f=$(sed -n 's|^Documentation=man:maicached(8) file://||p' "$unit")
	[[ -n $f && -f $x$f ]] || { echo "Documentation: no $f in the package"; return 1; }
	for f in maicached maicachectl maicache-agent; do
		[[ -f $x/usr/share/man/man8/$f.8.gz ]] || { echo "no man page $f.8"; return 1; }
	done
	grep -qx /etc/maicache/maicached.conf "$x/DEBIAN/conffiles" || { cat "$x/DEBIAN/conffiles"; return 1; }
	cmp "$x/etc/maicache/maicached.conf" "$root/dist/maicached.conf" &&
		grep -qx maicache "$x/usr/lib/modules-load.d/maicache.conf" &&
		cmp "$x/lib/udev/rules.d/60-maicache.rules" "$root/dist/60-maicache.rules"
}

# man_names PAGE WORD...: PAGE (groff source, gzipped) names every WORD.
man_names() {
	local page=$1 text w bad=0
	shift
	text=$(zcat "$page" | sed 's/\\-/-/g; s/\\f[BIRP]//g')
	for w in "$@"; do
		grep -qwF -- "$w" <<<"$text" || { echo "${page##*/} does not name $w"; bad=1; }
	done
	return "$bad"
}

manpages() {
	local x=$work/maicache opts cmds
	[[ -d $x ]] || dpkg-deb -x "$bin" "$x" || return 1
	opts=$("$x/usr/sbin/maicached" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	[[ -n $opts ]] || { echo "maicached --help lists no options"; return 1; }
	man_names "$x/usr/share/man/man8/maicached.8.gz" $opts || return 1
	opts=$( { "$x/usr/sbin/maicachectl" --help; "$x/usr/sbin/maicachectl" attach --help; } 2>&1 |
		grep -oE -- '--[a-z][a-z-]+' | sort -u)
	cmds=$("$x/usr/sbin/maicachectl" --help | sed -n 's/^  \([a-z]\+\)\( .*\)\?$/\1/p' | sort -u)
	[[ $(wc -w <<<"$cmds") -ge 10 ]] || { echo "maicachectl --help: commands '$cmds'"; return 1; }
	man_names "$x/usr/share/man/man8/maicachectl.8.gz" $opts $cmds || return 1
	opts=$("$x/usr/sbin/maicache-agent" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	[[ -n $opts ]] || { echo "maicache-agent --help lists no options"; return 1; }
	man_names "$x/usr/share/man/man8/maicache-agent.8.gz" $opts
}

# make deb's copy of the tree with another version in dkms.conf: refused
# before anything is built, with both versions in the message.
version_mismatch() {
	local t=$work/tree msg
	mkdir -p "$t/scripts" "$t/proto" "$t/dkms"
	cp "$root/scripts/build-deb.sh" "$t/scripts/"
	cp "$root/proto/maicache_version.h" "$t/proto/"
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="9.9.9"/' "$root/dkms/dkms.conf" >"$t/dkms/dkms.conf"
	git -C "$t" init -q && git -C "$t" add -A &&
		git -C "$t" -c user.name=t -c user.email=t@t commit -qm t || return 1
	if msg=$("$t/scripts/build-deb.sh" 2>&1); then
		echo "build-deb.sh built with a mismatched dkms.conf"
		return 1
	fi
	echo "$msg"
	grep -qF "dkms/dkms.conf says 9.9.9, proto/maicache_version.h says $version" <<<"$msg" &&
		[[ ! -e $t/build ]]
}

check "lintian: no tags" lintian_clean
check "versions are proto/maicache_version.h's" versions
check "contents: programs, unit, conffile, rules, modules-load.d, man pages" contents
check "man pages name every option and command of --help" manpages
check "make deb refuses a dkms.conf of another version" version_mismatch
