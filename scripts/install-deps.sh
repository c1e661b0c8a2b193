#!/usr/bin/env bash
# Installs everything stackprof needs to build, test and benchmark, from Debian packages.
# Idempotent: packages already present are left alone and apt-get update runs at most once.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config xz-utils
	libtraceevent-dev libtracefs-dev libelf-dev libdw-dev libjansson-dev
	liblzma-dev zlib1g-dev libiberty-dev
	libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
	linux-source-6.1
	python3 python3-jsonschema linux-perf procps strace
	clang libclang-rt-14-dev
	# the flame graph's browser test (tests/browser): Debian's headless-capable chromium
	chromium
)
# ... driven from node through playwright-core (npm). A machine whose node and npm
# come from elsewhere keeps them: Debian's npm would pull in its own nodejs instead.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# Only scripts/bench.sh uses these: /usr/bin/time for CPU time and peak RSS,
# heaptrack as a point of comparison for memleak. A failure to install them is
# a warning, not an error: the build and the tests do not need them, and the
# benchmarks say what they could not measure.
bench_pkgs=(time heaptrack)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install needs it)" >&2
	exit 1
fi

updated=0
# install_missing WHAT PKG...: installs those of PKG not yet installed.
install_missing() {
	local what=$1 p missing=()
	shift
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "install-deps: all $what packages present"
		return 0
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [ "$updated" -eq 0 ]; then
		apt-get update -qq
		updated=1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_missing build "${pkgs[@]}"
install_missing benchmark "${bench_pkgs[@]}" ||
	echo "install-deps: warning: could not install ${bench_pkgs[*]}: scripts/bench.sh will" \
		"skip what needs them" >&2
