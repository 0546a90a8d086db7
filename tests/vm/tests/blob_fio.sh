#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# A blob of fio-verifiable data in Azurite, attached with maicachectl
# (credentials from AZURE_STORAGE_CONNECTION_STRING), read through
# /dev/maicacheN by fio verify jobs (512 B to 1 MiB, sequential and random,
# several jobs) cold and then warm, on both event-loop engines. Cold: one
# GET per fill, no more (the kernel coalesces concurrent misses; random
# reads fill 64 KiB parts, so there are more fills than extents, each a
# ranged GET of its own). Warm: no GET at all, counted by the daemon and by
# Azurite's own request log. A third pass splits fills (blob_split=64K):
# one GET per 64 KiB filled, the same bytes.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"
trap mc_cleanup EXIT


cd /tmp
img=/tmp/blob.img
size=$((8 << 20))
job=/tmp/blob.fio
cat >"$job" <<EOF
[global]
size=2m
verify=crc32c
verify_fatal=1
randseed=777

[seq512]
offset=0m
rw=write
bs=512

[rand4k]
offset=2m
rw=randwrite
bs=4k

[seq64k]
offset=4m
size=1m
offset_increment=1m
numjobs=2
rw=write
bs=64k

[rand1m]
offset=6m
rw=randwrite
bs=1m
EOF
truncate -s "$size" "$img"
run_fio write "$job" --do_verify=0 --direct=0 --ioengine=psync --filename="$img"

azurite_start
blob_mkcontainer data
blob_put data fio.img "$img" >/dev/null
url=$(blob_url data fio.img)
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"
read_opts=(--verify_only=1 --do_verify=1 --direct=1 --ioengine=io_uring --iodepth=8)
extents=$((size / (256 << 10)))

# Attach errors name the problem and the option to fix.
start_daemon
bad_key=$(head -c 64 /dev/urandom | base64 -w0)
out=$(AZURE_STORAGE_CONNECTION_STRING="" AZURE_STORAGE_KEY=$bad_key "$ctl" attach "$url" 2>&1) &&
	die "attach with a wrong key worked"
grep -q "403.*AZURE_STORAGE_KEY" <<<"$out" || die "wrong key: '$out'"
out=$("$ctl" attach "$(blob_url data no-such.img)" 2>&1) && die "attach of a missing blob worked"
grep -q "BlobNotFound" <<<"$out" || die "missing blob: '$out'"
out=$("$ctl" attach "$(blob_url nocontainer fio.img)" 2>&1) && die "attach from a missing container worked"
grep -q "ContainerNotFound" <<<"$out" || die "missing container: '$out'"
out=$("$ctl" attach "http://127.0.0.1:10000/otheraccount/data/fio.img" 2>&1) &&
	die "attach with another account's credential worked"
if ! grep -q "otheraccount" <<<"$out" || ! grep -q "devstoreaccount1" <<<"$out"; then
	die "account mismatch: '$out'"
fi
[[ -z $("$ctl" --json list | json_num id) ]] || die "a failed attach left a device"
# attach --json: the ETag (quotes and all) comes back as a JSON string.
out=$("$ctl" --json attach "$url") || die "attach --json failed (or printed invalid JSON): $out"
etag=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["etag"])' <<<"$out")
[[ $etag == \"*\" ]] || die "attach --json: ETag '$etag' is not the quoted ETag"
jdev=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["dev"])' <<<"$out")
[[ -b $jdev ]] || die "attach --json: dev '$jdev' is not a block device"
"$ctl" --json list >/dev/null || die "list --json of an attached blob is not valid JSON"
"$ctl" detach "$jdev" || die "detach $jdev"
stop_daemon

for pass in io_uring aio split; do
	engine=$pass opts=()
	[[ $pass != split ]] || engine=io_uring opts=(--set blob_split=64K)
	rm -rf "$mc_state"
	start_daemon --engine "$engine" "${opts[@]}"
	dev=$(attach "$url" --extent-size 256K)
	id=$(dev_id "$dev")
	g0=$(daemon_stat blob_gets)
	a0=$(azurite_requests)
	run_fio "cold-$pass" "$job" "${read_opts[@]}" --filename="$dev"
	fills_settle "$id"
	g1=$(daemon_stat blob_gets)
	a1=$(azurite_requests)
	m=$(stat_of "$id" misses)
	((m >= extents)) || die "$pass: $m cold misses for $extents extents"
	if [[ $pass == split ]]; then
		f=$(stat_of "$id" bytes_filled)
		((f % 65536 == 0 && f >= size)) || die "split: $f bytes filled"
		assert_eq $((g1 - g0)) $((f / 65536)) "split: GETs of the cold pass (one per 64 KiB filled)"
		((m < f / 65536)) || die "split: $m fills for $((f / 65536)) GETs: nothing was split"
	else
		assert_eq $((g1 - g0)) "$m" "$pass: GETs of the cold pass (one per fill)"
	fi
	(((a1 - a0) >= m)) || die "$pass: Azurite saw $((a1 - a0)) requests for $m fills"
	run_fio "warm-$pass" "$job" "${read_opts[@]}" --filename="$dev"
	fills_settle "$id"
	assert_eq "$(stat_of "$id" misses)" "$m" "$pass: misses of the warm pass"
	assert_eq "$(daemon_stat blob_gets)" "$g1" "$pass: GETs of the warm pass"
	assert_eq "$(azurite_requests)" "$a1" "$pass: requests Azurite saw in the warm pass"
	"$ctl" stats "$id"
	"$ctl" detach "$dev"
	stop_daemon
done
echo "blob fio verify: cold one GET per fill (or per 64 KiB split), warm none, both engines"
