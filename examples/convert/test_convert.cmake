# Checks of the convert program (run by CTest with -DCONVERT, -DSAMPLE, -DLAB, -DPREPARE, -DTRAIN =
# <programs>, -DWORK=<dir>, and optionally -DSHARED=<../shared/data> and -DPYTHON=<a python3 with
# torch>), on a GPT-2 and a Llama trained for 40 steps on tiny stories, and on llama2.c's
# stories260K when the shared data is there:
#  1. Every pair of formats: a model is first made exact in every format (through a 16-bit bundle,
#     whose rounding is the only lossy step, and a format that keeps no training settings), then
#     written in each format X; converting X to Y must give the bytes of the direct Y, for every
#     X != Y. `sample --greedy` prints the same text from every format.
#  2. stories260K (llama2.c's tokenizer): the same, and the Hugging Face folder samples exactly
#     what llama2.c's run.c prints; lab reads the folder too. A GPT-2 vocabulary's folder without
#     tokenizer files samples with GPT-2's own files (../shared/data/gpt2), as GPT-2 124M does.
#  3. With PYTHON: tests/reference/hf_reference.py recomputes each Hugging Face export in PyTorch
#     from config.json and model.safetensors alone and compares it with `sample`'s trace of the
#     original model.
#  4. Refusals: an existing output without --overwrite, a model the target cannot hold, a
#     tokenizer of another vocabulary, an unknown input: one line "convert: ..." and exit 1.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)

write_tiny_stories(${WORK}/stories.txt 300)
run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 300 --valid-every 10 --out ${WORK}/data)
run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 290 --valid-every 10 --out ${WORK}/data290)
set(quick --data ${WORK}/data --preset tiny --steps 40 --batch-size 8 --lr 1e-2 --warmup 0
    --eval-batches 1 --threads 1 --no-progress --dropout 0)
run(0 ${TRAIN} ${quick} --out ${WORK}/gpt)
run(0 ${TRAIN} ${quick} --arch llama --n-kv-head 1 --mlp-hidden 64 --out ${WORK}/llama)

# Where convert puts format `fmt` in folder `dir`, and the path `sample` reads.
function(target_path fmt dir out_var)
    if(fmt STREQUAL "hf" OR fmt STREQUAL "bundle")
        set(${out_var} ${dir} PARENT_SCOPE)
    elseif(fmt STREQUAL "ouro")
        set(${out_var} ${dir}/model.safetensors PARENT_SCOPE)
    else()
        set(${out_var} ${dir}/model.bin PARENT_SCOPE)
    endif()
endfunction()
function(sample_path fmt dir out_var)
    target_path(${fmt} ${dir} p)
    if(fmt STREQUAL "bundle")
        set(p ${dir}/model.safetensors)
    endif()
    set(${out_var} ${p} PARENT_SCOPE)
endfunction()

# The pair matrix for one model: `source` (any format), its formats, the tokenizer flags.
function(check_pairs name source formats exact_path)
    set(dir ${WORK}/${name})
    # Exact in every format: 16-bit weights, then through `exact_path` (a format without training
    # settings) back to an ouro checkpoint.
    run(0 ${CONVERT} ${source} ${dir}/half --to bundle ${ARGN})
    target_path(${exact_path} ${dir}/plain p)
    run(0 ${CONVERT} ${dir}/half/model.safetensors ${p} --to ${exact_path})
    run(0 ${CONVERT} ${p} ${dir}/exact/model.safetensors --to ouro)
    foreach(x ${formats})
        target_path(${x} ${dir}/direct_${x} p)
        run(0 ${CONVERT} ${dir}/exact/model.safetensors ${p} --to ${x})
    endforeach()
    set(text "")
    foreach(x ${formats})
        target_path(${x} ${dir}/direct_${x} from)
        foreach(y ${formats})
            if(NOT x STREQUAL y)
                target_path(${y} ${dir}/${x}_to_${y} p)
                run(0 ${CONVERT} ${from} ${p} --to ${y})
                same_files(${dir}/${x}_to_${y} ${dir}/direct_${y} "provenance\\.json$")
            endif()
        endforeach()
        sample_path(${x} ${dir}/direct_${x} p)
        run(0 ${SAMPLE} --checkpoint ${p} --greedy --prompt "Once upon a time" --max-new-tokens 24
            --context-policy crop --end-of-text ignore --threads 1)
        if(text STREQUAL "")
            set(text "${last_out}")
        elseif(NOT last_out STREQUAL text)
            message(FATAL_ERROR "${name}: sample --greedy from ${x} differs:\n${last_out}\n---\n${text}")
        endif()
    endforeach()
    message(STATUS "${name}: ${formats} convert into each other byte for byte; greedy text: ${text}")
endfunction()

check_pairs(gpt ${WORK}/gpt/ckpt-000040.safetensors "ouro;hf;llmc;bundle" llmc)
check_pairs(llama ${WORK}/llama/ckpt-000040.safetensors "ouro;hf;llama2c;bundle" llama2c)

# The Hugging Face config names the story separator as bos and eos (not GPT-2's 50256).
file(READ ${WORK}/gpt/direct_hf/config.json config)
if(NOT config MATCHES "\"bos_token_id\": 299" OR NOT config MATCHES "\"eos_token_id\": 299" OR
   NOT config MATCHES "\"model_type\": \"gpt2\"")
    message(FATAL_ERROR "config.json of the GPT-2 export:\n${config}")
endif()

# 2. stories260K with llama2.c's tokenizer.
if(SHARED AND EXISTS ${SHARED}/tinyllamas/stories260K.bin)
    set(s260 ${SHARED}/tinyllamas/stories260K.bin)
    set(tok512 ${SHARED}/tinyllamas/tok512.bin)
    check_pairs(s260 ${s260} "ouro;hf;llama2c;bundle" llama2c --tokenizer ${tok512})
    run(0 ${CONVERT} ${s260} ${WORK}/s260_hf --to hf --tokenizer ${tok512})
    run(0 ${SAMPLE} --checkpoint ${WORK}/s260_hf --greedy --max-new-tokens 256 --threads 1)
    file(READ ${SHARED}/tinyllamas/stories260K-greedy-256.txt expected)
    string(STRIP "${expected}" expected)
    string(STRIP "${last_out}" got)
    if(NOT got STREQUAL expected)
        message(FATAL_ERROR "stories260K as a Hugging Face folder samples:\n${got}\n---\nrun.c:\n${expected}")
    endif()
    run(0 ${LAB} --checkpoint ${WORK}/s260_hf --quick --samples 1 --max-new-tokens 30
        --prompt "Once upon a time" --threads 1 --no-progress --out ${WORK}/lab e3)
    if(NOT last_out MATCHES "== e3: Does repetition reinforce itself")
        message(FATAL_ERROR "lab on a Hugging Face folder:\n${last_out}")
    endif()
    file(READ ${WORK}/s260_hf/generation_config.json gen)
    if(NOT gen MATCHES "\"eos_token_id\": \\[\n *2,\n *1\n *\\]")
        message(FATAL_ERROR "generation_config.json of stories260K:\n${gen}")
    endif()
endif()

# A GPT-2 vocabulary: a folder shaped as the Hub's GPT-2 (no tokenizer files of its own) samples
# with GPT-2's tokenizer from the shared data, as GPT-2 124M does.
if(SHARED AND EXISTS ${SHARED}/gpt2/vocab.json)
    run(0 ${PREPARE} --train ${WORK}/stories.txt --gpt2 ${SHARED}/gpt2 --valid-every 10
        --out ${WORK}/data_gpt2)
    run(0 ${TRAIN} --data ${WORK}/data_gpt2 --preset tiny --steps 2 --batch-size 4
        --eval-batches 1 --threads 1 --no-progress --out ${WORK}/gpt2vocab)
    run(0 ${CONVERT} ${WORK}/gpt2vocab/ckpt-000002.safetensors ${WORK}/gpt2_hf --to hf)
    foreach(f vocab.json merges.txt tokenizer.json)
        file(REMOVE ${WORK}/gpt2_hf/${f})
    endforeach()
    run(0 ${SAMPLE} --checkpoint ${WORK}/gpt2_hf --tokenizer ${SHARED}/gpt2 --greedy
        --prompt "Once upon a time" --max-new-tokens 8 --threads 1)
    unwrap(last_err) # sample's line about the model wraps at 100 columns
    if(NOT last_err MATCHES "Hugging Face folder" OR NOT last_err MATCHES "50257 tokens")
        message(FATAL_ERROR "sample from a GPT-2 Hugging Face folder:\n${last_err}")
    endif()
    file(READ ${WORK}/gpt2_hf/config.json config)
    if(NOT config MATCHES "\"eos_token_id\": 50256")
        message(FATAL_ERROR "config.json of a GPT-2 vocabulary:\n${config}")
    endif()
endif()

# 3. PyTorch recomputes the Hugging Face exports.
if(PYTHON)
    # Each check: the Hugging Face folder | the model it was converted from.
    set(checks "gpt/direct_hf|gpt/exact/model.safetensors"
               "llama/direct_hf|llama/exact/model.safetensors")
    if(SHARED AND EXISTS ${SHARED}/tinyllamas/stories260K.bin)
        list(APPEND checks "s260_hf|${SHARED}/tinyllamas/stories260K.bin")
    endif()
    foreach(check ${checks})
        string(REPLACE "|" ";" check "${check}")
        list(GET check 0 folder)
        list(GET check 1 model)
        if(NOT IS_ABSOLUTE ${model})
            set(model ${WORK}/${model})
        endif()
        set(tok "")
        if(model MATCHES "stories260K")
            set(tok --tokenizer ${SHARED}/tinyllamas/tok512.bin)
        endif()
        run(0 ${SAMPLE} --checkpoint ${model} ${tok} --greedy --max-new-tokens 40
            --end-of-text new_story --context-policy stop --threads 1 --trace ${WORK}/trace.jsonl)
        run(0 ${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/../../tests/reference/hf_reference.py
            ${WORK}/${folder} ${WORK}/trace.jsonl)
        message(STATUS "${last_out}")
    endforeach()
endif()

# 4. Refusals: one line "convert: ...", exit 1, nothing written.
set(gpt_ckpt ${WORK}/gpt/ckpt-000040.safetensors)
fails_with(${CONVERT} "exists and is not empty \\(pass --overwrite" ${gpt_ckpt}
           ${WORK}/gpt/direct_hf --to hf)
run(0 ${CONVERT} ${gpt_ckpt} ${WORK}/gpt/direct_hf --to hf --overwrite)
fails_with(${CONVERT} "model.bin exists \\(pass --overwrite" ${gpt_ckpt}
           ${WORK}/gpt/direct_llmc/model.bin --to llmc)
fails_with(${CONVERT} "llama2.c cannot represent a model with LayerNorm" ${gpt_ckpt}
           ${WORK}/refused/model.bin --to llama2c)
fails_with(${CONVERT} "only GPT-2 shaped models" ${WORK}/llama/ckpt-000040.safetensors
           ${WORK}/refused/model.bin --to llmc)
if(EXISTS ${WORK}/refused)
    message(FATAL_ERROR "a refused conversion left ${WORK}/refused behind")
endif()
fails_with(${CONVERT} "vocabulary of 300 tokens, but the tokenizer"
           ${WORK}/gpt/direct_llmc/model.bin ${WORK}/refused/x --to hf --tokenizer ${WORK}/data290)
fails_with(${CONVERT} "holds another tokenizer \\(pass --overwrite"
           ${WORK}/gpt/direct_llmc/model.bin ${WORK}/data290/model.bin --to llmc
           --tokenizer ${WORK}/data)
fails_with(${CONVERT} "not a model file" ${WORK}/stories.txt ${WORK}/refused/x --to hf
           --tokenizer ${WORK}/data)
fails_with(${CONVERT} "--to: hf not in|--to: .*not in" ${gpt_ckpt} ${WORK}/refused/x --to onnx)
fails_with(${CONVERT} "a folder that holds neither config.json" ${WORK}/data ${WORK}/refused/x
           --to hf --tokenizer ${WORK}/data)
if(EXISTS ${WORK}/refused)
    message(FATAL_ERROR "a refused conversion left ${WORK}/refused behind")
endif()
