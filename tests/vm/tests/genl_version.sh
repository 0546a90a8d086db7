#!/bin/bash
# maicachectl reads the module's version over the generic netlink family;
# unprivileged callers are refused; a missing module is reported as such.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"

want=$(sed -n 's/^#define MAICACHE_VERSION\t*"\(.*\)"$/\1/p' \
	"$MAICACHE_ROOT/proto/maicache_version.h")
[ -n "$want" ] || die "cannot read MAICACHE_VERSION"

out=$("$ctl" version)
echo "$out"
grep -qx "module $want (netlink family v1)" <<<"$out" || die "unexpected version output"

json=$("$ctl" --json version)
echo "$json"
grep -q "\"module\":\"$want\"" <<<"$json" || die "unexpected JSON output"

# Dropping every capability must be refused by the module, not just the CLI.
err=$(expect_fail setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all "$ctl" version 2>&1)
echo "$err"
grep -q "CAP_SYS_ADMIN" <<<"$err" || die "unprivileged call not refused with EPERM"

rmmod maicache
err=$(expect_fail "$ctl" version 2>&1)
echo "$err"
grep -q "is the maicache module loaded" <<<"$err" || die "missing module not reported"
