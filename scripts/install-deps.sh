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
    pkg-config         # finds PCRE2 for CMake
    libpcre2-dev       # PCRE2: GPT-2's pre-tokenisation regex (UTF, Unicode properties, JIT)
    nlohmann-json3-dev # JSON: tokenizer vocab.json, TinyStories JSON shards
    libcli11-dev       # command-line flags of the example programs
    curl               # the downloader runs the curl program (resumable https downloads)
    chromium           # the report test renders the collapse report in headless Chromium
    clang              # scripts/fuzz.sh: the fuzz targets are built with clang's libFuzzer
    libclang-rt-14-dev # libFuzzer and the sanitizer runtimes of clang 14
    libomp-14-dev      # OpenMP for clang
)

if [[ "$(uname -s)" == "Darwin" ]]; then
    echo "On macOS, install the dependencies with:"
    echo "  brew install cmake eigen libomp doctest google-benchmark clang-format pkg-config pcre2 \\"
    echo "    nlohmann-json cli11 curl"
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
