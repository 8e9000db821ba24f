#!/usr/bin/env bash
# Installs what ouro needs to build and test, from the system's package manager, and nothing that
# is already there. Debian/Ubuntu: apt-get (through sudo when not root). macOS: prints the brew line.
set -euo pipefail

debian_packages=(
    build-essential    # g++ with libgomp (OpenMP)
    cmake
    libeigen3-dev      # Eigen 3.4: matrix kernels and Map views
    doctest-dev        # tests
    libbenchmark-dev   # Google Benchmark
    clang-format       # formatting check in the test suite
)

if [[ "$(uname -s)" == "Darwin" ]]; then
    echo "On macOS, install the dependencies with:"
    echo "  brew install cmake eigen libomp doctest google-benchmark clang-format"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: no dpkg/apt on this system; install these by hand: ${debian_packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "install-deps: not root and no sudo; install these by hand: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
