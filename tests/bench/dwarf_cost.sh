#!/usr/bin/env bash
# Measures what each call-graph mode costs per sample on a program built
# without frame pointers (cpushare_nofp): stackprof's own CPU time per sample
# while profiling (attached with -p to a busy cpushare_nofp for SECONDS,
# `oncpu -F 997`; start-up and report left out), the unwinding time, frames
# and stack bytes per sample stackprof reports with -v, the user stacks cut
# short, and the slowdown of the profiled program itself (`cpushare_nofp
# --iterations N` launched under each mode: the kernel walks or copies the
# stack in the program's own time).
#
# Usage: tests/bench/dwarf_cost.sh [--write] [--runs R] [--seconds S] [--build DIR]
#   --write       also replace the dwarf-cost section of docs/benchmarks.md
#   --runs R      runs per mode (default 3), interleaved round-robin
#   --seconds S   length of each attached run (default 5)
#   --build DIR   build directory holding stackprof and the workloads (default: build)
# Needs root (perf events). Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
secs=5
build=build
freq=997
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--seconds) secs="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "dwarf_cost: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
nofp="$build/tests/workloads/cpushare_nofp"
bench_require dwarf_cost "$build" "$stackprof" "$nofp"

tmp=$(mktemp -d /tmp/dwarf-cost.XXXXXX)
target=
cleanup() {
	[ -z "$target" ] || kill "$target" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# name and stackprof arguments of each mode, in table order
modes=(none fp dwarf4k dwarf dwarf64k)
declare -A args=(
	[none]=""
	[fp]="-g"
	[dwarf4k]="--call-graph dwarf,4096"
	[dwarf]="--call-graph dwarf"
	[dwarf64k]="--call-graph dwarf,65528"
)
declare -A label=(
	[none]="no call graph"
	[fp]="\`-g\` (frame pointers)"
	[dwarf4k]="\`--call-graph dwarf,4096\`"
	[dwarf]="\`--call-graph dwarf\` (8192)"
	[dwarf64k]="\`--call-graph dwarf,65528\`"
)

# One attached run of mode $1: appends "samples cpu_s unwind_us frames bytes cut"
# to $tmp/$1.attach.
attached() {
	local mode=$1 cpu samples unwind frames bytes cut
	"$nofp" 600 &
	target=$!
	sleep 0.3
	# shellcheck disable=SC2086 # the mode's arguments are words
	"$stackprof" -v oncpu -F "$freq" ${args[$mode]} -p "$target" -d "$secs" \
		-o "$tmp/attach.folded" >"$tmp/out" 2>"$tmp/err" || {
		echo "dwarf_cost: stackprof failed in mode $mode" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	kill "$target"
	wait "$target" 2>/dev/null || true
	target=
	cpu=$(sed -n 's/.*CPU while profiling: \([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2/p' \
		"$tmp/err" | awk '{ print $1 + $2 }')
	samples=$(sed -n 's/^# oncpu: \([0-9]*\) samples.*/\1/p' "$tmp/out")
	cut=$(sed -n 's/^# \([0-9]*\) of \([0-9]*\) user stacks were cut short.*/\1 \2/p' "$tmp/out")
	cut=$(awk -v c="${cut:-0 0}" 'BEGIN { split(c, a, " "); printf "%.1f", a[2] ? 100 * a[1] / a[2] : 0 }')
	frames=$(sed -n 's/.*callgraph: [0-9]* user stacks, \([0-9.]*\) frames each.*/\1/p' "$tmp/err")
	unwind=$(sed -n 's/.*stacks unwound in [0-9.]* s: \([0-9.]*\) us and.*/\1/p' "$tmp/err")
	bytes=$(sed -n 's/.* frames each, \([0-9]*\) stack bytes copied each.*/\1/p' "$tmp/err")
	echo "$samples $cpu ${unwind:--} ${frames:--} ${bytes:--} $cut" >>"$tmp/$mode.attach"
	echo "  $mode: $samples samples, stackprof CPU $cpu s, unwind ${unwind:--} us, frames ${frames:--}, bytes ${bytes:--}, cut $cut%" >&2
}

# One launched run of mode $1 ("alone": no stackprof): appends the workload's own time.
launched() {
	local mode=$1 inner
	if [ "$mode" = alone ]; then
		"$nofp" --iterations "$iters" >"$tmp/last.log" 2>&1
	else
		# shellcheck disable=SC2086
		"$stackprof" oncpu -F "$freq" ${args[$mode]} -o "$tmp/launch.folded" -- \
			"$nofp" --iterations "$iters" >"$tmp/last.log" 2>&1
	fi
	inner=$(sed -n 's/^cpushare: [0-9]* rounds in \([0-9.]*\) s$/\1/p' "$tmp/last.log")
	[ -n "$inner" ] || { echo "dwarf_cost: no run time from cpushare_nofp ($mode)" >&2; exit 1; }
	echo "$inner" >>"$tmp/$mode.launch"
	echo "  $mode: workload $inner s" >&2
}

load0=$(cut -d' ' -f1 /proc/loadavg)
probe=20
t0=$EPOCHREALTIME
"$nofp" --iterations "$probe" 2>/dev/null
iters=$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v p="$probe" 'BEGIN { n = int(3.0 * p / (b - a)); print (n < 1 ? 1 : n) }')
echo "dwarf_cost: $runs runs per mode: -p for $secs s at $freq Hz; cpushare_nofp --iterations $iters" >&2

for mode in "${modes[@]}" alone; do : >"$tmp/$mode.attach"; : >"$tmp/$mode.launch"; done
for ((i = 1; i <= runs; i++)); do
	for mode in "${modes[@]}"; do attached "$mode"; done
	for mode in alone "${modes[@]}"; do launched "$mode"; done
done

# The workload's best run: the one least disturbed by anything else on the machine.
bench_min() { sort -n "$1" | head -1; }
base=$(bench_min "$tmp/alone.launch")
# stackprof CPU per sample of each run, then medians per mode
for mode in "${modes[@]}"; do
	awk '{ printf "%.2f\n", $1 ? 1e6 * $2 / $1 : 0 }' "$tmp/$mode.attach" >"$tmp/$mode.per"
done
none_per=$(bench_median "$tmp/none.per" 1 %.2f)

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "\`stackprof oncpu -F $freq\` attached with \`-p\` for $secs s to \`cpushare_nofp\` (built"
	echo "\`-O2 -fomit-frame-pointer\`), medians of $runs interleaved runs per mode; the"
	echo "workload columns are the best of $runs runs of \`cpushare_nofp --iterations $iters\`"
	echo "launched under each mode."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d);"
	echo "load average $load0 at the start and $(cut -d' ' -f1 /proc/loadavg) at the end (other work ran beside)."

	echo
	echo "| mode | samples | stackprof CPU per sample | over no call graph | unwinding per sample | frames per sample | stack bytes per sample | user stacks cut short | workload s | workload slowdown |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for mode in "${modes[@]}"; do
		per=$(bench_median "$tmp/$mode.per" 1 %.1f)
		work=$(bench_min "$tmp/$mode.launch")
		awk -v l="${label[$mode]}" -v n="$(bench_median "$tmp/$mode.attach" 1 %.0f)" \
			-v per="$per" -v none="$none_per" -v uw="$(bench_median "$tmp/$mode.attach" 3)" \
			-v fr="$(bench_median "$tmp/$mode.attach" 4)" \
			-v by="$(bench_median "$tmp/$mode.attach" 5 %.0f)" \
			-v cut="$(bench_median "$tmp/$mode.attach" 6)" -v w="$work" -v b="$base" 'BEGIN {
			printf "| %s | %s | %s us | %+.1f us | %s | %s | %s | %s%% | %s | %+.1f%% |\n",
				l, n, per, per - none, uw == "-" ? "-" : uw " us", fr, by, cut, w,
				100 * (w - b) / b }'
	done
	echo
	echo "*stackprof CPU per sample*: its user + system time while profiling (the poll loop,"
	echo "copying records out of the rings, decoding, ordering, unwinding, accounting; not"
	echo "start-up, symbolizing or the report; \`-v\` prints it) over the samples; *over no"
	echo "call graph* takes away what a sample without call chains costs."
	echo "*Unwinding per sample*: the wall-clock time stackprof measures around libdw's"
	echo "unwinding (first reads of each file's CFI included; it grows when the machine is"
	echo "busy). *Stack bytes per sample*: what the kernel copied, at most SIZE and never past"
	echo "the top of the stack (the record reserves SIZE either way). The workload without a"
	echo "profiler ran in $base s (best of $runs); its slowdown includes the kernel's work for"
	echo "each sample (walking frame pointers, or copying the stack) and stackprof competing"
	echo "for the 2 CPUs."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section dwarf-cost "call graphs: frame pointers vs DWARF" \
		tests/bench/dwarf_cost.sh "$table"
fi
