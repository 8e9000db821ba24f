// The chooser's probing schedule; see thread_chooser.hpp.
#include "ouro/core/thread_chooser.hpp"

#include "ouro/core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace ouro {
namespace {

constexpr std::int64_t max_gap = 4096;
// A probe must be this much faster per unit to change the choice (noise is smaller than this).
constexpr double switch_ratio = 0.9;
// The share of the time that losing probes may cost: 1%, under what a user can measure, so that
// the default is not slower than one thread where the team loses (3% put a 10-step training run
// with a busy core 1-4% behind --threads 1: its one probe came at the last step).
constexpr double probe_budget = 0.01;
// The first probe's expected cost when the cores are busy (see the header).
constexpr double busy_probe_cost = 0.1;

bool cores_busy() {
    double load = 0.0;
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 && getloadavg(&load, 1) == 1 && load >= double(cores) - 0.5;
}

} // namespace

ThreadChooser::ThreadChooser(int team, double first_probe_cost)
    : team_(team > 0 ? team : num_threads()), probe_cost_(first_probe_cost >= 0.0 ? first_probe_cost
                                                          : cores_busy()          ? busy_probe_cost
                                                                                  : 0.0) {}

bool ThreadChooser::choosing() const {
    return team_ > 1 && !detail::thread_count_explicit();
}

int ThreadChooser::next() const {
    if (detail::thread_count_explicit())
        return num_threads();
    if (team_ <= 1)
        return team_;
    const std::lock_guard lock(*mutex_);
    return team_chosen_ != probe_next_ ? team_ : 1;
}

void ThreadChooser::record(double seconds, std::int64_t units) {
    if (team_ <= 1 || detail::thread_count_explicit() || units < 1)
        return;
    const std::lock_guard lock(*mutex_);
    const double t = seconds / double(units);
    if (!probe_next_) {
        last_time_ = t;
        last_units_ = units;
        spent_ += seconds;
        ++runs_since_probe_;
    } else if (last_units_ != units || last_time_ <= 0.0) {
        // Not comparable with the last run: the probe is tried again at the next one.
        probe_next_ = false;
    } else {
        ++probes_;
        const double ratio = t / last_time_;
        if (ratio < switch_ratio) {
            // The other count is faster: keep it, and confirm soon (probing back costs what
            // this run saved).
            team_chosen_ = !team_chosen_;
            probe_cost_ = (last_time_ - t) * double(units);
            last_time_ = t;
            gap_ = 1;
        } else {
            probe_cost_ = (t - last_time_) * double(units);
            gap_ = std::min(max_gap, 2 * gap_);
        }
        spent_ = 0.0;
        runs_since_probe_ = 0;
        probe_next_ = false;
        return;
    }
    probe_next_ = runs_since_probe_ > gap_ && spent_ * probe_budget >= probe_cost_;
}

ChosenThreads::ChosenThreads(ThreadChooser& chooser, std::int64_t units)
    : chooser_(chooser), units_(units), nested_(omp_in_parallel() != 0),
      threads_(nested_ ? 1 : chooser.next()), previous_(omp_get_max_threads()),
      start_(std::chrono::steady_clock::now()) {
    // omp_set_num_threads, not set_num_threads: the choice is not a user's explicit count.
    omp_set_num_threads(threads_);
}

ChosenThreads::~ChosenThreads() {
    omp_set_num_threads(previous_);
    // A run inside another parallel region says nothing about the team: it is not recorded.
    if (!nested_)
        chooser_.record(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
            units_);
}

} // namespace ouro
