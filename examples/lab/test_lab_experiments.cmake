# Quick run of the lab's experiments E4, E7, E8, E9 and E6's error path (run by CTest with
# -DLAB=<lab> -DPREPARE=<prepare> -DTRAIN=<train> -DTEXT=<valid.txt> -DWORK=<dir>):
#  1. prepare a 512-token tokenizer and shards from TEXT, train a tiny RoPE model for 30 steps;
#  2. `lab e7 --quick`, `lab e8 --quick`, `lab e9 --quick --train TEXT` and `lab e4 --quick` on it:
#     exit 0, and <id>.csv plus <id>-1.svg written, the CSV with a header and at least one row;
#  3. `lab e6 --checkpoints <a file that is not a checkpoint>`: exit 1 and one line on stderr;
#  4. `lab all --quick` (every experiment side by side, E4 with a second model, E6 over three
#     checkpoints) on a tiny model with a context long enough for E5, with 1 and 3 threads: the
#     same stdout (less the output folder) and the same CSVs, SVGs and report.html.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)

run(0 ${PREPARE} --train ${TEXT} --vocab-size 512 --valid-every 10 --out ${WORK}/data)
run(0 ${TRAIN} --data ${WORK}/data --preset tiny --position rope --steps 30 --no-progress
    --out ${WORK}/run)
set(model ${WORK}/run/ckpt-000030.safetensors)
if(NOT EXISTS ${model})
    message(FATAL_ERROR "training wrote no ${model}")
endif()

set(lab ${LAB} --checkpoint ${model} --tokenizer ${WORK}/data --valid ${TEXT} --out ${WORK}/out
    --quick --no-progress)
foreach(id e7 e8 e9 e4)
    if(id STREQUAL "e9")
        run(0 ${lab} --train ${TEXT} ${id})
    else()
        run(0 ${lab} ${id})
    endif()
    if(NOT last_out MATCHES "== ${id}: ")
        message(FATAL_ERROR "${id}: no table printed:\n${last_out}")
    endif()
    file(STRINGS ${WORK}/out/${id}.csv rows)
    list(LENGTH rows n)
    if(n LESS 2)
        message(FATAL_ERROR "${id}.csv has ${n} lines, expected a header and rows")
    endif()
    file(READ ${WORK}/out/${id}-1.svg svg)
    if(NOT svg MATCHES "<svg" OR NOT svg MATCHES "class=\"series\"")
        message(FATAL_ERROR "${id}-1.svg is not a plot with series")
    endif()
    message(STATUS "${id}: ${n} CSV lines")
endforeach()

file(WRITE ${WORK}/not-a-checkpoint.safetensors "not a checkpoint")
run(1 ${lab} e6 --checkpoints ${WORK}/not-a-checkpoint.safetensors)
string(REGEX MATCHALL "\n" newlines "${last_err}")
list(LENGTH newlines lines)
if(NOT lines EQUAL 1 OR NOT last_err MATCHES "^lab: .*not-a-checkpoint.safetensors")
    message(FATAL_ERROR "expected one line 'lab: ...not-a-checkpoint.safetensors...', got:\n${last_err}")
endif()
message(STATUS "e6 on a bad file: ${last_err}")

# 4. The experiments side by side print and write the same bytes for any thread count.
run(0 ${TRAIN} --data ${WORK}/data --preset tiny --position rope --block-size 256 --steps 20
    --checkpoint-every 10 --no-progress --out ${WORK}/run256)
foreach(threads 1 3)
    run(0 ${LAB} --checkpoint ${WORK}/run256/ckpt-000020.safetensors --tokenizer ${WORK}/data
        --valid ${TEXT} --train ${TEXT} --out ${WORK}/all${threads} --quick --no-progress
        --threads ${threads} all --checkpoints ${WORK}/run256
        --extra-checkpoint ${WORK}/run256/ckpt-000010.safetensors)
    string(REPLACE "${WORK}/all${threads}" "OUT" all_out${threads} "${last_out}")
endforeach()
if(NOT all_out1 STREQUAL all_out3)
    message(FATAL_ERROR "lab all printed different text with 1 and 3 threads:\n${all_out1}\n"
                        "---- 3 threads:\n${all_out3}")
endif()
same_files(${WORK}/all1 ${WORK}/all3)
message(STATUS "lab all: the same output with 1 and 3 threads")
