# Checks of download's partial files and destinations (run by CTest with -DDOWNLOAD=<program>
# -DWORK=<dir>) against a local mirror (file:// URLs, which curl reads and resumes as it does
# https):
#  1. A .part with wrong bytes and no SHA-256 to check it is discarded: the file is fetched from
#     scratch and equals the mirror's (before, the wrong bytes were kept and passed the size check).
#  2. With --sha256, a .part is continued and the whole is checked.
#  3. A folder at the destination is an error (one line, exit code 1), not "already there".
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
# download wraps its lines at 100 columns; matched here as one line.
macro(run_joined)
    run(${ARGN})
    unwrap(last_out)
endmacro()
set(name TinyStories-valid.txt)
write_tiny_stories(${WORK}/mirror/${name} 100)
file(SHA256 ${WORK}/mirror/${name} digest)
write_tiny_stories(${WORK}/prefix.txt 10) # the first 10 of the same stories
set(from --what valid --base-url file://${WORK}/mirror/)

# 1.
file(READ ${WORK}/prefix.txt prefix)
string(REPLACE "o" "0" wrong "${prefix}")
file(WRITE ${WORK}/a/${name}.part "${wrong}")
run_joined(0 ${DOWNLOAD} ${from} --dir ${WORK}/a)
if(NOT last_out MATCHES "bytes \\(from scratch: no SHA-256 to check the partial file\\), SHA-256 ${digest} \\(no digest announced")
    message(FATAL_ERROR "unexpected output:\n${last_out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/a/${name}
                        ${WORK}/mirror/${name} RESULT_VARIABLE differs)
if(differs OR EXISTS ${WORK}/a/${name}.part)
    message(FATAL_ERROR "the download differs from the mirror's file, or its .part stayed")
endif()

# 2.
file(MAKE_DIRECTORY ${WORK}/b)
file(COPY_FILE ${WORK}/prefix.txt ${WORK}/b/${name}.part)
run_joined(0 ${DOWNLOAD} ${from} --dir ${WORK}/b --sha256 ${digest})
if(NOT last_out MATCHES "bytes \\(resumed\\), SHA-256 ${digest} \\(checked\\)")
    message(FATAL_ERROR "unexpected output:\n${last_out}")
endif()

# 3.
file(MAKE_DIRECTORY ${WORK}/c/${name})
run(1 ${DOWNLOAD} ${from} --dir ${WORK}/c)
if(NOT last_err STREQUAL "download: ${WORK}/c/${name} is not a regular file (it is a directory)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
