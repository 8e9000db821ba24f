#!/usr/bin/env bash
# The sanitizer part of CI (.ci/run runs it after scripts/test.sh). One clang build with ASan +
# UBSan, every report fatal (the fuzz preset, into build-fuzz/), holds both the unit tests and the
# libFuzzer targets, and builds nothing else. It runs every unit test case under the sanitizers
# (ctest over ouro_tests' cases, without the package, browser and formatting tests that the
# Release run has done), then each fuzz target for FUZZ_SECONDS seconds (10 by default), one
# per core at a time, from the seeds that ouro_fuzz_seeds writes (scripts/fuzz.sh). Any sanitizer
# report, failed test or fuzz finding fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
# UBSan prints no stack by default; a report is fatal either way (-fno-sanitize-recover=all).
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
ctest --preset fuzz -j "$(nproc)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}" bash scripts/fuzz.sh
