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

# fails_with(<program> <pattern> <args...>) runs <program> <args> and fails the test unless it exits
# 1 after printing exactly one line on stderr: "<program's file name>: ..." matching <pattern>.
function(fails_with program pattern)
    run(1 ${program} ${ARGN})
    get_filename_component(name "${program}" NAME)
    string(REGEX MATCHALL "\n" newlines "${last_err}")
    list(LENGTH newlines lines)
    if(NOT lines EQUAL 1 OR NOT last_err MATCHES "^${name}: " OR NOT last_err MATCHES "${pattern}")
        message(FATAL_ERROR "expected one line '${name}: ...${pattern}...', got:\n${last_err}")
    endif()
endfunction()

# same_files(<a> <b> [<exclude regex>]) fails the test unless folders <a> and <b> hold the same
# files, byte for byte and none else, leaving out the names that match <exclude regex>.
function(same_files a b)
    file(GLOB_RECURSE files RELATIVE ${a} ${a}/*)
    file(GLOB_RECURSE other RELATIVE ${b} ${b}/*)
    if(ARGC GREATER 2)
        list(FILTER files EXCLUDE REGEX "${ARGV2}")
        list(FILTER other EXCLUDE REGEX "${ARGV2}")
    endif()
    list(LENGTH files n)
    list(LENGTH other m)
    if(n EQUAL 0 OR NOT n EQUAL m)
        message(FATAL_ERROR "${a} holds ${n} files (${files}), ${b} holds ${m} (${other})")
    endif()
    foreach(f ${files})
        execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a}/${f} ${b}/${f}
                        RESULT_VARIABLE differ)
        if(differ)
            message(FATAL_ERROR "${a}/${f} differs from ${b}/${f}")
        endif()
    endforeach()
endfunction()

# unwrap(<var>): the text of <var> with the lines that the programs wrap to fit 100 columns joined
# back (a line break and the spaces after it become one space), for matching it as one line.
macro(unwrap var)
    string(REGEX REPLACE "\n +" " " ${var} "${${var}}")
endmacro()

# check_width(<text> <what>) fails the test when a line of <text> is wider than 100 columns
# (characters, colours left out), as every program's output must fit a 100-column terminal.
function(check_width text what)
    string(ASCII 27 esc)
    string(REGEX REPLACE "${esc}\\[[0-9;]*m" "" visible "${text}")
    string(MD5 id "${what}")
    set(file "${CMAKE_CURRENT_BINARY_DIR}/check_width_${id}.txt")
    file(WRITE "${file}" "${visible}")
    execute_process(COMMAND env LC_ALL=C.UTF-8 grep -E "^.{101,}" "${file}"
                    OUTPUT_VARIABLE wide RESULT_VARIABLE found)
    file(REMOVE "${file}")
    if(found EQUAL 0)
        message(FATAL_ERROR "${what}: lines wider than 100 columns:\n${wide}")
    endif()
endfunction()

# write_tiny_stories(<file> <count>) writes <count> short stories in TinyStories' text format (a
# "<|endoftext|>" line after each), the same every time: input for prepare in the tests.
function(write_tiny_stories file count)
    set(names Lily Tom Sue Max Ben Mia)
    set(things ball kite dog cat tree boat cake hat)
    set(text "")
    foreach(i RANGE 1 ${count})
        math(EXPR n "${i} % 6")
        math(EXPR t "${i} * 7 / 3 % 8")
        list(GET names ${n} name)
        list(GET things ${t} thing)
        string(APPEND text "Once upon a time, ${name} had a ${thing}. One day the ${thing} went "
                           "away, and ${name} looked for it.\n<|endoftext|>\n")
    endforeach()
    file(WRITE "${file}" "${text}")
endfunction()
