#!/usr/bin/env bash
# Measures stackprof's memory in a long system-wide run while thousands of
# short processes come and go: `stackprof oncpu -F 997 -g -v -d N` beside
# `churn --spawn RATE N` (/bin/true started RATE times a second), its VmRSS
# read every second, once with the default --max-stacks and once with a
# smaller one; with the process models it held and freed (-v) and the size
# of its stack table.
#
# Usage: tests/bench/churn_memory.sh [--write] [--seconds N] [--rate R] [--max-stacks L] [--build DIR]
#   --write          also replace the churn-memory section of docs/benchmarks.md
#   --seconds N      length of each run (default 180)
#   --rate R         short processes started per second (default 300)
#   --max-stacks L   the bound of the second run (default 20000)
#   --build DIR      build directory holding stackprof (default: build)
# Needs root (system-wide perf events). Not part of ctest.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

write=0
secs=180
rate=300
bound=20000
build=build
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=1 ;;
	--seconds) secs="$2"; shift ;;
	--rate) rate="$2"; shift ;;
	--max-stacks) bound="$2"; shift ;;
	--build) build="$2"; shift ;;
	-h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "churn_memory: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$secs" -ge 30 ] || { echo "churn_memory: --seconds must be at least 30" >&2; exit 2; }

stackprof="$build/stackprof"
churn="$build/tests/workloads/churn"
for f in "$stackprof" "$churn"; do
	[ -x "$f" ] || { echo "churn_memory: $f not built (cmake --build $build)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/churn-memory.XXXXXX)
sp_pid=
churn_pid=
cleanup() {
	[ -z "$churn_pid" ] || kill "$churn_pid" 2>/dev/null || true
	[ -z "$sp_pid" ] || kill "$sp_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# One run: `run NAME [stackprof options]` leaves NAME.rss ("second kB" lines),
# NAME.out, NAME.err and NAME.spawn in $tmp.
run() {
	local name=$1 start rss
	shift
	start=$(date +%s.%N)
	"$stackprof" oncpu -F 997 -g -v -d "$secs" "$@" -o "$tmp/$name.folded" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	sp_pid=$!
	sleep 0.5
	"$churn" --spawn "$rate" $((secs - 2)) 2>"$tmp/$name.spawn" &
	churn_pid=$!
	: >"$tmp/$name.rss"
	# Seconds since stackprof started, until it exits: after $secs s comes its
	# report (kernel symbols, naming the stacks).
	while sleep 1; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$sp_pid/status" 2>/dev/null || true)
		[ -n "$rss" ] || break
		echo "$(date +%s.%N | awk -v s="$start" '{ printf "%.1f", $1 - s }') $rss" \
			>>"$tmp/$name.rss"
	done
	wait "$churn_pid" || { echo "churn_memory: churn failed" >&2; exit 1; }
	churn_pid=
	wait "$sp_pid" || { echo "churn_memory: stackprof failed:" >&2; cat "$tmp/$name.err" >&2; exit 1; }
	sp_pid=
	echo "  $name: $(tail -1 "$tmp/$name.rss" | awk '{ print $2 }') kB at the end" >&2
}

# The RSS (MiB) nearest to second $2 of run $1.
rss_at() {
	awk -v t="$2" '$1 <= t { v = $2 } END { printf "%.1f", v / 1024 }' "$tmp/$1.rss"
}

# Least-squares slope of the RSS from 10 s to the end of the run (not the
# report), in MiB per minute.
slope() {
	awk -v e=$((secs - 2)) '$1 >= 10 && $1 <= e { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
		END { d = n * sxx - sx * sx; printf "%+.2f", d ? 60 * (n * sxy - sx * sy) / d / 1024 : 0 }' \
		"$tmp/$1.rss"
}

# The largest RSS (MiB) after second $2 of run $1: the report's ("-" if none was read).
rss_peak_from() {
	awk -v t="$2" '$1 > t && $2 > m { m = $2 } END { if (m) printf "%.1f", m / 1024; else print "-" }' \
		"$tmp/$1.rss"
}

row() { # name label
	local name=$1 label=$2 spawned model table dropped
	spawned=$(sed -n 's/^churn: spawned \([0-9]*\)$/\1/p' "$tmp/$name.spawn")
	model=$(sed -n 's/.*process model: \([0-9]*\) address spaces.* freed after exit: \([0-9]*\) address spaces.*/\1 \2/p' \
		"$tmp/$name.err")
	table=$(sed -n 's/.*oncpu: stack table: \([0-9]*\) stacks, \([0-9]*\) bytes.*/\1 \2/p' "$tmp/$name.err")
	dropped=$(sed -n 's/^# \([0-9]*\) samples not counted: the stack table was full.*/\1/p' \
		"$tmp/$name.out")
	read -r live freed <<<"$model"
	read -r stacks bytes <<<"$table"
	printf '| %s | %s | %s | %s | %s | %s | %s MiB/min | %s | %s | %s | %s (%.1f MiB) | %s |\n' \
		"$label" "$spawned" "$(rss_at "$name" 10)" "$(rss_at "$name" 60)" \
		"$(rss_at "$name" 120)" "$(rss_at "$name" $((secs - 2)))" "$(slope "$name")" \
		"$(rss_peak_from "$name" "$secs")" "$live" "$freed" "$stacks" \
		"$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "${dropped:-0}"
}

echo "churn_memory: 2 runs of $secs s, /bin/true $rate times a second" >&2
run default
run bounded --max-stacks "$bound"

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
	echo "\`stackprof oncpu -F 997 -g -v -d $secs\` (all CPUs) while \`churn --spawn $rate\`"
	echo "starts /bin/true $rate times a second; stackprof's VmRSS read every second."
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r). $(date -u +%Y-%m-%d)."
	echo
	echo "| --max-stacks | processes | RSS MiB at 10 s | at 60 s | at 120 s | at $((secs - 2)) s | RSS growth from 10 s | report (peak) | models live at the end | models freed | stacks (table size) | samples not counted |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	row default "1000000 (default)"
	row bounded "$bound"
	echo
	echo "*RSS growth*: least-squares slope from 10 s to $((secs - 2)) s. *Report*: after"
	echo "$secs s, while stackprof reads the kernel symbols and names the stacks."
	echo "*Models*: the address spaces of processes, freed a second after each exits."
	echo "Every short process also leaves a few stacks of its own in the table (its"
	echo "pid is part of a stack's key), so with the default bound the table, and"
	echo "the RSS, keep growing by a few hundred bytes per process sampled until"
	echo "--max-stacks or the table's 256 MiB bound stops them; a smaller"
	echo "--max-stacks holds the RSS flat once the table is full, at the price of"
	echo "the samples of new stacks (counted and reported)."
)
echo "$table"

if [ "$write" -eq 1 ]; then
	bench_write_section churn-memory "oncpu: memory while processes come and go" \
		tests/bench/churn_memory.sh "$table"
fi
