#!/bin/bash
# maicachectl as the VM tests run it: every --json answer is read back by a
# real JSON parser (python3's json module), so output that a parser rejects
# (an unescaped quote in an ETag, a bare word for a number) fails the test
# that asked for it instead of passing a grep. Streams (monitor) run as they are.
real=${MAICACHE_ROOT:?}/build/user/maicachectl
json=0
for a in "$@"; do
	case $a in
	--json | -j) json=1 ;;
	monitor) exec "$real" "$@" ;;
	esac
done
[ "$json" = 1 ] || exec "$real" "$@"
out=$("$real" "$@")
rc=$?
printf '%s\n' "$out"
if [ -n "$out" ] && ! /usr/bin/python3 -c '
import json, sys
for line in sys.stdin.read().splitlines():
    if line.strip():
        json.loads(line)' <<<"$out" 2>/dev/null; then
	echo "maicachectl $*: --json output is not valid JSON: $out" >&2
	exit 99
fi
exit "$rc"
