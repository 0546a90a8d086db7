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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

DATA=$(mktemp -d /tmp/maicache-etcd.XXXXXX)
CPORT=$(free_port)
PPORT=$(free_port)
ETCD_PID=

cleanup() {
	if [ -n "$ETCD_PID" ]; then
		kill "$ETCD_PID" 2>/dev/null || true
		wait "$ETCD_PID" 2>/dev/null || true
	fi
	rm -rf "$DATA"
}
trap cleanup EXIT

etcd --data-dir "$DATA/data" --name test \
	--listen-client-urls "http://127.0.0.1:$CPORT" --advertise-client-urls "http://127.0.0.1:$CPORT" \
	--listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
	--initial-cluster "test=http://127.0.0.1:$PPORT" >"$DATA/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do
	if curl -s -o /dev/null -X POST "http://127.0.0.1:$CPORT/v3/kv/range" -d '{"key":"AA=="}'; then
		break
	fi
	sleep 0.1
done
rc=0
"$ROOT/build/etcd/etcd-client-test" "http://127.0.0.1:$CPORT" || rc=1
# The session freezes etcd (SIGSTOP) to play an outage.
"$ROOT/build/etcd/etcd-session-test" "http://127.0.0.1:$CPORT" "$ETCD_PID" || rc=1
exit $rc
