# The ctest lab_report_renders_in_chromium: writes the sample report (ouro_make_sample_report,
# which also validates it), renders it in headless Chromium and checks the DOM after the page's
# script ran: every plot drawn (data-plots-drawn == data-plots == 3), every series with a
# non-zero drawn box, no text of a plot outside its viewBox or overlapping another (measured by
# the page's script from the rendered boxes), the shaded tokens present with their hover numbers
# and the loop onset marked; then takes a screenshot and checks its size.
#
#   cmake -DMAKE_REPORT=<ouro_make_sample_report> -DWORK_DIR=<dir> -P test_report_browser.cmake
cmake_minimum_required(VERSION 3.21)

foreach(var MAKE_REPORT WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "test_report_browser: -D${var}=... is required")
    endif()
endforeach()

find_program(CHROMIUM NAMES chromium chromium-browser)
if(NOT CHROMIUM)
    message(FATAL_ERROR "test_report_browser: chromium was not found (neither chromium nor "
                        "chromium-browser is on PATH); run scripts/install-deps.sh to install it")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(report "${WORK_DIR}/report.html")
set(screenshot "${WORK_DIR}/report.png")

execute_process(COMMAND "${MAKE_REPORT}" "${report}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc EQUAL 0 OR NOT EXISTS "${report}")
    message(FATAL_ERROR "test_report_browser: ouro_make_sample_report failed (${rc}):\n${out}${err}")
endif()

# Chromium as root needs --no-sandbox; a fresh profile directory per run; no GPU in a container.
set(chromium_flags --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage
    --no-first-run --no-default-browser-check --disable-extensions --hide-scrollbars
    --virtual-time-budget=5000)

execute_process(COMMAND "${CHROMIUM}" ${chromium_flags} "--user-data-dir=${WORK_DIR}/profile-dom"
                        --dump-dom "file://${report}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE dom ERROR_VARIABLE err TIMEOUT 90)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "test_report_browser: chromium --dump-dom failed (${rc}):\n${err}")
endif()
file(WRITE "${WORK_DIR}/dom.html" "${dom}")

set(failures "")
if(NOT dom MATCHES "data-plots-drawn=\"([0-9]+)\"")
    string(APPEND failures "  <body> has no data-plots-drawn (did the page's script run?)\n")
else()
    set(drawn "${CMAKE_MATCH_1}")
    if(NOT drawn EQUAL 3)
        string(APPEND failures "  data-plots-drawn is ${drawn}, expected 3\n")
    endif()
endif()
if(NOT dom MATCHES "data-plots=\"([0-9]+)\"")
    string(APPEND failures "  <body> has no data-plots\n")
elseif(NOT CMAKE_MATCH_1 EQUAL 3)
    string(APPEND failures "  data-plots is ${CMAKE_MATCH_1}, expected 3\n")
endif()

# Every series element (start tags holding class="series") has a non-zero drawn box.
string(REGEX MATCHALL "<[a-z]+ [^>]*class=\"series\"[^>]*>" series_tags "${dom}")
list(LENGTH series_tags series_count)
if(NOT series_count EQUAL 6)
    string(APPEND failures "  ${series_count} series elements, expected 6\n")
endif()
foreach(tag IN LISTS series_tags)
    string(REGEX MATCH "data-name=\"([^\"]*)\"" _ "${tag}")
    set(name "${CMAKE_MATCH_1}")
    foreach(dim width height)
        if(NOT tag MATCHES "data-drawn-${dim}=\"([0-9]+)\"")
            string(APPEND failures "  series '${name}' has no data-drawn-${dim}\n")
        elseif(CMAKE_MATCH_1 EQUAL 0)
            string(APPEND failures "  series '${name}' has data-drawn-${dim}=\"0\"\n")
        endif()
    endforeach()
endforeach()

# The shaded tokens: all of them, the loop ones and the prompt ones (spans in the main text and
# in the side-by-side columns, plus two samples in each of the two legends).
string(REGEX MATCHALL "<span class=\"tok[\" ]" tokens "${dom}")
list(LENGTH tokens token_count)
string(REGEX MATCHALL "<span class=\"tok[a-z ]* loop[\" ]" loop_tokens "${dom}")
list(LENGTH loop_tokens loop_count)
string(REGEX MATCHALL "<span class=\"tok[a-z ]* prompt[\" ]" prompt_tokens "${dom}")
list(LENGTH prompt_tokens prompt_count)
if(token_count LESS 40 OR loop_count LESS 10 OR prompt_count LESS 8)
    string(APPEND failures "  shaded tokens missing: ${token_count} tokens, ${loop_count} in a "
                           "loop, ${prompt_count} in the prompt\n")
endif()
if(NOT dom MATCHES "background-color: ?(#[0-9a-f]+|rgb)")
    string(APPEND failures "  no shaded token has a background colour\n")
endif()

# Text of the plots, as the browser drew it: inside the picture, no two labels overlapping.
if(NOT dom MATCHES "data-plot-texts=\"([0-9]+)\"" OR CMAKE_MATCH_1 LESS 30)
    string(APPEND failures "  the page's script counted too few plot texts (${CMAKE_MATCH_1})\n")
endif()
string(REGEX MATCH "data-text-problems=\"([^\"]*)\"" _ "${dom}")
set(text_problems "${CMAKE_MATCH_1}")
foreach(what outside overlapping)
    if(NOT dom MATCHES "data-texts-${what}=\"([0-9]+)\"")
        string(APPEND failures "  <body> has no data-texts-${what}\n")
    elseif(NOT CMAKE_MATCH_1 EQUAL 0)
        string(APPEND failures "  ${CMAKE_MATCH_1} plot texts ${what}: ${text_problems}\n")
    endif()
endforeach()

# Hover numbers: every generated token has a data-tip with its p, entropy and 5 alternatives.
set(alt "\n  [0-9.]+  [^\n\"]+") # CMake's regex has no {5}
string(REPLACE ";" "," dom_no_semicolons "${dom}") # a ';' would split the list of matches
string(REGEX MATCHALL
       "data-tip=\"p = [0-9.]+ [^\"]*entropy [0-9.]+ nats\nmost likely next:${alt}${alt}${alt}${alt}${alt}\""
       tips "${dom_no_semicolons}")
list(LENGTH tips tip_count)
if(tip_count LESS 40)
    string(APPEND failures "  ${tip_count} tokens with hover numbers (p, entropy, 5 "
                           "alternatives), expected >= 40\n")
endif()
if(NOT dom MATCHES "<span class=\"onset\"[^>]*>[^<]*loop starts</span><span class=\"tok[a-z ]* loop")
    string(APPEND failures "  the loop onset is not marked before the first token of the loop\n")
endif()

if(failures)
    message(FATAL_ERROR "test_report_browser: the rendered DOM (${WORK_DIR}/dom.html) is not "
                        "as expected:\n${failures}")
endif()

execute_process(COMMAND "${CHROMIUM}" ${chromium_flags} "--user-data-dir=${WORK_DIR}/profile-png"
                        "--screenshot=${screenshot}" --window-size=1200,2000 "file://${report}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 90)
if(NOT rc EQUAL 0 OR NOT EXISTS "${screenshot}")
    message(FATAL_ERROR "test_report_browser: chromium --screenshot failed (${rc}):\n${err}")
endif()
file(SIZE "${screenshot}" png_size)
if(png_size LESS 10240)
    message(FATAL_ERROR "test_report_browser: the screenshot ${screenshot} has only ${png_size} "
                        "bytes (expected > 10 kB)")
endif()
message(STATUS "test_report_browser: ${series_count} series drawn in 3 plots, ${token_count} "
               "shaded tokens (${tip_count} with hover numbers); screenshot ${screenshot} (${png_size} bytes)")
