#!/usr/bin/env bash
# Measures what offcpu profiling costs a program that context-switches as fast
# as it can, side by side with perf: the round trips per second of
# `pingpong SECONDS` (two threads passing a byte over two pipes) alone, under
# `stackprof offcpu -g --`, and under `perf record -e sched:sched_switch -g --`,
# with the context switches per second and the events each tool lost.
#
# Usage: tests/bench/offcpu_pingpong.sh [--write] [--runs R] [--seconds N] [--build DIR]
#   --write        also replace the offcpu-overhead section of docs/benchmarks.md
#   --runs R       runs per configuration (default 3), interleaved round-robin
#   --seconds N    length of each pingpong run (default 5)
#   --build DIR    build directory holding stackprof (default: build)
# Needs root (perf events) and perf. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
secs=5
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--seconds) secs="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "offcpu_pingpong: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
pingpong="$build/tests/workloads/pingpong"
bench_require offcpu_pingpong "$build" "$stackprof" "$pingpong"

tmp=$(mktemp -d /tmp/offcpu-pingpong.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run_base() { "$pingpong" --truth "$tmp/truth" "$secs"; }
run_stackprof() {
	"$stackprof" offcpu -g -o "$tmp/sp.folded" -- "$pingpong" --truth "$tmp/truth" "$secs"
}
run_perf() {
	perf record -e sched:sched_switch -g -o "$tmp/perf.data" -- \
		"$pingpong" --truth "$tmp/truth" "$secs"
}

# One run of a configuration: appends "rate switches_per_s lost" to $tmp/CFG.
one() {
	local cfg=$1 rate sw lost
	rm -f "$tmp/truth"
	"run_$cfg" >"$tmp/last.log" 2>&1 || {
		echo "offcpu_pingpong: $cfg run failed:" >&2
		cat "$tmp/last.log" >&2
		exit 1
	}
	[ -s "$tmp/truth" ] || { echo "offcpu_pingpong: $cfg run wrote no truth" >&2; exit 1; }
	# pingpong: thread ROLE COMM TID WALL_NS CPU_NS RUN_DELAY_NS TIMESLICES
	# pingpong: ROUNDS round trips in SECS s (RATE/s)
	read -r rate sw < <(awk '
		$2 == "thread" { slices += $9; wall = $6 > wall ? $6 : wall }
		$3 == "round" { rounds = $2; s = $6 }
		END { printf "%.0f %.0f\n", rounds / s, slices / (wall / 1e9) }' "$tmp/truth")
	case $cfg in
	base) lost=- ;;
	stackprof) lost=$(bench_lost_stackprof "$tmp/last.log") ;;
	perf) lost=$(bench_lost_perf "$tmp/perf.data") ;;
	esac
	echo "$rate $sw $lost" >>"$tmp/$cfg"
	echo "  run $2 $cfg: $rate round trips/s, $sw switches/s, lost $lost" >&2
}

echo "offcpu_pingpong: pingpong $secs s, $runs runs per configuration" >&2
: >"$tmp/base"; : >"$tmp/stackprof"; : >"$tmp/perf"
for ((i = 1; i <= runs; i++)); do
	for cfg in base stackprof perf; do
		one "$cfg" "$i"
	done
done


base_rate=$(bench_median "$tmp/base" 1 %.0f)
row() { # name cfg
	local rate sw lost
	rate=$(bench_median "$tmp/$2" 1 %.0f)
	sw=$(bench_median "$tmp/$2" 2 %.0f)
	lost=$(bench_max "$tmp/$2" 3)
	awk -v n="$1" -v r="$rate" -v b="$base_rate" -v s="$sw" -v l="$lost" 'BEGIN {
		printf "| %s | %d | %.2fx | %d | %s |\n", n, r, b / r, s, l }'
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "Round trips per second of \`pingpong $secs\` (two threads, two pipes), median of $runs"
	echo "interleaved runs each; context switches per second are both threads' timeslices"
	echo "(/proc/thread-self/schedstat) over their wall time; lost is the worst run."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d)."
	echo
	echo "| configuration | round trips/s | slowdown | context switches/s | events lost |"
	echo "|---|---|---|---|---|"
	row "pingpong alone" base
	row "\`stackprof offcpu -g\`" stackprof
	row "\`perf record -e sched:sched_switch -g\`" perf
	echo
	echo "Slowdown is the baseline rate over the rate under the tool. stackprof's lost"
	echo "count is its \`# lost\` line (records + samples); perf's is the sum of its"
	echo "PERF_RECORD_LOST counts. On an idle machine a waking thread often waits for a"
	echo "CPU to leave its idle state, so a profiler that keeps CPUs busy can even raise"
	echo "the rate: compare the runs, not the ratio alone."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section offcpu-overhead "offcpu overhead" tests/bench/offcpu_pingpong.sh "$table"
fi
