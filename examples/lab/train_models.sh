#!/usr/bin/env bash
# Trains the models that the collapse lab's E4 and E6 compare (COLLAPSE.md, mechanisms 4 and 5):
# three runs of the same small config (V=4096, T=256, C=192, L=4, NH=6, 2.57M parameters with
# RoPE) that differ only in their positional encoding (learned, RoPE, ALiBi), for E4; the RoPE
# run also writes a checkpoint every STEPS/6 steps, for E6. Each run folder gets a copy of the
# tokenizer (vocab.json, merges.txt), so `lab e4 --extra-checkpoint` finds it next to the model.
#
#   examples/lab/train_models.sh                        # prepare (if needed) + three runs
#   STEPS=10 OUT=/tmp/lab-runs examples/lab/train_models.sh   # a short check of the script
#
# Settings (environment variables):
#   BUILD   the build folder with examples/prepare/prepare and examples/train/train (build)
#   DATA    prepared data (train.bin, val.bin, vocab.json, merges.txt); made by prepare from
#           TRAIN_TEXT and VALID_TEXT when it has no train.bin (runs/lab-data)
#   TRAIN_TEXT, VALID_TEXT   TinyStories .txt files for prepare
#   OUT     folder of the runs: OUT/learned, OUT/rope, OUT/alibi (runs/lab; a rerun replaces
#           them: train --overwrite)
#   STEPS   optimizer steps per run (1200, as the bundled model)
#   THREADS OpenMP threads per run (2)
#   EVAL_BATCHES  validation batches (20)
#
# Time: about 1 s per step with 2 threads (16 x 256 tokens per step; the bundled model's run of
# this config averaged 4,200 tokens/s over its 1,200 steps on a shared 2-core machine), so about
# 20 minutes per run of 1200 steps and an hour for the three. The script prints the time per
# step it measured: a 2-step check (STEPS=2 THREADS=1 EVAL_BATCHES=1) took 19-31 s per step
# under a load average of 9, which measures the load more than the model.
set -euo pipefail

BUILD=${BUILD:-build}
DATA=${DATA:-runs/lab-data}
TRAIN_TEXT=${TRAIN_TEXT:-../shared/data/tinystories/train.txt}
VALID_TEXT=${VALID_TEXT:-../shared/data/tinystories/valid.txt}
OUT=${OUT:-runs/lab}
STEPS=${STEPS:-1200}
THREADS=${THREADS:-2}
EVAL_BATCHES=${EVAL_BATCHES:-20}

PREPARE="$BUILD/examples/prepare/prepare"
TRAIN="$BUILD/examples/train/train"
for program in "$PREPARE" "$TRAIN"; do
    if [[ ! -x "$program" ]]; then
        echo "train_models.sh: $program not found (build it: cmake --build $BUILD --target prepare train)" >&2
        exit 1
    fi
done
if ! [[ "$STEPS" =~ ^[0-9]+$ ]] || ((STEPS < 1)); then
    echo "train_models.sh: STEPS must be a positive integer, got '$STEPS'" >&2
    exit 1
fi

if [[ ! -f "$DATA/train.bin" ]]; then
    echo "== prepare: $TRAIN_TEXT -> $DATA (BPE, 4096 tokens)"
    "$PREPARE" --train "$TRAIN_TEXT" --valid "$VALID_TEXT" --vocab-size 4096 --out "$DATA" \
        --threads "$THREADS"
fi

# E6 wants several checkpoints of one run: every STEPS/6 steps (at least every step).
EVERY=$((STEPS / 6))
((EVERY >= 1)) || EVERY=1
WARMUP=$((STEPS / 12))
((WARMUP >= 1)) || WARMUP=1
# Validation every 100 steps (as the bundled model's run); a short run validates at its end only.
EVAL=100
((STEPS >= 100)) || EVAL=0

for position in learned rope alibi; do
    run="$OUT/$position"
    every=$STEPS
    [[ $position == rope ]] && every=$EVERY
    echo "== train: $position positions, $STEPS steps -> $run"
    start=$(date +%s.%N)
    "$TRAIN" --data "$DATA" --preset s --n-layer 4 --n-head 6 --n-embd 192 --block-size 256 \
        --position "$position" --dropout 0.1 --batch-size 16 --steps "$STEPS" --lr 1.5e-3 \
        --min-lr 1.5e-4 --warmup "$WARMUP" --weight-decay 0.1 --clip 1.0 --seed 1337 \
        --eval-every "$EVAL" --eval-batches "$EVAL_BATCHES" --sample-every 0 --checkpoint-every "$every" \
        --out "$run" --overwrite --threads "$THREADS" --no-progress
    end=$(date +%s.%N)
    cp "$DATA/vocab.json" "$DATA/merges.txt" "$run/"
    awk -v s="$start" -v e="$end" -v n="$STEPS" 'BEGIN {
        printf "   %.1f s for %d steps: %.2f s per step, about %.0f minutes for 1200 steps\n",
               e - s, n, (e - s) / n, (e - s) / n * 1200 / 60 }'
done

final=$(printf "ckpt-%06d.safetensors" "$STEPS")
cat <<EOF

Done. Compare the context policies on the three models (E4) and the RoPE run's checkpoints (E6):
  $BUILD/examples/lab/lab --checkpoint $OUT/rope/$final --tokenizer $OUT/rope \\
      --valid $VALID_TEXT --out lab-out e4 \\
      --extra-checkpoint $OUT/learned/$final --extra-checkpoint $OUT/alibi/$final
  $BUILD/examples/lab/lab --checkpoint $OUT/rope/$final --tokenizer $OUT/rope \\
      --valid $VALID_TEXT --out lab-out e6 --checkpoints $OUT/rope
EOF
