#!/usr/bin/env bash
# Runs every benchmark, each measurement beside its peer in the same run
# (stackprof and perf, or the floor, or heaptrack), and gathers the results:
#   oncpu    tests/bench/oncpu_overhead.sh   workload slowdown, pipeline CPU, RSS
#   offcpu   tests/bench/offcpu_pingpong.sh  switch storm: events lost, CPU per switch
#   memleak  tests/bench/memleak_overhead.sh ns per malloc/free pair vs bare uprobes
#   iowrite  tests/bench/iowrite_overhead.sh ns per write vs perf and the bare tracepoints
#   fold     tests/bench/fold_throughput.sh  MB/s of perf script text folded
#   startup  tests/bench/startup.sh          launch to first sample, to a -d 1 report
# Each script prints its table; a summary of the headline ratios, and whether
# each target is met, comes last. About 6 minutes on a 2-CPU machine
# (--quick: about one). Benchmarks are not tests: this exits non-zero only
# when something failed to run, never for a number.
#
# Usage: scripts/bench.sh [--quick] [--write] [--only NAME[,NAME..]]
#                         [--reference PATH] [--build DIR]
#   --quick           tiny sizes and one run each: checks that everything runs
#   --write           update docs/benchmarks.md (each benchmark's section and the
#                     summary) and bench-results.json at the repository root
#   --only NAMES      run only these benchmarks (the others' results are kept)
#   --reference PATH  the reference collapser (stackcollapse-perf.pl) for fold
#   --build DIR       build directory holding stackprof (default: build)
# Needs root, perf, /usr/bin/time, perl and python3; heaptrack is optional.
# Run it on a quiet machine: anything else running skews every number.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

all="oncpu offcpu memleak iowrite fold startup"
quick=0
write=0
only=
reference=
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--write) write=1 ;;
	--only) only="$2"; shift ;;
	--reference) reference="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

names=$all
if [ -n "$only" ]; then
	names=
	for n in ${only//,/ }; do
		case " $all " in
		*" $n "*) names="$names $n" ;;
		*) echo "bench: no benchmark named $n (names: $all)" >&2; exit 2 ;;
		esac
	done
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (system-wide perf events, uprobes and tracepoints need it)" >&2
	exit 1
fi
for tool in perf perl python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not installed (package time)" >&2; exit 1; }
if [ ! -x "$build/stackprof" ]; then
	echo "bench: $build/stackprof not built: building" >&2
	cmake -S . -B "$build" >/dev/null && cmake --build "$build" -j2 >/dev/null
fi
if [ "$quick" -eq 1 ] && [ "$write" -eq 1 ]; then
	echo "bench: --quick --write: the numbers written will be marked as a quick run" >&2
fi

# Each benchmark's script and arguments, full or quick, and its time limit in
# seconds (a bound against hangs, far above its usual time).
args() {
	local n=$1 q=$quick
	case $n in
	oncpu)
		echo tests/bench/oncpu_overhead.sh
		if [ "$q" -eq 1 ]; then echo --runs 1 --iterations 5; else echo --runs 5 --seconds 2; fi ;;
	offcpu)
		echo tests/bench/offcpu_pingpong.sh
		if [ "$q" -eq 1 ]; then echo --runs 1 --seconds 0.5 --levels 1@2000,1,2
		else echo --runs 3 --seconds 1.5; fi ;;
	memleak)
		echo tests/bench/memleak_overhead.sh
		if [ "$q" -eq 1 ]; then echo --runs 1 --pairs 20000; else echo --runs 3 --pairs 200000; fi ;;
	iowrite)
		echo tests/bench/iowrite_overhead.sh
		if [ "$q" -eq 1 ]; then echo --runs 1 --writes 30000; else echo --runs 3 --writes 300000; fi ;;
	fold)
		echo tests/bench/fold_throughput.sh
		if [ "$q" -eq 1 ]; then echo --runs 1 --size 10; else echo --runs 3 --size 400; fi ;;
	startup)
		echo tests/bench/startup.sh
		if [ "$q" -eq 1 ]; then echo --runs 1; else echo --runs 5; fi ;;
	esac
}
limit() { if [ "$quick" -eq 1 ]; then echo 180; else echo 420; fi; }

tmp=$(mktemp -d /tmp/bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export BENCH_RESULTS="$tmp/results.jsonl"
: >"$BENCH_RESULTS"

start=$EPOCHREALTIME
ran=
failed=
for n in $names; do
	{ read -r script; read -ra a; } < <(args "$n")
	[ "$write" -eq 0 ] || a+=(--write)
	[ "$n" != fold ] || [ -z "$reference" ] || a+=(--reference "$reference")
	a+=(--build "$build")
	echo "bench: $n: $script ${a[*]}" >&2
	t0=$EPOCHREALTIME
	status=0
	timeout -k 10 "$(limit)" bash "$script" "${a[@]}" >"$tmp/$n.md" || status=$?
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	ran="$ran,$n"
	if [ "$status" -ne 0 ]; then
		[ "$status" -ne 124 ] || echo "bench: $n: still running after $(limit) s: stopped" >&2
		echo "bench: $n: FAILED (exit $status) after $secs s" >&2
		failed="$failed,$n"
		continue
	fi
	echo >&2
	cat "$tmp/$n.md"
	echo
	echo "bench: $n: done in $secs s" >&2
done
total=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

merge=()
json=()
if [ "$write" -eq 1 ]; then
	json=(--json bench-results.json)
	[ -z "$only" ] || merge=(--merge bench-results.json)
fi
qflag=()
[ "$quick" -eq 0 ] || qflag=(--quick)
status=0
summary=$(python3 tests/bench/results.py --lines "$BENCH_RESULTS" --ran "${ran#,}" \
	--failed "${failed#,}" --seconds "$total" "${merge[@]}" "${json[@]}" "${qflag[@]}") || status=$?
if [ "$status" -ne 0 ]; then
	echo "bench: could not gather the results" >&2
	exit 1
fi
echo "## Summary"
echo
echo "$summary"
if [ "$write" -eq 1 ]; then
	bench_write_section summary "Summary" scripts/bench.sh "$summary"
	echo "bench: wrote bench-results.json" >&2
fi

echo "bench: all done in $total s" >&2
if [ -n "$failed" ]; then
	echo "bench: failed to run: ${failed#,}" >&2
	exit 1
fi
