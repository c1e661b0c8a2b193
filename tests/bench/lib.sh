# shellcheck shell=bash
# Shared by the benchmark scripts: sourced, not run.

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
