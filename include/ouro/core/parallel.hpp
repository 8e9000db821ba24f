// OpenMP helpers. ouro parallelises only over independent rows (or independent fixed-size blocks),
// and never lets the order of a floating-point reduction depend on the thread count, so every
// result is bit-identical whatever OMP_NUM_THREADS or set_num_threads says.
#pragma once

#include <cstdint>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace ouro {

/// Threads that the next parallel region will use.
int num_threads();
/// Sets the number of threads for later parallel regions (n >= 1; throws ConfigError otherwise).
/// A count set here (or by OMP_NUM_THREADS) is explicit: ThreadChooser (thread_chooser.hpp) then
/// always uses it instead of measuring whether one thread would be faster.
void set_num_threads(int n);

namespace detail {
/// Whether the thread count was set explicitly (set_num_threads or OMP_NUM_THREADS).
bool thread_count_explicit();
/// Sets the count and whether it counts as explicit (for ThreadCountGuard's restore).
void restore_num_threads(int n, bool is_explicit);
} // namespace detail

/// Sets the thread count (explicitly) for its lifetime and restores the previous one after.
class ThreadCountGuard {
public:
    explicit ThreadCountGuard(int n)
        : previous_(num_threads()), was_explicit_(detail::thread_count_explicit()) {
        set_num_threads(n);
    }
    ~ThreadCountGuard() { detail::restore_num_threads(previous_, was_explicit_); }
    ThreadCountGuard(const ThreadCountGuard&) = delete;
    ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

private:
    int previous_;
    bool was_explicit_;
};

/// Carries the first exception thrown inside an OpenMP parallel region out of it (an exception
/// must not cross the region's boundary): call capture() from a catch (...) inside the region and
/// rethrow() after it.
class ParallelErrors {
public:
    void capture() noexcept {
        const std::lock_guard lock(mutex_);
        if (!error_)
            error_ = std::current_exception();
    }
    void rethrow() const {
        if (error_)
            std::rethrow_exception(error_);
    }
    /// Whether an exception was captured (so that the other threads can stop taking work).
    bool failed() {
        const std::lock_guard lock(mutex_);
        return error_ != nullptr;
    }

private:
    std::mutex mutex_;
    std::exception_ptr error_;
};

namespace detail {
/// Fixed chunk length for reductions: partial sums are taken over chunks of this many elements
/// (a constant, never derived from the thread count) and then added in chunk order.
inline constexpr std::int64_t reduction_chunk = 4096;

/// Below this many elements of work a kernel runs on the calling thread: starting a parallel
/// region costs more than it saves, and where another program keeps a core busy a team can wait a
/// scheduler time slice (milliseconds) at its closing barrier for a descheduled thread. Results do
/// not depend on it.
inline constexpr std::int64_t parallel_threshold = 8192;
/// The same for products and attention, in multiply-adds: below it one thread finishes in a few
/// microseconds, about what starting and closing a team takes.
inline constexpr std::int64_t parallel_madds_threshold = std::int64_t(1) << 16;

/// Elements below which a fill or copy stays on the calling thread: under 1 MiB of floats a team
/// saves a few microseconds, and on a machine with a busy core it can wait milliseconds for a
/// descheduled thread (loading a model made 26 such fills).
inline constexpr std::int64_t parallel_fill_threshold = std::int64_t(1) << 18;
/// Sets data[0, n) to value; over all threads when n reaches parallel_fill_threshold. Instantiated
/// for float, double and std::int32_t.
template <typename T> void parallel_fill(T* data, std::int64_t n, T value);
/// Sets every element of each (data, n) range to value, in one parallel region over fixed blocks
/// of all of them (zeroing many gradients pays one barrier, not one per tensor).
template <typename T>
void parallel_fill_ranges(const std::vector<std::pair<T*, std::int64_t>>& ranges, T value);
/// dst[i] = src[i] for i < n, as parallel_fill; the ranges must not overlap.
template <typename T> void parallel_copy(const T* src, std::int64_t n, T* dst);
} // namespace detail

} // namespace ouro
