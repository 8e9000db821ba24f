// Global gradient norm and clipping. The sum of squares runs over fixed chunks, each summed in the
// library's fixed order (numerics/sum.hpp), whose partial sums are added in chunk order, so the
// norm is the same for any thread count.
#include "ouro/optim/clip.hpp"

#include "numerics/sum.hpp"
#include "param_blocks.hpp"

#include "ouro/core/parallel.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace ouro::optim {

namespace {

// Blocks of reduction_chunk elements over the parameters that have a gradient.
template <typename T>
std::vector<detail::ParamBlock> grad_blocks(const std::vector<Var<T>>& parameters) {
    std::vector<std::int64_t> sizes;
    std::vector<bool> skip;
    for (const Var<T>& p : parameters) {
        sizes.push_back(p.numel());
        skip.push_back(!p.has_grad());
    }
    return detail::param_blocks(sizes, skip, ouro::detail::reduction_chunk);
}

} // namespace

template <typename T> double grad_norm(const std::vector<Var<T>>& parameters) {
    // One parallel region over the chunks of all parameters; the partial sums are then added in
    // parameter order and chunk order, whatever the thread count.
    const std::vector<detail::ParamBlock> blocks = grad_blocks(parameters);
    std::vector<double> partial(blocks.size(), 0.0);
    detail::for_blocks_by_elements(blocks, [&](std::int64_t b) {
        const detail::ParamBlock& blk = blocks[std::size_t(b)];
        const T* g = parameters[blk.param].grad().data() + blk.begin;
        partial[std::size_t(b)] = numerics::dot_double(g, g, blk.end - blk.begin);
    });
    double total = 0.0;
    for (double s : partial)
        total += s;
    return std::sqrt(total);
}

template <typename T>
double clip_grad_norm(const std::vector<Var<T>>& parameters, double max_norm) {
    if (!(max_norm > 0.0))
        throw ConfigError("clip_grad_norm: max_norm must be positive, got " +
                          std::to_string(max_norm));
    const double norm = grad_norm(parameters);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const std::vector<detail::ParamBlock> blocks = grad_blocks(parameters);
        const T c = T(coef);
        std::vector<T*> grads;
        for (const Var<T>& p : parameters) {
            Var<T> q = p; // a handle: scaling q's gradient scales p's
            grads.push_back(q.has_grad() ? q.grad().data() : nullptr);
        }
        detail::for_blocks_by_elements(blocks, [&](std::int64_t b) {
            const detail::ParamBlock& blk = blocks[std::size_t(b)];
            T* g = grads[blk.param];
            for (std::int64_t j = blk.begin; j < blk.end; ++j)
                g[j] *= c;
        });
    }
    return norm;
}

template double grad_norm<float>(const std::vector<Var<float>>&);
template double grad_norm<double>(const std::vector<Var<double>>&);
template double clip_grad_norm<float>(const std::vector<Var<float>>&, double);
template double clip_grad_norm<double>(const std::vector<Var<double>>&, double);

} // namespace ouro::optim
