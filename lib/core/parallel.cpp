// OpenMP thread-count helpers.
#include "ouro/core/parallel.hpp"

#include "ouro/core/error.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
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

// Fills and copies are memory-bound: on one thread a step's zeroing of fresh buffers was a
// serial phase (issue 11). Blocks of whole cache lines, so threads never share a line.
namespace {
constexpr std::int64_t copy_block = std::int64_t(1) << 14;

// f(offset, length) for each block of [0, n): on the calling thread under the threshold, else
// over the team in fixed blocks.
template <typename F> void for_each_block(std::int64_t n, const F& f) {
    if (n < parallel_fill_threshold) {
        f(std::int64_t(0), n);
        return;
    }
    const std::int64_t blocks = (n + copy_block - 1) / copy_block;
#pragma omp parallel for schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b)
        f(b * copy_block, std::min(copy_block, n - b * copy_block));
}

} // namespace

template <typename T> void parallel_fill(T* data, std::int64_t n, T value) {
    for_each_block(n,
                   [&](std::int64_t at, std::int64_t len) { std::fill_n(data + at, len, value); });
}

template <typename T>
void parallel_fill_ranges(const std::vector<std::pair<T*, std::int64_t>>& ranges, T value) {
    std::vector<std::pair<T*, std::int64_t>> blocks;
    std::int64_t total = 0;
    for (const auto& [data, n] : ranges) {
        for (std::int64_t b = 0; b < n; b += copy_block)
            blocks.emplace_back(data + b, std::min(copy_block, n - b));
        total += n;
    }
    const auto count = std::int64_t(blocks.size());
#pragma omp parallel for schedule(static) if (total >= parallel_fill_threshold)
    for (std::int64_t b = 0; b < count; ++b)
        std::fill_n(blocks[std::size_t(b)].first, blocks[std::size_t(b)].second, value);
}

template <typename T> void parallel_copy(const T* src, std::int64_t n, T* dst) {
    for_each_block(
        n, [&](std::int64_t at, std::int64_t len) { std::copy_n(src + at, len, dst + at); });
}

template void parallel_fill<float>(float*, std::int64_t, float);
template void parallel_fill<double>(double*, std::int64_t, double);
template void parallel_fill<std::int32_t>(std::int32_t*, std::int64_t, std::int32_t);
template void parallel_fill_ranges<float>(const std::vector<std::pair<float*, std::int64_t>>&,
                                          float);
template void parallel_fill_ranges<double>(const std::vector<std::pair<double*, std::int64_t>>&,
                                           double);
template void parallel_copy<float>(const float*, std::int64_t, float*);
template void parallel_copy<double>(const double*, std::int64_t, double*);
template void parallel_copy<std::int32_t>(const std::int32_t*, std::int64_t, std::int32_t*);

} // namespace detail

} // namespace ouro
