# Checks of the training program (run by CTest with -DTRAIN=<path> -DWORK=<dir>):
#  1. 200 steps with a checkpoint at 100, then a resume from it: steps 101-200 are bit-identical.
#  2. The same 200 steps with 2 threads: bit-identical to 1 thread.
#  3. A NaN loss at step 150 stops training with exit code 3 and a message naming the last good
#     checkpoint, which is still there and readable (a resume from it works).
#  4. Bad flags and files: one line on stderr, exit code 1.
# Logs are compared on step, loss, val_loss, lr and grad_norm (tokens/s is a measurement).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(common --synthetic --preset tiny --steps 200 --batch-size 8 --dropout 0.1 --lr 3e-3
    --warmup 20 --eval-every 50 --no-progress)

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/log_csv.cmake)

run(0 ${TRAIN} ${common} --threads 1 --checkpoint-every 100 --out ${WORK}/full)
check_width("${last_out}${last_err}" "train")
run(0 ${TRAIN} --resume ${WORK}/full/ckpt-000100.safetensors --out ${WORK}/resumed --no-progress --threads 1)
log_rows(${WORK}/full/log.csv 101 200 full_tail)
log_rows(${WORK}/resumed/log.csv 1 100 resumed_rows)
if(NOT full_tail STREQUAL resumed_rows)
    message(FATAL_ERROR "resumed run differs from the uninterrupted one:\n${full_tail}\n---\n${resumed_rows}")
endif()

run(0 ${TRAIN} ${common} --threads 2 --checkpoint-every 100 --out ${WORK}/two)
log_rows(${WORK}/full/log.csv 1 200 one_thread)
log_rows(${WORK}/two/log.csv 1 200 two_threads)
if(NOT one_thread STREQUAL two_threads)
    message(FATAL_ERROR "1 and 2 threads differ")
endif()

run(3 ${TRAIN} ${common} --threads 1 --checkpoint-every 100 --debug-nan-step 150 --out ${WORK}/nan)
if(NOT last_err MATCHES "training stopped at step 150: the loss is nan" OR
   NOT last_err MATCHES "The last good checkpoint is ${WORK}/nan/ckpt-000100.safetensors")
    message(FATAL_ERROR "unexpected NaN message: ${last_err}")
endif()
if(EXISTS ${WORK}/nan/ckpt-000150.safetensors OR EXISTS ${WORK}/nan/ckpt-000200.safetensors)
    message(FATAL_ERROR "a checkpoint was written after the loss became NaN")
endif()
run(0 ${TRAIN} --resume ${WORK}/nan/ckpt-000100.safetensors --steps 110 --out ${WORK}/after_nan --no-progress)

run(1 ${TRAIN} --synthetic --steps 0)
if(NOT last_err STREQUAL "train: --steps 0: must be between 1 and 1000000000 (see --help)\n")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
file(WRITE ${WORK}/broken.safetensors "not a checkpoint")
run(1 ${TRAIN} --resume ${WORK}/broken.safetensors)
if(NOT last_err MATCHES "^train: ${WORK}/broken.safetensors: header length [0-9]+ runs past the end")
    message(FATAL_ERROR "unexpected message: ${last_err}")
endif()
run(1 ${TRAIN} --resume ${WORK}/full/ckpt-000100.safetensors --lr 1)
run(1 ${TRAIN} --data ${WORK}/no-such-folder)
