#!/bin/sh
# Runs a program with OURO_ISA=PATH (avx2 or avx512), or exits 77 (ctest: skipped) when this
# CPU cannot run the avx512 path. Usage: run_on_path.sh PATH PROGRAM [ARGS...]
set -eu
path=$1
shift
if [ "$path" = avx512 ]; then
    for feature in avx512f avx512vl avx512bw avx512dq; do
        if ! grep -qw "$feature" /proc/cpuinfo; then
            echo "this CPU has no $feature: the avx512 path is not tested here"
            exit 77
        fi
    done
fi
OURO_ISA=$path exec "$@"
