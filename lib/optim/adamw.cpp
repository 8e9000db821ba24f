// AdamW update, in PyTorch's order of operations (torch/optim/adamw.py, single-tensor path).
#include "ouro/optim/adamw.hpp"

#include "param_blocks.hpp"

#include <cmath>
#include <utility>
#include <vector>

namespace ouro::optim {
namespace {
// Elements per block of the update: 16 KiB of each of w, g, m, v in float. Small enough that 16
// threads' shares of a small model come out even (with 16 Ki-element blocks some threads of XS
// got twice the elements of others); any block size gives the same bits.
constexpr std::int64_t block = 4096;
} // namespace

bool default_decay_rule(const std::string& name, const Shape& shape) {
    if (shape.rank() < 2)
        return false;
    return name.find("wte") == std::string::npos && name.find("wpe") == std::string::npos;
}

template <typename T>
AdamW<T>::AdamW(std::vector<std::pair<std::string, Var<T>>> named_parameters,
                const AdamWConfig& config, DecayRule decay_rule)
    : params_(std::move(named_parameters)), config_(config) {
    auto in_unit = [](double x) { return x >= 0.0 && x < 1.0; };
    if (!in_unit(config.beta1) || !in_unit(config.beta2))
        throw ConfigError("AdamW: betas must be in [0, 1), got (" + std::to_string(config.beta1) +
                          ", " + std::to_string(config.beta2) + ")");
    if (!(config.eps > 0.0))
        throw ConfigError("AdamW: eps must be positive, got " + std::to_string(config.eps));
    if (!(config.weight_decay >= 0.0))
        throw ConfigError("AdamW: weight_decay must be >= 0, got " +
                          std::to_string(config.weight_decay));
    for (auto& [name, p] : params_) {
        m_.emplace_back(p.shape());
        v_.emplace_back(p.shape());
        decay_.push_back(decay_rule(name, p.shape()));
    }
}

template <typename T> void AdamW<T>::step(double lr) {
    ++steps_;
    const double b1 = config_.beta1, b2 = config_.beta2;
    const double bias_correction1 = 1.0 - std::pow(b1, double(steps_));
    const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(b2, double(steps_)));
    const T step_size = T(lr / bias_correction1);
    const T bc2 = T(bias_correction2_sqrt), eps = T(config_.eps);
    const T one_minus_b1 = T(1.0 - b1), one_minus_b2 = T(1.0 - b2), tb1 = T(b1), tb2 = T(b2);
    // One parallel region over fixed blocks of all parameters: every element's update is
    // independent, so any split is deterministic.
    const std::size_t P = params_.size();
    std::vector<std::int64_t> sizes(P);
    std::vector<bool> skip(P);
    std::vector<T*> w(P), m(P), v(P);
    std::vector<const T*> g(P);
    std::vector<T> decay(P);
    for (std::size_t i = 0; i < P; ++i) {
        Var<T>& p = params_[i].second;
        sizes[i] = p.numel();
        skip[i] = !p.has_grad();
        if (skip[i])
            continue;
        w[i] = p.value().data();
        g[i] = p.grad().data();
        m[i] = m_[i].data();
        v[i] = v_[i].data();
        decay[i] = T(1.0 - lr * (decay_[i] ? config_.weight_decay : 0.0));
    }
    const std::vector<detail::ParamBlock> blocks = detail::param_blocks(sizes, skip, block);
    detail::for_blocks_by_elements(blocks, [&](std::int64_t b) {
        const detail::ParamBlock& blk = blocks[std::size_t(b)];
        T* const wi = w[blk.param];
        T* const mi = m[blk.param];
        T* const vi = v[blk.param];
        const T* const gi = g[blk.param];
        const T d = decay[blk.param];
        for (std::int64_t j = blk.begin; j < blk.end; ++j) {
            wi[j] *= d;
            mi[j] = mi[j] * tb1 + gi[j] * one_minus_b1;
            vi[j] = vi[j] * tb2 + gi[j] * gi[j] * one_minus_b2;
            const T denom = std::sqrt(vi[j]) / bc2 + eps;
            wi[j] -= step_size * (mi[j] / denom);
        }
    });
}

template <typename T> void AdamW<T>::zero_grad() {
    std::vector<std::pair<T*, std::int64_t>> grads;
    for (auto& [name, p] : params_)
        if (p.has_grad())
            grads.emplace_back(p.grad().data(), p.numel());
    ouro::detail::parallel_fill_ranges(grads, T(0));
}

template class AdamW<float>;
template class AdamW<double>;

} // namespace ouro::optim
