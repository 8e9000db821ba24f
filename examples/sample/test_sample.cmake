# Checks of the sampling program (run by CTest with -DSAMPLE, -DPREPARE, -DTRAIN = <programs>,
# -DSTORIES=<valid.txt>, -DWORK=<dir>), on a tiny model trained for 30 steps:
#  1. --greedy and --top-p 0.9 --seed 7 with 1 and 2 threads (40 tokens, past the context of 32
#     by cropping): exit 0, non-empty text, and the same stdout for both thread counts.
#  2. --trace x.csv and x.jsonl: the CSV header, one row (line) per generated token.
#  3. --beam 3 and --contrastive run.
#  4. Bad requests: one line "sample: ..." on stderr naming the flag or value, exit code 1.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)

# The tiny model: a 512-token tokenizer on the validation stories, 30 steps of the tiny preset
# (block size 32). A second tokenizer of 300 tokens for the mismatch check.
run(0 ${PREPARE} --train ${STORIES} --vocab-size 512 --out ${WORK}/d512)
run(0 ${PREPARE} --train ${STORIES} --vocab-size 300 --out ${WORK}/d300)
run(0 ${TRAIN} --data ${WORK}/d512 --preset tiny --steps 30 --batch-size 8 --eval-batches 2
    --no-progress --out ${WORK}/run)
set(ckpt ${WORK}/run/ckpt-000030.safetensors)
set(model --checkpoint ${ckpt} --tokenizer ${WORK}/d512 --color never)

# 1. Greedy and nucleus sampling, 1 and 2 threads.
foreach(mode greedy top_p)
    if(mode STREQUAL "greedy")
        set(flags --greedy)
    else()
        set(flags --top-p 0.9 --seed 7 --num-samples 2)
    endif()
    run(0 ${SAMPLE} ${model} ${flags} --prompt "Once upon a time" --max-new-tokens 40
        --context-policy crop --end-of-text ignore --threads 1)
    set(one "${last_out}")
    run(0 ${SAMPLE} ${model} ${flags} --prompt "Once upon a time" --max-new-tokens 40
        --context-policy crop --end-of-text ignore --threads 2)
    if(NOT one STREQUAL last_out)
        message(FATAL_ERROR "${mode}: 1 and 2 threads differ:\n${one}\n---\n${last_out}")
    endif()
    string(LENGTH "${one}" length)
    if(length LESS 30 OR NOT one MATCHES "^Once upon a time")
        message(FATAL_ERROR "${mode}: no text generated: '${one}'")
    endif()
    if(NOT last_err MATCHES "sampler chain: " OR NOT last_err MATCHES "40 tokens, max_tokens, ")
        message(FATAL_ERROR "${mode}: no chain or summary on stderr:\n${last_err}")
    endif()
endforeach()
# The tokenizer from the data folder the checkpoint records; an empty prompt.
run(0 ${SAMPLE} --checkpoint ${ckpt} --prompt "" --max-new-tokens 5 --temperature 0.8 --seed 3)
# Without --seed the seed is drawn at random and printed, so that the run can be repeated.
run(0 ${SAMPLE} ${model} -p "Once upon a time" -n 8 --temp 0.9)
if(NOT last_err MATCHES "seed ([0-9]+) \\(drawn at random; repeat the run with --seed ([0-9]+)\\)")
    message(FATAL_ERROR "no random seed on stderr:\n${last_err}")
endif()
set(seed ${CMAKE_MATCH_1})
set(first "${last_out}")
run(0 ${SAMPLE} ${model} -p "Once upon a time" -n 8 --temp 0.9 -s ${seed})
if(NOT first STREQUAL last_out OR last_err MATCHES "drawn at random")
    message(FATAL_ERROR "--seed ${seed} did not repeat the run:\n${first}\n---\n${last_out}")
endif()
# Mirostat's update: llama.cpp's surprise by default, the paper's with --mirostat-surprise raw.
run(0 ${SAMPLE} ${model} -p "Once upon a time" -n 8 --mirostat -s 3)
if(NOT last_err MATCHES "mirostat_v2\\(tau 5, eta 0.1\\)")
    message(FATAL_ERROR "mirostat: not the default update:\n${last_err}")
endif()
run(0 ${SAMPLE} ${model} -p "Once upon a time" -n 8 --mirostat --mirostat-surprise raw -s 3)
if(NOT last_err MATCHES "mirostat_v2\\(tau 5, eta 0.1, raw surprise\\)")
    message(FATAL_ERROR "mirostat: --mirostat-surprise raw not in the chain:\n${last_err}")
endif()

# 2. Traces: the header, and one row per generated token (3 samples of 12 tokens, the end token
# ignored so that every sample has its 12).
run(0 ${SAMPLE} ${model} --max-new-tokens 12 --num-samples 3 --end-of-text ignore --seed 1
    --trace ${WORK}/x.csv)
# Rows are counted by their first cells (a quoted token text may hold a line break or ';').
file(READ ${WORK}/x.csv csv)
string(REGEX MATCHALL "\n[0-9]+,[0-9]+,[0-9]+,[0-9]+," rows "${csv}")
list(LENGTH rows rows)
string(REGEX MATCH "^[^\n]*" header "${csv}")
if(NOT rows EQUAL 36 OR NOT header STREQUAL "sequence,step,position,context,story,token,text,\
prob_raw,prob_final,entropy_raw,entropy_final,rank_raw,p_max_raw,top1_token,top1_prob,top2_token,\
top2_prob,top3_token,top3_prob,top4_token,top4_prob,top5_token,top5_prob,changed_by,repeat_1,\
repeat_2,repeat_3,repeat_4,p_end")
    message(FATAL_ERROR "x.csv: ${rows} rows, header '${header}'")
endif()
run(0 ${SAMPLE} ${model} --max-new-tokens 12 --num-samples 3 --end-of-text ignore --seed 1
    --trace ${WORK}/x.jsonl)
file(READ ${WORK}/x.jsonl jsonl)
string(REGEX MATCHALL "(^|\n){\"sequence\":[0-2],\"step\":[0-9]+," rows "${jsonl}")
list(LENGTH rows rows)
string(REGEX MATCHALL "\n" lines "${jsonl}")
list(LENGTH lines lines)
if(NOT rows EQUAL 36 OR NOT lines EQUAL 36)
    message(FATAL_ERROR "x.jsonl: ${rows} records on ${lines} lines")
endif()

# 3. The search decoders.
run(0 ${SAMPLE} ${model} --prompt "Once upon a time" --max-new-tokens 10 --beam 3
    --num-samples 2)
if(NOT last_err MATCHES "hypothesis 2/3")
    message(FATAL_ERROR "beam: ${last_err}")
endif()
run(0 ${SAMPLE} ${model} --prompt "Once upon a time" --max-new-tokens 10 --contrastive
    --trace ${WORK}/c.csv)

# 4. One-line errors, exit 1; each message must match.
fails_with(${SAMPLE} "--top-p 1.5: must be in \\(0, 1\\]" ${model} --top-p 1.5)
fails_with(${SAMPLE} "--temperature -1: must be >= 0" ${model} --temperature -1)
fails_with(${SAMPLE} "unknown stage 'top_q'" ${model} --samplers top_q)
fails_with(${SAMPLE}
           "prompt 1 has [0-9]+ tokens, more than the context of 8 under the 'stop' policy"
           ${model} --context 8
           --prompt "Once upon a time there was a little girl who liked to play")
fails_with(${SAMPLE} "trained with tokenizer .* but ${WORK}/d300 holds" --checkpoint ${ckpt}
           --tokenizer ${WORK}/d300)
fails_with(${SAMPLE} "${WORK}/no-such.safetensors" --checkpoint ${WORK}/no-such.safetensors
           --tokenizer ${WORK}/d512)
fails_with(${SAMPLE} "--logit-bias 'zzzz=-inf'" ${model} --logit-bias zzzz=-inf)
fails_with(${SAMPLE} "--logit-bias '3=big'" ${model} --logit-bias 3=big)
fails_with(${SAMPLE} "--trace x.txt" ${model} --trace x.txt)
fails_with(${SAMPLE} "--top-p has no effect with --beam" ${model} --beam 2 --top-p 0.9)
fails_with(${SAMPLE} "--mirostat-tau requires --mirostat" ${model} --mirostat-tau 3)
fails_with(${SAMPLE} "--checkpoint is required" --greedy)
fails_with(${SAMPLE} "--stop is not available with --beam" ${model} --beam 2 --stop x)
fails_with(${SAMPLE} "--json is not available with --beam" ${model} --beam 2 --json)
