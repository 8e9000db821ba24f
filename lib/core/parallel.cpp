// OpenMP thread-count helpers.
#include "ouro/core/parallel.hpp"

#include "ouro/core/error.hpp"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace ouro {
namespace {
std::atomic<bool> explicit_count{std::getenv("OMP_NUM_THREADS") != nullptr};
} // namespace

int num_threads() {
    return omp_get_max_threads();
}

void set_num_threads(int n) {
    if (n < 1)
        throw ConfigError("set_num_threads: thread count must be at least 1, got " +
                          std::to_string(n));
    omp_set_num_threads(n);
    explicit_count = true;
}

namespace detail {

bool thread_count_explicit() {
    return explicit_count;
}

void restore_num_threads(int n, bool is_explicit) {
    omp_set_num_threads(n);
    explicit_count = is_explicit;
}

} // namespace detail

} // namespace ouro
