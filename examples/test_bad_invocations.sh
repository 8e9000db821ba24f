#!/usr/bin/env bash
# Bad invocations of every example program (ctest examples_bad_invocations). Each row of the table
# below runs one program with one mistake and passes when the program
#  - exits with a non-zero code within $limit seconds (a hang or a slow path fails it),
#  - prints exactly one line on stderr, starting with "PROGRAM: " and holding the row's fragment,
#  - and nothing that only a C++ programmer could read (std::..., bad_alloc, vector::reserve).
# Then every option of every --help that takes a value must show its default (or REQUIRED).
# It prints how many invocations were tried and how many got a clear one-line error.
#
#   test_bad_invocations.sh --bin DIR --shared DIR --bundled MODEL --work DIR
#     DIR/{sample,lab,train,prepare,download,autograd}: the programs (paths given one by one with
#     --sample FILE etc. instead); --shared: ../shared/data (rows that need stories260K or GPT-2's
#     tokenizer are skipped without it); --bundled: models/tinystories-2.6m/model.safetensors.
set -u

limit=10
declare -A bin
shared="" bundled="" work=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --sample | --lab | --train | --prepare | --download | --autograd) bin[${1#--}]="$2" ;;
    --shared) shared="$2" ;;
    --bundled) bundled="$2" ;;
    --work) work="$2" ;;
    *)
        echo "test_bad_invocations: unknown argument $1" >&2
        exit 2
        ;;
    esac
    shift 2
done
for p in sample lab train prepare download autograd; do
    [[ -x "${bin[$p]:-}" ]] || {
        echo "test_bad_invocations: --$p PROGRAM is missing" >&2
        exit 2
    }
done
[[ -f "$bundled" && -n "$work" ]] || {
    echo "test_bad_invocations: give --bundled MODEL and --work DIR" >&2
    exit 2
}

# Tiny inputs: a prompt, an empty and a blank file, a folder, a FIFO (a reader that opened it would
# block forever), a file that is no model, a few stories, and a model with learned positions
# (block size 32) trained for one step on them.
rm -rf "$work"
mkdir -p "$work/folder"
cd "$work" || exit 2
printf 'Once upon a time\n' >prompt.txt
: >empty.txt
printf '\n  \n\n' >blank.txt
mkfifo fifo
printf 'not a model' >not-a-model.safetensors
names=(Lily Tom Ben Mia Sam Anna)
things=(ball cat dog tree cake boat bird)
for i in $(seq 0 199); do
    n=${names[i % 6]} t=${things[i % 7]}
    printf 'Once upon a time, %s had a %s. %s liked the %s very much. One day the %s was lost. ' \
        "$n" "$t" "$n" "$t" "$t"
    printf '%s looked for it and found it under a bed. %s was happy.\n<|endoftext|>\n' "$n" "$n"
done >stories.txt
"${bin[prepare]}" --train stories.txt --vocab-size 300 --valid-every 10 --out data >/dev/null &&
    "${bin[train]}" --data data --preset tiny --steps 1 --batch-size 2 --eval-batches 1 \
        --no-progress --out learned >/dev/null || {
    echo "test_bad_invocations: could not make the tiny learned-position model" >&2
    exit 1
}
learned=$work/learned/ckpt-000001.safetensors
s260="$shared/tinyllamas/stories260K.bin"
tok512="$shared/tinyllamas/tok512.bin"
gpt2="$shared/gpt2"
long_prompt=$(printf 'Once upon a time there was a girl. %.0s' $(seq 1 60))
a64=$(printf 'a%.0s' $(seq 1 64))

tried=0 clear=0 skipped=0 slowest=0 slowest_row=""
failures=()

# bad PROGRAM FRAGMENT ARGS...: one row of the table.
bad() {
    local program=$1 fragment=$2
    shift 2
    local name=$program
    tried=$((tried + 1))
    local start=$SECONDS
    timeout -k 2 "$limit" "${bin[$program]}" "$@" </dev/null >out.txt 2>err.txt
    local rc=$? took=$((SECONDS - start))
    if ((took > slowest)); then
        slowest=$took slowest_row="$program $*"
    fi
    local err why=""
    err=$(cat err.txt)
    if ((rc == 124 || rc == 137)); then
        why="no answer within $limit s"
    elif ((rc == 0)); then
        why="exit code 0"
    elif [[ $(wc -l <err.txt) -ne 1 || $(head -n 1 err.txt | wc -c) -ne $(wc -c <err.txt) ]]; then
        why="stderr is not one line"
    elif [[ "$err" != "$name: "* ]]; then
        why="the line does not start with '$name: '"
    elif [[ "$err" != *"$fragment"* ]]; then
        why="no '$fragment' in it"
    elif [[ "$err" =~ std::|bad_alloc|vector::|basic_string|terminate\ called|what\(\) ]]; then
        why="a C++ internal in it"
    fi
    if [[ -z "$why" ]]; then
        clear=$((clear + 1))
    else
        failures+=("$program $* -> exit $rc, $why: $(head -c 400 err.txt)")
    fi
}
# needs FILE... : the next row runs only when the files are there.
needs() {
    for f in "$@"; do
        [[ -e "$f" ]] || return 1
    done
}

# ---- sample -------------------------------------------------------------------------------------
m=(--checkpoint "$bundled" --color never)
bad sample "--max-new-tokens 10000000000: must be between 1 and 1048576" "${m[@]}" -n 10000000000
bad sample "--max-new-tokens 0: must be between 1 and 1048576" "${m[@]}" --max-new-tokens 0
bad sample "--max-new-tokens -5: must be between 1 and 1048576" "${m[@]}" -n -5
bad sample "--max-new-tokens ten: must be a whole number between 1 and 1048576" "${m[@]}" -n ten
bad sample "--max-new-tokens 99999999999999999999999: must be between" "${m[@]}" -n 99999999999999999999999
bad sample "--max-new-tokens 1.5: must be a whole number" "${m[@]}" -n 1.5
bad sample "--max-new-tokens 0x10: must be a whole number" "${m[@]}" -n 0x10
bad sample "--max-new-tokens" "${m[@]}" --max-new-tokens
bad sample "--temperature -1: must be >= 0" "${m[@]}" --temperature -1
bad sample "--temperature -0.5: must be >= 0" "${m[@]}" --temp -0.5
bad sample "--temperature nan: must be a finite number >= 0" "${m[@]}" --temp nan
bad sample "--temperature inf: must be a finite number >= 0" "${m[@]}" --temp inf
bad sample "--temperature 1e400: must be a finite number >= 0" "${m[@]}" --temperature 1e400
bad sample "--temperature hot: must be a number >= 0" "${m[@]}" --temp hot
bad sample "--top-p 2: must be in (0, 1]" "${m[@]}" --top-p 2
bad sample "--top-p 0: must be in (0, 1]" "${m[@]}" --top-p 0
bad sample "--top-p -0.1: must be in (0, 1]" "${m[@]}" --top-p -0.1
bad sample "--top-k -1: must be between 0 and 1048576" "${m[@]}" --top-k -1
bad sample "--top-k 40.5: must be a whole number" "${m[@]}" --top-k 40.5
bad sample "--min-p 1.5: must be in [0, 1]" "${m[@]}" --min-p 1.5
bad sample "--typical 0: must be in (0, 1]" "${m[@]}" --typical 0
bad sample "--epsilon 1: must be in [0, 1)" "${m[@]}" --epsilon 1
bad sample "--eta -1: must be in [0, 1)" "${m[@]}" --eta -1
bad sample "--top-n-sigma -2: must be >= 0" "${m[@]}" --top-n-sigma -2
bad sample "--mirostat-tau 0: must be > 0" "${m[@]}" --mirostat --mirostat-tau 0
bad sample "--mirostat-tau requires --mirostat" "${m[@]}" --mirostat-tau 3
bad sample "--mirostat-eta -1: must be > 0" "${m[@]}" --mirostat --mirostat-eta -1
bad sample "--mirostat-surprise: half not in {truncated,raw}" "${m[@]}" --mirostat --mirostat-surprise half
bad sample "--mirostat-surprise requires --mirostat" "${m[@]}" --mirostat-surprise raw
bad sample "mirostat cannot be combined with greedy" "${m[@]}" --mirostat --greedy
bad sample "--repetition-penalty 0: must be > 0" "${m[@]}" --repetition-penalty 0
bad sample "--penalty-window -3: must be between 0 and 1048576" "${m[@]}" --penalty-window -3
bad sample "--frequency-penalty inf: must be a finite number" "${m[@]}" --frequency-penalty inf
bad sample "--presence-penalty nan: must be a finite number" "${m[@]}" --presence-penalty nan
bad sample "--no-repeat-ngram -1: must be between 0 and 1048576" "${m[@]}" --no-repeat-ngram -1
bad sample "--dry-multiplier -1: must be >= 0" "${m[@]}" --dry-multiplier -1
bad sample "--dry-base requires --dry-multiplier" "${m[@]}" --dry-base 2
bad sample "--dry-base 0.5: must be >= 1" "${m[@]}" --dry-multiplier 0.8 --dry-base 0.5
bad sample "--dry-allowed-length 0: must be between 1 and 1048576" "${m[@]}" --dry-multiplier 0.8 --dry-allowed-length 0
bad sample "--xtc-probability 2: must be in [0, 1]" "${m[@]}" --xtc-probability 2
bad sample "--xtc-threshold 0: must be in (0, 1]" "${m[@]}" --xtc-probability 0.5 --xtc-threshold 0
bad sample "--logit-bias 'zzzz=-inf': 'zzzz' is not a token" "${m[@]}" --logit-bias zzzz=-inf
bad sample "token id 99999 is outside the vocabulary [0, 4096)" "${m[@]}" --logit-bias 99999=-inf
bad sample "the bias 'big' is not a finite number or -inf" "${m[@]}" --logit-bias 3=big
bad sample "expected TOKEN=BIAS" "${m[@]}" --logit-bias 42
bad sample "unknown stage 'top_q'" "${m[@]}" --samplers top_q
bad sample "stage 'top_k' appears twice" "${m[@]}" --samplers top_k,top_k
bad sample "--beam 0: must be between 1 and 256" "${m[@]}" --beam 0
bad sample "--beam 100000: must be between 1 and 256" "${m[@]}" --beam 100000
bad sample "--top-p has no effect with --beam" "${m[@]}" --beam 2 --top-p 0.9
bad sample "--num-samples 3 is more than --beam 2" "${m[@]}" --beam 2 --num-samples 3
bad sample "--trace is not available with --beam" "${m[@]}" --beam 2 --trace t.csv
bad sample "excludes" "${m[@]}" --beam 2 --contrastive
bad sample "--length-penalty requires --beam" "${m[@]}" --length-penalty 1.2
bad sample "--length-penalty nan: must be a finite number" "${m[@]}" --beam 2 --length-penalty nan
bad sample "--contrastive-k 0: must be between 1 and 256" "${m[@]}" --contrastive --contrastive-k 0
bad sample "--contrastive-k requires --contrastive" "${m[@]}" --contrastive-k 3
bad sample "--alpha 1.5: must be in [0, 1]" "${m[@]}" --contrastive --alpha 1.5
bad sample "contrastive search is deterministic, use 1" "${m[@]}" --contrastive --num-samples 2
bad sample "--seed has no effect with --contrastive" "${m[@]}" --contrastive --seed 3
bad sample "--end-of-text ignore is not available with --contrastive" "${m[@]}" --contrastive --end-of-text ignore
bad sample "--num-samples 0: must be between 1 and 65536" "${m[@]}" --num-samples 0
bad sample "--num-samples 100000000: must be between 1 and 65536" "${m[@]}" --num-samples 100000000
bad sample "--seed -1: must be a whole number between 0 and 18446744073709551615" "${m[@]}" -s -1
bad sample "--seed 18446744073709551616: must be a whole number" "${m[@]}" --seed 18446744073709551616
bad sample "--seed 0x10: must be a whole number" "${m[@]}" -s 0x10
bad sample "--threads 0: must be between 1 and 1024" "${m[@]}" -t 0
bad sample "--threads 100000: must be between 1 and 1024" "${m[@]}" --threads 100000
bad sample "--threads -2: must be between 1 and 1024" "${m[@]}" -t -2
bad sample "--context -1: must be between 0 and 1048576" "${m[@]}" --context -1
bad sample "--context 1048577: must be between 0 and 1048576" "${m[@]}" --context 1048577
bad sample "--context 64: more than the model's block size of 32, and its learned positions" \
    --checkpoint "$learned" --context 64
bad sample "policy needs RoPE or ALiBi positions; this model has learned positions" \
    --checkpoint "$learned" --context-policy slide
bad sample "--context-policy: sideways not in {stop,crop,slide,sinks}" "${m[@]}" --context-policy sideways
bad sample "--sink-tokens applies only to --context-policy sinks, not 'stop'" "${m[@]}" --sink-tokens 2
bad sample "--sink-tokens -1: must be between 0 and 1048576" "${m[@]}" --context-policy sinks --sink-tokens -1
bad sample "sink_tokens = 8 leaves no room for a sliding window in a context of 8" "${m[@]}" \
    --context-policy sinks --context 8 --sink-tokens 8
bad sample "prompt 1 has" "${m[@]}" --context 8 -p "Once upon a time there was a little girl who liked to play"
bad sample "prompt 1 has" --checkpoint "$learned" -p "$long_prompt"
bad sample "--context 1048576 for 256 sequence(s) needs a key/value cache of" "${m[@]}" \
    --context 1048576 --beam 256
bad sample "--end-of-text: maybe not in {stop,ignore,new_story}" "${m[@]}" --end-of-text maybe
bad sample "--color: sometimes not in {auto,always,never}" "${m[@]}" --color sometimes
bad sample "--trace x.txt: the file name must end in .csv or .jsonl" "${m[@]}" --trace x.txt
bad sample "--trace no/such/t.csv: the folder no/such does not exist" "${m[@]}" --trace no/such/t.csv
bad sample "--trace folder: is a folder, not a file" "${m[@]}" --trace folder
bad sample "--file missing.txt: no such file" "${m[@]}" -f missing.txt
bad sample "--file folder: is a folder, not a file" "${m[@]}" -f folder
bad sample "--file fifo: is a FIFO, not a regular file" "${m[@]}" -f fifo
bad sample "--prompt-file missing.txt: no such file" "${m[@]}" --prompt-file missing.txt
bad sample "--prompt-file folder: is a folder, not a file" "${m[@]}" --prompt-file folder
bad sample "--prompt-file blank.txt: no prompt in it" "${m[@]}" --prompt-file blank.txt
bad sample "--prompt-file empty.txt: no prompt in it" "${m[@]}" --prompt-file empty.txt
bad sample "--stop '': a stop string cannot be empty" "${m[@]}" --stop ""
bad sample "--stop '': a stop string cannot be empty" "${m[@]}" --stop . --stop ""
bad sample "--stop: 1 required TEXT missing" "${m[@]}" --stop
bad sample "--stop is not available with --beam" "${m[@]}" --beam 2 --stop .
bad sample "--json is not available with --beam" "${m[@]}" --beam 2 --json
bad sample "--color always has no effect with --json" --checkpoint "$bundled" --json --color
bad sample "excludes" "${m[@]}" -f prompt.txt -p "Once"
bad sample "excludes" "${m[@]}" -f prompt.txt --prompt-file prompt.txt
bad sample "--checkpoint missing.safetensors: no such file or folder" --checkpoint missing.safetensors
bad sample "--checkpoint /dev/zero: is a character device, not a file or folder" --checkpoint /dev/zero
bad sample "--checkpoint fifo: is a FIFO, not a file or folder" --checkpoint fifo
bad sample "not-a-model.safetensors" --checkpoint not-a-model.safetensors
bad sample "folder: a folder that holds neither config.json" --checkpoint folder
bad sample "--checkpoint is required" --greedy
bad sample "The following argument was not expected: --bogus" "${m[@]}" --bogus
bad sample "The following argument was not expected: stray" "${m[@]}" stray
bad sample "--tokenizer missing: no such file or folder" "${m[@]}" --tokenizer missing
bad sample "--tokenizer fifo: is a FIFO" "${m[@]}" --tokenizer fifo
if needs "$gpt2/vocab.json"; then
    bad sample "trained with tokenizer" "${m[@]}" --tokenizer "$gpt2"
else skipped=$((skipped + 1)); fi
if needs "$s260" "$tok512"; then
    bad sample "--context 1048576 for 256 sequence(s) needs a key/value cache of" \
        --checkpoint "$s260" --tokenizer "$tok512" --context 1048576 --beam 256
    bad sample "--top-p 1.01: must be in (0, 1]" --checkpoint "$s260" --tokenizer "$tok512" --top-p 1.01
    bad sample "token id 512 is outside the vocabulary [0, 512)" --checkpoint "$s260" \
        --tokenizer "$tok512" --logit-bias 512=-inf
else skipped=$((skipped + 3)); fi

# ---- lab ----------------------------------------------------------------------------------------
bad lab "give a sub-command: demo, e1 ... e9, all or bundle"
bad lab "give a sub-command" --samples 2
bad lab "The following argument was not expected: e42" e42
bad lab "The following argument was not expected: --bogus" --bogus e1
bad lab "--samples 0: must be between 1 and 65536" e1 --samples 0
bad lab "--samples abc: must be a whole number" e1 --samples abc
bad lab "--max-new-tokens 0: must be between 1 and 1048576" -n 0 e1
bad lab "--max-new-tokens 99999999999: must be between 1 and 1048576" e3 -n 99999999999
bad lab "--seed -5: must be a whole number" e1 -s -5
bad lab "--threads 0: must be between 1 and 1024" e1 -t 0
bad lab "--threads 5000: must be between 1 and 1024" e1 --threads 5000
bad lab "--past-end 5: must be between 200 and 1048576" demo --past-end 5
bad lab "E2 needs held-out human text: pass --valid FILE" e2
bad lab "E9 needs the training text: pass --train FILE" e9
bad lab "--valid missing.txt: no such file" e3 --valid missing.txt
bad lab "--valid folder: is a folder, not a file" e3 --valid folder
bad lab "--train fifo: is a FIFO, not a regular file" e9 --train fifo
bad lab "--checkpoints is required" e6
bad lab "--checkpoints missing: no such file or folder" e6 --checkpoints missing
bad lab "not-a-model.safetensors" e6 --checkpoints not-a-model.safetensors
bad lab "--checkpoint missing.safetensors: no such file or folder" e3 --checkpoint missing.safetensors
bad lab "--checkpoint /dev/zero: is a character device" e3 --checkpoint /dev/zero
bad lab "prompt 0 is empty" e3 --prompt " "
bad lab "prompt 0 has" e3 -p "$long_prompt$long_prompt"
bad lab "--file missing.txt: no such file" e3 -f missing.txt
bad lab "--file folder: is a folder, not a file" e3 -f folder
bad lab "--file fifo: is a FIFO, not a regular file" e1 --file fifo
bad lab "--out prompt.txt: is a file, not a folder" e1 --out prompt.txt
bad lab "--extra-checkpoint missing: no such file or folder" e4 --extra-checkpoint missing
bad lab "--compare missing.bin: no such file or folder" demo --compare missing.bin
bad lab "--from is required" bundle --data data --train-text stories.txt --command x --to out
bad lab "--from missing.safetensors: no such file" bundle --from missing.safetensors --data data \
    --train-text stories.txt --command x --to out
bad lab "--data prompt.txt: is a file, not a folder" bundle --from "$learned" --data prompt.txt \
    --train-text stories.txt --command x --to out
if needs "$gpt2/vocab.json"; then
    bad lab "trained with tokenizer" e3 --tokenizer "$gpt2"
else skipped=$((skipped + 1)); fi

# ---- train --------------------------------------------------------------------------------------
bad train "--steps 0: must be between 1 and 1000000000" --synthetic --steps 0
bad train "--steps 1e3: must be a whole number" --synthetic --steps 1e3
bad train "--batch-size 0: must be between 1 and 65536" --synthetic --batch-size 0
bad train "--batch-size 10000000: must be between 1 and 65536" --synthetic --batch-size 10000000
bad train "--grad-accum 0: must be between 1 and 65536" --synthetic --grad-accum 0
bad train "--lr -1: must be >= 0" --synthetic --lr -1
bad train "--lr nan: must be a finite number >= 0" --synthetic --lr nan
bad train "need 0 <= --min-lr <= --lr, got 0.1 and 0.01" --synthetic --min-lr 0.1 --lr 0.01 --out o1
bad train "need 0 <= --min-lr <= --lr, got 1e+301 and 1e+300" --synthetic --min-lr 1e301 --lr 1e300 --out o2
bad train "--beta1 1: must be in [0, 1)" --synthetic --beta1 1
bad train "--beta2 -0.1: must be in [0, 1)" --synthetic --beta2 -0.1
bad train "--dropout 1: must be in [0, 1)" --synthetic --dropout 1
bad train "--clip -1: must be >= 0" --synthetic --clip -1
bad train "--weight-decay -0.1: must be >= 0" --synthetic --weight-decay -0.1
bad train "--warmup -1: must be between 0 and 1000000000" --synthetic --warmup -1
bad train "--lr-decay-steps -5: must be between 0 and 1000000000" --synthetic --lr-decay-steps -5
bad train "--threads 0: must be between 1 and 1024" --synthetic -t 0
bad train "--seed -1: must be a whole number" --synthetic -s -1
bad train "--n-layer 0: must be between 1 and 1024" --synthetic --n-layer 0
bad train "--n-head 0: must be between 1 and 1024" --synthetic --n-head 0
bad train "--n-embd 65537: must be between 1 and 65536" --synthetic --n-embd 65537
bad train "--n-kv-head 0: must be between 1 and 1024" --synthetic --n-kv-head 0
bad train "--mlp-hidden 0: must be between 1 and 1048576" --synthetic --mlp-hidden 0
bad train "n_embd = 100 is not a multiple of n_head = 8" --synthetic --n-embd 100 --n-head 8
bad train "needs at least" --synthetic --n-embd 65536
bad train "needs at least" --synthetic --n-layer 1024 --n-embd 4096 --synthetic-vocab 65536
bad train "needs at least" --synthetic --block-size 65536 --batch-size 4096
bad train "--block-size 0: must be between 1 and 65536" --synthetic --block-size 0
bad train "--block-size 100000: must be between 1 and 65536" --synthetic --block-size 100000
bad train "--synthetic-vocab 1: must be between 2 and 65536" --synthetic --synthetic-vocab 1
bad train "--eval-batches 0: must be between 1 and 1000000" --synthetic --eval-batches 0
bad train "--sample-tokens 0: must be between 1 and 1048576" --synthetic --sample-tokens 0
bad train "--debug-nan-step 0: must be between 1 and 1000000000" --synthetic --debug-nan-step 0
bad train "--checkpoint-every -1: must be between 0 and 1000000000" --synthetic --checkpoint-every -1
bad train "--preset: huge not in {xs,s,tiny}" --synthetic --preset huge
bad train "--arch: gpt3 not in {gpt2,llama}" --synthetic --arch gpt3
bad train "--position: none not in {learned,rope,alibi}" --synthetic --position none
bad train "--position cannot be used with --arch llama" --synthetic --arch llama --position alibi
bad train "--data missing: no such folder" --data missing
bad train "--data prompt.txt: is a file, not a folder" --data prompt.txt
bad train "give --data DIR (made by prepare) or --synthetic" --steps 5
bad train "--resume missing.safetensors: no such file" --resume missing.safetensors
bad train "not-a-model.safetensors" --resume not-a-model.safetensors
bad train "--lr cannot change on --resume" --resume "$learned" --lr 1
bad train "--n-layer cannot be used with --init" --init "$learned" --data data --n-layer 2
bad train "--init missing.bin: no such file" --init missing.bin --data data
bad train "--out prompt.txt: is a file, not a folder" --synthetic --out prompt.txt
bad train "--log no/such/log.csv: the folder no/such does not exist (and is not --out" --synthetic --log no/such/log.csv
bad train "--log folder: is a folder, not a file" --synthetic --log folder
bad train "excludes" --synthetic --progress --no-progress
bad train "fewer than the B*T+1" --synthetic --batch-size 1024 --out o3

# ---- prepare ------------------------------------------------------------------------------------
p=(--train stories.txt)
bad prepare "--train is required" --out p
bad prepare "--train missing.txt: no such file" --train missing.txt --out p
bad prepare "--train folder: is a folder, not a file" --train folder --out p
bad prepare "--train fifo: is a FIFO, not a regular file" --train fifo --out p
bad prepare "--valid /dev/zero: is a character device, not a regular file" "${p[@]}" --valid /dev/zero --out p
bad prepare "--out is required" "${p[@]}"
bad prepare "--out prompt.txt: is a file, not a folder" "${p[@]}" --out prompt.txt
bad prepare "--vocab-size 100: must be between 257 and 65536" "${p[@]}" --out p --vocab-size 100
bad prepare "--vocab-size 70000: must be between 257 and 65536" "${p[@]}" --out p --vocab-size 70000
bad prepare "--vocab-size abc: must be a whole number" "${p[@]}" --out p --vocab-size abc
bad prepare "--tokenizer-mb 0: must be in (0, 1000000]" "${p[@]}" --out p --tokenizer-mb 0
bad prepare "--tokenizer-mb -5: must be in (0, 1000000]" "${p[@]}" --out p --tokenizer-mb -5
bad prepare "--tokenizer-mb 1e300: must be in (0, 1000000]" "${p[@]}" --out p --tokenizer-mb 1e300
bad prepare "--valid-every 1: must be between 2 and 1099511627776" "${p[@]}" --out p --valid-every 1
bad prepare "--valid-every 2.5: must be a whole number" "${p[@]}" --out p --valid-every 2.5
bad prepare "--threads 0: must be between 1 and 1024" "${p[@]}" --out p -t 0
bad prepare "--gpt2 missing: no such folder" "${p[@]}" --out p --gpt2 missing
bad prepare "excludes" "${p[@]}" --out p --gpt2 folder --vocab-size 512
bad prepare "--tokenizer missing: no such file or folder" "${p[@]}" --out p --tokenizer missing
bad prepare "excludes" "${p[@]}" --out p --tokenizer prompt.txt --vocab-size 512
bad prepare "prompt.txt" "${p[@]}" --out p --tokenizer prompt.txt
bad prepare "no validation stories" --train empty.txt --out p
bad prepare "The following argument was not expected: --bogus" "${p[@]}" --out p --bogus

# ---- download -----------------------------------------------------------------------------------
bad download "--what: everything not in {text,valid,archive,all}" --what everything
bad download "--model: stories1B not in" --model stories1B
bad download "excludes" --model stories15M --what valid
bad download "--sha256 is for TinyStories files" --model stories15M --sha256 "$a64"
bad download "--sha256 00: must be 64 hexadecimal digits" --what valid --sha256 00
bad download "--sha256 needs a single file" --sha256 "$a64"
bad download "--connect-timeout 0: must be between 1 and 600" --connect-timeout 0
bad download "--connect-timeout 601: must be between 1 and 600" --connect-timeout 601
bad download "--connect-timeout abc: must be a whole number" --connect-timeout abc
bad download "--base-url ftp://example.com/: must start with https://, http:// or file://" \
    --base-url ftp://example.com/
bad download "--base-url https://example.com: must end with /" --base-url https://example.com
bad download "--dir prompt.txt: is a file, not a folder" --dir prompt.txt
bad download "cannot reach huggingface.invalid" --what valid --base-url https://huggingface.invalid/ \
    --dir dl --connect-timeout 2
bad download "The following argument was not expected: --bogus" --bogus

# ---- autograd -----------------------------------------------------------------------------------
bad autograd "--steps 0: must be between 1 and 1000000" --steps 0
bad autograd "--steps -1: must be between 1 and 1000000" --steps -1
bad autograd "--steps 10000000: must be between 1 and 1000000" --steps 10000000
bad autograd "--steps abc: must be a whole number" --steps abc
bad autograd "--hidden 0: must be between 1 and 65536" --hidden 0
bad autograd "--hidden 100000000: must be between 1 and 65536" --hidden 100000000
bad autograd "--lr 0: must be in (0, 1000]" --lr 0
bad autograd "--lr -1: must be in (0, 1000]" --lr -1
bad autograd "--lr nan: must be a finite number in (0, 1000]" --lr nan
bad autograd "--lr 1e9: must be in (0, 1000]" --lr 1e9
bad autograd "--seed -1: must be a whole number" -s -1
bad autograd "The following argument was not expected: --bogus" --bogus

# ---- every --help shows the defaults ------------------------------------------------------------
options=0
help_failures=()
check_help() {
    local what="$*" line column
    local help
    help=$("$@" --help 2>&1) || {
        help_failures+=("$what --help: non-zero exit")
        return
    }
    while IFS= read -r line; do
        # An option line: "  -n,--max-new-tokens INT:[1, 1048576]=256  description"; its first
        # column is the names, the type and the default.
        [[ "$line" =~ ^\ \ (-[a-zA-Z],)?--[a-z0-9-]+ ]] || continue
        column=${line:2}
        column=${column%%  *}
        [[ "$column" =~ \ (INT|UINT|FLOAT|TEXT) ]] || continue # a flag without a value
        options=$((options + 1))
        [[ "$column" == *=* || "$column" == *REQUIRED* ]] ||
            help_failures+=("$what --help: no default shown for '$column'")
    done <<<"$help"
}
for program in sample train prepare download autograd lab; do
    check_help "${bin[$program]}"
done
for sub in demo e4 e6 all bundle; do
    check_help "${bin[lab]}" "$sub"
done

echo "$tried bad invocations tried, $clear with a clear one-line error ($skipped skipped: no shared data); slowest ${slowest} s: $slowest_row"
echo "--help: $options options with a value, $((options - ${#help_failures[@]})) showing their default"
for f in "${failures[@]}" "${help_failures[@]}"; do
    echo "FAILED: $f"
done
[[ $clear -eq $tried && ${#help_failures[@]} -eq 0 && $tried -ge 100 ]]
