#!/usr/bin/env bash
# Prints one line per sanitizer or kernel report found in a UML kernel log
# (KASAN, lockdep, sleeping in atomic context, object debugging, WARN/BUG,
# list corruption, stalls, panics), each with the KUnit case that was running:
# the case whose result line comes next. Prints nothing for a clean log.
#
# Usage: tests/kunit/reports.sh KERNEL_LOG
set -euo pipefail

[[ $# -eq 1 && -r $1 ]] || { echo "usage: $0 KERNEL_LOG" >&2; exit 2; }

# A report's first line. "BUG:" covers KASAN ("BUG: KASAN: ..."), sleeping
# in atomic context, scheduling while atomic, bad spinlocks, leaked locks;
# "WARNING:" covers WARN_ON() and lockdep's splats (circular or recursive
# locking, inconsistent lock state, bad unlock balance, held lock freed,
# suspicious RCU usage).
pattern='(^|[^[:alnum:]_])(BUG: |WARNING: |ODEBUG: |UBSAN: |kmemleak: [0-9]+ new suspected|INFO: trying to register non-static key|INFO: task .* blocked for more than|detected stalls? on|Kernel panic|Oops|list_(add|del) corruption)'

awk -v pat="$pattern" '
	/^[[:space:]]*# Subtest: / { suite = $NF; next }
	# WARN() prints "WARNING: CPU: ..." and then its message (an ODEBUG report,
	# list corruption): one report, not two.
	$0 ~ pat && NR == warned + 1 && n > done {
		pending[n] = pending[n] ": " $0
		next
	}
	$0 ~ pat {
		pending[++n] = $0
		booting[n] = suite == ""
		if ($0 ~ /WARNING: CPU: /)
			warned = NR
		next
	}
	/^[[:space:]]*(not )?ok [0-9]+ / {
		name = $0
		sub(/^[[:space:]]*(not )?ok [0-9]+ /, "", name)
		sub(/[[:space:]]+#.*$/, "", name)
		for (i = done + 1; i <= n; i++)
			if (booting[i])
				printf "%s (at boot, before any test)\n", pending[i]
			else
				printf "%s (during %s.%s)\n", pending[i], suite, name
		done = n
	}
	END {
		for (i = done + 1; i <= n; i++)
			printf "%s (after the last result)\n", pending[i]
	}
' "$1" | sed -E 's/^[[:space:]]*(\[[^]]*\][[:space:]]*)?//'
