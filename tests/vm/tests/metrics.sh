#!/bin/bash
# maicached's GET /metrics (userd/metrics.h): after reads through two
# devices of file sources, the text passes `promtool check metrics` and
# its values equal `maicachectl --json stats` and `--json pool` taken at
# the same quiescent moment (stats before and after the scrape must be
# the same, so nothing moved in between): per device hits, misses, bytes,
# evictions, fill errors, the fill count (the histogram's +Inf bucket and
# _count) and fill time (_sum), the daemon's fills of each volume; pool
# size and use. Then: other paths 404, other methods 405, IPv6 on the aio
# engine, "off" listens nowhere, and a bad or busy address stops the
# daemon at start-up with a message naming it.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
trap mc_cleanup EXIT

url=http://127.0.0.1:9464/metrics
out=$MAICACHE_OUT/metrics
mkdir -p "$out"
a=/tmp/a.img
b=/tmp/b.img
head -c $((6 << 20)) /dev/urandom >"$a"
head -c $((3 << 20)) /dev/urandom >"$b"

rm -rf "$mc_state"
start_daemon --engine io_uring
grep -q "metrics on http://127.0.0.1:9464/metrics" "$dlog" || die "the daemon does not say where its metrics are"
# Every character a volume name may hold that is not a letter: label
# values with quotes and backslashes are check_metrics' (labels_escaped).
deva=$(attach "file://$a" --extent-size 256K --name 'set.a_1-2+3:4@5')
devb=$(attach "file://$b" --extent-size 1M --name b)

# Cold, then warm reads of a; half of b. dd returns once its reads are
# done, and so are their fills: the counters are still from here on.
cmp "$deva" "$a" || die "cold read of a differs"
cmp "$deva" "$a" || die "warm read of a differs"
dd if="$devb" of=/dev/null bs=1M count=2 iflag=direct status=none
sleep 0.5

for ((i = 0; i < 5; i++)); do
	"$ctl" --json stats >"$out/stats.before"
	"$ctl" --json pool >"$out/pool.json"
	curl -fsS -D "$out/headers" -o "$out/metrics.txt" "$url" || die "GET $url failed"
	"$ctl" --json stats >"$out/stats.after"
	# uptime_ms moves on its own: compare the rest.
	sed 's/"uptime_ms":[0-9]*//' "$out/stats.before" >"$out/still.before"
	sed 's/"uptime_ms":[0-9]*//' "$out/stats.after" >"$out/still.after"
	cmp -s "$out/still.before" "$out/still.after" && break
	sleep 0.5
done
((i < 5)) || die "the counters never stood still"
grep -qi '^content-type: text/plain; version=0.0.4' "$out/headers" ||
	die "Content-Type is not the text format's: $(cat "$out/headers")"
promtool check metrics <"$out/metrics.txt" || die "promtool check metrics failed"

python3 - "$out/stats.before" "$out/pool.json" "$out/metrics.txt" "$(dev_id "$deva")" "$(dev_id "$devb")" <<'EOF'
import json, re, sys

stats = json.load(open(sys.argv[1]))
pool = json.load(open(sys.argv[2]))
text = open(sys.argv[3]).read()
ids = [int(x) for x in sys.argv[4:]]

line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
samples = {}
for line in text.splitlines():
    if line.startswith('#'):
        continue
    m = line_re.match(line)
    if not m:
        sys.exit(f"unparsable line: {line!r}")
    labels = tuple(sorted((k, v.replace('\\"', '"').replace('\\n', '\n').replace('\\\\', '\\'))
                          for k, v in label_re.findall(m.group(2) or '')))
    samples[(m.group(1), labels)] = float(m.group(3))

def get(name, **labels):
    key = (name, tuple(sorted(labels.items())))
    if key not in samples:
        sys.exit(f"no sample {name} {labels}")
    return samples[key]

def eq(what, got, want):
    if got != want:
        sys.exit(f"{what}: /metrics has {got}, maicachectl {want}")
    print(f"  {what} = {want:g}")

devs = {d['id']: d for d in stats['devices']}
for i in ids:
    d = devs[i]
    name = d['name']
    for key, metric in [('hits', 'maicache_hits_total'), ('misses', 'maicache_misses_total'),
                        ('bytes_hit', 'maicache_hit_bytes_total'),
                        ('bytes_filled', 'maicache_filled_bytes_total'),
                        ('evictions', 'maicache_evictions_total'),
                        ('fill_errors', 'maicache_fill_errors_total'),
                        ('prefetched', 'maicache_prefetched_total'),
                        ('warmed', 'maicache_warmed_total')]:
        eq(f"{name} {key}", get(metric, device=name), d[key])
    fills = sum(d['fill_latency_us'])
    eq(f"{name} fills (+Inf bucket)", get('maicache_fill_latency_seconds_bucket', device=name, le='+Inf'), fills)
    eq(f"{name} fills (_count)", get('maicache_fill_latency_seconds_count', device=name), fills)
    s = get('maicache_fill_latency_seconds_sum', device=name)
    if abs(s - d['fill_latency_ns'] / 1e9) > 1e-6:
        sys.exit(f"{name} _sum {s} is not fill_latency_ns {d['fill_latency_ns']} / 1e9")
    print(f"  {name} fill time = {s} s")
    # The module's sum agrees with its buckets: a fill of bucket b took
    # [2^(b-1), 2^b) us (bucket 0: under 1 us; the last has no top).
    h = d['fill_latency_us']
    lo = sum(n * (2 ** (b - 1) if b else 0) for b, n in enumerate(h)) / 1e6
    hi = sum(n * 2 ** b for b, n in enumerate(h)) / 1e6
    if not (lo <= s and (h[-1] or s <= hi)):
        sys.exit(f"{name}: _sum {s} s is outside [{lo}, {hi}] that its buckets allow")
    # Cumulative: le 2^b us counts the module's buckets 0..b.
    for b, le in [(6, '6.4e-05'), (12, '0.004096'), (16, '0.065536')]:
        eq(f"{name} fills under {le} s", get('maicache_fill_latency_seconds_bucket', device=name, le=le),
           sum(d['fill_latency_us'][:b + 1]))
    eq(f"{name} daemon fills", get('maicache_volume_fills_total', device=name), d['fills'])
    eq(f"{name} daemon fill bytes", get('maicache_volume_fill_bytes_total', device=name), d['fill_bytes'])
    if not ((d['hits'] > 0 or i != ids[0]) and d['misses'] > 0 and fills > 0):
        sys.exit(f"{name}: the reads left nothing to compare: {d}")
a = devs[ids[0]]['name']
info = [k for k in samples if k[0] == 'maicache_device_info' and ('device', a) in k[1]]
if not info or ('volume', 'set.a_1-2+3:4@5') not in info[0][1] or ('state', 'ready') not in info[0][1]:
    sys.exit(f"device_info of {a}: {info}")
eq("pool size", get('maicache_pool_size_bytes'), pool['size'])
eq("pool used", get('maicache_pool_used_bytes'), pool['used'])
eq("blob GETs (file sources only)", get('maicache_blob_gets_total'), stats['daemon']['blob_gets'])
eq("ready volumes", get('maicache_volumes', state='ready'), 2)
eq("stale volumes", get('maicache_volumes', state='stale'), 0)
EOF
echo "metrics: promtool clean, values equal maicachectl's"

code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/)
assert_eq "$code" 404 "GET /"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
assert_eq "$code" 405 "POST /metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url")
assert_eq "$code" 200 "HEAD /metrics"
# Scrapes in a row, on one kept-alive connection of one curl (its start,
# slow in the VM, is timed apart); the loop keeps serving and filling.
urls=()
for ((i = 0; i < 50; i++)); do
	urls+=(-o /dev/null "$url")
done
t0=$(date +%s%N)
curl -fsS -o /dev/null "$url" || die "scrape failed"
t1=$(date +%s%N)
curl -fsS "${urls[@]}" -w '%{num_connects}\n' >"$out/connects" || die "50 scrapes failed"
t2=$(date +%s%N)
n=$(awk '{ s += $1 } END { print s }' "$out/connects")
((n == 1)) || die "50 scrapes took $n connections, not 1 kept alive"
echo "metrics: one curl with 1 scrape $(((t1 - t0) / 1000000)) ms, with 50 scrapes $(((t2 - t1) / 1000000)) ms"
cmp "$devb" "$b" || die "read of b after the scrapes differs"
stop_daemon

# IPv6 loopback, on the aio engine (MHD's epoll fd inside the loop's epoll); then
# off: nothing listens.
start_daemon --engine aio --set 'metrics_listen=[::1]:9465'
# Read whole first: grep -q leaving early would fail curl's write (pipefail).
body=$(curl -fsS -g 'http://[::1]:9465/metrics') || die "no metrics on [::1]:9465"
grep -q '^maicache_hits_total{device="maicache' <<<"$body" ||
	die "no device counters on [::1]:9465"
stop_daemon
start_daemon --set metrics_listen=off
if curl -s -o /dev/null "$url"; then die "metrics_listen=off still serves $url"; fi
stop_daemon

# Bad values and a busy port stop the daemon at start-up, saying why.
o=$(timeout 30 "$bin/maicached" --set socket=/tmp/m.sock --set state_dir="$mc_state" \
	--set metrics_listen=localhost:9464 2>&1) && die "metrics_listen=localhost:9464 started"
grep -q "metrics_listen: 'localhost:9464' is not a numeric address:port (or off)" <<<"$o" ||
	die "bad metrics_listen: '$o'"
# A port of its own: 9464 may still be in TIME_WAIT from the scrapes.
rm -f /tmp/busy.ready
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",9466)); s.listen(); open("/tmp/busy.ready","w").close(); time.sleep(60)' &
busy=$!
bgpids+=("$busy")
for ((i = 0; i < 300; i++)); do
	[[ -e /tmp/busy.ready ]] && break
	kill -0 "$busy" 2>/dev/null || die "the stand-in listener on 127.0.0.1:9466 did not start"
	sleep 0.1
done
[[ -e /tmp/busy.ready ]] || die "the stand-in listener on 127.0.0.1:9466 is not listening"
o=$(timeout 30 "$bin/maicached" --set socket=/tmp/m.sock --set state_dir="$mc_state" \
	--set metrics_listen=127.0.0.1:9466 2>&1) && die "maicached started with 127.0.0.1:9466 taken"
grep -q "metrics_listen 127.0.0.1:9466: Address already in use" <<<"$o" || die "busy port: '$o'"
kill "$busy"
echo "metrics: 404/405/HEAD, IPv6, off, bad and busy addresses OK"
