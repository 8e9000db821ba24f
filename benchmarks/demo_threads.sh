#!/usr/bin/env bash
# The collapse demo over threads: runs `lab demo` (bundled model, held-out stories) with each thread
# count in turn, ROUNDS times, and prints every run's wall and CPU seconds with the load average
# around it, then the median wall and CPU time per thread count and the speedup over the first
# count. Every run's output (stdout less the report's path, the CSVs, SVGs and report.html) must be
# the same as the first run's; a difference stops the script.
#
# Usage: benchmarks/demo_threads.sh [BUILD_DIR] [ROUNDS] [THREAD COUNTS...]   (default: build 3 1 2)
# Measure on a quiet machine: other processes make the wall times say little (the load average is
# printed so that the runs can be judged).
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
shift $(($# > 2 ? 2 : $#))
counts=("$@")
((${#counts[@]})) || counts=(1 2)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lab="$here/$build/examples/lab/lab"
valid="$here/../shared/data/tinystories/valid.txt"
[[ -x "$lab" ]] || { echo "demo_threads: build ouro first ($lab is missing)" >&2; exit 1; }
[[ -f "$valid" ]] || { echo "demo_threads: $valid is missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

declare -A walls cpus
printf "%-7s %-6s %8s %8s  %s\n" round threads "wall s" "CPU s" "load before-after"
for ((r = 1; r <= rounds; r++)); do
    for t in "${counts[@]}"; do
        out="$work/run"
        rm -rf "$out"
        load0=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -f "%e %U %S" -o "$work/time" "$lab" --valid "$valid" --out "$out" \
            --threads "$t" --no-progress demo >"$work/stdout" 2>"$work/stderr" ||
            { cat "$work/stderr" >&2; exit 1; }
        load1=$(cut -d' ' -f1 /proc/loadavg)
        read -r wall user sys <"$work/time"
        cpu=$(echo "$user + $sys" | bc -l)
        sed "s#$out#OUT#" "$work/stdout" >"$work/stdout.txt"
        if [[ ! -d "$work/first" ]]; then
            mkdir "$work/first"
            cp -r "$out" "$work/first/out"
            cp "$work/stdout.txt" "$work/first/stdout.txt"
        elif ! diff -q "$work/first/stdout.txt" "$work/stdout.txt" >/dev/null ||
            ! diff -rq "$work/first/out" "$out" >/dev/null; then
            echo "demo_threads: round $r with $t threads wrote other output than the first run" >&2
            exit 1
        fi
        walls[$t]+="$wall "
        cpus[$t]+="$cpu "
        printf "%-7s %-6s %8.1f %8.1f  %s-%s\n" "$r" "$t" "$wall" "$cpu" "$load0" "$load1"
    done
done
echo "every run wrote the same output"
base=$(tr ' ' '\n' <<<"${walls[${counts[0]}]}" | grep . | median)
printf "%-7s %8s %8s %8s\n" threads "wall s" "CPU s" speedup
for t in "${counts[@]}"; do
    w=$(tr ' ' '\n' <<<"${walls[$t]}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${cpus[$t]}" | grep . | median)
    printf "%-7s %8.1f %8.1f %7.2fx\n" "$t" "$w" "$c" "$(echo "$base / $w" | bc -l)"
done
