#!/bin/sh
# The instruction-set paths stay apart (ouro/core/isa.hpp, lib/ops/gemm_tiles.hpp):
#  1. the AVX-512 objects of libouro_core.a define no global or weak symbol whose name another
#     object could also define: every such name mentions a per-path namespace
#     (ouro::ops::gemm::avx512, ouro::ops::avx512, or ouro_eigen_avx512, Eigen's renamed
#     namespace);
#  2. no other object of the libraries uses an AVX-512 register (zmm, a mask register k0-k7,
#     xmm16-31 or ymm16-31), and the AVX-512 objects do (they were built for AVX-512);
#  3. in the linked test program, every function that uses an AVX-512 register has a per-path
#     name: the linker kept no AVX-512 copy of a function that AVX2 code calls by the same name.
# Usage: check_isa_objects.sh PROGRAM LIBRARY...
set -eu
program=$1
shift
fail=0
avx512_regs='%(zmm[0-9]+|k[0-7]|[xy]mm(1[6-9]|2[0-9]|3[01]))([^0-9]|$)'
per_path='(17ouro_eigen_avx512|4ouro3ops4gemm6avx512|4ouro3ops6avx512)'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

avx512_members=0
for lib in "$@"; do
    name=$(basename "$lib")
    # Per member: how many instructions use AVX-512 registers ("member count").
    objdump -d --no-show-raw-insn "$lib" |
        awk -v regs="$avx512_regs" '
            /^[^ ]+\.o: +file format/ { sub(/:$/, "", $1); member = $1; count[member] = 0; next }
            $0 ~ regs { count[member]++ }
            END { for (m in count) print m, count[m] }' >"$work/uses"
    while read -r member uses; do
        case $member in
        *_avx512.cpp.o)
            avx512_members=$((avx512_members + 1))
            if [ "$uses" = 0 ]; then
                echo "$name($member) has no AVX-512 instruction: built without its flags?"
                fail=1
            fi
            ;;
        *)
            if [ "$uses" != 0 ]; then
                echo "$name($member): $uses instructions use AVX-512 registers"
                fail=1
            fi
            ;;
        esac
    done <"$work/uses"
    # Global and weak symbols defined by the AVX-512 members.
    nm --defined-only "$lib" |
        awk '/^[^ ]+\.o:$/ { avx512 = ($0 ~ /_avx512\.cpp\.o:$/); next }
             avx512 && $2 ~ /^([A-Z]|u|i)$/ { print $3 }' >"$work/symbols"
    # DW.ref.__gxx_personality_v0: the same pointer to the C++ personality routine in every
    # object that has exception tables, no code.
    shared=$(grep -Ev "$per_path|^DW\.ref\.__gxx_personality_v0$" "$work/symbols" || true)
    if [ -n "$shared" ]; then
        echo "$name: AVX-512 objects define symbols outside their per-path namespaces:"
        echo "$shared" | c++filt | head -20
        fail=1
    fi
done
if [ "$avx512_members" = 0 ]; then
    echo "no *_avx512.cpp.o object in $*"
    fail=1
fi

# Functions of the program that use AVX-512 registers, by (mangled) name.
objdump -d --no-show-raw-insn "$program" |
    awk -v regs="$avx512_regs" '
        /^[0-9a-f]+ <.*>:$/ { name = $2; next }
        $0 ~ regs && name != "" { print name; name = "" }' >"$work/functions"
strays=$(grep -Ev "$per_path" "$work/functions" || true)
if [ -n "$strays" ]; then
    echo "$(basename "$program"): functions outside the per-path namespaces use AVX-512 registers:"
    echo "$strays" | tr -d '<>:' | c++filt | head -20
    fail=1
fi
if [ ! -s "$work/functions" ]; then
    echo "$(basename "$program"): no function uses AVX-512 registers: the AVX-512 path is missing"
    fail=1
fi
[ "$fail" = 0 ] && echo "isa objects: $avx512_members AVX-512 object(s), $(wc -l <"$work/functions") AVX-512 functions in $(basename "$program"), all per-path"
exit $fail
