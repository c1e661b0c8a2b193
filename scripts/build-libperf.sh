#!/usr/bin/env bash
# Builds libperf.a and libapi.a from Debian's linux-source-6.1 package into a build directory.
# Usage: build-libperf.sh OUTDIR. Only the tools/ parts of the tarball are extracted, under OUTDIR.
set -euo pipefail

out=${1:?usage: build-libperf.sh OUTDIR}
tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
top=linux-source-6.1

if [ -f "$out/lib/libperf.a" ] && [ -f "$out/lib/libapi.a" ]; then
	exit 0
fi
if [ ! -f "$tarball" ]; then
	echo "build-libperf: $tarball not found (run scripts/install-deps.sh, it installs linux-source-6.1)" >&2
	exit 1
fi

mkdir -p "$out/lib"
if [ ! -d "$out/$top/tools/lib/perf" ]; then
	echo "build-libperf: extracting tools/ from $tarball"
	tar -xJf "$tarball" -C "$out" --wildcards \
		"$top/tools/lib/perf" "$top/tools/lib/api" "$top/tools/include" \
		"$top/tools/arch/x86/include" "$top/tools/scripts" "$top/tools/build" \
		"$top/tools/lib/*.c"
fi

jobs=$(nproc 2>/dev/null || echo 2)
# libperf's Makefile builds libapi.a into the same output directory.
make -s -C "$out/$top/tools/lib/perf" O="$out/lib" -j"$jobs" \
	EXTRA_CFLAGS="-fPIC -O2 -g" "$out/lib/libperf.a" >/dev/null
make -s -C "$out/$top/tools/lib/api" O="$out/lib" -j"$jobs" \
	EXTRA_CFLAGS="-fPIC -O2 -g" "$out/lib/libapi.a" >/dev/null
test -f "$out/lib/libperf.a" && test -f "$out/lib/libapi.a"
echo "build-libperf: built $out/lib/libperf.a and libapi.a"
