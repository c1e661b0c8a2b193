#!/usr/bin/env bash
# Measures what offcpu profiling costs, and how much of a context-switch storm
# it keeps up with, side by side with perf. The load is pingpong (threads
# passing a byte back and forth over pipes), raised step by step: a list of
# levels, each N thread pairs at full speed or paced to R round trips per
# second per pair. At each level pingpong runs for SECONDS:
#   - alone;
#   - while `stackprof offcpu -g` runs on every CPU (no target);
#   - while `perf record -e sched:sched_switch -g -a -B` runs (-B: no build-id
#     pass at the end, which perf 6.1 has been seen to crash in on these
#     recordings; it only lowers perf's CPU time).
# Each profiler starts 0.5 s before pingpong and is stopped with SIGINT after
# it. Measured: round trips per second, the workload's context switches per
# second, the events each tool lost, its CPU time (user + system, /usr/bin/time)
# per context switch on the machine meanwhile (/proc/stat ctxt) and per event
# it read (stackprof: records read, from -v; perf: samples written). The
# result: the highest switch rate at which stackprof lost nothing.
#
# Usage: tests/bench/offcpu_pingpong.sh [--write] [--runs R] [--seconds N]
#                                       [--levels LIST] [--build DIR]
#   --write        also replace the offcpu-overhead section of docs/benchmarks.md
#   --runs R       runs per configuration and level (default 3), interleaved
#   --seconds N    length of each pingpong run (default 3)
#   --levels LIST  loads, lightest first: PAIRS or PAIRS@RATE, comma-separated
#                  (default 1@2000,1@20000,1,2,4,8)
#   --build DIR    build directory holding stackprof (default: build)
# Needs root (perf events), perf and /usr/bin/time. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
secs=3
levels=1@2000,1@20000,1,2,4,8
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--seconds) secs="$2"; shift ;;
	--levels) levels="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "offcpu_pingpong: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
pingpong="$build/tests/workloads/pingpong"
bench_require offcpu_pingpong "$build" "$stackprof" "$pingpong"
[ -x /usr/bin/time ] || { echo "offcpu_pingpong: /usr/bin/time not installed (package time)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/offcpu-pingpong.XXXXXX)
cleanup() {
	bench_bg_kill
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "offcpu_pingpong: $*" >&2
	[ ! -s "$tmp/last.log" ] || cat "$tmp/last.log" >&2
	exit 1
}

# pingpong's arguments for a level "PAIRS" or "PAIRS@RATE".
level_args() {
	local pairs=${1%@*} rate=
	[ "$1" = "$pairs" ] || rate=${1#*@}
	echo "--pairs $pairs${rate:+ --rate $rate}"
}
# A level in words.
level_name() {
	local pairs=${1%@*} s
	s="$pairs pair$([ "$pairs" = 1 ] || echo s)"
	if [ "$1" = "$pairs" ]; then echo "$s, full speed"; else echo "$s, ${1#*@} round trips/s each"; fi
}

ctxt() { awk '$1 == "ctxt" { print $2 }' /proc/stat; }

# Runs pingpong at level $1 (output in $tmp/last.log, truth in $tmp/truth)
# and prints "round_trips_per_s workload_switches_per_s".
run_pingpong() {
	local args
	read -ra args < <(level_args "$1")
	rm -f "$tmp/truth"
	"$pingpong" "${args[@]}" --truth "$tmp/truth" "$secs" >"$tmp/last.log" 2>&1 ||
		fail "pingpong ${args[*]} $secs failed"
	[ -s "$tmp/truth" ] || fail "pingpong wrote no truth"
	# pingpong: thread ROLE COMM TID WALL_NS CPU_NS RUN_DELAY_NS TIMESLICES STEAL_NS
	# pingpong: ROUNDS round trips in SECS s (RATE/s)
	awk '
		$2 == "thread" { slices += $9; wall = $6 > wall ? $6 : wall }
		$3 == "round" { rounds = $2; s = $6 }
		END { printf "%.0f %.0f\n", rounds / s, slices / (wall / 1e9) }' "$tmp/truth"
}

# One run of configuration $1 at level $2: appends to $tmp/LEVEL.CFG
# "rate switches_per_s lost cpu_s events machine_switches peak_rss_kb".
one() {
	local cfg=$1 level=$2 rate sw lost=- cpu=- rss=- events=- c0 c1
	if [ "$cfg" = base ]; then
		read -r rate sw < <(run_pingpong "$level")
		echo "$rate $sw - - - - -" >>"$tmp/$level.$cfg"
		echo "  run $3 $(level_name "$level"), alone: $rate round trips/s, $sw switches/s" >&2
		return
	fi
	c0=$(ctxt)
	case $cfg in
	stackprof)
		bench_bg_start "$tmp/time.bg" "$tmp/prof.log" \
			"$stackprof" -v offcpu -g -o "$tmp/sp.folded" || fail "cannot start stackprof"
		;;
	perf)
		bench_bg_start "$tmp/time.bg" "$tmp/prof.log" \
			perf record -e sched:sched_switch -g -a -B -o "$tmp/perf.data" || fail "cannot start perf"
		;;
	esac
	sleep 0.5
	read -r rate sw < <(run_pingpong "$level")
	bench_bg_stop || { cp "$tmp/prof.log" "$tmp/last.log"; fail "$cfg failed"; }
	c1=$(ctxt)
	read -r cpu rss < <(bench_cpu_rss "$tmp/time.bg")
	case $cfg in
	stackprof)
		lost=$(bench_lost_stackprof "$tmp/prof.log")
		# stackprof: N records, M samples, ...
		events=$(awk '$1 == "stackprof:" && $3 == "records," { print $2; exit }' "$tmp/prof.log")
		;;
	perf)
		# One pass over perf.data: a line per sample, and the LOST records'
		# counts (as bench_lost_perf sums them). perf record -B prints no
		# sample count of its own.
		read -r lost events < <(perf script -i "$tmp/perf.data" --show-lost-events -F time 2>/dev/null |
			awk '/PERF_RECORD_LOST / { n += $NF; next } NF { s++ } END { print n + 0, s + 0 }')
		;;
	esac
	[ -n "$events" ] || { cp "$tmp/prof.log" "$tmp/last.log"; fail "$cfg: no event count"; }
	echo "$rate $sw $lost $cpu $events $((c1 - c0)) $rss" >>"$tmp/$level.$cfg"
	echo "  run $3 $(level_name "$level"), $cfg: $rate round trips/s, $sw switches/s," \
		"lost $lost, CPU $cpu s for $events events and $((c1 - c0)) switches" >&2
}

IFS=, read -ra levs <<<"$levels"
echo "offcpu_pingpong: pingpong $secs s at ${#levs[@]} levels, $runs runs per configuration" >&2
for level in "${levs[@]}"; do
	level_args "$level" >/dev/null
	for cfg in base stackprof perf; do : >"$tmp/$level.$cfg"; done
	for ((i = 1; i <= runs; i++)); do
		for cfg in base stackprof perf; do one "$cfg" "$level" "$i"; done
	done
done

# Derived per-run columns: 8 = µs of CPU per machine switch, 9 = µs per event.
for level in "${levs[@]}"; do
	for cfg in stackprof perf; do
		awk '{ printf "%s %.3f %.3f\n", $0, ($6 > 0 ? 1e6 * $4 / $6 : 0), ($5 > 0 ? 1e6 * $4 / $5 : 0) }' \
			"$tmp/$level.$cfg" >"$tmp/x" && mv "$tmp/x" "$tmp/$level.$cfg"
	done
done

# The highest workload switch rate (median) at which CFG lost nothing in any
# run, and its level; "0 -" when it lost events at every level.
zero_loss() {
	local level best=0 at=- sw
	for level in "${levs[@]}"; do
		[ "$(bench_max "$tmp/$level.$1" 3)" = 0 ] || continue
		sw=$(bench_median "$tmp/$level.$1" 2 %.0f)
		if [ "$sw" -gt "$best" ]; then best=$sw; at=$level; fi
	done
	echo "$best $at"
}
read -r sp_zero sp_zero_at < <(zero_loss stackprof)
read -r perf_zero perf_zero_at < <(zero_loss perf)

for level in "${levs[@]}"; do
	name="pingpong $(level_args "$level") $secs"
	bench_result offcpu.round_trips_per_s "alone, $name" "1/s" "$tmp/$level.base" 1
	bench_result offcpu.switches_per_s "alone, $name" "1/s" "$tmp/$level.base" 2
	for cfg in stackprof perf; do
		case $cfg in
		stackprof) tool="stackprof offcpu -g (all CPUs)" ;;
		perf) tool="perf record -e sched:sched_switch -g -a -B" ;;
		esac
		bench_result offcpu.round_trips_per_s "$tool, $name" "1/s" "$tmp/$level.$cfg" 1
		bench_result offcpu.switches_per_s "$tool, $name" "1/s" "$tmp/$level.$cfg" 2
		bench_result offcpu.events_lost "$tool, $name" events "$tmp/$level.$cfg" 3
		bench_result offcpu.cpu_s "$tool, $name" s "$tmp/$level.$cfg" 4
		bench_result offcpu.events "$tool, $name" events "$tmp/$level.$cfg" 5
		bench_result offcpu.cpu_us_per_switch "$tool, $name" us "$tmp/$level.$cfg" 8
		bench_result offcpu.cpu_us_per_event "$tool, $name" us "$tmp/$level.$cfg" 9
		bench_result offcpu.peak_rss_kb "$tool, $name" KB "$tmp/$level.$cfg" 7
	done
done
bench_result_value offcpu.zero_loss_switches_per_s "stackprof offcpu -g (all CPUs)" "1/s" "$sp_zero"
bench_result_value offcpu.zero_loss_switches_per_s "perf record -e sched:sched_switch -g -a -B" "1/s" "$perf_zero"
zr=$(awk -v s="$sp_zero" -v p="$perf_zero" 'BEGIN { if (p > 0) printf "%.3f", s / p; else print "-" }')
bench_headline offcpu.zero_loss \
	"offcpu: highest pingpong switch rate with no event lost, stackprof / perf record" "$zr" \
	"$(if [ "$zr" = - ]; then echo "$sp_zero/s vs $perf_zero/s"; else printf '%.2fx (%s/s vs %s/s)' "$zr" "$sp_zero" "$perf_zero"; fi)" - -
# CPU per switch compared at the lightest full-speed level (the classic storm).
ref=
for level in "${levs[@]}"; do
	if [ "${level%@*}" = "$level" ]; then ref=$level; break; fi
done
[ -n "$ref" ] || ref=${levs[0]}
sp_us=$(bench_median "$tmp/$ref.stackprof" 8 %.3f)
perf_us=$(bench_median "$tmp/$ref.perf" 8 %.3f)
cpu_ratio=$(awk -v s="$sp_us" -v p="$perf_us" 'BEGIN { printf "%.3f", (p > 0 ? s / p : 0) }')
bench_headline offcpu.cpu_per_switch \
	"offcpu: CPU per context switch, stackprof / perf record ($(level_name "$ref"))" "$cpu_ratio" \
	"$(printf '%.2fx (%s µs vs %s µs)' "$cpu_ratio" "$sp_us" "$perf_us")" - -

row() { # level cfg label
	local f=$tmp/$1.$2 base
	base=$(bench_median "$tmp/$1.base" 1 %.0f)
	awk -v n="$3" -v r="$(bench_median "$f" 1 %.0f)" -v b="$base" -v s="$(bench_median "$f" 2 %.0f)" \
		-v l="$(bench_max "$f" 3)" -v c="$(bench_median "$f" 4 %.2f)" \
		-v us="$(bench_median "$f" 8 %.2f)" -v ue="$(bench_median "$f" 9 %.2f)" 'BEGIN {
		if (l == "-") us = ue = "-"
		printf "| %s | %d | %.2fx | %d | %s | %s | %s | %s |\n", n, r, (r > 0 ? b / r : 0), s, l, c, us, ue }'
}
zero_text() { # switches level
	if [ "$2" = - ]; then echo "none of these levels"; else echo "$1/s ($(level_name "$2"))"; fi
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "pingpong (thread pairs passing a byte over two pipes) for $secs s at each load, median"
	echo "of $runs interleaved runs; each profiler runs on every CPU, from 0.5 s before pingpong"
	echo "starts to SIGINT after it ends. Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r)."
	echo "$(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "Highest pingpong switch rate with no event lost in any run: stackprof"
	echo "$(zero_text "$sp_zero" "$sp_zero_at"); perf record $(zero_text "$perf_zero" "$perf_zero_at")."
	echo
	echo "| load | round trips/s | slowdown | context switches/s | events lost | CPU s | µs CPU per switch | µs CPU per event |"
	echo "|---|---|---|---|---|---|---|---|"
	for level in "${levs[@]}"; do
		row "$level" base "$(level_name "$level"): pingpong alone"
		row "$level" stackprof "... \`stackprof offcpu -g\`"
		row "$level" perf "... \`perf record -e sched:sched_switch -g -a -B\`"
	done
	echo
	echo "Slowdown is the rate alone over the rate under the tool. Context switches per second"
	echo "are pingpong's threads' timeslices (/proc/thread-self/schedstat) over their wall time."
	echo "Lost is the worst run: stackprof's \`# lost\` line (records + samples), perf's"
	echo "PERF_RECORD_LOST counts. CPU is the tool's user + system time from start to exit,"
	echo "per context switch of the whole machine meanwhile (/proc/stat ctxt) and per event:"
	echo "for stackprof every record it read (\`-v\`), for perf every sample it wrote; perf's"
	echo "time leaves out reading perf.data back (\`-B\`: not even for build-ids), which"
	echo "stackprof's includes. On an idle machine a waking thread often waits for a CPU to"
	echo "leave its idle state, so a profiler that keeps CPUs busy can even raise the rate:"
	echo "compare the runs, not the ratio alone."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section offcpu-overhead "offcpu overhead" tests/bench/offcpu_pingpong.sh "$table"
fi
