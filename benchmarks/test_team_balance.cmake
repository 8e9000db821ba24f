# ctest team_balance_tool: the preloaded team-balance library (team_balance.cpp) measures
# ouro_profile_train's profiled steps. Checks that each thread count's window is reported, that one
# thread's critical path is all of its work, that 4 threads' work / critical path lies in (1.5, 4],
# and that regions are named (the GEMM's run_tiles).
# Usage: cmake -DPROFILE=... -DTOOL=... -P test_team_balance.cmake
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${TOOL} OMP_WAIT_POLICY=passive ${PROFILE} XS 1 1 4
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE report)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ouro_profile_train with the tool failed (${rc}):\n${report}")
endif()
# One list item per window's report.
string(REPLACE ";" "," report_items "${report}")
string(REPLACE "team balance, " ";" report_items "${report_items}")
foreach(threads 1 4)
    set(window "")
    foreach(item IN LISTS report_items)
        if(item MATCHES "^XS, ${threads} thread\\(s\\), 1 step\\(s\\)")
            set(window "${item}")
        endif()
    endforeach()
    if(window STREQUAL "")
        message(FATAL_ERROR "no report for ${threads} thread(s):\n${report}")
    endif()
    string(REGEX MATCH "work / critical path +([0-9.]+)" _ "${window}")
    set(ratio "${CMAKE_MATCH_1}")
    if(threads EQUAL 1 AND NOT ratio STREQUAL "1.00")
        message(FATAL_ERROR "1 thread: work / critical path is '${ratio}', not 1.00:\n${report}")
    endif()
    if(threads EQUAL 4 AND NOT (ratio GREATER 1.5 AND ratio LESS_EQUAL 4.0))
        message(FATAL_ERROR "4 threads: work / critical path is '${ratio}', not in (1.5, 4]:\n${report}")
    endif()
    if(NOT window MATCHES "run_tiles")
        message(FATAL_ERROR "${threads} thread(s): the GEMM's region is not named:\n${report}")
    endif()
endforeach()
