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
