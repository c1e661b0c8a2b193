# shellcheck shell=bash
# Shared by the benchmark scripts: sourced, not run.
#
# Every `perf record` in the benchmarks runs with -B: perf 6.1's build-id pass
# at the end of a recording has crashed here now and then (an assertion at
# util/build-id.c:1010, then a stack-smashing abort), failing a run. Skipping
# it only lowers perf's own figures; perf script still finds the symbols.

# bench_write_section NAME TITLE SCRIPT TEXT: replaces the text between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" in docs/benchmarks.md with
# TEXT, adding a "## TITLE" section with those markers when the file lacks them.
bench_write_section() {
	local name=$1 title=$2 script=$3 text=$4
	local doc=docs/benchmarks.md begin="<!-- $1:begin -->" end="<!-- $1:end -->"
	local tmpdir

	tmpdir=$(mktemp -d)
	mkdir -p docs
	[ -f "$doc" ] || printf '# Benchmarks\n' >"$doc"
	if ! grep -qF "$begin" "$doc"; then
		# shellcheck disable=SC2016 # backquotes are markdown
		printf '\n## %s\n\nMeasured by `%s --write`.\n\n%s\n%s\n' \
			"$title" "$script" "$begin" "$end" >>"$doc"
	fi
	printf '%s\n' "$text" >"$tmpdir/section"
	awk -v b="$begin" -v e="$end" -v sec="$tmpdir/section" '
		$0 == b { print; while ((getline l < sec) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$doc" >"$tmpdir/doc"
	cat "$tmpdir/doc" >"$doc"
	rm -rf "$tmpdir"
	echo "$name: wrote $doc" >&2
}

# bench_require NAME BUILD FILE...: exits with a message unless every FILE is
# an executable built in BUILD and perf is installed.
bench_require() {
	local name=$1 build=$2 f

	shift 2
	for f in "$@"; do
		[ -x "$f" ] || { echo "$name: $f not built (cmake --build $build)" >&2; exit 1; }
	done
	command -v perf >/dev/null || { echo "$name: perf not installed" >&2; exit 1; }
}

# Events a run lost: bench_lost_stackprof LOG sums stackprof's `# lost R
# records, S samples` line in LOG (not the per-CPU lines after it, `# lost R
# records on CPU 0, ...`, which split the same counts); bench_lost_perf DATA
# sums perf's PERF_RECORD_LOST counts in perf.data file DATA.
bench_lost_stackprof() {
	awk '/^# lost [0-9]+ records, [0-9]+ samples/ { n += $3 + $5 }
		END { print n + 0 }' "$1"
}
bench_lost_perf() {
	perf script -i "$1" --show-lost-events -F time 2>/dev/null |
		awk '/PERF_RECORD_LOST / { n += $NF } END { print n + 0 }'
}

# bench_median FILE COL [FORMAT]: median of numeric column COL ("-" stays "-"),
# printed with FORMAT (default %.1f).
bench_median() {
	awk -v c="$2" '{ print $c }' "$1" | sort -n | awk -v f="${3:-%.1f}" '
		{ v[NR] = $1 }
		END { if (v[1] == "-") { print "-"; exit }
		      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf f "\n", m }'
}
# bench_max FILE COL: largest of column COL ("-" when none is a number).
bench_max() {
	awk -v c="$2" '$c != "-" && ($c > m || m == "") { m = $c } END { print (m == "" ? "-" : m) }' "$1"
}
# bench_range FILE COL [FORMAT]: "min-max" of numeric column COL, each printed
# with FORMAT (default %.0f).
bench_range() {
	awk -v c="$2" '{ print $c }' "$1" | sort -n | awk -v f="${3:-%.0f}" '
		NR == 1 { lo = $1 } { hi = $1 } END { printf f "-" f "\n", lo, hi }'
}

# Machine-readable results, for scripts/bench.sh: when $BENCH_RESULTS names a
# file, each call appends one JSON object on a line of its own to it; without
# it they do nothing. A NAME is "BENCHMARK.MEASURE" (e.g. oncpu.workload_s).

# bench_json_str TEXT: TEXT as a JSON string.
bench_json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}

# bench_result NAME CONFIG UNIT FILE COL: one measurement, from column COL of
# FILE (one line per run): its median, min, max and every run's value. Runs
# whose value is "-" are left out.
bench_result() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	local runs
	runs=$(awk -v c="$5" '$c != "-" && $c != "" { print $c + 0 }' "$4" | sort -g | paste -sd, -)
	[ -n "$runs" ] || return 0
	# Strings reach awk through the environment: -v would undo their escapes.
	BJ_N=$(bench_json_str "$1") BJ_C=$(bench_json_str "$2") BJ_U=$(bench_json_str "$3") \
		awk -v runs="$runs" 'BEGIN {
		k = split(runs, v, ",")
		m = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		printf "{\"name\": %s, \"configuration\": %s, \"unit\": %s, \"median\": %.6g, " \
			"\"min\": %.6g, \"max\": %.6g, \"runs\": [", ENVIRON["BJ_N"], ENVIRON["BJ_C"],
			ENVIRON["BJ_U"], m, v[1], v[k]
		for (i = 1; i <= k; i++) printf "%s%.6g", (i > 1 ? ", " : ""), v[i]
		print "]}" }' >>"$BENCH_RESULTS"
}

# bench_result_value NAME CONFIG UNIT VALUE: a measurement taken once (or
# derived from others): median = min = max = VALUE, runs = 1.
bench_result_value() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	local f
	f=$(mktemp)
	echo "$4" >"$f"
	bench_result "$1" "$2" "$3" "$f" 1
	rm -f "$f"
}

# bench_headline NAME TEXT VALUE DISPLAY TARGET MET: a headline ratio for the
# summary. VALUE is the number, DISPLAY how to print it (e.g. "0.45x"), TARGET
# the target in words ("-" for none) and MET "yes", "no" or "-".
bench_headline() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	local met=null
	case $6 in yes) met=true ;; no) met=false ;; esac
	printf '{"headline": %s, "text": %s, "value": %s, "display": %s, "target": %s, "met": %s}\n' \
		"$(bench_json_str "$1")" "$(bench_json_str "$2")" \
		"$(awk -v v="$3" 'BEGIN { if (v ~ /^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) printf "%.6g", v; else print "null" }')" \
		"$(bench_json_str "$4")" "$(bench_json_str "$5")" "$met" >>"$BENCH_RESULTS"
}

# A profile of stackprof while it misses a target: bench_self_profile DATA
# CMD... records every CPU with call chains (perf record -a -g) while CMD runs;
# bench_profile_top DATA COMM [N] prints the N (default 15) functions where
# processes named COMM spent the most samples of their own (percentages of
# those processes' samples).
bench_self_profile() {
	local data=$1 pid status=0
	shift
	perf record -q -a -g -F 999 -B -o "$data" >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	"$@" || status=$?
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return "$status"
}
bench_profile_top() {
	# perf 6.1 sometimes aborts on a recording it wrote itself (its build-id step
	# crashed while writing it): a profile that cannot be read is said, not fatal.
	{ perf report -i "$1" --stdio --no-children -g none --percentage relative --comm "$2" \
		--sort sym 2>/dev/null || echo "(perf report could not read this recording)"; } |
		awk '/^#/ || NF == 0 { next } ++n <= lim' lim="${3:-15}" # reads to the end: no SIGPIPE
}
# bench_missed MET...: true when any MET is "no" (a target was missed), or
# when BENCH_PROFILE_ALWAYS=1 (to try the profiling path on any run).
bench_missed() {
	[ "${BENCH_PROFILE_ALWAYS:-0}" = 1 ] && return 0
	local m
	for m in "$@"; do [ "$m" = no ] && return 0; done
	return 1
}

# A profiler running in the background while a workload runs, its CPU time,
# peak RSS and wall time measured by /usr/bin/time -f "%U %S %M %e":
#   bench_bg_start TIMEFILE LOG CMD...  starts CMD (output to LOG), sets
#       bench_bg_pid to CMD's own pid (GNU time ignores SIGINT: the signal must
#       go to its child);
#   bench_bg_stop  sends it SIGINT and waits; sets bench_bg_post to the
#       seconds it took to exit after the signal; fails unless it exited 0 or
#       by that signal. Not in a subshell: only this shell can wait for it;
#   bench_bg_kill  for an EXIT trap: stops one still running;
#   bench_cpu_rss TIMEFILE  prints "CPU_SECONDS PEAK_RSS_KB".
bench_bg_pid=
bench_bg_start() {
	local timefile=$1 log=$2 i
	shift 2
	/usr/bin/time -f "%U %S %M %e" -o "$timefile" "$@" >"$log" 2>&1 &
	bench_bg_time=$!
	bench_bg_pid=
	for ((i = 0; i < 250; i++)); do
		bench_bg_pid=$(pgrep -P "$bench_bg_time" || true)
		[ -n "$bench_bg_pid" ] && return 0
		sleep 0.02
	done
	echo "bench: cannot find the process /usr/bin/time started: $*" >&2
	return 1
}
bench_bg_stop() {
	local t0 status=0
	t0=$EPOCHREALTIME
	kill -INT "$bench_bg_pid" 2>/dev/null || true
	wait "$bench_bg_time" || status=$?
	bench_bg_pid=
	# shellcheck disable=SC2034 # read by the caller
	bench_bg_post=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }')
	[ "$status" -eq 0 ] || [ "$status" -eq 130 ]
}
bench_bg_kill() {
	if [ -n "$bench_bg_pid" ]; then
		kill -INT "$bench_bg_pid" 2>/dev/null || true
		wait "$bench_bg_time" 2>/dev/null || true
	fi
}
bench_cpu_rss() { tail -1 "$1" | awk '{ printf "%.2f %d\n", $1 + $2, $3 }'; }
