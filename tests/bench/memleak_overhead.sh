#!/usr/bin/env bash
# Measures what memleak costs a program that does nothing but allocate: the
# nanoseconds per malloc/free pair of `leaker --bench M` (M pairs timed by the
# program itself) alone, under `stackprof memleak --`, and, as references, with
# perf holding uprobes at the same three places stackprof probes in a pair
# (malloc entry, malloc return, and free where stackprof probes it):
#   - `perf stat` of those probes: counting only, no record written. This is
#     the kernel's bare cost of the three uprobe hits, the floor for any tool
#     built on uprobes;
#   - `perf record --call-graph fp` of those probes: every hit sampled with a
#     call chain, about what stackprof asks of the kernel;
#   - heaptrack (LD_PRELOAD, no uprobes) when it is installed, for scale.
# Target: stackprof's added cost per pair at most 1.5x the perf stat floor's.
# A missed target adds a profile of stackprof and of the workload (perf record
# -a -g during one more stackprof run).
#
# Usage: tests/bench/memleak_overhead.sh [--write] [--runs R] [--pairs M] [--build DIR]
#   --write        also replace the memleak-overhead section of docs/benchmarks.md
#   --runs R       runs per configuration (default 3), interleaved round-robin
#   --pairs M      malloc/free pairs per run (default 200000)
#   --build DIR    build directory holding stackprof (default: build)
# Needs root (uprobes) and perf with `perf probe`. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
pairs=200000
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--pairs) pairs="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "memleak_overhead: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
leaker="$build/tests/workloads/leaker"
bench_require memleak_overhead "$build" "$stackprof" "$leaker"

libc=$(ldd "$leaker" | awk '!f && $1 ~ /^libc\.so/ { print $3; f = 1 }')
libc=$(readlink -f "$libc")
[ -f "$libc" ] || { echo "memleak_overhead: cannot find leaker's libc" >&2; exit 1; }

tmp=$(mktemp -d /tmp/memleak-overhead.XXXXXX)
group=spbench$$
mounted=0
cleanup() {
	perf probe -q -d "$group:*" >/dev/null 2>&1 || true
	if [ "$mounted" -eq 1 ]; then umount /sys/kernel/tracing 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

events=/sys/kernel/tracing/uprobe_events
if [ ! -e "$events" ]; then
	mount -t tracefs nodev /sys/kernel/tracing && mounted=1
fi

# Where stackprof probes free: read from its tracefs group while it runs (it
# may move the probe past an instruction the kernel would single-step).
# (awk reads to the end: an early exit would kill nm with SIGPIPE, failing under pipefail.)
sym_value() {
	nm -D --defined-only "$libc" |
		awk -v s="$1" '!f && ($3 == s || index($3, s "@") == 1) { print $1; f = 1 }'
}
free_sym=$((16#$(sym_value free)))
"$stackprof" memleak --uprobe-tracefs -d 2 -- sleep 1 >/dev/null 2>&1 &
sp=$!
free_off=
for _ in $(seq 1 40); do
	free_off=$(awk -v g="stackprof_$sp/" '
		index($1, g) && $1 ~ /\/free_/ { n = split($2, a, ":"); print a[n]; exit }' \
		"$events" 2>/dev/null || true)
	[ -n "$free_off" ] && break
	sleep 0.05
done
wait "$sp" || true
if [ -n "$free_off" ]; then
	free_delta=$((free_off - free_sym))
else
	echo "memleak_overhead: could not see where stackprof probes free; using free's entry" >&2
	free_delta=0
fi
free_spec=free
[ "$free_delta" -gt 0 ] && free_spec="free+$free_delta"

perf probe -q -x "$libc" -a "$group:malloc=malloc" -a "$group:malloc=malloc%return" \
	-a "$group:free=$free_spec" >/dev/null ||
	{ echo "memleak_overhead: perf probe cannot add uprobes to $libc" >&2; exit 1; }
pevents="$group:malloc,$group:malloc__return,$group:free"

run_base() { "$leaker" --bench "$pairs"; }
run_stackprof() { "$stackprof" memleak -o "$tmp/sp.folded" -- "$leaker" --bench "$pairs"; }
run_perfstat() { perf stat -x, -e "$pevents" -o "$tmp/stat" -- "$leaker" --bench "$pairs"; }
run_perfrecord() {
	perf record -q -B --call-graph fp -e "$pevents" -o "$tmp/perf.data" -- "$leaker" --bench "$pairs"
}
run_heaptrack() { heaptrack -o "$tmp/ht.out" "$leaker" --bench "$pairs"; }
cfgs="base stackprof perfstat perfrecord"
if command -v heaptrack >/dev/null; then
	cfgs="$cfgs heaptrack"
	heaptrack_note=
else
	heaptrack_note="heaptrack is not installed (Debian package heaptrack): not measured."
	echo "memleak_overhead: $heaptrack_note" >&2
fi

# Hits counted by perf stat: the three probes should each see about M (+ start-up).
hits_perfstat() { awk -F, '{ n += $1 } END { print n + 0 }' "$tmp/stat"; }

# One run of a configuration: appends "ns_per_pair lost" to $tmp/CFG.
one() {
	local cfg=$1 ns lost
	"run_$cfg" >"$tmp/last.log" 2>&1 || {
		echo "memleak_overhead: $cfg run failed:" >&2
		cat "$tmp/last.log" >&2
		exit 1
	}
	# leaker: bench M pairs in NS ns: X ns per pair
	ns=$(awk '$2 == "bench" { print $(NF - 3); exit }' "$tmp/last.log")
	if [ -z "$ns" ]; then
		echo "memleak_overhead: $cfg: no bench line" >&2
		cat "$tmp/last.log" >&2
		exit 1
	fi
	case $cfg in
	base) lost=- ;;
	heaptrack) lost=-; rm -f "$tmp"/ht.out* ;;
	stackprof) lost=$(bench_lost_stackprof "$tmp/last.log") ;;
	perfstat)
		lost=-
		echo "  (perf stat counted $(hits_perfstat) hits, expected about $((3 * pairs)))" >&2
		;;
	perfrecord) lost=$(bench_lost_perf "$tmp/perf.data") ;;
	esac
	echo "$ns $lost" >>"$tmp/$cfg"
	echo "  run $2 $cfg: $ns ns per pair, lost $lost" >&2
}

echo "memleak_overhead: $pairs malloc/free pairs, $runs runs per configuration," \
	"libc $libc, free probed at $free_spec" >&2
for cfg in $cfgs; do : >"$tmp/$cfg"; done
for ((i = 1; i <= runs; i++)); do
	for cfg in $cfgs; do
		one "$cfg" "$i"
	done
done

base_ns=$(bench_median "$tmp/base" 1)
row() { # name cfg [- when no uprobe is hit]
	local ns lost
	ns=$(bench_median "$tmp/$2" 1)
	lost=$(bench_max "$tmp/$2" 2)
	awk -v n="$1" -v x="$ns" -v b="$base_ns" -v l="$lost" -v r="$(bench_range "$tmp/$2" 1 %.1f)" \
		-v hits="${3:-}" 'BEGIN {
		if (x == b) { printf "| %s | %.1f (%s) | 1.0x | - | %s |\n", n, x, r, l; exit }
		if (hits == "-") { printf "| %s | %.1f (%s) | %.0fx | - | %s |\n", n, x, r, x / b, l; exit }
		printf "| %s | %.1f (%s) | %.0fx | %.2f | %s |\n", n, x, r, x / b, (x - b) / 3 / 1000, l }'
}

# The target: stackprof's added ns per pair over the counting-only floor's.
sp_ns=$(bench_median "$tmp/stackprof" 1)
floor_ns=$(bench_median "$tmp/perfstat" 1)
ratio=$(awk -v s="$sp_ns" -v f="$floor_ns" -v b="$base_ns" \
	'BEGIN { printf "%.3f", (f > b ? (s - b) / (f - b) : 0) }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5 ? "yes" : "no") }')
for cfg in $cfgs; do
	case $cfg in
	base) c="leaker alone" ;;
	stackprof) c="stackprof memleak" ;;
	perfstat) c="perf stat of the same 3 uprobes (counting only)" ;;
	perfrecord) c="perf record --call-graph fp of the same 3 uprobes" ;;
	heaptrack) c="heaptrack" ;;
	esac
	bench_result memleak.ns_per_pair "$c, leaker --bench $pairs" ns "$tmp/$cfg" 1
	[ "$cfg" = base ] || [ "$cfg" = perfstat ] || [ "$cfg" = heaptrack ] ||
		bench_result memleak.events_lost "$c, leaker --bench $pairs" events "$tmp/$cfg" 2
done
bench_headline memleak.vs_floor \
	"memleak: added ns per malloc/free pair, stackprof / bare uprobes (perf stat, counting only)" \
	"$ratio" "$(printf '%.2fx (%s ns vs %s ns per pair)' "$ratio" "$sp_ns" "$floor_ns")" "<= 1.50x" "$met"
if [ -s "$tmp/heaptrack" ]; then
	ht_ns=$(bench_median "$tmp/heaptrack" 1)
	bench_headline memleak.vs_heaptrack "memleak: ns per malloc/free pair, stackprof / heaptrack" \
		"$(awk -v s="$sp_ns" -v h="$ht_ns" 'BEGIN { printf "%.3f", s / h }')" \
		"$(awk -v s="$sp_ns" -v h="$ht_ns" 'BEGIN { printf "%.2fx (%.1f ns vs %.1f ns per pair)", s / h, s, h }')" - -
fi

# A missed target: where the time goes, in stackprof and in the workload.
profile_sp='' profile_wl=''
if bench_missed "$met"; then
	echo "memleak_overhead: profiling stackprof and leaker during one more stackprof run" >&2
	bench_self_profile "$tmp/self.data" run_stackprof >"$tmp/last.log" 2>&1 ||
		{ echo "memleak_overhead: the profiled stackprof run failed" >&2; cat "$tmp/last.log" >&2; exit 1; }
	profile_sp=$(bench_profile_top "$tmp/self.data" stackprof 12)
	profile_wl=$(bench_profile_top "$tmp/self.data" leaker 12)
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "Nanoseconds per malloc/free pair of \`leaker --bench $pairs\` (the program times its own"
	echo "loop; sizes 16-271 bytes), median (min-max) of $runs interleaved runs. Each pair hits three"
	echo "uprobes: malloc's entry, malloc's return, and \`$free_spec\` (where stackprof probes"
	echo "free). Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r),"
	echo "$(basename "$libc"). $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "| configuration | ns per pair | slowdown | µs per uprobe hit | events lost |"
	echo "|---|---|---|---|---|"
	row "leaker alone" base
	row "\`stackprof memleak\`" stackprof
	row "\`perf stat\` of the same 3 uprobes (counting only)" perfstat
	row "\`perf record --call-graph fp\` of the same 3 uprobes" perfrecord
	if [ -s "$tmp/heaptrack" ]; then row "\`heaptrack\` (LD_PRELOAD, no uprobes)" heaptrack -; fi
	echo
	echo "µs per uprobe hit is (ns per pair - alone) / 3. The \`perf stat\` row is the kernel's"
	echo "own cost of the three hits (trap, probe handler, return trampoline) with nothing"
	echo "written: no uprobe-based tool can go below it. \`perf record\` and stackprof also"
	echo "write a record per hit: perf a call chain at each of the three, stackprof the user"
	echo "registers at each and a call chain only at the return. stackprof's other probes"
	echo "(calloc, realloc, ...) are in place but not hit here. Lost is the worst run:"
	echo "stackprof's \`# lost\` records + samples, perf's PERF_RECORD_LOST counts. perf"
	echo "record runs with \`-B\` (no build-id pass: perf 6.1 has crashed in it here)."
	echo "heaptrack wraps the allocator in the process itself (LD_PRELOAD) and unwinds each"
	echo "call there; its later analysis is not timed.${heaptrack_note:+ $heaptrack_note}"
	echo
	if [ "$met" = yes ]; then t=met; else t="**missed**"; fi
	printf 'Target: stackprof adds at most 1.5x what the bare uprobes add: %s (%.2fx).\n' "$t" "$ratio"
	if [ -n "$profile_sp$profile_wl" ]; then
		echo
		echo "Where the time goes, from \`perf record -a -g\` during one more stackprof run"
		echo "(\`perf report --no-children --comm COMM\`: that command's own samples, top 12)."
		echo "stackprof:"
		echo
		echo '```'
		echo "$profile_sp"
		echo '```'
		echo
		echo "leaker (the probes' cost is paid in its context: trap, uprobe handler, record):"
		echo
		echo '```'
		echo "$profile_wl"
		echo '```'
	fi
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section memleak-overhead "memleak overhead" tests/bench/memleak_overhead.sh "$table"
fi
