# The demo on the bundled model (run by CTest with -DLAB=<lab> -DVALID=<valid.txt> -DWORK=<dir>):
#  1. `lab demo` runs twice, with 2 threads and with 1: exit 0, and stdout is identical (the same
#     numbers every run, whatever the thread count).
#  2. Greedy decoding of 1,000 tokens past the end of the story loops on the seed's prompt
#     (Holtzman's test says yes; seq-rep-4 of the last 200 tokens >= 0.5), while no top-p 0.95
#     sample loops; the demo prints both.
#  3. The report exists, and headless Chromium draws every plot in it (the page's script counts
#     the plots whose series have a non-empty box: data-plots-drawn == data-plots >= 8).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

foreach(threads 2 1)
    execute_process(COMMAND ${LAB} --valid ${VALID} --out ${WORK}/out${threads} --threads ${threads}
                            --no-progress demo
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out${threads} ERROR_VARIABLE err
                    TIMEOUT 600)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "lab demo (${threads} threads) failed with ${rc}:\n${err}")
    endif()
    # The report's path is the only line that names the output folder.
    string(REPLACE "${WORK}/out${threads}" "OUT" out${threads} "${out${threads}}")
    file(WRITE "${WORK}/stdout${threads}.txt" "${out${threads}}")
endforeach()
if(NOT out1 STREQUAL out2)
    message(FATAL_ERROR "lab demo printed different text with 1 and 2 threads: compare "
                        "${WORK}/stdout1.txt and ${WORK}/stdout2.txt")
endif()

# 2. The greedy row of prompt 0 and the top-p rows of the greedy-vs-nucleus table:
#    prompt decoder natural-end tokens holtzman phrase x copies seq-rep-4-last-200 onset period
if(NOT out1 MATCHES "\n +0  greedy +-?[0-9]+ +[0-9]+  (yes|no) +[0-9]+ x [0-9]+ +([0-9.]+)")
    message(FATAL_ERROR "no greedy row for prompt 0 in:\n${out1}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL "yes" OR CMAKE_MATCH_2 LESS 0.5)
    message(FATAL_ERROR "greedy decoding of the seed's prompt does not loop: Holtzman "
                        "${CMAKE_MATCH_1}, seq-rep-4 of the last 200 tokens ${CMAKE_MATCH_2}")
endif()
string(REGEX MATCHALL "\n +[0-9]+  top-p 0.95 +-?[0-9]+ +[0-9]+  (yes|no)" top_p_rows "${out1}")
list(LENGTH top_p_rows n_top_p)
if(n_top_p EQUAL 0)
    message(FATAL_ERROR "no top-p rows in:\n${out1}")
endif()
foreach(row IN LISTS top_p_rows)
    if(row MATCHES "yes$")
        message(FATAL_ERROR "a top-p 0.95 sample loops:${row}")
    endif()
endforeach()
foreach(section "-- beginning" "-- middle" "-- end" "== e1:" "== e2:" "== e3:" "== e5:"
                "What is going on:")
    string(FIND "${out1}" "${section}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "the demo did not print '${section}'")
    endif()
endforeach()

# 3. The report in a real browser.
set(report "${WORK}/out1/report.html")
if(NOT EXISTS "${report}")
    message(FATAL_ERROR "no report at ${report}")
endif()
find_program(CHROMIUM NAMES chromium chromium-browser)
if(NOT CHROMIUM)
    message(FATAL_ERROR "chromium was not found; run scripts/install-deps.sh to install it")
endif()
execute_process(COMMAND ${CHROMIUM} --headless=new --no-sandbox --disable-gpu
                        --disable-dev-shm-usage --no-first-run --disable-extensions
                        --virtual-time-budget=5000 --user-data-dir=${WORK}/profile --dump-dom
                        "file://${report}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE dom ERROR_VARIABLE err TIMEOUT 120)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "chromium --dump-dom failed (${rc}):\n${err}")
endif()
file(WRITE "${WORK}/dom.html" "${dom}")
if(NOT dom MATCHES "data-plots-drawn=\"([0-9]+)\"")
    message(FATAL_ERROR "the report's script did not run in Chromium (${WORK}/dom.html)")
endif()
set(drawn ${CMAKE_MATCH_1})
if(NOT dom MATCHES "data-plots=\"([0-9]+)\"")
    message(FATAL_ERROR "no data-plots in ${WORK}/dom.html")
endif()
if(NOT drawn EQUAL CMAKE_MATCH_1 OR drawn LESS 8)
    message(FATAL_ERROR "Chromium drew ${drawn} of ${CMAKE_MATCH_1} plots (expected all, >= 8)")
endif()
message(STATUS "demo: identical with 1 and 2 threads; greedy loops, top-p does not; "
               "${drawn} plots drawn in Chromium")
