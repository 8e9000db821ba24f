# Checks of download --model (run by CTest with -DDOWNLOAD=<program> -DSHARED=<../shared/data>
# -DWORK=<dir>) against a local mirror of karpathy/tinyllamas (file:// URLs, curl reads them as
# it reads https): stories260K lands as <dir>/stories260K.bin and <dir>/tokenizer.bin (default
# dir models/stories260K), both checked against the built-in SHA-256 digests; a second run finds
# them and checks them again; a mirror serving other bytes is refused and leaves nothing behind.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/mirror/stories260K" "${WORK}/bad/stories260K")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
# download wraps its lines at 100 columns; matched here as one line.
macro(run_joined)
    run(${ARGN})
    unwrap(last_out)
endmacro()
file(COPY_FILE ${SHARED}/tinyllamas/stories260K.bin ${WORK}/mirror/stories260K/stories260K.bin)
file(COPY_FILE ${SHARED}/tinyllamas/tok512.bin ${WORK}/mirror/stories260K/tok512.bin)

execute_process(COMMAND ${DOWNLOAD} --model stories260K --base-url file://${WORK}/mirror/
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\\(checked\\)" checked "${out}")
list(LENGTH checked n_checked)
if(NOT rc EQUAL 0 OR NOT n_checked EQUAL 2)
    message(FATAL_ERROR "expected two checked downloads, got exit ${rc}:\n${out}\n${err}")
endif()
foreach(pair "stories260K.bin;stories260K.bin" "tokenizer.bin;tok512.bin")
    list(GET pair 0 got)
    list(GET pair 1 want)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/models/stories260K/${got}
                            ${SHARED}/tinyllamas/${want} RESULT_VARIABLE differs)
    if(differs)
        message(FATAL_ERROR "models/stories260K/${got} differs from ${want}")
    endif()
endforeach()
file(GLOB left ${WORK}/models/stories260K/*)
list(LENGTH left n_left)
if(NOT n_left EQUAL 2)
    message(FATAL_ERROR "expected exactly the model and tokenizer.bin, found: ${left}")
endif()

run_joined(0 ${DOWNLOAD} --model stories260K --base-url file://${WORK}/mirror/
    --dir ${WORK}/models/stories260K)
string(REGEX MATCHALL "already there \\([0-9]+ bytes\\), SHA-256 checked" again "${last_out}")
list(LENGTH again n_again)
if(NOT n_again EQUAL 2)
    message(FATAL_ERROR "a second run should find and check both files:\n${last_out}")
endif()

# Other bytes under the right name: refused, nothing left in the folder.
file(COPY_FILE ${SHARED}/tinyllamas/stories260K.bin ${WORK}/bad/stories260K/stories260K.bin)
file(COPY_FILE ${SHARED}/tinyllamas/babyllama/tok105.bin ${WORK}/bad/stories260K/tok512.bin)
run(1 ${DOWNLOAD} --model stories260K --base-url file://${WORK}/bad/ --dir ${WORK}/refused)
if(NOT last_err MATCHES "^download: file://${WORK}/bad/stories260K/tok512.bin: SHA-256 of the download is [0-9a-f]+, expected 037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312; the partial file was removed")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
if(EXISTS ${WORK}/refused/tokenizer.bin OR EXISTS ${WORK}/refused/tokenizer.bin.part)
    message(FATAL_ERROR "a refused download was left in place")
endif()
