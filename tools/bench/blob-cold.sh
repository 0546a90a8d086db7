#!/bin/bash
# shellcheck disable=SC2119 # azurite_* take optional arguments
# Cold reads from Blob, inside the VM, with Azurite in the same VM: the
# same blob read by curl's parallel ranged GETs and through fresh maicache
# devices, rounds interleaved in one boot (tools/bench/blob-lib.sh says
# what each pass is). Azurite shares the VM's two vCPUs with the reader
# here; tools/bench/multi-bench.sh blob runs it on a node of its own.
#
# Run (the VM needs room for the blob twice: the file and Azurite's copy):
#   tests/vm/run.sh --kernel KVER --mem 3G --timeout 3600 \
#       tools/bench/blob-cold.sh [SIZE_MB (64)] [PAR (16)] [ROUNDS (1)]
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"
# shellcheck source=tests/vm/blob.sh
. "$MAICACHE_ROOT/tests/vm/blob.sh"
# shellcheck source=tools/bench/blob-lib.sh
. "$MAICACHE_ROOT/tools/bench/blob-lib.sh"
trap mc_cleanup EXIT

size_mb=${1:-64}
par=${2:-16}
rounds=${3:-1}

head -c "$((size_mb << 20))" /dev/urandom >/tmp/cold.img
azurite_start >/dev/null
blob_mkcontainer bench --public blob
blob_put bench cold.img /tmp/cold.img >/dev/null
rm -f /tmp/cold.img
blob_bench "$(blob_url bench cold.img)" "$size_mb" "$par" "$rounds"
