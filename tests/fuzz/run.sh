#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run every fuzzer of tests/fuzz/ (built by `make fuzz-build`) over its seed
# corpus (tests/fuzz/corpus/<name>/) and then for FUZZ_SECONDS more (10 in
# make check; `make fuzz` gives 60). New inputs go to build/fuzz/corpus/ and
# never into the tree; a crash leaves its input in build/fuzz/ as
# crash-<sha1> (keep it under corpus/ once fixed: a regression case). One
# PASS or FAIL line per fuzzer.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
secs=${FUZZ_SECONDS:-10}
make -s -C "$ROOT" fuzz-build >/dev/null || { echo "FAIL fuzz: the fuzzers do not build"; exit 1; }
rc=0
for f in "$BUILD"/fuzz/fuzz_*; do
	[[ -x $f && ! -d $f ]] || continue
	name=$(basename "$f")
	seeds=$ROOT/tests/fuzz/corpus/$name
	work=$BUILD/fuzz/corpus/$name
	mkdir -p "$work"
	log=$BUILD/fuzz/$name.log
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/" "$work" "$seeds" >"$log" 2>&1; then
		echo "PASS fuzz $name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" |
			awk '{print $2}') runs in ${secs}s, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds"
	else
		echo "FAIL fuzz $name: see $log"
		tail -n 30 "$log" | sed 's/^/  /'
		rc=1
	fi
done
exit $rc
