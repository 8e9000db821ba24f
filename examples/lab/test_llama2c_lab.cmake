# The lab on a real, fully trained llama2.c model (run by CTest with -DLAB=<lab> -DMODEL=<stories260K.bin>
# -DTOKENIZER=<tok512.bin> -DTEXT=<valid.txt> -DBUNDLED=<the bundled model> -DWORK=<dir>):
#  1. `lab demo` on stories260K with the bundled model as the second model: exit 0; the
#     comparison prints stories260K's held-out quality (about 1.30 nats/token, 0.63 nats/byte)
#     and the mechanisms both models share;
#  2. E4, E7, E8 and E9 (quick) run on it and write their CSV;
#  3. E6 says what it needs (a run's checkpoints) in one line, exit 1.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)

set(lab ${LAB} --checkpoint ${MODEL} --tokenizer ${TOKENIZER} --valid ${TEXT} --out ${WORK}/out
    --no-progress --threads 1)
run(0 ${lab} demo --past-end 200 --compare ${BUNDLED})
if(NOT last_out MATCHES "held-out nats/token +([0-9.]+) +([0-9.]+)")
    message(FATAL_ERROR "no held-out quality row in the comparison:\n${last_out}")
endif()
if(CMAKE_MATCH_1 LESS 1.25 OR CMAKE_MATCH_1 GREATER 1.35)
    message(FATAL_ERROR "stories260K scores ${CMAKE_MATCH_1} nats/token on valid.txt; llama2.c "
                        "reports a validation loss of 1.297")
endif()
if(NOT last_out MATCHES "held-out nats/byte +(0\\.6[0-9]+)" OR NOT last_out MATCHES "\nShared:\n  - ")
    message(FATAL_ERROR "no nats/byte or no shared mechanisms in the comparison:\n${last_out}")
endif()
message(STATUS "stories260K: ${CMAKE_MATCH_1} nats/byte")

foreach(id e7 e8 e9 e4)
    if(id STREQUAL "e9")
        run(0 ${lab} --quick --train ${TEXT} ${id})
    else()
        run(0 ${lab} --quick ${id})
    endif()
    file(STRINGS ${WORK}/out/${id}.csv rows)
    list(LENGTH rows n)
    if(n LESS 2)
        message(FATAL_ERROR "${id}.csv has ${n} lines, expected a header and rows")
    endif()
    message(STATUS "${id}: ${n} CSV lines")
endforeach()

run(1 ${lab} e6)
if(NOT last_err MATCHES "^lab: [^\n]*checkpoints[^\n]*\n$")
    message(FATAL_ERROR "e6 without checkpoints: expected one line naming --checkpoints, got:\n${last_err}")
endif()
message(STATUS "e6: ${last_err}")
