// The chooser's probing schedule; see thread_chooser.hpp.
#include "ouro/core/thread_chooser.hpp"

#include "ouro/core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace ouro {
namespace {

constexpr std::int64_t first_gap = 2;
constexpr std::int64_t max_gap = 4096;
// A probe must be this much faster per unit to change the choice (noise is smaller than this).
constexpr double switch_ratio = 0.9;
// The share of the time that losing probes may cost: after a probe that took r times as long as
// the current choice, the next waits (r - 1) / probe_budget runs.
constexpr double probe_budget = 0.03;

} // namespace

ThreadChooser::ThreadChooser(int team) : team_(team > 0 ? team : num_threads()) {}

int ThreadChooser::next() const {
    if (detail::thread_count_explicit())
        return num_threads();
    if (team_ <= 1)
        return team_;
    const std::lock_guard lock(*mutex_);
    return team_chosen_ != probing() ? team_ : 1;
}

void ThreadChooser::record(double seconds, std::int64_t units) {
    if (team_ <= 1 || detail::thread_count_explicit() || units < 1)
        return;
    const std::lock_guard lock(*mutex_);
    const double t = seconds / double(units);
    if (!probing()) {
        last_time_ = t;
        last_units_ = units;
        ++run_;
        return;
    }
    if (last_units_ != units || last_time_ <= 0.0) {
        // Not comparable with the last run: probe again at the next one.
        ++run_;
        next_probe_ = run_;
        return;
    }
    ++probes_;
    ++run_;
    const double ratio = t / last_time_;
    if (ratio < switch_ratio) {
        team_chosen_ = !team_chosen_;
        last_time_ = t;
        gap_ = first_gap; // confirm the new choice soon
    } else {
        const double wait = (ratio - 1.0) / probe_budget;
        gap_ = std::min(max_gap, std::max(2 * gap_, std::int64_t(std::ceil(wait))));
    }
    next_probe_ = run_ + gap_;
}

ChosenThreads::ChosenThreads(ThreadChooser& chooser, std::int64_t units)
    : chooser_(chooser), units_(units), threads_(chooser.next()), previous_(omp_get_max_threads()),
      start_(std::chrono::steady_clock::now()) {
    // omp_set_num_threads, not set_num_threads: the choice is not a user's explicit count.
    omp_set_num_threads(threads_);
}

ChosenThreads::~ChosenThreads() {
    omp_set_num_threads(previous_);
    chooser_.record(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(), units_);
}

} // namespace ouro
