# Shared by the program tests run with `cmake -P` (examples/*/test_*.cmake):
# run(<expected exit code> <command...>) runs the command and fails the test, showing its output,
# when it exits with another code; last_out and last_err hold its stdout and stderr.
function(run expect_rc)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL expect_rc)
        message(FATAL_ERROR "expected exit ${expect_rc}, got ${rc}: ${ARGN}\n${out}\n${err}")
    endif()
    set(last_out "${out}" PARENT_SCOPE)
    set(last_err "${err}" PARENT_SCOPE)
endfunction()
