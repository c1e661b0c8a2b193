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
	python3 linux-perf procps
	clang libclang-rt-14-dev
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install needs it)" >&2
	exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
