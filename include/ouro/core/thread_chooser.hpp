// Choosing between the whole team of threads and one thread for work repeated many times (a
// decoding step, a training step), by measuring both.
//
// Why: a team waits at every OpenMP barrier for its slowest thread. When another program keeps a
// core busy, one of ours is often descheduled, and each barrier then costs a scheduler time slice:
// decoding with 2 threads on a 2-core machine with one core busy ran 10x slower than with one.
// Since every ouro kernel gives bit-identical results for any thread count, the choice changes
// how fast a run is, never what it computes.
//
// How: runs start with one thread; every so often one run tries the other count (a probe), and the
// faster per unit of work (a token, a step) is kept. Probes are spaced so that a losing probe costs
// at most about 3% of the time spent (a probe 10x slower waits ~300 runs for the next), and the
// gap doubles while the choice holds. Only runs of the same size (units) are compared.
//
// One chooser may serve many objects doing the same kind of work (every InferenceSession of a
// process shares one, so a short session starts from what earlier ones measured); next() and
// record() may be called from several threads.
//
// A thread count set explicitly (set_num_threads, ThreadCountGuard, OMP_NUM_THREADS) is obeyed:
// the chooser then always answers that count.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace ouro {

class ThreadChooser {
public:
    /// Chooses between `team` threads (default: num_threads() now) and one.
    explicit ThreadChooser(int team = 0);

    /// The thread count for the coming run.
    int next() const;
    /// Reports the coming run: it took `seconds` for `units` units of work (units >= 1).
    void record(double seconds, std::int64_t units);

    /// The team size weighed against one thread.
    int team() const { return team_; }
    /// How many runs were probes so far (for tests and benchmarks).
    std::int64_t probes() const { return probes_; }

private:
    bool probing() const { return run_ == next_probe_; }

    std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
    int team_;
    bool team_chosen_ = false; // the current choice (one thread at first)
    std::int64_t run_ = 0;     // runs recorded so far
    std::int64_t next_probe_ = 2;
    std::int64_t gap_ = 2;
    std::int64_t probes_ = 0;
    double last_time_ = 0.0; // per unit, of the last run of the current choice
    std::int64_t last_units_ = 0;
};

/// Runs its scope with the chooser's thread count and reports how long the scope took.
class ChosenThreads {
public:
    ChosenThreads(ThreadChooser& chooser, std::int64_t units);
    ~ChosenThreads();
    /// The thread count in use.
    int threads() const { return threads_; }
    ChosenThreads(const ChosenThreads&) = delete;
    ChosenThreads& operator=(const ChosenThreads&) = delete;

private:
    ThreadChooser& chooser_;
    std::int64_t units_;
    int threads_;
    int previous_;
    std::chrono::steady_clock::time_point start_;
};

} // namespace ouro
