# Runs PROGRAM with ARGS ('|'-separated) and passes when it exits non-zero after printing exactly
# one line on stderr that starts with the program's name.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
get_filename_component(name "${PROGRAM}" NAME)
string(REGEX MATCHALL "\n" newlines "${err}")
list(LENGTH newlines lines)
if(rc EQUAL 0 OR NOT lines EQUAL 1 OR NOT err MATCHES "^${name}: ")
    message(FATAL_ERROR "expected one line '${name}: ...' and a non-zero exit, got exit ${rc} and:\n${err}")
endif()
message(STATUS "exit ${rc}: ${err}")
