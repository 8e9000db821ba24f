#!/usr/bin/env bash
# Training speed of ouro against PyTorch eager on the same CPU, in one run: one optimizer step
# (forward, backward, clipping, AdamW) of PERF.md's configs XS and S on a fixed random batch,
# ouro's ouro_bench_train against benchmarks/pytorch_train.py (the same model and step in
# PyTorch). At each thread count the two are run REPS times, alternating, and the medians are
# printed: tokens/s of each, ouro's ratio to PyTorch, and each process's peak RSS
# (/usr/bin/time's maximum resident set size). The PyTorch is $PYTHON's, else that of the first
# of python3 on PATH and /usr/bin/python3 (Debian's python3-torch) that has torch.
#
# Usage: benchmarks/compare_pytorch.sh [BUILD_DIR] [REPS] [THREADS...]
#   defaults: build, 3, and the thread counts 1 and `nproc`. CONFIGS="XS" runs one config only.
#   ouro runs the instruction-set path it would choose by default (avx512 where the CPU has
#   AVX-512 F, VL, BW and DQ, else avx2); OURO_ISA=avx2 times the AVX2 path instead.
set -euo pipefail
build=${1:-build}
reps=${2:-3}
shift $(($# < 2 ? $# : 2))
threads=("$@")
[[ ${#threads[@]} -gt 0 ]] || threads=(1 "$(nproc)")
[[ ${threads[0]} == "${threads[-1]}" && ${#threads[@]} -eq 2 ]] && threads=(1)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$here/$build/benchmarks/ouro_bench_train"
python=${PYTHON:-}
if [[ -z $python ]]; then
    for candidate in python3 /usr/bin/python3; do
        if "$candidate" -c "import torch" 2>/dev/null; then python=$candidate; break; fi
    done
fi
[[ -x "$bench" ]] || { echo "compare_pytorch: build ouro's benchmarks first ($bench is missing)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "compare_pytorch: needs /usr/bin/time (Debian package time)" >&2; exit 1; }
[[ -n $python ]] && "$python" -c "import torch" 2>/dev/null ||
    { echo "compare_pytorch: no python3 with torch (Debian: python3-torch; or set PYTHON)" >&2; exit 1; }

# Debian's python3-torch calls the BLAS that libblas.so.3 resolves to. With only libblas3
# installed that is the reference (netlib) BLAS, about 17x slower than OpenBLAS (measured here: XS
# at 1 thread 532 against 9,046 tokens/s), which no PyTorch user runs: refuse to compare then.
torch_blas=$("$python" -c 'import os, torch
print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))')
blas=$(ldd "$torch_blas" 2>/dev/null | awk '$1 == "libblas.so.3" {print $3}')
if [[ -n $blas && $(readlink -f "$blas") == */blas/libblas.so* ]]; then
    echo "compare_pytorch: PyTorch would run on the reference BLAS ($(readlink -f "$blas"));" \
        "install an optimised one first (Debian: apt-get install libopenblas0-pthread)" >&2
    exit 1
fi

# The path ouro's default takes (lib/core/isa.cpp): only that path's case is run, so the tokens/s
# and the peak RSS are of one path alone.
if [[ -n ${OURO_ISA:-} ]]; then
    isa=$OURO_ISA
elif grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo &&
    grep -qw avx512bw /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
    isa=avx512
else
    isa=avx2
fi
[[ $isa == avx2 || $isa == avx512 ]] || { echo "compare_pytorch: OURO_ISA must be avx2 or avx512, not '$isa'" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

# Prints "tokens/s peak_rss_mb" of one run.
ouro_run() { # $1 config (XS or S), $2 threads
    OMP_NUM_THREADS=$2 /usr/bin/time -f %M -o "$work/rss" "$bench" --benchmark_filter="^BM_Train_$1/$isa/" \
        --benchmark_format=json >"$work/out.json" 2>/dev/null
    local rate
    rate=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["benchmarks"][0]["tokens/s"])' \
        "$work/out.json")
    echo "$rate $(awk '{print $1 / 1024}' "$work/rss")"
}
torch_run() { # $1 config (xs or s), $2 threads
    OMP_NUM_THREADS=$2 "$python" "$here/benchmarks/pytorch_train.py" --config "$1" --threads "$2" |
        awk '{print $6, $8}'
}

echo "ouro: $bench ($isa path); PyTorch: $("$python" -c 'import torch; print(torch.__version__)') ($python)," \
    "BLAS: $(readlink -f "${blas:-unknown}")"
printf "%-7s %-7s %12s %12s %8s %12s %12s\n" config threads "ouro tok/s" "torch tok/s" ratio \
    "ouro RSS MB" "torch RSS MB"
for config in ${CONFIGS:-XS S}; do
    lower=$(echo "$config" | tr '[:upper:]' '[:lower:]')
    for t in "${threads[@]}"; do
        o=() or=() p=() pr=()
        for ((i = 0; i < reps; i++)); do
            read -r rate rss < <(ouro_run "$config" "$t")
            o+=("$rate") or+=("$rss")
            read -r rate rss < <(torch_run "$lower" "$t")
            p+=("$rate") pr+=("$rss")
        done
        om=$(printf "%s\n" "${o[@]}" | median)
        pm=$(printf "%s\n" "${p[@]}" | median)
        printf "%-7s %-7s %12.0f %12.0f %7.2fx %12.0f %12.0f\n" "$config" "$t" "$om" "$pm" \
            "$(echo "$om / $pm" | bc -l)" "$(printf "%s\n" "${or[@]}" | median)" \
            "$(printf "%s\n" "${pr[@]}" | median)"
    done
done
