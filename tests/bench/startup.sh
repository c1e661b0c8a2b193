#!/usr/bin/env bash
# Measures how soon a system-wide `stackprof oncpu -F 997 -g` is useful:
#   - the time from launching it to its first sample processed: with
#     STACKPROF_BENCH_FIRST_SAMPLE=1 the session prints the CLOCK_MONOTONIC
#     time at which its first sample came out of the ordering queue and went
#     through the profiler; the launch time is read on the same clock (by perl,
#     which then execs stackprof);
#   - the wall time of `stackprof oncpu -F 997 -g -d 1 -o FILE`, from launch to
#     a complete report and folded file (the same run);
# and, for perf, whose first sample cannot be observed from outside:
#   - the wall time of `perf record -F 997 -g -a -B -- sleep 0`: starting and
#     stopping (-B: no build-id pass, see lib.sh);
#   - the wall time of `perf record -F 997 -g -a -B -- sleep 1` followed by
#     `perf script | stackprof fold`: a folded file of one second of every CPU,
#     the comparable of stackprof's `-d 1`.
#
# Usage: tests/bench/startup.sh [--write] [--runs R] [--build DIR]
#   --write     also replace the startup section of docs/benchmarks.md
#   --runs R    runs per configuration (default 5), interleaved round-robin
#   --build DIR build directory holding stackprof (default: build)
# Needs root (system-wide perf events), perf and perl. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=5
build=build
freq=997
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "startup: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
bench_require startup "$build" "$stackprof"
perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e 1 2>/dev/null ||
	{ echo "startup: perl with Time::HiRes needed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/startup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "startup: $*" >&2
	[ ! -s "$tmp/last.log" ] || cat "$tmp/last.log" >&2
	exit 1
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'; }

# stackprof -d 1: appends "first_sample_ms complete_s" to $tmp/stackprof.
one_stackprof() {
	local t0 total first
	t0=$EPOCHREALTIME
	# perl reads the clock, then becomes stackprof: nothing runs in between
	# but the exec itself.
	STACKPROF_BENCH_FIRST_SAMPLE=1 perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC \
		-e 'printf STDERR "launch %.0f\n", clock_gettime(CLOCK_MONOTONIC) * 1e9; exec @ARGV or die' \
		"$stackprof" oncpu -F "$freq" -g -d 1 -o "$tmp/sp.folded" >"$tmp/last.log" 2>&1 ||
		fail "stackprof oncpu -d 1 failed"
	total=$(since "$t0")
	first=$(awk '$1 == "launch" { l = $2 }
		/first sample processed at/ { for (i = 1; i <= NF; i++) if ($i == "at") f = $(i + 1) }
		END { if (l && f) printf "%.1f\n", (f - l) / 1e6 }' "$tmp/last.log")
	[ -n "$first" ] || fail "no first-sample line from stackprof"
	[ -s "$tmp/sp.folded" ] || fail "stackprof wrote no folded file"
	echo "$first $total" >>"$tmp/stackprof"
	echo "  run $1 stackprof: first sample after $first ms, -d 1 complete after $total s" >&2
}

# perf record -a -- sleep 0: appends "wall_s" to $tmp/perf0.
one_perf0() {
	local t0
	t0=$EPOCHREALTIME
	perf record -q -F "$freq" -g -a -B -o "$tmp/perf0.data" -- sleep 0 >"$tmp/last.log" 2>&1 ||
		fail "perf record -a -- sleep 0 failed"
	since "$t0" >>"$tmp/perf0"
	echo "  run $1 perf record -a -- sleep 0: $(tail -1 "$tmp/perf0") s" >&2
}

# perf record -a -- sleep 1, perf script | stackprof fold: appends "wall_s" to $tmp/perf1.
one_perf1() {
	local t0
	t0=$EPOCHREALTIME
	perf record -q -F "$freq" -g -a -B -o "$tmp/perf1.data" -- sleep 1 >"$tmp/last.log" 2>&1 ||
		fail "perf record -a -- sleep 1 failed"
	perf script -i "$tmp/perf1.data" 2>/dev/null | "$stackprof" fold >"$tmp/perf.folded" ||
		fail "perf script | stackprof fold failed"
	[ -s "$tmp/perf.folded" ] || fail "perf script | stackprof fold wrote nothing"
	since "$t0" >>"$tmp/perf1"
	echo "  run $1 perf record -a -- sleep 1 + perf script | fold: $(tail -1 "$tmp/perf1") s" >&2
}

echo "startup: $runs runs per configuration, -F $freq -g, all CPUs" >&2
for cfg in stackprof perf0 perf1; do : >"$tmp/$cfg"; done
for ((i = 1; i <= runs; i++)); do
	one_stackprof "$i"
	one_perf0 "$i"
	one_perf1 "$i"
done

bench_result startup.first_sample_ms "stackprof oncpu -F $freq -g (all CPUs), launch to first sample processed" \
	ms "$tmp/stackprof" 1
bench_result startup.complete_s "stackprof oncpu -F $freq -g -d 1 -o FILE (all CPUs), launch to exit" \
	s "$tmp/stackprof" 2
bench_result startup.complete_s "perf record -F $freq -g -a -B -- sleep 0, launch to exit" s "$tmp/perf0" 1
bench_result startup.complete_s \
	"perf record -F $freq -g -a -B -- sleep 1, then perf script | stackprof fold, launch to folded file" \
	s "$tmp/perf1" 1

first=$(bench_median "$tmp/stackprof" 1 %.1f)
sp_d1=$(bench_median "$tmp/stackprof" 2 %.3f)
p0=$(bench_median "$tmp/perf0" 1 %.3f)
p1=$(bench_median "$tmp/perf1" 1 %.3f)
bench_headline startup.first_sample \
	"startup: stackprof's launch to first sample processed; perf record -a -B -- sleep 0 start and stop (not the same measure)" \
	"$first" "$first ms vs $(awk -v p="$p0" 'BEGIN { printf "%.0f", 1000 * p }') ms" - -
r=$(awk -v s="$sp_d1" -v p="$p1" 'BEGIN { printf "%.3f", (p > 0 ? s / p : 0) }')
bench_headline startup.one_second \
	"startup: folded stacks of 1 s of every CPU, launch to file: stackprof -d 1 / perf record -a -B -- sleep 1 + perf script | fold" \
	"$r" "$(printf '%.2fx (%s s vs %s s)' "$r" "$sp_d1" "$p1")" - -

cell() { echo "$(bench_median "$1" "$2" "$3") ($(bench_range "$1" "$2" "$3"))"; }
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "System-wide, \`-F $freq -g\`, median (min-max) of $runs interleaved runs."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d),"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "| measure | time |"
	echo "|---|---|"
	echo "| \`stackprof oncpu\`: launch to first sample processed | $(cell "$tmp/stackprof" 1 %.1f) ms |"
	echo "| \`stackprof oncpu -d 1 -o FILE\`: launch to exit, report and folded file written | $(cell "$tmp/stackprof" 2 %.3f) s |"
	echo "| \`perf record -a -B -- sleep 0\`: launch to exit (start and stop) | $(cell "$tmp/perf0" 1 %.3f) s |"
	echo "| \`perf record -a -B -- sleep 1\`, then \`perf script \\| stackprof fold\`: launch to folded file | $(cell "$tmp/perf1" 1 %.3f) s |"
	echo
	echo "What is compared: stackprof's first sample is timed inside stackprof"
	echo "(\`STACKPROF_BENCH_FIRST_SAMPLE=1\` prints the CLOCK_MONOTONIC time at which the"
	echo "first sample has gone through the ordering queue and the profiler; the launch is"
	echo "read on the same clock just before exec). perf offers no such hook, so its row is"
	echo "the whole start and stop of a recording of nothing (\`sleep 0\`), writing perf.data"
	echo "included (\`-B\`: no build-id pass, which perf 6.1 has crashed in here): an upper"
	echo "bound on its start-up, not its time to a first sample. The \`-d 1\` and \`sleep 1\`"
	echo "rows both end with folded stacks of one second of every CPU in a file, so they"
	echo "compare like with like."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section startup "startup" tests/bench/startup.sh "$table"
fi
