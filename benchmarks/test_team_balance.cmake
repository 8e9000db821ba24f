# ctest team_balance_tool: the preloaded team-balance library (team_balance.cpp) measures
# ouro_profile_train's profiled steps. Checks that each thread count's window is reported, that one
# thread's critical path is all of its work, that 4 threads' work / critical path lies in (1.5, 4],
# and that regions are named (the GEMM's run_tiles). Then that tasks are followed: on
# ouro_team_balance_tasks (team_balance_tasks.cpp: 180 ms of CPU time in tasks whose schedule on 4
# threads takes 50 ms) the work is 170-200 ms, the critical path 48-58 ms, and the 10 tasks followed.
# Usage: cmake -DPROFILE=... -DTASKS=... -DTOOL=... -P test_team_balance.cmake
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

execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${TOOL} OMP_WAIT_POLICY=passive ${TASKS}
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE report)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ouro_team_balance_tasks with the tool failed (${rc}):\n${report}")
endif()
string(REGEX MATCH "work: CPU time inside regions \\+ serial +([0-9.]+) ms" _ "${report}")
set(work "${CMAKE_MATCH_1}")
string(REGEX MATCH "critical path on +4 cores \\(estimate\\) +([0-9.]+) ms" _ "${report}")
set(path "${CMAKE_MATCH_1}")
if(NOT (work GREATER 170 AND work LESS 200))
    message(FATAL_ERROR "tasks: work is '${work}' ms, not 170-200:\n${report}")
endif()
if(NOT (path GREATER 48 AND path LESS 58))
    message(FATAL_ERROR "tasks: critical path is '${path}' ms, not 48-58:\n${report}")
endif()
if(NOT report MATCHES "tasks followed / not followed +10 / 0")
    message(FATAL_ERROR "tasks: not the 10 tasks followed:\n${report}")
endif()
