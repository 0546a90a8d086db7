#!/bin/bash
# SPDX-License-Identifier: MIT
# The plots of docs/scale.md, from cluster-sim runs made now (a few
# minutes on 2 cores; --small for a quick look with small clusters):
#
#   scale-herd.png     one group of N nodes reads a 256 MiB checkpoint at
#                      once: the time until all have it against the lower
#                      bound, with fan-out (K = 4) and without
#   scale-cluster.png  N nodes in groups of 5,000, with the tier between
#                      groups and without: the time against the bound, and
#                      Blob GETs per extent
#
#   tools/sim/scale-plots.sh [--small] [OUTDIR]    (OUTDIR: build/plots)
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox). The numbers behind
# each plot are kept beside it (.dat), one line per run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sim=$root/build/user/cluster-sim
small=false
if [[ ${1:-} == --small ]]; then
	small=true
	shift
fi
out=${1:-$root/build/plots}
command -v gnuplot >/dev/null || { echo "scale-plots: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
[[ -x $sim ]] || { echo "scale-plots: build it first: make" >&2; exit 1; }
mkdir -p "$out"

# run ARGS...: "RATIO GETS_PER_EXTENT" of one cluster-sim run.
run() {
	local r
	r=$("$sim" --extents 64 --window 64 --quiet "$@") || { echo "scale-plots: cluster-sim $* failed" >&2; exit 1; }
	awk '/has every extent after/ { sub(/x$/, "", $NF); ratio = $NF }
	     $1 == "Blob:" { gets = $4 }
	     END { print ratio, gets }' <<<"$r"
}

if $small; then
	herd_nodes=(100 200 500 1000)
	cluster_nodes=(1000 2000 4000)
	gsize=500
else
	herd_nodes=(100 500 1000 2000 5000)
	cluster_nodes=(5000 10000 20000 50000 100000)
	gsize=5000
fi

echo "# nodes ratio_fanout4 ratio_off" >"$out/scale-herd.dat"
for n in "${herd_nodes[@]}"; do
	echo "scale-plots: one group of $n" >&2
	read -r a _ < <(run --nodes "$n" --group-size "$n" --fanout 4)
	read -r b _ < <(run --nodes "$n" --group-size "$n" --fanout 0)
	echo "$n $a $b" >>"$out/scale-herd.dat"
done

echo "# nodes ratio_groups_alone gets_alone ratio_home gets_home (groups of $gsize)" >"$out/scale-cluster.dat"
for n in "${cluster_nodes[@]}"; do
	echo "scale-plots: $n nodes in groups of $gsize" >&2
	read -r a ga < <(run --nodes "$n" --group-size "$gsize")
	read -r b gb < <(run --nodes "$n" --group-size "$gsize" --home)
	echo "$n $a $ga $b $gb" >>"$out/scale-cluster.dat"
done

gnuplot <<PLOT
set terminal pngcairo size 900,540 font "DejaVu Sans,11"
set grid
set logscale x
set key top left
set yrange [0:*]
set xlabel "nodes in the group"
set ylabel "time for all to have it / lower bound"
set title "A 256 MiB checkpoint read by every node of one group at once (cluster-sim)"
set output "$out/scale-herd.png"
plot "$out/scale-herd.dat" using 1:2 with linespoints lw 2 title "fan-out, K = 4", \
     "$out/scale-herd.dat" using 1:3 with linespoints lw 2 title "the owner sends every copy"
set output "$out/scale-cluster.png"
set xlabel "nodes in the cluster (groups of $gsize)"
set ylabel "time / lower bound"
set y2label "Blob GETs per extent"
set y2tics
set y2range [0:*]
set ytics nomirror
set title "The same herd on a cluster of groups, with and without the tier between them"
plot "$out/scale-cluster.dat" using 1:2 axes x1y1 with linespoints lw 2 title "groups alone: time", \
     "$out/scale-cluster.dat" using 1:4 axes x1y1 with linespoints lw 2 title "with the home tier: time", \
     "$out/scale-cluster.dat" using 1:3 axes x1y2 with linespoints dt 2 title "groups alone: GETs per extent", \
     "$out/scale-cluster.dat" using 1:5 axes x1y2 with linespoints dt 2 title "with the home tier: GETs per extent"
PLOT
echo "scale-plots: $out/scale-herd.png $out/scale-cluster.png"
