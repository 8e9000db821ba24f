# Checks of what train does with files that are not its own, and when it cannot write (run by
# CTest with -DTRAIN=<program> -DPREPARE=<program> -DWORK=<dir>), on a tiny model:
#  1. A new run refuses a folder that holds another run's checkpoints, or a log with rows, and a
#     resume refuses another run's folder: one line, exit code 1, nothing touched. --overwrite
#     replaces the other run (its checkpoints go, the log holds the new rows only).
#  2. A second train in a folder that is in use is refused (flock(1) holds it).
#  3. A log or checkpoint that cannot be written stops training with one line naming the file and
#     exit code 1, and the checkpoints before it stay byte for byte: a log on /dev/full (the CSV
#     header; a JSONL row), a checkpoint write that fails partway (a file size limit, as a full
#     disk), a checkpoint whose name a folder has taken, and a read-only folder.
#     As root, chmod does not stop writes: train then runs as the user nobody (setpriv), and the
#     read-only checks are skipped, with a message, when that is not possible.
#  4. The next start removes the temporary files a killed run left (those of checkpoints and
#     synthetic shards), and nothing else: not other names, not folders.
#  5. A resume cuts a JSONL log back to the checkpoint's step, an unfinished last line included.
cmake_minimum_required(VERSION 3.20)
foreach(dir ro ro-new) # read-only folders of an earlier, failed run
    if(EXISTS ${WORK}/${dir})
        file(CHMOD ${WORK}/${dir} DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
    endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/run_program.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/log_csv.cmake)

write_tiny_stories(${WORK}/stories.txt 200)
run(0 ${PREPARE} --train ${WORK}/stories.txt --vocab-size 300 --valid-every 10 --threads 1
    --out ${WORK}/data)
set(tiny --data ${WORK}/data --preset tiny --n-embd 16 --block-size 16 --batch-size 4
    --eval-every 0 --eval-batches 2 --threads 1 --no-progress)
set(resume_flags --threads 1 --no-progress)

# Fails unless the last run() printed exactly "train: <expected>" on stderr.
function(expect_error expected)
    if(NOT last_err STREQUAL "train: ${expected}\n")
        message(FATAL_ERROR "expected the message\ntrain: ${expected}\ngot:\n${last_err}")
    endif()
endfunction()
function(expect_same_file a b)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a} ${b} RESULT_VARIABLE differs)
    if(differs)
        message(FATAL_ERROR "${a} changed")
    endif()
endfunction()

# 1. Another run's files.
run(0 ${TRAIN} ${tiny} --steps 4 --checkpoint-every 2 --out ${WORK}/a)
run(1 ${TRAIN} ${tiny} --steps 2 --out ${WORK}/a)
expect_error("${WORK}/a already holds a run (checkpoints up to ckpt-000004.safetensors); continue it with --resume ${WORK}/a/ckpt-000004.safetensors, or replace it with --overwrite")
file(MAKE_DIRECTORY ${WORK}/b)
file(WRITE ${WORK}/b/log.csv "step,loss,val_loss,lr,grad_norm,tokens_per_s\n1,5.5,,0.001,1,10\n")
run(1 ${TRAIN} ${tiny} --steps 2 --out ${WORK}/b)
expect_error("${WORK}/b/log.csv already holds another run's log; replace it with --overwrite, or give another --out")
run(1 ${TRAIN} --resume ${WORK}/a/ckpt-000002.safetensors --out ${WORK}/b ${resume_flags})
expect_error("${WORK}/b/log.csv already holds another run's log; replace it with --overwrite, or give another --out")
file(READ ${WORK}/b/log.csv b_log)
if(NOT b_log STREQUAL "step,loss,val_loss,lr,grad_norm,tokens_per_s\n1,5.5,,0.001,1,10\n")
    message(FATAL_ERROR "a refused run changed ${WORK}/b/log.csv:\n${b_log}")
endif()
# A log with a header only is what a run stopped before its first step leaves: no run.
file(MAKE_DIRECTORY ${WORK}/c)
file(WRITE ${WORK}/c/log.csv "step,loss,val_loss,lr,grad_norm,tokens_per_s\n")
run(0 ${TRAIN} ${tiny} --steps 1 --out ${WORK}/c)
run(0 ${TRAIN} ${tiny} --steps 3 --checkpoint-every 0 --seed 5 --out ${WORK}/a --overwrite)
file(GLOB left RELATIVE ${WORK}/a ${WORK}/a/ckpt-*)
log_steps(${WORK}/a/log.csv steps)
if(NOT left STREQUAL "ckpt-000003.safetensors" OR NOT steps STREQUAL "1 2 3 ")
    message(FATAL_ERROR "--overwrite left checkpoints ${left} and log steps ${steps}")
endif()

# 2. A folder in use.
find_program(FLOCK flock)
if(FLOCK)
    run(1 ${FLOCK} ${WORK}/a ${TRAIN} --resume ${WORK}/a/ckpt-000003.safetensors --steps 4
        ${resume_flags})
    expect_error("${WORK}/a is in use by another train process")
else()
    message(STATUS "no flock program: the folder-in-use check is skipped")
endif()

# 3. Write failures. A log on a full disk: the CSV header of a new run, a JSONL row on resume.
file(COPY_FILE ${WORK}/a/ckpt-000003.safetensors ${WORK}/ckpt-000003.copy)
if(EXISTS /dev/full)
    run(1 ${TRAIN} ${tiny} --steps 2 --out ${WORK}/full --log /dev/full)
    expect_error("cannot write /dev/full (the training log): No space left on device")
    file(CREATE_LINK /dev/full ${WORK}/full.jsonl SYMBOLIC)
    run(1 ${TRAIN} --resume ${WORK}/a/ckpt-000003.safetensors --steps 5 --checkpoint-every 1
        --log ${WORK}/full.jsonl ${resume_flags})
    expect_error("cannot write ${WORK}/full.jsonl (the training log): No space left on device")
    if(EXISTS ${WORK}/a/ckpt-000004.safetensors)
        message(FATAL_ERROR "a checkpoint was written after its log row failed")
    endif()
else()
    message(STATUS "no /dev/full: the full-disk log checks are skipped")
endif()
# A checkpoint whose write fails partway, as on a full disk: a file size limit of half a
# checkpoint (bash's ulimit -f, in KiB; SIGXFSZ ignored, so that write(2) fails with EFBIG).
find_program(BASH bash)
if(BASH)
    file(SIZE ${WORK}/a/ckpt-000003.safetensors bytes)
    math(EXPR limit "${bytes} / 2048")
    # (No ";" in the script: run() passes its arguments on as a CMake list.)
    run(1 ${BASH} -c "trap '' XFSZ && ulimit -f ${limit} && exec \"$@\"" bash ${TRAIN}
        --resume ${WORK}/a/ckpt-000003.safetensors --steps 5 --checkpoint-every 1
        ${resume_flags})
    expect_error("cannot write ${WORK}/a/ckpt-000004.safetensors: File too large")
    expect_same_file(${WORK}/a/ckpt-000003.safetensors ${WORK}/ckpt-000003.copy)
    file(GLOB temps ${WORK}/a/*.tmp-* ${WORK}/a/ckpt-000004.safetensors)
    if(temps)
        message(FATAL_ERROR "a checkpoint write that failed left ${temps}")
    endif()
else()
    message(STATUS "no bash: the file size limit check is skipped")
endif()
# A checkpoint that cannot be put in place: the step's row is logged, no temporary file stays,
# and a resume from the last checkpoint replays that step with one row per step.
file(MAKE_DIRECTORY ${WORK}/a/ckpt-000004.safetensors)
run(1 ${TRAIN} --resume ${WORK}/a/ckpt-000003.safetensors --steps 5 --checkpoint-every 1
    ${resume_flags})
string(REGEX REPLACE "\\.tmp-[A-Za-z0-9]+ " ".tmp-XXXXXX " last_err "${last_err}")
expect_error("cannot rename ${WORK}/a/ckpt-000004.safetensors.tmp-XXXXXX to ${WORK}/a/ckpt-000004.safetensors: Is a directory")
expect_same_file(${WORK}/a/ckpt-000003.safetensors ${WORK}/ckpt-000003.copy)
file(GLOB temps ${WORK}/a/*.tmp-*)
log_steps(${WORK}/a/log.csv steps)
if(temps OR NOT steps STREQUAL "1 2 3 4 ")
    message(FATAL_ERROR "after a failed checkpoint: temporary files '${temps}', log steps ${steps}")
endif()
file(REMOVE_RECURSE ${WORK}/a/ckpt-000004.safetensors)
run(0 ${TRAIN} --resume ${WORK}/a/ckpt-000003.safetensors --steps 5 --checkpoint-every 1
    ${resume_flags})
log_steps(${WORK}/a/log.csv steps)
if(NOT steps STREQUAL "1 2 3 4 5 ")
    message(FATAL_ERROR "the resumed log has steps ${steps}, not 1 2 3 4 5")
endif()

# A read-only folder: a checkpoint cannot be created there, and a new run cannot open its log.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(as_user "")
set(read_only TRUE)
if(uid STREQUAL "0")
    find_program(SETPRIV setpriv)
    if(SETPRIV)
        set(as_user ${SETPRIV} --reuid=65534 --regid=65534 --clear-groups)
        execute_process(COMMAND ${as_user} ${TRAIN} --help RESULT_VARIABLE rc OUTPUT_QUIET
                        ERROR_QUIET)
    endif()
    if(NOT SETPRIV OR NOT rc EQUAL 0)
        message(STATUS "running as root without a way to run train as another user (setpriv): "
                       "the read-only folder checks are skipped")
        set(read_only FALSE)
    endif()
endif()
if(read_only)
    run(0 ${TRAIN} ${tiny} --steps 2 --checkpoint-every 1 --out ${WORK}/ro)
    file(COPY_FILE ${WORK}/ro/ckpt-000002.safetensors ${WORK}/ro-ckpt-000002.copy)
    file(MAKE_DIRECTORY ${WORK}/ro-new)
    # The log stays writable (by nobody, too): the checkpoint is what fails.
    file(CHMOD ${WORK}/ro/log.csv PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ GROUP_WRITE
         WORLD_READ WORLD_WRITE)
    foreach(dir ro ro-new)
        file(CHMOD ${WORK}/${dir} PERMISSIONS OWNER_READ OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
             WORLD_READ WORLD_EXECUTE)
    endforeach()
    run(1 ${as_user} ${TRAIN} --resume ${WORK}/ro/ckpt-000002.safetensors --steps 3
        ${resume_flags})
    expect_error("cannot create a temporary file for ${WORK}/ro/ckpt-000003.safetensors: Permission denied")
    expect_same_file(${WORK}/ro/ckpt-000002.safetensors ${WORK}/ro-ckpt-000002.copy)
    run(1 ${as_user} ${TRAIN} ${tiny} --steps 2 --out ${WORK}/ro-new)
    expect_error("${WORK}/ro-new/log.csv: cannot open the training log: Permission denied")
    foreach(dir ro ro-new)
        file(CHMOD ${WORK}/${dir} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
    endforeach()
endif()

# 4. Leftovers of a killed run.
set(a ${WORK}/a)
foreach(name ckpt-000006.safetensors.tmp-Ab12Cd synthetic-train.bin.tmp-xyZ789
             notes.txt.tmp-Ab12Cd ckpt-000006.safetensors.tmp-Ab1 ckpt-000006.safetensors.part)
    file(WRITE ${a}/${name} "")
endforeach()
file(MAKE_DIRECTORY ${a}/ckpt-000007.safetensors.tmp-Folder)
run(0 ${TRAIN} --resume ${a}/ckpt-000005.safetensors --steps 6 ${resume_flags})
string(FIND "${last_out}" "removed 2 temporary files left by a stopped run in ${a}\n" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "unexpected output:\n${last_out}")
endif()
file(GLOB left RELATIVE ${a} ${a}/*.tmp-* ${a}/*.part)
list(SORT left)
if(NOT left STREQUAL "ckpt-000006.safetensors.part;ckpt-000006.safetensors.tmp-Ab1;ckpt-000007.safetensors.tmp-Folder;notes.txt.tmp-Ab12Cd")
    message(FATAL_ERROR "after the leftovers' removal: ${left}")
endif()

# 5. A JSONL log.
run(0 ${TRAIN} ${tiny} --steps 4 --checkpoint-every 2 --out ${WORK}/j --log ${WORK}/j/log.jsonl)
file(APPEND ${WORK}/j/log.jsonl "{\"step\":5,\"lo")
run(0 ${TRAIN} --resume ${WORK}/j/ckpt-000002.safetensors --steps 3 ${resume_flags})
file(STRINGS ${WORK}/j/log.jsonl lines)
set(steps "")
foreach(line IN LISTS lines)
    string(REGEX MATCH "^{\"step\":([0-9]+)," row "${line}")
    string(APPEND steps "${CMAKE_MATCH_1} ")
endforeach()
if(NOT steps STREQUAL "1 2 3 ")
    message(FATAL_ERROR "the resumed JSONL log has steps ${steps}, not 1 2 3")
endif()
