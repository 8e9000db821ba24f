#!/usr/bin/env bash
# Decoding speed of ouro's Llama path against llama2.c's run.c on the same model file, the same
# machine, in one run: a llama2.c model with random weights in stories15M's shape (dim 288, 6
# layers, 6 heads, hidden 768, vocab 32000, seq 256; benchmarks/make_random_llama2c.py), batch 1,
# 256 greedy tokens from BOS, at 1 and 2 threads. run.c prints its own tokens/s ("achieved
# tok/s"); ouro's sample prints its tokens/s on its summary line. Each is run REPS times,
# alternating, and the median is reported.
#
# Usage: benchmarks/compare_llama2c.sh LLAMA2C_DIR [BUILD_DIR] [REPS]
#   LLAMA2C_DIR: a checkout of github.com/karpathy/llama2.c, outside this repository; the script
#   builds `run` with its Makefile's `run` target (-O3, one thread) into run_plain and its
#   `runomp` target (-Ofast -fopenmp -march=native) into run_omp. One thread is compared with both
#   (run_plain is what `make run` gives, run_omp with OMP_NUM_THREADS=1 is the fastest run.c on
#   one core); two threads with run_omp.
set -euo pipefail
peer=${1:?usage: compare_llama2c.sh LLAMA2C_DIR [BUILD_DIR] [REPS]}
build=${2:-build}
reps=${3:-5}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sample="$here/$build/examples/sample/sample"
[[ -x "$sample" ]] || { echo "compare_llama2c: build ouro first ($sample is missing)" >&2; exit 1; }

(cd "$peer" && make -s run >/dev/null && cp run run_plain && make -s runomp >/dev/null && cp run run_omp)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/benchmarks/make_random_llama2c.py" "$work" >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
peer_rate() { # $1 binary, $2 threads
    OMP_NUM_THREADS=$2 "$peer/$1" "$work/model.bin" -z "$work/tokenizer.bin" -t 0 -n 256 2>&1 \
        >/dev/null | sed -n 's/achieved tok\/s: //p'
}
ouro_rate() { # $1 threads, $2 extra flag
    "$sample" --checkpoint "$work/model.bin" --tokenizer "$work/tokenizer.bin" --greedy \
        --max-new-tokens 256 --end-of-text ignore --threads "$1" $2 2>&1 >/dev/null |
        sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' | tail -1
}

printf "%-8s %-10s %12s %12s %12s %10s %10s\n" threads run.c "run.c tok/s" "ouro f32" "ouro f16" \
    "f32 ratio" "f16 ratio"
for row in "1 run_plain" "1 run_omp" "2 run_omp"; do
    read -r threads binary <<<"$row"
    p=() f=() h=()
    for ((i = 0; i < reps; i++)); do
        p+=("$(peer_rate $binary "$threads")")
        f+=("$(ouro_rate "$threads" "")")
        h+=("$(ouro_rate "$threads" --half)")
    done
    pm=$(printf "%s\n" "${p[@]}" | median)
    fm=$(printf "%s\n" "${f[@]}" | median)
    hm=$(printf "%s\n" "${h[@]}" | median)
    printf "%-8s %-10s %12.1f %12.1f %12.1f %9.2fx %9.2fx\n" "$threads" "$binary" "$pm" "$fm" "$hm" \
        "$(echo "$fm / $pm" | bc -l)" "$(echo "$hm / $pm" | bc -l)"
done
