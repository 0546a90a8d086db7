# SPDX-License-Identifier: MIT
#
# Sourced: start Debian's etcd on free loopback ports with a throw-away
# data directory. etcd_local_start sets ETCD_URL, ETCD_PID and ETCD_DATA
# and returns once etcd answers (1 if it never does); etcd_local_stop
# stops it and removes the data. Used by tests/etcd/run.sh and
# tools/bench/etcd-bench.sh.

etcd_local_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

etcd_local_start() {
	local cport pport
	ETCD_DATA=$(mktemp -d /tmp/maicache-etcd.XXXXXX)
	cport=$(etcd_local_port)
	pport=$(etcd_local_port)
	ETCD_URL="http://127.0.0.1:$cport"
	etcd --data-dir "$ETCD_DATA/data" --name local \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "local=http://127.0.0.1:$pport" "$@" >"$ETCD_DATA/etcd.log" 2>&1 &
	ETCD_PID=$!
	for _ in $(seq 100); do
		if curl -s -o /dev/null -X POST "$ETCD_URL/v3/kv/range" -d '{"key":"AA=="}'; then
			return 0
		fi
		sleep 0.1
	done
	echo "etcd did not answer at $ETCD_URL; its log:" >&2
	cat "$ETCD_DATA/etcd.log" >&2
	return 1
}

etcd_local_stop() {
	if [ -n "${ETCD_PID:-}" ]; then
		kill "$ETCD_PID" 2>/dev/null || true
		wait "$ETCD_PID" 2>/dev/null || true
		ETCD_PID=
	fi
	[ -n "${ETCD_DATA:-}" ] && rm -rf "$ETCD_DATA"
	ETCD_DATA=
}
