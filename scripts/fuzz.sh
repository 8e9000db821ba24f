#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer (README: "Fuzzing"). Builds the fuzz preset
# (clang, ASan + UBSan, every report fatal), writes the seed corpora with the library's own
# writers, then runs each target for FUZZ_SECONDS seconds (20 by default, as CI does). The
# corpus each run grows is kept in build-fuzz/corpus/<target>, so longer runs build on earlier
# ones; an input that crashes is saved in build-fuzz/findings/<target>/ and the script fails.
#   scripts/fuzz.sh                                    # every target, 20 s each
#   FUZZ_SECONDS=3600 scripts/fuzz.sh sampler bundle   # the named targets, an hour each
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${FUZZ_SECONDS:-20}"
all=(safetensors checkpoint hf_import llmc_import bundle tokenizer_files tokenizer_encode
     token_shard tinystories sampler)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=("${all[@]}")
fi

bash scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
build-fuzz/tests/fuzz/ouro_fuzz_seeds build-fuzz/seeds

failed=()
for t in "${targets[@]}"; do
    corpus="build-fuzz/corpus/$t"
    findings="build-fuzz/findings/$t"
    log="build-fuzz/fuzz_$t.log"
    mkdir -p "$corpus" "$findings"
    # -rss_limit_mb: a file that makes the library allocate gigabytes is a finding too.
    if build-fuzz/tests/fuzz/"fuzz_$t" "$corpus" "build-fuzz/seeds/$t" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz_$t: ${runs:-?} inputs in ${seconds} s, no finding"
    else
        echo "fuzz_$t: FINDING (log: $log, input in $findings/)" >&2
        tail -n 40 "$log" >&2
        failed+=("$t")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: findings in ${failed[*]}" >&2
    exit 1
fi
