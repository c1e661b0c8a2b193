#!/usr/bin/env bash
# Builds stackprof and runs the whole test suite (unit, kernel and workload tests).
# Usage: scripts/test.sh [--sanitize] [extra ctest arguments, e.g. -L unit or -R oncpu]
#   --sanitize  build into build-asan with AddressSanitizer and UndefinedBehaviorSanitizer
#               (any report fails the test that triggered it) and run the suite there;
#               the fuzz test, sanitized already, is left out
# Kernel tests need root; they skip (exit 77) without it, and fail instead when CI=true.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=build
cmake_args=()
ctest_args=()
if [ "${1:-}" = "--sanitize" ]; then
	shift
	build=build-asan
	cmake_args=(-DSTACKPROF_SANITIZE=address,undefined -DSTACKPROF_FUZZ=OFF)
	# libperf is plain C built by its own makefiles: the normal tree's copy serves.
	if [ -f build/libperf/lib/libperf.a ]; then
		cmake_args+=(-DLIBPERF_DIR="$PWD/build/libperf")
	fi
	ctest_args=(-LE fuzz)
	# Leaks are reported (and fail the test) at exit; a report aborts the process.
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
	export STACKPROF_TEST_SANITIZED=1
fi

if [ "$(id -u)" -eq 0 ]; then
	bash scripts/install-deps.sh
else
	echo "test.sh: not root: skipping scripts/install-deps.sh; kernel tests will skip" >&2
fi

cmake -S . -B "$build" "${cmake_args[@]}"
cmake --build "$build" -j2

# Serial: the kernel tests are RUN_SERIAL and measure CPU shares, so they must
# not compete with each other for the CPUs.
status=0
ctest --test-dir "$build" --output-on-failure "${ctest_args[@]}" "$@" || status=$?
exit "$status"
