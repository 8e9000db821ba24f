#!/usr/bin/env bash
# Every command of README.md's ```sh blocks, run (ctest examples_readme_commands), and every
# program's --help. The commands are read from README.md itself, so a command that stops working
# fails this test; each one must match a rule below (a README command without a rule fails it too,
# and so does a rule that no README command matches any more). A rule runs the command as written
# but shorter (fewer steps, tokens or samples), or skips it and says why. Then:
#  - every command that is run exits with 0;
#  - every line that train, prepare, download and convert print, lab's and sample's stderr, and
#    every line of every --help, and lab's stdout fit 100 columns (sample's stories, the model's
#    text, are left out);
#  - the time each command took is printed, for the README's "how long" figures.
# download needs the internet: it is run against a local copy of karpathy/tinyllamas given with
# --base-url file://... (as ctest download_llama2c_model does).
#
#   test_readme_commands.sh --source DIR --build DIR --shared DIR --work DIR
#     --source: the source tree (README.md, models/); --build: its build folder;
#     --shared: ../shared/data (TinyStories text, stories260K and its tokenizer).
set -u
source_dir="" build="" shared="" work=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --source) source_dir=$(realpath "$2") ;;
    --build) build=$(realpath "$2") ;;
    --shared) shared=$(realpath "$2") ;;
    --work) work=$(realpath -m "$2") ;;
    *)
        echo "test_readme_commands: unknown argument $1" >&2
        exit 2
        ;;
    esac
    shift 2
done
[[ -f $source_dir/README.md && -d $build/examples && -d $shared/tinystories && -n $work ]] || {
    echo "test_readme_commands: give --source DIR --build DIR --shared DIR --work DIR" >&2
    exit 2
}
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}

# The README's shell commands: the ```sh blocks, continuation lines joined, comments and blank
# lines left out.
mapfile -t commands < <(awk '/^```sh/ { f = 1; next } /^```/ { f = 0 } f' "$source_dir/README.md" |
    sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' | sed -e 's/[[:space:]]\{1,\}# .*$//' |
    grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$')
[[ ${#commands[@]} -gt 20 ]] || fail "only ${#commands[@]} commands found in README.md"

# Shorter runs: these replacements apply to every command that is run, so that the checkpoints
# named by later commands are those the shortened training writes.
shorten() {
    local steps='--steps 4 --batch-size 8 --checkpoint-every 2 --eval-every 2 --eval-batches 1'
    sed -e "s/--steps 2000/$steps/" -e 's/--steps 4000/--steps 6/' \
        -e 's/--steps 200 --batch-size 16/--steps 2 --batch-size 2/' \
        -e 's/ckpt-002000/ckpt-000004/g' -e 's/ckpt-001000/ckpt-000002/g' \
        -e 's#runs/x/#runs/xs/#g' -e 's/--max-new-tokens [0-9]*/--max-new-tokens 32/' <<<"$1"
}

# rule COMMAND: sets `order` (commands run by order, then README order: data before training
# before sampling), `run` (the command as the test runs it, empty to skip it) and `why`.
declare -A used
rule() {
    local c=$1
    order=3 run=$(shorten "$c") why="" name=""
    # shellcheck disable=SC2016 # the README's own $L and $C are matched as written
    case $c in
    "scripts/demo.sh") name=demo why="lab demo on the bundled model, as ctest lab_demo_bundled_model" ;;
    "scripts/test.sh") name=test why="the whole build and test suite, of which this test is one" ;;
    "cmake --preset default") name=cmake why="the build this test runs in" ;;
    "cmake --build --preset default -j") name=build why="the build this test runs in" ;;
    "ctest --preset default") name=ctest why="runs this test" ;;
    "sudo apt-get install"*) name=apt why="installs packages" ;;
    "scripts/sanitize.sh" | "scripts/fuzz.sh" | *" scripts/fuzz.sh"*)
        name=fuzz why="the sanitizer build and fuzzing: scripts/sanitize.sh in CI" ;;
    "build-fuzz/"*) name=fuzz_target why="a fuzz target of the sanitizer build" ;;
    "L="* | "C="*) name=define order=0 ;;
    '$L '*) name=lab run="$run --quick --max-new-tokens 32 --samples 1" ;;
    '$C '*) name=convert ;;
    "./build/examples/prepare/prepare "*"--vocab-size"*) name=prepare order=1 ;;
    "./build/examples/download/download "*)
        name=download order=1 run="$run --base-url file://$work/mirror/"
        ;;
    "./build/examples/prepare/prepare "*"--tokenizer"*) name=prepare_tokenizer order=1 ;;
    "./build/examples/train/train "*"--resume"*) name=resume order=2 ;;
    "./build/examples/train/train "*) name=train order=2 ;;
    "./build/examples/sample/sample "*)
        name=sample
        [[ $run == *--max-new-tokens* || $run == *" -n "* ]] || run="$run --max-new-tokens 32"
        ;;
    *) fail "README command without a rule in test_readme_commands.sh: $c" ;;
    esac
    [[ -n $why ]] && run=""
    used[$name]=1
}

# The working tree the commands run in: build/ and models/tinystories-2.6m of the source tree,
# ../shared/data, and the local copy of karpathy/tinyllamas that download reads.
rm -rf "$work"
mkdir -p "$work/tree/models" "$work/shared" "$work/mirror/stories260K"
ln -s "$build" "$work/tree/build"
ln -s "$source_dir/models/tinystories-2.6m" "$work/tree/models/tinystories-2.6m"
ln -s "$shared" "$work/shared/data"
cp "$shared/tinyllamas/stories260K.bin" "$shared/tinyllamas/tok512.bin" "$work/mirror/stories260K/"
cd "$work/tree" || exit 2

wide() { # wide FILE LABEL: fails on every line over 100 columns (characters, colours left out)
    local n
    sed -e 's/\x1b\[[0-9;]*m//g' "$1" >visible.txt
    n=$(LC_ALL=C.UTF-8 grep -c -E '^.{101,}' visible.txt)
    [[ $n == 0 ]] || {
        fail "$2: $n line(s) over 100 columns:"
        LC_ALL=C.UTF-8 grep -E '^.{101,}' visible.txt | head -3 >&2
    }
}

for program in sample lab train prepare download convert autograd; do
    exe=$build/examples/$program/$program
    [[ $program == autograd ]] && exe=${exe}_example
    subs=("")
    [[ $program == lab ]] && subs=("" demo e1 e2 e3 e4 e5 e6 e7 e8 e9 all bundle)
    for sub in "${subs[@]}"; do
        # shellcheck disable=SC2086
        "$exe" $sub --help >help.txt 2>&1 || fail "$program $sub --help exits with $?"
        wide help.txt "$program $sub --help"
    done
done

declare -a plan
for i in "${!commands[@]}"; do
    rule "${commands[$i]}"
    plan+=("$order|$i|$run|$why")
done
for name in demo test cmake build ctest apt fuzz fuzz_target define prepare download \
    prepare_tokenizer resume train sample lab convert; do
    [[ -n ${used[$name]:-} ]] || fail "the rule '$name' matches no README command any more"
done

while IFS='|' read -r _ i run why; do
    if [[ -z $run ]]; then
        printf 'skipped  %s\n         (%s)\n' "${commands[$i]}" "$why"
        continue
    fi
    if [[ $run == [LC]=* ]]; then
        eval "$run"
        continue
    fi
    start=$(date +%s.%N)
    eval "$run" >out.txt 2>err.txt
    rc=$?
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    printf '%6.1f s  %s\n' "$seconds" "$run"
    if [[ $rc != 0 ]]; then
        fail "exit $rc: $run"
        tail -5 err.txt >&2
    fi
    # Not checked: sample's stdout (the model's stories, as the model wrote them).
    [[ $run == ./build/examples/sample/* ]] || wide out.txt "$run (stdout)"
    wide err.txt "$run (stderr)"
done < <(printf '%s\n' "${plan[@]}" | sort -t'|' -k1,1n -k2,2n)
exit $failed
