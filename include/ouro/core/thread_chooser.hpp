// Choosing between the whole team of threads and one thread for work repeated many times (a
// decoding step, a training step), by measuring both.
//
// Why: a team waits at every OpenMP barrier for its slowest thread. When another program keeps a
// core busy, one of ours is often descheduled, and each barrier then costs a scheduler time slice:
// decoding with 2 threads on a 2-core machine with one core busy ran 10x slower than with one.
// Since every ouro kernel gives bit-identical results for any thread count, the choice changes
// how fast a run is, never what it computes.
//
// How: runs start with one thread; now and then one run tries the other count (a probe), and the
// faster per unit of work (a token, a step) is kept. A probe that loses costs time, so probes are
// spaced to spend at most about 1% on them: after a probe that cost d seconds more than the
// current choice would have, the next waits until the current choice has run for d / 0.01
// seconds (and at least twice as many runs as the last gap). The first probe of the team is free
// on a quiet machine; when the load average says the cores are busy, it waits for 10 s of work,
// since one probe of a team that waits at every barrier for a descheduled thread can cost 0.1 s.
// Only runs of the same size (units) are compared.
//
// One chooser may serve many objects doing the same kind of work (every InferenceSession of a
// process shares one, so a short session starts from what earlier ones measured); next() and
// record() may be called from several threads.
//
// A thread count set explicitly (set_num_threads, ThreadCountGuard, OMP_NUM_THREADS) is obeyed:
// the chooser then always answers that count.
//
// Inside another parallel region (e.g. sequences decoded in parallel, each by one thread), a
// ChosenThreads scope runs on one thread, asks the chooser nothing and records nothing: no nested
// team, and no probe timed while the other threads compete for the cores.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace ouro {

class ThreadChooser {
public:
    /// Chooses between `team` threads (default: num_threads() now) and one. `first_probe_cost`:
    /// what the first probe of the team is expected to cost, in seconds (negative: 0.1 when the
    /// load average says the cores are busy, else 0).
    explicit ThreadChooser(int team = 0, double first_probe_cost = -1.0);

    /// The thread count for the coming run.
    int next() const;
    /// Reports the coming run: it took `seconds` for `units` units of work (units >= 1).
    void record(double seconds, std::int64_t units);

    /// The team size weighed against one thread.
    int team() const { return team_; }
    /// Whether runs are measured to choose (a team of more than one thread and no explicit
    /// thread count); otherwise next() always answers the same count.
    bool choosing() const;
    /// How many runs were probes so far (for tests and benchmarks).
    std::int64_t probes() const { return probes_; }

private:
    std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
    int team_;
    bool team_chosen_ = false; // the current choice (one thread at first)
    bool probe_next_ = false;  // the coming run is a probe of the other count
    std::int64_t runs_since_probe_ = 0, gap_ = 1, probes_ = 0;
    double spent_ = 0.0;      // seconds run by the current choice since the last probe
    double probe_cost_ = 0.0; // what the next probe is expected to cost more, in seconds
    double last_time_ = 0.0;  // per unit, of the last run of the current choice
    std::int64_t last_units_ = 0;
};

/// Runs its scope with the chooser's thread count and reports how long the scope took; inside an
/// active parallel region (omp_in_parallel), with one thread and without a report.
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
    bool nested_;
    int threads_;
    int previous_;
    std::chrono::steady_clock::time_point start_;
};

} // namespace ouro
