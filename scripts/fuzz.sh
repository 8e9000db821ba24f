#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer (README: "Sanitizers and fuzzing"). Builds
# the fuzz targets of the fuzz preset (clang, ASan + UBSan, every report fatal), writes the seed
# corpora with the library's own writers, then runs each target for FUZZ_SECONDS seconds (20 by
# default; CI, in scripts/sanitize.sh, runs 10). The corpus each run grows is kept in
# build-fuzz/corpus/<target>, so longer runs build on earlier ones; an input that crashes is saved
# in build-fuzz/findings/<target>/ and the script fails.
#   scripts/fuzz.sh                                    # every target, 20 s each
#   FUZZ_SECONDS=3600 scripts/fuzz.sh sampler bundle   # the named targets, an hour each
#   FUZZ_JOBS=2 scripts/fuzz.sh                        # two targets at a time
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${FUZZ_SECONDS:-20}"
all=(safetensors checkpoint hf_import hf_folder llmc_import llama2c_import bundle tokenizer_files
     tokenizer_encode llama2c_tokenizer token_shard tinystories sampler)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=("${all[@]}")
fi

bash scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target ouro_fuzz_all # not ouro_tests
build-fuzz/tests/fuzz/ouro_fuzz_seeds build-fuzz/seeds

# Runs target $1 (its log in build-fuzz/fuzz_$1.log) and writes one line on the outcome, which
# starts with "FINDING" when the target stopped on an input, to build-fuzz/fuzz_$1.outcome.
fuzz_one() {
    local t="$1" corpus="build-fuzz/corpus/$1" findings="build-fuzz/findings/$1"
    local log="build-fuzz/fuzz_$1.log" runs
    mkdir -p "$corpus" "$findings"
    # -rss_limit_mb: a file that makes the library allocate gigabytes is a finding too.
    if build-fuzz/tests/fuzz/"fuzz_$t" "$corpus" "build-fuzz/seeds/$t" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz_$t: ${runs:-?} inputs in ${seconds} s, no finding" >"build-fuzz/fuzz_$t.outcome"
    else
        echo "FINDING: fuzz_$t (log: $log, input in $findings/)" >"build-fuzz/fuzz_$t.outcome"
    fi
}

# FUZZ_JOBS targets at a time (1 by default; CI runs one per core). The library's OpenMP threads
# (clang's libomp) sleep at once after a parallel region instead of spinning for 200 ms, so that
# several targets share the cores.
jobs="${FUZZ_JOBS:-1}"
export KMP_BLOCKTIME="${KMP_BLOCKTIME:-0}"
running=0
for t in "${targets[@]}"; do
    if ((running >= jobs)); then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait

failed=()
for t in "${targets[@]}"; do
    outcome=$(cat "build-fuzz/fuzz_$t.outcome")
    if [[ "$outcome" == FINDING* ]]; then
        echo "$outcome" >&2
        tail -n 40 "build-fuzz/fuzz_$t.log" >&2
        failed+=("$t")
    else
        echo "$outcome"
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: findings in ${failed[*]}" >&2
    exit 1
fi
