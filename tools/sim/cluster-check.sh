#!/bin/bash
# SPDX-License-Identifier: MIT
# The cluster simulator's small herd for make check: 2,000 nodes in two
# groups of 1,000 read 16 extents at once, with fan-out (K = 4) and
# without. Checked: every node got every extent (cluster-sim exits 1
# otherwise), one Blob GET per extent per group, no node sent one extent to
# more than K at once, and fan-out finished in less simulated time than the
# owner alone; then the same groups with the tier between them (--home):
# one Blob GET per extent for the cluster, and the other group got each
# extent from its home gateway; and with 5% of the nodes leaving and coming
# back mid-read (--churn): every node still gets every extent, the moved
# keys cost Blob GETs without the home tier and (nearly) none with it. One
# PASS or FAIL line per check.
set -uo pipefail
sim=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/user/cluster-sim}
args=(--nodes 2000 --group-size 1000 --extents 16 --quiet)

check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; fi; }
field() { sed -n "$2" <<<"$1"; }
# run WHAT ARGS...: the report of one run; a run that did not complete fails
# (its FAIL line on the script's own stdout, fd 3: the report is captured).
exec 3>&1
run() {
	local what=$1
	shift
	"$sim" "${args[@]}" "$@" || { echo "FAIL cluster-sim: the herd did not complete ($what)" >&3; exit 1; }
}
gets_per_extent() { field "$1" 's/.*GETs, \([0-9.]*\) per extent.*/\1/p'; }

with=$(run "K = 4" --fanout 4) || exit 1
without=$(run "off" --fanout 0) || exit 1
per_extent=$(gets_per_extent "$with")
peak=$(field "$with" 's/.*at most \([0-9]*\) sends of one extent.*/\1/p')
t_with=$(field "$with" 's/.*has every extent after \([0-9.]*\) s.*/\1/p')
t_without=$(field "$without" 's/.*has every extent after \([0-9.]*\) s.*/\1/p')
check "cluster-sim: one Blob GET per extent per group ($per_extent for 2 groups)" '[[ $per_extent == 2.00 ]]'
check "cluster-sim: at most K = 4 sends of one extent at once ($peak)" '((peak >= 1 && peak <= 4))'
check "cluster-sim: fan-out beats the owner alone (${t_with} s against ${t_without} s simulated)" \
	"awk -v a=$t_with -v b=$t_without 'BEGIN { exit !(a < b) }'"

home=$(run "home" --fanout 4 --home) || exit 1
home_per_extent=$(gets_per_extent "$home")
home_sends=$(field "$home" 's/.* \([0-9]*\) sends by home gateways.*/\1/p')
check "cluster-sim: one Blob GET per extent for the cluster with the home tier ($home_per_extent)" \
	'[[ $home_per_extent == 1.00 ]]'
check "cluster-sim: the other group got every extent from its home ($home_sends sends for 16)" \
	'((home_sends == 16))'

churn=$(run "churn" --fanout 4 --churn 5) || exit 1
churn_home=$(run "churn, home" --fanout 4 --churn 5 --home) || exit 1
churn_per_extent=$(gets_per_extent "$churn")
churn_home_per_extent=$(gets_per_extent "$churn_home")
moved=$(field "$churn" 's/.*keys moved \([0-9]*\) when they left.*/\1/p')
check "cluster-sim: 5% churn, every node got every extent; $moved keys moved, $churn_per_extent GETs per extent for 2 groups" \
	"awk -v g=$churn_per_extent -v m=$moved 'BEGIN { exit !(m > 0 && g > 2.0) }'"
check "cluster-sim: 5% churn with the home tier: $churn_home_per_extent GETs per extent for the cluster" \
	"awk -v g=$churn_home_per_extent 'BEGIN { exit !(g >= 1.0 && g <= 1.1) }'"
