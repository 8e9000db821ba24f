# Checks of prepare --tokenizer (run by CTest with -DPREPARE=<program> -DSHARED=<../shared/data>
# -DWORK=<dir>), on the 600 validation stories:
#  1. llama2.c's tok512.bin: the folder gets tokenizer.bin, byte-identical to the input, and no
#     vocab.json / merges.txt (stale ones from an earlier run are removed with --overwrite); both
#     shards start with BOS (id 1), as llama2.c's own pretokenized TinyStories.
#  2. GPT-2's folder: --tokenizer DIR writes exactly what --gpt2 DIR writes, vocab.json and
#     merges.txt included, and each shard starts with <|endoftext|> (50256); a stale tokenizer.bin
#     is removed (with --overwrite).
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
set(stories --train ${SHARED}/tinystories/valid.txt --valid-every 10)

# The first token of a shard (after llm.c's 256-int32 header), as 4 hex digits, little-endian.
function(first_token shard out_var)
    file(READ "${shard}" hex OFFSET 1024 LIMIT 2 HEX)
    set(${out_var} "${hex}" PARENT_SCOPE)
endfunction()

# 1. llama2.c
file(MAKE_DIRECTORY ${WORK}/tok512)
file(WRITE ${WORK}/tok512/vocab.json "{}")
file(WRITE ${WORK}/tok512/merges.txt "")
run(0 ${PREPARE} ${stories} --tokenizer ${SHARED}/tinyllamas/tok512.bin --out ${WORK}/tok512
    --overwrite)
if(NOT last_out MATCHES "loaded the llama2.c tokenizer .*: 512 tokens" OR
   NOT last_out MATCHES "train.bin: 540 stories" OR NOT last_out MATCHES "val.bin: 60 stories")
    message(FATAL_ERROR "unexpected output:\n${last_out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/tok512/tokenizer.bin
                        ${SHARED}/tinyllamas/tok512.bin RESULT_VARIABLE differs)
if(differs)
    message(FATAL_ERROR "the saved tokenizer.bin differs from tok512.bin")
endif()
if(EXISTS ${WORK}/tok512/vocab.json OR EXISTS ${WORK}/tok512/merges.txt)
    message(FATAL_ERROR "the stale vocab.json / merges.txt were left beside tokenizer.bin")
endif()
foreach(shard train val)
    first_token(${WORK}/tok512/${shard}.bin token)
    if(NOT token STREQUAL "0100")
        message(FATAL_ERROR "${shard}.bin starts with ${token}, not BOS (0100)")
    endif()
endforeach()

# 2. GPT-2: the same files either way.
run(0 ${PREPARE} ${stories} --gpt2 ${SHARED}/gpt2 --out ${WORK}/gpt2)
file(MAKE_DIRECTORY ${WORK}/any)
file(WRITE ${WORK}/any/tokenizer.bin "stale")
run(0 ${PREPARE} ${stories} --tokenizer ${SHARED}/gpt2 --out ${WORK}/any --overwrite)
if(EXISTS ${WORK}/any/tokenizer.bin)
    message(FATAL_ERROR "the stale tokenizer.bin was left beside vocab.json")
endif()
foreach(file train.bin val.bin vocab.json merges.txt)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/gpt2/${file}
                            ${WORK}/any/${file} RESULT_VARIABLE differs)
    if(differs)
        message(FATAL_ERROR "--tokenizer and --gpt2 wrote different ${file}")
    endif()
endforeach()
first_token(${WORK}/any/train.bin token)
if(NOT token STREQUAL "50c4")
    message(FATAL_ERROR "train.bin starts with ${token}, not <|endoftext|> (50c4)")
endif()
