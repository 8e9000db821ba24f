// Independent jobs (groups of sequences to decode, groups of texts to teacher-force) spread over
// the threads, each job run by one thread in a session of its own. Internal to the library
// (decode.cpp, teacher_force.cpp, concurrent.cpp).
//
// Why this level: a decoding step of a small model is too little work to share among threads
// without waiting at barriers, while sequences are independent for their whole length. A slot's
// results do not depend on the other slots of its session (session.hpp), so however the
// sequences are grouped, each one gets the same numbers, bit for bit.
//
// Two ways to run the jobs: a parallel loop of their own (dynamically scheduled), or, inside a
// piece of run_concurrently (concurrent.hpp), as tasks of its team beside the other pieces' work.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace ouro::gen::detail {

/// Whether this thread runs a piece of run_concurrently (outside any job): jobs then become tasks
/// of its team.
bool in_shared_team();

/// Threads for `jobs` independent jobs: num_threads() (an explicit count included), or inside a
/// piece of run_concurrently its team's size; at most `jobs`; 1 inside any other active parallel
/// region (no nested teams).
int job_threads(std::int64_t jobs);

/// The threads to cut a call's work for when job_threads() gave `threads`: all of them, or half
/// (rounded up) in a shared team, where other pieces' work fills the rest and larger groups cost
/// less per row.
int cut_threads(int threads);

/// Session slots for the jobs of a call with `threads` threads: one per thread number a job may
/// get (in a shared team, any of the team's).
int thread_slots(int threads);

/// How many groups to cut `items` items into for `threads` threads, with at most `most` items a
/// group: as few as `most` allows for one thread; else twice the threads when every group still
/// gets `rows` items (a thread that the system deschedules then holds up a small share of the
/// work), one group per thread when it would not (a pass over fewer rows reads the weights for
/// less work: 8 sequences in groups of 2 cost 30% more CPU than in one batch, in groups of 4
/// 8%), at most one group per item.
std::int64_t group_count(std::int64_t items, int threads, std::int64_t most, std::int64_t rows);

/// The bounds of `groups` consecutive groups of `items` items, as equal as possible (the first
/// groups one longer): group g is [bounds[g], bounds[g + 1]).
std::vector<std::int64_t> group_bounds(std::int64_t items, std::int64_t groups);

/// Runs run(job, thread) for every job in [0, jobs) on `threads` threads (thread in [0,
/// thread_slots(threads))), dynamically scheduled so that a descheduled thread takes fewer jobs;
/// in a shared team as its tasks, waiting for them. Inside a job every session pass and
/// ThreadChooser scope runs on one thread (ChosenThreads), and run_jobs and run_concurrently
/// run serially. After a job throws no other job starts, and the first exception is rethrown
/// once all threads are done.
void run_jobs(std::int64_t jobs, int threads,
              const std::function<void(std::int64_t job, int thread)>& run);

} // namespace ouro::gen::detail
