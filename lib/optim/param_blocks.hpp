// Fixed-size blocks over a list of parameters, so that an optimizer pass over all of them (AdamW,
// gradient clipping) is one parallel region in which every thread gets a share, instead of one
// region per parameter that leaves small parameters on one thread and pays a barrier for each.
// The blocks depend only on the parameters' sizes, never on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <omp.h>

#include "ouro/core/parallel.hpp"

namespace ouro::optim::detail {

/// Elements [begin, end) of parameter `param`.
struct ParamBlock {
    std::size_t param = 0;
    std::int64_t begin = 0, end = 0;
};

/// Blocks of `block` elements (the last one of each parameter shorter) over parameters of the
/// given sizes, in parameter order; parameters where `skip` is true get none.
inline std::vector<ParamBlock> param_blocks(const std::vector<std::int64_t>& sizes,
                                            const std::vector<bool>& skip, std::int64_t block) {
    std::vector<ParamBlock> blocks;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (skip[i])
            continue;
        for (std::int64_t b = 0; b < sizes[i]; b += block)
            blocks.push_back({i, b, std::min(sizes[i], b + block)});
    }
    return blocks;
}

/// Whether a pass over the blocks is worth a team of threads (enough elements in all; tiny models
/// and tests update on the calling thread).
inline bool worth_a_team(const std::vector<ParamBlock>& blocks) {
    std::int64_t elements = 0;
    for (const ParamBlock& b : blocks)
        elements += b.end - b.begin;
    return blocks.size() > 1 && elements >= ouro::detail::parallel_threshold;
}

/// body(b) for every block index b, over the team when worth_a_team: each thread takes the
/// consecutive blocks that start in its equal share of all the elements. (An equal count of blocks
/// is not an equal share: the biases' and norms' blocks hold a few hundred elements, the weights'
/// thousands; at 16 threads AdamW of XS kept 6 threads busy.) Each block is processed whole by
/// one thread, so the results do not depend on the split.
template <typename Body>
void for_blocks_by_elements(const std::vector<ParamBlock>& blocks, const Body& body) {
    const std::int64_t n = std::int64_t(blocks.size());
    std::vector<std::int64_t> starts(blocks.size() + 1, 0); // elements before each block
    for (std::size_t b = 0; b < blocks.size(); ++b)
        starts[b + 1] = starts[b] + (blocks[b].end - blocks[b].begin);
    const std::int64_t total = starts.back();
#pragma omp parallel if (worth_a_team(blocks))
    {
        const std::int64_t team = omp_get_num_threads(), t = omp_get_thread_num();
        // Blocks whose first element lies in [total * t / team, total * (t + 1) / team).
        const auto first_at = [&](std::int64_t element) {
            return std::lower_bound(starts.begin(), starts.begin() + n, element) - starts.begin();
        };
        const std::int64_t first = first_at(total * t / team);
        const std::int64_t last = t + 1 == team ? n : first_at(total * (t + 1) / team);
        for (std::int64_t b = first; b < last; ++b)
            body(b);
    }
}

} // namespace ouro::optim::detail
