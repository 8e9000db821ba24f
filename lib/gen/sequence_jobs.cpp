// Jobs over the threads (see sequence_jobs.hpp).
#include "sequence_jobs.hpp"

#include "ouro/core/parallel.hpp"

#include <omp.h>

#include <algorithm>

namespace ouro::gen::detail {

int job_threads(std::int64_t jobs) {
    if (omp_in_parallel() || jobs <= 1)
        return 1;
    return int(std::min<std::int64_t>(num_threads(), jobs));
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
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (std::int64_t j = 0; j < jobs; ++j) {
        if (errors.failed())
            continue;
        try {
            run(j, omp_get_thread_num());
        } catch (...) {
            errors.capture();
        }
    }
    errors.rethrow();
}

} // namespace ouro::gen::detail
