#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The blob client against a real Azurite on this host: builds
# build/blob/blob-client-test (ASan + UBSan), starts Azurite on a free
# loopback port with a throw-away store, runs the test once per event-loop
# engine, and stops Azurite on exit. Exit 77 (skip) when Azurite is missing.
#
#   tests/blob/run.sh            # engines: auto and aio
#   MAICACHE_BLOB_ENGINES=io_uring tests/blob/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MAICACHE_CACHE:-$ROOT/.cache}
AZURITE=$CACHE/azurite/node_modules/.bin/azurite-blob
OUT=$ROOT/build/blob
ENGINES=${MAICACHE_BLOB_ENGINES:-auto aio}

if [ ! -x "$AZURITE" ] || ! command -v node >/dev/null; then
	echo "SKIP blob client test: Azurite not found at $AZURITE (make deps installs it)"
	exit 77
fi

# Built by `make unit` (ASan + UBSan, against the sanitized libraries).
make -s -C "$ROOT" "build/blob/blob-client-test" "build/blob/blob-hostile-test" >/dev/null

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

STORE=$(mktemp -d /tmp/maicache-azurite.XXXXXX)
PORT=$(free_port)
DEAD_PORT=$(free_port)	# nothing listens there: connection refused
AZ_PID=
PX_PID=

cleanup() {
	if [ -n "$PX_PID" ]; then
		kill "$PX_PID" 2>/dev/null || true
		wait "$PX_PID" 2>/dev/null || true
	fi
	if [ -n "$AZ_PID" ]; then
		kill -CONT "$AZ_PID" 2>/dev/null || true
		kill "$AZ_PID" 2>/dev/null || true
		wait "$AZ_PID" 2>/dev/null || true
	fi
	rm -rf "$STORE" "$STORE.proxy-port"
}
trap cleanup EXIT

"$AZURITE" --disableTelemetry --blobHost 127.0.0.1 --blobPort "$PORT" \
	--location "$STORE" --silent >"$STORE.log" 2>&1 &
AZ_PID=$!
for _ in $(seq 100); do
	if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
		break
	fi
	if ! kill -0 "$AZ_PID" 2>/dev/null; then
		echo "FAIL blob client test: Azurite exited at start:"; cat "$STORE.log"
		exit 1
	fi
	sleep 0.2
done

# The fault-injecting proxy in front of Azurite (hostile-proxy.py).
python3 "$ROOT/tests/blob/hostile-proxy.py" "$PORT" "$STORE.proxy-port" &
PX_PID=$!
for _ in $(seq 50); do
	[ -s "$STORE.proxy-port" ] && break
	sleep 0.1
done
if [ ! -s "$STORE.proxy-port" ]; then
	echo "FAIL blob client test: the hostile proxy did not start"
	exit 1
fi
PROXY_PORT=$(cat "$STORE.proxy-port")

rc=0
for engine in $ENGINES; do
	echo "== engine $engine"
	"$OUT/blob-client-test" "$PORT" "$AZ_PID" "$DEAD_PORT" "$engine" || rc=1
	echo "== engine $engine, through the hostile proxy"
	"$OUT/blob-hostile-test" "$PORT" "$PROXY_PORT" "$engine" || rc=1
done
rm -f "$STORE.log"
exit $rc
