# Checks that prepare never replaces a data set by accident (run by CTest with
# -DPREPARE=<program> -DWORK=<dir>), on tiny generated stories:
#  1. A folder that holds prepared data is refused without --overwrite: one line, exit code 1,
#     every file as it was.
#  2. Input that fails its checks (no validation stories; a broken JSON shard) writes nothing:
#     with --overwrite the old data set stays byte for byte and no temporary file is left; into a
#     new folder, not even the folder is made.
#  3. --overwrite with good input replaces the data set.
#  4. The temporary files a killed prepare left are removed at the next start (only prepare's
#     own), and a folder that another prepare holds is refused.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
write_tiny_stories(${WORK}/stories.txt 100)
file(WRITE ${WORK}/empty.txt "")
file(WRITE ${WORK}/broken.json "[{\"story\": \"Once upon a time\"}, {\"story\":")

function(expect_error expected)
    if(NOT last_err STREQUAL "prepare: ${expected}\n")
        message(FATAL_ERROR "expected the message\nprepare: ${expected}\ngot:\n${last_err}")
    endif()
endfunction()

run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 300 --valid-every 10 --out ${WORK}/d)
file(COPY ${WORK}/d/ DESTINATION ${WORK}/d-copy)

# 1.
run(1 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 280 --valid-every 10 --out ${WORK}/d)
expect_error("${WORK}/d already holds prepared data (train.bin, val.bin, vocab.json, merges.txt); give --overwrite to replace it, or another --out")
same_files(${WORK}/d ${WORK}/d-copy) # unchanged
file(MAKE_DIRECTORY ${WORK}/t)
file(WRITE ${WORK}/t/tokenizer.bin "")
run(1 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 280 --out ${WORK}/t)
expect_error("${WORK}/t already holds prepared data (tokenizer.bin); give --overwrite to replace it, or another --out")

# 2.
run(1 ${PREPARE} --train ${WORK}/stories.txt --valid ${WORK}/empty.txt --vocab-size 280
    --overwrite --out ${WORK}/d)
expect_error("no validation stories (check the inputs, or lower --valid-every)")
same_files(${WORK}/d ${WORK}/d-copy) # unchanged
run(1 ${PREPARE} --train ${WORK}/stories.txt --valid ${WORK}/broken.json --vocab-size 280
    --overwrite --out ${WORK}/d)
string(FIND "${last_err}" "prepare: ${WORK}/broken.json: not valid JSON" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
same_files(${WORK}/d ${WORK}/d-copy) # unchanged
run(1 ${PREPARE} --train ${WORK}/stories.txt --valid ${WORK}/empty.txt --vocab-size 280
    --out ${WORK}/new)
expect_error("no validation stories (check the inputs, or lower --valid-every)")
if(EXISTS ${WORK}/new)
    message(FATAL_ERROR "a failed prepare made ${WORK}/new")
endif()

# 3.
run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 280 --valid-every 10 --overwrite
    --out ${WORK}/d)
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/d/vocab.json
                        ${WORK}/d-copy/vocab.json RESULT_VARIABLE differs)
if(NOT differs OR NOT last_out MATCHES "trained a 280-token BPE")
    message(FATAL_ERROR "--overwrite did not replace the data set:\n${last_out}")
endif()

# 4.
foreach(name train.bin.tmp-Ab3dE9 vocab.json.tmp-000000 notes.txt.tmp-abcdef train.bin.tmp-x)
    file(WRITE ${WORK}/d/${name} "left by a stopped run")
endforeach()
run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 280 --valid-every 10 --overwrite
    --out ${WORK}/d)
file(GLOB left RELATIVE ${WORK}/d ${WORK}/d/*.tmp-*)
if(NOT left STREQUAL "notes.txt.tmp-abcdef;train.bin.tmp-x" OR
   NOT last_out MATCHES "removed 2 temporary files left by a stopped run in ${WORK}/d\n")
    message(FATAL_ERROR "leftovers: ${left}\n${last_out}")
endif()
find_program(FLOCK flock)
if(FLOCK)
    run(1 ${FLOCK} ${WORK}/d ${PREPARE} --train ${WORK}/stories.txt --vocab-size 280 --overwrite
        --out ${WORK}/d)
    expect_error("${WORK}/d is in use by another prepare process")
else()
    message(STATUS "no flock program: the folder-in-use check is skipped")
endif()
