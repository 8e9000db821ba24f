// AdamW update, in PyTorch's order of operations (torch/optim/adamw.py, single-tensor path).
#include "ouro/optim/adamw.hpp"

#include <cmath>

namespace ouro::optim {

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
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Var<T>& p = params_[i].second;
        if (!p.has_grad())
            continue;
        T* w = p.value().data();
        const T* g = p.grad().data();
        T* m = m_[i].data();
        T* v = v_[i].data();
        const T decay = T(1.0 - lr * (decay_[i] ? config_.weight_decay : 0.0));
        const std::int64_t n = p.numel();
        // Elementwise: each element's update is independent, so any split is deterministic.
#pragma omp parallel for schedule(static)
        for (std::int64_t j = 0; j < n; ++j) {
            w[j] *= decay;
            m[j] = m[j] * tb1 + g[j] * one_minus_b1;
            v[j] = v[j] * tb2 + g[j] * g[j] * one_minus_b2;
            const T denom = std::sqrt(v[j]) / bc2 + eps;
            w[j] -= step_size * (m[j] / denom);
        }
    }
}

template <typename T> void AdamW<T>::zero_grad() {
    for (auto& [name, p] : params_)
        p.zero_grad();
}

template class AdamW<float>;
template class AdamW<double>;

} // namespace ouro::optim
