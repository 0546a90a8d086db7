#!/bin/bash
# SPDX-License-Identifier: MIT
# The tree's layout holds (docs/architecture.md): folders include only the
# folders below them, and maicachectl and maicache-agent link neither
# libcurl nor the event loop's liburing and libaio. One PASS or FAIL line
# per check.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

# check NAME COMMAND...: PASS when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fi
}

# no_include FOLDER OTHER...: no file of FOLDER includes a header of OTHER.
no_include() {
	local folder=$1 other h bad=0
	shift
	for other in "$@"; do
		for h in "$other"/*.h; do
			if grep -ln "#include \"$(basename "$h")\"" "$folder"/*.[ch] 2>/dev/null; then
				echo "  $folder includes $h" >&2
				bad=1
			fi
		done
	done
	return "$bad"
}

check "lib/ includes nothing above it" no_include lib loop azure peer userd tools agent
check "loop/ includes only lib/" no_include loop azure peer userd tools agent
check "azure/ includes no daemon or tool header" no_include azure userd tools peer agent
check "peer/ includes only lib/ and loop/" no_include peer azure userd tools agent
check "agent/ includes only lib/ and azure/" no_include agent loop peer userd tools
no_agent() { no_include userd agent && no_include tools agent; }
check "the daemon and the CLI include no agent header" no_agent
# Of the daemon, only the blob source knows Azure.
core_no_azure() {
	local f h bad=0
	for f in userd/*.[ch]; do
		[ "$f" = userd/source_blob.c ] && continue
		for h in azure/*.h; do
			if grep -q "#include \"$(basename "$h")\"" "$f"; then
				echo "  $f includes $h" >&2
				bad=1
			fi
		done
	done
	return "$bad"
}
check "the daemon core includes no Azure header" core_no_azure

# ldd's output is read once, whole: piped into grep -q under pipefail, ldd
# dies of SIGPIPE when grep stops at the first match, and the pipeline fails
# at random (a fresh-clone run reported "does not link libcurl" that way).
# links_none BINARY LIB...: ldd shows none of the libraries.
links_none() {
	local bin=$1 l deps
	shift
	[ -x "$bin" ] || { echo "  $bin is not built" >&2; return 1; }
	deps=$(ldd "$bin") || { echo "  ldd $bin failed" >&2; return 1; }
	for l in "$@"; do
		if grep -q "$l" <<<"$deps"; then
			echo "  $bin links $l" >&2
			return 1
		fi
	done
}
check "maicachectl links no libcurl, liburing or libaio" \
	links_none build/user/maicachectl libcurl liburing libaio
check "maicache-agent links no libcurl, liburing or libaio" \
	links_none build/user/maicache-agent libcurl liburing libaio
# links_all BINARY LIB...: ldd shows every one of the libraries.
links_all() {
	local bin=$1 l deps
	shift
	[ -x "$bin" ] || { echo "  $bin is not built" >&2; return 1; }
	deps=$(ldd "$bin") || { echo "  ldd $bin failed" >&2; return 1; }
	for l in "$@"; do
		grep -q "$l" <<<"$deps" || { echo "  $bin does not link $l" >&2; return 1; }
	done
}
# And the daemon does, so the check above can tell.
check "maicached links libcurl, liburing and libaio" \
	links_all build/user/maicached libcurl liburing libaio
