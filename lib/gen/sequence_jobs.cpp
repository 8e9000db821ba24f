// Jobs over the threads (see sequence_jobs.hpp), and run_concurrently (concurrent.hpp), whose
// team the jobs join.
#include "sequence_jobs.hpp"

#include "ouro/core/parallel.hpp"
#include "ouro/gen/concurrent.hpp"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <utility>

namespace ouro::gen::detail {
namespace {

// Set on every thread of a run_concurrently team for the team's lifetime, cleared inside a job:
// a thread only ever runs tied tasks of its own team while the flag is set.
thread_local bool shared_team = false;

// Sets the flag for a scope and restores it after.
class SharedTeamScope {
public:
    explicit SharedTeamScope(bool value) : previous_(shared_team) { shared_team = value; }
    ~SharedTeamScope() { shared_team = previous_; }
    SharedTeamScope(const SharedTeamScope&) = delete;
    SharedTeamScope& operator=(const SharedTeamScope&) = delete;

private:
    bool previous_;
};

// Tasks of the current team: run(i) for i in [0, n). A task that starts after another has failed
// does nothing; errors[i] holds task i's exception.
class Tasks {
public:
    Tasks(std::int64_t n, std::function<void(std::int64_t)> run)
        : run_(std::move(run)), errors_(static_cast<std::size_t>(n)) {}

    // Creates the tasks; the caller waits for them (taskwait, or a barrier, where the waiting
    // threads also take other tasks of the team), then calls rethrow().
    void spawn() {
        for (std::int64_t i = 0; i < std::int64_t(errors_.size()); ++i) {
            Tasks* self = this;
#pragma omp task firstprivate(i, self) default(none)
            self->run_one(i);
        }
    }
    void rethrow() const {
        for (const std::exception_ptr& e : errors_)
            if (e)
                std::rethrow_exception(e);
    }

private:
    void run_one(std::int64_t i) {
        {
            const std::lock_guard lock(mutex_);
            if (failed_)
                return;
        }
        try {
            run_(i);
        } catch (...) {
            errors_[std::size_t(i)] = std::current_exception();
            const std::lock_guard lock(mutex_);
            failed_ = true;
        }
    }

    std::function<void(std::int64_t)> run_;
    std::vector<std::exception_ptr> errors_;
    std::mutex mutex_;
    bool failed_ = false;
};

} // namespace

bool in_shared_team() {
    return shared_team;
}

int job_threads(std::int64_t jobs) {
    if (jobs <= 1)
        return 1;
    if (shared_team)
        return int(std::min<std::int64_t>(omp_get_num_threads(), jobs));
    if (omp_in_parallel())
        return 1;
    return int(std::min<std::int64_t>(num_threads(), jobs));
}

int cut_threads(int threads) {
    return shared_team ? (threads + 1) / 2 : threads;
}

int thread_slots(int threads) {
    return shared_team ? std::max(threads, omp_get_num_threads()) : threads;
}

std::int64_t group_count(std::int64_t items, int threads, std::int64_t most, std::int64_t rows) {
    const std::int64_t fewest = (items + most - 1) / most;
    if (threads <= 1)
        return fewest;
    const std::int64_t per_thread = items / (2 * std::int64_t(threads)) >= rows ? 2 : 1;
    return std::max(fewest, std::min<std::int64_t>(items, per_thread * threads));
}

std::vector<std::int64_t> group_bounds(std::int64_t items, std::int64_t groups) {
    std::vector<std::int64_t> bounds(std::size_t(groups) + 1, 0);
    for (std::int64_t g = 0; g < groups; ++g)
        bounds[std::size_t(g) + 1] =
            bounds[std::size_t(g)] + items / groups + (g < items % groups ? 1 : 0);
    return bounds;
}

void run_jobs(std::int64_t jobs, int threads,
              const std::function<void(std::int64_t job, int thread)>& run) {
    if (shared_team && threads > 1) {
        Tasks tasks(jobs, [&](std::int64_t j) {
            const SharedTeamScope in_job(false);
            run(j, omp_get_thread_num());
        });
        tasks.spawn();
#pragma omp taskwait
        tasks.rethrow();
        return;
    }
    const SharedTeamScope in_job(false);
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (std::int64_t j = 0; j < jobs; ++j) {
        if (errors.failed())
            continue;
        try {
            const SharedTeamScope in_this_job(false);
            run(j, omp_get_thread_num());
        } catch (...) {
            errors.capture();
        }
    }
    errors.rethrow();
}

} // namespace ouro::gen::detail

namespace ouro::gen {

void run_concurrently(std::span<const std::function<void()>> pieces) {
    const std::int64_t n = std::int64_t(pieces.size());
    detail::Tasks tasks(n, [&](std::int64_t i) { pieces[std::size_t(i)](); });
    if (detail::shared_team) { // a piece's own pieces join its team
        tasks.spawn();
#pragma omp taskwait
        tasks.rethrow();
        return;
    }
    // All the threads, not one per piece: the pieces' decodes and teacher forcing make their
    // groups tasks of the team, so 3 pieces (the demo without held-out text) fill 16 threads.
    const int threads = n <= 1 || omp_in_parallel() ? 1 : num_threads();
    if (threads <= 1) {
        for (const std::function<void()>& piece : pieces)
            piece();
        return;
    }
    // The pieces are waited for at the single's barrier, where every thread takes any task of the
    // team (a thread in a taskwait takes only the tasks it created).
#pragma omp parallel num_threads(threads)
    {
        const detail::SharedTeamScope team(true);
#pragma omp single
        tasks.spawn();
    }
    tasks.rethrow();
}

void run_concurrently(std::initializer_list<std::function<void()>> pieces) {
    run_concurrently(std::span<const std::function<void()>>(pieces.begin(), pieces.size()));
}

} // namespace ouro::gen
