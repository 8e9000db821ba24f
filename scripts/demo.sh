#!/usr/bin/env bash
# The demo, the README's first command: installs what is missing, builds everything, and runs the
# collapse demo (`lab demo`) on the bundled model, models/tinystories-2.6m. It prints the seed's
# three snippets from the model's own greedy text, greedy against nucleus sampling, the quick
# experiments E1 E2 E3 E5 and the answer with its numbers, and writes lab-out/report.html. When a
# fully trained model is at hand (llama2.c's stories260K in ../shared/data/tinyllamas), the same
# measurements run on it too and the demo says which mechanisms the two models share.
#
#   scripts/demo.sh [--retrain] [--text DIR] [--model NAME] [flags of `lab demo`, e.g. --out DIR]
#
#   --model NAME  the fully trained model to compare with: stories260K (the shared data's copy,
#                 the default when present), stories15M, stories42M or stories110M (downloaded
#                 into models/NAME, with checksums; needs internet).
#
#   --text DIR  a folder with TinyStories text: train.txt and valid.txt (or TinyStories-train.txt
#               and TinyStories-valid.txt, as examples/download names them). Default: the first of
#               ../shared/data/tinystories and data/ that has them; else the validation text is
#               downloaded into data/ (needs internet). E2 and E5 need the held-out stories;
#               without any text the demo runs the other parts and says what it skipped.
#   --retrain   trains a new model from the text first (scripts/train-bundled-model.sh: about
#               21 minutes on 2 cores) into retrain/, and runs the demo on it. With no local text
#               the training text is downloaded (about 1.9 GB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

retrain=0
text_dir=""
compare_model=""
lab_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --retrain) retrain=1; shift ;;
        --model)
            [[ $# -ge 2 ]] || { echo "demo: --model needs a name (stories260K, stories15M, ...)" >&2; exit 1; }
            compare_model=$2; shift 2 ;;
        --text)
            [[ $# -ge 2 ]] || { echo "demo: --text needs a folder" >&2; exit 1; }
            text_dir=$2; shift 2 ;;
        *) lab_args+=("$1"); shift ;;
    esac
done

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"

# The text: train.txt/valid.txt or the downloader's names, in the first folder that has them.
find_text() { # folder kind -> path or nothing
    for name in "$2.txt" "TinyStories-$2.txt"; do
        if [[ -f "$1/$name" ]]; then echo "$1/$name"; return; fi
    done
}
candidates=("$text_dir")
[[ -n $text_dir ]] || candidates=(../shared/data/tinystories data)
valid="" train=""
for d in "${candidates[@]}"; do
    v=$(find_text "$d" valid)
    if [[ -n $v ]]; then valid=$v; train=$(find_text "$d" train); break; fi
done
if [[ -n $text_dir && -z $valid ]]; then
    echo "demo: no valid.txt or TinyStories-valid.txt in $text_dir" >&2
    exit 1
fi
if [[ -z $valid || ($retrain == 1 && -z $train) ]]; then
    what=valid
    [[ $retrain == 1 ]] && what=text
    echo "demo: no local TinyStories text; downloading it into data/" >&2
    if ./build/examples/download/download --dir data --what "$what"; then
        valid=data/TinyStories-valid.txt
        [[ $retrain == 1 ]] && train=data/TinyStories-train.txt
    elif [[ $retrain == 1 ]]; then
        echo "demo: --retrain needs TinyStories text: pass --text DIR or connect to the internet" >&2
        exit 1
    else
        echo "demo: running without human text: E2 and E5 are skipped" >&2
        valid=""
    fi
fi

model=models/tinystories-2.6m
if [[ $retrain == 1 ]]; then
    scripts/train-bundled-model.sh "$train" "$valid" retrain build
    model=retrain/model
fi
args=(--checkpoint "$model/model.safetensors")
[[ -n $valid ]] && args+=(--valid "$valid")
# A fully trained model beside the bundled one (still learning): the same measurements on both,
# and which mechanisms they share. llama2.c's stories260K from the shared data when it is there.
# --model NAME downloads one of llama2.c's tinyllamas (needs internet) into models/NAME.
shared_260k=../shared/data/tinyllamas
if [[ -n $compare_model && ! ($compare_model == stories260K && -f $shared_260k/stories260K.bin) ]]; then
    [[ -f models/$compare_model/$compare_model.bin ]] ||
        ./build/examples/download/download --model "$compare_model" --dir "models/$compare_model"
    lab_args+=(--compare "models/$compare_model/$compare_model.bin"
               --compare-tokenizer "models/$compare_model/tokenizer.bin")
elif [[ -f $shared_260k/stories260K.bin && -f $shared_260k/tok512.bin ]]; then
    lab_args+=(--compare "$shared_260k/stories260K.bin" --compare-tokenizer "$shared_260k/tok512.bin")
fi
./build/examples/lab/lab "${args[@]}" demo "${lab_args[@]+"${lab_args[@]}"}"
