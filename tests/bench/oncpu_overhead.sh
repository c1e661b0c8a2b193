#!/usr/bin/env bash
# Measures what oncpu profiling costs a CPU-bound program, side by side with perf:
# the wall time of `cpushare --iterations N` (a fixed amount of work) alone,
# under `stackprof oncpu -F 997 -g --`, and under `perf record -F 997 -g --`,
# both for the whole command and as the workload's own run time (which leaves
# out the profiler's start-up and its work after the workload exits).
#
# Usage: tests/bench/oncpu_overhead.sh [--write] [--runs R] [--iterations N] [--build DIR]
#   --write         also replace the oncpu-overhead section of docs/benchmarks.md
#   --runs R        runs per configuration (default 5), interleaved round-robin
#   --iterations N  cpushare rounds (default: calibrated to ~3 s on this machine)
#   --build DIR     build directory holding stackprof (default: build)
# Needs root (system-wide perf events) and perf. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=5
iters=
build=build
freq=997
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--iterations) iters="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "oncpu_overhead: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
cpushare="$build/tests/workloads/cpushare"
bench_require oncpu_overhead "$build" "$stackprof" "$cpushare"

tmp=$(mktemp -d /tmp/oncpu-overhead.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Wall time of one command in seconds; its output goes to $tmp/last.log.
wall() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >"$tmp/last.log" 2>&1 || {
		echo "oncpu_overhead: failed: $*" >&2
		cat "$tmp/last.log" >&2
		exit 1
	}
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

if [ -z "$iters" ]; then
	probe=20
	t=$(wall "$cpushare" --iterations "$probe")
	iters=$(awk -v t="$t" -v p="$probe" 'BEGIN { n = int(3.0 * p / t); print (n < 1 ? 1 : n) }')
fi
echo "oncpu_overhead: cpushare --iterations $iters, $runs runs per configuration, -F $freq -g" >&2

run_base() { "$cpushare" --iterations "$iters"; }
run_stackprof() { "$stackprof" oncpu -F "$freq" -g -o "$tmp/sp.folded" -- "$cpushare" --iterations "$iters"; }
run_perf() { perf record -q -F "$freq" -g -o "$tmp/perf.data" -- "$cpushare" --iterations "$iters"; }

for cfg in base stackprof perf; do : >"$tmp/$cfg"; : >"$tmp/$cfg.inner"; done
run_base >/dev/null # warm the page cache
for ((i = 1; i <= runs; i++)); do
	for cfg in base stackprof perf; do
		t=$(wall "run_$cfg")
		echo "$t" >>"$tmp/$cfg"
		inner=$(sed -n 's/^cpushare: [0-9]* rounds in \([0-9.]*\) s$/\1/p' "$tmp/last.log")
		[ -n "$inner" ] || { echo "oncpu_overhead: no run time from cpushare" >&2; exit 1; }
		echo "$inner" >>"$tmp/$cfg.inner"
		[ "$cfg" != stackprof ] || cp "$tmp/last.log" "$tmp/stackprof.log"
		echo "  run $i $cfg: $t s (workload $inner s)" >&2
	done
done

# best and median of one configuration's times
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f\n", v[1], m }'
}
read -r base_best base_med < <(stats "$tmp/base")
read -r sp_best sp_med < <(stats "$tmp/stackprof")
read -r perf_best perf_med < <(stats "$tmp/perf")
read -r ibase_best ibase_med < <(stats "$tmp/base.inner")
read -r isp_best isp_med < <(stats "$tmp/stackprof.inner")
read -r iperf_best iperf_med < <(stats "$tmp/perf.inner")

row() { # name base stackprof perf
	awk -v n="$1" -v b="$2" -v s="$3" -v p="$4" 'BEGIN {
		printf "| %s | %.3f | %.3f | %+.1f%% | %.3f | %+.1f%% | %.2f |\n",
			n, b, s, 100 * (s - b) / b, p, 100 * (p - b) / b, s / p }'
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
event=$(grep -m1 '^# oncpu:' "$tmp/stackprof.log" 2>/dev/null | sed 's/^# oncpu: [0-9]* samples of \([^ ]*\).*/\1/' || true)
table=$(
	echo "Wall time of \`cpushare --iterations $iters\` (fixed work), $runs interleaved runs each;"
	echo "sampling at $freq Hz with frame-pointer call graphs (\`-g\`), event ${event:-cpu-clock}."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d)."
	echo
	echo "| time, of $runs runs | baseline s | stackprof s | stackprof overhead | perf record s | perf overhead | stackprof/perf |"
	echo "|---|---|---|---|---|---|---|"
	row "whole command, best" "$base_best" "$sp_best" "$perf_best"
	row "whole command, median" "$base_med" "$sp_med" "$perf_med"
	row "workload only, best" "$ibase_best" "$isp_best" "$iperf_best"
	row "workload only, median" "$ibase_med" "$isp_med" "$iperf_med"
	echo
	echo "*Whole command*: the profiler's start-up and everything it does after the"
	echo "workload exits (stackprof: symbolizing and writing the folded file and report;"
	echo "perf record: writing perf.data and its build-id pass, not perf script/report)."
	echo "*Workload only*: cpushare's own run time, i.e. the slowdown while profiled."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section oncpu-overhead "oncpu overhead" tests/bench/oncpu_overhead.sh "$table"
fi
