// The parallel loops that the pointwise kernels share. Internal to the library: not installed.
// The numerics they run on (exp, tanh, fixed-order sums, softmax rows) are lib/numerics.
//
// parallel_blocks splits a buffer into fixed blocks (never into one piece per thread), so that
// results cannot depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ouro/core/parallel.hpp"

namespace ouro::detail {

/// Elements per parallel block in elementwise kernels: a multiple of 16, fixed, so the split of
/// work never depends on the thread count.
inline constexpr std::int64_t elementwise_block = 8192;

/// dst = v (Add false: a forward copy) or dst += v (Add true: a backward adding into a gradient),
/// so that one copy loop serves both.
template <bool Add, typename T> inline void put(T& dst, T v) {
    if constexpr (Add)
        dst += v;
    else
        dst = v;
}

/// Calls f(begin, length) for consecutive blocks of elementwise_block elements covering [0, n),
/// the blocks shared among threads. A single block runs on the calling thread.
template <typename F> void parallel_blocks(std::int64_t n, F f) {
    const std::int64_t blocks = (n + elementwise_block - 1) / elementwise_block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t begin = b * elementwise_block;
        f(begin, std::min(elementwise_block, n - begin));
    }
}

} // namespace ouro::detail
