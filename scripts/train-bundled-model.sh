#!/usr/bin/env bash
# Trains the bundled model (models/tinystories-2.6m) from TinyStories text with the project's own
# programs, and writes it as a 16-bit sampling model with its tokenizer and provenance.json.
# About 21 minutes on 2 cores (measured: 1,200 steps at ~3,900 tokens/s).
#
#   scripts/train-bundled-model.sh TRAIN.txt VALID.txt OUT_DIR [BUILD_DIR]
#
# OUT_DIR receives data/ (tokenizer and token shards), run/ (checkpoints every 200 steps and
# log.csv, which `lab e6 --checkpoints OUT_DIR/run` reads) and model/ (the bundle); a rerun
# replaces them (prepare and train --overwrite).
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 TRAIN.txt VALID.txt OUT_DIR [BUILD_DIR]" >&2
    exit 1
fi
train_text=$1 valid_text=$2 out=$3 build=${4:-build}
for f in "$train_text" "$valid_text"; do
    [[ -f $f ]] || { echo "train-bundled-model: $f does not exist" >&2; exit 1; }
done
for p in prepare train lab; do
    [[ -x $build/examples/$p/$p ]] || { echo "train-bundled-model: $build/examples/$p/$p is not built (run cmake --build $build)" >&2; exit 1; }
done
mkdir -p "$out"
"$build/examples/prepare/prepare" --train "$train_text" --valid "$valid_text" --vocab-size 4096 \
    --out "$out/data" --overwrite
train_args=(--data "$out/data" --preset s --n-layer 4 --n-head 6 --n-embd 192 --block-size 256
    --position rope --dropout 0.1 --batch-size 16 --steps 1200 --lr 1.5e-3 --min-lr 1.5e-4
    --warmup 100 --weight-decay 0.1 --clip 1.0 --seed 1337 --eval-every 100 --eval-batches 20
    --sample-every 0 --checkpoint-every 200 --out "$out/run")
"$build/examples/train/train" "${train_args[@]}" --overwrite
commit=$(git -C "$(dirname "$0")/.." rev-parse HEAD 2>/dev/null || echo unknown)
"$build/examples/lab/lab" bundle --from "$out/run/ckpt-001200.safetensors" --data "$out/data" \
    --train-text "$train_text" --valid-text "$valid_text" --commit "$commit" \
    --command "prepare --train $(basename "$train_text") --valid $(basename "$valid_text") --vocab-size 4096 --out data && train ${train_args[*]}" \
    --to "$out/model"
