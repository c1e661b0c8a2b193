#!/usr/bin/env bash
# Builds stackprof and runs the whole test suite (unit, kernel and workload tests).
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R oncpu]
# Kernel tests need root; they skip (exit 77) without it, and fail instead when CI=true.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -eq 0 ]; then
	bash scripts/install-deps.sh
else
	echo "test.sh: not root: skipping scripts/install-deps.sh; kernel tests will skip" >&2
fi

cmake -S . -B build
cmake --build build -j2

# Serial: the kernel tests are RUN_SERIAL and measure CPU shares, so they must
# not compete with each other for the CPUs.
status=0
ctest --test-dir build --output-on-failure "$@" || status=$?
exit "$status"
