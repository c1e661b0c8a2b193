#!/usr/bin/env bash
# Measures what oncpu profiling costs a CPU-bound program, side by side with perf.
# The workload is `cpushare --iterations N` (a fixed amount of work, which
# prints its own run time), run:
#   - alone;
#   - under `stackprof oncpu -F 997 -g --` and `perf record -F 997 -g -B --`
#     (the profiler launches the workload): whole command and workload time;
#   - while a system-wide profiler runs on every CPU: `stackprof oncpu -F 997 -g`
#     (no target), and `perf record -F 997 -g -a` followed by
#     `perf script | stackprof fold`, the perf pipeline that gets the same
#     folded output (perf record -B: see lib.sh). Each profiler starts 0.5 s before the workload and is
#     stopped with SIGINT when it ends. Measured: the workload's slowdown, the
#     CPU time (user + system) of each pipeline end to end (stackprof's process;
#     perf record + perf script + fold summed), peak RSS, and the wall time from
#     the workload's end to the folded file.
# Targets: stackprof's system-wide slowdown no worse than perf's, its CPU time
# at most half the perf pipeline's. A missed target adds a profile of stackprof
# itself (perf record -a -g during one more system-wide run).
#
# Usage: tests/bench/oncpu_overhead.sh [--write] [--runs R] [--iterations N]
#                                      [--seconds S] [--build DIR]
#   --write         also replace the oncpu-overhead section of docs/benchmarks.md
#   --runs R        runs per configuration (default 5), interleaved round-robin
#   --iterations N  cpushare rounds (default: calibrated to S seconds)
#   --seconds S     the workload's calibrated length (default 3)
#   --build DIR     build directory holding stackprof (default: build)
# Needs root (system-wide perf events), perf and /usr/bin/time. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=5
iters=
target_s=3
build=build
freq=997
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--iterations) iters="$2"; shift ;;
	--seconds) target_s="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "oncpu_overhead: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
cpushare="$build/tests/workloads/cpushare"
bench_require oncpu_overhead "$build" "$stackprof" "$cpushare"
[ -x /usr/bin/time ] || { echo "oncpu_overhead: /usr/bin/time not installed (package time)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/oncpu-overhead.XXXXXX)
cleanup() {
	bench_bg_kill
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "oncpu_overhead: $*" >&2
	[ ! -s "$tmp/last.log" ] || cat "$tmp/last.log" >&2
	exit 1
}

# Wall time of one command in seconds; its output goes to $tmp/last.log.
wall() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >"$tmp/last.log" 2>&1 || fail "failed: $*"
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# cpushare's own run time from its output FILE.
inner_time() {
	local t
	t=$(sed -n 's/^cpushare: [0-9]* rounds in \([0-9.]*\) s$/\1/p' "$1")
	[ -n "$t" ] || fail "no run time from cpushare"
	echo "$t"
}

if [ -z "$iters" ]; then
	probe=20
	t=$(wall "$cpushare" --iterations "$probe")
	iters=$(awk -v t="$t" -v p="$probe" -v s="$target_s" \
		'BEGIN { n = int(s * p / t); print (n < 1 ? 1 : n) }')
fi
echo "oncpu_overhead: cpushare --iterations $iters, $runs runs per configuration, -F $freq -g" >&2

run_base() { "$cpushare" --iterations "$iters"; }
run_stackprof() { "$stackprof" oncpu -F "$freq" -g -o "$tmp/sp.folded" -- "$cpushare" --iterations "$iters"; }
run_perf() { perf record -q -F "$freq" -g -B -o "$tmp/perf.data" -- "$cpushare" --iterations "$iters"; }

# stackprof on every CPU while cpushare runs: appends
# "inner cpu_s rss_kb post_s" to $tmp/spsys.
one_spsys() {
	local inner post cpu rss
	STACKPROF_BENCH_FIRST_SAMPLE=1 bench_bg_start "$tmp/time.bg" "$tmp/spsys.log" \
		"$stackprof" oncpu -F "$freq" -g -o "$tmp/spsys.folded" || fail "cannot start stackprof"
	sleep 0.5
	"$cpushare" --iterations "$iters" >"$tmp/last.log" 2>&1 || fail "cpushare failed"
	inner=$(inner_time "$tmp/last.log")
	bench_bg_stop || { cp "$tmp/spsys.log" "$tmp/last.log"; fail "stackprof oncpu failed"; }
	post=$bench_bg_post
	grep -q "first sample processed" "$tmp/spsys.log" ||
		{ cp "$tmp/spsys.log" "$tmp/last.log"; fail "stackprof took no sample"; }
	cp "$tmp/spsys.log" "$tmp/stackprof.log"
	read -r cpu rss < <(bench_cpu_rss "$tmp/time.bg")
	echo "$inner $cpu $rss $post" >>"$tmp/spsys"
	echo "  run $1 stackprof system-wide: workload $inner s, CPU $cpu s, RSS $rss KB," \
		"folded $post s after" >&2
}

# perf record -a while cpushare runs, then perf script | stackprof fold:
# appends "inner cpu_s rss_record_kb rss_script_kb rss_fold_kb post_s
# cpu_record cpu_script cpu_fold" to $tmp/perfsys.
one_perfsys() {
	local inner t0 cr rr cs rs cf rf post
	bench_bg_start "$tmp/time.bg" "$tmp/perfsys.log" perf record -q -F "$freq" -g -a -B -o "$tmp/sys.data" ||
		fail "cannot start perf record"
	sleep 0.5
	"$cpushare" --iterations "$iters" >"$tmp/last.log" 2>&1 || fail "cpushare failed"
	inner=$(inner_time "$tmp/last.log")
	t0=$EPOCHREALTIME
	bench_bg_stop || { cp "$tmp/perfsys.log" "$tmp/last.log"; fail "perf record -a failed"; }
	read -r cr rr < <(bench_cpu_rss "$tmp/time.bg")
	/usr/bin/time -f "%U %S %M %e" -o "$tmp/time.script" perf script -i "$tmp/sys.data" 2>/dev/null |
		/usr/bin/time -f "%U %S %M %e" -o "$tmp/time.fold" "$stackprof" fold >"$tmp/perf.folded" ||
		fail "perf script | stackprof fold failed"
	post=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }')
	read -r cs rs < <(bench_cpu_rss "$tmp/time.script")
	read -r cf rf < <(bench_cpu_rss "$tmp/time.fold")
	[ -s "$tmp/perf.folded" ] || fail "perf script | stackprof fold wrote nothing"
	awk -v i="$inner" -v a="$cr" -v b="$cs" -v c="$cf" -v ra="$rr" -v rb="$rs" -v rc="$rf" -v p="$post" \
		'BEGIN { printf "%s %.2f %d %d %d %s %.2f %.2f %.2f\n", i, a + b + c, ra, rb, rc, p, a, b, c }' \
		>>"$tmp/perfsys"
	echo "  run $1 perf system-wide: workload $inner s, CPU $cr + $cs + $cf s" \
		"(record + script + fold), folded $post s after" >&2
}

cfgs="base stackprof perf spsys perfsys"
for cfg in $cfgs; do : >"$tmp/$cfg"; done
run_base >/dev/null 2>&1 # warm the page cache
for ((i = 1; i <= runs; i++)); do
	for cfg in base stackprof perf; do
		t=$(wall "run_$cfg")
		inner=$(inner_time "$tmp/last.log")
		echo "$t $inner" >>"$tmp/$cfg"
		echo "  run $i $cfg: $t s (workload $inner s)" >&2
	done
	one_spsys "$i"
	one_perfsys "$i"
done

# best and median of column COL (default 1) of one configuration's file
stats() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f\n", v[1], m }'
}
read -r base_best base_med < <(stats "$tmp/base")
read -r sp_best sp_med < <(stats "$tmp/stackprof")
read -r perf_best perf_med < <(stats "$tmp/perf")
read -r ibase_best ibase_med < <(stats "$tmp/base" 2)
read -r isp_best isp_med < <(stats "$tmp/stackprof" 2)
read -r iperf_best iperf_med < <(stats "$tmp/perf" 2)
read -r _ isps_med < <(stats "$tmp/spsys" 1)
read -r _ iperfs_med < <(stats "$tmp/perfsys" 1)

row() { # name base stackprof perf
	awk -v n="$1" -v b="$2" -v s="$3" -v p="$4" 'BEGIN {
		printf "| %s | %.3f | %.3f | %+.1f%% | %.3f | %+.1f%% | %.2f |\n",
			n, b, s, 100 * (s - b) / b, p, 100 * (p - b) / b, s / p }'
}
# "median (min-max)" of column COL of FILE, with FORMAT
cell() { echo "$(bench_median "$1" "$2" "$3") ($(bench_range "$1" "$2" "$3"))"; }

sp_cpu=$(bench_median "$tmp/spsys" 2 %.2f)
perf_cpu=$(bench_median "$tmp/perfsys" 2 %.2f)
sp_slow=$(awk -v s="$isps_med" -v b="$ibase_med" 'BEGIN { printf "%.4f", s / b - 1 }')
perf_slow=$(awk -v s="$iperfs_med" -v b="$ibase_med" 'BEGIN { printf "%.4f", s / b - 1 }')
cpu_ratio=$(awk -v s="$sp_cpu" -v p="$perf_cpu" 'BEGIN { printf "%.3f", (p > 0 ? s / p : 0) }')
slow_met=$(awk -v s="$sp_slow" -v p="$perf_slow" 'BEGIN { print (s <= p ? "yes" : "no") }')
cpu_met=$(awk -v r="$cpu_ratio" 'BEGIN { print (r <= 0.5 ? "yes" : "no") }')

cfg_sys="-F $freq -g, all CPUs, cpushare --iterations $iters"
bench_result oncpu.workload_s "alone" s "$tmp/base" 2
bench_result oncpu.workload_s "stackprof oncpu $cfg_sys" s "$tmp/spsys" 1
bench_result oncpu.workload_s "perf record -a -B $cfg_sys" s "$tmp/perfsys" 1
bench_result oncpu.workload_s "stackprof oncpu -F $freq -g -- cpushare" s "$tmp/stackprof" 2
bench_result oncpu.workload_s "perf record -F $freq -g -B -- cpushare" s "$tmp/perf" 2
bench_result oncpu.command_s "alone" s "$tmp/base" 1
bench_result oncpu.command_s "stackprof oncpu -F $freq -g -- cpushare" s "$tmp/stackprof" 1
bench_result oncpu.command_s "perf record -F $freq -g -B -- cpushare" s "$tmp/perf" 1
bench_result oncpu.pipeline_cpu_s "stackprof oncpu $cfg_sys" s "$tmp/spsys" 2
bench_result oncpu.pipeline_cpu_s "perf record -a -B + perf script + stackprof fold, $cfg_sys" s "$tmp/perfsys" 2
bench_result oncpu.pipeline_cpu_s "perf record -a -B alone, $cfg_sys" s "$tmp/perfsys" 7
bench_result oncpu.pipeline_cpu_s "perf script alone, $cfg_sys" s "$tmp/perfsys" 8
bench_result oncpu.pipeline_cpu_s "stackprof fold alone, $cfg_sys" s "$tmp/perfsys" 9
bench_result oncpu.peak_rss_kb "stackprof oncpu $cfg_sys" KB "$tmp/spsys" 3
bench_result oncpu.peak_rss_kb "perf record -a -B, $cfg_sys" KB "$tmp/perfsys" 3
bench_result oncpu.peak_rss_kb "perf script, $cfg_sys" KB "$tmp/perfsys" 4
bench_result oncpu.peak_rss_kb "stackprof fold, $cfg_sys" KB "$tmp/perfsys" 5
bench_result oncpu.folded_after_s "stackprof oncpu $cfg_sys" s "$tmp/spsys" 4
bench_result oncpu.folded_after_s "perf record -a -B + perf script + stackprof fold, $cfg_sys" s "$tmp/perfsys" 6
bench_headline oncpu.slowdown \
	"oncpu, all CPUs: workload slowdown, stackprof vs perf record -a" "$sp_slow" \
	"$(awk -v s="$sp_slow" -v p="$perf_slow" 'BEGIN { printf "%+.1f%% vs %+.1f%%", 100 * s, 100 * p }')" \
	"stackprof's slowdown <= perf's" "$slow_met"
bench_headline oncpu.pipeline_cpu \
	"oncpu, all CPUs: CPU time to folded stacks, stackprof / (perf record + perf script + fold)" \
	"$cpu_ratio" "$(printf '%.2fx (%s s vs %s s)' "$cpu_ratio" "$sp_cpu" "$perf_cpu")" "<= 0.50x" "$cpu_met"

# A missed target: where stackprof's time goes, from one more system-wide run.
profile=
if bench_missed "$slow_met" "$cpu_met"; then
	echo "oncpu_overhead: profiling stackprof during one more system-wide run" >&2
	mv "$tmp/spsys" "$tmp/spsys.kept"
	bench_self_profile "$tmp/self.data" one_spsys profile
	mv "$tmp/spsys.kept" "$tmp/spsys"
	profile=$(bench_profile_top "$tmp/self.data" stackprof 15)
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
event=$(grep -m1 '^# oncpu:' "$tmp/stackprof.log" 2>/dev/null | sed 's/^# oncpu: [0-9]* samples of \([^ ]*\).*/\1/' || true)
table=$(
	echo "\`cpushare --iterations $iters\` (fixed work), $runs interleaved runs of each configuration;"
	echo "sampling at $freq Hz with frame-pointer call graphs (\`-g\`), event ${event:-cpu-clock}."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d),"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "**All CPUs** (no target; the profiler starts 0.5 s before the workload, SIGINT after it),"
	echo "median (min-max):"
	echo
	echo "| | workload s | slowdown | pipeline CPU s | peak RSS MB | folded output s after the workload |"
	echo "|---|---|---|---|---|---|"
	awk -v b="$ibase_med" -v r="$(bench_range "$tmp/base" 2 %.3f)" 'BEGIN {
		printf "| cpushare alone | %.3f (%s) | - | - | - | - |\n", b, r }'
	awk -v n="\`stackprof oncpu -F $freq -g -o FILE\`" -v w="$(cell "$tmp/spsys" 1 %.3f)" \
		-v s="$sp_slow" -v c="$(cell "$tmp/spsys" 2 %.2f)" -v m="$(bench_max "$tmp/spsys" 3)" \
		-v p="$(cell "$tmp/spsys" 4 %.2f)" 'BEGIN {
		printf "| %s | %s | %+.1f%% | %s | %.1f | %s |\n", n, w, 100 * s, c, m / 1024, p }'
	awk -v n="\`perf record -F $freq -g -a -B\`, then \`perf script \\| stackprof fold\`" \
		-v w="$(cell "$tmp/perfsys" 1 %.3f)" -v s="$perf_slow" -v c="$(cell "$tmp/perfsys" 2 %.2f)" \
		-v m1="$(bench_max "$tmp/perfsys" 3)" -v m2="$(bench_max "$tmp/perfsys" 4)" \
		-v m3="$(bench_max "$tmp/perfsys" 5)" -v p="$(cell "$tmp/perfsys" 6 %.2f)" 'BEGIN {
		printf "| %s | %s | %+.1f%% | %s | %.1f + %.1f + %.1f | %s |\n",
			n, w, 100 * s, c, m1 / 1024, m2 / 1024, m3 / 1024, p }'
	echo
	echo "Pipeline CPU is user + system time: stackprof's process from start to exit; for perf,"
	echo "perf record ($(bench_median "$tmp/perfsys" 7 %.2f) s) + perf script ($(bench_median "$tmp/perfsys" 8 %.2f) s) + stackprof fold ($(bench_median "$tmp/perfsys" 9 %.2f) s),"
	echo "medians. Peak RSS is the largest run's (perf: record + script + fold). Neither"
	echo "includes the CPU time the kernel spends taking samples in the interrupted tasks:"
	echo "that shows as the workload's slowdown."
	echo "perf record runs with \`-B\` (no build-id pass at its end: perf 6.1 has crashed in it"
	echo "here), which only lowers perf's figures."
	echo
	met() { if [ "$1" = yes ]; then echo met; else echo "**missed**"; fi; }
	printf "Targets: slowdown no worse than perf's: %s (%s vs %s); pipeline CPU at most\n" \
		"$(met "$slow_met")" "$(awk -v v="$sp_slow" 'BEGIN { printf "%+.1f%%", 100 * v }')" \
		"$(awk -v v="$perf_slow" 'BEGIN { printf "%+.1f%%", 100 * v }')"
	printf "half of perf's: %s (%.2fx).\n" "$(met "$cpu_met")" "$cpu_ratio"
	if [ -n "$profile" ]; then
		echo
		echo "Where stackprof itself spends its time, from \`perf record -a -g\`"
		echo "during one more system-wide run (\`perf report --no-children --comm stackprof\`, top 15):"
		echo
		echo '```'
		echo "$profile"
		echo '```'
	fi
	echo
	echo "**The profiler launches the workload** (\`stackprof oncpu -F $freq -g -- cpushare\`,"
	echo "\`perf record -F $freq -g -B -- cpushare\`), wall time in seconds:"
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
	echo "perf record: writing perf.data, no build-id pass with \`-B\`, not perf script/report)."
	echo "*Workload only*: cpushare's own run time, i.e. the slowdown while profiled."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section oncpu-overhead "oncpu overhead" tests/bench/oncpu_overhead.sh "$table"
fi
