// Fixed-size blocks over a list of parameters, so that an optimizer pass over all of them (AdamW,
// gradient clipping) is one parallel region in which every thread gets a share, instead of one
// region per parameter that leaves small parameters on one thread and pays a barrier for each.
// The blocks depend only on the parameters' sizes, never on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

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

} // namespace ouro::optim::detail
