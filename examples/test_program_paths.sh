#!/usr/bin/env bash
# No path of the build machine in the programs (ctest examples_no_build_paths), and the lab's
# bundled model found at run time instead:
#  - no program file holds the source folder's path (it would break on any other machine);
#  - lab run from any folder finds models/tinystories-2.6m above its own file (a build folder in
#    the source tree), a copy of lab outside the tree finds it under the current folder, and
#    elsewhere says in one line where it looked and that --checkpoint gives a model.
#
#   test_program_paths.sh SOURCE_DIR WORK_DIR LAB PROGRAM...
set -u
source_dir=$1 work=$2 lab=$(realpath "$3")
shift 3
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}

for p in "$lab" "$@"; do
    [[ -x $p ]] || fail "$p is not a program"
    if grep -q -a -F "$source_dir" "$p"; then
        fail "$p holds the source folder's path $source_dir:"
        strings -a "$p" | grep -F "$source_dir" | head -5 >&2
    fi
done

# `lab e2` without --valid loads the model, then stops with its own message: the model was found.
expect() { # expect CWD FRAGMENT PROGRAM ARGS...
    local cwd=$1 fragment=$2
    shift 2
    local err
    err=$(cd "$cwd" && "$@" 2>&1 >/dev/null)
    [[ $err == *"$fragment"* && $(wc -l <<<"$err") == 1 ]] ||
        fail "in $cwd, $* printed '$err', expected one line with '$fragment'"
}
found="needs held-out human text"
rm -rf "$work"
mkdir -p "$work/elsewhere"
if [[ $(realpath "$lab") == "$(realpath "$source_dir")"/* ]]; then
    expect "$work/elsewhere" "$found" "$lab" e2
fi
# A copy of lab in a folder outside the source tree (the work folder is usually inside it).
outside=$(mktemp -d)
trap 'rm -rf "$outside"' EXIT
mkdir -p "$outside/bin" "$outside/elsewhere"
cp "$lab" "$outside/bin/lab"
expect "$source_dir" "$found" "$outside/bin/lab" e2
o=$(realpath "$outside")
m=models/tinystories-2.6m/model.safetensors
expect "$outside/elsewhere" "lab: the bundled model $m was not found: looked under $o/bin and every \
folder above it, and under $o/elsewhere (the current folder); pass --checkpoint MODEL" \
    "$outside/bin/lab" e2
exit $failed
