# Checks of train --init and --arch llama (run by CTest with -DTRAIN=<program> -DPREPARE=<program>
# -DSHARED=<../shared/data> -DWORK=<dir>), on the 600 validation stories tokenized with llama2.c's
# tok512.bin:
#  1. --init stories260K.bin: a new run from Karpathy's trained model. Its first loss is its real
#     loss on TinyStories (about 1.3 nats/token; a fresh model starts at ln 512 = 6.2), its sample
#     is text, and a resume from its step-2 checkpoint repeats steps 3 and 4 bit for bit.
#  2. --arch llama from scratch (tiny sizes, grouped-query attention): its first loss is near
#     ln 512.
#  3. --init of an ouro checkpoint with learned positions: the context may shorten, not lengthen.
#  4. One-line errors: a data folder with another vocabulary, another tokenizer of the same size
#     (recorded in an ouro checkpoint, or found beside a llama2.c model as sample finds it), flags
#     that conflict with --init, --position with --arch llama.
# Logs are compared on step, loss, val_loss, lr and grad_norm (tokens/s is a measurement).
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/log_csv.cmake)
set(stories --train ${SHARED}/tinystories/valid.txt --valid-every 10)
set(model260k ${SHARED}/tinyllamas/stories260K.bin)
run(0 ${PREPARE} ${stories} --tokenizer ${SHARED}/tinyllamas/tok512.bin --out ${WORK}/tok512)

# 1. --init stories260K.bin, then a resume.
set(quick --batch-size 4 --block-size 128 --eval-every 0 --eval-batches 2 --lr 1e-4 --warmup 0
    --threads 1 --no-progress)
run(0 ${TRAIN} --init ${model260k} --data ${WORK}/tok512 --steps 4 --checkpoint-every 2
    --sample-every 4 --sample-tokens 48 ${quick} --out ${WORK}/init)
log_field(${WORK}/init/log.csv 1 1 first_loss)
if(NOT first_loss LESS 3.0)
    message(FATAL_ERROR "the first loss from stories260K is ${first_loss}, not its trained loss")
endif()
if(NOT last_out MATCHES "starting from the weights of ${model260k}" OR
   NOT last_out MATCHES "sample at step 4: [^\n]*[a-z]+ [a-z]+ [a-z]+")
    message(FATAL_ERROR "no start message or no text in the sample:\n${last_out}")
endif()
message(STATUS "first loss from stories260K: ${first_loss}")
run(0 ${TRAIN} --resume ${WORK}/init/ckpt-000002.safetensors --out ${WORK}/resumed --no-progress
    --threads 1)
log_rows(${WORK}/init/log.csv 3 4 full_tail)
log_rows(${WORK}/resumed/log.csv 1 2 resumed_rows)
if(NOT full_tail STREQUAL resumed_rows)
    message(FATAL_ERROR "the resumed run differs:\n${full_tail}\n---\n${resumed_rows}")
endif()

# 2. --arch llama from scratch.
run(0 ${TRAIN} --data ${WORK}/tok512 --arch llama --preset tiny --n-kv-head 1 --mlp-hidden 64
    --threads 1 --steps 3 --batch-size 4 --eval-batches 2 --no-progress --out ${WORK}/llama)
log_field(${WORK}/llama/log.csv 1 1 first_loss)
if(first_loss LESS 5.5 OR first_loss GREATER 7.0)
    message(FATAL_ERROR "a fresh Llama starts at ${first_loss}, not near ln 512 = 6.24")
endif()
file(STRINGS ${WORK}/llama/ckpt-000003.safetensors header REGEX "__metadata__" LIMIT_COUNT 1)
if(NOT header MATCHES [["norm\\":\\"rmsnorm\\"]] OR NOT header MATCHES [["n_kv_head\\":1,]] OR
   NOT header MATCHES [["mlp_hidden\\":64,]])
    message(FATAL_ERROR "the checkpoint's config is not the Llama asked for:\n${header}")
endif()

# 3. An ouro checkpoint with learned positions (block size 32) as --init.
run(0 ${TRAIN} --synthetic --preset tiny --steps 1 --threads 1 --no-progress --out ${WORK}/syn)
set(syn_ckpt ${WORK}/syn/ckpt-000001.safetensors)
run(0 ${TRAIN} --init ${syn_ckpt} --synthetic --block-size 16 --steps 1 --threads 1
    --no-progress --out ${WORK}/shorter)
run(1 ${TRAIN} --init ${syn_ckpt} --synthetic --block-size 64 --out ${WORK}/longer)
if(NOT last_err STREQUAL "train: --block-size 64 is longer than the 32 positions that ${syn_ckpt} learned (a learned position embedding has no row past them; RoPE and ALiBi models may lengthen)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()

# 4. Errors.
run(0 ${PREPARE} ${stories} --tokenizer ${SHARED}/tinyllamas/babyllama/tok105.bin
    --out ${WORK}/tok105)
run(1 ${TRAIN} --init ${model260k} --data ${WORK}/tok105 --out ${WORK}/bad)
if(NOT last_err STREQUAL "train: --init ${model260k} has a vocabulary of 512 tokens, but the tokenizer of ${WORK}/tok105 has 105 (prepare the data with the model's tokenizer: prepare --tokenizer)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(0 ${PREPARE} ${stories} --vocab-size 512 --tokenizer-mb 0.1 --out ${WORK}/bpe512)
run(1 ${TRAIN} --init ${WORK}/init/ckpt-000004.safetensors --data ${WORK}/bpe512
    --out ${WORK}/bad)
if(NOT last_err MATCHES "^train: --init [^ ]+ was trained with tokenizer 'llama2c:512:[0-9a-f]+', but the tokenizer of ${WORK}/bpe512 is 'bpe:512:[0-9a-f]+'\n$")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
# stories260K with its tokenizer beside it (as sample finds it): the data must use that
# tokenizer, by content as well as by size; the error names the model's tokenizer file.
configure_file(${model260k} ${WORK}/m260k/stories260K.bin COPYONLY)
configure_file(${SHARED}/tinyllamas/tok512.bin ${WORK}/m260k/tokenizer.bin COPYONLY)
set(m260k ${WORK}/m260k/stories260K.bin)
run(1 ${TRAIN} --init ${m260k} --data ${WORK}/bpe512 --out ${WORK}/bad)
if(NOT last_err MATCHES "^train: --init ${m260k} comes with the tokenizer ${WORK}/m260k/tokenizer.bin \\('llama2c:512:[0-9a-f]+'\\), but the tokenizer of ${WORK}/bpe512 is 'bpe:512:[0-9a-f]+' \\(prepare the data with the model's tokenizer: prepare --tokenizer ${WORK}/m260k/tokenizer.bin\\)\n$")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(1 ${TRAIN} --init ${m260k} --data ${WORK}/tok105 --out ${WORK}/bad)
if(NOT last_err STREQUAL "train: --init ${m260k} has a vocabulary of 512 tokens, but the tokenizer of ${WORK}/tok105 has 105 (prepare the data with the model's tokenizer: prepare --tokenizer ${WORK}/m260k/tokenizer.bin)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(0 ${TRAIN} --init ${m260k} --data ${WORK}/tok512 --steps 1 ${quick} --out ${WORK}/same_tok)
foreach(flag --n-layer --preset --arch --position)
    set(value 2)
    if(flag STREQUAL "--preset")
        set(value s)
    elseif(flag STREQUAL "--arch")
        set(value llama)
    elseif(flag STREQUAL "--position")
        set(value rope)
    endif()
    run(1 ${TRAIN} --init ${model260k} --data ${WORK}/tok512 ${flag} ${value})
    if(NOT last_err STREQUAL "train: ${flag} cannot be used with --init (the model's architecture comes from ${model260k}) (see --help)\n")
        message(FATAL_ERROR "unexpected message: ${last_err}")
    endif()
endforeach()
run(1 ${TRAIN} --resume ${WORK}/init/ckpt-000002.safetensors --init ${model260k})
if(NOT last_err STREQUAL "train: --init cannot change on --resume (the checkpoint holds the run's settings) (see --help)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(1 ${TRAIN} --data ${WORK}/tok512 --arch llama --position alibi)
if(NOT last_err STREQUAL "train: --position cannot be used with --arch llama (a Llama block uses rotary embeddings) (see --help)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(1 ${TRAIN} --init ${SHARED}/tinystories/valid.txt --data ${WORK}/tok512)
if(NOT last_err STREQUAL "train: ${SHARED}/tinystories/valid.txt: not a model file: neither an ouro checkpoint (safetensors), a llama2.c model nor an llm.c model\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
