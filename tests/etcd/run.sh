#!/bin/bash
# SPDX-License-Identifier: MIT
#
# peer/etcd.c and peer/etcd_session.c against a real etcd on this host:
# builds build/etcd/etcd-client-test and etcd-session-test (ASan + UBSan), starts Debian's etcd on free
# loopback ports with a throw-away data directory, runs the test, stops
# etcd. Exit 77 (skip) when etcd is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v etcd >/dev/null; then
	echo "SKIP etcd client test: no etcd (make deps installs etcd-server)"
	exit 77
fi
make -s -C "$ROOT" build/etcd/etcd-client-test build/etcd/etcd-session-test >/dev/null

# shellcheck source=scripts/etcd-local.sh
. "$ROOT/scripts/etcd-local.sh"
trap etcd_local_stop EXIT
etcd_local_start
rc=0
"$ROOT/build/etcd/etcd-client-test" "$ETCD_URL" || rc=1
# The session freezes etcd (SIGSTOP) to play an outage.
"$ROOT/build/etcd/etcd-session-test" "$ETCD_URL" "$ETCD_PID" || rc=1
exit $rc
