#!/usr/bin/env bash
# Installs dependencies, builds stackprof, and profiles the cpushare workload,
# whose CPU shares are known by construction (work_a:work_b:work_c = 1:2:3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (installing packages and system-wide profiling need it)" >&2
	exit 1
fi

bash scripts/install-deps.sh
cmake -S . -B build
cmake --build build -j2

out=build/demo.folded
svg=build/demo.svg
echo "+ build/stackprof oncpu -F 997 -g --annotate -o $out -- build/tests/workloads/cpushare 3"
build/stackprof oncpu -F 997 -g --annotate -o "$out" -- build/tests/workloads/cpushare 3
echo "+ build/stackprof flamegraph $out -o $svg"
build/stackprof flamegraph "$out" -o "$svg"

echo
echo "Folded stacks: $(pwd)/$out"
echo "Flame graph:   $(pwd)/$svg (open it in a browser: hover, click to zoom, Ctrl-F to search)"
echo "Expected: about 1/6 of samples in work_a, 2/6 in work_b, 3/6 in work_c."
