# Stop strings and JSON output of the sampling program (run by CTest with -DSAMPLE=<program>,
# -DBUNDLED=<models/tinystories-2.6m/model.safetensors>, -DWORK=<dir>), on the bundled model, whose
# text has words of several tokens:
#  1. --stop: the text ends before the first occurrence of the stop string in the generated text
#     (a piece that spans tokens), with --greedy and --contrastive; the prompt does not count.
#  2. --json: stdout is one JSON object per sample and line (parsed with string(JSON)), its text
#     and tokens agree with the stop string, the chosen token is in the top 5 at its rank when
#     rank_raw < 5, a lone byte of a UTF-8 character gets U+FFFD and "bytes"; with python3
#     (check_json.py), logprob = ln p and the top 5 against the --trace of the same run.
#  3. --top-logprobs N: N alternatives per token in --json and in the trace (0 and 12 checked by
#     check_json.py against a CSV-free run); bad values and a use without --json or --trace are
#     one-line errors.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)

# 1. Each decoder's text, then the same run stopped at a piece of it, 6 bytes from the 4th byte of
# the generated text on (it spans tokens); the text must end where the piece first occurs in the
# generated text.
set(bundled --checkpoint ${BUNDLED} --color never)
set(prompt "Once upon a time")
string(LENGTH "${prompt}" prompt_length)
foreach(decoder --greedy --contrastive)
    run(0 ${SAMPLE} ${bundled} ${decoder} -p "${prompt}" -n 30)
    set(full "${last_out}")
    string(SUBSTRING "${full}" ${prompt_length} -1 generated)
    string(SUBSTRING "${generated}" 3 6 stop)
    string(FIND "${generated}" "${stop}" cut)
    string(SUBSTRING "${generated}" 0 ${cut} before)
    run(0 ${SAMPLE} ${bundled} ${decoder} -p "${prompt}" -n 30 --stop "${stop}"
        --stop "a stop string that never comes")
    if(NOT last_out STREQUAL "${prompt}${before}\n" OR NOT last_err MATCHES ", stop_string, ")
        message(FATAL_ERROR "${decoder} --stop '${stop}': expected '${prompt}${before}', got "
                            "'${last_out}'\n${last_err}")
    endif()
    # The prompt holds "upon": only the generated text counts.
    if(NOT generated MATCHES "upon")
        run(0 ${SAMPLE} ${bundled} ${decoder} -p "${prompt}" -n 30 --stop upon)
        if(NOT last_out STREQUAL full)
            message(FATAL_ERROR "${decoder} --stop upon: the prompt stopped it:\n${last_out}")
        endif()
    endif()
endforeach()

# 2. --json with --trace: three samples, each stopped at its first "." if it has one.
set(stop ".")
run(0 ${SAMPLE} ${bundled} -p "${prompt}" -n 30 --num-samples 3 --seed 5 --stop "${stop}"
    --json --trace ${WORK}/j.jsonl)
set(json_lines "${last_out}")
file(WRITE ${WORK}/j_out.jsonl "${json_lines}")
set(rest "${json_lines}")
set(count 0)
while(NOT rest STREQUAL "")
    string(FIND "${rest}" "\n" eol)
    if(eol LESS 0)
        message(FATAL_ERROR "--json: the last line has no line break: '${rest}'")
    endif()
    string(SUBSTRING "${rest}" 0 ${eol} line)
    math(EXPR eol "${eol} + 1")
    string(SUBSTRING "${rest}" ${eol} -1 rest)
    string(JSON index GET "${line}" index)
    string(JSON text GET "${line}" text)
    string(JSON finish GET "${line}" finish_reason)
    string(JSON seed GET "${line}" seed)
    string(JSON top_p GET "${line}" settings top_p)
    string(JSON got_prompt GET "${line}" prompt)
    string(JSON n LENGTH "${line}" tokens)
    if(NOT index EQUAL count OR NOT seed STREQUAL "5" OR NOT got_prompt STREQUAL prompt
       OR NOT top_p MATCHES "^1(\\.0*)?$")
        message(FATAL_ERROR "--json line ${count}: index ${index}, seed ${seed}, top_p ${top_p}, "
                            "prompt '${got_prompt}'")
    endif()
    set(joined "")
    math(EXPR last "${n} - 1")
    foreach(t RANGE ${last})
        string(JSON piece GET "${line}" tokens ${t} text)
        string(JSON id GET "${line}" tokens ${t} id)
        string(JSON rank GET "${line}" tokens ${t} rank_raw)
        string(JSON raw GET "${line}" tokens ${t} logprob_raw)
        string(APPEND joined "${piece}")
        if(rank LESS 5) # the chosen token is in the top 5 at its rank, with the same log-prob
            string(JSON top_id GET "${line}" tokens ${t} top_logprobs ${rank} id)
            string(JSON top_lp GET "${line}" tokens ${t} top_logprobs ${rank} logprob)
            if(NOT top_id EQUAL id OR NOT top_lp STREQUAL raw)
                message(FATAL_ERROR "--json line ${count}, token ${t}: rank ${rank} but "
                                    "top_logprobs[${rank}] is ${top_id} (${top_lp} vs ${raw})")
            endif()
        endif()
    endforeach()
    # The text is the tokens' text up to the stop string (or all of it).
    if(finish STREQUAL "stop_string")
        string(FIND "${joined}" "${stop}" at)
        string(SUBSTRING "${joined}" 0 ${at} expected)
    else()
        set(expected "${joined}")
    endif()
    if(NOT text STREQUAL expected OR NOT finish MATCHES "^(stop_string|max_tokens)$")
        message(FATAL_ERROR "--json line ${count}: text '${text}' (${finish}), tokens '${joined}'")
    endif()
    math(EXPR count "${count} + 1")
endwhile()
if(NOT count EQUAL 3 OR last_err MATCHES "{")
    message(FATAL_ERROR "--json: ${count} lines, stderr:\n${last_err}")
endif()
# A token that is one byte of a two-byte character: U+FFFD in "text", the byte in "bytes".
run(0 ${SAMPLE} ${bundled} --greedy -p "${prompt}" -n 2 --logit-bias "Ã=100" --json)
string(JSON text GET "${last_out}" tokens 0 text)
string(JSON byte GET "${last_out}" tokens 0 bytes 0)
if(NOT text STREQUAL "�" OR NOT byte EQUAL 195)
    message(FATAL_ERROR "--json: a lone byte 0xC3 gave text '${text}', bytes[0] ${byte}")
endif()
# The numbers against the trace: logprob = ln prob_final, logprob_raw = ln prob_raw, the top 5.
find_program(PYTHON3 python3)
if(PYTHON3)
    run(0 ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_json.py ${WORK}/j_out.jsonl ${WORK}/j.jsonl)
endif()

# 3. --top-logprobs: 12 and 0 alternatives, for the chain and contrastive search.
foreach(case "12;--seed;5" "0;--seed;5" "12;--contrastive")
    list(POP_FRONT case n)
    run(0 ${SAMPLE} ${bundled} -p "${prompt}" -n 8 --num-samples 1 ${case} --top-logprobs ${n}
        --json --trace ${WORK}/n${n}.jsonl)
    file(WRITE ${WORK}/n${n}_out.jsonl "${last_out}")
    string(JSON count LENGTH "${last_out}" tokens 0 top_logprobs)
    if(NOT count EQUAL n)
        message(FATAL_ERROR "--top-logprobs ${n}: ${count} alternatives in:\n${last_out}")
    endif()
    if(PYTHON3)
        run(0 ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_json.py ${WORK}/n${n}_out.jsonl
            ${WORK}/n${n}.jsonl ${n})
    endif()
endforeach()
run(0 ${SAMPLE} ${bundled} -p "${prompt}" -n 3 --greedy --top-logprobs 7 --trace ${WORK}/t7.csv)
file(STRINGS ${WORK}/t7.csv header LIMIT_COUNT 1)
if(NOT header MATCHES ",top7_token,top7_prob,changed_by," OR header MATCHES "top8_")
    message(FATAL_ERROR "--top-logprobs 7 --trace: header ${header}")
endif()
foreach(case "-1;--top-logprobs -1: must be between 0 and 1000"
             "1001;--top-logprobs 1001: must be between 0 and 1000"
             "two;--top-logprobs two: must be a whole number"
             "3;--top-logprobs has no effect without --json or --trace")
    list(POP_FRONT case value)
    if(value STREQUAL "3")
        run(1 ${SAMPLE} ${bundled} -p "${prompt}" -n 3 --top-logprobs ${value})
    else()
        run(1 ${SAMPLE} ${bundled} -p "${prompt}" -n 3 --json --top-logprobs ${value})
    endif()
    string(REGEX MATCHALL "\n" breaks "${last_err}")
    list(LENGTH breaks lines)
    if(NOT last_err MATCHES "^sample: ${case}" OR NOT lines EQUAL 1)
        message(FATAL_ERROR "--top-logprobs ${value}: expected one line 'sample: ${case}', got:\n"
                            "${last_err}")
    endif()
endforeach()
if(NOT PYTHON3)
    message(STATUS "python3 not found: --json's numbers not checked against the trace")
endif()
