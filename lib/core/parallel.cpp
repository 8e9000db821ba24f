// OpenMP thread-count helpers.
#include "ouro/core/parallel.hpp"

#include "ouro/core/error.hpp"

#include <omp.h>

#include <string>

namespace ouro {

int num_threads() {
    return omp_get_max_threads();
}

void set_num_threads(int n) {
    if (n < 1)
        throw ConfigError("set_num_threads: thread count must be at least 1, got " +
                          std::to_string(n));
    omp_set_num_threads(n);
}

} // namespace ouro
