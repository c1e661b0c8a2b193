#!/usr/bin/env bash
# Measures what iowrite costs a program that does nothing but write: the
# nanoseconds per write(64 bytes) to /dev/null of `writer --bench N` (N writes
# timed by the program itself) alone, under `stackprof iowrite -g --`, and, as
# references, with perf on the same two tracepoints stackprof uses for a
# write (syscalls:sys_enter_write with a call chain, sys_exit_write):
#   - `perf stat` of the two tracepoints: counting only, nothing written,
#     the kernel's floor for any tool built on these tracepoints;
#   - `perf record` of the two, the entry with `--call-graph fp`: about what
#     stackprof asks of the kernel for a write.
#
# Usage: tests/bench/iowrite_overhead.sh [--write] [--runs R] [--writes N] [--build DIR]
#   --write        also replace the iowrite-overhead section of docs/benchmarks.md
#   --runs R       runs per configuration (default 3), interleaved round-robin
#   --writes N     writes per run (default 300000)
#   --build DIR    build directory holding stackprof (default: build)
# Needs root (tracepoints) and perf. Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
runs=3
writes=300000
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--runs) runs="$2"; shift ;;
	--writes) writes="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "iowrite_overhead: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stackprof="$build/stackprof"
writer="$build/tests/workloads/writer"
bench_require iowrite_overhead "$build" "$stackprof" "$writer"

tmp=$(mktemp -d /tmp/iowrite-overhead.XXXXXX)
mounted=0
cleanup() {
	if [ "$mounted" -eq 1 ]; then umount /sys/kernel/tracing 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ ! -e /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing && mounted=1
fi

pevents=syscalls:sys_enter_write,syscalls:sys_exit_write
run_base() { "$writer" --bench "$writes"; }
run_stackprof() { "$stackprof" iowrite -g -o "$tmp/sp.folded" -- "$writer" --bench "$writes"; }
run_perfstat() { perf stat -x, -e "$pevents" -o "$tmp/stat" -- "$writer" --bench "$writes"; }
run_perfrecord() {
	perf record -q -B -e syscalls:sys_enter_write --call-graph fp -e syscalls:sys_exit_write \
		-o "$tmp/perf.data" -- "$writer" --bench "$writes"
}

# The bench loop's writes as stackprof counted them: its [write] calls under bench_loop.
calls_stackprof() {
	awk '/ bench_loop/ && $0 !~ /^#/ { n += $3 } END { print n + 0 }' "$tmp/last.log"
}

# One run of a configuration: appends "ns_per_write lost" to $tmp/CFG.
one() {
	local cfg=$1 ns lost
	"run_$cfg" >"$tmp/last.log" 2>&1 || {
		echo "iowrite_overhead: $cfg run failed:" >&2
		cat "$tmp/last.log" >&2
		exit 1
	}
	# writer: bench N writes in NS ns: X ns per write
	ns=$(awk '$2 == "bench" { print $(NF - 3); exit }' "$tmp/last.log")
	if [ -z "$ns" ]; then
		echo "iowrite_overhead: $cfg: no bench line" >&2
		cat "$tmp/last.log" >&2
		exit 1
	fi
	case $cfg in
	base | perfstat) lost=- ;;
	stackprof)
		lost=$(bench_lost_stackprof "$tmp/last.log")
		echo "  (stackprof counted $(calls_stackprof) calls under bench_loop, expected $writes)" >&2
		;;
	perfrecord) lost=$(bench_lost_perf "$tmp/perf.data") ;;
	esac
	echo "$ns $lost" >>"$tmp/$cfg"
	echo "  run $2 $cfg: $ns ns per write, lost $lost" >&2
}

echo "iowrite_overhead: $writes writes per run, $runs runs per configuration" >&2
for cfg in base stackprof perfstat perfrecord; do : >"$tmp/$cfg"; done
for ((i = 1; i <= runs; i++)); do
	for cfg in base stackprof perfstat perfrecord; do
		one "$cfg" "$i"
	done
done

base_ns=$(bench_median "$tmp/base" 1)
row() { # name cfg
	local ns lost
	ns=$(bench_median "$tmp/$2" 1)
	lost=$(bench_max "$tmp/$2" 2)
	awk -v n="$1" -v x="$ns" -v b="$base_ns" -v l="$lost" -v r="$(bench_range "$tmp/$2" 1)" 'BEGIN {
		if (x == b) { printf "| %s | %.1f (%s) | 1.0x | - | %s |\n", n, x, r, l; exit }
		printf "| %s | %.1f (%s) | %.1fx | %.2f | %s |\n", n, x, r, x / b, (x - b) / 1000, l }'
}

for cfg in base stackprof perfstat perfrecord; do
	case $cfg in
	base) c="writer alone" ;;
	stackprof) c="stackprof iowrite -g" ;;
	perfstat) c="perf stat of the same 2 tracepoints (counting only)" ;;
	perfrecord) c="perf record of the same 2, call chain at the entry" ;;
	esac
	bench_result iowrite.ns_per_write "$c, writer --bench $writes" ns "$tmp/$cfg" 1
	[ "$cfg" = base ] || [ "$cfg" = perfstat ] ||
		bench_result iowrite.events_lost "$c, writer --bench $writes" events "$tmp/$cfg" 2
done
# Headlines: what stackprof adds per write, over what perf record and the floor add.
added() { awk -v x="$(bench_median "$tmp/$1" 1)" -v b="$base_ns" 'BEGIN { printf "%.1f", x - b }'; }
sp_add=$(added stackprof)
for ref in perfrecord perfstat; do
	ref_add=$(added "$ref")
	case $ref in
	perfrecord) what="perf record (call chain at the entry)" ;;
	perfstat) what="the bare tracepoints (perf stat, counting only)" ;;
	esac
	if awk -v p="$ref_add" 'BEGIN { exit !(p > 0) }'; then
		r=$(awk -v s="$sp_add" -v p="$ref_add" 'BEGIN { printf "%.3f", s / p }')
		shown=$(printf '%.2fx (%s ns vs %s ns)' "$r" "$sp_add" "$ref_add")
	else
		r=- shown="n/a ($sp_add ns vs $ref_add ns: the reference adds nothing measurable)"
	fi
	bench_headline "iowrite.vs_$ref" "iowrite: ns added per write, stackprof / $what" "$r" "$shown" - -
done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "Nanoseconds per write(64 bytes) to /dev/null of \`writer --bench $writes\` (the program"
	echo "times its own loop), median (min-max) of $runs interleaved runs. Each write hits two"
	echo "tracepoints: syscalls:sys_enter_write (with the user call chain) and sys_exit_write."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d),"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
	echo
	echo "| configuration | ns per write | slowdown | µs added per write | events lost |"
	echo "|---|---|---|---|---|"
	row "writer alone" base
	row "\`stackprof iowrite -g\`" stackprof
	row "\`perf stat\` of the same 2 tracepoints (counting only)" perfstat
	row "\`perf record\` of the same 2, call chain at the entry" perfrecord
	echo
	echo "The \`perf stat\` row is the kernel's own cost of the two tracepoint hits with nothing"
	echo "written. \`perf record\` and stackprof also write a record per hit. stackprof's other"
	echo "events (pwrite64, writev, ... and the close, dup and open events that keep file names"
	echo "current) are in place but not hit here. Lost is the worst run: stackprof's \`# lost\`"
	echo "records + samples, perf's PERF_RECORD_LOST counts. perf record runs with \`-B\` (no"
	echo "build-id pass: perf 6.1 has crashed in it here)."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section iowrite-overhead "iowrite overhead" tests/bench/iowrite_overhead.sh "$table"
fi
