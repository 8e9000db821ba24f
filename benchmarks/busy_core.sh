#!/usr/bin/env bash
# Threads that never make things slower (issue: a busy core): runs sample, lab demo and train with
# the default thread count and with --threads 1, alternating, while another process keeps one core
# busy (a shell loop, not pinned: the scheduler places it), and prints the median wall time of
# each and their ratio. The default must be no slower than one thread.
#
# Usage: [PROGRAMS="sample demo train"] benchmarks/busy_core.sh [BUILD_DIR] [REPS] [BUSY]
#   BUSY: how many busy loops to start (default 1: one core of a 2-core machine).
#   PROGRAMS: which of the three to run (the demo takes minutes on a loaded machine).
# What runs: sample, 8 samples of 256 tokens from the bundled model; lab demo --quick on the bundled
# model (its report into a temporary folder); train, 10 steps of the xs preset on the synthetic
# stream. The same commands without the busy loop give the idle figures.
set -euo pipefail
build=${1:-build}
reps=${2:-3}
busy=${3:-1}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$here/$build/examples"
for p in sample/sample lab/lab train/train; do
    [[ -x "$bin/$p" ]] || { echo "busy_core: build ouro first ($bin/$p is missing)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
for ((i = 0; i < busy; i++)); do
    bash -c 'while :; do :; done' &
    pids+=($!)
done

run_sample() {
    "$bin/sample/sample" --checkpoint "$here/models/tinystories-2.6m/model.safetensors" \
        --num-samples 8 --seed 1 --max-new-tokens 256 --end-of-text ignore "$@" >/dev/null 2>&1
}
run_demo() { "$bin/lab/lab" --quick --no-progress --out "$work/lab" "$@" demo >/dev/null 2>&1; }
run_train() {
    rm -rf "$work/train"
    "$bin/train/train" --synthetic --preset xs --steps 10 --eval-every 0 --sample-every 0 \
        --checkpoint-every 1000 --no-progress --out "$work/train" "$@" >/dev/null 2>&1
}
seconds() { # the command's wall time
    local start end
    start=$(date +%s.%N)
    "$@" || { echo "busy_core: $* failed" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

printf "%d busy loop(s) on %d cores; medians of %d runs\n" "$busy" "$(nproc)" "$reps"
printf "%-8s %12s %12s %10s\n" program "default s" "1 thread s" "ratio"
for program in ${PROGRAMS:-sample demo train}; do
    d=() o=()
    for ((i = 0; i < reps; i++)); do
        d+=("$(seconds "run_$program")")
        o+=("$(seconds "run_$program" --threads 1)")
    done
    dm=$(printf "%s\n" "${d[@]}" | median)
    om=$(printf "%s\n" "${o[@]}" | median)
    printf "%-8s %12.2f %12.2f %9.2fx\n" "$program" "$dm" "$om" "$(echo "$dm / $om" | bc -l)"
done
