#!/usr/bin/env bash
# Crash safety of train (run by CTest: test_train_crash.sh TRAIN PREPARE SAMPLE WORK): a tiny run
# that checkpoints every step is killed with SIGKILL 20 times at seeded random moments (during
# start-up, during steps, during checkpoint writes) and resumed from its newest checkpoint each
# time, then finished. Checks:
#  1. every checkpoint left on disk loads (sample reads it and generates a token);
#  2. the final checkpoint's tensors (weights and AdamW moments) equal those of an uninterrupted
#     run byte for byte;
#  3. no temporary file of the atomic writer remains once the run has started again;
#  4. the log has exactly one row per step, equal to the uninterrupted run's log.
# Kills land on a running process by construction: the killed runs are given --steps 100000 (the
# cosine's length is fixed by --lr-decay-steps), and the finishing run --steps $steps. Kill times
# vary with the machine's speed; what is checked does not. (How many kills hit a checkpoint write
# varies too; test_train_outputs.cmake checks the removal of leftovers without timing.)
set -euo pipefail
train=$1 prepare=$2 sample=$3 work=$4
steps=100
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
# Seconds since the start, to a tenth, for the figures.
started=${EPOCHREALTIME/./}
seconds() {
    local ms=$(((${EPOCHREALTIME/./} - started) / 1000))
    echo "$((ms / 1000)).$((ms % 1000 / 100))"
}

# Tiny stories (a 300-token BPE learns them quickly), from a fixed seed.
RANDOM=1
names=(Lily Tom Sue Max Ben Mia) things=(ball kite dog cat tree boat cake hat)
for ((i = 0; i < 300; i++)); do
    n=${names[RANDOM % 6]} t=${things[RANDOM % 8]}
    printf 'Once upon a time, %s had a %s. One day the %s went away, and %s looked for it.\n' \
        "$n" "$t" "$t" "$n"
    echo '<|endoftext|>'
done >stories.txt
"$prepare" --train stories.txt --vocab-size 300 --valid-every 10 --threads 1 --out data >/dev/null

common=(--data "$work/data" --preset tiny --n-embd 16 --block-size 16 --batch-size 4 --lr 3e-3
    --warmup 5 --lr-decay-steps "$steps" --eval-every 0 --eval-batches 2 --seed 7 --threads 1
    --no-progress)
"$train" "${common[@]}" --steps "$steps" --checkpoint-every 0 --out ref >/dev/null
ref_done=$(seconds)

# The newest checkpoint in run/: its step (0 when none) and path. A glob, no subprocess: it is
# polled every few milliseconds. Names have six digits up to step 999999, so they sort by step.
newest() {
    local files=(run/ckpt-[0-9]*.safetensors)
    newest_step=0 newest_path=
    if [[ -f ${files[-1]} ]]; then
        newest_path=${files[-1]}
        newest_step=$((10#${newest_path:9:6}))
    fi
}

# A sleep without a process (read's timeout on a pipe that never delivers): the poll below runs
# every few milliseconds even on a loaded machine.
exec {never}<> <(:)
nap() { read -r -t "$1" -u "$never" _ || true; }
# Whether train (process $pid) still runs: not a zombie waiting to be reaped.
alive() {
    local state
    read -r _ _ state _ 2>/dev/null <"/proc/$pid/stat" && [[ $state != Z ]]
}

RANDOM=20240611
kills=0 at_start=0 in_write=0
for ((attempt = 1; attempt <= 20; attempt++)); do
    newest
    from=$newest_step
    if ((from == 0)); then
        # No checkpoint yet: a new run (the killed one may have logged rows).
        "$train" "${common[@]}" --steps 100000 --checkpoint-every 1 --out run --overwrite \
            >>run.out 2>>run.err &
    else
        "$train" --resume "$newest_path" --threads 1 --no-progress >>run.out 2>>run.err &
    fi
    pid=$!
    ahead=$((RANDOM % 5))
    if ((ahead == 0)); then
        # During start-up: leftovers removal, loading, the log's truncation.
        nap "0.0$((RANDOM % 50 + 10))"
        ((++at_start))
    else
        # A few steps on, then a moment into the next step or checkpoint write.
        deadline=$((SECONDS + 60))
        while newest && ((newest_step < from + ahead)); do
            alive || fail "attempt $attempt: train stopped: $(cat run.err)"
            ((SECONDS < deadline)) || fail "attempt $attempt: no checkpoint in 60 s"
            nap 0.002
        done
        nap "0.00$((RANDOM % 8))"
    fi
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    ((rc == 137)) || fail "attempt $attempt: train stopped by itself (exit $rc): $(cat run.err)"
    ((++kills))
    if compgen -G 'run/*.tmp-*' >/dev/null; then
        ((++in_write))
        ls run/*.tmp-* >>leftovers.txt
    fi
done

kills_done=$(seconds)

# Finish from the newest checkpoint up to $steps (the killed runs may have gone past it), with
# fewer checkpoints: this run is not killed.
ckpt=
for c in run/ckpt-[0-9]*.safetensors; do
    if [[ -f $c ]] && ((10#${c:9:6} <= steps)); then
        ckpt=$c
    fi
done
[[ -n $ckpt ]] || fail "no checkpoint after 20 attempts"
"$train" --resume "$ckpt" --steps "$steps" --checkpoint-every 10 --threads 1 --no-progress \
    >>run.out 2>>run.err ||
    fail "the finishing run failed: $(tail -n 1 run.err)"
final=run/$(printf 'ckpt-%06d.safetensors' "$steps")
[[ -f $final ]] || fail "no $final"

# 1. Every checkpoint loads.
checked=0
for c in run/ckpt-*.safetensors; do
    "$sample" --checkpoint "$c" --tokenizer data --max-new-tokens 1 --greedy --color never \
        --threads 1 >/dev/null 2>sample.err || fail "$c does not load: $(cat sample.err)"
    ((++checked))
done

# 2. The tensors (everything after the 8-byte header length and the JSON header) byte for byte.
tensors() {
    local n
    n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
    tail -c +$((n + 9)) "$1"
}
tensors "ref/ckpt-$(printf '%06d' "$steps").safetensors" >ref.tensors
tensors "$final" >run.tensors
ref_size=$(stat -c %s ref.tensors) run_size=$(stat -c %s run.tensors)
differing=$(cmp -l ref.tensors run.tensors 2>/dev/null | wc -l || true)
lost=$((differing + (ref_size > run_size ? ref_size - run_size : run_size - ref_size)))

# 3. No temporary files.
left=$(compgen -G 'run/*.tmp-*' || true)
[[ -z $left ]] || fail "temporary files remain: $left"

# 4. One row per step, as the uninterrupted run's (step, loss, lr, grad_norm; val_loss is only
#    computed at the end of a run, and tokens/s is a measurement).
rows=$(tail -n +2 run/log.csv | cut -d, -f1 | tr '\n' ' ')
[[ $rows == "$(seq -s ' ' 1 "$steps") " ]] || fail "log steps are not 1..$steps once each: $rows"
cmp -s <(cut -d, -f1,2,4,5 ref/log.csv) <(cut -d, -f1,2,4,5 run/log.csv) ||
    fail "the log differs from the uninterrupted run's"

echo "kills survived: $kills/20 ($at_start during start-up, $in_write during a checkpoint write)"
echo "bytes lost: $lost (final tensors: $ref_size bytes; log: $steps rows for $steps steps)"
echo "checkpoints that load: $checked/$checked; temporary files left: 0"
echo "time: $(seconds) s (data and the uninterrupted run by $ref_done s," \
    "the 20th kill at $kills_done s)"
((lost == 0)) || fail "the final tensors differ from the uninterrupted run's in $lost bytes"
((kills == 20)) || fail "only $kills kills"
