#!/usr/bin/env bash
# Measures how fast `stackprof fold` reads `perf script` text: a capture of
# this machine (perf record -a -g while the cpushare workload runs) is
# printed by `perf script`, repeated to SIZE MB, and read by:
#   - `wc -l`: reading the file and finding its lines, the floor;
#   - `stackprof fold` to /dev/null: MB/s, and its peak RSS;
#   - the same file gzip'd, through `stackprof fold`;
#   - with --reference, the reference collapser (stackcollapse-perf.pl, which
#     Debian does not package: give the path of a copy), whose output must be
#     the same set of lines as stackprof's;
# and, as the other end of the usual pipeline, `perf script` itself
# printing the capture (MB of text per second).
#
# Usage: tests/bench/fold_throughput.sh [--write] [--runs R] [--size MB] [--build DIR]
#                                       [--reference PATH]
#   --write          also replace the fold-throughput section of docs/benchmarks.md
#   --runs R         runs per configuration (default 3)
#   --size MB        size of the text read (default 400)
#   --build DIR      build directory holding stackprof (default: build)
#   --reference PATH the reference collapser, run with perl
# Needs root (perf record -a) and perf. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
size=400
build=build
reference=
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--size) size="$2"; shift ;;
	--build) build="$2"; shift ;;
	--reference) reference="$2"; shift ;;
	-h|--help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "fold_throughput: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
cpushare="$build/tests/workloads/cpushare"
bench_require fold_throughput "$build" "$stackprof" "$cpushare"
[ -x /usr/bin/time ] || { echo "fold_throughput: /usr/bin/time not installed (package time)" >&2; exit 1; }
if [ -n "$reference" ] && [ ! -r "$reference" ]; then
	echo "fold_throughput: cannot read the reference collapser $reference" >&2
	exit 1
fi
cfgs="wc fold foldgz${reference:+ ref}"

tmp=$(mktemp -d /tmp/fold-throughput.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

perf record -q -a -g -F 999 -B -o "$tmp/perf.data" -- "$cpushare" 3 >/dev/null 2>&1
start=$(date +%s.%N)
perf script -i "$tmp/perf.data" >"$tmp/one.txt" 2>/dev/null
end=$(date +%s.%N)
one=$(stat -c %s "$tmp/one.txt")
script_mbs=$(awk -v b="$one" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b / 1048576 / (e - s) }')
copies=$(( (size * 1048576 + one - 1) / one ))
for ((i = 0; i < copies; i++)); do cat "$tmp/one.txt"; done >"$tmp/big.txt"
bytes=$(stat -c %s "$tmp/big.txt")
gzip -1 -c "$tmp/big.txt" >"$tmp/big.txt.gz"
echo "fold_throughput: $((bytes >> 20)) MB of perf script text ($copies copies of a" \
	"$((one >> 10)) KB capture), $runs runs" >&2

# One run: appends "seconds max_rss_kb" to $tmp/CFG.
one() {
	local cfg=$1 t
	case $cfg in
	wc) /usr/bin/time -f "%e %M" -o "$tmp/t" wc -l "$tmp/big.txt" >/dev/null ;;
	fold) /usr/bin/time -f "%e %M" -o "$tmp/t" "$stackprof" fold "$tmp/big.txt" >/dev/null ;;
	foldgz) /usr/bin/time -f "%e %M" -o "$tmp/t" "$stackprof" fold "$tmp/big.txt.gz" >/dev/null ;;
	ref) /usr/bin/time -f "%e %M" -o "$tmp/t" perl "$reference" "$tmp/big.txt" >/dev/null 2>&1 ;;
	esac
	t=$(tail -1 "$tmp/t")
	echo "$t" >>"$tmp/$cfg"
	echo "  run $2 $cfg: $t (s, KB)" >&2
}

for cfg in $cfgs; do : >"$tmp/$cfg"; done
for ((i = 1; i <= runs; i++)); do
	for cfg in $cfgs; do one "$cfg" "$i"; done
done

# The folded output must not depend on how the input came.
cmp <("$stackprof" fold "$tmp/big.txt") <("$stackprof" fold <"$tmp/big.txt.gz") ||
	{ echo "fold_throughput: plain and gzip input folded differently" >&2; exit 1; }
# The reference's lines and ours, as sets: the compatibility contract on a large input.
if [ -n "$reference" ]; then
	cmp <("$stackprof" fold "$tmp/big.txt" | LC_ALL=C sort) \
		<(perl "$reference" "$tmp/big.txt" 2>/dev/null | LC_ALL=C sort) ||
		{ echo "fold_throughput: stackprof fold and the reference differ" >&2; exit 1; }
fi

wc_s=$(bench_median "$tmp/wc" 1 %.3f)
row() { # name cfg
	local s rss
	s=$(bench_median "$tmp/$2" 1 %.3f)
	rss=$(bench_max "$tmp/$2" 2)
	awk -v n="$1" -v s="$s" -v b="$bytes" -v w="$wc_s" -v r="$rss" -v rg="$(bench_range "$tmp/$2" 1 %.2f)" 'BEGIN {
		mbs = s > 0 ? b / 1048576 / s : 0
		printf "| %s | %.2f (%s) | %.0f | %.1fx | %.1f |\n", n, s, rg, mbs, (w > 0 ? s / w : 0), r / 1024 }'
}

input="$((bytes >> 20)) MB of perf script text"
for cfg in $cfgs; do
	case $cfg in
	wc) c="wc -l" ;;
	fold) c="stackprof fold" ;;
	foldgz) c="stackprof fold of the gzip'd file" ;;
	ref) c="stackcollapse-perf.pl" ;;
	esac
	bench_result fold.seconds "$c, $input" s "$tmp/$cfg" 1
	bench_result fold.peak_rss_kb "$c, $input" KB "$tmp/$cfg" 2
	awk -v b="$bytes" '{ print ($1 > 0 ? b / 1048576 / $1 : "-") }' "$tmp/$cfg" >"$tmp/mbs"
	bench_result fold.mb_per_s "$c, $input" MB/s "$tmp/mbs" 1
done
bench_result_value fold.perf_script_mb_per_s "perf script printing the capture" MB/s "$script_mbs"
fold_s=$(bench_median "$tmp/fold" 1 %.3f)
mbs=$(awk -v b="$bytes" -v s="$fold_s" 'BEGIN { printf "%.0f", (s > 0 ? b / 1048576 / s : 0) }')
r=$(awk -v m="$mbs" -v p="$script_mbs" 'BEGIN { printf "%.1f", (p > 0 ? m / p : 0) }')
bench_headline fold.vs_perf_script "fold: stackprof fold's MB/s over perf script's (the pipeline's other end)" \
	"$r" "$(printf '%sx (%s MB/s vs %s MB/s)' "$r" "$mbs" "$script_mbs")" - -
if [ -n "$reference" ]; then
	r=$(awk -v f="$fold_s" -v x="$(bench_median "$tmp/ref" 1 %.3f)" 'BEGIN { printf "%.1f", (f > 0 ? x / f : 0) }')
	bench_headline fold.vs_reference "fold: speed of stackprof fold over the reference collapser's" \
		"$r" "${r}x" - -
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "Reading $((bytes >> 20)) MB of \`perf script\` text ($copies copies of a capture of this"
	echo "machine, \`perf record -a -g\` while cpushare runs), median (min-max) of $runs runs."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d),"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "| reader | seconds | MB/s | time / wc -l | peak RSS (MB) |"
	echo "|---|---|---|---|---|"
	row "\`wc -l\` (read and find lines: the floor)" wc
	row "\`stackprof fold\`" fold
	row "\`stackprof fold\` of the gzip'd file" foldgz
	if [ -n "$reference" ]; then
		row "\`stackcollapse-perf.pl\` (the reference collapser, perl $(perl -e 'printf "%vd", $^V'))" ref
	fi
	echo
	if [ -n "$reference" ]; then
		awk -v f="$(bench_median "$tmp/fold" 1 %.3f)" -v r="$(bench_median "$tmp/ref" 1 %.3f)" 'BEGIN {
			printf "stackprof fold is %.0fx as fast as the reference collapser on the same input,\n", r / f
			print "and both wrote the same lines (checked by the script)." }'
		echo
	fi
	echo "For scale, \`perf script\` printed the capture at $script_mbs MB/s on the same machine:"
	echo "in \`perf script | stackprof fold\`, the folding is never what waits. The peak RSS"
	echo "stays that of the unique stacks, whatever the input's size."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section fold-throughput "fold throughput" tests/bench/fold_throughput.sh "$table"
fi
